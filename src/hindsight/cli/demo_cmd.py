"""``hindsight demo``: write the demo capture (and open it in the app)."""

from __future__ import annotations

import argparse
import sys



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write a realistic demo capture with planted behaviours")
    p.add_argument("--out", required=True, metavar="FILE", help="capture file to write (replaced if present)")
    p.add_argument("--sessions", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-open", action="store_true", help="do not open the app afterwards")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.sessions < 1:
        print("hindsight: error: --sessions must be at least 1", file=sys.stderr)
        return 2
    from hindsight.demo.generate import generate_demo

    summary = generate_demo(args.out, sessions=args.sessions, seed=args.seed)
    print(f"wrote {summary['path']}: {summary['sessions']:,} sessions, {summary['events']:,} events "
          f"in {summary['seconds']:.1f} s")
    if args.no_open:
        return 0
    from hindsight.cli import _open_gui

    return _open_gui([summary["path"]])

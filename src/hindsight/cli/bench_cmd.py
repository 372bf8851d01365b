"""``hindsight bench``: generate a large capture and print measured speeds."""

from __future__ import annotations

import argparse

from hindsight.cli.args import capture_out_path, positive_int
from hindsight.cli.output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure write, open, load, replay and heatmap speed")
    p.add_argument("--sessions", type=positive_int, default=100_000)
    p.add_argument("--capture", type=capture_out_path, default=None, metavar="FILE",
                   help="reuse (or keep) this capture instead of a temporary one")
    p.add_argument("--only", default=None, metavar="PREFIX", help="run only benchmarks whose name starts so")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from hindsight import benchmarks as bench

    def report(name: str, figures: dict) -> None:
        if not args.json:
            print(f"{name}:")
            for key, value in figures.items():
                print(f"  {key:32} {value:,}" if isinstance(value, (int, float)) else f"  {key:32} {value}")

    results = bench.run(sessions=args.sessions, path=args.capture, only=args.only, report=report)
    if args.json:
        print_json(results)
    return 0

"""``hindsight demo``: write the demo capture (and open it in the app)."""

from __future__ import annotations

from hindsight.text import plural

import argparse
from pathlib import Path

from hindsight.cli.args import capture_out_path, non_negative_int, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write a realistic demo capture with planted behaviours, then open it")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=capture_out_path, metavar="FILE", help="capture file to write")
    where.add_argument("--dataset", default=None, metavar="DIR",
                       help="write a Parquet capture dataset (folder or fsspec URL) instead, generated in "
                            "parallel: the same visitors as --out for the same seed")
    p.add_argument("--sessions", type=positive_int, default=2000, metavar="N", help="number of visitors (default 2000)")
    p.add_argument("--seed", type=non_negative_int, default=7, metavar="S", help="random seed; the same seed gives the same capture")
    p.add_argument("--replicate-from", default=None, metavar="DATASET",
                   help="with --dataset: build it fast by replicating the sessions of DATASET (a smaller "
                        "demo dataset) under new ids, on the same days (for benchmarks at 1M sessions)")
    p.add_argument("--force", action="store_true",
                   help="replace FILE even if it exists (bookmarks stored in it are lost)")
    p.add_argument("--no-open", action="store_true", help="do not open the app afterwards")
    p.set_defaults(handler=cmd_demo)


def _same_demo(path: Path, sessions: int, seed: int) -> bool:
    from hindsight.store import CaptureError, open_capture

    try:
        with open_capture(path) as cap:
            meta = cap.meta
    except CaptureError:
        return False
    return meta.get("demo_seed") == str(seed) and meta.get("demo_sessions") == str(sessions)


def cmd_demo(args: argparse.Namespace) -> int:
    from hindsight.cli import UsageError

    if args.sessions < 1:
        raise UsageError("--sessions must be at least 1")
    if args.replicate_from is not None and args.dataset is None:
        raise UsageError("--replicate-from needs --dataset DIR")
    if args.dataset is not None:
        return _demo_dataset(args)
    out = Path(args.out)
    if out.exists() and not args.force:
        if not _same_demo(out, args.sessions, args.seed):
            raise UsageError(f"{out} already exists and is not this demo; pass --force to replace it")
        # Running the README's first command again must not wipe the user's bookmarks.
        print(f"{out} already holds this demo ({plural(args.sessions, 'session')}, seed {args.seed}); "
              "opening it (--force regenerates it)")
        path = str(out)
    else:
        from hindsight.demo.generate import generate_demo

        summary = generate_demo(out, sessions=args.sessions, seed=args.seed, overwrite=True)
        print(f"wrote {summary['path']}: {plural(summary['sessions'], 'session')}, {summary['events']:,} events "
              f"in {summary['seconds']:.1f} s")
        path = summary["path"]
    if args.no_open:
        return 0
    from hindsight.cli import _open_gui

    return _open_gui([path])


def _demo_dataset(args: argparse.Namespace) -> int:
    from hindsight.cli import UsageError
    from hindsight.dataset.demo import generate_demo_dataset

    if not args.dataset.strip():
        raise UsageError("--dataset: an empty path: give a folder or URL")
    if args.replicate_from:
        from hindsight.dataset.replicate import replicate_dataset

        summary = replicate_dataset(args.dataset, args.sessions, args.replicate_from, overwrite=args.force)
        print(f"wrote {summary['path']}: {plural(summary['sessions'], 'session')}, {summary['events']:,} events "
              f"in {summary['seconds']:.1f} s: {summary['copies']} copies of {args.replicate_from} "
              f"(replicated, not simulated; {summary['workers']} worker process(es))")
        return 0
    summary = generate_demo_dataset(args.dataset, sessions=args.sessions, seed=args.seed, overwrite=args.force)
    print(f"wrote {summary['path']}: {plural(summary['sessions'], 'session')}, {summary['events']:,} events "
          f"in {summary['seconds']:.1f} s ({summary['workers']} worker process(es))")
    return 0

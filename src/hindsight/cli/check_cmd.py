"""``hindsight check CAPTURE``: SQLite's integrity check plus every check the reader makes."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check a capture for damage: SQLite integrity, columns, references, "
                                     "images, events (one line per problem)")
    p.add_argument("file", metavar="FILE", help="capture file (.sqlite), or a dataset folder or URL")
    p.add_argument("--max-problems", type=int, default=200, metavar="N", help="stop after N problems (default 200)")
    p.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    import sys

    from hindsight.engine.reader import is_dataset
    from hindsight.store.check import check_capture

    if is_dataset(args.file):   # part files, images, rows and events of every day (engine/check.py)
        from hindsight.engine.check import check_dataset

        problems = check_dataset(args.file, limit=max(1, args.max_problems))
    else:
        problems = check_capture(args.file, limit=max(1, args.max_problems))
    if not problems:
        print(f"{args.file}: no problems found")
        return 0
    for line in problems:
        print(line)
    print(f"hindsight: error: {args.file}: {len(problems)} problem{'s' if len(problems) != 1 else ''} found",
          file=sys.stderr)
    return 2

"""``hindsight upgrade OLD NEW``: convert a format-1 capture to format 2 (OLD is left as it is)."""

from __future__ import annotations

import argparse

from hindsight.cli.args import capture_out_path
from hindsight.cli.output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "upgrade", help="convert a format-1 capture to format 2 (a new file)",
        description="Write NEW: the capture OLD in the current format (2), which stores events also as "
                    "columnar chunks per page snapshot and event kind, so heatmaps read only what they "
                    "need. OLD is not changed; every table and column of OLD is kept.")
    p.add_argument("old", metavar="OLD", help="format-1 capture to read")
    p.add_argument("new", type=capture_out_path, metavar="NEW", help="capture file to write")
    p.add_argument("--overwrite", action="store_true", help="replace NEW if it exists")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from hindsight.store.upgrade import upgrade_capture

    counts = upgrade_capture(args.old, args.new, overwrite=args.overwrite)
    if args.json:
        print_json({"file": str(args.new), **counts})
    else:
        print(f"wrote {args.new}: capture format 2, {counts['events']:,} events in {counts['chunks']:,} chunks "
              f"({counts['tables']} tables copied from {args.old})")
    return 0

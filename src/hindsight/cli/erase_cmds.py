"""``hindsight delete`` (erase sessions and their bytes) and ``hindsight recover`` (finish a write
that was cut off)."""

from __future__ import annotations

import argparse
import sys

from hindsight.cli.args import date_ms, output_path, session_id, visitor_id
from hindsight.cli.output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "delete", help="erase sessions (a visitor's, or all before a date) and every trace of them",
        description="Erase sessions with their pageviews, events, bookmarks and what only they used "
                    "(pages, snapshots, messages), then VACUUM so their bytes leave the file. Prints "
                    "what will be erased; asks (or needs --yes) before erasing.")
    p.add_argument("file", metavar="CAPTURE", help="capture file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", type=session_id, action="append", metavar="ID",
                       help="a session id (repeatable)")
    which.add_argument("--visitor", type=visitor_id, action="append", metavar="V",
                       help="every session of this visitor id (repeatable)")
    which.add_argument("--before", type=date_ms, metavar="DATE",
                       help="every session that started before DATE (YYYY-MM-DD[THH:MM[:SS]], UTC)")
    p.add_argument("-y", "--yes", action="store_true", help="erase without asking")
    p.add_argument("--json", action="store_true", help="print what was erased as JSON")
    p.set_defaults(handler=cmd_delete)

    r = sub.add_parser(
        "recover", help="finish a capture whose writer stopped mid-write (roll back, keep all committed)",
        description="Roll back the unfinished transaction a killed writer left in CAPTURE-journal and "
                    "checkpoint CAPTURE-wal, keeping everything that was committed. A read-only capture "
                    "is recovered as a copy (--out).")
    r.add_argument("file", metavar="CAPTURE", help="capture file")
    r.add_argument("--out", type=output_path, default=None, metavar="COPY",
                   help="recover a copy here and leave CAPTURE as it is")
    r.set_defaults(handler=cmd_recover)


def cmd_delete(args: argparse.Namespace) -> int:
    from hindsight.cli import UsageError
    from hindsight.cli.args import confirm
    from hindsight.erase import erase, plan_erasure, select_sessions

    from pathlib import Path

    from hindsight.store.access import read_only_reason
    from hindsight.store.errors import CaptureError

    reason = read_only_reason(args.file) if Path(args.file).is_file() else None
    if reason:  # say so before listing what would be erased
        raise CaptureError(args.file, f"{reason}: sessions cannot be erased from it; make it writable first")
    ids = select_sessions(args.file, session_ids=args.session or (), visitors=args.visitor or (),
                          before_ms=args.before)
    plan = plan_erasure(args.file, ids)
    out = sys.stderr if args.json else sys.stdout   # --json: stdout holds only the JSON
    print(f"This erases from {args.file}:", file=out)
    for line in plan.lines():
        print(f"  - {line}", file=out)
    if not confirm("Erase them? This cannot be undone.", args.yes):
        raise UsageError("nothing was erased: add --yes to erase (or run it in a terminal to be asked)")
    done = erase(args.file, ids)
    if args.json:
        print_json(done.as_dict())
    else:
        n = done.sessions
        print(f"erased {n:,} session{'s' * (n != 1)} ({done.pageviews:,} pageviews, {done.events:,} events, "
              f"{sum(done.bookmarks.values()):,} bookmarks) and vacuumed {args.file}")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from hindsight.store.reader import recover_capture

    result = recover_capture(args.file, args.out)
    if not (result["journal"] or result["wal"]):
        if args.out is not None:
            print(f"copied {args.file} to {result['path']}: there was nothing to recover")
        else:
            print(f"{args.file}: nothing to recover (no unfinished write)")
        return 0
    what = []
    if result["journal"]:
        what.append("rolled back the unfinished write of a stopped writer")
    if result["wal"]:
        what.append("checkpointed the write-ahead log")
    print(f"{result['path']}: " + " and ".join(what) + "; everything committed is kept")
    return 0

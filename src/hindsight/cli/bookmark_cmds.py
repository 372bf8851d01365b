"""``hindsight bookmarks`` (list, export, import) and ``hindsight bookmark`` (add, similar,
delete, hypothesis): bookmarks of moments, patterns and their hypotheses from the shell."""

from __future__ import annotations

import argparse
from pathlib import Path

from hindsight.cli.args import int_range, non_negative_float, non_negative_int, output_path, record_id, session_id
from hindsight.text import plural
from hindsight.cli.output import print_json, print_table

_BOOKMARKS_USAGE = ("hindsight bookmarks FILE [--json]\n"
                    "       hindsight bookmarks export FILE --format md|csv -o OUT\n"
                    "       hindsight bookmarks import FILE -i IN.csv")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bookmarks", help="list a capture's patterns and bookmarks; export or import them",
        usage=_BOOKMARKS_USAGE,
        description="List patterns (tags used across sessions, highest ICE first) with their bookmarks, "
                    "export them as a Markdown report or CSV, or import such a CSV.")
    p.add_argument("action", metavar="FILE | export | import",
                   help="a capture file to list, or 'export' / 'import' followed by the capture file")
    p.add_argument("file", nargs="?", metavar="FILE", help="capture file (after export / import)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--format", choices=("md", "csv"), default=None, help="export format (default: from -o's suffix)")
    p.add_argument("-o", "--out", type=output_path, metavar="OUT", help="file to export to")
    p.add_argument("-i", "--input", metavar="IN.csv", help="CSV to import (written by 'bookmarks export')")
    p.set_defaults(handler=cmd_bookmarks)

    b = sub.add_parser("bookmark", help="add a bookmark, find similar sessions, set a pattern's hypothesis",
                       description="Work with one bookmark or pattern of a capture.")
    bsub = b.add_subparsers(dest="bookmark_command", metavar="ACTION")
    b.set_defaults(handler=lambda args: _usage(b))

    a = bsub.add_parser("add", help="bookmark a moment (or span) of a session")
    a.add_argument("file", metavar="FILE", help="capture file")
    a.add_argument("--session", type=session_id, required=True, metavar="ID", help="session id")
    a.add_argument("--at", type=non_negative_float, required=True, metavar="MS", help="ms since the session started")
    a.add_argument("--end", type=non_negative_float, default=None, metavar="MS", help="end of a span, ms since the session started")
    a.add_argument("--tag", required=True, help="pattern tag, e.g. 'rage on product image'")
    a.add_argument("--note", default="", help="what you saw")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=cmd_add)

    s = bsub.add_parser("similar", help="find sessions with the same behaviour as a bookmark")
    s.add_argument("file", metavar="FILE", help="capture file")
    s.add_argument("--id", type=record_id, required=True, metavar="BOOKMARK_ID", help="bookmark id (see 'hindsight bookmarks')")
    s.add_argument("--add", action="store_true", help="bookmark every match under the bookmark's tag")
    s.add_argument("--limit", type=non_negative_int, default=20, metavar="N", help="matches to list (default 20; --json lists all)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="for a dataset: the Dask scheduler to run on (default: $HINDSIGHT_SCHEDULER, "
                        "else a local cluster of one worker process per core)")
    s.set_defaults(handler=cmd_similar)

    d = bsub.add_parser("delete", help="delete a bookmark")
    d.add_argument("file", metavar="FILE", help="capture file")
    d.add_argument("--id", type=record_id, required=True, metavar="BOOKMARK_ID")
    d.set_defaults(handler=cmd_delete)

    h = bsub.add_parser("hypothesis", help="set a pattern's hypothesis and ICE ratings (1-10)")
    h.add_argument("file", metavar="FILE", help="capture file")
    h.add_argument("--tag", required=True)
    h.add_argument("--text", default=None, help='"We observed X. We believe that changing Y will improve Z because W."')
    h.add_argument("--impact", type=int_range(1, 10), default=None, metavar="1-10")
    h.add_argument("--confidence", type=int_range(1, 10), default=None, metavar="1-10")
    h.add_argument("--ease", type=int_range(1, 10), default=None, metavar="1-10")
    h.add_argument("--json", action="store_true")
    h.set_defaults(handler=cmd_hypothesis)


def _usage(parser: argparse.ArgumentParser) -> int:
    from hindsight.cli import UsageError

    raise UsageError("bookmark needs an action: add, similar, delete or hypothesis "
                     "(see 'hindsight bookmark --help')")


def _store(file: str, scheduler: str | None = None):
    """(store, capture) for a capture path, or a dataset folder / URL (bookmarks in a sidecar,
    see ``bookmarks.dataset_store``; analyses on its cluster); errors become one line (exit 2)."""
    from hindsight.bookmarks.dataset_store import bookmark_store
    from hindsight.engine.session_source import open_session_source

    cap = open_session_source(file, scheduler=scheduler)
    try:
        return bookmark_store(cap), cap
    except Exception:
        cap.close()
        raise


def _fail(exc: Exception):
    from hindsight.cli import UsageError

    return UsageError(str(exc))


def _time(ms: int | None) -> str:
    from hindsight.bookmarks.export import format_time

    return format_time(ms)


def cmd_bookmarks(args: argparse.Namespace) -> int:
    from hindsight.bookmarks import BookmarkError
    from hindsight.bookmarks.export import export, import_csv
    from hindsight.cli import UsageError

    action, file = args.action, args.file
    if action in ("export", "import"):
        if not file:
            raise UsageError(f"bookmarks {action} needs a capture FILE")
    else:
        if file:
            raise UsageError(f"unexpected argument {file!r} (did you mean 'bookmarks export {action}'?)")
        action, file = "list", action
    store, cap = _store(file)
    try:
        if action == "export":
            if not args.out:
                raise UsageError("bookmarks export needs -o OUT")
            out = Path(args.out)
            fmt = args.format or out.suffix.lstrip(".").lower()
            if fmt not in ("md", "csv"):
                raise UsageError("give --format md or csv (or an OUT ending in .md or .csv)")
            if not out.parent.exists():
                raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
            export(store, out, fmt)
            n, k = store.count(), len(store.patterns())
            print(f"wrote {out} ({k} pattern{'s' * (k != 1)}, {n} bookmark{'s' * (n != 1)}, {fmt})")
            return 0
        if action == "import":
            if not args.input:
                raise UsageError("bookmarks import needs -i IN.csv")
            if not Path(args.input).is_file():
                raise UsageError(f"{args.input}: no such file")
            counts = import_csv(store, args.input)
            print(f"imported {counts['bookmarks']} bookmarks ({counts['skipped']} already there), "
                  f"{counts['patterns']} patterns into {store.path}")
            return 0
        patterns, bookmarks = store.patterns(), store.bookmarks()
        if args.json:
            print_json({"file": str(file), "stored_in": str(store.path), "location": store.location,
                        "patterns": [p.as_dict() for p in patterns],
                        "bookmarks": [b.as_dict() for b in bookmarks]})
            return 0
        if not patterns:
            print(f"no bookmarks in {file} yet (add one with: hindsight bookmark add {file} --session ID --at MS --tag TAG)")
            return 0
        print(f"Patterns ({len(patterns)}; ⚑ = seen in 3+ sessions, worth a hypothesis; ICE = mean of I, C, E)")
        print_table(("", "Tag", "Sessions", "Bookmarks", "ICE", "Hypothesis"),
                    [("⚑" if p.worth_a_hypothesis else "", p.tag, p.sessions, p.bookmarks,
                      "-" if p.ice is None else f"{p.ice:.1f}", _clip(p.hypothesis, 60)) for p in patterns],
                    right=(2, 3, 4))
        print()
        print(f"Bookmarks ({len(bookmarks)})")
        print_table(("ID", "Tag", "Session", "Time", "Note"),
                    [(b.id, b.tag, b.session_id,
                      _time(b.t_ms) + (f"–{_time(b.end_ms)}" if b.end_ms is not None else ""), _clip(b.note, 60))
                     for b in bookmarks], right=(0, 2, 3))
        if store.location != "capture":
            what = "a dataset's files are never written" if store.capture_path is None or store.capture_path.is_dir() \
                else "the capture is read-only"
            print(f"\n({what}: bookmarks are kept in {store.path})")
        return 0
    except BookmarkError as exc:
        raise _fail(exc) from None
    finally:
        cap.close()


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def cmd_add(args: argparse.Namespace) -> int:
    from hindsight.bookmarks import BookmarkError

    store, cap = _store(args.file)
    try:
        b = store.add(args.session, args.at, args.tag, args.note, end_ms=args.end)
    except BookmarkError as exc:
        raise _fail(exc) from None
    finally:
        cap.close()
    if args.json:
        print_json(b.as_dict())
    else:
        p = store.pattern(b.tag)
        print(f"bookmark {b.id}: session {b.session_id} at {_time(b.t_ms)} tagged '{b.tag}' "
              f"({p.sessions} session{'s' * (p.sessions != 1)} with this tag"
              + (", worth a hypothesis" if p.worth_a_hypothesis else "") + ")")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from hindsight.bookmarks import BookmarkError
    from hindsight.bookmarks.similar import find_similar

    store, cap = _store(args.file, args.scheduler)
    try:
        b = store.bookmark(args.id)
        result = find_similar(cap, b)
        added = store.add_matches(b.tag, result.matches, result.behaviour) if args.add else []
    except BookmarkError as exc:
        raise _fail(exc) from None
    finally:
        cap.close()
    if args.json:
        out = result.as_dict()
        if args.add:
            out["added"] = len(added)
        print_json(out)
        return 0
    print(f"Found {result.count} session{'s' * (result.count != 1)} with the same behaviour as bookmark "
          f"{b.id} ({result.behaviour.describe()})")
    if result.matches:
        shown = result.matches[: max(args.limit, 0)]
        print_table(("Session", "Time", "Reason"), [(m.session_id, _time(m.t_ms), m.reason) for m in shown],
                    right=(0, 1))
        if len(shown) < result.count:
            print(f"… and {result.count - len(shown)} more (--limit N, or --json for all)")
    if args.add:
        print(f"added {len(added)} bookmark{'s' * (len(added) != 1)} to '{b.tag}' "
              f"({result.count - len(added)} already there)")
    elif result.count:
        print(f"add them all to '{b.tag}' with: hindsight bookmark similar {args.file} --id {b.id} --add")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from hindsight.bookmarks import BookmarkError

    store, cap = _store(args.file)
    cap.close()
    try:
        store.delete(args.id)
    except BookmarkError as exc:
        raise _fail(exc) from None
    print(f"deleted bookmark {args.id}")
    return 0


def cmd_hypothesis(args: argparse.Namespace) -> int:
    from hindsight.bookmarks import BookmarkError

    store, cap = _store(args.file)
    cap.close()
    ratings = {k: getattr(args, k) for k in ("impact", "confidence", "ease") if getattr(args, k) is not None}
    try:
        p = store.set_pattern(args.tag, args.text, **ratings)
    except BookmarkError as exc:
        raise _fail(exc) from None
    if args.json:
        print_json(p.as_dict())
    else:
        ice = "not rated" if p.ice is None else f"{p.ice:.1f}"
        print(f"pattern '{p.tag}': {plural(p.sessions, 'session')}, ICE {ice}"
              + (f"; hypothesis: {_clip(p.hypothesis, 80)}" if p.hypothesis else ""))
    return 0

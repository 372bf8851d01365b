"""``hindsight pages``: the pages of a capture as the analyses see them (page groups), and the
URL patterns saved with it (see :mod:`hindsight.analytics.page_groups`)."""

from __future__ import annotations

import argparse

from hindsight.cli import UsageError
from hindsight.cli.output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pages", help="list a capture's pages (URL patterns) and save patterns that group URLs",
        description="A page is a URL pattern: query strings are ignored (except kept keys), fragments "
                    "too unless they are hash routes (#/checkout), and saved patterns with * group paths "
                    "(/product/*). Patterns are saved in the capture, or next to it "
                    "(CAPTURE.bookmarks.sqlite) when it is read-only; a dataset keeps them in it (page_patterns/).")
    ps = p.add_subparsers(dest="pages_command", metavar="COMMAND")
    ls = ps.add_parser("list", help="the page groups and the URLs in each")
    ls.add_argument("capture", metavar="CAPTURE")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)
    add = ps.add_parser("add", help="save a URL pattern (e.g. /product/* or https://shop.example/p/*)")
    add.add_argument("capture", metavar="CAPTURE")
    add.add_argument("pattern", metavar="PATTERN")
    add.set_defaults(handler=cmd_add)
    rm = ps.add_parser("remove", help="forget a saved URL pattern")
    rm.add_argument("capture", metavar="CAPTURE")
    rm.add_argument("pattern", metavar="PATTERN")
    rm.set_defaults(handler=cmd_remove)
    kq = ps.add_parser("keep-query", help="keep a query key apart in pages (e.g. ?page= routing); none by default")
    kq.add_argument("capture", metavar="CAPTURE")
    kq.add_argument("key", metavar="KEY")
    kq.add_argument("--remove", action="store_true", help="stop keeping it apart")
    kq.set_defaults(handler=cmd_keep_query)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    import sys

    p.print_help(sys.stderr)
    return 2


def cmd_list(args: argparse.Namespace) -> int:
    from hindsight.analytics.page_groups import group_pages
    from hindsight.engine.session_source import open_session_source
    from hindsight.store.page_patterns import saved_patterns

    with open_session_source(args.capture) as cap:   # a capture, or a dataset (its small tables)
        saved = saved_patterns(cap)
        groups = group_pages(cap.pages(), saved.patterns, saved.keep_query)
    if args.json:
        print_json({"patterns": list(saved.patterns), "keep_query": list(saved.keep_query),
                    "saved_in": saved.location or None, "pages": [g.as_dict() for g in groups],
                    "invalid_patterns": [{"pattern": p, "reason": r} for p, r in groups.invalid]})
        return 0
    for p, reason in groups.invalid:
        print(f"ignored saved pattern {p!r}: {reason} (hindsight pages remove to forget it)")
    where = f" (saved in {saved.path})" if saved.location and saved.location not in ("capture", "dataset") else ""
    print(f"{len(groups)} pages from {len(groups.urls)} URLs; saved patterns: "
          f"{', '.join(saved.patterns) or 'none'}; query keys kept: {', '.join(saved.keep_query) or 'none'}{where}")
    for g in groups:
        mark = "*" if g.saved else " "
        print(f"{mark} {g.key}  ({len(g.urls)} URL{'s' if len(g.urls) != 1 else ''})")
        for url in g.urls:
            if url != g.key:
                print(f"      {url}")
    return 0


def _change(args, fn) -> int:
    from hindsight.bookmarks.store import BookmarkError

    try:
        saved = fn()
    except (ValueError, KeyError, BookmarkError) as exc:
        raise UsageError(str(exc.args[0]) if exc.args else str(exc)) from None
    where = {"capture": "the capture", "dataset": "the dataset"}.get(saved.location, saved.path)
    print(f"saved in {where}; patterns: {', '.join(saved.patterns) or 'none'}; "
          f"query keys kept: {', '.join(saved.keep_query) or 'none'}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from hindsight.analytics.page_groups import save_pattern

    return _change(args, lambda: save_pattern(args.capture, args.pattern))


def cmd_remove(args: argparse.Namespace) -> int:
    from hindsight.store.page_patterns import remove_pattern

    return _change(args, lambda: remove_pattern(args.capture, args.pattern))


def cmd_keep_query(args: argparse.Namespace) -> int:
    from hindsight.store.page_patterns import set_keep_query

    return _change(args, lambda: set_keep_query(args.capture, args.key, keep=not args.remove))

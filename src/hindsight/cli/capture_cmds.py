"""``hindsight info`` and ``hindsight sessions``: what a capture holds."""

from __future__ import annotations

import argparse

import numpy as np

from hindsight.cli.args import non_negative_float, non_negative_int
from hindsight.cli.output import duration, iso, print_json, print_table, write_text
from hindsight.store import CaptureError, SessionFilter
from hindsight.text import plural


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="format version and counts of a capture")
    p.add_argument("file", metavar="FILE", help="capture file (.sqlite)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("sessions", help="list the sessions of a capture, newest first")
    p.add_argument("file", metavar="FILE", help="capture file (.sqlite)")
    add_filter_arguments(p)
    p.add_argument("--oldest-first", action="store_true", help="list the oldest sessions first")
    p.add_argument("--limit", type=non_negative_int, default=None, help="at most this many rows (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sessions)


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """The session filter flags shared by every command that takes a segment."""
    g = p.add_argument_group("session filters (repeat a flag to allow several values)")
    g.add_argument("--device", action="append", default=[], metavar="D", help="desktop, tablet or mobile")
    g.add_argument("--browser", action="append", default=[], metavar="B", help="e.g. Chrome, 'Mobile Safari'")
    g.add_argument("--os", action="append", default=[], metavar="OS", help="e.g. Windows, macOS, iOS, Android")
    g.add_argument("--country", action="append", default=[], metavar="CC", help="ISO code, e.g. US, DE")
    g.add_argument("--source", action="append", default=[], metavar="S",
                   help="organic, paid, direct, social, email or referral")
    conv = g.add_mutually_exclusive_group()
    conv.add_argument("--converted", dest="converted", action="store_const", const=True, default=None,
                      help="only sessions that converted")
    conv.add_argument("--not-converted", dest="converted", action="store_const", const=False,
                      help="only sessions that did not convert")
    g.add_argument("--min-duration", type=non_negative_float, default=None, metavar="S", help="at least S seconds long")
    g.add_argument("--max-duration", type=non_negative_float, default=None, metavar="S", help="at most S seconds long")
    g.add_argument("--visited", action="append", default=[], metavar="URL",
                   help="visited this page (a URL or pattern: any URL of its page group)")
    g.add_argument("--not-visited", action="append", default=[], metavar="URL",
                   help="never visited this page (a URL or pattern: none of its page group's URLs)")
    g.add_argument("--since", "--from", dest="date_from", default=None, metavar="YYYY-MM-DD",
                   help="sessions that started on this day (UTC) or later")
    g.add_argument("--until", "--to", dest="date_to", default=None, metavar="YYYY-MM-DD",
                   help="sessions that started on this day (UTC) or earlier")
    g.add_argument("--frustration", action="append", default=[], metavar="KIND",
                   help="sessions with this signal: rage_click, dead_click, error_click, excessive_scroll, "
                        "quick_back, thrashed_cursor (repeat: any of them)")
    g.add_argument("--all-frustration", action="store_true",
                   help="with several --frustration: sessions having all of them")
    g.add_argument("--abandoned-at", default=None, metavar="FIELD",
                   help="sessions that abandoned the capture's form at this field")


def workspace_filter_from_args(args: argparse.Namespace):
    """The :class:`~hindsight.workspace.WorkspaceFilter` of the filter flags, made by the same
    :func:`~hindsight.workspace.build_filter` as the app's filter panel."""
    from hindsight.cli import UsageError
    from hindsight.workspace import build_filter

    try:
        return build_filter(
            device=args.device, browser=args.browser, os=args.os, country=args.country, source=args.source,
            converted=args.converted, min_duration_s=args.min_duration, max_duration_s=args.max_duration,
            date_from=getattr(args, "date_from", None), date_to=getattr(args, "date_to", None),
            visited=args.visited, not_visited=args.not_visited,
            frustration=getattr(args, "frustration", ()) or (),
            frustration_mode="all" if getattr(args, "all_frustration", False) else "any",
            abandoned_at=getattr(args, "abandoned_at", None))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def filter_from_args(args: argparse.Namespace, capture=None) -> SessionFilter:
    """The SessionFilter of the filter flags; with ``capture``, values it has none of are errors,
    and frustration kinds and the abandoned-at field become the sessions that have them
    (the app's rule: :func:`hindsight.workspace.resolve_filter`)."""
    from hindsight.cli import UsageError
    from hindsight.workspace import Workspace, resolve_filter

    wf = workspace_filter_from_args(args)
    if capture is None:
        return wf.sessions
    check_filter(capture, wf.sessions)
    if wf.sessions.visited or wf.sessions.not_visited:  # a page is its page group (all its URLs)
        from dataclasses import replace

        from hindsight.analytics.page_groups import capture_groups, expand_filter_pages

        wf = replace(wf, sessions=expand_filter_pages(capture_groups(capture), wf.sessions))
    from hindsight.cli.dataset_source import is_dataset_source

    if is_dataset_source(capture):   # the same index and report, computed on the cluster
        from hindsight.analytics.session_index import SessionIndex

        index = SessionIndex.from_signals(capture.session_ids(), capture.signals()) if wf.needs_index else None
        report = None
        if wf.needs_report:
            try:
                report = capture.form_reports()[None]
            except CaptureError:   # the dataset has no form
                report = None
    else:
        ws = Workspace(capture)
        index = ws.compute_signal_index() if wf.needs_index else None
        report = ws.compute_form_report() if wf.needs_report else None
    if wf.needs_report:
        fields = [f.name for f in report.fields] if report is not None else []
        if wf.abandoned_at not in fields:
            raise UsageError(f"--abandoned-at {wf.abandoned_at!r}: " + (
                f"the form's fields are {', '.join(fields)}" if fields else "this capture has no form"))
    return resolve_filter(wf, index, report)


def check_filter(capture, flt: SessionFilter) -> None:
    """Raise ``UsageError`` for a filter value no session has (a typo would silently give 0)."""
    from hindsight.cli import UsageError

    for column in ("device", "browser", "os", "country", "source"):
        wanted = getattr(flt, column)
        if not wanted:
            continue
        known = [v for v in capture.distinct_values(column) if v]
        for value in wanted:
            if value not in known:
                hint = next((k for k in known if k.lower() == value.lower()), None)
                also = f" (did you mean {hint!r}?)" if hint else f"; values: {', '.join(known[:12])}"
                raise UsageError(f"no session has {column} {value!r}{also}")
    if flt.visited or flt.not_visited:
        from hindsight.analytics.page_groups import capture_groups

        groups = capture_groups(capture)
        for url in (*flt.visited, *flt.not_visited):
            if not isinstance(url, tuple):
                try:
                    groups.resolve(url)
                except KeyError as exc:
                    raise UsageError(f"{exc.args[0]}") from None
    if (flt.min_duration_s is not None and flt.max_duration_s is not None
            and flt.min_duration_s > flt.max_duration_s):
        raise UsageError(f"--min-duration {flt.min_duration_s:g} is more than --max-duration {flt.max_duration_s:g}")


def cmd_info(args: argparse.Namespace) -> int:
    from hindsight.cli.dataset_source import open_source
    from hindsight.store.schema import SCHEMA_VERSION

    with open_source(args) as cap:
        counts = cap.counts()
        first, last = cap.date_range()
        unknown_dates = cap.unknown_date_count()
        pages = cap.pages()
        snaps = cap.snapshots()
        info = {
            "file": str(args.file),
            "format": cap.meta.get("format"),
            "format_version": cap.format_version,
            "creator": cap.meta.get("creator", ""),
            "masking": cap.meta.get("masking", ""),
            **counts,
            "first_session_ms": first,
            "last_session_end_ms": last,
            "sessions_with_unknown_date": unknown_dates,
            "devices": cap.device_counts(),
            "page_list": [{"page_id": p.page_id, "url": p.url, "title": p.title} for p in pages],
            "snapshot_list": [{"snapshot_id": s.snapshot_id, "page_id": s.page_id, "device": s.device,
                               "width": s.width, "height": s.height} for s in snaps],
        }
    if args.json:
        print_json(info)
        return 0
    print(f"{args.file}: {info['format']} version {info['format_version']} (by {info['creator']}; "
          f"input masking: {info['masking']})")
    if info["format_version"] < SCHEMA_VERSION:
        print(f"  format {info['format_version']} is read-only here and slower for heatmaps: convert it with "
              f"'hindsight upgrade {args.file} NEW'")
    print(f"  sessions  {counts['sessions']:>12,}")
    print(f"  pageviews {counts['pageviews']:>12,}")
    print(f"  events    {counts['events']:>12,}")
    unknown = f"{unknown_dates:,} session(s) with an unknown start date" if unknown_dates else ""
    if first is None:
        print(f"  dates     {unknown or '-'}")
    else:
        print(f"  dates     {iso(first)} .. {iso(last)} UTC" + (f"; {unknown}" if unknown else ""))
    print("  devices   " + ", ".join(f"{d} {n:,}" for d, n in info["devices"].items()))
    print(f"  pages     {len(pages)}")
    for p in pages:
        shots = ", ".join(f"{s.device} {s.width}x{s.height}" for s in snaps if s.page_id == p.page_id)
        print(f"    {p.url}  {p.title!r}  [{shots}]")
    return 0


def session_rows(table: dict, urls: dict[int, str], limit: int) -> list[dict]:
    """The first ``limit`` rows of a ``session_table`` as the JSON/table row dicts.

    Built column-wise: each numpy column becomes a Python list once (``tolist``), page ids
    map to URLs through one lookup, then one dict per row is zipped together.
    """
    def col(name):
        return table[name][:limit].tolist()

    def page_urls(name):
        ids = table[name][:limit]
        if not urls:
            return [""] * len(ids)
        known = np.array(sorted(urls), dtype=np.int64)
        names = np.array([urls[int(p)] for p in known] + [""], dtype=object)
        pos = np.searchsorted(known, ids)
        pos[(pos >= len(known)) | (known[np.minimum(pos, len(known) - 1)] != ids)] = len(known)
        return names[pos].tolist()

    keys = ("session_id", "start_ms", "duration_ms", "device", "browser", "os", "country", "source",
            "converted", "pageviews", "events", "entry_page", "exit_page")
    values = (col("session_id"), col("start_ms"), col("duration_ms"), col("device"), col("browser"),
              col("os"), col("country"), col("source"), (table["converted"][:limit] != 0).tolist(),
              col("pageview_count"), col("event_count"), page_urls("entry_page_id"), page_urls("exit_page_id"))
    return [dict(zip(keys, row)) for row in zip(*values)]


def sessions_json(table: dict, urls: dict[int, str], limit: int, count: int) -> str:
    """``{"count": count, "sessions": session_rows(...)}`` as ``json.dumps(indent=2)`` writes
    it, byte for byte (see ``sessions_json_parts``)."""
    return "".join(sessions_json_parts(table, urls, limit, count))


#: Rows per piece of ``hindsight sessions --json`` output (bounded memory at any size).
JSON_ROWS_PER_PART = 16_384


def sessions_json_parts(table: dict, urls: dict[int, str], limit: int, count: int):
    """The JSON text of ``sessions_json`` in pieces of ``JSON_ROWS_PER_PART`` rows, built
    column-wise: each column becomes a list of JSON texts (a distinct string encoded once, by
    the json module), then one ``str.join`` interleaves them with the fixed keys. No dict per
    row: at 100k sessions the rows' dicts cost more than all the rest of the command."""
    import json
    from itertools import chain, repeat

    if not limit:
        yield '{\n  "count": %d,\n  "sessions": []\n}' % count
        return
    keys = ("session_id", "start_ms", "duration_ms", "device", "browser", "os", "country", "source",
            "converted", "pageviews", "events", "entry_page", "exit_page")
    known = np.array(sorted(urls), dtype=np.int64)
    names = np.array([urls[int(p)] for p in known] + [""], dtype=object)
    enc: dict[str, str] = {}

    def texts(values):
        for v in set(values) - enc.keys():
            enc[v] = json.dumps(v)
        return list(map(enc.__getitem__, values))

    def pages(ids):
        if not urls:
            return [""] * len(ids)
        pos = np.searchsorted(known, ids)
        pos[(pos >= len(known)) | (known[np.minimum(pos, len(known) - 1)] != ids)] = len(known)
        return names[pos].tolist()

    yield '{\n  "count": %d,\n  "sessions": [\n' % count
    for lo in range(0, limit, JSON_ROWS_PER_PART):
        hi = min(limit, lo + JSON_ROWS_PER_PART)
        n = hi - lo

        def ints(name):
            return list(map(str, table[name][lo:hi].tolist()))

        cols = [ints("session_id"), ints("start_ms"), ints("duration_ms")]
        cols += [texts(table[name][lo:hi].tolist()) for name in ("device", "browser", "os", "country", "source")]
        cols += [np.where(table["converted"][lo:hi] != 0, "true", "false").tolist(),
                 ints("pageview_count"), ints("event_count"),
                 texts(pages(table["entry_page_id"][lo:hi])), texts(pages(table["exit_page_id"][lo:hi]))]
        first = '    {\n      "session_id": '
        streams = [[first if lo == 0 else ",\n" + first] + [",\n" + first] * (n - 1), cols[0]]
        for key, col in zip(keys[1:], cols[1:]):
            streams += [repeat(f',\n      "{key}": ', n), col]
        streams.append(repeat("\n    }", n))
        yield "".join(chain.from_iterable(zip(*streams)))
    yield "\n  ]\n}"


def cmd_sessions(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 0:
        from hindsight.cli import UsageError

        raise UsageError(f"--limit must be 0 or more, not {args.limit}")
    from hindsight.cli.dataset_source import open_source

    with open_source(args) as cap:
        table = cap.session_table(filter_from_args(args, cap),
                                  order_by="start_ms" if args.oldest_first else "-start_ms")
        urls = {p.page_id: p.url for p in cap.pages()}
    n = len(table["session_id"])
    limit = n if args.limit is None else min(n, args.limit)
    if args.json:
        write_text(sessions_json_parts(table, urls, limit, n))
        return 0
    rows = session_rows(table, urls, limit)
    print_table(
        ["id", "start (UTC)", "duration", "device", "browser", "os", "country", "source", "conv", "pages", "events"],
        [[r["session_id"], iso(r["start_ms"]), duration(r["duration_ms"]), r["device"], r["browser"], r["os"],
          r["country"], r["source"], "yes" if r["converted"] else "", r["pageviews"], r["events"]] for r in rows],
        right=(0, 2, 9, 10),
    )
    print(plural(n, "session") + (f" (showing {limit:,})" if limit < n else ""))
    return 0

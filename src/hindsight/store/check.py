"""``hindsight check``: every problem of a capture, one line each.

Runs SQLite's ``PRAGMA integrity_check``, then the reader's checks over the whole file: column
types and ranges, references between tables, snapshot sizes and images, and every event of
every pageview (the same rules as ``validate.event_damage``). Rules are SQL queries where
possible, so a problem is reported once with a count and the first few rows.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np

from hindsight.store import session_columns
from hindsight.store.columns import BYTES_PER_EVENT, unpack_many
from hindsight.store.errors import CaptureError
from hindsight.store.reader import PAGEVIEW_RANGES, SESSION_RANGES, _check_header, _connect_readonly, open_capture
from hindsight.store.records import PAGEVIEW_COLUMNS
from hindsight.store.validate import (
    COORD_MARGIN,
    KNOWN_KIND,
    MAX_PAGE_AREA,
    MAX_PAGE_HEIGHT,
    MAX_PAGE_WIDTH,
    MAX_SCALE,
    STRING_KINDS,
    TIME_SLACK_MS,
    Damage,
    check_image,
    out_of_order,
)

MAX_SQLITE_LINES = 20
CHUNK = 2000


def _in_range(col: str, lo: int, hi: int, nullable: bool = False) -> str:
    cond = f"(typeof({col}) != 'integer' OR {col} < {lo} OR {col} > {hi})"
    return f"({col} IS NOT NULL AND {cond})" if nullable else cond


def _rules() -> list[tuple[str, str, str, str]]:
    """(table, id column, condition of a bad row, problem) for the SQL-level checks."""
    rules = []
    texts = {"sessions": ("visitor_id", "device", "browser", "os", "country", "source", "utm_source",
                          "utm_medium", "utm_campaign", "referrer", "external_id"),
             "pages": ("url", "title"), "strings": ("text",), "snapshots": ("device",),
             "elements": ("selector", "tag", "role", "label")}
    for name, (lo, hi, nullable) in SESSION_RANGES.items():
        if name != "session_id":
            rules.append(("sessions", "session_id", _in_range(name, lo, hi, nullable),
                          f"{name} not a whole number in {lo:,}..{hi:,}"))
    for name, (lo, hi) in PAGEVIEW_RANGES.items():
        if name != "pageview_id":
            rules.append(("pageviews", "pageview_id", _in_range(name, lo, hi), f"{name} not a whole number in {lo:,}..{hi:,}"))
    for table, cols in texts.items():
        key = {"sessions": "session_id", "pages": "page_id", "strings": "string_id", "snapshots": "snapshot_id",
               "elements": "snapshot_id"}[table]
        for c in cols:
            rules.append((table, key, f"typeof({c}) NOT IN ('text', 'null')", f"{c} is not text"))
    for c in ("field", "form", "href"):
        rules.append(("elements", "snapshot_id", f"typeof({c}) NOT IN ('text', 'null')", f"{c} is not text"))
    big = 2**31 - 1
    for c, lo in (("x", -big), ("y", -big), ("w", 0), ("h", 0)):
        rules.append(("elements", "snapshot_id", _in_range(c, lo, big), f"{c} not a whole number in {lo:,}..{big:,}"))
    for c in ("clickable", "sensitive"):
        rules.append(("elements", "snapshot_id", _in_range(c, 0, 1), f"{c} is not 0 or 1"))
    rules += [
        ("sessions", "session_id", "entry_page_id IS NOT NULL AND entry_page_id NOT IN (SELECT page_id FROM pages)",
         "entry_page_id refers to a page that does not exist"),
        ("sessions", "session_id", "exit_page_id IS NOT NULL AND exit_page_id NOT IN (SELECT page_id FROM pages)",
         "exit_page_id refers to a page that does not exist"),
        ("pageviews", "pageview_id", "end_ms < start_ms", "ends before it starts"),
        ("pageviews", "pageview_id", "session_id NOT IN (SELECT session_id FROM sessions)",
         "session_id refers to a session that does not exist"),
        ("pageviews", "pageview_id", "page_id NOT IN (SELECT page_id FROM pages)",
         "page_id refers to a page that does not exist"),
        ("pageviews", "pageview_id", "snapshot_id NOT IN (SELECT snapshot_id FROM snapshots)",
         "snapshot_id refers to a snapshot that does not exist"),
        ("pageviews", "pageview_id", "typeof(events) != 'blob'", "events is not a BLOB"),
        ("pageviews", "pageview_id", f"typeof(events) = 'blob' AND length(events) % {BYTES_PER_EVENT} != 0",
         f"event block is not a whole number of {BYTES_PER_EVENT}-byte events"),
        ("pageviews", "pageview_id", f"typeof(events) = 'blob' AND typeof(event_count) = 'integer' AND "
         f"length(events) % {BYTES_PER_EVENT} = 0 AND event_count != length(events) / {BYTES_PER_EVENT}",
         "event_count differs from the events stored"),
        ("snapshots", "snapshot_id", _in_range("width", 1, MAX_PAGE_WIDTH), f"width not in 1..{MAX_PAGE_WIDTH:,} px"),
        ("snapshots", "snapshot_id", _in_range("height", 1, MAX_PAGE_HEIGHT), f"height not in 1..{MAX_PAGE_HEIGHT:,} px"),
        ("snapshots", "snapshot_id", f"typeof(scale) NOT IN ('real', 'integer') OR scale <= 0 OR scale > {MAX_SCALE}",
         f"scale not in 0..{MAX_SCALE:g}"),
        ("snapshots", "snapshot_id", f"typeof(width) = 'integer' AND typeof(height) = 'integer' AND "
         f"typeof(scale) IN ('real', 'integer') AND (width * height > {MAX_PAGE_AREA} OR "
         f"width * height * scale * scale > {MAX_PAGE_AREA})", f"larger than {MAX_PAGE_AREA:,} px"),
        ("snapshots", "snapshot_id", "page_id NOT IN (SELECT page_id FROM pages)",
         "page_id refers to a page that does not exist"),
        ("snapshots", "snapshot_id", "image IS NOT NULL AND typeof(image) != 'blob'", "image is not a BLOB"),
        ("elements", "snapshot_id", "snapshot_id NOT IN (SELECT snapshot_id FROM snapshots)",
         "snapshot_id refers to a snapshot that does not exist"),
    ]
    return rules


def check_capture(path: str | os.PathLike[str], limit: int = 200) -> list[str]:
    """Every problem found in the capture at ``path``, one line each (empty: none).

    Stops after ``limit`` problems. A file that cannot be opened at all gives one line.
    """
    path = Path(path)
    problems: list[str] = []
    try:
        _check_header(path)
        con = _connect_readonly(path)
    except CaptureError as exc:
        return [str(exc)]
    try:
        try:
            rows = con.execute(f"PRAGMA integrity_check({MAX_SQLITE_LINES})").fetchall()
            problems += [f"{path}: SQLite integrity check: {r[0]}" for r in rows if r[0] != "ok"]
        except sqlite3.DatabaseError as exc:
            problems.append(f"{path}: SQLite integrity check failed: {exc}")
    finally:
        con.close()
    try:
        cap = open_capture(path)
    except CaptureError as exc:
        return problems + [str(exc)]
    with cap:
        problems += _sql_rules(cap)
        problems += _snapshots(cap)
        problems += session_columns.verify(cap)
        if len(problems) < limit:
            problems += _events(cap, limit - len(problems))
        if len(problems) < limit and cap.columnar:
            # Event totals per snapshot are compared only when the rows are sound (a pageview
            # pointing elsewhere is reported above, once).
            problems += _chunks(cap, limit - len(problems), compare_totals=not problems)
    return problems[:limit]


def _chunks(cap, limit: int, compare_totals: bool = True) -> list[str]:
    """Format 2: every event chunk decodes, its values are possible, and each snapshot's chunks
    hold as many events as its pageviews say (one line per damaged chunk or snapshot)."""
    from hindsight.store.chunk_reader import chunk_problem, value_damage
    from hindsight.store.chunks import CHUNK_COLUMNS, RAW, rle_decode

    out: list[str] = []
    try:
        limits = cap.snapshot_limits()
        strings = cap._string_id_array()
        ids = [r[0] for r in cap._con.execute("SELECT chunk_id FROM event_chunks ORDER BY chunk_id")]
    except (CaptureError, sqlite3.DatabaseError) as exc:
        return [f"{cap.path}: event_chunks: cannot be read ({exc})"]
    held: dict = {}
    for chunk_id in ids:
        if len(out) >= limit:
            break
        try:
            row = cap._con.execute(f"SELECT snapshot_id, kind, n, session_min, session_max, {', '.join(CHUNK_COLUMNS)} "
                                   "FROM event_chunks WHERE chunk_id = ?", (chunk_id,)).fetchone()
        except sqlite3.DatabaseError as exc:
            out.append(f"{cap.path}: event chunk {chunk_id}: cannot be read ({exc})")
            continue
        snap, kind, n, lo, hi = row[:5]
        blobs = dict(zip(CHUNK_COLUMNS, row[5:]))
        where = f"{cap.path}: event chunk {chunk_id}"
        if snap not in limits:
            out.append(f"{where}: refers to snapshot {snap!r}, which does not exist")
            continue
        problem = chunk_problem(kind, n, blobs)
        if problem is not None:
            out.append(f"{where} (snapshot {snap}): {problem}; its events are skipped by heatmaps")
            continue
        held[snap] = held.get(snap, 0) + n
        sess = rle_decode(blobs["session_id"], n)
        if n and (int(sess.min()) != lo or int(sess.max()) != hi):
            out.append(f"{where}: session range {lo!r}..{hi!r} does not match its rows "
                       f"({int(sess.min())}..{int(sess.max())})")
        cols = {c: np.frombuffer(blobs[c], dtype=dt) for c, dt in RAW.items()}
        bad = value_damage(kind, cols, limits[snap], strings)
        if bad is not None:
            k = int(bad.sum())
            out.append(f"{where} (snapshot {snap}): {k:,} damaged event{'s' if k != 1 else ''} "
                       "(coordinates, target or value impossible); they are skipped by heatmaps")
    if len(out) < limit and compare_totals:
        try:
            rows = cap._con.execute("SELECT snapshot_id, sum(event_count) FROM pageviews GROUP BY snapshot_id").fetchall()
        except sqlite3.DatabaseError:
            rows = []
        for snap, n in rows:
            if isinstance(n, int) and held.get(snap, 0) != n:
                out.append(f"{cap.path}: snapshot {snap}: its event chunks hold {held.get(snap, 0):,} events, "
                           f"its pageviews {n:,} (heatmaps read the chunks)")
    return out[:limit]


def _sql_rules(cap) -> list[str]:
    out = []
    for table, key, cond, problem in _rules():
        try:
            rows = cap._con.execute(f"SELECT {key} FROM {table} WHERE {cond} LIMIT 1000").fetchall()
        except sqlite3.DatabaseError as exc:
            out.append(f"{cap.path}: {table}: cannot be read ({exc})")
            continue
        if rows:
            ids = ", ".join(str(r[0]) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
            n = f"{len(rows):,}" if len(rows) < 1000 else "1,000+"
            out.append(f"{cap.path}: {table}: {n} row(s) whose {problem} ({key} {ids})")
    try:
        rows = cap._con.execute("SELECT snapshot_id, count(*), min(idx), max(idx), "
                                "sum(typeof(idx) != 'integer') FROM elements GROUP BY snapshot_id").fetchall()
        for sid, n, lo, hi, not_int in rows:
            if not_int or lo != 0 or hi != n - 1:
                out.append(f"{cap.path}: elements: the {n:,} elements of snapshot {sid} are numbered "
                           f"{lo!r}..{hi!r}, not 0..{n - 1}")
    except sqlite3.DatabaseError as exc:
        out.append(f"{cap.path}: elements: cannot be read ({exc})")
    return out


def _snapshots(cap) -> list[str]:
    out = []
    try:
        rows = cap._con.execute("SELECT snapshot_id, image FROM snapshots WHERE typeof(image) = 'blob'").fetchall()
    except sqlite3.DatabaseError as exc:
        return [f"{cap.path}: snapshots: cannot be read ({exc})"]
    for sid, data in rows:
        try:
            check_image(data, sid).close()
        except Damage as exc:
            out.append(f"{cap.path}: {exc}")
    return out


def _events(cap, limit: int) -> list[str]:
    """Every pageview's events, through the reader's checks; one line per damaged pageview."""
    out: list[str] = []
    try:
        limits = cap.snapshot_limits()
        strings = cap._string_id_array()
    except CaptureError as exc:
        return [f"{exc} (events not checked)"]
    cols = ", ".join(PAGEVIEW_COLUMNS)
    last = -2**63
    while len(out) < limit:
        try:
            rows = cap._con.execute(f"SELECT {cols}, events FROM pageviews WHERE pageview_id > ? "
                                    f"ORDER BY pageview_id LIMIT {CHUNK}", (last,)).fetchall()
        except sqlite3.DatabaseError as exc:
            out.append(f"{cap.path}: pageviews: cannot be read after pageview {last} ({exc})")
            break
        if not rows:
            break
        last = rows[-1][0]
        good = []
        for r in rows:   # rows the SQL rules flagged are reported there; check the rest
            try:
                cap.pageview_columns([r])
                if type(r[-1]) is bytes and len(r[-1]) % BYTES_PER_EVENT == 0:
                    good.append(r)
            except CaptureError:
                pass
        if not good:
            continue
        pvc = cap.pageview_columns(good)
        before = dict(cap._damaged)
        cap.decode_events([r[-1] for r in good], pvc)
        raw, source = unpack_many([r[-1] for r in good])
        if out_of_order(raw.t, source):
            down = np.flatnonzero(raw.t[1:] < raw.t[:-1])
            rows_down = np.unique(source[down][source[down] == source[down + 1]])
            for i in rows_down.tolist():
                out.append(f"{cap.path}: pageview {good[i][0]}: events out of time order "
                           "(they are sorted when read)")
        for pid, n in cap._damaged.items():
            if before.get(pid) != n:
                row = next(r for r in good if r[0] == pid)
                out.append(f"{cap.path}: pageview {pid}: {n:,} damaged event{'s' if n != 1 else ''} "
                           f"({_reasons(row, limits, strings)})")
    return out


def _reasons(row, limits, strings) -> str:
    """What is wrong with one pageview's damaged events, e.g. 'kind 200; target 32767 of 12 elements'."""
    from hindsight.store.columns import EventColumns

    ev = EventColumns.unpack(row[-1])
    pv = dict(zip(PAGEVIEW_COLUMNS, row[:-1]))
    nel, width, height = limits[pv["snapshot_id"]]
    reasons = []

    def note(mask, text):
        idx = np.flatnonzero(mask)
        if idx.size:
            reasons.append(text(int(idx[0])) + (f" (+{idx.size - 1} more)" if idx.size > 1 else ""))

    note(~KNOWN_KIND[ev.kind], lambda i: f"unknown kind {int(ev.kind[i])}")
    note((ev.target < -1) | (ev.target >= nel), lambda i: f"target {int(ev.target[i])} of {nel} elements")
    note((ev.x < -COORD_MARGIN) | (ev.x.astype(np.int64) > width + COORD_MARGIN), lambda i: f"x = {int(ev.x[i]):,}")
    note((ev.y < -COORD_MARGIN) | (ev.y.astype(np.int64) > height + COORD_MARGIN), lambda i: f"y = {int(ev.y[i]):,}")
    t = ev.t.astype(np.int64)
    note((t < pv["start_ms"] - TIME_SLACK_MS) | (t > pv["end_ms"] + TIME_SLACK_MS),
         lambda i: f"t = {int(t[i]):,} ms outside the pageview's {pv['start_ms']:,}..{pv['end_ms']:,}")
    refs = np.isin(ev.kind, STRING_KINDS)
    note(refs & ~np.isin(ev.value, strings), lambda i: f"string id {int(ev.value[i])} that does not exist")
    return "; ".join(reasons) or "negative length or count"

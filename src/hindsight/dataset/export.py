"""``hindsight export dataset``: a capture file -> a capture dataset (same ids, same rows).

Sessions are read one at a time through the capture reader (``Capture.session_events``), a
day partition after another, so memory holds one row group of events, never all of them.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np
import pyarrow as pa

from hindsight.dataset import layout
from hindsight.dataset.parts import SessionParts
from hindsight.dataset.patterns import export_page_patterns
from hindsight.store.page_patterns import saved_patterns
from hindsight.dataset.store import filesystem, new_writer_id, write_image, write_meta, write_table
from hindsight.store.errors import CaptureError

_BATCH = 500   # sessions read at once


def _check_out(fs, root: str, url: str, overwrite: bool) -> None:
    try:
        present = fs.exists(root) and bool(fs.ls(root))
    except Exception as exc:  # noqa: BLE001 - unreachable store
        raise CaptureError(url, f"cannot be reached: {exc}") from None
    if present and not overwrite:
        raise CaptureError(url, "already exists and is not empty: choose a new folder")
    if present:   # replacing: only a dataset, never an arbitrary folder
        import posixpath

        if not fs.exists(posixpath.join(root, layout.META_FILE)):
            raise CaptureError(url, "is not empty and not a Hindsight dataset: it is not replaced")
        fs.rm(root, recursive=True)


def write_catalog(fs, root: str, cap, writer: str) -> dict[str, int]:
    """Pages, snapshots (with their images), elements, strings and planted rows of a capture."""
    pages = cap.pages()
    write_table(fs, root, "pages", pa.table({
        "page_id": [p.page_id for p in pages], "url": [p.url for p in pages], "title": [p.title for p in pages],
    }, schema=layout.PAGES_SCHEMA), writer)
    snaps = cap.snapshots()
    images = []
    elements: dict[str, list] = {f: [] for f in layout.ELEMENTS_SCHEMA.names}
    for s in snaps:
        data = cap.snapshot_image(s.snapshot_id)
        rel = None
        if data is not None:
            rel = layout.image_path(s.snapshot_id)
            write_image(fs, root, rel, data)
        images.append(rel)
        emap = cap.elements(s.snapshot_id)
        n = len(emap)
        elements["snapshot_id"].extend([s.snapshot_id] * n)
        elements["idx"].extend(range(n))
        for name in ("selector", "tag", "role", "label", "field", "form", "href"):
            elements[name].extend(getattr(emap, name))
        for i, name in enumerate(("x", "y", "w", "h")):
            elements[name].extend(emap.boxes[:, i].tolist())
        elements["clickable"].extend(emap.clickable.astype(np.int64).tolist())
        elements["sensitive"].extend(emap.sensitive.astype(np.int64).tolist())
    write_table(fs, root, "snapshots", pa.table({
        "snapshot_id": [s.snapshot_id for s in snaps], "page_id": [s.page_id for s in snaps],
        "device": [s.device for s in snaps], "width": [s.width for s in snaps],
        "height": [s.height for s in snaps], "scale": [float(s.scale) for s in snaps],
        "image": images, "image_format": ["png"] * len(snaps),
    }, schema=layout.SNAPSHOTS_SCHEMA), writer)
    write_table(fs, root, "elements", pa.table(elements, schema=layout.ELEMENTS_SCHEMA), writer)
    strings = cap.strings()
    ids = sorted(strings)
    write_table(fs, root, "strings", pa.table({"string_id": ids, "text": [strings[i] for i in ids]},
                                              schema=layout.STRINGS_SCHEMA), writer)
    planted = cap.planted()
    if planted:
        cols = list(zip(*planted))
        write_table(fs, root, "planted", pa.table(
            {name: list(col) for name, col in zip(layout.PLANTED_SCHEMA.names, cols)},
            schema=layout.PLANTED_SCHEMA), writer)
    return {"pages": len(pages), "snapshots": len(snaps), "elements": len(elements["idx"]),
            "strings": len(ids), "planted": len(planted)}


def session_rows(cap, session_id: int) -> tuple[dict, list[dict], dict[str, np.ndarray]]:
    """One session of a capture as dataset rows: (session row, pageview rows, event columns)."""
    from dataclasses import asdict

    s = asdict(cap.session(session_id))
    s["converted"] = int(s["converted"])
    pvs, events, pv_index = cap.session_events(session_id)
    pv_ids = np.array([p.pageview_id for p in pvs], dtype=np.int64)
    snap_ids = np.array([p.snapshot_id for p in pvs], dtype=np.int64)
    cols = {name: getattr(events, name) for name in layout.EVENT_VALUE_COLUMNS}
    cols["session_id"] = np.full(len(events), session_id, dtype=np.int64)
    cols["pageview_id"] = pv_ids[pv_index] if len(events) else np.zeros(0, np.int64)
    cols["snapshot_id"] = snap_ids[pv_index] if len(events) else np.zeros(0, np.int64)
    return s, [asdict(p) for p in pvs], cols


_EXTRA_TEXT = ("visitor_id", "utm_source", "utm_medium", "utm_campaign", "referrer", "external_id")


def session_batch_rows(cap, ids: list[int]):
    """``session_rows`` of many sessions at once (one query per table, one decode): yields
    (session row, pageview rows, event columns) per session of ``ids`` (sorted ascending).

    The pageviews' event BLOBs decode through ``Capture.decode_events`` (the reader's damage
    checks: damaged events are dropped and counted, as when the capture is viewed)."""
    from hindsight.store.filters import SessionFilter
    from hindsight.store.records import PAGEVIEW_COLUMNS, SESSION_COLUMNS
    from hindsight.store.validate import Damage, text_value

    table = cap.session_table(SessionFilter(session_ids=tuple(ids)), order_by="session_id")
    marks = ",".join("?" * len(ids))
    extra = {r[0]: r[1:] for r in cap._query(
        f"SELECT session_id, {', '.join(_EXTRA_TEXT)} FROM sessions WHERE session_id IN ({marks})", ids)}
    rows = cap._query(f"SELECT {', '.join(PAGEVIEW_COLUMNS)}, events FROM pageviews WHERE session_id IN ({marks}) "
                      "ORDER BY session_id, seq", ids)
    pv = cap.pageview_columns(rows)
    events, source = cap.decode_events([r[-1] for r in rows], pv)
    pv_sid = pv["session_id"]
    ev_sid = pv_sid[source] if len(events) else np.zeros(0, np.int64)
    pv_lo = np.searchsorted(pv_sid, table["session_id"])
    pv_hi = np.searchsorted(pv_sid, table["session_id"], side="right")
    ev_lo = np.searchsorted(ev_sid, table["session_id"])
    ev_hi = np.searchsorted(ev_sid, table["session_id"], side="right")
    pv_lists = {name: pv[name].tolist() for name in PAGEVIEW_COLUMNS}
    cols = {name: getattr(events, name) for name in layout.EVENT_VALUE_COLUMNS}
    cols["session_id"] = ev_sid
    cols["pageview_id"] = pv["pageview_id"][source] if len(events) else np.zeros(0, np.int64)
    cols["snapshot_id"] = pv["snapshot_id"][source] if len(events) else np.zeros(0, np.int64)
    lists = {name: table[name].tolist() for name in table}
    for i, sid in enumerate(lists["session_id"]):
        row = {name: lists[name][i] for name in lists}
        try:
            row.update(zip(_EXTRA_TEXT, (text_value(v, f"session {sid}: {n}") for n, v in zip(_EXTRA_TEXT, extra[sid]))))
        except Damage as exc:
            raise cap._damage(exc) from None
        for key in ("entry_page_id", "exit_page_id"):
            if row[key] == -1:
                row[key] = None
        row = {name: row[name] for name in SESSION_COLUMNS}
        pvs = [{name: pv_lists[name][j] for name in PAGEVIEW_COLUMNS} for j in range(pv_lo[i], pv_hi[i])]
        yield row, pvs, {name: c[ev_lo[i]:ev_hi[i]] for name, c in cols.items()}


def export_capture(capture: str | os.PathLike[str], out: str, overwrite: bool = False,
                   progress: Callable[[int, int], bool | None] | None = None,
                   row_group: int = layout.EVENTS_ROW_GROUP,
                   max_part_events: int = layout.MAX_PART_EVENTS) -> dict:
    """Write the dataset of a capture at ``out`` (folder or fsspec URL); returns a summary.

    ``progress(done, total)`` is called every 500 sessions; returning False stops (the part
    files written so far stay; the open ones are dropped) with ``InterruptedError``.
    """
    from hindsight import __version__
    from hindsight.store.reader import open_capture

    t0 = time.perf_counter()
    fs, root = filesystem(out)
    _check_out(fs, root, out, overwrite)
    writer = new_writer_id("export")
    with open_capture(capture) as cap:
        fs.makedirs(root, exist_ok=True)
        catalog = write_catalog(fs, root, cap, writer)
        export_page_patterns(fs, root, saved_patterns(cap))   # the capture's saved page patterns
        table = cap.session_table(order_by="session_id")
        ids, starts = table["session_id"], table["start_ms"]
        days = np.array([layout.day_of(v) for v in starts.tolist()], dtype=object)
        order = np.lexsort((ids, days))   # a day after another, sessions by id within a day
        parts = SessionParts(fs, root, writer, row_group=row_group, max_part_events=max_part_events)
        total = len(ids)
        try:
            done = 0
            sorted_days = days[order]
            for day in dict.fromkeys(sorted_days.tolist()):   # one day's files at a time
                day_ids = ids[order][sorted_days == day]
                for a in range(0, len(day_ids), _BATCH):
                    for rows in session_batch_rows(cap, day_ids[a:a + _BATCH].tolist()):
                        parts.add(*rows)
                    done += len(day_ids[a:a + _BATCH])
                    if progress is not None and progress(done, total) is False:
                        raise InterruptedError("export cancelled")
                parts.close_parts()
        except BaseException:
            parts.abort()
            raise
        write_meta(fs, root, layout.meta_document(cap.meta.get("masking", ""),
                                                  f"hindsight {__version__} export", cap.meta))
    return {"path": out, "sessions": parts.sessions_written, "events": parts.events_written,
            "days": len(set(days.tolist())), "files": len(parts.files_closed), **catalog,
            "seconds": round(time.perf_counter() - t0, 3)}

"""``hindsight extract``: a segment of a capture dataset -> a capture file (``CaptureWriter``).

The session filter (the same ``SessionFilter`` as ``hindsight sessions``) becomes a pyarrow
filter on the sessions table; page conditions (visited / not visited) read the pageviews'
``page_id`` column only. Sessions are then copied a batch at a time (bounded memory), with
their pages, snapshots, elements and strings; ids of pages, snapshots and strings are
renumbered as the capture writer numbers them, session ids are kept.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from hindsight.dataset import layout
from hindsight.dataset.filters import session_filter_expression
from hindsight.dataset.store import Dataset, open_dataset
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind

#: Event kinds whose ``value`` is a string id (renumbered with the strings).
STRING_VALUE_KINDS = (int(EventKind.ERROR), int(EventKind.CUSTOM), int(EventKind.VALIDATION))
_BATCH_SESSIONS = 5000


def _ids_with_page(ds: Dataset, page_ids: list[int]) -> pa.Array:
    t = ds.table("pageviews", columns=["session_id"], filter=pads.field("page_id").isin(page_ids))
    return pc.unique(t.column("session_id").combine_chunks()) if t.num_rows else pa.array([], pa.int64())


def filter_expression(ds: Dataset, flt: SessionFilter | None):
    """The pyarrow expression on the sessions table selecting the sessions ``flt`` selects
    (None: all). ``SessionFilter.extra`` (SQL from analyses) cannot be expressed: ValueError.
    A visited / not-visited entry is a URL or a tuple of URLs (a page group: any of them counts)."""
    flt = flt or SessionFilter()
    if flt.extra:
        raise ValueError("a filter with SQL conditions cannot be applied to a dataset")
    visited = not_visited = None
    if flt.visited or flt.not_visited:
        urls = ds.table("pages", columns=["page_id", "url"]).to_pydict()
        by_url = dict(zip(urls["url"], urls["page_id"]))

        def sessions_of(entry) -> set:
            pages = [by_url[u] for u in ((entry,) if isinstance(entry, str) else entry) if u in by_url]
            return set(_ids_with_page(ds, pages).to_pylist()) if pages else set()

        for entry in flt.visited:
            ids = sessions_of(entry)
            visited = ids if visited is None else visited & ids
        for entry in flt.not_visited:
            not_visited = (not_visited or set()) | sessions_of(entry)
    return session_filter_expression(flt, None if visited is None else sorted(visited),
                                     None if not_visited is None else sorted(not_visited))


def matching_sessions(ds: Dataset, flt: SessionFilter | None, sample: int | None = None, seed: int = 0
                      ) -> pa.Table:
    """(session_id, day) of the sessions ``flt`` selects, sorted by id; with ``sample``, at most
    that many of them chosen at random with ``seed`` (the same seed, the same sessions)."""
    t = ds.table("sessions", columns=["session_id", "day"], filter=filter_expression(ds, flt))
    t = t.sort_by("session_id")
    if sample is not None and sample < t.num_rows:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(t.num_rows, size=sample, replace=False))
        t = t.take(pa.array(keep))
    return t


def check_filter_values(ds: Dataset, flt: SessionFilter) -> None:
    """A filter value no session has is an error (a typo would silently extract nothing)."""
    from hindsight.cli import UsageError

    for column, wanted in flt.categories().items():
        if not wanted:
            continue
        known = [v for v in pc.unique(ds.table("sessions", columns=[column]).column(column)).to_pylist() if v]
        for value in wanted:
            if value not in known:
                hint = next((k for k in known if k.lower() == value.lower()), None)
                also = f" (did you mean {hint!r}?)" if hint else f"; values: {', '.join(sorted(known)[:12])}"
                raise UsageError(f"no session has {column} {value!r}{also}")
    urls = ds.table("pages", columns=["url"]).column("url").to_pylist()
    for url in (*flt.visited, *flt.not_visited):
        if url not in urls:
            raise UsageError(f"no page {url!r} in this dataset; pages: {', '.join(urls[:8])}")


def extract_dataset(dataset: str | Dataset, out: str | os.PathLike[str], flt: SessionFilter | None = None,
                    sample: int | None = None, seed: int = 0, overwrite: bool = True,
                    progress: Callable[[int, int], bool | None] | None = None,
                    check_values: bool = False) -> dict:
    """Write the sessions of ``dataset`` that ``flt`` selects (``sample``: a seeded random
    subset) to a new capture file ``out``; returns a summary."""
    from hindsight.store.writer import CaptureWriter

    t0 = time.perf_counter()
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(str(dataset))
    if check_values:
        check_filter_values(ds, flt or SessionFilter())
    try:
        chosen = matching_sessions(ds, flt, sample, seed)
        matching = chosen.num_rows if sample is None else ds.table(
            "sessions", columns=["session_id"], filter=filter_expression(ds, flt)).num_rows
    except ValueError as exc:
        raise CaptureError(ds.url, str(exc)) from None
    meta = {k: v for k, v in ds.capture_meta().items() if k not in ("created_ms",)}
    writer = CaptureWriter.create(out, creator=f"hindsight extract of {ds.url}", masking=ds.masking,
                                  overwrite=overwrite, extra_meta=meta)
    try:
        strings_map = _copy_strings(ds, writer)
        page_map, snap_map = _copy_pages(ds, writer)
        total = chosen.num_rows
        done = 0
        ids_all = chosen.column("session_id").to_numpy()
        days_all = np.asarray(chosen.column("day").to_pylist(), dtype=object)
        for day in sorted(set(days_all.tolist())):
            day_ids = ids_all[days_all == day]
            for a in range(0, len(day_ids), _BATCH_SESSIONS):
                batch = day_ids[a:a + _BATCH_SESSIONS]
                done += _copy_sessions(ds, writer, day, batch, page_map, snap_map, strings_map)
                if progress is not None and progress(done, total) is False:
                    raise InterruptedError("extract cancelled")
        planted = ds.table("planted", filter=pads.field("session_id").isin(pa.array(ids_all, pa.int64())))
        if planted.num_rows:
            writer.add_planted(zip(*planted.to_pydict().values()))
        events = writer.events_written
        final = writer.close()
    except BaseException:
        writer.abort()
        raise
    return {"path": str(final), "sessions": int(total), "matching": int(matching), "events": int(events),
            "seconds": round(time.perf_counter() - t0, 3)}


def _copy_strings(ds: Dataset, writer) -> np.ndarray | None:
    """Strings into the capture; returns (old id, new id) pairs as a (k, 2) array sorted by old id."""
    t = ds.catalog("strings").to_pydict()
    pairs = [(old, writer.string_id(text)) for old, text in zip(t["string_id"], t["text"])]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _copy_pages(ds: Dataset, writer) -> tuple[dict[int, int], dict[int, int]]:
    pages = ds.catalog("pages").to_pydict()
    page_map = {old: writer.add_page(url, title) for old, url, title in zip(*pages.values())}
    snaps = ds.catalog("snapshots").to_pylist()
    elements = ds.catalog("elements")
    el_snap = elements.column("snapshot_id").to_numpy()
    snap_map: dict[int, int] = {}
    for s in snaps:
        lo, hi = np.searchsorted(el_snap, [s["snapshot_id"], s["snapshot_id"] + 1])
        rows = elements.slice(lo, hi - lo).to_pylist()
        snap_map[s["snapshot_id"]] = writer.add_snapshot(
            page_map[s["page_id"]], s["device"], s["width"], s["height"], ds.read_image(s["image"]),
            rows, scale=s["scale"], image_format=s["image_format"] or "png")
    return page_map, snap_map


def _copy_sessions(ds: Dataset, writer, day: str, ids: np.ndarray, page_map, snap_map, strings: np.ndarray) -> int:
    from hindsight.store.columns import EventColumns

    in_batch = pads.field("session_id").isin(pa.array(ids, pa.int64()))
    on_day = pads.field("day") == day
    sessions = ds.table("sessions", filter=on_day & in_batch).sort_by("session_id").to_pylist()
    pvs = ds.table("pageviews", filter=on_day & in_batch).sort_by(
        [("session_id", "ascending"), ("seq", "ascending")])
    ev = ds.table("events", columns=["pageview_id", *layout.EVENT_VALUE_COLUMNS,
                                     *(["n"] if ds.version >= 2 else [])], filter=on_day & in_batch)
    ev = ev.sort_by(ds.event_order())
    ev_pv = ev.column("pageview_id").to_numpy()
    cols = {c: ev.column(c).to_numpy() for c in layout.EVENT_VALUE_COLUMNS}
    if strings.size and len(ev_pv):
        is_str = np.isin(cols["kind"], STRING_VALUE_KINDS)
        if is_str.any():
            value = cols["value"].copy()
            pos = np.clip(np.searchsorted(strings[:, 0], value[is_str]), 0, len(strings) - 1)
            found = strings[pos, 0] == value[is_str]
            value[np.flatnonzero(is_str)[found]] = strings[pos[found], 1]
            cols["value"] = value
    pv_rows = pvs.to_pylist()
    by_session: dict[int, list] = {}
    for pv in pv_rows:
        by_session.setdefault(pv["session_id"], []).append(pv)
    for s in sessions:
        pageviews = []
        for pv in by_session.get(s["session_id"], []):
            lo, hi = np.searchsorted(ev_pv, [pv["pageview_id"], pv["pageview_id"] + 1])
            events = EventColumns(*(np.ascontiguousarray(cols[c][lo:hi]) for c in layout.EVENT_VALUE_COLUMNS))
            pageviews.append(dict(page_id=page_map[pv["page_id"]], snapshot_id=snap_map[pv["snapshot_id"]],
                                  start_ms=pv["start_ms"], end_ms=pv["end_ms"], load_ms=pv["load_ms"],
                                  events=events))
        row = {k: v for k, v in s.items() if k != "day"}
        for key in ("entry_page_id", "exit_page_id"):
            if row[key] is not None:
                row[key] = page_map.get(row[key], row[key])
        writer.add_session(row, pageviews)
    return len(sessions)

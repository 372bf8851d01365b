"""A large dataset built by replicating a generated one (``hindsight demo --dataset DIR
--sessions N --replicate-from SMALLER``), for benchmarks at a million sessions.

Simulating visitors costs about 3 ms a session per core, so a fresh 1M-session demo takes most
of an hour on two cores. Replication reads the source's day partitions and writes each day once
with ``copies`` copies of its sessions under new session and pageview ids (copy ``k`` adds
``k * S`` to session ids, ``S`` the source's largest session id, and the matching amount to
pageview ids: for a demo dataset pageview ``session_id * 2**16 + seq`` stays so), visitor ids
suffixed ``~k``; days, pages, screenshots, elements and strings stay the source's. Everything
is done with pyarrow / numpy over whole columns (no Python per row), one worker process per
day partition. The output is in the current layout whatever the source's version (version-1
events get their ``n`` column and kind row groups), and its ``meta.json`` says it is replicated
(``capture_meta``: ``replicated_from``, ``replica_copies``, ``demo_sessions``).
"""

from __future__ import annotations

import math
import os
import posixpath
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hindsight.dataset import layout
from hindsight.dataset.store import PartWriter, filesystem, open_dataset, write_meta
from hindsight.store.errors import CaptureError

#: Most rows of one kind in one events row group (a session's replay reads one per kind).
KIND_ROW_GROUP = 65_536


def _offsets(src) -> tuple[int, int, bool]:
    """(session id step, pageview id step, demo ids) of a source dataset."""
    sids = src.table("sessions", columns=["session_id"]).column("session_id")
    pvs = src.table("pageviews", columns=["pageview_id", "session_id"])
    s_step = int(pc.max(sids).as_py() or 0) + 1
    demo = bool(pvs.num_rows) and bool(pc.all(pc.equal(
        pc.shift_right(pvs.column("pageview_id"), 16), pvs.column("session_id"))).as_py())
    p_step = s_step << 16 if demo else int(pc.max(pvs.column("pageview_id")).as_py() or 0) + 1
    return s_step, p_step, demo


def _events_v2(src, day: str) -> dict[int, pa.Table]:
    """The source day's events by kind, each sorted by (pageview_id, n), with ``n``."""
    from hindsight.dataset.parts import kind_row_groups

    t = src.table("events", filter=pc.field("day") == day)
    if "day" in t.column_names:
        t = t.drop_columns(["day"])
    if src.version < 2:
        cols = {name: t.column(name).to_numpy() for name in layout.EVENTS_SCHEMA_V1.names}
        groups = kind_row_groups(cols)
    else:
        groups = [t.sort_by([("kind", "ascending"), ("pageview_id", "ascending"), ("n", "ascending")])]
    out: dict[int, list[pa.Table]] = {}
    for g in groups:
        kinds = g.column("kind").to_numpy()
        for k in np.unique(kinds):
            out.setdefault(int(k), []).append(g.filter(pa.array(kinds == k)))
    return {k: pa.concat_tables(v).sort_by([("pageview_id", "ascending"), ("n", "ascending")])
            for k, v in out.items()}


def _shift(table: pa.Table, column: str, by: int) -> pa.Table:
    i = table.schema.get_field_index(column)
    return table.set_column(i, column, pc.add(table.column(column), pa.scalar(by, pa.int64())))


def _replicate_day(url: str, source: str, day: str, copies: int, last_max_sid: int | None,
                   s_step: int, p_step: int, writer: str) -> tuple[int, int]:
    """Write one day: ``copies`` copies of the source day (the last one only of sessions with id
    <= ``last_max_sid`` when given); returns (sessions, events) written."""
    src = open_dataset(source)
    fs, root = filesystem(url)
    on_day = pc.field("day") == day
    sessions = src.table("sessions", filter=on_day).drop_columns(["day"]).sort_by("session_id")
    pageviews = src.table("pageviews", filter=on_day).drop_columns(["day"]).sort_by("pageview_id")
    events = _events_v2(src, day)
    name = layout.part_name(writer, 0)
    parts = {t: PartWriter(fs, posixpath.join(root, t, f"day={day}"), name, layout.SCHEMAS[t])
             for t in layout.DAY_TABLES}
    n_sessions = n_events = 0
    try:
        copy_keep = []
        for k in range(copies):
            keep_sid = last_max_sid if (k == copies - 1 and last_max_sid is not None) else None
            copy_keep.append(keep_sid)
        # sessions and pageviews: copy after copy (ids grow with k: stays sorted), one row group
        s_copies, pv_copies = [], []
        for k, keep_sid in enumerate(copy_keep):
            s = sessions if keep_sid is None else sessions.filter(pc.field("session_id") <= keep_sid)
            pv = pageviews if keep_sid is None else pageviews.filter(pc.field("session_id") <= keep_sid)
            if k:
                s = _shift(s, "session_id", k * s_step)
                vi = s.schema.get_field_index("visitor_id")
                s = s.set_column(vi, "visitor_id", pc.binary_join_element_wise(
                    s.column("visitor_id"), pa.scalar(f"~{k}"), ""))
                pv = _shift(_shift(pv, "session_id", k * s_step), "pageview_id", k * p_step)
            s_copies.append(s)
            pv_copies.append(pv)
            n_sessions += s.num_rows
        parts["sessions"].write(pa.concat_tables(s_copies))
        parts["pageviews"].write(pa.concat_tables(pv_copies))
        # events: kind after kind, copy after copy, in row groups of at most KIND_ROW_GROUP rows
        for kind in sorted(events):
            ev = events[kind]
            pending: list[pa.Table] = []
            size = 0
            for k, keep_sid in enumerate(copy_keep):
                e = ev if keep_sid is None else ev.filter(pc.field("session_id") <= keep_sid)
                if k:
                    e = _shift(_shift(e, "session_id", k * s_step), "pageview_id", k * p_step)
                pending.append(e)
                size += e.num_rows
                n_events += e.num_rows
                while size >= KIND_ROW_GROUP:
                    block = pa.concat_tables(pending)
                    parts["events"].write(block.slice(0, KIND_ROW_GROUP))
                    rest = block.slice(KIND_ROW_GROUP)
                    pending, size = [rest], rest.num_rows
            if size:
                parts["events"].write(pa.concat_tables(pending))
        for t in ("events", "pageviews", "sessions"):   # sessions last, as SessionParts
            parts[t].close()
    except BaseException:
        for p in parts.values():
            p.abort()
        raise
    return n_sessions, n_events


def replicate_dataset(out: str, sessions: int, source: str, workers: int | None = None,
                      overwrite: bool = False) -> dict:
    """Write at ``out`` a dataset of ``sessions`` sessions made of copies of ``source``'s."""
    from hindsight import __version__
    from hindsight.dataset.export import _check_out

    t0 = time.perf_counter()
    src = open_dataset(source)
    fs, root = filesystem(out)
    src_fs, src_root = filesystem(source)
    if posixpath.abspath(root) == posixpath.abspath(src_root):
        raise CaptureError(out, "is the source dataset: write the replica elsewhere")
    _check_out(fs, root, out, overwrite)
    fs.makedirs(root, exist_ok=True)
    sids = np.sort(src.table("sessions", columns=["session_id"]).column("session_id").to_numpy())
    if not sids.size:
        raise CaptureError(source, "has no sessions to replicate")
    copies = math.ceil(sessions / sids.size)
    rest = sessions - (copies - 1) * sids.size
    last_max_sid = None if rest == sids.size else int(sids[rest - 1])
    s_step, p_step, _ = _offsets(src)
    # the catalog, images and ground truth: copied (planted rows once per copy, ids shifted)
    for table in ("pages", "snapshots", "elements", "strings"):
        for i, path in enumerate(src.files(table)):
            fs.makedirs(posixpath.join(root, table), exist_ok=True)
            with src_fs.open(path, "rb") as f:
                data = f.read()
            with fs.open(posixpath.join(root, table, layout.part_name("replica-catalog", i)), "wb") as f:
                f.write(data)
    try:
        images = src_fs.ls(posixpath.join(src_root, layout.IMAGES_DIR), detail=False)
    except FileNotFoundError:
        images = []
    if images:
        fs.makedirs(posixpath.join(root, layout.IMAGES_DIR), exist_ok=True)
    for path in images:
        with src_fs.open(path, "rb") as f:
            data = f.read()
        with fs.open(posixpath.join(root, layout.IMAGES_DIR, posixpath.basename(path)), "wb") as f:
            f.write(data)
    planted = src.table("planted")
    if planted.num_rows:
        if "day" in planted.column_names:
            planted = planted.drop_columns(["day"])
        for k in range(copies):
            p = planted
            if k == copies - 1 and last_max_sid is not None:
                p = p.filter(pc.field("session_id") <= last_max_sid)
            if k:
                p = _shift(p, "session_id", k * s_step)
            part = PartWriter(fs, posixpath.join(root, "planted"), layout.part_name("replica-planted", k),
                              layout.PLANTED_SCHEMA)
            part.write(p)
            part.close()
    days = _days(src)
    workers = workers or min(os.cpu_count() or 1, 4)
    jobs = [(out, source, day, copies, last_max_sid, s_step, p_step, f"replica-{n:04d}")
            for n, day in enumerate(days)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_replicate_day, *zip(*jobs)))
    else:
        results = [_replicate_day(*job) for job in jobs]
    cm = dict(src.capture_meta())
    cm.update(replicated_from=str(source), replica_copies=str(copies), demo_sessions=str(sessions))
    meta = layout.meta_document(src.masking, f"hindsight {__version__} demo --replicate-from", cm)
    write_meta(fs, root, meta)
    return {"path": out, "sessions": sum(r[0] for r in results), "events": sum(r[1] for r in results),
            "copies": copies, "workers": workers, "seconds": round(time.perf_counter() - t0, 3)}


def _days(src) -> list[str]:
    from hindsight.engine.reader import list_parts

    return sorted(list_parts(src).days)

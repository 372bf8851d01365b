"""The dataset collector's writer (runs in the collector's writer process or thread).

Finished sessions are written, by the same code as the capture collector (``parse_session``,
``SessionWriter``), into a *staging* capture beside the spool. ``flush`` then turns the
staging capture into part files of this collector instance (ids renumbered: sessions and
pageviews in the instance's own id range, pages, snapshots and strings by a hash of their
content) and renames them into place; the sessions part files list, in their footer, the
spool instances they hold. Only then does the collector release those spool records, so an
acknowledged batch is always in the spool or in a renamed part file (a crash before the
rename leaves the spool to be replayed; after it, the footers say what is done).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from hindsight.dataset import layout
from hindsight.dataset.parts import TAGS_KEY, SessionParts
from hindsight.dataset.store import filesystem, new_writer_id, write_image, write_table

log = logging.getLogger("hindsight.collector")

#: Session and pageview ids of a collector instance: ``range_base(name) + n``, n < 2**ID_BITS.
ID_BITS = 40
STAGING = "staging.sqlite"


def range_prefix(name: str) -> int:
    """The id range number of collector instance ``name`` (20 bits of a hash of the name)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % (1 << 20) + 1


def range_base(name: str) -> int:
    return range_prefix(name) << ID_BITS


def writer_prefix(name: str) -> str:
    """Start of this instance's part names (``part-c<range>-<uuid>-<n>.parquet``)."""
    return f"c{range_prefix(name):05x}"


def content_id(*parts, bits: int = 62) -> int:
    """A positive id from a hash of ``parts`` (so two writers of the same content agree)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return int.from_bytes(h.digest()[:8], "big") % ((1 << bits) - 1) + 1


def string_id(text: str) -> int:
    """Strings are referred to by events' int32 ``value``: 31 bits."""
    return content_id(text, bits=31)


class _State(threading.local):
    def __init__(self):
        self.key = None          # (dataset, name, state_dir, render)
        self.writer = None       # (CaptureWriter, SessionWriter) of the staging capture
        self.instances: dict[int, str] = {}   # staging session id -> spool instance
        self.next_ids: tuple[int, int] | None = None
        self.catalog: set[tuple[str, int]] = set()   # (table, id) written by this process
        self.writer_id = None
        self.next_part = 0
        self.bytes = 0


_state = _State()


def _staging_path(job: dict) -> Path:
    return Path(job["state_dir"]) / STAGING


def _open(job: dict):
    from hindsight.importers.session_writer import SessionWriter
    from hindsight.store.writer import CaptureWriter

    key = (job["dataset"], job["name"], job["state_dir"], job["render"])
    if _state.key != key:
        _state.key = key
        _state.writer = None
        _state.instances = {}
        _state.next_ids = None
        _state.catalog = set()
        _state.writer_id = f"{writer_prefix(job['name'])}-{new_writer_id('x')[2:]}"
        _state.next_part = 0
    if _state.writer is None:
        path = _staging_path(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        # a staging capture left by a crash holds nothing the spool does not: start afresh
        writer = CaptureWriter.create(path, masking="lengths-only" if job["mask"] else "none", overwrite=True,
                                      extra_meta={"source": "rrweb collector"})
        _state.writer = (writer, SessionWriter(writer, render=job["render"]))
        _state.instances = {}
    return _state.writer


def write_session(job: dict) -> dict:
    """Write one session into the staging capture; returns its summary, or ``{"error": ...}``."""
    from hindsight.importers.collector_worker import read_events
    from hindsight.importers.rrweb import parse_session
    from hindsight.store.errors import CaptureError

    key, inst = job["key"], job["instance"]
    base = {"key": key, "instance": inst, "reason": job["reason"]}
    try:
        parsed = parse_session(read_events(job["refs"]), f"session {key}", mask=job["mask"],
                               fmt="rrweb-collector", external_id=key)
    except CaptureError as exc:
        return {**base, "error": str(exc)}
    writer, sw = _open(job)
    before = (sw.report.pageviews, sw.report.events, sw.report.rrweb_events)
    try:
        sid = sw.write(parsed)
    except CaptureError as exc:
        return {**base, "error": str(exc)}
    _state.instances[int(sid)] = inst
    r = sw.report
    return {**base, "session_id": int(sid), "pageviews": r.pageviews - before[0], "events": r.events - before[1],
            "rrweb_events": r.rrweb_events - before[2], "staged": len(_state.instances)}


def staged() -> int:
    """Sessions in the staging capture (not yet in part files)."""
    return len(_state.instances)


def _next_ids(fs, root: str, name: str) -> tuple[int, int]:
    """The next free (session id, pageview id) of instance ``name`` (after its part files)."""
    from hindsight.dataset.store import Dataset

    base = range_base(name)
    ds = Dataset(root, fs, root, {})
    out = []
    for table, col in (("sessions", "session_id"), ("pageviews", "pageview_id")):
        t = ds.table(table, columns=[col], filter=(pads.field(col) >= base) & (pads.field(col) < base + (1 << ID_BITS)))
        out.append(int(pc.max(t.column(col)).as_py()) + 1 if t.num_rows else base + 1)
    return out[0], out[1]


def flush(job: dict) -> list[str]:
    """Turn the staging capture into renamed part files; returns the spool instances written."""
    from hindsight.dataset.export import session_rows
    from hindsight.dataset.extract import STRING_VALUE_KINDS
    from hindsight.store.reader import open_capture

    if _state.writer is None or _state.key is None:
        return []
    writer, sw = _state.writer
    _state.writer = None
    try:
        sw.close()
    finally:
        path = writer.close()
    instances, _state.instances = _state.instances, {}
    if not instances:
        os.unlink(path)
        return []
    fs, root = filesystem(job["dataset"])
    if _state.next_ids is None:
        _state.next_ids = _next_ids(fs, root, job["name"])
    next_sid, next_pv = _state.next_ids
    parts = SessionParts(fs, root, _state.writer_id, first_part=_state.next_part)
    try:
        with open_capture(path) as cap:
            page_map, snap_map, strings = _write_catalog(fs, root, cap)
            for sid in sorted(instances):
                s, pvs, cols = session_rows(cap, sid)
                new_sid, next_sid = next_sid, next_sid + 1
                pv_map = {}
                for pv in pvs:
                    pv_map[pv["pageview_id"]], next_pv = next_pv, next_pv + 1
                    pv.update(pageview_id=pv_map[pv["pageview_id"]], session_id=new_sid,
                              page_id=page_map[pv["page_id"]], snapshot_id=snap_map[pv["snapshot_id"]])
                s["session_id"] = new_sid
                for k in ("entry_page_id", "exit_page_id"):
                    if s[k] is not None:
                        s[k] = page_map[s[k]]
                n = len(cols["t"])
                cols["session_id"] = np.full(n, new_sid, np.int64)
                if n:
                    cols["pageview_id"] = np.array([pv_map[i] for i in cols["pageview_id"].tolist()], np.int64)
                    cols["snapshot_id"] = np.array([snap_map[i] for i in cols["snapshot_id"].tolist()], np.int64)
                    is_str = np.isin(cols["kind"], STRING_VALUE_KINDS)
                    if is_str.any():
                        value = cols["value"].copy()
                        value[is_str] = [strings.get(v, v) for v in value[is_str].tolist()]
                        cols["value"] = value
                parts.add(s, pvs, cols, tag=instances[sid])
        parts.close_parts()
    except BaseException:
        parts.abort()
        _state.next_ids = None   # re-read from the part files next time
        _state.next_part = parts.next_part
        raise
    _state.next_ids = (next_sid, next_pv)
    _state.next_part = parts.next_part
    os.unlink(path)
    return [instances[sid] for sid in sorted(instances)]


def _write_catalog(fs, root: str, cap) -> tuple[dict, dict, dict]:
    """Pages, snapshots (images), elements and strings of the staging capture under content ids;
    writes the ones this process has not written yet. Returns the id maps."""
    pages = cap.pages()
    page_map = {p.page_id: content_id("page", p.url) for p in pages}
    new_pages = [p for p in pages if ("pages", page_map[p.page_id]) not in _state.catalog]
    strings = cap.strings()
    string_map = {k: string_id(v) for k, v in strings.items()}
    new_strings = sorted((string_map[k], v) for k, v in strings.items()
                         if ("strings", string_map[k]) not in _state.catalog)
    snap_map: dict[int, int] = {}
    snap_rows, el_rows = [], {f: [] for f in layout.ELEMENTS_SCHEMA.names}
    for s in cap.snapshots():
        image = cap.snapshot_image(s.snapshot_id)
        emap = cap.elements(s.snapshot_id)
        els = [emap.selector, emap.tag, emap.role, emap.label, emap.boxes.tolist(), emap.clickable.tolist(),
               emap.field, emap.form, emap.sensitive.tolist(), emap.href]
        new_id = content_id("snapshot", page_map[s.page_id], s.device, s.width, s.height, s.scale,
                            hashlib.sha256(image or b"").hexdigest(), els)
        snap_map[s.snapshot_id] = new_id
        if ("snapshots", new_id) in _state.catalog:
            continue
        rel = None
        if image is not None:
            rel = layout.image_path(new_id)
            write_image(fs, root, rel, image)
        snap_rows.append((new_id, page_map[s.page_id], s.device, s.width, s.height, float(s.scale), rel, "png"))
        n = len(emap)
        el_rows["snapshot_id"].extend([new_id] * n)
        el_rows["idx"].extend(range(n))
        for name in ("selector", "tag", "role", "label", "field", "form", "href"):
            el_rows[name].extend(getattr(emap, name))
        for i, name in enumerate(("x", "y", "w", "h")):
            el_rows[name].extend(emap.boxes[:, i].tolist())
        el_rows["clickable"].extend(emap.clickable.astype(np.int64).tolist())
        el_rows["sensitive"].extend(emap.sensitive.astype(np.int64).tolist())
    wid = _state.writer_id
    n = len(_state.catalog)   # a new part number per flush: names never repeat within a writer
    write_table(fs, root, "pages", pa.table({"page_id": [page_map[p.page_id] for p in new_pages],
                                             "url": [p.url for p in new_pages],
                                             "title": [p.title for p in new_pages]}, schema=layout.PAGES_SCHEMA),
                wid, n)
    write_table(fs, root, "elements", pa.table(el_rows, schema=layout.ELEMENTS_SCHEMA), wid, n)
    if snap_rows:
        write_table(fs, root, "snapshots", pa.table(
            {name: list(col) for name, col in zip(layout.SNAPSHOTS_SCHEMA.names, zip(*snap_rows))},
            schema=layout.SNAPSHOTS_SCHEMA), wid, n)
    if new_strings:
        write_table(fs, root, "strings", pa.table({"string_id": [i for i, _ in new_strings],
                                                   "text": [t for _, t in new_strings]},
                                                  schema=layout.STRINGS_SCHEMA), wid, n)
    _state.catalog.update(("pages", page_map[p.page_id]) for p in new_pages)
    _state.catalog.update(("snapshots", r[0]) for r in snap_rows)
    _state.catalog.update(("strings", i) for i, _ in new_strings)
    _state.catalog.add(("flush", n))
    return page_map, snap_map, string_map


def done_instances(dataset: str, name: str) -> set[str]:
    """Spool instances already in part files of collector instance ``name`` (their footers)."""
    fs, root = filesystem(dataset)
    prefix = f"part-{writer_prefix(name)}-"
    done: set[str] = set()
    folder = posixpath.join(root, "sessions")
    try:
        paths = [p for p in fs.glob(posixpath.join(folder, "day=*", f"{prefix}*.parquet"))]
    except FileNotFoundError:
        return done
    for p in paths:
        with fs.open(p, "rb") as f:
            md = pq.ParquetFile(f).metadata.metadata or {}
        raw = md.get(TAGS_KEY.encode())
        if raw:
            done.update(json.loads(raw))
    return done


def close_writer(abort: bool = False) -> None:
    """Idle: nothing to do (the staging capture stays open until the next flush)."""


def lower_priority() -> None:
    from hindsight.importers.collector_worker import lower_priority as lp

    lp()


def ping() -> int:
    import hindsight.importers.rrweb  # noqa: F401
    import hindsight.importers.session_writer  # noqa: F401

    return os.getpid()

"""``hindsight demo --dataset``: the demo's visitors written straight to a dataset, in parallel.

The catalog (strings, pages, snapshots) is made by the same code as the demo capture
(``hindsight.demo.generate.write_catalog``, into a small temporary capture that is then
exported), so its ids are the same. Each worker process simulates a contiguous range of
visitors (``simulate_session``, the same visitors as ``hindsight demo`` for the same seed;
session ``i + 1`` is visitor ``i``) and writes its own part files per day. Pageview ids are
``session_id * 2**16 + seq`` (unique without coordination between workers).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

from hindsight.dataset import layout
from hindsight.dataset.export import _check_out, write_catalog
from hindsight.dataset.parts import SessionParts
from hindsight.dataset.store import filesystem, write_meta, write_table

PAGEVIEW_ID_SHIFT = 16
_MIN_CHUNK = 2500

#: Session columns the capture writer fills with a default when a session row lacks them.
SESSION_DEFAULTS = {
    "visitor_id": "", "browser": "", "os": "", "country": "", "source": "", "utm_source": "",
    "utm_medium": "", "utm_campaign": "", "referrer": "", "converted": 0, "external_id": "",
}


def complete_session(row: dict, pageviews: list[dict], n_events: int) -> dict:
    """A session row as ``CaptureWriter.add_session`` completes it (defaults, counts, entry and
    exit pages, duration)."""
    out = dict(SESSION_DEFAULTS)
    out.update(row)
    out.setdefault("pageview_count", len(pageviews))
    out.setdefault("event_count", n_events)
    out.setdefault("entry_page_id", int(pageviews[0]["page_id"]) if pageviews else None)
    out.setdefault("exit_page_id", int(pageviews[-1]["page_id"]) if pageviews else None)
    out.setdefault("duration_ms", int(max(pv["end_ms"] for pv in pageviews)) if pageviews else 0)
    out["converted"] = 1 if out["converted"] else 0
    return out


def _simulate_to_parts(url: str, seed: int, start: int, stop: int, ids: dict, writer: str) -> tuple[int, int]:
    """Worker: visitors ``start..stop-1`` into part files of ``writer``; returns (sessions, events)."""
    from hindsight.demo.visitors import simulate_session

    fs, root = filesystem(url)
    # a worker's visitors span every day of the demo: room for a row group per day or so
    parts = SessionParts(fs, root, writer, max_buffered=8 * layout.EVENTS_ROW_GROUP)
    planted: list[tuple] = []
    try:
        for i in range(start, stop):
            s = simulate_session(seed, i)
            sid = i + 1
            device = s.row["device"]
            pv_rows, ev_parts = [], []
            for seq, pv in enumerate(s.pageviews):
                page_id, snap_id = ids[(pv["page"], device)]
                pv_id = (sid << PAGEVIEW_ID_SHIFT) + seq
                ev = pv["events"]
                n = len(ev)
                pv_rows.append(dict(pageview_id=pv_id, session_id=sid, seq=seq, page_id=page_id,
                                    snapshot_id=snap_id, start_ms=int(pv["start_ms"]), end_ms=int(pv["end_ms"]),
                                    load_ms=int(pv["load_ms"]), event_count=n))
                cols = {c: getattr(ev, c) for c in layout.EVENT_VALUE_COLUMNS}
                cols.update(session_id=np.full(n, sid, np.int64), pageview_id=np.full(n, pv_id, np.int64),
                            snapshot_id=np.full(n, snap_id, np.int64))
                ev_parts.append(cols)
            events = {c: np.concatenate([e[c] for e in ev_parts]) for c in layout.EVENTS_SCHEMA_V1.names}
            row = complete_session(dict(s.row, session_id=sid), pv_rows, len(events["t"]))
            parts.add(row, pv_rows, events)
            planted.extend((sid, p.kind, p.t_ms, p.end_ms, p.selector, p.detail) for p in s.planted)
        parts.close_parts()
    except BaseException:
        parts.abort()
        raise
    if planted:
        write_table(fs, root, "planted", pa.table(
            {name: list(col) for name, col in zip(layout.PLANTED_SCHEMA.names, zip(*planted))},
            schema=layout.PLANTED_SCHEMA), writer)
    return parts.sessions_written, parts.events_written


def generate_demo_dataset(out: str, sessions: int, seed: int = 7, workers: int | None = None,
                          overwrite: bool = False) -> dict:
    """Write the demo's ``sessions`` visitors (seed ``seed``) as a dataset at ``out``."""
    from hindsight import __version__
    from hindsight.demo.generate import write_catalog as demo_catalog
    from hindsight.store.reader import open_capture
    from hindsight.store.writer import CaptureWriter

    t0 = time.perf_counter()
    fs, root = filesystem(out)
    _check_out(fs, root, out, overwrite)
    fs.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hindsight-demo-") as tmp:
        cat = Path(tmp) / "catalog.sqlite"
        writer = CaptureWriter.create(cat, creator="hindsight demo",
                                      extra_meta={"demo_seed": str(seed), "demo_sessions": str(sessions)})
        ids = demo_catalog(writer)
        writer.close()
        with open_capture(cat) as cap:
            write_catalog(fs, root, cap, "demo-catalog")
            meta = layout.meta_document(cap.meta.get("masking", ""), f"hindsight {__version__} demo", cap.meta)
    workers = workers if workers is not None else (min(os.cpu_count() or 1, 4) if sessions > _MIN_CHUNK else 1)
    size = max(_MIN_CHUNK, math.ceil(sessions / max(workers, 1)))
    chunks = [(a, min(a + size, sessions)) for a in range(0, sessions, size)]
    jobs = [(out, seed, a, b, ids, f"demo-{seed}-{n:04d}") for n, (a, b) in enumerate(chunks)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_simulate_to_parts, *zip(*jobs)))
    else:
        results = [_simulate_to_parts(*job) for job in jobs]
    write_meta(fs, root, meta)
    return {"path": out, "sessions": sum(r[0] for r in results), "events": sum(r[1] for r in results),
            "workers": workers, "seconds": round(time.perf_counter() - t0, 3)}

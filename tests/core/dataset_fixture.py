"""Test-only: write a capture into the shared Parquet dataset layout with pyarrow directly.

The shipped writer is ``hindsight export dataset`` (the ``dataset`` module); this helper only
lets the engine's tests build the layout (README "Capture datasets") from a capture, split
into several day partitions and several part files per day so combines are exercised.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hindsight.store.records import PAGEVIEW_COLUMNS, SESSION_COLUMNS


def write_dataset(capture, out: Path, days: int = 3, parts_per_day: int = 2) -> Path:
    """Export ``capture`` to ``out``; sessions are spread over ``days`` fake day partitions
    (by session id) so one analysis runs as several tasks."""
    out.mkdir(parents=True)
    (out / "meta.json").write_text(json.dumps({"format": "hindsight-dataset", "version": 1, "masking": "",
                                              "creator": "tests"}))

    def write(table: str, cols: dict, sub: str = "", part: int = 0):
        folder = out / table / sub if sub else out / table
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(cols), folder / f"part-{part:05d}.parquet", row_group_size=20_000)

    rows = capture._query("SELECT page_id, url, title FROM pages")
    write("pages", {"page_id": [r[0] for r in rows], "url": [r[1] for r in rows], "title": [r[2] for r in rows]})
    (out / "images").mkdir()
    rows = capture._query("SELECT snapshot_id, page_id, device, width, height, scale, image FROM snapshots")
    for r in rows:
        (out / "images" / f"{r[0]}.png").write_bytes(r[6])
    write("snapshots", {"snapshot_id": [r[0] for r in rows], "page_id": [r[1] for r in rows],
                        "device": [r[2] for r in rows], "width": [r[3] for r in rows],
                        "height": [r[4] for r in rows], "scale": [float(r[5]) for r in rows],
                        "image": [f"images/{r[0]}.png" for r in rows]})
    names = ("snapshot_id", "idx", "selector", "tag", "role", "label", "x", "y", "w", "h", "clickable", "field",
             "form", "sensitive", "href")
    rows = capture._query(f"SELECT {', '.join(names)} FROM elements")
    write("elements", {n: [r[i] for r in rows] for i, n in enumerate(names)})
    rows = capture._query("SELECT string_id, text FROM strings")
    write("strings", {"string_id": [r[0] for r in rows], "text": [r[1] for r in rows]})

    srows = capture._query(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions ORDER BY session_id")
    sids = np.array([r[0] for r in srows], dtype=np.int64)
    day_of = {int(s): f"2026-01-{1 + i * days // max(1, len(sids)):02d}" for i, s in enumerate(sids.tolist())}
    prow = capture._query(f"SELECT {', '.join(PAGEVIEW_COLUMNS)}, events FROM pageviews ORDER BY pageview_id")
    pvc = capture.pageview_columns(prow)
    events, source = capture.decode_events([r[-1] for r in prow], pvc)
    for day in sorted(set(day_of.values())):
        s_rows = [r for r in srows if day_of[r[0]] == day]
        for part in range(parts_per_day):
            chunk = s_rows[part::parts_per_day]
            cols = {n: [r[i] for r in chunk] for i, n in enumerate(SESSION_COLUMNS)}
            cols["converted"] = pa.array(cols["converted"], pa.int64())
            for n in ("entry_page_id", "exit_page_id"):
                cols[n] = pa.array(cols[n], pa.int64())
            write("sessions", cols, f"day={day}", part)
            keep_s = np.array([r[0] for r in chunk], dtype=np.int64)
            pv_m = np.isin(pvc["session_id"], keep_s)
            write("pageviews", {n: pvc[n][pv_m] for n in PAGEVIEW_COLUMNS}, f"day={day}", part)
            ev_m = pv_m[source]
            src = source[ev_m]
            write("events", {"snapshot_id": pvc["snapshot_id"][src], "session_id": pvc["session_id"][src],
                             "pageview_id": pvc["pageview_id"][src], "t": events.t[ev_m],
                             "kind": events.kind[ev_m], "x": events.x[ev_m], "y": events.y[ev_m],
                             "target": events.target[ev_m], "value": events.value[ev_m]}, f"day={day}", part)
    return out

"""Capture format 2 benchmarks: each figure a ratio against a baseline measured side by side
(median of interleaved rounds).

- ``format2.read_clicks``: 1M clicks of one snapshot (x, y and session columns) from the
  capture into numpy, against ``np.load`` of the same three columns from ``.npy`` files.
- ``format2.first_click_map``: a fresh process opens the capture and computes the click map
  of the landing page (desktop), then the same map after a filter change; against a fresh
  process running DuckDB over a Parquet file of the same clicks to the same grid. Both
  sides bin the clicks into the same cells and blur them with the same ``blur``; ours also
  counts the sample (sessions, pageviews) and the coverage (matched / unmatched clicks).
  "first" is from after the imports to the result; "process" is the whole child process
  (interpreter start, imports, result) as the parent measures it. Peak RSS of each process
  (``VmHWM`` in the child).
- ``format2.signals_memory``: every signal of the capture in a fresh process, a batch of
  sessions at a time against all at once: time and peak RSS.
- ``format2.write``: ``CaptureWriter`` (BLOBs and chunks) events/s against the floor of
  packing the same records with ``tobytes`` and one ``executemany`` of BLOB rows; and
  against that floor writing the same bytes as the writer does (the BLOBs and, as BLOB rows
  too, the chunk columns): what is left once the second copy of every event is paid.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hindsight.store import CaptureWriter, EventColumns, open_capture
from hindsight.store.kinds import EventKind as K

ROUNDS = 5


def _median(xs) -> float:
    return float(statistics.median(xs))


def _click_capture(path: Path, clicks: int = 1_000_000, per_pv: int = 20) -> None:
    """A capture whose one snapshot holds ``clicks`` clicks (and as many cursor moves)."""
    rng = np.random.default_rng(1)
    n_pv = clicks // per_pv
    w = CaptureWriter.create(path, overwrite=True)
    page = w.add_page("https://bench.local/")
    snap = w.add_snapshot(page, "desktop", 1440, 5000, None)
    t = np.arange(2 * per_pv, dtype=np.uint32) * 50
    kind = np.tile(np.array([K.MOVE, K.CLICK], dtype=np.uint8), per_pv)
    for _ in range(n_pv):
        ev = EventColumns.from_arrays(t, kind, rng.integers(0, 1440, 2 * per_pv), rng.integers(0, 5000, 2 * per_pv))
        w.add_session({"start_ms": 1_700_000_000_000, "device": "desktop", "viewport_w": 1440, "viewport_h": 900},
                      [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 60_000, "events": ev}])
    w.close()


def bench_read_clicks(ctx) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clicks.sqlite"
        t0 = time.perf_counter()
        _click_capture(path)
        gen = time.perf_counter() - t0
        with open_capture(path) as cap:
            snap = cap.snapshots()[0].snapshot_id
            ev, sids, _ = cap.snapshot_events(snap, (K.CLICK,), columns=("x", "y"), with_pageviews=False)
            files = {name: Path(tmp) / f"{name}.npy" for name in ("x", "y", "session_id")}
            np.save(files["x"], np.ascontiguousarray(ev.x))
            np.save(files["y"], np.ascontiguousarray(ev.y))
            np.save(files["session_id"], sids)
            n = len(ev)
            del ev, sids
            ours, base, ours_cpu, base_cpu = [], [], [], []
            for _ in range(3 * ROUNDS):   # ~50 ms a round: more rounds steady the medians
                t, c = time.perf_counter(), time.process_time()
                ev, sids, _ = cap.snapshot_events(snap, (K.CLICK,), columns=("x", "y"), with_pageviews=False)
                ours.append(time.perf_counter() - t)
                ours_cpu.append(time.process_time() - c)
                del ev, sids
                t, c = time.perf_counter(), time.process_time()
                arrays = [np.load(f) for f in files.values()]
                base.append(time.perf_counter() - t)
                base_cpu.append(time.process_time() - c)
                del arrays
            chunks = cap._query("SELECT count(*) FROM event_chunks WHERE snapshot_id = ? AND kind = ?",
                                (snap, int(K.CLICK)))[0][0]
            page_size = cap._query("PRAGMA page_size")[0][0]
            cap.tables.discard("event_chunks")   # the format-1 path: every BLOB of the snapshot
            t = time.perf_counter()
            cap.snapshot_events(snap, (K.CLICK,))
            blob = time.perf_counter() - t
        size_mb = path.stat().st_size / 2**20
    a, b = _median(ours), _median(base)
    return {"clicks": n, "chunks": chunks, "page_size": page_size,
            "capture_write_seconds": round(gen, 2), "file_mb": round(size_mb, 1),
            "chunks_seconds": round(a, 4), "npy_seconds": round(b, 4), "ratio_vs_npy": round(a / b, 2),
            "chunks_cpu_seconds": round(_median(ours_cpu), 4), "npy_cpu_seconds": round(_median(base_cpu), 4),
            "format1_blob_seconds": round(blob, 3)}


bench_read_clicks.needs_capture = False

_PEAK = r"""
import resource
def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss can carry the parent's RSS over fork + exec)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_OURS = _PEAK + r"""
import json, resource, sys, time
t0 = time.perf_counter()
from hindsight.store import open_capture
from hindsight.store.filters import SessionFilter
from hindsight.analytics.heatmap import HeatmapEngine
ti, ci = time.perf_counter(), time.process_time()
cap = open_capture(sys.argv[1])
engine = HeatmapEngine(cap)
res = engine.compute(int(sys.argv[2]), "click")
t1, c1 = time.perf_counter(), time.process_time()
res2 = engine.compute(int(sys.argv[2]), "click", SessionFilter(source=(sys.argv[3],)))
t2 = time.perf_counter()
print(json.dumps({"first": t1 - ti, "imports": ti - t0, "cpu": c1 - ci, "filter": t2 - t1,
                  "points": float(res.counts.sum()),
                  "filtered_points": float(res2.counts.sum()),
                  "rss_mb": peak_mb()}))
"""

_DUCK = _PEAK + r"""
import json, resource, sys, time
t0 = time.perf_counter()
import duckdb, numpy as np
from hindsight.analytics.heatmap_grid import blur
ti, ci = time.perf_counter(), time.process_time()
path, cell, gw, gh, sigma = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
con = duckdb.connect()
c, n = con.execute(
    f"SELECT (y // {cell}) * {gw} + (x // {cell}) AS c, count(*) FROM read_parquet('{path}') "
    f"WHERE x >= 0 AND y >= 0 AND x < {gw * cell} AND y < {gh * cell} GROUP BY c").fetchnumpy().values()
counts = np.bincount(c.astype(np.int64), weights=n, minlength=gw * gh).reshape(gh, gw).astype(np.float32)
grid = blur(counts, sigma)
t1, c1 = time.perf_counter(), time.process_time()
print(json.dumps({"first": t1 - ti, "imports": ti - t0, "cpu": c1 - ci, "points": float(counts.sum()),
                  "rss_mb": peak_mb()}))
"""


def _child(code: str, *args) -> dict:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process"] = time.perf_counter() - t
    return res


def bench_first_click_map(ctx) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hindsight.analytics.heatmap import SIGMA_PX, HeatmapEngine, find_snapshot

    with open_capture(ctx.path) as cap:
        url = cap.pages()[0].url
        snap = find_snapshot(cap, url, "desktop")
        engine = HeatmapEngine(cap)
        cell = engine.cell_px
        ev, sids, _ = cap.snapshot_events(snap.snapshot_id, (K.CLICK, K.TAP), columns=("x", "y"))
        source = cap.distinct_values("source")[0]
        shape = engine.compute(snap.snapshot_id, "click").counts.shape
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "clicks.parquet"
        pq.write_table(pa.table({"session_id": sids, "x": np.asarray(ev.x), "y": np.asarray(ev.y)}), parquet)
        del ev, sids
        ours, duck = [], []
        for _ in range(3):
            ours.append(_child(_OURS, ctx.path, snap.snapshot_id, source))
            duck.append(_child(_DUCK, parquet, cell, shape[1], shape[0], SIGMA_PX["click"] / cell))
    a, b = _median([r["first"] for r in ours]), _median([r["first"] for r in duck])
    f = _median([r["filter"] for r in ours])
    assert ours[0]["points"] == duck[0]["points"], (ours[0], duck[0])
    return {"sessions": ctx.sessions, "clicks": int(ours[0]["points"]),
            "first_click_map_seconds": round(a, 3), "duckdb_parquet_seconds": round(b, 3),
            "ratio_vs_duckdb": round(a / b, 2),
            "first_click_map_cpu_seconds": round(_median([r["cpu"] for r in ours]), 3),
            "duckdb_cpu_seconds": round(_median([r["cpu"] for r in duck]), 3),
            "imports_seconds": round(_median([r["imports"] for r in ours]), 3),
            "duckdb_imports_seconds": round(_median([r["imports"] for r in duck]), 3),
            "process_seconds": round(_median([r["process"] for r in ours]), 3),
            "duckdb_process_seconds": round(_median([r["process"] for r in duck]), 3),
            "peak_rss_mb": round(max(r["rss_mb"] for r in ours)),
            "duckdb_peak_rss_mb": round(max(r["rss_mb"] for r in duck)),
            "filter_change_seconds": round(f, 3), "filter_change_ratio_vs_first": round(f / a, 2)}


def bench_write_chunks(ctx) -> dict:
    """``n`` sessions of one 100-event pageview through ``CaptureWriter`` (``add_session`` each,
    then ``close``), beside the floors writing the same bytes with ``pack`` + ``executemany``; and
    the writer again with its helper thread off (``writer.THREADED``), all in the same rounds."""
    from hindsight.store import writer as writer_mod

    n_pv, per = max(1000, min(ctx.sessions, 50_000)), 100
    rng = np.random.default_rng(0)
    ev = EventColumns.from_arrays(np.sort(rng.integers(0, 60_000, per)), rng.integers(0, 8, per),
                                  rng.integers(0, 1440, per), rng.integers(0, 5000, per))
    session = {"start_ms": 0, "device": "desktop", "viewport_w": 1440, "viewport_h": 900}

    def write(path: Path) -> tuple[float, float]:
        t, c = time.perf_counter(), time.process_time()
        w = CaptureWriter.create(path)
        page = w.add_page("https://bench.local/")
        snap = w.add_snapshot(page, "desktop", 1440, 5000, None)
        pv = [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 60_000, "events": ev}]
        for _ in range(n_pv):
            w.add_session(session, pv)
        w.close()
        return time.perf_counter() - t, time.process_time() - c

    ours, cpu, inline, floor, both = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(3):
            wall, c = write(Path(tmp) / f"w{r}.sqlite")
            ours.append(wall)
            cpu.append(c)
            writer_mod.THREADED = False
            try:
                inline.append(write(Path(tmp) / f"i{r}.sqlite")[0])
            finally:
                writer_mod.THREADED = True
            floor.append(_floor(Path(tmp) / f"f{r}.sqlite", ev, n_pv, chunks=False))
            both.append(_floor(Path(tmp) / f"b{r}.sqlite", ev, n_pv, chunks=True))
            for f in Path(tmp).iterdir():
                f.unlink()
    a, b, c = _median(ours), _median(floor), _median(both)
    n = n_pv * per
    return {"events": n, "writer_events_per_s": round(n / a), "writer_cpu_seconds": round(_median(cpu), 2),
            "writer_inline_events_per_s": round(n / _median(inline)),
            "floor_events_per_s": round(n / b),
            "ratio_vs_floor": round(a / b, 2), "floor_same_bytes_events_per_s": round(n / c),
            "ratio_vs_floor_same_bytes": round(a / c, 2)}


def _floor(path: Path, ev: EventColumns, n_pv: int, chunks: bool) -> float:
    """Seconds to write ``n_pv`` pageviews of ``ev`` as BLOB rows (``pack`` + ``executemany``)
    and, with ``chunks``, the same events again as the writer's chunk columns, as BLOB rows."""
    import sqlite3

    from hindsight.store.chunks import CHUNK_ROWS, RAW
    from hindsight.store.schema import PAGE_SIZE

    t = time.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(f"PRAGMA page_size={PAGE_SIZE}")
    con.execute("CREATE TABLE pageviews (pageview_id INTEGER PRIMARY KEY, n INTEGER, events BLOB)")
    con.execute("CREATE TABLE chunks (n INTEGER, x BLOB, y BLOB, t BLOB, target BLOB, value BLOB, seq BLOB)")
    con.execute("BEGIN")
    rows = []
    for i in range(n_pv):
        rows.append((i + 1, len(ev), ev.pack()))
        if len(rows) >= 20_000:
            con.executemany("INSERT INTO pageviews VALUES (?, ?, ?)", rows)
            rows = []
    con.executemany("INSERT INTO pageviews VALUES (?, ?, ?)", rows)
    if chunks:
        per = len(ev)
        for a in range(0, n_pv * per, CHUNK_ROWS):
            m = min(CHUNK_ROWS, n_pv * per - a)
            idx = np.arange(a, a + m) % per
            cols = {"x": ev.x, "y": ev.y, "t": ev.t, "target": ev.target, "value": ev.value,
                    "seq": np.arange(per, dtype=np.uint32)}
            con.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (m, *(cols[c][idx].astype(RAW[c]).tobytes() for c in ("x", "y", "t", "target", "value", "seq"))))
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - t


bench_write_chunks.needs_capture = False

_SIGNALS = _PEAK + r"""
import json, sys, time
from hindsight.store import open_capture
from hindsight.analytics import signals
if sys.argv[2] == "whole":
    signals.SIGNAL_BATCH_SESSIONS = 10**12
cap = open_capture(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
table = signals.compute_signals(cap)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "signals": len(table),
                  "rss_mb": peak_mb()}))
"""


def bench_signals_memory(ctx) -> dict:
    """Every signal of the capture in a fresh process: a batch of sessions at a time (what
    ``compute_signals`` does) against all sessions' events at once; time and peak memory."""
    ours, whole = [], []
    for _ in range(2):
        ours.append(_child(_SIGNALS, ctx.path, "batches"))
        whole.append(_child(_SIGNALS, ctx.path, "whole"))
    assert ours[0]["signals"] == whole[0]["signals"]
    return {"sessions": ctx.sessions, "signals": ours[0]["signals"],
            "batched_seconds": round(_median([r["seconds"] for r in ours]), 2),
            "batched_cpu_seconds": round(_median([r["cpu"] for r in ours]), 2),
            "batched_peak_rss_mb": round(max(r["rss_mb"] for r in ours)),
            "whole_seconds": round(_median([r["seconds"] for r in whole]), 2),
            "whole_cpu_seconds": round(_median([r["cpu"] for r in whole]), 2),
            "whole_peak_rss_mb": round(max(r["rss_mb"] for r in whole))}


BENCHMARKS = [
    ("format2.read_clicks", bench_read_clicks),
    ("format2.first_click_map", bench_first_click_map),
    ("format2.write", bench_write_chunks),
    ("format2.signals_memory", bench_signals_memory),
]

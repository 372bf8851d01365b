"""The benchmarks of ``hindsight bench``, all in this package: the store here, and one module per
area (heatmaps, analytics, similar, importers, replay), each with a ``BENCHMARKS`` list.

Each benchmark is a function ``(ctx) -> dict of figures`` listed in ``BENCHMARKS``; ``ctx``
holds the path of a generated capture. Figures are medians of a few runs, in seconds or
events per second, so they can be pasted into the README.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hindsight.store import CaptureWriter, EventColumns, EventKind, open_capture


@dataclass
class BenchContext:
    path: Path
    sessions: int
    generate: dict = field(default_factory=dict)


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    """Median wall time of ``fn`` over ``repeat`` runs, and its last result."""
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bench_write(ctx: BenchContext) -> dict:
    """Raw writer rate: synthetic pageviews of 100 events, one per bench session (10M at 100k)."""
    n_pv, per = max(1000, min(ctx.sessions, 100_000)), 100
    rng = np.random.default_rng(0)
    ev = EventColumns.from_arrays(np.sort(rng.integers(0, 60_000, per)), rng.integers(0, 8, per),
                                  rng.integers(0, 1440, per), rng.integers(0, 5000, per))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        w = CaptureWriter.create(Path(tmp) / "w.sqlite")
        page = w.add_page("https://bench.local/")
        snap = w.add_snapshot(page, "desktop", 1440, 5000, None)
        for _ in range(n_pv):
            w.add_session({"start_ms": 0, "device": "desktop", "viewport_w": 1440, "viewport_h": 900},
                          [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 60_000, "events": ev}])
        w.close()
        dt = time.perf_counter() - t
    return {"write_events": n_pv * per, "write_seconds": round(dt, 3), "write_events_per_s": round(n_pv * per / dt)}


def bench_open(ctx: BenchContext) -> dict:
    def open_and_list():
        with open_capture(ctx.path) as cap:
            return len(cap.session_table()["session_id"])

    dt, n = timed(open_and_list)
    return {"open_and_list_seconds": round(dt, 4), "sessions_listed": n}


def bench_clicks(ctx: BenchContext) -> dict:
    with open_capture(ctx.path) as cap:
        snap = max(cap.snapshots(), key=lambda s: s.snapshot_id if s.device == "desktop" else -1)
        desktop = [s for s in cap.snapshots() if s.device == "desktop"][0]
        scanned = sum(pv.event_count for pv in cap.snapshot_pageviews(desktop.snapshot_id))
        dt, (ev, _, _) = timed(lambda: cap.snapshot_events(desktop.snapshot_id, (EventKind.CLICK,)))
        dt_all, (ev_all, _, _) = timed(lambda: cap.snapshot_events(desktop.snapshot_id))
        del snap
    return {
        "snapshot_events_scanned": scanned,
        "clicks_loaded": len(ev),
        "clicks_seconds": round(dt, 4),
        "clicks_scan_events_per_s": round(scanned / dt),
        "all_events_seconds": round(dt_all, 4),
        "all_events_per_s": round(len(ev_all) / dt_all),
    }


def bench_session(ctx: BenchContext) -> dict:
    with open_capture(ctx.path) as cap:
        table = cap.session_table(order_by="-event_count")
        sid = int(table["session_id"][0])
        dt, (_, ev, _) = timed(lambda: cap.session_events(sid), repeat=9)
    return {"largest_session_events": len(ev), "session_load_seconds": round(dt, 5)}


#: Modules with a ``BENCHMARKS`` list of their own (replay, analytics, importers...).
BENCH_MODULES: list[str] = ["hindsight.benchmarks.heatmaps", "hindsight.benchmarks.analytics",
                            "hindsight.benchmarks.similar", "hindsight.benchmarks.importers",
                            "hindsight.benchmarks.collector", "hindsight.benchmarks.replay",
                            "hindsight.benchmarks.share", "hindsight.benchmarks.anchor",
                            "hindsight.benchmarks.states", "hindsight.benchmarks.format2",
                            "hindsight.benchmarks.app_open", "hindsight.benchmarks.engine",
                            "hindsight.benchmarks.listing", "hindsight.benchmarks.dataset_checks"]

#: (section name, function) of the store; other modules' lists are appended at run time.
BENCHMARKS: list[tuple[str, Callable[[BenchContext], dict]]] = [
    ("store.write", bench_write),
    ("store.open", bench_open),
    ("store.clicks", bench_clicks),
    ("store.session", bench_session),
]


def run(sessions: int = 100_000, path: str | None = None, only: str | None = None,
        report: Callable[[str, dict], None] | None = None) -> dict:
    """Generate (or reuse) a capture of ``sessions`` demo sessions and run every benchmark."""
    from hindsight.demo.generate import generate_demo

    results: dict[str, dict] = {}
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        capture = Path(tmp.name) / f"bench_{sessions}.sqlite"
    else:
        capture = Path(path)
    import importlib

    benchmarks = list(BENCHMARKS)
    for module in BENCH_MODULES:
        benchmarks.extend(importlib.import_module(module).BENCHMARKS)
    benchmarks = [(name, fn) for name, fn in benchmarks if not only or name.startswith(only)]
    try:
        ctx = BenchContext(capture, sessions)
        # benchmarks marked needs_capture = False (e.g. the collector) bring their own data
        if not capture.exists() and any(getattr(fn, "needs_capture", True) for _, fn in benchmarks):
            gen = generate_demo(capture, sessions=sessions)
            results["demo.generate"] = {
                "sessions": gen["sessions"], "events": gen["events"], "seconds": gen["seconds"],
                "events_per_s": round(gen["events"] / gen["seconds"]),
                "file_mb": round(capture.stat().st_size / 2**20, 1),
            }
            if report:
                report("demo.generate", results["demo.generate"])
        for name, fn in benchmarks:
            results[name] = fn(ctx)
            if report:
                report(name, results[name])
    finally:
        if tmp is not None:
            tmp.cleanup()
    return results

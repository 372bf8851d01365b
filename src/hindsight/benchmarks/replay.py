"""``hindsight bench --only replay``: speed of loading, seeking and playing a 100k-event session.

A synthetic 30-minute desktop session (cursor moves, scrolls, clicks, typing, pauses) is
written to a temporary capture; figures are seconds (medians) or frames per second.
Targets: load < 50 ms, seek + frame and frame build < 2 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from hindsight.replay.hesitation import detect_hesitations
from hindsight.replay.inactivity import detect_inactivity
from hindsight.replay.player import Player
from hindsight.replay.timeline import SessionTimeline
from hindsight.store import CaptureWriter, EventColumns, EventKind as K, open_capture

SESSION_EVENTS = 100_000
SESSION_MS = 30 * 60_000
PAGEVIEWS = 4
PAGE_W, PAGE_H, VIEW_H = 1440, 6000, 900


def _elements(rng: np.random.Generator) -> list[dict]:
    els = [dict(selector=f"#section-{i}", tag="section", label=f"Section {i}", x=0, y=i * 600, w=PAGE_W, h=600)
           for i in range(PAGE_H // 600)]
    for i in range(180):
        els.append(dict(selector=f"#el-{i}", tag="a", label=f"Link {i}", x=int(rng.integers(0, 1300)),
                        y=int(rng.integers(0, PAGE_H - 40)), w=120, h=40, clickable=True))
    for i in range(10):
        els.append(dict(selector=f"#form input[name=f{i}]", tag="input", label=f"Field {i}", x=200,
                        y=800 + 60 * i, w=300, h=40, field=f"f{i}", form="form"))
    return els


def synthetic_pageview_events(rng: np.random.Generator, n: int, start: int, end: int,
                              field_base: int) -> EventColumns:
    """``n`` events between ``start`` and ``end`` ms: mostly moves, with scrolls, clicks, typing and pauses."""
    gaps = rng.exponential(1.0, n)
    pauses = rng.random(n) < 0.002  # a few multi-second pauses: hesitations and inactivity
    gaps[pauses] *= rng.uniform(150, 900, pauses.sum())
    t = start + 1000 + np.cumsum(gaps) / gaps.sum() * (end - start - 2000)
    t = np.floor(t).astype(np.int64)
    kind = rng.choice([K.MOVE, K.SCROLL, K.CLICK, K.INPUT, K.FOCUS, K.BLUR, K.MUTATION],
                      size=n, p=[0.80, 0.08, 0.02, 0.06, 0.015, 0.015, 0.01]).astype(np.uint8)
    kind[0], kind[1] = K.RESIZE, K.LOAD
    t[0], t[1] = start, start + 800
    x = np.clip(700 + np.cumsum(rng.normal(0, 15, n)), 0, PAGE_W - 1)
    scroll = np.clip(np.cumsum(rng.normal(0, 60, n)), 0, PAGE_H - VIEW_H)
    y = np.clip(scroll + np.clip(450 + np.cumsum(rng.normal(0, 10, n)), 20, VIEW_H - 20), 0, PAGE_H - 1)
    target = np.full(n, -1, dtype=np.int64)
    field = field_base + rng.integers(0, 10, n)
    typing = np.isin(kind, [K.INPUT, K.FOCUS, K.BLUR])
    target[typing] = field[typing]
    value = np.where(kind == K.INPUT, rng.integers(0, 30, n), 0)
    x = np.where(kind == K.SCROLL, 0, x)
    y = np.where(kind == K.SCROLL, scroll, y)
    x[0], y[0] = PAGE_W, VIEW_H
    return EventColumns.from_arrays(t, kind, x.round(), y.round(), target, value)


def write_synthetic_capture(path: Path, n_events: int = SESSION_EVENTS, seed: int = 0) -> int:
    """Write one ``n_events`` session of ``SESSION_MS`` to ``path``; returns its session id."""
    rng = np.random.default_rng(seed)
    w = CaptureWriter.create(path, overwrite=True)
    page = w.add_page("https://bench.local/replay", "Replay bench")
    els = _elements(rng)
    snap = w.add_snapshot(page, "desktop", PAGE_W, PAGE_H, None, els)
    field_base = len(els) - 10
    per = n_events // PAGEVIEWS
    span = SESSION_MS // PAGEVIEWS
    pvs = []
    for i in range(PAGEVIEWS):
        start, end = i * span, (i + 1) * span
        pvs.append({"page_id": page, "snapshot_id": snap, "start_ms": start, "end_ms": end, "load_ms": 800,
                    "events": synthetic_pageview_events(rng, per, start, end, field_base)})
    sid = w.add_session({"start_ms": 0, "device": "desktop", "viewport_w": PAGE_W, "viewport_h": VIEW_H}, pvs)
    w.close()
    return sid


def _median_s(samples: list[float]) -> float:
    return round(statistics.median(samples), 6)


def bench_replay(ctx) -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replay.sqlite"
        sid = write_synthetic_capture(path)
        with open_capture(path) as cap:
            loads, loads_cpu = [], []
            for _ in range(7):
                t0, c0 = time.perf_counter(), time.process_time()
                tl = SessionTimeline.load(cap, sid)
                loads.append(time.perf_counter() - t0)
                loads_cpu.append(time.process_time() - c0)
            out["session_events"] = len(tl.events)
            out["session_minutes"] = round(tl.duration_ms / 60_000, 1)
            out["load_seconds"] = _median_s(loads)
            # CPU time too: on a busy machine wall time mostly measures waiting for a core.
            out["load_cpu_seconds"] = _median_s(loads_cpu)
            out["load_cold_seconds"] = round(loads[0], 6)
            h, h_cpu = [], []
            for _ in range(7):
                t0, c0 = time.perf_counter(), time.process_time()
                hs = detect_hesitations(tl)
                h.append(time.perf_counter() - t0)
                h_cpu.append(time.process_time() - c0)
            out["hesitations_seconds"] = _median_s(h)
            out["hesitations_cpu_seconds"] = _median_s(h_cpu)
            out["hesitations_found"] = len(hs)
            t0 = time.perf_counter()
            idle = detect_inactivity(tl)
            out["inactivity_seconds"] = round(time.perf_counter() - t0, 6)
            out["inactivity_spans"] = len(idle)
            out["markers"] = len(tl.markers)

            rng = np.random.default_rng(1)
            player = Player(tl)
            seeks = []
            for t in rng.uniform(0, tl.duration_ms, 1000).tolist():
                t0 = time.perf_counter()
                player.seek(t)
                player.frame()
                seeks.append(time.perf_counter() - t0)
            out["seek_frame_median_seconds"] = _median_s(seeks)
            out["seek_frame_p99_seconds"] = round(float(np.percentile(seeks, 99)), 6)

            builds = []
            for t in np.arange(0, tl.duration_ms, tl.duration_ms / 2000).tolist():
                t0 = time.perf_counter()
                tl.frame_at(t)
                builds.append(time.perf_counter() - t0)
            out["frame_build_median_seconds"] = _median_s(builds)
            out["frame_build_max_seconds"] = round(max(builds), 6)

            # Playback as the GUI drives it: 16.7 ms wall ticks at 2x, resuming after each auto-pause.
            player.seek(0)
            player.play()
            frames = pauses = 0
            t0, c0 = time.perf_counter(), time.process_time()
            while player.t_ms < tl.duration_ms:
                if player.advance(16.7) is not None:
                    frames += 1
                if not player.playing:
                    if player.paused_for is None:
                        break
                    pauses += 1
                    player.play()
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            out["playback_frames"] = frames
            out["playback_auto_pauses"] = pauses
            out["playback_frames_per_s"] = round(frames / dt)
            out["playback_frames_per_cpu_s"] = round(frames / max(dc, 1e-9))
        if ctx is not None and getattr(ctx, "path", None) and Path(ctx.path).exists():
            with open_capture(ctx.path) as cap:
                table = cap.session_table(order_by="-event_count")
                big = int(table["session_id"][0])
                loads = []
                for _ in range(7):
                    t0 = time.perf_counter()
                    SessionTimeline.load(cap, big)
                    loads.append(time.perf_counter() - t0)
                out["demo_largest_session_events"] = int(table["event_count"][0])
                out["demo_largest_session_load_seconds"] = _median_s(loads)
    return out


BENCHMARKS = [("replay", bench_replay)]

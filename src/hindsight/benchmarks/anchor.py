"""Benchmarks of element-anchored heatmaps across widths (issue 11) for ``hindsight bench``.

- ``heatmaps.anchor_projection``: 1M clicks projected through their elements onto another
  width's screenshot (:func:`hindsight.analytics.heatmap_anchor.project_clicks`), against two
  baselines run side by side: a plain affine scale of the same 1M points (``x * sx``) and
  ``np.take`` of their element boxes (the one gather the projection cannot avoid).
- ``heatmaps.anchor_first_map``: the first click map of the landing page on the bench capture
  in a fresh process (cold: imports, open, default screenshot, decode, project, bin, blur), then
  the same map after a filter change, against two baselines in fresh processes of their own:
  reading the page's click events alone, and the engine's per-snapshot decode of every map's
  inputs (what a first map cost before anchoring: the ratio is the anchoring overhead).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from hindsight.analytics.heatmap_anchor import element_keys_match, project_clicks
from hindsight.benchmarks.heatmaps import _last_cpu, _median  # one timing helper for the bench

N_CLICKS = 1_000_000
N_ELEMENTS = 600





def _layout(rng, n: int, width: int) -> np.ndarray:
    """(n, 4) int32 boxes of a page ``width`` px wide (a centred column of rows of boxes)."""
    col = min(width, 1140)
    left = (width - col) // 2
    x = left + rng.integers(0, col - 120, n)
    y = rng.integers(0, 5000, n)
    w = rng.integers(20, 400, n)
    h = rng.integers(16, 120, n)
    return np.stack([x, y, np.minimum(w, left + col - x), h], axis=1).astype(np.int32)


def bench_projection(ctx) -> dict:
    rng = np.random.default_rng(11)
    src_boxes = _layout(rng, N_ELEMENTS, 1280)
    base_boxes = _layout(rng, N_ELEMENTS, 1920)
    selectors = tuple(f"#el-{i}" for i in range(N_ELEMENTS))
    base_sel = tuple(reversed(selectors[: N_ELEMENTS - 20]))   # 20 elements not on the base
    elmap = element_keys_match(selectors, base_sel)
    target = rng.integers(-1, N_ELEMENTS, N_CLICKS).astype(np.int16)   # some with no element
    t = np.maximum(target, 0)
    x = (src_boxes[t, 0] + rng.random(N_CLICKS) * src_boxes[t, 2]).astype(np.int32)
    y = (src_boxes[t, 1] + rng.random(N_CLICKS) * src_boxes[t, 3]).astype(np.int32)
    sx, sy = 1920 / 1280, 1.0

    def projection():
        return project_clicks(x, y, target, src_boxes, elmap, base_boxes, sx, sy)

    def affine():
        return x.astype(np.float32) * np.float32(sx), y.astype(np.float32) * np.float32(sy)

    def take():
        return np.take(base_boxes, t, axis=0)

    proj = _median(projection, 9)
    proj_cpu = _last_cpu[0]
    base_affine = _median(affine, 9)
    affine_cpu = _last_cpu[0]
    base_take = _median(take, 9)
    take_cpu = _last_cpu[0]
    _, _, _, status = projection()
    return {
        "clicks": N_CLICKS, "elements": N_ELEMENTS,
        "projection_ms": round(proj * 1000, 1),
        "projection_cpu_ms": round(proj_cpu * 1000, 1),
        "baseline_affine_scale_ms": round(base_affine * 1000, 1),
        "baseline_affine_scale_cpu_ms": round(affine_cpu * 1000, 1),
        "baseline_take_boxes_ms": round(base_take * 1000, 1),
        "baseline_take_boxes_cpu_ms": round(take_cpu * 1000, 1),
        "ratio_vs_affine_scale": round(proj / base_affine, 1) if base_affine else None,
        "ratio_vs_take_boxes": round(proj / base_take, 1) if base_take else None,
        "matched": int((status == 0).sum()), "unmatched": int((status == 1).sum()),
        "no_element": int((status == 2).sum()),
        "target_ms": 100, "within_target": bool(proj <= 0.100), "within_target_cpu": bool(proj_cpu <= 0.100),
    }


_FIRST_MAP = r"""
import json, sys, time
t0 = time.perf_counter()
from hindsight.analytics.heatmap import HeatmapEngine
from hindsight.store import SessionFilter, open_capture
t1, c1 = time.perf_counter(), time.process_time()
with open_capture(sys.argv[1]) as cap:
    page = cap.pages()[0]
    eng = HeatmapEngine(cap)
    snap = eng.default_snapshot((page.page_id,), "desktop")
    r = eng.compute(snap.snapshot_id, "click")
    t2, c2 = time.perf_counter(), time.process_time()
    r2 = eng.compute(snap.snapshot_id, "click", SessionFilter(source=("paid",)))
    t3, c3 = time.perf_counter(), time.process_time()
    print(json.dumps({"import_s": t1 - t0, "first_map_s": t2 - t1, "filter_change_s": t3 - t2,
                      "first_map_cpu_s": c2 - c1, "filter_change_cpu_s": c3 - c2,
                      "clicks": r.sample.points, "sessions": r.sample.sessions,
                      "filtered_sessions": r2.sample.sessions, "header": r.coverage.header()}))
"""

_DECODE_ONLY = r"""
import json, sys, time
from hindsight.analytics.heatmap import HeatmapEngine
from hindsight.store import open_capture
t1, c1 = time.perf_counter(), time.process_time()
with open_capture(sys.argv[1]) as cap:
    page = cap.pages()[0]
    snap = next(s for s in cap.snapshots(page.page_id) if s.device == "desktop")
    eng = HeatmapEngine(cap)
    eng._ensure_loaded(eng._snapshot(snap.snapshot_id))   # the per-snapshot decode, no projection
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"read_s": t2 - t1, "cpu_s": c2 - c1}))
"""

_READ_ONLY = r"""
import json, sys, time
t0 = time.perf_counter()
from hindsight.store import open_capture
from hindsight.analytics.clicks import DEAD_RULE_KINDS
t1, c1 = time.perf_counter(), time.process_time()
with open_capture(sys.argv[1]) as cap:
    page = cap.pages()[0]
    snap = next(s for s in cap.snapshots(page.page_id) if s.device == "desktop")
    ev, _, _ = cap.snapshot_events(snap.snapshot_id, tuple(DEAD_RULE_KINDS))
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"read_s": t2 - t1, "cpu_s": c2 - c1, "events": len(ev)}))
"""


def bench_first_map(ctx) -> dict:
    def run(script: str) -> dict:
        res = subprocess.run([sys.executable, "-c", script, str(ctx.path)], capture_output=True, text=True,
                             check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])

    m = run(_FIRST_MAP)
    base = run(_READ_ONLY)
    decode = run(_DECODE_ONLY)
    return {
        "sessions": ctx.sessions, "page_sessions": m["sessions"], "clicks": m["clicks"], "header": m["header"],
        "first_click_map_cold_s": round(m["first_map_s"], 3),
        "first_click_map_cold_cpu_s": round(m["first_map_cpu_s"], 3),
        "after_filter_change_s": round(m["filter_change_s"], 4),
        "after_filter_change_cpu_s": round(m["filter_change_cpu_s"], 4),
        "baseline_read_click_events_cold_s": round(base["read_s"], 3),
        "baseline_read_click_events_cold_cpu_s": round(base["cpu_s"], 3),
        "ratio_first_map_vs_read": round(m["first_map_s"] / base["read_s"], 2) if base["read_s"] else None,
        "baseline_engine_decode_cold_s": round(decode["read_s"], 3),
        "baseline_engine_decode_cold_cpu_s": round(decode["cpu_s"], 3),
        "ratio_cpu_first_map_vs_engine_decode": round(m["first_map_cpu_s"] / decode["cpu_s"], 2)
        if decode["cpu_s"] else None,
        "ratio_first_map_vs_engine_decode": round(m["first_map_s"] / decode["read_s"], 2) if decode["read_s"] else None,
        "import_s": round(m["import_s"], 3),
    }


BENCHMARKS = [
    ("heatmaps.anchor_projection", bench_projection),
    ("heatmaps.anchor_first_map", bench_first_map),
]

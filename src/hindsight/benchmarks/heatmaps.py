"""Heatmap benchmarks for ``hindsight bench``: grids at 1M/10M points, filter changes, vs heatmappy.

Figures are medians of a few runs in seconds. ``heatmappy`` (PyPI 0.2.6) pins Pillow 3.0
and matplotlib 1.5 and calls ``Image.ANTIALIAS`` (removed in Pillow 10), so it neither
installs nor runs on a current stack; :func:`heatmappy_method` below is a faithful
reimplementation of its ``PILGreyHeatmapper`` + ``Heatmapper.heatmap``: a pre-rendered
radial dot (black, alpha falling off like its ``450pxdot.png``, scaled by
``point_strength``) pasted with Pillow once per point onto a white greyscale image, then
colourised through a 256-entry map and alpha-composited over the page.
"""

from __future__ import annotations

import time

import numpy as np

from hindsight.analytics.clicks import dead_click_mask, rage_click_mask
from hindsight.analytics.heatmap import HeatmapEngine, attention_grid, scroll_grid, scroll_stats
from hindsight.analytics.heatmap_color import composite, heat_lut
from hindsight.analytics.heatmap_grid import (bin_cells, bin_points, blur, density_grid, dwell_weights, flat_cells,
                                              grid_shape)
from hindsight.store import EventColumns, SessionFilter, open_capture
from hindsight.store.kinds import EventKind as K
from hindsight.store.records import ElementMap

PAGE_W, PAGE_H, CELL = 1440, 5232, 4


_last_cpu = [0.0]


def _median(fn, repeat: int = 5) -> float:
    """Median wall time; the median CPU time of the same runs is left in ``_last_cpu[0]``.

    On a shared, loaded machine the CPU time (single-threaded numpy) is what the wall time
    would be on an idle one, so the key figures are reported both ways.
    """
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    _last_cpu[0] = float(np.median(cpu))
    return float(np.median(times))


def _points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clustered points like real clicks: 70 % around 40 hot spots, the rest anywhere."""
    rng = np.random.default_rng(seed)
    k = int(n * 0.7)
    centres = rng.uniform((0, 0), (PAGE_W, PAGE_H), (40, 2))
    which = rng.integers(0, 40, k)
    x = np.r_[centres[which, 0] + rng.normal(0, 25, k), rng.uniform(0, PAGE_W, n - k)]
    y = np.r_[centres[which, 1] + rng.normal(0, 15, k), rng.uniform(0, PAGE_H, n - k)]
    return x.astype(np.int32), y.astype(np.int32)


def bench_grids(ctx) -> dict:
    """Each map's time from raw synthetic points at 1M and 10M (binning + blur)."""
    out: dict = {}
    shape = grid_shape(PAGE_W, PAGE_H, CELL)
    for n, label in ((1_000_000, "1M"), (10_000_000, "10M")):
        x, y = _points(n)
        repeat = 5 if n <= 1_000_000 else 3
        out[f"click_{label}_s"] = round(_median(lambda: density_grid(x, y, PAGE_W, PAGE_H, CELL, 10.0), repeat), 4)
        out[f"click_{label}_cpu_s"] = round(_last_cpu[0], 4)
        # Move: dwell weights (pageviews of 100 samples, 50 ms apart) + weighted binning.
        t = np.tile(np.arange(100, dtype=np.int64) * 50, n // 100)
        pv = np.repeat(np.arange(n // 100), 100)
        end = t + 3000

        def move():
            w = dwell_weights(t, pv, end)
            return density_grid(x, y, PAGE_W, PAGE_H, CELL, 14.0, weights=w)

        out[f"move_{label}_s"] = round(_median(move, repeat), 4)
        # Move after load: cells and weights precomputed (what a filter change costs).
        cells = flat_cells(x, y, PAGE_W, PAGE_H, CELL)
        w = dwell_weights(t, pv, end).astype(np.float64)  # as the engine keeps them
        out[f"move_{label}_after_load_s"] = round(
            _median(lambda: blur(bin_cells(cells, shape, w), 14.0 / CELL), repeat), 4)
        out[f"move_{label}_after_load_cpu_s"] = round(_last_cpu[0], 4)
        # Scroll: n pageviews' deepest bottoms. Attention: n visible segments.
        rng = np.random.default_rng(1)
        mb = rng.integers(700, PAGE_H, n)
        fold = np.full(n, 900)
        out[f"scroll_{label}_pageviews_s"] = round(
            _median(lambda: scroll_grid(scroll_stats(mb, fold, PAGE_H), shape, CELL), repeat), 4)
        top = rng.integers(0, shape[0] - 225, n)
        ms = rng.integers(50, 5000, n)
        out[f"attention_{label}_segments_s"] = round(
            _median(lambda: attention_grid(top, top + 225, ms, shape, n // 10), repeat), 4)
        # Rage and dead: the detectors over n clicks of 1,000-click pageviews, then the grid.
        tc = np.tile(np.arange(1000, dtype=np.int64) * 700, n // 1000)
        ev = EventColumns.from_arrays(tc, np.full(n, K.CLICK), x, y, np.zeros(n, np.int16))
        groups = np.repeat(np.arange(n // 1000), 1000)
        em = ElementMap(("a",), ("a",), ("",), ("",), np.zeros((1, 4), np.int32), np.array([True]),
                        (None,), (None,), np.zeros(1, bool), (None,))
        def rage():
            m = rage_click_mask(ev, groups)
            return density_grid(x[m], y[m], PAGE_W, PAGE_H, CELL, 10.0)

        out[f"rage_{label}_s"] = round(_median(rage, repeat), 4)
        out[f"dead_{label}_s"] = round(_median(
            lambda: dead_click_mask(ev, em, groups), repeat), 4)
        del x, y, t, pv, end, cells, w, mb, top, ms, tc, ev, groups
    return out


def bench_filter_change(ctx) -> dict:
    """On the bench capture: first load of the landing page, then segment changes (uncached)."""
    out: dict = {}
    with open_capture(ctx.path) as cap:
        snap = next(s for s in cap.snapshots() if s.device == "desktop")
        eng = HeatmapEngine(cap)
        # The first map decodes the snapshot's events once and derives every map's inputs.
        t = time.perf_counter()
        r = eng.compute(snap.snapshot_id, "click")
        out["first_load_all_maps_s"] = round(time.perf_counter() - t, 3)
        out["click_points"] = r.sample.points
        for kind in ("move", "scroll"):
            t = time.perf_counter()
            r = eng.compute(snap.snapshot_id, kind)
            out[f"{kind}_after_load_s"] = round(time.perf_counter() - t, 3)
            out[f"{kind}_points"] = r.sample.points
        out["sessions"] = cap.session_count()
        filters = [SessionFilter(source=("paid",)), SessionFilter(country=("US", "GB")),
                   SessionFilter(converted=True), SessionFilter(browser=("Chrome",)),
                   SessionFilter(min_duration_s=30.0)]
        for kind in ("click", "move", "scroll", "attention", "rage", "dead"):
            eng.compute(snap.snapshot_id, kind)  # loaded
            times, cpu = [], []
            for flt in filters:
                eng._results.clear()
                eng._allowed.clear()
                t, c = time.perf_counter(), time.process_time()
                eng.compute(snap.snapshot_id, kind, flt)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            out[f"{kind}_filter_change_s"] = round(float(np.median(times)), 4)
            out[f"{kind}_filter_change_cpu_s"] = round(float(np.median(cpu)), 4)
        t = time.perf_counter()
        eng.element_table(snap.snapshot_id, filters[0])
        out["element_table_s"] = round(time.perf_counter() - t, 4)
    return out


# ---------------------------------------------------------------------------------------
# heatmappy's method, reimplemented (see the module docstring)
# ---------------------------------------------------------------------------------------


def _heatmappy_dot(diameter: int, strength: float):
    from PIL import Image

    r = np.hypot(*np.meshgrid(np.arange(diameter) - (diameter - 1) / 2, np.arange(diameter) - (diameter - 1) / 2))
    r = r / (diameter / 2)
    # Alpha profile of heatmappy's 450pxdot.png: ~Gaussian, sigma 0.41 of the radius, 0 outside.
    alpha = np.where(r <= 1, 255 * np.exp(-0.5 * (r / 0.41) ** 2), 0)
    rgba = np.zeros((diameter, diameter, 4), np.uint8)
    rgba[:, :, 3] = (alpha * strength).astype(np.uint8)  # _img_to_opacity(dot, point_strength)
    return Image.fromarray(rgba)


def _heatmappy_lut() -> np.ndarray:
    # Its default.png scale: red at 0 (darkest), yellow, green, blue, then transparent at 255.
    stops = [(0, (255, 38, 38, 255)), (56, (251, 255, 0, 255)), (112, (50, 250, 5, 255)),
             (192, (0, 52, 198, 255)), (200, (6, 55, 195, 244)), (255, (6, 55, 195, 0))]
    v = np.arange(256)
    lut = np.zeros((256, 4), np.uint8)
    for c in range(4):
        lut[:, c] = np.interp(v, [s[0] for s in stops], [s[1][c] for s in stops]).astype(np.uint8)
    return lut


def heatmappy_method(x, y, width: int, height: int, base: np.ndarray, point_diameter: int = 50,
                     point_strength: float = 0.2, opacity: float = 0.65):
    """heatmappy's ``Heatmapper.heatmap`` with ``PILGreyHeatmapper``: returns (grey, composited)."""
    from PIL import Image

    heat = Image.new("L", (width, height), color=255)
    dot = _heatmappy_dot(point_diameter, point_strength)
    half = point_diameter / 2
    for px, py in zip(np.asarray(x).tolist(), np.asarray(y).tolist()):
        heat.paste(dot, (int(px - half), int(py - half)), dot)
    rgba = _heatmappy_lut()[np.array(heat)]
    over = Image.fromarray(rgba)
    alpha = over.split()[3].point(lambda p: int(p * opacity))
    over.putalpha(alpha)
    out = Image.alpha_composite(Image.fromarray(base).convert("RGBA"), over)
    return heat, out


def bench_vs_heatmappy(ctx) -> dict:
    """1e5 points on a 1440 x 5232 page: heatmappy's per-point stamping vs binning + blur."""
    n = 100_000
    x, y = _points(n, seed=5)
    base = np.full((PAGE_H, PAGE_W, 3), 245, np.uint8)
    t = time.perf_counter()
    heatmappy_method(x, y, PAGE_W, PAGE_H, base)
    theirs_total = time.perf_counter() - t
    from PIL import Image

    heat = Image.new("L", (PAGE_W, PAGE_H), color=255)
    dot = _heatmappy_dot(50, 0.2)
    t, c = time.perf_counter(), time.process_time()
    for px, py in zip(x.tolist(), y.tolist()):
        heat.paste(dot, (int(px - 25), int(py - 25)), dot)
    theirs_grey = time.perf_counter() - t
    theirs_grey_cpu = time.process_time() - c
    ours_grid = _median(lambda: density_grid(x, y, PAGE_W, PAGE_H, CELL, 10.0), 5)
    ours_grid_cpu = _last_cpu[0]
    lut = heat_lut()

    def ours_export():
        g, _ = density_grid(x, y, PAGE_W, PAGE_H, CELL, 10.0)
        return composite(base, g, (0, 0, g.shape[1] * CELL, g.shape[0] * CELL), (0, float(g.max())), lut, 0.65)

    ours_total = _median(ours_export, 3)
    return {
        "points": n,
        "heatmappy": "reimplemented (PyPI 0.2.6 pins Pillow 3.0 / matplotlib 1.5; does not install or run)",
        "heatmappy_grey_s": round(theirs_grey, 3),
        "heatmappy_total_s": round(theirs_total, 3),
        "ours_grid_s": round(ours_grid, 4),
        "ours_grid_plus_full_page_composite_s": round(ours_total, 3),
        "speedup_grid_vs_grey": round(theirs_grey / ours_grid, 1),
        "speedup_grid_vs_grey_cpu": round(theirs_grey_cpu / ours_grid_cpu, 1),
        "speedup_end_to_end": round(theirs_total / ours_total, 1),
    }


def _floor_overlay(x, y, levels_max: float | None = None) -> np.ndarray:
    """The plain floor: mask + ``np.bincount`` + ``scipy.ndimage.gaussian_filter`` + a LUT gather."""
    from scipy.ndimage import gaussian_filter

    gh, gw = grid_shape(PAGE_W, PAGE_H, CELL)
    keep = (x >= 0) & (x < PAGE_W) & (y >= 0) & (y < PAGE_H)
    cells = (y[keep] // CELL).astype(np.int64) * gw + x[keep] // CELL
    grid = np.bincount(cells, minlength=gh * gw).astype(np.float32).reshape(gh, gw)
    grid = gaussian_filter(grid, 10.0 / CELL, mode="reflect", truncate=4.0)
    hi = float(grid.max()) if levels_max is None else levels_max
    idx = np.clip(np.ceil(grid * (255.0 / hi)), 0, 255).astype(np.uint8)
    return np.take(heat_lut().view(np.uint32).ravel(), idx)


def bench_overlay(ctx) -> dict:
    """1e7 clicks to a coloured RGBA overlay (bin + blur + colour), against the plain
    bincount + scipy blur + LUT floor, interleaved in the same run (wall and CPU medians)."""
    from hindsight.analytics.heatmap_color import colorize

    x, y = _points(10_000_000)

    def ours():
        grid, _ = density_grid(x, y, PAGE_W, PAGE_H, CELL, 10.0)
        return colorize(grid, (0.0, float(grid.max())))

    def floor():
        return _floor_overlay(x, y)

    a = ours().view(np.uint32).reshape(grid_shape(PAGE_W, PAGE_H, CELL))
    b = floor().reshape(a.shape)
    same = float(np.mean(a == b))
    walls: dict[str, list[float]] = {"ours": [], "floor": []}
    cpus: dict[str, list[float]] = {"ours": [], "floor": []}
    for _ in range(5):   # interleaved rounds: both see the same machine load
        for name, fn in (("ours", ours), ("floor", floor)):
            walls[name].append(_median(fn, 1))
            cpus[name].append(_last_cpu[0])
    w = {k: float(np.median(v)) for k, v in walls.items()}
    c = {k: float(np.median(v)) for k, v in cpus.items()}
    # Each stage alone (medians of 5): where the overlay's time goes.
    counts = bin_points(x, y, PAGE_W, PAGE_H, CELL)
    grid = blur(counts, 10.0 / CELL)
    stages = {"bin": lambda: bin_points(x, y, PAGE_W, PAGE_H, CELL), "blur": lambda: blur(counts, 10.0 / CELL),
              "colour": lambda: colorize(grid, (0.0, float(grid.max())))}
    stage_s = {}
    for name, fn in stages.items():
        stage_s[f"stage_{name}_s"] = round(_median(fn, 5), 4)
        stage_s[f"stage_{name}_cpu_s"] = round(_last_cpu[0], 4)
    return {
        "clicks": len(x),
        "overlay_s": round(w["ours"], 4), "overlay_cpu_s": round(c["ours"], 4),
        "floor_s": round(w["floor"], 4), "floor_cpu_s": round(c["floor"], 4),
        "ratio_vs_floor": round(w["ours"] / w["floor"], 2),
        "cpu_ratio_vs_floor": round(c["ours"] / c["floor"], 2),
        "pixels_equal_to_floor": round(same, 4),
        **stage_s,
    }


BENCHMARKS = [
    ("heatmap.overlay", bench_overlay),
    ("heatmap.grids", bench_grids),
    ("heatmap.filter", bench_filter_change),
    ("heatmap.vs_heatmappy", bench_vs_heatmappy),
]

bench_overlay.needs_capture = False   # synthetic points: no capture to generate

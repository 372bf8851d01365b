"""The overlay kernels (binning, blur, colour) against the plain definitions they speed up.

``bin_points`` bins integer points through unsigned views into a padded grid, in blocks, in
spans and on two threads; the blur is numpy's, a block of rows at a time on two threads; ``colorize``
casts straight to gather indices. Each must give exactly what the plain version gives:
``flat_cells`` + ``bin_cells``, ``scipy.ndimage.gaussian_filter``, ``ceil`` + ``clip`` + uint8 + LUT.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from hindsight.analytics import heatmap_grid
from hindsight.analytics.heatmap_color import colorize, diverging_lut, heat_lut, to_indices
from hindsight.analytics.heatmap_grid import bin_cells, bin_points, blur, flat_cells, grid_shape


def _plain(x, y, w, h, cell, weights=None):
    return bin_cells(flat_cells(x, y, w, h, cell), grid_shape(w, h, cell), weights)


def _points_near_edges(n, w, h, cell, dtype, seed=0):
    """Points all over and just past every edge: negatives, the last whole and partial cells,
    exactly ``w`` / ``h``, the padded grid's edge and the dtype's extremes."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    gw_px, gh_px = grid_shape(w, h, cell)[1] * cell, grid_shape(w, h, cell)[0] * cell
    special_x = [0, 1, w - 1, w, w + 1, gw_px - 1, gw_px, -1, -cell, info.min, info.max]
    special_y = [0, 1, h - 1, h, h + 1, gh_px - 1, gh_px, -1, -cell, info.min, info.max]
    lo_x, hi_x = max(info.min, -2 * cell), min(info.max, gw_px + 2 * cell)
    lo_y, hi_y = max(info.min, -2 * cell), min(info.max, gh_px + 2 * cell)
    sx = np.array([v for v in special_x if info.min <= v <= info.max], dtype=dtype)
    sy = np.array([v for v in special_y if info.min <= v <= info.max], dtype=dtype)
    gx, gy = np.meshgrid(sx, sy)
    x = np.concatenate([rng.integers(lo_x, hi_x, n, endpoint=True, dtype=dtype), gx.ravel(),
                        rng.integers(0, w, sy.size, dtype=dtype)])
    y = np.concatenate([rng.integers(lo_y, hi_y, n, endpoint=True, dtype=dtype), gy.ravel(), sy])
    return x, y


def _wide(v):
    """Exact values as Python-int-like int64 (uint64 beyond 2**63 only needs to stay off-page)."""
    v = np.asarray(v)
    return np.minimum(v, np.iinfo(np.int64).max).astype(np.int64) if v.dtype == np.uint64 else v.astype(np.int64)


@pytest.mark.parametrize("w, h, cell", [
    (1440, 5232, 4),    # whole cells both ways (the benchmark's page)
    (1441, 5233, 4),    # a partial last column and row
    (1440, 5232, 5),    # not a power of two; partial last row
    (390, 2101, 3),
    (1280, 800, 1),
    (1000, 3000, 8),
])
@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint16, np.uint32, np.uint64])
def test_bin_points_equals_flat_cells_plus_bincount(w, h, cell, dtype):
    if np.iinfo(dtype).max < h:
        pytest.skip("page taller than the dtype holds")
    x, y = _points_near_edges(30_000, w, h, cell, dtype)
    weights = np.random.default_rng(1).random(x.size)
    for wts in (None, weights):
        got = bin_points(x, y, w, h, cell, wts)
        want = _plain(_wide(x), _wide(y), w, h, cell, wts)
        assert got.dtype == np.float32 and got.flags.c_contiguous and got.shape == grid_shape(w, h, cell)
        np.testing.assert_array_equal(got, want)
    inside = ((_wide(x) >= 0) & (_wide(x) < w) & (_wide(y) >= 0) & (_wide(y) < h)).sum()
    assert bin_points(x, y, w, h, cell).sum() == inside < x.size   # off-page points dropped, none lost


def test_bin_points_mixed_dtypes_and_lists():
    x, y = _points_near_edges(5_000, 1441, 3001, 4, np.int32, seed=2)
    want = _plain(x.astype(np.int64), y.astype(np.int64), 1441, 3001, 4)
    np.testing.assert_array_equal(bin_points(x, y.astype(np.int64), 1441, 3001, 4), want)
    x16 = x.astype(np.int16)   # the int32 extremes wrap: compare with the same values
    np.testing.assert_array_equal(bin_points(x16, y, 1441, 3001, 4),
                                  _plain(x16.astype(np.int64), y.astype(np.int64), 1441, 3001, 4))
    np.testing.assert_array_equal(bin_points(x.tolist(), y.tolist(), 1441, 3001, 4), want)
    np.testing.assert_array_equal(bin_points(x.astype(np.float64) + 0.5, y.astype(np.float64), 1441, 3001, 4),
                                  want)   # floats take the general path
    assert bin_points(np.array([], np.int32), np.array([], np.int32), 100, 100, 4).sum() == 0
    for wrong in (np.ones(x.size - 1), np.ones(x.size + 1)):
        with pytest.raises(ValueError):
            bin_points(x, y, 1441, 3001, 4, wrong)


def test_bin_points_threads_spans_and_blocks(monkeypatch):
    # Small thresholds so that a few thousand points go through two threads, several spans of
    # bincount each and several blocks per span (the 10M-point path at a test's size).
    monkeypatch.setattr(heatmap_grid, "_THREAD_MIN_POINTS", 1_000)
    monkeypatch.setattr(heatmap_grid, "_SPAN", 4_096)
    monkeypatch.setattr(heatmap_grid, "_BLOCK", 1_000)
    for cores in (1, 2, 3, 4, 16):   # one thread, two (this machine), a share per core up to four
        monkeypatch.setattr(heatmap_grid, "_cores", lambda: cores)
        for w, h, cell in ((1440, 5232, 4), (1441, 5233, 5)):
            x, y = _points_near_edges(50_001, w, h, cell, np.int32, seed=3)
            weights = np.random.default_rng(4).random(x.size)
            for wts in (None, weights):
                np.testing.assert_array_equal(bin_points(x, y, w, h, cell, wts),
                                              _plain(x.astype(np.int64), y.astype(np.int64), w, h, cell, wts))


def test_ten_million_points_match_the_plain_bincount():
    # The benchmark's own size and path (two threads, full spans): one cell per point counted.
    from hindsight.benchmarks.heatmaps import CELL, PAGE_H, PAGE_W, _points

    x, y = _points(10_000_000, seed=5)
    got = bin_points(x, y, PAGE_W, PAGE_H, CELL)
    keep = (x >= 0) & (x < PAGE_W) & (y >= 0) & (y < PAGE_H)
    gh, gw = grid_shape(PAGE_W, PAGE_H, CELL)
    want = np.bincount((y[keep] // CELL).astype(np.int64) * gw + x[keep] // CELL, minlength=gh * gw)
    np.testing.assert_array_equal(got.ravel(), want.astype(np.float32))
    assert got.sum(dtype=np.float64) == keep.sum() and 9_500_000 < keep.sum() < 10_000_000   # some off-page


def _bin_in_child(queue):
    x, y = _points_near_edges(40_000, 1440, 5232, 4, np.int32, seed=6)
    queue.put(float(bin_points(x, y, 1440, 5232, 4).sum()))


def test_threads_work_in_a_forked_child(monkeypatch):
    # The worker threads are made once per process: a child forked after the parent used them
    # (a ProcessPoolExecutor worker) must make its own rather than wait on threads it lacks.
    monkeypatch.setattr(heatmap_grid, "_THREAD_MIN_POINTS", 1_000)
    x, y = _points_near_edges(40_000, 1440, 5232, 4, np.int32, seed=6)
    want = float(bin_points(x, y, 1440, 5232, 4).sum())   # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_bin_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=60) == want
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


@pytest.mark.parametrize("shape, sigma", [
    ((1308, 360), 2.5), ((1308, 360), 3.5), ((1308, 360), 0.6), ((2001, 301), 7.3),
    ((25, 400), 5.0),    # fewer rows per half than the kernel's radius
    ((3, 1000), 2.0), ((1, 500), 2.0), ((600, 1), 4.0),
    ((1, 1), 0.6), ((5, 3), 1.25), ((2, 2), 20.0),   # kernel far wider than the grid: mirrored again and again
])
@pytest.mark.parametrize("block_cells", [1 << 17, 64])   # 64: many blocks, a seam every few rows
def test_threaded_blur_is_bit_identical_to_gaussian_filter(monkeypatch, shape, sigma, block_cells):
    monkeypatch.setattr(heatmap_grid, "_THREAD_MIN_CELLS", 1)
    monkeypatch.setattr(heatmap_grid, "_BLUR_BLOCK_CELLS", block_cells)
    rng = np.random.default_rng(7)
    g = rng.poisson(0.8, shape).astype(np.float32) * rng.random(shape).astype(np.float32) * 9
    want = gaussian_filter(g, sigma, mode="reflect", truncate=4.0, output=np.float32)
    np.maximum(want, 0, out=want)
    got = blur(g, sigma)
    assert got.dtype == np.float32 and got.flags.c_contiguous and got.shape == g.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got.sum(), g.sum(), rtol=1e-4)   # mirrored edges keep the mass


def test_blur_of_the_benchmark_grid_on_both_paths(monkeypatch):
    from hindsight.benchmarks.heatmaps import CELL, PAGE_H, PAGE_W, _points

    x, y = _points(200_000, seed=8)
    counts = bin_points(x, y, PAGE_W, PAGE_H, CELL)
    threaded = blur(counts, 10.0 / CELL)                       # 470k cells: two threads
    monkeypatch.setattr(heatmap_grid, "_THREAD_MIN_CELLS", 10**9)
    np.testing.assert_array_equal(threaded, blur(counts, 10.0 / CELL))


def test_a_heatmap_never_imports_scipy():
    # import scipy.ndimage alone costs 0.3-0.4 s, more than a whole first click map at 100k.
    code = ("import sys, numpy as np\n"
            "from hindsight.analytics.heatmap_grid import density_grid\n"
            "rng = np.random.default_rng(0)\n"
            "grid, counts = density_grid(rng.integers(0, 1440, 10**5), rng.integers(0, 5000, 10**5), 1440, 5000, 4, 10.0)\n"
            "assert grid.sum() > 0.99 * counts.sum() > 0\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _plain_colorize(grid, levels, lut):
    lo, hi = float(levels[0]), float(levels[1])
    g = np.asarray(grid, dtype=np.float32)
    if hi <= lo:
        idx = np.zeros(g.shape, np.uint8)
    else:
        with np.errstate(invalid="ignore"):
            idx = np.clip(np.ceil((g - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(lut, dtype=np.uint8)[idx], idx


def test_colorize_and_indices_match_the_plain_definition():
    rng = np.random.default_rng(9)
    grid = (rng.gamma(0.5, 3.0, (300, 200)) * (rng.random((300, 200)) > 0.4)).astype(np.float32)
    grid[0, :6] = [np.nan, np.inf, -np.inf, -1.0, 0.0, grid.max()]
    for lut in (heat_lut(), diverging_lut()):
        for levels in ((0.0, float(np.nanmax(grid[np.isfinite(grid)]))), (0.5, 2.0), (-3.0, 3.0), (1.0, 1.0),
                       (2.0, 1.0)):
            want_rgba, want_idx = _plain_colorize(grid, levels, lut)
            with np.errstate(invalid="ignore"):
                got = colorize(grid, levels, lut)
                idx = to_indices(grid, levels)
            assert got.dtype == np.uint8 and got.shape == grid.shape + (4,)
            np.testing.assert_array_equal(got, want_rgba)
            np.testing.assert_array_equal(idx, want_idx)
    # a cell with the least activity above the low level is never the transparent index 0
    assert to_indices(np.array([0.0, 1e-6, 1.0], np.float32), (0.0, 1.0)).tolist() == [0, 1, 255]

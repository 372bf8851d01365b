"""Density grids from points: binning with ``np.bincount``, a separable Gaussian blur, dwell weights.

The building blocks of every heatmap, free of any capture: points in document CSS px go
into square cells of ``cell_px`` CSS px (flat index ``row * gw + col``), counted with one
``np.bincount``, then the small grid is blurred. The result is a float32 (gh, gw) row-major,
C-contiguous array whose cell (r, c) covers CSS px ``[c*cell, (c+1)*cell) x [r*cell, (r+1)*cell)``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np


DEFAULT_CELL_PX = 4
#: Cursor samples resting longer than this count as this long (the visitor left the mouse).
DWELL_CAP_MS = 2000


def grid_shape(width: int, height: int, cell_px: int = DEFAULT_CELL_PX) -> tuple[int, int]:
    """(gh, gw): cells needed to cover a ``width`` x ``height`` CSS px page."""
    return max(1, math.ceil(height / cell_px)), max(1, math.ceil(width / cell_px))


def flat_cells(x, y, width: int, height: int, cell_px: int = DEFAULT_CELL_PX) -> np.ndarray:
    """Flat cell index ``row * gw + col`` per point; -1 for points off the page.

    x, y : (n,) numbers, document CSS px. Returns (n,) signed integers (int32 for int32
    input on pages of fewer than 2**31 cells, else int64).
    """
    gh, gw = grid_shape(width, height, cell_px)
    xi = _as_int(x)
    yi = _as_int(y)
    if xi.dtype != yi.dtype or gh * gw >= 2**31:
        xi, yi = xi.astype(np.int64), yi.astype(np.int64)
    # One unsigned comparison tests 0 <= v < limit (negatives wrap to huge values).
    udt = np.dtype(f"u{xi.itemsize}")
    inside = (xi.view(udt) < width) & (yi.view(udt) < height)
    shift = int(cell_px).bit_length() - 1
    if cell_px == 1 << shift:  # power of two: a shift, several times faster than //
        cells = (yi >> shift) * gw + (xi >> shift)
    else:
        cells = (yi // cell_px) * gw + xi // cell_px
    if not inside.all():
        cells[~inside] = -1
    return cells


def _as_int(v) -> np.ndarray:
    v = np.asarray(v)
    if v.dtype.kind == "f":
        return np.floor(v).astype(np.int64)
    if v.dtype in (np.int32, np.int64):
        return v
    return v.astype(np.int64)


def bin_cells(cells: np.ndarray, shape: tuple[int, int], weights=None) -> np.ndarray:
    """Sum of ``weights`` (1 each if None) per cell; cells < 0 are dropped.

    Returns (gh, gw) float32, row-major, C-contiguous.
    """
    gh, gw = shape
    cells = np.asarray(cells)
    if cells.size and cells.min() < 0:
        keep = cells >= 0
        cells = cells[keep]
        if weights is not None:
            weights = np.asarray(weights)[keep]
    counts = np.bincount(cells, weights=weights, minlength=gh * gw)
    return counts.astype(np.float32).reshape(gh, gw)


def bin_points(x, y, width: int, height: int, cell_px: int = DEFAULT_CELL_PX, weights=None) -> np.ndarray:
    """Unblurred density: (gh, gw) float32 sum of weights (or count) per cell; off-page points dropped."""
    gh, gw = grid_shape(width, height, cell_px)
    xi, yi = np.asarray(x), np.asarray(y)
    if xi.dtype.kind not in "iu" or yi.dtype.kind not in "iu" or xi.shape != yi.shape:
        return bin_cells(flat_cells(x, y, width, height, cell_px), (gh, gw), weights)
    # Integer points (the store's x, y): cells computed in place in cache-sized blocks of
    # intp (which np.bincount takes without a copy), off-page points sent to one spare cell
    # past the grid (no boolean compaction) -- same counts as flat_cells + bin_cells. Whole-
    # array passes over 10M points stream 80 MB temporaries through memory once per step;
    # blocks of 256k stay in the CPU cache (2x faster), and two threads take half the blocks
    # each (numpy releases the GIL in these loops and in bincount).
    n = xi.shape[0]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if n >= _THREAD_MIN_POINTS and (os.cpu_count() or 1) > 1:
        half = n // 2
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(lambda b: _bin_blocks(xi, yi, w, b[0], b[1], width, height, cell_px, gh, gw),
                                  ((0, half), (half, n))))
        counts = parts[0]
        counts += parts[1]
    else:
        counts = _bin_blocks(xi, yi, w, 0, n, width, height, cell_px, gh, gw)
    return counts[:gh * gw].astype(np.float32).reshape(gh, gw)


#: Points per block when binning (three intp/bool buffers of this length stay in cache).
_BLOCK = 1 << 18
#: From this many points the binning runs on two threads.
_THREAD_MIN_POINTS = 2_000_000


def _bin_blocks(x, y, weights, lo: int, hi: int, width: int, height: int, cell_px: int,
                gh: int, gw: int) -> np.ndarray:
    """Counts (or weight sums) per flat cell of points ``lo:hi``; cell ``gh * gw`` holds the off-page ones."""
    step = min(_BLOCK, max(hi - lo, 1))
    cells = np.empty(step, dtype=np.intp)
    cols = np.empty(step, dtype=np.intp)
    off = np.empty(step, dtype=bool)
    off_y = np.empty(step, dtype=bool)
    # One unsigned comparison tests 0 <= v < limit (negatives wrap to huge values).
    ux, uy = x.view(f"u{x.itemsize}"), y.view(f"u{y.itemsize}")
    shift = int(cell_px).bit_length() - 1
    pow2 = cell_px == 1 << shift
    total = np.zeros(gh * gw + 1, dtype=np.int64 if weights is None else np.float64)
    for start in range(lo, hi, step):
        k = min(step, hi - start)
        c, xc, o, oy = cells[:k], cols[:k], off[:k], off_y[:k]
        np.greater_equal(ux[start:start + k], width, out=o)
        np.greater_equal(uy[start:start + k], height, out=oy)
        o |= oy
        if pow2:   # shift and widen to intp in one pass
            np.right_shift(y[start:start + k], shift, out=c, casting="unsafe")
            np.right_shift(x[start:start + k], shift, out=xc, casting="unsafe")
        else:
            np.floor_divide(y[start:start + k], cell_px, out=c, casting="unsafe")
            np.floor_divide(x[start:start + k], cell_px, out=xc, casting="unsafe")
        c *= gw
        c += xc
        if o.any():
            c[o] = gh * gw
        total += np.bincount(c, weights=None if weights is None else weights[start:start + k],
                             minlength=gh * gw + 1)
    return total


def blur(grid: np.ndarray, sigma_cells: float) -> np.ndarray:
    """Separable Gaussian blur (edges mirrored, so the sum is kept). Returns float32 C-contiguous."""
    g = np.ascontiguousarray(grid, dtype=np.float32)
    if sigma_cells <= 0:
        return g.copy()
    # scipy.ndimage's separable C filter ("reflect" = mirror the edge cells, keeping the total);
    # imported on first use: scipy.ndimage costs ~0.3 s of start-up for anything importing heatmaps.
    from scipy.ndimage import gaussian_filter

    out = gaussian_filter(g, sigma_cells, mode="reflect", truncate=4.0, output=np.float32)
    np.maximum(out, 0, out=out)  # float round-off can leave -1e-9 where there is nothing
    return np.ascontiguousarray(out, dtype=np.float32)


def density_grid(x, y, width: int, height: int, cell_px: int = DEFAULT_CELL_PX, sigma_px: float = 8.0,
                 weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Points to a blurred density grid.

    Parameters
    ----------
    x, y : (n,) document CSS px.
    width, height : page size in CSS px.
    cell_px : cell size in CSS px.
    sigma_px : Gaussian blur radius (standard deviation) in CSS px.
    weights : (n,) optional weight per point (e.g. dwell seconds).

    Returns
    -------
    (blurred, counts) : two (gh, gw) float32 arrays; ``counts`` is the unblurred sum per cell.
    """
    counts = bin_points(x, y, width, height, cell_px, weights)
    return blur(counts, sigma_px / cell_px), counts


def dwell_weights(t, groups, group_end_ms=None, cap_ms: int = DWELL_CAP_MS) -> np.ndarray:
    """Seconds each cursor sample was the cursor's position: time to the next sample of its group.

    Parameters
    ----------
    t : (n,) ms, sorted within each group, groups contiguous.
    groups : (n,) int, the pageview of each sample.
    group_end_ms : (n,) optional, when each sample's pageview ended (ms); the last sample
        of a pageview rests until then. Without it the last sample weighs 0.
    cap_ms : longer rests count as this long.

    Returns
    -------
    (n,) float32 seconds, each in [0, cap_ms / 1000].
    """
    t = np.asarray(t, dtype=np.int64)
    g = np.asarray(groups)
    n = t.shape[0]
    dt = np.zeros(n, dtype=np.int64)
    if n:
        dt[:-1] = t[1:] - t[:-1]
        last = np.ones(n, dtype=bool)
        last[:-1] = g[1:] != g[:-1]
        if group_end_ms is None:
            dt[last] = 0
        else:
            dt[last] = np.asarray(group_end_ms, dtype=np.int64)[last] - t[last]
    np.clip(dt, 0, cap_ms, out=dt)
    return (dt / 1000.0).astype(np.float32)

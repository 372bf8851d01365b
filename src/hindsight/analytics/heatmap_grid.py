"""Density grids from points: binning with ``np.bincount``, a separable Gaussian blur, dwell weights.

The building blocks of every heatmap, free of any capture: points in document CSS px go
into square cells of ``cell_px`` CSS px (flat index ``row * gw + col``), counted with one
``np.bincount``, then the small grid is blurred. The result is a float32 (gh, gw) row-major,
C-contiguous array whose cell (r, c) covers CSS px ``[c*cell, (c+1)*cell) x [r*cell, (r+1)*cell)``.
"""

from __future__ import annotations

import math
import os
import threading
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
    plan = _BinPlan.make(xi, yi, width, height, cell_px, gh, gw)
    if plan is None:   # floats, mixed shapes, absurd pages: the general path
        return bin_cells(flat_cells(x, y, width, height, cell_px), (gh, gw), weights)
    n = plan.x.shape[0]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and w.shape != (n,):
        raise ValueError(f"{w.size} weights for {n} points")
    parts = min(_cores(), _MAX_THREADS, n // (_THREAD_MIN_POINTS // 2)) if n >= _THREAD_MIN_POINTS else 1
    if parts > 1:
        # Equal shares: all but the first on worker threads, the first on this one (numpy
        # releases the GIL in these loops and in bincount); their counts add up.
        cuts = [n * i // parts for i in range(parts + 1)]
        others = [_pool().submit(plan.count, w, cuts[i], cuts[i + 1]) for i in range(1, parts)]
        counts = plan.count(w, 0, cuts[1])
        for other in others:
            counts += other.result()
    else:
        counts = plan.count(w, 0, n)
    # Drop the spare row and column (the off-page points).
    return counts.reshape(gh + 1, gw + 1)[:gh, :gw].astype(np.float32, order="C")


#: Points per arithmetic block: its few uint32 buffers stay in the L2 cache.
_BLOCK = 1 << 16
#: Points per ``np.bincount`` call (an intp buffer of 8 bytes each, 8 MB): fewer, larger calls
#: than blocks, since each call allocates and adds a whole grid of counts; small enough that the
#: allocator hands the same memory back (a fresh 32 MB buffer costs ~6 ms of page faults).
_SPAN = 1 << 20
#: From this many points the binning runs on two threads (more with more cores: a thread per
#: million points, at most ``_MAX_THREADS``).
_THREAD_MIN_POINTS = 2_000_000
_MAX_THREADS = 4
_POOL: dict = {}
_POOL_LOCK = threading.Lock()


def _cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _pool() -> ThreadPoolExecutor:
    """Worker threads for the binning and the blur, made once per process (a forked child,
    e.g. a ``ProcessPoolExecutor`` worker, gets its own: the parent's threads are not in it)."""
    pid = os.getpid()
    with _POOL_LOCK:
        pool = _POOL.get(pid)
        if pool is None:
            _POOL.clear()
            pool = _POOL[pid] = ThreadPoolExecutor(_MAX_THREADS, thread_name_prefix="hindsight-heatmap")
    return pool


class _BinPlan:
    """Integer points binned without a per-point ``int64`` copy, a boolean mask or a compaction.

    Each coordinate is read through an unsigned view, so a negative value is a huge one and a
    single ``minimum`` sends every off-page point to a spare row (y) or column (x) of a grid
    padded to ``(gh + 1) x (gw + 1)``: ``cell = min(y // cell, gh) * (gw + 1) + min(x // cell, gw)``,
    computed in uint32 in cache-sized blocks, widened to intp once (as ``np.bincount`` wants it)
    and counted with one ``np.bincount`` per span. Where the page is not a whole number of cells,
    the points in the last cell's part past the page edge (``height <= y < gh * cell``) are
    sent to the spare cell too. Same counts as :func:`flat_cells` + :func:`bin_cells`.
    """

    __slots__ = ("x", "y", "ux", "uy", "width", "height", "cell", "shift", "gh", "gw", "work", "ragged")

    @classmethod
    def make(cls, xi, yi, width, height, cell_px, gh, gw):
        if (xi.dtype.kind not in "iu" or yi.dtype.kind not in "iu" or xi.shape != yi.shape
                or xi.ndim != 1 or cell_px < 1):
            return None
        if xi.dtype.itemsize < 4 or yi.dtype.itemsize < 4:   # int8/int16: widen once (rare)
            xi, yi = xi.astype(np.int32), yi.astype(np.int32)
        bits = 8 * min(xi.dtype.itemsize, yi.dtype.itemsize)
        # A negative value, seen unsigned, is >= 2**(bits-1); its cell must land past the grid.
        if (gh + 1) * (gw + 1) >= 2**32 or max(width, height) > 2 ** (bits - 1) - cell_px:
            return None
        p = cls()
        p.x, p.y = xi, yi
        p.ux, p.uy = xi.view(f"u{xi.dtype.itemsize}"), yi.view(f"u{yi.dtype.itemsize}")
        p.width, p.height, p.cell, p.gh, p.gw = int(width), int(height), int(cell_px), gh, gw
        shift = p.cell.bit_length() - 1
        p.shift = shift if p.cell == 1 << shift else -1
        p.work = np.uint64 if max(xi.dtype.itemsize, yi.dtype.itemsize) == 8 else np.uint32
        p.ragged = gh * p.cell != p.height or gw * p.cell != p.width
        return p

    def count(self, weights, lo: int, hi: int) -> np.ndarray:
        """Counts (or weight sums) of points ``lo:hi`` over the padded ``(gh + 1) * (gw + 1)`` cells."""
        gh, gw = self.gh, self.gw
        stride = gw + 1
        size = (gh + 1) * stride
        spare = size - 1
        span = min(_SPAN, max(hi - lo, 1))
        block = min(_BLOCK, span)
        cells = np.empty(span, dtype=np.intp)
        a = np.empty(block, dtype=self.work)
        b = np.empty(block, dtype=self.work)
        # The clamps as whole arrays: numpy's integer ``minimum`` against a scalar skips its
        # SIMD loop and runs ~4x slower than against an array of the same values.
        last_row = np.full(block, gh, dtype=self.work)
        last_col = np.full(block, gw, dtype=self.work)
        if self.ragged:
            m = np.empty(block, dtype=bool)
            m2 = np.empty(block, dtype=bool)
        total = None
        for s0 in range(lo, hi, span):
            s1 = min(s0 + span, hi)
            for s in range(s0, s1, block):
                k = min(block, s1 - s)
                ak, bk, ck = a[:k], b[:k], cells[s - s0:s - s0 + k]
                uy, ux = self.uy[s:s + k], self.ux[s:s + k]
                if self.shift >= 0:
                    np.right_shift(uy, self.shift, out=ak, casting="unsafe")
                    np.right_shift(ux, self.shift, out=bk, casting="unsafe")
                else:
                    np.floor_divide(uy, self.cell, out=ak, casting="unsafe")
                    np.floor_divide(ux, self.cell, out=bk, casting="unsafe")
                np.minimum(ak, last_row[:k], out=ak)
                np.multiply(ak, stride, out=ak)
                np.minimum(bk, last_col[:k], out=bk)
                np.add(ak, bk, out=ck, casting="unsafe")
                if self.ragged:
                    self._past_edge(uy, ux, ak, m, m2, k)
                    if m[:k].any():
                        ck[m[:k]] = spare
            w = None if weights is None else weights[s0:s1]
            part = np.bincount(cells[:s1 - s0], weights=w, minlength=size)
            if total is None:
                total = part
            else:
                total += part
        if total is None:
            total = np.zeros(size, dtype=np.intp if weights is None else np.float64)
        return total

    def _past_edge(self, uy, ux, tmp, m, m2, k):
        """``m[:k]``: points in the last row's or column's part past the page edge."""
        mk, m2k, t = m[:k], m2[:k], tmp
        mk[:] = False
        for u, edge, past in ((uy, self.height, self.gh * self.cell - self.height),
                              (ux, self.width, self.gw * self.cell - self.width)):
            if past:
                np.subtract(u, edge, out=t, casting="unsafe")   # wraps: below the edge becomes huge
                np.less(t, past, out=m2k)
                mk |= m2k


def blur(grid: np.ndarray, sigma_cells: float) -> np.ndarray:
    """Separable Gaussian blur (edges mirrored, so the sum is kept). Returns float32 C-contiguous.

    The same arithmetic as ``scipy.ndimage.gaussian_filter(grid, sigma_cells, mode="reflect",
    truncate=4.0, output=np.float32)``, bit for bit: a normalised kernel of radius
    ``int(4 * sigma + 0.5)``, axis 0 then axis 1, each pass summed in float64 as
    ``centre * w0``, then ``+ (left_k + right_k) * w_k`` from the outermost tap in, and stored
    as float32 between the passes. It is written in numpy because ``import scipy.ndimage``
    alone costs 0.3-0.4 s, more than the whole first click map of a 100k capture.
    """
    g = np.ascontiguousarray(grid, dtype=np.float32)
    if sigma_cells <= 0:
        return g.copy()
    if g.ndim != 2:
        raise ValueError(f"blur wants a 2-D grid, got shape {g.shape}")
    weights = _gaussian_weights(float(sigma_cells))
    radius = len(weights) - 1
    padded = _mirror_pad(g, radius, 0)
    tmp = np.empty_like(g)
    out = np.empty_like(g)
    gh = g.shape[0]
    parts = 2 if g.size >= _THREAD_MIN_CELLS and _cores() >= 2 and gh >= 2 else 1
    cuts = [gh * i // parts for i in range(parts + 1)]
    # Each share of rows is blurred down (axis 0, from the mirrored input) and then across
    # (axis 1, from its own rows of the float32 result), a block of rows at a time: the rows
    # stay in the cache between the passes and the shares never wait for each other.
    others = [_pool().submit(_blur_rows, padded, tmp, out, weights, cuts[i], cuts[i + 1])
              for i in range(1, parts)]
    _blur_rows(padded, tmp, out, weights, cuts[0], cuts[1])   # one share on this thread
    for other in others:
        other.result()
    np.maximum(out, 0, out=out)  # float round-off can leave -1e-9 where there is nothing
    return out


def _gaussian_weights(sigma: float) -> np.ndarray:
    """``w[k]``, k = 0..radius: the normalised kernel's centre and one side (it is symmetric)."""
    radius = int(4.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x ** 2)
    phi = phi / phi.sum()
    return phi[radius:]


def _blur_rows(padded, tmp, out, weights, r0, r1):
    """Rows ``r0:r1`` of both passes, a block of rows at a time (the rows stay in the cache
    between the passes): ``tmp`` = down the rows of ``padded``, ``out`` = across ``tmp``."""
    radius = len(weights) - 1
    width = tmp.shape[1] + 2 * radius
    step = max(1, _BLUR_BLOCK_CELLS // width)
    acc = np.empty(step * width)    # a block's float64 sums, either pass
    pair = np.empty_like(acc)
    for a in range(r0, r1, step):
        b = min(a + step, r1)
        _correlate(padded[a:b + 2 * radius], tmp[a:b], 0, weights, acc, pair)
        _correlate(_mirror_pad(tmp[a:b], radius, 1), out[a:b], 1, weights, acc, pair)


def _mirror_pad(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """``a`` widened by ``radius`` mirrored cells each side of ``axis`` (d c b a | a b c d | d c b a,
    repeated when the grid is narrower than the radius), as float64."""
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius, radius)
    return np.pad(a.astype(np.float64), pad, mode="symmetric")


def _correlate(src, dst, axis, weights, acc_buf, pair_buf):
    """``dst`` = the 1-D correlation along ``axis`` of ``src`` (``dst``'s rows with ``radius``
    mirrored cells each side along ``axis``; C-contiguous) with the symmetric kernel.

    Every tap is a contiguous 1-D slice of ``src`` read as one flat line (numpy is 2-3x slower
    on strided 2-D slices). Along axis 1 the taps of an output cell never leave its own row (it
    has ``radius`` mirrored cells each side), and the sums computed across the seams between
    rows are dropped.
    """
    radius = len(weights) - 1
    rows, n = dst.shape
    width = src.shape[1]              # n along axis 0; n + 2 * radius along axis 1
    line = src.reshape(-1)
    if axis == 0:
        lo, size, d = radius * width, rows * width, width
    else:
        lo, size, d = radius, rows * width - 2 * radius, 1
    acc, pair = acc_buf[:size], pair_buf[:size]
    np.multiply(line[lo:lo + size], weights[0], out=acc)
    for k in range(radius, 0, -1):
        np.add(line[lo - k * d:lo - k * d + size], line[lo + k * d:lo + k * d + size], out=pair)
        pair *= weights[k]
        acc += pair
    dst[:] = acc_buf[:rows * width].reshape(rows, width)[:, :n]


#: Cells per block of rows in the blur's passes (two float64 buffers of 1 MB per thread):
#: big enough that the two threads rarely wait for each other's GIL hand-offs between calls.
_BLUR_BLOCK_CELLS = 1 << 17


#: From this many cells the blur runs on two threads.
_THREAD_MIN_CELLS = 100_000


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

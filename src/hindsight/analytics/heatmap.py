"""Heatmaps of one page snapshot over a segment of sessions: click, move, scroll, attention, rage, dead.

A :class:`HeatmapEngine` wraps an open :class:`~hindsight.store.Capture`. Per snapshot it
loads the events it needs once, for every session, and precomputes each point's grid cell
and its rage/dead flags; a filter then only selects rows (a lookup over session ids) and
bins them with ``np.bincount``, so changing the segment is cheap. Results are cached per
(snapshot, filter, kind) in an LRU.

Every result carries its sample size and a warning when there are too few sessions to
trust the pattern. Grids are float32 (gh, gw), row-major, C-contiguous; ``rect`` gives the
CSS px they cover on the page (cells of ``cell_px`` CSS px from the page's top-left).

What each map measures (all per snapshot, i.e. one page on one device class):

- ``click``: clicks and taps per cell.
- ``move``: seconds the cursor rested per cell; each MOVE sample weighs the time until the
  next sample of its pageview (the last one: until the pageview ended), capped at 2 s.
- ``scroll``: per depth, % of pageviews whose viewport bottom reached it (max of
  ``scroll_y + viewport_h`` over SCROLL and RESIZE events; a page opens scrolled to the top).
- ``attention``: per horizontal band, seconds it was inside the viewport, summed over
  pageviews and divided by their number (time with the tab hidden does not count).
- ``rage``: clicks of rage bursts (:func:`hindsight.analytics.clicks.rage_click_mask`).
- ``dead``: dead clicks (:func:`hindsight.analytics.clicks.dead_click_mask`, the app's one rule:
  a click answered by a JavaScript error is an error click, not a dead one).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from hindsight.text import plural
from hindsight.analytics.clicks import DEAD_RULE_KINDS, dead_click_mask, rage_click_mask
from hindsight.analytics.heatmap_anchor import (
    MATCHED,
    NO_ELEMENT,
    UNMATCHED,
    Coverage,
    element_keys_match,
    in_move_band,
    move_band_px,
    project_clicks,
)
from hindsight.analytics.heatmap_grid import (
    DEFAULT_CELL_PX,
    DWELL_CAP_MS,
    blur,
    dwell_weights,
    flat_cells,
    grid_shape,
)
from hindsight.store.columns import EventColumns
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind as K
from hindsight.store.reader import Capture

KINDS = ("click", "move", "scroll", "attention", "rage", "dead")
#: Fewer sessions than this and a result says its pattern may be noise.
MIN_SESSIONS = 1000
#: Blur radius (Gaussian sigma, CSS px) per kind: clicks are precise, the cursor wanders.
SIGMA_PX = {"click": 10.0, "rage": 10.0, "dead": 10.0, "move": 14.0, "scroll": 0.0, "attention": 0.0}
#: What a point is, per kind (for sample sizes and legends).
POINT_NAMES = {"click": "clicks", "rage": "rage clicks", "dead": "dead clicks", "move": "cursor samples",
               "scroll": "pageviews", "attention": "pageviews"}
TITLES = {"click": "Click map", "move": "Move map", "scroll": "Scroll map", "attention": "Attention map",
          "rage": "Rage clicks", "dead": "Dead clicks"}

_CLICK_LOAD = DEAD_RULE_KINDS
_TIMELINE_LOAD = (K.SCROLL, K.RESIZE, K.VISIBILITY)
_ALL_LOAD = tuple(sorted(set(_CLICK_LOAD) | set(_TIMELINE_LOAD) | {K.MOVE}))


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleSize:
    """How much data a result rests on, and a warning when it is too little."""

    sessions: int
    pageviews: int
    points: int
    point_name: str = "clicks"
    min_sessions: int = MIN_SESSIONS

    @property
    def warning(self) -> str | None:
        if self.sessions == 0 and self.min_sessions > 0:
            return "No sessions match this filter on this page"
        if self.sessions < self.min_sessions:
            return f"Only {plural(self.sessions, 'session')}: this pattern may be noise"
        return None

    def badge(self) -> str:
        """E.g. ``"2,000 sessions · 2,310 pageviews · 5,412 clicks"``."""
        text = f"{plural(self.sessions, 'session')} · {plural(self.pageviews, 'pageview')}"
        if self.point_name != "pageviews":
            text += f" · {self.points:,} {self.point_name}"
        return text

    def to_dict(self) -> dict:
        return {"sessions": self.sessions, "pageviews": self.pageviews, "points": self.points,
                "point_name": self.point_name, "warning": self.warning}


@dataclass(frozen=True)
class ScrollStats:
    """Scroll depth per pageview and the summary lines of a scroll map (CSS px from the top).

    max_bottom : (p,) int64, the deepest viewport bottom of each pageview, clamped to the
        page, sorted ascending (so shares are one binary search).
    """

    max_bottom: np.ndarray
    page_height: int
    fold_px: float      # mean viewport height at load: the average fold
    depth_75: float     # depth reached by 75 % of pageviews
    depth_50: float
    depth_25: float

    def share_at(self, depth_px) -> np.ndarray:
        """Share (0..1) of pageviews whose viewport bottom reached each depth (>= depth)."""
        d = np.atleast_1d(np.asarray(depth_px, dtype=np.float64))
        if self.max_bottom.size == 0:
            return np.zeros(d.shape)
        s = self.max_bottom
        return (s.size - np.searchsorted(s, d, side="left")) / s.size

    def lines(self) -> list[tuple[str, float]]:
        """(label, depth px) of the lines a scroll map draws."""
        return [("Average fold", self.fold_px), ("75 % of pageviews", self.depth_75),
                ("50 %", self.depth_50), ("25 %", self.depth_25)]


@dataclass(frozen=True, eq=False)
class HeatmapResult:
    """One heatmap.

    grid : (gh, gw) float32, row-major, C-contiguous: the blurred map in ``unit``.
    counts : (gh, gw) float32, the unblurred sums per cell (the same as ``grid`` for
        scroll and attention maps, which are not blurred).
    rect : (x, y, w, h) CSS px of the page the grid covers.
    levels : (low, high) value range to colour with.
    """

    kind: str
    snapshot_id: int
    grid: np.ndarray
    counts: np.ndarray
    rect: tuple[int, int, int, int]
    cell_px: int
    levels: tuple[float, float]
    unit: str
    sample: SampleSize
    scroll: ScrollStats | None = None
    total: float = 0.0
    #: Which widths the map includes and what it could not place (issue 11); see heatmap_anchor.
    coverage: Coverage | None = None

    @property
    def warning(self) -> str | None:
        return self.sample.warning

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def note(self) -> str | None:
        """Why a map is empty, when it is (so an empty overlay is not mistaken for a bug)."""
        if self.sample.pageviews == 0:
            return "No pageviews of this page in this segment"
        if self.sample.points == 0:
            if self.kind == "move":
                return "No cursor samples: touch devices have no cursor to follow"
            return f"No {POINT_NAMES[self.kind]} on this page in this segment"
        return None

    def legend_text(self) -> str:
        """E.g. ``"0 … 14.3 clicks per 4×4 px cell"``."""
        return f"{_num(self.levels[0])} … {_num(self.levels[1])} {self.unit}"


@dataclass(frozen=True)
class ElementStats:
    """A row of the per-element click table."""

    index: int
    selector: str
    label: str
    tag: str
    clickable: bool
    clicks: int
    share: float        # of all clicks on the snapshot in the segment, 0..1
    sessions: int       # distinct sessions that clicked it
    rage_clicks: int
    dead_clicks: int

    @property
    def flagged(self) -> bool:
        """Clicked although it is not clickable: visitors expect something to happen."""
        return self.clicks > 0 and not self.clickable

    def to_dict(self) -> dict:
        return {"index": self.index, "selector": self.selector, "label": self.label, "tag": self.tag,
                "clickable": self.clickable, "clicks": self.clicks, "share": round(self.share, 4),
                "sessions": self.sessions, "rage_clicks": self.rage_clicks, "dead_clicks": self.dead_clicks,
                "flagged": self.flagged}


def most_clicked(table: list[ElementStats], kind: str, limit: int | None = None) -> list[ElementStats]:
    """The clicked elements of an element table in the order the panel and ``--json`` list them:
    on a rage or dead map the elements with most of those clicks first, else by clicks."""
    rows = [e for e in table if e.clicks > 0]
    if kind == "rage":
        rows.sort(key=lambda e: (-e.rage_clicks, -e.clicks))
    elif kind == "dead":
        rows.sort(key=lambda e: (-e.dead_clicks, -e.clicks))
    return rows if limit is None else rows[:limit]


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Two segments on one snapshot, each normalised per pageview, and A − B.

    grid_a, grid_b, diff : (gh, gw) float32 in ``unit`` (per pageview).
    levels : symmetric (−m, m) range for the diverging LUT.
    """

    kind: str
    a: HeatmapResult
    b: HeatmapResult
    grid_a: np.ndarray
    grid_b: np.ndarray
    diff: np.ndarray
    levels: tuple[float, float]
    unit: str


def _num(v: float) -> str:
    v = float(v)
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


# ---------------------------------------------------------------------------------------
# Per-snapshot data, loaded once for all sessions
# ---------------------------------------------------------------------------------------


@dataclass
class _Pageviews:
    ids: np.ndarray          # (p,) int64 pageview ids, ascending
    session: np.ndarray      # (p,) int64
    start: np.ndarray        # (p,) int64 ms since session start
    end: np.ndarray          # (p,) int64
    next_end: np.ndarray     # (p,) int64: end if another page followed, else -1
    vh: np.ndarray           # (p,) int64 viewport height of the session (fallback)


@dataclass
class _Clicks:
    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    target: np.ndarray
    pv: np.ndarray           # index into _Pageviews
    session: np.ndarray
    cell: np.ndarray         # flat cell, -1 off page
    rage: np.ndarray         # bool
    dead: np.ndarray | None  # bool; None until first needed (format 2: read on demand)


@dataclass
class _Moves:
    pv: np.ndarray
    cell: np.ndarray
    weight: np.ndarray       # whole ms of dwell (float64)


@dataclass
class _Timeline:
    max_bottom: np.ndarray   # (p,) per pageview
    first_vh: np.ndarray     # (p,)
    seg_pv: np.ndarray       # per visible segment: pageview index
    seg_top: np.ndarray      # first cell row in view
    seg_bottom: np.ndarray   # one past the last cell row in view
    seg_ms: np.ndarray       # duration


@dataclass
class _SnapshotData:
    snapshot_id: int
    width: int
    height: int
    shape: tuple[int, int]
    elements: object
    pv: _Pageviews
    clicks: _Clicks | None = None
    moves: _Moves | None = None
    timeline: _Timeline | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _GroupData(_SnapshotData):
    """Every source snapshot of a page group on one device class, projected onto a base snapshot."""

    device: str = ""
    src_ids: np.ndarray = None       # (s,) source snapshot ids, base first
    src_width: np.ndarray = None     # (s,)
    pv_src: np.ndarray = None        # (p,) source index per pageview
    status: np.ndarray = None        # per click: MATCHED, UNMATCHED, NO_ELEMENT
    click_src: np.ndarray = None     # per click: source index
    src_target: np.ndarray = None    # per click: element index on its own snapshot
    src_selectors: tuple = ()        # per source: its ElementMap.selector
    pv_in_band: np.ndarray = None    # (p,) bool: the pageview's snapshot width is in the move band
    parts: list = None               # per source: its _SnapshotData
    pv_off: np.ndarray = None        # (s + 1,) each source's first pageview in ``pv``
    band: np.ndarray = None          # (s,) bool: the source's width is in the move band


def _pageview_index(sorted_ids: np.ndarray, pv_ids: np.ndarray) -> np.ndarray:
    """Per event, the position of its pageview id in ``sorted_ids`` (int32).

    Events come in runs of one pageview, so only each run's id is looked up.
    """
    n = pv_ids.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    starts = np.flatnonzero(np.r_[True, pv_ids[1:] != pv_ids[:-1]])
    idx = np.searchsorted(sorted_ids, pv_ids[starts]).astype(np.int32)
    return np.repeat(idx, np.diff(np.r_[starts, n]))


def _forward_fill_index(is_set: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per row, the index of the last row at or before it (same group) where ``is_set``; -1 if none."""
    n = is_set.shape[0]
    idx = np.where(is_set, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    ok = idx >= 0
    ok[ok] = groups[idx[ok]] == groups[ok]
    idx[~ok] = -1
    return idx


class HeatmapEngine:
    """Heatmaps of a capture, cached.

    Parameters
    ----------
    capture : an open :class:`~hindsight.store.Capture`.
    cell_px : grid cell size in CSS px.
    min_sessions : below this many sessions results carry a warning.
    cache_size : results kept in the LRU.
    """

    def __init__(self, capture, cell_px: int = DEFAULT_CELL_PX, min_sessions: int = MIN_SESSIONS,
                 cache_size: int = 48):
        self.capture = capture
        self.cell_px = int(cell_px)
        self.min_sessions = int(min_sessions)
        self.cache_size = int(cache_size)
        self._results: OrderedDict = OrderedDict()
        self._snapshots: dict[int, _SnapshotData] = {}
        self._groups: OrderedDict = OrderedDict()
        self._allowed: OrderedDict = OrderedDict()
        self._lock = threading.RLock()
        self._sessions_loaded = False  # the session table loads on first use (off the GUI thread)

    def _load_sessions(self) -> None:
        with self._lock:
            if self._sessions_loaded:
                return
            table = self.capture.session_columns(("viewport_h", "pageview_count"))   # by session id
            self._sid = table["session_id"]
            self._svh = table["viewport_h"]
            self._spv_count = table["pageview_count"]
            self._max_sid = int(self._sid.max()) if self._sid.size else 0
            self._sessions_loaded = True

    # -- segment -------------------------------------------------------------------------
    def session_lookup(self, flt: SessionFilter | None) -> np.ndarray:
        """(max_session_id + 1,) bool: which sessions the filter keeps."""
        flt = flt or SessionFilter()
        self._load_sessions()
        with self._lock:
            hit = self._allowed.get(flt)
            if hit is not None:
                self._allowed.move_to_end(flt)
                return hit
        allowed = np.zeros(self._max_sid + 1, dtype=bool)
        if flt == SessionFilter():  # not is_empty(): that also holds for session_ids=() (none)
            allowed[self._sid] = True
        else:
            ids = self.capture.session_ids(flt)
            allowed[ids[ids <= self._max_sid]] = True
        with self._lock:
            self._allowed[flt] = allowed
            while len(self._allowed) > 16:
                self._allowed.popitem(last=False)
        return allowed

    # -- loading -------------------------------------------------------------------------
    def _snapshot(self, snapshot_id: int) -> _SnapshotData:
        self._load_sessions()
        with self._lock:
            data = self._snapshots.get(snapshot_id)
        if data is not None:
            return data
        cap = self.capture
        snap = cap.snapshot(snapshot_id)
        cols = cap.snapshot_pageview_columns(snapshot_id)   # ordered by pageview id
        ids, sess, seq, start, end = (cols[n] for n in ("pageview_id", "session_id", "seq", "start_ms", "end_ms"))
        pos = np.clip(np.searchsorted(self._sid, sess), 0, max(0, self._sid.size - 1))
        vh = self._svh[pos] if self._sid.size else np.zeros(ids.size, dtype=np.int64)
        has_next = seq < (self._spv_count[pos] - 1) if self._sid.size else np.zeros(ids.size, bool)
        pv = _Pageviews(ids, sess, start, end, np.where(has_next, end, -1), np.where(vh > 0, vh, 0))
        data = _SnapshotData(snapshot_id, snap.width, snap.height,
                             grid_shape(snap.width, snap.height, self.cell_px), cap.elements(snapshot_id), pv)
        with self._lock:
            return self._snapshots.setdefault(snapshot_id, data)

    def _ensure_loaded(self, data: _SnapshotData) -> None:
        """Decode the snapshot's events once (one read of its pageviews) and derive every map's inputs.

        Reading the BLOBs dominates a first load, so clicks, cursor samples and the scroll
        timeline come from one pass rather than one read each; the raw events are dropped after.
        """
        if data.timeline is not None:
            return
        with data.lock:
            if data.timeline is not None:
                return
            ev, sids, pv_ids = self.capture.snapshot_events(data.snapshot_id, _ALL_LOAD)
            pv = _pageview_index(data.pv.ids, pv_ids)
            del pv_ids
            # Keep (pageview, time) order: the store returns it, but importers may not.
            if len(ev) > 1:
                dp = np.diff(pv)
                if not np.all((dp > 0) | ((dp == 0) & (np.diff(ev.t.astype(np.int64)) >= 0))):
                    order = np.lexsort((ev.t, pv))
                    ev, sids, pv = ev.take(order), sids[order], pv[order]
            kind = ev.kind

            def part(kinds):
                m = np.isin(kind, np.asarray(kinds, dtype=np.uint8))
                return ev.take(m), sids[m], pv[m]

            c_ev, c_sids, c_pv = part(_CLICK_LOAD)
            rage = rage_click_mask(c_ev, c_pv)
            dead = dead_click_mask(c_ev, data.elements, c_pv, data.pv.next_end[c_pv])
            m = (c_ev.kind == K.CLICK) | (c_ev.kind == K.TAP)
            c = c_ev.take(m)
            data.clicks = _Clicks(c.x, c.y, c.t, c.target, c_pv[m], c_sids[m],
                                  flat_cells(c.x, c.y, data.width, data.height, self.cell_px), rage[m], dead[m])
            del c_ev, c_sids, c_pv, c

            mv = kind == K.MOVE
            m_t, m_pv = ev.t[mv], pv[mv]
            # float64 up front: np.bincount would convert float32 weights on every call.
            # Whole ms (dwell_weights' float32 seconds times 1000, rounded back): sums of them are
            # exact in float64 in any order, so partial sums over partitions add up exactly.
            w = np.rint(dwell_weights(m_t, m_pv, data.pv.end[m_pv], DWELL_CAP_MS).astype(np.float64) * 1000.0)
            data.moves = _Moves(m_pv, flat_cells(ev.x[mv], ev.y[mv], data.width, data.height, self.cell_px), w)
            del m_t, w, mv

            t_ev, _, t_pv = part(_TIMELINE_LOAD)
            data.timeline = self._build_timeline(data, t_ev, t_pv)

    # Format 2 (columnar chunks): each map reads only its kinds and columns, when first asked.
    def _load_clicks(self, data: _SnapshotData) -> None:
        with data.lock:
            if data.clicks is not None:
                return
            ev, sids, pv_ids = self.capture.snapshot_events(
                data.snapshot_id, (K.CLICK, K.TAP), columns=("t", "x", "y", "target"))
            pv = _pageview_index(data.pv.ids, pv_ids)
            del pv_ids
            rage = rage_click_mask(ev, pv)
            data.clicks = _Clicks(ev.x, ev.y, ev.t, ev.target, pv, sids,
                                  flat_cells(ev.x, ev.y, data.width, data.height, self.cell_px), rage, None)

    def _load_dead(self, data: _SnapshotData, c: _Clicks) -> np.ndarray:
        with data.lock:
            if c.dead is None:
                ev, _, pv_ids = self.capture.snapshot_events(data.snapshot_id, _CLICK_LOAD,
                                                             columns=("t", "x", "y", "target"))
                pv = _pageview_index(data.pv.ids, pv_ids)
                dead = dead_click_mask(ev, data.elements, pv, data.pv.next_end[pv])
                m = (ev.kind == K.CLICK) | (ev.kind == K.TAP)
                c.dead = dead[m]
            return c.dead

    def _load_moves(self, data: _SnapshotData) -> None:
        with data.lock:
            if data.moves is not None:
                return
            ev, _, pv_ids = self.capture.snapshot_events(data.snapshot_id, (K.MOVE,), columns=("t", "x", "y"))
            pv = _pageview_index(data.pv.ids, pv_ids)
            del pv_ids
            w = np.rint(dwell_weights(ev.t, pv, data.pv.end[pv], DWELL_CAP_MS).astype(np.float64) * 1000.0)
            data.moves = _Moves(pv, flat_cells(ev.x, ev.y, data.width, data.height, self.cell_px), w)

    def _load_timeline(self, data: _SnapshotData) -> None:
        with data.lock:
            if data.timeline is not None:
                return
            ev, _, pv_ids = self.capture.snapshot_events(data.snapshot_id, _TIMELINE_LOAD,
                                                         columns=("t", "y", "value"))
            pv = _pageview_index(data.pv.ids, pv_ids)
            del pv_ids
            data.timeline = self._build_timeline(data, ev, pv)

    def _clicks(self, data: _SnapshotData) -> _Clicks:
        if isinstance(data, _GroupData):
            return self._group_part(data, "clicks", self._group_clicks)
        if self.capture.columnar:
            self._load_clicks(data)
        else:
            self._ensure_loaded(data)
        return data.clicks

    def _dead(self, data: _SnapshotData, c: _Clicks) -> np.ndarray:
        """Per click of ``c``: whether it is dead (read on first use on a format-2 capture)."""
        if c.dead is not None:
            return c.dead
        if isinstance(data, _GroupData):
            with data.lock:
                if c.dead is None:
                    c.dead = np.concatenate([self._dead(d, self._clicks(d)) for d in data.parts])
            return c.dead
        return self._load_dead(data, c)

    def _group_part(self, data: "_GroupData", name: str, build) -> object:
        if getattr(data, name) is None:
            with data.lock:
                if getattr(data, name) is None:
                    build(data)
        return getattr(data, name)

    def _moves(self, data: _SnapshotData) -> _Moves:
        if isinstance(data, _GroupData):
            return self._group_part(data, "moves", self._group_moves)
        if self.capture.columnar:
            self._load_moves(data)
        else:
            self._ensure_loaded(data)
        return data.moves

    def _timeline(self, data: _SnapshotData) -> _Timeline:
        if isinstance(data, _GroupData):
            return self._group_part(data, "timeline", self._group_timeline)
        if self.capture.columnar:
            self._load_timeline(data)
        else:
            self._ensure_loaded(data)
        return data.timeline

    def _build_timeline(self, data: _SnapshotData, ev: EventColumns, pv_of: np.ndarray) -> _Timeline:
        P = data.pv.ids.size
        if P == 0:   # nobody viewed it (e.g. a dataset partition's other widths of a page group)
            none = np.zeros(0, dtype=np.int64)
            return _Timeline(none, none, none, none, none, none)
        # A synthetic "page opened" row per pageview (scrolled to the top, visible) goes
        # first, so time before the first event counts too.
        t = np.concatenate([data.pv.start, ev.t.astype(np.int64)])
        kind = np.concatenate([np.full(P, 255, dtype=np.int64), ev.kind.astype(np.int64)])
        yv = np.concatenate([np.zeros(P, dtype=np.int64), ev.y.astype(np.int64)])
        val = np.concatenate([np.ones(P, dtype=np.int64), ev.value.astype(np.int64)])
        g = np.concatenate([np.arange(P, dtype=np.int64), pv_of.astype(np.int64)])
        first = np.concatenate([np.zeros(P, dtype=np.int64), np.ones(len(ev), dtype=np.int64)])
        order = np.lexsort((first, t, g))
        t, kind, yv, val, g = t[order], kind[order], yv[order], val[order], g[order]

        i_scroll = _forward_fill_index(kind == K.SCROLL, g)
        i_vh = _forward_fill_index(kind == K.RESIZE, g)
        i_vis = _forward_fill_index(kind == K.VISIBILITY, g)
        scroll = np.where(i_scroll >= 0, yv[np.maximum(i_scroll, 0)], 0)
        vh = np.where(i_vh >= 0, yv[np.maximum(i_vh, 0)], data.pv.vh[g])
        visible = np.where(i_vis >= 0, val[np.maximum(i_vis, 0)], 1) != 0
        bottom = np.minimum(scroll + vh, data.height)

        first_res = np.full(P, -1, dtype=np.int64)
        res_rows = np.flatnonzero(kind == K.RESIZE)
        # First RESIZE of each pageview: reversed assignment leaves the earliest row.
        first_res[g[res_rows[::-1]]] = yv[res_rows[::-1]]
        first_vh = np.where(first_res > 0, first_res, data.pv.vh)
        # Deepest bottom per pageview (rows are grouped by pageview, each has its start row).
        # The session's viewport height only stands in where a pageview recorded no RESIZE.
        reach = np.where((kind == 255) & (first_res[g] > 0), 0, bottom)
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        max_bottom = np.zeros(P, dtype=np.int64)
        max_bottom[g[starts]] = np.maximum.reduceat(reach, starts)

        nxt = np.empty_like(t)
        nxt[:-1] = t[1:]
        last = np.r_[g[1:] != g[:-1], True]
        nxt[last] = np.maximum(data.pv.end[g[last]], t[last])
        dur = np.clip(nxt - t, 0, None)
        keep = visible & (dur > 0) & (bottom > scroll)
        cell = self.cell_px
        top_row = np.clip(scroll[keep] // cell, 0, data.shape[0])
        bottom_row = np.clip(-(-bottom[keep] // cell), 0, data.shape[0])
        return _Timeline(max_bottom, first_vh, g[keep], top_row, bottom_row, dur[keep])

    # -- page groups across widths (issue 11) --------------------------------------------
    def sources(self, snapshot_id: int, pages: tuple[int, ...] | None = None) -> list:
        """The snapshots whose points a map on ``snapshot_id`` draws: every snapshot of the page
        group (default: the snapshot's page) on its device class, the snapshot itself first."""
        cap = self.capture
        base = cap.snapshot(int(snapshot_id))
        group = _norm_pages(pages) or (base.page_id,)
        out = [base]
        for pid in group:
            out += [s for s in cap.snapshots(pid) if s.device == base.device and s.snapshot_id != base.snapshot_id]
        return out

    def screenshots(self, page_ids: tuple[int, ...], device: str, flt: SessionFilter | None = None) -> list:
        """[(Snapshot, sessions)] of the page group on ``device``, most sessions first (then
        narrower first): the screenshots a map can be drawn on; the first is the default.
        ``sessions`` is None when there is only one (nothing to choose, nothing read)."""
        snaps = [snap for pid in _norm_pages(page_ids) or () for snap in self.capture.snapshots(pid)
                 if snap.device == device]
        if len(snaps) <= 1:  # nothing to choose: no need to read pageviews
            return [(snap, None) for snap in snaps]
        rows = []
        if (flt is None or flt == SessionFilter()) and isinstance(self.capture, Capture):
            counts = [self.capture.snapshot_view_counts([snap.snapshot_id]) for snap in snaps]
            if all(c is not None for c in counts):   # counted in the index, no row read
                rows = [(snap, c[1]) for snap, c in zip(snaps, counts)]
                rows.sort(key=lambda r: (-r[1], r[0].width, r[0].snapshot_id))
                return rows
        allowed = self.session_lookup(flt)
        for snap in snaps:
            sess = self._snapshot(snap.snapshot_id).pv.session
            sess = sess[sess <= self._max_sid]
            rows.append((snap, int(np.unique(sess[allowed[sess]]).size)))
        rows.sort(key=lambda r: (-r[1], r[0].width, r[0].snapshot_id))
        return rows

    def default_snapshot(self, page_ids: tuple[int, ...], device: str, flt: SessionFilter | None = None):
        """The screenshot covering most sessions of the device class (None if the group has none)."""
        rows = self.screenshots(page_ids, device, flt)
        return rows[0][0] if rows else None

    def _group(self, base_id: int, pages: tuple[int, ...] | None) -> _GroupData:
        key = (base_id, pages)
        with self._lock:
            hit = self._groups.get(key)
            if hit is not None:
                self._groups.move_to_end(key)
                return hit
        srcs = self.sources(base_id, pages)
        base_snap = srcs[0]
        base = self._snapshot(base_id)
        parts = [self._snapshot(s.snapshot_id) for s in srcs]
        bw = base.width
        pv_off = np.cumsum([0] + [d.pv.ids.size for d in parts])
        cat = np.concatenate
        single = len(parts) == 1  # only the base itself: share its arrays, project only clicks
        pv = base.pv if single else _Pageviews(*(cat([getattr(d.pv, f) for d in parts]) for f in
                                                 ("ids", "session", "start", "end", "next_end", "vh")))
        pv_src = cat([np.full(d.pv.ids.size, i, dtype=np.int32) for i, d in enumerate(parts)])
        src_width = np.array([d.width for d in parts], dtype=np.int64)
        band = np.array([in_move_band(w, bw) for w in src_width], dtype=bool)
        # Clicks, moves and the scroll timeline are read and projected when a map first needs them
        # (format 2 reads only those kinds and columns): _group_clicks, _group_moves, _group_timeline.
        data = _GroupData(base_id, bw, base.height, base.shape, base.elements, pv,
                          device=base_snap.device, src_ids=np.array([s.snapshot_id for s in srcs], dtype=np.int64),
                          src_width=src_width, pv_src=pv_src, src_selectors=tuple(d.elements.selector for d in parts),
                          pv_in_band=band[pv_src], parts=parts, pv_off=pv_off, band=band)
        with self._lock:
            data = self._groups.setdefault(key, data)
            self._groups.move_to_end(key)
            while len(self._groups) > 8:
                self._groups.popitem(last=False)
        return data

    def _group_clicks(self, data: _GroupData) -> None:
        parts, pv_off = data.parts, data.pv_off
        base = parts[0]
        bw, bh = data.width, data.height
        em = data.elements
        cat = np.concatenate
        xs, ys, tg, st, cs, cl = [], [], [], [], [], []
        for i, d in enumerate(parts):
            c = self._clicks(d)
            cl.append(c)
            px, py, bt, status = _project_source(c.x, c.y, c.target, d.elements, d.width, d.height, d is base,
                                                 em, bw, bh)
            xs.append(px), ys.append(py), tg.append(bt), st.append(status)
            cs.append(np.full(px.size, i, dtype=np.int32))
        x, y, status = cat(xs), cat(ys), cat(st)
        cell = flat_cells(x, y, bw, bh, self.cell_px)
        cell[status == UNMATCHED] = -1
        dead = cat([c.dead for c in cl]) if all(c.dead is not None for c in cl) else None
        data.status, data.click_src, data.src_target = status, cat(cs), cat([c.target for c in cl])
        data.clicks = _Clicks(x, y, cat([c.t for c in cl]), cat(tg),
                              cat([c.pv + pv_off[i] for i, c in enumerate(cl)]),
                              cat([c.session for c in cl]), cell, cat([c.rage for c in cl]), dead)

    def _group_moves(self, data: _GroupData) -> None:
        """Moves: only sources in the band, positions scaled (identity for the base)."""
        parts, pv_off = data.parts, data.pv_off
        base = parts[0]
        if len(parts) == 1:
            data.moves = self._moves(base)
            return
        bw, bh = data.width, data.height
        cat = np.concatenate
        mpv, mcell, mw = [], [], []
        for i, d in enumerate(parts):
            if not data.band[i]:
                continue
            mv = self._moves(d)
            if d is base or (d.width == bw and d.height == bh):
                mpv.append(mv.pv + pv_off[i]), mcell.append(mv.cell), mw.append(mv.weight)
                continue
            gh, gw = d.shape
            ok = mv.cell >= 0
            cy = (mv.cell // gw).astype(np.float32) + 0.5
            cx = (mv.cell % gw).astype(np.float32) + 0.5
            c2 = flat_cells(cx * self.cell_px * bw / d.width, cy * self.cell_px * bh / d.height, bw, bh,
                            self.cell_px)
            c2[~ok] = -1
            mpv.append(mv.pv + pv_off[i]), mcell.append(c2), mw.append(mv.weight)
        data.moves = _Moves(cat(mpv) if mpv else np.zeros(0, np.int32), cat(mcell) if mcell else np.zeros(0, np.int64),
                            cat(mw) if mw else np.zeros(0, np.float64))

    def _group_timeline(self, data: _GroupData) -> None:
        """Scroll and attention: depths in % of the document height."""
        parts, pv_off = data.parts, data.pv_off
        if len(parts) == 1:
            data.timeline = self._timeline(parts[0])
            return
        bh, gh_b = data.height, data.shape[0]
        cat = np.concatenate
        mb, fv, sp, stop, sbot, sms = [], [], [], [], [], []
        for i, d in enumerate(parts):
            tl = self._timeline(d)
            r = bh / max(1, d.height)
            rr = gh_b / max(1, d.shape[0])
            mb.append(np.round(tl.max_bottom * r).astype(np.int64))
            fv.append(np.round(tl.first_vh * r).astype(np.int64))
            sp.append(tl.seg_pv + pv_off[i])
            stop.append(np.clip(np.floor(tl.seg_top * rr), 0, gh_b).astype(np.int64))
            sbot.append(np.clip(np.ceil(tl.seg_bottom * rr), 0, gh_b).astype(np.int64))
            sms.append(tl.seg_ms)
        data.timeline = _Timeline(cat(mb), cat(fv), cat(sp), cat(stop), cat(sbot), cat(sms))

    def click_points(self, snapshot_id: int, flt: SessionFilter | None = None,
                     pages: tuple[int, ...] | None = None) -> dict[str, np.ndarray]:
        """Every click (and tap) of the group's snapshots on the device class as drawn on
        ``snapshot_id``, for the sessions ``flt`` keeps: ``x``, ``y`` (float32 CSS px on the
        screenshot), ``target`` (its element there, -1 if none), ``status`` (heatmap_anchor's
        MATCHED / UNMATCHED / NO_ELEMENT), ``source_snapshot``, ``source_target``, ``session``,
        ``rage``, ``dead``."""
        data = self._group(int(snapshot_id), _norm_pages(pages))
        c = self._clicks(data)
        m = self._pv_keep(data, flt)[c.pv]
        return {"x": c.x[m], "y": c.y[m], "target": c.target[m], "status": data.status[m],
                "source_snapshot": data.src_ids[data.click_src[m]], "source_target": data.src_target[m],
                "session": c.session[m], "rage": c.rage[m], "dead": self._dead(data, c)[m]}

    def _pv_keep(self, data: _SnapshotData, flt: SessionFilter | None) -> np.ndarray:
        if flt is None or flt == SessionFilter():   # every pageview (as _whole_click_part counts them)
            return np.ones(data.pv.ids.size, dtype=bool)
        allowed = self.session_lookup(flt)
        return allowed[np.minimum(data.pv.session, self._max_sid)] & (data.pv.session <= self._max_sid)

    def _coverage(self, data: _GroupData, pv_keep: np.ndarray, kind: str) -> Coverage:
        drawn = pv_keep & data.pv_in_band if kind == "move" else pv_keep  # what the map includes
        pv_width = data.src_width[data.pv_src]
        widths = []
        for w in np.unique(data.src_width).tolist():
            n = int(np.unique(data.pv.session[drawn & (pv_width == w)]).size)
            if n or kind != "move":
                widths.append((int(w), n))
        lo, hi = move_band_px(data.width)
        cov = dict(snapshot_id=data.snapshot_id, width=data.width, device=data.device, kind=kind,
                   widths=tuple(widths), sessions=int(np.unique(data.pv.session[drawn]).size), move_band=(lo, hi))
        if kind in ("click", "rage", "dead"):
            c = self._clicks(data)
            m = pv_keep[c.pv]
            if kind == "rage":
                m = m & c.rage
            elif kind == "dead":
                m = m & self._dead(data, c)
            cov.update(_click_coverage(data.status, data.click_src, data.src_target, m, data.src_selectors,
                                       data.src_width))
        if kind == "move":
            left = pv_keep & ~data.pv_in_band
            ls = {int(w): int(np.unique(data.pv.session[left & (pv_width == w)]).size)
                  for w in np.unique(pv_width[left]).tolist()}
            inside = set(np.unique(data.pv.session[pv_keep & data.pv_in_band]).tolist())
            out_s = set(np.unique(data.pv.session[left]).tolist()) - inside
            cov["move_left_out"] = len(out_s)
            cov["move_left_out_widths"] = tuple(sorted(ls.items()))
        return Coverage(**cov)

    # -- public API ----------------------------------------------------------------------
    def compute(self, snapshot_id: int, kind: str, flt: SessionFilter | None = None,
                pages: tuple[int, ...] | None = None) -> HeatmapResult:
        """The ``kind`` heatmap drawn on a snapshot (the chosen screenshot) for the sessions ``flt``
        keeps (cached): the points of every snapshot of the page group ``pages`` (default: the
        snapshot's own page) on the same device class, projected onto it (see heatmap_anchor)."""
        return self._memo(snapshot_id, kind, flt, pages,
                          lambda f, p: combine_heatmaps([self.partial(snapshot_id, kind, f, p)], self.min_sessions))

    def _memo(self, snapshot_id: int, kind: str, flt: SessionFilter | None, pages, build) -> HeatmapResult:
        """``build(flt, pages)`` once per (snapshot, kind, filter, page group), kept in the LRU that
        :meth:`cached` reads (the dataset driver's maps go through here too)."""
        if kind not in KINDS:
            raise ValueError(f"unknown heatmap kind {kind!r}; one of {', '.join(KINDS)}")
        flt = flt or SessionFilter()
        pages = _norm_pages(pages)
        hit = self.cached(snapshot_id, kind, flt, pages)
        if hit is not None:
            return hit
        result = build(flt, pages)
        with self._lock:
            self._results[(int(snapshot_id), kind, flt, pages)] = result
            while len(self._results) > self.cache_size:
                self._results.popitem(last=False)
        return result

    def partial(self, snapshot_id: int, kind: str, flt: SessionFilter | None = None,
                pages: tuple[int, ...] | None = None) -> "HeatmapPartial":
        """The exact, additive part of a ``kind`` heatmap from this capture (or dataset partition),
        drawn on ``snapshot_id`` from every snapshot of the page group ``pages`` (see :meth:`compute`),
        with its coverage: :func:`combine_heatmaps` of the parts of all partitions is the whole map
        (not cached)."""
        if kind not in KINDS:
            raise ValueError(f"unknown heatmap kind {kind!r}; one of {', '.join(KINDS)}")
        pages = _norm_pages(pages)
        srcs = self.sources(int(snapshot_id), pages)
        if kind == "click" and (flt is None or flt == SessionFilter()):
            part = self._whole_click_part(srcs)
            if part is not None:
                return part
        if all(self._snapshot(s.snapshot_id).pv.ids.size == 0 for s in srcs):
            return self._empty_part(self._snapshot(int(snapshot_id)), srcs, kind)   # nobody viewed it (here)
        data = self._group(int(snapshot_id), pages)
        pv_keep = self._pv_keep(data, flt)
        if kind == "move":  # only sessions of near-identical layouts (the move band)
            sessions = int(np.unique(data.pv.session[pv_keep & data.pv_in_band]).size)
            pageviews = int((pv_keep & data.pv_in_band).sum())
        else:
            sessions = int(np.unique(data.pv.session[pv_keep]).size)
            pageviews = int(pv_keep.sum())
        part = _PARTIAL[kind](self, data, pv_keep, sessions, pageviews, kind)
        return replace(part, coverage=self._coverage(data, pv_keep, kind))

    def _whole_click_part(self, srcs: list) -> "HeatmapPartial | None":
        """The click map of every session without reading a session or pageview row: sample
        sizes counted in the pageviews' snapshot index, clicks (x, y, target) read from their
        chunks and projected as :meth:`_group_clicks` does. The common first map of a capture
        (what the app and ``hindsight heatmap`` open with) thus costs the clicks, not the
        sessions. None where it does not apply (format 1, a dataset partition, a capture
        without the index, a group already loaded): then the general path runs. Gives the
        same partial as the general path (tests/core/test_heatmap_whole.py)."""
        cap = self.capture
        base = srcs[0]
        with self._lock:
            loaded = any(k[0] == base.snapshot_id for k in self._groups)
        if loaded or not isinstance(cap, Capture) or not cap.columnar:
            return None
        ids = [s.snapshot_id for s in srcs]
        counts = cap.snapshot_view_counts(ids)
        if counts is None:
            return None
        pageviews, sessions = counts
        bw, bh = base.width, base.height
        shape = grid_shape(bw, bh, self.cell_px)
        em = cap.elements(base.snapshot_id)
        head = _SnapshotData(base.snapshot_id, bw, bh, shape, em, None)
        if pageviews == 0:
            return self._empty_part(head, srcs, "click")
        widths = sorted({int(s.width) for s in srcs})
        per_width = tuple((w, sessions if len(widths) == 1 else
                           cap.snapshot_view_counts([s.snapshot_id for s in srcs if s.width == w])[1]) for w in widths)
        xs, ys, st, cs, tg, selectors = [], [], [], [], [], []
        for i, s in enumerate(srcs):
            els = em if i == 0 else cap.elements(s.snapshot_id)
            got = [cap.snapshot_events(s.snapshot_id, (k,), columns=("x", "y", "target"), with_pageviews=False)[0]
                   for k in (K.CLICK, K.TAP)]   # one kind at a time: a count needs no merged order
            x, y, target = (np.concatenate([getattr(e, c) for e in got]) for c in ("x", "y", "target"))
            px, py, _, status = _project_source(x, y, target, els, s.width, s.height, i == 0, em, bw, bh)
            xs.append(px), ys.append(py), st.append(status), tg.append(target)
            cs.append(np.full(px.size, i, dtype=np.int32))
            selectors.append(els.selector)
        status = np.concatenate(st)
        cell = flat_cells(np.concatenate(xs), np.concatenate(ys), bw, bh, self.cell_px)
        cell[status == UNMATCHED] = -1
        sums = np.bincount(cell[cell >= 0], minlength=shape[0] * shape[1]).astype(np.float64)
        cov = Coverage(base.snapshot_id, bw, base.device, "click", per_width, sessions=sessions,
                       move_band=move_band_px(bw),
                       **_click_coverage(status, np.concatenate(cs), np.concatenate(tg), None, tuple(selectors),
                                         np.array([s.width for s in srcs], dtype=np.int64)))
        return self._part(head, "click", sessions, pageviews, int(status.size), sums, coverage=cov)

    def _empty_part(self, data: _SnapshotData, srcs: list, kind: str) -> "HeatmapPartial":
        gh, gw = data.shape
        none = np.zeros(0, dtype=np.int64)
        sums = np.zeros({"scroll": 0, "attention": gh + 1}.get(kind, gh * gw))
        widths = () if kind == "move" else tuple((w, 0) for w in sorted({int(s.width) for s in srcs}))
        cov = Coverage(data.snapshot_id, data.width, srcs[0].device, kind, widths, move_band=move_band_px(data.width))
        return self._part(data, kind, 0, 0, 0, sums, coverage=cov,
                          **({"max_bottom": none, "first_vh": none} if kind in ("scroll", "attention") else {}))

    def cached(self, snapshot_id: int, kind: str, flt: SessionFilter | None = None,
               pages: tuple[int, ...] | None = None) -> HeatmapResult | None:
        """The result of :meth:`compute` if it is already in the cache, else None (never computes:
        cheap enough for a GUI thread deciding whether to start a worker)."""
        key = (int(snapshot_id), kind, flt or SessionFilter(), _norm_pages(pages))
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
            return hit

    def _part(self, data, kind, sessions, pageviews, points, sums, **kw) -> "HeatmapPartial":
        return HeatmapPartial(kind, data.snapshot_id, data.shape, self.cell_px, data.height, sessions, pageviews,
                              int(points), sums, **kw)

    def _click_part(self, data, pv_keep, sessions, pageviews, kind) -> "HeatmapPartial":
        c = self._clicks(data)
        m = pv_keep[c.pv]
        if kind == "rage":
            m &= c.rage
        elif kind == "dead":
            m &= self._dead(data, c)
        cells = c.cell[m]
        sums = np.bincount(cells[cells >= 0], minlength=data.shape[0] * data.shape[1]).astype(np.float64)
        return self._part(data, kind, sessions, pageviews, int(m.sum()), sums)

    def _move_part(self, data, pv_keep, sessions, pageviews, kind) -> "HeatmapPartial":
        mv = self._moves(data)
        m = pv_keep[mv.pv]
        cells, w = mv.cell[m], mv.weight[m]
        keep = cells >= 0
        sums = np.bincount(cells[keep], weights=w[keep], minlength=data.shape[0] * data.shape[1])
        return self._part(data, kind, sessions, pageviews, int(m.sum()), sums)

    def _scroll_part(self, data, pv_keep, sessions, pageviews, kind) -> "HeatmapPartial":
        tl = self._timeline(data)
        return self._part(data, kind, sessions, pageviews, pageviews, np.zeros(0),
                          max_bottom=tl.max_bottom[pv_keep], first_vh=tl.first_vh[pv_keep])

    def _attention_part(self, data, pv_keep, sessions, pageviews, kind) -> "HeatmapPartial":
        tl = self._timeline(data)
        m = pv_keep[tl.seg_pv]
        gh = data.shape[0]
        w = tl.seg_ms[m].astype(np.float64)   # whole ms: float64 sums stay exact
        acc = (np.bincount(tl.seg_top[m], weights=w, minlength=gh + 1)[:gh + 1]
               - np.bincount(tl.seg_bottom[m], weights=w, minlength=gh + 1)[:gh + 1])
        return self._part(data, kind, sessions, pageviews, pageviews, acc, max_bottom=tl.max_bottom[pv_keep],
                          first_vh=tl.first_vh[pv_keep], total_ms=float(w.sum()))

    def element_table(self, snapshot_id: int, flt: SessionFilter | None = None,
                      pages: tuple[int, ...] | None = None, state_id: int | None = None) -> list[ElementStats]:
        """Per element of the snapshot's map: clicks, share, sessions, rage and dead clicks.

        A click counts for the smallest element under it (the event's ``target``), from every
        width of the page group, matched by element key (unmatched clicks count in the share's
        total, see :attr:`HeatmapResult.coverage`). Sorted by clicks, most first; elements
        nobody clicked come last (in map order). ``state_id``: only the clicks made while that
        page state of the snapshot showed (the clicks of its click map, ``state_heatmap``).
        """
        # A state's clicks keep their own snapshot's element indexes: the page group's projection
        # drops elements without a box as the page loaded (a dialog's button, hidden until opened).
        data = (self._group(int(snapshot_id), _norm_pages(pages)) if state_id is None
                else self._snapshot(int(snapshot_id)))
        allowed = self.session_lookup(flt)
        c = self._clicks(data)
        m = allowed[np.minimum(c.session, self._max_sid)]
        if state_id is not None:
            from hindsight.store.states import shown_at

            kept = np.flatnonzero(m)
            m = np.zeros_like(m)
            m[kept] = shown_at(self.capture, int(state_id), int(snapshot_id), c.session[kept],
                               data.pv.ids[c.pv[kept]], c.t[kept])
        em = data.elements
        n = len(em)
        tgt = c.target[m].astype(np.int64)
        valid = (tgt >= 0) & (tgt < n)
        total = int(m.sum())
        clicks = np.bincount(tgt[valid], minlength=n)[:n]
        rage = np.bincount(tgt[valid & c.rage[m]], minlength=n)[:n]
        dead = np.bincount(tgt[valid & self._dead(data, c)[m]], minlength=n)[:n]
        pairs = np.unique(tgt[valid] * (self._max_sid + 1) + c.session[m][valid])
        sessions = np.bincount(pairs // (self._max_sid + 1), minlength=n)[:n]
        order = np.lexsort((np.arange(n), -clicks))
        return [ElementStats(int(i), em.selector[i], em.label[i], em.tag[i], bool(em.clickable[i]),
                             int(clicks[i]), float(clicks[i] / total) if total else 0.0, int(sessions[i]),
                             int(rage[i]), int(dead[i])) for i in order]

    def sessions_at(self, snapshot_id: int, kind: str, x: float, y: float, radius_px: float = 24.0,
                    flt: SessionFilter | None = None,
                    pages: tuple[int, ...] | None = None, with_distance: bool = False) -> list[tuple[int, int, int]]:
        """Clicks within ``radius_px`` CSS px of (x, y): ``(session_id, t_ms, pageview_id)``.

        ``kind`` "rage" or "dead" keeps only those clicks; other kinds list all clicks.
        Sorted by distance from (x, y), nearest first; ``t_ms`` is ms since session start,
        ready to open the replay at that moment. Clicks of other widths count where they are
        drawn (through their element); unmatched clicks are not drawn, so not listed.
        ``with_distance``: the same rows as arrays (sessions, t_ms, pageview ids, squared
        distances), which a dataset's partitions return for an exact merge.
        """
        data = self._group(int(snapshot_id), _norm_pages(pages))
        allowed = self.session_lookup(flt)
        c = self._clicks(data)
        m = allowed[np.minimum(c.session, self._max_sid)] & (data.status != UNMATCHED)
        if kind == "rage":
            m &= c.rage
        elif kind == "dead":
            m &= self._dead(data, c)
        d2 = (c.x.astype(np.float64) - x) ** 2 + (c.y.astype(np.float64) - y) ** 2
        idx = np.flatnonzero(m & (d2 <= float(radius_px) ** 2))
        idx = idx[np.argsort(d2[idx], kind="stable")]
        pv_ids = data.pv.ids[c.pv[idx]]
        if with_distance:   # a dataset partition's rows, merged by (distance, pageview, time)
            return c.session[idx].astype(np.int64), c.t[idx].astype(np.int64), pv_ids.astype(np.int64), d2[idx]
        return [(int(s), int(t), int(p)) for s, t, p in zip(c.session[idx], c.t[idx], pv_ids)]

    def compare(self, snapshot_id: int, kind: str, flt_a: SessionFilter | None,
                flt_b: SessionFilter | None, pages: tuple[int, ...] | None = None) -> CompareResult:
        """Segments A and B on one snapshot, each per pageview, and their difference A − B."""
        a = self.compute(snapshot_id, kind, flt_a, pages)
        b = self.compute(snapshot_id, kind, flt_b, pages)
        if kind in ("scroll", "attention"):  # already per pageview
            ga, gb = a.grid, b.grid
            unit = a.unit
        else:
            ga = (a.grid / max(1, a.sample.pageviews)).astype(np.float32)
            gb = (b.grid / max(1, b.sample.pageviews)).astype(np.float32)
            unit = a.unit.replace(" per ", " per pageview per ", 1)
        diff = np.ascontiguousarray(ga - gb, dtype=np.float32)
        m = float(np.abs(diff).max()) if diff.size else 0.0
        return CompareResult(kind, a, b, ga, gb, diff, (-m, m), unit)

    def clear(self) -> None:
        """Forget cached results and loaded snapshots (e.g. after the capture changed)."""
        with self._lock:
            self._results.clear()
            self._snapshots.clear()
            self._groups.clear()
            self._allowed.clear()
            self._sessions_loaded = False


def _project_source(x, y, target, src_elements, src_width: int, src_height: int, is_base: bool,
                    base_elements, base_width: int, base_height: int):
    """One source snapshot's clicks projected onto the base (``project_clicks``): (px, py,
    base target, status)."""
    elmap = (np.arange(len(base_elements), dtype=np.int32) if is_base
             else element_keys_match(src_elements.selector, base_elements.selector))
    return project_clicks(x, y, target, src_elements.boxes, elmap, base_elements.boxes,
                          base_width / max(1, src_width), base_height / max(1, src_height))


def _click_coverage(status, click_src, src_target, m, src_selectors, src_width) -> dict:
    """Coverage counts of the clicks ``m`` selects (None: all): matched, unmatched, no element,
    and the unmatched clicks per (source element, width), most first."""
    st = status if m is None else status[m]
    out = {"matched": int((st == MATCHED).sum()), "unmatched": int((st == UNMATCHED).sum()),
           "no_element": int((st == NO_ELEMENT).sum())}
    um = np.flatnonzero(status == UNMATCHED if m is None else m & (status == UNMATCHED))
    if um.size:
        src, tgt = click_src[um].astype(np.int64), src_target[um].astype(np.int64)
        pairs, counts = np.unique(src * 1_000_000 + tgt, return_counts=True)
        rows = [(src_selectors[p // 1_000_000][p % 1_000_000], int(src_width[p // 1_000_000]),
                 int(n)) for p, n in zip(pairs.tolist(), counts.tolist())]
        rows.sort(key=lambda r: (-r[2], r[0], r[1]))
        out["unmatched_elements"] = tuple(rows)
    return out


def _norm_pages(pages) -> tuple[int, ...] | None:
    """A page group as a sorted tuple of page ids (None: the base snapshot's own page)."""
    if pages is None:
        return None
    return tuple(sorted({int(p) for p in pages})) or None


def scroll_grid(stats: "ScrollStats", shape: tuple[int, int], cell_px: int) -> np.ndarray:
    """(gh, gw) float32: per cell row, % of pageviews whose viewport bottom reached its centre."""
    gh, gw = shape
    col = (stats.share_at((np.arange(gh) + 0.5) * cell_px) * 100.0).astype(np.float32)
    return np.ascontiguousarray(np.broadcast_to(col[:, None], (gh, gw)))


def attention_grid(top_row, bottom_row, ms, shape: tuple[int, int], pageviews: int) -> np.ndarray:
    """(gh, gw) float32 seconds in view per pageview, from visible segments.

    Each segment ``i`` kept cell rows ``[top_row[i], bottom_row[i])`` in the viewport for
    ``ms[i]`` ms; a difference array (+ms at the top, −ms past the bottom, then a running
    sum) adds them all in O(segments + rows).
    """
    gh, gw = shape
    w = np.asarray(ms, dtype=np.float64)
    acc = (np.bincount(top_row, weights=w, minlength=gh + 1)[:gh + 1]
           - np.bincount(bottom_row, weights=w, minlength=gh + 1)[:gh + 1])
    per_row = np.maximum(np.cumsum(acc)[:gh] / 1000.0 / max(1, pageviews), 0).astype(np.float32)
    return np.ascontiguousarray(np.broadcast_to(per_row[:, None], (gh, gw)))


def scroll_stats(max_bottom: np.ndarray, first_vh: np.ndarray, page_height: int) -> ScrollStats:
    """Fold and the depths 75/50/25 % of pageviews reached, from per-pageview deepest bottoms."""
    mb = np.sort(np.asarray(max_bottom, dtype=np.int64))
    if mb.size == 0:
        return ScrollStats(mb, int(page_height), 0.0, 0.0, 0.0, 0.0)
    desc = mb[::-1]

    def reached_by(p: float) -> float:
        # The deepest depth that at least a share p of pageviews reached.
        return float(desc[max(0, int(np.ceil(p * desc.size)) - 1)])

    return ScrollStats(mb, int(page_height), float(np.mean(first_vh)), reached_by(0.75), reached_by(0.5),
                       reached_by(0.25))


_PARTIAL: dict[str, Callable] = {
    "click": HeatmapEngine._click_part,
    "rage": HeatmapEngine._click_part,
    "dead": HeatmapEngine._click_part,
    "move": HeatmapEngine._move_part,
    "scroll": HeatmapEngine._scroll_part,
    "attention": HeatmapEngine._attention_part,
}


@dataclass(frozen=True, eq=False)
class HeatmapPartial:
    """The additive part of a heatmap from one capture or one dataset partition.

    sums : float64 whole numbers: per flat cell the clicks (click, rage, dead) or ms of dwell
        (move); for attention the (gh + 1,) difference array of ms in view per cell row.
    max_bottom, first_vh : per kept pageview (scroll and attention).
    Sessions never span partitions, so session counts add up too.
    """

    kind: str
    snapshot_id: int
    shape: tuple[int, int]
    cell_px: int
    page_height: int
    sessions: int
    pageviews: int
    points: int
    sums: np.ndarray
    max_bottom: np.ndarray | None = None
    first_vh: np.ndarray | None = None
    total_ms: float = 0.0
    coverage: Coverage | None = None


def combine_coverage(covs: list[Coverage]) -> Coverage | None:
    """The coverage of the union of parts of disjoint sessions (dataset partitions): per-width
    session counts, click counts and sessions left out add up; unmatched elements add per
    (selector, width)."""
    covs = [c for c in covs if c is not None]
    if not covs:
        return None
    if len(covs) == 1:
        return covs[0]
    c0 = covs[0]
    widths: dict[int, int] = {}
    for c in covs:
        for w, n in c.widths:
            widths[int(w)] = widths.get(int(w), 0) + int(n)
    um: dict[tuple, int] = {}
    for c in covs:
        for sel, w, n in c.unmatched_elements:
            um[(sel, w)] = um.get((sel, w), 0) + int(n)
    rows = sorted(((sel, w, n) for (sel, w), n in um.items()), key=lambda r: (-r[2], r[0], r[1]))
    left: dict[int, int] = {}
    for c in covs:
        for w, n in c.move_left_out_widths:
            left[int(w)] = left.get(int(w), 0) + int(n)
    return replace(c0, widths=tuple(sorted(widths.items())), sessions=sum(c.sessions for c in covs),
                   matched=sum(c.matched for c in covs), unmatched=sum(c.unmatched for c in covs),
                   no_element=sum(c.no_element for c in covs), unmatched_elements=tuple(rows),
                   move_left_out=sum(c.move_left_out for c in covs), move_left_out_widths=tuple(sorted(left.items())))


def combine_heatmaps(parts: list[HeatmapPartial], min_sessions: int = MIN_SESSIONS) -> HeatmapResult:
    """The heatmap of the union of the parts (all of one snapshot and kind): exact, whatever the split."""
    result = _combine_heatmaps(parts, min_sessions)
    return replace(result, coverage=combine_coverage([p.coverage for p in parts]))


def _combine_heatmaps(parts: list[HeatmapPartial], min_sessions: int) -> HeatmapResult:
    p0 = parts[0]
    kind, shape, cell = p0.kind, p0.shape, p0.cell_px
    gh, gw = shape
    sessions = sum(p.sessions for p in parts)
    pageviews = sum(p.pageviews for p in parts)
    points = sum(p.points for p in parts)
    sample = SampleSize(sessions, pageviews, int(points), POINT_NAMES[kind], int(min_sessions))
    rect = (0, 0, gw * cell, gh * cell)
    sums = parts[0].sums if len(parts) == 1 else np.sum([p.sums for p in parts], axis=0)
    if kind in ("scroll", "attention"):
        mb = np.concatenate([p.max_bottom for p in parts])
        fv = np.concatenate([p.first_vh for p in parts])
        stats = scroll_stats(mb, fv, p0.page_height)
    if kind == "scroll":
        grid = scroll_grid(stats, shape, cell)
        return HeatmapResult(kind, p0.snapshot_id, grid, grid, rect, cell, (0.0, 100.0),
                             "% of pageviews reached this depth", sample, scroll=stats, total=float(pageviews))
    if kind == "attention":
        per_row = np.maximum(np.cumsum(sums)[:gh] / 1000.0 / max(1, pageviews), 0).astype(np.float32)
        grid = np.ascontiguousarray(np.broadcast_to(per_row[:, None], (gh, gw)))
        total_ms = sum(p.total_ms for p in parts)
        return HeatmapResult(kind, p0.snapshot_id, grid, grid, rect, cell,
                             (0.0, float(per_row.max()) if per_row.size else 0.0), "s in view per pageview",
                             sample, scroll=stats, total=float(total_ms / 1000.0))
    if kind == "move":
        counts = (sums / 1000.0).astype(np.float32).reshape(gh, gw)
        unit = f"s of cursor dwell per {cell}×{cell} px cell"
    else:
        counts = sums.astype(np.float32).reshape(gh, gw)
        unit = f"{POINT_NAMES[kind]} per {cell}×{cell} px cell"
    grid = blur(counts, SIGMA_PX[kind] / cell)
    return HeatmapResult(kind, p0.snapshot_id, grid, counts, rect, cell,
                         (0.0, float(grid.max()) if grid.size else 0.0), unit, sample, total=float(counts.sum()))


def find_snapshot(capture, page_url: str, device: str = "desktop"):
    """The snapshot of ``page_url`` on ``device``; ``KeyError`` with a one-line reason if none."""
    page = capture.page_by_url(page_url)
    if page is None:
        known = ", ".join(p.url for p in capture.pages())
        raise KeyError(f"no page {page_url!r} in this capture (pages: {known})")
    snap = capture.find_snapshot(page.page_id, device)
    if snap is None:
        devices = ", ".join(sorted({s.device for s in capture.snapshots(page.page_id)}))
        raise KeyError(f"page {page_url} has no {device!r} snapshot (devices: {devices})")
    return snap


def choose_snapshot(capture, engine: HeatmapEngine, page_url: str, device: str = "desktop", *,
                    width: int | None = None, snapshot_id: int | None = None,
                    pages: tuple[int, ...] | None = None, flt: SessionFilter | None = None):
    """The screenshot a map of ``page_url`` (or the page group ``pages``) is drawn on.

    ``snapshot_id`` names it; else ``width`` picks the group's ``device`` snapshot of that width;
    else the default: the one covering most sessions of the device class
    (:meth:`HeatmapEngine.default_snapshot`). ``KeyError`` with a one-line reason if none fits.
    """
    if pages is None:
        page = capture.page_by_url(page_url)
        if page is None:
            known = ", ".join(p.url for p in capture.pages())
            raise KeyError(f"no page {page_url!r} in this capture (pages: {known})")
        pages = (page.page_id,)
    pages = _norm_pages(pages)
    if snapshot_id is not None:
        try:
            snap = capture.snapshot(int(snapshot_id))
        except KeyError:
            snap = None
        if snap is None or snap.page_id not in pages:
            ids = ", ".join(f"{s.snapshot_id} ({s.device} {s.width} px)" for p in pages for s in capture.snapshots(p))
            raise KeyError(f"snapshot {snapshot_id} is not a screenshot of {page_url} (its snapshots: {ids})")
        return snap
    rows = engine.screenshots(pages, device, flt)
    if not rows:
        devices = ", ".join(sorted({s.device for p in pages for s in capture.snapshots(p)}))
        raise KeyError(f"page {page_url} has no {device!r} snapshot (devices: {devices})")
    if width is not None:
        for snap, _n in rows:
            if snap.width == int(width):
                return snap
        widths = ", ".join(str(w) for w in sorted({s.width for s, _ in rows}))
        raise KeyError(f"page {page_url} has no {device} screenshot {width} px wide (widths: {widths})")
    return rows[0][0]

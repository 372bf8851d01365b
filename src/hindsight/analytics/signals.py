"""Frustration signals of every session at once: rage, dead and error clicks, excessive
scrolling, quick backs and thrashed cursors (Clarity "smart events", FullStory signals).

All detectors work on the whole capture's events concatenated into one set of columns,
in (session, pageview, time) order, with segment boundaries instead of per-session loops,
so 100k sessions / 10M events take seconds. Thresholds live in :class:`SignalSettings`
(sources: /work/shared/reference/field-facts.md sections 2.1-2.6).

Decisions worth knowing:

- Rage and dead clicks use the rules of :mod:`hindsight.analytics.clicks` (shared with
  the heatmaps), so a click is marked the same way on a heatmap and in a session's signals.
- A rage burst is *one* ``rage_click`` signal. Its dead clicks are *one* ``dead_click``
  signal (``count`` = how many of the burst's clicks were dead), never one per click: the
  session is counted as having dead clicks, the burst is not reported five times over.
- A ``validation_error`` is one VALIDATION event (an error message the page showed for a
  form field), on that field.
- A click answered by a JavaScript error within ``error_window_ms`` is an ``error_click``
  and not also a ``dead_click``: the page did react, badly (Datadog and Clarity keep the two
  signals apart).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hindsight.analytics.clicks import (
    CLICK_KINDS,
    DEAD_RULE_KINDS,
    DEAD_WINDOW_MS,
    ERROR_WINDOW_MS,
    RAGE_MIN_CLICKS,
    RAGE_THRESHOLD_PX,
    RAGE_TIMEOUT_MS,
    dead_click_mask,
    error_click_mask,
    rage_click_mask,
)
from hindsight.store.columns import EventColumns
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind
from hindsight.store.reader import Capture

#: Signal kinds, in the order of their codes in ``SignalTable.kind``.
SIGNAL_KINDS = ("rage_click", "dead_click", "error_click", "excessive_scroll", "quick_back",
                "thrashed_cursor", "validation_error")
KIND_CODE = {name: i for i, name in enumerate(SIGNAL_KINDS)}
SIGNAL_LABELS = {
    "rage_click": "Rage clicks", "dead_click": "Dead clicks", "error_click": "Error clicks",
    "excessive_scroll": "Excessive scrolling", "quick_back": "Quick backs",
    "thrashed_cursor": "Thrashed cursor", "validation_error": "Validation errors",
}

_T_BITS = 32  # global time key: session rank in the high bits, ms since session start in the low


@dataclass(frozen=True)
class SignalSettings:
    """Detector thresholds (ms, CSS px). Defaults follow field-facts.md; thrash was tuned on the demo."""

    #: posthog-js rageclick.ts: 3 clicks, each < 1000 ms and < 30 px (Manhattan) after the previous.
    rage_clicks: int = RAGE_MIN_CLICKS
    rage_interval_ms: int = RAGE_TIMEOUT_MS
    rage_distance_px: int = RAGE_THRESHOLD_PX
    #: posthog-js dead clicks: no reaction (or page change) within 2500 ms.
    dead_window_ms: int = DEAD_WINDOW_MS
    #: A JavaScript error this soon after a click makes it an error click.
    error_window_ms: int = ERROR_WINDOW_MS
    #: Excessive scrolling: this many direction reversals, legs of at least leg_px, within window.
    scroll_reversals: int = 4
    scroll_leg_px: int = 150
    scroll_window_ms: int = 6000
    #: Quick back: left a page within this long after it loaded, back to the page before.
    quick_back_ms: int = 5000
    #: Thrashed cursor: within a window, path / net displacement, mean speed, direction changes
    #: (> 90° turns). Speed is the mean over the whole window, pauses included, so it sits far
    #: below a flick's peak: tuned on 100k demo sessions (617 planted thrashes: precision 1.0,
    #: recall 0.985; with 3 turns precision drops to 0.99, with 5 recall to 0.94).
    thrash_window_ms: int = 2000
    thrash_path_ratio: float = 4.0
    thrash_speed_px_s: float = 600.0
    thrash_direction_changes: int = 4
    #: Cursor steps shorter than this do not count for direction changes (hand tremor).
    thrash_min_step_px: float = 12.0
    #: Windows covering less time than this are not judged (too few samples for a speed).
    thrash_min_span_ms: int = 600

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def signal_rule(kind: str, settings: SignalSettings | None = None) -> str:
    """The rule of a signal kind in words, from the thresholds in force (tooltips, help): the
    numbers come from ``settings``, never copied into the GUI."""
    s = settings or SignalSettings()

    def sec(ms: int) -> str:
        return f"{ms / 1000:g} s"

    return {
        "rage_click": f"{s.rage_clicks}+ clicks within {sec(s.rage_interval_ms)} and {s.rage_distance_px} px "
                      "of each other",
        "dead_click": f"A click on something not clickable, or that got no reaction within {sec(s.dead_window_ms)} "
                      f"(a JavaScript error within {sec(s.error_window_ms)} makes it an error click)",
        "error_click": f"A click followed by a JavaScript error within {sec(s.error_window_ms)}",
        "excessive_scroll": f"{s.scroll_reversals}+ scroll direction reversals within {sec(s.scroll_window_ms)}",
        "quick_back": f"Left a page within {sec(s.quick_back_ms)} of it loading, back to the page before",
        "thrashed_cursor": "Fast, erratic back-and-forth cursor movement",
        "validation_error": "An error message the page showed for a form field (aria-invalid, an error class, "
                            "a role=alert / aria-live message next to it, or a custom event naming it)",
    }[kind]


# --------------------------------------------------------------------------------------
# The capture's events, concatenated
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureEvents:
    """Events of many sessions as one set of columns in (session, pageview seq, time) order.

    events : EventColumns, n rows
    pv : (n,) int32, per event the row of its pageview in the ``pv_*`` arrays
    pv_id, pv_session, pv_seq, pv_page, pv_snapshot : (p,) int64, pageviews by (session, seq)
    pv_start, pv_end, pv_load : (p,) int64 ms since session start; load = load time in ms
    pv_first : (p + 1,) int64, events of pageview i are rows pv_first[i]:pv_first[i + 1]
    session_ids : (s,) int64 sorted; pv_srank : (p,) int64 row of each pageview's session
    """

    events: EventColumns
    pv: np.ndarray
    pv_id: np.ndarray
    pv_session: np.ndarray
    pv_seq: np.ndarray
    pv_page: np.ndarray
    pv_snapshot: np.ndarray
    pv_start: np.ndarray
    pv_end: np.ndarray
    pv_load: np.ndarray
    pv_first: np.ndarray
    session_ids: np.ndarray
    pv_srank: np.ndarray

    def __len__(self) -> int:
        return len(self.events)

    def global_time(self, rows: np.ndarray | None = None) -> np.ndarray:
        """int64 keys ``session rank << 32 | t``: sortable across sessions, never colliding."""
        pv = self.pv if rows is None else self.pv[rows]
        t = self.events.t if rows is None else self.events.t[rows]
        return (self.pv_srank[pv] << _T_BITS) | t.astype(np.int64)


def _kind_lut(kinds) -> np.ndarray:
    """(256,) bool lookup: ``lut[events.kind]`` is a one-pass kind mask (faster than isin)."""
    lut = np.zeros(256, dtype=bool)
    lut[np.asarray(kinds, dtype=np.uint8)] = True
    return lut


def _session_filter(session_ids, flt: SessionFilter | None) -> SessionFilter | None:
    if session_ids is None:
        return flt
    ids = tuple(int(i) for i in np.asarray(session_ids).ravel())
    return (flt or SessionFilter()).replace(session_ids=ids)


def load_events(capture: Capture, session_ids=None, kinds: tuple[int, ...] | None = None,
                flt: SessionFilter | None = None, snapshot_ids=None, session_range=None) -> CaptureEvents:
    """Load the events of many sessions at once (all of the capture by default).

    Parameters
    ----------
    capture : Capture
    session_ids : array-like of int, optional
        Only these sessions.
    kinds : tuple of EventKind, optional
        Only events of these kinds (pageviews are all listed regardless).
    flt : SessionFilter, optional
        Only sessions matching it (ANDed with ``session_ids``).
    snapshot_ids : iterable of int, optional
        Only pageviews of these snapshots (e.g. one page).
    session_range : (lo, hi), optional
        Only pageviews of sessions ``lo <= session_id <= hi`` (a capture, not a partition).
    """
    if not isinstance(capture, Capture):   # a dataset partition reads its own Parquet files
        return capture.load_events(session_ids, kinds, flt, snapshot_ids)
    flt = _session_filter(session_ids, flt)
    where, params = (flt or SessionFilter()).to_sql("s")
    join = "" if where == "1" else " JOIN sessions s ON s.session_id = pv.session_id"
    if snapshot_ids is not None:
        snaps = ",".join(str(int(i)) for i in snapshot_ids)
        where = f"({where}) AND pv.snapshot_id IN ({snaps or 'NULL'})"
    if session_range is not None:
        where = f"({where}) AND pv.session_id BETWEEN ? AND ?"
        params = [*params, int(session_range[0]), int(session_range[1])]
    # One ordered scan of the pageviews table. The store has no public bulk reader of
    # pageviews with their packed events yet, and per-snapshot reads cost twice as much
    # (a join per snapshot, then a re-sort), hence the store's query helper.
    rows = capture._query(
        "SELECT pv.pageview_id, pv.session_id, pv.seq, pv.page_id, pv.snapshot_id, pv.start_ms, pv.end_ms, "
        f"pv.load_ms, pv.event_count, pv.events FROM pageviews pv{join} WHERE {where} ORDER BY pv.session_id, pv.seq",
        params,
    )
    # Checked columns (a damaged row is a CaptureError); damaged events are dropped and counted.
    pvc = capture.pageview_columns(rows)
    blobs = [r[9] for r in rows]
    del rows
    events, source = capture.decode_events(blobs, pvc, kinds, exact_kinds=False)
    del blobs
    return build_capture_events(pvc, events, source)


def build_capture_events(pvc: dict[str, np.ndarray], events: EventColumns, source: np.ndarray) -> CaptureEvents:
    """CaptureEvents from pageview columns in (session, seq) order and their events (``source``:
    per event its pageview's row, ascending)."""
    pv_id, pv_session, pv_seq, pv_page, pv_snapshot, pv_start, pv_end, pv_load = (
        pvc[name] for name in ("pageview_id", "session_id", "seq", "page_id", "snapshot_id", "start_ms",
                               "end_ms", "load_ms"))
    pv_row = source.astype(np.int32)
    pv_first = np.searchsorted(pv_row, np.arange(pv_id.size + 1, dtype=np.int32)).astype(np.int64)
    session_ids, pv_srank = np.unique(pv_session, return_inverse=True)
    return CaptureEvents(events, pv_row, pv_id, pv_session, pv_seq, pv_page, pv_snapshot,
                         pv_start, pv_end, pv_load, pv_first, session_ids.astype(np.int64),
                         pv_srank.astype(np.int64).ravel())


# --------------------------------------------------------------------------------------
# The signal table
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalTable:
    """Detected signals, one row each, ordered by (session, time).

    session_id : (n,) int64
    kind : (n,) uint8, index into ``SIGNAL_KINDS``
    t_ms : (n,) int64, ms since session start (first click of a burst, first reversal...)
    x, y : (n,) int32, document CSS px of the pageview's snapshot; -1 where the signal has no
        place (quick back; x of excessive scrolling, whose y is the viewport's scroll offset)
    element : (n,) int32, element index in the snapshot's element map, -1 for none
    selector : (n,) object, the element's CSS selector, '' for none
    pageview_id, snapshot_id : (n,) int64
    count : (n,) int32, clicks in the burst (rage, dead), reversals (scroll), direction
        changes (cursor), 1 otherwise
    """

    session_id: np.ndarray
    kind: np.ndarray
    t_ms: np.ndarray
    x: np.ndarray
    y: np.ndarray
    element: np.ndarray
    selector: np.ndarray
    pageview_id: np.ndarray
    snapshot_id: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return int(self.session_id.shape[0])

    @classmethod
    def empty(cls) -> "SignalTable":
        return cls.from_columns({})

    @classmethod
    def from_columns(cls, cols: dict) -> "SignalTable":
        dtypes = {"session_id": np.int64, "kind": np.uint8, "t_ms": np.int64, "x": np.int32, "y": np.int32,
                  "element": np.int32, "selector": object, "pageview_id": np.int64, "snapshot_id": np.int64,
                  "count": np.int32}
        n = len(next(iter(cols.values()))) if cols else 0
        out = {}
        for name, dt in dtypes.items():
            col = cols.get(name)
            fill = "" if dt is object else (0 if dt is np.uint8 else -1)
            out[name] = np.full(n, fill, dtype=dt) if col is None else np.asarray(col, dtype=dt)
        return cls(**out)

    def take(self, index) -> "SignalTable":
        return SignalTable(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def of_kind(self, kind: str) -> "SignalTable":
        return self.take(self.kind == KIND_CODE[kind])

    def kind_names(self) -> np.ndarray:
        return np.asarray(SIGNAL_KINDS, dtype=object)[self.kind]

    def rows(self) -> list[dict]:
        """Plain dicts (for JSON output and tables)."""
        names = self.kind_names()
        return [
            {"session_id": int(self.session_id[i]), "kind": names[i], "t_ms": int(self.t_ms[i]),
             "x": int(self.x[i]), "y": int(self.y[i]), "element": int(self.element[i]),
             "selector": self.selector[i], "pageview_id": int(self.pageview_id[i]), "count": int(self.count[i])}
            for i in range(len(self))
        ]


def _concat_tables(parts: list[dict]) -> SignalTable:
    parts = [p for p in parts if len(p["session_id"])]
    if not parts:
        return SignalTable.empty()
    cols = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    table = SignalTable.from_columns(cols)
    return table.take(np.lexsort((table.t_ms, table.session_id)))


# --------------------------------------------------------------------------------------
# Detectors: each takes CaptureEvents and returns a dict of signal columns
# --------------------------------------------------------------------------------------


def _part(ce: CaptureEvents, kind: str, rows: np.ndarray, t=None, x=None, y=None, element=None,
          count=None, pv=None) -> dict:
    """Signal columns for events ``rows`` (or pageview rows ``pv`` when given explicitly)."""
    ev = ce.events
    pv = ce.pv[rows] if pv is None else pv
    n = pv.shape[0]
    return {
        "session_id": ce.pv_session[pv],
        "kind": np.full(n, KIND_CODE[kind], np.uint8),
        "t_ms": ev.t[rows].astype(np.int64) if t is None else np.asarray(t, np.int64),
        "x": ev.x[rows] if x is None else np.asarray(x, np.int32),
        "y": ev.y[rows] if y is None else np.asarray(y, np.int32),
        "element": ev.target[rows].astype(np.int32) if element is None else np.asarray(element, np.int32),
        "pageview_id": ce.pv_id[pv],
        "snapshot_id": ce.pv_snapshot[pv],
        "count": np.ones(n, np.int32) if count is None else np.asarray(count, np.int32),
    }


def _click_runs(ce: CaptureEvents, clicks: np.ndarray, s: SignalSettings) -> np.ndarray:
    """Per click (rows in time order), the id of its run of consecutive near clicks."""
    ev = ce.events
    t = ev.t[clicks].astype(np.int64)
    x = ev.x[clicks].astype(np.int64)
    y = ev.y[clicks].astype(np.int64)
    pv = ce.pv[clicks]
    cont = np.zeros(clicks.size, dtype=bool)
    cont[1:] = ((pv[1:] == pv[:-1]) & (t[1:] - t[:-1] < s.rage_interval_ms)
                & (np.abs(x[1:] - x[:-1]) + np.abs(y[1:] - y[:-1]) < s.rage_distance_px))
    return np.cumsum(~cont) - 1


def _detect_clicks(ce: CaptureEvents, capture: Capture, s: SignalSettings) -> list[dict]:
    ev = ce.events
    clicks = np.flatnonzero(_kind_lut(CLICK_KINDS)[ev.kind])  # the rows clicks.click_mask marks
    if clicks.size == 0:
        return []
    out = []
    # Rage: the shared rule marks every click of a burst; one signal per burst.
    rage = rage_click_mask(ev.take(clicks), ce.pv[clicks], s.rage_distance_px, s.rage_interval_ms,
                           s.rage_clicks)
    run = _click_runs(ce, clicks, s)
    rage_runs = np.unique(run[rage])
    first_of_run = np.searchsorted(run, rage_runs, side="left")
    burst_size = np.bincount(run)[rage_runs]
    out.append(_part(ce, "rage_click", clicks[first_of_run], count=burst_size))

    # Error and dead clicks: the shared rules (hindsight.analytics.clicks), on the clicks and
    # the events that can answer them, of pageviews with clicks only; dead per snapshot (it
    # needs that snapshot's element map). An error click is never also a dead click.
    clicked_pv = np.unique(ce.pv[clicks])
    lo, hi = ce.pv_first[clicked_pv], ce.pv_first[clicked_pv + 1]
    size = hi - lo
    cand = np.repeat(lo - np.concatenate(([0], np.cumsum(size)[:-1])), size) + np.arange(int(size.sum()))
    relevant = cand[_kind_lut(DEAD_RULE_KINDS)[ev.kind[cand]]]
    rel_pv = ce.pv[relevant]
    err_rows = relevant[error_click_mask(ev.take(relevant), rel_pv, s.error_window_ms)]
    out.append(_part(ce, "error_click", err_rows))

    snap_of = ce.pv_snapshot[rel_pv]
    last_pv = np.ones(ce.pv_id.size, dtype=bool)
    last_pv[:-1] = ce.pv_srank[1:] != ce.pv_srank[:-1]
    pv_end_or_last = np.where(last_pv, -1, ce.pv_end)
    dead_rel = np.zeros(relevant.size, dtype=bool)
    for snap in np.unique(snap_of):
        m = np.flatnonzero(snap_of == snap)
        rows = relevant[m]
        dead_rel[m] = dead_click_mask(ev.take(rows), capture.elements(int(snap)), rel_pv[m],
                                      pv_end_or_last[rel_pv[m]], s.dead_window_ms, s.error_window_ms)
    dead_rows = relevant[dead_rel]
    dead_clicks = np.isin(clicks, dead_rows, assume_unique=True)
    # One dead_click per run of near clicks (a rage burst counts once, with its dead clicks).
    _, first_dead, n_dead = np.unique(run[dead_clicks], return_index=True, return_counts=True)
    rows = clicks[dead_clicks][first_dead]
    out.append(_part(ce, "dead_click", rows, count=n_dead))
    return out


def _detect_scroll(ce: CaptureEvents, s: SignalSettings) -> list[dict]:
    ev = ce.events
    rows = np.flatnonzero(ev.kind == EventKind.SCROLL)
    if rows.size < s.scroll_reversals + 1:
        return []
    pv = ce.pv[rows]
    y = ev.y[rows].astype(np.int64)
    first = np.ones(rows.size, dtype=bool)
    first[1:] = pv[1:] != pv[:-1]
    prev_y = np.empty_like(y)
    prev_y[1:] = y[:-1]
    prev_y[first] = 0  # a page opens scrolled to the top
    dy = y - prev_y
    moving = dy != 0
    rows, pv, dy = rows[moving], pv[moving], dy[moving]
    if rows.size == 0:
        return []
    sign = np.sign(dy)
    new_run = np.ones(rows.size, dtype=bool)
    new_run[1:] = (sign[1:] != sign[:-1]) | (pv[1:] != pv[:-1])
    run = np.cumsum(new_run) - 1
    extent = np.bincount(run, weights=dy)
    run_start = np.flatnonzero(new_run)
    # Legs shorter than leg_px are noise; same-direction legs around them merge.
    legs = np.flatnonzero(np.abs(extent) >= s.scroll_leg_px)
    leg_row = rows[run_start[legs]]
    leg_pv = pv[run_start[legs]]
    leg_sign = np.sign(extent[legs])
    rev = np.flatnonzero((leg_pv[1:] == leg_pv[:-1]) & (leg_sign[1:] != leg_sign[:-1])) + 1
    k = s.scroll_reversals
    if rev.size < k:
        return []
    r_row = leg_row[rev]
    r_pv = leg_pv[rev]
    r_t = ev.t[r_row].astype(np.int64)
    j = np.arange(rev.size - k + 1)
    window_ok = (r_pv[j + k - 1] == r_pv[j]) & (r_t[j + k - 1] - r_t[j] <= s.scroll_window_ms)
    q = np.flatnonzero(window_ok)
    if q.size == 0:
        return []
    # Overlapping qualifying windows of a pageview form one episode.
    new_ep = np.ones(q.size, dtype=bool)
    new_ep[1:] = (q[1:] - q[:-1] > k - 1) | (r_pv[q[1:]] != r_pv[q[:-1]])
    ep = np.cumsum(new_ep) - 1
    starts = q[new_ep]
    last_q = q[np.r_[np.flatnonzero(new_ep)[1:] - 1, q.size - 1]]
    reversals = last_q + k - starts
    del ep
    rows_out = r_row[starts]
    return [_part(ce, "excessive_scroll", rows_out, x=np.full(rows_out.size, -1), y=ev.y[rows_out],
                  element=np.full(rows_out.size, -1), count=reversals)]


def _detect_quick_back(ce: CaptureEvents, s: SignalSettings) -> list[dict]:
    n = ce.pv_id.size
    if n < 3:
        return []
    k = np.arange(1, n - 1)
    same = (ce.pv_srank[k - 1] == ce.pv_srank[k]) & (ce.pv_srank[k + 1] == ce.pv_srank[k])
    back = (ce.pv_page[k - 1] == ce.pv_page[k + 1]) & (ce.pv_page[k] != ce.pv_page[k - 1])
    dwell = ce.pv_end[k] - ce.pv_start[k] - ce.pv_load[k]
    hit = k[same & back & (dwell < s.quick_back_ms)]
    m = hit.size
    return [_part(ce, "quick_back", np.zeros(m, np.int64), t=ce.pv_end[hit], x=np.full(m, -1),
                  y=np.full(m, -1), element=np.full(m, -1), pv=hit)]


def _detect_thrash(ce: CaptureEvents, capture: Capture, s: SignalSettings) -> list[dict]:
    ev = ce.events
    rows = np.flatnonzero(ev.kind == EventKind.MOVE)
    k = s.thrash_direction_changes
    if rows.size < 3:
        return []
    pv = ce.pv[rows]
    # Sortable key within a pageview: pageview row in the high bits, so windows never cross.
    key = (pv.astype(np.int64) << _T_BITS) | ev.t[rows].astype(np.int64)
    x = ev.x[rows]
    y = ev.y[rows]
    # int32 steps (page coordinates stay far below 2**15, so squares and dots fit).
    dx = np.diff(x)  # step i: sample i -> i + 1
    dy = np.diff(y)
    boundary = np.flatnonzero(pv[1:] != pv[:-1])
    dx[boundary] = 0
    dy[boundary] = 0
    # A direction change: a step turns by more than 90° from the previous step of the same
    # pageview long enough to have a direction (the slow ends of a flick are tremor), counted
    # at the sample the turning step starts from.
    big = np.flatnonzero(dx * dx + dy * dy >= s.thrash_min_step_px ** 2)
    if big.size < 2:
        return []
    a, b = big[:-1], big[1:]
    turn_at = b[(pv[a] == pv[b]) & ((dx[a] * dx[b] + dy[a] * dy[b]) < 0)]
    if turn_at.size < max(k, 1):
        return []
    w = s.thrash_window_ms
    # Only windows holding k turns can qualify, so only anchors up to w before the first of
    # k turns that fit in w are judged (exact pre-filter; ordinary movement has few).
    if k > 0:
        tk = key[turn_at]
        dense = turn_at[np.flatnonzero(tk[k - 1:] - tk[:tk.size - k + 1] <= w)]
        if dense.size == 0:
            return []
        lo = np.searchsorted(key, key[dense] - w, side="left")
        size = dense - lo  # anchors lo .. dense - 1: strictly before the first turn
        offsets = np.repeat(lo - np.concatenate(([0], np.cumsum(size)[:-1])), size)
        cand = np.unique(np.arange(int(size.sum())) + offsets)
    else:
        cand = np.arange(rows.size)
    if cand.size == 0:
        return []
    i = cand
    j = np.searchsorted(key, key[i] + w, side="right") - 1
    # Path lengths over the judged windows only: cumulative step lengths over the union of
    # the windows (blocks of consecutive samples), not over every cursor sample.
    reach = np.maximum.accumulate(j)
    block_start = np.ones(i.size, dtype=bool)
    block_start[1:] = i[1:] > reach[:-1] + 1
    b_lo = i[block_start]
    b_hi = reach[np.r_[np.flatnonzero(block_start)[1:] - 1, i.size - 1]]
    size = b_hi - b_lo + 1
    region = np.repeat(b_lo - np.concatenate(([0], np.cumsum(size)[:-1])), size) + np.arange(int(size.sum()))
    rs = np.minimum(region, dx.size - 1)
    step = np.sqrt((dx[rs] * dx[rs] + dy[rs] * dy[rs]).astype(np.float64))
    step[region >= dx.size] = 0.0
    path = np.concatenate(([0.0], np.cumsum(step)))
    length = path[np.searchsorted(region, j)] - path[np.searchsorted(region, i)]
    span = (key[j] - key[i]).astype(np.float64)
    net = np.hypot((x[j] - x[i]).astype(np.float64), (y[j] - y[i]).astype(np.float64))
    # turns at samples i < m < j
    inner_turns = np.searchsorted(turn_at, j, side="left") - np.searchsorted(turn_at, i, side="right")
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(span > 0, length / span * 1000.0, 0.0)
    ok = ((span >= s.thrash_min_span_ms) & (length > s.thrash_path_ratio * net)
          & (speed > s.thrash_speed_px_s) & (inner_turns >= k))
    q, qj = i[ok], j[ok]
    if q.size == 0:
        return []
    # Overlapping qualifying windows of a pageview are one episode.
    reach = np.maximum.accumulate(qj)
    new_ep = np.ones(q.size, dtype=bool)
    new_ep[1:] = (pv[q[1:]] != pv[q[:-1]]) | (q[1:] > reach[:-1])
    starts = q[new_ep]
    r = rows[starts]
    counts = inner_turns[ok][new_ep]
    out = _part(ce, "thrashed_cursor", r, count=counts)
    out["element"] = _hit_elements(capture, ce.pv_snapshot[pv[starts]], ev.x[r], ev.y[r])
    return [out]


def _hit_elements(capture: Capture, snaps: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(snaps.size, -1, np.int32)
    for snap in np.unique(snaps):
        m = snaps == snap
        out[m] = capture.elements(int(snap)).hit_many(x[m], y[m])
    return out


def _selectors(capture: Capture, snaps: np.ndarray, element: np.ndarray) -> np.ndarray:
    out = np.full(snaps.size, "", dtype=object)
    for snap in np.unique(snaps):
        m = np.flatnonzero((snaps == snap) & (element >= 0))
        if m.size == 0:
            continue
        sel = capture.elements(int(snap)).selector
        out[m] = [sel[e] if e < len(sel) else "" for e in element[m].tolist()]
    return out


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------

#: Event kinds the detectors read (everything else is skipped while decoding).
SIGNAL_EVENT_KINDS = (EventKind.MOVE, EventKind.CLICK, EventKind.TAP, EventKind.SCROLL, EventKind.FOCUS,
                      EventKind.INPUT, EventKind.SUBMIT, EventKind.ERROR, EventKind.MUTATION,
                      EventKind.VALIDATION)


def signals_from_events(ce: CaptureEvents, capture: Capture, settings: SignalSettings | None = None) -> SignalTable:
    """Run every detector on already loaded events (see :func:`load_events`)."""
    s = settings or SignalSettings()
    parts: list[dict] = []
    parts += _detect_clicks(ce, capture, s)
    parts += _detect_scroll(ce, s)
    parts += _detect_quick_back(ce, s)
    parts += _detect_thrash(ce, capture, s)
    # A validation error the page showed, on its field (the event's target).
    parts.append(_part(ce, "validation_error", np.flatnonzero(ce.events.kind == EventKind.VALIDATION)))
    table = _concat_tables(parts)
    if len(table):
        table = SignalTable(**{**{f.name: getattr(table, f.name) for f in fields(table)},
                               "selector": _selectors(capture, table.snapshot_id, table.element)})
    return table


def compute_signals(capture: Capture, session_ids=None, settings: SignalSettings | None = None,
                    flt: SessionFilter | None = None) -> SignalTable:
    """Detect every frustration signal of the capture's sessions.

    Parameters
    ----------
    capture : Capture
    session_ids : array-like of int, optional
        Only these sessions (default: all, or those matching ``flt``).
    settings : SignalSettings, optional
        Thresholds (defaults: field-facts.md).
    flt : SessionFilter, optional

    Returns
    -------
    SignalTable
        One row per signal, ordered by (session_id, t_ms).
    """
    if isinstance(capture, Capture):
        ids = capture.session_ids(_session_filter(session_ids, flt))
        if ids.size > SIGNAL_BATCH_SESSIONS:
            return _signals_in_batches(capture, ids, session_ids, flt, settings)
    ce = load_events(capture, session_ids, SIGNAL_EVENT_KINDS, flt)
    return signals_from_events(ce, capture, settings)


#: Sessions whose events :func:`compute_signals` holds at once (bounded memory: ~1/6 of the
#: 100k demo's events instead of all of them).
SIGNAL_BATCH_SESSIONS = 16_384


def session_ranges(ids: np.ndarray, per: int) -> list[tuple[int, int]]:
    """``(lo, hi)`` session id ranges (for ``load_events(session_range=...)``) of ``per`` of the
    sorted ``ids`` each, consecutive and together covering every id (so no pageview is left
    out, also one whose session row is missing)."""
    bounds = ids[::per].tolist()[1:]
    return list(zip([-(2**63)] + bounds, [b - 1 for b in bounds] + [2**63 - 1]))


def _signals_in_batches(capture: Capture, ids: np.ndarray, session_ids, flt, settings) -> SignalTable:
    """The signals of sessions ``ids`` (sorted), a batch of sessions at a time: every detector
    looks at one session's events only, so the tables of disjoint batches joined are the table
    of all (as a dataset's partitions are). Consecutive id ranges that together cover every id,
    so no pageview is left out (also one whose session row is missing)."""
    tables = []
    for lo, hi in session_ranges(ids, SIGNAL_BATCH_SESSIONS):
        ce = load_events(capture, session_ids, SIGNAL_EVENT_KINDS, flt, session_range=(lo, hi))
        tables.append(signals_from_events(ce, capture, settings))
        del ce
    tables = [t for t in tables if len(t)]
    if not tables:
        return SignalTable.empty()
    cols = {f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(tables[0])}
    table = SignalTable(**cols)
    return table.take(np.lexsort((table.t_ms, table.session_id)))

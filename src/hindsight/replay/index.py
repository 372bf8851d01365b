"""Per-category event indexes of one session, for O(log n) state lookups at any time.

Every lookup the replay needs ("the last SCROLL at or before t in this pageview") is a
bisection on a composite key ``pageview << 32 | t`` over the events of one category, so a
frame is built from a handful of bisections instead of a replay from the session start.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from hindsight.store.columns import EventColumns
from hindsight.store.kinds import EventKind as K
from hindsight.store.records import PageView

#: Bits of the event time in a composite key (times are uint32 ms).
KEY_SHIFT = 32


def composite_key(pv: int, t_ms: float) -> int:
    """Key of time ``t_ms`` (floored) in pageview ``pv``; events at or before it sort at or below it."""
    return (int(pv) << KEY_SHIFT) + math.floor(t_ms)


def sort_events(events: EventColumns, pv_index: np.ndarray) -> tuple[EventColumns, np.ndarray]:
    """Events stably sorted by time (then pageview), and the pageview index of each, reordered alike."""
    n = len(events)
    if n < 2:
        return events, pv_index
    t = events.t.astype(np.int64)
    pv = pv_index.astype(np.int64)
    if bool(np.all(t[1:] >= t[:-1])) and bool(np.all((t[1:] > t[:-1]) | (pv[1:] >= pv[:-1]))):
        return events, pv_index
    order = np.lexsort((pv, t))
    return events.take(order), pv_index[order]


@dataclass
class Category:
    """Events of some kinds in (pageview, time) order.

    idx : (m,) int64, positions in the session's (time-sorted) events
    pv : (m,) int64 pageview index; t : (m,) int64 ms
    x, y, kind, target, value : (m,) in the stored dtypes (x, y int32 document px)
    key : (m,) int64 composite keys ``pv << 32 | t``, ascending
    """

    idx: np.ndarray
    pv: np.ndarray
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    kind: np.ndarray
    target: np.ndarray
    value: np.ndarray
    key: np.ndarray

    @classmethod
    def build(cls, events: EventColumns, keys: np.ndarray, idx: np.ndarray) -> "Category":
        """The events at positions ``idx`` (ascending) of time-sorted ``events`` with composite ``keys``."""
        key = keys[idx]
        # Time-sorted events are usually pageview-sorted too; overlapping pageviews are not.
        if key.size > 1 and not bool(np.all(key[1:] >= key[:-1])):
            order = np.argsort(key, kind="stable")
            idx, key = idx[order], key[order]
        pv = key >> KEY_SHIFT
        return cls(idx, pv, key - (pv << KEY_SHIFT), events.x[idx], events.y[idx], events.kind[idx],
                   events.target[idx], events.value[idx], key)

    def __len__(self) -> int:
        return int(self.idx.shape[0])

    def last_at(self, pv: int, t_ms: float) -> int:
        """Position of the last event of pageview ``pv`` at or before ``t_ms``, -1 if none."""
        j = int(self.key.searchsorted(composite_key(pv, t_ms), "right")) - 1
        if j >= 0 and int(self.pv[j]) == pv:
            return j
        return -1

    def first_of(self, pv: int) -> int:
        """Position of the first event of pageview ``pv``, -1 if it has none."""
        j = int(self.key.searchsorted(int(pv) << KEY_SHIFT, "left"))
        if j < len(self.key) and int(self.pv[j]) == pv:
            return j
        return -1

    def position(self, pv: int, t_ms: float, side: str = "right") -> int:
        """Insertion position of time ``t_ms`` of pageview ``pv`` in the keys."""
        return int(self.key.searchsorted(composite_key(pv, t_ms), side))

    def last_at_many(self, pv: np.ndarray, t_ms: np.ndarray) -> np.ndarray:
        """Vectorised ``last_at``: (n,) int64 positions, -1 where none."""
        t_ms = np.asarray(t_ms)
        pv = np.broadcast_to(np.asarray(pv, dtype=np.int64), t_ms.shape)
        if len(self) == 0:
            return np.full(t_ms.shape, -1, dtype=np.int64)
        q = (pv << KEY_SHIFT) + np.floor(t_ms).astype(np.int64)
        j = np.searchsorted(self.key, q, side="right") - 1
        ok = (j >= 0) & (self.pv[np.maximum(j, 0)] == pv)
        return np.where(ok, j, -1)


POINTER = (K.CLICK, K.TAP, K.DBLCLICK)
_FOCUS = int(K.FOCUS)


class EventIndex:
    """The session's events sorted by time plus one ``Category`` per kind of state.

    Parameters
    ----------
    pageviews : the session's pageviews in order
    events : EventColumns (any order; sorted here)
    pv_index : (n,) pageview index of each event (None: the last pageview started at its time)
    """

    def __init__(self, pageviews: list[PageView], events: EventColumns, pv_index: np.ndarray | None = None):
        if pv_index is None:  # by time: each event belongs to the last pageview started
            starts = np.array([pv.start_ms for pv in pageviews], dtype=np.int64)
            pv_index = np.maximum(np.searchsorted(starts, events.t.astype(np.int64), side="right") - 1, 0)
            pv_index = pv_index.astype(np.int32)
        pv_index = np.asarray(pv_index)
        if pv_index.shape != (len(events),):
            raise ValueError(f"pv_index has shape {pv_index.shape}, expected ({len(events)},)")
        events, pv_index = sort_events(events, pv_index)
        self.pageviews = list(pageviews)
        self.events = events
        self.pv_index = pv_index.astype(np.int32, copy=False)
        self.t = events.t.astype(np.int64)
        keys = (self.pv_index.astype(np.int64) << KEY_SHIFT) + self.t
        # One stable sort by kind gives every kind's events in time order.
        by_kind = np.argsort(events.kind, kind="stable")
        bounds = [0] + np.cumsum(np.bincount(events.kind, minlength=256)).tolist()

        def positions(*kinds: int) -> np.ndarray:
            parts = [by_kind[bounds[k]:bounds[k + 1]] for k in kinds]
            return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))

        def category(*kinds: int) -> Category:
            return Category.build(events, keys, positions(*kinds))

        self.moves = category(K.MOVE)
        self.scrolls = category(K.SCROLL)
        self.resizes = category(K.RESIZE)
        self.pointer = category(*POINTER)
        self.focus = category(K.FOCUS, K.BLUR)
        self.inputs = category(K.INPUT)
        self.visibility = category(K.VISIBILITY)
        self.loads = category(K.LOAD)

        n_pv = len(self.pageviews)
        self.pv_start = np.array([pv.start_ms for pv in self.pageviews], dtype=np.int64)
        self.pv_starts = self.pv_start.tolist()
        ends = np.array([pv.end_ms for pv in self.pageviews], dtype=np.int64)
        if len(events) and n_pv:
            last = np.full(n_pv, -1, dtype=np.int64)
            last[np.clip(self.pv_index, 0, n_pv - 1)] = self.t  # times ascend: the last write is the max
            ends = np.maximum(ends, last)
        self.pv_end = np.maximum(ends, self.pv_start)
        # Loading lasts until the pageview's LOAD event, else for its recorded load time.
        self.pv_loaded = self.pv_start + np.array([pv.load_ms for pv in self.pageviews], dtype=np.int64)
        if len(self.loads):
            first = np.ones(len(self.loads), dtype=bool)
            first[1:] = self.loads.pv[1:] != self.loads.pv[:-1]
            ok = first & (self.loads.pv < n_pv)
            self.pv_loaded[self.loads.pv[ok]] = self.loads.t[ok]
        self.pv_loaded_list = self.pv_loaded.tolist()

        # The screen position of each move (document position minus the scroll at that time):
        # the cursor stays put on screen while the page scrolls under it.
        m = self.moves
        s = self.scrolls.last_at_many(m.pv, m.t)
        if len(self.scrolls):
            self.move_screen_x = m.x - np.where(s >= 0, self.scrolls.x[np.maximum(s, 0)], 0)
            self.move_screen_y = m.y - np.where(s >= 0, self.scrolls.y[np.maximum(s, 0)], 0)
        else:
            self.move_screen_x, self.move_screen_y = m.x, m.y

        # Field lengths: per (pageview, field) the times and values of its INPUT events.
        self.fields: dict[int, dict[int, tuple[list, list]]] = {}
        inp = self.inputs
        if len(inp):
            order = np.lexsort((inp.t, inp.target, inp.pv))
            pv_s, tg_s = inp.pv[order], inp.target[order]
            t_s, v_s = inp.t[order].tolist(), inp.value[order].tolist()
            brk = np.flatnonzero((pv_s[1:] != pv_s[:-1]) | (tg_s[1:] != tg_s[:-1])) + 1
            bounds_ = np.concatenate(([0], brk, [len(order)])).tolist()
            pv_l, tg_l = pv_s.tolist(), tg_s.tolist()
            for a, b in zip(bounds_[:-1], bounds_[1:]):
                self.fields.setdefault(pv_l[a], {})[tg_l[a]] = (t_s[a:b], v_s[a:b])

    # -- scalar state lookups ---------------------------------------------------------------
    def pageview_at(self, t_ms: float) -> int:
        if not self.pv_starts:
            return -1
        return max(0, bisect_right(self.pv_starts, t_ms) - 1)

    def scroll_at(self, pv: int, t_ms: float) -> tuple[float, float]:
        j = self.scrolls.last_at(pv, t_ms)
        if j < 0:
            return 0.0, 0.0
        return float(self.scrolls.x[j]), float(self.scrolls.y[j])

    def focused_at(self, pv: int, t_ms: float) -> int:
        j = self.focus.last_at(pv, t_ms)
        if j < 0 or int(self.focus.kind[j]) != _FOCUS:
            return -1
        return int(self.focus.target[j])

    def hidden_at(self, pv: int, t_ms: float) -> bool:
        j = self.visibility.last_at(pv, t_ms)
        return j >= 0 and int(self.visibility.value[j]) == 0

    def field_lengths_at(self, pv: int, t_ms: float) -> dict[int, int]:
        out: dict[int, int] = {}
        for target, (times, values) in self.fields.get(pv, {}).items():
            j = bisect_right(times, t_ms) - 1
            if j >= 0:
                out[target] = int(values[j])
        return out

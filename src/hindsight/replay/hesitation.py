"""Hesitations: spans of a few seconds in which a visitor on a loaded, visible page made no progress.

A hesitation is a gap of more than ``threshold_ms`` between "progress" events: a MOVE taking
the cursor more than ``still_px`` from where the span started, or any SCROLL, INPUT, CLICK,
TAP, FOCUS/BLUR, RESIZE, SUBMIT or page change. With a form field focused it is a ``'field'``
hesitation (focused, not typing), otherwise ``'still'``. Gaps longer than ``max_ms`` are
inactivity (see ``inactivity.py``), and time while loading or with the tab hidden never counts.

The gaps are found with numpy over all events at once; only the few candidate gaps (longer
than the threshold) are examined one by one for slow cursor drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hindsight.replay.index import KEY_SHIFT, EventIndex
from hindsight.store.kinds import EventKind as K
from hindsight.store.records import ElementMap

#: Kinds that always count as progress.
PROGRESS_KINDS = (K.SCROLL, K.INPUT, K.CLICK, K.TAP, K.DBLCLICK, K.FOCUS, K.BLUR, K.SUBMIT,
                  K.RESIZE, K.TOUCHMOVE)
#: Kinds that change the state a span is judged by (loaded, visible), so spans split at them.
STATE_KINDS = (K.LOAD, K.VISIBILITY)
_SPLITS = np.zeros(256, dtype=bool)
_SPLITS[list(PROGRESS_KINDS + STATE_KINDS)] = True


def element_kind(emap: ElementMap | None, idx: int) -> str:
    """What an element is, for text: ``'field'`` (input, select, textarea: something to fill in),
    ``'button'``, ``'link'``, ``'image'`` or ``'text'`` (anything else); '' if unknown."""
    if emap is None or not 0 <= idx < len(emap):
        return ""
    tag, role = emap.tag[idx], emap.role[idx]
    if tag == "button" or role in ("button", "menuitem", "tab", "switch"):
        return "button"
    if tag == "a" or role == "link" or emap.href[idx]:
        return "link"
    if tag in ("input", "select", "textarea") or emap.field[idx] is not None:
        return "field"
    if tag == "img" or role == "img":
        return "image"
    return "text"


@dataclass(frozen=True)
class Hesitation:
    """A span without progress.

    start_ms, end_ms : ms since session start
    reason : ``'field'`` (a focused form field, no typing) or ``'still'`` (cursor nearly still)
    element : element index of the focused field, or of the element under the cursor; -1 if none
    selector, label : of that element ('' if none)
    pageview_index : index into the timeline's pageviews
    x, y : document CSS px, the field's centre or the cursor
    has_cursor : False on touch devices (no cursor: nothing happened at all)
    kind : what the element is (``element_kind``: field, button, link, image, text; '' if none)
    """

    start_ms: int
    end_ms: int
    reason: str
    element: int
    selector: str
    label: str
    pageview_index: int
    x: float
    y: float
    has_cursor: bool = True
    kind: str = ""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def describe(self) -> str:
        """One line for a banner, e.g. "Hesitated 5.2 s on the Phone number field"."""
        secs = f"{self.duration_ms / 1000:.1f} s"
        name = self.label or self.selector
        if self.reason == "field":
            if name:
                return f"Hesitated {secs} on the {name} field"
            return f"Hesitated {secs} on a form field"
        what = f" the {name} {self.kind}" if self.kind and self.kind != "text" else f" '{name}'"
        if not self.has_cursor:  # touch: there is no cursor to be still
            return f"No touch for {secs}" + (f" near{what}" if name else "")
        if name:
            return f"Cursor still {secs} over{what}"
        return f"Cursor still {secs}"


def _resolve(timeline_or_parts) -> tuple[EventIndex, dict[int, ElementMap], tuple[int, int]]:
    """(index, element maps by snapshot id, fallback viewport) from a timeline or raw parts.

    Parts are ``(pageviews, events, pv_index)`` or ``(pageviews, events, pv_index, element_maps)``.
    """
    ix = getattr(timeline_or_parts, "index", None)
    if isinstance(ix, EventIndex):
        tl = timeline_or_parts
        return ix, tl.element_maps, (tl.default_viewport)
    if isinstance(timeline_or_parts, EventIndex):
        return timeline_or_parts, {}, (0, 0)
    parts = tuple(timeline_or_parts)
    pageviews, events, pv_index = parts[:3]
    emaps = parts[3] if len(parts) > 3 and parts[3] is not None else {}
    return EventIndex(pageviews, events, pv_index), emaps, (0, 0)


def _candidate_gaps(ix: EventIndex, threshold_ms: int, still_px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pageview, start, end) of every gap longer than the threshold between progress events."""
    ev = ix.events
    n_pv = len(ix.pageviews)
    mask = _SPLITS[ev.kind]
    m = ix.moves
    if len(m):
        # A move is progress if the hand moved more than still_px since the previous sample
        # (on screen, so a scroll in between does not count twice); slow drift within a
        # candidate gap is caught in _split_drift.
        dx = np.diff(ix.move_screen_x).astype(np.int64)
        dy = np.diff(ix.move_screen_y).astype(np.int64)
        big = np.ones(len(m), dtype=bool)
        big[1:] = (dx * dx + dy * dy > still_px * still_px) | (m.pv[1:] != m.pv[:-1])
        mask[m.idx[big]] = True
    pvs = np.arange(n_pv, dtype=np.int64)
    bp = np.concatenate((ix.pv_index[mask].astype(np.int64), pvs, pvs))
    bt = np.concatenate((ix.t[mask], ix.pv_start, ix.pv_end))
    key = np.sort((bp << KEY_SHIFT) + bt, kind="stable")  # nearly sorted already: timsort is fast
    bp = key >> KEY_SHIFT
    bt = key - (bp << KEY_SHIFT)
    dur = np.diff(bt)
    cand = np.flatnonzero((dur > threshold_ms) & (bp[1:] == bp[:-1]) & (bp[1:] < n_pv))
    return bp[cand], bt[cand], bt[cand + 1]


def _cursor_at(ix: EventIndex, pv: int, t: float) -> tuple[float, float] | None:
    j = ix.moves.last_at(pv, t)
    if j < 0:
        return None
    sx, sy = ix.scroll_at(pv, t)
    return float(ix.move_screen_x[j]) + sx, float(ix.move_screen_y[j]) + sy


def _split_drift(ix: EventIndex, pv: int, a: int, b: int, still_px: float) -> list[tuple[int, int]]:
    """Split the gap (a, b) where small moves have drifted more than still_px from the span start."""
    m = ix.moves
    lo = m.position(pv, a, "right")
    hi = m.position(pv, b, "left")
    if hi <= lo:
        return [(a, b)]
    anchor = _cursor_at(ix, pv, a)
    if anchor is None:
        return [(a, b)]
    xs, ys, ts = m.x[lo:hi], m.y[lo:hi], m.t[lo:hi]
    out = []
    start = a
    ax, ay = anchor
    i = 0
    while i < len(ts):
        far = np.flatnonzero(np.hypot(xs[i:] - ax, ys[i:] - ay) > still_px)
        if far.size == 0:
            break
        j = i + int(far[0])
        out.append((start, int(ts[j])))
        start, ax, ay = int(ts[j]), float(xs[j]), float(ys[j])
        i = j + 1
    out.append((start, b))
    return out


def detect_hesitations(timeline_or_parts, threshold_ms: int = 2500, still_px: float = 12.0,
                       max_ms: int = 10_000, touch_still: bool = False) -> list[Hesitation]:
    """Hesitations of one session, in time order.

    Parameters
    ----------
    timeline_or_parts : a ``SessionTimeline``, or ``(pageviews, events, pv_index[, element_maps])``
        where ``element_maps`` maps snapshot id to ``ElementMap`` (selectors and labels).
    threshold_ms : a span must last longer than this (ms) to be a hesitation.
    still_px : cursor movement (document CSS px) from the span's start that counts as progress.
    max_ms : spans longer than this are inactivity, not hesitation.
    touch_still : also report ``'still'`` spans of pageviews without a cursor (touch). Off by
        default: with no cursor to watch, a still thumb is mostly reading, not hesitating.
    """
    ix, emaps, viewport = _resolve(timeline_or_parts)
    if not ix.pageviews:
        return []
    pvs, starts, ends = _candidate_gaps(ix, threshold_ms, still_px)
    out: list[Hesitation] = []
    for pv, a, b in zip(pvs.tolist(), starts.tolist(), ends.tolist()):
        for s, e in _split_drift(ix, pv, a, b, still_px):
            if not (threshold_ms < e - s <= max_ms):
                continue
            if s < ix.pv_loaded_list[pv] or ix.hidden_at(pv, s):
                continue
            h = _describe_span(ix, emaps, viewport, pv, s, e)
            if h.reason == "still" and not h.has_cursor and not touch_still:
                continue
            out.append(h)
    return out


def _describe_span(ix: EventIndex, emaps: dict[int, ElementMap], viewport: tuple[int, int],
                   pv: int, s: int, e: int) -> Hesitation:
    emap = emaps.get(ix.pageviews[pv].snapshot_id)
    focused = ix.focused_at(pv, s)
    if focused >= 0 and emap is not None and element_kind(emap, focused) != "field":
        focused = -1  # a focused button or link (it was clicked) is not a field left unfilled
    if focused >= 0:
        x = y = 0.0
        selector = label = ""
        if emap is not None and focused < len(emap):
            bx, by, bw, bh = emap.boxes[focused].tolist()
            x, y = bx + bw / 2, by + bh / 2
            selector, label = emap.selector[focused], emap.label[focused]
        return Hesitation(s, e, "field", focused, selector, label, pv, float(x), float(y), kind="field")
    cursor = _cursor_at(ix, pv, s)
    has_cursor = cursor is not None
    if cursor is None:
        # Touch: where the finger last touched, else the middle of the viewport.
        j = ix.pointer.last_at(pv, s)
        if j >= 0:
            cursor = (float(ix.pointer.x[j]), float(ix.pointer.y[j]))
        else:
            sx, sy = ix.scroll_at(pv, s)
            cursor = (sx + viewport[0] / 2, sy + viewport[1] / 2)
    element = emap.hit(*cursor) if emap is not None else -1
    selector = emap.selector[element] if element >= 0 else ""
    label = emap.label[element] if element >= 0 else ""
    return Hesitation(s, e, "still", element, selector, label, pv, float(cursor[0]), float(cursor[1]),
                      has_cursor, element_kind(emap, element))

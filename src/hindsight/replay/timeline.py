"""A session prepared for replay: what is on screen at any time, as a pure function of t.

``SessionTimeline.load`` reads a session once and indexes its events by category; then
``frame_at(t)`` answers with a few bisections (scroll, cursor, focus, fields, ripples...),
never by replaying from the start, so seeking and playing give the same frame.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from hindsight.replay.hesitation import Hesitation, detect_hesitations
from hindsight.replay.inactivity import detect_inactivity, hidden_spans
from hindsight.replay.index import EventIndex, composite_key
from hindsight.store.columns import EventColumns
from hindsight.store.kinds import EventKind as K
from hindsight.store.records import ElementMap, Page, PageView, Session, Snapshot

RIPPLE_MS = 600      # a click's ring expands for this long
TRAIL_MS = 500       # cursor trail length
INTERP_MAX_MS = 500  # cursor samples further apart than this are not interpolated
ONE_FRAME_MS = 100   # frame step when no event is ahead

MARKER_KINDS = ("click", "tap", "error", "page", "hesitation", "inactive", "submit", "validation", "custom")


@dataclass(frozen=True)
class Ripple:
    """A click or tap drawn as an expanding ring for ``RIPPLE_MS``.

    x, y : document CSS px; age_ms : 0 at the click; kind : ``EventKind`` CLICK / TAP / DBLCLICK;
    target : element index or -1.
    """

    x: float
    y: float
    age_ms: int
    kind: int
    target: int


@dataclass(frozen=True, eq=False)
class Frame:
    """What the replay shows at ``t_ms``. Coordinates are document CSS px of the snapshot.

    trail : (k, 2) float32 cursor positions over the last ``TRAIL_MS`` (oldest first; the
    last row is the cursor now). Frames compare equal field by field (trail by value).
    """

    t_ms: int
    pageview_index: int
    snapshot_id: int
    scroll_x: int
    scroll_y: int
    viewport_w: int
    viewport_h: int
    cursor: tuple[float, float] | None
    trail: np.ndarray
    ripples: tuple[Ripple, ...]
    focused: int
    field_lengths: dict[int, int]
    hidden: bool
    loading: bool
    #: "touch" on a touch pageview (phone/tablet device class, or taps recorded): taps are
    #: drawn as a finger mark and there is no arrow cursor (cursor None, empty trail); else "mouse".
    pointer: str = "mouse"
    #: chosen state of selects / radios / checkboxes: element index -> option index (select)
    #: or 1 / 0 (checked / not); only controls with an INPUT event so far.
    choices: dict[int, int] = field(default_factory=dict)
    #: the page state showing (``store/states.py``): its screenshot replaces the snapshot's;
    #: -1 the snapshot's own screenshot
    state_id: int = -1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        for name in self.__dataclass_fields__:
            a, b = getattr(self, name), getattr(other, name)
            if name == "trail":
                if a.shape != b.shape or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Markers:
    """Points of interest for the timeline bar, sorted by time.

    t_ms, end_ms : (m,) int64 ms (end_ms == t_ms for instants); kind : (m,) str, one of
    ``MARKER_KINDS``; label : (m,) object array of str.
    """

    t_ms: np.ndarray
    kind: np.ndarray
    label: np.ndarray
    end_ms: np.ndarray

    def __len__(self) -> int:
        return int(self.t_ms.shape[0])

    def select(self, kinds=None) -> np.ndarray:
        """Boolean mask of markers whose kind is in ``kinds`` (all if None)."""
        if kinds is None:
            return np.ones(len(self), dtype=bool)
        if isinstance(kinds, str):
            kinds = (kinds,)
        return np.isin(self.kind, np.asarray(list(kinds), dtype=str))


def select_options(emap: ElementMap, select: int) -> list[int]:
    """Element indices of the options of select ``select`` (document order), [] if none mapped."""
    prefix = emap.selector[select] + " > option:"
    return [i for i in range(select + 1, len(emap)) if emap.tag[i] == "option"
            and emap.selector[i].startswith(prefix)]


def _control_kinds(emap: ElementMap) -> dict[int, str]:
    """Element index -> "select" / "radio" / "checkbox" for the map's choice controls."""
    out = {}
    for i in range(len(emap)):
        role, tag = emap.role[i], emap.tag[i]
        if tag == "select":
            out[i] = "select"
        elif role in ("radio", "checkbox") and emap.field[i] is not None:
            out[i] = role
    return out


def _empty_trail() -> np.ndarray:
    return np.zeros((0, 2), dtype=np.float32)


class SessionTimeline:
    """Everything needed to build frames of one session; built once per session load.

    Attributes
    ----------
    session : Session; pageviews : list[PageView]
    events : EventColumns sorted by time; pv_index : (n,) int32 pageview index per event
    snapshots : dict snapshot id -> Snapshot; element_maps : dict snapshot id -> ElementMap
    pages : dict page id -> Page; strings : dict string id -> text
    duration_ms : int, end of the last pageview or event
    markers : Markers; hesitations : list[Hesitation]; inactivity : list[(start_ms, end_ms)]
    """

    def __init__(self, session: Session | None, pageviews: list[PageView], events: EventColumns,
                 pv_index: np.ndarray | None = None, snapshots: dict[int, Snapshot] | None = None,
                 element_maps: dict[int, ElementMap] | None = None, pages: dict[int, Page] | None = None,
                 strings: dict[int, str] | None = None,
                 states: dict[int, tuple[np.ndarray, np.ndarray]] | None = None):
        self.index = EventIndex(pageviews, events, pv_index)
        self.session = session
        self.pageviews = self.index.pageviews
        self.events = self.index.events
        self.pv_index = self.index.pv_index
        self.snapshots = dict(snapshots or {})
        self.element_maps = dict(element_maps or {})
        self.pages = dict(pages or {})
        self.strings = dict(strings or {})
        #: page states per pageview seq: (t_ms, state_id) sorted by time (``store.states``)
        self.states = dict(states or {})
        #: state id -> (n, 4) element boxes of the snapshot's map in that state (``load`` fills it)
        self.state_boxes: dict[int, np.ndarray] = {}
        ends = [int(session.duration_ms)] if session is not None else [0]
        if len(self.index.pv_end):
            ends.append(int(self.index.pv_end.max()))
        if len(self.index.t):
            ends.append(int(self.index.t[-1]))
        self.duration_ms = max(ends)
        vw = int(session.viewport_w) if session is not None else 0
        vh = int(session.viewport_h) if session is not None else 0
        if (vw <= 0 or vh <= 0) and self.snapshots:
            snap = next(iter(self.snapshots.values()))
            vw, vh = vw if vw > 0 else snap.width, vh if vh > 0 else min(snap.height, 900)
        self.default_viewport = (vw, vh)
        self.hesitations: list[Hesitation] = detect_hesitations(self)
        self.inactivity: list[tuple[int, int]] = detect_inactivity(self)
        self.markers = self._build_markers()
        self.pv_touch = self._touch_pageviews()
        self._kinds_cache: dict[int, dict[int, str]] = {}
        self._frame_times: np.ndarray | None = None

    @classmethod
    def load(cls, capture, session_id: int) -> "SessionTimeline":
        """Read session ``session_id`` from an open ``Capture`` and index it."""
        session = capture.session(session_id)
        pageviews, events, pv_index = capture.session_events(session_id)
        snapshots: dict[int, Snapshot] = {}
        emaps: dict[int, ElementMap] = {}
        for sid in sorted({pv.snapshot_id for pv in pageviews}):
            try:
                snapshots[sid] = capture.snapshot(sid)
            except KeyError:
                continue
            emaps[sid] = capture.elements(sid)
        pages = {p.page_id: p for p in capture.pages()}
        from hindsight.store.states import session_states, state_boxes

        states = session_states(capture, session_id)
        tl = cls(session, pageviews, events, pv_index, snapshots, emaps, pages, capture.strings(), states)
        tl.state_boxes = {int(s): state_boxes(capture, int(s)) for _, (_, ids) in states.items() for s in ids if s >= 0}
        return tl

    @classmethod
    def from_parts(cls, pageviews: list[PageView], events: EventColumns, pv_index=None,
                   session: Session | None = None, **kw) -> "SessionTimeline":
        """A timeline from in-memory parts (importers, tests)."""
        return cls(session, pageviews, events, pv_index, **kw)

    # -- time -------------------------------------------------------------------------------
    def clamp(self, t_ms: float) -> float:
        if t_ms != t_ms:  # NaN
            return 0.0
        return min(max(float(t_ms), 0.0), float(self.duration_ms))

    def pageview_at(self, t_ms: float) -> int:
        """Index of the pageview on screen at ``t_ms`` (the last one started), -1 if none."""
        return self.index.pageview_at(self.clamp(t_ms))

    def events_between(self, t0: float, t1: float) -> np.ndarray:
        """Indices (into ``events``) of events with ``t0 < t <= t1``: what the playhead just passed."""
        lo = np.searchsorted(self.index.t, math.floor(t0), side="right")
        hi = np.searchsorted(self.index.t, math.floor(t1), side="right")
        return np.arange(lo, max(lo, hi), dtype=np.int64)

    def frame_times(self) -> np.ndarray:
        """Sorted unique event times (int64 ms), for stepping frame by frame."""
        if self._frame_times is None:
            self._frame_times = np.unique(self.index.t)
        return self._frame_times

    # -- frames -----------------------------------------------------------------------------
    def _touch_pageviews(self) -> list[bool]:
        """Per pageview: touch input (its snapshot's device is mobile/tablet, or it has taps)."""
        taps = set(np.unique(self.pv_index[self.events.kind == K.TAP]).tolist()) if len(self.events) else set()
        out = []
        for i, pv in enumerate(self.pageviews):
            snap = self.snapshots.get(pv.snapshot_id)
            out.append(i in taps or (snap is not None and snap.device in ("mobile", "tablet")))
        return out

    def viewport_at(self, pv: int, t_ms: float) -> tuple[int, int]:
        r = self.index.resizes
        j = r.last_at(pv, t_ms)
        if j < 0:
            j = r.first_of(pv)
        if j < 0:
            return self.default_viewport
        return int(r.x[j]), int(r.y[j])

    def cursor_at(self, pv: int, t: float) -> tuple[float, float] | None:
        """Cursor in document px: interpolated on screen between close samples, riding the scroll after."""
        ix = self.index
        j = ix.moves.last_at(pv, t)
        if j < 0:
            return None
        sx, sy = ix.scroll_at(pv, t)
        m = ix.moves
        x, y = float(ix.move_screen_x[j]), float(ix.move_screen_y[j])
        k = j + 1
        if k < len(m) and int(m.pv[k]) == pv:
            t0, t1 = int(m.t[j]), int(m.t[k])
            if t1 - t0 < INTERP_MAX_MS and t > t0:
                f = (t - t0) / (t1 - t0)
                x += (float(ix.move_screen_x[k]) - x) * f
                y += (float(ix.move_screen_y[k]) - y) * f
        return x + sx, y + sy

    def frame_at(self, t_ms: float) -> Frame:
        """The frame at ``t_ms`` (clamped to [0, duration_ms]); a pure function of t."""
        t = self.clamp(t_ms)
        ix = self.index
        pv = ix.pageview_at(t)
        if pv < 0:
            vw, vh = self.default_viewport
            return Frame(int(t), -1, -1, 0, 0, vw, vh, None, _empty_trail(), (), -1, {}, False, False)
        sx, sy = ix.scroll_at(pv, t)
        vw, vh = self.viewport_at(pv, t)
        touch = self.pv_touch[pv] if pv < len(self.pv_touch) else False
        cursor = None if touch else self.cursor_at(pv, t)
        trail = _empty_trail()
        if cursor is not None:
            m = ix.moves
            hi = m.last_at(pv, t) + 1
            lo = min(m.position(pv, math.ceil(t - TRAIL_MS), 'left'), hi)
            pts = np.empty((hi - lo + 1, 2), dtype=np.float32)
            pts[:-1, 0] = m.x[lo:hi]
            pts[:-1, 1] = m.y[lo:hi]
            pts[-1] = cursor
            if hi > lo and pts[-1, 0] == pts[-2, 0] and pts[-1, 1] == pts[-2, 1]:
                pts = pts[:-1]
            trail = pts
        p = ix.pointer
        key_t = composite_key(pv, t)
        hi = int(p.key.searchsorted(key_t, "right"))
        lo = min(int(p.key.searchsorted(key_t - RIPPLE_MS, "right")), hi)
        tf = math.floor(t)
        state = self.state_at(pv, t)
        rx, ry = p.x[lo:hi], p.y[lo:hi]
        if state >= 0 and hi > lo and state in self.state_boxes:  # clicks drawn in the state's layout
            from hindsight.store.states import project_to_state

            emap = self.element_maps.get(self.pageviews[pv].snapshot_id)
            if emap is not None:
                rx, ry = project_to_state(rx, ry, p.target[lo:hi], emap.boxes, self.state_boxes[state])
        pinned = self._pinned(int(self.pageviews[pv].snapshot_id))
        ripples = tuple(
            # a click on a fixed / sticky element is stored in viewport space: it rides the scroll
            Ripple(float(rx[i - lo]) + sx, float(ry[i - lo]) + sy, int(tf - p.t[i]), int(p.kind[i]), int(p.target[i]))
            if 0 <= p.target[i] < len(pinned) and pinned[p.target[i]] else
            Ripple(float(rx[i - lo]), float(ry[i - lo]), int(tf - p.t[i]), int(p.kind[i]), int(p.target[i]))
            for i in range(lo, hi)
        )
        return Frame(
            t_ms=int(tf), pageview_index=pv, snapshot_id=int(self.pageviews[pv].snapshot_id),
            scroll_x=int(sx), scroll_y=int(sy), viewport_w=vw, viewport_h=vh,
            cursor=cursor, trail=trail, ripples=ripples,
            focused=ix.focused_at(pv, t), field_lengths=ix.field_lengths_at(pv, t),
            hidden=ix.hidden_at(pv, t), loading=t < ix.pv_loaded_list[pv],
            pointer="touch" if touch else "mouse", choices=self.choices_at(pv, t),
            state_id=state,
        )

    def state_at(self, pv: int, t: float) -> int:
        """The page state pageview ``pv`` shows at ``t`` ms (-1: its snapshot's screenshot)."""
        from hindsight.store.states import state_at

        if not self.states or not 0 <= pv < len(self.pageviews):
            return -1
        return state_at(self.states.get(self.pageviews[pv].seq), t)

    def _pinned(self, snapshot_id: int) -> np.ndarray:
        """(n,) bool fixed / sticky elements of a snapshot (empty if its element map is unknown)."""
        emap = self.element_maps.get(snapshot_id)
        return emap.pinned() if emap is not None else np.zeros(0, dtype=bool)

    def choices_at(self, pv: int, t: float) -> dict[int, int]:
        """Chosen option index of each select and checked state of each radio/checkbox of
        pageview ``pv`` at ``t`` (element index -> option index / 1 checked / 0 not), from their
        last INPUT event (selects whose option is unknown are left out).
        A radio checked later unchecks the others of its group (same field name)."""
        pvs = self.pageviews
        emap = self.element_maps.get(pvs[pv].snapshot_id) if 0 <= pv < len(pvs) else None
        if emap is None:
            return {}
        sid = pvs[pv].snapshot_id
        kinds = self._kinds_cache.get(sid)
        if kinds is None:  # once per snapshot: frames stay a few bisections
            kinds = self._kinds_cache[sid] = _control_kinds(emap)
        if not kinds:
            return {}
        out: dict[int, int] = {}
        last: dict[int, int] = {}
        ix = self.index
        for target, (times, values) in ix.fields.get(pv, {}).items():
            if kinds.get(target) is None:
                continue
            j = bisect_right(times, t) - 1
            if j < 0:
                continue
            v = int(values[j])
            if kinds[target] == "select":  # stored as option index + 1 (0: unknown option)
                if v > 0:
                    out[target] = v - 1
                continue
            out[target] = 1 if v > 0 else 0
            last[target] = int(times[j])
        # radios of one group: only the most recently checked one stays checked
        groups: dict[str, list[int]] = {}
        for target in out:
            if kinds[target] == "radio" and out[target] == 1:
                groups.setdefault(emap.field[target] or "", []).append(target)
        for members in groups.values():
            keep = max(members, key=lambda m: last[m])
            for m in members:
                if m != keep:
                    out[m] = 0
        return out


    # -- markers ----------------------------------------------------------------------------
    def _element_labels(self, idx: np.ndarray) -> list[str]:
        """Label (else selector) of the target element of each event in ``idx``; '' if none."""
        names: dict[int, tuple[str, ...]] = {}
        for sid, emap in self.element_maps.items():
            names[sid] = tuple(lbl or sel for lbl, sel in zip(emap.label, emap.selector))
        snaps = [pv.snapshot_id for pv in self.pageviews]
        out = []
        for pv, target in zip(self.pv_index[idx].tolist(), self.events.target[idx].tolist()):
            labels = names.get(snaps[pv], ()) if 0 <= pv < len(snaps) else ()
            out.append(labels[target] if 0 <= target < len(labels) else "")
        return out

    def _build_markers(self) -> Markers:
        ev, ix = self.events, self.index
        t_parts: list[np.ndarray] = []
        kinds: list[str] = []
        labels: list[str] = []
        ends: list[np.ndarray] = []

        def add(t, kind: str, lbls: list[str], end=None) -> None:
            t = np.asarray(t, dtype=np.int64)
            t_parts.append(t)
            ends.append(t if end is None else np.asarray(end, dtype=np.int64))
            kinds.extend([kind] * len(lbls))
            labels.extend(lbls)

        names = []
        for pv in self.pageviews:
            page = self.pages.get(pv.page_id)
            names.append((page.title or page.url) if page is not None else f"page {pv.page_id}")
        add([pv.start_ms for pv in self.pageviews], "page", names)
        strings = self.strings
        for kind, name in ((K.CLICK, "click"), (K.DBLCLICK, "click"), (K.TAP, "tap"), (K.SUBMIT, "submit"),
                           (K.VALIDATION, "validation"), (K.ERROR, "error"), (K.CUSTOM, "custom")):
            idx = np.flatnonzero(ev.kind == kind)
            if idx.size == 0:
                continue
            if kind in (K.ERROR, K.CUSTOM, K.VALIDATION):
                default = {K.ERROR: "JavaScript error", K.CUSTOM: "custom event", K.VALIDATION: "Invalid field"}[kind]
                texts = [strings.get(v, default) for v in ev.value[idx].tolist()]
            if kind in (K.ERROR, K.CUSTOM):
                add(ix.t[idx], name, texts)
                continue
            els = self._element_labels(idx)
            if kind == K.VALIDATION:
                lbls = [f"{el}: {msg}" if el else msg for el, msg in zip(els, texts)]
            else:
                verb = {K.CLICK: "Click on", K.DBLCLICK: "Double click on", K.TAP: "Tap on",
                        K.SUBMIT: "Form submitted:"}[kind]
                bare = verb.split(" on")[0].rstrip(":")
                lbls = [f"{verb} '{el}'" if el else bare for el in els]
            add(ix.t[idx], name, lbls)
        hs = self.hesitations
        add([h.start_ms for h in hs], "hesitation", [h.describe() for h in hs], [h.end_ms for h in hs])
        hidden = hidden_spans(ix)
        lbls = []
        for s, e in self.inactivity:
            tab = any(hs_ < e and s < he for hs_, he in hidden)
            lbls.append(f"{'Tab hidden' if tab else 'Inactive'} {(e - s) / 1000:.0f} s")
        add([s for s, _ in self.inactivity], "inactive", lbls, [e for _, e in self.inactivity])

        t = np.concatenate(t_parts) if t_parts else np.zeros(0, dtype=np.int64)
        end = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
        kind_arr = np.array(kinds, dtype="<U10")
        rank = np.array([MARKER_KINDS.index(k) for k in kinds], dtype=np.int64)
        order = np.lexsort((rank, t))
        label = np.empty(len(labels), dtype=object)
        label[:] = labels
        return Markers(t_ms=t[order], kind=kind_arr[order], label=label[order], end_ms=end[order])

    def next_marker(self, t_ms: float, kinds=None) -> int | None:
        """Time of the first marker after ``t_ms`` (of ``kinds`` if given), None if none."""
        times = self.markers.t_ms[self.markers.select(kinds)]
        i = np.searchsorted(times, t_ms, side="right")
        return int(times[i]) if i < times.size else None

    def previous_marker(self, t_ms: float, kinds=None) -> int | None:
        """Time of the last marker before ``t_ms`` (of ``kinds`` if given), None if none."""
        times = self.markers.t_ms[self.markers.select(kinds)]
        i = np.searchsorted(times, t_ms, side="left")
        return int(times[i - 1]) if i > 0 else None

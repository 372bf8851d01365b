"""Find similar: from one bookmark, every session that shows the same behaviour.

The behaviour at a bookmark is, in this order of preference:

1. the **signal** (rage, dead or error click, excessive scrolling, quick back, thrashed
   cursor; :mod:`hindsight.analytics.signals`) that began between 3 s before and 1 s after
   the bookmarked moment, on the same page and, for clicks, the same element (CSS selector);
2. a **hesitation on a form field** (``hindsight.replay.detect_hesitations``, reason
   ``'field'``) under way at that moment, matched by the field's selector;
3. **abandonment at a field**: the session ended without a SUBMIT and the moment is at (or
   after) its last form interaction; matched by the last field focused;
4. otherwise the session's **page sequence** (the URLs in visit order), matched exactly.

A bookmark's ``signal_kind`` / ``selector`` (what it was made from) override the guess.
Everything runs on the whole capture at once: the signal table is computed once per capture
(and cached), form events are decoded once with numpy, and only the sessions whose form events
leave room for a hesitation are replayed through the hesitation detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from hindsight.analytics.clicks import RAGE_MIN_CLICKS, RAGE_THRESHOLD_PX, RAGE_TIMEOUT_MS
from hindsight.bookmarks.store import Bookmark, BookmarkStore
from hindsight.store.kinds import EventKind as K
from hindsight.store.reader import Capture

#: A signal counts for a bookmark if it began this long before / after the bookmarked moment.
SIGNAL_BEFORE_MS = 3000
SIGNAL_AFTER_MS = 1000
#: A bookmark this close to a session's last form interaction is taken to mark the abandonment.
ABANDON_SLACK_MS = 1000
HESITATION_THRESHOLD_MS = 2500

FORM_KINDS = (K.FOCUS, K.BLUR, K.INPUT, K.SUBMIT)
# Events that end a span without progress (MOVE is judged by the replay detector itself).
_GAP_KINDS = (K.FOCUS, K.BLUR, K.INPUT, K.SUBMIT, K.CLICK, K.TAP, K.DBLCLICK, K.SCROLL, K.RESIZE,
              K.TOUCHMOVE, K.LOAD, K.VISIBILITY)

BEHAVIOUR_LABELS = {
    "rage_click": "rage clicks", "dead_click": "dead clicks", "error_click": "error clicks",
    "excessive_scroll": "excessive scrolling", "quick_back": "a quick back",
    "thrashed_cursor": "a thrashed cursor", "validation_error": "a validation error", "hesitation": "hesitation", "abandon": "abandoned the form",
    "page_sequence": "the same pages",
}


@dataclass(frozen=True)
class Behaviour:
    """What is searched for: ``kind`` (a signal kind, ``'hesitation'``, ``'abandon'`` or
    ``'page_sequence'``), on ``selector`` of ``page_url`` (None: any), or the ``pages`` visited."""

    kind: str
    selector: str | None = None
    page_url: str | None = None
    pages: tuple[str, ...] = ()

    def describe(self) -> str:
        what = BEHAVIOUR_LABELS.get(self.kind, self.kind.replace("_", " "))
        if self.kind == "page_sequence":
            return f"{what}: {' → '.join(_short_url(u) for u in self.pages)}"
        if self.kind == "hesitation":
            return f"hesitation on {self.selector}" if self.selector else "hesitation"
        if self.kind == "abandon":
            return f"abandoned the form at {self.selector}" if self.selector else what
        return f"{what} on {self.selector}" if self.selector else what

    def as_dict(self) -> dict:
        return {"kind": self.kind, "selector": self.selector, "page_url": self.page_url,
                "pages": list(self.pages), "description": self.describe()}


@dataclass(frozen=True)
class Match:
    """One session showing the behaviour: ``t_ms`` ms since its start, and why it matched."""

    session_id: int
    t_ms: int
    reason: str
    end_ms: int | None = None

    def as_dict(self) -> dict:
        return {"session_id": self.session_id, "t_ms": self.t_ms, "end_ms": self.end_ms, "reason": self.reason}


@dataclass(frozen=True)
class SimilarResult:
    """Matches (one per session, by session id) of the behaviour at ``bookmark``."""

    bookmark: Bookmark
    behaviour: Behaviour
    matches: list[Match] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.matches)

    @property
    def session_ids(self) -> np.ndarray:
        return np.array([m.session_id for m in self.matches], dtype=np.int64)

    def as_dict(self) -> dict:
        return {"bookmark_id": self.bookmark.id, "behaviour": self.behaviour.as_dict(), "count": self.count,
                "matches": [m.as_dict() for m in self.matches]}


def _short_url(url: str) -> str:
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path


# -- per-capture data, computed once ------------------------------------------------------------
# The caller owns the cache (the app: its workspace's per-capture cache, so nothing outlives the
# open capture); without one, a search computes what it needs for itself.
def _cached(cache: dict | None) -> dict:
    return cache if cache is not None else {}


def _snapshot_urls(capture: Capture, cache: dict | None = None) -> dict[int, str]:
    c = _cached(cache)
    if "snap_urls" not in c:
        urls = {p.page_id: p.url for p in capture.pages()}
        c["snap_urls"] = {s.snapshot_id: urls.get(s.page_id, "") for s in capture.snapshots()}
    return c["snap_urls"]


@dataclass(frozen=True)
class _Signals:
    """The capture's signals as plain columns (session_id, kind name, t_ms, selector, page url)."""

    session_id: np.ndarray
    kind: np.ndarray      # object: kind names
    t_ms: np.ndarray
    selector: np.ndarray  # object
    url: np.ndarray       # object


def capture_signals(capture: Capture, cache: dict | None = None) -> _Signals:
    """Every signal of the capture, computed once per capture (``compute_signals`` if present,
    else this module's own rage-click detector)."""
    c = _cached(cache)
    if "signals" in c:
        return c["signals"]
    urls = _snapshot_urls(capture, cache)
    try:
        from hindsight.analytics.signals import compute_signals
    except ImportError:
        compute_signals = None
    if compute_signals is not None:
        st = compute_signals(capture)
        snap = st.snapshot_id
        out = _Signals(st.session_id.astype(np.int64), st.kind_names(), st.t_ms.astype(np.int64),
                       np.asarray(st.selector, dtype=object),
                       np.array([urls.get(int(s), "") for s in snap], dtype=object))
    else:
        out = detect_rage_clicks(capture, cache=cache)
    c["signals"] = out
    return out


def detect_rage_clicks(capture: Capture, clicks: int = RAGE_MIN_CLICKS, interval_ms: int = RAGE_TIMEOUT_MS,
                       distance_px: int = RAGE_THRESHOLD_PX, cache: dict | None = None) -> _Signals:
    """Rage clicks without the signals module: ``clicks``+ clicks (or taps) on the same element
    selector, each within ``interval_ms`` and ``distance_px`` (Manhattan) of the one before."""
    urls = _snapshot_urls(capture, cache)
    parts = []
    for snap in capture.snapshots():
        ev, sids, pvids = capture.snapshot_events(snap.snapshot_id, (K.CLICK, K.TAP, K.DBLCLICK))
        if len(ev) == 0:
            continue
        emap = capture.elements(snap.snapshot_id)
        sel = np.asarray(emap.selector + ("",), dtype=object)
        target = np.where((ev.target >= 0) & (ev.target < len(emap)), ev.target, len(emap)).astype(np.int64)
        order = np.lexsort((ev.t, pvids))
        t = ev.t[order].astype(np.int64)
        x, y = ev.x[order].astype(np.int64), ev.y[order].astype(np.int64)
        pv, tg, sid = pvids[order], target[order], sids[order]
        close = np.zeros(len(t), dtype=bool)
        close[1:] = ((pv[1:] == pv[:-1]) & (tg[1:] == tg[:-1]) & (t[1:] - t[:-1] < interval_ms)
                     & (np.abs(x[1:] - x[:-1]) + np.abs(y[1:] - y[:-1]) < distance_px))
        start = np.flatnonzero(~close)
        length = np.diff(np.r_[start, len(t)])
        keep = start[length >= clicks]
        keep = keep[sel[tg[keep]] != ""]
        parts.append((sid[keep], t[keep], sel[tg[keep]], np.full(keep.size, urls.get(snap.snapshot_id, ""), object)))
    if not parts:
        e = np.zeros(0, np.int64)
        return _Signals(e, np.zeros(0, object), e, np.zeros(0, object), np.zeros(0, object))
    sid, t, sel, url = (np.concatenate([p[i] for p in parts]) for i in range(4))
    order = np.lexsort((t, sid))
    return _Signals(sid[order].astype(np.int64), np.full(order.size, "rage_click", dtype=object),
                    t[order], sel[order], url[order])


@dataclass(frozen=True)
class _FormEvents:
    """Form-relevant events of every session, ordered by (session, time)."""

    session_id: np.ndarray
    pageview_id: np.ndarray
    t: np.ndarray
    kind: np.ndarray
    selector: np.ndarray   # object: selector of the target element ('' for none)
    is_field: np.ndarray   # bool: the target is a form field
    url: np.ndarray        # object
    pv_end: dict           # pageview id -> end ms


def _form_events(capture: Capture, cache: dict | None = None) -> _FormEvents:
    c = _cached(cache)
    if "form" in c:
        return c["form"]
    urls = _snapshot_urls(capture, cache)
    parts = []
    pv_end: dict[int, int] = {}
    for snap in capture.snapshots():
        ev, sids, pvids = capture.snapshot_events(snap.snapshot_id, _GAP_KINDS)
        for pv in capture.snapshot_pageviews(snap.snapshot_id):
            pv_end[pv.pageview_id] = pv.end_ms
        if len(ev) == 0:
            continue
        emap = capture.elements(snap.snapshot_id)
        n = len(emap)
        sel = np.asarray(emap.selector + ("",), dtype=object)
        isf = np.asarray([f is not None for f in emap.field] + [False], dtype=bool)
        tg = np.where((ev.target >= 0) & (ev.target < n), ev.target, n).astype(np.int64)
        parts.append((sids.astype(np.int64), pvids.astype(np.int64), ev.t.astype(np.int64), ev.kind,
                      sel[tg], isf[tg], np.full(len(ev), urls.get(snap.snapshot_id, ""), dtype=object)))
    if parts:
        cols = [np.concatenate([p[i] for p in parts]) for i in range(7)]
        order = np.lexsort((cols[2], cols[0]))
        cols = [col[order] for col in cols]
    else:
        e = np.zeros(0, np.int64)
        cols = [e, e, e, np.zeros(0, np.uint8), np.zeros(0, object), np.zeros(0, bool), np.zeros(0, object)]
    out = _FormEvents(*cols, pv_end=pv_end)
    c["form"] = out
    return out


def abandonments(capture: Capture, cache: dict | None = None) -> dict[int, tuple[str, int, str]]:
    """Sessions that used a form and ended without a SUBMIT: session id -> (selector of the last
    field focused, time of the last interaction with a field in ms, page url)."""
    c = _cached(cache)
    if "abandon" in c:
        return c["abandon"]
    fe = _form_events(capture, cache)
    submitted = np.unique(fe.session_id[fe.kind == K.SUBMIT])
    on_field = np.isin(fe.kind, np.asarray((K.FOCUS, K.BLUR, K.INPUT), np.uint8)) & fe.is_field
    on_field &= ~np.isin(fe.session_id, submitted)
    rows = np.flatnonzero(on_field)
    out: dict[int, tuple[str, int, str]] = {}
    if rows.size:
        sid = fe.session_id[rows]
        last = rows[np.r_[np.flatnonzero(sid[1:] != sid[:-1]), rows.size - 1]]  # last field event
        focus = rows[fe.kind[rows] == K.FOCUS]
        fs = fe.session_id[focus]
        last_focus = focus[np.r_[np.flatnonzero(fs[1:] != fs[:-1]), focus.size - 1]] if focus.size else focus
        focus_sel = dict(zip(fe.session_id[last_focus].tolist(), fe.selector[last_focus].tolist()))
        for r in last.tolist():
            s = int(fe.session_id[r])
            out[s] = (focus_sel.get(s, fe.selector[r]), int(fe.t[r]), fe.url[r])
    c["abandon"] = out
    return out


def _hesitation_candidates(capture: Capture, selector: str, threshold_ms: int, cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(session ids, pageview ids) where the field was focused or typed in, then nothing but
    cursor moves happened for longer than the threshold: the only places a field hesitation
    on it can be."""
    fe = _form_events(capture, cache)
    n = len(fe.t)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    on = np.flatnonzero((fe.selector == selector) & np.isin(fe.kind, np.asarray((K.FOCUS, K.INPUT), np.uint8)))
    nxt = on + 1
    same_pv = nxt < n
    same_pv[same_pv] = fe.pageview_id[nxt[same_pv]] == fe.pageview_id[on[same_pv]]
    ends = np.array([fe.pv_end.get(int(p), 0) for p in fe.pageview_id[on]], dtype=np.int64)
    gap_end = np.where(same_pv, fe.t[np.minimum(nxt, n - 1)], ends)
    rows = on[gap_end - fe.t[on] > threshold_ms]
    pv, first = np.unique(fe.pageview_id[rows], return_index=True)
    return fe.session_id[rows][first], pv


def _field_hesitations(capture: Capture, session_id: int, threshold_ms: int = HESITATION_THRESHOLD_MS):
    """Field hesitations of one session (the replay's detector)."""
    from hindsight.replay import detect_hesitations

    pageviews, events, pv_index = capture.session_events(int(session_id))
    emaps = {pv.snapshot_id: capture.elements(pv.snapshot_id) for pv in pageviews}
    return [h for h in detect_hesitations((pageviews, events, pv_index, emaps), threshold_ms=threshold_ms)
            if h.reason == "field"]


def _pageview_field_hesitations(capture: Capture, pageview_ids: np.ndarray,
                                threshold_ms: int = HESITATION_THRESHOLD_MS):
    """(session id, Hesitation) of every field hesitation in these pageviews: their events come
    in a few queries, and each pageview goes through the replay's detector on its own (spans
    never cross pageviews)."""
    from hindsight.replay import detect_hesitations
    from hindsight.store.records import PAGEVIEW_COLUMNS, PageView

    if not isinstance(capture, Capture):   # a dataset partition: one read of these sessions
        return _partition_field_hesitations(capture, pageview_ids, threshold_ms)
    out = []
    ids = [int(p) for p in np.asarray(pageview_ids).tolist()]
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        rows = capture._query(
            f"SELECT {', '.join(PAGEVIEW_COLUMNS)}, events FROM pageviews WHERE pageview_id IN "
            f"({', '.join('?' * len(chunk))}) ORDER BY session_id, seq", chunk)
        pvc = capture.pageview_columns(rows)
        for j, r in enumerate(rows):
            one = {name: col[j:j + 1] for name, col in pvc.items()}
            pv = PageView(*(one[name].item() for name in PAGEVIEW_COLUMNS))
            events = capture.decode_events([r[-1]], one)[0]
            emaps = {pv.snapshot_id: capture.elements(pv.snapshot_id)}
            for h in detect_hesitations(([pv], events, None, emaps), threshold_ms=threshold_ms):
                if h.reason == "field":
                    out.append((pv.session_id, h))
    return out


def _partition_field_hesitations(part, pageview_ids: np.ndarray, threshold_ms: int):
    """``_pageview_field_hesitations`` on a dataset partition: the pageviews' sessions are read
    at once (``load_events``), then each pageview goes through the replay's detector."""
    from hindsight.analytics.signals import load_events
    from hindsight.replay import detect_hesitations
    from hindsight.store.records import PageView

    wanted = np.unique(np.asarray(pageview_ids, dtype=np.int64))
    if not wanted.size:
        return []
    sessions = np.unique(np.concatenate([
        c["session_id"][np.isin(c["pageview_id"], wanted)]
        for c in (part.snapshot_pageview_columns(s.snapshot_id, ("pageview_id", "session_id"))
                  for s in part.snapshots())]))
    ce = load_events(part, session_ids=sessions)
    out = []
    for i in np.flatnonzero(np.isin(ce.pv_id, wanted)).tolist():
        pv = PageView(int(ce.pv_id[i]), int(ce.pv_session[i]), int(ce.pv_seq[i]), int(ce.pv_page[i]),
                      int(ce.pv_snapshot[i]), int(ce.pv_start[i]), int(ce.pv_end[i]), int(ce.pv_load[i]),
                      int(ce.pv_first[i + 1] - ce.pv_first[i]))
        events = ce.events.take(np.arange(ce.pv_first[i], ce.pv_first[i + 1]))
        emaps = {pv.snapshot_id: part.elements(pv.snapshot_id)}
        for h in detect_hesitations(([pv], events, None, emaps), threshold_ms=threshold_ms):
            if h.reason == "field":
                out.append((pv.session_id, h))
    return out


def _session_pages(capture) -> tuple[np.ndarray, np.ndarray]:
    """(session ids, page ids) of every pageview, in (session, seq) order."""
    if isinstance(capture, Capture):
        rows = capture._query("SELECT session_id, page_id FROM pageviews ORDER BY session_id, seq")
        return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64))
    cols = [capture.snapshot_pageview_columns(s.snapshot_id, ("pageview_id", "session_id", "seq", "page_id"))
            for s in capture.snapshots()]
    sid, seq, page = (np.concatenate([c[n] for c in cols]) if cols else np.zeros(0, np.int64)
                      for n in ("session_id", "seq", "page_id"))
    order = np.lexsort((seq, sid))
    return sid[order], page[order]


def _page_sequences(capture: Capture, cache: dict | None = None) -> dict[int, tuple[str, ...]]:
    c = _cached(cache)
    if "pages" not in c:
        urls = {p.page_id: p.url for p in capture.pages()}
        rows = zip(*(a.tolist() for a in _session_pages(capture)))
        seqs: dict[int, list[str]] = {}
        for sid, pid in rows:
            seqs.setdefault(int(sid), []).append(urls.get(pid, ""))
        c["pages"] = {k: tuple(v) for k, v in seqs.items()}
    return c["pages"]


# -- the behaviour at a bookmark ----------------------------------------------------------------
def behaviour_at(capture: Capture, bookmark: Bookmark, cache: dict | None = None) -> Behaviour:
    """What the bookmark shows (see the module docstring for the order of the guesses)."""
    kind, selector = bookmark.signal_kind, bookmark.selector
    sid, t0 = int(bookmark.session_id), int(bookmark.t_ms)
    t1 = int(bookmark.end_ms) if bookmark.end_ms is not None else t0
    sig = capture_signals(capture, cache)
    if kind in (None, "") or kind in _SIGNAL_PRIORITY:
        rows = np.flatnonzero((sig.session_id == sid) & (sig.t_ms >= t0 - SIGNAL_BEFORE_MS)
                              & (sig.t_ms <= t1 + SIGNAL_AFTER_MS))
        if kind:
            rows = rows[sig.kind[rows] == kind]
        if selector:
            rows = rows[sig.selector[rows] == selector]
        if rows.size:
            dist = np.where(sig.t_ms[rows] < t0, t0 - sig.t_ms[rows], np.maximum(sig.t_ms[rows] - t1, 0))
            prio = np.array([_SIGNAL_PRIORITY.get(k, 99) for k in sig.kind[rows]])
            r = rows[np.lexsort((prio, dist))[0]]
            on = sig.selector[r] or None if sig.kind[r] in ELEMENT_SIGNALS else None
            return Behaviour(str(sig.kind[r]), on, sig.url[r] or bookmark.page_url)
        if kind:
            return Behaviour(kind, selector, bookmark.page_url)
    if kind in (None, "", "hesitation"):
        for h in _field_hesitations(capture, sid):
            if (selector and h.selector == selector and kind) or h.start_ms <= t0 < h.end_ms:
                return Behaviour("hesitation", h.selector or selector, _page_of(capture, sid, h.start_ms))
        if kind == "hesitation":
            return Behaviour("hesitation", selector, bookmark.page_url)
    if kind in (None, "", "abandon"):
        ab = abandonments(capture, cache).get(sid)
        if ab is not None and (kind == "abandon" or t1 >= ab[1] - ABANDON_SLACK_MS):
            return Behaviour("abandon", selector or ab[0], ab[2])
        if kind == "abandon":
            return Behaviour("abandon", selector, bookmark.page_url)
    return Behaviour("page_sequence", pages=_page_sequences(capture, cache).get(sid, ()))


#: Signals that happen *on an element*: matched by its selector. The others (a scroll, a back,
#: a cursor path) only by page; the element under a thrashing cursor is incidental.
ELEMENT_SIGNALS = frozenset({"rage_click", "dead_click", "error_click"})
_SIGNAL_PRIORITY = {"rage_click": 0, "error_click": 1, "dead_click": 2, "excessive_scroll": 3,
                    "thrashed_cursor": 4, "quick_back": 5, "validation_error": 6}


def _page_of(capture: Capture, session_id: int, t_ms: int) -> str | None:
    """URL of the last page (by seq) the session had opened at ``t_ms``."""
    shown = [pv for pv in sorted(capture.pageviews(int(session_id)), key=lambda pv: pv.seq)
             if pv.start_ms <= int(t_ms)]
    if not shown:
        return None
    page = next((p for p in capture.pages() if p.page_id == shown[-1].page_id), None)
    return page.url if page is not None else None


# -- searching ----------------------------------------------------------------------------------
def find_behaviour(capture: Capture, behaviour: Behaviour, cache: dict | None = None) -> list[Match]:
    """Every session showing ``behaviour``: its first occurrence per session, by session id."""
    kind = behaviour.kind
    what = behaviour.describe()
    if kind == "page_sequence":
        return [Match(s, 0, what) for s, seq in sorted(_page_sequences(capture, cache).items())
                if seq == behaviour.pages and seq]
    if kind == "abandon":
        return [Match(s, t, what) for s, (sel, t, url) in sorted(abandonments(capture, cache).items())
                if (not behaviour.selector or sel == behaviour.selector)
                and (not behaviour.page_url or url == behaviour.page_url)]
    if kind == "hesitation":
        if not behaviour.selector:
            return []
        _, pageviews = _hesitation_candidates(capture, behaviour.selector, HESITATION_THRESHOLD_MS, cache)
        first: dict[int, object] = {}
        for sid, h in _pageview_field_hesitations(capture, pageviews):
            if h.selector == behaviour.selector and (sid not in first or h.start_ms < first[sid].start_ms):
                first[sid] = h
        return [Match(int(sid), int(h.start_ms), f"hesitated {h.duration_ms / 1000:.1f} s on "
                      f"{h.label or h.selector}", int(h.end_ms)) for sid, h in sorted(first.items())]
    sig = capture_signals(capture, cache)
    mask = sig.kind == kind
    if behaviour.selector and kind in ELEMENT_SIGNALS:
        mask &= sig.selector == behaviour.selector
    if behaviour.page_url:
        mask &= sig.url == behaviour.page_url
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return []
    sid = sig.session_id[rows]
    first = rows[np.r_[0, np.flatnonzero(sid[1:] != sid[:-1]) + 1]]  # signals are by (session, time)
    return [Match(int(sig.session_id[r]), int(sig.t_ms[r]), what) for r in first.tolist()]


def combine_matches(parts: Iterable[list[Match]]) -> list[Match]:
    """The matches of disjoint sets of sessions (dataset partitions) as one list, by session id
    (each part is one match per session, so this is the whole capture's list)."""
    return sorted((m for part in parts for m in part), key=lambda m: m.session_id)


def find_similar(capture: Capture, bookmark: Bookmark, cache: dict | None = None, **run_kw) -> SimilarResult:
    """Sessions with the same behaviour as ``bookmark`` (its own session included).

    Returns a ``SimilarResult``: the behaviour searched for and one ``Match`` per session
    (session_id, t_ms since that session's start, reason), with ``count``. On a dataset
    (``DatasetCapture``) both steps run as Dask tasks: :meth:`behaviour_at` on the bookmark's
    day, :func:`find_behaviour` on every day, combined by :func:`combine_matches`.
    """
    if not isinstance(capture, Capture):   # a dataset: DatasetCapture.find_similar runs it as tasks
        return capture.find_similar(bookmark, **run_kw)
    cache = _cached(cache)   # one for both steps: the capture's signals are computed once
    behaviour = behaviour_at(capture, bookmark, cache)
    return SimilarResult(bookmark, behaviour, combine_matches([find_behaviour(capture, behaviour, cache)]))


def add_matches_to_pattern(store: BookmarkStore, tag: str, matches: Iterable[Match],
                           behaviour: Behaviour | None = None) -> list:
    """Bookmark every match under ``tag`` in one transaction; see ``BookmarkStore.add_matches``."""
    return store.add_matches(tag, matches, behaviour)


def precision_recall(found: Sequence[int], truth: Sequence[int]) -> tuple[float, float]:
    """(precision, recall) of found session ids against true ones (1.0 for empty sets)."""
    f, t = set(int(x) for x in found), set(int(x) for x in truth)
    hit = len(f & t)
    return (hit / len(f) if f else 1.0), (hit / len(t) if t else 1.0)

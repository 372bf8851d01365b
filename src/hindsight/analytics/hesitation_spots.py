"""Hesitations at a spot of a page: which sessions hesitated there, for the heatmap's hot spot list.

Clicking a hot spot lists the sessions whose clicks fall there (``HeatmapEngine.sessions_at``);
this adds the sessions that hesitated there (``hindsight.replay.hesitation``): a cursor held
still near the spot, or a focused form field, not typed in, whose box contains the spot.

All hesitations of a snapshot (for one session filter) are detected the first time it is
asked about and kept per capture, so later clicks on the same page are instant.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from hindsight.replay.hesitation import detect_hesitations
from hindsight.store import SessionFilter

#: (session_id, t_ms, pageview_id, duration_ms, reason, selector)
HesitationRow = tuple[int, int, int, int, str, str]

_LOCK = threading.Lock()


@dataclass(frozen=True)
class _SnapshotHesitations:
    """Every hesitation on one snapshot's pageviews, as columns (n rows)."""

    session: np.ndarray    # (n,) int64
    t: np.ndarray          # (n,) int64, ms since session start
    pageview: np.ndarray   # (n,) int64 pageview id
    duration: np.ndarray   # (n,) int64 ms
    reason: tuple[str, ...]
    selector: tuple[str, ...]
    x: np.ndarray          # (n,) float64 document CSS px
    y: np.ndarray          # (n,) float64
    box: np.ndarray        # (n, 4) float64 x, y, w, h of the focused field; NaN if not a field hesitation


def snapshot_hesitations(capture, snapshot_id: int, flt: SessionFilter | None = None,
                         threshold_ms: int = 2500, cache: dict | None = None) -> _SnapshotHesitations:
    """All hesitations on the pageviews of a snapshot by the filtered sessions (kept in ``cache``,
    the caller's per-capture dict, e.g. ``Workspace.cache("hesitations")``)."""
    key = (int(snapshot_id), flt or SessionFilter(), int(threshold_ms))
    if cache is None:
        return _detect(capture, int(snapshot_id), flt, int(threshold_ms))
    with _LOCK:
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _detect(capture, int(snapshot_id), flt, int(threshold_ms))
    return hit


def _detect(capture, snapshot_id: int, flt: SessionFilter | None, threshold_ms: int) -> _SnapshotHesitations:
    emap = capture.elements(snapshot_id)
    wanted: dict[int, set[int]] = {}
    for pv in capture.snapshot_pageviews(snapshot_id, flt):
        wanted.setdefault(pv.session_id, set()).add(pv.pageview_id)
    rows = []
    for sid, pv_ids in wanted.items():
        pageviews, events, pv_index = capture.session_events(sid)
        emaps = {snapshot_id: emap}
        for h in detect_hesitations((pageviews, events, pv_index, emaps), threshold_ms=threshold_ms):
            pv = pageviews[h.pageview_index]
            if pv.pageview_id not in pv_ids:
                continue
            box = (np.nan,) * 4
            if h.reason == "field" and 0 <= h.element < len(emap):
                box = tuple(float(v) for v in emap.boxes[h.element].tolist())
            rows.append((sid, h.start_ms, pv.pageview_id, h.duration_ms, h.reason, h.selector, h.x, h.y, box))
    cols = list(zip(*rows)) if rows else [()] * 9
    return _SnapshotHesitations(
        session=np.array(cols[0], dtype=np.int64), t=np.array(cols[1], dtype=np.int64),
        pageview=np.array(cols[2], dtype=np.int64), duration=np.array(cols[3], dtype=np.int64),
        reason=tuple(cols[4]), selector=tuple(cols[5]),
        x=np.array(cols[6], dtype=np.float64), y=np.array(cols[7], dtype=np.float64),
        box=np.array(cols[8], dtype=np.float64).reshape(-1, 4),
    )


def hesitations_at(capture, snapshot_id: int, x: float, y: float, radius_px: float,
                   flt: SessionFilter | None = None, threshold_ms: int = 2500,
                   cache: dict | None = None) -> list[HesitationRow]:
    """Hesitations at a spot of a snapshot by the filtered sessions.

    Parameters
    ----------
    capture : an open ``Capture``.
    snapshot_id : the page layout (page and device) clicked.
    x, y : the spot, document CSS px of the snapshot.
    radius_px : a hesitation counts if its point (cursor, or the field's centre) lies within
        this many CSS px of (x, y), or if it is a field hesitation whose field box contains (x, y).
    flt : the sessions to look at (None: all).
    threshold_ms : minimum length of a hesitation (ms), as in ``detect_hesitations``.
    cache : the caller's per-capture dict (the app's workspace cache): a page's hesitations
        are detected once for every spot clicked on it.

    Returns
    -------
    list of ``(session_id, t_ms, pageview_id, duration_ms, reason, selector)``: ``t_ms`` is the
    hesitation's start in ms since session start (ready to open the replay there), ``reason``
    is ``'field'`` or ``'still'``. Nearest first (a field containing the spot counts as 0 px).
    """
    hs = snapshot_hesitations(capture, snapshot_id, flt, threshold_ms, cache)
    if not len(hs.session):
        return []
    d2 = (hs.x - x) ** 2 + (hs.y - y) ** 2
    bx, by, bw, bh = hs.box.T
    with np.errstate(invalid="ignore"):
        inside = (bx <= x) & (x < bx + bw) & (by <= y) & (y < by + bh)   # NaN boxes: False
    d2 = np.where(inside, 0.0, d2)
    idx = np.flatnonzero(inside | (d2 <= float(radius_px) ** 2))
    idx = idx[np.lexsort((hs.t[idx], hs.session[idx], d2[idx]))]
    return [(int(hs.session[i]), int(hs.t[i]), int(hs.pageview[i]), int(hs.duration[i]), hs.reason[i],
             hs.selector[i]) for i in idx.tolist()]

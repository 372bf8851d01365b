"""Inactivity: long gaps without user interaction, and tab-hidden spans, which playback skips."""

from __future__ import annotations

import numpy as np

from hindsight.replay.index import EventIndex
from hindsight.store.kinds import EventKind as K

#: Kinds that show a person at the page.
INTERACTION_KINDS = (K.MOVE, K.CLICK, K.TAP, K.DBLCLICK, K.SCROLL, K.INPUT, K.FOCUS, K.BLUR,
                     K.RESIZE, K.TOUCHMOVE, K.SUBMIT)
INACTIVITY_MS = 10_000


def _index_of(timeline_or_parts) -> tuple[EventIndex, int]:
    ix = getattr(timeline_or_parts, "index", None)
    if isinstance(ix, EventIndex):
        return ix, int(timeline_or_parts.duration_ms)
    if not isinstance(timeline_or_parts, EventIndex):
        pageviews, events, pv_index = tuple(timeline_or_parts)[:3]
        ix = EventIndex(pageviews, events, pv_index)
    else:
        ix = timeline_or_parts
    duration = int(ix.pv_end.max()) if len(ix.pv_end) else (int(ix.t.max()) if len(ix.t) else 0)
    return ix, duration


def hidden_spans(ix: EventIndex) -> list[tuple[int, int]]:
    """(start, end) ms of each span with the tab hidden: VISIBILITY 0 to the next 1 or the pageview's end."""
    vis = ix.visibility
    out = []
    for j in np.flatnonzero(vis.value == 0).tolist():
        pv = int(vis.pv[j])
        end = int(ix.pv_end[pv]) if pv < len(ix.pv_end) else int(vis.t[j])
        k = j + 1
        while k < len(vis) and vis.pv[k] == pv:
            if vis.value[k] != 0:
                end = int(vis.t[k])
                break
            k += 1
        out.append((int(vis.t[j]), end))
    return out


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of (start, end) spans; empty spans dropped."""
    out: list[list[int]] = []
    for s, e in sorted(sp for sp in spans if sp[1] > sp[0]):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def detect_inactivity(timeline_or_parts, gap_ms: int = INACTIVITY_MS,
                      duration_ms: int | None = None) -> list[tuple[int, int]]:
    """Spans (start_ms, end_ms) of inactivity, sorted and disjoint.

    Gaps of more than ``gap_ms`` between user-interaction events (move, click, tap, scroll,
    input, focus, resize...) counting the session start and end as bounds, plus every span
    with the tab hidden.

    Parameters
    ----------
    timeline_or_parts : a ``SessionTimeline`` or ``(pageviews, events, pv_index)``
    duration_ms : the session's end (default: the timeline's duration or the last pageview's end)
    """
    ix, duration = _index_of(timeline_or_parts)
    if duration_ms is not None:
        duration = int(duration_ms)
    mask = np.isin(ix.events.kind, np.asarray(INTERACTION_KINDS, dtype=np.uint8))
    times = np.concatenate(([0], ix.t[mask], [max(duration, 0)]))
    gaps = np.flatnonzero(np.diff(times) > gap_ms)
    spans = list(zip(times[gaps].tolist(), times[gaps + 1].tolist()))
    return merge_spans(spans + hidden_spans(ix))

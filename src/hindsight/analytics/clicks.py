"""Click signals as boolean masks: rage clicks (posthog-js rule), error clicks and dead clicks.

**The dead-click rule** (the only one: the heatmaps, their element table, the Signals panel,
the session table and ``hindsight signals`` all call :func:`dead_click_mask`): a click or tap
is *dead* when it hit no element or a non-clickable one, or when nothing answered it: no scroll, input (typing, a select's choice, a toggled
checkbox or radio), focus, mutation (the DOM changed) or submit on the same page within
``DEAD_WINDOW_MS`` after it, no focus in the ``FOCUS_LEAD_MS`` before it (focus fires at
mousedown, before the click: the click focused a field or opened a select), and the page or
SPA route did not change within the window -- *unless* a JavaScript error followed it within
``ERROR_WINDOW_MS`` on the same page: then it is an *error click* (the page did react, badly)
and not a dead click. Text selection is not recorded by the importer, so a click that only
selected text can still count as dead; an element made clickable only by a script listener
(no ``onclick``, no clickable tag or role) counts as not clickable.
Each click counts once; a dead click inside a rage burst is still a dead click.

Pure functions over :class:`~hindsight.store.EventColumns` and an
:class:`~hindsight.store.records.ElementMap`; the heatmaps use them per pageview and
session-level signals can reuse them. Events of any kind may be passed in: only pointer
events (CLICK, TAP) can be marked, every other row of a mask is False.
"""

from __future__ import annotations

import numpy as np

from hindsight.store.columns import EventColumns
from hindsight.store.kinds import EventKind
from hindsight.store.records import ElementMap

#: posthog-js ``src/extensions/rageclick.ts``: RAGE_CLICK_THRESHOLD_PX, _TIMEOUT_MS, _CLICK_COUNT.
RAGE_THRESHOLD_PX = 30
RAGE_TIMEOUT_MS = 1000
RAGE_MIN_CLICKS = 3
#: posthog-js dead-clicks autocapture ``mutation_threshold_ms`` (also its absolute timeout).
DEAD_WINDOW_MS = 2500
#: A JavaScript error this soon after a click (same page) makes it an error click.
ERROR_WINDOW_MS = 1000
#: A FOCUS this long before a click answers it: focus fires at mousedown, the click at mouseup.
FOCUS_LEAD_MS = 500

CLICK_KINDS = (EventKind.CLICK, EventKind.TAP)
#: Events that show the page reacted to a click (a page change is checked separately).
RESPONSE_KINDS = (EventKind.SCROLL, EventKind.INPUT, EventKind.FOCUS, EventKind.MUTATION,
                  EventKind.SUBMIT)
#: Every event kind :func:`dead_click_mask` looks at (clicks, responses, errors).
DEAD_RULE_KINDS = CLICK_KINDS + RESPONSE_KINDS + (EventKind.ERROR,)


def _groups(events: EventColumns, groups) -> np.ndarray:
    if groups is None:
        return np.zeros(len(events), dtype=np.int64)
    groups = np.asarray(groups)
    if groups.shape != (len(events),):
        raise ValueError(f"groups has shape {groups.shape}, expected ({len(events)},)")
    return groups.astype(np.int64, copy=False)


def _time_order(t: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """Indices putting rows in (group, time) order, or None when they already are."""
    if len(t) < 2:
        return None
    dg = np.diff(g)
    if np.all((dg > 0) | ((dg == 0) & (np.diff(t.astype(np.int64)) >= 0))):
        return None
    return np.lexsort((t, g))


def click_mask(events: EventColumns) -> np.ndarray:
    """(n,) bool: rows that are clicks or taps."""
    k = events.kind
    return (k == EventKind.CLICK) | (k == EventKind.TAP)  # two compares beat np.isin


def rage_click_mask(
    events: EventColumns,
    groups=None,
    threshold_px: float = RAGE_THRESHOLD_PX,
    timeout_ms: int = RAGE_TIMEOUT_MS,
    min_clicks: int = RAGE_MIN_CLICKS,
) -> np.ndarray:
    """Clicks that belong to a rage burst.

    A click continues the current run when it comes less than ``timeout_ms`` after the
    previous click of the same group and its Manhattan distance from it is under
    ``threshold_px``; any other click starts a new run. Every click of a run of at least
    ``min_clicks`` clicks is marked (posthog-js fires on the third; the first two are part
    of the same burst).

    Parameters
    ----------
    events : EventColumns
        Any events; only CLICK and TAP rows are considered. x, y in CSS px, t in ms.
    groups : (n,) int array, optional
        Per event, the pageview (or session) it belongs to; runs never cross groups.

    Returns
    -------
    (n,) bool mask over ``events``.
    """
    n = len(events)
    out = np.zeros(n, dtype=bool)
    g_all = _groups(events, groups)
    idx = np.flatnonzero(click_mask(events))
    if idx.size == 0:
        return out
    t = events.t[idx].astype(np.int64)
    g = g_all[idx]
    order = _time_order(t, g)
    if order is not None:
        idx, t, g = idx[order], t[order], g[order]
    x = events.x[idx].astype(np.int64)
    y = events.y[idx].astype(np.int64)
    cont = np.zeros(idx.size, dtype=bool)
    cont[1:] = ((g[1:] == g[:-1]) & (t[1:] - t[:-1] < timeout_ms)
                & (np.abs(x[1:] - x[:-1]) + np.abs(y[1:] - y[:-1]) < threshold_px))
    run = np.cumsum(~cont) - 1
    length = np.bincount(run)
    out[idx] = length[run] >= min_clicks
    return out


def error_click_mask(events: EventColumns, groups=None, window_ms: int = ERROR_WINDOW_MS) -> np.ndarray:
    """Clicks answered by a JavaScript error within ``window_ms`` of the same group.

    Each ERROR event is put down to the last click at or before it in its group, so a burst
    of clicks followed by one error yields one error click.

    Returns
    -------
    (n,) bool mask over ``events``.
    """
    n = len(events)
    out = np.zeros(n, dtype=bool)
    g_all = _groups(events, groups)
    clicks = np.flatnonzero(click_mask(events))
    errors = np.flatnonzero(events.kind == EventKind.ERROR)
    if clicks.size == 0 or errors.size == 0:
        return out
    t = events.t.astype(np.int64)
    key_c = (g_all[clicks] << 32) | t[clicks]
    order = np.argsort(key_c, kind="stable")
    key_c = key_c[order]
    pos = np.searchsorted(key_c, (g_all[errors] << 32) | t[errors], side="right") - 1
    ok = pos >= 0
    prev = clicks[order[np.maximum(pos, 0)]]
    ok &= (g_all[prev] == g_all[errors]) & (t[errors] - t[prev] <= window_ms)
    out[prev[ok]] = True
    return out


def dead_click_mask(
    events: EventColumns,
    elements: ElementMap,
    groups=None,
    group_end_ms=None,
    window_ms: int = DEAD_WINDOW_MS,
    error_window_ms: int = ERROR_WINDOW_MS,
) -> np.ndarray:
    """Clicks that got no reaction: on a non-clickable element, or nothing happened after.

    A click is dead when its target is not clickable (or it hit no element), or when no
    scroll, input, focus, mutation or submit of the same group follows within
    ``window_ms`` and the page did not change either; a click that an ERROR event of the
    same group answered within ``error_window_ms`` is an error click instead, never dead
    (pass the ERROR events in ``events``). This is the app's one dead-click rule.

    Parameters
    ----------
    events : EventColumns
        The clicks together with the events that may answer them (``RESPONSE_KINDS``),
        all of one snapshot; ``target`` indexes ``elements``.
    elements : ElementMap
        The snapshot's element map (for the clickable flags).
    groups : (n,) int array, optional
        Per event, its pageview; responses only count within the same group.
    group_end_ms : (n,) int array, optional
        Per event, when its pageview gave way to another page (ms, same clock as ``t``),
        or a negative number when it was the last one; a page change within
        ``window_ms`` is a reaction.

    Returns
    -------
    (n,) bool mask over ``events``.
    """
    n = len(events)
    out = np.zeros(n, dtype=bool)
    g_all = _groups(events, groups)
    clicks = np.flatnonzero(click_mask(events))
    if clicks.size == 0:
        return out
    target = events.target[clicks].astype(np.int64)
    clickable = np.asarray(elements.clickable, dtype=bool)
    valid = (target >= 0) & (target < clickable.shape[0])
    on_clickable = np.zeros(clicks.size, dtype=bool)
    on_clickable[valid] = clickable[target[valid]]

    t_click = events.t[clicks].astype(np.int64)
    g_click = g_all[clicks]
    answered = np.zeros(clicks.size, dtype=bool)
    resp = np.flatnonzero(np.isin(events.kind, np.asarray(RESPONSE_KINDS, dtype=np.uint8)))
    if resp.size:
        # One sorted key per response: group in the high bits, time in the low 32.
        key = (g_all[resp] << 32) | events.t[resp].astype(np.int64)
        key.sort()
        pos = np.searchsorted(key, (g_click << 32) | t_click, side="left")
        has = pos < key.size
        nxt = key[np.minimum(pos, key.size - 1)]
        answered = has & ((nxt >> 32) == g_click) & ((nxt & 0xFFFFFFFF) - t_click <= window_ms)
    focus = np.flatnonzero(events.kind == EventKind.FOCUS)
    if focus.size:
        # The click's mousedown focused something (a field, a select): the last focus of the
        # same group at or before the click, within FOCUS_LEAD_MS.
        key = (g_all[focus] << 32) | events.t[focus].astype(np.int64)
        key.sort()
        pos = np.searchsorted(key, (g_click << 32) | t_click, side="right") - 1
        prev = key[np.maximum(pos, 0)]
        answered |= (pos >= 0) & ((prev >> 32) == g_click) & (t_click - (prev & 0xFFFFFFFF) <= FOCUS_LEAD_MS)
    if group_end_ms is not None:
        end = np.asarray(group_end_ms, dtype=np.int64)[clicks]
        answered |= (end >= 0) & (end - t_click <= window_ms)
    out[clicks] = ~on_clickable | ~answered
    out &= ~error_click_mask(events, groups, error_window_ms)
    return out

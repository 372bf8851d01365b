"""Click maps of a page state: the clicks and taps made while a state showed, on its screenshot.

A page state (``store/states.py``) is an alternative screenshot of a snapshot's page for a
time window of some pageviews (a dialog open, an inline error shown). Its click map keeps
the snapshot's clicks and taps whose pageview showed that state at the click's time (the
``session_states`` timeline), and draws them on the state's screenshot. Stored click
positions are in the snapshot's layout (the importer moves a click whose element moved back
into that element's snapshot box); a click on an element that has a box in the state is put
at the same relative spot of its state box, others stay where they are.

The page's ordinary click map (``HeatmapEngine``) still holds every click of the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hindsight.store.kinds import EventKind as K

#: The heatmap kinds a page state has (the CLI's ``--state`` and the panel's State chooser).
STATE_KINDS = ("click",)
STATE_KINDS_NOTE = "Click maps only on a page state"


@dataclass
class StateClicks:
    """Clicks and taps made while a state showed: x, y in the state's page CSS px."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray          # ms since session start
    session: np.ndarray
    pageview: np.ndarray
    target: np.ndarray


def state_clicks(capture, state_id: int, flt=None) -> StateClicks:
    """The clicks and taps made while state ``state_id`` showed (``KeyError`` if no such state)."""
    from hindsight.store.states import project_to_state, shown_at, state_boxes, state_info

    info = state_info(capture, state_id)
    if info is None:
        raise KeyError(f"no page state {state_id}")
    sid = info["snapshot_id"]
    ev, sess, pv_ids = capture.snapshot_events(sid, (int(K.CLICK), int(K.TAP)), flt)
    keep = shown_at(capture, state_id, sid, sess, pv_ids, ev.t)
    x = ev.x[keep].astype(np.float64)
    y = ev.y[keep].astype(np.float64)
    tgt = ev.target[keep].astype(np.int64)
    # the same spot of the clicked element in the state's layout
    x, y = project_to_state(x, y, tgt, capture.elements(sid).boxes, state_boxes(capture, state_id))
    return StateClicks(x, y, ev.t[keep].astype(np.int64), sess[keep].astype(np.int64),
                       pv_ids[keep].astype(np.int64), tgt)


def state_click_heatmap(capture, state_id: int, flt=None, min_sessions: int | None = None):
    """A ``HeatmapResult`` (kind click) of the clicks made while the state showed, sized to the
    state's page; drawn like any click map (same blur, cells and colour scale)."""
    from hindsight.analytics.heatmap import MIN_SESSIONS, POINT_NAMES, SIGMA_PX, HeatmapResult, SampleSize
    from hindsight.analytics.heatmap_grid import DEFAULT_CELL_PX, bin_cells, blur, flat_cells, grid_shape
    from hindsight.store.states import state_info

    info = state_info(capture, state_id)
    if info is None:
        raise KeyError(f"no page state {state_id}")
    c = state_clicks(capture, state_id, flt)
    w, h, cell = info["width"], info["height"], DEFAULT_CELL_PX
    shape = grid_shape(w, h, cell)
    cells = flat_cells(np.rint(c.x).astype(np.int32), np.rint(c.y).astype(np.int32), w, h, cell)
    counts = bin_cells(cells, shape)
    grid = blur(counts, SIGMA_PX["click"] / cell)
    sample = SampleSize(int(np.unique(c.session).size), int(np.unique(c.pageview).size), int(len(c.x)),
                        POINT_NAMES["click"], min_sessions or MIN_SESSIONS)
    return HeatmapResult("click", info["snapshot_id"], grid, counts, (0, 0, shape[1] * cell, shape[0] * cell), cell,
                         (0.0, float(grid.max()) if grid.size else 0.0),
                         f"clicks per {cell}×{cell} px cell", sample, total=float(counts.sum()))


def state_heatmap_image(capture, state_id: int, flt=None, *, page_url: str = "", opacity: float = 0.6,
                        min_sessions: int | None = None):
    """The exported picture of a state's click map (``hindsight heatmap --state ID -o PNG``)."""
    from hindsight.analytics.heatmap_export import render_heatmap_image, screenshot_array
    from hindsight.store.states import state_image, state_info

    info = state_info(capture, state_id)
    if info is None:
        raise KeyError(f"no page state {state_id}")
    result = state_click_heatmap(capture, state_id, flt, min_sessions)
    snap = capture.snapshot(info["snapshot_id"])
    shot = screenshot_array(state_image(capture, state_id), info["width"], info["height"], 1.0)
    label = f"{page_url} — state {state_id}: {info['label']}" if page_url else info["label"]
    return render_heatmap_image(result, shot, label, snap.device, opacity, 1.0), result

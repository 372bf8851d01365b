"""What the app's workspace and panels call when the open "capture" is a dataset on a cluster.

A thin layer over :mod:`hindsight.engine.driver`: each function answers what the capture path
computes with a core function (``session_index``, ``form_reports``, ``funnel``, the heatmap
engine) by the driver's per-partition tasks and exact combines. Nothing here is a second
implementation of an analysis; the kernels run in the tasks.

Every call may run Dask tasks: call it from a worker thread. Inside
:func:`hindsight.engine.cancel.cancel_scope` (the app's task runner sets one per task) a
cancelled task cancels its futures on the cluster.
"""

from __future__ import annotations

import os

from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter

#: Rows of the session list a dataset shows at a time (one page, queried on the cluster).
PAGE_ROWS = 500

#: What the app cannot do on a dataset, and the one line that says why (views show it).
UNAVAILABLE = {
    "delete": "Sessions cannot be deleted from a dataset here: it is read-only in the app "
              "(use 'hindsight delete' on a capture extracted from it).",
    "page_states": "Page states are not in datasets yet: open a capture for them.",
    "bookmarks": "Bookmarks and find-similar are not available on a dataset yet: "
                 "'hindsight extract' a segment to a capture for them.",
    "import": "Recordings are imported into a capture file, not into a dataset.",
    "share": "Clips and the findings report are made from a capture: 'hindsight extract' a segment first.",
}


def bookmarks_supported() -> bool:
    """Whether this build keeps bookmarks (and finds similar sessions) for datasets too."""
    import importlib.util

    return importlib.util.find_spec("hindsight.bookmarks.dataset_store") is not None


def is_dataset_source(source) -> bool:
    """Whether ``source`` (a path or URL the user gave) names a dataset rather than a capture file."""
    from hindsight.engine.reader import is_dataset

    try:
        return is_dataset(os.fspath(source))
    except (OSError, ValueError):
        return False


def is_dataset_capture(capture) -> bool:
    """Whether ``capture`` is a dataset opened for analysis (:class:`DatasetCapture`)."""
    import sys

    driver = sys.modules.get("hindsight.engine.driver")   # not loaded: nothing can be one (no pyarrow import)
    return capture is not None and driver is not None and isinstance(capture, driver.DatasetCapture)


def open_for_app(source: str, scheduler: str | None = None, workers: int | None = None, progress=None):
    """Open a dataset and reach its cluster; returns ``(DatasetCapture, counts)``.

    ``progress(step_text)`` names each step (reading the dataset, starting a local cluster or
    connecting to ``scheduler``, counting sessions). A missing ``meta.json``, a newer version,
    an unreachable scheduler or a corrupt part is a one-line ``CaptureError``.
    """
    from hindsight.engine.driver import SCHEDULER_ENV, open_dataset_capture

    say = progress or (lambda _text: None)
    text = os.fspath(source)
    if text.startswith("file://"):
        text = text[7:]
    say(f"Reading {text}…")
    capture = open_dataset_capture(text, scheduler=scheduler or None, workers=workers)
    if not capture.days():
        raise CaptureError(text, "this dataset has no partitions (no sessions)")
    address = scheduler or os.environ.get(SCHEDULER_ENV)
    say(f"Connecting to the Dask scheduler at {address}…" if address
        else f"Starting a local Dask cluster ({workers or os.cpu_count() or 1} workers)…")
    capture.client   # noqa: B018 - connects (or starts the local cluster) now, with its own error
    say(f"Counting sessions in {len(capture.days())} day partitions…")
    counts = capture.counts()
    # Dates and devices (the filter panel's ranges) once, here on the worker thread: the app
    # shows the dataset as it was when opened, and the GUI thread never waits on the cluster.
    summary = capture._summary()
    capture._summary = lambda: summary
    say("Listing custom events…")
    names = capture.custom_event_names()   # the funnel's step choices
    capture.custom_event_names = lambda: list(names)
    return capture, counts


def funnel_step_choices(capture) -> tuple[list[str], list[str]]:
    """As :func:`hindsight.analytics.funnel.funnel_step_choices`: page groups and custom event names."""
    from hindsight.analytics.page_groups import capture_groups

    return [g.key for g in capture_groups(capture) if g.page_ids], capture.custom_event_names()


def heatmap_engine(capture, min_sessions: int | None = None):
    """The heatmap engine of a dataset (per-partition partials, exact combine)."""
    from hindsight.engine.driver import DatasetHeatmaps

    return DatasetHeatmaps(capture, min_sessions=min_sessions)


def signal_index(capture):
    """The dataset's SessionIndex (signals of every session, computed on the cluster)."""
    from hindsight.analytics.session_index import SessionIndex

    return SessionIndex.from_signals(capture.session_ids(), capture.signals())


def form_report(capture):
    """The first form's report over every session (None: the dataset has no form)."""
    try:
        return capture.form_reports()[None]
    except CaptureError:
        return None


def form_reports(capture, form: str | None, page_url: str | None, flt: SessionFilter | None = None) -> dict:
    """As :func:`hindsight.analytics.forms.form_reports`: all devices (None) and each device."""
    return capture.form_reports(form, page_url, None, flt, split=True)


def funnel(capture, steps, flt: SessionFilter | None = None):
    """As :func:`hindsight.analytics.funnel.funnel`, on the cluster."""
    return capture.funnel(steps, flt)


def session_signals(capture, session_id: int):
    """One session's signal table: a read of its day partition's rows of that session only."""
    from hindsight.analytics.signals import compute_signals

    part = capture.session_partition(int(session_id))
    return compute_signals(part, session_ids=[int(session_id)])


def session_page(capture, flt: SessionFilter | None, order_by: str, offset: int, limit: int = PAGE_ROWS):
    """(total, rows) of one page of the filtered session list (see ``driver.session_page``)."""
    total, rows = capture.session_page(flt, order_by, offset, limit)
    capture.note_session_days(rows["session_id"], rows["start_ms"])   # a replay reads its day only
    return total, rows

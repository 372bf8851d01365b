"""One session of a capture *or* a dataset, for the replay (``hindsight frame``, ``clip``).

A replay reads one session: on a dataset that is one read of its day partition, filtered by
session (Parquet row-group statistics skip the other sessions), done in this process: no Dask
cluster is started for it. :func:`open_session_source` gives a :class:`~hindsight.store.Capture`
for a capture file and a :class:`DatasetSessions` for a dataset folder or URL; both answer
the reads the replay engine makes (``session``, ``session_events``, ``pageviews``,
``snapshot``, ``elements``, ``snapshot_image``, ``pages``, ``strings``).
"""

from __future__ import annotations

import os

from hindsight.engine.driver import DatasetCapture
from hindsight.store.errors import CaptureError


def open_session_source(source: str | os.PathLike[str], scheduler: str | None = None):
    """A ``Capture`` (file) or a :class:`DatasetSessions` (dataset folder or URL), for reading
    single sessions. Raises ``CaptureError`` for what cannot be opened."""
    from hindsight.engine.reader import is_dataset

    if is_dataset(source):
        return open_dataset_sessions(source, scheduler)
    from hindsight.store import open_capture

    return open_capture(source)


def open_dataset_sessions(url, scheduler: str | None = None) -> "DatasetSessions":
    from hindsight.engine.reader import open_dataset

    from hindsight.store.reader import capture_did_open

    cap = DatasetSessions(open_dataset(url), scheduler)
    capture_did_open.emit(cap)   # the CLI warns of damaged events skipped
    return cap


class DatasetSessions(DatasetCapture):
    """A dataset read one session at a time in this process (no cluster): the session's day is
    found from the sessions table's statistics, then only that day's rows of the session are
    read. The analyses of :class:`~hindsight.engine.driver.DatasetCapture` still work (they
    start the cluster when first used)."""

    #: A dataset has no page-state tables (``hindsight.store.states.has_states``).
    tables: frozenset = frozenset()

    def _day_of(self, session_id: int) -> str:
        day = self._session_day.get(int(session_id))
        if day is None:
            day = self.dataset.store.session_day(int(session_id))
            if day is None:
                raise KeyError(f"no session {session_id}")
            self._session_day[int(session_id)] = day
        return day


def session_or_error(cap, source, session_id: int):
    """``cap.session(session_id)``, or a one-line ``CaptureError`` naming the source."""
    try:
        return cap.session(int(session_id))
    except KeyError:
        raise CaptureError(source, f"has no session {session_id}") from None

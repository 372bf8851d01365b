"""Writing sessions, pageviews and events into day partitions, in bounded memory.

``SessionParts`` takes whole sessions (a session row, its pageview rows and its events with
their ids) and writes them to ``sessions/``, ``pageviews/`` and ``events/day=D/`` part files
of one writer. Events are written in batches of about ``layout.EVENTS_ROW_GROUP`` events
holding whole sessions, each batch as one row group per kind sorted by (pageview_id, n)
(``kind_row_groups``). A part file closes (renamed into
place) at ``max_part_events`` events, or on ``close_parts`` (the collector's timer).
"""

from __future__ import annotations

import json
import posixpath
from typing import Mapping

import numpy as np
import pyarrow as pa

from hindsight.dataset import layout
from hindsight.dataset.store import PartWriter

#: Key of the sessions part files' metadata listing the tags of their sessions (JSON list).
TAGS_KEY = "hindsight.tags"

#: The columns a writer passes (``n`` is computed here).
_EVENT_DTYPES = {f.name: np.dtype(f.type.to_pandas_dtype()) for f in layout.EVENTS_SCHEMA_V1}


def kind_row_groups(cols: dict[str, np.ndarray]) -> list[pa.Table]:
    """Events (``EVENTS_SCHEMA_V1`` columns, any order) as row groups of one kind each, sorted
    by (pageview_id, n) where ``n`` numbers each pageview's events in (t, given order)."""
    order = np.lexsort((cols["t"], cols["pageview_id"]))   # stable: ties keep their order
    pv = cols["pageview_id"][order]
    total = pv.size
    starts = np.flatnonzero(np.r_[True, pv[1:] != pv[:-1]]) if total else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, total])
    n = (np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)).astype(np.uint32)
    by_kind = np.argsort(cols["kind"][order], kind="stable")
    rows = order[by_kind]
    n = n[by_kind]
    kinds = cols["kind"][rows]
    bounds = np.flatnonzero(np.r_[True, kinds[1:] != kinds[:-1], True]) if total else np.zeros(1, np.int64)
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        sel = rows[a:b]
        data = {name: cols[name][sel] for name in _EVENT_DTYPES}
        data["n"] = n[a:b]
        out.append(pa.table(data, schema=layout.EVENTS_SCHEMA))
    return out


def _rows_table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    cols = list(zip(*rows))
    return pa.table([pa.array(c, type=f.type) for c, f in zip(cols, schema)], schema=schema)


class _Day:
    def __init__(self):
        self.sessions: list[tuple] = []
        self.pageviews: list[tuple] = []
        self.events: list[dict[str, np.ndarray]] = []
        self.buffered = 0          # events in ``events``
        self.parts: dict[str, PartWriter] | None = None
        self.part_events = 0       # events written to the open part files
        self.tags: list[str] = []  # tags of the sessions in the open part files


class SessionParts:
    """Writes whole sessions into day-partitioned part files named after ``writer`` (an id
    unique to this writer, so writers never touch each other's files)."""

    def __init__(self, fs, root: str, writer: str, row_group: int = layout.EVENTS_ROW_GROUP,
                 max_part_events: int = layout.MAX_PART_EVENTS, max_buffered: int | None = None,
                 first_part: int = 0):
        self.fs = fs
        self.root = root
        self.writer = writer
        self.row_group = int(row_group)
        self.max_part_events = int(max_part_events)
        self.max_buffered = int(max_buffered or 4 * self.row_group)
        self._days: dict[str, _Day] = {}
        self._next_part = int(first_part)   # part numbers never repeat within a writer
        self._buffered = 0
        self.sessions_written = 0
        self.events_written = 0
        self.files_closed: list[str] = []

    # -- adding ------------------------------------------------------------------------
    def add(self, session: Mapping, pageviews: list[Mapping], events: Mapping[str, np.ndarray],
            tag: str | None = None) -> None:
        """Add one session: ``session`` has the sessions columns, each pageview the pageviews
        columns, ``events`` the event columns (session_id, pageview_id, snapshot_id, t, kind,
        x, y, target, value) as arrays of equal length, in any order. ``tag`` is listed in the
        sessions part file's key-value metadata ``TAGS_KEY`` (the collector's spool instances)."""
        day_name = layout.day_of(int(session["start_ms"]))
        day = self._days.get(day_name)
        if day is None:
            day = self._days[day_name] = _Day()
        day.sessions.append(tuple(session[n] for n in layout.SESSIONS_SCHEMA.names))
        day.pageviews.extend(tuple(pv[n] for n in layout.PAGEVIEWS_SCHEMA.names) for pv in pageviews)
        n = len(events["t"])
        if n:
            day.events.append({name: np.asarray(events[name], dtype=dt) for name, dt in _EVENT_DTYPES.items()})
        day.buffered += n
        if tag is not None:
            day.tags.append(tag)
        self._buffered += n
        self.sessions_written += 1
        self.events_written += n
        if day.buffered >= self.row_group:
            self._flush(day_name)
        while self._buffered > self.max_buffered:   # many days open at once: flush the largest
            self._flush(max(self._days, key=lambda d: self._days[d].buffered))

    # -- writing -----------------------------------------------------------------------
    def _open(self, day_name: str, day: _Day) -> dict[str, PartWriter]:
        if day.parts is None:
            name = layout.part_name(self.writer, self._next_part)
            self._next_part += 1
            day.parts = {t: PartWriter(self.fs, posixpath.join(self.root, t, f"day={day_name}"), name,
                                       layout.SCHEMAS[t]) for t in layout.DAY_TABLES}
            day.part_events = 0
        return day.parts

    def _flush(self, day_name: str) -> None:
        day = self._days[day_name]
        if not day.sessions and not day.pageviews and not day.events:
            return
        parts = self._open(day_name, day)
        if day.events:
            cols = {name: np.concatenate([e[name] for e in day.events]) for name in _EVENT_DTYPES}
            for group in kind_row_groups(cols):
                parts["events"].write(group)
        if day.pageviews:
            rows = sorted(day.pageviews)   # by pageview_id
            parts["pageviews"].write(_rows_table(rows, layout.PAGEVIEWS_SCHEMA))
        if day.sessions:
            rows = sorted(day.sessions)
            parts["sessions"].write(_rows_table(rows, layout.SESSIONS_SCHEMA))
        day.part_events += day.buffered
        self._buffered -= day.buffered
        day.sessions, day.pageviews, day.events, day.buffered = [], [], [], 0
        if day.part_events >= self.max_part_events:
            self._close_day(day)

    def _close_day(self, day: _Day) -> None:
        if day.parts is None:
            return
        parts, day.parts = day.parts, None
        if day.tags:
            parts["sessions"].metadata[TAGS_KEY] = json.dumps(day.tags)
            day.tags = []
        # events first, sessions last: a reader that sees a session finds its events
        for t in ("events", "pageviews", "sessions"):
            self.files_closed.append(parts[t].close())

    @property
    def next_part(self) -> int:
        return self._next_part

    def close_parts(self) -> None:
        """Write everything buffered and close every open part file (renamed into place)."""
        for day_name in list(self._days):
            self._flush(day_name)
            self._close_day(self._days[day_name])
        self._days.clear()

    def abort(self) -> None:
        """Drop the open part files (their temporary files are deleted)."""
        for day in self._days.values():
            if day.parts:
                for part in day.parts.values():
                    part.abort()
        self._days.clear()

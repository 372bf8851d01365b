"""Writing captures: a new file (built aside and renamed into place) or appending to one.

Writes go through one transaction per flush; a new capture is built under a temporary name
and renamed only when complete, so a crash or a bad input never leaves a half-written file.
"""

from __future__ import annotations

import itertools
import operator
import os
import sqlite3
import time
from concurrent import futures
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from hindsight import __version__
from hindsight.store import session_columns
from hindsight.store.columns import BYTES_PER_EVENT, EventColumns
from hindsight.store.access import mode_allows_write, read_only_reason
from hindsight.store.errors import CaptureError
from hindsight.store.chunks import INSERT_SQL as _CHUNK_INSERT, ChunkBuffer, append_to_last_chunk, pack_many
from hindsight.store import schema
from hindsight.store.schema import (CHUNKS_SQL, ELEMENTS_POSITION_SQL, FORMAT_NAME, PAGEVIEWS_SNAPSHOT_SQL, PLANTED_SQL,
                                     RECORDINGS_SQL, SCHEMA_SQL, SCHEMA_VERSION)

_SESSION_FIELDS = (
    "session_id", "visitor_id", "start_ms", "duration_ms", "device", "browser", "os", "country",
    "source", "utm_source", "utm_medium", "utm_campaign", "referrer", "viewport_w", "viewport_h",
    "converted", "entry_page_id", "exit_page_id", "pageview_count", "event_count", "external_id",
)
_SESSION_DEFAULTS: dict[str, Any] = {
    "visitor_id": "", "browser": "", "os": "", "country": "", "source": "", "utm_source": "",
    "utm_medium": "", "utm_campaign": "", "referrer": "", "converted": 0, "external_id": "",
}
_ELEMENT_FIELDS = ("selector", "tag", "role", "label", "x", "y", "w", "h", "clickable", "field",
                   "form", "sensitive", "href", "position")
_FLUSH_EVERY = 20_000  # pageviews buffered before an executemany
_FLUSH_EVENTS = 1 << 21  # or events (pageviews can be long)
_session_row = operator.itemgetter(*_SESSION_FIELDS)
_SESSION_INSERT = (f"INSERT INTO sessions({', '.join(_SESSION_FIELDS)}) "
                   f"VALUES ({', '.join('?' * len(_SESSION_FIELDS))})")
_PAGEVIEW_INSERT = ("INSERT INTO pageviews(pageview_id, session_id, seq, page_id, snapshot_id, start_ms, end_ms, "
                    "load_ms, event_count, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_PV_EVENTS = operator.itemgetter(8)   # a buffered pageview row's event count
#: Session columns whose default (the SQL DEFAULT) is left out of a batch's INSERT when every
#: row of the batch has it: fewer values to bind.
_SESSION_COLUMN_DEFAULTS = tuple((i, _SESSION_DEFAULTS[f]) for i, f in enumerate(_SESSION_FIELDS)
                                 if f in _SESSION_DEFAULTS)


def _session_insert(columns: list[tuple], rows: list[tuple]) -> tuple[str, Any]:
    """The INSERT and its rows for a batch of session rows (``columns``: the same transposed)."""
    skip = {i for i, default in _SESSION_COLUMN_DEFAULTS if columns[i].count(default) == len(rows)}
    if not skip:
        return _SESSION_INSERT, rows
    keep = [i for i in range(len(_SESSION_FIELDS)) if i not in skip]
    sql = (f"INSERT INTO sessions({', '.join(_SESSION_FIELDS[i] for i in keep)}) "
           f"VALUES ({', '.join('?' * len(keep))})")
    return sql, zip(*(columns[i] for i in keep))


#: Whether a flush's numpy half runs on the helper thread (False: inline, same results; tests
#: compare the two).
THREADED = True


class _Inline:
    """Runs a helper job at once (``THREADED`` off)."""

    def submit(self, fn, *args) -> futures.Future:
        f = futures.Future()
        try:
            f.set_result(fn(*args))
        except BaseException as exc:
            f.set_exception(exc)
        return f


def _pack(metas: list[tuple], events: list):
    """(helper thread) Buffered pageviews' events packed at once: (records, counts, (columns, ids))."""
    counts = np.fromiter(map(_PV_EVENTS, metas), dtype=np.int64, count=len(metas))
    rec, cols, counts = pack_many(events, counts)
    ids = np.fromiter(itertools.chain.from_iterable(metas), dtype=np.int64, count=9 * len(metas)).reshape(-1, 9)
    return rec, counts, (cols, ids)


_NO_PAGEVIEWS = {"pageview_count": 0, "event_count": 0, "entry_page_id": None, "exit_page_id": None, "duration_ms": 0}


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if type(obj) is dict or isinstance(obj, Mapping):  # dict first: typing's isinstance is slow
        return obj.get(name, default)
    return getattr(obj, name, default)



def prepare_partial(final: Path, overwrite: bool, how: str = "pass --overwrite") -> Path:
    """Check that a new capture may be written at ``final`` and return the ``.partial`` path it
    is written to first (stale partial files removed). One-line ``CaptureError`` otherwise."""
    if final.exists() and not overwrite:
        raise CaptureError(final, f"already exists (choose another name or {how})")
    if final.is_dir():
        raise CaptureError(final, "is a folder, not a capture file")
    if final.is_file() and not mode_allows_write(final):
        # chmod 444 means "keep": even root (whom rename would let through) does not replace it.
        raise CaptureError(final, f"{read_only_reason(final)}: it is not replaced; make it writable first")
    partial = final.with_name(final.name + ".partial")
    for stale in (partial, Path(str(partial) + "-journal")):
        if stale.exists():
            stale.unlink()
    return partial

class CaptureWriter:
    """Adds pages, snapshots, sessions and their events to a capture file."""

    def __init__(self, path: Path, con: sqlite3.Connection, final_path: Path | None):
        self.path = path
        self._final_path = final_path
        self._con = con
        self._pool: futures.ThreadPoolExecutor | None = None   # the chunk-splitting helper thread
        self._sessions: list[tuple] = []
        self._pageviews: list[tuple] = []   # pageview rows without their events (packed on flush)
        self._pv_events: list = []          # each pageview's EventColumns or packed bytes
        self._pending_events = 0
        self._strings: dict[str, int] = dict(
            (text, sid) for sid, text in con.execute("SELECT string_id, text FROM strings")
        )
        self._next_session = int(con.execute("SELECT coalesce(max(session_id), 0) FROM sessions").fetchone()[0]) + 1
        self._next_pageview = int(con.execute("SELECT coalesce(max(pageview_id), 0) FROM pageviews").fetchone()[0]) + 1
        self.events_written = 0
        self._chunks = ChunkBuffer()  # format 2: the same events as columnar chunks
        self._late_indexes: list[str] = []   # built at close (a new capture)
        self._session_copy: session_columns.RowCopy | None = None   # a new capture's session list
        con.execute("BEGIN")

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], creator: str = f"hindsight {__version__}",
               masking: str = "lengths-only", overwrite: bool = False,
               extra_meta: Mapping[str, str] | None = None) -> "CaptureWriter":
        """Start a new capture at ``path`` (written as ``path.partial`` until ``close``)."""
        final = Path(path)
        partial = prepare_partial(final, overwrite, "pass overwrite")
        con = sqlite3.connect(partial, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=OFF")  # the partial file is disposable until renamed
        con.execute("PRAGMA synchronous=OFF")
        con.execute(f"PRAGMA page_size={schema.PAGE_SIZE}")
        con.executescript(SCHEMA_SQL)
        con.executescript(CHUNKS_SQL)
        con.executescript(RECORDINGS_SQL)
        # The session and pageview indexes are built at close, from all rows at once (a sort),
        # not row by row: nobody reads the file before it is renamed into place.
        late = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('sessions', 'pageviews') ORDER BY name").fetchall()
        for name, _ in late:
            con.execute(f"DROP INDEX {name}")
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        meta = {
            "format": FORMAT_NAME,
            "format_version": str(SCHEMA_VERSION),
            "creator": creator,
            "masking": masking,
            "created_ms": str(int(time.time() * 1000)),
        }
        meta.update(extra_meta or {})
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        writer = cls(partial, con, final)
        writer._late_indexes = [sql for _, sql in late]
        writer._session_copy = session_columns.RowCopy(_SESSION_FIELDS)
        return writer

    @classmethod
    def append(cls, path: str | os.PathLike[str]) -> "CaptureWriter":
        """Open an existing capture to add sessions (WAL mode, so viewers can keep reading)."""
        from hindsight.store.reader import journal_present, open_capture, recover_capture

        reason = read_only_reason(path) if Path(path).is_file() else None
        if reason:
            raise CaptureError(path, f"{reason}: sessions cannot be added to it")
        if journal_present(path):
            recover_capture(path)  # roll back a write that was cut off (never loses committed data)
        with open_capture(path) as cap:  # same checks as viewing
            if cap.format_version < SCHEMA_VERSION:
                raise CaptureError(path, f"is capture format {cap.format_version}, which is read-only: convert it "
                                         f"with 'hindsight upgrade {path} NEW' and add sessions to NEW")
        con = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.executescript(RECORDINGS_SQL)  # captures from before the table: add it (no data change)
        if "position" not in {r[1] for r in con.execute("PRAGMA table_info(elements)")}:
            con.execute(ELEMENTS_POSITION_SQL)  # captures from before the column: '' for old elements
        con.execute(PAGEVIEWS_SNAPSHOT_SQL)  # captures from before the index: built once
        return cls(Path(path), con, None)

    # -- content -------------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, str(value)))

    def add_page(self, url: str, title: str = "") -> int:
        row = self._con.execute("SELECT page_id FROM pages WHERE url = ?", (url,)).fetchone()
        if row:
            return int(row[0])
        return int(self._con.execute("INSERT INTO pages(url, title) VALUES (?, ?)", (url, title)).lastrowid)

    def find_snapshot(self, page_id: int, device: str, width: int | None = None) -> int | None:
        sql = "SELECT snapshot_id FROM snapshots WHERE page_id = ? AND device = ?"
        params: list = [page_id, device]
        if width is not None:
            sql += " AND width = ?"
            params.append(width)
        row = self._con.execute(sql, params).fetchone()
        return int(row[0]) if row else None

    def add_snapshot(self, page_id: int, device: str, width: int, height: int, image: bytes | None,
                     elements: Iterable[Any] = (), scale: float = 1.0, image_format: str = "png") -> int:
        """Store a full-page screenshot and its element map (objects or dicts with element fields)."""
        sid = int(self._con.execute(
            "INSERT INTO snapshots(page_id, device, width, height, scale, image, image_format) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (page_id, device, int(width), int(height), float(scale), image, image_format),
        ).lastrowid)
        rows = []
        for idx, el in enumerate(elements):
            vals = [_get(el, f) for f in _ELEMENT_FIELDS]
            for i, f in enumerate(_ELEMENT_FIELDS):
                if f in ("tag", "role", "label", "position") and vals[i] is None:
                    vals[i] = ""
                if f in ("x", "y", "w", "h"):
                    vals[i] = int(round(vals[i] or 0))
                if f in ("clickable", "sensitive"):
                    vals[i] = 1 if vals[i] else 0
            rows.append((sid, idx, *vals))
        self._con.executemany(
            f"INSERT INTO elements(snapshot_id, idx, {', '.join(_ELEMENT_FIELDS)}) "
            f"VALUES ({', '.join('?' * (len(_ELEMENT_FIELDS) + 2))})",
            rows,
        )
        return sid

    def recording_session(self, digest: str) -> int | None:
        """The session already imported from the recording with this hash, if any."""
        try:
            row = self._con.execute("SELECT session_id FROM recordings WHERE hash = ?", (digest,)).fetchone()
        except sqlite3.OperationalError:  # no recordings table
            return None
        return int(row[0]) if row else None

    def add_recording(self, digest: str, session_id: int, source: str = "") -> None:
        """Remember that the recording with this hash is session ``session_id``."""
        self._con.execute("INSERT OR REPLACE INTO recordings(hash, session_id, source, imported_ms) "
                          "VALUES (?, ?, ?, ?)", (digest, int(session_id), source[:500], int(time.time() * 1000)))

    def string_id(self, text: str) -> int:
        """Id of a string (error message, custom event name), adding it if new."""
        sid = self._strings.get(text)
        if sid is None:
            sid = int(self._con.execute("INSERT INTO strings(text) VALUES (?)", (text,)).lastrowid)
            self._strings[text] = sid
        return sid

    def add_session(self, session: Mapping[str, Any], pageviews: list[Mapping[str, Any]]) -> int:
        """Buffer one session and its pageviews; returns its session id.

        ``session`` holds session columns (``start_ms``, ``device``, ``viewport_w``... ; counts,
        entry/exit pages and duration are derived when absent). Each pageview holds
        ``page_id``, ``snapshot_id``, ``start_ms``, ``end_ms``, ``load_ms`` and ``events``
        (``EventColumns`` with times in ms since session start, or its ``pack()`` bytes).
        """
        sid = int(session.get("session_id") or self._next_session)
        pv_id = self._next_pageview
        metas, events_out = [], []   # added to the buffers once the whole session is read
        n_events = end_max = 0
        for seq, pv in enumerate(pageviews):
            events = pv["events"]
            if isinstance(events, EventColumns):
                n = events.t.shape[0]
            else:  # already packed (e.g. by a worker process)
                events = bytes(events)
                n, rest = divmod(len(events), BYTES_PER_EVENT)
                if rest:
                    raise ValueError(f"packed events of {len(events):,} bytes are not whole "
                                     f"{BYTES_PER_EVENT}-byte records")
            end = int(pv["end_ms"])
            if not seq or end > end_max:
                end_max = end
            n_events += n
            events_out.append(events)
            metas.append((pv_id, sid, seq, int(pv["page_id"]), int(pv["snapshot_id"]),
                          int(pv["start_ms"]), end, int(pv.get("load_ms", 0)), n))
            pv_id += 1
        if metas:
            derived = {"pageview_count": len(metas), "event_count": n_events, "entry_page_id": metas[0][3],
                       "exit_page_id": metas[-1][3], "duration_ms": end_max}
        else:
            derived = _NO_PAGEVIEWS
        # One C-level merge and one itemgetter: this runs per session (a KeyError names a missing column).
        row = _session_row({**_SESSION_DEFAULTS, **derived, **session, "session_id": sid,
                            "converted": 1 if session.get("converted") else 0})
        self._pageviews += metas
        self._pv_events += events_out
        if sid >= self._next_session:
            self._next_session = sid + 1
        self._next_pageview = pv_id
        self._pending_events += n_events
        self._sessions.append(row)
        self.events_written += n_events
        if len(self._pageviews) >= _FLUSH_EVERY or self._pending_events >= _FLUSH_EVENTS:
            self._flush()
        return sid

    def add_planted(self, rows: Iterable[tuple]) -> None:
        """Ground truth rows (session_id, kind, t_ms, end_ms, selector, detail) for demos/tests."""
        if not self._has_planted():
            for statement in PLANTED_SQL.split(";"):
                if statement.strip():
                    self._con.execute(statement)  # executescript would COMMIT the open transaction
        self._con.executemany(
            "INSERT INTO planted(session_id, kind, t_ms, end_ms, selector, detail) VALUES (?, ?, ?, ?, ?, ?)",
            list(rows),
        )

    def _has_planted(self) -> bool:
        return self._con.execute("SELECT 1 FROM sqlite_master WHERE name='planted'").fetchone() is not None

    # -- committing ----------------------------------------------------------------------
    def _flush(self, final: bool = False, then: Iterable[str] = ()) -> None:
        """Insert the buffered sessions and pageviews; with ``final`` every chunk too (else only
        full ones). ``then``: statements run after the inserts, before the chunks (the late indexes).

        The numpy half of a flush runs on a helper thread while this thread feeds SQLite (numpy's
        sorts and copies and SQLite's steps both release the GIL, so on two cores they overlap):
        the helper packs all buffered pageviews' events at once (``pack_many``) and then splits
        them into per-(snapshot, kind) chunk columns, while this thread inserts the sessions and,
        once the packed records are ready, the pageviews. The helper touches only its inputs and
        the chunk buffer and is always waited for before the flush returns or raises.
        """
        con = self._con
        packed = split = None
        if self._pageviews:
            metas, events = self._pageviews, self._pv_events
            self._pageviews, self._pv_events, self._pending_events = [], [], 0
            helper = self._helper()
            packed = helper.submit(_pack, metas, events)
            split = helper.submit(self._split, packed, final)
        try:
            if self._sessions:
                rows, self._sessions = self._sessions, []
                columns = list(zip(*rows))
                if self._session_copy is not None:
                    self._session_copy.add_columns(columns)
                sql, rows = _session_insert(columns, rows)
                con.executemany(sql, rows)
                del rows, columns
            if packed is not None:
                rec, counts, _ = packed.result()
                # Every pageview's BLOB is a view of the one packed array (bound without a copy).
                ends = np.cumsum(counts)
                raw = memoryview(rec.view(np.uint8)) if rec.size else memoryview(b"")
                ends *= BYTES_PER_EVENT
                bounds = np.r_[0, ends].tolist()
                con.executemany(_PAGEVIEW_INSERT, [(*m, raw[a:b]) for m, a, b in zip(metas, bounds, bounds[1:])])
                del raw, rec, metas, events
            for sql in then:
                con.execute(sql)
        except BaseException:
            if split is not None:
                futures.wait([packed, split])
            raise
        rows = split.result() if split is not None else self._chunks.rows(final)
        if rows and final:
            rows = [r for r in rows if not append_to_last_chunk(con, r)]
        if rows:
            con.executemany(_CHUNK_INSERT, rows)

    def _split(self, packed: futures.Future, final: bool) -> list[tuple]:
        """(helper thread) Add a packed batch to the chunk buffer; the chunk rows now ready."""
        _, counts, (cols, ids) = packed.result()
        self._chunks.add_records(cols, counts, ids[:, 4], ids[:, 1], ids[:, 0])
        return self._chunks.rows(final)

    def _helper(self) -> futures.ThreadPoolExecutor:
        if not THREADED:
            return _Inline()
        if self._pool is None:
            self._pool = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hindsight-chunks")
        return self._pool

    def _stop_helper(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def commit(self) -> None:
        """Make everything added so far durable (and start the next transaction)."""
        self._flush(final=True)
        self._con.execute("COMMIT")
        self._con.execute("BEGIN")

    def close(self) -> Path:
        """Commit, close, and for a new capture move it into place. Returns the final path."""
        try:
            self._flush(final=True, then=self._late_indexes)   # indexes built while the last chunks are split
        finally:
            self._stop_helper()
        # The session list's columnar copy (store/session_columns.py): written for a new
        # capture, rewritten after an append only when it has fallen well behind.
        if self._session_copy is not None:
            self._session_copy.write(self._con)
        else:
            session_columns.refresh_if_stale(self._con)
        self._con.execute("COMMIT")
        if self._final_path is not None:
            self._con.execute("PRAGMA journal_mode=DELETE")
            self._con.close()
            os.replace(self.path, self._final_path)
            return self._final_path
        self._con.close()
        return self.path

    def abort(self) -> None:
        """Drop everything since the last commit; a new capture's partial file is deleted."""
        self._stop_helper()
        try:
            self._con.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        self._con.close()
        if self._final_path is not None and self.path.exists():
            self.path.unlink()

    def __enter__(self) -> "CaptureWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

"""Opening a capture file for viewing: checks, then typed queries returning numpy arrays.

Viewing never writes: the file is opened read-only (``mode=ro``), so a read-only file on
disk opens too. Every problem with the file becomes a ``CaptureError`` of one line.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np

from hindsight.store.columns import EventColumns, unpack_many
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.records import (
    PAGEVIEW_COLUMNS,
    SESSION_COLUMNS,
    ElementMap,
    Page,
    PageView,
    Session,
    Snapshot,
)
from hindsight.store.schema import FORMAT_NAME, REQUIRED_TABLES, SCHEMA_VERSION

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Columns of the session table the GUI lists and filters on, in display order.
SESSION_TABLE_COLUMNS = (
    "session_id", "start_ms", "duration_ms", "device", "browser", "os", "country", "source",
    "converted", "pageview_count", "event_count", "entry_page_id", "exit_page_id",
    "viewport_w", "viewport_h",
)
_NUMERIC = {"session_id", "start_ms", "duration_ms", "converted", "pageview_count",
            "event_count", "entry_page_id", "exit_page_id", "viewport_w", "viewport_h"}


def _check_header(path: Path) -> None:
    if not path.exists():
        raise CaptureError(path, "no such file")
    if path.is_dir():
        raise CaptureError(path, "is a folder, not a capture file")
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise CaptureError(path, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise CaptureError(path, "is empty (0 bytes), not a capture file")
    if not header.startswith(SQLITE_MAGIC):
        if header.lstrip()[:1] in (b"[", b"{"):
            raise CaptureError(path, "is JSON, not a capture: import rrweb or PostHog recordings with "
                                     "'hindsight import rrweb FILE --out CAPTURE' (File > Import recordings… in the app)")
        raise CaptureError(path, "is not a SQLite database, so not a Hindsight capture")
    if len(header) < 100:
        raise CaptureError(path, "is truncated: shorter than a SQLite header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    # The in-header page count is valid when the change counters match (SQLite >= 3.7.0).
    if header[24:28] == header[92:96] and page_count and size < page_size * page_count:
        raise CaptureError(
            path, f"is truncated: {size} bytes on disk, the database needs {page_size * page_count}"
        )


#: SQLite's extended result code for "a hot journal needs rolling back, but this connection
#: is read-only" (``mode=ro`` cannot roll back; see https://sqlite.org/rescode.html#readonly_rollback).
SQLITE_READONLY_ROLLBACK = 776
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def _side_file(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def journal_present(path: str | os.PathLike[str]) -> bool:
    """Whether a rollback journal with a live header lies beside ``path``: the trace of a write
    transaction that is under way, or was cut off (then SQLite calls it "hot")."""
    journal = _side_file(Path(path), "-journal")
    try:
        with open(journal, "rb") as f:
            return f.read(8) == _JOURNAL_MAGIC
    except OSError:
        return False


def _wal_has_frames(path: Path) -> bool:
    wal = _side_file(path, "-wal")
    try:
        return wal.stat().st_size > 32  # more than the WAL header: frames not yet checkpointed
    except OSError:
        return False


def interrupted_write_problem(path: Path) -> str:
    """The one-line problem of a capture whose writer stopped mid-transaction (hot journal)."""
    from hindsight.store.access import read_only_reason

    how = f"run 'hindsight recover {path}' to roll it back (everything committed before it is kept)"
    reason = read_only_reason(path)
    if reason:
        how = (f"the capture {reason}, so it cannot be rolled back in place: "
               f"run 'hindsight recover {path} --out COPY' to recover a copy")
    return (f"was being written when its writer stopped: the unfinished write in {path.name}-journal "
            f"is not shown; {how}")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + "?mode=ro"
    con = None
    try:
        con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.DatabaseError as exc:
        if con is not None:
            con.close()
        if getattr(exc, "sqlite_errorcode", None) == SQLITE_READONLY_ROLLBACK:
            # A hot journal: the file holds pages of a transaction that never committed. A
            # read-only connection cannot roll them back, and reading the file as it is
            # (immutable) would show half-written rows, so say so instead.
            raise CaptureError(path, interrupted_write_problem(path)) from None
        if "unable to open" in str(exc) or "readonly" in str(exc):
            # A WAL file in a read-only folder cannot create its -shm; immutable still reads it,
            # but immutable ignores journals: only safe when neither holds anything.
            if journal_present(path):
                raise CaptureError(path, interrupted_write_problem(path)) from None
            if _wal_has_frames(path):
                raise CaptureError(
                    path, f"has committed changes in {path.name}-wal that cannot be read here (SQLite "
                          f"cannot create {path.name}-shm in this read-only folder): copy {path.name} and "
                          f"{path.name}-wal together to a writable folder and open the copy") from None
            try:
                con = sqlite3.connect(path.resolve().as_uri() + "?immutable=1", uri=True,
                                      check_same_thread=False)
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return con
            except sqlite3.DatabaseError:
                pass
        raise CaptureError(path, f"is corrupt or unreadable: {exc}") from None


def recover_capture(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> dict:
    """Finish what a writer that stopped mid-transaction left: roll back a hot rollback journal
    and checkpoint the WAL, so the file holds exactly what was committed (nothing committed is
    lost; the unfinished transaction is dropped, as SQLite does when it opens read-write).

    With ``out``, the capture and its journal / WAL are copied there first and the copy is
    recovered: the way to recover a read-only capture. Returns ``{"path", "journal", "wal"}``:
    the file recovered and whether a journal / WAL was there.
    """
    import shutil

    from hindsight.store.access import read_only_reason

    src = Path(path)
    _check_header(src)
    journal, wal = journal_present(src), _wal_has_frames(src)
    target = src
    if out is not None:
        target = Path(out)
        if target.exists():
            raise CaptureError(target, "already exists: choose a new name for the recovered copy")
        try:
            for suffix in ("", "-journal", "-wal"):
                if suffix == "" or _side_file(src, suffix).exists():
                    shutil.copyfile(_side_file(src, suffix), _side_file(target, suffix))
        except OSError as exc:
            raise CaptureError(target, f"cannot be written ({exc.strerror or exc})") from None
    elif not (journal or wal):
        return {"path": str(target), "journal": False, "wal": False}
    else:
        reason = read_only_reason(src)
        if reason:
            raise CaptureError(src, f"{reason}, so it cannot be recovered in place: "
                                    f"give --out COPY to recover a copy")
    try:
        con = sqlite3.connect(target, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            # The first read of a read-write connection rolls a hot journal back.
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if con.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise CaptureError(target, f"cannot be recovered: {exc}") from None
    if journal_present(target):
        raise CaptureError(target, "still has an unfinished write: is its writer still running?")
    return {"path": str(target), "journal": journal, "wal": wal}


def open_capture(path: str | os.PathLike[str]) -> "Capture":
    """Open a capture file for viewing, or raise ``CaptureError`` saying what is wrong."""
    path = Path(path)
    _check_header(path)
    con = _connect_readonly(path)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            raise CaptureError(path, "is a SQLite database but not a Hindsight capture (no meta table)")
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT_NAME:
            raise CaptureError(
                path, f"is a SQLite database but not a Hindsight capture (format {meta.get('format')!r})"
            )
        try:
            version = int(meta.get("format_version", "0"))
        except ValueError:
            raise CaptureError(path, f"has an unreadable format version {meta.get('format_version')!r}") from None
        if version > SCHEMA_VERSION:
            raise CaptureError(
                path,
                f"was written by a newer Hindsight (capture format {version}; this version reads "
                f"up to {SCHEMA_VERSION}): please update Hindsight",
            )
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise CaptureError(path, f"is damaged: missing table(s) {', '.join(missing)}")
        # Touch every table once so corruption in their first pages shows now, not mid-session.
        for table in REQUIRED_TABLES:
            con.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()
        con.execute("SELECT max(rowid) FROM pageviews").fetchone()
    except CaptureError:
        con.close()
        raise
    except sqlite3.DatabaseError as exc:
        con.close()
        raise CaptureError(path, f"is corrupt: {exc}") from None
    return Capture(path, con, meta, tables)


class Capture:
    """A capture opened for viewing. Queries return records or numpy columns."""

    def __init__(self, path: Path, con: sqlite3.Connection, meta: dict[str, str], tables: set[str]):
        self.path = path
        self._con = con
        self.meta = meta
        self.tables = tables
        self._elements: dict[int, ElementMap] = {}
        self._strings: dict[int, str] | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _query(self, sql: str, params=()) -> list[tuple]:
        try:
            return self._con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise CaptureError(self.path, f"is corrupt: {exc}") from None

    @property
    def format_version(self) -> int:
        return int(self.meta.get("format_version", "0"))

    # -- pages and snapshots -------------------------------------------------------------
    def pages(self) -> list[Page]:
        return [Page(*r) for r in self._query("SELECT page_id, url, title FROM pages ORDER BY page_id")]

    def page_by_url(self, url: str) -> Page | None:
        rows = self._query("SELECT page_id, url, title FROM pages WHERE url = ?", (url,))
        return Page(*rows[0]) if rows else None

    def snapshots(self, page_id: int | None = None) -> list[Snapshot]:
        sql = "SELECT snapshot_id, page_id, device, width, height, scale FROM snapshots"
        params: tuple = ()
        if page_id is not None:
            sql += " WHERE page_id = ?"
            params = (page_id,)
        return [Snapshot(*r) for r in self._query(sql + " ORDER BY snapshot_id", params)]

    def snapshot(self, snapshot_id: int) -> Snapshot:
        rows = self._query(
            "SELECT snapshot_id, page_id, device, width, height, scale FROM snapshots WHERE snapshot_id = ?",
            (snapshot_id,),
        )
        if not rows:
            raise KeyError(f"no snapshot {snapshot_id}")
        return Snapshot(*rows[0])

    def find_snapshot(self, page_id: int, device: str) -> Snapshot | None:
        rows = self._query(
            "SELECT snapshot_id, page_id, device, width, height, scale FROM snapshots "
            "WHERE page_id = ? AND device = ? ORDER BY snapshot_id LIMIT 1",
            (page_id, device),
        )
        return Snapshot(*rows[0]) if rows else None

    def snapshot_image(self, snapshot_id: int) -> bytes | None:
        """The snapshot's screenshot as encoded bytes (PNG), or None if it has none."""
        rows = self._query("SELECT image FROM snapshots WHERE snapshot_id = ?", (snapshot_id,))
        return rows[0][0] if rows else None

    def elements(self, snapshot_id: int) -> ElementMap:
        cached = self._elements.get(snapshot_id)
        if cached is not None:
            return cached
        rows = self._query(
            "SELECT selector, tag, role, label, x, y, w, h, clickable, field, form, sensitive, href "
            "FROM elements WHERE snapshot_id = ? ORDER BY idx",
            (snapshot_id,),
        )
        cols = list(zip(*rows)) if rows else [()] * 13
        emap = ElementMap(
            selector=tuple(cols[0]), tag=tuple(cols[1]), role=tuple(cols[2]), label=tuple(cols[3]),
            boxes=np.array(list(zip(cols[4], cols[5], cols[6], cols[7])), dtype=np.int32).reshape(-1, 4),
            clickable=np.array(cols[8], dtype=bool), field=tuple(cols[9]), form=tuple(cols[10]),
            sensitive=np.array(cols[11], dtype=bool), href=tuple(cols[12]),
        )
        self._elements[snapshot_id] = emap
        return emap

    def strings(self) -> dict[int, str]:
        if self._strings is None:
            self._strings = dict(self._query("SELECT string_id, text FROM strings"))
        return self._strings

    # -- sessions ------------------------------------------------------------------------
    def session_count(self) -> int:
        return int(self._query("SELECT count(*) FROM sessions")[0][0])

    def session(self, session_id: int) -> Session:
        rows = self._query(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE session_id = ?", (session_id,)
        )
        if not rows:
            raise KeyError(f"no session {session_id}")
        r = list(rows[0])
        r[SESSION_COLUMNS.index("converted")] = bool(r[SESSION_COLUMNS.index("converted")])
        return Session(*r)

    def session_ids(self, flt: SessionFilter | None = None) -> np.ndarray:
        where, params = (flt or SessionFilter()).to_sql("s")
        rows = self._query(f"SELECT s.session_id FROM sessions s WHERE {where} ORDER BY s.session_id", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def session_table(self, flt: SessionFilter | None = None, order_by: str = "start_ms") -> dict[str, np.ndarray]:
        """The filtered session list as columns: numeric columns int64 arrays, text object arrays."""
        where, params = (flt or SessionFilter()).to_sql("s")
        if order_by.lstrip("-") not in SESSION_TABLE_COLUMNS:
            raise ValueError(f"cannot order by {order_by!r}")
        cols = ", ".join(f"s.{c}" for c in SESSION_TABLE_COLUMNS)
        # Read in table order (sequential pages) and sort in numpy: ORDER BY through an index
        # costs a random table lookup per row, twice the time of the whole read.
        rows = self._query(f"SELECT {cols} FROM sessions s WHERE {where}", params)
        out: dict[str, np.ndarray] = {}
        columns = list(zip(*rows)) if rows else [()] * len(SESSION_TABLE_COLUMNS)
        for name, values in zip(SESSION_TABLE_COLUMNS, columns):
            if name in _NUMERIC:
                if None in values:
                    values = [-1 if v is None else v for v in values]
                out[name] = np.array(values, dtype=np.int64)
            else:
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                out[name] = arr
        key = out[order_by.lstrip("-")]
        if key.dtype == object:
            key = np.unique(key, return_inverse=True)[1]
        if order_by.startswith("-"):
            key = -key
        order = np.lexsort((out["session_id"], key))
        if np.any(order[1:] < order[:-1]):
            out = {name: col[order] for name, col in out.items()}
        return out

    def distinct_values(self, column: str) -> list[str]:
        if column not in ("device", "browser", "os", "country", "source", "utm_source",
                          "utm_medium", "utm_campaign"):
            raise ValueError(f"no such filter column {column!r}")
        rows = self._query(f"SELECT {column}, count(*) FROM sessions GROUP BY {column} ORDER BY count(*) DESC")
        return [r[0] for r in rows]

    # -- pageviews and events ------------------------------------------------------------
    def pageviews(self, session_id: int) -> list[PageView]:
        rows = self._query(
            f"SELECT {', '.join(PAGEVIEW_COLUMNS)} FROM pageviews WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        return [PageView(*r) for r in rows]

    def pageview_events(self, pageview_id: int) -> EventColumns:
        rows = self._query("SELECT events FROM pageviews WHERE pageview_id = ?", (pageview_id,))
        if not rows:
            raise KeyError(f"no pageview {pageview_id}")
        return self._decode(rows[0][0])

    def session_events(self, session_id: int) -> tuple[list[PageView], EventColumns, np.ndarray]:
        """All events of a session in time order, and per event the index of its pageview."""
        rows = self._query(
            f"SELECT {', '.join(PAGEVIEW_COLUMNS)}, events FROM pageviews WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        pageviews = [PageView(*r[:-1]) for r in rows]
        events, pv_index = self._decode_many([r[-1] for r in rows])
        return pageviews, events, pv_index.astype(np.int32)

    def snapshot_events(
        self,
        snapshot_id: int,
        kinds: tuple[int, ...] | None = None,
        flt: SessionFilter | None = None,
    ) -> tuple[EventColumns, np.ndarray, np.ndarray]:
        """Events of the given kinds from every pageview of a snapshot by the filtered sessions.

        Returns (events, session_id per event, pageview_id per event). Times stay relative
        to each session's start.
        """
        where, params = (flt or SessionFilter()).to_sql("s")
        join = "" if where == "1" else " JOIN sessions s ON s.session_id = pv.session_id"
        cond = "" if where == "1" else f" AND {where}"
        rows = self._query(
            f"SELECT pv.pageview_id, pv.session_id, pv.events FROM pageviews pv{join} "
            f"WHERE pv.snapshot_id = ?{cond} ORDER BY pv.pageview_id",
            [snapshot_id, *params],
        )
        events, source = self._decode_many([r[2] for r in rows], kinds)
        pv_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))[source]
        s_ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))[source]
        return events, s_ids, pv_ids

    def snapshot_pageviews(self, snapshot_id: int, flt: SessionFilter | None = None) -> list[PageView]:
        where, params = (flt or SessionFilter()).to_sql("s")
        cols = ", ".join(f"pv.{c}" for c in PAGEVIEW_COLUMNS)
        rows = self._query(
            f"SELECT {cols} FROM pageviews pv JOIN sessions s ON s.session_id = pv.session_id "
            f"WHERE pv.snapshot_id = ? AND {where} ORDER BY pv.pageview_id",
            [snapshot_id, *params],
        )
        return [PageView(*r) for r in rows]

    def _decode(self, blob: bytes) -> EventColumns:
        try:
            return EventColumns.unpack(blob)
        except ValueError as exc:
            raise CaptureError(self.path, f"is damaged: {exc}") from None

    def _decode_many(self, blobs: list[bytes], kinds=None) -> tuple[EventColumns, np.ndarray]:
        try:
            return unpack_many(blobs, kinds)
        except ValueError as exc:
            raise CaptureError(self.path, f"is damaged: {exc}") from None

    # -- summary -------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        row = self._query(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM pageviews), "
            "(SELECT coalesce(sum(event_count), 0) FROM pageviews), (SELECT count(*) FROM pages), "
            "(SELECT count(*) FROM snapshots)"
        )[0]
        return dict(zip(("sessions", "pageviews", "events", "pages", "snapshots"), map(int, row)))

    def date_range(self) -> tuple[int | None, int | None]:
        """First start and last end of the sessions whose start is a calendar date (None, None
        when none is: see ``records.date_known``)."""
        from hindsight.store.records import KNOWN_DATE_MAX_MS, KNOWN_DATE_MIN_MS

        row = self._query("SELECT min(start_ms), max(start_ms + duration_ms) FROM sessions "
                          "WHERE start_ms BETWEEN ? AND ?", (KNOWN_DATE_MIN_MS, KNOWN_DATE_MAX_MS))[0]
        return row[0], row[1]

    def unknown_date_count(self) -> int:
        """Sessions whose start is not a calendar date (imported from a rebased timeline)."""
        from hindsight.store.records import KNOWN_DATE_MAX_MS, KNOWN_DATE_MIN_MS

        return int(self._query("SELECT count(*) FROM sessions WHERE start_ms NOT BETWEEN ? AND ?",
                               (KNOWN_DATE_MIN_MS, KNOWN_DATE_MAX_MS))[0][0])

    def device_counts(self) -> dict[str, int]:
        return dict(self._query("SELECT device, count(*) FROM sessions GROUP BY device ORDER BY count(*) DESC"))

    def planted(self, kind: str | None = None) -> list[tuple]:
        """Ground truth of a demo capture: (session_id, kind, t_ms, end_ms, selector, detail)."""
        if "planted" not in self.tables:
            return []
        sql = "SELECT session_id, kind, t_ms, end_ms, selector, detail FROM planted"
        if kind is not None:
            return self._query(sql + " WHERE kind = ? ORDER BY session_id, t_ms", (kind,))
        return self._query(sql + " ORDER BY session_id, t_ms")

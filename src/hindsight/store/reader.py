"""Opening a capture file for viewing: checks, then typed queries returning numpy arrays.

Viewing never writes: the file is opened read-only (``mode=ro``), so a read-only file on
disk opens too. Every problem with the file becomes a ``CaptureError`` of one line.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from hindsight.events import Emitter
from hindsight.store import session_columns
from hindsight.store.session_columns import _NUMERIC, SESSION_RANGES, SESSION_TABLE_COLUMNS
from hindsight.store.columns import BYTES_PER_EVENT, EventColumns, unpack_many
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.session_order import sort_table
from hindsight.store.records import (
    PAGEVIEW_COLUMNS,
    SESSION_COLUMNS,
    ElementMap,
    Page,
    PageView,
    Session,
    Snapshot,
)
from hindsight.store.schema import FORMAT_NAME, PAGEVIEWS_SNAPSHOT_INDEX, REQUIRED_TABLES, SCHEMA_VERSION
from hindsight.store.validate import (
    MAX_EPOCH_MS,
    MAX_T_MS,
    MAX_VIEWPORT,
    MIN_EPOCH_MS,
    Damage,
    check_image,
    check_snapshot,
    event_damage,
    out_of_order,
    int_column,
    text_value,
)

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Emits each ``Capture`` that ``open_capture`` returns (the CLI reports damaged events with it).
capture_did_open = Emitter()

#: Rows per chunk when streaming the session list (bounded memory however many sessions).
_SESSION_CHUNK = 16_384
#: Sane range of each numeric pageview column (times are ms since the session start).
PAGEVIEW_RANGES = {
    "pageview_id": (0, 2**63 - 1), "session_id": (0, 2**63 - 1), "seq": (0, 2**31 - 1),
    "page_id": (0, 2**63 - 1), "snapshot_id": (0, 2**63 - 1), "start_ms": (0, MAX_T_MS),
    "end_ms": (0, MAX_T_MS), "load_ms": (0, MAX_T_MS), "event_count": (0, 2**31 - 1),
}


#: The pageview columns decoding needs (``Capture.decode_events``).
_DECODE_COLUMNS = ("pageview_id", "session_id", "snapshot_id", "start_ms", "end_ms")


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
        bad_meta = next((k for k, v in meta.items() if not isinstance(k, str) or not isinstance(v, str)), None)
        if bad_meta is not None:
            raise CaptureError(path, f"is damaged: meta {str(bad_meta)[:40]!r} is not text")
        if meta.get("format") != FORMAT_NAME:
            raise CaptureError(
                path, f"is a SQLite database but not a Hindsight capture (format {meta.get('format')!r})"
            )
        try:
            version = int(meta.get("format_version", "0"))
        except ValueError:
            raise CaptureError(path, f"has an unreadable format version {meta.get('format_version')!r}") from None
        if version < 1:
            raise CaptureError(path, f"is damaged: impossible format version {version}")
        if version > SCHEMA_VERSION:
            raise CaptureError(
                path,
                f"was written by a newer Hindsight (capture format {version}; this version reads "
                f"up to {SCHEMA_VERSION}): please update Hindsight",
            )
        missing = [t for t in REQUIRED_TABLES + (("event_chunks",) if version >= 2 else ()) if t not in tables]
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
    capture = Capture(path, con, meta, tables)
    capture_did_open.emit(capture)
    return capture


_SNAPSHOT_INDEX_COLUMNS = {"pageview_id", "snapshot_id", "session_id", "seq", "start_ms", "end_ms"}


class Capture:
    """A capture opened for viewing. Queries return records or numpy columns."""

    def __init__(self, path: Path, con: sqlite3.Connection, meta: dict[str, str], tables: set[str]):
        self.path = path
        self._con = con
        self.meta = meta
        self.tables = tables
        self._elements: dict[int, ElementMap] = {}
        self._position_column: bool | None = None
        self._strings: dict[int, str] | None = None
        self._limits: dict[int, tuple[int, int, int]] | None = None
        self._string_ids: np.ndarray | None = None
        self._page_ids: set[int] | None = None
        #: pageview_id -> damaged events dropped when its events were read (see ``damaged_events``).
        self._damaged: dict[int, int] = {}
        self._images_ok: set[int] = set()
        self._limit_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._page_id_cache: np.ndarray | None = None
        self._indexes: set[str] | None = None
        #: The decoded columnar copy of the session list (store/session_columns.py), once read.
        self._copy: tuple | None = None
        # One statement at a time on the connection, and never a close under a running query
        # (a worker thread may still be reading when the app or a test closes the capture).
        self._lock = threading.RLock()
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._con.close()

    def _check_open(self) -> None:
        if self._closed:
            raise CaptureError(self.path, "was closed while it was being read")

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _query(self, sql: str, params=()) -> list[tuple]:
        try:
            with self._lock:
                self._check_open()
                return self._con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise CaptureError(self.path, f"is corrupt: {exc}") from None
        except (OverflowError, ValueError, MemoryError) as exc:  # e.g. a huge or NaN value in SQL
            raise CaptureError(self.path, f"is damaged: {type(exc).__name__}: {exc}") from None

    def _damage(self, exc: Exception) -> CaptureError:
        return CaptureError(self.path, f"is damaged: {exc}")

    @property
    def damaged_events(self) -> int:
        """Damaged events dropped so far from the events read (each pageview counted once)."""
        return int(sum(self._damaged.values()))

    @property
    def format_version(self) -> int:
        return int(self.meta.get("format_version", "0"))

    @property
    def columnar(self) -> bool:
        """Whether events can be read as columns of (snapshot, kind) chunks (format 2)."""
        return "event_chunks" in self.tables and self.format_version >= 2

    # -- pages and snapshots -------------------------------------------------------------
    def pages(self) -> list[Page]:
        return [self._page(r) for r in self._query("SELECT page_id, url, title FROM pages ORDER BY page_id")]

    def page_by_url(self, url: str) -> Page | None:
        rows = self._query("SELECT page_id, url, title FROM pages WHERE url = ?", (url,))
        return self._page(rows[0]) if rows else None

    def _page(self, row) -> Page:
        try:
            return Page(int_column([row[0]], "pages.page_id", 0)[0].item(),
                        text_value(row[1], f"pages row {row[0]}: url"), text_value(row[2], f"pages row {row[0]}: title"))
        except Damage as exc:
            raise self._damage(exc) from None

    def page_ids(self) -> set[int]:
        if self._page_ids is None:
            self._page_ids = {p.page_id for p in self.pages()}
        return self._page_ids

    def snapshots(self, page_id: int | None = None) -> list[Snapshot]:
        sql = "SELECT snapshot_id, page_id, device, width, height, scale FROM snapshots"
        params: tuple = ()
        if page_id is not None:
            sql += " WHERE page_id = ?"
            params = (page_id,)
        return [self._snapshot_record(r) for r in self._query(sql + " ORDER BY snapshot_id", params)]

    def snapshot(self, snapshot_id: int) -> Snapshot:
        rows = self._query(
            "SELECT snapshot_id, page_id, device, width, height, scale FROM snapshots WHERE snapshot_id = ?",
            (snapshot_id,),
        )
        if not rows:
            raise KeyError(f"no snapshot {snapshot_id}")
        return self._snapshot_record(rows[0])

    def find_snapshot(self, page_id: int, device: str) -> Snapshot | None:
        rows = self._query(
            "SELECT snapshot_id, page_id, device, width, height, scale FROM snapshots "
            "WHERE page_id = ? AND device = ? ORDER BY snapshot_id LIMIT 1",
            (page_id, device),
        )
        return self._snapshot_record(rows[0]) if rows else None

    def _snapshot_record(self, row) -> Snapshot:
        try:
            snap = Snapshot(*check_snapshot(tuple(row)))
        except Damage as exc:
            raise CaptureError(self.path, f"is damaged: {exc}") from None
        if snap.page_id not in self.page_ids():
            raise CaptureError(self.path, f"is damaged: snapshot {snap.snapshot_id} refers to page {snap.page_id}, "
                                          "which does not exist")
        return snap

    def snapshot_image(self, snapshot_id: int) -> bytes | None:
        """The snapshot's screenshot as encoded bytes (PNG), or None if it has none.

        The first read of each image decodes it once (Pillow) to check it: damaged bytes or a
        size beyond the limits raise ``CaptureError`` here rather than in a renderer.
        """
        rows = self._query("SELECT image FROM snapshots WHERE snapshot_id = ?", (snapshot_id,))
        data = rows[0][0] if rows else None
        if data is None or snapshot_id in self._images_ok:
            return data
        try:
            check_image(data, snapshot_id).close()
        except Damage as exc:
            raise self._damage(exc) from None
        self._images_ok.add(snapshot_id)
        return data

    def elements(self, snapshot_id: int) -> ElementMap:
        cached = self._elements.get(snapshot_id)
        if cached is not None:
            return cached
        has_position = self._elements_have_position()
        rows = self._query(
            "SELECT selector, tag, role, label, x, y, w, h, clickable, field, form, sensitive, href"
            + (", position" if has_position else "") + " FROM elements WHERE snapshot_id = ? ORDER BY idx",
            (snapshot_id,),
        )
        cols = list(zip(*rows)) if rows else [()] * (14 if has_position else 13)
        what = f"elements of snapshot {snapshot_id}"
        try:
            big = 2**31 - 1
            boxes = [int_column(cols[i], f"{what}: {name}", lo, big)
                     for i, name, lo in ((4, "x", -big), (5, "y", -big), (6, "w", 0), (7, "h", 0))]
            flags = [int_column(cols[i], f"{what}: {name}", 0, 1) for i, name in ((8, "clickable"), (11, "sensitive"))]
            texts = {}
            for i, name, nullable in ((0, "selector", False), (1, "tag", False), (2, "role", False),
                                      (3, "label", False), (9, "field", True), (10, "form", True), (12, "href", True)):
                values = cols[i]
                if not all(type(v) is str or (nullable and v is None) for v in values):
                    for v in values:
                        if v is None and not nullable:
                            raise Damage(f"{what}: a {name} is NULL")
                        if v is not None:
                            text_value(v, f"{what}: a {name}")
                texts[name] = tuple(values)
        except Damage as exc:
            raise self._damage(exc) from None
        emap = ElementMap(
            selector=texts["selector"], tag=texts["tag"], role=texts["role"], label=texts["label"],
            boxes=np.stack(boxes, axis=1).astype(np.int32).reshape(-1, 4) if rows else np.zeros((0, 4), np.int32),
            clickable=flags[0].astype(bool), field=texts["field"], form=texts["form"],
            sensitive=flags[1].astype(bool), href=texts["href"],
            position=np.array([p if p in ("fixed", "sticky") else "" for p in cols[13]] if has_position
                              else [""] * len(rows), dtype="<U6"),
        )
        self._elements[snapshot_id] = emap
        return emap

    def _elements_have_position(self) -> bool:
        """Whether ``elements`` has the ``position`` column (files written before it have not)."""
        if self._position_column is None:
            rows = self._query("PRAGMA table_info(elements)")
            self._position_column = any(r[1] == "position" for r in rows)
        return self._position_column

    def strings(self) -> dict[int, str]:
        if self._strings is None:
            rows = self._query("SELECT string_id, text FROM strings")
            try:
                self._strings = {int(k): text_value(v, f"strings row {k}: text")
                                 for k, v in zip(int_column([r[0] for r in rows], "strings.string_id"),
                                                 (r[1] for r in rows))}
            except Damage as exc:
                raise self._damage(exc) from None
        return self._strings

    def _string_id_array(self) -> np.ndarray:
        if self._string_ids is None:
            self._string_ids = np.sort(np.fromiter(self.strings().keys(), dtype=np.int64))
        return self._string_ids

    def snapshot_limits(self) -> dict[int, tuple[int, int, int]]:
        """snapshot_id -> (elements, width, height): what events of its pageviews must fit in."""
        if self._limits is None:
            snaps = {s.snapshot_id: s for s in self.snapshots()}
            rows = self._query("SELECT snapshot_id, count(*), min(idx), max(idx) FROM elements GROUP BY snapshot_id")
            counts: dict[int, int] = {}
            for sid, n, lo, hi in rows:
                if sid not in snaps:
                    raise CaptureError(self.path, f"is damaged: elements refer to snapshot {sid!r}, which does not exist")
                if lo != 0 or hi != n - 1:
                    raise CaptureError(self.path, f"is damaged: the {n:,} elements of snapshot {sid} are numbered "
                                                  f"{lo!r}..{hi!r}, not 0..{n - 1}")
                counts[sid] = int(n)
            self._limits = {sid: (counts.get(sid, 0), s.width, s.height) for sid, s in snaps.items()}
        return self._limits

    def _limit_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``snapshot_limits`` as (sorted snapshot ids, (k, 3) int64 rows) for vectorised lookups."""
        if self._limit_cache is None:
            limits = self.snapshot_limits()
            ids = np.array(sorted(limits), dtype=np.int64)
            rows = np.array([limits[i] for i in ids.tolist()], dtype=np.int64).reshape(-1, 3)
            self._limit_cache = (ids, rows)
        return self._limit_cache

    def _page_id_array(self) -> np.ndarray:
        if self._page_id_cache is None:
            self._page_id_cache = np.array(sorted(self.page_ids()), dtype=np.int64)
        return self._page_id_cache

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
        try:
            for i, name in enumerate(SESSION_COLUMNS):
                if name in SESSION_RANGES:
                    lo, hi, nullable = SESSION_RANGES[name]
                    v = int_column([r[i]], f"session {session_id}: {name}", lo, hi, nullable)[0].item()
                    r[i] = None if (nullable and r[i] is None) else v
                else:
                    r[i] = text_value(r[i], f"session {session_id}: {name}")
        except Damage as exc:
            raise self._damage(exc) from None
        r[SESSION_COLUMNS.index("converted")] = bool(r[SESSION_COLUMNS.index("converted")])
        return Session(*r)

    def session_ids(self, flt: SessionFilter | None = None) -> np.ndarray:
        where, params = (flt or SessionFilter()).to_sql("s")
        rows = self._query(f"SELECT s.session_id FROM sessions s WHERE {where} ORDER BY s.session_id", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def session_table(self, flt: SessionFilter | None = None, order_by: str = "start_ms") -> dict[str, np.ndarray]:
        """The filtered session list as columns: numeric columns int64 arrays, text columns object
        arrays whose cells point into one small set of distinct strings (category codes decoded
        through a lookup: 8 bytes a row, no string object per row)."""
        where, params = (flt or SessionFilter()).to_sql("s")
        if order_by.lstrip("-") not in SESSION_TABLE_COLUMNS:
            raise ValueError(f"cannot order by {order_by!r}")
        # Read in table order (sequential pages) and sort in numpy: ORDER BY through an index
        # costs a random table lookup per row, twice the time of the whole read.
        try:
            out = self._listed_columns(where, params)
        except Damage as exc:
            raise self._damage(exc) from None
        return sort_table(out, order_by)

    def _listed_columns(self, where: str, params, copy: bool = True) -> dict[str, np.ndarray]:
        """``_session_columns`` through the stored columnar copy when it is intact and current
        (``store/session_columns.py``): the copy, plus the sessions appended after it from SQL;
        a filter selects its rows by the session ids SQL matches. Otherwise all from SQL."""
        out = self._from_copy(lambda max_id: self._session_columns("s.session_id > ?", [max_id]))
        if out is None:
            return self._session_columns(where, params)
        if out is self._copy[0] and where == "1" and copy:
            out = {name: col.copy() for name, col in out.items()}   # never hand out the kept arrays
        if where != "1":
            rows = self._query(f"SELECT s.session_id FROM sessions s WHERE {where}", params)
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            pos = np.searchsorted(out["session_id"], ids)
            if pos.size and (int(pos.max()) >= out["session_id"].size
                             or not np.array_equal(out["session_id"][pos], ids)):
                return self._session_columns(where, params)
            out = {name: col[pos] for name, col in out.items()}
        return out

    def _from_copy(self, tail) -> dict[str, np.ndarray] | None:
        """The stored columnar copy of the session list (``store/session_columns.py``), kept once
        read, plus the sessions appended after it (``tail(max_id)``: their columns from SQL);
        None when there is no intact, current copy. Without a tail these are the kept arrays."""
        loaded = session_columns.load(self._query, self._copy) if "session_columns" in self.tables else None
        if loaded is None:
            self._copy = None
            return None
        out, max_id, self._copy = loaded   # kept: the next list reads no BLOB again
        rest = tail(max_id)
        if rest["session_id"].size:
            out = {name: np.concatenate([out[name], col]) for name, col in rest.items()}
        return out

    def _session_columns(self, where: str, params) -> dict[str, np.ndarray]:
        """``SESSION_TABLE_COLUMNS`` of the rows matching ``where``, in table order.

        One query, streamed in chunks: each chunk's numbers go straight into int64 arrays (a
        row-by-row check only when that fails: NULLs, text or floats where numbers belong) and
        each text value becomes a category code, so no list of all rows is ever held.
        """
        numeric = [c for c in SESSION_TABLE_COLUMNS if c in _NUMERIC]
        text = [c for c in SESSION_TABLE_COLUMNS if c not in _NUMERIC]
        names = numeric + text
        cur = self._cursor(f"SELECT {', '.join('s.' + c for c in names)} FROM sessions s WHERE {where}", params)
        parts: dict[str, list[np.ndarray]] = {c: [] for c in names}
        lookups: dict[str, dict] = {c: {} for c in text}
        try:
            while True:
                with self._lock:
                    self._check_open()
                    chunk = cur.fetchmany(_SESSION_CHUNK)
                if not chunk:
                    break
                cols = list(zip(*chunk))
                for j, name in enumerate(numeric):
                    try:
                        arr = np.array(cols[j], dtype=np.int64)
                    except (TypeError, ValueError, OverflowError):
                        lo, hi, nullable = SESSION_RANGES[name]
                        arr = int_column(cols[j], f"sessions.{name}", lo, hi, nullable, ids=cols[0])
                    parts[name].append(arr)
                for j, name in enumerate(text, start=len(numeric)):
                    lookup = lookups[name]
                    values = cols[j]
                    if set(map(type, values)) - {str}:
                        for sid, v in zip(cols[0], values):
                            text_value(v, f"sessions row {sid}: {name}")
                    for v in set(values):   # a handful of distinct values per chunk
                        lookup.setdefault(v, len(lookup))
                    parts[name].append(np.fromiter(map(lookup.__getitem__, values), dtype=np.int32,
                                                   count=len(values)))
        except sqlite3.DatabaseError as exc:
            raise CaptureError(self.path, f"is corrupt: {exc}") from None
        out: dict[str, np.ndarray] = {}
        for name in numeric:
            col = np.concatenate(parts.pop(name)) if parts[name] else np.zeros(0, dtype=np.int64)
            lo, hi, nullable = SESSION_RANGES[name]
            if col.size and ((lo is not None and int(col.min()) < lo) or (hi is not None and int(col.max()) > hi)):
                col = int_column(col.tolist(), f"sessions.{name}", lo, hi, nullable, ids=out["session_id"].tolist())
            out[name] = col
        for name in text:
            codes = np.concatenate(parts.pop(name)) if parts[name] else np.zeros(0, dtype=np.int32)
            categories = np.empty(len(lookups[name]), dtype=object)
            categories[:] = list(lookups[name])
            out[name] = categories[codes] if codes.size else np.empty(0, dtype=object)
        return {name: out[name] for name in SESSION_TABLE_COLUMNS}

    def _cursor(self, sql: str, params=()):
        try:
            with self._lock:
                self._check_open()
                return self._con.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise CaptureError(self.path, f"is corrupt: {exc}") from None
        except (OverflowError, ValueError, MemoryError) as exc:
            raise CaptureError(self.path, f"is damaged: {type(exc).__name__}: {exc}") from None

    def distinct_values(self, column: str) -> list[str]:
        if column not in ("device", "browser", "os", "country", "source", "utm_source",
                          "utm_medium", "utm_campaign"):
            raise ValueError(f"no such filter column {column!r}")
        if column in SESSION_TABLE_COLUMNS and "session_columns" in self.tables:
            col = self._listed_columns("1", [], copy=False)[column]   # the columnar copy: no table scan
            counts = Counter(col.tolist())   # a handful of distinct strings: C-speed counting
            return sorted(counts, key=lambda v: (-counts[v], v))
        rows = self._query(f"SELECT {column}, count(*) FROM sessions GROUP BY {column} ORDER BY count(*) DESC")
        try:
            return [text_value(r[0], f"sessions.{column}") for r in rows]
        except Damage as exc:
            raise self._damage(exc) from None

    # -- pageviews and events ------------------------------------------------------------
    def pageview_columns(self, rows, offset: int = 0, names: tuple[str, ...] = PAGEVIEW_COLUMNS
                         ) -> dict[str, np.ndarray]:
        """Pageview columns ``names`` of ``rows`` (from column ``offset``) as checked int64 arrays.

        Raises CaptureError for a value out of range, an end before the start, or a reference
        to a page or snapshot that does not exist.
        """
        k = len(names)
        lo = np.array([PAGEVIEW_RANGES[c][0] for c in names], dtype=np.int64)
        hi = np.array([PAGEVIEW_RANGES[c][1] for c in names], dtype=np.int64)
        out = None
        try:   # fast path: one 2-D conversion and one min / max per column
            whole = offset == 0 and (not rows or len(rows[0]) == k)   # no per-row slice to make
            arr = np.array(rows if whole else [r[offset:offset + k] for r in rows], dtype=np.int64).reshape(-1, k)
            if not arr.size or (np.all(arr.min(axis=0) >= lo) and np.all(arr.max(axis=0) <= hi)):
                out = {name: np.ascontiguousarray(arr[:, i]) for i, name in enumerate(names)}
        except (TypeError, ValueError, OverflowError):
            pass
        try:
            if out is not None:
                ids = out["pageview_id"]
            else:   # something is off: find it column by column, for the message
                cols = list(zip(*rows)) if rows else [()] * (offset + k)
                ids = cols[offset]
                out = {name: int_column(cols[offset + i], f"pageviews.{name}", *PAGEVIEW_RANGES[name], ids=ids)
                       for i, name in enumerate(names)}
            bad = np.flatnonzero(out["end_ms"] < out["start_ms"]) if "start_ms" in out else ()
            if len(bad):
                i = int(bad[0])
                raise Damage(f"pageview {ids[i]} ends ({int(out['end_ms'][i]):,} ms) before it starts "
                             f"({int(out['start_ms'][i]):,} ms)")
            snap_ids, _ = self._limit_arrays()
            for name, known, table in (("snapshot_id", snap_ids, "snapshot"), ("page_id", self._page_id_array(), "page")):
                if name not in out:
                    continue
                col = out[name]
                if col.size:
                    pos = np.minimum(np.searchsorted(known, col), max(known.size - 1, 0))
                    missing = np.flatnonzero(known[pos] != col) if known.size else np.arange(col.size)
                    if missing.size:
                        i = int(missing[0])
                        raise Damage(f"pageview {ids[i]} refers to {table} {int(col[i])}, which does not exist")
        except Damage as exc:
            raise self._damage(exc) from None
        return out

    def _pageview_records(self, cols: dict[str, np.ndarray]) -> list[PageView]:
        return [PageView(*r) for r in zip(*(cols[name].tolist() for name in PAGEVIEW_COLUMNS))]

    def pageviews(self, session_id: int) -> list[PageView]:
        rows = self._query(
            f"SELECT {', '.join(PAGEVIEW_COLUMNS)} FROM pageviews WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        return self._pageview_records(self.pageview_columns(rows))

    def pageview_events(self, pageview_id: int) -> EventColumns:
        rows = self._query(
            f"SELECT {', '.join(PAGEVIEW_COLUMNS)}, events FROM pageviews WHERE pageview_id = ?", (pageview_id,))
        if not rows:
            raise KeyError(f"no pageview {pageview_id}")
        pv = self.pageview_columns(rows)
        return self.decode_events([rows[0][-1]], pv)[0]

    def session_events(self, session_id: int) -> tuple[list[PageView], EventColumns, np.ndarray]:
        """All events of a session in time order, and per event the index of its pageview.

        Damaged events are dropped (and counted in ``damaged_events``); events out of time
        order within a pageview are sorted.
        """
        rows = self._query(
            f"SELECT {', '.join(PAGEVIEW_COLUMNS)}, events FROM pageviews WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        pv = self.pageview_columns(rows)
        events, pv_index = self.decode_events([r[-1] for r in rows], pv)
        return self._pageview_records(pv), events, pv_index.astype(np.int32)

    def snapshot_events(
        self,
        snapshot_id: int,
        kinds: tuple[int, ...] | None = None,
        flt: SessionFilter | None = None,
        *,
        columns: tuple[str, ...] | None = None,
        with_pageviews: bool = True,
    ) -> tuple[EventColumns, np.ndarray, np.ndarray | None]:
        """Events of the given kinds from every pageview of a snapshot by the filtered sessions.

        Returns (events, session_id per event, pageview_id per event), sorted by (pageview_id, t).
        Times stay relative to each session's start. Damaged events are dropped (and counted
        in ``damaged_events``). ``columns`` (names of ``EventColumns`` fields) says which event
        columns the caller uses: on a format-2 capture only those are read, the others come
        back as read-only zeros (``kind`` is always filled). ``with_pageviews=False``: the
        caller does not need the pageview ids (None is returned in their place; saves decoding them).
        """
        if self.columnar:
            from hindsight.store.chunk_reader import read_snapshot_events

            return read_snapshot_events(self, snapshot_id, kinds, flt, columns, with_pageviews)
        where, params = (flt or SessionFilter()).to_sql("s")
        join = "" if where == "1" else " JOIN sessions s ON s.session_id = pv.session_id"
        cond = "" if where == "1" else f" AND {where}"
        cols = ", ".join(f"pv.{c}" for c in _DECODE_COLUMNS)
        rows = self._query(
            f"SELECT {cols}, pv.events FROM pageviews pv{join} "
            f"WHERE pv.snapshot_id = ?{cond} ORDER BY pv.pageview_id",
            [snapshot_id, *params],
        )
        pv = self.pageview_columns(rows, names=_DECODE_COLUMNS)
        events, source = self.decode_events([r[-1] for r in rows], pv, kinds)
        return events, pv["session_id"][source], (pv["pageview_id"][source] if with_pageviews else None)

    def snapshot_pageview_columns(self, snapshot_id: int,
                                  names: tuple[str, ...] = ("pageview_id", "session_id", "seq", "start_ms", "end_ms")
                                  ) -> dict[str, np.ndarray]:
        """Columns ``names`` of every pageview of a snapshot as checked int64 arrays, by pageview id
        (no per-row Python objects: what heatmaps need at 100k+ pageviews). Read from the
        ``pageviews_snapshot_session`` index alone when it covers ``names``."""
        names = ("pageview_id",) + tuple(n for n in names if n != "pageview_id")
        if "start_ms" in names and "end_ms" not in names:
            names += ("end_ms",)
        if self._has_index(PAGEVIEWS_SNAPSHOT_INDEX) and set(names) <= _SNAPSHOT_INDEX_COLUMNS:
            rows = self._query(f"SELECT {', '.join(names)} FROM pageviews INDEXED BY {PAGEVIEWS_SNAPSHOT_INDEX} "
                               "WHERE snapshot_id = ?", (snapshot_id,))
            out = self.pageview_columns(rows, names=names)
            ids = out["pageview_id"]
            if ids.size > 1 and np.any(ids[1:] < ids[:-1]):   # index order is by session: sort here
                order = np.argsort(ids, kind="stable")
                out = {name: col[order] for name, col in out.items()}
            return out
        rows = self._query(f"SELECT {', '.join(names)} FROM pageviews WHERE snapshot_id = ? ORDER BY pageview_id",
                           (snapshot_id,))
        return self.pageview_columns(rows, names=names)

    def snapshot_view_counts(self, snapshot_ids) -> tuple[int, int] | None:
        """(pageviews, distinct sessions) of the pageviews of the snapshots ``snapshot_ids``, counted
        in the ``pageviews_snapshot_session`` index without reading any row; None when the capture
        has no such index (written before it): then read ``snapshot_pageview_columns`` instead.

        Every pageview counts, also one whose session row is missing (a damaged capture).
        """
        if not self._has_index(PAGEVIEWS_SNAPSHOT_INDEX):
            return None
        ids = [int(i) for i in snapshot_ids]
        where = f"snapshot_id IN ({', '.join('?' * len(ids))})"
        # GROUP BY walks the index in (snapshot, session) order: no temporary b-tree for one snapshot.
        row = self._query(f"SELECT (SELECT count(*) FROM pageviews INDEXED BY {PAGEVIEWS_SNAPSHOT_INDEX} WHERE {where}), "
                          f"(SELECT count(*) FROM (SELECT session_id FROM pageviews INDEXED BY {PAGEVIEWS_SNAPSHOT_INDEX} "
                          f"WHERE {where} GROUP BY session_id))", ids + ids)[0]
        return int(row[0]), int(row[1])

    def _has_index(self, name: str) -> bool:
        if self._indexes is None:
            self._indexes = {r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        return name in self._indexes

    def session_columns(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Numeric session columns ``names`` (of ``SESSION_RANGES``) of every session as checked
        int64 arrays, ordered by session id (NULLs -1)."""
        names = ("session_id",) + tuple(n for n in names if n != "session_id")
        bad = [n for n in names if n not in SESSION_RANGES]
        if bad:
            raise ValueError(f"not a numeric session column: {bad[0]!r}")
        # The stored columnar copy of the session list holds these columns, checked and in
        # session id order (store/session_columns.py): a heatmap's first filter change then
        # reads no session row (200k rows from SQL took most of that change's time).
        out = self._from_copy(lambda max_id: self._session_columns_sql(names, "WHERE session_id > ?", (max_id,)))
        if out is None:
            return self._session_columns_sql(names)
        return {n: out[n].copy() for n in names}   # never hand out the kept arrays

    def _session_columns_sql(self, names: tuple[str, ...], where: str = "", params=()) -> dict[str, np.ndarray]:
        rows = self._query(f"SELECT {', '.join(names)} FROM sessions {where} ORDER BY session_id", params)
        try:
            arr = np.array(rows, dtype=np.int64).reshape(-1, len(names))
            out = {n: np.ascontiguousarray(arr[:, i]) for i, n in enumerate(names)}
            if all(int(out[n].min(initial=SESSION_RANGES[n][0])) >= SESSION_RANGES[n][0]
                   and int(out[n].max(initial=SESSION_RANGES[n][1])) <= SESSION_RANGES[n][1] for n in names):
                return out
        except (TypeError, ValueError, OverflowError):
            pass
        cols = list(zip(*rows)) if rows else [()] * len(names)
        try:
            return {n: int_column(cols[i], f"sessions.{n}", *SESSION_RANGES[n], ids=cols[0])
                    for i, n in enumerate(names)}
        except Damage as exc:
            raise self._damage(exc) from None

    def snapshot_pageviews(self, snapshot_id: int, flt: SessionFilter | None = None) -> list[PageView]:
        where, params = (flt or SessionFilter()).to_sql("s")
        cols = ", ".join(f"pv.{c}" for c in PAGEVIEW_COLUMNS)
        rows = self._query(
            f"SELECT {cols} FROM pageviews pv JOIN sessions s ON s.session_id = pv.session_id "
            f"WHERE pv.snapshot_id = ? AND {where} ORDER BY pv.pageview_id",
            [snapshot_id, *params],
        )
        return self._pageview_records(self.pageview_columns(rows))

    def decode_events(self, blobs: list, pv: dict[str, np.ndarray], kinds: tuple[int, ...] | None = None,
                      exact_kinds: bool = True) -> tuple[EventColumns, np.ndarray]:
        """Decode many pageviews' event BLOBs at once (one ``np.frombuffer``), dropping damaged events.

        Parameters
        ----------
        blobs : the pageviews' ``events`` values, in the order of ``pv``'s rows.
        pv : checked pageview columns (``pageview_columns``): pageview_id, snapshot_id, start_ms, end_ms.
        kinds : only events of these kinds. With ``exact_kinds=False`` other kinds may be kept
            when filtering would drop little (callers then select kinds themselves).

        Returns
        -------
        (events, source) : EventColumns and, per event, the row of its pageview in ``pv`` (int64).
        """
        ids = pv["pageview_id"]
        counts: list = []
        ordered: list = []
        try:
            events, source = unpack_many(blobs, kinds, exact_kinds, counts)
        except TypeError:   # b"".join of a text or number: not a BLOB
            i = next(i for i, b in enumerate(blobs) if type(b) is not bytes)
            raise self._damage(f"pageview {int(ids[i])}: events is {type(blobs[i]).__name__}, not a BLOB") from None
        except ValueError:
            sizes = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
            i = int(np.flatnonzero(sizes % BYTES_PER_EVENT)[0])
            raise self._damage(f"pageview {int(ids[i])}: its event block of {int(sizes[i]):,} bytes is not "
                               f"a whole number of {BYTES_PER_EVENT}-byte events") from None
        if len(events) == 0:
            return events, source
        snap_ids, snap_limits = self._limit_arrays()
        per_snap = snap_limits[np.searchsorted(snap_ids, pv["snapshot_id"])]
        bad = event_damage(events.t, events.kind, events.x, events.y, events.target, events.value, source,
                           {"n_elements": per_snap[:, 0], "width": per_snap[:, 1], "height": per_snap[:, 2],
                            "start": pv["start_ms"], "end": pv["end_ms"]},
                           self._string_id_array(), counts[0], ordered)
        if bad is not None:
            per_pv = np.bincount(source[bad], minlength=ids.size)
            for i in np.flatnonzero(per_pv).tolist():
                key = int(ids[i])
                self._damaged[key] = max(self._damaged.get(key, 0), int(per_pv[i]))
            good = ~bad
            events, source = events.take(good), source[good]
        if not ordered[0] and (bad is None or out_of_order(events.t, source)):   # out of time order: sort
            order = np.lexsort((events.t, source))
            events, source = events.take(order), source[order]
        return events, source

    # -- summary -------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        # One pass over pageviews (its rows carry the event BLOBs: each scan reads them all).
        row = self._query(
            "SELECT (SELECT count(*) FROM sessions), pv.n, pv.events, (SELECT count(*) FROM pages), "
            "(SELECT count(*) FROM snapshots), pv.bad FROM (SELECT count(*) AS n, "
            "coalesce(sum(event_count), 0) AS events, coalesce(sum(typeof(event_count) != 'integer' "
            "OR event_count < 0 OR event_count > 2147483647), 0) AS bad FROM pageviews) AS pv"
        )[0]
        if row[5]:
            raise CaptureError(self.path, f"is damaged: {row[5]:,} pageview(s) with an impossible event_count "
                                          "(negative, too large or not a whole number)")
        try:
            return dict(zip(("sessions", "pageviews", "events", "pages", "snapshots"),
                            (int_column([v], "count", 0)[0].item() for v in row[:5])))
        except Damage as exc:
            raise self._damage(exc) from None

    def date_range(self) -> tuple[int | None, int | None]:
        """First start and last end of the sessions whose start is a calendar date (None, None
        when none is: see ``records.date_known``). Every session's times are checked."""
        from hindsight.store.records import KNOWN_DATE_MAX_MS, KNOWN_DATE_MIN_MS

        if "session_columns" in self.tables:   # the columnar copy: values already range-checked
            try:
                cols = self._listed_columns("1", [], copy=False)
            except Damage as exc:
                raise self._damage(exc) from None
            start, end = cols["start_ms"], cols["start_ms"] + cols["duration_ms"]
            known = (start >= KNOWN_DATE_MIN_MS) & (start <= KNOWN_DATE_MAX_MS)
            if not known.any():
                return None, None
            return int(start[known].min()), int(end[known].max())
        row = self._query("SELECT min(start_ms), max(start_ms), min(duration_ms), max(start_ms + duration_ms), "
                          "sum(typeof(start_ms) != 'integer' OR typeof(duration_ms) != 'integer') FROM sessions")[0]
        if row[0] is None:
            return None, None
        if row[4]:
            raise CaptureError(self.path, f"is damaged: {row[4]:,} session(s) whose start_ms or duration_ms "
                                          "is not a whole number")
        try:
            int_column([row[0], row[1]], "sessions.start_ms", MIN_EPOCH_MS, MAX_EPOCH_MS)
            int_column([row[2]], "sessions.duration_ms", 0, MAX_T_MS)
        except Damage as exc:
            raise self._damage(exc) from None
        known = self._query("SELECT min(start_ms), max(start_ms + duration_ms) FROM sessions "
                            "WHERE start_ms BETWEEN ? AND ?", (KNOWN_DATE_MIN_MS, KNOWN_DATE_MAX_MS))[0]
        if known[0] is None:
            return None, None
        return int(known[0]), int(known[1])

    def unknown_date_count(self) -> int:
        """Sessions whose start is not a calendar date (imported from a rebased timeline)."""
        from hindsight.store.records import KNOWN_DATE_MAX_MS, KNOWN_DATE_MIN_MS

        return int(self._query("SELECT count(*) FROM sessions WHERE start_ms NOT BETWEEN ? AND ?",
                               (KNOWN_DATE_MIN_MS, KNOWN_DATE_MAX_MS))[0][0])

    def device_counts(self) -> dict[str, int]:
        rows = self._query("SELECT device, count(*) FROM sessions GROUP BY device ORDER BY count(*) DESC")
        try:
            return {text_value(d, "sessions.device"): int(n) for d, n in rows}
        except Damage as exc:
            raise self._damage(exc) from None

    def planted(self, kind: str | None = None) -> list[tuple]:
        """Ground truth of a demo capture: (session_id, kind, t_ms, end_ms, selector, detail)."""
        if "planted" not in self.tables:
            return []
        sql = "SELECT session_id, kind, t_ms, end_ms, selector, detail FROM planted"
        if kind is not None:
            return self._query(sql + " WHERE kind = ? ORDER BY session_id, t_ms", (kind,))
        return self._query(sql + " ORDER BY session_id, t_ms")

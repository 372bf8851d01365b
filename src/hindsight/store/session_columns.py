"""A columnar copy of the session list, so opening a capture lists 100k sessions without a
row-by-row SQL read.

The writer stores, when a capture is finished (demo, import, upgrade), the columns the session
list shows (``SESSION_TABLE_COLUMNS``) in the table ``session_columns``: one row per column
whose BLOB is a little-endian numpy array (numbers in the narrowest integer type that holds
them; text as category codes into a string table), and one stamp row (``name = ''``, JSON)
saying what the copy covers: its row count, its largest session id, and each column's dtype,
byte length, CRC-32 and string table.

Reading (``load``) trusts the copy only when it is intact and still describes the table:

- every column is present, has the stamped length and CRC-32, decodes to in-range values and
  session ids that increase strictly up to the stamped largest id;
- the table holds exactly the stamped rows up to that id plus rows after it (sessions a
  collector appended since: those few are read from SQL and added);
- any UPDATE or DELETE on ``sessions`` (an erase, a repair) deletes the copy at once through a
  trigger stored with it, so a changed table is never listed from an old copy (and an erased
  session's metadata does not linger in the copy).

Anything else - no copy, a bad stamp, a damaged BLOB - means the copy is ignored and the list
is read from SQL, as before; ``hindsight check`` reports a copy that is damaged or disagrees
with the table (``verify``). Viewing never writes the copy: only writers do.
"""

from __future__ import annotations

import json
import sqlite3
import zlib

import numpy as np

from hindsight.store.validate import MAX_EPOCH_MS, MAX_T_MS, MAX_VIEWPORT, MIN_EPOCH_MS

#: Columns of the session table the GUI lists and filters on, in display order.
SESSION_TABLE_COLUMNS = (
    "session_id", "start_ms", "duration_ms", "device", "browser", "os", "country", "source",
    "converted", "pageview_count", "event_count", "entry_page_id", "exit_page_id",
    "viewport_w", "viewport_h",
)
_NUMERIC = {"session_id", "start_ms", "duration_ms", "converted", "pageview_count",
            "event_count", "entry_page_id", "exit_page_id", "viewport_w", "viewport_h"}
#: Sane range of each numeric session column: (low, high, NULL allowed).
SESSION_RANGES = {
    "session_id": (0, 2**63 - 1, False), "start_ms": (MIN_EPOCH_MS, MAX_EPOCH_MS, False),
    "duration_ms": (0, MAX_T_MS, False), "converted": (0, 1, False),
    "pageview_count": (0, 2**31 - 1, False), "event_count": (0, 2**40, False),
    "entry_page_id": (0, 2**63 - 1, True), "exit_page_id": (0, 2**63 - 1, True),
    "viewport_w": (0, MAX_VIEWPORT, False), "viewport_h": (0, MAX_VIEWPORT, False),
}

#: Stamp layout version; a copy with another version is ignored.
COPY_VERSION = 1
#: Sessions a collector may have appended after the copy before the writer rewrites it on close.
REFRESH_TAIL = 2_000

#: The table and its triggers, as single statements (``executescript`` would commit the
#: writer's open transaction).
SCHEMA_STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS session_columns (\n"
    "    name TEXT PRIMARY KEY,   -- a SESSION_TABLE_COLUMNS name, or '' for the JSON stamp\n"
    "    data BLOB NOT NULL\n)",
    "CREATE TRIGGER IF NOT EXISTS session_columns_on_update AFTER UPDATE ON sessions "
    "BEGIN DELETE FROM session_columns; END",
    "CREATE TRIGGER IF NOT EXISTS session_columns_on_delete AFTER DELETE ON sessions "
    "BEGIN DELETE FROM session_columns; END",
)


def _columns():
    return SESSION_TABLE_COLUMNS, _NUMERIC, SESSION_RANGES


def _narrow(col: np.ndarray) -> np.ndarray:
    if not col.size:
        return col.astype("<i8")
    lo, hi = int(col.min()), int(col.max())
    for dt in ("<i1", "<i2", "<i4"):
        info = np.iinfo(np.dtype(dt))
        if info.min <= lo and hi <= info.max:
            return col.astype(dt)
    return col.astype("<i8")


def encode(table: dict[str, np.ndarray]) -> list[tuple[str, bytes]]:
    """(name, BLOB) rows of ``table`` (``session_table`` columns in session-id order), stamp first."""
    names, numeric, _ = _columns()
    ids = table["session_id"]
    stamp: dict = {"version": COPY_VERSION, "rows": int(ids.size),
                   "max_session_id": int(ids[-1]) if ids.size else 0, "columns": {}}
    rows: list[tuple[str, bytes]] = []
    for name in names:
        col = table[name]
        info: dict = {}
        if name in numeric:
            arr = _narrow(np.asarray(col, dtype=np.int64))
        else:
            values = col.tolist() if isinstance(col, np.ndarray) else list(col)
            categories = sorted(set(values))   # a handful of distinct strings: no object sort
            lookup = {c: i for i, c in enumerate(categories)}
            info["categories"] = [str(c) for c in categories]
            arr = _narrow(np.fromiter(map(lookup.__getitem__, values), dtype=np.int64, count=len(values)))
        data = arr.tobytes()
        info.update(dtype=arr.dtype.str, bytes=len(data), crc=zlib.crc32(data))
        stamp["columns"][name] = info
        rows.append((name, data))
    return [("", json.dumps(stamp).encode())] + rows


def _sql_table(con: sqlite3.Connection) -> dict[str, np.ndarray] | None:
    """The session list straight from SQL in session-id order, or None if a value is damaged
    (then no copy is written and readers keep reading SQL, which names the damage)."""
    from hindsight.store.validate import Damage, int_column
    names, numeric, ranges = _columns()
    rows = con.execute(f"SELECT {', '.join(names)} FROM sessions ORDER BY session_id").fetchall()
    cols = list(zip(*rows)) if rows else [()] * len(names)
    out: dict[str, np.ndarray] = {}
    try:
        for name, values in zip(names, cols):
            if name in numeric:
                out[name] = int_column(values, f"sessions.{name}", *ranges[name])
            else:
                if set(map(type, values)) - {str}:
                    return None
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                out[name] = arr
    except Damage:
        return None
    return out


def write(con: sqlite3.Connection) -> bool:
    """(Re)write the copy of the session list in ``con``'s open transaction. Returns whether a
    copy was written (not when a session row is damaged: readers then read SQL)."""
    for statement in SCHEMA_STATEMENTS:
        con.execute(statement)
    con.execute("DELETE FROM session_columns")
    table = _sql_table(con)
    if table is None:
        return False
    con.executemany("INSERT INTO session_columns(name, data) VALUES (?, ?)", encode(table))
    return True


class RowCopy:
    """The session list gathered from the rows a writer inserts into a new capture, so ``close``
    writes the copy without reading every session back from SQL (``write`` does that).

    Each ``add`` takes a batch of session rows (tuples in ``fields`` order, exactly as bound to
    the INSERT) and keeps the listed columns. The copy is built from them only when every value
    is what SQL would hand back unchanged (numbers plain ``int``, NULL ``None`` where allowed,
    text ``str``) and the session ids increase; anything else (a float, a bool, ids given out of
    order) makes ``write`` read SQL instead, so both ways give the same copy.
    """

    def __init__(self, fields: tuple[str, ...]):
        names, _, _ = _columns()
        self._index = [fields.index(name) for name in names]
        self._parts: list[list] = []
        self.exact = True   # False: read SQL at the end

    def add(self, rows: list[tuple]) -> None:
        if rows:
            self.add_columns(list(zip(*rows)))

    def add_columns(self, cols: list[tuple]) -> None:
        """``add`` for rows already transposed (one tuple per field)."""
        if not self.exact or not cols or not cols[0]:
            return
        names, numeric, ranges = _columns()
        part = []
        for name, i in zip(names, self._index):
            values = cols[i]
            if name in numeric:
                # plain ints (None where allowed) come back from SQL as the same ints; anything
                # else (a float, a bool, text) is left to the SQL read
                kinds = set(map(type, values))
                if type(None) in kinds and ranges[name][2]:
                    kinds.discard(type(None))
                    values = [-1 if v is None else v for v in values]
                if kinds - {int}:
                    self.exact = False
                    return
                try:
                    part.append(np.fromiter(values, dtype=np.int64, count=len(values)))
                except OverflowError:
                    self.exact = False
                    return
            else:
                if set(map(type, values)) - {str}:
                    self.exact = False
                    return
                part.append(values)
        self._parts.append(part)

    def table(self) -> dict[str, np.ndarray] | None:
        """The gathered columns, or None when they cannot stand for the table (read SQL)."""
        if not self.exact:
            return None
        names, numeric, ranges = _columns()
        out: dict[str, np.ndarray] = {}
        for j, name in enumerate(names):
            parts = [p[j] for p in self._parts]
            if name in numeric:
                arr = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
                lo, hi, nullable = ranges[name]
                if arr.size:
                    bad = (arr < lo) | (arr > hi)
                    if nullable:
                        bad &= arr != -1
                    if bad.any():
                        return None   # SQL's read names the damage
                out[name] = arr
            else:
                values = [v for p in parts for v in p]
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                out[name] = arr
        ids = out["session_id"]
        if ids.size > 1 and np.any(ids[1:] <= ids[:-1]):
            return None
        return out

    def write(self, con: sqlite3.Connection) -> bool:
        """Like ``write``, from the gathered rows when they can stand for the table."""
        table = self.table()
        if table is None:
            return write(con)
        for statement in SCHEMA_STATEMENTS:
            con.execute(statement)
        con.execute("DELETE FROM session_columns")
        con.executemany("INSERT INTO session_columns(name, data) VALUES (?, ?)", encode(table))
        return True


def refresh_if_stale(con: sqlite3.Connection) -> bool:
    """After appending sessions: rewrite the copy when it is missing or more than
    ``REFRESH_TAIL`` sessions behind (a few new sessions are read from SQL cheaply)."""
    has = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='session_columns'").fetchone()
    if has:
        row = con.execute("SELECT data FROM session_columns WHERE name = ''").fetchone()
        try:
            stamp = json.loads(row[0]) if row else None
            behind = con.execute("SELECT count(*) FROM sessions WHERE session_id > ?",
                                 (int(stamp["max_session_id"]),)).fetchone()[0] if stamp else None
        except (ValueError, TypeError, KeyError):
            behind = None
        if behind is not None and behind <= REFRESH_TAIL:
            return False
    return write(con)


class CopyProblem(Exception):
    """Why the copy cannot be trusted (``verify`` reports it; readers just read SQL)."""


def decode(blobs: dict[str, bytes]) -> tuple[dict[str, np.ndarray], dict]:
    """The columns of a stored copy and its stamp, or ``CopyProblem``."""
    names, numeric, ranges = _columns()
    try:
        stamp = json.loads(blobs[""])
        if not isinstance(stamp, dict) or stamp.get("version") != COPY_VERSION:
            raise CopyProblem(f"stamp version {stamp.get('version') if isinstance(stamp, dict) else '?'!r} unknown")
        n, max_id, meta = int(stamp["rows"]), int(stamp["max_session_id"]), stamp["columns"]
    except CopyProblem:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CopyProblem(f"unreadable stamp ({type(exc).__name__})") from None
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name not in blobs or not isinstance(meta, dict) or name not in meta:
            raise CopyProblem(f"column {name} missing")
        data, info = blobs[name], meta[name]
        try:
            dt = np.dtype(info["dtype"])
            if dt.kind != "i" or dt.str not in ("|i1", "<i2", "<i4", "<i8"):
                raise CopyProblem(f"column {name}: dtype {info['dtype']!r} is not an integer type")
            if not isinstance(data, bytes) or len(data) != info["bytes"] or len(data) != n * dt.itemsize:
                raise CopyProblem(f"column {name}: {len(data) if isinstance(data, bytes) else '?'} bytes, "
                                  f"{n:,} rows need {n * dt.itemsize:,}")
            if zlib.crc32(data) != info["crc"]:
                raise CopyProblem(f"column {name}: checksum does not match")
            arr = np.frombuffer(data, dtype=dt).astype(np.int64)
            if name in numeric:
                lo, hi, nullable = ranges[name]
                if arr.size and (int(arr.min()) < (-1 if nullable else lo) or int(arr.max()) > hi
                                 or (nullable and lo > -1 and np.any((arr < lo) & (arr != -1)))):
                    raise CopyProblem(f"column {name}: value out of range")
                out[name] = arr
            else:
                cats = info["categories"]
                if not isinstance(cats, list) or any(not isinstance(c, str) for c in cats):
                    raise CopyProblem(f"column {name}: string table is not a list of text")
                if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= len(cats)):
                    raise CopyProblem(f"column {name}: category code out of range")
                table = np.empty(len(cats), dtype=object)
                table[:] = cats
                out[name] = table[arr] if arr.size else np.empty(0, dtype=object)
        except CopyProblem:
            raise
        except (KeyError, ValueError, TypeError) as exc:
            raise CopyProblem(f"column {name}: unreadable ({type(exc).__name__})") from None
    ids = out["session_id"]
    if n and (np.any(ids[1:] <= ids[:-1]) or int(ids[-1]) != max_id):
        raise CopyProblem("session ids not increasing up to the stamped largest id")
    return out, stamp


def load(query, decoded: tuple[dict[str, np.ndarray], dict] | None = None
         ) -> tuple[dict[str, np.ndarray], int, tuple] | None:
    """The stored copy, if intact and still matching the table: (columns, largest session id
    covered, (columns, stamp) to pass back as ``decoded``); the caller reads the sessions after
    that id from SQL. None means "read SQL".

    query : ``Capture._query`` (sql, params) -> rows.
    decoded : what an earlier call returned last: the stamp is checked against the table again,
        the BLOBs are not read again (the copy only ever changes by being deleted, which the
        check notices, or rewritten by a writer, which changes its row count).
    """
    if decoded is None:
        try:
            rows = query("SELECT name, data FROM session_columns")
            decoded = decode({name: data for name, data in rows})
        except CopyProblem:
            return None
        except Exception:   # no such table, unreadable page: the copy is only a cache
            return None
    copy, stamp = decoded
    max_id = int(stamp["max_session_id"])
    try:
        held = query("SELECT data FROM session_columns WHERE name = ''")
        if not held or json.loads(held[0][0]) != stamp:
            return None
    except Exception:
        return None
    covered = query("SELECT count(*) FROM sessions WHERE session_id <= ?", (max_id,))[0][0]
    if covered != stamp["rows"]:
        return None
    return copy, max_id, decoded


def verify(cap) -> list[str]:
    """Problems of the stored copy (for ``hindsight check``): damaged, or not what the table holds."""
    if "session_columns" not in cap.tables:
        return []
    try:
        rows = cap._query("SELECT name, data FROM session_columns")
    except Exception as exc:
        return [f"{cap.path}: session_columns: cannot be read ({exc}); the session list reads the table instead"]
    if not rows:
        return []
    try:
        copy, stamp = decode({name: data for name, data in rows})
    except CopyProblem as exc:
        return [f"{cap.path}: session_columns (copy of the session list) is damaged: {exc}; "
                f"it is ignored, the list is read from the sessions table"]
    from hindsight.store.filters import SessionFilter
    max_id = int(stamp["max_session_id"])
    try:
        table = cap._session_columns(*SessionFilter(extra=[("{s}.session_id <= ?", [max_id])]).to_sql("s"))
    except Exception:
        return []   # the table itself is damaged: the other checks name it
    order = np.argsort(table["session_id"], kind="stable")
    for name in SESSION_TABLE_COLUMNS:
        a, b = copy[name], table[name][order]
        if a.shape != b.shape or not np.array_equal(a, b):
            return [f"{cap.path}: session_columns (copy of the session list) does not match the sessions "
                    f"table (column {name}); it is ignored, the list is read from the sessions table"]
    return []

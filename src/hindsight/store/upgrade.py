"""``hindsight upgrade OLD NEW``: a format-1 capture converted to format 2 (a new file; OLD untouched).

Every table of OLD is copied generically: the columns OLD and NEW both have, tables and
columns NEW lacks are created from OLD's definitions (on-demand tables such as bookmarks,
recordings, planted, or columns added by later versions), then the events of every
pageview are written again as columnar chunks (``store/chunks.py``). NEW is built under a
temporary name and renamed into place when complete.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from hindsight.store import session_columns
from hindsight.store.writer import prepare_partial
from hindsight.store.chunks import INSERT_SQL, ChunkBuffer
from hindsight.store.columns import BYTES_PER_EVENT
from hindsight.store.errors import CaptureError
from hindsight.store.reader import open_capture
from hindsight.store import schema
from hindsight.store.schema import CHUNKS_SQL, RECORDINGS_SQL, SCHEMA_SQL, SCHEMA_VERSION


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade_capture(old: str | os.PathLike[str], new: str | os.PathLike[str], overwrite: bool = False) -> dict:
    """Write ``new``: ``old`` (format 1) in format 2. Returns counts {"tables", "events", "chunks"}."""
    old, new = Path(old), Path(new)
    with open_capture(old) as cap:
        version = cap.format_version
        if version >= SCHEMA_VERSION:
            raise CaptureError(old, f"is already capture format {version}: nothing to upgrade")
    if new.exists() and old.resolve() == new.resolve():
        raise CaptureError(new, "is the capture being upgraded: choose a new name (OLD is kept unchanged)")
    partial = prepare_partial(new, overwrite)
    try:
        con = sqlite3.connect(partial.resolve().as_uri(), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise CaptureError(new, f"cannot be written ({exc})") from None
    try:
        counts = _convert(con, old)
        con.execute("BEGIN")
        session_columns.write(con)  # the session list's columnar copy
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        os.replace(partial, new)
        return counts
    except BaseException as exc:
        con.close()
        if partial.exists():
            partial.unlink()
        if isinstance(exc, sqlite3.DatabaseError):
            raise CaptureError(old, f"is corrupt: {exc}") from None
        if isinstance(exc, OSError):
            raise CaptureError(new, f"cannot be written ({exc.strerror or exc})") from None
        raise


def _convert(con: sqlite3.Connection, old: Path) -> dict:
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(f"PRAGMA page_size={schema.PAGE_SIZE}")
    con.executescript(SCHEMA_SQL)
    con.executescript(CHUNKS_SQL)
    con.executescript(RECORDINGS_SQL)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    con.execute("ATTACH DATABASE ? AS old", (old.resolve().as_uri() + "?mode=ro",))
    con.execute("BEGIN")
    master = con.execute("SELECT type, name, tbl_name, sql FROM old.sqlite_master WHERE sql IS NOT NULL").fetchall()
    mine = {r[0] for r in con.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
    copied = 0
    for typ, name, _, sql in master:
        if typ != "table" or name.startswith("sqlite_") or name == "event_chunks":
            continue
        if name not in mine:
            con.execute(sql)   # an on-demand table (bookmarks, planted, ...): OLD's definition
        have = {r[1] for r in con.execute(f"PRAGMA main.table_info({_q(name)})")}
        cols = []
        for cid, col, ctype, notnull, default, pk in con.execute(f"PRAGMA old.table_info({_q(name)})").fetchall():
            if col not in have:   # a column this version's schema lacks: keep it
                decl = f"{_q(col)} {ctype}"
                if default is not None:
                    decl += f" DEFAULT {default}"
                    if notnull:
                        decl += " NOT NULL"
                con.execute(f"ALTER TABLE main.{_q(name)} ADD COLUMN {decl}")
            cols.append(_q(col))
        col_list = ", ".join(cols)
        if name == "meta":
            con.execute(f"INSERT OR REPLACE INTO main.meta({col_list}) SELECT {col_list} FROM old.meta")
        else:
            con.execute(f"INSERT INTO main.{_q(name)}({col_list}) SELECT {col_list} FROM old.{_q(name)}")
        copied += 1
    for typ, name, tbl, sql in master:   # OLD's indexes of tables created here from its definitions
        if typ == "index" and tbl not in mine and not name.startswith("sqlite_"):
            con.execute(sql)
    con.execute("INSERT OR REPLACE INTO main.meta(key, value) VALUES ('format', 'hindsight-capture')")
    con.execute("INSERT OR REPLACE INTO main.meta(key, value) VALUES ('format_version', ?)", (str(SCHEMA_VERSION),))
    events = chunks = 0
    buf = ChunkBuffer()
    cur = con.execute("SELECT snapshot_id, session_id, pageview_id, events FROM old.pageviews ORDER BY pageview_id")
    pending = []
    for snap, sess, pv, blob in cur:
        if isinstance(blob, bytes) and len(blob) % BYTES_PER_EVENT == 0 and all(
                isinstance(v, int) for v in (snap, sess, pv)):
            buf.add(snap, sess, pv, blob)
            events += len(blob) // BYTES_PER_EVENT
            pending.extend(buf.rows(final=False))
        if len(pending) > 16:
            chunks += len(pending)
            con.executemany(INSERT_SQL, pending)
            pending = []
    pending.extend(buf.rows(final=True))
    chunks += len(pending)
    con.executemany(INSERT_SQL, pending)
    con.execute("COMMIT")
    con.execute("DETACH DATABASE old")
    return {"tables": copied, "events": events, "chunks": chunks}

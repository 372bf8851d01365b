"""Erasing sessions for good: the rows, everything derived from them, and their bytes on disk.

``plan_erasure`` says what a selection (session ids, visitor ids, or sessions started before a
time) would remove; ``erase`` removes it in one transaction and then ``VACUUM``s, so the
freed pages (which still hold the old bytes) are gone from the file, its ``-wal`` and
``-journal`` too. Removed with the sessions:

* their ``pageviews`` (and so their packed events), their rows of the columnar
  ``event_chunks`` (format 2: chunks are rewritten without them), ``planted`` rows, and rows of any other
  table with a ``session_id`` column (tables added later: never left holding erased ids);
* ``pages`` (with their ``snapshots`` and ``elements``) and ``strings`` (error messages,
  custom event names) that only erased sessions referred to: a URL or message unique to one
  visitor goes with that visitor;
* their bookmarks, in the capture and in the bookmarks sidecar / user-data copies (rows and
  tombstones), and patterns left with no bookmark at all; each copy is vacuumed too;
* the signal cache ``<capture>.hindsight-cache`` (it lists signals per session).

Snapshots still used by other sessions are kept: they are the page's layout, but an imported
snapshot was rendered from the DOM of the first session that showed the page (see README).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hindsight.store.columns import unpack_many
from hindsight.store.errors import CaptureError
from hindsight.store.kinds import EventKind

#: Event kinds whose ``value`` is a ``strings.string_id``.
STRING_KINDS = (int(EventKind.ERROR), int(EventKind.CUSTOM), int(EventKind.VALIDATION))
#: Tables this module knows how to erase from; any other table with a session_id column is
#: cleared of the erased ids too.
_KNOWN = {"meta", "pages", "snapshots", "elements", "strings", "sessions", "pageviews", "planted",
          "bookmarks", "patterns", "bookmarks_info", "event_chunks"}
BUSY_TIMEOUT_S = 30
_CHUNK = 500  # ids per IN (...) list


@dataclass
class ErasurePlan:
    """What erasing a selection removes (counts are rows)."""

    path: Path
    session_ids: list[int]
    pageviews: int = 0
    events: int = 0
    pages: list[str] = field(default_factory=list)     # URLs no remaining session visited
    snapshots: int = 0
    elements: int = 0
    strings: int = 0
    planted: int = 0
    other: dict[str, int] = field(default_factory=dict)  # table -> rows, other tables with session_id
    bookmarks: dict[str, int] = field(default_factory=dict)  # file -> bookmark rows (incl. tombstones)
    caches: list[str] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return len(self.session_ids)

    def lines(self) -> list[str]:
        """The plan for a person to confirm, one item a line."""
        out = [f"{self.sessions:,} session{'s' * (self.sessions != 1)}"
               + (f" ({_id_list(self.session_ids)})" if self.session_ids else ""),
               f"{self.pageviews:,} pageviews with {self.events:,} events"]
        n_bm = sum(self.bookmarks.values())
        if n_bm:
            out.append(f"{n_bm:,} bookmark{'s' * (n_bm != 1)} of these sessions ("
                       + ", ".join(f"{n} in {Path(p).name}" for p, n in self.bookmarks.items() if n) + ")")
        if self.pages:
            out.append(f"{len(self.pages)} page{'s' * (len(self.pages) != 1)} only these sessions visited, "
                       f"with {self.snapshots} snapshot(s) and {self.elements:,} element rows: "
                       + ", ".join(self.pages[:5]) + (" …" if len(self.pages) > 5 else ""))
        if self.strings:
            out.append(f"{self.strings} message / event name string(s) only these sessions used")
        if self.planted:
            out.append(f"{self.planted} planted ground-truth row(s)")
        for table, n in self.other.items():
            out.append(f"{n} row(s) of table {table}")
        for cache in self.caches:
            out.append(f"the signal cache {Path(cache).name}")
        return out

    def as_dict(self) -> dict:
        return {"file": str(self.path), "sessions": self.sessions, "session_ids": self.session_ids,
                "pageviews": self.pageviews, "events": self.events, "pages": self.pages,
                "snapshots": self.snapshots, "elements": self.elements, "strings": self.strings,
                "planted": self.planted, "other": self.other, "bookmarks": self.bookmarks,
                "caches": self.caches}


def _id_list(ids: list[int], n: int = 8) -> str:
    head = ", ".join(str(i) for i in ids[:n])
    return head + (f", … {len(ids) - n:,} more" if len(ids) > n else "")


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        yield chunk, ", ".join("?" * len(chunk))


def _tables(con: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%'")]
    return {t: [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')] for t in names}


def select_sessions(path: str | os.PathLike[str], session_ids=(), visitors=(),
                    before_ms: int | None = None) -> list[int]:
    """Ids of the sessions a selection names, sorted. Unknown ids or visitors, and a selection
    that matches nothing, are ``CaptureError``s (a typo must not look like success)."""
    from hindsight.store.reader import open_capture

    path = Path(path)
    with open_capture(path) as cap:
        con = cap._con
        found: set[int] = set()
        wanted = sorted({int(s) for s in session_ids})
        for chunk, marks in _chunks(wanted):
            found.update(r[0] for r in con.execute(
                f"SELECT session_id FROM sessions WHERE session_id IN ({marks})", chunk))
        missing = [s for s in wanted if s not in found]
        if missing:
            raise CaptureError(path, f"has no session {_id_list(missing)}")
        for v in dict.fromkeys(visitors):
            rows = [r[0] for r in con.execute("SELECT session_id FROM sessions WHERE visitor_id = ?", (v,))]
            if not rows:
                raise CaptureError(path, f"has no session of visitor {v!r}")
            found.update(rows)
        if before_ms is not None:
            from datetime import datetime, timezone

            rows = [r[0] for r in con.execute("SELECT session_id FROM sessions WHERE start_ms < ?", (int(before_ms),))]
            if not rows:
                when = datetime.fromtimestamp(before_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                raise CaptureError(path, f"has no session that started before {when} UTC")
            found.update(rows)
    return sorted(found)


def _bookmark_files(path: Path, created_ms: str | None) -> list[Path]:
    from hindsight.bookmarks.store import sidecar_path, user_store_path

    return [p for p in (sidecar_path(path), user_store_path(path, created_ms)) if p.exists()]


def _cache_files(path: Path) -> list[Path]:
    from hindsight.analytics.session_index import SIDECAR_SUFFIX

    cache = path.with_name(path.name + SIDECAR_SUFFIX)
    return [cache] if cache.exists() else []


def plan_erasure(path: str | os.PathLike[str], session_ids) -> ErasurePlan:
    """Count what erasing ``session_ids`` (existing ids, see :func:`select_sessions`) removes."""
    from hindsight.store.reader import open_capture

    path = Path(path)
    ids = sorted({int(s) for s in session_ids})
    plan = ErasurePlan(path, ids)
    with open_capture(path) as cap:
        con = cap._con
        created = cap.meta.get("created_ms")
        _count_capture(con, ids, plan)
    for f in _bookmark_files(path, created):
        n = _count_bookmarks(f, ids)
        if n:
            plan.bookmarks[str(f)] = n
    plan.caches = [str(p) for p in _cache_files(path)]
    return plan


def _count_capture(con: sqlite3.Connection, ids: list[int], plan: ErasurePlan) -> None:
    tables = _tables(con)
    temp = _load_ids(con, ids)
    row = con.execute(f"SELECT count(*), coalesce(sum(event_count), 0) FROM pageviews "
                      f"WHERE session_id IN (SELECT id FROM {temp})").fetchone()
    plan.pageviews, plan.events = int(row[0]), int(row[1])
    pages = _orphaned_pages(con, temp)
    plan.pages = [r[0] for r in con.execute(
        f"SELECT url FROM pages WHERE page_id IN ({', '.join(map(str, pages)) or 'NULL'}) ORDER BY page_id")]
    snaps = _orphaned_snapshots(con, temp)
    plan.snapshots = len(snaps)
    if snaps:
        plan.elements = int(con.execute(
            f"SELECT count(*) FROM elements WHERE snapshot_id IN ({', '.join(map(str, snaps))})").fetchone()[0])
    plan.strings = len(_orphaned_strings(con, temp))

    def rows_of(table: str) -> int:
        return int(con.execute(f'SELECT count(*) FROM "{table}" WHERE session_id IN (SELECT id FROM {temp})')
                   .fetchone()[0])

    if "planted" in tables:
        plan.planted = rows_of("planted")
    if "bookmarks" in tables:
        n = rows_of("bookmarks")
        if n:
            plan.bookmarks[str(plan.path)] = n
    for table, cols in tables.items():
        if table not in _KNOWN and "session_id" in cols:
            n = rows_of(table)
            if n:
                plan.other[table] = n
    con.execute(f"DROP TABLE {temp}")


def _load_ids(con: sqlite3.Connection, ids: list[int]) -> str:
    """The ids in a TEMP table (works on a read-only connection: temp tables live apart)."""
    name = "temp.erase_ids"
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
    con.executemany(f"INSERT INTO {name} (id) VALUES (?)", [(i,) for i in ids])
    return name


def _orphaned_pages(con, temp: str) -> list[int]:
    """Pages the erased sessions show and no other session does."""
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT page_id FROM pageviews WHERE session_id IN (SELECT id FROM {temp}) "
        f"AND page_id NOT IN (SELECT page_id FROM pageviews WHERE session_id NOT IN (SELECT id FROM {temp})) "
        f"AND page_id NOT IN (SELECT entry_page_id FROM sessions WHERE entry_page_id IS NOT NULL "
        f"  AND session_id NOT IN (SELECT id FROM {temp})) "
        f"AND page_id NOT IN (SELECT exit_page_id FROM sessions WHERE exit_page_id IS NOT NULL "
        f"  AND session_id NOT IN (SELECT id FROM {temp}))")]


def _orphaned_snapshots(con, temp: str) -> list[int]:
    """Snapshots of the orphaned pages plus snapshots only erased pageviews used."""
    pages = _orphaned_pages(con, temp)
    rows = {r[0] for r in con.execute(
        f"SELECT DISTINCT snapshot_id FROM pageviews WHERE session_id IN (SELECT id FROM {temp}) "
        f"AND snapshot_id NOT IN (SELECT snapshot_id FROM pageviews WHERE session_id NOT IN (SELECT id FROM {temp}))")}
    if pages:
        rows.update(r[0] for r in con.execute(
            f"SELECT snapshot_id FROM snapshots WHERE page_id IN ({', '.join(map(str, pages))})"))
    return sorted(rows)


def _string_ids(blobs) -> set[int]:
    if not blobs:
        return set()
    try:
        events, _ = unpack_many(blobs, STRING_KINDS)
    except ValueError:
        return set()  # damaged blocks: keep every string they might use
    return set(events.value.tolist())


def _orphaned_strings(con, temp: str) -> set[int]:
    """Strings the erased sessions' events use and no remaining event does."""
    used: set[int] = set()
    cur = con.execute(f"SELECT events FROM pageviews WHERE session_id IN (SELECT id FROM {temp})")
    while rows := cur.fetchmany(2000):
        used |= _string_ids([r[0] for r in rows])
    if not used:
        return set()
    cur = con.execute(f"SELECT events FROM pageviews WHERE session_id NOT IN (SELECT id FROM {temp})")
    while rows := cur.fetchmany(2000):
        used -= _string_ids([r[0] for r in rows])
        if not used:
            break
    return used


def _count_bookmarks(path: Path, ids: list[int]) -> int:
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'bookmarks'").fetchone():
            return 0
        return sum(int(con.execute(f"SELECT count(*) FROM bookmarks WHERE session_id IN ({marks})", chunk)
                       .fetchone()[0])
                   for chunk, marks in _chunks(ids))
    finally:
        con.close()


# -- erasing -----------------------------------------------------------------------------------
def erase(path: str | os.PathLike[str], session_ids) -> ErasurePlan:
    """Erase the sessions ``session_ids`` and all that derives from them, then VACUUM.

    One transaction per file (all or nothing); the capture must be writable (mode bits count
    even for root) and not be written by another program meanwhile (readers may wait up to
    ``BUSY_TIMEOUT_S``). Returns what was removed.
    """
    from hindsight.store.access import read_only_reason
    from hindsight.store.reader import journal_present, open_capture, recover_capture

    path = Path(path)
    reason = read_only_reason(path) if path.is_file() else None
    if reason:
        raise CaptureError(path, f"{reason}: sessions cannot be erased from it; make it writable first")
    if journal_present(path):
        recover_capture(path)
    with open_capture(path) as cap:  # the same checks as viewing
        created = cap.meta.get("created_ms")
    ids = sorted({int(s) for s in session_ids})
    plan = ErasurePlan(path, ids)
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    try:
        con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        con.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed even before the VACUUM
        con.execute("BEGIN IMMEDIATE")
        try:
            _count_capture(con, ids, plan)
            _delete_capture(con, ids)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        _vacuum(con, path)
    except sqlite3.Error as exc:
        raise CaptureError(path, f"could not erase sessions: {exc}") from None
    finally:
        con.close()
    for f in _bookmark_files(path, created):
        n = _erase_bookmarks(f, ids)
        if n:
            plan.bookmarks[str(f)] = n
    for cache in _cache_files(path):
        cache.unlink()
        plan.caches.append(str(cache))
    return plan


def _delete_capture(con: sqlite3.Connection, ids: list[int]) -> None:
    tables = _tables(con)
    temp = _load_ids(con, ids)
    pages = _orphaned_pages(con, temp)
    snaps = _orphaned_snapshots(con, temp)
    strings = sorted(_orphaned_strings(con, temp))
    where = f"session_id IN (SELECT id FROM {temp})"
    if "event_chunks" in tables:
        erase_from_chunks(con, ids)
    con.execute(f"DELETE FROM pageviews WHERE {where}")
    con.execute(f"DELETE FROM sessions WHERE {where}")
    for table, cols in tables.items():
        if table == "planted" or (table not in _KNOWN and "session_id" in cols):
            con.execute(f'DELETE FROM "{table}" WHERE {where}')
    if "bookmarks" in tables:
        _delete_bookmarks(con, temp)
    for chunk, marks in _chunks(snaps):
        con.execute(f"DELETE FROM elements WHERE snapshot_id IN ({marks})", chunk)
        con.execute(f"DELETE FROM snapshots WHERE snapshot_id IN ({marks})", chunk)
    for chunk, marks in _chunks(pages):
        con.execute(f"DELETE FROM pages WHERE page_id IN ({marks})", chunk)
    for chunk, marks in _chunks(strings):
        con.execute(f"DELETE FROM strings WHERE string_id IN ({marks})", chunk)
    con.execute(f"DROP TABLE {temp}")


def erase_from_chunks(con: sqlite3.Connection, ids: list[int]) -> None:
    """Remove the sessions' rows from every event chunk that holds any (format 2); a chunk
    left without rows is deleted, the others are rewritten with the remaining rows."""
    from hindsight.store.chunks import CHUNK_COLUMNS, RAW, rle_decode, rle_encode

    erased = np.asarray(ids, dtype=np.int64)
    if erased.size == 0:
        return
    cols = ", ".join(CHUNK_COLUMNS)
    rows = con.execute(f"SELECT chunk_id, n, session_min, session_max, {cols} FROM event_chunks "
                       "WHERE session_max >= ? AND session_min <= ?", (int(erased[0]), int(erased[-1]))).fetchall()
    for chunk_id, n, lo, hi, *blobs in rows:
        first = int(np.searchsorted(erased, lo))
        if first >= erased.size or erased[first] > hi:
            continue   # no erased id within the chunk's range
        data = dict(zip(CHUNK_COLUMNS, blobs))
        sess = rle_decode(data["session_id"], n)
        if sess is None:   # damaged: the chunk cannot be split, so it goes (replay keeps the BLOBs)
            con.execute("DELETE FROM event_chunks WHERE chunk_id = ?", (chunk_id,))
            continue
        keep = ~np.isin(sess, erased)
        if keep.all():
            continue
        if not keep.any():
            con.execute("DELETE FROM event_chunks WHERE chunk_id = ?", (chunk_id,))
            continue
        out = {"session_id": rle_encode(sess[keep])}
        pv = rle_decode(data["pageview_id"], n)
        if pv is None or any(not isinstance(data[c], bytes) or len(data[c]) != n * RAW[c].itemsize for c in RAW):
            con.execute("DELETE FROM event_chunks WHERE chunk_id = ?", (chunk_id,))
            continue
        out["pageview_id"] = rle_encode(pv[keep])
        for c, dt in RAW.items():
            out[c] = np.frombuffer(data[c], dtype=dt)[keep].tobytes()
        rest = sess[keep]
        con.execute(f"UPDATE event_chunks SET n = ?, session_min = ?, session_max = ?, "
                    f"{', '.join(c + ' = ?' for c in CHUNK_COLUMNS)} WHERE chunk_id = ?",
                    (int(keep.sum()), int(rest.min()), int(rest.max()), *(out[c] for c in CHUNK_COLUMNS), chunk_id))


def _vacuum(con: sqlite3.Connection, path: Path) -> None:
    """Rewrite the file without free pages, then empty the WAL, so erased bytes are gone."""
    con.execute("VACUUM")
    if con.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        busy, _log, _done = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise CaptureError(path, f"sessions were erased, but {path.name}-wal could not be emptied while "
                                     "another program reads the capture: close it and run the command again")


def _erase_bookmarks(path: Path, ids: list[int]) -> int:
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'bookmarks'").fetchone():
            return 0
        con.execute("PRAGMA secure_delete=ON")
        con.execute("BEGIN IMMEDIATE")
        try:
            temp = _load_ids(con, ids)
            n = _delete_bookmarks(con, temp)
            con.execute(f"DROP TABLE {temp}")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        con.execute("VACUUM")
        return n
    finally:
        con.close()


def _delete_bookmarks(con: sqlite3.Connection, temp: str) -> int:
    where = f"session_id IN (SELECT id FROM {temp})"
    con.execute("DROP TABLE IF EXISTS temp.erase_tags")
    con.execute(f"CREATE TABLE temp.erase_tags AS SELECT DISTINCT tag FROM bookmarks WHERE {where}")
    n = con.execute(f"DELETE FROM bookmarks WHERE {where}").rowcount
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'patterns'").fetchone():
        # A pattern whose every bookmark was erased goes too: its hypothesis was about them.
        con.execute("DELETE FROM patterns WHERE tag IN (SELECT tag FROM temp.erase_tags) "
                    "AND tag NOT IN (SELECT tag FROM bookmarks)")
    con.execute("DROP TABLE temp.erase_tags")
    return n

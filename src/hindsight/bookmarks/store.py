"""Where bookmarks and patterns are saved, and the transactions that save them.

They live **in the capture file**, in their own ``bookmarks`` and ``patterns`` tables
(created on the first write with ``CREATE TABLE IF NOT EXISTS``), written through a separate
read-write connection in one transaction per change; the recorded tables are never written.
When the capture cannot be written (the file or its folder is read-only) they go to a
sidecar file next to it, ``<capture>.bookmarks.sqlite``, and when that folder is read-only
too, to the user's data folder: ``$XDG_DATA_HOME/Hindsight/bookmarks/<sha1>.sqlite``
(``~/.local/share`` by default; sha1 of the capture's absolute path and its ``created_ms``).

``BookmarkStore.for_capture(path)`` picks the first place it can write and merges into it
whatever the other places already hold (by the bookmarks' ``uid``; deletions are kept as
tombstones, so a merged copy never brings a deleted bookmark back).

Crash safety is SQLite's: every change is one transaction (rollback journal, synchronous
FULL), so a crash mid-write loses that change only, never a bookmark saved before it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable, Iterator

from hindsight.bookmarks.patterns import (
    Pattern,
    WORTH_A_HYPOTHESIS,
    check_rating,
    ice_score,
    normalise_tag,
    sort_patterns,
)
# Mode bits count even for root: a chmod 444 capture is never written (see store/access.py).
from hindsight.store.access import capture_writable, file_writable, folder_writable, mode_allows_write

BUSY_TIMEOUT_MS = 5000
#: A bookmark may sit this far past the session's recorded duration (the player's end).
END_TOLERANCE_MS = 1000
#: ``add_matches`` skips a session that has a bookmark of the pattern this close (ms) already.
DUPLICATE_MS = 2000
SIDECAR_SUFFIX = ".bookmarks.sqlite"

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS bookmarks (
    bookmark_id INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,          -- random hex id: merges copies without duplicates
    session_id  INTEGER NOT NULL,              -- sessions.session_id of the capture
    t_ms        INTEGER NOT NULL,              -- ms since session start
    end_ms      INTEGER,                       -- ms since session start; NULL for a moment
    tag         TEXT NOT NULL,                 -- the pattern it belongs to
    note        TEXT NOT NULL DEFAULT '',
    created_ms  INTEGER NOT NULL,              -- Unix epoch ms, UTC
    signal_kind TEXT,                          -- what it was made from, if known: rage_click,
    selector    TEXT,                          --   hesitation, abandon...; the element's CSS
    page_url    TEXT,                          --   selector; the page's URL
    deleted_ms  INTEGER                        -- tombstone: set when deleted, NULL while live
);
CREATE INDEX IF NOT EXISTS bookmarks_tag ON bookmarks(tag, session_id);
CREATE INDEX IF NOT EXISTS bookmarks_session ON bookmarks(session_id, t_ms);
CREATE TABLE IF NOT EXISTS patterns (
    tag        TEXT PRIMARY KEY,
    hypothesis TEXT NOT NULL DEFAULT '',
    impact     INTEGER CHECK (impact BETWEEN 1 AND 10),      -- NULL while not rated
    confidence INTEGER CHECK (confidence BETWEEN 1 AND 10),
    ease       INTEGER CHECK (ease BETWEEN 1 AND 10),
    updated_ms INTEGER NOT NULL                              -- Unix epoch ms, UTC
);
"""
#: Only in sidecar and user-data files: which capture they belong to.
INFO_SQL = "CREATE TABLE IF NOT EXISTS bookmarks_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

_BM_COLS = ("bookmark_id", "session_id", "t_ms", "end_ms", "tag", "note", "created_ms",
            "signal_kind", "selector", "page_url", "uid")
_COPY_COLS = ("uid", "session_id", "t_ms", "end_ms", "tag", "note", "created_ms", "signal_kind",
              "selector", "page_url", "deleted_ms")
_UNSET = object()


class BookmarkError(ValueError):
    """A bookmark cannot be made or found; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Bookmark:
    """A moment (``end_ms`` None) or span of one session, tagged, with a note.

    t_ms, end_ms : ms since the session started
    created_ms : Unix epoch ms
    signal_kind, selector, page_url : what it was made from, when known (else None)
    """

    id: int
    session_id: int
    t_ms: int
    end_ms: int | None
    tag: str
    note: str
    created_ms: int
    signal_kind: str | None = None
    selector: str | None = None
    page_url: str | None = None
    uid: str = ""

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# -- where ------------------------------------------------------------------------------------
def user_data_dir() -> Path:
    """Hindsight's per-user data folder (``$XDG_DATA_HOME/Hindsight`` on Linux)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "Hindsight"


def sidecar_path(capture_path: Path) -> Path:
    return capture_path.with_name(capture_path.name + SIDECAR_SUFFIX)


def user_store_path(capture_path: Path, created_ms: str | int | None) -> Path:
    key = f"{Path(capture_path).resolve()}\n{created_ms or ''}"
    return user_data_dir() / "bookmarks" / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".sqlite")


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        con = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True,
                              isolation_level=None, check_same_thread=False,
                              timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                              timeout=BUSY_TIMEOUT_MS / 1000)
    con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return con


def _has_tables(con: sqlite3.Connection) -> bool:
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return "bookmarks" in names and "patterns" in names


def _now_ms() -> int:
    return int(time.time() * 1000)


# -- the store --------------------------------------------------------------------------------
class BookmarkStore:
    """Bookmarks and patterns of one capture (or a standalone bookmarks file).

    Every read and write opens its own short-lived connection, so the store can be used from
    a worker thread and the GUI thread alike. ``location`` is ``'capture'``, ``'sidecar'``,
    ``'user'`` or ``'file'`` (standalone).
    """

    def __init__(self, path: str | os.PathLike[str], capture_path: str | os.PathLike[str] | None = None,
                 location: str = "file", created_ms: str | None = None) -> None:
        self.path = Path(path)
        self.capture_path = Path(capture_path) if capture_path is not None else None
        self.location = location
        self._created_ms = created_ms
        self.merged_from: list[Path] = []

    def __repr__(self) -> str:
        return f"BookmarkStore({str(self.path)!r}, location={self.location!r})"

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def for_capture(cls, capture, writable=None) -> "BookmarkStore":
        """The bookmarks of a capture (a ``Capture`` or a path), wherever they can be written.

        ``writable(path) -> bool`` decides whether the capture itself is writable (default
        :func:`capture_writable`: permission bits and a real open); tests inject their own.
        """
        from hindsight.store import open_capture
        from hindsight.store.reader import journal_present, recover_capture

        if hasattr(capture, "meta") and hasattr(capture, "path"):
            cap_path, meta = Path(capture.path), dict(capture.meta)
        else:
            cap_path = Path(capture)
            is_writable_ = writable or capture_writable
            if journal_present(cap_path) and is_writable_(cap_path):
                # A writer stopped mid-transaction. Writing here would roll it back anyway
                # (SQLite's read-write open); do it first so the checks below see committed data.
                recover_capture(cap_path)
            with open_capture(cap_path) as cap:  # raises CaptureError for a file that is not one
                meta = dict(cap.meta)
        created = meta.get("created_ms")
        is_writable = writable or capture_writable
        places = [("capture", cap_path), ("sidecar", sidecar_path(cap_path)),
                  ("user", user_store_path(cap_path, created))]
        if is_writable(cap_path):
            primary = "capture"
        elif folder_writable(cap_path.parent) and (not places[1][1].exists() or file_writable(places[1][1])):
            primary = "sidecar"
        else:
            primary = "user"
        path = dict(places)[primary]
        store = cls(path, cap_path, primary, created)
        store._merge([p for name, p in places if name != primary and p.exists()])
        return store

    def _fallback(self) -> bool:
        """Move to the next place after a write was refused; False if there is none."""
        if self.capture_path is None or self.location in ("user", "file"):
            return False
        old = self.path
        if self.location == "capture" and folder_writable(self.capture_path.parent):
            self.location, self.path = "sidecar", sidecar_path(self.capture_path)
        else:
            self.location, self.path = "user", user_store_path(self.capture_path, self._created_ms)
        self._merge([old])
        return True

    def _merge(self, sources: Iterable[Path]) -> None:
        """Copy into this store what other places hold and it does not (by uid; newer pattern)."""
        for src in sources:
            try:
                con = _connect(src, readonly=True)
            except sqlite3.Error:
                continue
            try:
                if not _has_tables(con):
                    continue
                rows = con.execute(f"SELECT {', '.join(_COPY_COLS)} FROM bookmarks").fetchall()
                pats = con.execute("SELECT tag, hypothesis, impact, confidence, ease, updated_ms FROM patterns").fetchall()
            except sqlite3.Error:
                continue
            finally:
                con.close()
            if not rows and not pats:
                continue
            known, here = self._merge_state()
            new_rows = [r for r in rows if r[0] not in known]
            tombs = [(r[-1], r[0]) for r in rows
                     if r[-1] is not None and r[0] in known and known[r[0]] is None]
            new_pats = [p for p in pats if p[0] not in here or p[-1] > here[p[0]]]
            if not (new_rows or tombs or new_pats):
                continue  # nothing new: do not write (the capture stays untouched)

            def copy(w: sqlite3.Connection, new_rows=new_rows, tombs=tombs, new_pats=new_pats) -> None:
                w.executemany(
                    f"INSERT OR IGNORE INTO bookmarks ({', '.join(_COPY_COLS)}) "
                    f"VALUES ({', '.join('?' * len(_COPY_COLS))})", new_rows)
                w.executemany(
                    "INSERT INTO patterns (tag, hypothesis, impact, confidence, ease, updated_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(tag) DO UPDATE SET hypothesis=excluded.hypothesis, "
                    "impact=excluded.impact, confidence=excluded.confidence, ease=excluded.ease, "
                    "updated_ms=excluded.updated_ms WHERE excluded.updated_ms > patterns.updated_ms", new_pats)
                # A tombstone elsewhere deletes the live copy here too.
                w.executemany("UPDATE bookmarks SET deleted_ms = ? WHERE uid = ? AND deleted_ms IS NULL", tombs)

            self._write(copy)
            self.merged_from.append(src)

    def _merge_state(self) -> tuple[dict[str, int | None], dict[str, int]]:
        """(uid -> deleted_ms of every bookmark here, tag -> updated_ms of every pattern here)."""
        with self._reading() as con:
            if con is None:
                return {}, {}
            return (dict(con.execute("SELECT uid, deleted_ms FROM bookmarks").fetchall()),
                    dict(con.execute("SELECT tag, updated_ms FROM patterns").fetchall()))

    # -- connections ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A connection for reading, or None when nothing was saved yet (never creates a file)."""
        if not self.path.exists():
            yield None
            return
        try:
            con = _connect(self.path, readonly=self.location != "file" and not mode_allows_write(self.path))
        except sqlite3.Error as exc:
            raise BookmarkError(f"{self.path}: cannot read bookmarks ({exc})") from None
        try:
            yield con if _has_tables(con) else None
        finally:
            con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any error).

        Creates the tables on first use.
        """
        try:
            con = self._open_for_writing()
        except sqlite3.Error as exc:
            raise BookmarkError(f"{self.path}: cannot save bookmarks ({exc})") from None
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def _write(self, fn):
        """``fn(con)`` in one transaction; if the file refuses the write (read-only after all),
        move to the next place (sidecar, then user data) and do it there."""
        for attempt in (0, 1, 2):
            try:
                with self.transaction() as con:
                    return fn(con)
            except (sqlite3.OperationalError, BookmarkError) as exc:
                if attempt < 2 and _refused(exc) and self._fallback():
                    continue
                if isinstance(exc, BookmarkError):
                    raise
                raise BookmarkError(f"{self.path}: cannot save bookmarks ({exc})") from None

    def _open_for_writing(self) -> sqlite3.Connection:
        if self.location == "user":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = _connect(self.path)
        try:
            con.execute("BEGIN IMMEDIATE")
            if not _has_tables(con):
                for stmt in _statements(SCHEMA_SQL):
                    con.execute(stmt)
                if self.location != "capture":
                    con.execute(INFO_SQL)
                    info = {"capture_path": str(self.capture_path.resolve()) if self.capture_path else "",
                            "capture_created_ms": str(self._created_ms or "")}
                    con.executemany("INSERT OR REPLACE INTO bookmarks_info (key, value) VALUES (?, ?)",
                                    info.items())
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                if con.in_transaction:
                    con.execute("ROLLBACK")
            con.close()
            raise
        return con

    # -- the capture ---------------------------------------------------------------------------
    def _capture_query(self, sql: str, params=()) -> list[tuple]:
        if self.capture_path is None:
            return []
        con = _connect(self.capture_path, readonly=True)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def _check_moment(self, session_id: int, t_ms: int, end_ms: int | None) -> None:
        if t_ms < 0:
            raise BookmarkError(f"the time must be 0 ms or later, not {t_ms}")
        if end_ms is not None and end_ms < t_ms:
            raise BookmarkError(f"the end ({end_ms} ms) is before the start ({t_ms} ms)")
        if self.capture_path is None:
            return
        rows = self._capture_query("SELECT duration_ms FROM sessions WHERE session_id = ?", (int(session_id),))
        if not rows:
            raise BookmarkError(f"{self.capture_path}: has no session {session_id}")
        duration = int(rows[0][0])
        last = end_ms if end_ms is not None else t_ms
        if last > duration + END_TOLERANCE_MS:
            raise BookmarkError(f"{last} ms is past the end of session {session_id} ({duration} ms long)")

    def page_url_at(self, session_id: int, t_ms: int) -> str | None:
        """URL of the page the session showed at ``t_ms`` (None without a capture)."""
        rows = self._capture_query(
            "SELECT p.url FROM pageviews pv JOIN pages p ON p.page_id = pv.page_id "
            "WHERE pv.session_id = ? AND pv.start_ms <= ? ORDER BY pv.seq DESC LIMIT 1",
            (int(session_id), int(t_ms)))
        if not rows:
            rows = self._capture_query(
                "SELECT p.url FROM pageviews pv JOIN pages p ON p.page_id = pv.page_id "
                "WHERE pv.session_id = ? ORDER BY pv.seq LIMIT 1", (int(session_id),))
        return rows[0][0] if rows else None

    # -- writing -------------------------------------------------------------------------------
    def _spelling(self, con: sqlite3.Connection, tag: str) -> str:
        """An existing tag that differs only in case is reused as it is spelled."""
        row = con.execute(
            "SELECT tag FROM bookmarks WHERE tag = ? COLLATE NOCASE AND deleted_ms IS NULL "
            "UNION ALL SELECT tag FROM patterns WHERE tag = ? COLLATE NOCASE LIMIT 1", (tag, tag)).fetchone()
        return row[0] if row else tag

    def _row(self, session_id, t_ms, tag, note, end_ms, signal_kind, selector, page_url, check=True) -> tuple:
        tag = normalise_tag(tag)
        if not tag:
            raise BookmarkError("a bookmark needs a tag")
        session_id, t_ms = int(session_id), int(round(float(t_ms)))
        end_ms = None if end_ms is None else int(round(float(end_ms)))
        if check:
            self._check_moment(session_id, t_ms, end_ms)
        if page_url is None:
            page_url = self.page_url_at(session_id, t_ms)
        return (uuid.uuid4().hex, session_id, t_ms, end_ms, tag, str(note or ""), _now_ms(),
                signal_kind or None, selector or None, page_url or None)

    def add(self, session_id: int, t_ms: float, tag: str, note: str = "", end_ms: float | None = None,
            signal_kind: str | None = None, selector: str | None = None,
            page_url: str | None = None) -> Bookmark:
        """Bookmark a moment (or the span ``t_ms``..``end_ms``, ms since session start).

        Raises ``BookmarkError`` for an unknown session, a time outside it or an empty tag.
        """
        return self.add_many([dict(session_id=session_id, t_ms=t_ms, tag=tag, note=note, end_ms=end_ms,
                                   signal_kind=signal_kind, selector=selector, page_url=page_url)])[0]

    def add_many(self, items: Iterable[dict], check: bool = True) -> list[Bookmark]:
        """Add many bookmarks in one transaction (all or none). Keys as for :meth:`add`."""
        rows = [self._row(it["session_id"], it["t_ms"], it["tag"], it.get("note", ""), it.get("end_ms"),
                          it.get("signal_kind"), it.get("selector"), it.get("page_url"), check)
                for it in items]
        if not rows:
            return []
        uids = [r[0] for r in rows]

        def insert(con: sqlite3.Connection) -> list[tuple]:
            spelled: dict[str, str] = {}
            for r in rows:
                if r[4] not in spelled:
                    spelled[r[4]] = self._spelling(con, r[4])
            con.executemany(
                "INSERT INTO bookmarks (uid, session_id, t_ms, end_ms, tag, note, created_ms, signal_kind, "
                "selector, page_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r[:4] + (spelled[r[4]],) + r[5:] for r in rows])
            out = []
            for i in range(0, len(uids), 500):
                chunk = uids[i:i + 500]
                out += con.execute(f"SELECT {', '.join(_BM_COLS)} FROM bookmarks WHERE uid IN "
                                   f"({', '.join('?' * len(chunk))})", chunk).fetchall()
            return out

        by_uid = {r[-1]: Bookmark(*r) for r in self._write(insert)}
        return [by_uid[u] for u in uids]

    def add_matches(self, tag: str, matches: Iterable, behaviour=None) -> list[Bookmark]:
        """Bookmark "find similar" matches under ``tag`` in one transaction (all or none).

        ``matches`` have ``session_id``, ``t_ms``, ``reason`` (the note) and optionally
        ``end_ms``; ``behaviour`` (kind, selector, page_url) is recorded as what they were made
        from. Sessions that already have a bookmark of ``tag`` within ``DUPLICATE_MS`` of the
        match are skipped. Returns the bookmarks added.
        """
        tag = normalise_tag(tag)
        if not tag:
            raise BookmarkError("a pattern needs a tag")
        kind = getattr(behaviour, "kind", None)
        selector = getattr(behaviour, "selector", None)
        page_url = getattr(behaviour, "page_url", None)
        matches = list(matches)

        def insert(con: sqlite3.Connection) -> list[tuple]:
            spelled = self._spelling(con, tag)
            have: dict[int, list[int]] = {}
            for sid, t in con.execute("SELECT session_id, t_ms FROM bookmarks WHERE tag = ? AND deleted_ms IS NULL",
                                      (spelled,)):
                have.setdefault(int(sid), []).append(int(t))
            rows, now = [], _now_ms()
            for m in matches:
                sid, t = int(m.session_id), int(m.t_ms)
                if any(abs(t - u) < DUPLICATE_MS for u in have.get(sid, ())):
                    continue
                have.setdefault(sid, []).append(t)
                end = getattr(m, "end_ms", None)
                rows.append((uuid.uuid4().hex, sid, t, None if end is None else int(end), spelled,
                             str(getattr(m, "reason", "") or ""), now, kind, selector, page_url))
            con.executemany(
                "INSERT INTO bookmarks (uid, session_id, t_ms, end_ms, tag, note, created_ms, signal_kind, "
                "selector, page_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            uids = [r[0] for r in rows]
            out = []
            for i in range(0, len(uids), 500):
                chunk = uids[i:i + 500]
                out += con.execute(f"SELECT {', '.join(_BM_COLS)} FROM bookmarks WHERE uid IN "
                                   f"({', '.join('?' * len(chunk))}) ORDER BY session_id, t_ms", chunk).fetchall()
            return out

        return [Bookmark(*r) for r in self._write(insert)]

    def import_rows(self, items: Iterable[dict], check: bool = True) -> tuple[int, int]:
        """Add exported bookmarks as they were (uid, created_ms kept) in one transaction;
        those whose uid is already here are skipped. Returns (added, skipped)."""
        rows = []
        for it in items:
            tag = normalise_tag(it["tag"])
            if not tag:
                raise BookmarkError("a bookmark needs a tag")
            sid, t = int(it["session_id"]), int(it["t_ms"])
            end = None if it.get("end_ms") is None else int(it["end_ms"])
            if check:
                self._check_moment(sid, t, end)
            rows.append((it.get("uid") or uuid.uuid4().hex, sid, t, end, tag, str(it.get("note") or ""),
                         int(it.get("created_ms") or _now_ms()), it.get("signal_kind") or None,
                         it.get("selector") or None, it.get("page_url") or None))

        def insert(con: sqlite3.Connection) -> int:
            before = con.total_changes
            con.executemany(
                "INSERT OR IGNORE INTO bookmarks (uid, session_id, t_ms, end_ms, tag, note, created_ms, "
                "signal_kind, selector, page_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return con.total_changes - before

        added = self._write(insert) if rows else 0
        return added, len(rows) - added

    def update(self, bookmark_id: int, *, tag: str | None = None, note: str | None = None) -> Bookmark:
        """Change a bookmark's tag and/or note."""
        if tag is not None:
            tag = normalise_tag(tag)
            if not tag:
                raise BookmarkError("a bookmark needs a tag")

        def change(con: sqlite3.Connection) -> Bookmark:
            self._get(con, bookmark_id)
            if tag is not None:
                con.execute("UPDATE bookmarks SET tag = ? WHERE bookmark_id = ?",
                            (self._spelling(con, tag), int(bookmark_id)))
            if note is not None:
                con.execute("UPDATE bookmarks SET note = ? WHERE bookmark_id = ?", (str(note), int(bookmark_id)))
            return self._get(con, bookmark_id)

        return self._write(change)

    def delete(self, bookmark_id: int) -> None:
        """Delete a bookmark (kept as a tombstone so merging an older copy does not restore it)."""
        def tombstone(con: sqlite3.Connection) -> None:
            self._get(con, bookmark_id)
            con.execute("UPDATE bookmarks SET deleted_ms = ? WHERE bookmark_id = ?", (_now_ms(), int(bookmark_id)))

        self._write(tombstone)

    def set_pattern(self, tag: str, hypothesis: str | None = None, impact=_UNSET, confidence=_UNSET,
                    ease=_UNSET) -> Pattern:
        """Save a pattern's hypothesis and/or ICE ratings (1-10, None to clear); others unchanged."""
        tag = normalise_tag(tag)
        if not tag:
            raise BookmarkError("a pattern needs a tag")
        changes = {}
        for name, value in (("impact", impact), ("confidence", confidence), ("ease", ease)):
            if value is not _UNSET:
                try:
                    changes[name] = check_rating(name, value)
                except ValueError as exc:
                    raise BookmarkError(str(exc)) from None
        if hypothesis is not None:
            changes["hypothesis"] = str(hypothesis)
        def save(con: sqlite3.Connection) -> str:
            spelled = self._spelling(con, tag)
            con.execute("INSERT OR IGNORE INTO patterns (tag, updated_ms) VALUES (?, ?)", (spelled, _now_ms()))
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                con.execute(f"UPDATE patterns SET {sets}, updated_ms = ? WHERE tag = ?",
                            (*changes.values(), _now_ms(), spelled))
            return spelled

        return self.pattern(self._write(save))

    # -- reading -------------------------------------------------------------------------------
    @staticmethod
    def _get(con: sqlite3.Connection, bookmark_id: int) -> Bookmark:
        row = con.execute(f"SELECT {', '.join(_BM_COLS)} FROM bookmarks WHERE bookmark_id = ? "
                          "AND deleted_ms IS NULL", (int(bookmark_id),)).fetchone()
        if row is None:
            raise BookmarkError(f"no bookmark {bookmark_id}")
        return Bookmark(*row)

    def bookmark(self, bookmark_id: int) -> Bookmark:
        with self._reading() as con:
            if con is None:
                raise BookmarkError(f"no bookmark {bookmark_id}")
            return self._get(con, bookmark_id)

    def bookmarks(self, tag: str | None = None, session_id: int | None = None) -> list[Bookmark]:
        """Live bookmarks, by tag then session then time; optionally of one tag or session."""
        conds, params = ["deleted_ms IS NULL"], []
        if tag is not None:
            conds.append("tag = ?")
            params.append(normalise_tag(tag))
        if session_id is not None:
            conds.append("session_id = ?")
            params.append(int(session_id))
        with self._reading() as con:
            if con is None:
                return []
            rows = con.execute(f"SELECT {', '.join(_BM_COLS)} FROM bookmarks WHERE {' AND '.join(conds)} "
                               "ORDER BY tag, session_id, t_ms, bookmark_id", params).fetchall()
        return [Bookmark(*r) for r in rows]

    def tags(self) -> list[str]:
        """Tags in use (and patterns with a hypothesis), most recently used first."""
        with self._reading() as con:
            if con is None:
                return []
            rows = con.execute(
                "SELECT tag, max(created_ms) AS last FROM bookmarks WHERE deleted_ms IS NULL GROUP BY tag "
                "UNION SELECT tag, updated_ms FROM patterns WHERE tag NOT IN "
                "(SELECT tag FROM bookmarks WHERE deleted_ms IS NULL) ORDER BY last DESC").fetchall()
        return [r[0] for r in rows]

    def patterns(self) -> list[Pattern]:
        """Every pattern, highest ICE first, then most sessions (see ``patterns.sort_key``)."""
        with self._reading() as con:
            if con is None:
                return []
            rows = con.execute(
                "SELECT b.tag, coalesce(p.hypothesis, ''), p.impact, p.confidence, p.ease, count(*), "
                "count(DISTINCT b.session_id), coalesce(p.updated_ms, max(b.created_ms)) "
                "FROM bookmarks b LEFT JOIN patterns p ON p.tag = b.tag WHERE b.deleted_ms IS NULL "
                "GROUP BY b.tag "
                "UNION ALL "
                "SELECT p.tag, p.hypothesis, p.impact, p.confidence, p.ease, 0, 0, p.updated_ms FROM patterns p "
                "WHERE NOT EXISTS (SELECT 1 FROM bookmarks b WHERE b.tag = p.tag AND b.deleted_ms IS NULL) "
                "AND (p.hypothesis != '' OR p.impact IS NOT NULL OR p.confidence IS NOT NULL "
                "OR p.ease IS NOT NULL)").fetchall()
        return sort_patterns(Pattern(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7] or 0))
                             for r in rows)

    def pattern(self, tag: str) -> Pattern:
        tag = normalise_tag(tag)
        for p in self.patterns():
            if p.tag == tag:
                return p
        with self._reading() as con:
            row = None if con is None else con.execute(
                "SELECT tag, hypothesis, impact, confidence, ease, updated_ms FROM patterns WHERE tag = ?",
                (tag,)).fetchone()
        if row is None:
            raise BookmarkError(f"no pattern {tag!r}")
        return Pattern(row[0], row[1], row[2], row[3], row[4], 0, 0, int(row[5]))

    def count(self) -> int:
        with self._reading() as con:
            if con is None:
                return 0
            return int(con.execute("SELECT count(*) FROM bookmarks WHERE deleted_ms IS NULL").fetchone()[0])


def _statements(script: str) -> list[str]:
    """Split a script into statements (comments may hold semicolons; executescript would COMMIT)."""
    out, cur = [], ""
    for line in script.splitlines(keepends=True):
        cur += line
        if sqlite3.complete_statement(cur):
            out.append(cur.strip())
            cur = ""
    return out


def _refused(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


__all__ = ["Bookmark", "BookmarkError", "BookmarkStore", "Pattern", "WORTH_A_HYPOTHESIS", "ice_score",
           "capture_writable", "file_writable", "folder_writable", "sidecar_path", "user_store_path"]

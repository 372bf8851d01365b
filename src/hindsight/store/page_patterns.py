"""Saved page patterns and kept query keys of a capture (see :mod:`hindsight.analytics.page_groups`).

They are saved where the capture's bookmarks are (:class:`hindsight.bookmarks.store.BookmarkStore`
picks the place): in the capture file, in a ``page_patterns`` table created on the first save,
or, when the capture cannot be written, in the sidecar ``<capture>.bookmarks.sqlite`` next to it
(then the user's data folder). Nothing is written until the user saves a pattern: viewing a
capture never modifies it. The recorded tables are never touched.

``page_patterns`` rows: ``kind`` 'pattern' (``value`` = the pattern text; ``seq`` orders them:
the first matching pattern wins) or 'keep_query' (``value`` = a query key kept apart).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from hindsight.store.errors import CaptureError

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS page_patterns (
    kind       TEXT NOT NULL,      -- 'pattern' | 'keep_query'
    value      TEXT NOT NULL,
    seq        INTEGER NOT NULL,   -- order patterns are tried in
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
)
"""
MAX_PATTERNS = 500


@dataclass(frozen=True)
class SavedPatterns:
    patterns: tuple[str, ...] = ()
    keep_query: tuple[str, ...] = ()
    location: str = ""  # 'capture' | 'sidecar' | 'user' | '' (nothing saved)
    path: str = ""


def _read(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Patterns and kept keys saved in ``path``; None when it has no ``page_patterns`` table."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'page_patterns'").fetchone():
            return None
        rows = con.execute("SELECT kind, value FROM page_patterns ORDER BY seq, value").fetchall()
    except sqlite3.DatabaseError as exc:
        raise CaptureError(path, f"has unreadable page patterns ({exc})") from None
    finally:
        con.close()
    pats = tuple(v for k, v in rows if k == "pattern" and isinstance(v, str))
    keys = tuple(v for k, v in rows if k == "keep_query" and isinstance(v, str))
    return pats, keys


def _store(capture):
    from hindsight.bookmarks.store import BookmarkStore

    return BookmarkStore.for_capture(capture)


def _places(store) -> list[tuple[str, Path]]:
    from hindsight.bookmarks.store import sidecar_path, user_store_path

    cap = store.capture_path
    return [("capture", cap), ("sidecar", sidecar_path(cap)), ("user", user_store_path(cap, store._created_ms))]


def dataset_store(capture):
    """The dataset store (``hindsight.dataset.store.Dataset``) when ``capture`` is a dataset (a
    path or URL, or a dataset, a partition or a driver opened on one), else None."""
    import os

    if isinstance(capture, (str, os.PathLike)):
        from hindsight.engine.reader import is_dataset

        if not is_dataset(capture):
            return None
        from hindsight.dataset.store import open_dataset

        return open_dataset(os.fspath(capture))
    from hindsight.store.reader import Capture

    if isinstance(capture, Capture):
        return None
    from hindsight.engine.reader import CatalogReads, Dataset

    if isinstance(capture, CatalogReads):   # a partition, or the driver of a whole dataset
        return capture.dataset.store
    if isinstance(capture, Dataset):
        return capture.store
    return None


def saved_patterns(capture) -> SavedPatterns:
    """What is saved for ``capture`` (an open ``Capture`` or a path): the place its bookmarks
    are written to, else the first other place holding page patterns. For a dataset: the
    ``page_patterns`` list in it (``hindsight.dataset.patterns``)."""
    ds = dataset_store(capture)
    if ds is not None:
        from hindsight.dataset.patterns import read_page_patterns

        got = read_page_patterns(ds)
        return SavedPatterns(got[0], got[1], "dataset", got[2]) if got else SavedPatterns()
    store = _store(capture)
    places = _places(store)
    order = [(store.location, store.path)] + [(n, p) for n, p in places if p != store.path]
    for name, path in order:
        got = _read(Path(path))
        if got is not None:
            return SavedPatterns(got[0], got[1], name, str(path))
    return SavedPatterns()


def _change(capture, fn) -> SavedPatterns:
    ds = dataset_store(capture)
    if ds is not None:   # the list inside the dataset, rewritten whole
        from hindsight.dataset.patterns import change_page_patterns

        change_page_patterns(ds, fn, TABLE_SQL)
        return saved_patterns(capture)
    store = _store(capture)
    before = saved_patterns(capture)

    def write(con: sqlite3.Connection):
        con.execute(TABLE_SQL)
        have = con.execute("SELECT count(*) FROM page_patterns").fetchone()[0]
        if not have and (before.patterns or before.keep_query) and before.path != str(store.path):
            # first save in this place: bring what another place held
            now = int(time.time() * 1000)
            con.executemany("INSERT OR IGNORE INTO page_patterns VALUES ('pattern', ?, ?, ?)",
                            [(p, i, now) for i, p in enumerate(before.patterns)])
            con.executemany("INSERT OR IGNORE INTO page_patterns VALUES ('keep_query', ?, 0, ?)",
                            [(k, now) for k in before.keep_query])
        fn(con)

    store._write(write)
    return saved_patterns(capture)


def add_pattern(capture, text: str) -> SavedPatterns:
    """Save a page pattern (a no-op if already saved), tried after the ones before it. Callers
    validate it first (``analytics.page_groups.save_pattern`` does)."""
    text = text.strip()
    if not text or len(text) > 2000:
        raise ValueError(f"not a page pattern: {text[:80]!r}")

    def fn(con):
        n = con.execute("SELECT count(*), coalesce(max(seq), -1) FROM page_patterns WHERE kind = 'pattern'").fetchone()
        if n[0] >= MAX_PATTERNS:
            raise ValueError(f"at most {MAX_PATTERNS} page patterns")
        con.execute("INSERT OR IGNORE INTO page_patterns VALUES ('pattern', ?, ?, ?)",
                    (text, n[1] + 1, int(time.time() * 1000)))

    return _change(capture, fn)


def remove_pattern(capture, text: str) -> SavedPatterns:
    """Forget a saved pattern; ``KeyError`` if it is not saved."""
    text = text.strip()
    if text not in saved_patterns(capture).patterns:
        raise KeyError(f"no saved page pattern {text!r}")
    return _change(capture, lambda con: con.execute(
        "DELETE FROM page_patterns WHERE kind = 'pattern' AND value = ?", (text,)))


def set_keep_query(capture, key: str, keep: bool = True) -> SavedPatterns:
    """Keep query key ``key`` apart in default patterns (or stop keeping it)."""
    key = key.strip()
    if not key or any(c in key for c in "&=#?") or len(key) > 200:
        raise ValueError(f"not a query key: {key!r}")
    if keep:
        return _change(capture, lambda con: con.execute(
            "INSERT OR IGNORE INTO page_patterns VALUES ('keep_query', ?, 0, ?)", (key, int(time.time() * 1000))))
    return _change(capture, lambda con: con.execute(
        "DELETE FROM page_patterns WHERE kind = 'keep_query' AND value = ?", (key,)))

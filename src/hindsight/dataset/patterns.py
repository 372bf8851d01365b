"""A dataset's saved page patterns (``page_patterns/``, see ``layout.PAGE_PATTERNS_SCHEMA``).

``hindsight export dataset`` carries the capture's saved patterns and kept query keys over
(wherever the capture keeps them: in the file, its sidecar or the user data folder), so the
dataset's page groups are the capture's. ``hindsight pages add|remove|keep-query DATASET``
rewrite the list: a whole new part file named by the time (renamed into place), then the
older parts are removed; readers take the part with the greatest name, so a change is atomic.
"""

from __future__ import annotations

import posixpath
import sqlite3
import time

import pyarrow as pa

from hindsight.dataset import layout
from hindsight.store.errors import CaptureError

TABLE = "page_patterns"


def _writer_name() -> str:
    return f"p{int(time.time() * 1000):013d}"


def write_page_patterns(fs, root: str, patterns, keep_query, writer: str | None = None) -> str | None:
    """Write the list as one part file (nothing when both are empty and none existed)."""
    from hindsight.dataset.store import PartWriter

    rows = ([("pattern", p, i) for i, p in enumerate(patterns)]
            + [("keep_query", k, 0) for k in keep_query])
    table = pa.table({"kind": [r[0] for r in rows], "value": [r[1] for r in rows], "seq": [r[2] for r in rows]},
                     schema=layout.PAGE_PATTERNS_SCHEMA)
    part = PartWriter(fs, posixpath.join(root, TABLE), layout.part_name(writer or _writer_name(), 0),
                      layout.PAGE_PATTERNS_SCHEMA)
    try:
        part._pq.write_table(table)   # an empty list is written too: it replaces a longer one
    except BaseException:
        part.abort()
        raise
    return part.close()


def export_page_patterns(fs, root: str, saved) -> None:
    """A capture's saved patterns (``store.page_patterns.saved_patterns``) into a new dataset."""
    if saved.patterns or saved.keep_query:
        write_page_patterns(fs, root, saved.patterns, saved.keep_query)


def read_page_patterns(store) -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
    """(patterns, kept query keys, part file) of a dataset store, None when it has none."""
    import pyarrow.parquet as pq

    try:   # listed afresh: another process may have changed the list since this one opened it
        files = [f for f in store.fs.ls(store.path(TABLE), detail=False)
                 if f.rstrip("/").rsplit("/", 1)[-1].startswith("part-")]
    except FileNotFoundError:
        files = []
    except OSError as exc:
        raise CaptureError(store.path(TABLE), f"cannot be listed: {exc}") from None
    if not files:
        return None
    path = max(files, key=lambda p: p.rsplit("/", 1)[-1])
    try:
        t = pq.read_table(path, filesystem=store._afs).to_pydict()
    except Exception as exc:  # noqa: BLE001
        raise CaptureError(path, f"is a corrupt part file: {' '.join(str(exc).split())[:200]}") from None
    rows = sorted(zip(t.get("kind", []), t.get("value", []), t.get("seq", [])),
                  key=lambda r: (r[2] if isinstance(r[2], int) else 0, str(r[1])))
    pats = tuple(v for k, v, _ in rows if k == "pattern" and isinstance(v, str))
    keys = tuple(v for k, v, _ in rows if k == "keep_query" and isinstance(v, str))
    return pats, keys, path


def change_page_patterns(store, fn, table_sql: str) -> None:
    """Apply ``fn(con)`` (the SQL change ``hindsight.store.page_patterns`` makes on a capture)
    to the dataset's list, through an in-memory copy of the capture's table (``table_sql``:
    ``store.page_patterns.TABLE_SQL``), and write the result as the new list."""
    have = read_page_patterns(store)
    con = sqlite3.connect(":memory:")
    try:
        con.execute(table_sql)
        now = int(time.time() * 1000)
        if have:
            con.executemany("INSERT OR IGNORE INTO page_patterns VALUES ('pattern', ?, ?, ?)",
                            [(p, i, now) for i, p in enumerate(have[0])])
            con.executemany("INSERT OR IGNORE INTO page_patterns VALUES ('keep_query', ?, 0, ?)",
                            [(k, now) for k in have[1]])
        fn(con)
        rows = con.execute("SELECT kind, value FROM page_patterns ORDER BY seq, value").fetchall()
    finally:
        con.close()
    pats = [v for k, v in rows if k == "pattern"]
    keys = [v for k, v in rows if k == "keep_query"]
    try:
        new = write_page_patterns(store.fs, store.root, pats, keys)
        for old in store.fs.ls(store.path(TABLE), detail=False):
            name = old.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith("part-") and posixpath.basename(new) != name and name < posixpath.basename(new):
                store.fs.rm(old)
    except OSError as exc:
        raise CaptureError(store.url, f"cannot be written: {exc}") from None

"""Reading a format-2 capture's event chunks: only the asked columns of the asked (snapshot, kind) chunks.

``Capture.snapshot_events`` calls :func:`read_snapshot_events` on a format-2 capture; it
returns exactly what the BLOB path returns for sound data (same rows, same order), with the
columns the caller did not ask for left as read-only zeros. :func:`iter_snapshot_chunks`
yields one decoded chunk at a time for callers that fold events without holding them all.
The chunks to read are listed from the index first; each is then read by its rowid (the
raw columns through ``Connection.blobopen``), so one chunk's bytes are in memory at a time.

Damage: a chunk whose column bytes do not match its row count is dropped whole; events with
impossible values (coordinates far off the page, a target beyond the element map, a negative
length, a string id that does not exist) are dropped; both are counted in the capture's
``damaged_events`` (by chunk) and listed by ``hindsight check``.
"""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from hindsight.store.chunks import RAW, rle_runs
from hindsight.store.columns import COLUMNS, EventColumns
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind
from hindsight.store.validate import COORD_MARGIN, KNOWN_KIND, STRING_KINDS, _NONNEG_VALUE

EVENT_VALUE_COLUMNS = ("t", "x", "y", "target", "value")
ALL_KINDS = tuple(int(k) for k in EventKind)
_DTYPES = dict(COLUMNS)


@dataclass
class Chunk:
    """One decoded chunk (rows kept by the session filter)."""

    chunk_id: int
    kind: int
    session_id: np.ndarray
    pageview_id: np.ndarray
    cols: dict[str, np.ndarray]   # asked raw columns (and "seq" when asked)
    rows: int = 0                 # rows (also when the id columns are left as runs)
    session_runs: tuple | None = None    # (values, counts) instead of session_id, see _iter_chunks
    pageview_runs: tuple | None = None

    def __len__(self) -> int:
        return self.rows


def chunk_problem(kind: int, n: int, blobs: dict[str, object]) -> str | None:
    """Why a chunk's bytes cannot be decoded (None when they can)."""
    if not isinstance(n, int) or not 0 <= n <= 1 << 31:
        return f"an impossible row count {n!r}"
    if not isinstance(kind, int) or not 0 <= kind < 256 or not KNOWN_KIND[kind]:
        return f"unknown kind {kind!r}"
    for name, blob in blobs.items():
        if name in RAW:
            if not isinstance(blob, bytes) or len(blob) != n * RAW[name].itemsize:
                size = len(blob) if isinstance(blob, bytes) else type(blob).__name__
                return f"column {name} holds {size} bytes, expected {n * RAW[name].itemsize}"
        elif rle_runs(blob, n) is None:
            return f"column {name} is not a run-length column of {n} rows"
    return None


def value_damage(kind: int, cols: dict[str, np.ndarray], limits: tuple[int, int, int],
                 string_ids: np.ndarray | None) -> np.ndarray | None:
    """(n,) bool mask of a chunk's events with impossible values in the columns at hand (None: none)."""
    n_el, width, height = limits
    bad = None

    def add(m):
        nonlocal bad
        bad = m if bad is None else bad | m

    x, y = cols.get("x"), cols.get("y")
    if x is not None and x.size and (int(x.min()) < -COORD_MARGIN or int(x.max()) > width + COORD_MARGIN):
        add((x < -COORD_MARGIN) | (x.astype(np.int64) > width + COORD_MARGIN))
    if y is not None and y.size and (int(y.min()) < -COORD_MARGIN or int(y.max()) > height + COORD_MARGIN):
        add((y < -COORD_MARGIN) | (y.astype(np.int64) > height + COORD_MARGIN))
    tg = cols.get("target")
    if tg is not None and tg.size and (int(tg.min()) < -1 or int(tg.max()) >= n_el):
        add((tg < -1) | (tg.astype(np.int64) >= n_el))
    v = cols.get("value")
    if v is not None and v.size:
        if _NONNEG_VALUE[kind] and int(v.min()) < 0:
            add(v < 0)
        if kind in STRING_KINDS and string_ids is not None:
            vv = v.astype(np.int64)
            if string_ids.size:
                pos = np.minimum(np.searchsorted(string_ids, vv), string_ids.size - 1)
                ok = string_ids[pos] == vv
            else:
                ok = np.zeros(vv.size, dtype=bool)
            if not ok.all():
                add(~ok)
    return bad if bad is not None and bad.any() else None


def _filter_ids(cap, flt: SessionFilter | None) -> np.ndarray | None:
    if flt is None or flt == SessionFilter():
        return None
    return np.asarray(cap.session_ids(flt), dtype=np.int64)


def _chunk_plan(cap, snapshot_id: int, kinds: tuple[int, ...], ids: np.ndarray | None) -> list[tuple]:
    """(chunk_id, kind, n) of the chunks to read, in (kind, chunk_id) order.

    Only the small columns, through the (snapshot_id, kind, session_min) index: sorting in SQL
    (``ORDER BY kind, chunk_id`` is not the index's order) copied every selected row, column
    BLOBs included, through a temporary sorter, which took longer than reading them.
    """
    sql = (f"SELECT chunk_id, kind, n FROM event_chunks "
           f"WHERE snapshot_id = ? AND kind IN ({', '.join('?' * len(kinds))})")
    params: list = [int(snapshot_id), *kinds]
    if ids is not None:
        sql += " AND session_max >= ? AND session_min <= ?"
        params += [int(ids[0]), int(ids[-1])]
    rows = cap._query(sql, params)
    rows.sort(key=lambda r: (r[1] if isinstance(r[1], int) else -1, r[0]))
    return rows


def iter_snapshot_chunks(cap, snapshot_id: int, kinds=None, flt: SessionFilter | None = None,
                         columns=None, with_seq: bool = False, with_pageviews: bool = True) -> Iterator[Chunk]:
    """Decoded, checked chunks of a snapshot (kind order, then row order), rows of the filtered sessions.

    One chunk's column BLOBs are read at a time (by rowid), so folding over the chunks holds
    the memory of one chunk. ``with_pageviews=False`` leaves ``pageview_id`` empty.
    """
    kinds = ALL_KINDS if kinds is None else tuple(sorted({int(k) for k in kinds}))
    ids = _filter_ids(cap, flt)
    if not kinds or (ids is not None and ids.size == 0):
        return
    for c in _iter_chunks(cap, snapshot_id, _chunk_plan(cap, snapshot_id, kinds, ids), ids,
                          _wanted(columns, with_seq), with_pageviews, runs=False):
        yield c


def _wanted(columns, with_seq: bool) -> list[str]:
    wanted = [c for c in ("x", "y", "t", "target", "value") if columns is None or c in columns]
    return wanted + ["seq"] if with_seq else wanted


def _iter_chunks(cap, snapshot_id: int, plan: list[tuple], ids: np.ndarray | None, wanted: list[str],
                 with_pageviews: bool, runs: bool) -> Iterator[Chunk]:
    """The chunks of ``plan`` decoded and checked. With ``runs``, a chunk kept whole (no row
    filtered out or damaged) carries its id columns as runs (``session_runs``,
    ``pageview_runs``) instead of expanded arrays, for callers that expand them in place."""
    snap_ids, snap_limits = cap._limit_arrays()
    pos = int(np.searchsorted(snap_ids, snapshot_id))
    if pos >= snap_ids.size or snap_ids[pos] != snapshot_id:
        return
    limits = tuple(int(v) for v in snap_limits[pos])
    string_ids = cap._string_id_array() if "value" in wanted else None
    ids_cols = ["session_id"] + (["pageview_id"] if with_pageviews else [])
    names = ids_cols + wanted
    if _BLOBOPEN:   # the raw columns through sqlite3's Blob: read once, straight into their bytes
        sql = (f"SELECT {', '.join(ids_cols)}{''.join(f', typeof({c}), length({c})' for c in wanted)} "
               "FROM event_chunks WHERE chunk_id = ?")
    else:
        sql = f"SELECT {', '.join(names)} FROM event_chunks WHERE chunk_id = ?"
    empty = np.zeros(0, dtype=np.int64)
    for chunk_id, kind, n in plan:
        got = cap._query(sql, (chunk_id,))
        if not got:
            continue
        row = got[0]
        del got
        if _BLOBOPEN:
            blobs = dict(zip(ids_cols, row))
            sizes = {}
            for i, c in enumerate(wanted):
                typ, size = row[len(ids_cols) + 2 * i:len(ids_cols) + 2 * i + 2]
                ok = typ == "blob" and isinstance(n, int) and size == n * RAW[c].itemsize
                blobs[c] = None if not ok else b""
                if ok and size:
                    sizes[c] = size
            blobs.update(_read_blobs(cap, sizes, chunk_id))
        else:
            blobs = dict(zip(names, row))
        del row
        problem = chunk_problem(kind, n, blobs)
        if problem is not None:
            cap._damaged[-int(chunk_id)] = int(n) if isinstance(n, int) and n > 0 else 1
            continue
        s_runs = rle_runs(blobs.pop("session_id"), n)
        p_runs = rle_runs(blobs.pop("pageview_id"), n) if with_pageviews else None
        cols = {c: np.frombuffer(blobs[c], dtype=RAW[c]) for c in wanted}
        del blobs
        keep = None
        if ids is not None:
            s_vals = s_runs[0]
            pos_ = np.minimum(np.searchsorted(ids, s_vals), ids.size - 1)
            run_keep = ids[pos_] == s_vals
            if not run_keep.all():
                if not run_keep.any():
                    continue
                keep = np.repeat(run_keep, s_runs[1])
        bad = value_damage(kind, cols, limits, string_ids)
        if bad is not None:
            cap._damaged[-int(chunk_id)] = int(bad.sum())
            keep = ~bad if keep is None else keep & ~bad
        if keep is None and runs:
            yield Chunk(int(chunk_id), int(kind), empty, empty, cols, int(n), s_runs, p_runs)
            continue
        sess = np.repeat(*s_runs)
        pv = np.repeat(*p_runs) if p_runs is not None else empty
        if keep is not None:
            sess = sess[keep]
            pv = pv[keep] if p_runs is not None else empty
            cols = {c: a[keep] for c, a in cols.items()}
        if sess.size:
            yield Chunk(int(chunk_id), int(kind), sess, pv, cols, int(sess.size))


#: ``Connection.blobopen`` (Python 3.11+) reads a BLOB into one new bytes object; a SELECT
#: first copies it into SQLite's memory, then into the bytes: twice the copying.
_BLOBOPEN = sys.version_info >= (3, 11)


def _read_blobs(cap, columns, rowid: int) -> dict[str, bytes]:
    """The ``columns`` of one ``event_chunks`` row, read through memory-mapped pages: SQLite
    copies them from the page cache with no read call per page, ~3x faster than without
    (README, "Capture format 2: speed and memory"). The mapping is dropped again after the
    chunk, so file pages never pile up in the process's memory (a mapped page that was read
    counts in its RSS)."""
    if not columns:
        return {}
    try:
        with cap._lock:
            cap._check_open()
            con = cap._con
            con.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            try:
                out = {}
                for c in columns:
                    with con.blobopen("event_chunks", c, rowid, readonly=True) as blob:
                        out[c] = blob.read()
                return out
            finally:
                con.execute("PRAGMA mmap_size=0")
    except sqlite3.DatabaseError as exc:
        raise CaptureError(cap.path, f"is corrupt: {exc}") from None


#: How much of the file a chunk read may map (virtual address space only; SQLite maps at most the file).
_MMAP_BYTES = 1 << 40


def _expand_into(out: np.ndarray, runs: tuple[np.ndarray, np.ndarray]) -> None:
    """``out[:] = np.repeat(*runs)`` without a temporary array."""
    values, counts = runs
    if values.size == 1:
        out.fill(values[0])
        return
    # A difference array summed up: the value changes at each run start.
    out.fill(0)
    out[0] = values[0]
    out[np.cumsum(counts[:-1], dtype=np.int64)] = np.diff(values)
    np.cumsum(out, out=out)


def read_snapshot_events(cap, snapshot_id: int, kinds=None, flt: SessionFilter | None = None,
                         columns=None, with_pageviews: bool = True
                         ) -> tuple[EventColumns, np.ndarray, np.ndarray | None]:
    """``Capture.snapshot_events`` on a format-2 capture (see there).

    The chunks' row counts are known up front, so the output arrays are allocated once and
    each chunk is decoded straight into them (runs expanded in place), one chunk's BLOBs alive
    at a time; a single chunk comes back as views of its BLOBs, without a copy. Rows dropped by
    a session filter are gathered per chunk instead.
    """
    kinds = ALL_KINDS if kinds is None else tuple(sorted({int(k) for k in kinds}))
    multi = len(kinds) > 1
    names = _wanted(columns, multi)
    ids = _filter_ids(cap, flt)
    plan = [] if not kinds or (ids is not None and ids.size == 0) else _chunk_plan(cap, snapshot_id, kinds, ids)
    need_pv = with_pageviews or multi   # merging kinds back into order needs the pageviews
    chunks = _iter_chunks(cap, snapshot_id, plan, ids, names, need_pv, runs=True)
    if len(plan) == 1:   # one chunk: its arrays as they are (views of the BLOBs read)
        c = next(chunks, None)
        if c is None:
            plan = []
        else:
            if c.session_runs is not None:
                sess, pv = np.repeat(*c.session_runs), (np.repeat(*c.pageview_runs) if need_pv else None)
            else:
                sess, pv = c.session_id, (c.pageview_id if need_pv else None)
            return _finish(sess, pv, dict(c.cols), np.full(c.rows, c.kind, dtype=np.uint8), c.rows, with_pageviews)
    total = sum(r[2] for r in plan if isinstance(r[2], int) and 0 <= r[2] <= 1 << 31)
    sess = np.empty(total, dtype=np.int64)
    pv = np.empty(total, dtype=np.int64) if need_pv else None
    data = {name: np.empty(total, dtype=RAW[name]) for name in names}
    kind = np.empty(total, dtype=np.uint8)
    at = 0
    for c in chunks:
        m = c.rows
        if c.session_runs is not None:
            _expand_into(sess[at:at + m], c.session_runs)
            if pv is not None:
                _expand_into(pv[at:at + m], c.pageview_runs)
        else:
            sess[at:at + m] = c.session_id
            if pv is not None:
                pv[at:at + m] = c.pageview_id
        for name in names:
            data[name][at:at + m] = c.cols[name]
        kind[at:at + m] = c.kind
        at += m
    if at < total:   # rows filtered out or damaged: keep only what was filled (a copy when much is left)
        trim = (lambda a: a[:at]) if at * 2 > total else (lambda a: a[:at].copy())
        sess, kind = trim(sess), trim(kind)
        pv = trim(pv) if pv is not None else None
        data = {name: trim(a) for name, a in data.items()}
    return _finish(sess, pv, data, kind, at, with_pageviews)


def _finish(sess, pv, data, kind, n, with_pageviews: bool):
    seq = data.pop("seq", None)
    if seq is not None and n > 1 and np.any(kind[1:] != kind[:-1]):
        order = np.lexsort((seq, pv))   # merge the kinds back into (pageview, position) order
        sess, pv, kind = sess[order], pv[order], kind[order]
        data = {name: a[order] for name, a in data.items()}
    t = data.get("t")
    if t is not None and n > 1 and pv is not None:   # out of time order within a pageview: sorted, as for BLOBs
        down = np.flatnonzero(t[1:] < t[:-1])
        if down.size and np.any(pv[down] == pv[down + 1]):
            o = np.lexsort((t, pv))
            sess, pv, kind = sess[o], pv[o], kind[o]
            data = {name: a[o] for name, a in data.items()}
    out = {}
    for name, dt in COLUMNS:
        if name == "kind":
            out[name] = kind
        elif name in data:
            out[name] = data[name]
        else:
            out[name] = np.broadcast_to(np.array(-1 if name == "target" else 0, dtype=dt), (n,))
    return EventColumns(**out), sess, (pv if with_pageviews else None)

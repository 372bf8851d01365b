"""Columnar event chunks (capture format 2): encoding, the writer's buffer, decoding.

Beside the per-pageview ``events`` BLOBs that replay reads, a format-2 capture stores every
event again in ``event_chunks`` rows, one per (snapshot, event kind) and at most
:data:`CHUNK_ROWS` rows each, as separate little-endian column BLOBs (the shared column
layout: ``session_id`` int64, ``pageview_id`` int64, ``t`` uint32, ``x``/``y`` int32,
``target`` int16, ``value`` int32; plus ``seq`` uint32, the event's position in its
pageview's BLOB). Rows are sorted by (pageview_id, seq), i.e. by (pageview_id, t).

Encodings (fixed per column, chosen by measurement, see README "Capture file"):
``session_id`` and ``pageview_id`` are run-length encoded (int64 values, then uint32 run
lengths): a pageview's events of one kind are contiguous, so this is ~40x smaller and decodes
with one ``np.repeat``. The other columns are raw arrays: zlib level 1 stored x, y, t in 41-61 %
of their size, but decompressing 1M int32 took ~300 ms here against ~1 ms for a raw copy, and
compressing ran far below the 5 M events/s write goal (README, "The capture file").
"""

from __future__ import annotations

import operator

import numpy as np

from hindsight.store.columns import RECORD_DTYPE

#: Largest number of rows in one chunk (bounds the memory of reading or writing one: ~26 MB of
#: columns). 1,048,576 (Parquet's default row group size too): a snapshot's events of one kind
#: up to this many come back as views of one chunk's BLOBs, without a copy; at 262,144 the
#: copies that joined four chunks made 1M clicks 2.5-3x the time of ``np.load`` (README).
CHUNK_ROWS = 1 << 20
#: A writer that commits often (the collector) merges its small chunks into the last chunk of
#: their (snapshot, kind) up to this many rows: each merge rewrites that chunk, so it stays small.
MERGE_ROWS = 1 << 18
#: Events the writer buffers before splitting them into per-(snapshot, kind) parts.
BUFFER_EVENTS = 1 << 21

#: Raw columns: name -> dtype.
RAW = {"x": np.dtype("<i4"), "y": np.dtype("<i4"), "t": np.dtype("<u4"), "target": np.dtype("<i2"),
       "value": np.dtype("<i4"), "seq": np.dtype("<u4")}
#: Run-length columns.
RLE = ("session_id", "pageview_id")
#: Every column in table order.
CHUNK_COLUMNS = ("session_id", "pageview_id", "x", "y", "t", "target", "value", "seq")


def rle_encode(a: np.ndarray) -> bytes:
    a = np.asarray(a, dtype="<i8")
    if a.size == 0:
        return b""
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    counts = np.diff(np.r_[starts, a.size]).astype("<u4")
    return a[starts].tobytes() + counts.tobytes()


def rle_decode(blob, n: int) -> np.ndarray | None:
    """The (n,) int64 column, or None when the bytes are not a run-length column of n rows."""
    if not isinstance(blob, bytes) or len(blob) % 12:
        return None
    r = len(blob) // 12
    values = np.frombuffer(blob, dtype="<i8", count=r)
    counts = np.frombuffer(blob, dtype="<u4", offset=8 * r, count=r)
    if int(counts.sum(dtype=np.int64)) != n:
        return None
    return np.repeat(values, counts)


def rle_runs(blob, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, counts) of a run-length column, or None when damaged."""
    if not isinstance(blob, bytes) or len(blob) % 12:
        return None
    r = len(blob) // 12
    values = np.frombuffer(blob, dtype="<i8", count=r)
    counts = np.frombuffer(blob, dtype="<u4", offset=8 * r, count=r)
    if int(counts.sum(dtype=np.int64)) != n:
        return None
    return values, counts


def raw_decode(blob, name: str, n: int) -> np.ndarray | None:
    dt = RAW[name]
    if not isinstance(blob, bytes) or len(blob) != n * dt.itemsize:
        return None
    return np.frombuffer(blob, dtype=dt)


INSERT_SQL = ("INSERT INTO event_chunks(snapshot_id, kind, n, session_min, session_max, session_id, pageview_id, "
              "x, y, t, target, value, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

_RAW_ORDER = ("x", "y", "t", "target", "value", "seq")


def pack_many(events: list, counts: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Many pageviews' events (``EventColumns`` or packed bytes, mixed) at once: the packed
    records (filled with one assignment per column, not one ``pack`` per pageview), the same
    events as contiguous columns, and the (p,) int64 event count of each pageview. Pageview
    i's BLOB is ``records[off[i]:off[i + 1]]`` (a view, bound by sqlite3 as a BLOB without a copy).
    ``counts``: the event counts when the caller knows them already.
    """
    from hindsight.store.columns import COLUMNS, EventColumns

    is_cols = [isinstance(e, EventColumns) for e in events]
    if counts is None:
        counts = np.fromiter((len(e) if c else len(e) // RECORD_DTYPE.itemsize for e, c in zip(events, is_cols)),
                             dtype=np.int64, count=len(events))
    rec = np.empty(int(counts.sum()), dtype=RECORD_DTYPE)
    n_cols = sum(is_cols)
    cols: dict[str, np.ndarray] = {}
    if n_cols == len(events) and events:
        for name, dt in COLUMNS:
            cols[name] = np.concatenate(list(map(operator.attrgetter(name), events))).astype(dt, copy=False)
            rec[name] = cols[name]
        return rec, cols, counts
    if n_cols == 0:
        rec.view(np.uint8)[:] = np.frombuffer(b"".join(events), dtype=np.uint8)
    else:   # both: each kind filled where its rows are
        rows = np.repeat(np.array(is_cols, dtype=bool), counts)
        given = [e for e, c in zip(events, is_cols) if c]
        for name, _ in COLUMNS:
            rec[name][rows] = np.concatenate([getattr(e, name) for e in given])
        rec[~rows] = np.frombuffer(b"".join([e for e, c in zip(events, is_cols) if not c]), dtype=RECORD_DTYPE)
    return rec, {name: np.ascontiguousarray(rec[name]) for name, _ in COLUMNS}, counts


def _runs(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, counts) of the runs of equal values of ``a``."""
    if a.size == 0:
        return a[:0], np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    return a[starts], np.diff(np.r_[starts, a.size])


def _merge_runs(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adjacent runs of equal values joined."""
    if values.size < 2:
        return values, counts
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    if starts.size == values.size:
        return values, counts
    return values[starts], np.add.reduceat(counts, starts)


def _cut_runs(values: np.ndarray, counts: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """The runs covering rows [a, b) of a run-length column."""
    ends = np.cumsum(counts)
    i = int(np.searchsorted(ends, a, side="right"))
    j = int(np.searchsorted(ends, b, side="left")) + 1
    v, c = values[i:j], counts[i:j].copy()
    if c.size:
        c[0] = min(int(ends[i]), b) - a
        if j - 1 > i:
            c[-1] = b - int(ends[j - 2])
    return v, c


def _encode_runs(values: np.ndarray, counts: np.ndarray) -> bytes:
    return values.astype("<i8", copy=False).tobytes() + counts.astype("<u4").tobytes()


class _Part:
    """Rows of one (snapshot, kind) waiting to fill a chunk: raw columns and id runs."""

    __slots__ = ("cols", "pv", "pv_n", "sess", "sess_n", "rows")

    def __init__(self, cols, pv, pv_n, sess, sess_n):
        self.cols, self.pv, self.pv_n, self.sess, self.sess_n = cols, pv, pv_n, sess, sess_n
        self.rows = int(pv_n.sum())


def _join(parts: list[_Part]) -> _Part:
    if len(parts) == 1:
        return parts[0]
    cat = np.concatenate
    pv, pv_n = _merge_runs(cat([p.pv for p in parts]), cat([p.pv_n for p in parts]))
    sess, sess_n = _merge_runs(cat([p.sess for p in parts]), cat([p.sess_n for p in parts]))
    return _Part({c: cat([p.cols[c] for p in parts]) for c in _RAW_ORDER}, pv, pv_n, sess, sess_n)


def _chunk_row(snapshot_id: int, kind: int, part: _Part, a: int, b: int) -> tuple:
    """One ``event_chunks`` row (without chunk_id) of rows [a, b) of ``part``; the raw columns
    are contiguous arrays (sqlite3 binds them as BLOBs without a copy to bytes)."""
    sv, sc = _cut_runs(part.sess, part.sess_n, a, b)
    pv, pc = _cut_runs(part.pv, part.pv_n, a, b)
    return (int(snapshot_id), int(kind), b - a, int(sv.min()), int(sv.max()), _encode_runs(sv, sc),
            _encode_runs(pv, pc), *(np.ascontiguousarray(part.cols[c][a:b], dtype=RAW[c]) for c in _RAW_ORDER))


def chunk_rows(snapshot_id: int, kind: int, cols: dict[str, np.ndarray]) -> list[tuple]:
    """``event_chunks`` rows (without chunk_id) for events of one (snapshot, kind), in row order.

    cols : ``session_id``, ``pageview_id`` (int64 per row) and the raw columns.
    """
    pv, pv_n = _runs(np.asarray(cols["pageview_id"], dtype=np.int64))
    sess, sess_n = _runs(np.asarray(cols["session_id"], dtype=np.int64))
    part = _Part({c: cols[c] for c in _RAW_ORDER}, pv, pv_n, sess, sess_n)
    return [_chunk_row(snapshot_id, kind, part, a, min(a + CHUNK_ROWS, part.rows))
            for a in range(0, part.rows, CHUNK_ROWS)]


class ChunkBuffer:
    """Splits pageviews' events into chunks per (snapshot, kind).

    ``add_records`` takes a batch of pageviews as one packed record array (``pack_many``) and
    splits it with one stable sort by (snapshot, kind) into per-(snapshot, kind) parts (a
    pageview's events of one kind stay contiguous and in order); ``rows`` returns the chunks
    filled so far, every partial one too with ``final``. ``add`` takes one pageview's packed
    bytes (the upgrade from format 1); they are split on the next ``rows``.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[int, int, int, bytes]] = []
        self._pending_events = 0
        self._parts: dict[tuple[int, int], list[_Part]] = {}
        self._part_rows: dict[tuple[int, int], int] = {}
        self._grown = False   # parts added since the last ``rows``

    def add(self, snapshot_id: int, session_id: int, pageview_id: int, blob: bytes) -> None:
        if not blob:
            return
        self._pending.append((snapshot_id, session_id, pageview_id, blob))
        self._pending_events += len(blob) // RECORD_DTYPE.itemsize

    def add_records(self, cols: dict[str, np.ndarray], counts: np.ndarray, snapshot: np.ndarray,
                    session: np.ndarray, pageview: np.ndarray) -> None:
        """Pageviews' events as contiguous columns (``t``, ``kind``, ``x``, ``y``, ``target``,
        ``value``: the pageviews' events one after another), and per pageview its event count,
        snapshot, session and pageview id (in pageview order)."""
        kinds = cols["kind"]
        n = kinds.shape[0]
        if n == 0:
            return
        p = counts.shape[0]
        snaps, snap_rank = np.unique(snapshot, return_inverse=True)
        pv_of = np.repeat(np.arange(p, dtype=np.int32 if p < 2**31 else np.int64), counts)
        if snaps.size == 1:
            key = kinds
        else:
            key = snap_rank.astype(np.int64)[pv_of] * 256 + kinds
            if snaps.size < 256:
                key = key.astype(np.uint16)   # numpy sorts 8- and 16-bit keys with a stable radix sort
        order = np.argsort(key, kind="stable")
        per_key = np.bincount(key)   # rows per (snapshot, kind): the groups' sizes in sorted order
        srt = {c: np.take(cols[c], order) for c in ("x", "y", "t", "target", "value")}
        pv_sorted = np.take(pv_of, order)
        # an event's position in its pageview: its position in the batch less its pageview's start
        starts = np.cumsum(counts) - counts
        seq = np.take(starts, pv_sorted)
        np.subtract(order, seq, out=seq)
        srt["seq"] = seq.astype(np.uint32)
        del order, pv_of, seq, key
        at = 0
        for k in np.flatnonzero(per_key).tolist():
            m = int(per_key[k])
            snap, kind = int(snaps[k // 256]), k % 256
            pvi, pvi_n = _runs(pv_sorted[at:at + m])
            sess, sess_n = _merge_runs(session[pvi], pvi_n)
            part = _Part({c: a[at:at + m] for c, a in srt.items()}, pageview[pvi], pvi_n, sess, sess_n)
            self._parts.setdefault((snap, kind), []).append(part)
            self._part_rows[(snap, kind)] = self._part_rows.get((snap, kind), 0) + m
            at += m
        self._grown = True

    def _split_pending(self) -> None:
        if not self._pending:
            return
        items = self._pending
        self._pending, self._pending_events = [], 0
        _, cols, counts = pack_many([b for *_, b in items])
        ids = np.array([(s, se, pv) for s, se, pv, _ in items], dtype=np.int64).reshape(-1, 3)
        self.add_records(cols, counts, ids[:, 0], ids[:, 1], ids[:, 2])

    def rows(self, final: bool) -> list[tuple]:
        """Chunk rows ready to insert: full chunks, and with ``final`` every partial one too."""
        if final or self._pending_events >= BUFFER_EVENTS:
            self._split_pending()
        if not final and not self._grown:   # nothing new: no chunk can have filled (called per pageview)
            return []
        self._grown = False
        out: list[tuple] = []
        for key in list(self._parts):
            total = self._part_rows[key]
            if not final and total < CHUNK_ROWS:
                continue
            part = _join(self._parts.pop(key))
            del self._part_rows[key]
            full = total if final else (total // CHUNK_ROWS) * CHUNK_ROWS
            out += [_chunk_row(key[0], key[1], part, a, min(a + CHUNK_ROWS, full)) for a in range(0, full, CHUNK_ROWS)]
            if full < total:
                sv, sc = _cut_runs(part.sess, part.sess_n, full, total)
                pv, pc = _cut_runs(part.pv, part.pv_n, full, total)
                self._parts[key] = [_Part({c: a[full:] for c, a in part.cols.items()}, pv, pc, sv, sc)]
                self._part_rows[key] = total - full
        return out


def append_to_last_chunk(con, row: tuple) -> bool:
    """Merge a small new chunk ``row`` (as from ``chunk_rows``) into the last chunk of its
    (snapshot, kind) when both fit in one chunk and the new rows follow it (later pageviews).

    Writers that commit often (the collector commits every few sessions) would otherwise leave
    one tiny chunk per commit, and reading many tiny chunks costs a query row each. Returns
    whether the row was merged (then it must not be inserted).
    """
    snap, kind, n = row[0], row[1], row[2]
    if n >= MERGE_ROWS // 2:
        return False
    last = con.execute("SELECT chunk_id, n, session_id, pageview_id, x, y, t, target, value, seq FROM event_chunks "
                       "WHERE snapshot_id = ? AND kind = ? ORDER BY chunk_id DESC LIMIT 1", (snap, kind)).fetchone()
    if last is None or last[1] + n > MERGE_ROWS:
        return False
    old_n = last[1]
    old_s, old_p = rle_decode(last[2], old_n), rle_decode(last[3], old_n)
    new_s, new_p = rle_decode(row[5], n), rle_decode(row[6], n)
    if old_s is None or old_p is None or any(
            not isinstance(last[4 + i], bytes) or len(last[4 + i]) != old_n * RAW[c].itemsize
            for i, c in enumerate(("x", "y", "t", "target", "value", "seq"))):
        return False   # a damaged chunk is left as it is
    if old_n and n and int(new_p[0]) <= int(old_p[-1]):
        return False   # keep every chunk in pageview order
    sess = np.concatenate([old_s, new_s])
    con.execute("UPDATE event_chunks SET n = ?, session_min = ?, session_max = ?, session_id = ?, pageview_id = ?, "
                "x = ?, y = ?, t = ?, target = ?, value = ?, seq = ? WHERE chunk_id = ?",
                (old_n + n, int(sess.min()), int(sess.max()), rle_encode(sess),
                 rle_encode(np.concatenate([old_p, new_p])),
                 *(last[4 + i] + bytes(row[7 + i]) for i in range(6)), last[0]))
    return True


def chunks_from_blobs(rows) -> ChunkBuffer:
    """A buffer for (snapshot_id, session_id, pageview_id, blob) rows (the upgrade from format 1)."""
    buf = ChunkBuffer()
    for snap, sess, pv, blob in rows:
        buf.add(int(snap), int(sess), int(pv), blob)
    return buf

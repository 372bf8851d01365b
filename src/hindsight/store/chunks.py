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

import numpy as np

from hindsight.store.columns import RECORD_DTYPE

#: Largest number of rows in one chunk (bounds the memory of reading or writing one).
CHUNK_ROWS = 1 << 18
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


_PART = ("session_id", "pageview_id", "x", "y", "t", "target", "value", "seq")


def chunk_rows(snapshot_id: int, kind: int, cols: dict[str, np.ndarray]) -> list[tuple]:
    """``event_chunks`` rows (without chunk_id) for events of one (snapshot, kind), in row order.

    cols : the columns of ``_PART`` (session_id, pageview_id int64; the raw ones in their dtypes).
    """
    out = []
    n = cols["t"].shape[0]
    for a in range(0, n, CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, n)
        s = cols["session_id"][a:b]
        out.append((int(snapshot_id), int(kind), b - a, int(s.min()), int(s.max()),
                    rle_encode(s), rle_encode(cols["pageview_id"][a:b]),
                    *(np.ascontiguousarray(cols[c][a:b], dtype=RAW[c]).tobytes()
                      for c in ("x", "y", "t", "target", "value", "seq"))))
    return out


INSERT_SQL = ("INSERT INTO event_chunks(snapshot_id, kind, n, session_min, session_max, session_id, pageview_id, "
              "x, y, t, target, value, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class ChunkBuffer:
    """Collects pageviews' packed events and writes them as chunks per (snapshot, kind).

    ``add`` keeps a reference to each pageview's bytes; every :data:`BUFFER_EVENTS` events
    they are split by kind (one stable radix sort) into per-(snapshot, kind) parts, and a part
    is written as soon as it holds :data:`CHUNK_ROWS` rows; ``flush`` writes the rest.
    """

    def __init__(self) -> None:
        self._pending: dict[int, list[tuple[int, int, bytes]]] = {}
        self._pending_events = 0
        self._parts: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._part_rows: dict[tuple[int, int], int] = {}

    def add(self, snapshot_id: int, session_id: int, pageview_id: int, blob: bytes) -> None:
        if not blob:
            return
        self._pending.setdefault(snapshot_id, []).append((session_id, pageview_id, blob))
        self._pending_events += len(blob) // RECORD_DTYPE.itemsize

    def rows(self, final: bool) -> list[tuple]:
        """Chunk rows ready to insert: full chunks, and with ``final`` every partial one too."""
        if not final and self._pending_events < BUFFER_EVENTS:
            return []
        out: list[tuple] = []
        for snap, items in self._pending.items():
            rec = np.frombuffer(b"".join([b for _, _, b in items]), dtype=RECORD_DTYPE)
            counts = np.array([len(b) for _, _, b in items], dtype=np.int64) // RECORD_DTYPE.itemsize
            kind = rec["kind"]
            per_kind = np.bincount(kind, minlength=256)
            present = np.flatnonzero(per_kind)
            order = np.argsort(kind, kind="stable") if present.size > 1 else None
            ids = np.array([(s, p) for s, p, _ in items], dtype=np.int64).reshape(-1, 2)
            starts = np.cumsum(counts) - counts
            seq = np.arange(rec.shape[0], dtype=np.int64)
            seq -= np.repeat(starts, counts)
            cols = {"session_id": np.repeat(ids[:, 0], counts), "pageview_id": np.repeat(ids[:, 1], counts),
                    "seq": seq.astype(np.uint32)}
            for c in ("x", "y", "t", "target", "value"):
                cols[c] = rec[c]
            if order is not None:
                cols = {c: a[order] for c, a in cols.items()}
            else:
                cols = {c: np.ascontiguousarray(a) for c, a in cols.items()}
            at = 0
            for k in present.tolist():
                m = int(per_kind[k])
                key = (snap, k)
                self._parts.setdefault(key, []).append({c: a[at:at + m] for c, a in cols.items()})
                self._part_rows[key] = self._part_rows.get(key, 0) + m
                at += m
        self._pending.clear()
        self._pending_events = 0
        for key in list(self._parts):
            if not final and self._part_rows[key] < CHUNK_ROWS:
                continue
            parts = self._parts.pop(key)
            total = self._part_rows.pop(key)
            cols = parts[0] if len(parts) == 1 else {c: np.concatenate([p[c] for p in parts]) for c in _PART}
            full = total if final else (total // CHUNK_ROWS) * CHUNK_ROWS
            out += chunk_rows(key[0], key[1], {c: a[:full] for c, a in cols.items()})
            if full < total:
                self._parts[key] = [{c: a[full:] for c, a in cols.items()}]
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
    if n >= CHUNK_ROWS // 2:
        return False
    last = con.execute("SELECT chunk_id, n, session_id, pageview_id, x, y, t, target, value, seq FROM event_chunks "
                       "WHERE snapshot_id = ? AND kind = ? ORDER BY chunk_id DESC LIMIT 1", (snap, kind)).fetchone()
    if last is None or last[1] + n > CHUNK_ROWS:
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
                 *(last[4 + i] + row[7 + i] for i in range(6)), last[0]))
    return True


def chunks_from_blobs(rows) -> ChunkBuffer:
    """A buffer for (snapshot_id, session_id, pageview_id, blob) rows (the upgrade from format 1)."""
    buf = ChunkBuffer()
    for snap, sess, pv, blob in rows:
        buf.add(int(snap), int(sess), int(pv), blob)
    return buf

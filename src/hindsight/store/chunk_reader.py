"""Reading a format-2 capture's event chunks: only the asked columns of the asked (snapshot, kind) chunks.

``Capture.snapshot_events`` calls :func:`read_snapshot_events` on a format-2 capture; it
returns exactly what the BLOB path returns for sound data (same rows, same order), with the
columns the caller did not ask for left as read-only zeros. :func:`iter_snapshot_chunks`
yields one decoded chunk at a time for callers that fold events without holding them all.

Damage: a chunk whose column bytes do not match its row count is dropped whole; events with
impossible values (coordinates far off the page, a target beyond the element map, a negative
length, a string id that does not exist) are dropped; both are counted in the capture's
``damaged_events`` (by chunk) and listed by ``hindsight check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from hindsight.store.chunks import RAW, rle_runs
from hindsight.store.columns import COLUMNS, EventColumns
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

    def __len__(self) -> int:
        return int(self.session_id.shape[0])


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


def iter_snapshot_chunks(cap, snapshot_id: int, kinds=None, flt: SessionFilter | None = None,
                         columns=None, with_seq: bool = False) -> Iterator[Chunk]:
    """Decoded, checked chunks of a snapshot (kind order, then row order), rows of the filtered sessions."""
    kinds = ALL_KINDS if kinds is None else tuple(sorted({int(k) for k in kinds}))
    wanted = [c for c in ("x", "y", "t", "target", "value") if columns is None or c in columns]
    if with_seq:
        wanted.append("seq")
    ids = _filter_ids(cap, flt)
    if not kinds or (ids is not None and ids.size == 0):
        return
    sql = (f"SELECT chunk_id, kind, n, session_id, pageview_id{''.join(', ' + c for c in wanted)} "
           f"FROM event_chunks WHERE snapshot_id = ? AND kind IN ({', '.join('?' * len(kinds))})")
    params: list = [int(snapshot_id), *kinds]
    if ids is not None:
        sql += " AND session_max >= ? AND session_min <= ?"
        params += [int(ids[0]), int(ids[-1])]
    sql += " ORDER BY kind, chunk_id"
    snap_ids, snap_limits = cap._limit_arrays()
    pos = int(np.searchsorted(snap_ids, snapshot_id))
    if pos >= snap_ids.size or snap_ids[pos] != snapshot_id:
        return
    limits = tuple(int(v) for v in snap_limits[pos])
    string_ids = cap._string_id_array() if "value" in wanted else None
    for row in cap._query(sql, params):
        chunk_id, kind, n = row[0], row[1], row[2]
        blobs = {"session_id": row[3], "pageview_id": row[4], **dict(zip(wanted, row[5:]))}
        problem = chunk_problem(kind, n, blobs)
        if problem is not None:
            cap._damaged[-int(chunk_id)] = int(n) if isinstance(n, int) and n > 0 else 1
            continue
        s_vals, s_counts = rle_runs(blobs["session_id"], n)
        p_vals, p_counts = rle_runs(blobs["pageview_id"], n)
        cols = {c: np.frombuffer(blobs[c], dtype=RAW[c]) for c in wanted}
        keep = None
        if ids is not None:
            pos_ = np.minimum(np.searchsorted(ids, s_vals), ids.size - 1)
            run_keep = ids[pos_] == s_vals
            if not run_keep.all():
                if not run_keep.any():
                    continue
                keep = np.repeat(run_keep, s_counts)
        bad = value_damage(kind, cols, limits, string_ids)
        if bad is not None:
            cap._damaged[-int(chunk_id)] = int(bad.sum())
            keep = ~bad if keep is None else keep & ~bad
        sess = np.repeat(s_vals, s_counts)
        pv = np.repeat(p_vals, p_counts)
        if keep is not None:
            sess, pv = sess[keep], pv[keep]
            cols = {c: a[keep] for c, a in cols.items()}
        if sess.size:
            yield Chunk(int(chunk_id), int(kind), sess, pv, cols)


def read_snapshot_events(cap, snapshot_id: int, kinds=None, flt: SessionFilter | None = None,
                         columns=None) -> tuple[EventColumns, np.ndarray, np.ndarray]:
    """``Capture.snapshot_events`` on a format-2 capture (see there)."""
    kinds = ALL_KINDS if kinds is None else tuple(sorted({int(k) for k in kinds}))
    cols_wanted = [c for c in ("x", "y", "t", "target", "value") if columns is None or c in columns]
    chunks = list(iter_snapshot_chunks(cap, snapshot_id, kinds, flt, cols_wanted, with_seq=len(kinds) > 1))
    n = sum(len(c) for c in chunks)
    if len(chunks) == 1:
        c = chunks[0]
        sess, pv, data = c.session_id, c.pageview_id, dict(c.cols)
        kind = np.full(n, c.kind, dtype=np.uint8)
    elif chunks:
        sess = np.concatenate([c.session_id for c in chunks])
        pv = np.concatenate([c.pageview_id for c in chunks])
        data = {name: np.concatenate([c.cols[name] for c in chunks]) for name in chunks[0].cols}
        kind = np.repeat(np.array([c.kind for c in chunks], dtype=np.uint8),
                         np.array([len(c) for c in chunks], dtype=np.int64))
    else:
        sess = pv = np.zeros(0, dtype=np.int64)
        data = {}
        kind = np.zeros(0, dtype=np.uint8)
    del chunks
    seq = data.pop("seq", None)
    order = None
    if seq is not None and n > 1 and np.any(kind[1:] != kind[:-1]):
        order = np.lexsort((seq, pv))   # merge the kinds back into (pageview, position) order
    if order is not None:
        sess, pv, kind = sess[order], pv[order], kind[order]
        data = {name: a[order] for name, a in data.items()}
    t = data.get("t")
    if t is not None and n > 1:   # events out of time order within a pageview: sorted, as for BLOBs
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
    return EventColumns(**out), sess, pv

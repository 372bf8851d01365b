"""Columnar event arrays and their packed BLOB form (one BLOB per pageview).

A pageview's events are stored as one BLOB of packed little-endian records (19 bytes an
event, time order). Many pageviews decode together with one ``b"".join`` and one
``np.frombuffer``, then a copy per column, so bulk loads run at memory speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

#: (column name, numpy dtype) in packed order. Units: t ms since session start; x, y CSS px.
COLUMNS: tuple[tuple[str, np.dtype], ...] = (
    ("t", np.dtype("<u4")),
    ("kind", np.dtype("u1")),
    ("x", np.dtype("<i4")),
    ("y", np.dtype("<i4")),
    ("target", np.dtype("<i2")),
    ("value", np.dtype("<i4")),
)
RECORD_DTYPE = np.dtype([(name, dt) for name, dt in COLUMNS])  # packed, itemsize 19
BYTES_PER_EVENT = RECORD_DTYPE.itemsize


@dataclass(frozen=True)
class EventColumns:
    """Events as parallel arrays, sorted by time.

    t : (n,) uint32, ms since session start
    kind : (n,) uint8, ``EventKind``
    x, y : (n,) int32, document CSS px (scroll offset for SCROLL, size for RESIZE)
    target : (n,) int16, element index in the snapshot's element map, -1 for none
    value : (n,) int32, kind-specific (input length, string id, visibility...)
    """

    t: np.ndarray
    kind: np.ndarray
    x: np.ndarray
    y: np.ndarray
    target: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def empty(cls) -> "EventColumns":
        return cls(*(np.zeros(0, dtype=dt) for _, dt in COLUMNS))

    @classmethod
    def from_arrays(cls, t, kind, x=None, y=None, target=None, value=None) -> "EventColumns":
        """Build from array-likes, casting to the stored dtypes; missing columns are 0 (target -1)."""
        t = np.asarray(t)
        n = t.shape[0]
        defaults = {"x": 0, "y": 0, "target": -1, "value": 0}
        given = {"t": t, "kind": kind, "x": x, "y": y, "target": target, "value": value}
        cols = []
        for name, dt in COLUMNS:
            col = given[name]
            if col is None:
                col = np.full(n, defaults[name], dtype=dt)
            else:
                col = np.asarray(col)
                if col.shape != (n,):
                    raise ValueError(f"column {name} has shape {col.shape}, expected ({n},)")
                col = col.astype(dt, copy=False)
            cols.append(col)
        return cls(*cols)

    @classmethod
    def concat(cls, parts: Iterable["EventColumns"]) -> "EventColumns":
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name, _ in COLUMNS))

    def take(self, index) -> "EventColumns":
        """Subset by boolean mask or integer index array."""
        return EventColumns(*(getattr(self, name)[index] for name, _ in COLUMNS))

    def of_kind(self, *kinds: int) -> "EventColumns":
        if len(kinds) == 1:
            return self.take(self.kind == kinds[0])
        return self.take(np.isin(self.kind, np.asarray(kinds, dtype=np.uint8)))

    def sorted(self) -> "EventColumns":
        """Stable sort by time (importers may receive events out of order)."""
        if len(self) < 2 or bool(np.all(self.t[1:] >= self.t[:-1])):
            return self
        return self.take(np.argsort(self.t, kind="stable"))

    def pack(self) -> bytes:
        rec = np.empty(len(self), dtype=RECORD_DTYPE)
        for name, _ in COLUMNS:
            rec[name] = getattr(self, name)
        return rec.tobytes()

    @classmethod
    def unpack(cls, blob: bytes, n: int | None = None) -> "EventColumns":
        if n is not None and len(blob) != n * BYTES_PER_EVENT:
            raise ValueError(f"event block holds {len(blob)} bytes, expected {n * BYTES_PER_EVENT}")
        if len(blob) % BYTES_PER_EVENT:
            raise ValueError(f"event block of {len(blob)} bytes is not a whole number of events")
        rec = np.frombuffer(blob, dtype=RECORD_DTYPE)
        return cls(*(np.array(rec[name], dtype=dt) for name, dt in COLUMNS))


def unpack_many(blobs: list[bytes], kinds: tuple[int, ...] | None = None,
                exact_kinds: bool = True, counts_out: list | None = None) -> tuple[EventColumns, np.ndarray]:
    """Decode many pageview BLOBs into one set of columns, optionally keeping only some kinds.

    With ``exact_kinds=False`` the kind filter is skipped when it would drop little (a gather
    per column costs more than the extra rows; callers then select kinds themselves).
    Returns the events and, per event, the index of the blob it came from; ``counts_out``
    (a list) receives the (blobs,) int64 number of returned events per blob.
    The reader's ``Capture.decode_events`` adds the damage checks; use that on capture data.
    """
    sizes = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    if np.any(sizes % BYTES_PER_EVENT):
        raise ValueError("an event block is not a whole number of events")
    rec = np.frombuffer(b"".join(blobs), dtype=RECORD_DTYPE)
    counts = sizes // BYTES_PER_EVENT
    kept = counts
    if kinds is None:
        source = np.repeat(np.arange(len(blobs), dtype=np.int64), counts)
    else:
        lut = np.zeros(256, dtype=bool)
        lut[np.asarray(kinds, dtype=np.uint8)] = True
        mask = lut[rec["kind"]]
        if not exact_kinds and np.count_nonzero(mask) > 0.85 * mask.size:
            source = np.repeat(np.arange(len(blobs), dtype=np.int64), counts)
        else:
            keep = np.flatnonzero(mask)
            rec = rec[keep]
            source = np.searchsorted(np.cumsum(counts), keep, side="right")
            kept = np.bincount(source, minlength=len(blobs)).astype(np.int64)
    if counts_out is not None:
        counts_out.append(kept)
    return EventColumns(*(np.ascontiguousarray(rec[name]).astype(dt, copy=False) for name, dt in COLUMNS)), source

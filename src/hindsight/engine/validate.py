"""The capture's damage rules (:mod:`hindsight.store.validate`) applied to a dataset's Parquet rows.

A part file can be sound Parquet and still hold impossible values (a buggy writer, a hand-made
dataset, a bad copy). What a :class:`~hindsight.engine.reader.Partition` reads passes the same
checks a capture's reader makes, with the same limits:

- **Events** (:func:`check_events`, vectorised with ``validate.event_damage``): the kind is known,
  ``target`` is -1 or an index of the snapshot's element map, x and y lie within 100,000 px of
  the snapshot's page, ``t`` lies within the pageview (10 s slack), string ids exist, counts are
  not negative, and the event's pageview exists in its day with the same session (a dangling id).
  Damaged events are dropped and counted per (pageview, kind) in this process
  (:func:`damage_counts`); the driver adds up what its workers counted, and the CLI prints
  ``hindsight: warning: DATASET: N damaged events skipped`` as for a capture. Events out of time
  order within a pageview are put back in order.
- **Rows** (:func:`check_sessions`, :func:`check_pageviews`): integer columns in the capture's
  ranges (``SESSION_RANGES``, ``PAGEVIEW_RANGES``), a pageview ends after it starts, and its page,
  snapshot and session exist. A damaged row is a ``CaptureError`` of one line naming the part
  file, the row and the value.
"""

from __future__ import annotations

import threading

import numpy as np

from hindsight.store.errors import CaptureError
from hindsight.store.validate import Damage, event_damage, int_column, out_of_order

_lock = threading.Lock()
#: (dataset url, day) -> {(pageview_id, kind): damaged events}: what this process dropped.
_DAMAGE: dict[tuple[str, str], dict[tuple[int, int], int]] = {}


# -- rows ------------------------------------------------------------------------------------
def _ranges():
    from hindsight.store.reader import PAGEVIEW_RANGES, SESSION_RANGES

    return SESSION_RANGES, PAGEVIEW_RANGES


def _part_file(part, table: str, id_column: str, row_id) -> str:
    """The part file holding row ``row_id`` of ``table`` in the partition (for the message)."""
    import pyarrow.dataset as pds

    try:
        t = part.dataset.store.table(table, ["__filename"], (pds.field("day") == part.day)
                                     & (pds.field(id_column) == int(row_id)))
        if t.num_rows:
            return str(t.column("__filename")[0].as_py())
    except Exception:  # noqa: BLE001 - the message then names the partition
        pass
    return part.path


def _damaged(part, table: str, id_column: str, row_id, exc: Damage) -> CaptureError:
    where = _part_file(part, table, id_column, row_id) if row_id is not None else part.path
    return CaptureError(where, f"is damaged: {exc}")


def _first_bad_id(message: str, ids) -> int | None:
    """The row id ``int_column`` named in its message ("sessions row 17: ..."), else None."""
    import re

    m = re.search(r" row (-?\d+)", message)
    return int(m.group(1)) if m else (int(ids[0]) if len(ids) else None)


def check_sessions(part, cols: dict[str, np.ndarray]) -> None:
    """Numeric session columns (as read: int64, NULL as -1) within the capture's ranges."""
    ranges, _ = _ranges()
    ids = cols.get("session_id")
    for name, arr in cols.items():
        if name not in ranges or arr.dtype == object or not arr.size:
            continue
        lo, hi, nullable = ranges[name]
        low = -1 if nullable else lo
        if int(arr.min()) >= low and int(arr.max()) <= hi and not (nullable and np.any((arr < lo) & (arr != -1))):
            continue
        try:
            int_column(arr.tolist(), f"sessions.{name}", lo, hi, nullable,
                       ids=ids.tolist() if ids is not None else None)
        except Damage as exc:
            raise _damaged(part, "sessions", "session_id", _first_bad_id(str(exc), ids if ids is not None else []),
                           exc) from None


def check_pageviews(part, pv: dict[str, np.ndarray], sessions: np.ndarray | None = None) -> None:
    """Pageview columns in range, ending after they start, referring to pages and snapshots that
    exist (and, given this day's ``sessions`` ids, to a session of the day)."""
    _, ranges = _ranges()
    ids = pv["pageview_id"]
    if not ids.size:
        return
    try:
        for name, arr in pv.items():
            lo, hi = ranges[name]
            if int(arr.min()) < lo or int(arr.max()) > hi:
                int_column(arr.tolist(), f"pageviews.{name}", lo, hi, ids=ids.tolist())
        bad = np.flatnonzero(pv["end_ms"] < pv["start_ms"])
        if bad.size:
            i = int(bad[0])
            raise Damage(f"pageview {ids[i]} ends ({int(pv['end_ms'][i]):,} ms) before it starts "
                         f"({int(pv['start_ms'][i]):,} ms)")
        known_snaps = np.array(sorted(s.snapshot_id for s in part.snapshots()), dtype=np.int64)
        known_pages = np.array(sorted(part.page_ids()), dtype=np.int64)
        refs = [("snapshot_id", known_snaps, "snapshot"), ("page_id", known_pages, "page")]
        if sessions is not None:
            refs.append(("session_id", np.unique(sessions), "session"))
        for name, known, table in refs:
            col = pv[name]
            pos = np.minimum(np.searchsorted(known, col), max(known.size - 1, 0))
            missing = np.flatnonzero(known[pos] != col) if known.size else np.arange(col.size)
            if missing.size:
                i = int(missing[0])
                raise Damage(f"pageview {ids[i]} refers to {table} {int(col[i])}, which does not exist"
                             + (f" in day {part.day}" if table == "session" else ""))
    except Damage as exc:
        raise _damaged(part, "pageviews", "pageview_id", _first_bad_id(str(exc).replace("pageview ", " row ", 1), ids),
                       exc) from None


# -- events ----------------------------------------------------------------------------------
def _limits(part):
    """(snapshot ids sorted, (k, 3) int64 rows of element count, width, height) of the dataset."""
    cache = part.dataset.__dict__.setdefault("_validate_limits", {})
    if "snap" not in cache:
        snaps = part.snapshots()
        ids = np.array([s.snapshot_id for s in snaps], dtype=np.int64)
        rows = np.array([(len(part.elements(s.snapshot_id)), s.width, s.height) for s in snaps],
                        dtype=np.int64).reshape(-1, 3)
        order = np.argsort(ids)
        cache["snap"] = (ids[order], rows[order])
        cache["strings"] = np.array(sorted(part.strings()), dtype=np.int64)
    return cache["snap"], cache["strings"]


def _pageviews_of(part, sids: np.ndarray) -> dict[str, np.ndarray]:
    """The partition's pageviews (cached), or for a few sessions (a replay) only theirs."""
    if part._pv is None:
        few = np.unique(sids)
        if few.size <= 64:
            import pyarrow.compute as pc

            return part._pageview_arrays(pc.field("session_id").isin(few.tolist()))
    return part._pageview_arrays()


def check_events(part, ev, sids: np.ndarray, pvids: np.ndarray, columns=None):
    """``(ev, sids, pvids)`` without damaged events (counted, see :func:`damage_counts`), each
    pageview's events in time order. ``ev`` is grouped by pageview (``pvids`` non-decreasing);
    ``columns``: the value columns actually read (the others are zeros and not checked)."""
    n = len(ev)
    if n == 0:
        return ev, sids, pvids
    pv = _pageviews_of(part, sids)
    # one row per pageview of these events (grouped by pageview): limits are per pageview
    first = np.flatnonzero(np.r_[True, pvids[1:] != pvids[:-1]])
    source = np.cumsum(np.r_[False, pvids[1:] != pvids[:-1]]).astype(np.int64)
    counts = np.diff(np.r_[first, n])
    upv, usid = pvids[first], sids[first]
    order = np.argsort(pv["pageview_id"], kind="stable")
    pv_ids = pv["pageview_id"][order]
    pos = np.minimum(np.searchsorted(pv_ids, upv), max(pv_ids.size - 1, 0))
    found_pv = (pv_ids[pos] == upv) if pv_ids.size else np.zeros(upv.size, dtype=bool)
    rows = order[pos] if pv_ids.size else np.zeros(upv.size, np.int64)
    if pv_ids.size:
        found_pv &= pv["session_id"][rows] == usid
    (snap_ids, snap_rows), string_ids = _limits(part)
    snap = pv["snapshot_id"][rows] if pv_ids.size else np.zeros(upv.size, np.int64)
    spos = np.minimum(np.searchsorted(snap_ids, snap), max(snap_ids.size - 1, 0))
    if snap_ids.size:
        found_pv &= snap_ids[spos] == snap
    lim = snap_rows[spos] if snap_ids.size else np.zeros((upv.size, 3), np.int64)
    zero = np.zeros(upv.size, np.int64)
    limits = {"n_elements": lim[:, 0], "width": lim[:, 1], "height": lim[:, 2],
              "start": pv["start_ms"][rows] if pv_ids.size else zero,
              "end": pv["end_ms"][rows] if pv_ids.size else zero}
    # events of a missing pageview: limits that fail nothing, then dropped as dangling below
    found = found_pv[source]
    wanted = None if columns is None else set(columns)
    target = ev.target if wanted is None or "target" in wanted else np.full(n, -1, np.int16)
    x = ev.x if wanted is None or "x" in wanted else np.zeros(n, np.int32)
    y = ev.y if wanted is None or "y" in wanted else np.zeros(n, np.int32)
    value_read = wanted is None or "value" in wanted
    value = ev.value if value_read else np.zeros(n, np.int32)
    bad = event_damage(ev.t, ev.kind, x, y, target, value, source, limits,
                       string_ids if value_read else None, counts=counts)
    if not found_pv.all():
        bad = ~found if bad is None else (bad | ~found)
    if bad is not None and bad.any():
        keys = np.stack([pvids[bad], ev.kind[bad].astype(np.int64)], axis=1)
        uniq, counts = np.unique(keys, axis=0, return_counts=True)
        with _lock:
            rec = _DAMAGE.setdefault((part.dataset.url, part.day), {})
            for (p, k), c in zip(uniq.tolist(), counts.tolist()):
                key = (int(p), int(k))
                rec[key] = max(rec.get(key, 0), int(c))
        keep = ~bad
        ev, sids, pvids = ev.take(np.flatnonzero(keep)), sids[keep], pvids[keep]
    if len(ev) > 1 and out_of_order(ev.t, pvids):
        o = np.lexsort((ev.t, pvids))
        ev, sids, pvids = ev.take(o), sids[o], pvids[o]
    return ev, sids, pvids


def damage_counts(url: str) -> dict[str, dict[tuple[int, int], int]]:
    """What this process dropped from dataset ``url``: {day: {(pageview, kind): events}}."""
    with _lock:
        return {day: dict(rec) for (u, day), rec in _DAMAGE.items() if u == url}


def merge_damage(into: dict, parts) -> int:
    """Merge :func:`damage_counts` results (several processes may have read the same rows:
    the largest count per (day, pageview, kind) is kept); returns the total."""
    for part in parts:
        for day, rec in part.items():
            have = into.setdefault(day, {})
            for key, c in rec.items():
                have[key] = max(have.get(key, 0), c)
    return sum(sum(rec.values()) for rec in into.values())

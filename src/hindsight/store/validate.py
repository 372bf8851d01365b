"""Sanity checks on what is read from a capture: event payloads, SQL columns, images.

A capture can be damaged (a flipped bit, a truncated copy, a buggy writer). Everything the
reader hands on has passed these checks, so the analytics never see an impossible value:

- **Events** are checked vectorised on decode (:func:`event_damage`): kind known, target in
  range of the snapshot's element map, coordinates within :data:`COORD_MARGIN` px of the
  snapshot, times within the pageview (:data:`TIME_SLACK_MS`), string ids that exist, no
  negative lengths. Damaged events are dropped and counted (the reader's ``damaged_events``),
  the rest of the pageview is used. Events out of time order within a pageview are put back
  in order (stable), not dropped: the analytics rely on the order, and nothing is lost.
- **Rows** (sessions, pageviews, snapshots, elements) are checked on read
  (:func:`int_column`, :func:`check_snapshot`); a damaged row is a ``CaptureError`` naming the
  table, row and column, since a wrong session length or pageview reference would otherwise
  surface as a wrong figure.
- **Sizes** that decide memory (snapshot width x height, image pixels) are capped, so a
  damaged size is refused instead of allocating gigabytes.
"""

from __future__ import annotations

import math

import numpy as np

from hindsight.store.kinds import EventKind

#: Largest page a snapshot may describe (CSS px) and largest image / grid area (px).
MAX_PAGE_WIDTH = 20_000
MAX_PAGE_HEIGHT = 200_000
MAX_PAGE_AREA = 50_000_000
MAX_SCALE = 8.0
#: Events may lie this far outside their snapshot's page (CSS px): pages grow after the snapshot.
COORD_MARGIN = 100_000
#: Events may lie this much before the pageview's start or after its end (ms).
TIME_SLACK_MS = 10_000
#: Largest time a capture can express (t is uint32 ms since session start).
MAX_T_MS = 2**32 - 1
#: Largest viewport (CSS px) a session row may give.
MAX_VIEWPORT = 100_000
#: Session start times must lie in [1970, 2200) (epoch ms).
MIN_EPOCH_MS = 0
MAX_EPOCH_MS = 7_258_118_400_000

#: (256,) bool: which kind codes exist.
KNOWN_KIND = np.zeros(256, dtype=bool)
KNOWN_KIND[[int(k) for k in EventKind]] = True
#: Kinds whose value is a string id (must exist in the strings table).
STRING_KINDS = (int(EventKind.ERROR), int(EventKind.CUSTOM), int(EventKind.VALIDATION))
_STRING_KIND = np.zeros(256, dtype=bool)
_STRING_KIND[list(STRING_KINDS)] = True
#: Kinds whose value is a count, length or duration (never negative).
_NONNEG_VALUE = np.zeros(256, dtype=bool)
_NONNEG_VALUE[[int(EventKind.INPUT), int(EventKind.LOAD), int(EventKind.MUTATION), int(EventKind.VISIBILITY)]] = True
#: (256,) uint8 bit set per kind code: unknown, refers to a string, value is a count.
_UNKNOWN, _STRING_REF, _COUNTED = 1, 2, 4
_KIND_CLASS = (np.where(KNOWN_KIND, 0, _UNKNOWN) | np.where(_STRING_KIND, _STRING_REF, 0)
               | np.where(_NONNEG_VALUE, _COUNTED, 0)).astype(np.uint8)


class Damage(ValueError):
    """A value read from a capture is impossible (message says which; the reader adds the file)."""


# -- events ----------------------------------------------------------------------------------

def event_damage(t, kind, x, y, target, value, source, limits, string_ids=None,
                 counts=None, order: list | None = None) -> np.ndarray | None:
    """Which events are damaged, vectorised over many pageviews' events at once.

    Parameters
    ----------
    t, kind, x, y, target, value : (n,) event columns (see ``EventColumns``), grouped by pageview
        and in stored order within each.
    source : (n,) int, per event the row of its pageview in ``limits`` (non-decreasing).
    limits : dict of (p,) int64 arrays per pageview: ``n_elements``, ``width``, ``height``
        (its snapshot's), ``start``, ``end`` (the pageview's, ms since session start).
    string_ids : (k,) sorted int64 ids of the strings table, or None to skip that check.
    counts : (p,) events per pageview in these arrays, if known (saves a search).
    order : a list, if given, receives whether every pageview's times are in order.

    Returns
    -------
    None when every event is sound, else an (n,) bool mask of the damaged events.

    Sound data costs a few whole-array reductions (min / max, one kind histogram, one order
    pass) and O(pageviews) lookups; exact per-event masks are built only for what fails them.
    """
    n = int(t.shape[0])
    if n == 0:
        if order is not None:
            order.append(True)
        return None
    bad = None

    def add(mask):
        nonlocal bad
        bad = mask if bad is None else (bad | mask)

    # Kinds: one lookup and one OR-reduction say whether unknown kinds, string kinds or
    # counted kinds occur at all.
    classes = int(np.bitwise_or.reduce(_KIND_CLASS[kind]))
    if classes & _UNKNOWN:
        add(~KNOWN_KIND[kind])
    start, end = limits["start"], limits["end"]
    p = start.shape[0]
    if counts is None:
        counts = np.searchsorted(source, np.arange(p), side="right") - np.searchsorted(source, np.arange(p))
    last = np.cumsum(counts) - 1
    first = last + 1 - counts
    present = np.flatnonzero(last >= first)
    # Coordinates and targets: whole-array bounds first, then per-pageview maxima, exact
    # per-event masks only for what exceeds those.
    nel, width, height = limits["n_elements"], limits["width"], limits["height"]
    if int(x.min()) < -COORD_MARGIN or int(y.min()) < -COORD_MARGIN \
            or int(x.max()) > int(width.min()) + COORD_MARGIN or int(y.max()) > int(height.min()) + COORD_MARGIN:
        add((x < -COORD_MARGIN) | (y < -COORD_MARGIN)
            | (x.astype(np.int64) > width[source] + COORD_MARGIN)
            | (y.astype(np.int64) > height[source] + COORD_MARGIN))
    if int(target.min()) < -1 or (int(target.max()) >= int(nel.min())
                                  and np.any(np.maximum.reduceat(target, first[present]) >= nel[present])):
        add((target < -1) | (target.astype(np.int64) >= nel[source]))
    # Values: lengths and counts never negative; string ids must exist.
    if classes & _COUNTED and int(value.min()) < 0:
        add((value < 0) & _NONNEG_VALUE[kind])
    if string_ids is not None and classes & _STRING_REF:
        idx = np.flatnonzero(_STRING_KIND[kind])
        v = value[idx].astype(np.int64)
        if string_ids.size:
            pos = np.minimum(np.searchsorted(string_ids, v), string_ids.size - 1)
            ok = string_ids[pos] == v
        else:
            ok = np.zeros(idx.size, dtype=bool)
        if not ok.all():
            m = np.zeros(n, dtype=bool)
            m[idx[~ok]] = True
            add(m)
    # Times: in order within each pageview, and within the pageview's span. When in order,
    # each pageview's first and last events bound all of its times.
    down = np.flatnonzero(t[1:] < t[:-1])
    ordered = down.size == 0 or not np.any(source[down] == source[down + 1])
    if ordered:
        lo_t = t[first[present]].astype(np.int64)
        hi_t = t[last[present]].astype(np.int64)
        out_of_span = np.any(lo_t < start[present] - TIME_SLACK_MS) or np.any(hi_t > end[present] + TIME_SLACK_MS)
    else:
        out_of_span = True
    if out_of_span:
        t64 = t.astype(np.int64)
        add((t64 < start[source] - TIME_SLACK_MS) | (t64 > end[source] + TIME_SLACK_MS))
    if order is not None:
        order.append(ordered)
    return bad if bad is not None and bad.any() else None


def out_of_order(t, source) -> bool:
    """Whether any pageview's times go backwards (``source`` as for :func:`event_damage`)."""
    down = np.flatnonzero(t[1:] < t[:-1])
    return bool(down.size) and bool(np.any(source[down] == source[down + 1]))


# -- rows ------------------------------------------------------------------------------------

def int_column(values, what: str, lo: int | None = None, hi: int | None = None,
               nullable: bool = False, ids=None) -> np.ndarray:
    """``values`` (a sequence read from SQL) as int64, or ``Damage`` naming the first bad one.

    what : e.g. "sessions.duration_ms"; ids : the rows' ids, to name the damaged row.
    NULLs become -1 when ``nullable``.
    """
    vals = list(values)
    if nullable and None in vals:
        vals = [-1 if v is None else v for v in vals]
    try:
        arr = np.array(vals, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        for i, v in enumerate(vals):
            if not isinstance(v, int) or isinstance(v, bool) or not -2**63 <= v < 2**63:
                if isinstance(v, float) and math.isfinite(v) and v == int(v) and abs(v) < 2**53:
                    continue
                raise Damage(f"{_row(what, ids, i)} is {_show(v)}, not a whole number") from None
        arr = np.array([int(v) for v in vals], dtype=np.int64)
    if arr.ndim != 1:
        raise Damage(f"{what} holds values that are not numbers")
    if arr.size == 0 or ((lo is None or int(arr.min()) >= lo) and (hi is None or int(arr.max()) <= hi)):
        return arr
    bad = np.zeros(arr.shape[0], dtype=bool)
    if lo is not None:
        bad |= arr < lo
    if hi is not None:
        bad |= arr > hi
    if nullable:
        bad &= arr != -1
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        rng = f"{lo:,}..{hi:,}" if lo is not None and hi is not None else (f">= {lo:,}" if lo is not None else f"<= {hi:,}")
        raise Damage(f"{_row(what, ids, i)} is {int(arr[i]):,}, outside {rng}")
    return arr


def text_value(v, what: str) -> str:
    if v is None or isinstance(v, str):
        return v or ""
    raise Damage(f"{what} is {_show(v)}, not text")


def _row(what: str, ids, i: int) -> str:
    if ids is None:
        return what
    table, _, column = what.partition(".")
    return f"{table} row {ids[i]}: {column}"


def _show(v) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"a {len(v)}-byte blob"
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check_snapshot(row: tuple) -> tuple:
    """A snapshots row ``(snapshot_id, page_id, device, width, height, scale)`` checked and typed."""
    sid, page_id, device, width, height, scale = row
    name = f"snapshot {sid}"
    if not isinstance(sid, int) or not isinstance(page_id, int):
        raise Damage(f"{name} has a page id {_show(page_id)} that is not a whole number")
    if not isinstance(device, str):
        raise Damage(f"{name} has a device {_show(device)} that is not text")
    for label, v, top in (("width", width, MAX_PAGE_WIDTH), ("height", height, MAX_PAGE_HEIGHT)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise Damage(f"{name} has a {label} of {_show(v)}, not a whole number of px")
        if not 1 <= v <= top:
            raise Damage(f"{name} has an impossible {label} of {v:,} px (1..{top:,})")
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or not 0 < scale <= MAX_SCALE:
        raise Damage(f"{name} has an impossible scale {_show(scale)} (0..{MAX_SCALE:g})")
    if width * height > MAX_PAGE_AREA or width * height * scale * scale > MAX_PAGE_AREA:
        raise Damage(f"{name} is too large: {width:,} x {height:,} px at scale {scale:g} "
                     f"(at most {MAX_PAGE_AREA:,} px)")
    return sid, page_id, device, width, height, float(scale)


def check_image(data, snapshot_id: int):
    """Decode a snapshot's image with Pillow, refusing damaged bytes and absurd sizes.

    Returns a ``PIL.Image.Image`` (loaded), or raises ``Damage``.
    """
    import io
    import warnings

    from PIL import Image

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise Damage(f"snapshot {snapshot_id} has an image of type {type(data).__name__}, not image bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(bytes(data)))
            if im.width * im.height > MAX_PAGE_AREA * 1.05 or im.width > MAX_PAGE_WIDTH * MAX_SCALE:
                raise Damage(f"snapshot {snapshot_id}'s image says it is {im.width:,} x {im.height:,} px, "
                             f"too large (at most {MAX_PAGE_AREA:,} px)")
            im.load()
    except Damage:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for damaged bytes
        what = "is not an image format Hindsight reads" if type(exc).__name__ == "UnidentifiedImageError" \
            else "is truncated or damaged and cannot be decoded"
        raise Damage(f"snapshot {snapshot_id}'s image {what}") from None
    return im

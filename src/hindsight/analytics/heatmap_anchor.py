"""Element-anchored heatmaps across widths (issue 11): one map of every visitor on a chosen screenshot.

A page is captured as one snapshot (screenshot + element map) per device class *and width*:
visitors at 1280, 1440 and 1920 px see the same elements at different places. A heatmap is
drawn on one chosen screenshot (the *base*) and takes its points from every snapshot of the
page group on the same device class (the *sources*):

- **Clicks** (clicks, taps; rage and dead clicks are clicks) are anchored to their element: on
  its own snapshot a click is at the fraction ``fx = (x - ex) / ew``, ``fy = (y - ey) / eh`` of
  its element's box. The element is looked up on the base by its *key* (the stored selector:
  ``#id``, ``[data-testid="…"]``, ``tag[name="…"]``, ``[aria-label="…"]``, else a structural
  path anchored at the nearest keyed ancestor), and the click is drawn at ``bx + fx * bw``,
  ``by + fy * bh`` of the base element's box: one affine map per (source, element), applied to
  all clicks at once with ``np.take``.
- A click whose element has no match on the base is **unmatched**: counted, its elements
  listed, not drawn (it would land on the wrong thing).
- A click with no element (``target`` -1) falls back to **scaled coordinates**: ``x * base_w /
  source_w`` and ``y * base_h / source_h``; counted as such.
- **Scroll depth and attention** are taken in % of the document height, so a source's depth
  ``d`` becomes ``d * base_h / source_h``.
- **Move maps** only take sessions whose snapshot width is within :data:`MOVE_BAND` (±10 %)
  of the base width (a cursor path is not anchored to elements, so it only transfers between
  near-identical layouts); the sessions left out are counted. Inside the band, positions are
  scaled like clickless points.

The numbers a view shows (the header "1440 px screenshot · 3 sessions: 1×1280, 1×1440,
1×1920", unmatched and fallback counts) are a :class:`Coverage`, computed here once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hindsight.text import plural

#: Move maps use sessions whose snapshot width is within this share of the base width.
MOVE_BAND = 0.10

MATCHED, UNMATCHED, NO_ELEMENT = 0, 1, 2


def element_keys_match(src_selectors, base_selectors) -> np.ndarray:
    """(n_src,) int32: per source element, the index of the base element with the same key, -1 if none."""
    index: dict[str, int] = {}
    for i, s in enumerate(base_selectors):
        index.setdefault(s, i)
    return np.fromiter((index.get(s, -1) for s in src_selectors), dtype=np.int32, count=len(src_selectors))


def anchor_fractions(x: np.ndarray, y: np.ndarray, target: np.ndarray, boxes: np.ndarray):
    """Per click, (fx, fy, has): its offset inside its element's box as fractions 0..1 (float32),
    and whether it has a usable element (``target`` in range, box not empty)."""
    n = len(boxes)
    t = np.asarray(target, dtype=np.int64)
    has = (t >= 0) & (t < n)
    if n == 0:
        z = np.zeros(t.shape, dtype=np.float32)
        return z, z.copy(), has
    b = np.take(np.asarray(boxes, dtype=np.float32), np.where(has, t, 0), axis=0)
    has &= (b[:, 2] > 0) & (b[:, 3] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fx = np.clip((np.asarray(x, np.float32) - b[:, 0]) / b[:, 2], 0.0, 1.0)
        fy = np.clip((np.asarray(y, np.float32) - b[:, 1]) / b[:, 3], 0.0, 1.0)
    fx[~has] = 0.0
    fy[~has] = 0.0
    return fx.astype(np.float32, copy=False), fy.astype(np.float32, copy=False), has


def affine_table(src_boxes, elmap, base_boxes, sx: float, sy: float):
    """Per source element (and one extra row for "no element"), the affine map onto the base.

    Returns (table, base_t, status): ``table`` (8, n + 1) float32 rows ``lo_x, hi_x, a_x, b_x,
    lo_y, hi_y, a_y, b_y`` so that a click ``x`` on element ``i`` is drawn at
    ``b_x + (clip(x, lo_x, hi_x) - lo_x) * a_x`` (the same fraction of the base element's box,
    kept 0.01 px inside it); ``base_t`` (n + 1,) int32 the base element (-1 if none) and
    ``status`` (n + 1,) int8. Elements with no match (or an empty box on the base) are
    UNMATCHED; elements with an empty box on their own snapshot, and the extra row, have
    NO_ELEMENT. Both map by scaled coordinates (``x * sx``, clamped at 0).
    """
    src = np.asarray(src_boxes, dtype=np.float64).reshape(-1, 4)
    base = np.asarray(base_boxes, dtype=np.float64).reshape(-1, 4)
    n = len(src)
    em = np.asarray(elmap, dtype=np.int64)[:n] if n else np.zeros(0, np.int64)
    has = (src[:, 2] > 0) & (src[:, 3] > 0)
    b = base[np.maximum(em, 0)] if len(base) else np.zeros((n, 4))
    m = has & (em >= 0) & (b[:, 2] > 0) & (b[:, 3] > 0)
    table = np.zeros((8, n + 1), dtype=np.float64)
    big = float(np.finfo(np.float32).max)
    table[1], table[2], table[5], table[6] = big, sx, big, sy      # scaled coordinates by default
    ew, eh, bw, bh = src[m, 2], src[m, 3], b[m, 2], b[m, 3]
    idx = np.flatnonzero(m)
    table[0, idx], table[4, idx] = src[m, 0], src[m, 1]
    table[1, idx] = src[m, 0] + ew - 0.01 * ew / bw
    table[5, idx] = src[m, 1] + eh - 0.01 * eh / bh
    table[2, idx], table[6, idx] = bw / ew, bh / eh
    table[3, idx], table[7, idx] = b[m, 0], b[m, 1]
    base_t = np.full(n + 1, -1, dtype=np.int32)
    base_t[idx] = em[m]
    status = np.full(n + 1, NO_ELEMENT, dtype=np.int8)
    status[np.flatnonzero(has & ~m)] = UNMATCHED
    status[idx] = MATCHED
    return table.astype(np.float32), base_t, status


def project_clicks(x, y, target, src_boxes, elmap, base_boxes, sx: float, sy: float):
    """Project one source's clicks onto the base, vectorised: one affine map per element
    (:func:`affine_table`), gathered per click by its ``target`` with ``np.take``.

    elmap : (n_src_elements,) int32 base index per source element (-1: not on the base).
    sx, sy : base/source width and height ratios for clicks with no element.
    Returns (px, py, base_target, status): float32 positions, int32 base element (-1 if none)
    and int8 status (MATCHED, UNMATCHED, NO_ELEMENT). Unmatched clicks keep scaled positions
    but are not meant to be drawn.
    """
    table, bt, st = affine_table(src_boxes, elmap, base_boxes, sx, sy)
    n = table.shape[1] - 1
    t = np.asarray(target).astype(np.intp)
    t[(t < 0) | (t >= n)] = n
    g = np.take(table, t, axis=1)
    px = np.asarray(x).astype(np.float32)
    np.maximum(px, g[0], out=px)
    np.minimum(px, g[1], out=px)
    px -= g[0]
    px *= g[2]
    px += g[3]
    py = np.asarray(y).astype(np.float32)
    np.maximum(py, g[4], out=py)
    np.minimum(py, g[5], out=py)
    py -= g[4]
    py *= g[6]
    py += g[7]
    return px, py, np.take(bt, t), np.take(st, t)


def in_move_band(width: int, base_width: int, band: float = MOVE_BAND) -> bool:
    return abs(int(width) - int(base_width)) <= band * int(base_width)


def move_band_px(base_width: int, band: float = MOVE_BAND) -> tuple[int, int]:
    return int(np.ceil(base_width * (1 - band))), int(np.floor(base_width * (1 + band)))


@dataclass(frozen=True)
class Coverage:
    """What a map on one screenshot includes, computed once for every view.

    widths : ((width, sessions), ...) sessions of the segment per source snapshot width.
    sessions : distinct sessions the map includes (a session seen at two widths counts once).
    matched, unmatched, no_element : clicks of the map's kind (0 for non-click maps).
    unmatched_elements : ((selector, source width, clicks), ...) most clicks first.
    move_left_out : sessions outside the move band (move maps only, else 0).
    """

    snapshot_id: int
    width: int
    device: str
    kind: str
    widths: tuple
    sessions: int = 0
    matched: int = 0
    unmatched: int = 0
    no_element: int = 0
    unmatched_elements: tuple = ()
    move_band: tuple[int, int] = (0, 0)
    move_left_out: int = 0
    move_left_out_widths: tuple = ()

    def header(self) -> str:
        """E.g. ``"1440 px screenshot · 3 sessions: 1×1280, 1×1440, 1×1920"``."""
        parts = ", ".join(f"{n:,}×{w}" for w, n in self.widths if n)
        text = f"{self.width} px screenshot · {plural(self.sessions, 'session')}"
        return f"{text}: {parts}" if parts else text

    def notes(self) -> list[str]:
        """One line each for what the map could not place as recorded (never silent)."""
        out = []
        if self.unmatched:
            els = ", ".join(f"{sel} ({w} px, {n})" for sel, w, n in self.unmatched_elements[:5])
            more = len(self.unmatched_elements) - 5
            out.append(f"{plural(self.unmatched, 'click')} on elements not on this screenshot: {els}"
                       + (f" and {more} more" if more > 0 else ""))
        if self.no_element:
            out.append(f"{plural(self.no_element, 'click')} with no element box: placed by scaled coordinates")
        if self.kind == "move" and self.move_left_out:
            lo, hi = self.move_band
            ws = ", ".join(f"{n:,}×{w}" for w, n in self.move_left_out_widths)
            out.append(f"{plural(self.move_left_out, 'session')} outside {lo}–{hi} px left out of the move map"
                       + (f" ({ws})" if ws else ""))
        return out

    def to_dict(self) -> dict:
        return {"snapshot_id": self.snapshot_id, "width": self.width, "device": self.device,
                "header": self.header(), "sessions": self.sessions,
                "widths": [{"width": w, "sessions": n} for w, n in self.widths],
                "clicks_matched": self.matched, "clicks_unmatched": self.unmatched,
                "clicks_no_element": self.no_element,
                "unmatched_elements": [{"selector": s, "width": w, "clicks": n}
                                       for s, w, n in self.unmatched_elements],
                "move_band": list(self.move_band), "move_sessions_left_out": self.move_left_out,
                "notes": self.notes()}

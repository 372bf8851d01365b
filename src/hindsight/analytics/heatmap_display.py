"""How a heatmap is coloured on screen and in exported images: one scale for every view.

The Heatmap tab, the replay overlay and ``hindsight heatmap`` PNGs all colour a map with
:func:`display_scale`, so the same click map reads the same everywhere (napari keeps a
layer's contrast limits on the model for the same reason). Only the colour scale is
chosen here; the grid values are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hindsight.analytics.heatmap_color import diverging_lut, heat_lut

#: Blurred maps colour up to this percentile of their visible cells, not their single hottest
#: cell: a small, dense target (a button) would otherwise push a large, busy one (an image)
#: into faint green although it has more clicks. The hottest 2 % of the area shows at full heat.
DISPLAY_PERCENTILE = 98.0
#: Cells below this share of the peak are the blur's faint tails, not "visible" heat.
VISIBLE_SHARE = 0.01
#: The top of the scale is never below this share of the peak: a map of scattered single
#: clicks stays honest.
MIN_TOP_SHARE = 1.0 / 3.0
BLURRED_KINDS = ("click", "rage", "dead", "move")


@dataclass(frozen=True, eq=False)
class DisplayScale:
    """The colour scale of a shown map.

    levels : (low, high) values mapped to the first and last LUT entries; ``high > low``
        always (a flat map gets ``(low, low + 1)``), ready for ``ImageItem.setImage(levels=...)``.
    lut : (256, 4) uint8 RGBA lookup table.
    peak : the largest value of the map (the legend names it when the scale is cut below).
    """

    levels: tuple[float, float]
    lut: np.ndarray
    peak: float


def _usable(lo: float, hi: float) -> tuple[float, float]:
    return (float(lo), float(hi) if hi > lo else float(lo) + 1.0)


def display_levels(kind: str, grid: np.ndarray, levels: tuple[float, float]) -> tuple[float, float]:
    """(low, high) to colour a ``kind`` map's ``grid`` whose value range is ``levels``.

    Scroll and attention maps keep their own levels (a share in %, seconds in view); blurred
    maps (click, rage, dead, move) top out at the 98th percentile of their visible cells,
    but never below a third of the peak. Not made usable for flat maps (see :func:`display_scale`).
    """
    lo, hi = float(levels[0]), float(levels[1])
    if kind not in BLURRED_KINDS or grid.size == 0 or not hi > lo:
        return (lo, hi)
    # "Visible" cells: the blur's faint tails around every point would drag a plain
    # percentile of all non-zero cells down to nothing.
    seen = grid[grid > hi * VISIBLE_SHARE]
    top = float(np.percentile(seen, DISPLAY_PERCENTILE)) if seen.size else hi
    return (lo, float(min(hi, max(top, hi * MIN_TOP_SHARE))))


def display_scale(result) -> DisplayScale:
    """The colour scale of a ``HeatmapResult`` (heat LUT) or ``CompareResult`` (diverging LUT,
    symmetric levels)."""
    from hindsight.analytics.heatmap import CompareResult

    if isinstance(result, CompareResult):   # A − B around a transparent zero
        lo, hi = result.levels
        return DisplayScale(_usable(lo, hi), diverging_lut(), float(hi))
    lo, hi = display_levels(result.kind, result.grid, result.levels)
    return DisplayScale(_usable(lo, hi), heat_lut(), float(result.levels[1]))


def side_by_side_scale(grid_a: np.ndarray, grid_b: np.ndarray) -> DisplayScale:
    """One heat scale for two maps shown next to each other (compare mode, A | B)."""
    top = float(max(grid_a.max(initial=0.0), grid_b.max(initial=0.0)))
    return DisplayScale(_usable(0.0, top), heat_lut(), top)

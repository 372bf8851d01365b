"""Heatmap colouring: 256-entry RGBA lookup tables and compositing an overlay over a screenshot.

Index 0 of the sequential table is fully transparent, so cells nobody touched leave the page
visible; higher values go blue → green → yellow → red with rising alpha. The diverging
table (compare mode) is transparent in the middle, blue below, red above. The GUI hands the
same tables to pyqtgraph (``ImageItem.setLookupTable``), so export and screen agree.
"""

from __future__ import annotations

import numpy as np

#: (position 0..1, (r, g, b), alpha 0..255) stops of the sequential table.
HEAT_STOPS = (
    (0.00, (40, 60, 255), 0),
    (0.08, (30, 90, 255), 90),
    (0.30, (0, 200, 170), 150),
    (0.50, (90, 220, 40), 180),
    (0.70, (255, 225, 0), 205),
    (0.85, (255, 130, 0), 220),
    (1.00, (220, 20, 20), 235),
)
DIVERGING_STOPS = (
    (0.00, (33, 80, 200), 230),
    (0.35, (80, 150, 240), 150),
    (0.50, (255, 255, 255), 0),
    (0.65, (250, 140, 90), 150),
    (1.00, (200, 20, 30), 230),
)


def _lut_from_stops(stops) -> np.ndarray:
    pos = np.array([s[0] for s in stops])
    rgb = np.array([s[1] for s in stops], dtype=np.float64)
    alpha = np.array([s[2] for s in stops], dtype=np.float64)
    v = np.linspace(0.0, 1.0, 256)
    lut = np.empty((256, 4), dtype=np.uint8)
    for c in range(3):
        lut[:, c] = np.round(np.interp(v, pos, rgb[:, c]))
    lut[:, 3] = np.round(np.interp(v, pos, alpha))
    return lut


def heat_lut() -> np.ndarray:
    """(256, 4) uint8 RGBA: transparent at 0, then blue → green → yellow → red, alpha rising."""
    lut = _lut_from_stops(HEAT_STOPS)
    lut[0] = (0, 0, 0, 0)
    return lut


def diverging_lut() -> np.ndarray:
    """(256, 4) uint8 RGBA for differences: blue (B more) ← transparent → red (A more)."""
    return _lut_from_stops(DIVERGING_STOPS)


def to_indices(grid: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """Map values to LUT indices 0..255 linearly over ``levels`` (clipped). Returns uint8, same shape.

    Any value above ``levels[0]`` gets index ≥ 1, so a cell with a little activity never
    vanishes into the transparent index 0.
    """
    return _scaled(grid, levels).astype(np.uint8)


def _scaled(grid: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """float32 ``ceil((grid - lo) * 255 / (hi - lo))`` clipped to 0..255: one buffer, in place."""
    lo, hi = float(levels[0]), float(levels[1])
    g = np.asarray(grid, dtype=np.float32)
    if hi <= lo:
        return np.zeros(g.shape, dtype=np.float32)
    scaled = np.subtract(g, lo, dtype=np.float32)
    scaled *= 255.0 / (hi - lo)
    np.ceil(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled


def colorize(grid: np.ndarray, levels: tuple[float, float], lut: np.ndarray | None = None) -> np.ndarray:
    """(h, w) values → (h, w, 4) uint8 RGBA through a LUT (default :func:`heat_lut`)."""
    lut = heat_lut() if lut is None else lut
    scaled = _scaled(grid, levels)
    # Straight to intp (what the gather takes) rather than through uint8 and a second cast.
    # NaN (a NaN weight) becomes a huge negative index; "clip" makes it 0, as the uint8 cast does.
    return _apply_lut(lut, scaled.astype(np.intp), mode="clip")


def _apply_lut(lut: np.ndarray, idx: np.ndarray, mode: str = "raise") -> np.ndarray:
    # One 32-bit gather per pixel instead of four byte gathers.
    packed = np.ascontiguousarray(lut, dtype=np.uint8).view(np.uint32).ravel()
    return np.take(packed, idx, mode=mode).view(np.uint8).reshape(idx.shape + (4,))


def _resize_float(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float grid to ``size`` = (w, h) pixels (Pillow, mode F)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(grid, dtype=np.float32))  # float32 -> mode "F"
    return np.asarray(img.resize(size, Image.BILINEAR), dtype=np.float32)


def composite(
    screenshot: np.ndarray,
    grid: np.ndarray,
    rect: tuple[float, float, float, float],
    levels: tuple[float, float],
    lut: np.ndarray | None = None,
    opacity: float = 0.6,
    scale: float = 1.0,
) -> np.ndarray:
    """The coloured overlay blended over a screenshot, for export.

    Parameters
    ----------
    screenshot : (H, W, 3 or 4) uint8, image px.
    grid : (gh, gw) float values covering ``rect``.
    rect : (x, y, w, h) the grid covers, in CSS px.
    levels : (low, high) value range of the LUT.
    lut : (256, 4) uint8 RGBA; default :func:`heat_lut`.
    opacity : 0..1, multiplies the LUT alpha.
    scale : image px per CSS px of the screenshot.

    Returns
    -------
    (H, W, 4) uint8 RGBA.
    """
    from PIL import Image

    base = np.asarray(screenshot, dtype=np.uint8)
    if base.ndim == 2:
        base = np.repeat(base[:, :, None], 3, axis=2)
    H, W = base.shape[:2]
    page = Image.fromarray(np.ascontiguousarray(base)).convert("RGBA")
    x0, y0, w, h = (int(round(v * scale)) for v in rect)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if w <= 0 or h <= 0 or xb <= xa or yb <= ya:
        return np.asarray(page)
    # The grid may extend past the page (whole cells): crop to the image after resizing.
    values = _resize_float(grid, (w, h))[ya - y0:yb - y0, xa - x0:xb - x0]
    lut = (heat_lut() if lut is None else lut).copy()
    lut[:, 3] = np.round(lut[:, 3] * float(np.clip(opacity, 0.0, 1.0))).astype(np.uint8)
    overlay = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    overlay.paste(Image.fromarray(_apply_lut(lut, to_indices(values, levels))), (xa, ya))
    return np.asarray(Image.alpha_composite(page, overlay))

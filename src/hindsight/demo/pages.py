"""The two demo web pages (a SaaS landing page and its signup page), laid out and drawn.

``layout_page(page, device)`` returns a :class:`PageLayout`: the full-page element map
(document CSS pixels) of one page on one device class.  ``render_page(layout, scale)``
draws the full-page screenshot that goes with it as an RGB ``numpy`` array.

Exactness: the layout pass and the drawing share one source of truth.  While laying out,
every element is recorded together with a *draw op* that references the element's box by
index; the renderer only ever draws an element's op inside that element's box (scaled).
Nothing is positioned twice, so every box in the map is exactly where the thing is drawn.
The few purely decorative ops (hero glow, divider lines, mock-up internals) are drawn inside
the box of the element that owns them.

Qt-free: numpy + Pillow only.  Fonts are DejaVu Sans / DejaVu Sans Bold when present.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "DEVICE_WIDTHS",
    "VIEWPORT_HEIGHTS",
    "PAGES",
    "Element",
    "PageLayout",
    "layout_page",
    "render_page",
]

DEVICE_WIDTHS = {"desktop": 1440, "tablet": 768, "mobile": 390}
VIEWPORT_HEIGHTS = {"desktop": 900, "tablet": 1024, "mobile": 844}
PAGES = {
    "landing": ("https://demo.hindsight.local/", "Acme Flow — automate your workflow"),
    "signup": ("https://demo.hindsight.local/signup", "Sign up — Acme Flow"),
}


# --------------------------------------------------------------------------------------
# Public data model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of a page's element map (document CSS px, top-left origin)."""

    selector: str
    tag: str
    role: str
    label: str
    x: int
    y: int
    w: int
    h: int
    clickable: bool
    field: str | None
    sensitive: bool
    form: str | None
    href: str | None

    @property
    def cx(self) -> float:
        return self.x + self.w / 2.0

    @property
    def cy(self) -> float:
        return self.y + self.h / 2.0

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h


@dataclass(frozen=True)
class PageLayout:
    """Element map of one page on one device class; elements in document order."""

    page: str
    url: str
    title: str
    device: str
    width: int
    height: int
    elements: tuple[Element, ...]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {e.selector: i for i, e in enumerate(self.elements)}

    @cached_property
    def _boxes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.elements)
        x0 = np.fromiter((e.x for e in self.elements), float, n)
        y0 = np.fromiter((e.y for e in self.elements), float, n)
        w = np.fromiter((e.w for e in self.elements), float, n)
        h = np.fromiter((e.h for e in self.elements), float, n)
        return x0, y0, x0 + w, y0 + h, w * h

    def element(self, selector: str) -> Element:
        """The element with this selector; ``KeyError`` if the page has none."""
        return self.elements[self._index[selector]]

    def index(self, selector: str) -> int:
        """Index of the element with this selector; ``KeyError`` if absent."""
        return self._index[selector]

    def hit(self, x: float, y: float) -> int:
        """Index of the innermost (smallest-area) element containing the point, -1 if none.

        Boxes are half-open (``x <= px < x + w``).  Equal areas resolve to the later
        element in document order (the deeper one).
        """
        if not self.elements:
            return -1
        x0, y0, x1, y1, area = self._boxes
        inside = np.flatnonzero((x0 <= x) & (x < x1) & (y0 <= y) & (y < y1))
        if inside.size == 0:
            return -1
        a = area[inside]
        return int(inside[np.flatnonzero(a == a.min())[-1]])


# --------------------------------------------------------------------------------------
# Palette
# --------------------------------------------------------------------------------------

WHITE = (255, 255, 255)
INDIGO = (79, 70, 229)
INDIGO_600 = (79, 70, 229)
INDIGO_700 = (67, 56, 202)
INDIGO_800 = (55, 48, 163)
INDIGO_900 = (49, 46, 129)
INDIGO_950 = (30, 27, 75)
INDIGO_50 = (238, 242, 255)
INDIGO_100 = (224, 231, 255)
INDIGO_200 = (199, 210, 254)
VIOLET = (124, 58, 237)
SLATE_900 = (15, 23, 42)
SLATE_800 = (30, 41, 59)
SLATE_700 = (51, 65, 85)
SLATE_600 = (71, 85, 105)
SLATE_500 = (100, 116, 139)
SLATE_400 = (148, 163, 184)
SLATE_300 = (203, 213, 225)
SLATE_200 = (226, 232, 240)
SLATE_100 = (241, 245, 249)
SLATE_50 = (248, 250, 252)
AMBER = (251, 191, 36)
AMBER_300 = (252, 211, 77)
GREEN = (16, 185, 129)
GREEN_50 = (236, 253, 245)
GREEN_700 = (4, 120, 87)
RED = (220, 38, 38)
RED_400 = (248, 113, 113)
ROSE_50 = (255, 241, 242)
BLUE_LINK = (37, 99, 235)
SKY = (14, 165, 233)
ORANGE = (249, 115, 22)
PINK = (236, 72, 153)

PAGE_BG = WHITE

# --------------------------------------------------------------------------------------
# Fonts and text measurement
# --------------------------------------------------------------------------------------

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu")


@lru_cache(maxsize=None)
def _font_path(bold: bool) -> str | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in _FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


@lru_cache(maxsize=512)
def _font(bold: bool, size: int) -> Any:
    size = max(1, int(size))
    path = _font_path(bold)
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=8192)
def _tw(text: str, bold: bool, size: int) -> float:
    """Advance width of ``text`` in CSS px at font size ``size``."""
    return float(_font(bold, size).getlength(text))


@lru_cache(maxsize=2048)
def _wrap(text: str, bold: bool, size: int, maxw: float) -> tuple[str, ...]:
    """Greedy word wrap; explicit newlines force breaks."""
    out: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            cand = word if not cur else cur + " " + word
            if not cur or _tw(cand, bold, size) <= maxw:
                cur = cand
            else:
                out.append(cur)
                cur = word
        out.append(cur)
    return tuple(out) if out else ("",)


# --------------------------------------------------------------------------------------
# Anti-aliased shape masks and icons
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _corner(r: int) -> np.ndarray:
    c = np.arange(r, dtype=np.float32) + 0.5
    dx = r - c[None, :]
    dy = r - c[:, None]
    cov = np.clip(r - np.sqrt(dx * dx + dy * dy) + 0.5, 0.0, 1.0)
    return (cov * 255.0 + 0.5).astype(np.uint8)


@lru_cache(maxsize=256)
def _rr_mask(w: int, h: int, r: int) -> Image.Image:
    w = max(1, w)
    h = max(1, h)
    r = max(0, min(r, w // 2, h // 2))
    a = np.full((h, w), 255, np.uint8)
    if r > 0:
        c = _corner(r)
        a[:r, :r] = c
        a[:r, w - r:] = c[:, ::-1]
        a[h - r:, :r] = c[::-1, :]
        a[h - r:, w - r:] = c[::-1, ::-1]
    return Image.fromarray(a, "L")


@lru_cache(maxsize=256)
def _corner_masks(r: int) -> tuple[Image.Image, Image.Image, Image.Image, Image.Image]:
    c = _corner(r)
    return tuple(Image.fromarray(np.ascontiguousarray(a), "L")  # type: ignore[return-value]
                 for a in (c, c[:, ::-1], c[::-1, :], c[::-1, ::-1]))


@lru_cache(maxsize=64)
def _shadow_mask(w: int, h: int, r: int, layers: tuple) -> tuple[Image.Image, int, int]:
    """Merged mask of translucent offset rounded-rect layers; returns (mask, card_x, card_y)."""
    ox = max(g for g, _dy, _a in layers)
    oy = max(0, max(g - dy for g, dy, _a in layers))
    H2 = h + oy + max(g + dy for g, dy, _a in layers)
    W2 = w + 2 * ox
    keep = np.ones((H2, W2), np.float32)
    for g, dy, a in layers:
        m = np.asarray(_rr_mask.__wrapped__(w + 2 * g, h + 2 * g, r + g), np.float32) * (a / 255.0)
        yy, xx = oy - g + dy, ox - g
        keep[yy:yy + h + 2 * g, xx:xx + w + 2 * g] *= 1.0 - m
    return Image.fromarray(((1.0 - keep) * 255.0 + 0.5).astype(np.uint8), "L"), ox, oy


@lru_cache(maxsize=256)
def _alpha_lut(alpha: float) -> list[int]:
    return [int(v * alpha + 0.5) for v in range(256)]


def _mix(c1: tuple[int, int, int], c2: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(a + (b - a) * t)) for a, b in zip(c1, c2))  # type: ignore[return-value]


_SS = 4  # icon supersampling factor


def _pts(pts: list[tuple[float, float]], n: int) -> list[tuple[float, float]]:
    return [(x * n, y * n) for x, y in pts]


def _poly_line(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], n: int, width: float, fill: Any) -> None:
    p = _pts(pts, n)
    wpx = max(1, int(round(width * n)))
    d.line(p, fill=fill, width=wpx, joint="curve")
    r = wpx / 2.0
    for x, y in (p[0], p[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=fill)


_STAR = [
    (0.5 + 0.48 * math.cos(math.radians(-90 + 36 * k)) * (1.0 if k % 2 == 0 else 0.45),
     0.53 + 0.48 * math.sin(math.radians(-90 + 36 * k)) * (1.0 if k % 2 == 0 else 0.45))
    for k in range(10)
]


@lru_cache(maxsize=512)
def _icon(name: str, size: int, fg: tuple, bg: tuple | None, radius: float) -> Image.Image:
    """RGBA icon drawn supersampled and downsampled (anti-aliased). ``radius``: bg corner ratio."""
    size = max(1, size)
    n = size * _SS
    im = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    if bg is not None:
        if radius >= 0.5:
            d.ellipse((0, 0, n - 1, n - 1), fill=bg)
        else:
            d.rounded_rectangle((0, 0, n - 1, n - 1), radius=int(radius * n), fill=bg)
    if name == "check":
        _poly_line(d, [(0.27, 0.52), (0.44, 0.68), (0.74, 0.36)], n, 0.1, fg)
    elif name == "check_bold":
        _poly_line(d, [(0.24, 0.52), (0.43, 0.7), (0.77, 0.33)], n, 0.14, fg)
    elif name == "bolt":
        d.polygon(_pts([(0.56, 0.18), (0.3, 0.55), (0.49, 0.55), (0.43, 0.83), (0.71, 0.44),
                        (0.52, 0.44), (0.58, 0.18)], n), fill=fg)
    elif name == "chart":
        for x0, top in ((0.27, 0.52), (0.44, 0.36), (0.61, 0.24)):
            d.rounded_rectangle(_flat(_pts([(x0, top), (x0 + 0.12, 0.74)], n)), radius=int(0.03 * n), fill=fg)
        _poly_line(d, [(0.24, 0.78), (0.76, 0.78)], n, 0.05, fg)
    elif name == "shield":
        d.polygon(_pts([(0.5, 0.18), (0.76, 0.28), (0.74, 0.52), (0.64, 0.7), (0.5, 0.82),
                        (0.36, 0.7), (0.26, 0.52), (0.24, 0.28)], n), fill=fg)
        _poly_line(d, [(0.39, 0.5), (0.47, 0.58), (0.62, 0.42)], n, 0.07, bg if bg else (255, 255, 255, 255))
    elif name == "star":
        d.polygon(_pts(_STAR, n), fill=fg)
    elif name == "play":
        d.polygon(_pts([(0.38, 0.28), (0.38, 0.72), (0.74, 0.5)], n), fill=fg)
    elif name == "plus":
        _poly_line(d, [(0.3, 0.5), (0.7, 0.5)], n, 0.09, fg)
        _poly_line(d, [(0.5, 0.3), (0.5, 0.7)], n, 0.09, fg)
    elif name == "minus":
        _poly_line(d, [(0.3, 0.5), (0.7, 0.5)], n, 0.09, fg)
    elif name == "chevron":
        _poly_line(d, [(0.3, 0.4), (0.5, 0.6), (0.7, 0.4)], n, 0.09, fg)
    elif name == "menu":
        for yy in (0.3, 0.5, 0.7):
            _poly_line(d, [(0.2, yy), (0.8, yy)], n, 0.08, fg)
    elif name == "arrow":
        _poly_line(d, [(0.2, 0.5), (0.78, 0.5)], n, 0.09, fg)
        _poly_line(d, [(0.55, 0.27), (0.78, 0.5), (0.55, 0.73)], n, 0.09, fg)
    elif name == "logo":
        _poly_line(d, [(0.22, 0.64), (0.4, 0.38), (0.6, 0.62), (0.78, 0.36)], n, 0.12, fg)
    elif name == "google":
        # four-colour ring "G"
        w = int(0.16 * n)
        box = _flat(_pts([(0.14, 0.14), (0.86, 0.86)], n))
        d.arc(box, 200, 270, fill=(234, 67, 53), width=w)
        d.arc(box, 270, 330, fill=(234, 67, 53), width=w)
        d.arc(box, 120, 200, fill=(251, 188, 5), width=w)
        d.arc(box, 20, 120, fill=(52, 168, 83), width=w)
        d.arc(box, 0, 20, fill=(66, 133, 244), width=w)
        d.rectangle(_flat(_pts([(0.5, 0.43), (0.86, 0.57)], n)), fill=(66, 133, 244))
    elif name == "lock":
        d.rounded_rectangle(_flat(_pts([(0.26, 0.46), (0.74, 0.82)], n)), radius=int(0.06 * n), fill=fg)
        d.arc(_flat(_pts([(0.34, 0.2), (0.66, 0.62)], n)), 180, 360, fill=fg, width=max(1, int(0.08 * n)))
        d.line(_pts([(0.34, 0.41), (0.34, 0.48)], n), fill=fg, width=max(1, int(0.08 * n)))
        d.line(_pts([(0.66, 0.41), (0.66, 0.48)], n), fill=fg, width=max(1, int(0.08 * n)))
    elif name == "dot":
        d.ellipse(_flat(_pts([(0.25, 0.25), (0.75, 0.75)], n)), fill=fg)
    return im.resize((size, size), Image.LANCZOS)


def _flat(p: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = p
    return (x0, y0, x1, y1)


# --------------------------------------------------------------------------------------
# Canvas: scaled drawing primitives
# --------------------------------------------------------------------------------------


class _Canvas:
    def __init__(self, width: int, height: int, scale: float) -> None:
        self.s = float(scale)
        self.W = max(1, int(round(width * self.s)))
        self.H = max(1, int(round(height * self.s)))
        self.img = Image.new("RGB", (self.W, self.H), PAGE_BG)
        self.d = ImageDraw.Draw(self.img)

    # geometry ------------------------------------------------------------------------
    def sb(self, x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
        """Scaled integer box (x0, y0, w, h) for a CSS box."""
        s = self.s
        x0 = int(round(x * s))
        y0 = int(round(y * s))
        return x0, y0, max(1, int(round((x + w) * s)) - x0), max(1, int(round((y + h) * s)) - y0)

    def px(self, v: float) -> int:
        return int(round(v * self.s))

    # shapes ---------------------------------------------------------------------------
    def _paste(self, fill: Any, x0: int, y0: int, mask: Image.Image, alpha: float) -> None:
        if alpha < 1.0:
            mask = mask.point(_alpha_lut(round(alpha, 3)))
        if isinstance(fill, Image.Image):
            if fill.size != mask.size:
                fill = fill.resize(mask.size)
            self.img.paste(fill, (x0, y0), mask)
        else:
            self.img.paste(fill, (x0, y0, x0 + mask.width, y0 + mask.height), mask)

    def _solid_rr(self, fill: Any, x0: int, y0: int, w: int, h: int, r: int) -> None:
        """Opaque rounded rect: plain fills for the body, masked pastes only at the corners."""
        r = max(0, min(r, w // 2, h // 2))
        img = self.img
        if isinstance(fill, Image.Image):
            if fill.size != (w, h):
                fill = fill.resize((w, h))
            if r == 0:
                img.paste(fill, (x0, y0))
                return
            if w - 2 * r > 0:
                img.paste(fill.crop((r, 0, w - r, h)), (x0 + r, y0))
            if h - 2 * r > 0:
                img.paste(fill.crop((0, r, r, h - r)), (x0, y0 + r))
                img.paste(fill.crop((w - r, r, w, h - r)), (x0 + w - r, y0 + r))
            for (cx, cy), m in zip(((0, 0), (w - r, 0), (0, h - r), (w - r, h - r)), _corner_masks(r)):
                img.paste(fill.crop((cx, cy, cx + r, cy + r)), (x0 + cx, y0 + cy), m)
            return
        d = self.d
        if w - 2 * r > 0:
            d.rectangle((x0 + r, y0, x0 + w - r - 1, y0 + h - 1), fill=fill)
        if h - 2 * r > 0:
            d.rectangle((x0, y0 + r, x0 + w - 1, y0 + h - r - 1), fill=fill)
        if r > 0:
            for (cx, cy), m in zip(((0, 0), (w - r, 0), (0, h - r), (w - r, h - r)), _corner_masks(r)):
                img.paste(fill, (x0 + cx, y0 + cy, x0 + cx + r, y0 + cy + r), m)

    def rr(self, box: tuple, r: float, fill: Any, *, alpha: float = 1.0, outline: Any = None,
           ow: float = 1.0) -> None:
        """Anti-aliased rounded rectangle in CSS coordinates (``fill`` may be an Image)."""
        x0, y0, w, h = self.sb(*box)
        rs = int(round(r * self.s))
        opaque = alpha >= 1.0
        if outline is not None:
            bw = max(1, int(round(ow * self.s)))
            if opaque:
                self._solid_rr(outline, x0, y0, w, h, rs)
            else:
                self._paste(outline, x0, y0, _rr_mask(w, h, rs), alpha)
            if w > 2 * bw and h > 2 * bw and fill is not None:
                if isinstance(fill, Image.Image):
                    if fill.size != (w, h):
                        fill = fill.resize((w, h))
                    fill = fill.crop((bw, bw, w - bw, h - bw))
                if opaque:
                    self._solid_rr(fill, x0 + bw, y0 + bw, w - 2 * bw, h - 2 * bw, max(0, rs - bw))
                else:
                    self._paste(fill, x0 + bw, y0 + bw, _rr_mask(w - 2 * bw, h - 2 * bw, max(0, rs - bw)), alpha)
        elif fill is not None:
            if opaque:
                self._solid_rr(fill, x0, y0, w, h, rs)
            else:
                self._paste(fill, x0, y0, _rr_mask(w, h, rs), alpha)

    def ring(self, box: tuple, r: float, color: tuple, ow: float = 1.0, alpha: float = 1.0) -> None:
        """Anti-aliased rounded-rectangle outline only (the inside is left untouched)."""
        x0, y0, w, h = self.sb(*box)
        rs = int(round(r * self.s))
        bw = max(1, int(round(ow * self.s)))
        outer = np.asarray(_rr_mask(w, h, rs), np.int16).copy()
        if w > 2 * bw and h > 2 * bw:
            inner = np.asarray(_rr_mask(w - 2 * bw, h - 2 * bw, max(0, rs - bw)), np.int16)
            outer[bw:h - bw, bw:w - bw] -= inner
        m = Image.fromarray(np.clip(outer, 0, 255).astype(np.uint8), "L")
        self._paste(color, x0, y0, m, alpha)

    def circle(self, cx: float, cy: float, r: float, fill: Any, alpha: float = 1.0) -> None:
        x0, y0, w, h = self.sb(cx - r, cy - r, 2 * r, 2 * r)
        d = min(w, h)
        self._paste(fill, x0, y0, _rr_mask(d, d, d // 2 + 1), alpha)

    def shadow(self, box: tuple, r: float, strength: float = 1.0, dark: tuple = SLATE_900,
               layers: tuple = ((0, 1, 0.07), (1, 2, 0.05), (3, 5, 0.035), (6, 10, 0.02))) -> None:
        """Soft drop shadow under a card that is drawn opaque on top of it right after.

        The layers are merged into one cached mask and only the bands that stay visible
        around the card are blended (the card hides the rest).
        """
        x0, y0, w, h = self.sb(*box)
        rs = max(0, min(int(round(r * self.s)), w // 2, h // 2))
        sl = tuple((int(round(g * self.s)), int(round(dy * self.s)), round(a * strength, 4)) for g, dy, a in layers)
        mask, ox, oy = _shadow_mask(w, h, rs, sl)
        W2, H2 = mask.size
        bx, by = x0 - ox, y0 - oy
        top, bot = oy + rs + 1, oy + h - rs - 1
        left, right = ox + rs + 1, ox + w - rs - 1
        strips = [(0, 0, W2, top), (0, bot, W2, H2)]
        if bot > top:
            strips += [(0, top, left, bot), (right, top, W2, bot)]
        for sx0, sy0, sx1, sy1 in strips:
            if sx1 > sx0 and sy1 > sy0:
                m = mask.crop((sx0, sy0, sx1, sy1))
                self.img.paste(dark, (bx + sx0, by + sy0, bx + sx1, by + sy1), m)

    def gradient(self, w: int, h: int, c1: tuple, c2: tuple, diag: float = 0.35) -> Image.Image:
        """Diagonal linear gradient image (scaled pixel size)."""
        return _gradient_img(w, h, c1, c2, diag)

    def line(self, x0: float, y0: float, x1: float, y1: float, fill: tuple, width: float = 1.0) -> None:
        self.d.line((self.px(x0), self.px(y0), self.px(x1), self.px(y1)), fill=fill,
                    width=max(1, int(round(width * self.s))))

    def hline(self, x: float, y: float, w: float, fill: tuple, t: float = 1.0) -> None:
        x0, y0, ww, hh = self.sb(x, y, w, t)
        self.d.rectangle((x0, y0, x0 + ww - 1, y0 + hh - 1), fill=fill)

    def rect(self, box: tuple, fill: tuple) -> None:
        x0, y0, w, h = self.sb(*box)
        self.d.rectangle((x0, y0, x0 + w - 1, y0 + h - 1), fill=fill)

    def icon(self, name: str, x: float, y: float, size: float, fg: tuple, bg: tuple | None = None,
             radius: float = 0.25) -> None:
        x0, y0, w, h = self.sb(x, y, size, size)
        n = min(w, h)
        if n < 2:
            return
        im = _icon(name, n, _rgba(fg), _rgba(bg) if bg is not None else None, radius)
        self.img.paste(im, (x0, y0), im)

    # text -----------------------------------------------------------------------------
    def text_line(self, s: str, x: float, y_top: float, lh: float, size: float, bold: bool,
                  color: tuple, *, align: str = "left", w: float = 0.0, underline: bool = False) -> None:
        """One line of text in CSS coords; vertically centred (cap-height) in [y_top, y_top+lh)."""
        fs = max(1, int(round(size * self.s)))
        f = _font(bold, fs)
        base = (y_top + lh / 2.0) * self.s + 0.36 * fs
        if align == "left":
            xs = x * self.s
        else:
            lw = f.getlength(s)
            xs = (x + w / 2.0) * self.s - lw / 2.0 if align == "center" else (x + w) * self.s - lw
        self.d.text((xs, base), s, font=f, fill=color, anchor="ls")
        if underline:
            lw = f.getlength(s)
            t = max(1, int(round(fs / 14)))
            uy = int(round(base + 0.14 * fs))
            self.d.rectangle((int(xs), uy, int(xs + lw), uy + t - 1), fill=color)

    def text_block(self, lines: tuple[str, ...], box: tuple, lh: float, size: float, bold: bool,
                   color: tuple, align: str = "left", underline: bool = False) -> None:
        x, y, w, _h = box
        for i, s in enumerate(lines):
            self.text_line(s, x, y + i * lh, lh, size, bold, color, align=align, w=w, underline=underline)

    def small_text(self, s: str, x: float, y_top: float, lh: float, size: float, bold: bool, color: tuple,
                   maxw: float, align: str = "left") -> None:
        """Mock-up text: real text if legible at this scale, else a rounded grey bar."""
        if size * self.s >= 6.5:
            # truncate to fit maxw
            while s and _tw(s, bold, max(1, int(round(size)))) > maxw:
                s = s[:-1]
            self.text_line(s, x, y_top, lh, size, bold, color, align=align, w=maxw)
        else:
            bw = min(maxw, _tw(s, bold, max(1, int(round(size)))))
            bh = max(1.0, size * 0.55)
            bx = x if align == "left" else (x + (maxw - bw) / 2 if align == "center" else x + maxw - bw)
            self.rr((bx, y_top + (lh - bh) / 2, bw, bh), bh / 2, color, alpha=0.55)


def _rgba(c: tuple) -> tuple:
    return tuple(c) + (255,) if len(c) == 3 else tuple(c)


@lru_cache(maxsize=64)
def _gradient_img(w: int, h: int, c1: tuple, c2: tuple, diag: float) -> Image.Image:
    xs = np.linspace(0.0, 1.0, max(1, w), dtype=np.float32)[None, :]
    ys = np.linspace(0.0, 1.0, max(1, h), dtype=np.float32)[:, None]
    t = np.clip((1.0 - diag) * xs + diag * ys, 0.0, 1.0)
    a = np.asarray(c1, np.float32)
    b = np.asarray(c2, np.float32)
    arr = a[None, None, :] + (b - a)[None, None, :] * t[..., None]
    return Image.fromarray((arr + 0.5).astype(np.uint8), "RGB")


# --------------------------------------------------------------------------------------
# Layout builder
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dev:
    name: str
    W: int
    m: int          # side margin
    nav_h: int
    pad: int        # section vertical padding
    h1: int
    h2: int
    h3: int
    body: int
    lead: int
    small: int
    gap: int
    btn_h: int

    @property
    def cw(self) -> int:
        return self.W - 2 * self.m


_DEV = {
    "desktop": _Dev("desktop", 1440, 120, 72, 80, 54, 40, 20, 17, 20, 14, 32, 56),
    "tablet": _Dev("tablet", 768, 48, 68, 80, 46, 34, 20, 17, 19, 14, 24, 54),
    "mobile": _Dev("mobile", 390, 24, 64, 64, 36, 28, 19, 16, 17, 14, 20, 52),
}


class _Builder:
    """Collects elements (mutable while laying out) and the draw ops bound to them."""

    def __init__(self, page: str, dev: _Dev) -> None:
        self.page = page
        self.dev = dev
        self.els: list[dict[str, Any]] = []
        self.ops: list[tuple[int, str, dict[str, Any]]] = []
        self._sel: set[str] = set()

    def add(self, selector: str, tag: str, role: str, label: str, x: float, y: float, w: float, h: float,
            *, clickable: bool = False, field: str | None = None, sensitive: bool = False,
            form: str | None = None, href: str | None = None, draw: str | None = None, **params: Any) -> int:
        if selector in self._sel:
            raise ValueError(f"duplicate selector {selector!r}")
        self._sel.add(selector)
        idx = len(self.els)
        self.els.append(dict(selector=selector, tag=tag, role=role, label=label,
                             x=int(round(x)), y=int(round(y)), w=int(round(w)), h=int(round(h)),
                             clickable=clickable, field=field, sensitive=sensitive, form=form, href=href))
        if draw is not None:
            self.ops.append((idx, draw, params))
        return idx

    def set_h(self, idx: int, h: float) -> None:
        self.els[idx]["h"] = int(round(h))

    def set_bottom(self, idx: int, bottom: float) -> None:
        self.els[idx]["h"] = int(round(bottom)) - self.els[idx]["y"]

    def bottom(self, idx: int) -> int:
        e = self.els[idx]
        return e["y"] + e["h"]

    def right(self, idx: int) -> int:
        e = self.els[idx]
        return e["x"] + e["w"]

    # composite helpers ------------------------------------------------------------------
    def text(self, selector: str, tag: str, text: str, x: float, y: float, maxw: float, size: int, *,
             bold: bool = False, color: tuple = SLATE_900, lh: float | None = None, align: str = "left",
             role: str = "text", label: str | None = None, clickable: bool = False,
             href: str | None = None, underline: bool = False, balance: bool = False) -> int:
        """A wrapped text block whose box hugs the text (width = widest line).

        ``balance``: like CSS ``text-wrap: balance`` — the narrowest width that keeps the
        same number of lines, so the last line is not a lonely orphan.
        """
        lh = float(lh if lh is not None else round(size * 1.5))
        lines = _wrap(text, bold, size, float(maxw))
        if balance and len(lines) > 1:
            lo, hi = float(maxw) / len(lines), float(maxw)
            for _ in range(12):
                mid = (lo + hi) / 2
                if len(_wrap(text, bold, size, round(mid, 1))) > len(lines):
                    lo = mid
                else:
                    hi = mid
            lines = _wrap(text, bold, size, round(hi, 1))
        tw = int(math.ceil(max(_tw(s, bold, size) for s in lines))) + 1
        w = min(int(maxw), tw)
        if align == "center":
            x = x + (maxw - w) / 2.0
        elif align == "right":
            x = x + maxw - w
        return self.add(selector, tag, role, label if label is not None else text.replace("\n", " "),
                        math.floor(x), y, w, math.ceil(len(lines) * lh), clickable=clickable, href=href,
                        draw="text", lines=lines, size=size, bold=bold, color=color, lh=lh, align=align,
                        underline=underline)

    def button(self, selector: str, text: str, x: float, y: float, *, h: int, size: int, bg: tuple,
               fg: tuple, w: float | None = None, padx: int = 24, border: tuple | None = None,
               radius: float = 10, href: str | None = None, form: str | None = None, icon: str | None = None,
               tag: str = "button", role: str = "button", shadow: bool = False, align: str = "left",
               maxw: float | None = None, bg_alpha: float = 1.0, icon_bg: tuple | None = None) -> int:
        tw = _tw(text, True, size)
        iw = int(size * 1.6) if icon else 0
        if w is None:
            w = int(math.ceil(tw + iw + 2 * padx))
        if align == "center" and maxw is not None:
            x = x + (maxw - w) / 2.0
        return self.add(selector, tag, role, text, x, y, w, h, clickable=True, href=href, form=form,
                        draw="button", text=text, size=size, bg=bg, fg=fg, border=border, radius=radius,
                        icon=icon, shadow=shadow, bg_alpha=bg_alpha, icon_bg=icon_bg)

    def finish(self, width: int) -> tuple[PageLayout, tuple[tuple[int, str, dict[str, Any]], ...]]:
        height = max(e["y"] + e["h"] for e in self.els)
        for e in self.els:
            if e["x"] < 0 or e["y"] < 0 or e["w"] <= 0 or e["h"] <= 0 or e["x"] + e["w"] > width:
                raise AssertionError(f"element out of page: {e}")
        url, title = PAGES[self.page]
        elements = tuple(Element(**e) for e in self.els)
        layout = PageLayout(self.page, url, title, self.dev.name, width, height, elements)
        return layout, tuple(self.ops)


# --------------------------------------------------------------------------------------
# Shared page parts
# --------------------------------------------------------------------------------------


def _logo(b: _Builder, selector: str, x: float, y: float, h: int, *, dark_bg: bool = False) -> int:
    size = 20 if h >= 36 else 18
    mark = h
    w = mark + 10 + math.ceil(_tw("Acme Flow", True, size))
    return b.add(selector, "a", "link", "Acme Flow home", x, y, w, h, clickable=True, href="landing",
                 draw="logo", size=size, dark_bg=dark_bg)


def _nav(b: _Builder, *, signup: bool) -> int:
    D = b.dev
    W, M, H = D.W, D.m, D.nav_h
    nav = b.add("nav", "nav", "navigation", "Main navigation", 0, 0, W, H, draw="nav")
    _logo(b, "#logo", M, (H - 34) // 2, 34)
    right = W - M
    if signup:
        if D.name == "mobile":
            b.text("#nav-signin", "a", "Sign in", right - _tw("Sign in", True, 15) - 1, 0, 200, 15, bold=True,
                   color=INDIGO, lh=H, role="link", clickable=True)
        else:
            si = b.text("#nav-signin", "a", "Sign in", right - _tw("Sign in", True, 15) - 1, 0, 200, 15,
                        bold=True, color=INDIGO, lh=H, role="link", clickable=True)
            q = "Already have an account?"
            b.text("nav .signin-prompt", "span", q, b.els[si]["x"] - 10 - _tw(q, False, 15) - 1, 0, 400, 15,
                   color=SLATE_500, lh=H)
        return nav
    if D.name == "desktop":
        cta = b.button("#nav-cta", "Start free trial", 0, (H - 42) // 2, h=42, size=15, bg=INDIGO, fg=WHITE,
                       padx=20, radius=10, href="signup", tag="a", role="link")
        b.els[cta]["x"] = right - b.els[cta]["w"]
        si_w = math.ceil(_tw("Sign in", True, 15)) + 1
        b.text("#nav-signin", "a", "Sign in", b.els[cta]["x"] - 28 - si_w, 0, si_w, 15, bold=True,
               color=SLATE_700, lh=H, role="link", clickable=True)
        x = M + 260
        for key, txt in (("product", "Product"), ("solutions", "Solutions"), ("pricing", "Pricing"),
                         ("customers", "Customers"), ("docs", "Docs")):
            i = b.text(f"#nav-{key}", "a", txt, x, 0, 200, 15, color=SLATE_600, lh=H, role="link",
                       clickable=True)
            x = b.right(i) + 34
    elif D.name == "tablet":
        b.add("#nav-menu", "button", "button", "Open menu", right - 40, (H - 40) // 2, 40, 40, clickable=True,
              draw="menu")
        cta = b.button("#nav-cta", "Start free trial", 0, (H - 40) // 2, h=40, size=15, bg=INDIGO, fg=WHITE,
                       padx=18, radius=10, href="signup", tag="a", role="link")
        b.els[cta]["x"] = right - 40 - 16 - b.els[cta]["w"]
        si_w = math.ceil(_tw("Sign in", True, 15)) + 1
        b.text("#nav-signin", "a", "Sign in", b.els[cta]["x"] - 24 - si_w, 0, si_w, 15, bold=True,
               color=SLATE_700, lh=H, role="link", clickable=True)
    else:
        b.add("#nav-menu", "button", "button", "Open menu", right - 40, (H - 40) // 2, 40, 40, clickable=True,
              draw="menu")
        si_w = math.ceil(_tw("Sign in", True, 15)) + 1
        b.text("#nav-signin", "a", "Sign in", right - 40 - 18 - si_w, 0, si_w, 15, bold=True, color=SLATE_700,
               lh=H, role="link", clickable=True)
    return nav


def _section_head(b: _Builder, prefix: str, y: float, eyebrow: str, title: str, sub: str | None, *,
                  dark: bool = False, align: str = "center", x: float | None = None,
                  maxw: float | None = None) -> float:
    """Eyebrow + h2 + optional lead paragraph; returns the bottom y."""
    D = b.dev
    x = D.m if x is None else x
    maxw = D.cw if maxw is None else maxw
    tmax = min(maxw, {"desktop": 900, "tablet": 640}.get(D.name, maxw))
    tx = x + (maxw - tmax) / 2 if align == "center" else x
    e = b.text(f"{prefix} .eyebrow", "p", eyebrow, tx, y, tmax, 13, bold=True,
               color=INDIGO_200 if dark else INDIGO, lh=20, align=align)
    y = b.bottom(e) + 12
    h = b.text(f"{prefix} h2", "h2", title, tx, y, tmax, D.h2, bold=True, color=WHITE if dark else SLATE_900,
               lh=round(D.h2 * 1.22), align=align, role="heading", balance=align == "center")
    y = b.bottom(h)
    if sub:
        smax = min(tmax, {"desktop": 760, "tablet": 600}.get(D.name, tmax))
        sx = x + (maxw - smax) / 2 if align == "center" else x
        p = b.text(f"{prefix} p.lead", "p", sub, sx, y + 16, smax, D.lead,
                   color=INDIGO_100 if dark else SLATE_600, lh=round(D.lead * 1.55), align=align,
                   balance=align == "center")
        y = b.bottom(p)
    return y


def _check_list(b: _Builder, prefix: str, items: list[str], x: float, y: float, maxw: float, size: int, *,
                color: tuple = SLATE_700, icon_fg: tuple = INDIGO, icon_bg: tuple = INDIGO_50,
                gap: int = 12) -> float:
    lh = round(size * 1.5)
    isz = min(22, lh)
    for i, txt in enumerate(items, 1):
        lines = _wrap(txt, False, size, float(maxw - isz - 12))
        tw = max(_tw(s, False, size) for s in lines)
        w = isz + 12 + math.ceil(tw) + 1
        idx = b.add(f"{prefix} li:nth-child({i})", "li", "text", txt, x, y, w, len(lines) * lh, draw="check_item",
                    lines=lines, size=size, color=color, icon_fg=icon_fg, icon_bg=icon_bg, isz=isz, lh=lh)
        y = b.bottom(idx) + gap
    return y - gap


def _grid(n: int, cols: int, x: float, width: float, gap: float) -> list[tuple[float, float, int]]:
    """(x, w, row) for n cells in a row-major grid."""
    cw = (width - gap * (cols - 1)) / cols
    return [(x + (i % cols) * (cw + gap), cw, i // cols) for i in range(n)]


# --------------------------------------------------------------------------------------
# Landing page
# --------------------------------------------------------------------------------------

_BENEFITS = [
    ("bolt", "Build without code",
     "Drag, drop and connect 300+ apps. Your first workflow goes live in under ten minutes."),
    ("chart", "Know what is working",
     "Live dashboards show every run, every bottleneck and the hours your team gets back."),
    ("shield", "Secure by default",
     "SOC 2 Type II, SSO and granular permissions keep your data exactly where it belongs."),
]

_TESTIMONIALS = [
    ("We replaced four spreadsheets and a weekly status meeting with one workflow. Our ops team got a "
     "full day back every single week.", "Priya Raman", "Head of Operations, Northwind", "PR", (236, 72, 153)),
    ("Setup took one afternoon. Now every new lead is enriched, scored and routed to the right rep "
     "before anyone even opens Slack.", "Marcus Chen", "VP Sales, Globex", "MC", (14, 165, 233)),
    ("The run history is a lifesaver. When something breaks we see exactly which step failed and why, "
     "in seconds instead of hours.", "Sofia Alvarez", "Engineering Manager, Initech", "SA", (16, 185, 129)),
]

_PLANS = [
    ("starter", "Starter", "$19", "For individuals automating their own busywork.",
     ["5 active workflows", "1,000 tasks / month", "300+ app integrations", "Email support"], "Choose Starter"),
    ("pro", "Pro", "$49", "For growing teams that run on automation.",
     ["Unlimited workflows", "25,000 tasks / month", "Branching and custom logic", "Run history and alerts",
      "Priority support"], "Start free trial"),
    ("team", "Team", "$99", "For departments that need control at scale.",
     ["Everything in Pro", "100,000 tasks / month", "SSO and role-based access", "Audit log",
      "Dedicated success manager"], "Choose Team"),
]

_FAQ = [
    ("How does the free trial work?",
     "You get every Pro feature free for 14 days. We remind you three days before it ends, and nothing is "
     "charged unless you pick a plan."),
    ("Do I need to know how to code?", None),
    ("Can I change plans later?", None),
    ("Is my data secure?", None),
]

_LOGOS = ["Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]

_FOOTER_COLS = [
    ("Product", ["Features", "Pricing", "Integrations", "Changelog"]),
    ("Company", ["About", "Careers", "Blog", "Contact"]),
    ("Resources", ["Docs", "Guides", "API reference", "Status"]),
    ("Legal", ["Privacy", "Terms", "Security", "Cookies"]),
]


def _landing(dev: _Dev) -> _Builder:
    b = _Builder("landing", dev)
    D = dev
    W, M, CW = D.W, D.m, D.cw
    mobile, tablet, desktop = D.name == "mobile", D.name == "tablet", D.name == "desktop"

    _nav(b, signup=False)
    y = D.nav_h

    # ---- hero ---------------------------------------------------------------------------
    hero = b.add("#hero", "section", "region", "Hero", 0, y, W, 10, draw="hero")
    top = y + (64 if desktop else 64 if tablet else 48)
    if desktop:
        lw = 560
        lx = M
    else:
        lw = CW
        lx = M
    align = "center" if tablet else "left"
    badge = "NEW"
    etxt = "AI-powered lead routing is here" if not mobile else "AI lead routing is here"
    ew = 4 + math.ceil(_tw(badge, True, 11)) + 20 + 10 + math.ceil(_tw(etxt, False, 14)) + 30
    ex = lx + (lw - ew) / 2 if align == "center" else lx
    e = b.add("#hero .announcement", "a", "link", f"{badge}: {etxt}", ex, top, ew, 34, clickable=True,
              draw="announcement", badge=badge, text=etxt)
    yy = b.bottom(e) + 24
    h1 = b.text("#hero h1", "h1", "Automate the busywork. Ship what matters.", lx, yy, lw, D.h1, bold=True,
                color=WHITE, lh=round(D.h1 * 1.16), align=align, role="heading")
    yy = b.bottom(h1) + (22 if not mobile else 16)
    sub = ("Acme Flow connects the tools your team already uses and runs the repetitive work for you, "
           "so every lead, ticket and invoice moves on its own.")
    p = b.text("#hero p.subhead", "p", sub, lx, yy, lw if not tablet else 600, D.lead, color=INDIGO_100,
               lh=round(D.lead * 1.55), align=align) if not tablet else \
        b.text("#hero p.subhead", "p", sub, lx + (lw - 600) / 2, yy, 600, D.lead, color=INDIGO_100,
               lh=round(D.lead * 1.55), align=align)
    yy = b.bottom(p)

    def cta_row(y0: float) -> float:
        if mobile:
            c = b.button("#hero-cta", "Start free trial", lx, y0, w=lw, h=D.btn_h, size=17, bg=AMBER,
                         fg=INDIGO_950, radius=12, href="signup", icon="arrow", shadow=True)
            d = b.button("#hero-demo", "Watch 2-min demo", lx, b.bottom(c) + 12, w=lw, h=D.btn_h, size=16,
                         bg=WHITE, fg=WHITE, border=WHITE, radius=12, icon="play", bg_alpha=0.12)
            y1 = b.bottom(d) + 16
        else:
            c = b.button("#hero-cta", "Start free trial", lx, y0, h=D.btn_h, size=17, bg=AMBER, fg=INDIGO_950,
                         radius=12, padx=28, href="signup", icon="arrow", shadow=True)
            d = b.button("#hero-demo", "Watch 2-min demo", b.right(c) + 14, y0, h=D.btn_h, size=16, bg=WHITE,
                         fg=WHITE, border=WHITE, radius=12, padx=24, icon="play", bg_alpha=0.12)
            if tablet:  # centre the pair
                total = b.right(d) - b.els[c]["x"]
                shift = int(round(lx + (lw - total) / 2 - b.els[c]["x"]))
                b.els[c]["x"] += shift
                b.els[d]["x"] += shift
            y1 = b.bottom(c) + 18
        trust = ("Free 14-day trial  ·  No credit card required" if mobile
                 else "Free 14-day trial  ·  No credit card  ·  Cancel anytime")
        t = b.text("#hero .trust", "p", trust, lx, y1, lw, 14, color=INDIGO_200, lh=20, align=align)
        return b.bottom(t)

    if desktop:
        bottom_l = cta_row(yy + 36)
        ix = M + lw + 56
        iw = W - M - ix
        ih = round(iw * 0.74)
        iy = max(top, top + (bottom_l - top - ih) // 2)
        img = b.add("img.product-shot", "img", "img", "Acme Flow dashboard showing automated tasks and runs",
                    ix, iy, iw, ih, draw="dashboard")
        hero_bottom = max(bottom_l, b.bottom(img)) + 72
    elif tablet:
        bottom_l = cta_row(yy + 32)
        iw = CW
        ih = round(iw * 0.66)
        img = b.add("img.product-shot", "img", "img", "Acme Flow dashboard showing automated tasks and runs",
                    M, bottom_l + 48, iw, ih, draw="dashboard")
        hero_bottom = b.bottom(img) + 72
    else:
        rt = "4.9 / 5 from 1,200+ reviews"
        rb = math.ceil(_tw(rt, True, 13)) + 5 * 16 + 28
        r = b.add("#hero .rating", "p", "text", "Rated 4.9 out of 5 from 1,200+ reviews", lx, yy + 20, rb, 30,
                  draw="rating", text=rt)
        iw = CW
        ih = round(iw * 1.18)
        img = b.add("img.product-shot", "img", "img", "Acme Flow dashboard showing automated tasks and runs",
                    M, b.bottom(r) + 28, iw, ih, draw="dashboard")
        bottom_l = cta_row(b.bottom(img) + 32)
        hero_bottom = bottom_l + 56
    b.set_bottom(hero, hero_bottom)
    y = hero_bottom

    # ---- logos strip ---------------------------------------------------------------------
    sec = b.add("#logos", "section", "region", "Customer logos", 0, y, W, 10, draw="band", fill=WHITE,
                border_bottom=SLATE_100)
    yy = y + 40
    cap = b.text("#logos p", "p", "Trusted by 4,000+ fast-moving teams", M, yy, CW, 14, bold=True, color=SLATE_400,
                 lh=20, align="center")
    yy = b.bottom(cap) + 24
    cols = 6 if desktop else 3 if tablet else 2
    cells = _grid(len(_LOGOS), cols, M, CW, 16 if not desktop else 24)
    lsize = 22 if desktop else 20 if tablet else 17
    rows_h = 0
    for k, (name, (cx, cw, row)) in enumerate(zip(_LOGOS, cells)):
        mk = round(lsize * 1.15)
        w = mk + 8 + math.ceil(_tw(name, True, lsize)) + 1
        h = 36
        b.add(f"#logos img[alt={name}]", "img", "img", f"{name} logo", cx + (cw - w) / 2, yy + row * 52, w, h,
              draw="wordmark", text=name, size=lsize, shape=k)
        rows_h = row * 52 + h
    b.set_bottom(sec, yy + rows_h + 40)
    y = b.bottom(sec)

    # ---- benefits ------------------------------------------------------------------------
    sec = b.add("#benefits", "section", "region", "Benefits", 0, y, W, 10, draw="band", fill=SLATE_50)
    yy = _section_head(b, "#benefits", y + D.pad, "WHY ACME FLOW", "Everything you need to automate with confidence",
                       "From the first trigger to the last approval, Acme Flow keeps work moving and keeps you "
                       "in control.")
    yy += 40 if desktop else 48 if tablet else 36
    horizontal = tablet
    cols = 3 if desktop else 1
    cells = _grid(3, cols, M, CW, D.gap)
    pad = 32 if desktop else 28 if tablet else 24
    # two passes so cards in a row share a height
    card_h = 0
    for (icon, title, body), (cx, cw, row) in zip(_BENEFITS, cells):
        tx_w = cw - 2 * pad - (64 + 20 if horizontal else 0)
        hh = len(_wrap(title, True, D.h3, tx_w)) * round(D.h3 * 1.3)
        bh = len(_wrap(body, False, D.body, tx_w)) * round(D.body * 1.6)
        inner = (hh + 10 + bh + 16 + 22) if horizontal else (52 + 20 + hh + 10 + bh + 16 + 22)
        card_h = max(card_h, inner + 2 * pad)
    for k, ((icon, title, body), (cx, cw, row)) in enumerate(zip(_BENEFITS, cells), 1):
        cy = yy + row * (card_h + D.gap)
        card = b.add(f"#benefit-{k}", "div", "region", title, cx, cy, cw, card_h, draw="card", fill=WHITE,
                     border=SLATE_200, radius=16, shadow=True)
        ix, iy = cx + pad, cy + pad
        b.add(f"#benefit-{k} .icon", "img", "img", f"{title} icon", ix, iy, 52 if not horizontal else 64,
              52 if not horizontal else 64, draw="icon", icon=icon, fg=INDIGO, bg=INDIGO_50, radius=0.28)
        if horizontal:
            tx, ty, tw = ix + 64 + 20, iy, cw - 2 * pad - 84
        else:
            tx, ty, tw = ix, iy + 52 + 20, cw - 2 * pad
        t = b.text(f"#benefit-{k} h3", "h3", title, tx, ty, tw, D.h3, bold=True, lh=round(D.h3 * 1.3),
                   role="heading")
        p = b.text(f"#benefit-{k} p", "p", body, tx, b.bottom(t) + 10, tw, D.body, color=SLATE_600,
                   lh=round(D.body * 1.6))
        b.text(f"#benefit-{k} a", "a", "Learn more →", tx, b.bottom(p) + 16, tw, 15, bold=True, color=INDIGO,
               lh=22, role="link", clickable=True)
        last = card
    b.set_bottom(sec, b.bottom(last) + D.pad)
    y = b.bottom(sec)

    # ---- features (split) ---------------------------------------------------------------
    sec = b.add("#features", "section", "region", "Visual builder", 0, y, W, 10, draw="band", fill=WHITE)
    bullets = ["Branch on any field, with no scripts to maintain",
               "Test each step with real data before you publish",
               "Roll back to any version in one click"]
    head_txt = ("See every step of every workflow",
                "Map the whole process on one canvas. Add conditions, approvals and retries, then watch "
                "runs flow through in real time.")
    if desktop:
        iw = 620
        ih = round(iw * 0.72)
        ix = M
        tx = M + iw + 72
        tw = W - M - tx
        # vertically centre text next to the image
        e = b.text("#features .eyebrow", "p", "VISUAL BUILDER", tx, 0, tw, 13, bold=True, color=INDIGO, lh=20)
        e_i = e
        y_text = y + D.pad
        h2 = b.text("#features h2", "h2", head_txt[0], tx, 0, tw, D.h2, bold=True, lh=round(D.h2 * 1.22),
                    role="heading")
        p = b.text("#features p.lead", "p", head_txt[1], tx, 0, tw, D.lead, color=SLATE_600,
                   lh=round(D.lead * 1.55))
        text_h = (20 + 12 + b.els[h2]["h"] + 16 + b.els[p]["h"] + 28 +
                  sum(len(_wrap(s, False, D.body, tw - 34)) * round(D.body * 1.5) for s in bullets) + 2 * 14 +
                  28 + 24)
        y_text = y + D.pad + max(0, (ih - text_h) // 2)
        b.els[e_i]["y"] = y_text
        b.els[h2]["y"] = b.bottom(e_i) + 12
        b.els[p]["y"] = b.bottom(h2) + 16
        yb = _check_list(b, "#features", bullets, tx, b.bottom(p) + 28, tw, D.body, gap=14)
        b.text("#features a.more", "a", "Explore the builder →", tx, yb + 28, tw, 16, bold=True, color=INDIGO,
               lh=24, role="link", clickable=True)
        img = b.add("img.feature-shot", "img", "img", "Visual workflow builder canvas", ix, y + D.pad, iw, ih,
                    draw="workflow")
        b.set_bottom(sec, max(b.bottom(img), y_text + text_h) + D.pad)
    else:
        yy = _section_head(b, "#features", y + D.pad, "VISUAL BUILDER", head_txt[0], head_txt[1],
                           align="center" if tablet else "left")
        lx, lw = (M + (CW - 520) / 2, 520) if tablet else (M, CW)
        yb = _check_list(b, "#features", bullets, lx, yy + 28, lw, D.body, gap=14)
        a = b.text("#features a.more", "a", "Explore the builder →", lx, yb + 24, lw, 16, bold=True, color=INDIGO,
                   lh=24, role="link", clickable=True)
        ih = round(CW * (0.66 if tablet else 0.82))
        img = b.add("img.feature-shot", "img", "img", "Visual workflow builder canvas", M, b.bottom(a) + 36, CW,
                    ih, draw="workflow")
        b.set_bottom(sec, b.bottom(img) + D.pad)
    y = b.bottom(sec)

    # ---- testimonials --------------------------------------------------------------------
    sec = b.add("#testimonials", "section", "region", "Testimonials", 0, y, W, 10, draw="band", fill=SLATE_50)
    yy = _section_head(b, "#testimonials", y + D.pad, "CUSTOMER STORIES", "Loved by operations teams",
                       "Teams of every size use Acme Flow to take busywork off their plates.")
    yy += 40 if desktop else 48 if tablet else 36
    cols = 3 if desktop else 1
    cells = _grid(3, cols, M, CW, D.gap)
    pad = 32 if not mobile else 24
    qsize = 17 if not mobile else 16
    qlh = round(qsize * 1.6)
    card_h = 0
    for (q, *_r), (cx, cw, row) in zip(_TESTIMONIALS, cells):
        card_h = max(card_h, 2 * pad + 20 + 20 + len(_wrap(f"“{q}”", False, qsize, cw - 2 * pad)) * qlh + 28 + 48)
    for k, ((q, name, role_, initials, col), (cx, cw, row)) in enumerate(zip(_TESTIMONIALS, cells), 1):
        cy = yy + row * (card_h + D.gap)
        card = b.add(f"#testimonial-{k}", "figure", "region", f"Testimonial from {name}", cx, cy, cw, card_h,
                     draw="card", fill=WHITE, border=SLATE_200, radius=16, shadow=True)
        b.add(f"#testimonial-{k} .stars", "img", "img", "Rated 5 out of 5", cx + pad, cy + pad, 5 * 22 - 4, 20,
              draw="stars")
        b.text(f"#testimonial-{k} blockquote", "blockquote", f"“{q}”", cx + pad, cy + pad + 40, cw - 2 * pad,
               qsize, color=SLATE_700, lh=qlh)
        ay = cy + card_h - pad - 48
        b.add(f"#testimonial-{k} .avatar", "img", "img", f"Photo of {name}", cx + pad, ay, 48, 48, draw="avatar",
              initials=initials, color=col)
        b.text(f"#testimonial-{k} .name", "p", name, cx + pad + 62, ay + 2, cw - 2 * pad - 62, 16, bold=True,
               lh=22)
        b.text(f"#testimonial-{k} .role", "p", role_, cx + pad + 62, ay + 24, cw - 2 * pad - 62, 14,
               color=SLATE_500, lh=22)
        last = card
    b.set_bottom(sec, b.bottom(last) + D.pad)
    y = b.bottom(sec)

    # ---- pricing -------------------------------------------------------------------------
    sec = b.add("#pricing", "section", "region", "Pricing", 0, y, W, 10, draw="band", fill=WHITE)
    yy = _section_head(b, "#pricing", y + D.pad, "PRICING", "Simple pricing that scales with you",
                       "Every plan starts with a free 14-day trial. Cancel anytime, no questions asked.")
    yy += 40 if desktop else 48 if tablet else 36
    if desktop:
        cells = _grid(3, 3, M, CW, D.gap)
    else:
        cwid = CW if mobile else 520
        cells = [(M + (CW - cwid) / 2, cwid, i) for i in range(3)]
    pad = 32 if not mobile else 24
    descs = [len(_wrap(p[3], False, 15, c[1] - 2 * pad)) * 24 for p, c in zip(_PLANS, cells)]
    feats_h = [sum(len(_wrap(f, False, 15, c[1] - 2 * pad - 34)) for f in p[4]) * 24 + (len(p[4]) - 1) * 12
               for p, c in zip(_PLANS, cells)]
    heights = [2 * pad + 30 + 8 + dh + 20 + 52 + 24 + 52 + 28 + 1 + 24 + fh for dh, fh in zip(descs, feats_h)]
    if desktop:  # one row: cards share a height and their buttons line up
        descs = [max(descs)] * 3
        heights = [max(heights)] * 3
    cy = yy
    for (key, name, price, desc, feats, cta), (cx, cw, row), desc_h, card_h in zip(_PLANS, cells, descs, heights):
        if not desktop and row:
            cy += heights[row - 1] + D.gap
        pro = key == "pro"
        card = b.add(f"#plan-{key}", "div", "region", f"{name} plan", cx, cy, cw, card_h, draw="card",
                     fill=WHITE, border=INDIGO if pro else SLATE_200, border_w=2 if pro else 1, radius=18,
                     shadow=True, shadow_strength=2.0 if pro else 1.0)
        ix, iw = cx + pad, cw - 2 * pad
        t = b.text(f"#plan-{key} h3", "h3", name, ix, cy + pad, iw, 22, bold=True, lh=30, role="heading",
                   color=INDIGO if pro else SLATE_900)
        if pro:
            bw = math.ceil(_tw("Most popular", True, 12)) + 24
            b.add("#plan-pro .badge", "span", "text", "Most popular", cx + cw - pad - bw, cy + pad + 2, bw, 26,
                  draw="pill", text="Most popular", size=12, bg=INDIGO_50, fg=INDIGO)
        b.text(f"#plan-{key} p", "p", desc, ix, b.bottom(t) + 8, iw, 15, color=SLATE_600, lh=24)
        py = b.bottom(t) + 8 + desc_h + 20
        pw = math.ceil(_tw(price, True, 44)) + 8 + math.ceil(_tw("/ month", False, 16)) + 1
        b.add(f"#plan-{key} .price", "p", "text", f"{price} per month", ix, py, pw, 52, draw="price",
              amount=price, period="/ month")
        by = py + 52 + 24
        if pro:
            b.button("#plan-pro-cta", cta, ix, by, w=iw, h=52, size=16, bg=INDIGO, fg=WHITE, radius=12,
                     href="signup", shadow=True)
        else:
            b.button(f"#plan-{key}-cta", cta, ix, by, w=iw, h=52, size=16, bg=WHITE, fg=INDIGO, border=INDIGO_200,
                     radius=12, href="signup")
        b.add(f"#plan-{key} hr", "hr", "separator", "", ix, by + 52 + 28, iw, 1, draw="rule", color=SLATE_100)
        fy = by + 52 + 28 + 1 + 24
        _check_list(b, f"#plan-{key} ul", feats, ix, fy, iw, 15, color=SLATE_700, icon_fg=WHITE
                    if pro else INDIGO, icon_bg=INDIGO if pro else INDIGO_50, gap=12)
        last = card
    note = b.text("#pricing .price-note", "span", "Compare all features", M, b.bottom(last) + 40, CW, 16,
                  color=BLUE_LINK, lh=24, align="center", underline=True)
    b.set_bottom(sec, b.bottom(note) + D.pad)
    y = b.bottom(sec)

    # ---- FAQ -----------------------------------------------------------------------------
    sec = b.add("#faq", "section", "region", "Frequently asked questions", 0, y, W, 10, draw="band", fill=SLATE_50)
    yy = _section_head(b, "#faq", y + D.pad, "FAQ", "Frequently asked questions", None)
    yy += 40
    fw = min(CW, 800)
    fx = M + (CW - fw) / 2
    fpad = 24 if not mobile else 18
    for k, (q, ans) in enumerate(_FAQ, 1):
        qlines = _wrap(q, True, 17, fw - 2 * fpad - 40)
        qh = max(64, len(qlines) * 26 + 2 * 19)
        alines = _wrap(ans, False, 16, fw - 2 * fpad) if ans else ()
        ih = qh + (len(alines) * 26 + fpad if ans else 0)
        item = b.add(f"#faq-item-{k}", "div", "region", q, fx, yy, fw, ih, draw="card", fill=WHITE,
                     border=INDIGO_200 if ans else SLATE_200, radius=14, shadow=bool(ans))
        b.add(f"#faq-{k}", "button", "button", q, fx, yy, fw, qh, clickable=True, draw="faq_q", lines=qlines,
              open=bool(ans), pad=fpad)
        if ans:
            b.text(f"#faq-answer-{k}", "p", ans, fx + fpad, yy + qh, fw - 2 * fpad, 16, color=SLATE_600, lh=26)
        yy = b.bottom(item) + 12
    b.set_bottom(sec, yy - 12 + D.pad)
    y = b.bottom(sec)

    # ---- CTA band ------------------------------------------------------------------------
    sec = b.add("#cta-band", "section", "region", "Start your free trial", 0, y, W, 10, draw="cta_band")
    yy = y + (72 if desktop else 80 if tablet else 64)
    tmax = min(CW, 720)
    tx = M + (CW - tmax) / 2
    h = b.text("#cta-band h2", "h2", "Ready to get hours back every week?", tx, yy, tmax, D.h2 + (4 if desktop else 0),
               bold=True, color=WHITE, lh=round((D.h2 + 4) * 1.2), align="center", role="heading", balance=True)
    p = b.text("#cta-band p", "p", "Join 4,000+ teams who automate with Acme Flow. Free for 14 days.", tx,
               b.bottom(h) + 16, tmax, D.lead, color=INDIGO_100, lh=round(D.lead * 1.55), align="center",
               balance=True)
    if mobile:
        c = b.button("#footer-cta", "Start free trial", M, b.bottom(p) + 32, w=CW, h=D.btn_h, size=17, bg=AMBER,
                     fg=INDIGO_950, radius=12, href="signup", icon="arrow", shadow=True)
    else:
        c = b.button("#footer-cta", "Start free trial", M, b.bottom(p) + 36, h=D.btn_h, size=17, bg=AMBER,
                     fg=INDIGO_950, radius=12, padx=32, href="signup", icon="arrow", shadow=True, align="center",
                     maxw=CW)
    n = b.text("#cta-band .note", "p", "No credit card required", M, b.bottom(c) + 16, CW, 14, color=INDIGO_200,
               lh=20, align="center")
    b.set_bottom(sec, b.bottom(n) + (72 if desktop else 80 if tablet else 64))
    y = b.bottom(sec)

    # ---- footer --------------------------------------------------------------------------
    _landing_footer(b, y)
    return b


def _landing_footer(b: _Builder, y: float) -> None:
    D = b.dev
    W, M, CW = D.W, D.m, D.cw
    desktop = D.name == "desktop"
    foot = b.add("footer", "footer", "region", "Footer", 0, y, W, 10, draw="band", fill=SLATE_900)
    yy = y + (64 if desktop else 56)
    _logo(b, "#footer-logo", M, yy, 34, dark_bg=True)
    tag_w = 300 if desktop else CW
    t = b.text("footer .tagline", "p", "Workflow automation for teams who would rather be building.", M, yy + 34 + 18,
               tag_w, 15, color=SLATE_400, lh=24)
    if desktop:
        cx0, cwid, cy0 = M + 380, CW - 380, yy
        cells = _grid(4, 4, cx0, cwid, 24)
    else:
        cy0 = b.bottom(t) + 40
        cells = _grid(4, 4 if D.name == "tablet" else 2, M, CW, 24)
    col_h = 24 + 16 + 4 * 36
    for (head, links), (cx, cw, row) in zip(_FOOTER_COLS, cells):
        ty = cy0 + row * (col_h + 32)
        b.text(f"footer .col-{head.lower()} h4", "h4", head, cx, ty, cw, 14, bold=True, color=WHITE, lh=24,
               role="heading")
        for j, link in enumerate(links):
            slug = link.lower().replace(" ", "-")
            b.text(f"#footer-{slug}", "a", link, cx, ty + 24 + 16 + j * 36, cw, 15, color=SLATE_400, lh=24,
                   role="link", clickable=True)
    rows = max(c[2] for c in cells) + 1
    by = max(cy0 + rows * col_h + (rows - 1) * 32, b.bottom(t)) + 48
    b.add("footer .divider", "hr", "separator", "", M, by, CW, 1, draw="rule", color=SLATE_800)
    cp = "© 2024 Acme Flow, Inc. All rights reserved."
    if D.name == "mobile":
        c = b.text("footer .copyright", "p", cp, M, by + 24, CW, 14, color=SLATE_500, lh=22)
        sy = b.bottom(c) + 12
        sx = M
    else:
        b.text("footer .copyright", "p", cp, M, by + 24, CW, 14, color=SLATE_500, lh=22)
        sy = by + 24
        sx = W - M - (3 * 32 + 2 * 12)
    for k, name in enumerate(("x", "linkedin", "github")):
        b.add(f"#footer-social-{name}", "a", "link", {"x": "Acme Flow on X", "linkedin": "Acme Flow on LinkedIn",
                                                        "github": "Acme Flow on GitHub"}[name],
              sx + k * 44, sy - 5, 32, 32, clickable=True, draw="social", kind=name)
    b.set_bottom(foot, sy + 27 + 40)


# --------------------------------------------------------------------------------------
# Signup page
# --------------------------------------------------------------------------------------

_FIELDS = [
    ("name", "Full name", "Jane Cooper", "input", False),
    ("email", "Work email", "jane@company.com", "input", True),
    ("company", "Company", "Acme Corporation", "input", False),
    ("phone", "Phone number", "+1 (555) 010-2030", "input", True),
    ("password", "Password", "", "input", True),
    ("plan", "Plan", "Pro — $49 / month", "select", False),
]


def _signup(dev: _Dev) -> _Builder:
    b = _Builder("signup", dev)
    D = dev
    W, M, CW = D.W, D.m, D.cw
    mobile, tablet, desktop = D.name == "mobile", D.name == "tablet", D.name == "desktop"
    _nav(b, signup=True)
    y = D.nav_h
    main = b.add("#signup", "main", "region", "Sign up", 0, y, W, 10, draw="band", fill=SLATE_50)
    top = y + (56 if desktop else 48 if tablet else 24)
    if desktop:
        fx, fw = M, 600
        ax, aw = M + fw + 48, CW - fw - 48
    elif tablet:
        fw = 600
        fx = M + (CW - fw) / 2
        ax, aw = fx, fw
    else:
        fx, fw = M, CW
        ax, aw = M, CW
    pad = 40 if not mobile else 22
    ix, iw = fx + pad, fw - 2 * pad
    card = b.add("#signup-card", "div", "region", "Create your account", fx, top, fw, 10, draw="card", fill=WHITE,
                 border=SLATE_200, radius=18, shadow=True)
    yy = top + (pad if not mobile else 26)
    h1 = b.text("#signup h1", "h1", "Create your account", ix, yy, iw, 30 if not mobile else 26, bold=True,
                lh=38 if not mobile else 34, role="heading")
    sub = b.text("#signup p.subhead", "p", "Start your 14-day free trial. No credit card required.", ix,
                 b.bottom(h1) + 8, iw, 16 if not mobile else 15, color=SLATE_600, lh=24 if not mobile else 22)
    g = b.button("#signup-google", "Sign up with Google", ix, b.bottom(sub) + 24, w=iw, h=48, size=15, bg=WHITE,
                 fg=SLATE_700, border=SLATE_300, radius=10, icon="google")
    orw = b.add("#signup .divider", "div", "separator", "or", ix, b.bottom(g) + 16, iw, 24, draw="or_divider")
    yy = b.bottom(orw) + 16

    form = b.add("#signup-form", "form", "form", "Sign up form", ix, yy, iw, 10)
    two_col = not mobile
    colgap = 20
    cw2 = (iw - colgap) / 2 if two_col else iw
    lab_h, in_h = 20, 48 if not mobile else 46
    row_gap = 20 if not mobile else 16
    cells: list[tuple[float, float]] = []
    row_y = yy
    row_bottom = yy
    for k, (name, label, ph, kind, sens) in enumerate(_FIELDS):
        col = (k % 2) if two_col else 0
        if col == 0 and k > 0:
            row_y = row_bottom + row_gap
        cx = ix + col * (cw2 + colgap)
        lbl = b.text(f"#signup-form label[for={name}]", "label", label, cx, row_y, cw2, 14, bold=True,
                     color=SLATE_700, lh=lab_h, label=label)
        iy = b.bottom(lbl) + 8
        tag = "select" if kind == "select" else "input"
        sel = f"#signup-form {tag}[name={name}]"
        b.add(sel, tag, "combobox" if kind == "select" else "textbox", label, cx, iy, cw2, in_h, clickable=True,
              field=name, sensitive=sens, form="signup", draw="input", kind=kind, placeholder=ph,
              error=False, password=name == "password")
        bottom = iy + in_h
        if name == "email":
            # The message's place is kept in the map, but the screenshot shows the form as it
            # first loads (no error yet); the replay shows the message when VALIDATION fires.
            er = b.text("#email-error", "p", "Please enter a valid email address", cx, bottom + 6, cw2, 13,
                        color=WHITE, lh=18)
            bottom = b.bottom(er)
        if name == "password":
            hint = b.text("#signup-form .password-hint", "p", "At least 8 characters, with a number.", cx,
                          bottom + 6, cw2, 13, color=SLATE_500, lh=18)
            bottom = b.bottom(hint)
        row_bottom = max(row_bottom, bottom) if col == 1 else bottom
    yy = row_bottom + 24
    terms_txt = "I agree to the Terms of Service and Privacy Policy"
    b.add("#signup-form input[name=terms]", "input", "checkbox", "I agree to the Terms of Service and Privacy Policy",
          ix, yy + 1, 20, 20, clickable=True, field="terms", form="signup", draw="checkbox")
    tl = b.text("#signup-form label[for=terms]", "label", terms_txt, ix + 32, yy, iw - 32, 14, color=SLATE_600,
                lh=22, label=terms_txt)
    yy = b.bottom(tl) + 24
    sub_btn = b.button("#signup-submit", "Create account", ix, yy, w=iw, h=52, size=16, bg=INDIGO, fg=WHITE, radius=12,
                       form="signup", shadow=True)
    b.set_bottom(form, b.bottom(sub_btn))
    yy = b.bottom(sub_btn) + 20
    q = "Already have an account?"
    qw = math.ceil(_tw(q + " ", False, 15))
    lw = math.ceil(_tw("Sign in", True, 15)) + 1
    sx = ix + (iw - qw - lw) / 2
    b.text("#signup .signin-note", "p", q, sx, yy, qw, 15, color=SLATE_500, lh=22)
    b.text("#signup-signin-link", "a", "Sign in", sx + qw, yy, lw, 15, bold=True, color=INDIGO, lh=22, role="link",
           clickable=True)
    b.set_bottom(card, yy + 22 + pad)

    # ---- aside ----------------------------------------------------------------------------
    ay = top if desktop else b.bottom(card) + (32 if not mobile else 24)
    apad = 48 if desktop else 40 if tablet else 24
    aside = b.add("#signup-aside", "aside", "region", "Why teams choose Acme Flow", ax, ay, aw, 10, draw="aside")
    ax0, aw0 = ax + apad, aw - 2 * apad
    yy = ay + apad
    rt = "4.9 / 5 from 1,200+ reviews" if not mobile else "4.9 / 5 · 1,200+ reviews"
    rb = math.ceil(_tw(rt, True, 13)) + 5 * 16 + 28
    b.add("#signup-aside .rating", "p", "text", "Rated 4.9 out of 5 from 1,200+ reviews", ax0, yy, rb, 30,
          draw="rating", text=rt)
    h = b.text("#signup-aside h2", "h2", "Join 4,000+ teams who automate with Acme Flow", ax0, yy + 30 + 24, aw0,
               32 if desktop else 28 if tablet else 24, bold=True, color=WHITE,
               lh=40 if desktop else 36 if tablet else 31, role="heading", balance=True)
    yy = _check_list(b, "#signup-aside ul", [
        "Launch your first workflow in under ten minutes",
        "Connect 300+ apps, from Slack to Salesforce",
        "Every Pro feature free for 14 days",
    ], ax0, b.bottom(h) + 28, aw0, 16 if not mobile else 15, color=INDIGO_50, icon_fg=INDIGO, icon_bg=WHITE, gap=14)
    stats = [("4,000+", "teams"), ("12M", "tasks / month" if not mobile else "tasks/month"), ("99.9%", "uptime")]
    sy = yy + 32
    cells = _grid(3, 3, ax0, aw0, 12 if mobile else 20)
    ssz = 26 if desktop else 24 if tablet else 20
    for k, ((num, cap), (sx, sw, _row)) in enumerate(zip(stats, cells), 1):
        b.text(f"#signup-aside .stat-{k} strong", "strong", num, sx, sy, sw, ssz, bold=True, color=WHITE,
               lh=round(ssz * 1.3))
        b.text(f"#signup-aside .stat-{k} span", "span", cap, sx, sy + round(ssz * 1.3) + 2, sw, 13,
               color=INDIGO_200, lh=20)
    yy = sy + round(ssz * 1.3) + 2 + 20
    qpad = 28 if not mobile else 20
    quote = ("“We had our onboarding flow automated before lunch on day one. It paid for itself in the first "
             "week.”")
    qlines = _wrap(quote, False, 16, aw0 - 2 * qpad)
    qh = 2 * qpad + len(qlines) * 26 + 20 + 44
    qy = yy + 36
    if desktop:
        qy = max(qy, b.bottom(card) - apad - qh)
    qc = b.add("#signup-aside figure", "figure", "region", "Customer quote", ax0, qy, aw0, qh, draw="quote_card")
    b.text("#signup-aside blockquote", "blockquote", quote, ax0 + qpad, qy + qpad, aw0 - 2 * qpad, 16,
           color=WHITE, lh=26)
    py = qy + qpad + len(qlines) * 26 + 20
    b.add("#signup-aside .avatar", "img", "img", "Photo of Dana Whitfield", ax0 + qpad, py, 44, 44, draw="avatar",
          initials="DW", color=AMBER)
    b.text("#signup-aside .name", "p", "Dana Whitfield", ax0 + qpad + 58, py, aw0 - 2 * qpad - 58, 15, bold=True,
           color=WHITE, lh=22)
    b.text("#signup-aside .role", "p", "COO, Brightline Health", ax0 + qpad + 58, py + 22, aw0 - 2 * qpad - 58, 14,
           color=INDIGO_200, lh=22)
    b.set_bottom(aside, b.bottom(qc) + apad)
    if desktop:
        bot = max(b.bottom(aside), b.bottom(card))
        b.set_bottom(aside, bot)
        b.set_bottom(card, bot)
    b.set_bottom(main, max(b.bottom(aside), b.bottom(card)) + (72 if not mobile else 40))
    y = b.bottom(main)

    # ---- footer ---------------------------------------------------------------------------
    foot = b.add("footer", "footer", "region", "Footer", 0, y, W, 10, draw="band", fill=WHITE, border_top=SLATE_200)
    cp = "© 2024 Acme Flow, Inc."
    links = ["Privacy", "Terms", "Security", "Status"]
    if mobile:
        c = b.text("footer .copyright", "p", cp, M, y + 28, CW, 14, color=SLATE_500, lh=22)
        lx, ly = M, b.bottom(c) + 10
    else:
        b.text("footer .copyright", "p", cp, M, y + 28, CW, 14, color=SLATE_500, lh=22)
        total = sum(math.ceil(_tw(s, False, 14)) + 1 for s in links) + 24 * (len(links) - 1)
        lx, ly = W - M - total, y + 28
    for s in links:
        i = b.text(f"#footer-{s.lower()}", "a", s, lx, ly, 300, 14, color=SLATE_500, lh=22, role="link",
                   clickable=True)
        lx = b.right(i) + 24
    b.set_bottom(foot, ly + 22 + 28)
    return b


# --------------------------------------------------------------------------------------
# Public API: layout
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _build(page: str, device: str) -> tuple[PageLayout, tuple[tuple[int, str, dict[str, Any]], ...]]:
    if page not in PAGES:
        raise KeyError(f"unknown page {page!r}; expected one of {sorted(PAGES)}")
    if device not in DEVICE_WIDTHS:
        raise KeyError(f"unknown device {device!r}; expected one of {sorted(DEVICE_WIDTHS)}")
    dev = _DEV[device]
    b = _landing(dev) if page == "landing" else _signup(dev)
    return b.finish(dev.W)


@lru_cache(maxsize=16)
def layout_page(page: str, device: str) -> PageLayout:
    """Element map of ``page`` ('landing' | 'signup') on ``device`` ('desktop' | 'tablet' | 'mobile')."""
    return _build(page, device)[0]


# --------------------------------------------------------------------------------------
# Public API: rendering
# --------------------------------------------------------------------------------------


def render_page(layout: PageLayout, scale: float = 1.0) -> np.ndarray:
    """Full-page screenshot of ``layout``: ``(round(height*scale), round(width*scale), 3)`` uint8 RGB.

    Text and shapes are drawn at ``scale`` (never upscaled).  A layout that did not come from
    :func:`layout_page` (or was modified) is drawn as a plain wireframe of its element boxes.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    cv = _Canvas(layout.width, layout.height, scale)
    built: tuple[PageLayout, tuple] | None = None
    if layout.page in PAGES and layout.device in DEVICE_WIDTHS:
        cand = _build(layout.page, layout.device)
        if cand[0] is layout or cand[0] == layout:
            built = cand
    if built is None:
        _draw_wireframe(cv, layout)
    else:
        els = layout.elements
        for idx, kind, params in built[1]:
            e = els[idx]
            _DRAW[kind](cv, (e.x, e.y, e.w, e.h), params)
    arr = np.asarray(cv.img, dtype=np.uint8)
    return np.ascontiguousarray(arr)


def _draw_wireframe(cv: _Canvas, layout: PageLayout) -> None:
    for e in layout.elements:
        box = (e.x, e.y, e.w, e.h)
        if e.role in ("region", "navigation", "form"):
            cv.rr(box, 0, None, outline=SLATE_200)
        elif e.clickable:
            cv.rr(box, 8, INDIGO_50, outline=INDIGO_200)
        else:
            cv.rr(box, 4, SLATE_100)
        if e.label and e.h >= 14 and e.role not in ("region", "navigation", "form"):
            cv.small_text(e.label, e.x + 4, e.y, min(e.h, 24), min(14, e.h * 0.6), False, SLATE_600, e.w - 8)


# ---- draw ops (each draws strictly inside its element box, except soft shadows) ---------------


def _d_text(cv: _Canvas, box: tuple, p: dict) -> None:
    cv.text_block(p["lines"], box, p["lh"], p["size"], p["bold"], p["color"], p["align"], p["underline"])


def _d_nav(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rect(box, WHITE)
    cv.hline(x, y + h - 1, w, SLATE_200)


def _d_band(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rect(box, p["fill"])
    if p.get("border_bottom"):
        cv.hline(x, y + h - 1, w, p["border_bottom"])
    if p.get("border_top"):
        cv.hline(x, y, w, p["border_top"])


def _d_hero(cv: _Canvas, box: tuple, p: dict) -> None:
    x0, y0, w, h = cv.sb(*box)
    g = _hero_img(w, h, max(1, cv.px(1440)))
    cv.img.paste(g, (x0, y0))


@lru_cache(maxsize=12)
def _hero_img(w: int, h: int, unit: int) -> Image.Image:
    """Indigo→violet diagonal gradient with two soft glows and a faint grid.

    The smooth part is computed at quarter resolution and upscaled (it has no detail);
    the grid lines are added at full resolution.
    """
    f = 4
    lw, lh = max(2, -(-w // f)), max(2, -(-h // f))
    xs = np.linspace(0.0, w, lw, dtype=np.float32)[None, :]
    ys = np.linspace(0.0, h, lh, dtype=np.float32)[:, None]
    t = np.clip(0.65 * xs / max(1, w) + 0.35 * ys / max(1, h), 0, 1)
    c1 = np.array(INDIGO_700, np.float32)
    c2 = np.array((109, 40, 217), np.float32)
    arr = c1 + (c2 - c1) * t[..., None]
    for gx, gy, rad, col, k in ((0.82, 0.25, 0.55, (168, 85, 247), 0.35), (0.05, 1.0, 0.5, (56, 189, 248), 0.18)):
        r = rad * max(w, h * 0.8)
        dx = xs - gx * w
        dy = ys - gy * h
        g = np.exp(-(dx * dx + dy * dy) / (2 * (r / 2.2) ** 2)).astype(np.float32) * k
        arr += (np.array(col, np.float32) - arr) * g[..., None]
    small = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    full = np.asarray(small.resize((w, h), Image.BILINEAR)).astype(np.float32)
    # faint grid lines every 48 css px, fading out towards the bottom
    step = max(4, int(round(48 * unit / 1440)))
    fade = np.clip(1.0 - np.arange(h, dtype=np.float32) / max(1, h) * 1.1, 0, 1) * 0.05
    rows = slice(0, h, step)
    full[rows] += (255 - full[rows]) * fade[rows][:, None, None]
    cols = slice(0, w, step)
    full[:, cols] += (255 - full[:, cols]) * fade[:, None, None]
    return Image.fromarray(np.clip(full + 0.5, 0, 255).astype(np.uint8), "RGB")


def _d_cta_band(cv: _Canvas, box: tuple, p: dict) -> None:
    x0, y0, w, h = cv.sb(*box)
    g = _hero_img(w, h, max(1, cv.px(1440)))
    cv.img.paste(g, (x0, y0))


def _d_card(cv: _Canvas, box: tuple, p: dict) -> None:
    r = p.get("radius", 16)
    if p.get("shadow"):
        cv.shadow(box, r, p.get("shadow_strength", 1.0))
    cv.rr(box, r, p["fill"], outline=p.get("border"), ow=p.get("border_w", 1))


def _d_button(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    r = p["radius"]
    if p.get("shadow"):
        cv.rr((x, y + 2, w, h), r, SLATE_900, alpha=0.12)
        cv.rr((x, y + 4, w, h), r, SLATE_900, alpha=0.05)
    if p.get("border") is not None and p.get("bg_alpha", 1.0) < 1.0:
        cv.rr(box, r, p["bg"], alpha=p["bg_alpha"])
        cv.ring(box, r, p["border"], 1.5, alpha=0.6)
    elif p.get("border") is not None:
        cv.rr(box, r, p["bg"], outline=p["border"], ow=1.5 if p["bg"] == WHITE else 1)
    else:
        cv.rr(box, r, p["bg"])
    size = p["size"]
    text = p["text"]
    icon = p.get("icon")
    tw = _tw(text, True, size)
    isz = round(size * 1.15)
    gap = round(size * 0.45)
    total = tw + (isz + gap if icon else 0)
    left = x + (w - total) / 2
    if icon in ("play", "google"):
        if icon == "play":
            cv.icon("play", left, y + (h - isz) / 2, isz, p["fg"] if p["fg"] != WHITE else INDIGO, WHITE, 0.5)
        else:
            cv.icon("google", left, y + (h - isz) / 2, isz, (0, 0, 0), None)
        cv.text_line(text, left + isz + gap, y, h, size, True, p["fg"])
    elif icon == "arrow":
        cv.text_line(text, left, y, h, size, True, p["fg"])
        cv.icon("arrow", left + tw + gap, y + (h - isz) / 2, isz, p["fg"], None)
    else:
        cv.text_line(text, x, y, h, size, True, p["fg"], align="center", w=w)


def _d_logo(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rr((x, y, h, h), h * 0.28, cv.gradient(*cv.sb(x, y, h, h)[2:], INDIGO, VIOLET, 0.5))
    cv.icon("logo", x, y, h, WHITE, None)
    cv.text_line("Acme Flow", x + h + 10, y, h, p["size"], True, WHITE if p["dark_bg"] else SLATE_900)


def _d_menu(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rr(box, 10, WHITE, outline=SLATE_200)
    cv.icon("menu", x + (w - 24) / 2, y + (h - 24) / 2, 24, SLATE_700)


def _d_announcement(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rr(box, h / 2, WHITE, alpha=0.28)
    cv.rr((x + 1, y + 1, w - 2, h - 2), h / 2 - 1, INDIGO_800, alpha=0.55)
    bw = _tw(p["badge"], True, 11) + 20
    cv.rr((x + 4, y + 4, bw, h - 8), (h - 8) / 2, WHITE)
    cv.text_line(p["badge"], x + 4, y + 4, h - 8, 11, True, INDIGO, align="center", w=bw)
    cv.text_line(p["text"], x + 4 + bw + 10, y, h, 14, False, WHITE)
    cv.icon("arrow", x + w - 24, y + (h - 14) / 2, 14, INDIGO_200)


def _d_icon(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.icon(p["icon"], x, y, min(w, h), p["fg"], p["bg"], p.get("radius", 0.25))


def _d_wordmark(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    size = p["size"]
    mk = round(size * 1.15)
    col = SLATE_400
    my = y + (h - mk) / 2
    k = p["shape"] % 6
    if k == 0:
        cv.circle(x + mk / 2, my + mk / 2, mk / 2, col)
        cv.circle(x + mk / 2, my + mk / 2, mk / 4, WHITE)
    elif k == 1:
        cv.rr((x, my, mk, mk), mk * 0.22, col)
    elif k == 2:
        cv.rr((x, my + mk * 0.15, mk * 0.42, mk * 0.7), 2, col)
        cv.rr((x + mk * 0.55, my, mk * 0.45, mk), 2, col)
    elif k == 3:
        cv.icon("star", x, my, mk, col)
    elif k == 4:
        cv.circle(x + mk / 2, my + mk / 2, mk / 2, col)
    else:
        cv.icon("bolt", x - mk * 0.15, my - mk * 0.15, mk * 1.3, col)
    cv.text_line(p["text"], x + mk + 8, y, h, size, True, col)


def _d_check_item(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    isz, lh = p["isz"], p["lh"]
    cv.icon("check_bold", x, y + (lh - isz) / 2, isz, p["icon_fg"], p["icon_bg"], 0.5)
    for i, s in enumerate(p["lines"]):
        cv.text_line(s, x + isz + 12, y + i * lh, lh, p["size"], False, p["color"])


def _d_stars(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    for i in range(5):
        cv.icon("star", x + i * 22, y, 18, AMBER)


def _d_avatar(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    col = p["color"]
    cv.rr(box, w / 2, cv.gradient(*cv.sb(*box)[2:], _mix(col, WHITE, 0.25), _mix(col, SLATE_900, 0.15), 0.7))
    cv.text_line(p["initials"], x, y, h, w * 0.36, True, WHITE, align="center", w=w)


def _d_pill(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rr(box, h / 2, p["bg"])
    cv.text_line(p["text"], x, y, h, p["size"], True, p["fg"], align="center", w=w)


def _d_price(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.text_line(p["amount"], x, y, h, 44, True, SLATE_900)
    aw = _tw(p["amount"], True, 44)
    cv.text_line(p["period"], x + aw + 8, y + 8, h - 8, 16, False, SLATE_500)


def _d_faq_q(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    pad = p["pad"]
    lines = p["lines"]
    ty = y + (h - len(lines) * 26) / 2
    for i, s in enumerate(lines):
        cv.text_line(s, x + pad, ty + i * 26, 26, 17, True, SLATE_900)
    isz = 28
    cv.icon("minus" if p["open"] else "plus", x + w - pad - isz, y + (h - isz) / 2, isz,
            INDIGO if p["open"] else SLATE_600, INDIGO_50 if p["open"] else SLATE_100, 0.5)


def _d_rule(cv: _Canvas, box: tuple, p: dict) -> None:
    cv.rect(box, p["color"])


def _d_social(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rr(box, w / 2, SLATE_800)
    k = p["kind"]
    fs = 13 if k != "x" else 14
    txt = {"x": "X", "linkedin": "in", "github": "gh"}[k]
    cv.text_line(txt, x, y, h, fs, True, SLATE_300, align="center", w=w)


def _d_or_divider(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    tw = _tw("or continue with email", False, 13) + 24
    cv.hline(x, y + h / 2, (w - tw) / 2, SLATE_200)
    cv.hline(x + (w + tw) / 2, y + h / 2, (w - tw) / 2, SLATE_200)
    cv.text_line("or continue with email", x, y, h, 13, False, SLATE_400, align="center", w=w)


def _d_input(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    err = p.get("error")
    if err:
        cv.rr((x - 0, y, w, h), 10, WHITE, outline=RED, ow=1.5)
    else:
        cv.rr(box, 10, WHITE, outline=SLATE_300)
    if p["kind"] == "select":
        cv.text_line(p["placeholder"], x + 14, y, h, 15, False, SLATE_900)
        cv.icon("chevron", x + w - 14 - 20, y + (h - 20) / 2, 20, SLATE_500)
    elif p.get("password"):
        for i in range(10):
            cv.circle(x + 18 + i * 12, y + h / 2, 3.2, SLATE_400)
        cv.text_line("Show", x, y, h, 13, True, INDIGO, align="right", w=w - 14)
    else:
        cv.text_line(p["placeholder"], x + 14, y, h, 15, False, SLATE_400)
        if err:
            cv.circle(x + w - 24, y + h / 2, 9, RED)
            cv.text_line("!", x + w - 33, y, h, 12, True, WHITE, align="center", w=18)


def _d_checkbox(cv: _Canvas, box: tuple, p: dict) -> None:
    cv.rr(box, 5, WHITE, outline=SLATE_400, ow=1.5)


def _d_aside(cv: _Canvas, box: tuple, p: dict) -> None:
    x0, y0, w, h = cv.sb(*box)
    g = _hero_img(w, h, max(1, cv.px(1440)))
    cv.rr(box, 20, g)


def _d_rating(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    cv.rr(box, h / 2, WHITE, alpha=0.14)
    for i in range(5):
        cv.icon("star", x + 12 + i * 16, y + (h - 14) / 2, 14, AMBER_300)
    cv.text_line(p["text"], x + 12 + 5 * 16 + 6, y, h, 13, True, WHITE)


def _d_quote_card(cv: _Canvas, box: tuple, p: dict) -> None:
    cv.rr(box, 16, WHITE, alpha=0.1)
    cv.ring(box, 16, WHITE, 1.0, alpha=0.25)


# ---- product mock-ups ------------------------------------------------------------------------

_BARS = [0.42, 0.55, 0.48, 0.63, 0.58, 0.71, 0.66, 0.78, 0.74, 0.86, 0.81, 0.95]


def _d_dashboard(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    R = max(8.0, w * 0.018)
    # frame shadow on the gradient
    cv.shadow(box, R, 1.0, INDIGO_950, ((1, 4, 0.10), (6, 14, 0.07), (14, 28, 0.04)))
    cv.rr(box, R, WHITE)
    u = w / 620.0  # unit relative to the desktop design size
    # window chrome
    ch = max(18.0, 34 * u)
    cv.rr((x, y, w, ch + R), R, SLATE_100)
    cv.rect((x, y + ch, w, R + 1), WHITE)
    cv.hline(x, y + ch, w, SLATE_200)
    dr = max(3.0, 5.5 * u)
    for i, col in enumerate((RED_400, AMBER, (52, 211, 153))):
        cv.circle(x + ch * 0.55 + i * dr * 3.2, y + ch / 2, dr, col)
    uw = w * 0.36
    cv.rr((x + (w - uw) / 2, y + ch * 0.22, uw, ch * 0.56), ch * 0.28, WHITE)
    cv.small_text("app.acmeflow.com/overview", x + (w - uw) / 2, y + ch * 0.22, ch * 0.56, 11 * u, False,
                  SLATE_500, uw, align="center")
    body_y = y + ch + 1
    body_h = h - ch - 1
    # sidebar
    sw = w * 0.2
    cv.rr((x, body_y, sw, body_h), R, INDIGO_950)
    cv.rect((x, body_y, sw, body_h - R), INDIGO_950)
    cv.rect((x + sw - R, body_y, R, body_h), INDIGO_950)
    sp = 12 * u
    cv.rr((x + sp, body_y + sp, 20 * u, 20 * u), 5 * u, cv.gradient(*cv.sb(x, y, 20 * u, 20 * u)[2:], INDIGO, VIOLET))
    cv.small_text("Acme Flow", x + sp + 26 * u, body_y + sp, 20 * u, 11 * u, True, WHITE, sw - sp * 2 - 26 * u)
    items = ["Overview", "Workflows", "Runs", "Apps", "Team", "Settings"]
    iy = body_y + sp + 40 * u
    for i, name in enumerate(items):
        ih = 26 * u
        if iy + ih > y + h - sp:
            break
        if i == 0:
            cv.rr((x + sp * 0.6, iy, sw - sp * 1.2, ih), 6 * u, INDIGO)
        cv.rr((x + sp, iy + ih * 0.3, ih * 0.4, ih * 0.4), 2 * u, INDIGO_200 if i == 0 else (99, 102, 160))
        cv.small_text(name, x + sp + ih * 0.4 + 8 * u, iy, ih, 10.5 * u, i == 0, WHITE if i == 0 else INDIGO_200,
                      sw - sp * 2 - ih * 0.4 - 8 * u)
        iy += ih + 6 * u
    # main area
    mx = x + sw + 16 * u
    mw = x + w - 16 * u - mx
    my = body_y + 14 * u
    cv.small_text("Overview", mx, my, 22 * u, 15 * u, True, SLATE_900, mw * 0.5)
    bw = 96 * u
    cv.rr((mx + mw - bw, my, bw, 22 * u), 6 * u, INDIGO)
    cv.small_text("+ New workflow", mx + mw - bw, my, 22 * u, 9.5 * u, True, WHITE, bw, align="center")
    my += 22 * u + 12 * u
    # KPI cards
    kpis = [("Tasks automated", "48.2k", "+12%"), ("Hours saved", "1,240", "+8%"), ("Success rate", "99.2%", "+0.4%"),
            ("Active workflows", "128", "+6")]
    gap = 10 * u
    tall = h > w * 0.9  # portrait crop (mobile): 2 x 2 KPI grid
    ncol = 2 if tall else 3
    kpis = kpis if tall else kpis[:3]
    kw = (mw - (ncol - 1) * gap) / ncol
    kh = 62 * u
    for i, (lab, val, delta) in enumerate(kpis):
        kx = mx + (i % ncol) * (kw + gap)
        ky = my + (i // ncol) * (kh + gap)
        cv.rr((kx, ky, kw, kh), 8 * u, WHITE, outline=SLATE_200)
        cv.small_text(lab, kx + 10 * u, ky + 8 * u, 14 * u, 9 * u, False, SLATE_500, kw - 20 * u)
        cv.small_text(val, kx + 10 * u, ky + 24 * u, 24 * u, 17 * u, True, SLATE_900, kw * 0.62)
        cv.small_text(delta, kx + 10 * u, ky + 24 * u, 24 * u, 9 * u, True, GREEN, kw - 20 * u, align="right")
    my += (len(kpis) // ncol) * (kh + gap) - gap + 12 * u
    # chart card
    rest = y + h - 14 * u - my
    chh = rest * 0.56
    cv.rr((mx, my, mw, chh), 8 * u, WHITE, outline=SLATE_200)
    cv.small_text("Tasks automated per week", mx + 12 * u, my + 8 * u, 16 * u, 10 * u, True, SLATE_700, mw * 0.6)
    cv.rr((mx + mw - 70 * u, my + 8 * u, 58 * u, 16 * u), 8 * u, SLATE_100)
    cv.small_text("12 weeks", mx + mw - 70 * u, my + 8 * u, 16 * u, 8.5 * u, False, SLATE_600, 58 * u, align="center")
    gx0, gx1 = mx + 12 * u, mx + mw - 12 * u
    gy0, gy1 = my + 32 * u, my + chh - 12 * u
    for k in range(4):
        gy = gy0 + (gy1 - gy0) * k / 3
        cv.hline(gx0, gy, gx1 - gx0, SLATE_100)
    n = len(_BARS)
    slot = (gx1 - gx0) / n
    bwid = slot * 0.56
    for i, v in enumerate(_BARS):
        bx = gx0 + i * slot + (slot - bwid) / 2
        bh = (gy1 - gy0) * v
        col = INDIGO if i == n - 1 else INDIGO_200 if i < n - 4 else (129, 140, 248)
        cv.rr((bx, gy1 - bh, bwid, bh), min(bwid / 2, 3 * u), col)
    my += chh + 10 * u
    # runs table
    th = y + h - 14 * u - my
    if th > 20 * u:
        cv.rr((mx, my, mw, th), 8 * u, WHITE, outline=SLATE_200)
        rows = [("Route new leads to sales", "Completed", GREEN, GREEN_50),
                ("Sync invoices to QuickBooks", "Running", ORANGE, (255, 247, 237)),
                ("Welcome email sequence", "Completed", GREEN, GREEN_50),
                ("Escalate urgent tickets", "Completed", GREEN, GREEN_50),
                ("Weekly pipeline report", "Scheduled", INDIGO, INDIGO_50),
                ("Onboard new customer", "Completed", GREEN, GREEN_50),
                ("Renewal reminders", "Running", ORANGE, (255, 247, 237))]
        rh = 26 * u
        ry = my + 6 * u
        for i, (name, status, col, bg) in enumerate(rows):
            if ry + rh > my + th - 4 * u:
                break
            if i:
                cv.hline(mx + 10 * u, ry, mw - 20 * u, SLATE_100)
            cv.circle(mx + 20 * u, ry + rh / 2, 7 * u, [INDIGO_200, (253, 186, 116), (134, 239, 172),
                                                         (249, 168, 212)][i % 4])
            cv.small_text(name, mx + 34 * u, ry, rh, 10 * u, False, SLATE_700, mw * 0.55)
            pw = 62 * u
            cv.rr((mx + mw - 12 * u - pw, ry + rh * 0.2, pw, rh * 0.6), rh * 0.3, bg)
            cv.small_text(status, mx + mw - 12 * u - pw, ry + rh * 0.2, rh * 0.6, 8.5 * u, True, col, pw,
                          align="center")
            cv.small_text("2 min ago", mx + mw * 0.62, ry, rh, 9 * u, False, SLATE_400, mw * 0.2)
            ry += rh


def _d_workflow(cv: _Canvas, box: tuple, p: dict) -> None:
    x, y, w, h = box
    u = w / 620.0
    cv.shadow(box, 16, 1.5)
    cv.rr(box, 16, SLATE_50, outline=SLATE_200)
    # dotted canvas grid
    step = 22 * u
    d = cv.d
    r = max(1, cv.px(1.1 * u))
    gy = y + 52 * u + step
    while gy < y + h - 8:
        gx = x + step
        while gx < x + w - 8:
            px, py = cv.px(gx), cv.px(gy)
            d.ellipse((px - r, py - r, px + r, py + r), fill=SLATE_300)
            gx += step
        gy += step
    # toolbar
    tb = 48 * u
    cv.rr((x + 1, y + 1, w - 2, tb + 15), 15, WHITE)
    cv.rect((x + 1, y + tb, w - 2, 17), SLATE_50)
    cv.hline(x + 1, y + tb, w - 2, SLATE_200)
    cv.small_text("Lead routing", x + 18 * u, y, tb, 15 * u, True, SLATE_900, w * 0.4)
    lw = _tw("Lead routing", True, max(1, round(15 * u)))
    cv.rr((x + 18 * u + lw + 10 * u, y + tb / 2 - 10 * u, 48 * u, 20 * u), 10 * u, GREEN_50)
    cv.circle(x + 18 * u + lw + 20 * u, y + tb / 2, 3.5 * u, GREEN)
    cv.small_text("Live", x + 18 * u + lw + 28 * u, y + tb / 2 - 10 * u, 20 * u, 10 * u, True, GREEN_700, 28 * u)
    pbw = 78 * u
    cv.rr((x + w - 18 * u - pbw, y + tb / 2 - 15 * u, pbw, 30 * u), 8 * u, INDIGO)
    cv.small_text("Publish", x + w - 18 * u - pbw, y + tb / 2 - 15 * u, 30 * u, 12 * u, True, WHITE, pbw,
                  align="center")
    cv.rr((x + w - 18 * u - pbw - 10 * u - 70 * u, y + tb / 2 - 15 * u, 70 * u, 30 * u), 8 * u, WHITE,
          outline=SLATE_200)
    cv.small_text("Test run", x + w - 18 * u - pbw - 80 * u, y + tb / 2 - 15 * u, 30 * u, 12 * u, True, SLATE_700,
                  70 * u, align="center")
    # nodes
    area_y = y + tb
    area_h = h - tb
    nw, nh = w * 0.46, area_h * 0.16
    nodes = {
        "a": (x + (w - nw) / 2, area_y + area_h * 0.07, nw, nh, "New form submission", "Trigger · Webflow", GREEN),
        "b": (x + (w - nw) / 2, area_y + area_h * 0.31, nw, nh, "Enrich company data", "Action · Clearbit", SKY),
        "c": (x + w * 0.05, area_y + area_h * 0.74, w * 0.42, nh, "Assign to sales rep", "Action · Salesforce",
              INDIGO),
        "d": (x + w * 0.53, area_y + area_h * 0.74, w * 0.42, nh, "Send nurture email", "Action · Mailchimp", PINK),
    }
    cond = (x + (w - w * 0.4) / 2, area_y + area_h * 0.54, w * 0.4, area_h * 0.1)
    lc = SLATE_400
    lwid = max(1.0, 1.6 * u)

    def vline(xc: float, y0: float, y1: float) -> None:
        cv.line(xc, y0, xc, y1, lc, lwid)
        a = 5 * u
        cv.line(xc - a, y1 - a, xc, y1, lc, lwid)
        cv.line(xc + a, y1 - a, xc, y1, lc, lwid)

    ax_, ay_, aw_, ah_ = nodes["a"][:4]
    bx_, by_, bw_, bh_ = nodes["b"][:4]
    vline(ax_ + aw_ / 2, ay_ + ah_, by_)
    vline(bx_ + bw_ / 2, by_ + bh_, cond[1])
    # branches
    cxm = cond[0] + cond[2] / 2
    ybr = cond[1] + cond[3] + (nodes["c"][1] - cond[1] - cond[3]) / 2
    cv.line(cxm, cond[1] + cond[3], cxm, ybr, lc, lwid)
    for key, lab in (("c", "Yes"), ("d", "No")):
        nx, ny, nw_, nh_ = nodes[key][:4]
        xc = nx + nw_ / 2
        cv.line(min(cxm, xc), ybr, max(cxm, xc), ybr, lc, lwid)
        vline(xc, ybr, ny)
        tw = 34 * u
        cv.rr((xc + 6 * u, ybr + 4 * u, tw, 16 * u), 8 * u, WHITE, outline=SLATE_200)
        cv.small_text(lab, xc + 6 * u, ybr + 4 * u, 16 * u, 9 * u, True, SLATE_600, tw, align="center")
    # condition pill
    cv.rr(cond, cond[3] / 2, (255, 251, 235), outline=AMBER)
    cv.small_text("Company size > 50?", cond[0], cond[1], cond[3], 11.5 * u, True, (146, 64, 14), cond[2],
                  align="center")
    for key, (nx, ny, nw_, nh_, title, sub, col) in nodes.items():
        cv.shadow((nx, ny, nw_, nh_), 10 * u)
        cv.rr((nx, ny, nw_, nh_), 10 * u, WHITE, outline=SLATE_200 if key != "b" else INDIGO,
              ow=1 if key != "b" else 1.5)
        isz = nh_ * 0.56
        cv.rr((nx + 10 * u, ny + (nh_ - isz) / 2, isz, isz), isz * 0.25, _mix(col, WHITE, 0.85))
        cv.icon("bolt" if key == "a" else "check" if key in "cd" else "chart", nx + 10 * u, ny + (nh_ - isz) / 2,
                isz, col)
        tx = nx + 10 * u + isz + 10 * u
        cv.small_text(title, tx, ny + nh_ * 0.16, nh_ * 0.36, 11.5 * u, True, SLATE_900, nx + nw_ - tx - 8 * u)
        cv.small_text(sub, tx, ny + nh_ * 0.5, nh_ * 0.34, 9.5 * u, False, SLATE_500, nx + nw_ - tx - 8 * u)


_DRAW = {
    "text": _d_text,
    "nav": _d_nav,
    "band": _d_band,
    "hero": _d_hero,
    "cta_band": _d_cta_band,
    "card": _d_card,
    "button": _d_button,
    "logo": _d_logo,
    "menu": _d_menu,
    "announcement": _d_announcement,
    "icon": _d_icon,
    "wordmark": _d_wordmark,
    "check_item": _d_check_item,
    "stars": _d_stars,
    "avatar": _d_avatar,
    "pill": _d_pill,
    "price": _d_price,
    "faq_q": _d_faq_q,
    "rule": _d_rule,
    "social": _d_social,
    "or_divider": _d_or_divider,
    "input": _d_input,
    "checkbox": _d_checkbox,
    "aside": _d_aside,
    "rating": _d_rating,
    "quote_card": _d_quote_card,
    "dashboard": _d_dashboard,
    "workflow": _d_workflow,
}

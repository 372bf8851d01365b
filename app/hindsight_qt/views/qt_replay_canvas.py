"""QtReplayCanvas: one replay frame drawn over the page's full-page screenshot.

Layers (``setZValue``, all items created once, updated per frame):

==  =======================================================================
 0  screenshot ``ImageItem`` (uint8 RGB, row-major, ``setRect`` to CSS px)
10  overlay ``ImageItem`` slot for heatmaps (``set_overlay``)
20  shade: the page outside the visitor's viewport dimmed, viewport outlined
25  focused field outline
30  cursor trail
35  click / tap ripples
40  cursor
45  hesitation marker
50  hidden / loading veil over the viewport
60  badges and labels (fixed screen size)
==  =======================================================================

Scene coordinates are document CSS px of the pageview's snapshot (y down: the ViewBox has
``invertY`` and a locked aspect, so page pixels map 1:1). Markers that should keep their
on-screen size at any zoom (cursor, ripples, badges) ignore view transformations.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QToolTip, QVBoxLayout, QWidget

from hindsight.replay.hesitation import element_kind
from hindsight.replay.focus_badge import focus_badge_text
from hindsight.replay.timeline import select_options

# -- colours ---------------------------------------------------------------------------
CANVAS_BG = QColor("#1c1f24")
SHADE = QColor(10, 12, 16, 115)  # ~45 % over the page outside the viewport
VIEWPORT_EDGE = QColor(255, 255, 255, 210)
CLICK_COLOR = QColor("#ff8a1f")
TAP_COLOR = QColor("#3b82f6")
FOCUS_COLOR = QColor("#7c5cff")
HESITATION_COLOR = QColor("#f5a524")
TRAIL_COLOR = QColor("#ff8a1f")
VEIL = QColor(18, 20, 24, 190)
ERROR_COLOR = QColor("#e5484d")
VALIDATION_COLOR = QColor("#f97316")
#: A JS error or validation message stays on screen this long after it happened (ms).
TOAST_MS = 2500

RIPPLE_MS = 600.0
#: Decoded screenshots kept per canvas (a 1440 x 5400 page is ~23 MB as RGB).
IMAGE_CACHE_BYTES = 400 * 1024 * 1024
RIPPLE_POOL = 8
#: A masked field shows at most this many dots (a length hint, not a count to read).
MASK_MAX_DOTS = 24
MASK_DOT_COLOR = QColor("#374151")
CHECK_COLOR = QColor("#4f46e5")
#: The follow view shows the visitor's viewport plus this margin (fraction of its height).
FOLLOW_MARGIN = 0.06


def _is_tap(kind) -> bool:
    # the engine gives EventKind ints (TAP == 2); accept names too
    return kind == 2 or kind == "tap"


def _ui_font(pixel_size: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(pixel_size)
    f.setBold(bold)
    return f


@contextmanager
def _fresh_device_cache(item: QGraphicsItem):
    """Change a device-cached item's pixels and drop its cached pixmap.

    Qt reuses a ``DeviceCoordinateCache`` pixmap when only the item's translation changes and
    repaints just the newly exposed strip, so a new screenshot of a similar size kept showing
    the previous page. Switching the cache off discards the pixmap; the next paint rebuilds it.
    """
    mode = item.cacheMode()
    item.setCacheMode(QGraphicsItem.NoCache)
    try:
        yield item
    finally:
        item.update()
        item.setCacheMode(mode)


# -- scene items -------------------------------------------------------------------------
class _ShadeItem(QGraphicsItem):
    """Dims the page outside the viewport and outlines the viewport (document coords)."""

    def __init__(self) -> None:
        super().__init__()
        self._page = QRectF()
        self._view = QRectF()

    def set_rects(self, page: QRectF, view: QRectF) -> None:
        if page != self._page:
            self.prepareGeometryChange()
            self._page = QRectF(page)
        if view != self._view:
            self._view = QRectF(view)
            self.update()

    def boundingRect(self) -> QRectF:
        return self._page.adjusted(-4, -4, 4, 4)

    def paint(self, p: QPainter, *_: Any) -> None:
        if self._page.isEmpty():
            return
        page, v = self._page, self._view.intersected(self._page)
        p.setPen(Qt.NoPen)
        p.setBrush(SHADE)
        if v.isEmpty():
            p.drawRect(page)
            return
        # four bands around the viewport, no overdraw
        p.drawRect(QRectF(page.left(), page.top(), page.width(), v.top() - page.top()))
        p.drawRect(QRectF(page.left(), v.bottom(), page.width(), page.bottom() - v.bottom()))
        p.drawRect(QRectF(page.left(), v.top(), v.left() - page.left(), v.height()))
        p.drawRect(QRectF(v.right(), v.top(), page.right() - v.right(), v.height()))
        # a dark halo under a light line: the edge reads on white and on dark pages alike
        p.setBrush(Qt.NoBrush)
        for color, width in ((QColor(0, 0, 0, 80), 3.5), (VIEWPORT_EDGE, 1.5)):
            pen = QPen(color, width)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.MiterJoin)
            p.setPen(pen)
            p.drawRect(self._view)


class _TrailItem(QGraphicsItem):
    """The cursor's recent path, fading from transparent (old) to solid (now)."""

    def __init__(self) -> None:
        super().__init__()
        self._pts: np.ndarray = np.zeros((0, 2))
        self._bounds = QRectF()

    def set_points(self, pts: np.ndarray | None) -> None:
        pts = np.zeros((0, 2)) if pts is None or len(pts) < 2 else np.asarray(pts, dtype=float)
        if len(pts) == 0 and len(self._pts) == 0:
            return
        self.prepareGeometryChange()
        self._pts = pts
        if len(pts):
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            # generous pad: the pen is cosmetic, so at low zoom it covers many doc px
            self._bounds = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]).adjusted(-40, -40, 40, 40)
        else:
            self._bounds = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p: QPainter, *_: Any) -> None:
        n = len(self._pts)
        if n < 2:
            return
        p.setRenderHint(QPainter.Antialiasing)
        color = QColor(TRAIL_COLOR)
        pts = [QPointF(float(x), float(y)) for x, y in self._pts]
        for i in range(1, n):
            a = i / (n - 1)
            color.setAlphaF(0.08 + 0.62 * a * a)
            pen = QPen(color, 1.0 + 2.0 * a, Qt.SolidLine, Qt.RoundCap)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawLine(pts[i - 1], pts[i])


class _FixedSizeItem(QGraphicsItem):
    """An item drawn in screen px at a document position (ignores zoom)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations, True)


class _CursorItem(_FixedSizeItem):
    """A classic arrow pointer, white with a dark outline and a soft shadow; tip at (0, 0)."""

    def __init__(self) -> None:
        super().__init__()
        path = QPainterPath()
        for i, (x, y) in enumerate([(0, 0), (0, 17), (4.2, 13.2), (7.2, 20), (10, 18.8),
                                    (7.1, 12.3), (12.6, 12.3)]):
            path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
        path.closeSubpath()
        self._path = path

    def boundingRect(self) -> QRectF:
        return QRectF(-3, -3, 20, 27)

    def paint(self, p: QPainter, *_: Any) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(0, 0, 0, 70))
        p.drawPath(self._path.translated(1.2, 1.8))
        p.setPen(QPen(QColor("#15171a"), 1.3, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.setBrush(QColor("#ffffff"))
        p.drawPath(self._path)


class _RippleItem(_FixedSizeItem):
    """An expanding ring (click or tap) whose radius grows and alpha fades with age."""

    R_MAX = 34.0

    def __init__(self) -> None:
        super().__init__()
        self.radius = 0.0
        self.alpha = 0.0
        self.color = QColor(CLICK_COLOR)

    def set_state(self, age_ms: float, color: QColor) -> None:
        a = min(max(age_ms / RIPPLE_MS, 0.0), 1.0)
        ease = 1.0 - (1.0 - a) ** 3
        self.radius = 6.0 + (self.R_MAX - 6.0) * ease
        self.alpha = 1.0 - a
        self.color = color
        self.update()

    def boundingRect(self) -> QRectF:
        r = self.R_MAX + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, p: QPainter, *_: Any) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        c = QColor(self.color)
        c.setAlphaF(0.22 * self.alpha)
        p.setPen(Qt.NoPen)
        p.setBrush(c)
        p.drawEllipse(QPointF(0, 0), self.radius, self.radius)
        p.setBrush(Qt.NoBrush)
        # a light halo under the ring keeps an orange ring visible on an orange button
        p.setPen(QPen(QColor(255, 255, 255, int(200 * self.alpha)), 5.0))
        p.drawEllipse(QPointF(0, 0), self.radius, self.radius)
        c.setAlphaF(self.alpha)
        p.setPen(QPen(c, 2.5))
        p.drawEllipse(QPointF(0, 0), self.radius, self.radius)
        # the contact point stays solid while the ring is young
        c.setAlphaF(min(1.0, 1.6 * self.alpha))
        p.setPen(QPen(QColor(255, 255, 255, int(230 * self.alpha)), 1.5))
        p.setBrush(c)
        p.drawEllipse(QPointF(0, 0), 4.5, 4.5)


class _PillItem(_FixedSizeItem):
    """A rounded label in screen px. ``anchor`` picks which point of the pill sits at pos()."""

    def __init__(self, fg: QColor, bg: QColor, pixel_size: int = 12, bold: bool = False,
                 border: QColor | None = None) -> None:
        super().__init__()
        self._text = ""
        self._fg, self._bg, self._border = fg, bg, border
        self._font = _ui_font(pixel_size, bold)
        self._fm = QFontMetricsF(self._font)
        self._anchor = (0.0, 1.0)
        self._offset = QPointF(0, 0)
        self._max_width: float | None = None
        self._wrap = False
        self._rect = QRectF()

    def set_colors(self, fg: QColor, bg: QColor, border: QColor | None = None) -> None:
        self._fg, self._bg, self._border = fg, bg, border
        self.update()

    def set_text(self, text: str, anchor: tuple[float, float] = (0.0, 1.0),
                 offset: tuple[float, float] = (0.0, 0.0), max_width: float | None = None) -> None:
        """``max_width`` (screen px): a longer text wraps onto more lines within it."""
        if (text == self._text and anchor == self._anchor and offset == (self._offset.x(), self._offset.y())
                and max_width == self._max_width):
            return
        self.prepareGeometryChange()
        self._text, self._anchor, self._offset, self._max_width = text, anchor, QPointF(*offset), max_width
        padx, pady = self._fm.height() * 0.6, self._fm.height() * 0.25
        w = self._fm.horizontalAdvance(text) + 2 * padx
        h = self._fm.height() + 2 * pady
        self._wrap = max_width is not None and w > max_width
        if self._wrap:
            inner = self._fm.boundingRect(QRectF(0, 0, max_width - 2 * padx, 1e6),
                                          int(Qt.AlignCenter | Qt.TextWordWrap), text)
            w, h = inner.width() + 2 * padx, inner.height() + 2 * pady
        self._rect = QRectF(-anchor[0] * w + offset[0], -anchor[1] * h + offset[1], w, h)
        self.update()

    @property
    def text(self) -> str:
        return self._text

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, p: QPainter, *_: Any) -> None:
        if not self._text:
            return
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(QPen(self._border, 1) if self._border is not None else Qt.NoPen)
        p.setBrush(self._bg)
        r = self._fm.height() / 2 + self._fm.height() * 0.25   # a one-line pill's round ends
        p.drawRoundedRect(self._rect, r, r)
        p.setPen(self._fg)
        p.setFont(self._font)
        p.drawText(self._rect, int(Qt.AlignCenter | Qt.TextWordWrap) if self._wrap else Qt.AlignCenter, self._text)


class _HesitationItem(_FixedSizeItem):
    """Where the visitor hesitated: an amber target ring with a soft halo."""

    def boundingRect(self) -> QRectF:
        return QRectF(-30, -30, 60, 60)

    def paint(self, p: QPainter, *_: Any) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        halo = QColor(HESITATION_COLOR)
        halo.setAlpha(55)
        p.setPen(Qt.NoPen)
        p.setBrush(halo)
        p.drawEllipse(QPointF(0, 0), 26, 26)
        p.setPen(QPen(HESITATION_COLOR, 2.5))
        p.setBrush(Qt.NoBrush)
        p.drawEllipse(QPointF(0, 0), 16, 16)
        p.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
        p.setBrush(HESITATION_COLOR)
        p.drawEllipse(QPointF(0, 0), 5, 5)


def _paint_choice_item(self, p: QPainter) -> None:
    """Radio / checkbox drawn checked (1) or unchecked (0) over the screenshot's default;
    a select's box shows the chosen option's label (left of its arrow)."""
    p.setRenderHint(QPainter.Antialiasing)
    b = self._box
    if self.mode == "select":
        if self.length < 0 or not self.option_label:
            return
        inner = b.adjusted(2, 2, -min(28.0, b.width() / 3), -2)
        p.setPen(Qt.NoPen)
        p.setBrush(self._fill)
        p.drawRect(inner)
        size = max(min(int(b.height() * 0.36), 16), 8)
        p.setFont(_ui_font(size))
        p.setPen(QColor("#111827"))
        p.setClipRect(inner)
        pad = min(max(b.height() * 0.25, 4.0), 12.0)
        p.drawText(inner.adjusted(pad - 2, 0, 0, 0), Qt.AlignLeft | Qt.AlignVCenter, self.option_label)
        return
    if self.mode == "checkbox" and self.length > 0:
        self._paint_tick(p)
        return
    # unchecked box / radio, or a checked radio: cover the screenshot's default look
    r = b.adjusted(0.5, 0.5, -0.5, -0.5)
    p.setPen(QPen(QColor("#6b7280"), 1.0))
    p.setBrush(QColor("#ffffff"))
    if self.mode == "radio":
        p.drawEllipse(r)
        if self.length > 0:
            p.setPen(Qt.NoPen)
            p.setBrush(CHECK_COLOR)
            c = r.center()
            p.drawEllipse(c, r.width() * 0.3, r.height() * 0.3)
            p.setBrush(Qt.NoBrush)
            p.setPen(QPen(CHECK_COLOR, 1.2))
            p.drawEllipse(r)
    else:
        p.drawRoundedRect(r, 2, 2)


class _TapItem(QGraphicsItem):
    """A tap on a touch page: a finger-sized translucent disc (document CSS px, so it scales
    with the page like a fingertip would) that fades and shrinks a little with age."""

    R = 22.0  # ~44 CSS px across: a fingertip on a phone

    def __init__(self) -> None:
        super().__init__()
        self.alpha = 0.0
        self.scale_f = 1.0

    def set_age(self, age_ms: float) -> None:
        a = min(max(age_ms / RIPPLE_MS, 0.0), 1.0)
        self.alpha = 1.0 - a
        self.scale_f = 1.0 - 0.25 * a
        self.update()

    def boundingRect(self) -> QRectF:
        r = self.R + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, p: QPainter, *_: Any) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        r = self.R * self.scale_f
        c = QColor(TAP_COLOR)
        c.setAlphaF(0.38 * self.alpha)
        p.setPen(QPen(QColor(255, 255, 255, int(220 * self.alpha)), 2.0))
        p.setBrush(c)
        p.drawEllipse(QPointF(0, 0), r, r)
        edge = QColor(TAP_COLOR)
        edge.setAlphaF(0.85 * self.alpha)
        p.setPen(QPen(edge, 1.5))
        p.setBrush(Qt.NoBrush)
        p.drawEllipse(QPointF(0, 0), r - 2.0, r - 2.0)


class _FieldMaskItem(QGraphicsItem):
    """A form field's value as the replay may show it: a fill over the screenshot's placeholder
    and one dot per character typed (capped), or a tick for a checked checkbox. Lengths only:
    the characters are never recorded. Document coordinates; configured once per page.
    """

    def __init__(self) -> None:
        super().__init__()
        self._box = QRectF()
        self._checkbox = False
        self._fill = QColor("#ffffff")
        self._font = QFont()
        self.length = 0
        #: "text" (dots), "checkbox", "radio" (checked state) or "select" (chosen option label)
        self.mode = "text"
        self.option_label = ""

    @property
    def dots(self) -> int:
        """Dots drawn now (0 for a checkbox)."""
        return 0 if self._checkbox else min(self.length, MASK_MAX_DOTS)

    def set_field(self, box: QRectF, checkbox: bool, fill: QColor, mode: str | None = None) -> None:
        self.prepareGeometryChange()
        self._box, self._checkbox, self._fill = QRectF(box), checkbox, QColor(fill)
        self.mode = mode or ("checkbox" if checkbox else "text")
        self.option_label = ""
        size = max(int(box.height() * 0.42), 6)
        room = box.width() - 2 * min(max(box.height() * 0.3, 4.0), 14.0)
        while size > 6 and QFontMetricsF(_ui_font(size, True)).horizontalAdvance("•" * MASK_MAX_DOTS) > room:
            size -= 1  # the longest value still fits the box
        self._font = _ui_font(size, bold=True)
        self.length = -1  # the next set_length repaints

    def set_length(self, n: int) -> None:
        n = int(n)
        if n != self.length:
            self.length = n
            self.update()

    def set_choice(self, value: int, label: str = "") -> None:
        """A select's chosen option (``label`` drawn) or a radio/checkbox's state (1 / 0)."""
        value = int(value)
        if value != self.length or label != self.option_label:
            self.length, self.option_label = value, label
            self.update()

    def boundingRect(self) -> QRectF:
        return self._box

    def paint(self, p: QPainter, *_: Any) -> None:
        if self._box.isEmpty():
            return
        if self.mode in ("radio", "checkbox", "select"):
            self._paint_choice(p)
            return
        if self.length <= 0:
            return
        p.setRenderHint(QPainter.Antialiasing)
        b = self._box
        if self._checkbox:
            self._paint_tick(p)
            return
        self._paint_dots(p)

    def _paint_choice(self, p: QPainter) -> None:
        _paint_choice_item(self, p)

    def _paint_tick(self, p: QPainter) -> None:
        b = self._box
        if True:
            p.setPen(Qt.NoPen)
            p.setBrush(CHECK_COLOR)
            p.drawRoundedRect(b.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
            tick = QPainterPath(QPointF(b.left() + 0.24 * b.width(), b.top() + 0.52 * b.height()))
            tick.lineTo(b.left() + 0.43 * b.width(), b.top() + 0.70 * b.height())
            tick.lineTo(b.left() + 0.77 * b.width(), b.top() + 0.32 * b.height())
            p.setPen(QPen(QColor("#ffffff"), max(b.width() * 0.12, 1.5), Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
            p.setBrush(Qt.NoBrush)
            p.drawPath(tick)

    def _paint_dots(self, p: QPainter) -> None:
        b = self._box
        # inset: the screenshot's own border (and focus ring) stays visible around the fill
        inner = b.adjusted(2, 2, -2, -2)
        p.setPen(Qt.NoPen)
        p.setBrush(self._fill)
        p.drawRoundedRect(inner, 4, 4)
        p.setPen(MASK_DOT_COLOR)
        p.setFont(self._font)
        p.setClipRect(inner)
        pad = min(max(b.height() * 0.3, 4.0), 14.0)
        p.drawText(inner.adjusted(pad - 2, 0, -2, 0), Qt.AlignLeft | Qt.AlignVCenter, "•" * self.dots)


class _ReplayViewBox(pg.ViewBox):
    """ViewBox where the wheel scrolls the page and Ctrl+wheel zooms; reports user moves."""

    sigUserMoved = Signal()

    def wheelEvent(self, ev, axis=None):  # noqa: N802 - Qt override
        mods = ev.modifiers()
        if mods & Qt.ControlModifier:
            super().wheelEvent(ev, axis)
        else:
            (x0, x1), (y0, y1) = self.viewRange()
            step = -ev.delta() / 120.0 * 0.12 * (y1 - y0)
            if mods & Qt.ShiftModifier:
                self.translateBy(x=step * (x1 - x0) / max(y1 - y0, 1e-9))
            else:
                self.translateBy(y=step)
            ev.accept()
        self.sigUserMoved.emit()

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - Qt override
        super().mouseDragEvent(ev, axis)
        self.sigUserMoved.emit()


class _ScrollIndicator(QWidget):
    """A slim page-height track at the canvas edge: where the viewport is, and how deep (%)."""

    WIDTH = 60  # fits "100%" and its padding beside the track

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WA_NoSystemBackground, True)
        self._span = (0.0, 0.0)  # viewport top, bottom as fractions of the page height
        self._font = _ui_font(10, bold=True)

    def set_span(self, top: float, bottom: float) -> None:
        span = (min(max(top, 0.0), 1.0), min(max(bottom, 0.0), 1.0))
        if span != self._span:
            self._span = span
            self.update()

    def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        track = QRectF(self.width() - 14, 12, 5, self.height() - 24)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(255, 255, 255, 40))
        p.drawRoundedRect(track, 2.5, 2.5)
        top, bottom = self._span
        thumb = QRectF(track.left(), track.top() + top * track.height(), track.width(),
                       max((bottom - top) * track.height(), 6.0))
        p.setBrush(QColor(255, 255, 255, 200))
        p.drawRoundedRect(thumb, 2.5, 2.5)
        # the depth the viewport's bottom reached, next to the thumb's bottom end
        rect = self.label_rect(f"{bottom * 100:.0f}%", thumb.bottom(), track)
        p.setFont(self._font)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(28, 31, 36, 170))  # legible over a light page too
        p.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        p.setPen(QColor(255, 255, 255, 200))
        p.drawText(rect, Qt.AlignCenter, f"{bottom * 100:.0f}%")

    PAD = 4

    def label_rect(self, text: str, y: float, track: QRectF | None = None) -> QRectF:
        """Where the depth label goes: left of the track, centred on ``y``, always whole and
        at least PAD px inside the widget (it used to be clipped at the view's edge)."""
        track = track or QRectF(self.width() - 14, 12, 5, self.height() - 24)
        fm = QFontMetricsF(self._font)
        w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
        top = min(max(y - h / 2, self.PAD), self.height() - self.PAD - h)
        left = max(track.left() - 4 - w, self.PAD)
        return QRectF(left, top, w, h)


# -- the canvas widget -----------------------------------------------------------------
def decode_png_rgb(data: bytes) -> np.ndarray:
    """Encoded image bytes -> (h, w, 3) uint8 row-major RGB array (a copy Qt does not own)."""
    img = QImage.fromData(data)
    if img.isNull():
        raise ValueError("unreadable screenshot image")
    img = img.convertToFormat(QImage.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    # copy: the buffer belongs to ``img``, which dies on return
    return buf[:, : w * 3].reshape(h, w, 3).copy()


class QtReplayCanvas(QWidget):
    """The page as the visitor saw it at one instant: screenshot, viewport, cursor, clicks."""

    #: "follow", "page" or "free" (the user scrolled or zoomed by hand).
    view_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._capture = None
        self._timeline = None
        self._images: OrderedDict[int, tuple[np.ndarray, float]] = OrderedDict()
        self._snapshot_id: int | None = None
        self._state_id = -1  # the page state shown (-1: the snapshot's own screenshot)
        self._page_rect = QRectF()
        self._view_rect = QRectF()
        self._mode = "follow"
        self._frame = None
        self._emap = None
        self._hesitation = None
        self.last_render_ms = 0.0

        self.graphics = pg.GraphicsView(background=CANVAS_BG)
        self.graphics.setFocusPolicy(Qt.NoFocus)
        self.view = _ReplayViewBox(lockAspect=True, invertY=True, enableMenu=False,
                                   defaultPadding=0.0)
        self.view.setBackgroundColor(None)
        self.view.disableAutoRange()
        self.graphics.setCentralItem(self.view)
        self.view.sigUserMoved.connect(self._on_user_moved)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._hover_element = -1
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.graphics)
        self.scroll_indicator = _ScrollIndicator(self)
        self.scroll_indicator.hide()

        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item.setVisible(False)
        # Repaints are driven by the cursor; the big screenshot (and heatmap) only change
        # with the page or the zoom, so Qt keeps them as device pixmaps (~3x cheaper paint).
        self.image_item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.overlay_item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.shade_item = _ShadeItem()
        self.focus_item = pg.QtWidgets.QGraphicsPathItem()
        pen = QPen(FOCUS_COLOR, 2.5)
        pen.setCosmetic(True)
        self.focus_item.setPen(pen)
        fill = QColor(FOCUS_COLOR)
        fill.setAlpha(28)
        self.focus_item.setBrush(fill)
        self.trail_item = _TrailItem()
        self.ripple_items = [_RippleItem() for _ in range(RIPPLE_POOL)]
        self.cursor_item = _CursorItem()
        #: finger marks of taps on touch pages (the arrow cursor is hidden there)
        self.tap_items = [_TapItem() for _ in range(RIPPLE_POOL)]
        self.hesitation_item = _HesitationItem()
        self.veil_item = pg.QtWidgets.QGraphicsRectItem()
        self.veil_item.setPen(QPen(Qt.NoPen))
        self.veil_item.setBrush(VEIL)
        self.badge_item = _PillItem(QColor("#ffffff"), FOCUS_COLOR, 11, bold=True)
        self.hesitation_label = _PillItem(QColor("#1c1402"), HESITATION_COLOR, 12, bold=True)
        self.veil_label = _PillItem(QColor("#ffffff"), QColor(40, 44, 52, 235), 15, bold=True,
                                    border=QColor(255, 255, 255, 60))
        self.toast_item = _PillItem(QColor("#ffffff"), ERROR_COLOR, 12, bold=True)
        #: masked field values, grown only when a page has more fields than any before
        self.field_items: list[_FieldMaskItem] = []
        self._field_masks: dict[int, _FieldMaskItem] = {}
        self._toasts: tuple[np.ndarray, list[str], list[str]] = (np.zeros(0), [], [])
        stack = [
            (self.image_item, 0), (self.overlay_item, 10), (self.shade_item, 20),
            (self.focus_item, 25), (self.trail_item, 30), *[(r, 35) for r in self.ripple_items],
            *[(r, 36) for r in self.tap_items],
            (self.cursor_item, 40), (self.hesitation_item, 45), (self.veil_item, 50),
            (self.badge_item, 60), (self.hesitation_label, 61), (self.veil_label, 62),
            (self.toast_item, 63),
        ]
        for item, z in stack:
            self.view.addItem(item, ignoreBounds=True)
            item.setZValue(z)
            if item is not self.image_item:
                item.setVisible(False)

        # smooth follow: the view eases towards the target rect on its own clock
        self._target_rect: QRectF | None = None
        self._anim = QTimer(self)
        self._anim.setTimerType(Qt.PreciseTimer)
        self._anim.setInterval(16)
        self._anim.timeout.connect(self._step_view)
        self._anim_clock = QElapsedTimer()

    # -- session -------------------------------------------------------------------------
    def set_session(self, capture, timeline) -> None:
        """Use this capture's screenshots and this session timeline (clears the frame)."""
        if capture is not self._capture:
            self._images.clear()
        self._capture, self._timeline = capture, timeline
        self._snapshot_id = None
        self._state_id = -1
        self._frame = None
        self._hesitation = None
        self._target_rect = None
        self.clear_overlay()
        self._toasts = self._toast_table(timeline)
        # decode every screenshot of the session now, so a page change mid-replay is instant
        for sid in (timeline.snapshots if timeline is not None else {}):
            self.snapshot_array(int(sid))

    @staticmethod
    def _toast_table(timeline) -> tuple[np.ndarray, list[str], list[str]]:
        """(times, kinds, texts) of the session's errors and validation messages."""
        if timeline is None or not len(timeline.markers):
            return np.zeros(0), [], []
        markers = timeline.markers
        kind = np.asarray(markers.kind)
        sel = np.flatnonzero((kind == "error") | (kind == "validation"))
        texts = []
        for i in sel.tolist():
            label = str(markers.label[i])
            label = label if len(label) <= 72 else label[:71] + "…"
            texts.append(("JS error · " if kind[i] == "error" else "Invalid · ") + label)
        return np.asarray(markers.t_ms, dtype=np.float64)[sel], [str(kind[i]) for i in sel], texts

    def clear(self) -> None:
        self.set_session(None, None)
        with _fresh_device_cache(self.image_item):
            self.image_item.clear()
        self.scroll_indicator.hide()
        for item in self._marker_items():
            item.setVisible(False)

    def _marker_items(self):
        return [self.shade_item, self.focus_item, self.trail_item, *self.ripple_items, *self.tap_items,
                self.cursor_item, self.hesitation_item, self.veil_item, self.badge_item,
                self.hesitation_label, self.veil_label, self.toast_item, *self.field_items]

    #: The last screenshot that could not be decoded (an exception), until the window reports it.
    image_error: BaseException | None = None

    def snapshot_array(self, snapshot_id: int) -> tuple[np.ndarray, float] | None:
        """The decoded screenshot (h, w, 3) uint8 and its scale (image px per CSS px), cached."""
        hit = self._images.get(snapshot_id)
        if hit is not None:
            self._images.move_to_end(snapshot_id)
            return hit
        if self._capture is None:
            return None
        snap = self._capture.snapshot(snapshot_id)
        try:
            data = self._capture.snapshot_image(snapshot_id)
            arr = decode_png_rgb(data) if data else None
        except Exception as exc:  # noqa: BLE001 - a damaged screenshot: replay over a plain sheet
            self.image_error = exc   # the main window shows it once, as its one-line dialog
            arr = None
        if arr is None:  # a snapshot without a (readable) screenshot: a plain page-coloured sheet
            arr = np.full((max(snap.height, 1), max(snap.width, 1), 3), 245, dtype=np.uint8)
        scale = arr.shape[1] / max(snap.width, 1)
        self._images[snapshot_id] = (arr, scale)
        # least recently used screenshots go first once the cache outgrows its budget
        while len(self._images) > 1 and sum(a.nbytes for a, _ in self._images.values()) > IMAGE_CACHE_BYTES:
            self._images.popitem(last=False)
        return arr, scale

    def state_array(self, state_id: int) -> tuple[np.ndarray, float] | None:
        """The decoded screenshot of a page state (cached with the snapshots, key -1 - id)."""
        key = -1 - int(state_id)
        hit = self._images.get(key)
        if hit is not None:
            self._images.move_to_end(key)
            return hit
        if self._capture is None:
            return None
        from hindsight.store.states import state_image

        try:
            data = state_image(self._capture, state_id)
            arr = decode_png_rgb(data) if data else None
        except Exception as exc:  # noqa: BLE001 - a damaged state image: show the snapshot instead
            self.image_error = exc
            arr = None
        if arr is None:
            return None
        self._images[key] = (arr, 1.0)
        while len(self._images) > 1 and sum(a.nbytes for a, _ in self._images.values()) > IMAGE_CACHE_BYTES:
            self._images.popitem(last=False)
        return arr, 1.0

    def _show_snapshot(self, snapshot_id: int, state_id: int = -1) -> None:
        new_page = snapshot_id != self._snapshot_id
        self._snapshot_id = snapshot_id
        self._state_id = state_id
        self._hover_element = -1
        got = self.state_array(state_id) if state_id >= 0 else None
        if got is None:
            got = self.snapshot_array(snapshot_id)
        if got is None:
            return
        arr, scale = got
        self._page_rect = QRectF(0, 0, arr.shape[1] / scale, arr.shape[0] / scale)
        with _fresh_device_cache(self.image_item):
            self.image_item.setImage(arr, autoLevels=False)
            self.image_item.setRect(self._page_rect)
        self._emap = self._element_map(snapshot_id)
        if state_id >= 0 and self._emap is not None and self._capture is not None:
            from hindsight.store.states import state_element_map

            self._emap = state_element_map(self._capture, state_id, self._emap)
        self._setup_field_masks(arr, scale)
        if new_page:
            self._target_rect = None  # a new page: jump, don't ease

    def _setup_field_masks(self, arr: np.ndarray, scale: float) -> None:
        """Give each text field / checkbox of the page an item from the pool (once per page)."""
        self._field_masks = {}
        emap = self._emap
        fields = []
        if emap is not None:
            for i in range(len(emap)):
                role = emap.role[i] if i < len(emap.role) else ""
                if emap.field[i] and role in ("textbox", "checkbox", "searchbox", ""):
                    fields.append((i, role == "checkbox" or emap.tag[i] == "checkbox"))
                elif emap.field[i] and (role == "radio" or emap.tag[i] == "select"):
                    fields.append((i, False))
        while len(self.field_items) < len(fields):
            item = _FieldMaskItem()
            self.view.addItem(item, ignoreBounds=True)
            item.setZValue(15)
            item.setVisible(False)
            self.field_items.append(item)
        h, w = arr.shape[:2]
        for item, (i, checkbox) in zip(self.field_items, fields):
            x, y, bw, bh = (float(v) for v in emap.boxes[i])
            # the field's own background, just inside its left border (left of any placeholder)
            px = min(max(int((x + min(5.0, bw / 4)) * scale), 0), w - 1)
            py = min(max(int((y + bh / 2) * scale), 0), h - 1)
            fill = QColor(*(int(c) for c in arr[py, px]))
            mode = "select" if emap.tag[i] == "select" else "radio" if emap.role[i] == "radio" else None
            item.set_field(QRectF(x, y, bw, bh), checkbox, fill, mode)
            self._field_masks[i] = item
        for item in self.field_items[len(fields):]:
            item.setVisible(False)

    def _update_field_masks(self, frame) -> None:
        lengths = frame.field_lengths or {}
        choices = frame.choices
        for i, item in self._field_masks.items():
            if item.mode in ("select", "radio", "checkbox") and i in choices:
                # the control as the visitor set it (select: the chosen option's label)
                v = int(choices[i])
                label = self._option_label(i, v) if item.mode == "select" else ""
                item.set_choice(v, label)
                item.setVisible(item.mode != "select" or bool(label))
                continue
            if item.mode in ("select", "radio"):  # untouched: the screenshot shows it
                item.setVisible(False)
                continue
            n = int(lengths.get(i, 0))
            item.set_length(n)
            item.setVisible(n > 0)

    def _option_label(self, select: int, option: int) -> str:
        emap = self._emap
        if emap is None:
            return ""
        opts = select_options(emap, select)
        return emap.label[opts[option]] if 0 <= option < len(opts) else ""

    def visible_choices(self) -> dict[int, tuple[str, int, str]]:
        """{element index: (mode, value, label)} of the selects / radios / checkboxes drawn as chosen."""
        return {i: (item.mode, item.length, item.option_label) for i, item in self._field_masks.items()
                if item.isVisible() and item.mode in ("select", "radio", "checkbox")}

    def _element_map(self, snapshot_id: int):
        maps = self._timeline.element_maps if self._timeline is not None else {}
        if snapshot_id in maps:
            return maps[snapshot_id]
        return self._capture.elements(snapshot_id) if self._capture is not None else None

    # -- overlay slot (heatmaps) ---------------------------------------------------------
    @property
    def snapshot_id(self) -> int | None:
        """The snapshot (page layout) shown now, None before the first frame."""
        return self._snapshot_id

    @property
    def page_rect(self) -> QRectF:
        """The page's rectangle in document CSS px (empty before a snapshot is shown)."""
        return QRectF(self._page_rect)

    def set_overlay(self, grid: np.ndarray, rect: QRectF | tuple, lut: np.ndarray | None = None,
                    levels: tuple[float, float] | None = None, opacity: float = 0.6) -> None:
        """Show a float32 (h, w) grid over the page; ``rect`` = x, y, w, h in CSS px."""
        rect = rect if isinstance(rect, QRectF) else QRectF(*rect)
        grid = np.ascontiguousarray(grid, dtype=np.float32)
        if levels is None:
            levels = (0.0, float(grid.max()) if grid.size and grid.max() > 0 else 1.0)
        with _fresh_device_cache(self.overlay_item):
            self.overlay_item.setImage(grid, levels=levels, lut=lut, autoLevels=False)
            self.overlay_item.setRect(rect)
        self.overlay_item.setOpacity(opacity)
        self.overlay_item.setVisible(True)

    def clear_overlay(self) -> None:
        self.overlay_item.setVisible(False)

    # -- view mode -----------------------------------------------------------------------
    @property
    def view_mode(self) -> str:
        return self._mode

    def set_view_mode(self, mode: str) -> None:
        """"follow" tracks the visitor's viewport, "page" fits the whole page, "free" stays put."""
        if mode not in ("follow", "page", "free"):
            raise ValueError(f"unknown view mode {mode!r}")
        changed = mode != self._mode
        self._mode = mode
        self._target_rect = None
        self._update_view(animate=False)
        if changed:
            self.view_mode_changed.emit(mode)

    def _on_user_moved(self) -> None:
        if self._mode != "free":
            self._mode = "free"
            self._anim.stop()
            self.view_mode_changed.emit("free")

    def _on_mouse_moved(self, scene_pos) -> None:
        """Name the page element under the mouse (what did the visitor have there?)."""
        emap = self._emap
        if emap is None or self._page_rect.isEmpty():
            return
        p = self.view.mapSceneToView(scene_pos)
        idx = emap.hit(p.x(), p.y()) if self._page_rect.contains(p) else -1
        if idx == self._hover_element:
            return
        self._hover_element = idx
        if idx < 0:
            QToolTip.hideText()
            return
        label, selector = emap.label[idx], emap.selector[idx]
        what = "form field" if emap.field[idx] else ("clickable" if emap.clickable[idx] else emap.tag[idx])
        text = f"{label}\n{selector}  ·  {what}" if label and label != selector else f"{selector}  ·  {what}"
        QToolTip.showText(QCursor.pos(), text, self.graphics)

    def _desired_rect(self) -> QRectF | None:
        if self._page_rect.isEmpty():
            return None
        if self._mode == "page":
            return self._page_rect.adjusted(-16, -16, 16, 16)
        if self._mode != "follow" or self._view_rect.isEmpty():
            return None
        v = self._view_rect
        m = FOLLOW_MARGIN * v.height()
        # centre on the page horizontally when it fits, else on the viewport
        x = self._page_rect.center().x() if v.width() >= self._page_rect.width() - 1 else v.center().x()
        w = max(v.width(), self._page_rect.width() if v.width() >= self._page_rect.width() - 1 else 0) + 2 * m
        h = v.height() + 2 * m
        return QRectF(x - w / 2, v.center().y() - h / 2, w, h)

    def _update_view(self, animate: bool) -> None:
        want = self._desired_rect()
        if want is None:
            return
        if not animate or self._target_rect is None:
            self._target_rect = QRectF(want)
            self._current = QRectF(want)
            self.view.setRange(want, padding=0)
            self._anim.stop()
            return
        if want == self._target_rect and not self._anim.isActive():
            return
        far = abs(want.center().y() - self._current.center().y()) > 2.5 * want.height()
        self._target_rect = QRectF(want)
        if far:
            self._current = QRectF(want)
            self.view.setRange(want, padding=0)
            self._anim.stop()
        elif not self._anim.isActive():
            self._anim_clock.start()
            self._anim.start()

    def _step_view(self) -> None:
        if self._target_rect is None or self._mode == "free":
            self._anim.stop()
            return
        dt = max(self._anim_clock.restart(), 1)
        k = 1.0 - math.exp(-dt / 90.0)  # ~90 ms time constant: smooth, never laggy
        c, t = self._current, self._target_rect
        nxt = QRectF(c.x() + (t.x() - c.x()) * k, c.y() + (t.y() - c.y()) * k,
                     c.width() + (t.width() - c.width()) * k, c.height() + (t.height() - c.height()) * k)
        if (abs(nxt.y() - t.y()) < 0.5 and abs(nxt.x() - t.x()) < 0.5
                and abs(nxt.height() - t.height()) < 0.5):
            nxt = QRectF(t)
            self._anim.stop()
        self._current = nxt
        self.view.setRange(nxt, padding=0)

    def settle(self) -> None:
        """Jump the view to where it is easing to (for stills and tests)."""
        if self._target_rect is not None and self._mode != "free":
            self._current = QRectF(self._target_rect)
            self.view.setRange(self._target_rect, padding=0)
        self._anim.stop()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        w = _ScrollIndicator.WIDTH
        self.scroll_indicator.setGeometry(self.width() - w, 0, w, self.height())
        if self._mode != "free":
            self._target_rect = None
            self._update_view(animate=False)

    # -- per-frame update ----------------------------------------------------------------
    def set_hesitation(self, hesitation) -> None:
        """Mark where the player auto-paused (a ``Hesitation``), or None to clear.

        A hesitation on the focused form field turns its outline and badge amber ("Hesitated
        5.2 s · empty"); on another field, a label goes under it; one without a field
        ("cursor still") gets a target ring at the cursor with the label beside it.
        """
        self._hesitation = hesitation
        self._update_hesitation()
        if self._frame is not None and self._frame.snapshot_id >= 0:
            self._update_focus(self._frame)

    def _update_hesitation(self) -> None:
        h = self._hesitation
        ring = label = False
        if h is not None:
            secs = h.duration_ms
            text = f"Hesitated {secs / 1000:.1f} s" if secs else "Hesitated"
            box = self._hesitation_box(h)
            focused = self._frame.focused if self._frame is not None else -1
            if box is not None and focused == h.element:
                pass  # said by the focused field's badge
            elif box is not None:
                x, y, w, hh = box
                self.hesitation_label.set_text(text, anchor=(0.0, 0.0), offset=(0, 6))
                self.hesitation_label.setPos(x - 3, y + hh + 3)
                label = True
            else:
                x, y = float(h.x), float(h.y)
                self.hesitation_item.setPos(x, y)
                # beside the ring, not under it: a still cursor is often near the viewport's bottom
                self.hesitation_label.set_text(text, anchor=(0.0, 0.5), offset=(32, 0))
                self.hesitation_label.setPos(x, y)
                ring = label = True
        self.hesitation_item.setVisible(ring)
        self.hesitation_label.setVisible(label)

    def _hesitation_box(self, h) -> tuple[float, float, float, float] | None:
        """The box of a field hesitation's element, in document px, or None."""
        if h.reason != "field" or h.element < 0:
            return None
        emap = self._emap
        pvs = self._timeline.pageviews if self._timeline is not None else None
        if pvs is not None and 0 <= h.pageview_index < len(pvs):
            emap = self._element_map(pvs[h.pageview_index].snapshot_id)
        if emap is None or h.element >= len(emap):
            return None
        return tuple(float(v) for v in emap.boxes[h.element])

    def render_frame(self, frame, timeline=None) -> None:
        """Move the items to show ``frame`` (no item is created here)."""
        t0 = time.perf_counter()
        if timeline is not None and timeline is not self._timeline:
            self._timeline = timeline
        self._frame = frame
        if frame.snapshot_id < 0:  # before the first pageview: nothing to show
            for item in self._marker_items():
                if item not in (self.hesitation_item, self.hesitation_label):
                    item.setVisible(False)
            return
        if frame.snapshot_id != self._snapshot_id or frame.state_id != self._state_id:
            self._show_snapshot(frame.snapshot_id, frame.state_id)
        page = self._page_rect

        # viewport and shade
        self._view_rect = QRectF(frame.scroll_x, frame.scroll_y, frame.viewport_w, frame.viewport_h)
        self.shade_item.set_rects(page, self._view_rect)
        self.shade_item.setVisible(True)
        ph = page.height()
        if ph > 0:
            self.scroll_indicator.set_span(frame.scroll_y / ph, (frame.scroll_y + frame.viewport_h) / ph)
            self.scroll_indicator.setVisible(True)

        # cursor and trail (none on touch pages: a finger has no hover position)
        touch = frame.pointer == "touch"
        cur = None if touch else frame.cursor
        if cur is not None:
            self.cursor_item.setPos(float(cur[0]), float(cur[1]))
        self.cursor_item.setVisible(cur is not None)
        trail = None if touch else frame.trail
        self.trail_item.set_points(trail if trail is not None and len(trail) >= 2 else None)
        self.trail_item.setVisible(trail is not None and len(trail) >= 2)

        # ripples: reuse the pool, oldest beyond the pool are dropped; on touch pages taps
        # are finger marks instead of rings
        young = [r for r in frame.ripples if 0 <= r.age_ms <= RIPPLE_MS]
        taps = [r for r in young if touch and _is_tap(r.kind)][-RIPPLE_POOL:]
        ripples = [r for r in young if not (touch and _is_tap(r.kind))][-RIPPLE_POOL:]
        for item, r in zip(self.ripple_items, ripples):
            item.setPos(float(r.x), float(r.y))
            item.set_state(float(r.age_ms), TAP_COLOR if _is_tap(r.kind) else CLICK_COLOR)
            item.setVisible(True)
        for item in self.ripple_items[len(ripples):]:
            item.setVisible(False)
        for item, r in zip(self.tap_items, taps):
            item.setPos(float(r.x), float(r.y))
            item.set_age(float(r.age_ms))
            item.setVisible(True)
        for item in self.tap_items[len(taps):]:
            item.setVisible(False)

        self._update_field_masks(frame)
        self._update_focus(frame)
        if self._hesitation is not None:
            self._update_hesitation()

        # hidden tab / loading veil over the viewport
        veil = "Tab hidden" if frame.hidden else (self._loading_text(frame) if frame.loading else "")
        if veil:
            self.veil_item.setRect(self._view_rect.intersected(page) if not page.isEmpty() else self._view_rect)
            self.veil_label.set_text(veil, anchor=(0.5, 0.5))
            self.veil_label.setPos(self._view_rect.center())
        self.veil_item.setVisible(bool(veil))
        self.veil_label.setVisible(bool(veil))

        self._update_toast(frame)
        self._update_view(animate=True)
        self.last_render_ms = (time.perf_counter() - t0) * 1000.0

    def _loading_text(self, frame) -> str:
        """The visitor's own wait, e.g. "Page loading (1.2 s)…", not the app's."""
        tl, pv = self._timeline, frame.pageview_index
        try:
            start = float(tl.pageviews[pv].start_ms)
            secs = (float(tl.index.pv_loaded_list[pv]) - start) / 1000.0
        except (AttributeError, IndexError, TypeError):
            return "Page loading…"
        return f"Page loading ({secs:.1f} s)…"

    def _update_toast(self, frame) -> None:
        """The latest JS error / validation message of the last TOAST_MS, along the bottom edge of
        the visitor's viewport, wrapped to its width (a phone's is narrower than most messages;
        its top is the page's header)."""
        times, kinds, texts = self._toasts
        i = int(np.searchsorted(times, frame.t_ms, side="right")) - 1 if len(times) else -1
        if i < 0 or frame.t_ms - times[i] > TOAST_MS or frame.hidden or frame.loading:
            self.toast_item.setVisible(False)
            return
        color = ERROR_COLOR if kinds[i] == "error" else VALIDATION_COLOR
        if self.toast_item.text != texts[i]:
            self.toast_item.set_colors(QColor("#ffffff"), color)
        px = self.view.viewPixelSize()[0] or 1.0   # scene units per screen px
        width = max(160.0, self._view_rect.width() / px - 24)
        self.toast_item.set_text(texts[i], anchor=(0.5, 1.0), offset=(0, -12), max_width=width)
        self.toast_item.setPos(self._view_rect.center().x(), self._view_rect.bottom())
        self.toast_item.setVisible(True)

    def _update_focus(self, frame) -> None:
        idx = frame.focused
        emap = self._emap
        if idx is not None and emap is not None and 0 <= idx < len(emap) and element_kind(emap, idx) != "field":
            idx = -1  # a focused button or link holds nothing typed: no outline, no "empty" badge
        if idx is None or idx < 0 or emap is None or idx >= len(emap):
            self.focus_item.setVisible(False)
            self.badge_item.setVisible(False)
            return
        x, y, w, h = (float(v) for v in emap.boxes[idx])
        hesitating = self._hesitation is not None and self._hesitation.element == idx \
            and self._hesitation.reason == "field"
        color = HESITATION_COLOR if hesitating else FOCUS_COLOR
        if self.focus_item.pen().color() != color:
            pen = QPen(color, 2.5)
            pen.setCosmetic(True)
            self.focus_item.setPen(pen)
            fill = QColor(color)
            fill.setAlpha(28)
            self.focus_item.setBrush(fill)
            self.badge_item.set_colors(QColor("#1c1402") if hesitating else QColor("#ffffff"), color)
        path = QPainterPath()
        pad = 3.0
        path.addRoundedRect(QRectF(x - pad, y - pad, w + 2 * pad, h + 2 * pad), 6, 6)
        self.focus_item.setPath(path)
        self.focus_item.setVisible(True)
        # lengths only: what the visitor typed is never recorded, let alone shown; a checkbox,
        # radio or select shows its state (worded in the core); a hesitation says both
        text = focus_badge_text(emap, idx, frame.field_lengths or {}, frame.choices or {},
                                self._hesitation.duration_ms / 1000 if hesitating else None)
        self.badge_item.set_text(text, anchor=(1.0, 1.0), offset=(0, -5))
        # top-right corner: field labels sit top-left, so the badge rarely covers them
        self.badge_item.setPos(x + w + pad, y - pad)
        self.badge_item.setVisible(True)

    # -- introspection (tests, tools) ----------------------------------------------------
    def visible_ripples(self) -> list[tuple[float, float, str]]:
        """(x, y, "click"|"tap") of the ripples now shown, in document px."""
        out = []
        for item in self.ripple_items:
            if item.isVisible():
                kind = "tap" if item.color == TAP_COLOR else "click"
                out.append((item.pos().x(), item.pos().y(), kind))
        for item in self.tap_items:
            if item.isVisible():
                out.append((item.pos().x(), item.pos().y(), "tap"))
        return out

    def visible_taps(self) -> list[tuple[float, float]]:
        """(x, y) document px of the finger marks now shown (taps on touch pages)."""
        return [(item.pos().x(), item.pos().y()) for item in self.tap_items if item.isVisible()]

    def visible_field_masks(self) -> dict[int, int]:
        """{element index: dots drawn (0 = a ticked checkbox)} of the masked fields now shown."""
        return {i: item.dots for i, item in self._field_masks.items()
                if item.isVisible() and item.mode in ("text", "checkbox")}

    def cursor_pos(self) -> tuple[float, float] | None:
        if not self.cursor_item.isVisible():
            return None
        return self.cursor_item.pos().x(), self.cursor_item.pos().y()

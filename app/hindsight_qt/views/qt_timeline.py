"""QtTimeline: the custom-painted session scrubber under the replay canvas.

One bar for the whole session: inactive stretches hatched, pageview boundaries as thin
gaps, session markers (clicks, errors, hesitations...) as coloured ticks above it, the
playhead, m:ss labels below. Hover shows the time and the nearest marker; click or drag
seeks (``seek_requested``). The widget only paints what it is given; the player wires it.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from hindsight.replay.timeline import Markers
from hindsight.text import format_duration

#: Marker colours by kind (also used by the legend and other views).
MARKER_COLORS: dict[str, QColor] = {
    "click": QColor("#8a9bb8"),
    "tap": QColor("#3b82f6"),
    "error": QColor("#e5484d"),
    "hesitation": QColor("#f5a524"),
    "page": QColor("#8b5cf6"),
    "validation": QColor("#f97316"),
    "submit": QColor("#22c55e"),
    "custom": QColor("#14b8a6"),
    "inactive": QColor("#6b7280"),
}
#: Drawn later = on top: frequent, low-signal kinds first.
_KIND_ORDER = ("click", "tap", "custom", "page", "submit", "validation", "hesitation", "error")
_KIND_NOUN = {
    "click": "Click", "tap": "Tap", "error": "Error", "hesitation": "Hesitation",
    "page": "Page", "validation": "Validation", "submit": "Submit", "custom": "Event",
    "inactive": "Inactive",
}
ACCENT = QColor("#7c5cff")


def format_ms(ms: float) -> str:
    """m:ss (h:mm:ss past an hour) for a time in ms, the core's duration format; negative
    clamps to 0:00."""
    return format_duration(max(float(ms), 0.0))


def marker_table(markers: Markers | None) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """The engine's ``Markers`` as (t_ms float64, kind str array, labels, end_ms float64)."""
    if markers is None:
        return np.zeros(0), np.zeros(0, dtype=object), [], np.zeros(0)
    t = np.asarray(markers.t_ms, dtype=np.float64)
    return (t, np.asarray(markers.kind, dtype=object), [str(x) for x in markers.label],
            np.asarray(markers.end_ms, dtype=np.float64))


class QtTimeline(QWidget):
    """Scrubber for one session; ``seek_requested(t_ms)`` on click and drag."""

    seek_requested = Signal(float)
    scrub_started = Signal()
    scrub_finished = Signal()

    LANE_TOP = 6       # marker ticks
    LANE_H = 11
    BAR_TOP = 21       # session bar
    BAR_H = 8
    LABELS_TOP = 33    # m:ss labels
    SIDE = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFocusPolicy(Qt.NoFocus)
        self._duration = 0.0
        self._t = 0.0
        self._hover_x: float | None = None
        self._dragging = False
        self._markers = marker_table(None)
        self._inactive: list[tuple[float, float]] = []
        self._span_labels: dict[tuple[float, float], str] = {}
        self._pages: list[tuple[float, float, str]] = []  # start, end, label
        self._extra: list[tuple[float, QColor, str]] = []   # set_extra_markers() without a source
        self._extra_sources: dict[str, list[tuple[float, QColor, str]]] = {}   # named (signals...)
        self._font = QFont(self.font())
        self._font.setPixelSize(10)
        self._layers: tuple | None = None  # (key, {played: QPixmap})

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(600, 48)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(120, 48)

    # -- data ----------------------------------------------------------------------------
    def set_timeline(self, timeline, page_labels: Iterable[str] | None = None) -> None:
        """Show this session (``SessionTimeline``), or nothing for None."""
        if timeline is None:
            self._duration, self._t = 0.0, 0.0
            self._markers = marker_table(None)
            self._inactive, self._pages = [], []
            self._invalidate()
            return
        self._duration = float(max(timeline.duration_ms, 1))
        self._markers = marker_table(timeline.markers)
        t, kind, labels, end = self._markers
        spans = [(float(a), float(b)) for a, k, b in zip(t, kind, end) if k == "inactive" and b > a]
        self._span_labels = {(float(a), float(b)): lab for a, k, b, lab in zip(t, kind, end, labels)
                             if k == "inactive" and b > a}
        if not spans:
            spans = [(float(a), float(b)) for a, b in timeline.inactivity if b > a]
        self._inactive = spans
        self._pages_from(timeline, page_labels)
        self._invalidate()

    def set_inactive(self, spans: Iterable[tuple[float, float]]) -> None:
        """Hatch these quiet stretches: the ones the player skips at the user's threshold."""
        self._inactive = [(float(a), float(b)) for a, b in spans if b > a]
        self._invalidate()

    def inactive_spans(self) -> list[tuple[float, float]]:
        """The hatched stretches (start_ms, end_ms), as drawn."""
        return list(self._inactive)

    def _pages_from(self, timeline, page_labels) -> None:
        pvs = list(timeline.pageviews)
        names = list(page_labels) if page_labels is not None else []
        self._pages = []
        for i, pv in enumerate(pvs):
            name = names[i] if i < len(names) else f"Page {i + 1}"
            self._pages.append((float(pv.start_ms), float(pv.end_ms), name))
        self._invalidate()

    def set_page_labels(self, labels: list[str]) -> None:
        self._pages = [(a, b, labels[i] if i < len(labels) else name)
                       for i, (a, b, name) in enumerate(self._pages)]

    def set_extra_markers(self, markers: Iterable[tuple[float, Any, str]], source: str | None = None) -> None:
        """Bookmarks, signals...: (t_ms, colour (QColor or name), label) drawn like markers.

        Each ``source`` (e.g. "signals") keeps its own list, so callers do not overwrite one
        another; the list without a source (bookmarks) is drawn on top.
        """
        marks = [(float(t), QColor(c), str(label)) for t, c, label in markers]
        if source is None:
            self._extra = marks
        else:
            self._extra_sources[source] = marks
        self._invalidate()

    def extra_markers(self, source: str | None = None) -> list[tuple[float, QColor, str]]:
        """The extra markers of ``source`` (None: the unnamed list), as set."""
        return list(self._extra if source is None else self._extra_sources.get(source, []))

    def _all_extra(self) -> list[tuple[float, QColor, str]]:
        return [m for marks in self._extra_sources.values() for m in marks] + self._extra

    def set_time(self, t_ms: float) -> None:
        t_ms = float(t_ms)
        if t_ms != self._t:
            old = self._x_of(self._t)
            self._t = t_ms
            new = self._x_of(t_ms)
            # only the strip between old and new playhead changes
            lo, hi = min(old, new) - 9, max(old, new) + 9
            self.update(int(lo), 0, int(hi - lo) + 1, self.height())

    @property
    def time_ms(self) -> float:
        return self._t

    @property
    def duration_ms(self) -> float:
        return self._duration

    # -- geometry ------------------------------------------------------------------------
    def _track(self) -> tuple[float, float]:
        return float(self.SIDE), float(max(self.width() - 2 * self.SIDE, 1))

    def _x_of(self, t_ms: float) -> float:
        x0, w = self._track()
        return x0 + w * (min(max(t_ms, 0.0), self._duration) / self._duration if self._duration else 0.0)

    def _t_of(self, x: float) -> float:
        x0, w = self._track()
        return min(max((x - x0) / w, 0.0), 1.0) * self._duration

    def nearest_marker(self, x: float, radius_px: float = 6.0) -> tuple[float, str, str] | None:
        """(t_ms, kind, label) of the marker drawn closest to x, within radius_px."""
        best, best_d = None, radius_px + 1e-9
        t, kind, labels, _ = self._markers
        if len(t):
            xs = np.array([self._x_of(v) for v in t])
            mask = kind != "inactive"
            if mask.any():
                d = np.abs(xs - x)
                d[~mask] = np.inf
                i = int(np.argmin(d))
                if d[i] <= best_d:
                    best, best_d = (float(t[i]), str(kind[i]), labels[i]), d[i]
        for tt, _c, label in self._all_extra():
            d = abs(self._x_of(tt) - x)
            if d <= best_d:
                best, best_d = (tt, "extra", label), d
        return best

    # -- painting ------------------------------------------------------------------------
    def _colors(self) -> dict[str, QColor]:
        pal = self.palette()
        dark = pal.color(QPalette.Window).lightness() < 128
        return {
            "track": QColor("#3a3f48") if dark else QColor("#dde1e7"),
            "played": ACCENT,
            "played_dim": QColor(124, 92, 255, 110),
            "gap": pal.color(QPalette.Window),
            "hatch": QColor(255, 255, 255, 70) if dark else QColor(60, 66, 78, 90),
            "inactive": QColor("#2b2f36") if dark else QColor("#eceef2"),
            "text": QColor(255, 255, 255, 140) if dark else QColor(30, 34, 40, 140),
            "head": QColor("#ffffff") if dark else QColor("#1f2329"),
            "hover": QColor(255, 255, 255, 90) if dark else QColor(0, 0, 0, 60),
        }

    def _invalidate(self) -> None:
        self._layers = None
        self.update()

    def _layer(self, played: bool, c: dict[str, QColor]) -> QPixmap:
        """The bar, spans, separators, markers and labels, as played or unplayed (cached)."""
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr, c["track"].rgba())
        if self._layers is None or self._layers[0] != key:
            self._layers = (key, {})
        cache = self._layers[1]
        if played not in cache:
            pm = QPixmap(int(self.width() * dpr), int(self.height() * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.Antialiasing)
            self._paint_static(p, c, played)
            p.end()
            cache[played] = pm
        return cache[played]

    def _paint_static(self, p: QPainter, c: dict[str, QColor], played: bool) -> None:
        x0, w = self._track()
        bar = QRectF(x0, self.BAR_TOP, w, self.BAR_H)
        r = self.BAR_H / 2
        p.setPen(Qt.NoPen)
        p.setBrush(c["played"] if played else c["track"])
        p.drawRoundedRect(bar, r, r)
        if self._duration <= 0:
            return
        # inactive spans: flat and hatched
        hatch = QBrush(c["hatch"], Qt.BDiagPattern)
        for a, b in self._inactive:
            xa, xb = self._x_of(a), self._x_of(b)
            span = QRectF(xa, self.BAR_TOP, max(xb - xa, 1.0), self.BAR_H)
            p.setBrush(c["played_dim"] if played else c["inactive"])
            p.drawRect(span)
            p.setBrush(hatch)
            p.drawRect(span)
        # pageview boundaries: a thin gap in the bar
        p.setPen(QPen(c["gap"], 2))
        for a, _b, _name in self._pages[1:]:
            xa = self._x_of(a)
            p.drawLine(QPointF(xa, self.BAR_TOP - 1), QPointF(xa, self.BAR_TOP + self.BAR_H + 1))
        # markers
        t, kind, _labels, _end = self._markers
        p.setPen(Qt.NoPen)
        for k in _KIND_ORDER:
            sel = np.flatnonzero(kind == k) if len(kind) else []
            if len(sel) == 0:
                continue
            p.setBrush(MARKER_COLORS[k])
            tall = k not in ("click", "tap")
            h = self.LANE_H if tall else self.LANE_H - 4
            top = self.LANE_TOP + (self.LANE_H - h)
            for i in sel:
                x = self._x_of(float(t[i]))
                p.drawRoundedRect(QRectF(x - 1.5, top, 3, h), 1.5, 1.5)
        for tt, col, _label in self._all_extra():
            x = self._x_of(tt)
            p.setBrush(col)
            p.drawPolygon([QPointF(x - 4, self.LANE_TOP), QPointF(x + 4, self.LANE_TOP),
                           QPointF(x, self.LANE_TOP + 7)])
        self._paint_labels(p, c)

    def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        # Two cached layers, split at the playhead: a frame costs two blits, however many
        # markers the session has (see _layer).
        p = QPainter(self)
        c = self._colors()
        xp = self._x_of(self._t) if self._duration > 0 else float(self.SIDE)
        full = QRectF(0, 0, self.width(), self.height())
        p.save()
        p.setClipRect(QRectF(0, 0, xp, self.height()))
        p.drawPixmap(full, self._layer(True, c), QRectF(self._layer(True, c).rect()))
        p.setClipRect(QRectF(xp, 0, self.width() - xp, self.height()))
        p.drawPixmap(full, self._layer(False, c), QRectF(self._layer(False, c).rect()))
        p.restore()
        if self._duration <= 0:
            return
        p.setRenderHint(QPainter.Antialiasing)
        # hover line
        if self._hover_x is not None and not self._dragging:
            p.setPen(QPen(c["hover"], 1))
            p.drawLine(QPointF(self._hover_x, self.LANE_TOP - 2), QPointF(self._hover_x, self.BAR_TOP + self.BAR_H + 2))
        # playhead
        p.setPen(QPen(c["head"], 1.5))
        p.drawLine(QPointF(xp, self.LANE_TOP - 3), QPointF(xp, self.BAR_TOP))
        p.setPen(QPen(QColor(0, 0, 0, 90), 1))
        p.setBrush(c["head"])
        p.drawEllipse(QPointF(xp, self.BAR_TOP + self.BAR_H / 2), 6.5, 6.5)
        p.setBrush(ACCENT)
        p.setPen(Qt.NoPen)
        p.drawEllipse(QPointF(xp, self.BAR_TOP + self.BAR_H / 2), 2.5, 2.5)

    def _paint_labels(self, p: QPainter, c: dict[str, QColor]) -> None:
        p.setFont(self._font)
        fm = QFontMetrics(self._font)
        p.setPen(c["text"])
        for left, text in self.tick_labels():
            p.drawText(QPointF(left, self.LABELS_TOP + fm.ascent()), text)

    #: Least gap between two m:ss labels (px).
    LABEL_GAP = 16

    def tick_labels(self) -> list[tuple[float, str]]:
        """(left x px, text) of the m:ss labels drawn under the bar, the end time last."""
        if self._duration <= 0:
            return []
        x0, w = self._track()
        fm = QFontMetrics(self._font)
        label_w = fm.horizontalAdvance("00:00") + 70
        slots = max(int(w // label_w), 1)
        step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
                     if self._duration / 1000 / s <= slots), 3600)
        out: list[tuple[float, str]] = []
        n = int(self._duration / 1000 // step)
        for i in range(n + 1):
            ms = i * step * 1000.0
            text = format_ms(ms)
            tw = fm.horizontalAdvance(text)
            out.append((min(max(self._x_of(ms) - tw / 2, 0), self.width() - tw), text))
        # the end time sits at the right edge; a tick label it would touch gives way to it
        end = format_ms(self._duration)
        if out and out[-1][1] == end:
            return out
        end_left = self.width() - fm.horizontalAdvance(end)
        while len(out) > 1 and out[-1][0] + fm.horizontalAdvance(out[-1][1]) + self.LABEL_GAP > end_left:
            out.pop()
        out.append((end_left, end))
        return out

    # -- interaction ---------------------------------------------------------------------
    def hover_text(self, x: float) -> str:
        t = self._t_of(x)
        parts = [format_ms(t)]
        for a, b, name in self._pages:
            if a <= t < b or (b == self._duration and t == b):
                if len(self._pages) > 1:
                    parts.append(name)
                break
        for a, b in self._inactive:
            if a <= t < b:
                parts.append(self._span_labels.get((a, b)) or f"Inactive {format_ms(b - a)}")
                break
        near = self.nearest_marker(x)
        if near is not None:
            tt, kind, label = near
            noun = _KIND_NOUN.get(kind, "")
            text = label if (not noun or label.lower().startswith(noun.lower())) else f"{noun}: {label}"
            parts.append(f"{text} at {format_ms(tt)}" if text else format_ms(tt))
        return "  ·  ".join(parts)

    def mousePressEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if ev.button() == Qt.LeftButton and self._duration > 0:
            self._dragging = True
            self.scrub_started.emit()
            self._seek_to(ev.position().x(), snap=True)

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802 - Qt override
        x = ev.position().x()
        self._hover_x = x
        if self._dragging:
            self._seek_to(x, snap=False)
        elif self._duration > 0:
            QToolTip.showText(ev.globalPosition().toPoint(), self.hover_text(x), self)
        self.update()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if self._dragging and ev.button() == Qt.LeftButton:
            self._dragging = False
            self.scrub_finished.emit()

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if ev.type() in (QEvent.PaletteChange, QEvent.FontChange, QEvent.StyleChange):
            self._invalidate()
        super().changeEvent(ev)

    def leaveEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        self._hover_x = None
        QToolTip.hideText()
        self.update()

    def _seek_to(self, x: float, snap: bool) -> None:
        t = self._t_of(x)
        if snap:  # a click right on a marker lands on it exactly
            near = self.nearest_marker(x, radius_px=4.0)
            if near is not None:
                t = near[0]
        self.set_time(t)
        self.seek_requested.emit(t)

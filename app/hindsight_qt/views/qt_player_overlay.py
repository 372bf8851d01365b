"""Heatmap overlay on the replay canvas: the crowd's behaviour under one visitor's replay.

``PlayerOverlay`` (the controller) shows the aggregate heatmap of every session the
workspace's filter keeps, on the snapshot (page + device) of the frame the player shows,
in the canvas's overlay slot (z 10, under the shade, cursor and ripples). When the replay
moves to another page the overlay follows. It computes with the workspace's one heatmap
engine (the Heatmap tab's, so its results are shared and events decoded once) on a worker
thread (``hindsight_qt.tasks``), and colours with the core's ``display_scale``, like the tab
and exported PNGs. The scroll map also draws the average fold and the 75/50/25 % depth lines.

``OverlayToolbar`` is its slim bar above the canvas: the Overlay button (click: on/off;
arrow: Off / Click / Move / Scroll / Attention / Rage / Dead), an opacity slider (saved as
QSettings "player/overlay_opacity"), the sample size, amber when it is too small to trust,
and a small legend.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, QSettings, Qt, Signal
from PySide6.QtGui import QActionGroup, QBrush, QColor, QFont, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsLineItem,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from hindsight.analytics.heatmap import KINDS, TITLES, HeatmapEngine, HeatmapResult
from hindsight.text import plural
from hindsight.analytics.heatmap_color import heat_lut
from hindsight.analytics.heatmap_display import display_scale
from hindsight.store import SessionFilter
from hindsight.workspace import Workspace
from hindsight_qt.subscribe import subscribe_all
from hindsight_qt.errors import user_message
from hindsight_qt.views.qt_replay_canvas import _PillItem

#: The H key's cycle, and the menu's order.
OVERLAY_KINDS = ("off",) + KINDS
KIND_LABELS = {"off": "Off", "click": "Click", "move": "Move", "scroll": "Scroll", "attention": "Attention",
               "rage": "Rage", "dead": "Dead"}
OPACITY_KEY = "player/overlay_opacity"
DEFAULT_OPACITY = 0.6
#: Above the overlay and the shade (so the lines read outside the viewport too), under the
#: focus outline, trail, ripples and cursor.
LINES_Z = 22
FOLD_COLOR = "#111827"
DEPTH_COLOR = "#1D4ED8"

_STYLE = """
#overlayBar { background: #2a2e35; border-bottom: 1px solid #1c1f24; }
#overlayBar QLabel { color: #c3c8cf; font-size: 11px; }
#overlayBar QLabel#overlaySample[warn="true"] { color: #f5a524; font-weight: 600; }
#overlayBar QToolButton { color: #e6e8eb; font-size: 12px; border: 1px solid #3a3f48; border-radius: 5px;
    padding: 2px 8px; background: transparent; }
#overlayBar QToolButton:hover { background: #343841; }
#overlayBar QToolButton#overlayButton { padding-right: 22px; }
#overlayBar QToolButton::menu-button { width: 18px; border: none; border-left: 1px solid #3a3f48;
    background: transparent; border-top-right-radius: 5px; border-bottom-right-radius: 5px; }
#overlayBar QToolButton::menu-button:hover { background: #3a3f48; }
#overlayBar QToolButton:checked { background: #7c5cff; border-color: #7c5cff; color: #ffffff; }
#overlayBar QSlider::groove:horizontal { height: 4px; background: #3a3f48; border-radius: 2px; }
#overlayBar QSlider::handle:horizontal { width: 12px; margin: -5px 0; border-radius: 6px; background: #e6e8eb; }
#overlayBar QSlider::sub-page:horizontal { background: #7c5cff; border-radius: 2px; }
"""


class _MiniLegend(QWidget):
    """A small colour ramp with its range and unit, drawn for the dark chrome."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lut = heat_lut()
        self._text = ""
        self.setFixedHeight(22)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self._font = QFont()
        self._font.setPixelSize(11)

    def set_text(self, text: str) -> None:
        self._text = text
        self.setToolTip(text)
        self.updateGeometry()
        self.update()

    def text(self) -> str:
        return self._text

    def sizeHint(self):  # noqa: N802 - Qt override
        from PySide6.QtCore import QSize
        from PySide6.QtGui import QFontMetrics

        return QSize(70 + QFontMetrics(self._font).horizontalAdvance(self._text) + 8, 22)

    def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(1, 7, 60, 8)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(0, 256, 15):
            r, g, b, a = (int(v) for v in self._lut[i])
            f = max(a / 255.0, 0.15)  # as it looks over a white page
            grad.setColorAt(i / 255.0, QColor(int(r * f + 255 * (1 - f)), int(g * f + 255 * (1 - f)),
                                              int(b * f + 255 * (1 - f))))
        p.setPen(QPen(QColor("#3a3f48")))
        p.setBrush(QBrush(grad))
        p.drawRoundedRect(bar, 2, 2)
        p.setFont(self._font)
        p.setPen(QColor("#9aa1ab"))
        p.drawText(QRectF(68, 0, self.width() - 68, self.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._text)
        p.end()


class OverlayToolbar(QWidget):
    """The overlay's controls: kind (button + menu), opacity, sample size, legend."""

    kind_selected = Signal(str)       # "off" or a heatmap kind
    toggled = Signal()                # the button itself: off <-> the last kind
    opacity_changed = Signal(float)   # 0..1
    save_requested = Signal()         # "Save image…" in the menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overlayBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 3, 12, 3)
        row.setSpacing(8)

        self.button = QToolButton(objectName="overlayButton")
        self.button.setText("Heatmap overlay")
        self.button.setCheckable(True)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.button.setToolTip("Show where all visitors in the session list clicked, moved and scrolled "
                               "on this page  H")
        self.menu = QMenu(self.button)
        self.kind_actions = QActionGroup(self)
        self.kind_actions.setExclusive(True)
        for kind in OVERLAY_KINDS:
            act = self.menu.addAction(KIND_LABELS[kind] if kind == "off" else TITLES[kind])
            act.setCheckable(True)
            act.setData(kind)
            self.kind_actions.addAction(act)
            if kind == "off":
                self.menu.addSeparator()
        self.kind_actions.triggered.connect(lambda a: self.kind_selected.emit(str(a.data())))
        self.menu.addSeparator()
        self.save_action = self.menu.addAction("Save image…")
        self.save_action.setToolTip("Save the shown map of this page as a PNG (as 'hindsight heatmap -o')")
        self.save_action.triggered.connect(self.save_requested.emit)
        self.button.setMenu(self.menu)
        # the button's own click toggles; undo Qt's check-state flip, the controller decides
        self.button.clicked.connect(lambda: (self.button.setChecked(not self.button.isChecked()),
                                             self.toggled.emit()))
        row.addWidget(self.button)

        self.opacity_label = QLabel("Opacity")
        row.addWidget(self.opacity_label)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(10, 100)
        self.opacity_slider.setValue(int(round(DEFAULT_OPACITY * 100)))
        self.opacity_slider.setFixedWidth(80)
        self.opacity_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity_slider.setToolTip("Overlay opacity")
        self.opacity_slider.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100.0))
        row.addWidget(self.opacity_slider)
        row.addSpacing(6)

        self.sample_label = QLabel("", objectName="overlaySample")
        self.sample_label.setProperty("warn", False)
        self.sample_label.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.sample_label)
        row.addStretch(1)
        self.legend = _MiniLegend()
        row.addWidget(self.legend)
        self.set_kind("off")

    def set_kind(self, kind: str) -> None:
        on = kind != "off"
        self.button.setChecked(on)
        self.button.setText(f"Overlay: {KIND_LABELS[kind]}" if on else "Heatmap overlay")
        for act in self.kind_actions.actions():
            act.setChecked(act.data() == kind)
        self.save_action.setEnabled(on)
        for w in (self.opacity_label, self.opacity_slider, self.sample_label, self.legend):
            w.setVisible(on)

    def set_sample(self, text: str, warning: str | None = None, note: str | None = None) -> None:
        self.sample_label.setText(text)
        tip = "\n".join(t for t in (warning, note) if t)
        self.sample_label.setToolTip(tip)
        if bool(self.sample_label.property("warn")) != bool(warning):
            self.sample_label.setProperty("warn", bool(warning))
            self.sample_label.style().unpolish(self.sample_label)
            self.sample_label.style().polish(self.sample_label)


class PlayerOverlay(QObject):
    """Keeps the replay canvas's overlay on the aggregate heatmap of the shown page.

    ``player`` is a ``QtPlayer`` (its ``canvas``, ``capture`` and current frame are used);
    ``toolbar`` the bar it drives; ``workspace`` the window's (its capture, filter, heatmap
    engine and sample-size setting; subscribed to). Without one (a bare player) the overlay
    has a workspace of its own on the player's capture and all its sessions. The player
    calls ``follow(snapshot_id)`` for every frame it draws.
    """

    result_shown = Signal(object)   # the HeatmapResult now on the canvas (None: cleared)

    def __init__(self, player, toolbar: OverlayToolbar, settings: QSettings | None = None,
                 workspace: Workspace | None = None) -> None:
        super().__init__(player)
        self.player = player
        self.canvas = player.canvas
        self.toolbar = toolbar
        self.kind = "off"
        self._last_kind = "click"
        self._own_workspace = workspace is None
        self.workspace = workspace if workspace is not None else Workspace()
        self._capture = self.workspace.capture
        self._filter = self.workspace.session_filter()
        self._snapshot_id: int | None = None
        self._result: HeatmapResult | None = None
        self._pending = None    # key being computed
        self._seq = 0
        self._task = None
        self._settings = None
        self.use_settings(settings)
        # scroll map: the average fold and the 75/50/25 % depths, across the page only
        self.lines: list[QGraphicsLineItem] = []
        self.line_labels: list[_PillItem] = []
        for i in range(4):
            colour = QColor(FOLD_COLOR if i == 0 else DEPTH_COLOR)
            pen = QPen(colour, 2.0, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            line = QGraphicsLineItem()
            line.setPen(pen)
            label = _PillItem(QColor("#ffffff"), colour, 11, bold=True)
            for item, z in ((line, LINES_Z), (label, LINES_Z + 1)):
                item.setZValue(z)
                item.setVisible(False)
                self.canvas.view.addItem(item, ignoreBounds=True)
            self.lines.append(line)
            self.line_labels.append(label)
        self._lines_x = (0.0, 0.0)
        self.canvas.view.sigRangeChanged.connect(self._place_labels)
        toolbar.kind_selected.connect(self.set_kind)
        toolbar.toggled.connect(self.toggle)
        toolbar.opacity_changed.connect(self._on_opacity)
        toolbar.save_requested.connect(lambda: self.save_image())
        events = self.workspace.events
        subscribe_all(self, ((events.capture_changed, self._on_capture_changed),
                             (events.filter_changed, self.set_filter),
                             (events.min_sessions_changed, lambda _n: self._adopt(self._capture)),
                             (events.opacity_changed, self.set_opacity)))

    # -- inputs ----------------------------------------------------------------------------
    def use_settings(self, settings: QSettings | None) -> None:
        """Read (and later save) the opacity in ``settings`` (default: the app's QSettings)."""
        if settings is not None and settings is self._settings:
            return
        if settings is None:
            from hindsight_qt.settings import APPLICATION, ORGANIZATION

            settings = QSettings(ORGANIZATION, APPLICATION)
        self._settings = settings
        try:
            value = float(settings.value(OPACITY_KEY, DEFAULT_OPACITY))
        except (TypeError, ValueError):
            value = DEFAULT_OPACITY
        value = min(max(value, 0.1), 1.0)
        slider = self.toolbar.opacity_slider
        slider.blockSignals(True)
        slider.setValue(int(round(value * 100)))
        slider.blockSignals(False)
        self.canvas.overlay_item.setOpacity(value)

    def set_source(self, capture, flt: SessionFilter | None = None, settings: QSettings | None = None) -> None:
        """A bare player's overlay: its own workspace on ``capture``, filtered by ``flt``."""
        if settings is not None:
            self.use_settings(settings)
        if capture is not self.workspace.capture:
            self.workspace.open(capture)
        self.workspace.set_filter(flt or SessionFilter())

    def set_filter(self, flt: SessionFilter | None) -> None:
        flt = flt or SessionFilter()
        if flt != self._filter:
            self._filter = flt
            self._refresh()

    @property
    def filter(self) -> SessionFilter:
        return self._filter

    @property
    def engine(self) -> HeatmapEngine | None:
        """The workspace's heatmap engine (the Heatmap tab computes with the same one)."""
        return self.workspace.heatmap_engine

    @property
    def min_sessions(self) -> int:
        return self.workspace.min_sessions

    def set_min_sessions(self, n: int) -> None:
        """Warn below ``n`` sessions (the workspace's setting, shared with the Heatmap tab)."""
        self.workspace.set_min_sessions(n)

    def _on_capture_changed(self, capture) -> None:
        self._filter = self.workspace.session_filter()
        self._adopt(capture)

    def _adopt(self, capture) -> None:
        self._cancel()
        self._capture = capture
        self._pending = None
        # a snapshot id of another capture means nothing here; the shown frame's does
        shown = self.canvas.snapshot_id
        self._snapshot_id = shown if capture is not None and self.player.capture is capture else None
        self._refresh()

    # -- kind and opacity ------------------------------------------------------------------
    def set_kind(self, kind: str) -> None:
        """"off" or one of ``hindsight.analytics.heatmap.KINDS``."""
        if kind not in OVERLAY_KINDS:
            raise ValueError(f"unknown overlay kind {kind!r}")
        self.kind = kind
        if kind != "off":
            self._last_kind = kind
        self.toolbar.set_kind(kind)
        self._refresh()

    def toggle(self) -> None:
        self.set_kind("off" if self.kind != "off" else self._last_kind)

    def cycle_kind(self) -> None:
        """Next kind in Off → Click → Move → Scroll → Attention → Rage → Dead → Off (the H key)."""
        self.set_kind(OVERLAY_KINDS[(OVERLAY_KINDS.index(self.kind) + 1) % len(OVERLAY_KINDS)])

    @property
    def opacity(self) -> float:
        return self.toolbar.opacity_slider.value() / 100.0

    def set_opacity(self, value: float) -> None:
        self.toolbar.opacity_slider.setValue(int(round(min(max(value, 0.1), 1.0) * 100)))

    def _on_opacity(self, value: float) -> None:
        self.canvas.overlay_item.setOpacity(value)
        if self._settings is not None:
            self._settings.setValue(OPACITY_KEY, float(value))

    # -- following the replay --------------------------------------------------------------
    @property
    def result(self) -> HeatmapResult | None:
        """What the canvas shows now (None when off, computing, or nothing to show)."""
        return self._result

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def follow(self, snapshot_id: int | None) -> None:
        """The player shows a frame of ``snapshot_id``: keep the overlay on that snapshot."""
        sid = None if snapshot_id is None or snapshot_id < 0 else int(snapshot_id)
        player_cap = self.player.capture
        if player_cap is not None and player_cap is not self._capture:
            if not self._own_workspace:
                return   # the window's workspace shows another capture: nothing to overlay
            # The player replays a capture nobody told us about (a bare QtPlayer): all its sessions.
            self.workspace.open(player_cap)
        if sid == self._snapshot_id and (self._result is None or self.canvas.overlay_item.isVisible()):
            return  # nothing new (the canvas drops its overlay when a session loads: re-apply then)
        self._snapshot_id = sid
        self._refresh()

    def reset(self) -> None:
        """The player was cleared: drop what is shown (the kind stays)."""
        self._cancel()
        self._snapshot_id = None
        self._pending = None
        self._show(None)

    def _key(self):
        return (self._snapshot_id, self.kind, self._filter)

    def _refresh(self) -> None:
        if self.kind == "off" or self._snapshot_id is None or self._capture is None:
            self._cancel()
            self._pending = None
            self._show(None)
            if self.kind != "off":
                self.toolbar.set_sample("")
            return
        key = self._key()
        hit = self.engine.cached(*key, self.workspace.heatmap_pages_for(self._snapshot_id))  # shared with the tab
        if hit is not None:
            self._cancel()
            self._pending = None
            self._show(hit)
            return
        if self._pending == key:
            return
        # the old page's map would lie about this page: clear it while this one computes
        self._show(None)
        self.toolbar.set_sample("Computing…")
        self._request(key)

    def _request(self, key) -> None:
        from hindsight_qt import tasks

        self._cancel()
        self._seq += 1
        seq, engine = self._seq, self.engine
        snapshot_id, kind, flt = key
        self._pending = key

        pages = self.workspace.heatmap_pages_for(snapshot_id)

        def work():  # worker thread: no widgets here
            return seq, key, engine.compute(snapshot_id, kind, flt, pages)

        self._task = tasks.run(work, self._on_computed, lambda exc, seq=seq: self._on_failed(seq, exc))

    def _on_computed(self, payload) -> None:
        seq, key, result = payload
        if seq != self._seq:
            return
        self._task = None
        self._pending = None
        if key == self._key():
            self._show(result)

    def _on_failed(self, seq: int, exc: BaseException) -> None:
        if seq != self._seq:
            return
        self._task = None
        self._pending = None
        self._show(None)
        self.toolbar.set_sample("Overlay unavailable", warning=user_message(exc, self._capture))

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- drawing ---------------------------------------------------------------------------
    def _show(self, r: HeatmapResult | None) -> None:
        self._result = r
        if r is None:
            self.canvas.clear_overlay()
            for item in (*self.lines, *self.line_labels):
                item.setVisible(False)
            self.result_shown.emit(None)
            return
        scale = display_scale(r)   # the Heatmap tab and exported PNGs use the same scale
        self.canvas.set_overlay(r.grid, QRectF(*r.rect), lut=scale.lut, levels=scale.levels, opacity=self.opacity)
        self._update_lines(r)
        s = r.sample
        text = f"{plural(s.sessions, 'session')} · {s.points:,} {s.point_name}"
        cov = r.coverage
        header = None
        if cov is not None and len(cov.widths) > 1:  # the replay's screenshot, every width on it
            text = f"{cov.width} px · {text}"
            header = cov.header()
        notes = "\n".join(cov.notes()) if cov is not None else ""
        self.toolbar.set_sample(text, warning=r.warning, note="\n".join(n for n in (r.note, header, notes) if n))
        self.toolbar.legend.set_text(r.note or r.legend_text())
        self.result_shown.emit(r)

    def _update_lines(self, r: HeatmapResult) -> None:
        stats = r.scroll if r.kind == "scroll" else None
        lines = stats.lines() if stats is not None and stats.max_bottom.size else []
        page = self.canvas.page_rect
        x0, x1 = (page.left(), page.right()) if not page.isEmpty() else (r.rect[0], r.rect[0] + r.rect[2])
        self._lines_x = (x0, x1)
        for i, (line, pill) in enumerate(zip(self.lines, self.line_labels)):
            if i < len(lines):
                label, depth = lines[i]
                line.setLine(x0, float(depth), x1, float(depth))
                pill.set_text(f"{label} · {depth:,.0f} px" if i == 0 else
                              f"{label.split(' ')[0]} % of pageviews reach here")
            line.setVisible(i < len(lines))
            pill.setVisible(i < len(lines))
        self._place_labels()

    def _place_labels(self, *_args) -> None:
        """Labels on the page when it is wide on screen, beside it when it is narrow (zoomed out)."""
        shown = [(line, pill) for line, pill in zip(self.lines, self.line_labels) if line.isVisible()]
        if not shown:
            return
        x0, x1 = self._lines_x
        px = self.canvas.view.viewPixelSize()[0]   # document px per screen px
        widest = max(pill.boundingRect().width() for _, pill in shown)
        inside = px <= 0 or (x1 - x0) / px >= 2 * widest + 60
        for i, (line, pill) in enumerate(shown):
            # alternate sides: the fold and the 75 % line are often a few px apart
            left = i % 2 == 0
            if inside:
                anchor, offset = (0.0 if left else 1.0, 1.0), (6.0 if left else -6.0, -2.0)
            else:
                anchor, offset = (1.0 if left else 0.0, 0.5), (-8.0 if left else 8.0, 0.0)
            pill.set_text(pill.text, anchor=anchor, offset=offset)
            pill.setPos(x0 if left else x1, line.line().y1())

    def image_spec(self):
        """What "Save image…" draws: the shown page and device, kind, filter and opacity."""
        from hindsight_qt.views.qt_heatmap_image import HeatmapImageSpec

        if self.kind == "off" or self._snapshot_id is None or self._capture is None:
            return None
        snap = self._capture.snapshot(self._snapshot_id)
        url = next(p.url for p in self._capture.pages() if p.page_id == snap.page_id)
        return HeatmapImageSpec(self._capture, self.engine, snap, url, self.kind, self._filter, self.opacity,
                                pages=self.workspace.heatmap_pages_for(self._snapshot_id))

    def save_image(self, path=None):
        """Write the shown map as a PNG (asks where unless ``path``); returns the worker task."""
        from hindsight_qt.views.qt_heatmap_image import save_heatmap_image

        return save_heatmap_image(self.player, self.image_spec(), path)

    def scroll_lines(self) -> list[tuple[str, float]]:
        """(label text, depth px) of the depth lines now drawn (tests, tools)."""
        return [(pill.text, float(line.line().y1())) for line, pill in zip(self.lines, self.line_labels)
                if line.isVisible()]

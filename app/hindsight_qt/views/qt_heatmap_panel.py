"""QtHeatmapPanel: one page's heatmaps over its screenshot, with legend, sample size and click table.

Layers of the page view (a pyqtgraph ``ViewBox``, aspect locked, y down, CSS px):

==  =====================================================================
 0  screenshot ``ImageItem`` (uint8 RGB)
10  overlay ``ImageItem`` (float32 grid, explicit levels, 256-entry RGBA LUT)
15  selected element outline
20  scroll lines (fold, 75/50/25 %)
30  hot spot ring
==  =====================================================================

Clicking the page lists the sessions whose clicks fall near that spot, then (found on a worker)
the hesitations there; double-clicking a row emits ``replay_requested(session_id, t_ms)``.
Computing runs through ``hindsight_qt.tasks``.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QGraphicsSceneWheelEvent,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hindsight.analytics.heatmap import KINDS, TITLES, HeatmapEngine, HeatmapResult, _num, most_clicked
from hindsight.analytics.heatmap_color import heat_lut
from hindsight.analytics.heatmap_display import DisplayScale, display_scale, side_by_side_scale
from hindsight.analytics.hesitation_spots import hesitations_at
from hindsight.analytics.hotspots import hot_spot
from hindsight.analytics.page_groups import heatmap_pages
from hindsight.analytics.signals import signal_rule
from hindsight.analytics.state_heatmap import STATE_KINDS, STATE_KINDS_NOTE, state_click_heatmap
from hindsight.analytics.segments import BY_KEY, COMPARISONS, comparison_filters
from hindsight.store import SessionFilter
from hindsight.store.states import element_box, snapshot_states, state_image
from hindsight.text import format_clock, plural
from hindsight.workspace import Workspace
from hindsight_qt.subscribe import subscribe
from hindsight_qt.errors import show_error, user_message

DEVICES = ("desktop", "tablet", "mobile")


def _html_escape(text: str) -> str:
    from html import escape

    return escape(text, quote=False)
KIND_LABELS = {"click": "Click", "move": "Move", "scroll": "Scroll", "attention": "Attention",
               "rage": "Rage", "dead": "Dead"}
KIND_TIPS = {
    "click": "Where visitors clicked or tapped",
    "move": "Where the cursor rested (weighted by dwell time)",
    "scroll": "How far down visitors scrolled: share of pageviews reaching each depth",
    "attention": "How long each part of the page was on screen",
    "rage": f"Clicks in rage bursts: {signal_rule('rage_click')}",
    "dead": f"Dead clicks: {signal_rule('dead_click')}",
}
HOTSPOT_RADIUS_PX = 28.0
TOP_ELEMENTS = 15
MAX_HOTSPOT_ROWS = 200
NARROW_PX = 900        # narrower than this (a dock) and the legend and tables go under the page
ELEMENT_MIN_PX = 160   # the Element column of "Most clicked elements" never gets narrower
SEGMENT_COL = 5        # the hot spot list's A/B column (compare mode)
SLOW_COMPUTE_MS = 700   # computing longer than this (big captures) shows a cancellable progress dialog

_STYLE = """
QLabel#heatBadge { border-radius: 10px; padding: 3px 10px; font-weight: 600;
                   background: #EEF2FF; color: #3730A3; }
QLabel#heatBadge[warn="true"] { background: #FEF3C7; color: #92400E; }
QLabel#heatWarning { color: #92400E; font-weight: 600; }
QLabel#heatCoverage { color: #374151; }
QLabel#sectionTitle { font-weight: 700; color: #1F2430; }
QLabel#hint { color: #6B7280; }
QToolButton[segment="true"] { padding: 4px 10px; border: 1px solid #D9DCE3; background: #FFFFFF; }
QToolButton[segment="true"]:checked { background: #7C5CFF; color: white; border-color: #7C5CFF; }
QToolButton[segment="true"]:disabled { color: #B8BDC8; }
"""


def readable_unit(unit: str) -> str:
    """``"clicks per 4×4 px cell"`` -> ``"clicks (per 4 px square)"``."""
    return re.sub(r"\s*per (\d+)×\1 px cell$", r" (per \1 px square)", unit)


class _PageViewBox(pg.ViewBox):
    """The wheel scrolls the page (as in a browser); Ctrl + wheel zooms."""

    def wheelEvent(self, ev, axis=None):  # noqa: N802 - Qt naming
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return super().wheelEvent(ev, axis)
        # pyqtgraph hands a QGraphicsSceneWheelEvent (delta()) from the scene, a QWheelEvent
        # (angleDelta()) when the view forwards one itself.
        delta = ev.delta() if isinstance(ev, QGraphicsSceneWheelEvent) else ev.angleDelta().y()
        (x0, x1), (y0, y1) = self.viewRange()
        self.translateBy(y=-delta / 120.0 * (y1 - y0) * 0.12)
        ev.accept()


class _Legend(QWidget):
    """The colour ramp of the LUT with its scale and unit."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lut = heat_lut()
        self._lo, self._hi, self._unit = 0.0, 0.0, ""
        self._clipped = False
        self.setMinimumHeight(46)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_lut(self, lut: np.ndarray) -> None:
        self._lut = lut
        self.update()

    def set_scale(self, lo: float, hi: float, unit: str, peak: float | None = None) -> None:
        """``peak``: the map's hottest value when the scale tops out below it (cells above ``hi``
        show at full heat)."""
        self._lo, self._hi, self._unit = lo, hi, unit
        self._clipped = peak is not None and peak > hi * 1.001
        tip = self.text()
        if self._clipped:
            tip += f"\nCells above {_num(hi)} show at full heat (hottest cell: {_num(peak)})"
        self.setToolTip(tip)
        self.update()

    def text(self) -> str:
        if not self._unit and self._hi == self._lo:
            return ""
        top = f"{_num(self._hi)}+" if self._clipped else _num(self._hi)
        return f"{_num(self._lo)} … {top} {self._unit}".strip()

    def paintEvent(self, _ev):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() - 2
        bar = QRectF(1, 2, w, 12)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(0, 256, 15):
            r, g, b, a = (int(v) for v in self._lut[i])
            # Shown over white, as the overlay looks over a white page.
            f = a / 255.0
            grad.setColorAt(i / 255.0, QColor(int(r * f + 255 * (1 - f)), int(g * f + 255 * (1 - f)),
                                              int(b * f + 255 * (1 - f))))
        p.fillRect(bar, QBrush(grad))
        p.setPen(QPen(QColor("#D1D5DB")))
        p.drawRect(bar)
        if not self.text():   # computing: a bare ramp, no stale numbers
            p.end()
            return
        p.setPen(QColor("#1F2430"))
        font = QFont(self.font())
        font.setPixelSize(11)
        p.setFont(font)
        p.drawText(QRectF(1, 16, w / 2, 14), Qt.AlignmentFlag.AlignLeft, _num(self._lo))
        p.drawText(QRectF(w / 2, 16, w / 2, 14), Qt.AlignmentFlag.AlignRight,
                   f"{_num(self._hi)}+" if self._clipped else _num(self._hi))
        p.setPen(QColor("#6B7280"))
        p.drawText(QRectF(1, 30, w, 14), Qt.AlignmentFlag.AlignLeft, self.text())
        p.end()


class QtHeatmapPanel(QWidget):
    """Heatmaps of one page (per device) for the current session filter."""

    replay_requested = Signal(int, int)   # session_id, t_ms since session start
    heatmap_updated = Signal(object)      # the HeatmapResult now shown
    full_view_requested = Signal()        # "Full size": show the map in the main window's central area
    hotspot_listed = Signal(int)          # rows in the hot spot list

    def __init__(self, parent=None, workspace: Workspace | None = None):
        super().__init__(parent)
        self.setObjectName("HeatmapPanel")
        self.setStyleSheet(_STYLE)
        #: The window's workspace: its one heatmap engine (shared with the replay overlay), its
        #: caches, replay requests. A panel on its own (tests, tools) has a workspace of its own.
        self.workspace = workspace if workspace is not None else Workspace()
        self._capture = None
        self._engine: HeatmapEngine | None = None
        self._filter = SessionFilter()
        self._pages: list = []
        self._screens: list = []   # the screenshots the chooser lists, default first
        self._snapshot = None
        self._states: list[dict] = []   # the page states of the shown screenshot (core's snapshot_states)
        self._state: dict | None = None  # the chosen state, None: the page as loaded
        self._result: HeatmapResult | None = None
        self._kind = "click"
        self._seq = 0
        self._task = None
        self._progress = None   # the TaskProgressDialog of a slow computation
        self._compare = "off"       # a key of hindsight.analytics.segments.BY_KEY, or "off"
        self._compare_view = "diff"  # "diff" (A − B) or "side" (A and B side by side)
        self._compare_filters = None  # (SessionFilter A, SessionFilter B) of the shown compare
        self._scale: DisplayScale | None = None  # the colour scale of the shown map (core's display_scale)
        self._hotspot_seq = 0     # the shown hot spot; a hesitation result for an older one is dropped
        self._hotspot_task = None
        self._build()
        self.replay_requested.connect(self.workspace.request_replay)
        subscribe(self, self.workspace.events.min_sessions_changed, self._on_min_sessions_changed)
        subscribe(self, self.workspace.events.opacity_changed,
                  lambda value: self.opacity_slider.setValue(int(round(value * 100))))

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.page_combo = QComboBox()
        self.page_combo.setMinimumWidth(180)
        self.page_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.page_combo.setMinimumContentsLength(18)
        self.page_combo.setToolTip("Page")
        self.page_combo.currentIndexChanged.connect(self._on_page_changed)
        bar.addWidget(self.page_combo, 1)
        root.addLayout(bar)
        # the page on a row of its own (its long names fit a narrow dock); the devices under it
        bar = QHBoxLayout()
        bar.setSpacing(8)

        self.device_group = QButtonGroup(self)
        self.device_group.setExclusive(True)
        self.device_buttons: dict[str, QToolButton] = {}
        dev_box = QHBoxLayout()
        dev_box.setSpacing(0)
        for d in DEVICES:
            b = QToolButton(text=d.capitalize(), checkable=True)
            b.setProperty("segment", True)
            b.setToolTip(f"The page as {d} visitors saw it")
            self.device_group.addButton(b)
            self.device_buttons[d] = b
            dev_box.addWidget(b)
            b.clicked.connect(lambda _=False, d=d: self._on_device_changed(d))
        self.device_buttons["desktop"].setChecked(True)
        bar.addLayout(dev_box)
        bar.addStretch(1)
        self._device_bar = bar   # "Save image…" joins it
        root.addLayout(bar)
        # Third row: the screenshot to draw on; every width of the device class is projected onto it.
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.screen_title = QLabel("Draw on")
        bar.addWidget(self.screen_title)
        self.screen_combo = QComboBox()
        # the chooser never widens the dock: it takes the row and its text elides
        self.screen_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.screen_combo.setMinimumContentsLength(12)
        self.screen_combo.setToolTip("The screenshot the map is drawn on. Clicks of every width are drawn on it "
                                     "through their element; move maps take widths within ±10 % of it.")
        self.screen_combo.currentIndexChanged.connect(self._on_screen_changed)
        bar.addWidget(self.screen_combo, 1)
        root.addLayout(bar)
        # its hint on a line of its own, wrapped (never cut, never widening the dock)
        self.screen_hint = QLabel("", objectName="hint")
        self.screen_hint.setWordWrap(True)
        root.addWidget(self.screen_hint)
        # The page state to draw on (a dialog open, an error shown): shown when the screenshot has states.
        self.state_row = QWidget()
        bar = QHBoxLayout(self.state_row)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        bar.addWidget(QLabel("State"))
        self.state_combo = QComboBox()
        self.state_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.state_combo.setMinimumContentsLength(12)
        self.state_combo.setToolTip("The page as loaded, or a state rendered at import (a dialog open, an error "
                                    "shown): the clicks made while it showed, on its screenshot")
        self.state_combo.currentIndexChanged.connect(self._on_state_changed)
        bar.addWidget(self.state_combo, 1)
        self.state_row.hide()
        root.addWidget(self.state_row)
        self.state_hint = QLabel(STATE_KINDS_NOTE, objectName="hint")
        self.state_hint.setWordWrap(True)
        self.state_hint.hide()
        root.addWidget(self.state_hint)
        # Second row, so the panel still fits a narrow dock.
        bar = QHBoxLayout()
        bar.setSpacing(8)

        self.kind_group = QButtonGroup(self)
        self.kind_group.setExclusive(True)
        self.kind_buttons: dict[str, QToolButton] = {}
        kind_box = QHBoxLayout()
        kind_box.setSpacing(0)
        for k in KINDS:
            b = QToolButton(text=KIND_LABELS[k], checkable=True)
            b.setProperty("segment", True)
            b.setToolTip(KIND_TIPS[k])
            self.kind_group.addButton(b)
            self.kind_buttons[k] = b
            kind_box.addWidget(b)
            b.clicked.connect(lambda _=False, k=k: self.set_kind(k))
        self.kind_buttons["click"].setChecked(True)
        bar.addLayout(kind_box)
        bar.addStretch(1)
        root.addLayout(bar)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(70)
        self.opacity_slider.setFixedWidth(110)
        self.opacity_slider.valueChanged.connect(self._on_opacity_changed)

        # Compare mode: two segments of the current filter, as a difference or side by side.
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(QLabel("Compare"))
        self.compare_combo = QComboBox()
        self.compare_combo.addItem("Off", "off")
        for c in COMPARISONS:
            self.compare_combo.addItem(c.title, c.key)
        self.compare_combo.setToolTip("Split the current segment in two and compare their heatmaps")
        self.compare_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.compare_combo.setMinimumContentsLength(8)
        self.compare_combo.currentIndexChanged.connect(
            lambda _i: self.set_compare(self.compare_combo.currentData(), self._compare_view))
        bar.addWidget(self.compare_combo, 1)
        self.compare_view_buttons: dict[str, QToolButton] = {}
        view_group = QButtonGroup(self)
        view_group.setExclusive(True)
        view_box = QHBoxLayout()
        view_box.setSpacing(0)
        for key, text, tip in (("diff", "Difference", "A − B per pageview: red where A does more, blue where B does"),
                               ("side", "Side by side", "A on the left, B on the right, on one colour scale")):
            b = QToolButton(text=text, checkable=True)
            b.setProperty("segment", True)
            b.setToolTip(tip)
            view_group.addButton(b)
            self.compare_view_buttons[key] = b
            view_box.addWidget(b)
            b.clicked.connect(lambda _=False, key=key: self.set_compare(self._compare, key))
        self.compare_view_buttons["diff"].setChecked(True)
        bar.addLayout(view_box)
        root.addLayout(bar)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(QLabel("Opacity"))
        bar.addWidget(self.opacity_slider)
        bar.addStretch(1)
        root.addLayout(bar)
        bar = self._device_bar
        self.save_button = QToolButton(text="Save image…")
        self.save_button.setToolTip("Save this map as a PNG: the page with the overlay, sample size and legend "
                                    "(the same picture as 'hindsight heatmap -o')")
        self.save_button.clicked.connect(lambda: self.save_image())
        bar.addWidget(self.save_button)
        self._enable_compare_view(False)

        info = QHBoxLayout()
        self.badge = QLabel("No capture", objectName="heatBadge")
        self.badge.setProperty("warn", False)
        info.addWidget(self.badge)
        self.warning_label = QLabel("", objectName="heatWarning")
        self.warning_label.setWordWrap(True)
        info.addWidget(self.warning_label)
        info.addStretch(1)
        self.status_label = QLabel("", objectName="hint")
        info.addWidget(self.status_label)
        root.addLayout(info)
        # Which widths the map includes, and what it could not place (the core's Coverage).
        self.coverage_label = QLabel("", objectName="heatCoverage")
        self.coverage_label.setWordWrap(True)
        root.addWidget(self.coverage_label)

        # Page view with the hot spot list under it; legend and tables on the right.
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("#1c1f24")
        self.vb = _PageViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.vb.setDefaultPadding(0.01)
        self.view.addItem(self.vb)
        self.shot_item = pg.ImageItem(axisOrder="row-major")
        self.shot_item.setZValue(0)
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item.setZValue(10)
        self.overlay_item.setLookupTable(heat_lut())
        self.overlay_item.setOpacity(self.opacity_slider.value() / 100.0)
        self.vb.addItem(self.shot_item)
        self.vb.addItem(self.overlay_item)
        self.element_box = pg.QtWidgets.QGraphicsRectItem()
        self.element_box.setPen(pg.mkPen("#F59E0B", width=3, cosmetic=True))
        self.element_box.setZValue(15)
        self.element_box.setVisible(False)
        self.vb.addItem(self.element_box)
        self.scroll_lines: list[pg.InfiniteLine] = []
        for i in range(4):
            colour = "#111827" if i == 0 else "#1D4ED8"
            line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                                   label="", labelOpts={"position": 0.02 if i % 2 == 0 else 0.7, "color": "w",
                                                        "fill": pg.mkBrush(colour), "anchors": [(0, 1), (0, 1)]})
            line.setZValue(20)
            line.setVisible(False)
            self.vb.addItem(line)
            self.scroll_lines.append(line)
        self.hotspot_item = pg.ScatterPlotItem(size=2 * HOTSPOT_RADIUS_PX, pxMode=False, symbol="o",
                                               pen=pg.mkPen("#FFFFFF", width=3, cosmetic=True),
                                               brush=pg.mkBrush(124, 92, 255, 40))
        self.hotspot_item.setZValue(30)
        self.vb.addItem(self.hotspot_item)
        self.vb.scene().sigMouseClicked.connect(self._on_scene_clicked)
        # the view changed shape (dock resized, map moved to the main area): the page's whole width again
        self.vb.sigResized.connect(lambda _vb: self._fit_top())
        # Segment B's page view for side-by-side compare; in the layout only while shown.
        self.vb_b = _PageViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.vb_b.setDefaultPadding(0.01)
        self.shot_item_b = pg.ImageItem(axisOrder="row-major")
        self.overlay_item_b = pg.ImageItem(axisOrder="row-major")
        self.overlay_item_b.setZValue(10)
        self.overlay_item_b.setOpacity(self.opacity_slider.value() / 100.0)
        self.vb_b.addItem(self.shot_item_b)
        self.vb_b.addItem(self.overlay_item_b)
        self.vb_b.setXLink(self.vb)
        self.vb_b.setYLink(self.vb)
        self._side_shown = False

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.view)
        hot = self._hot_box = QWidget()
        hl = QVBoxLayout(hot)
        hl.setContentsMargins(0, 4, 0, 0)
        self.hotspot_title = QLabel("Sessions at a hot spot", objectName="sectionTitle")
        self.hotspot_title.setWordWrap(True)   # "8 sessions with rage clicks within 28 px of (x, y)"
        hl.addWidget(self.hotspot_title)
        self.hotspot_hint = QLabel("Click the page to list the sessions whose clicks or hesitations fall there; "
                                   "double-click a row to replay it.", objectName="hint")
        self.hotspot_hint.setWordWrap(True)
        hl.addWidget(self.hotspot_hint)
        self.hotspot_table = QTableWidget(0, 6)
        # Short headers (the list sits in a narrow pane beside the map), the long names as tooltips
        self.hotspot_table.setHorizontalHeaderLabels(["Session", "Time", "Device", "Clicks", "Signal", "Segment"])
        for col, tip in enumerate(["Session id", "Time in the session of the nearest click or hesitation",
                                   "Device class", "Clicks of this session at the spot",
                                   "Frustration signal at the spot", "Compared segment (A or B)"]):
            self.hotspot_table.horizontalHeaderItem(col).setToolTip(tip)
        self._setup_table(self.hotspot_table)
        # Compare mode only: which segment (A or B) a session is in; shown first.
        self.hotspot_table.horizontalHeader().moveSection(SEGMENT_COL, 0)
        self.hotspot_table.horizontalHeader().setStretchLastSection(False)
        self.hotspot_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.hotspot_table.setColumnHidden(SEGMENT_COL, True)
        self.hotspot_table.cellDoubleClicked.connect(self._on_hotspot_double_clicked)
        hl.addWidget(self.hotspot_table)
        left.addWidget(hot)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        left.setSizes([620, 230])

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.legend_title = QLabel("Click map", objectName="sectionTitle")
        rl.addWidget(self.legend_title)
        self.legend = _Legend()
        rl.addWidget(self.legend)
        self.scroll_summary = QLabel("", objectName="hint")
        self.scroll_summary.setWordWrap(True)
        rl.addWidget(self.scroll_summary)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #E5E7EB;")
        rl.addWidget(line)
        rl.addWidget(QLabel("Most clicked elements", objectName="sectionTitle"))
        self.element_table = QTableWidget(0, 6)
        self.element_table.setHorizontalHeaderLabels(["Element", "Clicks", "Share", "Sess.", "Rage", "Dead"])
        for col, tip in enumerate(("CSS selector of the element", "Clicks on it", "Share of all clicks on the page",
                                   "Sessions that clicked it", "Clicks in rage bursts", "Clicks with no reaction")):
            self.element_table.horizontalHeaderItem(col).setToolTip(tip)
        self._setup_table(self.element_table)
        self.element_table.setWordWrap(False)
        self.element_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.element_table.verticalHeader().setDefaultSectionSize(24)
        header = self.element_table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(30)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.element_table.itemSelectionChanged.connect(self._on_element_selected)
        rl.addWidget(self.element_table, 1)
        self.element_note = QLabel("⚠ clicked but not clickable: visitors expect something to happen",
                                   objectName="hint")
        self.element_note.setWordWrap(True)
        rl.addWidget(self.element_note)

        self._left, self._right = left, right
        self._map_host: QWidget | None = None
        # While the map is shown in the main window's central area, the panel says so here;
        # while it is in the panel, a button offers the full-size view.
        self.map_bar = QWidget()
        mb = QHBoxLayout(self.map_bar)
        mb.setContentsMargins(0, 0, 0, 0)
        self.map_note = QLabel("The page map and its hot spots are in the main area →", objectName="hint")
        mb.addWidget(self.map_note, 1)
        self.full_view_button = QToolButton(text="Show map full size")
        self.full_view_button.setToolTip("Show the page map and its hot spots in the main window's central area")
        self.full_view_button.clicked.connect(self.full_view_requested)
        mb.addStretch(0)
        mb.addWidget(self.full_view_button)
        self.map_bar.hide()
        root.addWidget(self.map_bar)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([640, 420])
        root.addWidget(self.split, 1)
        self._narrow: bool | None = None
        self._arrange(self.width() < NARROW_PX)

    # -- responsive layout -----------------------------------------------------------------
    @property
    def narrow(self) -> bool:
        """True while the panel stacks legend and tables under the page (a narrow dock)."""
        return bool(self._narrow)

    @property
    def map_host(self) -> QWidget | None:
        """The widget showing the page map and hot spots outside the panel, or None."""
        return self._map_host

    def set_map_host(self, host: QWidget | None, offer_full_view: bool = False) -> None:
        """Show the page map with the hot spot list beside it in ``host`` (a widget with a
        layout, e.g. the main window's central area: the map gets the window's height);
        None puts them back in the panel. ``offer_full_view``: while they are in the panel,
        show the "Show map full size" button."""
        self.full_view_button.setVisible(host is None and offer_full_view)
        self.map_note.setVisible(host is not None)
        self.map_bar.setVisible(host is not None or offer_full_view)
        if host is self._map_host:
            return
        self._map_host = host
        left = self._left
        if host is not None:
            if self._hot_box.parentWidget() is not left:
                left.insertWidget(1, self._hot_box)
            left.setOrientation(Qt.Orientation.Horizontal)
            host.layout().addWidget(left)
            left.setStretchFactor(0, 1)
            left.setStretchFactor(1, 0)
            w = max(host.width(), 600)
            hot = max(300, int(w * 0.3))   # the map keeps most of the width
            left.setSizes([w - hot, hot])
            self.split.setOrientation(Qt.Orientation.Vertical if self.width() < NARROW_PX
                                      else Qt.Orientation.Horizontal)
        else:
            left.setOrientation(Qt.Orientation.Vertical)
            self.split.insertWidget(0, left)
            self._narrow = None
            self._arrange(self.width() < NARROW_PX)
        left.show()
        # The page view changed shape: fit the page's width again once the layout settled.
        QTimer.singleShot(0, self._fit_top)

    def _arrange(self, narrow: bool) -> None:
        """Wide: page + hot spots | legend + elements. Narrow: page, legend + elements, hot spots."""
        if self._map_host is not None:   # only legend and elements here
            self.split.setOrientation(Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal)
            self._narrow = narrow
            self._fit_element_column()
            return
        if narrow == self._narrow:
            return
        self._narrow = narrow
        if narrow:
            self.split.setOrientation(Qt.Orientation.Vertical)
            self.split.insertWidget(2, self._hot_box)  # moves it out of the left splitter
            self.split.setStretchFactor(0, 5)
            self.split.setStretchFactor(1, 3)
            self.split.setStretchFactor(2, 2)
            h = max(self.split.height(), 600)
            self.split.setSizes([int(h * 0.5), int(h * 0.3), int(h * 0.2)])
        else:
            self._left.insertWidget(1, self._hot_box)
            self._left.setStretchFactor(0, 3)
            self._left.setStretchFactor(1, 1)
            self._left.setSizes([620, 230])
            self.split.setOrientation(Qt.Orientation.Horizontal)
            self.split.setStretchFactor(0, 3)
            self.split.setStretchFactor(1, 2)
            w = max(self.split.width(), 1000)
            self.split.setSizes([int(w * 0.6), int(w * 0.4)])
        self._fit_element_column()

    def resizeEvent(self, ev):  # noqa: N802 - Qt naming
        super().resizeEvent(ev)
        self._arrange(ev.size().width() < NARROW_PX)
        self._fit_element_column()

    def _fit_element_column(self) -> None:
        """The Element column stretches, but never below ELEMENT_MIN_PX (then the table scrolls)."""
        t = self.element_table
        header = t.horizontalHeader()
        numbers = sum(header.sectionSize(c) for c in range(1, t.columnCount()))
        room = t.viewport().width() - numbers
        mode = QHeaderView.ResizeMode.Stretch if room >= ELEMENT_MIN_PX else QHeaderView.ResizeMode.Interactive
        if header.sectionResizeMode(0) != mode:
            header.setSectionResizeMode(0, mode)
        if mode == QHeaderView.ResizeMode.Interactive:
            header.resizeSection(0, ELEMENT_MIN_PX)

    def closeEvent(self, ev):  # noqa: N802 - Qt naming
        self._cancel()  # a result arriving after close must not touch the dead widgets
        self._cancel_hotspot()
        super().closeEvent(ev)

    @staticmethod
    def _setup_table(t: QTableWidget) -> None:
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setAlternatingRowColors(True)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setStretchLastSection(True)

    # -- public API ------------------------------------------------------------------------
    def set_capture(self, capture) -> None:
        """Show the heatmaps of an open ``Capture`` (None clears the panel)."""
        self._cancel()
        if capture is not self.workspace.capture:
            self.workspace.open(capture)   # a panel on its own (tests, tools)
        self._capture = capture
        self._engine = self.workspace.heatmap_engine
        self._snapshot = None
        self._result = None
        self.page_combo.blockSignals(True)
        self.page_combo.clear()
        # Pages as the analyses see them: one line per URL pattern (a template's URLs together).
        groups = self.workspace.page_groups if capture is not None else None
        self._pages = [g for g in groups if g.page_ids] if groups is not None else []
        for g in self._pages:
            self.page_combo.addItem(g.chooser_text, g.key)
            self.page_combo.setItemData(self.page_combo.count() - 1, g.tooltip, Qt.ItemDataRole.ToolTipRole)
        self.page_combo.blockSignals(False)
        if not self._pages:
            self._screens = []
            self.screen_combo.blockSignals(True)
            self.screen_combo.clear()
            self.screen_combo.blockSignals(False)
            self.coverage_label.setText("")
            self.badge.setText("No capture")
            self.badge.setProperty("warn", False)
            self.warning_label.setText("")
            self.shot_item.clear()
            self.overlay_item.clear()
            self.element_table.setRowCount(0)
            self._clear_hotspot()
            for line in self.scroll_lines:
                line.setVisible(False)
            return
        self._on_page_changed(0)

    def set_filter(self, flt: SessionFilter | None) -> None:
        """Recompute for another segment of sessions."""
        self._filter = flt or SessionFilter()
        self._clear_hotspot()
        # A segment of one device class is best seen on that device's layout.
        if len(self._filter.device) == 1 and self._filter.device[0] != self.device and self._pages:
            device = self._filter.device[0]
            button = self.device_buttons.get(device)
            if button is not None and button.isEnabled():
                button.setChecked(True)
                self._on_device_changed(device)
                return
        self._request()

    def set_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        self._kind = kind
        self.kind_buttons[kind].setChecked(True)
        if kind not in STATE_KINDS:
            self._leave_state()   # a page state has a click map only
        self._request()

    def set_page(self, url: str, device: str | None = None) -> None:
        """Show the page (its page group) of ``url``, a URL or pattern."""
        try:
            key = self.workspace.page_groups.resolve(url).key if self._pages else None
        except KeyError:
            raise KeyError(url) from None
        for i, p in enumerate(self._pages):
            if p.key == key:
                if device is not None:
                    self.device_buttons[device].setChecked(True)
                self.page_combo.setCurrentIndex(i)
                self._on_page_changed(i)
                return
        raise KeyError(url)

    def set_compare(self, key: str, view: str = "diff") -> None:
        """Compare two segments of the current filter (``key`` from segments.BY_KEY, or "off")."""
        if key != "off" and key not in BY_KEY:
            raise ValueError(key)
        if view not in ("diff", "side"):
            raise ValueError(view)
        self._compare, self._compare_view = key, view
        if key != "off":
            self._leave_state()   # compare is of the page as loaded
        index = self.compare_combo.findData(key)
        if index != self.compare_combo.currentIndex():
            self.compare_combo.blockSignals(True)
            self.compare_combo.setCurrentIndex(index)
            self.compare_combo.blockSignals(False)
        self.compare_view_buttons[view].setChecked(True)
        self._enable_compare_view(key != "off")
        self._show_side(key != "off" and view == "side")
        self._request()

    def _enable_compare_view(self, on: bool) -> None:
        for b in self.compare_view_buttons.values():
            b.setEnabled(on)

    def _show_side(self, on: bool) -> None:
        if on == self._side_shown:
            return
        if on:
            self.view.addItem(self.vb_b, row=0, col=1)
        else:
            self.view.removeItem(self.vb_b)
        self._side_shown = on

    @property
    def comparing(self) -> str:
        return self._compare

    @property
    def result(self) -> HeatmapResult | None:
        return self._result

    @property
    def device(self) -> str:
        return next((d for d, b in self.device_buttons.items() if b.isChecked()), "desktop")

    @property
    def snapshot(self):
        return self._snapshot

    # -- reacting --------------------------------------------------------------------------
    def _on_page_changed(self, index: int) -> None:
        if not self._pages or index < 0:
            return
        page = self._pages[index]
        try:   # the devices the group's pages were seen on
            snaps = {s.device for pid in page.page_ids for s in self._capture.snapshots(pid)}
        except Exception as exc:  # noqa: BLE001 - a damaged snapshot row: one-line dialog
            self.status_label.setText(f"Cannot show this page: {user_message(exc, self._capture)}")
            show_error(self, "Cannot show the page", exc, self._capture)
            return
        for d, b in self.device_buttons.items():
            b.setEnabled(d in snaps)
        device = self.device if self.device in snaps else next(iter(snaps), None)
        if device is None:
            return
        self.device_buttons[device].setChecked(True)
        self._fill_screens(device)

    def _on_device_changed(self, device: str) -> None:
        if not self._pages:
            return
        self._fill_screens(device)

    def _page_group(self) -> tuple[int, ...]:
        """The page ids whose snapshots the map draws: the chosen page group's (a URL pattern's
        pages, :func:`hindsight.analytics.page_groups.heatmap_pages`)."""
        return heatmap_pages(self._pages[self.page_combo.currentIndex()])

    def _fill_screens(self, device: str) -> None:
        """List the screenshots of the page (group) on ``device``, default first (the core's
        :meth:`HeatmapEngine.screenshots`: most sessions of the device class), and show it."""
        try:
            rows = self._engine.screenshots(self._page_group(), device)
        except Exception as exc:  # noqa: BLE001 - a damaged snapshot row: one-line dialog
            show_error(self, "Cannot show the page", exc, self._capture)
            return
        self._screens = [snap for snap, _n in rows]
        self.screen_combo.blockSignals(True)
        self.screen_combo.clear()
        for i, (snap, n) in enumerate(rows):
            text = f"{snap.width} px screenshot"
            if n is not None:
                text += f" · {plural(n, 'session')} at this width" + (" · default" if i == 0 else "")
            self.screen_combo.addItem(text, snap.snapshot_id)
        self.screen_combo.setEnabled(len(rows) > 1)
        self.screen_combo.blockSignals(False)
        hint = (f"{len(rows)} widths: each click is drawn on its element here" if len(rows) > 1
                else "the only screenshot of this page on this device")
        self.screen_hint.setText(hint)
        self.screen_hint.setToolTip(hint)
        if rows:
            self._show_snapshot(rows[0][0])

    def _on_screen_changed(self, index: int) -> None:
        if 0 <= index < len(self._screens):
            self._show_snapshot(self._screens[index])

    def set_screenshot(self, width: int | None = None, snapshot_id: int | None = None) -> None:
        """Draw on the listed screenshot of ``width`` px (or snapshot ``snapshot_id``);
        ``KeyError`` if the page has none on this device."""
        for i, snap in enumerate(self._screens):
            if (snapshot_id is not None and snap.snapshot_id == snapshot_id) or \
                    (snapshot_id is None and snap.width == width):
                if i == self.screen_combo.currentIndex():
                    self._show_snapshot(snap)
                else:
                    self.screen_combo.setCurrentIndex(i)
                return
        raise KeyError(snapshot_id if snapshot_id is not None else width)

    @property
    def screenshots(self) -> list:
        """The screenshots the chooser lists (default first)."""
        return list(self._screens)

    def _show_snapshot(self, snap) -> None:
        self._snapshot = snap
        if self._capture is self.workspace.capture:   # the overlay draws the same group
            self.workspace.set_heatmap_screen(snap.snapshot_id, self._pages_for_request())
        self._fill_states(snap)
        self._draw_screenshot()
        self._fit_top()
        self._request()

    def _draw_screenshot(self) -> None:
        """Draw the screenshot of the chosen state, or of the page as loaded."""
        snap, state = self._snapshot, self._state
        self._clear_hotspot()
        self.element_box.setVisible(False)
        w, h = (state["width"], state["height"]) if state is not None else (snap.width, snap.height)
        try:
            png = (state_image(self._capture, state["state_id"]) if state is not None
                   else self._capture.snapshot_image(snap.snapshot_id))
            img = self._decode(png, snap, w, h)
        except Exception as exc:  # noqa: BLE001 - a damaged image: say so once, show a plain page
            show_error(self, "Cannot show the page's screenshot", exc, self._capture)
            img = self._decode(None, snap, w, h)
        for item in (self.shot_item, self.shot_item_b):
            item.setImage(img, autoLevels=False, levels=(0, 255))
            item.setRect(QRectF(0, 0, w, h))
        margin = max(w, 1200)  # room to show a narrow page centred
        # y room below a short page, so a tall view still shows the page's whole width
        self.vb.setLimits(xMin=-margin, xMax=w + margin, yMin=-200, yMax=h + max(200, 3 * w))

    # -- page states -----------------------------------------------------------------------
    def _fill_states(self, snap) -> None:
        """List the page states of the screenshot (the core's ``snapshot_states``); the row shows
        only when it has some. Choosing another screenshot goes back to the page as loaded."""
        self._states = snapshot_states(self._capture, snap.snapshot_id)
        self._state = None
        self.state_combo.blockSignals(True)
        self.state_combo.clear()
        self.state_combo.addItem("Page as loaded", -1)
        for st in self._states:
            self.state_combo.addItem(f"State {st['state_id']}: {st['label']}", st["state_id"])
            self.state_combo.setItemData(self.state_combo.count() - 1,
                                         f"{st['label']} ({st['width']}×{st['height']} px screenshot)",
                                         Qt.ItemDataRole.ToolTipRole)
        self.state_combo.blockSignals(False)
        self.state_row.setVisible(bool(self._states))
        self._enable_for_state()

    def _enable_for_state(self) -> None:
        on_state = self._state is not None
        for k, b in self.kind_buttons.items():
            b.setEnabled(not on_state or k in STATE_KINDS)
            b.setToolTip(KIND_TIPS[k] if b.isEnabled() else STATE_KINDS_NOTE)
        self.compare_combo.setEnabled(not on_state)
        self.save_button.setEnabled(not on_state)
        self.state_hint.setVisible(on_state)

    def _on_state_changed(self, index: int) -> None:
        self._state = self._states[index - 1] if 0 < index <= len(self._states) else None
        if self._state is not None:
            if self._kind not in STATE_KINDS:
                self._kind = STATE_KINDS[0]
                self.kind_buttons[self._kind].setChecked(True)
            if self._compare != "off":
                self._compare = "off"
                self.compare_combo.blockSignals(True)
                self.compare_combo.setCurrentIndex(self.compare_combo.findData("off"))
                self.compare_combo.blockSignals(False)
                self._enable_compare_view(False)
                self._show_side(False)
        self._enable_for_state()
        if self._snapshot is not None:
            self._draw_screenshot()
            self._request()

    def _leave_state(self) -> None:
        """Back to the page as loaded, without computing (the caller does)."""
        if self._state is None:
            return
        self._state = None
        self.state_combo.blockSignals(True)
        self.state_combo.setCurrentIndex(0)
        self.state_combo.blockSignals(False)
        self._enable_for_state()
        self._draw_screenshot()

    def set_state(self, state_id: int | None) -> None:
        """Draw on page state ``state_id`` (None: the page as loaded); ``KeyError`` if the shown
        screenshot has no such state."""
        index = 0 if state_id is None else next(
            (i + 1 for i, st in enumerate(self._states) if st["state_id"] == state_id), None)
        if index is None:
            raise KeyError(state_id)
        if index == self.state_combo.currentIndex():
            self._on_state_changed(index)
        else:
            self.state_combo.setCurrentIndex(index)

    @property
    def states(self) -> list[dict]:
        """The page states of the shown screenshot (``snapshot_states`` rows)."""
        return list(self._states)

    @property
    def state(self) -> dict | None:
        """The chosen page state, or None (the page as loaded)."""
        return self._state

    @staticmethod
    def _decode(png: bytes | None, snap, width: int | None = None, height: int | None = None) -> np.ndarray:
        if not png:
            w, h = width or snap.width, height or snap.height
            return np.full((max(1, int(h * snap.scale)), max(1, int(w * snap.scale)), 3), 236, dtype=np.uint8)
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            return np.ascontiguousarray(np.asarray(im.convert("RGB")))

    def _fit_top(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        vw, vh = max(1, self.vb.width()), max(1, self.vb.height())
        h = snap.width * vh / vw if vw > 1 and vh > 1 else snap.width * 0.75
        # Narrow (phone) pages: show about a screenful, not a width-filling close-up.
        h = min(snap.height, max(h, 1000.0))
        self.vb.setRange(QRectF(0, 0, snap.width, h), padding=0.01)

    def _on_opacity_changed(self, value: int) -> None:
        self.overlay_item.setOpacity(value / 100.0)
        self.overlay_item_b.setOpacity(value / 100.0)

    def _cancel(self) -> None:
        if self._task is not None:
            try:
                self._task.cancel()
            except Exception:  # noqa: BLE001 - an old task object without cancel
                pass
            self._task = None

    def _request(self) -> None:
        if self._engine is None or self._snapshot is None:
            return
        self._seq += 1
        seq = self._seq
        engine, snap_id, kind, flt = self._engine, self._snapshot.snapshot_id, self._kind, self._filter
        pages = self._pages_for_request()
        compare = None
        if self._state is not None:   # a page state: its click map (the core's, as `heatmap --state`)
            self._compare_filters = None
            self.status_label.setText("Computing…")
            self._show_pending()
            capture, state_id, min_sessions = self._capture, self._state["state_id"], self.workspace.min_sessions

            def work_state():  # worker thread: no widgets here
                shown = state_click_heatmap(capture, state_id, flt, min_sessions)
                return seq, (shown, display_scale(shown)), engine.element_table(snap_id, flt, state_id=state_id)

            self._cancel()
            from hindsight_qt import tasks

            self._task = tasks.run(work_state, self._on_computed, self._on_failed)
            self._watch(self._task)
            return
        if self._compare != "off":
            compare = comparison_filters(self._compare, flt, self._capture)
        self._compare_filters = compare
        self.status_label.setText("Computing…")
        self._show_pending()

        def work():  # worker thread: no widgets here
            shown = (engine.compute(snap_id, kind, flt, pages) if compare is None
                     else engine.compare(snap_id, kind, *compare, pages=pages))
            return seq, (shown, display_scale(shown)), engine.element_table(snap_id, flt, pages)

        self._cancel()
        try:
            from hindsight_qt import tasks
        except ImportError:  # pragma: no cover - the task runner is part of the app
            self._on_computed(work())
            return
        self._task = tasks.run(work, self._on_computed, self._on_failed)
        self._watch(self._task)

    def _pages_for_request(self) -> tuple[int, ...] | None:
        group = self._page_group() if self._pages else None
        return None if group is None or group == (self._snapshot.page_id,) else group

    def _show_pending(self) -> None:
        """Clear what the last result drew and name the map being computed.

        A new map can take seconds on first load; until it arrives the old overlay, fold lines,
        counts and tables would read as the new choice's result.
        """
        for item in (self.overlay_item, self.overlay_item_b):
            item.clear()
        for line in self.scroll_lines:
            line.setVisible(False)
        self.element_box.setVisible(False)
        title = f"{TITLES[self._kind]} — {self.device}"
        if self._compare != "off":
            title = f"{TITLES[self._kind]} — {'A − B' if self._compare_view == 'diff' else 'A (left) | B (right)'} — {self.device}"
        self.legend_title.setText(title)
        self.legend.set_scale(0.0, 0.0, "")
        self.scroll_summary.setText("")
        self._set_badge("Computing…", False)
        self.warning_label.setText("")
        self.coverage_label.setText("")
        self.element_table.setRowCount(0)
        self._clear_hotspot()

    def _set_badge(self, text: str, warn: bool) -> None:
        self.badge.setText(text)
        self.badge.setProperty("warn", warn)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)

    @property
    def min_sessions(self) -> int:
        return self.workspace.min_sessions

    def set_min_sessions(self, n: int) -> None:
        """Warn about heatmaps of fewer than ``n`` sessions (Preferences; the workspace's setting,
        shared with the replay overlay); recomputes if it changed."""
        self.workspace.set_min_sessions(n)

    def _on_min_sessions_changed(self, _n: int) -> None:
        if self._capture is not None and self._capture is self.workspace.capture:
            self._engine = self.workspace.heatmap_engine   # results carry their warning: a new engine
            self._request()

    def _watch(self, task) -> None:
        from hindsight_qt.views.qt_progress import watch_task

        if self._progress is not None:   # one dialog per request: let the last one go
            self._progress.finish()
            self._progress.deleteLater()
        self._progress = watch_task(self, task, "Heatmap", "Computing the heatmap…", show_after_ms=SLOW_COMPUTE_MS,
                                    on_cancelled=lambda: self._on_compute_cancelled(task))

    def _on_compute_cancelled(self, task) -> None:
        if task is self._task:
            self._task = None
            self._set_badge("Not computed", False)
            self.status_label.setText("Cancelled: choose the page, kind or segment again to compute")

    def _on_failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_badge("Not computed", False)
        self.status_label.setText(f"Could not compute the heatmap: {user_message(exc, self._capture)}")
        show_error(self, "Cannot compute the heatmap", exc, self._capture)

    def _on_computed(self, payload) -> None:
        seq, (result, scale), table = payload
        if seq != self._seq:
            return  # an older request; a newer one is on its way
        self._task = None
        self.status_label.setText("")
        self._scale = scale
        if not isinstance(result, HeatmapResult):
            self._show_compare(result, table)
            return
        self.overlay_item_b.clear()
        self._result = result
        self._update_overlay(result)
        self._update_badge(result)
        self._update_legend(result)
        self._update_scroll_lines(result)
        self._update_elements(table)
        self.heatmap_updated.emit(result)

    # -- compare mode ----------------------------------------------------------------------
    def _show_compare(self, cmp, table) -> None:
        """Draw a ``CompareResult``: A − B on the diverging scale, or A | B on one heat scale."""
        comparison = BY_KEY[self._compare]
        self._result = cmp.a
        if self._compare_view == "diff":
            scale = self._scale
            self.overlay_item.setImage(cmp.diff, autoLevels=False, levels=scale.levels)
            self.overlay_item.setLookupTable(scale.lut)
            self.legend.set_lut(scale.lut)
            self.legend.set_scale(cmp.levels[0], cmp.levels[1], f"{readable_unit(cmp.unit)} (A − B)")
            self.legend_title.setText(f"{TITLES[cmp.kind]} — A − B — {self.device}")
        else:
            scale = self._scale = side_by_side_scale(cmp.grid_a, cmp.grid_b)
            for item, grid in ((self.overlay_item, cmp.grid_a), (self.overlay_item_b, cmp.grid_b)):
                item.setImage(grid, autoLevels=False, levels=scale.levels)
                item.setLookupTable(scale.lut)
            self.legend.set_lut(scale.lut)
            self.legend.set_scale(0.0, scale.peak, readable_unit(cmp.unit))
            self.legend_title.setText(f"{TITLES[cmp.kind]} — A (left) | B (right) — {self.device}")
        for item in (self.overlay_item, self.overlay_item_b):
            item.setRect(QRectF(*cmp.a.rect))
        a, b = cmp.a.sample, cmp.b.sample
        self._update_coverage(cmp.a)
        self.badge.setText(f"A {comparison.label_a}: {plural(a.sessions, 'session')} · "
                           f"B {comparison.label_b}: {plural(b.sessions, 'session')}")
        warnings = [f"A: {cmp.a.warning}" if cmp.a.warning else "", f"B: {cmp.b.warning}" if cmp.b.warning else ""]
        warn = any(warnings)
        self.badge.setProperty("warn", warn)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.warning_label.setText("⚠ " + "  ".join(w for w in warnings if w) if warn else "")
        self.scroll_summary.setText(f"Comparing {comparison.title.lower()}, per pageview.")
        for line in self.scroll_lines:
            line.setVisible(False)
        self._update_elements(table)
        self.heatmap_updated.emit(cmp)

    # -- drawing ---------------------------------------------------------------------------
    def _update_overlay(self, r: HeatmapResult) -> None:
        scale = self._scale
        self.overlay_item.setImage(r.grid, autoLevels=False, levels=scale.levels)
        self.overlay_item.setLookupTable(scale.lut)
        self.legend.set_lut(scale.lut)
        self.overlay_item.setRect(QRectF(*r.rect))

    def _update_coverage(self, r: HeatmapResult) -> None:
        """The header line: the screenshot's width and the sessions of each width the map
        includes, then what it could not place (unmatched elements, fallback, move band)."""
        cov = r.coverage
        if cov is None:
            self.coverage_label.setText("")
            self.coverage_label.setToolTip("")
            return
        notes = cov.notes()
        text = f"<b>{cov.header()}</b>"
        if notes:
            text += "<br><span style='color:#92400E'>" + "<br>".join(_html_escape(n) for n in notes) + "</span>"
        self.coverage_label.setText(text)
        tip = "\n".join(f"{sel} — {w} px — {plural(n, 'click')}" for sel, w, n in cov.unmatched_elements)
        self.coverage_label.setToolTip(("Clicks on elements not on this screenshot:\n" + tip) if tip else "")

    def _update_badge(self, r: HeatmapResult) -> None:
        self._update_coverage(r)
        self.badge.setText(r.sample.badge())
        warn = r.warning is not None
        self.badge.setProperty("warn", warn)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        # pageviews of the page (group) on other screenshots are said, not dropped in silence
        self.warning_label.setText(f"⚠ {r.warning}" if warn else "")

    def _update_legend(self, r: HeatmapResult) -> None:
        self.legend_title.setText(f"{TITLES[r.kind]} — {self.device}")
        lo, hi = self._scale.levels if r.levels[1] > r.levels[0] else r.levels
        self.legend.set_scale(lo, hi, readable_unit(r.unit), peak=self._scale.peak)
        s = r.scroll
        if r.note:
            self.scroll_summary.setText(r.note)
        elif s is not None and s.max_bottom.size:
            self.scroll_summary.setText(
                f"Average fold {s.fold_px:,.0f} px · 75 % of pageviews reach {s.depth_75:,.0f} px · "
                f"50 % reach {s.depth_50:,.0f} px · 25 % reach {s.depth_25:,.0f} px (page {s.page_height:,} px)")
        else:
            self.scroll_summary.setText("")

    def _update_scroll_lines(self, r: HeatmapResult) -> None:
        lines = r.scroll.lines() if (r.scroll is not None and r.kind == "scroll") else []
        if r.scroll is not None and r.kind == "attention":
            lines = r.scroll.lines()[:1]
        for i, item in enumerate(self.scroll_lines):
            if i < len(lines) and r.scroll.max_bottom.size:
                label, depth = lines[i]
                # Visible first: an InfLineLabel ignores text changes while hidden.
                item.setVisible(True)
                item.label.setVisible(True)
                item.setPos(depth)
                item.label.setFormat(f"{label} · {depth:,.0f} px" if i == 0 else
                                     f"{label.split(' ')[0]} % reached · {depth:,.0f} px")
                item.label.valueChanged()
            else:
                item.setVisible(False)

    def _update_elements(self, table) -> None:
        rows = most_clicked(table, self._kind, TOP_ELEMENTS)   # the core's order, as --json lists it
        t = self.element_table
        t.setSortingEnabled(False)
        t.setRowCount(len(rows))
        amber = QColor("#92400E")
        for i, e in enumerate(rows):
            name = f"{'⚠ ' if e.flagged else ''}{e.selector}"
            item = QTableWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, e.index)
            tip = f"{e.selector}\n{e.label}\n{e.tag}, {'clickable' if e.clickable else 'NOT clickable'}"
            item.setToolTip(tip)
            if e.flagged:
                item.setForeground(amber)
            t.setItem(i, 0, item)
            for col, value in enumerate((f"{e.clicks:,}", f"{e.share:.1%}", f"{e.sessions:,}",
                                         f"{e.rage_clicks:,}", f"{e.dead_clicks:,}"), start=1):
                cell = QTableWidgetItem(value)
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if e.flagged:
                    cell.setForeground(amber)
                t.setItem(i, col, cell)
        self._fit_element_column()

    def _on_element_selected(self) -> None:
        rows = self.element_table.selectionModel().selectedRows()
        if not rows or self._snapshot is None:
            self.element_box.setVisible(False)
            return
        idx = self.element_table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        state_id = None if self._state is None else self._state["state_id"]
        x, y, w, h = element_box(self._capture, self._snapshot.snapshot_id, idx, state_id)
        self.element_box.setRect(QRectF(x, y, w, h))
        self.element_box.setVisible(True)

    # -- hot spots -------------------------------------------------------------------------
    def _on_scene_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self._snapshot is None or self._state is not None:
            return
        if not self.vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = self.vb.mapSceneToView(ev.scenePos())
        self.show_hotspot(p.x(), p.y())

    def show_hotspot(self, x: float, y: float, radius_px: float = HOTSPOT_RADIUS_PX) -> list:
        """List the sessions whose clicks fall within ``radius_px`` CSS px of (x, y)."""
        if self._engine is None or self._snapshot is None:
            return []
        snap = self._snapshot
        if not (0 <= x < snap.width and 0 <= y < snap.height):
            self._clear_hotspot()
            return []
        comparing = self._compare != "off" and self._compare_filters is not None
        # In compare mode each segment's sessions, labelled A or B (they never overlap).
        segments = (("A", self._compare_filters[0]), ("B", self._compare_filters[1])) if comparing else \
            (("", self._filter),)
        self.hotspot_item.setData([x], [y], size=2 * radius_px)
        # One row per session: its click nearest the spot (aggregated in the core).
        spot = hot_spot(self._engine, snap.snapshot_id, self._kind, x, y, radius_px, segments,
                        signals_filter=self._filter, max_rows=MAX_HOTSPOT_ROWS)
        kind = spot.kind
        clicks_text, where = spot.summary(), spot.where()
        self.hotspot_title.setText(spot.title())
        t = self.hotspot_table
        t.setColumnHidden(SEGMENT_COL, not comparing)
        t.setRowCount(len(spot.rows))
        for i, row in enumerate(spot.rows):
            sig = ", ".join(n for n, ok in (("rage", row.rage), ("dead", row.dead)) if ok)
            values = (f"#{row.session_id}", format_clock(row.t_ms), snap.device, f"{row.clicks:,}", sig,
                      row.segment)
            for col, v in enumerate(values):
                cell = QTableWidgetItem(v)
                cell.setData(Qt.ItemDataRole.UserRole, (row.session_id, row.t_ms))
                if col in (0, 1, 3):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                elif col == SEGMENT_COL:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    cell.setToolTip(self._segment_name(row.segment))
                t.setItem(i, col, cell)
        sessions = [row.session_id for row in spot.rows]
        self.hotspot_listed.emit(len(sessions))
        self._cancel_hotspot()
        if kind == "click":  # the rage and dead lists stay about those clicks
            self._request_hesitations(x, y, radius_px, segments, clicks_text, where)
        return sessions

    def _request_hesitations(self, x, y, radius_px, segments, clicks_text: str, where: str) -> None:
        """Find the hesitations at the spot on a worker (the first click on a page detects them all)."""
        self._hotspot_seq += 1
        seq = self._hotspot_seq
        capture, snap = self._capture, self._snapshot
        cache = self.workspace.cache("hesitations")

        def work():  # worker thread: no widgets here
            return [(label, h) for label, flt in segments
                    for h in hesitations_at(capture, snap.snapshot_id, x, y, radius_px, flt, cache=cache)]

        def done(rows) -> None:
            if seq == self._hotspot_seq:
                self._hotspot_task = None
                self._show_hesitations(rows, snap, clicks_text, where)

        def failed(exc: BaseException) -> None:
            if seq == self._hotspot_seq:
                self._hotspot_task = None
                self.status_label.setText(f"Could not look for hesitations: {exc}")

        from hindsight_qt import tasks

        self._hotspot_task = tasks.run(work, done, failed)

    def _show_hesitations(self, rows, snap, clicks_text: str, where: str) -> None:
        """Append a row per hesitation under the click rows; double-click replays from its start."""
        if not rows:
            return
        t = self.hotspot_table
        start = t.rowCount()
        shown = rows[:MAX_HOTSPOT_ROWS]
        t.setRowCount(start + len(shown))
        for i, (label, (s, t_ms, _pv, dur, reason, selector)) in enumerate(shown, start=start):
            values = (f"#{s}", format_clock(t_ms), snap.device, "", f"hesitation {dur / 1000:.1f} s", label)
            tip = (f"Focused {selector or 'a field'}, no typing" if reason == "field" else
                   f"Cursor still{' over ' + selector if selector else ''}") + f" for {dur / 1000:.1f} s"
            for col, v in enumerate(values):
                cell = QTableWidgetItem(v)
                cell.setData(Qt.ItemDataRole.UserRole, (s, t_ms))
                cell.setToolTip(self._segment_name(label) if col == SEGMENT_COL else tip)
                if col in (0, 1, 3):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                elif col == SEGMENT_COL:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                t.setItem(i, col, cell)
        n = len(rows)
        self.hotspot_title.setText(f"{clicks_text} · {plural(n, 'hesitation')} {where}")
        self.hotspot_listed.emit(t.rowCount())

    def _cancel_hotspot(self) -> None:
        self._hotspot_seq += 1
        if self._hotspot_task is not None:
            self._hotspot_task.cancel()
            self._hotspot_task = None

    def _segment_name(self, label: str) -> str:
        c = BY_KEY.get(self._compare)
        if c is None or not label:
            return ""
        return f"{label}: {c.label_a if label == 'A' else c.label_b}"

    def _clear_hotspot(self) -> None:
        self._cancel_hotspot()
        self.hotspot_item.setData([], [])
        self.hotspot_table.setRowCount(0)
        self.hotspot_title.setText("Sessions at a hot spot")

    def _on_hotspot_double_clicked(self, row: int, _col: int) -> None:
        item = self.hotspot_table.item(row, 0)
        if item is None:
            return
        s, t_ms = item.data(Qt.ItemDataRole.UserRole)
        self.replay_requested.emit(int(s), int(t_ms))

    def hotspot_sessions(self) -> list[tuple[int, int]]:
        """(session_id, t_ms) of the rows in the hot spot list."""
        out = []
        for r in range(self.hotspot_table.rowCount()):
            s, t = self.hotspot_table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            out.append((int(s), int(t)))
        return out

    def image_spec(self):
        """What "Save image…" draws: this page, device, kind, filter, opacity (and compare)."""
        from hindsight_qt.views.qt_heatmap_image import HeatmapImageSpec

        if self._engine is None or self._snapshot is None or not self._pages:
            return None
        compare = None
        if self._compare != "off" and self._compare_filters is not None:
            c = BY_KEY[self._compare]
            compare = (*self._compare_filters, (c.label_a, c.label_b))
        return HeatmapImageSpec(self._capture, self._engine, self._snapshot,
                                self._pages[self.page_combo.currentIndex()].key, self._kind, self._filter,
                                self.opacity_slider.value() / 100.0, compare, self._pages_for_request())

    def save_image(self, path=None):
        """Write the shown map as a PNG (asks where unless ``path``); returns the worker task."""
        from hindsight_qt.views.qt_heatmap_image import save_heatmap_image

        return save_heatmap_image(self, self.image_spec(), path)

    def render_overlay_image(self) -> QImage:
        """The panel as an image (for docs and tests)."""
        return self.grab().toImage()

"""QtFormsPanel: form analytics of one form, as a field funnel, a sortable field table and
the sessions that abandoned at a chosen field (double-click one to replay where they left).

Also home of small pieces the funnel and signals panels share: plot styling, a sessions
list that emits ``replay_requested`` and number formatting.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hindsight.analytics.forms import FormReport, form_reports, list_forms
from hindsight.store import SessionFilter
from hindsight.text import format_clock, plural
from hindsight.workspace import Workspace
from hindsight_qt.errors import user_message
from hindsight_qt.tasks import LatestOnly

ACCENT = "#7C5CFF"
ACCENT_SOFT = "#CFC4FF"
DROP = "#E5484D"
TEXT = "#1F2430"
MUTED = "#6B7280"
LINE = "#E3E6EC"
#: Below this width (a narrow dock) lists go under their tables, not beside them.
NARROW_PX = 900

PANEL_STYLE = """
QLabel#formHeader { font-size: 14px; font-weight: 700; color: #1F2430; }
QLabel#sectionTitle { font-weight: 700; color: #1F2430; }
QLabel#hint { color: #6B7280; }
QTableView, QTableWidget { gridline-color: #EEF0F4; border: 1px solid #E3E6EC; border-radius: 4px;
                           alternate-background-color: #F8F9FB; selection-background-color: #EFECFF;
                           selection-color: #1F2430; }
QHeaderView::section { background: #F5F6F8; color: #4B5563; border: none; border-bottom: 1px solid #E3E6EC;
                       padding: 4px 6px; font-weight: 600; }
"""

#: Replays opened from a session list start this long before the listed moment.
REPLAY_LEAD_IN_MS = 3000


def fmt_seconds(ms: float | None) -> str:
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "–"
    s = ms / 1000.0
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)}:{int(s % 60):02d} min"


#: A moment in a session, e.g. "1:23.2" (the core's formatter).
fmt_t = format_clock


def style_plot(plot: pg.PlotWidget) -> pg.PlotItem:
    """White background, light grid, muted axes, no mouse zoom: a chart, not a viewer."""
    plot.setBackground("#FFFFFF")
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    vb = item.getViewBox()
    vb.setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        ax.setPen(pg.mkPen(LINE))
        ax.setTextPen(pg.mkPen(MUTED))
    item.showGrid(x=False, y=True, alpha=0.25)
    # Axes (and so the grid) under the bars, not over them.
    for name in ("left", "bottom"):
        item.getAxis(name).setZValue(-1000)
    return item


def legend_label(entries: list[tuple[str, str]]) -> QLabel:
    """A chart legend as one line of text over the chart (never covers the bars)."""
    html = "&nbsp;&nbsp;&nbsp;".join(
        f'<span style="color:{colour}; font-size:14px;">&#9632;</span>&nbsp;<span style="color:{MUTED};">'
        f"{text}</span>" for colour, text in entries)
    label = QLabel(html)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


def setup_table(t: QTableWidget | QTableView) -> None:
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(24)
    t.horizontalHeader().setHighlightSections(False)


class _SortItem(QTableWidgetItem):
    """A cell shown as text but sorted by a number."""

    def __init__(self, text: str, key: float):
        super().__init__(text)
        self.key = key

    def __lt__(self, other):  # noqa: D105
        if isinstance(other, _SortItem):
            return self.key < other.key
        return super().__lt__(other)


class SessionListTable(QTableWidget):
    """Sessions with a time each; double-click emits ``replay_requested(session_id, t_ms)``."""

    replay_requested = Signal(int, int)

    def __init__(self, headers: list[str], parent=None):
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        setup_table(self)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip("Double-click a session to replay it from that moment")
        self._rows: list[tuple[int, int]] = []
        self.cellDoubleClicked.connect(self._on_double_clicked)

    def set_rows(self, rows: list[tuple[int, int, list]], sort_column: int | None = 0) -> None:
        """``rows``: (session_id, t_ms, cells), cells as shown (first cell usually the id).

        Numbers in cells sort as numbers. ``sort_column`` None keeps the given order.
        """
        self.setSortingEnabled(False)
        self.setRowCount(len(rows))
        self._rows = [(sid, t) for sid, t, _ in rows]
        for r, (sid, t, cells) in enumerate(rows):
            for c, text in enumerate(cells):
                if isinstance(text, tuple):  # (shown text, sort key)
                    item = _SortItem(str(text[0]), float(text[1]))
                elif isinstance(text, (int, float)) and not isinstance(text, bool):
                    item = QTableWidgetItem()
                    item.setData(Qt.ItemDataRole.DisplayRole, text)
                else:
                    item = QTableWidgetItem(str(text))
                item.setData(Qt.ItemDataRole.UserRole, r)
                item.setToolTip(item.text())  # long cells are elided in narrow docks
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        if sort_column is None:
            self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            self.setSortingEnabled(True)
        else:
            self.setSortingEnabled(True)
            self.sortItems(sort_column, Qt.SortOrder.AscendingOrder)

    def fit_columns(self, stretch: int) -> None:
        """Size columns to their contents, except ``stretch`` which takes the rest."""
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    def session_rows(self) -> list[tuple[int, int]]:
        return list(self._rows)

    def _on_double_clicked(self, row: int, _col: int) -> None:
        item = self.item(row, 0)
        if item is None:
            return
        sid, t = self._rows[int(item.data(Qt.ItemDataRole.UserRole))]
        # Start a little before the moment, so the replay shows what led up to it.
        self.replay_requested.emit(int(sid), max(0, int(t) - REPLAY_LEAD_IN_MS))


# --------------------------------------------------------------------------------------
# Field table model
# --------------------------------------------------------------------------------------

#: (header, FieldStats attribute or callable, tooltip)
#: (header, the figure of a FieldStats, tooltip) per column.
FIELD_COLUMNS = [
    ("Field", lambda f: f.title, "The form field (document order)"),
    ("Interacted", lambda f: f.interacted, "Sessions that focused or typed in the field"),
    ("1st focus", lambda f: f.first_interaction_median_ms, "Median time from page load to the field's first focus"),
    ("Time in field", lambda f: f.time_in_field_median_ms,
     "Median time spent in the field per session (focus to blur)"),
    ("Returns", lambda f: f.returns, "Sessions that came back to the field after leaving it with data entered"),
    ("Corrections", lambda f: f.corrections, "Sessions that deleted characters in the field"),
    ("Blank", lambda f: f.left_blank, "Sessions that focused the field but left it empty"),
    ("Errors", lambda f: f.validation_errors, "Sessions shown a validation error on the field"),
    ("Drop-off", lambda f: f.dropoff, "Abandoning sessions whose last field this was"),
    ("% abandons", lambda f: f.dropoff_pct, "Share of all the form's abandons"),
]
_TIME_COLS = {2, 3}


class FieldTableModel(QAbstractTableModel):
    """The per-field figures of a ``FormReport``; sort through a QSortFilterProxyModel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._report: FormReport | None = None

    def set_report(self, report: FormReport | None) -> None:
        self.beginResetModel()
        self._report = report
        self.endResetModel()

    def field_name(self, row: int) -> str:
        return self._report.fields[row].name

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or self._report is None else len(self._report.fields)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(FIELD_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return FIELD_COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return FIELD_COLUMNS[section][2]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._report is None:
            return None
        f = self._report.fields[index.row()]
        col = index.column()
        value = FIELD_COLUMNS[col][1](f)
        top = self._report.top_abandon_field
        if role == Qt.ItemDataRole.DisplayRole:
            if col in _TIME_COLS:
                return fmt_seconds(value)
            if col == 9:
                return f"{value:.0f}%"
            return value if col == 0 else f"{value:,}"
        if role == Qt.ItemDataRole.UserRole:  # sort key
            if col in _TIME_COLS:
                return -1.0 if math.isnan(value) else float(value)
            return f.order if col == 0 else value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft if col == 0 else Qt.AlignmentFlag.AlignRight) | int(
                Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col in (8, 9) and top is not None and f.name == top.name:
                return QColor(DROP)
            if col == 7 and f.validation_errors:
                return QColor("#B45309")
        if role == Qt.ItemDataRole.FontRole and top is not None and f.name == top.name and col in (0, 8, 9):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return f"{f.label}\n{f.selector}"
        return None


# --------------------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------------------


class QtFormsPanel(QWidget):
    """Form analytics for the current capture and session filter."""

    replay_requested = Signal(int, int)   # session_id, t_ms since session start
    report_updated = Signal(object)       # the FormReport now shown

    def __init__(self, parent=None, workspace: Workspace | None = None):
        super().__init__(parent)
        self.setObjectName("FormsPanel")
        #: The window's workspace: replay requests go through it (a panel on its own has its own).
        self.workspace = workspace if workspace is not None else Workspace()
        self.setStyleSheet(PANEL_STYLE)
        self._capture = None
        self._filter = SessionFilter()
        self._forms = []
        self._reports: dict[str, FormReport] = {}
        self._report: FormReport | None = None
        self._compute = LatestOnly()
        self._build()
        self.replay_requested.connect(self.workspace.request_replay)

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(10, 8, 10, 8)
        root.setSpacing(6)

        bar = QHBoxLayout()
        self.header = QLabel("No capture", objectName="formHeader")
        self.header.setWordWrap(True)
        bar.addWidget(self.header, 1)
        self.form_combo = QComboBox()
        self.form_combo.setToolTip("Form")
        self.form_combo.currentIndexChanged.connect(lambda _i: self._request())
        bar.addWidget(self.form_combo)
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Device")
        self.device_combo.addItem("All devices", None)
        self.device_combo.currentIndexChanged.connect(lambda _i: self._show_device())
        bar.addWidget(self.device_combo)
        root.addLayout(bar)
        self.subheader = QLabel("", objectName="hint")
        self.subheader.setWordWrap(True)
        root.addWidget(self.subheader)

        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(180)
        self._plot_item = style_plot(self.plot)
        self._plot_item.setLabel("left", "Sessions", color=MUTED)
        self.reach_bars = pg.BarGraphItem(x=[], height=[], width=0.62, brush=ACCENT, pen=pg.mkPen(None))
        self.drop_bars = pg.BarGraphItem(x=[], height=[], width=0.62, brush=DROP, pen=pg.mkPen(None))
        self._plot_item.addItem(self.reach_bars)
        self._plot_item.addItem(self.drop_bars)
        self._labels: list[pg.TextItem] = []
        self.top_label = pg.TextItem("", color=DROP, anchor=(0.5, 1.0))
        font = QFont()
        font.setBold(True)
        self.top_label.setFont(font)
        self._plot_item.addItem(self.top_label)
        self.legend = legend_label([(ACCENT, "Sessions reaching the field"),
                                    (DROP, "Abandoned here (last field touched)")])
        self.plot.scene().sigMouseClicked.connect(self._on_plot_clicked)

        self.model = FieldTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        setup_table(self.table)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        hh.setMinimumSectionSize(74)  # headers stay readable; narrower docks scroll
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_field_selected())

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        self.abandon_title = QLabel("Sessions that abandoned at a field", objectName="sectionTitle")
        sl.addWidget(self.abandon_title)
        self.abandon_hint = QLabel("Select a field to list them; double-click to replay from 3 s before they left it.",
                                   objectName="hint")
        self.abandon_hint.setWordWrap(True)
        sl.addWidget(self.abandon_hint)
        self.abandon_list = SessionListTable(["Session", "Left the field at", "Device"])
        self.abandon_list.replay_requested.connect(self.replay_requested)
        sl.addWidget(self.abandon_list, 1)

        self.lower_split = lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.table)
        lower.addWidget(side)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)
        lower.setSizes([760, 280])

        chart = QWidget()
        cl = QVBoxLayout(chart)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(2)
        cl.addWidget(self.legend)
        cl.addWidget(self.plot, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(chart)
        split.addWidget(lower)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 300])
        root.addWidget(split, 1)
        self.status = QLabel("", objectName="hint")
        root.addWidget(self.status)

    def resizeEvent(self, ev) -> None:  # noqa: N802
        # Docked narrow, the abandon list goes under the field table instead of beside it.
        narrow = self.width() < NARROW_PX
        want = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.lower_split.orientation() != want:
            self.lower_split.setOrientation(want)
        super().resizeEvent(ev)
        if narrow:
            self._fit_table_height()

    def _fit_table_height(self) -> None:
        """Stacked: the field table takes just its rows, the abandon list gets the rest."""
        t = self.table
        rows = sum(t.rowHeight(r) for r in range(t.model().rowCount()))
        wanted = t.horizontalHeader().height() + rows + 2 * t.frameWidth() + 4
        if t.horizontalScrollBar().maximum() > 0:  # a narrow dock scrolls sideways
            wanted += t.horizontalScrollBar().sizeHint().height()
        total = sum(self.lower_split.sizes())
        if total > 0:
            table_h = min(wanted, int(total * 0.6))
            self.lower_split.setSizes([table_h, max(0, total - table_h)])

    # -- public API ------------------------------------------------------------------------
    def set_capture(self, capture) -> None:
        """Analyse the forms of an open ``Capture`` (None clears the panel)."""
        self._capture = capture
        self._forms = list_forms(capture) if capture is not None else []
        self.form_combo.blockSignals(True)
        self.form_combo.clear()
        for f in self._forms:
            self.form_combo.addItem(f"{f.form}  —  {f.url}", (f.form, f.url))
        self.form_combo.setVisible(len(self._forms) > 1)
        self.form_combo.blockSignals(False)
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("All devices", None)
        for d in dict.fromkeys(d for f in self._forms[:1] for d in f.devices):
            self.device_combo.addItem(d.capitalize(), d)
        self.device_combo.blockSignals(False)
        if not self._forms:
            self._reports = {}
            self._show(None)
            self.header.setText("No capture" if capture is None else "This capture has no forms")
            return
        self._request()

    def set_filter(self, flt: SessionFilter | None) -> None:
        self._filter = flt or SessionFilter()
        self._request()

    def set_device(self, device: str | None) -> None:
        i = self.device_combo.findData(device)
        if i < 0:
            raise KeyError(device)
        self.device_combo.setCurrentIndex(i)

    def select_field(self, name: str) -> None:
        for r in range(self.model.rowCount()):
            if self.model.field_name(r) == name:
                self.table.selectRow(self.proxy.mapFromSource(self.model.index(r, 0)).row())
                return
        raise KeyError(name)

    @property
    def report(self) -> FormReport | None:
        return self._report

    # -- computing -------------------------------------------------------------------------
    def _request(self) -> None:
        if self._capture is None or not self._forms:
            return
        data = self.form_combo.currentData() or (self._forms[0].form, self._forms[0].url)
        cap, flt = self._capture, self._filter
        self.status.setText("Computing…")

        from hindsight.engine import on_dataset

        dataset = on_dataset.is_dataset_capture(cap)

        def work():  # worker thread: no widgets here
            if dataset:   # tasks on the cluster, the same kernel
                return on_dataset.form_reports(cap, data[0], data[1], flt)
            return form_reports(cap, data[0], data[1], flt=flt)

        task = self._compute.submit(work, self._on_computed, self._on_failed)
        if dataset:
            from hindsight_qt.views.qt_progress import watch_task

            watch_task(self, task, "Forms", "Computing the form analytics on the cluster…",
                       on_cancelled=lambda: self.status.setText("Cancelled: change the form or filter to compute"))

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not compute the form analytics: {user_message(exc, self._capture)}")

    def _on_computed(self, reports) -> None:
        self._reports = reports
        self.status.setText("")
        self._show_device()

    def _show_device(self) -> None:
        self._show(self._reports.get(self.device_combo.currentData()))

    # -- showing ---------------------------------------------------------------------------
    def _show(self, report: FormReport | None) -> None:
        self._report = report
        self.model.set_report(report)
        self.abandon_list.set_rows([])
        self._update_header(report)
        self._update_chart(report)
        if self.lower_split.orientation() == Qt.Orientation.Vertical:
            self._fit_table_height()
        if report is not None:
            self.report_updated.emit(report)
            top = report.top_abandon_field
            if top is not None:
                self.select_field(top.name)

    def _update_header(self, r: FormReport | None) -> None:
        if r is None:
            self.header.setText("No form")
            self.subheader.setText("")
            return
        self.header.setText(r.header())
        pct = (lambda a, b: f"{100 * a / b:.0f}%" if b else "–")
        where = r.device.capitalize() if r.device else "All devices"
        self.subheader.setText(
            f"{where} · {r.url} · start rate {pct(r.started, r.viewed)} of viewers · "
            f"completion rate {pct(r.completed, r.started)} of starters · typed text is never recorded, "
            f"only lengths and timings")

    def _update_chart(self, r: FormReport | None) -> None:
        for item in self._labels:
            self._plot_item.removeItem(item)
        self._labels = []
        self.plot.setVisible(r is not None and bool(r.fields))
        if r is None or not r.fields:
            self.reach_bars.setOpts(x=[], height=[])
            self.drop_bars.setOpts(x=[], height=[])
            self.top_label.setText("")
            return
        x = np.arange(len(r.fields), dtype=float)
        reach = np.array([f.interacted for f in r.fields], dtype=float)
        drop = np.array([f.dropoff for f in r.fields], dtype=float)
        # The drop-off is the top part of each bar: of those reaching the field, who left there.
        self.reach_bars.setOpts(x=x, height=reach - drop, y0=np.zeros_like(reach), width=0.62)
        self.drop_bars.setOpts(x=x, height=drop, y0=reach - drop, width=0.62)
        ax = self._plot_item.getAxis("bottom")
        ax.setTicks([[(i, f.title) for i, f in enumerate(r.fields)]])
        top_y = float(reach.max()) if reach.size else 1.0
        self._plot_item.setYRange(0, top_y * 1.3, padding=0)
        self._plot_item.setXRange(-0.6, len(r.fields) - 0.4, padding=0)
        for i, f in enumerate(r.fields):
            label = pg.TextItem(f"{f.interacted:,}", color=MUTED, anchor=(0.5, 1.0))
            label.setPos(i, reach[i] + top_y * 0.01)
            self._plot_item.addItem(label)
            self._labels.append(label)
        top = r.top_abandon_field
        if top is not None:
            self.top_label.setText(f"Top abandonment: {top.title} · {top.dropoff:,} ({top.dropoff_pct:.0f}%)")
            # Above every bar's count label, over the top abandonment field's bar.
            self.top_label.setPos(top.order, top_y * 1.24)
            self.top_label.setAnchor((0.5, 0.5))
        else:
            self.top_label.setText("")

    def _on_plot_clicked(self, ev) -> None:
        if self._report is None or not self._report.fields:
            return
        pos = self._plot_item.getViewBox().mapSceneToView(ev.scenePos())
        i = int(round(pos.x()))
        if 0 <= i < len(self._report.fields) and abs(pos.x() - i) <= 0.4:
            self.select_field(self._report.fields[i].name)

    def _on_field_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self._report is None:
            self.abandon_list.set_rows([])
            return
        name = self.model.field_name(self.proxy.mapToSource(rows[0]).row())
        lst = self._report.abandoned_sessions(name)
        devices = self._devices_of(lst.session_id)
        title = self._report.field(name).title
        self.abandon_title.setText(f"Abandoned at {title}: {plural(len(lst), 'session')}")
        self.abandon_list.set_rows([
            (int(s), int(t), [int(s), (fmt_t(int(t)), int(t)), devices.get(int(s), "")])
            for s, t in zip(lst.session_id.tolist(), lst.t_ms.tolist())
        ])

    def _devices_of(self, session_ids) -> dict[int, str]:
        if self._capture is None or len(session_ids) == 0:
            return {}
        table = self._capture.session_table(SessionFilter(session_ids=tuple(int(s) for s in session_ids)))
        return dict(zip(table["session_id"].tolist(), table["device"].tolist()))

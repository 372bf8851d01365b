"""QtFunnelPanel: build a funnel from page visits and custom events, see how many sessions
reach each step in order, and list (and replay) the sessions that dropped off at a step."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hindsight.text import plural
from hindsight.analytics.funnel import FunnelReport, FunnelStep
from hindsight.store import SessionFilter
from hindsight.workspace import Workspace
from hindsight_qt.errors import user_message
from hindsight_qt.tasks import LatestOnly
from hindsight_qt.views.qt_forms_panel import (
    ACCENT,
    DROP,
    MUTED,
    NARROW_PX,
    PANEL_STYLE,
    SessionListTable,
    fmt_t,
    legend_label,
    setup_table,
    style_plot,
)

_STYLE = PANEL_STYLE + """
QListWidget#steps { border: 1px solid #E3E6EC; border-radius: 4px; }
QListWidget#steps::item { padding: 5px 6px; }
QListWidget#steps::item:selected { background: #EFECFF; color: #1F2430; }
QPushButton { padding: 4px 10px; }
"""


def step_title(step: FunnelStep) -> str:
    """Short name of a step for axes and lists: a URL's path, or the event's name."""
    if step.kind == "event":
        return f"⚑ {step.value}"
    parts = urlsplit(step.value)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "") if parts.netloc else step.value


class QtFunnelPanel(QWidget):
    """An ordered funnel over the current capture and session filter."""

    replay_requested = Signal(int, int)   # session_id, t_ms since session start
    report_updated = Signal(object)       # the FunnelReport now shown

    def __init__(self, parent=None, workspace: Workspace | None = None):
        super().__init__(parent)
        self.setObjectName("FunnelPanel")
        #: The window's workspace: replay requests go through it (a panel on its own has its own).
        self.workspace = workspace if workspace is not None else Workspace()
        self.setStyleSheet(_STYLE)
        self._capture = None
        self._filter = SessionFilter()
        self._steps: list[FunnelStep] = []
        self._titles: dict[str, str] = {}
        self._report: FunnelReport | None = None
        self._compute = LatestOnly()
        self._build()
        self.replay_requested.connect(self.workspace.request_replay)

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(10, 8, 10, 8)
        root.setSpacing(6)
        self.header = QLabel("No capture", objectName="formHeader")
        root.addWidget(self.header)
        self.subheader = QLabel("", objectName="hint")
        self.subheader.setWordWrap(True)
        root.addWidget(self.subheader)

        # Step editor (left) and chart (right).
        editor = QWidget()
        editor.setMinimumWidth(250)
        el = QVBoxLayout(editor)
        el.setContentsMargins(0, 0, 0, 0)
        el.addWidget(QLabel("Steps, in order", objectName="sectionTitle"))
        self.step_list = QListWidget(objectName="steps")
        self.step_list.setMinimumHeight(92)  # three steps stay visible when docked narrow
        self.step_list.currentRowChanged.connect(lambda _r: self._update_buttons())
        el.addWidget(self.step_list, 1)
        moves = QHBoxLayout()
        self.up_button = QPushButton("↑")
        self.up_button.setToolTip("Move the step earlier")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button = QPushButton("↓")
        self.down_button.setToolTip("Move the step later")
        self.down_button.clicked.connect(lambda: self._move(1))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Every page, then every custom event")
        self.reset_button.clicked.connect(self.reset_steps)
        for b in (self.up_button, self.down_button, self.remove_button, self.reset_button):
            moves.addWidget(b)
        el.addLayout(moves)
        add_page = QHBoxLayout()
        self.page_combo = QComboBox()
        self.page_combo.setToolTip("A page visit step")
        add_page.addWidget(self.page_combo, 1)
        self.add_page_button = QPushButton("Add page")
        self.add_page_button.clicked.connect(
            lambda: self._add(FunnelStep("page", self.page_combo.currentData())) if self.page_combo.count() else None)
        add_page.addWidget(self.add_page_button)
        el.addLayout(add_page)
        add_event = QHBoxLayout()
        self.event_combo = QComboBox()
        self.event_combo.setToolTip("A custom event step")
        add_event.addWidget(self.event_combo, 1)
        self.add_event_button = QPushButton("Add event")
        self.add_event_button.clicked.connect(
            lambda: self._add(FunnelStep("event", self.event_combo.currentData()))
            if self.event_combo.count() else None)
        add_event.addWidget(self.add_event_button)
        el.addLayout(add_event)

        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(200)
        self._plot_item = style_plot(self.plot)
        self._plot_item.setLabel("left", "Sessions", color=MUTED)
        self.reach_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=ACCENT, pen=pg.mkPen(None))
        self.drop_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=pg.mkBrush(229, 72, 77, 70),
                                         pen=pg.mkPen(DROP, width=1, style=Qt.PenStyle.DashLine))
        self._plot_item.addItem(self.reach_bars)
        self._plot_item.addItem(self.drop_bars)
        self.legend = legend_label([(ACCENT, "Reached the step (in order)"), ("#F3A5A8", "Dropped off before it")])
        self._labels: list[pg.TextItem] = []
        self.plot.scene().sigMouseClicked.connect(self._on_plot_clicked)

        chart = QWidget()
        cl = QVBoxLayout(chart)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(2)
        cl.addWidget(self.legend)
        cl.addWidget(self.plot, 1)
        self.top_split = top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(editor)
        top.addWidget(chart)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 3)
        top.setSizes([300, 900])

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Step", "Sessions", "From previous", "From first", "Dropped"])
        setup_table(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_step_selected)

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        self.dropped_title = QLabel("Sessions that dropped off", objectName="sectionTitle")
        sl.addWidget(self.dropped_title)
        hint = QLabel("Select a step (or click its bar) to list who reached the step before it but not this "
                      "one; double-click to replay from the previous step.", objectName="hint")
        hint.setWordWrap(True)
        sl.addWidget(hint)
        self.dropped_list = SessionListTable(["Session", "At previous step", "Device"])
        self.dropped_list.replay_requested.connect(self.replay_requested)
        sl.addWidget(self.dropped_list, 1)

        self.lower_split = lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.table)
        lower.addWidget(side)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        lower.setSizes([700, 400])

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(lower)
        split.setSizes([380, 260])
        root.addWidget(split, 1)
        self.status = QLabel("", objectName="hint")
        root.addWidget(self.status)
        self._update_buttons()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        # Docked narrow: editor above the chart, dropped sessions under the step table.
        want = Qt.Orientation.Vertical if self.width() < NARROW_PX else Qt.Orientation.Horizontal
        for split in (self.top_split, self.lower_split):
            if split.orientation() != want:
                split.setOrientation(want)
        super().resizeEvent(ev)

    # -- public API ------------------------------------------------------------------------
    def set_capture(self, capture) -> None:
        """Offer the capture's pages and custom events as steps; start with all of them."""
        self._capture = capture
        self.page_combo.clear()
        self.event_combo.clear()
        self._titles = {}
        if capture is None:
            self._steps = []
            self._refresh_steps()
            self._show(None)
            self.header.setText("No capture")
            return
        from hindsight.analytics.funnel import funnel_step_choices

        from hindsight.analytics.page_groups import capture_groups

        from hindsight.engine import on_dataset

        urls, events = (on_dataset.funnel_step_choices(capture) if on_dataset.is_dataset_capture(capture)
                        else funnel_step_choices(capture))   # page steps: one per page group (URL pattern)
        groups = capture_groups(capture).by_key
        for url in urls:
            group = groups.get(url)
            self.page_combo.addItem(step_title(FunnelStep("page", url)), url)
            self.page_combo.setItemData(self.page_combo.count() - 1, group.tooltip if group else url,
                                        Qt.ItemDataRole.ToolTipRole)
            self._titles[url] = group.title if group else ""
        for name in events:
            self.event_combo.addItem(name, name)
        self.reset_steps()

    def set_filter(self, flt: SessionFilter | None) -> None:
        self._filter = flt or SessionFilter()
        self._request()

    def set_steps(self, steps) -> None:
        from hindsight.analytics.funnel import parse_step

        self._steps = [s if isinstance(s, FunnelStep) else parse_step(s) for s in steps]
        self._refresh_steps()
        self._request()

    def reset_steps(self) -> None:
        steps = [FunnelStep("page", self.page_combo.itemData(i)) for i in range(self.page_combo.count())]
        steps += [FunnelStep("event", self.event_combo.itemData(i)) for i in range(self.event_combo.count())]
        self.set_steps(steps)

    @property
    def steps(self) -> list[FunnelStep]:
        return list(self._steps)

    @property
    def report(self) -> FunnelReport | None:
        return self._report

    def select_step(self, index: int) -> None:
        self.table.selectRow(index)

    # -- editing ---------------------------------------------------------------------------
    def _add(self, step: FunnelStep) -> None:
        self._steps.append(step)
        self._refresh_steps()
        self.step_list.setCurrentRow(len(self._steps) - 1)
        self._request()

    def _remove(self) -> None:
        row = self.step_list.currentRow()
        if 0 <= row < len(self._steps):
            del self._steps[row]
            self._refresh_steps()
            self.step_list.setCurrentRow(min(row, len(self._steps) - 1))
            self._request()

    def _move(self, delta: int) -> None:
        row = self.step_list.currentRow()
        new = row + delta
        if 0 <= row < len(self._steps) and 0 <= new < len(self._steps):
            self._steps[row], self._steps[new] = self._steps[new], self._steps[row]
            self._refresh_steps()
            self.step_list.setCurrentRow(new)
            self._request()

    def _refresh_steps(self) -> None:
        self.step_list.blockSignals(True)
        self.step_list.clear()
        for i, s in enumerate(self._steps):
            item = QListWidgetItem(f"{i + 1}.  {step_title(s)}")
            item.setToolTip(s.value if s.kind == "event" else f"{self._titles.get(s.value, '')}\n{s.value}")
            self.step_list.addItem(item)
        self.step_list.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.step_list.currentRow()
        n = len(self._steps)
        self.up_button.setEnabled(0 < row < n)
        self.down_button.setEnabled(0 <= row < n - 1)
        self.remove_button.setEnabled(0 <= row < n)
        self.add_page_button.setEnabled(self.page_combo.count() > 0)
        self.add_event_button.setEnabled(self.event_combo.count() > 0)

    # -- computing -------------------------------------------------------------------------
    def _request(self) -> None:
        if self._capture is None:
            return
        if not self._steps:
            self._show(None)
            self.header.setText("Add steps to build a funnel")
            return
        cap, steps, flt = self._capture, list(self._steps), self._filter
        self.status.setText("Computing…")

        from hindsight.engine import on_dataset

        dataset = on_dataset.is_dataset_capture(cap)

        def work():  # worker thread: no widgets here
            from hindsight.analytics.funnel import funnel

            if dataset:   # tasks on the cluster, the same kernel
                return on_dataset.funnel(cap, steps, flt)
            return funnel(cap, steps, flt=flt)

        task = self._compute.submit(work, self._on_computed, self._on_failed)
        if dataset:
            from hindsight_qt.views.qt_progress import watch_task

            watch_task(self, task, "Funnel", "Computing the funnel on the cluster…",
                       on_cancelled=lambda: self.status.setText("Cancelled: change a step or the filter to compute"))

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not compute the funnel: {user_message(exc, self._capture)}")

    def _on_computed(self, report: FunnelReport) -> None:
        self.status.setText("")
        self._show(report)
        self.report_updated.emit(report)

    # -- showing ---------------------------------------------------------------------------
    def _show(self, report: FunnelReport | None) -> None:
        self._report = report
        self.dropped_list.set_rows([])
        self._update_header(report)
        self._update_chart(report)
        self._update_table(report)
        if report is not None and len(report.results) > 1:
            worst = 1 + int(np.argmax([r.dropped for r in report.results[1:]]))
            self.select_step(worst)

    def _update_header(self, r: FunnelReport | None) -> None:
        if r is None:
            self.header.setText("No funnel")
            self.subheader.setText("")
            return
        first, last = r.results[0], r.results[-1]
        n = len(r.results)
        pct = 100 * last.sessions / first.sessions if first.sessions else 0.0
        self.header.setText(f"{last.sessions:,} of {plural(first.sessions, 'session')} ({pct:.1f}%) went through all "
                            f"{n} steps")
        if n > 1:
            worst = max(r.results[1:], key=lambda x: x.dropped)
            self.subheader.setText(
                f"{plural(r.session_ids.size, 'session')} in the segment · biggest drop-off before "
                f"{step_title(worst.step)}: {plural(worst.dropped, 'session')} "
                f"({100 * (1 - worst.from_previous):.0f}% of the step before)")
        else:
            self.subheader.setText(f"{plural(r.session_ids.size, 'session')} in the segment")

    def _update_chart(self, r: FunnelReport | None) -> None:
        for item in self._labels:
            self._plot_item.removeItem(item)
        self._labels = []
        self.plot.setVisible(r is not None)
        if r is None:
            self.reach_bars.setOpts(x=[], height=[])
            self.drop_bars.setOpts(x=[], height=[])
            self._plot_item.getAxis("bottom").setTicks([[]])
            return
        x = np.arange(len(r.results), dtype=float)
        reach = np.array([s.sessions for s in r.results], dtype=float)
        dropped = np.array([s.dropped for s in r.results], dtype=float)
        self.reach_bars.setOpts(x=x, height=reach, width=0.6)
        self.drop_bars.setOpts(x=x, height=dropped, y0=reach, width=0.6)
        self._plot_item.getAxis("bottom").setTicks([[(i, step_title(s.step)) for i, s in enumerate(r.results)]])
        top = float(max(reach.max() if reach.size else 1.0, 1.0))
        self._plot_item.setYRange(0, top * 1.18, padding=0)
        self._plot_item.setXRange(-0.6, len(r.results) - 0.4, padding=0)
        bold = QFont()
        bold.setBold(True)
        for i, s in enumerate(r.results):
            text = f"{s.sessions:,}  ·  {100 * s.from_first:.1f}%"
            label = pg.TextItem(text, color="#1F2430", anchor=(0.5, 1.0))
            label.setFont(bold)
            label.setPos(i, reach[i] + top * 0.012)
            self._plot_item.addItem(label)
            self._labels.append(label)
            if i:
                conv = pg.TextItem(f"→ {100 * s.from_previous:.1f}%\n−{s.dropped:,}", color=DROP, anchor=(0.5, 0.5))
                conv.setPos(i - 0.5, top * 0.5)
                self._plot_item.addItem(conv)
                self._labels.append(conv)

    def _update_table(self, r: FunnelReport | None) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0 if r is None else len(r.results))
        for i, s in enumerate([] if r is None else r.results):
            cells = [f"{i + 1}. {step_title(s.step)}", f"{s.sessions:,}",
                     f"{100 * s.from_previous:.1f}%" if i else "–", f"{100 * s.from_first:.1f}%",
                     f"{s.dropped:,}" if i else "–"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 4 and i and s.dropped:
                    item.setForeground(QColor(DROP))
                if c == 0:
                    item.setToolTip(s.step.value)
                self.table.setItem(i, c, item)
        self.table.blockSignals(False)

    def _highlight_drop(self, step: int) -> None:
        """The selected step's drop-off bar in a stronger red."""
        if self._report is None:
            return
        n = len(self._report.results)
        brushes = [pg.mkBrush(229, 72, 77, 150 if i == step else 60) for i in range(n)]
        self.drop_bars.setOpts(brushes=brushes)

    def _on_plot_clicked(self, ev) -> None:
        if self._report is None:
            return
        pos = self._plot_item.getViewBox().mapSceneToView(ev.scenePos())
        i = int(round(pos.x()))
        if 0 <= i < len(self._report.results):
            self.select_step(i)

    def _on_step_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self._report is None:
            self.dropped_list.set_rows([])
            return
        i = rows[0].row()
        self._highlight_drop(i)
        if i == 0:
            self.dropped_title.setText("The first step has no drop-off")
            self.dropped_list.set_rows([])
            return
        ids, t = self._report.dropped_sessions(i)
        devices = {}
        if self._capture is not None and len(ids):
            table = self._capture.session_table(SessionFilter(session_ids=tuple(int(s) for s in ids)))
            devices = dict(zip(table["session_id"].tolist(), table["device"].tolist()))
        step = self._report.results[i].step
        self.dropped_title.setText(f"Dropped before {step_title(step)}: {plural(len(ids), 'session')}")
        self.dropped_list.set_rows([(int(s), int(tt), [int(s), (fmt_t(int(tt)), int(tt)), devices.get(int(s), "")])
                                    for s, tt in zip(ids.tolist(), t.tolist())])

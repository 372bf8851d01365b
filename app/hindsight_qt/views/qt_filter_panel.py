"""The filter panel: narrows the session list by segment, duration, conversion, pages,
frustration signals and where visitors abandoned the form.

Controls are filled from the open capture (``distinct_values``, ``pages``); every change
restarts a short timer and ``filter_changed(SessionFilter)`` is emitted once typing or
clicking settles (~150 ms), so a burst of clicks costs one query.

The panel is a view of the :class:`~hindsight.workspace.Workspace`'s filter: a change made
here becomes ``workspace.set_filter(build_filter(...))`` (the same function the CLI builds
its filters with), and a filter set anywhere else (the Signals panel's ticks, a panel's
"show these sessions", Reset) shows here through ``workspace.events.filter_changed``.

"Frustration" and "Abandoned at" need the capture's session index (``index_did_load``) and
form report (computed here on a worker thread, then ``workspace.set_form_report``); they
stay disabled, reading "computing…", until then. The workspace resolves both to session ids.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionComboBox,
    QStylePainter,
    QToolButton,
    QWidget,
)

from hindsight.text import plural
from hindsight.analytics.signals import SIGNAL_KINDS
from hindsight.store import SessionFilter
from hindsight.workspace import Workspace, WorkspaceFilter, build_filter, resolve_filter
from hindsight_qt import tasks
from hindsight_qt.subscribe import subscribe_all

DEBOUNCE_MS = 150
DAY_MS = 86_400_000
ANY_DAY = "Any day"
DATE_FROM_TIP = "Sessions that started on this day (UTC) or later"
DATE_TO_TIP = "Sessions that started on this day (UTC) or earlier"
_VALUE_ROLE = Qt.ItemDataRole.UserRole + 1

#: Categorical filters: SessionFilter field / capture column, and its label.
CATEGORIES = (
    ("device", "Device"),
    ("browser", "Browser"),
    ("os", "OS"),
    ("country", "Country"),
    ("source", "Source"),
)
#: The Frustration list: signal kind and its entry.
FRUSTRATION_KINDS = (
    ("rage_click", "Rage clicks"),
    ("dead_click", "Dead clicks"),
    ("error_click", "Error clicks"),
    ("excessive_scroll", "Excessive scrolling"),
    ("quick_back", "Quick backs"),
    ("thrashed_cursor", "Thrashed cursor"),
    ("validation_error", "Validation errors"),
)
assert tuple(k for k, _ in FRUSTRATION_KINDS) == SIGNAL_KINDS
COMPUTING = "computing…"


def _page_index(combo: QComboBox, entry) -> int:
    """Row of a page combo (data: a page group's URLs) for a filter entry: the group's URLs,
    or one URL (its group); 0 ("any") when none holds it."""
    for i in range(1, combo.count()):
        urls = tuple(combo.itemData(i) or ())
        if (isinstance(entry, (tuple, list)) and urls == tuple(entry)) or (isinstance(entry, str) and entry in urls):
            return i
    return 0


def _utc_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).date()


def _whole_day(ms: int | None) -> bool:
    return ms is not None and int(ms) % DAY_MS == 0


class CheckableComboBox(QComboBox):
    """A combo whose items are check boxes; the closed combo summarises the checked ones."""

    checked_changed = Signal()

    def __init__(self, any_text: str = "Any", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._any_text = any_text
        self._quiet = False   # filling or setting programmatically: one signal at the end
        self._pressed_row = -1   # row under a press inside the open popup, else -1
        self.setModel(QStandardItemModel(self))
        # The default menu-like delegate ignores the style sheet's ::indicator and ::item rules.
        self.setItemDelegate(QStyledItemDelegate(self))
        self.view().viewport().installEventFilter(self)
        self.model().itemChanged.connect(self._on_item_changed)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(6)

    def set_values(self, values: list[str], labels: list[str] | None = None) -> None:
        """Offer ``values`` (shown as ``labels`` when given), none checked."""
        # (Blocking the model's signals instead would leave the popup view with stale rows.)
        model: QStandardItemModel = self.model()
        self._quiet = True
        try:
            model.clear()
            for n, value in enumerate(values):
                if value is None:
                    continue  # NULL never matches an IN (...) condition: nothing to offer
                text = labels[n] if labels is not None else (str(value) if value != "" else "(none)")
                item = QStandardItem(text)
                item.setData(value, _VALUE_ROLE)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setData(Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
                model.appendRow(item)
        finally:
            self._quiet = False
        self.setEnabled(bool(values))
        self.update()

    def values(self) -> list[str]:
        model: QStandardItemModel = self.model()
        return [model.item(r).data(_VALUE_ROLE) for r in range(model.rowCount())]

    def checked(self) -> tuple[str, ...]:
        model: QStandardItemModel = self.model()
        return tuple(
            model.item(r).data(_VALUE_ROLE) for r in range(model.rowCount())
            if model.item(r).checkState() == Qt.CheckState.Checked
        )

    def set_checked(self, values) -> None:
        wanted = set(values)
        model: QStandardItemModel = self.model()
        self._quiet = True
        try:
            for r in range(model.rowCount()):
                item = model.item(r)
                item.setCheckState(
                    Qt.CheckState.Checked if item.data(_VALUE_ROLE) in wanted else Qt.CheckState.Unchecked)
        finally:
            self._quiet = False
        self._on_item_changed(None)

    def set_any_text(self, text: str) -> None:
        """What the closed combo reads with nothing checked ("Any", "computing…")."""
        self._any_text = text
        self.update()

    def checked_texts(self) -> list[str]:
        model: QStandardItemModel = self.model()
        return [model.item(r).text() for r in range(model.rowCount())
                if model.item(r).checkState() == Qt.CheckState.Checked]

    def summary(self) -> str:
        checked = self.checked_texts()
        if not checked:
            return self._any_text
        if len(checked) <= 2:
            return ", ".join(checked)
        return f"{len(checked)} selected"

    # Keep the popup open while toggling items (a plain QComboBox closes on every click).
    # Only a press *and* release inside the popup toggle an item: the click that opens the
    # popup presses on the closed combo and releases over the popup's first row, which must
    # not tick it (issue 13, defect 1).
    def showPopup(self) -> None:  # noqa: N802
        self._pressed_row = -1
        super().showPopup()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.view().viewport() and event.type() in (
                QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            self._pressed_row = self.view().indexAt(event.position().toPoint()).row()
            return True
        if obj is self.view().viewport() and event.type() == QEvent.Type.MouseButtonRelease:
            index = self.view().indexAt(event.position().toPoint())
            pressed, self._pressed_row = self._pressed_row, -1
            item = self.model().itemFromIndex(index)
            if item is not None and item.isEnabled() and index.row() == pressed:
                item.setCheckState(
                    Qt.CheckState.Unchecked if item.checkState() == Qt.CheckState.Checked else Qt.CheckState.Checked)
            return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self.view().isVisible() and event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.model().itemFromIndex(self.view().currentIndex())
            if item is not None:
                item.setCheckState(
                    Qt.CheckState.Unchecked if item.checkState() == Qt.CheckState.Checked else Qt.CheckState.Checked)
                return
        super().keyPressEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        opt.currentText = self.summary()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)

    def _on_item_changed(self, _item) -> None:
        if self._quiet:
            return
        self.update()
        self.setToolTip(", ".join(self.checked_texts()) or self._any_text)
        self.checked_changed.emit()


class QtFilterPanel(QWidget):
    """Segment, duration, conversion and page filters over the open capture."""

    filter_changed = Signal(object)   # SessionFilter (resolved), debounced; after the workspace's event

    def __init__(self, workspace: Workspace | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FilterPanel")
        self.workspace = workspace if workspace is not None else Workspace()
        self._capture = None
        self._hidden = SessionFilter()   # set_filter() conditions this panel has no control for
        self._report_task = None
        self._report_held = False      # hold_report: the form report waits
        self._report_waiting = None    # the capture whose form report waits for hold_report(False)
        self._frustration_mode = "any"   # "all" only when the Signals panel asks for it
        self._last_emitted: WorkspaceFilter | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit_now)

        grid = QGridLayout(self)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)

        title = QLabel("Filters", self)
        title.setObjectName("PanelTitle")
        self.reset_button = QPushButton("Reset", self)
        self.reset_button.setObjectName("LinkButton")
        self.reset_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.reset_button.setEnabled(False)
        self.reset_button.clicked.connect(self.reset)
        grid.addWidget(title, 0, 0, 1, 2)
        grid.addWidget(self.reset_button, 0, 3, Qt.AlignmentFlag.AlignRight)

        self.combos: dict[str, CheckableComboBox] = {}
        for i, (field, label) in enumerate(CATEGORIES):
            combo = CheckableComboBox("Any", self)
            combo.setObjectName(f"filter_{field}")
            combo.checked_changed.connect(self._changed)
            self.combos[field] = combo
            row, col = 1 + i // 2, (i % 2) * 2
            grid.addWidget(self._label(label), row, col)
            grid.addWidget(combo, row, col + 1)

        # Converted: a segmented Any | Yes | No control.
        self.converted_group = QButtonGroup(self)
        self.converted_group.setExclusive(True)
        seg = QWidget(self)
        seg.setObjectName("Segmented")
        seg_layout = QHBoxLayout(seg)
        seg_layout.setContentsMargins(0, 0, 0, 0)
        seg_layout.setSpacing(0)
        self.converted_buttons: dict[str, QToolButton] = {}
        for j, (key, text) in enumerate((("any", "Any"), ("yes", "Yes"), ("no", "No"))):
            b = QToolButton(seg)
            b.setText(text)
            b.setCheckable(True)
            b.setObjectName({0: "SegFirst", 2: "SegLast"}.get(j, "SegMiddle"))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.converted_group.addButton(b, j)
            self.converted_buttons[key] = b
            seg_layout.addWidget(b)
        self.converted_buttons["any"].setChecked(True)
        self.converted_group.idToggled.connect(lambda _id, on: on and self._changed())
        grid.addWidget(self._label("Converted"), 3, 2)
        grid.addWidget(seg, 3, 3)

        # Duration range in seconds; 0 means "no bound".
        self.min_duration = self._spin("No min")
        self.max_duration = self._spin("No max")
        dur = QWidget(self)
        dur_layout = QHBoxLayout(dur)
        dur_layout.setContentsMargins(0, 0, 0, 0)
        dur_layout.setSpacing(6)
        dur_layout.addWidget(self.min_duration, 1)
        dash = QLabel("–", dur)
        dash.setObjectName("Muted")
        dur_layout.addWidget(dash)
        dur_layout.addWidget(self.max_duration, 1)
        grid.addWidget(self._label("Duration"), 4, 0)
        grid.addWidget(dur, 4, 1, 1, 3)

        self.visited = self._page_combo("Any page")
        self.not_visited = self._page_combo("No page excluded")
        grid.addWidget(self._label("Visited"), 5, 0)
        grid.addWidget(self.visited, 5, 1)
        grid.addWidget(self._label("Not visited"), 5, 2)
        grid.addWidget(self.not_visited, 5, 3)

        # Frustration signals (session index) and form abandonment (form report).
        self.frustration = CheckableComboBox(COMPUTING, self)
        self.frustration.setObjectName("filter_frustration")
        self.frustration.set_values([k for k, _ in FRUSTRATION_KINDS], [t for _, t in FRUSTRATION_KINDS])
        self.frustration.setEnabled(False)
        self.frustration.checked_changed.connect(self._on_frustration_changed)
        self.abandoned_at = self._page_combo(COMPUTING)
        self.abandoned_at.setObjectName("filter_abandoned_at")
        self.abandoned_at.setEnabled(False)
        frustration_label = self._label("Frustration")
        frustration_label.setToolTip("Sessions with any of the checked frustration signals")
        abandoned_label = self._label("Abandoned at")
        abandoned_label.setToolTip("Sessions that abandoned the form at this field (the last one they touched)")
        grid.addWidget(frustration_label, 6, 0)
        grid.addWidget(self.frustration, 6, 1)
        grid.addWidget(abandoned_label, 6, 2)
        grid.addWidget(self.abandoned_at, 6, 3)

        # Started between two days (UTC, both included), as the CLI's --since / --until.
        self.date_from = self._date_edit(DATE_FROM_TIP)
        self.date_to = self._date_edit(DATE_TO_TIP)
        dates = QWidget(self)
        dates_layout = QHBoxLayout(dates)
        dates_layout.setContentsMargins(0, 0, 0, 0)
        dates_layout.setSpacing(6)
        dates_layout.addWidget(self.date_from, 1)
        dash = QLabel("–", dates)
        dash.setObjectName("Muted")
        dates_layout.addWidget(dash)
        dates_layout.addWidget(self.date_to, 1)
        grid.addWidget(self._label("Started"), 7, 0)
        grid.addWidget(dates, 7, 1, 1, 3)

        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.setEnabled(False)

        events = self.workspace.events
        subscribe_all(self, ((events.capture_changed, self._on_capture_changed),
                             (events.filter_changed, self._on_workspace_filter_changed),
                             (events.index_did_load, self._on_index_loaded),
                             (events.report_did_load, self._on_report_loaded)))

    # -- construction helpers --------------------------------------------------------------
    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName("FieldLabel")
        return label

    def _spin(self, special: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(0, 24 * 3600)
        spin.setSingleStep(10)
        spin.setSuffix(" s")
        spin.setSpecialValueText(special)
        spin.setAccelerated(True)
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(self._changed)
        return spin

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setSpecialValueText(ANY_DAY)   # shown at the minimum date: no bound
        edit.setToolTip(tip)
        edit.setKeyboardTracking(False)
        self._set_date_range(edit, None, None)
        edit.dateChanged.connect(self._changed)
        return edit

    @staticmethod
    def _set_date_range(edit: QDateEdit, first: date | None, last: date | None) -> None:
        """Days from ``first`` to ``last`` pickable; the day before ``first`` means "Any day"."""
        first = first or date(2000, 1, 2)
        last = last or date(2100, 1, 1)
        edit.blockSignals(True)
        edit.setDateRange(QDate(first.year, first.month, first.day).addDays(-1),
                          QDate(last.year, last.month, last.day))
        edit.setDate(edit.minimumDate())
        edit.blockSignals(False)

    @staticmethod
    def _day(edit: QDateEdit) -> date | None:
        if edit.date() == edit.minimumDate():
            return None
        d = edit.date()
        return date(d.year(), d.month(), d.day())

    def set_dates(self, first: date | None, last: date | None) -> None:
        """Show sessions that started from day ``first`` to day ``last`` (UTC; None: no bound)."""
        for edit, day in ((self.date_from, first), (self.date_to, last)):
            if day is None:
                edit.setDate(edit.minimumDate())
            else:
                edit.setDate(QDate(day.year, day.month, day.day))

    def _page_combo(self, any_text: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setItemDelegate(QStyledItemDelegate(combo))
        combo.addItem(any_text, None)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        combo.currentIndexChanged.connect(self._changed)
        return combo

    # -- public API ------------------------------------------------------------------------
    def set_capture(self, capture) -> None:
        """Open ``capture`` in the workspace (None closes it); the controls follow its event."""
        if capture is not self.workspace.capture:
            self.workspace.open(capture)

    def _on_capture_changed(self, capture) -> None:
        """Fill the controls from ``capture`` (None empties and disables them); no signal."""
        self._capture = capture
        self._timer.stop()
        self.blockSignals(True)
        try:
            for field, combo in self.combos.items():
                combo.set_values(capture.distinct_values(field) if capture is not None else [])
            first_ms, last_ms = capture.date_range() if capture is not None else (None, None)
            days = [None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc).date()
                    for ms in (first_ms, last_ms)]
            for edit in (self.date_from, self.date_to):
                self._set_date_range(edit, *days)
            for combo in (self.visited, self.not_visited):
                combo.blockSignals(True)
                while combo.count() > 1:
                    combo.removeItem(1)
                # one line per page group (URL pattern); its data is the group's URLs (any counts)
                groups = self.workspace.page_groups if capture is not None else None
                for g in (groups if groups is not None else []):
                    if g.page_ids:
                        combo.addItem(g.chooser_text, g.urls)
                        combo.setItemData(combo.count() - 1, g.tooltip, Qt.ItemDataRole.ToolTipRole)
                combo.blockSignals(False)
            self._apply(SessionFilter())
            self._hidden = SessionFilter()
            self._on_index_loaded(None)
            self._set_report(None)
        finally:
            self.blockSignals(False)
        self._last_emitted = self.workspace.filter
        self.setEnabled(capture is not None)
        self._update_reset()
        self._report_waiting = None
        if capture is not None:
            if self._report_held:
                self._report_waiting = capture
            else:
                self._compute_report(capture)

    def hold_report(self, hold: bool) -> None:
        """While held, a capture's form report (the "Abandoned at" choices, a few seconds on a
        worker at 100k sessions) does not start when it opens: the window's lazy start first
        paints the session list and builds the rest, which that work would contend with.
        Releasing starts it if it is waiting."""
        self._report_held = bool(hold)
        if not hold and self._report_waiting is not None:
            capture, self._report_waiting = self._report_waiting, None
            if capture is self._capture:
                self._compute_report(capture)

    def set_signal_index(self, index) -> None:
        """The open capture's SessionIndex (the workspace announces it to every view)."""
        self.workspace.set_signal_index(index)

    def _on_index_loaded(self, index) -> None:
        ready = index is not None
        self.frustration.setEnabled(ready)
        self.frustration.set_any_text("Any" if ready or self._capture is None else COMPUTING)

    @property
    def signal_index(self):
        return self.workspace.signal_index

    @property
    def form_report(self):
        """The FormReport behind "Abandoned at", or None (computing, or no form)."""
        return self.workspace.form_report

    def set_frustration(self, kinds, mode: str = "any") -> None:
        """Check exactly ``kinds`` (signal kinds) in the Frustration list; ``mode`` "all" keeps
        only sessions having every one of them (the Signals panel's choice)."""
        self._frustration_mode = mode if mode in ("any", "all") else "any"
        self.frustration.set_checked(kinds)   # emits checked_changed -> _changed
        self._changed()

    def frustration_kinds(self) -> tuple[str, ...]:
        return self.frustration.checked()

    def set_abandoned_field(self, field: str | None) -> None:
        """Show only sessions that abandoned the form at ``field`` (None: any)."""
        self.abandoned_at.setCurrentIndex(max(0, self.abandoned_at.findData(field)) if field else 0)

    def workspace_filter(self) -> WorkspaceFilter:
        """What the controls say, made by the core's ``build_filter`` (as the CLI's flags are)."""
        conv = self.converted_group.checkedId()
        visited = self.visited.currentData()
        not_visited = self.not_visited.currentData()
        hidden = self._hidden
        kinds = self.frustration.checked()
        try:
            first, last = self._day(self.date_from), self._day(self.date_to)
            wf = build_filter(
                **{field: combo.checked() for field, combo in self.combos.items()},
                converted={1: True, 2: False}.get(conv),
                min_duration_s=self.min_duration.value(), max_duration_s=self.max_duration.value(),
                # The day boxes (whole UTC days, both included), else bounds handed in by a panel.
                date_from=first if first is not None else hidden.start_from_ms,
                date_to=last if last is not None else hidden.start_before_ms,
                visited=((tuple(visited),) if visited else ()) + hidden.visited,
                not_visited=((tuple(not_visited),) if not_visited else ()) + hidden.not_visited,
                frustration=kinds, frustration_mode=self._frustration_mode if kinds else "any",
                abandoned_at=self.abandoned_at.currentData() or None,
                session_ids=hidden.session_ids, extra=hidden.extra)
        except ValueError as exc:
            # E.g. a minimum duration above the maximum: say so where it was typed and keep
            # the filter in force until the two agree.
            for spin in (self.min_duration, self.max_duration, self.date_from, self.date_to):
                spin.setToolTip(str(exc))
            return self._last_emitted if self._last_emitted is not None else WorkspaceFilter()
        for spin in (self.min_duration, self.max_duration):
            spin.setToolTip("")
        self.date_from.setToolTip(DATE_FROM_TIP)
        self.date_to.setToolTip(DATE_TO_TIP)
        return wf

    def current_filter(self) -> SessionFilter:
        """The controls' filter resolved (frustration and abandoned-at as session ids)."""
        ws = self.workspace
        return resolve_filter(self.workspace_filter(), ws.signal_index, ws.form_report)

    def set_filter(self, flt, emit: bool = True) -> None:
        """Show ``flt`` (a SessionFilter or WorkspaceFilter); conditions without a control here
        (session ids, extra, dates that are not whole UTC days) are kept."""
        if isinstance(flt, SessionFilter):
            flt = WorkspaceFilter(flt)
        self._show(flt)
        if emit:
            self._changed()

    def select(self, field: str, values) -> None:
        """Check exactly ``values`` in the ``field`` list (device, browser, os, country, source)."""
        self.combos[field].set_checked(values)

    def set_converted(self, value: bool | None) -> None:
        self.converted_buttons[{None: "any", True: "yes", False: "no"}[value]].setChecked(True)

    def set_visited(self, url: str | None) -> None:
        self.visited.setCurrentIndex(_page_index(self.visited, url) if url else 0)

    def set_not_visited(self, url: str | None) -> None:
        self.not_visited.setCurrentIndex(_page_index(self.not_visited, url) if url else 0)

    def reset(self) -> None:
        """Clear every condition (including ones set by other panels and the Signals panel's
        ticks, which live in the Frustration list) and apply at once."""
        self._show(WorkspaceFilter())
        self._changed()
        self.flush()

    def cancel_pending(self) -> None:
        """Drop a change still waiting for the debounce delay (the window is closing)."""
        self._timer.stop()

    def flush(self) -> None:
        """Emit a pending change now instead of after the debounce delay."""
        if self._timer.isActive():
            self._timer.stop()
            self._emit_now()

    # -- internals -------------------------------------------------------------------------
    def _on_frustration_changed(self) -> None:
        if not self.frustration.checked():
            self._frustration_mode = "any"
        self._changed()

    def _compute_report(self, capture) -> None:
        if self._report_task is not None:
            self._report_task.cancel()
        ws = self.workspace
        self._report_task = tasks.run(
            ws.compute_form_report,   # worker thread: no widgets
            lambda report: capture is ws.capture and ws.set_form_report(report),
            lambda exc: capture is self._capture and self._set_report(None, f"No form: {exc}"),
        )

    def _on_report_loaded(self, report) -> None:
        self._set_report(report, "" if report is not None else "The capture has no form")

    def _set_report(self, report, problem: str = "") -> None:
        """Fill "Abandoned at" from ``report``; None with ``problem`` says why it is empty,
        None without it means still computing."""
        combo = self.abandoned_at
        wanted = self.workspace.filter.abandoned_at
        combo.blockSignals(True)
        try:
            combo.clear()
            if report is None:
                combo.addItem("No form" if problem else (COMPUTING if self._capture is not None else "Any field"),
                              None)
                combo.setToolTip(problem)
                combo.setEnabled(False)
                return
            combo.addItem("Any field", None)
            for f in report.fields:
                combo.addItem(f"{f.title}  ({f.dropoff:,})", f.name)
                combo.setItemData(combo.count() - 1,
                                  f"{plural(f.dropoff, 'session')} abandoned the '{report.form}' form at {f.title}",
                                  Qt.ItemDataRole.ToolTipRole)
            combo.setToolTip(f"Sessions that abandoned the '{report.form}' form at this field")
            combo.setEnabled(True)
            if wanted:
                combo.setCurrentIndex(max(0, combo.findData(wanted)))
        finally:
            combo.blockSignals(False)

    def _show(self, flt: WorkspaceFilter) -> None:
        """Show a whole filter quietly: its conditions without a control are kept aside."""
        s = flt.sessions
        self._hidden = SessionFilter(   # whole UTC days show in the day boxes (_apply)
            start_from_ms=None if _whole_day(s.start_from_ms) else s.start_from_ms,
            start_before_ms=None if _whole_day(s.start_before_ms) else s.start_before_ms,
            session_ids=s.session_ids, extra=s.extra, visited=s.visited[1:], not_visited=s.not_visited[1:])
        self._apply(s)
        self.frustration.blockSignals(True)
        self.abandoned_at.blockSignals(True)
        try:
            self.frustration.set_checked(flt.frustration)
            self._frustration_mode = flt.frustration_mode
            self.abandoned_at.setCurrentIndex(
                max(0, self.abandoned_at.findData(flt.abandoned_at)) if flt.abandoned_at else 0)
        finally:
            self.frustration.blockSignals(False)
            self.abandoned_at.blockSignals(False)
        self.frustration.update()
        self._update_reset()

    def _on_workspace_filter_changed(self, _flt: SessionFilter) -> None:
        # A filter set elsewhere (Signals ticks, a panel, the window): show it here.
        wf = self.workspace.filter
        if wf != self._last_emitted:
            self._timer.stop()
            self._last_emitted = wf
            self._show(wf)

    def _apply(self, flt: SessionFilter) -> None:
        widgets = [*self.combos.values(), self.min_duration, self.max_duration, self.visited,
                   self.not_visited, *self.converted_buttons.values(), self.frustration, self.abandoned_at,
                   self.date_from, self.date_to]
        for w in widgets:
            w.blockSignals(True)
        self.converted_group.blockSignals(True)
        try:
            for field, combo in self.combos.items():
                combo.set_checked(flt.categories()[field])
            self.set_converted(flt.converted)
            self.min_duration.setValue(int(flt.min_duration_s or 0))
            self.max_duration.setValue(int(flt.max_duration_s or 0))
            self.set_dates(
                _utc_day(flt.start_from_ms) if _whole_day(flt.start_from_ms) else None,
                _utc_day(flt.start_before_ms - DAY_MS) if _whole_day(flt.start_before_ms) else None)
            self.visited.setCurrentIndex(_page_index(self.visited, flt.visited[0]) if flt.visited else 0)
            self.not_visited.setCurrentIndex(
                _page_index(self.not_visited, flt.not_visited[0]) if flt.not_visited else 0)
            # A filter handed in whole (reset, another panel's) already holds any ids these two
            # chose: they start over rather than narrow it twice.
            self.frustration.set_checked(())
            self._frustration_mode = "any"
            self.abandoned_at.setCurrentIndex(0)
        finally:
            for w in widgets:
                w.blockSignals(False)
            self.converted_group.blockSignals(False)
        for combo in self.combos.values():
            combo.update()

    def _changed(self, *_args) -> None:
        self._update_reset()
        self._timer.start()

    def _update_reset(self) -> None:
        self.reset_button.setEnabled(not self.workspace_filter().is_empty())

    def _emit_now(self) -> None:
        wf = self.workspace_filter()
        if wf == self._last_emitted:
            return
        self._last_emitted = wf
        self.workspace.set_filter(wf)
        self.filter_changed.emit(self.workspace.session_filter())

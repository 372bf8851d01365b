"""The filter panel: narrows the session list by segment, duration, conversion and pages.

Controls are filled from the open capture (``distinct_values``, ``pages``); every change
restarts a short timer and ``filter_changed(SessionFilter)`` is emitted once typing or
clicking settles (~150 ms), so a burst of clicks costs one query.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
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

from hindsight.store import SessionFilter

DEBOUNCE_MS = 150
_VALUE_ROLE = Qt.ItemDataRole.UserRole + 1

#: Categorical filters: SessionFilter field / capture column, and its label.
CATEGORIES = (
    ("device", "Device"),
    ("browser", "Browser"),
    ("os", "OS"),
    ("country", "Country"),
    ("source", "Source"),
)


class CheckableComboBox(QComboBox):
    """A combo whose items are check boxes; the closed combo summarises the checked ones."""

    checked_changed = Signal()

    def __init__(self, any_text: str = "Any", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._any_text = any_text
        self._quiet = False   # filling or setting programmatically: one signal at the end
        self.setModel(QStandardItemModel(self))
        # The default menu-like delegate ignores the style sheet's ::indicator and ::item rules.
        self.setItemDelegate(QStyledItemDelegate(self))
        self.view().viewport().installEventFilter(self)
        self.model().itemChanged.connect(self._on_item_changed)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(6)

    def set_values(self, values: list[str]) -> None:
        # (Blocking the model's signals instead would leave the popup view with stale rows.)
        model: QStandardItemModel = self.model()
        self._quiet = True
        try:
            model.clear()
            for value in values:
                if value is None:
                    continue  # NULL never matches an IN (...) condition: nothing to offer
                item = QStandardItem(str(value) if value != "" else "(none)")
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

    def summary(self) -> str:
        checked = self.checked()
        if not checked:
            return self._any_text
        if len(checked) <= 2:
            return ", ".join(c or "(none)" for c in checked)
        return f"{len(checked)} selected"

    # Keep the popup open while toggling items (a plain QComboBox closes on every click).
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.view().viewport() and event.type() == QEvent.Type.MouseButtonRelease:
            index = self.view().indexAt(event.position().toPoint())
            item = self.model().itemFromIndex(index)
            if item is not None and item.isEnabled():
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
        self.setToolTip(", ".join(c or "(none)" for c in self.checked()) or self._any_text)
        self.checked_changed.emit()


class QtFilterPanel(QWidget):
    """Segment, duration, conversion and page filters over the open capture."""

    filter_changed = Signal(object)   # SessionFilter, debounced

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FilterPanel")
        self._capture = None
        self._hidden = SessionFilter()   # set_filter() conditions this panel has no control for
        self._last_emitted: SessionFilter | None = None
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

        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.setEnabled(False)

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
        """Fill the controls from ``capture`` (None empties and disables them); no signal."""
        self._capture = capture
        self._timer.stop()
        self.blockSignals(True)
        try:
            for field, combo in self.combos.items():
                combo.set_values(capture.distinct_values(field) if capture is not None else [])
            for combo in (self.visited, self.not_visited):
                combo.blockSignals(True)
                while combo.count() > 1:
                    combo.removeItem(1)
                for page in (capture.pages() if capture is not None else []):
                    path = urlsplit(page.url).path or "/"
                    combo.addItem(path, page.url)
                    combo.setItemData(combo.count() - 1, f"{page.title}\n{page.url}", Qt.ItemDataRole.ToolTipRole)
                combo.blockSignals(False)
            self._apply(SessionFilter())
        finally:
            self.blockSignals(False)
        self._last_emitted = self.current_filter()
        self.setEnabled(capture is not None)
        self._update_reset()

    def current_filter(self) -> SessionFilter:
        conv = self.converted_group.checkedId()
        visited = self.visited.currentData()
        not_visited = self.not_visited.currentData()
        return self._hidden.replace(
            **{field: combo.checked() for field, combo in self.combos.items()},
            converted={1: True, 2: False}.get(conv),
            min_duration_s=float(self.min_duration.value()) or None,
            max_duration_s=float(self.max_duration.value()) or None,
            visited=(visited,) if visited else (),
            not_visited=(not_visited,) if not_visited else (),
        )

    def set_filter(self, flt: SessionFilter, emit: bool = True) -> None:
        """Show ``flt``; conditions without a control here (dates, session ids, extra) are kept."""
        self._hidden = SessionFilter(
            start_from_ms=flt.start_from_ms, start_before_ms=flt.start_before_ms,
            session_ids=flt.session_ids, extra=flt.extra,
            visited=flt.visited[1:], not_visited=flt.not_visited[1:],
        )
        self._apply(flt)
        if emit:
            self._changed()

    def select(self, field: str, values) -> None:
        """Check exactly ``values`` in the ``field`` list (device, browser, os, country, source)."""
        self.combos[field].set_checked(values)

    def set_converted(self, value: bool | None) -> None:
        self.converted_buttons[{None: "any", True: "yes", False: "no"}[value]].setChecked(True)

    def set_visited(self, url: str | None) -> None:
        self.visited.setCurrentIndex(max(0, self.visited.findData(url)) if url else 0)

    def set_not_visited(self, url: str | None) -> None:
        self.not_visited.setCurrentIndex(max(0, self.not_visited.findData(url)) if url else 0)

    def reset(self) -> None:
        """Clear every condition (including ones set by other panels) and emit at once."""
        self._hidden = SessionFilter()
        self._apply(SessionFilter())
        self._changed()
        self.flush()

    def flush(self) -> None:
        """Emit a pending change now instead of after the debounce delay."""
        if self._timer.isActive():
            self._timer.stop()
            self._emit_now()

    # -- internals -------------------------------------------------------------------------
    def _apply(self, flt: SessionFilter) -> None:
        widgets = [*self.combos.values(), self.min_duration, self.max_duration, self.visited,
                   self.not_visited, *self.converted_buttons.values()]
        for w in widgets:
            w.blockSignals(True)
        self.converted_group.blockSignals(True)
        try:
            for field, combo in self.combos.items():
                combo.set_checked(getattr(flt, field))
            self.set_converted(flt.converted)
            self.min_duration.setValue(int(flt.min_duration_s or 0))
            self.max_duration.setValue(int(flt.max_duration_s or 0))
            self.visited.setCurrentIndex(max(0, self.visited.findData(flt.visited[0])) if flt.visited else 0)
            self.not_visited.setCurrentIndex(
                max(0, self.not_visited.findData(flt.not_visited[0])) if flt.not_visited else 0)
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
        self.reset_button.setEnabled(not self.current_filter().is_empty())

    def _emit_now(self) -> None:
        flt = self.current_filter()
        if flt == self._last_emitted:
            return
        self._last_emitted = flt
        self.filter_changed.emit(flt)

"""QtBookmarksPanel: patterns (bookmark tags used across sessions) ranked by ICE, their
bookmarks, the hypothesis editor, "Find similar" and export; plus the B-key bookmark dialog
and ``install_bookmark_support(main_window)`` that wires it all into the main window.

All data logic is in :mod:`hindsight.bookmarks`; this module only shows it and forwards edits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hindsight.text import plural
from hindsight.bookmarks import BookmarkError, BookmarkStore
from hindsight.bookmarks.export import export, format_time
from hindsight.bookmarks.patterns import HYPOTHESIS_TEMPLATE, WORTH_A_HYPOTHESIS, ice_score
from hindsight.workspace import Workspace

ACCENT = "#7C5CFF"
FLAG = "#E8590C"        # the "worth a hypothesis" flag: warm, apart from the violet accent
BOOKMARK_MARKER = "#F5A524"  # bookmarks on the player's timeline
MUTED = "#6B7280"
FLAG_CHAR = "⚑"

PANEL_STYLE = """
#BookmarksPanel { background: #FFFFFF; }
QLabel#bmTitle { font-size: 13px; font-weight: 700; color: #1F2430; }
QLabel#bmCount { color: #6B7280; }
QLabel#bmSection { color: #8A91A0; font-size: 8pt; font-weight: 700; letter-spacing: 1px; }
QLabel#bmPatternTag { font-size: 13px; font-weight: 700; color: #1F2430; }
QLabel#bmHint, QLabel#bmMuted { color: #6B7280; }
QLabel#bmWhere { color: #8A5A00; background: #FFF6E5; border: 1px solid #F5D9A8; border-radius: 5px;
                 padding: 4px 8px; }
QLabel#bmFlag { color: #FFFFFF; background: #E8590C; border-radius: 8px; padding: 1px 8px; font-weight: 600; }
QLabel#bmIce { color: #2B1B8F; background: #EFECFF; border-radius: 8px; padding: 1px 8px; font-weight: 700; }
QFrame#bmFound { background: #F5F3FF; border: 1px solid #DCD3FF; border-radius: 6px; }
QFrame#bmFound QLabel { color: #2B1B8F; }
QTableWidget { border: 1px solid #E3E6EC; border-radius: 5px; gridline-color: #EEF0F4;
               alternate-background-color: #F8F9FB; selection-background-color: #EFECFF;
               selection-color: #1F2430; }
QHeaderView::section { background: #F5F6F8; color: #4B5563; border: none; border-bottom: 1px solid #E3E6EC;
                       padding: 4px 6px; font-weight: 600; }
QPlainTextEdit { border: 1px solid #D7DAE1; border-radius: 5px; background: #FFFFFF; padding: 4px;
                 color: #1F2430; }
QPlainTextEdit:focus { border-color: #7C5CFF; }
QSplitter::handle { background: transparent; }
"""


def _item(text: Any, align_right: bool = False, tip: str = "") -> QTableWidgetItem:
    it = QTableWidgetItem(str(text))
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        it.setToolTip(tip)
    return it


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(26)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.setShowGrid(False)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.horizontalHeader().setHighlightSections(False)
    return t


_FLAG_ICON: QIcon | None = None


def flag_icon() -> QIcon:
    """The "worth a hypothesis" flag as an icon: keeps its colour on a selected row."""
    global _FLAG_ICON
    if _FLAG_ICON is None:
        pm = QPixmap(32, 32)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(FLAG))
        p.drawRoundedRect(QRectF(8, 4, 3.5, 25), 1.5, 1.5)            # pole
        flag = QPainterPath()
        flag.moveTo(11, 5)
        flag.lineTo(26, 5)
        flag.lineTo(22, 11)
        flag.lineTo(26, 17)
        flag.lineTo(11, 17)
        flag.closeSubpath()
        p.drawPath(flag)
        p.end()
        _FLAG_ICON = QIcon(pm)
    return _FLAG_ICON


def _section(text: str) -> QLabel:
    return QLabel(text.upper(), objectName="bmSection")


def _rating_box(name: str, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, 10)
    box.setSpecialValueText("–")  # 0 = not rated
    box.setToolTip(f"{name}, 1-10 ({tip}); – = not rated")
    box.setAccelerated(True)
    box.setMinimumWidth(58)
    return box


# -- the bookmark dialog ------------------------------------------------------------------------
class BookmarkDialog(QDialog):
    """Tag (editable, offering the capture's tags, most recent first) and note for a moment."""

    def __init__(self, tags: list[str], session_id: int, t_ms: float, parent: QWidget | None = None,
                 tag: str | None = None, note: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Bookmark this moment")
        self.setObjectName("BookmarkDialog")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        head = QLabel(f"<b>Session {session_id}</b> at <b>{format_time(t_ms)}</b>")
        head.setObjectName("PanelTitle")
        layout.addWidget(head)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        self.tag_combo = QComboBox()
        self.tag_combo.setEditable(True)
        self.tag_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.tag_combo.addItems(tags)
        self.tag_combo.lineEdit().setPlaceholderText("e.g. rage on product image")
        self.tag_combo.setCurrentText(tag if tag is not None else (tags[0] if tags else ""))
        self.tag_combo.lineEdit().selectAll()
        self.tag_combo.setToolTip("Use the same tag for the same behaviour in other sessions: "
                                  f"seen in {WORTH_A_HYPOTHESIS}+ sessions, it is worth a hypothesis")
        form.addRow("Tag", self.tag_combo)
        self.note_edit = QPlainTextEdit(note)
        self.note_edit.setPlaceholderText("What happened here? (optional)")
        self.note_edit.setFixedHeight(72)
        self.note_edit.setTabChangesFocus(True)
        form.addRow("Note", self.note_edit)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName("PrimaryButton")
        layout.addWidget(self.buttons)
        self.tag_combo.editTextChanged.connect(self._update_ok)
        self._update_ok()
        self.tag_combo.setFocus()

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(bool(self.tag().strip()))

    def tag(self) -> str:
        return self.tag_combo.currentText()

    def note(self) -> str:
        return self.note_edit.toPlainText().strip()


# -- the panel ----------------------------------------------------------------------------------
class QtBookmarksPanel(QWidget):
    """Patterns ranked by ICE, then sessions; the selected pattern's bookmarks and hypothesis."""

    replay_requested = Signal(int, int)   # session_id, t_ms since session start
    bookmarks_changed = Signal()          # after any add, edit, delete or import
    clip_requested = Signal(object)       # "Export clip…" on a bookmark (hindsight_qt.views.qt_share)

    def __init__(self, parent: QWidget | None = None, workspace: Workspace | None = None) -> None:
        super().__init__(parent)
        #: The window's workspace: Find similar keeps its per-capture data in its cache.
        self.workspace = workspace if workspace is not None else Workspace()
        self.setObjectName("BookmarksPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(PANEL_STYLE)
        self.capture = None
        self.store: BookmarkStore | None = None
        self._patterns = []
        self._bookmarks = []
        self._similar = None        # the last SimilarResult shown
        self._task = None
        self._loading = False
        self._save_timer = QTimer(self, singleShot=True, interval=500)
        self._save_timer.timeout.connect(self._save_hypothesis)
        self._build()
        self._show_state()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(420, 640)

    def hideEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self.flush()  # closing the window or the dock keeps a hypothesis typed a moment ago
        super().hideEvent(ev)

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(8)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.title = QLabel("Patterns", objectName="bmTitle")
        bar.addWidget(self.title)
        self.count_label = QLabel("", objectName="bmCount")
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        self.export_button = QToolButton()
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save the patterns, hypotheses and bookmarks as a report or a CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setStyleSheet(
            "QToolButton { border: 1px solid #D7DAE1; border-radius: 6px; padding: 4px 12px; background: #FFFFFF; }"
            "QToolButton:hover { background: #F7F6FF; border-color: #B9B0F5; }"
            "QToolButton::menu-indicator { image: none; width: 0px; }")
        menu = QMenu(self.export_button)
        menu.addAction("Markdown report (.md)…", lambda: self.show_export_dialog("md"))
        menu.addAction("Spreadsheet (.csv)…", lambda: self.show_export_dialog("csv"))
        self.export_button.setMenu(menu)
        bar.addWidget(self.export_button)
        root.addLayout(bar)

        self.where_label = QLabel("", objectName="bmWhere")
        self.where_label.setWordWrap(True)
        self.where_label.hide()
        root.addWidget(self.where_label)

        self.stack = QStackedWidget()
        root.addWidget(self.stack, 1)
        self.empty_label = QLabel("", objectName="bmHint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setContentsMargins(24, 0, 24, 40)
        self.stack.addWidget(self.empty_label)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.setHandleWidth(10)
        self.stack.addWidget(split)

        # patterns
        self.pattern_table = _table(["", "Pattern", "Sessions", "ICE"])
        hh = self.pattern_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.pattern_table.setColumnWidth(0, 26)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.pattern_table.horizontalHeaderItem(0).setToolTip(
            f"{FLAG_CHAR}: seen in {WORTH_A_HYPOTHESIS} or more sessions, worth a hypothesis")
        self.pattern_table.horizontalHeaderItem(3).setToolTip("ICE: mean of impact, confidence and ease (1-10)")
        self.pattern_table.setMinimumHeight(110)
        self.pattern_table.setIconSize(QSize(14, 14))
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.pattern_table.itemSelectionChanged.connect(self._on_pattern_selected)
        split.addWidget(self.pattern_table)

        # the selected pattern
        detail = QWidget()
        col = QVBoxLayout(detail)
        col.setContentsMargins(0, 4, 0, 0)
        col.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(6)
        self.tag_label = QLabel("", objectName="bmPatternTag")
        self.tag_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.tag_label, 1)
        self.flag_label = QLabel(f"{FLAG_CHAR} Worth a hypothesis", objectName="bmFlag")
        self.flag_label.setToolTip(f"Seen in {WORTH_A_HYPOTHESIS} or more sessions")
        head.addWidget(self.flag_label)
        self.ice_badge = QLabel("", objectName="bmIce")
        self.ice_badge.setToolTip("ICE score: mean of impact, confidence and ease")
        head.addWidget(self.ice_badge)
        col.addLayout(head)
        self.pattern_sub = QLabel("", objectName="bmMuted")
        col.addWidget(self.pattern_sub)

        self.bookmark_table = _table(["Session", "Time", "Note"])
        bh = self.bookmark_table.horizontalHeader()
        bh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        bh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        bh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        bh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.bookmark_table.setToolTip("Double-click to replay the session from this moment")
        self.bookmark_table.setMinimumHeight(90)
        self.bookmark_table.cellDoubleClicked.connect(self._on_bookmark_activated)
        self.bookmark_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.bookmark_table.customContextMenuRequested.connect(self._bookmark_menu)
        col.addWidget(self.bookmark_table, 1)

        similar_row = QHBoxLayout()
        self.similar_button = QPushButton("Find similar")
        self.similar_button.setToolTip("Search every session for the behaviour at the selected bookmark "
                                       "(same signal on the same element, hesitation or abandonment at the "
                                       "same field, or the same pages)")
        self.similar_button.clicked.connect(self.find_similar)
        similar_row.addWidget(self.similar_button)
        similar_row.addStretch(1)
        col.addLayout(similar_row)
        # The matches of the last search, to review before adding them: each ticked row
        # becomes a bookmark; double-click replays it (issue 13, defect 7).
        self.found_frame = QFrame(objectName="bmFound")
        fv = QVBoxLayout(self.found_frame)
        fv.setContentsMargins(10, 6, 6, 6)
        fv.setSpacing(6)
        fl = QHBoxLayout()
        self.found_label = QLabel("")
        self.found_label.setWordWrap(True)
        fl.addWidget(self.found_label, 1)
        self.add_all_button = QPushButton("Add all to pattern")
        self.add_all_button.setObjectName("PrimaryButton")
        self.add_all_button.clicked.connect(self.add_similar_to_pattern)
        fl.addWidget(self.add_all_button)
        fv.addLayout(fl)
        self.similar_table = _table(["Session", "Moment", "Score", "Why it matched"])
        sh = self.similar_table.horizontalHeader()
        for c in (0, 1, 2):
            sh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        sh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        sh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.similar_table.setToolTip("Untick the sessions to leave out; double-click to replay one")
        self.similar_table.setMinimumHeight(120)
        self.similar_table.cellDoubleClicked.connect(self._on_match_activated)
        self.similar_table.itemChanged.connect(lambda _item: self._update_add_button())
        fv.addWidget(self.similar_table, 1)
        self.found_frame.hide()
        col.addWidget(self.found_frame, 1)

        col.addSpacing(4)
        col.addWidget(_section("Hypothesis"))
        self.hypothesis_edit = QPlainTextEdit()
        self.hypothesis_edit.setPlaceholderText(HYPOTHESIS_TEMPLATE)
        self.hypothesis_edit.setFixedHeight(74)
        self.hypothesis_edit.setTabChangesFocus(True)
        self.hypothesis_edit.textChanged.connect(self._on_hypothesis_edited)
        col.addWidget(self.hypothesis_edit)
        ice_row = QHBoxLayout()
        ice_row.setSpacing(6)
        self.impact_box = _rating_box("Impact", "how much it would move the metric")
        self.confidence_box = _rating_box("Confidence", "how sure you are it will work")
        self.ease_box = _rating_box("Ease", "how cheap it is to try")
        for label, box in (("Impact", self.impact_box), ("Confidence", self.confidence_box), ("Ease", self.ease_box)):
            lab = QLabel(label, objectName="bmMuted")
            ice_row.addWidget(lab)
            ice_row.addWidget(box)
            box.valueChanged.connect(self._save_ratings)
            ice_row.addSpacing(4)
        ice_row.addStretch(1)
        self.ice_label = QLabel("", objectName="bmMuted")
        ice_row.addWidget(self.ice_label)
        col.addLayout(ice_row)
        self.saved_label = QLabel("", objectName="bmMuted")
        col.addWidget(self.saved_label)
        split.addWidget(detail)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        self.detail = detail
        self.splitter = split

    # -- data ------------------------------------------------------------------------------
    def set_capture(self, capture) -> None:
        """Show the bookmarks of ``capture`` (an open ``Capture``), or nothing for None."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.flush()
        self.capture = capture
        self.store = None
        self._similar = None
        self._shown_tag = None
        from hindsight.engine.on_dataset import UNAVAILABLE, bookmarks_supported, is_dataset_capture

        if is_dataset_capture(capture) and not bookmarks_supported():   # kept in a capture file
            self.empty_label.setText(UNAVAILABLE["bookmarks"])
        elif capture is not None:
            try:
                self.store = BookmarkStore.for_capture(capture)
            except Exception as exc:  # noqa: BLE001 - a panel never takes the window down
                self.empty_label.setText(f"Bookmarks are unavailable: {exc}")
        self.refresh()

    def refresh(self, select_tag: str | None = None) -> None:
        """Reload patterns and bookmarks from the store, keeping (or moving) the selection."""
        self.flush()
        current = select_tag or self.selected_tag()
        self._patterns = self.store.patterns() if self.store is not None else []
        self._fill_patterns()
        tags = [p.tag for p in self._patterns]
        row = tags.index(current) if current in tags else (0 if tags else -1)
        if row >= 0:
            self.pattern_table.selectRow(row)
        self._on_pattern_selected()
        self._show_state()

    def _show_state(self) -> None:
        has = bool(self._patterns)
        if self.store is None and self.capture is None:
            self.empty_label.setText("Open a capture to see its bookmarks.")
        elif self.store is not None and not has:
            self.empty_label.setText("No bookmarks yet.\n\nWhile replaying a session, press B to bookmark "
                                     "the moment and tag it. Use the same tag in other sessions and it "
                                     "becomes a pattern.")
        self.stack.setCurrentIndex(1 if has else 0)
        self.export_button.setEnabled(has)
        n_b = sum(p.bookmarks for p in self._patterns)
        k = len(self._patterns)
        self.count_label.setText(f"{k} pattern{'s' * (k != 1)} · {n_b} bookmark{'s' * (n_b != 1)}"
                                 if has else "")
        if has:
            # Room for every pattern (up to 7 rows) before the selected pattern's details.
            t = self.pattern_table
            rows = min(max(k, 3), 7)
            want = t.horizontalHeader().height() + rows * t.verticalHeader().defaultSectionSize() + 4
            total = sum(self.splitter.sizes()) or self.height()
            self.splitter.setSizes([want, max(total - want, 200)])
        store = self.store
        if store is not None and store.location != "capture":
            where = ("a file next to it" if store.location == "sidecar" else "your data folder")
            self.where_label.setText(f"This capture is read-only: bookmarks are saved in {where}.")
            self.where_label.setToolTip(str(store.path))
            self.where_label.show()
        else:
            self.where_label.hide()

    def _fill_patterns(self) -> None:
        t = self.pattern_table
        with QSignalBlocker(t):
            t.setRowCount(len(self._patterns))
            for r, p in enumerate(self._patterns):
                flag = _item("", tip=f"Seen in {plural(p.sessions, 'session')}: worth a hypothesis"
                             if p.worth_a_hypothesis else "")
                if p.worth_a_hypothesis:
                    flag.setIcon(flag_icon())
                    flag.setData(Qt.ItemDataRole.AccessibleTextRole, FLAG_CHAR)
                flag.setData(Qt.ItemDataRole.UserRole, p.worth_a_hypothesis)
                t.setItem(r, 0, flag)
                tag = _item(p.tag, tip=p.hypothesis or "No hypothesis yet")
                t.setItem(r, 1, tag)
                t.setItem(r, 2, _item(p.sessions, True, f"{p.bookmarks} bookmark{'s' * (p.bookmarks != 1)} "
                                                        f"in {p.sessions} session{'s' * (p.sessions != 1)}"))
                ice = _item("–" if p.ice is None else f"{p.ice:.1f}", True,
                            "Not rated" if p.ice is None else
                            f"Impact {p.impact} · Confidence {p.confidence} · Ease {p.ease}")
                if p.ice is not None:
                    ice.setForeground(QColor("#2B1B8F"))
                    f = ice.font()
                    f.setBold(True)
                    ice.setFont(f)
                else:
                    ice.setForeground(QColor("#A4AAB6"))
                t.setItem(r, 3, ice)
            t.clearSelection()

    def selected_tag(self) -> str | None:
        rows = self.pattern_table.selectionModel().selectedRows() if self.pattern_table.selectionModel() else []
        if not rows:
            return None
        r = rows[0].row()
        return self._patterns[r].tag if 0 <= r < len(self._patterns) else None

    def selected_pattern(self):
        tag = self.selected_tag()
        return next((p for p in self._patterns if p.tag == tag), None)

    def _on_pattern_selected(self) -> None:
        self.flush()  # a pending edit belongs to the pattern shown until now
        p = self.selected_pattern()
        self._shown_tag = p.tag if p is not None else None
        self._loading = True
        try:
            self._bookmarks = self.store.bookmarks(tag=p.tag) if (p is not None and self.store) else []
            self.detail.setEnabled(p is not None)
            self.tag_label.setText(p.tag if p else "")
            self.flag_label.setVisible(bool(p and p.worth_a_hypothesis))
            if p is not None:
                self.pattern_sub.setText(
                    f"{p.sessions} session{'s' * (p.sessions != 1)} · {p.bookmarks} bookmark{'s' * (p.bookmarks != 1)}"
                    + ("" if p.worth_a_hypothesis else
                       f" · bookmark it in {WORTH_A_HYPOTHESIS - p.sessions} more session"
                       f"{'s' * (WORTH_A_HYPOTHESIS - p.sessions != 1)} to make it worth a hypothesis"))
            else:
                self.pattern_sub.setText("")
            t = self.bookmark_table
            with QSignalBlocker(t):
                t.setRowCount(len(self._bookmarks))
                for r, b in enumerate(self._bookmarks):
                    t.setItem(r, 0, _item(b.session_id, True))
                    when = format_time(b.t_ms) + (f"–{format_time(b.end_ms)}" if b.end_ms is not None else "")
                    t.setItem(r, 1, _item(when, True, f"{b.t_ms} ms since the session started"))
                    t.setItem(r, 2, _item(b.note, tip=b.note))
            with QSignalBlocker(self.hypothesis_edit):
                self.hypothesis_edit.setPlainText(p.hypothesis if p else "")
            for box, value in ((self.impact_box, p.impact if p else None),
                               (self.confidence_box, p.confidence if p else None),
                               (self.ease_box, p.ease if p else None)):
                with QSignalBlocker(box):
                    box.setValue(value or 0)
            self._update_ice(p)
            self.saved_label.setText("")
            self.similar_button.setEnabled(bool(self._bookmarks))
            if self._similar is None or p is None or self._similar_tag != p.tag:
                self.found_frame.hide()
        finally:
            self._loading = False

    def _update_ice(self, p=None) -> None:
        vals = [b.value() or None for b in (self.impact_box, self.confidence_box, self.ease_box)]
        ice = ice_score(*vals)
        self.ice_label.setText("→ ICE " + ("–" if ice is None else f"{ice:.1f}"))
        self.ice_badge.setText("" if ice is None else f"ICE {ice:.1f}")
        self.ice_badge.setVisible(ice is not None)

    # -- editing ---------------------------------------------------------------------------
    def _on_hypothesis_edited(self) -> None:
        if not self._loading:
            self.saved_label.setText("Editing…")
            self._save_timer.start()

    def _save_hypothesis(self) -> None:
        tag = self._shown_tag
        if tag is None or self.store is None:
            return
        try:
            self.store.set_pattern(tag, self.hypothesis_edit.toPlainText().strip())
        except BookmarkError as exc:
            self.saved_label.setText(str(exc))
            return
        self.saved_label.setText("Saved")
        self._update_pattern_row(tag)

    def _save_ratings(self) -> None:
        if self._loading:
            return
        tag = self._shown_tag
        if tag is None or self.store is None:
            return
        vals = {name: (box.value() or None) for name, box in
                (("impact", self.impact_box), ("confidence", self.confidence_box), ("ease", self.ease_box))}
        try:
            self.store.set_pattern(tag, **vals)
        except BookmarkError as exc:
            self.saved_label.setText(str(exc))
            return
        self._update_ice()
        self.saved_label.setText("Saved")
        # Re-rank: the pattern may move; it stays selected.
        self.refresh(select_tag=tag)

    def flush(self) -> None:
        """Save a pending hypothesis edit now (before closing, or in tests)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._save_hypothesis()

    def _update_pattern_row(self, tag: str) -> None:
        self._patterns = self.store.patterns() if self.store else []
        for r, p in enumerate(self._patterns):
            if p.tag == tag and self.pattern_table.item(r, 1) is not None:
                self.pattern_table.item(r, 1).setToolTip(p.hypothesis or "No hypothesis yet")

    # -- bookmarks -------------------------------------------------------------------------
    def add_bookmark(self, session_id: int, t_ms: float, tag: str, note: str = "", **made_from) -> Any:
        """Save a bookmark, show its pattern, and tell listeners (timeline markers)."""
        if self.store is None:
            raise BookmarkError("no capture is open")
        b = self.store.add(session_id, t_ms, tag, note, **made_from)
        self.refresh(select_tag=b.tag)
        self.bookmarks_changed.emit()
        return b

    def bookmark_dialog(self, session_id: int, t_ms: float, parent: QWidget | None = None) -> BookmarkDialog:
        tags = self.store.tags() if self.store is not None else []
        return BookmarkDialog(tags, int(session_id), t_ms, parent or self.window(), tag=self.selected_tag())

    def bookmark_moment(self, session_id: int, t_ms: float, parent: QWidget | None = None):
        """Ask for tag and note in the dialog, then save; the new bookmark, or None if cancelled."""
        if self.store is None:
            return None
        dialog = self.bookmark_dialog(session_id, t_ms, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        try:
            return self.add_bookmark(session_id, t_ms, dialog.tag(), dialog.note())
        except BookmarkError as exc:
            QMessageBox.warning(parent or self.window(), "Cannot bookmark", str(exc))
            return None

    def bookmarks_of_session(self, session_id: int) -> list:
        return self.store.bookmarks(session_id=session_id) if self.store is not None else []

    def _on_bookmark_activated(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._bookmarks):
            b = self._bookmarks[row]
            self.replay_requested.emit(int(b.session_id), int(b.t_ms))

    def _selected_bookmark(self):
        rows = self.bookmark_table.selectionModel().selectedRows()
        if rows and 0 <= rows[0].row() < len(self._bookmarks):
            return self._bookmarks[rows[0].row()]
        return self._bookmarks[0] if self._bookmarks else None

    def _bookmark_menu(self, pos) -> None:
        row = self.bookmark_table.rowAt(pos.y())
        if not 0 <= row < len(self._bookmarks):
            return
        b = self._bookmarks[row]
        menu = QMenu(self)
        menu.addAction("Replay from here", lambda: self.replay_requested.emit(int(b.session_id), int(b.t_ms)))
        menu.addAction("Export clip…", lambda: self.clip_requested.emit(b))
        menu.addAction("Delete bookmark", lambda: self._delete(b.id))
        menu.exec(self.bookmark_table.viewport().mapToGlobal(pos))

    def _delete(self, bookmark_id: int) -> None:
        if self.store is None:
            return
        self.store.delete(bookmark_id)
        self.refresh()
        self.bookmarks_changed.emit()

    # -- find similar ----------------------------------------------------------------------
    def find_similar(self) -> None:
        """Search every session for the behaviour at the selected (or first) bookmark; off the
        GUI thread when ``hindsight_qt.tasks.run`` exists."""
        b = self._selected_bookmark()
        if b is None or self.capture is None:
            return
        from hindsight.bookmarks.similar import find_similar

        capture, tag = self.capture, b.tag
        cache = self.workspace.cache("similar") if capture is self.workspace.capture else None
        self.similar_button.setEnabled(False)
        self.similar_button.setText("Searching…")
        self.found_frame.hide()
        run = _task_runner()
        if self._task is not None:
            self._task.cancel()
        if run is None:
            try:
                self._on_similar(tag, find_similar(capture, b, cache))
            except Exception as exc:  # noqa: BLE001
                self._on_similar_failed(exc)
            return
        self._task = run(lambda: find_similar(capture, b, cache), lambda res: self._on_similar(tag, res),
                         self._on_similar_failed)

    def _on_similar(self, tag: str, result) -> None:
        self._task = None
        self.similar_button.setText("Find similar")
        self.similar_button.setEnabled(bool(self._bookmarks))
        self._similar, self._similar_tag = result, tag
        n = result.count
        self.found_label.setText(f"Found <b>{n}</b> session{'s' * (n != 1)} with the same behaviour<br>"
                                 f"<span style='color:{MUTED}'>{_html(result.behaviour.describe())}</span>")
        self._fill_matches(result, tag)
        self.found_frame.show()

    def _fill_matches(self, result, tag: str, unticked=frozenset()) -> None:
        """One row per match: ticked unless the pattern already has that session (or its id
        is in ``unticked``: the user left it out)."""
        have = {b.session_id for b in self.store.bookmarks(tag=tag)} if self.store else set()
        index = self.workspace.signal_index   # the Score column (None while it is computed)
        scores = {}
        if index is not None and len(index):
            scores = dict(zip(index.session_ids.tolist(), index.score.tolist()))
        table = self.similar_table
        with QSignalBlocker(table):
            table.setSortingEnabled(False)
            table.setRowCount(len(result.matches))
            for r, m in enumerate(result.matches):
                sid = _item(m.session_id, align_right=True)
                sid.setData(Qt.ItemDataRole.UserRole, r)
                if m.session_id in have:
                    sid.setFlags(Qt.ItemFlag.ItemIsSelectable)   # greyed: already in the pattern
                    sid.setCheckState(Qt.CheckState.Unchecked)
                    sid.setToolTip(f"Already bookmarked under '{tag}'")
                else:
                    sid.setFlags(sid.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    sid.setCheckState(Qt.CheckState.Unchecked if m.session_id in unticked
                                      else Qt.CheckState.Checked)
                table.setItem(r, 0, sid)
                table.setItem(r, 1, _item(format_time(m.t_ms), align_right=True))
                score = scores.get(m.session_id)
                table.setItem(r, 2, _item(f"{score:.1f}" if score else "", align_right=True,
                                          tip="Frustration score of the session"))
                table.setItem(r, 3, _item(m.reason, tip=m.reason))
        self._update_add_button()

    def checked_matches(self) -> list:
        """The matches of the last search whose rows are ticked."""
        if self._similar is None:
            return []
        out = []
        for r in range(self.similar_table.rowCount()):
            item = self.similar_table.item(r, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                out.append(self._similar.matches[int(item.data(Qt.ItemDataRole.UserRole))])
        return out

    def _update_add_button(self) -> None:
        tag = self._similar_tag or ""
        table = self.similar_table
        new = sum(1 for r in range(table.rowCount())
                  if table.item(r, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable)
        ticked = len(self.checked_matches())
        if not new:
            self.add_all_button.setText("All in the pattern")
        elif ticked == new:
            self.add_all_button.setText("Add all to pattern")
        elif not ticked:
            self.add_all_button.setText("Add to pattern")
        else:
            self.add_all_button.setText(f"Add {ticked} to pattern")
        self.add_all_button.setEnabled(ticked > 0)
        self.add_all_button.setToolTip(f"Bookmark the {plural(ticked, 'ticked session')} under '{tag}'")

    def _on_match_activated(self, row: int, _col: int) -> None:
        item = self.similar_table.item(row, 0)
        if item is None or self._similar is None:
            return
        m = self._similar.matches[int(item.data(Qt.ItemDataRole.UserRole))]
        self.replay_requested.emit(int(m.session_id), int(m.t_ms))

    def _on_similar_failed(self, exc: BaseException) -> None:
        self._task = None
        self.similar_button.setText("Find similar")
        self.similar_button.setEnabled(bool(self._bookmarks))
        self.found_label.setText(f"Search failed: {exc}")
        self.add_all_button.setEnabled(False)
        self.found_frame.show()

    def add_similar_to_pattern(self) -> list:
        """Bookmark the ticked sessions of the last search under its pattern (one transaction)."""
        if self._similar is None or self.store is None:
            return []
        res, tag = self._similar, self._similar_tag
        chosen = self.checked_matches()
        left_out = {m.session_id for m in res.matches} - {m.session_id for m in chosen}
        added = self.store.add_matches(tag, chosen, res.behaviour)
        self.refresh(select_tag=tag)
        self._similar, self._similar_tag = res, tag
        self._fill_matches(res, tag, left_out)   # the added ones now read as already in the pattern
        self.found_label.setText(f"Added <b>{len(added)}</b> bookmark{'s' * (len(added) != 1)} to "
                                 f"<b>{_html(tag)}</b>")
        self.found_frame.show()
        self.bookmarks_changed.emit()
        return added

    _similar_tag: str | None = None
    _shown_tag: str | None = None

    # -- export ----------------------------------------------------------------------------
    def show_export_dialog(self, fmt: str = "md") -> Path | None:
        if self.store is None:
            return None
        base = Path(self.capture.path if self.capture is not None else "capture").with_suffix("")
        suggested = f"{base}-patterns.{fmt}"
        filters = "Markdown report (*.md)" if fmt == "md" else "CSV (*.csv)"
        path, _ = QFileDialog.getSaveFileName(self, "Export patterns", suggested, filters)
        if not path:
            return None
        return self.export_to(path, fmt)

    def export_to(self, path, fmt: str | None = None) -> Path | None:
        try:
            return export(self.store, path, fmt)
        except (OSError, BookmarkError) as exc:
            QMessageBox.critical(self, "Cannot export", str(exc))
            return None


def _html(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _task_runner():
    from hindsight_qt import tasks

    return tasks.run


# -- wiring into the main window ---------------------------------------------------------------
def _current_moment(main_window) -> tuple[int, float] | None:
    """(session id, t_ms) the player shows, or None if no session is loaded."""
    sid = main_window.current_session_id
    if sid is None:
        return None
    return int(sid), float(main_window.player_view.player.t_ms)


def install_bookmark_support(main_window) -> QtBookmarksPanel:
    """Add bookmarks to a ``MainWindow``: the Bookmarks panel (``add_panel``), the B key and a
    "Bookmark this moment" action, bookmark markers on the player's timeline, and reloading
    when a capture opens or closes. Returns the panel (also ``main_window.bookmarks_panel``)."""
    panel = QtBookmarksPanel(workspace=main_window.workspace)
    main_window.bookmarks_panel = panel
    main_window.add_panel("Bookmarks", panel)

    def replay(session_id: int, t_ms: int) -> None:
        main_window.replay_session(int(session_id), at_ms=float(t_ms), autoplay=False)

    panel.replay_requested.connect(replay)

    def show_markers(*_: Any) -> None:
        widget = main_window.player_view.timeline_widget
        if widget is None:   # the placeholder player has no timeline
            return
        moment = _current_moment(main_window)
        marks = []
        if moment is not None and panel.store is not None:
            marks = [(b.t_ms, BOOKMARK_MARKER, f"Bookmark: {b.tag}" + (f" — {b.note}" if b.note else ""))
                     for b in panel.bookmarks_of_session(moment[0])]
        widget.set_extra_markers(marks)

    def bookmark_now() -> None:
        if main_window.capture is None or panel.store is None:
            return
        moment = _current_moment(main_window)
        if moment is None:
            main_window.statusBar().showMessage("Replay a session first, then press B to bookmark a moment", 3000)
            return
        core = main_window.player_view.player
        if core.playing:
            core.pause()  # the moment should stay on screen while you write about it
        b = panel.bookmark_moment(*moment, parent=main_window)
        if b is not None:
            main_window.statusBar().showMessage(
                f"Bookmarked session {b.session_id} at {format_time(b.t_ms)} as '{b.tag}'", 3000)

    action = QAction("Bookmark this moment…", main_window)
    action.setShortcut(QKeySequence(Qt.Key.Key_B))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip("Bookmark the player's current moment and tag it (B)")
    action.triggered.connect(bookmark_now)
    main_window.addAction(action)
    main_window.view_menu.addSeparator()
    main_window.view_menu.addAction(action)
    main_window.bookmark_action = action
    main_window.bookmark_now = bookmark_now

    def on_open(capture) -> None:
        panel.set_capture(capture)
        show_markers()

    def on_close() -> None:
        panel.set_capture(None)
        show_markers()

    main_window.capture_did_open.connect(on_open)
    main_window.capture_did_close.connect(on_close)
    main_window.session_did_load.connect(show_markers)
    panel.bookmarks_changed.connect(show_markers)
    if main_window.capture is not None:
        on_open(main_window.capture)
    return panel

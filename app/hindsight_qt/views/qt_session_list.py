"""The session list: a fast table model over ``Capture.session_table()`` columns, and its widget.

The model keeps the numpy columns as they come from the store plus one permutation array
(the current sort); ``data()`` indexes the arrays directly, so 100k rows cost no per-row
Python objects and only visible cells are ever formatted.

Signal counts and the frustration score come from ``session_index(capture)``, computed on a
worker thread after a capture opens: the table shows at once with those columns blank and
fills them in when the index arrives (arrays aligned to the table's session ids).

Right-click a row for *Delete session(s)…*: after a confirmation, the selected sessions are
erased from the capture (``hindsight.erase``: rows, bookmarks, bytes) on a worker
thread, the list re-queries and ``sessions_did_delete`` tells the window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIntValidator, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hindsight.analytics.signals import SIGNAL_LABELS, signal_rule
from hindsight.store import SessionFilter
from hindsight.store.records import date_known
from hindsight.store.session_order import session_order, sort_key
from hindsight.text import format_duration, page_text, plural, sessions_of
from hindsight_qt import tasks
from hindsight_qt.errors import user_message

SESSION_ID_ROLE = int(Qt.ItemDataRole.UserRole.value) + 1

# Roles as plain ints: comparing Python enums on every cell of every repaint adds up.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
_CONVERTED_COLOR = QColor("#1E8E5A")
_MUTED_COLOR = QColor("#8A91A0")
_SCORE_COLOR = QColor("#C2410C")
_NUMERIC = ("id", "duration", "int", "signal", "score")
#: Kinds whose first header click sorts highest first (most events, worst score, longest).
_DESCENDING_FIRST = ("duration", "int", "signal", "score", "check")
_INITIAL_SORT = int(Qt.ItemDataRole.InitialSortOrderRole.value)


@dataclass(frozen=True)
class Column:
    title: str
    key: str    # name in the session_table() dict
    kind: str   # id | start | duration | text | int | check | page | signal | score
    tip: str = ""   # header tooltip


COLUMNS: tuple[Column, ...] = (
    Column("Start", "start_ms", "start"),
    Column("Duration", "duration_ms", "duration"),
    Column("Device", "device", "text"),
    Column("Browser", "browser", "text"),
    Column("OS", "os", "text"),
    Column("Country", "country", "text"),
    Column("Source", "source", "text"),
    Column("Pages", "pageview_count", "int"),
    Column("Events", "event_count", "int"),
    Column("Converted", "converted", "check"),
    Column("Entry page", "entry_page_id", "page"),
    *(Column(title, kind, "signal", f"{SIGNAL_LABELS[kind]}: {signal_rule(kind)}")   # the core's thresholds
      for title, kind in (("Rage", "rage_click"), ("Dead", "dead_click"), ("Error", "error_click"),
                          ("Scroll", "excessive_scroll"), ("Quick back", "quick_back"),
                          ("Thrash", "thrashed_cursor"))),
    Column("Frustration", "frustration", "score",
           "Frustration score: weighted signal counts (rage and error clicks weigh most)"),
    # Last in the model (column numbers of the others stay), first on screen.
    Column("Session", "session_id", "id", "Session id, as the other panels, the CLI and bookmarks name it"),
)
START_COLUMN = 0
#: Columns filled from the session index rather than ``session_table``.
SIGNAL_COLUMNS = tuple(c for c, col in enumerate(COLUMNS) if col.kind in ("signal", "score"))
#: Left-to-right order on screen (model columns keep ``COLUMNS`` order): the score next to the
#: duration, where a narrow Sessions dock still shows it; the per-kind counts before the entry page.
VISUAL_ORDER = ("session_id", "start_ms", "duration_ms", "frustration", "device", "browser", "os", "country", "source",
                "pageview_count", "event_count", "converted", "rage_click", "dead_click", "error_click",
                "excessive_scroll", "quick_back", "thrashed_cursor", "entry_page_id")


def _empty_table() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"session_id": np.zeros(0, dtype=np.int64)}
    for col in COLUMNS:
        out[col.key] = np.zeros(0, dtype=object if col.kind == "text" else np.int64)
    return out


def index_columns(index, session_ids: np.ndarray) -> dict[str, np.ndarray]:
    """The signal and score columns of ``index`` (a SessionIndex, or None: zeros) aligned to
    ``session_ids``; sessions the index does not know get 0."""
    ids = np.asarray(session_ids, dtype=np.int64)
    n = ids.shape[0]
    out: dict[str, np.ndarray] = {}
    if index is None or len(index) == 0 or n == 0:
        for col in COLUMNS:
            if col.kind == "signal":
                out[col.key] = np.zeros(n, dtype=np.int32)
            elif col.kind == "score":
                out[col.key] = np.zeros(n, dtype=np.float32)
        return out
    known = index.session_ids
    pos = np.minimum(np.searchsorted(known, ids), known.shape[0] - 1)
    hit = known[pos] == ids
    for col in COLUMNS:
        if col.kind == "signal":
            out[col.key] = np.where(hit, index.counts[col.key][pos], 0).astype(np.int32)
        elif col.kind == "score":
            out[col.key] = np.where(hit, index.score[pos], 0).astype(np.float32)
    return out


class SessionTableModel(QAbstractTableModel):
    """Read-only rows = sessions, columns = ``COLUMNS``; sorted by ``argsort`` on the arrays."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._table = _empty_table()
        self._ids = self._table["session_id"]
        self._arrays: list[np.ndarray] = [self._table[c.key] for c in COLUMNS]
        self._kinds: tuple[str, ...] = tuple(c.kind for c in COLUMNS)
        self._order = np.zeros(0, dtype=np.int64)   # view row -> array index
        self._sort_keys: dict[int, np.ndarray] = {}
        self._sort_column = START_COLUMN
        self._sort_order = Qt.SortOrder.DescendingOrder
        self._page_paths: dict[int, str] = {}
        self._page_urls: dict[int, str] = {}
        self._page_rank = np.zeros(1, dtype=np.int64)
        self._index = None   # SessionIndex once computed; the signal columns stay blank until then
        #: On a dataset: called as ``sort_handler(column, order)`` on a header click; it re-queries
        #: the page sorted on the cluster and returns True, or False (sort within the page).
        self.sort_handler = None
        self._server_sorted = False   # the rows are in the cluster's order: keep it
        self._bold = QFont()
        self._bold.setBold(True)

    # -- content ---------------------------------------------------------------------------
    def set_pages(self, urls: dict[int, str]) -> None:
        """``{page_id: url}`` used by the entry page column (shown as the URL path)."""
        self._page_urls = dict(urls)
        self._page_paths = {pid: (urlsplit(u).path or "/") for pid, u in urls.items()}
        # Sort key of a page id = rank of its path; index 0 holds "no page" (-1).
        size = (max(urls) + 2) if urls else 1
        rank = np.zeros(size, dtype=np.int64)
        for r, pid in enumerate(sorted(urls, key=lambda p: self._page_paths[p]), start=1):
            rank[pid + 1] = r
        self._page_rank = rank

    def set_table(self, table: dict[str, np.ndarray]) -> None:
        """Show new columns (as returned by ``Capture.session_table``), keeping the sort."""
        self.beginResetModel()
        self._table = table
        self._ids = np.asarray(table["session_id"], dtype=np.int64)
        signal = index_columns(self._index, self._ids)
        self._arrays = [signal[c.key] if c.key in signal else table[c.key] for c in COLUMNS]
        self._sort_keys = {}
        self._order = self._sorted_order(self._sort_column, self._sort_order)
        self.endResetModel()

    def set_index(self, index) -> None:
        """Fill the signal and score columns from ``index`` (a SessionIndex; None blanks them),
        re-sorting if the table is sorted by one of them; the selection stays on its session."""
        self._index = index
        signal = index_columns(index, self._ids)
        for c in SIGNAL_COLUMNS:
            self._arrays[c] = signal[COLUMNS[c].key]
            self._sort_keys.pop(c, None)
        if self._sort_column in SIGNAL_COLUMNS:
            self.sort(self._sort_column, self._sort_order)
        elif self.rowCount():
            self.dataChanged.emit(self.index(0, SIGNAL_COLUMNS[0]),
                                  self.index(self.rowCount() - 1, SIGNAL_COLUMNS[-1]))

    @property
    def signal_index(self):
        """The SessionIndex behind the signal columns, or None while it is computed."""
        return self._index

    def clear(self) -> None:
        self._index = None
        self.set_table(_empty_table())

    @property
    def table(self) -> dict[str, np.ndarray]:
        return self._table

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else int(self._order.shape[0])

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        col = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col.kind == "score":
                return _CENTER   # right-aligned, the title would run under the sort arrow
            return _RIGHT if col.kind in _NUMERIC else (_CENTER if col.kind == "check" else _LEFT)
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tip or None
        if int(role) == _INITIAL_SORT:
            # QHeaderView asks this on the first click on a column (issue 13, defect 6).
            return (Qt.SortOrder.DescendingOrder if col.kind in _DESCENDING_FIRST
                    else Qt.SortOrder.AscendingOrder)
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row, c = index.row(), index.column()
        if not (0 <= row < self._order.shape[0] and 0 <= c < len(COLUMNS)):
            return None
        return self._value(self._order[row], c, int(role))

    def multiData(self, index: QModelIndex, roleDataSpan) -> None:  # noqa: N802, N803
        # Views ask for ~7 roles per cell; one Python call per cell instead of one per role
        # cuts repaint cost by about two thirds (Qt 6's QAbstractItemModel::multiData).
        row, c = index.row(), index.column()
        valid = 0 <= row < self._order.shape[0] and 0 <= c < len(COLUMNS)
        i = self._order[row] if valid else 0
        for role_data in roleDataSpan:
            value = self._value(i, c, int(role_data.role())) if valid else None
            if value is None:
                role_data.clearData()
            else:
                role_data.setData(value)

    def _value(self, i, c: int, role: int):
        """Role ``role`` of array row ``i``, column ``c``: reads the numpy columns directly."""
        kind = self._kinds[c]
        if role == _DISPLAY:
            v = self._arrays[c][i]
            if kind == "start":
                if not date_known(int(v)):
                    return "unknown date"
                return time.strftime("%b %d  %H:%M", time.localtime(int(v) / 1000))
            if kind == "duration":
                return format_duration(int(v))
            if kind == "int":
                return f"{int(v):,}"
            if kind == "id":
                return str(int(v))
            if kind == "check":
                return "✓" if v else ""
            if kind == "page":
                return self._page_paths.get(int(v), "")
            if kind == "signal":
                return f"{int(v):,}" if v else ""   # blank for 0: the few non-zero counts stand out
            if kind == "score":
                return f"{float(v):.1f}" if v else ""
            return "" if v is None else str(v)
        if role == _ALIGN:
            return _RIGHT if kind in _NUMERIC else (_CENTER if kind == "check" else _LEFT)
        if role == _FOREGROUND:
            if kind == "score":
                return _SCORE_COLOR
            return _CONVERTED_COLOR if kind == "check" else (_MUTED_COLOR if kind == "page" else None)
        if role == _FONT:
            return self._bold if kind in ("check", "score") else None
        if role == SESSION_ID_ROLE:
            return int(self._ids[i])
        if role == _TOOLTIP:
            v = self._arrays[c][i]
            if kind == "start":
                if not date_known(int(v)):
                    return "Start date unknown: the recording's clock is not a calendar date"
                return time.strftime("%A %d %B %Y, %H:%M:%S", time.localtime(int(v) / 1000))
            if kind == "page":
                return self._page_urls.get(int(v))
        return None

    def flags(self, index: QModelIndex):
        return _FLAGS

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        if self.sort_handler is not None:
            self._server_sorted = bool(self.sort_handler(column, order))
            if self._server_sorted:
                self._sort_column, self._sort_order = column, order
                return   # the new page comes sorted
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()   # e.g. the selection: keep it on its sessions
        rows = [self._order[p.row()] for p in persistent]
        self._sort_column, self._sort_order = column, order
        self._order = self._sorted_order(column, order)
        if persistent:
            inverse = np.empty_like(self._order)
            inverse[self._order] = np.arange(self._order.shape[0])
            self.changePersistentIndexList(
                persistent, [self.index(int(inverse[i]), p.column()) for i, p in zip(rows, persistent)])
        self.layoutChanged.emit()

    # -- helpers ---------------------------------------------------------------------------
    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def _sort_key(self, column: int) -> np.ndarray:
        key = self._sort_keys.get(column)
        if key is None:
            col = COLUMNS[column]
            arr = self._arrays[column]
            if col.kind == "page":   # the entry page sorts by its path, as the column shows it
                ids = np.asarray(arr, dtype=np.int64) + 1
                ids = np.clip(ids, 0, self._page_rank.shape[0] - 1)
                key = self._page_rank[ids]
            else:
                key = sort_key(arr)
            self._sort_keys[column] = key
        return key

    def _sorted_order(self, column: int, order: Qt.SortOrder) -> np.ndarray:
        n = self._ids.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        if self._server_sorted and self.sort_handler is not None:
            return np.arange(n, dtype=np.int64)   # a dataset's page, in the cluster's order
        # The core's rule (as the CLI, the capture and a dataset's pages sort): ties newest first.
        return session_order(self._sort_key(column), self._sort_key(START_COLUMN), self._ids,
                             order == Qt.SortOrder.DescendingOrder)

    def session_id_at(self, row: int) -> int | None:
        if 0 <= row < self._order.shape[0]:
            return int(self._ids[self._order[row]])
        return None

    def row_of(self, session_id: int) -> int:
        """The view row showing ``session_id``, or -1."""
        hits = np.flatnonzero(self._ids[self._order] == session_id)
        return int(hits[0]) if hits.size else -1

    def ordered_session_ids(self) -> np.ndarray:
        """Session ids in display order, (n,) int64."""
        return self._ids[self._order]


class _SessionTableView(QTableView):
    """QTableView without type-to-search (letter keys are player shortcuts here), with a
    centred message when it has no rows."""

    empty_text = ""

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        pass

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.empty_text and self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(_MUTED_COLOR)
            rect = self.viewport().rect().adjusted(24, 0, -24, 0)
            rect.setHeight(min(rect.height(), 160))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.empty_text)
            painter.end()


class QtSessionList(QWidget):
    """The filtered, sortable session table with a "1,234 of 2,000 sessions" count."""

    session_activated = Signal(int)     # double-click / Enter on a row: session id
    table_did_load = Signal(int)        # rows now shown, after each (re)query
    columns_changed = Signal(list)      # keys of the hidden columns, after the user changed them
    index_did_load = Signal(object)     # the capture's SessionIndex, once computed (signal columns)
    index_did_fail = Signal()           # computing it failed (the list says so)
    session_requested = Signal(int)     # an id typed in the "Go to session" box (Enter)
    sessions_did_delete = Signal(object)  # the ErasurePlan of sessions erased, after the list re-queried

    def __init__(self, parent: QWidget | None = None, workspace=None) -> None:
        super().__init__(parent)
        self.setObjectName("SessionList")
        #: The window's Workspace: the signal index comes from (and stays in) its cache.
        self.workspace = workspace
        self._capture = None
        self._total = 0
        self._filter = SessionFilter()
        self._generation = 0
        self._sized = False
        self._pending = None
        self._index_task = None
        self._index_pending = None   # the capture whose signal index starts after its first rows
        self._index_held = False     # hold_index: it waits, even once the rows are shown
        self._rows_shown = False     # the open capture's first rows are on screen
        self._delete_task = None
        self.paged = False   # a dataset: one page of rows at a time (self.pager)

        self.model = SessionTableModel(self)
        self.view = _SessionTableView(self)
        self.view.setObjectName("SessionTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # delete several
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setCornerButtonEnabled(False)
        vheader = self.view.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        vheader.setDefaultSectionSize(max(22, self.fontMetrics().height() + 8))
        hheader = self.view.horizontalHeader()
        hheader.setHighlightSections(False)
        hheader.setStretchLastSection(True)
        hheader.setSectionsMovable(True)
        hheader.setResizeContentsPrecision(200)
        hheader.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hheader.setMinimumSectionSize(36)
        keys = [c.key for c in COLUMNS]
        for visual, key in enumerate(VISUAL_ORDER):
            hheader.moveSection(hheader.visualIndex(keys.index(key)), visual)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(START_COLUMN, Qt.SortOrder.DescendingOrder)
        self.view.activated.connect(self._on_activated)
        hheader.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hheader.customContextMenuRequested.connect(self._show_column_menu)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_row_menu)

        self.count_label = QLabel("No capture open", self)
        self.count_label.setObjectName("SessionCount")
        self.index_label = QLabel("", self)
        self.index_label.setObjectName("Muted")

        top = QHBoxLayout()
        top.setContentsMargins(12, 6, 12, 6)
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(self.index_label)
        self.goto_edit = QLineEdit(self)
        self.goto_edit.setObjectName("GotoSession")
        self.goto_edit.setPlaceholderText("Go to id…")
        self.goto_edit.setToolTip("Type a session id and press Enter to replay it (Ctrl+G)")
        self.goto_edit.setValidator(QIntValidator(0, 2**31 - 1, self.goto_edit))
        self.goto_edit.setClearButtonEnabled(True)
        self.goto_edit.setFixedWidth(max(100, self.goto_edit.fontMetrics().horizontalAdvance(
            self.goto_edit.placeholderText()) + 40))
        self.goto_edit.returnPressed.connect(self._on_goto)
        top.addSpacing(8)
        top.addWidget(self.goto_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        # A dataset's list pages (qt_session_pager): one page of rows, Previous / Next below.
        from hindsight_qt.views.qt_session_pager import PagerBar, SessionPager

        self.pager = SessionPager(self)
        self.pager.page_did_load.connect(self._on_page)
        self.pager.page_failed.connect(self._on_page_failed)
        self.pager_bar = PagerBar(self.pager, self)
        self.pager_bar.hide()
        layout.addWidget(self.pager_bar)

    # -- public API ------------------------------------------------------------------------
    @property
    def capture(self):
        return self._capture

    def set_capture(self, capture, flt: SessionFilter | None = None, total: int | None = None) -> None:
        """Show ``capture``'s sessions (queried on a worker thread); None clears the list.
        ``total``: its session count when known (a dataset's, counted on the cluster at open)."""
        from hindsight.engine.on_dataset import is_dataset_capture

        self._capture = capture
        self._sized = False
        self._rows_shown = False
        self._generation += 1
        self.paged = is_dataset_capture(capture)
        self.pager.set_capture(capture if self.paged else None)
        self.pager_bar.setVisible(self.paged)
        self.model.sort_handler = self._sort_on_cluster if self.paged else None
        self.model._server_sorted = self.paged
        self.model.clear()
        if self._index_task is not None:
            self._index_task.cancel()
            self._index_task = None
        self._index_pending = None
        if capture is None:
            self._total = 0
            self.count_label.setText("No capture open")
            self.index_label.setText("")
            return
        self._total = int(total) if total is not None else capture.session_count()
        self.model.set_pages({p.page_id: p.url for p in capture.pages()})
        # The signal index starts once the rows are on screen (``_on_table``): run side by side,
        # its event reads would double the memory and CPU the first paint of the list waits on.
        self._index_pending = capture
        self.set_filter(flt or SessionFilter())

    def hold_index(self, hold: bool) -> None:
        """While held, the signal index does not start after the first rows (the window's lazy
        start builds its player and panels then; both at once would contend for the CPU and
        delay both). Releasing starts it if it is waiting."""
        self._index_held = bool(hold)
        if not hold and self._rows_shown and self._index_pending is not None \
                and self._index_pending is self._capture:
            self._index_pending = None
            self._compute_index(self._capture)

    def index_coming(self) -> bool:
        """True while the open capture's signal index is being computed or will be (after the
        first rows, or when ``hold_index`` releases it)."""
        return self._index_task is not None or (
            self._index_pending is not None and self._index_pending is self._capture and not self.paged)

    @property
    def signal_index(self):
        """The open capture's SessionIndex, or None while it is being computed."""
        return self.model.signal_index

    def _compute_index(self, capture) -> None:
        # After the table query was queued: the rows show first, the signal columns fill in.
        # With the window's workspace the index is computed once per capture for every view.
        from hindsight.analytics.session_index import session_index

        ws = self.workspace
        self.index_label.setText("Computing frustration signals…")
        self._index_task = tasks.run(
            (lambda: ws.compute_signal_index()) if ws is not None and ws.capture is capture
            else (lambda: session_index(capture)),
            lambda index: self._on_index(capture, index),
            lambda exc: self._on_index_failed(capture, exc),
        )

    def _on_index(self, capture, index) -> None:
        if capture is not self._capture:
            return  # the capture was closed or replaced meanwhile
        self._index_task = None
        self.index_label.setText("")
        self.model.set_index(index)
        self.index_did_load.emit(index)

    def _on_index_failed(self, capture, exc: BaseException) -> None:
        if capture is not self._capture:
            return
        self._index_task = None
        self.index_did_fail.emit()
        self.index_label.setText("Signals unavailable")
        self.index_label.setToolTip(f"Could not compute the frustration signals: {user_message(exc, capture)}")

    def set_filter(self, flt: SessionFilter) -> None:
        """Re-query with ``flt``; results of earlier, slower queries are dropped."""
        self._filter = flt
        if self._capture is None:
            return
        self._generation += 1
        generation, capture = self._generation, self._capture
        self.count_label.setText(f"Filtering {plural(self._total, 'session')}…")
        if self.paged:
            self.pager_bar.update_buttons("Querying the cluster…")
            self.pager.query(flt, self._order_by(), offset=0)
            return
        self._pending = tasks.run(
            lambda: capture.session_table(flt),
            lambda table: self._on_table(generation, table),
            lambda exc: self._on_table_failed(generation, exc),
        )

    @property
    def filter(self) -> SessionFilter:
        return self._filter

    def row_count(self) -> int:
        return self.model.rowCount()

    def total_count(self) -> int:
        return self._total

    def current_session_id(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.session_id_at(index.row()) if index.isValid() else None

    def select_session(self, session_id: int, scroll: bool = True) -> bool:
        """Select the row of ``session_id``; False if the filter hides it."""
        row = self.model.row_of(session_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        if scroll:
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def adjacent_session_id(self, session_id: int | None, step: int) -> int | None:
        """The session ``step`` rows after (negative: before) ``session_id`` in the shown order."""
        n = self.model.rowCount()
        if n == 0:
            return None
        row = self.model.row_of(session_id) if session_id is not None else -1
        if row < 0:
            target = 0 if step > 0 else n - 1
        else:
            target = row + step
        return self.model.session_id_at(target) if 0 <= target < n else None

    def hidden_columns(self) -> list[str]:
        """Keys (``COLUMNS[i].key``) of the columns the user hid."""
        return [col.key for c, col in enumerate(COLUMNS) if self.view.isColumnHidden(c)]

    def set_hidden_columns(self, keys) -> None:
        keys = set(keys)
        for c, col in enumerate(COLUMNS):
            self.view.setColumnHidden(c, c != START_COLUMN and col.key in keys)

    def selected_session_ids(self) -> list[int]:
        """Ids of the selected rows, in display order."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [sid for sid in (self.model.session_id_at(r) for r in rows) if sid is not None]

    # -- deleting sessions -----------------------------------------------------------------
    def row_menu(self, pos) -> QMenu:
        """The context menu of the row at ``pos`` (viewport coordinates); right-clicking a row
        outside the selection selects it first."""
        index = self.view.indexAt(pos)
        if index.isValid() and not self.view.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.select_session(self.model.session_id_at(index.row()), scroll=False)
        ids = self.selected_session_ids()
        menu = QMenu(self)
        n = len(ids)
        action = menu.addAction(f"Delete {n} sessions…" if n > 1 else "Delete session…" if n else "Delete session(s)…")
        action.setObjectName("DeleteSessionsAction")
        action.setEnabled(bool(ids) and self._capture is not None and self._delete_task is None and not self.paged)
        if self.paged:
            from hindsight.engine.on_dataset import UNAVAILABLE

            action.setToolTip(UNAVAILABLE["delete"])
            menu.setToolTipsVisible(True)
        action.triggered.connect(lambda _checked=False, ids=ids: self.delete_sessions(ids))
        return menu

    def _show_row_menu(self, pos) -> None:
        self.row_menu(pos).exec(self.view.viewport().mapToGlobal(pos))

    def delete_sessions(self, session_ids) -> bool:
        """Ask, then erase ``session_ids`` from the capture on a worker thread; False if not started."""
        from hindsight.store.access import read_only_reason

        capture, ids = self._capture, sorted({int(s) for s in session_ids})
        if capture is None or not ids or self._delete_task is not None:
            return False
        path = capture.path
        reason = read_only_reason(path)
        if reason:
            QMessageBox.information(self, "Cannot delete sessions",
                                    f"{path.name} {reason}: sessions cannot be deleted from it.")
            return False
        table = self.model.table
        rows = np.isin(table["session_id"], ids)
        pageviews, events = int(table["pageview_count"][rows].sum()), int(table["event_count"][rows].sum())
        n = len(ids)
        text = (f"Delete {n:,} session{'s' * (n != 1)} ({pageviews:,} pageviews, {events:,} events) from "
                f"{path.name}, with their bookmarks and any page or message only they recorded?\n\n"
                "The file is compacted so the data is gone for good. This cannot be undone.")
        if not self.confirm_delete(text):
            return False
        self.count_label.setText(f"Deleting {n:,} session{'s' * (n != 1)}…")

        def work():
            from hindsight.erase import erase

            return erase(path, ids)   # worker thread: no widgets here

        self._delete_task = tasks.run(work, lambda plan: self._on_deleted(capture, plan),
                                      lambda exc: self._on_delete_failed(capture, exc))
        return True

    def confirm_delete(self, text: str) -> bool:
        """The confirmation dialog (Cancel is the default button)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete sessions", text, parent=self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("DeleteSessionsDialog")
        box.exec()
        return box.clickedButton() is delete

    def _on_deleted(self, capture, plan) -> None:
        self._delete_task = None
        if capture is self._capture:
            # Signal counts that include the erased sessions live in the workspace's caches,
            # which the window's reopening replaces.
            self.set_capture(capture, self._filter)
        self.sessions_did_delete.emit(plan)

    def _on_delete_failed(self, capture, exc: BaseException) -> None:
        self._delete_task = None
        if capture is self._capture:
            self.set_filter(self._filter)   # back to the counts (nothing or everything was erased)
        QMessageBox.critical(self, "Cannot delete sessions", " ".join(str(exc).split()))

    # -- internals -------------------------------------------------------------------------
    def _show_column_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addSection("Columns")
        for c, col in enumerate(COLUMNS):
            action = menu.addAction(col.title)
            action.setCheckable(True)
            action.setChecked(not self.view.isColumnHidden(c))
            action.setEnabled(c != START_COLUMN)
            action.toggled.connect(lambda on, c=c: self._toggle_column(c, on))
        menu.exec(self.view.horizontalHeader().mapToGlobal(pos))

    def _toggle_column(self, column: int, visible: bool) -> None:
        self.view.setColumnHidden(column, not visible)
        self.columns_changed.emit(self.hidden_columns())

    def _on_table(self, generation: int, table: dict[str, np.ndarray]) -> None:
        if generation != self._generation:
            return  # a newer filter is already being queried
        keep = self.current_session_id()
        self.model.set_table(table)
        if not self._sized and self.model.rowCount():
            self._size_columns()
            self._sized = True
        if keep is not None:
            self.select_session(keep, scroll=False)
        shown = self.model.rowCount()
        self.view.empty_text = ("No sessions match these filters.\nLoosen or reset them to see more."
                                if self._total else "This capture has no sessions.")
        self.view.viewport().update()
        self._rows_shown = True
        if self._index_pending is not None and self._index_pending is self._capture:
            if self.view.isVisible():
                self.view.viewport().repaint()   # the rows first, then the signals' work
            if not self._index_held:
                self._index_pending = None
                self._compute_index(self._capture)
        self.count_label.setText(sessions_of(shown, self._total))
        self.table_did_load.emit(shown)

    def _on_table_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.model.clear()
        self.count_label.setText(f"Could not list sessions: {user_message(exc, self._capture)}")
        self._rows_shown = True
        if self._index_pending is not None and self._index_pending is self._capture \
                and not self._index_held:
            self._index_pending = None
            self._compute_index(self._capture)
        self.table_did_load.emit(0)

    # -- a dataset's pages ---------------------------------------------------------------------
    def _order_by(self) -> str:
        from hindsight_qt.views.qt_session_pager import order_key

        col = COLUMNS[self.model.sort_column]
        key = order_key(col.key, col.kind, self.model.sort_order == Qt.SortOrder.DescendingOrder)
        return key or "-start_ms"

    def _sort_on_cluster(self, column: int, order: Qt.SortOrder) -> bool:
        from hindsight_qt.views.qt_session_pager import order_key

        col = COLUMNS[column]
        key = order_key(col.key, col.kind, order == Qt.SortOrder.DescendingOrder)
        if key is None:   # signal counts, entry page: sorted within this page only
            self.pager_bar.update_buttons(f"{col.title}: sorted within this page")
            return False
        if self._capture is not None and key != self.pager.order_by:
            self.pager_bar.update_buttons("Sorting on the cluster…")
            self.pager.query(order_by=key, offset=0)
        return True

    def _on_page(self, total: int, rows: dict) -> None:
        table = dict(rows)
        self._on_table(self._generation, table)
        self.count_label.setText(page_text(total, self._total, self.pager.offset, self.model.rowCount()))
        self.pager_bar.update_buttons()

    def _on_page_failed(self, exc: BaseException) -> None:
        self._on_table_failed(self._generation, exc)
        self.pager_bar.update_buttons("")

    def _size_columns(self) -> None:
        # Once per capture, from a sample of rows: measuring every row of a 100k table costs
        # seconds, and after that the user's own column widths are kept.
        header = self.view.horizontalHeader()
        fm = self.view.fontMetrics()
        header.ensurePolished()  # so its font is the style sheet's
        fm_header = QFontMetrics(header.font())
        n = self.model.rowCount()
        sample = self.model._order[:min(n, 300)].tolist()   # the first rows' table positions
        widths: list[int] = []
        for c, col in enumerate(COLUMNS):
            texts = [self.model._value(i, c, _DISPLAY) or "" for i in sample]
            content = max((fm.horizontalAdvance(t) for t in texts), default=0) + 18
            title = fm_header.horizontalAdvance(col.title) + 18
            if c == self.model.sort_column:
                title += 14  # the sort arrow
            elif col.kind == "score":
                title += 28  # made to be sorted by: room for the arrow on both sides of the centred title
            width = max(content, title, 36)
            if col.kind == "text":
                width = min(width, 112)  # long browser names elide rather than push columns out
            elif col.kind == "signal":
                width = max(title, fm.horizontalAdvance("99") + 18)   # filled in later: size for the title
            widths.append(width)
        for c, width in enumerate(widths):
            header.resizeSection(c, width)

    def _on_goto(self) -> None:
        text = self.goto_edit.text().strip()
        if text.isdigit():
            self.session_requested.emit(int(text))

    def _on_activated(self, index: QModelIndex) -> None:
        sid = self.model.session_id_at(index.row())
        if sid is not None:
            self.session_activated.emit(sid)

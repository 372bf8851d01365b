"""The session list on a dataset: one page of rows at a time, queried on the cluster.

A dataset may hold millions of sessions, so the list never holds them all: the pager asks the
core for one page (``engine.on_dataset.session_page``: each partition returns its count and its
first rows by the sort key, the client merges) and shows the total the filter keeps,
"1,000,000 sessions · showing 1–500", with Previous / Next. A header click sorts on the
cluster (the columns the capture's list sorts by); the rows of a page keep the cluster's order.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from hindsight.engine.on_dataset import PAGE_ROWS, session_page
from hindsight.store import SessionFilter
from hindsight.store.reader import SESSION_TABLE_COLUMNS
from hindsight.text import page_position
from hindsight_qt import tasks
from hindsight_qt.errors import user_message


def order_key(column_key: str, kind: str, descending: bool) -> str | None:
    """The ``order_by`` of a list column on a dataset, or None (not sortable there: the signal
    columns and the entry page's path are not session-table keys)."""
    if column_key not in SESSION_TABLE_COLUMNS or kind == "page":
        return None
    return ("-" if descending else "") + column_key


class SessionPager(QObject):
    """Pages of a dataset's filtered session list; ``page_did_load(total, rows)`` on the GUI thread."""

    page_did_load = Signal(int, object)   # (sessions the filter keeps, the page's columns)
    page_failed = Signal(object)          # the exception

    def __init__(self, parent: QObject | None = None, page_rows: int = PAGE_ROWS) -> None:
        super().__init__(parent)
        self.page_rows = int(page_rows)
        self.capture = None
        self.filter = SessionFilter()
        self.order_by = "-start_ms"
        self.offset = 0
        self.total = 0
        self._task = None
        self._generation = 0

    def set_capture(self, capture) -> None:
        self.cancel()
        self.capture, self.offset, self.total = capture, 0, 0

    def cancel(self) -> None:
        self._generation += 1
        if self._task is not None:
            self._task.cancel()   # its Dask futures too (tasks' cancel scope)
            self._task = None

    @property
    def busy(self) -> bool:
        return self._task is not None

    def query(self, flt: SessionFilter | None = None, order_by: str | None = None, offset: int | None = None) -> None:
        """Ask for a page (defaults: the current filter, order and offset)."""
        if flt is not None:
            self.filter = flt
        if order_by is not None:
            self.order_by = order_by
        if offset is not None:
            self.offset = max(0, int(offset))
        if self.capture is None:
            return
        self.cancel()
        generation, capture = self._generation, self.capture
        args = (self.filter, self.order_by, self.offset, self.page_rows)
        self._task = tasks.run(lambda: session_page(capture, *args),
                               lambda result: self._on_page(generation, result),
                               lambda exc: self._on_failed(generation, exc))

    def next_page(self) -> bool:
        if self.offset + self.page_rows >= self.total:
            return False
        self.query(offset=self.offset + self.page_rows)
        return True

    def previous_page(self) -> bool:
        if self.offset <= 0:
            return False
        self.query(offset=max(0, self.offset - self.page_rows))
        return True

    def _on_page(self, generation: int, result) -> None:
        if generation != self._generation:
            return
        self._task = None
        self.total, rows = result
        if self.offset and self.offset >= self.total:   # a filter shrank the list under this page
            self.query(offset=max(0, (self.total - 1) // self.page_rows * self.page_rows))
            return
        self.page_did_load.emit(int(self.total), rows)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._task = None
        self.page_failed.emit(exc)


class PagerBar(QWidget):
    """Previous / Next under a dataset's session list."""

    def __init__(self, pager: SessionPager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PagerBar")
        self.pager = pager
        self.previous_button = QPushButton("‹ Previous", self)
        self.previous_button.setObjectName("PreviousPage")
        self.previous_button.setToolTip(f"The previous {pager.page_rows:,} sessions")
        self.previous_button.clicked.connect(pager.previous_page)
        self.next_button = QPushButton("Next ›", self)
        self.next_button.setObjectName("NextPage")
        self.next_button.setToolTip(f"The next {pager.page_rows:,} sessions")
        self.next_button.clicked.connect(pager.next_page)
        self.label = QLabel("", self)
        self.label.setObjectName("Muted")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 4, 12, 4)
        row.addWidget(self.previous_button)
        row.addWidget(self.label, 1)
        row.addWidget(self.next_button)
        self.update_buttons()

    def update_buttons(self, note: str | None = None) -> None:
        p = self.pager
        self.previous_button.setEnabled(p.capture is not None and p.offset > 0)
        self.next_button.setEnabled(p.capture is not None and p.offset + p.page_rows < p.total)
        self.label.setText(note if note is not None else page_position(p.offset, p.page_rows, p.total))


def describe_error(exc: BaseException, capture) -> str:
    return f"Could not list sessions: {user_message(exc, capture)}"

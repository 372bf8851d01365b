"""File > Import recordings…: pick rrweb / PostHog files and options, import them off the GUI thread.

``ImportDialog`` only collects ``ImportOptions``. ``run_import(options, report)`` is the worker
half (no widgets): it calls ``importers.session_writer.import_files``, whose ``progress``
callback it turns into a cancel point by raising ``ImportCancelled`` once ``report`` returns
False. ``import_files`` builds a new capture under ``NAME.partial`` and appends in a single
transaction, and it aborts on any exception, so a cancelled import leaves no output file
and an appended capture exactly as it was. ``start_import(window, options)`` runs it with a
``TaskProgressDialog`` and opens the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from hindsight.text import plural

RECORDING_FILTER = "rrweb / PostHog recordings (*.json *.json.gz *.gz);;All files (*)"
SCREENSHOT_FILTER = "PNG screenshots (*.png)"
CAPTURE_FILTER = "Hindsight captures (*.sqlite)"
MASK_NOTE = "Typed text is never kept; this also hides e-mails and card numbers in page text and URLs."


class ImportCancelled(Exception):
    """Raised inside ``import_files`` (from its progress callback) to abort the import."""


@dataclass
class ImportOptions:
    """What to import and how (``out`` is created, or added to with ``append``)."""

    paths: list[str]
    out: str
    append: bool = False
    screenshots: list[str] = field(default_factory=list)
    mask: bool = True
    render: bool = True
    overwrite: bool = False   # the user confirmed replacing an existing ``out``


def run_import(options: ImportOptions, report: Callable[..., bool] | None = None):
    """Worker half: import ``options`` and return the ``ImportReport``; never touches widgets.

    ``report(done_files, total_files, file_name)`` is called before and after each file and
    returns False to cancel, which raises ``ImportCancelled`` with nothing written.
    """
    from hindsight.importers.session_writer import import_files

    total = len(options.paths)

    def progress(done: int, total_: int, path) -> None:
        if report is not None and report(done, total_, Path(str(path)).name) is False:
            raise ImportCancelled("import cancelled")

    # One file reports nothing until it is done: keep the bar busy (a total of 0) until then.
    first = Path(options.paths[0]).name if total else ""
    if report is not None and report(0, total if total > 1 else 0, first) is False:
        raise ImportCancelled("import cancelled")
    result = import_files(options.paths, options.out, screenshots=list(options.screenshots),
                          mask=options.mask, append=options.append, render=options.render,
                          overwrite=options.overwrite, progress=progress)
    if report is not None and report(total, total, "") is False and not options.append \
            and not options.overwrite:
        # Cancelled while the last file was committed: a new capture the user did not want.
        Path(options.out).unlink(missing_ok=True)
        raise ImportCancelled("import cancelled")
    return result


def _writable(path: Path | None) -> bool:
    from hindsight.store.access import capture_writable

    # mode bits count even for root; appending writes a -wal file beside it
    return path is not None and path.exists() and capture_writable(path)


def _unique_path(folder: Path, stem: str) -> Path:
    candidate = folder / f"{stem}.sqlite"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}.sqlite"
        n += 1
    return candidate


class ImportDialog(QDialog):
    """Collects ``ImportOptions``: files, new capture or append, screenshots, mask, render."""

    def __init__(self, parent: QWidget | None = None, *, open_capture: str | os.PathLike[str] | None = None,
                 start_dir: str | os.PathLike[str] | None = None, paths: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ImportDialog")
        self.setWindowTitle("Import recordings")
        self.setMinimumWidth(620)
        self._start_dir = str(start_dir or Path.home())
        self._open_capture = Path(open_capture) if open_capture else None
        self._out_edited = False
        self._overwrite_path: str | None = None

        intro = QLabel("Import rrweb recordings (JSON, one session per file) or PostHog exports.", self)
        intro.setObjectName("Muted")

        # Files
        files_title = QLabel("Recordings", self)
        files_title.setObjectName("SectionTitle")
        self.file_list = QListWidget(self)
        self.file_list.setObjectName("ImportFiles")
        self.file_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.file_list.setFixedHeight(120)
        self.add_button = QPushButton("Add files…", self)
        self.add_button.clicked.connect(self._browse_files)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self._remove_selected)
        file_buttons = QVBoxLayout()
        file_buttons.setSpacing(6)
        file_buttons.addWidget(self.add_button)
        file_buttons.addWidget(self.remove_button)
        file_buttons.addStretch(1)
        files_row = QHBoxLayout()
        files_row.setSpacing(8)
        files_row.addWidget(self.file_list, 1, Qt.AlignmentFlag.AlignTop)
        files_row.addLayout(file_buttons)
        files_row.setAlignment(file_buttons, Qt.AlignmentFlag.AlignTop)

        # Destination
        dest_title = QLabel("Save to", self)
        dest_title.setObjectName("SectionTitle")
        self.new_radio = QRadioButton("New capture file", self)
        self.out_edit = QLineEdit(self)
        self.out_edit.setPlaceholderText("recordings.sqlite")
        self.out_edit.textEdited.connect(self._on_out_edited)
        self.out_button = QPushButton("Browse…", self)
        self.out_button.clicked.connect(self._browse_out)
        can_append = _writable(self._open_capture)
        name = self._open_capture.name if self._open_capture else ""
        self.append_radio = QRadioButton(
            f"Add to the open capture ({name})" if name else "Add to the open capture", self)
        self.append_radio.setEnabled(can_append)
        if self._open_capture is not None and not can_append:
            self.append_radio.setToolTip("The open capture is read-only")
        elif self._open_capture is None:
            self.append_radio.setToolTip("No capture is open")
        group = QButtonGroup(self)
        group.addButton(self.new_radio)
        group.addButton(self.append_radio)
        self.new_radio.setChecked(True)
        self.new_radio.toggled.connect(self._update)
        dest = QGridLayout()
        dest.setHorizontalSpacing(8)
        dest.setVerticalSpacing(6)
        dest.addWidget(self.new_radio, 0, 0)
        dest.addWidget(self.out_edit, 0, 1)
        dest.addWidget(self.out_button, 0, 2)
        dest.addWidget(self.append_radio, 1, 0, 1, 3)
        dest.setColumnStretch(1, 1)

        # Options
        options_title = QLabel("Options", self)
        options_title.setObjectName("SectionTitle")
        self.screenshot_edit = QLineEdit(self)
        self.screenshot_edit.setReadOnly(True)
        self.screenshot_edit.setPlaceholderText("None: pages are drawn from the recording")
        self.screenshot_edit.setToolTip("Full-page PNGs named PAGE_WIDTH.png, e.g. signup_1280.png")
        self.screenshot_button = QPushButton("Choose…", self)
        self.screenshot_button.clicked.connect(self._browse_screenshots)
        self.screenshot_clear = QPushButton("Clear", self)
        self.screenshot_clear.clicked.connect(lambda: self.set_screenshots([]))
        self._screenshots: list[str] = []
        shots = QHBoxLayout()
        shots.setSpacing(8)
        shots.addWidget(QLabel("Screenshots", self))
        shots.addWidget(self.screenshot_edit, 1)
        shots.addWidget(self.screenshot_button)
        shots.addWidget(self.screenshot_clear)
        self.mask_check = QCheckBox("Mask typed input", self)
        self.mask_check.setChecked(True)
        self.mask_note = QLabel(MASK_NOTE, self)
        self.mask_note.setObjectName("Muted")
        self.mask_note.setContentsMargins(24, 0, 0, 0)
        self.render_check = QCheckBox("Render pages with Chromium when available", self)
        self.render_check.setChecked(True)
        self.render_check.setToolTip("Exact element boxes and page images; without it a placeholder layout")
        from hindsight.importers.render_dom import find_chromium

        self.render_note = QLabel("Chromium was not found on this computer: pages get a placeholder layout.", self)
        self.render_note.setObjectName("Muted")
        self.render_note.setContentsMargins(24, 0, 0, 0)
        self.render_note.setVisible(find_chromium() is None)

        self.status = QLabel(" ", self)
        self.status.setObjectName("ImportStatus")
        self.status.setStyleSheet("color: #B45309")
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        col = QVBoxLayout(self)
        col.setContentsMargins(24, 20, 24, 16)
        col.setSpacing(6)
        col.addWidget(intro)
        col.addSpacing(8)
        col.addWidget(files_title)
        col.addLayout(files_row)
        col.addSpacing(10)
        col.addWidget(dest_title)
        col.addLayout(dest)
        col.addSpacing(10)
        col.addWidget(options_title)
        col.addLayout(shots)
        col.addSpacing(2)
        col.addWidget(self.mask_check)
        col.addWidget(self.mask_note)
        col.addWidget(self.render_check)
        col.addWidget(self.render_note)
        col.addSpacing(8)
        col.addStretch(1)   # spare height goes above the buttons, not between the sections
        col.addWidget(self.status)
        col.addWidget(self.buttons)
        self.file_list.itemSelectionChanged.connect(self._update)
        if paths:
            self.add_files(paths)
        self._update()

    # -- files -----------------------------------------------------------------------------
    def files(self) -> list[str]:
        return [self.file_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.file_list.count())]

    def add_files(self, paths) -> None:
        have = set(self.files())
        for p in paths:
            p = str(Path(p).resolve())
            if p in have:
                continue
            have.add(p)
            item = QListWidgetItem(Path(p).name)
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(p)
            self.file_list.addItem(item)
        if not self._out_edited and self.files():
            first = Path(self.files()[0])
            stem = first.name.split(".")[0] if len(self.files()) == 1 else "recordings"
            self.out_edit.setText(str(_unique_path(first.parent, stem)))
        self._update()

    def _browse_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose recordings", self._start_dir, RECORDING_FILTER)
        if paths:
            self._start_dir = str(Path(paths[0]).parent)
            self.add_files(paths)

    def _remove_selected(self) -> None:
        for item in self.file_list.selectedItems():
            self.file_list.takeItem(self.file_list.row(item))
        self._update()

    # -- output ----------------------------------------------------------------------------
    def set_output(self, path: str) -> None:
        self.out_edit.setText(str(path))
        self._out_edited = True
        self._update()

    def _on_out_edited(self, _text: str) -> None:
        self._out_edited = True
        self._overwrite_path = None
        self._update()

    def _browse_out(self) -> None:
        start = self.out_edit.text() or str(Path(self._start_dir) / "recordings.sqlite")
        path, _ = QFileDialog.getSaveFileName(self, "New capture file", start, CAPTURE_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".sqlite"
            self.set_output(path)
            # The save dialog asked before choosing an existing file: replacing it is intended.
            self._overwrite_path = path if Path(path).exists() else None
            self.new_radio.setChecked(True)
            self._update()

    # -- options ---------------------------------------------------------------------------
    def set_screenshots(self, paths) -> None:
        self._screenshots = [str(p) for p in paths]
        names = [Path(p).name for p in self._screenshots]
        self.screenshot_edit.setText(", ".join(names))
        self.screenshot_edit.setToolTip("\n".join(self._screenshots) or
                                        "Full-page PNGs named PAGE_WIDTH.png, e.g. signup_1280.png")
        self.screenshot_clear.setEnabled(bool(self._screenshots))

    def _browse_screenshots(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose page screenshots", self._start_dir, SCREENSHOT_FILTER)
        if paths:
            self.set_screenshots(paths)

    def options(self) -> ImportOptions:
        append = self.append_radio.isChecked() and self.append_radio.isEnabled()
        out = str(self._open_capture) if append else str(Path(self.out_edit.text().strip()).expanduser())
        return ImportOptions(
            paths=self.files(), out=out, append=append, screenshots=list(self._screenshots),
            mask=self.mask_check.isChecked(), render=self.render_check.isChecked(),
            overwrite=not append and self._overwrite_path is not None and out == self._overwrite_path)

    def problem(self) -> str | None:
        """Why Import is disabled (None when it is not)."""
        if not self.files():
            return "Add one or more recording files."
        if self.append_radio.isChecked():
            return None
        text = self.out_edit.text().strip()
        if not text:
            return "Choose a file name for the new capture."
        out = Path(text).expanduser()
        if out.exists() and self._overwrite_path != text:
            return f"{out.name} already exists: choose a new name, or add to the open capture."
        if not out.parent.is_dir():
            return f"The folder {out.parent} does not exist."
        return None

    def _update(self) -> None:
        problem = self.problem()
        self.status.setText(problem or " ")
        self.import_button.setEnabled(problem is None)
        self.remove_button.setEnabled(bool(self.file_list.selectedItems()))
        self.screenshot_clear.setEnabled(bool(self._screenshots))
        new = self.new_radio.isChecked()
        self.out_edit.setEnabled(new)
        self.out_button.setEnabled(new)

    def accept(self) -> None:  # noqa: D102
        if self.problem() is None:
            super().accept()


# -- running it --------------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def start_import(window, options: ImportOptions, on_done: Callable[[object], None] | None = None):
    """Import ``options`` on a worker with a cancellable progress dialog, then open the result.

    ``window`` is the ``MainWindow`` (``open_capture``). Returns ``(task, dialog)``.
    """
    from hindsight.store import CaptureError
    from hindsight_qt.views.qt_progress import run_with_progress

    total = len(options.paths)

    def describe(done: int, total_: int, name: str = "") -> str:
        if total_ <= 0:
            return f"Reading {name}" if name else " "
        if done >= total_:
            return f"{total_:,} of {total_:,} files · saving"
        return f"{done:,} of {total_:,} files"

    def succeeded(report) -> None:
        window.open_capture(options.out)
        notes = list(report.notes)   # an ImportReport
        window.statusBar().showMessage(
            f"Imported {plural(report.sessions, 'session')}"
            + (f" ({plural(len(notes), 'note')}: {notes[0]})" if notes else ""), 8000)
        if on_done is not None:
            on_done(report)

    def failed(exc: BaseException) -> None:
        reason = _one_line(exc) if isinstance(exc, CaptureError) else \
            f"{type(exc).__name__}: {_one_line(exc)}"
        QMessageBox.critical(window, "Import failed", reason)

    def cancelled() -> None:
        window.statusBar().showMessage("Import cancelled: nothing was written", 5000)

    text = (f"Importing {plural(total, 'recording')}"
            + (" into the open capture…" if options.append else "…"))
    return run_with_progress(window, lambda report: run_import(options, report), succeeded, failed,
                             title="Import recordings", text=text, describe=describe,
                             on_cancelled=cancelled)


def show_import_dialog(window, paths: list[str] | None = None) -> None:
    """File > Import recordings… (or recordings dropped on the window): ask, then ``start_import``."""
    open_path = window.capture.path if window.capture is not None else None
    recent = window.settings.recent_files()
    start = str(Path(open_path).parent) if open_path else (str(Path(recent[0]).parent) if recent else None)
    dialog = ImportDialog(window, open_capture=open_path, start_dir=start, paths=paths)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        start_import(window, dialog.options())

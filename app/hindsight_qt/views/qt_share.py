"""Clips and the findings report from the app: "Export clip…" on a bookmark, on the timeline
and for a pattern, and File ▸ "Export findings report…".

A small ``ClipDialog`` asks for the file (or folder), format, speed, width and range. The work
runs on a worker thread (``hindsight_qt.tasks`` via ``qt_progress.run_with_progress``), which
drives a child process (``hindsight.share.job``): rendering a clip makes an offscreen player,
and Qt widgets may only be made on a GUI thread, so the child has its own. Cancel asks the
child to stop; it removes what it started, so nothing half-written is left behind (a
pattern's clips appear all together or not at all).

``install_share_actions(main_window)`` hooks it all in (one line in ``PANEL_INSTALLERS``).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hindsight.bookmarks.export import format_time
from hindsight.share.clips import FPS_RANGE, SPEED_RANGE, WIDTH_RANGE, clip_frame_count, clip_window
from hindsight.share.job import job_command

FORMATS = (("webm", "WebM video (VP9)"), ("mp4", "MP4 video (H.264)"), ("gif", "GIF animation"))
DEFAULT_FPS = 15
DEFAULT_AROUND_S = 5.0


class JobFailed(Exception):
    """The child reported an error (one line) or died."""


class JobCancelled(Exception):
    """The user cancelled; the child removed what it had started."""


# -- the child process (worker thread) ---------------------------------------------------------
def run_job(spec: dict, report: Callable[..., bool] | None = None) -> dict:
    """Run ``spec`` in a child process and return its result; worker thread, no widgets.

    ``report(done, total, text)`` relays progress; when it returns False the child is asked
    to stop (``JobCancelled`` once it has). Errors raise ``JobFailed`` with the child's line.
    """
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(job_command(spec), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                env=env, text=True, bufsize=1)
        outcome: dict = {}
        asked = False
        try:
            for line in proc.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "progress" in msg:
                    if report is not None and report(*msg["progress"]) is False and not asked:
                        asked = True
                        try:
                            proc.stdin.write("cancel\n")
                            proc.stdin.flush()
                        except OSError:
                            pass
                else:
                    outcome = msg
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if "done" in outcome:
            return outcome["done"]
        if outcome.get("cancelled") or asked:
            raise JobCancelled()
        if "error" in outcome:
            raise JobFailed(outcome["error"])
        errors.seek(0)
        tail = errors.read().decode("utf-8", "replace").strip().splitlines()
        raise JobFailed(f"the renderer stopped (exit {proc.returncode})" + (f": {tail[-1]}" if tail else ""))


def start_job(parent: QWidget | None, spec: dict, *, title: str, text: str,
              on_success: Callable[[dict], None] | None = None,
              on_failure: Callable[[BaseException], None] | None = None,
              on_cancelled: Callable[[], None] | None = None):
    """``run_job`` on a worker behind the app's cancellable progress dialog; (task, dialog)."""
    from hindsight_qt.views.qt_progress import run_with_progress

    def work(report):
        return run_job(spec, report)

    def failed(exc: BaseException) -> None:
        if isinstance(exc, JobCancelled):
            return   # on_cancelled runs once the worker stopped
        if on_failure is not None:
            on_failure(exc)
        else:
            _tell(parent, "Export failed", str(exc))

    return run_with_progress(parent, work, on_success, failed, title=title, text=text,
                             describe=lambda done, total, what="": what or None, on_cancelled=on_cancelled)


def _tell(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()   # not exec(): a worker's result must never wait on a nested event loop
    return box


def _status(parent: QWidget | None, text: str) -> None:
    window = parent.window() if parent is not None else None
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(text, 6000)


# -- the dialog --------------------------------------------------------------------------------
@dataclass
class ClipOptions:
    """What the dialog asks. Times in ms; ``out`` a file (one clip) or a folder (a pattern)."""

    out: str
    fmt: str = "webm"
    speed: float = 2.0
    width: int = 1280
    fps: int = DEFAULT_FPS
    t_from_ms: int = 0
    t_to_ms: int = 0
    before_ms: int = int(DEFAULT_AROUND_S * 1000)
    after_ms: int = int(DEFAULT_AROUND_S * 1000)


class ClipDialog(QDialog):
    """Format, speed, width, range (or seconds around each moment) and where to save."""

    def __init__(self, parent: QWidget | None, *, title: str, subtitle: str, out: str,
                 duration_ms: int | None = None, t_from_ms: int = 0, t_to_ms: int = 0,
                 moments: int = 0) -> None:
        super().__init__(parent)
        self.setObjectName("ClipDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.folder_mode = duration_ms is None
        self._moments = moments
        root = QVBoxLayout(self)
        root.setContentsMargins(20, 16, 20, 14)
        root.setSpacing(10)
        head = QLabel(subtitle)
        head.setWordWrap(True)
        font = head.font()
        font.setBold(True)
        head.setFont(font)
        root.addWidget(head)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)

        self.format_combo = QComboBox()
        for key, text in FORMATS:
            self.format_combo.addItem(text, key)
        self.format_combo.setToolTip("WebM plays in every current browser; MP4 (H.264) in most players and "
                                     "slide decks; GIF anywhere, larger and in 256 colours")
        form.addRow("Format", self.format_combo)
        self.speed_box = QDoubleSpinBox()
        self.speed_box.setRange(*SPEED_RANGE)
        self.speed_box.setSingleStep(0.25)
        self.speed_box.setDecimals(2)
        self.speed_box.setValue(2.0)
        self.speed_box.setSuffix(" ×")
        form.addRow("Speed", self.speed_box)
        self.width_box = QSpinBox()
        self.width_box.setRange(*WIDTH_RANGE)
        self.width_box.setSingleStep(160)
        self.width_box.setValue(1280)
        self.width_box.setSuffix(" px")
        form.addRow("Width", self.width_box)
        for box in (self.speed_box, self.width_box):
            box.setFixedWidth(120)

        if self.folder_mode:
            self.before_box, self.after_box = QDoubleSpinBox(), QDoubleSpinBox()
            for box in (self.before_box, self.after_box):
                box.setRange(0.0, 120.0)
                box.setSingleStep(1.0)
                box.setDecimals(1)
                box.setValue(DEFAULT_AROUND_S)
                box.setSuffix(" s")
            row = QHBoxLayout()
            row.setSpacing(8)
            for box in (self.before_box, self.after_box):
                box.setFixedWidth(90)
            row.addWidget(self.before_box)
            row.addWidget(QLabel("before and"))
            row.addWidget(self.after_box)
            row.addWidget(QLabel("after each moment"))
            row.addStretch(1)
            form.addRow("Range", row)
        else:
            self._initial = {0: int(t_from_ms), 1: int(t_to_ms)}   # exact ms while the box is untouched
            self.from_box, self.to_box = QDoubleSpinBox(), QDoubleSpinBox()
            for box, value in ((self.from_box, t_from_ms), (self.to_box, t_to_ms)):
                box.setRange(0.0, duration_ms / 1000.0)
                box.setDecimals(1)
                box.setSingleStep(1.0)
                box.setSuffix(" s")
                box.setValue(value / 1000.0)
            row = QHBoxLayout()
            row.setSpacing(8)
            for box in (self.from_box, self.to_box):
                box.setFixedWidth(90)
            row.addWidget(QLabel("from"))
            row.addWidget(self.from_box)
            row.addWidget(QLabel("to"))
            row.addWidget(self.to_box)
            row.addWidget(QLabel(f"of {format_time(duration_ms)}"))
            row.addStretch(1)
            form.addRow("Range", row)

        self.path_edit = QLineEdit(out)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder" if self.folder_mode else "Save to", row)
        root.addLayout(form)
        self.summary = QLabel("")
        self.summary.setObjectName("Muted")
        self.summary.setStyleSheet("color: #6B7280;")
        root.addWidget(self.summary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        root.addWidget(self.buttons)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        for box in self._range_boxes() + [self.speed_box]:
            box.valueChanged.connect(self._update_summary)
        self.path_edit.textChanged.connect(self._update_summary)
        self._update_summary()

    def _range_boxes(self) -> list:
        return [self.before_box, self.after_box] if self.folder_mode else [self.from_box, self.to_box]

    @property
    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def _on_format(self, _i: int) -> None:
        if not self.folder_mode:
            p = self.path_edit.text().strip()
            if p:
                self.path_edit.setText(str(Path(p).with_suffix("." + self.fmt)))
        self._update_summary()

    def _browse(self) -> None:
        if self.folder_mode:
            path = QFileDialog.getExistingDirectory(self, "Folder for the clips", self.path_edit.text())
        else:
            filters = {"webm": "WebM video (*.webm)", "mp4": "MP4 video (*.mp4)", "gif": "GIF animation (*.gif)"}
            path, _ = QFileDialog.getSaveFileName(self, "Save clip", self.path_edit.text(), filters[self.fmt])
        if path:
            self.path_edit.setText(path)

    def _span_ms(self) -> tuple[float, float]:
        a, b = (box.value() * 1000.0 for box in self._range_boxes())
        return (0.0, a + b) if self.folder_mode else (a, b)

    def problem(self) -> str | None:
        """Why Export is disabled (None: fine)."""
        a, b = self._span_ms()
        if b <= a:
            return "The range is empty: the end must come after the start."
        p = self.path_edit.text().strip()
        if not p:
            return "Choose where to save."
        folder = Path(p) if self.folder_mode else Path(p).parent
        if not folder.is_dir():
            return f"The folder {folder} does not exist."
        if not os.access(folder, os.W_OK):
            return f"The folder {folder} is not writable."
        return None

    def _update_summary(self) -> None:
        a, b = self._span_ms()
        problem = self.problem()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
        if problem is not None:
            self.summary.setText(problem)
            return
        frames = clip_frame_count(a, b, self.speed_box.value(), DEFAULT_FPS)
        text = f"{frames} frames · {frames / DEFAULT_FPS:.1f} s of video at {DEFAULT_FPS} fps"
        if self.folder_mode:
            text = f"{self._moments} clip{'s' * (self._moments != 1)}, about {text} each"
        self.summary.setText(text)

    def options(self) -> ClipOptions:
        a, b = (int(round(box.value() * 1000)) for box in self._range_boxes())
        if not self.folder_mode:   # the boxes show 0.1 s; keep a bookmark's exact window if untouched
            a, b = (self._initial[i] if round(self._initial[i] / 100) == round(v / 100) else v
                    for i, v in enumerate((a, b)))
        path = self.path_edit.text().strip()
        if not self.folder_mode and Path(path).suffix.lower() != "." + self.fmt:
            path = str(Path(path).with_suffix("." + self.fmt))
        opts = ClipOptions(out=path, fmt=self.fmt, speed=self.speed_box.value(), width=self.width_box.value())
        if self.folder_mode:
            opts.before_ms, opts.after_ms = a, b
        else:
            opts.t_from_ms, opts.t_to_ms = a, b
        return opts


# -- the actions -------------------------------------------------------------------------------
def _clip_spec(capture_path, items: list[dict], opts: ClipOptions) -> dict:
    return {"kind": "clips", "capture": str(capture_path), "items": items, "speed": opts.speed,
            "fps": opts.fps, "width": opts.width}


def _default_folder(capture) -> Path:
    folder = Path(capture.path).parent
    return folder if os.access(folder, os.W_OK) else Path.home()


def export_clip(parent: QWidget | None, capture, session_id: int, t_from_ms: float, t_to_ms: float, *,
                options: ClipOptions | None = None, what: str = "", on_done: Callable[[dict], None] | None = None):
    """One clip of ``session_id``; asks with a ``ClipDialog`` unless ``options``. (task, dialog) or None."""
    session = capture.session(int(session_id))
    if options is None:
        name = f"session-{session_id}-{format_time(t_from_ms).replace(':', 'm')}s.webm"
        dlg = ClipDialog(parent, title="Export clip", out=str(_default_folder(capture) / name),
                         subtitle=what or f"Session {session_id} · {session.device}",
                         duration_ms=int(session.duration_ms), t_from_ms=int(t_from_ms), t_to_ms=int(t_to_ms))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        options = dlg.options()
    items = [{"session_id": int(session_id), "t_from_ms": options.t_from_ms, "t_to_ms": options.t_to_ms,
              "out": options.out}]

    def done(result: dict) -> None:
        _status(parent, f"Saved clip {result['paths'][0]} ({result['frames'][0]} frames)")
        if on_done is not None:
            on_done(result)

    return start_job(parent, _clip_spec(capture.path, items, options), title="Export clip",
                     text=f"Rendering the clip of session {session_id}…", on_success=done)


def export_bookmark_clip(parent: QWidget | None, capture, bookmark, *, options: ClipOptions | None = None,
                         on_done: Callable[[dict], None] | None = None):
    """A clip of a bookmark: its span, or ``DEFAULT_AROUND_S`` before and after its moment."""
    session = capture.session(int(bookmark.session_id))
    if bookmark.end_ms is not None and bookmark.end_ms > bookmark.t_ms:
        a, b = int(bookmark.t_ms), int(bookmark.end_ms)
    else:
        a, b = clip_window(session.duration_ms, bookmark.t_ms)
    what = f"Bookmark '{bookmark.tag}': session {bookmark.session_id} at {format_time(bookmark.t_ms)}"
    return export_clip(parent, capture, bookmark.session_id, a, b, options=options, what=what, on_done=on_done)


def export_pattern_clips(parent: QWidget | None, capture, store, tag: str, *, options: ClipOptions | None = None,
                         on_done: Callable[[dict], None] | None = None):
    """One clip per bookmarked moment of pattern ``tag``, N s around it, into one folder."""
    import re

    bookmarks = store.bookmarks(tag=tag)
    if not bookmarks:
        return None
    if options is None:
        dlg = ClipDialog(parent, title="Export clips of a pattern", out=str(_default_folder(capture)),
                         subtitle=f"Pattern '{tag}': one clip per bookmarked moment ({len(bookmarks)})",
                         moments=len(bookmarks))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        options = dlg.options()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", tag).strip("-").lower() or "pattern"
    items = []
    for b in bookmarks:
        try:
            duration = capture.session(int(b.session_id)).duration_ms
        except KeyError:
            continue
        a, z = clip_window(duration, b.t_ms, before_ms=options.before_ms, after_ms=options.after_ms)
        name = f"{slug}-session-{b.session_id}-{int(b.t_ms)}ms.{options.fmt}"
        items.append({"session_id": int(b.session_id), "t_from_ms": a, "t_to_ms": z,
                      "out": str(Path(options.out) / name)})

    def done(result: dict) -> None:
        _status(parent, f"Saved {len(result['paths'])} clips of '{tag}' in {options.out}")
        if on_done is not None:
            on_done(result)

    return start_job(parent, _clip_spec(capture.path, items, options), title="Export clips",
                     text=f"Rendering {len(items)} clips of '{tag}'…", on_success=done)


def export_report(parent: QWidget | None, capture, path=None, *, options: dict | None = None,
                  on_done: Callable[[dict], None] | None = None):
    """File ▸ Export findings report…: one self-contained HTML file (``hindsight report``)."""
    if path is None:
        start = _default_folder(capture) / f"findings-{Path(capture.path).stem}.html"
        path, _ = QFileDialog.getSaveFileName(parent, "Export findings report", str(start), "Web page (*.html)")
        if not path:
            return None
        if not path.lower().endswith((".html", ".htm")):
            path += ".html"

    def done(result: dict) -> None:
        _status(parent, f"Saved the findings report {result['path']} ({result['bytes'] / 1e6:.1f} MB)")
        if on_done is not None:
            on_done(result)

    spec = {"kind": "report", "capture": str(capture.path), "out": str(path), "options": options or {}}
    return start_job(parent, spec, title="Export findings report", text="Making the findings report…",
                     on_success=done)


# -- wiring ------------------------------------------------------------------------------------
def _timeline_menu(main_window, pos) -> None:
    widget = main_window.player_view.timeline_widget
    capture = main_window.capture
    from hindsight_qt.views.qt_bookmarks_panel import _current_moment

    moment = _current_moment(main_window)
    if widget is None or capture is None or moment is None or widget.duration_ms <= 0:
        return
    t = float(widget._t_of(pos.x()))
    menu = QMenu(widget)
    act = menu.addAction(f"Export clip from here ({format_time(t)})…")
    sid = moment[0]

    def go() -> None:
        duration = capture.session(sid).duration_ms
        export_clip(main_window, capture, sid, t, min(duration, t + 2 * DEFAULT_AROUND_S * 1000))

    act.triggered.connect(go)
    menu.exec(widget.mapToGlobal(pos))


def install_share_actions(main_window) -> None:
    """File ▸ Export findings report…, Export clip… on bookmarks, patterns and the timeline."""
    def report() -> None:
        panel = main_window.bookmarks_panel
        if panel is not None:
            panel.flush()   # a hypothesis typed a moment ago goes into the report too
        if main_window.capture is not None:
            export_report(main_window, main_window.capture)

    action = QAction("Export findings report…", main_window)
    action.setToolTip("Patterns with hypotheses, ICE, sessions, clips, heatmaps and form figures in one HTML file")
    action.triggered.connect(report)
    main_window.report_action = action
    main_window.file_menu.insertAction(main_window.close_action, action)
    main_window.file_menu.insertSeparator(main_window.close_action)

    def sync(*_args) -> None:
        from hindsight.engine.on_dataset import UNAVAILABLE

        on_dataset = main_window.workspace.on_dataset   # the report reads a capture file
        action.setEnabled(main_window.capture is not None and not on_dataset)
        action.setToolTip(UNAVAILABLE["share"] if on_dataset else
                          "Patterns with hypotheses, ICE, sessions, clips, heatmaps and form figures in one HTML file")

    main_window.capture_did_open.connect(sync)
    main_window.capture_did_close.connect(sync)
    sync()

    panel = main_window.bookmarks_panel   # installed before us (PANEL_INSTALLERS order); None if it failed
    if panel is not None:
        panel.clip_requested.connect(lambda b: panel.capture is not None
                                     and export_bookmark_clip(main_window, panel.capture, b))

        def pattern_clips() -> None:
            tag = panel.selected_tag()
            if tag and panel.store is not None and panel.capture is not None:
                export_pattern_clips(main_window, panel.capture, panel.store, tag)

        export_menu = panel.export_button.menu()
        export_menu.addSeparator()
        export_menu.addAction("Clips of the selected pattern…", pattern_clips)
        export_menu.addAction("Findings report (.html)…", report)

    widget = main_window.player_view.timeline_widget   # None in the placeholder player
    if widget is not None:
        widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        widget.customContextMenuRequested.connect(lambda pos: _timeline_menu(main_window, pos))

"""A cancellable progress dialog bound to a ``tasks.Task``: import, demo generation, heatmaps.

``run_with_progress(parent, fn, on_success, ...)`` starts ``fn(report)`` with ``tasks.run`` and
shows the dialog. ``report(done, total, ...)`` makes the bar determinate; until then it is
busy. Cancel calls ``Task.cancel()`` (so ``report`` returns False and the work can stop
early), then keeps the dialog up, saying "Cancelling…", until the worker has really
stopped, so nothing is started on top of a half-cleaned-up job.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hindsight_qt import tasks


class TaskProgressDialog(QDialog):
    """Window-modal progress for one task: a title line, a bar, a detail line and Cancel.

    Emits ``cancelled`` once a cancelled task's worker has stopped (at once with
    ``wait_for_worker=False``, for work that writes nothing).
    """

    cancelled = Signal()

    def __init__(self, parent: QWidget | None, title: str, text: str, *, show_after_ms: int = 0,
                 wait_for_worker: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("TaskProgressDialog")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)
        self.setMinimumWidth(420)
        self.task: tasks.Task | None = None
        self.label = QLabel(text, self)
        self.label.setObjectName("ProgressText")
        bold = self.label.font()
        bold.setBold(True)
        self.label.setFont(bold)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)        # busy until the first report
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.detail = QLabel(" ", self)
        self.detail.setObjectName("Muted")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.buttons = QDialogButtonBox(self)
        self.cancel_button: QPushButton = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 14)
        layout.setSpacing(8)
        layout.addWidget(self.label)
        layout.addSpacing(2)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addSpacing(4)
        layout.addWidget(self.buttons)
        self._cancelling = False
        self._wait_for_worker = wait_for_worker
        self._poll = QTimer(self, interval=50)
        self._poll.timeout.connect(self._check_stopped)
        self._show_timer = QTimer(self, singleShot=True, interval=max(0, int(show_after_ms)))
        self._show_timer.timeout.connect(self._show_if_running)

    # -- binding ---------------------------------------------------------------------------
    def bind(self, task: tasks.Task) -> "TaskProgressDialog":
        """Follow ``task``: Cancel cancels it. Shows now, or after ``show_after_ms`` if still running."""
        self.task = task
        self._poll.start()   # also closes the dialog if someone else cancels the task
        if self._show_timer.interval() > 0:
            self._show_timer.start()
        else:
            self.show()
        return self

    def _show_if_running(self) -> None:
        if self.task is not None and not self.task.done and not self._cancelling:
            self.show()

    # -- progress --------------------------------------------------------------------------
    def set_progress(self, done: int, total: int, detail: str | None = None) -> None:
        """Determinate: ``done`` of ``total`` (a ``total`` of 0 or less keeps it busy)."""
        if self._cancelling:
            return
        if total > 0:
            self.bar.setRange(0, int(total))
            self.bar.setValue(max(0, min(int(done), int(total))))
        if detail is not None:
            self.detail.setText(detail)

    def set_busy(self, detail: str | None = None) -> None:
        self.bar.setRange(0, 0)
        if detail is not None:
            self.detail.setText(detail)

    def finish(self) -> None:
        """The task delivered (success or failure): close for good."""
        self._show_timer.stop()
        self._poll.stop()
        self.done(QDialog.DialogCode.Accepted)

    # -- cancelling ------------------------------------------------------------------------
    def cancel(self) -> None:
        """Cancel the task; the dialog stays up ("Cancelling…") until its worker stopped."""
        if self._cancelling:
            return
        self._cancelling = True
        if self.task is not None:
            self.task.cancel()
        self.cancel_button.setEnabled(False)
        self.bar.setRange(0, 0)
        self.detail.setText("Cancelling…")
        if not self._wait_for_worker:   # nothing to clean up: its result is simply dropped
            self._poll.stop()
            self._show_timer.stop()
            self._cancelling = False
            self.done(QDialog.DialogCode.Rejected)
            self.cancelled.emit()
            return
        self._check_stopped()

    @property
    def cancelling(self) -> bool:
        return self._cancelling

    def _check_stopped(self) -> None:
        if self.task is None or self.task.done:
            self._poll.stop()
            self._show_timer.stop()
            was_cancelling, self._cancelling = self._cancelling, False
            self.done(QDialog.DialogCode.Rejected)
            if was_cancelling:
                self.cancelled.emit()

    def reject(self) -> None:  # noqa: D102 - Escape and the close button cancel too
        self.cancel()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.task is not None and not self.task.done:
            event.ignore()
            self.cancel()
        else:
            super().closeEvent(event)


def run_with_progress(
    parent: QWidget | None,
    fn: Callable[[Callable[..., bool]], Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    title: str,
    text: str,
    describe: Callable[..., str | None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    show_after_ms: int = 0,
) -> tuple[tasks.Task, TaskProgressDialog]:
    """Run ``fn(report)`` on a worker with a ``TaskProgressDialog``.

    ``report(done, total, *extra)`` from the worker moves the bar (``describe(done, total,
    *extra)`` gives the detail line) and returns False once the user cancelled. The dialog
    closes before ``on_success`` / ``on_failure`` run; ``on_cancelled`` runs once a cancelled
    worker stopped.
    """
    dialog = TaskProgressDialog(parent, title, text, show_after_ms=show_after_ms)

    def progressed(done=0, total=0, *extra) -> None:
        dialog.set_progress(done, total, describe(done, total, *extra) if describe else None)

    def succeeded(result) -> None:
        dialog.finish()
        if on_success is not None:
            on_success(result)

    def failed(exc: BaseException) -> None:
        dialog.finish()
        if on_failure is not None:
            on_failure(exc)
        else:
            print(tasks.traceback_text(exc))

    task = tasks.run(fn, succeeded, failed, on_progress=progressed)
    if on_cancelled is not None:
        dialog.cancelled.connect(on_cancelled)
    dialog.bind(task)
    return task, dialog


def watch_task(parent: QWidget | None, task: tasks.Task, title: str, text: str, *, show_after_ms: int = 600,
               on_cancelled: Callable[[], None] | None = None) -> TaskProgressDialog:
    """A busy ``TaskProgressDialog`` for a task started elsewhere, shown only if it is still
    running after ``show_after_ms`` (slow work on big captures); it closes when the task is done.

    For read-only work: Cancel closes it at once and the task's result is dropped when it comes.
    """
    dialog = TaskProgressDialog(parent, title, text, show_after_ms=show_after_ms, wait_for_worker=False)
    dialog.detail.setText("Large captures take a moment.")
    if on_cancelled is not None:
        dialog.cancelled.connect(on_cancelled)
    return dialog.bind(task)

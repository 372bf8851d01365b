"""Run store and analytics calls off the GUI thread, with callbacks back on the GUI thread.

``run(fn, on_success, on_failure)`` is a small version of Anki's ``CollectionOp``:

* ``fn()`` runs on a ``QThreadPool`` worker. **It must never touch widgets** (or any
  QObject living on the GUI thread): it only computes and returns a value.
* ``on_success(result)`` or ``on_failure(exception)`` is then called on the GUI thread,
  where touching widgets is fine.
* With ``on_progress``, ``fn`` is called as ``fn(report)``; ``report(*args)`` may be called
  from the worker any number of times, ``on_progress(*args)`` runs on the GUI thread, and
  ``report`` returns False once the task was cancelled so ``fn`` can stop early.

``LatestOnly`` wraps ``run`` for a view that recomputes on every change: each ``submit``
cancels the previous task, so only the newest result reaches the view.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

_live: set["Task"] = set()   # keeps relays alive until their callbacks ran
_idle_callbacks: list[Callable[[], None]] = []



#: The worker-thread traceback of the exception a task failed with, by ``id`` (exceptions cannot
#: be weakly referenced); kept while its failure callbacks run, then dropped.
_TRACEBACKS: dict[int, str] = {}


def traceback_text(exc: BaseException) -> str:
    """The traceback a task's exception had on its worker thread (during its failure
    callbacks), or its repr."""
    return _TRACEBACKS.get(id(exc), repr(exc))

class _Relay(QObject):
    """Lives on the GUI thread; its signals, emitted on the worker, reach its slots queued."""

    succeeded = Signal(object)
    failed = Signal(object)
    progressed = Signal(object)

    def __init__(self, task: "Task") -> None:
        super().__init__()
        self._task = task
        self.succeeded.connect(self._on_succeeded)
        self.failed.connect(self._on_failed)
        self.progressed.connect(self._on_progressed)

    @Slot(object)
    def _on_succeeded(self, result) -> None:
        self._task._deliver_success(result)

    @Slot(object)
    def _on_failed(self, exc) -> None:
        self._task._deliver_failure(exc)

    @Slot(object)
    def _on_progressed(self, args) -> None:
        self._task._deliver_progress(args)


class Task(QRunnable):
    """A handle on one background call: ``cancel()`` it, or ask whether it is ``done``."""

    def __init__(self, fn, on_success, on_failure, on_progress) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (in ``_live``) until the callbacks ran
        self._fn = fn
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_progress = on_progress
        self.cancelled = False
        self.done = False
        self._relay = _Relay(self)

    def cancel(self) -> None:
        """Ask the task to stop; its callbacks will not be called."""
        self.cancelled = True

    # -- worker thread ---------------------------------------------------------------------
    def _emit(self, signal_name: str, value) -> None:
        relay = self._relay
        signal = {"progressed": relay.progressed, "failed": relay.failed, "succeeded": relay.succeeded}
        try:
            signal[signal_name].emit(value)
        except RuntimeError:
            pass  # the app is shutting down and took the relay with it: nobody to tell

    def _report(self, *args: Any) -> bool:
        if not self.cancelled:
            self._emit("progressed", args)
        return not self.cancelled

    def run(self) -> None:  # noqa: D102 - QRunnable entry point, on the worker thread
        from hindsight.engine.cancel import cancel_scope

        try:
            # Cluster work (a dataset's analyses) polls the flag: cancelling the task cancels its futures.
            with cancel_scope(lambda: self.cancelled):
                result = self._fn(self._report) if self._on_progress is not None else self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to on_failure on the GUI thread
            _TRACEBACKS[id(exc)] = traceback.format_exc()
            self._emit("failed", exc)
        else:
            self._emit("succeeded", result)

    # -- GUI thread ------------------------------------------------------------------------
    def _deliver_progress(self, args) -> None:
        if not self.cancelled and not self.done and self._on_progress is not None:
            self._on_progress(*args)

    def _deliver_success(self, result) -> None:
        self._finish()
        if not self.cancelled and self._on_success is not None:
            self._on_success(result)
        _maybe_idle()

    def _deliver_failure(self, exc) -> None:
        self._finish()
        try:
            if self.cancelled:
                pass
            elif self._on_failure is not None:
                self._on_failure(exc)
            else:
                print(traceback_text(exc))
        finally:
            _TRACEBACKS.pop(id(exc), None)
        _maybe_idle()

    def _finish(self) -> None:
        self.done = True
        _live.discard(self)


def run(
    fn: Callable[..., Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    on_progress: Callable[..., None] | None = None,
    pool: QThreadPool | None = None,
) -> Task:
    """Call ``fn`` on a worker thread; deliver its result or exception on the GUI thread.

    ``fn`` must never touch widgets. Call ``run`` from the GUI thread.
    """
    task = Task(fn, on_success, on_failure, on_progress)
    _live.add(task)
    (pool or QThreadPool.globalInstance()).start(task)
    return task


class LatestOnly:
    """One view's background computation where the latest request wins.

    ``submit(fn, on_result, on_failure)`` cancels the task submitted before (its callbacks
    will not run), runs ``fn`` with :func:`run` and delivers only the newest task's result or
    exception on the GUI thread. As with ``run``, ``fn`` **must never touch widgets**: copy what
    it needs from the view before submitting and return the result for ``on_result`` to show.
    """

    def __init__(self, pool: QThreadPool | None = None) -> None:
        self._pool = pool
        self._seq = 0
        self._task: Task | None = None

    def submit(
        self,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> Task:
        """Cancel the previous task and run ``fn``; only this latest one gets its callbacks."""
        self.cancel()
        self._seq += 1
        seq = self._seq

        def succeeded(result) -> None:
            if seq == self._seq:
                self._task = None
                on_result(result)

        def failed(exc: BaseException) -> None:
            if seq != self._seq:
                return
            self._task = None
            if on_failure is not None:
                on_failure(exc)
            else:
                print(traceback_text(exc))

        self._task = run(fn, succeeded, failed, pool=self._pool)
        return self._task

    def cancel(self) -> None:
        """Drop the running task, if any: its result will not be delivered."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def busy(self) -> bool:
        """True while a submitted task has not delivered yet (and was not cancelled)."""
        return self._task is not None


def active_count() -> int:
    """Tasks started and not yet delivered."""
    return len(_live)


def when_idle(callback: Callable[[], None]) -> None:
    """Call ``callback`` on the GUI thread once no task is running (now, if none is)."""
    if not _live:
        callback()
    else:
        _idle_callbacks.append(callback)


def _maybe_idle() -> None:
    if _live:
        return
    callbacks = list(_idle_callbacks)
    _idle_callbacks.clear()
    for cb in callbacks:
        cb()


def wait_all(timeout_ms: int = 30000) -> bool:
    """Block until the global pool's workers finished (tests, shutdown); True if they did."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)

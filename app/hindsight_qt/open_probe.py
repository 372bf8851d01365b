"""Measure the app opening a capture: ``python -m hindsight_qt.open_probe FILE [--settle] [--eager]``.

Run in a child process by ``hindsight bench`` (section ``app.open``), offscreen, with the window
built as the app builds it (``MainWindow(panels=True, lazy=True)``: the player and the panels'
contents right after the first paint; ``--eager`` builds everything first, as before). Prints one
JSON line: seconds from process start (the launcher's clock, else ``/proc``) to the first paint of a filled session table
(``seconds``; and ``open_seconds``, from ``open_capture`` in the already shown window to that
paint); ``complete_seconds``, process start to the whole window built (player, panels, menus:
``MainWindow.window_did_build``); peak RSS (``resource.getrusage``) at both moments and, with
``--settle``, after the frustration-signal index and the form report have also loaded. Without FILE it measures the
empty window (the baseline): its first paint, then its completion.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB


def _cpu() -> float:
    """CPU seconds of this process so far (all threads): on a loaded machine the wall time is not."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _process_start() -> float:
    """Wall-clock time the process was launched: the launcher's own clock just before it started
    the interpreter (``HINDSIGHT_PROBE_T0``, set by ``hindsight bench``), else when this process
    started (Linux /proc), else now."""
    launched = os.environ.get("HINDSIGHT_PROBE_T0")
    if launched:
        try:
            return float(launched)
        except ValueError:
            pass
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time()


def main(argv: list[str]) -> int:
    start = _process_start()
    path = next((a for a in argv if not a.startswith("--")), None)
    settle = "--settle" in argv
    eager = "--eager" in argv
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer

    from hindsight_qt.application import create_application
    from hindsight_qt.main_window import MainWindow

    app = create_application([sys.argv[0]])
    window = MainWindow(panels=True, lazy=not eager)
    window.resize(1280, 800)
    out: dict = {}
    done = [False]

    def finish() -> None:
        out["peak_rss_mb_settled"] = round(_rss_mb(), 1)
        out["cpu_seconds_settled"] = round(_cpu(), 3)
        print(json.dumps(out), flush=True)
        os._exit(0)

    def maybe_finish(*_args) -> None:
        # Done once the list (or the empty window) is painted, the window is complete and, with
        # --settle, the signal index is in.
        if done[0] or "seconds" not in out or not window.built():
            return
        if settle and path is not None and (window.session_list.signal_index is None or not report[0]):
            return
        done[0] = True
        QTimer.singleShot(0, finish)

    def built() -> None:
        out["complete_seconds"] = round(time.time() - start, 3)
        out["complete_cpu_seconds"] = round(_cpu(), 3)
        out["peak_rss_mb_complete"] = round(_rss_mb(), 1)
        maybe_finish()

    class PaintWatch(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and "seconds" not in out and (
                    window.session_list.model.rowCount() > 0 if path else obj is window):
                out["seconds"] = round(time.time() - start, 3)
                if path:   # the open alone, in the running app: File > Open to the painted list
                    out["open_seconds"] = round(time.time() - opened_at[0], 3)
                    out["open_cpu_seconds"] = round(_cpu() - opened_at[1], 3)
                out["cpu_seconds"] = round(_cpu(), 3)
                out["peak_rss_mb"] = round(_rss_mb(), 1)
                out["rows"] = window.session_list.model.rowCount()
                if eager:
                    built()
                QTimer.singleShot(0, maybe_finish)
            return False

    report = [False]   # the form report is in (the last background analysis)

    def report_loaded(*_args) -> None:
        report[0] = True
        QTimer.singleShot(0, maybe_finish)

    window.workspace.events.report_did_load.connect(report_loaded)
    window.window_did_build.connect(built)
    window.session_list.index_did_load.connect(lambda _index: QTimer.singleShot(0, maybe_finish))
    watch = PaintWatch()
    (window.session_list.view.viewport() if path else window).installEventFilter(watch)
    window.show()
    opened_at = [time.time(), _cpu()]
    if path:
        app.processEvents()   # the empty window is up: what follows is the open itself
        opened_at[:] = [time.time(), _cpu()]
        window.open_capture(path)
    window.finish_after_paint()   # as the app does (hindsight_qt.__main__)
    QTimer.singleShot(600_000, finish)
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))

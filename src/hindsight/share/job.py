"""Clips and reports for the desktop app, in a process of their own.

Rendering a clip drives an offscreen player (Qt widgets), which only the GUI thread of a
process may do; the app's GUI thread must stay responsive and its worker threads cannot make
widgets. So the app runs these jobs as ``hindsight __job SPEC`` (``python -m hindsight.cli
__job SPEC`` from source): SPEC is JSON; the child prints one JSON object per line on stdout
(``{"progress": [done, total, text]}``, then ``{"done": ...}``, ``{"error": "one line"}`` or
``{"cancelled": true}``) and stops cleanly when it reads ``cancel`` on stdin.

Jobs (``kind``):

* ``clips``: ``items`` = ``[{"session_id", "t_from_ms", "t_to_ms", "out"}, ...]`` with
  ``speed``, ``fps``, ``width``: every clip is rendered into a hidden folder beside the first
  target and moved into place only when all are done, so a cancel or a failure leaves none.
* ``report``: ``out`` and ``options`` (``hindsight.share.report.ReportOptions`` fields).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import sys
import tempfile
from pathlib import Path

JOB_COMMAND = "__job"


def job_command(spec: dict) -> list[str]:
    """The argv that runs ``spec`` in a child process (source tree or frozen app)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, JOB_COMMAND, json.dumps(spec)]
    return [sys.executable, "-m", "hindsight.cli", JOB_COMMAND, json.dumps(spec)]


def _say(**msg) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


class _Control:
    """Progress out on stdout, "cancel" in on stdin (polled without blocking)."""

    def __init__(self) -> None:
        self.cancelled = False
        try:
            self._fd = sys.stdin.fileno()
        except (OSError, ValueError, AttributeError):
            self._fd = None

    def poll(self) -> bool:
        if self.cancelled or self._fd is None:
            return not self.cancelled
        try:
            ready, _, _ = select.select([self._fd], [], [], 0)
        except (OSError, ValueError):
            return True
        if ready:
            line = os.read(self._fd, 256)
            if not line or b"cancel" in line:   # EOF: the app went away, stop too
                self.cancelled = True
        return not self.cancelled

    def progress(self, done: int, total: int, text: str = "") -> bool:
        _say(progress=[int(done), int(total), text])
        return self.poll()


def _clips(spec: dict, ctl: _Control) -> dict:
    from hindsight.share.clips import render_clip

    items = spec["items"]
    if not items:
        raise ValueError("no clips to render")
    targets = [Path(it["out"]) for it in items]
    folder = targets[0].parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {targets[0]}: folder {folder} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=".hindsight-clips-", dir=folder))
    frames = []
    try:
        n = len(items)
        for i, (it, target) in enumerate(zip(items, targets)):
            text = f"Clip {i + 1} of {n}: session {it['session_id']}" if n > 1 else f"Session {it['session_id']}"

            def report(done: int, total: int, i=i, text=text) -> bool:
                return ctl.progress(i * 1000 + 1000 * done // max(total, 1), n * 1000, text)

            info = render_clip(spec["capture"], int(it["session_id"]), float(it["t_from_ms"]), float(it["t_to_ms"]),
                               tmp / f"{i}{target.suffix}", speed=float(spec.get("speed", 2.0)),
                               fps=float(spec.get("fps", 15)), width=int(spec.get("width", 1280)),
                               caption=bool(spec.get("caption", True)), progress=report)
            frames.append(info.frames)
        for i, target in enumerate(targets):
            os.replace(tmp / f"{i}{target.suffix}", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"paths": [str(t) for t in targets], "frames": frames}


def _report(spec: dict, ctl: _Control) -> dict:
    from hindsight.share.report import ReportOptions, build_report

    info = build_report(spec["capture"], spec["out"], ReportOptions(**spec.get("options", {})), ctl.progress)
    return {"path": str(info.path), "bytes": info.bytes, "patterns": info.patterns, "clips": info.clips}


def main(argv: list[str]) -> int:
    """Run the job in ``argv[0]`` (JSON); exit 0 done, 2 error, 3 cancelled."""
    from hindsight.share.clips import ClipCancelled
    from hindsight.share.report import ReportCancelled

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # never a window, whatever the display
    ctl = _Control()
    try:
        spec = json.loads(argv[0])
        run = {"clips": _clips, "report": _report}[spec["kind"]]
        _say(done=run(spec, ctl))
        return 0
    except (ClipCancelled, ReportCancelled):
        _say(cancelled=True)
        return 3
    except Exception as exc:  # noqa: BLE001 - the app shows one line
        if ctl.cancelled:
            _say(cancelled=True)
            return 3
        _say(error=str(exc) or type(exc).__name__)
        return 2

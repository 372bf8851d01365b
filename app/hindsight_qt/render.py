"""Render one replay frame to a PNG without showing a window (``hindsight frame``, docs, tests).

The image is the whole ``QtPlayer`` (page with viewport, cursor and clicks, the timeline
with its markers and playhead, the controls and the session facts), because a still is
mostly used to share or file "look at this moment": the timeline says when it happened
and what else happened around it. ``part="canvas"`` gives the page view alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _ensure_app():
    """The running QApplication, or a new one (offscreen when there is no display)."""
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux") \
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "hindsight"])
        if app.platformName() == "offscreen":
            _quiet_offscreen_warnings()
    return app


def _quiet_offscreen_warnings() -> None:
    """Drop the offscreen plugin's "does not support propagateSizeHints()" notice (only ours)."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message):
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def render_frame_png(capture_path, session_id: int, at_ms: float, out_png,
                     size: tuple[int, int] = (1280, 800), part: str = "player",
                     view_mode: str = "follow") -> Path:
    """Write the replay of ``session_id`` at ``at_ms`` (ms since session start) as a PNG.

    ``size`` is the image size in pixels (width, height); ``part`` is "player" (default) or
    "canvas"; ``view_mode`` is "follow" (the visitor's viewport) or "page" (whole page).
    Raises ``CaptureError`` for an unusable file and ``KeyError`` for an unknown session.
    """
    if part not in ("player", "canvas"):
        raise ValueError(f"part must be 'player' or 'canvas', not {part!r}")
    app = _ensure_app()
    from PySide6.QtCore import Qt

    import hindsight_qt.views  # noqa: F401 - applies the PySide6 refcount guard
    from hindsight.store import open_capture
    from hindsight_qt.views.qt_player import QtPlayer

    width, height = int(size[0]), int(size[1])
    out_png = Path(out_png)
    with open_capture(capture_path) as cap:
        player = QtPlayer()
        try:
            player.setAttribute(Qt.WA_DontShowOnScreen, True)
            player.resize(width, height)
            player.show()
            player.load_session(cap, int(session_id), at_ms=at_ms, autoplay=False)
            player.canvas.set_view_mode(view_mode)
            app.processEvents()
            player.canvas.settle()
            app.processEvents()
            error = player.canvas.image_error
            if error is not None:   # a damaged screenshot: one line, not a still over a blank page
                from hindsight.store import CaptureError

                raise error if isinstance(error, CaptureError) else \
                    CaptureError(capture_path, "is damaged: a snapshot's screenshot cannot be decoded")
            widget = player if part == "player" else player.canvas
            pixmap = widget.grab()
            image = pixmap.toImage()
            if part == "player" and (image.width(), image.height()) != (width, height):
                # high-DPI screens grab at device pixels: deliver the size asked for
                image = image.scaled(width, height, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
            if not image.save(str(out_png), "PNG"):
                raise OSError(f"cannot write {out_png}")
        finally:
            player.close()
            player.deleteLater()
            app.processEvents()
    return out_png

"""Render replay frames without showing a window: ``hindsight frame`` (one PNG) and the frames
of ``hindsight clip`` (``hindsight.share.clips``), both through one ``FrameGrabber``.

A still is the whole ``QtPlayer`` by default (page with viewport, cursor and clicks, the
timeline with its markers and playhead, the controls and the session facts), because a still
is mostly used to share or file "look at this moment": the timeline says when it happened and
what else happened around it. ``part="canvas"`` gives the page view alone; ``part="clip"`` the
page view with the hesitation banner and a caption, painted frame after frame into one buffer.
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


class FrameGrabber:
    """One offscreen ``QtPlayer`` built once, then stepped through moments of a session.

    ``hindsight frame`` grabs one moment, ``hindsight clip`` (``hindsight.share.clips``) many:
    both go through here, so a clip's frame is the still of the same moment. Widgets are
    created in the constructor only; ``image_at`` seeks the player and paints.

    part : "player" (page, timeline, controls; ``size`` is the whole player), "canvas" (the
        page view alone, filling ``size``) or "clip" (the page view filling ``size``, the
        hesitation banner painted over its top while a hesitation lasts, and a caption strip
        of ``caption_h`` px under it with session, page and time)
    size : (width, height) px of the page view ("canvas", "clip") or of the player
    Must run on the Qt GUI thread (it makes widgets). Use as a context manager or ``close()``.
    """

    def __init__(self, capture_path, session_id: int, size: tuple[int, int] = (1280, 800),
                 part: str = "player", view_mode: str = "follow", caption_h: int = 0,
                 at_ms: float = 0.0) -> None:
        if part not in ("player", "canvas", "clip"):
            raise ValueError(f"part must be 'player', 'canvas' or 'clip', not {part!r}")
        self.app = _ensure_app()
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QImage

        from hindsight_qt.pyside_guard import guard_none_refcount

        guard_none_refcount()   # importing views no longer applies it (no side effects on import)
        from hindsight.engine.session_source import open_session_source as open_capture
        from hindsight_qt.views.qt_player import QtPlayer

        self.part = part
        self.session_id = int(session_id)
        self.view_size = (int(size[0]), int(size[1]))
        self.caption_h = int(caption_h) if part == "clip" else 0
        self._cap = open_capture(capture_path)
        self.player = None
        try:
            self._cap.session(self.session_id)  # KeyError before any widget exists
            player = QtPlayer()
            self.player = player
            player.setAttribute(Qt.WA_DontShowOnScreen, True)
            if part != "player":
                # the page view alone fills the size asked for (no overlay bar, no controls)
                player.overlay_bar.hide()
                player.chrome.hide()
            player.resize(*self.view_size)
            player.show()
            player.load_session(self._cap, self.session_id, at_ms=at_ms, autoplay=False)
            player.canvas.set_view_mode(view_mode)
            self.app.processEvents()
            player.canvas.settle()
            self.app.processEvents()
            error = player.canvas.image_error
            if error is not None:   # a damaged screenshot: one line, not frames over a blank page
                from hindsight.store import CaptureError

                raise error if isinstance(error, CaptureError) else \
                    CaptureError(capture_path, "is damaged: a snapshot's screenshot cannot be decoded")
        except BaseException:
            self.close()
            raise
        w, h = self.view_size
        # one buffer, painted in place every frame (no per-frame allocation, no PNG round trip)
        self._image = QImage(w, h + self.caption_h, QImage.Format_RGB32)
        self._hesitation = None
        #: what the buffer shows (``_drawn_state``), and whether the last ``image_at`` repainted it
        self._last_drawn: tuple | None = None
        self.changed = True

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the images ``image_at`` returns (for "player": as grabbed)."""
        return self._image.width(), self._image.height()

    def __enter__(self) -> "FrameGrabber":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        player, self.player = self.player, None
        if player is not None:
            player.close()
            player.deleteLater()
            self.app.processEvents()
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.close()

    # -- stepping ------------------------------------------------------------------------
    def _seek(self, t_ms: float) -> None:
        player = self.player
        if player.player.t_ms != float(t_ms):
            player.player.seek(float(t_ms))
        if self.part == "clip":
            h = self._hesitation_at(player.player.t_ms)
            if h is not self._hesitation:
                self._hesitation = h
                player.canvas.set_hesitation(h)
        player.canvas.settle()  # a still shows where the easing view is heading

    def _hesitation_at(self, t_ms: float):
        for h in self.player.player.hesitations:
            if h.start_ms <= t_ms < h.end_ms:
                return h
            if h.start_ms > t_ms:
                break
        return None

    def image_at(self, t_ms: float):
        """The QImage at ``t_ms`` (ms since session start). For "canvas" and "clip" it is one
        buffer repainted by the next call: copy it to keep it."""
        from PySide6.QtCore import QPoint, Qt

        self._seek(t_ms)
        player = self.player
        if self.part == "player":
            width, height = self.view_size
            image = player.grab().toImage()
            if (image.width(), image.height()) != (width, height):
                # high-DPI screens grab at device pixels: deliver the size asked for
                image = image.scaled(width, height, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
            return image
        from PySide6.QtGui import QPainter

        # Nothing moved (a still cursor, a reading pause; often a third of a clip): the picture
        # in the buffer is already this one, and painting is most of a clip's cost.
        drawn = self._drawn_state()
        self.changed = drawn != self._last_drawn
        if not self.changed:
            return self._image
        painter = QPainter(self._image)
        try:
            player.canvas.render(painter, QPoint(0, 0))
            if self.part == "clip":
                if self._hesitation is not None:
                    self._paint_banner(painter, self._hesitation)
                if self.caption_h:
                    self._paint_caption(painter, *self._caption_texts())
        finally:
            painter.end()
        self._last_drawn = drawn
        return self._image

    def _drawn_state(self) -> tuple:
        """Everything the page view and the clip decorations draw, apart from the time itself."""
        import dataclasses

        frame = self.player.player.frame()
        canvas = self.player.canvas
        still = dataclasses.replace(frame, t_ms=0) if frame is not None else None
        toast = canvas.toast_item.text if canvas.toast_item.isVisible() else None
        return (still, self._hesitation, toast, self._caption_texts() if self.caption_h else None)

    def array_at(self, t_ms: float):
        """(h, w, 4) uint8 BGRA view of ``image_at(t_ms)``'s pixels (valid until the next call)."""
        import numpy as np

        image = self.image_at(t_ms)
        if image.format() != image.Format.Format_RGB32:
            image = image.convertToFormat(image.Format.Format_RGB32)
        h, bpl = image.height(), image.bytesPerLine()
        buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
        return buf[:, : image.width() * 4].reshape(h, image.width(), 4)

    # -- clip decorations ------------------------------------------------------------------
    def _paint_banner(self, painter, hesitation) -> None:
        """The player's amber hesitation banner, over the top of the page view."""
        from PySide6.QtCore import QRectF, Qt
        from PySide6.QtGui import QColor, QFont

        w = self.view_size[0]
        px = max(13, round(w / 90))
        h = round(px * 2.4)
        painter.fillRect(QRectF(0, 0, w, h), QColor("#f5a524"))
        font = QFont()
        font.setPixelSize(px)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#1c1402"))
        painter.drawText(QRectF(px, 0, w - 2 * px, h), Qt.AlignLeft | Qt.AlignVCenter,
                         hesitation.describe())

    def _caption_texts(self) -> tuple[str, str]:
        """(left, right) of the caption: session and page, and the time."""
        from hindsight_qt.views.qt_timeline import format_ms

        player = self.player
        frame = player.player.frame()
        names = player._page_names
        i = frame.pageview_index if frame is not None else -1
        page = f"page {i + 1} of {len(names)}: {names[i]}" if 0 <= i < len(names) else "before the first page"
        t = frame.t_ms if frame is not None else player.player.t_ms
        return (f"Session #{self.session_id}  ·  {page}",
                f"{format_ms(t)} / {format_ms(player.timeline.duration_ms)}")

    def _paint_caption(self, painter, left: str, right: str) -> None:
        """The strip under the page: session and page on the left, time on the right."""
        from PySide6.QtCore import QRectF, Qt
        from PySide6.QtGui import QColor, QFont

        w, top, h = self.view_size[0], self.view_size[1], self.caption_h
        painter.fillRect(QRectF(0, top, w, h), QColor("#23262c"))
        font = QFont()
        font.setPixelSize(max(11, round(h * 0.5)))
        painter.setFont(font)
        pad = round(h * 0.45)
        box = QRectF(pad, top, w - 2 * pad, h)
        painter.setPen(QColor("#e6e8eb"))
        painter.drawText(box, Qt.AlignRight | Qt.AlignVCenter, right)
        room = box.width() - painter.fontMetrics().horizontalAdvance(right) - 2 * pad
        painter.drawText(box, Qt.AlignLeft | Qt.AlignVCenter,
                         painter.fontMetrics().elidedText(left, Qt.ElideRight, max(int(room), 0)))


def open_frame_grabber(capture_path, session_id: int, size: tuple[int, int], part: str = "clip",
                       view_mode: str = "follow", caption_h: int = 0, at_ms: float = 0.0) -> FrameGrabber:
    """A ``FrameGrabber`` (the ``hindsight.gui`` entry point the core's clip export uses)."""
    return FrameGrabber(capture_path, session_id, size=size, part=part, view_mode=view_mode,
                        caption_h=caption_h, at_ms=at_ms)


def render_frame_png(capture_path, session_id: int, at_ms: float, out_png,
                     size: tuple[int, int] = (1280, 800), part: str = "player",
                     view_mode: str = "follow") -> Path:
    """Write the replay of ``session_id`` at ``at_ms`` (ms since session start) as a PNG.

    ``size`` is the image size in pixels (width, height); ``part`` is "player" (default) or
    "canvas" (the page view alone, filling ``size``); ``view_mode`` is "follow" (the
    visitor's viewport) or "page" (whole page).
    Raises ``CaptureError`` for an unusable file and ``KeyError`` for an unknown session.
    """
    if part not in ("player", "canvas"):
        raise ValueError(f"part must be 'player' or 'canvas', not {part!r}")
    out_png = Path(out_png)
    with FrameGrabber(capture_path, session_id, size=size, part=part, view_mode=view_mode,
                      at_ms=at_ms) as grabber:
        image = grabber.image_at(grabber.player.player.t_ms)
        if not image.save(str(out_png), "PNG"):
            raise OSError(f"cannot write {out_png}")
    return out_png

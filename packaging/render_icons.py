"""Render the app icon ``resources/icons/hindsight.svg`` to the platform icon files in packaging/.

Writes ``linux/icons/io.hindsight.Hindsight-{48,128,256}.png``, ``windows/hindsight.ico`` and
``macos/hindsight.icns``. Run after changing the SVG (needs PySide6 and Pillow):
``python packaging/render_icons.py``. The outputs are committed; builds do not re-render.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
SVG = HERE.parent / "resources" / "icons" / "hindsight.svg"
APP_ID = "io.hindsight.Hindsight"


def render(size: int) -> Image.Image:
    """The SVG drawn at ``size`` x ``size`` px with Qt's SVG renderer, as RGBA."""
    from PySide6.QtCore import QBuffer, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        sys.exit(f"render_icons: cannot read {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return Image.open(io.BytesIO(bytes(buf.data()))).convert("RGBA")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QPainter needs it
    linux = HERE / "linux" / "icons"
    linux.mkdir(parents=True, exist_ok=True)
    for size in (48, 128, 256):
        render(size).save(linux / f"{APP_ID}-{size}.png", optimize=True)
    big = render(1024)
    (HERE / "windows").mkdir(exist_ok=True)
    big.save(HERE / "windows" / "hindsight.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64),
                                                       (128, 128), (256, 256)])
    (HERE / "macos").mkdir(exist_ok=True)
    big.save(HERE / "macos" / "hindsight.icns")
    print(f"rendered {SVG.name} to {linux}, windows/hindsight.ico, macos/hindsight.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Create and configure the QApplication: names for QSettings, theme, icon; pyqtgraph's options
(``configure_pyqtgraph``) once its first plot is built, not at start-up (its import alone is a
quarter of the window's start)."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from hindsight import __version__
from hindsight_qt.resources import read_text, resource_path
from hindsight_qt.settings import APPLICATION, ORGANIZATION

#: The one accent colour of the theme (kept in sync with resources/styles/app.qss).
ACCENT = "#7C5CFF"

# Preferred UI fonts when the platform default is a bare fallback (e.g. DejaVu on minimal Linux).
_UI_FONTS = ("Inter", "Segoe UI", "SF Pro Text", "Cantarell", "Noto Sans", "Ubuntu",
             "Liberation Sans", "Arimo", "DejaVu Sans")


def _light_palette() -> QPalette:
    pal = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#F5F6F8",
        QPalette.ColorRole.WindowText: "#1F2430",
        QPalette.ColorRole.Base: "#FFFFFF",
        QPalette.ColorRole.AlternateBase: "#F8F9FB",
        QPalette.ColorRole.Text: "#1F2430",
        QPalette.ColorRole.Button: "#FFFFFF",
        QPalette.ColorRole.ButtonText: "#1F2430",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#FFFFFF",
        QPalette.ColorRole.ToolTipBase: "#1F2430",
        QPalette.ColorRole.ToolTipText: "#FFFFFF",
        QPalette.ColorRole.PlaceholderText: "#8A91A0",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.Mid: "#D9DCE3",
        QPalette.ColorRole.Midlight: "#E6E8ED",
        QPalette.ColorRole.Light: "#FFFFFF",
        QPalette.ColorRole.Dark: "#B8BDC8",
    }
    for role, value in colors.items():
        pal.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#A4AAB6"))
    return pal


def _pick_font(app: QApplication) -> None:
    font = app.font()
    if font.family() not in ("DejaVu Sans", "Sans Serif", "Helvetica"):
        return  # a real desktop font: keep the user's choice
    available = set(QFontDatabase.families())
    for family in _UI_FONTS:
        if family in available:
            chosen = QFont(family, max(font.pointSize(), 10))
            chosen.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
            app.setFont(chosen)
            return


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once and configured; later calls return the same instance."""
    QApplication.setOrganizationName(ORGANIZATION)
    QApplication.setApplicationName(APPLICATION)
    QApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("io.hindsight.Hindsight")
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    from hindsight_qt.pyside_guard import guard_none_refcount

    guard_none_refcount()   # before any real work (see there)

    if "pyqtgraph" in sys.modules:   # already imported by the caller: configure it now
        configure_pyqtgraph()
    apply_theme(app)
    return app


def configure_pyqtgraph() -> None:
    """pyqtgraph's global options for this app (row-major images, antialiased lines). Imports
    pyqtgraph, so the window calls it just before it builds its first plot (the player), after
    the session list is on screen; idempotent."""
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


def apply_theme(app: QApplication) -> None:
    """Fusion + a light palette with one accent colour, then ``resources/styles/app.qss``."""
    app.setStyle("Fusion")
    app.setPalette(_light_palette())
    _pick_font(app)
    app.setWindowIcon(QIcon(str(resource_path("icons/hindsight.svg"))))
    # url() in the style sheet is relative to the working directory: point it at resources/.
    qss = read_text("styles/app.qss").replace("@resources@", resource_path("").as_posix().rstrip("/"))
    app.setStyleSheet(qss)

"""The window at common screen sizes: no text clipped in any tab, and heatmaps shown full size
(issue 13, defect 2)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QToolButton,
    QWidget,
)

from hindsight_qt import tasks

LOAD_TIMEOUT = 20_000


@pytest.fixture
def app_window(qtbot, settings):
    from hindsight_qt.main_window import MainWindow

    win = MainWindow(settings, panels=True)
    qtbot.addWidget(win)
    yield win
    win.close()
    tasks.wait_all(20_000)


def settle(qtbot, ms: int = 150) -> None:
    for _ in range(3):
        tasks.wait_all(20_000)
        QApplication.processEvents()
        qtbot.wait(ms // 3)


def open_at(qtbot, win, demo_master, width: int, height: int) -> None:
    win.resize(width, height)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert win.open_capture(demo_master)
    settle(qtbot)


def text_room(w) -> tuple[str, int]:
    """(text shown, width it has) of a text-bearing widget."""
    if isinstance(w, (QCheckBox, QRadioButton)):
        opt = QStyleOptionButton()
        w.initStyleOption(opt)
        element = (QStyle.SubElement.SE_CheckBoxContents if isinstance(w, QCheckBox)
                   else QStyle.SubElement.SE_RadioButtonContents)
        return w.text().replace("&", ""), w.style().subElementRect(element, opt, w).width()
    if isinstance(w, QComboBox):
        return w.currentText(), w.width()
    if isinstance(w, QLabel):
        text = w.text()
        if w.textFormat() == Qt.TextFormat.RichText or (w.textFormat() == Qt.TextFormat.AutoText and "<" in text):
            doc = QTextDocument()
            doc.setHtml(text)
            text = doc.toPlainText()
        return text, w.contentsRect().width() - 2 * w.margin()
    return w.text().replace("&", ""), w.width()


def on_screen(w) -> bool:
    """False for a widget in a dock waiting behind another tab (Qt still calls it visible)."""
    from PySide6.QtWidgets import QDockWidget

    from hindsight_qt.main_window import _on_screen

    p = w
    while p is not None:
        if isinstance(p, QDockWidget):
            return _on_screen(p)
        p = p.parentWidget()
    return True


def clipped_widgets(win) -> list[str]:
    out = []
    for w in win.findChildren(QWidget):
        if not isinstance(w, (QLabel, QCheckBox, QRadioButton, QPushButton, QComboBox, QToolButton)):
            continue
        if not w.isVisible() or w.width() <= 1 or not on_screen(w):
            continue
        if isinstance(w, QLabel) and (w.wordWrap() or w.pixmap() is not None and not w.pixmap().isNull()):
            continue
        text, room = text_room(w)
        text = text.strip()
        if not text or "\n" in text:
            continue
        need = w.fontMetrics().horizontalAdvance(text)
        if need > room:
            out.append(f"{type(w).__name__} {w.objectName() or ''} {text!r}: needs {need} px, has {room}")
    return out


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_no_text_is_clipped_in_any_tab(qtbot, app_window, demo_master, size):
    win = app_window
    open_at(qtbot, win, demo_master, *size)
    problems = {}
    for dock in [win.sessions_dock, *win.panels()]:
        dock.raise_()
        settle(qtbot, 300)
        # The window still fits the screen: no minimum size pushed it wider or taller.
        assert (win.width(), win.height()) == size, dock.windowTitle()
        found = clipped_widgets(win)
        if found:
            problems[dock.windowTitle()] = found
    assert problems == {}, "\n".join(f"{tab}: {p}" for tab, found in problems.items() for p in found)


def heatmap_dock(win):
    return next(d for d in win.panels() if d.windowTitle() == "Heatmap")


@pytest.mark.parametrize("size", [(1600, 1000), (2560, 1440)])
def test_heatmap_tab_shows_the_map_full_size_with_hot_spots_beside_it(qtbot, app_window, demo_master, size):
    win = app_window
    open_at(qtbot, win, demo_master, *size)
    dock = heatmap_dock(win)
    panel = dock.widget()
    with qtbot.waitSignal(panel.heatmap_updated, timeout=LOAD_TIMEOUT):
        dock.raise_()
    settle(qtbot, 300)
    assert win.heatmap_full_size()
    central = win.centralWidget()
    view, hot = panel.view, panel.hotspot_table
    assert central.isAncestorOf(view) and central.isAncestorOf(hot)
    # The map takes (nearly) the central area's height: it grows with the screen.
    assert view.height() >= central.height() - 40
    assert view.height() >= size[1] - 200
    # The hot spot list is beside the map, on screen (not below the fold).
    v = view.mapTo(win, view.rect().topLeft())
    h = hot.mapTo(win, hot.rect().topLeft())
    assert h.x() >= v.x() + view.width() - 1
    assert h.y() + 100 < win.height() and hot.height() >= 300
    # A hot spot's replay brings the player back; the tab offers the full size again.
    sid = int(win.capture.session_ids()[0])
    win.workspace.request_replay(sid, 0)
    settle(qtbot)
    assert not win.heatmap_full_size() and win.player_view.isVisible()
    assert panel.isAncestorOf(view) and panel.full_view_button.isVisible()
    panel.full_view_button.click()
    settle(qtbot)
    assert win.heatmap_full_size() and central.isAncestorOf(view)
    # Another tab in front: the player is back, the map in its panel.
    win.sessions_dock.raise_()
    settle(qtbot, 300)
    assert not win.heatmap_full_size() and panel.isAncestorOf(view)

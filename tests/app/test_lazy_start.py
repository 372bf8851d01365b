"""The app's lazy start (``MainWindow(panels=True, lazy=True)``, as ``hindsight FILE`` builds it):
the session list is painted before the player and the panels' contents are built, and once built
the window is the one an eager start gives (docks, tabs, menus, shortcuts, the cued session)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from hindsight_qt import tasks
from hindsight_qt.settings import Settings


def _settings(tmp_path, name: str) -> Settings:
    return Settings(QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat))


def _window(qtbot, settings, lazy: bool):
    from hindsight_qt.main_window import MainWindow

    win = MainWindow(settings, panels=True, lazy=lazy)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def _close(win) -> None:
    win.close()
    tasks.wait_all(30_000)


class _Order(QObject):
    """Records, in order, the list's paints with rows and the window's completion."""

    def __init__(self, win) -> None:
        super().__init__()
        self.win, self.seen = win, []
        win.window_did_build.connect(lambda: self.seen.append("built"))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and self.win.session_list.model.rowCount() > 0:
            self.seen.append("list painted" if not self.win.built() else "list repainted")
        return False


def _layout(win) -> dict:
    """What the user sees of the window's structure: docks (area, tab group, shown), menus."""
    docks = [d for d in win.findChildren(QDockWidget) if d.parent() is win]
    tabs = {d.windowTitle(): sorted(t.windowTitle() for t in win.tabifiedDockWidgets(d)) for d in docks}
    menus = {}
    for menu_action in win.menuBar().actions():
        menu = menu_action.menu()
        menus[menu.title()] = [(a.text(), a.shortcut().toString(), a.isSeparator(), a.isEnabled())
                               for a in menu.actions()]
    return {
        "docks": sorted((d.objectName(), d.windowTitle(), int(win.dockWidgetArea(d).value), d.isHidden(),
                         type(d.widget()).__name__) for d in docks),
        "tabs": tabs,
        "menus": menus,
        "central": type(win.stack.currentWidget()).__name__,
        "title": win.windowTitle(),
        "status": [label.text() for label in (win.status_file, win.status_sessions, win.status_events)],
        "window_actions": sorted((a.text(), a.shortcut().toString()) for a in win.actions()),
    }


def test_the_list_is_painted_before_the_player_and_panels_are_built(qtbot, tmp_path, demo_master):
    win = _window(qtbot, _settings(tmp_path, "lazy"), lazy=True)
    # At once: the menus and every dock (tabs, View menu entries), without their contents.
    assert not win.built()
    titles = [d.windowTitle() for d in win.panels()]
    assert titles == ["Funnel", "Heatmap", "Signals", "Forms", "Bookmarks"]
    assert {type(d.widget()).__name__ for d in win.panels()} == {"QWidget"}   # placeholders
    view_entries = [a.text() for a in win.view_menu.actions() if not a.isSeparator()]
    assert view_entries == ["Sessions", *titles]
    order = _Order(win)
    win.session_list.view.viewport().installEventFilter(order)
    with qtbot.waitSignal(win.window_did_build, timeout=60_000):
        assert win.open_capture(demo_master)
    # The list was on screen (painted with its rows) before the rest of the window was built.
    # (The build runs in steps, one per event-loop turn: the list may paint again between them.)
    assert order.seen[0] == "list painted" and "built" in order.seen[1:], order.seen
    assert win.session_list.row_count() == 300
    # Then the window is complete: the player with the newest session cued, the real panels,
    # what the panels' installers add, the capture in the recent files.
    assert type(win.player_view).__name__ == "QtPlayer"
    assert win.stack.currentWidget() is win.player_view
    first = win.session_list.model.session_id_at(0)
    assert win.current_session_id == first and win.player_view.session_id == first
    assert not win.player_view.player.playing
    assert [type(d.widget()).__name__ for d in win.panels()] == [
        "QtFunnelPanel", "QtHeatmapPanel", "QtSignalsPanel", "QtFormsPanel", "QtBookmarksPanel"]
    assert not win.findChildren(QObject, "PanelPlaceholder")
    assert win.bookmark_action is not None and win.bookmark_action.shortcut().toString() == "B"
    assert "Export findings report…" in [a.text() for a in win.file_menu.actions()]
    assert win.settings.recent_files()[0] == str(demo_master)
    # The background analyses started after the build: the signal index arrives.
    if win.session_list.signal_index is None:
        with qtbot.waitSignal(win.session_list.index_did_load, timeout=60_000):
            pass
    assert win.workspace.signal_index is not None
    _close(win)


def test_once_built_a_lazy_window_is_the_eager_one(qtbot, tmp_path, demo_master):
    eager = _window(qtbot, _settings(tmp_path, "eager"), lazy=False)
    assert eager.built()
    with qtbot.waitSignal(eager.session_list.table_did_load, timeout=60_000):
        eager.open_capture(demo_master)
    qtbot.wait(50)
    lazy = _window(qtbot, _settings(tmp_path, "lazy"), lazy=True)
    with qtbot.waitSignal(lazy.window_did_build, timeout=60_000):
        lazy.open_capture(demo_master)
    qtbot.wait(50)
    want, got = _layout(eager), _layout(lazy)
    assert got == want
    assert lazy.current_session_id == eager.current_session_id is not None
    # The same sizes: the Sessions dock and the player share the window alike.
    assert lazy.sessions_dock.width() == eager.sessions_dock.width()
    assert lazy.player_view.width() == eager.player_view.width()
    _close(eager)
    _close(lazy)


def test_a_saved_layout_comes_back_in_a_lazy_window(qtbot, tmp_path, demo_master):
    settings = _settings(tmp_path, "saved")
    first = _window(qtbot, settings, lazy=False)
    with qtbot.waitSignal(first.session_list.table_did_load, timeout=60_000):
        first.open_capture(demo_master)
    heatmap = next(d for d in first.panels() if d.windowTitle() == "Heatmap")
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, heatmap)   # the user moved it
    qtbot.wait(20)
    _close(first)
    again = _window(qtbot, settings, lazy=True)
    with qtbot.waitSignal(again.window_did_build, timeout=60_000):
        again.open_capture(demo_master)
    heatmap = next(d for d in again.panels() if d.windowTitle() == "Heatmap")
    assert again.dockWidgetArea(heatmap) == Qt.DockWidgetArea.RightDockWidgetArea
    assert type(heatmap.widget()).__name__ == "QtHeatmapPanel"
    funnel = next(d for d in again.panels() if d.windowTitle() == "Funnel")
    assert again.dockWidgetArea(funnel) == Qt.DockWidgetArea.LeftDockWidgetArea
    _close(again)


def test_a_key_before_the_build_is_handled_at_once(qtbot, tmp_path, demo_master):
    """Shortcuts work at once: a player key that arrives before the build builds the window
    first, and the open still cues its newest session (paused); the next Space plays it."""
    win = _window(qtbot, _settings(tmp_path, "keys"), lazy=True)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=10_000)   # keys go to the focus widget
    assert win.open_capture(demo_master)
    assert not win.built()   # the list is still loading
    view = win.session_list.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)   # the player's key, from the session table
    assert win.built()
    assert type(win.player_view).__name__ == "QtPlayer"
    qtbot.waitUntil(lambda: win.current_session_id is not None, timeout=60_000)
    assert win.current_session_id == win.session_list.model.session_id_at(0)
    core = win.player_view.player
    assert not core.playing
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert core.playing
    _close(win)


def test_without_a_capture_the_window_completes_after_its_first_paint(qtbot, tmp_path):
    win = _window(qtbot, _settings(tmp_path, "empty"), lazy=True)
    assert not win.built()
    with qtbot.waitSignal(win.window_did_build, timeout=60_000):
        win.finish_after_paint()
    assert type(win.player_view).__name__ == "QtPlayer"
    assert win.stack.currentWidget() is win.welcome
    assert all(d.isHidden() for d in win.panels())   # the welcome page hides the docks
    _close(win)


def test_a_panel_that_fails_leaves_no_empty_tab(qtbot, tmp_path, monkeypatch, demo_master):
    from hindsight_qt import main_window

    def broken():
        raise ImportError("no such panel in this build")

    monkeypatch.setattr(main_window, "PANELS", (*main_window.PANELS[:2], ("Broken", broken),
                                                *main_window.PANELS[2:]))
    win = _window(qtbot, _settings(tmp_path, "broken"), lazy=True)
    assert "Broken" in [d.windowTitle() for d in win.panels()]   # reserved at once
    with qtbot.waitSignal(win.window_did_build, timeout=60_000):
        win.open_capture(demo_master)
    assert [d.windowTitle() for d in win.panels()] == ["Funnel", "Heatmap", "Signals", "Forms", "Bookmarks"]
    assert "Broken" not in [a.text() for a in win.view_menu.actions()]
    assert not [d for d in win.findChildren(QDockWidget) if d.windowTitle() == "Broken" and not d.isHidden()]
    _close(win)


def test_the_app_entry_point_builds_lazily(qtbot, monkeypatch, demo_master):
    """``hindsight FILE``: the lazy window, the capture opened once the event loop runs."""
    from hindsight_qt import __main__ as entry
    from hindsight_qt import application

    # The test process's QApplication as it is (the app's theme would restyle later tests).
    monkeypatch.setattr(application, "create_application", lambda argv=None: QApplication.instance())
    made = []
    monkeypatch.setattr(QApplication, "exec", lambda *a: made.append(
        next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible())) or 0)
    assert entry.main([str(demo_master)]) == 0
    win = made[0]
    qtbot.addWidget(win)
    assert not win.built()
    with qtbot.waitSignal(win.window_did_build, timeout=60_000):
        pass   # the 0-timer opens the capture, its list paints, then the rest is built
    assert win.capture is not None and win.session_list.row_count() == 300
    _close(win)


def test_the_list_is_first_painted_at_the_width_it_keeps(qtbot, tmp_path, demo_master):
    """The player's place has the player's size hints (as last built, kept in the settings), so
    the Sessions dock does not change width when the player arrives."""
    settings = _settings(tmp_path, "widths")
    first = _window(qtbot, settings, lazy=True)
    with qtbot.waitSignal(first.window_did_build, timeout=60_000):
        first.open_capture(demo_master)
    hints = settings.player_size_hints()
    player = first.player_view
    assert hints == (player.sizeHint().width(), player.sizeHint().height(),
                     player.minimumSizeHint().width(), player.minimumSizeHint().height())
    _close(first)
    again = _window(qtbot, settings, lazy=True)
    seen = []
    again.session_list.table_did_load.connect(
        lambda _rows: seen.append((again.built(), again.sessions_dock.width(), again.stack.width())))
    with qtbot.waitSignal(again.window_did_build, timeout=60_000):
        again.open_capture(demo_master)
    qtbot.wait(20)
    assert seen[0][0] is False   # measured before the build
    assert seen[0][1:] == (again.sessions_dock.width(), again.stack.width())
    _close(again)


def test_a_menu_opened_before_the_build_is_complete(qtbot, tmp_path, demo_master):
    """Menus work at once: opening one before the lazy build is done builds the window first,
    so it lists what the panels add (File ▸ Export findings report…, View ▸ Bookmark this moment)."""
    win = _window(qtbot, _settings(tmp_path, "menus"), lazy=True)
    assert win.open_capture(demo_master)
    assert not win.built()
    assert "Export findings report…" not in [a.text() for a in win.file_menu.actions()]
    win.file_menu.popup(win.mapToGlobal(win.rect().center()))   # aboutToShow
    assert win.built()
    assert "Export findings report…" in [a.text() for a in win.file_menu.actions()]
    assert "Bookmark this moment…" in [a.text() for a in win.view_menu.actions()]
    win.file_menu.hide()
    _close(win)


def test_the_form_report_starts_once_the_signal_index_is_in(qtbot, tmp_path, demo_master):
    """After the build the background analyses run one after the other (each reads events: at
    once their memory would add up): the signal index first, then the form report."""
    win = _window(qtbot, _settings(tmp_path, "order"), lazy=True)
    order = []
    win.session_list.index_did_load.connect(lambda _index: order.append("index"))
    win.workspace.events.report_did_load.connect(lambda *_a: order.append("form report"))
    with qtbot.waitSignal(win.window_did_build, timeout=60_000):
        win.open_capture(demo_master)
    qtbot.waitUntil(lambda: "form report" in order, timeout=60_000)
    assert order[:2] == ["index", "form report"]
    _close(win)


def test_the_list_order_is_the_lexsort_of_key_start_and_id(qtbot):
    """The session list's order (three stable sorts) is exactly np.lexsort([-id, -start, key]):
    each column, both directions, on rows that tie a lot (and not in start order)."""
    import numpy as np

    from hindsight.store.session_order import sort_table
    from hindsight_qt.views.qt_session_list import COLUMNS, START_COLUMN, SessionTableModel
    from tests.app.test_main_window import synthetic_table

    n = 20_000
    table = synthetic_table(n)
    rng = np.random.default_rng(1)
    shuffle = rng.permutation(n)
    table = {name: col[shuffle] for name, col in table.items()}
    table["start_ms"] = table["start_ms"] // 600_000 * 600_000   # ten-minute ties
    model = SessionTableModel()
    model.set_table(table)
    ids = model.table["session_id"].astype(np.int64)
    for c in range(len(COLUMNS)):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            model.sort(c, order)
            key = model._sort_key(c)
            key = -key if order == Qt.SortOrder.DescendingOrder else key
            want = np.lexsort([-ids, -model._sort_key(START_COLUMN), key])
            assert np.array_equal(model._order, want), (COLUMNS[c].title, order)
            if COLUMNS[c].key in table and COLUMNS[c].kind != "page":
                # the app renders the core's order: the CLI's, the capture's, a dataset's pages'
                sign = "-" if order == Qt.SortOrder.DescendingOrder else ""
                core = sort_table(table, sign + COLUMNS[c].key)["session_id"]
                assert np.array_equal(model.ordered_session_ids(), core), (COLUMNS[c].title, order)


_FIRST_PAINT_MODULES = r"""
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QEvent, QObject
from hindsight_qt.application import create_application
from hindsight_qt.main_window import MainWindow
app = create_application([sys.argv[0]])
window = MainWindow(panels=True, lazy=True)
heavy = ("pyqtgraph", "scipy", "pyarrow", "dask", "distributed", "PIL", "hindsight.analytics.heatmap",
         "hindsight_qt.views.qt_player", "hindsight_qt.views.qt_heatmap_panel")
class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and window.session_list.model.rowCount() > 0:
            print(json.dumps({"built": window.built(), "rows": window.session_list.model.rowCount(),
                              "loaded": [m for m in heavy if m in sys.modules]}), flush=True)
            os._exit(0)
        return False
watch = Watch()
window.session_list.view.viewport().installEventFilter(watch)
window.show()
window.open_capture(sys.argv[1])
window.finish_after_paint()
app.exec()
"""


def test_nothing_heavy_is_imported_before_the_list_is_painted(demo_master, tmp_path):
    """The first paint of the list waits for no plotting, scipy, Parquet/Dask or image library:
    pyqtgraph, the player and the heatmap code come with the build after it (fresh process)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", _FIRST_PAINT_MODULES, str(demo_master)],
                          capture_output=True, text=True, timeout=300, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    seen = json.loads(lines[-1])
    assert seen == {"built": False, "rows": 300, "loaded": []}


def test_until_the_build_the_players_place_says_it_is_loading(qtbot, tmp_path, demo_master, monkeypatch):
    from hindsight_qt.main_window import MainWindow

    # Hold the build back, to see the window as it is between the list's paint and the build.
    monkeypatch.setattr(MainWindow, "_finish_deferred", lambda self: None)
    win = _window(qtbot, _settings(tmp_path, "held"), lazy=True)
    with qtbot.waitSignal(win.session_list.table_did_load, timeout=60_000):
        assert win.open_capture(demo_master)
    qtbot.wait(50)
    assert not win.built()
    slot = win.stack.currentWidget()
    assert slot.objectName() == "PlayerSlot"
    assert slot.note.text() == "Loading the player\u2026" and slot.note.isVisible()
    # The note is centred in the player's place.
    centre = slot.note.mapTo(slot, slot.note.rect().center())
    assert abs(centre.x() - slot.width() // 2) <= 2 and abs(centre.y() - slot.height() // 2) <= 2
    win.finish_building()
    assert win.built() and win.stack.currentWidget() is win.player_view
    _close(win)

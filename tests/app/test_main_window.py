"""The main window end to end (offscreen): open, filter, fail safely, replay, step through sessions."""

from __future__ import annotations

import sqlite3

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from hindsight.store import SessionFilter, open_capture
from hindsight_qt import main_window as main_window_mod
from hindsight_qt import tasks
from hindsight_qt.main_window import MainWindow
from hindsight_qt.settings import MAX_RECENT
from hindsight_qt.views.qt_session_list import COLUMNS, SessionTableModel

LOAD_TIMEOUT = 20_000


def sql_count(path, where: str, params=()) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(f"SELECT count(*) FROM sessions s WHERE {where}", params).fetchone()[0]
    finally:
        con.close()


def open_and_wait(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert window.open_capture(path)


def apply_and_wait(qtbot, window, change) -> None:
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        change()
        window.filter_panel.flush()


# -- opening ---------------------------------------------------------------------------------
def test_starts_on_the_welcome_page(window):
    assert window.capture is None
    assert window.stack.currentWidget() is window.welcome
    assert not window.sessions_dock.isVisible()
    assert window.windowTitle() == "Hindsight"


def test_open_demo_lists_every_session(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    with open_capture(demo_master) as cap:
        total = cap.session_count()
        events = cap.counts()["events"]
    assert window.session_list.row_count() == total == 300
    assert window.session_list.count_label.text() == f"{total:,} of {total:,} sessions"
    assert window.windowTitle().startswith("demo.sqlite")
    assert window.stack.currentWidget() is window.player_view
    assert window.sessions_dock.isVisible()
    assert window.status_sessions.text() == f"{total:,} sessions"
    assert window.status_events.text() == f"{events:,} events"
    # Newest first by default.
    starts = window.session_list.model.table["start_ms"][window.session_list.model._order]
    assert np.all(np.diff(starts) <= 0)


def test_capture_did_open_carries_the_capture(qtbot, window, demo_master):
    with qtbot.waitSignal(window.capture_did_open) as blocker:
        window.open_capture(demo_master)
    assert blocker.args[0] is window.capture


# -- filters ---------------------------------------------------------------------------------
def test_filter_device_mobile_matches_sql(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    with qtbot.waitSignal(window.filter_did_change) as changed:
        apply_and_wait(qtbot, window, lambda: window.filter_panel.select("device", ["mobile"]))
    expected = sql_count(demo_master, "device = 'mobile'")
    assert 0 < expected < 300
    assert changed.args[0].device == ("mobile",)
    assert window.current_filter() == SessionFilter(device=("mobile",))
    assert window.session_list.row_count() == expected
    assert set(window.session_list.model.table["device"]) == {"mobile"}
    assert window.session_list.count_label.text() == f"{expected:,} of 300 sessions"


def test_filter_converted_only_matches_sql(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    apply_and_wait(qtbot, window, lambda: window.filter_panel.set_converted(True))
    expected = sql_count(demo_master, "converted = 1")
    assert 0 < expected < 300
    assert window.session_list.row_count() == expected
    apply_and_wait(qtbot, window, lambda: window.filter_panel.set_converted(False))
    assert window.session_list.row_count() == 300 - expected


def test_filter_visited_and_not_visited_signup(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    signup = next(p.url for p in window.capture.pages() if p.url.endswith("/signup"))
    visited_sql = ("EXISTS (SELECT 1 FROM pageviews pv JOIN pages p ON p.page_id = pv.page_id "
                   "WHERE pv.session_id = s.session_id AND p.url = ?)")
    visited = sql_count(demo_master, visited_sql, (signup,))
    assert 0 < visited < 300

    apply_and_wait(qtbot, window, lambda: window.filter_panel.set_visited(signup))
    assert window.session_list.row_count() == visited
    apply_and_wait(qtbot, window, lambda: (window.filter_panel.set_visited(None),
                                           window.filter_panel.set_not_visited(signup)))
    assert window.session_list.row_count() == 300 - visited
    assert window.current_filter().not_visited == ((signup,),)  # the page group's URLs (issue 11)


def test_duration_range_and_reset(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    apply_and_wait(qtbot, window, lambda: (window.filter_panel.min_duration.setValue(20),
                                           window.filter_panel.max_duration.setValue(60)))
    expected = sql_count(demo_master, "duration_ms >= 20000 AND duration_ms <= 60000")
    assert window.session_list.row_count() == expected
    assert window.filter_panel.reset_button.isEnabled()
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        window.filter_panel.reset()
    assert window.session_list.row_count() == 300
    assert window.current_filter().is_empty()


def test_filter_lists_come_from_the_capture(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    assert set(window.filter_panel.combos["device"].values()) == {"desktop", "mobile", "tablet"}
    assert window.filter_panel.visited.count() == 1 + len(window.capture.pages())


# -- failures ----------------------------------------------------------------------------------
def test_bad_file_shows_one_line_and_keeps_the_open_capture(qtbot, window, demo_master, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, demo_master)
    previous = window.capture
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text, *a, **k: shown.append((title, text)))
    bad = tmp_path / "garbage.sqlite"
    bad.write_bytes(b"\x00\x01garbage, not a database\xff" * 300)

    assert window.open_capture(bad) is False

    assert len(shown) == 1
    title, text = shown[0]
    assert "\n" not in text
    assert str(bad) in text and "not a SQLite database" in text
    assert window.capture is previous
    assert window.windowTitle().startswith("demo.sqlite")
    assert window.session_list.row_count() == 300
    assert window.capture.session_count() == 300   # still open and usable


def test_missing_file_is_an_error_not_a_crash(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append(text))
    assert window.open_capture(tmp_path / "nope.sqlite") is False
    assert "no such file" in shown[0]
    assert window.stack.currentWidget() is window.welcome


# -- recent files ------------------------------------------------------------------------------
def test_recent_files_gain_the_opened_path(qtbot, window, settings, demo_master):
    open_and_wait(qtbot, window, demo_master)
    assert settings.recent_files()[0] == str(demo_master.resolve())
    window.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any("demo.sqlite" in t for t in texts)


def test_recent_list_is_capped_and_greys_missing_files(window, settings, tmp_path):
    paths = []
    for i in range(MAX_RECENT + 3):
        p = tmp_path / f"c{i}.sqlite"
        p.write_bytes(b"x")
        paths.append(p)
        settings.add_recent(p)
    assert len(settings.recent_files()) == MAX_RECENT
    assert settings.recent_files()[0] == str(paths[-1].resolve())
    paths[-1].unlink()
    window._update_recent_menu()
    first = window.recent_menu.actions()[0]
    assert "missing" in first.text() and not first.isEnabled()


# -- replay -------------------------------------------------------------------------------------
def test_double_click_loads_the_row_and_n_goes_to_the_next(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    view = window.session_list.view
    model = window.session_list.model
    index = model.index(3, 0)
    view.scrollTo(index)
    pos = view.visualRect(index).center()
    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT) as loaded:
        # A real double-click starts with a press; the item view only activates the row pressed.
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert loaded.args[0] == model.session_id_at(3)
    assert getattr(window.player_view, "session_id", loaded.args[0]) == model.session_id_at(3)
    assert window.session_list.current_session_id() == model.session_id_at(3)

    view.setFocus()
    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT) as nxt:
        qtbot.keyClick(view, Qt.Key.Key_N)
    assert nxt.args[0] == model.session_id_at(4)
    assert window.session_list.current_session_id() == model.session_id_at(4)

    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT) as prev:
        window.player_view.previous_session_requested.emit()
    assert prev.args[0] == model.session_id_at(3)


def test_next_follows_the_filtered_sorted_list(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    apply_and_wait(qtbot, window, lambda: window.filter_panel.select("device", ["tablet"]))
    window.session_list.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)   # shortest first
    model = window.session_list.model
    assert window.load_session(model.session_id_at(0))
    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT) as nxt:
        window.player_view.next_session_requested.emit()
    assert nxt.args[0] == model.session_id_at(1)
    assert window.capture.session(nxt.args[0]).device == "tablet"


def test_enter_on_a_row_loads_it(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    view = window.session_list.view
    view.setFocus()
    view.setCurrentIndex(window.session_list.model.index(0, 0))
    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT) as loaded:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert loaded.args[0] == window.session_list.model.session_id_at(0)


def test_header_click_sorts_by_duration(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    window.session_list.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    model = window.session_list.model
    durations = [model.table["duration_ms"][model._order[r]] for r in range(model.rowCount())]
    assert durations == sorted(durations)
    assert model.data(model.index(0, 1)) == f"{durations[0] // 1000 // 60}:{durations[0] // 1000 % 60:02d}"


# -- window furniture -----------------------------------------------------------------------------
def test_close_returns_to_the_welcome_page(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    window.close_capture()
    assert window.capture is None
    assert window.stack.currentWidget() is window.welcome
    assert window.windowTitle() == "Hindsight"
    assert window.session_list.row_count() == 0


def test_add_panel_docks_tabs_and_toggles(qtbot, window, demo_master):
    from PySide6.QtWidgets import QLabel

    open_and_wait(qtbot, window, demo_master)
    a = window.add_panel("Heatmap", QLabel("heat"))
    b = window.add_panel("Forms", QLabel("forms"))
    assert window.dockWidgetArea(a) == Qt.DockWidgetArea.RightDockWidgetArea
    qtbot.waitUntil(lambda: b in window.tabifiedDockWidgets(a))  # tab bars are built lazily
    entries = {act.text(): act for act in window.view_menu.actions()}
    assert {"Sessions", "Heatmap", "Forms"} <= set(entries)
    on_screen = main_window_mod._on_screen
    behind, front = (a, b) if on_screen(b) else (b, a)
    entries[behind.windowTitle()].trigger()          # a panel behind a tab comes to the front
    qtbot.waitUntil(lambda: on_screen(behind) and not on_screen(front))
    entries[behind.windowTitle()].trigger()          # in front already: hides it
    assert behind.isHidden() and not entries[behind.windowTitle()].isChecked()
    entries[behind.windowTitle()].trigger()
    assert not behind.isHidden() and entries[behind.windowTitle()].isChecked()


def test_dropping_a_file_opens_it(qtbot, window, demo_master):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(demo_master))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.capture_did_open, timeout=LOAD_TIMEOUT):
        window.dropEvent(event)
    assert window.capture.path == demo_master


def test_open_demo_capture_generates_it_once(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(main_window_mod, "DEMO_SESSIONS", 25)
    window.demo_path = tmp_path / "share" / "Hindsight" / "demo.sqlite"
    with qtbot.waitSignal(window.capture_did_open, timeout=120_000):
        window.open_demo_capture()
    assert window.demo_path.exists()
    assert window.capture.session_count() == 25


def test_shortcuts_dialog_lists_the_player_keys(qtbot, window):
    from PySide6.QtWidgets import QLabel

    dialog = main_window_mod.ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    texts = {label.text() for label in dialog.findChildren(QLabel)}
    for key in ("Space", "←", "→", ",", ".", "[", "]", "+", "−", "N", "P", "F"):
        assert key in texts


def test_main_parses_an_optional_file():
    from hindsight_qt.__main__ import _parse

    args, rest = _parse(["/x/capture.sqlite", "-platform", "offscreen"])
    assert args.file == "/x/capture.sqlite"
    assert rest == ["-platform", "offscreen"]
    assert _parse([])[0].file is None


# -- the table model on its own ------------------------------------------------------------------
def synthetic_table(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def text(values):
        arr = np.empty(n, dtype=object)
        arr[:] = np.array(values, dtype=object)[rng.integers(0, len(values), n)]
        return arr

    return {
        "session_id": np.arange(1, n + 1, dtype=np.int64),
        "start_ms": 1_760_000_000_000 + rng.integers(0, 30 * 86_400_000, n),
        "duration_ms": rng.integers(0, 3_600_000, n),
        "device": text(["desktop", "mobile", "tablet"]),
        "browser": text(["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"]),
        "os": text(["Windows", "macOS", "iOS", "Android", "Linux"]),
        "country": text(["US", "GB", "DE", "FR", "NL"]),
        "source": text(["direct", "organic", "paid", "social", "email"]),
        "converted": rng.integers(0, 2, n),
        "pageview_count": rng.integers(1, 12, n),
        "event_count": rng.integers(1, 5000, n),
        "entry_page_id": rng.integers(1, 4, n),
    }


def test_table_model_over_100k_rows_answers_random_cells(qtbot):
    n = 100_000
    model = SessionTableModel()
    model.set_pages({1: "https://x.test/", 2: "https://x.test/signup", 3: "https://x.test/pricing"})
    model.set_table(synthetic_table(n))
    assert model.rowCount() == n and model.columnCount() == len(COLUMNS)
    assert isinstance(model._order, np.ndarray) and model._order.shape == (n,)

    rng = np.random.default_rng(0)
    rows = rng.integers(0, n, 10_000)
    cols = rng.integers(0, len(COLUMNS), 10_000)
    for r, c in zip(rows.tolist(), cols.tolist()):
        value = model.data(model.index(r, c))
        assert isinstance(value, str)
    assert model.data(model.index(0, 10)) in ("/", "/signup", "/pricing")
    assert model.data(model.index(5, 0), Qt.ItemDataRole.TextAlignmentRole) is not None

    for c, col in enumerate(COLUMNS):
        model.sort(c, Qt.SortOrder.AscendingOrder)
        if col.kind in ("duration", "int", "start", "check"):
            values = model.table[col.key][model._order]
            assert np.all(np.diff(values) >= 0), col.title
    model.sort(8, Qt.SortOrder.DescendingOrder)
    events = model.table["event_count"][model.ordered_session_ids() - 1]
    assert np.all(np.diff(events) <= 0)
    sid = model.session_id_at(12_345)
    assert model.row_of(sid) == 12_345


def test_checkable_combo_toggles_in_its_open_popup(qtbot):
    from hindsight_qt.views.qt_filter_panel import CheckableComboBox

    combo = CheckableComboBox("Any")
    qtbot.addWidget(combo)
    combo.set_values(["desktop", "mobile", "tablet"])
    combo.show()
    assert combo.summary() == "Any"
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(combo.model().index(1, 0))
    with qtbot.waitSignal(combo.checked_changed):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert combo.checked() == ("mobile",)
    assert view.isVisible()   # stays open for the next pick
    combo.set_checked(["desktop", "mobile", "tablet"])
    assert combo.summary() == "3 selected"
    combo.hidePopup()


def test_hidden_columns_persist(qtbot, settings):
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.session_list._toggle_column(4, False)   # OS, as from the header's context menu
    assert settings.hidden_columns == ["os"]
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.session_list.view.isColumnHidden(4)
    assert second.session_list.hidden_columns() == ["os"]
    second.close()


# -- panels from colleagues -----------------------------------------------------------------------
class FakePanel:
    """Built lazily (needs a QApplication): a panel as the app builds them, with the workspace;
    it asks for replays and filters through the workspace, never through the window."""

    @staticmethod
    def make(workspace):
        from PySide6.QtWidgets import QLabel

        class _Panel(QLabel):
            def __init__(self):
                super().__init__("fake")
                self.workspace = workspace
                self.captures, self.filters = [], []

            def set_capture(self, capture):
                self.captures.append(capture)

            def set_filter(self, flt):
                self.filters.append(flt)

        return _Panel()


def test_attach_panel_wires_capture_filter_and_replay(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    a, b = FakePanel.make(window.workspace), FakePanel.make(window.workspace)
    docks = {id(a): window.attach_panel("A", a), id(b): window.attach_panel("B", b)}
    assert docks[id(a)].widget() is a
    on_screen = main_window_mod._on_screen
    qtbot.waitUntil(lambda: on_screen(docks[id(a)]) != on_screen(docks[id(b)]))  # two tabs, one shown
    shown, hidden = (a, b) if on_screen(docks[id(a)]) else (b, a)
    qtbot.waitUntil(lambda: shown.captures == [window.capture])
    assert hidden.captures == []          # a hidden tab catches up only when shown

    apply_and_wait(qtbot, window, lambda: window.filter_panel.select("device", ["tablet"]))
    assert shown.filters[-1].device == ("tablet",)
    assert hidden.filters == []

    sid = window.session_list.model.session_id_at(2)
    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT) as loaded:
        shown.workspace.request_replay(sid, 1500)
    assert loaded.args[0] == sid

    ids = tuple(int(i) for i in window.session_list.model.ordered_session_ids()[:2])
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        shown.workspace.set_filter(window.current_filter().replace(session_ids=ids))
    assert window.session_list.row_count() == 2
    assert window.current_filter().device == ("tablet",)

    docks[id(hidden)].raise_()
    qtbot.waitUntil(lambda: hidden.captures == [window.capture])
    assert hidden.filters[-1].session_ids == ids and hidden.filters[-1].device == ("tablet",)

    window.close_capture()
    assert a.captures[-1] is None and b.captures[-1] is None


def test_the_app_window_docks_the_analysis_panels(qtbot, settings, demo_master):
    win = MainWindow(settings, panels=True)
    qtbot.addWidget(win)
    win.show()
    titles = [d.windowTitle() for d in win.panels()]
    assert titles == ["Funnel", "Heatmap", "Signals", "Forms", "Bookmarks"]   # none failed to build
    analysis = [d.widget() for d in win.panels()][:4]
    assert all(p.workspace is win.workspace for p in analysis)   # built with the window's workspace
    open_and_wait(qtbot, win, demo_master)
    assert win.sessions_dock.isVisible()            # the session list is the tab shown first
    for dock in win.panels():
        assert dock in win.tabifiedDockWidgets(win.sessions_dock)
    win.close()
    tasks.wait_all(20_000)


def test_space_in_the_table_plays_but_not_in_the_filters(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    core = window.player_view.player
    assert window.current_session_id is not None and not core.playing   # newest session cued, paused
    view = window.session_list.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert core.playing
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not core.playing
    combo = window.filter_panel.visited
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Space)
    assert not core.playing
    combo.hidePopup()


# -- small pieces ---------------------------------------------------------------------------------
def test_resource_path_from_source_and_frozen(tmp_path, monkeypatch):
    import sys

    from hindsight_qt.resources import read_text, resource_path

    monkeypatch.delenv("HINDSIGHT_RESOURCES", raising=False)
    assert resource_path("styles/app.qss").is_file()
    assert resource_path("icons/hindsight.svg").is_file()
    assert "@resources@" in read_text("styles/app.qss")   # url() placeholder filled at start
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("icons/hindsight.svg") == tmp_path / "resources" / "icons" / "hindsight.svg"
    assert read_text("styles/missing.qss", default="fallback") == "fallback"


def test_settings_round_trip(settings):
    assert settings.recent_files() == []
    assert settings.speed > 0 and settings.pause_on_hesitation is True
    settings.speed = 4.0
    settings.pause_on_hesitation = False
    assert settings.speed == 4.0 and settings.pause_on_hesitation is False
    settings.add_recent("/tmp/a.sqlite")
    settings.add_recent("/tmp/b.sqlite")
    settings.add_recent("/tmp/a.sqlite")
    assert settings.recent_files() == ["/tmp/a.sqlite", "/tmp/b.sqlite"]
    settings.remove_recent("/tmp/b.sqlite")
    assert settings.recent_files() == ["/tmp/a.sqlite"]


def test_tasks_deliver_results_and_errors_on_the_gui_thread(qtbot):
    import threading

    main = threading.get_ident()
    got, errors = {}, []

    def work():
        got["worker"] = threading.get_ident()
        return 42

    def boom():
        raise ValueError("bad")

    tasks.run(work, lambda r: got.__setitem__("result", (r, threading.get_ident())))
    qtbot.waitUntil(lambda: "result" in got, timeout=5000)
    assert got["result"] == (42, main) and got["worker"] != main
    tasks.run(boom, None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError)
    cancelled = tasks.run(work, lambda r: got.__setitem__("late", r))
    cancelled.cancel()
    tasks.wait_all()
    qtbot.wait(50)
    assert "late" not in got and tasks.active_count() == 0


def test_sorting_keeps_ties_newest_first():
    model = SessionTableModel()
    model.set_pages({1: "https://x.test/"})
    model.set_table(synthetic_table(5_000, seed=3))
    browser = next(c for c, col in enumerate(COLUMNS) if col.key == "browser")
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        model.sort(browser, order)
        names = model.table["browser"][model._order]
        starts = model.table["start_ms"][model._order]
        expected = sorted(set(names), reverse=order == Qt.SortOrder.DescendingOrder)
        assert list(dict.fromkeys(names)) == expected
        for name in expected:
            assert np.all(np.diff(starts[names == name]) <= 0)


def test_layout_survives_the_welcome_page(qtbot, window, demo_master):
    open_and_wait(qtbot, window, demo_master)
    a = window.attach_panel("A", FakePanel.make(window.workspace), Qt.DockWidgetArea.LeftDockWidgetArea)
    window.attach_panel("B", FakePanel.make(window.workspace), Qt.DockWidgetArea.LeftDockWidgetArea)
    on_screen = main_window_mod._on_screen
    qtbot.wait(50)
    a.raise_()
    qtbot.waitUntil(lambda: on_screen(a))
    window.close_capture()
    assert not window.sessions_dock.isVisible() and not a.isVisible()
    open_and_wait(qtbot, window, demo_master)
    qtbot.waitUntil(lambda: on_screen(a))      # the tab in front before is in front again
    assert not on_screen(window.sessions_dock)


def test_placeholder_player_when_the_player_is_missing(qtbot, settings, demo_master, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hindsight_qt.views.qt_player", None)   # import fails
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    assert isinstance(win.player_view, main_window_mod.PlaceholderPlayer)
    open_and_wait(qtbot, win, demo_master)
    first = win.session_list.model.session_id_at(0)
    assert win.player_view.session_id == first
    with qtbot.waitSignal(win.session_did_load, timeout=LOAD_TIMEOUT) as nxt:
        assert win.player_view.handle_key(Qt.Key.Key_N)
    assert nxt.args[0] == win.session_list.model.session_id_at(1)
    win.close()
    tasks.wait_all()


def test_latest_only_delivers_just_the_newest_result(qtbot):
    import threading

    release = threading.Event()
    got = []

    def slow_first():
        release.wait(5)
        return "first"

    latest = tasks.LatestOnly()
    latest.submit(slow_first, got.append)
    latest.submit(lambda: "second", got.append)    # submitted while the first still runs
    assert latest.busy
    release.set()
    qtbot.waitUntil(lambda: not latest.busy, timeout=5000)
    tasks.wait_all()
    qtbot.wait(50)
    assert got == ["second"] and tasks.active_count() == 0

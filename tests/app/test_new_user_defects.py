"""GUI defects a new user hit (issue 13, defects 1-8), each driven as the user would (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from hindsight.store import SessionFilter

LOAD_TIMEOUT = 20_000


def open_and_wait(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert window.open_capture(path)


def real_click(widget, pos: QPoint | None = None) -> None:
    """Press and release the left button over ``widget`` the way the window system delivers
    it: to the top-level window, so a popup opened by the press receives the release."""
    pos = widget.rect().center() if pos is None else pos
    window = widget.window().windowHandle()
    at = widget.mapTo(widget.window(), pos)
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    QApplication.processEvents()
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    QApplication.processEvents()


# -- 1: opening a multi-select filter ticks nothing ----------------------------------------------
@pytest.mark.parametrize("field", ["device", "browser", "os", "country", "source", "frustration"])
def test_opening_a_multi_select_filter_ticks_nothing(qtbot, window, demo_master, field):
    open_and_wait(qtbot, window, demo_master)
    panel = window.filter_panel
    if field == "frustration":
        qtbot.waitUntil(lambda: panel.frustration.isEnabled(), timeout=LOAD_TIMEOUT)
        combo = panel.frustration
    else:
        combo = panel.combos[field]
    before = window.current_filter()
    emitted = []
    panel.filter_changed.connect(emitted.append)
    combo.setFocus()
    real_click(combo)
    qtbot.waitUntil(combo.view().isVisible)
    qtbot.wait(250)   # longer than the filter's debounce
    assert combo.checked() == ()
    assert combo.summary() == "Any"
    assert window.current_filter() == before
    assert emitted == []
    # The popup is open and a click on an item still ticks it.
    view = combo.view()
    rect = view.visualRect(combo.model().index(0, 0))
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert len(combo.checked()) == 1
    combo.hidePopup()


@pytest.fixture
def app_window(qtbot, settings):
    """The full window (analysis panels docked) at 1600x960."""
    from hindsight_qt import tasks
    from hindsight_qt.main_window import MainWindow

    win = MainWindow(settings, panels=True)
    qtbot.addWidget(win)
    win.resize(1600, 960)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    tasks.wait_all(20_000)


def dock(window, title):
    return next(d for d in window.panels() if d.windowTitle() == title)


# -- 3: Space pauses after a replay started from an analysis list --------------------------------
def test_space_pauses_after_double_clicking_a_signals_session(qtbot, app_window, demo_master):
    win = app_window
    open_and_wait(qtbot, win, demo_master)
    signals = dock(win, "Signals")
    signals.raise_()
    panel = signals.widget()
    table = panel.top_list
    qtbot.waitUntil(lambda: table.rowCount() > 0, timeout=LOAD_TIMEOUT)
    table.setFocus()
    rect = table.visualItemRect(table.item(0, 0))
    sid = int(table.item(0, 0).text())
    with qtbot.waitSignal(win.session_did_load, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.current_session_id == sid
    core = win.player_view.player
    assert core.playing
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, Qt.Key.Key_Space)
    assert not core.playing
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert core.playing


# -- 4: [ goes back past a hesitation pause -------------------------------------------------------
def test_previous_marker_goes_back_past_a_hesitation_pause(qtbot, window, demo_master, capture):
    open_and_wait(qtbot, window, demo_master)
    sid, _kind, start_ms, *_ = capture.planted("hesitation")[0]
    assert window.load_session(sid, autoplay=False)
    view = window.player_view
    core = view.player
    core.pause_on_hesitation = True
    view.setFocus()
    for _ in range(200):   # ] until the replay pauses at the planted hesitation
        qtbot.keyClick(view, Qt.Key.Key_BracketRight)
        if core.paused_for is not None:
            break
    assert core.paused_for is not None and core.t_ms == start_ms
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    assert core.t_ms < start_ms
    assert core.paused_for is None
    first_back = core.t_ms
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    assert core.t_ms < first_back
    # Forward again stops at the hesitation once more.
    while core.t_ms < start_ms:
        qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    assert core.t_ms == start_ms and core.paused_for is not None


# -- 5: sessions by id: a Session column and Go to session (Ctrl+G) ------------------------------
def test_session_id_column_and_go_to_session(qtbot, window, demo_master, capture):
    from hindsight_qt.views.qt_session_list import COLUMNS

    open_and_wait(qtbot, window, demo_master)
    lst = window.session_list
    model = lst.model
    col = next(c for c, column in enumerate(COLUMNS) if column.key == "session_id")
    assert model.headerData(col, Qt.Orientation.Horizontal) == "Session"
    assert lst.view.horizontalHeader().visualIndex(col) == 0          # first on screen
    assert not lst.view.isColumnHidden(col)
    for row in (0, 5, model.rowCount() - 1):
        assert model.data(model.index(row, col)) == str(model.session_id_at(row))
    # Ctrl+G focuses the id box; typing an id and Enter replays that session.
    target = int(capture.session_ids()[17])
    assert window.current_session_id != target
    qtbot.keyClick(lst.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is lst.goto_edit
    with qtbot.waitSignal(window.session_did_load, timeout=LOAD_TIMEOUT):
        qtbot.keyClicks(lst.goto_edit, str(target))
        qtbot.keyClick(lst.goto_edit, Qt.Key.Key_Return)
    assert window.current_session_id == target
    assert window.player_view.session_id == target
    assert lst.current_session_id() == target
    # An unknown id says so and keeps the session.
    lst.goto_edit.setText("999999")
    qtbot.keyClick(lst.goto_edit, Qt.Key.Key_Return)
    assert window.current_session_id == target
    assert "No session 999999" in window.statusBar().currentMessage()


# -- 6: header sort direction, reserved skip label, one duration format, plurals ---------------
def test_first_click_on_frustration_sorts_highest_first(qtbot, window, demo_master):
    from hindsight_qt.views.qt_session_list import COLUMNS

    open_and_wait(qtbot, window, demo_master)
    model = window.session_list.model
    qtbot.waitUntil(lambda: model.signal_index is not None, timeout=LOAD_TIMEOUT)
    header = window.session_list.view.horizontalHeader()
    for key in ("frustration", "rage_click", "event_count", "duration_ms"):
        c = next(i for i, column in enumerate(COLUMNS) if column.key == key)
        header.setSortIndicator(next(i for i, column in enumerate(COLUMNS) if column.key == "device"),
                                Qt.SortOrder.AscendingOrder)
        window.session_list.view.scrollTo(model.index(0, c))
        x = header.sectionViewportPosition(c) + header.sectionSize(c) // 2
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
        assert model.sort_column == c
        assert model.sort_order == Qt.SortOrder.DescendingOrder, key
        shown = [model.data(model.index(r, c)) for r in range(3)]
        assert shown[0] not in ("", None), key
    c = next(i for i, column in enumerate(COLUMNS) if column.key == "device")
    x = header.sectionViewportPosition(c) + header.sectionSize(c) // 2
    header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert model.sort_order == Qt.SortOrder.AscendingOrder   # text columns: A first


def test_skipped_inactivity_note_moves_no_control(qtbot, window, demo_master, capture):
    open_and_wait(qtbot, window, demo_master)
    view = window.player_view
    names = ("time_label", "pause_check", "skip_check", "speed_button", "follow_button", "page_button",
             "canvas", "chrome", "status_label")

    def geometry():
        QApplication.processEvents()
        return {n: (getattr(view, n).mapTo(view, QPoint(0, 0)), getattr(view, n).size()) for n in names}

    qtbot.wait(50)
    before = geometry()
    view._on_skipping((0, 754_000))   # as the player emits when it skips 12:34 of inactivity
    after = geometry()
    assert view.skip_label.isVisible()
    assert view.skip_label.text() == "» Skipped 12:34 of inactivity"
    assert view.skip_label.width() >= view.skip_label.fontMetrics().horizontalAdvance(view.skip_label.text())
    assert after == before
    view.skip_label.setText("")
    assert geometry() == before


def test_durations_read_the_same_in_the_table_the_player_and_the_cli(qtbot, window, demo_master, capture, capsys):
    from hindsight.cli import main
    from hindsight_qt.views.qt_session_list import COLUMNS

    open_and_wait(qtbot, window, demo_master)
    model = window.session_list.model
    dur_col = next(c for c, column in enumerate(COLUMNS) if column.key == "duration_ms")
    table = capture.session_table()
    # A session whose length has a fraction of a second above one half: rounding and
    # truncating disagree there.
    i = next(i for i, ms in enumerate(table["duration_ms"]) if int(ms) % 1000 >= 600)
    sid, ms = int(table["session_id"][i]), int(table["duration_ms"][i])
    gui = model.data(model.index(model.row_of(sid), dur_col))
    assert main(["sessions", str(demo_master)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.split() and ln.split()[0] == str(sid))
    assert gui in line.split()
    assert window.load_session(sid, autoplay=False)
    assert window.player_view.time_label.text().endswith(f"/ {gui}")
    assert gui == f"{ms // 60_000}:{ms // 1000 % 60:02d}"


def test_one_session_reads_one_session(qtbot, app_window, demo_master, capture):
    win = app_window
    open_and_wait(qtbot, win, demo_master)
    sid = int(capture.session_ids()[3])
    with qtbot.waitSignal(win.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        win.apply_filter(SessionFilter(session_ids=(sid,)))
    signals = dock(win, "Signals")
    signals.raise_()
    panel = signals.widget()
    qtbot.waitUntil(lambda: "· 1 session" in panel.header.text(), timeout=LOAD_TIMEOUT)
    assert "1 sessions" not in panel.header.text()
    assert win.session_list.count_label.text() == f"1 of {capture.session_count():,} sessions"


# -- 8: unknown funnel event; a date range in the CLI and the filter panel ------------------------
def _started_between(capture, first, last):
    from datetime import datetime, timezone

    table = capture.session_table()
    days = [datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc).date() for ms in table["start_ms"]]
    return sorted(int(i) for i, d in zip(table["session_id"], days) if first <= d <= last)


def test_filter_panel_date_range(qtbot, window, demo_master, capture):
    from datetime import date

    from PySide6.QtCore import QDate

    open_and_wait(qtbot, window, demo_master)
    panel = window.filter_panel
    assert panel.date_from.text() == "Any day" and panel.date_to.text() == "Any day"
    assert panel.date_from.isVisible() and panel.date_to.isVisible()
    # The user types the days into the two boxes.
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        panel.date_from.setDate(QDate(2025, 11, 1))
        panel.date_to.setDate(QDate(2025, 11, 7))
        panel.flush()
    expected = _started_between(capture, date(2025, 11, 1), date(2025, 11, 7))
    assert 0 < len(expected) < capture.session_count()
    assert sorted(window.session_list.model.ordered_session_ids().tolist()) == expected
    assert panel.reset_button.isEnabled()
    # Reset clears them; a filter handed in by another panel shows its days.
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        panel.reset()
    assert panel.date_from.text() == "Any day"
    assert window.session_list.row_count() == capture.session_count()
    from hindsight.workspace import build_filter

    dates = build_filter(date_from="2025-11-01", date_to="2025-11-07").sessions
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        window.apply_filter(SessionFilter(start_from_ms=dates.start_from_ms, start_before_ms=dates.start_before_ms))
    assert panel.date_from.date() == QDate(2025, 11, 1) and panel.date_to.date() == QDate(2025, 11, 7)
    assert sorted(window.session_list.model.ordered_session_ids().tolist()) == expected

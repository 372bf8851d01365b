"""The Bookmarks panel (offscreen): bookmarking from the player with B, patterns flagged at 3+
sessions and ranked by ICE, hypothesis editing, find similar in a worker, export, replay jumps."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from hindsight.bookmarks import BookmarkStore
from hindsight.bookmarks import store as store_mod
from hindsight.bookmarks.export import format_time
from hindsight.store import open_capture
from hindsight_qt import tasks
from hindsight_qt.views.qt_bookmarks_panel import (
    BOOKMARK_MARKER,
    BookmarkDialog,
    QtBookmarksPanel,
    install_bookmark_support,
)

RAGE = "rage on product image"


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def capture_copy(demo_master, tmp_path):
    dst = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_master, dst)
    return dst


@pytest.fixture
def cap(capture_copy):
    with open_capture(capture_copy) as c:
        yield c


@pytest.fixture
def panel(qtbot, cap):
    w = QtBookmarksPanel()
    qtbot.addWidget(w)
    w.resize(460, 760)
    w.show()
    w.set_capture(cap)
    yield w
    tasks.wait_all(10_000)


def rage_sessions(cap, n):
    return [(p[0], p[2]) for p in cap.planted("rage_click")[:n]]


def flagged(panel) -> dict[str, bool]:
    t = panel.pattern_table
    return {t.item(r, 1).text(): bool(t.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in range(t.rowCount())}


# -- the main window ---------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path):
    from hindsight_qt.main_window import MainWindow
    from hindsight_qt.settings import Settings

    win = MainWindow(Settings(QSettings(str(tmp_path / "hindsight.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    tasks.wait_all(10_000)


def _answer_dialog(tag: str, note: str) -> list:
    """Fill in and save the bookmark dialog as soon as it is shown (it runs modally)."""
    seen = []

    def answer():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, BookmarkDialog):
            QTimer.singleShot(20, answer)
            return
        seen.append(dlg)
        dlg.tag_combo.setCurrentText(tag)
        dlg.note_edit.setPlainText(note)
        dlg.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    QTimer.singleShot(0, answer)
    return seen


def test_b_in_the_player_bookmarks_the_moment(qtbot, window, capture_copy):
    panel = install_bookmark_support(window)
    assert window.bookmarks_panel is panel
    assert any(d.widget() is panel for d in window.panels())
    with qtbot.waitSignal(window.capture_did_open, timeout=20_000):
        assert window.open_capture(capture_copy)
    assert panel.store is not None and panel.store.location == "capture"
    with open_capture(capture_copy) as cap:
        sid, t_ms = rage_sessions(cap, 1)[0]
    assert window.load_session(sid, at_ms=t_ms, autoplay=False)
    player = window.player_view
    assert int(player.player.t_ms) == t_ms

    window.activateWindow()
    player.setFocus()
    seen = _answer_dialog(RAGE, "clicks the product shot four times")
    qtbot.keyClick(player, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: panel.store.count() == 1, timeout=5000)
    assert seen and seen[0].windowTitle() == "Bookmark this moment"

    b = panel.store.bookmarks()[0]
    assert (b.session_id, b.t_ms, b.tag, b.note) == (sid, t_ms, RAGE, "clicks the product shot four times")
    assert panel.selected_tag() == RAGE
    assert panel.bookmark_table.rowCount() == 1 and panel.bookmark_table.item(0, 0).text() == str(sid)
    # the bookmark shows on the player's timeline
    extra = player.timeline_widget._extra
    assert [(int(t), c.name()) for t, c, _ in extra] == [(t_ms, BOOKMARK_MARKER.lower())]
    # and survives closing and reopening the capture
    window.close_capture()
    assert panel.store is None and panel.stack.currentIndex() == 0
    with qtbot.waitSignal(window.capture_did_open, timeout=20_000):
        window.open_capture(capture_copy)
    assert [p.tag for p in panel._patterns] == [RAGE]


def test_bookmark_action_without_a_session_says_so(qtbot, window, capture_copy):
    install_bookmark_support(window)
    with qtbot.waitSignal(window.capture_did_open, timeout=20_000):
        window.open_capture(capture_copy)
    if hasattr(window.player_view, "clear"):
        window.player_view.clear()
    window.current_session_id = None
    window.bookmark_now()
    assert "Replay a session first" in window.statusBar().currentMessage()


def test_double_click_on_a_bookmark_replays_it(qtbot, window, capture_copy):
    panel = install_bookmark_support(window)
    with qtbot.waitSignal(window.capture_did_open, timeout=20_000):
        window.open_capture(capture_copy)
    with open_capture(capture_copy) as cap:
        sid, t_ms = rage_sessions(cap, 1)[0]
    panel.add_bookmark(sid, t_ms, RAGE)
    dock = next(d for d in window.panels() if d.widget() is panel)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: panel.bookmark_table.isVisible() and panel.bookmark_table.viewport().height() > 30)
    with qtbot.waitSignal(panel.replay_requested) as blocker:
        rect = panel.bookmark_table.visualItemRect(panel.bookmark_table.item(0, 1))
        # A real double click: press, release, then the double-click event (item views need the press).
        qtbot.mouseClick(panel.bookmark_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.bookmark_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [sid, t_ms]
    assert window.current_session_id == sid
    assert abs(window.player_view.player.t_ms - t_ms) < 1


# -- the panel alone ---------------------------------------------------------------------------
def test_patterns_with_three_sessions_are_flagged_and_ranked(panel, cap):
    for sid, t in rage_sessions(cap, 3):
        panel.add_bookmark(sid, t, RAGE)
    two = rage_sessions(cap, 5)[3:]
    for sid, t in two:
        panel.add_bookmark(sid, t, "two sessions only")
    panel.add_bookmark(two[0][0], two[0][1] + 500, "two sessions only")  # 3 bookmarks, 2 sessions
    assert flagged(panel) == {RAGE: True, "two sessions only": False}
    assert panel.stack.currentIndex() == 1
    assert "2 patterns · 6 bookmarks" == panel.count_label.text()
    panel.refresh(select_tag=RAGE)
    assert not panel.flag_label.isHidden()
    panel.refresh(select_tag="two sessions only")
    assert panel.flag_label.isHidden()
    assert "1 more session" in panel.pattern_sub.text()

    # Rating the smaller pattern ranks it first (ICE before sessions); it stays selected.
    panel.impact_box.setValue(6)
    panel.confidence_box.setValue(6)
    panel.ease_box.setValue(9)
    tags = [panel.pattern_table.item(r, 1).text() for r in range(panel.pattern_table.rowCount())]
    assert tags == ["two sessions only", RAGE]
    assert panel.pattern_table.item(0, 3).text() == "7.0"
    assert panel.selected_tag() == "two sessions only"
    assert panel.store.pattern("two sessions only").ice == 7.0


def test_hypothesis_is_saved_on_edit(qtbot, panel, cap):
    sid, t = rage_sessions(cap, 1)[0]
    panel.add_bookmark(sid, t, RAGE)
    text = "We observed rage clicks on the shot. We believe that a zoom will improve engagement because W."
    panel.hypothesis_edit.setPlainText(text)
    qtbot.waitUntil(lambda: panel.store.pattern(RAGE).hypothesis == text, timeout=3000)
    assert panel.saved_label.text() == "Saved"
    # An edit still pending when the selection moves is saved to the pattern it was typed for.
    panel.add_bookmark(sid, t + 2000, "other")
    panel.refresh(select_tag=RAGE)
    panel.hypothesis_edit.setPlainText("pending")
    panel.refresh(select_tag="other")
    assert panel.store.pattern(RAGE).hypothesis == "pending"
    assert panel.store.pattern("other").hypothesis == ""


def test_find_similar_then_add_all(qtbot, panel, cap):
    sid, t = rage_sessions(cap, 1)[0]
    panel.add_bookmark(sid, t, RAGE)
    truth = {p[0] for p in cap.planted("rage_click")}
    panel.similar_button.click()
    qtbot.waitUntil(lambda: panel.found_frame.isVisible(), timeout=20_000)
    text = panel.found_label.text()
    assert f"Found <b>{len(truth)}</b> sessions with the same behaviour" in text
    assert "rage clicks on img.product-shot" in text
    assert panel.add_all_button.isEnabled() and panel.add_all_button.text() == "Add all to pattern"
    panel.add_all_button.click()
    p = panel.store.pattern(RAGE)
    assert p.sessions == len(truth) and p.worth_a_hypothesis
    assert {b.session_id for b in panel.store.bookmarks(tag=RAGE)} == truth
    assert not panel.add_all_button.isEnabled()
    assert flagged(panel)[RAGE]


def test_export_both_formats(panel, cap, tmp_path):
    for sid, t in rage_sessions(cap, 3):
        panel.add_bookmark(sid, t, RAGE, "note")
    md = panel.export_to(tmp_path / "patterns.md", "md")
    csv = panel.export_to(tmp_path / "patterns.csv", "csv")
    assert f"## {RAGE} ⚑" in md.read_text()
    assert csv.read_text().splitlines()[0].startswith("record,tag,hypothesis")


def test_dialog_offers_the_capture_tags(qtbot, panel, cap):
    (s1, t1), (s2, t2) = rage_sessions(cap, 2)
    panel.add_bookmark(s1, t1, "older")
    panel.add_bookmark(s2, t2, RAGE)
    dlg = panel.bookmark_dialog(s1, 65_000)
    qtbot.addWidget(dlg)
    items = [dlg.tag_combo.itemText(i) for i in range(dlg.tag_combo.count())]
    assert items == [RAGE, "older"]  # most recently used first
    assert dlg.tag_combo.isEditable()
    save = dlg.buttons.button(QDialogButtonBox.StandardButton.Save)
    dlg.tag_combo.setCurrentText("  ")
    assert not save.isEnabled()
    dlg.tag_combo.setCurrentText("new tag")
    assert save.isEnabled() and dlg.tag() == "new tag"
    assert "1:05" in dlg.findChildren(type(panel.title))[0].text()


def test_read_only_capture_says_where_bookmarks_go(qtbot, capture_copy, monkeypatch):
    monkeypatch.setattr(store_mod, "capture_writable", lambda p: False)
    w = QtBookmarksPanel()
    qtbot.addWidget(w)
    w.show()
    with open_capture(capture_copy) as cap:
        w.set_capture(cap)
        assert w.store.location == "sidecar"
        assert not w.where_label.isHidden() and "read-only" in w.where_label.text()
        sid, t = rage_sessions(cap, 1)[0]
        w.add_bookmark(sid, t, RAGE)
    assert BookmarkStore.for_capture(capture_copy).bookmarks()[0].session_id == sid


def test_empty_states(qtbot):
    w = QtBookmarksPanel()
    qtbot.addWidget(w)
    assert "Open a capture" in w.empty_label.text()
    assert not w.export_button.isEnabled()


def test_find_similar_lists_the_matches_to_review_replay_and_untick(qtbot, panel, cap):
    # Issue 13, defect 7: the matches are a list (session, moment, why), not just a count.
    sid, t = rage_sessions(cap, 1)[0]
    panel.add_bookmark(sid, t, RAGE)
    truth = {p[0] for p in cap.planted("rage_click")}
    panel.similar_button.click()
    qtbot.waitUntil(lambda: panel.found_frame.isVisible(), timeout=20_000)
    table = panel.similar_table
    assert table.isVisible() and table.rowCount() == len(truth)
    rows = {int(table.item(r, 0).text()): r for r in range(table.rowCount())}
    assert set(rows) == truth
    matches = {m.session_id: m for m in panel._similar.matches}
    for s, r in rows.items():
        assert table.item(r, 1).text() == format_time(matches[s].t_ms)
        assert table.item(r, 3).text() == matches[s].reason
    # The bookmarked session is already in the pattern: greyed, not ticked; the others ticked.
    assert table.item(rows[sid], 0).checkState() == Qt.CheckState.Unchecked
    assert not table.item(rows[sid], 0).flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert len(panel.checked_matches()) == len(truth) - 1
    assert panel.add_all_button.text() == "Add all to pattern"
    # Double-click replays that session at its moment.
    other = next(s for s in rows if s != sid)
    rect = table.visualItemRect(table.item(rows[other], 3))
    with qtbot.waitSignal(panel.replay_requested) as replay:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert replay.args == [other, matches[other].t_ms]
    # Untick one (its check box, as the user clicks it); only the ticked ones are added.
    table.item(rows[other], 0).setCheckState(Qt.CheckState.Unchecked)
    assert panel.add_all_button.text() == f"Add {len(truth) - 2} to pattern"
    panel.add_all_button.click()
    assert {b.session_id for b in panel.store.bookmarks(tag=RAGE)} == truth - {other}
    # The list stays, the added ones now greyed; the left-out one stays unticked, can be added.
    for s, r in rows.items():
        checkable = bool(table.item(r, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable)
        assert checkable == (s == other)
    assert panel.checked_matches() == [] and not panel.add_all_button.isEnabled()
    table.item(rows[other], 0).setCheckState(Qt.CheckState.Checked)
    assert panel.add_all_button.text() == "Add all to pattern" and panel.add_all_button.isEnabled()

"""The session table's "Delete session(s)…": confirmation, erasure on a worker, list refreshed."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QItemSelectionModel, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from hindsight.store import open_capture


@pytest.fixture
def capture_copy(demo_master, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_master, path)
    cap = open_capture(path)
    yield cap
    cap.close()


@pytest.fixture
def session_list(qtbot, capture_copy):
    from hindsight_qt.views.qt_session_list import QtSessionList

    w = QtSessionList()
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    with qtbot.waitSignal(w.table_did_load, timeout=20000):
        w.set_capture(capture_copy)
    return w


def _select_rows(w, rows):
    sel = w.view.selectionModel()
    sel.clearSelection()
    for r in rows:
        sel.select(w.model.index(r, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


def test_delete_two_sessions_from_the_context_menu(qtbot, session_list, capture_copy, monkeypatch):
    w = session_list
    _select_rows(w, [0, 2])
    ids = w.selected_session_ids()
    assert len(ids) == 2
    with open_capture(capture_copy.path) as c:
        visitors = [c.session(i).visitor_id for i in ids]
    assert all(v.encode() in capture_copy.path.read_bytes() for v in visitors)
    asked = []
    monkeypatch.setattr(w, "confirm_delete", lambda text: asked.append(text) or True)

    menu = w.row_menu(w.view.visualRect(w.model.index(2, 0)).center())
    action = next(a for a in menu.actions() if a.objectName() == "DeleteSessionsAction")
    assert action.text() == "Delete 2 sessions…" and action.isEnabled()
    with qtbot.waitSignal(w.sessions_did_delete, timeout=30000) as deleted:
        action.trigger()
    assert "Delete 2 sessions" in asked[0] and "cannot be undone" in asked[0]
    plan = deleted.args[0]
    assert plan.session_ids == sorted(ids)
    qtbot.waitUntil(lambda: w.total_count() == 298 and w.row_count() == 298, timeout=20000)
    assert all(w.model.row_of(i) < 0 for i in ids)
    assert w.count_label.text() == "298 of 298 sessions"
    blob = capture_copy.path.read_bytes()
    assert not any(v.encode() in blob for v in visitors)   # erased and vacuumed


def test_cancel_deletes_nothing(qtbot, session_list, capture_copy):
    w = session_list
    _select_rows(w, [1])
    sid = w.selected_session_ids()[0]
    before = capture_copy.path.read_bytes()
    seen = []

    def press_cancel():
        box = QApplication.activeModalWidget()
        seen.append(box.text() if isinstance(box, QMessageBox) else None)
        box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(200, press_cancel)
    assert w.delete_sessions([sid]) is False    # the real dialog, answered Cancel
    assert seen and "Delete 1 session (" in seen[0]
    assert capture_copy.path.read_bytes() == before and w.total_count() == 300


def test_read_only_capture_offers_no_deletion(qtbot, session_list, capture_copy, monkeypatch):
    w = session_list
    capture_copy.path.chmod(0o444)
    try:
        shown = []
        monkeypatch.setattr(QMessageBox, "information", lambda *a: shown.append(a[2]))
        monkeypatch.setattr(w, "confirm_delete", lambda text: pytest.fail("must not ask"))
        assert w.delete_sessions([w.model.session_id_at(0)]) is False
        assert "read-only" in shown[0]
    finally:
        capture_copy.path.chmod(0o644)


def test_main_window_reopens_after_deleting(qtbot, window, capture_copy, monkeypatch):
    assert window.open_capture(capture_copy.path)
    sl = window.session_list
    qtbot.waitUntil(lambda: sl.row_count() == 300, timeout=20000)
    monkeypatch.setattr(sl, "confirm_delete", lambda text: True)
    old = window.capture
    sid = sl.model.session_id_at(0)
    with qtbot.waitSignal(window.capture_did_open, timeout=30000):
        assert sl.delete_sessions([sid])
    assert window.capture is not old and window.capture.session_count() == 299
    qtbot.waitUntil(lambda: sl.row_count() == 299, timeout=20000)

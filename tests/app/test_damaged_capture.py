"""A damaged capture in the app: one-line dialogs naming the file and the damage, never a raw
Python message; damaged events are skipped with a note in the status bar."""

from __future__ import annotations

import shutil
import sqlite3
import struct

import pytest
from PySide6.QtWidgets import QMessageBox

from hindsight.store.columns import BYTES_PER_EVENT

LOAD_TIMEOUT = 20000
PYTHON_WORDS = ("Traceback", "Error:", "Exception", "KeyError", "IndexError", "ValueError", "object at 0x")


def _damaged_copy(master, tmp_path, sql: list[tuple[str, tuple]]) -> str:
    path = tmp_path / "damaged.sqlite"
    shutil.copyfile(master, path)
    con = sqlite3.connect(path)
    for stmt, params in sql:
        con.execute(stmt, params)
    con.commit()
    con.close()
    return str(path)


def _first_session_pageview(master) -> tuple[int, int, bytes]:
    con = sqlite3.connect(master)
    sid, pid, blob = con.execute("SELECT session_id, pageview_id, events FROM pageviews "
                                 "WHERE event_count > 20 ORDER BY session_id, seq LIMIT 1").fetchone()
    con.close()
    return sid, pid, blob


@pytest.fixture
def dialogs(monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


def _open(qtbot, window, path) -> None:
    window.session_list.table_did_load.disconnect(window._on_table_loaded)  # no auto-cued session
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert window.open_capture(path)


def test_damaged_events_are_skipped_and_counted_in_the_status_bar(qtbot, window, demo_master, tmp_path, dialogs):
    sid, pid, blob = _first_session_pageview(demo_master)
    rec = bytearray(blob)
    rec[4] = 200                                                        # event 0: kind 200
    rec[BYTES_PER_EVENT + 13:BYTES_PER_EVENT + 15] = struct.pack("<h", 32767)   # event 1: target 32767
    rec[2 * BYTES_PER_EVENT + 5:2 * BYTES_PER_EVENT + 9] = struct.pack("<i", -2**31)  # event 2: x = -2^31
    path = _damaged_copy(demo_master, tmp_path, [("UPDATE pageviews SET events = ? WHERE pageview_id = ?",
                                                  (bytes(rec), pid))])
    _open(qtbot, window, path)   # (the session index may already have read, and counted, them)

    assert window.load_session(sid, autoplay=False) is True

    assert dialogs == []
    assert window.status_damaged.isVisible()
    assert window.status_damaged.text() == "3 damaged events skipped"
    assert window.player_view.timeline is not None


def test_damaged_session_row_gives_the_one_line_dialog(qtbot, window, demo_master, tmp_path, dialogs):
    sid, pid, _ = _first_session_pageview(demo_master)
    path = _damaged_copy(demo_master, tmp_path, [("UPDATE pageviews SET snapshot_id = 999999 WHERE pageview_id = ?",
                                                  (pid,))])
    _open(qtbot, window, path)

    assert window.load_session(sid, autoplay=False) is False

    assert len(dialogs) == 1
    title, text = dialogs[0]
    assert title == "Cannot replay session"
    assert text == f"{path}: is damaged: pageview {pid} refers to snapshot 999999, which does not exist"
    assert not any(word in text for word in PYTHON_WORDS)
    assert window.capture is not None        # the capture stays open; other sessions still replay


def test_heatmap_of_a_damaged_page_gives_the_one_line_dialog(qtbot, demo_master, tmp_path, dialogs):
    from hindsight.store import open_capture
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    path = _damaged_copy(demo_master, tmp_path, [
        ("UPDATE pageviews SET end_ms = -5 WHERE snapshot_id IN (SELECT snapshot_id FROM snapshots)", ())])
    panel = QtHeatmapPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    with open_capture(path) as cap:
        panel.set_capture(cap)
        qtbot.waitUntil(lambda: len(dialogs) >= 1, timeout=LOAD_TIMEOUT)
        from hindsight_qt import tasks

        tasks.wait_all(10000)
    title, text = dialogs[0]
    assert title == "Cannot compute the heatmap"
    assert text.startswith(f"{path}: is damaged: pageviews row ") and "end_ms is -5, outside 0..4,294,967,295" in text
    assert "\n" not in text and not any(word in text for word in PYTHON_WORDS)
    assert "Could not compute the heatmap" in panel.status_label.text()

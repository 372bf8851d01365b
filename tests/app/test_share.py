"""Clips and the findings report from the app (offscreen): Export clip… on a bookmark writes a
clip of the expected frame count, Cancel leaves no file, a pattern's clips go into one folder,
the timeline's menu and File ▸ Export findings report…."""

from __future__ import annotations

import shutil

import av
import pytest
from PySide6.QtWidgets import QDialog, QMenu

from hindsight.share.clips import clip_frame_count, clip_window
from hindsight_qt import tasks
from hindsight_qt.views import qt_share
from hindsight_qt.views.qt_bookmarks_panel import install_bookmark_support
from hindsight_qt.views.qt_share import ClipDialog, ClipOptions, install_share_actions

JOB_TIMEOUT = 60_000
TAG = "rage on product image"


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def shared(qtbot, window, demo_master, tmp_path):
    """A bare main window with the Bookmarks panel and the share actions, on a writable copy."""
    dst = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_master, dst)
    panel = install_bookmark_support(window)
    install_share_actions(window)
    assert window.open_capture(dst)
    qtbot.waitUntil(lambda: panel.store is not None, timeout=10_000)
    rage = window.capture.planted("rage_click")[:2]
    for sid, _kind, t_ms, *_ in rage:
        panel.add_bookmark(int(sid), int(t_ms), TAG, "clicks the picture")
    panel.refresh(select_tag=TAG)
    return window, panel


def _choose_in_popup(prefix: str) -> None:
    """Once a context menu pops up, trigger its action starting with ``prefix``."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, pick)
            return
        act = next(a for a in menu.actions() if a.text().startswith(prefix))
        menu.close()
        act.trigger()

    QTimer.singleShot(20, pick)


def _frames(path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def _no_leftovers(folder, keep=()) -> None:
    names = {p.name for p in folder.iterdir()} - set(keep) - {"demo.sqlite", "demo.sqlite-journal", "xdg", "config",
                                                               "hindsight.ini"}
    assert names == set(), f"left behind: {names}"


def test_bookmark_export_clip_writes_the_clip(qtbot, shared, tmp_path, monkeypatch):
    window, panel = shared
    b = panel._bookmarks[0]
    out = tmp_path / "bookmark.webm"

    def accept(dlg: ClipDialog):   # the user keeps the range, picks 4× and 320 px, and a file
        assert not dlg.folder_mode
        opts = dlg.options()
        assert (opts.t_from_ms, opts.t_to_ms) == clip_window(window.capture.session(b.session_id).duration_ms,
                                                             b.t_ms)
        dlg.speed_box.setValue(4.0)
        dlg.width_box.setValue(320)
        dlg.set_format("mp4")
        dlg.path_edit.setText(str(tmp_path / "bookmark.mp4"))
        dlg.set_format("webm")   # the suffix follows the format
        assert dlg.path_edit.text() == str(out) and dlg.problem() is None
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ClipDialog, "exec", accept)
    started = []
    real = qt_share.start_job
    monkeypatch.setattr(qt_share, "start_job", lambda *a, **k: started.append(real(*a, **k)) or started[-1])
    # the bookmark's context menu: "Export clip…"
    _choose_in_popup("Export clip…")
    panel._bookmark_menu(panel.bookmark_table.visualItemRect(panel.bookmark_table.item(0, 0)).center())
    assert started, "Export clip… started no job"
    task, dialog = started[0]
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: task.done, timeout=JOB_TIMEOUT)
    a, z = clip_window(window.capture.session(b.session_id).duration_ms, b.t_ms)
    assert out.exists() and _frames(out) == clip_frame_count(a, z, 4.0, 15) == 38
    assert not dialog.isVisible()
    _no_leftovers(tmp_path, keep={out.name})


def test_cancel_leaves_no_file(qtbot, shared, tmp_path):
    window, panel = shared
    b = panel._bookmarks[0]
    out = tmp_path / "long.webm"
    opts = ClipOptions(out=str(out), speed=0.5, width=320, t_from_ms=0,
                       t_to_ms=min(20_000, window.capture.session(b.session_id).duration_ms))
    cancelled = []
    task, dialog = qt_share.export_clip(window, window.capture, b.session_id, 0, 0, options=opts)
    dialog.cancelled.connect(lambda: cancelled.append(True))
    qtbot.waitUntil(lambda: dialog.bar.maximum() > 0 and dialog.bar.value() > 0, timeout=JOB_TIMEOUT)
    assert dialog.bar.value() < dialog.bar.maximum()
    dialog.cancel()
    qtbot.waitUntil(lambda: task.done and bool(cancelled), timeout=JOB_TIMEOUT)
    assert not out.exists()
    _no_leftovers(tmp_path)


def test_pattern_clips_one_per_moment_in_one_folder(qtbot, shared, tmp_path):
    window, panel = shared
    folder = tmp_path / "clips"
    folder.mkdir()
    opts = ClipOptions(out=str(folder), fmt="gif", speed=4.0, width=320, before_ms=400, after_ms=400)
    done = []
    task, _dialog = qt_share.export_pattern_clips(window, window.capture, panel.store, TAG, options=opts,
                                                  on_done=done.append)
    qtbot.waitUntil(lambda: task.done, timeout=JOB_TIMEOUT)
    files = sorted(folder.iterdir())
    assert len(files) == 2 == len(done[0]["paths"]) and all(f.suffix == ".gif" for f in files)
    assert done[0]["frames"] == [clip_frame_count(0, 800, 4.0, 15)] * 2
    assert [f.name.split("-session-")[1].split("-")[0] for f in files] == \
        sorted(str(b.session_id) for b in panel.store.bookmarks(tag=TAG))


def test_report_menu_and_timeline_menu(qtbot, shared, tmp_path, monkeypatch):
    window, panel = shared
    assert window.report_action in window.file_menu.actions() and window.report_action.isEnabled()
    texts = [a.text() for a in panel.export_button.menu().actions()]
    assert "Clips of the selected pattern…" in texts and "Findings report (.html)…" in texts
    # the timeline's context menu opens the clip dialog from the clicked time
    b = panel._bookmarks[0]
    assert window.load_session(b.session_id, at_ms=b.t_ms, autoplay=False)
    widget = window.player_view.timeline_widget
    qtbot.waitUntil(lambda: widget.duration_ms > 0, timeout=10_000)
    seen = {}

    def reject(dlg: ClipDialog):
        seen["range"] = (dlg.from_box.value(), dlg.to_box.value())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ClipDialog, "exec", reject)
    _choose_in_popup("Export clip from here")
    from PySide6.QtCore import QPoint

    x = int(widget._x_of(widget.duration_ms / 2))
    qt_share._timeline_menu(window, QPoint(x, 20))
    assert seen["range"][0] == pytest.approx(widget.duration_ms / 2000, abs=0.3)
    assert seen["range"][1] > seen["range"][0]
    # the report, without clips (fast): one HTML file with the pattern
    out = tmp_path / "report.html"
    task, _dialog = qt_share.export_report(window, window.capture, out, options={"clips": False})
    qtbot.waitUntil(lambda: task.done, timeout=JOB_TIMEOUT)
    text = out.read_text(encoding="utf-8")
    assert f'data-pattern="{TAG}"' in text and "data:image/jpeg;base64," in text
    tasks.wait_all(10_000)

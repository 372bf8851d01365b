"""First run: import recordings, cancellable progress (import, demo), preferences that stick and apply."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QMessageBox

from hindsight.demo.generate import generate_demo
from hindsight.store import open_capture
from hindsight_qt import main_window as main_window_mod
from hindsight_qt import tasks
from hindsight_qt.main_window import MainWindow
from hindsight_qt.settings import Settings
from hindsight_qt.views import qt_import_dialog as import_mod
from hindsight_qt.views.qt_import_dialog import ImportCancelled, ImportDialog, ImportOptions, run_import
from hindsight_qt.views.qt_preferences import PreferencesDialog, apply_preferences

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
SIGNUP = DATA / "session_signup_rrweb2.json"
TIMEOUT = 60_000


def leftovers(path: Path) -> list[Path]:
    """The file and anything a writer may leave beside it (``.partial``, journals)."""
    return sorted(p for p in path.parent.glob(path.name + "*"))


def gate_loading(monkeypatch) -> threading.Event:
    """Make the importer wait in ``load_session`` until the returned event is set."""
    from hindsight.importers import rrweb as rr

    gate = threading.Event()
    real = rr.load_session

    def slow(*args, **kwargs):
        assert gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(rr, "load_session", slow)
    return gate


# -- import dialog -------------------------------------------------------------------------
def test_dialog_defaults_and_options(qtbot, tmp_path):
    dialog = ImportDialog(paths=[str(SIGNUP)])
    qtbot.addWidget(dialog)
    assert dialog.mask_check.isChecked()
    assert dialog.render_check.isChecked()
    assert not dialog.append_radio.isEnabled()          # no capture open
    assert dialog.out_edit.text().endswith("session_signup_rrweb2.sqlite")
    out = tmp_path / "signup.sqlite"
    dialog.set_output(str(out))
    assert dialog.import_button.isEnabled()
    opts = dialog.options()
    assert opts == ImportOptions(paths=[str(SIGNUP)], out=str(out), append=False, screenshots=[],
                                 mask=True, render=True, overwrite=False)
    out.write_bytes(b"")
    dialog.set_output(str(out))
    assert not dialog.import_button.isEnabled()           # never replaces a file silently
    assert "already exists" in dialog.status.text()


def test_dialog_offers_append_only_for_a_writable_open_capture(qtbot, tmp_path, demo_master):
    copy = tmp_path / "open.sqlite"
    shutil.copy(demo_master, copy)
    dialog = ImportDialog(open_capture=copy, paths=[str(SIGNUP)])
    qtbot.addWidget(dialog)
    assert dialog.append_radio.isEnabled()
    dialog.append_radio.setChecked(True)
    assert dialog.import_button.isEnabled()
    opts = dialog.options()
    assert opts.append and opts.out == str(copy)
    copy.chmod(0o444)
    try:
        readonly = ImportDialog(open_capture=copy)
        qtbot.addWidget(readonly)
        if os.geteuid() != 0:   # root may write anything
            assert not readonly.append_radio.isEnabled()
    finally:
        copy.chmod(0o644)


def test_worker_path_imports_one_session(tmp_path):
    out = tmp_path / "signup.sqlite"
    calls = []
    report = run_import(ImportOptions([str(SIGNUP)], str(out), render=False),
                        lambda *args: calls.append(args) or True)
    assert report.sessions == 1
    assert calls[0] == (0, 0, SIGNUP.name)        # one file: busy until it is done
    assert calls[-1][:2] == (1, 1)
    with open_capture(out) as cap:
        assert cap.session_count() == 1
        assert cap.meta["masking"] == "lengths-only"


def test_import_through_the_window_opens_the_result(qtbot, window, tmp_path):
    out = tmp_path / "signup.sqlite"
    with qtbot.waitSignal(window.capture_did_open, timeout=TIMEOUT):
        task, dialog = import_mod.start_import(window, ImportOptions([str(SIGNUP)], str(out), render=False))
    assert task.done and not dialog.isVisible()
    assert window.capture.path == out
    assert window.capture.session_count() == 1


def test_cancelled_worker_writes_nothing(tmp_path):
    out = tmp_path / "signup.sqlite"
    with pytest.raises(ImportCancelled):
        run_import(ImportOptions([str(SIGNUP)] * 1, str(out), render=False), lambda *a: False)
    assert leftovers(out) == []
    # Cancelled after the first file was written (the second report says stop).
    answers = iter([True, False])
    with pytest.raises(ImportCancelled):
        run_import(ImportOptions([str(SIGNUP), str(DATA / "session_abandon_rrweb2.json")], str(out),
                                 render=False), lambda *a: next(answers, False))
    assert leftovers(out) == []


def test_cancel_button_leaves_no_file(qtbot, window, tmp_path, monkeypatch):
    gate = gate_loading(monkeypatch)
    out = tmp_path / "signup.sqlite"
    opened = []
    window.capture_did_open.connect(opened.append)
    task, dialog = import_mod.start_import(window, ImportOptions([str(SIGNUP)], str(out), render=False))
    assert dialog.isVisible()
    dialog.cancel()
    assert dialog.isVisible() and dialog.detail.text() == "Cancelling…"   # until the worker stopped
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        gate.set()
    assert task.done and not dialog.isVisible()
    assert leftovers(out) == []
    assert opened == [] and window.capture is None


def test_cancelled_append_keeps_the_capture_as_it_was(qtbot, window, tmp_path, demo_master, monkeypatch):
    copy = tmp_path / "open.sqlite"
    shutil.copy(demo_master, copy)
    with open_capture(copy) as cap:
        before = cap.session_count()
    gate = gate_loading(monkeypatch)
    task, dialog = import_mod.start_import(window, ImportOptions([str(SIGNUP)], str(copy), append=True,
                                                                 render=False))
    dialog.cancel()
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        gate.set()
    with open_capture(copy) as cap:
        assert cap.session_count() == before


def test_append_adds_the_session_and_reopens(qtbot, window, tmp_path, demo_master):
    copy = tmp_path / "open.sqlite"
    shutil.copy(demo_master, copy)
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=TIMEOUT):
        window.open_capture(copy)
    before = window.capture.session_count()
    with qtbot.waitSignal(window.capture_did_open, timeout=TIMEOUT):
        import_mod.start_import(window, ImportOptions([str(SIGNUP)], str(copy), append=True, render=False))
    assert window.capture.session_count() == before + 1


def test_bad_file_shows_the_one_line_reason(qtbot, window, tmp_path, monkeypatch):
    bad = tmp_path / "broken.json"
    bad.write_text("[{not json")
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append((title, text)))
    out = tmp_path / "x.sqlite"
    task, _dialog = import_mod.start_import(window, ImportOptions([str(bad)], str(out), render=False))
    qtbot.waitUntil(lambda: bool(shown), timeout=TIMEOUT)
    title, text = shown[0]
    assert title == "Import failed"
    assert "broken.json" in text and "\n" not in text
    assert leftovers(out) == []


def test_file_menu_has_import_and_edit_menu_has_preferences(window):
    assert window.import_action in window.file_menu.actions()
    assert window.preferences_action in window.edit_menu.actions()


# -- demo ----------------------------------------------------------------------------------
def test_demo_progress_is_fine_grained_and_cancels(tmp_path):
    calls = []
    generate_demo(tmp_path / "demo.sqlite", sessions=2000, seed=7, progress=lambda d, t: calls.append((d, t)))
    assert len(calls) > 1
    assert calls[-1] == (2000, 2000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    out = tmp_path / "cancelled.sqlite"
    seen = []
    with pytest.raises(InterruptedError):
        generate_demo(out, sessions=2000, seed=7, progress=lambda d, t: seen.append(d) or False)
    assert seen == [100]   # stopped at the first report, not after all 2,000 sessions
    assert leftovers(out) == []


def test_demo_cancel_from_the_dialog_leaves_no_file(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(main_window_mod, "DEMO_SESSIONS", 2000)
    window.demo_path = tmp_path / "share" / "demo.sqlite"
    window.open_demo_capture()
    dialog = window.demo_progress
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        dialog.cancel()
    assert leftovers(window.demo_path) == []
    assert window.capture is None


def test_demo_dialog_shows_determinate_progress(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(main_window_mod, "DEMO_SESSIONS", 300)
    window.demo_path = tmp_path / "share" / "demo.sqlite"
    values = []
    with qtbot.waitSignal(window.capture_did_open, timeout=TIMEOUT):
        window.open_demo_capture()
        window.demo_progress.bar.valueChanged.connect(values.append)
    assert window.capture.session_count() == 300
    assert window.demo_progress.bar.maximum() == 300 and values and values[-1] == 300


# -- preferences ---------------------------------------------------------------------------
def test_preferences_round_trip_through_qsettings(qtbot, settings):
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.speed_combo.currentData() == 2.0            # defaults
    assert dialog.pause_check.isChecked()
    assert dialog.hesitation_spin.seconds() == 2.5
    assert dialog.min_sessions_spin.value() == 1000
    dialog.speed_combo.setCurrentIndex(dialog.speed_combo.findData(4.0))
    dialog.pause_check.setChecked(False)
    dialog.hesitation_spin.set_seconds(4.0)
    dialog.min_sessions_spin.setValue(250)
    dialog.opacity_slider.setValue(45)
    dialog.accept()
    again = Settings(QSettings(settings.q.fileName(), QSettings.Format.IniFormat))
    assert again.speed == 4.0
    assert again.pause_on_hesitation is False
    assert again.hesitation_threshold_ms == 4000
    assert again.heatmap_min_sessions == 250
    assert again.overlay_opacity == pytest.approx(0.45)
    reopened = PreferencesDialog(again)
    qtbot.addWidget(reopened)
    assert reopened.hesitation_spin.seconds() == 4.0 and not reopened.pause_check.isChecked()
    reopened.restore_defaults()
    assert reopened.hesitation_spin.seconds() == 2.5 and reopened.min_sessions_spin.value() == 1000


def test_settings_fall_back_on_bad_values(settings):
    settings.q.setValue("player/hesitation_threshold_ms", "soon")
    settings.q.setValue("heatmap/min_sessions", -5)
    settings.q.setValue("player/overlay_opacity", "x")
    assert settings.hesitation_threshold_ms == 2500
    assert settings.heatmap_min_sessions == 1000
    assert settings.overlay_opacity == 0.6


def test_preferences_reach_the_player_and_the_heatmap_panel(qtbot, settings, demo_master):
    win = MainWindow(settings, panels=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    try:
        from hindsight_qt.views.qt_preferences import heatmap_panels

        panels = heatmap_panels(win)
        assert len(panels) == 1
        panel = panels[0]
        panel.set_capture(open_capture(demo_master))   # 300 sessions
        settings.hesitation_threshold_ms = 4000
        settings.heatmap_min_sessions = 100
        settings.overlay_opacity = 0.4
        settings.speed = 1.0
        apply_preferences(win)
        core = win.player_view.player
        assert core.hesitation_threshold_ms == 4000
        assert core.speed == 1.0
        assert panel.min_sessions == 100 and panel._engine.min_sessions == 100
        assert panel.opacity_slider.value() == 40
        overlay = win.player_view.overlay
        assert overlay.min_sessions == 100 and overlay.toolbar.opacity_slider.value() == 40
        qtbot.waitUntil(lambda: panel.result is not None and panel._task is None, timeout=TIMEOUT)
        assert panel.result.sample.min_sessions == 100
        assert panel.result.warning is None          # the landing page on desktop: 173 sessions >= 100
        settings.heatmap_min_sessions = 1000
        apply_preferences(win)
        qtbot.waitUntil(lambda: panel.result is not None and panel.result.warning is not None, timeout=TIMEOUT)
        assert panel.result.sample.sessions < 1000 and panel.warning_label.text().startswith("⚠ Only")
    finally:
        win.close()
        tasks.wait_all(20_000)


def test_preferences_apply_at_start_up(qtbot, settings):
    settings.hesitation_threshold_ms = 5000
    win = MainWindow(settings)
    qtbot.addWidget(win)
    try:
        assert win.player_view.player.hesitation_threshold_ms == 5000
    finally:
        win.close()


def test_preferences_dialog_from_the_menu_applies(qtbot, window, monkeypatch):
    def fake_exec(self):
        self.hesitation_spin.set_seconds(3.5)
        self.accept()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PreferencesDialog, "exec", fake_exec)
    window.preferences_action.trigger()
    assert window.player_view.player.hesitation_threshold_ms == 3500
    assert window.settings.hesitation_threshold_ms == 3500


# -- heatmap -------------------------------------------------------------------------------
def test_slow_heatmap_shows_a_cancellable_progress_dialog(qtbot, demo_master, monkeypatch):
    from hindsight.analytics.heatmap import HeatmapEngine
    from hindsight_qt.views import qt_heatmap_panel as heat_mod

    gate = threading.Event()
    real = HeatmapEngine.compute

    def slow(self, *args, **kwargs):
        assert gate.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(HeatmapEngine, "compute", slow)
    monkeypatch.setattr(heat_mod, "SLOW_COMPUTE_MS", 50)
    panel = heat_mod.QtHeatmapPanel()
    qtbot.addWidget(panel)
    panel.show()
    try:
        panel.set_capture(open_capture(demo_master))
        dialog = panel._progress
        qtbot.waitUntil(dialog.isVisible, timeout=5_000)
        assert dialog.label.text() == "Computing the heatmap…"
        with qtbot.waitSignal(dialog.cancelled, timeout=1_000):
            dialog.cancel()                   # read-only work: closes without waiting for it
        assert not dialog.isVisible()
        gate.set()
        tasks.wait_all(20_000)
        qtbot.wait(50)                        # the late result is dropped
        assert panel.result is None and panel._task is None
        assert panel.status_label.text().startswith("Cancelled")
    finally:
        gate.set()
        tasks.wait_all(20_000)


def test_heatmap_progress_dialog_goes_away_when_done(qtbot, demo_master):
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    panel = QtHeatmapPanel()
    qtbot.addWidget(panel)
    panel.set_capture(open_capture(demo_master))
    dialog = panel._progress
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    qtbot.wait(50)
    assert not dialog.isVisible()
    tasks.wait_all(20_000)


def test_dropping_recordings_opens_the_import_dialog(qtbot, window, monkeypatch):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    seen = []
    monkeypatch.setattr(ImportDialog, "exec", lambda self: seen.append(self.files()) or QDialog.DialogCode.Rejected)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(SIGNUP)), QUrl.fromLocalFile(str(DATA / "posthog_export_v2.json"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert [Path(p).name for p in seen[0]] == [SIGNUP.name, "posthog_export_v2.json"]
    assert window.capture is None


def test_skip_inactivity_preference_shows_saves_and_reaches_the_player(qtbot, settings):
    """It used to be hidden: the dialog only showed it when the player "had" the setting
    (a hasattr guess that was always False)."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    try:
        dialog = PreferencesDialog(settings, win)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.inactivity_spin.isVisible()
        from PySide6.QtWidgets import QFormLayout, QLabel

        forms = [lay for lay in dialog.findChildren(QFormLayout) if lay.indexOf(dialog.inactivity_spin) >= 0]
        assert len(forms) == 1
        row_label = forms[0].labelForField(dialog.inactivity_spin)
        assert isinstance(row_label, QLabel) and row_label.text() == "Skip inactivity after"
        assert row_label.isVisible()
        assert dialog.inactivity_spin.value() == 10
        dialog.inactivity_spin.setValue(25)
        dialog.accept()
        assert settings.inactivity_threshold_ms == 25_000
        apply_preferences(win)
        assert win.player_view.player.inactivity_threshold_ms == 25_000
    finally:
        win.close()

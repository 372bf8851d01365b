"""Fixtures for GUI tests: offscreen Qt, isolated QSettings, a small demo capture made once,
and the widgets most tests drive (main window, heatmap panel)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hindsight_qt.pyside_guard import guard_none_refcount  # noqa: E402

guard_none_refcount()   # what create_application() does first (see there)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

APP_DEMO_SESSIONS = 300
APP_DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """A 300-session demo capture (seed 7), generated once per test run; never modify it."""
    from hindsight.demo.generate import generate_demo

    path = tmp_path_factory.mktemp("app_demo") / "demo.sqlite"
    if not path.exists():
        generate_demo(path, sessions=APP_DEMO_SESSIONS, seed=APP_DEMO_SEED)
    return path


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Point QSettings and the demo capture location at a per-test folder, never the user's."""
    from PySide6.QtCore import QSettings

    config = tmp_path / "config"
    config.mkdir()
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(config))
    monkeypatch.setenv("HINDSIGHT_DEMO_PATH", str(tmp_path / "generated_demo.sqlite"))
    return config


@pytest.fixture(autouse=True)
def drain_workers():
    """After each test, let background tasks finish and deliver before widgets are torn down.

    A worker still running when pytest-qt closes a test's widgets would deliver its result
    into freed objects (seen once as a segfault in teardown).
    """
    yield
    from PySide6.QtWidgets import QApplication

    from hindsight_qt import tasks

    tasks.wait_all(30_000)
    if QApplication.instance() is not None:
        QApplication.processEvents()


@pytest.fixture
def capture(demo_master):
    """The demo capture, opened read-only."""
    from hindsight.store import open_capture

    with open_capture(demo_master) as cap:
        yield cap


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    from hindsight_qt.settings import Settings

    return Settings(QSettings(str(tmp_path / "hindsight.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot, settings):
    """A bare MainWindow (no analysis panels) on its own settings; workers drained afterwards."""
    from hindsight_qt import tasks
    from hindsight_qt.main_window import MainWindow

    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    tasks.wait_all(20_000)  # no worker left running into the next test


@pytest.fixture
def heatmap_panel(qtbot, capture):
    """A QtHeatmapPanel showing the demo's first page, its first map computed."""
    from hindsight_qt import tasks
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    p = QtHeatmapPanel()
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    with qtbot.waitSignal(p.heatmap_updated, timeout=20000):
        p.set_capture(capture)
    yield p
    tasks.wait_all(10000)

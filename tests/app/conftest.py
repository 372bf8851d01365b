"""Fixtures for GUI tests: offscreen Qt, isolated QSettings, a small demo capture made once."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

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

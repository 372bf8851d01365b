"""Shared fixtures for core tests: a demo capture generated once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEMO_SESSIONS = 2000
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """The default demo capture (2,000 sessions, seed 7); never modify it: use ``demo_copy``."""
    from hindsight.demo.generate import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    generate_demo(path, sessions=DEMO_SESSIONS, seed=DEMO_SEED)
    return path


@pytest.fixture
def demo_copy(demo_master, tmp_path) -> Path:
    dst = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_master, dst)
    return dst


@pytest.fixture
def demo(demo_master):
    from hindsight.store import open_capture

    with open_capture(demo_master) as cap:
        yield cap

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


# -- capture datasets on a local Dask cluster (tests/core/test_engine*.py, test_dataset_*.py) ----
@pytest.fixture(scope="module")
def cluster():
    """A local cluster of 2 worker processes, one per test module (no dashboard port)."""
    from distributed import Client, LocalCluster

    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40)
    client = Client(lc, set_as_default=False)
    yield client
    client.close()
    lc.close()


@pytest.fixture(scope="module")
def dataset_path(demo_master, tmp_path_factory):
    """The 2,000-session demo exported to a dataset (``hindsight export dataset``), per module."""
    from hindsight.dataset.export import export_capture

    out = tmp_path_factory.mktemp("ds") / "demo-dataset"
    export_capture(demo_master, str(out))
    return out

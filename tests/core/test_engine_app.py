"""What the app asks of a dataset (issue 16): one page of the session list, hot spots, cancel.

The 2,000-session demo exported to a dataset, on a local cluster of 2 worker processes (one
per module); every answer equals the SQLite capture's.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from hindsight.analytics.heatmap import HeatmapEngine  # noqa: E402
from hindsight.store.filters import SessionFilter  # noqa: E402


@pytest.fixture(scope="module")
def dcap(demo_master, tmp_path_factory, cluster):
    from hindsight.dataset.export import export_capture
    from hindsight.engine.driver import open_dataset_capture

    out = tmp_path_factory.mktemp("ds") / "demo-dataset"
    export_capture(demo_master, str(out))
    return open_dataset_capture(str(out), client=cluster)


@pytest.mark.parametrize("order_by", ["-start_ms", "duration_ms", "-device", "event_count"])
def test_session_pages_are_slices_of_the_capture_list(dcap, demo, order_by):
    from hindsight.engine.on_dataset import session_page

    for flt in (None, SessionFilter(device=("mobile",), min_duration_s=20)):
        full = demo.session_table(flt, order_by)
        n = full["session_id"].shape[0]
        assert n > 200
        for offset in (0, 150, n - 7):
            total, rows = session_page(dcap, flt, order_by, offset, 150)
            assert total == n
            assert rows["session_id"].shape[0] == min(150, n - offset)
            for c in full:
                assert np.array_equal(rows[c], full[c][offset:offset + 150]), (order_by, offset, c)
    # Listed sessions replay from their own day: no search of every partition.
    sid = int(rows["session_id"][0])
    assert dcap.session_partition(sid).session(sid) == demo.session(sid)


def test_sessions_at_a_hot_spot_equal_the_capture(dcap, demo):
    from hindsight.analytics.hotspots import hot_spot
    from hindsight.engine.driver import DatasetHeatmaps

    eng, ds = HeatmapEngine(demo), DatasetHeatmaps(dcap)
    checked = 0
    for snap in demo.snapshots()[:3]:
        grid = eng.compute(snap.snapshot_id, "click").grid
        iy, ix = np.unravel_index(int(np.argmax(grid)), grid.shape)
        x, y = (ix + 0.5) * eng.cell_px, (iy + 0.5) * eng.cell_px
        for kind in ("click", "rage", "dead"):
            for flt in (None, SessionFilter(device=("desktop",))):
                want = eng.sessions_at(snap.snapshot_id, kind, x, y, 40, flt)
                assert ds.sessions_at(snap.snapshot_id, kind, x, y, 40, flt) == want
                checked += len(want)
        assert hot_spot(ds, snap.snapshot_id, "click", x, y, 40) == hot_spot(eng, snap.snapshot_id, "click", x, y, 40)
    assert checked > 100   # real clicks at real hot spots, not empty lists


def _sleep_task(url, day, seconds):
    time.sleep(seconds)
    return day


def _tasks_on_scheduler(client, name):
    return client.run_on_scheduler(lambda dask_scheduler: sum(name in str(k) for k in dask_scheduler.tasks))


def test_cancel_cancels_the_futures(dcap, cluster):
    """``run(cancelled=)`` and a ``cancel_scope`` around it (the app's tasks) both stop waiting
    at once and release every future on the cluster."""
    import cloudpickle

    from hindsight.engine.cancel import cancel_scope
    from hindsight.engine.driver import Cancelled

    slow = cloudpickle.loads(cloudpickle.dumps(_sleep_task))   # by value: workers cannot import tests
    days = len(dcap.days())
    assert days >= 20   # 20+ tasks of 2 s on 2 workers: 20+ s if not cancelled

    stop_at = time.monotonic() + 0.5
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        dcap.run(slow, 2.0, cancelled=lambda: time.monotonic() > stop_at)
    assert time.monotonic() - t0 < 3.0

    flag = threading.Event()
    errors = []

    def worker():
        with cancel_scope(flag.is_set):
            try:
                dcap.run(slow, 2.0)
            except Cancelled as exc:
                errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(0.5)
    flag.set()
    thread.join(5)
    assert not thread.is_alive() and len(errors) == 1
    deadline = time.monotonic() + 10
    while _tasks_on_scheduler(cluster, "_sleep_task") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _tasks_on_scheduler(cluster, "_sleep_task") == 0
    assert dcap.session_count() == 2000   # the cluster is usable after a cancel

"""The app on a capture dataset (issue 16): File > Open dataset…, the paged session list,
analyses on the cluster behind the progress dialog (Cancel cancels the tasks), replay.

The 2,000-session demo is exported to a dataset once per module and analysed on one local
cluster of 2 worker processes (the window reaches it by its scheduler address, as a user
with ``$HINDSIGHT_SCHEDULER`` would); every number equals the SQLite capture's.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from hindsight.store import SessionFilter, open_capture  # noqa: E402

SESSIONS = 2000
TIMEOUT = 120_000   # ms: the cluster shares 2 cores with everything else in CI


@pytest.fixture(scope="module")
def demo2000(tmp_path_factory):
    from hindsight.demo.generate import generate_demo

    path = tmp_path_factory.mktemp("ds_app") / "demo.sqlite"
    generate_demo(path, sessions=SESSIONS, seed=7)
    return path


@pytest.fixture(scope="module")
def dataset(demo2000):
    from hindsight.dataset.export import export_capture

    out = demo2000.parent / "demo-dataset"
    export_capture(demo2000, str(out))
    return out


@pytest.fixture(scope="module")
def scheduler():
    from distributed import Client, LocalCluster

    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
    yield lc.scheduler_address
    lc.close()


@pytest.fixture
def cap(demo2000):
    with open_capture(demo2000) as c:
        yield c


@pytest.fixture
def errors(monkeypatch):
    """The one-line error dialogs shown (title, text) instead of blocking on them."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda _parent, title, text, *a: shown.append((title, text))))
    return shown


@pytest.fixture
def win(qtbot, settings, dataset, scheduler, errors):
    """The full window (panels) with the dataset open and its first page listed."""
    from hindsight_qt import tasks
    from hindsight_qt.main_window import MainWindow

    w = MainWindow(settings, panels=True)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_dataset(str(dataset), scheduler=scheduler)
    qtbot.waitUntil(lambda: w.capture is not None or bool(errors), timeout=TIMEOUT)
    assert not errors
    qtbot.waitUntil(lambda: w.session_list.model.rowCount() > 0 and not w.session_list.pager.busy, timeout=TIMEOUT)
    yield w
    w.close()
    tasks.wait_all(60_000)


def _page_ids(w) -> np.ndarray:
    return w.session_list.model.ordered_session_ids()


def test_open_dataset_pages_the_list_and_filters_on_the_cluster(qtbot, win, cap, settings):
    sl = win.session_list
    assert win.workspace.on_dataset and sl.pager_bar.isVisible()
    full = cap.session_table(order_by="-start_ms")["session_id"]
    assert sl.count_label.text() == "2,000 sessions · showing 1–500"
    assert np.array_equal(_page_ids(win), full[:500])
    assert sl.pager_bar.label.text() == "Page 1 of 4" and not sl.pager_bar.previous_button.isEnabled()
    assert win.status_sessions.text() == "2,000 sessions" and "dataset" in win.status_file.text()

    sl.pager_bar.next_button.click()
    qtbot.waitUntil(lambda: sl.count_label.text() == "2,000 sessions · showing 501–1,000", timeout=TIMEOUT)
    assert np.array_equal(_page_ids(win), full[500:1000])
    assert sl.pager_bar.previous_button.isEnabled()

    flt = SessionFilter(device=("mobile",), min_duration_s=20)
    want = cap.session_table(flt, "-start_ms")["session_id"]
    assert 0 < want.size < 500
    win.apply_filter(flt)
    expected = f"{want.size:,} of 2,000 sessions · showing 1–{want.size:,}"
    qtbot.waitUntil(lambda: sl.count_label.text() == expected, timeout=TIMEOUT)
    assert np.array_equal(_page_ids(win), want)   # back to page 1 of the filtered list
    assert not sl.pager_bar.next_button.isEnabled()

    # A header click sorts on the cluster: the page is the capture's list sorted the same way.
    from hindsight_qt.views.qt_session_list import COLUMNS
    from PySide6.QtCore import Qt

    duration = [c.key for c in COLUMNS].index("duration_ms")
    sl.view.sortByColumn(duration, Qt.SortOrder.DescendingOrder)
    want = cap.session_table(flt, "-duration_ms")["session_id"]
    qtbot.waitUntil(lambda: np.array_equal(_page_ids(win), want), timeout=TIMEOUT)
    assert str(win.capture.path) in settings.recent_files()[0]   # File > Open Recent remembers the dataset


def test_heatmap_on_the_cluster_equals_the_capture_and_cancel_leaves_the_app_usable(qtbot, win, cap):
    from hindsight.analytics.heatmap import HeatmapEngine

    panel, dock = win.heatmap_panel, win._heatmap_dock
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: panel._result is not None and panel._task is None, timeout=TIMEOUT)
    snap = panel._snapshot.snapshot_id
    ref = HeatmapEngine(cap).compute(snap, "click")
    assert np.array_equal(panel._result.grid, ref.grid) and panel._result.sample == ref.sample
    assert ref.sample.points > 500

    # Cancel while the scroll map runs on the cluster: its futures go, the panel says so.
    panel.set_kind("scroll")
    task = panel._task
    assert task is not None
    panel._progress.cancel()
    assert task.cancelled
    qtbot.waitUntil(lambda: task.done, timeout=TIMEOUT)
    assert panel.status_label.text().startswith("Cancelled")
    client = win.capture.client
    qtbot.waitUntil(lambda: not any(client.processing().values()), timeout=TIMEOUT)

    # ...and the app still works: the same map again, then hot spot sessions on the dataset.
    panel.set_kind("scroll")
    qtbot.waitUntil(lambda: panel._task is None and panel._result is not None and panel._result.kind == "scroll",
                    timeout=TIMEOUT)
    assert np.array_equal(panel._result.grid, HeatmapEngine(cap).compute(snap, "scroll").grid)
    rows = win.workspace.heatmap_engine.sessions_at(snap, "click", 700, 240, 60)
    assert rows == HeatmapEngine(cap).sessions_at(snap, "click", 700, 240, 60)


def test_replay_on_a_dataset_shows_the_capture_frame(qtbot, win, cap, settings):
    from hindsight.replay.timeline import SessionTimeline
    from hindsight_qt.main_window import MainWindow

    table = win.session_list.model.table
    desktop = table["session_id"][(table["device"] == "desktop") & (table["event_count"] > 50)]
    sid = int(desktop[0])
    ref = SessionTimeline.load(cap, sid)
    # A moment late in the session with the cursor on screen: what a replay must show.
    at = next(int(t) for t in ref.frame_times()[::-1] if ref.frame_at(t).cursor is not None)
    assert win.load_session(sid, at_ms=at, autoplay=False)
    player = win.player_view
    assert player.session_id == sid
    frame = player.timeline.frame_at(at)
    assert frame == ref.frame_at(at) and frame.cursor is not None and frame.trail.shape[0] > 0
    assert player.timeline.markers == ref.markers
    on_dataset = player.canvas.grab().toImage()

    # The same moment of the same session in a window on the capture: the same picture
    # (screenshot, cursor, clicks), drawn at the same size.
    other = MainWindow(settings, panels=True)
    qtbot.addWidget(other)
    other.resize(win.size())
    other.show()
    assert other.open_capture(cap.path)
    assert other.load_session(sid, at_ms=at, autoplay=False)
    other.player_view.canvas.resize(player.canvas.size())
    qtbot.wait(50)
    picture = other.player_view.canvas.grab().toImage()
    assert picture.size() == on_dataset.size() and picture == on_dataset
    other.close()


def test_bad_datasets_are_one_line_errors(qtbot, settings, tmp_path, dataset, errors):
    import shutil

    from hindsight_qt import tasks
    from hindsight_qt.main_window import MainWindow

    w = MainWindow(settings, panels=True)
    qtbot.addWidget(w)
    w.show()
    no_meta = tmp_path / "no-meta"
    shutil.copytree(dataset, no_meta)
    (no_meta / "meta.json").unlink()
    newer = tmp_path / "newer"
    shutil.copytree(dataset, newer)
    import json

    meta = json.loads((newer / "meta.json").read_text())
    meta["version"] = int(meta.get("version", 1)) + 50
    (newer / "meta.json").write_text(json.dumps(meta))
    cases = [(str(no_meta), None), (str(newer), None), (str(dataset), "tcp://127.0.0.1:9")]
    for source, sched in cases:
        before = len(errors)
        assert w.open_dataset(source, scheduler=sched)
        qtbot.waitUntil(lambda: len(errors) > before, timeout=TIMEOUT)
        title, text = errors[-1]
        assert title == "Cannot open dataset" and "\n" not in text and len(text) < 300
        assert w.capture is None   # nothing half-opened
    assert "meta.json" in errors[0][1]
    assert "newer" in errors[1][1] or "version" in errors[1][1]
    assert "scheduler" in errors[2][1]
    w.close()
    tasks.wait_all(30_000)


def test_signals_forms_and_funnel_panels_equal_the_capture(qtbot, win, cap):
    from hindsight.analytics.forms import form_reports
    from hindsight.analytics.funnel import funnel
    from hindsight.workspace import Workspace

    docks = {d.windowTitle(): d for d in win.panels()}
    qtbot.waitUntil(lambda: win.workspace.signal_index is not None, timeout=TIMEOUT)
    ref = Workspace(cap).compute_signal_index()
    got = win.workspace.signal_index
    assert np.array_equal(got.session_ids, ref.session_ids) and np.array_equal(got.score, ref.score)
    assert int(ref.score.astype(bool).sum()) > 50

    funnel_panel = docks["Funnel"].widget()
    docks["Funnel"].show()
    docks["Funnel"].raise_()
    qtbot.waitUntil(lambda: funnel_panel._report is not None, timeout=TIMEOUT)
    assert funnel_panel._report.as_dict() == funnel(cap, list(funnel_panel._steps)).as_dict()
    assert funnel_panel._report.results[0].sessions == SESSIONS

    forms_panel = docks["Forms"].widget()
    docks["Forms"].show()
    docks["Forms"].raise_()
    qtbot.waitUntil(lambda: forms_panel.report is not None, timeout=TIMEOUT)
    want = form_reports(cap)
    assert {k: r.as_dict() for k, r in forms_panel._reports.items()} == {k: r.as_dict() for k, r in want.items()}
    assert want[None].started > 100


def test_no_text_is_clipped_on_a_dataset_at_1280x720(qtbot, win):
    """The dataset's controls (pager bar, count, disabled panels' reasons) fit at the smallest size."""
    from test_window_sizes import clipped_widgets, settle

    problems = {}
    for dock in [win.sessions_dock, *win.panels()]:
        dock.raise_()
        settle(qtbot, 300)
        assert (win.width(), win.height()) == (1280, 720), dock.windowTitle()
        found = clipped_widgets(win)
        if found:
            problems[dock.windowTitle()] = found
    assert problems == {}, "\n".join(f"{tab}: {p}" for tab, found in problems.items() for p in found)
    bar = win.session_list.pager_bar
    assert bar.isVisible() and bar.next_button.isEnabled() and bar.label.text() == "Page 1 of 4"

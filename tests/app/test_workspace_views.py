"""Views built with the window's Workspace show the same numbers: one colour scale for a map
in the Heatmap tab, the replay overlay and the CLI's PNG; one dead-click count in the heatmaps
and the Signals panel; one heatmap engine for the tab and the overlay."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from hindsight.analytics import heatmap_export
from hindsight.analytics.heatmap_display import display_scale
from hindsight.cli import main as cli_main
from hindsight.store import SessionFilter
from hindsight_qt import tasks
from hindsight_qt.main_window import MainWindow
from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel
from hindsight_qt.views.qt_signals_panel import QtSignalsPanel

LOAD_TIMEOUT = 30_000
LANDING = "https://demo.hindsight.local/"


@pytest.fixture
def app_window(qtbot, settings, demo_master):
    """A window with a Heatmap and a Signals panel built as the app builds them, demo open."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    heat = QtHeatmapPanel(workspace=win.workspace)
    signals = QtSignalsPanel(workspace=win.workspace)
    win.attach_panel("Heatmap", heat, Qt.DockWidgetArea.RightDockWidgetArea)
    win.attach_panel("Signals", signals, Qt.DockWidgetArea.RightDockWidgetArea)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert win.open_capture(demo_master)
    yield win, heat, signals
    win.close()
    tasks.wait_all(20_000)


def _landing_desktop_session(cap) -> int:
    landing = cap.page_by_url(LANDING).page_id
    for sid in cap.session_ids():
        pvs = cap.pageviews(int(sid))
        if cap.session(int(sid)).device == "desktop" and pvs and pvs[0].page_id == landing:
            return int(sid)
    raise AssertionError("no desktop session starting on the landing page")


def _show_heatmap(qtbot, win, heat, kind: str, url: str = LANDING, device: str = "desktop"):
    win.panels()[[d.widget() for d in win.panels()].index(heat)].raise_()
    qtbot.waitUntil(lambda: heat._capture is win.capture, timeout=LOAD_TIMEOUT)
    with qtbot.waitSignal(heat.heatmap_updated, timeout=LOAD_TIMEOUT):
        heat.set_page(url, device)
        heat.set_kind(kind)
    qtbot.waitUntil(lambda: heat.result is not None and heat.result.kind == kind
                    and heat.snapshot.device == device, timeout=LOAD_TIMEOUT)
    tasks.wait_all(LOAD_TIMEOUT)
    qtbot.wait(50)
    return heat.result


def test_panel_overlay_and_cli_png_colour_a_map_on_the_same_levels(qtbot, app_window, capture, demo_master,
                                                                     tmp_path, monkeypatch):
    win, heat, _signals = app_window
    result = _show_heatmap(qtbot, win, heat, "click")
    core = display_scale(result).levels
    panel_levels = tuple(float(v) for v in heat.overlay_item.levels)

    sid = _landing_desktop_session(capture)
    assert win.load_session(sid, autoplay=False)
    overlay = win.player_view.overlay
    overlay.set_kind("click")
    qtbot.waitUntil(lambda: overlay.result is not None and overlay.result.kind == "click", timeout=LOAD_TIMEOUT)
    # One engine: the overlay shows the very result object the Heatmap tab computed.
    assert overlay.result is result
    assert overlay.engine is heat._engine is win.workspace.heatmap_engine
    item = win.player_view.canvas.overlay_item
    overlay_levels = tuple(float(v) for v in item.levels)
    np.testing.assert_array_equal(item.lut, display_scale(result).lut)

    # The CLI's PNG: the levels its overlay is composited with.
    seen = []
    real = heatmap_export.composite

    def spy(screenshot, grid, rect, levels, *args, **kwargs):
        seen.append((tuple(float(v) for v in levels), float(grid.max())))
        return real(screenshot, grid, rect, levels, *args, **kwargs)

    monkeypatch.setattr(heatmap_export, "composite", spy)
    out = tmp_path / "click.png"
    assert cli_main(["heatmap", str(demo_master), "--page", LANDING, "--kind", "click", "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
    (png_levels, png_peak), = seen
    assert png_peak == pytest.approx(result.levels[1])   # the same map

    assert panel_levels == pytest.approx(core)
    assert overlay_levels == pytest.approx(core)
    assert png_levels == pytest.approx(core)
    # The scale tops out below the hottest cell (what the overlay and PNG ignored before).
    assert core[1] < result.levels[1]


def test_heatmap_and_signals_panel_count_the_same_dead_clicks(qtbot, app_window, capture):
    win, heat, signals = app_window
    win.panels()[[d.widget() for d in win.panels()].index(signals)].raise_()
    qtbot.waitUntil(lambda: signals.index is not None, timeout=LOAD_TIMEOUT)
    for flt in (SessionFilter(), SessionFilter(device=("mobile",))):
        win.apply_filter(flt)
        qtbot.waitUntil(lambda: signals._filter == win.current_filter(), timeout=LOAD_TIMEOUT)
        tasks.wait_all(LOAD_TIMEOUT)
        qtbot.wait(50)
        on_signals = int(signals.signal_labels["dead_click"].text().replace(",", ""))
        on_maps = 0
        for page in capture.pages():
            for snap in capture.snapshots(page.page_id):
                if flt.device and snap.device not in flt.device:
                    continue
                r = _show_heatmap(qtbot, win, heat, "dead", page.url, snap.device)
                on_maps += r.sample.points
                # the element table counts the same dead clicks (those on an element)
                listed = sum(e.dead_clicks for e in win.workspace.heatmap_engine.element_table(
                    snap.snapshot_id, win.current_filter()))
                assert listed <= r.sample.points
        assert on_signals == on_maps == win.workspace.dead_clicks() > 0
        win.panels()[[d.widget() for d in win.panels()].index(signals)].raise_()


def test_the_workspace_knows_the_session_and_moment_the_player_shows(qtbot, app_window, capture):
    win, _heat, _signals = app_window
    seen = []
    win.workspace.events.session_changed.connect(seen.append)
    sid = _landing_desktop_session(capture)
    assert win.load_session(sid, at_ms=1500, autoplay=False)
    assert win.workspace.session_id == sid and seen[-1] == sid
    win.player_view.player.seek(4200.0)
    assert win.workspace.moment_ms == pytest.approx(4200.0)
    # a view asking for a replay goes through the workspace to the player
    other = int(capture.session_ids()[3])
    with qtbot.waitSignal(win.session_did_load, timeout=LOAD_TIMEOUT):
        win.workspace.request_replay(other, 800)
    assert win.player_view.session_id == other == win.workspace.session_id


def test_a_minimum_above_the_maximum_keeps_the_filter_and_says_why(qtbot, app_window):
    win, _heat, _signals = app_window
    panel = win.filter_panel
    panel.select("device", ["desktop"])
    panel.flush()
    before = win.current_filter()
    assert before.device == ("desktop",)
    panel.max_duration.setValue(10)
    panel.min_duration.setValue(60)   # build_filter refuses it, as the CLI does
    panel.flush()
    assert win.current_filter() == before
    assert "more than the maximum" in panel.min_duration.toolTip()
    panel.max_duration.setValue(0)    # no maximum: the minimum applies
    panel.flush()
    assert win.current_filter().min_duration_s == 60.0 and panel.min_duration.toolTip() == ""

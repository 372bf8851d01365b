"""QtHeatmapPanel on the demo capture: overlay per kind, sample-size badge, hot spot sessions."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.store import SessionFilter
from hindsight.analytics.heatmap import TITLES, _num
from hindsight.analytics.heatmap_display import display_scale
from hindsight_qt.views.qt_heatmap_panel import ELEMENT_MIN_PX, SEGMENT_COL

LANDING = "https://demo.hindsight.local/"


@pytest.fixture
def panel(heatmap_panel):
    return heatmap_panel


def _overlay(panel):
    img = panel.overlay_item.image
    return None if img is None else np.array(img)


def test_loads_demo_and_badge_counts_sessions(panel, capture):
    r = panel.result
    assert r.kind == "click" and panel.snapshot.device == "desktop"
    assert capture.page_by_url(LANDING).page_id == panel.snapshot.page_id
    assert f"{r.sample.sessions:,} sessions" in panel.badge.text()
    assert f"{r.sample.points:,} clicks" in panel.badge.text()
    # The 300-session app demo is below the 1,000-session threshold: amber badge, warning shown.
    assert panel.badge.property("warn") is True
    assert f"Only {r.sample.sessions:,} sessions" in panel.warning_label.text()
    assert panel.element_table.rowCount() > 0
    assert panel.overlay_item.zValue() > panel.shot_item.zValue()
    lo, hi = display_scale(r).levels
    assert panel.legend.text().startswith(f"0 … {_num(hi)}")
    assert panel.legend.text().endswith("clicks (per 4 px square)")


def test_switching_kind_updates_overlay(panel, qtbot):
    click = _overlay(panel)
    assert click is not None and click.shape == panel.result.grid.shape
    for kind in ("move", "scroll", "rage"):
        with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
            panel.kind_buttons[kind].click()
        assert panel.result.kind == kind
        now = _overlay(panel)
        assert not np.array_equal(now, click)
        np.testing.assert_array_equal(now, panel.result.grid)
        assert panel.overlay_item.levels is not None
        shown = tuple(np.round(panel.overlay_item.levels, 5))
        assert shown == tuple(np.round(display_scale(panel.result).levels, 5))
        if kind == "scroll":
            assert shown == tuple(np.round(panel.result.levels, 5))
        else:  # a robust top for blurred maps: at most the peak, at least a third of it
            assert panel.result.levels[1] / 3 - 1e-6 <= shown[1] <= panel.result.levels[1] + 1e-6
        if kind == "scroll":
            assert all(line.isVisible() for line in panel.scroll_lines)
            assert "fold" in panel.scroll_lines[0].label.format.lower()
            assert "Average fold" in panel.scroll_summary.text()
        else:
            assert not any(line.isVisible() for line in panel.scroll_lines)


def test_filter_changes_badge(panel, qtbot):
    before = panel.result.sample.sessions
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_filter(SessionFilter(source=("paid",)))
    assert panel.result.sample.sessions < before
    assert f"{panel.result.sample.sessions:,} sessions" in panel.badge.text()


def test_clicking_product_shot_lists_sessions_and_requests_replay(panel, qtbot, capture):
    snap = panel.snapshot
    em = capture.elements(snap.snapshot_id)
    x, y, w, h = em.boxes[em.index_of("img.product-shot")].tolist()
    # Click the hottest rage cell inside the product shot.
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.kind_buttons["rage"].click()
    grid = panel.result.grid.copy()
    cell = panel.result.cell_px
    mask = np.zeros_like(grid, dtype=bool)
    mask[y // cell:(y + h) // cell, x // cell:(x + w) // cell] = True
    r, c = np.unravel_index(np.argmax(np.where(mask, grid, -1)), grid.shape)
    px, py = (c + 0.5) * cell, (r + 0.5) * cell

    # A real mouse click on the view at that page position.
    scene_pt = panel.vb.mapViewToScene(pg_point(px, py))
    view_pt = panel.view.mapFromScene(scene_pt)
    with qtbot.waitSignal(panel.hotspot_listed, timeout=5000) as blocker:
        from PySide6.QtCore import Qt

        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=view_pt)
    assert blocker.args[0] > 0
    rows = panel.hotspot_sessions()
    planted = {s for s, *_ in capture.planted("rage_click")}
    assert rows and all(s in planted for s, _ in rows)
    assert panel.hotspot_table.item(0, 2).text() == "desktop"

    with qtbot.waitSignal(panel.replay_requested, timeout=2000) as sig:
        panel.hotspot_table.cellDoubleClicked.emit(0, 0)
    assert tuple(sig.args) == rows[0]


def test_device_switch(panel, qtbot):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.device_buttons["mobile"].click()
    assert panel.snapshot.device == "mobile"
    assert panel.result.grid.shape[1] == -(-panel.snapshot.width // panel.result.cell_px)


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_one_device_segment_switches_layout(panel, qtbot):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_filter(SessionFilter(device=("mobile",)))
    assert panel.device == "mobile" and panel.snapshot.device == "mobile"
    assert panel.result.sample.sessions > 0


def test_clearing_the_capture(panel):
    panel.set_capture(None)
    assert panel.badge.text() == "No capture"
    assert panel.element_table.rowCount() == 0 and panel.hotspot_table.rowCount() == 0
    assert panel.page_combo.count() == 0


# -- first-time user trial fixes ---------------------------------------------------------------


def test_request_clears_the_old_result_until_the_new_one_arrives(panel, qtbot):
    assert panel.overlay_item.image is not None and panel.element_table.rowCount() > 0
    panel.show_hotspot(*_product_shot_centre(panel))
    assert panel.hotspot_table.rowCount() > 0
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_kind("rage")
        # The result is delivered through the event loop, which has not run yet: this is
        # what the user sees while the rage map computes.
        assert panel.overlay_item.image is None
        assert panel.legend_title.text() == f"{TITLES['rage']} — desktop"
        assert panel.legend.text() == ""
        assert panel.badge.text() == "Computing…" and panel.badge.property("warn") is False
        assert panel.warning_label.text() == ""
        assert panel.element_table.rowCount() == 0 and panel.hotspot_table.rowCount() == 0
        assert not any(line.isVisible() for line in panel.scroll_lines)
    r = panel.result
    assert r.kind == "rage"
    assert panel.badge.text() == r.sample.badge() and f"{r.sample.points:,} rage clicks" in panel.badge.text()
    assert panel.legend.text().endswith("rage clicks (per 4 px square)")
    assert panel.element_table.rowCount() > 0


def test_device_switch_clears_the_old_fold_lines(panel, qtbot):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_kind("attention")
    assert panel.scroll_lines[0].isVisible()
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.device_buttons["mobile"].click()
        assert panel.overlay_item.image is None and not panel.scroll_lines[0].isVisible()
        assert panel.legend_title.text() == f"{TITLES['attention']} — mobile"
    assert panel.result.kind == "attention" and panel.snapshot.device == "mobile"
    assert panel.scroll_lines[0].isVisible()


def test_narrow_dock_stacks_legend_and_tables_under_the_page(panel, qtbot):
    from PySide6.QtCore import Qt

    assert not panel.narrow and panel.split.orientation() == Qt.Orientation.Horizontal
    panel.resize(560, 900)
    qtbot.waitUntil(lambda: panel.narrow, timeout=2000)
    assert panel.split.orientation() == Qt.Orientation.Vertical
    # Page first, then legend + elements.
    assert panel.split.widget(0).geometry().bottom() < panel.element_table.mapTo(panel.split, panel.element_table.rect().topLeft()).y()
    qtbot.wait(50)
    header = panel.element_table.horizontalHeader()
    assert header.sectionSize(0) >= ELEMENT_MIN_PX
    item = panel.element_table.item(0, 0)
    assert item.text().endswith(item.toolTip().splitlines()[0])  # the tooltip names the full selector
    assert panel.element_table.textElideMode() == Qt.TextElideMode.ElideMiddle
    panel.resize(1400, 900)
    qtbot.waitUntil(lambda: not panel.narrow, timeout=2000)
    assert panel.split.orientation() == Qt.Orientation.Horizontal
    assert panel.hotspot_table.isVisible() and panel.element_table.isVisible()


def _product_shot_centre(panel):
    """The hottest click spot on the product shot (CSS px)."""
    em = panel._capture.elements(panel.snapshot.snapshot_id)
    x, y, w, h = em.boxes[em.index_of("img.product-shot")].tolist()
    r = panel._engine.compute(panel.snapshot.snapshot_id, "click")
    cell = r.cell_px
    mask = np.zeros(r.grid.shape, dtype=bool)
    mask[y // cell:(y + h) // cell, x // cell:(x + w) // cell] = True
    row, col = np.unravel_index(np.argmax(np.where(mask, r.grid, -1)), r.grid.shape)
    return (col + 0.5) * cell, (row + 0.5) * cell


def test_compare_hotspot_lists_both_segments(panel, qtbot):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_kind("rage")
    panel.show_hotspot(*_product_shot_centre(panel))
    assert panel.hotspot_table.rowCount() > 0 and panel.hotspot_table.isColumnHidden(SEGMENT_COL)
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_kind("click")
        panel.set_compare("source", "diff")
        assert panel.hotspot_table.rowCount() == 0  # no rage list left under the click compare
    a_filter, b_filter = panel._compare_filters
    x, y = _product_shot_centre(panel)
    rows = panel.show_hotspot(x, y)
    assert rows and not panel.hotspot_table.isColumnHidden(SEGMENT_COL)
    assert panel.hotspot_table.horizontalHeader().visualIndex(SEGMENT_COL) == 0
    labels = {panel.hotspot_table.item(r, SEGMENT_COL).text() for r in range(panel.hotspot_table.rowCount())}
    assert labels == {"A", "B"}
    engine = panel._engine
    snap = panel.snapshot.snapshot_id
    in_a = {s for s, _, _ in engine.sessions_at(snap, "click", x, y, 28.0, a_filter)}
    in_b = {s for s, _, _ in engine.sessions_at(snap, "click", x, y, 28.0, b_filter)}
    for r in range(panel.hotspot_table.rowCount()):
        s = int(panel.hotspot_table.item(r, 0).text().lstrip("#"))
        assert s in (in_a if panel.hotspot_table.item(r, SEGMENT_COL).text() == "A" else in_b)
    assert f"A {len(in_a):,} · B {len(in_b):,}" in panel.hotspot_title.text()
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_compare("off")
    panel.show_hotspot(x, y)
    assert panel.hotspot_table.isColumnHidden(SEGMENT_COL)


def test_empty_segment_says_no_sessions_match(panel, qtbot):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_filter(SessionFilter(session_ids=()))
    assert panel.result.sample.sessions == 0
    assert panel.warning_label.text() == "⚠ No sessions match this filter on this page"
    assert "Only 0" not in panel.warning_label.text()


def test_dense_large_hot_spot_reads_hot(panel, capture):
    """The product shot (most clicks, spread over a big image) must not look faint next to the CTA."""
    r = panel.result
    grid_before = r.grid.copy()
    em = capture.elements(panel.snapshot.snapshot_id)
    cell = r.cell_px

    def peak(selector):
        x, y, w, h = em.boxes[em.index_of(selector)].tolist()
        return float(r.grid[y // cell:(y + h) // cell, x // cell:(x + w) // cell].max())

    lo, hi = (float(v) for v in panel.overlay_item.levels)
    assert (lo, hi) == pytest.approx(display_scale(r).levels)
    assert peak("#hero-cta") > peak("img.product-shot")  # the raw peaks: the CTA is denser
    assert hi < r.levels[1]
    assert peak("img.product-shot") / hi >= 0.75   # orange to red on the heat scale
    # Only the colour scale changed: the grid and its totals are the engine's.
    np.testing.assert_array_equal(r.grid, grid_before)
    assert float(r.counts.sum()) == pytest.approx(r.total)
    assert panel.legend.text().startswith(f"0 … {_num(hi)}+ clicks")


def test_cancelled_compute_leaves_no_stale_result_on_screen(panel, qtbot, monkeypatch):
    import threading

    from hindsight.analytics.heatmap import HeatmapEngine
    from hindsight_qt import tasks
    from hindsight_qt.views import qt_heatmap_panel as heat_mod

    gate = threading.Event()
    real = HeatmapEngine.compute
    monkeypatch.setattr(HeatmapEngine, "compute", lambda self, *a, **k: gate.wait(30) and real(self, *a, **k))
    monkeypatch.setattr(heat_mod, "SLOW_COMPUTE_MS", 50)
    try:
        panel.set_kind("dead")
        dialog = panel._progress
        qtbot.waitUntil(dialog.isVisible, timeout=5_000)
        assert panel.badge.text() == "Computing…" and panel.overlay_item.image is None
        dialog.cancel()
        assert panel.badge.text() == "Not computed" and panel.overlay_item.image is None
        assert panel.legend_title.text() == f"{TITLES['dead']} — desktop"
    finally:
        gate.set()
        tasks.wait_all(20_000)


def test_hotspot_on_phone_field_lists_hesitations_and_replays_from_their_start(panel, qtbot, capture):
    phone = "#signup-form input[name=phone]"
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_page("https://demo.hindsight.local/signup", "desktop")
    snap = panel.snapshot
    assert snap.device == "desktop"
    em = capture.elements(snap.snapshot_id)
    x, y, w, h = em.boxes[em.index_of(phone)].tolist()
    clicks = panel.show_hotspot(x + w / 2, y + h / 2)
    table = panel.hotspot_table

    def hesitation_rows():
        return [r for r in range(table.rowCount()) if table.item(r, 4).text().startswith("hesitation ")]

    qtbot.waitUntil(lambda: bool(hesitation_rows()), timeout=20000)
    rows = hesitation_rows()
    assert rows == list(range(len(clicks), table.rowCount()))  # after the click rows
    planted = {s for s, _k, _t, _e, sel, _d in capture.planted("hesitation")
               if sel == phone and capture.session(s).device == "desktop"}
    listed = {int(table.item(r, 0).text().lstrip("#")) for r in rows}
    assert listed == planted
    assert f"· {len(rows):,} hesitation" in panel.hotspot_title.text()
    r = rows[0]
    s, t_ms = panel.hotspot_sessions()[r]
    secs = float(table.item(r, 4).text().split()[1])
    assert secs > 2.5
    with qtbot.waitSignal(panel.replay_requested, timeout=2000) as sig:
        table.cellDoubleClicked.emit(r, 0)
    assert tuple(sig.args) == (s, t_ms)
    assert any(p[0] == s and abs(p[2] - t_ms) <= 50 for p in capture.planted("hesitation"))

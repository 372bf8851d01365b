"""QtHeatmapPanel on the demo capture: overlay per kind, sample-size badge, hot spot sessions."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.store import SessionFilter, open_capture
from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

LANDING = "https://demo.hindsight.local/"


@pytest.fixture
def capture(demo_master):
    with open_capture(demo_master) as cap:
        yield cap


@pytest.fixture
def panel(qtbot, capture):
    p = QtHeatmapPanel()
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    with qtbot.waitSignal(p.heatmap_updated, timeout=20000):
        p.set_capture(capture)
    yield p
    from hindsight_qt import tasks

    tasks.wait_all(10000)


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
    assert panel.legend.text() == f"0 … {r.legend_text().split(' … ')[1]}"
    assert panel.legend.text().endswith("clicks per 4×4 px cell")


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
        assert tuple(np.round(panel.overlay_item.levels, 5)) == tuple(np.round(panel.result.levels, 5))
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

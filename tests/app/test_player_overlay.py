"""Heatmap overlay on the replay canvas: the filter's aggregate on the shown page, following the replay."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from hindsight.analytics.heatmap import HeatmapEngine
from hindsight.store import SessionFilter, open_capture
from hindsight_qt import tasks
from hindsight_qt.main_window import MainWindow
from hindsight_qt.views.qt_player_overlay import OPACITY_KEY, OVERLAY_KINDS

LOAD_TIMEOUT = 20_000


@pytest.fixture
def cap(demo_master):
    with open_capture(demo_master) as c:
        yield c


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    tasks.wait_all(10_000)


def _open(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert window.open_capture(path)


def _two_page_session(cap) -> tuple[int, list]:
    """A desktop session whose second pageview is on another snapshot (landing → signup)."""
    for sid in cap.session_ids():
        sid = int(sid)
        pvs = cap.pageviews(sid)
        if len(pvs) >= 2 and pvs[0].snapshot_id != pvs[1].snapshot_id \
                and cap.session(sid).device == "desktop":
            return sid, pvs
    pytest.skip("no session with two pages in the demo")


def _wait_for(qtbot, overlay, snapshot_id: int, kind: str):
    qtbot.waitUntil(lambda: overlay.result is not None and overlay.result.snapshot_id == snapshot_id
                    and overlay.result.kind == kind, timeout=LOAD_TIMEOUT)
    return overlay.result


def test_click_overlay_is_the_filters_aggregate_and_follows_the_page(qtbot, window, demo_master, cap):
    _open(qtbot, window, demo_master)
    sid, pvs = _two_page_session(cap)
    assert window.load_session(sid, autoplay=False)
    player = window.player_view
    overlay, item = player.overlay, player.canvas.overlay_item
    assert overlay.kind == "off" and not item.isVisible()
    assert player.overlay_bar.button.text() == "Heatmap overlay"

    overlay.set_kind("click")
    first = _wait_for(qtbot, overlay, pvs[0].snapshot_id, "click")
    expected = HeatmapEngine(cap).compute(pvs[0].snapshot_id, "click", window.current_filter())
    assert item.isVisible()
    np.testing.assert_array_equal(item.image, expected.grid)
    assert tuple(item.mapRectToParent(item.boundingRect()).getRect()) == pytest.approx(expected.rect)
    label = player.overlay_bar.sample_label.text()
    assert label == f"{expected.sample.sessions:,} sessions · {expected.sample.points:,} clicks"
    assert expected.sample.sessions > 0
    # 300 demo sessions are under the trust threshold: amber, and the tooltip says why
    assert player.overlay_bar.sample_label.property("warn") is True
    assert "may be noise" in player.overlay_bar.sample_label.toolTip()
    assert player.overlay_bar.button.text() == "Overlay: Click"
    assert first.snapshot_id == player.canvas._snapshot_id

    # into the second pageview (signup): the overlay switches to that snapshot
    player.player.seek(float(pvs[1].start_ms) + 50)
    second = _wait_for(qtbot, overlay, pvs[1].snapshot_id, "click")
    expected2 = HeatmapEngine(cap).compute(pvs[1].snapshot_id, "click", window.current_filter())
    np.testing.assert_array_equal(item.image, expected2.grid)
    assert second.snapshot_id != first.snapshot_id and item.isVisible()

    # back to the first page: straight from the cache, no worker round trip
    player.player.seek(float(pvs[0].start_ms))
    assert overlay.result is not None and overlay.result.snapshot_id == pvs[0].snapshot_id
    np.testing.assert_array_equal(item.image, expected.grid)

    # opacity slider drives the item's opacity and is saved
    player.overlay_bar.opacity_slider.setValue(35)
    assert item.opacity() == pytest.approx(0.35)

    overlay.set_kind("off")
    assert not item.isVisible() and overlay.result is None


def test_overlay_uses_the_session_list_filter(qtbot, window, demo_master, cap):
    _open(qtbot, window, demo_master)
    sid, pvs = _two_page_session(cap)
    assert window.load_session(sid, autoplay=False)
    overlay = window.player_view.overlay
    overlay.set_kind("click")
    _wait_for(qtbot, overlay, pvs[0].snapshot_id, "click")
    everyone = overlay.result.sample.sessions

    flt = SessionFilter(converted=True)
    window.apply_filter(flt)
    assert overlay.filter == window.current_filter() and overlay.filter != SessionFilter()
    qtbot.waitUntil(lambda: overlay.result is not None and overlay.result.sample.sessions < everyone,
                    timeout=LOAD_TIMEOUT)
    expected = HeatmapEngine(cap).compute(pvs[0].snapshot_id, "click", window.current_filter())
    np.testing.assert_array_equal(window.player_view.canvas.overlay_item.image, expected.grid)
    assert window.player_view.overlay_bar.sample_label.text().startswith(f"{expected.sample.sessions:,} sessions")


def test_scroll_overlay_draws_depth_lines(qtbot, window, demo_master, cap):
    _open(qtbot, window, demo_master)
    sid, pvs = _two_page_session(cap)
    assert window.load_session(sid, autoplay=False)
    overlay = window.player_view.overlay
    overlay.set_kind("scroll")
    r = _wait_for(qtbot, overlay, pvs[0].snapshot_id, "scroll")
    drawn = overlay.scroll_lines()
    assert [d for _, d in drawn] == pytest.approx([d for _, d in r.scroll.lines()])
    assert drawn[0][0].startswith("Average fold")
    assert all(line.zValue() > window.player_view.canvas.overlay_item.zValue() for line in overlay.lines)
    assert all(line.zValue() < window.player_view.canvas.cursor_item.zValue() for line in overlay.lines)
    page = window.player_view.canvas._page_rect
    for line in overlay.lines:   # across the page, not the dark margins beside it
        assert (line.line().x1(), line.line().x2()) == pytest.approx((page.left(), page.right()))
    assert window.player_view.overlay_bar.sample_label.text().endswith("pageviews")

    overlay.set_kind("click")
    _wait_for(qtbot, overlay, pvs[0].snapshot_id, "click")
    assert overlay.scroll_lines() == []


def test_h_cycles_the_kinds_and_the_shortcut_is_listed(qtbot, window, demo_master, cap):
    from hindsight_qt.main_window import SHORTCUTS

    _open(qtbot, window, demo_master)
    sid, _pvs = _two_page_session(cap)
    assert window.load_session(sid, autoplay=False)
    player = window.player_view
    seen = []
    for _ in OVERLAY_KINDS:
        assert player.handle_key(Qt.Key_H)
        seen.append(player.overlay.kind)
    assert seen == [*OVERLAY_KINDS[1:], "off"]
    keys = [k for _group, items in SHORTCUTS for k, _ in items]
    assert "H" in keys


def test_opacity_persists_and_closing_clears(qtbot, window, settings, demo_master, cap):
    _open(qtbot, window, demo_master)
    sid, pvs = _two_page_session(cap)
    assert window.load_session(sid, autoplay=False)
    player = window.player_view
    player.overlay.set_kind("move")
    _wait_for(qtbot, player.overlay, pvs[0].snapshot_id, "move")
    player.overlay_bar.opacity_slider.setValue(80)
    assert float(settings.q.value(OPACITY_KEY)) == pytest.approx(0.8)

    window.close_capture()
    assert not player.canvas.overlay_item.isVisible()
    assert all(not item.isVisible() for item in (*player.overlay.lines, *player.overlay.line_labels))


def test_bare_player_uses_all_sessions_of_its_capture(qtbot, cap):
    from hindsight_qt.views.qt_player import QtPlayer

    w = QtPlayer()
    qtbot.addWidget(w)
    w.resize(1100, 720)
    w.show()
    sid, pvs = _two_page_session(cap)
    w.load_session(cap, sid, autoplay=False)
    w._timer.stop()
    w.overlay.set_kind("click")
    r = _wait_for(qtbot, w.overlay, pvs[0].snapshot_id, "click")
    expected = HeatmapEngine(cap).compute(pvs[0].snapshot_id, "click", SessionFilter())
    np.testing.assert_array_equal(r.grid, expected.grid)
    tasks.wait_all(10_000)


def test_min_sessions_threshold_turns_the_label_amber_or_not(qtbot, cap):
    from hindsight_qt.views.qt_player import QtPlayer

    w = QtPlayer()
    qtbot.addWidget(w)
    w.show()
    sid, pvs = _two_page_session(cap)
    w.load_session(cap, sid, autoplay=False)
    w._timer.stop()
    w.overlay.set_kind("click")
    r = _wait_for(qtbot, w.overlay, pvs[0].snapshot_id, "click")
    label = w.overlay_bar.sample_label
    assert r.warning is not None and label.property("warn") is True

    w.overlay.set_min_sessions(r.sample.sessions)   # exactly enough: no warning
    qtbot.waitUntil(lambda: w.overlay.result is not None and w.overlay.result.warning is None,
                    timeout=LOAD_TIMEOUT)
    assert label.property("warn") is False and label.toolTip() == ""
    np.testing.assert_array_equal(w.canvas.overlay_item.image, r.grid)
    tasks.wait_all(10_000)

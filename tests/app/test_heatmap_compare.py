"""Heatmap compare mode: two segments of the current filter as a difference map or side by side."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.analytics.heatmap import HeatmapEngine
from hindsight.analytics.segments import COMPARISONS, comparison_filters
from hindsight.store import SessionFilter


@pytest.fixture
def panel(heatmap_panel):
    return heatmap_panel


def test_segments_split_the_current_filter(capture):
    base = SessionFilter(device=("desktop",))
    for c in COMPARISONS:
        a, b = comparison_filters(c.key, base, capture)
        ids_a, ids_b = set(capture.session_ids(a).tolist()), set(capture.session_ids(b).tolist())
        if c.key != "filter":
            assert ids_a and ids_b and not ids_a & ids_b
            assert ids_a | ids_b <= set(capture.session_ids(base).tolist())
    a, b = comparison_filters("converted", base, capture)
    assert a.converted is True and b.converted is False and a.device == ("desktop",)


def test_difference_map_is_a_minus_b_per_pageview(qtbot, panel, capture):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000) as sig:
        panel.set_compare("converted", "diff")
    cmp = sig.args[0]
    snap = panel.snapshot.snapshot_id
    engine = HeatmapEngine(capture)
    a = engine.compute(snap, "click", SessionFilter(converted=True))
    b = engine.compute(snap, "click", SessionFilter(converted=False))
    expected = a.grid / a.sample.pageviews - b.grid / b.sample.pageviews
    np.testing.assert_allclose(cmp.diff, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.array(panel.overlay_item.image), cmp.diff, rtol=1e-6)
    assert "A Converted" in panel.badge.text() and "B Not converted" in panel.badge.text()
    assert f"{a.sample.sessions:,} sessions" in panel.badge.text()
    # Few converted sessions: segment A is flagged as possibly noise.
    assert "A:" in panel.warning_label.text()
    assert not panel._side_shown


def test_side_by_side_and_back_to_off(qtbot, panel):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000) as sig:
        panel.set_compare("source", "side")
    cmp = sig.args[0]
    assert panel._side_shown
    np.testing.assert_allclose(np.array(panel.overlay_item.image), cmp.grid_a, rtol=1e-6)
    np.testing.assert_allclose(np.array(panel.overlay_item_b.image), cmp.grid_b, rtol=1e-6)
    assert panel.overlay_item.levels[1] == panel.overlay_item_b.levels[1]  # one scale for both
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20000):
        panel.set_compare("off")
    assert not panel._side_shown
    assert panel.overlay_item_b.image is None
    assert panel.badge.text().endswith("clicks")

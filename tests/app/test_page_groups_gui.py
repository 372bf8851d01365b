"""Issue 11, URL patterns in the app: the page choosers (heatmap, filter, funnel) list page groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from hindsight.importers.session_writer import import_files

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
PRODUCT = "http://www.hindsight.test/product.html"


@pytest.fixture(scope="module")
def product_capture(tmp_path_factory):
    out = tmp_path_factory.mktemp("groups") / "product.sqlite"
    import_files([REAL / "session_product_1280x800.json", REAL / "session_product_1440x900.json",
                  REAL / "session_landing_1280x800.json"], out, render=False)
    return out


def test_heatmap_and_filter_choosers_list_page_groups(qtbot, product_capture):
    from hindsight.store import open_capture
    from hindsight.workspace import Workspace
    from hindsight_qt import tasks
    from hindsight_qt.views.qt_filter_panel import QtFilterPanel
    from hindsight_qt.views.qt_funnel_panel import QtFunnelPanel
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    with open_capture(product_capture) as cap:
        ws = Workspace()
        heat = QtHeatmapPanel(workspace=ws)
        qtbot.addWidget(heat)
        with qtbot.waitSignal(heat.heatmap_updated, timeout=20000):
            heat.set_capture(cap)
        texts = [heat.page_combo.itemText(i) for i in range(heat.page_combo.count())]
        # the two product URLs are one line; the landing page another
        assert texts == ["/product.html  (2 URLs)  ·  Ledger Pro - Acme Ledger",
                         "/landing.html  ·  Acme Ledger Cloud - Close your books in a day"]
        tip = heat.page_combo.itemData(0, 3)  # ToolTipRole
        assert f"{PRODUCT}?id=1" in tip and f"{PRODUCT}?id=2" in tip
        # a URL of the template shows its group; the busiest 1280 screenshot is drawn
        with qtbot.waitSignal(heat.heatmap_updated, timeout=20000):
            heat.set_page(f"{PRODUCT}?id=2", "desktop")
        assert heat.page_combo.currentIndex() == 0 and heat.snapshot.width in (1280, 1440)
        # the template's other screenshots (?id=2 at 1280, 1440) are on the map, through their elements
        assert heat.result.coverage.sessions == 2
        assert f"{heat.snapshot.width} px screenshot · 2 sessions: 1×1280, 1×1440" in heat.coverage_label.text()

        flt_panel = QtFilterPanel(workspace=Workspace())
        qtbot.addWidget(flt_panel)
        flt_panel.set_capture(cap)
        rows = [flt_panel.visited.itemText(i) for i in range(flt_panel.visited.count())]
        assert rows[1:] == texts
        flt_panel.set_visited(f"{PRODUCT}?id=2")
        assert flt_panel.visited.currentIndex() == 1
        sessions = flt_panel.workspace_filter().sessions
        assert sessions.visited == ((f"{PRODUCT}?id=1", f"{PRODUCT}?id=2"),)
        assert sorted(cap.session_ids(sessions).tolist()) == [1, 2]

        funnel = QtFunnelPanel(workspace=ws)
        qtbot.addWidget(funnel)
        with qtbot.waitSignal(funnel.report_updated, timeout=20000):
            funnel.set_capture(cap)
        assert [funnel.page_combo.itemData(i) for i in range(funnel.page_combo.count())] == [
            PRODUCT, "http://www.hindsight.test/landing.html"]
        tasks.wait_all(10000)
        qtbot.wait(200)
        for panel in (heat, flt_panel):
            panel.set_capture(None)
        tasks.wait_all(10000)

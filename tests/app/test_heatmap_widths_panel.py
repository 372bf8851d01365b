"""Issue 11 in the Heatmap panel: the screenshot chooser, the coverage header, and the same numbers
as ``hindsight heatmap --json`` for the same choice (real rrweb recordings at 3 desktop widths)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from panels import heatmap_panel_on

from hindsight.cli import main as cli_main

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
LANDING = "http://www.hindsight.test/landing.html"
FILES = ("session_landing_1280x800.json", "session_landing_1440x900.json", "session_landing_1920x1080.json",
         "session_landing_390x844.json")


@pytest.fixture(scope="module")
def capture_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("widths_app") / "landing.sqlite"
    assert cli_main(["import", "rrweb", *(str(REAL / f) for f in FILES), "--out", str(out)]) == 0
    return out


@pytest.fixture
def panel(qtbot, capture_path):
    with heatmap_panel_on(qtbot, capture_path) as p:
        yield p


def _cli(capture_path, capsys, *args) -> dict:
    capsys.readouterr()
    assert cli_main(["heatmap", str(capture_path), "--page", LANDING, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_chooser_lists_every_desktop_width_and_defaults_like_the_cli(panel, capture_path, capsys):
    assert [s.width for s in panel.screenshots] == [1280, 1440, 1920]
    assert panel.screen_combo.isEnabled() and panel.screen_combo.count() == 3
    assert panel.screen_combo.itemText(0) == "1280 px screenshot · 1 session at this width · default"
    out = _cli(capture_path, capsys)
    assert panel.snapshot.snapshot_id == out["snapshot_id"]
    assert "1280 px screenshot · 3 sessions: 1×1280, 1×1440, 1×1920" in panel.coverage_label.text()


@pytest.mark.parametrize("kind,width", [("click", 1440), ("rage", 1920), ("move", 1440), ("scroll", 1920)])
def test_panel_and_cli_give_the_same_numbers(panel, qtbot, capture_path, capsys, kind, width):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.set_screenshot(width=width)
    if panel.result.kind != kind:
        with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
            panel.set_kind(kind)
    r = panel.result
    assert (r.kind, panel.snapshot.width) == (kind, width)
    out = _cli(capture_path, capsys, "--kind", kind, "--width", str(width))
    assert out["snapshot_id"] == panel.snapshot.snapshot_id
    assert out["sample"] == r.sample.to_dict()
    assert out["coverage"] == r.coverage.to_dict()
    assert out["levels"] == pytest.approx(list(r.levels))
    assert out["grid_total"] == pytest.approx(float(r.counts.sum()), rel=1e-6)
    shown = [(panel.element_table.item(i, 0).toolTip().split("\n")[0], int(panel.element_table.item(i, 1).text()))
             for i in range(panel.element_table.rowCount()) if int(panel.element_table.item(i, 1).text()) > 0]
    if kind == "click":
        assert [(e["selector"], e["clicks"]) for e in out["top_elements"]] == \
            [(sel, n) for sel, n in shown][:len(out["top_elements"])]
    assert r.coverage.header() in panel.coverage_label.text()
    for note in r.coverage.notes():
        assert html.escape(note, quote=False) in panel.coverage_label.text()
    if kind == "move":
        assert r.coverage.move_left_out == 2
        assert "2 sessions outside 1296–1584 px left out of the move map" in panel.coverage_label.text()
    if kind == "rage":
        assert r.counts.sum() == out["sample"]["points"] == 5


def test_mobile_has_one_screenshot_and_no_choice(panel, qtbot):
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.device_buttons["mobile"].click()
    assert [s.width for s in panel.screenshots] == [390]
    assert not panel.screen_combo.isEnabled()
    assert panel.result.coverage.header() == "390 px screenshot · 1 session: 1×390"

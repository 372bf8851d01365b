"""The Heatmap panel's State chooser (issue 12's page states): the states of the real rrweb
recording session_states_1280x800 (rendered in Chromium at import), each state's screenshot and
click map — the same numbers as ``hindsight heatmap --state ID --json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from panels import heatmap_panel_on

from hindsight.cli import main as cli_main
from hindsight.importers.render_dom import find_chromium
from hindsight.importers.session_writer import import_files

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
PAGE = "http://www.hindsight.test/states.html"
LANDING = "session_landing_1280x800.json"

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")


@pytest.fixture(scope="module")
def capture_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("states_app") / "states.sqlite"
    import_files([REAL / "session_states_1280x800.json", REAL / LANDING], out)
    return out


@pytest.fixture
def panel(qtbot, capture_path):
    with heatmap_panel_on(qtbot, capture_path, PAGE) as p:
        yield p


def _cli(capture_path, capsys, *args) -> dict:
    capsys.readouterr()
    assert cli_main(["heatmap", str(capture_path), "--page", PAGE, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_chooser_lists_the_page_states_of_the_screenshot(panel, capture_path, capsys):
    out = _cli(capture_path, capsys)
    assert panel.snapshot.snapshot_id == out["snapshot_id"]
    states = out["states"]
    assert len(states) >= 3 and [s["state_id"] for s in panel.states] == [s["state_id"] for s in states]
    assert panel.state_row.isVisibleTo(panel)
    combo = panel.state_combo
    assert combo.count() == len(states) + 1
    assert combo.itemText(0) == "Page as loaded" and panel.state is None
    assert [combo.itemText(i) for i in range(1, combo.count())] == [
        f"State {s['state_id']}: {s['label']}" for s in states]
    assert any(s["label"].startswith("dialog #changes-modal shown") for s in states)


def test_choosing_the_dialog_state_draws_its_screenshot_and_the_cli_numbers(panel, capture_path, capsys, qtbot):
    page = panel.result
    page_img = panel.shot_item.image.copy()
    dialog = next(s for s in panel.states if s["label"].startswith("dialog"))
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.set_state(dialog["state_id"])
    r = panel.result
    assert panel.state["state_id"] == dialog["state_id"]
    # the state's screenshot, at its own size
    img = panel.shot_item.image
    assert img.shape[1] == dialog["width"] and img.shape[0] == round(dialog["height"] * panel.snapshot.scale)
    rect = panel.shot_item.mapRectToParent(panel.shot_item.boundingRect())
    assert (rect.width(), rect.height()) == (dialog["width"], dialog["height"])
    # its pixels, not the page as loaded's (the dialog dims the page: darker on average)
    assert img.mean() < page_img.mean() - 20, (img.mean(), page_img.mean())
    # its click map covers the state's page
    assert r.rect[2] >= dialog["width"] and r.rect[3] >= dialog["height"]
    # the same numbers as `hindsight heatmap --state ID --json`
    out = _cli(capture_path, capsys, "--state", str(dialog["state_id"]))
    assert out["state"]["state_id"] == dialog["state_id"]
    assert r.sample.to_dict() == out["sample"]
    assert r.sample.points == out["sample"]["points"] == int(r.total) > 0
    assert r.sample.points < page.sample.points   # only the clicks made while the dialog showed
    assert panel.badge.text() == r.sample.badge()
    # click maps only: the other kinds and compare are off while a state is chosen
    assert panel.kind_buttons["click"].isEnabled() and not panel.kind_buttons["move"].isEnabled()
    assert not panel.compare_combo.isEnabled() and panel.state_hint.isVisibleTo(panel)
    assert panel.state_hint.text() == "Click maps only on a page state"
    # back to the page as loaded: its own screenshot and every click again
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.set_state(None)
    assert panel.result.sample.points == page.sample.points
    assert panel.shot_item.image.shape[0] == round(panel.snapshot.height * panel.snapshot.scale)
    assert panel.kind_buttons["move"].isEnabled() and not panel.state_hint.isVisibleTo(panel)


def test_a_capture_without_page_states_hides_the_chooser(heatmap_panel):
    """The generated demo has no rendered states: no State row, every kind offered."""
    p = heatmap_panel
    assert p.states == [] and not p.state_row.isVisibleTo(p) and p.state is None
    assert all(b.isEnabled() for b in p.kind_buttons.values())
    with pytest.raises(KeyError):
        p.set_state(1)


def test_another_kind_asked_for_goes_back_to_the_page_as_loaded(panel, qtbot):
    dialog = next(s for s in panel.states if s["label"].startswith("dialog"))
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.set_state(dialog["state_id"])
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.set_kind("move")
    assert panel.state is None and panel.state_combo.currentIndex() == 0
    assert panel.result.kind == "move" and panel.compare_combo.isEnabled()
    assert panel.shot_item.image.shape[0] == round(panel.snapshot.height * panel.snapshot.scale)


def test_the_dialog_states_element_table_lists_what_was_clicked_in_it(panel, capture_path, capsys, qtbot):
    dialog = next(s for s in panel.states if s["label"].startswith("dialog"))
    with qtbot.waitSignal(panel.heatmap_updated, timeout=30000):
        panel.set_state(dialog["state_id"])
    out = _cli(capture_path, capsys, "--state", str(dialog["state_id"]))
    top = out["top_elements"]
    # every click made while the dialog showed is on an element of the table, as the CLI lists it
    assert top and sum(e["clicks"] for e in top) == out["sample"]["points"] == panel.result.sample.points
    t = panel.element_table
    assert t.rowCount() == len(top)
    assert [t.item(r, 0).text().lstrip("⚠ ") for r in range(t.rowCount())] == [e["selector"] for e in top]
    assert [int(t.item(r, 1).text().replace(",", "")) for r in range(t.rowCount())] == [e["clicks"] for e in top]
    # the dialog's button, not an element of the page under it
    assert any("changes-modal" in e["selector"] or "close" in (e["label"] or "").lower() for e in top), top
    # choosing a row outlines that element where it is in the state's screenshot
    t.selectRow(0)
    assert panel.element_box.isVisible()
    rect = panel.element_box.rect()
    from hindsight.store import open_capture
    from hindsight.store.states import state_boxes

    idx = t.item(0, 0).data(Qt.ItemDataRole.UserRole)
    with open_capture(capture_path) as cap:
        x, y, w, h = state_boxes(cap, dialog["state_id"])[idx].tolist()
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (x, y, w, h) and w > 0 and h > 0

"""Issue 11: heatmaps across widths, on the real rrweb recordings of tests/data/rrweb_real.

The landing page was recorded at 1280, 1440 and 1920 px (desktop) and 390 px (mobile), with
a rage burst on ``#hero-shot`` at 1280 only; ``expected.json`` has every rrweb click. The
recordings are imported with ``hindsight import rrweb`` (Chromium lays the page out at each
width, so every element has a real box per width).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hindsight.analytics.heatmap import HeatmapEngine, choose_snapshot
from hindsight.analytics.heatmap_anchor import (
    MATCHED,
    NO_ELEMENT,
    UNMATCHED,
    anchor_fractions,
    element_keys_match,
    project_clicks,
)
from hindsight.cli import main as cli_main
from hindsight.store import open_capture

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
EXPECTED = json.loads((REAL / "expected.json").read_text())
LANDING = "http://www.hindsight.test/landing.html"
DESKTOP_FILES = ("session_landing_1280x800.json", "session_landing_1440x900.json", "session_landing_1920x1080.json")


def _rrweb_clicks(name: str) -> int:
    return len(EXPECTED["files"][name]["rrweb_clicks"])


@pytest.fixture(scope="module")
def capture_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("widths") / "landing.sqlite"
    files = [str(REAL / f) for f in (*DESKTOP_FILES, "session_landing_390x844.json",
                                     "session_product_1280x800.json", "session_product_1440x900.json")]
    assert cli_main(["import", "rrweb", *files, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def cap(capture_path):
    with open_capture(capture_path) as c:
        yield c


@pytest.fixture(scope="module")
def engine(cap):
    return HeatmapEngine(cap, min_sessions=1)


def _desktop(cap):
    page = cap.page_by_url(LANDING)
    return sorted((s for s in cap.snapshots(page.page_id) if s.device == "desktop"), key=lambda s: s.width)


def test_the_landing_page_has_one_desktop_snapshot_per_width(cap):
    assert [s.width for s in _desktop(cap)] == [1280, 1440, 1920]


def test_importer_keys_elements_stably(cap):
    """id, data-testid, name and aria-label keys (README of the fixtures), the same at every width."""
    wanted = {"#cta-start", '[data-testid="watch-demo"]', '[aria-label="Next testimonial"]',
              'input[name="newsletter-email"]', 'button[name="subscribe"]', "#hero-shot",
              "#pricing > div:nth-of-type(1) > div:nth-of-type(2) > button:nth-of-type(1)"}
    for snap in _desktop(cap):
        assert wanted <= set(cap.elements(snap.snapshot_id).selector), snap.width


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_every_click_of_the_device_class_is_drawn_or_counted(cap, engine, width):
    snap = choose_snapshot(cap, engine, LANDING, "desktop", width=width)
    assert snap.width == width
    r = engine.compute(snap.snapshot_id, "click")
    cov = r.coverage
    total = sum(_rrweb_clicks(f) for f in DESKTOP_FILES)   # 14 + 9 + 9 rrweb clicks
    assert total == 32
    assert cov.matched + cov.unmatched + cov.no_element == r.sample.points == total
    assert cov.matched >= 29                               # all but the hidden chat panel's close button
    assert cov.header() == f"{width} px screenshot · 3 sessions: 1×1280, 1×1440, 1×1920"
    # what the grid holds is exactly what was drawn (matched + fallback)
    assert r.counts.sum() == pytest.approx(cov.matched + cov.no_element)


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_every_matched_click_lands_inside_its_element_on_that_screenshot(cap, engine, width):
    snap = choose_snapshot(cap, engine, LANDING, "desktop", width=width)
    pts = engine.click_points(snap.snapshot_id)
    m = pts["status"] == MATCHED
    assert m.sum() >= 29
    em = cap.elements(snap.snapshot_id)
    b = em.boxes[pts["target"][m]].astype(np.float64)
    x, y = pts["x"][m], pts["y"][m]
    assert np.all((b[:, 0] <= x) & (x < b[:, 0] + b[:, 2]) & (b[:, 1] <= y) & (y < b[:, 1] + b[:, 3]))
    # ... and it is the same element (same key) as on the click's own snapshot
    for tgt, src, src_t in zip(pts["target"][m], pts["source_snapshot"][m], pts["source_target"][m]):
        assert em.selector[tgt] == cap.elements(int(src)).selector[src_t]
    # the other widths' clicks moved: at 1920 the centred container starts further right
    if width == 1920:
        other = m & (pts["source_snapshot"] != snap.snapshot_id)
        hero = em.index_of("#cta-start")
        on_cta = other & (pts["target"] == hero)
        assert on_cta.sum() == 2
        bx = em.boxes[hero]
        assert np.all(pts["x"][on_cta] >= bx[0]) and np.all(pts["x"][on_cta] < bx[0] + bx[2])


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_the_rage_burst_recorded_at_1280_shows_on_every_desktop_width(cap, engine, width):
    snap = choose_snapshot(cap, engine, LANDING, "desktop", width=width)
    r = engine.compute(snap.snapshot_id, "rage")
    assert r.coverage.matched == 5 and r.counts.sum() == 5
    hero = cap.elements(snap.snapshot_id)
    x, y, w, h = hero.boxes[hero.index_of("#hero-shot")].tolist()
    rows, cols = np.nonzero(r.counts)
    cell = r.cell_px
    assert np.all((cols * cell >= x - cell) & (cols * cell < x + w) & (rows * cell >= y - cell) & (rows * cell < y + h))
    table = {e.selector: e for e in engine.element_table(snap.snapshot_id)}
    assert table["#hero-shot"].rage_clicks == 5 and table["#hero-shot"].clicks == 5


def test_cli_rage_map_at_another_width_lists_the_burst(capture_path, capsys):
    assert cli_main(["heatmap", str(capture_path), "--page", LANDING, "--kind", "rage", "--width", "1920",
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["width"] == 1920 and out["sample"]["points"] == 5
    assert out["coverage"]["clicks_matched"] == 5
    assert out["coverage"]["widths"] == [{"width": 1280, "sessions": 1}, {"width": 1440, "sessions": 1},
                                         {"width": 1920, "sessions": 1}]
    top = out["top_elements"]
    assert (top[0]["selector"], top[0]["rage_clicks"]) == ("#hero-shot", 5)
    assert all(e["rage_clicks"] == 0 for e in top[1:])


def test_cli_width_and_snapshot_choices_and_errors(capture_path, cap, capsys):
    snaps = _desktop(cap)
    assert cli_main(["heatmap", str(capture_path), "--page", LANDING, "--snapshot", str(snaps[1].snapshot_id),
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["snapshot_id"], out["width"]) == (snaps[1].snapshot_id, 1440)
    assert out["coverage"]["header"] == "1440 px screenshot · 3 sessions: 1×1280, 1×1440, 1×1920"
    assert cli_main(["heatmap", str(capture_path), "--page", LANDING, "--width", "1000", "--json"]) == 2
    err = capsys.readouterr().err
    assert "no desktop screenshot 1000 px wide (widths: 1280, 1440, 1920)" in err
    # the default: the screenshot covering most sessions (a tie: the narrowest)
    assert cli_main(["heatmap", str(capture_path), "--page", LANDING, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["width"] == 1280


def test_move_map_keeps_only_widths_in_the_band_and_says_so(cap, engine):
    snap = choose_snapshot(cap, engine, LANDING, "desktop", width=1440)
    r = engine.compute(snap.snapshot_id, "move")
    cov = r.coverage
    assert cov.move_band == (1296, 1584)
    assert cov.widths == ((1440, 1),) and r.sample.sessions == 1
    assert cov.move_left_out == 2 and cov.move_left_out_widths == ((1280, 1), (1920, 1))
    assert "2 sessions outside 1296–1584 px left out of the move map (1×1280, 1×1920)" in cov.notes()


def test_scroll_and_attention_take_every_width_in_percent_of_the_page(cap, engine):
    snaps = _desktop(cap)
    base = snaps[2]   # 1920: a taller page than 1280 / 1440
    r = engine.compute(base.snapshot_id, "scroll")
    assert r.sample.pageviews == 3
    # every session scrolled to the bottom of its page: in % it is the bottom of this one
    assert np.all(r.scroll.max_bottom >= base.height - 2)
    assert r.grid[-1, 0] == pytest.approx(100.0)
    a = engine.compute(base.snapshot_id, "attention")
    assert a.sample.pageviews == 3 and a.total > 0


def test_clicks_of_elements_not_on_the_screenshot_are_counted_and_listed(cap, engine):
    """A group of the landing page and the product template: product clicks have no element on
    the landing screenshot; they are counted and listed, not drawn."""
    pages = tuple(p.page_id for p in cap.pages())
    snap = choose_snapshot(cap, engine, LANDING, "desktop", width=1440)
    r = engine.compute(snap.snapshot_id, "click", pages=pages)
    cov = r.coverage
    product = sum(_rrweb_clicks(f) for f in ("session_product_1280x800.json", "session_product_1440x900.json"))
    assert cov.matched + cov.unmatched + cov.no_element == r.sample.points == 32 + product
    assert cov.unmatched >= 5
    listed = {sel for sel, _w, _n in cov.unmatched_elements}
    assert {"#add-to-cart", "#related-link", '[data-testid="seats-20"]'} <= listed
    assert sum(n for _s, _w, n in cov.unmatched_elements) == cov.unmatched
    assert cov.notes()[0].startswith(f"{cov.unmatched} clicks on elements not on this screenshot: ")
    assert r.counts.sum() == pytest.approx(cov.matched + cov.no_element)


def test_product_template_group_is_one_map(cap, engine):
    """The pages helper groups ?id=1 and ?id=2; the engine draws any explicit group."""
    ids = tuple(p.page_id for p in cap.pages() if "product.html" in p.url)
    assert len(ids) == 2
    snap = choose_snapshot(cap, engine, "", "desktop", pages=ids, width=1440)
    r = engine.compute(snap.snapshot_id, "click", pages=ids)
    n = sum(_rrweb_clicks(f) for f in ("session_product_1280x800.json", "session_product_1440x900.json"))
    assert r.sample.points == n and r.sample.sessions == 2
    assert r.coverage.header() == "1440 px screenshot · 2 sessions: 1×1280, 1×1440"
    assert r.coverage.unmatched == 0


def test_projection_units():
    boxes = np.array([[0, 0, 100, 50], [200, 100, 10, 10], [0, 0, 0, 0]], dtype=np.int32)
    fx, fy, has = anchor_fractions(np.array([50, 205, 3]), np.array([25, 100, 3]), np.array([0, 1, 2]), boxes)
    np.testing.assert_allclose(fx[:2], [0.5, 0.5])
    np.testing.assert_allclose(fy[:2], [0.5, 0.0])
    assert has.tolist() == [True, True, False]   # an empty box anchors nothing
    assert element_keys_match(("#a", "#b", "#c"), ("#c", "#a")).tolist() == [1, -1, 0]
    base = np.array([[10, 10, 200, 100], [0, 0, 0, 0]], dtype=np.int32)
    px, py, bt, st = project_clicks(np.array([50, 205, 7]), np.array([25, 105, 9]), np.array([0, 1, -1]),
                                    boxes, np.array([0, -1, -1], dtype=np.int32), base, 2.0, 0.5)
    assert st.tolist() == [MATCHED, UNMATCHED, NO_ELEMENT]
    assert (px[0], py[0]) == (110.0, 60.0) and bt.tolist() == [0, -1, -1]
    assert (px[2], py[2]) == (14.0, 4.5)   # no element: scaled coordinates


def test_workspace_holds_the_screenshot_and_page_group(cap, engine):
    from hindsight.workspace import Workspace

    ws = Workspace(cap, min_sessions=1)
    seen = []
    ws.events.snapshot_changed.connect(seen.append)
    ids = tuple(p.page_id for p in cap.pages() if "product.html" in p.url)
    snap = choose_snapshot(cap, engine, "", "desktop", pages=ids, width=1440)
    ws.set_heatmap_screen(snap.snapshot_id, ids)
    assert (ws.snapshot_id, ws.heatmap_pages, seen) == (snap.snapshot_id, ids, [snap.snapshot_id])
    result, _scale = ws.heatmap(snap.snapshot_id, "click")
    assert result.coverage.header() == "1440 px screenshot · 2 sessions: 1×1280, 1×1440"
    landing = _desktop(cap)[0]
    assert ws.heatmap_pages_for(landing.snapshot_id) is None   # not in the group: its own page
    assert ws.heatmap(landing.snapshot_id, "click")[0].coverage.sessions == 3

"""Heatmaps: grids, dwell weighting, scroll depth, click signals and the demo's planted ground truth."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from hindsight.analytics.clicks import dead_click_mask, rage_click_mask
from hindsight.analytics.heatmap import KINDS, HeatmapEngine, SampleSize, find_snapshot, scroll_stats
from hindsight.analytics.heatmap_color import colorize, composite, diverging_lut, heat_lut
from hindsight.analytics.heatmap_grid import bin_points, blur, density_grid, dwell_weights, grid_shape
from hindsight.store import EventColumns, SessionFilter
from hindsight.store.kinds import EventKind as K
from hindsight.store.records import ElementMap

LANDING = "https://demo.hindsight.local/"


# -- grids -------------------------------------------------------------------------------

def test_peak_at_planted_cluster_and_totals():
    rng = np.random.default_rng(1)
    bg_x, bg_y = rng.uniform(0, 1440, 3000), rng.uniform(0, 3000, 3000)
    cx, cy = 913.0, 1717.0
    cl_x, cl_y = rng.normal(cx, 5, 2000), rng.normal(cy, 5, 2000)
    x, y = np.r_[bg_x, cl_x], np.r_[bg_y, cl_y]
    grid, counts = density_grid(x, y, 1440, 3000, cell_px=4, sigma_px=10)
    assert grid.dtype == np.float32 and grid.flags.c_contiguous and grid.shape == grid_shape(1440, 3000, 4)
    r, c = np.unravel_index(np.argmax(grid), grid.shape)
    assert abs(r - cy // 4) <= 1 and abs(c - cx // 4) <= 1
    inside = ((x >= 0) & (x < 1440) & (y >= 0) & (y < 3000)).sum()
    assert counts.sum() == inside
    np.testing.assert_allclose(grid.sum(), counts.sum(), rtol=0.01)


def test_off_page_points_dropped_and_edges_keep_mass():
    counts = bin_points([-1, 0, 1439, 1440, 5], [5, 0, 2999, 5, 3000], 1440, 3000, 4)
    assert counts.sum() == 2
    assert counts[0, 0] == 1 and counts[-1, -1] == 1
    np.testing.assert_allclose(blur(counts, 3).sum(), 2, rtol=0.01)


def test_blur_matches_a_plain_numpy_gaussian_with_mirrored_edges():
    # A plain reference: a normalised 4-sigma kernel, edges mirrored (test_heatmap_kernels checks
    # the blur bit for bit against scipy.ndimage.gaussian_filter).
    from hindsight.analytics import heatmap_grid

    g = np.zeros((40, 30), np.float32)
    g[10, 12] = 5
    g[0, 0] = 3
    g[39, 29] = 1
    sigma = 2.5
    radius = math.ceil(4 * sigma)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    ref = g.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        p = np.pad(ref, pad, mode="symmetric")
        n = ref.shape[axis]
        ref = sum(w * (p[i:i + n] if axis == 0 else p[:, i:i + n]) for i, w in enumerate(k))
    out = heatmap_grid.blur(g, sigma)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, ref, atol=1e-4)
    np.testing.assert_allclose(out.sum(), 9, rtol=1e-4)
    assert out[10, 12] == pytest.approx(5 / (2 * math.pi * sigma**2), rel=0.01)


def test_dwell_one_resting_sample_outweighs_ten_quick_ones():
    # Pageview 0: ten samples 50 ms apart at A, then one at B that rests 2 s.
    t = np.r_[np.arange(10) * 50, 500]
    g = np.zeros(11, dtype=np.int64)
    end = np.full(11, 2500)
    w = dwell_weights(t, g, end)
    np.testing.assert_allclose(w[:10], 0.05)
    assert w[10] == pytest.approx(2.0)
    x = np.r_[np.full(10, 100), 700]
    y = np.full(11, 300)
    _, counts = density_grid(x, y, 1440, 1000, 4, 10, weights=w)
    assert counts[300 // 4, 700 // 4] > counts[300 // 4, 100 // 4]


def test_dwell_capped_and_split_by_pageview():
    t = np.array([0, 10_000, 0, 100])
    g = np.array([0, 0, 1, 1])
    w = dwell_weights(t, g, np.array([20_000, 20_000, 150, 150]))
    np.testing.assert_allclose(w, [2.0, 2.0, 0.1, 0.05])


# -- click signals -------------------------------------------------------------------------

def _elements(clickable):
    n = len(clickable)
    return ElementMap(selector=tuple(f"#e{i}" for i in range(n)), tag=("div",) * n, role=("",) * n,
                      label=("",) * n, boxes=np.zeros((n, 4), np.int32), clickable=np.array(clickable),
                      field=(None,) * n, form=(None,) * n, sensitive=np.zeros(n, bool), href=(None,) * n)


def test_rage_clicks_follow_posthog_rule():
    #          burst of 3 (<1 s, <30 px)      too slow        far      new burst of 2 only
    t = [0, 400, 900, 3000, 4100, 4200, 9000, 9300]
    x = [100, 105, 110, 110, 110, 300, 500, 505]
    k = [K.CLICK] * 8
    ev = EventColumns.from_arrays(t, k, x, [50] * 8)
    mask = rage_click_mask(ev)
    assert mask.tolist() == [True, True, True, False, False, False, False, False]
    # Runs never cross pageviews.
    assert not rage_click_mask(ev, groups=[0, 0, 1, 1, 1, 1, 1, 1])[:3].any()


def test_rage_ignores_non_clicks_between():
    t = [0, 100, 200, 300, 400]
    k = [K.CLICK, K.MOVE, K.TAP, K.SCROLL, K.CLICK]
    ev = EventColumns.from_arrays(t, k, [10] * 5, [10] * 5)
    assert rage_click_mask(ev).tolist() == [True, False, True, False, True]


def test_dead_clicks():
    em = _elements([True, False])
    t = [0, 1000, 5000, 5100, 9000, 20_000]
    k = [K.CLICK, K.CLICK, K.CLICK, K.FOCUS, K.CLICK, K.CLICK]
    target = [1, 0, 0, 0, 0, -1]
    ev = EventColumns.from_arrays(t, k, target=target)
    end = [-1, -1, -1, -1, 10_000, -1]  # the click at 9 s led to another page at 10 s
    mask = dead_click_mask(ev, em, groups=[0] * 6, group_end_ms=end)
    # non-clickable | nothing within 2.5 s | focus follows | page change follows | no element
    assert mask.tolist() == [True, True, False, False, False, True]
    # A response in another pageview does not count.
    mask2 = dead_click_mask(ev, em, groups=[0, 0, 1, 2, 3, 4])
    assert mask2[2]


# -- scroll stats --------------------------------------------------------------------------

def test_scroll_share_equals_direct_count():
    rng = np.random.default_rng(3)
    mb = rng.integers(500, 5000, 777)
    stats = scroll_stats(mb, np.full(777, 844), 5000)
    depths = np.arange(0, 5200, 37)
    direct = [sum(1 for b in mb.tolist() if b >= d) / len(mb) for d in depths]
    np.testing.assert_allclose(stats.share_at(depths), direct)
    for p, depth in ((0.75, stats.depth_75), (0.5, stats.depth_50), (0.25, stats.depth_25)):
        assert stats.share_at(depth)[0] >= p
        assert stats.share_at(depth + 1)[0] < p
    assert stats.fold_px == 844


# -- colour ---------------------------------------------------------------------------------

def test_luts_and_composite():
    lut = heat_lut()
    assert lut.shape == (256, 4) and lut.dtype == np.uint8
    assert lut[0, 3] == 0 and lut[255, 3] > 200 and np.all(np.diff(lut[1:, 3].astype(int)) >= 0)
    assert lut[255, 0] > 200 and lut[255, 2] < 60  # red at the top
    assert lut[1, 2] > lut[1, 0]                    # blue at the bottom
    div = diverging_lut()
    assert div[128, 3] < 10 and div[0, 2] > div[0, 0] and div[255, 0] > div[255, 2]
    grid = np.zeros((4, 4), np.float32)
    grid[1, 1] = 2.0
    rgba = colorize(grid, (0, 2))
    assert rgba[0, 0, 3] == 0 and tuple(rgba[1, 1]) == tuple(lut[255])
    shot = np.full((32, 32, 3), 255, np.uint8)
    out = composite(shot, grid, (0, 0, 16, 16), (0, 2), opacity=1.0, scale=2.0)
    assert out.shape == (32, 32, 4)
    assert tuple(out[31, 31, :3]) == (255, 255, 255)  # outside the grid: the page untouched
    assert out[12, 12, 0] > out[12, 12, 2]            # the hot cell is red-ish


# -- demo capture ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine(demo_master):
    from hindsight.store import open_capture

    with open_capture(demo_master) as cap:
        yield HeatmapEngine(cap)


def _landing(engine, device="desktop"):
    return find_snapshot(engine.capture, LANDING, device)


def test_every_kind_on_the_demo(engine):
    snap = _landing(engine)
    for kind in KINDS:
        r = engine.compute(snap.snapshot_id, kind)
        gh, gw = grid_shape(snap.width, snap.height, engine.cell_px)
        assert r.grid.shape == (gh, gw) and r.grid.dtype == np.float32 and r.grid.flags.c_contiguous
        assert r.rect == (0, 0, gw * engine.cell_px, gh * engine.cell_px)
        assert r.sample.sessions > 1000 and r.sample.pageviews >= r.sample.sessions
        assert r.levels[1] > 0 and r.grid.max() <= r.levels[1] + 1e-6
        assert engine.compute(snap.snapshot_id, kind) is r  # cached
    click = engine.compute(snap.snapshot_id, "click")
    np.testing.assert_allclose(click.grid.sum(), click.counts.sum(), rtol=0.01)
    assert click.counts.sum() == click.sample.points


def test_click_counts_match_the_store(engine):
    snap = _landing(engine)
    flt = SessionFilter(source=("paid",))
    ev, sids, _ = engine.capture.snapshot_events(snap.snapshot_id, (K.CLICK, K.TAP), flt)
    r = engine.compute(snap.snapshot_id, "click", flt)
    assert r.sample.points == len(ev)
    assert r.sample.sessions == len(set(p.session_id for p in
                                        engine.capture.snapshot_pageviews(snap.snapshot_id, flt)))
    assert r.sample.sessions < engine.compute(snap.snapshot_id, "click").sample.sessions


def test_demo_scroll_share_equals_direct_count(engine):
    cap = engine.capture
    snap = _landing(engine, "mobile")
    flt = SessionFilter(country=("US",))
    r = engine.compute(snap.snapshot_id, "scroll", flt)
    # Direct count: replay each pageview's SCROLL/RESIZE events in Python.
    deepest = []
    sessions = {p.session_id: cap.session(p.session_id).viewport_h
                for p in cap.snapshot_pageviews(snap.snapshot_id, flt)}
    for p in cap.snapshot_pageviews(snap.snapshot_id, flt):
        ev = cap.pageview_events(p.pageview_id)
        scroll, vh, best = 0, None, 0
        for kind, y in zip(ev.kind.tolist(), ev.y.tolist()):
            if kind == K.RESIZE:
                vh = y
            elif kind == K.SCROLL:
                scroll = y
            else:
                continue
            best = max(best, min(scroll + vh, snap.height))
        deepest.append(best if vh is not None else sessions[p.session_id])
    assert len(deepest) == r.sample.pageviews
    for depth in (0, 500, 844, 1000, 2500, 4000, 6000, 8576):
        direct = sum(1 for b in deepest if b >= depth) / len(deepest)
        assert r.scroll.share_at(depth)[0] == pytest.approx(direct)
    # The grid rows hold the share at each cell's centre, in percent.
    row = 2500 // engine.cell_px
    centre = (row + 0.5) * engine.cell_px
    assert r.grid[row, 0] == pytest.approx(100 * sum(1 for b in deepest if b >= centre) / len(deepest), rel=1e-5)
    assert r.scroll.depth_75 <= r.scroll.depth_50 <= r.scroll.depth_25
    assert 700 < r.scroll.fold_px <= 844


def test_attention_is_time_in_view(engine):
    snap = _landing(engine)
    r = engine.compute(snap.snapshot_id, "attention")
    per_row = r.grid[:, 0]
    # The top of the page is in view longest; the footer least.
    assert per_row[:50].mean() > per_row[-50:].mean()
    assert np.all(per_row >= 0)
    # Summed over rows (times cell height / viewport) it cannot exceed total time on page.
    pvs = engine.capture.snapshot_pageviews(snap.snapshot_id)
    mean_s = np.mean([(p.end_ms - p.start_ms) / 1000 for p in pvs])
    assert per_row.max() <= mean_s + 1e-3


def test_planted_rage_clicks_on_the_product_shot(engine):
    cap = engine.capture
    planted = cap.planted("rage_click")
    assert planted
    for device in ("desktop", "tablet", "mobile"):
        snap = _landing(engine, device)
        table = engine.element_table(snap.snapshot_id)
        assert max(table, key=lambda e: e.rage_clicks).selector == "img.product-shot"
        hottest_flagged = next(e for e in table if not e.clickable)
        assert hottest_flagged.selector == "img.product-shot" and hottest_flagged.flagged
        assert [e.clicks for e in table] == sorted((e.clicks for e in table), reverse=True)
        assert sum(e.share for e in table) <= 1.0 + 1e-9
        em = cap.elements(snap.snapshot_id)
        x, y, w, h = em.boxes[em.index_of("img.product-shot")].tolist()
        hits = engine.sessions_at(snap.snapshot_id, "rage", x + w / 2, y + h / 2, radius_px=np.hypot(w, h) / 2)
        hit_sessions = {s for s, _, _ in hits}
        expected = {row[0] for row in planted if cap.session(row[0]).device == device}
        assert expected <= hit_sessions
        # ... and the times point into the planted bursts.
        bursts = {row[0]: (row[2], row[3]) for row in planted}
        for s, t, pv in hits:
            lo, hi = bursts[s]
            assert lo <= t <= hi
            assert cap.pageviews(s)[0].pageview_id == pv


def test_rage_detector_matches_planted_sessions(engine):
    cap = engine.capture
    found = set()
    for device in ("desktop", "tablet", "mobile"):
        snap = _landing(engine, device)
        c = engine._clicks(engine._snapshot(snap.snapshot_id))
        found |= set(c.session[c.rage].tolist())
    assert found == {row[0] for row in cap.planted("rage_click")}


def test_sessions_at_radius(engine):
    snap = _landing(engine)
    em = engine.capture.elements(snap.snapshot_id)
    x, y, w, h = em.boxes[em.index_of("#hero-cta")].tolist()
    near = engine.sessions_at(snap.snapshot_id, "click", x + w / 2, y + h / 2, 40)
    assert near and all(isinstance(v, int) for v in near[0])
    assert len(engine.sessions_at(snap.snapshot_id, "click", 5, 5000, 10)) == 0


def test_sample_size_warning_both_sides(engine):
    snap = _landing(engine)
    big = engine.compute(snap.snapshot_id, "click")
    assert big.sample.sessions >= 1000 and big.warning is None
    small = engine.compute(snap.snapshot_id, "click", SessionFilter(country=("GB",)))
    n = small.sample.sessions
    assert 0 < n < 1000
    assert small.warning == f"Only {n:,} sessions: this pattern may be noise"
    strict = HeatmapEngine(engine.capture, min_sessions=5000).compute(snap.snapshot_id, "click")
    assert strict.warning.startswith(f"Only {big.sample.sessions:,} sessions")
    assert SampleSize(2000, 2310, 5412).badge() == "2,000 sessions · 2,310 pageviews · 5,412 clicks"


def test_compare_segments(engine):
    snap = _landing(engine)
    a, b = SessionFilter(converted=True), SessionFilter(converted=False)
    cmp = engine.compare(snap.snapshot_id, "click", a, b)
    np.testing.assert_allclose(cmp.diff, cmp.grid_a - cmp.grid_b, atol=1e-7)
    np.testing.assert_allclose(cmp.grid_a.sum() * cmp.a.sample.pageviews, cmp.a.grid.sum(), rtol=1e-4)
    assert cmp.levels[0] == -cmp.levels[1] > -np.inf
    # Converters click the hero CTA far more per pageview.
    em = engine.capture.elements(snap.snapshot_id)
    x, y, w, h = em.boxes[em.index_of("#hero-cta")].tolist()
    assert cmp.diff[(y + h // 2) // 4, (x + w // 2) // 4] > 0


def test_unknown_page_or_device(engine):
    with pytest.raises(KeyError, match="no page"):
        find_snapshot(engine.capture, "https://nope/")
    with pytest.raises(KeyError, match="no 'watch' snapshot"):
        find_snapshot(engine.capture, LANDING, "watch")
    with pytest.raises(ValueError):
        engine.compute(1, "heat")


# -- CLI -------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "hindsight.cli", *map(str, args)], capture_output=True, text=True)


def test_cli_png_and_json(demo_master, tmp_path):
    out = tmp_path / "rage.png"
    p = _cli("heatmap", demo_master, "--page", LANDING, "--kind", "rage", "--device", "mobile", "-o", out, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["warning"].startswith("Only ") and info["sample"]["sessions"] < 1000
    assert info["top_elements"][0]["clicks"] >= info["top_elements"][-1]["clicks"]
    shot = next(e for e in info["top_elements"] if e["selector"] == "img.product-shot")
    assert shot["clickable"] is False
    from PIL import Image

    with Image.open(out) as im:
        assert im.width >= 390 and im.height > 8577


def test_cli_errors(demo_master, tmp_path):
    p = _cli("heatmap", demo_master, "--page", "https://nope/", "-o", tmp_path / "x.png")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no page" in p.stderr
    p = _cli("heatmap", demo_master, "--page", LANDING, "--device", "watch", "-o", tmp_path / "x.png")
    assert p.returncode == 2 and "watch" in p.stderr


def test_empty_maps_say_why(engine):
    tablet = _landing(engine, "tablet")
    r = engine.compute(tablet.snapshot_id, "move")
    assert r.sample.points == 0 and r.grid.max() == 0 and "touch" in r.note
    assert engine.compute(tablet.snapshot_id, "click").note is None
    none = engine.compute(tablet.snapshot_id, "click", SessionFilter(session_ids=()))
    assert none.sample.sessions == 0 and none.note.startswith("No pageviews")
    assert none.warning == "No sessions match this filter on this page"


def test_cli_compare(demo_master, tmp_path):
    out = tmp_path / "cmp.png"
    p = _cli("heatmap", demo_master, "--page", LANDING, "--converted", "--vs", "not-converted", "-o", out, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["a"]["segment"] == "converted" and info["b"]["segment"] == "not converted"
    assert info["levels"][0] == -info["levels"][1] < 0
    assert info["a"]["sample"]["sessions"] + info["b"]["sample"]["sessions"] > 1000
    assert out.stat().st_size > 10_000
    p = _cli("heatmap", demo_master, "--page", LANDING, "--vs", "colour=red", "-o", out)
    assert p.returncode == 2 and "--vs" in p.stderr


@pytest.mark.parametrize("cell", [4, 5])
@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64])
def test_in_place_binning_matches_flat_cells(cell, dtype):
    from hindsight.analytics.heatmap_grid import bin_cells, flat_cells

    rng = np.random.default_rng(3)
    x = rng.integers(-100, 1600, 20_000).astype(dtype)
    y = rng.integers(-100, 5400, 20_000).astype(dtype)
    w = rng.random(20_000)
    shape = grid_shape(1440, 5232, cell)
    for weights in (None, w):
        expected = bin_cells(flat_cells(x, y, 1440, 5232, cell), shape, weights)
        got = bin_points(x, y, 1440, 5232, cell, weights)
        assert got.dtype == np.float32 and got.shape == shape
        np.testing.assert_array_equal(got, expected)
    assert 0 < bin_points(x, y, 1440, 5232, cell).sum() < len(x)   # some points were off the page

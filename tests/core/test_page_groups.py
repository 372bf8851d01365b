"""Issue 11, URL patterns: one template under many URLs is one page for heatmaps, funnels, forms
and filters; `*` patterns group paths; hash routes stay separate; patterns are saved with the
capture, or next to it when it is read-only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hindsight.analytics.page_groups import (
    UrlPattern,
    capture_groups,
    default_pattern,
    expand_filter_pages,
    group_pages,
    heatmap_pages,
)
from hindsight.cli import main as cli_main
from hindsight.importers.session_writer import import_files
from hindsight.store import open_capture
from hindsight.store.filters import SessionFilter
from hindsight.analytics.page_groups import save_pattern
from hindsight.store.page_patterns import remove_pattern, saved_patterns, set_keep_query
from hindsight.store.records import Page

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = DATA / "rrweb_real"
HOST = "http://www.hindsight.test"
PRODUCT = f"{HOST}/product.html"


def _pages(*urls):
    return [Page(i + 1, u, "") for i, u in enumerate(urls)]


# -- the pattern rules ----------------------------------------------------------------------------

def test_default_pattern_drops_query_and_anchors_but_keeps_hash_routes():
    assert default_pattern(f"{PRODUCT}?id=1&utm_source=newsletter") == PRODUCT
    assert default_pattern(f"{PRODUCT}?id=2") == PRODUCT
    assert default_pattern(f"{PRODUCT}?id=1#/checkout") == f"{PRODUCT}#/checkout"
    assert default_pattern(f"{HOST}/app#!/cart") == f"{HOST}/app#!/cart"
    assert default_pattern(f"{HOST}/landing.html#pricing") == f"{HOST}/landing.html"  # an anchor, not a route
    assert default_pattern(f"{HOST}/index.php?page=about&x=1", ("page",)) == f"{HOST}/index.php?page=about"
    assert default_pattern(f"{HOST}") == f"{HOST}/"


def test_glob_patterns_group_paths_and_routes_stay_separate():
    pages = _pages(f"{HOST}/product/ledger-pro", f"{HOST}/product/ledger-team?ref=x", f"{HOST}/product/a/b",
                   f"{HOST}/product/ledger-pro#/checkout", f"{HOST}/pricing")
    groups = group_pages(pages, ["/product/*"])
    keys = {g.key: g.page_ids for g in groups}
    assert keys == {"/product/*": (1, 2), f"{HOST}/product/a/b": (3,),
                    f"{HOST}/product/ledger-pro#/checkout": (4,), f"{HOST}/pricing": (5,)}
    assert group_pages(pages, ["/product/**"]).by_key["/product/**"].page_ids == (1, 2, 3)
    assert group_pages(pages, ["/product/*#/checkout", "/product/*"]).by_key["/product/*#/checkout"].page_ids == (4,)
    assert UrlPattern.parse("https://WWW.hindsight.test/product/*?ref=*").matches(
        "https://www.hindsight.test/product/x?ref=1&b=2")
    assert not UrlPattern.parse("https://other.test/product/*").matches(f"{HOST}/product/x")
    with pytest.raises(ValueError, match="hash routes"):
        UrlPattern.parse("/landing.html#pricing")
    with pytest.raises(ValueError, match="must be a URL"):
        UrlPattern.parse("product/*")


def test_resolve_takes_a_pattern_a_url_or_a_new_glob():
    groups = group_pages(_pages(f"{PRODUCT}?id=1", f"{PRODUCT}?id=2", f"{PRODUCT}#/checkout", f"{HOST}/a"))
    assert [g.key for g in groups] == [PRODUCT, f"{PRODUCT}#/checkout", f"{HOST}/a"]
    assert groups.resolve(PRODUCT).page_ids == (1, 2)
    assert groups.resolve(f"{PRODUCT}?id=2").page_ids == (1, 2)  # a URL: its page group
    assert groups.resolve(f"{PRODUCT}?id=7").page_ids == (1, 2)  # an unrecorded id of the template
    assert groups.resolve("/product.*").page_ids == (1, 2)       # no route: the routes stay apart
    assert groups.resolve("/product.html#/*").page_ids == (3,)
    with pytest.raises(KeyError, match="no page '/nothing/\\*'"):
        groups.resolve("/nothing/*")
    np.testing.assert_array_equal(groups.page_group_index(np.array([2, 3, 4, 9, -1])), [0, 1, 2, -1, -1])


# -- the product template on the real recordings --------------------------------------------------

@pytest.fixture(scope="module")
def product(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages") / "product.sqlite"
    import_files([REAL / "session_product_1280x800.json", REAL / "session_product_1440x900.json"], out,
                 render=False)
    return out


def test_the_two_urls_of_the_template_are_one_page(product):
    with open_capture(product) as cap:
        urls = sorted(p.url for p in cap.pages())
        assert urls == [f"{PRODUCT}?id=1", f"{PRODUCT}?id=2"]  # stored apart, as recorded
        groups = capture_groups(cap)
        assert [(g.key, g.urls) for g in groups] == [(PRODUCT, (f"{PRODUCT}?id=1", f"{PRODUCT}?id=2"))]
        # heatmap: the group's pages are what the engine draws, on one chosen screenshot,
        # with the clicks of both URLs projected through their elements
        from hindsight.analytics.heatmap import HeatmapEngine, choose_snapshot

        group = groups.resolve(f"{PRODUCT}?id=1")
        pages = heatmap_pages(group)
        assert pages == tuple(p.page_id for p in cap.pages())
        engine = HeatmapEngine(cap, min_sessions=1)
        snap = choose_snapshot(cap, engine, group.key, "desktop", pages=pages)
        assert snap.width == 1280 and snap.device == "desktop"
        together = engine.compute(snap.snapshot_id, "click", None, pages=pages)
        alone = engine.compute(snap.snapshot_id, "click", None)
        assert together.coverage.sessions == 2 and alone.coverage.sessions == 1
        c = together.coverage
        assert c.matched + c.unmatched + c.no_element > alone.coverage.matched + alone.coverage.no_element
        # page filter: visiting either URL is visiting the page
        flt = expand_filter_pages(groups, SessionFilter(visited=(f"{PRODUCT}?id=1",)))
        assert sorted(cap.session_ids(flt).tolist()) == [1, 2]
        assert cap.session_ids(SessionFilter(visited=(f"{PRODUCT}?id=1",))).tolist() == [1]  # one URL alone
        none = expand_filter_pages(groups, SessionFilter(not_visited=(PRODUCT,)))
        assert cap.session_ids(none).size == 0


def test_funnel_counts_the_template_as_one_step(product, capsys):
    from hindsight.analytics.funnel import funnel, funnel_step_choices

    with open_capture(product) as cap:
        # session 2 landed directly on ?id=2: the template's step counts it
        rep = funnel(cap, [PRODUCT])
        assert rep.results[0].sessions == 2
        assert funnel(cap, [f"{PRODUCT}?id=1"]).results[0].sessions == 2
        assert funnel_step_choices(cap)[0] == [PRODUCT]
    assert cli_main(["funnel", str(product), "--step", "/product.*", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"][0]["sessions"] == 2
    # the page filter in the CLI takes a pattern too
    assert cli_main(["sessions", str(product), "--visited", PRODUCT, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sessions"]) == 2


def test_cli_heatmap_accepts_a_pattern(product, capsys):
    assert cli_main(["heatmap", str(product), "--page", "/product.*", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pattern"] == "/product.*" and out["urls"] == [f"{PRODUCT}?id=1", f"{PRODUCT}?id=2"]
    assert cli_main(["heatmap", str(product), "--page", "/nope/*", "--json"]) == 2
    err = capsys.readouterr().err
    assert "no page '/nope/*'" in err and PRODUCT in err and err.count("\n") == 1


def _with_query(src: Path, dst: Path, query: str) -> Path:
    ev = json.loads(src.read_text())
    for e in ev:
        if e["type"] == 4 and e["data"]["href"].endswith("/signup.html"):
            e["data"]["href"] += query
    dst.write_text(json.dumps(ev))
    return dst


def test_forms_treat_the_urls_of_a_page_as_one(tmp_path):
    from hindsight.analytics.forms import form_report, list_forms

    rec = DATA / "rrweb"
    plain = tmp_path / "plain.sqlite"
    import_files([rec / "session_signup_rrweb2.json", rec / "session_abandon_rrweb2.json"], plain, render=False)
    split = tmp_path / "split.sqlite"
    import_files([_with_query(rec / "session_signup_rrweb2.json", tmp_path / "a.json", "?ref=a"),
                  _with_query(rec / "session_abandon_rrweb2.json", tmp_path / "b.json", "?ref=b&utm_source=x")],
                 split, render=False)
    signup = "http://shop.hindsight.test/signup.html"
    with open_capture(split) as cap:
        assert sorted(p.url for p in cap.pages() if "signup" in p.url) == [f"{signup}?ref=a", f"{signup}?ref=b"]
        refs = list_forms(cap)
        assert [(r.form, r.url, len(r.snapshot_ids)) for r in refs] == [("signup-form", signup, 2)]
        got = form_report(cap, page_url=f"{signup}?ref=b").as_dict()
    with open_capture(plain) as cap:
        want = form_report(cap, page_url=signup).as_dict()
    assert got["viewed"] == want["viewed"] == 2 and got["started"] == want["started"] == 2
    assert got == want


# -- saving patterns --------------------------------------------------------------------------------

def test_patterns_are_saved_in_the_capture(product, tmp_path, capsys):
    out = tmp_path / "p.sqlite"
    out.write_bytes(product.read_bytes())
    assert saved_patterns(out).patterns == ()
    with sqlite3.connect(out) as con:  # viewing wrote nothing
        assert not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'page_patterns'").fetchone()
    assert cli_main(["pages", "add", str(out), "/product.html?id=2"]) == 0
    assert "saved in the capture" in capsys.readouterr().out
    with open_capture(out) as cap:
        assert [g.key for g in capture_groups(cap)] == [PRODUCT, "/product.html?id=2"]
    assert cli_main(["pages", "list", str(out), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["saved_in"] == "capture" and [p["urls"] for p in listed["pages"]] == [
        [f"{PRODUCT}?id=1"], [f"{PRODUCT}?id=2"]]
    assert cli_main(["pages", "add", str(out), "product/*"]) == 2
    assert "must be a URL" in capsys.readouterr().err
    remove_pattern(out, "/product.html?id=2")
    set_keep_query(out, "id")
    with open_capture(out) as cap:
        assert [g.key for g in capture_groups(cap)] == [f"{PRODUCT}?id=1", f"{PRODUCT}?id=2"]
    assert cli_main(["pages", "remove", str(out), "/x/*"]) == 2


def test_patterns_of_a_read_only_capture_go_to_the_sidecar(product, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    out = folder / "p.sqlite"
    out.write_bytes(product.read_bytes())
    before = out.read_bytes()
    out.chmod(0o444)
    try:
        saved = save_pattern(out, "/product.html?id=2")
        assert saved.location == "sidecar" and Path(saved.path) == folder / "p.sqlite.bookmarks.sqlite"
        assert out.read_bytes() == before  # the capture is not modified
        with open_capture(out) as cap:
            assert [g.key for g in capture_groups(cap)] == [PRODUCT, "/product.html?id=2"]
    finally:
        out.chmod(0o644)


def test_hostile_patterns_are_refused_or_ignored(product, tmp_path, capsys):
    with pytest.raises(ValueError, match="too long"):
        UrlPattern.parse("/" + "*a" * 9)
    with pytest.raises(ValueError, match="too long"):
        UrlPattern.parse("/" + "x" * 2001)
    # a saved pattern edited by hand into nonsense is ignored (and said), not a crash
    out = tmp_path / "bad.sqlite"
    out.write_bytes(product.read_bytes())
    save_pattern(out, "/product.html?id=2")
    with sqlite3.connect(out) as con:
        con.execute("INSERT INTO page_patterns VALUES ('pattern', 'product/*', 5, 0)")
    with open_capture(out) as cap:
        groups = capture_groups(cap)
    assert [g.key for g in groups] == [PRODUCT, "/product.html?id=2"]
    assert groups.invalid == (("product/*", groups.invalid[0][1]),) and "must be a URL" in groups.invalid[0][1]
    assert cli_main(["pages", "list", str(out)]) == 0
    assert "ignored saved pattern 'product/*'" in capsys.readouterr().out
    assert cli_main(["pages", "remove", str(out), "product/*"]) == 0

"""Issue 15, rrweb import speed: the shortcuts of the importer give what the general code gives.

- the privacy rules visit only FullSnapshots and Mutations (picked out with C-level maps): the
  result equals visiting every event, on every recorded fixture and under three rule sets;
- a Mutation's added subtrees are remembered per (adds bytes, parent scope): the same adds under
  a masked parent in one recording and an unmasked one in another never share a result, in
  either order;
- the one-pageview scroll lookup equals the per-pageview reference;
- recorder options are found among Meta / Custom events also when the list holds non-objects;
- files are read with ``os.open`` and keep their one-line errors.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from hindsight.benchmarks.importers import fixture_files
from hindsight.importers import privacy as privacy_mod
from hindsight.importers import rrweb as rr
from hindsight.importers import snapshot_cache
from hindsight.importers.privacy import TextPrivacy, _Applier, options_from
from hindsight.importers.session_writer import import_files
from hindsight.store import open_capture
from hindsight.store.errors import CaptureError

DATA = Path(__file__).resolve().parents[1] / "data"
RULES = {
    "default": TextPrivacy(),
    "mask_all": TextPrivacy(mask_all=True),
    "recorder": TextPrivacy().with_options({"maskTextClass": "hero", "blockClass": "price"}, "test"),
}


def _fixtures() -> list[Path]:
    files = fixture_files(DATA)
    assert len(files) == 24  # 13 recorded in Chromium + 11 of rrweb's own
    return files


@pytest.mark.parametrize("rules", sorted(RULES))
def test_privacy_on_snapshots_and_mutations_only_equals_visiting_every_event(rules):
    snapshot_cache.clear()
    changed = 0
    for path in _fixtures():
        events = orjson.loads(path.read_bytes())
        if not isinstance(events, list):
            continue
        fast = _Applier(RULES[rules]).run(copy.deepcopy(events))
        slow = _Applier(RULES[rules])._run_each(copy.deepcopy(events))
        assert orjson.dumps(fast) == orjson.dumps(slow), path.name
        changed += sum(a is not b for a, b in zip(fast, events))
    assert changed > 20  # snapshots and mutations were rewritten, not passed through


def test_privacy_looks_at_each_event_when_one_is_not_an_object():
    events = [7, {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "tagName": "p", "attributes": {"class": "rr-mask"}, "id": 2, "childNodes": [
            {"type": 3, "textContent": "SECRET-1", "id": 3}]}]}}, "timestamp": 1}]
    out = TextPrivacy().apply(events)
    assert out[0] == 7
    assert "SECRET-1" not in orjson.dumps(out).decode()
    assert out[1]["data"]["node"]["childNodes"][0]["childNodes"][0]["hsMasked"] is True


def _page(masked_class: str, t: int) -> list[dict]:
    """A page whose div #10 has ``masked_class``; a Mutation adds text under it later."""
    node = {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "tagName": "html", "attributes": {}, "id": 2, "childNodes": [
            {"type": 2, "tagName": "body", "attributes": {}, "id": 3, "childNodes": [
                {"type": 2, "tagName": "div", "attributes": {"class": masked_class, "id": "box"}, "id": 10,
                 "childNodes": []},
                {"type": 2, "tagName": "button", "attributes": {"id": "go"}, "id": 11, "childNodes": [
                    {"type": 3, "textContent": "Go", "id": 12}]},
            ]}]}]}
    adds = [{"parentId": 10, "nextId": None, "node": {"type": 2, "tagName": "span", "attributes": {}, "id": 20,
                                                      "childNodes": []}},
            {"parentId": 20, "nextId": None, "node": {"type": 3, "textContent": "SECRET-ADDED-42", "id": 21}}]
    return [
        {"type": 4, "data": {"href": "https://adds.test/", "width": 1280, "height": 800}, "timestamp": t},
        {"type": 2, "data": {"node": node, "initialOffset": {"left": 0, "top": 0}}, "timestamp": t + 1},
        {"type": 3, "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": adds},
         "timestamp": t + 100},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 11, "x": 20, "y": 30}, "timestamp": t + 200},
    ]


def _added_text(events: list[dict]) -> str:
    adds = next(e for e in events if e["type"] == 3 and e["data"]["source"] == 0)["data"]["adds"]
    return adds[1]["node"]["textContent"]


@pytest.mark.parametrize("masked_first", [True, False])
def test_remembered_adds_depend_on_the_parents_scope(masked_first):
    """The same adds bytes under a masked parent (rr-mask) and an unmasked one: masked only
    where the parent is, whichever came first (the second is a lookup)."""
    privacy_mod._ADDS.clear()
    order = [("rr-mask", True), ("plain", False)]
    if not masked_first:
        order.reverse()
    for k, (cls, masked) in enumerate(order):
        out = TextPrivacy().apply(_page(cls, 1_795_000_000_000 + k))
        text = _added_text(out)
        if masked:
            assert text != "SECRET-ADDED-42" and set(text) <= {"*"} and len(text) == 15
        else:
            assert text == "SECRET-ADDED-42"
    assert len(privacy_mod._ADDS) == 2  # one entry per scope


def test_remembered_adds_import_like_a_fresh_walk(tmp_path, monkeypatch):
    """Two copies of an SPA recording (hundreds of added nodes per route) and a masked-text
    one: the second copy's adds come from the memo, and every session equals the import with
    nothing remembered."""
    real = DATA / "rrweb_real"
    names = ["session_spa_plain_1280x800.json", "session_spa_maskinputs_1280x800.json",
             "session_privacy_masktext_1280x800.json"]
    src = tmp_path / "src"
    src.mkdir()
    paths = []
    for k in range(2):
        for name in names:
            events = orjson.loads((real / name).read_bytes())
            p = src / f"{k}_{name}"
            p.write_bytes(orjson.dumps([dict(e, timestamp=e["timestamp"] + k * 3_600_000) for e in events]))
            paths.append(p)
    privacy_mod._ADDS.clear()
    snapshot_cache.clear()
    import_files(paths, tmp_path / "memo.sqlite", render=False)
    assert len(privacy_mod._ADDS) >= 4
    monkeypatch.setattr(snapshot_cache, "enabled", False)
    privacy_mod._ADDS.clear()
    import_files(paths[:len(names)], tmp_path / "fresh.sqlite", render=False)
    assert not privacy_mod._ADDS  # nothing remembered with the cache off

    def rows(path):
        with open_capture(path) as cap:
            out = []
            for sid in cap.session_ids().tolist():
                for pv in cap.pageviews(sid):
                    ev = cap.pageview_events(pv.pageview_id)
                    out.append((pv.start_ms, pv.end_ms, ev.kind.tolist(), ev.x.tolist(), ev.y.tolist(),
                                ev.target.tolist(), ev.value.tolist(), cap.elements(pv.snapshot_id).label))
            return out

    memo, fresh = rows(tmp_path / "memo.sqlite"), rows(tmp_path / "fresh.sqlite")
    assert len(memo) == 2 * len(fresh) and len(fresh) >= 5
    assert memo[:len(fresh)] == fresh and memo[len(fresh):] == fresh


def _session(scroll: np.ndarray, n_pv: int) -> rr.ParsedSession:
    pvs = [rr.ParsedPageview("https://s.test/", "https://s.test/", 1280, 800, 0, 10_000) for _ in range(n_pv)]
    z = np.zeros(0)
    return rr.ParsedSession("x", "rrweb", "", pvs, z.astype(np.int64), z.astype(np.uint8), z, z,
                            z.astype(np.int64), z.astype(np.int64), z.astype(np.int64), scroll, [], None, 0)


@pytest.mark.parametrize("seed", range(5))
def test_one_pageview_scroll_lookup_equals_the_reference(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    t = np.sort(rng.integers(0, 10_000, m)).astype(np.float64)
    t[rng.random(m) < 0.3] = t[0]  # equal times: the later row wins
    scroll = np.column_stack([t, rng.integers(0, 50, m), rng.integers(0, 5000, m), np.zeros(m)]).astype(np.float64)
    q = rng.integers(-100, 10_100, 200)
    sx, sy = rr.scroll_at(_session(scroll, 1), q, np.zeros(200, np.int64))
    rx, ry = rr._scroll_at_each(scroll, q.astype(np.float64), np.zeros(200, np.int64))
    assert np.array_equal(sx, rx) and np.array_equal(sy, ry)
    assert sy.any() and (sy[q < t[0]] == 0).all()
    # a query for another pageview of a one-pageview session finds no scroll (as the keyed search)
    sx2, sy2 = rr.scroll_at(_session(scroll, 1), q[:3], np.ones(3, np.int64))
    assert not sx2.any() and not sy2.any()


def test_options_found_among_meta_and_custom_events_only():
    events = [{"type": 4, "data": {"href": "h", "width": 1, "height": 1, "recordOptions": {"maskTextClass": "a"}}},
              {"type": 3, "data": {"source": 0, "recordOptions": {"blockClass": "no"}}},
              {"type": 5, "data": {"tag": "rrweb/options", "payload": {"blockClass": "b"}}},
              {"type": 5.0, "data": {"tag": "recordOptions", "payload": {"ignoreClass": "c"}}}]
    want = [({"maskTextClass": "a"}, "Meta event data.recordOptions"),
            ({"blockClass": "b"}, "Custom event rrweb/options"),
            ({"ignoreClass": "c"}, "Custom event recordOptions")]
    assert options_from(None, events) == want
    assert options_from(None, ["junk", None, *events]) == want  # non-objects: looked at one by one


def test_files_read_with_os_open_keep_their_errors(tmp_path):
    def err(path, **kw):
        with pytest.raises(CaptureError) as exc:
            rr.read_file(path, **kw)
        return str(exc.value)

    assert "is a folder" in err(tmp_path)
    assert "cannot be read (No such file" in err(tmp_path / "missing.json")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert "is empty" in err(empty)
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b" " * 3000 + b"]")
    assert "above the import limit" in err(big, max_bytes=2000)
    assert rr.read_file(big, max_bytes=4000) == []
    ok = tmp_path / "ok.json"
    ok.write_bytes(json.dumps([{"type": 4}]).encode())
    assert rr.read_file(ok) == [{"type": 4}]


def test_placeholder_labels_from_remembered_masks_equal_fresh_renders(monkeypatch):
    """Placeholder screenshots draw a label met before from its remembered FreeType mask: the
    PNG is byte for byte the one drawn by rendering every label."""
    from hindsight.importers import render_dom

    boxes = np.array([[8, 8 + 22 * i, 500 - 4 * i, 18] for i in range(40)], dtype=np.float64)
    labels = [f"Pricing plan {i % 7}" if i % 3 else "Sign up" for i in range(40)]
    first = render_dom.placeholder_image(boxes, labels, 1280, 1000)
    again = render_dom.placeholder_image(boxes, labels, 1280, 1000)
    font = render_dom._LABEL_FONT
    if font is None:
        pytest.skip("Pillow without FreeType: the bitmap font is used as it is")
    assert len({key[0] for key in font._masks}) >= 8  # 7 plan labels + "Sign up", rendered once each
    monkeypatch.setattr(render_dom, "_label_font", lambda default: default)
    fresh = render_dom.placeholder_image(boxes, labels, 1280, 1000)
    assert first == again == fresh
    other = render_dom.placeholder_image(boxes, [lb + "!" for lb in labels], 1280, 1000)
    assert other != fresh  # the labels are really drawn

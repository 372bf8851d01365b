"""Issue 15, rrweb import speed: each distinct FullSnapshot DOM is walked for privacy and parsed
once per process (``importers/snapshot_cache``). The cache must never change what is imported:
N copies of a recording give N sessions equal to importing it alone, a cached DOM with masking
gives the same masked result as a fresh parse, and two different DOMs are never merged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from hindsight.importers import rrweb as rr
from hindsight.importers import snapshot_cache
from hindsight.importers.privacy import TextPrivacy
from hindsight.importers.rrweb_dom import parse_dom
from hindsight.importers.session_writer import import_files
from hindsight.store import open_capture

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = DATA / "rrweb_real"
#: a landing page, an SPA with routes, a masked SPA, text masked by the recorder's options,
#: a form with validation states, and a touch recording
FILES = ("session_landing_1280x800.json", "session_spa_plain_1280x800.json",
         "session_spa_maskinputs_1280x800.json", "session_privacy_masktext_1280x800.json",
         "session_states_1280x800.json", "session_spa_touch_390x844.json")
SECRETS = ("SECRET-ALPHA-4711", "SECRET-BRAVO-0815", "SECRET-CHARLIE-2024", "SECRET-DELTA-9001",
           "SECRET-ECHO-3141", "SECRET-FOXTROT-2718")


def _shifted(src: Path, out: Path, hours: int) -> Path:
    """A copy of a recording ``hours`` later (a distinct recording with the same DOMs)."""
    events = orjson.loads(src.read_bytes())
    out.write_bytes(orjson.dumps([dict(e, timestamp=e["timestamp"] + hours * 3_600_000) for e in events]))
    return out


def _sessions(path: Path) -> list[dict]:
    """Every session of a capture as comparable values: no ids, times since session start."""
    out = []
    with open_capture(path) as cap:
        strings = cap.strings()
        pages = {p.page_id: p.url for p in cap.pages()}
        for sid in cap.session_ids().tolist():
            s = cap.session(sid)
            pvs = []
            for pv in cap.pageviews(sid):
                ev = cap.pageview_events(pv.pageview_id)
                els = cap.elements(pv.snapshot_id)
                value = ev.value.copy()
                strs = [strings.get(int(v), "") for v in value[np.isin(ev.kind, [int(k) for k in rr.STRING_KINDS])]]
                pvs.append({
                    "url": pages[pv.page_id], "start": pv.start_ms, "end": pv.end_ms,
                    "elements": (els.selector, els.label, els.boxes.tolist()),
                    "t": ev.t.tolist(), "kind": ev.kind.tolist(), "x": ev.x.tolist(), "y": ev.y.tolist(),
                    "target": ev.target.tolist(), "strings": strs,
                    "value": np.where(np.isin(ev.kind, [int(k) for k in rr.STRING_KINDS]), 0, value).tolist(),
                })
            out.append({"device": s.device, "duration": s.duration_ms, "pageviews": pvs})
    return out


def test_n_copies_import_like_one_each(tmp_path, monkeypatch):
    """Three copies of each recording in one import (the DOMs come from the cache from the
    second copy on) give three sets of sessions, each equal to the recordings imported once
    with nothing cached at all."""
    src = tmp_path / "src"
    src.mkdir()
    copies = [_shifted(REAL / name, src / f"{k}_{name}", k) for k in range(3) for name in FILES]
    snapshot_cache.clear()
    before = dict(snapshot_cache.stats)
    import_files(copies, tmp_path / "all.sqlite", render=False)
    assert snapshot_cache.stats["hits"] - before["hits"] >= 2 * len(FILES)  # the cache was used
    assert snapshot_cache.stats["tree_hits"] - before["tree_hits"] >= 2 * len(FILES)
    assert snapshot_cache.stats["route_hits"] - before["route_hits"] >= 2  # SPA routes too
    together = _sessions(tmp_path / "all.sqlite")
    assert len(together) == 3 * len(FILES)

    snapshot_cache.clear()
    monkeypatch.setattr(snapshot_cache, "enabled", False)
    hits = snapshot_cache.stats["hits"], snapshot_cache.stats["tree_hits"]
    import_files([REAL / name for name in FILES], tmp_path / "once.sqlite", render=False)
    assert (snapshot_cache.stats["hits"], snapshot_cache.stats["tree_hits"]) == hits  # nothing reused
    once = _sessions(tmp_path / "once.sqlite")
    assert len(once) == len(FILES)
    for j, name in enumerate(FILES):
        assert sum(len(p["t"]) for p in once[j]["pageviews"]) > 10
        for k in range(3):
            assert together[k * len(FILES) + j] == once[j], (name, k)


def test_cached_masked_dom_equals_a_fresh_parse():
    """The recorder's masking options on a DOM met before: the cached walk and element map
    are those a fresh walk and parse give, and no secret survives in either."""
    path = REAL / "session_privacy_masktext_1280x800.json"
    doc = orjson.loads(path.read_bytes())
    snapshot_cache.clear()
    first = rr.load_session(path, mask_text=True)
    hits = snapshot_cache.stats["tree_hits"]
    second = rr.load_session(path, mask_text=True)
    assert snapshot_cache.stats["tree_hits"] > hits
    assert second.pageviews[0].dom is first.pageviews[0].dom  # the same parsed map, not a copy

    snapshot_cache.clear()
    privacy = TextPrivacy(mask_all=True)
    from hindsight.importers.privacy import options_from

    for opts, where in options_from(doc, doc):
        privacy = privacy.with_options(opts, where)
    fresh_events = privacy.apply(copy.deepcopy(doc))
    node = next(e for e in fresh_events if e["type"] == 2)["data"]["node"]
    fresh = parse_dom(copy.deepcopy(node), mask=True)
    cached = second.pageviews[0].dom
    assert [(e.selector, e.label, e.role, e.field, e.sensitive) for e in cached.elements] == \
        [(e.selector, e.label, e.role, e.field, e.sensitive) for e in fresh.elements]
    assert cached.html() == fresh.html()
    text = cached.html() + json.dumps([e.label for e in cached.elements])
    assert "hsMasked" in orjson.dumps(cached._root).decode()
    for secret in SECRETS:
        assert secret not in text
    # the same DOM without --mask-text is another cache entry with its own (unmasked) labels
    plain = rr.load_session(path)
    assert plain.pageviews[0].dom is not cached
    assert [e.label for e in plain.pageviews[0].dom.elements] != [e.label for e in cached.elements]


def _recording(heading: str) -> list[dict]:
    t = 1_795_000_000_000
    node = {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "tagName": "html", "attributes": {}, "id": 2, "childNodes": [
            {"type": 2, "tagName": "body", "attributes": {}, "id": 3, "childNodes": [
                {"type": 2, "tagName": "h1", "attributes": {}, "id": 4, "childNodes": [
                    {"type": 3, "textContent": heading, "id": 5}]},
                {"type": 2, "tagName": "button", "attributes": {"id": "go"}, "id": 6, "childNodes": [
                    {"type": 3, "textContent": "Go", "id": 7}]},
            ]}]}]}
    return [
        {"type": 4, "data": {"href": "https://cache.test/", "width": 1280, "height": 800}, "timestamp": t},
        {"type": 2, "data": {"node": node, "initialOffset": {"left": 0, "top": 0}}, "timestamp": t + 1},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 6, "x": 20, "y": 30}, "timestamp": t + 50},
    ]


def test_different_doms_are_never_merged():
    """DOMs that differ in one character are two entries with their own element maps; the
    same DOM under other privacy rules is another entry too."""
    snapshot_cache.clear()
    a = rr.parse_session(_recording("Pricing A"), "a.json")
    b = rr.parse_session(_recording("Pricing B"), "b.json")
    a2 = rr.parse_session(_recording("Pricing A"), "a2.json")
    ta, tb, ta2 = (s.pageviews[0].dom for s in (a, b, a2))
    assert ta2 is ta and tb is not ta
    assert ta.elements[1].label == "Pricing A" and tb.elements[1].label == "Pricing B"
    assert ta2.elements[1].label == "Pricing A"
    masked = rr.parse_session(_recording("Pricing A"), "m.json", privacy=TextPrivacy(mask_all=True))
    tm = masked.pageviews[0].dom
    assert tm is not ta and tm.elements[1].label == "*******" + " " + "*"
    assert ta.elements[1].label == "Pricing A"  # the masked walk did not write into the shared tree
    # a route's element map after a mutation is keyed by the mutation's bytes too
    assert snapshot_cache.canonical_bytes(_recording("x")[1]["data"]["node"]) != \
        snapshot_cache.canonical_bytes(_recording("y")[1]["data"]["node"])


def test_cached_trees_are_not_changed_by_an_import(tmp_path):
    """Replaying mutations (routes, validations) works on copies: the cached walked DOM is
    byte for byte what it was after an import that replays them."""
    path = REAL / "session_spa_plain_1280x800.json"
    snapshot_cache.clear()
    first = rr.load_session(path)
    root = first.pageviews[0].dom._root
    before = orjson.dumps(root)
    import_files([path], tmp_path / "c.sqlite", render=False)
    assert orjson.dumps(root) == before
    assert len(first.pageviews) > 1  # the recording has routes (their DOMs were replayed)


def test_recording_hash_is_unchanged_by_cached_doms():
    """The recording hash splices each cached DOM's sorted JSON in (serialized once per DOM):
    the hash is the one of the same events serialized whole, for every fixture."""
    from hindsight.benchmarks.importers import fixture_files

    files = fixture_files()
    assert len(files) >= 20
    snapshot_cache.clear()
    for f in files:
        rr.load_session(f)  # fills the cache
        events = rr.unwrap(orjson.loads(f.read_bytes()), f).events
        privacy = TextPrivacy()
        walked = privacy.apply(sorted(events, key=lambda e: e["timestamp"]))
        shared = [e for e in walked if e.get("type") == 2 and snapshot_cache.of_root(e["data"]["node"])]
        whole = "sha256:" + __import__("hashlib").sha256(orjson.dumps(walked, option=orjson.OPT_SORT_KEYS)).hexdigest()
        assert rr.recording_hash(walked, presorted=True) == whole, f.name
        assert rr.recording_hash(copy.deepcopy(walked), presorted=True) == whole, f.name
        if any(e.get("type") == 2 for e in events):
            assert shared, f.name  # the spliced path was taken


def test_the_cache_is_bounded_by_bytes(monkeypatch):
    """A cache over its byte budget starts afresh; what it gives after that is still right."""
    monkeypatch.setattr(snapshot_cache, "MAX_BYTES", 60_000)
    snapshot_cache.clear()
    names = ("session_landing_1280x800.json", "session_product_1280x800.json", "session_spa_plain_1280x800.json")
    labels = {}
    for _ in range(2):
        for name in names:
            s = rr.load_session(REAL / name)
            assert 0 < snapshot_cache._bytes <= 60_000
            got = [e.label for pv in s.pageviews for e in pv.dom.elements]
            assert labels.setdefault(name, got) == got
    monkeypatch.setattr(snapshot_cache, "enabled", False)
    for name in names:
        s = rr.load_session(REAL / name)
        assert [e.label for pv in s.pageviews for e in pv.dom.elements] == labels[name]

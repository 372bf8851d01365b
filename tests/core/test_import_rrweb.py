"""Importing the real rrweb recordings in tests/data/rrweb (see its README and expected.json)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hindsight.cli import main as cli_main
from hindsight.importers.render_dom import find_chromium
from hindsight.importers.session_writer import import_files
from hindsight.store import CaptureError, EventKind as K, open_capture

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]
SESSION_FILES = sorted(n for n in EXPECTED if n.startswith("session_"))
HAVE_CHROMIUM = find_chromium() is not None
needs_chromium = pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed")


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """Every fixture session imported once (masked, Chromium geometry when available)."""
    out = tmp_path_factory.mktemp("rrweb") / "imported.sqlite"
    report = import_files([DATA / n for n in SESSION_FILES], out)
    assert report.sessions == len(SESSION_FILES)
    return out


def _session_of(cap, name: str) -> int:
    for sid in cap.session_ids():
        if cap.session(int(sid)).external_id == Path(name).stem:
            return int(sid)
    raise KeyError(name)


def _count(ev, kind) -> int:
    return int(np.count_nonzero(ev.kind == kind))


def test_info_counts_match_the_recordings(imported, capsys):
    assert cli_main(["info", str(imported), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sessions"] == len(SESSION_FILES)
    assert info["pageviews"] == sum(EXPECTED[n]["meta_count"] for n in SESSION_FILES)
    assert info["masking"] == "lengths-only"
    assert {p["url"] for p in info["page_list"]} == {
        "http://shop.hindsight.test/index.html", "http://shop.hindsight.test/signup.html",
        "http://shop.hindsight.test/index.html?done=1"}


@pytest.mark.parametrize("name", SESSION_FILES)
def test_session_counts(imported, name):
    exp = EXPECTED[name]
    with open_capture(imported) as cap:
        sid = _session_of(cap, name)
        pvs, ev, _ = cap.session_events(sid)
        session = cap.session(sid)
    assert len(pvs) == exp["meta_count"]
    touch = sum(1 for c in exp["clicks"] if c["pointer_type"] == 2)
    # a tap is stored once, as TAP (its follow-up Click is not stored again)
    assert _count(ev, K.CLICK) == exp["click_count"] - touch
    assert _count(ev, K.TAP) == exp["touch_end_count"] == touch
    assert _count(ev, K.DBLCLICK) == exp["dblclick_count"]
    assert _count(ev, K.INPUT) == exp["input_count"]
    assert _count(ev, K.SCROLL) == exp["scroll_count"]
    errors = [c for c in exp["custom_events"] if c["tag"] == "error"]
    assert _count(ev, K.ERROR) == len(errors)  # custom 'error' + console error of the same throw: once
    assert _count(ev, K.CUSTOM) == exp["custom_event_count"] - len(errors)
    assert _count(ev, K.FOCUS) == exp["mouse_interactions_by_type"].get("5", 0)
    assert _count(ev, K.BLUR) == exp["mouse_interactions_by_type"].get("6", 0)
    assert _count(ev, K.MUTATION) == exp["incremental_by_source"].get("0", 0)
    assert session.device == ("mobile" if exp["metas"][0]["width"] < 600 else "desktop")
    assert (session.viewport_w, session.viewport_h) == (exp["metas"][0]["width"], exp["metas"][0]["height"])
    assert abs(session.duration_ms - exp["duration_ms"]) <= 1
    for pv, meta in zip(pvs, exp["metas"]):
        assert pv.start_ms == meta["offset_ms"]
    assert np.all(np.diff(ev.t.astype(np.int64)) >= 0)


@needs_chromium
@pytest.mark.parametrize("name", SESSION_FILES)
def test_every_click_lands_on_the_clicked_element(imported, name):
    exp = EXPECTED[name]
    with open_capture(imported) as cap:
        assert cap.meta["geometry"] == "chromium"
        sid = _session_of(cap, name)
        pvs, ev, pv_index = cap.session_events(sid)
        pointer = np.flatnonzero(np.isin(ev.kind, (K.CLICK, K.TAP)))
        assert len(pointer) == len(exp["clicks"])
        for click, row in zip(exp["clicks"], pointer):
            pv = pvs[pv_index[row]]
            assert pv.seq == click["page_index"]
            assert ev.kind[row] == (K.TAP if click["pointer_type"] == 2 else K.CLICK)
            assert abs(int(ev.t[row]) - click["offset_ms"]) <= 10
            emap = cap.elements(pv.snapshot_id)
            idx = emap.index_of(click["selector"])
            assert idx >= 0, click["selector"]
            assert int(ev.target[row]) == idx, click["selector"]
            x, y, w, h = emap.boxes[idx]
            assert x <= ev.x[row] < x + w and y <= ev.y[row] < y + h, (click, (ev.x[row], ev.y[row]), (x, y, w, h))
            if pv.seq == 0 or click["selector"] not in ("#password", "#terms", "#signup-submit"):
                # before any layout change the stored point is the recorded page point
                assert (ev.x[row], ev.y[row]) == (click["x"] + click["scroll_x"], click["y"] + click["scroll_y"])


@needs_chromium
def test_element_boxes_match_the_browser(imported):
    """Chromium re-layout gives the boxes the recording browser had (expected.json bbox_page)."""
    with open_capture(imported) as cap:
        sid = _session_of(cap, "session_abandon_rrweb2.json")
        pvs = cap.pageviews(sid)
        for click in EXPECTED["session_abandon_rrweb2.json"]["clicks"]:
            emap = cap.elements(pvs[click["page_index"]].snapshot_id)
            box = emap.boxes[emap.index_of(click["selector"])]
            b = click["bbox_page"]
            np.testing.assert_allclose(box, [b["x"], b["y"], b["width"], b["height"]], atol=1)


def test_element_map_fields(imported):
    with open_capture(imported) as cap:
        signup = cap.page_by_url("http://shop.hindsight.test/signup.html")
        snap = [s for s in cap.snapshots(signup.page_id) if s.device == "desktop"][0]
        emap = cap.elements(snap.snapshot_id)
        row = {sel: i for i, sel in enumerate(emap.selector)}
        email = row["#email"]
        assert emap.field[email] == "email" and emap.form[email] == "signup-form"
        assert emap.label[email] == "Email" and emap.sensitive[email] and emap.clickable[email]
        for sel in ("#password", "#phone"):
            assert emap.sensitive[row[sel]]
        assert not emap.sensitive[row["#name"]] and emap.label[row["#name"]] == "Full name"
        assert emap.role[row["#terms"]] == "checkbox" and emap.field[row["#terms"]] == "terms"
        assert emap.tag[row["#plan"]] == "select" and emap.label[row["#plan"]] == "Plan"
        assert emap.clickable[row["#signup-submit"]] and emap.form[row["#signup-submit"]] == "signup-form"
        assert not emap.clickable[row["#promo-label"]]
        assert emap.label[row["#broken"]] == "Pay annually"
        landing = cap.page_by_url("http://shop.hindsight.test/index.html")
        lmap = cap.elements([s for s in cap.snapshots(landing.page_id) if s.device == "desktop"][0].snapshot_id)
        shot = lmap.index_of("#product-shot")
        assert lmap.tag[shot] == "img" and lmap.label[shot] == "Acme Ledger dashboard screenshot"
        cta = lmap.index_of("#cta-get-started")
        assert lmap.href[cta] == "http://shop.hindsight.test/signup.html" and lmap.role[cta] == "link"


def test_inputs_store_lengths_and_checkbox_state(imported):
    exp = EXPECTED["session_signup_rrweb2.json"]
    with open_capture(imported) as cap:
        sid = _session_of(cap, "session_signup_rrweb2.json")
        pvs, ev, pv_index = cap.session_events(sid)
        emap = cap.elements(pvs[1].snapshot_id)
        inputs = np.flatnonzero(ev.kind == K.INPUT)
        for final in exp["inputs_final"]:
            idx = emap.index_of(final["selector"])
            rows = inputs[ev.target[inputs] == idx]
            assert rows.size, final["selector"]
            want = (1 if final["isChecked"] else 0) if final["selector"] == "#terms" else len(final["text"])
            if emap.tag[idx] == "select":  # a select stores its chosen option's index + 1 (issue 12)
                from hindsight.replay.timeline import select_options
                values = [emap.label[i] for i in select_options(emap, idx)]
                want = next(i + 1 for i, lbl in enumerate(values) if lbl.lower().startswith(final["text"][:3].lower()))
            assert int(ev.value[rows[-1]]) == want, final["selector"]
        # the failed submit marked #email invalid; the good one (then the next page) is a SUBMIT
        val = np.flatnonzero(ev.kind == K.VALIDATION)
        assert len(val) == 1 and int(ev.target[val[0]]) == emap.index_of("#email")
        assert cap.strings()[int(ev.value[val[0]])] == "Please enter a valid email address."
        sub = np.flatnonzero(ev.kind == K.SUBMIT)
        assert len(sub) == 1 and int(ev.target[sub[0]]) == emap.index_of("#signup-submit")
        assert cap.session(sid).converted


def test_error_session_from_rrweb1(imported):
    with open_capture(imported) as cap:
        sid = _session_of(cap, "session_error_rrweb1.json")
        pvs, ev, _ = cap.session_events(sid)
        errors = np.flatnonzero(ev.kind == K.ERROR)
        assert len(errors) == 3
        assert {cap.strings()[int(v)] for v in ev.value[errors]} == {"Uncaught Error: Checkout service unavailable"}
        clicks = np.flatnonzero(ev.kind == K.CLICK)
        emap = cap.elements(pvs[0].snapshot_id)
        assert [emap.selector[int(t)] for t in ev.target[clicks]] == ["#broken"] * 3 + ["#promo-label"]


def test_posthog_export_imports_to_the_same_events(tmp_path):
    raw = import_files([DATA / "session_signup_rrweb2.json"], tmp_path / "raw.sqlite", render=False)
    ph = import_files([DATA / "posthog_export_v2.json"], tmp_path / "ph.sqlite", render=False)
    assert raw.kinds == ph.kinds and raw.pageviews == ph.pageviews == 3
    with open_capture(tmp_path / "raw.sqlite") as a, open_capture(tmp_path / "ph.sqlite") as b:
        _, ea, _ = a.session_events(1)
        _, eb, _ = b.session_events(1)
        for col in ("t", "kind", "x", "y", "target", "value"):
            np.testing.assert_array_equal(getattr(ea, col), getattr(eb, col))
        assert b.session(1).external_id == EXPECTED["posthog_export_v2.json"]["session_id"]


def test_posthog_v1_and_gzip(tmp_path):
    doc = json.loads((DATA / "posthog_export_v2.json").read_text())
    events = [{k: v for k, v in e.items() if k != "windowId"} for e in doc["data"]["snapshots"]]
    v1 = {"version": "2022-12-02", "data": {"person": None, "snapshotsByWindowId": {"w1": events}}}
    (tmp_path / "v1.json.gz").write_bytes(gzip.compress(json.dumps(v1).encode()))
    report = import_files([tmp_path / "v1.json.gz"], tmp_path / "v1.sqlite", render=False)
    assert report.sessions == 1 and report.pageviews == 3 and report.kinds["click"] == 11


def test_masked_import_keeps_no_typed_value(tmp_path):
    out = tmp_path / "masked.sqlite"
    import_files([DATA / n for n in SESSION_FILES] + [DATA / "posthog_export_v2.json"], out)
    blobs = [out.read_bytes()]
    for extra in (Path(str(out) + "-wal"), Path(str(out) + "-journal")):
        if extra.exists():
            blobs.append(extra.read_bytes())
    raw = b"".join(blobs)
    typed = {v for n in SESSION_FILES for v in EXPECTED[n]["typed_values"]} - {"team"}  # 'team': a <select> option
    typed |= {"jane.doe", "hunter2", "555 0100", "sam.rivera", "alex.kim"}
    assert {"Jane Doe", "hunter2-secret", "+1 555 0100", "Sam Rivera", "jane.doe@example.com"} <= typed
    for value in typed:
        for enc in ("utf-8", "utf-16-le"):
            assert value.encode(enc) not in raw, value


def test_scrubbing_of_kept_text():
    from hindsight.importers.privacy import scrub, scrub_url

    assert scrub("mail jane.doe@example.com now") == "mail [email] now"
    assert scrub("card 4111 1111 1111 1111 and 4111-1111-1111-1111 or 4111111111111111") == \
        "card [number] and [number] or [number]"
    assert scrub("order 12345 on 2024-01-02") == "order 12345 on 2024-01-02"
    url = scrub_url("https://u:p@shop.test/a?email=jane%40x.com&utm_source=g&gclid=1&q=ok#frag")
    assert url == "https://shop.test/a?email=%5Bemail%5D&q=ok"


def test_no_mask_is_recorded(tmp_path):
    out = tmp_path / "unmasked.sqlite"
    assert cli_main(["import", "rrweb", str(DATA / "session_error_rrweb1.json"), "--out", str(out),
                     "--no-mask", "--no-render"]) == 0
    with open_capture(out) as cap:
        assert cap.meta["masking"] == "none"
        _, ev, _ = cap.session_events(1)
        assert _count(ev, K.ERROR) == 3


def test_screenshots_are_used_as_snapshot_images(tmp_path):
    from PIL import Image

    shots = [DATA / "screenshots" / f for f in ("index_1280.png", "signup_1280.png", "index_390.png",
                                                 "signup_390.png")]
    out = tmp_path / "shots.sqlite"
    args = ["import", "rrweb", *[str(DATA / n) for n in SESSION_FILES], "--out", str(out)]
    for s in shots:
        args += ["--screenshot", str(s)]
    assert cli_main(args) == 0
    with open_capture(out) as cap:
        by_key = {}
        for snap in cap.snapshots():
            url = next(p.url for p in cap.pages() if p.page_id == snap.page_id)
            by_key[(url.rsplit("/", 1)[-1], snap.width)] = snap
        for s in shots:
            stem, width = s.stem.rsplit("_", 1)
            snap = by_key[(f"{stem}.html", int(width))]
            png = cap.snapshot_image(snap.snapshot_id)
            assert png == s.read_bytes()
            with Image.open(io.BytesIO(png)) as img:
                assert img.size == (snap.width, snap.height)
        # index.html?done=1 has no screenshot of its own: rendered (or placeholder), never index_1280.png
        done = by_key[("index.html?done=1", 1280)]
        assert cap.snapshot_image(done.snapshot_id) != shots[0].read_bytes()


def test_explicit_url_screenshot(tmp_path):
    shot = DATA / "screenshots" / "signup_1280.png"
    report = import_files([DATA / "session_error_rrweb1.json"], tmp_path / "u.sqlite", render=False,
                          screenshots=[f"http://shop.hindsight.test/signup.html={shot}"])
    assert report.screenshots_used == 1


def test_placeholder_geometry_without_chromium(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("HINDSIGHT_NO_CHROMIUM", "1")
    out = tmp_path / "ph.sqlite"
    report = import_files([DATA / "session_error_rrweb1.json"], out)
    assert report.geometry == {"placeholder": 1} and any("placeholder" in n for n in report.notes)
    with open_capture(out) as cap:
        assert cap.meta["geometry"] == "placeholder"
        snap = cap.snapshots()[0]
        with Image.open(io.BytesIO(cap.snapshot_image(snap.snapshot_id))) as img:
            assert img.size == (snap.width, snap.height)
        emap = cap.elements(snap.snapshot_id)
        boxed = np.array([t != "option" for t in emap.tag])  # a select's options have no box (issue 12)
        assert len(emap) > 20 and np.all(emap.boxes[boxed, 2] > 0) and np.all(emap.boxes[~boxed] == 0)
        pvs, ev, _ = cap.session_events(1)
        clicks = np.flatnonzero(ev.kind == K.CLICK)
        assert [emap.selector[int(t)] for t in ev.target[clicks]] == ["#broken"] * 3 + ["#promo-label"]


def test_append_shares_snapshots(tmp_path):
    out = tmp_path / "app.sqlite"
    import_files([DATA / "session_abandon_rrweb2.json"], out, render=False)
    before = open_capture(out)
    n_snaps = len(before.snapshots())
    before.close()
    assert cli_main(["import", "rrweb", str(DATA / "session_signup_rrweb2.json"), "--out", str(out),
                     "--append", "--no-render"]) == 0
    with open_capture(out) as cap:
        assert cap.session_count() == 2
        assert len(cap.snapshots()) == n_snaps + 1  # only index.html?done=1 is new
        pvs, ev, pv_index = cap.session_events(2)
        emap = cap.elements(pvs[1].snapshot_id)
        focus = np.flatnonzero((ev.kind == K.FOCUS) & (pv_index == 1))
        assert emap.selector[int(ev.target[focus[0]])] == "#name"


# -- bad input -------------------------------------------------------------------------------

def _events(name="session_error_rrweb1.json"):
    return json.loads((DATA / name).read_text())


def _bad_inputs():
    ev = _events()
    huge_x = json.loads(json.dumps(ev))
    next(e for e in huge_x if e["type"] == 3 and e["data"]["source"] == 2 and e["data"]["type"] == 2)["data"]["x"] = 1e308
    huge_t = json.loads(json.dumps(ev))
    huge_t[5]["timestamp"] = 2**70
    no_type = json.loads(json.dumps(ev))
    del no_type[4]["type"]
    no_ts = json.loads(json.dumps(ev))
    del no_ts[3]["timestamp"]
    no_meta = [e for e in ev if e["type"] != 4]
    bad_pos = json.loads(json.dumps(ev))
    next(e for e in bad_pos if e["type"] == 3 and e["data"]["source"] == 1)["data"]["positions"] = 7
    text = json.dumps(ev)
    return [
        ("not_json", b"hello, I am not JSON", "not valid JSON"),
        ("truncated", text[: len(text) // 2].encode(), "truncated"),
        ("object", b'{"events": []}', "neither an array of rrweb events nor a PostHog"),
        ("number", b"42", "JSON int"),
        ("empty_array", b"[]", "holds no events"),
        ("empty_file", b"", "is empty"),
        ("strings", b'["a", "b"]', "event #0 is a JSON str"),
        ("no_type", json.dumps(no_type).encode(), "event #4 has no 'type'"),
        ("no_timestamp", json.dumps(no_ts).encode(), "event #3 has no 'timestamp'"),
        ("huge_coordinate", json.dumps(huge_x).encode(), "out of range"),
        ("string_timestamp", json.dumps(huge_t).replace("1180591620717411303424", '"soon"').encode(),
         "non-numeric timestamp"),
        ("nan", text.replace('"x": 471', '"x": NaN', 1).encode(), "NaN"),
        ("missing_meta", json.dumps(no_meta).encode(), "no Meta event"),
        ("bad_positions", json.dumps(bad_pos).encode(), "MouseMove) is malformed"),
        ("binary", b"\x00\xff\xfe garbage", "not UTF-8"),
        ("bad_posthog", b'{"version": "2023-04-28", "data": {"snapshots": 3}}', "data.snapshots"),
    ]


@pytest.mark.parametrize("label,content,problem", _bad_inputs(), ids=[b[0] for b in _bad_inputs()])
def test_bad_input_gives_one_line_error_and_writes_nothing(tmp_path, capsys, label, content, problem):
    bad = tmp_path / f"{label}.json"
    bad.write_bytes(content)
    out = tmp_path / "out.sqlite"
    with pytest.raises(CaptureError) as info:
        import_files([DATA / "session_abandon_rrweb2.json", bad], out, render=False)
    msg = str(info.value)
    assert msg.startswith(str(bad)) and problem in msg and "\n" not in msg
    assert not out.exists() and not list(tmp_path.glob("out.sqlite*"))
    # the CLI: exit code 2, one line on stderr
    assert cli_main(["import", "rrweb", str(bad), "--out", str(out), "--no-render"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and problem in err
    assert not out.exists()


def test_failed_append_leaves_the_capture_unchanged(tmp_path):
    out = tmp_path / "cap.sqlite"
    import_files([DATA / "session_abandon_rrweb2.json"], out, render=False)
    digest = _dump_digest(out)
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(CaptureError):
        import_files([DATA / "session_signup_rrweb2.json", bad], out, append=True, render=False)
    with open_capture(out) as cap:
        assert cap.session_count() == 1 and cap.counts()["pageviews"] == 2
    assert _dump_digest(out) == digest  # (the file bytes differ: appending switches it to WAL mode)


def _dump_digest(path: Path) -> str:
    import sqlite3

    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


def test_out_of_order_and_unknown_events(tmp_path):
    ev = _events("session_abandon_rrweb2.json")
    first = ev[0]["timestamp"]
    shuffled = [ev[0], ev[1]] + list(reversed(ev[2:]))  # sorted back (stable) on import
    shuffled.insert(3, {"type": 99, "data": {}, "timestamp": first + 5})
    shuffled.insert(4, {"type": 3, "data": {"source": 77}, "timestamp": first + 6})
    shuffled.insert(5, {"type": 7, "data": {"url": "x"}, "timestamp": first + 7})
    (tmp_path / "s.json").write_text(json.dumps(shuffled))
    a = import_files([DATA / "session_abandon_rrweb2.json"], tmp_path / "a.sqlite", render=False)
    b = import_files([tmp_path / "s.json"], tmp_path / "b.sqlite", render=False)
    assert a.kinds == b.kinds
    assert b.skipped["type 99 (unknown)"] == 1 and b.skipped["IncrementalSnapshot source 77 (unknown)"] == 1
    assert b.skipped["type 7 (Asset)"] == 1
    with open_capture(tmp_path / "a.sqlite") as ca, open_capture(tmp_path / "b.sqlite") as cb:
        _, ea, _ = ca.session_events(1)
        _, eb, _ = cb.session_events(1)
        np.testing.assert_array_equal(ea.t, eb.t)
        np.testing.assert_array_equal(ea.x, eb.x)


def test_file_size_limit(tmp_path, capsys):
    big = tmp_path / "big.json"
    shutil.copyfile(DATA / "session_signup_rrweb2.json", big)
    with pytest.raises(CaptureError, match="above the import limit of 0 MB"):
        import_files([big], tmp_path / "o.sqlite", max_bytes=1000, render=False)
    assert cli_main(["import", "rrweb", str(big), "--out", str(tmp_path / "o.sqlite"), "--max-file-mb", "0.01"]) == 2
    assert "--max-file-mb" in capsys.readouterr().err


def test_fifty_megabyte_recording_imports(tmp_path):
    """A 50 MB recording (the fixture's incremental events repeated) imports within the limit."""
    ev = _events("session_signup_rrweb2.json")
    head = ev[:2]
    body = [e for e in ev[2:] if e["type"] == 3 and e["data"]["source"] in (1, 2, 3, 5)]
    span = body[-1]["timestamp"] - body[0]["timestamp"] + 50
    out_events = list(head)
    chunk = json.dumps(body)
    reps = int(50 * 2**20 / len(chunk)) + 1
    for r in range(reps):
        for e in body:
            out_events.append({**e, "timestamp": e["timestamp"] + r * span})
    path = tmp_path / "big.json"
    path.write_text(json.dumps(out_events))
    assert path.stat().st_size > 50 * 2**20
    report = import_files([path], tmp_path / "big.sqlite", render=False)
    assert report.rrweb_events == len(out_events)
    with open_capture(tmp_path / "big.sqlite") as cap:
        assert cap.counts()["events"] == report.events > len(out_events)


# -- analytics on imported sessions (signals.py / forms.py by colleagues) ---------------------

@needs_chromium
def test_signals_detect_the_recorded_frustration(imported):
    signals = pytest.importorskip("hindsight.analytics.signals")
    with open_capture(imported) as cap:
        rows = signals.compute_signals(cap).rows()
        signup = _session_of(cap, "session_signup_rrweb2.json")
        error = _session_of(cap, "session_error_rrweb1.json")
    rage = [r for r in rows if r["kind"] == "rage_click"]
    assert [(r["session_id"], r["selector"], r["count"]) for r in rage] == [(signup, "#product-shot", 4)]
    errs = [r for r in rows if r["kind"] == "error_click"]
    assert [(r["session_id"], r["selector"]) for r in errs] == [(error, "#broken")] * 3
    dead = {(r["session_id"], r["selector"]) for r in rows if r["kind"] == "dead_click"}
    assert (error, "#promo-label") in dead


def test_form_analytics_list_the_signup_fields(imported):
    forms = pytest.importorskip("hindsight.analytics.forms")
    with open_capture(imported) as cap:
        refs = forms.list_forms(cap)
        assert [(r.form, r.url) for r in refs] == [("signup-form", "http://shop.hindsight.test/signup.html")]
        report = forms.form_report(cap, "signup-form")
    assert [f.name for f in report.fields] == ["name", "email", "phone", "password", "plan", "terms"]
    assert [f.label for f in report.fields][:3] == ["Full name", "Email", "Phone"]
    # viewed: 4 sessions saw signup.html; started: signup, abandon, mobile; completed: signup
    assert (report.viewed, report.started, report.completed, report.abandoned) == (4, 3, 1, 2)
    email = report.field("email")
    assert email.validation_errors == 1 and email.returns == 1
    assert report.field("phone").left_blank == 1


def test_the_same_recording_twice_is_imported_once(tmp_path):
    """A raw rrweb file and its PostHog export are one session, not two."""
    from hindsight.importers.session_writer import import_files

    out = tmp_path / "dup.sqlite"
    report = import_files([DATA / "session_signup_rrweb2.json", DATA / "posthog_export_v2.json"],
                          out, render=False)
    assert report.files == 2 and report.sessions == 1
    assert any("same recording" in note for note in report.notes)
    with open_capture(out) as cap:
        assert cap.session_count() == 1

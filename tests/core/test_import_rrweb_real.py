"""Issue 12, importer side: the real rrweb recordings in tests/data/rrweb_real (see its README
and expected.json) and rrweb's own replay fixtures in tests/data/rrweb_upstream."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hindsight.cli import main as cli_main
from hindsight.importers.session_writer import import_files
from hindsight.store import open_capture

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = DATA / "rrweb_real"
UPSTREAM = DATA / "rrweb_upstream"
EXPECTED = json.loads((REAL / "expected.json").read_text())


def _events(name: str) -> list:
    return json.loads((REAL / name).read_text())


# -- 1. import idempotence -------------------------------------------------------------------

def test_append_of_the_same_recording_twice_leaves_one_session(tmp_path, capsys):
    rec = REAL / "session_spa_plain_1280x800.json"
    out = tmp_path / "c.sqlite"
    assert cli_main(["import", "rrweb", str(rec), "--out", str(out), "--no-render"]) == 0
    capsys.readouterr()
    assert cli_main(["import", "rrweb", str(rec), "--out", str(out), "--no-render", "--append"]) == 0
    text = capsys.readouterr().out
    assert "already in c.sqlite as session 1; skipped" in text
    # and again in the same command as a new file under another name
    copy = tmp_path / "copy.json"
    copy.write_bytes(rec.read_bytes())
    report = import_files([copy, REAL / "session_spa_posthog_1280x800.json"], out, render=False, append=True)
    assert (report.files, report.sessions, report.duplicates) == (2, 1, 1)
    with open_capture(out) as cap:
        assert cap.session_count() == 2
        assert sorted(cap.session(int(s)).external_id for s in cap.session_ids()) == [
            "session_spa_plain_1280x800", "session_spa_posthog_1280x800"]


def test_recordings_with_identical_stored_events_stay_two_sessions(tmp_path):
    """A Plugin event that is not stored makes another recording: it is kept, not merged."""
    ev = _events("session_privacy_default_1280x800.json")
    other = json.loads(json.dumps(ev))
    other.insert(5, {"type": 6, "data": {"plugin": "rrweb/network@1", "payload": {"requests": []}},
                     "timestamp": other[4]["timestamp"]})
    (tmp_path / "a.json").write_text(json.dumps(ev))
    (tmp_path / "b.json").write_text(json.dumps(other))
    # two recordings with no stored events at all (Meta + FullSnapshot), of different pages
    bare = [e for e in ev if e["type"] in (4, 2)]
    bare2 = json.loads(json.dumps(bare))
    bare2[0]["data"]["href"] = "http://www.hindsight.test/other.html"
    (tmp_path / "c.json").write_text(json.dumps(bare))
    (tmp_path / "d.json").write_text(json.dumps(bare2))
    out = tmp_path / "two.sqlite"
    report = import_files([tmp_path / n for n in ("a.json", "b.json", "c.json", "d.json")], out, render=False)
    assert (report.files, report.sessions, report.duplicates) == (4, 4, 0)
    with open_capture(out) as cap:
        a, b = (cap.session(int(s)) for s in list(cap.session_ids())[:2])
        assert a.event_count == b.event_count > 0


def test_append_to_a_capture_without_the_recordings_table(tmp_path):
    """Captures written before the recordings table get it on append; old sessions are kept."""
    out = tmp_path / "old.sqlite"
    import_files([REAL / "session_product_1440x900.json"], out, render=False)
    con = sqlite3.connect(out)
    con.execute("DROP TABLE recordings")
    con.commit()
    con.close()
    import_files([REAL / "session_product_1280x800.json"], out, render=False, append=True)
    report = import_files([REAL / "session_product_1280x800.json"], out, render=False, append=True)
    assert report.sessions == 0 and report.duplicates == 1
    with open_capture(out) as cap:
        assert cap.session_count() == 2


# -- 2. import what rrweb replays ------------------------------------------------------------

UPSTREAM_FILES = sorted(p.name for p in UPSTREAM.glob("*.json"))


def test_rrweb_own_replay_fixtures_each_import_with_a_session(tmp_path):
    """rrweb's test events (timestamps from 0, or 1900000001 = January 1970) are timelines too."""
    assert len(UPSTREAM_FILES) >= 10
    out = tmp_path / "up.sqlite"
    report = import_files([UPSTREAM / n for n in UPSTREAM_FILES], out, render=False)
    assert (report.files, report.sessions, report.duplicates) == (len(UPSTREAM_FILES),) * 2 + (0,)
    # video-playback.json has one stray timestamp (19000602896, a digit too many): dropped, counted
    assert report.skipped["event with a timestamp far from the rest of the recording (outlier)"] == 1
    with open_capture(out) as cap:
        by_name = {cap.session(int(s)).external_id: cap.session(int(s)) for s in cap.session_ids()}
        assert sorted(by_name) == sorted(Path(n).stem for n in UPSTREAM_FILES)
        # the recorded timeline is kept: durations are rrweb's own (last - first event)
        for n in UPSTREAM_FILES:
            ev = json.loads((UPSTREAM / n).read_text())
            meta = min(e["timestamp"] for e in ev if e["type"] == 4)
            s = by_name[Path(n).stem]
            last = max(e["timestamp"] for e in ev if e["timestamp"] != 19000602896)
            assert s.start_ms == meta and s.duration_ms == last - meta
        assert by_name["video-playback"].event_count == 151
        assert cap.date_range() == (None, None) and cap.unknown_date_count() == len(UPSTREAM_FILES)


def test_unknown_start_dates_display_as_unknown(tmp_path, capsys):
    out = tmp_path / "mix.sqlite"
    import_files([UPSTREAM / "hover.json", REAL / "session_product_1440x900.json"], out, render=False)
    capsys.readouterr()
    assert cli_main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "; 1 session(s) with an unknown start date" in info
    assert cli_main(["sessions", str(out)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert sorted(r[1] for r in rows)[-1] == "unknown" and sum(r[1] == "unknown" for r in rows) == 1


def test_a_stray_timestamp_is_dropped_and_counted_not_fatal(tmp_path):
    ev = _events("session_product_1440x900.json")
    n_clicks = sum(1 for e in ev if e["type"] == 3 and e["data"]["source"] == 2 and e["data"]["type"] == 2)
    ev[10]["timestamp"] += 60 * 86_400_000   # 60 days later: beyond the 49-day span of a session
    ev[12]["timestamp"] = 2**70               # no usable number
    dropped = [ev[10], ev[12]]
    (tmp_path / "stray.json").write_text(json.dumps(ev))
    out = tmp_path / "stray.sqlite"
    report = import_files([tmp_path / "stray.json"], out, render=False)
    assert report.sessions == 1
    assert report.skipped["event with a timestamp far from the rest of the recording (outlier)"] == 2
    lost_clicks = sum(1 for e in dropped if e["type"] == 3 and e["data"]["source"] == 2 and e["data"]["type"] == 2)
    assert report.kinds["click"] == n_clicks - lost_clicks
    with open_capture(out) as cap:
        s = cap.session(int(cap.session_ids()[0]))
        assert s.duration_ms < 60_000


# -- 3. SPA routes ---------------------------------------------------------------------------

from hindsight.store import EventKind as K  # noqa: E402

_CAPS: dict = {}


def _imported(tmp_path_factory, name: str, render: bool = True) -> Path:
    """One real recording imported once per test module (Chromium geometry when installed)."""
    key = (name, render)
    if key not in _CAPS:
        out = tmp_path_factory.mktemp("real") / f"{Path(name).stem}.sqlite"
        import_files([REAL / name], out, render=render)
        _CAPS[key] = out
    return _CAPS[key]


def _pageviews(cap):
    sid = int(cap.session_ids()[0])
    pages = {p.page_id: p for p in cap.pages()}
    return [(pages[p.page_id].url, pages[p.page_id].title, p.start_ms, p) for p in cap.pageviews(sid)]


def _stored_pointer(cap):
    """(t ms since session start, kind, selector) of every stored click and tap."""
    out = []
    for _, _, _, p in _pageviews(cap):
        ev = cap.pageview_events(p.pageview_id)
        em = cap.elements(p.snapshot_id)
        for i in np.flatnonzero(np.isin(ev.kind, [K.CLICK, K.TAP])):
            out.append((int(ev.t[i]), int(ev.kind[i]), em.selector[int(ev.target[i])] if ev.target[i] >= 0 else None))
    return out


import numpy as np  # noqa: E402

SPA = ["session_spa_posthog_1280x800.json", "session_spa_plain_1280x800.json", "session_spa_touch_390x844.json"]


@pytest.mark.parametrize("name", SPA)
def test_spa_routes_are_pageviews_with_their_own_page(tmp_path_factory, name):
    exp = EXPECTED["files"][name]
    routes = exp["route_changes"]
    first = exp["metas"][0]
    with open_capture(_imported(tmp_path_factory, name)) as cap:
        pvs = _pageviews(cap)
        assert len(pvs) == 1 + len(routes)
        assert (pvs[0][0], pvs[0][1]) == (first["href"], "Home - Acme App")
        for (url, title, start, _), r in zip(pvs[1:], routes):
            assert title == r["title"]
            assert abs(start - (r["t"] - first["timestamp"])) <= 100
            if "posthog" in name:   # the $pageview events carry the URL
                assert url == r["href"]
            elif r["title"] == "Home - Acme App":  # back to the document's own title: its URL
                assert url == first["href"]
            else:                   # named by its title
                assert url == f"{first['href']} [{r['title']}]"
        # each route has its own snapshot (element map of the new view)
        snaps = {p.snapshot_id for *_, p in pvs}
        assert len(snaps) == len({u for u, *_ in pvs})
        account = next(p for u, t, s, p in pvs if t == "Account - Acme App")
        assert "#full-name" in cap.elements(account.snapshot_id).selector


@pytest.mark.parametrize("name", SPA)
def test_clicks_after_a_route_land_on_the_new_view_and_are_not_dead(tmp_path_factory, name, capsys):
    exp = EXPECTED["files"][name]
    t0 = exp["metas"][0]["timestamp"]
    out = _imported(tmp_path_factory, name)
    with open_capture(out) as cap:
        stored = _stored_pointer(cap)
    clicks = [a for a in exp["actions"] if a["action"] in ("click", "tap")]
    assert len(clicks) >= 8
    for a in clicks:
        near = [s for s in stored if abs(s[0] - (a["t"] - t0)) <= 60]
        assert near and near[0][2] == a["key"]["selector"], (a["key"]["selector"], near)
    capsys.readouterr()
    assert cli_main(["signals", str(out), "--json"]) == 0
    kinds = {k["kind"]: k for k in json.loads(capsys.readouterr().out)["kinds"]}
    assert kinds["dead_click"]["signals"] == 0   # 9 on desktop, 4 on the phone before routes


# -- 4. touch ----------------------------------------------------------------------------------

from hindsight.replay.hesitation import detect_hesitations, element_kind  # noqa: E402
from hindsight.replay.timeline import SessionTimeline  # noqa: E402


@pytest.mark.parametrize("name", ["session_spa_touch_390x844.json", "session_landing_390x844.json"])
def test_synthetic_mouse_moves_after_taps_are_not_a_cursor(tmp_path_factory, name):
    exp = EXPECTED["files"][name]
    taps = [a for a in exp["actions"] if a["action"] == "tap"]
    out = _imported(tmp_path_factory, name)
    with open_capture(out) as cap:
        sid = int(cap.session_ids()[0])
        _, events, _ = cap.session_events(sid)
        assert int(np.sum(events.kind == K.MOVE)) == 0          # 8 / 9 stored before
        assert int(np.sum(events.kind == K.TAP)) == len(taps)
        tl = SessionTimeline.load(cap, sid)
        assert not any(h.reason == "still" and h.has_cursor for h in tl.hesitations)
        touch = detect_hesitations(tl, touch_still=True, max_ms=20_000)
    assert all(not h.has_cursor and h.describe().startswith("No touch for ") for h in touch)
    if "spa_touch" in name:
        # the ~9 s with no input after closing the modal (expected: still 9.0 s from 12.9 s)
        still = next(a for a in exp["actions"] if a["action"] == "still")
        t0 = exp["metas"][0]["timestamp"]
        long = [h for h in touch if h.duration_ms > 8_500]
        assert len(long) == 1 and long[0].start_ms <= still["t"] - t0 <= long[0].end_ms
        assert long[0].describe().startswith(f"No touch for {long[0].duration_ms / 1000:.1f} s")


def test_a_pause_after_clicking_a_button_names_the_button_not_a_field(tmp_path_factory):
    """After clicking Save (which focuses the button) the visitor waits ~4 s: not a field."""
    name = "session_spa_plain_1280x800.json"
    exp = EXPECTED["files"][name]
    t0 = exp["metas"][0]["timestamp"]
    still = next(a for a in exp["actions"] if a["action"] == "still")
    with open_capture(_imported(tmp_path_factory, name)) as cap:
        tl = SessionTimeline.load(cap, int(cap.session_ids()[0]))
        h = next(h for h in tl.hesitations if h.start_ms <= still["t"] - t0 <= h.end_ms)
        emap = tl.element_maps[tl.pageviews[h.pageview_index].snapshot_id]
        save = emap.index_of("#save")
        assert element_kind(emap, save) == "button"
        assert element_kind(emap, emap.index_of("#email")) == "field"
        assert element_kind(emap, emap.index_of("#nav-home")) == "link"
        # the focus is on #save (the click focused it), yet no field hesitation is reported
        assert tl.index.focused_at(h.pageview_index, h.start_ms + 1) == save
    assert (h.reason, h.kind, h.selector) == ("still", "button", "#save")
    assert "field" not in h.describe() and h.describe().endswith("over the Save changes button")


# -- 5. validation errors ----------------------------------------------------------------------

@pytest.mark.parametrize("name", SPA)
def test_role_alert_and_is_invalid_error_is_on_the_email_field(tmp_path_factory, name, capsys):
    """#email gets class is-invalid and a role="alert" #email-error is inserted after it (no
    aria-invalid): one validation error, on the email field, in `forms` and `signals`."""
    exp = EXPECTED["files"][name]
    t0 = exp["metas"][0]["timestamp"]
    shown = next(v for v in exp["visibility"] if v["selector"] == "#email-error" and v["visible"])
    out = _imported(tmp_path_factory, name)
    with open_capture(out) as cap:
        found = []
        for _, _, _, p in _pageviews(cap):
            ev = cap.pageview_events(p.pageview_id)
            em = cap.elements(p.snapshot_id)
            strings = cap.strings()
            for i in np.flatnonzero(ev.kind == K.VALIDATION):
                found.append((int(ev.t[i]), em.selector[int(ev.target[i])], strings[int(ev.value[i])]))
    assert len(found) == 1
    t, selector, message = found[0]
    assert selector == "#email" and abs(t - (shown["t"] - t0)) <= 100
    assert message == "Enter a valid email address, like [email]."  # scrubbed like all kept text
    capsys.readouterr()
    assert cli_main(["forms", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    fields = {f["name"]: f for f in report["fields"]}
    assert fields["email"]["validation_errors"] == 1
    assert sum(f["validation_errors"] for f in report["fields"]) == 1
    assert cli_main(["signals", str(out), "--json"]) == 0
    kinds = {k["kind"]: k for k in json.loads(capsys.readouterr().out)["kinds"]}
    assert kinds["validation_error"]["signals"] == 1
    assert [e["selector"] for e in kinds["validation_error"]["top_elements"]] == ["#email"]


def test_error_class_alone_and_custom_event_errors_name_their_field(tmp_path):
    """Other ways pages show an error, on the same real recording: the error class alone (the
    alert removed from the Mutation), and a custom event carrying the field name."""
    ev = _events("session_spa_posthog_1280x800.json")
    # the Mutation that shows the inline error: keep only the is-invalid class change, so the
    # class alone must give the error
    i_err = next(i for i, e in enumerate(ev) if e["type"] == 3 and e["data"]["source"] == 0
                 and any(a["attributes"].get("class") == "is-invalid" for a in e["data"]["attributes"]))
    only_class = json.loads(json.dumps(ev))
    only_class[i_err]["data"]["adds"] = []
    # a custom event naming the full-name field
    custom = json.loads(json.dumps(ev))
    custom.insert(i_err + 1, {"type": 5, "timestamp": ev[i_err]["timestamp"] + 5,
                              "data": {"tag": "validation_error",
                                       "payload": {"field": "full-name", "message": "Too short"}}})
    for n, events in (("class.json", only_class), ("custom.json", custom)):
        (tmp_path / n).write_text(json.dumps(events))
    out = tmp_path / "v.sqlite"
    import_files([tmp_path / "class.json", tmp_path / "custom.json"], out, render=False)
    with open_capture(out) as cap:
        got = {}
        for sid in cap.session_ids():
            s = cap.session(int(sid))
            pvs, evs, pv_index = cap.session_events(int(sid))
            rows = np.flatnonzero(evs.kind == K.VALIDATION)
            got[s.external_id] = sorted(
                (cap.elements(pvs[int(pv_index[r])].snapshot_id).selector[int(evs.target[r])],
                 cap.strings()[int(evs.value[r])]) for r in rows)
    assert got["class"] == [("#email", "invalid")]
    assert got["custom"] == [("#email", "Enter a valid email address, like [email]."), ("#full-name", "Too short")]


# -- 6. dead clicks ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["session_privacy_default_1280x800.json", "session_privacy_masktext_1280x800.json"])
def test_a_click_that_focused_a_field_is_not_dead(tmp_path_factory, name, capsys):
    """#ignored-input (rr-ignore: rrweb records its Focus at mousedown, before the Click, and no
    Input) was a dead click; #privacy-title (plain text, no handler) is one. Heatmap and signals
    agree: one rule."""
    exp = EXPECTED["files"][name]
    t0 = exp["metas"][0]["timestamp"]
    click = next(a for a in exp["actions"] if a["action"] == "click" and a["key"]["selector"] == "#ignored-input")
    out = _imported(tmp_path_factory, name)
    with open_capture(out) as cap:
        _, events, _ = cap.session_events(int(cap.session_ids()[0]))
        t_click = next(t for t, k, sel in _stored_pointer(cap) if sel == "#ignored-input")
        focus = events.t[events.kind == K.FOCUS].astype(int)
        lead = t_click - max(f for f in focus if f <= t_click)
        assert 0 <= lead <= 500 and abs(t_click - (click["t"] - t0)) <= 60   # focus came first
    capsys.readouterr()
    assert cli_main(["signals", str(out), "--json"]) == 0
    kinds = {k["kind"]: k for k in json.loads(capsys.readouterr().out)["kinds"]}
    assert kinds["dead_click"]["signals"] == 1
    assert [e["selector"] for e in kinds["dead_click"]["top_elements"]] == ["#privacy-title"]
    assert cli_main(["heatmap", str(out), "--page", "http://www.hindsight.test/privacy.html", "--kind", "dead",
                     "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top_elements"]
    assert {e["selector"]: e["dead_clicks"] for e in top if e["dead_clicks"]} == {"#privacy-title": 1}
    assert next(e for e in top if e["selector"] == "#ignored-input")["dead_clicks"] == 0


def test_an_erased_recording_can_be_imported_again(tmp_path):
    from hindsight.erase import erase

    rec = REAL / "session_product_1440x900.json"
    out = tmp_path / "e.sqlite"
    import_files([rec, REAL / "session_product_1280x800.json"], out, render=False)
    with open_capture(out) as cap:
        sid = next(int(s) for s in cap.session_ids() if cap.session(int(s)).external_id == rec.stem)
    erase(out, [sid])
    with sqlite3.connect(out) as con:
        assert con.execute("SELECT count(*) FROM recordings").fetchone()[0] == 1
    report = import_files([rec], out, render=False, append=True)
    assert (report.sessions, report.duplicates) == (1, 0)
    with open_capture(out) as cap:
        assert sorted(cap.session(int(s)).external_id for s in cap.session_ids()) == [
            "session_product_1280x800", "session_product_1440x900"]

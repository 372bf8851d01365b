"""Issue 12, page states: screenshots rendered in Chromium at visible DOM changes of real rrweb
recordings (tests/data/rrweb_real: session_spa_* and session_states_1280x800, see its README),
the replay switching to them, identical states stored once, the per-pageview bound, click maps
per state, and imports without Chromium."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from hindsight.cli import main as cli_main
from hindsight.importers.render_dom import find_chromium
from hindsight.importers.session_writer import import_files
from hindsight.importers.states import MAX_STATES
from hindsight.replay.timeline import SessionTimeline
from hindsight.store import open_capture
from hindsight.store.kinds import EventKind as K
from hindsight.store.states import session_states, snapshot_states, state_boxes, state_image, state_info

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
EXPECTED = json.loads((REAL / "expected.json").read_text())
SPA = "session_spa_plain_1280x800.json"
SPA_POSTHOG = "session_spa_posthog_1280x800.json"
STATES = "session_states_1280x800.json"

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")


def _visible_at(name: str, selector: str, visible: bool = True, nth: int = 0) -> int:
    """ms since the recording's start when ``selector`` became (in)visible (ground truth)."""
    f = EXPECTED["files"][name]
    hits = [v["t"] - f["first_timestamp"] for v in f["visibility"]
            if v["selector"] == selector and v["visible"] is visible]
    return int(hits[nth])


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """spa_plain, then spa_posthog (the same pages and DOM changes), then the states page."""
    out = tmp_path_factory.mktemp("states") / "c.sqlite"
    report = import_files([REAL / SPA, REAL / SPA_POSTHOG, REAL / STATES], out)
    return out, report


def _session(cap, name: str) -> int:
    stem = name.removesuffix(".json")
    return next(int(s) for s in cap.session_ids() if cap.session(int(s)).external_id == stem)


def _selector_index(cap, snapshot_id: int, selector: str) -> int:
    return list(cap.elements(snapshot_id).selector).index(selector)


@needs_chromium
def test_frame_after_the_modal_opens_shows_the_modal_state(capture):
    path, _ = capture
    t_open = _visible_at(SPA, "#compare-modal")
    t_close = _visible_at(SPA, "#compare-modal", visible=False)
    with open_capture(path) as cap:
        sid = _session(cap, SPA)
        tl = SessionTimeline.load(cap, sid)
        before, during, after = tl.frame_at(t_open - 300), tl.frame_at(t_open + 150), tl.frame_at(t_close + 150)
        assert before.pageview_index == during.pageview_index == after.pageview_index
        assert before.state_id == -1 and after.state_id == -1  # closed again: the page's own screenshot
        assert during.state_id >= 0
        info = state_info(cap, during.state_id)
        assert info["label"].startswith("dialog #compare-modal shown")
        assert info["snapshot_id"] == during.snapshot_id
        # pixels: the dialog's Close button is drawn (blue) in the state, not in the snapshot
        close = _selector_index(cap, during.snapshot_id, "#modal-close")
        x, y, w, h = state_boxes(cap, during.state_id)[close]
        assert w > 40 and h > 20  # laid out in the state (hidden, so 0 x 0, in the snapshot)
        assert tuple(cap.elements(during.snapshot_id).boxes[close][2:]) == (0, 0)
        cx, cy = int(x + w / 2), int(y + 4)
        state_px = _png(state_image(cap, during.state_id))[cy, cx].astype(int)
        snap_px = _png(cap.snapshot_image(during.snapshot_id))[cy, cx].astype(int)
        assert state_px[2] > 180 and state_px[0] < 90, state_px  # #3454d1
        assert not (snap_px[2] > 180 and snap_px[0] < 90), snap_px


@needs_chromium
def test_frame_after_the_error_shows_the_error_state_and_the_fix_shows_another(capture):
    path, _ = capture
    t_err = _visible_at(SPA, "#email-error")
    t_fixed = _visible_at(SPA, "#email-error", visible=False)
    with open_capture(path) as cap:
        tl = SessionTimeline.load(cap, _session(cap, SPA))
        before, err, fixed = tl.frame_at(t_err - 300), tl.frame_at(t_err + 150), tl.frame_at(t_fixed + 150)
        assert before.state_id == -1
        assert "alert #email-error shown" in state_info(cap, err.state_id)["label"]
        assert "#email marked invalid" in state_info(cap, err.state_id)["label"]
        label = state_info(cap, fixed.state_id)["label"]
        assert "#email-error removed" in label and "#save-success shown" in label
        # the error line sits under the email field in the state image: red text there only
        email = _selector_index(cap, err.snapshot_id, "#email")
        x, y, w, h = state_boxes(cap, err.state_id)[email]
        band = slice(int(y + h + 4), int(y + h + 24)), slice(int(x), int(x + w))
        red = lambda a: int(((a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 2] < 90)).sum())  # noqa: E731
        assert red(_png(state_image(cap, err.state_id))[band]) > 50
        assert red(_png(cap.snapshot_image(err.snapshot_id))[band]) == 0
        assert red(_png(state_image(cap, fixed.state_id))[band]) == 0


@needs_chromium
def test_identical_states_are_stored_once(capture):
    path, report = capture
    with open_capture(path) as cap:
        # the states page opens the same modal twice: one state, shown twice
        sid = _session(cap, STATES)
        rows = session_states(cap, sid)[0]
        snap = cap.pageviews(sid)[0].snapshot_id
        modal = [s["state_id"] for s in snapshot_states(cap, snap) if "#changes-modal" in s["label"]]
        assert len(modal) == 1
        assert list(rows[1]).count(modal[0]) == 2
        # the posthog recording shows the same four states as the plain one: none rendered again
        plain, posthog = session_states(cap, _session(cap, SPA)), session_states(cap, _session(cap, SPA_POSTHOG))
        ids = lambda tl: sorted({int(s) for _, (t, st) in tl.items() for s in st if s >= 0})  # noqa: E731
        assert len(ids(plain)) == 4
        assert ids(posthog) == ids(plain)
        hashes = cap._query("SELECT count(*), count(DISTINCT hash) FROM states")[0]
        assert hashes[0] == hashes[1]
    assert report.states["reused"] >= 4 + 1


@needs_chromium
def test_states_per_pageview_are_bounded(capture):
    """The states page shows 14 distinct DOMs (modal, error, saved, 11 tips): the first
    MAX_STATES are rendered, the rest counted and not stored."""
    path, report = capture
    assert MAX_STATES == 8
    assert report.states["over_bound"] == 14 - MAX_STATES
    with open_capture(path) as cap:
        sid = _session(cap, STATES)
        t, st = session_states(cap, sid)[0]
        assert len({int(s) for s in st if s >= 0}) == MAX_STATES
        snap = cap.pageviews(sid)[0].snapshot_id
        tips = [s for s in snapshot_states(cap, snap) if s["label"] == "status #tip changed"]
        assert len(tips) == MAX_STATES - 3
        # the first tip clicks switch state, the last ones (past the bound) do not
        clicks = [a for a in EXPECTED["files"][STATES]["actions"] if a.get("requested_selector") == "#tip-button"]
        first = clicks[0]["t"] - EXPECTED["files"][STATES]["first_timestamp"]
        assert t[-1] < clicks[-1]["t"] - EXPECTED["files"][STATES]["first_timestamp"]
        assert t[-1] > first


@needs_chromium
def test_clicks_in_the_dialog_are_on_the_dialog_state(capture, tmp_path):
    from hindsight.analytics.state_heatmap import state_click_heatmap, state_clicks

    path, _ = capture
    with open_capture(path) as cap:
        sid = _session(cap, STATES)
        snap = cap.pageviews(sid)[0].snapshot_id
        modal = next(s["state_id"] for s in snapshot_states(cap, snap) if "#changes-modal" in s["label"])
        c = state_clicks(cap, modal)
        close = _selector_index(cap, snap, "#modal-close")
        assert len(c.x) == 2 and set(c.target.tolist()) == {close}  # the two clicks on Close
        x, y, w, h = state_boxes(cap, modal)[close]
        assert np.all((c.x >= x) & (c.x < x + w) & (c.y >= y) & (c.y < y + h))
        res = state_click_heatmap(cap, modal)
        assert res.sample.points == 2 and res.total == 2
        # its element table: Close, with both clicks (the page group's table has no row for it:
        # the dialog's button had no box as the page loaded)
        from hindsight.analytics.heatmap import HeatmapEngine

        engine = HeatmapEngine(cap)
        rows = [(e.index, e.clicks, e.sessions, e.share) for e in engine.element_table(snap, state_id=modal) if e.clicks]
        assert rows == [(close, 2, 1, 1.0)]
        assert all(e.clicks == 0 for e in engine.element_table(snap) if e.index == close)
    png = tmp_path / "state.png"
    assert cli_main(["heatmap", str(path), "--page", "http://www.hindsight.test/states.html",
                     "--state", str(modal), "-o", str(png)]) == 0
    assert png.stat().st_size > 10_000
    assert cli_main(["heatmap", str(path), "--page", "http://www.hindsight.test/states.html",
                     "--state", "999", "-o", str(png)]) == 2


def test_without_chromium_the_import_works_and_says_states_were_not_rendered(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HINDSIGHT_NO_CHROMIUM", "1")
    out = tmp_path / "c.sqlite"
    report = import_files([REAL / SPA], out)
    assert report.sessions == 1 and report.pageviews == 4
    assert report.states["rendered"] == 0 and report.states["not_rendered"] == 2
    assert any(n.startswith("page states not rendered") for n in report.notes)
    with open_capture(out) as cap:
        assert "states" not in cap.tables
        tl = SessionTimeline.load(cap, 1)
        assert tl.frame_at(_visible_at(SPA, "#compare-modal") + 150).state_id == -1
    monkeypatch.delenv("HINDSIGHT_NO_CHROMIUM")
    assert cli_main(["import", "rrweb", str(REAL / SPA), "--out", str(tmp_path / "d.sqlite"), "--no-render"]) == 0
    assert "page states not rendered (no Chromium, or --no-render): 2 pageview(s)" in capsys.readouterr().out


def test_validation_named_by_aria_describedby_is_on_its_field(tmp_path):
    """The states page shows its error in a summary at the top of the form, not next to the
    field; the field names it with aria-describedby: the error is on #full-name."""
    out = tmp_path / "c.sqlite"
    import_files([REAL / STATES], out, render=False)
    with open_capture(out) as cap:
        pvs, ev, pv_index = cap.session_events(1)
        emap = cap.elements(pvs[0].snapshot_id)
        val = ev.kind == K.VALIDATION
        assert val.sum() == 1
        assert emap.selector[int(ev.target[val][0])] == "#full-name"
        msg = cap.strings()[int(ev.value[val][0])]
        assert msg == "Enter your full name so invoices show it."


# -- privacy gaps and the focused-control badge (issue 12 leftovers) ----------------------------

def test_focused_checkbox_badge_shows_its_checked_state_not_a_length(tmp_path):
    from hindsight.replay.focus_badge import focus_badge_text

    out = tmp_path / "c.sqlite"
    import_files([REAL / STATES], out, render=False)
    f = EXPECTED["files"][STATES]
    click = next(a for a in f["actions"] if a.get("requested_selector") == "#newsletter")
    with open_capture(out) as cap:
        tl = SessionTimeline.load(cap, 1)
        emap = tl.element_maps[tl.pageviews[0].snapshot_id]
        box = _selector_index(cap, tl.pageviews[0].snapshot_id, "#newsletter")
        before = tl.frame_at(click["t"] - f["first_timestamp"] - 400)
        frame = tl.frame_at(click["t"] - f["first_timestamp"] + 300)
        assert frame.focused == box and frame.choices.get(box) == 1
        assert focus_badge_text(emap, box, frame.field_lengths, frame.choices) == "Focused · checked"
        assert focus_badge_text(emap, box, frame.field_lengths, before.choices) == "Focused · not checked"
        assert "char" not in focus_badge_text(emap, box, {box: 1}, frame.choices, hesitation_s=3.0)
        name = _selector_index(cap, tl.pageviews[0].snapshot_id, "#full-name")
        assert focus_badge_text(emap, name, {name: 8}, {}) == "•••• 8 chars"


def test_whole_complex_mask_selector_is_matched(tmp_path):
    """maskTextSelector ".vault .note" masks the note inside .vault, not the .note outside it
    (before, only the last part ".note" was checked and both were masked)."""
    ev = json.loads((REAL / STATES).read_text())
    src = tmp_path / "rec.json"
    src.write_text(json.dumps({"events": ev, "recordOptions": {"maskTextSelector": ".vault .note"}}))
    out = tmp_path / "c.sqlite"
    import_files([src], out, render=False)
    data = out.read_bytes()
    assert b"SECRET-VAULT-NOTE-5150" in (REAL / STATES).read_bytes()
    assert b"SECRET-VAULT-NOTE-5150" not in data
    assert b"PUBLIC-NOTE-OK" in data
    # child combinator: ".vault > .note" masks it too; ".tip > .note" (no such parent) masks nothing
    for sel, masked in ((".vault > .note", True), ("main > .note", False), ("div.vault p", True)):
        src.write_text(json.dumps({"events": ev, "recordOptions": {"maskTextSelector": sel}}))
        import_files([src], out, render=False, overwrite=True)
        assert (b"SECRET-VAULT-NOTE-5150" not in out.read_bytes()) is masked, sel


def test_option_labels_of_a_masked_select_are_not_stored(tmp_path):
    """Recorded with maskAllInputs, rrweb masks the select's value but not its option texts:
    the option labels would tell the visitor's possible choices apart; they are masked."""
    masked, plain = tmp_path / "m.sqlite", tmp_path / "p.sqlite"
    import_files([REAL / "session_spa_maskinputs_1280x800.json"], masked, render=False)
    import_files([REAL / SPA], plain, render=False)

    def options(path):
        with open_capture(path) as cap:
            out = []
            for snap in cap.snapshots():
                em = cap.elements(snap.snapshot_id)
                out += [em.label[i] for i in range(len(em)) if em.selector[i].startswith("#plan > option")]
            return out

    assert options(plain) == ["Starter", "Team", "Business"]
    got = options(masked)
    assert got == ["*******", "****", "********"]
    f = EXPECTED["files"]["session_spa_maskinputs_1280x800.json"]
    save = [a for a in f["actions"] if a.get("requested_selector") == "#save"][-1]
    with open_capture(masked) as cap:  # the replay shows no chosen option for it (checked boxes: yes)
        tl = SessionTimeline.load(cap, 1)
        frame = tl.frame_at(save["t"] - f["first_timestamp"] - 200)
        em = tl.element_maps[tl.pageviews[frame.pageview_index].snapshot_id]
        kinds = {em.selector[i]: v for i, v in frame.choices.items()}
        assert "#plan" not in kinds and kinds.get("#terms") == 1


@needs_chromium
def test_erasing_a_session_removes_the_states_rendered_from_it(capture, tmp_path):
    import shutil

    path, _ = capture
    copy = tmp_path / "copy.sqlite"
    shutil.copy(path, copy)
    with open_capture(copy) as cap:
        sid = _session(cap, STATES)
        mine = cap._query("SELECT count(*) FROM states WHERE session_id = ?", (sid,))[0][0]
        total = cap._query("SELECT count(*) FROM states")[0][0]
    assert mine == MAX_STATES
    assert cli_main(["delete", str(copy), "--session", str(sid), "--yes"]) == 0
    with open_capture(copy) as cap:
        assert cap._query("SELECT count(*) FROM states")[0][0] == total - mine
        assert cap._query("SELECT count(*) FROM session_states WHERE session_id = ?", (sid,))[0][0] == 0
        assert session_states(cap, sid) == {}

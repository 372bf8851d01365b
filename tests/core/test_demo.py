"""The demo generator: deterministic, realistic proportions, planted ground truth that is really there."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import numpy as np
import pytest

from hindsight.demo.generate import generate_demo
from hindsight.demo.pages import layout_page
from hindsight.store import EventKind, open_capture


def _digest(path) -> str:
    con = sqlite3.connect(path)
    h = hashlib.sha256()
    for table, order in (("sessions", "session_id"), ("pageviews", "pageview_id"), ("planted", "rowid")):
        for row in con.execute(f"SELECT * FROM {table} ORDER BY {order}"):
            h.update(repr(row).encode())
    con.close()
    return h.hexdigest()


def test_same_seed_same_capture_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "c.sqlite"
    generate_demo(a, sessions=60, seed=3, workers=1)
    generate_demo(b, sessions=60, seed=3, workers=2)  # parallel workers give the same bytes
    generate_demo(c, sessions=60, seed=4, workers=1)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_proportions_are_realistic(demo):
    table = demo.session_table()
    n = len(table["session_id"])
    assert n == 2000
    conversion = table["converted"].mean()
    assert 0.03 <= conversion <= 0.06
    devices = {d: int((table["device"] == d).sum()) for d in ("desktop", "mobile", "tablet")}
    assert devices["desktop"] > devices["mobile"] > devices["tablet"] > 0
    assert len(set(table["country"])) >= 10 and len(set(table["browser"])) >= 5
    assert set(table["source"]) == {"organic", "paid", "direct", "social", "email", "referral"}
    durations = table["duration_ms"] / 1000
    assert 5 < np.median(durations) < 120
    counts = demo.counts()
    assert 80 <= counts["events"] / n <= 250


def test_every_planted_kind_is_present(demo):
    kinds = {row[1] for row in demo.planted()}
    assert kinds >= {"rage_click", "dead_click", "error_click", "excessive_scroll", "thrashed_cursor",
                     "quick_back", "idle", "hesitation", "email_error", "abandon", "cta_missed"}


def test_planted_rage_clicks_are_bursts_on_the_product_image(demo):
    rows = demo.planted("rage_click")
    assert len(rows) > 50
    for session_id, _, t0, t1, selector, _ in rows[:40]:
        assert selector == "img.product-shot"
        pvs, ev, pvi = demo.session_events(session_id)
        pointer = (ev.kind == EventKind.CLICK) | (ev.kind == EventKind.TAP)
        burst = pointer & (ev.t >= t0) & (ev.t <= t1)
        assert burst.sum() >= 3
        assert np.all(np.diff(ev.t[burst]) < 1000)
        emap = demo.elements(pvs[int(pvi[burst][0])].snapshot_id)
        product = emap.index_of("img.product-shot")
        assert set(ev.target[burst].tolist()) == {product}
        assert not emap.clickable[product]


def test_abandonment_concentrates_at_phone(demo):
    rows = demo.planted("abandon")
    fields = [r[4] for r in rows]
    top = max(set(fields), key=fields.count)
    assert top == "#signup-form input[name=phone]"
    assert fields.count(top) / len(fields) > 0.4


def test_hesitations_are_3_to_8_seconds_of_stillness_over_the_form(demo):
    rows = demo.planted("hesitation")
    assert len(rows) > 50
    for session_id, _, t0, t1, selector, _ in rows[:40]:
        assert 3000 <= t1 - t0 <= 8000
        assert selector.startswith("#signup-form")
        _, ev, _ = demo.session_events(session_id)
        inside = (ev.t > t0) & (ev.t < t1)
        assert inside.sum() == 0  # nothing happens while the visitor hesitates


def test_idle_gaps_exceed_ten_seconds(demo):
    for session_id, _, t0, t1, _, _ in demo.planted("idle")[:40]:
        assert t1 - t0 > 10_000
        _, ev, _ = demo.session_events(session_id)
        active = np.isin(ev.kind, [EventKind.MOVE, EventKind.CLICK, EventKind.TAP, EventKind.SCROLL, EventKind.INPUT])
        assert not np.any(active & (ev.t > t0) & (ev.t < t1))


def test_email_errors_have_validation_and_corrections(demo):
    rows = demo.planted("email_error")
    assert len(rows) > 30
    strings = demo.strings()
    for session_id, _, t0, t1, _, _ in rows[:30]:
        pvs, ev, pvi = demo.session_events(session_id)
        val = ev.kind == EventKind.VALIDATION
        assert val.sum() == 1
        assert strings[int(ev.value[val][0])] == "Please enter a valid email address"
        email = int(ev.target[val][0])
        inputs = ev.value[(ev.kind == EventKind.INPUT) & (ev.target == email)]
        assert np.any(np.diff(inputs) < 0)  # characters deleted: corrections


def test_mobile_cta_below_the_fold_and_missed(demo):
    mobile = layout_page("landing", "mobile")
    assert mobile.element("#hero-cta").y > 844
    assert layout_page("landing", "desktop").element("#hero-cta").y < 600
    missed = demo.planted("cta_missed")
    assert len(missed) > 50
    for session_id, *_ in missed[:30]:
        s = demo.session(session_id)
        assert s.device == "mobile" and not s.converted
        _, ev, _ = demo.session_events(session_id)
        scroll_bottom = ev.y[ev.kind == EventKind.SCROLL].max(initial=0) + s.viewport_h
        assert scroll_bottom < mobile.element("#hero-cta").y


def test_scroll_cliff_is_recorded_and_real(demo):
    cliff = json.loads(demo.meta["demo_scroll_cliff"])
    for device in ("desktop", "mobile"):
        snap = [s for s in demo.snapshots() if s.device == device and s.page_id == 1][0]
        ev, _, pv = demo.snapshot_events(snap.snapshot_id, (EventKind.SCROLL, EventKind.RESIZE))
        bottoms = []
        for p in np.unique(pv):
            m = pv == p
            vh = ev.y[m & (ev.kind == EventKind.RESIZE)][0]
            bottoms.append(ev.y[m & (ev.kind == EventKind.SCROLL)].max(initial=0) + vh)
        depths = np.array(bottoms)
        before = (depths >= cliff[device]["before_y"] + 300).mean()
        after = (depths >= cliff[device]["cliff_y"] + 100).mean()
        assert after < before * 0.6, (device, before, after)  # a cliff: most stop before it


def test_conversions_end_with_a_submit_and_custom_event(demo):
    ids = demo.session_ids()[:400]
    strings = demo.strings()
    for sid in ids:
        s = demo.session(int(sid))
        _, ev, _ = demo.session_events(int(sid))
        completed = any(strings.get(int(v)) == "signup_completed" for v in ev.value[ev.kind == EventKind.CUSTOM])
        assert completed == s.converted
        if s.converted:
            assert (ev.kind == EventKind.SUBMIT).sum() == 1


def test_events_are_sorted_and_inside_their_pages(demo):
    for sid in demo.session_ids()[:200]:
        pvs, ev, pvi = demo.session_events(int(sid))
        for i, pv in enumerate(pvs):
            m = pvi == i
            t = ev.t[m]
            assert np.all(np.diff(t.astype(np.int64)) >= 0)
            assert t.min(initial=pv.start_ms) >= pv.start_ms and t.max(initial=pv.end_ms) <= pv.end_ms
            snap = demo.snapshot(pv.snapshot_id)
            pointer = m & np.isin(ev.kind, [EventKind.MOVE, EventKind.CLICK, EventKind.TAP])
            assert np.all((ev.x[pointer] >= 0) & (ev.x[pointer] < snap.width))
            assert np.all((ev.y[pointer] >= 0) & (ev.y[pointer] < snap.height))


def test_snapshots_have_png_screenshots_matching_their_size(demo):
    import io

    from PIL import Image

    for snap in demo.snapshots():
        img = Image.open(io.BytesIO(demo.snapshot_image(snap.snapshot_id)))
        assert img.size == (round(snap.width * snap.scale), round(snap.height * snap.scale))
        assert len(demo.elements(snap.snapshot_id)) > 20


@pytest.mark.parametrize("sessions", [1, 7])
def test_tiny_demo(tmp_path, sessions):
    path = tmp_path / "tiny.sqlite"
    generate_demo(path, sessions=sessions)
    with open_capture(path) as cap:
        assert cap.session_count() == sessions

"""hesitations_at: the sessions that hesitated at a spot of a page (the hot spot list's second half)."""

from __future__ import annotations

from hindsight.analytics.hesitation_spots import hesitations_at, snapshot_hesitations
from hindsight.store import SessionFilter

PHONE = "#signup-form input[name=phone]"


def _signup_desktop(cap):
    page = cap.page_by_url("https://demo.hindsight.local/signup")
    return cap.find_snapshot(page.page_id, "desktop")


def _phone_centre(cap, snap):
    emap = cap.elements(snap.snapshot_id)
    x, y, w, h = emap.boxes[emap.selector.index(PHONE)].tolist()
    return x + w / 2, y + h / 2


def test_phone_field_lists_the_planted_desktop_hesitations(demo):
    snap = _signup_desktop(demo)
    x, y = _phone_centre(demo, snap)
    rows = hesitations_at(demo, snap.snapshot_id, x, y, 28.0)
    planted = [r for r in demo.planted("hesitation") if r[4] == PHONE]
    expected = {r[0] for r in planted if demo.session(r[0]).device == "desktop"}
    assert expected  # the demo plants phone hesitations on desktop
    assert {r[0] for r in rows} == expected
    assert all(r[4] == "field" and r[5] == PHONE for r in rows)
    assert all(r[3] > 2500 for r in rows)
    # Each row starts at its planted hesitation (the focus that began it), on a signup pageview.
    starts = {(r[0], r[2]) for r in planted}
    pv_ids = {pv.pageview_id for pv in demo.snapshot_pageviews(snap.snapshot_id)}
    for s, t, pv, _dur, _reason, _sel in rows:
        assert pv in pv_ids
        assert any(abs(t - t0) <= 50 for s0, t0 in starts if s0 == s)


def test_field_box_counts_even_far_from_its_centre(demo):
    snap = _signup_desktop(demo)
    emap = demo.elements(snap.snapshot_id)
    x, y, w, h = emap.boxes[emap.selector.index(PHONE)].tolist()
    centre = {r[0] for r in hesitations_at(demo, snap.snapshot_id, x + w / 2, y + h / 2, 28.0)}
    corner = {r[0] for r in hesitations_at(demo, snap.snapshot_id, x + 2, y + 2, 1.0)}
    assert corner == centre


def test_filter_and_cache(demo):
    snap = _signup_desktop(demo)
    x, y = _phone_centre(demo, snap)
    converted = SessionFilter(converted=True)
    rows = hesitations_at(demo, snap.snapshot_id, x, y, 28.0, converted)
    everyone = hesitations_at(demo, snap.snapshot_id, x, y, 28.0)
    ids = set(demo.session_ids(converted).tolist())
    assert {r[0] for r in rows} == {r[0] for r in everyone} & ids
    # The snapshot's hesitations are detected once per (snapshot, filter, threshold), in the
    # caller's per-capture cache (the workspace's); never in module-level memory.
    cache: dict = {}
    first = snapshot_hesitations(demo, snap.snapshot_id, converted, cache=cache)
    assert snapshot_hesitations(demo, snap.snapshot_id, converted, cache=cache) is first
    assert list(cache) == [(snap.snapshot_id, converted, 2500)]
    assert snapshot_hesitations(demo, snap.snapshot_id, converted) is not first


def test_empty_spot(demo):
    snap = _signup_desktop(demo)
    assert hesitations_at(demo, snap.snapshot_id, -500.0, -500.0, 5.0) == []

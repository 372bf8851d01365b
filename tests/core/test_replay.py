"""Replay engine: frames at known times, hesitations against the demo's ground truth, playback."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from hindsight.replay import (
    DEFAULT_SPEED,
    ONE_FRAME_MS,
    RIPPLE_MS,
    Frame,
    Player,
    SessionTimeline,
    detect_hesitations,
    detect_inactivity,
)
from hindsight.store import CaptureWriter, EventColumns, EventKind as K, open_capture
from hindsight.store.records import PageView


# -- helpers -------------------------------------------------------------------------------
def pageview(i: int, start: int, end: int, snapshot_id: int = 1, load_ms: int = 0) -> PageView:
    return PageView(pageview_id=i + 1, session_id=1, seq=i, page_id=1, snapshot_id=snapshot_id,
                    start_ms=start, end_ms=end, load_ms=load_ms, event_count=0)


def events(*rows) -> EventColumns:
    """rows of (t, kind, x, y, target, value); missing trailing values are 0 / -1."""
    rows = [tuple(r) + (0, 0, -1, 0)[len(r) - 2:] for r in rows]
    if not rows:
        return EventColumns.empty()
    t, kind, x, y, target, value = zip(*rows)
    return EventColumns.from_arrays(t, kind, x, y, target, value)


def timeline(rows, pageviews=None, pv_index=None) -> SessionTimeline:
    ev = events(*rows)
    pvs = pageviews or [pageview(0, 0, max([0, *ev.t.tolist()]) + 1000)]
    return SessionTimeline.from_parts(pvs, ev, pv_index)


def session_with(demo, predicate):
    """First demo session whose timeline satisfies ``predicate``."""
    for sid in demo.session_ids().tolist():
        tl = SessionTimeline.load(demo, sid)
        if predicate(tl):
            return tl
    raise AssertionError("no demo session matches")


def kinds_in(tl: SessionTimeline, *kinds) -> np.ndarray:
    return np.flatnonzero(np.isin(tl.events.kind, np.asarray(kinds, dtype=np.uint8)))


# -- hesitations against planted ground truth ------------------------------------------------
def test_planted_hesitations_are_found(demo):
    planted = defaultdict(list)
    for row in demo.planted("hesitation"):
        planted[row[0]].append(row)
    assert len(planted) > 50
    all_planted = defaultdict(list)
    for row in demo.planted():
        all_planted[row[0]].append(row)

    found = total = detected = true_pos = 0
    unplanted = Counter()
    for sid in demo.session_ids().tolist():
        tl = SessionTimeline.load(demo, sid)
        hs = tl.hesitations
        detected += len(hs)
        for _, _, t0, t1, selector, _ in planted.get(sid, []):
            total += 1
            found += any(h.start_ms < t1 and h.end_ms > t0 and h.reason == "field" and h.selector == selector
                         for h in hs)
        for h in hs:
            assert h.end_ms - h.start_ms > 2500 and h.end_ms - h.start_ms <= 10_000
            if any(h.start_ms < p[3] and h.end_ms > p[2] for p in planted.get(sid, [])):
                true_pos += 1
            else:
                near = sorted({p[1] for p in all_planted[sid] if p[2] - 3000 <= h.end_ms and p[3] + 3000 >= h.start_ms})
                unplanted[(h.reason, "+".join(near) or "-")] += 1
    recall = found / total
    precision = true_pos / max(detected, 1)
    print(f"\nhesitations: recall {found}/{total} = {recall:.3f}; precision vs planted "
          f"{true_pos}/{detected} = {precision:.3f}")
    print("not planted as 'hesitation' (reason, planted rows nearby):", dict(unplanted.most_common()))
    assert recall >= 0.95
    assert precision >= 0.9


def test_hesitation_describe_and_field_details(demo):
    sid, _, t0, t1, selector, _ = demo.planted("hesitation")[0]
    tl = SessionTimeline.load(demo, sid)
    h = next(h for h in tl.hesitations if h.start_ms < t1 and h.end_ms > t0)
    assert h.reason == "field" and h.selector == selector
    emap = tl.element_maps[tl.pageviews[h.pageview_index].snapshot_id]
    x, y, w, hh = emap.boxes[h.element]
    assert (h.x, h.y) == (x + w / 2, y + hh / 2)
    assert h.describe() == f"Hesitated {(h.end_ms - h.start_ms) / 1000:.1f} s on the {emap.label[h.element]} field"
    assert tl.frame_at(h.start_ms + 1).focused == h.element


def test_hesitation_rules_on_hand_built_sessions():
    base = [(0, K.RESIZE, 1280, 800), (500, K.LOAD, 0, 0, -1, 500), (600, K.MOVE, 100, 100)]
    # Cursor parked (tremor under still_px) for 4 s, then a click.
    tl = timeline(base + [(1600, K.MOVE, 105, 103), (3000, K.MOVE, 98, 104), (4600, K.CLICK, 100, 100)])
    [h] = tl.hesitations
    assert (h.start_ms, h.end_ms, h.reason, h.has_cursor) == (600, 4600, "still", True)
    assert h.describe() == "Cursor still 4.0 s"
    # Slow drift beyond still_px splits the span: 600..2600 and 2600..4600, both too short.
    tl = timeline(base + [(1600, K.MOVE, 108, 100), (2600, K.MOVE, 114, 100), (4600, K.CLICK, 100, 100)])
    assert tl.hesitations == []
    # Loading, hidden tab, and spans over max_ms are not hesitations.
    tl = timeline([(0, K.RESIZE, 1280, 800), (6000, K.LOAD, 0, 0, -1, 6000), (6100, K.MOVE, 5, 5),
                   (6200, K.VISIBILITY, 0, 0, -1, 0), (9900, K.VISIBILITY, 0, 0, -1, 1),
                   (10_000, K.MOVE, 300, 300), (22_000, K.MOVE, 600, 300)])
    assert tl.hesitations == []
    assert detect_hesitations(tl, max_ms=20_000)[0].start_ms == 10_000
    # A focused field with no typing; the same span on a touch device (no cursor) is 'field' too.
    rows = [(0, K.RESIZE, 390, 844), (400, K.LOAD), (1000, K.TAP, 50, 50, 3), (1010, K.FOCUS, 40, 40, 3),
            (5000, K.INPUT, 40, 40, 3, 1)]
    [h] = timeline(rows).hesitations
    assert (h.reason, h.element, h.start_ms, h.end_ms) == ("field", 3, 1010, 5000)
    # Touch stillness is reading, reported only on request.
    rows = [(0, K.RESIZE, 390, 844), (400, K.LOAD), (1000, K.TAP, 50, 60), (5000, K.SCROLL, 0, 300)]
    assert timeline(rows).hesitations == []
    [h] = detect_hesitations(timeline(rows), touch_still=True)
    assert (h.has_cursor, h.x, h.y) == (False, 50.0, 60.0)
    # Parts instead of a timeline give the same answer.
    tl = timeline(rows)
    assert detect_hesitations((tl.pageviews, tl.events, tl.pv_index), touch_still=True) == [h]


# -- frames at known times ------------------------------------------------------------------
def test_frame_scroll_equals_scroll_event(demo):
    tl = session_with(demo, lambda tl: len(kinds_in(tl, K.SCROLL)) > 20)
    checked = 0
    for i in kinds_in(tl, K.SCROLL).tolist():
        t = int(tl.events.t[i])
        same_time = np.flatnonzero((tl.events.t == t) & (tl.events.kind == K.SCROLL))
        if i != same_time[-1] or tl.pageview_at(t) != tl.pv_index[i]:
            continue
        f = tl.frame_at(t)
        assert (f.scroll_x, f.scroll_y) == (tl.events.x[i], tl.events.y[i])
        checked += 1
    assert checked > 20


def test_frame_click_ripple_ages(demo):
    tl = session_with(demo, lambda tl: len(kinds_in(tl, K.CLICK)) > 0)
    i = int(kinds_in(tl, K.CLICK)[0])
    t, x, y = int(tl.events.t[i]), float(tl.events.x[i]), float(tl.events.y[i])

    def ripple(frame: Frame):
        return [r for r in frame.ripples if (r.x, r.y, r.kind) == (x, y, K.CLICK)]

    [r] = ripple(tl.frame_at(t))
    assert r.age_ms == 0 and r.target == tl.events.target[i]
    assert [r.age_ms for r in ripple(tl.frame_at(t + 300))] == [300]
    assert ripple(tl.frame_at(t + 700)) == []
    assert ripple(tl.frame_at(t + RIPPLE_MS)) == [] and ripple(tl.frame_at(t + RIPPLE_MS - 1))
    assert ripple(tl.frame_at(t - 1)) == []


def test_cursor_interpolates_and_rides_the_scroll():
    tl = timeline([(0, K.LOAD), (1000, K.MOVE, 100, 200), (1100, K.MOVE, 200, 400),
                   (1700, K.MOVE, 300, 400), (2000, K.SCROLL, 0, 50), (2500, K.SCROLL, 0, 120)])
    assert tl.frame_at(999).cursor is None
    assert tl.frame_at(1000).cursor == (100, 200)
    assert tl.frame_at(1050).cursor == (150, 300)
    assert tl.frame_at(1025).cursor == (125, 250)
    # 600 ms apart: no interpolation, the cursor waits.
    assert tl.frame_at(1400).cursor == (200, 400)
    assert tl.frame_at(1700).cursor == (300, 400)
    # After the last sample the cursor stays on screen while the page scrolls under it.
    assert tl.frame_at(2000).cursor == (300, 450)
    assert tl.frame_at(2600).cursor == (300, 520)
    f = tl.frame_at(1100)
    assert f.trail.dtype == np.float32 and f.trail.shape == (2, 2)
    np.testing.assert_allclose(f.trail, [[100, 200], [200, 400]])
    np.testing.assert_allclose(tl.frame_at(1650).trail, [[200, 400]])  # 1100 is within 500 ms
    assert tl.frame_at(1601).trail.shape == (1, 2)


def test_cursor_interpolates_on_screen_across_a_scroll():
    # Samples 100 ms apart with a scroll in between: interpolate on screen, not on the page.
    tl = timeline([(1000, K.MOVE, 100, 100), (1040, K.SCROLL, 0, 100), (1100, K.MOVE, 100, 300)])
    assert tl.frame_at(1050).cursor == (100, 250)


def test_field_lengths_and_focus(demo):
    tl = session_with(demo, lambda tl: len(kinds_in(tl, K.INPUT)) > 10)
    inputs = kinds_in(tl, K.INPUT)
    for target in np.unique(tl.events.target[inputs]).tolist():
        rows = inputs[tl.events.target[inputs] == target]
        last = int(rows[-1])
        t = int(tl.events.t[last])
        assert tl.frame_at(t).field_lengths[target] == tl.events.value[last]
        assert tl.frame_at(t + 1).field_lengths[target] == tl.events.value[last]
    focus = kinds_in(tl, K.FOCUS, K.BLUR)
    pairs = 0
    for a, b in zip(focus[:-1].tolist(), focus[1:].tolist()):
        if tl.events.kind[a] == K.FOCUS and tl.events.kind[b] == K.BLUR:
            ta, tb = int(tl.events.t[a]), int(tl.events.t[b])
            target = int(tl.events.target[a])
            assert tl.frame_at(ta).focused == target
            assert tl.frame_at((ta + tb) / 2).focused == target
            assert tl.frame_at(tb).focused == -1
            assert tl.frame_at(ta - 1).focused != target
            pairs += 1
    assert pairs >= 3


def test_frame_clamps_and_switches_pageview(demo):
    tl = session_with(demo, lambda tl: len(tl.pageviews) >= 2)
    first, last = tl.frame_at(-5000), tl.frame_at(tl.duration_ms + 5000)
    assert first == tl.frame_at(0) and first.t_ms == 0
    assert last == tl.frame_at(tl.duration_ms) and last.t_ms == tl.duration_ms
    pv1 = tl.pageviews[1]
    before, at = tl.frame_at(pv1.start_ms - 1), tl.frame_at(pv1.start_ms)
    assert (before.pageview_index, at.pageview_index) == (0, 1)
    assert at.snapshot_id == pv1.snapshot_id
    # Each pageview starts fresh: top of the page, nothing focused, empty fields, loading.
    assert (at.scroll_x, at.scroll_y, at.focused, at.field_lengths) == (0, 0, -1, {})
    assert at.loading and not tl.frame_at(pv1.start_ms + pv1.load_ms).loading


def test_hidden_tab_and_inactivity(demo):
    tl = session_with(demo, lambda tl: any(tl.events.kind == K.VISIBILITY))
    vis = kinds_in(tl, K.VISIBILITY)
    t0, t1 = int(tl.events.t[vis[0]]), int(tl.events.t[vis[1]])
    assert tl.events.value[vis[0]] == 0 and tl.events.value[vis[1]] == 1
    assert tl.frame_at(t0).hidden and tl.frame_at((t0 + t1) / 2).hidden and not tl.frame_at(t1).hidden
    assert any(s <= t0 and e >= t1 for s, e in tl.inactivity)
    assert "inactive" in set(tl.markers.kind.tolist())


def test_planted_idle_is_inactivity(demo):
    idle = demo.planted("idle")
    assert idle
    for sid, _, t0, t1, _, _ in idle[:40]:
        tl = SessionTimeline.load(demo, sid)
        assert any(s <= t0 + 1000 and e >= t1 - 1000 for s, e in tl.inactivity), (sid, t0, t1, tl.inactivity)


def test_empty_sessions_give_frames():
    tl = timeline([])
    f = tl.frame_at(500)
    assert (f.pageview_index, f.cursor, f.ripples, f.focused, f.field_lengths) == (0, None, (), -1, {})
    assert f.trail.shape == (0, 2)
    assert tl.hesitations == [] and tl.frame_times().size == 0 and len(tl.events_between(0, 10**6)) == 0
    none = SessionTimeline.from_parts([], EventColumns.empty())
    assert none.frame_at(0).pageview_index == -1 and none.duration_ms == 0
    p = Player(none)
    p.play()
    p.advance(100)
    p.step(1)
    assert p.frame() is not None


def _write_capture(path, session_rows):
    w = CaptureWriter.create(path)
    page = w.add_page("https://t.local/")
    snap = w.add_snapshot(page, "desktop", 1000, 3000, None,
                          [dict(selector="#f", tag="input", label="Name", x=10, y=10, w=100, h=20, field="name")])
    ids = []
    for ev in session_rows:
        end = int(ev.t.max()) + 100 if len(ev) else 1000
        ids.append(w.add_session({"start_ms": 0, "device": "desktop", "viewport_w": 1000, "viewport_h": 700},
                                 [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": end,
                                   "events": ev}]))
    w.close()
    return ids


def test_out_of_order_and_empty_capture_sessions(tmp_path):
    ordered = events((0, K.RESIZE, 1000, 700), (100, K.LOAD), (200, K.MOVE, 10, 10), (300, K.SCROLL, 0, 40),
                     (400, K.FOCUS, 0, 0, 0), (500, K.INPUT, 0, 0, 0, 1), (600, K.INPUT, 0, 0, 0, 2),
                     (700, K.CLICK, 30, 60, 0), (800, K.BLUR, 0, 0, 0), (900, K.SCROLL, 0, 90))
    shuffled = ordered.take(np.random.default_rng(3).permutation(len(ordered)))
    assert not np.all(np.diff(shuffled.t.astype(np.int64)) >= 0)
    path = tmp_path / "c.sqlite"
    a, b, c = _write_capture(path, [ordered, shuffled, EventColumns.empty()])
    with open_capture(path) as cap:
        ta, tb, tc = (SessionTimeline.load(cap, s) for s in (a, b, c))
        for t in range(-100, 1200, 25):
            assert ta.frame_at(t) == tb.frame_at(t)
        assert tb.frame_at(650).field_lengths == {0: 2} and tb.frame_at(650).focused == 0
        assert tb.frame_at(950).scroll_y == 90
        assert np.all(np.diff(tb.events.t.astype(np.int64)) >= 0)
        f = tc.frame_at(300)
        assert f.cursor is None and (f.viewport_w, f.viewport_h) == (1000, 700)
        assert tc.markers.kind.tolist() == ["page"]


def test_events_between_markers_and_frame_times(demo):
    tl = session_with(demo, lambda tl: len(kinds_in(tl, K.CLICK)) > 2)
    t = tl.events.t.astype(np.int64)
    idx = tl.events_between(1000, 5000)
    assert np.array_equal(idx, np.flatnonzero((t > 1000) & (t <= 5000)))
    ft = tl.frame_times()
    assert np.array_equal(ft, np.unique(t))
    m = tl.markers
    assert np.all(np.diff(m.t_ms) >= 0) and set(m.kind.tolist()) <= {
        "click", "tap", "error", "page", "hesitation", "inactive", "submit", "validation", "custom"}
    clicks = m.t_ms[m.kind == "click"]
    assert tl.next_marker(-1, kinds=("click",)) == clicks[0]
    assert tl.next_marker(clicks[0], kinds=("click",)) == clicks[1]
    assert tl.previous_marker(clicks[1], kinds=("click",)) == clicks[0]
    assert tl.previous_marker(clicks[0], kinds=("click",)) is None
    assert tl.next_marker(tl.duration_ms) is None
    assert all(lbl for lbl in m.label.tolist())


# -- purity: seeking equals playing ---------------------------------------------------------
def test_seek_equals_play(demo):
    tl = session_with(demo, lambda tl: len(tl.pageviews) >= 2 and len(kinds_in(tl, K.MOVE, K.SCROLL)) > 100)
    p = Player(tl)
    p.pause_on_hesitation = False
    p.skip_inactivity = False
    p.set_speed(4.0)
    p.play()
    played = []
    while p.playing:
        f = p.advance(16.7)
        played.append((p.t_ms, f))
    assert played[-1][0] == tl.duration_ms
    rng = np.random.default_rng(0)
    sample = [played[i] for i in rng.choice(len(played), size=min(300, len(played)), replace=False)]
    for t, f in sample:  # frame_at in random order, no state carried between calls
        assert tl.frame_at(t) == f
    # A fresh timeline gives the same frames too.
    tl2 = SessionTimeline.load(demo, tl.session.session_id)
    for t, f in sample[:50]:
        assert tl2.frame_at(t) == f


# -- player -------------------------------------------------------------------------------
def _hesitation_session(demo):
    sid, _, t0, t1, selector, _ = demo.planted("hesitation")[0]
    tl = SessionTimeline.load(demo, sid)
    h = next(h for h in tl.hesitations if h.start_ms < t1 and h.end_ms > t0)
    return tl, h


def test_player_pauses_at_hesitation_and_resumes(demo):
    tl, h = _hesitation_session(demo)
    p = Player(tl)
    assert p.speed == DEFAULT_SPEED == 2.0 and not p.playing
    seen = []
    p.events.paused_for.connect(seen.append)
    p.seek(h.start_ms - 1000)
    p.play()
    frame = None
    for _ in range(100):
        frame = p.advance(100)  # 200 ms of session time a tick
        if not p.playing:
            break
    assert not p.playing and p.t_ms == h.start_ms and p.paused_for == h
    assert frame is not None and frame.t_ms == h.start_ms
    assert seen[-1] == h and h.describe().startswith("Hesitated")
    p.play()
    assert p.paused_for is None and seen[-1] is None
    p.advance(100)
    assert p.playing and p.t_ms == h.start_ms + 200
    # With pausing off it plays straight through.
    options = []
    p.events.options.connect(options.append)
    p.pause_on_hesitation = False
    assert options == [("pause_on_hesitation", False)]
    p.seek(h.start_ms - 500)
    p.play()
    p.advance(1000)
    assert p.playing and p.t_ms == h.start_ms + 1500


def test_player_skips_planted_idle(demo):
    sid, _, t0, t1, _, _ = demo.planted("idle")[0]
    tl = SessionTimeline.load(demo, sid)
    span = next((s, e) for s, e in tl.inactivity if s <= t0 + 1000 and e >= t1 - 1000)
    p = Player(tl)
    p.pause_on_hesitation = False
    skips = []
    p.events.skipping.connect(skips.append)
    p.seek(span[0] - 100)
    p.play()
    p.advance(100)
    assert p.t_ms == span[1] and skips == [span] and p.playing
    p.advance(10)
    assert p.t_ms == span[1] + 20
    # Without skipping, playback walks through the idle span.
    p.skip_inactivity = False
    p.seek(span[0] - 100)
    p.advance(100)
    assert p.t_ms == span[0] + 100


def test_player_step_and_markers(demo):
    tl = session_with(demo, lambda tl: len(tl.events) > 50)
    ft = tl.frame_times()
    close = np.flatnonzero((np.diff(ft) <= ONE_FRAME_MS)[:-1] & (np.diff(ft) <= ONE_FRAME_MS)[1:]) + 1
    i = int(close[len(close) // 2])  # ft[i - 1], ft[i], ft[i + 1] within a frame of each other
    p = Player(tl)
    p.seek(int(ft[i]))
    p.play()
    p.step(+1)
    assert p.t_ms == ft[i + 1] and not p.playing
    p.step(-1)
    p.step(-1)
    assert p.t_ms == ft[i - 1]
    p.seek(ft[i] + 0.5)
    p.step(-1)
    assert p.t_ms == ft[i]
    # Far from any event a step is one frame (100 ms).
    gap = int(np.argmax(np.diff(ft)))
    assert ft[gap + 1] - ft[gap] > 3 * ONE_FRAME_MS
    p.seek(int(ft[gap]))
    p.step(+1)
    assert p.t_ms == ft[gap] + ONE_FRAME_MS
    p.seek(int(ft[gap + 1]))
    p.step(-1)
    assert p.t_ms == ft[gap + 1] - ONE_FRAME_MS
    p.seek(tl.duration_ms)
    p.step(+1)
    assert p.t_ms == tl.duration_ms
    p.seek(0)
    p.step(-1)
    assert p.t_ms == 0
    p.jump_marker(+1, kinds=("page",))
    assert p.t_ms == (tl.pageviews[1].start_ms if len(tl.pageviews) > 1 else 0)
    before = p.t_ms
    p.jump_marker(-1)
    expected = tl.previous_marker(before)
    assert p.t_ms == (before if expected is None else expected)


def test_player_plays_to_the_end_and_emits(demo):
    tl = session_with(demo, lambda tl: tl.duration_ms < 20_000)
    p = Player()
    log = []
    for name in ("session", "time", "playing", "speed"):
        getattr(p.events, name).connect(lambda v, name=name: log.append((name, v)))
    assert p.frame() is None and p.advance(10) is None
    p.load(tl, at_ms=1000)
    assert p.t_ms == 1000 and ("session", tl) in log
    p.set_speed(8.0)
    p.pause_on_hesitation = False
    p.play()
    while p.playing:
        p.advance(1000)
    assert p.t_ms == tl.duration_ms and ("playing", False) == log[-2] and ("speed", 8.0) in log
    p.toggle()  # at the end, play starts over
    assert p.playing and p.t_ms == 0
    with pytest.raises(ValueError):
        p.set_speed(0)


def test_player_threshold_recomputes_hesitations(demo):
    tl, h = _hesitation_session(demo)
    p = Player(tl)
    n = len(p.hesitations)
    p.hesitation_threshold_ms = 60_000
    assert p.hesitations == []
    p.hesitation_threshold_ms = 2500
    assert len(p.hesitations) == n
    assert detect_inactivity(tl) == tl.inactivity


# -- against a naive model: replay every event from the start ---------------------------------
def _random_session(rng: np.random.Generator, distinct_times: bool):
    """1-3 pageviews of random events (every kind, ties in time unless distinct_times), shuffled."""
    n_pv = int(rng.integers(1, 4))
    pvs, rows = [], []
    start = 0
    for i in range(n_pv):
        length = int(rng.integers(2_000, 20_000))
        pvs.append(pageview(i, start, start + length, snapshot_id=1, load_ms=int(rng.integers(0, 1500))))
        n = int(rng.integers(0, 80))
        if distinct_times:
            times = np.sort(rng.choice(np.arange(start, start + length), size=min(n, length), replace=False))
        else:
            times = np.sort(rng.integers(start, start + length, n) // 50 * 50)
        for t in times.tolist():
            kind = int(rng.choice([K.MOVE] * 6 + [K.SCROLL] * 2 + [K.CLICK, K.TAP, K.FOCUS, K.BLUR, K.INPUT,
                                   K.INPUT, K.VISIBILITY, K.LOAD, K.RESIZE, K.ERROR, K.DBLCLICK]))
            x, y = int(rng.integers(0, 400)), int(rng.integers(0, 2000))
            if kind == K.MOVE and rows and rng.random() < 0.5:
                x, y = 200 + int(rng.integers(-8, 9)), 300 + int(rng.integers(-8, 9))  # small tremor
            target = int(rng.integers(0, 5)) if kind in (K.FOCUS, K.BLUR, K.INPUT, K.CLICK, K.TAP) else -1
            value = int(rng.integers(0, 2)) if kind == K.VISIBILITY else int(rng.integers(0, 40))
            rows.append((t, kind, x, y, target, value, i))
        start += length + int(rng.integers(0, 2)) * 500
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    return pvs, rows


def _parts(rows):
    if not rows:
        return EventColumns.empty(), np.zeros(0, dtype=np.int32)
    t, kind, x, y, target, value, pv = zip(*rows)
    return EventColumns.from_arrays(t, kind, x, y, target, value), np.array(pv, dtype=np.int32)


def _naive_state(pvs, rows, pv, t):
    """Replay pageview pv's events up to t (ms, floored) in stable time order."""
    mine = [r for r in sorted(rows, key=lambda r: (r[0], r[6])) if r[6] == pv]
    tf = int(np.floor(t))
    st = dict(scroll=(0, 0), viewport=None, first_resize=None, moves=[], focused=-1, fields={},
              hidden=False, loaded=pvs[pv].start_ms + pvs[pv].load_ms, pointers=[], next_move=None)
    seen_load = False
    for r in mine:
        rt, kind, x, y, target, value, _ = r
        if kind == K.LOAD and not seen_load:
            st["loaded"], seen_load = rt, True
        if kind == K.RESIZE and st["first_resize"] is None:
            st["first_resize"] = (x, y)
        if rt > tf:
            if kind == K.MOVE and st["next_move"] is None:
                st["next_move"] = (rt, x, y, _naive_scroll(mine, rt))
            continue
        if kind == K.SCROLL:
            st["scroll"] = (x, y)
        elif kind == K.RESIZE:
            st["viewport"] = (x, y)
        elif kind == K.MOVE:
            st["moves"].append((rt, x, y, _naive_scroll(mine, rt)))  # scroll at that ms, ties included
        elif kind == K.FOCUS:
            st["focused"] = target
        elif kind == K.BLUR:
            st["focused"] = -1
        elif kind == K.INPUT:
            st["fields"][target] = value
        elif kind == K.VISIBILITY:
            st["hidden"] = value == 0
        elif kind in (K.CLICK, K.TAP, K.DBLCLICK):
            st["pointers"].append((rt, x, y, kind, target))
    return st


def _naive_scroll(mine, t):
    s = (0, 0)
    for r in mine:
        if r[0] <= t and r[1] == K.SCROLL:
            s = (r[2], r[3])
    return s


def _naive_cursor(st, t):
    if not st["moves"]:
        return None
    t0, x, y, (sx0, sy0) = st["moves"][-1]
    sx, sy = st["scroll"]
    cx, cy = float(x - sx0), float(y - sy0)
    nxt = st["next_move"]
    if nxt is not None and nxt[0] - t0 < 500 and t > t0:
        f = (t - t0) / (nxt[0] - t0)
        cx += (nxt[1] - nxt[3][0] - cx) * f
        cy += (nxt[2] - nxt[3][1] - cy) * f
    return cx + sx, cy + sy


def test_frames_match_a_naive_replay():
    rng = np.random.default_rng(11)
    for _ in range(60):
        pvs, rows = _random_session(rng, distinct_times=False)
        ev, pv_index = _parts(rows)
        tl = SessionTimeline.from_parts(pvs, ev, pv_index)
        for t in rng.uniform(-500, tl.duration_ms + 500, 40).tolist() + [r[0] for r in rows[:20]]:
            f = tl.frame_at(t)
            tc = min(max(t, 0.0), float(tl.duration_ms))
            pv = max(0, max(i for i, p in enumerate(pvs) if p.start_ms <= tc) if tc >= pvs[0].start_ms else 0)
            st = _naive_state(pvs, rows, pv, tc)
            tf = int(np.floor(tc))
            assert (f.t_ms, f.pageview_index) == (tf, pv)
            assert (f.scroll_x, f.scroll_y) == st["scroll"]
            assert (f.viewport_w, f.viewport_h) == (st["viewport"] or st["first_resize"] or tl.default_viewport)
            assert (f.focused, f.field_lengths, f.hidden) == (st["focused"], st["fields"], st["hidden"])
            assert f.loading == (tc < st["loaded"])
            # a pageview with taps is touch input: no arrow cursor (issue 12)
            touch = any(r[1] == K.TAP and r[6] == pv for r in rows)
            assert f.pointer == ("touch" if touch else "mouse")
            cursor = None if touch else _naive_cursor(st, tc)
            assert (f.cursor is None) == (cursor is None)
            if cursor is not None:
                assert f.cursor == pytest.approx(cursor)
                trail = [(x, y) for (mt, x, y, _) in st["moves"] if mt >= np.ceil(tc - 500)]
                if not trail or trail[-1] != pytest.approx(cursor):
                    trail.append(cursor)
                np.testing.assert_allclose(f.trail, np.array(trail, dtype=np.float32), rtol=1e-6)
            ripples = [(float(x), float(y), tf - pt, k, tg) for pt, x, y, k, tg in st["pointers"] if tf - pt < RIPPLE_MS]
            assert [(r.x, r.y, r.age_ms, r.kind, r.target) for r in f.ripples] == ripples


def _naive_hesitations(pvs, rows, threshold=2500, still_px=12.0, max_ms=10_000):
    out = []
    progress = {K.SCROLL, K.INPUT, K.CLICK, K.TAP, K.DBLCLICK, K.FOCUS, K.BLUR, K.SUBMIT, K.RESIZE,
                K.TOUCHMOVE, K.LOAD, K.VISIBILITY}
    for pv, p in enumerate(pvs):
        mine = [r for r in sorted(rows, key=lambda r: r[0]) if r[6] == pv]
        end = max([p.end_ms] + [r[0] for r in mine])
        bounds = [p.start_ms]
        prev_screen = None
        anchor = None
        scroll = (0, 0)
        for rt, kind, x, y, *_ in mine:
            if kind == K.SCROLL:
                scroll = (x, y)
            if kind == K.MOVE:
                screen = (x - scroll[0], y - scroll[1])
                big = prev_screen is None or np.hypot(screen[0] - prev_screen[0], screen[1] - prev_screen[1]) > still_px
                drift = anchor is not None and np.hypot(x - anchor[0], y - anchor[1]) > still_px
                prev_screen = screen
                if big or drift:
                    bounds.append(rt)
                    anchor = (x, y)
            elif kind in progress:
                bounds.append(rt)
                if prev_screen is not None:
                    anchor = (prev_screen[0] + scroll[0], prev_screen[1] + scroll[1])
        bounds.append(end)
        for s, e in zip(bounds[:-1], bounds[1:]):
            if not (threshold < e - s <= max_ms):
                continue
            st = _naive_state(pvs, rows, pv, s)
            if s < st["loaded"] or st["hidden"]:
                continue
            if st["focused"] >= 0:
                out.append((s, e, "field", st["focused"]))
            elif st["moves"]:
                out.append((s, e, "still", -1))
    return out


def test_hesitations_match_a_naive_scan():
    rng = np.random.default_rng(5)
    total = 0
    for _ in range(150):
        pvs, rows = _random_session(rng, distinct_times=True)
        ev, pv_index = _parts(rows)
        tl = SessionTimeline.from_parts(pvs, ev, pv_index)
        got = [(h.start_ms, h.end_ms, h.reason, h.element) for h in tl.hesitations]
        assert got == _naive_hesitations(pvs, rows)
        total += len(got)
    assert total > 20


def test_parts_without_pageview_index_and_stray_pageview_numbers():
    pvs = [pageview(0, 0, 5000), pageview(1, 5000, 12_000)]
    ev = events((100, K.MOVE, 10, 10), (4000, K.SCROLL, 0, 300), (6000, K.MOVE, 50, 50),
                (6100, K.FOCUS, 0, 0, 2), (9500, K.INPUT, 0, 0, 2, 1))
    tl = SessionTimeline.from_parts(pvs, ev)  # pageviews inferred from the times
    assert tl.pv_index.tolist() == [0, 0, 1, 1, 1]
    assert tl.frame_at(6050).scroll_y == 0 and tl.frame_at(4500).scroll_y == 300
    assert [(h.pageview_index, h.reason, h.element, h.start_ms, h.end_ms) for h in tl.hesitations] == [
        (0, "still", -1, 100, 4000), (1, "field", 2, 6100, 9500)]
    # An event claiming a pageview the session does not have is kept but never shown.
    stray = SessionTimeline.from_parts(pvs, ev, np.array([0, 0, 1, 1, 7], dtype=np.int32))
    assert stray.frame_at(9600).field_lengths == {}
    assert [(h.pageview_index, h.end_ms) for h in stray.hesitations] == [(0, 4000), (1, 12_000)]


def test_player_pauses_at_a_hesitation_right_after_a_skip():
    # Idle 15 s, then the visitor focuses a field and types nothing for 4 s.
    tl = timeline([(0, K.LOAD), (100, K.MOVE, 10, 10), (15_100, K.FOCUS, 0, 0, 1), (19_100, K.INPUT, 0, 0, 1, 1)])
    assert tl.inactivity == [(100, 15_100)]
    assert [(h.start_ms, h.reason) for h in tl.hesitations] == [(15_100, "field")]
    p = Player(tl)
    p.seek(50)
    p.play()
    p.advance(100)
    assert p.t_ms == 15_100 and not p.playing and p.paused_for == tl.hesitations[0]
    p.play()
    p.advance(100)
    assert p.t_ms == 15_300 and p.playing


def test_previous_marker_leaves_a_hesitation_pause_backwards(demo):
    # The marker just before a hesitation is its last event, a few ms earlier: "[" used to
    # land there and snap forward to the hesitation again, so it could never go back past it.
    sid, _kind, start_ms, *_ = demo.planted("hesitation")[0]
    p = Player(SessionTimeline.load(demo, sid))
    p.pause_on_hesitation = True
    p.play()
    while p.playing:
        p.advance(100)
    assert p.paused_for is not None and p.t_ms == start_ms
    p.jump_marker(-1)
    assert p.t_ms < start_ms and p.paused_for is None
    back = p.t_ms
    p.jump_marker(-1)
    assert p.t_ms < back
    p.seek(back)
    p.jump_marker(+1)
    assert p.t_ms == start_ms and p.paused_for is not None


def test_inactivity_threshold_sets_what_playback_skips(demo):
    """The "Skip inactivity after" preference: shorter thresholds skip more, longer ones less."""
    sid, _, t0, t1, _, _ = demo.planted("idle")[0]
    tl = SessionTimeline.load(demo, sid)
    p = Player(tl)

    def covers_planted(spans) -> bool:
        return any(s <= t0 + 1000 and e >= t1 - 1000 for s, e in spans)

    assert p.inactivity_threshold_ms == 10_000
    default = p._idle.copy()
    assert default.tolist() == [list(s) for s in tl.inactivity] and covers_planted(default)
    p.inactivity_threshold_ms = 3_000
    assert sum(e - s for s, e in p._idle) >= sum(e - s for s, e in default)
    p.inactivity_threshold_ms = (t1 - t0) + 60_000   # longer than the planted idle: not skipped
    assert not covers_planted(p._idle)
    with pytest.raises(ValueError):
        p.inactivity_threshold_ms = 0

"""Frustration signals against the demo's planted ground truth, and the session index."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.analytics.session_index import (
    SCORE_WEIGHTS,
    SessionIndex,
    session_index,
    sidecar_path,
    signal_filter,
)
from hindsight.analytics.signals import (
    SIGNAL_KINDS,
    SignalSettings,
    compute_signals,
    load_events,
)
from hindsight.store import EventColumns, EventKind, SessionFilter, open_capture


@pytest.fixture(scope="module")
def demo_signals(demo_master):
    with open_capture(demo_master) as cap:
        yield cap, compute_signals(cap)


def precision_recall(cap, table) -> dict[str, tuple[int, int, int, float, float]]:
    names = table.kind_names()
    out = {}
    for kind in SIGNAL_KINDS:
        if kind == "validation_error":  # not a planted behaviour: one signal per VALIDATION event
            continue
        detected = set(table.session_id[names == kind].tolist())
        planted = {row[0] for row in cap.planted(kind)}
        tp = len(detected & planted)
        precision = tp / len(detected) if detected else 0.0
        recall = tp / len(planted) if planted else 0.0
        out[kind] = (len(planted), len(detected), tp, precision, recall)
    return out


def test_validation_errors_are_one_signal_per_validation_event_on_its_field(demo_signals):
    cap, table = demo_signals
    names = table.kind_names()
    rows = np.flatnonzero(names == "validation_error")
    n_events = 0
    for sid in cap.session_ids():
        _pvs, ev, _pv = cap.session_events(int(sid))
        n_events += int(np.sum(ev.kind == EventKind.VALIDATION))
    assert len(rows) == n_events > 0
    assert all(table.element[rows] >= 0)


def test_precision_and_recall_against_planted_ground_truth(demo_signals):
    cap, table = demo_signals
    pr = precision_recall(cap, table)
    print("\nsignal              planted  detected    tp  precision  recall")
    for kind, (n_planted, n_detected, tp, p, r) in pr.items():
        print(f"{kind:18s} {n_planted:8d} {n_detected:9d} {tp:5d} {p:10.3f} {r:7.3f}")
    for kind, (n_planted, _, _, p, r) in pr.items():
        assert n_planted > 0, kind
        assert p >= 0.9, f"{kind} precision {p:.3f}"
        assert r >= 0.9, f"{kind} recall {r:.3f}"


def test_signal_rows_carry_time_place_and_element(demo_signals):
    cap, table = demo_signals
    assert np.all(np.diff(table.session_id) >= 0)
    rage = table.of_kind("rage_click")
    # Planted rage bursts are on the product shot; each burst is one signal of >= 3 clicks.
    assert set(rage.selector.tolist()) == {"img.product-shot"}
    assert rage.count.min() >= 3
    assert len(rage) == len(cap.planted("rage_click"))
    planted_t = {(r[0], r[2]) for r in cap.planted("rage_click")}
    assert {(int(s), int(t)) for s, t in zip(rage.session_id, rage.t_ms)} == planted_t
    errors = table.of_kind("error_click")
    assert set(errors.selector.tolist()) == {"#plan-team-cta"}
    dead = table.of_kind("dead_click")
    assert set(dead.selector.tolist()) <= {"img.product-shot", "#pricing .price-note"}
    assert np.all(dead.x >= 0) and np.all(dead.element >= 0)
    qb = table.of_kind("quick_back")
    assert np.all(qb.x == -1) and len(qb) == len(cap.planted("quick_back"))
    # Signals point at a pageview of their own session.
    for row in table.rows()[:50]:
        assert row["pageview_id"] in {pv.pageview_id for pv in cap.pageviews(row["session_id"])}


def test_rage_burst_is_reported_once_with_its_dead_clicks(demo_signals):
    cap, table = demo_signals
    rage = table.of_kind("rage_click")
    dead = table.of_kind("dead_click")
    dead_keys = {(int(s), int(t)): int(c) for s, t, c in zip(dead.session_id, dead.t_ms, dead.count)}
    for s, t, c in zip(rage.session_id.tolist(), rage.t_ms.tolist(), rage.count.tolist()):
        # the burst's dead clicks: one dead_click row at the burst's first click, counting all
        assert dead_keys[(s, t)] == c


def test_error_clicks_are_not_also_dead(demo_signals):
    _, table = demo_signals
    err = table.of_kind("error_click")
    dead = table.of_kind("dead_click")
    assert not ({(int(s), int(t)) for s, t in zip(err.session_id, err.t_ms)}
                & {(int(s), int(t)) for s, t in zip(dead.session_id, dead.t_ms)})


def test_session_subset_gives_the_same_signals(demo_signals):
    cap, table = demo_signals
    some = np.unique(table.session_id)[::7][:40]
    sub = compute_signals(cap, session_ids=some)
    mask = np.isin(table.session_id, some)
    np.testing.assert_array_equal(sub.session_id, table.session_id[mask])
    np.testing.assert_array_equal(sub.t_ms, table.t_ms[mask])
    np.testing.assert_array_equal(sub.kind, table.kind[mask])


def test_settings_change_the_detectors(demo_signals):
    cap, table = demo_signals
    strict = compute_signals(cap, settings=SignalSettings(rage_clicks=6))
    assert len(strict.of_kind("rage_click")) < len(table.of_kind("rage_click"))
    assert np.all(strict.of_kind("rage_click").count >= 6)


def test_load_events_orders_by_session_pageview_and_time(demo):
    ce = load_events(demo, kinds=(EventKind.CLICK, EventKind.SCROLL))
    assert np.all(np.diff(ce.pv) >= 0)
    key = ce.global_time()
    assert np.all(np.diff(key) >= 0)
    one = int(ce.session_ids[3])
    _, ev, _ = demo.session_events(one)
    mine = ce.events.take(ce.pv_session[ce.pv] == one)
    want = ev.of_kind(EventKind.CLICK, EventKind.SCROLL)
    np.testing.assert_array_equal(mine.t, want.t)
    np.testing.assert_array_equal(mine.y, want.y)


def test_session_index_counts_scores_and_filters(demo):
    cache: dict = {}
    index = session_index(demo, cache=cache)
    assert session_index(demo, cache=cache) is index  # cached in the caller's (workspace's) cache
    assert session_index(demo) is not index           # no cache: no module-level memory either
    assert len(index) == demo.session_count()
    rage_sessions = {r[0] for r in demo.planted("rage_click")}
    assert set(index.sessions_with("rage_click").tolist()) == rage_sessions
    row = index.row_of(min(rage_sessions))
    assert index.score[row] >= SCORE_WEIGHTS["rage_click"]
    top = index.top(10)
    assert len(top) == 10 and np.all(np.diff(index.score[top]) <= 0)
    flt = signal_filter(index, ["rage_click", "error_click"])
    want = rage_sessions | {r[0] for r in demo.planted("error_click")}
    assert set(flt.session_ids) == want
    assert set(demo.session_ids(flt).tolist()) == want
    both = signal_filter(index, ["rage_click", "dead_click"], mode="all")
    assert set(both.session_ids) == rage_sessions  # every rage burst here is also dead
    mobile = signal_filter(index, ["rage_click"], base=SessionFilter(device=("mobile",)))
    assert 0 < len(demo.session_ids(mobile)) < len(rage_sessions)
    with pytest.raises(ValueError):
        signal_filter(index, ["nonsense"])


def test_sidecar_cache_round_trip(demo_copy):
    with open_capture(demo_copy) as cap:
        first = session_index(cap, sidecar=True)
    assert sidecar_path(demo_copy).exists()
    with open_capture(demo_copy) as cap:
        again = session_index(cap, sidecar=True)
    assert again is not first
    np.testing.assert_array_equal(again.score, first.score)
    np.testing.assert_array_equal(again.signals.t_ms, first.signals.t_ms)
    assert again.signals.selector.tolist() == first.signals.selector.tolist()
    assert isinstance(again, SessionIndex)


# -- hand-built sessions: each rule at and around its thresholds ---------------------------

K = EventKind
ELEMENTS = [
    dict(selector="#photo", tag="img", x=0, y=0, w=400, h=300, clickable=False),
    dict(selector="#buy", tag="button", x=500, y=0, w=200, h=60, clickable=True),
    dict(selector="#email", tag="input", x=500, y=100, w=200, h=40, clickable=True, field="email", form="f"),
]


def _events(*rows):
    """rows: (t, kind, x, y, target, value)"""
    cols = list(zip(*rows))
    return EventColumns.from_arrays(*cols)


@pytest.fixture
def tiny(tmp_path):
    """One page A (two elements) and page B; sessions named by what they should show."""
    from hindsight.store import CaptureWriter

    w = CaptureWriter.create(tmp_path / "tiny.sqlite")
    a = w.add_page("https://t.local/a")
    b = w.add_page("https://t.local/b")
    sa = w.add_snapshot(a, "desktop", 1200, 3000, None, ELEMENTS)
    sb = w.add_snapshot(b, "desktop", 1200, 3000, None, ELEMENTS)
    err = w.string_id("boom")
    base = {"start_ms": 0, "device": "desktop", "viewport_w": 1200, "viewport_h": 800}
    sessions = {}

    def add(name, pvs):
        sessions[name] = w.add_session(dict(base), pvs)

    def pv(snap, page, start, end, *rows, load=500):
        return {"page_id": page, "snapshot_id": snap, "start_ms": start, "end_ms": end, "load_ms": load,
                "events": _events(*rows) if rows else EventColumns.empty()}

    # Rage: 3 clicks 400 ms apart within 20 px on the photo (dead too); then 2 quick clicks only.
    add("rage", [pv(sa, a, 0, 20000, (1000, K.CLICK, 100, 100, 0, 0), (1400, K.CLICK, 110, 105, 0, 0),
                    (1800, K.CLICK, 105, 110, 0, 0))])
    add("two_clicks", [pv(sa, a, 0, 20000, (1000, K.CLICK, 100, 100, 0, 0), (1400, K.CLICK, 110, 105, 0, 0))])
    # 3 clicks but 1 s apart: no rage (the rule is "less than 1000 ms").
    add("slow_clicks", [pv(sa, a, 0, 20000, (1000, K.CLICK, 100, 100, 0, 0), (2000, K.CLICK, 100, 100, 0, 0),
                           (3000, K.CLICK, 100, 100, 0, 0))])
    # A clickable button that does nothing for 2.5 s: dead; one answered by a scroll: not.
    add("dead_button", [pv(sa, a, 0, 20000, (1000, K.CLICK, 600, 30, 1, 0), (4000, K.SCROLL, 0, 300, -1, 0))])
    add("answered", [pv(sa, a, 0, 20000, (1000, K.CLICK, 600, 30, 1, 0), (2000, K.SCROLL, 0, 300, -1, 0))])
    # A button click leading to page B within 2.5 s: not dead.
    add("navigates", [pv(sa, a, 0, 2000, (1000, K.CLICK, 600, 30, 1, 0)), pv(sb, b, 2000, 30000)])
    # A click answered by a JS error 300 ms later: error click, not dead.
    add("error", [pv(sa, a, 0, 20000, (1000, K.CLICK, 600, 30, 1, 0), (1300, K.ERROR, 0, 0, -1, err))])
    add("late_error", [pv(sa, a, 0, 20000, (1000, K.CLICK, 600, 30, 1, 0), (2200, K.ERROR, 0, 0, -1, err),
                          (2300, K.SCROLL, 0, 100, -1, 0))])
    # Scrolling: 5 legs of 400 px, 700 ms each: 4 reversals in 2.8 s; the same with 100 px legs.
    ys = [400, 0, 400, 0, 400]
    add("scroll", [pv(sa, a, 0, 20000, *[(1000 + 700 * i, K.SCROLL, 0, y, -1, 0) for i, y in enumerate(ys)])])
    add("small_scroll", [pv(sa, a, 0, 20000, *[(1000 + 700 * i, K.SCROLL, 0, y // 4, -1, 0)
                                               for i, y in enumerate(ys)])])
    # Quick back: A, B for 3 s after load, back to A; a slow back (8 s) is not.
    add("quick_back", [pv(sa, a, 0, 5000), pv(sb, b, 5000, 8500), pv(sa, a, 8500, 20000)])
    add("slow_back", [pv(sa, a, 0, 5000), pv(sb, b, 5000, 13500), pv(sa, a, 13500, 30000)])
    # Cursor: 300 px back-and-forth strokes every 100 ms for 2 s; and a long straight sweep.
    xs = [300 + (300 if i % 2 else 0) for i in range(21)]
    add("thrash", [pv(sa, a, 0, 20000, *[(1000 + 100 * i, K.MOVE, x, 500, -1, 0) for i, x in enumerate(xs)])])
    add("sweep", [pv(sa, a, 0, 20000, *[(1000 + 50 * i, K.MOVE, 10 + 60 * i, 500, -1, 0) for i in range(19)])])
    w.close()
    return tmp_path / "tiny.sqlite", sessions


def test_each_rule_at_its_thresholds(tiny):
    path, ids = tiny
    with open_capture(path) as cap:
        table = compute_signals(cap)
    names = table.kind_names()
    found = {name: sorted(names[table.session_id == sid].tolist()) for name, sid in ids.items()}
    assert found["rage"] == ["dead_click", "rage_click"]
    assert found["two_clicks"] == ["dead_click"]          # the photo is not clickable
    assert found["slow_clicks"] == ["dead_click"] * 3     # three separate dead clicks, no burst
    assert found["dead_button"] == ["dead_click"]
    assert found["answered"] == []
    assert found["navigates"] == []
    assert found["error"] == ["error_click"]
    assert found["late_error"] == []                      # 1.2 s: not an error click; scroll answered it
    assert found["scroll"] == ["excessive_scroll"]
    assert found["small_scroll"] == []
    assert found["quick_back"] == ["quick_back"]
    assert found["slow_back"] == []
    assert found["thrash"] == ["thrashed_cursor"]
    assert found["sweep"] == []
    rage = table.of_kind("rage_click")
    assert rage.count.tolist() == [3] and rage.selector.tolist() == ["#photo"] and rage.t_ms.tolist() == [1000]
    dead = table.take((names == "dead_click") & (table.session_id == ids["rage"]))
    assert dead.count.tolist() == [3]  # the burst's three dead clicks, reported once
    qb = table.of_kind("quick_back")
    assert qb.t_ms.tolist() == [8500]


def test_empty_capture(tmp_path):
    from hindsight.store import CaptureWriter

    w = CaptureWriter.create(tmp_path / "empty.sqlite")
    w.close()
    with open_capture(tmp_path / "empty.sqlite") as cap:
        table = compute_signals(cap)
        assert len(table) == 0
        index = session_index(cap)
        assert len(index) == 0 and index.top(5).size == 0


def test_cli_signals(demo_master, capsys):
    import json

    from hindsight.cli import main

    assert main(["signals", str(demo_master), "--json", "--top", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    with open_capture(demo_master) as cap:
        index = session_index(cap)
        assert out["sessions"] == len(index)
        kinds = {k["kind"]: k for k in out["kinds"]}
        for kind in SIGNAL_KINDS:
            assert kinds[kind]["sessions"] == len(index.sessions_with(kind))
        assert [r["session_id"] for r in out["top"]] == index.session_ids[index.top(5)].tolist()
    assert kinds["rage_click"]["top_elements"][0]["selector"] == "img.product-shot"
    assert main(["signals", str(demo_master), "--device", "mobile"]) == 0
    text = capsys.readouterr().out
    assert "Rage clicks" in text and "Top 10 sessions by frustration score" in text
    assert main(["signals", str(demo_master) + ".missing"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_frustration_summary_is_computed_once_for_panel_and_cli(demo):
    """Per kind over a set of sessions: what the Signals panel and `hindsight signals` show."""
    index = session_index(demo)
    mobile = demo.session_ids(SessionFilter(device=("mobile",)))
    summary = index.summary(mobile)
    assert summary.sessions == len(mobile)
    rows = np.isin(index.session_ids, mobile)
    for kind, row in summary.kinds.items():
        assert row.sessions == int(np.count_nonzero(index.counts[kind][rows]))
        assert row.signals == int(index.counts[kind][rows].sum())
        assert row.share == pytest.approx(row.sessions / len(mobile))
    dead = summary.kinds["dead_click"]
    assert dead.clicks == int(index.clicks("dead_click")[rows].sum()) >= dead.signals > 0
    assert summary.flagged == int(np.count_nonzero(index.score[rows] > 0))

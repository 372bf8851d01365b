"""Frustration signals against the demo's planted ground truth, and the session index."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.analytics.session_index import (
    SCORE_WEIGHTS,
    SessionIndex,
    clear_cache,
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
from hindsight.store import EventKind, SessionFilter, open_capture


@pytest.fixture(scope="module")
def demo_signals(demo_master):
    with open_capture(demo_master) as cap:
        yield cap, compute_signals(cap)


def precision_recall(cap, table) -> dict[str, tuple[int, int, int, float, float]]:
    names = table.kind_names()
    out = {}
    for kind in SIGNAL_KINDS:
        detected = set(table.session_id[names == kind].tolist())
        planted = {row[0] for row in cap.planted(kind)}
        tp = len(detected & planted)
        precision = tp / len(detected) if detected else 0.0
        recall = tp / len(planted) if planted else 0.0
        out[kind] = (len(planted), len(detected), tp, precision, recall)
    return out


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
    clear_cache()
    index = session_index(demo)
    assert session_index(demo) is index  # cached per capture
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

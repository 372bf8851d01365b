"""The Qt-free Workspace: one per open capture, evented; the filter, page, session, one heatmap
engine and per-capture caches; numbers every view shows computed once."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.analytics.heatmap import find_snapshot
from hindsight.analytics.heatmap_display import display_scale
from hindsight.store import SessionFilter
from hindsight.workspace import Workspace, WorkspaceFilter, build_filter, resolve_filter

LANDING = "https://demo.hindsight.local/"


class Recorder:
    """Collects (event name, args) of every event of a workspace, in order."""

    def __init__(self, ws: Workspace) -> None:
        self.calls: list[tuple] = []
        for name in ("capture_changed", "filter_changed", "snapshot_changed", "session_changed",
                     "moment_changed", "replay_requested", "index_did_load", "report_did_load",
                     "min_sessions_changed"):
            getattr(ws.events, name).connect(lambda *args, name=name: self.calls.append((name, *args)))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


def test_opening_a_capture_resets_everything_and_says_so(demo):
    ws = Workspace()
    rec = Recorder(ws)
    ws.open(demo)
    assert rec.calls == [("capture_changed", demo), ("filter_changed", SessionFilter())]
    ws.set_filter(SessionFilter(device=("mobile",)))
    ws.set_snapshot(3)
    ws.set_session(17, at_ms=1500)
    ws.set_moment(2500)
    engine = ws.heatmap_engine
    assert engine is not None and ws.heatmap_engine is engine   # one engine per capture
    ws.cache("x")["k"] = 1
    assert rec.names()[2:] == ["filter_changed", "snapshot_changed", "session_changed", "moment_changed"]
    ws.open(demo)   # the same file again: a fresh start, nothing carried over
    assert ws.session_filter() == SessionFilter() and ws.snapshot_id is None and ws.session_id is None
    assert ws.heatmap_engine is not engine and ws.cache("x") == {}
    ws.close()
    assert ws.capture is None and ws.heatmap_engine is None
    assert rec.calls[-2:] == [("capture_changed", None), ("filter_changed", SessionFilter())]


def test_filter_events_only_when_the_resolved_filter_changes(demo):
    ws = Workspace(demo)
    rec = Recorder(ws)
    ws.set_filter(SessionFilter(device=("desktop",)))
    ws.set_filter(WorkspaceFilter(SessionFilter(device=("desktop",))))   # same: no event
    assert rec.calls == [("filter_changed", SessionFilter(device=("desktop",)))]
    # Frustration kinds wait for the session index: no change to the resolved filter yet.
    ws.update_filter(frustration=("rage_click",))
    assert ws.filter_pending and len(rec.calls) == 1
    index = ws.compute_signal_index()
    ws.set_signal_index(index)
    assert rec.names()[1:] == ["index_did_load", "filter_changed"]
    rage_desktop = set(index.sessions_with("rage_click").tolist()) & set(
        demo.session_ids(SessionFilter(device=("desktop",))).tolist())
    assert set(ws.visible_session_ids().tolist()) == rage_desktop
    assert 0 < len(rage_desktop) < demo.session_count()
    assert not ws.filter_pending


def test_frustration_all_mode_and_abandoned_at_intersect(demo):
    ws = Workspace(demo)
    index = ws.compute_signal_index()
    ws.set_signal_index(index)
    report = ws.compute_form_report()
    assert report is not None
    ws.set_form_report(report)
    field = max(report.fields, key=lambda f: f.dropoff).name
    ws.update_filter(frustration=("rage_click", "dead_click"), frustration_mode="all", abandoned_at=field)
    both = set(index.sessions_with("rage_click").tolist()) & set(index.sessions_with("dead_click").tolist())
    abandoned = set(report.abandoned_sessions(field).session_id.tolist())
    assert set(ws.session_filter().session_ids) == both & abandoned
    # mode "any" is the union of the kinds
    ws.update_filter(frustration_mode="any", abandoned_at=None)
    any_ids = set(index.sessions_with("rage_click").tolist()) | set(index.sessions_with("dead_click").tolist())
    assert set(ws.session_filter().session_ids) == any_ids
    # Clearing the kinds returns to "any" and drops the ids
    ws.update_filter(frustration=())
    assert ws.filter.frustration_mode == "any" and ws.session_filter() == SessionFilter()


def test_build_filter_is_the_one_way_to_make_a_filter():
    flt = build_filter(device=["mobile"], min_duration_s=0, max_duration_s=30, date_from="2026-03-01",
                       date_to="2026-03-01", frustration=["dead_click", "dead_click"], visited=[""])
    s = flt.sessions
    assert s.device == ("mobile",) and s.min_duration_s is None and s.max_duration_s == 30.0
    assert s.visited == ()
    assert s.start_from_ms == 1772323200000            # 2026-03-01T00:00Z
    assert s.start_before_ms - s.start_from_ms == 86_400_000   # the last day is included
    assert flt.frustration == ("dead_click",)
    with pytest.raises(ValueError, match="unknown frustration signal 'nope'"):
        build_filter(frustration=["nope"])
    with pytest.raises(ValueError, match="more than the maximum"):
        build_filter(min_duration_s=60, max_duration_s=10)
    with pytest.raises(ValueError, match="start date is after the end date"):
        build_filter(date_from="2026-03-02", date_to="2026-03-01")
    with pytest.raises(ValueError, match="not a date"):
        build_filter(date_from="March")
    # Without the index a frustration condition is left out (the GUI shows "computing…").
    assert resolve_filter(flt, None, None) == s


def test_date_range_narrows_sessions(demo):
    table = demo.session_table()
    starts = np.sort(table["start_ms"])
    day = int(starts[len(starts) // 2]) // 86_400_000 * 86_400_000
    ws = Workspace(demo)
    from datetime import datetime, timezone

    iso = datetime.fromtimestamp(day / 1000, tz=timezone.utc).date().isoformat()
    ws.set_filter(build_filter(date_from=iso, date_to=iso))
    ids = ws.visible_session_ids()
    want = table["session_id"][(table["start_ms"] >= day) & (table["start_ms"] < day + 86_400_000)]
    assert ids.size == want.size > 0
    np.testing.assert_array_equal(ids, np.sort(want))


def test_one_engine_and_one_colour_scale(demo):
    ws = Workspace(demo, min_sessions=10)
    snap = find_snapshot(demo, LANDING, "desktop")
    result, scale = ws.heatmap(snap.snapshot_id, "click")
    # The same cached result object for every view asking for the same map.
    assert ws.heatmap_engine.compute(snap.snapshot_id, "click", ws.session_filter()) is result
    lo, hi = scale.levels
    assert lo == 0.0 and result.levels[1] / 3 <= hi < result.levels[1]
    assert scale.lut.shape == (256, 4) and scale.lut.dtype == np.uint8
    assert display_scale(result).levels == scale.levels
    rec = Recorder(ws)
    ws.set_min_sessions(5000)
    assert rec.calls == [("min_sessions_changed", 5000)]
    again, _ = ws.heatmap(snap.snapshot_id, "click")
    assert again is not result and again.warning and not result.warning


def test_dead_clicks_are_one_number(demo):
    """The heatmaps' dead clicks summed over every page equal the signals' dead clicks."""
    ws = Workspace(demo)
    ws.set_signal_index(ws.compute_signal_index())
    for flt in (SessionFilter(), SessionFilter(device=("mobile",))):
        on_maps = sum(ws.heatmap_engine.compute(s.snapshot_id, "dead", flt).sample.points
                      for s in demo.snapshots())
        assert on_maps == ws.dead_clicks(flt) > 0


def test_requests_and_markers(demo):
    ws = Workspace(demo)
    rec = Recorder(ws)
    ws.request_replay(12, 3400)
    assert rec.calls == [("replay_requested", 12, 3400.0)]
    rage = int(ws.compute_signal_index().sessions_with("rage_click")[0])
    marks = ws.session_markers(rage)
    assert any(label.startswith("Rage click ×") for _t, _c, label in marks)
    ws.set_signal_index(ws.compute_signal_index())
    assert ws.session_markers(rage) == marks   # from the index or detected alone: the same


def test_workspace_module_imports_no_qt():
    import subprocess
    import sys

    code = ("import sys, hindsight.workspace, hindsight.analytics.heatmap_display, hindsight.text; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'hindsight_qt'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_hot_spot_aggregates_sessions_once_in_the_core(demo):
    from hindsight.analytics.hotspots import hot_spot

    ws = Workspace(demo)
    snap = find_snapshot(demo, LANDING, "desktop")
    em = demo.elements(snap.snapshot_id)
    x, y, w, h = em.boxes[em.index_of("img.product-shot")].tolist()
    cx, cy = x + w / 2, y + h / 2
    engine = ws.heatmap_engine
    hits = engine.sessions_at(snap.snapshot_id, "click", cx, cy, 60.0)
    spot = hot_spot(engine, snap.snapshot_id, "click", cx, cy, 60.0, max_rows=5)
    sessions = list(dict.fromkeys(s for s, _, _ in hits))
    assert spot.sessions == len(sessions) > 5 and len(spot.rows) == 5
    assert [r.session_id for r in spot.rows] == sessions[:5]          # nearest click first
    first = spot.rows[0]
    assert first.t_ms == hits[0][1] and first.clicks == sum(1 for s, _, _ in hits if s == first.session_id)
    rage = {s for s, _, _ in engine.sessions_at(snap.snapshot_id, "rage", cx, cy, 60.0)}
    assert {r.session_id for r in spot.rows if r.rage} == {r.session_id for r in spot.rows} & rage
    assert spot.title() == f"{spot.sessions:,} sessions with clicks within 60 px of ({cx:,.0f}, {cy:,.0f})"
    # compare mode: each session under the first segment it clicked in
    a, b = SessionFilter(converted=True), SessionFilter(converted=False)
    split = hot_spot(engine, snap.snapshot_id, "rage", cx, cy, 60.0, (("A", a), ("B", b)))
    assert split.per_segment["A"] + split.per_segment["B"] == split.sessions
    assert "(A " in split.title() and split.title().endswith("px of (" + f"{cx:,.0f}, {cy:,.0f})")
    lonely = hot_spot(engine, snap.snapshot_id, "dead", -900, -900, 5.0)
    assert lonely.rows == () and lonely.summary() == "No dead clicks"


def test_one_formatter_and_one_plural():
    from hindsight.cli.output import duration
    from hindsight.text import format_clock, format_duration, plural

    assert duration is format_duration
    assert [format_duration(ms) for ms in (0, 59_600, 61_000, 3_600_000, 3_725_999, -1)] == \
        ["0:00", "0:59", "1:01", "1:00:00", "1:02:05", "–"]
    assert format_clock(83_250) == "1:23.2"
    assert plural(1, "session") == "1 session" and plural(2000, "session") == "2,000 sessions"
    assert plural(0, "match", "matches") == "0 matches"


def test_heatmap_opacity_is_a_preference_kept_across_captures(demo):
    ws = Workspace()
    rec = Recorder(ws)
    ws.events.opacity_changed.connect(lambda v: rec.calls.append(("opacity_changed", v)))
    ws.set_heatmap_opacity(0.6)          # the first setting always reaches the views
    ws.set_heatmap_opacity(0.6)
    ws.set_heatmap_opacity(1.7)          # clamped
    assert [c for c in rec.calls if c[0] == "opacity_changed"] == [("opacity_changed", 0.6), ("opacity_changed", 1.0)]
    ws.open(demo)
    assert ws.heatmap_opacity == 1.0

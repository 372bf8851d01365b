"""Funnels against counts made directly from the capture (SQL and per-session Python)."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.analytics.funnel import FunnelStep, funnel, funnel_step_choices, parse_step
from hindsight.store import CaptureError, EventKind, SessionFilter

LANDING = "https://demo.hindsight.local/"
SIGNUP = "https://demo.hindsight.local/signup"
DONE = "event:signup_completed"


def direct_counts(cap, flt=None) -> tuple[set, set, set]:
    """Reached-in-order sets computed by walking every session's pageviews and events."""
    pages = {p.page_id: p.url for p in cap.pages()}
    done_id = [k for k, v in cap.strings().items() if v == "signup_completed"][0]
    s1, s2, s3 = set(), set(), set()
    for sid in cap.session_ids(flt).tolist():
        pvs, ev, _ = cap.session_events(sid)
        landing = [pv.start_ms for pv in pvs if pages[pv.page_id] == LANDING]
        if not landing:
            continue
        s1.add(sid)
        signup = [pv.start_ms for pv in pvs if pages[pv.page_id] == SIGNUP and pv.start_ms > landing[0]]
        if not signup:
            continue
        s2.add(sid)
        done = ev.t[(ev.kind == EventKind.CUSTOM) & (ev.value == done_id)]
        if np.any(done > signup[0]):
            s3.add(sid)
    return s1, s2, s3


def test_landing_signup_completed_equals_direct_counts(demo):
    report = funnel(demo, [LANDING, SIGNUP, DONE])
    s1, s2, s3 = direct_counts(demo)
    assert [r.sessions for r in report.results] == [len(s1), len(s2), len(s3)]
    assert set(report.reached_sessions(2).tolist()) == s3
    # SQL: sessions with a landing pageview, then a later signup pageview.
    sql_2 = demo._query(
        "SELECT count(DISTINCT a.session_id) FROM pageviews a JOIN pageviews b ON a.session_id = b.session_id "
        "AND b.seq > a.seq WHERE a.page_id = ? AND b.page_id = ?",
        (demo.page_by_url(LANDING).page_id, demo.page_by_url(SIGNUP).page_id))[0][0]
    assert report.results[1].sessions == sql_2
    # Every conversion fires signup_completed once: the last step equals converted sessions.
    assert report.results[2].sessions == int(demo.session_table()["converted"].sum())
    r = report.results
    assert r[0].from_previous == 1.0 and r[0].dropped == 0
    assert r[1].dropped == r[0].sessions - r[1].sessions
    assert r[2].from_previous == pytest.approx(r[2].sessions / r[1].sessions)
    assert r[2].from_first == pytest.approx(r[2].sessions / r[0].sessions)


def test_dropped_sessions_and_when(demo):
    report = funnel(demo, [LANDING, SIGNUP, DONE])
    ids, t = report.dropped_sessions(2)
    assert len(ids) == report.results[2].dropped
    assert set(ids.tolist()) == set(report.reached_sessions(1).tolist()) - set(report.reached_sessions(2).tolist())
    sid = int(ids[0])
    signup_start = [pv.start_ms for pv in demo.pageviews(sid) if pv.page_id == demo.page_by_url(SIGNUP).page_id][0]
    assert int(t[0]) == signup_start
    assert len(report.dropped_sessions(0)[0]) == 0


def test_order_matters(demo):
    # signup then landing again: only the quick backs go back to the landing page.
    back = funnel(demo, [SIGNUP, LANDING])
    assert back.results[1].sessions == len({row[0] for row in demo.planted("quick_back")})
    # completing before the landing page never happens.
    rev = funnel(demo, [DONE, LANDING])
    assert rev.results[1].sessions == 0


def test_filtered_funnel(demo):
    flt = SessionFilter(device=("mobile",))
    report = funnel(demo, [LANDING, SIGNUP, DONE], flt=flt)
    s1, s2, s3 = direct_counts(demo, flt)
    assert [r.sessions for r in report.results] == [len(s1), len(s2), len(s3)]


def test_steps_parse_and_errors(demo):
    assert parse_step("event:signup_completed") == FunnelStep("event", "signup_completed")
    assert parse_step(LANDING) == FunnelStep("page", LANDING)
    with pytest.raises(ValueError):
        parse_step("event:")
    with pytest.raises(ValueError):
        funnel(demo, [])
    with pytest.raises(CaptureError):
        funnel(demo, ["https://nowhere.example/"])
    # An event the capture never recorded is an error naming the known ones, not an empty step.
    with pytest.raises(CaptureError, match=r"no event 'never_fired' \(events: signup_completed\)"):
        funnel(demo, [LANDING, "event:never_fired"])
    urls, events = funnel_step_choices(demo)
    assert urls == [LANDING, SIGNUP] and events == ["signup_completed"]


def test_cli_funnel(demo, demo_master, capsys):
    import json

    from hindsight.cli import main

    assert main(["funnel", str(demo_master), "--step", LANDING, "--step", SIGNUP, "--step", DONE, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = funnel(demo, [LANDING, SIGNUP, DONE])
    assert [s["sessions"] for s in out["steps"]] == [r.sessions for r in want.results]
    assert main(["funnel", str(demo_master), "--step", LANDING, "--step", DONE, "--device", "mobile"]) == 0
    assert "event:signup_completed" in capsys.readouterr().out
    assert main(["funnel", str(demo_master)]) == 2
    assert "--step" in capsys.readouterr().err
    assert main(["funnel", str(demo_master), "--step", "event:"]) == 2
    assert main(["funnel", str(demo_master), "--step", "https://nowhere/"]) == 2

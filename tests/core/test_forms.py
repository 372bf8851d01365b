"""Form analytics on the demo's signup form against the planted ground truth."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from hindsight.analytics.forms import (
    device_split,
    field_title,
    find_form,
    form_report,
    form_reports,
    list_forms,
)
from hindsight.store import CaptureError, EventKind, SessionFilter

SIGNUP = "https://demo.hindsight.local/signup"
FIELDS = ["name", "email", "company", "phone", "password", "plan", "terms"]


@pytest.fixture(scope="module")
def report(demo_master):
    from hindsight.store import open_capture

    with open_capture(demo_master) as cap:
        yield form_report(cap, "signup", SIGNUP)


def test_the_demo_has_one_form_on_the_signup_page(demo):
    forms = list_forms(demo)
    assert [(f.form, f.url) for f in forms] == [("signup", SIGNUP)]
    assert set(forms[0].devices) == {"desktop", "tablet", "mobile"}
    assert find_form(demo).form == "signup"


def test_fields_in_document_order(report):
    assert [f.name for f in report.fields] == FIELDS
    assert report.field("phone").title == "Phone"
    assert report.field("phone").selector == "#signup-form input[name=phone]"


def test_session_counts_match_the_capture(demo, report):
    sessions = demo.session_table()
    assert report.completed == int(sessions["converted"].sum())
    assert report.viewed == len(demo.session_ids(SessionFilter(visited=(SIGNUP,))))
    assert report.abandoned == report.started - report.completed
    assert report.abandoned == len(demo.planted("abandon"))
    assert report.viewed > report.started > report.completed > 0


def test_phone_is_the_top_abandonment_field(demo, report):
    top = report.top_abandon_field
    assert top is not None and top.name == "phone"
    planted = Counter(row[4] for row in demo.planted("abandon"))
    for f in report.fields:
        assert f.dropoff == planted.get(f.selector, 0), f.name
    assert sum(f.dropoff for f in report.fields) == report.abandoned
    assert report.header().startswith(f"Form 'signup': {report.viewed:,} viewed · {report.started:,} started")
    assert f"most abandoned at Phone ({top.dropoff_pct:.0f}%)" in report.header()


def test_abandoned_sessions_at_a_field_and_when_they_left(demo, report):
    phone = report.abandoned_sessions("phone")
    planted = {row[0]: row[2] for row in demo.planted("abandon") if row[4].endswith("[name=phone]")}
    assert set(phone.session_id.tolist()) == set(planted)
    # They left the field when they blurred it: the planted time is the blur.
    assert {int(s): int(t) for s, t in zip(phone.session_id, phone.t_ms)} == planted
    with pytest.raises(KeyError):
        report.abandoned_sessions("fax")


def test_validation_errors_concentrate_on_email(demo, report):
    email = report.field("email")
    assert email.validation_errors == len({row[0] for row in demo.planted("email_error")})
    assert all(f.validation_errors == 0 for f in report.fields if f.name != "email")
    # Fixing the address deletes characters (corrections) after leaving the field (a return).
    assert email.corrections == email.validation_errors
    assert email.returns == email.validation_errors
    assert email.corrections_events > email.corrections


def test_field_timings_and_blanks(report):
    interacted = [f.interacted for f in report.fields]
    assert interacted == sorted(interacted, reverse=True)  # the demo fills fields in order
    assert interacted[0] == report.started
    for f in report.fields:
        assert f.first_interaction_median_ms > 0
        assert f.time_in_field_median_ms > 0
        assert f.left_blank <= f.interacted
    # Typed-then-abandoned phones are the blanks' main source.
    assert report.field("phone").left_blank == max(f.left_blank for f in report.fields)
    first = [f.first_interaction_median_ms for f in report.fields]
    assert first == sorted(first)


def test_one_session_by_hand(demo, report):
    """Recompute one completed session's email figures from its raw events."""
    sid = int(demo.session_ids(SessionFilter(converted=True))[0])
    pvs, ev, pvi = demo.session_events(sid)
    signup = [i for i, pv in enumerate(pvs) if pv.page_id == demo.page_by_url(SIGNUP).page_id][0]
    emap = demo.elements(pvs[signup].snapshot_id)
    email = emap.field.index("email")
    mine = ev.take((pvi == signup) & (ev.target == email))
    inputs = mine.of_kind(EventKind.INPUT)
    assert inputs.value[-1] > 0  # not blank
    focus = mine.of_kind(EventKind.FOCUS)
    load = pvs[signup].start_ms + pvs[signup].load_ms
    assert int(focus.t[0]) - load > 0


def test_device_split_adds_up(demo, report):
    split = device_split(demo, "signup", SIGNUP)
    assert set(split) == {"desktop", "tablet", "mobile"}
    for name in ("viewed", "started", "completed", "abandoned"):
        assert sum(getattr(r, name) for r in split.values()) == getattr(report, name), name
    for i, f in enumerate(report.fields):
        assert sum(r.fields[i].dropoff for r in split.values()) == f.dropoff
        assert sum(r.fields[i].interacted for r in split.values()) == f.interacted
    mobile = form_report(demo, "signup", SIGNUP, device="mobile")
    assert mobile.as_dict() == split["mobile"].as_dict()
    together = form_reports(demo, "signup", SIGNUP)
    assert together[None].as_dict() == report.as_dict()
    assert together["mobile"].as_dict() == mobile.as_dict()
    assert mobile.completed == int(demo.session_table(SessionFilter(device=("mobile",), converted=True))
                                   ["session_id"].size)


def test_filter_and_errors(demo, report):
    converted = form_report(demo, flt=SessionFilter(converted=True))
    assert converted.completed == converted.started == report.completed
    assert converted.abandoned == 0 and converted.top_abandon_field is None
    with pytest.raises(CaptureError):
        form_report(demo, "checkout")
    with pytest.raises(CaptureError):
        form_report(demo, page_url="https://demo.hindsight.local/nope")
    with pytest.raises(CaptureError):
        form_report(demo, device="watch")


def test_report_as_dict_is_plain(report):
    d = report.as_dict()
    assert d["top_abandon_field"] == "phone"
    assert all(isinstance(v, (int, float, str, type(None))) for f in d["fields"] for v in f.values())
    assert np.isclose(sum(f["dropoff_pct"] for f in d["fields"]), 100.0)


def test_field_title():
    assert field_title("first_name") == "First name"
    assert field_title("phone") == "Phone"


def test_cli_forms(demo_master, capsys):
    import json

    from hindsight.cli import main

    assert main(["forms", str(demo_master), "--json", "--by-device"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["top_abandon_field"] == "phone"
    assert set(out["devices"]) == {"desktop", "tablet", "mobile"}
    assert sum(d["completed"] for d in out["devices"].values()) == out["completed"]
    assert main(["forms", str(demo_master), "--device", "mobile"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Form 'signup':") and "Phone" in text
    assert main(["forms", str(demo_master), "--page", "https://demo.hindsight.local/nope"]) == 2
    assert "has no page" in capsys.readouterr().err


def test_rows_of_disjoint_session_groups_merge_into_the_whole_report(demo_master):
    """A dataset's partitions each send their form rows; merged, they give the capture's report
    exactly (every field figure, the drop-off list and its order), all devices and each."""
    from hindsight.analytics.forms import _load, find_form, form_rows, merge_form_rows, reports_from_rows
    from hindsight.store import open_capture

    with open_capture(demo_master) as cap:
        ref = find_form(cap)
        whole = reports_from_rows(form_rows(_load(cap, ref, None)), split=True)
        sids = cap.session_ids()
        groups = [sids[i::3] for i in range(3)]   # interleaved ids: each part's sessions are mixed
        parts = [form_rows(_load(cap, ref, SessionFilter(session_ids=tuple(int(s) for s in g)))) for g in groups]
    merged = reports_from_rows(merge_form_rows(parts[::-1]), split=True)
    assert list(merged) == list(whole) and len(whole) >= 3
    for dev, rep in whole.items():
        other = merged[dev]
        assert rep.abandoned > 0 and rep.started > rep.completed
        assert (rep.viewed, rep.started, rep.completed, rep.abandoned) == (
            other.viewed, other.started, other.completed, other.abandoned)
        assert [f.as_dict() for f in rep.fields] == [f.as_dict() for f in other.fields]
        for k in ("abandon_session", "abandon_field", "abandon_t", "abandon_pageview"):
            assert np.array_equal(getattr(rep, k), getattr(other, k)), (dev, k)


def test_a_capture_report_read_in_session_batches_is_the_whole_report(demo_master, monkeypatch):
    """A capture's form report loads a batch of sessions' events at a time (bounded memory): with
    batches of 97 sessions (and a filter) every report, device split and drop-off list is the one
    of all events loaded at once."""
    from hindsight.analytics import forms
    from hindsight.store import open_capture

    flt = SessionFilter(device=("mobile", "desktop"))
    with open_capture(demo_master) as cap:
        assert cap.session_ids().size > 10 * 97
        monkeypatch.setattr(forms, "FORM_BATCH_SESSIONS", 10**9)
        whole = [forms.form_reports(cap), {None: forms.form_report(cap, flt=flt)}, forms.device_split(cap, flt=flt)]
        loads = []
        real_load = forms._load
        monkeypatch.setattr(forms, "_load", lambda *a, **k: loads.append(a[3] if len(a) > 3 else None) or real_load(*a, **k))
        monkeypatch.setattr(forms, "FORM_BATCH_SESSIONS", 97)
        batched = [forms.form_reports(cap), {None: forms.form_report(cap, flt=flt)}, forms.device_split(cap, flt=flt)]
    assert len(loads) > 3 * 10 and all(r is not None for r in loads)   # really read in batches
    for a, b in zip(whole, batched):
        assert list(a) == list(b)
        for dev in a:
            assert a[dev].as_dict() == b[dev].as_dict(), dev
            for k in ("abandon_session", "abandon_field", "abandon_t", "abandon_pageview"):
                assert np.array_equal(getattr(a[dev], k), getattr(b[dev], k)), (dev, k)

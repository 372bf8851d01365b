"""Issue 12 replay points on the real rrweb recordings: touch frames (tap mark, no arrow
cursor) and form controls shown as chosen (select option, radio, checkbox)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hindsight.importers.session_writer import import_files
from hindsight.replay.timeline import SessionTimeline
from hindsight.store import EventKind as K
from hindsight.store import open_capture

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
EXPECTED = json.loads((REAL / "expected.json").read_text())
_CAPS: dict = {}


def _timeline(tmp_path_factory, name: str) -> SessionTimeline:
    if name not in _CAPS:
        out = tmp_path_factory.mktemp("real") / f"{Path(name).stem}.sqlite"
        import_files([REAL / name], out, render=False)
        _CAPS[name] = out
    with open_capture(_CAPS[name]) as cap:
        return SessionTimeline.load(cap, int(cap.session_ids()[0]))


@pytest.mark.parametrize("name", ["session_spa_touch_390x844.json", "session_landing_390x844.json"])
def test_phone_frames_are_touch_with_a_tap_mark_and_no_cursor(tmp_path_factory, name):
    tl = _timeline(tmp_path_factory, name)
    taps = tl.index.t[tl.events.kind == K.TAP]
    assert len(taps) > 0
    for t in taps.tolist():
        f = tl.frame_at(t + 50)
        assert f.pointer == "touch"
        assert f.cursor is None and len(f.trail) == 0
        if tl.pageview_at(t) == f.pageview_index:  # not a tap that started a new route
            assert any(r.kind == K.TAP and r.age_ms == 50 for r in f.ripples)
    assert all(tl.frame_at(t).pointer == "touch" for t in range(0, tl.duration_ms, 997))


def test_desktop_frames_keep_the_mouse_pointer(tmp_path_factory):
    tl = _timeline(tmp_path_factory, "session_spa_plain_1280x800.json")
    assert not any(tl.pv_touch)
    f = tl.frame_at(tl.duration_ms // 2)
    assert f.pointer == "mouse" and f.cursor is not None


def _browser_choices():
    """What the browser had at the end of session_spa_plain: {selector: (kind, value)}."""
    acts = EXPECTED["files"]["session_spa_plain_1280x800.json"]["actions"]
    sel = next(a for a in acts if a["action"] == "select")
    clicks = {a["key"]["selector"]: a for a in acts if a["action"] == "click"}
    return sel, clicks


def test_select_radio_and_checkbox_show_as_the_browser_had_them(tmp_path_factory):
    from hindsight.replay.timeline import select_options

    tl = _timeline(tmp_path_factory, "session_spa_plain_1280x800.json")
    sel, clicks = _browser_choices()
    t0 = EXPECTED["files"]["session_spa_plain_1280x800.json"]["metas"][0]["timestamp"]
    t_sel = sel["t"] - t0
    # the account view: the one pageview whose map has the #plan select
    pv = tl.pageview_at(t_sel)
    emap = tl.element_maps[tl.pageviews[pv].snapshot_id]
    plan, yearly, monthly, terms = (emap.index_of(s) for s in ("#plan", "#billing-yearly", "#billing-monthly", "#terms"))
    assert min(plan, yearly, monthly, terms) >= 0
    opts = select_options(emap, plan)
    assert [emap.label[i] for i in opts] == ["Starter", "Team", "Business"]
    assert np.all(emap.boxes[opts] == 0)                       # options are never hit
    assert emap.hit(*[float(v) + 5 for v in emap.boxes[plan][:2]]) == plan

    before = tl.frame_at(t_sel - 2000).choices
    assert plan not in before                                   # the default: the screenshot shows it
    after_t = clicks["#terms"]["t"] - t0 + 200
    f = tl.frame_at(after_t)
    assert f.pageview_index == pv
    assert f.choices[plan] == sel["selected_index"] == 2
    assert emap.label[opts[f.choices[plan]]] == sel["text"] == "Business"
    assert f.choices[yearly] == 1 and f.choices.get(monthly, 0) == 0
    assert f.choices[terms] == 1
    # lengths of typed text are unchanged; no option value or typed text is stored as a string
    assert "business" not in tl.strings.values() and "yearly" not in tl.strings.values()


def test_select_input_value_is_the_option_index_plus_one(tmp_path_factory):
    tl = _timeline(tmp_path_factory, "session_spa_plain_1280x800.json")
    sel, _ = _browser_choices()
    t0 = EXPECTED["files"]["session_spa_plain_1280x800.json"]["metas"][0]["timestamp"]
    ev = tl.events
    pv = tl.pageview_at(sel["t"] - t0)
    emap = tl.element_maps[tl.pageviews[pv].snapshot_id]
    rows = np.flatnonzero((ev.kind == K.INPUT) & (ev.target == emap.index_of("#plan")) & (tl.pv_index == pv))
    assert ev.value[rows].tolist() == [sel["selected_index"] + 1]

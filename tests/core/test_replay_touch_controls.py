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

"""``hindsight frame`` on a dataset: one session's rows, the same replay engine, the same pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def dataset(demo_master, tmp_path_factory):
    from hindsight.dataset.export import export_capture

    out = tmp_path_factory.mktemp("frame_ds") / "ds"
    export_capture(demo_master, str(out))
    return out


def _moments(path):
    """A desktop session at a click (ripple on screen) and a mobile one mid-scroll."""
    import sqlite3

    with sqlite3.connect(path) as con:
        desk = con.execute("SELECT session_id FROM sessions WHERE device = 'desktop' AND pageview_count >= 2 "
                           "ORDER BY session_id LIMIT 1").fetchone()[0]
        mob = con.execute("SELECT session_id, duration_ms FROM sessions WHERE device = 'mobile' "
                          "ORDER BY session_id LIMIT 1").fetchone()
    from hindsight.store import open_capture

    with open_capture(path) as cap:
        _pvs, ev, _ = cap.session_events(desk)
        t_click = int(ev.t[np.flatnonzero(ev.kind == 1)[0]]) + 120
    return [(desk, t_click, []), (mob[0], mob[1] // 2, ["--canvas-only", "--width", "390", "--height", "700"])]


def test_frame_of_a_dataset_session_equals_the_capture_frame(demo_master, dataset, tmp_path, capsys):
    from PIL import Image

    from hindsight.cli import main
    from hindsight.engine import driver

    for sid, at, extra in _moments(demo_master):
        images = []
        for src in (demo_master, dataset):
            out = tmp_path / f"{sid}-{src.name}.png"
            assert main(["frame", str(src), "--session", str(sid), "--at", str(at), "-o", str(out), *extra]) == 0
            assert f"session {sid} at" in capsys.readouterr().out
            images.append(np.asarray(Image.open(out).convert("RGB")))
        assert images[0].shape == images[1].shape
        assert np.array_equal(images[0], images[1]), (sid, at)
        assert images[1].std() > 20   # a page, not a blank sheet
    assert not driver._local   # one session's rows were read here: no Dask cluster was started


def test_frame_of_an_unknown_dataset_session_is_one_line(dataset, tmp_path, capsys):
    from hindsight.cli import main

    out = tmp_path / "x.png"
    assert main(["frame", str(dataset), "--session", "987654", "--at", "0", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{dataset}: has no session 987654" in err
    assert not out.exists()

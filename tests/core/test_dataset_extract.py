"""``hindsight extract``: a dataset segment back to a capture, with the same analyses' results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hindsight.cli import main
from hindsight.store import SessionFilter, open_capture


@pytest.fixture(scope="module")
def exported(demo_master, tmp_path_factory) -> Path:
    from hindsight.dataset.export import export_capture

    out = tmp_path_factory.mktemp("dsx") / "demo_ds"
    export_capture(demo_master, str(out))
    return out


def test_full_extract_gives_the_same_heatmaps_and_signals(demo_master, exported, tmp_path):
    from hindsight.analytics.heatmap import KINDS, HeatmapEngine
    from hindsight.analytics.signals import compute_signals

    out = tmp_path / "full.sqlite"
    assert main(["extract", str(exported), "--out", str(out)]) == 0
    with open_capture(demo_master) as a, open_capture(out) as b:
        assert a.counts() == b.counts()
        assert [(p.page_id, p.url) for p in a.pages()] == [(p.page_id, p.url) for p in b.pages()]
        assert a.meta["masking"] == b.meta["masking"] and b.meta["demo_seed"] == a.meta["demo_seed"]
        assert a.planted() == b.planted()
        ea, eb = HeatmapEngine(a), HeatmapEngine(b)
        grids = 0
        for snap in a.snapshots():
            for kind in KINDS:
                ra, rb = ea.compute(snap.snapshot_id, kind), eb.compute(snap.snapshot_id, kind)
                assert np.array_equal(ra.grid, rb.grid) and np.array_equal(ra.counts, rb.counts), (snap, kind)
                grids += int(ra.counts.sum() > 0)
        assert grids >= 20
        sa, sb = compute_signals(a), compute_signals(b)
        assert len(sa.session_id) > 100
        for name in ("session_id", "kind", "t_ms", "x", "y", "element", "selector", "snapshot_id", "count"):
            assert np.array_equal(getattr(sa, name), getattr(sb, name)), name
        # the same session list, column for column
        ta, tb = a.session_table(), b.session_table()
        for name in ta:
            assert np.array_equal(ta[name], tb[name]), name


def test_filtered_extract_has_exactly_the_matching_sessions(demo_master, exported, tmp_path):
    out = tmp_path / "seg.sqlite"
    args = ["--device", "mobile", "--country", "US", "--country", "DE", "--min-duration", "20",
            "--since", "2025-11-01", "--visited", "https://demo.hindsight.local/signup"]
    assert main(["extract", str(exported), *args, "--out", str(out)]) == 0
    from hindsight.cli import build_parser
    from hindsight.cli.capture_cmds import filter_from_args

    ns = build_parser().parse_args(["sessions", str(demo_master), *args])
    with open_capture(demo_master) as cap:
        want = cap.session_ids(filter_from_args(ns, cap))
    with open_capture(out) as seg:
        got = seg.session_ids()
        assert 5 < len(want) < 300
        assert np.array_equal(got, want)
        with open_capture(demo_master) as cap:
            for sid in got[:20].tolist():
                _, e1, i1 = cap.session_events(sid)
                _, e2, i2 = seg.session_events(sid)
                assert np.array_equal(e1.t, e2.t) and np.array_equal(e1.x, e2.x) and np.array_equal(i1, i2)


def test_sample_is_deterministic_and_a_subset(exported, tmp_path):
    from hindsight.dataset.extract import extract_dataset

    f = SessionFilter(converted=False)
    a = extract_dataset(str(exported), tmp_path / "a.sqlite", f, sample=50, seed=3)
    b = extract_dataset(str(exported), tmp_path / "b.sqlite", f, sample=50, seed=3)
    c = extract_dataset(str(exported), tmp_path / "c.sqlite", f, sample=50, seed=4)
    assert a["sessions"] == 50 and a["matching"] > 500
    with open_capture(a["path"]) as ca, open_capture(b["path"]) as cb, open_capture(c["path"]) as cc:
        ia, ib, ic = ca.session_ids(), cb.session_ids(), cc.session_ids()
        assert np.array_equal(ia, ib) and not np.array_equal(ia, ic)
        assert not ca.session_table()["converted"].any()


def test_extract_refuses_unknown_values_and_analysis_filters(exported, tmp_path, capsys):
    code = main(["extract", str(exported), "--device", "Mobile", "--out", str(tmp_path / "x.sqlite")])
    assert code == 2 and "did you mean 'mobile'" in capsys.readouterr().err
    code = main(["extract", str(exported), "--frustration", "rage_click", "--out", str(tmp_path / "x.sqlite")])
    assert code == 2 and "--frustration" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()

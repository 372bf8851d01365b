"""``hindsight demo --dataset``: the same visitors as ``hindsight demo`` + ``export dataset``."""

from __future__ import annotations

import numpy as np

from hindsight.cli import main
from hindsight.dataset import layout
from hindsight.dataset.store import open_dataset


def _by_seq(ds):
    """Events keyed by (session_id, seq) instead of pageview ids, in (session, seq, t) order."""
    pv = ds.table("pageviews").sort_by("pageview_id")
    seq = dict(zip(pv.column("pageview_id").to_pylist(), pv.column("seq").to_pylist()))
    ev = ds.table("events")
    sess = ev.column("session_id").to_numpy()
    s = np.array([seq[i] for i in ev.column("pageview_id").to_pylist()])
    order = np.lexsort((np.arange(len(s)), s, sess))
    out = {c: ev.column(c).to_numpy()[order] for c in ("session_id", "snapshot_id", *layout.EVENT_VALUE_COLUMNS)}
    out["seq"] = s[order]
    return out


def test_demo_dataset_equals_demo_then_export(tmp_path):
    direct, cap, exported = tmp_path / "direct", tmp_path / "demo.sqlite", tmp_path / "exported"
    # 2 workers over 2 chunks of 2,500 would be slow here: 2 chunks of 150 via the API below
    from hindsight.dataset.demo import generate_demo_dataset

    import hindsight.dataset.demo as demo_mod

    old = demo_mod._MIN_CHUNK
    demo_mod._MIN_CHUNK = 150
    try:
        summary = generate_demo_dataset(str(direct), sessions=300, seed=11, workers=2)
    finally:
        demo_mod._MIN_CHUNK = old
    assert summary["sessions"] == 300 and summary["workers"] == 2
    # two writers' part files side by side
    assert {p.name.split("-")[3] for p in (direct / "events").rglob("*.parquet")} == {"0000", "0001"}
    assert main(["demo", "--out", str(cap), "--sessions", "300", "--seed", "11", "--no-open"]) == 0
    assert main(["export", "dataset", str(cap), "--out", str(exported)]) == 0
    a, b = open_dataset(str(direct)), open_dataset(str(exported))
    assert a.capture_meta()["demo_seed"] == "11" and a.capture_meta()["demo_scroll_cliff"] == \
        b.capture_meta()["demo_scroll_cliff"]
    for name in ("pages", "snapshots", "elements", "strings"):
        assert a.table(name).to_pylist() == b.table(name).to_pylist(), name
    assert (direct / "images").is_dir() and sorted(p.read_bytes() for p in (direct / "images").iterdir()) == \
        sorted(p.read_bytes() for p in (exported / "images").iterdir())
    sa, sb = a.table("sessions").sort_by("session_id"), b.table("sessions").sort_by("session_id")
    assert sa.num_rows == 300 and sa.to_pylist() == sb.to_pylist()   # every column, the day too
    cols = [c for c in layout.PAGEVIEWS_SCHEMA.names if c != "pageview_id"]
    pa_ = a.table("pageviews", columns=[*cols, "day"]).sort_by([("session_id", "ascending"), ("seq", "ascending")])
    pb_ = b.table("pageviews", columns=[*cols, "day"]).sort_by([("session_id", "ascending"), ("seq", "ascending")])
    assert pa_.to_pylist() == pb_.to_pylist()
    ea, eb = _by_seq(a), _by_seq(b)
    assert len(ea["t"]) == summary["events"] > 20_000
    for c in ea:
        assert np.array_equal(ea[c], eb[c]), c
    key = lambda t: sorted(t.to_pylist(), key=lambda r: (r["session_id"], r["t_ms"], r["kind"], r["selector"]))  # noqa: E731
    assert key(a.table("planted")) == key(b.table("planted")) and a.table("planted").num_rows > 10

"""Dataset layout version 2 (events in one row group per kind, ``n`` = index in the pageview):
a version-1 dataset still reads exactly; part files added while workers run are seen by the
next analysis; ``demo --dataset --replicate-from`` copies sessions exactly under new ids."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

import pyarrow.parquet as pq  # noqa: E402

from hindsight.analytics.heatmap import HeatmapEngine  # noqa: E402
from hindsight.analytics.signals import compute_signals  # noqa: E402


def _to_v1(src, dst):
    """A copy of a version-2 dataset as version 1 wrote it: events sorted by (pageview_id, t)
    in row groups of all kinds, no ``n`` column."""
    shutil.copytree(src, dst)
    for f in sorted((dst / "events").rglob("*.parquet")):
        t = pq.read_table(f).sort_by([("pageview_id", "ascending"), ("n", "ascending")]).drop_columns(["n"])
        pq.write_table(t, f, row_group_size=65_536, compression="zstd")
    meta = json.loads((dst / "meta.json").read_text())
    meta["version"] = 1
    (dst / "meta.json").write_text(json.dumps(meta))
    return dst


def _click_counts(url, client, snap):
    from hindsight.engine.driver import DatasetHeatmaps, open_dataset_capture

    return DatasetHeatmaps(open_dataset_capture(str(url), client=client)).compute(snap, "click")


def test_version_1_dataset_reads_exactly_as_before(dataset_path, tmp_path, demo, cluster):
    from hindsight.engine.driver import DatasetHeatmaps, open_dataset_capture

    v1 = _to_v1(dataset_path, tmp_path / "v1")
    f = next((v1 / "events").rglob("*.parquet"))
    assert "n" not in pq.ParquetFile(f).schema_arrow.names
    dcap = open_dataset_capture(str(v1), client=cluster)
    assert dcap.format_version == 1
    snap = demo.snapshots()[0].snapshot_id
    for kind in ("click", "move", "scroll"):
        a, b = HeatmapEngine(demo).compute(snap, kind), DatasetHeatmaps(dcap).compute(snap, kind)
        assert np.array_equal(a.grid, b.grid) and a.sample == b.sample
    assert a.sample.sessions > 100
    want, got = compute_signals(demo), dcap.signals()
    assert len(got) == len(want) > 50
    assert np.array_equal(got.session_id, want.session_id) and np.array_equal(got.t_ms, want.t_ms)
    # a replay's rows: tie order within a millisecond as recorded, in both versions
    for sid in demo.session_ids()[[0, 777, 1999]].tolist():
        _, ce, cidx = demo.session_events(sid)
        for path in (v1, dataset_path):
            _, e, idx = open_dataset_capture(str(path), client=cluster).session_events(sid)
            assert np.array_equal(e.t, ce.t) and np.array_equal(e.kind, ce.kind) and np.array_equal(idx, cidx)


def test_part_files_added_while_workers_run_are_seen_by_the_next_analysis(dataset_path, tmp_path, demo, cluster):
    """As a collector publishes part files (renamed into place), the next analysis reads them,
    on the same worker processes (no restart), and the result is again the capture's."""
    from hindsight.engine.driver import DatasetHeatmaps, open_dataset_capture

    ds = tmp_path / "growing"
    shutil.copytree(dataset_path, ds)
    day = sorted(p.name for p in (ds / "sessions").iterdir())[5]
    aside = tmp_path / "aside"
    for table in ("sessions", "pageviews", "events"):
        (aside / table).mkdir(parents=True)
        shutil.move(ds / table / day, aside / table / day)
    held_back = sum(pq.ParquetFile(f).metadata.num_rows for f in (aside / "sessions" / day).glob("*.parquet"))
    assert held_back > 20
    pids = sorted(cluster.run(os.getpid).values())
    dcap = open_dataset_capture(str(ds), client=cluster)
    heat = DatasetHeatmaps(dcap)
    snap = demo.snapshots()[0].snapshot_id
    total = demo.counts()["sessions"]
    assert dcap.session_count() == total - held_back
    before = heat.compute(snap, "click")
    for table in ("events", "pageviews", "sessions"):   # as a collector: sessions last
        (ds / table / day).mkdir()
        for f in (aside / table / day).glob("*.parquet"):
            tmp = ds / table / day / f".{f.name}.tmp"
            shutil.copy(f, tmp)
            os.replace(tmp, ds / table / day / f.name)
    assert dcap.session_count() == total
    after = DatasetHeatmaps(dcap).compute(snap, "click")
    want = HeatmapEngine(demo).compute(snap, "click")
    assert np.array_equal(after.grid, want.grid) and after.sample == want.sample
    assert after.sample.points > before.sample.points
    assert sorted(cluster.run(os.getpid).values()) == pids   # the same worker processes


def test_replicate_copies_sessions_exactly_under_new_ids(dataset_path, tmp_path, demo, cluster, capsys):
    from hindsight.cli import main
    from hindsight.engine.driver import open_dataset_capture
    from hindsight.engine.reader import open_dataset

    v1 = _to_v1(dataset_path, tmp_path / "v1src")
    out = tmp_path / "rep"
    # 2,500 sessions of a 2,000-session source: one whole copy and the first 500 sessions again
    assert main(["demo", "--dataset", str(out), "--sessions", "2500", "--replicate-from", str(v1)]) == 0
    assert "2 copies" in capsys.readouterr().out
    meta = json.loads((out / "meta.json").read_text())
    assert meta["version"] == 2 and meta["capture_meta"]["replica_copies"] == "2"
    assert meta["capture_meta"]["demo_sessions"] == "2500"
    dcap = open_dataset_capture(str(out), client=cluster)
    ids = dcap.session_ids()
    src_ids = demo.session_ids()
    first = src_ids[:500]
    step = int(src_ids.max()) + 1
    assert np.array_equal(ids, np.concatenate([src_ids, first + step]))
    counts = dcap.counts()
    first_events = sum(demo.session(int(s)).event_count for s in first)
    assert counts["sessions"] == 2500 and counts["events"] == demo.counts()["events"] + first_events
    # a copied session is the source session: same pageviews' events, new ids
    src_sid = int(first[123])
    _, ce, cidx = demo.session_events(src_sid)
    pvs, e, idx = dcap.session_events(src_sid + step)
    assert np.array_equal(e.t, ce.t) and np.array_equal(e.x, ce.x) and np.array_equal(e.kind, ce.kind)
    assert np.array_equal(idx, cidx)
    # (a capture's pageview ids are not the demo dataset's session_id * 2**16 + seq: shifted
    # past the largest one)
    pv_step = int(open_dataset(str(dataset_path)).store.table("pageviews", columns=["pageview_id"])
                  .column("pageview_id").to_numpy().max()) + 1
    assert [p.pageview_id for p in pvs] == [p.pageview_id + pv_step for p in demo.pageviews(src_sid)]
    # the events are laid out as version 2 (one kind per row group, n) and equal the export's
    rep_events = open_dataset(str(out)).store.table("events", columns=["pageview_id", "n", "t", "kind", "x"])
    src_events = open_dataset(str(dataset_path)).store.table("events", columns=["pageview_id", "n", "t", "kind", "x"])
    keep = np.asarray(rep_events.column("pageview_id").to_numpy() < pv_step)
    a = rep_events.filter(keep).sort_by([("pageview_id", "ascending"), ("n", "ascending")])
    b = src_events.sort_by([("pageview_id", "ascending"), ("n", "ascending")])
    assert a.equals(b)
    # signals of the copies are the source sessions' signals
    sig = dcap.signals()
    want = compute_signals(demo)
    assert len(sig) == len(want) + int(np.isin(want.session_id, first).sum())

"""Capture datasets: ``hindsight export dataset`` round trip, layout, and bad datasets."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from hindsight.cli import main
from hindsight.dataset import layout
from hindsight.dataset.store import open_dataset
from hindsight.store import open_capture
from hindsight.store.errors import CaptureError


@pytest.fixture(scope="module")
def exported(demo_master, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "demo_ds"
    assert main(["export", "dataset", str(demo_master), "--out", str(out)]) == 0
    return out


def _capture_events(cap):
    """Every event of every session, by session id then the capture's own order."""
    parts = {n: [] for n in ("session_id", "pageview_id", "snapshot_id", *layout.EVENT_VALUE_COLUMNS)}
    for sid in cap.session_ids().tolist():
        pvs, ev, pv_index = cap.session_events(sid)
        parts["session_id"].append(np.full(len(ev), sid, np.int64))
        parts["pageview_id"].append(np.array([p.pageview_id for p in pvs], np.int64)[pv_index])
        parts["snapshot_id"].append(np.array([p.snapshot_id for p in pvs], np.int64)[pv_index])
        for c in layout.EVENT_VALUE_COLUMNS:
            parts[c].append(getattr(ev, c))
    return {n: np.concatenate(v) for n, v in parts.items()}


def test_export_round_trip_every_session_and_event(demo_master, exported):
    ds = open_dataset(str(exported))
    with open_capture(demo_master) as cap:
        counts = cap.counts()
        rows = ds.check()
        assert rows["sessions"] == counts["sessions"] == 2000
        assert rows["pageviews"] == counts["pageviews"]
        assert rows["events"] == counts["events"] > 200_000
        assert rows["pages"] == counts["pages"] and rows["snapshots"] == counts["snapshots"]
        assert rows["planted"] == len(cap.planted()) > 0
        # sessions: every column of every session equal
        st = ds.table("sessions").sort_by("session_id").to_pydict()
        for i, sid in enumerate(st["session_id"]):
            want = asdict(cap.session(sid))
            want["converted"] = int(want["converted"])
            assert {k: st[k][i] for k in want} == want
        # pageviews: every column equal
        pv = ds.table("pageviews").sort_by("pageview_id")
        want_pv = [asdict(p) for sid in cap.session_ids().tolist() for p in cap.pageviews(sid)]
        want_pv.sort(key=lambda r: r["pageview_id"])
        got_pv = pv.select(list(want_pv[0])).to_pylist()
        assert got_pv == want_pv
        # events: every event of every session, values and dtypes
        want = _capture_events(cap)
        ev = ds.table("events")
        got = {n: ev.column(n).to_numpy() for n in want}
        seq = dict(zip(pv.column("pageview_id").to_pylist(), pv.column("seq").to_pylist()))
        key_seq = np.array([seq[i] for i in got["pageview_id"].tolist()])
        # version 2: rows in kind row groups; ``n`` is the event's index in its pageview
        order = np.lexsort((ev.column("n").to_numpy(), key_seq, got["session_id"]))
        for n in want:
            assert got[n].dtype == want[n].dtype, n
            assert np.array_equal(got[n][order], want[n]), n
        # the same through the per-session read (row-group statistics)
        for sid in (int(st["session_id"][0]), int(st["session_id"][1234])):
            pvs, e, idx = ds.session_events(sid)
            cpvs, ce, cidx = cap.session_events(sid)
            assert pvs.column("pageview_id").to_pylist() == [p.pageview_id for p in cpvs]
            for c in layout.EVENT_VALUE_COLUMNS:
                assert np.array_equal(getattr(e, c), getattr(ce, c))
            assert np.array_equal(idx, cidx)
        # catalog tables and images
        assert ds.table("pages").sort_by("page_id").column("url").to_pylist() == [p.url for p in cap.pages()]
        snaps = ds.table("snapshots").sort_by("snapshot_id").to_pylist()
        for s in snaps:
            assert ds.read_image(s["image"]) == cap.snapshot_image(s["snapshot_id"])
            emap = cap.elements(s["snapshot_id"])
            el = ds.table("elements", filter=pads.field("snapshot_id") == s["snapshot_id"]).sort_by("idx")
            assert tuple(el.column("selector").to_pylist()) == emap.selector
            assert np.array_equal(el.column("w").to_numpy(), emap.boxes[:, 2])
        assert dict(zip(*ds.table("strings").to_pydict().values())) == cap.strings()
        assert ds.capture_meta()["demo_seed"] == cap.meta["demo_seed"]


def test_layout_days_sorted_row_groups_and_meta(demo_master, exported):
    meta = json.loads((exported / "meta.json").read_text())
    assert meta["format"] == "hindsight-dataset" and meta["version"] == 2
    assert meta["masking"] == "lengths-only"
    ds = open_dataset(str(exported))
    with open_capture(demo_master) as cap:
        table = cap.session_table()
    want_days = {layout.day_of(v) for v in table["start_ms"].tolist()}
    days = {p.name for p in (exported / "sessions").iterdir()}
    assert days == {f"day={d}" for d in want_days} and len(days) == 30
    # a session's pageviews and events are in its day, in the part file of the same name
    st = ds.table("sessions", columns=["session_id", "start_ms", "day"])
    for sid, start, day in list(zip(*st.to_pydict().values()))[:50]:
        assert day == layout.day_of(start)
        ev = ds.table("events", columns=["session_id"], filter=pads.field("day") == day)
        assert sid in set(ev.column("session_id").to_pylist())
    for f in sorted((exported / "events").rglob("*.parquet")):
        pf = pq.ParquetFile(f)
        assert pf.schema_arrow == layout.EVENTS_SCHEMA
        # version 2: every row group holds one kind (its statistics say which), rows sorted by
        # (pageview_id, n), and n numbers each pageview's events in time order
        kinds_seen = []
        for g in range(pf.metadata.num_row_groups):
            stats = pf.metadata.row_group(g).column(pf.schema_arrow.get_field_index("kind")).statistics
            assert stats.has_min_max and stats.min == stats.max, f
            t = pf.read_row_group(g)
            assert set(t.column("kind").to_pylist()) == {stats.min}
            key = t.column("pageview_id").to_numpy().astype(np.int64) * 2**32 + t.column("n").to_numpy()
            assert np.all(np.diff(key) > 0), f
            kinds_seen.append(stats.min)
        assert len(set(kinds_seen)) > 5
        t = pf.read().sort_by([("pageview_id", "ascending"), ("n", "ascending")])
        pv, n, tt = (t.column(c).to_numpy().astype(np.int64) for c in ("pageview_id", "n", "t"))
        same = pv[1:] == pv[:-1]
        assert np.all(n[1:][same] == n[:-1][same] + 1) and np.all(n[1:][~same] == 0) and n[0] == 0
        assert np.all(tt[1:][same] >= tt[:-1][same])
        assert (f.parent.parent.parent / "sessions" / f.parent.name / f.name).exists()
    assert not list(exported.rglob(".*"))   # no temporary file left


def test_duckdb_reads_the_dataset(exported, demo_master):
    duckdb = pytest.importorskip("duckdb")
    q = (f"SELECT s.device, count(*) AS clicks_and_taps FROM read_parquet('{exported}/events/*/*.parquet') e "
         f"JOIN read_parquet('{exported}/sessions/*/*.parquet', hive_partitioning = true) s USING (session_id) "
         f"WHERE e.kind IN (1, 2) GROUP BY s.device ORDER BY s.device")
    got = dict(duckdb.sql(q).fetchall())
    with open_capture(demo_master) as cap:
        want: dict[str, int] = {}
        table = cap.session_table()
        device = dict(zip(table["session_id"].tolist(), table["device"].tolist()))
        for sid in table["session_id"].tolist():
            _, ev, _ = cap.session_events(sid)
            want[device[sid]] = want.get(device[sid], 0) + int(np.count_nonzero((ev.kind == 1) | (ev.kind == 2)))
    assert got == want and len(got) == 3 and min(got.values()) > 100


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_bad_datasets_one_line_exit_2(exported, tmp_path, capsys):
    # missing meta
    d = _copy(exported, tmp_path / "nometa")
    (d / "meta.json").unlink()
    with pytest.raises(CaptureError, match="meta.json: missing"):
        open_dataset(str(d))
    # a newer version
    d = _copy(exported, tmp_path / "newer")
    meta = json.loads((d / "meta.json").read_text())
    meta["version"] = 99
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CaptureError, match="newer Hindsight .dataset version 99"):
        open_dataset(str(d))
    # a corrupt part file: named in the error
    d = _copy(exported, tmp_path / "corrupt")
    victim = sorted((d / "events").rglob("*.parquet"))[3]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    ds = open_dataset(str(d))
    with pytest.raises(CaptureError) as info:
        ds.table("events", columns=["t"])
    assert str(victim) in str(info.value) and "corrupt part file" in str(info.value)
    # the CLI: one line, exit 2
    capsys.readouterr()
    code = main(["extract", str(d), "--out", str(tmp_path / "x.sqlite")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and victim.name in err
    code = main(["extract", str(tmp_path / "newer"), "--out", str(tmp_path / "y.sqlite")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "newer Hindsight" in err
    assert not (tmp_path / "x.sqlite").exists() and not (tmp_path / "y.sqlite").exists()


def test_export_refuses_non_empty_folder(demo_master, exported, capsys):
    code = main(["export", "dataset", str(demo_master), "--out", str(exported)])
    assert code == 2 and "already exists and is not empty" in capsys.readouterr().err


def test_demo_force_replaces_only_a_dataset(tmp_path, capsys):
    folder = tmp_path / "stuff"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert main(["demo", "--dataset", str(folder), "--sessions", "5", "--force"]) == 2
    assert "not a Hindsight dataset" in capsys.readouterr().err and (folder / "notes.txt").exists()
    ds = tmp_path / "ds"
    assert main(["demo", "--dataset", str(ds), "--sessions", "5"]) == 0
    assert main(["demo", "--dataset", str(ds), "--sessions", "5"]) == 2
    assert main(["demo", "--dataset", str(ds), "--sessions", "7", "--force"]) == 0
    assert open_dataset(str(ds)).table("sessions").num_rows == 7


def test_file_url_works(demo_master, exported):
    ds = open_dataset(exported.as_uri())
    assert ds.table("sessions", columns=["session_id"]).num_rows == 2000

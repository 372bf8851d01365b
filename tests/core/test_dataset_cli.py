"""The command-line and robustness parts of issue 16 on a dataset: find similar and bookmarks,
saved page patterns carried into a dataset, damaged values inside Parquet rows, and
``hindsight check DATASET``. ``frame`` on a dataset: tests/app/test_dataset_frame.py.

The 2,000-session demo is exported once (as tests/core/test_engine.py does) and analysed on a
local cluster of 2 worker processes created once here.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")


@pytest.fixture
def on_cluster(cluster, monkeypatch):
    """The CLI runs its dataset tasks on the module's cluster."""
    monkeypatch.setenv("HINDSIGHT_SCHEDULER", cluster.scheduler.address)
    return cluster


def _planted(path, kind):
    import sqlite3

    with sqlite3.connect(path) as con:
        return con.execute("SELECT session_id, t_ms, selector FROM planted WHERE kind = ? ORDER BY session_id "
                           "LIMIT 1", (kind,)).fetchone()


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- find similar and bookmarks ---------------------------------------------------------------

def test_find_similar_on_a_dataset_gives_exactly_the_capture_matches(demo_copy, dataset_path, cluster,
                                                                    tmp_path, monkeypatch):
    from hindsight.bookmarks import BookmarkStore
    from hindsight.bookmarks.dataset_store import DatasetBookmarkStore, bookmark_store
    from hindsight.bookmarks.similar import find_similar
    from hindsight.engine.session_source import open_dataset_sessions
    from hindsight.store import open_capture

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    ds = tmp_path / "ds"
    shutil.copytree(dataset_path, ds)
    before = _files(ds)
    dcap = open_dataset_sessions(str(ds))
    dcap._client = cluster
    with open_capture(demo_copy) as cap:
        cstore, dstore = BookmarkStore.for_capture(cap), bookmark_store(dcap)
        assert isinstance(dstore, DatasetBookmarkStore) and dstore.location == "sidecar"
        assert dstore.path == tmp_path / "ds.bookmarks.sqlite"   # beside the folder
        counts = {}
        for kind in ("rage_click", "hesitation", "abandon"):
            sid, t, _sel = _planted(demo_copy, kind)
            a = cstore.add(sid, t, f"{kind} here")
            b = dstore.add(sid, t, f"{kind} here")
            assert (a.session_id, a.t_ms, a.page_url) == (b.session_id, b.t_ms, b.page_url) and b.page_url
            ra, rb = find_similar(cap, a), find_similar(dcap, b)
            assert ra.behaviour == rb.behaviour and ra.behaviour.kind == kind
            assert ra.matches == rb.matches
            counts[kind] = rb.count
    assert counts["rage_click"] >= 100 and counts["hesitation"] >= 50 and counts["abandon"] >= 50
    assert _files(ds) == before   # nothing was written into the dataset


def test_bookmark_commands_on_a_dataset(demo_copy, dataset_path, on_cluster, tmp_path, capsys, monkeypatch):
    from hindsight.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    ds = tmp_path / "site"
    shutil.copytree(dataset_path, ds)
    sid, t, _ = _planted(demo_copy, "dead_click")
    outs = []
    for src in (demo_copy, ds):
        assert main(["bookmark", "add", str(src), "--session", str(sid), "--at", str(t), "--tag", "dead",
                     "--json"]) == 0
        bid = json.loads(capsys.readouterr().out)["id"]
        assert main(["bookmark", "similar", str(src), "--id", str(bid), "--json", "--add"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
        assert main(["bookmarks", str(src), "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert listed["patterns"][0]["sessions"] == outs[-1]["count"] > 20
    assert outs[0] == outs[1]
    assert (tmp_path / "site.bookmarks.sqlite").is_file()
    assert main(["bookmarks", str(ds)]) == 0
    assert f"bookmarks are kept in {tmp_path / 'site.bookmarks.sqlite'}" in capsys.readouterr().out
    # bad input: one line, exit 2
    assert main(["bookmark", "add", str(ds), "--session", "987654321", "--at", "0", "--tag", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no session 987654321" in err


def test_dataset_bookmarks_go_to_the_user_data_folder_when_beside_is_read_only(dataset_path, tmp_path,
                                                                              monkeypatch, capsys):
    import os

    from hindsight.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    parent = tmp_path / "ro"
    parent.mkdir()
    ds = parent / "ds"
    shutil.copytree(dataset_path, ds)
    os.chmod(parent, 0o555)
    try:
        assert main(["bookmark", "add", str(ds), "--session", "1", "--at", "0", "--tag", "t", "--json"]) == 0
        capsys.readouterr()
        assert main(["bookmarks", str(ds), "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
    finally:
        os.chmod(parent, 0o755)
    assert listed["location"] == "user" and len(listed["bookmarks"]) == 1
    assert listed["stored_in"].startswith(str(tmp_path / "xdg" / "Hindsight" / "bookmarks"))
    assert not (parent / "ds.bookmarks.sqlite").exists()


# -- saved page patterns ----------------------------------------------------------------------

def test_saved_page_patterns_are_carried_into_the_dataset(demo_copy, dataset_path, on_cluster, tmp_path, capsys):
    from hindsight.cli import main

    assert main(["pages", "add", str(demo_copy), "/**"]) == 0   # one group: every page
    ds = tmp_path / "ds"
    assert main(["export", "dataset", str(demo_copy), "--out", str(ds)]) == 0
    capsys.readouterr()
    assert main(["pages", "list", str(ds), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["patterns"] == ["/**"] and listed["saved_in"] == "dataset"
    assert len(listed["pages"]) == 1 and len(listed["pages"][0]["urls"]) == 2

    page = "https://demo.hindsight.local/"
    outs = []
    for src in (demo_copy, ds, dataset_path):   # capture with the pattern, its dataset, a dataset without
        assert main(["heatmap", str(src), "--page", page, "--kind", "click", "--json"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1]
    assert outs[1]["coverage"] != outs[2]["coverage"]   # the pattern changed the map: both pages in it
    # the funnel resolves its page steps on the workers: they see the pattern too
    funnels = []
    for src in (demo_copy, ds):
        assert main(["funnel", str(src), "--step", page + "signup", "--step", page]) == 0
        funnels.append(capsys.readouterr().out.replace(str(src), "SRC"))
    assert funnels[0] == funnels[1] and " 2,000 " in funnels[0].replace("2000", "2,000") or funnels[0] == funnels[1]

    # pages add / remove on the dataset rewrite its list (one part file, atomically)
    assert main(["pages", "add", str(ds), "/signup"]) == 0
    assert main(["pages", "remove", str(ds), "/**"]) == 0
    capsys.readouterr()
    assert main(["pages", "list", str(ds), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["patterns"] == ["/signup"]
    assert len(list((ds / "page_patterns").glob("part-*.parquet"))) == 1


# -- damaged values inside Parquet rows -------------------------------------------------------

def _rewrite(path, change):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    cols = {c: t.column(c).to_pylist() for c in t.column_names}
    change(cols)
    pq.write_table(pa.table({c: pa.array(v, type=t.schema.field(c).type) for c, v in cols.items()}), path)


def _day_part(ds, table, k=3):
    day = sorted(p.name for p in (ds / table).iterdir())[k]
    return next((ds / table / day).glob("*.parquet")), day


def test_damaged_events_are_dropped_and_counted(dataset_path, demo_master, on_cluster, tmp_path, capsys):
    from hindsight.cli import main
    from hindsight.engine.reader import open_dataset

    ds = tmp_path / "ds"
    shutil.copytree(dataset_path, ds)
    part, day = _day_part(ds, "events")

    def damage(c):
        rows = [i for i, k in enumerate(c["kind"]) if k == 1][:4]   # four clicks
        c["x"][rows[0]] = 10**9                     # far outside the page
        c["target"][rows[1]] = 30000                # no such element
        c["pageview_id"][rows[2]] = 987654321       # a dangling id
        c["t"][rows[3]] = 4_000_000_000             # long after its pageview ended
        c["kind"][0] = 200                          # no such kind

    _rewrite(part, damage)
    capsys.readouterr()
    assert main(["signals", str(ds)]) == 0   # on the workers
    out, err = capsys.readouterr()
    assert "Frustration signals in 2,000 sessions" in out
    assert err.count("\n") == 1 and f"{ds}: 4 damaged events skipped" in err   # clicks; kind 200 never read
    p = open_dataset(str(ds)).partition(day[4:])   # in this process
    before = p.counts()["events"]
    ev, sids, _ = p._events(None)
    assert len(ev) == before - 5 and np.all(ev.kind != 200) and int(np.abs(ev.x).max()) < 10**6
    assert int(ev.t.max()) < 4_000_000_000 and 987654321 not in set(sids.tolist())
    assert main(["heatmap", str(ds), "--page", "https://demo.hindsight.local/", "--kind", "click", "--json"]) == 0
    assert "damaged event" in capsys.readouterr().err
    assert main(["check", str(ds)]) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and f"(day {day[4:]}): 5 damaged events" in out and "987654321 (1)" in out


@pytest.mark.parametrize("table,column,value,message", [
    ("sessions", "duration_ms", -5, "duration_ms is -5, outside 0..4,294,967,295"),
    ("sessions", "start_ms", 10**17, "start_ms is 100,000,000,000,000,000, outside"),
    ("sessions", "viewport_w", 10**7, "viewport_w is 10,000,000, outside 0..100,000"),
    ("pageviews", "snapshot_id", 777, "refers to snapshot 777, which does not exist"),
    ("pageviews", "session_id", 987654321, "refers to session 987654321, which does not exist"),
    ("pageviews", "end_ms", -1, "end_ms is -1, outside"),
])
def test_damaged_rows_are_one_line_naming_the_part_file(dataset_path, on_cluster, tmp_path, capsys,
                                                       table, column, value, message):
    from hindsight.cli import main

    ds = tmp_path / "ds"
    shutil.copytree(dataset_path, ds)
    part, _ = _day_part(ds, table)

    def damage(c):
        c[column][1] = value

    _rewrite(part, damage)
    capsys.readouterr()
    command = "sessions" if table == "sessions" else "signals"   # a command that reads the table
    assert main([command, str(ds)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{part}: is damaged: " in err and message in err, err
    assert main(["check", str(ds)]) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and str(part) in out and message in out


# -- hindsight check DATASET ------------------------------------------------------------------

def test_check_a_dataset(dataset_path, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hindsight.cli import main

    assert main(["check", str(dataset_path)]) == 0
    assert capsys.readouterr().out.strip() == f"{dataset_path}: no problems found"

    ds = tmp_path / "ds"
    shutil.copytree(dataset_path, ds)
    corrupt, _ = _day_part(ds, "events", 2)
    corrupt.write_bytes(corrupt.read_bytes()[:300])
    typed, _ = _day_part(ds, "sessions", 5)
    t = pq.read_table(typed)
    pq.write_table(t.set_column(t.schema.get_field_index("duration_ms"), "duration_ms",
                                pa.array([str(v) for v in t.column("duration_ms").to_pylist()])), typed)
    assert main(["check", str(ds)]) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err.strip() == f"hindsight: error: {ds}: 2 problems found"
    assert any(line.startswith(f"{corrupt}: is a corrupt part file") for line in lines)
    assert any(line.startswith(f"{typed}: has columns that are not the layout's: duration_ms (string, not int64)")
               for line in lines)

    newer = tmp_path / "newer"
    shutil.copytree(dataset_path, newer)
    meta = json.loads((newer / "meta.json").read_text())
    meta["version"] = 9
    (newer / "meta.json").write_text(json.dumps(meta))
    assert main(["check", str(newer)]) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "newer Hindsight (dataset version 9" in out

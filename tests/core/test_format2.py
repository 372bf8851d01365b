"""Capture format 2: columnar event chunks beside the BLOBs. Format-1 and format-2 files of the
same sessions give identical heatmaps, signals and form reports; ``hindsight upgrade`` converts
format 1 (keeping every table and column); erasing removes a session's rows from the chunks;
``hindsight check`` reports damaged chunks."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from hindsight.analytics.forms import form_report, list_forms
from hindsight.analytics.heatmap import KINDS, HeatmapEngine
from hindsight.analytics.signals import compute_signals
from hindsight.erase import erase
from hindsight.store import CaptureWriter, open_capture
from hindsight.store.chunks import rle_decode
from hindsight.store.columns import COLUMNS
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind as K
from hindsight.store.upgrade import upgrade_capture

sys.path.insert(0, str(Path(__file__).parent))
from test_capture_fuzz import run_cli  # noqa: E402

V1 = Path(__file__).parent.parent / "data" / "capture_v1" / "demo80_v1.sqlite"


def _downgrade(src: Path, dst: Path) -> Path:
    """A format-1 copy of a format-2 capture: the same file without its chunks."""
    shutil.copyfile(src, dst)
    con = sqlite3.connect(dst)
    con.execute("DROP TABLE event_chunks")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'format_version'")
    con.commit()
    con.close()
    return dst


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pair(demo_master, tmp_path_factory):
    """(format-1 copy, format-2 original) of the 2,000-session demo."""
    return _downgrade(demo_master, tmp_path_factory.mktemp("v1") / "demo_v1.sqlite"), demo_master


def _assert_same_heatmaps(p1: Path, p2: Path) -> int:
    checked = 0
    with open_capture(p1) as c1, open_capture(p2) as c2:
        assert (c1.format_version, c1.columnar, c2.format_version, c2.columnar) == (1, False, 2, True)
        e1, e2 = HeatmapEngine(c1), HeatmapEngine(c2)
        mobile = SessionFilter(device=("mobile",))
        for snap in c1.snapshots():
            for kind in KINDS:
                for flt in (None, mobile):
                    r1, r2 = e1.compute(snap.snapshot_id, kind, flt), e2.compute(snap.snapshot_id, kind, flt)
                    np.testing.assert_array_equal(r1.counts, r2.counts)
                    np.testing.assert_array_equal(r1.grid, r2.grid)
                    assert r1.sample == r2.sample and r1.total == r2.total
                    checked += int(r1.total > 0)
            assert e1.element_table(snap.snapshot_id) == e2.element_table(snap.snapshot_id)
            assert e1.sessions_at(snap.snapshot_id, "dead", 640, 400, 400) == \
                e2.sessions_at(snap.snapshot_id, "dead", 640, 400, 400)
    return checked


def test_heatmaps_are_identical_in_format_1_and_2(pair):
    checked = _assert_same_heatmaps(*pair)
    assert checked > 30   # real, non-empty maps of every kind were compared


def test_signals_and_form_reports_are_identical_in_format_1_and_2(pair):
    with open_capture(pair[0]) as c1, open_capture(pair[1]) as c2:
        s1, s2 = compute_signals(c1), compute_signals(c2)
        assert len(s1) > 100 and len(s1) == len(s2)
        for name in ("session_id", "kind", "t_ms", "x", "y", "element", "pageview_id", "count"):
            np.testing.assert_array_equal(getattr(s1, name), getattr(s2, name))
        forms = list_forms(c1)
        assert forms and forms == list_forms(c2)
        for ref in forms:
            f1, f2 = form_report(c1, ref.form, ref.url), form_report(c2, ref.form, ref.url)
            assert f1.viewed > 0 and (f1.viewed, f1.started, f1.completed, f1.abandoned, f1.fields) == \
                (f2.viewed, f2.started, f2.completed, f2.abandoned, f2.fields)
            np.testing.assert_array_equal(f1.abandon_session, f2.abandon_session)


def test_snapshot_events_match_the_blob_path_for_kinds_columns_and_filters(demo):
    snap = demo.snapshots()[0].snapshot_id
    ids = demo.session_ids()[::3]
    for kinds, flt in (((K.CLICK,), None), ((K.CLICK, K.TAP, K.DBLCLICK, K.SCROLL, K.INPUT), None),
                       (None, SessionFilter(session_ids=tuple(ids.tolist()))), ((K.MOVE,), SessionFilter(device=("mobile",)))):
        ev, sids, pvs = demo.snapshot_events(snap, kinds, flt)
        demo.tables.discard("event_chunks")   # the same capture through its BLOBs
        try:
            ev1, sids1, pvs1 = demo.snapshot_events(snap, kinds, flt)
        finally:
            demo.tables.add("event_chunks")
        for name, _ in COLUMNS:
            np.testing.assert_array_equal(getattr(ev, name), getattr(ev1, name), err_msg=name)
        np.testing.assert_array_equal(sids, sids1)
        np.testing.assert_array_equal(pvs, pvs1)
    clicks, sids, _ = demo.snapshot_events(snap, (K.CLICK,), columns=("x", "y"))
    full, _, _ = demo.snapshot_events(snap, (K.CLICK,))
    assert len(clicks) > 100
    np.testing.assert_array_equal(clicks.x, full.x)
    assert not clicks.value.any() and not clicks.t.any()   # columns not asked for are not read


def test_the_committed_format_1_capture_opens_read_only_and_upgrades(tmp_path):
    before = _sha(V1)
    code, out, err = run_cli(["info", str(V1)])
    assert code == 0, err
    assert "version 1" in out and f"'hindsight upgrade {V1} NEW'" in out
    with pytest.raises(CaptureError, match="is capture format 1, which is read-only"):
        CaptureWriter.append(V1)
    new = tmp_path / "v2.sqlite"
    code, out, err = run_cli(["upgrade", str(V1), str(new)])
    assert code == 0, err
    assert out.strip() == f"wrote {new}: capture format 2, 9,094 events in 41 chunks (9 tables copied from {V1})"
    assert _sha(V1) == before
    _assert_same_heatmaps(V1, new)
    with open_capture(V1) as c1, open_capture(new) as c2:
        assert c1.counts() == c2.counts()
        assert compute_signals(c1).session_id.tolist() == compute_signals(c2).session_id.tolist()
    code, out, _ = run_cli(["info", str(new)])
    assert "version 2" in out and "upgrade" not in out
    code, _, err = run_cli(["check", str(new)])
    assert code == 0, err


def test_upgrade_refuses_bad_input_with_one_line(tmp_path, demo_master):
    new = tmp_path / "new.sqlite"
    new.write_bytes(b"keep me")
    for argv, message in (
        (["upgrade", str(V1), str(new)], f"{new}: already exists (choose another name or pass --overwrite)"),
        (["upgrade", str(demo_master), str(tmp_path / "x.sqlite")],
         f"{demo_master}: is already capture format 2: nothing to upgrade"),
        (["upgrade", str(tmp_path / "missing.sqlite"), str(tmp_path / "y.sqlite")], "missing.sqlite: no such file"),
    ):
        code, out, err = run_cli(argv)
        assert code == 2 and out == ""
        assert err.startswith("hindsight: error: ") and message in err and err.count("\n") == 1, err
    assert new.read_bytes() == b"keep me"
    assert not (tmp_path / "x.sqlite").exists() and not list(tmp_path.glob("*.partial"))
    code, _, err = run_cli(["upgrade", str(V1), str(new), "--overwrite"])
    assert code == 0, err
    with open_capture(new) as cap:
        assert cap.columnar and cap.counts()["events"] == 9094


def test_upgrade_keeps_every_table_and_column(tmp_path):
    old = tmp_path / "old.sqlite"
    shutil.copyfile(V1, old)
    con = sqlite3.connect(old)
    con.execute("ALTER TABLE elements ADD COLUMN position TEXT NOT NULL DEFAULT ''")
    con.execute("UPDATE elements SET position = 'sticky' WHERE idx = 0")
    con.execute("CREATE TABLE page_states (state_id INTEGER PRIMARY KEY, snapshot_id INTEGER NOT NULL, label TEXT)")
    con.execute("CREATE INDEX page_states_snapshot ON page_states(snapshot_id)")
    con.executemany("INSERT INTO page_states(snapshot_id, label) VALUES (?, ?)", [(1, "menu open"), (2, "modal")])
    con.commit()
    con.close()
    new = tmp_path / "new.sqlite"
    upgrade_capture(old, new)
    con = sqlite3.connect(new)
    assert con.execute("SELECT count(*) FROM elements WHERE position = 'sticky'").fetchone()[0] == 6
    assert con.execute("SELECT snapshot_id, label FROM page_states ORDER BY state_id").fetchall() == \
        [(1, "menu open"), (2, "modal")]
    assert con.execute("SELECT name FROM sqlite_master WHERE name = 'page_states_snapshot'").fetchone()
    assert con.execute("SELECT count(*) FROM planted").fetchone()[0] == \
        sqlite3.connect(old).execute("SELECT count(*) FROM planted").fetchone()[0] > 0
    con.close()


def test_erase_removes_the_sessions_rows_from_the_chunks(demo_copy):
    with open_capture(demo_copy) as cap:
        snap = cap.snapshots()[0].snapshot_id
        ev, sids, _ = cap.snapshot_events(snap, (K.CLICK,))
        gone = np.unique(sids)[:25]
        clicks_before = HeatmapEngine(cap).compute(snap, "click").total
        erased_clicks = int(np.isin(sids, gone).sum())
    assert erased_clicks > 0
    erase(demo_copy, gone.tolist())
    con = sqlite3.connect(demo_copy)
    left = np.concatenate([rle_decode(b, n) for b, n in con.execute("SELECT session_id, n FROM event_chunks")])
    assert left.size == con.execute("SELECT sum(event_count) FROM pageviews").fetchone()[0]
    con.close()
    assert not np.isin(gone, left).any()
    with open_capture(demo_copy) as cap:
        _, sids_after, _ = cap.snapshot_events(snap, (K.CLICK,))
        assert not np.isin(sids_after, gone).any()
        assert HeatmapEngine(cap).compute(snap, "click").total == clicks_before - erased_clicks
    code, _, err = run_cli(["check", str(demo_copy)])
    assert code == 0, err


def test_damaged_chunks_are_skipped_counted_and_listed_by_check(demo_copy):
    con = sqlite3.connect(demo_copy)
    cid, snap, n = con.execute("SELECT chunk_id, snapshot_id, n FROM event_chunks WHERE kind = ? "
                               "ORDER BY n DESC LIMIT 1", (int(K.CLICK),)).fetchone()
    x = bytearray(con.execute("SELECT x FROM event_chunks WHERE chunk_id = ?", (cid,)).fetchone()[0])
    x[0:4] = (2**31 - 1).to_bytes(4, "little")          # one click far off the page
    con.execute("UPDATE event_chunks SET x = ? WHERE chunk_id = ?", (bytes(x), cid))
    other = con.execute("SELECT chunk_id FROM event_chunks WHERE kind = ? AND chunk_id != ? LIMIT 1",
                        (int(K.MOVE), cid)).fetchone()[0]
    con.execute("UPDATE event_chunks SET y = zeroblob(3) WHERE chunk_id = ?", (other,))   # wrong length
    con.commit()
    con.close()
    with open_capture(demo_copy) as cap:
        clicks, _, _ = cap.snapshot_events(snap, (K.CLICK,))
        assert cap.damaged_events == 1 and int(clicks.x.max()) < 100_000
    code, out, err = run_cli(["check", str(demo_copy)])
    assert code == 2
    lines = out.strip().splitlines()
    assert f"{demo_copy}: event chunk {cid} (snapshot {snap}): 1 damaged event (coordinates, target or value " \
           "impossible); they are skipped by heatmaps" in lines
    assert any(line.startswith(f"{demo_copy}: event chunk {other} ") and "column y holds 3 bytes" in line
               for line in lines), lines


def test_writers_that_commit_often_keep_few_chunks(tmp_path):
    """A collector commits every session: small chunks are merged into the last one of their
    (snapshot, kind), and the events read back are the BLOBs' events."""
    path = tmp_path / "c.sqlite"
    w = CaptureWriter.create(path)
    page = w.add_page("https://example.test/")
    snap = w.add_snapshot(page, "desktop", 1280, 3000, None, elements=[{"selector": "#a", "x": 0, "y": 0, "w": 9, "h": 9}])
    w.close()
    rng = np.random.default_rng(5)
    from hindsight.store.columns import EventColumns
    for i in range(40):
        w = CaptureWriter.append(path)
        n = int(rng.integers(5, 30))
        ev = EventColumns.from_arrays(np.sort(rng.integers(0, 9000, n)), rng.choice([0, 1, 3], n),
                                      rng.integers(0, 1280, n), rng.integers(0, 3000, n))
        w.add_session({"start_ms": 1_700_000_000_000 + i, "device": "desktop", "viewport_w": 1280, "viewport_h": 800},
                      [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 9000, "events": ev}])
        w.commit()
        w.close()
    con = sqlite3.connect(path)
    per_kind = dict(con.execute("SELECT kind, count(*) FROM event_chunks GROUP BY kind").fetchall())
    con.close()
    assert per_kind == {0: 1, 1: 1, 3: 1}
    with open_capture(path) as cap:
        ev, sids, pvs = cap.snapshot_events(snap, (K.MOVE, K.CLICK, K.SCROLL))
        cap.tables.discard("event_chunks")
        ev1, sids1, pvs1 = cap.snapshot_events(snap, (K.MOVE, K.CLICK, K.SCROLL))
    assert len(ev) > 200
    for name, _ in COLUMNS:
        np.testing.assert_array_equal(getattr(ev, name), getattr(ev1, name))
    np.testing.assert_array_equal(sids, sids1)
    np.testing.assert_array_equal(pvs, pvs1)

"""Capture format 2, read and write paths of issue 15: chunks read one at a time into arrays
allocated once (also when a snapshot's events span many chunks), the writer packing many
pageviews at once (``EventColumns`` and packed bytes mixed), and the unfiltered click map
that counts its sample in the pageviews' index instead of reading session or pageview rows."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from hindsight.analytics.heatmap import HeatmapEngine
from hindsight.store import CaptureWriter, EventColumns, open_capture
from hindsight.store import chunks as chunks_mod
from hindsight.store.columns import COLUMNS
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind as K


@pytest.fixture(scope="module")
def small_chunks(tmp_path_factory):
    """A 300-session demo written with chunks of at most 150 rows: most (snapshot, kind) reads span many chunks."""
    from hindsight.demo.generate import generate_demo

    mp = pytest.MonkeyPatch()
    mp.setattr(chunks_mod, "CHUNK_ROWS", 150)
    try:
        path = tmp_path_factory.mktemp("small") / "demo.sqlite"
        generate_demo(path, sessions=300, seed=3)
    finally:
        mp.undo()
    return path


def _via_blobs(cap, *args, **kw):
    cap.tables.discard("event_chunks")
    try:
        return cap.snapshot_events(*args, **kw)
    finally:
        cap.tables.add("event_chunks")


def test_events_spanning_many_chunks_read_exactly_as_from_the_blobs(small_chunks):
    with open_capture(small_chunks) as cap:
        snap = cap.snapshots()[0].snapshot_id
        per_kind = dict(cap._query("SELECT kind, count(*) FROM event_chunks WHERE snapshot_id = ? GROUP BY kind",
                                   (snap,)))
        assert per_kind[int(K.MOVE)] > 20 and per_kind[int(K.SCROLL)] >= 2   # really many chunks
        some = SessionFilter(session_ids=tuple(cap.session_ids()[::4].tolist()))
        for kinds, flt, columns in (((K.MOVE,), None, None), ((K.CLICK, K.TAP, K.SCROLL, K.INPUT), None, None),
                                    (None, some, None), ((K.MOVE,), SessionFilter(device=("desktop",)), ("x", "y")),
                                    ((K.CLICK, K.MOVE), None, ("t", "x"))):
            ev, sids, pvs = cap.snapshot_events(snap, kinds, flt, columns=columns)
            ev1, sids1, pvs1 = _via_blobs(cap, snap, kinds, flt)
            assert len(ev) == len(ev1) > 0
            for name, _ in COLUMNS:
                if columns is None or name in columns or name == "kind":
                    np.testing.assert_array_equal(getattr(ev, name), getattr(ev1, name), err_msg=name)
            np.testing.assert_array_equal(sids, sids1)
            np.testing.assert_array_equal(pvs, pvs1)
            ev2, sids2, none = cap.snapshot_events(snap, kinds, flt, columns=columns, with_pageviews=False)
            assert none is None
            np.testing.assert_array_equal(sids2, sids1)
            np.testing.assert_array_equal(ev2.x, ev.x)
        assert cap.damaged_events == 0


def test_one_chunk_is_read_without_a_copy(demo):
    snap = demo.snapshots()[0].snapshot_id
    assert demo._query("SELECT count(*) FROM event_chunks WHERE snapshot_id = ? AND kind = ?",
                       (snap, int(K.CLICK)))[0][0] == 1
    ev, sids, _ = demo.snapshot_events(snap, (K.CLICK,), columns=("x", "y"), with_pageviews=False)
    assert len(ev) > 100
    assert not ev.x.flags.owndata and not ev.x.flags.writeable   # a view of the BLOB read


def test_a_damaged_chunk_among_many_is_skipped_and_counted(small_chunks, tmp_path):
    import shutil

    path = tmp_path / "d.sqlite"
    shutil.copyfile(small_chunks, path)
    con = sqlite3.connect(path)
    cid, n = con.execute("SELECT chunk_id, n FROM event_chunks WHERE snapshot_id = 1 AND kind = ? "
                         "ORDER BY chunk_id LIMIT 1 OFFSET 3", (int(K.MOVE),)).fetchone()
    before = con.execute("SELECT sum(n) FROM event_chunks WHERE snapshot_id = 1 AND kind = ? AND chunk_id < ?",
                         (int(K.MOVE), cid)).fetchone()[0]
    con.execute("UPDATE event_chunks SET y = zeroblob(5) WHERE chunk_id = ?", (cid,))
    con.commit()
    con.close()
    with open_capture(small_chunks) as good, open_capture(path) as bad:
        ev, sids, pvs = good.snapshot_events(1, (K.MOVE,))
        ev2, sids2, pvs2 = bad.snapshot_events(1, (K.MOVE,))
        assert bad.damaged_events == n > 0
        keep = np.ones(len(ev), dtype=bool)
        keep[before:before + n] = False   # exactly that chunk's rows are missing
        for name, _ in COLUMNS:
            np.testing.assert_array_equal(getattr(ev, name)[keep], getattr(ev2, name))
        np.testing.assert_array_equal(pvs[keep], pvs2)


def test_the_writer_packs_columns_and_bytes_alike(tmp_path):
    rng = np.random.default_rng(5)

    def events(n):
        return EventColumns.from_arrays(np.sort(rng.integers(0, 9000, n)), rng.choice([0, 1, 3, 7, 12], n),
                                        rng.integers(0, 800, n), rng.integers(0, 3000, n),
                                        rng.integers(-1, 3, n), rng.integers(0, 50, n))

    given = []
    with CaptureWriter.create(tmp_path / "w.sqlite") as w:
        page = w.add_page("https://x.test/")
        a = w.add_snapshot(page, "desktop", 800, 3000, None, elements=[{"selector": f"#e{i}", "x": 0, "y": 0,
                                                                         "w": 10, "h": 10} for i in range(3)])
        b = w.add_snapshot(page, "mobile", 400, 3000, None, elements=[{"selector": f"#e{i}", "x": 0, "y": 0,
                                                                        "w": 10, "h": 10} for i in range(3)])
        for i in range(40):
            pvs = []
            for j in range(1 + i % 3):
                ev = events(int(rng.integers(0, 60)))
                given.append(ev)
                # packed bytes (as demo workers send them) and columns, mixed within one flush
                pvs.append({"page_id": page, "snapshot_id": (a, b)[(i + j) % 2], "start_ms": 0, "end_ms": 10_000,
                            "events": ev.pack() if (i + j) % 3 == 0 else ev})
            w.add_session({"start_ms": 1_700_000_000_000, "device": "desktop", "viewport_w": 800,
                           "viewport_h": 600, "converted": i % 2 == 0}, pvs)
    with open_capture(tmp_path / "w.sqlite") as cap:
        got = [cap.pageview_events(pv) for pv in range(1, len(given) + 1)]
        for ev, back in zip(given, got):
            for name, _ in COLUMNS:
                np.testing.assert_array_equal(getattr(back, name), getattr(ev, name))
        for snap in (a, b):
            ev, sids, pvs = cap.snapshot_events(snap)
            ev1, sids1, pvs1 = _via_blobs(cap, snap)
            assert len(ev) == len(ev1) > 0
            for name, _ in COLUMNS:
                np.testing.assert_array_equal(getattr(ev, name), getattr(ev1, name))
            np.testing.assert_array_equal(pvs, pvs1)
        table = cap.session_table(order_by="session_id")
        assert table["converted"].tolist() == [1, 0] * 20
        assert table["pageview_count"].tolist() == [1 + i % 3 for i in range(40)]
        indexes = {r[0] for r in cap._query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"pageviews_snapshot_session", "pageviews_session", "sessions_start"} <= indexes   # built at close


def test_a_session_without_a_required_column_is_refused(tmp_path):
    w = CaptureWriter.create(tmp_path / "w.sqlite")
    try:
        with pytest.raises(KeyError, match="viewport_h"):
            w.add_session({"start_ms": 0, "device": "desktop", "viewport_w": 800}, [])
    finally:
        w.abort()


def _sql_log(cap) -> list[str]:
    log: list[str] = []
    cap._con.set_trace_callback(log.append)
    return log


def test_the_first_click_map_reads_no_session_or_pageview_row_and_equals_the_general_path(demo):
    for snap in demo.snapshots():
        first = HeatmapEngine(demo)
        log = _sql_log(demo)
        r1 = first.compute(snap.snapshot_id, "click")
        demo._con.set_trace_callback(None)
        reads = [q for q in log if " FROM sessions" in q or (" FROM pageviews" in q and "INDEXED BY" not in q)]
        assert reads == []
        general = HeatmapEngine(demo)
        general.compute(snap.snapshot_id, "click", SessionFilter(device=("mobile",)))   # loads the rows
        log = _sql_log(demo)
        r2 = general.compute(snap.snapshot_id, "click")
        demo._con.set_trace_callback(None)
        assert not any("event_chunks" in q for q in log)   # took the loaded data: the general path
        np.testing.assert_array_equal(r1.counts, r2.counts)
        np.testing.assert_array_equal(r1.grid, r2.grid)
        assert r1.sample == r2.sample and r1.coverage == r2.coverage
    assert r1.sample.sessions > 0


def test_the_first_click_map_of_a_page_group_with_several_widths(tmp_path):
    """Two desktop widths of one page: sessions counted once across them, per width, and the
    clicks of the other width projected onto the chosen screenshot, as the general path does."""
    rng = np.random.default_rng(9)
    els = [{"selector": "#buy", "x": 100, "y": 100, "w": 200, "h": 50}, {"selector": "#gone", "x": 10, "y": 400,
                                                                         "w": 100, "h": 40}]
    with CaptureWriter.create(tmp_path / "g.sqlite") as w:
        page = w.add_page("https://x.test/")
        wide = w.add_snapshot(page, "desktop", 1440, 3000, None, elements=els)
        narrow = w.add_snapshot(page, "desktop", 1280, 3000, None,
                                elements=[els[0], {"selector": "#narrow-only", "x": 10, "y": 900, "w": 90, "h": 30}])
        for i in range(120):
            pvs = []
            for snap in ((wide,), (narrow,), (wide, narrow))[i % 3]:
                n = 12
                ev = EventColumns.from_arrays(np.arange(n) * 100, np.full(n, int(K.CLICK)), rng.integers(0, 1280, n),
                                              rng.integers(0, 3000, n), rng.integers(-1, 2, n))
                pvs.append({"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 5000, "events": ev})
            w.add_session({"start_ms": 1_700_000_000_000, "device": "desktop", "viewport_w": 1440,
                           "viewport_h": 900}, pvs)
    with open_capture(tmp_path / "g.sqlite") as cap:
        r1 = HeatmapEngine(cap).compute(wide, "click")
        general = HeatmapEngine(cap)
        general.compute(wide, "click", SessionFilter(device=("desktop",)))
        r2 = general.compute(wide, "click")
        assert r1.sample == r2.sample and r1.sample.sessions == 120 and r1.sample.pageviews == 160
        assert r1.coverage == r2.coverage and r1.coverage.widths == ((1280, 80), (1440, 80))
        assert r1.coverage.unmatched > 0 and r1.coverage.unmatched_elements[0][:2] == ("#narrow-only", 1280)
        np.testing.assert_array_equal(r1.counts, r2.counts)
        np.testing.assert_array_equal(r1.grid, r2.grid)
        rows = [(s.snapshot_id, n) for s, n in HeatmapEngine(cap).screenshots((page,), "desktop")]
        assert rows == [(narrow, 80), (wide, 80)]   # equal counts: the narrower first
        assert rows == [(s.snapshot_id, n) for s, n in
                        HeatmapEngine(cap).screenshots((page,), "desktop", SessionFilter(device=("desktop",)))]


def test_a_capture_without_the_index_takes_the_general_path(demo_copy, demo_master):
    con = sqlite3.connect(demo_copy)
    con.execute("DROP INDEX pageviews_snapshot_session")
    con.execute("CREATE INDEX pageviews_snapshot ON pageviews(snapshot_id)")   # as written before the index
    con.commit()
    con.close()
    with open_capture(demo_copy) as old, open_capture(demo_master) as new:
        assert old.snapshot_view_counts([1]) is None and new.snapshot_view_counts([1]) is not None
        r1, r2 = HeatmapEngine(old).compute(1, "click"), HeatmapEngine(new).compute(1, "click")
        assert r1.sample == r2.sample and r1.coverage == r2.coverage and r1.sample.sessions > 0
        np.testing.assert_array_equal(r1.grid, r2.grid)
        for name, col in old.snapshot_pageview_columns(1).items():
            np.testing.assert_array_equal(col, new.snapshot_pageview_columns(1)[name])


def test_signals_computed_a_batch_of_sessions_at_a_time_equal_all_at_once(demo, monkeypatch):
    from dataclasses import fields

    from hindsight.analytics import signals

    for flt in (None, SessionFilter(device=("mobile",))):
        monkeypatch.setattr(signals, "SIGNAL_BATCH_SESSIONS", 10**9)
        whole = signals.compute_signals(demo, flt=flt)
        monkeypatch.setattr(signals, "SIGNAL_BATCH_SESSIONS", 137)   # 2,000 sessions: 15 batches
        log = _sql_log(demo)
        batched = signals.compute_signals(demo, flt=flt)
        demo._con.set_trace_callback(None)
        assert sum("BETWEEN" in q for q in log) >= 5   # really read in batches
        assert len(whole) > 100
        for f in fields(whole):
            np.testing.assert_array_equal(getattr(batched, f.name), getattr(whole, f.name), err_msg=f.name)


def test_packed_events_that_are_not_whole_records_are_refused_when_added(tmp_path):
    w = CaptureWriter.create(tmp_path / "w.sqlite")
    try:
        page = w.add_page("https://x.test/")
        snap = w.add_snapshot(page, "desktop", 800, 3000, None)
        with pytest.raises(ValueError, match="not whole 19-byte records"):
            w.add_session({"start_ms": 0, "device": "desktop", "viewport_w": 800, "viewport_h": 600},
                          [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 10, "events": b"x" * 20}])
    finally:
        w.abort()

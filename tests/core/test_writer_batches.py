"""The writer's batched flush (issue 15, capture writes >= 5M events/s): the numpy half on a
helper thread gives the same file as inline, the session-list copy gathered from the inserted
rows equals the one read back from SQL (and falls back to SQL when the rows are not plain), a
batch's all-default session columns are left to SQL's DEFAULT, and errors on either thread
surface from the call that flushed, with nothing left running."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from hindsight.store import CaptureWriter, EventColumns, open_capture
from hindsight.store import session_columns
from hindsight.store import writer as writer_mod
from hindsight.store.check import check_capture
from hindsight.store.chunks import CHUNK_COLUMNS
from hindsight.store.reader import SESSION_TABLE_COLUMNS


def _events(rng, n: int, t0: int = 0) -> EventColumns:
    kinds = np.array([0, 1, 3, 7, 11, 12, 15])[rng.integers(0, 7, n)]
    return EventColumns.from_arrays(t0 + np.sort(rng.integers(0, 90_000, n)), kinds, rng.integers(0, 1440, n),
                                    rng.integers(0, 5000, n), np.full(n, -1), rng.integers(0, 2, n))


def _write(path, n_sessions: int, seed: int = 1, **session_extra) -> None:
    """Sessions of 0-3 pageviews over 3 pages x 2 devices, events as columns or packed bytes."""
    rng = np.random.default_rng(seed)
    w = CaptureWriter.create(path)
    snaps = {}
    for p in range(3):
        page = w.add_page(f"https://t.local/{p}")
        for device in ("desktop", "mobile"):
            snaps[(page, device)] = w.add_snapshot(page, device, 1440, 5000, None)
    for s in range(n_sessions):
        device = ("desktop", "mobile")[s % 2]
        pvs, t = [], 0
        for i in range(int(rng.integers(0, 4))):
            page = int(rng.integers(1, 4))
            ev = _events(rng, int(rng.integers(0, 300)), t)
            pvs.append({"page_id": page, "snapshot_id": snaps[(page, device)], "start_ms": t, "end_ms": t + 90_000,
                        "load_ms": int(rng.integers(0, 900)), "events": ev.pack() if i % 2 else ev})
            t += 90_000
        w.add_session({"start_ms": 1_700_000_000_000 + s * 1000, "device": device, "viewport_w": 1440,
                       "viewport_h": 900, "browser": "Firefox" if s % 7 == 0 else "",
                       "country": ("DE", "US", "")[s % 3], "converted": s % 5 == 0, **session_extra}, pvs)
    w.close()


def _dump(path) -> dict[str, list]:
    con = sqlite3.connect(path)
    try:
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("sessions", "pageviews", "event_chunks", "session_columns")}
    finally:
        con.close()


def test_helper_thread_writes_the_same_file_as_inline(tmp_path, monkeypatch):
    # small flushes and chunks: many batches, chunks filled and cut across flushes
    monkeypatch.setattr(writer_mod, "_FLUSH_EVERY", 97)
    monkeypatch.setattr("hindsight.store.chunks.CHUNK_ROWS", 1000)
    _write(tmp_path / "threaded.sqlite", 600)
    monkeypatch.setattr(writer_mod, "THREADED", False)
    _write(tmp_path / "inline.sqlite", 600)
    a, b = _dump(tmp_path / "threaded.sqlite"), _dump(tmp_path / "inline.sqlite")
    assert len(a["sessions"]) == 600 and len(a["pageviews"]) > 500 and len(a["event_chunks"]) > 40
    assert a == b
    assert check_capture(tmp_path / "threaded.sqlite") == []


def test_chunks_hold_every_event_of_the_blobs(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_mod, "_FLUSH_EVERY", 50)
    _write(tmp_path / "c.sqlite", 300, seed=4)
    con = sqlite3.connect(tmp_path / "c.sqlite")
    from hindsight.store.chunks import raw_decode, rle_decode
    from hindsight.store.columns import RECORD_DTYPE
    blobs = {pv: (sid, snap, np.frombuffer(ev, dtype=RECORD_DTYPE))
             for pv, sid, snap, ev in con.execute("SELECT pageview_id, session_id, snapshot_id, events FROM pageviews")}
    seen = 0
    for row in con.execute(f"SELECT snapshot_id, kind, n, {', '.join(CHUNK_COLUMNS)} FROM event_chunks"):
        snap, kind, n = row[:3]
        cols = dict(zip(CHUNK_COLUMNS, row[3:]))
        sess, pv = rle_decode(cols["session_id"], n), rle_decode(cols["pageview_id"], n)
        seq = raw_decode(cols["seq"], "seq", n)
        assert np.all(np.diff(pv) >= 0)
        for name in ("x", "y", "t", "target", "value"):
            got = raw_decode(cols[name], name, n)
            want = np.array([blobs[p][2][name][q] for p, q in zip(pv.tolist(), seq.tolist())])
            np.testing.assert_array_equal(got, want, err_msg=name)
        assert {blobs[p][1] for p in set(pv.tolist())} == {snap}
        assert [blobs[p][0] for p in pv.tolist()] == sess.tolist()
        assert all(blobs[p][2]["kind"][q] == kind for p, q in zip(pv.tolist(), seq.tolist()))
        seen += n
    assert seen == sum(len(r[2]) for r in blobs.values()) > 10_000
    con.close()


def test_session_copy_from_rows_equals_the_copy_read_from_sql(tmp_path):
    path = tmp_path / "s.sqlite"
    _write(path, 400)
    con = sqlite3.connect(path)
    stored = dict(con.execute("SELECT name, data FROM session_columns"))
    from_sql = dict(session_columns.encode(session_columns._sql_table(con)))
    con.close()
    assert stored == from_sql
    assert len(stored) == len(SESSION_TABLE_COLUMNS) + 1
    with open_capture(path) as cap:
        table = cap.session_table(order_by="session_id")
        assert table["browser"][:8].tolist() == ["Firefox", "", "", "", "", "", "", "Firefox"]
        assert table["converted"][:6].tolist() == [1, 0, 0, 0, 0, 1]
        assert session_columns.verify(cap) == []


@pytest.mark.parametrize("odd", [{"viewport_w": 1440.0}, {"viewport_h": True}, {"browser": 7}])
def test_rows_sql_would_change_make_the_copy_read_sql(tmp_path, odd):
    rc = session_columns.RowCopy(writer_mod._SESSION_FIELDS)
    row = {"session_id": 1, "start_ms": 1_700_000_000_000, "device": "desktop", "viewport_w": 1440,
           "viewport_h": 900, "duration_ms": 5, "entry_page_id": None, "exit_page_id": None,
           "pageview_count": 0, "event_count": 0, **writer_mod._SESSION_DEFAULTS}
    rc.add([writer_mod._session_row(row)])
    assert rc.exact and rc.table()["entry_page_id"].tolist() == [-1]
    rc.add([writer_mod._session_row({**row, "session_id": 2, **odd})])
    assert not rc.exact and rc.table() is None
    # and the writer then reads SQL: the copy still equals the table
    path = tmp_path / "odd.sqlite"
    _write(path, 30, **odd)
    with open_capture(path) as cap:
        assert "session_columns" in cap.tables and session_columns.verify(cap) == []
        assert cap.session_table()["event_count"].sum() == cap._query("SELECT sum(event_count) FROM sessions")[0][0]


def test_ids_out_of_order_make_the_copy_read_sql(tmp_path):
    path = tmp_path / "ids.sqlite"
    w = CaptureWriter.create(path)
    for sid in (5, 3, 9):
        w.add_session({"session_id": sid, "start_ms": 1_700_000_000_000, "device": "desktop",
                       "viewport_w": 1, "viewport_h": 1}, [])
    w.close()
    with open_capture(path) as cap:
        assert cap.session_table(order_by="session_id")["session_id"].tolist() == [3, 5, 9]
        assert session_columns.verify(cap) == []


def test_all_default_columns_are_left_to_sql_defaults():
    cols = list(zip(*[writer_mod._session_row({"session_id": i, "start_ms": 1, "device": "d", "viewport_w": 1,
                                                "viewport_h": 1, "duration_ms": 0, "entry_page_id": None,
                                                "exit_page_id": None, "pageview_count": 0, "event_count": 0,
                                                **writer_mod._SESSION_DEFAULTS, "os": "Linux" if i else ""})
                      for i in range(3)]))
    sql, rows = writer_mod._session_insert(cols, [None] * 3)
    assert "os" in sql and "browser" not in sql and "converted" not in sql and "session_id" in sql
    assert [r[sql.split("(")[1].split(")")[0].split(", ").index("os")] for r in rows] == ["", "Linux", "Linux"]


def _small_flush_writer(path, monkeypatch):
    """A writer that flushes every 10 pageviews, with one page and one snapshot."""
    monkeypatch.setattr(writer_mod, "_FLUSH_EVERY", 10)
    w = CaptureWriter.create(path)
    page = w.add_page("https://t.local/")
    return w, page, w.add_snapshot(page, "desktop", 100, 100, None)


def test_an_error_on_the_helper_thread_surfaces_and_the_writer_aborts(tmp_path, monkeypatch):
    path = tmp_path / "bad.sqlite"
    w, page, snap = _small_flush_writer(path, monkeypatch)
    good = EventColumns.from_arrays(np.arange(5), np.zeros(5))
    bad = EventColumns(good.t, good.kind, good.x[:3], good.y, good.target, good.value)  # a short column
    pv = {"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 10}
    with pytest.raises(ValueError):
        with w:
            for i in range(20):
                w.add_session({"start_ms": 1_700_000_000_000, "device": "desktop", "viewport_w": 1, "viewport_h": 1},
                              [{**pv, "events": bad if i == 7 else good}])
    assert w._pool is None   # the helper thread was stopped
    assert not path.exists() and not path.with_name(path.name + ".partial").exists()


def test_an_sql_error_waits_for_the_helper_and_surfaces(tmp_path, monkeypatch):
    path = tmp_path / "dup.sqlite"
    w, page, snap = _small_flush_writer(path, monkeypatch)
    ev = EventColumns.from_arrays(np.arange(50), np.zeros(50))
    with pytest.raises(sqlite3.IntegrityError):
        with w:
            for i in range(20):
                w.add_session({"session_id": 1 + i % 6, "start_ms": 1_700_000_000_000, "device": "desktop",
                               "viewport_w": 1, "viewport_h": 1},
                              [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 10, "events": ev}])
    assert w._pool is None and not path.exists()

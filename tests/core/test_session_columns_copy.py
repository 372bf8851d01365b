"""``Capture.session_columns`` (the heatmap engine's per-session viewport height and pageview
count, read on a map's first filter change) comes from the stored columnar copy of the session
list when it is intact and current: the same arrays SQL gives, sessions appended after the copy
added from SQL, and SQL alone once a change to the table has dropped the copy."""

from __future__ import annotations

import sqlite3

import numpy as np

from hindsight.analytics.heatmap import HeatmapEngine, find_snapshot
from hindsight.store import SessionFilter, open_capture
from hindsight.store.columns import EventColumns
from hindsight.store.reader import Capture
from hindsight.store.writer import CaptureWriter

NAMES = ("viewport_h", "pageview_count", "entry_page_id", "start_ms", "converted")


def _sql(path, names=NAMES):
    with open_capture(path) as cap:
        cap.tables.discard("session_columns")   # the copy hidden: what SQL alone gives
        return cap.session_columns(names)


def _read(path, monkeypatch, names=NAMES):
    """session_columns with the copy, and the WHERE of each SQL read of the sessions table it made."""
    calls = []
    real = Capture._session_columns_sql
    monkeypatch.setattr(Capture, "_session_columns_sql",
                        lambda self, n, where="", params=(): calls.append(where) or real(self, n, where, params))
    with open_capture(path) as cap:
        out = cap.session_columns(names)
    monkeypatch.setattr(Capture, "_session_columns_sql", real)
    return out, calls


def _assert_same(a, b):
    assert list(a) == list(b) == ["session_id", *NAMES]
    for name in a:
        assert a[name].dtype == b[name].dtype == np.int64, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_columns_come_from_the_copy_and_equal_sql(demo_copy, monkeypatch):
    got, calls = _read(demo_copy, monkeypatch)
    assert calls == ["WHERE session_id > ?"]   # only the (empty) tail after the copy from SQL
    want = _sql(demo_copy)
    _assert_same(got, want)
    assert got["session_id"].size == 2000 and np.all(np.diff(got["session_id"]) > 0)
    assert got["viewport_h"].min() > 0 and got["pageview_count"].min() >= 1


def test_handed_out_arrays_are_copies(demo_copy):
    with open_capture(demo_copy) as cap:
        first = cap.session_columns(("viewport_h",))
        first["viewport_h"][:] = -5
        assert cap.session_columns(("viewport_h",))["viewport_h"].min() > 0


def test_sessions_appended_after_the_copy_are_added_from_sql(demo_copy, monkeypatch):
    with open_capture(demo_copy) as cap:
        page_id, snap_id = cap._query("SELECT page_id, snapshot_id FROM pageviews LIMIT 1")[0]
    w = CaptureWriter.append(demo_copy)
    ev = EventColumns.from_arrays(np.array([0, 500]), np.array([0, 1]), np.array([10, 20]), np.array([40, 50]))
    new = [w.add_session({"start_ms": 1_900_000_000_000 + i, "device": "tablet", "viewport_w": 800,
                          "viewport_h": 1234 + i},
                         [{"page_id": page_id, "snapshot_id": snap_id, "start_ms": 0, "end_ms": 900, "events": ev}])
           for i in range(3)]
    w.close()   # 3 appended sessions: fewer than REFRESH_TAIL, so the copy is kept as it was
    got, calls = _read(demo_copy, monkeypatch)
    assert calls == ["WHERE session_id > ?"]
    _assert_same(got, _sql(demo_copy))
    assert got["session_id"][-3:].tolist() == new and got["viewport_h"][-3:].tolist() == [1234, 1235, 1236]


def test_a_changed_table_is_read_from_sql(demo_copy, monkeypatch):
    con = sqlite3.connect(demo_copy)
    with con:
        con.execute("UPDATE sessions SET viewport_h = 777 WHERE session_id = (SELECT min(session_id) FROM sessions)")
    con.close()
    got, calls = _read(demo_copy, monkeypatch)
    assert calls == [""]   # the trigger dropped the copy: the whole table from SQL
    assert got["viewport_h"][0] == 777
    _assert_same(got, _sql(demo_copy))


def test_filtered_click_map_is_the_same_with_and_without_the_copy(demo_copy):
    maps = []
    for hide in (False, True):
        with open_capture(demo_copy) as cap:
            if hide:
                cap.tables.discard("session_columns")
            snap = find_snapshot(cap, cap.pages()[0].url, "desktop")
            engine = HeatmapEngine(cap)
            engine.compute(snap.snapshot_id, "click")
            res = engine.compute(snap.snapshot_id, "click", SessionFilter(device=("desktop",), converted=True))
            maps.append((res.counts.copy(), res.sample))
    np.testing.assert_array_equal(maps[0][0], maps[1][0])
    assert maps[0][1] == maps[1][1] and maps[0][0].sum() > 0

"""The columnar copy of the session list (``store/session_columns.py``, issue 15): used when it
is intact and current, topped up with sessions appended after it, dropped by an erase, and
never trusted when damaged (``hindsight check`` says so)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from hindsight.erase import erase
from hindsight.store import SessionFilter, open_capture
from hindsight.store import session_columns
from hindsight.store.check import check_capture
from hindsight.store.columns import EventColumns
from hindsight.store.reader import SESSION_TABLE_COLUMNS
from hindsight.store.writer import CaptureWriter

FILTERS = [None, SessionFilter(device=("mobile",)), SessionFilter(converted=True, min_duration_s=20),
           SessionFilter(country=("DE", "US"), source=("paid",))]


def _sql_table(path, flt=None, order_by="start_ms"):
    """The same list read with the copy hidden: what SQL alone gives."""
    with open_capture(path) as cap:
        cap.tables.discard("session_columns")
        return cap.session_table(flt, order_by=order_by)


def _assert_same(a, b):
    assert a.keys() == b.keys() == set(SESSION_TABLE_COLUMNS)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].tolist() == b[name].tolist(), name


def _copy_rows(path) -> dict[str, bytes]:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, data FROM session_columns").fetchall())
    finally:
        con.close()


def _uses_copy(path, monkeypatch) -> bool:
    """Whether session_table reads the copy (no full SQL read of the sessions table)."""
    from hindsight.store.reader import Capture
    calls = []
    real = Capture._session_columns
    monkeypatch.setattr(Capture, "_session_columns", lambda self, w, p: calls.append(w) or real(self, w, p))
    with open_capture(path) as cap:
        cap.session_table()
    monkeypatch.setattr(Capture, "_session_columns", real)
    return calls == ["s.session_id > ?"]


def _append(path, n: int) -> list[int]:
    with open_capture(path) as cap:
        pv = cap._query("SELECT page_id, snapshot_id FROM pageviews LIMIT 1")[0]
    w = CaptureWriter.append(path)
    ids = []
    for i in range(n):
        ev = EventColumns.from_arrays(np.array([0, 500, 900]), np.array([0, 1, 0]), np.array([10, 20, 30]),
                                      np.array([40, 50, 60]))
        ids.append(w.add_session({"start_ms": 1_900_000_000_000 + i, "device": "tablet", "browser": "Lynx",
                                  "country": "ZZ", "viewport_w": 800, "viewport_h": 1000, "converted": 1},
                                 [{"page_id": pv[0], "snapshot_id": pv[1], "start_ms": 0, "end_ms": 900,
                                   "events": ev}]))
    w.close()
    return ids


def test_demo_capture_carries_a_copy_that_lists_exactly_what_sql_lists(demo_master, monkeypatch):
    rows = _copy_rows(demo_master)
    stamp = json.loads(rows[""])
    assert stamp["rows"] == 2000 and set(rows) == {""} | set(SESSION_TABLE_COLUMNS)
    # narrow storage: 2,000 sessions' device codes in one byte each
    assert len(rows["device"]) == 2000 and len(rows["start_ms"]) == 2000 * 8
    assert _uses_copy(demo_master, monkeypatch)
    for flt in FILTERS:
        with open_capture(demo_master) as cap:
            listed = cap.session_table(flt, order_by="-duration_ms")
        _assert_same(listed, _sql_table(demo_master, flt, order_by="-duration_ms"))
    assert check_capture(demo_master) == []


def test_sessions_appended_after_the_copy_are_read_from_sql(demo_copy, monkeypatch):
    new = _append(demo_copy, 3)
    assert json.loads(_copy_rows(demo_copy)[""])["rows"] == 2000   # 3 behind: not rewritten
    assert _uses_copy(demo_copy, monkeypatch)
    with open_capture(demo_copy) as cap:
        table = cap.session_table(order_by="session_id")
        assert table["session_id"][-3:].tolist() == new and len(table["session_id"]) == 2003
        assert table["browser"][-1] == "Lynx" and table["device"][-1] == "tablet"
        tablets = cap.session_table(SessionFilter(device=("tablet",), country=("ZZ",)))
    assert tablets["session_id"].tolist() == new
    for flt in FILTERS + [SessionFilter(device=("tablet",))]:
        with open_capture(demo_copy) as cap:
            _assert_same(cap.session_table(flt), _sql_table(demo_copy, flt))
    assert check_capture(demo_copy) == []


def test_many_appended_sessions_rewrite_the_copy(demo_copy, monkeypatch):
    monkeypatch.setattr(session_columns, "REFRESH_TAIL", 2)
    _append(demo_copy, 3)
    assert json.loads(_copy_rows(demo_copy)[""])["rows"] == 2003
    _assert_same(open_capture(demo_copy).session_table(), _sql_table(demo_copy))


def test_erase_drops_the_copy_and_the_list_is_read_from_sql(demo_copy, monkeypatch):
    with open_capture(demo_copy) as cap:
        before = cap.session_table(order_by="session_id")
    victims = before["session_id"][[5, 6, 700]].tolist()
    erase(demo_copy, victims)
    assert _copy_rows(demo_copy) == {}   # the erased sessions' metadata is gone from the copy too
    assert not _uses_copy(demo_copy, monkeypatch)
    with open_capture(demo_copy) as cap:
        after = cap.session_table(order_by="session_id")
    assert len(after["session_id"]) == 1997 and not set(victims) & set(after["session_id"].tolist())
    _assert_same(after, _sql_table(demo_copy, order_by="session_id"))


def test_a_row_changed_behind_the_writer_drops_the_copy(demo_copy):
    con = sqlite3.connect(demo_copy)
    sid = con.execute("SELECT session_id FROM sessions LIMIT 1 OFFSET 9").fetchone()[0]
    con.execute("UPDATE sessions SET device = 'watch' WHERE session_id = ?", (sid,))
    con.commit()
    con.close()
    assert _copy_rows(demo_copy) == {}
    with open_capture(demo_copy) as cap:
        assert cap.session_table(SessionFilter(device=("watch",)))["session_id"].tolist() == [sid]


def test_a_row_deleted_past_the_trigger_fails_the_stamp(demo_copy):
    """A tool that drops the trigger and deletes a row leaves the copy in place, but 1,999 rows
    up to the stamped largest id instead of 2,000: the copy is not used, and check says so."""
    con = sqlite3.connect(demo_copy)
    con.execute("DROP TRIGGER session_columns_on_delete")   # a tool that bypasses the trigger
    ids = [r[0] for r in con.execute("SELECT session_id FROM sessions ORDER BY session_id LIMIT 2")]
    con.execute("DELETE FROM sessions WHERE session_id = ?", (ids[1],))
    con.commit()
    con.close()
    assert _copy_rows(demo_copy)   # still there, but stale: 1,999 rows up to its largest id
    with open_capture(demo_copy) as cap:
        listed = cap.session_table(order_by="session_id")
    assert ids[1] not in listed["session_id"].tolist() and len(listed["session_id"]) == 1999
    problems = check_capture(demo_copy)
    assert any("session_columns" in p and "does not match" in p for p in problems), problems


@pytest.mark.parametrize("damage", ["crc", "length", "stamp", "codes", "missing"])
def test_a_damaged_copy_is_ignored_and_reported_by_check(demo_copy, damage, monkeypatch):
    rows = _copy_rows(demo_copy)
    con = sqlite3.connect(demo_copy)
    con.execute("DROP TRIGGER session_columns_on_update")
    if damage == "crc":   # one duration changed: same length, checksum no longer matches
        arr = np.frombuffer(rows["duration_ms"], dtype=json.loads(rows[""])["columns"]["duration_ms"]["dtype"]).copy()
        arr[3] += 1
        con.execute("UPDATE session_columns SET data = ? WHERE name = 'duration_ms'", (arr.tobytes(),))
    elif damage == "length":
        con.execute("UPDATE session_columns SET data = ? WHERE name = 'start_ms'", (rows["start_ms"][:-8],))
    elif damage == "stamp":
        con.execute("UPDATE session_columns SET data = ? WHERE name = ''", (b"{not json",))
    elif damage == "codes":   # codes past the string table, checksum made to match
        stamp = json.loads(rows[""])
        info = stamp["columns"]["country"]
        bad = np.full(2000, 120, dtype=info["dtype"]).tobytes()
        import zlib
        info["crc"] = zlib.crc32(bad)
        con.execute("UPDATE session_columns SET data = ? WHERE name = 'country'", (bad,))
        con.execute("UPDATE session_columns SET data = ? WHERE name = ''", (json.dumps(stamp).encode(),))
    else:
        con.execute("DELETE FROM session_columns WHERE name = 'os'")
    con.commit()
    con.close()
    assert not _uses_copy(demo_copy, monkeypatch)
    with open_capture(demo_copy) as cap:
        listed = cap.session_table()
    _assert_same(listed, _sql_table(demo_copy))
    problems = check_capture(demo_copy)
    assert len(problems) == 1 and "session_columns (copy of the session list) is damaged" in problems[0], problems


def test_a_capture_without_a_copy_lists_from_sql(demo_copy):
    con = sqlite3.connect(demo_copy)
    con.execute("DROP TABLE session_columns")
    con.commit()
    con.close()
    with open_capture(demo_copy) as cap:
        assert "session_columns" not in cap.tables
        _assert_same(cap.session_table(), _sql_table(demo_copy))
    assert check_capture(demo_copy) == []


def test_upgrade_writes_the_copy(tmp_path, monkeypatch):
    from pathlib import Path

    from hindsight.store.upgrade import upgrade_capture

    v1 = Path(__file__).parent.parent / "data" / "capture_v1" / "demo80_v1.sqlite"
    new = tmp_path / "v2.sqlite"
    upgrade_capture(v1, new)
    assert json.loads(_copy_rows(new)[""])["rows"] == 80
    assert _uses_copy(new, monkeypatch)
    _assert_same(open_capture(new).session_table(), _sql_table(new))
    assert check_capture(new) == []

"""``Capture.session_table``: columns read in chunks, text as shared category strings (issue 15)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from hindsight.store import SessionFilter, open_capture
from hindsight.store import reader as reader_mod
from hindsight.store.errors import CaptureError


def test_text_columns_share_one_string_per_distinct_value(demo):
    table = demo.session_table()
    for name in ("device", "browser", "os", "country", "source"):
        col = table[name]
        assert col.dtype == object and len(col) == demo.session_count()
        assert len({id(v) for v in col}) == len(set(col.tolist())) <= 64   # cells point into a lookup
    rows = demo._query("SELECT session_id, device, browser FROM sessions ORDER BY session_id")
    order = np.argsort(table["session_id"])
    assert table["device"][order].tolist() == [r[1] for r in rows]
    assert table["browser"][order].tolist() == [r[2] for r in rows]


def test_chunked_read_matches_one_chunk(demo, monkeypatch):
    whole = demo.session_table(SessionFilter(device=("mobile",)), order_by="-event_count")
    monkeypatch.setattr(reader_mod, "_SESSION_CHUNK", 7)
    chunked = demo.session_table(SessionFilter(device=("mobile",)), order_by="-event_count")
    assert whole.keys() == chunked.keys()
    for name in whole:
        assert whole[name].tolist() == chunked[name].tolist(), name
    assert np.all(np.diff(whole["event_count"]) <= 0)


def test_damaged_text_and_number_name_the_row(demo_master, tmp_path, monkeypatch):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(demo_master.read_bytes())
    con = sqlite3.connect(path)
    sid = con.execute("SELECT session_id FROM sessions ORDER BY session_id LIMIT 1 OFFSET 20").fetchone()[0]
    con.execute("UPDATE sessions SET browser = ? WHERE session_id = ?", (b"\x00bin", sid))
    con.commit()
    con.close()
    monkeypatch.setattr(reader_mod, "_SESSION_CHUNK", 8)
    with open_capture(path) as cap, pytest.raises(CaptureError, match=f"sessions row {sid}: browser"):
        cap.session_table()
    con = sqlite3.connect(path)
    con.execute("UPDATE sessions SET browser = 'Chrome', duration_ms = 'long' WHERE session_id = ?", (sid,))
    con.commit()
    con.close()
    with open_capture(path) as cap, pytest.raises(CaptureError, match=f"duration_ms.*{sid}|{sid}.*duration_ms"):
        cap.session_table()

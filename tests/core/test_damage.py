"""Damaged captures: damaged events are dropped and counted, damaged rows give one CaptureError
line, absurd sizes are refused before allocating, and ``hindsight check`` lists every problem."""

from __future__ import annotations

import sqlite3
import struct
import time
import tracemalloc

import numpy as np
import pytest

from hindsight.analytics.signals import compute_signals
from hindsight.store import open_capture
from hindsight.store.columns import BYTES_PER_EVENT, EventColumns
from hindsight.store.validate import event_damage
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_capture_fuzz import run_cli  # noqa: E402


def _pageview(path, min_events=40):
    con = sqlite3.connect(path)
    row = con.execute("SELECT pageview_id, session_id, events FROM pageviews WHERE event_count >= ? "
                      "ORDER BY pageview_id LIMIT 1", (min_events,)).fetchone()
    con.close()
    return row


def _set_events(path, pageview_id, blob) -> None:
    con = sqlite3.connect(path)
    con.execute("UPDATE pageviews SET events = ? WHERE pageview_id = ?", (blob, pageview_id))
    con.commit()
    con.close()


def _sql(path, *statements) -> None:
    con = sqlite3.connect(path)
    for s in statements:
        con.execute(s)
    con.commit()
    con.close()


def test_probe_payloads_are_dropped_counted_and_leave_the_rest(demo_copy):
    pid, sid, blob = _pageview(demo_copy)
    with open_capture(demo_copy) as cap:
        clean = cap.pageview_events(pid)
    rec = bytearray(blob)
    # the probe's payloads: kind 200, target 32767, x = 2^31 (wraps to -2^31), t = 0xFFFFFFFF
    rec[3 * BYTES_PER_EVENT + 4] = 200
    rec[5 * BYTES_PER_EVENT + 13:5 * BYTES_PER_EVENT + 15] = struct.pack("<h", 32767)
    rec[7 * BYTES_PER_EVENT + 5:7 * BYTES_PER_EVENT + 9] = struct.pack("<I", 2**31)
    rec[9 * BYTES_PER_EVENT:9 * BYTES_PER_EVENT + 4] = struct.pack("<I", 0xFFFFFFFF)
    _set_events(demo_copy, pid, bytes(rec))

    with open_capture(demo_copy) as cap:
        assert cap.damaged_events == 0
        events = cap.pageview_events(pid)
        assert cap.damaged_events == 4
        assert len(events) == len(clean) - 4
        keep = np.ones(len(clean), dtype=bool)
        keep[[3, 5, 7, 9]] = False
        np.testing.assert_array_equal(events.t, clean.t[keep])
        np.testing.assert_array_equal(events.x, clean.x[keep])
        # reading the same pageview again (here with its session) does not count it twice
        _, in_session, _ = cap.session_events(sid)
        assert cap.damaged_events == 4
        assert np.isin(clean.t[~keep], in_session.t).sum() < 4


def test_events_out_of_order_are_sorted_not_dropped_and_check_reports_them(demo_copy):
    pid, _, blob = _pageview(demo_copy)
    rec = bytearray(blob)
    a, b = 4 * BYTES_PER_EVENT, 6 * BYTES_PER_EVENT   # swap the times of events 4 and 6
    ta, tb = rec[a:a + 4], rec[b:b + 4]
    assert struct.unpack("<I", ta)[0] < struct.unpack("<I", tb)[0]
    rec[a:a + 4], rec[b:b + 4] = tb, ta
    _set_events(demo_copy, pid, bytes(rec))
    with open_capture(demo_copy) as cap:
        ev = cap.pageview_events(pid)
        assert cap.damaged_events == 0 and len(ev) == len(blob) // BYTES_PER_EVENT
        assert np.all(np.diff(ev.t.astype(np.int64)) >= 0)
    code, out, _ = run_cli(["check", str(demo_copy)])
    assert code == 2
    assert out.strip() == f"{demo_copy}: pageview {pid}: events out of time order (they are sorted when read)"


def test_event_damage_marks_each_rule():
    n = 8
    t = np.array([0, 10, 20, 30, 40, 50, 60, 0xFFFFFFFF], dtype=np.uint32)
    kind = np.array([0, 200, 0, 0, 7, 9, 0, 0], dtype=np.uint8)
    x = np.array([0, 0, -2**31, 0, 0, 0, 0, 0], dtype=np.int32)
    target = np.array([-1, -1, -1, 32767, -1, -1, 4, -1], dtype=np.int16)
    value = np.array([0, 0, 0, 0, -3, 77, 0, 0], dtype=np.int32)
    limits = {"n_elements": np.array([5]), "width": np.array([1000]), "height": np.array([1000]),
              "start": np.array([0]), "end": np.array([10_000])}
    bad = event_damage(t, kind, x, np.zeros(n, np.int32), target, value, np.zeros(n, np.int64), limits,
                       np.array([1, 2, 3]))
    # kind 200, x = -2^31, target 32767, negative input length, missing string 77, t = 0xFFFFFFFF
    assert np.flatnonzero(bad).tolist() == [1, 2, 3, 4, 5, 7]
    ok = event_damage(t[:7], np.zeros(7, np.uint8), np.zeros(7, np.int32), np.zeros(7, np.int32),
                      np.full(7, 4, np.int16), np.zeros(7, np.int32), np.zeros(7, np.int64), limits)
    assert ok is None


def test_signals_of_a_damaged_capture_report_the_skipped_events(demo_copy):
    pid, sid, blob = _pageview(demo_copy)
    rec = bytearray(blob)
    for j in range(5):
        rec[j * BYTES_PER_EVENT + 4] = 200
    _set_events(demo_copy, pid, bytes(rec))
    code, out, err = run_cli(["signals", str(demo_copy), "--json"])
    assert code == 0
    assert err.strip() == (f"hindsight: warning: {demo_copy}: 5 damaged events skipped "
                           f"('hindsight check {demo_copy}' lists them)")
    with open_capture(demo_copy) as cap:
        table = compute_signals(cap)
        assert len(table) > 0 and cap.damaged_events == 5


@pytest.mark.parametrize("statement, command, message", [
    ("UPDATE pageviews SET event_count = -253300 WHERE pageview_id = 1", ["info"],
     "is damaged: 1 pageview(s) with an impossible event_count"),
    ("UPDATE sessions SET duration_ms = -5 WHERE session_id = 3", ["sessions"],
     "is damaged: sessions row 3: duration_ms is -5, outside 0..4,294,967,295"),
    ("UPDATE sessions SET viewport_h = 'tall' WHERE session_id = 2", ["sessions"],
     "is damaged: sessions row 2: viewport_h is 'tall', not a whole number"),
    ("UPDATE pageviews SET snapshot_id = 999 WHERE pageview_id = 4", ["signals"],
     "is damaged: pageview 4 refers to snapshot 999, which does not exist"),
    ("UPDATE pageviews SET start_ms = 9000, end_ms = 8000 WHERE pageview_id = 4", ["signals"],
     "is damaged: pageview 4 ends (8,000 ms) before it starts (9,000 ms)"),
    ("UPDATE elements SET x = 'left' WHERE snapshot_id = 1 AND idx = 0", ["signals"],
     "is damaged: elements of snapshot 1: x is 'left', not a whole number"),
    ("UPDATE snapshots SET image = X'89504E470D0A1A0A0000' WHERE snapshot_id = 1",
     ["heatmap", "--page", "https://demo.hindsight.local/", "--kind", "click", "-o", "OUT"],
     "is damaged: snapshot 1's image is not an image format Hindsight reads"),
])
def test_damaged_rows_give_one_line_and_exit_2(demo_copy, tmp_path, statement, command, message):
    _sql(demo_copy, statement)
    argv = [command[0], str(demo_copy), *[str(tmp_path / "o.png") if a == "OUT" else a for a in command[1:]]]
    code, out, err = run_cli(argv)
    assert code == 2, (out, err)
    assert err.startswith(f"hindsight: error: {demo_copy}: {message}"), err
    assert err.count("\n") == 1


def test_absurd_snapshot_height_is_refused_before_allocating(demo_copy, tmp_path):
    _sql(demo_copy, "UPDATE snapshots SET height = 1000000000")
    tracemalloc.start()
    t = time.perf_counter()
    code, _, err = run_cli(["heatmap", str(demo_copy), "--page", "https://demo.hindsight.local/", "--kind",
                            "scroll", "-o", str(tmp_path / "s.png")])
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2
    assert "snapshot 1 has an impossible height of 1,000,000,000 px (1..200,000)" in err
    assert peak < 200 * 2**20 and elapsed < 30


def test_largest_allowed_page_stays_bounded(demo_copy, tmp_path):
    """A page at the size limits (1,440 x 34,000 px, 49M px) computes its scroll map in bounded memory."""
    _sql(demo_copy, "UPDATE snapshots SET height = 34000, image = NULL WHERE snapshot_id = 1")
    tracemalloc.start()
    code, out, err = run_cli(["heatmap", str(demo_copy), "--page", "https://demo.hindsight.local/",
                              "--kind", "scroll", "--json"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 0, err
    assert peak < 600 * 2**20, peak


def test_check_lists_each_problem_and_exits_2(demo_copy):
    pid, _, blob = _pageview(demo_copy)
    rec = bytearray(blob)
    rec[4] = 200
    _set_events(demo_copy, pid, bytes(rec))
    _sql(demo_copy, "UPDATE sessions SET duration_ms = -5 WHERE session_id = 3",
         "UPDATE pageviews SET snapshot_id = 999 WHERE pageview_id = 7")
    code, out, err = run_cli(["check", str(demo_copy)])
    assert code == 2
    lines = out.strip().splitlines()
    assert any(f"sessions: 1 row(s) whose duration_ms not a whole number in 0..4,294,967,295 (session_id 3)" in ln
               for ln in lines), lines
    assert any("pageviews: 1 row(s) whose snapshot_id refers to a snapshot that does not exist (pageview_id 7)" in ln
               for ln in lines), lines
    assert any(f"pageview {pid}: 1 damaged event (unknown kind 200)" in ln for ln in lines), lines
    assert len(lines) == 3
    assert err.strip() == f"hindsight: error: {demo_copy}: 3 problems found"


def test_check_runs_sqlite_integrity_check(demo_copy):
    con = sqlite3.connect(demo_copy)
    (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sessions_device'").fetchone()
    con.close()
    data = bytearray(demo_copy.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    start = (root - 1) * page
    data[start + 8:start + page] = bytes(page - 8)   # an index page's cells gone: only the index is damaged
    demo_copy.write_bytes(bytes(data))
    code, out, err = run_cli(["check", str(demo_copy)])
    assert code == 2
    assert "SQLite integrity check" in out or "corrupt" in out or "malformed" in out, out[:500]


def test_check_of_a_sound_capture(demo_master):
    code, out, err = run_cli(["check", str(demo_master)])
    assert (code, out.strip(), err) == (0, f"{demo_master}: no problems found", "")


def test_event_columns_unpack_still_strict():
    with pytest.raises(ValueError):
        EventColumns.unpack(b"\0" * (BYTES_PER_EVENT + 1))


def test_capture_error_is_one_line_even_when_sqlite_quotes_a_damaged_schema():
    """SQLite quotes a malformed schema with its line breaks (seen in the slow frame fuzz)."""
    from hindsight.store.errors import CaptureError

    exc = CaptureError("/x/f.sqlite", 'is corrupt: malformed database schema (snapshots) - unrecognized '
                       'token: ""INTEGER NOT NULL,           -- CSS px of the full page\n    height INTEGER\n)')
    text = str(exc)
    assert "\n" not in text and text.startswith("/x/f.sqlite: is corrupt: malformed database schema")
    assert len(str(CaptureError("f", "x" * 5000))) < 320

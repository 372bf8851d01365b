"""The capture store: round trips, the file checks, read-only viewing."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat

import numpy as np
import pytest

from hindsight.store import CaptureError, CaptureWriter, EventColumns, EventKind, SessionFilter, open_capture
from hindsight.store.columns import BYTES_PER_EVENT


def _png(w: int, h: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 200, 200)).save(buf, format="PNG")
    return buf.getvalue()


TINY_PNG = _png(4, 3)


def _events_of_every_kind() -> EventColumns:
    kinds = [int(k) for k in EventKind]
    n = len(kinds)
    return EventColumns.from_arrays(
        t=np.arange(n) * 100 + 5,
        kind=kinds,
        x=np.arange(n) * 10 - 3,          # negative x must survive
        y=np.arange(n) * 1000 + 70_000,   # beyond int16
        target=np.where(np.arange(n) % 2 == 0, -1, np.arange(n) % 2),   # within the 2-element map
        # string kinds refer to string 1 (the capture's first string); the rest any value (MOVE: -1)
        value=np.where(np.isin(kinds, [EventKind.ERROR, EventKind.CUSTOM, EventKind.VALIDATION]), 1,
                       np.arange(n) * 7 - 1),
    )


def _make_capture(path, sessions=3):
    w = CaptureWriter.create(path, creator="test")
    page = w.add_page("https://example.com/", "Example")
    page2 = w.add_page("https://example.com/signup", "Signup")
    snap = w.add_snapshot(page, "desktop", 1440, 4000, TINY_PNG, [
        {"selector": "#cta", "tag": "button", "role": "button", "label": "Go", "x": 10, "y": 20, "w": 100,
         "h": 40, "clickable": True, "field": None, "form": None, "sensitive": False, "href": "signup"},
        {"selector": "input[name=email]", "tag": "input", "role": "textbox", "label": "Email", "x": 10,
         "y": 100, "w": 300, "h": 40, "clickable": True, "field": "email", "form": "signup", "sensitive": True},
    ])
    snap2 = w.add_snapshot(page2, "mobile", 390, 2000, None)
    err = w.string_id("TypeError: boom")
    assert w.string_id("TypeError: boom") == err
    ids = []
    for i in range(sessions):
        ev = _events_of_every_kind()
        ids.append(w.add_session(
            {"start_ms": 1_700_000_000_000 + i * 1000, "device": "desktop" if i % 2 == 0 else "mobile",
             "browser": "Chrome", "os": "macOS", "country": "DE", "source": "paid", "viewport_w": 1440,
             "viewport_h": 900, "converted": i == 1},
            [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 2000, "load_ms": 321, "events": ev},
             {"page_id": page2, "snapshot_id": snap2, "start_ms": 2000, "end_ms": 5000, "events": EventColumns.empty()}]
            if i != 2 else
            [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 2000, "events": ev}],
        ))
    w.close()
    return ids, snap, snap2


def test_round_trip_of_every_event_kind(tmp_path):
    path = tmp_path / "c.sqlite"
    ids, snap, _ = _make_capture(path)
    with open_capture(path) as cap:
        assert cap.format_version == 2
        assert cap.meta["format"] == "hindsight-capture"
        assert cap.counts() == {"sessions": 3, "pageviews": 5, "events": 3 * len(EventKind), "pages": 2,
                                "snapshots": 2}
        pvs, ev, pv_index = cap.session_events(ids[0])
        expected = _events_of_every_kind()
        for name in ("t", "kind", "x", "y", "target", "value"):
            np.testing.assert_array_equal(getattr(ev, name), getattr(expected, name))
        assert [p.seq for p in pvs] == [0, 1]
        assert pvs[0].load_ms == 321
        assert set(pv_index.tolist()) == {0}
        s = cap.session(ids[1])
        assert s.converted is True and s.pageview_count == 2 and s.event_count == len(EventKind)
        assert s.duration_ms == 5000 and s.entry_page_id == 1 and s.exit_page_id == 2
        emap = cap.elements(snap)
        assert emap.selector == ("#cta", "input[name=email]")
        assert emap.boxes.tolist() == [[10, 20, 100, 40], [10, 100, 300, 40]]
        assert emap.clickable.tolist() == [True, True] and emap.sensitive.tolist() == [False, True]
        assert emap.field == (None, "email") and emap.href == ("signup", None)
        assert emap.hit(50, 30) == 0 and emap.hit(50, 120) == 1 and emap.hit(900, 900) == -1
        assert cap.snapshot_image(snap) == TINY_PNG
        assert cap.strings() == {1: "TypeError: boom"}


def test_snapshot_events_by_kind_and_filter(tmp_path):
    path = tmp_path / "c.sqlite"
    ids, snap, _ = _make_capture(path, sessions=4)
    with open_capture(path) as cap:
        ev, sids, pvids = cap.snapshot_events(snap, (EventKind.CLICK, EventKind.TAP))
        assert len(ev) == 8
        assert sorted(set(sids.tolist())) == ids
        assert set(ev.kind.tolist()) == {EventKind.CLICK, EventKind.TAP}
        ev, sids, _ = cap.snapshot_events(snap, (EventKind.CLICK,), SessionFilter(device=("mobile",)))
        assert sids.tolist() == [ids[1], ids[3]]
        assert cap.session_ids(SessionFilter(converted=True)).tolist() == [ids[1]]
        assert cap.session_ids(SessionFilter(visited=("https://example.com/signup",))).tolist() == [ids[0], ids[1], ids[3]]
        assert cap.session_ids(SessionFilter(not_visited=("https://example.com/signup",))).tolist() == [ids[2]]
        assert cap.session_ids(SessionFilter(min_duration_s=3)).tolist() == [ids[0], ids[1], ids[3]]
        table = cap.session_table(SessionFilter(device=("desktop",)))
        assert table["session_id"].tolist() == [ids[0], ids[2]]


def test_unpack_rejects_ragged_blob():
    with pytest.raises(ValueError):
        EventColumns.unpack(b"x" * (BYTES_PER_EVENT + 1))


def test_out_of_order_events_are_sorted_on_request():
    ev = EventColumns.from_arrays([30, 10, 20], [0, 1, 2])
    assert ev.sorted().t.tolist() == [10, 20, 30]
    assert ev.sorted().kind.tolist() == [1, 2, 0]


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"hello, I am a text file" * 10, "is not a SQLite database"),
    (b"SQLite format 3\x00" + b"\x00" * 20, "is truncated"),
])
def test_bad_bytes_are_refused_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as info:
        open_capture(path)
    assert message in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CaptureError, match="no such file"):
        open_capture(tmp_path / "nope.sqlite")
    with pytest.raises(CaptureError, match="folder"):
        open_capture(tmp_path)


def test_truncated_capture(tmp_path):
    path = tmp_path / "c.sqlite"
    _make_capture(path, sessions=50)
    data = path.read_bytes()
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CaptureError, match="is truncated"):
        open_capture(cut)


def test_corrupt_capture(tmp_path):
    path = tmp_path / "c.sqlite"
    _make_capture(path, sessions=50)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # Overwrite the schema page (page 1) after the header: the table definitions are garbage.
    data[100:page_size] = b"\xff" * (page_size - 100)
    bad = tmp_path / "corrupt.sqlite"
    bad.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match="corrupt"):
        open_capture(bad)


def test_sqlite_that_is_not_a_capture(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(CaptureError, match="not a Hindsight capture"):
        open_capture(path)


def test_newer_format_version(tmp_path):
    path = tmp_path / "c.sqlite"
    _make_capture(path)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    con.commit()
    con.close()
    with pytest.raises(CaptureError, match="newer Hindsight .*format 99"):
        open_capture(path)


def test_missing_tables(tmp_path):
    path = tmp_path / "c.sqlite"
    _make_capture(path)
    con = sqlite3.connect(path)
    con.execute("DROP TABLE pageviews")
    con.commit()
    con.close()
    with pytest.raises(CaptureError, match="missing table.*pageviews"):
        open_capture(path)


def test_viewing_never_modifies_and_read_only_file_opens(tmp_path):
    path = tmp_path / "c.sqlite"
    ids, snap, _ = _make_capture(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    os.chmod(tmp_path, stat.S_IRUSR | stat.S_IXUSR)
    try:
        with open_capture(path) as cap:
            cap.session_table()
            cap.session_events(ids[0])
            cap.snapshot_events(snap)
            with pytest.raises(sqlite3.OperationalError):
                cap._con.execute("DELETE FROM sessions")
    finally:
        os.chmod(tmp_path, stat.S_IRWXU)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.sqlite"]


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "c.sqlite"
    with pytest.raises(RuntimeError):
        with CaptureWriter.create(path) as w:
            page = w.add_page("https://example.com/")
            w.add_snapshot(page, "desktop", 100, 100, None)
            raise RuntimeError("importer failed half-way")
    assert list(tmp_path.iterdir()) == []


def test_create_refuses_to_overwrite(tmp_path):
    path = tmp_path / "c.sqlite"
    _make_capture(path)
    with pytest.raises(CaptureError, match="already exists"):
        CaptureWriter.create(path)


def test_append_adds_sessions(tmp_path):
    path = tmp_path / "c.sqlite"
    ids, snap, _ = _make_capture(path)
    w = CaptureWriter.append(path)
    new = w.add_session({"start_ms": 5, "device": "desktop", "viewport_w": 1440, "viewport_h": 900},
                        [{"page_id": 1, "snapshot_id": snap, "start_ms": 0, "end_ms": 10,
                          "events": EventColumns.from_arrays([1, 2], [1, 1])}])
    w.close()
    assert new == max(ids) + 1
    with open_capture(path) as cap:
        assert cap.session_count() == 4
        assert len(cap.session_events(new)[1]) == 2

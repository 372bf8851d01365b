"""``hindsight delete``: erased sessions leave no recognisable byte in the capture, its -wal /
-journal, the bookmark sidecar or the user-data copy; everything else stays."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hindsight.analytics.session_index import SIDECAR_SUFFIX, session_index
from hindsight.bookmarks.store import BookmarkStore, sidecar_path, user_store_path
from hindsight.cli import main
from hindsight.store import CaptureWriter, EventColumns, EventKind, open_capture
from hindsight.erase import erase, plan_erasure, select_sessions

VISITOR = "ERASEME-VISITOR-9f3a"
URL = "https://shop.example/orders/ERASEME-URL-4411"
#: x, y of the victim's clicks: 8 recognisable bytes in the packed events
X, Y = 0x11223344, 0x55667788
XY_BYTES = X.to_bytes(4, "little") + Y.to_bytes(4, "little")
NEEDLES = [VISITOR.encode(), URL.encode(), b"ERASEME-REF", b"ERASEME-CAMPAIGN", b"ERASEME-EXT",
           b"ERASEME-ERROR-MSG", b"ERASEME-LABEL", b"ERASEME-PLANTED", b"ERASEME-NOTE", b"ERASEME-TAG",
           b"ERASEME-HYPO", XY_BYTES]
KEEP = [b"https://shop.example/", b"keep-visitor-1", b"shared error", b"keep tag", b"KEEP-NOTE"]
T0 = 1_700_000_000_000


def _events(n: int, seed: int, string_ids=(), xy=None) -> EventColumns:
    rng = np.random.default_rng(seed)
    kind = np.zeros(n, dtype=np.uint8)
    value = np.zeros(n, dtype=np.int32)
    x = rng.integers(0, 1000, n).astype(np.int32)
    y = rng.integers(0, 1000, n).astype(np.int32)
    for i, sid in enumerate(string_ids):
        kind[10 + i], value[10 + i] = EventKind.ERROR, sid
    if xy is not None:
        kind[20:25], x[20:25], y[20:25] = EventKind.CLICK, xy[0], xy[1]
    return EventColumns(t=np.arange(n, dtype=np.uint32) * 40, kind=kind, x=x, y=y,
                        target=np.full(n, -1, dtype=np.int16), value=value)


def _pv(page, snap, events):
    return {"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 8000, "events": events}


def build(path: Path, wal: bool = False) -> dict:
    """Four kept sessions and two of the victim (visitor VISITOR), with bookmarks everywhere."""
    w = CaptureWriter.create(path)
    home = w.add_page("https://shop.example/", "Shop")
    home_snap = w.add_snapshot(home, "desktop", 1280, 2000, None, [{"selector": "#buy", "label": "Buy", "x": 0,
                                                                   "y": 0, "w": 10, "h": 10}])
    shared = w.string_id("shared error")
    for i in range(4):
        w.add_session({"start_ms": T0 + i * 3_600_000, "device": "desktop", "viewport_w": 1280, "viewport_h": 800,
                       "visitor_id": f"keep-visitor-{i}"}, [_pv(home, home_snap, _events(200, i, [shared]))])
    w.close()

    w = CaptureWriter.append(path)  # WAL mode, as imports and the collector write
    order = w.add_page(URL, "Your order")
    order_snap = w.add_snapshot(order, "desktop", 1280, 1500, b"PNG-ERASEME-LABEL",
                                [{"selector": "#name", "label": "ERASEME-LABEL", "x": 0, "y": 0, "w": 10, "h": 10}])
    own = w.string_id("ERASEME-ERROR-MSG")
    shared = w.string_id("shared error")
    victims = []
    for i in range(2):
        victims.append(w.add_session(
            {"start_ms": T0 - 86_400_000 * (i + 1), "device": "desktop", "viewport_w": 1280, "viewport_h": 800,
             "visitor_id": VISITOR, "referrer": "https://ref.example/ERASEME-REF",
             "utm_campaign": "ERASEME-CAMPAIGN", "external_id": f"ERASEME-EXT-{i}"},
            [_pv(home, home_snap, _events(200, 10 + i, [shared], xy=(X, Y))),
             _pv(order, order_snap, _events(200, 20 + i, [own]))]))
    w.add_planted([(victims[0], "rage_click", 100, 200, "#name", "ERASEME-PLANTED"),
                   (1, "rage_click", 100, 200, "#buy", "keep planted")])
    w.commit()
    reader = None
    if wal:  # a reader left open keeps the victim's frames in -wal when the writers close
        reader = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        reader.execute("SELECT count(*) FROM sessions").fetchone()
    w.close()
    if not wal:  # back to a rollback-journal file (as 'hindsight demo' and imports leave it)
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()

    # bookmarks: in the capture, in the sidecar (as if the capture had been read-only once) and
    # in the user-data copy
    store = BookmarkStore.for_capture(path)
    store.add(victims[0], 100, "ERASEME-TAG", "ERASEME-NOTE in capture")
    store.set_pattern("ERASEME-TAG", "ERASEME-HYPO we believe", 5, 5, 5)
    store.add(1, 100, "keep tag", "KEEP-NOTE")
    side = BookmarkStore(sidecar_path(path), path, "sidecar")
    side.add_many([dict(session_id=victims[1], t_ms=200, tag="ERASEME-TAG", note="ERASEME-NOTE in sidecar")],
                  check=False)
    with open_capture(path) as cap:
        user = BookmarkStore(user_store_path(path, cap.meta.get("created_ms")), path, "user",
                             cap.meta.get("created_ms"))
        session_index(cap, sidecar=True)   # the signal cache next to the capture
    user.add_many([dict(session_id=victims[0], t_ms=300, tag="ERASEME-TAG", note="ERASEME-NOTE in user data")],
                  check=False)
    if reader is not None:
        reader.close()   # read-only: it does not checkpoint, the -wal stays
    return {"victims": victims, "user_store": user.path}


def files_of(path: Path, extra: Path) -> list[Path]:
    names = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal", "-shm", SIDECAR_SUFFIX)),
             sidecar_path(path), extra]
    return [p for p in names if p.exists()]


def found(files: list[Path]) -> list[bytes]:
    blob = b"".join(p.read_bytes() for p in files)
    return [n for n in NEEDLES if n in blob]


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_delete_visitor_leaves_no_byte_of_them(tmp_path, xdg, capsys, wal):
    cap = tmp_path / "shop.sqlite"
    built = build(cap, wal=wal)
    if wal:
        assert (tmp_path / "shop.sqlite-wal").stat().st_size > 0
    before = files_of(cap, built["user_store"])
    assert found(before) == NEEDLES   # every recognisable value is on disk before

    assert main(["delete", str(cap), "--visitor", VISITOR, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "2 sessions" in out and URL in out and "3 bookmarks" in out

    after = files_of(cap, built["user_store"])
    assert found(after) == []
    assert not (tmp_path / ("shop.sqlite" + SIDECAR_SUFFIX)).exists()
    blob = cap.read_bytes()
    assert all(k in blob for k in KEEP)   # the rest is still there
    with open_capture(cap) as c:
        assert c.session_count() == 4 and [p.url for p in c.pages()] == ["https://shop.example/"]
        assert sorted(c.strings().values()) == ["shared error"]
        assert [r[0] for r in c.planted()] == [1]
        assert len(c.snapshots()) == 1
        _, ev, _ = c.session_events(1)
        assert len(ev) == 200
    store = BookmarkStore.for_capture(cap)
    assert [(b.session_id, b.note) for b in store.bookmarks()] == [(1, "KEEP-NOTE")]
    assert [p.tag for p in store.patterns()] == ["keep tag"]


def test_without_yes_nothing_is_erased(tmp_path, xdg, capsys):
    cap = tmp_path / "shop.sqlite"
    build(cap)
    digest = hashlib.sha256(cap.read_bytes()).hexdigest()
    assert main(["delete", str(cap), "--session", "5"]) == 2   # stdin is not a terminal here
    io = capsys.readouterr()
    assert "1 session (5)" in io.out and "nothing was erased" in io.err and "--yes" in io.err
    assert hashlib.sha256(cap.read_bytes()).hexdigest() == digest


def test_delete_before_a_date_and_by_session(tmp_path, xdg, capsys):
    cap = tmp_path / "shop.sqlite"
    built = build(cap)
    # the victim's sessions started one and two days before T0; the kept ones at T0 and later
    assert select_sessions(cap, before_ms=T0) == sorted(built["victims"])
    assert main(["delete", str(cap), "--before", "2023-11-14T22:13:20Z", "--yes", "--json"]) == 0
    with open_capture(cap) as c:
        assert c.session_count() == 4
    assert main(["delete", str(cap), "--session", "2", "--session", "3", "--yes"]) == 0
    with open_capture(cap) as c:
        assert c.session_ids().tolist() == [1, 4]


@pytest.mark.parametrize("args, needle", [
    (["--session", "999"], "has no session 999"),
    (["--visitor", "nobody"], "has no session of visitor 'nobody'"),
    (["--before", "2001-01-01"], "has no session that started before 2001-01-01"),
    (["--before", "yesterday"], "'yesterday' is not a date"),
    (["--session", str(2**64)], "is not a session id"),
    (["--session", "-3"], "is not a session id"),
    ([], "one of the arguments --session --visitor --before is required"),
])
def test_delete_selection_errors_are_one_line(tmp_path, xdg, capsys, args, needle):
    cap = tmp_path / "shop.sqlite"
    build(cap)
    assert main(["delete", str(cap), *args, "--yes"]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_read_only_capture_is_not_erased_even_as_root(tmp_path, xdg, capsys):
    cap = tmp_path / "shop.sqlite"
    build(cap)
    cap.chmod(0o444)
    try:
        digest = hashlib.sha256(cap.read_bytes()).hexdigest()
        assert main(["delete", str(cap), "--session", "5", "--yes"]) == 2
        assert "read-only" in capsys.readouterr().err
        assert hashlib.sha256(cap.read_bytes()).hexdigest() == digest
    finally:
        cap.chmod(0o644)


def test_plan_matches_what_is_erased(tmp_path, xdg):
    cap = tmp_path / "shop.sqlite"
    built = build(cap)
    plan = plan_erasure(cap, built["victims"])
    assert (plan.sessions, plan.pageviews, plan.events, plan.pages, plan.snapshots, plan.elements,
            plan.strings, plan.planted) == (2, 4, 800, [URL], 1, 1, 1, 1)
    assert sum(plan.bookmarks.values()) == 3
    done = erase(cap, built["victims"])
    assert (done.sessions, done.pageviews, done.events, done.pages, done.strings) == (2, 4, 800, [URL], 1)
    assert sum(done.bookmarks.values()) == 3


@pytest.mark.parametrize("answer, erased", [("y", True), ("yes", True), ("n", False), ("", False)])
def test_interactive_prompt(tmp_path, xdg, capsys, monkeypatch, answer, erased):
    cap = tmp_path / "shop.sqlite"
    build(cap)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or answer)
    assert main(["delete", str(cap), "--session", "5"]) == (0 if erased else 2)
    assert asked == ["Erase them? This cannot be undone. [y/N] "]
    with open_capture(cap) as c:
        assert c.session_count() == (5 if erased else 6)

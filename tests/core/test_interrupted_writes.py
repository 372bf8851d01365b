"""A writer killed mid-transaction (kill -9): viewers never show its uncommitted rows and never
lose committed ones. Rollback journal: reported in one line, ``hindsight recover`` rolls it
back (a read-only capture is recovered as a copy). WAL: the uncommitted frames stay invisible."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hindsight.cli import main
from hindsight.store import CaptureError, CaptureWriter, EventColumns, open_capture

COMMITTED = 40


def _events(n: int, seed: int) -> EventColumns:
    rng = np.random.default_rng(seed)
    return EventColumns(
        t=np.arange(n, dtype=np.uint32) * 50, kind=np.zeros(n, dtype=np.uint8),
        x=rng.integers(0, 1000, n).astype(np.int32), y=rng.integers(0, 1000, n).astype(np.int32),
        target=np.full(n, -1, dtype=np.int16), value=np.zeros(n, dtype=np.int32))


def make_capture(path: Path, sessions: int = COMMITTED) -> Path:
    w = CaptureWriter.create(path)
    page = w.add_page("https://shop.example/")
    snap = w.add_snapshot(page, "desktop", 1280, 2000, None, [])
    for i in range(sessions):
        w.add_session({"start_ms": 1_700_000_000_000 + i * 60_000, "device": "desktop", "viewport_w": 1280,
                       "viewport_h": 800, "visitor_id": f"committed-{i}"},
                      [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 5000,
                        "events": _events(100, i)}])
    w.close()
    return path


_KILLED_WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    path, mode = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(f"PRAGMA journal_mode={mode}")
    con.execute("PRAGMA cache_size=8")   # small cache: pages spill to the file before COMMIT
    con.execute("BEGIN")
    for i in range(3000):
        con.execute("INSERT INTO sessions (visitor_id, start_ms, duration_ms, device, viewport_w, viewport_h) "
                    "VALUES (?, ?, 1000, 'desktop', 1280, 800)", (f"UNCOMMITTED-{i}", 1_800_000_000_000 + i))
    con.execute("UPDATE meta SET value = 'UNCOMMITTED-meta' WHERE key = 'creator'")
    print("ready", flush=True)
    time.sleep(120)
""")


def kill_writer_mid_transaction(path: Path, journal_mode: str) -> None:
    """Run a real writer process on ``path`` and kill -9 it inside its transaction."""
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), journal_mode],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _committed_state(path: Path) -> tuple[int, int, str]:
    with open_capture(path) as cap:
        n = cap.session_count()
        bad = cap._con.execute("SELECT count(*) FROM sessions WHERE visitor_id LIKE 'UNCOMMITTED%'").fetchone()[0]
        return n, bad, cap.meta["creator"]


def test_hot_rollback_journal_is_reported_then_recovered(tmp_path, capsys):
    cap = make_capture(tmp_path / "shop.sqlite")
    kill_writer_mid_transaction(cap, "delete")
    journal = tmp_path / "shop.sqlite-journal"
    assert journal.exists() and journal.stat().st_size > 0
    assert b"UNCOMMITTED" in cap.read_bytes()  # half-written pages really are in the file

    with pytest.raises(CaptureError) as err:
        open_capture(cap)
    assert "was being written when its writer stopped" in str(err.value)
    assert f"hindsight recover {cap}" in str(err.value) and "\n" not in str(err.value)
    assert main(["info", str(cap)]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "was being written when its writer stopped" in line
    assert journal.exists()   # viewing did not touch it

    assert main(["recover", str(cap)]) == 0
    assert "rolled back" in capsys.readouterr().out
    assert not journal.exists()
    n, bad, creator = _committed_state(cap)
    assert (n, bad) == (COMMITTED, 0) and creator.startswith("hindsight")
    assert b"UNCOMMITTED" not in cap.read_bytes()


def test_hot_journal_on_a_read_only_capture_recovers_a_copy(tmp_path, capsys):
    cap = make_capture(tmp_path / "shop.sqlite")
    kill_writer_mid_transaction(cap, "delete")
    cap.chmod(0o444)
    try:
        before = cap.read_bytes()
        with pytest.raises(CaptureError, match=r"read-only.*--out COPY"):
            open_capture(cap)
        assert main(["recover", str(cap)]) == 2   # not in place: it is read-only (also for root)
        assert "read-only" in capsys.readouterr().err
        copy = tmp_path / "recovered.sqlite"
        assert main(["recover", str(cap), "--out", str(copy)]) == 0
        assert cap.read_bytes() == before and (tmp_path / "shop.sqlite-journal").exists()
        assert _committed_state(copy)[:2] == (COMMITTED, 0)
    finally:
        cap.chmod(0o644)


def test_writers_roll_a_hot_journal_back_first(tmp_path):
    cap = make_capture(tmp_path / "shop.sqlite")
    kill_writer_mid_transaction(cap, "delete")
    w = CaptureWriter.append(cap)
    w.close()
    assert _committed_state(cap)[:2] == (COMMITTED, 0)


def test_wal_with_an_uncommitted_transaction_shows_only_committed_rows(tmp_path):
    cap = make_capture(tmp_path / "shop.sqlite")
    w = CaptureWriter.append(cap)   # WAL mode, as the collector writes
    w.close()
    kill_writer_mid_transaction(cap, "wal")
    wal = tmp_path / "shop.sqlite-wal"
    assert b"UNCOMMITTED" in wal.read_bytes()  # the spilled, uncommitted frames are there
    assert _committed_state(cap)[:2] == (COMMITTED, 0)
    assert main(["recover", str(cap)]) == 0
    assert _committed_state(cap)[:2] == (COMMITTED, 0)
    assert not wal.exists() or wal.stat().st_size == 0


def test_recover_on_a_clean_capture_changes_nothing(tmp_path, capsys):
    cap = make_capture(tmp_path / "shop.sqlite")
    before = cap.read_bytes()
    assert main(["recover", str(cap)]) == 0
    assert "nothing to recover" in capsys.readouterr().out
    assert cap.read_bytes() == before


# -- as an ordinary user, in a folder it cannot write --------------------------------------------
_SETPRIV = shutil.which("setpriv")
needs_setpriv = pytest.mark.skipif(not (_SETPRIV and hasattr(os, "geteuid") and os.geteuid() == 0),
                                   reason="needs root and setpriv to run a reader as 'nobody'")


@pytest.fixture
def shared_folder():
    """A root-owned 0755 folder outside pytest's private tmp: readable, not writable, by nobody."""
    folder = Path(tempfile.mkdtemp(prefix="hindsight-ro-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def _open_as_nobody(path: Path) -> str:
    code = ("from hindsight.store import open_capture\n"
            "try:\n    c = open_capture(%r); print('sessions', c.session_count(),\n"
            "    c._con.execute(\"SELECT count(*) FROM sessions WHERE visitor_id LIKE 'UNCOMMITTED%%'\").fetchone()[0])\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n" % str(path))
    proc = subprocess.run([_SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
                          capture_output=True, text=True, cwd="/", timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@needs_setpriv
def test_wal_in_a_read_only_folder_is_not_shown_without_its_committed_frames(shared_folder):
    """No -shm and no way to create one: reading the file alone (immutable) would hide the
    sessions committed in -wal, so it is reported instead (it used to show 40 of 43)."""
    cap = make_capture(shared_folder / "shop.sqlite")
    CaptureWriter.append(cap).close()                       # WAL mode from now on
    reader = sqlite3.connect(cap.resolve().as_uri() + "?mode=ro", uri=True)
    reader.execute("SELECT count(*) FROM sessions").fetchone()   # keeps the -wal when the writer closes
    w = CaptureWriter.append(cap)
    for i in range(3):
        w.add_session({"start_ms": 1_800_000_000_000 + i, "device": "desktop", "viewport_w": 1280,
                       "viewport_h": 800, "visitor_id": f"in-wal-{i}"}, [])
    w.close()
    reader.close()
    (shared_folder / "shop.sqlite-shm").unlink()
    assert (shared_folder / "shop.sqlite-wal").stat().st_size > 32
    out = _open_as_nobody(cap)
    assert out.startswith("CaptureError") and "has committed changes in shop.sqlite-wal" in out
    assert _committed_state(cap)[0] == COMMITTED + 3   # where it can be read, all of them show


@needs_setpriv
def test_hot_journal_in_a_read_only_folder_is_reported_not_shown(shared_folder):
    cap = make_capture(shared_folder / "shop.sqlite")
    kill_writer_mid_transaction(cap, "delete")
    out = _open_as_nobody(cap)
    assert out.startswith("CaptureError") and "was being written when its writer stopped" in out
    assert "UNCOMMITTED" not in out

"""Issue 15, rrweb import speed: files are read and parsed in a worker process while this one
writes (``importers/parallel.py``). Nothing imported may change: the capture made with a worker
is the one made without, row for row; sessions arrive in file order; the first bad file stops
the import with its own one-line error and nothing is kept; a worker that dies leaves the rest
to this process; element maps cross the process boundary once and stay shared."""

from __future__ import annotations

import hashlib
import sqlite3
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from hindsight.benchmarks.importers import fixture_files, replicated_fixtures
from hindsight.importers import parallel
from hindsight.importers import rrweb as rr
from hindsight.importers.session_writer import import_files
from hindsight.store.errors import CaptureError

KW = dict(mask=True, max_bytes=rr.MAX_FILE_BYTES, drop_query=False, mask_text=False)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    """The 24 fixtures twice over (48 distinct recordings: 3 chunks of 16)."""
    return replicated_fixtures(tmp_path_factory.mktemp("rep"), 48)


def _dump(db: Path, snapshot_images: bool = True) -> list[str]:
    """Every table's rows, sorted, BLOBs as sha1, without the import time (as the digest tool)."""
    out = []
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
        for r in sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr):
            d = dict(zip(cols, r))
            d.pop("imported_ms", None)
            if name == "snapshots" and not snapshot_images:
                d.pop("image")
            if name == "meta" and d["key"] in ("created", "created_ms", "modified", "imported_at"):
                continue
            out.append(f"{name} " + repr({k: hashlib.sha1(v).hexdigest() if isinstance(v, bytes) else v
                                          for k, v in d.items()}))
    con.close()
    return out


@pytest.mark.parametrize("options", [{}, {"mask": False}, {"mask_text": True}])
def test_a_worker_imports_exactly_what_this_process_does(tmp_path, recordings, options, monkeypatch):
    rr.clear_caches()
    serial = import_files(recordings, tmp_path / "serial.sqlite", render=False, workers=0, **options)
    rr.clear_caches()
    monkeypatch.setattr(parallel, "CHUNK_FILES", 4)  # 12 chunks: more than the worker is handed at once
    par = import_files(recordings, tmp_path / "par.sqlite", render=False, workers=1, **options)
    assert parallel.stats["workers"] == 1
    # the worker parsed some chunks; this process parsed others while it waited for the first
    # (a worker takes milliseconds to start), and the sessions still come in file order
    assert parallel.stats["chunks_workers"] >= 1 and parallel.stats["chunks_here"] >= 1
    assert parallel.stats["chunks_here"] + parallel.stats["chunks_workers"] == 12
    assert par.sessions == serial.sessions == 48
    a, b = serial.as_dict(), par.as_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b  # counts, kinds, skipped, notes, session ids in file order
    rows = _dump(tmp_path / "serial.sqlite")
    assert len(rows) > 1000
    assert _dump(tmp_path / "par.sqlite") == rows


def test_sessions_come_in_file_order_with_shared_element_maps(recordings):
    got = list(parallel.load_sessions([str(p) for p in recordings], workers=1, **KW))
    assert [p for p, _ in got] == [str(p) for p in recordings]
    for p, s in got:  # the same session as parsed here
        ref = rr.load_session(p, **KW)
        assert s.recording_hash == ref.recording_hash
        for name in ("t", "kind", "x", "y", "target", "value", "pv", "scroll"):
            a, b = getattr(s, name), getattr(ref, name)
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
        assert [pv.url for pv in s.pageviews] == [pv.url for pv in ref.pageviews]
        assert [len(pv.mutations) for pv in s.pageviews] == [len(pv.mutations) for pv in ref.pageviews]
        assert [[el.selector for el in t.elements] for pv in s.pageviews for t in pv.trees] == \
            [[el.selector for el in t.elements] for pv in ref.pageviews for t in pv.trees]
    # the worker is handed chunks 0 and 1 first (files 0-31, of the 3 chunks): copies n and n + 24
    # of a fixture (n < 8) both come from it, and get the one element map object it sent once
    for n in range(8):
        a, b = got[n][1], got[n + 24][1]
        assert a.pageviews[0].trees and a.pageviews[0].trees[0] is b.pageviews[0].trees[0], n


@pytest.mark.parametrize("chunk", [16, 4])  # 4: the bad file may be in a chunk parsed here
def test_the_first_bad_file_stops_the_import_with_its_own_error(tmp_path, recordings, chunk, monkeypatch):
    monkeypatch.setattr(parallel, "CHUNK_FILES", chunk)
    paths = list(recordings)
    bad = tmp_path / "broken.json"
    bad.write_bytes(b'[{"type": 4, "data": {"href": "https://x/", "width": 1, "height": 1}, "timestamp": 1}, ')
    paths.insert(37, bad)  # in the third chunk of 16 (the tenth of 4)
    later = tmp_path / "also_broken.json"
    later.write_bytes(b"{}")
    paths.insert(45, later)
    out = tmp_path / "c.sqlite"
    with pytest.raises(CaptureError) as err:
        import_files(paths, out, render=False, workers=1)
    assert str(err.value).startswith(str(bad))
    assert "\n" not in str(err.value)
    assert not out.exists()  # all or nothing
    seen = []
    with pytest.raises(CaptureError):
        for p, _ in parallel.load_sessions([str(p) for p in paths], workers=1, **KW):
            seen.append(p)
    assert seen == [str(p) for p in paths[:37]]  # every file before the bad one, in order


class _DeadPool:
    """A process pool whose worker died: every task fails with ``BrokenProcessPool``."""

    def __init__(self, *args, **kwargs):
        self.submitted = 0

    def submit(self, fn, *args):
        self.submitted += 1
        fut = Future()
        fut.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return fut

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def test_a_dead_worker_leaves_the_rest_to_this_process(tmp_path, recordings, monkeypatch):
    rr.clear_caches()
    serial = import_files(recordings, tmp_path / "serial.sqlite", render=False, workers=0)
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", _DeadPool)
    rr.clear_caches()
    report = import_files(recordings, tmp_path / "par.sqlite", render=False, workers=1)
    assert report.sessions == serial.sessions == 48
    assert parallel.stats["chunks_workers"] == 0 and parallel.stats["chunks_here"] == 3
    assert _dump(tmp_path / "par.sqlite") == _dump(tmp_path / "serial.sqlite")


def test_packed_columns_come_back_as_they_were():
    files = [str(p) for p in fixture_files()[:6]]
    sessions = [rr.load_session(p, **KW) for p in files]
    ref = [{n: getattr(s, n).copy() for n in ("t", "kind", "x", "y", "target", "value", "pv", "scroll")}
           for s in sessions]
    odd = sessions[2]
    odd.x = odd.x.astype(np.float32)  # not the usual dtype: travels as it is, unconverted
    ref[2]["x"] = odd.x.copy()
    ends, scroll_ends, data = parallel._pack(sessions)
    assert all(s.t is None for i, s in enumerate(sessions) if i != 2) and odd.t is not None
    parallel._unpack(sessions, ends, scroll_ends, data)
    for s, r in zip(sessions, ref):
        for n, a in r.items():
            b = getattr(s, n)
            assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b), n


def test_small_imports_and_busy_or_single_cpu_machines_stay_in_this_process(tmp_path, monkeypatch, recordings):
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    few = [str(p) for p in recordings[:10]]
    assert parallel.auto_workers(few) == 0  # 10 files, well under 16 MB
    many = [str(p) for p in recordings] * 6  # 288 files
    assert parallel.auto_workers(many) == 1
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert parallel.auto_workers(many) == 1  # about one runnable process: this one, at work
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (1.6, 1.0, 1.0))
    assert parallel.auto_workers(many) == 0  # the other CPU is busy
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    monkeypatch.setattr(parallel, "cpu_count", lambda: 1)
    assert parallel.auto_workers(many) == 0
    monkeypatch.setattr(parallel, "cpu_count", lambda: 8)
    assert parallel.auto_workers(many) == parallel.MAX_WORKERS
    from hindsight.importers import snapshot_cache

    monkeypatch.setattr(snapshot_cache, "enabled", False)
    assert parallel.auto_workers(many) == 0


def test_cli_workers_flag(tmp_path, recordings, capsys):
    from hindsight.cli import main

    files = [str(p) for p in recordings[:20]]
    assert main(["import", "rrweb", *files, "--out", str(tmp_path / "w1.sqlite"), "--no-render",
                 "--workers", "1"]) == 0
    assert parallel.stats["workers"] == 1 and parallel.stats["chunks_workers"] >= 1
    assert main(["import", "rrweb", *files, "--out", str(tmp_path / "w0.sqlite"), "--no-render",
                 "--workers", "0"]) == 0
    assert parallel.stats["workers"] == 0
    assert _dump(tmp_path / "w1.sqlite") == _dump(tmp_path / "w0.sqlite")
    capsys.readouterr()
    assert main(["import", "rrweb", *files, "--out", str(tmp_path / "x.sqlite"), "--workers", "-1"]) == 2
    assert "--workers: must be between 0 and 64, not -1" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


class _Cancelled(Exception):
    pass


def test_from_a_thread_and_cancelled_half_way(tmp_path, recordings, monkeypatch):
    """The app imports on a worker thread and cancels from the progress callback: the worker
    process starts from that thread, and a cancel stops it with nothing written."""
    import threading

    monkeypatch.setattr(parallel, "CHUNK_FILES", 4)
    out = {}

    def run(name, progress=None):
        try:
            out[name] = import_files(recordings, tmp_path / f"{name}.sqlite", render=False, workers=1,
                                     progress=progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            out[name] = exc

    def cancel_at_20(done, total, path):
        if done == 20:
            raise _Cancelled("cancelled")

    for name, progress in (("full", None), ("cancelled", cancel_at_20)):
        th = threading.Thread(target=run, args=(name, progress))
        th.start()
        th.join(120)
        assert not th.is_alive()
    assert not isinstance(out["full"], BaseException) and out["full"].sessions == 48
    assert isinstance(out["cancelled"], _Cancelled)
    assert not (tmp_path / "cancelled.sqlite").exists()
    assert not list(tmp_path.glob("cancelled*"))  # no partial file left either
    rr.clear_caches()
    import_files(recordings, tmp_path / "serial.sqlite", render=False, workers=0)
    assert _dump(tmp_path / "full.sqlite") == _dump(tmp_path / "serial.sqlite")


def test_start_method(monkeypatch):
    import sys
    import threading

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    expect = "fork" if sys.version_info < (3, 12) else "forkserver"
    assert parallel._context().get_start_method() == expect  # the CLI: one thread
    monkeypatch.setattr(threading, "active_count", lambda: 3)
    assert parallel._context().get_start_method() == "forkserver"  # the app imports from a thread
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert parallel._context().get_start_method() == "spawn"  # frozen: freeze_support handles it
    monkeypatch.delattr(sys, "frozen")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert parallel._context().get_start_method() == "spawn"


@pytest.mark.slow
def test_with_chromium_rendering_too(tmp_path, request):
    """Rendering (Chromium: snapshots, re-layouts after page changes, page states) needs the
    element maps' DOMs and the mutations: a worker's sessions carry them, and the capture is
    the one made without a worker, images included (``pytest -m slow``; about 30 s)."""
    from hindsight.importers.render_dom import find_chromium

    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with pytest -m slow")
    if find_chromium() is None:
        pytest.skip("Chromium is not installed")
    files = fixture_files()
    dumps, reports = [], []
    for wk in (0, 1):
        rr.clear_caches()
        r = import_files(files, tmp_path / f"r{wk}.sqlite", render=True, workers=wk).as_dict()
        assert r["geometry"] == {"chromium": 23} and r["states"]["rendered"] > 0
        r.pop("seconds"), r["states"].pop("seconds"), r.pop("notes")  # notes hold a duration
        reports.append(r)
        # Chromium's screenshot of one upstream page differs between two runs even without a
        # worker (its pixels are not deterministic); element boxes, states and events are
        dumps.append(_dump(tmp_path / f"r{wk}.sqlite", snapshot_images=False))
    assert reports[0] == reports[1]
    assert len(dumps[0]) > 1000 and dumps[0] == dumps[1]

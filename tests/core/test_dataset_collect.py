"""``hindsight collect --dataset``: collectors writing their own part files into one dataset."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from hindsight.dataset.collect_worker import ID_BITS, range_base
from hindsight.dataset.collector import DatasetCollector
from hindsight.dataset.store import open_dataset
from hindsight.store import EventKind as K

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]


def _post(col, path: str, body: bytes) -> tuple[int, dict, dict]:
    import http.client

    host, port = col.address
    con = http.client.HTTPConnection(host, port, timeout=30)
    try:
        con.request("POST", f"{path}?token={col.token}", body=body, headers={"Content-Type": "text/plain"})
        resp = con.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {}), dict(resp.getheaders())
    finally:
        con.close()


def _batches(events: list, size: int = 25) -> list[bytes]:
    return [json.dumps(events[i:i + size]).encode() for i in range(0, len(events), size)]


def _send(col, key: str, events: list, acked: dict, lock: threading.Lock) -> None:
    for body in _batches(events, 40):
        status, reply, _ = _post(col, f"/v1/sessions/{key}/events", body)
        assert status == 202, reply
    status, reply, _ = _post(col, f"/v1/sessions/{key}/end", b"")
    assert status == 202, reply
    with lock:
        acked[key] = len(events)


def test_two_collectors_one_dataset_every_acknowledged_session_once(tmp_path):
    ds_dir = tmp_path / "live_ds"
    names = ["session_signup_rrweb2.json", "session_mobile_rrweb2.json", "session_abandon_rrweb2.json"]
    recordings = {n: json.loads((DATA / n).read_text()) for n in names}
    cols = [DatasetCollector(str(ds_dir), name=f"edge-{i}", port=0, render=False, writer="thread",
                             flush_s=0.5).start() for i in range(2)]
    acked: dict[str, int] = {}
    lock = threading.Lock()
    try:
        threads = []
        for i in range(12):   # 12 sessions, alternating collectors, all at once
            col = cols[i % 2]
            name = names[i % len(names)]
            threads.append(threading.Thread(target=_send, args=(col, f"k{i}", recordings[name], acked, lock)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(acked) == 12
        for col in cols:
            assert col.wait_written(60)
    finally:
        for col in cols:
            col.stop()
    # nothing half-written, no temporary file, every part file readable by pyarrow
    assert not [p for p in ds_dir.rglob("*.parquet") if p.name.startswith(".")]
    assert not list(ds_dir.rglob("*.tmp"))
    for p in ds_dir.rglob("*.parquet"):
        pq.read_table(p)
    ds = open_dataset(str(ds_dir))
    sessions = ds.table("sessions").to_pydict()
    assert sorted(sessions["external_id"]) == sorted(acked)   # every acknowledged session exactly once
    # each collector's ids in its own range; its part files named after it
    for i, col in enumerate(cols):
        base = range_base(col.name)
        mine = [sid for sid in sessions["session_id"] if base <= sid < base + (1 << ID_BITS)]
        assert len(mine) == 6
    assert len({p.name.split("-")[1] for p in (ds_dir / "sessions").rglob("*.parquet")}) == 2
    assert len(set(sessions["session_id"])) == 12
    pv = ds.table("pageviews")
    assert len(set(pv.column("pageview_id").to_pylist())) == pv.num_rows
    # the events of each session: the clicks the recording holds; pages and snapshots resolve
    snaps = set(ds.table("snapshots").column("snapshot_id").to_pylist())
    pages = set(ds.table("pages").column("page_id").to_pylist())
    assert set(pv.column("snapshot_id").to_pylist()) <= snaps and set(pv.column("page_id").to_pylist()) <= pages
    # every session of the same recording has the same events, whichever collector took it
    first: dict[str, dict] = {}
    for key, sid in zip(sessions["external_id"], sessions["session_id"]):
        name = names[int(key[1:]) % len(names)]
        ev = ds.table("events", filter=pads.field("session_id") == sid).sort_by(
            [("pageview_id", "ascending"), ("t", "ascending")])
        got = {c: ev.column(c).to_numpy() for c in ("t", "kind", "x", "y", "target", "value")}
        if name == "session_signup_rrweb2.json":
            assert int(np.count_nonzero(got["kind"] == K.CLICK)) == EXPECTED[name]["click_count"], key
            assert int(np.count_nonzero(got["kind"] == K.INPUT)) == EXPECTED[name]["input_count"], key
        want = first.setdefault(name, got)
        for c in got:
            assert np.array_equal(got[c], want[c]), (key, c)
    assert len(first) == 3
    # both collectors wrote the same pages under the same content ids: readers keep one row each
    assert ds.table("pages").num_rows == 2 * ds.catalog("pages").num_rows
    assert ds.catalog("pages").column("page_id").to_pylist() == sorted(pages)
    # back to a capture: the same sessions and events (string ids, page and snapshot ids renumbered)
    from hindsight.dataset.extract import extract_dataset
    from hindsight.store import open_capture

    out = extract_dataset(str(ds_dir), tmp_path / "back.sqlite")
    with open_capture(out["path"]) as cap:
        assert cap.session_count() == 12 and cap.counts()["pageviews"] == pv.num_rows
        assert cap.counts()["events"] == ds.table("events", columns=["t"]).num_rows
        assert sorted(p.url for p in cap.pages()) == sorted(set(ds.table("pages").column("url").to_pylist()))
        table = cap.session_table()
        _, ev, _ = cap.session_events(int(table["session_id"][0]))
        assert len(ev) > 50
    # restart: the spool is empty of written sessions, and nothing is written twice
    col = DatasetCollector(str(ds_dir), name="edge-0", port=0, render=False, writer="thread").start()
    col.stop()
    assert sorted(open_dataset(str(ds_dir)).table("sessions").column("external_id").to_pylist()) == sorted(acked)


def test_spooled_sessions_not_yet_in_part_files_are_written_after_a_restart(tmp_path, monkeypatch):
    """A crash between the session's end and its part file: the spool still has it."""
    from hindsight.dataset import collect_worker

    ds_dir = tmp_path / "crash_ds"
    events = json.loads((DATA / "session_signup_rrweb2.json").read_text())
    failing = {"on": True}
    real_flush = collect_worker.flush

    def flaky(job):
        if failing["on"]:
            raise OSError("disk full")
        return real_flush(job)

    monkeypatch.setattr(collect_worker, "flush", flaky)
    col = DatasetCollector(str(ds_dir), name="edge", port=0, render=False, writer="thread", flush_s=0.3).start()
    acked, lock = {}, threading.Lock()
    _send(col, "a", events, acked, lock)
    assert col.wait_written(30)
    col.stop()   # the flush fails: nothing published, the spool keeps the session
    assert open_dataset(str(ds_dir)).table("sessions").num_rows == 0
    failing["on"] = False
    col = DatasetCollector(str(ds_dir), name="edge", port=0, render=False, writer="thread").start()
    assert col.wait_written(30)
    col.stop()
    col = DatasetCollector(str(ds_dir), name="edge", port=0, render=False, writer="thread").start()
    col.stop()
    assert open_dataset(str(ds_dir)).table("sessions").column("external_id").to_pylist() == ["a"]


def test_collect_cli_needs_one_store(tmp_path, capsys):
    from hindsight.cli import main

    assert main(["collect"]) == 2
    assert "give a CAPTURE file or --dataset DIR" in capsys.readouterr().err
    assert main(["collect", str(tmp_path / "a.sqlite"), "--dataset", str(tmp_path / "d")]) == 2
    capsys.readouterr()
    assert main(["collect", "--dataset", str(tmp_path / "d"), "--name", "bad name!"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "collector name 'bad name!'" in err

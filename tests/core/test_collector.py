"""The HTTP collector: rrweb batches posted to a loopback port become capture sessions."""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from hindsight.importers.collector import Collector
from hindsight.store import EventKind as K, open_capture

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]


def _post(collector: Collector, path: str, body: bytes, headers: dict | None = None) -> tuple[int, dict, dict]:
    host, port = collector.address
    con = http.client.HTTPConnection(host, port, timeout=30)
    try:
        con.request("POST", path, body=body, headers={"Content-Type": "text/plain", **(headers or {})})
        resp = con.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {}), dict(resp.getheaders())
    finally:
        con.close()


def _batches(events: list, size: int = 25) -> list[bytes]:
    return [json.dumps(events[i:i + size]).encode() for i in range(0, len(events), size)]


@pytest.fixture
def collector(tmp_path):
    col = Collector(tmp_path / "live.sqlite", port=0, render=False, max_body=256 * 1024)
    col.start()
    yield col
    col.stop()


def test_posted_sessions_are_appended_while_the_capture_is_open(collector):
    viewer = open_capture(collector.capture)  # a viewer holding the capture open, read-only
    assert viewer.session_count() == 0
    names = ["session_signup_rrweb2.json", "session_mobile_rrweb2.json"]
    for n, name in enumerate(names):
        events = json.loads((DATA / name).read_text())
        for body in _batches(events):
            status, reply, headers = _post(collector, f"/v1/sessions/key{n}/events", body,
                                           {"Origin": "http://shop.hindsight.test"})
            assert status == 202, reply
            assert headers["Access-Control-Allow-Origin"] == "http://shop.hindsight.test"
        assert viewer.session_count() == n  # nothing is written before the session ends
        status, reply, _ = _post(collector, f"/v1/sessions/key{n}/end", b"")
        assert status == 200, reply
        assert reply["pageviews"] == EXPECTED[name]["meta_count"]
        assert reply["rrweb_events"] == EXPECTED[name]["event_count"]
    assert viewer.session_count() == 2
    table = viewer.session_table()
    assert sorted(table["pageview_count"].tolist()) == sorted(EXPECTED[n]["meta_count"] for n in names)
    sid = int(table["session_id"][table["device"] == "desktop"][0])
    _, ev, _ = viewer.session_events(sid)
    exp = EXPECTED["session_signup_rrweb2.json"]
    assert int(np.count_nonzero(ev.kind == K.CLICK)) == exp["click_count"]
    assert int(np.count_nonzero(ev.kind == K.INPUT)) == exp["input_count"]
    viewer.close()


def test_concurrent_sessions(collector):
    events = json.loads((DATA / "session_abandon_rrweb2.json").read_text())
    errors = []

    def send(key):
        try:
            for body in _batches(events, 10):
                assert _post(collector, f"/v1/sessions/{key}/events", body)[0] == 202
            assert _post(collector, f"/v1/sessions/{key}/end", b"[]")[0] == 200
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(f"c{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with open_capture(collector.capture) as cap:
        assert cap.session_count() == 4
        assert cap.counts()["pageviews"] == 4 * EXPECTED["session_abandon_rrweb2.json"]["meta_count"]


def test_bad_batches_are_rejected_and_nothing_is_written(collector):
    for body, fragment in [(b"{not json", "not valid JSON"), (b'{"a": 1}', "expected a JSON array"),
                           (b'[{"type": "x", "timestamp": 1}]', "integer 'type'"),
                           (b'[{"type": 3}]', "numeric 'timestamp'"), (b"[1, 2", "truncated")]:
        status, reply, _ = _post(collector, "/v1/sessions/bad/events", body)
        assert status == 400 and fragment in reply["error"], (body, reply)
    assert collector.buffered() == {}
    status, reply, _ = _post(collector, "/v1/sessions/bad/end", b"")
    assert status == 404
    # a session whose events cannot be imported (no Meta) is rejected at its end, not half-written
    events = [e for e in json.loads((DATA / "session_error_rrweb1.json").read_text()) if e["type"] != 4]
    assert _post(collector, "/v1/sessions/nometa/events", json.dumps(events).encode())[0] == 202
    status, reply, _ = _post(collector, "/v1/sessions/nometa/end", b"")
    assert status == 400 and "no Meta event" in reply["error"]
    with open_capture(collector.capture) as cap:
        assert cap.session_count() == 0 and cap.counts()["pageviews"] == 0
    status, reply, _ = _post(collector, "/v1/sessions/bad%20key/events", b"[]")
    assert status == 400 and "session key" in reply["error"]


def test_too_big_is_413(collector):
    body = b"[" + b" " * (300 * 1024) + b"]"
    status, reply, _ = _post(collector, "/v1/sessions/big/events", body)
    assert status == 413 and "limit" in reply["error"]
    assert collector.buffered() == {}


def test_cors_preflight_and_health(collector):
    host, port = collector.address
    con = http.client.HTTPConnection(host, port, timeout=10)
    con.request("OPTIONS", "/v1/sessions/k/events", headers={"Origin": "https://shop.example",
                                                              "Access-Control-Request-Method": "POST"})
    resp = con.getresponse()
    resp.read()
    assert resp.status == 204 and resp.getheader("Access-Control-Allow-Origin") == "https://shop.example"
    con.request("GET", "/v1/health")
    resp = con.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["ok"] is True
    con.close()
    assert collector.address[0] == "127.0.0.1"


def test_idle_and_shutdown_write_buffered_sessions(tmp_path):
    events = json.loads((DATA / "session_error_rrweb1.json").read_text())
    col = Collector(tmp_path / "idle.sqlite", port=0, render=False, idle_s=0.2).start()
    try:
        assert _post(col, "/v1/sessions/idle1/events", json.dumps(events).encode())[0] == 202
        for _ in range(100):
            if col.written:
                break
            threading.Event().wait(0.05)
        assert [w["reason"] for w in col.written] == ["idle"]
    finally:
        col.stop()
    col = Collector(tmp_path / "idle.sqlite", port=0, render=False).start()
    assert _post(col, "/v1/sessions/late/events", json.dumps(events).encode())[0] == 202
    col.stop()  # shutdown writes what is buffered
    with open_capture(tmp_path / "idle.sqlite") as cap:
        assert cap.session_count() == 2
        assert {cap.session(int(s)).external_id for s in cap.session_ids()} == {"idle1", "late"}


def test_allowed_origins(tmp_path):
    col = Collector(tmp_path / "o.sqlite", port=0, render=False, allowed_origins=("https://ok.example",)).start()
    try:
        _, _, headers = _post(col, "/v1/sessions/o/events", b"[]", {"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in headers
        _, _, headers = _post(col, "/v1/sessions/o/events", b"[]", {"Origin": "https://ok.example"})
        assert headers["Access-Control-Allow-Origin"] == "https://ok.example"
    finally:
        col.stop()

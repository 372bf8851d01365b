"""The HTTP collector: rrweb batches posted to a loopback port become capture sessions.

Every batch answered 2xx is on disk (the spool) and ends up in the capture exactly once, even
across a kill -9; refused posts (token, origin, size, bad JSON) write nothing; slow and flooding
clients do not starve normal ones. All traffic goes to 127.0.0.1 and every loop is bounded.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hindsight.importers.collector import Collector, load_or_create_token, sidecar_dir
from hindsight.benchmarks.collector import T0, CollectorProcess, LoadResult, run_load, start_probes
from hindsight.importers.collector_spool import list_segments, read_segment
from hindsight.store import EventKind as K, open_capture

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]
P99_TARGET_MS = 50.0


def _post(collector, path: str, body: bytes, headers: dict | None = None, token: str | None = "auto",
          timeout: float = 30) -> tuple[int, dict, dict]:
    host, port = collector.address if isinstance(collector, Collector) else collector
    if token == "auto":
        token = collector.token
    if token is not None:
        path += ("&" if "?" in path else "?") + f"token={token}"
    con = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        con.request("POST", path, body=body, headers={"Content-Type": "text/plain", **(headers or {})})
        resp = con.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {}), dict(resp.getheaders())
    finally:
        con.close()


def _batches(events: list, size: int = 25) -> list[bytes]:
    return [json.dumps(events[i:i + size]).encode() for i in range(0, len(events), size)]


def _spooled(capture: Path) -> list:
    """Every record in the capture's spool."""
    folder = sidecar_dir(capture) / "spool"
    return [r for seq, path in list_segments(folder) for r in read_segment(path, seq)]


@pytest.fixture
def collector(tmp_path):
    col = Collector(tmp_path / "live.sqlite", port=0, render=False, max_body=256 * 1024, writer="thread")
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
        assert collector.buffered()[f"key{n}"] == len(events)
        assert viewer.session_count() == n  # nothing is written before the session ends
        status, reply, _ = _post(collector, f"/v1/sessions/key{n}/end", b"")
        assert status == 202 and reply["status"] == "queued" and reply["events"] == len(events), reply
        assert collector.wait_written(30)
        assert collector.written[-1]["pageviews"] == EXPECTED[name]["meta_count"]
        assert collector.written[-1]["rrweb_events"] == EXPECTED[name]["event_count"]
    assert viewer.session_count() == 2
    table = viewer.session_table()
    assert sorted(table["pageview_count"].tolist()) == sorted(EXPECTED[n]["meta_count"] for n in names)
    sid = int(table["session_id"][table["device"] == "desktop"][0])
    _, ev, _ = viewer.session_events(sid)
    exp = EXPECTED["session_signup_rrweb2.json"]
    assert int(np.count_nonzero(ev.kind == K.CLICK)) == exp["click_count"]
    assert int(np.count_nonzero(ev.kind == K.INPUT)) == exp["input_count"]
    viewer.close()
    assert collector.buffered() == {}
    # the capture records which spooled sessions it holds, so a restart cannot write them twice
    meta = open_capture(collector.capture).meta
    assert sorted(v for k, v in meta.items() if k.startswith("collector.done.")) == ["1", "2"]


def test_concurrent_sessions(collector):
    events = json.loads((DATA / "session_abandon_rrweb2.json").read_text())
    errors = []

    def send(key):
        try:
            for body in _batches(events, 10):
                assert _post(collector, f"/v1/sessions/{key}/events", body)[0] == 202
            assert _post(collector, f"/v1/sessions/{key}/end", b"[]")[0] == 202
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(f"c{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert collector.wait_written(30)
    with open_capture(collector.capture) as cap:
        assert cap.session_count() == 4
        assert cap.counts()["pageviews"] == 4 * EXPECTED["session_abandon_rrweb2.json"]["meta_count"]


def test_hostile_json_is_400_and_writes_nothing(collector):
    cases = [(b"{not json", "not valid JSON"), (b'{"a": 1}', "expected a JSON array"),
             (b'[{"type": "x", "timestamp": 1}]', "integer 'type'"),
             (b'[{"type": 3}]', "numeric 'timestamp'"), (b"[1, 2", "truncated"),
             (b"[" * 100_000 + b"]" * 100_000, "depth limit"), (b"[NaN]", "not valid JSON"),
             (b'[{"type": 3, "timestamp": 1e999}]', "infinity"), (b"\xff\xfe[]", "UTF-8"),
             (b'[{"type": 3, "timestamp": 1e300}]', "numeric 'timestamp'"),
             (b'[{"type": 3, "timestamp": 1}, 7]', "event #1 is not an object"),
             (b'[{"type": 3, "timestamp": 1, "data": "' + b"\\ud800" * 1000 + b'"}, 7]', "not")]
    for body, fragment in cases:
        status, reply, _ = _post(collector, "/v1/sessions/bad/events", body)
        assert status == 400 and fragment in reply["error"], (body[:40], reply)
    assert collector.buffered() == {}
    assert [r for r in _spooled(collector.capture) if r.kind == "b"] == []
    status, reply, _ = _post(collector, "/v1/sessions/bad/end", b"")
    assert status == 404
    # a session whose events cannot be imported (no Meta) is rejected at its end, not half-written
    events = [e for e in json.loads((DATA / "session_error_rrweb1.json").read_text()) if e["type"] != 4]
    assert _post(collector, "/v1/sessions/nometa/events", json.dumps(events).encode())[0] == 202
    assert _post(collector, "/v1/sessions/nometa/end", b"")[0] == 202
    assert collector.wait_written(30)
    assert len(collector.rejected) == 1 and "no Meta event" in collector.rejected[0]["error"]
    with open_capture(collector.capture) as cap:
        assert cap.session_count() == 0 and cap.counts()["pageviews"] == 0
    status, reply, _ = _post(collector, "/v1/sessions/bad%20key/events", b"[]")
    assert status == 400 and "session key" in reply["error"]
    # nothing else broke: a good session still goes through
    good = json.loads((DATA / "session_error_rrweb1.json").read_text())
    assert _post(collector, "/v1/sessions/good/end", json.dumps(good).encode())[0] == 202
    assert collector.wait_written(30)
    with open_capture(collector.capture) as cap:
        assert cap.session_count() == 1


def test_too_big_is_413(collector):
    body = b"[" + b" " * (300 * 1024) + b"]"
    status, reply, _ = _post(collector, "/v1/sessions/big/events", body)
    assert status == 413 and "limit" in reply["error"]
    # the same without a Content-Length (chunked): refused while reading
    host, port = collector.address
    con = http.client.HTTPConnection(host, port, timeout=30)
    con.request("POST", f"/v1/sessions/big/events?token={collector.token}", body=iter([body[:150_000], body[150_000:]]),
                encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    resp = con.getresponse()
    assert resp.status == 413 and "limit" in json.loads(resp.read())["error"]
    con.close()
    assert collector.buffered() == {} and _spooled(collector.capture) == []


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
    col = Collector(tmp_path / "idle.sqlite", port=0, render=False, idle_s=0.2, writer="thread").start()
    try:
        assert _post(col, "/v1/sessions/idle1/events", json.dumps(events).encode())[0] == 202
        for _ in range(100):
            if col.written:
                break
            threading.Event().wait(0.05)
        assert [w["reason"] for w in col.written] == ["idle"]
    finally:
        col.stop()
    col = Collector(tmp_path / "idle.sqlite", port=0, render=False, writer="thread").start()
    assert _post(col, "/v1/sessions/late/events", json.dumps(events).encode())[0] == 202
    col.stop()  # shutdown writes what is buffered
    assert list_segments(sidecar_dir(tmp_path / "idle.sqlite") / "spool") == []  # all in the capture
    with open_capture(tmp_path / "idle.sqlite") as cap:
        assert cap.session_count() == 2
        assert {cap.session(int(s)).external_id for s in cap.session_ids()} == {"idle1", "late"}


def test_token_and_origin_are_enforced_and_refused_posts_write_nothing(tmp_path):
    capture = tmp_path / "o.sqlite"
    col = Collector(capture, port=0, render=False, allowed_origins=("https://ok.example",), writer="thread").start()
    body = (DATA / "session_error_rrweb1.json").read_bytes()
    ok = {"Origin": "https://ok.example"}
    try:
        token = col.token
        assert len(token) >= 24 and (sidecar_dir(capture) / "token").stat().st_mode & 0o077 == 0
        assert load_or_create_token(capture) == token  # kept for the next start
        for path, headers, tok, status in [
            ("/v1/sessions/o/events", ok, None, 401),
            ("/v1/sessions/o/events", ok, "x" + token, 401),
            ("/v1/sessions/o/end", ok, token[:-1], 401),
            ("/v1/sessions/o/events", {"Origin": "https://evil.example"}, token, 403),
            ("/v1/sessions/o/end", {"Origin": "https://evil.example"}, token, 403),
            ("/v1/sessions/o/events", {}, token, 403),  # no Origin at all when an allow-list is set
        ]:
            st, reply, hdrs = _post(col, path, body, headers, token=tok)
            assert st == status, (path, headers, reply)
            assert hdrs.get("Access-Control-Allow-Origin") in (None, "https://ok.example")
        assert col.buffered() == {} and _spooled(capture) == []
        # the token may come as a header too (Authorization: Bearer or X-Hindsight-Token)
        st, _, hdrs = _post(col, "/v1/sessions/o/events", body, {**ok, "Authorization": f"Bearer {token}"}, token=None)
        assert st == 202 and hdrs["Access-Control-Allow-Origin"] == "https://ok.example"
        st, _, _ = _post(col, "/v1/sessions/o/end", b"", {**ok, "X-Hindsight-Token": token}, token=None)
        assert st == 202
        assert col.wait_written(30)
        host, port = col.address
        con = http.client.HTTPConnection(host, port, timeout=10)
        con.request("OPTIONS", "/v1/sessions/k/events", headers={"Origin": "https://evil.example"})
        resp = con.getresponse()
        resp.read()
        assert resp.status == 403 and resp.getheader("Access-Control-Allow-Origin") is None
        con.close()
    finally:
        col.stop()
    with open_capture(capture) as cap:
        assert cap.session_count() == 1
    assert [r.kind for r in _spooled(capture)] in (["b", "e"], [])  # only the accepted session


def test_restart_completes_sessions_from_the_spool_exactly_once(tmp_path):
    """In-process restarts: an ended-but-unwritten session is written on start, an open one goes on."""
    capture = tmp_path / "r.sqlite"
    events = json.loads((DATA / "session_signup_rrweb2.json").read_text())
    col = Collector(capture, port=0, render=False, writer="thread", spool_segment_bytes=4096).start()
    batches = _batches(events, 20)
    for body in batches[:4]:
        assert _post(col, "/v1/sessions/open/events", body)[0] == 202
    assert _post(col, "/v1/sessions/done/end", json.dumps(events).encode())[0] == 202
    assert col.wait_written(30)
    # simulate a crash: the loop's thread stops without the shutdown that writes open sessions
    col._open_by_key.clear()
    col.stop()
    assert len(list_segments(sidecar_dir(capture) / "spool")) > 1  # small segments: several files
    col = Collector(capture, port=0, render=False, writer="thread", spool_segment_bytes=4096).start()
    try:
        assert col.buffered() == {"open": 80}  # read back from the spool; "done" is in the capture
        for body in batches[4:]:
            assert _post(col, "/v1/sessions/open/events", body)[0] == 202
        assert _post(col, "/v1/sessions/open/end", b"")[0] == 202
        assert col.wait_written(30)
    finally:
        col.stop()
    with open_capture(capture) as cap:
        assert cap.session_count() == 2
        for sid in cap.session_ids():
            _, ev, _ = cap.session_events(int(sid))
            assert int(np.count_nonzero(ev.kind == K.CLICK)) == EXPECTED["session_signup_rrweb2.json"]["click_count"]
        done_rows = [k for k in cap.meta if k.startswith("collector.done.")]
    # finished segments are deleted; the done rows of deleted segments are dropped again
    segs = list_segments(sidecar_dir(capture) / "spool")
    assert len(segs) <= 2 and len(done_rows) <= 2


def test_restart_after_a_rejected_session_keeps_the_open_ones(tmp_path):
    """A rejected session's records share a spool segment with a session still open: reading the
    spool back must not drop that segment."""
    capture = tmp_path / "d.sqlite"
    col = Collector(capture, port=0, render=False, writer="thread").start()
    nometa = [e for e in json.loads((DATA / "session_error_rrweb1.json").read_text()) if e["type"] != 4]
    assert _post(col, "/v1/sessions/nometa/end", json.dumps(nometa).encode())[0] == 202
    assert col.wait_written(30) and len(col.rejected) == 1
    events = json.loads((DATA / "session_signup_rrweb2.json").read_text())
    assert _post(col, "/v1/sessions/open/events", json.dumps(events).encode())[0] == 202
    col._open_by_key.clear()  # "crash": no shutdown write
    col.stop()
    assert [r.kind for r in _spooled(capture)] == ["b", "e", "d", "b"]
    col = Collector(capture, port=0, render=False, writer="thread").start()
    try:
        assert col.buffered() == {"open": len(events)}
        assert _post(col, "/v1/sessions/open/end", b"")[0] == 202
        assert col.wait_written(30)
        assert col.rejected == type(col.rejected)() and [w["key"] for w in col.written] == ["open"]
    finally:
        col.stop()
    clicks = _clicks_by_session(capture)
    assert list(clicks) == ["open"] and len(clicks["open"]) == EXPECTED["session_signup_rrweb2.json"]["click_count"]


def test_another_writer_in_between_is_noticed(collector, tmp_path):
    """The worker keeps its capture connection open between sessions; an import into the same
    capture meanwhile must not make it reuse ids."""
    from hindsight.importers.session_writer import import_files

    events = (DATA / "session_error_rrweb1.json").read_bytes()
    assert _post(collector, "/v1/sessions/a/end", events)[0] == 202
    assert collector.wait_written(30)
    import_files([DATA / "session_signup_rrweb2.json"], collector.capture, append=True, render=False)
    assert _post(collector, "/v1/sessions/b/end", events)[0] == 202
    assert collector.wait_written(30)
    assert not collector.rejected, collector.rejected
    with open_capture(collector.capture) as cap:
        assert cap.session_count() == 3
        ids = {cap.session(int(s)).external_id: int(s) for s in cap.session_ids()}
    assert ids["a"] == 1 and ids["b"] == 3


def _clicks_by_session(capture: Path) -> dict[str, list[int]]:
    out = {}
    with open_capture(capture) as cap:
        for sid in cap.session_ids():
            s = cap.session(int(sid))
            _, ev, _ = cap.session_events(int(sid))
            assert s.external_id not in out, f"session {s.external_id} written twice"
            out[s.external_id] = sorted(ev.t[ev.kind == K.CLICK].tolist())
    return out


def test_kill_9_under_load_loses_no_acknowledged_batch(tmp_path):
    """20 clients post to a real `hindsight collect`; it (and its writer) is SIGKILLed mid-load and
    restarted: every batch that got a 2xx is in the capture, exactly once."""
    capture = tmp_path / "k.sqlite"
    col = CollectorProcess(capture, "--no-render")
    per_batch, batches, sessions = 20, 30, 3

    async def load_then_kill():
        res = LoadResult()

        async def killer():  # once some sessions have ended and others are mid-way
            for _ in range(400):
                if len(res.ended) >= 10 and len(res.acked) >= 700:
                    break
                await asyncio.sleep(0.025)
            await asyncio.get_running_loop().run_in_executor(None, col.kill)

        kill = asyncio.create_task(killer())
        await run_load(col.url, col.token, clients=20, sessions=sessions, batches=batches,
                       per_batch=per_batch, kind="clicks", deadline_s=30, prefix="k", res=res)
        await kill
        return res

    try:
        res = asyncio.run(load_then_kill())
    finally:
        if col.proc.poll() is None:
            col.kill()
    assert res.errors, "the kill happened after the load finished; nothing was tested"
    assert len(res.acked) > 100 and res.ended
    col = CollectorProcess(capture, "--no-render")
    try:
        assert col.wait_written(60)
    except BaseException:
        col.kill()
        raise
    assert col.stop() == 0  # SIGTERM: open sessions are written too
    got = _clicks_by_session(capture)
    acked: dict[str, set] = {}
    for c, s, b, _ in res.acked:
        acked.setdefault(f"k-{c}-{s}", set()).add(b)
    lost = 0
    for key, bs in acked.items():
        c, s = (int(x) for x in key.split("-")[1:])
        times = set(got.get(key, []))
        t_session = (c * 1000 + s) * 10_000_000 + T0
        start = t_session  # times are ms since the session start (the Meta at t_session)
        for b in bs:
            first = max(0, b * per_batch - 2)
            last = (b + 1) * per_batch - 2
            want = {10 * (i + 1) for i in range(first, last)}
            lost += len(want - times)
        assert len(got.get(key, [])) == len(times), f"{key}: a click was written twice"
        del start
    assert lost == 0
    total_acked = sum(n for *_, n in res.acked)
    total_clicks = sum(len(v) for v in got.values())
    # every acknowledged event is there; at most the batches in flight at the kill are extra
    assert total_clicks >= total_acked - 2 * len(acked)
    assert total_clicks <= total_acked - 2 * len(acked) + 20 * per_batch


def _rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def test_slow_connections_and_memory_flood_leave_normal_clients_served(tmp_path):
    """300 connections trickling a header byte by byte and 8 clients posting 4.6 MB bodies
    (memory budget 16 MB), from another process, while 20 normal clients post 50-event batches
    at 10k events/s."""
    capture = tmp_path / "p.sqlite"
    col = CollectorProcess(capture, "--no-render", "--read-timeout", "1.5", "--max-connections", "150",
                           "--memory-mb", "16", "--max-body-mb", "5")
    normal = {"clients": 20, "sessions": 1, "batches": 20, "per_batch": 50, "rate": 10_000, "deadline_s": 30}
    runs, probes = [], []
    try:
        rss_before = _rss_peak_kb(col.proc.pid)
        # the same load without the probes first: on the shared 2-core machine the scheduler alone
        # can add tens of ms, and the probes must not make it worse than that (or than the target);
        # more tries if the machine had a hiccup: a CI run on 2026-12-08 had one spool fsync of
        # 112 ms in the first try and of 162 ms in the second (the server's spool_sync_max_ms;
        # the refused flood writes nothing), each enough to lift the p99 of 400 batches
        for attempt in range(3):
            baseline = asyncio.run(run_load(col.url, col.token, prefix=f"b{attempt}", **normal)).figures()
            proc = start_probes(col.url, col.token, slow=300, slow_s=3.0, flooders=8, posts=2, flood_mb=4.6)
            time.sleep(1.0)  # the probe process starts, opens its connections and starts posting
            res = asyncio.run(run_load(col.url, col.token, prefix=f"n{attempt}", **normal))
            out, _ = proc.communicate(timeout=120)
            probes.append(json.loads(out))
            runs.append((baseline, res.figures()))
            assert not res.errors and len(res.acked) == 20 * 20, res.errors[:3]
            if res.figures()["batch_p99_ms"] <= max(P99_TARGET_MS, 2 * baseline["batch_p99_ms"] + 10):
                break
        rss_growth_mb = (_rss_peak_kb(col.proc.pid) - rss_before) / 1024
        stats = col.health()["stats"]
        assert col.wait_written(60)
    finally:
        code = col.stop()
    print(f"baseline / with probes {runs}\nserver {stats}")
    baseline, fig = runs[-1]
    assert fig["batch_p99_ms"] <= max(P99_TARGET_MS, 2 * baseline["batch_p99_ms"] + 10), runs
    # the flood was refused: 400 (a bad first event) or 503 + Retry-After over the memory budget
    flood = [tuple(f) for p in probes for f in p["flood"]]
    statuses = [s for s, _ in flood]
    assert len(statuses) == 16 * len(runs) and set(statuses) <= {400, 503, "reset"}, statuses
    assert all(ra == "1" for s, ra in flood if s == 503)
    assert statuses.count(503) > 0 and statuses.count(400) > 0
    assert stats["http_503"] >= statuses.count(503) and stats["http_400"] == statuses.count(400)
    assert rss_growth_mb < 200, rss_growth_mb  # 74 MB posted per try; bodies in flight are capped at 16 MB
    assert all(p["closed"] >= 150 for p in probes)  # slow connections were cut (read timeout, cap)
    assert code == 0
    sessions = {f"{p}{a}-{c}-0" for c in range(20) for p in "bn" for a in range(len(runs))}
    assert _clicks_by_session(capture).keys() == sessions


def test_cli_argument_errors_are_one_line(tmp_path, capsys):
    from hindsight.cli import main
    from hindsight.importers.collector import is_loopback

    cap = str(tmp_path / "c.sqlite")
    for args in (["--port", "70000"], ["--memory-mb", "nan"], ["--read-timeout", "0"], ["--max-body-mb", "inf"],
                 ["--max-connections", "0"]):
        assert main(["collect", cap, *args]) == 2
        err = capsys.readouterr().err.strip()
        assert f"error: argument {args[0]}: " in err and "\n" not in err, err
    with socket.socket() as busy:  # a port that is taken: one line, exit 2
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        assert main(["collect", cap, "--port", str(busy.getsockname()[1])]) == 2
        err = capsys.readouterr().err.strip()
        assert "cannot listen on 127.0.0.1" in err and "\n" not in err, err
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.5", "")] == \
        [True, True, True, False, False, False]


def test_read_timeouts_close_slow_requests(tmp_path):
    col = Collector(tmp_path / "t.sqlite", port=0, render=False, writer="thread", read_timeout=0.5).start()
    try:
        host, port = col.address
        # a body that stops halfway: 408 once the read timeout has passed, nothing spooled
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(f"POST /v1/sessions/t/events?token={col.token} HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: 1000\r\n\r\n[{".encode())
            t = time.monotonic()
            reply = s.recv(4096)
            assert reply.startswith(b"HTTP/1.1 408") and 0.4 < time.monotonic() - t < 5, reply
        # a header that never ends: the connection is closed without a reply
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(b"POST /v1/sessions/t/events HTTP/1.1\r\nHost: x\r\n")
            t = time.monotonic()
            assert s.recv(4096) == b"" and time.monotonic() - t < 5
        # the snippet to paste carries the URL and the token
        assert f'"{col.url}/v1/sessions/"' in col.snippet() and f"?token={col.token}" in col.snippet()
        assert col.buffered() == {} and _spooled(tmp_path / "t.sqlite") == []
    finally:
        col.stop()


def test_spool_reads_back_whole_records_and_stops_at_a_torn_one(tmp_path):
    from hindsight.importers.collector_spool import Spool

    async def write():
        spool = Spool(tmp_path / "spool", segment_bytes=300)
        spool.start(asyncio.get_running_loop())
        recs = []
        for i in range(6):
            recs += await spool.append([("b", "k", "inst1", b'[{"type": 3, "timestamp": %d}]' % i, 1)])
        await spool.append([("e", "k", "inst1", b"", 0)])
        spool.close()
        return recs

    recs = asyncio.run(write())
    segs = list_segments(tmp_path / "spool")
    assert len(segs) >= 2  # 300-byte segments: the records spread over several files
    back = [r for seq, path in segs for r in read_segment(path, seq)]
    assert [r.kind for r in back] == ["b"] * 6 + ["e"]
    assert [r.payload() for r in back[:6]] == [r.payload() for r in recs]
    assert [json.loads(r.payload())[0]["timestamp"] for r in back[:6]] == list(range(6))
    # a crash in the middle of a write leaves a partial frame at the end of the last segment
    seq, last = segs[-1]
    whole = last.read_bytes()
    last.write_bytes(whole + whole[8:30])
    assert [r.kind for r in read_segment(last, seq)] == [r.kind for r in back if r.segment == seq]
    last.write_bytes(whole[:-3])  # the last record itself cut short
    assert len(list(read_segment(last, seq))) == len([r for r in back if r.segment == seq]) - 1


def test_cli_prints_token_snippet_and_warns_on_a_non_loopback_address(tmp_path, capsys, monkeypatch):
    """What `hindsight collect` prints at start (the server itself is stubbed: nothing listens)."""
    import hindsight.importers.collector as collector_mod
    from hindsight.cli import main

    seen = {}

    class Stub:
        def __init__(self, capture, host, **kw):
            seen.update(kw, host=host)
            self.allowed_origins, self.token, self.url = kw["allowed_origins"], "tok123", f"http://{host}:8765"
            self.written, self.rejected = [], []

        def snippet(self):
            return collector_mod.recorder_snippet(self.url, self.token)

        def serve_forever(self):
            pass

        def stop_soon(self):
            pass

    monkeypatch.setattr(collector_mod, "Collector", Stub)
    monkeypatch.setattr("signal.signal", lambda *a: None)
    assert main(["collect", str(tmp_path / "c.sqlite"), "--host", "0.0.0.0", "--allow-origin", "https://a.example",
                 "--memory-mb", "8", "--read-timeout", "3"]) == 0
    out, err = capsys.readouterr()
    assert "warning: listening on 0.0.0.0" in err
    assert "token: tok123" in out and "origins: https://a.example" in out
    assert '"http://0.0.0.0:8765/v1/sessions/", TOKEN = "?token=tok123"' in out
    assert seen["memory_budget"] == 8 * 2**20 and seen["read_timeout"] == 3.0
    assert main(["collect", str(tmp_path / "c.sqlite")]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in err and "origins: any" in out

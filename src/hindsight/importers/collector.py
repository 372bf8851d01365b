"""The HTTP endpoint rrweb recorders post event batches to (``hindsight collect``), on aiohttp.

``POST /v1/sessions/<key>/events?token=T`` with a JSON array of rrweb events appends the batch
to the spool (``collector_spool``: append-only segment files, group-committed with
``fdatasync``) and answers 202 only once it is on disk. ``POST /v1/sessions/<key>/end``
(optionally with a last batch), 30 idle minutes, or shutting down ends the session: an end
record is spooled, the reply is sent (202) and a worker process (``collector_worker``) writes
the session into the capture in one transaction, Chromium layout included, off the request
path. A viewer with the capture open (WAL mode) sees either the whole session or nothing.
After a crash, the spool is read back on start: ended sessions are written, open ones go on
buffering, and sessions the capture already holds (``meta`` row ``collector.done.<instance>``,
written in the session's own transaction) are not written twice.

Every post needs the collector's token (``?token=``, ``Authorization: Bearer`` or
``X-Hindsight-Token``; else 401). With ``allowed_origins`` set, a post or preflight from another
(or no) ``Origin`` gets 403. Nothing is spooled for a refused request. Limits: bodies above
``max_body`` 413; in-flight request bodies above ``memory_budget`` 503 with ``Retry-After``; a
body not received within ``read_timeout`` 408; a connection that sends no complete request
within ``read_timeout`` is closed; above ``max_connections`` the longest-idle connection is
dropped (or, when all are busy, the new one gets 503). Malformed batches get 400 with
``{"error": ...}``. The server binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import ipaddress
import logging
import multiprocessing
import os
import re
import secrets
import socket
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiohttp import web

from hindsight.importers import collector_worker as worker
from hindsight.importers.collector_spool import Record, Spool
from hindsight.store.errors import CaptureError

log = logging.getLogger("hindsight.collector")

DEFAULT_MAX_BODY = 5 * 2**20
DEFAULT_IDLE_S = 30 * 60
DEFAULT_MEMORY_BUDGET = 64 * 2**20
DEFAULT_READ_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS = 2000
DEFAULT_BACKLOG = 1024
MAX_SESSION_BYTES = 64 * 2**20
BIG_BODY = 256 * 1024  # bodies above this are checked in a helper process, one at a time
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_BUSY_BODY = b'{"error": "too many connections, retry"}'
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY))


def sidecar_dir(capture: str | os.PathLike[str]) -> Path:
    """``CAPTURE.collector/``: the collector's token and spool, beside the capture."""
    capture = Path(capture)
    return capture.with_name(capture.name + ".collector")


def load_or_create_token(capture: str | os.PathLike[str]) -> str:
    """The collector token of ``capture``, created (mode 600) on first use."""
    path = sidecar_dir(capture) / "token"
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def recorder_snippet(url: str, token: str) -> str:
    """The ``<script>`` to paste into the recorded pages."""
    return f"""<script type="module">
  import {{ record }} from "https://cdn.rrweb.com/record/current/dist/record.js";
  const HS = "{url}/v1/sessions/", TOKEN = "?token={token}";
  const key = sessionStorage.hsKey || (sessionStorage.hsKey = crypto.randomUUID()); // one per tab
  let batch = [];
  const send = (path, beacon) => {{
    const url = HS + key + path + TOKEN, body = JSON.stringify(batch); batch = [];
    if (beacon) navigator.sendBeacon(url, body);     // a string body: text/plain, no preflight
    else fetch(url, {{ method: "POST", body, keepalive: true }});
  }};
  record({{ emit: (e) => batch.push(e), maskAllInputs: true }});
  setInterval(() => batch.length && send("/events"), 5000);
  addEventListener("pagehide", () => batch.length && send("/events", true));
  // when the visit is over (e.g. after checkout): send("/end")
</script>"""


def validate_batch(doc) -> list:
    """The batch's events, or ``ValueError`` saying what is wrong with it."""
    if not isinstance(doc, list):
        raise ValueError(f"expected a JSON array of rrweb events, got a JSON {type(doc).__name__}")
    for i, ev in enumerate(doc):
        if not isinstance(ev, dict):
            raise ValueError(f"event #{i} is not an object")
        if type(ev.get("type")) is not int:
            raise ValueError(f"event #{i} has no integer 'type'")
        ts = ev.get("timestamp")
        if type(ts) not in (int, float) or ts != ts or abs(ts) > 1e15:
            raise ValueError(f"event #{i} has no numeric 'timestamp'")
    return doc


def _check_body(body: bytes) -> int:
    """Number of events in a posted batch; ``ValueError`` with the problem otherwise.

    orjson only: its own message is clear enough, and the stdlib fallback ``parse_json_bytes``
    uses for wording would hold the GIL for tens of ms on a hostile 5 MB body."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("unexpected end of data") or exc.pos >= len(body.rstrip()) - 1:
            raise ValueError(f"is not valid JSON: it ends early at byte {exc.pos} (truncated?)") from None
        raise ValueError(f"is not valid JSON: {exc}") from None
    return len(validate_batch(doc))


@dataclass
class _Instance:
    """One session of a key, from its first batch to its end (ids are unique per spool)."""

    key: str
    id: str
    refs: list = field(default_factory=list)  # (path, offset, length) of each spooled batch
    segs: set = field(default_factory=set)
    events: int = 0
    batches: int = 0
    bytes: int = 0  # accepted so far, including batches still being written
    last_seen: float = field(default_factory=time.monotonic)
    ended: bool = False
    reason: str = "end"


class Collector:
    """An aiohttp server that spools posted rrweb batches and writes finished sessions to ``capture``.

    Parameters
    ----------
    capture : the capture file (created empty if missing)
    host, port : where to listen (port 0: any free port; see ``address``)
    max_body : largest accepted request body in bytes (larger: 413)
    idle_s : a session with no batch for this many seconds is ended and written
    mask, render : as for ``import_files``
    allowed_origins : page origins allowed to post (None: any origin; the token is still needed)
    token : the token posts must carry (None: the capture's, created on first start)
    memory_budget : bytes of request bodies held in memory at once (beyond: 503 + Retry-After)
    read_timeout : seconds for a connection to deliver a complete request (headers, body)
    max_connections, backlog : open-connection cap and listen backlog
    writer : ``"process"`` (default: sessions are parsed, rendered and written in a worker
        process) or ``"thread"`` (same code on a thread of this process)
    """

    def __init__(self, capture: str | Path, host: str = "127.0.0.1", port: int = 0,
                 max_body: int = DEFAULT_MAX_BODY, idle_s: float = DEFAULT_IDLE_S, mask: bool = True,
                 render: bool = True, allowed_origins: tuple[str, ...] | None = None, token: str | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET, read_timeout: float = DEFAULT_READ_TIMEOUT_S,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, backlog: int = DEFAULT_BACKLOG,
                 writer: str = "process", spool_segment_bytes: int | None = None):
        self.capture = Path(capture)
        self.max_body = int(max_body)
        self.idle_s = float(idle_s)
        self.mask = mask
        self.render = render
        self.allowed_origins = tuple(allowed_origins) if allowed_origins else None
        self.memory_budget = int(memory_budget)
        self.read_timeout = float(read_timeout)
        self.max_connections = int(max_connections)
        self.backlog = int(backlog)
        self.writer_mode = writer
        self._fit_file_limit()
        self._ensure_capture()
        self.token = token or load_or_create_token(self.capture)
        self.spool_dir = sidecar_dir(self.capture) / "spool"
        self._segment_bytes = spool_segment_bytes
        # summaries of the latest sessions (bounded: a collector may run for months)
        self.written: deque[dict] = deque(maxlen=10_000)
        self.rejected: deque[dict] = deque(maxlen=10_000)
        self.stats = Counter()
        self._open_by_key: dict[str, _Instance] = {}
        self._instances: dict[str, _Instance] = {}
        self._seg_refs: Counter = Counter()
        self._forget_wait: dict[str, set] = {}
        self._forget_ready: list[str] = []
        self._replaying = False
        self._inflight = 0
        self._pending_jobs = 0
        self._idle_event = threading.Event()
        self._idle_event.set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._last_active: dict = {}
        self._batch_ms: deque = deque(maxlen=2000)  # the latest batches' time in the server
        self._busy: set = set()
        self._born: dict = {}
        if not is_loopback(host):
            log.warning("binding %s: the collector is reachable from other machines; posts still need the token",
                        host)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
            # listening now: a client that connects while the spool is read back waits, not refused
            self._sock.listen(self.backlog)
        except OSError as exc:
            self._sock.close()
            raise CaptureError(None, f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def _fit_file_limit(self) -> None:
        """Raise the open-file limit to fit ``max_connections`` (desktops often start at 1,024),
        or lower the cap to what the hard limit allows."""
        try:
            import resource
        except ImportError:  # pragma: no cover - Windows
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = self.max_connections + 256  # spool, capture, worker pipes, Chromium
        if hard != resource.RLIM_INFINITY and want > hard:
            self.max_connections = max(16, hard - 256)
            want = hard
        if soft != resource.RLIM_INFINITY and soft < want:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            except (ValueError, OSError):
                self.max_connections = max(16, soft - 256)
                log.warning("open-file limit %d: at most %d connections", soft, self.max_connections)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def snippet(self) -> str:
        return recorder_snippet(self.url, self.token)

    def _ensure_capture(self) -> None:
        if self.capture.exists():
            from hindsight.store.reader import open_capture

            open_capture(self.capture).close()  # fail now, not on the first session
            return
        from hindsight.store.writer import CaptureWriter

        CaptureWriter.create(self.capture, masking="lengths-only" if self.mask else "none",
                             extra_meta={"source": "rrweb collector"}).close()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "Collector":
        """Serve on a background thread; returns once listening (spool replayed)."""
        self._thread = threading.Thread(target=self._run_loop, name="hindsight-collector", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` or KeyboardInterrupt; then write every open session."""
        self._run_loop()
        if self._startup_error is not None:
            raise self._startup_error

    def stop_soon(self) -> None:
        """Ask the server to stop (safe from a signal handler or another thread)."""
        loop, ev = self._loop, self._stop_requested
        if loop is not None and ev is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:
                pass

    def stop(self) -> None:
        """Stop serving, write every open session and wait for the writer."""
        self.stop_soon()
        if self._thread is not None:
            self._thread.join(timeout=120)
            self._thread = None
        elif self._loop is None:  # never started: just let the port go
            self._sock.close()

    def __enter__(self) -> "Collector":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_written(self, timeout: float = 60.0) -> bool:
        """Block until every ended session has been written (or rejected)."""
        return self._idle_event.wait(timeout)

    def buffered(self) -> dict[str, int]:
        """Events spooled per open session key."""
        return {k: inst.events for k, inst in list(self._open_by_key.items())}

    def _run_loop(self) -> None:
        try:
            asyncio.run(self._main())
        except KeyboardInterrupt:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._startup_error = exc
            self._ready.set()
            if self._thread is None:
                raise

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop_requested = asyncio.Event()
        kw = {} if self._segment_bytes is None else {"segment_bytes": self._segment_bytes}
        self.spool = Spool(self.spool_dir, **kw)
        self.spool.on_written = self._on_written
        self.spool.on_rotated = self._on_rotated
        self._finish_q: asyncio.Queue = asyncio.Queue()
        self._replay()
        self.spool.start(loop)
        if self.writer_mode == "process":
            self._executor = _helper_process()
            self._executor.submit(self._worker.ping)  # start it now, not when the first session ends
        else:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hindsight-collector-writer")
        # large bodies are parsed in another process: parsing 5 MB holds the GIL for ~50 ms, and a
        # thread doing that would starve the event loop (each syscall then waits for the GIL)
        self._check_pool = _helper_process()
        self._big_lane = asyncio.Semaphore(1)
        finisher = asyncio.create_task(self._finisher())
        reaper = asyncio.create_task(self._reaper())
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("POST", "/v1/sessions/{key}/{action:(events|end)}", self._post)
        app.router.add_route("POST", "/v1/sessions/{key}/{action:(events|end)}/", self._post)
        app.router.add_route("OPTIONS", "/{tail:.*}", self._options)
        app.router.add_route("GET", "/v1/health", self._health)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, handle_signals=False, access_log=None,
                               keepalive_timeout=self.read_timeout, max_line_size=8190, max_field_size=8190)
        await runner.setup()
        self._runner = runner
        self._sock.setblocking(False)
        server = await loop.create_server(self._protocol, sock=self._sock, backlog=self.backlog)
        self._queue_idle_check()
        lag = asyncio.create_task(self._watch_lag())
        self._start_background()
        log.info("collecting rrweb sessions into %s at %s", self.capture, self.url)
        self._ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            server.close()
            await runner.shutdown()
            await runner.cleanup()
            reaper.cancel()
            lag.cancel()
            for inst in list(self._open_by_key.values()):
                await self._end(inst, "shutdown")
            await self._finish_q.put(None)
            await finisher
            await self._before_close()
            await loop.run_in_executor(self._executor, self._worker.close_writer)
            self._executor.shutdown(wait=True)
            self._check_pool.shutdown(wait=True)
            self.spool.close()
            if self._seg_refs[self.spool.active] <= 0:  # everything in it is in the capture
                self.spool.loop_active = self.spool.active + 1
                self.spool.delete_segment(self.spool.active)
            self._sock.close()

    # -- hooks of other session stores (hindsight.dataset.collector) -------------------
    #: The module whose functions write sessions (``write_session``, ``close_writer``, ``ping``,
    #: ``done_instances``); run in the writer process or thread.
    _worker = worker

    def _done_instances(self) -> set[str]:
        """Spool instances the store already holds (not written again on a restart)."""
        return self._worker.done_instances(self.capture)

    def _job(self, inst: "_Instance", forget: list[str]) -> dict:
        return {"capture": str(self.capture), "key": inst.key, "instance": inst.id, "refs": inst.refs,
                "mask": self.mask, "render": self.render, "reason": inst.reason, "forget": forget}

    def _session_written(self, inst: "_Instance") -> None:
        """``inst`` is durable in the store: its spool records may go."""
        self._release(inst, written=True)

    def _start_background(self) -> None:
        """Serving has started (on the event loop): start the store's own tasks."""

    async def _before_close(self) -> None:
        """Every session is written; the writer is about to close."""

    # -- spool bookkeeping (all on the event loop's thread) ------------------------------
    def _replay(self) -> None:
        """Rebuild the sessions the spool holds that the capture does not."""
        done = self._done_instances()
        self._replaying = True  # no segment is deleted while its records are still being read
        seen: set[str] = set()
        dropped: set[str] = set()
        replayed = Counter()
        for rec in self.spool.replay():
            seen.add(rec.instance)
            if rec.instance in done or rec.instance in dropped:
                continue
            if rec.kind == "d":
                dropped.add(rec.instance)
                inst = self._instances.pop(rec.instance, None)
                if inst is not None:
                    self._release(inst)
                continue
            inst = self._instances.get(rec.instance)
            if inst is None:
                inst = self._instances[rec.instance] = _Instance(rec.key, rec.instance, reason="restart")
            self._apply(inst, rec)
            inst.bytes += rec.payload_len
            replayed[rec.kind] += 1
        for inst in self._instances.values():
            if inst.ended:
                self._queue_finish(inst)
            else:
                older = self._open_by_key.get(inst.key)
                if older is not None:  # cannot happen unless the spool was edited; keep both
                    older.ended = True
                    self._queue_finish(older)
                self._open_by_key[inst.key] = inst
        self._forget_ready.extend(sorted(done - seen))
        self._replaying = False
        for seq, _ in self.spool.old_segments:
            if self._seg_refs[seq] == 0:
                self.spool.delete_segment(seq)
        if replayed:
            log.info("spool: %d batches of %d sessions read back (%d ended, written now)", replayed["b"],
                     len(self._instances), sum(i.ended for i in self._instances.values()))

    def _apply(self, inst: _Instance, rec: Record) -> None:
        if rec.segment not in inst.segs:
            inst.segs.add(rec.segment)
            self._seg_refs[rec.segment] += 1
        if rec.kind == "b":
            inst.refs.append((str(rec.path), rec.payload_offset, rec.payload_len))
            inst.events += rec.n_events
            inst.batches += 1
        elif rec.kind == "e":
            inst.ended = True

    def _on_written(self, records: list[Record]) -> None:
        for rec in records:
            inst = self._instances.get(rec.instance)
            if inst is None:  # "d" records, or an instance already finished
                continue
            self._apply(inst, rec)
            if rec.kind == "e":
                self._queue_finish(inst)

    def _on_rotated(self, old: int, new: int) -> None:
        if self._seg_refs[old] == 0:
            self._delete_segment(old)

    def _delete_segment(self, seq: int) -> None:
        self._seg_refs.pop(seq, None)
        self.spool.delete_segment(seq)
        for inst_id in list(self._forget_wait):
            segs = self._forget_wait[inst_id]
            segs.discard(seq)
            if not segs:
                del self._forget_wait[inst_id]
                self._forget_ready.append(inst_id)

    def _release(self, inst: _Instance, written: bool = False) -> None:
        self._instances.pop(inst.id, None)
        if written:
            self._forget_wait[inst.id] = set(inst.segs)
        for seq in inst.segs:
            self._seg_refs[seq] -= 1
            if self._seg_refs[seq] <= 0 and seq < self.spool.loop_active and not self._replaying:
                self._delete_segment(seq)
        inst.segs = set()

    def _queue_finish(self, inst: _Instance) -> None:
        self._pending_jobs += 1
        self._idle_event.clear()
        self._finish_q.put_nowait(inst)

    async def _end(self, inst: _Instance, reason: str) -> None:
        """Spool the end of ``inst`` (a session with no more batches coming)."""
        if self._open_by_key.get(inst.key) is inst:
            del self._open_by_key[inst.key]
        inst.reason = reason
        await self.spool.append([("e", inst.key, inst.id, b"", 0)])

    # -- writing sessions (worker) -------------------------------------------------------
    async def _finisher(self) -> None:
        loop = asyncio.get_running_loop()
        writer_open = False
        while True:
            try:
                inst = await asyncio.wait_for(self._finish_q.get(), timeout=3.0 if writer_open else None)
            except asyncio.TimeoutError:  # idle: let Chromium and the capture connection go
                await loop.run_in_executor(self._executor, self._worker.close_writer)
                writer_open = False
                continue
            if inst is None:
                return
            forget, self._forget_ready = self._forget_ready, []
            job = self._job(inst, forget)
            try:
                if not inst.refs:
                    res = {"key": inst.key, "instance": inst.id, "reason": inst.reason,
                           "error": f"session {inst.key}: holds no events"}
                else:
                    res = await loop.run_in_executor(self._executor, self._worker.write_session, job)
                    writer_open = True
            except Exception as exc:  # noqa: BLE001 - the worker died: keep the spool for a restart
                log.error("session %s could not be written (%s: %s); it stays in the spool", inst.key,
                          type(exc).__name__, exc)
                self._forget_ready[:0] = forget
                self.rejected.append({"key": inst.key, "instance": inst.id, "reason": inst.reason,
                                      "error": f"writer failed: {exc}", "kept": True})
                if isinstance(exc, concurrent.futures.process.BrokenProcessPool):
                    self._executor = _helper_process()
                    writer_open = False
                self._job_done()
                continue
            if "error" in res:
                self.rejected.append(res)
                log.warning("session %s rejected (%s): %s", inst.key, inst.reason, res["error"])
                try:
                    await self.spool.append([("d", inst.key, inst.id, b"", 0)])
                except OSError as exc:
                    log.error("%s", exc)
                self._release(inst)
            else:
                self.written.append(res)
                log.info("session %s written as %d (%s): %d pageviews, %d events", inst.key, res["session_id"],
                         inst.reason, res["pageviews"], res["events"])
                self._session_written(inst)
            self._job_done()

    def _job_done(self) -> None:
        self._pending_jobs -= 1
        self._queue_idle_check()

    def _queue_idle_check(self) -> None:
        if self._pending_jobs <= 0:
            self._idle_event.set()

    async def _reaper(self) -> None:
        interval = max(0.05, min(60.0, self.idle_s / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for inst in [i for i in self._open_by_key.values() if now - i.last_seen >= self.idle_s]:
                if self._open_by_key.get(inst.key) is inst:
                    await self._end(inst, "idle")

    async def _watch_lag(self) -> None:
        """How late the event loop wakes up (its longest stall; stalls over 50 ms), for /v1/health."""
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.05)
            late = (loop.time() - t - 0.05) * 1000
            self.stats["loop_lag_max_ms"] = max(self.stats["loop_lag_max_ms"], round(late))
            if late > 50:
                self.stats["loop_stalls_over_50ms"] += 1

    # -- connections ---------------------------------------------------------------------
    def _protocol(self) -> asyncio.BaseProtocol:
        server = self._runner.server
        conns = server.connections
        if len(conns) >= self.max_connections:
            # drop the connection that has gone longest without a complete request
            now = time.monotonic()
            idle = [h for h in conns if h.transport is not None and h.transport not in self._busy]
            if not idle:
                self.stats["refused_connections"] += 1
                return _Busy()
            victim = min(idle, key=lambda h: self._last_active.get(h.transport, self._born.get(h, now)))
            self.stats["evicted_connections"] += 1
            victim.transport.abort()
        handler = server()
        self._born[handler] = time.monotonic()
        # a connection must deliver its first request within read_timeout (aiohttp's keep-alive
        # timer covers the wait between requests); a slowloris header never completes
        asyncio.get_running_loop().call_later(self.read_timeout, self._check_first_request, handler)
        if len(self._born) > 2 * self.max_connections + 100:  # forget closed connections
            live = set(conns)
            self._born = {h: t for h, t in self._born.items() if h in live or h is handler}
            alive = {h.transport for h in live}
            self._last_active = {t: v for t, v in self._last_active.items() if t in alive}
        return handler

    def _check_first_request(self, handler) -> None:
        tr = handler.transport
        if tr is not None and not tr.is_closing() and tr not in self._busy and tr not in self._last_active:
            self.stats["slow_connections_closed"] += 1
            tr.abort()

    # -- requests ------------------------------------------------------------------------
    def _cors(self, request: web.Request, headers: dict) -> dict:
        origin = request.headers.get("Origin")
        if origin and (self.allowed_origins is None or origin in self.allowed_origins):
            headers["Access-Control-Allow-Origin"] = origin
            headers["Vary"] = "Origin"
        return headers

    def _reply(self, request: web.Request, status: int, body: dict, close: bool = False,
               headers: dict | None = None) -> web.Response:
        hdrs = self._cors(request, dict(headers or {}))
        if close:
            hdrs["Connection"] = "close"
        resp = web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                            headers=hdrs)
        if close:
            resp.force_close()
        return resp

    def _error(self, request: web.Request, status: int, message: str, close: bool = False,
               headers: dict | None = None) -> web.Response:
        self.stats[f"http_{status}"] += 1
        log.debug("%s %s -> %d: %s", request.method, request.path, status, message)
        return self._reply(request, status, {"error": message}, close=close, headers=headers)

    def _origin_ok(self, request: web.Request) -> bool:
        return self.allowed_origins is None or request.headers.get("Origin") in self.allowed_origins

    def _token_of(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return request.headers.get("X-Hindsight-Token") or request.query.get("token")

    async def _options(self, request: web.Request) -> web.Response:  # CORS preflight
        if not self._origin_ok(request):
            return self._error(request, 403, "origin not allowed")
        return web.Response(status=204, headers=self._cors(request, {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Hindsight-Token",
            "Access-Control-Max-Age": "600"}))

    async def _health(self, request: web.Request) -> web.Response:
        return self._reply(request, 200, {"ok": True, "sessions_buffered": len(self._open_by_key),
                                          "sessions_queued": max(0, self._pending_jobs),
                                          "server_batch_ms": _percentiles(self._batch_ms),
                                          "stats": {**self.stats, "spool_syncs": self.spool.syncs,
                                                    "spool_sync_max_ms": round(self.spool.sync_max_ms, 1),
                                                    "spool_syncs_over_50ms": self.spool.syncs_over_50ms}})

    async def _not_found(self, request: web.Request) -> web.Response:
        return self._error(request, 404, "not found (POST /v1/sessions/<key>/events or /end)", close=True)

    async def _post(self, request: web.Request) -> web.Response:
        tr = request.transport
        self._busy.add(tr)
        t = time.perf_counter()
        try:
            return await self._handle_post(request)
        finally:
            self._busy.discard(tr)
            self._last_active[tr] = time.monotonic()
            if request.match_info["action"] == "events":  # time in the server, fsync included
                self._batch_ms.append((time.perf_counter() - t) * 1000)

    async def _handle_post(self, request: web.Request) -> web.Response:
        key, action = request.match_info["key"], request.match_info["action"]
        if not self._origin_ok(request):
            return self._error(request, 403, "origin not allowed", close=True)
        token = self._token_of(request)
        if not token:
            return self._error(request, 401, "missing token (?token=..., see `hindsight collect` output)", close=True)
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return self._error(request, 401, "wrong token", close=True)
        if not _KEY.match(key):
            return self._error(request, 400, "session key must be 1-128 letters, digits, '.', '_' or '-'", close=True)
        length = request.content_length
        if length is not None and length > self.max_body:
            return self._error(request, 413, f"request body of {length} bytes is above the limit of "
                                             f"{self.max_body}", close=True)
        need = length if length is not None else self.max_body
        if self._inflight + need > self.memory_budget:
            return self._error(request, 503, "busy: too much data in flight, retry", close=True,
                               headers={"Retry-After": "1"})
        self._inflight += need
        try:
            try:
                body = await asyncio.wait_for(request.read(), self.read_timeout)
            except asyncio.TimeoutError:
                return self._error(request, 408, f"body not received within {self.read_timeout:g} s", close=True)
            except web.HTTPRequestEntityTooLarge:
                return self._error(request, 413, f"request body is above the limit of {self.max_body}", close=True)
            return await self._accept(request, key, action, body)
        finally:
            self._inflight -= need

    async def _accept(self, request: web.Request, key: str, action: str, body: bytes) -> web.Response:
        n_events = 0
        stripped = body.strip()
        if stripped and stripped != b"[]":
            try:
                if len(body) > BIG_BODY:
                    async with self._big_lane:
                        n_events = await asyncio.get_running_loop().run_in_executor(
                            self._check_pool, _check_body, body)
                else:
                    n_events = _check_body(body)
            except ValueError as exc:
                return self._error(request, 400, str(exc))
            except concurrent.futures.process.BrokenProcessPool:
                self._check_pool = _helper_process()
                return self._error(request, 503, "busy, retry", headers={"Retry-After": "1"})
        inst = self._open_by_key.get(key)
        if n_events == 0:
            if action == "events":
                return self._reply(request, 202, {"session": key, "buffered": inst.events if inst else 0})
            if inst is None:
                return self._error(request, 404, f"no buffered events for session {key}")
        if inst is None:
            inst = _Instance(key, uuid.uuid4().hex[:16])
            self._instances[inst.id] = inst
            self._open_by_key[key] = inst
        if inst.bytes + len(body) > MAX_SESSION_BYTES:
            return self._error(request, 413, f"session {key} would exceed {MAX_SESSION_BYTES // 2**20} MB")
        inst.bytes += len(body)
        inst.last_seen = time.monotonic()
        items = []
        if n_events:
            items.append(("b", key, inst.id, body, n_events))
        if action == "end":
            del self._open_by_key[key]  # later batches of this key start a new session
            inst.reason = "end"
            items.append(("e", key, inst.id, b"", 0))
        try:
            await self.spool.append(items)
        except OSError as exc:
            log.error("%s", exc)
            return self._error(request, 503, "could not store the batch, retry", headers={"Retry-After": "5"})
        self.stats["batches"] += bool(n_events)
        self.stats["events"] += n_events
        if action == "end":
            return self._reply(request, 202, {"session": key, "status": "queued", "events": inst.events,
                                              "batches": inst.batches})
        return self._reply(request, 202, {"session": key, "buffered": inst.events})


def _percentiles(values) -> dict:
    v = sorted(values)
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": round(v[len(v) // 2], 1), "p99": round(v[min(len(v) - 1, int(len(v) * 0.99))], 1),
            "max": round(v[-1], 1)}


def _helper_process() -> concurrent.futures.ProcessPoolExecutor:
    """One worker process at a lower priority (nice 10): the event loop answering requests should
    win the CPU over parsing, Chromium and SQLite. Spawned, not forked: this process has threads."""
    return concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=worker.lower_priority)


class _Busy(asyncio.Protocol):
    """Answers a connection above the cap with 503 and closes it."""

    def connection_made(self, transport) -> None:
        transport.write(_BUSY)
        transport.close()

    def data_received(self, data) -> None:
        pass

"""A small local HTTP endpoint that rrweb recorders post event batches to (``hindsight collect``).

``POST /v1/sessions/<key>/events`` with a JSON array of rrweb events buffers them under the
session key; ``POST /v1/sessions/<key>/end`` (or 30 idle minutes, or shutting down) writes
the session into the capture: one ``CaptureWriter.append`` transaction holding the session
row and all its pageviews, so a viewer with the capture open (WAL mode) sees either the
whole session or nothing. A session whose events cannot be imported is rejected (400 on
``end``) and logged; the capture is left untouched.

Requests above ``max_body`` bytes get 413, malformed batches 400 with ``{"error": ...}``.
Responses carry CORS headers for the posting page's origin. The server binds 127.0.0.1
unless told otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hindsight.importers.rrweb import parse_json_bytes, parse_session
from hindsight.store.errors import CaptureError

log = logging.getLogger("hindsight.collector")

DEFAULT_MAX_BODY = 5 * 2**20
DEFAULT_IDLE_S = 30 * 60
MAX_SESSION_BYTES = 256 * 2**20
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_PATH = re.compile(r"^/v1/sessions/(?P<key>[^/]+)/(?P<action>events|end)/?$")


@dataclass
class _Buffer:
    events: list = field(default_factory=list)
    bytes: int = 0
    last_seen: float = field(default_factory=time.monotonic)


class Collector:
    """Buffers posted rrweb events per session key and writes finished sessions to ``capture``.

    Parameters
    ----------
    capture : the capture file (created empty if missing)
    host, port : where to listen (port 0: any free port; see ``address`` once started)
    max_body : largest accepted request body in bytes (larger: 413)
    idle_s : a session with no batch for this many seconds is written and closed
    mask, render : as for ``import_files``
    allowed_origins : origins allowed to post (None: any; the server only listens on loopback)
    """

    def __init__(self, capture: str | Path, host: str = "127.0.0.1", port: int = 0,
                 max_body: int = DEFAULT_MAX_BODY, idle_s: float = DEFAULT_IDLE_S, mask: bool = True,
                 render: bool = True, allowed_origins: tuple[str, ...] | None = None):
        self.capture = Path(capture)
        self.max_body = int(max_body)
        self.idle_s = float(idle_s)
        self.mask = mask
        self.render = render
        self.allowed_origins = allowed_origins
        self._buffers: dict[str, _Buffer] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self.written: list[dict] = []
        self.rejected: list[dict] = []
        self._ensure_capture()
        handler = type("Handler", (_Handler,), {"collector": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

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
        """Serve in background threads (the HTTP server and the idle reaper)."""
        for target in (self.server.serve_forever, self._reap_loop):
            th = threading.Thread(target=target, daemon=True, name=f"hindsight-collector-{target.__name__}")
            th.start()
            self._threads.append(th)
        log.info("collecting rrweb sessions into %s at %s", self.capture, self.url)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted; then write every buffered session."""
        reaper = threading.Thread(target=self._reap_loop, daemon=True)
        reaper.start()
        try:
            self.server.serve_forever()
        finally:
            self._stop.set()
            self.flush_all("shutdown")
            self.server.server_close()

    def stop(self) -> None:
        """Stop serving and write every buffered session."""
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for th in self._threads:
            th.join(timeout=10)
        self.flush_all("shutdown")

    def __enter__(self) -> "Collector":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _reap_loop(self) -> None:
        interval = max(0.05, min(60.0, self.idle_s / 4))
        while not self._stop.wait(interval):
            now = time.monotonic()
            with self._lock:
                idle = [k for k, b in self._buffers.items() if now - b.last_seen >= self.idle_s]
            for key in idle:
                self.finish(key, reason="idle")

    # -- sessions ------------------------------------------------------------------------
    def add_batch(self, key: str, events: list, nbytes: int) -> int:
        """Buffer a validated batch; returns the session's buffered event count."""
        with self._lock:
            buf = self._buffers.setdefault(key, _Buffer())
            if buf.bytes + nbytes > MAX_SESSION_BYTES:
                raise OverflowError(f"session {key} would exceed {MAX_SESSION_BYTES // 2**20} MB")
            buf.events.extend(events)
            buf.bytes += nbytes
            buf.last_seen = time.monotonic()
            return len(buf.events)

    def finish(self, key: str, reason: str = "end") -> dict:
        """Write the session ``key`` (one transaction). Returns a summary; raises
        ``KeyError`` for an unknown key and ``CaptureError`` when the events cannot be imported."""
        with self._lock:
            buf = self._buffers.pop(key)
        from hindsight.importers.session_writer import SessionWriter
        from hindsight.store.writer import CaptureWriter

        name = f"session {key}"
        with self._write_lock:
            try:
                parsed = parse_session(buf.events, name, mask=self.mask, fmt="rrweb-collector", external_id=key)
                writer = CaptureWriter.append(self.capture)
                try:
                    with SessionWriter(writer, render=self.render, existing_capture=self.capture) as sw:
                        sid = sw.write(parsed)
                        sw.update_meta()
                        if not self.mask:
                            writer.set_meta("masking", "none")
                        writer.close()
                except BaseException:
                    writer.abort()
                    raise
            except CaptureError as exc:
                self.rejected.append({"key": key, "error": str(exc), "reason": reason})
                log.warning("session %s rejected (%s): %s", key, reason, exc)
                raise
        summary = {"key": key, "session_id": sid, "pageviews": sw.report.pageviews, "events": sw.report.events,
                   "rrweb_events": sw.report.rrweb_events, "reason": reason}
        self.written.append(summary)
        log.info("session %s written as %d (%s): %d pageviews, %d events", key, sid, reason,
                 sw.report.pageviews, sw.report.events)
        return summary

    def flush_all(self, reason: str) -> None:
        with self._lock:
            keys = list(self._buffers)
        for key in keys:
            try:
                self.finish(key, reason=reason)
            except (KeyError, CaptureError):
                pass

    def buffered(self) -> dict[str, int]:
        with self._lock:
            return {k: len(b.events) for k, b in self._buffers.items()}


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
        if type(ts) not in (int, float) or ts != ts:
            raise ValueError(f"event #{i} has no numeric 'timestamp'")
    return doc


class _Handler(BaseHTTPRequestHandler):
    collector: Collector
    server_version = "hindsight-collector/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args) -> None:  # route http.server's access log to logging
        log.debug("%s - %s", self.address_string(), fmt % args)

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        allowed = self.collector.allowed_origins
        if origin and (allowed is None or origin in allowed):
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Max-Age", "600")

    def _reply(self, status: int, body: dict, close: bool = False) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, close: bool = False) -> None:
        log.warning("%s %s -> %d: %s", self.command, self.path, status, message)
        self._reply(status, {"error": message}, close=close)

    def do_OPTIONS(self) -> None:  # CORS preflight
        self.send_response(204)
        self._cors()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/health":
            self._reply(200, {"ok": True, "capture": str(self.collector.capture),
                              "sessions_buffered": len(self.collector.buffered())})
        else:
            self._error(404, "not found")

    def do_POST(self) -> None:
        m = _PATH.match(self.path.split("?", 1)[0])
        if not m:
            self._error(404, "not found (POST /v1/sessions/<key>/events or /end)", close=True)
            return
        key, action = m["key"], m["action"]
        if not _KEY.match(key):
            self._error(400, "session key must be 1-128 letters, digits, '.', '_' or '-'", close=True)
            return
        if self.headers.get("Transfer-Encoding"):
            self._error(411, "send a Content-Length (chunked bodies are not accepted)", close=True)
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self._error(400, "bad Content-Length", close=True)
            return
        if length > self.collector.max_body:
            self._error(413, f"request body of {length} bytes is above the limit of {self.collector.max_body}",
                        close=True)
            return
        body = self.rfile.read(length) if length > 0 else b""
        if body.strip() and body.strip() != b"[]":
            try:
                events = validate_batch(parse_json_bytes(body, "batch"))
                n = self.collector.add_batch(key, events, len(body))
            except CaptureError as exc:
                self._error(400, exc.problem)
                return
            except ValueError as exc:
                self._error(400, str(exc))
                return
            except OverflowError as exc:
                self._error(413, str(exc))
                return
        elif action == "events":
            self._reply(202, {"session": key, "buffered": self.collector.buffered().get(key, 0)})
            return
        if action == "end":
            try:
                summary = self.collector.finish(key)
            except KeyError:
                self._error(404, f"no buffered events for session {key}")
                return
            except CaptureError as exc:
                self._error(400, f"session {key} could not be imported: {exc.problem}")
                return
            self._reply(200, summary)
            return
        self._reply(202, {"session": key, "buffered": n})

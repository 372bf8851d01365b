"""``hindsight bench --only collector``: 20 concurrent clients posting rrweb batches to ``hindsight collect``.

The collector runs as its own process (the real command, rendering on) and the clients in this
one (asyncio + aiohttp, one keep-alive connection each), so both share the machine as they would.
Each client posts sessions of ``batches`` batches of ``per_batch`` events and ends them; the
figures are acknowledged events per second of wall time, batch and ``/end`` latency
percentiles, and how long the worker then took to write every session into the capture. The
load generator (``run_load``) is also what the collector's tests drive.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

T0 = 1_795_000_000_000


def session_events(client: int, session: int, batches: int, per_batch: int, kind: str = "mixed") -> list[list[dict]]:
    """The batches of one synthetic session: a Meta and FullSnapshot first, then incremental events.

    ``kind="clicks"``: every incremental event is a click at a distinct time (``T0`` + session
    offset + 10 ms x its index), so a test can count exactly which batches reached the capture.
    """
    from hindsight.benchmarks.importers import synthetic_recording

    total = batches * per_batch
    if kind == "clicks":
        head = synthetic_recording(2)
        t = T0 + (client * 1000 + session) * 10_000_000
        for i, ev in enumerate(head):
            ev["timestamp"] = t + i
        events = head + [{"type": 3, "data": {"source": 2, "type": 2, "id": 5, "x": 10 + i % 500, "y": 10 + i % 300},
                          "timestamp": t + 10 * (i + 1)} for i in range(total - 2)]
    else:
        events = synthetic_recording(total, seed=client * 1000 + session)
    return [events[i:i + per_batch] for i in range(0, total, per_batch)]


@dataclass
class LoadResult:
    acked: list = field(default_factory=list)  # (client, session, batch, n_events) answered 2xx
    ended: list = field(default_factory=list)  # (client, session) whose /end got 2xx
    batch_ms: list = field(default_factory=list)
    end_ms: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    retries: int = 0
    seconds: float = 0.0
    late_ms: float = 0.0

    @property
    def events(self) -> int:
        return sum(a[3] for a in self.acked)

    def figures(self) -> dict:
        def pct(values, q):
            if not values:
                return None
            v = sorted(values)
            return round(v[min(len(v) - 1, int(q * len(v)))], 1)

        return {"events_acknowledged": self.events, "batches_acknowledged": len(self.acked),
                "load_seconds": round(self.seconds, 2),
                "events_per_s": round(self.events / self.seconds) if self.seconds else 0,
                "batch_p50_ms": pct(self.batch_ms, 0.50), "batch_p99_ms": pct(self.batch_ms, 0.99),
                "batch_max_ms": pct(self.batch_ms, 1.0), "end_p50_ms": pct(self.end_ms, 0.50),
                "end_p99_ms": pct(self.end_ms, 0.99), "retries_503": self.retries, "errors": len(self.errors),
                "most_behind_schedule_ms": round(self.late_ms, 1)}


async def run_load(url: str, token: str, clients: int = 20, sessions: int = 4, batches: int = 25,
                   per_batch: int = 100, kind: str = "mixed", deadline_s: float = 120.0,
                   prefix: str = "bench", rate: float | None = None, res: LoadResult | None = None) -> LoadResult:
    """Post ``clients`` x ``sessions`` sessions concurrently; stops at the first error of a client.

    Each client is one keep-alive connection speaking minimal HTTP/1.1 over asyncio streams:
    the load generator shares the machine with the collector, and a full HTTP client library
    costs more CPU per request than the server does. Without ``rate`` every client posts its
    next batch as soon as the last one is answered (closed loop: the most the collector takes,
    where latency is just clients / throughput). With ``rate`` (events per second, all clients
    together) each client posts on a fixed schedule (a client whose answer comes late posts its
    next batch at once; ``late_ms`` says how far behind schedule a post went out, which on a busy
    machine also counts this process waiting for a CPU). ``res``: a result to
    fill in (another task may watch it while the load runs).
    """
    res = LoadResult() if res is None else res
    plans, counts = {}, {}
    for c in range(clients):
        for s in range(sessions):
            evs = session_events(c, s, batches, per_batch, kind)
            plans[(c, s)] = [orjson.dumps(b) for b in evs]
            counts[(c, s)] = [len(b) for b in evs]
    stop_at = time.monotonic() + deadline_s
    host, port = url.split("//", 1)[1].rsplit(":", 1)

    interval = clients * per_batch / rate if rate else 0.0

    async def client(c: int) -> None:
        reader = writer = None
        due = t_start + interval * c / clients  # spread the clients over one interval
        try:
            for s in range(sessions):
                key = f"{prefix}-{c}-{s}"
                bodies = plans[(c, s)]
                for b, body in enumerate(bodies + [b""]):
                    path = "end" if b == len(bodies) else "events"
                    head = (f"POST /v1/sessions/{key}/{path}?token={token} HTTP/1.1\r\nHost: {host}\r\n"
                            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                    if interval:
                        due += interval
                        wait = due - time.perf_counter()
                        if wait > 0:
                            await asyncio.sleep(wait)
                    while True:
                        if time.monotonic() > stop_at:
                            return
                        t = time.perf_counter()
                        res.late_ms = max(res.late_ms, (t - due) * 1000 if interval else 0.0)
                        try:
                            if writer is None:
                                reader, writer = await asyncio.open_connection(host, int(port))
                            writer.write(head + body)
                            status, close = await asyncio.wait_for(_read_response(reader), 30)
                        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                            res.errors.append((c, s, b, repr(exc)))
                            return
                        dt = (time.perf_counter() - t) * 1000
                        if close:
                            writer.close()
                            reader = writer = None
                        if status == 503:
                            res.retries += 1
                            await asyncio.sleep(0.05)
                            continue
                        break
                    if status != 202:
                        res.errors.append((c, s, b, status))
                        return
                    if path == "end":
                        res.end_ms.append(dt)
                        res.ended.append((c, s))
                    else:
                        res.batch_ms.append(dt)
                        res.acked.append((c, s, b, counts[(c, s)][b]))
        finally:
            if writer is not None:
                writer.close()

    t_start = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    res.seconds = time.perf_counter() - t_start
    return res


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status and whether the server closes the connection; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def flood_probe(host: str, port: int, token: str, body: bytes, n: int, out: list) -> None:
    """Post ``body`` ``n`` times, one connection each; records (status, Retry-After)."""
    head = (f"POST /v1/sessions/flood/events?token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    for _ in range(n):
        writer = None
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(head + body)
            await writer.drain()
            resp = await asyncio.wait_for(reader.read(), 30)
            lines = resp.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
            retry = [ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("retry-after:")]
            out.append((int(lines[0].split()[1]), retry[0] if retry else None))
        except (OSError, asyncio.TimeoutError, IndexError, ValueError):
            out.append(("reset", None))  # 503/413 close the connection; the body may still be in flight
        finally:
            if writer is not None:
                writer.close()


async def slow_probe(host: str, port: int, n: int, seconds: float, closed: list) -> None:
    """``n`` connections sending a request header one byte at a time (slowloris)."""
    async def one():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return
        msg = b"POST /v1/sessions/slow/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Pad: " + b"a" * 500
        t_end = time.monotonic() + seconds
        try:
            for byte in msg:
                if time.monotonic() > t_end:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(1), 0.25) == b"":
                        closed.append(1)
                        return
                except asyncio.TimeoutError:
                    pass
        except OSError:
            closed.append(1)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(n)))


def run_probes(host: str, port: int, token: str, slow: int, slow_s: float, flooders: int, posts: int,
               flood_mb: float) -> dict:
    """Run ``slow`` trickling connections and ``flooders`` x ``posts`` large bad posts (a first
    event without a type, then ``flood_mb`` MB of valid events); returns what they got."""
    flood = (b'[{"type": "bad"},' + b'{"type": 3, "timestamp": 1795000000000, "data": {"source": 1, "positions": []}},'
             * int(flood_mb * 2**20 / 80) + b'{"type": 3, "timestamp": 1795000000000}]')
    out: dict = {"closed": [], "flood": [], "flood_bytes": len(flood)}

    async def main():
        tasks = [asyncio.create_task(slow_probe(host, port, slow, slow_s, out["closed"]))]
        await asyncio.sleep(0.5)
        tasks += [asyncio.create_task(flood_probe(host, port, token, flood, posts, out["flood"]))
                  for _ in range(flooders)]
        await asyncio.gather(*tasks)

    asyncio.run(main())
    return {"closed": len(out["closed"]), "flood": out["flood"], "flood_bytes": out["flood_bytes"]}


def start_probes(url: str, token: str, **kw) -> subprocess.Popen:
    """``run_probes`` in another process (its JSON result on stdout), so the probes' own work does
    not delay the measuring clients."""
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    code = ("import sys, json; from hindsight.benchmarks.collector import run_probes; "
            f"print(json.dumps(run_probes({host!r}, {int(port)}, {token!r}, **json.loads(sys.argv[1]))))")
    return subprocess.Popen([sys.executable, "-c", code, orjson.dumps(kw).decode()], stdout=subprocess.PIPE)


class CollectorProcess:
    """``hindsight collect CAPTURE --port 0 ...`` as a child process (own process group)."""

    def __init__(self, capture: Path, *args: str, env: dict | None = None):
        self.capture = Path(capture)
        self.log = self.capture.with_name(self.capture.name + ".log")
        self._err = open(self.log, "ab")
        code = "import sys; from hindsight.cli import main; sys.exit(main(sys.argv[1:]))"
        self.proc = subprocess.Popen([sys.executable, "-c", code, "collect", str(capture), "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=self._err, start_new_session=True,
                                     env={**os.environ, **(env or {})})
        self.url = self.token = ""
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline and not self.token:
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            if line.startswith("collecting"):
                self.url = line.split(" at ", 1)[1].split("/v1/", 1)[0]
            elif line.startswith("token: "):
                self.token = line.split(": ", 1)[1].strip()
        if not self.token:
            self.kill()
            raise RuntimeError("collector did not start: " + "".join(lines) + self.log.read_text())
        self._drain = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self._drain.start()

    def health(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/v1/health", timeout=10) as resp:
            return orjson.loads(resp.read())

    def wait_written(self, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health()["sessions_queued"] == 0:
                return True
            time.sleep(0.1)
        return False

    def stop(self, timeout: float = 120.0) -> int:
        import signal

        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._err.close()

    def kill(self) -> None:
        """SIGKILL the collector and everything it started (worker process, Chromium)."""
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self._err.close()


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of process ``pid`` alone, not its children (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_collector(ctx) -> dict:
    """Closed loop (the most it takes) and paced at 50k events/s (latency), rendering on."""
    out: dict = {"clients": 20, "events_per_batch": 100}
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "collected.sqlite"
        col = CollectorProcess(capture)
        try:
            time.sleep(1.0)  # let the worker process start (it is spawned at start-up)
            out["load_average_before"] = round(os.getloadavg()[0], 2)
            cpu0 = _cpu_seconds(col.proc.pid)
            most = asyncio.run(run_load(col.url, col.token, prefix="max")).figures()
            cpu = _cpu_seconds(col.proc.pid) - cpu0 if cpu0 is not None else None
            out.update({f"max_{k}": v for k, v in most.items()})
            out["max_server_batch_p99_ms"] = col.health()["server_batch_ms"].get("p99")
            if cpu:  # the request path's own cost, which a busy machine does not change much
                out["max_server_cpu_seconds"] = round(cpu, 2)
                out["events_per_server_cpu_second"] = round(most["events_acknowledged"] / cpu)
            paced = asyncio.run(run_load(col.url, col.token, prefix="paced", rate=50_000)).figures()
            out.update({f"at50k_{k}": v for k, v in paced.items()})
            # from request to reply inside the collector (fsync included; a busy machine's wait
            # for a CPU before the request is read or after the reply is sent is not)
            server = col.health()["server_batch_ms"]
            out["at50k_server_batch_p50_ms"] = server.get("p50")
            out["at50k_server_batch_p99_ms"] = server.get("p99")
            out["load_average_after"] = round(os.getloadavg()[0], 2)
            t = time.perf_counter()
            col.wait_written()
            out["write_after_load_seconds"] = round(time.perf_counter() - t, 1)
        finally:
            col.stop()
        from hindsight.store.reader import open_capture

        with open_capture(capture) as cap:
            out["sessions_written"] = cap.session_count()
            out["geometry"] = cap.meta.get("geometry", "")
    return out


bench_collector.needs_capture = False

BENCHMARKS = [("collector", bench_collector)]

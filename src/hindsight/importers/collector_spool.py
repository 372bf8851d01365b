"""The collector's durable spool: append-only segment files of received batches, fsync'd in groups.

Layout: a folder of segments ``seg-<16 digits>.hsp``, each starting with ``MAGIC`` and then
frames ``<u32 body length><u32 crc32(body)><body>``; the body is one JSON header line and the
payload as received::

    {"k": "b", "s": "<session key>", "i": "<instance>", "t": <received, epoch ms>, "n": <events>}\\n
    [ ...the batch's rrweb events, exactly the bytes that were posted... ]

``k`` is ``b`` (a batch), ``e`` (the session was ended; no payload) or ``d`` (the session was
rejected and needs no further work). ``i`` names one session *instance* (a key may be used
again after its session ended). A process only ever appends to a segment it created; after a
restart old segments are read (``replay``) and a new one is started. A torn frame (a crash in
the middle of a write) can only be at the end of a segment, and nothing after it was ever
acknowledged, so reading stops there.

Writes go through one thread: whatever arrived while the previous ``fdatasync`` ran is written
with one ``write`` and made durable with one ``fdatasync`` (group commit), then every waiter is
told, so a 2xx is only sent for a batch that is on disk. Segments are closed at
``segment_bytes``; a closed segment can be deleted once nothing in it is still needed (the
collector counts references). A later mode that writes Parquet part files per collector can
read closed segments the same way (``read_segment``) instead of building capture sessions.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import re
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

try:
    import orjson

    def _dumps(obj) -> bytes:
        return orjson.dumps(obj)

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency
    import json

    def _dumps(obj) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    _loads = json.loads

log = logging.getLogger("hindsight.collector")

MAGIC = b"HSPOOL1\n"
_FRAME = struct.Struct("<II")
_SEG = re.compile(r"^seg-(\d{16})\.hsp$")
DEFAULT_SEGMENT_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Record:
    """One spooled record; ``payload_offset``/``payload_len`` locate the posted bytes in ``path``."""

    kind: str
    key: str
    instance: str
    t_ms: int
    n_events: int
    segment: int
    path: Path
    payload_offset: int
    payload_len: int

    def payload(self) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(self.payload_offset)
            return f.read(self.payload_len)


def segment_path(folder: Path, seq: int) -> Path:
    return folder / f"seg-{seq:016d}.hsp"


def list_segments(folder: Path) -> list[tuple[int, Path]]:
    """(sequence number, path) of the segments in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        m = _SEG.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def read_segment(path: Path, seq: int) -> Iterator[Record]:
    """The whole records of one segment, in order; stops at a torn or damaged frame."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(MAGIC):
        if data:
            log.warning("spool segment %s does not start with the spool header; skipped", path)
        return
    pos = len(MAGIC)
    end = len(data)
    while pos + _FRAME.size <= end:
        length, crc = _FRAME.unpack_from(data, pos)
        body_at = pos + _FRAME.size
        if body_at + length > end or zlib.crc32(data[body_at:body_at + length]) != crc:
            log.warning("spool segment %s: incomplete record at byte %d (a crash while writing); "
                        "the rest of the segment is ignored", path, pos)
            return
        nl = data.index(b"\n", body_at, body_at + length)
        h = _loads(data[body_at:nl])
        yield Record(h["k"], h["s"], h["i"], int(h.get("t", 0)), int(h.get("n", 0)), seq, path,
                     nl + 1, body_at + length - nl - 1)
        pos = body_at + length


def encode(kind: str, key: str, instance: str, payload: bytes = b"", n_events: int = 0) -> bytes:
    """One frame (header, length and checksum included)."""
    body = _dumps({"k": kind, "s": key, "i": instance, "t": int(time.time() * 1000), "n": n_events}) + b"\n" + payload
    return _FRAME.pack(len(body), zlib.crc32(body)) + body


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Append-only, group-committed spool in ``folder`` (created if missing).

    ``await spool.append([(kind, key, instance, payload, n_events), ...])`` returns the records
    once they are durable. ``on_written(records)`` and ``on_rotated(old_seq, new_seq)`` are
    called on the event loop's thread, in the order things happened, before the waiters resume.
    """

    def __init__(self, folder: str | os.PathLike[str], segment_bytes: int = DEFAULT_SEGMENT_BYTES):
        self.folder = Path(folder)
        self.segment_bytes = int(segment_bytes)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.old_segments = list_segments(self.folder)
        self.active = (self.old_segments[-1][0] + 1) if self.old_segments else 1
        self.loop_active = self.active  # the active segment as the event loop's side last heard
        self._fd = self._create(self.active)
        self._size = len(MAGIC)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.on_written: Callable[[list[Record]], None] = lambda records: None
        self.on_rotated: Callable[[int, int], None] = lambda old, new: None
        self.bytes_written = 0
        self.syncs = 0
        self.sync_max_ms = 0.0
        self.syncs_over_50ms = 0

    def _create(self, seq: int) -> int:
        fd = os.open(segment_path(self.folder, seq), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        os.write(fd, MAGIC)
        os.fsync(fd)
        _fsync_dir(self.folder)
        return fd

    def replay(self) -> Iterator[Record]:
        """The records of the segments that were there before this spool was opened."""
        for seq, path in self.old_segments:
            yield from read_segment(path, seq)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="hindsight-collector-spool", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def delete_segment(self, seq: int) -> None:
        """Remove a closed segment whose records are no longer needed."""
        if seq >= self.loop_active:
            return
        try:
            segment_path(self.folder, seq).unlink()
        except FileNotFoundError:
            pass

    def append(self, items: list[tuple[str, str, str, bytes, int]]) -> "asyncio.Future[list[Record]]":
        """Queue frames for the writer thread; the future resolves once they are fsync'd."""
        assert self._loop is not None, "start() the spool first"
        fut = self._loop.create_future()
        self._queue.put((items, fut))  # framed on the writer thread: crc32 of 5 MB is ms of CPU
        return fut

    # -- the writer thread ---------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            jobs = []
            if first is None:
                break
            jobs.append(first)
            while True:  # everything that is waiting goes in this group
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
            try:
                done = self._write_group(jobs)
            except BaseException as exc:  # noqa: BLE001 - every waiter gets the error
                log.error("spool write failed: %s", exc)
                err = exc
                self._loop.call_soon_threadsafe(self._fail, [fut for _, fut in jobs], err)
                continue
            self._loop.call_soon_threadsafe(self._deliver, done)

    def _write_group(self, jobs: list) -> list:
        done = []
        rotated = []
        buf: list[bytes] = []
        results: list[tuple[list[Record], asyncio.Future]] = []
        # the file's real end, not a running count: after a failed write (disk full) part of a
        # group may be in the file, and the offsets of later records must still be right
        pos = self._size = os.fstat(self._fd).st_size
        for items, fut in jobs:
            frames = [encode(k, s, i, p, n) for k, s, i, p, n in items]
            if pos >= self.segment_bytes and buf:
                data = b"".join(buf)
                os.write(self._fd, data)
                os.fdatasync(self._fd)
                self.bytes_written += len(data)
                buf = []
                rotated.append(self._rotate())
                pos = self._size
            elif pos >= self.segment_bytes:
                rotated.append(self._rotate())
                pos = self._size
            recs = []
            for frame, (k, s, i, payload, n) in zip(frames, items):
                plen = len(payload)
                start = pos + len(frame) - plen
                recs.append(Record(k, s, i, 0, n, self.active, segment_path(self.folder, self.active), start, plen))
                buf.append(frame)
                pos += len(frame)
            results.append((recs, fut, list(rotated)))
            rotated = []
        if buf:
            data = b"".join(buf)
            t = time.perf_counter()
            os.write(self._fd, data)
            os.fdatasync(self._fd)
            ms = (time.perf_counter() - t) * 1000
            self.sync_max_ms = max(self.sync_max_ms, ms)
            self.syncs_over_50ms += ms > 50
            self.bytes_written += len(data)
            self.syncs += 1
        self._size = pos
        done.extend(results)
        return done

    def _rotate(self) -> tuple[int, int]:
        old = self.active
        os.close(self._fd)
        self.active = old + 1
        self._fd = self._create(self.active)
        self._size = len(MAGIC)
        return old, self.active

    def _deliver(self, done: list) -> None:
        for recs, fut, rotated in done:
            for old, new in rotated:
                self.loop_active = new
                self.on_rotated(old, new)
            self.on_written(recs)
            if not fut.done():
                fut.set_result(recs)

    @staticmethod
    def _fail(futs: list, exc: BaseException) -> None:
        for fut in futs:
            if not fut.done():
                fut.set_exception(OSError(f"the spool could not be written: {exc}"))

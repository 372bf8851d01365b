"""``hindsight collect --dataset``: the HTTP collector writing part files of a capture dataset.

The same server as the capture collector (``hindsight.importers.collector.Collector``: token,
origins, limits, the spool that makes every acknowledged batch durable); only the store
differs. Each instance (``name``) has its own spool and state folder and writes its own part
files (``part-c<range>-...``), with session and pageview ids in its own range, so many
collectors write to one dataset without ever touching the same file. Finished sessions
gather in a staging capture and become part files every ``flush_s`` seconds or
``flush_mb`` MB (``collect_worker.flush``); spool records are released only after the part
files holding them are renamed into place.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from pathlib import Path

from hindsight.dataset import collect_worker, layout
from hindsight.dataset.store import filesystem, is_local, open_dataset, write_meta
from hindsight.importers.collector import Collector
from hindsight.store.errors import CaptureError

log = logging.getLogger("hindsight.collector")

DEFAULT_FLUSH_S = 60.0
DEFAULT_FLUSH_MB = 64.0
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def default_name(port: int) -> str:
    return f"{socket.gethostname()}-{port}"[:64]


class DatasetCollector(Collector):
    """A ``Collector`` whose sessions go to part files of the dataset ``dataset``.

    name : this instance's name (stable across restarts: it names its id range, part files,
        spool); default ``<hostname>-<port>``.
    state_dir : local folder for the spool, token and staging capture (default:
        ``DATASET/_collectors/<name>`` for a dataset on a local disk; required for a URL).
    flush_s, flush_mb : part files are closed and renamed at least this often / this big
        (MB of the staging capture).
    """

    _worker = collect_worker

    def __init__(self, dataset: str, name: str | None = None, state_dir: str | os.PathLike[str] | None = None,
                 flush_s: float = DEFAULT_FLUSH_S, flush_mb: float = DEFAULT_FLUSH_MB, port: int = 0, **kw):
        self.dataset = str(dataset)
        self.name = name or default_name(port)
        if not _NAME.match(self.name):
            raise CaptureError(None, f"collector name {self.name!r}: use 1-64 letters, digits, '.', '_' or '-'")
        fs, root = filesystem(self.dataset)
        if state_dir is None:
            if not is_local(fs):
                raise CaptureError(self.dataset, "is not on this machine's disk: give --state-dir, a local folder "
                                                 "for the collector's spool")
            state_dir = Path(root) / "_collectors" / self.name
        self.state_dir = Path(state_dir)
        self.flush_s = float(flush_s)
        self.flush_bytes = int(flush_mb * 2**20)
        self._unflushed: dict[str, object] = {}
        self._flush_lock: asyncio.Lock | None = None
        self._flusher: asyncio.Task | None = None
        # the base class keeps its spool and token in "<capture>.collector/"
        super().__init__(self.state_dir / "collector", port=port, **kw)

    def _ensure_capture(self) -> None:
        fs, root = filesystem(self.dataset)
        try:
            existing = open_dataset(self.dataset)
        except CaptureError:
            if fs.exists(os.path.join(root, layout.META_FILE)):
                raise   # a dataset that is damaged or newer: do not touch it
        else:
            if existing.meta.get("version") != layout.FORMAT_VERSION:
                raise CaptureError(os.path.join(root, layout.META_FILE),
                                   f"is a dataset of version {existing.meta.get('version')}: collectors add "
                                   f"version-{layout.FORMAT_VERSION} part files only; re-export it (hindsight "
                                   "extract, then export dataset) or collect into a new dataset")
            return
        from hindsight import __version__

        write_meta(fs, root, layout.meta_document("lengths-only" if self.mask else "none",
                                                  f"hindsight {__version__} collector", {"source": "rrweb collector"}))
        self.state_dir.mkdir(parents=True, exist_ok=True)

    def _done_instances(self) -> set[str]:
        return collect_worker.done_instances(self.dataset, self.name)

    def _job(self, inst, forget) -> dict:
        return {"dataset": self.dataset, "name": self.name, "state_dir": str(self.state_dir), "key": inst.key,
                "instance": inst.id, "refs": inst.refs, "mask": self.mask, "render": self.render,
                "reason": inst.reason}

    def _session_written(self, inst) -> None:
        self._unflushed[inst.id] = inst   # released once its part files are in place

    def _start_background(self) -> None:
        self._flush_lock = asyncio.Lock()
        self._flusher = asyncio.create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        staging = self.state_dir / collect_worker.STAGING
        partial = staging.with_name(staging.name + ".partial")
        while True:
            await asyncio.sleep(min(1.0, self.flush_s / 4))
            size = partial.stat().st_size if partial.exists() else 0
            if self._unflushed and (loop.time() - last >= self.flush_s or size >= self.flush_bytes):
                await self.flush()
                last = loop.time()
            elif not self._unflushed:
                last = loop.time()

    async def flush(self) -> int:
        """Close the staging capture into part files now; returns the sessions released."""
        loop = asyncio.get_running_loop()
        async with self._flush_lock:
            job = {"dataset": self.dataset, "name": self.name, "state_dir": str(self.state_dir)}
            try:
                done = await loop.run_in_executor(self._executor, collect_worker.flush, job)
            except Exception as exc:  # noqa: BLE001 - the spool keeps them for a restart
                log.error("part files could not be written (%s: %s); the sessions stay in the spool",
                          type(exc).__name__, exc)
                return 0
            for inst_id in done:
                inst = self._unflushed.pop(inst_id, None)
                if inst is not None:
                    self._release(inst, written=True)
            if done:
                log.info("%d session(s) written to part files of %s", len(done), self.dataset)
            return len(done)

    async def _before_close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        await self.flush()

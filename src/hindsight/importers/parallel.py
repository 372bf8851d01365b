"""Reading and parsing recording files in a worker process while this one writes (issue 15).

An import is two halves: reading and parsing each file (JSON, privacy rules, the event loop,
the recording hash: ``rrweb.load_session``) and writing the parsed session into the capture
(pages, snapshots, event columns: ``session_writer.SessionWriter``). Parsing needs nothing from
the capture, so :func:`load_sessions` hands chunks of files to a ``ProcessPoolExecutor`` and
yields the parsed sessions **in file order**, exactly as ``load_session`` would one by one; while
the session it needs next is still being parsed elsewhere, this process parses a later chunk
itself, so both cores stay busy whichever half is the slower one.

What crosses the process boundary is a pickle of the parsed sessions (numpy columns, page
views, strings; the event columns of a chunk's sessions packed into one array each). The
element maps (``DomTree``) are shared by every session of a page (the ``snapshot_cache``), so
each is sent once per worker: a pageview refers to it by a token, the tree itself travels with
the first chunk that uses it, and all sessions of one worker's tree get the same object here
(``SessionWriter`` relies on it).

Errors behave as in the sequential loop: a chunk stops at its first failing file, and the
``CaptureError`` (or any other exception) is raised when that file's turn comes, after every
earlier file was yielded. Small imports (a few hundred files, a few MB) stay in this process:
starting a worker costs about as much as parsing a few hundred short recordings.

Start method (``_context``): ``fork`` on Linux when the process has no other Python thread
and Python is older than 3.12 (the CLI), else ``forkserver`` on Linux (the app imports from a
thread; numpy's BLAS has threads of its own), ``spawn`` elsewhere and in the frozen app
(PyInstaller's runtime hook and the entry script's ``multiprocessing.freeze_support()`` make
spawned children work).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator

import numpy as np

from hindsight.importers import rrweb as rr
from hindsight.importers import snapshot_cache
from hindsight.importers.rrweb_dom import DomTree

#: files per task: small enough that this process never waits long for the one it needs next
CHUNK_FILES = 16
#: chunks handed to each worker ahead of the one this process needs next: enough that a
#: worker never waits for this process to hand out more while it writes
DEPTH = 4
#: below this many files (and ``AUTO_MIN_BYTES`` of input) an import stays in this process
AUTO_MIN_FILES = 256
AUTO_MIN_BYTES = 16 * 2**20
#: worker processes at most (this process writes, and parses too while it would wait)
MAX_WORKERS = 3


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_workers(paths: list[str]) -> int:
    """Worker processes for an import of ``paths``: one per idle CPU beyond this process's (at
    most ``MAX_WORKERS``); none for a small import, on a single CPU or a busy machine (a worker
    on a CPU that other work needs only adds its overhead), or when the per-process caches are
    switched off (tests compare with them off, and a worker would not know)."""
    cpus = cpu_count()
    if cpus < 2 or len(paths) < 2 or not snapshot_cache.enabled:
        return 0
    if len(paths) < AUTO_MIN_FILES:
        total = 0
        for p in paths:
            try:
                total += os.stat(p).st_size
            except (OSError, ValueError, TypeError):
                pass  # the parse names the problem
            if total >= AUTO_MIN_BYTES:
                break
        if total < AUTO_MIN_BYTES:
            return 0
    try:  # runnable processes over the last minute; this one counts as one of them (it works)
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):  # pragma: no cover - Windows
        others = 0.0
    idle = cpus - 1 - others  # CPUs beyond this process's that nothing else is using
    return max(0, min(cpus - 1, MAX_WORKERS, int(idle + 0.5)))


def default_workers() -> int:
    """Worker processes on an idle machine: one per CPU beyond this process's, at most
    ``MAX_WORKERS`` (what ``auto_workers`` gives a large import when nothing else runs)."""
    return max(0, min(cpu_count() - 1, MAX_WORKERS))


def _context():
    """``fork`` when that is safe and allowed: Linux, not frozen, Python before 3.12 (which warns
    about forking a process with threads: numpy's BLAS has one) and no other Python thread (the
    app imports from a worker thread) -- a forked worker starts in milliseconds. Else
    ``forkserver`` on Linux (its server imports the parser once, 0.2-0.3 s; later workers fork
    from it) and ``spawn`` elsewhere and in the frozen app."""
    import threading

    frozen = getattr(sys, "frozen", False)
    if sys.platform.startswith("linux") and not frozen:
        if sys.version_info < (3, 12) and threading.active_count() == 1:
            return multiprocessing.get_context("fork")
        ctx = multiprocessing.get_context("forkserver")
        try:  # the server imports the parser once; each worker is forked from it
            ctx.set_forkserver_preload(["hindsight.importers.parallel"])
        except Exception:  # pragma: no cover - an older multiprocessing
            pass
        return ctx
    return multiprocessing.get_context("spawn")


# -- the worker's side ---------------------------------------------------------------------

#: id(tree) -> (tree, token) of every element map this worker has sent (the tree is held, so
#: its id is not reused while the entry exists)
_SENT: dict[int, tuple[DomTree, int]] = {}


def _tokens(sessions: list, new: list) -> None:
    """Replace each pageview's element maps by tokens (ints), collecting the trees this worker
    has not sent before in ``new`` as (token, tree). Done by hand rather than with pickle's
    ``persistent_id``, which would call Python code for every object pickled."""
    for s in sessions:
        for pv in s.pageviews:
            toks = []
            for tree in pv.trees:
                sent = _SENT.get(id(tree))
                if sent is None or sent[0] is not tree:
                    sent = _SENT[id(tree)] = (tree, len(_SENT) + 1)
                    new.append((sent[1], tree))
                toks.append(sent[1])
            pv.trees = toks


#: the event columns of a ``ParsedSession`` and their dtypes as ``parse_session`` makes them
_COLUMNS = (("t", "int64"), ("kind", "uint8"), ("x", "float64"), ("y", "float64"), ("target", "int64"),
            ("value", "int64"), ("pv", "int64"))


def _pack(sessions: list) -> tuple:
    """Every session's event columns as one array per column (and one scroll table), taken off
    the sessions: unpickling a handful of arrays per chunk costs less than eight per session.
    A session whose columns are not of the usual dtypes keeps its own (nothing is converted)."""
    packed = [s for s in sessions if all(getattr(s, name).dtype == dt and getattr(s, name).ndim == 1
                                         for name, dt in _COLUMNS)
              and s.scroll.dtype == np.float64 and s.scroll.ndim == 2 and s.scroll.shape[1] == 4]
    if not packed:
        return (), (), None
    ends = np.cumsum([len(s.t) for s in packed]).tolist()
    scroll_ends = np.cumsum([len(s.scroll) for s in packed]).tolist()
    cols = []
    for name, _ in _COLUMNS:
        cols.append(np.concatenate([getattr(s, name) for s in packed]))
    scroll = np.concatenate([s.scroll for s in packed])
    for s in packed:
        for name, _ in _COLUMNS:
            setattr(s, name, None)
        s.scroll = None
    return ends, scroll_ends, (cols, scroll)


def _unpack(sessions: list, ends: list, scroll_ends: list, data) -> None:
    if data is None:
        return
    cols, scroll = data
    a = b = 0
    it = iter(zip(ends, scroll_ends))
    for s in sessions:
        if s.t is not None:  # not packed
            continue
        e, se = next(it)
        for (name, _), col in zip(_COLUMNS, cols):
            setattr(s, name, col[a:e])
        s.scroll = scroll[b:se]
        a, b = e, se


def _parse_chunk(paths: list[str], kw: dict) -> tuple:
    """Parse ``paths`` in order (stopping at the first failure, which is returned in its place).
    Returns ``(pid, new trees pickle, sessions pickle, cache stats, CPU seconds so far)``."""
    before = dict(snapshot_cache.stats)
    out = _parse_here(paths, kw)
    sessions = [s for _, s in out if isinstance(s, rr.ParsedSession)]
    ends, scroll_ends, data = _pack(sessions)
    new: list = []
    _tokens(sessions, new)
    try:
        body = pickle.dumps((out, ends, scroll_ends, data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled: its text still can
        out = [(p, s if not isinstance(s, BaseException) else RuntimeError(str(s))) for p, s in out]
        body = pickle.dumps((out, ends, scroll_ends, data), protocol=pickle.HIGHEST_PROTOCOL)
    trees = pickle.dumps(new, protocol=pickle.HIGHEST_PROTOCOL)
    stats = {k: v - before.get(k, 0) for k, v in snapshot_cache.stats.items()}
    return os.getpid(), trees, body, stats, time.process_time()


def _parse_here(paths: list[str], kw: dict) -> list:
    out: list = []
    for p in paths:
        try:
            out.append((p, rr.load_session(p, **kw)))
        except Exception as exc:
            out.append((p, exc))
            break
    return out


# -- this process's side -------------------------------------------------------------------

#: what the last ``load_sessions`` did: chunks parsed here and by workers, the workers' CPU
#: seconds (each worker's own clock at its last chunk: parsing, pickling, its start-up)
stats = {"workers": 0, "chunks_here": 0, "chunks_workers": 0, "worker_cpu_seconds": 0.0, "wait_seconds": 0.0}


class _Trees:
    """The element maps workers sent: (worker pid, token) -> tree."""

    def __init__(self):
        self.by_token: dict[tuple[int, int], DomTree] = {}
        self.cpu: dict[int, float] = {}

    def decode(self, payload: tuple) -> list:
        pid, trees, body, cache_stats, cpu = payload
        by_token = self.by_token
        for token, tree in pickle.loads(trees):
            by_token[(pid, token)] = tree
        out, ends, scroll_ends, data = pickle.loads(body)
        sessions = [s for _, s in out if isinstance(s, rr.ParsedSession)]
        _unpack(sessions, ends, scroll_ends, data)
        for s in sessions:
            for pv in s.pageviews:
                pv.trees = [by_token[(pid, token)] for token in pv.trees]
        for k, v in cache_stats.items():
            snapshot_cache.stats[k] = snapshot_cache.stats.get(k, 0) + v
        self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)
        stats["chunks_workers"] += 1
        stats["worker_cpu_seconds"] = sum(self.cpu.values())
        return out


def load_sessions(paths: list[str], *, workers: int, **kw) -> Iterator[tuple[str, "rr.ParsedSession"]]:
    """``(path, rr.load_session(path, **kw))`` for each path in order, parsed by ``workers``
    worker processes and this one (``workers`` 0: all here, one by one). The first file that
    fails raises its exception when its turn comes, after every file before it was yielded."""
    stats.update(workers=0, chunks_here=0, chunks_workers=0, worker_cpu_seconds=0.0, wait_seconds=0.0)
    if workers <= 0 or len(paths) < 2:
        for p in paths:
            yield p, rr.load_session(p, **kw)
        return
    chunks = [paths[i:i + CHUNK_FILES] for i in range(0, len(paths), CHUNK_FILES)]
    depth = DEPTH * workers
    taken = 0  # chunks [0, taken) are assigned, to a worker or to this process
    pending: dict[int, Future] = {}
    here: dict[int, list] = {}
    trees = _Trees()
    stats["workers"] = workers
    pool: ProcessPoolExecutor | None = ProcessPoolExecutor(workers, mp_context=_context())

    def parse_here(k: int) -> list:
        stats["chunks_here"] += 1
        return _parse_here(chunks[k], kw)

    try:
        for k in range(len(chunks)):
            while pool is not None and len(pending) < depth and taken < len(chunks):
                pending[taken] = pool.submit(_parse_chunk, chunks[taken], kw)
                taken += 1
            if k in here:
                results = here.pop(k)
            elif k in pending:
                fut = pending.pop(k)
                while not fut.done() and taken < len(chunks):  # parse a later chunk meanwhile
                    here[taken] = parse_here(taken)
                    taken += 1
                try:
                    if not fut.done():
                        t0 = time.perf_counter()
                        futures_wait([fut])
                        stats["wait_seconds"] += time.perf_counter() - t0
                    results = trees.decode(fut.result())
                except BrokenProcessPool:
                    # a worker died (killed, out of memory, or a script that cannot be
                    # re-imported by a child): the rest is parsed here, as without workers
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = None
                    pending.clear()  # each is parsed here when its turn comes
                    results = parse_here(k)
            else:  # not handed out (no pool any more)
                results = parse_here(k)
                taken = max(taken, k + 1)
            for p, item in results:
                if isinstance(item, BaseException):
                    raise item
                yield p, item
    finally:
        for fut in pending.values():
            fut.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

"""Writes finished collector sessions into the capture, in a worker process off the request path.

The collector hands over a job naming the spooled batches of one session instance (file,
offset, length); the worker reads them back, parses them (``parse_session``), lays pages out
(Chromium, when rendering) and appends the session in one transaction that also records
``meta`` row ``collector.done.<instance>``. That row is what makes a restart exact: a spooled
session whose row is in the capture was written and is not written again. Rows of instances
whose spool segments are gone are deleted in a later transaction (``forget``).

One ``CaptureWriter``/``SessionWriter`` (and its Chromium) is kept open while jobs keep
coming and closed by ``close_writer`` when the collector goes idle.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("hindsight.collector")

DONE_PREFIX = "collector.done."

class _State(threading.local):
    def __init__(self):
        self.writer = None  # ((capture, render), CaptureWriter, SessionWriter) while open
        self.data_version = None  # PRAGMA data_version after our last commit


_state = _State()


def _open(capture: str, render: bool):
    from hindsight.importers.session_writer import SessionWriter
    from hindsight.store.writer import CaptureWriter

    st = _state.writer
    if st is not None and st[0] == (capture, render):
        # the writer caches ids and snapshots: if anyone else wrote meanwhile (an import, the
        # app's bookmarks), start afresh
        if st[1]._con.execute("PRAGMA data_version").fetchone()[0] == _state.data_version:
            return st[1], st[2]
    close_writer()
    writer = CaptureWriter.append(capture)
    # each session's commit reaches the disk before its spool segment may be deleted (the
    # writer's connection starts in an empty transaction; the level can only change outside one)
    writer._con.execute("COMMIT")
    writer._con.execute("PRAGMA synchronous=FULL")
    sw = SessionWriter(writer, render=render, existing_capture=capture)
    _state.data_version = writer._con.execute("PRAGMA data_version").fetchone()[0]
    writer._con.execute("BEGIN")
    _state.writer = ((capture, render), writer, sw)
    return writer, sw


def _discard() -> None:
    close_writer(abort=True)


def close_writer(abort: bool = False) -> None:
    """Commit nothing new, close the capture connection and Chromium (``abort``: roll back)."""
    st, _state.writer = _state.writer, None
    if st is None:
        return
    _, writer, sw = st
    try:
        sw.close()
    finally:
        writer.abort() if abort else writer.close()


def read_events(refs: list[tuple[str, int, int]]) -> list:
    """The events of spooled batches ``(path, offset, length)``, in spool order."""
    import orjson

    events: list = []
    handles: dict[str, object] = {}
    try:
        for path, off, length in refs:
            f = handles.get(path)
            if f is None:
                f = handles[path] = open(path, "rb")
            f.seek(off)
            events.extend(orjson.loads(f.read(length)))
    finally:
        for f in handles.values():
            f.close()
    return events


def write_session(job: dict) -> dict:
    """Write one session; returns its summary, or ``{"error": ...}`` when it cannot be imported.

    ``job``: ``capture``, ``key``, ``instance``, ``refs``, ``mask``, ``render``, ``reason``,
    ``forget`` (instances whose done rows may be deleted).
    """
    from hindsight.importers.rrweb import parse_session
    from hindsight.store.errors import CaptureError

    key, inst = job["key"], job["instance"]
    base = {"key": key, "instance": inst, "reason": job["reason"]}
    try:
        parsed = parse_session(read_events(job["refs"]), f"session {key}", mask=job["mask"],
                               fmt="rrweb-collector", external_id=key)
    except CaptureError as exc:
        _forget_only(job)
        return {**base, "error": str(exc)}
    for attempt in range(2):
        writer, sw = _open(job["capture"], job["render"])
        before = (sw.report.pageviews, sw.report.events, sw.report.rrweb_events)
        try:
            sid = sw.write(parsed)
            sw.update_meta()
            if not job["mask"]:
                writer.set_meta("masking", "none")
            writer.set_meta(DONE_PREFIX + inst, str(sid))
            _delete_done_rows(writer, job.get("forget", ()))
            _commit(writer)
            break
        except CaptureError as exc:
            _discard()
            return {**base, "error": str(exc)}
        except sqlite3.OperationalError:  # another writer got in between: once more, afresh
            _discard()
            if attempt:
                raise
        except BaseException:
            _discard()
            raise
    r = sw.report
    return {**base, "session_id": sid, "pageviews": r.pageviews - before[0], "events": r.events - before[1],
            "rrweb_events": r.rrweb_events - before[2]}


def _commit(writer) -> None:
    """``writer.commit()``, noting ``data_version`` between the transactions (read inside one,
    it would pin that transaction's snapshot)."""
    writer._flush(final=True)   # chunks too: they must match the committed pageviews
    writer._con.execute("COMMIT")
    _state.data_version = writer._con.execute("PRAGMA data_version").fetchone()[0]
    writer._con.execute("BEGIN")


def _delete_done_rows(writer, instances) -> None:
    if instances:
        # CaptureWriter has set_meta only; these rows are the collector's own bookkeeping
        writer._con.executemany("DELETE FROM meta WHERE key = ?", [(DONE_PREFIX + i,) for i in instances])


def _forget_only(job: dict) -> None:
    if job.get("forget"):
        forget(job["capture"], job["render"], job["forget"])


def forget(capture: str, render: bool, instances: list[str]) -> None:
    """Delete the done rows of ``instances`` (their spool records are gone)."""
    writer, _ = _open(capture, render)
    try:
        _delete_done_rows(writer, instances)
        _commit(writer)
    except BaseException:
        _discard()
        raise


def done_instances(capture: str | Path) -> set[str]:
    """Instances the capture says were written (read-only look-up)."""
    import sqlite3

    con = sqlite3.connect(f"file:{Path(capture).resolve()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT key FROM meta WHERE key >= ? AND key < ?",
                           (DONE_PREFIX, DONE_PREFIX[:-1] + "/")).fetchall()
    finally:
        con.close()
    return {k[len(DONE_PREFIX):] for (k,) in rows}


def lower_priority() -> None:
    """Run at nice 10: the collector's request path should win the CPU over this process."""
    import os

    try:
        os.nice(10)
    except OSError:
        pass


def ping() -> int:
    """Warm the worker up (imports) before the first session ends."""
    import os

    import hindsight.importers.rrweb  # noqa: F401
    import hindsight.importers.session_writer  # noqa: F401

    return os.getpid()

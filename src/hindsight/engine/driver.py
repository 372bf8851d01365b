"""Running analyses over a dataset as Dask tasks: one task per day partition, exact combines.

Each task opens the dataset in its worker process (cached), reads one partition with column
projection and filter pushdown (:class:`~hindsight.engine.reader.Partition`), runs the same
analysis function the capture path runs, and returns a small result (a heatmap's cell sums,
per-session rows). The client combines them with the combine steps the capture path uses too
(``combine_heatmaps``, ``funnel_report``, the signal table's (session, time) order), so the
numbers equal the capture's exactly. Tasks only read, so Dask may re-run them (a lost worker)
without changing the result.

The cluster: ``scheduler`` ("tcp://HOST:PORT") or the ``HINDSIGHT_SCHEDULER`` environment
variable names a running one (``dask scheduler`` / ``dask worker``); without either, a local
cluster with one worker process per core starts on first use.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import fields
from typing import Callable

import numpy as np

from hindsight.engine.reader import CatalogReads, Dataset, Partition, cached_dataset, open_dataset
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.session_order import sort_table

SCHEDULER_ENV = "HINDSIGHT_SCHEDULER"


class Cancelled(Exception):
    """The caller cancelled an analysis (its tasks were cancelled on the cluster)."""


# ---------------------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------------------

_local: dict = {}
_local_lock = threading.Lock()


def connect(scheduler: str | None = None, workers: int | None = None):
    """A ``distributed.Client``: of ``scheduler`` (or ``$HINDSIGHT_SCHEDULER``), else of a local
    cluster of ``workers`` processes (default one per core), started once per process.

    An unreachable scheduler is a ``CaptureError`` of one line.
    """
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        try:
            return Client(address, timeout="5s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise CaptureError(None, f"cannot reach the Dask scheduler at {address}: {reason}") from None
    n = int(workers or os.cpu_count() or 1)
    with _local_lock:
        client = _local.get(n)
        if client is None or client.status != "running":
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=50)
            client = Client(cluster, set_as_default=False)
            if not _local:
                import atexit

                atexit.register(_close_local)
            _local[n] = client
        return client


def _close_local() -> None:
    """Stop the local clusters at exit: workers first, so none logs a lost scheduler."""
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    for client in list(_local.values()):
        cluster = client.cluster
        try:
            client.close()
            if cluster is not None:
                cluster.close()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
    _local.clear()


def _partition(url: str, day: str) -> Partition:
    """The partition of a task: ``day`` is a ``DayRef`` carrying its part files (listed by the
    client for this analysis), read with the footers this worker process has cached."""
    return cached_dataset(url).partition(day)


# ---------------------------------------------------------------------------------------
# Tasks: module-level pure functions of (dataset URL, day, arguments)
# ---------------------------------------------------------------------------------------


def _heatmap_task(url, day, snapshot_id, kind, flt, cell_px, pages=None):
    from hindsight.analytics.heatmap import HeatmapEngine

    part = HeatmapEngine(_partition(url, day), cell_px=cell_px).partial(snapshot_id, kind, flt, pages)
    return pack_partial(part)


class PackedSums:
    """A heatmap partial's cell sums sent sparse (most cells of a click map are 0): exact."""

    __slots__ = ("size", "dtype", "index", "values")

    def __init__(self, sums: np.ndarray):
        self.size, self.dtype = sums.size, sums.dtype
        self.index = np.flatnonzero(sums).astype(np.int32 if sums.size < 2**31 else np.int64)
        self.values = sums[self.index]

    def __getstate__(self):
        return (self.size, self.dtype, self.index, self.values)

    def __setstate__(self, state):
        self.size, self.dtype, self.index, self.values = state

    def unpack(self) -> np.ndarray:
        out = np.zeros(self.size, dtype=self.dtype)
        out[self.index] = self.values
        return out


def pack_partial(part):
    """A ``HeatmapPartial`` with its cell sums packed when sparse (a task's result: about 1 MB
    dense per partition at 8 px cells, a few kB for a click map)."""
    from dataclasses import replace

    sums = part.sums
    if sums.ndim == 1 and sums.size > 4096 and np.count_nonzero(sums) * 3 < sums.size:
        return replace(part, sums=PackedSums(sums))
    return part


def unpack_partial(part):
    """The inverse of :func:`pack_partial` (the client side)."""
    from dataclasses import replace

    return replace(part, sums=part.sums.unpack()) if isinstance(part.sums, PackedSums) else part


def _element_task(url, day, snapshot_id, flt, cell_px, pages=None):
    """Per element of the snapshot: (clicks, rage, dead, sessions) counts, and clicks in total
    (of every snapshot of the page group ``pages``, matched onto this one's elements)."""
    from hindsight.analytics.heatmap import HeatmapEngine

    part = _partition(url, day)
    eng = HeatmapEngine(part, cell_px=cell_px)
    n = len(part.elements(snapshot_id))
    out = np.zeros((4, n), dtype=np.int64)
    if all(not part.snapshot_pageviews(s.snapshot_id) for s in eng.sources(snapshot_id, pages)):
        return out, 0
    rows = eng.element_table(snapshot_id, flt, pages)
    for r in rows:
        out[:, r.index] = (r.clicks, r.rage_clicks, r.dead_clicks, r.sessions)
    return out, eng.partial(snapshot_id, "click", flt, pages).points


def _screenshots_task(url, day, page_ids, device, flt, cell_px):
    """{snapshot id: sessions of the segment} of the page group's screenshots on ``device``."""
    from hindsight.analytics.heatmap import HeatmapEngine

    rows = HeatmapEngine(_partition(url, day), cell_px=cell_px).screenshots(page_ids, device, flt)
    return {snap.snapshot_id: int(n or 0) for snap, n in rows}


def _signals_task(url, day, flt, settings):
    from hindsight.analytics.signals import compute_signals

    return compute_signals(_partition(url, day), flt=flt, settings=settings)


def _forms_task(url, day, ref, flt):
    from hindsight.analytics.forms import form_events, form_rows

    # per-session and per-(session, field) rows: a small, exact partial (not the events)
    return form_rows(form_events(_partition(url, day), ref, flt))


def _funnel_task(url, day, steps, flt):
    from hindsight.analytics.funnel import funnel_reached

    return funnel_reached(_partition(url, day), steps, flt)


def _custom_events_task(url, day):
    from hindsight.analytics.signals import load_events
    from hindsight.store.kinds import EventKind

    return np.unique(load_events(_partition(url, day), kinds=(EventKind.CUSTOM,)).events.value)


def _session_table_task(url, day, flt, order_by):
    return _partition(url, day).session_table(flt, order_by)


def _session_ids_task(url, day, flt):
    return _partition(url, day).session_ids(flt)


def _counts_task(url, day):
    return _partition(url, day).counts()


def _summary_task(url, day):
    """(first known start, last known end, sessions of unknown date, {device: sessions})."""
    from collections import Counter

    from hindsight.store.records import KNOWN_DATE_MAX_MS, KNOWN_DATE_MIN_MS

    cols = _partition(url, day)._session_columns(["start_ms", "duration_ms", "device"], None)
    start, dur = cols["start_ms"], cols["duration_ms"]
    known = (start >= KNOWN_DATE_MIN_MS) & (start <= KNOWN_DATE_MAX_MS)
    first = int(start[known].min()) if known.any() else None
    last = int((start + dur)[known].max()) if known.any() else None
    return first, last, int((~known).sum()), Counter(cols["device"].tolist())


def _find_session_task(url, day, session_id):
    import pyarrow.compute as pc

    part = _partition(url, day)
    t = part.table("sessions", columns=["session_id"], filter=pc.field("session_id") == int(session_id))
    return t.num_rows > 0


# ---------------------------------------------------------------------------------------
# Combines
# ---------------------------------------------------------------------------------------


def concat_signal_tables(tables):
    """The signal tables of disjoint sessions as one, in the capture's (session, time) order."""
    from hindsight.analytics.signals import SignalTable

    tables = [t for t in tables if len(t)]
    if not tables:
        return SignalTable.empty()
    if len(tables) == 1:
        return tables[0]
    cols = {f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(tables[0])}
    table = SignalTable(**cols)
    return table.take(np.lexsort((table.t_ms, table.session_id)))


# ---------------------------------------------------------------------------------------
# A dataset behind the methods the CLI and the app call on a capture
# ---------------------------------------------------------------------------------------


class DatasetCapture(CatalogReads):
    """A dataset opened for analysis on a Dask cluster.

    It answers the read methods of a :class:`~hindsight.store.Capture` that the CLI and the app
    use (pages, snapshots, elements, session lists, one session's events), running the
    per-partition ones as tasks, and runs the analyses (:meth:`heatmap_partials`,
    :meth:`signals`, :meth:`form_reports`, :meth:`funnel`).
    """

    def __init__(self, dataset: Dataset, scheduler: str | None = None, workers: int | None = None, client=None):
        self.dataset = dataset
        self.path = dataset.url
        self.meta = dataset.meta
        self._scheduler = scheduler
        self._workers = workers
        self._client = client
        self._owns = False
        self._session_day: dict[int, str] = {}
        self._last_refs: list = []
        self.damaged_events = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        # A client of a named scheduler is this capture's own; the local cluster's is shared.
        if self._client is not None and (self._scheduler or os.environ.get(SCHEDULER_ENV)) and self._owns:
            self.damaged_events   # noqa: B018 - gather the workers' counts while they can be asked
            self._client.close()
            self._client = None

    def __enter__(self) -> "DatasetCapture":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def client(self):
        if self._client is None:
            self._client = connect(self._scheduler, self._workers)
            self._owns = True
        return self._client

    def days(self) -> list[str]:
        return self.dataset.days()

    def day_refs(self) -> list:
        """The day partitions with their part files, listed now (see ``Dataset.listing``)."""
        return self.dataset.listing().refs()

    def run(self, fn: Callable, *args, cancelled: Callable[[], bool] | None = None,
            progress: Callable[[int, int], None] | None = None) -> list:
        """``fn(url, day, *args)`` for every day as Dask tasks; results in day order.

        ``cancelled`` is polled while waiting: when it turns true the tasks are cancelled and
        :class:`Cancelled` is raised. ``progress(done, total)`` is called as tasks finish.
        """
        if cancelled is None:   # the caller's thread may be a cancellable task (the app's)
            from hindsight.engine.cancel import current_check

            cancelled = current_check()
        import time

        days = self.day_refs()   # listed once per analysis: new collector part files are seen
        self._last_refs = days
        if not days:
            return []
        client = self.client
        futures = [client.submit(fn, self.dataset.url, day, *args, pure=False) for day in days]
        results: list = [None] * len(futures)
        pending = set(range(len(futures)))
        try:
            while pending:
                if cancelled is not None and cancelled():
                    client.cancel(futures)
                    raise Cancelled()
                finished = [i for i in sorted(pending) if futures[i].done()]
                for i in finished:
                    results[i] = futures[i].result()
                    pending.discard(i)
                    if progress is not None:
                        progress(len(futures) - len(pending), len(futures))
                if pending and not finished:
                    time.sleep(0.02)
        except CaptureError:
            client.cancel(futures)
            raise
        return results

    # -- the small tables (read in this process) ------------------------------------------------

    def distinct_values(self, column):
        return self.dataset.distinct_values(column)

    # -- sessions (tasks) -----------------------------------------------------------------------
    def session_table(self, flt: SessionFilter | None = None, order_by: str = "start_ms") -> dict[str, np.ndarray]:
        parts = [p for p in self.run(_session_table_task, flt, order_by)]
        if not parts:
            from hindsight.store.reader import SESSION_TABLE_COLUMNS
            return {c: np.zeros(0, np.int64) for c in SESSION_TABLE_COLUMNS}
        out = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
        return sort_table(out, order_by)

    def session_ids(self, flt: SessionFilter | None = None) -> np.ndarray:
        parts = self.run(_session_ids_task, flt)
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def session_count(self) -> int:
        return int(sum(c["sessions"] for c in self.run(_counts_task)))

    def counts(self) -> dict[str, int]:
        parts = self.run(_counts_task)
        out = {k: int(sum(p[k] for p in parts)) for k in ("sessions", "pageviews", "events")}
        out["pages"] = len(self.pages())
        out["snapshots"] = len(self.snapshots())
        return out

    @property
    def format_version(self) -> int:
        return int(self.meta.get("version", 0))

    def _summary(self):
        from collections import Counter

        parts = self.run(_summary_task)
        firsts = [p[0] for p in parts if p[0] is not None]
        lasts = [p[1] for p in parts if p[1] is not None]
        devices = sum((p[3] for p in parts), Counter())
        return (min(firsts) if firsts else None, max(lasts) if lasts else None, sum(p[2] for p in parts), devices)

    def date_range(self) -> tuple[int | None, int | None]:
        first, last, _, _ = self._summary()
        return first, last

    def unknown_date_count(self) -> int:
        return self._summary()[2]

    def device_counts(self) -> dict[str, int]:
        devices = self._summary()[3]
        return dict(sorted(devices.items(), key=lambda kv: -kv[1]))

    def _day_of(self, session_id: int) -> str:
        day = self._session_day.get(int(session_id))
        if day is None:
            found = self.run(_find_session_task, int(session_id))
            hits = [d for d, ok in zip(self._last_refs, found) if ok]   # DayRefs: the files it is in
            if not hits:
                raise KeyError(f"no session {session_id}")
            day = self._session_day[int(session_id)] = hits[0]
        return day

    def session(self, session_id: int):
        return self.dataset.partition(self._day_of(session_id)).session(session_id)

    def pageviews(self, session_id: int):
        return self.dataset.partition(self._day_of(session_id)).pageviews(session_id)

    def session_events(self, session_id: int):
        """One session's pageviews and events: a read of its rows only (in this process)."""
        return self.dataset.partition(self._day_of(session_id)).session_events(session_id)

    # -- analyses (tasks + exact combines) ------------------------------------------------------
    def heatmap_partials(self, snapshot_id: int, kind: str, flt: SessionFilter | None, cell_px: int,
                         pages: tuple[int, ...] | None = None, **kw) -> list:
        return [unpack_partial(p) for p in self.run(_heatmap_task, int(snapshot_id), kind, flt, int(cell_px),
                                                    pages, **kw)]

    def element_counts(self, snapshot_id: int, flt: SessionFilter | None, cell_px: int,
                       pages: tuple[int, ...] | None = None):
        parts = self.run(_element_task, int(snapshot_id), flt, int(cell_px), pages)
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def screenshot_sessions(self, page_ids: tuple[int, ...], device: str, flt: SessionFilter | None,
                            cell_px: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for part in self.run(_screenshots_task, tuple(page_ids), device, flt, int(cell_px)):
            for sid, n in part.items():
                out[sid] = out.get(sid, 0) + n
        return out

    def signals(self, flt: SessionFilter | None = None, settings=None, **kw):
        return concat_signal_tables(self.run(_signals_task, flt, settings, **kw))

    def form_reports(self, form: str | None = None, page_url: str | None = None, device: str | None = None,
                     flt: SessionFilter | None = None, split: bool = False, **kw) -> dict:
        from hindsight.analytics.forms import find_form, merge_form_rows, reports_from_rows

        ref = find_form(self, form, page_url, None if split else device)
        parts = self.run(_forms_task, ref, flt, **kw)
        return reports_from_rows(merge_form_rows(parts), device, split)

    def custom_event_names(self) -> list[str]:
        strings = self.strings()
        parts = self.run(_custom_events_task)
        ids = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        return sorted(strings[int(i)] for i in ids if int(i) in strings)

    def funnel(self, steps, flt: SessionFilter | None = None, **kw):
        from hindsight.analytics.funnel import FunnelStep, check_steps, funnel_report

        known = (self.custom_event_names()
                 if any((s.kind if isinstance(s, FunnelStep) else "").startswith("event") or
                        (isinstance(s, str) and s.startswith("event:")) for s in steps) else [])
        steps = check_steps(self, steps, known)
        parts = self.run(_funnel_task, steps, flt, **kw)
        sessions = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        reached = (np.concatenate([p[1] for p in parts], axis=1) if parts
                   else np.zeros((len(steps), 0), np.int64))
        return funnel_report(steps, sessions, reached)

    # -- damaged events (engine/validate.py) ----------------------------------------------------
    @property
    def damaged_events(self) -> int:
        """Damaged events dropped so far by this process and the cluster's workers (each
        (pageview, kind) counted once, however often it was read)."""
        from hindsight.engine.validate import damage_counts, merge_damage

        seen = self.__dict__.setdefault("_damage_seen", {})
        parts = [damage_counts(self.dataset.url)]
        if self._client is not None:
            try:
                parts += list(self._client.run(damage_counts, self.dataset.url).values())
            except Exception:  # noqa: BLE001 - a lost cluster: what was counted so far
                pass
        return merge_damage(seen, parts)

    @damaged_events.setter
    def damaged_events(self, value: int) -> None:
        pass   # counted by the partition readers, see the getter

    # -- find similar (bookmarks.similar), tasks at the end of this module -------------------------
    def find_similar(self, bookmark, cancelled=None, progress=None):
        """``bookmarks.similar.find_similar`` on a dataset: the behaviour at the bookmark is read
        on its session's day (one task: sessions never span days), then every day is searched
        (one task each) with the same kernel, and the matches combine by session id."""
        from hindsight.bookmarks.similar import SimilarResult, combine_matches

        day = self._day_of(int(bookmark.session_id))
        future = self.client.submit(_behaviour_task, self.dataset.url, day, bookmark, pure=True)
        behaviour = future.result()
        parts = self.run(_similar_task, behaviour, cancelled=cancelled, progress=progress)
        return SimilarResult(bookmark, behaviour, combine_matches(parts))

    # -- the app: one page of the session list, a session's day (tasks at the end of this module) --
    #: A dataset has none of a capture's optional SQLite tables (page states): readers that look
    #: for them (``store.states.has_states``) find none, and a replay or heatmap shows the page as loaded.
    tables = frozenset()

    def session_page(self, flt: SessionFilter | None = None, order_by: str = "-start_ms",
                     offset: int = 0, limit: int = 500, **kw) -> tuple[int, dict[str, np.ndarray]]:
        """(total, rows): how many sessions ``flt`` keeps, and rows ``offset .. offset+limit`` of
        their list sorted as ``Capture.session_table(flt, order_by)`` sorts it.

        Each partition returns its count and its first ``offset + limit`` rows by the sort key;
        the client merges those candidates (every row of the page is among them) and slices, so a
        page costs the client ``partitions x (offset + limit)`` rows, never the whole list.
        """
        from hindsight.store.reader import SESSION_TABLE_COLUMNS

        if order_by.lstrip("-") not in SESSION_TABLE_COLUMNS:
            raise ValueError(f"cannot order by {order_by!r}")
        offset, limit = max(0, int(offset)), max(0, int(limit))
        parts = self.run(_session_page_task, flt, order_by, offset + limit, **kw)
        total = int(sum(n for n, _ in parts))
        if not parts:
            return 0, {c: np.zeros(0, np.int64) for c in SESSION_TABLE_COLUMNS}
        rows = {c: np.concatenate([p[c] for _, p in parts]) for c in parts[0][1]}
        rows = sort_table(rows, order_by)
        return total, {c: a[offset:offset + limit] for c, a in rows.items()}

    def session_partition(self, session_id: int) -> Partition:
        """The day partition holding ``session_id`` (KeyError: none): its rows are a small read."""
        return self.dataset.partition(self._day_of(int(session_id)))

    def note_session_days(self, session_ids, start_ms) -> None:
        """Remember the day partitions of listed sessions (from their start), so replaying one
        reads its day only instead of asking every partition where it is."""
        from hindsight.dataset.layout import day_of

        for sid, start in zip(np.asarray(session_ids).tolist(), np.asarray(start_ms).tolist()):
            self._session_day[int(sid)] = day_of(int(start))



def open_dataset_capture(url, scheduler: str | None = None, workers: int | None = None, client=None
                         ) -> DatasetCapture:
    from hindsight.store.reader import capture_did_open

    cap = DatasetCapture(open_dataset(url), scheduler, workers, client)
    capture_did_open.emit(cap)   # the CLI warns of damaged events skipped, as for a capture
    return cap


class DatasetHeatmaps:
    """The :class:`~hindsight.analytics.heatmap.HeatmapEngine` methods the CLI and the app use,
    over a dataset: each map is the combine of per-partition partials (cached)."""

    def __init__(self, capture: DatasetCapture, cell_px: int | None = None, min_sessions: int | None = None,
                 cache_size: int = 48):
        from hindsight.analytics.heatmap import MIN_SESSIONS
        from hindsight.analytics.heatmap_grid import DEFAULT_CELL_PX

        self.capture = capture
        self.cell_px = int(cell_px or DEFAULT_CELL_PX)
        self.min_sessions = int(min_sessions or MIN_SESSIONS)
        self.cache_size = cache_size
        self._results: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def compute(self, snapshot_id: int, kind: str, flt: SessionFilter | None = None,
                pages: tuple[int, ...] | None = None, **kw):
        from hindsight.analytics.heatmap import HeatmapEngine, combine_heatmaps

        def build(flt, pages):
            parts = self.capture.heatmap_partials(snapshot_id, kind, flt, self.cell_px, pages, **kw)
            if not parts:
                raise CaptureError(self.capture.path, "has no sessions")
            return combine_heatmaps(parts, self.min_sessions)

        return HeatmapEngine._memo(self, snapshot_id, kind, flt, pages, build)   # the capture's LRU

    def cached(self, snapshot_id: int, kind: str, flt: SessionFilter | None = None,
               pages: tuple[int, ...] | None = None):
        from hindsight.analytics.heatmap import HeatmapEngine

        return HeatmapEngine.cached(self, snapshot_id, kind, flt, pages)

    def compare(self, snapshot_id, kind, flt_a, flt_b, pages=None):
        from hindsight.analytics.heatmap import HeatmapEngine

        return HeatmapEngine.compare(self, snapshot_id, kind, flt_a, flt_b, pages)

    def sources(self, snapshot_id: int, pages: tuple[int, ...] | None = None) -> list:
        from hindsight.analytics.heatmap import HeatmapEngine

        return HeatmapEngine.sources(self, snapshot_id, pages)

    def screenshots(self, page_ids: tuple[int, ...], device: str, flt: SessionFilter | None = None) -> list:
        """As :meth:`HeatmapEngine.screenshots`: per-partition session counts add up (disjoint sessions)."""
        from hindsight.analytics.heatmap import _norm_pages

        page_ids = _norm_pages(page_ids) or ()
        snaps = [snap for pid in page_ids for snap in self.capture.snapshots(pid) if snap.device == device]
        if len(snaps) <= 1:
            return [(snap, None) for snap in snaps]
        counts = self.capture.screenshot_sessions(page_ids, device, flt, self.cell_px)
        rows = [(snap, int(counts.get(snap.snapshot_id, 0))) for snap in snaps]
        rows.sort(key=lambda r: (-r[1], r[0].width, r[0].snapshot_id))
        return rows

    def default_snapshot(self, page_ids: tuple[int, ...], device: str, flt: SessionFilter | None = None):
        rows = self.screenshots(page_ids, device, flt)
        return rows[0][0] if rows else None

    def element_table(self, snapshot_id: int, flt: SessionFilter | None = None,
                      pages: tuple[int, ...] | None = None):
        from hindsight.analytics.heatmap import ElementStats, _norm_pages

        em = self.capture.elements(snapshot_id)
        n = len(em)
        counts, total = self.capture.element_counts(snapshot_id, flt, self.cell_px, _norm_pages(pages))
        if not n:
            return []
        clicks, rage, dead, sessions = counts
        order = np.lexsort((np.arange(n), -clicks))
        return [ElementStats(int(i), em.selector[i], em.label[i], em.tag[i], bool(em.clickable[i]),
                             int(clicks[i]), float(clicks[i] / total) if total else 0.0, int(sessions[i]),
                             int(rage[i]), int(dead[i])) for i in order]

    def sessions_at(self, snapshot_id: int, kind: str, x: float, y: float, radius_px: float = 24.0,
                    flt: SessionFilter | None = None, pages: tuple[int, ...] | None = None, **kw
                    ) -> list[tuple[int, int, int]]:
        """``HeatmapEngine.sessions_at`` over a dataset: each partition lists its clicks near
        (x, y) with their distances (the same kernel); the merge orders them nearest first, ties
        by pageview and time as the capture's click order has them."""
        from hindsight.analytics.heatmap import _norm_pages

        parts = self.capture.run(_sessions_at_task, int(snapshot_id), kind, float(x), float(y), float(radius_px),
                                 flt or SessionFilter(), _norm_pages(pages), self.cell_px, **kw)
        if not parts:
            return []
        s, t, pv, d2 = (np.concatenate([p[i] for p in parts]) for i in range(4))
        order = np.lexsort((t, pv, d2))
        return [(int(a), int(b), int(c)) for a, b, c in zip(s[order], t[order], pv[order])]


# ---------------------------------------------------------------------------------------
# Find similar (bookmarks): the behaviour on the bookmark's day, then a search on every day
# ---------------------------------------------------------------------------------------


def _behaviour_task(url, day, bookmark):
    from hindsight.bookmarks.similar import behaviour_at

    return behaviour_at(_partition(url, day), bookmark)


def _similar_task(url, day, behaviour):
    from hindsight.bookmarks.similar import find_behaviour

    return find_behaviour(_partition(url, day), behaviour)


# ---------------------------------------------------------------------------------------
# The app on a dataset: one page of the session list, hot spots (issue 16)
# ---------------------------------------------------------------------------------------


def _session_page_task(url, day, flt, order_by, limit):
    """(sessions the filter keeps in this partition, its first ``limit`` rows in list order)."""
    table = _partition(url, day).session_table(flt, order_by)
    return int(table["session_id"].shape[0]), {c: a[:limit] for c, a in table.items()}


def _sessions_at_task(url, day, snapshot_id, kind, x, y, radius_px, flt, pages, cell_px):
    from hindsight.analytics.heatmap import HeatmapEngine

    part = _partition(url, day)
    eng = HeatmapEngine(part, cell_px=cell_px)
    if all(not part.snapshot_pageviews(s.snapshot_id) for s in eng.sources(snapshot_id, pages)):
        return tuple(np.zeros(0, np.int64) for _ in range(3)) + (np.zeros(0, np.float64),)
    return eng.sessions_at(snapshot_id, kind, x, y, radius_px, flt, pages, with_distance=True)

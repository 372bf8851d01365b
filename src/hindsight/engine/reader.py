"""Reading a capture dataset: the whole of it (small tables) and one day partition at a time.

A dataset is a folder or an fsspec URL holding Parquet tables (layout in the README, section
"Capture datasets"): the small tables (pages, snapshots, elements, strings) are read whole;
sessions, pageviews and events are partitioned by day (``day=YYYY-MM-DD``).

:class:`Partition` reads one day through the methods the analyses call on a
:class:`~hindsight.store.Capture` (``session_table``, ``session_ids``, ``snapshot_pageviews``,
``snapshot_events``, ``session_events``, ``load_events``, ``elements``...), so the analysis
functions run unchanged on it. Reads use column projection and filter pushdown
(``pyarrow.dataset`` filters on the session columns, on snapshot and kind for events).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from hindsight.store.columns import COLUMNS as EVENT_COLUMNS, EventColumns
from hindsight.store.errors import CaptureError
from hindsight.dataset.filters import session_filter_expression
from hindsight.engine.validate import check_events, check_pageviews, check_sessions
from hindsight.store.filters import SessionFilter
from hindsight.store.session_order import sort_table
from hindsight.store.reader import SESSION_TABLE_COLUMNS
from hindsight.store.records import (
    PAGEVIEW_COLUMNS,
    SESSION_COLUMNS,
    ElementMap,
    Page,
    PageView,
    Session,
    Snapshot,
)

_NULLABLE = {"entry_page_id", "exit_page_id"}
_TEXT_SESSION = {"visitor_id", "device", "browser", "os", "country", "source", "utm_source", "utm_medium",
                 "utm_campaign", "referrer", "external_id"}
_ELEMENT_TEXT = ("selector", "tag", "role", "label", "field", "form", "href")


def is_dataset(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a dataset (a URL, or a folder) rather than a capture file."""
    text = os.fspath(source)
    if "://" in text:
        return not text.startswith("file://") or not Path(text[7:]).is_file()
    return Path(text).is_dir()


def open_dataset(url: str | os.PathLike[str]) -> "Dataset":
    """Open a dataset for reading, or raise ``CaptureError`` saying what is wrong."""
    from hindsight.dataset.store import open_dataset as open_store

    return Dataset(open_store(os.fspath(url)))


class Dataset:
    """A capture dataset (:class:`hindsight.dataset.store.Dataset`: meta, part files) read as
    small tables and day partitions."""

    def __init__(self, store):
        self.store = store
        self.url = store.url
        self.path = store.url
        self.meta = store.meta
        self._pages: list[Page] | None = None
        self._snapshots: dict[int, tuple] | None = None
        self._elements: dict[int, ElementMap] | None = None
        self._strings: dict[int, str] | None = None
        self._days: list[str] | None = None
        self._catalog_files: tuple[str, ...] | None = None

    # -- lifecycle (the same as a Capture's) ----------------------------------------------------
    def close(self) -> None:
        pass

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- Parquet access -------------------------------------------------------------------------
    def table(self, name: str, day: str | None = None, columns=None, filter=None):
        """A pyarrow Table of ``name`` (one day's partition when ``day``: the hive ``day`` key
        prunes the other folders), projected and filtered."""
        import pyarrow.dataset as pds

        if day is not None:
            on_day = pds.field("day") == day
            filter = on_day if filter is None else on_day & filter
        return self.store.table(name, columns, filter)

    def days(self) -> list[str]:
        """The day partitions (``YYYY-MM-DD`` or ``unknown``), sorted."""
        if self._days is None:
            fs = self.store.fs
            try:
                entries = fs.ls(self.store.path("sessions"), detail=False)
            except FileNotFoundError:
                entries = []
            except Exception as exc:  # noqa: BLE001 - an unreachable store
                raise CaptureError(self.url, f"cannot be listed: {type(exc).__name__}: {exc}") from None
            names = [p.rstrip("/").rsplit("/", 1)[-1] for p in entries]
            self._days = sorted(n[4:] for n in names if n.startswith("day="))
        return self._days

    def partition(self, day: str) -> "Partition":
        if isinstance(day, DayRef):
            self.refresh_catalog(day.catalog)
            return Partition(self, str(day), day.files)
        return Partition(self, day)

    def listing(self) -> "Listing":
        """The part files of the dataset now (one listing per analysis: part files that running
        collectors added since the last one are in it). Also refreshes :meth:`days` and, when
        catalog part files were added, the small tables."""
        listing = list_parts(self.store)
        self._days = sorted(listing.days)
        self.refresh_catalog(listing.catalog)
        return listing

    def refresh_catalog(self, catalog: tuple[str, ...]) -> None:
        """Forget the small tables read so far when the catalog's part files are not ``catalog``
        (a collector added pages, snapshots, strings)."""
        if not catalog or tuple(catalog) == self._catalog_files:
            return
        if self._catalog_files is not None:
            self._pages = self._snapshots = self._elements = self._strings = None
            for name in ("pages", "snapshots", "elements", "strings"):
                self.store._datasets.pop(name, None)
        self._catalog_files = tuple(catalog)

    # -- small tables ---------------------------------------------------------------------------
    def pages(self) -> list[Page]:
        if self._pages is None:
            t = self.table("pages", columns=["page_id", "url", "title"]).to_pydict()
            self._pages = sorted((Page(int(i), u, ti) for i, u, ti in zip(t["page_id"], t["url"], t["title"])),
                                 key=lambda p: p.page_id)
        return self._pages

    def page_by_url(self, url: str) -> Page | None:
        return next((p for p in self.pages() if p.url == url), None)

    def page_ids(self) -> set[int]:
        return {p.page_id for p in self.pages()}

    def _snapshot_rows(self) -> dict[int, tuple]:
        if self._snapshots is None:
            t = self.table("snapshots", columns=["snapshot_id", "page_id", "device", "width", "height", "scale",
                                                 "image"]).to_pydict()
            self._snapshots = {int(r[0]): r for r in zip(*(t[c] for c in t))}
        return self._snapshots

    def _snapshot(self, row) -> Snapshot:
        return Snapshot(int(row[0]), int(row[1]), row[2], int(row[3]), int(row[4]), float(row[5]))

    def snapshots(self, page_id: int | None = None) -> list[Snapshot]:
        rows = sorted(self._snapshot_rows().values(), key=lambda r: r[0])
        return [self._snapshot(r) for r in rows if page_id is None or r[1] == page_id]

    def snapshot(self, snapshot_id: int) -> Snapshot:
        row = self._snapshot_rows().get(int(snapshot_id))
        if row is None:
            raise KeyError(f"no snapshot {snapshot_id}")
        return self._snapshot(row)

    def find_snapshot(self, page_id: int, device: str) -> Snapshot | None:
        return next((s for s in self.snapshots(page_id) if s.device == device), None)

    def snapshot_image(self, snapshot_id: int) -> bytes | None:
        row = self._snapshot_rows().get(int(snapshot_id))
        if row is None or not row[6]:
            return None
        from hindsight.store.validate import Damage, check_image

        data = self.store.read_image(row[6])
        try:
            check_image(data, snapshot_id).close()
        except Damage as exc:
            raise CaptureError(self.url, f"is damaged: {exc}") from None
        return data

    def elements(self, snapshot_id: int) -> ElementMap:
        if self._elements is None:
            cols = ["snapshot_id", "idx", "x", "y", "w", "h", "clickable", "sensitive", *_ELEMENT_TEXT]
            t = self.table("elements", columns=cols)
            a = {c: t.column(c).to_numpy(zero_copy_only=False) for c in cols}
            order = np.lexsort((a["idx"], a["snapshot_id"]))
            a = {c: v[order] for c, v in a.items()}
            maps: dict[int, ElementMap] = {}
            starts = np.flatnonzero(np.r_[True, a["snapshot_id"][1:] != a["snapshot_id"][:-1]]) if order.size else []
            bounds = list(starts) + [order.size]
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                s = slice(lo, hi)
                boxes = np.stack([a[c][s] for c in ("x", "y", "w", "h")], axis=1).astype(np.int32).reshape(-1, 4)
                texts = {c: tuple(None if v is None else str(v) for v in a[c][s].tolist()) for c in _ELEMENT_TEXT}
                maps[int(a["snapshot_id"][lo])] = ElementMap(
                    selector=texts["selector"], tag=texts["tag"], role=texts["role"], label=texts["label"],
                    boxes=boxes, clickable=a["clickable"][s].astype(bool), field=texts["field"],
                    form=texts["form"], sensitive=a["sensitive"][s].astype(bool), href=texts["href"])
            self._elements = maps
        emap = self._elements.get(int(snapshot_id))
        if emap is None:
            return ElementMap((), (), (), (), np.zeros((0, 4), np.int32), np.zeros(0, bool), (), (),
                              np.zeros(0, bool), ())
        return emap

    def strings(self) -> dict[int, str]:
        if self._strings is None:
            t = self.table("strings", columns=["string_id", "text"]).to_pydict()
            self._strings = {int(k): v for k, v in zip(t["string_id"], t["text"])}
        return self._strings

    def distinct_values(self, column: str) -> list[str]:
        """Values of a session column, most sessions first (read from every partition: small)."""
        from collections import Counter

        if column not in ("device", "browser", "os", "country", "source", "utm_source",
                          "utm_medium", "utm_campaign"):
            raise ValueError(f"no such filter column {column!r}")
        counts: Counter = Counter()
        for day in self.days():
            counts.update(self.table("sessions", day, columns=[column]).column(column).to_pylist())
        return [v for v, _ in sorted(counts.items(), key=lambda kv: -kv[1])]


class DayRef(str):
    """A day partition's name (a ``str``: ``"2025-11-02"``) carrying the part files the client
    listed for one analysis (``files``: table -> paths) and the catalog's part files, so a task
    reads exactly those files without listing the dataset again."""

    files: dict
    catalog: tuple

    def __new__(cls, day: str, files: dict, catalog: tuple = ()):
        obj = super().__new__(cls, day)
        obj.files = {k: tuple(v) for k, v in files.items()}
        obj.catalog = tuple(catalog)
        return obj

    def __reduce__(self):
        return (DayRef, (str(self), self.files, self.catalog))


class Listing:
    """The part files of a dataset at one moment: per day, per day table; and the catalog's."""

    def __init__(self, days: dict[str, dict[str, tuple[str, ...]]], catalog: tuple[str, ...]):
        self.days = days
        self.catalog = catalog

    def refs(self) -> list[DayRef]:
        """The days (sorted) as :class:`DayRef` s."""
        return [DayRef(d, self.days[d], self.catalog) for d in sorted(self.days)]

    def token(self) -> tuple:
        return (tuple((d, tuple(sorted(t.items()))) for d, t in sorted(self.days.items())), self.catalog)


def list_parts(store) -> Listing:
    """List the part files of ``store`` (a ``hindsight.dataset.store.Dataset``): one ``find``
    per table folder; hidden (being written) files are left out."""
    from hindsight.dataset import layout

    fs = store.fs
    days: dict[str, dict[str, list[str]]] = {}
    catalog: list[str] = []
    for table in (*layout.DAY_TABLES, "pages", "snapshots", "elements", "strings"):
        folder = store.path(table)
        try:
            found = fs.find(folder)
        except FileNotFoundError:
            found = []
        except Exception as exc:  # noqa: BLE001 - an unreachable store
            raise CaptureError(folder, f"cannot be listed: {type(exc).__name__}: {exc}") from None
        for path in sorted(found):
            rel = path[len(folder.rstrip("/")) + 1:] if path.startswith(folder.rstrip("/")) else path
            parts = rel.split("/")
            name = parts[-1]
            if name.startswith(".") or not name.endswith(".parquet"):
                continue
            if table in layout.DAY_TABLES:
                if len(parts) != 2 or not parts[0].startswith("day="):
                    continue
                days.setdefault(parts[0][4:], {}).setdefault(table, []).append(path)
            elif len(parts) == 1:
                catalog.append(path)
    days = {d: t for d, t in days.items() if "sessions" in t}
    return Listing({d: {t: tuple(p) for t, p in tables.items()} for d, tables in days.items()}, tuple(catalog))


#: Parquet fragments (footer read once) of the part files a worker process has read: part
#: files never change once renamed into place, so their footers are cached by path.
_FRAGMENTS: OrderedDict[str, object] = OrderedDict()
_FRAGMENTS_MAX = 4096


def read_parts(store, name: str, paths, columns=None, filter=None):
    """Rows of table ``name`` from exactly the part files ``paths``, projected to ``columns``
    and filtered by the pyarrow expression ``filter`` (row groups are skipped by their
    statistics: the footers are read once per process). A corrupt part file raises
    ``CaptureError`` naming it."""
    import pyarrow as pa
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq

    schema = store.schema(name)
    cols = list(columns) if columns is not None else None
    if not paths:
        keep = cols if cols is not None else schema.names
        return pa.table({c: pa.array([], type=schema.field(c).type) for c in keep})
    fmt = pds.ParquetFileFormat()
    frags = []
    try:
        for path in paths:
            frag = _FRAGMENTS.get(path)
            if frag is None:
                frag = fmt.make_fragment(path, filesystem=store._afs)
                frag.ensure_complete_metadata()
                _FRAGMENTS[path] = frag
                while len(_FRAGMENTS) > _FRAGMENTS_MAX:
                    _FRAGMENTS.popitem(last=False)
            frags.append(frag)
        data = pds.FileSystemDataset(frags, schema, fmt, store._afs)
        return data.to_table(columns=cols, filter=filter)
    except (pa.ArrowException, OSError) as exc:
        for path in paths:
            _FRAGMENTS.pop(path, None)
            try:
                pq.ParquetFile(path, filesystem=store._afs).metadata
            except Exception as part_exc:  # noqa: BLE001
                raise CaptureError(path, f"is a corrupt part file: {part_exc}") from None
        raise CaptureError(store.path(name), f"cannot be read: {exc}") from None


@lru_cache(maxsize=8)
def cached_dataset(url: str) -> Dataset:
    """One open Dataset per URL per process (workers read the small tables once)."""
    return open_dataset(url)




class CatalogReads:
    """The dataset's small tables (pages, snapshots, elements, strings, images), read through
    ``self.dataset`` with a capture's method names; shared by a partition and the whole-dataset
    driver."""

    dataset: "Dataset"

    def pages(self):
        return self.dataset.pages()

    def page_by_url(self, url):
        return self.dataset.page_by_url(url)

    def page_ids(self):
        return self.dataset.page_ids()

    def snapshots(self, page_id=None):
        return self.dataset.snapshots(page_id)

    def snapshot(self, snapshot_id):
        return self.dataset.snapshot(snapshot_id)

    def find_snapshot(self, page_id, device):
        return self.dataset.find_snapshot(page_id, device)

    def snapshot_image(self, snapshot_id):
        return self.dataset.snapshot_image(snapshot_id)

    def elements(self, snapshot_id):
        return self.dataset.elements(snapshot_id)

    def strings(self):
        return self.dataset.strings()


class Partition(CatalogReads):
    """One day of a dataset, read through the methods of a Capture the analyses use."""

    def __init__(self, dataset: Dataset, day: str, files: dict | None = None):
        self.dataset = dataset
        self.day = day
        #: table -> the part files to read (listed by the client for this analysis); None:
        #: the day's files found through the dataset's (cached) discovery
        self.files = files
        self.path = f"{dataset.url} (day {day})"
        self._pv: dict[str, np.ndarray] | None = None
        self._sessions: dict[str, np.ndarray] | None = None

    def table(self, name: str, columns=None, filter=None):
        """Rows of day table ``name`` of this partition, projected and filtered."""
        if self.files is None:
            return self.dataset.table(name, self.day, columns=columns, filter=filter)
        return read_parts(self.dataset.store, name, self.files.get(name, ()), columns, filter)

    # -- the dataset's small tables -------------------------------------------------------------
    def close(self) -> None:
        pass


    damaged_events = 0

    # -- sessions -------------------------------------------------------------------------------
    def _check_filter(self, flt: SessionFilter) -> None:
        if flt.extra:
            raise CaptureError(self.dataset.url, "this session filter (signal conditions) is not supported on a "
                                                 "dataset yet")

    def _sessions_on(self, entry) -> np.ndarray:
        """Sessions of this day that viewed ``entry``: a URL, or a tuple of URLs (a page group: any)."""
        urls = entry if isinstance(entry, tuple) else (entry,)
        pages = {p.url: p.page_id for p in self.pages()}
        wanted = [pages[u] for u in urls if u in pages]
        pv = self._pageview_arrays()
        return np.unique(pv["session_id"][np.isin(pv["page_id"], np.asarray(wanted, dtype=np.int64))])

    def _visited(self, entries) -> list[int]:
        """Sessions of this day that visited every one of ``entries`` (see :meth:`_sessions_on`)."""
        out = None
        for entry in entries:
            ids = self._sessions_on(entry)
            out = ids if out is None else np.intersect1d(out, ids)
        return out.tolist()

    def _session_expr(self, flt: SessionFilter | None):
        flt = flt or SessionFilter()
        self._check_filter(flt)
        visited = self._visited(flt.visited) if flt.visited else None
        not_visited = None
        if flt.not_visited:
            not_visited = np.unique(np.concatenate([self._sessions_on(e) for e in flt.not_visited])).tolist()
        return session_filter_expression(flt, visited, not_visited)

    def session_columns(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Numeric session columns ``names`` of this day's sessions as int64, by session id (NULLs -1)."""
        names = ("session_id",) + tuple(n for n in names if n != "session_id")
        bad = [n for n in names if n in _TEXT_SESSION]
        if bad:
            raise ValueError(f"not a numeric session column: {bad[0]!r}")
        out = self._session_columns(list(names), None)
        order = np.argsort(out["session_id"], kind="stable")
        return {n: np.ascontiguousarray(out[n][order]) for n in names}

    def snapshot_pageview_columns(self, snapshot_id: int,
                                  names: tuple[str, ...] = ("pageview_id", "session_id", "seq", "start_ms", "end_ms")
                                  ) -> dict[str, np.ndarray]:
        """Columns ``names`` of this day's pageviews of a snapshot (int64), by pageview id."""
        names = ("pageview_id",) + tuple(n for n in names if n != "pageview_id")
        if "start_ms" in names and "end_ms" not in names:
            names += ("end_ms",)
        if self._pv is None:   # one snapshot's rows and columns only (filter pushdown, projection)
            import pyarrow.compute as pc

            t = self.table("pageviews", columns=list(names), filter=pc.field("snapshot_id") == int(snapshot_id))
            pv = {n: t.column(n).to_numpy(zero_copy_only=False).astype(np.int64) for n in names}
            order = np.argsort(pv["pageview_id"], kind="stable")
            return {n: np.ascontiguousarray(pv[n][order]) for n in names}
        pv = self._pageview_arrays()
        rows = np.flatnonzero(pv["snapshot_id"] == int(snapshot_id))
        rows = rows[np.argsort(pv["pageview_id"][rows], kind="stable")]
        return {n: np.ascontiguousarray(pv[n][rows]) for n in names}

    #: Parquet reads project columns: the heatmap engine may ask for only the ones it needs.
    columnar = True

    def _session_columns(self, columns, flt: SessionFilter | None) -> dict[str, np.ndarray]:
        t = self.table("sessions", columns=columns, filter=self._session_expr(flt))
        out = {}
        for c in columns:
            col = t.column(c)
            if c in _TEXT_SESSION:
                arr = np.empty(len(col), dtype=object)
                arr[:] = col.to_pylist()
            else:
                arr = col.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            out[c] = arr
        check_sessions(self, out)   # the capture's ranges (engine/validate.py)
        return out

    def session_count(self) -> int:
        return len(self.session_ids())

    def session_ids(self, flt: SessionFilter | None = None) -> np.ndarray:
        return np.sort(self._session_columns(["session_id"], flt)["session_id"])

    def session_table(self, flt: SessionFilter | None = None, order_by: str = "start_ms") -> dict[str, np.ndarray]:
        if order_by.lstrip("-") not in SESSION_TABLE_COLUMNS:
            raise ValueError(f"cannot order by {order_by!r}")
        out = self._session_columns(list(SESSION_TABLE_COLUMNS), flt)
        return sort_table(out, order_by)

    def session(self, session_id: int) -> Session:
        import pyarrow.compute as pc

        t = self.table("sessions", columns=list(SESSION_COLUMNS),
                       filter=pc.field("session_id") == int(session_id)).to_pylist()
        if not t:
            raise KeyError(f"no session {session_id}")
        r = dict(t[0])
        check_sessions(self, {k: np.array([-1 if v is None else v]) for k, v in r.items() if not isinstance(v, str)})
        r["converted"] = bool(r["converted"])
        return Session(**r)

    # -- pageviews and events -------------------------------------------------------------------
    def _pageview_arrays(self, filter=None) -> dict[str, np.ndarray]:
        """Pageview columns of this day (all of them cached; a filtered read is not)."""
        if filter is None and self._pv is not None:
            return self._pv
        t = self.table("pageviews", columns=list(PAGEVIEW_COLUMNS), filter=filter)
        if t is None:
            out = {c: np.zeros(0, np.int64) for c in PAGEVIEW_COLUMNS}
        else:
            out = {c: t.column(c).to_numpy(zero_copy_only=False).astype(np.int64) for c in PAGEVIEW_COLUMNS}
        check_pageviews(self, out, self.session_ids() if filter is None else None)
        if filter is None:
            self._pv = out
        return out

    def _pageview_records(self, pv: dict[str, np.ndarray], rows) -> list[PageView]:
        return [PageView(*r) for r in zip(*(pv[c][rows].tolist() for c in PAGEVIEW_COLUMNS))]

    def pageviews(self, session_id: int) -> list[PageView]:
        import pyarrow.compute as pc

        pv = self._pageview_arrays(pc.field("session_id") == int(session_id))
        return self._pageview_records(pv, np.argsort(pv["seq"], kind="stable"))

    def snapshot_pageviews(self, snapshot_id: int, flt: SessionFilter | None = None) -> list[PageView]:
        pv = self._pageview_arrays()
        m = pv["snapshot_id"] == int(snapshot_id)
        if flt is not None and flt != SessionFilter():
            m &= np.isin(pv["session_id"], self.session_ids(flt))
        rows = np.flatnonzero(m)
        return self._pageview_records(pv, rows[np.argsort(pv["pageview_id"][rows], kind="stable")])

    def _events(self, filter, columns=None) -> tuple[EventColumns, np.ndarray, np.ndarray]:
        """(events, session_id, pageview_id) matching ``filter``, in (pageview_id, t) order."""
        names = [n for n, _ in EVENT_COLUMNS]
        wanted = names if columns is None else [n for n in names if n in set(columns) | {"t", "kind"}]
        v2 = self.dataset.store.version >= 2
        t = self.table("events", columns=["session_id", "pageview_id", *wanted, *(["n"] if v2 else [])],
                       filter=filter)
        n = 0 if t is None else t.num_rows
        cols = {}
        for name, dt in EVENT_COLUMNS:
            if name in wanted and t is not None:
                cols[name] = t.column(name).to_numpy(zero_copy_only=False).astype(dt, copy=False)
            else:
                cols[name] = np.zeros(n, dtype=dt)
        sids = t.column("session_id").to_numpy().astype(np.int64) if n else np.zeros(0, np.int64)
        pvids = t.column("pageview_id").to_numpy().astype(np.int64) if n else np.zeros(0, np.int64)
        ev = EventColumns(**cols)
        if v2 and n > 1:   # row groups per kind, part files in any order: (pageview, n) order
            nth = t.column("n").to_numpy()
            if np.any(pvids[1:] < pvids[:-1]) or np.any((pvids[1:] == pvids[:-1]) & (nth[1:] <= nth[:-1])):
                order = np.lexsort((nth, pvids))
                ev, sids, pvids = ev.take(order), sids[order], pvids[order]
        elif n > 1 and np.any(pvids[1:] < pvids[:-1]):  # part files in any order: group by pageview
            order = np.argsort(pvids, kind="stable")
            ev, sids, pvids = ev.take(order), sids[order], pvids[order]
        return check_events(self, ev, sids, pvids, wanted)   # damaged events dropped, counted

    def snapshot_events(self, snapshot_id: int, kinds: tuple[int, ...] | None = None,
                        flt: SessionFilter | None = None, *, columns=None
                        ) -> tuple[EventColumns, np.ndarray, np.ndarray]:
        """Events of the given kinds of the snapshot's pageviews by the filtered sessions of this day."""
        import pyarrow.compute as pc

        expr = pc.field("snapshot_id") == int(snapshot_id)
        if kinds is not None:
            expr = expr & pc.field("kind").isin([int(k) for k in kinds])
        if flt is not None and flt != SessionFilter():
            expr = expr & pc.field("session_id").isin(self.session_ids(flt).tolist())
        return self._events(expr, columns)

    def session_events(self, session_id: int) -> tuple[list[PageView], EventColumns, np.ndarray]:
        import pyarrow.compute as pc

        pageviews = self.pageviews(session_id)
        ev, _, pvids = self._events(pc.field("session_id") == int(session_id))
        ids = np.array([p.pageview_id for p in pageviews], dtype=np.int64)
        rank = np.argsort(ids)
        pv_index = rank[np.searchsorted(ids[rank], pvids)] if len(ev) else np.zeros(0, np.int64)
        order = np.argsort(pv_index, kind="stable")
        return pageviews, ev.take(order), pv_index[order].astype(np.int32)

    def load_events(self, session_ids=None, kinds: tuple[int, ...] | None = None,
                    flt: SessionFilter | None = None, snapshot_ids=None):
        """This day's :class:`~hindsight.analytics.signals.CaptureEvents` (see ``signals.load_events``)."""
        import pyarrow.compute as pc

        from hindsight.analytics.signals import build_capture_events

        pv = self._pageview_arrays()
        m = np.ones(pv["pageview_id"].size, dtype=bool)
        if session_ids is not None or (flt is not None and flt != SessionFilter()):
            keep = self.session_ids(flt)
            if session_ids is not None:
                keep = np.intersect1d(keep, np.asarray(session_ids, dtype=np.int64))
            m &= np.isin(pv["session_id"], keep)
        if snapshot_ids is not None:
            m &= np.isin(pv["snapshot_id"], np.asarray(list(snapshot_ids), dtype=np.int64))
        rows = np.flatnonzero(m)
        rows = rows[np.lexsort((pv["seq"][rows], pv["session_id"][rows]))]
        pvc = {c: pv[c][rows] for c in PAGEVIEW_COLUMNS}
        expr = None
        if kinds is not None:
            expr = pc.field("kind").isin([int(k) for k in kinds])
        if rows.size < pv["pageview_id"].size:
            cond = (pc.field("snapshot_id").isin(np.unique(pvc["snapshot_id"]).tolist())
                    if snapshot_ids is not None else pc.field("session_id").isin(np.unique(pvc["session_id"]).tolist()))
            expr = cond if expr is None else expr & cond
        ev, _, pvids = self._events(expr)
        order_ids = np.argsort(pvc["pageview_id"])
        pos = np.searchsorted(pvc["pageview_id"][order_ids], pvids)
        pos = np.minimum(pos, max(order_ids.size - 1, 0))
        found = order_ids.size > 0 and True
        if len(ev):
            hit = pvc["pageview_id"][order_ids][pos] == pvids
            source = order_ids[pos]
            if not hit.all() or not found:
                ev, source = ev.take(hit), source[hit]
            order = np.argsort(source, kind="stable")
            ev, source = ev.take(order), source[order]
        else:
            source = np.zeros(0, np.int64)
        return build_capture_events(pvc, ev, source)

    def counts(self) -> dict[str, int]:
        pv = self._pageview_arrays()
        return {"sessions": self.session_count(), "pageviews": int(pv["pageview_id"].size),
                "events": int(pv["event_count"].sum())}



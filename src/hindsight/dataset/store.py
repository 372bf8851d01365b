"""Opening a capture dataset (folder or fsspec URL) and writing its part files atomically.

``open_dataset`` checks ``meta.json`` (a missing, unreadable or newer one is a one-line
``CaptureError``); ``Dataset.table`` reads a table with column projection and a pyarrow
filter, and a corrupt part file is named in the error. ``PartWriter`` writes one part file
under a hidden temporary name and renames it into place when closed.
"""

from __future__ import annotations

import json
import os
import posixpath
import uuid
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from hindsight.dataset import layout
from hindsight.store.errors import CaptureError


def filesystem(url: str):
    """(fsspec filesystem, root path) of a dataset URL or plain path.

    ``s3://`` and the other remote schemes need their fsspec driver (s3fs...) installed.
    """
    import fsspec.core

    try:
        fs, root = fsspec.core.url_to_fs(str(url))
    except (ImportError, ValueError) as exc:
        raise CaptureError(url, f"cannot be opened: {exc}") from None
    return fs, root.rstrip("/") or "/"


def is_local(fs) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def arrow_filesystem(fs):
    """The pyarrow filesystem for an fsspec one (pyarrow's own for local files: faster)."""
    import pyarrow.fs as pafs

    if is_local(fs):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def new_writer_id(prefix: str = "w") -> str:
    """A writer id for part names, unique across machines (``prefix`` + 12 hex digits)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class PartWriter:
    """One Parquet part file, written under a hidden name and renamed into place on ``close``.

    On a local disk the rename is atomic (``os.replace``); on an object store (s3...) the
    file is uploaded whole when closed, which is just as atomic for readers.
    """

    def __init__(self, fs, folder: str, name: str, schema: pa.Schema):
        self.fs = fs
        self.final = posixpath.join(folder, name)
        self.schema = schema
        self.rows = 0
        #: key-value metadata written into the file's footer when it closes
        self.metadata: dict[str, str] = {}
        fs.makedirs(folder, exist_ok=True)
        if is_local(fs):
            self._tmp = posixpath.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
            self._file = open(self._tmp, "wb")
        else:
            self._tmp = None
            self._file = fs.open(self.final, "wb")
        self._pq = pq.ParquetWriter(self._file, schema, compression=layout.COMPRESSION)

    def write(self, table: pa.Table) -> None:
        """Write ``table`` as one row group."""
        if table.num_rows:
            self._pq.write_table(table.cast(self.schema), row_group_size=max(table.num_rows, 1))
            self.rows += table.num_rows

    def close(self) -> str:
        if self.metadata:
            self._pq.add_key_value_metadata(self.metadata)
        self._pq.close()
        if self._tmp is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self.final)
        else:
            self._file.close()
        return self.final

    def abort(self) -> None:
        try:
            self._pq.close()
        except Exception:  # noqa: BLE001 - dropping the file anyway
            pass
        try:
            self._file.close()
        except Exception:  # noqa: BLE001
            pass
        if self._tmp is not None and os.path.exists(self._tmp):
            os.unlink(self._tmp)


def write_table(fs, root: str, table_name: str, table: pa.Table, writer: str, n: int = 0) -> str | None:
    """Write a whole (small) global table as one part file; nothing for an empty table."""
    if table.num_rows == 0:
        return None
    part = PartWriter(fs, posixpath.join(root, table_name), layout.part_name(writer, n), layout.SCHEMAS[table_name])
    try:
        part.write(table)
    except BaseException:
        part.abort()
        raise
    return part.close()


def write_meta(fs, root: str, doc: dict) -> None:
    """Write ``meta.json`` (atomically on a local disk)."""
    fs.makedirs(root, exist_ok=True)
    data = json.dumps(doc, indent=1, sort_keys=True).encode()
    path = posixpath.join(root, layout.META_FILE)
    if is_local(fs):
        tmp = posixpath.join(root, f".{layout.META_FILE}.{uuid.uuid4().hex[:8]}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    else:
        with fs.open(path, "wb") as f:
            f.write(data)


def write_image(fs, root: str, rel: str, data: bytes) -> None:
    path = posixpath.join(root, rel)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    if is_local(fs):
        tmp = path + f".{uuid.uuid4().hex[:8]}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    else:
        with fs.open(path, "wb") as f:
            f.write(data)


def arrow_columns(rows: dict[str, list | np.ndarray], schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` from columns (lists or numpy arrays) by name."""
    return pa.table({f.name: pa.array(rows[f.name], type=f.type) for f in schema}, schema=schema)


def open_dataset(url: str) -> "Dataset":
    """Open a capture dataset for reading, or raise ``CaptureError`` saying what is wrong."""
    fs, root = filesystem(url)
    meta_path = posixpath.join(root, layout.META_FILE)
    try:
        exists = fs.exists(root)
        has_meta = exists and fs.exists(meta_path)
    except Exception as exc:  # noqa: BLE001 - an unreachable store, bad credentials...
        raise CaptureError(url, f"cannot be reached: {type(exc).__name__}: {exc}") from None
    if not exists:
        raise CaptureError(url, "no such dataset (folder or URL)")
    if not has_meta:
        raise CaptureError(meta_path, "missing: not a Hindsight dataset (no meta.json)")
    try:
        with fs.open(meta_path, "rb") as f:
            raw = f.read(1_000_001)
        if len(raw) > 1_000_000:
            raise ValueError("larger than 1 MB")
        meta = json.loads(raw)
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CaptureError(meta_path, f"is unreadable: {exc}") from None
    if meta.get("format") != layout.FORMAT_NAME:
        raise CaptureError(meta_path, f"is not a Hindsight dataset (format {meta.get('format')!r})")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CaptureError(meta_path, f"has an impossible dataset version {version!r}")
    if version > layout.FORMAT_VERSION:
        raise CaptureError(meta_path, f"was written by a newer Hindsight (dataset version {version}; this "
                                      f"version reads up to {layout.FORMAT_VERSION}): please update Hindsight")
    return Dataset(url, fs, root, meta)


class Dataset:
    """A capture dataset opened for reading: tables as pyarrow datasets, read with projection
    and filters; errors name the part file."""

    def __init__(self, url: str, fs, root: str, meta: dict):
        self.url = str(url)
        self.fs = fs
        self.root = root
        self.meta = meta
        self._afs = arrow_filesystem(fs)
        self._datasets: dict[str, pads.Dataset | None] = {}

    @property
    def masking(self) -> str:
        return str(self.meta.get("masking", ""))

    def capture_meta(self) -> dict[str, str]:
        cm = self.meta.get("capture_meta") or {}
        return {str(k): str(v) for k, v in cm.items()} if isinstance(cm, dict) else {}

    def path(self, rel: str) -> str:
        return posixpath.join(self.root, rel)

    def dataset(self, name: str) -> pads.Dataset | None:
        """The pyarrow dataset of a table (None when the dataset has no part of it)."""
        if name not in self._datasets:
            folder = self.path(name)
            try:
                present = self.fs.exists(folder)
            except Exception as exc:  # noqa: BLE001
                raise CaptureError(folder, f"cannot be listed: {exc}") from None
            if not present:
                self._datasets[name] = None
            else:
                partitioning = (pads.partitioning(pa.schema([("day", pa.string())]), flavor="hive")
                                if name in layout.DAY_TABLES else None)
                try:
                    self._datasets[name] = pads.dataset(
                        folder, schema=self.schema(name) if partitioning is None
                        else pa.schema([*self.schema(name), ("day", pa.string())]),
                        format="parquet", filesystem=self._afs, partitioning=partitioning)
                except (pa.ArrowException, OSError) as exc:
                    raise CaptureError(folder, f"cannot be read: {exc}") from None
        return self._datasets[name]

    @property
    def version(self) -> int:
        return int(self.meta.get("version", 1))

    def schema(self, name: str) -> pa.Schema:
        """The schema of table ``name`` in this dataset's version."""
        if name == "events" and self.version < 2:
            return layout.EVENTS_SCHEMA_V1
        return layout.SCHEMAS[name]

    def event_order(self) -> list[tuple[str, str]]:
        """The sort keys putting events in (pageview, time) order, ties as recorded."""
        return [("pageview_id", "ascending"), ("n" if self.version >= 2 else "t", "ascending")]

    def files(self, name: str) -> list[str]:
        d = self.dataset(name)
        return [] if d is None else sorted(d.files)

    def table(self, name: str, columns: Iterable[str] | None = None, filter=None) -> pa.Table:
        """Rows of table ``name`` (all its part files) with only ``columns``, matching the
        pyarrow expression ``filter``. A corrupt part file raises ``CaptureError`` naming it."""
        d = self.dataset(name)
        cols = list(columns) if columns is not None else None
        schema = self.schema(name)
        if d is None:
            keep = cols if cols is not None else schema.names
            return pa.table({c: pa.array([], type=schema.field(c).type) for c in keep if c in schema.names})
        try:
            return d.to_table(columns=cols, filter=filter)
        except (pa.ArrowException, OSError) as exc:
            raise self._bad_part(name, exc) from None

    def catalog(self, name: str) -> pa.Table:
        """A catalog table (pages, snapshots, elements, strings) sorted by its key, one row per
        key: collectors may each write the same content-hashed row, readers keep the first."""
        keys = layout.CATALOG_KEYS[name]
        t = self.table(name).sort_by([(k, "ascending") for k in keys])
        if t.num_rows < 2:
            return t
        cols = [t.column(k).to_numpy() for k in keys]
        same = np.ones(t.num_rows - 1, dtype=bool)
        for c in cols:
            same &= c[1:] == c[:-1]
        if not same.any():
            return t
        return t.filter(pa.array(np.r_[True, ~same]))

    def _bad_part(self, name: str, exc: Exception) -> CaptureError:
        """The error of a read that failed: find the part file at fault and name it."""
        d = self.dataset(name)
        for path in (d.files if d is not None else []):
            try:
                pq.ParquetFile(path, filesystem=self._afs).metadata
                continue
            except Exception as part_exc:  # noqa: BLE001
                return CaptureError(path, f"is a corrupt part file: {part_exc}")
        return CaptureError(self.path(name), f"cannot be read: {exc}")

    def check(self) -> dict[str, int]:
        """Read every part file's footer (a corrupt one raises ``CaptureError`` naming it);
        returns rows per table."""
        out: dict[str, int] = {}
        for name in (*layout.GLOBAL_TABLES, *layout.DAY_TABLES):
            total = 0
            for path in self.files(name):
                try:
                    md = pq.ParquetFile(path, filesystem=self._afs).metadata
                except Exception as exc:  # noqa: BLE001
                    raise CaptureError(path, f"is a corrupt part file: {exc}") from None
                total += md.num_rows
            out[name] = total
        return out

    def read_image(self, rel: str | None) -> bytes | None:
        if not rel:
            return None
        path = self.path(rel)
        try:
            with self.fs.open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise CaptureError(path, f"cannot be read: {exc}") from None

    def session_day(self, session_id: int) -> str | None:
        """The day partition of a session (None: no such session)."""
        t = self.table("sessions", columns=["day"], filter=pads.field("session_id") == int(session_id))
        return t.column("day")[0].as_py() if t.num_rows else None

    def session_events(self, session_id: int, day: str | None = None):
        """(pageviews table sorted by seq, EventColumns in time order, pageview index per event)
        of one session: reads only its day's part files (``day``, else looked up), and in them
        only the row groups whose statistics can hold it."""
        from hindsight.store.columns import EventColumns

        day = day if day is not None else self.session_day(session_id)
        where = (pads.field("session_id") == int(session_id)) & (pads.field("day") == (day or ""))
        pvs = self.table("pageviews", filter=where).sort_by("seq")
        ev = self.table("events", filter=where)
        ev = ev.sort_by(self.event_order())
        pv_ids = pvs.column("pageview_id").to_numpy()
        order = np.argsort(pv_ids, kind="stable")
        ev_pv = ev.column("pageview_id").to_numpy()
        pv_index = order[np.searchsorted(pv_ids[order], ev_pv)] if len(ev_pv) else np.zeros(0, np.int64)
        events = EventColumns.from_arrays(*(ev.column(c).to_numpy() for c in layout.EVENT_VALUE_COLUMNS))
        # pageviews in seq order, each in time order (as Capture.session_events); sorts are stable
        seq = pvs.column("seq").to_numpy()
        o = np.lexsort((events.t, seq[pv_index])) if len(events) else np.zeros(0, np.int64)
        return pvs, events.take(o), pv_index[o].astype(np.int32)

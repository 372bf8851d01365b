"""Bookmarks and patterns of a capture dataset (a folder or URL of Parquet files).

A dataset is shared (a folder many machines read, an object store) and its files are never
rewritten, so its bookmarks live outside it, in the same SQLite tables a capture's sidecar uses
(:mod:`hindsight.bookmarks.store`):

- a local dataset folder ``DIR``: ``DIR.bookmarks.sqlite`` beside the folder (the capture's
  sidecar name), when that folder's parent can be written;
- otherwise, and for a URL (``s3://...``): the user data folder,
  ``$XDG_DATA_HOME/Hindsight/bookmarks/<sha1>.sqlite``, sha1 of the dataset's absolute path (a
  folder) or its URL, and the ``created_ms`` of the capture it came from (``meta.json``), as
  for a read-only capture.

Copies found in the other place are merged in by ``uid``, as for a capture. Sessions and
moments are checked against the dataset (one session's rows read in this process).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hindsight.bookmarks.store import (
    BookmarkError,
    BookmarkStore,
    END_TOLERANCE_MS,
    file_writable,
    folder_writable,
    sidecar_path,
    user_data_dir,
    user_store_path,
)


def dataset_user_store_path(url: str, local_root: Path | None, created_ms: str | None) -> Path:
    """The user-data file of a dataset's bookmarks (a folder keyed like a capture, a URL by itself)."""
    if local_root is not None:
        return user_store_path(local_root, created_ms)
    key = f"{url}\n{created_ms or ''}"
    return user_data_dir() / "bookmarks" / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".sqlite")


class DatasetBookmarkStore(BookmarkStore):
    """:class:`BookmarkStore` of a dataset: ``location`` is ``'sidecar'`` or ``'user'``."""

    def __init__(self, path, source, local_root: Path | None, location: str, created_ms: str | None):
        super().__init__(path, local_root, location, created_ms)
        self.source = source
        self.dataset_url = str(source.dataset.url)

    @classmethod
    def for_dataset(cls, source) -> "DatasetBookmarkStore":
        """The bookmarks of a dataset: ``source`` is an open ``DatasetCapture`` or a folder / URL."""
        import os

        if isinstance(source, (str, os.PathLike)):
            from hindsight.engine.session_source import open_dataset_sessions

            source = open_dataset_sessions(os.fspath(source))
        from hindsight.dataset.store import is_local

        store = source.dataset.store
        created = store.capture_meta().get("created_ms")
        local_root = Path(store.root).resolve() if is_local(store.fs) else None
        user = dataset_user_store_path(store.url, local_root, created)
        places = []
        if local_root is not None:
            side = sidecar_path(local_root)
            places.append(("sidecar", side))
            usable = folder_writable(side.parent) and (not side.exists() or file_writable(side))
            primary = "sidecar" if usable else "user"
        else:
            primary = "user"
        places.append(("user", user))
        path = dict(places)[primary]
        out = cls(path, source, local_root, primary, created)
        out._merge([p for name, p in places if name != primary and p.exists()])
        return out

    def _fallback(self) -> bool:
        if self.location != "sidecar":
            return False
        old = self.path
        self.location = "user"
        self.path = dataset_user_store_path(self.dataset_url, self.capture_path, self._created_ms)
        self._merge([old])
        return True

    # -- the dataset instead of the capture's SQL ----------------------------------------------
    def _check_moment(self, session_id: int, t_ms: int, end_ms: int | None) -> None:
        if t_ms < 0:
            raise BookmarkError(f"the time must be 0 ms or later, not {t_ms}")
        if end_ms is not None and end_ms < t_ms:
            raise BookmarkError(f"the end ({end_ms} ms) is before the start ({t_ms} ms)")
        try:
            duration = int(self.source.session(int(session_id)).duration_ms)
        except KeyError:
            raise BookmarkError(f"{self.dataset_url}: has no session {session_id}") from None
        last = end_ms if end_ms is not None else t_ms
        if last > duration + END_TOLERANCE_MS:
            raise BookmarkError(f"{last} ms is past the end of session {session_id} ({duration} ms long)")

    def page_url_at(self, session_id: int, t_ms: int) -> str | None:
        try:
            pvs = sorted(self.source.pageviews(int(session_id)), key=lambda pv: pv.seq)
        except KeyError:
            return None
        shown = [pv for pv in pvs if pv.start_ms <= int(t_ms)] or pvs[:1]
        if not shown:
            return None
        page = next((p for p in self.source.pages() if p.page_id == shown[-1].page_id), None)
        return page.url if page is not None else None


def bookmark_store(source) -> BookmarkStore:
    """The bookmarks of a capture (``BookmarkStore.for_capture``) or of a dataset (a
    :class:`DatasetBookmarkStore`): ``source`` is an open one, or a path or URL."""
    from hindsight.store.page_patterns import dataset_store

    if dataset_store(source) is not None:
        return DatasetBookmarkStore.for_dataset(source)
    return BookmarkStore.for_capture(source)

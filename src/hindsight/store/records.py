"""Plain records returned by the capture reader (frozen dataclasses, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass, field as _field

import numpy as np

#: Session start times that are calendar dates (epoch ms, 1990 .. 2200). Recordings on another
#: clock (rebased to 0, from 1970, as in rrweb's own test fixtures) keep their own timeline and
#: are shown with an unknown start date.
KNOWN_DATE_MIN_MS = 631_152_000_000
KNOWN_DATE_MAX_MS = 7_258_118_400_000


def date_known(ms) -> bool:
    """Whether a session's ``start_ms`` is a calendar date (else it is shown as unknown)."""
    return ms is not None and KNOWN_DATE_MIN_MS <= ms <= KNOWN_DATE_MAX_MS


@dataclass(frozen=True)
class Page:
    page_id: int
    url: str
    title: str


@dataclass(frozen=True)
class Snapshot:
    """A full-page screenshot of a page for one device class (image loaded separately)."""

    snapshot_id: int
    page_id: int
    device: str
    width: int   # CSS px
    height: int  # CSS px
    scale: float  # image px per CSS px


@dataclass(frozen=True)
class ElementMap:
    """A snapshot's elements as parallel columns; row i is element index i.

    boxes : (n, 4) int32 ``x, y, w, h`` in document CSS px.
    """

    selector: tuple[str, ...]
    tag: tuple[str, ...]
    role: tuple[str, ...]
    label: tuple[str, ...]
    boxes: np.ndarray
    clickable: np.ndarray  # (n,) bool
    field: tuple[str | None, ...]
    form: tuple[str | None, ...]
    sensitive: np.ndarray  # (n,) bool
    href: tuple[str | None, ...]
    #: (n,) str: 'fixed' / 'sticky' where the element or an ancestor is (computed style when the
    #: page was laid out in Chromium), '' otherwise; empty (length 0) from files without the column.
    position: np.ndarray = _field(default_factory=lambda: np.zeros(0, dtype="<U6"))

    def __len__(self) -> int:
        return len(self.selector)

    def pinned(self) -> np.ndarray:
        """(n,) bool: elements that stay put in the viewport when the page scrolls (fixed or
        sticky, themselves or through an ancestor). Clicks on them are stored at the element's
        place in the snapshot (viewport space) and replayed relative to the viewport."""
        if len(self.position) != len(self):
            return np.zeros(len(self), dtype=bool)
        return self.position != ""

    def index_of(self, selector: str) -> int:
        try:
            return self.selector.index(selector)
        except ValueError:
            return -1

    def hit(self, x: float, y: float) -> int:
        """Index of the smallest element containing (x, y), -1 if none."""
        if len(self) == 0:
            return -1
        b = self.boxes
        inside = (b[:, 0] <= x) & (x < b[:, 0] + b[:, 2]) & (b[:, 1] <= y) & (y < b[:, 1] + b[:, 3])
        idx = np.flatnonzero(inside)
        if idx.size == 0:
            return -1
        areas = b[idx, 2].astype(np.int64) * b[idx, 3]
        return int(idx[np.argmin(areas)])

    def hit_many(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vectorised ``hit`` for many points: (n,) int32 element indices, -1 where none."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        out = np.full(x.shape[0], -1, dtype=np.int32)
        best = np.full(x.shape[0], np.inf)
        for i, (bx, by, bw, bh) in enumerate(self.boxes.tolist()):
            inside = (x >= bx) & (x < bx + bw) & (y >= by) & (y < by + bh)
            area = float(bw) * float(bh)
            better = inside & (area < best)
            out[better] = i
            best[better] = area
        return out


@dataclass(frozen=True)
class Session:
    session_id: int
    visitor_id: str
    start_ms: int
    duration_ms: int
    device: str
    browser: str
    os: str
    country: str
    source: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    referrer: str
    viewport_w: int
    viewport_h: int
    converted: bool
    entry_page_id: int | None
    exit_page_id: int | None
    pageview_count: int
    event_count: int
    external_id: str


@dataclass(frozen=True)
class PageView:
    pageview_id: int
    session_id: int
    seq: int
    page_id: int
    snapshot_id: int
    start_ms: int  # ms since session start
    end_ms: int
    load_ms: int
    event_count: int


SESSION_COLUMNS = tuple(Session.__dataclass_fields__)
PAGEVIEW_COLUMNS = tuple(PageView.__dataclass_fields__)

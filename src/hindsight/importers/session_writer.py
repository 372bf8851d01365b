"""Writing parsed rrweb sessions into a capture: pages, snapshots (image + element boxes), events.

Snapshots are shared: one per (page, device class, width), made the first time a pageview of
that page is imported (from ``--screenshot`` images and/or a Chromium render of the
FullSnapshot, else a placeholder). Later pageviews of the same page map their own
FullSnapshot's node ids onto that snapshot's elements by selector, so element indices
agree across sessions. Clicks whose node is not in the map (e.g. added by a mutation) get
the innermost element box containing the click point.
"""

from __future__ import annotations

import io
import os
import sqlite3
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from hindsight.importers.render_dom import (
    MAX_IMAGE_HEIGHT,
    ChromiumRenderer,
    RenderError,
    placeholder_image,
    placeholder_layout,
    renderer_or_none,
)
from hindsight.importers.rrweb_dom import LiveDom, render_html
from hindsight.importers.rrweb import (
    POINTER_TARGET_KINDS,
    STRING_KINDS,
    VIEWPORT_KINDS,
    ParsedPageview,
    ParsedSession,
    scroll_at,
)
from hindsight.store.columns import EventColumns
from hindsight.store.errors import CaptureError
from hindsight.store.kinds import EventKind as K
from hindsight.store.writer import CaptureWriter

_MAX_RELAYOUTS = 50  # Chromium re-layouts per pageview to follow elements that moved
_MAX_RELAYOUTS_TOTAL = 2000  # per import (about 0.3 s each); beyond, points are clamped
#: ``NAME_1280``, ``NAME-1280px``, ``NAME@1280``, ``NAME_1280x800`` (the height is ignored)
_STEM_WIDTH = re.compile(r"^(?P<stem>.+?)[_\-@](?P<width>\d{2,5})(?:px)?(?:x\d{2,5}(?:px)?)?$")
#: ``URL@1280=PNG`` (CSS width), ``URL@2x=PNG`` (device scale), ``URL@1280@2x=PNG``
_URL_SUFFIX = re.compile(r"@(?:(?P<width>\d{2,5})|(?P<scale>\d+(?:\.\d+)?)x)$")


@dataclass
class Screenshot:
    path: str
    png: bytes
    width: int   # image px
    height: int  # image px
    stem: str | None = None       # page name from the file name (``signup`` of signup_1280.png)
    css_width: int | None = None  # CSS px the image shows: from URL@WIDTH, the file name, or image px / scale
    url: str | None = None        # an explicit URL=PNG page
    scale: float = 1.0            # image px per CSS px (URL@2x=PNG)


def _page_stem(href: str) -> str:
    try:
        path = urlsplit(href).path
    except ValueError:
        return ""
    name = path.rstrip("/").rsplit("/", 1)[-1] if path.strip("/") else "index"
    return name.rsplit(".", 1)[0] if "." in name else name


def _has_query(href: str) -> bool:
    try:
        return bool(urlsplit(href).query)
    except ValueError:
        return False


class ScreenshotSet:
    """``--screenshot`` images, each for one page at one width.

    - ``NAME_WIDTH.png`` / ``NAME_WIDTHxHEIGHT.png`` (NAME = the last path segment of the page
      URL without extension, ``index`` for ``/``; matches pages without a query string at that
      width; ``NAME.png`` matches at the image's width);
    - ``URL=PNG`` (that URL exactly, or its path when the URL has no query) at the width in the
      file name, else the image's width in px divided by its device scale (1 unless
      ``URL@2x=PNG``); ``URL@WIDTH=PNG`` names the CSS width explicitly.

    Three images of one URL at three widths each apply to their own width. An image that
    matches no imported page at its width is an error (``unused_error``), not a note.
    """

    def __init__(self, specs: list[str] | tuple[str, ...] = ()):
        self.items: list[Screenshot] = []
        self.used: set[str] = set()
        #: (url, width) of every page imported, for the message naming an unmatched image
        self.seen: set[tuple[str, int]] = set()
        #: (url, width) of pages whose snapshot was already in the capture (--append): kept as is
        self.existing: set[tuple[str, int]] = set()
        for spec in specs:
            url = None
            path = spec
            if "=" in spec and "://" in spec.rsplit("=", 1)[0]:
                url, path = spec.rsplit("=", 1)  # the URL may hold '=' in its query, the file name not
            width = scale = None
            while url is not None and (m := _URL_SUFFIX.search(url)):
                if m["width"]:
                    width = int(m["width"])
                else:
                    scale = float(m["scale"])
                    if not 0.25 <= scale <= 8:
                        raise CaptureError(path, f"device scale {m['scale']}x is out of range (0.25x .. 8x)")
                url = url[:m.start()]
            self.items.append(self._load(path, url, width, scale))

    @staticmethod
    def _load(path: str, url: str | None, width: int | None = None, scale: float | None = None) -> Screenshot:
        from PIL import Image, UnidentifiedImageError

        try:
            data = Path(path).read_bytes()
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                fmt = img.format
        except OSError as exc:
            if isinstance(exc, UnidentifiedImageError):
                raise CaptureError(path, "is not an image (expected a PNG screenshot)") from None
            raise CaptureError(path, f"cannot be read ({exc.strerror or exc})") from None
        if fmt != "PNG":
            raise CaptureError(path, f"is a {fmt} image; screenshots must be PNG")
        shot = Screenshot(path, data, w, h, url=url)
        m = _STEM_WIDTH.match(Path(path).stem)
        named = int(m["width"]) if m else None
        if url is None:
            shot.stem = m["stem"] if m else Path(path).stem
        if width is not None:
            shot.css_width = width
        elif named is not None:
            shot.css_width = named
        elif url is not None:
            shot.css_width = max(1, int(round(w / (scale or 1.0))))
        if scale is not None:
            shot.scale = scale
        elif shot.css_width:
            shot.scale = w / shot.css_width
        return shot

    def match(self, pv: ParsedPageview) -> Screenshot | None:
        self.seen.add((pv.url.split("#", 1)[0], pv.width))
        for shot in self.items:
            if shot.url is not None:
                want = shot.url.split("#", 1)[0]
                # the recorded href, or the page's URL as stored (tracking keys dropped)
                same = any(h == want or (not _has_query(want) and h.split("?", 1)[0] == want)
                           for h in (pv.href.split("#", 1)[0], pv.url.split("#", 1)[0]))
                if same and shot.css_width == pv.width:
                    self.used.add(shot.path)
                    return shot
            elif not _has_query(pv.href) and shot.stem == _page_stem(pv.href):
                if shot.css_width == pv.width or (shot.css_width is None and shot.width == pv.width):
                    self.used.add(shot.path)
                    return shot
        return None

    def unused_error(self) -> CaptureError | None:
        """The error for the first image that matched no imported page at its width, if any."""
        for shot in self.items:
            if shot.path in self.used:
                continue
            what = f"{shot.url} at {shot.css_width} px" if shot.url else \
                f"a page named {shot.stem!r} at {shot.css_width or shot.width} px"
            pages = ", ".join(f"{u} @ {w}" for u, w in sorted(self.seen)[:8]) or "none"
            if len(self.seen) > 8:
                pages += f", ... ({len(self.seen)} in all)"
            kept = ""
            if self.existing:
                kept = ("; these already had a snapshot in the capture, which is kept: "
                        + ", ".join(f"{u} @ {w}" for u, w in sorted(self.existing)[:8]))
            return CaptureError(shot.path, f"matches no imported page and width: it is for {what}; "
                                           f"pages imported: {pages}{kept}; nothing was imported")
        return None


@dataclass
class SnapInfo:
    snapshot_id: int
    selector_index: dict[str, int]
    boxes: np.ndarray  # (n, 4) float64 x, y, w, h
    geometry: str
    #: (n,) bool: fixed / sticky elements (or inside one); clicks on them are stored in viewport space
    pinned: np.ndarray | None = None


@dataclass
class ImportReport:
    """What an import did (printed by the CLI, asserted by tests)."""

    files: int = 0
    sessions: int = 0
    pageviews: int = 0
    events: int = 0
    rrweb_events: int = 0
    kinds: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    adjusted: Counter = field(default_factory=Counter)
    geometry: Counter = field(default_factory=Counter)
    snapshots_created: int = 0
    screenshots_used: int = 0
    duplicates: int = 0  # files skipped as a recording already imported
    notes: list[str] = field(default_factory=list)
    session_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0
    #: page states (``importers/states.py``): changes, rendered, reused, over_bound, not_rendered, ...
    states: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "files": self.files, "sessions": self.sessions, "pageviews": self.pageviews, "events": self.events,
            "rrweb_events": self.rrweb_events, "kinds": dict(self.kinds), "skipped": dict(self.skipped),
            "adjusted": dict(self.adjusted),
            "geometry": dict(self.geometry), "snapshots_created": self.snapshots_created,
            "screenshots_used": self.screenshots_used, "duplicates": self.duplicates, "notes": list(self.notes),
            "session_ids": list(self.session_ids), "seconds": round(self.seconds, 3),
            "states": dict(self.states),
        }


def _hit_many(boxes: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per point, the index of the smallest box containing it (-1 if none)."""
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(boxes) or not len(x):
        return out
    area = boxes[:, 2] * boxes[:, 3]
    step = max(1, 2_000_000 // len(boxes))
    for a in range(0, len(x), step):
        px, py = x[a:a + step, None], y[a:a + step, None]
        inside = (boxes[None, :, 0] <= px) & (px < boxes[None, :, 0] + boxes[None, :, 2]) & \
                 (boxes[None, :, 1] <= py) & (py < boxes[None, :, 1] + boxes[None, :, 3])
        cost = np.where(inside, area[None, :], np.inf)
        best = np.argmin(cost, axis=1)
        out[a:a + step] = np.where(np.isfinite(cost[np.arange(len(best)), best]), best, -1)
    return out


def _pin_to_viewport(info: SnapInfo, pointer, tgt, px, py, vx, vy, report: ImportReport):
    """Clicks and taps on fixed / sticky elements (or inside one) keep their viewport point:
    such an element sits at the same viewport spot at any scroll, and the snapshot is laid out
    at scroll 0, so the viewport point is where the click lands on the snapshot (and the replay
    adds the scroll back, drawing it under the cursor). Adding the scroll would put the click
    far below the element, where it used to be clamped to the top of the page."""
    pinned = info.pinned
    if pinned is None or not len(pinned) or not pointer.any():
        return px, py
    ok = pointer & (tgt >= 0) & (tgt < len(pinned))
    rows = np.flatnonzero(ok)
    rows = rows[pinned[tgt[rows]]]
    if not rows.size:
        return px, py
    px, py = px.copy(), py.copy()
    px[rows], py[rows] = vx[rows], vy[rows]
    report.adjusted["clicks on fixed / sticky elements kept in viewport space"] += int(rows.size)
    return px, py


def _int32(a: np.ndarray) -> np.ndarray:
    """Rounded to whole px and clipped to int32 (two ufuncs: ``np.clip`` costs more on short arrays)."""
    return np.minimum(np.maximum(np.rint(a), -2**31), 2**31 - 1).astype(np.int32)


def _lut(kinds) -> np.ndarray:
    out = np.zeros(256, dtype=bool)
    out[np.asarray(kinds, dtype=np.uint8)] = True
    return out


#: per event kind (uint8): viewport coordinates / pointer with a target / value is a string id
_VIEWPORT_LUT = _lut(VIEWPORT_KINDS)
_POINTER_LUT = _lut(POINTER_TARGET_KINDS)
_STRING_LUT = _lut(STRING_KINDS)
_KIND_NAMES = {int(k): k.name.lower() for k in K}
_SUBMIT = int(K.SUBMIT)


class SessionWriter:
    """Adds parsed sessions to an open ``CaptureWriter`` (creating pages and snapshots)."""

    def __init__(self, writer: CaptureWriter, screenshots: ScreenshotSet | None = None, render: bool = True,
                 existing_capture: str | os.PathLike[str] | None = None):
        self.writer = writer
        self.screenshots = screenshots or ScreenshotSet()
        self.render = render
        self.report = ImportReport()
        self._renderer: ChromiumRenderer | None = None
        self._render_tried = False
        self._snaps: dict[tuple[int, str, int], SnapInfo] = {}
        self._existing_keys: set[tuple[int, str, int]] = set()  # snapshots already in the capture
        self._existing_geometry = ""
        self._relayouts_left = _MAX_RELAYOUTS_TOTAL
        self._states = None  # importers.states.StateRenderer, made at the first session
        self._mappings: dict[int, list] = {}  # snapshot id -> [(element maps, mapping)]
        self._page_ids: dict[str, int] = {}  # url -> page id (add_page looks it up in SQL)
        if existing_capture is not None:
            self._load_existing(existing_capture)

    def _load_existing(self, path) -> None:
        from hindsight.store.reader import open_capture

        with open_capture(path) as cap:
            geometry = cap.meta.get("geometry", "")
            self._existing_geometry = geometry
            for s in cap.snapshots():
                emap = cap.elements(s.snapshot_id)
                self._existing_keys.add((s.page_id, s.device, s.width))
                self._snaps[(s.page_id, s.device, s.width)] = SnapInfo(
                    s.snapshot_id, {sel: i for i, sel in enumerate(emap.selector)},
                    emap.boxes.astype(np.float64), geometry, emap.pinned())

    def update_meta(self) -> None:
        """Record in the capture's meta where element boxes came from (``geometry``):
        ``chromium``, ``placeholder``, or ``mixed`` once both kinds are in the file."""
        kinds = set(self.report.geometry)
        if not kinds:
            return
        if self._existing_geometry:
            kinds.add(self._existing_geometry)
        self.writer.set_meta("geometry", kinds.pop() if len(kinds) == 1 else "mixed")

    def finish_states(self) -> None:
        """Put what page-state rendering did into the report (counts and notes)."""
        if self._states is None:
            return
        from dataclasses import asdict

        st = asdict(self._states.stats)
        st.pop("failures", None)
        st["seconds"] = round(st["seconds"], 3)
        self.report.states = st
        self.report.notes.extend(self._states.notes())

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- snapshots -----------------------------------------------------------------------
    def _get_renderer(self) -> ChromiumRenderer | None:
        if not self.render:
            return None
        if not self._render_tried:
            self._render_tried = True
            reasons: list[str] = []
            self._renderer = renderer_or_none(reasons)
            if self._renderer is None:
                self.report.notes.append("element boxes from a placeholder layout: " + "; ".join(reasons))
        return self._renderer

    def _snapshot(self, page_id: int, pv: ParsedPageview) -> SnapInfo:
        key = (page_id, pv.device, pv.width)
        info = self._snaps.get(key)
        if info is not None:
            self.screenshots.seen.add((pv.url.split("#", 1)[0], pv.width))
            if key in self._existing_keys:
                self.screenshots.existing.add((pv.url.split("#", 1)[0], pv.width))
            return info
        tree = pv.dom
        elements = tree.elements if tree else []
        shot = self.screenshots.match(pv)
        rendered = None
        if tree is not None:
            renderer = self._get_renderer()
            if renderer is not None:
                try:
                    rendered = renderer.render(tree.html(), len(elements), pv.width, pv.height,
                                               mobile=pv.device == "mobile", screenshot=shot is None)
                except RenderError as exc:
                    self.report.notes.append(f"{pv.url}: Chromium render failed ({exc}); placeholder layout used")
                    self._renderer.close()
                    self._renderer = None
        position = np.full(len(elements), "", dtype="<U6")
        if rendered is not None:
            boxes, page_h, image, geometry = rendered.boxes, rendered.height, rendered.png, "chromium"
            if rendered.position is not None and len(rendered.position) == len(elements):
                position = rendered.position
        else:
            boxes, page_h = placeholder_layout([el.parent for el in elements], pv.width, pv.height)
            image, geometry = None, "placeholder"
        # options of a select have no box of their own (a closed select shows one): never hit
        opts = [i for i, el in enumerate(elements) if el.tag == "option"]
        if opts:
            boxes = np.array(boxes, dtype=np.float64, copy=True)
            boxes[opts] = 0.0
        scale = 1.0
        # the image stops at MAX_IMAGE_HEIGHT; the snapshot's size must be the image's
        page_h = min(int(page_h), MAX_IMAGE_HEIGHT)
        if shot is not None:
            image = shot.png
            scale = shot.scale if shot.css_width == pv.width else shot.width / pv.width
            page_h = max(1, int(round(shot.height / scale)))
            self.report.screenshots_used += 1
        elif image is None:
            keep = [i for i, el in enumerate(elements) if el.tag != "option"]
            parent_of = np.array([el.parent for el in elements], dtype=np.int64)
            leaf = np.ones(len(elements), dtype=bool)
            leaf[parent_of[(parent_of >= 0) & (np.array([el.tag != "option" for el in elements], bool))]] = False
            image = placeholder_image(np.asarray(boxes)[keep], [elements[i].label or elements[i].selector for i in keep],
                                      pv.width, page_h, leaf=leaf[keep])
        boxes = np.where(np.isfinite(boxes), boxes, 0.0)
        rows = [{
            "selector": el.selector, "tag": el.tag, "role": el.role, "label": el.label,
            "x": b[0], "y": b[1], "w": b[2], "h": b[3], "clickable": el.clickable, "field": el.field,
            "form": el.form, "sensitive": el.sensitive, "href": el.href, "position": str(pos),
        } for el, b, pos in zip(elements, boxes.tolist(), position.tolist())]
        sid = self.writer.add_snapshot(page_id, pv.device, pv.width, page_h, image, rows, scale=scale)
        info = SnapInfo(sid, {el.selector: i for i, el in enumerate(elements)}, boxes, geometry, position != "")
        self._snaps[key] = info
        self.report.snapshots_created += 1
        self.report.geometry[geometry] += 1
        return info

    def _follow_layout(self, pv: ParsedPageview, info: SnapInfo, t, local, tgt, pointer, px, py):
        """Move pointer events whose element has moved since the snapshot (the page changed
        its layout, e.g. an error message pushed the form down) to the same spot of that
        element in the snapshot: the live box is measured by replaying the recorded
        mutations up to the event and laying the page out again in Chromium."""
        b = info.boxes
        safe = np.maximum(tgt, 0)
        x0, y0, bw, bh = b[safe, 0], b[safe, 1], b[safe, 2], b[safe, 3]
        outside = pointer & (tgt >= 0) & (bw > 0) & (bh > 0) & ~(
            (px >= x0) & (px < x0 + bw) & (py >= y0) & (py < y0 + bh))
        rows = np.flatnonzero(outside)
        if not rows.size:
            return px, py
        px, py = px.astype(np.float64).copy(), py.astype(np.float64).copy()
        base = pv.dom.elements if pv.dom is not None else []
        renderer = self._get_renderer() if pv.mutations and pv.dom is not None else None
        live = None
        applied = 0
        mut_t = np.array([m[0] for m in pv.mutations], dtype=np.int64)
        state = np.searchsorted(mut_t, t[rows], side="right")
        renders = 0
        for k in np.unique(state):
            group = rows[state == k]
            boxes = None
            if renderer is not None and renders < _MAX_RELAYOUTS and self._relayouts_left > 0:
                if live is None:
                    live = LiveDom(pv.dom._root or {})
                while applied < k:
                    live.apply(pv.mutations[applied][1])
                    applied += 1
                marks = {}
                for r in group:
                    if 0 <= local[r] < len(base) and base[local[r]].node_id >= 0:
                        marks.setdefault(base[local[r]].node_id, len(marks))
                try:
                    res = renderer.render(render_html(live.root, marks), len(marks), pv.width, pv.height,
                                          mobile=pv.device == "mobile", screenshot=False)
                    boxes = {nid: res.boxes[j] for nid, j in marks.items()}
                    renders += 1
                    self._relayouts_left -= 1
                except RenderError as exc:
                    self.report.notes.append(f"{pv.url}: re-layout after page changes failed ({exc})")
                    renderer = None
            for r in group:
                sx, sy, sw, sh = b[tgt[r]]
                lb = None
                if boxes is not None and 0 <= local[r] < len(base):
                    lb = boxes.get(base[local[r]].node_id)
                if lb is not None and np.all(np.isfinite(lb)) and lb[2] > 0 and lb[3] > 0 and \
                        lb[0] <= px[r] < lb[0] + lb[2] and lb[1] <= py[r] < lb[1] + lb[3]:
                    px[r] = sx + (px[r] - lb[0]) * sw / lb[2]
                    py[r] = sy + (py[r] - lb[1]) * sh / lb[3]
                    self.report.adjusted["pointer events moved with their element (page layout changed)"] += 1
                else:
                    self.report.adjusted["pointer events clamped into their element (layout unknown)"] += 1
                # whole CSS px inside the box (stored coordinates are integers)
                px[r] = min(max(px[r], np.ceil(sx)), np.ceil(sx) + max(np.floor(sw) - 1, 0))
                py[r] = min(max(py[r], np.ceil(sy)), np.ceil(sy) + max(np.floor(sh) - 1, 0))
        return px, py

    # -- sessions ------------------------------------------------------------------------
    def _write_states(self, session_id: int, s: ParsedSession, infos: list[SnapInfo]) -> None:
        """Page states of each pageview (``importers/states.py``): rendered with the snapshot's
        Chromium when it has one; without Chromium they are only counted."""
        if self._states is None:
            from hindsight.importers.states import StateRenderer
            from hindsight.store.states import StateStore

            self._states = StateRenderer(StateStore(self.writer), self._get_renderer)
        for seq, (pv, info) in enumerate(zip(s.pageviews, infos)):
            if not pv.mutations:  # no DOM change: no state (``pageview`` returns at once)
                continue

            def scroll_y(t, seq=seq):
                return float(scroll_at(s, np.array([t], np.int64), np.array([seq]))[1][0])

            self._states.pageview(session_id, seq, pv, info.snapshot_id, info.selector_index,
                                  len(info.boxes), s.start, scroll_y)

    def _mapping(self, pv: ParsedPageview, info: SnapInfo) -> np.ndarray:
        """Local element index (+1 slot for "none") -> the snapshot's element index, by selector.
        Remembered per (snapshot, the pageview's element maps): pageviews of one page whose DOM
        is the same (shared ``snapshot_cache`` trees) map alike."""
        memo = self._mappings.get(info.snapshot_id)
        if memo is None:
            memo = self._mappings[info.snapshot_id] = []
        for trees, mapping in memo:
            if len(trees) == len(pv.trees) and all(a is b for a, b in zip(trees, pv.trees)):
                return mapping
        local = pv.local_selectors()
        mapping = np.array([info.selector_index.get(sel, -1) for sel in local] + [-1], dtype=np.int64)
        if len(memo) < 64:
            memo.append((list(pv.trees), mapping))  # holds the trees: ``is`` stays meaningful
        return mapping

    def write(self, s: ParsedSession) -> int:
        """Add one parsed session (buffered in the writer's open transaction). Returns its id."""
        w = self.writer
        kind_all = s.kind
        if len(s.scroll) and s.scroll[:, 1:3].any():  # else never scrolled: viewport = document
            viewport = _VIEWPORT_LUT[kind_all]
            sx, sy = scroll_at(s, s.t, s.pv)
            x = np.where(viewport, s.x + sx, s.x)
            y = np.where(viewport, s.y + sy, s.y)
        else:
            x, y = s.x, s.y
        pointer = _POINTER_LUT[kind_all]
        if s.strings:
            has_string = _STRING_LUT[kind_all]
            string_ids = np.array([w.string_id(text) for text in s.strings], dtype=np.int64)
            value_all = s.value.copy()
            if has_string.any():
                value_all[has_string] = string_ids[np.clip(value_all[has_string], 0, len(string_ids) - 1)]
            value_all = value_all.astype(np.int32)
        else:  # no strings: a string kind's value (none to point at) is 0, as before
            value_all = s.value.astype(np.int32)
            has_string = _STRING_LUT[kind_all]
            if has_string.any():
                value_all[has_string] = 0
        t_all = (s.t - s.start).astype(np.uint32)
        x_all = _int32(x)
        y_all = _int32(y)
        bounds = [0, len(s.pv)] if len(s.pageviews) == 1 else \
            np.searchsorted(s.pv, np.arange(len(s.pageviews) + 1), side="left").tolist()
        pv_rows = []
        infos = []
        for i, pv in enumerate(s.pageviews):
            title = pv.dom.title if pv.dom else ""
            page_id = self._page_ids.get(pv.url)
            if page_id is None:
                page_id = self._page_ids[pv.url] = w.add_page(pv.url, title)
            info = self._snapshot(page_id, pv)
            infos.append(info)
            lo, hi = bounds[i], bounds[i + 1]
            mapping = self._mapping(pv, info)
            n_local = len(mapping) - 1
            tgt = s.target[lo:hi]
            tgt = mapping[np.where((tgt >= 0) & (tgt < n_local), tgt, -1)]
            ptr = pointer[lo:hi]
            need = np.flatnonzero(ptr & (tgt < 0))
            if need.size or (info.pinned is not None and info.pinned.any() and ptr.any()) or \
                    (info.geometry == "chromium" and len(info.boxes)):
                # pointer events to place: exact float positions, as before rounding
                px, py = x[lo:hi], y[lo:hi]
                if need.size:
                    tgt[need] = _hit_many(info.boxes, px[need], py[need])
                px, py = _pin_to_viewport(info, ptr, tgt, px, py, s.x[lo:hi], s.y[lo:hi], self.report)
                if info.geometry == "chromium" and len(info.boxes):
                    px, py = self._follow_layout(pv, info, s.t[lo:hi], s.target[lo:hi], tgt, ptr, px, py)
                xs = _int32(px)
                ys = _int32(py)
            else:
                xs, ys = x_all[lo:hi], y_all[lo:hi]
            events = EventColumns(t_all[lo:hi], kind_all[lo:hi], xs, ys, tgt.astype(np.int16),
                                  value_all[lo:hi]).sorted()
            pv_rows.append({"page_id": page_id, "snapshot_id": info.snapshot_id,
                            "start_ms": pv.start - s.start, "end_ms": pv.end - s.start, "events": events})
        counts = np.bincount(kind_all, minlength=len(K)) if len(kind_all) else np.zeros(0, np.int64)
        submitted = bool(len(counts) > _SUBMIT and counts[_SUBMIT])
        kinds = self.report.kinds
        for k, c in enumerate(counts.tolist()):
            if c:
                kinds[_KIND_NAMES[k]] += c
        self.report.events += len(kind_all)
        first = s.pageviews[0]
        row = {
            "start_ms": max(int(s.start), 0), "duration_ms": int(s.end - s.start), "device": first.device,
            "viewport_w": first.width, "viewport_h": first.height, "external_id": s.external_id[:200],
            "converted": submitted, **s.utm,
        }
        sid = w.add_session(row, pv_rows)
        self._write_states(sid, s, infos)
        if s.recording_hash:
            w.add_recording(s.recording_hash, sid, os.path.basename(s.source) if s.source else "")
        r = self.report
        r.sessions += 1
        r.pageviews += len(pv_rows)
        r.rrweb_events += s.rrweb_events
        r.skipped.update(s.skipped)
        r.session_ids.append(sid)
        return sid


def import_files(paths, out: str | os.PathLike[str], *, screenshots: list[str] | tuple[str, ...] = (),
                 mask: bool = True, append: bool = False, render: bool = True, overwrite: bool = False,
                 max_bytes: int | None = None, drop_query: bool = False, mask_text: bool = False,
                 progress=None, workers: int | None = None) -> ImportReport:
    """Import rrweb / PostHog recording files (one session each) into the capture ``out``.

    All or nothing: a new capture is built under a temporary name and renamed when every
    file imported; with ``append`` every session goes into one transaction. Any problem
    raises ``CaptureError(file, problem)`` and leaves ``out`` as it was.

    Parameters
    ----------
    paths : recording files (JSON arrays of rrweb events, or PostHog exports; ``.gz`` too)
    out : the capture file to create (or to add to, with ``append``)
    screenshots : ``NAME_WIDTH.png`` or ``URL=PNG`` full-page screenshots to use as snapshot images
    mask : scrub personal data from kept text (typed text is never stored either way);
        ``False`` records ``masking=none`` in the capture's meta
    render : lay snapshots out with headless Chromium when installed (else placeholders)
    mask_text : mask all page text (drawn as bars, stored as ``*``), not only rrweb's
        ``rr-mask`` / ``rr-block`` / ``rr-ignore`` content (always masked)
    workers : processes that read and parse files while this one writes (``importers.parallel``);
        None: one per CPU beyond this one for a large import, none for a small one; 0: none
    """
    import time

    from hindsight.importers import parallel
    from hindsight.importers import rrweb as rr

    t0 = time.perf_counter()
    paths = [str(p) for p in paths]
    if not paths:
        raise CaptureError(None, "no recording files given")
    shots = ScreenshotSet(list(screenshots))
    masking = "lengths-only" if mask else "none"
    out = Path(out)
    try:
        if append:
            if not out.exists():
                raise CaptureError(out, "does not exist (drop --append to create it)")
            existing = out
            writer = CaptureWriter.append(out)
        else:
            if out.exists() and not overwrite:
                raise CaptureError(out, "already exists (pass --append to add to it, or choose a new name)")
            existing = None
            writer = CaptureWriter.create(out, masking=masking, overwrite=overwrite,
                                          extra_meta={"source": "rrweb import"})
    except (sqlite3.Error, OSError) as exc:
        raise CaptureError(out, f"cannot be written ({exc})") from None
    sw = None
    sessions = None
    try:
        sw = SessionWriter(writer, shots, render=render, existing_capture=existing)
        seen: dict[str, str] = {}
        if workers is None:
            workers = parallel.auto_workers(paths)
        sessions = parallel.load_sessions(paths, workers=workers, mask=mask,
                                          max_bytes=max_bytes or rr.MAX_FILE_BYTES, drop_query=drop_query,
                                          mask_text=mask_text)
        for n, (path, session) in enumerate(sessions):
            sw.report.files += 1
            if session.privacy_sources:
                sw.report.notes.append(f"{path}: recorder privacy options from "
                                       + ", ".join(session.privacy_sources))
            # The same recording twice (the same file again, or a raw rrweb file and its PostHog
            # export: the same raw events) would double every count: keep the first copy. Two
            # recordings are the same only when their events are (``recording_hash``).
            key = session.recording_hash
            earlier = writer.recording_session(key) if key and append else None
            if key in seen:
                sw.report.notes.append(f"{path}: the same recording as {seen[key]}; skipped")
                sw.report.duplicates += 1
            elif earlier is not None:
                sw.report.notes.append(f"{path}: already in {out.name} as session {earlier}; skipped")
                sw.report.duplicates += 1
            else:
                seen[key] = path
                sw.write(session)
            if progress:
                progress(n + 1, len(paths), path)
        unused = shots.unused_error()
        if unused is not None:
            raise unused
        sw.finish_states()
        sw.update_meta()
        if append and not mask:
            writer.set_meta("masking", "none")
        if mask_text:
            writer.set_meta("page_text", "masked")
        writer.close()
    except BaseException as exc:
        writer.abort()
        if isinstance(exc, sqlite3.Error):  # e.g. disk full: nothing was kept
            raise CaptureError(out, f"could not be written ({exc}); nothing was imported") from None
        raise
    finally:
        if sessions is not None:
            sessions.close()  # stops the worker processes, if any
        if sw is not None:
            sw.close()
    report = sw.report
    report.seconds = time.perf_counter() - t0
    return report

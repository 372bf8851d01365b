"""Parsing rrweb recordings (rrweb 1.x / 2.x event arrays, PostHog exports) into sessions.

One input file is one session. :func:`load_events` reads a file (an array of rrweb
``eventWithTime``, or PostHog's "export to file" JSON, v1 ``snapshotsByWindowId`` or v2
``snapshots``) and :func:`parse_session` turns its events into a :class:`ParsedSession`:
one :class:`ParsedPageview` per Meta event, with the FullSnapshot element maps and the
events as columns. Writing them into a capture (snapshots, boxes, images) is
``importers.session_writer``.

Mapping (rrweb enum numbers in field-facts.md section 4):

- Meta (4) starts a pageview: href -> page, width/height -> viewport and device class
  (< 600 px mobile, < 1024 tablet, else desktop).
- FullSnapshot (2) -> element map (``rrweb_dom``); its ``initialOffset`` is the scroll.
- MouseMove (1) / Drag (12) positions -> MOVE at ``timestamp + timeOffset``; TouchMove (6)
  -> TOUCHMOVE. Pointer coordinates are viewport px: the page scroll at that time is added.
- MouseInteraction (2): Click -> CLICK, DblClick -> DBLCLICK, Focus -> FOCUS, Blur -> BLUR,
  TouchEnd -> TAP (one per touch, at the finger lift; a TouchEnd more than 10 px away from
  its TouchStart ended a swipe, not a tap). The Click a browser fires after a tap
  (``pointerType`` 2, or in rrweb 1 a Click within 1 s and 30 px of the tap) is not stored
  again, so a tap counts once in heatmaps. MouseUp/MouseDown/ContextMenu are ignored.
- Scroll (3) of the document node -> SCROLL (scroll offset); scrolls of other nodes are
  ignored and counted. ViewportResize (4) -> RESIZE.
- Input (5) -> INPUT with value = length of the text (never the text); checkbox/radio:
  value 1 checked, 0 not; select: the chosen option's index + 1 (0: no option has that
  value, e.g. masked), so "filled" stays value > 0 for the forms report.
- Mutation (0) -> MUTATION, value = adds + removes + texts + attributes. A mutation that
  sets ``aria-invalid="true"`` on a mapped form field also gives VALIDATION on that field
  (message: the text the mutation added, scrubbed).
- Custom (5) -> CUSTOM (string id of the tag), tag ``error`` -> ERROR (the message);
  Plugin ``rrweb/console@1`` level ``error`` -> ERROR (the same error reported by both
  within 100 ms is stored once).
- A click on a form's submit control followed by the next page within 10 s, with no
  VALIDATION in between, is stored as SUBMIT too (rrweb records no submit events).

Anything else (unknown types or sources, Asset, StyleSheetRule, ...) is counted in
``ParsedSession.skipped`` and skipped. Malformed input raises ``CaptureError(file, problem)``.
"""

from __future__ import annotations

import gc
import json
import operator
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from hindsight.importers import snapshot_cache
from hindsight.importers.archive import gunzip, inflate
from hindsight.importers.privacy import OPTION_CONTAINERS, TextPrivacy, options_from, scrub, scrub_url, utm_params
from hindsight.importers.rrweb_dom import DomTree, LiveDom, parse_dom
from hindsight.store.errors import CaptureError
from hindsight.store.kinds import EventKind as K

try:  # a faster parser when installed; the stdlib one stays the reference for errors
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

#: Files larger than this are refused (the whole file is parsed in memory, ~10x its size).
MAX_FILE_BYTES = 512 * 2**20
#: Largest gzip-compressed part of one PostHog event (``cv``) once inflated.
CV_MAX_BYTES = 64 * 2**20
#: Epoch-ms timestamps of real dates (1990 .. 2200); other timelines import with an unknown start date.
MIN_TIMESTAMP = 631_152_000_000
MAX_TIMESTAMP = 7_258_118_400_000
MAX_SESSION_MS = 2**32 - 1  # times are stored as uint32 ms since the session start
MAX_COORD = 10_000_000
MAX_VIEWPORT = 100_000

EVENT_TYPE_NAMES = {0: "DomContentLoaded", 1: "Load", 2: "FullSnapshot", 3: "IncrementalSnapshot",
                    4: "Meta", 5: "Custom", 6: "Plugin", 7: "Asset"}
SOURCE_NAMES = {0: "Mutation", 1: "MouseMove", 2: "MouseInteraction", 3: "Scroll", 4: "ViewportResize",
                5: "Input", 6: "TouchMove", 7: "MediaInteraction", 8: "StyleSheetRule", 9: "CanvasMutation",
                10: "Font", 11: "Log", 12: "Drag", 13: "StyleDeclaration", 14: "Selection",
                15: "AdoptedStyleSheet", 16: "CustomElement"}
INTERACTION_NAMES = {0: "MouseUp", 1: "MouseDown", 2: "Click", 3: "ContextMenu", 4: "DblClick", 5: "Focus",
                     6: "Blur", 7: "TouchStart", 8: "TouchMove_Departed", 9: "TouchEnd", 10: "TouchCancel"}

#: Kinds whose x, y are viewport coordinates in rrweb (the page scroll is added on import).
VIEWPORT_KINDS = (K.MOVE, K.CLICK, K.DBLCLICK, K.TAP, K.TOUCHMOVE)
POINTER_TARGET_KINDS = (K.CLICK, K.DBLCLICK, K.TAP)
STRING_KINDS = (K.ERROR, K.CUSTOM, K.VALIDATION)
#: the kinds ``parse_session`` stores, as plain ints (converted once, not per session)
_KIND_INTS = tuple(int(k) for k in (K.MOVE, K.TOUCHMOVE, K.CLICK, K.DBLCLICK, K.TAP, K.BLUR, K.CUSTOM, K.ERROR,
                                    K.FOCUS, K.INPUT, K.MUTATION, K.RESIZE, K.SCROLL, K.SUBMIT, K.VALIDATION))

_TAP_SLOP_PX = 10
_TOUCH_CLICK_MS = 1000
_TOUCH_CLICK_PX = 30
_ERROR_DEDUPE_MS = 100
#: A mouse move within this time after a touch and this close to it is the browser's synthetic
#: "compatibility" mousemove after a tap, not a cursor (dropped on import).
_SYNTHETIC_MOVE_MS = 500
_SYNTHETIC_MOVE_PX = 30
_SUBMIT_NAV_MS = 10_000
#: Custom events that announce an SPA route (posthog-js), with the new URL in their payload.
ROUTE_EVENT_TAGS = ("$pageview", "$url_changed")
_ROUTE_SWAP_MS = 1500  # a route event's DOM swap follows within this time


def _route_href(payload) -> str | None:
    """The URL a posthog-js ``$pageview`` / ``$url_changed`` custom event carries."""
    if not isinstance(payload, dict):
        return None
    for key in ("href", "$current_url", "url"):
        v = payload.get(key)
        if isinstance(v, str) and v:
            return v
    props = payload.get("properties")
    return _route_href(props) if isinstance(props, dict) and props is not payload else None


def _title_swap(d: dict, title_nodes) -> bool:
    """A Mutation that changes the document's <title> text and swaps content elsewhere (removes
    nodes and adds elements outside <title>): how an SPA route shows in rrweb without events."""
    if not title_nodes:
        return False
    adds = d.get("adds") or []
    texts = d.get("texts") or []
    try:  # C-level: no Python code per added node (an SPA view adds hundreds)
        titled = not title_nodes.isdisjoint(map(dict.get, texts, repeat("id"))) or \
            not title_nodes.isdisjoint(map(dict.get, adds, repeat("parentId")))
    except TypeError:  # an entry that is not an object (or an unhashable id): one by one
        titled = any(isinstance(x, dict) and x.get("id") in title_nodes for x in texts) or \
            any(isinstance(a, dict) and a.get("parentId") in title_nodes for a in adds)
    if not titled:
        return False
    removed = any(isinstance(r, dict) and r.get("parentId") not in title_nodes for r in d.get("removes") or [])
    added = any(isinstance(a, dict) and a.get("parentId") not in title_nodes and isinstance(a.get("node"), dict)
                and a["node"].get("type") == 2 for a in adds)
    return removed and added


def _select_options(tree: DomTree, base: int) -> dict[int, list[str]]:
    """Select element index (+ ``base``) -> the values of its options in document order."""
    out: dict[int, list[str]] = {}
    els = tree.elements
    for j, el in enumerate(els):
        if el.tag == "select":
            out.setdefault(base + j, [])
        elif el.tag == "option" and 0 <= el.parent < len(els) and els[el.parent].tag == "select":
            out.setdefault(base + el.parent, []).append(el.option_value)
    return out


def _live_tree(page: "ParsedPageview", extra: dict | None, mask: bool) -> DomTree | None:
    """The element map of a pageview's DOM now: its FullSnapshot with its mutations (and
    ``extra``) applied. None when the pageview has no single FullSnapshot to start from.

    Remembered per distinct snapshot and mutation bytes (``snapshot_cache``): the same route
    of the same page in another session is one dict lookup, not a DOM copy and a parse."""
    if len(page.trees) != 1 or page.trees[0]._root is None:
        return None
    entry = snapshot_cache.entry_of_tree(page.trees[0])
    key = None
    if entry is not None:
        data = snapshot_cache.canonical_bytes([d for _, d in page.mutations] + [extra])
        if data is not None:
            key = (mask, data)
            if key in entry.routes:
                snapshot_cache.stats["route_hits"] += 1
                return entry.routes[key]
            snapshot_cache.stats["route_misses"] += 1
    live = LiveDom(page.trees[0]._root)
    for _, d in page.mutations:
        live.apply(d)
    if extra is not None:
        live.apply(extra)
    try:
        tree = parse_dom(live.root, mask=mask)
    except ValueError:
        tree = None
    if key is not None:
        entry.routes[key] = tree
        if tree is not None:  # a route of this route finds its DOM in the cache too
            snapshot_cache.register_route(entry, key, tree)
    return tree


def _parse_tree(root: dict, mask: bool) -> DomTree:
    """``parse_dom(root, mask)``, once per distinct DOM when ``root`` came from the privacy
    walk's cache (``snapshot_cache``): later pageviews share the parsed map (read-only)."""
    tree = snapshot_cache.tree_of(root, mask)
    if tree is not None:
        snapshot_cache.stats["tree_hits"] += 1
        return tree
    tree = parse_dom(root, mask=mask)
    if snapshot_cache.of_root(root) is not None:
        snapshot_cache.stats["tree_misses"] += 1
        snapshot_cache.keep_tree(root, mask, tree)
    return tree


def _derived(tree: DomTree, base: int, mask: bool) -> tuple[set, dict]:
    """(checkable element indices, select index -> option values) of a snapshot's element map,
    computed once per distinct snapshot when ``base`` is 0 (shared: read-only)."""
    entry = snapshot_cache.entry_of_tree(tree) if base == 0 else None
    if entry is not None and entry.trees.get(mask) is tree and mask in entry.derived:
        return entry.derived[mask]
    out = ({base + j for j, el in enumerate(tree.elements) if el.input_type in ("checkbox", "radio")},
           _select_options(tree, base))
    if entry is not None and entry.trees.get(mask) is tree:
        entry.derived[mask] = out
    return out


#: Class names that mark a field as invalid (Bootstrap, Foundation, most form libraries).
ERROR_CLASSES = frozenset({"invalid", "is-invalid", "error", "has-error"})
#: Payload keys of a custom event that name the field it is about.
_FIELD_KEYS = ("field", "fieldName", "field_name", "name", "input")


def _has_error_class(value) -> bool:
    return isinstance(value, str) and not ERROR_CLASSES.isdisjoint(value.split())


def _is_alert(attrs) -> bool:
    """An element that announces a message: role="alert" or an aria-live region (not "off")."""
    if not isinstance(attrs, dict):
        return False
    live = attrs.get("aria-live")
    return attrs.get("role") == "alert" or (isinstance(live, str) and live not in ("", "off"))


def _node_text(node) -> str:
    out: list[str] = []
    stack = [node]
    while stack and len(out) < 40:
        n = stack.pop()
        if not isinstance(n, dict):
            continue
        if n.get("type") == 3 and isinstance(n.get("textContent"), str):
            out.append(n["textContent"])
        stack.extend(reversed(n.get("childNodes") or []))
    return " ".join(" ".join(out).split())


class _FieldFinder:
    """Which form field a validation message belongs to, in one element map (built lazily)."""

    def __init__(self, tree: DomTree, base: int):
        self.tree = tree
        self.base = base
        self._nodes: dict[int, dict] | None = None
        self._parents: dict[int, int] = {}
        self._described: dict[str, list] | None = None

    def nodes(self) -> dict[int, dict]:
        """Node id -> serialized node of the snapshot (once per distinct snapshot: shared)."""
        if self._nodes is None:
            entry = snapshot_cache.entry_of_tree(self.tree)
            if entry is not None and entry.nodes is not None:
                self._nodes, self._parents = entry.nodes
                return self._nodes
            self._nodes, self._parents = {}, {}
            stack = [(self.tree._root, None)]
            while stack:
                n, pid = stack.pop()
                if isinstance(n, dict):
                    nid = n.get("id")
                    if isinstance(nid, int):
                        self._nodes[nid] = n
                        if pid is not None:
                            self._parents.setdefault(nid, pid)
                    kids = n.get("childNodes") or []
                    stack.extend((k, nid if isinstance(nid, int) else None) for k in kids)
            if entry is not None:
                entry.nodes = (self._nodes, self._parents)
        return self._nodes

    def described_by(self) -> dict[str, list]:
        """Id token -> the ids of the nodes whose ``aria-describedby`` names it, in ``nodes()``
        order (once per distinct snapshot: shared, like ``nodes``)."""
        if self._described is None:
            entry = snapshot_cache.entry_of_tree(self.tree)
            if entry is not None and entry.described is not None:
                self._described = entry.described
                return self._described
            index: dict[str, list] = {}
            for nid, n in self.nodes().items():
                attrs = n.get("attributes")
                ref = attrs.get("aria-describedby") if isinstance(attrs, dict) else None
                if isinstance(ref, str):
                    for token in dict.fromkeys(ref.split()):
                        index.setdefault(token, []).append(nid)
            self._described = index
            if entry is not None:
                entry.described = index
        return self._described

    def parent_of(self, node_id) -> int | None:
        """The id of the node whose children include ``node_id`` (None: the root or unknown)."""
        self.nodes()
        return self._parents.get(node_id)

    def is_field(self, local: int) -> bool:
        j = local - self.base
        return 0 <= j < len(self.tree.elements) and self.tree.elements[j].field is not None

    def by_name(self, name: str) -> int:
        for j, el in enumerate(self.tree.elements):
            if el.field is not None and (el.field == name or el.selector == f"#{name}"):
                return self.base + j
        return -1

    def near(self, alert_id, alert_attrs: dict, parent_id, next_id, node_map: dict) -> int:
        """The field that describes-by the alert (``aria-describedby``), else the field next to
        it: among the fields whose nearest mapped ancestor is the alert's parent (then its
        parent), the last one before the alert."""
        els = self.tree.elements
        own_id = alert_attrs.get("id") if isinstance(alert_attrs, dict) else None
        if isinstance(own_id, str) and own_id:
            for nid in self.described_by().get(own_id, ()):
                local = node_map.get(nid, -1)
                if self.is_field(local):
                    return local
        p = node_map.get(parent_id, -1) - self.base
        nxt = node_map.get(next_id, -1) - self.base if next_id is not None else -1
        for _ in range(2):
            if p < 0:
                break
            cands = [j for j, el in enumerate(els) if el.field is not None and
                     (el.parent == p or (0 <= el.parent < len(els) and els[el.parent].parent == p))]
            if cands:
                before = [j for j in cands if nxt < 0 or j < nxt]
                return self.base + (before[-1] if before else cands[-1])
            p = els[p].parent
        return -1


_ALERT_KEYS = frozenset({"role", "aria-live"})


def _first_added_text(adds: list) -> str:
    for add in adds:
        node = add.get("node") if isinstance(add, dict) else None
        if isinstance(node, dict) and node.get("type") == 3 and isinstance(node.get("textContent"), str) \
                and node["textContent"].strip():
            return " ".join(node["textContent"].split())
    return ""


def _validations(d: dict, finder: "_FieldFinder", node_map: dict) -> dict[int, str]:
    """Validation errors one Mutation shows: {local field index: message}. A field gets one
    when the mutation sets ``aria-invalid="true"`` or an error class (``ERROR_CLASSES``) on it,
    or adds / unhides a ``role="alert"`` or ``aria-live`` element next to it or named by its
    ``aria-describedby``."""
    out: dict[int, str] = {}
    adds = d.get("adds") or []
    msg = None  # the first text the mutation adds: looked for only when a field is marked invalid
    for a in d.get("attributes") or []:
        at = a.get("attributes") if isinstance(a, dict) else None
        if not isinstance(at, dict):
            continue
        local = node_map.get(a.get("id"), -1)
        if local >= 0 and (at.get("aria-invalid") == "true" or
                           (_has_error_class(at.get("class")) and finder.is_field(local))):
            if msg is None:
                msg = _first_added_text(adds)
            out.setdefault(local, msg)
        elif local >= 0 and ("hidden" in at and at["hidden"] is None or "style" in at):
            node = finder.nodes().get(a.get("id"))
            if node is not None and _is_alert(node.get("attributes")):
                style = at.get("style")
                if isinstance(style, str) and "display: none" in style.replace(":none", ": none"):
                    continue
                parent = finder.parent_of(a.get("id"))
                field = finder.near(a.get("id"), node.get("attributes"), parent, None, node_map)
                if field >= 0:
                    out[field] = _node_text(node) or out.get(field, "")
    try:  # an alert needs a ``role`` or ``aria-live`` attribute: look for the keys in C first
        nodes = map(dict.get, adds, repeat("node"))
        maybe_alert = not all(map(_ALERT_KEYS.isdisjoint, map(dict.get, nodes, repeat("attributes"), repeat(()))))
    except TypeError:  # an add or node that is not an object, attributes that are null: one by one
        maybe_alert = True
    for add in adds if maybe_alert else ():
        node = add.get("node") if isinstance(add, dict) else None
        if isinstance(node, dict) and node.get("type") == 2 and _is_alert(node.get("attributes")):
            text = _node_text(node) or " ".join(
                " ".join(x["node"].get("textContent") or "" for x in adds if isinstance(x, dict) and
                         x.get("parentId") == node.get("id") and isinstance(x.get("node"), dict)).split())
            if not text:
                continue  # an empty live region is a container, not a message yet
            field = finder.near(node.get("id"), node.get("attributes"), add.get("parentId"), add.get("nextId"),
                                node_map)
            if field >= 0:
                out[field] = text
    return out


def device_class(width: int) -> str:
    """Device class of a viewport width in CSS px: < 600 mobile, < 1024 tablet, else desktop."""
    return "mobile" if width < 600 else "tablet" if width < 1024 else "desktop"


@lru_cache(maxsize=8192)  # a site's visitors open the same few URLs; scrubbing one costs ~10 us
def page_url(href: str, mask: bool = True, drop_query: bool = False) -> str:
    """The page a Meta href belongs to: no fragment; masked: scrubbed query, no tracking params."""
    if mask or drop_query:
        return scrub_url(href, drop_query)
    return href.split("#", 1)[0]


# -- reading files -------------------------------------------------------------------------

def _no_constants(name: str):
    raise ValueError(f"holds {name}, which is not valid JSON")


def parse_json_bytes(data: bytes, path: str | os.PathLike[str]) -> Any:
    """``json.loads`` with every failure turned into a one-line ``CaptureError``."""
    if orjson is not None:  # the bytes as they are (orjson checks the UTF-8 itself)
        try:
            return orjson.loads(data[3:] if data[:3] == b"\xef\xbb\xbf" else data)
        except (orjson.JSONDecodeError, RecursionError):
            pass  # the stdlib parser below names the problem
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptureError(path, f"is not UTF-8 text, so not rrweb JSON (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise CaptureError(path, "is empty, not an rrweb recording")
    if orjson is not None:
        try:
            return orjson.loads(text)  # 3-4x faster; anything it refuses goes to json for the message
        except (orjson.JSONDecodeError, RecursionError):
            pass
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):
            raise CaptureError(path, f"is not valid JSON: it ends early at line {exc.lineno} (truncated file?)") from None
        raise CaptureError(path, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise CaptureError(path, "is not usable JSON: nested too deeply") from None
    except MemoryError:
        raise CaptureError(path, "is too large to load into memory") from None
    except ValueError as exc:  # NaN/Infinity, integers with thousands of digits
        raise CaptureError(path, f"is not usable JSON: {exc}") from None


def read_file(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> Any:
    # os.open / fstat / os.read: a third of the cost of stat + open() + read() for the many
    # small files of an import (no file object, one read when the size is known)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        if os.path.isdir(path):  # (Windows refuses to open a folder)
            raise CaptureError(path, "is a folder, not an rrweb recording") from None
        raise CaptureError(path, f"cannot be read ({exc.strerror or exc})") from None
    except (ValueError, TypeError) as exc:  # e.g. a NUL byte in the name
        raise CaptureError(path, f"cannot be read ({exc})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise CaptureError(path, "is a folder, not an rrweb recording")
        size = st.st_size
        if size > max_bytes:
            raise CaptureError(path, f"is {size / 2**20:.0f} MB, above the import limit of {max_bytes / 2**20:.0f} MB "
                                     "(raise it with --max-file-mb)")
        data = os.read(fd, size + 1)
        if len(data) > size:  # the file grew since fstat: read the rest too
            parts = [data]
            while more := os.read(fd, 1 << 20):
                parts.append(more)
            data = b"".join(parts)
    except OSError as exc:
        raise CaptureError(path, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    # .json.gz / .zip: streamed, refused as soon as it grows past the cap (importers/archive.py)
    data = inflate(data, path, max_bytes)
    return parse_json_bytes(data, path)


@dataclass
class LoadedRecording:
    events: list
    format: str          # "rrweb" | "posthog-v1" | "posthog-v2"
    external_id: str = ""


def unwrap(doc: Any, path: str | os.PathLike[str]) -> LoadedRecording:
    """The rrweb events inside a parsed JSON document (a bare array or a PostHog export)."""
    if isinstance(doc, list):
        return LoadedRecording(doc, "rrweb")
    if isinstance(doc, dict) and isinstance(doc.get("events"), list) and doc["events"] and (
            any(k in doc for k in ("metadata", *OPTION_CONTAINERS))):
        return LoadedRecording(doc["events"], "rrweb")  # {"events": [...], "recordOptions": {...}}
    if not isinstance(doc, dict):
        raise CaptureError(path, f"holds a JSON {type(doc).__name__}, expected an array of rrweb events "
                                 "or a PostHog recording export")
    if "version" not in doc or "data" not in doc:
        raise CaptureError(path, "is a JSON object but neither an array of rrweb events nor a PostHog "
                                 "recording export (no 'version' and 'data')")
    data = doc["data"]
    if not isinstance(data, dict):
        raise CaptureError(path, "is a PostHog export whose 'data' is not an object")
    ext = data.get("id") if isinstance(data.get("id"), str) else ""
    if "snapshots" in data:
        snaps = data["snapshots"]
        if not isinstance(snaps, list):
            raise CaptureError(path, "is a PostHog export whose 'data.snapshots' is not an array")
        return LoadedRecording([_posthog_decompress(e) for e in snaps], "posthog-v2", ext)
    if "snapshotsByWindowId" in data:
        by_window = data["snapshotsByWindowId"]
        if not isinstance(by_window, dict) or not all(isinstance(v, list) for v in by_window.values()):
            raise CaptureError(path, "is a PostHog export whose 'snapshotsByWindowId' is not a map of arrays")
        events = [_posthog_decompress(e) for evs in by_window.values() for e in evs]
        return LoadedRecording(events, "posthog-v1", ext)
    raise CaptureError(path, f"is a PostHog export (version {str(doc['version'])[:40]!r}) without "
                             "'data.snapshots' or 'data.snapshotsByWindowId'")


def _posthog_decompress(ev: Any) -> Any:
    """posthog-js may gzip parts of an event (``cv`` set; gzip bytes as a latin-1 string)."""
    if not isinstance(ev, dict) or "cv" not in ev:
        return ev

    def unpack(value):
        if isinstance(value, str):
            try:
                return json.loads(gunzip(value.encode("latin-1"), "event", CV_MAX_BYTES))
            except (CaptureError, ValueError, UnicodeEncodeError, RecursionError):
                return value
        return value

    ev = dict(ev)
    if isinstance(ev.get("data"), str):
        ev["data"] = unpack(ev["data"])
    elif isinstance(ev.get("data"), dict) and ev["data"].get("source") == 0:
        data = dict(ev["data"])
        for key in ("texts", "attributes", "removes", "adds"):
            data[key] = unpack(data.get(key, []))
        ev["data"] = data
    return ev


# -- the parsed form -----------------------------------------------------------------------

@dataclass
class ParsedPageview:
    """One Meta-delimited page visit. Times are epoch ms; coordinates as recorded."""

    href: str
    url: str
    width: int
    height: int
    start: int
    end: int = 0
    trees: list[DomTree] = field(default_factory=list)
    #: element index offset of each tree in the pageview's combined local element list
    tree_base: list[int] = field(default_factory=list)
    #: (epoch ms, Mutation data) after the first FullSnapshot, to replay layout changes
    mutations: list[tuple[int, dict]] = field(default_factory=list)

    @property
    def device(self) -> str:
        return device_class(self.width)

    @property
    def dom(self) -> DomTree | None:
        return self.trees[0] if self.trees else None

    def local_selectors(self) -> list[str]:
        return [el.selector for tree in self.trees for el in tree.elements]


@dataclass
class ParsedSession:
    """A recording's session: pageviews and all events as columns (row order = time order).

    Columns: ``t`` epoch ms (int64), ``kind`` (uint8), ``x``, ``y`` (float64, viewport px for
    ``VIEWPORT_KINDS``, scroll offset for SCROLL, size for RESIZE), ``target`` (local element
    index in the pageview, -1 none), ``value`` (int64; a local string index for
    ``STRING_KINDS``), ``pv`` (pageview index). ``scroll`` holds the document scroll timeline
    (t, x, y, pv) including each FullSnapshot's initial offset.
    """

    source: str
    format: str
    external_id: str
    pageviews: list[ParsedPageview]
    t: np.ndarray
    kind: np.ndarray
    x: np.ndarray
    y: np.ndarray
    target: np.ndarray
    value: np.ndarray
    pv: np.ndarray
    scroll: np.ndarray  # (m, 4) float64: t, x, y, pv
    strings: list[str]
    skipped: Counter
    rrweb_events: int
    utm: dict = field(default_factory=dict)
    #: ``recording_hash`` of the raw events (the recording's identity in a capture)
    recording_hash: str = ""
    #: where the recorder's privacy options were read (``privacy.options_from``), if anywhere
    privacy_sources: list = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.pageviews[0].start

    @property
    def end(self) -> int:
        return self.pageviews[-1].end

    def kind_counts(self) -> dict[str, int]:
        counts = np.bincount(self.kind, minlength=len(K)) if len(self.kind) else np.zeros(len(K), int)
        return {K(k).name.lower(): int(c) for k, c in enumerate(counts) if c}


# -- parsing -------------------------------------------------------------------------------

def _is_number(v) -> bool:
    return (type(v) is int or type(v) is float) and v == v


_TIMESTAMP = itemgetter("timestamp")


def _check_timestamps(events: list, path) -> tuple[list, list | None]:
    """Validate every event's shape and timestamp; return the timestamps and, when some events
    lie far from the rest of the recording, the indices of the events to keep.

    Any ordered millisecond timeline is accepted (epoch ms, rebased to 0, from 1970...). Events
    whose timestamp lies outside the densest 49-day window of the recording (a stray clock, an
    overflowing number) are outliers: dropped and counted, not a reason to refuse the file.
    """
    try:
        ts = list(map(_TIMESTAMP, events))
    except (KeyError, TypeError):
        for i, e in enumerate(events):
            if not isinstance(e, dict):
                raise CaptureError(path, f"event #{i} is a JSON {type(e).__name__}, not an rrweb event object") from None
            if "timestamp" not in e:
                raise CaptureError(path, f"event #{i} has no 'timestamp'") from None
        raise CaptureError(path, "an event is malformed") from None
    types = set(map(type, ts))
    if types == {int}:  # the usual case, checked without numpy (most sessions are short)
        lo, hi = min(ts), max(ts)
        if -2**53 < lo and hi < 2**53 and hi - lo <= MAX_SESSION_MS:
            return ts, None
    if not types <= {int, float}:
        for i, v in enumerate(ts):
            if not _is_number(v):
                raise CaptureError(path, f"event #{i} has a non-numeric timestamp ({str(v)[:40]!r})")
    try:  # Python ints beyond 2**63 convert to the nearest float, as float(v) does
        arr = np.asarray(ts, dtype=np.float64)
    except OverflowError:  # beyond the float range
        arr = np.array([float(v) if -1e300 < v < 1e300 else np.inf for v in ts], dtype=np.float64)
    finite = np.isfinite(arr) & (np.abs(arr) < 2**53)
    if bool(finite.all()) and (not len(arr) or float(arr.max() - arr.min()) <= MAX_SESSION_MS):
        return ts, None
    good = np.flatnonzero(finite)
    if not good.size:
        raise CaptureError(path, "has no event with a usable timestamp")
    srt = np.sort(arr[good])
    reach = np.searchsorted(srt, srt + MAX_SESSION_MS, side="right") - np.arange(len(srt))
    lo = srt[int(np.argmax(reach))]
    keep = finite.copy()
    keep[good] = (arr[good] >= lo) & (arr[good] <= lo + MAX_SESSION_MS)
    return ts, np.flatnonzero(keep).tolist()


_OWN_FIELDS = frozenset({"type", "data", "timestamp"})
_SNAPSHOT_TYPE = frozenset({2})


def recording_hash(events: list, presorted: bool = False) -> str:
    """The identity of a recording: sha256 of its raw events, sorted by time (stable), as
    canonical JSON (sorted keys, no spaces, UTF-8). A raw rrweb file and its PostHog export
    hold the same events, so they hash alike; any difference in any event makes another hash.
    Only rrweb's own fields count (``type``, ``data``, ``timestamp``): fields an exporter adds
    to each event (PostHog's ``windowId``) are not the recording."""
    import hashlib

    try:
        if presorted:
            ordered = events
        else:
            ts = [e["timestamp"] for e in events]
            ordered = events if all(map(float.__le__, map(float, ts[:-1]), map(float, ts[1:]))) else \
                sorted(events, key=itemgetter("timestamp"))
        own = _OWN_FIELDS.issuperset
        if not all(map(own, ordered)):  # rebuild only when some event has foreign fields
            ordered = [{k: e[k] for k in ("type", "data", "timestamp") if k in e} for e in ordered]
    except (KeyError, TypeError, AttributeError, OverflowError):
        ordered = events
    data = None
    if orjson is not None:
        try:
            data = orjson.dumps(_with_cached_doms(ordered), option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            data = None
    if data is None:
        data = json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=True).encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _with_cached_doms(events: list) -> list:
    """``events`` with each FullSnapshot node that the snapshot cache holds replaced by its
    sorted canonical JSON, serialized once per distinct DOM (``orjson.Fragment`` is written
    as is, so the bytes -- and the hash -- are those of the node itself)."""
    fragment = getattr(orjson, "Fragment", None)
    if fragment is None:
        return events
    out = None
    try:  # the FullSnapshots' positions, found without Python code per event
        where = list(compress(range(len(events)), map(_SNAPSHOT_TYPE.__contains__,
                                                       map(dict.get, events, repeat("type")))))
    except TypeError:  # an event that is not an object
        where = range(len(events))
    for i in where:
        e = events[i]
        if type(e) is dict and e.get("type") == 2:
            d = e.get("data")
            entry = snapshot_cache.of_root(d.get("node")) if type(d) is dict else None
            if entry is None:
                continue
            if entry.sorted_bytes is None:
                entry.sorted_bytes = orjson.dumps(entry.walked, option=orjson.OPT_SORT_KEYS)
            if out is None:
                out = list(events)
            out[i] = {**e, "data": {**d, "node": fragment(entry.sorted_bytes)}}
    return events if out is None else out


def _number(v, what: str) -> float:
    if type(v) is int or type(v) is float:
        if v != v or abs(v) > MAX_COORD:
            raise ValueError(f"{what} {v!r} is out of range")
        return v
    raise TypeError(f"{what} is {type(v).__name__}, not a number")


def parse_session(events: list, path: str | os.PathLike[str] = "<events>", *, mask: bool = True,
                  fmt: str = "rrweb", external_id: str = "", drop_query: bool = False,
                  privacy: TextPrivacy | None = None) -> ParsedSession:
    """Parse a list of rrweb events (one session) into pageviews and event columns.

    ``privacy`` (default: rrweb's ``rr-mask`` / ``rr-block`` / ``rr-ignore`` classes) is applied
    to the snapshots and mutations first: masked text is never kept (see ``privacy.TextPrivacy``).

    Events are sorted by timestamp first (stable, so equal times keep their order).
    Raises ``CaptureError`` naming ``path`` for anything malformed.
    """
    if not isinstance(events, list):
        raise CaptureError(path, "expected an array of rrweb events")
    if not events:
        raise CaptureError(path, "holds no events")
    ts, kept = _check_timestamps(events, path)
    raw_events = events  # the recording's identity includes any outliers dropped below
    outliers = 0
    if kept is not None:  # events far from the rest of the timeline: drop and count them
        outliers = len(events) - len(kept)
        events = [events[i] for i in kept]
        ts = [ts[i] for i in kept]
    order: list[int] | None = None
    if not all(map(operator.le, ts[:-1], ts[1:])):
        order = sorted(range(len(events)), key=ts.__getitem__)
        events = [events[i] for i in order]
        ts = [ts[i] for i in order]
    privacy = privacy if privacy is not None else TextPrivacy()
    events = privacy.apply(events)

    def in_file(i: int) -> int:  # error messages name the event's position in the file
        j = order[i] if order is not None and 0 <= i < len(order) else i
        return kept[j] if kept is not None and 0 <= j < len(kept) else j

    pageviews: list[ParsedPageview] = []
    T: list = []
    KIND: list = []
    X: list = []
    Y: list = []
    TGT: list = []
    VAL: list = []
    PV: list = []
    scroll: list[tuple] = []
    strings: list[str] = []
    string_ix: dict[str, int] = {}
    skipped: Counter = Counter()
    if outliers:
        skipped["event with a timestamp far from the rest of the recording (outlier)"] += outliers
    add_t, add_k, add_x, add_y, add_tg, add_v, add_pv = T.append, KIND.append, X.append, Y.append, TGT.append, VAL.append, PV.append
    # mouse/touch positions: per position offset, x, y; per event time, kind, count, pageview
    MO: list = []
    MX: list = []
    MY: list = []
    MT: list = []
    MK: list = []
    MN: list = []
    MPV: list = []
    mo_ext, mx_ext, my_ext = MO.extend, MX.extend, MY.extend
    mt_add, mk_add, mn_add, mpv_add = MT.append, MK.append, MN.append, MPV.append
    get_offset, get_x, get_y = itemgetter("timeOffset"), itemgetter("x"), itemgetter("y")

    def sid(text: str) -> int:
        text = scrub(text[:500]) if mask else text[:500]
        i = string_ix.get(text)
        if i is None:
            i = string_ix[text] = len(strings)
            strings.append(text)
        return i

    pv = -1
    mouse_updown = 0
    checkable: set = set()
    selects: dict = {}  # select element index -> its options' values, in order
    node_map: dict = {}
    tree: DomTree | None = None
    base = 0
    doc_id = 1
    touch_start: tuple | None = None
    last_tap: tuple | None = None  # (t, x, y)
    last_error: tuple | None = None  # (t, message)
    submit_candidate: tuple | None = None  # (t, local target, pv)
    validation_at = -1
    route_events = False  # the recording announces routes with custom events (posthog-js)
    pending_route: tuple | None = None  # (t, href) of a route event waiting for its DOM swap
    last_scroll = (0.0, 0.0)
    doc_url, doc_title = "", ""
    touches: list[tuple] = []  # (t, x, y, pv) of TouchStart / TouchEnd, viewport px
    finder: _FieldFinder | None = None
    # plain ints in locals: enum attribute lookups in the hot loop cost more than the work
    (MOVE, TOUCHMOVE, CLICK, DBLCLICK, TAP, _BLUR, _CUSTOM, _ERROR, _FOCUS, _INPUT, _MUTATION, _RESIZE, _SCROLL,
     _SUBMIT, _VALIDATION) = _KIND_INTS
    i = -1
    typ: Any = None

    def start_route(t: int, href: str | None, swap: dict | None) -> bool:
        """Start a route pageview at ``t`` (an SPA view change without a page load): its element
        map is the DOM after ``swap``; ``href`` from a route event, else named by its title."""
        nonlocal pv, tree, node_map, checkable, selects, base, touch_start
        old = pageviews[pv]
        new_tree = _live_tree(old, swap, mask)
        if new_tree is None:
            return False
        if href:
            url = page_url(href, mask, drop_query)
        else:
            href = old.href
            url = doc_url if new_tree.title == doc_title or not new_tree.title else f"{doc_url} [{new_tree.title}]"
        old.end = t
        close_pageview(t)
        pageviews.append(ParsedPageview(href, url, old.width, old.height, t, trees=[new_tree], tree_base=[0]))
        pv = len(pageviews) - 1
        tree = new_tree
        base = 0
        node_map = new_tree.index_of_node
        checkable, selects = _derived(new_tree, 0, mask)
        touch_start = None
        scroll.append((t, last_scroll[0], last_scroll[1], pv))
        skipped["route pageviews (SPA view change without a page load)"] += 1
        return True

    def close_pageview(next_start: int) -> None:
        nonlocal submit_candidate
        if submit_candidate is not None and submit_candidate[2] == pv:
            t0, tg, _ = submit_candidate
            if next_start - t0 <= _SUBMIT_NAV_MS and validation_at < t0:
                add_t(t0); add_k(_SUBMIT); add_x(0); add_y(0); add_tg(tg); add_v(0); add_pv(pv)
        submit_candidate = None

    try:
        for i, (ev, t) in enumerate(zip(events, ts)):
            typ = ev.get("type")
            if type(typ) is not int:
                raise CaptureError(path, f"event #{in_file(i)} has {'no' if typ is None else 'a non-integer'} 'type'")
            if pending_route is not None and t - pending_route[0] > _ROUTE_SWAP_MS:
                start_route(t, pending_route[1], None)  # no swap came: the DOM as it is
                pending_route = None
            if typ == 3:
                d = ev["data"]
                src = d["source"]
                if pv < 0:
                    skipped["before first Meta"] += 1
                    continue
                if src == 1 or src == 6 or src == 12:
                    # the bulk of a recording: 3 appends per position, kind and pageview per event
                    pos = d["positions"]
                    try:
                        offs = list(map(get_offset, pos))
                    except KeyError:  # a position without timeOffset: at the event's time
                        offs = [p.get("timeOffset", 0) for p in pos]
                    mo_ext(offs); mx_ext(map(get_x, pos)); my_ext(map(get_y, pos))
                    mt_add(t); mk_add(TOUCHMOVE if src == 6 else MOVE); mn_add(len(offs)); mpv_add(pv)
                elif src == 3:
                    if d["id"] == doc_id:
                        # values are checked with the other columns; the timeline is built from the rows
                        add_t(t); add_k(_SCROLL); add_x(d["x"]); add_y(d["y"]); add_tg(-1); add_v(0); add_pv(pv)
                        last_scroll = (d["x"], d["y"])
                    else:
                        skipped["Scroll of an element (not the page)"] += 1
                elif src == 2:
                    it = d["type"]
                    if it == 0 or it == 1:
                        mouse_updown += 1
                    elif it == 2 or it == 4:
                        x = _number(d.get("x", 0), "click x"); y = _number(d.get("y", 0), "click y")
                        tg = node_map.get(d.get("id"), -1)
                        touch = d.get("pointerType") == 2 or (
                            it == 2 and "pointerType" not in d and last_tap is not None
                            and t - last_tap[0] <= _TOUCH_CLICK_MS
                            and abs(x - last_tap[1]) <= _TOUCH_CLICK_PX and abs(y - last_tap[2]) <= _TOUCH_CLICK_PX)
                        if touch and it == 2:
                            if last_tap is not None and t - last_tap[0] <= _TOUCH_CLICK_MS:
                                skipped["Click after a tap (stored as the TAP)"] += 1
                                continue
                            add_t(t); add_k(TAP); add_x(x); add_y(y); add_tg(tg); add_v(0); add_pv(pv)
                            last_tap = (t, x, y)
                            continue
                        add_t(t); add_k(CLICK if it == 2 else DBLCLICK); add_x(x); add_y(y); add_tg(tg)
                        add_v(0); add_pv(pv)
                        if it == 2 and tg >= 0 and tree is not None and tg - base < len(tree.elements):
                            el = tree.elements[tg - base]
                            if el.submit and el.form:
                                submit_candidate = (t, tg, pv)
                    elif it == 5 or it == 6:
                        add_t(t); add_k(_FOCUS if it == 5 else _BLUR); add_x(0); add_y(0)
                        add_tg(node_map.get(d.get("id"), -1)); add_v(0); add_pv(pv)
                    elif it == 7:
                        touch_start = (_number(d.get("x", 0), "touch x"), _number(d.get("y", 0), "touch y"))
                        touches.append((t, touch_start[0], touch_start[1], pv))
                    elif it == 9:
                        x = _number(d.get("x", 0), "touch x"); y = _number(d.get("y", 0), "touch y")
                        touches.append((t, x, y, pv))
                        if touch_start is not None and (abs(x - touch_start[0]) > _TAP_SLOP_PX
                                                        or abs(y - touch_start[1]) > _TAP_SLOP_PX):
                            skipped["TouchEnd of a swipe (not a tap)"] += 1
                        else:
                            add_t(t); add_k(TAP); add_x(x); add_y(y); add_tg(node_map.get(d.get("id"), -1))
                            add_v(0); add_pv(pv)
                            last_tap = (t, x, y)
                        touch_start = None
                    elif it == 10:
                        touch_start = None
                        skipped["TouchCancel"] += 1
                    elif it in INTERACTION_NAMES:
                        skipped[f"MouseInteraction {it} ({INTERACTION_NAMES[it]}), not used"] += 1
                    else:
                        skipped[f"MouseInteraction {str(it)[:20]} (unknown)"] += 1
                elif src == 5:
                    tg = node_map.get(d.get("id"), -1)
                    text = d.get("text", "")
                    if tg in checkable:
                        value = 1 if d.get("isChecked") is True else 0
                    elif tg in selects:
                        opts = selects[tg]
                        value = opts.index(text) + 1 if isinstance(text, str) and text in opts else 0
                    elif isinstance(text, str):
                        value = len(text)
                    else:
                        raise TypeError("Input text is not a string")
                    add_t(t); add_k(_INPUT); add_x(0); add_y(0); add_tg(tg); add_v(value); add_pv(pv)
                elif src == 0:
                    adds = d.get("adds") or []
                    removes = d.get("removes") or []
                    texts = d.get("texts") or []
                    attrs = d.get("attributes") or []
                    n = len(adds) + len(removes) + len(texts) + len(attrs)
                    swapped = False
                    if tree is not None and len(pageviews[pv].trees) == 1:
                        if pending_route is not None:
                            swapped = start_route(t, pending_route[1], d)
                            pending_route = None
                        elif not route_events and _title_swap(d, tree.title_nodes):
                            swapped = start_route(t, None, d)
                    tg = -1
                    for a in attrs:
                        tg = node_map.get(a["id"], -1)
                        if tg >= 0:
                            break
                    if tg < 0:
                        for a in adds:
                            tg = node_map.get(a["parentId"], -1)
                            if tg >= 0:
                                break
                    add_t(t); add_k(_MUTATION); add_x(0); add_y(0); add_tg(tg); add_v(n); add_pv(pv)
                    if tree is not None and len(pageviews[pv].trees) == 1 and not swapped:
                        pageviews[pv].mutations.append((t, d))
                    if tree is not None and (attrs or adds):
                        if finder is None or finder.tree is not tree:
                            finder = _FieldFinder(tree, base)
                        for ftg, msg in _validations(d, finder, node_map).items():
                            add_t(t); add_k(_VALIDATION); add_x(0); add_y(0); add_tg(ftg)
                            add_v(sid(msg or "invalid")); add_pv(pv)
                            validation_at = t
                elif src == 4:
                    w = _number(d["width"], "viewport width"); h = _number(d["height"], "viewport height")
                    add_t(t); add_k(_RESIZE); add_x(w); add_y(h); add_tg(-1); add_v(0); add_pv(pv)
                elif src in SOURCE_NAMES:
                    skipped[f"IncrementalSnapshot source {src} ({SOURCE_NAMES[src]})"] += 1
                else:
                    skipped[f"IncrementalSnapshot source {str(src)[:20]} (unknown)"] += 1
            elif typ == 4:
                d = ev["data"]
                href = d["href"]
                if not isinstance(href, str):
                    raise TypeError("Meta href is not a string")
                w = _number(d["width"], "Meta width"); h = _number(d["height"], "Meta height")
                if not (0 < w <= MAX_VIEWPORT and 0 < h <= MAX_VIEWPORT):
                    raise ValueError(f"Meta viewport {w}x{h} is not a plausible size")
                if pv >= 0:
                    pageviews[pv].end = t
                    close_pageview(t)
                pageviews.append(ParsedPageview(href, page_url(href, mask, drop_query),
                                                int(round(w)), int(round(h)), t))
                pv = len(pageviews) - 1
                node_map = {}
                checkable = set()
                selects = {}
                tree = None
                base = 0
                doc_id = 1
                touch_start = None
                pending_route = None
                last_scroll = (0.0, 0.0)
                doc_url, doc_title = pageviews[pv].url, ""
            elif typ == 2:
                if pv < 0:
                    skipped["before first Meta"] += 1
                    continue
                d = ev["data"]
                try:
                    new_tree = _parse_tree(d["node"], mask)
                except ValueError as exc:
                    raise CaptureError(path, f"event #{in_file(i)} (FullSnapshot): {exc}") from None
                page = pageviews[pv]
                base = sum(len(tr.elements) for tr in page.trees)
                page.trees.append(new_tree)
                page.tree_base.append(base)
                tree = new_tree
                doc_id = new_tree.document_id
                checkable, selects = _derived(new_tree, base, mask)
                node_map = {nid: base + ix for nid, ix in new_tree.index_of_node.items()} if base else \
                    new_tree.index_of_node
                off = d.get("initialOffset") or {}
                if isinstance(off, dict):
                    sx = _number(off.get("left", 0), "initialOffset left")
                    sy = _number(off.get("top", 0), "initialOffset top")
                    scroll.append((t, sx, sy, pv))
                    last_scroll = (sx, sy)
                if len(page.trees) == 1:
                    doc_title = new_tree.title
            elif typ == 5:
                if pv < 0:
                    skipped["before first Meta"] += 1
                    continue
                d = ev["data"]
                tag = d["tag"]
                if not isinstance(tag, str):
                    raise TypeError("Custom event tag is not a string")
                if tag == "error":
                    payload = d.get("payload")
                    msg = payload.get("message") if isinstance(payload, dict) else None
                    msg = msg if isinstance(msg, str) and msg.strip() else "error"
                    if last_error is None or last_error[1] != msg or t - last_error[0] > _ERROR_DEDUPE_MS:
                        add_t(t); add_k(_ERROR); add_x(0); add_y(0); add_tg(-1); add_v(sid(msg)); add_pv(pv)
                    last_error = (t, msg)
                else:
                    add_t(t); add_k(_CUSTOM); add_x(0); add_y(0); add_tg(-1); add_v(sid(tag or "custom"))
                    add_pv(pv)
                    payload = d.get("payload")
                    low = tag.lower()
                    if tree is not None and isinstance(payload, dict) and ("valid" in low or "error" in low):
                        name = next((payload[k] for k in _FIELD_KEYS if isinstance(payload.get(k), str)
                                     and payload[k]), None)
                        ftg = _FieldFinder(tree, base).by_name(name) if name else -1
                        if ftg >= 0:
                            msg = payload.get("message") if isinstance(payload.get("message"), str) else tag
                            add_t(t); add_k(_VALIDATION); add_x(0); add_y(0); add_tg(ftg)
                            add_v(sid(msg or "invalid")); add_pv(pv)
                            validation_at = t
                    if tag in ROUTE_EVENT_TAGS:
                        route_events = True
                        href = _route_href(d.get("payload"))
                        if href and page_url(href, mask, drop_query) != pageviews[pv].url:
                            pending_route = (t, href)
            elif typ == 6:
                if pv < 0:
                    skipped["before first Meta"] += 1
                    continue
                d = ev["data"]
                plugin = d.get("plugin")
                payload = d.get("payload")
                if isinstance(plugin, str) and plugin.startswith("rrweb/console@") and \
                        isinstance(payload, dict) and payload.get("level") == "error":
                    msg = _console_message(payload)
                    if last_error is None or last_error[1] != msg or t - last_error[0] > _ERROR_DEDUPE_MS:
                        add_t(t); add_k(_ERROR); add_x(0); add_y(0); add_tg(-1); add_v(sid(msg)); add_pv(pv)
                    last_error = (t, msg)
                else:
                    skipped[f"Plugin {str(plugin)[:40]}" + (" (not an error)" if isinstance(payload, dict) else "")] += 1
            elif typ in EVENT_TYPE_NAMES:
                skipped[f"type {typ} ({EVENT_TYPE_NAMES[typ]})"] += 1
            else:
                skipped[f"type {typ} (unknown)"] += 1
        if mouse_updown:
            skipped["MouseInteraction 0/1 (MouseUp/MouseDown), not used"] += mouse_updown
        if pv >= 0:
            pageviews[pv].end = ts[-1]
            close_pageview(ts[-1] + _SUBMIT_NAV_MS + 1)
    except CaptureError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        where = EVENT_TYPE_NAMES.get(typ, f"type {typ}") if isinstance(typ, int) else "event"
        data = events[i].get("data") if 0 <= i < len(events) and isinstance(events[i], dict) else None
        src = data.get("source") if isinstance(data, dict) else None
        if typ == 3:
            where += f"/{SOURCE_NAMES.get(src, f'source {src}') if isinstance(src, int) else 'source ?'}"
        what = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)[:120]
        raise CaptureError(path, f"event #{in_file(i)} ({where}) is malformed: {what}") from None
    except RecursionError:
        raise CaptureError(path, f"event #{in_file(i)} is nested too deeply") from None

    if not pageviews:
        raise CaptureError(path, "has no Meta event (type 4), so the page URL and viewport are unknown")
    if len(MO) != len(MX) or len(MO) != len(MY):
        raise CaptureError(path, "a mouse or touch position is malformed")
    n_moves = len(MO)
    try:
        if n_moves:
            counts = np.asarray(MN, dtype=np.int64)
            move_t = np.repeat(np.asarray(MT, dtype=np.float64), counts) + np.asarray(MO, dtype=np.float64)
            t_arr = np.concatenate([np.asarray(T, dtype=np.float64), move_t])
            x_arr = np.concatenate([np.asarray(X, dtype=np.float64), np.asarray(MX, dtype=np.float64)])
            y_arr = np.concatenate([np.asarray(Y, dtype=np.float64), np.asarray(MY, dtype=np.float64)])
        else:  # no mouse or touch positions (short sessions): no concatenation
            t_arr = np.asarray(T, dtype=np.float64)
            x_arr = np.asarray(X, dtype=np.float64)
            y_arr = np.asarray(Y, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise CaptureError(path, "a mouse or touch position holds a value that is not a number") from None
    v_arr = np.minimum(np.maximum(np.asarray(VAL, dtype=np.int64), -2**31), 2**31 - 1) if VAL else \
        np.zeros(0, np.int64)
    if n_moves:
        k_arr = np.concatenate([np.asarray(KIND, dtype=np.uint8), np.repeat(np.asarray(MK, dtype=np.uint8), counts)])
        pv_arr = np.concatenate([np.asarray(PV, dtype=np.int64), np.repeat(np.asarray(MPV, dtype=np.int64), counts)])
        tg_arr = np.concatenate([np.asarray(TGT, dtype=np.int64), np.full(n_moves, -1, dtype=np.int64)])
        v_arr = np.concatenate([v_arr, np.zeros(n_moves, dtype=np.int64)])
    else:
        k_arr = np.asarray(KIND, dtype=np.uint8)
        pv_arr = np.asarray(PV, dtype=np.int64)
        tg_arr = np.asarray(TGT, dtype=np.int64)
    if touches and n_moves:
        # The browser's compatibility mousemove after a tap sits where the finger lifted, a few
        # ms later: not cursor movement. Drop such positions (touch pageviews only).
        tt = np.asarray(touches, dtype=np.float64)
        tt = tt[np.argsort(tt[:, 0], kind="stable")]
        mrow = np.arange(len(T), len(t_arr))
        mt, mx, my = t_arr[mrow], x_arr[mrow], y_arr[mrow]
        j = np.searchsorted(tt[:, 0], mt, side="right") - 1
        jj = np.maximum(j, 0)
        synthetic = (j >= 0) & (k_arr[mrow] == MOVE) & (mt - tt[jj, 0] <= _SYNTHETIC_MOVE_MS) & \
            (np.abs(mx - tt[jj, 1]) <= _SYNTHETIC_MOVE_PX) & (np.abs(my - tt[jj, 2]) <= _SYNTHETIC_MOVE_PX)
        if synthetic.any():
            keep = np.ones(len(t_arr), dtype=bool)
            keep[mrow[synthetic]] = False
            skipped["mouse move after a tap (the browser's synthetic move, not a cursor)"] += int(synthetic.sum())
            t_arr, x_arr, y_arr, k_arr, pv_arr, tg_arr, v_arr = (
                a[keep] for a in (t_arr, x_arr, y_arr, k_arr, pv_arr, tg_arr, v_arr))
    n = len(t_arr)
    # one bound test per column: NaN compares False, so it covers ``isfinite`` too
    ok = (np.abs(x_arr) <= MAX_COORD) & (np.abs(y_arr) <= MAX_COORD) & \
        (np.abs(t_arr - pageviews[0].start) <= 2 * MAX_SESSION_MS)
    if not ok.all():
        bad = ~ok
        raise CaptureError(path, f"an event position or time offset is out of range (row {int(np.argmax(bad))})")
    start = pageviews[0].start
    if pageviews[-1].end - start > MAX_SESSION_MS:
        raise CaptureError(path, "its events span more than 49 days, which is not one session")
    # Positions with a negative timeOffset may reach back before their pageview's Meta.
    if n and len(pageviews) == 1:  # one pageview (most sessions): scalar bounds, one stable sort
        t_arr = np.minimum(np.maximum(np.rint(t_arr), float(start)), float(pageviews[0].end))
        order = np.argsort(t_arr, kind="stable")
    elif n:
        starts = np.array([p.start for p in pageviews], dtype=np.float64)
        ends = np.array([p.end for p in pageviews], dtype=np.float64)
        t_arr = np.minimum(np.maximum(np.rint(t_arr), starts[pv_arr]), ends[pv_arr])  # np.clip, cheaper
        order = np.lexsort((t_arr, pv_arr))
    else:
        order = np.zeros(0, dtype=np.int64)
    initial = np.asarray(scroll, dtype=np.float64).reshape(-1, 4)
    is_scroll = np.flatnonzero(k_arr == _SCROLL) if _SCROLL in KIND else ()
    if len(is_scroll):
        scroll_rows = np.empty((len(is_scroll), 4), dtype=np.float64)
        scroll_rows[:, 0] = t_arr[is_scroll]
        scroll_rows[:, 1] = x_arr[is_scroll]
        scroll_rows[:, 2] = y_arr[is_scroll]
        scroll_rows[:, 3] = pv_arr[is_scroll]
        # initial offsets first: at equal times the Scroll event (recorded later) wins
        timeline = np.concatenate([initial, scroll_rows])
    else:
        timeline = initial
    utm = dict(_utm_items(pageviews[0].href))
    return ParsedSession(
        source=str(path), format=fmt, external_id=external_id, pageviews=pageviews,
        t=t_arr[order].astype(np.int64), kind=k_arr[order], x=x_arr[order], y=y_arr[order],
        target=tg_arr[order], value=v_arr[order], pv=pv_arr[order], scroll=timeline, strings=strings,
        skipped=skipped, rrweb_events=len(events), utm=utm, recording_hash=recording_hash(events, presorted=True) if kept is None else recording_hash(raw_events),
    )


def clear_caches() -> None:
    """Forget everything the importer remembers per process (DOMs, walked subtrees and adds,
    scrubbed URLs): the next import starts cold (benchmarks)."""
    from hindsight.importers import privacy

    snapshot_cache.clear()
    privacy._WALKED.clear()
    privacy._ADDS.clear()
    page_url.cache_clear()
    _utm_items.cache_clear()


@lru_cache(maxsize=8192)
def _utm_items(href: str) -> tuple:
    """``utm_params(href)`` as items, remembered per URL (callers make their own dict)."""
    return tuple(utm_params(href).items())


def _console_message(payload: dict) -> str:
    parts = payload.get("payload")
    out = []
    if isinstance(parts, list):
        for p in parts[:5]:
            if isinstance(p, str):
                try:
                    p2 = json.loads(p)  # the console plugin JSON-encodes each argument
                    p = p2 if isinstance(p2, str) else p
                except ValueError:
                    pass
                out.append(p)
    msg = " ".join(" ".join(out).split())
    return msg or "console error"


def load_session(path: str | os.PathLike[str], *, mask: bool = True, max_bytes: int = MAX_FILE_BYTES,
                 drop_query: bool = False, mask_text: bool = False) -> ParsedSession:
    """Read and parse one recording file (rrweb array or PostHog export) into a session.

    rrweb's privacy classes are always honoured, plus the recorder's ``maskTextSelector`` /
    ``blockSelector`` / ``maskTextClass`` / ``blockClass`` / ``ignoreClass`` where the export
    carries them (``privacy.options_from``); ``mask_text`` masks all page text."""
    # A recording is millions of small dicts and lists that hold no cycles: the cyclic
    # collector would rescan them over and over while they are built (about 2x slower).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        doc = read_file(path, max_bytes)
        rec = unwrap(doc, path)
        external = rec.external_id or os.path.splitext(os.path.basename(os.fspath(path)))[0]
        privacy = TextPrivacy(mask_all=mask_text)
        for opts, where in options_from(doc, rec.events):
            privacy = privacy.with_options(opts, where)
        session = parse_session(rec.events, path, mask=mask, fmt=rec.format, external_id=external,
                                drop_query=drop_query, privacy=privacy)
        session.privacy_sources = list(privacy.sources)
        return session
    finally:
        if was_enabled:
            gc.enable()


def scroll_at(session: ParsedSession, t: np.ndarray, pv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Page scroll (x, y) in effect at each time ``t`` (epoch ms) of pageview ``pv``: the last
    scroll of that pageview at or before ``t`` (0, 0 before the first). One sort and one
    ``searchsorted`` over (pageview, time) keys for all pageviews at once."""
    t = np.asarray(t)
    pv = np.asarray(pv)
    s = session.scroll
    if not len(s) or not len(t) or not s[:, 1:3].any():  # never scrolled: all zero
        return np.zeros(len(t)), np.zeros(len(t))
    st = s[:, 0]
    tt = t.astype(np.float64)
    if len(session.pageviews) == 1 and not pv.any() and not s[:, 3].any():
        # one pageview (most sessions): every row and query is pageview 0, so the last scroll at
        # or before ``t`` is one stable sort of the times and one ``searchsorted`` (the same
        # answer as the keyed search below, without building keys)
        order = np.argsort(st, kind="stable")
        idx = np.searchsorted(st[order], tt, side="right") - 1
        ok = idx >= 0
        rows = order[np.maximum(idx, 0)]
        return np.where(ok, s[rows, 1], 0.0), np.where(ok, s[rows, 2], 0.0)
    sx = np.zeros(len(t))
    sy = np.zeros(len(t))
    lo = min(float(st.min()), float(tt.min()))
    span = max(float(st.max()), float(tt.max())) - lo + 1
    if not np.isfinite(span) or span >= 2**40 or not (np.all(st == np.floor(st)) and np.all(tt == np.floor(tt))):
        # not whole ms of one session's timeline: pageview by pageview
        return _scroll_at_each(s, tt, pv)
    # pageview in the high bits, ms since ``lo`` in the low ones: exact in int64
    skey = s[:, 3].astype(np.int64) * 2**41 + (st - lo).astype(np.int64)
    order = np.argsort(skey, kind="stable")  # equal keys keep their order: the Scroll event wins
    skey = skey[order]
    qkey = pv.astype(np.int64) * 2**41 + (tt - lo).astype(np.int64)
    idx = np.searchsorted(skey, qkey, side="right") - 1
    ok = idx >= 0
    rows = order[np.maximum(idx, 0)]
    ok &= s[rows, 3].astype(np.int64) == pv
    sx[ok] = s[rows[ok], 1]
    sy[ok] = s[rows[ok], 2]
    return sx, sy


def _scroll_at_each(s: np.ndarray, t: np.ndarray, pv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sx = np.zeros(len(t))
    sy = np.zeros(len(t))
    for p in np.unique(pv):
        rows = np.flatnonzero(pv == p)
        mine = s[s[:, 3] == p]
        if not len(mine):
            continue
        mine = mine[np.argsort(mine[:, 0], kind="stable")]
        idx = np.searchsorted(mine[:, 0], t[rows], side="right") - 1
        ok = idx >= 0
        sx[rows[ok]] = mine[idx[ok], 1]
        sy[rows[ok]] = mine[idx[ok], 2]
    return sx, sy

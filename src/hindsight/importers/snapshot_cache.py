"""Everything derived from one distinct FullSnapshot DOM, computed once per process.

A site's visitors load the same few pages, so an import of many recordings meets the same
serialized DOM again and again. Each distinct DOM is keyed by its canonical bytes (the
node as compact JSON, written by orjson in the recording's key order) together with the
privacy rules and the masking flags it was walked with; the key *is* those bytes, so two
DOMs that differ in any byte are never merged (a dict lookup compares them in full after
the hash). Per key the cache keeps, built on first use:

- the privacy walk's result (``privacy._Applier``): the masked tree and the ids of masked,
  blocked and ``<head>`` nodes;
- the element map (``rrweb_dom.parse_dom``) with and without data masking, and what the
  parser derives from it per pageview (checkable fields, select options);
- the element maps of SPA routes (the DOM after a pageview's mutations), keyed by the
  mutations' bytes.

Cached trees are shared between sessions and must never be changed in place: every user
copies before changing (``LiveDom`` deep-copies; ``privacy`` walks a copy).

The cache lives for the process (an app or a collector worker keeps importing) and holds at
most ``MAX_ENTRIES`` DOMs of at most ``MAX_BYTES`` of JSON together; it is emptied when full
(sessions that hold its trees keep them; nothing is ever looked up in a stale entry).
"""

from __future__ import annotations

from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

#: distinct DOMs (and SPA routes) kept per process, and the sum of their JSON sizes: a DOM's
#: Python objects take several times its JSON, so 48 MB of JSON is a few hundred MB at most
MAX_ENTRIES = 256
MAX_BYTES = 48 * 2**20


def canonical_bytes(node: Any) -> bytes | None:
    """The DOM's key bytes (orjson, compact), or None when it is not plain JSON."""
    if orjson is None:
        return None
    try:
        return orjson.dumps(node)
    except (TypeError, orjson.JSONEncodeError):
        return None


class Entry:
    """What one distinct DOM (under one set of privacy rules) has given so far."""

    __slots__ = ("key", "walked", "masked", "blocked", "head", "trees", "derived", "routes", "nodes", "sorted_bytes",
                 "described")

    def __init__(self, key: tuple):
        self.key = key
        self.walked: dict | None = None      # the privacy-walked tree (shared, read-only)
        self.masked = self.blocked = self.head = frozenset()
        self.trees: dict[bool, Any] = {}     # mask flag -> DomTree
        self.derived: dict[bool, Any] = {}   # mask flag -> (checkable, selects)
        self.routes: dict[tuple, Any] = {}   # (mask, mutations bytes) -> DomTree | None
        self.nodes: tuple | None = None       # (node id -> node, node id -> parent id)
        self.sorted_bytes: bytes | None = None  # the walked tree as sorted-key JSON (recording hash)
        self.described: dict | None = None    # aria-describedby token -> node ids (validation finder)


_ENTRIES: dict[tuple, Entry] = {}
#: id(walked tree) -> its entry, for the parser to find what the privacy walk produced
_BY_ROOT: dict[int, Entry] = {}
_bytes = 0  # JSON bytes of the entries held (``_size``)
stats = {"hits": 0, "misses": 0, "tree_hits": 0, "tree_misses": 0, "route_hits": 0, "route_misses": 0}


#: False: nothing is remembered (every DOM walked and parsed afresh; tests compare with it)
enabled = True


def entry(key: tuple) -> tuple[Entry, bool]:
    """The entry for ``key`` (made when new) and whether it already existed."""
    if not enabled:
        return Entry(key), False
    e = _ENTRIES.get(key)
    if e is not None:
        stats["hits"] += 1
        return e, True
    stats["misses"] += 1
    global _bytes
    size = _size(key)
    if len(_ENTRIES) >= MAX_ENTRIES or _bytes + size > MAX_BYTES:
        clear()
    e = _ENTRIES[key] = Entry(key)
    _bytes += size
    return e, False


def _size(key: tuple) -> int:
    """JSON bytes an entry stands for: its DOM's (a route: its parent's DOM and mutations)."""
    return sum(len(k) if isinstance(k, bytes) else _size(k) if isinstance(k, tuple) else 0 for k in key)


def register(e: Entry, walked: dict) -> None:
    """Remember that ``walked`` (a tree the entry holds, so its id stays unique) is ``e``'s."""
    e.walked = walked
    if enabled:
        _BY_ROOT[id(walked)] = e


def of_root(root: Any) -> Entry | None:
    """The entry whose walked tree is ``root`` (this very object), if any."""
    e = _BY_ROOT.get(id(root))
    return e if e is not None and e.walked is root else None


def register_route(parent: Entry, key: tuple, tree) -> None:
    """Make the DOM of an SPA route (``tree``, parsed from the parent's DOM after some
    mutations) an entry of its own, so routes that follow it are remembered as well."""
    e, _ = entry((parent.key, key))
    e.trees[key[0]] = tree
    register(e, tree._root)


def clear() -> None:
    global _bytes
    _ENTRIES.clear()
    _BY_ROOT.clear()
    _bytes = 0


def tree_of(root: Any, mask: bool):
    """The element map already parsed from ``root`` (a cached walked tree) with ``mask``, if any."""
    e = of_root(root)
    return e.trees.get(mask) if e is not None else None


def keep_tree(root: Any, mask: bool, tree) -> None:
    """Remember ``tree``, parsed from the cached walked tree ``root`` with ``mask``."""
    e = of_root(root)
    if e is not None:
        e.trees[mask] = tree


def entry_of_tree(tree) -> Entry | None:
    return of_root(tree._root) if tree is not None and tree._root is not None else None

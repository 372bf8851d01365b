"""Page states at import: screenshots of the page each time its DOM changed visibly.

A pageview's screenshot is its FullSnapshot. rrweb then records the page's changes as
Mutation events (adds, removes, texts, attributes, applied in that order, as rrweb's replayer
does). :func:`find_changes` replays them on a copy of the snapshot tree
(``rrweb_dom.LiveDom``) and marks the *visible* changes; :class:`StateRenderer` renders the
DOM as it was after each one in headless Chromium and stores it (``store/states.py``).

**What counts as visible** (one Mutation event; the first rule that matches names it):

1. an element is added whose subtree (first 200 nodes) has ``role`` dialog / alertdialog /
   alert / menu / listbox / status / tooltip, ``aria-modal="true"``, ``aria-live`` (not off)
   or is a ``<dialog>``;
2. such an element is removed;
3. an element's ``hidden``, ``open`` (dialog / details) or ``aria-hidden`` attribute is set or
   removed, its ``aria-expanded`` changes, or its inline ``style`` changes ``display`` or
   ``visibility``;
4. a ``class`` change adds or removes an error class (``invalid``, ``is-invalid``, ``error``,
   ``has-error``) or a show class (``open``, ``show``, ``active`` on a dialog / menu,
   ``is-open``, ``visible``, ``expanded``);
5. at least ``SWAP_NODES`` (20) nodes are added + removed at once (content swapped);
6. a text changes inside an alert / status / live region (a text node's value changes, or a
   text node is added there: ``textContent = ...`` replaces the node).

Mutations within ``SETTLE_MS`` (300 ms) of a visible change belong to it (a modal that fades
in over several mutations is one state); the state is rendered as the DOM was at the end of
that window and starts at the first mutation. Sizes are not known before rendering, so tiny
elements count too; a state whose rendered DOM equals the pageview's snapshot (a dialog
closed again) is not a new state: the replay shows the snapshot again.

**Bound.** At most ``MAX_STATES`` (8) distinct states are rendered per pageview: the first
eight in time. A later change whose DOM equals a state already stored (in this pageview or
any earlier session: same hash) still shows that state; one past the bound with a new DOM is
not rendered, and the replay keeps showing the state before it (counted in the import
report). At most ``MAX_CHANGES`` (64) visible changes are examined per pageview (each
costs a rebuild of the page's HTML and a hash, ~1-10 ms); the mutations after the 64th are not
replayed and the replay keeps the state it showed then. SPA routes are not states: they start a pageview of their own (``rrweb.py``).

**Identity.** A state's hash is sha256 of the rebuilt HTML (privacy masking applied, element
marks by the snapshot's element indices), the viewport size and device class, and the page's
scroll rounded to 50 px, so the same DOM seen by two visitors at the same scroll is stored
once. The scroll counts because fixed elements (a modal's backdrop) are drawn where the
visitor's viewport was: a full-page capture would lay them out against the first viewport.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from hindsight.importers.rrweb_dom import LiveDom, render_html

MAX_STATES = 8
#: visible changes examined per pageview (each costs a rebuild of the page's HTML and a hash)
MAX_CHANGES = 64
SETTLE_MS = 300
SWAP_NODES = 20
_STATE_ROLES = frozenset({"dialog", "alertdialog", "alert", "menu", "listbox", "status", "tooltip"})
_ERROR_CLASSES = frozenset({"invalid", "is-invalid", "error", "has-error"})
_SHOW_CLASSES = frozenset({"open", "show", "is-open", "visible", "expanded"})
_SUBTREE_LIMIT = 200


@dataclass
class Change:
    """A visible change: starts at ``t`` (epoch ms); ``html`` is the DOM at its end."""

    t: int
    label: str
    html: str = ""


@dataclass
class StateStats:
    """What state rendering did in one import (printed in the import report)."""

    changes: int = 0        # visible changes found
    rendered: int = 0       # new states rendered and stored
    reused: int = 0         # changes that showed a state already stored (same hash)
    back_to_snapshot: int = 0
    over_bound: int = 0     # distinct states past MAX_STATES per pageview, not rendered
    not_rendered: int = 0   # pageviews with DOM changes not looked at (no Chromium / --no-render)
    seconds: float = 0.0
    mutations: int = 0      # mutations replayed
    failures: list = field(default_factory=list)


def _attrs(node) -> dict:
    a = node.get("attributes") if isinstance(node, dict) else None
    return a if isinstance(a, dict) else {}


def _name(node) -> str:
    a = _attrs(node)
    tag = str(node.get("tagName") or "element").lower() if isinstance(node, dict) else "element"
    ident = a.get("id")
    return f"#{ident}" if isinstance(ident, str) and ident else tag


def _kind_of(node) -> str | None:
    """The state-relevant kind of one element node ("dialog", "alert", ...), else None."""
    a = _attrs(node)
    role = a.get("role")
    if isinstance(role, str) and role.strip().lower() in _STATE_ROLES:
        return role.strip().lower()
    if a.get("aria-modal") == "true":
        return "dialog"
    if str(node.get("tagName") or "").lower() == "dialog":
        return "dialog"
    live = a.get("aria-live")
    if isinstance(live, str) and live not in ("", "off"):
        return "message"
    return None


def _subtree_kind(node, live: LiveDom | None = None) -> str | None:
    """The first state kind in a node's subtree (breadth first, bounded)."""
    queue = [node]
    seen = 0
    while queue and seen < _SUBTREE_LIMIT:
        n = queue.pop(0)
        seen += 1
        if not isinstance(n, dict) or n.get("type") != 2:
            continue
        k = _kind_of(n)
        if k:
            return k
        queue.extend(n.get("childNodes") or [])
    return None


def _live_region(live: LiveDom, node_id) -> dict | None:
    """The alert / status / live region element holding a node (itself or an ancestor), if any."""
    nid = node_id
    for _ in range(30):
        node = live.nodes.get(nid)
        if node is None:
            return None
        if node.get("type") == 2 and _kind_of(node) in ("alert", "status", "message"):
            return node
        nid = live.parent.get(nid)
        if nid is None:
            return None
    return None


def _classes(v) -> set[str]:
    return set(v.split()) if isinstance(v, str) else set()


def classify(d: dict, live: LiveDom) -> str | None:
    """Label of the visible changes a Mutation makes (rules in the module doc; up to three,
    joined by "; "), else None. ``live`` is the DOM before the mutation."""
    labels: list[str] = []
    for label in _labels(d, live):
        if label not in labels:
            labels.append(label)
        if len(labels) == 3:
            break
    return "; ".join(labels) or None


def _labels(d: dict, live: LiveDom):
    adds = d.get("adds") or []
    removes = d.get("removes") or []
    for a in adds:
        node = a.get("node") if isinstance(a, dict) else None
        if isinstance(node, dict) and node.get("type") == 2:
            k = _subtree_kind(node)
            if k:
                yield f"{k} {_name(node)} shown"
    for r in removes:
        node = live.nodes.get(r.get("id")) if isinstance(r, dict) else None
        if isinstance(node, dict) and node.get("type") == 2:
            k = _subtree_kind(node)
            if k:
                yield f"{k} {_name(node)} removed"
    for at in d.get("attributes") or []:
        if not isinstance(at, dict) or not isinstance(at.get("attributes"), dict):
            continue
        node = live.nodes.get(at.get("id"))
        if not isinstance(node, dict):
            continue
        old = _attrs(node)
        ch = at["attributes"]
        what = _subtree_kind(node) or str(node.get("tagName") or "element").lower()
        for key in ("hidden", "open", "aria-hidden"):
            if key in ch and (ch[key] is None) != (old.get(key) is None):
                shown = (ch[key] is None) if key != "open" else (ch[key] is not None)
                if key == "aria-hidden":
                    shown = ch[key] in (None, "false")
                yield f"{what} {_name(node)} {'shown' if shown else 'hidden'}"
        if "aria-expanded" in ch and ch["aria-expanded"] != old.get("aria-expanded"):
            yield f"{_name(node)} {'expanded' if ch['aria-expanded'] == 'true' else 'collapsed'}"
        style = ch.get("style")
        if isinstance(style, dict) and any(k in style for k in ("display", "visibility")):
            yield f"{what} {_name(node)} {'hidden' if 'none' in str(style.get('display')) else 'shown'}"
        if isinstance(style, str):
            olds = str(old.get("style") or "").replace(" ", "")
            news = style.replace(" ", "")
            for prop in ("display:", "visibility:"):
                if (prop in olds or prop in news) and \
                        [p for p in olds.split(";") if p.startswith(prop)] != [p for p in news.split(";") if p.startswith(prop)]:
                    yield f"{what} {_name(node)} {'hidden' if 'display:none' in news else 'shown'}"
        if "class" in ch:
            diff = _classes(ch["class"]) ^ _classes(old.get("class"))
            if diff & _ERROR_CLASSES:
                bad = bool(_classes(ch["class"]) & _ERROR_CLASSES)
                yield f"{_name(node)} {'marked invalid' if bad else 'valid again'}"
            if diff & _SHOW_CLASSES or ("active" in diff and _subtree_kind(node)):
                yield f"{what} {_name(node)} {'shown' if _classes(ch['class']) & diff else 'hidden'}"
    if sum(1 for a in adds if isinstance(a, dict)) + len(removes) >= SWAP_NODES:
        yield "content swapped"
    for tx in d.get("texts") or []:
        region = _live_region(live, tx.get("id")) if isinstance(tx, dict) else None
        if region is not None:
            yield f"{_kind_of(region)} {_name(region)} changed"
    # ``textContent = ...`` shows as the old text node removed and a new one added
    for a in adds:
        node = a.get("node") if isinstance(a, dict) else None
        region = _live_region(live, a.get("parentId")) if isinstance(node, dict) and node.get("type") == 3 else None
        if region is not None:
            yield f"{_kind_of(region)} {_name(region)} changed"


def find_changes(root: dict, mutations: list[tuple[int, dict]], marks: dict[int, int],
                 max_changes: int = MAX_CHANGES) -> list[Change]:
    """Replay ``mutations`` (epoch ms, Mutation data) on a copy of ``root``; the visible changes
    (at most ``max_changes``), each with the HTML of the DOM at the end of its settle window
    (``render_html`` with ``marks``: node id -> element index)."""
    live = LiveDom(root)
    out: list[Change] = []
    open_: Change | None = None
    last_t = 0
    for t, d in mutations:
        if open_ is not None and t - last_t > SETTLE_MS:
            open_.html = render_html(live.root, marks)
            out.append(open_)
            open_ = None
            if len(out) >= max_changes:
                return out
        try:
            label = classify(d, live)
        except (TypeError, AttributeError, ValueError, KeyError):
            label = None
        live.apply(d)
        if label:
            if open_ is None:
                open_ = Change(int(t), label)
            elif label not in open_.label and len(open_.label) < 120:
                open_.label += "; " + label
            last_t = t
    if open_ is not None:
        open_.html = render_html(live.root, marks)
        out.append(open_)
    return out


#: Appended to a state's HTML when the visitor had scrolled: fixed elements (a modal's backdrop,
#: a chat panel) are pinned where the visitor's viewport was, as absolute boxes, because a
#: full-page capture lays fixed elements out against the first viewport.
_PIN_FIXED = """<script>(function(){var sy=%d;if(!sy)return;var els=document.querySelectorAll('body *'),
fixed=[];for(var i=0;i<els.length;i++){if(getComputedStyle(els[i]).position==='fixed')fixed.push(els[i]);}
var boxes=fixed.map(function(e){return e.getBoundingClientRect();});fixed.forEach(function(e,i){var r=boxes[i];
e.style.setProperty('position','absolute','important');e.style.setProperty('top',(r.top+sy)+'px','important');
e.style.setProperty('left',r.left+'px','important');e.style.setProperty('width',r.width+'px','important');
e.style.setProperty('height',r.height+'px','important');e.style.setProperty('right','auto','important');
e.style.setProperty('bottom','auto','important');e.style.setProperty('inset','auto','important');
e.style.setProperty('top',(r.top+sy)+'px','important');e.style.setProperty('left',r.left+'px','important');});})();</script>"""

#: scroll positions are rounded to this many px in a state's identity
SCROLL_STEP = 50


def state_hash(html: str, width: int, height: int, device: str, scroll_y: int = 0) -> str:
    h = hashlib.sha256(f"{int(width)}x{int(height)}|{device}|{int(scroll_y)}|".encode())
    h.update(html.encode("utf-8", "surrogatepass"))
    return "sha256:" + h.hexdigest()


class StateRenderer:
    """Finds, renders and stores the states of each imported pageview (one per import)."""

    def __init__(self, store, get_renderer, max_states: int = MAX_STATES):
        self.store = store              # store.states.StateStore
        self.get_renderer = get_renderer  # () -> ChromiumRenderer | None
        self.max_states = max_states
        self.stats = StateStats()

    def pageview(self, session_id: int, seq: int, pv, snapshot_id: int, selector_index: dict[str, int],
                 n_elements: int, session_start: int, scroll_y=None) -> list[tuple[int, int]]:
        """Find, render and store the states of one parsed pageview; store and return its
        timeline rows (t ms since session start, state id). ``scroll_y(t)`` is the page's
        scroll at epoch ms ``t`` (fixed elements are drawn in the visitor's viewport then)."""
        import time

        from hindsight.importers.render_dom import MAX_IMAGE_HEIGHT, RenderError

        tree = pv.dom
        if tree is None or len(pv.trees) != 1 or not pv.mutations or tree._root is None:
            return []
        renderer = self.get_renderer()
        if renderer is None:  # nothing to render with: do not even replay (import speed unchanged)
            self.stats.not_rendered += 1
            return []
        t0 = time.perf_counter()
        marks = {}
        for el in tree.elements:
            j = selector_index.get(el.selector, -1)
            if el.node_id >= 0 and 0 <= j < n_elements:
                marks[el.node_id] = j
        self.stats.mutations += len(pv.mutations)
        changes = find_changes(tree._root, pv.mutations, marks)
        if not changes:
            self.stats.seconds += time.perf_counter() - t0
            return []
        self.stats.changes += len(changes)
        base = render_html(tree._root, marks)
        rows: list[tuple[int, int]] = []
        mine: set[int] = set()
        current = -1
        for ch in changes:
            sy = int(round(scroll_y(ch.t) / SCROLL_STEP)) * SCROLL_STEP if scroll_y is not None else 0
            digest = state_hash(ch.html, pv.width, pv.height, pv.device, max(sy, 0))
            if ch.html == base:
                state = -1
                self.stats.back_to_snapshot += 1
            else:
                state = self.store.known(digest)
                if state is not None:
                    self.stats.reused += 1
                elif len(mine) >= self.max_states:
                    self.stats.over_bound += 1
                    continue
                else:
                    try:
                        html = ch.html + (_PIN_FIXED % max(sy, 0) if sy > 0 else "")
                        res = renderer.render(html, n_elements, pv.width, pv.height,
                                              mobile=pv.device == "mobile", screenshot=True)
                    except RenderError as exc:
                        self.stats.failures.append(f"{pv.url}: state render failed ({exc})")
                        break
                    state = self.store.add_state(snapshot_id, session_id, digest, res.width,
                                                 min(res.height, MAX_IMAGE_HEIGHT), res.png, ch.label, res.boxes)
                    self.stats.rendered += 1
            if state >= 0:
                mine.add(state)
            if state != current:
                rows.append((max(int(ch.t - session_start), 0), state))
                current = state
        self.store.add_timeline(session_id, seq, rows)
        self.stats.seconds += time.perf_counter() - t0
        return rows

    def notes(self) -> list[str]:
        s = self.stats
        out = list(s.failures)
        if s.not_rendered:
            out.append(f"page states not rendered (no Chromium, or --no-render): {s.not_rendered} pageview(s) "
                       "with DOM changes show their first screenshot throughout the replay")
        elif s.changes:
            out.append(f"page states: {s.changes} visible DOM change(s), {s.rendered} state(s) rendered, "
                       f"{s.reused} shown again, {s.back_to_snapshot} back to the page's screenshot"
                       + (f", {s.over_bound} past the bound of {self.max_states} per pageview not rendered"
                          if s.over_bound else "") + f" ({s.seconds:.1f} s)")
        return out

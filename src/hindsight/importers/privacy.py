"""Scrubbing personal data from the text an import keeps (labels, messages, names, URLs).

Typed input is never kept at all (events store lengths only); this module handles the
*other* text that comes with a recording and may still hold personal data: e-mail
addresses and card-like numbers (13-19 digits, optionally grouped with spaces or dashes)
are replaced by placeholders. URLs keep their path but lose such values from the query.
"""

from __future__ import annotations

import re
from itertools import compress, repeat
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

EMAIL_PLACEHOLDER = "[email]"
NUMBER_PLACEHOLDER = "[number]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")
# 13-19 digits with single spaces or dashes between groups (card numbers, IBAN-ish runs).
_CARD = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
_URL_ENCODED_AT = re.compile(r"%40", re.IGNORECASE)
#: Query parameters that only track marketing clicks; dropped from page URLs.
TRACKING_PARAMS = frozenset({"gclid", "fbclid", "msclkid", "dclid", "yclid", "_ga", "_gl", "mc_eid", "mc_cid"})


def scrub(text: str) -> str:
    """``text`` with e-mail addresses and card-like numbers replaced by placeholders."""
    if not text:
        return text
    if "@" in text:
        text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    return _CARD.sub(NUMBER_PLACEHOLDER, text)


def scrub_url(url: str, drop_query: bool = False) -> str:
    """A page URL fit to keep: no fragment, no credentials, tracking and ``utm_*`` parameters
    dropped, and query values scrubbed (``drop_query`` removes the query altogether)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep user:password@
        query = ""
        if parts.query and not drop_query:
            pairs = []
            for key, value in parse_qsl(parts.query, keep_blank_values=True):
                if key.lower() in TRACKING_PARAMS or key.lower().startswith("utm_"):
                    continue  # utm_* go to the session row instead
                pairs.append((scrub(key), scrub(value)))
            query = urlencode(pairs)
        return urlunsplit((parts.scheme, netloc, scrub(parts.path), query, ""))
    except ValueError:  # not parseable as a URL: keep it as plain scrubbed text
        return scrub(_URL_ENCODED_AT.sub("@", url))


def utm_params(url: str) -> dict[str, str]:
    """``utm_source``, ``utm_medium`` and ``utm_campaign`` of a URL (scrubbed), if present."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    out = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        if key in ("utm_source", "utm_medium", "utm_campaign"):
            out[key] = scrub(value)[:200]
    return out


# -- rrweb privacy classes and selectors (page text) ----------------------------------------
#
# rrweb's recorder masks text inside ``rr-mask`` (``maskTextClass``) / ``maskTextSelector``,
# empties ``rr-block`` (``blockClass``) / ``blockSelector`` elements (keeping their size as
# ``rr_width``/``rr_height``) and records no input for ``rr-ignore`` (``ignoreClass``).
# :class:`TextPrivacy` applies the same rules again at import, so that a recording made
# without them (or with ``--mask-text``) keeps no such text, and marks the nodes so that the
# screenshot draws masked text as solid bars and blocked elements as grey boxes.

import copy as _copy
from dataclasses import dataclass, field as _field

import orjson

from hindsight.importers import snapshot_cache

_SIMPLE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*|\*)?((?:[.#][-\w]+|\[[^\]]+\])*)$")
_PART = re.compile(r"([.#])([-\w]+)|\[\s*([-\w:]+)\s*(?:([~|^$*]?=)\s*[\"']?([^\"'\]]*)[\"']?\s*)?\]")
#: attributes whose text is masked with the text of a masked element
_TEXT_ATTRS = ("value", "placeholder", "aria-label", "title", "alt")
#: keys of the recorder's options read from an export (see :func:`options_from`)
OPTION_KEYS = ("maskTextSelector", "blockSelector", "maskTextClass", "blockClass", "ignoreClass")
#: top-level / metadata keys of an export that may hold the recorder's options
OPTION_CONTAINERS = ("recordOptions", "recordingOptions", "rrwebOptions", "options")


def mask_chars(text: str) -> str:
    """rrweb's own masking: every non-space character becomes ``*``."""
    return re.sub(r"\S", "*", text) if text else text


class _Selector:
    """A CSS selector list, matched on one element's tag and attributes and, for complex
    selectors (``.a .b``, ``.a > b``), on its ancestors: the whole selector must match.
    Sibling combinators (``+``, ``~``) and compounds this parser cannot read fall back to the
    last compound alone (more is masked, never less)."""

    def __init__(self, text: str):
        self.parts: list[tuple[str | None, list]] = []
        #: per entry of ``parts``: the compounds to its left, right to left, each with the
        #: combinator that joins it to the compound on its right (" " or ">"); None: last only
        self.chains: list[list[tuple[str, tuple]] | None] = []
        for sel in text.split(","):
            tokens = re.findall(r"[>+~]|(?:[^\s>+~\[]|\[[^\]]*\])+", sel.strip())
            compounds: list[tuple[str, str]] = []  # (combinator to the part on the left, compound text)
            comb = " "
            for tok in tokens:
                if tok in (">", "+", "~"):
                    comb = tok
                    continue
                compounds.append((comb, tok))
                comb = " "
            parsed = [(c, self._compound(t)) for c, t in compounds]
            if not parsed or parsed[-1][1] is None:
                continue
            self.parts.append(parsed[-1][1])
            left = parsed[:-1]
            ok = all(p is not None for _, p in left) and all(c in (" ", ">") for c, _ in parsed[1:])
            # combinator joining left[i] to its right neighbour is parsed[i + 1][0]
            self.chains.append([(parsed[i + 1][0], left[i][1]) for i in range(len(left) - 1, -1, -1)]
                               if ok and left else None)

    @staticmethod
    def _compound(sel: str):
        m = _SIMPLE.match(sel)
        if not sel or not m:
            return None
        tag = m.group(1).lower() if m.group(1) and m.group(1) != "*" else None
        conds = []
        for pm in _PART.finditer(m.group(2) or ""):
            if pm.group(1) == ".":
                conds.append(("class", pm.group(2)))
            elif pm.group(1) == "#":
                conds.append(("id", pm.group(2)))
            else:
                conds.append(("attr", pm.group(3).lower(), pm.group(4), pm.group(5)))
        return tag, conds

    @staticmethod
    def _one(part, tag: str, attrs: dict, classes: set) -> bool:
        want_tag, conds = part
        if want_tag and want_tag != tag:
            return False
        for c in conds:
            if c[0] == "class":
                ok = c[1] in classes
            elif c[0] == "id":
                ok = attrs.get("id") == c[1]
            else:
                _, name, op, val = c
                got = next((v for k, v in attrs.items() if isinstance(k, str) and k.lower() == name), None)
                if got is None:
                    ok = False
                elif op:
                    got = str(got)
                    ok = {"=": got == val, "~=": val in got.split(), "^=": got.startswith(val),
                          "$=": got.endswith(val), "*=": val in got,
                          "|=": got == val or got.startswith(val + "-")}[op]
                else:
                    ok = True
            if not ok:
                return False
        return True

    def match(self, tag: str, attrs: dict, classes: set, ancestors=None) -> bool:
        """Whether the element matches; ``ancestors``: (tag, attrs, classes) from its parent up
        (None: not known, then only the last compound of each selector is checked)."""
        anc = None
        for part, chain in zip(self.parts, self.chains):
            if not self._one(part, tag, attrs, classes):
                continue
            if chain is None or ancestors is None:
                return True
            if anc is None:
                anc = list(ancestors)
            if self._chain(chain, 0, anc, 0):
                return True
        return False

    def _chain(self, chain, ci: int, anc: list, ai: int) -> bool:
        if ci == len(chain):
            return True
        comb, part = chain[ci]
        if comb == ">":
            return ai < len(anc) and self._one(part, *anc[ai]) and self._chain(chain, ci + 1, anc, ai + 1)
        return any(self._one(part, *anc[j]) and self._chain(chain, ci + 1, anc, j + 1) for j in range(ai, len(anc)))

    def matches(self, tag: str, attrs: dict, classes: set, ancestors=None) -> bool:
        return self.match(tag, attrs, classes, ancestors)


@dataclass
class TextPrivacy:
    """Which page text an import masks or blocks (see the module notes)."""

    mask_all: bool = False
    mask_classes: frozenset = frozenset({"rr-mask"})
    block_classes: frozenset = frozenset({"rr-block"})
    ignore_classes: frozenset = frozenset({"rr-ignore"})
    mask_selector: str = ""
    block_selector: str = ""
    sources: list = _field(default_factory=list)  # where recorder options were found

    @classmethod
    def disabled(cls) -> "TextPrivacy":
        """No rule at all (tests compare with it; never used by an import)."""
        return cls(mask_classes=frozenset(), block_classes=frozenset(), ignore_classes=frozenset())

    def with_options(self, opts: dict, source: str) -> "TextPrivacy":
        """Add the recorder's options (``maskTextSelector``, ``blockSelector``, ``maskTextClass``,
        ``blockClass``, ``ignoreClass``; string values only, rrweb's RegExp forms are not JSON)."""
        if not isinstance(opts, dict):
            return self
        got = {k: opts[k] for k in OPTION_KEYS if isinstance(opts.get(k), str) and opts[k].strip()}
        if not got:
            return self
        out = _copy.copy(self)
        out.sources = [*self.sources, source]
        if "maskTextSelector" in got:
            out.mask_selector = ",".join(s for s in (self.mask_selector, got["maskTextSelector"]) if s)
        if "blockSelector" in got:
            out.block_selector = ",".join(s for s in (self.block_selector, got["blockSelector"]) if s)
        if "maskTextClass" in got:
            out.mask_classes = self.mask_classes | {got["maskTextClass"].strip()}
        if "blockClass" in got:
            out.block_classes = self.block_classes | {got["blockClass"].strip()}
        if "ignoreClass" in got:
            out.ignore_classes = self.ignore_classes | {got["ignoreClass"].strip()}
        return out

    def apply(self, events: list) -> list:
        """``events`` with the rules applied to FullSnapshot trees and Mutation data (copies of
        the changed events; the others are the same objects). Masked text nodes get
        ``hsMasked``, blocked elements ``hsBlocked`` and their descendants ``hsHidden``."""
        return _Applier(self).run(events)


_META_OR_CUSTOM = frozenset({4, 5})
#: (type, data.source) of a Mutation, and the FullSnapshot type: the events the privacy rules change
_CHANGING = frozenset({(3, 0)})
_SNAPSHOT_TYPE = frozenset({2})


def options_from(doc, events: list) -> list[tuple[dict, str]]:
    """The recorder options found in an export, with where: a top-level object's
    ``recordOptions`` / ``recordingOptions`` / ``rrwebOptions`` / ``options`` (also under
    ``metadata`` and, for PostHog exports, under ``data``), a Meta event's
    ``data.recordOptions``, and a Custom event tagged ``recordOptions`` / ``rrweb/options``."""
    found = []
    if isinstance(doc, dict):
        for where, obj in (("", doc), ("metadata.", doc.get("metadata")), ("data.", doc.get("data"))):
            if isinstance(obj, dict):
                for key in OPTION_CONTAINERS:
                    if isinstance(obj.get(key), dict):
                        found.append((obj[key], f"export {where}{key}"))
    try:  # only Meta and Custom events can carry options: pick them out without a Python loop
        candidates = list(compress(events, map(_META_OR_CUSTOM.__contains__, map(dict.get, events, repeat("type")))))
    except TypeError:  # an event that is not an object (or an unhashable type): look at each
        candidates = events
    for ev in candidates:
        if not isinstance(ev, dict) or not isinstance(ev.get("data"), dict):
            continue
        d = ev["data"]
        if ev.get("type") == 4 and isinstance(d.get("recordOptions"), dict):
            found.append((d["recordOptions"], "Meta event data.recordOptions"))
        elif ev.get("type") == 5 and d.get("tag") in ("recordOptions", "rrweb/options") \
                and isinstance(d.get("payload"), dict):
            found.append((d["payload"], f"Custom event {d['tag']}"))
    return found


#: Walked subtrees that Mutations add, by (rules, subtree JSON bytes, scope): (walked tree, masked,
#: blocked, head ids). Full snapshots are kept in ``snapshot_cache`` (with what is parsed from them).
_WALKED: dict[tuple, tuple] = {}
_WALKED_MAX = 4096
_WALKED_MAX_BYTES = 16 * 2**20  # JSON bytes of the subtrees held
_walked_bytes = 0
#: A Mutation's walked ``adds``, by (rules, adds JSON bytes, which parents are masked / blocked /
#: in ``<head>``): (adds, ids they mask, block, put in ``<head>``). Same bounds as ``_WALKED``.
_ADDS: dict[tuple, tuple] = {}
_adds_bytes = 0


class _Applier:
    def __init__(self, rules: TextPrivacy):
        self.r = rules
        # the rules as a hashable key (a dataclass ``repr`` per session cost more than the walk lookups)
        self.rules_key = (bool(rules.mask_all), frozenset(rules.mask_classes), frozenset(rules.block_classes),
                          frozenset(rules.ignore_classes), str(rules.mask_selector), str(rules.block_selector))
        self.mask_sel = _Selector(rules.mask_selector) if rules.mask_selector else None
        self.block_sel = _Selector(rules.block_selector) if rules.block_selector else None
        self.masked: set = set()   # node ids whose text is masked (masked scope)
        self.blocked: set = set()  # node ids inside a blocked element
        self.head: set = set()     # node ids inside <head> (title, styles: never masked)
        self.info: dict = {}       # element node id -> (tag, attrs, classes), for complex selectors
        self.parent_el: dict = {}  # element node id -> its parent element's node id

    def _ancestors(self, parent_id):
        """(tag, attrs, classes) of the element ``parent_id`` and its element ancestors, upward."""
        seen = 0
        while parent_id is not None and parent_id in self.info and seen < 2000:
            yield self.info[parent_id]
            parent_id = self.parent_el.get(parent_id)
            seen += 1

    def _element_state(self, node: dict, masked: bool, blocked: bool, parent_id=None) -> tuple[bool, bool, bool]:
        attrs = node.get("attributes") if isinstance(node.get("attributes"), dict) else {}
        tag = str(node.get("tagName") or "").lower()
        cls = attrs.get("class")
        classes = set(cls.split()) if isinstance(cls, str) else set()
        nid = node.get("id")
        if isinstance(nid, int) and (self.mask_sel or self.block_sel):  # complex selectors need ancestors
            self.info[nid] = (tag, attrs, classes)
            if parent_id is not None:
                self.parent_el[nid] = parent_id
        block_here = bool(classes & self.r.block_classes) or bool(
            self.block_sel and self.block_sel.matches(tag, attrs, classes, self._ancestors(parent_id)))
        mask_here = bool(classes & (self.r.mask_classes | self.r.ignore_classes)) or bool(
            self.mask_sel and self.mask_sel.matches(tag, attrs, classes, self._ancestors(parent_id)))
        return masked or mask_here or self.r.mask_all, blocked, block_here and not blocked

    def _walk(self, root: dict, masked: bool, blocked: bool, in_head: bool = False, parent_id=None,
              snapshot: bool = False) -> dict:
        """``_walk_tree`` of a copy of ``root``, remembered by the tree's JSON bytes: the same
        DOM in another session (a page every visitor loads) is walked once per process, and the
        walked tree is shared (callers must not change it; ``LiveDom`` copies). Full snapshots
        (``snapshot``) go to ``snapshot_cache``, where the parser finds the walked tree again.
        Not remembered with complex mask / block selectors (they record each node's ancestors);
        without them the parent of an added subtree only matters through the scope flags."""
        if self.mask_sel or self.block_sel:
            return self._walk_tree(_copy.deepcopy(root), masked, blocked, in_head, parent_id)
        data = snapshot_cache.canonical_bytes(root)
        if data is None:   # not plain JSON (e.g. huge ints): walk a deep copy
            return self._walk_tree(_copy.deepcopy(root), masked, blocked, in_head)
        key = (self.rules_key, data, masked, blocked, in_head)
        if snapshot:
            e, known = snapshot_cache.entry(key)
            if not known or e.walked is None:
                walked, m, b, h = self._walk_fresh(data, masked, blocked, in_head)
                e.masked, e.blocked, e.head = m, b, h
                snapshot_cache.register(e, walked)
            hit = (e.walked, e.masked, e.blocked, e.head)
        else:
            hit = _WALKED.get(key)
            if hit is None:
                global _walked_bytes
                hit = self._walk_fresh(data, masked, blocked, in_head)
                if len(_WALKED) >= _WALKED_MAX or _walked_bytes + len(data) > _WALKED_MAX_BYTES:
                    _WALKED.clear()
                    _walked_bytes = 0
                _WALKED[key] = hit
                _walked_bytes += len(data)
        self.masked |= hit[1]
        self.blocked |= hit[2]
        self.head |= hit[3]
        return hit[0]

    def _walk_fresh(self, data: bytes, masked: bool, blocked: bool, in_head: bool) -> tuple:
        outer = self.masked, self.blocked, self.head
        self.masked, self.blocked, self.head = set(), set(), set()
        walked = self._walk_tree(orjson.loads(data), masked, blocked, in_head)   # a private copy
        hit = (walked, frozenset(self.masked), frozenset(self.blocked), frozenset(self.head))
        self.masked, self.blocked, self.head = outer
        return hit

    def _walk_tree(self, root: dict, masked: bool, blocked: bool, in_head: bool = False, parent_id=None) -> dict:
        stack = [(root, masked, blocked, in_head, parent_id)]
        while stack:
            node, m, b, head, pid = stack.pop()
            if not isinstance(node, dict):
                continue
            nid = node.get("id")
            t = node.get("type")
            if t == 2:
                tag = str(node.get("tagName") or "").lower()
                head = head or tag == "head"
                if not head:
                    m, b, block_here = self._element_state(node, m, b, pid)
                    if b:
                        node["hsHidden"] = True
                    if block_here:
                        node["hsBlocked"] = True
                        attrs = node.get("attributes") or {}
                        if "rr_width" in attrs and "rr_height" in attrs:
                            node["childNodes"] = []  # rrweb's own placeholder: keep it empty
                        b = True
                    if (m or b) and isinstance(node.get("attributes"), dict):
                        for k in list(node["attributes"]):
                            if isinstance(k, str) and k.lower() in _TEXT_ATTRS \
                                    and isinstance(node["attributes"][k], str):
                                node["attributes"][k] = mask_chars(node["attributes"][k])
            elif t == 3 and (m or b) and not head and not node.get("isStyle"):
                if isinstance(node.get("textContent"), str):
                    node["textContent"] = mask_chars(node["textContent"])
                node["hsMasked"] = True
            if isinstance(nid, int) and head:
                self.head.add(nid)
            if isinstance(nid, int) and not head:
                if m:
                    self.masked.add(nid)
                if b:
                    self.blocked.add(nid)
            child_pid = nid if t == 2 and isinstance(nid, int) else pid
            for child in node.get("childNodes") or []:
                stack.append((child, m, b, head, child_pid))
        return root

    def run(self, events: list) -> list:
        # Only FullSnapshots and Mutations change. Find them with C-level maps (no Python code
        # per event) and handle them in order; the rest of ``events`` stays as it is.
        try:
            types = list(map(dict.get, events, repeat("type")))
            sources = map(dict.get, map(dict.get, events, repeat("data")), repeat("source"))
            changing = list(compress(range(len(events)), map(_CHANGING.__contains__, zip(types, sources))))
        except TypeError:  # an event or its data is not an object: look at each one
            return self._run_each(events)
        snapshots = list(compress(range(len(events)), map(_SNAPSHOT_TYPE.__contains__, types)))
        if snapshots:
            changing = sorted({*changing, *snapshots})
        out = None
        for i in changing:
            ev = events[i]
            new = self._run_each([ev])[0]
            if new is not ev:
                if out is None:
                    out = list(events)
                out[i] = new
        return list(events) if out is None else out

    def _run_each(self, events: list) -> list:
        out = []
        add = out.append
        for ev in events:
            if not isinstance(ev, dict):
                add(ev)
                continue
            d = ev.get("data")
            typ = ev.get("type")
            if typ == 3:
                if isinstance(d, dict) and d.get("source") == 0:
                    nd = self._mutation(d)
                    if nd is not d:
                        ev = {**ev, "data": nd}
            elif typ == 2 and isinstance(d, dict) and isinstance(d.get("node"), dict):
                self.masked, self.blocked, self.head = set(), set(), set()
                self.info, self.parent_el = {}, {}
                ev = {**ev, "data": {**d, "node": self._walk(d["node"], False, False, snapshot=True)}}
            add(ev)
        return out

    def _adds(self, raw) -> list:
        """A Mutation's ``adds`` with each added subtree walked in the scope of its parent.

        Remembered (without complex selectors) by the adds' JSON bytes and which of their parents
        are masked / blocked / in ``<head>``: the walks, and the scopes they open for later adds
        of the same mutation, depend on nothing else. An SPA view that adds the same hundreds of
        nodes in every session is one lookup."""
        key = None
        if raw and snapshot_cache.enabled and not (self.mask_sel or self.block_sel) and type(raw) is list:
            try:
                pids = set(map(dict.get, raw, repeat("parentId")))
                data = orjson.dumps(raw)
            except (TypeError, orjson.JSONEncodeError):
                pass
            else:
                key = (self.rules_key, data, frozenset(pids & self.masked), frozenset(pids & self.blocked),
                       frozenset(pids & self.head))
                hit = _ADDS.get(key)
                if hit is not None:
                    adds, m, b, h = hit
                    self.masked |= m
                    self.blocked |= b
                    self.head |= h
                    return list(adds)
        outer = self.masked, self.blocked, self.head
        if key is not None:  # collect what these adds open, to replay it on a hit
            self.masked, self.blocked, self.head = set(outer[0]), set(outer[1]), set(outer[2])
        adds = []
        for a in raw or []:
            if isinstance(a, dict) and isinstance(a.get("node"), dict):
                pid = a.get("parentId")
                a = {**a, "node": self._walk(a["node"], pid in self.masked, pid in self.blocked, pid in self.head,
                                             pid if isinstance(pid, int) else None)}
            adds.append(a)
        if key is not None:
            global _adds_bytes
            hit = (tuple(adds), frozenset(self.masked - outer[0]), frozenset(self.blocked - outer[1]),
                   frozenset(self.head - outer[2]))
            if len(_ADDS) >= _WALKED_MAX or _adds_bytes + len(key[1]) > _WALKED_MAX_BYTES:
                _ADDS.clear()
                _adds_bytes = 0
            _ADDS[key] = hit
            _adds_bytes += len(key[1])
        return adds

    def _mutation(self, d: dict) -> dict:
        if not d.get("adds") and not self.masked and not self.blocked and not self.r.mask_all:
            return d  # nothing added and no masked scope: no text or attribute to change
        d = dict(d)
        if "adds" in d:
            d["adds"] = self._adds(d["adds"])
        texts = []
        for tx in d.get("texts") or []:
            if isinstance(tx, dict) and isinstance(tx.get("value"), str) and tx.get("id") not in self.head and (
                    self.r.mask_all or tx.get("id") in self.masked or tx.get("id") in self.blocked):
                tx = {**tx, "value": mask_chars(tx["value"])}
            texts.append(tx)
        if "texts" in d:
            d["texts"] = texts
        attrs_out = []
        for at in d.get("attributes") or []:
            if isinstance(at, dict) and isinstance(at.get("attributes"), dict) and (
                    at.get("id") in self.masked or at.get("id") in self.blocked):
                at = {**at, "attributes": {k: (mask_chars(v) if isinstance(k, str) and k.lower() in _TEXT_ATTRS
                                               and isinstance(v, str) else v)
                                           for k, v in at["attributes"].items()}}
            attrs_out.append(at)
        if "attributes" in d:
            d["attributes"] = attrs_out
        return d

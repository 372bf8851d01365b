"""The element map of an rrweb FullSnapshot: walk the serialized DOM tree once.

rrweb serializes the page as nested nodes (``type`` 0 document, 1 doctype, 2 element,
3 text, 4 CDATA, 5 comment), each with an ``id`` that later incremental events refer to.
:func:`parse_dom` turns that tree into :class:`DomElement` rows (tag, role, selector,
label, clickable, form field, sensitivity) keyed by node id, and :meth:`DomTree.html`
rebuilds static HTML from it (no scripts, no typed values, inline CSS) so that a browser
can lay the page out again and measure each element (``render_dom``).

The snapshot has no geometry; boxes come later from rendering (or a placeholder layout).
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field

from hindsight.importers.privacy import scrub, scrub_url

#: Element indices are stored as int16 in events, so a map holds at most this many rows.
MAX_ELEMENTS = 32_000
LABEL_CHARS = 120

_SKIP_TAGS = frozenset({
    "head", "script", "noscript", "style", "link", "meta", "title", "base", "template", "br",
    "wbr", "option", "optgroup", "source", "track", "param", "col", "colgroup", "datalist",
})
_NO_RENDER = frozenset({"script", "noscript", "base", "template"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})
_CLICKABLE_TAGS = frozenset({"a", "button", "select", "textarea", "summary"})
_CLICKABLE_ROLES = frozenset({"button", "link", "checkbox", "radio", "switch", "tab", "menuitem",
                              "option", "menuitemcheckbox", "menuitemradio"})
_FIELD_TAGS = frozenset({"input", "select", "textarea"})
_NOT_FIELD_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})
_BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
_VALUE_KEEPING_TYPES = frozenset({"submit", "button", "reset", "checkbox", "radio", "image", "color",
                                  "range", "hidden"})
_SENSITIVE_TYPES = frozenset({"password", "email", "tel"})
_SENSITIVE_NAME = re.compile(
    r"pass|pwd|e-?mail|phone|\btel|mobile|card|cc-?(num|exp|csc|name)|ccnum|cvc|cvv|csc|iban|"
    r"\bssn\b|social.?sec|birth|\bdob\b|account.?num|routing", re.IGNORECASE)
_IMPLICIT_ROLES = {
    "a": "link", "button": "button", "select": "combobox", "textarea": "textbox", "img": "img",
    "nav": "navigation", "form": "form", "main": "main", "header": "banner", "footer": "contentinfo",
    "aside": "complementary", "section": "region", "ul": "list", "ol": "list", "li": "listitem",
    "table": "table", "h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading",
    "h5": "heading", "h6": "heading", "dialog": "dialog", "label": "text", "p": "text", "span": "text",
}
_INPUT_ROLES = {"checkbox": "checkbox", "radio": "radio", "range": "slider", "submit": "button",
                "button": "button", "reset": "button", "image": "button", "search": "searchbox",
                "number": "spinbutton"}
_ATTR_NAME = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")
_CSS_IDENT = re.compile(r"^-?[A-Za-z_][-A-Za-z0-9_]*$")
_WS = re.compile(r"\s+")


@dataclass
class DomElement:
    """One element of the map (document order). ``parent`` is the index of the nearest
    mapped ancestor (-1 at the top); boxes are filled in by rendering."""

    node_id: int
    tag: str
    selector: str = ""
    role: str = ""
    label: str = ""
    clickable: bool = False
    field: str | None = None
    form: str | None = None
    sensitive: bool = False
    href: str | None = None
    input_type: str = ""
    parent: int = -1
    submit: bool = False  # a control that submits its form
    #: an <option> of a mapped <select>: its value (the ``value`` attribute, else its text);
    #: used at import to turn the select's Input value into the option index, never stored
    option_value: str = ""
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class DomTree:
    """A parsed FullSnapshot: the element map plus what rendering needs."""

    elements: list[DomElement]
    #: rrweb node id -> element index (nodes that are not mapped point at their mapped ancestor)
    index_of_node: dict[int, int]
    document_id: int
    title: str = ""
    _root: dict | None = field(default=None, repr=False)
    #: element nodes that were not mapped because the map was full
    dropped: int = 0
    #: node ids of the document's <title> element and its text node (a route changes them)
    title_nodes: frozenset = frozenset()

    def element_for(self, node_id) -> int:
        return self.index_of_node.get(node_id, -1)

    def html(self) -> str:
        """Static HTML of the snapshot, each mapped element tagged ``data-hs-id=<index>``."""
        own_index = {el.node_id: i for i, el in enumerate(self.elements) if el.node_id >= 0}
        return render_html(self._root or {}, own_index)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _clean(text: str, limit: int = LABEL_CHARS, mask: bool = True) -> str:
    text = _WS.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return scrub(text) if mask else text


def parse_dom(root: dict, mask: bool = True) -> DomTree:
    """Element map of a serialized rrweb document node (``FullSnapshot.data.node``).

    Raises ``ValueError`` on a tree that is not an rrweb serialized node.
    """
    if not isinstance(root, dict) or not isinstance(root.get("childNodes", []), list):
        raise ValueError("FullSnapshot node is not a serialized document")
    doc_id = root.get("id", 1)
    if not isinstance(doc_id, int):
        raise ValueError("FullSnapshot document node has no numeric id")
    elements: list[DomElement] = []
    attrs_of: list[dict] = []
    texts: list[list[str]] = []  # text content per element (own + descendants), truncated later
    index_of_node: dict[int, int] = {}
    label_for: dict[str, int] = {}  # label[for] id -> label element index
    ids: dict[str, int] = {}
    id_count: dict[str, int] = {}
    form_of: list[str | None] = []
    title = ""
    title_ids: set[int] = set()
    dropped = 0
    # Iterative walk (documents can be deeper than Python's recursion limit).
    # Stack items: (node, mapped ancestor index, enclosing form name, in <head>, inside skipped subtree)
    stack: list[tuple] = [(root, -1, None, False, False)]
    while stack:
        node, parent, form, in_head, skipped = stack.pop()
        if not isinstance(node, dict):
            raise ValueError("a DOM node is not an object")
        ntype = node.get("type")
        nid = node.get("id")
        if ntype == 3:  # text
            if parent >= 0 and not skipped:
                t = _text(node.get("textContent"))
                if t and len(texts[parent]) < 40:
                    texts[parent].append(t)
            continue
        if ntype != 2:
            if ntype == 0 or ntype is None:
                for child in reversed(node.get("childNodes") or []):
                    stack.append((child, parent, form, in_head, skipped))
            continue
        tag = node.get("tagName")
        if not isinstance(tag, str):
            raise ValueError("an element node has no tagName")
        tag = tag.lower()
        attrs = node.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise ValueError("element attributes are not an object")
        me = parent
        child_form = form
        child_head = in_head or tag == "head"
        child_skipped = skipped or tag in _SKIP_TAGS
        if tag == "title" and in_head and not title_ids:
            if isinstance(nid, int):
                title_ids.add(nid)
            for child in node.get("childNodes") or []:
                if isinstance(child, dict) and child.get("type") == 3:
                    title = _text(child.get("textContent"))
                    if isinstance(child.get("id"), int):
                        title_ids.add(child["id"])
        in_select = not skipped and parent >= 0 and elements[parent].tag == "select"
        if in_select and tag == "optgroup":  # transparent: its options belong to the select
            for child in reversed(node.get("childNodes") or []):
                stack.append((child, parent, form, in_head, False))
            if isinstance(nid, int):
                index_of_node[nid] = parent
            continue
        if in_select and tag == "option" and len(elements) < MAX_ELEMENTS:
            # options of a select are rows (zero boxes, not clickable): the replay shows the
            # chosen option's label, which is page text like any other label
            me = len(elements)
            el = DomElement(node_id=nid if isinstance(nid, int) else -1, tag=tag, parent=parent)
            value = attrs.get("value")
            el.option_value = value if isinstance(value, str) else "\0text"
            elements.append(el)
            attrs_of.append(attrs)
            texts.append([])
            form_of.append(form)
            if isinstance(nid, int):
                index_of_node[nid] = me
            for child in reversed(node.get("childNodes") or []):
                stack.append((child, me, form, in_head, False))
            continue
        if not (skipped or in_head or tag in _SKIP_TAGS or tag == "html"):
            if len(elements) >= MAX_ELEMENTS:
                dropped += 1
            else:
                me = len(elements)
                el = DomElement(node_id=nid if isinstance(nid, int) else -1, tag=tag, parent=parent)
                elements.append(el)
                attrs_of.append(attrs)
                texts.append([])
                form_of.append(form)
                if isinstance(nid, int):
                    index_of_node[nid] = me
                ident = attrs.get("id")
                if isinstance(ident, str) and ident:
                    id_count[ident] = id_count.get(ident, 0) + 1
                    ids.setdefault(ident, me)
                if tag == "label" and isinstance(attrs.get("for"), str):
                    label_for.setdefault(attrs["for"], me)
                if tag == "form":
                    name = attrs.get("id") or attrs.get("name")
                    child_form = name if isinstance(name, str) and name else "form"
                # svg internals are not mapped: they point at the <svg> element
                if tag == "svg":
                    child_skipped = True
        elif isinstance(nid, int) and parent >= 0:
            index_of_node[nid] = parent
        # children of skipped subtrees get no rows of their own; their ids map to ``me``
        for child in reversed(node.get("childNodes") or []):
            stack.append((child, me, child_form, child_head, child_skipped))

    # Text content bottom-up (children come after parents in document order).
    full_text = [""] * len(elements)
    child_texts: list[list[str]] = [[] for _ in elements]
    for i in range(len(elements) - 1, -1, -1):
        kids = child_texts[i]
        own = "".join(texts[i])
        full_text[i] = (own + " " + " ".join(reversed(kids)))[:400] if kids else own[:400]
        p = elements[i].parent
        if p >= 0 and full_text[i] and elements[i].tag != "option":  # options: not the select's text
            child_texts[p].append(full_text[i])

    nth: dict[tuple[int, str], int] = {}
    attr_keys = _stable_attribute_keys(elements, attrs_of, mask)
    for i, el in enumerate(elements):
        attrs = attrs_of[i]
        tag = el.tag
        key = (el.parent, tag)
        nth[key] = nth.get(key, 0) + 1
        ident = attrs.get("id")
        if isinstance(ident, str) and ident and id_count.get(ident) == 1 and _CSS_IDENT.match(ident):
            el.selector = "#" + ident
        elif attr_keys[i]:
            el.selector = attr_keys[i]
        else:
            own = f"{tag}:nth-of-type({nth[key]})"
            if tag == "body":
                own = "body"
            el.selector = own if el.parent < 0 else f"{elements[el.parent].selector} > {own}"
        itype = _text(attrs.get("type")).lower() if tag == "input" else ""
        if tag == "input" and not itype:
            itype = "text"
        el.input_type = itype
        role = _text(attrs.get("role")).strip().lower()
        if not role:
            role = _INPUT_ROLES.get(itype, "textbox") if tag == "input" else _IMPLICIT_ROLES.get(tag, "")
            if tag == "a" and "href" not in attrs:
                role = "text"
        el.role = role
        el.clickable = (
            tag in _CLICKABLE_TAGS or (tag == "input" and itype != "hidden") or role in _CLICKABLE_ROLES
            or any(isinstance(k, str) and k.lower() == "onclick" for k in attrs)
        )
        is_field = tag in _FIELD_TAGS and itype not in _NOT_FIELD_TYPES
        if is_field:
            name = attrs.get("name") or attrs.get("id")
            el.field = _clean(name, 80, mask) if isinstance(name, str) and name else tag
        if tag in _FIELD_TAGS or tag == "button":
            owner = attrs.get("form")
            if isinstance(owner, str) and owner:
                el.form = owner
            else:
                el.form = form_of[i]
        el.submit = (tag == "button" and _text(attrs.get("type")).lower() in ("", "submit")) or (
            tag == "input" and itype in ("submit", "image"))
        autocomplete = _text(attrs.get("autocomplete")).lower()
        el.sensitive = is_field and (
            itype in _SENSITIVE_TYPES or autocomplete.startswith("cc-")
            or autocomplete in ("email", "tel", "current-password", "new-password", "one-time-code")
            or bool(_SENSITIVE_NAME.search(f"{_text(attrs.get('name'))} {_text(attrs.get('id'))}"))
        )
        if tag == "a" and isinstance(attrs.get("href"), str):
            el.href = scrub_url(attrs["href"]) if mask else attrs["href"]
        if tag == "option":
            text = " ".join(full_text[i].split())
            if el.option_value == "\0text":
                el.option_value = text
            el.role, el.clickable, el.field, el.form, el.submit, el.sensitive = "option", False, None, None, False, False
            el.label = _clean(text, LABEL_CHARS, mask)
            chosen = attrs_of[el.parent].get("value") if 0 <= el.parent < len(attrs_of) else None
            if isinstance(chosen, str) and chosen.strip() and not chosen.strip("*"):
                # a masked select (rrweb maskInputOptions / maskAllInputs masked its value): its
                # option labels would tell the choices apart; keep neither labels nor values
                el.label = re.sub(r"\S", "*", el.label)
                el.option_value = ""
            continue
        el.label = _label(el, attrs, full_text[i], ids, label_for, elements, full_text, attrs_of, mask)

    tree = DomTree(elements, index_of_node, doc_id, _clean(title, 200, mask), root, dropped)
    tree.title_nodes = frozenset(title_ids)
    return tree


#: Attributes that name an element stably across widths, after ``id`` (issue 11: the heatmap
#: matches a click's element on a screenshot of another width by its selector).
_KEY_ATTRIBUTES = ("data-testid", "name", "aria-label")
_KEY_VALUE = re.compile(r'^[^"\\\n\r]{1,80}$')


def _stable_attribute_keys(elements: list[DomElement], attrs_of: list[dict], mask: bool) -> list[str]:
    """Per element, ``[data-testid="x"]``, ``tag[name="x"]`` or ``[aria-label="x"]`` where that value
    is unique in the document (the first such attribute wins), else "". With masking on, a value
    that masking would change (an e-mail address, a card-like number) is never a key."""
    seen: dict[tuple[str, str], int] = {}
    for attrs in attrs_of:
        for a in _KEY_ATTRIBUTES:
            v = attrs.get(a)
            if isinstance(v, str):
                seen[(a, v)] = seen.get((a, v), 0) + 1
    keys = []
    for el, attrs in zip(elements, attrs_of):
        key = ""
        for a in _KEY_ATTRIBUTES:
            v = attrs.get(a)
            if isinstance(v, str) and seen.get((a, v)) == 1 and _KEY_VALUE.match(v) \
                    and not (mask and scrub(v) != v):
                key = f'{el.tag}[name="{v}"]' if a == "name" else f'[{a}="{v}"]'
                break
        keys.append(key)
    return keys


def _label(el: DomElement, attrs: dict, text: str, ids: dict[str, int], label_for: dict[str, int],
           elements: list[DomElement], full_text: list[str], attrs_of: list[dict], mask: bool) -> str:
    aria = attrs.get("aria-label")
    if isinstance(aria, str) and aria.strip():
        return _clean(aria, mask=mask)
    tag = el.tag
    if tag in _FIELD_TAGS:
        if el.input_type in _BUTTON_INPUTS and isinstance(attrs.get("value"), str):
            return _clean(attrs["value"], mask=mask)
        ident = attrs.get("id")
        if isinstance(ident, str) and ident in label_for:
            return _clean(full_text[label_for[ident]], mask=mask)
        p = el.parent
        while p >= 0:
            if elements[p].tag == "label":
                return _clean(full_text[p], mask=mask)
            p = elements[p].parent
        by = attrs.get("aria-labelledby")
        if isinstance(by, str):
            parts = [full_text[ids[b]] for b in by.split() if b in ids]
            if parts:
                return _clean(" ".join(parts), mask=mask)
        for key in ("placeholder", "title"):
            if isinstance(attrs.get(key), str) and attrs[key].strip():
                return _clean(attrs[key], mask=mask)
        return el.field or ""
    if tag == "img":
        alt = attrs.get("alt")
        return _clean(alt, mask=mask) if isinstance(alt, str) else ""
    if text.strip():
        return _clean(text, mask=mask)
    ttl = attrs.get("title")
    return _clean(ttl, mask=mask) if isinstance(ttl, str) else ""


# -- HTML for rendering --------------------------------------------------------------------

def _attr_value(value) -> str | None:
    if value is None or value is False:
        return None
    if value is True:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    return None


#: how masked text (``hsMasked`` text nodes, see ``privacy.TextPrivacy``) and blocked elements
#: (``hsBlocked``; their content ``hsHidden``) are drawn in screenshots
MASK_STYLE = "background:#8d939b !important;color:transparent !important;border-radius:2px"
BLOCK_STYLE = ("background:#c8cbd0 !important;background-image:none !important;color:transparent !important;"
               "border-color:#c8cbd0 !important;box-shadow:none !important;")


def render_html(root: dict, own_index: dict[int, int]) -> str:
    """Rebuild static HTML from a serialized node; elements whose node id is in ``own_index``
    get ``data-hs-id=<own_index[id]>``. Scripts, event handlers, refreshes and typed values
    are left out; inlined stylesheets (``_cssText``) become ``<style>`` elements."""
    out: list[str] = []
    # stack of (node, closing) where closing is a string to emit after the children
    stack: list = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if not isinstance(item, dict):
            continue
        ntype = item.get("type")
        if ntype == 0:
            stack.extend(reversed(item.get("childNodes") or []))
        elif ntype == 1:
            out.append("<!DOCTYPE html>")
        elif ntype == 3:
            text = _text(item.get("textContent"))
            if item.get("isStyle"):
                out.append(text.replace("</", "<\\/"))
            elif item.get("hsMasked") and text.strip():  # privacy: masked text as a solid bar
                out.append(f'<span style="{MASK_STYLE}">' + _html.escape(text, quote=False) + "</span>")
            else:
                out.append(_html.escape(text, quote=False))
        elif ntype == 4:
            continue
        elif ntype == 2:
            tag = _text(item.get("tagName")).lower()
            if not tag or not _ATTR_NAME.match(tag) or tag in _NO_RENDER:
                continue
            attrs = item.get("attributes") or {}
            if not isinstance(attrs, dict):
                continue
            if tag == "link":
                css = attrs.get("_cssText")
                if isinstance(css, str):
                    out.append("<style>" + css.replace("</", "<\\/") + "</style>")
                continue
            if tag == "meta":
                if "charset" in attrs or _text(attrs.get("name")).lower() == "viewport":
                    pass
                else:
                    continue
            if tag == "style" and isinstance(attrs.get("_cssText"), str):
                out.append("<style>" + attrs["_cssText"].replace("</", "<\\/") + "</style>")
                continue
            parts = [tag]
            itype = _text(attrs.get("type")).lower()
            style_extra = ""
            for name, value in attrs.items():
                if not isinstance(name, str) or not _ATTR_NAME.match(name):
                    continue
                low = name.lower()
                if low.startswith("on") or low.startswith("_") or low in ("srcdoc",):
                    continue
                if low in ("rr_width", "rr_height"):
                    v = _attr_value(value)
                    if v:
                        style_extra += f"{'width' if low == 'rr_width' else 'height'}:{v};"
                    continue
                if low.startswith("rr_"):
                    continue
                if low == "value" and (tag == "textarea" or (tag == "input" and itype not in _VALUE_KEEPING_TYPES)):
                    continue  # never paint typed text into a snapshot
                if tag == "iframe" and low == "src":
                    continue
                v = _attr_value(value)
                if v is None:
                    continue
                if low == "style" and style_extra:
                    v = v + ";" + style_extra
                    style_extra = ""
                parts.append(f'{name}="{_html.escape(v, quote=True)}"')
            if style_extra:
                parts.append(f'style="{_html.escape(style_extra, quote=True)}"')
            privacy_style = (BLOCK_STYLE if item.get("hsBlocked") else "") + (
                "visibility:hidden !important;" if item.get("hsHidden") and not item.get("hsBlocked") else "")
            if privacy_style:
                for k, part in enumerate(parts):
                    if part.lower().startswith('style="'):
                        parts[k] = part[:-1] + _html.escape(";" + privacy_style, quote=True) + '"'
                        break
                else:
                    parts.append(f'style="{_html.escape(privacy_style, quote=True)}"')
            nid = item.get("id")
            if isinstance(nid, int) and nid in own_index:
                parts.append(f'data-hs-id="{own_index[nid]}"')
            out.append("<" + " ".join(parts) + ">")
            if tag in _VOID:
                continue
            stack.append(f"</{tag}>")
            if tag in ("textarea", "iframe"):
                continue  # typed text / a nested document: not rendered
            stack.extend(reversed(item.get("childNodes") or []))
    return "".join(out)


# -- replaying mutations (to measure where an element was at a later moment) --------------

class LiveDom:
    """A copy of a FullSnapshot tree that rrweb Mutation data can be applied to."""

    def __init__(self, root: dict):
        import copy

        self.root = copy.deepcopy(root)
        self.nodes: dict[int, dict] = {}
        self.parent: dict[int, int] = {}
        self._index(self.root, None)

    def _index(self, node: dict, parent_id) -> None:
        stack = [(node, parent_id)]
        while stack:
            n, pid = stack.pop()
            if not isinstance(n, dict):
                continue
            nid = n.get("id")
            if isinstance(nid, int):
                self.nodes[nid] = n
                if isinstance(pid, int):
                    self.parent[nid] = pid
            kids = n.get("childNodes")
            if isinstance(kids, list):
                stack.extend((k, nid) for k in kids)

    def apply(self, d: dict) -> None:
        """Apply one Mutation's removes, adds, texts and attributes (best effort, never raises)."""
        try:
            self._apply(d)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            pass

    def _apply(self, d: dict) -> None:
        for r in d.get("removes") or []:
            nid = r.get("id")
            pid = self.parent.get(nid, r.get("parentId"))
            parent = self.nodes.get(pid)
            if parent is not None and isinstance(parent.get("childNodes"), list):
                parent["childNodes"] = [c for c in parent["childNodes"] if not (isinstance(c, dict) and c.get("id") == nid)]
        pending = list(d.get("adds") or [])
        for _ in range(3):  # an add may name a parent that a later add creates
            later = []
            for a in pending:
                parent = self.nodes.get(a.get("parentId"))
                node = a.get("node")
                if parent is None or not isinstance(node, dict):
                    later.append(a)
                    continue
                kids = parent.setdefault("childNodes", [])
                # a deep copy: later adds insert into this node's childNodes, which must not
                # write into the recording's event (the next replay would add them twice)
                node = _copy_node(node)
                pos = len(kids)
                nxt = a.get("nextId")
                if nxt is not None:
                    for j, c in enumerate(kids):
                        if isinstance(c, dict) and c.get("id") == nxt:
                            pos = j
                            break
                kids.insert(pos, node)
                self._index(node, a.get("parentId"))
            if not later or len(later) == len(pending):
                break
            pending = later
        for tx in d.get("texts") or []:
            node = self.nodes.get(tx.get("id"))
            if node is not None:
                node["textContent"] = tx.get("value") or ""
        for at in d.get("attributes") or []:
            node = self.nodes.get(at.get("id"))
            if node is None or not isinstance(at.get("attributes"), dict):
                continue
            attrs = node.setdefault("attributes", {})
            for name, value in at["attributes"].items():
                if value is None:
                    attrs.pop(name, None)
                elif isinstance(value, dict) and name == "style":
                    attrs["style"] = _merge_style(attrs.get("style"), value)
                else:
                    attrs[name] = value


def _copy_node(node: dict) -> dict:
    """A copy of a serialized node and its subtree (lists and dicts copied, iteratively)."""
    import copy

    out = copy.copy(node)
    stack = [out]
    while stack:
        n = stack.pop()
        kids = n.get("childNodes")
        n["childNodes"] = [copy.copy(k) if isinstance(k, dict) else k for k in kids] if isinstance(kids, list) else []
        if isinstance(n.get("attributes"), dict):
            n["attributes"] = dict(n["attributes"])
        stack.extend(k for k in n["childNodes"] if isinstance(k, dict))
    return out


def _merge_style(old, diff: dict) -> str:
    """rrweb 2 sends style changes as {property: value | false}."""
    props: dict[str, str] = {}
    if isinstance(old, str):
        for decl in old.split(";"):
            if ":" in decl:
                k, v = decl.split(":", 1)
                props[k.strip()] = v.strip()
    for k, v in diff.items():
        if v is False or v is None:
            props.pop(k, None)
        elif isinstance(v, list) and v:
            props[k] = " ".join(str(x) for x in v if isinstance(x, str))
        else:
            props[k] = str(v)
    return "; ".join(f"{k}: {v}" for k, v in props.items())

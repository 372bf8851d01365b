"""Page groups: the pages a user means by "a page" when one template serves many URLs.

A capture stores one page per recorded URL (``pages.url``). Analyses take a **page group**:
the pages one URL pattern covers. Every page belongs to exactly one group:

1. the first saved pattern (``hindsight pages add``; in the capture or its sidecar, see
   :mod:`hindsight.store.page_patterns`) that matches its URL, else
2. its **default pattern**: scheme, host and path, with

   - the query string dropped, except the keys kept (none by default; ``hindsight pages keep
     CAPTURE KEY`` keeps ``?KEY=value`` apart, e.g. ``?page=`` routing),
   - the fragment dropped unless it is a hash route (``#/checkout``, ``#!/checkout``: single
     page apps route with it; an in-page anchor such as ``#pricing`` is not a route).

So ``/product.html?id=1`` and ``/product.html?id=2&utm_source=x`` are one page,
``/product.html#/checkout`` another, and ``/landing.html#pricing`` is ``/landing.html``.

Pattern syntax (saved patterns, ``--page``, funnel steps, filters): a URL or a path (starting
with ``/``; any host then), where ``*`` is any text inside one path segment and ``**`` any
text across segments (``/product/*``, ``/blog/**``); ``?key=value`` pairs must be present
(value ``*``: any); a ``#/route`` part (``*`` allowed) matches that hash route, and a pattern
without one matches only URLs that are not on a hash route (the routes stay separate).

Everything here is pure (lists of ``Page`` in, groups out) except :func:`capture_groups`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import numpy as np

#: Query keys kept in default patterns unless the capture says otherwise: none (query
#: strings are mostly tracking and ids of one template).
DEFAULT_KEEP_QUERY: tuple[str, ...] = ()
ROUTE_PREFIXES = ("/", "!/")
#: Limits on a pattern (a regex of k stars can take O(n^k) on an n-character URL).
MAX_PATTERN_CHARS = 2000
MAX_STARS = 8


def _split(url: str):
    try:
        return urlsplit(url.strip())
    except ValueError:
        return None


def route_of(fragment: str) -> str:
    """The hash route of a URL fragment (``/checkout`` of ``#/checkout``), '' if it is not one."""
    return fragment if fragment.startswith(ROUTE_PREFIXES) else ""


def default_pattern(url: str, keep_query: tuple[str, ...] | frozenset[str] = DEFAULT_KEEP_QUERY) -> str:
    """The default pattern (group key) of a page URL; see the module docstring."""
    parts = _split(url)
    if parts is None:
        return url
    path = parts.path or "/"
    key = f"{parts.scheme}://{parts.netloc}{path}" if parts.netloc else path
    if keep_query and parts.query:
        kept = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in keep_query)
        if kept:
            key += "?" + "&".join(f"{k}={v}" for k, v in kept)
    route = route_of(parts.fragment)
    if route:
        key += "#" + route
    return key


def _glob(text: str) -> str:
    out = []
    for piece in re.split(r"(\*\*|\*)", text):
        out.append(".*" if piece == "**" else "[^/]*" if piece == "*" else re.escape(piece))
    return "".join(out)


@dataclass(frozen=True)
class UrlPattern:
    """A parsed pattern; :meth:`matches` tells whether a page URL is covered."""

    text: str
    host: str | None          # scheme://host, or None for any
    path: re.Pattern
    query: tuple[tuple[str, str], ...]
    route: re.Pattern | None  # None: URLs not on a hash route only

    @classmethod
    def parse(cls, text: str) -> "UrlPattern":
        text = text.strip()
        if not text:
            raise ValueError("an empty page pattern")
        if len(text) > MAX_PATTERN_CHARS or text.count("*") > MAX_STARS:
            raise ValueError(f"page pattern {text[:60]!r}... is too long (at most {MAX_PATTERN_CHARS} "
                             f"characters and {MAX_STARS} *)")
        if "://" not in text and not text.startswith("/"):
            raise ValueError(f"page pattern {text!r} must be a URL (https://host/path) or a path starting with /")
        rest, _, frag = text.partition("#")
        rest, _, query = rest.partition("?")
        host = None
        if "://" in rest:
            scheme, _, tail = rest.partition("://")
            netloc, slash, path = tail.partition("/")
            host = f"{scheme.lower()}://{netloc.lower()}"
            path = "/" + path if slash else "/"
        else:
            path = rest
        pairs = tuple((k, v) for k, v in parse_qsl(query, keep_blank_values=True))
        route = route_of(frag)
        if frag and not route:
            raise ValueError(f"page pattern {text!r}: only hash routes (#/... or #!/...) can be matched; "
                             "other fragments are in-page anchors and are ignored")
        return cls(text, host, re.compile(_glob(path) + r"\Z"), pairs,
                   re.compile(_glob(route) + r"\Z") if route else None)

    @property
    def is_glob(self) -> bool:
        return "*" in self.text

    def matches(self, url: str) -> bool:
        parts = _split(url)
        if parts is None:
            return False
        if self.host is not None and f"{parts.scheme.lower()}://{parts.netloc.lower()}" != self.host:
            return False
        if not self.path.match(parts.path or "/"):
            return False
        if self.query:
            have = dict(parse_qsl(parts.query, keep_blank_values=True))
            for k, v in self.query:
                if k not in have or (v != "*" and have[k] != v):
                    return False
        route = route_of(parts.fragment)
        if self.route is None:
            return not route
        return bool(route) and bool(self.route.match(route))


@dataclass(frozen=True)
class PageGroup:
    """One "page" of the analyses: the pages (URLs) a pattern covers.

    key : the pattern text (a saved pattern, or the default pattern of its URLs)
    page_ids, urls : the capture's pages in it (page order)
    saved : True for a saved pattern, False for a default one
    """

    key: str
    page_ids: tuple[int, ...]
    urls: tuple[str, ...]
    saved: bool = False
    title: str = ""

    @property
    def label(self) -> str:
        """What a page chooser shows: the pattern, with how many URLs it groups."""
        n = len(self.urls)
        return self.key if n == 1 and self.urls[0] == self.key else f"{self.key}  ({n} URL{'s' if n != 1 else ''})"

    @property
    def chooser_text(self) -> str:
        """A page chooser's line: the path (what tells pages apart), the URL count when it
        groups several, then the title."""
        parts = _split(self.key)
        path = (parts.path or "/") if parts is not None and parts.netloc else self.key
        if parts is not None and parts.netloc:
            path += ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
        n = len(self.urls)
        text = path + (f"  ({n} URLs)" if n > 1 else "")
        return f"{text}  ·  {self.title}" if self.title else text

    @property
    def tooltip(self) -> str:
        """The title, the pattern and every URL in the group (the first 20)."""
        lines = [self.title] if self.title else []
        if self.saved or len(self.urls) != 1 or self.urls[0] != self.key:
            lines.append(f"pattern {self.key}")
        lines += list(self.urls[:20]) + ([f"... {len(self.urls) - 20} more"] if len(self.urls) > 20 else [])
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"pattern": self.key, "saved": self.saved, "page_ids": list(self.page_ids), "urls": list(self.urls),
                "title": self.title}


@dataclass
class PageGroups:
    """All groups of a capture's pages, and which group each page is in."""

    groups: list[PageGroup]
    patterns: tuple[str, ...] = ()
    keep_query: tuple[str, ...] = DEFAULT_KEEP_QUERY
    urls: dict[int, str] = field(default_factory=dict)  # page_id -> url
    #: saved patterns that are not valid (edited by hand, a newer version's): (text, reason); ignored
    invalid: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        self.by_key = {g.key: g for g in self.groups}
        self.of_page = {pid: g for g in self.groups for pid in g.page_ids}

    def __iter__(self):
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def group_of(self, page_id: int) -> PageGroup | None:
        return self.of_page.get(int(page_id))

    def page_group_index(self, page_ids: np.ndarray) -> np.ndarray:
        """(n,) int64 group index per page id (-1 for unknown pages), vectorised."""
        page_ids = np.asarray(page_ids, dtype=np.int64)
        if not self.of_page:
            return np.full(page_ids.shape, -1, np.int64)
        top = max(int(page_ids.max(initial=0)), max(self.of_page)) + 1
        table = np.full(top, -1, np.int64)
        index = {g.key: i for i, g in enumerate(self.groups)}
        for pid, g in self.of_page.items():
            table[pid] = index[g.key]
        return np.where(page_ids >= 0, table[np.clip(page_ids, 0, top - 1)], -1)

    def resolve(self, text: str) -> PageGroup:
        """The group ``text`` names: a group's pattern, a page URL (its group), or a new pattern
        (``*``, a path): the pages it matches. ``KeyError`` with a one-line reason if none."""
        text = text.strip()
        if text in self.by_key:
            return self.by_key[text]
        for pid, url in self.urls.items():
            if url == text:
                return self.of_page[pid]
        key = default_pattern(text, self.keep_query)
        if key in self.by_key and "*" not in text:
            return self.by_key[key]
        try:
            pat = UrlPattern.parse(text)
        except ValueError as exc:
            raise KeyError(f"no page {text!r} ({exc}); pages: {self.known()}") from None
        ids = tuple(pid for pid, url in self.urls.items() if pat.matches(url))
        if not ids:
            raise KeyError(f"no page {text!r} (no URL matches the pattern); pages: {self.known()}")
        return PageGroup(text, ids, tuple(self.urls[i] for i in ids), saved=False)

    def known(self, limit: int = 12) -> str:
        keys = [g.key for g in self.groups]
        more = f", ... ({len(keys)} in all)" if len(keys) > limit else ""
        return ", ".join(keys[:limit]) + more if keys else "none"


def group_pages(pages, patterns: tuple[str, ...] | list[str] = (),
                keep_query: tuple[str, ...] = DEFAULT_KEEP_QUERY) -> PageGroups:
    """Group ``pages`` (records with ``page_id``, ``url``, ``title``): saved ``patterns`` first
    (in order; the first match wins), then each remaining page by its default pattern.
    Groups come in the order of their first page; saved patterns matching nothing are kept
    (empty) so a chooser can still show them."""
    parsed, invalid = [], []
    for p in patterns:
        try:
            parsed.append(UrlPattern.parse(p))
        except ValueError as exc:
            invalid.append((p, str(exc)))
    patterns = tuple(p.text for p in parsed)
    members: dict[str, list] = {}
    saved: dict[str, bool] = {}
    for p in sorted(pages, key=lambda p: p.page_id):
        key = next((pat.text for pat in parsed if pat.matches(p.url)), None)
        if key is None:
            key = default_pattern(p.url, tuple(keep_query))
            saved.setdefault(key, False)
        else:
            saved[key] = True
        members.setdefault(key, []).append(p)
    for pat in parsed:
        if pat.text not in members:
            members[pat.text] = []
            saved[pat.text] = True
    groups = [PageGroup(key, tuple(p.page_id for p in ps), tuple(p.url for p in ps), saved[key],
                        next((p.title for p in ps if p.title), ""))
              for key, ps in members.items()]
    return PageGroups(groups, tuple(patterns), tuple(keep_query), {p.page_id: p.url for p in pages}, tuple(invalid))


def capture_groups(capture) -> PageGroups:
    """The page groups of an open capture, with its saved patterns and kept query keys."""
    from hindsight.store import Capture
    from hindsight.store.page_patterns import SavedPatterns, dataset_store, saved_patterns

    # A dataset (or a partition of one, on a worker) has its saved patterns in it (page_patterns/).
    keeps = isinstance(capture, Capture) or dataset_store(capture) is not None
    saved = saved_patterns(capture) if keeps else SavedPatterns()
    return group_pages(capture.pages(), saved.patterns, saved.keep_query)


def save_pattern(capture, text: str):
    """Check ``text`` (``ValueError`` with the reason) and save it with the capture
    (:func:`hindsight.store.page_patterns.add_pattern`)."""
    from hindsight.store.page_patterns import add_pattern

    return add_pattern(capture, UrlPattern.parse(text).text)


def heatmap_pages(group: PageGroup) -> tuple[int, ...]:
    """The seam to the heatmap engine: the page ids whose clicks a group's heatmap draws
    (the engine projects them through their elements onto the chosen screenshot)."""
    return group.page_ids


def expand_filter_pages(groups: PageGroups, flt):
    """``flt`` with each visited / not-visited page (a URL or pattern) replaced by its page
    group's URLs (a tuple: visiting any of them counts). ``KeyError`` for a page none matches."""
    def expand(entries):
        return tuple(e if isinstance(e, tuple) else groups.resolve(e).urls for e in entries)

    if not flt.visited and not flt.not_visited:
        return flt
    return flt.replace(visited=expand(flt.visited), not_visited=expand(flt.not_visited))

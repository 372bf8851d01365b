"""Scrubbing personal data from the text an import keeps (labels, messages, names, URLs).

Typed input is never kept at all (events store lengths only); this module handles the
*other* text that comes with a recording and may still hold personal data: e-mail
addresses and card-like numbers (13-19 digits, optionally grouped with spaces or dashes)
are replaced by placeholders. URLs keep their path but lose such values from the query.
"""

from __future__ import annotations

import re
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

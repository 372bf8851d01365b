"""Segment pairs for compare mode: two SessionFilters derived from the current one.

Each comparison narrows the user's current filter two ways (A and B), so a compare always
stays inside the segment the user is looking at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hindsight.store import SessionFilter


@dataclass(frozen=True)
class Comparison:
    key: str
    title: str
    label_a: str
    label_b: str
    split: Callable[[SessionFilter, object], tuple[SessionFilter, SessionFilter]]


def _converted(flt: SessionFilter, _cap) -> tuple[SessionFilter, SessionFilter]:
    return flt.replace(converted=True), flt.replace(converted=False)


def _paid_vs_organic(flt: SessionFilter, _cap) -> tuple[SessionFilter, SessionFilter]:
    return flt.replace(source=("paid",)), flt.replace(source=("organic",))


def _filter_vs_all(flt: SessionFilter, _cap) -> tuple[SessionFilter, SessionFilter]:
    return flt, SessionFilter()


def _later_vs_earlier(flt: SessionFilter, cap) -> tuple[SessionFilter, SessionFilter]:
    first, last = cap.date_range()
    if first is None:
        return flt, flt
    mid = (first + last) // 2
    return flt.replace(start_from_ms=mid), flt.replace(start_before_ms=mid)


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("converted", "Converted vs not converted", "Converted", "Not converted", _converted),
    Comparison("source", "Paid vs organic traffic", "Paid", "Organic", _paid_vs_organic),
    Comparison("period", "Second half vs first half of the dates", "Later", "Earlier", _later_vs_earlier),
    Comparison("filter", "This filter vs all sessions", "This filter", "All sessions", _filter_vs_all),
)
BY_KEY = {c.key: c for c in COMPARISONS}


def comparison_filters(key: str, flt: SessionFilter, capture) -> tuple[SessionFilter, SessionFilter]:
    """Filters A and B of comparison ``key`` within ``flt``."""
    try:
        return BY_KEY[key].split(flt, capture)
    except KeyError:
        raise ValueError(f"no comparison {key!r}; choose from {', '.join(BY_KEY)}") from None

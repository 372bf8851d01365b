"""Patterns: a bookmark tag used across sessions, with a hypothesis and an ICE score.

A tag becomes a pattern as soon as it is used; it is *worth a hypothesis* once it was seen in
``WORTH_A_HYPOTHESIS`` (3) or more distinct sessions. The ICE score is the **mean** of impact,
confidence and ease (each 1-10), so it reads on the same 1-10 scale as its parts (Sean
Ellis's original ICE); a pattern without all three has no score and sorts after scored ones.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Distinct sessions from which a pattern is flagged "worth a hypothesis".
WORTH_A_HYPOTHESIS = 3

#: The hypothesis wording the editor proposes (Craig Sullivan's simple hypothesis kit).
HYPOTHESIS_TEMPLATE = ("We observed X. We believe that changing Y will improve Z because W.")

ICE_MIN, ICE_MAX = 1, 10


def ice_score(impact: int | None, confidence: int | None, ease: int | None) -> float | None:
    """The ICE score: mean of the three 1-10 ratings, rounded to 0.1; None if one is missing.

    >>> ice_score(8, 6, 4)
    6.0
    """
    parts = (impact, confidence, ease)
    if any(p is None for p in parts):
        return None
    return round(sum(int(p) for p in parts) / 3.0, 1)


def check_rating(name: str, value: int | None) -> int | None:
    """``value`` as an int in 1..10 (None stays None), or ``ValueError`` naming the rating."""
    if value is None:
        return None
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number from {ICE_MIN} to {ICE_MAX}, not {value!r}") from None
    if not ICE_MIN <= v <= ICE_MAX:
        raise ValueError(f"{name} must be from {ICE_MIN} to {ICE_MAX}, not {v}")
    return v


def normalise_tag(tag: str) -> str:
    """A tag as stored: surrounding space removed, inner runs of white space made one space."""
    return " ".join(str(tag).split())


@dataclass(frozen=True)
class Pattern:
    """One tag and what was found and decided about it.

    bookmarks : number of bookmarks with the tag
    sessions : number of distinct sessions among them
    impact, confidence, ease : 1-10, or None while not rated
    """

    tag: str
    hypothesis: str = ""
    impact: int | None = None
    confidence: int | None = None
    ease: int | None = None
    bookmarks: int = 0
    sessions: int = 0
    updated_ms: int = 0

    @property
    def ice(self) -> float | None:
        return ice_score(self.impact, self.confidence, self.ease)

    @property
    def worth_a_hypothesis(self) -> bool:
        return self.sessions >= WORTH_A_HYPOTHESIS

    def as_dict(self) -> dict:
        return {"tag": self.tag, "sessions": self.sessions, "bookmarks": self.bookmarks,
                "worth_a_hypothesis": self.worth_a_hypothesis, "hypothesis": self.hypothesis,
                "impact": self.impact, "confidence": self.confidence, "ease": self.ease, "ice": self.ice}


def sort_key(p: Pattern) -> tuple:
    """Highest ICE first (unscored last), then most sessions, then tag."""
    ice = p.ice
    return (ice is None, -(ice or 0.0), -p.sessions, p.tag.lower())


def sort_patterns(patterns) -> list[Pattern]:
    return sorted(patterns, key=sort_key)

"""Conversion funnels: ordered steps (page visits and named custom events), how many
sessions reach each step in order, and who dropped off where.

A session reaches step k when it reaches step k - 1 and then, strictly later, visits the
step's page (a pageview's start) or fires the step's custom event. Each step takes the
earliest occurrence after the previous step (greedy, which finds an ordered path whenever
one exists). Everything runs on whole-capture arrays with one ``searchsorted`` per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hindsight.analytics.page_groups import capture_groups
from hindsight.analytics.signals import load_events
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind
from hindsight.store.reader import Capture

EVENT_PREFIX = "event:"
_T_BITS = 32


@dataclass(frozen=True)
class FunnelStep:
    """``kind`` "page" (value: a page URL or pattern: its page group) or "event" (value: custom event name)."""

    kind: str
    value: str

    @property
    def label(self) -> str:
        return self.value if self.kind == "page" else f"{EVENT_PREFIX}{self.value}"

    def __str__(self) -> str:
        return self.label


def parse_step(text: str) -> FunnelStep:
    """``event:NAME`` is a custom event step; anything else a page URL."""
    text = text.strip()
    if text.startswith(EVENT_PREFIX):
        name = text[len(EVENT_PREFIX):].strip()
        if not name:
            raise ValueError("an event step needs a name: event:NAME")
        return FunnelStep("event", name)
    if not text:
        raise ValueError("empty funnel step")
    return FunnelStep("page", text)


@dataclass(frozen=True)
class StepResult:
    step: FunnelStep
    sessions: int           # sessions reaching this step in order
    from_previous: float    # fraction of the previous step's sessions (1.0 for the first)
    from_first: float       # fraction of the first step's sessions
    dropped: int            # reached the previous step, not this one (0 for the first)

    def as_dict(self) -> dict:
        return {"step": self.step.label, "kind": self.step.kind, "value": self.step.value,
                "sessions": self.sessions, "conversion_from_previous": self.from_previous,
                "conversion_from_first": self.from_first, "dropped": self.dropped}


@dataclass(frozen=True)
class FunnelReport:
    """Funnel figures plus, per step, which sessions reached it and when.

    session_ids : (s,) int64, the sessions considered (sorted)
    reached_t : (k, s) int64, ms since session start each session reached each step, -1 if not
    """

    steps: tuple[FunnelStep, ...]
    results: tuple[StepResult, ...]
    session_ids: np.ndarray
    reached_t: np.ndarray

    def reached_sessions(self, step: int) -> np.ndarray:
        return self.session_ids[self.reached_t[step] >= 0]

    def dropped_sessions(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Sessions that reached step ``step - 1`` but not ``step``, and when they reached
        the previous step (ms since session start, where a replay should begin)."""
        if step <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        m = (self.reached_t[step - 1] >= 0) & (self.reached_t[step] < 0)
        return self.session_ids[m], self.reached_t[step - 1][m]

    def as_dict(self) -> dict:
        return {"sessions": int(self.session_ids.size), "steps": [r.as_dict() for r in self.results]}


def funnel(capture: Capture, steps, flt: SessionFilter | None = None) -> FunnelReport:
    """Compute a funnel over the capture's sessions (those matching ``flt``).

    Parameters
    ----------
    capture : Capture
    steps : sequence of FunnelStep or str (``URL`` or ``event:NAME``)
    flt : SessionFilter, optional

    Raises
    ------
    CaptureError
        A step names a page or an event the capture does not have.
    ValueError
        No steps.
    """
    steps = check_steps(capture, steps)
    sessions, reached = funnel_reached(capture, steps, flt)
    return funnel_report(steps, sessions, reached)


def check_steps(capture: Capture, steps, known_events: list[str] | None = None) -> tuple[FunnelStep, ...]:
    """The steps parsed, or CaptureError naming a page or event the capture does not have
    (``known_events``: the custom event names, when the caller already has them)."""
    steps = tuple(s if isinstance(s, FunnelStep) else parse_step(s) for s in steps)
    if not steps:
        raise ValueError("a funnel needs at least one step")
    _step_pages(capture, steps)   # every page step names a page group
    if any(s.kind == "event" for s in steps):
        # An unknown event would read as a funnel nobody went through (issue 13, defect 8).
        known = funnel_step_choices(capture)[1] if known_events is None else known_events
        for s in steps:
            if s.kind == "event" and s.value not in known:
                raise CaptureError(capture.path, f"has no event {s.value!r} (events: "
                                   + (", ".join(known) if known else "none recorded") + ")")
    return steps


def _step_pages(capture, steps) -> dict[str, np.ndarray]:
    """Per page step's value, the page ids of its page group; CaptureError for a page none matches."""
    groups = capture_groups(capture)
    pages: dict[str, np.ndarray] = {}
    for s in steps:
        if s.kind == "page" and s.value not in pages:
            try:
                pages[s.value] = np.asarray(groups.resolve(s.value).page_ids, dtype=np.int64)
            except KeyError as exc:
                raise CaptureError(capture.path, f"has {exc.args[0]}") from None
    return pages


def funnel_reached(capture: Capture, steps: tuple[FunnelStep, ...], flt: SessionFilter | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(session ids sorted, (steps, sessions) int64 ms each step was reached, -1 not): per session,
    so the parts of dataset partitions concatenate exactly (see :func:`funnel_report`)."""
    pages = _step_pages(capture, steps)
    names = {text: sid for sid, text in capture.strings().items()}
    ce = load_events(capture, kinds=(EventKind.CUSTOM,), flt=flt)
    sessions = ce.session_ids
    ns = sessions.size
    ev_srank = ce.pv_srank[ce.pv]
    ev_t = ce.events.t.astype(np.int64)

    def occurrences(step: FunnelStep) -> np.ndarray:
        """Sorted keys ``session rank << 32 | t`` of the step's occurrences."""
        if step.kind == "page":
            m = np.isin(ce.pv_page, pages[step.value])
            key = (ce.pv_srank[m] << _T_BITS) | ce.pv_start[m]
        else:
            sid = names.get(step.value)
            if sid is None:
                return np.zeros(0, np.int64)
            m = ce.events.value == sid
            key = (ev_srank[m] << _T_BITS) | ev_t[m]
        return np.sort(key)

    reached = np.full((len(steps), ns), -1, dtype=np.int64)
    prev = np.full(ns, -1, dtype=np.int64)  # time of the previous step; -1 = any time (first step)
    alive = np.ones(ns, dtype=bool)
    ranks = np.arange(ns, dtype=np.int64)
    for k, step in enumerate(steps):
        key = occurrences(step)
        if key.size == 0 or not alive.any():
            break
        q = (ranks << _T_BITS) | (prev + 1)  # strictly after the previous step
        pos = np.searchsorted(key, q, side="left")
        found = pos < key.size
        hit = key[np.minimum(pos, key.size - 1)]
        ok = alive & found & ((hit >> _T_BITS) == ranks)
        reached[k, ok] = hit[ok] & ((1 << _T_BITS) - 1)
        prev = np.where(ok, reached[k], prev)
        alive = ok
    return sessions, reached


def funnel_report(steps: tuple[FunnelStep, ...], sessions: np.ndarray, reached: np.ndarray) -> FunnelReport:
    """The funnel from per-session progress (:func:`funnel_reached`, parts concatenated)."""
    if reached.shape[1] > 1 and np.any(sessions[1:] < sessions[:-1]):
        order = np.argsort(sessions, kind="stable")
        sessions, reached = sessions[order], reached[:, order]
    counts = (reached >= 0).sum(axis=1)
    results = []
    for k, step in enumerate(steps):
        c = int(counts[k])
        prev_c = int(counts[k - 1]) if k else c
        first_c = int(counts[0])
        results.append(StepResult(
            step, c,
            from_previous=(c / prev_c if prev_c else 0.0) if k else 1.0,
            from_first=c / first_c if first_c else 0.0,
            dropped=prev_c - c if k else 0,
        ))
    return FunnelReport(steps, tuple(results), sessions, reached)


def funnel_step_choices(capture: Capture) -> tuple[list[str], list[str]]:
    """Pages (page group patterns: one per template, see ``page_groups``) and custom event
    names a funnel can use (for step editors)."""
    urls = [g.key for g in capture_groups(capture) if g.page_ids]
    ce = load_events(capture, kinds=(EventKind.CUSTOM,))
    strings = capture.strings()
    ids = np.unique(ce.events.value)
    return urls, sorted(strings[int(i)] for i in ids if int(i) in strings)

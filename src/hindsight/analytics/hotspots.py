"""A heatmap's hot spot: the sessions whose clicks fall near a point, aggregated once in the core.

The Heatmap tab lists them when the page is clicked (double-click replays from that click);
tools and tests get the same rows from :func:`hot_spot`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hindsight.store.filters import SessionFilter
from hindsight.text import plural

#: What the listed points are, per heatmap kind (other kinds list all clicks).
POINTS = {"rage": "rage clicks", "dead": "dead clicks"}


@dataclass(frozen=True)
class HotSpotRow:
    """One session at the spot: its click nearest the spot and how many it made there."""

    session_id: int
    t_ms: int          # ms since session start of the nearest click (replay from here)
    clicks: int        # its clicks within the radius
    segment: str       # "A" / "B" in compare mode, "" otherwise
    rage: bool         # it rage-clicked within the radius
    dead: bool         # it dead-clicked within the radius


@dataclass(frozen=True)
class HotSpot:
    """The sessions at (x, y): ``rows`` nearest first (at most ``max_rows``), ``sessions`` in all."""

    kind: str                      # "click", "rage" or "dead": which clicks were looked at
    x: float
    y: float
    radius_px: float
    rows: tuple[HotSpotRow, ...]
    sessions: int
    per_segment: dict

    @property
    def points(self) -> str:
        return POINTS.get(self.kind, "clicks")

    def title(self) -> str:
        """E.g. ``"12 sessions (A 7 · B 5) with clicks within 28 px of (310, 442)"``."""
        return f"{self.summary()} {self.where()}"

    def summary(self) -> str:
        if not self.sessions:
            return f"No {self.points}"
        split = ""
        if set(self.per_segment) - {""}:
            split = f" (A {self.per_segment.get('A', 0):,} · B {self.per_segment.get('B', 0):,})"
        return f"{plural(self.sessions, 'session')}{split} with {self.points}"

    def where(self) -> str:
        return f"within {self.radius_px:.0f} px of ({self.x:,.0f}, {self.y:,.0f})"


def hot_spot(engine, snapshot_id: int, kind: str, x: float, y: float, radius_px: float,
             segments=(("", None),), signals_filter: SessionFilter | None = None,
             max_rows: int = 200) -> HotSpot:
    """The sessions whose clicks (rage or dead clicks for those maps) fall within ``radius_px``
    CSS px of (x, y) on a snapshot.

    Parameters
    ----------
    engine : HeatmapEngine
    kind : the map's kind; "rage" and "dead" list those clicks, any other kind all clicks.
    segments : ``(label, SessionFilter)`` pairs; a session is listed under the first segment it
        clicked in (compare mode: "A" and "B", which never overlap).
    signals_filter : the sessions whose rage / dead clicks at the spot flag a row.
    """
    kind = kind if kind in POINTS else "click"
    first: dict[int, tuple[int, int]] = {}    # session -> (t_ms of its nearest click, order)
    count: dict[int, int] = {}
    segment_of: dict[int, str] = {}
    per_segment: dict[str, int] = {}
    for label, flt in segments:
        for s, t, _pv in engine.sessions_at(snapshot_id, kind, x, y, radius_px, flt):
            if s not in first:
                per_segment[label] = per_segment.get(label, 0) + 1
                first[s] = (t, len(first))
                segment_of[s] = label
            count[s] = count.get(s, 0) + 1
    rage = {s for s, _, _ in engine.sessions_at(snapshot_id, "rage", x, y, radius_px, signals_filter)}
    dead = {s for s, _, _ in engine.sessions_at(snapshot_id, "dead", x, y, radius_px, signals_filter)}
    order = sorted(first, key=lambda s: first[s][1])[:max_rows]
    rows = tuple(HotSpotRow(int(s), int(first[s][0]), count[s], segment_of[s], s in rage, s in dead)
                 for s in order)
    return HotSpot(kind, float(x), float(y), float(radius_px), rows, len(first), per_segment)

"""Per-session signal counts and a frustration score, cached per capture, for ranking and
filtering sessions ("which sessions should I watch?").

The index is computed once per open capture (and settings) and kept in memory; viewing
never writes the capture. Optionally the signal table is also kept in a sidecar file
``<capture>.hindsight-cache`` next to the capture, keyed by the capture's size and mtime
and the settings, so reopening a large capture skips detection. A sidecar that cannot be
written (read-only folder) or read (stale, damaged) is silently ignored.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hindsight.analytics.signals import (
    KIND_CODE,
    SIGNAL_KINDS,
    SignalSettings,
    SignalTable,
    compute_signals,
)
from hindsight.store.filters import SessionFilter
from hindsight.store.reader import Capture

#: Frustration score weight of each signal kind. Clicks that fail outright weigh most
#: (Clarity and FullStory rank rage and error clicks first); scrolling and quick backs can
#: also mean "reading carefully" or "wrong page", so they weigh less.
SCORE_WEIGHTS = {
    "rage_click": 3.0,
    "error_click": 3.0,
    "dead_click": 2.0,
    "thrashed_cursor": 1.5,
    "quick_back": 1.0,
    "excessive_scroll": 1.0,
    "validation_error": 1.0,
}
#: Occurrences of one kind beyond this add nothing to the score (one broken widget clicked
#: ten times should not outrank a session with three different problems).
SCORE_CAP_PER_KIND = 3

SIDECAR_SUFFIX = ".hindsight-cache"
_SIDECAR_VERSION = 1


@dataclass(frozen=True)
class KindSummary:
    """One signal kind over a set of sessions (the Signals panel's row, ``hindsight signals``'s line).

    sessions : sessions with at least one; share : of the set, 0..1; signals : signal rows (a
    rage burst is one); clicks : for rage and dead clicks the clicks behind them, each counted
    (the heatmaps' number), else the same as ``signals``.
    """

    kind: str
    sessions: int
    share: float
    signals: int
    clicks: int


@dataclass(frozen=True)
class FrustrationSummary:
    """Every kind over a set of ``sessions``; ``flagged`` of them have at least one signal."""

    sessions: int
    flagged: int
    kinds: dict

    @property
    def flagged_share(self) -> float:
        return self.flagged / self.sessions if self.sessions else 0.0


@dataclass(frozen=True)
class SessionIndex:
    """Signal counts per session.

    session_ids : (s,) int64, every session of the capture, sorted
    counts : dict kind -> (s,) int32, signals of that kind per session
    score : (s,) float32, frustration score: sum over kinds of
        ``SCORE_WEIGHTS[kind] * min(count, SCORE_CAP_PER_KIND)``
    signals : SignalTable, the signals the counts come from
    """

    session_ids: np.ndarray
    counts: dict[str, np.ndarray]
    score: np.ndarray
    signals: SignalTable

    def __len__(self) -> int:
        return int(self.session_ids.shape[0])

    @classmethod
    def from_signals(cls, session_ids: np.ndarray, signals: SignalTable) -> "SessionIndex":
        session_ids = np.asarray(session_ids, dtype=np.int64)
        row = np.searchsorted(session_ids, signals.session_id)
        if session_ids.size:
            ok = (row < session_ids.size) & (session_ids[np.minimum(row, session_ids.size - 1)] == signals.session_id)
        else:
            ok = np.zeros(len(signals), dtype=bool)
        counts: dict[str, np.ndarray] = {}
        score = np.zeros(session_ids.size, dtype=np.float32)
        for kind in SIGNAL_KINDS:
            m = ok & (signals.kind == KIND_CODE[kind])
            c = np.bincount(row[m], minlength=session_ids.size).astype(np.int32)
            counts[kind] = c
            score += np.float32(SCORE_WEIGHTS[kind]) * np.minimum(c, SCORE_CAP_PER_KIND).astype(np.float32)
        return cls(session_ids, counts, score, signals)

    def clicks(self, kind: str = "dead_click") -> np.ndarray:
        """(s,) int64 per session: the clicks behind its ``kind`` signals (each click of a
        burst counted; the ``count`` column), e.g. its dead clicks under the app's one rule,
        the number the heatmaps show."""
        row = np.searchsorted(self.session_ids, self.signals.session_id)
        m = self.signals.kind == KIND_CODE[kind]
        if self.session_ids.size:
            m &= row < self.session_ids.size
        return np.bincount(row[m], weights=self.signals.count[m], minlength=self.session_ids.size
                           ).astype(np.int64)

    def sessions_with(self, kind: str, min_count: int = 1) -> np.ndarray:
        """Sorted session ids with at least ``min_count`` signals of ``kind``."""
        return self.session_ids[self.counts[kind] >= min_count]

    def summary(self, session_ids=None) -> FrustrationSummary:
        """Per kind: sessions, share, signals and clicks, over ``session_ids`` (default: all)."""
        rows = np.ones(len(self), dtype=bool) if session_ids is None else \
            np.isin(self.session_ids, np.asarray(session_ids, dtype=np.int64))
        n = int(rows.sum())
        any_signal = np.zeros(len(self), dtype=bool)
        kinds = {}
        for kind in SIGNAL_KINDS:
            c = self.counts[kind][rows]
            has = int(np.count_nonzero(c))
            any_signal |= self.counts[kind] > 0
            clicks = int(self.clicks(kind)[rows].sum()) if kind in ("rage_click", "dead_click") else int(c.sum())
            kinds[kind] = KindSummary(kind, has, has / n if n else 0.0, int(c.sum()), clicks)
        return FrustrationSummary(n, int(np.count_nonzero(any_signal & rows)), kinds)

    def sessions_matching(self, kinds, mode: str = "any") -> np.ndarray:
        """Sorted session ids with ``any`` / ``all`` of the signal ``kinds`` (the Frustration
        filter's rule, in the app and the CLI)."""
        if mode not in ("any", "all"):
            raise ValueError(f"mode must be 'any' or 'all', not {mode!r}")
        mask = np.zeros(len(self), dtype=bool) if mode == "any" else np.ones(len(self), dtype=bool)
        for kind in kinds:
            if kind not in self.counts:
                raise ValueError(f"unknown signal kind {kind!r} (known: {', '.join(SIGNAL_KINDS)})")
            has = self.counts[kind] > 0
            mask = (mask | has) if mode == "any" else (mask & has)
        return self.session_ids[mask]

    def sessions_with_any(self, kinds) -> np.ndarray:
        mask = np.zeros(self.session_ids.size, dtype=bool)
        for kind in kinds:
            mask |= self.counts[kind] > 0
        return self.session_ids[mask]

    def totals(self) -> dict[str, dict]:
        """Per kind: number of signals and of sessions having one."""
        return {k: {"signals": int(c.sum()), "sessions": int(np.count_nonzero(c))} for k, c in self.counts.items()}

    def top(self, n: int = 10, session_ids=None) -> np.ndarray:
        """Rows (into ``session_ids``) of the n highest scores, best first; ties by session id.

        ``session_ids`` restricts the ranking to those sessions (e.g. a filtered list).
        """
        rows = np.arange(self.session_ids.size)
        if session_ids is not None:
            rows = rows[np.isin(self.session_ids, np.asarray(session_ids, dtype=np.int64))]
        rows = rows[self.score[rows] > 0]
        order = np.lexsort((self.session_ids[rows], -self.score[rows]))
        return rows[order[:n]]

    def row_of(self, session_id: int) -> int:
        i = int(np.searchsorted(self.session_ids, session_id))
        if i >= self.session_ids.size or self.session_ids[i] != session_id:
            raise KeyError(f"no session {session_id}")
        return i


def signal_filter(index: SessionIndex, kinds, mode: str = "any",
                  base: SessionFilter | None = None) -> SessionFilter:
    """A session filter keeping sessions with signals of ``kinds``.

    ``mode`` "any": at least one of the kinds; "all": every one of them. The result is
    ``base`` (or an empty filter) with ``session_ids`` set; no kinds means no restriction.
    """
    base = base or SessionFilter()
    kinds = list(kinds)
    if not kinds:
        return base
    ids = index.sessions_matching(kinds, mode)
    if base.session_ids is not None:
        ids = np.intersect1d(ids, np.asarray(base.session_ids, dtype=np.int64))
    return base.replace(session_ids=tuple(int(i) for i in ids))


# --------------------------------------------------------------------------------------
# Caching
# --------------------------------------------------------------------------------------

_lock = threading.Lock()


def _file_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def sidecar_path(capture_path: str | os.PathLike[str]) -> Path:
    p = Path(capture_path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def _sidecar_key(capture: Capture, settings: SignalSettings) -> str:
    return json.dumps({"v": _SIDECAR_VERSION, "file": _file_key(capture.path), "settings": settings.as_dict()},
                      sort_keys=True)


def _read_sidecar(capture: Capture, settings: SignalSettings) -> SignalTable | None:
    path = sidecar_path(capture.path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != _sidecar_key(capture, settings):
                return None
            cols = {name: z[name] for name in z.files if name not in ("key", "selector")}
            cols["selector"] = z["selector"].astype(object)
        return SignalTable.from_columns(cols)
    except (OSError, KeyError, ValueError):
        return None


def _write_sidecar(capture: Capture, settings: SignalSettings, table: SignalTable) -> None:
    path = sidecar_path(capture.path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        cols = {name: getattr(table, name) for name in table.__dataclass_fields__}
        cols["selector"] = np.asarray([str(s) for s in table.selector], dtype=str)
        with open(tmp, "wb") as f:
            np.savez(f, key=np.asarray(_sidecar_key(capture, settings)), **cols)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def session_index(capture: Capture, settings: SignalSettings | None = None, sidecar: bool = False,
                  cache: dict | None = None) -> SessionIndex:
    """The capture's session index; computed once per ``cache`` (the workspace's per-capture
    cache, :meth:`hindsight.workspace.Workspace.cache`), every call without one.

    Parameters
    ----------
    capture : Capture
    settings : SignalSettings, optional
    sidecar : bool
        Also read/write ``<capture>.hindsight-cache`` (keyed by the capture's size and
        mtime and the settings). Off by default: only the app opts in.
    cache : dict, optional
        Keeps the index per settings; the caller owns it (one per open capture).
    """
    settings = settings or SignalSettings()
    with _lock:
        cached = cache.get(settings) if cache is not None else None
    if cached is not None:
        return cached
    table = _read_sidecar(capture, settings) if sidecar else None
    if table is None:
        table = compute_signals(capture, settings=settings)
        if sidecar:
            _write_sidecar(capture, settings, table)
    index = SessionIndex.from_signals(capture.session_ids(), table)
    if cache is not None:
        with _lock:
            index = cache.setdefault(settings, index)
    return index

"""The workspace: what the user is looking at in one open capture, evented and Qt-free.

One :class:`Workspace` holds the open capture and everything chosen about it: the full
filter (segment, duration, dates, pages, frustration kinds, abandoned-at field), the page
snapshot shown by the heatmaps, the session and moment in the player, ONE heatmap engine
(the Heatmap tab and the replay overlay share its decoded events and results) and the
per-capture caches (session index, form report, hesitations, similar-moment data).
Opening another capture replaces all of it at once (``open``), so nothing of one capture
leaks into the next.

Views take the workspace when they are built and subscribe to its events (napari's evented
models, Anki's ``subject_did_verb`` hooks); they never look each other up::

    ws.events.filter_changed.connect(view._on_filter_changed)   # (SessionFilter,)

Events (each an :class:`~hindsight.events.Emitter`; emitted on the caller's thread, so the
GUI only changes the workspace on its own thread):

=====================  ==========================================================
capture_changed        (capture or None) another capture was opened, or it closed
filter_changed         (SessionFilter) the resolved filter every view shows
snapshot_changed       (snapshot_id or None) the screenshot the heatmaps draw on (or its page group changed)
session_changed        (session_id or None) the session in the player
moment_changed         (t_ms) the player's moment in that session
replay_requested       (session_id, t_ms) a view asks the player to replay there
index_did_load         (SessionIndex) the frustration signals of the capture are ready
report_did_load        (FormReport or None) the form report behind "abandoned at"
min_sessions_changed   (int) heatmaps warn below this many sessions
opacity_changed        (float 0..1) the heatmap overlays' opacity (tab and replay)
=====================  ==========================================================

The CLI builds its filters with the same :func:`build_filter` and resolves them with the same
:func:`resolve_filter`, so ``hindsight sessions --frustration dead_click`` lists exactly the
sessions the app's Frustration filter keeps.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone

import numpy as np

from hindsight.events import EventGroup
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter

EVENTS = ("capture_changed", "filter_changed", "snapshot_changed", "session_changed", "moment_changed",
          "replay_requested", "index_did_load", "report_did_load", "min_sessions_changed", "opacity_changed")
FRUSTRATION_MODES = ("any", "all")


# ---------------------------------------------------------------------------------------
# The full filter
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceFilter:
    """Everything sessions are narrowed by.

    sessions : the conditions the store answers in SQL (segment, duration, dates, pages,
        session ids handed in by a panel).
    frustration : signal kinds (``hindsight.analytics.signals.SIGNAL_KINDS``); sessions with
        any (``frustration_mode`` "any") or all ("all") of them. Needs the session index.
    abandoned_at : a form field name: sessions that abandoned the form there. Needs the
        form report.
    """

    sessions: SessionFilter = SessionFilter()
    frustration: tuple[str, ...] = ()
    frustration_mode: str = "any"
    abandoned_at: str | None = None

    def is_empty(self) -> bool:
        return self.sessions.is_empty() and not self.frustration and not self.abandoned_at

    def replace(self, **changes) -> "WorkspaceFilter":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return build_filter_from(values)

    @property
    def needs_index(self) -> bool:
        return bool(self.frustration)

    @property
    def needs_report(self) -> bool:
        return bool(self.abandoned_at)


def build_filter_from(values: dict) -> WorkspaceFilter:
    sessions = values.get("sessions") or SessionFilter()
    kinds = tuple(dict.fromkeys(values.get("frustration") or ()))
    mode = values.get("frustration_mode") or "any"
    _check_kinds(kinds, mode)
    if not kinds:
        mode = "any"
    return WorkspaceFilter(sessions, kinds, mode, values.get("abandoned_at") or None)


def _check_kinds(kinds, mode: str) -> None:
    from hindsight.analytics.signals import SIGNAL_KINDS

    for kind in kinds:
        if kind not in SIGNAL_KINDS:
            raise ValueError(f"unknown frustration signal {kind!r} (known: {', '.join(SIGNAL_KINDS)})")
    if mode not in FRUSTRATION_MODES:
        raise ValueError(f"frustration mode must be 'any' or 'all', not {mode!r}")


def day_start_ms(value) -> int | None:
    """Epoch ms (UTC) of the start of a day given as ``date``, ``datetime``, ``"YYYY-MM-DD"``
    or epoch ms; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp() * 1000)
    raise ValueError(f"not a date: {value!r}")


def build_filter(*, device=(), browser=(), os=(), country=(), source=(), converted: bool | None = None,
                 min_duration_s: float | None = None, max_duration_s: float | None = None,
                 date_from=None, date_to=None, visited=(), not_visited=(), frustration=(),
                 frustration_mode: str = "any", abandoned_at: str | None = None,
                 session_ids=None, extra=()) -> WorkspaceFilter:
    """The one way a filter is made, from CLI flags and from the GUI's controls alike.

    Dates are days (``"YYYY-MM-DD"`` or ``date``), UTC, both inclusive: sessions that started
    on ``date_from`` or later and on ``date_to`` or earlier (epoch ms work too, as the
    inclusive start and the exclusive end). Zero or None
    durations mean "no bound". Raises ``ValueError`` with a one-line reason for a minimum
    above the maximum, a start date after the end date, or an unknown frustration kind.
    """
    min_d = float(min_duration_s) if min_duration_s else None
    max_d = float(max_duration_s) if max_duration_s else None
    if min_d is not None and max_d is not None and min_d > max_d:
        raise ValueError(f"minimum duration {min_d:g} s is more than the maximum {max_d:g} s")
    start = day_start_ms(date_from)
    end_day = day_start_ms(date_to)
    # An inclusive last day: sessions starting before the next day's midnight.
    before = None if end_day is None else end_day + (86_400_000 if not isinstance(date_to, (int, np.integer))
                                                      else 0)
    if start is not None and before is not None and start >= before:
        raise ValueError("the start date is after the end date")
    sessions = SessionFilter(
        device=tuple(device), browser=tuple(browser), os=tuple(os), country=tuple(country),
        source=tuple(source), converted=converted, min_duration_s=min_d, max_duration_s=max_d,
        start_from_ms=start, start_before_ms=before, visited=tuple(v for v in visited if v),
        not_visited=tuple(v for v in not_visited if v),
        session_ids=None if session_ids is None else tuple(int(i) for i in session_ids), extra=tuple(extra))
    return build_filter_from({"sessions": sessions, "frustration": tuple(frustration),
                              "frustration_mode": frustration_mode, "abandoned_at": abandoned_at})


def frustration_ids(index, kinds, mode: str = "any") -> np.ndarray:
    """Sorted session ids having ``any`` / ``all`` of the signal ``kinds`` in a SessionIndex."""
    return index.sessions_matching(kinds, mode)


def resolve_filter(flt: WorkspaceFilter, index=None, report=None) -> SessionFilter:
    """The SessionFilter the store answers: frustration kinds and the abandoned-at field become
    session ids, intersected with each other and with ids already set.

    A condition whose data is not there yet (``index`` or ``report`` None) is left out: the
    GUI shows it as "computing…" meanwhile; the CLI always passes both when it needs them.
    """
    sets = []
    if flt.frustration and index is not None:
        sets.append(frustration_ids(index, flt.frustration, flt.frustration_mode))
    if flt.abandoned_at and report is not None:
        sets.append(np.unique(report.abandoned_sessions(flt.abandoned_at).session_id))
    if not sets:
        return flt.sessions
    ids = sets[0]
    for other in sets[1:]:
        ids = np.intersect1d(ids, other, assume_unique=True)
    if flt.sessions.session_ids is not None:
        ids = np.intersect1d(ids, np.asarray(flt.sessions.session_ids, dtype=np.int64))
    return flt.sessions.replace(session_ids=tuple(int(i) for i in ids))


# ---------------------------------------------------------------------------------------
# The workspace
# ---------------------------------------------------------------------------------------


class Workspace:
    """The open capture and everything chosen about it (see the module docstring).

    Parameters
    ----------
    capture : an open :class:`~hindsight.store.Capture`, or None (nothing open yet).
    min_sessions : heatmaps warn below this many sessions.
    """

    def __init__(self, capture=None, min_sessions: int | None = None) -> None:
        self.events = EventGroup(*EVENTS)
        self._lock = threading.RLock()
        self._min_sessions = None if min_sessions is None else int(min_sessions)
        #: Opacity of heatmap overlays, 0..1 (a preference: kept when another capture opens);
        #: None until first set, so the first ``set_heatmap_opacity`` always reaches the views.
        self.heatmap_opacity: float | None = None
        self._reset(capture)

    def _reset(self, capture) -> None:
        self.capture = capture
        self.filter = WorkspaceFilter()
        self._resolved = SessionFilter()
        self.snapshot_id: int | None = None
        #: The page group the heatmaps draw (a tuple of page ids; None: the snapshot's own page).
        self.heatmap_pages: tuple[int, ...] | None = None
        self.session_id: int | None = None
        self.moment_ms: float = 0.0
        self._engine = None
        self._index = None
        self._report = None
        self._report_known = False
        self._caches: dict[str, dict] = {}

    # -- capture ---------------------------------------------------------------------------
    def open(self, capture) -> None:
        """Show ``capture`` (None: close): every per-capture piece starts over; emits
        ``capture_changed`` then ``filter_changed`` (the empty filter)."""
        with self._lock:
            self._reset(capture)
        self.events.capture_changed.emit(capture)
        self.events.filter_changed.emit(self._resolved)

    def close(self) -> None:
        self.open(None)

    @property
    def on_dataset(self) -> bool:
        """True while the open capture is a dataset analysed on a Dask cluster: analyses run as
        cluster tasks, the session list pages, and what writes is off (``engine.on_dataset``)."""
        from hindsight.engine.on_dataset import is_dataset_capture

        return is_dataset_capture(self.capture)

    # -- filter ----------------------------------------------------------------------------
    def set_filter(self, flt) -> None:
        """Apply a :class:`WorkspaceFilter` (or a plain ``SessionFilter``: no frustration or
        abandoned-at condition). Emits ``filter_changed`` when the resolved filter changed."""
        if isinstance(flt, SessionFilter):
            flt = WorkspaceFilter(flt)
        self.filter = flt
        self._update_resolved()

    def update_filter(self, **changes) -> None:
        """``set_filter(filter.replace(**changes))``, e.g. ``update_filter(frustration=("dead_click",))``."""
        self.set_filter(self.filter.replace(**changes))

    def session_filter(self) -> SessionFilter:
        """The filter resolved to what the store answers (frustration and abandoned-at as ids)."""
        return self._resolved

    def _update_resolved(self) -> None:
        resolved = resolve_filter(self.filter, self._index, self._report)
        if resolved != self._resolved:
            self._resolved = resolved
            self.events.filter_changed.emit(resolved)

    @property
    def filter_pending(self) -> bool:
        """True while a chosen condition waits for its data (session index, form report)."""
        return (self.filter.needs_index and self._index is None) or \
            (self.filter.needs_report and not self._report_known)

    # -- page, session, moment -------------------------------------------------------------
    def set_snapshot(self, snapshot_id: int | None) -> None:
        sid = None if snapshot_id is None else int(snapshot_id)
        if sid != self.snapshot_id:
            self.snapshot_id = sid
            self.events.snapshot_changed.emit(sid)

    def set_heatmap_screen(self, snapshot_id: int | None, pages: tuple[int, ...] | None = None) -> None:
        """Draw the heatmaps on ``snapshot_id`` (the chosen screenshot) from every snapshot of the
        page group ``pages`` on its device class (None: the screenshot's own page). Emits
        ``snapshot_changed`` when either changed."""
        pages = None if pages is None else tuple(sorted({int(p) for p in pages})) or None
        sid = None if snapshot_id is None else int(snapshot_id)
        if pages != self.heatmap_pages:
            self.heatmap_pages = pages
            self.snapshot_id = sid
            self.events.snapshot_changed.emit(sid)
        else:
            self.set_snapshot(sid)

    def heatmap_pages_for(self, snapshot_id: int | None) -> tuple[int, ...] | None:
        """The page group of a map drawn on ``snapshot_id``: the chosen group if it holds the
        snapshot's page, else None (the snapshot's own page)."""
        if self.heatmap_pages is None or snapshot_id is None or self.capture is None:
            return None
        try:
            page_id = self.capture.snapshot(int(snapshot_id)).page_id
        except (KeyError, CaptureError):
            return None
        return self.heatmap_pages if page_id in self.heatmap_pages else None

    def request_replay(self, session_id: int, t_ms: float = 0.0) -> None:
        """A view asks to replay ``session_id`` from ``t_ms``; the player's owner does it."""
        self.events.replay_requested.emit(int(session_id), float(t_ms))

    def set_session(self, session_id: int | None, at_ms: float = 0.0) -> None:
        """The player now shows ``session_id`` (at ``at_ms``)."""
        sid = None if session_id is None else int(session_id)
        self.moment_ms = float(at_ms)
        if sid != self.session_id:
            self.session_id = sid
            self.events.session_changed.emit(sid)

    def set_moment(self, t_ms: float) -> None:
        t = float(t_ms)
        if t != self.moment_ms:
            self.moment_ms = t
            self.events.moment_changed.emit(t)

    # -- pages -----------------------------------------------------------------------------
    @property
    def page_groups(self):
        """The capture's pages as the analyses see them (URL patterns, ``analytics.page_groups``),
        computed once per capture; None without one."""
        if self.capture is None:
            return None
        cache = self.cache("page_groups")
        if "groups" not in cache:
            from hindsight.analytics.page_groups import capture_groups

            cache["groups"] = capture_groups(self.capture)
        return cache["groups"]

    # -- heatmaps --------------------------------------------------------------------------
    @property
    def heatmap_engine(self):
        """The capture's one HeatmapEngine (created on first use; None without a capture).
        Thread-safe: workers compute with it."""
        with self._lock:
            if self._engine is None and self.capture is not None:
                from hindsight.analytics.heatmap import HeatmapEngine
                from hindsight.engine.on_dataset import heatmap_engine, is_dataset_capture

                self._engine = (heatmap_engine(self.capture, self.min_sessions) if is_dataset_capture(self.capture)
                                else HeatmapEngine(self.capture, min_sessions=self.min_sessions))
            return self._engine

    @property
    def min_sessions(self) -> int:
        """Heatmaps warn below this many sessions (by default the heatmap module's
        ``MIN_SESSIONS``, imported when first asked for: not while the app starts)."""
        if self._min_sessions is None:
            from hindsight.analytics.heatmap import MIN_SESSIONS

            self._min_sessions = int(MIN_SESSIONS)
        return self._min_sessions

    @min_sessions.setter
    def min_sessions(self, n: int) -> None:
        self._min_sessions = int(n)

    def set_min_sessions(self, n: int) -> None:
        """Heatmaps warn below ``n`` sessions; results carry their warning, so a new engine."""
        n = int(n)
        if n == self.min_sessions:
            return
        with self._lock:
            self.min_sessions = n
            self._engine = None
        self.events.min_sessions_changed.emit(n)

    def set_heatmap_opacity(self, value: float) -> None:
        """Opacity of the heatmap overlays (the Heatmap tab's and the replay's), 0..1."""
        value = min(max(float(value), 0.0), 1.0)
        if value != self.heatmap_opacity:
            self.heatmap_opacity = value
            self.events.opacity_changed.emit(value)

    def heatmap(self, snapshot_id: int, kind: str, flt: SessionFilter | None = None):
        """(HeatmapResult, DisplayScale) of a snapshot for ``flt`` (default: the workspace's
        filter): the map and the one colour scale every view draws it with."""
        from hindsight.analytics.heatmap_display import display_scale

        result = self.heatmap_engine.compute(snapshot_id, kind, self._resolved if flt is None else flt,
                                             self.heatmap_pages_for(snapshot_id))
        return result, display_scale(result)

    # -- signals and forms -----------------------------------------------------------------
    def cache(self, name: str) -> dict:
        """The per-capture cache ``name`` (a dict that lives as long as this capture is open)."""
        with self._lock:
            return self._caches.setdefault(name, {})

    def compute_signal_index(self, sidecar: bool = False):
        """The capture's SessionIndex, computed once (thread-safe, emits nothing: call
        :meth:`set_signal_index` with it on the thread the views live on)."""
        from hindsight.analytics.session_index import session_index

        capture = self.capture
        if capture is None:
            return None
        if self.on_dataset:   # computed on the cluster, once per open dataset
            from hindsight.engine import on_dataset

            cache = self.cache("session_index")
            if "index" not in cache:
                cache["index"] = on_dataset.signal_index(capture)
            return cache["index"]
        return session_index(capture, sidecar=sidecar, cache=self.cache("session_index"))

    @property
    def signal_index(self):
        """The SessionIndex once loaded (:meth:`set_signal_index`), else None."""
        return self._index

    def set_signal_index(self, index) -> None:
        """The capture's signals are ready: emits ``index_did_load``, then ``filter_changed``
        if frustration kinds were waiting for them."""
        if index is None or index is self._index:
            return
        self._index = index
        self.events.index_did_load.emit(index)
        self._update_resolved()

    def compute_form_report(self):
        """The capture's form report (first form), or None without a form; thread-safe, cached."""
        from hindsight.analytics.forms import form_report

        capture = self.capture
        cache = self.cache("form_report")
        if "report" not in cache and self.on_dataset:
            from hindsight.engine import on_dataset

            cache["report"] = on_dataset.form_report(capture)
        if "report" not in cache:
            try:
                cache["report"] = form_report(capture)
            except CaptureError:   # the capture has no form
                cache["report"] = None
        return cache["report"]

    @property
    def form_report(self):
        return self._report

    def set_form_report(self, report) -> None:
        """The form report is ready (None: the capture has no form): emits ``report_did_load``."""
        self._report = report
        self._report_known = True
        self.events.report_did_load.emit(report)
        self._update_resolved()

    # -- numbers the views show ------------------------------------------------------------
    def visible_session_ids(self) -> np.ndarray:
        """Sorted ids of the sessions the filter keeps."""
        if self.capture is None:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.asarray(self.capture.session_ids(self._resolved), dtype=np.int64))

    def dead_clicks(self, flt: SessionFilter | None = None) -> int:
        """Dead clicks (the one rule of :mod:`hindsight.analytics.clicks`, each click counted) of
        the sessions ``flt`` keeps (default: the workspace's filter). Needs the session index."""
        index = self._index if self._index is not None else self.compute_signal_index()
        flt = self._resolved if flt is None else flt
        per_session = index.clicks("dead_click")
        if flt.is_empty():
            return int(per_session.sum())
        keep = np.isin(index.session_ids, np.asarray(self.capture.session_ids(flt), dtype=np.int64))
        return int(per_session[keep].sum())

    def session_markers(self, session_id: int) -> list[tuple[float, str, str]]:
        """(t_ms, colour, label) timeline markers of a session's frustration signals."""
        from hindsight.analytics.markers import signal_markers
        from hindsight.analytics.signals import compute_signals

        if self._index is not None:
            sig = self._index.signals
            table = sig.take(sig.session_id == int(session_id))
        elif self.on_dataset:
            from hindsight.engine.on_dataset import session_signals

            table = session_signals(self.capture, int(session_id))
        else:
            table = compute_signals(self.capture, session_ids=[int(session_id)])
        return signal_markers(table)

"""Playback state of the replay: deterministic, driven by ``advance(wall_dt_ms)`` calls.

The GUI owns the wall clock (a QTimer calling ``advance``); everything here is plain Python,
so auto-pausing at hesitations and skipping inactivity are testable without Qt.
"""

from __future__ import annotations

import numpy as np

from hindsight.events import EventGroup
from hindsight.replay.hesitation import Hesitation, detect_hesitations
from hindsight.replay.inactivity import INACTIVITY_MS, detect_inactivity
from hindsight.replay.timeline import ONE_FRAME_MS, Frame, SessionTimeline

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)
DEFAULT_SPEED = 2.0
DEFAULT_HESITATION_MS = 2500
#: A marker jump landing this close before a hesitation's start (ms) stops at the hesitation.
HESITATION_SNAP_MS = 50


class Player:
    """Playhead over a ``SessionTimeline``.

    Events (``player.events.<name>.connect(cb)``): ``session(timeline)``, ``time(t_ms)``,
    ``playing(bool)``, ``speed(float)``, ``paused_for(Hesitation | None)``,
    ``skipping((start_ms, end_ms))`` when playback jumps over an inactivity span,
    ``options((name, value))`` when ``pause_on_hesitation`` or ``skip_inactivity`` change.
    """

    def __init__(self, timeline: SessionTimeline | None = None):
        self.events = EventGroup("session", "time", "playing", "speed", "paused_for", "skipping", "options")
        self.timeline: SessionTimeline | None = None
        self.t_ms: float = 0.0
        self.speed: float = DEFAULT_SPEED
        self.playing: bool = False
        self._pause_on_hesitation = True
        self._skip_inactivity = True
        self._cached: tuple[SessionTimeline | None, float, Frame | None] = (None, -1.0, None)
        self.paused_for: Hesitation | None = None
        self._threshold_ms = DEFAULT_HESITATION_MS
        self._inactivity_ms = INACTIVITY_MS
        self._hesitations: list[Hesitation] = []
        self._h_starts = np.zeros(0, dtype=np.int64)
        self._idle = np.zeros((0, 2), dtype=np.int64)
        if timeline is not None:
            self.load(timeline)

    # -- configuration ----------------------------------------------------------------------
    @property
    def pause_on_hesitation(self) -> bool:
        return self._pause_on_hesitation

    @pause_on_hesitation.setter
    def pause_on_hesitation(self, on: bool) -> None:
        if bool(on) != self._pause_on_hesitation:
            self._pause_on_hesitation = bool(on)
            self.events.options.emit(("pause_on_hesitation", bool(on)))

    @property
    def skip_inactivity(self) -> bool:
        return self._skip_inactivity

    @skip_inactivity.setter
    def skip_inactivity(self, on: bool) -> None:
        if bool(on) != self._skip_inactivity:
            self._skip_inactivity = bool(on)
            self.events.options.emit(("skip_inactivity", bool(on)))

    @property
    def inactivity_threshold_ms(self) -> int:
        """Quiet stretches at least this long are skipped (``skip_inactivity``), ms."""
        return self._inactivity_ms

    @inactivity_threshold_ms.setter
    def inactivity_threshold_ms(self, value: int) -> None:
        value = int(value)
        if value <= 0:
            raise ValueError(f"inactivity threshold must be positive, not {value} ms")
        if value != self._inactivity_ms:
            self._inactivity_ms = value
            self._update_idle()
            self.events.options.emit(("inactivity_threshold_ms", value))

    @property
    def idle_spans(self) -> list[tuple[int, int]]:
        """The quiet stretches (start_ms, end_ms) this player skips, at its own threshold."""
        return [(int(a), int(b)) for a, b in self._idle]

    def _update_idle(self) -> None:
        tl = self.timeline
        if tl is None:
            spans = []
        elif self._inactivity_ms == INACTIVITY_MS:
            spans = tl.inactivity   # detected with the default when the timeline was built
        else:
            spans = detect_inactivity(tl, gap_ms=self._inactivity_ms)
        self._idle = np.array(spans, dtype=np.int64).reshape(-1, 2)

    @property
    def hesitation_threshold_ms(self) -> int:
        return self._threshold_ms

    @hesitation_threshold_ms.setter
    def hesitation_threshold_ms(self, value: int) -> None:
        self._threshold_ms = int(value)
        self._update_hesitations()

    @property
    def hesitations(self) -> list[Hesitation]:
        """Hesitations playback pauses at (the timeline's, or recomputed for another threshold)."""
        return self._hesitations

    def _update_hesitations(self) -> None:
        tl = self.timeline
        if tl is None:
            self._hesitations = []
        elif self._threshold_ms == DEFAULT_HESITATION_MS:
            self._hesitations = list(tl.hesitations)
        else:
            self._hesitations = detect_hesitations(tl, threshold_ms=self._threshold_ms)
        self._hesitations.sort(key=lambda h: h.start_ms)
        self._h_starts = np.array([h.start_ms for h in self._hesitations], dtype=np.int64)

    # -- transport --------------------------------------------------------------------------
    def load(self, timeline: SessionTimeline | None, at_ms: float = 0) -> None:
        """Show ``timeline`` (paused) at ``at_ms``."""
        self.timeline = timeline
        self.playing = False
        self.paused_for = None
        self._update_hesitations()
        self._update_idle()
        self.t_ms = timeline.clamp(at_ms) if timeline else 0.0
        self.events.session.emit(timeline)
        self.events.playing.emit(False)
        self.events.paused_for.emit(None)
        self.events.time.emit(self.t_ms)

    @property
    def duration_ms(self) -> int:
        return self.timeline.duration_ms if self.timeline else 0

    @property
    def at_end(self) -> bool:
        return self.timeline is None or self.t_ms >= self.timeline.duration_ms

    def play(self) -> None:
        """Start (or resume) playback; at the end it starts over."""
        if self.timeline is None:
            return
        if self.at_end:
            self.seek(0)
        self._clear_pause()
        if not self.playing:
            self.playing = True
            self.events.playing.emit(True)

    def pause(self) -> None:
        if self.playing:
            self.playing = False
            self.events.playing.emit(False)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, t_ms: float) -> None:
        """Move the playhead to ``t_ms`` (clamped); playing continues from there."""
        if self.timeline is None:
            return
        self._clear_pause()
        self.t_ms = self.timeline.clamp(t_ms)
        self.events.time.emit(self.t_ms)

    def set_speed(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed!r}")
        if speed != self.speed:
            self.speed = float(speed)
            self.events.speed.emit(self.speed)

    def _clear_pause(self) -> None:
        if self.paused_for is not None:
            self.paused_for = None
            self.events.paused_for.emit(None)

    # -- playback ---------------------------------------------------------------------------
    def _idle_span_at(self, t: float) -> tuple[int, int] | None:
        i = int(np.searchsorted(self._idle[:, 0], t, side="right")) - 1
        if i >= 0 and t < self._idle[i, 1]:
            return int(self._idle[i, 0]), int(self._idle[i, 1])
        return None

    def advance(self, wall_dt_ms: float) -> Frame | None:
        """Move on by ``wall_dt_ms * speed`` of session time; None when not playing.

        Stops exactly at the start of a hesitation crossed (``pause_on_hesitation``), jumps to
        the end of an inactivity span entered (``skip_inactivity``, emits ``skipping``), and
        stops at the end. A hesitation starting exactly at the playhead does not pause, so
        resuming after an auto-pause plays on.
        """
        tl = self.timeline
        if tl is None or not self.playing:
            return None
        t0 = self.t_ms
        if self.skip_inactivity:
            span = self._idle_span_at(t0)
            if span is not None:
                return self._skip(span)
        t1 = min(t0 + max(0.0, float(wall_dt_ms)) * self.speed, float(tl.duration_ms))
        h_t = i_t = None
        if self.pause_on_hesitation and self._h_starts.size:
            i = int(np.searchsorted(self._h_starts, t0, side="right"))
            if i < self._h_starts.size and self._h_starts[i] <= t1:
                h_t = i
        if self.skip_inactivity and self._idle.size:
            j = int(np.searchsorted(self._idle[:, 0], t0, side="right"))
            if j < len(self._idle) and self._idle[j, 0] <= t1:
                i_t = j
        if h_t is not None and (i_t is None or self._h_starts[h_t] <= self._idle[i_t, 0]):
            return self._pause_at(self._hesitations[h_t])
        if i_t is not None:
            return self._skip((int(self._idle[i_t, 0]), int(self._idle[i_t, 1])))
        self.t_ms = t1
        if self.t_ms >= tl.duration_ms:
            self.playing = False
            self.events.playing.emit(False)
        self.events.time.emit(self.t_ms)
        return self._frame_at(self.t_ms)

    def _pause_at(self, h: Hesitation) -> Frame:
        self.t_ms = float(h.start_ms)
        self.playing = False
        self.paused_for = h
        self.events.paused_for.emit(h)
        self.events.playing.emit(False)
        self.events.time.emit(self.t_ms)
        return self._frame_at(self.t_ms)

    def _skip(self, span: tuple[int, int]) -> Frame:
        tl = self.timeline
        assert tl is not None
        self.events.skipping.emit(span)
        if self.pause_on_hesitation:
            # A hesitation often starts right where the visitor came back (the next event).
            i = int(np.searchsorted(self._h_starts, span[1], side="left"))
            if i < self._h_starts.size and self._h_starts[i] == span[1]:
                return self._pause_at(self._hesitations[i])
        self.t_ms = tl.clamp(span[1])
        if self.t_ms >= tl.duration_ms:
            self.playing = False
            self.events.playing.emit(False)
        self.events.time.emit(self.t_ms)
        return self._frame_at(self.t_ms)

    def step(self, direction: int) -> None:
        """One frame back (-1) or forward (+1): to the previous/next event time, or by
        ``ONE_FRAME_MS`` when no event is nearer than that (a pause still animates). Pauses.
        """
        tl = self.timeline
        if tl is None or direction == 0:
            return
        self.pause()
        ft = tl.frame_times()
        t = self.t_ms
        if direction > 0:
            i = int(np.searchsorted(ft, t, side="right"))
            target = min(float(ft[i]), t + ONE_FRAME_MS) if i < ft.size else t + ONE_FRAME_MS
        else:
            i = int(np.searchsorted(ft, t, side="left")) - 1
            target = max(float(ft[i]), t - ONE_FRAME_MS) if i >= 0 else t - ONE_FRAME_MS
        self.seek(target)

    def jump_marker(self, direction: int, kinds=None) -> bool:
        """Seek to the next (+1) or previous (-1) marker, optionally of some kinds only.

        Landing on a hesitation's start (or up to ``HESITATION_SNAP_MS`` before it) with
        ``pause_on_hesitation`` on pauses there, as reaching it by playing does. Going back
        never snaps forward to a hesitation at or after where the jump started, so ``[`` from
        a hesitation pause gets past it (the marker just before it is usually its last event).
        Returns False when there is no marker that way (the playhead stays).
        """
        tl = self.timeline
        if tl is None or direction == 0:
            return False
        origin = self.t_ms
        t = tl.next_marker(origin, kinds) if direction > 0 else tl.previous_marker(origin, kinds)
        if t is None:
            return False
        self.seek(t)
        if self.pause_on_hesitation and self._h_starts.size:
            i = int(np.searchsorted(self._h_starts, self.t_ms, side="left"))
            if (i < self._h_starts.size and self._h_starts[i] - self.t_ms <= HESITATION_SNAP_MS
                    and (direction > 0 or self._h_starts[i] < origin)):
                self._pause_at(self._hesitations[i])
        return True

    def _frame_at(self, t_ms: float) -> Frame:
        # frame_at is pure, so the frame of the last time asked is reused (a 'time' handler
        # and advance's return value ask for the same one).
        tl, t, frame = self._cached
        if tl is not self.timeline or t != t_ms or frame is None:
            frame = self.timeline.frame_at(t_ms)
            self._cached = (self.timeline, t_ms, frame)
        return frame

    def frame(self) -> Frame | None:
        """The frame at the playhead (None before a session is loaded)."""
        return self._frame_at(self.t_ms) if self.timeline is not None else None

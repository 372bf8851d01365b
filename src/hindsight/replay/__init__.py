"""Qt-free session replay: frames at any time, hesitations, inactivity, and the playback state."""

from hindsight.replay.hesitation import Hesitation, detect_hesitations
from hindsight.replay.inactivity import detect_inactivity
from hindsight.replay.player import DEFAULT_SPEED, SPEEDS, Player
from hindsight.replay.timeline import (
    INTERP_MAX_MS,
    MARKER_KINDS,
    ONE_FRAME_MS,
    RIPPLE_MS,
    TRAIL_MS,
    Frame,
    Markers,
    Ripple,
    SessionTimeline,
)

__all__ = [
    "DEFAULT_SPEED",
    "Frame",
    "Hesitation",
    "INTERP_MAX_MS",
    "MARKER_KINDS",
    "Markers",
    "ONE_FRAME_MS",
    "Player",
    "RIPPLE_MS",
    "Ripple",
    "SPEEDS",
    "SessionTimeline",
    "TRAIL_MS",
    "detect_hesitations",
    "detect_inactivity",
]

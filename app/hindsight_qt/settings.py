"""Persistent user preferences (QSettings "Hindsight"): recent files, playback, heatmaps, window layout."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

ORGANIZATION = "Hindsight"
APPLICATION = "Hindsight"
MAX_RECENT = 8
DEFAULT_SPEED = 2.0   # replay speed before the user picks one
DEFAULT_HESITATION_MS = 2500      # same as hindsight.replay.player.DEFAULT_HESITATION_MS
DEFAULT_INACTIVITY_MS = 10_000    # same as hindsight.replay.inactivity.INACTIVITY_MS
DEFAULT_OVERLAY_OPACITY = 0.6     # heatmap overlays (replay and panel), 0..1
DEFAULT_HEATMAP_MIN_SESSIONS = 1000   # same as hindsight.analytics.heatmap.MIN_SESSIONS
#: Accepted ranges (inclusive); a stored value outside falls back to the default.
HESITATION_RANGE_MS = (500, 30_000)
INACTIVITY_RANGE_MS = (2_000, 120_000)
OVERLAY_OPACITY_RANGE = (0.1, 1.0)
HEATMAP_MIN_SESSIONS_RANGE = (0, 1_000_000)


def default_demo_path() -> Path:
    """Where "Open demo capture" writes its file: ``~/.local/share/Hindsight/demo.sqlite`` on Linux."""
    override = os.environ.get("HINDSIGHT_DEMO_PATH")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local" / "share") / "Hindsight" / "demo.sqlite"


def _to_int(value, default: int, bounds: tuple[int, int]) -> int:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return default
    return number if bounds[0] <= number <= bounds[1] else default


def _to_bool(value, default: bool) -> bool:
    # QSettings' INI backend hands back "true"/"false" strings.
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


class Settings:
    """Typed accessors over one ``QSettings``; pass your own to keep tests away from the user's."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else QSettings(ORGANIZATION, APPLICATION)

    # -- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.q.value("recent/files", [])
        if isinstance(value, str):  # a single entry comes back as a bare string
            value = [value]
        return [str(v) for v in (value or []) if v][:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike[str]) -> list[str]:
        """Put ``path`` first (absolute; a dataset URL as given), drop duplicates, keep the last ``MAX_RECENT``."""
        path = _recent_key(path)
        files = [path] + [f for f in self.recent_files() if f != path]
        if len(files) > MAX_RECENT:
            # Make room by dropping files that no longer exist before dropping the oldest.
            present = [f for f in files if recent_exists(f)]
            files = (present + [f for f in files if f not in present])[:MAX_RECENT]
        self._set_recent(files)
        return files

    def remove_recent(self, path: str | os.PathLike[str]) -> None:
        path = _recent_key(path)
        self._set_recent([f for f in self.recent_files() if f != path])

    def prune_recent(self) -> list[str]:
        """Forget recent files that no longer exist; returns what is left."""
        files = [f for f in self.recent_files() if recent_exists(f)]
        self._set_recent(files)
        return files

    def clear_recent(self) -> None:
        self._set_recent([])

    def _set_recent(self, files: list[str]) -> None:
        self.q.setValue("recent/files", list(files))
        self.q.sync()

    # -- playback --------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        try:
            return float(self.q.value("player/speed", DEFAULT_SPEED))
        except (TypeError, ValueError):
            return DEFAULT_SPEED

    @speed.setter
    def speed(self, value: float) -> None:
        self.q.setValue("player/speed", float(value))

    @property
    def pause_on_hesitation(self) -> bool:
        return _to_bool(self.q.value("player/pause_on_hesitation"), True)

    @pause_on_hesitation.setter
    def pause_on_hesitation(self, value: bool) -> None:
        self.q.setValue("player/pause_on_hesitation", bool(value))

    @property
    def hesitation_threshold_ms(self) -> int:
        """Pause on hesitations at least this long (ms)."""
        return _to_int(self.q.value("player/hesitation_threshold_ms"), DEFAULT_HESITATION_MS,
                       HESITATION_RANGE_MS)

    @hesitation_threshold_ms.setter
    def hesitation_threshold_ms(self, value: int) -> None:
        self.q.setValue("player/hesitation_threshold_ms", int(value))

    @property
    def inactivity_threshold_ms(self) -> int:
        """Skip stretches without interaction at least this long (ms)."""
        return _to_int(self.q.value("player/inactivity_threshold_ms"), DEFAULT_INACTIVITY_MS,
                       INACTIVITY_RANGE_MS)

    @inactivity_threshold_ms.setter
    def inactivity_threshold_ms(self, value: int) -> None:
        self.q.setValue("player/inactivity_threshold_ms", int(value))

    # -- heatmaps --------------------------------------------------------------------------
    @property
    def overlay_opacity(self) -> float:
        """Heatmap overlay opacity, 0.1 to 1 (the key the replay's overlay slider saves to)."""
        try:
            value = float(self.q.value("player/overlay_opacity", DEFAULT_OVERLAY_OPACITY))
        except (TypeError, ValueError):
            return DEFAULT_OVERLAY_OPACITY
        lo, hi = OVERLAY_OPACITY_RANGE
        return min(max(value, lo), hi)

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        lo, hi = OVERLAY_OPACITY_RANGE
        self.q.setValue("player/overlay_opacity", min(max(float(value), lo), hi))

    @property
    def heatmap_min_sessions(self) -> int:
        """Heatmaps of fewer sessions than this warn that the pattern may be noise."""
        return _to_int(self.q.value("heatmap/min_sessions"), DEFAULT_HEATMAP_MIN_SESSIONS,
                       HEATMAP_MIN_SESSIONS_RANGE)

    @heatmap_min_sessions.setter
    def heatmap_min_sessions(self, value: int) -> None:
        self.q.setValue("heatmap/min_sessions", int(value))

    # -- session table ---------------------------------------------------------------------
    @property
    def hidden_columns(self) -> list[str]:
        value = self.q.value("sessions/hidden_columns", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v]

    @hidden_columns.setter
    def hidden_columns(self, keys) -> None:
        self.q.setValue("sessions/hidden_columns", list(keys))

    # -- window ----------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        value = self.q.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self.q.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def player_size_hints(self) -> tuple[int, int, int, int] | None:
        """The player's size hint and minimum size hint (w, h, min w, min h) when it was last
        built: a lazy start reserves that room for it, so the docks keep the widths they get."""
        value = self.q.value("window/player_size_hints")
        try:
            hints = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            return None
        return hints if len(hints) == 4 and all(0 <= v <= 20_000 for v in hints) else None

    def set_player_size_hints(self, hints: tuple[int, int, int, int]) -> None:
        if self.player_size_hints() != tuple(hints):
            self.q.setValue("window/player_size_hints", [int(v) for v in hints])

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)
        self.q.sync()


def _recent_key(path) -> str:
    """How a recent entry is kept: a file or folder as its absolute path, a URL (s3://…) as given."""
    text = os.fspath(path)
    return text if "://" in text else str(Path(text).expanduser().resolve())


def recent_exists(entry: str) -> bool:
    """Whether a recent entry can be opened: the file or folder exists; URLs are not checked here."""
    return "://" in entry or Path(entry).exists()

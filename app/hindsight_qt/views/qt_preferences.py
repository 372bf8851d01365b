"""Edit > Preferences…: playback defaults and heatmap settings, saved in QSettings (``Settings``).

``PreferencesDialog`` edits a ``Settings``; ``apply_preferences(window)`` pushes the saved
values to what is on screen (the replay ``Player``, the replay's heatmap overlay, the
Heatmap panel), so a change takes effect right away, and at start-up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hindsight_qt.settings import (
    DEFAULT_HEATMAP_MIN_SESSIONS,
    DEFAULT_HESITATION_MS,
    DEFAULT_INACTIVITY_MS,
    DEFAULT_OVERLAY_OPACITY,
    DEFAULT_SPEED,
    HEATMAP_MIN_SESSIONS_RANGE,
    HESITATION_RANGE_MS,
    INACTIVITY_RANGE_MS,
    OVERLAY_OPACITY_RANGE,
    Settings,
)

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)


def _speed_text(speed: float) -> str:
    return f"{speed:g}×"


class SecondsSpinBox(QSpinBox):
    """Seconds with one decimal, held as tenths: a QSpinBox, so the app's style sheet applies."""

    def seconds(self) -> float:
        return self.value() / 10

    def set_seconds(self, seconds: float) -> None:
        self.setValue(int(round(seconds * 10)))

    def set_seconds_range(self, lo: float, hi: float) -> None:
        self.setRange(int(round(lo * 10)), int(round(hi * 10)))

    def textFromValue(self, value: int) -> str:  # noqa: N802
        return f"{value / 10:.1f}"

    def valueFromText(self, text: str) -> int:  # noqa: N802
        try:
            return int(round(float(self._number(text)) * 10))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102
        number = self._number(text)
        if not number or number in (".", ","):
            return QValidator.State.Intermediate, text, pos
        try:
            tenths = round(float(number) * 10)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        ok = self.minimum() <= tenths <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def _number(self, text: str) -> str:
        return text.removesuffix(self.suffix()).strip().replace(",", ".")


def _section(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("SectionTitle")
    return label


class PreferencesDialog(QDialog):
    """The settings a user may want to change once: OK saves them to ``settings``."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("PreferencesDialog")
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(480)

        # Playback
        self.speed_combo = QComboBox(self)
        for speed in SPEEDS:
            self.speed_combo.addItem(_speed_text(speed), speed)
        self.pause_check = QCheckBox("Pause where the visitor hesitated", self)
        self.hesitation_spin = SecondsSpinBox(self)
        self.hesitation_spin.setSingleStep(5)   # half a second
        self.hesitation_spin.set_seconds_range(HESITATION_RANGE_MS[0] / 1000, HESITATION_RANGE_MS[1] / 1000)
        self.hesitation_spin.setSuffix(" s")
        self.hesitation_spin.setToolTip("A pause this long before an action counts as a hesitation")
        self.pause_check.toggled.connect(self.hesitation_spin.setEnabled)
        self.inactivity_spin = QSpinBox(self)
        self.inactivity_spin.setRange(INACTIVITY_RANGE_MS[0] // 1000, INACTIVITY_RANGE_MS[1] // 1000)
        self.inactivity_spin.setSuffix(" s")
        self.inactivity_spin.setToolTip("Skip stretches without any interaction at least this long")

        # Heatmaps
        self.min_sessions_spin = QSpinBox(self)
        self.min_sessions_spin.setRange(*HEATMAP_MIN_SESSIONS_RANGE)
        self.min_sessions_spin.setSingleStep(100)
        self.min_sessions_spin.setGroupSeparatorShown(True)
        self.min_sessions_spin.setPrefix("below ")
        self.min_sessions_spin.setSuffix(" sessions")
        self.min_sessions_spin.setToolTip("Heatmaps of fewer sessions say their pattern may be noise (0: never)")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity_slider.setRange(int(OVERLAY_OPACITY_RANGE[0] * 100), int(OVERLAY_OPACITY_RANGE[1] * 100))
        self.opacity_slider.setSingleStep(5)
        self.opacity_slider.setPageStep(10)
        self.opacity_value = QLabel(self)
        self.opacity_value.setMinimumWidth(40)
        self.opacity_value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.opacity_slider.valueChanged.connect(lambda v: self.opacity_value.setText(f"{v} %"))
        opacity_row = QHBoxLayout()
        opacity_row.setSpacing(8)
        opacity_row.addWidget(self.opacity_slider, 1)
        opacity_row.addWidget(self.opacity_value)

        playback = QFormLayout()
        playback.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        playback.setHorizontalSpacing(14)
        playback.setVerticalSpacing(8)
        for field in (self.speed_combo, self.hesitation_spin, self.inactivity_spin, self.min_sessions_spin):
            field.setFixedWidth(190)
        playback.addRow("Default speed", self.speed_combo)
        playback.addRow("", self.pause_check)
        playback.addRow("Hesitation threshold", self.hesitation_spin)
        playback.addRow("Skip inactivity after", self.inactivity_spin)
        heatmaps = QFormLayout()
        heatmaps.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        heatmaps.setHorizontalSpacing(14)
        heatmaps.setVerticalSpacing(8)
        heatmaps.addRow("Sample-size warning", self.min_sessions_spin)
        heatmaps.addRow("Overlay opacity", opacity_row)
        # Both forms share one label column width, so their fields line up.
        width = max(self.fontMetrics().horizontalAdvance(t) for t in
                    ("Default speed", "Hesitation threshold", "Skip inactivity after", "Sample-size warning",
                     "Overlay opacity"))
        for form in (playback, heatmaps):
            for row in range(form.rowCount()):
                label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                if label is not None and label.widget() is not None:
                    label.widget().setMinimumWidth(width)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)

        col = QVBoxLayout(self)
        col.setContentsMargins(24, 20, 24, 16)
        col.setSpacing(8)
        col.addWidget(_section("Playback", self))
        col.addLayout(playback)
        col.addSpacing(12)
        col.addWidget(_section("Heatmaps", self))
        col.addLayout(heatmaps)
        col.addSpacing(14)
        col.addWidget(self.buttons)
        self.load(settings)

    # -- values ----------------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        self._show(s.speed, s.pause_on_hesitation, s.hesitation_threshold_ms, s.inactivity_threshold_ms,
                   s.heatmap_min_sessions, s.overlay_opacity)

    def restore_defaults(self) -> None:
        self._show(DEFAULT_SPEED, True, DEFAULT_HESITATION_MS, DEFAULT_INACTIVITY_MS,
                   DEFAULT_HEATMAP_MIN_SESSIONS, DEFAULT_OVERLAY_OPACITY)

    def _show(self, speed, pause, hesitation_ms, inactivity_ms, min_sessions, opacity) -> None:
        index = self.speed_combo.findData(float(speed))
        self.speed_combo.setCurrentIndex(index if index >= 0 else self.speed_combo.findData(DEFAULT_SPEED))
        self.pause_check.setChecked(bool(pause))
        self.hesitation_spin.setEnabled(bool(pause))
        self.hesitation_spin.set_seconds(hesitation_ms / 1000)
        self.inactivity_spin.setValue(int(round(inactivity_ms / 1000)))
        self.min_sessions_spin.setValue(int(min_sessions))
        self.opacity_slider.setValue(int(round(opacity * 100)))
        self.opacity_value.setText(f"{self.opacity_slider.value()} %")

    def save(self, s: Settings | None = None) -> None:
        s = s or self.settings
        s.speed = float(self.speed_combo.currentData())
        s.pause_on_hesitation = self.pause_check.isChecked()
        s.hesitation_threshold_ms = int(round(self.hesitation_spin.seconds() * 1000))
        s.inactivity_threshold_ms = int(self.inactivity_spin.value()) * 1000
        s.heatmap_min_sessions = int(self.min_sessions_spin.value())
        s.overlay_opacity = self.opacity_slider.value() / 100
        s.q.sync()

    def accept(self) -> None:  # noqa: D102
        self.save()
        super().accept()


# -- applying --------------------------------------------------------------------------------
def heatmap_panels(window) -> list:
    """The window's Heatmap panel(s), for the overlay-opacity preference."""
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    return [d.widget() for d in window.panels() if isinstance(d.widget(), QtHeatmapPanel)]


def apply_preferences(window, *, playback: bool = True) -> None:
    """Push ``window.settings`` to the player and the workspace (heatmap sample size and overlay
    opacity: the Heatmap panel and the replay overlay follow it).

    ``playback=False`` leaves speed and pause-on-hesitation alone (the window restores those
    itself at start-up and saves the player's own on quit).
    """
    s = window.settings
    core = window.player_view.player
    if playback:
        core.set_speed(s.speed)
        core.pause_on_hesitation = s.pause_on_hesitation   # the player's toggle follows (options event)
    core.hesitation_threshold_ms = s.hesitation_threshold_ms
    core.inactivity_threshold_ms = s.inactivity_threshold_ms
    # The Heatmap tab and the replay overlay follow the workspace's settings.
    window.workspace.set_min_sessions(s.heatmap_min_sessions)
    window.workspace.set_heatmap_opacity(s.overlay_opacity)


def show_preferences(window) -> bool:
    """Edit > Preferences…: True if the user saved (the new values are applied already)."""
    window.save_player_settings()   # so the dialog starts from the speed playing now
    dialog = PreferencesDialog(window.settings, window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    apply_preferences(window)
    return True

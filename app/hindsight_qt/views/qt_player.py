"""QtPlayer: the session replay player (canvas, scrubber, transport controls, keyboard).

The core ``hindsight.replay.player.Player`` owns all playback state and logic (speed,
auto-pause on hesitation, skipping inactivity); this widget only draws it and forwards
input. Wall-clock time is GUI business: a precise 16 ms ``QTimer`` measures real elapsed
time with ``QElapsedTimer`` and calls ``player.advance(dt_ms)``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QActionGroup, QColor, QIcon, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hindsight_qt.qtcompat import key_code, modifiers_of
from hindsight_qt.views.qt_player_overlay import OverlayToolbar, PlayerOverlay
from hindsight_qt.views.qt_replay_canvas import QtReplayCanvas
from hindsight_qt.views.qt_timeline import QtTimeline, format_ms

SEEK_STEP_MS = 5000.0
#: Longest wall-clock step fed to the player: after a stall (a modal dialog, a debugger,
#: a suspended laptop) playback resumes where it was instead of leaping ahead.
MAX_TICK_MS = 250.0
CHROME_BG = QColor("#23262c")
CHROME_TEXT = QColor("#e6e8eb")
CHROME_MUTED = QColor("#9aa1ab")

_STYLE = """
#playerChrome { background: #23262c; }
#playerChrome QLabel { color: #e6e8eb; }
#playerChrome QLabel#timeLabel { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
#playerChrome QLabel#statusLabel, #playerChrome QLabel#skipLabel { color: #9aa1ab; font-size: 11px; }
#playerChrome QLabel#skipLabel { color: #f5a524; }
#playerChrome QLabel#convertedBadge { color: #4ade80; font-size: 11px; font-weight: 600;
    border: 1px solid #2f6b47; border-radius: 4px; padding: 0px 5px; }
#playerChrome QToolButton { border: none; border-radius: 6px; padding: 4px; color: #e6e8eb; }
#playerChrome QToolButton:hover { background: #343841; }
#playerChrome QToolButton:pressed { background: #3f444e; }
#playerChrome QToolButton#playButton { background: #7c5cff; border-radius: 17px; }
#playerChrome QToolButton#playButton:hover { background: #8d72ff; }
#playerChrome QToolButton[segment="true"] { padding: 4px 10px; font-size: 12px; color: #c3c8cf;
    border: 1px solid #3a3f48; border-radius: 0px; }
#playerChrome QToolButton[segment="true"]:checked { background: #3a3f48; color: #ffffff; }
#playerChrome QToolButton#followButton { border-top-left-radius: 6px; border-bottom-left-radius: 6px; }
#playerChrome QToolButton#pageButton { border-top-right-radius: 6px; border-bottom-right-radius: 6px;
    border-left: none; }
#playerChrome QCheckBox { color: #c3c8cf; font-size: 12px; spacing: 6px; }
#playerChrome QToolButton#speedButton { font-size: 12px; font-weight: 600; min-width: 34px;
    border: 1px solid #3a3f48; padding: 4px 8px; }
#playerChrome QToolButton#speedButton::menu-indicator { image: none; width: 0px; }
QMenu { background: #2d3137; color: #e6e8eb; border: 1px solid #3a3f48; padding: 4px; }
QMenu::item { padding: 4px 18px 4px 22px; border-radius: 4px; }
QMenu::item:selected { background: #7c5cff; }
#pauseBanner { background: #f5a524; border: none; }
#pauseBanner QLabel { color: #1c1402; font-size: 13px; font-weight: 600; }
#pauseBanner QPushButton { color: #1c1402; background: rgba(0,0,0,0.10); border: 1px solid rgba(0,0,0,0.25);
    border-radius: 5px; padding: 3px 12px; font-weight: 600; }
#pauseBanner QPushButton:hover { background: rgba(0,0,0,0.18); }
"""


# -- icons ---------------------------------------------------------------------------------
def _icon(kind: str, color: QColor = CHROME_TEXT, size: int = 18) -> QIcon:
    """Transport icons drawn as vector paths (crisp at any DPI, no asset files)."""
    scale = 3
    pm = QPixmap(size * scale, size * scale)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.scale(size * scale / 24.0, size * scale / 24.0)  # draw on a 24-unit grid
    p.setPen(Qt.NoPen)
    p.setBrush(color)

    def tri(x0, x1, y0=5.0, y1=19.0):
        path = QPainterPath()
        path.moveTo(x0, y0)
        path.lineTo(x1, (y0 + y1) / 2)
        path.lineTo(x0, y1)
        path.closeSubpath()
        p.drawPath(path)

    if kind == "play":
        tri(8, 19)
    elif kind == "pause":
        p.drawRoundedRect(QRectF(6.5, 5, 4, 14), 1, 1)
        p.drawRoundedRect(QRectF(13.5, 5, 4, 14), 1, 1)
    elif kind == "step_forward":
        tri(6, 15, 6, 18)
        p.drawRoundedRect(QRectF(15.5, 6, 2.5, 12), 1, 1)
    elif kind == "step_back":
        tri(18, 9, 6, 18)
        p.drawRoundedRect(QRectF(6, 6, 2.5, 12), 1, 1)
    elif kind in ("next_marker", "prev_marker"):
        # a small flag-like diamond with an arrow: "jump to the next event"
        flip = kind == "prev_marker"
        p.save()
        if flip:
            p.translate(24, 0)
            p.scale(-1, 1)
        tri(4, 12, 6, 18)
        tri(11, 19, 6, 18)
        p.drawRoundedRect(QRectF(19, 6, 2.2, 12), 1, 1)
        p.restore()
    p.end()
    pm.setDevicePixelRatio(scale)
    return QIcon(pm)


def _is_text_input(w: QWidget | None) -> bool:
    if w is None:
        return False
    if isinstance(w, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)):
        return not w.isReadOnly()   # each of these four has isReadOnly()
    if isinstance(w, QComboBox):
        return w.isEditable()
    return False


# -- the player ---------------------------------------------------------------------------
class _ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" to the room it has (the full text in
    its tooltip), so a long session description never widens the player past a small screen
    (issue 13: at 1280x720 it pushed the window 53 px past the screen)."""

    MIN_WIDTH = 60

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__("", **kwargs)
        self._full = ""
        self.setText(text)

    def full_text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        self._full = text or ""
        self.setToolTip(self._full)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.ElideRight, max(self.width(), 1))
        super().setText(shown if self.width() > 1 else self._full)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(min(self.MIN_WIDTH, super().sizeHint().width()), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, super().sizeHint().height())

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        self._elide()


class _CanvasNote(QLabel):
    """A short note floating over the bottom-left corner of its parent; hidden when empty.
    Not in any layout, so showing it moves nothing."""

    MARGIN = 12

    def __init__(self, parent: QWidget) -> None:
        super().__init__("", parent)
        self.setObjectName("skipLabel")
        self.setTextFormat(Qt.PlainText)
        self.setAttribute(Qt.WA_TransparentForMouseEvents, True)
        self.setStyleSheet("QLabel#skipLabel { color: #f5a524; background: rgba(33, 36, 41, 225);"
                           " border-radius: 6px; padding: 4px 10px; font-size: 12px; }")
        parent.installEventFilter(self)
        self.hide()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setVisible(bool(text))
        if text:
            self._place()
            self.raise_()

    def _place(self) -> None:
        self.adjustSize()
        parent = self.parentWidget()
        self.move(self.MARGIN, max(0, parent.height() - self.height() - self.MARGIN))

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.parentWidget() and ev.type() == QEvent.Resize and self.text():
            self._place()
        return False


class QtPlayer(QWidget):
    """Replay one session: ``load_session(capture, session_id)``, then play."""

    next_session_requested = Signal()
    previous_session_requested = Signal()
    session_loaded = Signal(int)

    def __init__(self, parent: QWidget | None = None, workspace=None) -> None:
        super().__init__(parent)
        from hindsight.replay.player import Player

        self._workspace = workspace   # the window's Workspace, for the heatmap overlay (None: its own)
        self.player = Player()
        self.capture = None
        self.timeline = None
        self.session_id: int | None = None
        self._session = None
        self.frames_rendered = 0
        self._was_playing = False   # while the scrubber is dragged
        self._page_names: list[str] = []
        self._shown_pageview: int | None = None
        self.setFocusPolicy(Qt.StrongFocus)
        self.setStyleSheet(_STYLE)

        self._build_ui()

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(16)
        self._timer.timeout.connect(self._on_tick)
        self._clock = QElapsedTimer()
        self._skip_label_timer = QTimer(self, singleShot=True, interval=2500)
        self._skip_label_timer.timeout.connect(lambda: self.skip_label.setText(""))

        ev = self.player.events
        ev.time.connect(self._on_time)
        ev.playing.connect(self._on_playing)
        ev.speed.connect(self._on_speed)
        ev.paused_for.connect(self._on_paused_for)
        ev.skipping.connect(self._on_skipping)
        ev.session.connect(self._on_session)
        ev.options.connect(self._on_options)   # pause_on_hesitation / skip_inactivity / threshold changed
        if self._workspace is not None:   # the window's workspace knows the moment the player shows
            ev.time.connect(self._workspace.set_moment)

        for w in self.findChildren(QWidget):
            w.installEventFilter(self)
        self._update_labels(True)
        self._sync_controls()

    # -- construction --------------------------------------------------------------------
    def _build_ui(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)

        self.banner = QFrame(objectName="pauseBanner")
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(14, 7, 10, 7)
        self.banner_label = QLabel()
        self.banner_label.setTextFormat(Qt.PlainText)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setFocusPolicy(Qt.NoFocus)
        self.resume_button.setCursor(Qt.PointingHandCursor)
        self.resume_button.clicked.connect(self.player.play)
        bl.addWidget(self.banner_label, 1)
        bl.addWidget(self.resume_button)
        self.banner.hide()
        root.addWidget(self.banner)

        self.canvas = QtReplayCanvas()
        self.canvas.setFocusPolicy(Qt.ClickFocus)
        self.canvas.view_mode_changed.connect(self._on_view_mode)
        root.addWidget(self.canvas, 1)
        # the crowd's heatmap under this visitor's replay: a slim bar above the page
        self.overlay_bar = OverlayToolbar()
        root.insertWidget(0, self.overlay_bar)
        self.overlay = PlayerOverlay(self, self.overlay_bar, workspace=self._workspace)

        chrome = QWidget(objectName="playerChrome")
        chrome.setAttribute(Qt.WA_StyledBackground, True)
        pal = chrome.palette()
        pal.setColor(QPalette.Window, CHROME_BG)
        pal.setColor(QPalette.WindowText, CHROME_TEXT)
        pal.setColor(QPalette.Text, CHROME_TEXT)
        pal.setColor(QPalette.Base, QColor("#2d3137"))
        pal.setColor(QPalette.Button, QColor("#2d3137"))
        pal.setColor(QPalette.ButtonText, CHROME_TEXT)
        chrome.setPalette(pal)
        cl = QVBoxLayout(chrome)
        cl.setContentsMargins(8, 4, 12, 6)
        cl.setSpacing(2)
        root.addWidget(chrome)
        self.chrome = chrome

        self.timeline_widget = QtTimeline()
        self.timeline_widget.setPalette(pal)
        self.timeline_widget.seek_requested.connect(self._on_scrub)
        self.timeline_widget.scrub_started.connect(self._on_scrub_started)
        self.timeline_widget.scrub_finished.connect(self._on_scrub_finished)
        cl.addWidget(self.timeline_widget)

        row = QHBoxLayout()
        row.setSpacing(4)
        cl.addLayout(row)

        def tool(icon: str, tip: str, slot, name: str = "") -> QToolButton:
            b = QToolButton(objectName=name or f"{icon}Button")
            b.setIcon(_icon(icon))
            b.setIconSize(QSize(18, 18))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setFocusPolicy(Qt.NoFocus)
            b.setCursor(Qt.PointingHandCursor)
            b.clicked.connect(slot)
            return b

        self.prev_marker_button = tool("prev_marker", "Previous event  [", lambda: self.jump_marker(-1))
        self.step_back_button = tool("step_back", "Step back one frame  ,", lambda: self.player.step(-1))
        self.play_button = tool("play", "Play  Space", self._toggle, "playButton")
        self.play_button.setFixedSize(34, 34)
        self.step_forward_button = tool("step_forward", "Step forward one frame  .", lambda: self.player.step(1))
        self.next_marker_button = tool("next_marker", "Next event  ]", lambda: self.jump_marker(1))
        for b in (self.prev_marker_button, self.step_back_button, self.play_button,
                  self.step_forward_button, self.next_marker_button):
            row.addWidget(b)
        row.addSpacing(10)
        self.time_label = QLabel("0:00 / 0:00", objectName="timeLabel")
        row.addWidget(self.time_label)
        row.addSpacing(12)
        # Notes ("» Skipped 1:02 of inactivity", "No earlier marker") float over the replay's
        # bottom-left corner: in the control row they pushed the controls aside (issue 13).
        self.skip_label = _CanvasNote(self.canvas)
        row.addStretch(1)

        self.pause_check = QCheckBox("Pause on hesitation")
        self.pause_check.setToolTip("Stop where the visitor hesitated, so you can see why")
        self.skip_check = QCheckBox("Skip inactivity")
        self.skip_check.setToolTip("Fast-forward through stretches where nothing happens")
        for c in (self.pause_check, self.skip_check):
            c.setFocusPolicy(Qt.NoFocus)
            row.addWidget(c)
            row.addSpacing(8)
        self.pause_check.toggled.connect(self._on_pause_check)
        self.skip_check.toggled.connect(self._on_skip_check)

        self.speed_button = QToolButton(objectName="speedButton")
        self.speed_button.setPopupMode(QToolButton.InstantPopup)
        self.speed_button.setFocusPolicy(Qt.NoFocus)
        self.speed_button.setCursor(Qt.PointingHandCursor)
        self.speed_button.setToolTip("Playback speed  + / −")
        self.speed_menu = QMenu(self.speed_button)
        self._speed_actions = QActionGroup(self)
        for s in self._speeds():
            act = self.speed_menu.addAction(f"{s:g}×")
            act.setCheckable(True)
            act.setData(float(s))
            self._speed_actions.addAction(act)
        self._speed_actions.triggered.connect(lambda a: self.player.set_speed(float(a.data())))
        self.speed_button.setMenu(self.speed_menu)
        row.addWidget(self.speed_button)
        row.addSpacing(10)

        self.follow_button = QToolButton(objectName="followButton")
        self.follow_button.setText("Follow viewport")
        self.follow_button.setToolTip("Keep the visitor's screen in view  F")
        self.page_button = QToolButton(objectName="pageButton")
        self.page_button.setText("Whole page")
        self.page_button.setToolTip("Show the full page")
        self._view_group = QButtonGroup(self)
        for b in (self.follow_button, self.page_button):
            b.setProperty("segment", True)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.NoFocus)
            b.setCursor(Qt.PointingHandCursor)
            self._view_group.addButton(b)
            row.addWidget(b)
        self.follow_button.setChecked(True)
        self._view_group.setExclusive(False)
        self.follow_button.clicked.connect(lambda: self.canvas.set_view_mode("follow"))
        self.page_button.clicked.connect(lambda: self.canvas.set_view_mode("page"))

        status = QHBoxLayout()
        status.setContentsMargins(6, 0, 0, 0)
        self.status_label = _ElidedLabel("No session", objectName="statusLabel")
        self.status_label.setTextFormat(Qt.PlainText)
        status.addWidget(self.status_label, 1)
        # A badge of its own, and a gap before the page text: as the last part of the status
        # text, "converted" ran into "Page 1 of 2" when the row was tight.
        self.converted_badge = QLabel("converted", objectName="convertedBadge")
        self.converted_badge.hide()
        status.addWidget(self.converted_badge)
        status.addSpacing(16)
        self.page_label = _ElidedLabel("", objectName="statusLabel")
        self.page_label.setTextFormat(Qt.PlainText)
        self.page_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        status.addWidget(self.page_label)
        cl.addLayout(status)

    def _speeds(self) -> tuple[float, ...]:
        from hindsight.replay.player import SPEEDS

        return tuple(SPEEDS)

    # -- session -------------------------------------------------------------------------
    def load_session(self, capture, session_id: int, at_ms: float = 0, autoplay: bool = True) -> None:
        """Replay ``session_id`` of ``capture`` from ``at_ms``; KeyError if there is no such session.

        At 0 the replay is cued where the first page finished loading (``cue_ms``): at 0 the
        page is still a "Loading" veil, which read as the app hanging.
        """
        from hindsight.replay.timeline import SessionTimeline

        session = capture.session(int(session_id))
        timeline = SessionTimeline.load(capture, int(session_id))
        self._timer.stop()
        self.capture, self.timeline, self.session_id, self._session = capture, timeline, int(session_id), session
        self.canvas.set_session(capture, timeline)
        self.canvas.set_hesitation(None)
        self.banner.hide()
        self._page_names = self._page_labels(capture, timeline)
        self._shown_pageview = None
        self.timeline_widget.set_timeline(timeline, self._page_names)
        self.status_label.setText(self._status_text(session, timeline))
        self.converted_badge.setVisible(bool(session.converted))
        if at_ms <= 0:
            at_ms = self.cue_ms(timeline)
        self.player.load(timeline, at_ms)
        self.timeline_widget.set_inactive(self.player.idle_spans)   # hatched at the user's threshold
        self._render(self.player.frame())
        if autoplay:
            self.player.play()
        self._sync_controls()
        self.session_loaded.emit(int(session_id))

    @staticmethod
    def cue_ms(timeline) -> float:
        """Where a session opens: the first page's LOAD (its start + load time), else 0."""
        loaded = timeline.index.pv_loaded_list
        if not loaded or not len(timeline.pageviews):
            return 0.0
        return float(timeline.clamp(loaded[0]))

    def clear(self) -> None:
        self.player.pause()
        self._timer.stop()
        self.capture = self.timeline = self.session_id = self._session = None
        self.canvas.clear()
        self.overlay.reset()
        self.timeline_widget.set_timeline(None)
        self.banner.hide()
        self.status_label.setText("No session")
        self.converted_badge.hide()
        self.page_label.setText("")
        self._page_names, self._shown_pageview = [], None
        self.time_label.setText("0:00 / 0:00")

    @staticmethod
    def _page_labels(capture, timeline) -> list[str]:
        pages = {p.page_id: p for p in capture.pages()}
        out = []
        for i, pv in enumerate(timeline.pageviews):
            page = pages.get(pv.page_id)
            if page is None:
                out.append(f"Page {i + 1}")
                continue
            path = page.url.split("://", 1)[-1]
            path = "/" + path.split("/", 1)[1] if "/" in path else "/"
            out.append(page.title or path)
        return out

    @staticmethod
    def _status_text(session, timeline) -> str:
        device = (session.device or "").capitalize()
        where = f"{session.browser} on {session.os}" if session.os else session.browser
        pages = len(timeline.pageviews)
        parts = [f"Session #{session.session_id}", device, where, session.country or "—",
                 f"{session.viewport_w}×{session.viewport_h}", format_ms(timeline.duration_ms),
                 f"{pages} page{'s' if pages != 1 else ''}"]
        return "  ·  ".join(p for p in parts if p)

    # -- playback clock --------------------------------------------------------------------
    def _on_tick(self) -> None:
        dt = min(float(self._clock.restart()), MAX_TICK_MS)
        before = self.frames_rendered
        frame = self.player.advance(dt)
        if frame is not None and self.frames_rendered == before:
            self._render(frame)

    def _render(self, frame) -> None:
        if frame is None or self.timeline is None:
            return
        self.canvas.render_frame(frame, self.timeline)
        self.overlay.follow(frame.snapshot_id)
        self.timeline_widget.set_time(frame.t_ms)
        dur = self.timeline.duration_ms
        self.time_label.setText(f"{format_ms(frame.t_ms)} / {format_ms(dur)}")
        self.frames_rendered += 1
        if frame.pageview_index != self._shown_pageview:
            self._shown_pageview = frame.pageview_index
            n = len(self._page_names)
            i = frame.pageview_index
            self.page_label.setText(f"Page {i + 1} of {n}:  {self._page_names[i]}" if 0 <= i < n else "")
        # whoever sets the two flags (settings, a core without an 'options' event), the boxes follow
        if self.pause_check.isChecked() != bool(self.player.pause_on_hesitation) \
                or self.skip_check.isChecked() != bool(self.player.skip_inactivity):
            self._sync_toggles()

    # -- player events -------------------------------------------------------------------
    def _on_time(self, *_: Any) -> None:
        self._render(self.player.frame())

    def _on_session(self, *_: Any) -> None:
        self._sync_controls()

    def _on_playing(self, *_: Any) -> None:
        playing = bool(self.player.playing)
        self.play_button.setIcon(_icon("pause" if playing else "play"))
        self.play_button.setToolTip(("Pause" if playing else "Play") + "  Space")
        if playing:
            self._clock.start()
            self._timer.start()
        else:
            self._timer.stop()

    def _on_speed(self, *_: Any) -> None:
        speed = float(self.player.speed)
        self.speed_button.setText(f"{speed:g}×")
        for act in self._speed_actions.actions():
            act.setChecked(float(act.data()) == speed)

    def _on_paused_for(self, *_: Any) -> None:
        h = self.player.paused_for
        self.canvas.set_hesitation(h)
        if h is None:
            self.banner.hide()
            return
        text = h.describe()
        text = text[:1].lower() + text[1:] if text else "hesitation"
        self.banner_label.setText(f"Paused: {text} — Space to resume")
        self.banner.show()

    def _on_skipping(self, span: Any = None, *_: Any) -> None:
        try:
            secs = (float(span[1]) - float(span[0])) / 1000.0
            text = f"» Skipped {format_ms(secs * 1000)} of inactivity"
        except (TypeError, IndexError, ValueError):
            text = "» Skipped inactivity"
        self.skip_label.setText(text)
        self._skip_label_timer.start()

    def _sync_controls(self) -> None:
        self._on_playing()
        self._on_speed()
        self._sync_toggles()
        loaded = self.timeline is not None
        for w in (self.play_button, self.step_back_button, self.step_forward_button,
                  self.prev_marker_button, self.next_marker_button, self.timeline_widget):
            w.setEnabled(loaded)

    def _on_options(self, change=None) -> None:
        if isinstance(change, tuple) and change and change[0] == "inactivity_threshold_ms":
            self.timeline_widget.set_inactive(self.player.idle_spans)
        self._sync_toggles()

    def _sync_toggles(self) -> None:
        for box, on in ((self.pause_check, self.player.pause_on_hesitation),
                        (self.skip_check, self.player.skip_inactivity)):
            box.blockSignals(True)
            box.setChecked(bool(on))
            box.blockSignals(False)

    # -- controls ------------------------------------------------------------------------
    def _toggle(self) -> None:
        if self.timeline is not None:
            self.player.toggle()

    def _on_pause_check(self, on: bool) -> None:
        self.player.pause_on_hesitation = bool(on)

    def _on_skip_check(self, on: bool) -> None:
        self.player.skip_inactivity = bool(on)

    def jump_marker(self, direction: int) -> None:
        """[ / ]: to the previous / next marker, or say there is none that way."""
        if self.timeline is not None and not self.player.jump_marker(direction):
            self.show_message("No later marker" if direction > 0 else "No earlier marker")

    def show_message(self, text: str) -> None:
        """A brief note in the chrome (it clears itself after 2.5 s)."""
        self.skip_label.setText(text)
        self._skip_label_timer.start()

    def _on_scrub_started(self) -> None:
        self._was_playing = bool(self.player.playing)
        if self._was_playing:
            self.player.pause()

    def _on_scrub(self, t_ms: float) -> None:
        if self.timeline is not None:
            self.player.seek(t_ms)

    def _on_scrub_finished(self) -> None:
        if self._was_playing:
            self.player.play()
        self._was_playing = False

    def _on_view_mode(self, mode: str) -> None:
        self.follow_button.setChecked(mode == "follow")
        self.page_button.setChecked(mode == "page")

    def _change_speed(self, direction: int) -> None:
        speeds = self._speeds()
        cur = float(self.player.speed)
        idx = min(range(len(speeds)), key=lambda i: abs(speeds[i] - cur))
        idx = min(max(idx + direction, 0), len(speeds) - 1)
        self.player.set_speed(speeds[idx])

    # -- keyboard ------------------------------------------------------------------------
    def handle_key(self, key: int, modifiers=Qt.NoModifier) -> bool:
        """Apply a player shortcut; True if ``key`` was one (the main window may forward keys)."""
        key = key_code(key)
        mods = modifiers_of(modifiers)
        if _is_text_input(QApplication.focusWidget()):
            return False
        if mods & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
            return False
        if self.timeline is None:
            if key == Qt.Key_N:
                self.next_session_requested.emit()
                return True
            if key == Qt.Key_P:
                self.previous_session_requested.emit()
                return True
            return False
        p = self.player
        actions = {
            Qt.Key_Space: self._toggle,
            Qt.Key_K: self._toggle,
            Qt.Key_Left: lambda: p.seek(max(p.t_ms - SEEK_STEP_MS, 0.0)),
            Qt.Key_Right: lambda: p.seek(min(p.t_ms + SEEK_STEP_MS, float(self.timeline.duration_ms))),
            Qt.Key_Comma: lambda: p.step(-1),
            Qt.Key_Period: lambda: p.step(1),
            Qt.Key_BracketLeft: lambda: self.jump_marker(-1),
            Qt.Key_BracketRight: lambda: self.jump_marker(1),
            Qt.Key_Plus: lambda: self._change_speed(1),
            Qt.Key_Equal: lambda: self._change_speed(1),
            Qt.Key_Minus: lambda: self._change_speed(-1),
            Qt.Key_Underscore: lambda: self._change_speed(-1),
            Qt.Key_N: self.next_session_requested.emit,
            Qt.Key_P: self.previous_session_requested.emit,
            Qt.Key_F: self.toggle_follow,
            Qt.Key_H: self.overlay.cycle_kind,
            Qt.Key_Home: lambda: p.seek(0.0),
            Qt.Key_End: lambda: p.seek(float(self.timeline.duration_ms)),
        }
        action = actions.get(key)
        if action is None:
            return False
        action()
        return True

    def toggle_follow(self) -> None:
        self.canvas.set_view_mode("page" if self.canvas.view_mode == "follow" else "follow")

    def keyPressEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if not self.handle_key(ev.key(), ev.modifiers()):
            super().keyPressEvent(ev)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt override
        # Children (buttons eat Space, the graphics view eats arrows) get the shortcuts first.
        if ev.type() == QEvent.KeyPress and isinstance(obj, QWidget) and not isinstance(obj, QMenu) \
                and not _is_text_input(obj):
            if self.handle_key(ev.key(), ev.modifiers()):
                return True
        return super().eventFilter(obj, ev)

    # -- layout --------------------------------------------------------------------------
    _LABELS = {  # (wide, compact) texts; the tooltips keep the full meaning
        "pause_check": ("Pause on hesitation", "Auto-pause"),
        "skip_check": ("Skip inactivity", "Skip idle"),
        "follow_button": ("Follow viewport", "Follow"),
        "page_button": ("Whole page", "Page"),
    }

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        self._update_labels(self.width() < 940)
        self.status_label.setVisible(self.height() >= 260)

    def _update_labels(self, compact: bool) -> None:
        # Compact until the player is known to be wide: a player never resized yet would ask
        # the window for room for the long labels (pushing a 1280 px window past the screen).
        widgets = {"pause_check": self.pause_check, "skip_check": self.skip_check,
                   "follow_button": self.follow_button, "page_button": self.page_button}
        for name, texts in self._LABELS.items():
            widgets[name].setText(texts[compact])

    # -- lifecycle -----------------------------------------------------------------------
    def hideEvent(self, ev) -> None:  # noqa: N802 - Qt override
        # no playback nobody sees; the player keeps its position
        if self.player.playing:
            self.player.pause()
        super().hideEvent(ev)

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self._timer.stop()
        super().closeEvent(ev)

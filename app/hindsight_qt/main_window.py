"""The main window: menus, the Sessions dock (filters + table), the player, room for panels.

It composes views; it owns no data logic and routes nothing between them. The window owns
one :class:`hindsight.workspace.Workspace` and hands it to every view it builds: the
filter panel, the player (and its heatmap overlay) and the analysis panels subscribe to
its events, so a change made in one view (a Signals tick, a funnel's "show these sessions",
a replay request) reaches the others through the workspace, never through each other.
Store calls that can take a while go through ``tasks.run`` (the session table, demo
generation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hindsight.text import plural
from hindsight import __version__
from hindsight.store import CaptureError, SessionFilter, open_capture
from hindsight.workspace import Workspace
from hindsight_qt.errors import damaged_note, show_error, user_message
from hindsight_qt import tasks
from hindsight_qt.qtcompat import key_code
from hindsight_qt.resources import resource_path
from hindsight_qt.settings import Settings, default_demo_path, recent_exists
from hindsight_qt.subscribe import subscribe_all
from hindsight_qt.views.qt_filter_panel import QtFilterPanel
from hindsight_qt.views.qt_session_list import QtSessionList

def _funnel_panel():
    from hindsight_qt.views.qt_funnel_panel import QtFunnelPanel

    return QtFunnelPanel


def _heatmap_panel():
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    return QtHeatmapPanel


def _signals_panel():
    from hindsight_qt.views.qt_signals_panel import QtSignalsPanel

    return QtSignalsPanel


def _forms_panel():
    from hindsight_qt.views.qt_forms_panel import QtFormsPanel

    return QtFormsPanel


def _bookmarks_installer():
    from hindsight_qt.views.qt_bookmarks_panel import install_bookmark_support

    return install_bookmark_support


def _share_installer():
    from hindsight_qt.views.qt_share import install_share_actions

    return install_share_actions


#: Analysis panels the app docks (dock title, a function importing the panel class), in workflow
#: order. Each is built as ``cls(workspace=...)`` with the window's Workspace (replay requests and
#: filters go through it) and has ``set_capture(capture | None)`` and ``set_filter(SessionFilter)``,
#: which the window calls while the panel is on screen. A panel that fails to import is skipped.
PANELS: tuple[tuple[str, Callable[[], type]], ...] = (
    ("Funnel", _funnel_panel),
    ("Heatmap", _heatmap_panel),
    ("Signals", _signals_panel),
    ("Forms", _forms_panel),
)
#: (name, a function importing ``install(main_window)``) of panels that wire themselves (bookmarks).
PANEL_INSTALLERS: tuple[tuple[str, Callable[[], Callable]], ...] = (
    ("Bookmarks", _bookmarks_installer),
    ("Sharing", _share_installer),   # clips and the findings report
)
#: (title, area) of the docks ``PANEL_INSTALLERS`` add, in order: a lazy start reserves them
#: with the ``PANELS`` docks, so tabs, View menu and saved layout are there from the first paint.
INSTALLER_DOCKS: tuple[tuple[str, Qt.DockWidgetArea], ...] = (
    ("Bookmarks", Qt.DockWidgetArea.RightDockWidgetArea),
)

FILE_FILTER = "Hindsight captures (*.sqlite *.db *.hindsight);;All files (*)"
DEMO_SESSIONS = 2000
DEMO_SEED = 7

#: (keys, what they do) for Help > Keyboard shortcuts, grouped.
SHORTCUTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Playback", (
        ("Space", "Play / pause"),
        ("← / →", "Back / forward 5 seconds"),
        (", / .", "Previous / next frame"),
        ("[ / ]", "Previous / next marker"),
        ("+ / −", "Faster / slower"),
        ("F", "Follow the cursor / whole page"),
        ("H", "Heatmap overlay: off / click / move / scroll / attention / rage / dead"),
    )),
    ("Sessions", (
        ("N / P", "Next / previous session in the list"),
        ("Enter", "Replay the selected session"),
        ("Ctrl+G", "Go to a session by its id"),
    )),
    ("Application", (
        ("Ctrl+O", "Open a capture"),
        ("Ctrl+W", "Close the capture"),
        ("F1", "This list"),
    )),
)

WORKFLOW_TEXT = (
    "Start with the <b>funnel</b> to see where visitors drop off, open the <b>heatmap</b> of "
    "that page to see what they did there, then watch the <b>recordings</b> behind it to see "
    "why. <b>Patterns</b> — rage clicks, dead clicks, hesitations — point you to the sessions "
    "worth watching."
)


def _on_screen(dock: QDockWidget) -> bool:
    # A dock behind another tab still reports isVisible() (and its visibilityChanged signals
    # come in a muddled order); QMainWindow parks it outside the window instead.
    if not dock.isVisible():
        return False
    if dock.isFloating():
        return True
    window = dock.parentWidget()
    return window is None or window.rect().intersects(dock.geometry())


def _source_name(source) -> str:
    """The short name of a capture file or dataset folder / URL (its last path part)."""
    text = str(source).rstrip("/")
    return text.rsplit("/", 1)[-1] or text


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- placeholder player ------------------------------------------------------------------
class _PlaceholderCore:
    """Stands in for the core Player until ``hindsight.replay.player`` is importable."""

    def __init__(self) -> None:
        self.speed = 1.0
        self.playing = False
        self.paused_for = None
        self.pause_on_hesitation = False
        from hindsight.replay.inactivity import INACTIVITY_MS
        from hindsight.replay.player import DEFAULT_HESITATION_MS

        self.hesitation_threshold_ms = DEFAULT_HESITATION_MS
        self.inactivity_threshold_ms = INACTIVITY_MS
        self.t_ms = 0.0

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)

    def pause(self) -> None:
        self.playing = False


class PlaceholderPlayer(QWidget):
    """Same API as ``QtPlayer``; shows which session would play. Used if the player is missing."""

    next_session_requested = Signal()
    previous_session_requested = Signal()
    session_loaded = Signal(int)

    def __init__(self, parent: QWidget | None = None, reason: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("PlaceholderPlayer")
        self.player = _PlaceholderCore()
        self.overlay = None           # no heatmap overlay without the real player
        self.timeline_widget = None   # nor a timeline
        self.capture = None
        self.session_id: int | None = None
        self._label = QLabel("Double-click a session to replay it", self)
        self._label.setObjectName("EmptyHint")
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setToolTip(reason)
        layout = QVBoxLayout(self)
        layout.addWidget(self._label)

    def load_session(self, capture, session_id: int, at_ms: float = 0, autoplay: bool = True) -> None:
        session = capture.session(int(session_id))
        self.capture, self.session_id = capture, int(session_id)
        self.player.playing = autoplay
        self._label.setText(f"Session {session.session_id} · {session.device} · {session.browser}\n"
                            "(the replay player is not available in this build)")
        self.session_loaded.emit(int(session_id))

    def clear(self) -> None:
        self.capture = self.session_id = None
        self._label.setText("Double-click a session to replay it")

    def handle_key(self, key, modifiers=Qt.KeyboardModifier.NoModifier) -> bool:
        key = key_code(key)
        if key == int(Qt.Key.Key_N.value):
            self.next_session_requested.emit()
            return True
        if key == int(Qt.Key.Key_P.value):
            self.previous_session_requested.emit()
            return True
        if key == int(Qt.Key.Key_Space.value) and self.session_id is not None:
            self.player.playing = not self.player.playing
            return True
        return False


def _make_player(parent: QWidget, workspace: Workspace) -> QWidget:
    try:
        from hindsight_qt.views.qt_player import QtPlayer

        return QtPlayer(parent, workspace=workspace)
    except ImportError as exc:  # the player or its core is not in this checkout yet
        return PlaceholderPlayer(parent, reason=str(exc))


# -- welcome page -------------------------------------------------------------------------
class WelcomePage(QWidget):
    """Shown while no capture is open: open buttons, recent files, the workflow in a sentence."""

    open_requested = Signal()
    demo_requested = Signal()
    recent_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WelcomePage")
        card = QFrame(self)
        card.setObjectName("WelcomeCard")
        card.setFixedWidth(560)

        logo = QLabel(card)
        logo.setPixmap(_app_icon_pixmap(56))
        logo.setFixedSize(56, 56)
        title = QLabel("Hindsight", card)
        title.setObjectName("WelcomeTitle")
        subtitle = QLabel("Find the sessions worth watching, then replay them.", card)
        subtitle.setObjectName("WelcomeSubtitle")
        head_text = QVBoxLayout()
        head_text.setSpacing(2)
        head_text.addWidget(title)
        head_text.addWidget(subtitle)
        head = QHBoxLayout()
        head.setSpacing(16)
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        head.addLayout(head_text, 1)

        self.open_button = QPushButton("Open capture…", card)
        self.open_button.setObjectName("PrimaryButton")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_requested)
        self.demo_button = QPushButton("Open demo capture", card)
        self.demo_button.clicked.connect(self.demo_requested)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)

        workflow = QLabel(f'<p style="line-height:145%">{WORKFLOW_TEXT}</p>', card)
        workflow.setObjectName("WelcomeText")
        workflow.setWordWrap(True)
        workflow.setTextFormat(Qt.TextFormat.RichText)

        self.recent_title = QLabel("Recent", card)
        self.recent_title.setObjectName("SectionTitle")
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)

        hint = QLabel("Tip: drop a capture file anywhere on this window.", card)
        hint.setObjectName("Muted")

        col = QVBoxLayout(card)
        col.setContentsMargins(36, 32, 36, 28)
        col.setSpacing(0)
        steps = QHBoxLayout()
        steps.setSpacing(6)
        for n, step in enumerate(("Funnel", "Heatmap", "Recordings", "Patterns")):
            if n:
                arrow = QLabel("→", card)
                arrow.setObjectName("Muted")
                steps.addWidget(arrow)
            chip = QLabel(f"{n + 1}  {step}", card)
            chip.setObjectName("StepChip")
            bold = chip.font()
            bold.setBold(True)   # in code, not the style sheet, so the label is sized for it
            chip.setFont(bold)
            steps.addWidget(chip)
        steps.addStretch(1)

        col.addLayout(head)
        col.addSpacing(24)
        col.addLayout(steps)
        col.addSpacing(14)
        col.addWidget(workflow)
        col.addSpacing(20)
        col.addLayout(buttons)
        col.addSpacing(26)
        col.addWidget(self.recent_title)
        col.addSpacing(6)
        col.addLayout(self.recent_box)
        col.addSpacing(18)
        col.addWidget(hint)

        outer = QVBoxLayout(self)
        outer.addStretch(2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)

    def set_recent(self, paths: list[str]) -> None:
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.recent_title.setVisible(bool(paths))
        for path in paths:
            p = Path(path)
            exists = recent_exists(path)
            name = _source_name(path).replace("&", "&amp;").replace("<", "&lt;")
            folder = (path.rsplit("/", 1)[0] if "://" in path else str(p.parent)).replace(str(Path.home()), "~", 1).replace("&", "&amp;").replace("<", "&lt;")
            if exists:
                html = (f'<a href="open" style="text-decoration:none">{name}</a>'
                        f'&nbsp;&nbsp;<span style="color:#8A91A0">{folder}</span>')
            else:
                html = f'<span style="color:#A4AAB6">{name}&nbsp;&nbsp;{folder} (missing)</span>'
            label = QLabel(html, self)
            label.setObjectName("RecentItem")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setToolTip(path)
            label.setCursor(Qt.CursorShape.PointingHandCursor if exists else Qt.CursorShape.ArrowCursor)
            label.linkActivated.connect(lambda _href, path=path: self.recent_requested.emit(path))
            self.recent_box.addWidget(label)


def _app_icon_pixmap(size: int):
    from PySide6.QtGui import QIcon

    return QIcon(str(resource_path("icons/hindsight.svg"))).pixmap(QSize(size, size))


# -- shortcuts dialog ----------------------------------------------------------------------
class ShortcutsDialog(QDialog):
    """Help > Keyboard shortcuts: every key the player and window understand."""

    def __init__(self, parent: QWidget | None = None, groups=SHORTCUTS) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("ShortcutsDialog")
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(7)
        row = 0
        for group, items in groups:
            header = QLabel(group, self)
            header.setObjectName("SectionTitle")
            grid.addWidget(header, row, 0, 1, 2)
            row += 1
            for keys, text in items:
                caps = QHBoxLayout()
                caps.setSpacing(4)
                for part in keys.split(" / "):
                    cap = QLabel(part, self)
                    cap.setObjectName("KeyCap")
                    cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
                    caps.addWidget(cap)
                caps.addStretch(1)
                grid.addLayout(caps, row, 0)
                grid.addWidget(QLabel(text, self), row, 1)
                row += 1
            grid.setRowMinimumHeight(row, 10)
            row += 1
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addLayout(grid)
        layout.addWidget(buttons)


# -- main window ---------------------------------------------------------------------------
HEATMAP_DOCK_MIN_PX = 440   # the Heatmap dock's width while its map is full size: its controls fit
HEATMAP_DOCK_MAX_PX = 600


class _AfterPaint(QObject):
    """Event filter: once the watched widget has painted, ``callback`` in a zero-timer (once)."""

    def __init__(self, parent: QObject, callback: Callable[[], None]) -> None:
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, callback)
            self.deleteLater()
        return False


#: The player's (size hint, minimum size hint) as this build lays it out at the default font, for a
#: lazy start that has none saved yet (``Settings.player_size_hints``).
PLAYER_SIZE_HINTS = (666, 618, 663, 200)


class _PlayerSlot(QWidget):
    """The player's place until a lazy start builds it, sized as the player will be (its size
    hints as last built), so the Sessions dock already has the width it keeps."""

    def __init__(self, parent: QWidget, hints: tuple[int, int, int, int]) -> None:
        super().__init__(parent)
        self.setObjectName("PlayerSlot")
        self._hint, self._minimum = QSize(hints[0], hints[1]), QSize(hints[2], hints[3])
        # Says what the empty place is for while the build runs (1-2 s after the first paint).
        self.note = QLabel("Loading the player…", self)
        self.note.setObjectName("Muted")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box = QVBoxLayout(self)
        box.addWidget(self.note)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self._hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self._minimum


class _BlankTitleBar(QWidget):
    """Replaces a tabbed dock's title bar (its tab already names it)."""

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, 0)


class _PanelDock(QDockWidget):
    """A panel's dock. The panel sits in a scroll area, so one panel's large minimum size
    cannot force the window (and every dock tabbed with it) past the screen; ``widget()``
    still returns the panel itself."""

    def __init__(self, title: str, panel: QWidget, parent: QWidget) -> None:
        super().__init__(title, parent)
        self._panel = panel
        scroll = QScrollArea(self)
        scroll.setObjectName("PanelScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(panel)
        self.setWidget(scroll)

    def widget(self) -> QWidget:  # noqa: D102 - the panel, not its scroll area
        return self._panel

    def set_panel(self, panel: QWidget) -> None:
        """Put ``panel`` in place of the one shown (a lazy start's empty placeholder)."""
        self._panel = panel
        super().widget().setWidget(panel)   # the scroll area deletes the placeholder

    def scroll_area(self) -> QScrollArea:
        return super().widget()


class _SessionsPane(QWidget):
    """The Sessions dock's content; its size hint gives the table room for all its columns."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("SessionsPane")

    def sizeHint(self) -> QSize:  # noqa: N802 - first-run dock width (saved layouts override it)
        return QSize(860, 600)


class MainWindow(QMainWindow):
    """Hindsight's window. Colleagues add views with ``add_panel``; tests drive ``open_capture``."""

    capture_did_open = Signal(object)    # the new Capture
    capture_did_close = Signal()
    filter_did_change = Signal(object)   # SessionFilter
    session_did_load = Signal(int)       # session id now in the player
    window_did_build = Signal()          # a lazy start's player and panels are built (finish_building)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None,
                 panels: bool = False, lazy: bool = False) -> None:
        """``panels``: dock the analysis panels. ``lazy`` (the app's start): the menus, the
        Sessions dock and the panels' docks (tabs, View menu, saved layout) are built at once,
        the player and the panels' contents (pyqtgraph, the analyses) by :meth:`finish_building`,
        right after the first paint of the session list (or of the window, ``finish_after_paint``),
        or at once when something needs the player (a key, a replay)."""
        super().__init__(parent)
        self._player: QWidget | None = None
        self._built = not lazy          # False until finish_building ran
        self._panels_pending = False    # install_panels waits for finish_building
        self._reserved_docks: dict[str, QDockWidget] = {}   # title -> a lazy start's placeholder dock
        self._finish_on_table = False   # finish_building once the open capture's list is painted
        self._cue_after_build = False   # the first session goes into the player once it is built
        self._recent_after_build = None   # the capture opened before then, for the recent files
        self._closed = False
        self._build_steps: list[Callable[[], None]] | None = None   # the lazy build's steps left
        self.settings = settings or Settings()
        #: What the user looks at in the open capture; every view is built with it.
        self.workspace = Workspace()
        self.bookmarks_panel = None   # set by install_bookmark_support (PANEL_INSTALLERS)
        self.capture = None
        self.bookmark_action: QAction | None = None   # the bookmarks panel's B action, when installed
        self._counts: dict[str, int] = {}
        self.current_session_id: int | None = None
        self.demo_path = default_demo_path()
        self._panel_docks: list[QDockWidget] = []
        self._panel_widgets: dict[QWidget, QDockWidget] = {}
        self._dock_actions: dict[QDockWidget, QAction] = {}
        self._raise_sessions = True
        # What each wired panel was last given; panels off screen catch up when shown.
        self._panel_capture: dict[QWidget, object] = {}
        self._panel_filter: dict[QWidget, SessionFilter] = {}
        self._hidden_docks: dict[QDockWidget, bool] = {}
        self._layout_before_welcome = None   # QMainWindow.saveState() taken when the welcome page came up
        self._demo_task = None
        self.demo_progress = None   # the demo's TaskProgressDialog while it is generated
        self.open_task = None       # a dataset being opened (tasks.Task), and its progress dialog
        self.open_progress = None
        self.open_error = ""        # the last dataset open's error line, if it failed
        self.setObjectName("MainWindow")
        self.setWindowTitle("Hindsight")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)

        # Central: welcome page or player.
        self.welcome = WelcomePage(self)
        self.welcome.open_requested.connect(self.show_open_dialog)
        self.welcome.demo_requested.connect(self.open_demo_capture)
        self.welcome.recent_requested.connect(self.open_capture)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.welcome)
        # The player's place; a lazy start fills it after the first paint (finish_building).
        self._player_slot = _PlayerSlot(self, self.settings.player_size_hints() or PLAYER_SIZE_HINTS)
        self.stack.addWidget(self._player_slot)
        if self._built:
            self._build_player()
        # The Heatmap tab's page map and hot spots, full size while that tab is in front.
        self.heatmap_page = QWidget(self)
        self.heatmap_page.setObjectName("HeatmapPage")
        page_layout = QVBoxLayout(self.heatmap_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self.heatmap_page)
        self.heatmap_panel = None        # the Heatmap panel, once docked
        self._heatmap_dock: QDockWidget | None = None
        self._dock_width_before = 0      # the panel docks' width before the map went full size
        self._map_central = True         # False after a replay was asked for: the player shows
        self.setCentralWidget(self.stack)

        # Left dock: filters above the session table.
        self.filter_panel = QtFilterPanel(self.workspace)
        self.session_list = QtSessionList(workspace=self.workspace)
        self.session_list.session_activated.connect(self.load_session)
        self.session_list.table_did_load.connect(self._on_table_loaded)
        self.session_list.index_did_load.connect(self.workspace.set_signal_index)
        # A lazy start: the background analyses of an open capture wait for finish_building.
        self.session_list.hold_index(not self._built)
        self.filter_panel.hold_report(not self._built)
        self._report_after_index = False   # finish_building: the form report once the index is in
        self.session_list.index_did_load.connect(lambda _index: self._release_report())
        self.session_list.index_did_fail.connect(self._release_report)
        self.session_list.session_requested.connect(self.go_to_session)
        events = self.workspace.events
        subscribe_all(self, ((events.filter_changed, self._on_filter_changed),
                             (events.replay_requested, self._on_replay_requested)))
        self._opening = False
        # Erased sessions: reopen, so the player, panels and the workspace's caches forget them.
        self.session_list.sessions_did_delete.connect(
            lambda _plan: self.capture is not None and self.open_capture(self.capture.path))
        self.session_list.set_hidden_columns(self.settings.hidden_columns)
        self.session_list.columns_changed.connect(
            lambda keys: setattr(self.settings, "hidden_columns", keys))
        self._cue_first_session = False
        sessions = _SessionsPane()
        col = QVBoxLayout(sessions)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.filter_panel)
        divider = QFrame(sessions)
        divider.setObjectName("Divider")
        divider.setFrameShape(QFrame.Shape.HLine)
        col.addWidget(divider)
        col.addWidget(self.session_list, 1)
        self.sessions_dock = QDockWidget("Sessions", self)
        self.sessions_dock.setObjectName("SessionsDock")
        self.sessions_dock.setWidget(sessions)
        self.sessions_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable
                                       | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sessions_dock)
        self.sessions_dock.dockLocationChanged.connect(self._update_title_bars)
        self.sessions_dock.topLevelChanged.connect(self._update_title_bars)

        self._build_menus()
        if not self._built:
            # A menu opened before the lazy build is done shows what the panels add to it too.
            for menu in (self.file_menu, self.view_menu, self.help_menu):
                menu.aboutToShow.connect(self.finish_building)
        self._build_status_bar()
        if panels:
            self.install_panels()
        self._restore_window()   # after the panels exist, so their places and tabs come back too
        if self._built:
            self._apply_preferences()
        self._show_welcome(True)
        QApplication.instance().installEventFilter(self)

    # -- a lazy start: the player and the panels after the first paint --------------------------
    @property
    def player_view(self) -> QWidget:
        """The player (``QtPlayer``, or ``PlaceholderPlayer`` if it cannot be imported); built
        on first use when a lazy start has not built it yet."""
        if self._player is None:
            self.finish_building()
        return self._player

    def _build_player(self) -> None:
        from hindsight_qt.application import configure_pyqtgraph

        configure_pyqtgraph()   # before the first plot item exists
        player = _make_player(self, self.workspace)
        self._player = player
        player.next_session_requested.connect(lambda: self._step_session(+1))
        player.previous_session_requested.connect(lambda: self._step_session(-1))
        player.session_loaded.connect(self._on_session_loaded)
        if player.overlay is not None:   # the placeholder player has no overlay
            player.overlay.use_settings(self.settings.q)   # its opacity lives in this window's settings
        self._apply_player_settings()
        if not isinstance(player, PlaceholderPlayer):   # the room the next lazy start keeps for it
            hint, minimum = player.sizeHint(), player.minimumSizeHint()
            self.settings.set_player_size_hints((hint.width(), hint.height(), minimum.width(), minimum.height()))
        slot, showing = self._player_slot, self.stack.currentWidget() is self._player_slot
        self.stack.insertWidget(self.stack.indexOf(slot), player)
        if showing:
            self.stack.setCurrentWidget(player)
        self.stack.removeWidget(slot)
        slot.deleteLater()

    def _apply_preferences(self) -> None:
        from hindsight_qt.views.qt_preferences import apply_preferences

        apply_preferences(self, playback=False)   # thresholds, overlay opacity, heatmap sample size

    def finish_building(self) -> None:
        """Build what a lazy start left out: the player, the panels' contents and what their
        installers add (menu entries, the B key), then apply the preferences and cue the open
        capture's newest session, as an eager start would have. Idempotent; completes a build
        that ``finish_after_paint`` started step by step."""
        self._run_build_steps(all_now=True)

    def _run_build_steps(self, all_now: bool) -> None:
        """The lazy build's steps: all now, or one, the next one in a zero-timer (input that
        arrives meanwhile is handled between them; what needs a part not built yet, such as a
        menu, completes the build first)."""
        if self._built:
            return
        if self._build_steps is None:
            self._finish_on_table = False
            self._build_steps = [self._build_player, self._add_recent_after_build,
                                 *(self._panel_steps() if self._panels_pending else []),
                                 self._finish_build]
            self._panels_pending = False
        while self._build_steps:
            step = self._build_steps.pop(0)
            step()
            if not all_now and self._build_steps:
                QTimer.singleShot(0, self._next_build_step)
                return

    def _next_build_step(self) -> None:
        if not self._closed:
            self._run_build_steps(all_now=False)

    def _add_recent_after_build(self) -> None:
        if self._recent_after_build is not None:
            source, self._recent_after_build = self._recent_after_build, None
            if self.capture is not None:
                self._add_recent(source)

    def _finish_build(self) -> None:
        self._built = True
        self._add_recent_after_build()   # a capture opened during the steps
        self._apply_preferences()
        if self._cue_after_build:
            self._cue_after_build = False
            self._cue_first_session_now()
        if self.capture is not None:
            QTimer.singleShot(0, self._update_central)   # the Heatmap tab may be in front
        # The open capture's background analyses can start now: the signal index (the list's
        # Frustration column), then the form report ("Abandoned at"). One after the other: each
        # reads events, at once they would add up (at 100k: ~640 MB instead of ~350 MB).
        self.session_list.hold_index(False)
        self._report_after_index = True
        if not self.session_list.index_coming():
            self._release_report()
        self.window_did_build.emit()

    def finish_after_paint(self) -> None:
        """A lazy start: build the rest (as :meth:`finish_building`, in steps of one event-loop
        turn) right after what the user waits for is painted: the open capture's session list
        (while it loads), or else the window."""
        if self._built or self._finish_on_table:
            return
        watch = _AfterPaint(self, self._finish_deferred)
        self.installEventFilter(watch)
        self.update()

    def _release_report(self) -> None:
        if self._report_after_index:
            self._report_after_index = False
            self.filter_panel.hold_report(False)

    def _finish_deferred(self) -> None:
        if not self._closed:   # a window closed meanwhile is not built any more
            self._run_build_steps(all_now=False)

    def built(self) -> bool:
        """False while a lazy start's player and panels are still to be built."""
        return self._built

    # -- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = file_menu = bar.addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.show_open_dialog)
        file_menu.addAction(self.open_action)
        self.open_dataset_action = QAction("Open data&set…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        self.open_dataset_action.setToolTip("A capture dataset (Parquet folder or URL), analysed on a Dask cluster")
        self.open_dataset_action.triggered.connect(self.show_open_dataset_dialog)
        file_menu.addAction(self.open_dataset_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._update_recent_menu)
        self.demo_action = QAction("Open &demo capture", self)
        self.demo_action.triggered.connect(self.open_demo_capture)
        file_menu.addAction(self.demo_action)
        self.import_action = QAction("&Import recordings…", self)
        self.import_action.triggered.connect(self.show_import_dialog)
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        self.close_action = QAction("&Close", self, shortcut=QKeySequence.StandardKey.Close)
        self.close_action.triggered.connect(self.close_capture)
        file_menu.addAction(self.close_action)
        self.goto_action = QAction("&Go to session…", self, shortcut=QKeySequence("Ctrl+G"))
        self.goto_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.goto_action.triggered.connect(self.show_go_to_session)
        self.addAction(self.goto_action)   # works while the menu bar is hidden too
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self.edit_menu = bar.addMenu("&Edit")
        self.preferences_action = QAction("&Preferences…", self, shortcut=QKeySequence("Ctrl+,"))
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.triggered.connect(self.show_preferences)
        self.edit_menu.addAction(self.goto_action)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.preferences_action)

        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(self._dock_action(self.sessions_dock, "Ctrl+1"))
        self._panels_separator = self.view_menu.addSeparator()

        self.help_menu = help_menu = bar.addMenu("&Help")
        shortcuts = QAction("&Keyboard shortcuts", self, shortcut=QKeySequence.StandardKey.HelpContents)
        shortcuts.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts)
        about = QAction("&About Hindsight", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self._update_recent_menu()

    def _dock_action(self, dock: QDockWidget, shortcut: str | None) -> QAction:
        """A View-menu entry for ``dock``: shows it, or brings its tab to the front, or hides it
        when it is already in front (Qt's own toggle would hide a panel waiting behind a tab)."""
        action = QAction(dock.windowTitle(), self, checkable=True)
        action.setChecked(not dock.isHidden())
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        dock.toggleViewAction().toggled.connect(action.setChecked)   # stays in step with Qt's

        def triggered(_checked: bool) -> None:
            if dock.isHidden():
                dock.show()
                dock.raise_()
            elif not _on_screen(dock):
                dock.raise_()
            else:
                dock.hide()
            action.setChecked(not dock.isHidden())

        action.triggered.connect(triggered)
        self._dock_actions[dock] = action
        return action

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for n, path in enumerate(files, start=1):
            exists = recent_exists(path)
            text = f"&{n}  {_source_name(path)}" + ("" if exists else "  (missing)")
            action = self.recent_menu.addAction(text)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setEnabled(exists)
            action.triggered.connect(lambda _=False, path=path: self.open_capture(path))
        if not files:
            none = self.recent_menu.addAction("No recent captures")
            none.setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear recent")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self._clear_recent)
        self.welcome.set_recent(files)

    def _add_recent(self, source) -> None:
        self.settings.add_recent(source)
        self._update_recent_menu()

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._update_recent_menu()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.status_file = QLabel(self)
        self.status_sessions = QLabel(self)
        self.status_events = QLabel(self)
        self.status_damaged = QLabel(self)   # "N damaged events skipped", when any were
        self.status_damaged.setStyleSheet("color: #b26a00;")
        for label in (self.status_file, self.status_sessions, self.status_events, self.status_damaged):
            label.setObjectName("StatusItem")
            bar.addPermanentWidget(label)
        self._update_status()

    def _update_status(self) -> None:
        if self.capture is None:
            self.status_file.setText("No capture open")
            self.status_sessions.clear()
            self.status_events.clear()
            self.status_sessions.hide()
            self.status_events.hide()
            self.status_damaged.hide()
            return
        counts = self._counts
        self.status_file.setText(_source_name(self.capture.path) + (" · dataset" if self.workspace.on_dataset else ""))
        self.status_file.setToolTip(str(self.capture.path))
        self.status_sessions.setText(plural(counts.get("sessions", 0), "session"))
        self.status_events.setText(f"{counts.get('events', 0):,} events")
        self.status_sessions.show()
        self.status_events.show()
        note = damaged_note(self.capture)
        self.status_damaged.setText(note)
        self.status_damaged.setToolTip("Events that fail the capture's checks are left out; "
                                       f"'hindsight check {self.capture.path}' lists them" if note else "")
        self.status_damaged.setVisible(bool(note))

    # -- opening and closing ---------------------------------------------------------------
    def show_open_dialog(self) -> None:
        start = str(Path(self.capture.path).parent) if self.capture is not None else ""
        if not start:
            recent = self.settings.recent_files()
            start = str(Path(recent[0]).parent) if recent else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open capture", start, FILE_FILTER)
        if path:
            self.open_capture(path)

    def show_import_dialog(self, paths: list[str] | None = None) -> None:
        """File > Import recordings… (rrweb / PostHog files into a new or the open capture)."""
        from hindsight_qt.views.qt_import_dialog import show_import_dialog

        show_import_dialog(self, paths or None)

    def show_preferences(self) -> None:
        """Edit > Preferences…; saved values apply to the player and panels right away."""
        from hindsight_qt.views.qt_preferences import show_preferences

        show_preferences(self)

    def open_capture(self, path) -> bool:
        """Open ``path``; on failure show the one-line reason and keep the current capture.
        A dataset (a folder or URL) opens with :meth:`open_dataset` (on the cluster, in the background)."""
        from hindsight.engine.on_dataset import is_dataset_source

        if is_dataset_source(str(path)):
            return self.open_dataset(str(path))
        path = Path(path).expanduser()
        try:
            capture = open_capture(path)
            counts = capture.counts()
        except CaptureError as exc:
            self._open_failed(path, _one_line(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - never crash on a bad file
            self._open_failed(path, f"{path}: cannot be opened ({type(exc).__name__}: {_one_line(exc)})")
            return False

        self._install_capture(capture, counts, path, path.name)
        return True

    def _install_capture(self, capture, counts: dict, source, name: str) -> None:
        """Show an opened capture (or dataset): workspace, session list, panels, title, recent."""
        self._retire(self.capture)
        self.capture = capture
        self._counts = counts
        self.current_session_id = None
        if self._player is not None:
            self._player.clear()
        elif not self._built:
            self._finish_on_table = True   # a lazy start: the rest once this list is painted
        self._opening = True   # the workspace's "empty filter" event is this open, not a change
        try:
            self.workspace.open(capture)
        finally:
            self._opening = False
        self._cue_first_session = True
        self.session_list.set_capture(capture, self.workspace.session_filter(), total=counts.get("sessions"))
        if self._report_after_index and not self.session_list.index_coming():
            self._release_report()   # no index to wait for (a dataset): the form report now
        if self._built:
            self._add_recent(source)
        else:   # a lazy start: the settings file is written once the list is on screen
            self._recent_after_build = source
        self.setWindowTitle(f"{name} — Hindsight")
        self.setWindowFilePath(str(source) if "://" not in str(source) else "")
        self._update_status()
        self._show_welcome(False)
        self._sync_panels()
        self._update_dataset_actions()
        self.capture_did_open.emit(capture)

    def show_open_dataset_dialog(self) -> None:
        """File > Open dataset…: a folder or URL, and the Dask scheduler (default: a local cluster)."""
        from hindsight_qt.views.qt_open_dataset import OpenDatasetDialog

        recent = self.settings.recent_files()
        dialog = OpenDatasetDialog(self, start_dir=str(Path(recent[0]).parent) if recent else str(Path.home()))
        self.open_dataset_dialog = dialog   # tests fill it in
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.source():
            self.open_dataset(dialog.source(), dialog.scheduler())

    def open_dataset(self, source: str, scheduler: str | None = None, workers: int | None = None) -> bool:
        """Open a capture dataset on a Dask cluster, in the background behind a progress dialog
        (reading it, starting or reaching the cluster, counting its sessions); True once started.
        A bad dataset or an unreachable scheduler is the one-line error dialog; the capture that
        was open stays open until the dataset is ready."""
        from hindsight.engine.on_dataset import open_for_app
        from hindsight_qt.views.qt_progress import run_with_progress

        if self.open_task is not None and not self.open_task.done:
            return False
        source = str(source).strip()
        name = _source_name(source)

        def work(report):   # worker thread: no widgets here
            return open_for_app(source, scheduler, workers, progress=lambda step: report(0, 0, step))

        def opened(result) -> None:
            capture, counts = result
            self._install_capture(capture, counts, source, name)

        def failed(exc: BaseException) -> None:
            message = (_one_line(exc) if isinstance(exc, CaptureError)
                       else f"{source}: cannot be opened ({type(exc).__name__}: {_one_line(exc)})")
            if "does not exist" in message or "no such" in message.lower():
                self.settings.remove_recent(source)
                self._update_recent_menu()
            self.open_error = message
            QMessageBox.critical(self, "Cannot open dataset", message)

        self.open_task, self.open_progress = run_with_progress(
            self, work, opened, failed, title="Open dataset", text=f"Opening the dataset {name}…",
            describe=lambda _done, _total, step="": step)
        return True

    def _update_dataset_actions(self) -> None:
        """What writes to a capture is off on a dataset, with its one-line reason."""
        from hindsight.engine.on_dataset import UNAVAILABLE, bookmarks_supported

        on = self.workspace.on_dataset and not bookmarks_supported()
        for action, key in ((self.bookmark_action, "bookmarks"),):
            if action is not None:
                action.setEnabled(not on)
                action.setToolTip(UNAVAILABLE[key] if on else "")

    def _open_failed(self, path: Path, message: str) -> None:
        if "no such file" in message:
            self.settings.remove_recent(path)
            self._update_recent_menu()
        QMessageBox.critical(self, "Cannot open capture", message)

    def close_capture(self) -> None:
        if self.capture is None:
            return
        if self._player is not None:
            self._player.clear()
        self._opening = True
        try:
            self.workspace.close()
        finally:
            self._opening = False
        self.session_list.set_capture(None)
        self._retire(self.capture)
        self.capture = None
        self.current_session_id = None
        self.setWindowTitle("Hindsight")
        self.setWindowFilePath("")
        self._update_status()
        self._update_recent_menu()
        self._update_dataset_actions()
        self._show_welcome(True)
        for widget in list(self._panel_capture):
            self._sync_panel(widget, force=True)   # let go of the closed capture everywhere
        self.capture_did_close.emit()

    @staticmethod
    def _retire(capture) -> None:
        # Worker threads may still be querying it: close once they are done.
        if capture is not None:
            tasks.when_idle(capture.close)

    def open_demo_capture(self) -> None:
        """Open the demo capture, generating it first (on a worker thread) if it is missing."""
        path = Path(self.demo_path)
        if path.exists():
            self.open_capture(path)
            return
        if self._demo_task is not None and not self._demo_task.done:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            QMessageBox.critical(self, "Cannot create the demo capture", f"{path.parent}: {exc.strerror or exc}")
            return
        from hindsight_qt.views.qt_progress import run_with_progress

        def work(report):
            from hindsight.demo.generate import generate_demo

            # Cancel: report returns False, generation stops and deletes its partial file.
            return generate_demo(path, sessions=DEMO_SESSIONS, seed=DEMO_SEED,
                                 progress=lambda done, total: report(done, total))

        def failed(exc: BaseException) -> None:
            QMessageBox.critical(self, "Cannot create the demo capture", _one_line(exc))

        self._demo_task, self.demo_progress = run_with_progress(
            self, work, lambda _summary: self.open_capture(path), failed,
            title="Demo capture", text="Generating the demo capture…",
            describe=lambda done, total: f"{done:,} of {plural(total, 'session')}")

    # -- sessions and player ---------------------------------------------------------------
    def load_session(self, session_id: int, at_ms: float = 0, autoplay: bool = True,
                     show_player: bool = True) -> bool:
        """Replay ``session_id`` (of the open capture) from ``at_ms``; selects its row.
        ``show_player``: the player takes the central area (from a full-size heatmap)."""
        if self.capture is None:
            return False
        try:
            self.player_view.load_session(self.capture, int(session_id), at_ms=at_ms, autoplay=autoplay)
        except KeyError as exc:
            QMessageBox.critical(self, "Cannot replay session", _one_line(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a damaged capture must not escape load_session
            show_error(self, "Cannot replay session", exc, self.capture)
            return False
        self.current_session_id = int(session_id)
        self.workspace.set_session(int(session_id), at_ms)
        self.session_list.select_session(int(session_id))
        if show_player:
            self._show_player()
        self._update_status()
        if not isinstance(self.player_view, PlaceholderPlayer):
            canvas = self.player_view.canvas
            if canvas.image_error is not None:
                exc, canvas.image_error = canvas.image_error, None
                show_error(self, "Cannot show the page's screenshot", exc, self.capture)
        return True

    def replay_session(self, session_id: int, at_ms: float = 0, autoplay: bool = True) -> bool:
        """``load_session`` for a replay asked for from an analysis panel's list: the player
        takes the keyboard focus, so Space, arrows and ``[``/``]`` act on the replay at once
        (the list that was double-clicked would otherwise keep them)."""
        if not self.load_session(session_id, at_ms=at_ms, autoplay=autoplay):
            return False
        self.player_view.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def show_go_to_session(self) -> None:
        """Edit > Go to session… (Ctrl+G): the Sessions dock's id box, focused."""
        if self.capture is None:
            return
        self.sessions_dock.show()
        self.sessions_dock.raise_()
        box = self.session_list.goto_edit
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        box.selectAll()

    def go_to_session(self, session_id: int) -> bool:
        """Replay session ``session_id`` of the open capture, paused at its start; says so in the
        status bar when there is no such session or the filters hide it from the list."""
        if self.capture is None:
            return False
        try:
            self.capture.session(int(session_id))
        except (CaptureError, KeyError):
            self.statusBar().showMessage(f"No session {int(session_id)} in this capture", 5000)
            return False
        if not self.replay_session(int(session_id), autoplay=False):
            return False
        if self.session_list.model.row_of(int(session_id)) < 0:
            self.statusBar().showMessage(
                f"Session {int(session_id)} is hidden by the filters; it plays, but is not in the list", 6000)
        return True

    def _on_replay_requested(self, session_id: int, t_ms: float) -> None:
        # A view asked the workspace to replay a session (a panel's list, a hot spot...).
        self.replay_session(int(session_id), at_ms=float(t_ms), autoplay=True)

    def _on_table_loaded(self, rows: int) -> None:
        # A freshly opened capture shows its newest session paused instead of an empty player.
        if self._cue_first_session:
            self._cue_first_session = False
            if self._player is None:   # a lazy start: the player is built after this paint
                self._cue_after_build = True
            else:
                self._cue_first_session_now()
            if QApplication.focusWidget() is None or QApplication.focusWidget().window() is not self \
                    or self.welcome.isAncestorOf(QApplication.focusWidget()):
                self.session_list.view.setFocus()   # arrows, Enter, Space and N work right away
        if self._finish_on_table:
            # The list has just been repainted with its rows (QtSessionList._on_table): the rest
            # of the window now, before any input is handled.
            self._finish_on_table = False
            view = self.session_list.view
            if view.isVisible():
                view.viewport().installEventFilter(_AfterPaint(self, self._finish_deferred))
                view.viewport().update()
            else:
                QTimer.singleShot(0, self._finish_deferred)

    def _cue_first_session_now(self) -> None:
        first = self.session_list.model.session_id_at(0)
        if first is not None and self.current_session_id is None and self.capture is not None:
            self.load_session(first, autoplay=False, show_player=False)

    def _step_session(self, step: int) -> None:
        sid = self.session_list.adjacent_session_id(self.current_session_id, step)
        if sid is None:
            self.statusBar().showMessage("No more sessions in this list" if step > 0
                                         else "This is the first session in the list", 2500)
            return
        self.load_session(sid)

    def _on_session_loaded(self, session_id: int) -> None:
        self.current_session_id = int(session_id)
        self._show_signal_markers(int(session_id))
        self.session_did_load.emit(int(session_id))

    def _show_signal_markers(self, session_id: int) -> None:
        """The session's frustration signals as timeline markers (source "signals"; the
        bookmarks keep their own list), from the workspace (the capture's signal index once
        loaded; before that one session's detection takes a millisecond or two)."""
        if self.capture is None or isinstance(self.player_view, PlaceholderPlayer):
            return
        try:
            marks = self.workspace.session_markers(int(session_id))
        except Exception as exc:  # noqa: BLE001 - damaged events must not break replay
            self.statusBar().showMessage(f"Could not detect this session's signals: {user_message(exc, self.capture)}",
                                         4000)
            marks = []
        self._update_status()
        self.player_view.timeline_widget.set_extra_markers(marks, source="signals")

    def _on_filter_changed(self, flt: SessionFilter) -> None:
        if self._opening:
            return
        self.session_list.set_filter(flt)
        self._sync_panels()
        self.filter_did_change.emit(flt)

    def current_filter(self) -> SessionFilter:
        """The resolved filter every view shows (the workspace's)."""
        return self.workspace.session_filter()

    def _apply_player_settings(self) -> None:
        core = self.player_view.player
        try:
            core.set_speed(self.settings.speed)
        except (ValueError, TypeError):
            pass  # an unknown speed from an older version: keep the player's default
        # The player's own toggle follows the core (its "options" event).
        core.pause_on_hesitation = self.settings.pause_on_hesitation

    def save_player_settings(self) -> None:
        if self._player is None:   # a lazy start that never built it: nothing changed
            return
        core = self._player.player
        self.settings.speed = float(core.speed)
        self.settings.pause_on_hesitation = bool(core.pause_on_hesitation)

    # -- panels ----------------------------------------------------------------------------
    def add_panel(self, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Dock ``widget`` as a panel titled ``title`` with a View-menu toggle.

        Panels in the same area share it as tabs. Returns the QDockWidget (``dock.widget()``
        is ``widget``; it scrolls if the dock is smaller than the panel's minimum size). A dock
        a lazy start reserved under ``title`` gets ``widget`` in place of its placeholder.
        """
        dock = self._reserved_docks.pop(title, None)
        if dock is not None:
            self._panel_widgets.pop(dock.widget(), None)
            dock.set_panel(widget)
            self._panel_widgets[widget] = dock
            return dock
        dock = _PanelDock(title, widget, self)
        dock.setObjectName("".join(ch for ch in title.title() if ch.isalnum()) + "Dock")
        self._panel_widgets[widget] = dock
        siblings = [d for d in self._docks() if self.dockWidgetArea(d) == area and not d.isFloating()]
        # A panel the saved layout knows goes back where the user left it; a new one joins its area.
        if not self.restoreDockWidget(dock):
            self.addDockWidget(area, dock)
            if siblings:
                self.tabifyDockWidget(siblings[-1], dock)
        self._panel_docks.append(dock)
        dock.dockLocationChanged.connect(self._update_title_bars)
        dock.topLevelChanged.connect(self._update_title_bars)
        QTimer.singleShot(0, self._update_title_bars)
        shortcut = f"Ctrl+{len(self._panel_docks) + 1}" if len(self._panel_docks) <= 8 else None
        self.view_menu.addAction(self._dock_action(dock, shortcut))
        if self.stack.currentWidget() is self.welcome:
            self._hidden_docks[dock] = not dock.isHidden()
            dock.hide()
        return dock

    def panels(self) -> list[QDockWidget]:
        return list(self._panel_docks)

    def attach_panel(self, title: str, widget: QWidget,
                     area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """``add_panel`` for an analysis panel: it has ``set_capture(capture | None)`` and
        ``set_filter(SessionFilter)``, and the window gives it the workspace's capture and
        filter while it is on screen (a hidden tab catches up when shown). Replay requests and
        filters go through the workspace the panel was built with, not through the window."""
        dock = self.add_panel(title, widget, area)
        self._panel_capture[widget] = None
        self._panel_filter[widget] = SessionFilter()
        # Deferred: when a tab is switched the dock's on-screen region updates after the signal.
        dock.visibilityChanged.connect(
            lambda visible, w=widget: visible and QTimer.singleShot(0, lambda: self._sync_panel(w)))
        QTimer.singleShot(0, lambda w=widget: self._sync_panel(w))
        return dock

    def install_panels(self) -> None:
        """Dock the analysis panels of ``PANELS`` and ``PANEL_INSTALLERS`` that this build has.

        Without a saved layout they share the Sessions dock's area as tabs (funnel, heatmap,
        signals, forms, bookmarks), so the player keeps the rest of the window.
        """
        first_run = self.settings.window_state() is None
        before = len(self._panel_docks)
        if not self._built:
            # A lazy start: the docks now, with empty placeholders (their tabs, View-menu entries
            # and saved places are there from the first paint); the panels in finish_building.
            self._panels_pending = True
            for title, area in (*((t, Qt.DockWidgetArea.LeftDockWidgetArea) for t, _ in PANELS),
                                *INSTALLER_DOCKS):
                placeholder = QWidget()
                placeholder.setObjectName("PanelPlaceholder")
                self._reserved_docks[title] = self.add_panel(title, placeholder, area)
        else:
            self._install_panel_contents()
        if first_run:
            for dock in self._panel_docks[before:]:
                if self.dockWidgetArea(dock) != Qt.DockWidgetArea.LeftDockWidgetArea:
                    self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
                    self.tabifyDockWidget(self._panel_docks[before], dock)

    def _install_panel_contents(self) -> None:
        for step in self._panel_steps():
            step()

    def _panel_steps(self) -> list[Callable[[], None]]:
        """Building the panels of ``PANELS`` and running ``PANEL_INSTALLERS``, one call each (a
        lazy start runs them one per event-loop turn), then dropping reserved docks left empty."""
        return [*(lambda t=title, c=panel_class: self._install_panel(t, c) for title, panel_class in PANELS),
                *(lambda n=name, i=installer: self._run_installer(n, i) for name, installer in PANEL_INSTALLERS),
                self._drop_empty_docks]

    def _install_panel(self, title: str, panel_class: Callable[[], type]) -> None:
        import sys

        try:
            panel = panel_class()(workspace=self.workspace)
            dock = self.attach_panel(title, panel, Qt.DockWidgetArea.LeftDockWidgetArea)
            if title == "Heatmap":
                self._wire_heatmap(panel, dock)
        except Exception as exc:  # noqa: BLE001 - one broken panel must not take the app down
            print(f"hindsight: {title} panel unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)

    def _run_installer(self, name: str, installer: Callable[[], Callable]) -> None:
        import sys

        try:
            installer()(self)
        except Exception as exc:  # noqa: BLE001
            print(f"hindsight: {name} panel unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)

    def _drop_empty_docks(self) -> None:
        for title, dock in list(self._reserved_docks.items()):   # a panel that failed: no empty tab
            del self._reserved_docks[title]
            self._panel_docks.remove(dock)
            self._hidden_docks.pop(dock, None)
            self._panel_widgets.pop(dock.widget(), None)
            action = self._dock_actions.pop(dock, None)
            if action is not None:
                self.view_menu.removeAction(action)
            self.removeDockWidget(dock)
            dock.deleteLater()

    # -- the heatmap's full-size view ----------------------------------------------------------
    def _wire_heatmap(self, panel, dock: QDockWidget) -> None:
        """While the Heatmap tab is in front (docked), its page map and hot spot list take the
        central area instead of the player: the map gets the window's height. A replay asked
        for brings the player back (the map returns to the panel, with a "Show map full size"
        button); bringing the tab to the front again shows the map full size again."""
        self.heatmap_panel, self._heatmap_dock = panel, dock
        dock.visibilityChanged.connect(
            lambda visible: QTimer.singleShot(0, lambda: self._on_heatmap_tab(visible)))
        dock.topLevelChanged.connect(lambda _floating: QTimer.singleShot(0, self._update_central))
        panel.full_view_requested.connect(self.show_heatmap_full_size)

    def _on_heatmap_tab(self, visible: bool) -> None:
        if visible and self._heatmap_dock is not None and _on_screen(self._heatmap_dock):
            self._map_central = True
        self._update_central()

    def show_heatmap_full_size(self) -> None:
        """The Heatmap tab's page map and hot spots in the central area."""
        self._map_central = True
        self._update_central()

    def heatmap_full_size(self) -> bool:
        """True while the central area shows the heatmap instead of the player."""
        return self.stack.currentWidget() is self.heatmap_page

    def _show_player(self) -> None:
        self._map_central = False
        self._update_central()

    def _update_central(self) -> None:
        panel, dock = self.heatmap_panel, self._heatmap_dock
        if panel is None or dock is None:
            return
        if self.capture is None or self.stack.currentWidget() is self.welcome:
            panel.set_map_host(None)
            return
        docked = _on_screen(dock) and not dock.isFloating()
        full = self._map_central and docked
        was_full = self.heatmap_full_size()
        panel.set_map_host(self.heatmap_page if full else None, offer_full_view=docked)
        self.stack.setCurrentWidget(self.heatmap_page if full else (self._player or self._player_slot))
        if full != was_full:
            self._fit_heatmap_dock(dock, full)

    def _fit_heatmap_dock(self, dock: QDockWidget, full: bool) -> None:
        """While the map is full size the Heatmap dock keeps only its controls, legend and
        elements: about a third of the window (the map gets the rest); the width the dock
        (shared with its tabs) had comes back when the player does."""
        if full:
            self._dock_width_before = dock.width()
            want = min(HEATMAP_DOCK_MAX_PX, max(HEATMAP_DOCK_MIN_PX, int(self.width() * 0.36)))
            self.resizeDocks([dock], [want], Qt.Orientation.Horizontal)
        elif self._dock_width_before:
            self.resizeDocks([dock], [self._dock_width_before], Qt.Orientation.Horizontal)
            self._dock_width_before = 0

    def apply_filter(self, flt: SessionFilter) -> None:
        """Show ``flt`` in the filter panel and apply it (e.g. from a panel's "show these sessions")."""
        self.filter_panel.set_filter(flt)
        self.filter_panel.flush()

    def _sync_panel(self, widget: QWidget, force: bool = False) -> None:
        """Give a wired panel the open capture and current filter if it is on screen (or forced)."""
        if widget not in self._panel_capture:
            return
        dock = self._panel_widgets.get(widget)
        if not force and not (dock is not None and _on_screen(dock)):
            return
        try:
            if self._panel_capture[widget] is not self.capture:
                self._panel_capture[widget] = self.capture
                self._panel_filter[widget] = SessionFilter()
                widget.set_capture(self.capture)
            flt = self.current_filter() if self.capture is not None else SessionFilter()
            if self._panel_filter[widget] != flt:
                self._panel_filter[widget] = flt
                widget.set_filter(flt)
        except Exception as exc:  # noqa: BLE001 - a failing panel must not break opening a capture
            self.statusBar().showMessage(f"A panel could not update: {user_message(exc, self.capture)}", 5000)

    def _sync_panels(self) -> None:
        for widget in list(self._panel_capture):
            self._sync_panel(widget)

    def _update_title_bars(self, *_args) -> None:
        # Tabbed docks: the tab is the title, a title bar above it would repeat it.
        for dock in self._docks():
            tabbed = not dock.isFloating() and bool(self.tabifiedDockWidgets(dock))
            has_blank = isinstance(dock.titleBarWidget(), _BlankTitleBar)
            if tabbed and not has_blank:
                dock.setTitleBarWidget(_BlankTitleBar(dock))
            elif not tabbed and has_blank:
                dock.setTitleBarWidget(None)

    def _docks(self) -> list[QDockWidget]:
        return [self.sessions_dock, *self._panel_docks]

    def _show_welcome(self, on: bool) -> None:
        if on:
            self.stack.setCurrentWidget(self.welcome)
            if self._layout_before_welcome is None and self.isVisible():
                # Sizes and front tabs to come back to: hiding every dock forgets them. (A window
                # never shown yet would save its docks as hidden; it has the saved layout instead.)
                self._layout_before_welcome = self.saveState()
            for dock in self._docks():
                if dock not in self._hidden_docks:
                    self._hidden_docks[dock] = not dock.isHidden()
                dock.hide()
            for action in (self.close_action,):
                action.setEnabled(False)
            self._update_central()   # the heatmap's map back into its panel
        else:
            self.stack.setCurrentWidget(self._player or self._player_slot)
            for dock, visible in self._hidden_docks.items():
                dock.setVisible(visible)
            self._hidden_docks.clear()
            if self._layout_before_welcome is not None:
                self.restoreState(self._layout_before_welcome)
                self._layout_before_welcome = None
            self.close_action.setEnabled(True)
            if self._raise_sessions:   # the first time: start on the session list, not a panel
                self._raise_sessions = False
                self.sessions_dock.raise_()
            self._update_title_bars()   # now, so the first paint has no title bar over a tabbed dock
            QTimer.singleShot(0, self._update_title_bars)   # tab bars exist once docks are shown
            QTimer.singleShot(0, self._update_central)      # the Heatmap tab may be in front
        for dock in self._docks():
            dock.toggleViewAction().setEnabled(not on)
            if dock in self._dock_actions:
                self._dock_actions[dock].setEnabled(not on)

    # -- help ------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        self.finish_building()   # the panels' keys (B) are listed too
        groups = list(SHORTCUTS)
        if self.bookmark_action is not None:   # added by the bookmarks panel
            name, items = groups[0]
            groups[0] = (name, (*items, ("B", "Bookmark this moment")))
        ShortcutsDialog(self, groups).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About Hindsight",
            f"<h3>Hindsight {__version__}</h3>"
            "<p>Local-first session replay, heatmaps and form analytics for recorded website "
            "sessions. Your captures never leave this computer.</p>")

    # -- keys, drops, lifecycle ------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        # Player shortcuts also work from the session table (browse the list, press Space or
        # N), and when nothing has focus. Elsewhere (filters, panels) keys keep their usual
        # meaning, and the player handles its own keys when it has focus. (Every event of the app
        # passes here: the isinstance test first, it is far cheaper than event.type().)
        if not isinstance(event, QKeyEvent):
            return False
        if (event.type() == QEvent.Type.KeyPress and self.capture is not None
                and isinstance(obj, QWidget) and obj is QApplication.focusWidget()
                and obj.window() is self
                and (obj is self or obj is self.session_list.view or self.session_list.isAncestorOf(obj))):
            if event.key() not in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
                                   Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Return, Qt.Key.Key_Enter,
                                   Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape):
                if self.player_view.handle_key(event.key(), event.modifiers()):
                    return True
        return super().eventFilter(obj, event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
            if all(p.lower().endswith((".json", ".json.gz")) for p in paths):   # recordings: import them
                QTimer.singleShot(0, lambda: self.show_import_dialog(paths))
                return
            QTimer.singleShot(0, lambda: self.open_capture(path))  # not inside the drag's event

    def _restore_window(self) -> None:
        geometry = self.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1600, 960)
        self._fit_to_screen()
        state = self.settings.window_state()
        if state is not None and self.restoreState(state):
            self._raise_sessions = False   # the user's own front tab wins
            self._layout_before_welcome = state

    def _fit_to_screen(self) -> None:
        """Keep the window inside the screen's free area: the default size, or a geometry saved
        on a larger monitor, must not leave the status bar and the player's controls off screen."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        w, h = min(self.width(), free.width()), min(self.height(), free.height())
        if (w, h) != (self.width(), self.height()):
            self.resize(w, h)
        x = min(max(self.x(), free.x()), free.x() + free.width() - w)
        y = min(max(self.y(), free.y()), free.y() + free.height() - h)
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    def closeEvent(self, event) -> None:  # noqa: N802
        self._closed = True
        # Save the layout as it is with a capture open, not the welcome page's hidden docks.
        state = self._layout_before_welcome if self._layout_before_welcome is not None else self.saveState()
        self.settings.save_window(self.saveGeometry(), state)
        self.save_player_settings()
        QApplication.instance().removeEventFilter(self)
        if self._demo_task is not None:
            self._demo_task.cancel()
        # No filter change still waiting on its debounce timer may query the closed capture.
        self.filter_panel.cancel_pending()
        self.session_list.set_capture(None)
        self._retire(self.capture)
        self.capture = None
        super().closeEvent(event)

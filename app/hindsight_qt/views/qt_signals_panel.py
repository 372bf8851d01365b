"""QtSignalsPanel: how many sessions show each frustration signal (tick kinds to filter the
session list by them) and the sessions most worth watching, by frustration score.

Built with the window's :class:`~hindsight.workspace.Workspace`: the ticks ARE the
workspace filter's frustration kinds (``workspace.update_filter(frustration=...)``), so the
filter panel's Frustration list and these boxes show the same thing without knowing about
each other; ``replay_requested(session_id, t_ms)`` goes to ``workspace.request_replay``.
``set_capture`` / ``set_filter`` come from the window while the panel is on screen;
``filter_requested(flt)`` still carries the segment narrowed to the ticked signals.
``QtSignalsPanel(sidecar=True)`` keeps the signals in ``<capture>.hindsight-cache`` so large
captures reopen without re-detecting.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hindsight.text import plural
from hindsight.analytics.session_index import SCORE_WEIGHTS, SessionIndex, signal_filter
from hindsight.analytics.signals import SIGNAL_KINDS, SIGNAL_LABELS, signal_rule
from hindsight.store import SessionFilter
from hindsight.workspace import Workspace, resolve_filter
from hindsight_qt.subscribe import subscribe
from hindsight_qt.errors import show_error, user_message
from hindsight_qt.tasks import LatestOnly
from hindsight_qt.views.qt_forms_panel import ACCENT, PANEL_STYLE, SessionListTable, fmt_t

#: Each kind's rule, in words from the core's thresholds.
KIND_TIPS = {kind: signal_rule(kind) for kind in SIGNAL_KINDS}
_SHORT = {"rage_click": "rage", "dead_click": "dead", "error_click": "error", "excessive_scroll": "scroll",
          "quick_back": "quick back", "thrashed_cursor": "thrash", "validation_error": "invalid"}
TOP_SESSIONS = 50


class _ShareBar(QWidget):
    """A thin horizontal bar: the share of sessions with a signal."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._share = 0.0
        self.setFixedHeight(8)
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_share(self, share: float) -> None:
        self._share = max(0.0, min(1.0, share))
        self.update()

    def paintEvent(self, _ev):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#EEF0F4"))
        r = QRectF(0, 0, self.width(), self.height())
        p.drawRoundedRect(r, 4, 4)
        if self._share > 0:
            p.setBrush(QColor(ACCENT))
            p.drawRoundedRect(QRectF(0, 0, max(4.0, self.width() * self._share), self.height()), 4, 4)


class QtSignalsPanel(QWidget):
    """Signal counts with filter checkboxes, and the top sessions by frustration score."""

    replay_requested = Signal(int, int)         # session_id, t_ms since session start
    filter_requested = Signal(object)           # SessionFilter: sessions with the ticked signals
    index_updated = Signal(object)              # the SessionIndex now shown

    def __init__(self, parent=None, sidecar: bool = False, workspace: Workspace | None = None):
        super().__init__(parent)
        self.setObjectName("SignalsPanel")
        self.setStyleSheet(PANEL_STYLE)
        self.workspace = workspace if workspace is not None else Workspace()
        self._capture = None
        self._sidecar = sidecar
        self._index: SessionIndex | None = None
        self._filter = SessionFilter()   # the segment from the rest of the app
        self._emitted: SessionFilter | None = None
        self._visible: np.ndarray | None = None
        self._compute = LatestOnly()
        self._build()
        self.replay_requested.connect(self.workspace.request_replay)
        subscribe(self, self.workspace.events.filter_changed, self._on_workspace_filter_changed)

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(10, 8, 10, 8)
        root.setSpacing(6)
        self.header = QLabel("No capture", objectName="formHeader")
        self.header.setWordWrap(True)
        root.addWidget(self.header)

        row = QHBoxLayout()
        row.addWidget(QLabel("Tick signals to show only the sessions that have them", objectName="hint"), 1)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("any ticked signal", "any")
        self.mode_combo.addItem("all ticked signals", "all")
        self.mode_combo.setToolTip("Keep sessions with any / all of the ticked signals")
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._emit_filter())
        row.addWidget(self.mode_combo)
        root.addLayout(row)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        for c, text in enumerate(("Signal", "", "Sessions", "Share", "Signals")):
            h = QLabel(text, objectName="hint")
            if c >= 2:
                h.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(h, 0, c)
        self.checks: dict[str, QCheckBox] = {}
        self.bars: dict[str, _ShareBar] = {}
        self.session_labels: dict[str, QLabel] = {}
        self.share_labels: dict[str, QLabel] = {}
        self.signal_labels: dict[str, QLabel] = {}
        for r, kind in enumerate(SIGNAL_KINDS, start=1):
            cb = QCheckBox(SIGNAL_LABELS[kind])
            cb.setToolTip(f"{KIND_TIPS[kind]} (score weight {SCORE_WEIGHTS[kind]:g})")
            cb.toggled.connect(lambda _on: self._emit_filter())
            self.checks[kind] = cb
            grid.addWidget(cb, r, 0)
            bar = _ShareBar()
            self.bars[kind] = bar
            grid.addWidget(bar, r, 1)
            for c, store in ((2, self.session_labels), (3, self.share_labels), (4, self.signal_labels)):
                lab = QLabel("–")
                lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                store[kind] = lab
                grid.addWidget(lab, r, c)
        grid.setColumnStretch(1, 1)
        root.addLayout(grid)

        self.top_title = QLabel("Sessions most worth watching", objectName="sectionTitle")
        root.addWidget(self.top_title)
        hint = QLabel("Ranked by frustration score (rage and error clicks weigh most); double-click to replay "
                      "from the first signal.", objectName="hint")
        hint.setWordWrap(True)
        root.addWidget(hint)
        self.top_list = SessionListTable(["Session", "Score", "Device", "First signal at", "Signals"])
        self.top_list.fit_columns(stretch=4)
        self.top_list.replay_requested.connect(self.replay_requested)
        root.addWidget(self.top_list, 1)
        self.status = QLabel("", objectName="hint")
        root.addWidget(self.status)

    # -- public API ------------------------------------------------------------------------
    def set_capture(self, capture) -> None:
        """Detect the signals of an open ``Capture`` (cached per capture; None clears)."""
        if capture is not self.workspace.capture:
            self.workspace.open(capture)   # a panel on its own (tests, tools)
        self._capture = capture
        self._index = None
        self._visible = None
        for cb in self.checks.values():
            cb.blockSignals(True)
            cb.setChecked(False)
            cb.blockSignals(False)
        if capture is None:
            self._update_counts()
            self.top_list.set_rows([])
            self.header.setText("No capture")
            return
        self._request()

    def set_filter(self, flt: SessionFilter | None) -> None:
        """Show figures for a segment. A filter this panel asked for keeps the segment it came from."""
        flt = flt or SessionFilter()
        ws = self.workspace
        if ws.filter.frustration and flt == ws.session_filter():
            # The figures are for the segment without this panel's own ticks.
            flt = resolve_filter(ws.filter.replace(frustration=()), ws.signal_index, ws.form_report)
        if self._emitted is not None and flt == self._emitted:
            return
        self._filter = flt
        self._request()

    def set_checked(self, kinds) -> None:
        kinds = set(kinds)
        for k, cb in self.checks.items():
            cb.blockSignals(True)
            cb.setChecked(k in kinds)
            cb.blockSignals(False)
        self._emit_filter()

    def checked_kinds(self) -> list[str]:
        return [k for k, cb in self.checks.items() if cb.isChecked()]

    @property
    def index(self) -> SessionIndex | None:
        return self._index

    def current_filter(self) -> SessionFilter:
        """The app's segment narrowed to sessions with the ticked signals."""
        if self._index is None:
            return self._filter
        return signal_filter(self._index, self.checked_kinds(), self.mode_combo.currentData(), base=self._filter)

    # -- computing -------------------------------------------------------------------------
    def _request(self) -> None:
        if self._capture is None:
            return
        cap, flt, sidecar = self._capture, self._filter, self._sidecar
        self.status.setText("Detecting signals…")

        ws = self.workspace

        def work():  # worker thread: no widgets here
            index = ws.compute_signal_index(sidecar=sidecar)
            visible = cap.session_ids(flt) if not flt.is_empty() else index.session_ids
            return index, visible

        self._compute.submit(work, self._on_computed, self._on_failed)

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not detect the signals: {user_message(exc, self._capture)}")
        show_error(self, "Cannot detect the signals", exc, self._capture)

    def _on_computed(self, payload) -> None:
        index, visible = payload
        if self._capture is not self.workspace.capture:
            return   # computed for a capture closed meanwhile
        self._index = index
        self.workspace.set_signal_index(index)
        self._visible = np.asarray(visible, dtype=np.int64)
        self.status.setText("")
        self._update_counts()
        self._update_top()
        self.index_updated.emit(index)

    # -- showing ---------------------------------------------------------------------------
    def _update_counts(self) -> None:
        idx = self._index
        if idx is None:
            for k in SIGNAL_KINDS:
                self.session_labels[k].setText("–")
                self.share_labels[k].setText("")
                self.signal_labels[k].setText("")
                self.bars[k].set_share(0)
            return
        summary = idx.summary(None if self._visible is None else self._visible)   # computed in the core
        for k, row in summary.kinds.items():
            self.session_labels[k].setText(f"{row.sessions:,}")
            self.share_labels[k].setText(f"{100 * row.share:.1f}%")
            if k == "dead_click":
                # Dead clicks, each click counted: the heatmaps' number under the one core rule.
                self.signal_labels[k].setText(f"{row.clicks:,}")
                self.signal_labels[k].setToolTip("Dead clicks (each click counted, as on the heatmaps); "
                                                 f"{row.signals:,} signals (a burst is one)")
            else:
                self.signal_labels[k].setText(f"{row.signals:,}")
            self.bars[k].set_share(row.share)
        self.header.setText(f"Frustration signals · {plural(summary.sessions, 'session')} · {summary.flagged:,} "
                            f"({100 * summary.flagged_share:.1f}%) with at least one")

    def _update_top(self) -> None:
        idx = self._index
        rows = idx.top(TOP_SESSIONS, session_ids=None if self._visible is None else self._visible)
        ids = idx.session_ids[rows]
        devices = {}
        if self._capture is not None and ids.size:
            table = self._capture.session_table(SessionFilter(session_ids=tuple(int(s) for s in ids)))
            devices = dict(zip(table["session_id"].tolist(), table["device"].tolist()))
        sig = idx.signals
        first_t = {}
        if len(sig):
            # Signals are ordered by (session, time): the first row of a session is its first signal.
            uniq, first = np.unique(sig.session_id, return_index=True)
            first_t = dict(zip(uniq.tolist(), sig.t_ms[first].tolist()))
        out = []
        for r in rows.tolist():
            sid = int(idx.session_ids[r])
            parts = [f"{_SHORT[k]} ×{int(idx.counts[k][r])}" for k in SIGNAL_KINDS if idx.counts[k][r]]
            t = int(first_t.get(sid, 0))
            score = float(idx.score[r])
            out.append((sid, t, [sid, (f"{score:.1f}", score), devices.get(sid, ""), (fmt_t(t), t),
                                 " · ".join(parts)]))
        self.top_list.set_rows(out, sort_column=None)  # already best first
        self.top_title.setText(f"Sessions most worth watching (top {len(out)})")

    def _emit_filter(self) -> None:
        if self._index is None:
            return
        flt = self.current_filter()
        self._emitted = flt
        kinds = tuple(self.checked_kinds())
        # The ticks are the workspace's Frustration condition: every view shows the result.
        self.workspace.update_filter(frustration=kinds, frustration_mode=self.mode_combo.currentData())
        self.filter_requested.emit(flt)

    def _on_workspace_filter_changed(self, _flt) -> None:
        # The Frustration condition changed elsewhere (the filter panel, Reset): tick the same kinds.
        wf = self.workspace.filter
        kinds = set(wf.frustration)
        for kind, box in self.checks.items():
            if box.isChecked() != (kind in kinds):
                box.blockSignals(True)
                box.setChecked(kind in kinds)
                box.blockSignals(False)
        mode = self.mode_combo.findData(wf.frustration_mode)
        if kinds and mode >= 0 and mode != self.mode_combo.currentIndex():
            self.mode_combo.blockSignals(True)
            self.mode_combo.setCurrentIndex(mode)
            self.mode_combo.blockSignals(False)


"""Frustration signals across the window: table columns, the two new filters, timeline markers."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from hindsight.analytics.forms import form_report
from hindsight.analytics.session_index import session_index
from hindsight.store import SessionFilter, open_capture
from hindsight_qt import tasks
from hindsight.analytics.markers import SIGNAL_MARKERS
from hindsight_qt.main_window import MainWindow
from hindsight_qt.settings import Settings
from hindsight_qt.views.qt_session_list import COLUMNS, SessionTableModel

LOAD_TIMEOUT = 20_000
FRUSTRATION = next(c for c, col in enumerate(COLUMNS) if col.key == "frustration")
RAGE = next(c for c, col in enumerate(COLUMNS) if col.key == "rage_click")


@pytest.fixture
def cap(demo_master):
    with open_capture(demo_master) as c:
        yield c


@pytest.fixture
def index(cap):
    return session_index(cap)


@pytest.fixture
def window(qtbot, tmp_path, demo_master):
    win = MainWindow(Settings(QSettings(str(tmp_path / "hindsight.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.resize(1600, 960)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        assert win.open_capture(demo_master)
    yield win
    win.close()
    tasks.wait_all(10_000)


def wait_index(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.session_list.signal_index is not None
                    and window.filter_panel.signal_index is not None
                    and window.filter_panel.form_report is not None, timeout=LOAD_TIMEOUT)


def shown_ids(window) -> np.ndarray:
    return np.sort(window.session_list.model.ordered_session_ids())


def apply_and_wait(qtbot, window, change) -> None:
    with qtbot.waitSignal(window.session_list.table_did_load, timeout=LOAD_TIMEOUT):
        change()
        window.filter_panel.flush()


# -- table ----------------------------------------------------------------------------------
def test_frustration_column_fills_in_with_the_index_score(qtbot, window, index):
    model = window.session_list.model
    qtbot.waitUntil(lambda: model.signal_index is not None, timeout=LOAD_TIMEOUT)
    by_id = dict(zip(index.session_ids.tolist(), index.score.tolist()))
    rage = dict(zip(index.session_ids.tolist(), index.counts["rage_click"].tolist()))
    checked = 0
    for row in range(0, model.rowCount(), max(1, model.rowCount() // 25)):
        sid = model.session_id_at(row)
        text = model.data(model.index(row, FRUSTRATION))
        assert text == (f"{by_id[sid]:.1f}" if by_id[sid] else "")
        assert model.data(model.index(row, RAGE)) == (str(rage[sid]) if rage[sid] else "")
        checked += 1
    assert checked >= 20
    assert np.count_nonzero(index.score) > 0


def test_sorting_by_frustration_puts_the_worst_session_first(qtbot, window, index):
    model = window.session_list.model
    qtbot.waitUntil(lambda: model.signal_index is not None, timeout=LOAD_TIMEOUT)
    window.session_list.view.sortByColumn(FRUSTRATION, Qt.SortOrder.DescendingOrder)
    top = model.session_id_at(0)
    assert index.score[index.row_of(top)] == index.score.max()
    scores = [float(model.data(model.index(r, FRUSTRATION)) or 0) for r in range(50)]
    assert scores == sorted(scores, reverse=True)


def test_index_arriving_after_sorting_by_frustration_resorts(qtbot, index):
    # The table can be sorted by the score before the score exists: it re-sorts when it comes.
    model = SessionTableModel()
    ids = index.session_ids
    table = {"session_id": ids, **{c.key: np.zeros(ids.size, dtype=object if c.kind == "text" else np.int64)
                                   for c in COLUMNS if c.kind not in ("id", "signal", "score")}}
    table["start_ms"] = np.arange(ids.size, dtype=np.int64)
    model.set_table(table)
    model.sort(FRUSTRATION, Qt.SortOrder.DescendingOrder)
    assert model.data(model.index(0, FRUSTRATION)) == ""
    model.set_index(index)
    assert model.data(model.index(0, FRUSTRATION)) == f"{index.score.max():.1f}"


# -- filters --------------------------------------------------------------------------------
def test_frustration_filter_keeps_exactly_the_rage_sessions(qtbot, window, index):
    wait_index(qtbot, window)
    panel = window.filter_panel
    assert panel.frustration.isEnabled()
    apply_and_wait(qtbot, window, lambda: panel.set_frustration(["rage_click"]))
    expected = index.sessions_with("rage_click")
    assert expected.size > 0
    np.testing.assert_array_equal(shown_ids(window), expected)
    assert panel.frustration.summary() == "Rage clicks"
    # intersected with the other conditions
    apply_and_wait(qtbot, window, lambda: panel.select("device", ["mobile"]))
    cap = window.capture
    mobile = cap.session_ids(SessionFilter(device=("mobile",)))
    np.testing.assert_array_equal(shown_ids(window), np.intersect1d(expected, mobile))
    # Reset clears it
    apply_and_wait(qtbot, window, panel.reset)
    assert panel.frustration_kinds() == () and window.session_list.row_count() == len(index)


def test_abandoned_at_phone_keeps_the_form_reports_sessions(qtbot, window, cap):
    wait_index(qtbot, window)
    report = form_report(cap)
    expected = np.unique(report.abandoned_sessions("phone").session_id)
    assert expected.size > 0
    panel = window.filter_panel
    apply_and_wait(qtbot, window, lambda: panel.set_abandoned_field("phone"))
    np.testing.assert_array_equal(shown_ids(window), expected)
    assert panel.current_filter().session_ids == tuple(expected.tolist())


def test_signals_panel_ticks_set_the_frustration_list(qtbot, window, index):
    from hindsight_qt.views.qt_signals_panel import QtSignalsPanel

    wait_index(qtbot, window)
    signals = QtSignalsPanel(workspace=window.workspace)   # as the app builds it
    window.attach_panel("Signals", signals)
    signals.set_capture(window.capture)
    qtbot.waitUntil(lambda: signals.index is not None, timeout=LOAD_TIMEOUT)
    apply_and_wait(qtbot, window, lambda: signals.set_checked(["dead_click"]))
    assert window.filter_panel.frustration_kinds() == ("dead_click",)
    np.testing.assert_array_equal(shown_ids(window), index.sessions_with("dead_click"))
    # the filter panel's list and the panel's ticks stay in step both ways
    apply_and_wait(qtbot, window, lambda: window.filter_panel.set_frustration(["dead_click", "error_click"]))
    assert signals.checked_kinds() == ["dead_click", "error_click"]
    apply_and_wait(qtbot, window, window.filter_panel.reset)
    assert window.filter_panel.current_filter().is_empty()
    assert signals.checked_kinds() == []


# -- timeline markers -----------------------------------------------------------------------
def test_planted_rage_session_gets_a_rage_marker(qtbot, window, cap):
    if not hasattr(window.player_view, "timeline_widget"):
        pytest.skip("the replay player is not in this build")
    sid, _kind, t_ms, _end, selector, _detail = cap.planted("rage_click")[0]
    assert window.load_session(int(sid), autoplay=False)
    marks = window.player_view.timeline_widget.extra_markers("signals")
    rage_colour = SIGNAL_MARKERS["rage_click"][0].lower()
    rage = [(t, label) for t, colour, label in marks if colour.name() == rage_colour]
    assert rage and any(abs(t - t_ms) <= 50 for t, _ in rage)
    assert any(label.startswith("Rage click ×") and f"on {selector}" in label for _, label in rage)
    # a bookmark-style marker list without a source does not replace the signals
    window.player_view.timeline_widget.set_extra_markers([(10.0, "#F5A524", "Bookmark")])
    assert window.player_view.timeline_widget.extra_markers("signals") == marks
    assert len(window.player_view.timeline_widget._all_extra()) == len(marks) + 1


def test_signal_markers_fold_a_bursts_dead_clicks_into_the_rage_marker():
    from hindsight.analytics.signals import KIND_CODE, SignalTable

    from hindsight.analytics.markers import signal_markers

    table = SignalTable.from_columns({
        "session_id": [1, 1, 1], "t_ms": [500, 500, 9000], "count": [5, 5, 1],
        "kind": [KIND_CODE["rage_click"], KIND_CODE["dead_click"], KIND_CODE["dead_click"]],
        "selector": np.asarray(["img.product-shot", "img.product-shot", "span.price"], dtype=object),
    })
    assert [(t, label) for t, _c, label in signal_markers(table)] == [
        (9000.0, "Dead click on span.price"),
        (500.0, "Rage click ×5 on img.product-shot (5 dead)"),
    ]

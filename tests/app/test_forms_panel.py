"""The analytics panels (forms, funnel, signals) on the app's demo capture."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hindsight.analytics.forms import form_report
from hindsight.analytics.funnel import funnel
from hindsight.analytics.session_index import session_index
from hindsight.store import SessionFilter
from hindsight_qt.views.qt_forms_panel import FIELD_COLUMNS, REPLAY_LEAD_IN_MS, QtFormsPanel
from hindsight_qt.views.qt_funnel_panel import QtFunnelPanel
from hindsight_qt.views.qt_signals_panel import QtSignalsPanel

LANDING = "https://demo.hindsight.local/"
SIGNUP = "https://demo.hindsight.local/signup"


def _wait_tasks():
    from hindsight_qt import tasks

    tasks.wait_all(20000)


def _double_click_row(qtbot, table, row: int):
    item = table.item(row, 0)
    table.scrollToItem(item)
    pos = table.visualItemRect(item).center()
    # Qt reports a double click after a first press: click, then double-click.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


# -- forms --------------------------------------------------------------------------------


@pytest.fixture
def forms_panel(qtbot, capture):
    p = QtFormsPanel()
    qtbot.addWidget(p)
    p.resize(1200, 760)
    p.show()
    with qtbot.waitSignal(p.report_updated, timeout=20000):
        p.set_capture(capture)
    yield p
    _wait_tasks()


def test_forms_panel_header_chart_and_table(forms_panel, capture):
    want = form_report(capture, "signup", SIGNUP)
    r = forms_panel.report
    assert r.as_dict() == want.as_dict()
    assert forms_panel.header.text() == want.header()
    assert "most abandoned at Phone" in forms_panel.header.text()
    assert forms_panel.model.rowCount() == len(want.fields) == 7
    assert forms_panel.model.columnCount() == len(FIELD_COLUMNS)
    # Chart: one bar per field; reaching + drop-off stack to the field's interacted count.
    reach = forms_panel.reach_bars.opts["height"]
    drop = forms_panel.drop_bars.opts["height"]
    assert [int(a + b) for a, b in zip(reach, drop)] == [f.interacted for f in want.fields]
    assert forms_panel.top_label.textItem.toPlainText().startswith("Top abandonment: Phone")


def test_forms_panel_sorts_and_lists_abandons_at_the_selected_field(forms_panel, capture, qtbot):
    report = forms_panel.report
    # The top abandonment field is selected at first: its abandons are listed.
    phone = report.abandoned_sessions("phone")
    assert forms_panel.abandon_list.rowCount() == len(phone) > 0
    assert "Phone" in forms_panel.abandon_title.text()
    # Sort by drop-off, descending: phone comes first.
    forms_panel.table.sortByColumn(8, Qt.SortOrder.DescendingOrder)
    first = forms_panel.proxy.index(0, 0).data()
    assert first == "Phone"
    forms_panel.select_field("email")
    email = report.abandoned_sessions("email")
    assert forms_panel.abandon_list.rowCount() == len(email)
    rows = dict(forms_panel.abandon_list.session_rows())
    assert rows == {int(s): int(t) for s, t in zip(email.session_id, email.t_ms)}
    # Double-click replays from 3 s before the session left the field.
    forms_panel.select_field("phone")
    rows = dict(forms_panel.abandon_list.session_rows())
    assert rows == {int(s): int(t) for s, t in zip(phone.session_id, phone.t_ms)}
    forms_panel.abandon_list.sortItems(0, Qt.SortOrder.AscendingOrder)
    with qtbot.waitSignal(forms_panel.replay_requested, timeout=2000) as sig:
        _double_click_row(qtbot, forms_panel.abandon_list, 0)
    sid = int(forms_panel.abandon_list.item(0, 0).text())
    assert sig.args == [sid, max(0, rows[sid] - REPLAY_LEAD_IN_MS)]  # replay starts 3 s before


def test_forms_panel_device_and_filter(forms_panel, capture, qtbot):
    forms_panel.set_device("mobile")
    mobile = form_report(capture, "signup", SIGNUP, device="mobile")
    assert forms_panel.report.as_dict() == mobile.as_dict()
    assert forms_panel.header.text() == mobile.header()
    forms_panel.set_device(None)
    with qtbot.waitSignal(forms_panel.report_updated, timeout=20000):
        forms_panel.set_filter(SessionFilter(converted=True))
    r = forms_panel.report
    assert r.abandoned == 0 and r.completed == r.started == int(capture.session_table()["converted"].sum())


def test_forms_panel_without_capture(qtbot):
    p = QtFormsPanel()
    qtbot.addWidget(p)
    p.set_capture(None)
    assert p.header.text() == "No capture" and p.model.rowCount() == 0


# -- funnel -------------------------------------------------------------------------------


@pytest.fixture
def funnel_panel(qtbot, capture):
    p = QtFunnelPanel()
    qtbot.addWidget(p)
    p.resize(1200, 760)
    p.show()
    with qtbot.waitSignal(p.report_updated, timeout=20000):
        p.set_capture(capture)
    yield p
    _wait_tasks()


def test_funnel_panel_default_steps_match_the_core(funnel_panel, capture):
    assert [s.label for s in funnel_panel.steps] == [LANDING, SIGNUP, "event:signup_completed"]
    want = funnel(capture, [LANDING, SIGNUP, "event:signup_completed"])
    got = funnel_panel.report
    assert [r.sessions for r in got.results] == [r.sessions for r in want.results]
    assert [int(h) for h in funnel_panel.reach_bars.opts["height"]] == [r.sessions for r in want.results]
    assert funnel_panel.table.rowCount() == 3
    assert funnel_panel.table.item(2, 1).text() == f"{want.results[2].sessions:,}"
    assert f"{want.results[2].sessions:,} of {want.results[0].sessions:,} sessions" in funnel_panel.header.text()


def test_funnel_panel_lists_and_replays_dropped_sessions(funnel_panel, qtbot):
    funnel_panel.select_step(2)
    ids, t = funnel_panel.report.dropped_sessions(2)
    assert funnel_panel.dropped_list.rowCount() == len(ids) > 0
    assert dict(funnel_panel.dropped_list.session_rows()) == dict(zip(ids.tolist(), t.tolist()))
    funnel_panel.dropped_list.sortItems(0, Qt.SortOrder.AscendingOrder)
    sid = int(funnel_panel.dropped_list.item(0, 0).text())
    with qtbot.waitSignal(funnel_panel.replay_requested, timeout=2000) as sig:
        _double_click_row(qtbot, funnel_panel.dropped_list, 0)
    assert sig.args == [sid, max(0, dict(zip(ids.tolist(), t.tolist()))[sid] - REPLAY_LEAD_IN_MS)]


def test_funnel_panel_editing_steps(funnel_panel, qtbot, capture):
    funnel_panel.step_list.setCurrentRow(1)
    with qtbot.waitSignal(funnel_panel.report_updated, timeout=20000):
        funnel_panel.remove_button.click()
    assert [s.label for s in funnel_panel.steps] == [LANDING, "event:signup_completed"]
    assert funnel_panel.report.results[1].sessions == funnel(capture, [LANDING, "event:signup_completed"]) \
        .results[1].sessions
    funnel_panel.page_combo.setCurrentIndex(funnel_panel.page_combo.findData(SIGNUP))
    with qtbot.waitSignal(funnel_panel.report_updated, timeout=20000):
        funnel_panel.add_page_button.click()
    with qtbot.waitSignal(funnel_panel.report_updated, timeout=20000):
        funnel_panel.up_button.click()
    assert [s.label for s in funnel_panel.steps] == [LANDING, SIGNUP, "event:signup_completed"]
    with qtbot.waitSignal(funnel_panel.report_updated, timeout=20000):
        funnel_panel.set_filter(SessionFilter(device=("mobile",)))
    want = funnel(capture, [LANDING, SIGNUP, "event:signup_completed"], flt=SessionFilter(device=("mobile",)))
    assert [r.sessions for r in funnel_panel.report.results] == [r.sessions for r in want.results]


# -- signals ------------------------------------------------------------------------------


@pytest.fixture
def signals_panel(qtbot, capture):
    p = QtSignalsPanel()
    qtbot.addWidget(p)
    p.resize(640, 760)
    p.show()
    with qtbot.waitSignal(p.index_updated, timeout=30000):
        p.set_capture(capture)
    yield p
    _wait_tasks()


def test_signals_panel_counts_and_top_sessions(signals_panel, capture):
    index = session_index(capture)
    for kind, label in signals_panel.session_labels.items():
        assert label.text() == f"{int((index.counts[kind] > 0).sum()):,}"
    top = index.top(1)
    assert int(signals_panel.top_list.item(0, 0).text()) == int(index.session_ids[top[0]])
    assert signals_panel.top_list.rowCount() == min(50, int((index.score > 0).sum()))


def test_signals_panel_checkboxes_filter_sessions(signals_panel, capture, qtbot):
    index = session_index(capture)
    with qtbot.waitSignal(signals_panel.filter_requested, timeout=2000) as sig:
        signals_panel.checks["rage_click"].setChecked(True)
    flt = sig.args[0]
    assert set(flt.session_ids) == set(index.sessions_with("rage_click").tolist())
    # The app hands the filter back: the panel keeps counting within its own segment.
    signals_panel.set_filter(flt)
    assert signals_panel.session_labels["rage_click"].text() == f"{len(flt.session_ids):,}"
    with qtbot.waitSignal(signals_panel.filter_requested, timeout=2000) as sig:
        signals_panel.checks["error_click"].setChecked(True)
    want = set(index.sessions_with("rage_click").tolist()) | set(index.sessions_with("error_click").tolist())
    assert set(sig.args[0].session_ids) == want
    with qtbot.waitSignal(signals_panel.filter_requested, timeout=2000) as sig:
        signals_panel.set_checked([])
    assert sig.args[0].session_ids is None


def test_signals_panel_segment_and_replay(signals_panel, capture, qtbot):
    with qtbot.waitSignal(signals_panel.index_updated, timeout=20000):
        signals_panel.set_filter(SessionFilter(device=("mobile",)))
    index = signals_panel.index
    mobile = set(capture.session_ids(SessionFilter(device=("mobile",))).tolist())
    listed = [sid for sid, _ in signals_panel.top_list.session_rows()]
    assert listed and set(listed) <= mobile
    sig_rows = index.signals.take(index.signals.session_id == listed[0])
    with qtbot.waitSignal(signals_panel.replay_requested, timeout=2000) as sig:
        _double_click_row(qtbot, signals_panel.top_list, 0)
    assert sig.args == [listed[0], max(0, int(sig_rows.t_ms.min()) - REPLAY_LEAD_IN_MS)]

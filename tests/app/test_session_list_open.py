"""Opening a capture in the session list: rows first, then the signal index (issue 15)."""

from __future__ import annotations

import numpy as np

from hindsight_qt.views.qt_session_list import COLUMNS, QtSessionList


def test_signal_index_starts_after_the_rows_are_shown(qtbot, capture):
    w = QtSessionList()
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    order: list[str] = []
    w.table_did_load.connect(lambda n: order.append(f"table {n}"))
    w.index_did_load.connect(lambda index: order.append("index"))
    with qtbot.waitSignal(w.index_did_load, timeout=120_000):
        w.set_capture(capture)
        assert w.signal_index is None and w.index_label.text() == ""   # not started before the rows
    n = capture.session_count()
    assert order == [f"table {n}", "index"]
    rage = [c for c, col in enumerate(COLUMNS) if col.key == "rage_click"][0]
    counts = np.array([int((w.model.data(w.model.index(r, rage)) or "0").replace(",", ""))
                       for r in range(w.model.rowCount())])
    assert counts.sum() == int(w.signal_index.counts["rage_click"].sum()) > 0

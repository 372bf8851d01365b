"""Helpers shared by GUI tests: widgets opened on a capture."""

from contextlib import contextmanager


@contextmanager
def heatmap_panel_on(qtbot, capture_path, page: str | None = None):
    """A Heatmap panel (1280x720, shown) on the capture at ``capture_path``, its first map
    drawn (on ``page`` if given); closed again afterwards."""
    from hindsight.store import open_capture
    from hindsight_qt import tasks
    from hindsight_qt.views.qt_heatmap_panel import QtHeatmapPanel

    cap = open_capture(capture_path)
    p = QtHeatmapPanel()
    qtbot.addWidget(p)
    p.resize(1280, 720)
    p.show()
    with qtbot.waitSignal(p.heatmap_updated, timeout=30000):
        p.set_capture(cap)
    if page is not None and (p.snapshot is None or
                             p.snapshot.page_id != next(pg.page_id for pg in cap.pages() if pg.url == page)):
        with qtbot.waitSignal(p.heatmap_updated, timeout=30000):
            p.set_page(page)
    try:
        yield p
    finally:
        tasks.wait_all(10000)
        p.set_capture(None)
        cap.close()

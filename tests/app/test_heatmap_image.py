""""Save image…" on the heatmap panel and the player overlay: the same PNG as the CLI's."""

from __future__ import annotations

import numpy as np
from PIL import Image

from hindsight.cli import main
from hindsight.store import SessionFilter
from hindsight_qt import tasks

LANDING = "https://demo.hindsight.local/"
SIGNUP = "https://demo.hindsight.local/signup"


def _pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


def _save(qtbot, view, path):
    task = view.save_image(path)
    assert task is not None
    qtbot.waitUntil(lambda: task.done, timeout=30_000)
    assert path.exists() and not path.with_name(path.name + ".partial").exists()
    return path


def test_panel_image_equals_the_cli_png(heatmap_panel, demo_master, qtbot, tmp_path, capsys):
    panel = heatmap_panel
    # A filtered click map of the mobile sign-up page, at the panel's opacity.
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20_000):
        panel.set_page(SIGNUP)
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20_000):
        panel.set_filter(SessionFilter(device=("mobile",), converted=False))
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20_000):
        panel.set_kind("click")
    panel.opacity_slider.setValue(55)
    assert panel.snapshot.device == "mobile" and panel.result.kind == "click"
    app_png = _save(qtbot, panel, tmp_path / "app.png")

    cli_png = tmp_path / "cli.png"
    assert main(["heatmap", str(demo_master), "--page", SIGNUP, "--kind", "click", "--device", "mobile",
                 "--not-converted", "--opacity", "0.55", "-o", str(cli_png)]) == 0
    capsys.readouterr()
    a, b = _pixels(app_png), _pixels(cli_png)
    assert a.shape == b.shape
    # The mobile page is 390 px wide, the export at least 720: the screenshot is centred.
    assert a.shape[1] == 720 and a.shape[0] > panel.snapshot.height
    assert np.abs(a - b).max() == 0
    # And it is the map shown, not any map: another opacity changes the overlay's pixels.
    panel.opacity_slider.setValue(90)
    other = _pixels(_save(qtbot, panel, tmp_path / "app90.png"))
    assert other.shape == a.shape and np.abs(other - a).max() > 20


def test_panel_compare_image_is_the_cli_vs_image(heatmap_panel, demo_master, qtbot, tmp_path, capsys):
    panel = heatmap_panel
    with qtbot.waitSignal(panel.heatmap_updated, timeout=20_000):
        panel.set_compare("converted")
    app_png = _save(qtbot, panel, tmp_path / "cmp.png")
    cli_png = tmp_path / "cli.png"
    assert main(["heatmap", str(demo_master), "--page", LANDING, "--device", "desktop", "--converted",
                 "--vs", "not-converted", "--opacity", "0.7", "-o", str(cli_png)]) == 0
    capsys.readouterr()
    a, b = _pixels(app_png), _pixels(cli_png)
    assert a.shape == b.shape and a.shape[1] == panel.snapshot.width
    # Same map and sample sizes; only the segment names in the header differ (labels vs flags).
    header = 80
    assert np.abs(a[header:] - b[header:]).max() == 0


def test_overlay_image_equals_the_cli_png(qtbot, capture, demo_master, tmp_path, capsys):
    from hindsight_qt.views.qt_player import QtPlayer

    w = QtPlayer()
    qtbot.addWidget(w)
    w.resize(1100, 720)
    w.show()
    sid = next(int(s) for s in capture.session_ids(SessionFilter(device=("desktop",))))
    w.load_session(capture, sid, autoplay=False)
    w._timer.stop()
    assert w.overlay.save_image(tmp_path / "off.png") is None   # nothing shown, nothing saved
    w.overlay.set_kind("scroll")
    w.overlay.set_opacity(0.8)
    qtbot.waitUntil(lambda: w.overlay.result is not None and w.overlay.result.kind == "scroll", timeout=20_000)
    app_png = _save(qtbot, w.overlay, tmp_path / "overlay.png")
    snap = capture.snapshot(w.overlay.result.snapshot_id)
    url = next(p.url for p in capture.pages() if p.page_id == snap.page_id)
    cli_png = tmp_path / "cli.png"
    assert main(["heatmap", str(demo_master), "--page", url, "--kind", "scroll", "--device", snap.device,
                 "--opacity", "0.8", "-o", str(cli_png)]) == 0
    capsys.readouterr()
    a, b = _pixels(app_png), _pixels(cli_png)
    assert a.shape == b.shape and a.shape[1] == max(snap.width, 720)
    assert np.abs(a - b).max() == 0
    tasks.wait_all(10_000)

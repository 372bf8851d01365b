"""Grab the main window on its Heatmap tab (docs/screenshots/heatmap_widths_*.png, heatmap_state_*.png).

Run under xvfb at the screen size asked for, e.g.::

    xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/python tools/heatmap_screens.py 1280 720 OUT_DIR

It imports the real rrweb recordings of tests/data/rrweb_real (the landing page at three desktop
widths, and the page-states recording) and saves ``heatmap_widths_WxH.png`` and
``heatmap_state_WxH.png`` (the dialog state chosen) in OUT_DIR.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "rrweb_real"
LANDING = ("session_landing_1280x800.json", "session_landing_1440x900.json", "session_landing_1920x1080.json")


def main(width: int, height: int, out_dir: Path) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from hindsight.importers.session_writer import import_files

    tmp = Path(tempfile.mkdtemp(prefix="hindsight_shots_"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp))
    landing, states = tmp / "landing.sqlite", tmp / "states.sqlite"
    import_files([REAL / f for f in LANDING], landing)
    import_files([REAL / "session_states_1280x800.json"], states)

    app = QApplication.instance() or QApplication(sys.argv)
    from hindsight_qt import tasks
    from hindsight_qt.main_window import MainWindow
    from hindsight_qt.settings import Settings

    def settle(ms: int = 600) -> None:
        for _ in range(6):
            tasks.wait_all(30_000)
            app.processEvents()
            from PySide6.QtCore import QEventLoop, QTimer

            loop = QEventLoop()
            QTimer.singleShot(ms // 6, loop.quit)
            loop.exec()

    win = MainWindow(Settings(QSettings(str(tmp / "h.ini"), QSettings.Format.IniFormat)), panels=True)
    win.resize(width, height)
    win.show()
    for name, path in (("widths", landing), ("state", states)):
        assert win.open_capture(path)
        settle()
        dock = next(d for d in win.panels() if d.windowTitle() == "Heatmap")
        dock.raise_()
        settle(1500)
        panel = dock.widget()
        if name == "widths" and width >= 1920:   # the rage map of the 1920 px screenshot
            panel.set_screenshot(1920)
            settle(800)
            panel.set_kind("rage")
            settle(1500)
        if name == "state":
            panel.set_state(next(s["state_id"] for s in panel.states if s["label"].startswith("dialog")))
            settle(1500)
        out_dir.mkdir(parents=True, exist_ok=True)
        if not win.grab().save(str(out_dir / f"heatmap_{name}_{width}x{height}.png")):
            raise SystemExit(f"could not write {out_dir / f'heatmap_{name}_{width}x{height}.png'}")
        print("saved", out_dir / f"heatmap_{name}_{width}x{height}.png", "window", win.width(), win.height(),
              "dock", dock.width())
    win.close()
    tasks.wait_all(30_000)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))

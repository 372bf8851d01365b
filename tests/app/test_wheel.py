"""A pip-installed wheel carries the style sheet and icons (issue 13, defect 9), and importing a
views module has no side effects.

The wheel is built from this checkout (``pip wheel . --no-deps``) and installed into a fresh
venv; PySide6, pyqtgraph and numpy come from the test environment's site-packages through a
path entry, but ``hindsight`` and ``hindsight_qt`` only from the wheel (checked). The app then
starts offscreen in that venv, in a folder that is not the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

STARTUP = r"""
import json, sys
from pathlib import Path
import hindsight, hindsight_qt
from hindsight_qt.application import create_application
from hindsight_qt.main_window import MainWindow
from hindsight_qt.resources import resource_path
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

app = create_application([])
win = MainWindow(panels=True)
win.resize(1280, 720)
win.show()
app.processEvents()
qss = app.styleSheet()
icons = {name: not QIcon(str(resource_path(f"icons/{name}.svg"))).pixmap(QSize(16, 16)).isNull()
         for name in ("hindsight", "check", "chevron-down", "chevron-up")}
print(json.dumps({
    "hindsight": hindsight.__file__, "hindsight_qt": hindsight_qt.__file__,
    "resources": str(resource_path("")), "qss_chars": len(qss),
    "qss_has_rules": "QComboBox::down-arrow" in qss, "qss_placeholder_left": "@resources@" in qss,
    "qss_icon_exists": Path(str(resource_path("icons/chevron-down.svg"))).is_file(),
    "window_icon": not app.windowIcon().isNull(), "icons": icons,
}))
win.close()
"""


def test_installed_wheel_has_styles_and_icons(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(wheels)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("hindsight-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(purelib),
                    str(wheel)], check=True, capture_output=True)
    # Qt, pyqtgraph, numpy... from this environment: a plain path line (its .pth files, among
    # them the editable install of this checkout, are not processed).
    (purelib / "test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HINDSIGHT_RESOURCES")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_RUNTIME_DIR=str(home))
    run = subprocess.run([str(py), "-c", STARTUP], cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    for package in ("hindsight", "hindsight_qt"):
        assert Path(out[package]).is_relative_to(venv), out[package]   # from the wheel, not the checkout
    assert Path(out["resources"]).is_relative_to(purelib / "hindsight_qt" / "assets")
    assert out["qss_chars"] > 5000 and out["qss_has_rules"] and not out["qss_placeholder_left"]
    assert out["qss_icon_exists"]
    assert out["window_icon"] and all(out["icons"].values()), out["icons"]


def test_importing_views_has_no_side_effects():
    """No QApplication, no settings file, no patched refcounts: importing is only importing."""
    code = r"""
import importlib, json, pkgutil, sys
before = sys.getrefcount(None)
import hindsight_qt.views as views
names = [m.name for m in pkgutil.iter_modules(views.__path__)]
for name in names:
    importlib.import_module("hindsight_qt.views." + name)
from PySide6.QtCore import QCoreApplication
print(json.dumps({"modules": names, "app": QCoreApplication.instance() is not None,
                  "none_refs_jump": sys.getrefcount(None) - before}))
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(out["modules"]) >= 10
    assert out["app"] is False
    assert out["none_refs_jump"] < 1 << 30   # the refcount guard (+2**40) was not applied on import

"""How the Qt-free core reaches the optional GUI: through entry points, never by import.

The GUI package registers callables in the ``hindsight.gui`` entry-point group (see
pyproject.toml); the CLI looks them up by name when a command needs a window or Qt rendering.
A frozen build without package metadata falls back to the same targets, listed here.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Callable

GROUP = "hindsight.gui"
#: Same targets as pyproject's [project.entry-points."hindsight.gui"], for builds without metadata.
FALLBACK = {
    "main": "hindsight_qt.__main__:main",
    "render_frame_png": "hindsight_qt.render:render_frame_png",
    "open_frame_grabber": "hindsight_qt.render:open_frame_grabber",
}


class GuiUnavailable(ImportError):
    """The desktop GUI (PySide6, pyqtgraph) is not installed."""


def gui_callable(name: str) -> Callable[..., Any]:
    """The GUI's registered callable ``name``; raises ``GuiUnavailable`` with an install hint."""
    target = next((ep.value for ep in entry_points(group=GROUP) if ep.name == name), FALLBACK.get(name))
    if target is None:
        raise GuiUnavailable(f"no GUI entry point {name!r}")
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise GuiUnavailable(
            f"the desktop app needs PySide6 and pyqtgraph ({exc}); install them with: "
            "pip install 'hindsight[gui]'"
        ) from None

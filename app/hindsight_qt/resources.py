"""Find the app's runtime files (icons, style sheets) in the source tree or a frozen build."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_root() -> Path:
    """The ``resources/`` folder: ``$HINDSIGHT_RESOURCES``, PyInstaller's bundle, or the repo."""
    override = os.environ.get("HINDSIGHT_RESOURCES")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)  # set by PyInstaller's bootloader
    if frozen:
        return Path(frozen) / "resources"
    # app/hindsight_qt/resources.py -> repository root
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(rel: str | os.PathLike[str]) -> Path:
    """Absolute path of a file under ``resources/``, e.g. ``resource_path("styles/app.qss")``."""
    return resources_root() / Path(rel)


def read_text(rel: str | os.PathLike[str], default: str = "") -> str:
    """A resource's text, or ``default`` if it is missing (the app still runs unstyled)."""
    try:
        return resource_path(rel).read_text(encoding="utf-8")
    except OSError:
        return default

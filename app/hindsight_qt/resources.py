"""Find the app's runtime files (icons, style sheets) in the source tree or a frozen build."""

from __future__ import annotations

import os
import sys
from pathlib import Path


#: Where a wheel carries ``resources/`` (setup.py copies it into the package it builds).
PACKAGED = Path(__file__).resolve().parent / "assets"
#: The repository's folder (app/hindsight_qt/resources.py -> repository root): a source checkout
#: and an editable install.
SOURCE = Path(__file__).resolve().parents[2] / "resources"


def resources_root() -> Path:
    """The ``resources/`` folder: ``$HINDSIGHT_RESOURCES``, PyInstaller's bundle, the installed
    package's ``assets`` (a wheel), or the source tree's."""
    override = os.environ.get("HINDSIGHT_RESOURCES")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)  # set by PyInstaller's bootloader only (a frozen build)
    if frozen:
        return Path(frozen) / "resources"
    if PACKAGED.is_dir():
        return PACKAGED
    return SOURCE


def resource_path(rel: str | os.PathLike[str]) -> Path:
    """Absolute path of a file under ``resources/``, e.g. ``resource_path("styles/app.qss")``."""
    return resources_root() / Path(rel)


def read_text(rel: str | os.PathLike[str], default: str = "") -> str:
    """A resource's text, or ``default`` if it is missing (the app still runs unstyled)."""
    try:
        return resource_path(rel).read_text(encoding="utf-8")
    except OSError:
        return default

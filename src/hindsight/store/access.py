"""Whether a file or folder may be written, honouring its mode bits even for root.

``os.access`` answers for the calling user's privileges: for root (and Windows
administrators with backup rights) it says "writable" whatever the mode, because the kernel
lets root write anyway. A capture the user made read-only (``chmod 444``) is a promise
that it is never written, so these helpers also require a write bit in the mode when the
process runs as root, and then try a real open (a read-only mount refuses even root).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def mode_allows_write(path: str | os.PathLike[str]) -> bool:
    """Whether the permission bits of ``path`` (file or folder) let this process write it.

    For root, whom the kernel does not stop, at least one write bit must be set: a
    ``chmod 444`` file or ``chmod 555`` folder counts as read-only.
    """
    try:
        st = os.stat(path)
    except OSError:
        return False
    if _is_root():
        return bool(st.st_mode & _ANY_WRITE)
    return os.access(path, os.W_OK)


def file_writable(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (an existing file) may be written: mode bits, then a real open."""
    path = Path(path)
    if not path.is_file() or not mode_allows_write(path):
        return False
    try:
        with open(path, "r+b"):
            return True
    except OSError:
        return False


def folder_writable(folder: str | os.PathLike[str]) -> bool:
    """Whether files may be created in ``folder`` (SQLite's journal needs it): bits, then a try."""
    folder = Path(folder)
    if not folder.is_dir() or not mode_allows_write(folder) or not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".hindsight-write-test-"):
            return True
    except OSError:
        return False


def capture_writable(path: str | os.PathLike[str]) -> bool:
    """Whether a capture may be written in place (the file and its folder, for the journal)."""
    path = Path(path)
    return file_writable(path) and folder_writable(path.parent)


def read_only_reason(path: str | os.PathLike[str]) -> str | None:
    """Why the capture at ``path`` must not be written, in words, or None if it may be."""
    path = Path(path)
    if not file_writable(path):
        mode = stat.filemode(path.stat().st_mode) if path.exists() else "?"
        return f"is read-only (mode {mode})"
    if not folder_writable(path.parent):
        return f"is in a read-only folder ({path.parent})"
    return None

"""One-line error messages for the user, and the app's error dialog.

A ``CaptureError`` already reads as one line naming the file and the problem. Anything else
that escapes the core while reading a capture is a damage the checks did not foresee: the
user gets one line naming the file and pointing at ``hindsight check``, never a Python message.
"""

from __future__ import annotations

from hindsight.store import Capture, CaptureError
from hindsight.text import plural


def user_message(exc: BaseException, capture: Capture | None = None) -> str:
    """``exc`` as one line for the user (``capture``: the open capture, to name its file)."""
    if isinstance(exc, CaptureError):
        lines = str(exc).strip().splitlines()
        return lines[0] if lines else "the capture cannot be read"
    where = f"{capture.path}: " if capture is not None else ""
    return (f"{where}this part of the capture cannot be read; it may be damaged "
            f"('hindsight check' lists its problems)")


def show_error(parent, title: str, exc: BaseException, capture: Capture | None = None) -> str:
    """The app's one-line error dialog (as for a file that cannot be opened); returns the text."""
    from PySide6.QtWidgets import QMessageBox

    text = user_message(exc, capture)
    QMessageBox.critical(parent, title, text)
    return text


def damaged_note(capture: Capture | None) -> str:
    """'N damaged events skipped' for the status bar, '' when none were."""
    n = capture.damaged_events if capture is not None else 0
    return f"{plural(n, 'damaged event')} skipped" if n else ""

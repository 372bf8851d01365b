"""The one exception the store raises for a file it cannot use, worded for the user."""

from __future__ import annotations

import os


class CaptureError(Exception):
    """A capture (or import) file cannot be used; ``str()`` is one line naming file and problem."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)

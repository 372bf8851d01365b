"""The one exception the store raises for a file it cannot use, worded for the user."""

from __future__ import annotations

import os


class CaptureError(Exception):
    """A capture (or import) file cannot be used; ``str()`` is one line naming file and problem."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        # SQLite's messages can quote a damaged schema with its line breaks: fold them into one
        # line, and keep a quoted fragment short (the file and the kind of damage are what count)
        problem = " ".join(str(problem).split())
        self.problem = problem if len(problem) <= 300 else problem[:297] + "..."
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)

    def __reduce__(self):   # picklable, so an error in a Dask worker reaches the client intact
        return (type(self), (self.path, self.problem))

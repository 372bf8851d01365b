"""Argument types shared by every ``hindsight`` command: each turns a bad value into one line.

argparse calls them while parsing; an ``ArgumentTypeError`` becomes
``hindsight CMD: error: argument --at: ...`` (one line, exit 2; see ``OneLineParser``).
Numbers must be finite (``nan`` / ``inf`` are refused), ids fit SQLite's 64-bit integers,
and output paths are checked before any work starts: not empty, not a folder, in a folder
that exists and may be written (mode bits count even for root, as for captures).
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

#: Largest value SQLite's INTEGER (and so a session or bookmark id) can hold.
MAX_ID = 2**63 - 1


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit 2), without the usage block."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        message = " ".join(str(message).split())
        # The same "hindsight: error: ..." line as every other CLI error.
        self.exit(2, f"hindsight: error: {message} (see '{self.prog} --help')\n")


def _number(text: str, kind=float) -> float:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        noun = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def finite_float(text: str) -> float:
    """Any finite number (``nan``, ``inf`` refused)."""
    return _number(text)


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (durations, times in a session, sizes)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def float_range(lo: float, hi: float):
    """A finite number in [lo, hi]."""
    def parse(text: str) -> float:
        value = _number(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo:g} and {hi:g}, not {text}")
        return value
    parse.__name__ = "number"
    return parse


def int_range(lo: int, hi: int = MAX_ID):
    """A whole number in [lo, hi]."""
    def parse(text: str) -> int:
        value = int(_number(text, int))
        if not lo <= value <= hi:
            if hi == MAX_ID:
                raise argparse.ArgumentTypeError(f"must be {lo} or more, not {text}")
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, not {text}")
        return value
    parse.__name__ = "whole number"
    return parse


non_negative_int = int_range(0)
positive_int = int_range(1)


def _row_id(text: str, what: str) -> int:
    """A whole number from 0 to 2**63 - 1 (SQLite's INTEGER), named ``what`` in the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what} (a whole number)") from None
    if not 0 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not {what} (0 to {MAX_ID})")
    return value


def session_id(text: str) -> int:
    """A session id: a whole number from 0 to 2**63 - 1 (SQLite's INTEGER)."""
    return _row_id(text, "a session id")


def record_id(text: str) -> int:
    """A bookmark (or other row) id: a whole number from 0 to 2**63 - 1."""
    return _row_id(text, "an id")


def visitor_id(text: str) -> str:
    """A visitor id as recorded; empty is refused (it would match every session without one)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty visitor id (it would match every session that has none)")
    return text


def date_ms(text: str) -> int:
    """A date or time, UTC unless it says otherwise, as Unix epoch ms.

    ``2024-05-01`` (midnight UTC), ``2024-05-01T13:30``, ``2024-05-01 13:30:00+02:00``, ``...Z``.
    """
    s = text.strip()
    try:
        if not s:
            raise ValueError
        when = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], UTC unless an offset "
            "is given)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if not 1990 <= when.astimezone(timezone.utc).year <= 2200:
        raise argparse.ArgumentTypeError(f"{text!r} is outside the years 1990-2200")
    return int(when.timestamp() * 1000)


def output_path(text: str) -> Path:
    """A file to write: not empty, not a folder, in an existing folder that may be written,
    and not an existing read-only file (mode bits count even for root)."""
    return _output_path(text, replace=True)


def capture_out_path(text: str) -> Path:
    """A capture to create, or to reuse if it exists (``demo --out``, ``bench --capture``):
    as :func:`output_path`, but an existing read-only file is left to the command to judge."""
    return _output_path(text, replace=False)


def _output_path(text: str, replace: bool) -> Path:
    from hindsight.store.access import folder_writable, mode_allows_write

    if not text or not text.strip():
        raise argparse.ArgumentTypeError("an empty path: give a file name to write")
    path = Path(text).expanduser()
    if path.is_dir() or text.endswith(("/", "\\")):
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file name to write in it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise argparse.ArgumentTypeError(f"cannot write {text}: folder {folder} does not exist")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: {folder} is not a folder")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"cannot write {text}: it is not a regular file")
    if replace and path.exists() and not mode_allows_write(path):
        raise argparse.ArgumentTypeError(f"cannot write {text}: the file is read-only")
    if not folder_writable(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text}: folder {folder} is not writable")
    return path


def input_path(text: str) -> Path:
    """An existing file to read."""
    if not text or not text.strip():
        raise argparse.ArgumentTypeError("an empty path: give a file to read")
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def confirm(question: str, yes: bool) -> bool:
    """True with ``--yes``; else ask on an interactive terminal; False when nobody can answer."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")

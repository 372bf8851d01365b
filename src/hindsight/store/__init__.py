"""The capture store: a versioned SQLite file of pages, snapshots, sessions and packed events."""

from hindsight.store.errors import CaptureError
from hindsight.store.kinds import EventKind, KIND_NAMES
from hindsight.store.columns import EventColumns
from hindsight.store.reader import Capture, open_capture
from hindsight.store.writer import CaptureWriter
from hindsight.store.filters import SessionFilter

__all__ = [
    "Capture",
    "CaptureError",
    "CaptureWriter",
    "EventColumns",
    "EventKind",
    "KIND_NAMES",
    "SessionFilter",
    "open_capture",
]

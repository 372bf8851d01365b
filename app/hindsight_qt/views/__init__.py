"""Hindsight's Qt views: the replay player (canvas, timeline, controls) and friends.

Importing this package also applies ``guard_none_refcount()`` (see there): without it, the
installed PySide6 6.12.0 on Python 3.11 aborts the app after a few thousand Qt calls.
"""

from __future__ import annotations

import sys


def guard_none_refcount() -> bool:
    """Keep ``None``, ``True`` and ``False`` alive under PySide6 builds that drop references.

    PySide6 6.12.0's abi3 wheel, built against Python >= 3.12 headers where these objects
    are immortal, returns ``None`` from void methods (``setPos``, ``setVisible``...) and
    ``True`` from ``Signal.emit()`` without the ``Py_INCREF`` Python 3.10/3.11 need. After
    a few thousand calls CPython aborts with "none_dealloc: deallocating None" (or
    "bool_dealloc"); pyqtgraph emits a signal on every repaint, so a replay dies within a
    minute. (Same header skew as vllm-project/vllm#49950.) We detect the leak and give the
    three singletons a practically infinite refcount, which is what 3.12 does anyway.
    Returns True if the guard was needed. The real fix is a PySide6 build without the bug
    (or Python >= 3.12).
    """
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        pinged = Signal()

    probe = _Probe()
    probe.pinged.connect(lambda: None)
    singletons = (None, True, False)
    before = [sys.getrefcount(o) for o in singletons]
    for _ in range(8):
        probe.setObjectName("probe")
        probe.pinged.emit()
    after = [sys.getrefcount(o) for o in singletons]
    if all(a >= b for a, b in zip(after, before)):
        return False
    import ctypes

    for obj in singletons:
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field
        if refcnt.value < 1 << 40:
            refcnt.value += 1 << 40
    return True


NONE_REFCOUNT_GUARDED = guard_none_refcount()

from hindsight_qt.views.qt_player import QtPlayer  # noqa: E402
from hindsight_qt.views.qt_replay_canvas import QtReplayCanvas  # noqa: E402
from hindsight_qt.views.qt_timeline import MARKER_COLORS, QtTimeline, format_ms  # noqa: E402

__all__ = ["MARKER_COLORS", "QtPlayer", "QtReplayCanvas", "QtTimeline", "format_ms",
           "guard_none_refcount"]

"""A workaround for PySide6 builds that drop references to None/True/False (see below).

Applied once at start-up by ``create_application()`` (and by the test suite's conftest); never
on import, so importing a views module has no side effects.
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

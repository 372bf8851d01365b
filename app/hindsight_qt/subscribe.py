"""Views subscribe to the core's evented models (``hindsight.events.Emitter``) through here.

A Qt view can be deleted while the workspace lives on; an Emitter still holding the view's
bound method would then call into a deleted C++ object. ``subscribe`` disconnects the
callback when the view's ``destroyed`` signal fires (the lambda touches only the emitter
and the callback it captured, never the dying view).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject

from hindsight.events import Emitter


def subscribe(view: QObject, emitter: Emitter, callback: Callable[..., Any]) -> None:
    """``emitter.connect(callback)`` for as long as ``view`` exists."""
    emitter.connect(callback)
    view.destroyed.connect(lambda *_args, e=emitter, cb=callback: e.disconnect(cb))


def subscribe_all(view: QObject, pairs) -> None:
    """``subscribe`` each ``(emitter, callback)`` of ``pairs``."""
    for emitter, callback in pairs:
        subscribe(view, emitter, callback)

"""A tiny observer: one Emitter per observable field of a core model (napari-style, no Qt)."""

from __future__ import annotations

from typing import Any, Callable


class Emitter:
    """Holds callbacks and calls them in connection order on ``emit``."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


class EventGroup:
    """Attribute bag of Emitters: ``EventGroup('frame', 'speed').frame.connect(cb)``."""

    def __init__(self, *names: str) -> None:
        for name in names:
            setattr(self, name, Emitter())

"""Small conversions between the forms Qt hands values in (enums or plain ints)."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt


def key_code(key) -> int:
    """A key as an int, whether it came as ``Qt.Key`` or as ``QKeyEvent.key()``'s int."""
    return int(key.value) if isinstance(key, enum.Enum) else int(key)


def modifiers_of(modifiers) -> Qt.KeyboardModifier:
    """Keyboard modifiers as ``Qt.KeyboardModifier`` flags (from flags or an int)."""
    if isinstance(modifiers, Qt.KeyboardModifier):
        return modifiers
    return Qt.KeyboardModifier(int(modifiers.value) if isinstance(modifiers, enum.Enum) else int(modifiers))

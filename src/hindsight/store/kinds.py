"""Event kinds recorded in a capture, and what x, y, target and value mean for each.

Coordinates are document CSS pixels of the pageview's snapshot; times are milliseconds
since the session started. ``target`` is an index into the snapshot's element map (-1: none).
"""

from __future__ import annotations

from enum import IntEnum


class EventKind(IntEnum):
    MOVE = 0        # cursor position (x, y)
    CLICK = 1       # mouse click at (x, y) on target
    TAP = 2         # touch tap at (x, y) on target
    SCROLL = 3      # viewport scrolled: x, y = scroll offset of the viewport's top-left
    RESIZE = 4      # viewport resized: x, y = viewport width, height
    FOCUS = 5       # form field focused: target
    BLUR = 6        # form field left: target
    INPUT = 7       # field content changed: target, value = length in characters (never the text)
    SUBMIT = 8      # form submitted: target = the submit control or form
    ERROR = 9       # JavaScript error: value = string id of the message
    CUSTOM = 10     # named custom event: value = string id of the name
    VISIBILITY = 11  # tab visibility: value 1 visible, 0 hidden
    LOAD = 12       # page loaded: value = load time in ms
    DBLCLICK = 13   # double click at (x, y) on target
    TOUCHMOVE = 14  # finger position while touching (x, y)
    MUTATION = 15   # the page changed its DOM: value = number of changed nodes
    VALIDATION = 16  # a field was marked invalid: target = field, value = string id of the message


KIND_NAMES: dict[int, str] = {int(k): k.name.lower() for k in EventKind}
KIND_BY_NAME: dict[str, int] = {v: k for k, v in KIND_NAMES.items()}

POINTER_KINDS = (EventKind.CLICK, EventKind.TAP, EventKind.DBLCLICK)

"""Bookmarks of moments in sessions, patterns (tags used across sessions) with hypotheses and
ICE scores, "find similar" across every session, and Markdown / CSV export.

Bookmarks live in the capture file, in their own tables, or next to it when it is read-only
(see :mod:`hindsight.bookmarks.store`); the recorded tables are never written.
"""

from hindsight.bookmarks.store import (
    Bookmark,
    BookmarkError,
    BookmarkStore,
    Pattern,
    WORTH_A_HYPOTHESIS,
    ice_score,
)

__all__ = [
    "Bookmark",
    "BookmarkError",
    "BookmarkStore",
    "Pattern",
    "WORTH_A_HYPOTHESIS",
    "ice_score",
]

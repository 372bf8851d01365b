"""How numbers read, in the app and on the command line alike: durations, clock times, plurals.

One formatter per kind of number, so the session table and ``hindsight sessions`` never
disagree (a 59.6 s session is "0:59" in both: durations are truncated to whole seconds,
as a player clock shows elapsed time).
"""

from __future__ import annotations


def format_duration(ms) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on), whole seconds truncated; negative or None: "–"."""
    if ms is None or ms < 0:
        return "–"
    s = int(ms) // 1000
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def format_clock(ms) -> str:
    """A moment in a session, ``m:ss.s`` (tenths), e.g. 83,250 ms -> ``"1:23.2"``."""
    s = max(0.0, float(ms)) / 1000.0
    return f"{int(s // 60)}:{s % 60:04.1f}"


def plural(n, word: str, many: str | None = None) -> str:
    """``"1 session"``, ``"2,000 sessions"``: the count with thousands separators and the word
    in the right number (``many`` when the plural is not ``word + "s"``)."""
    n_int = int(n)
    return f"{n_int:,} {word if n_int == 1 else (many or word + 's')}"


def sessions_of(kept: int, total: int) -> str:
    """The session list's count, e.g. ``"749 of 2,000 sessions"``."""
    return f"{int(kept):,} of {plural(total, 'session')}"


def page_text(kept: int, total: int, offset: int, shown: int) -> str:
    """The count over a dataset's paged session list: ``"1,000,000 sessions · showing 1–500"``,
    or ``"749 of 2,000 sessions · showing 501–749"`` when a filter keeps fewer."""
    head = plural(kept, "session") if kept == total else sessions_of(kept, total)
    return f"{head} · showing {offset + 1:,}–{offset + shown:,}" if shown else head


def page_position(offset: int, page_rows: int, total: int) -> str:
    """``"Page 2 of 4"``: where ``offset`` is among pages of ``page_rows`` rows of ``total``."""
    pages = max(1, -(-int(total) // max(1, int(page_rows))))
    return f"Page {int(offset) // max(1, int(page_rows)) + 1:,} of {pages:,}"

"""The badge the replay draws on the focused form field (one wording for every view).

Typed text is never stored: a text field shows its length ("•••• 8 chars"); a checkbox or
radio shows its checked state, a select its chosen option, never a length (their INPUT value
is a state, not a count of characters).
"""

from __future__ import annotations


def focus_badge_text(emap, idx: int, field_lengths: dict, choices: dict, hesitation_s: float | None = None) -> str:
    """Badge of focused element ``idx`` of ``emap`` (an ``ElementMap``); ``field_lengths`` and
    ``choices`` as in a replay ``Frame``; ``hesitation_s`` when the visitor hesitated on it."""
    role = emap.role[idx] if idx < len(emap.role) else ""
    tag = emap.tag[idx] if idx < len(emap.tag) else ""
    if role in ("checkbox", "radio", "switch"):
        state = choices.get(idx)
        what = "checked" if state == 1 else "not checked"
        body = what
    elif tag == "select":
        state = choices.get(idx)
        if state is None:
            body = "no choice yet"
        else:
            from hindsight.replay.timeline import select_options

            opts = select_options(emap, idx)
            k = int(state)
            body = emap.label[opts[k]] if 0 <= k < len(opts) and emap.label[opts[k]] else "option chosen"
    else:
        n = field_lengths.get(idx, 0) if field_lengths else 0
        body = f"•••• {n} char{'s' if n != 1 else ''}" if n else "empty"
    if hesitation_s is not None:
        return f"Hesitated {hesitation_s:.1f} s · {body}"
    return body if body.startswith("••••") else f"Focused · {body}"

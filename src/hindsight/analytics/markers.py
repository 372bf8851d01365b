"""Timeline markers of a session's frustration signals: colour and label per signal, computed
once in the core so the player's timeline, exports and tools agree."""

from __future__ import annotations

#: Timeline marker colour and label of each frustration signal kind, least severe first
#: (drawn in this order, so a rage click is on top). Bookmarks are amber; these avoid it.
SIGNAL_MARKERS = {
    "validation_error": ("#F97316", "Validation error on {selector}"),
    "quick_back": ("#4ADE80", "Quick back"),
    "excessive_scroll": ("#60A5FA", "Excessive scrolling ({count} reversals)"),
    "thrashed_cursor": ("#2DD4BF", "Thrashed cursor ({count} turns)"),
    "dead_click": ("#E2E8F0", "Dead click ×{count} on {selector}"),
    "error_click": ("#D946EF", "Error click on {selector}"),
    "rage_click": ("#E5484D", "Rage click ×{count} on {selector}"),
}


def signal_markers(table) -> list[tuple[float, str, str]]:
    """(t_ms, colour, label) timeline markers for the rows of a ``SignalTable``.

    A rage burst's dead clicks are folded into the rage marker ("… (5 dead)"): one marker
    per moment, not a grey one hiding the red one.
    """
    rows = table.rows()
    rage_at = {(r["t_ms"], r["selector"]) for r in rows if r["kind"] == "rage_click"}
    dead_in_rage = {(r["t_ms"], r["selector"]): r["count"] for r in rows
                    if r["kind"] == "dead_click" and (r["t_ms"], r["selector"]) in rage_at}
    rank = {kind: i for i, kind in enumerate(SIGNAL_MARKERS)}
    out = []
    for row in sorted(rows, key=lambda r: rank[r["kind"]]):
        key = (row["t_ms"], row["selector"])
        if row["kind"] == "dead_click" and key in dead_in_rage:
            continue
        colour, text = SIGNAL_MARKERS[row["kind"]]
        label = text.format(count=row["count"], selector=row["selector"] or "the page")
        if row["kind"] == "dead_click" and row["count"] <= 1:
            label = label.replace(" ×1", "")
        if row["kind"] == "rage_click" and key in dead_in_rage:
            label += f" ({dead_in_rage[key]} dead)"
        out.append((float(row["t_ms"]), colour, label))
    return out

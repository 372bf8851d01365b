"""Patterns, hypotheses and bookmarks out of Hindsight: a Markdown report and a CSV that
``import_csv`` reads back.

The CSV has one row per record: ``record`` is ``pattern`` (tag, hypothesis, ICE ratings) or
``bookmark`` (session, times, note, what it was made from, uid). Importing adds the bookmarks
whose uid the store does not hold yet and saves each pattern's hypothesis and ratings, so
exporting and importing into an empty store gives the same rows.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return: recorded URLs, selectors and notes can be anything) are written with a
leading ``'`` (OWASP "CSV injection"); ``import_csv`` takes it off again.
"""

from __future__ import annotations

import csv
import io
import os
import shlex
from pathlib import Path

from hindsight.bookmarks.patterns import WORTH_A_HYPOTHESIS
from hindsight.bookmarks.store import Bookmark, BookmarkError, BookmarkStore
from hindsight.text import format_duration

CSV_COLUMNS = ("record", "tag", "hypothesis", "impact", "confidence", "ease", "session_id", "t_ms",
               "end_ms", "note", "created_ms", "signal_kind", "selector", "page_url", "uid")


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """``text`` safe for a spreadsheet: prefixed with ``'`` when it (after any quotes it already
    starts with) starts like a formula. :func:`restore_cell` undoes it exactly."""
    rest = text.lstrip("'")
    return "'" + text if rest[:1] and rest[:1] in FORMULA_START else text


def restore_cell(text: str) -> str:
    """The text :func:`neutralise_cell` was given."""
    rest = text.lstrip("'")
    if text.startswith("'") and rest[:1] and rest[:1] in FORMULA_START:
        return text[1:]
    return text


def format_time(ms: int | float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour) of ms since the session start."""
    return "" if ms is None else format_duration(max(ms, 0))


def frame_command(capture_path: str | os.PathLike[str] | None, b: Bookmark) -> str:
    """The ``hindsight frame`` command line that renders the bookmarked moment to a PNG."""
    cap = shlex.quote(str(capture_path)) if capture_path else "CAPTURE"
    return f"hindsight frame {cap} --session {b.session_id} --at {b.t_ms} -o bookmark-{b.id}.png"


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def to_markdown(store: BookmarkStore, title: str | None = None) -> str:
    """A readable report: per pattern (highest ICE first) its sessions, the "worth a
    hypothesis" flag, hypothesis and ICE, then its bookmarks with a command to see each one."""
    cap = store.capture_path
    patterns = store.patterns()
    lines = [f"# {title or ('Patterns in ' + cap.name if cap else 'Patterns')}", ""]
    if cap:
        lines += [f"Capture: `{cap}`", ""]
    total = store.count()
    lines += [f"{len(patterns)} pattern{'s' * (len(patterns) != 1)}, {total} bookmark{'s' * (total != 1)}. "
              f"Patterns seen in {WORTH_A_HYPOTHESIS} or more sessions are flagged ⚑ worth a hypothesis. "
              "ICE is the mean of impact, confidence and ease (1-10 each).", ""]
    if not patterns:
        lines += ["No bookmarks yet.", ""]
    by_tag: dict[str, list[Bookmark]] = {}
    for b in store.bookmarks():
        by_tag.setdefault(b.tag, []).append(b)
    for p in patterns:
        flag = " ⚑" if p.worth_a_hypothesis else ""
        lines += [f"## {p.tag}{flag}", ""]
        lines.append(f"- **Sessions:** {p.sessions} ({p.bookmarks} bookmark{'s' * (p.bookmarks != 1)})"
                     + (" — **worth a hypothesis**" if p.worth_a_hypothesis else ""))
        lines.append(f"- **Hypothesis:** {_md_escape(p.hypothesis) if p.hypothesis else '_none yet_'}")
        if p.ice is not None:
            lines.append(f"- **ICE:** {p.ice:.1f} (impact {p.impact}, confidence {p.confidence}, ease {p.ease})")
        else:
            parts = [f"{n} {v}" for n, v in (("impact", p.impact), ("confidence", p.confidence),
                                              ("ease", p.ease)) if v is not None]
            lines.append("- **ICE:** not rated" + (f" ({', '.join(parts)})" if parts else ""))
        lines.append("")
        rows = by_tag.get(p.tag, [])
        if rows:
            lines += ["| Session | Time | Note | Reproduce |", "|---:|---:|---|---|"]
            for b in rows:
                when = format_time(b.t_ms) + (f"–{format_time(b.end_ms)}" if b.end_ms is not None else "")
                lines.append(f"| {b.session_id} | {when} | {_md_escape(b.note)} | `{frame_command(cap, b)}` |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _csv_rows(store: BookmarkStore) -> list[dict]:
    rows = []
    for p in store.patterns():
        rows.append({"record": "pattern", "tag": p.tag, "hypothesis": p.hypothesis, "impact": p.impact,
                     "confidence": p.confidence, "ease": p.ease})
    for b in store.bookmarks():
        rows.append({"record": "bookmark", "tag": b.tag, "session_id": b.session_id, "t_ms": b.t_ms,
                     "end_ms": b.end_ms, "note": b.note, "created_ms": b.created_ms,
                     "signal_kind": b.signal_kind, "selector": b.selector, "page_url": b.page_url, "uid": b.uid})
    return rows


def to_csv(store: BookmarkStore) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in _csv_rows(store):
        w.writerow({k: "" if r.get(k) is None else neutralise_cell(r[k]) if isinstance(r[k], str) else r[k]
                    for k in CSV_COLUMNS})
    return out.getvalue()


def export(store: BookmarkStore, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write the report (``fmt`` ``'md'``) or the CSV (``'csv'``); by the suffix if not given."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt in ("md", "markdown"):
        text = to_markdown(store)
    elif fmt == "csv":
        text = to_csv(store)
    else:
        raise BookmarkError(f"unknown export format {fmt!r} (use md or csv)")
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)
    return path


def _int(value: str, name: str, line: int) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise BookmarkError(f"line {line}: {name} is not a number: {value!r}") from None


def import_csv(store: BookmarkStore, path: str | os.PathLike[str], check: bool = True) -> dict[str, int]:
    """Read a CSV written by :func:`to_csv` into ``store``; bookmarks it already holds (same
    uid) are skipped. With ``check``, sessions must exist in the store's capture.

    Returns counts: ``{"bookmarks": added, "skipped": n, "patterns": n}``.
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("record", "tag") if c not in (reader.fieldnames or ())]
        if missing:
            raise BookmarkError(f"{path}: not a Hindsight bookmarks CSV (no column {', '.join(missing)})")
        items, patterns = [], []
        for line, r in enumerate(reader, start=2):
            r = {k: restore_cell(v) if isinstance(v, str) else v for k, v in r.items()}
            kind = (r.get("record") or "").strip()
            if kind == "pattern":
                patterns.append(dict(tag=r["tag"], hypothesis=r.get("hypothesis") or "",
                                     impact=_int(r.get("impact"), "impact", line),
                                     confidence=_int(r.get("confidence"), "confidence", line),
                                     ease=_int(r.get("ease"), "ease", line)))
            elif kind == "bookmark":
                items.append(dict(
                    uid=(r.get("uid") or "").strip() or None, tag=r["tag"],
                    session_id=_int(r.get("session_id"), "session_id", line),
                    t_ms=_int(r.get("t_ms"), "t_ms", line), end_ms=_int(r.get("end_ms"), "end_ms", line),
                    note=r.get("note") or "", created_ms=_int(r.get("created_ms"), "created_ms", line),
                    signal_kind=r.get("signal_kind") or None, selector=r.get("selector") or None,
                    page_url=r.get("page_url") or None))
                if items[-1]["session_id"] is None or items[-1]["t_ms"] is None:
                    raise BookmarkError(f"line {line}: a bookmark needs session_id and t_ms")
            elif kind:
                raise BookmarkError(f"line {line}: unknown record {kind!r} (pattern or bookmark)")
    added, skipped = store.import_rows(items, check=check)
    for p in patterns:
        store.set_pattern(p["tag"], p["hypothesis"], p["impact"], p["confidence"], p["ease"])
    return {"bookmarks": added, "skipped": skipped, "patterns": len(patterns)}

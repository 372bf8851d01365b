"""``hindsight bench`` section for Find similar (bookmarks)."""

from __future__ import annotations

from hindsight.bookmarks.similar import Bookmark, find_similar, precision_recall

def bench_find_similar(ctx) -> dict:
    """Find similar from one planted rage click, phone hesitation and phone abandonment of the
    bench capture: seconds each (the first includes computing every signal of the capture)."""
    import time

    from hindsight.store import open_capture

    out: dict = {}
    with open_capture(ctx.path) as cap:
        for kind in ("rage_click", "hesitation", "abandon"):
            rows = [p for p in cap.planted(kind) if kind == "rage_click" or p[4].endswith("[name=phone]")]
            if not rows:
                continue
            sid, _, t_ms, *_ = rows[0]
            b = Bookmark(0, int(sid), int(t_ms), None, kind, "", 0)
            t = time.perf_counter()
            result = find_similar(cap, b)
            dt = time.perf_counter() - t
            precision, recall = precision_recall(result.session_ids, {p[0] for p in rows})
            out[f"{kind}_seconds"] = round(dt, 3)
            out[f"{kind}_found"] = result.count
            out[f"{kind}_precision"] = round(precision, 3)
            out[f"{kind}_recall"] = round(recall, 3)
    return out


BENCHMARKS = [("bookmarks.find_similar", bench_find_similar)]

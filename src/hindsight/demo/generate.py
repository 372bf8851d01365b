"""``hindsight demo``: write a realistic, deterministic demo capture with planted ground truth."""

from __future__ import annotations

import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable

from hindsight.demo.pages import DEVICE_WIDTHS, PAGES, layout_page, render_page
from hindsight.demo.visitors import STRINGS, simulate_session
from hindsight.store.writer import CaptureWriter

DEFAULT_SESSIONS = 2000
DEFAULT_SEED = 7
_CHUNK = 2500
_PROGRESS_EVERY = 100   # sessions between progress calls (and cancel checks)


def _png(array) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _simulate_chunk(seed: int, start: int, stop: int):
    out = []
    for i in range(start, stop):
        s = simulate_session(seed, i)
        for pv in s.pageviews:
            pv["events"] = pv["events"].pack()  # bytes cross the process boundary cheaply
        out.append((s.row, s.pageviews, [(p.kind, p.t_ms, p.end_ms, p.selector, p.detail) for p in s.planted]))
    return out


def write_catalog(writer: CaptureWriter) -> dict[tuple[str, str], tuple[int, int]]:
    """The demo's strings, pages and snapshots (and the planted scroll cliff's meta row);
    returns (page, device) -> (page_id, snapshot_id)."""
    for text in STRINGS:
        writer.string_id(text)
    ids: dict[tuple[str, str], tuple[int, int]] = {}
    cliff: dict[str, int] = {}
    for page, (url, title) in PAGES.items():
        page_id = writer.add_page(url, title)
        for device in DEVICE_WIDTHS:
            layout = layout_page(page, device)
            snap_id = writer.add_snapshot(page_id, device, layout.width, layout.height,
                                          _png(render_page(layout)), layout.elements)
            ids[(page, device)] = (page_id, snap_id)
            if page == "landing":
                # Planted scroll cliff: most readers of the benefits never reach the testimonials.
                cliff[device] = {"before_y": layout.element("#benefits").y,
                                 "cliff_y": layout.element("#testimonials").y}
    writer.set_meta("demo_scroll_cliff", json.dumps(cliff))
    return ids


def generate_demo(
    path: str | os.PathLike[str],
    sessions: int = DEFAULT_SESSIONS,
    seed: int = DEFAULT_SEED,
    overwrite: bool = True,
    workers: int | None = None,
    progress: Callable[[int, int], bool | None] | None = None,
) -> dict:
    """Write a demo capture; returns a summary (sessions, events, seconds per phase).

    ``progress(done, total)`` is called every ``_PROGRESS_EVERY`` sessions (and at the end);
    returning False cancels (the partial file is removed and ``InterruptedError`` raised).
    """
    import time

    t0 = time.perf_counter()
    writer = CaptureWriter.create(path, creator="hindsight demo", overwrite=overwrite,
                                  extra_meta={"demo_seed": str(seed), "demo_sessions": str(sessions)})
    try:
        ids = write_catalog(writer)
        t_pages = time.perf_counter() - t0

        chunks = [(seed, a, min(a + _CHUNK, sessions)) for a in range(0, sessions, _CHUNK)]
        workers = workers if workers is not None else (min(os.cpu_count() or 1, 4) if sessions > _CHUNK else 1)
        done = 0

        def consume(results) -> None:
            nonlocal done
            for n, (row, pvs, planted) in enumerate(results, start=1):
                device = row["device"]
                pageviews = []
                for pv in pvs:
                    page_id, snap_id = ids[(pv["page"], device)]
                    pageviews.append(dict(page_id=page_id, snapshot_id=snap_id, start_ms=pv["start_ms"],
                                          end_ms=pv["end_ms"], load_ms=pv["load_ms"], events=pv["events"]))
                sid = writer.add_session(row, pageviews)
                if planted:
                    writer.add_planted((sid, *p) for p in planted)
                if (done + n) % _PROGRESS_EVERY == 0 or n == len(results):
                    if progress is not None and progress(done + n, sessions) is False:
                        raise InterruptedError("demo generation cancelled")
            done += len(results)

        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for results in pool.map(_simulate_chunk, *zip(*chunks)):
                    consume(results)
        else:
            for _seed, start, stop in chunks:
                # Simulated in small steps so progress (and cancelling) need not wait for a chunk.
                for a in range(start, stop, _PROGRESS_EVERY):
                    consume(_simulate_chunk(seed, a, min(a + _PROGRESS_EVERY, stop)))
        events = writer.events_written
        final = writer.close()
    except BaseException:
        writer.abort()
        raise
    total = time.perf_counter() - t0
    return {"path": str(final), "sessions": sessions, "events": events, "seconds": round(total, 3),
            "pages_seconds": round(t_pages, 3)}

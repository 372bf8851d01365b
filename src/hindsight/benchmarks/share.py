"""``hindsight bench --only clip``: a 30 s stretch of a desktop session at 2x, 15 fps, 1280 px.

Target: render and encode (MP4, H.264) in <= 10 s on 2 cores. The figures include the load
average, because the rendering is CPU-bound and the machine is often shared.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

SPAN_MS = 30_000


def _cpu_s() -> float:
    """CPU seconds of this process, all threads (the encoder runs on its own)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _pick_session(path) -> tuple[int, int] | None:
    """(session id, start ms) of the first desktop session with 30 s after its first page loaded."""
    from hindsight.store import open_capture

    with open_capture(path) as cap:
        table = cap.session_table()
        for sid, device, duration in zip(table["session_id"], table["device"], table["duration_ms"]):
            if device == "desktop" and int(duration) >= SPAN_MS + 3000:
                return int(sid), 2000
    return None


def bench_clip(ctx) -> dict:
    from hindsight.gui_link import GuiUnavailable, gui_callable
    from hindsight.share.clips import clip_frame_times, clip_size, render_clip

    try:
        open_grabber = gui_callable("open_frame_grabber")
    except GuiUnavailable as exc:
        return {"skipped": str(exc)}
    picked = _pick_session(ctx.path)
    if picked is None:
        return {"skipped": "no desktop session of 33 s or more in the capture"}
    sid, t0 = picked
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.mp4"
        wall, cpu = time.perf_counter(), _cpu_s()
        info = render_clip(ctx.path, sid, t0, t0 + SPAN_MS, out, speed=2.0, fps=15, width=1280)
        wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
        size = out.stat().st_size
    load_after = os.getloadavg()[0]
    # the same frames drawn without encoding: how the time splits
    from hindsight.store import open_capture

    with open_capture(ctx.path) as cap:
        s = cap.session(sid)
    w, view_h, caption_h = clip_size(s.viewport_w, s.viewport_h, 1280)
    times = clip_frame_times(t0, t0 + SPAN_MS, 2.0, 15)
    build = time.perf_counter()
    with open_grabber(ctx.path, sid, (w, view_h), part="clip", caption_h=caption_h, at_ms=times[0]) as g:
        build = time.perf_counter() - build
        draw, painted = time.perf_counter(), 0
        for t in times:
            g.array_at(t)
            painted += bool(getattr(g, "changed", True))
        draw = time.perf_counter() - draw
    return {
        "session": sid,
        "frames": info.frames,
        "size": f"{info.width}x{info.height}",
        "clip_seconds": round(wall, 2),
        "clip_cpu_seconds": round(cpu, 2),
        "clip_frames_per_s": round(info.frames / wall, 1),
        "mp4_kb": round(size / 1024),
        "player_build_seconds": round(build, 3),
        "draw_only_ms_per_frame": round(draw / len(times) * 1000, 2),
        "frames_painted": painted,  # the others showed the same picture as the frame before
        "load_average_before_after": f"{load_before:.2f} / {load_after:.2f}",
        "cpus": os.cpu_count(),
    }


BENCHMARKS = [("clip.render", bench_clip)]

"""``hindsight bench`` section ``app.open``: the desktop app opening the bench capture.

Each figure comes from a fresh child process (``python -m hindsight_qt.open_probe``, Qt
offscreen): seconds from process start to the first paint of the filled session list, CPU
seconds of the process by then (on a loaded machine the figure that compares), and peak RSS
(``resource.getrusage``). The baseline, run in the same bench, is the same app showing its
empty window. Skipped when the GUI (PySide6) is not installed. Qt-free here: the app runs
only in the child.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys


def probe(path: str | None, timeout: float = 900.0) -> dict:
    """One child process's figures (``open_probe``'s JSON line). Bytecode is cached as in an
    installed app (``listing._installed_env``)."""
    from hindsight.benchmarks.listing import _installed_env

    env = dict(_installed_env(), QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "hindsight_qt.open_probe"] + ([str(path)] if path else [])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"open_probe failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return json.loads(lines[-1])


def bench_app_open(ctx) -> dict:
    if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("hindsight_qt") is None:
        return {"skipped": "the GUI (PySide6, hindsight_qt) is not installed"}
    probe(None)   # warm-up: bytecode cache, fonts
    bases, opens = [], []
    for _ in range(2):   # interleaved: both see the same load
        bases.append(probe(None))
        opens.append(probe(str(ctx.path)))

    def med(runs, key):
        return sorted(r[key] for r in runs)[(len(runs) - 1) // 2]

    keys = ("seconds", "cpu_seconds", "peak_rss_mb", "open_seconds", "open_cpu_seconds", "rows")
    base = {k: med(bases, k) for k in keys[:3]}
    opened = {k: med(opens, k) for k in keys}
    return {
        "sessions": opened["rows"],
        "measured": "process start -> first paint of the filled session list (offscreen); "
                    "open_to_painted_list: File > Open in the shown window -> that paint",
        "to_painted_list_s": opened["seconds"],
        "to_painted_list_cpu_s": opened["cpu_seconds"],
        "open_to_painted_list_s": opened["open_seconds"],
        "open_to_painted_list_cpu_s": opened["open_cpu_seconds"],
        "peak_rss_mb": opened["peak_rss_mb"],
        "empty_window_s": base["seconds"],
        "empty_window_cpu_s": base["cpu_seconds"],
        "empty_window_peak_rss_mb": base["peak_rss_mb"],
        "ratio_vs_empty_window": round(opened["seconds"] / base["seconds"], 2),
        "cpu_ratio_vs_empty_window": round(opened["cpu_seconds"] / base["cpu_seconds"], 2),
        "rss_over_empty_window_mb": round(opened["peak_rss_mb"] - base["peak_rss_mb"], 1),
    }


BENCHMARKS = [("app.open", bench_app_open)]

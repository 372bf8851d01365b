"""``hindsight bench`` section ``app.open``: the desktop app opening the bench capture.

Each figure comes from a fresh child process (``python -m hindsight_qt.open_probe``, Qt
offscreen), the window built as the app builds it (lazily: menus, Sessions dock and the panels'
docks first; the player and the panels' contents right after the first paint of the list):
seconds from process start (this bench's clock just before it launches the interpreter) to the
first paint of the filled session list, and to the whole window built (player, panels, menus;
``complete``); CPU
seconds of the process by then (on a loaded machine the figure that compares), and peak RSS
(``resource.getrusage``). Baselines, run interleaved in the same bench: the same app showing its
empty window, and the same app built eagerly (``--eager``: everything before the first paint, as
before the lazy start). Skipped when the GUI (PySide6) is not installed. Qt-free here: the app
runs only in the child.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time


def probe(path: str | None, timeout: float = 900.0, eager: bool = False) -> dict:
    """One child process's figures (``open_probe``'s JSON line). Bytecode is cached as in an
    installed app (``listing._installed_env``)."""
    from hindsight.benchmarks.listing import _installed_env

    cmd = ([sys.executable, "-m", "hindsight_qt.open_probe"] + ([str(path)] if path else [])
           + (["--eager"] if eager else []))
    # The clock starts here, before the interpreter is launched (the child measures from it).
    env = dict(_installed_env(), QT_QPA_PLATFORM="offscreen", HINDSIGHT_PROBE_T0=repr(time.time()))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"open_probe failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return json.loads(lines[-1])


def bench_app_open(ctx) -> dict:
    if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("hindsight_qt") is None:
        return {"skipped": "the GUI (PySide6, hindsight_qt) is not installed"}
    probe(None)   # warm-up: bytecode cache, fonts
    bases, opens, eagers = [], [], []
    for _ in range(3):   # interleaved: all three see the same load
        bases.append(probe(None))
        opens.append(probe(str(ctx.path)))
        eagers.append(probe(str(ctx.path), eager=True))

    def med(runs, key):
        return sorted(r[key] for r in runs)[(len(runs) - 1) // 2]

    keys = ("seconds", "cpu_seconds", "peak_rss_mb", "complete_seconds", "complete_cpu_seconds",
            "peak_rss_mb_complete", "open_seconds", "open_cpu_seconds", "rows")
    base = {k: med(bases, k) for k in keys[:6]}
    opened = {k: med(opens, k) for k in keys}
    eager = {k: med(eagers, k) for k in keys[:3]}
    return {
        "sessions": opened["rows"],
        "measured": "process start (the bench's clock before launching the interpreter) -> first "
                    "paint of the filled session list (offscreen); complete: -> the whole window built (player, panels, "
                    "menus); open_to_painted_list: File > Open in the shown window -> that paint; "
                    "empty_window: the app without a capture (its first paint, then complete); "
                    "eager: the same app building everything before the first paint; "
                    "medians of 3 interleaved runs",
        "to_painted_list_s": opened["seconds"],
        "to_painted_list_cpu_s": opened["cpu_seconds"],
        "to_complete_window_s": opened["complete_seconds"],
        "to_complete_window_cpu_s": opened["complete_cpu_seconds"],
        "open_to_painted_list_s": opened["open_seconds"],
        "open_to_painted_list_cpu_s": opened["open_cpu_seconds"],
        "peak_rss_mb": opened["peak_rss_mb"],
        "peak_rss_mb_complete": opened["peak_rss_mb_complete"],
        "empty_window_s": base["seconds"],
        "empty_window_cpu_s": base["cpu_seconds"],
        "empty_window_complete_s": base["complete_seconds"],
        "empty_window_peak_rss_mb": base["peak_rss_mb"],
        "eager_to_painted_list_s": eager["seconds"],
        "eager_to_painted_list_cpu_s": eager["cpu_seconds"],
        "eager_peak_rss_mb": eager["peak_rss_mb"],
        "ratio_vs_empty_window": round(opened["seconds"] / base["seconds"], 2),
        "cpu_ratio_vs_empty_window": round(opened["cpu_seconds"] / base["cpu_seconds"], 2),
        "ratio_vs_eager": round(opened["seconds"] / eager["seconds"], 2),
        "cpu_ratio_vs_eager": round(opened["cpu_seconds"] / eager["cpu_seconds"], 2),
        "rss_over_empty_window_mb": round(opened["peak_rss_mb"] - base["peak_rss_mb"], 1),
    }


BENCHMARKS = [("app.open", bench_app_open)]

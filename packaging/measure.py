"""Measure the frozen app in ``dist/hindsight``: size and start-up times, for the README.

Run after ``packaging/build.sh``: ``python packaging/measure.py [--runs 5]``. "Cold" runs follow
a dropped page cache (needs root on Linux; otherwise the row says so and shows a first run).
The GUI figure is the time from starting ``hindsight FILE`` under Xvfb until its main window is
visible (mapped on the X display), found with the X11 helper of the frozen smoke test.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "dist" / "hindsight"
EXE = BUNDLE / "hindsight"


def _smoke_module():
    spec = importlib.util.spec_from_file_location("frozen_smoke", REPO / "tests/packaging/test_frozen_app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def drop_caches() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def gui_to_window(capture: Path, env: dict[str, str], display: str, visible) -> float:
    env = {**env, "DISPLAY": display}
    env.pop("QT_QPA_PLATFORM", None)
    t = time.perf_counter()
    proc = subprocess.Popen([str(EXE), str(capture)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and time.perf_counter() - t < 60:
            if any("Hindsight" in w[0] for w in visible(display)):
                return time.perf_counter() - t
            time.sleep(0.02)
        raise RuntimeError("no window within 60 s")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="warm runs per figure (median reported)")
    args = ap.parse_args()
    if not EXE.exists():
        sys.exit("measure: build first with packaging/build.sh")
    tmp = Path(tempfile.mkdtemp(prefix="hindsight-measure-"))
    env = {**os.environ, "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp / ".config"),
           "XDG_RUNTIME_DIR": str(tmp), "QT_QPA_PLATFORM": "offscreen"}
    os.chmod(tmp, 0o700)
    size = subprocess.run(["du", "-sh", str(BUNDLE)], capture_output=True, text=True).stdout.split()[0]
    print(f"bundle      dist/hindsight  {size}")
    for tar in sorted((REPO / "dist").glob("hindsight-*.tar.gz")):
        print(f"archive     {tar.name}  {tar.stat().st_size / 2**20:.0f}M")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine     {os.cpu_count()} CPUs, load average {load:.1f}")

    capture = tmp / "demo.sqlite"
    subprocess.run([str(EXE), "demo", "--out", str(capture), "--sessions", "200", "--no-open"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    png = str(tmp / "f.png")
    figures = {
        "--version": [str(EXE), "--version"],
        "frame (offscreen PNG)": [str(EXE), "frame", str(capture), "--session", "1", "--at", "1000", "-o", png],
    }
    for label, cmd in figures.items():
        cold_ok = drop_caches()
        cold = timed(cmd, env)
        warm = statistics.median(timed(cmd, env) for _ in range(args.runs))
        print(f"{label:22s} cold {cold:5.2f} s{'' if cold_ok else ' (first run; caches not dropped)'}"
              f"   warm {warm:5.2f} s (median of {args.runs})")

    if shutil.which("Xvfb"):
        smoke = _smoke_module()
        rfd, wfd = os.pipe()
        xproc = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1600x1000x24",
                                  "-nolisten", "tcp", "-noreset"], pass_fds=(wfd,), stderr=subprocess.DEVNULL)
        os.close(wfd)
        with os.fdopen(rfd) as f:
            display = ":" + f.readline().strip()
        try:
            cold_ok = drop_caches()
            cold = gui_to_window(capture, env, display, smoke._visible_windows)
            warm = statistics.median(gui_to_window(capture, env, display, smoke._visible_windows)
                                     for _ in range(args.runs))
            print(f"{'GUI to visible window':22s} cold {cold:5.2f} s{'' if cold_ok else ' (first run)'}"
                  f"   warm {warm:5.2f} s (median of {args.runs})")
        finally:
            xproc.terminate()
            xproc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Smoke test of the frozen desktop app (PyInstaller one-folder build in ``dist/hindsight/``).

Slow and not in the default run: ``pytest -m slow tests/packaging``. It reuses ``dist/hindsight``
when the bundle is newer than every source, resource and packaging file, and otherwise builds it
with ``packaging/build.sh --no-archive`` (about 1-2 minutes on 2 cores). Each check runs the
bundled executable in a fresh process, with HOME and XDG folders pointed at a temporary folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hindsight

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "hindsight"
EXE = BUNDLE / ("hindsight.exe" if sys.platform == "win32" else "hindsight")
INPUTS = ("src", "app", "resources", "packaging/pyinstaller")


def _newest_input() -> float:
    return max(p.stat().st_mtime for d in INPUTS for p in (REPO / d).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts)


@pytest.fixture(scope="session")
def exe() -> Path:
    """The bundled executable, rebuilt first if any input changed since the last build."""
    if not EXE.exists() or EXE.stat().st_mtime < _newest_input():
        subprocess.run(["bash", str(REPO / "packaging" / "build.sh"), "--no-archive"], cwd=REPO, check=True)
    assert EXE.exists(), f"the build did not produce {EXE}"
    return EXE


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A clean environment: no source tree on sys.path, settings and caches under tmp_path."""
    home = tmp_path / "home"
    runtime = home / "run"
    runtime.mkdir(parents=True, mode=0o700)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HINDSIGHT_"))}
    e.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
             XDG_CACHE_HOME=str(home / ".cache"), XDG_RUNTIME_DIR=str(runtime), QT_QPA_PLATFORM="offscreen")
    return e


def run(exe: Path, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    # cwd away from the repo, so nothing can be imported from the source tree by accident
    return subprocess.run([str(exe), *args], env=env, cwd=env["HOME"], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def demo(exe, env, tmp_path) -> Path:
    out = tmp_path / "demo.sqlite"
    r = run(exe, "demo", "--out", str(out), "--sessions", "50", "--no-open", env=env)
    assert r.returncode == 0, r.stderr
    assert re.search(r"50 sessions, [\d,]+ events", r.stdout), r.stdout
    return out


def test_version(exe, env):
    r = run(exe, "--version", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"hindsight {hindsight.__version__}"


def test_resources_are_bundled(exe):
    internal = BUNDLE / "_internal" / "resources"
    assert (internal / "icons" / "hindsight.svg").is_file()
    assert (internal / "styles" / "app.qss").is_file()


def test_demo_then_info_counts(exe, env, demo):
    r = run(exe, "info", str(demo), env=env)
    assert r.returncode == 0, r.stderr
    counts = dict(re.findall(r"^\s+(sessions|pageviews|events)\s+([\d,]+)$", r.stdout, re.M))
    assert counts.get("sessions") == "50", r.stdout
    assert int(counts["pageviews"].replace(",", "")) >= 50
    assert int(counts["events"].replace(",", "")) > 1000


def test_demo_with_worker_processes(exe, env, tmp_path):
    # over 2,500 sessions the generator fans out to a process pool: frozen children must work
    out = tmp_path / "big.hindsight"
    r = run(exe, "demo", "--out", str(out), "--sessions", "5100", "--no-open", env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "5,100 sessions" in r.stdout


def test_rrweb_import_with_a_worker_process(exe, env, tmp_path):
    # --workers 1: a spawned child of the frozen app parses while the app writes; the capture
    # holds what a one-process import holds
    real = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
    files = sorted(str(p) for p in real.glob("session_*.json"))
    counts = {}
    for workers in ("1", "0"):
        out = tmp_path / f"w{workers}.sqlite"
        r = run(exe, "import", "rrweb", *files, "--out", str(out), "--no-render", "--workers", workers,
                env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        info = run(exe, "info", str(out), env=env)
        assert info.returncode == 0, info.stderr
        counts[workers] = dict(re.findall(r"^\s+(sessions|pageviews|events)\s+([\d,]+)$", info.stdout, re.M))
    assert counts["1"] == counts["0"] and counts["1"]["sessions"] == str(len(files)), counts


def test_bad_file_fails_in_one_line(exe, env, tmp_path):
    bogus = tmp_path / "not-a-capture.hindsight"
    bogus.write_text("hello")
    r = run(exe, "info", str(bogus), env=env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("hindsight: error:"), r.stderr


def test_frame_export_offscreen(exe, env, demo, tmp_path):
    from PIL import Image, ImageStat

    out = tmp_path / "frame.png"
    r = run(exe, "frame", str(demo), "--session", "1", "--at", "1500", "--width", "960", "--height", "600",
            "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        assert im.size == (960, 600)
        rgb = im.convert("RGB")
        assert max(ImageStat.Stat(rgb).stddev) > 20, "the frame is (nearly) one colour"
        assert len(rgb.getcolors(maxcolors=1 << 20) or ()) > 100, "too few colours for a page screenshot"


def test_heatmap_export_blurs_without_scipy(exe, env, demo, tmp_path):
    # The bundle leaves scipy out: the blur is numpy's. A click map with its heat drawn proves it.
    from PIL import Image

    out = tmp_path / "heat.png"
    r = run(exe, "heatmap", str(demo), "--page", "/", "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert "click map of /" in r.stdout
    with Image.open(out) as im:
        reds = sum(n for n, (red, green, blue) in im.convert("RGB").getcolors(maxcolors=1 << 24)
                   if red > 180 and red > green + 60 and red > blue + 60)
    assert reds > 50, "no hot (red) pixels on the click map"


# --- GUI under Xvfb -------------------------------------------------------------------------------
# Without a window manager, a shown top-level Qt window is a viewable child of the root window.
# libX11 through ctypes finds it, so the check needs only Xvfb (no xdotool/xwininfo).

class _XWindowAttributes(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int),
                ("border_width", ctypes.c_int), ("depth", ctypes.c_int), ("visual", ctypes.c_void_p),
                ("root", ctypes.c_ulong), ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
                ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
                ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong),
                ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong), ("map_installed", ctypes.c_int),
                ("map_state", ctypes.c_int), ("all_event_masks", ctypes.c_long),
                ("your_event_mask", ctypes.c_long), ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p)]


class _XTextProperty(ctypes.Structure):
    _fields_ = [("value", ctypes.c_char_p), ("encoding", ctypes.c_ulong), ("format", ctypes.c_int),
                ("nitems", ctypes.c_ulong)]


def _visible_windows(display: str) -> list[tuple[str, int, int]]:
    """(title, width, height) of the viewable top-level windows on an X display."""
    x = ctypes.CDLL(ctypes.util.find_library("X11"))
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                             ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                             ctypes.POINTER(ctypes.c_uint)]
    x.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XWindowAttributes)]
    x.XGetWMName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XTextProperty)]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x.XOpenDisplay(display.encode())
    if not dpy:
        return []
    try:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, n = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        x.XQueryTree(dpy, x.XDefaultRootWindow(dpy), ctypes.byref(root), ctypes.byref(parent),
                     ctypes.byref(children), ctypes.byref(n))
        found = []
        for i in range(n.value):
            attrs, name = _XWindowAttributes(), _XTextProperty()
            x.XGetWindowAttributes(dpy, children[i], ctypes.byref(attrs))
            if attrs.map_state == 2 and x.XGetWMName(dpy, children[i], ctypes.byref(name)) and name.value:
                found.append((name.value.decode("utf-8", "replace"), attrs.width, attrs.height))
        return found
    finally:
        x.XCloseDisplay(dpy)


@pytest.fixture
def xvfb():
    """A private Xvfb display (":N"), or skip when Xvfb or libX11 is missing.

    ``-noreset``: polling opens and closes X connections; without it the server resets whenever
    the last client leaves, and an app connecting at that moment fails to start.
    """
    if not sys.platform.startswith("linux") or not shutil.which("Xvfb") or not ctypes.util.find_library("X11"):
        pytest.skip("needs Xvfb and libX11")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24",
                             "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_gui_window_shows_under_xvfb(exe, env, demo, xvfb):
    env = {**env, "DISPLAY": xvfb}
    env.pop("QT_QPA_PLATFORM")  # the real xcb platform plugin, as on a desktop
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen([str(exe), str(demo)], env=env, cwd=env["HOME"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        windows: list = []
        while time.monotonic() < deadline and proc.poll() is None:
            windows = [w for w in _visible_windows(xvfb) if "Hindsight" in w[0]]
            if windows:
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"the app exited with {proc.returncode}: {proc.stdout.read()}"
        assert windows, "no Hindsight window became visible within 60 s"
        _, width, height = windows[0]
        assert width >= 640 and height >= 400
        # The capture opens once the event loop runs: the title then names it, and the app lives on.
        while time.monotonic() < deadline and proc.poll() is None:
            titles = [w[0] for w in _visible_windows(xvfb)]
            if any(demo.name in t for t in titles):
                break
            time.sleep(0.1)
        assert any(demo.name in t for t in titles), titles
        time.sleep(1)
        assert proc.poll() is None, f"the app exited with {proc.returncode}: {proc.stdout.read()}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_linux_desktop_metadata_validates():
    linux = REPO / "packaging" / "linux"
    checks = [("desktop-file-validate", linux / "io.hindsight.Hindsight.desktop"),
              ("appstreamcli", linux / "io.hindsight.Hindsight.metainfo.xml")]
    tools = [(tool, f) for tool, f in checks if shutil.which(tool)]
    if not tools:
        pytest.skip("needs desktop-file-validate or appstreamcli (desktop-file-utils, appstream)")
    for tool, f in tools:
        cmd = [tool, f] if tool != "appstreamcli" else [tool, "validate", "--no-net", str(f)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        # hints are fine (two main categories is on purpose); errors and warnings are not
        assert not re.search(r"\b(error|warning)\b|^[EW]:", r.stdout + r.stderr, re.M), r.stdout + r.stderr

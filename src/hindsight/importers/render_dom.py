"""Element boxes and a full-page image for an imported page: headless Chromium, or a placeholder.

An rrweb FullSnapshot has no geometry. :class:`ChromiumRenderer` lays the rebuilt snapshot
HTML out again at the recorded viewport size in headless Chromium and returns every mapped
element's page box (CSS px) and a full-page PNG. It drives Chromium through the DevTools
protocol over ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON),
so no websocket client is needed. The page is loaded with ``Page.setDocumentContent``; every
host name resolves to nothing (``--host-resolver-rules``), so rendering never touches the
network and nothing about the recording leaves the machine.

Without Chromium, :func:`placeholder_layout` stacks the elements in a plain vertical flow and
:func:`placeholder_image` draws them as labelled grey boxes; captures record
``geometry=placeholder`` in their meta then.
"""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Tallest full-page image rendered (CSS px); taller pages are cut here (the boxes are not).
MAX_IMAGE_HEIGHT = 16_000
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

_MEASURE_JS = r"""
(async () => {
  const pending = Array.from(document.images).filter(i => !i.complete);
  await Promise.race([
    Promise.all(pending.map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }))),
    new Promise(r => setTimeout(r, 3000)),
  ]);
  try { await Promise.race([document.fonts.ready, new Promise(r => setTimeout(r, 2000))]); } catch (e) {}
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const sx = window.scrollX, sy = window.scrollY, out = [];
  // 'fixed' / 'sticky' when the element or an ancestor has that computed position
  const pinned = new Map();
  const pinOf = (el) => {
    if (!el || el.nodeType !== 1) return '';
    if (pinned.has(el)) return pinned.get(el);
    const p = getComputedStyle(el).position;
    const v = (p === 'fixed' || p === 'sticky') ? p : pinOf(el.parentElement);
    pinned.set(el, v);
    return v;
  };
  for (const el of document.querySelectorAll('[data-hs-id]')) {
    const r = el.getBoundingClientRect();
    out.push([+el.getAttribute('data-hs-id'), r.left + sx, r.top + sy, r.width, r.height, pinOf(el)]);
  }
  const de = document.documentElement, b = document.body;
  const height = Math.max(de.scrollHeight, b ? b.scrollHeight : 0, de.clientHeight);
  return {boxes: out, height: height};
})()
"""


class RenderError(Exception):
    """Chromium could not render a page (not installed, crashed, timed out)."""


@dataclass
class Rendered:
    """A rendered page: ``boxes`` (n, 4) float64 x, y, w, h in page CSS px (NaN where an
    element was not measured), page size in CSS px, and the PNG (None if not captured)."""

    boxes: np.ndarray
    width: int
    height: int
    png: bytes | None
    geometry: str  # "chromium" | "placeholder"
    #: (n,) 'fixed' / 'sticky' (computed style of the element or an ancestor) or ''
    position: np.ndarray | None = None


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable: ``$HINDSIGHT_CHROMIUM``, then PATH, then /usr/bin."""
    env = os.environ.get("HINDSIGHT_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for cand in ("/usr/bin/chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"):
        if Path(cand).exists():
            return cand
    return None


class ChromiumRenderer:
    """One headless Chromium, reused for every page of an import. Use as a context manager."""

    def __init__(self, executable: str | None = None, timeout_s: float = 30.0):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise RenderError("Chromium is not installed (apt-get install chromium, or set HINDSIGHT_CHROMIUM)")
        if os.name != "posix":
            raise RenderError("rendering with Chromium needs a POSIX system (pipe transport)")
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen | None = None
        self._next_id = 0
        self._buf = b""
        self._session: str | None = None
        self._profile: tempfile.TemporaryDirectory | None = None
        self._start()

    # -- process and protocol ------------------------------------------------------------
    def _start(self) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        shell = shutil.which("bash")
        if shell is None:
            # POSIX sh (dash) only takes one-digit fds in redirections: move the ends into 5..9.
            import fcntl

            shell = "/bin/sh"
            moved = []
            for fd in (cmd_r, res_w):
                high = fcntl.fcntl(fd, fcntl.F_DUPFD, 5)
                os.close(fd)
                moved.append(high)
            cmd_r, res_w = moved
            if max(moved) > 9:
                os.close(cmd_r), os.close(res_w), os.close(self._cmd_w), os.close(self._res_r)
                raise RenderError("no free file descriptor below 10 for Chromium's pipe (install bash)")
        self._profile = tempfile.TemporaryDirectory(prefix="hindsight-chromium-")
        args = [
            self.executable, "--headless", "--remote-debugging-pipe", "--disable-gpu",
            "--disable-background-networking", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-sync", "--mute-audio", "--hide-scrollbars",
            "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={self._profile.name}", "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
        # The shell puts our pipe ends on fds 3 and 4, where Chromium's pipe transport expects them.
        shell = [shell, "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{res_w}', *args]
        try:
            self._proc = subprocess.Popen(shell, pass_fds=(cmd_r, res_w), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise RenderError(f"cannot start Chromium ({exc})") from None
        finally:
            os.close(cmd_r)
            os.close(res_w)
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._call("Page.enable", session=True)
            self._call("Runtime.enable", session=True)
        except BaseException:
            self.close()
            raise

    def _send(self, method: str, params: dict | None, session: bool) -> int:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self._session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                n = os.write(self._cmd_w, data)
                data = data[n:]
        except OSError as exc:
            raise RenderError(f"Chromium went away ({exc})") from None
        return self._next_id

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RenderError("Chromium did not answer in time")
            ready, _, _ = select.select([self._res_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._res_r, 1 << 20)
            if not chunk:
                raise RenderError("Chromium closed the DevTools pipe (crashed or could not start)")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        msg_id = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout_s
        while True:
            msg = self._read_message(deadline)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RenderError(f"{method}: {msg['error'].get('message', msg['error'])}")
                return msg.get("result", {})

    def close(self) -> None:
        if self._proc is None:
            return
        try:
            self._send("Browser.close", None, False)
            self._proc.wait(timeout=5)
        except (RenderError, subprocess.TimeoutExpired, OSError):
            self._proc.kill()
            self._proc.wait()
        finally:
            for fd in (self._cmd_w, self._res_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._proc = None
            if self._profile is not None:
                self._profile.cleanup()

    def __enter__(self) -> "ChromiumRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- rendering -----------------------------------------------------------------------
    def render(self, html: str, n_elements: int, width: int, height: int, mobile: bool = False,
               screenshot: bool = True) -> Rendered:
        """Lay ``html`` out at a ``width`` x ``height`` viewport; measure ``data-hs-id`` elements.

        Returns boxes for element indices ``0..n_elements-1`` (NaN rows for elements that
        were not found) and a full-page PNG at 1 image px per CSS px.
        """
        width = max(1, min(int(width), 10_000))
        height = max(1, min(int(height), 10_000))
        self._call("Emulation.setDeviceMetricsOverride",
                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": bool(mobile)}, True)
        frame = self._call("Page.getFrameTree", session=True)["frameTree"]["frame"]["id"]
        self._call("Page.setDocumentContent", {"frameId": frame, "html": html}, True)
        res = self._call("Runtime.evaluate", {"expression": _MEASURE_JS, "awaitPromise": True,
                                              "returnByValue": True}, True)
        if "exceptionDetails" in res:
            raise RenderError("measuring the page failed: " + str(res["exceptionDetails"].get("text", "")))
        value = res.get("result", {}).get("value") or {}
        boxes = np.full((n_elements, 4), np.nan)
        position = np.full(n_elements, "", dtype="<U6")
        for idx, x, y, w, h, *rest in value.get("boxes", []):
            if 0 <= idx < n_elements:
                boxes[int(idx)] = (x, y, w, h)
                if rest and rest[0] in ("fixed", "sticky"):
                    position[int(idx)] = rest[0]
        page_h = max(height, int(round(float(value.get("height") or height))))
        png = None
        if screenshot:
            shot_h = min(page_h, MAX_IMAGE_HEIGHT)
            shot = self._call("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True, "fromSurface": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": shot_h, "scale": 1},
            }, True)
            import base64

            png = base64.b64decode(shot["data"])
        return Rendered(boxes, width, page_h, png, "chromium", position)


# -- placeholder ---------------------------------------------------------------------------

_ROW_H = 28
_PAD = 8


def placeholder_layout(parents: list[int], width: int, viewport_h: int) -> tuple[np.ndarray, int]:
    """Boxes for elements in a plain vertical flow: each leaf one row, each container the
    union of its children plus padding, indented by depth. Returns ((n, 4) boxes, page height)."""
    n = len(parents)
    boxes = np.zeros((n, 4), dtype=np.float64)
    depth = np.zeros(n, dtype=np.int64)
    for i, p in enumerate(parents):
        depth[i] = depth[p] + 1 if p >= 0 else 0
    has_child = np.zeros(n, dtype=bool)
    for p in parents:
        if p >= 0:
            has_child[p] = True
    y = _PAD
    top = np.zeros(n)
    bottom = np.zeros(n)
    # document order: a parent comes before its children, so open/close with a stack
    open_stack: list[int] = []
    for i in range(n):
        while open_stack and open_stack[-1] != parents[i]:
            j = open_stack.pop()
            bottom[j] = y
            y += _PAD // 2
        top[i] = y
        if has_child[i]:
            y += _PAD // 2
            open_stack.append(i)
        else:
            y += _ROW_H
            bottom[i] = y
            y += _PAD // 2
    while open_stack:
        j = open_stack.pop()
        bottom[j] = y
        y += _PAD // 2
    indent = np.minimum(depth * 6, width // 3)
    boxes[:, 0] = _PAD + indent
    boxes[:, 1] = top
    boxes[:, 2] = np.maximum(width - 2 * _PAD - 2 * indent, 8)
    boxes[:, 3] = np.maximum(bottom - top, 4)
    return boxes, max(int(y + _PAD), int(viewport_h))


def placeholder_image(boxes: np.ndarray, labels: list[str], width: int, height: int,
                      leaf: np.ndarray | None = None) -> bytes:
    """A light grey page with the element boxes outlined and labelled (PNG).

    Drawn as 8-bit greyscale (the page, outlines and text are greys) and stored as a palette
    PNG of those greys: a third of the bytes of RGB to compress, 10-30x faster to encode, and
    smaller; every reader converts screenshots to RGB when decoding. With ``leaf`` (per box: it has no
    child box), only leaves are labelled: a container's text is its children's, and drawn at
    its top-left corner it overprinted its first child's label."""
    from PIL import Image, ImageDraw

    height = max(1, min(int(height), MAX_IMAGE_HEIGHT))
    img = Image.new("L", (max(1, int(width)), height), 237)
    draw = ImageDraw.Draw(img)
    draw.font = _label_font(draw.getfont())
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    ok = np.isfinite(boxes).all(axis=1) & (boxes[:, 1] <= height) if len(boxes) else np.zeros(0, bool)
    for i in np.flatnonzero(ok).tolist():
        x, y, w, h = boxes[i].tolist()
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=174, fill=None)
        label = labels[i] if leaf is None or leaf[i] else ""
        if label:
            draw.text((x + 4, y + 4), label[:80], fill=94)
    # Stored as a palette PNG whose palette is the grey ramp (the same pixels as the greyscale
    # image): Pillow filters greyscale rows adaptively but not palette rows, which makes the
    # encode 3-4x faster here, and zlib level 1 halves it again; flat greys still compress well.
    pal = Image.frombuffer("P", img.size, img.tobytes(), "raw", "P", 0, 1)
    pal.putpalette(_GREY_RAMP)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()


_GREY_RAMP = [v for i in range(256) for v in (i, i, i)]
_LABEL_FONT = None


def _label_font(default):
    """Pillow's default font with its rendered labels remembered: a site's pages repeat their
    labels (the same page at several widths, shared navigation), and rendering a label with
    FreeType costs ~0.5 ms; a remembered one is drawn from the same mask, so the pixels are
    those ``draw.text`` makes. The bitmap font (Pillow without FreeType) is used as it is."""
    global _LABEL_FONT
    from PIL import ImageFont

    if type(default) is not ImageFont.FreeTypeFont:
        return default
    if _LABEL_FONT is None or (_LABEL_FONT.size, _LABEL_FONT.font_bytes) != (default.size, default.font_bytes):
        _LABEL_FONT = _remembering_font_class()(default)
    return _LABEL_FONT


def _remembering_font_class():
    from PIL import ImageFont

    class RememberingFont(ImageFont.FreeTypeFont):
        _MAX = 4096

        def __init__(self, base):  # shares the loaded face of ``base`` (no second load)
            self.__dict__.update(base.__dict__)
            self._masks = {}

        def getmask2(self, text, *args, **kwargs):
            try:
                key = (text, args, tuple(sorted(kwargs.items())))
                hit = self._masks.get(key)
            except TypeError:  # an unhashable argument: render as usual
                return super().getmask2(text, *args, **kwargs)
            if hit is None:
                if len(self._masks) >= self._MAX:
                    self._masks.clear()
                hit = self._masks[key] = super().getmask2(text, *args, **kwargs)
            return hit

    return RememberingFont


def renderer_or_none(reason: list[str]) -> ChromiumRenderer | None:
    """A started renderer, or None with the reason appended (Chromium missing or failing)."""
    if os.environ.get("HINDSIGHT_NO_CHROMIUM"):
        reason.append("Chromium disabled by HINDSIGHT_NO_CHROMIUM")
        return None
    try:
        return ChromiumRenderer()
    except RenderError as exc:
        reason.append(str(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure to start means "no geometry", not a failed import
        print(f"hindsight: Chromium failed to start: {exc}", file=sys.stderr)
        reason.append(f"Chromium failed to start: {exc}")
        return None

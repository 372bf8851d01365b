"""Replay clips: a stretch of one session rendered as the player draws it, as MP4, WebM or GIF.

``render_clip`` steps one offscreen player (built once, through the GUI's ``open_frame_grabber``
entry point, like ``hindsight frame``) through evenly spaced moments and encodes the frames:
PyAV (its wheels bundle FFmpeg with libx264 and libvpx) for ``.mp4`` (H.264, yuv420p) and
``.webm`` (VP9, else VP8) and ``.gif`` (FFmpeg's GIF encoder, each frame quantized to its own
palette by Pillow, written as it is drawn so a long clip is never held in memory). Frame ``i`` shows the session at
``t_from_ms + i * speed * 1000 / fps``: a clip plays the replay at ``speed``, without the
player's pauses at hesitations or its jumps over inactivity (a hesitation shows as the amber
banner over the page while it lasts). The file is written beside the target under a temporary
name and renamed into place when complete; on an error or a cancel nothing is left behind.

The renderer makes Qt widgets, so call ``render_clip`` on the Qt GUI thread when the app is
running (``progress`` is called after every frame: process events there to stay responsive);
the encoder runs on a thread of its own.
"""

from __future__ import annotations

import math
import os
import queue
import secrets
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from hindsight.store.errors import CaptureError

#: The follow view shows the visitor's viewport plus this margin above and below (as the GUI's
#: ``qt_replay_canvas.FOLLOW_MARGIN``), so the clip's page view gets the viewport's shape.
FOLLOW_MARGIN = 0.06
#: Accepted ranges (also the CLI's).
SPEED_RANGE = (0.25, 16.0)
FPS_RANGE = (1, 60)
WIDTH_RANGE = (320, 3840)
#: Codecs tried per suffix, first found in the PyAV build wins.
CODECS = {".mp4": ("libx264",), ".webm": ("libvpx-vp9", "libvpx"), ".gif": ("gif",)}
CONTAINERS = {".mp4": "mp4", ".webm": "webm"}
#: BGRA frames in flight between drawing and encoding.
FRAME_POOL = 4
#: Per-codec options: fast presets (a clip is a few hundred frames of mostly still page).
CODEC_OPTIONS = {
    "libx264": {"preset": "veryfast", "crf": "23"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "crf": "33", "b": "0", "row-mt": "1"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8", "crf": "10", "b": "2M"},
}


class ClipError(CaptureError):
    """A clip cannot be made (bad input, unwritable output, codec missing); one line."""


class ClipCancelled(Exception):
    """``progress`` returned False: the clip was abandoned and no file was left behind."""


@dataclass(frozen=True)
class ClipInfo:
    """What ``render_clip`` wrote.

    path : the clip file; frames : frames encoded; fps : frames per second of the file;
    duration_s : playing time (frames / fps); width, height : frame size in px (page view plus
    caption strip).
    """

    path: Path
    frames: int
    fps: float
    duration_s: float
    width: int
    height: int


# -- pure helpers (no Qt, no encoding) ----------------------------------------------------
def clip_window(session_duration_ms: float, moment_ms: float, before_ms: float = 5000,
                after_ms: float = 5000) -> tuple[int, int]:
    """(t_from_ms, t_to_ms) of a clip around ``moment_ms``, inside ``[0, session_duration_ms]``.

    The window is ``before_ms`` before to ``after_ms`` after the moment; where that crosses the
    session's start or end it is shifted inwards to keep its length (cut only when the session
    is shorter). Bookmarks and patterns use it for "N seconds around each moment".
    """
    duration = int(session_duration_ms)
    if duration <= 0:
        raise ValueError(f"the session has no duration ({session_duration_ms!r} ms)")
    if before_ms < 0 or after_ms < 0 or before_ms + after_ms <= 0:
        raise ValueError("before_ms and after_ms must be >= 0 and not both 0")
    moment = min(max(float(moment_ms), 0.0), float(duration))
    length = min(float(before_ms + after_ms), float(duration))
    start = moment - before_ms
    start = min(max(start, 0.0), duration - length)
    return int(round(start)), int(round(start + length))


def clip_frame_count(t_from_ms: float, t_to_ms: float, speed: float = 2.0, fps: float = 15) -> int:
    """Frames of a clip: ``(t_to_ms - t_from_ms) / 1000 / speed * fps``, rounded up, at least 1
    (one frame per step of ``speed * 1000 / fps`` session ms from ``t_from_ms`` up to ``t_to_ms``)."""
    return max(1, math.ceil((t_to_ms - t_from_ms) / 1000.0 / speed * fps - 1e-6))


def clip_frame_times(t_from_ms: float, t_to_ms: float, speed: float = 2.0, fps: float = 15) -> list[float]:
    """Session time (ms) of each frame: ``t_from_ms + i * speed * 1000 / fps``."""
    step = speed * 1000.0 / fps
    return [min(t_from_ms + i * step, t_to_ms) for i in range(clip_frame_count(t_from_ms, t_to_ms, speed, fps))]


def clip_size(viewport_w: int, viewport_h: int, width: int = 1280, caption: bool = True) -> tuple[int, int, int]:
    """(width, page view height, caption height) in px, all even (H.264 yuv420p needs that).

    The page view takes the visitor's viewport shape plus the follow margin, between 16:9
    (wide) and square (phones, whose page column is then centred on the dark canvas).
    """
    width = int(width) - int(width) % 2
    vw, vh = max(int(viewport_w or 0), 1), max(int(viewport_h or 0), 1)
    ratio = (vh * (1 + 2 * FOLLOW_MARGIN)) / vw if viewport_w and viewport_h else 10 / 16
    ratio = min(max(ratio, 9 / 16), 1.0)
    view_h = int(round(width * ratio / 2)) * 2
    caption_h = max(22, int(round(width / 40 / 2)) * 2) if caption else 0
    return width, view_h, caption_h


def _gif_end_cs(index: int, fps: float) -> int:
    """When frame ``index`` of a GIF clip ends, in centiseconds (GIF's unit) from its start."""
    return int(round((index + 1) * 100.0 / fps))


def _gif_durations(frames: int, fps: float) -> list[int]:
    """Per-frame GIF delays (ms, multiples of 10: GIF counts centiseconds) summing to frames/fps."""
    ends = [_gif_end_cs(i, fps) * 10 for i in range(frames)]
    return [max(b - a, 10) for a, b in zip([0] + ends[:-1], ends)]


def pick_codec(suffix: str, out: Path | str | None = None) -> str:
    """The encoder for a clip suffix (".mp4", ".webm", ".gif"), or ClipError naming what is missing."""
    suffix = suffix.lower()
    if suffix not in CODECS:
        raise ClipError(out, f"unknown clip format {suffix or '(no suffix)'!r}: use .mp4, .webm or .gif")
    try:
        import av
    except ImportError as exc:
        raise ClipError(out, f"{suffix} clips need PyAV ({exc}); install it with: pip install av") from None
    for name in CODECS[suffix]:
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - UnknownCodecError and friends vary by PyAV version
            continue
    raise ClipError(out, f"this PyAV build has no {' or '.join(CODECS[suffix])} encoder for {suffix} "
                         f"clips; use another format or a PyAV wheel from PyPI")


# -- encoders -----------------------------------------------------------------------------
class _Encoder:
    """Encodes BGRA frames on a worker thread (rendering and encoding overlap)."""

    def __init__(self, path: Path, suffix: str, codec: str, width: int, height: int, fps: float) -> None:
        self.path, self.suffix, self.codec = path, suffix, codec
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self._queue: queue.Queue = queue.Queue(maxsize=FRAME_POOL + 2)
        self._free: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._held = None   # GIF: the newest packet, muxed when the next arrives or at the end
        self._container = None
        self._stream = None
        if suffix == ".gif":
            # Frames go to FFmpeg's GIF encoder one by one as they are drawn (through PyAV), so
            # a long clip is never held in memory; each keeps its own 256-colour palette.
            import av

            self._container = av.open(str(path), mode="w", format="gif")
            self._stream = self._container.add_stream("gif", rate=Fraction(fps).limit_denominator(1001))
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "pal8"
            self._stream.codec_context.time_base = Fraction(1, 100)
        else:
            import av
            from av.video.reformatter import VideoReformatter

            # A few BGRA frames reused round robin, converted to yuv420p on the encoder thread by
            # one reformatter (its scaler context is built once): PyAV's from_ndarray plus a
            # per-frame reformat cost ~12 ms a frame at 1280 x 928 on the drawing thread, this a
            # ~1 ms copy there and ~3 ms here.
            for _ in range(FRAME_POOL):
                self._free.put(av.VideoFrame(width, height, "bgra"))
            self._reformatter = VideoReformatter()
            rate = Fraction(fps).limit_denominator(1001)
            self._container = av.open(str(path), mode="w", format=CONTAINERS[suffix],
                                      options={"movflags": "+faststart"} if suffix == ".mp4" else {})
            self._stream = self._container.add_stream(codec, rate=rate, options=CODEC_OPTIONS.get(codec, {}))
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.time_base = 1 / rate
        self._thread = threading.Thread(target=self._run, name="clip-encoder", daemon=True)
        self._thread.start()

    def add(self, bgra) -> None:
        """Queue one (h, w, 4) uint8 BGRA frame (copied here: the caller reuses its buffer)."""
        if self._error is not None:
            raise self._error
        if self.suffix == ".gif":
            from PIL import Image

            item = ("gif", Image.frombuffer("RGB", (self.width, self.height), bgra.tobytes(), "raw", "BGRX", 0, 1),
                    self.frames)
        else:
            while True:  # a free frame, unless the encoder has failed meanwhile
                try:
                    frame = self._free.get(timeout=0.2)
                    break
                except queue.Empty:
                    if self._error is not None:
                        raise self._error from None
            frame.planes[0].update(bgra if bgra.flags.c_contiguous else bgra.copy())
            item = (frame, self.frames)
        self.frames += 1
        self._queue.put(item)

    def repeat(self) -> None:
        """Queue the previous frame's picture again (no copy, no conversion)."""
        if self._error is not None:
            raise self._error
        self._queue.put(("repeat", self.frames))
        self.frames += 1

    def _run(self) -> None:
        last = None  # the last picture encoded (yuv420p frame, or quantized GIF frame)
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                if isinstance(item, tuple) and item[0] != "repeat":
                    self._free.put(item[0])
                continue
            try:
                if isinstance(item, tuple) and item[0] == "gif":
                    self._encode_gif(item[1], item[2])
                    continue
                if isinstance(item, tuple) and item[0] == "repeat":
                    if self.suffix == ".gif":
                        continue   # the previous GIF frame just shows longer (the next one's pts)
                    # libavcodec takes a reference and x264 / libvpx copy the picture in, and
                    # it is never written to: the same frame can go again with the next pts
                    pts = item[1]
                    item = last
                    item.pts = pts
                elif isinstance(item, tuple):  # (BGRA frame, pts): convert, free the frame
                    frame, pts = item
                    try:
                        item = self._reformatter.reformat(frame, format="yuv420p")
                    finally:
                        self._free.put(frame)
                    item.pts = pts
                last = item
                for packet in self._stream.encode(item):
                    self._container.mux(packet)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                self._error = exc

    def finish(self) -> None:
        """Flush and close the file (raises what the encoder raised)."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self.suffix == ".gif":
            for packet in self._stream.encode(None):
                self._mux_gif(packet)
            held, self._held = self._held, None
            if held is not None:   # the last frame shows until the clip's end
                end = Fraction(_gif_end_cs(self.frames - 1, self.fps), 100)
                held.duration = max(int(round(end / held.time_base)) - int(held.pts), 1)
                self._container.mux(held)
        else:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        self._container.close()
        self._container = None

    def _encode_gif(self, image, index: int) -> None:
        """Quantize one picture to its own palette and encode it at frame ``index``'s start."""
        import av
        import numpy as np
        from PIL import Image

        # a palette per frame (GIF's local colour tables): UI colours stay exact
        pal_img = image.quantize(256, method=Image.Quantize.FASTOCTREE)
        rgb = np.frombuffer(bytes(pal_img.getpalette() or []), dtype=np.uint8).reshape(-1, 3)[:256]
        palette = np.zeros((256, 4), dtype=np.uint8)
        palette[:, 0] = 255
        palette[:len(rgb), 1:] = rgb
        frame = av.VideoFrame.from_ndarray((np.asarray(pal_img), palette), format="pal8")
        frame.pts = _gif_end_cs(index - 1, self.fps) if index else 0
        for packet in self._stream.encode(frame):
            self._mux_gif(packet)

    def _mux_gif(self, packet) -> None:
        held, self._held = self._held, packet
        if held is not None:
            self._container.mux(held)

    def abort(self) -> None:
        """Stop without finishing the file (the caller removes it)."""
        self._error = self._error or ClipCancelled("aborted")
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._queue.put(None)
        self._thread.join()
        self._held = None
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away
                pass
            self._container = None


# -- the clip -----------------------------------------------------------------------------
def render_clip(capture_path, session_id: int, t_from_ms: float, t_to_ms: float, out_path, *,
                speed: float = 2.0, fps: float = 15, width: int = 1280, caption: bool = True,
                progress: Callable[[int, int], bool] | None = None) -> ClipInfo:
    """Render ``session_id`` from ``t_from_ms`` to ``t_to_ms`` (ms since session start) to a clip.

    Parameters
    ----------
    capture_path : the capture file
    out_path : ``.mp4`` (H.264 yuv420p), ``.webm`` (VP9, else VP8) or ``.gif``; its folder
        must exist. Written to a temporary file beside it and renamed on success.
    speed : session ms per clip ms (2.0: twice as fast as the visitor)
    fps : frames per second of the clip; ``(t_to_ms - t_from_ms) / 1000 / speed * fps``
        frames are rendered
    width : frame width in px (made even); the height follows the visitor's viewport
        (``clip_size``) plus the caption strip
    caption : a strip under the page with session, page and time
    progress : ``progress(done_frames, total_frames)`` after each frame; returning False
        cancels (``ClipCancelled``, no file left)

    Raises ``ClipError`` (a ``CaptureError``: one line, exit 2 in the CLI) for an unusable
    capture, an unknown session, a time range outside the session or empty, bad speed / fps /
    width, an unknown suffix, a codec missing from the PyAV build, an unwritable output or the
    GUI libraries missing; ``ClipCancelled`` when ``progress`` says stop.
    """
    from hindsight.store import open_capture

    out = Path(out_path)
    suffix = out.suffix.lower()
    codec = pick_codec(suffix, out)
    speed, fps, width = float(speed), float(fps), int(width)
    if not (math.isfinite(speed) and SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]):
        raise ClipError(None, f"speed must be between {SPEED_RANGE[0]:g} and {SPEED_RANGE[1]:g}, not {speed:g}")
    if not (math.isfinite(fps) and FPS_RANGE[0] <= fps <= FPS_RANGE[1]):
        raise ClipError(None, f"fps must be between {FPS_RANGE[0]} and {FPS_RANGE[1]}, not {fps:g}")
    if not WIDTH_RANGE[0] <= width <= WIDTH_RANGE[1]:
        raise ClipError(None, f"width must be between {WIDTH_RANGE[0]} and {WIDTH_RANGE[1]} px, not {width}")
    t_from, t_to = float(t_from_ms), float(t_to_ms)
    with open_capture(capture_path) as cap:
        try:
            session = cap.session(int(session_id))
        except KeyError:
            raise ClipError(capture_path, f"has no session {session_id}") from None
    duration = int(session.duration_ms)
    if not (math.isfinite(t_from) and math.isfinite(t_to)) or t_from < 0 or t_to > duration:
        raise ClipError(capture_path, f"session {session_id} is {duration} ms long: the clip's "
                                      f"{t_from:g} to {t_to:g} ms is outside it")
    if t_from >= t_to:
        raise ClipError(None, f"the clip's start ({t_from:g} ms) must be before its end ({t_to:g} ms)")
    if not out.parent.exists():
        raise ClipError(out, f"cannot write: folder {out.parent} does not exist")
    if not out.parent.is_dir():
        raise ClipError(out, f"cannot write: {out.parent} is not a folder")
    if out.is_dir():
        raise ClipError(out, "cannot write: it is a folder")
    w, view_h, caption_h = clip_size(session.viewport_w, session.viewport_h, width, caption)
    times = clip_frame_times(t_from, t_to, speed, fps)

    from hindsight.gui_link import GuiUnavailable, gui_callable

    try:
        open_grabber = gui_callable("open_frame_grabber")
    except GuiUnavailable as exc:
        raise ClipError(None, f"rendering a clip draws the replay: {exc}") from None
    # beside the target (same file system, so the rename is atomic); "x": a new file with the
    # usual permissions (mkstemp's 0600 would carry over to the clip)
    tmp = out.parent / f".{out.stem}.{secrets.token_hex(4)}.partial{suffix}"
    try:
        open(tmp, "xb").close()
    except OSError as exc:
        raise ClipError(out, f"cannot write: {exc.strerror or exc}") from None
    encoder = None
    try:
        with open_grabber(capture_path, int(session_id), (w, view_h), part="clip",
                          caption_h=caption_h, at_ms=times[0]) as grabber:
            encoder = _Encoder(tmp, suffix, codec, w, view_h + caption_h, fps)
            for i, t in enumerate(times):
                bgra = grabber.array_at(t)
                if i and not getattr(grabber, "changed", True):
                    encoder.repeat()  # the same picture as the frame before
                else:
                    encoder.add(bgra)
                if progress is not None and progress(i + 1, len(times)) is False:
                    raise ClipCancelled(f"clip of session {session_id} cancelled at frame {i + 1} of {len(times)}")
        encoder.finish()
        encoder = None
        os.replace(tmp, out)
    except BaseException as exc:
        if encoder is not None:
            encoder.abort()
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ClipError(out, f"cannot write: {exc.strerror or exc}") from None
        raise
    return ClipInfo(path=out, frames=len(times), fps=fps, duration_s=len(times) / fps,
                    width=w, height=view_h + caption_h)

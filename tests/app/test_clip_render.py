"""Clips rendered through the offscreen player: frame count and duration, a decoded frame equal
to ``hindsight frame`` at the same moment, GIF / MP4 / WebM decoding, the hesitation banner and
caption, cancel leaving nothing behind."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from hindsight.replay.timeline import SessionTimeline
from hindsight.share.clips import ClipCancelled, clip_frame_times, clip_size, render_clip


def _desktop_timelines(capture):
    for sid in capture.session_ids():
        if capture.session(int(sid)).device == "desktop":
            yield int(sid), SessionTimeline.load(capture, int(sid))


@pytest.fixture(scope="module")
def scroll_moment(demo_master):
    """(session id, t_ms) of a desktop moment where the page scrolls fast (>= 300 px in 400 ms),
    so a frame from the wrong time looks clearly different."""
    from hindsight.store import open_capture

    with open_capture(demo_master) as cap:
        for sid, tl in _desktop_timelines(cap):
            for t in range(3000, tl.duration_ms - 3000, 100):
                a, b = tl.frame_at(t), tl.frame_at(t + 400)
                if a.pageview_index == b.pageview_index and a.snapshot_id >= 0 and not a.loading \
                        and abs(b.scroll_y - a.scroll_y) >= 300:
                    return sid, t
    pytest.skip("no fast scroll in the demo")


@pytest.fixture
def out_dir(tmp_path):
    """An empty folder for clips (``tmp_path`` also holds the test's QSettings folder)."""
    d = tmp_path / "out"
    d.mkdir()
    return d


def _rgb(frame_or_image) -> np.ndarray:
    if isinstance(frame_or_image, av.VideoFrame):
        return frame_or_image.to_ndarray(format="rgb24").astype(np.float32)
    return np.asarray(frame_or_image.convert("RGB"), dtype=np.float32)


def _still(path, sid, t_ms, size, folder) -> np.ndarray:
    """``hindsight frame --canvas-only`` at ``t_ms`` (written to ``folder``/stills)."""
    from hindsight.cli import main

    (folder.parent / "stills").mkdir(exist_ok=True)
    out = folder.parent / "stills" / f"still_{t_ms:.0f}.png"
    assert main(["frame", str(path), "--session", str(sid), "--at", f"{t_ms:.3f}", "--canvas-only",
                 "--width", str(size[0]), "--height", str(size[1]), "-o", str(out)]) == 0
    return _rgb(Image.open(out))


def test_mp4_has_the_frames_and_duration_and_a_frame_equals_hindsight_frame(demo_master, capture,
                                                                            scroll_moment, out_dir):
    sid, t = scroll_moment
    t_from, t_to = t - 2000, t + 4000  # 6 s at 2x, 15 fps: 45 frames, 3 s
    out = out_dir / "clip.mp4"
    info = render_clip(demo_master, sid, t_from, t_to, out, speed=2.0, fps=15, width=1280)
    s = capture.session(sid)
    w, view_h, caption_h = clip_size(s.viewport_w, s.viewport_h, 1280)
    assert (info.path, info.frames, info.fps, info.duration_s) == (out, 45, 15, 3.0)
    assert (info.width, info.height) == (w, view_h + caption_h) and (w, caption_h) == (1280, 32)
    assert sorted(p.name for p in out_dir.iterdir()) == ["clip.mp4"]  # no temp file left

    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (info.width, info.height)
        frames = list(c.decode(video=0))
        assert float(stream.duration * stream.time_base) == pytest.approx(3.0, abs=0.01)
    assert len(frames) == 45
    assert float(frames[-1].pts * frames[-1].time_base) == pytest.approx(44 / 15, abs=0.01)

    # frame 15 is session time t (t_from + 15 * 2000 / 15), in the middle of the fast scroll
    times = clip_frame_times(t_from, t_to, 2.0, 15)
    assert times[15] == pytest.approx(t)
    got = _rgb(frames[15])[:view_h]
    same = np.abs(got - _still(demo_master, sid, t, (w, view_h), out_dir)).mean()
    later = np.abs(got - _still(demo_master, sid, t + 400, (w, view_h), out_dir)).mean()
    assert same < 3.0, same  # H.264 at crf 23 costs ~1.5 on average
    assert later > 3 * same, (same, later)  # and the comparison can tell moments apart
    # the caption strip: dark, with light text in it
    strip = _rgb(frames[15])[view_h + 4:-4]
    assert np.median(strip) < 60 and (strip.max(axis=2) > 180).mean() > 0.01


def test_gif_and_webm_decode_with_the_clip_length(demo_master, scroll_moment, out_dir):
    sid, t = scroll_moment
    gif = render_clip(demo_master, sid, t - 1000, t + 2000, out_dir / "c.gif", fps=10, width=640)
    assert (gif.frames, gif.duration_s, gif.width) == (15, 1.5, 640)
    with Image.open(gif.path) as im:
        assert im.format == "GIF" and im.size == (gif.width, gif.height)
        # Pillow merges identical neighbours into one longer frame; the playing time stays
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
        assert 2 <= im.n_frames <= 15 and sum(delays) == 1500
        im.seek(0)
        first = _rgb(im)
    assert first.std() > 20  # a page, not a blank sheet

    webm = render_clip(demo_master, sid, t - 1000, t + 2000, out_dir / "c.webm", speed=1.0, fps=12, width=800)
    assert (webm.frames, webm.duration_s) == (36, 3.0)
    with av.open(str(webm.path)) as c:
        assert c.streams.video[0].codec_context.name in ("vp9", "vp8")
        frames = list(c.decode(video=0))
    assert len(frames) == 36 and frames[0].width == 800
    assert sorted(p.name for p in out_dir.iterdir()) == ["c.gif", "c.webm"]


def test_gif_frame_equals_hindsight_frame(demo_master, capture, scroll_moment, out_dir):
    sid, t = scroll_moment
    s = capture.session(sid)
    w, view_h, _ = clip_size(s.viewport_w, s.viewport_h, 640)
    info = render_clip(demo_master, sid, t, t + 1000, out_dir / "c.gif", fps=10, width=640, caption=False)
    assert (info.width, info.height) == (w, view_h)
    with Image.open(info.path) as im:
        first = _rgb(im)
    same = np.abs(first - _still(demo_master, sid, t, (w, view_h), out_dir)).mean()
    later = np.abs(first - _still(demo_master, sid, t + 400, (w, view_h), out_dir)).mean()
    assert same < 3.0 and later > 3 * same, (same, later)


def test_a_hesitation_shows_the_amber_banner_while_it_lasts(demo_master, capture, out_dir):
    found = None
    for sid, tl in _desktop_timelines(capture):
        hs = [h for h in tl.hesitations if h.start_ms >= 1500 and h.end_ms - h.start_ms >= 3000]
        if hs:
            found = sid, hs[0]
            break
    if found is None:
        pytest.skip("no hesitation in the demo")
    sid, h = found
    info = render_clip(demo_master, sid, h.start_ms - 1500, h.start_ms + 1500, out_dir / "h.mp4",
                       speed=1.0, fps=10, width=960)
    with av.open(str(info.path)) as c:
        frames = [_rgb(f) for f in c.decode(video=0)]
    assert len(frames) == 30
    amber = np.array([0xF5, 0xA5, 0x24], dtype=np.float32)

    def banner(img) -> float:  # share of the top rows in the banner's amber
        return float((np.abs(img[3:12] - amber).max(axis=2) < 30).mean())

    assert banner(frames[5]) < 0.05   # 1 s before the hesitation
    assert banner(frames[25]) > 0.8   # 1 s into it


def test_cancel_raises_and_leaves_nothing(demo_master, scroll_moment, out_dir):
    sid, t = scroll_moment
    seen = []

    def progress(done, total):
        seen.append((done, total))
        return done < 5

    for name in ("c.mp4", "c.gif"):
        with pytest.raises(ClipCancelled):
            render_clip(demo_master, sid, t - 2000, t + 2000, out_dir / name, progress=progress)
    assert seen[:5] == [(1, 30), (2, 30), (3, 30), (4, 30), (5, 30)] and len(seen) == 10
    assert list(out_dir.iterdir()) == []


def test_clip_cli_writes_the_file(demo_master, scroll_moment, out_dir, capsys):
    from hindsight.cli import main

    sid, t = scroll_moment
    out = out_dir / "c.mp4"
    rc = main(["clip", str(demo_master), "--session", str(sid), "--from", str(t - 1000), "--to", str(t + 1000),
               "--fps", "10", "--width", "640", "-o", str(out)])
    assert rc == 0
    assert f"wrote {out} (10 frames, 1.0 s at 10 fps, 640×" in capsys.readouterr().out
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 10


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_interrupting_the_cli_leaves_nothing(demo_master, scroll_moment, out_dir, signame):
    """Ctrl+C or a kill while frames are being encoded: exit 130, no clip, no temporary file."""
    import os
    import signal
    import subprocess
    import sys
    import time

    sid, _t = scroll_moment
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "hindsight.cli", "clip", str(demo_master), "--session", str(sid),
                             "--from", "0", "--to", "12000", "--speed", "0.25", "-o", str(out_dir / "c.mp4")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until encoded frames reach the temporary file
            partial = [p for p in out_dir.iterdir() if ".partial" in p.name]
            if partial and partial[0].stat().st_size > 0:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the clip never started writing")
        proc.send_signal(getattr(signal, signame))
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert list(out_dir.iterdir()) == []

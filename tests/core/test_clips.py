"""Clips without Qt: the window and frame arithmetic, and every bad input failing in one line
(exit 2) before anything is rendered, with no file left behind."""

from __future__ import annotations

import pytest

from hindsight.cli import main
from hindsight.share import clips
from hindsight.share.clips import (
    ClipError,
    _gif_durations,
    clip_frame_count,
    clip_frame_times,
    clip_size,
    clip_window,
    pick_codec,
    render_clip,
)


@pytest.fixture(scope="module")
def small_capture(tmp_path_factory):
    """A 20-session demo capture and one session of it: (path, session_id, duration_ms)."""
    from hindsight.demo.generate import generate_demo
    from hindsight.store import open_capture

    path = tmp_path_factory.mktemp("clips") / "demo.sqlite"
    generate_demo(path, sessions=20, seed=3)
    with open_capture(path) as cap:
        sid = int(cap.session_ids()[0])
        return path, sid, int(cap.session(sid).duration_ms)


# -- arithmetic ------------------------------------------------------------------------------
def test_frame_count_is_span_over_speed_times_fps():
    assert clip_frame_count(5000, 35000, speed=2.0, fps=15) == 225  # 30 s at 2x, 15 fps
    assert clip_frame_count(0, 10000, speed=1.0, fps=24) == 240
    assert clip_frame_count(0, 10000, speed=4.0, fps=10) == 25
    assert clip_frame_count(0, 10, speed=2.0, fps=15) == 1  # never empty
    assert clip_frame_count(0, 1000, speed=3.0, fps=15) == 5  # 5.0000001 is not 6


def test_frame_times_step_by_speed_over_fps():
    times = clip_frame_times(1000, 4000, speed=2.0, fps=15)
    assert len(times) == 23  # 3 / 2 * 15 = 22.5, rounded up: the last frame is before 4000
    assert times[:3] == pytest.approx([1000.0, 1000 + 2000 / 15, 1000 + 4000 / 15])
    assert times[-1] < 4000 and times[-1] + 2000 / 15 >= 4000


def test_clip_window_centres_and_shifts_at_the_edges():
    assert clip_window(60_000, 30_000) == (25_000, 35_000)
    assert clip_window(60_000, 2_000) == (0, 10_000)  # shifted in, length kept
    assert clip_window(60_000, 59_000) == (50_000, 60_000)
    assert clip_window(6_000, 3_000) == (0, 6_000)  # the session is shorter than the window
    assert clip_window(60_000, 30_000, before_ms=3000, after_ms=1000) == (27_000, 31_000)
    assert clip_window(60_000, 99_000) == (50_000, 60_000)  # a moment past the end is clamped
    with pytest.raises(ValueError):
        clip_window(0, 0)


def test_clip_size_follows_the_viewport_and_is_even():
    assert clip_size(1440, 900, 1280) == (1280, 896, 32)  # 900 * 1.12 / 1440 of the width
    assert clip_size(390, 844, 1280) == (1280, 1280, 32)  # phones: square at most
    assert clip_size(2560, 600, 1280) == (1280, 720, 32)  # very wide: 16:9 at least
    w, h, c = clip_size(1366, 768, 1001, caption=False)
    assert (w, c) == (1000, 0) and h % 2 == 0


def test_gif_delays_add_up_to_the_clip_length():
    d = _gif_durations(225, 15)
    assert sum(d) == 15_000 and set(d) <= {60, 70}
    assert _gif_durations(10, 10) == [100] * 10


# -- bad input: one line, exit 2, no file -----------------------------------------------------
def _run(capsys, capture, *args):
    rc = main(["clip", str(capture), *args])
    return rc, capsys.readouterr().err.strip()


@pytest.mark.parametrize("args, says", [
    (["--session", "987654", "--from", "0", "--to", "1000"], "has no session 987654"),
    (["--from", "0", "--to", "{past_end}"], "is outside it"),
    (["--from", "-1", "--to", "1000"], "is outside it"),
    (["--from", "3000", "--to", "3000"], "must be before its end"),
    (["--from", "3000", "--to", "1000"], "must be before its end"),
    (["--from", "0", "--to", "1000", "--speed", "0"], "speed must be between"),
    (["--from", "0", "--to", "1000", "--fps", "0"], "fps must be between"),
    (["--from", "0", "--to", "1000", "--width", "100"], "width must be between"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(small_capture, tmp_path, capsys, args, says):
    path, sid, duration = small_capture
    args = [a.replace("{past_end}", str(duration + 1)) for a in args]
    if "--session" not in args:
        args = ["--session", str(sid), *args]
    out = tmp_path / "clip.mp4"
    rc, err = _run(capsys, path, *args, "-o", str(out))
    assert rc == 2
    assert len(err.splitlines()) == 1 and says in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, says", [
    ("clip.avi", "unknown clip format '.avi'"),
    ("clip", "unknown clip format '(no suffix)'"),
    ("missing/clip.mp4", "does not exist"),
    ("a_file/clip.mp4", "is not a folder"),
    ("a_folder.mp4", "is a folder"),
])
def test_bad_output_is_one_line_exit_2_and_no_file(small_capture, tmp_path, capsys, name, says):
    path, sid, _ = small_capture
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder.mp4").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, err = _run(capsys, path, "--session", str(sid), "--from", "0", "--to", "1000", "-o", str(tmp_path / name))
    assert rc == 2
    assert len(err.splitlines()) == 1 and says in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "a_folder.mp4").is_dir() and not any((tmp_path / "a_folder.mp4").iterdir())


def test_a_codec_missing_from_the_pyav_build_is_exit_2(small_capture, tmp_path, capsys, monkeypatch):
    path, sid, _ = small_capture
    monkeypatch.setitem(clips.CODECS, ".webm", ("no-such-vp9", "no-such-vp8"))
    rc, err = _run(capsys, path, "--session", str(sid), "--from", "0", "--to", "1000", "-o", str(tmp_path / "c.webm"))
    assert rc == 2 and "no no-such-vp9 or no-such-vp8 encoder" in err
    assert list(tmp_path.iterdir()) == []


def test_the_pyav_wheel_has_the_encoders_clips_use():
    assert pick_codec(".mp4") == "libx264"
    assert pick_codec(".webm") == "libvpx-vp9"
    assert pick_codec(".GIF") == "gif"


def test_without_the_gui_libraries_it_is_a_clip_error_and_no_file(small_capture, tmp_path, monkeypatch):
    from hindsight import gui_link

    def unavailable(name):
        raise gui_link.GuiUnavailable("the desktop app needs PySide6 and pyqtgraph (test)")

    monkeypatch.setattr(gui_link, "gui_callable", unavailable)
    path, sid, _ = small_capture
    with pytest.raises(ClipError, match="needs PySide6"):
        render_clip(path, sid, 0, 1000, tmp_path / "c.gif")
    assert list(tmp_path.iterdir()) == []

"""``hindsight report`` without Qt (--no-clips): contents, escaping, ranking, and bad input
(unknown pattern, unwritable output, nothing bookmarked, a codec missing) with one line, exit 2
and no file left behind."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil

import pytest
from PIL import Image

from hindsight.bookmarks import BookmarkStore
from hindsight.cli import main
from hindsight.store import open_capture

RAGE, PHONE, LONE = "Rage on product image", "Left at the phone field", "Odd <one>"


@pytest.fixture
def bookmarked(demo_master, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    dst = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_master, dst)
    with open_capture(dst) as cap:
        store = BookmarkStore.for_capture(cap)
        rage = cap.planted("rage_click")[:3]
        for sid, _k, t, _e, sel, _d in rage:
            store.add(sid, t, RAGE, "clicks the picture", signal_kind="rage_click", selector=sel)
        for sid, _k, t, *_ in cap.planted("abandon")[:2]:
            store.add(sid, t, PHONE, "left & gone", signal_kind="abandon")
        store.add(int(cap.session_ids()[0]), 1000, LONE, "<img src=x onerror=alert(1)>")
        store.set_pattern(PHONE, "We observed phone <b>drop-off</b>.", 9, 8, 7)
        store.set_pattern(RAGE, "", 5, 5, 5)
    return dst


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("hindsight: error: ")
    return err


def test_report_without_clips(bookmarked, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(bookmarked), "--no-clips", "-o", str(out)]) == 0
    assert "3 patterns, 6 moments, 0 clips" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    # ranked by ICE: phone (8.0), rage (5.0), then the unrated one
    order = re.findall(r'data-pattern="([^"]*)"', text)
    assert order == [PHONE, RAGE, "Odd &lt;one&gt;"]
    # every bookmarked session is listed with its device and moment; text is escaped
    with open_capture(bookmarked) as cap:
        for sid, _k, t, *_ in cap.planted("rage_click")[:3]:
            s = cap.session(sid)
            assert f'<td class="num">{sid}</td><td>{s.device}</td>' in text
    assert "We observed phone &lt;b&gt;drop-off&lt;/b&gt;." in text and "left &amp; gone" in text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<video" not in text and "Clips were left out" in text
    # the phone pattern's page has the sign-up form: its field figures, phone flagged as top drop-off
    phone = text.split('data-pattern="Left at the phone field"')[1].split("</section>")[0]
    assert "Form fields on this page" in phone and '<tr class="hot"><td>Phone</td>' in phone
    # heatmaps are embedded JPEGs that decode, with the sample size in the caption
    uris = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', text)
    assert len(uris) >= 2
    for u in uris:
        with Image.open(io.BytesIO(base64.b64decode(u))) as im:
            assert im.width <= 1100 and im.height > 500
    assert re.search(r"Rage clicks of https://demo\.hindsight\.local/ · desktop · [\d,]+ sessions", text)
    assert not os.path.exists(str(out) + ".partial")


def test_report_into_a_folder_and_one_pattern(bookmarked, tmp_path, capsys):
    folder = tmp_path / "share"
    assert main(["report", str(bookmarked), "--no-clips", "--pattern", "nope", "-o", str(folder)]) == 2
    assert not folder.exists()   # a failed report makes no folder either
    assert main(["report", str(bookmarked), "--no-clips", "--pattern", "rage ON product image",
                 "-o", str(folder)]) == 0
    capsys.readouterr()
    files = list(folder.iterdir())
    assert [f.name for f in files] == ["findings-demo.html"]
    assert re.findall(r'data-pattern="([^"]*)"', files[0].read_text(encoding="utf-8")) == [RAGE]


@pytest.mark.parametrize("args, needle", [
    (["--pattern", "no such thing"], "no pattern 'no such thing'"),
    (["-o", "/nonexistent/deeper/r.html"], "folder /nonexistent/deeper does not exist"),
    (["--width", "10"], "--width must be between"),
])
def test_bad_input_one_line_exit_2(bookmarked, tmp_path, capsys, args, needle):
    out = ["-o", str(tmp_path / "r.html")] if "-o" not in args else []
    assert main(["report", str(bookmarked), "--no-clips", *args, *out]) == 2
    assert needle in _one_line_error(capsys)
    assert not (tmp_path / "r.html").exists()


def test_unwritable_folder(bookmarked, tmp_path, capsys):
    if os.geteuid() == 0:
        target = "/proc/r.html"   # root writes anywhere a permission bit would stop others
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = str(ro / "r.html")
    assert main(["report", str(bookmarked), "--no-clips", "-o", target]) == 2
    assert "cannot write" in _one_line_error(capsys)


def test_nothing_bookmarked(demo_master, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    dst = tmp_path / "plain.sqlite"
    shutil.copyfile(demo_master, dst)
    assert main(["report", str(dst), "-o", str(tmp_path / "r.html")]) == 2
    assert "no bookmarks in plain.sqlite" in _one_line_error(capsys)
    assert not (tmp_path / "r.html").exists()


def test_codec_missing_leaves_nothing(bookmarked, tmp_path, capsys, monkeypatch):
    """A clip that cannot be encoded stops the report: one line, exit 2, no file."""
    from hindsight.share import clips

    def no_codec(*_a, **_k):
        raise clips.ClipError(None, "this PyAV build has no libvpx-vp9 or libvpx encoder for .webm clips")

    monkeypatch.setattr(clips, "render_clip", no_codec)
    out = tmp_path / "r.html"
    assert main(["report", str(bookmarked), "-o", str(out)]) == 2
    assert "no libvpx-vp9 or libvpx encoder" in _one_line_error(capsys)
    assert {p.name for p in tmp_path.iterdir()} - {"xdg"} == {"demo.sqlite"}


def test_cancel_writes_nothing(bookmarked, tmp_path):
    from hindsight.share.report import ReportCancelled, ReportOptions, build_report

    out = tmp_path / "r.html"
    calls = []
    with pytest.raises(ReportCancelled):
        build_report(bookmarked, out, ReportOptions(clips=False),
                     progress=lambda d, t, text: calls.append(d) or len(calls) < 3)
    assert len(calls) == 3 and not out.exists() and not (tmp_path / "r.html.partial").exists()

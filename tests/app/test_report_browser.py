"""The findings report in real headless Chromium: it loads without a console error, every image
and every clip decodes (a frame plays), and it lists each pattern with its clips."""

from __future__ import annotations

import re
import shutil

import pytest

from hindsight.bookmarks import BookmarkStore
from hindsight.share.clips import clip_frame_count
from hindsight.share.report import ReportOptions, build_report
from hindsight.store import open_capture

from cdp import Browser

RAGE, PHONE = "Rage on <product> image", "Left at the phone field"

CHECK_JS = r"""
(async () => {
  const wait = (ms) => new Promise(r => setTimeout(r, ms));
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  const vids = [...document.querySelectorAll('video')];
  await Promise.race([
    Promise.all(vids.map(v => v.readyState >= 2 ? 1 : new Promise(r => {
      // a <source> that fails fires "error" on itself only: listen in the capture phase
      v.addEventListener('loadeddata', r); v.addEventListener('error', r, true); }))),
    wait(15000)]);
  const played = [];
  for (const v of vids) {
    try { await Promise.race([v.play(), wait(3000).then(() => { throw new Error('no play'); })]);
          await wait(250); played.push(v.currentTime); v.pause(); }
    catch (e) { played.push(-1); }
  }
  return {
    images: imgs.map(i => [i.naturalWidth, i.naturalHeight, i.src.slice(0, 22)]),
    videos: vids.map(v => [v.readyState, v.videoWidth, v.videoHeight, v.error ? v.error.code : 0, v.duration]),
    played,
    patterns: [...document.querySelectorAll('section.pattern')].map(s => [
      s.dataset.pattern, s.querySelector('h2').textContent,
      [...s.querySelectorAll('figure.clip')].map(f => +f.dataset.session)]),
    external: [...document.querySelectorAll('[src]')].filter(e => !e.getAttribute('src').startsWith('data:')).length,
  };
})()
"""


@pytest.fixture
def bookmarked(demo_master, tmp_path, monkeypatch):
    """A copy of the demo with two patterns: two rage clicks (rated) and one phone abandonment."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    dst = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_master, dst)
    with open_capture(dst) as cap:
        store = BookmarkStore.for_capture(cap)
        for sid, _k, t, _e, sel, _d in cap.planted("rage_click")[:2]:
            store.add(sid, t, RAGE, "clicks the <b>picture</b> & waits", signal_kind="rage_click", selector=sel)
        sid, _k, t, *_ = cap.planted("abandon")[0]
        store.add(sid, t, PHONE, "", signal_kind="abandon")
        store.set_pattern(RAGE, "We observed X <script>alert(1)</script>. We believe Y.", 8, 6, 7)
    return dst


def test_report_opens_in_headless_chromium(bookmarked, tmp_path, qapp):
    out = tmp_path / "out"
    opts = ReportOptions(clip_width=320, before_ms=1000, after_ms=1000, speed=2.0, max_clips=2)
    steps = []
    info = build_report(bookmarked, out, opts, progress=lambda d, t, text: steps.append((d, t)) or True)
    assert info.path == out / "findings-demo.html" and info.clips == 3 and info.patterns == 2
    assert steps[-1][0] == steps[-1][1] > 0 and all(a <= b for (a, _), (b, _) in zip(steps, steps[1:]))
    text = info.path.read_text(encoding="utf-8")
    # escaped, self-contained, no script
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "clicks the &lt;b&gt;picture&lt;/b&gt; &amp; waits" in text and "Rage on &lt;product&gt; image" in text
    assert not re.search(r'(src|href)="(?!data:|#)', text)

    with Browser() as b:
        b.open(info.path.as_uri())
        got = b.evaluate(CHECK_JS)
        b.evaluate("new Promise(r => setTimeout(r, 100))")   # let late console messages arrive
        assert b.errors == []
    assert got["external"] == 0
    # every image decodes: two heatmaps (desktop landing, and the abandon's sign-up page)
    assert len(got["images"]) == 2 and all(w > 0 and h > 0 for w, h, _ in got["images"])
    # every clip decodes and plays: WebM (VP9) at 320 px, 2 s of session at 2× = 15 frames = 1 s
    assert len(got["videos"]) == 3
    for ready, w, h, err, duration in got["videos"]:
        assert err == 0 and ready >= 2 and w == 320 and h > 0
        assert duration == pytest.approx(clip_frame_count(0, 2000, 2.0, 15) / 15, abs=0.1)
    assert all(t > 0 for t in got["played"]), got["played"]
    # each pattern, ranked by ICE, with its clips (one per bookmarked moment)
    with open_capture(bookmarked) as cap:
        rage = sorted(int(p[0]) for p in cap.planted("rage_click")[:2])
        phone = int(cap.planted("abandon")[0][0])
    (tag1, h1, clips1), (tag2, h2, clips2) = got["patterns"]
    assert (tag1, tag2) == (RAGE, PHONE)
    assert "ICE 7.0" in h1 and "ICE not rated" in h2
    assert sorted(clips1) == rage and clips2 == [phone]

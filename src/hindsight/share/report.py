"""The findings report: one self-contained HTML file per capture, for a team that has no Hindsight.

Per pattern (a bookmark tag; highest ICE first, as the Bookmarks panel lists them): the
hypothesis and ICE score, the sessions that share it (id, device, duration, the bookmarked
moment and note), one clip per bookmarked moment (``clip_window`` around it, rendered by
``hindsight.share.clips.render_clip`` exactly as the player draws it), the heatmap of the page
where it happens (the ``hindsight heatmap`` picture, with its sample size and warning) and the
form-field figures of that page (``hindsight.analytics.forms``).

Everything is inside the one HTML file: images and clips are ``data:`` URIs, the style sheet
is inline, there is no script, and a Content-Security-Policy forbids every network fetch, so
the file reads the same offline in any browser and sends nothing anywhere. It shows nothing
from the capture beyond what the app shows (typed text is never recorded; clips are the
player's masked rendering), and every piece of text is escaped with ``html.escape``.

The file is written as ``NAME.partial`` and renamed when complete: a cancelled or failed
build leaves nothing behind. Qt-free: clips reach the GUI's renderer through
``hindsight.share.clips`` (which goes through ``hindsight.gui_link``).
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from hindsight.bookmarks.export import format_time
from hindsight.bookmarks.patterns import WORTH_A_HYPOTHESIS, normalise_tag

#: Clip formats a browser shows: a <video> for WebM / MP4, an <img> for GIF.
CLIP_MIME = {".webm": "video/webm", ".mp4": "video/mp4", ".gif": "image/gif"}
#: Clips per pattern unless told otherwise (the table still lists every session).
MAX_CLIPS = 8
#: Heatmap pictures are scaled to at most this width (px) and embedded as JPEG.
HEATMAP_WIDTH = 1100
#: What a bookmark was made from -> the heatmap that shows that behaviour on its page.
KIND_OF_SIGNAL = (("rage", "rage"), ("dead", "dead"), ("scroll", "scroll"), ("hesitat", "move"))

DEVICE_ORDER = ("desktop", "mobile", "tablet")

Progress = Callable[[int, int, str], bool]


class ReportError(ValueError):
    """The report cannot be made (unknown pattern, nothing to report, unwritable path): one line."""


class ReportCancelled(Exception):
    """``progress`` returned False: the report was not written."""


@dataclass
class ReportOptions:
    """How the report is made. Times in ms; ``clip_format`` is ``webm``, ``mp4`` or ``gif``."""

    tags: Sequence[str] | None = None   # None: every pattern with bookmarks
    clips: bool = True
    clip_format: str = "webm"
    speed: float = 2.0
    fps: int = 15
    clip_width: int = 960
    before_ms: int = 5000
    after_ms: int = 5000
    max_clips: int = MAX_CLIPS
    opacity: float = 0.6


@dataclass
class Moment:
    """One bookmarked moment of a pattern, with what the table shows about its session."""

    bookmark_id: int
    session_id: int
    t_ms: int
    note: str
    device: str
    duration_ms: int
    converted: bool
    page_url: str | None
    clip: tuple[int, int] | None = None   # (from, to) ms of its clip, when it gets one
    clip_uri: str | None = None
    clip_mime: str | None = None
    clip_error: str | None = None


@dataclass
class Section:
    """One pattern of the report."""

    pattern: object   # hindsight.bookmarks.Pattern
    moments: list[Moment]
    page_url: str | None = None
    device: str | None = None
    heatmap_kind: str = "click"
    heatmap_uri: str | None = None
    heatmap_caption: str = ""
    heatmap_warning: str | None = None
    form: object | None = None   # FormReport of the page, when it has a form
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportInfo:
    """What was written: the file, its size in bytes, and counts."""

    path: Path
    bytes: int
    patterns: int
    moments: int
    clips: int
    seconds: float


# -- where ------------------------------------------------------------------------------------
def output_path(out: str | os.PathLike[str], capture_path: str | os.PathLike[str]) -> Path:
    """``out`` as the report file: a ``.html``/``.htm`` path as given, anything else a folder
    (made if missing, its parent must exist) holding ``findings-<capture>.html``.

    Raises ``ReportError`` when the place cannot be written, before any work is done.
    """
    out = Path(out)
    new_folder = out.suffix.lower() not in (".html", ".htm")
    if new_folder:   # a folder; made (when its parent exists) only once the report is ready to write
        folder, path = out, out / f"findings-{Path(capture_path).stem}.html"
    else:
        folder, path = out.parent, out
    if folder.is_dir():
        existing = folder
    elif new_folder and not folder.exists() and folder.parent.is_dir():
        existing = folder.parent
    else:
        raise ReportError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise ReportError(f"cannot write {path}: it is a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".hindsight-write-test-"):
            pass
    except OSError as exc:
        raise ReportError(f"cannot write {path}: folder {existing} is not writable ({exc.strerror or exc})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise ReportError(f"cannot write {path}: the file is read-only")
    return path


# -- what -------------------------------------------------------------------------------------
def plan(capture, store, options: ReportOptions) -> list[Section]:
    """The sections of the report: patterns (by ICE), their moments, page and device.

    Raises ``ReportError`` for a tag that is no pattern, or when there is nothing to report.
    """
    patterns = [p for p in store.patterns() if p.bookmarks > 0]
    if options.tags:
        by_tag = {p.tag.casefold(): p for p in patterns}
        chosen = []
        for tag in options.tags:
            p = by_tag.get(normalise_tag(tag).casefold())
            if p is None:
                known = ", ".join(repr(p.tag) for p in patterns[:10]) or "none yet"
                raise ReportError(f"no pattern {tag!r} with bookmarks in {capture.path.name} (patterns: {known})")
            if p not in chosen:
                chosen.append(p)
        order = {p.tag: i for i, p in enumerate(patterns)}
        patterns = sorted(chosen, key=lambda p: order[p.tag])
    if not patterns:
        raise ReportError(f"no bookmarks in {capture.path.name}: bookmark moments (B in the player, or "
                          "'hindsight bookmark add') and tag them, then make the report")
    sections = []
    for p in patterns:
        moments = []
        for b in store.bookmarks(tag=p.tag):
            try:
                s = capture.session(b.session_id)
            except KeyError:
                continue   # a bookmark of a session this capture does not have (imported CSV)
            url = b.page_url or store.page_url_at(b.session_id, b.t_ms)
            moments.append(Moment(b.id, b.session_id, int(b.t_ms), b.note, s.device, int(s.duration_ms),
                                  bool(s.converted), url))
        if not moments:
            continue
        sec = Section(p, moments)
        pages = Counter(m.page_url for m in moments if m.page_url)
        if pages:
            sec.page_url = pages.most_common(1)[0][0]
            devices = Counter(m.device for m in moments if m.page_url == sec.page_url)
            # a tie goes to the commonest layout (desktop, then mobile, then tablet)
            sec.device = max(devices, key=lambda d: (devices[d], -DEVICE_ORDER.index(d) if d in DEVICE_ORDER else -9))
        kinds = Counter(_heatmap_kind(b.signal_kind) for b in store.bookmarks(tag=p.tag))
        sec.heatmap_kind = kinds.most_common(1)[0][0] if kinds else "click"
        sections.append(sec)
    if not sections:
        raise ReportError("the chosen patterns' bookmarks are of sessions this capture does not have")
    return sections


def _heatmap_kind(signal_kind: str | None) -> str:
    text = (signal_kind or "").lower()
    return next((kind for key, kind in KIND_OF_SIGNAL if key in text), "click")


# -- making it --------------------------------------------------------------------------------
def build_report(capture_path: str | os.PathLike[str], out: str | os.PathLike[str],
                 options: ReportOptions | None = None, progress: Progress | None = None,
                 render_clip: Callable | None = None) -> ReportInfo:
    """Write the findings report of the capture at ``capture_path`` to ``out`` (file or folder).

    ``progress(done, total, text) -> bool`` is called as the work goes (units of 100 per step:
    each heatmap, form and clip is a step); returning False cancels (``ReportCancelled``,
    nothing written). ``render_clip`` defaults to ``hindsight.share.clips.render_clip``.
    Raises ``ReportError`` (one line) for bad input, ``CaptureError`` for an unusable capture.
    """
    from hindsight.analytics.heatmap import HeatmapEngine
    from hindsight.bookmarks.store import BookmarkStore
    from hindsight.store import open_capture

    t0 = time.perf_counter()
    options = options or ReportOptions()
    if options.clip_format not in ("webm", "mp4", "gif"):
        raise ReportError(f"clip format must be webm, mp4 or gif, not {options.clip_format!r}")
    path = output_path(out, capture_path)
    tick = _Ticker(progress)
    with open_capture(capture_path) as cap:
        store = BookmarkStore.for_capture(cap)
        sections = plan(cap, store, options)
        if options.clips:
            for sec in sections:
                for m in sec.moments[:max(0, options.max_clips)]:
                    m.clip = _clip_window(m.duration_ms, m.t_ms, options.before_ms, options.after_ms)
        clips = [m for sec in sections for m in sec.moments if m.clip is not None]
        tick.total = 100 * (2 * len(sections) + len(clips))
        if clips and render_clip is None:
            render_clip = _default_renderer()
        # Clips first: a missing codec (the likeliest failure) shows before anything else is done.
        with tempfile.TemporaryDirectory(prefix="hindsight-report-") as tmp:
            for i, m in enumerate(clips, start=1):
                what = (f"Clip {i} of {len(clips)}: session {m.session_id} at {format_time(m.t_ms)}")
                tick.step(what)
                out_clip = Path(tmp) / f"clip-{i}.{options.clip_format}"
                try:
                    render_clip(cap.path, m.session_id, m.clip[0], m.clip[1], out_clip, speed=options.speed,
                                fps=options.fps, width=options.clip_width, caption=True,
                                progress=tick.within(what))
                except ReportCancelled:
                    raise
                except Exception as exc:  # noqa: BLE001 - a missing codec stops the report; see below
                    if tick.cancelled or type(exc).__name__ == "ClipCancelled":
                        raise ReportCancelled() from None
                    raise ReportError(f"cannot render the clip of session {m.session_id} at "
                                      f"{format_time(m.t_ms)}: {exc}") from None
                m.clip_mime = CLIP_MIME[out_clip.suffix]
                m.clip_uri = _data_uri(out_clip.read_bytes(), m.clip_mime)
                out_clip.unlink()
        engine = HeatmapEngine(cap)
        heatmaps: dict[tuple, tuple] = {}
        for sec in sections:
            if sec.page_url is not None:
                tick.step(f"Heatmap of {sec.page_url} ({sec.device})")
                key = (sec.page_url, sec.device, sec.heatmap_kind)
                if key not in heatmaps:
                    heatmaps[key] = _heatmap(cap, engine, sec, options.opacity)
                sec.heatmap_uri, sec.heatmap_caption, sec.heatmap_warning = heatmaps[key]
            else:
                tick.step("Heatmap")
            tick.step(f"Form figures of {sec.page_url or 'the page'}")
            sec.form = _form(cap, sec)
        page = render_html(sections, cap, options)
    tick.check()
    data = page.encode("utf-8")
    _write_whole(path, data)
    return ReportInfo(path, len(data), len(sections), sum(len(s.moments) for s in sections), len(clips),
                      time.perf_counter() - t0)


def _clip_window(duration_ms: int, moment_ms: int, before_ms: int, after_ms: int) -> tuple[int, int]:
    try:
        from hindsight.share.clips import clip_window
    except ImportError:   # the clip module is not in this build: the same rule
        lo = max(0, moment_ms - before_ms)
        return lo, min(duration_ms, moment_ms + after_ms)
    return tuple(int(v) for v in clip_window(duration_ms, moment_ms, before_ms=before_ms, after_ms=after_ms))


def _default_renderer():
    try:
        from hindsight.share.clips import render_clip
    except ImportError as exc:
        raise ReportError(f"clips cannot be rendered in this build ({exc}); use --no-clips") from None
    return render_clip


class _Ticker:
    """Progress in units of 100 per step; remembers a cancel."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.total = 0
        self.done = 0
        self.cancelled = False
        self._started = False

    def _report(self, done: int, text: str) -> None:
        if self.progress is not None and self.progress(min(done, self.total), self.total, text) is False:
            self.cancelled = True
            raise ReportCancelled()

    def step(self, text: str) -> None:
        if self._started:
            self.done += 100
        self._started = True
        self._report(self.done, text)

    def within(self, text: str):
        """A clip's ``progress(done, total) -> bool``: moves the bar inside the current step."""
        def report(done: int, total: int) -> bool:
            if self.cancelled:
                return False
            try:
                self._report(self.done + (100 * done // total if total else 0), text)
            except ReportCancelled:
                return False
            return True
        return report

    def check(self) -> None:
        self.done = self.total
        self._report(self.done, "Writing the report")


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _heatmap(cap, engine, sec: Section, opacity: float) -> tuple[str | None, str, str | None]:
    """(data URI, caption, warning) of the section's page heatmap, all sessions of its device."""
    from hindsight.analytics.heatmap import TITLES, choose_snapshot
    from hindsight.analytics.heatmap_export import render_heatmap_image, screenshot_array
    from hindsight.store import SessionFilter

    try:   # the screenshot covering most sessions; every width is drawn on it (issue 11)
        snap = choose_snapshot(cap, engine, sec.page_url, sec.device or "desktop")
    except KeyError as exc:
        sec.notes.append(str(exc.args[0]))
        return None, "", None
    result = engine.compute(snap.snapshot_id, sec.heatmap_kind, SessionFilter(device=(snap.device,)))
    shot = screenshot_array(cap.snapshot_image(snap.snapshot_id), snap.width, snap.height, snap.scale)
    img = render_heatmap_image(result, shot, sec.page_url, snap.device, opacity, snap.scale)
    if img.width > HEATMAP_WIDTH:
        from PIL import Image

        img = img.resize((HEATMAP_WIDTH, round(img.height * HEATMAP_WIDTH / img.width)), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=84, optimize=True)
    caption = f"{TITLES[result.kind]} of {sec.page_url} · {snap.device} · {result.sample.badge()}"
    return _data_uri(buf.getvalue(), "image/jpeg"), caption, result.warning


def _form(cap, sec: Section):
    """The form report of the section's page (its device if that device has the form), or None."""
    from hindsight.analytics.forms import find_form, form_report, list_forms
    from hindsight.store import SessionFilter
    from hindsight.store.errors import CaptureError

    if sec.page_url is None:
        return None
    forms = [f for f in list_forms(cap) if f.url == sec.page_url]
    if not forms:
        return None
    device = sec.device if sec.device in forms[0].devices else None
    try:
        ref = find_form(cap, forms[0].form, sec.page_url, device)
        return form_report(cap, ref.form, sec.page_url, device,
                           SessionFilter(device=(device,)) if device else None)
    except CaptureError as exc:
        sec.notes.append(str(exc))
        return None


def _write_whole(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None


# -- the page ---------------------------------------------------------------------------------
_CSS = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --accent:#6d4aff; --amber-bg:#fef3c7;
        --amber:#92400e; --card:#ffffff; --bg:#f4f5f8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width:1160px; margin:0 auto; padding:32px 28px 56px; }
header.top h1 { font-size:28px; margin:0 0 4px; letter-spacing:-0.01em; }
header.top p { margin:2px 0; color:var(--muted); }
nav.toc { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:14px 20px;
          margin:22px 0 8px; }
nav.toc h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); margin:0 0 6px; }
nav.toc ol { margin:0; padding-left:22px; }
nav.toc li { margin:3px 0; }
nav.toc a { color:var(--ink); text-decoration:none; border-bottom:1px solid var(--line); }
section.pattern { background:var(--card); border:1px solid var(--line); border-radius:14px;
                  padding:26px 30px 30px; margin:26px 0; box-shadow:0 1px 2px rgba(17,24,39,.04); }
section.pattern > h2 { font-size:22px; margin:0 0 10px; display:flex; flex-wrap:wrap; gap:10px; align-items:center; }
.badge { display:inline-block; font-size:12.5px; font-weight:600; border-radius:999px; padding:3px 11px;
         background:#eef2ff; color:#3730a3; white-space:nowrap; }
.badge.flag { background:var(--amber-bg); color:var(--amber); }
.badge.ice { background:var(--accent); color:#fff; }
.badge.none { background:#f3f4f6; color:var(--muted); }
blockquote.hypothesis { margin:12px 0 8px; padding:12px 16px; background:#f7f6ff;
                        border-left:4px solid var(--accent); border-radius:0 8px 8px 0; font-size:16px; }
blockquote.hypothesis.empty { background:#f9fafb; border-left-color:var(--line); color:var(--muted); }
p.meta { color:var(--muted); margin:6px 0 0; }
h3 { font-size:15px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:28px 0 10px; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12.5px; text-transform:uppercase; letter-spacing:.04em; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; }
.table-wrap { overflow-x:auto; }
tr.hot td { background:#fff7ed; }
.clips { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:18px; align-items:start; }
figure { margin:0; }
figure.clip { background:#1c1f24; border-radius:10px; overflow:hidden; }
figure.clip video, figure.clip img { display:block; width:100%; height:auto; background:#1c1f24; }
figure.clip figcaption { color:#e5e7eb; font-size:13px; padding:8px 12px 10px; }
figure.clip figcaption span { color:#9ca3af; }
figure.heatmap { border:1px solid var(--line); border-radius:10px; overflow:hidden; }
figure.heatmap .scroll { max-height:780px; overflow:auto; background:#e5e7eb; }
figure.heatmap img { display:block; margin:0 auto; max-width:100%; height:auto; }
figure.heatmap figcaption { font-size:13px; color:var(--muted); padding:8px 12px; border-top:1px solid var(--line); }
.warn { background:var(--amber-bg); color:var(--amber); border-radius:8px; padding:8px 12px; margin:8px 0;
        font-weight:600; font-size:14px; }
p.note { color:var(--muted); font-size:13.5px; }
footer { color:var(--muted); font-size:13px; margin-top:36px; border-top:1px solid var(--line); padding-top:14px; }
@media print { body { background:#fff; } section.pattern { break-inside:avoid-page; box-shadow:none; }
               figure.heatmap .scroll { max-height:none; overflow:visible; } }
"""

#: Nothing is fetched: only inline styles and data: images and media.
CSP = ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _ms(ms: float) -> str:
    return "–" if ms != ms else f"{ms / 1000:.1f} s"   # NaN: no session qualifies


def render_html(sections: list[Section], capture, options: ReportOptions) -> str:
    """The report page (a string) of planned, rendered ``sections``."""
    from hindsight import __version__

    n_sessions = len({m.session_id for s in sections for m in s.moments})
    first, last = capture.date_range()
    when = ""
    if first is not None:
        fmt = "%d %b %Y"
        when = f"{time.strftime(fmt, time.gmtime(first / 1000))} – {time.strftime(fmt, time.gmtime(last / 1000))}"
    title = f"Findings — {capture.path.name}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="Hindsight">',
           f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
           '<header class="top">', f"<h1>{_e(title)}</h1>",
           f"<p>{len(sections)} pattern{'s' * (len(sections) != 1)} across {n_sessions:,} "
           f"session{'s' * (n_sessions != 1)} · capture of {capture.session_count():,} sessions"
           + (f", {_e(when)}" if when else "") + "</p>",
           f"<p>Made {_e(time.strftime('%d %b %Y, %H:%M UTC', time.gmtime()))}. Patterns are ranked by ICE "
           "(the mean of impact, confidence and ease, 1–10); ⚑ marks a pattern seen in "
           f"{WORTH_A_HYPOTHESIS} or more sessions.</p>", "</header>"]
    out.append('<nav class="toc"><h2>Patterns</h2><ol>')
    for i, sec in enumerate(sections, start=1):
        p = sec.pattern
        ice = f" — ICE {p.ice:.1f}" if p.ice is not None else ""
        out.append(f'<li><a href="#p{i}">{_e(p.tag)}</a>{_e(ice)} · {p.sessions} session'
                   f"{'s' * (p.sessions != 1)}</li>")
    out.append("</ol></nav>")
    for i, sec in enumerate(sections, start=1):
        out.append(_section_html(i, sec, options))
    out.append(f"<footer>Made with Hindsight {_e(__version__)} from the local capture file; nothing here was "
               "fetched or sent. Typed text is never recorded (inputs are lengths only), so the clips show "
               "masked fields as the player does."
               + (f" Clips play at {options.speed:g}× from {options.before_ms / 1000:g} s before to "
                  f"{options.after_ms / 1000:g} s after each bookmarked moment." if options.clips else "")
               + "</footer>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def _section_html(i: int, sec: Section, options: ReportOptions) -> str:
    p = sec.pattern
    h = [f'<section class="pattern" id="p{i}" data-pattern="{_e(p.tag)}">', f"<h2>{_e(p.tag)}"]
    if p.worth_a_hypothesis:
        h.append('<span class="badge flag">⚑ worth a hypothesis</span>')
    if p.ice is not None:
        h.append(f'<span class="badge ice">ICE {p.ice:.1f}</span>')
    else:
        h.append('<span class="badge none">ICE not rated</span>')
    h.append("</h2>")
    if p.hypothesis:
        h.append(f'<blockquote class="hypothesis">{_e(p.hypothesis)}</blockquote>')
    else:
        h.append('<blockquote class="hypothesis empty">No hypothesis written yet.</blockquote>')
    parts = [f"{n} {v}" for n, v in (("impact", p.impact), ("confidence", p.confidence), ("ease", p.ease))
             if v is not None]
    meta = f"Seen in {p.sessions} session{'s' * (p.sessions != 1)} ({p.bookmarks} bookmark{'s' * (p.bookmarks != 1)})"
    if parts:
        meta += " · " + ", ".join(parts)
    if sec.page_url:
        meta += f" · mostly on {sec.page_url} ({sec.device})"
    h.append(f'<p class="meta">{_e(meta)}</p>')

    h.append("<h3>Sessions</h3><div class=\"table-wrap\"><table><thead><tr><th class=\"num\">Session</th><th>Device</th>"
             "<th class=\"num\">Duration</th><th class=\"num\">Moment</th><th>Page</th><th>Converted</th>"
             "<th>Note</th></tr></thead><tbody>")
    for m in sec.moments:
        h.append(f"<tr><td class=\"num\">{m.session_id}</td><td>{_e(m.device)}</td>"
                 f"<td class=\"num\">{_e(format_time(m.duration_ms))}</td>"
                 f"<td class=\"num\">{_e(format_time(m.t_ms))}</td><td>{_e(m.page_url or '')}</td>"
                 f"<td>{'yes' if m.converted else 'no'}</td><td>{_e(m.note)}</td></tr>")
    h.append("</tbody></table></div>")

    clips = [m for m in sec.moments if m.clip_uri]
    if clips:
        more = len(sec.moments) - len(clips)
        h.append(f"<h3>Clips ({len(clips)})</h3>")
        if more > 0:
            h.append(f'<p class="note">The first {len(clips)} of {len(sec.moments)} moments have a clip '
                     f"(at most {options.max_clips} per pattern).</p>")
        h.append('<div class="clips">')
        for m in clips:
            a, b = m.clip
            cap = (f"Session {m.session_id} · {m.device} · moment {format_time(m.t_ms)}",
                   f"{format_time(a)}–{format_time(b)} at {options.speed:g}×" + (f" · {m.note}" if m.note else ""))
            label = _e(f"Clip of session {m.session_id} at {format_time(m.t_ms)}")
            if m.clip_mime == "image/gif":
                media = f'<img src="{m.clip_uri}" alt="{label}">'
            else:
                media = (f'<video controls muted loop playsinline preload="auto" aria-label="{label}">'
                         f'<source src="{m.clip_uri}" type="{m.clip_mime}"></video>')
            h.append(f'<figure class="clip" data-session="{m.session_id}" data-moment="{m.t_ms}">{media}'
                     f"<figcaption>{_e(cap[0])}<br><span>{_e(cap[1])}</span></figcaption></figure>")
        h.append("</div>")
    elif options.clips is False:
        h.append('<p class="note">Clips were left out (--no-clips).</p>')

    if sec.heatmap_uri:
        h.append("<h3>Heatmap of the page</h3>")
        if sec.heatmap_warning:
            h.append(f'<div class="warn">⚠ {_e(sec.heatmap_warning)}</div>')
        h.append(f'<figure class="heatmap"><div class="scroll"><img src="{sec.heatmap_uri}" '
                 f'alt="{_e(sec.heatmap_caption)}"></div><figcaption>{_e(sec.heatmap_caption)}</figcaption></figure>')
    f = sec.form
    if f is not None:
        h.append(f"<h3>Form fields on this page{' (' + _e(f.device) + ')' if f.device else ''}</h3>")
        h.append(f'<p class="meta">{_e(f.header())}</p>')
        h.append("<div class=\"table-wrap\"><table><thead><tr><th>Field</th><th class=\"num\">Sessions</th>"
                 "<th class=\"num\">To first focus</th><th class=\"num\">Time in field</th>"
                 "<th class=\"num\">Returns</th><th class=\"num\">Corrections</th><th class=\"num\">Left blank</th>"
                 "<th class=\"num\">Validation errors</th><th class=\"num\">Abandoned here</th></tr></thead><tbody>")
        top = f.top_abandon_field
        for fs in f.fields:
            hot = ' class="hot"' if top is not None and fs.name == top.name else ""
            h.append(f"<tr{hot}><td>{_e(fs.title)}</td><td class=\"num\">{fs.interacted:,}</td>"
                     f"<td class=\"num\">{_ms(fs.first_interaction_median_ms)}</td>"
                     f"<td class=\"num\">{_ms(fs.time_in_field_median_ms)}</td>"
                     f"<td class=\"num\">{fs.returns:,}</td><td class=\"num\">{fs.corrections:,}</td>"
                     f"<td class=\"num\">{fs.left_blank:,}</td><td class=\"num\">{fs.validation_errors:,}</td>"
                     f"<td class=\"num\">{fs.dropoff:,} ({fs.dropoff_pct:.0f}%)</td></tr>")
        h.append("</tbody></table></div>")
        h.append('<p class="note">Sessions per field; times are medians. Only lengths and timings are '
                 "recorded, never what was typed.</p>")
    for note in sec.notes:
        h.append(f'<p class="note">{_e(note)}</p>')
    h.append("</section>")
    return "\n".join(h)

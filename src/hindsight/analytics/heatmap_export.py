"""Exporting a heatmap as a PNG: the screenshot with the overlay, scroll lines, a legend and a caption.

Pillow only. The header says what the map shows and on how many sessions (amber, with the
warning, when they are too few); the legend strip maps colours to values in the result's unit.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hindsight.analytics.heatmap import HeatmapResult, _num
from hindsight.analytics.heatmap_color import composite
from hindsight.analytics.heatmap_display import display_scale

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu",
              "/usr/share/fonts/truetype")
INK = (17, 24, 39)
MUTED = (75, 85, 99)
AMBER_BG = (254, 243, 199)
AMBER_INK = (146, 64, 14)
HEADER_BG = (249, 250, 251)
CANVAS_BG = (229, 231, 235)
LINE_COLOURS = {"Average fold": (17, 24, 39), "75": (29, 78, 216), "50": (29, 78, 216), "25": (29, 78, 216)}


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False):
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in _FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size=size)


def screenshot_array(png: bytes | None, width: int, height: int, scale: float = 1.0) -> np.ndarray:
    """The snapshot image as (H, W, 3) uint8; a plain grey page if there is none."""
    if png:
        with Image.open(io.BytesIO(png)) as im:
            return np.asarray(im.convert("RGB"))
    return np.full((int(height * scale), int(width * scale), 3), 236, dtype=np.uint8)


def _dashed(d: ImageDraw.ImageDraw, x0: int, x1: int, y: int, colour, width: int = 2, dash: int = 10) -> None:
    for x in range(x0, x1, dash * 2):
        d.line([(x, y), (min(x + dash, x1), y)], fill=colour, width=width)


def draw_scroll_lines(img: Image.Image, result: HeatmapResult, scale: float = 1.0) -> None:
    """Fold and 75/50/25 % lines, labelled at the left edge, drawn onto ``img`` in place."""
    if result.scroll is None or result.scroll.max_bottom.size == 0:
        return
    d = ImageDraw.Draw(img)
    f = font(max(11, int(13 * scale)), bold=True)
    lines = result.scroll.lines() if result.kind == "scroll" else result.scroll.lines()[:1]
    placed: list[tuple[int, int]] = []
    for label, depth in lines:
        y = int(round(depth * scale))
        if y <= 0 or y >= img.height:
            continue
        colour = LINE_COLOURS["Average fold"] if label.startswith("Average") else LINE_COLOURS["75"]
        text = f"{label} · {depth:,.0f} px" if label.startswith("Average") else \
            f"{label.split(' ')[0]} % of pageviews reached here · {depth:,.0f} px"
        _dashed(d, 0, img.width, y, (255, 255, 255), width=4)
        _dashed(d, 0, img.width, y, colour, width=2)
        tw = d.textlength(text, font=f)
        pad = 6
        # Labels of lines closer than a label's height alternate sides so none hides another.
        x = 8
        if placed and abs(y - placed[-1][0]) < f.size + 2 * pad + 4 and placed[-1][1] == 8:
            x = int(img.width - tw - 2 * pad - 8)
        placed.append((y, x))
        box = (x, y - f.size - 2 * pad, x + tw + 2 * pad, y - 2)
        d.rounded_rectangle(box, radius=4, fill=colour)
        d.text((x + pad, y - f.size - pad - 3), text, font=f, fill=(255, 255, 255))


def legend_strip(result: HeatmapResult, width: int, lut: np.ndarray | None = None) -> Image.Image:
    """A white strip with the colour ramp, the display scale's low / middle / top ticks and the unit."""
    scale = display_scale(result)
    return _legend(scale.levels, result.unit, width, scale.lut if lut is None else lut)


def _legend(levels, unit: str, width: int, lut: np.ndarray, ends: tuple[str, str] | None = None) -> Image.Image:
    h = 70
    strip = Image.new("RGB", (width, h), (255, 255, 255))
    d = ImageDraw.Draw(strip)
    f = font(13)
    margin = 24
    bar_w = min(520, width - 2 * margin)
    bar = np.repeat(lut[None, :, :], 14, axis=0).astype(np.float32)
    # The ramp is shown over white exactly as the overlay blends over a white page.
    a = bar[:, :, 3:4] / 255.0
    rgb = np.round(bar[:, :, :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)
    ramp = Image.fromarray(rgb).resize((bar_w, 14), Image.NEAREST)
    strip.paste(ramp, (margin, 10))
    d.rectangle((margin - 1, 9, margin + bar_w, 24), outline=(209, 213, 219))
    lo, hi = levels
    for frac in (0.0, 0.5, 1.0):
        x = margin + int(frac * (bar_w - 1))
        d.line([(x, 25), (x, 30)], fill=MUTED)
        label = _num(lo + frac * (hi - lo))
        if ends is not None and frac != 0.5:
            label = f"{label}  {ends[0]}" if frac == 0.0 else f"{ends[1]}  +{label}"
        tw = d.textlength(label, font=f)
        d.text((min(max(margin, x - tw / 2), margin + bar_w - tw), 32), label, font=f, fill=INK)
    unit_x = margin + bar_w + 16
    if unit_x + d.textlength(unit, font=f) + margin <= width:
        d.text((unit_x, 9), unit, font=f, fill=MUTED)
    else:  # narrow (mobile) exports: the unit goes under the ticks
        d.text((margin, 48), unit, font=font(12), fill=MUTED)
    return strip


def header_strip(result: HeatmapResult, width: int, page_url: str, device: str) -> Image.Image:
    """Title, page and device, sample size; amber with the warning when the sample is small."""
    warn = result.warning
    lines = [("⚠ " + warn, AMBER_INK)] if warn else []
    if result.note:
        lines.append((result.note, MUTED))
    if result.coverage is not None:  # which widths the map includes, and what it could not place
        lines.append((result.coverage.header(), INK))
        lines += [(n, AMBER_INK) for n in result.coverage.notes()]
    h = 58 + 20 * len(lines)
    strip = Image.new("RGB", (width, h), AMBER_BG if warn else HEADER_BG)
    d = ImageDraw.Draw(strip)
    d.text((24, 10), f"{result.title} — {page_url} · {device}", font=font(16, bold=True), fill=INK)
    d.text((24, 34), result.sample.badge(), font=font(13), fill=AMBER_INK if warn else MUTED)
    for i, (text, colour) in enumerate(lines):
        d.text((24, 54 + 20 * i), text, font=font(13, bold=True), fill=colour)
    return strip


def render_heatmap_image(result: HeatmapResult, screenshot: np.ndarray, page_url: str, device: str,
                         opacity: float = 0.6, scale: float = 1.0, lut: np.ndarray | None = None) -> Image.Image:
    """The full export: header, legend strip, then the page with its overlay (RGB image), coloured
    on the same :func:`~hindsight.analytics.heatmap_display.display_scale` as the app's views."""
    shown = display_scale(result)
    page = Image.fromarray(composite(screenshot, result.grid, result.rect, shown.levels,
                                     shown.lut if lut is None else lut, opacity, scale))
    page = page.convert("RGB")
    draw_scroll_lines(page, result, scale)
    width = max(page.width, 720)
    head = header_strip(result, width, page_url, device)
    legend = legend_strip(result, width, lut)
    # A grey surround shows where a narrow (mobile) page ends.
    out = Image.new("RGB", (width, head.height + legend.height + 1 + page.height), CANVAS_BG)
    out.paste(head, (0, 0))
    out.paste(legend, (0, head.height))
    ImageDraw.Draw(out).line([(0, head.height + legend.height), (width, head.height + legend.height)],
                             fill=(209, 213, 219))
    out.paste(page, ((width - page.width) // 2, head.height + legend.height + 1))
    return out


def render_compare_image(cmp, screenshot: np.ndarray, page_url: str, device: str, names: tuple[str, str],
                         opacity: float = 0.7, scale: float = 1.0) -> Image.Image:
    """Segment A minus segment B (per pageview) in the diverging LUT: red where A does more."""
    shown = display_scale(cmp)
    lut = shown.lut
    page = Image.fromarray(composite(screenshot, cmp.diff, cmp.a.rect, shown.levels, lut, opacity, scale))
    page = page.convert("RGB")
    width = max(page.width, 720)
    warn = cmp.a.warning or cmp.b.warning
    rows = [(f"A  {names[0]}: {cmp.a.sample.badge()}", AMBER_INK if cmp.a.warning else MUTED),
            (f"B  {names[1]}: {cmp.b.sample.badge()}", AMBER_INK if cmp.b.warning else MUTED)]
    if warn:
        rows.append(("⚠ " + (cmp.a.warning if cmp.a.warning else cmp.b.warning), AMBER_INK))
    head = Image.new("RGB", (width, 34 + 20 * len(rows)), AMBER_BG if warn else HEADER_BG)
    d = ImageDraw.Draw(head)
    d.text((24, 10), f"{cmp.a.title}, A − B — {page_url} · {device}", font=font(16, bold=True), fill=INK)
    for i, (text, colour) in enumerate(rows):
        d.text((24, 34 + 20 * i), text, font=font(13, bold=i == 2), fill=colour)
    legend = _legend(shown.levels, cmp.unit, width, lut, ends=("B more", "A more"))
    out = Image.new("RGB", (width, head.height + legend.height + 1 + page.height), CANVAS_BG)
    out.paste(head, (0, 0))
    out.paste(legend, (0, head.height))
    ImageDraw.Draw(out).line([(0, head.height + legend.height), (width, head.height + legend.height)],
                             fill=(209, 213, 219))
    out.paste(page, ((width - page.width) // 2, head.height + legend.height + 1))
    return out


# -- one heatmap image, as the CLI and the app save it ---------------------------------------
def heatmap_image(capture, snapshot, kind: str, flt=None, *, page_url: str | None = None, engine=None,
                  opacity: float = 0.6, min_sessions: int | None = None, pages=None) -> Image.Image:
    """The exported picture of one map: ``hindsight heatmap ... -o PNG`` and the app's "Save image…".

    ``snapshot`` is a ``Snapshot`` of ``capture``; ``flt`` a ``SessionFilter`` (None: every
    session); ``engine`` a ``HeatmapEngine`` of ``capture`` to reuse its caches (its
    ``min_sessions`` then decides the warning), else one is made with ``min_sessions``.
    """
    from hindsight.analytics.heatmap import MIN_SESSIONS, HeatmapEngine
    from hindsight.store import SessionFilter

    if engine is None:
        engine = HeatmapEngine(capture, min_sessions=min_sessions or MIN_SESSIONS)
    if page_url is None:
        page_url = next(p.url for p in capture.pages() if p.page_id == snapshot.page_id)
    result = engine.compute(snapshot.snapshot_id, kind, flt or SessionFilter(), pages)
    shot = screenshot_array(capture.snapshot_image(snapshot.snapshot_id), snapshot.width, snapshot.height,
                            snapshot.scale)
    return render_heatmap_image(result, shot, page_url, snapshot.device, opacity, snapshot.scale)


def compare_image(capture, snapshot, kind: str, flt_a, flt_b, names: tuple[str, str], *,
                  page_url: str | None = None, engine=None, opacity: float = 0.7,
                  min_sessions: int | None = None, pages=None) -> Image.Image:
    """Segment A minus segment B, per pageview (``hindsight heatmap ... --vs``; compare mode)."""
    from hindsight.analytics.heatmap import MIN_SESSIONS, HeatmapEngine

    if engine is None:
        engine = HeatmapEngine(capture, min_sessions=min_sessions or MIN_SESSIONS)
    if page_url is None:
        page_url = next(p.url for p in capture.pages() if p.page_id == snapshot.page_id)
    cmp = engine.compare(snapshot.snapshot_id, kind, flt_a, flt_b, pages)
    shot = screenshot_array(capture.snapshot_image(snapshot.snapshot_id), snapshot.width, snapshot.height,
                            snapshot.scale)
    return render_compare_image(cmp, shot, page_url, snapshot.device, names, opacity, snapshot.scale)


def save_png(img: Image.Image, path: str | os.PathLike[str]) -> str:
    """Write ``img`` as a PNG at ``path`` whole or not at all (a ``.partial`` file, then a rename)."""
    path = os.fspath(path)
    tmp = path + ".partial"
    try:
        img.save(tmp, format="PNG", optimize=False, compress_level=6)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return path

"""Simulated visitors of the demo site: human-like cursor paths, scrolling, reading, typing.

Each session is a pure function of (seed, index): the same seed gives the same capture.
Behaviours that analytics must find are *planted* with a known probability, and every
planted behaviour is reported as ground truth next to the events it produced.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from hindsight.demo.pages import VIEWPORT_HEIGHTS, PageLayout, layout_page
from hindsight.store.columns import EventColumns
from hindsight.store.kinds import EventKind as K

# Messages and names the events refer to through the strings table.
ERROR_MESSAGE = "TypeError: Cannot read properties of undefined (reading 'open') at contactSales (pricing.js:42)"
EMAIL_INVALID = "Please enter a valid email address"
SIGNUP_EVENT = "signup_completed"
STRINGS = (ERROR_MESSAGE, EMAIL_INVALID, SIGNUP_EVENT)

FORM_FIELDS = ("name", "email", "company", "phone", "password", "plan", "terms")
TYPED_LENGTH = {"name": (8, 18), "email": (14, 28), "company": (4, 16), "phone": (10, 14),
                "password": (10, 16)}
# Which field a visitor who abandons the form leaves at (phone dominates: planted).
ABANDON_FIELD_WEIGHTS = {"name": 0.05, "email": 0.11, "company": 0.09, "phone": 0.52,
                         "password": 0.16, "plan": 0.04, "terms": 0.03}

DEVICE_WEIGHTS = {"desktop": 0.56, "mobile": 0.38, "tablet": 0.06}
BROWSERS = {
    "desktop": [("Chrome", 0.64, [("Windows", 0.6), ("macOS", 0.34), ("Linux", 0.06)]),
                ("Safari", 0.13, [("macOS", 1.0)]),
                ("Edge", 0.12, [("Windows", 1.0)]),
                ("Firefox", 0.11, [("Windows", 0.55), ("macOS", 0.2), ("Linux", 0.25)])],
    "mobile": [("Mobile Safari", 0.52, [("iOS", 1.0)]),
               ("Chrome Mobile", 0.40, [("Android", 1.0)]),
               ("Samsung Internet", 0.08, [("Android", 1.0)])],
    "tablet": [("Mobile Safari", 0.7, [("iPadOS", 1.0)]),
               ("Chrome Mobile", 0.3, [("Android", 1.0)])],
}
COUNTRIES = [("US", 0.34), ("GB", 0.10), ("DE", 0.09), ("IN", 0.08), ("CA", 0.06), ("FR", 0.06),
             ("AU", 0.04), ("NL", 0.04), ("BR", 0.04), ("ES", 0.03), ("SE", 0.03), ("JP", 0.03),
             ("PL", 0.02), ("IT", 0.02), ("MX", 0.02)]
# (source, weight, [(utm_source, utm_medium, utm_campaign, referrer), ...])
SOURCES = [
    ("organic", 0.33, [("", "", "", "https://www.google.com/"), ("", "", "", "https://www.bing.com/"),
                       ("", "", "", "https://duckduckgo.com/")]),
    ("paid", 0.24, [("google", "cpc", "brand_q4", "https://www.google.com/"),
                    ("google", "cpc", "workflow_automation", "https://www.google.com/"),
                    ("linkedin", "paid_social", "ops_leaders", "https://www.linkedin.com/")]),
    ("direct", 0.18, [("", "", "", "")]),
    ("social", 0.12, [("twitter", "social", "launch_week", "https://t.co/"),
                      ("linkedin", "social", "launch_week", "https://www.linkedin.com/"),
                      ("facebook", "social", "", "https://www.facebook.com/")]),
    ("email", 0.07, [("newsletter", "email", "nov_digest", "")]),
    ("referral", 0.06, [("", "", "", "https://www.producthunt.com/"), ("", "", "", "https://www.g2.com/")]),
]
DAY_MS = 86_400_000
END_MS = 1_763_596_800_000  # 2025-11-20 00:00 UTC: the demo's recording window ends here
WINDOW_DAYS = 30
HOUR_WEIGHTS = [1, 0.7, 0.5, 0.4, 0.4, 0.6, 1.2, 2.2, 3.4, 4.2, 4.6, 4.6, 4.2, 4.4, 4.6, 4.4, 4.0, 3.6,
                3.0, 2.8, 2.6, 2.2, 1.8, 1.3]

MOVE_STEP_MS = 50    # cursor sampling interval while moving (rrweb samples at 50 ms)
SCROLL_STEP_MS = 80  # scroll event interval while scrolling


def _pick(rng: random.Random, items, weight_index: int = 1):
    total = sum(i[weight_index] for i in items)
    r = rng.random() * total
    for item in items:
        r -= item[weight_index]
        if r <= 0:
            return item
    return items[-1]


def _pick_map(rng: random.Random, weights: dict[str, float]) -> str:
    return _pick(rng, list(weights.items()))[0]


@dataclass
class Planted:
    kind: str
    t_ms: int
    end_ms: int
    selector: str = ""
    detail: str = ""


class PageRecorder:
    """Accumulates the events of one pageview while the visitor acts on it."""

    def __init__(self, visit: "Visit", layout: PageLayout, start_ms: int):
        self.visit = visit
        self.layout = layout
        self.start_ms = start_ms
        self.now = start_ms
        self.scroll_y = 0
        self.cols: tuple[list, list, list, list, list, list] = ([], [], [], [], [], [])
        self.index = _selector_index(layout)
        self.lengths: dict[int, int] = {}
        self.max_bottom = visit.vh
        self.saw: set[str] = set()

    # -- raw events ----------------------------------------------------------------------
    def emit(self, kind: int, x: int = 0, y: int = 0, target: int = -1, value: int = 0, t: int | None = None):
        t_ms, k, xs, ys, ts, vs = self.cols
        t_ms.append(self.now if t is None else t)
        k.append(kind)
        xs.append(int(x))
        ys.append(int(y))
        ts.append(target)
        vs.append(value)

    def wait(self, ms: float) -> None:
        self.now += int(ms)

    def emit_block(self, kind: int, ts: list[int], xs: list[int], ys: list[int]) -> None:
        """Many events of one kind at once (cursor paths, scroll trajectories)."""
        n = len(ts)
        t_ms, k, xcol, ycol, tg, vs = self.cols
        t_ms.extend(ts)
        k.extend([kind] * n)
        xcol.extend(xs)
        ycol.extend(ys)
        tg.extend([-1] * n)
        vs.extend([0] * n)

    def element(self, selector: str):
        idx = self.index[selector]
        return self.layout.elements[idx], idx

    def events(self) -> EventColumns:
        return EventColumns.from_arrays(*self.cols).sorted()

    # -- scrolling -----------------------------------------------------------------------
    def _note_view(self) -> None:
        self.max_bottom = max(self.max_bottom, self.scroll_y + self.visit.vh)

    def scroll_to(self, target_y: float, duration_ms: float | None = None) -> None:
        """Smoothly scroll so the viewport's top is at target_y (clamped to the page)."""
        max_y = max(0, self.layout.height - self.visit.vh)
        target = int(min(max(0.0, target_y), max_y))
        dist = target - self.scroll_y
        if dist == 0:
            return
        rng = self.visit.rng
        if duration_ms is None:
            duration_ms = 250 + abs(dist) * rng.uniform(0.35, 0.7)
        steps = max(2, int(duration_ms / SCROLL_STEP_MS))
        y0, now = self.scroll_y, self.now
        ts, ys = [], []
        for i in range(1, steps + 1):
            f = i / steps
            ease = f * f * (3 - 2 * f)  # smoothstep: wheel/fling start and settle
            ts.append(now + int(f * duration_ms))
            ys.append(round(y0 + dist * ease))
        self.emit_block(K.SCROLL, ts, [0] * steps, ys)
        self.now = ts[-1]
        # The cursor rides with the page while the wheel turns: it stays put on screen.
        if self.visit.has_cursor:
            self.visit.cursor = (self.visit.cursor[0], self.visit.cursor[1] + (target - self.scroll_y))
        self.scroll_y = target
        self._note_view()

    def scroll_into_view(self, el, margin: float | None = None) -> None:
        vh = self.visit.vh
        if el.y >= self.scroll_y + 40 and el.y + el.h <= self.scroll_y + vh - 40:
            return
        if margin is None:
            margin = self.visit.rng.uniform(0.18, 0.35) * vh
        self.scroll_to(el.y - margin)

    # -- cursor --------------------------------------------------------------------------
    def move_to(self, x: float, y: float, duration_ms: float | None = None, jitter: float = 1.0) -> None:
        """A human-like cursor path: curved, minimum-jerk speed profile, small tremor."""
        v = self.visit
        if not v.has_cursor:
            return
        rng = v.rng
        x0, y0 = v.cursor
        dx, dy = x - x0, y - y0
        dist = math.hypot(dx, dy)
        if dist < 2:
            return
        if duration_ms is None:
            duration_ms = 180 + 140 * math.log2(1 + dist / 24) * rng.uniform(0.8, 1.3)  # Fitts-like
        steps = max(2, int(duration_ms / MOVE_STEP_MS))
        bow = rng.uniform(-0.18, 0.18) * dist  # perpendicular bow of the path
        nx, ny = -dy / dist * bow, dx / dist * bow
        sd = jitter * 1.2
        j = v.take_noise(2 * steps)
        noise = v.noise
        max_x, max_y = self.layout.width - 1, self.layout.height - 1
        now = self.now
        ts, xs, ys = [], [], []
        for f, prog, arc in _path_profile(steps):
            px = x0 + dx * prog + nx * arc + sd * noise[j]
            py = y0 + dy * prog + ny * arc + sd * noise[j + 1]
            j += 2
            ts.append(now + int(f * duration_ms))
            xs.append(round(0 if px < 0 else max_x if px > max_x else px))
            ys.append(round(0 if py < 0 else max_y if py > max_y else py))
        xs[-1], ys[-1] = round(x), round(y)
        self.emit_block(K.MOVE, ts, xs, ys)
        self.now = ts[-1]
        v.cursor = (float(x), float(y))

    def point_in(self, el, spread: float = 0.3) -> tuple[float, float]:
        rng = self.visit.rng
        cx = el.x + el.w / 2 + rng.gauss(0, el.w * spread / 2)
        cy = el.y + el.h / 2 + rng.gauss(0, el.h * spread / 2)
        return (min(max(cx, el.x + 2), el.x + el.w - 3), min(max(cy, el.y + 2), el.y + el.h - 3))

    def drift(self, ms: float) -> None:
        """Reading: the cursor wanders a little (desktop) or the finger rests (touch)."""
        v = self.visit
        end = self.now + int(ms)
        if v.has_cursor:
            while self.now < end - 400:
                x, y = v.cursor
                # Each drift goes at least ~25 px: reading moves the cursor, it never parks.
                dx = v.rng.gauss(0, 90)
                dx = dx if abs(dx) >= 25 else math.copysign(25 + abs(dx), dx)
                tx = x + dx if 20 <= x + dx <= self.layout.width - 20 else x - dx
                ty = min(max(y + v.rng.gauss(0, 40), self.scroll_y + 20), self.scroll_y + v.vh - 20)
                self.move_to(tx, ty, duration_ms=v.rng.uniform(250, 600), jitter=0.6)
                self.wait(v.rng.uniform(300, 900))
        self.now = max(self.now, end)

    def read(self, lo: float, hi: float) -> None:
        """Read for a while without being taken for a hesitation: stays active on the page."""
        v = self.visit
        total = v.rng.uniform(lo, hi)
        end = self.now + int(total)
        while self.now < end:
            chunk = min(end - self.now, v.rng.uniform(900, 2000))
            if v.has_cursor:
                self.drift(chunk)
            else:
                self.wait(chunk)
                # A reading thumb nudges the page now and then.
                if self.now < end:
                    self.scroll_to(self.scroll_y + v.rng.uniform(60, 220), v.rng.uniform(180, 350))

    # -- pointer actions -----------------------------------------------------------------
    def click_at(self, x: float, y: float, kind: int | None = None) -> int:
        v = self.visit
        if kind is None:
            kind = K.CLICK if v.has_cursor else K.TAP
        if v.has_cursor:
            self.move_to(x, y)
            self.wait(v.rng.uniform(60, 180))
        else:
            self.wait(v.rng.uniform(150, 400))
        target = self.layout.hit(x, y)
        self.emit(kind, x, y, target)
        return target

    def click(self, selector: str, spread: float = 0.3) -> int:
        el, _ = self.element(selector)
        self.scroll_into_view(el)
        x, y = self.point_in(el, spread)
        return self.click_at(x, y)

    # -- form ----------------------------------------------------------------------------
    def focus_field(self, selector: str, by_tab: bool = False) -> int:
        el, idx = self.element(selector)
        self.scroll_into_view(el)
        if by_tab:
            self.wait(self.visit.rng.uniform(120, 350))
        else:
            self.click(selector, spread=0.5)
            self.wait(self.visit.rng.uniform(5, 30))
        self.emit(K.FOCUS, el.x, el.y, idx)
        return idx

    def type_chars(self, idx: int, start_len: int, end_len: int, cps: float | None = None) -> None:
        """Typing (or deleting) from start_len to end_len characters; only lengths are kept."""
        rng = self.visit.rng
        step = 1 if end_len >= start_len else -1
        cps = cps or rng.uniform(3.5, 7.0)
        el = self.layout.elements[idx]
        for n in range(start_len + step, end_len + step, step):
            self.wait(max(35.0, rng.gauss(1000 / cps, 45)) if step > 0 else rng.uniform(70, 130))
            self.emit(K.INPUT, el.x, el.y, idx, n)
            self.lengths[idx] = n

    def blur(self, idx: int) -> None:
        el = self.layout.elements[idx]
        self.wait(self.visit.rng.uniform(40, 160))
        self.emit(K.BLUR, el.x, el.y, idx)


@dataclass
class Visit:
    """One simulated visitor: attributes, random streams, cursor, planted ground truth."""

    index: int
    rng: random.Random
    np_rng: np.random.Generator
    device: str
    vh: int
    has_cursor: bool
    cursor: tuple[float, float] = (0.0, 0.0)
    planted: list[Planted] = field(default_factory=list)
    noise: list[float] = field(default_factory=list)  # standard normal draws for cursor tremor
    noise_at: int = 0

    def take_noise(self, n: int) -> int:
        """Start index of ``n`` unused tremor draws (refilled from ``np_rng`` in blocks)."""
        if self.noise_at + n > len(self.noise):
            self.noise = self.np_rng.standard_normal(max(512, n)).tolist()
            self.noise_at = 0
        start = self.noise_at
        self.noise_at += n
        return start

    def plant(self, kind: str, t_ms: int, end_ms: int | None = None, selector: str = "", detail: str = ""):
        self.planted.append(Planted(kind, int(t_ms), int(t_ms if end_ms is None else end_ms), selector, detail))


@dataclass
class SimulatedSession:
    row: dict
    pageviews: list[dict]   # page key, start_ms, end_ms, load_ms, events
    planted: list[Planted]


def _session_attributes(rng: random.Random, index: int, seed: int) -> dict:
    device = _pick_map(rng, DEVICE_WEIGHTS)
    browser, _, oses = _pick(rng, BROWSERS[device])
    os_name = _pick(rng, oses)[0]
    country = _pick(rng, COUNTRIES)[0]
    source, _, variants = _pick(rng, SOURCES)
    utm_source, utm_medium, utm_campaign, referrer = variants[rng.randrange(len(variants))]
    day = rng.randrange(WINDOW_DAYS)
    hour = _pick(rng, list(enumerate(HOUR_WEIGHTS)))[0]
    start = END_MS - (WINDOW_DAYS - day) * DAY_MS + hour * 3_600_000 + rng.randrange(3_600_000)
    vh = VIEWPORT_HEIGHTS[device] - (rng.choice((0, 0, 0, 60, 120, 180)) if device != "tablet" else 0)
    return dict(
        device=device, browser=browser, os=os_name, country=country, source=source,
        utm_source=utm_source, utm_medium=utm_medium, utm_campaign=utm_campaign, referrer=referrer,
        start_ms=start, viewport_h=vh,
        visitor_id=f"v{(seed * 7919 + index * 104729) % 10**10:010d}",
    )


def simulate_session(seed: int, index: int) -> SimulatedSession:
    """Simulate visitor ``index`` of the demo with ``seed``; deterministic."""
    rng = random.Random(seed * 1_000_003 + index)
    attrs = _session_attributes(rng, index, seed)
    device = attrs["device"]
    has_cursor = device == "desktop"
    visit = Visit(index, rng, np.random.default_rng([seed, index]), device, attrs["viewport_h"], has_cursor)
    landing = layout_page("landing", device)
    visit.cursor = (rng.uniform(200, landing.width - 200), rng.uniform(5, 60))
    pageviews: list[dict] = []
    converted = False

    def open_page(page: str, start_ms: int) -> PageRecorder:
        layout = layout_page(page, device)
        rec = PageRecorder(visit, layout, start_ms)
        rec.emit(K.RESIZE, layout.width, visit.vh)
        load_ms = int(min(9000, rng.lognormvariate(math.log(1100 if has_cursor else 1700), 0.4)))
        rec.wait(load_ms)
        rec.emit(K.LOAD, value=load_ms)
        rec.load_ms = load_ms  # type: ignore[attr-defined]
        if has_cursor:
            rec.emit(K.MOVE, visit.cursor[0], visit.cursor[1])
        return rec

    def close_page(rec: PageRecorder, page: str) -> None:
        rec.wait(rng.uniform(50, 400))
        # The next page opens scrolled to the top: the cursor keeps its place on screen.
        visit.cursor = (visit.cursor[0], min(visit.cursor[1] - rec.scroll_y, visit.vh - 1))
        pageviews.append(dict(page=page, start_ms=rec.start_ms, end_ms=rec.now,
                              load_ms=getattr(rec, "load_ms", 0), events=rec.events()))

    # ---- the landing page -------------------------------------------------------------
    rec = open_page("landing", 0)
    next_page = _landing_visit(rec, visit)
    close_page(rec, "landing")
    if next_page == "signup":
        rec = open_page("signup", rec.now)
        outcome = _signup_visit(rec, visit)
        close_page(rec, "signup")
        if outcome == "back":
            rec = open_page("landing", rec.now)
            rec.read(800, 2500)
            if rng.random() < 0.5:
                rec.scroll_to(rec.scroll_y + rng.uniform(300, 1200))
                rec.read(500, 2000)
            close_page(rec, "landing")
        converted = outcome == "converted"

    row = dict(attrs)
    row.update(
        viewport_w=landing.width,
        converted=converted,
        duration_ms=pageviews[-1]["end_ms"],
    )
    return SimulatedSession(row, pageviews, visit.planted)


def _landing_visit(rec: PageRecorder, v: Visit) -> str | None:
    """Returns 'signup' if the visitor goes on to the signup page, else None (leaves)."""
    rng = v.rng
    hero_h1, _ = rec.element("#hero h1")
    cta, _ = rec.element("#hero-cta")
    product, _ = rec.element("img.product-shot")
    mobile_like = not v.has_cursor

    # Planted: many phone visitors read the headline and leave without scrolling, so the
    # CTA (below the fold on mobile) never enters their viewport.
    if mobile_like and cta.y > v.vh + 60 and rng.random() < 0.33:
        rec.wait(rng.uniform(1200, 2300))
        rec.scroll_to(rng.uniform(0, 60), rng.uniform(200, 400))
        rec.wait(rng.uniform(900, 2200))
        v.plant("cta_missed", 0, rec.now, "#hero-cta", "left without scrolling; the CTA sits below the fold")
        return None

    # The headline first.
    if v.has_cursor:
        rec.move_to(*rec.point_in(hero_h1, 0.5))
    rec.read(1200, 3500)

    def cta_visible() -> bool:
        return cta.y + cta.h * 0.5 < rec.scroll_y + v.vh

    def maybe_idle() -> None:
        if rng.random() < 0.12:
            start = rec.now
            gap = rng.uniform(11_000, 45_000)
            if rng.random() < 0.6:
                rec.emit(K.VISIBILITY, value=0)
                rec.wait(gap)
                rec.emit(K.VISIBILITY, value=1)
            else:
                rec.wait(gap)
            v.plant("idle", start, rec.now)
            rec.read(800, 1800)

    # Product shot: looks clickable, isn't. Planted rage and dead clicks.
    if mobile_like:
        rec.scroll_to(product.y - rng.uniform(40, 140))
        rec.read(1200, 2600)
    else:
        rec.move_to(*rec.point_in(product, 0.4))
        rec.read(900, 2000)
    roll = rng.random()
    if roll < (0.08 if v.has_cursor else 0.05):
        _rage_click(rec, v, product, "img.product-shot")
    elif roll < 0.16:
        x, y = rec.point_in(product, 0.5)
        rec.click_at(x, y)
        v.plant("dead_click", rec.now, rec.now, "img.product-shot")
        rec.read(2600, 4000)  # waits for something to happen; nothing does

    maybe_idle()

    # The hero CTA: in view at once on desktop; on mobile only after scrolling past the product.
    if mobile_like and not cta_visible() and rng.random() < 0.55:
        rec.scroll_to(cta.y - rng.uniform(0.3, 0.6) * v.vh)
        rec.read(800, 1800)
    if cta_visible() and rng.random() < (0.20 if v.has_cursor else 0.15):
        rec.click("#hero-cta")
        return "signup"

    # Scroll down section by section; a cliff after the benefits (planted).
    sections = ["#benefits", "#testimonials", "#pricing", "#footer-cta"]
    go_on = {"#benefits": 0.82, "#testimonials": 0.42, "#pricing": 0.80, "#footer-cta": 0.70}
    for sel in sections:
        if rng.random() > go_on[sel]:
            break
        el, _ = rec.element(sel)
        rec.scroll_to(el.y - rng.uniform(0.05, 0.2) * v.vh)
        if v.has_cursor:
            rec.move_to(*rec.point_in(el, 0.6))
        rec.read(1500, 4500)
        if mobile_like and cta_visible() and sel == "#benefits" and rng.random() < 0.12:
            rec.click("#hero-cta")
            return "signup"
        if sel == "#testimonials" and rng.random() < 0.06:
            _excessive_scroll(rec, v)
        if sel == "#pricing":
            note, _ = rec.element("#pricing .price-note")
            r = rng.random()
            if r < 0.12:
                x, y = rec.point_in(note, 0.4)
                rec.click_at(x, y)
                v.plant("dead_click", rec.now, rec.now, "#pricing .price-note")
                rec.read(2600, 4200)
            elif r < 0.19:
                _error_click(rec, v)
            if rng.random() < 0.05:
                _excessive_scroll(rec, v)
            if v.has_cursor and rng.random() < 0.05:
                _thrash(rec, v)
            if rng.random() < 0.22:
                rec.click(rng.choice(("#plan-starter-cta", "#plan-pro-cta")))
                return "signup"
            maybe_idle()
        if sel == "#footer-cta" and rng.random() < 0.3:
            rec.click("#footer-cta")
            return "signup"
    rec.read(500, 2000)
    return None


def _rage_click(rec: PageRecorder, v: Visit, el, selector: str) -> None:
    rng = v.rng
    x, y = rec.point_in(el, 0.3)
    rec.click_at(x, y)
    start = rec.now
    for _ in range(rng.randint(2, 5)):
        rec.wait(rng.uniform(110, 380))
        # Within 7 px of the first click on each axis: consecutive clicks stay < 30 px apart.
        cx = x + max(-7.0, min(7.0, rng.gauss(0, 4)))
        cy = y + max(-7.0, min(7.0, rng.gauss(0, 4)))
        if v.has_cursor:
            rec.emit(K.MOVE, cx, cy)
        rec.emit(K.CLICK if v.has_cursor else K.TAP, cx, cy, rec.layout.hit(cx, cy))
    v.plant("rage_click", start, rec.now, selector)
    v.plant("dead_click", start, rec.now, selector, "clicks of the rage burst")
    rec.read(2600, 4000)


def _error_click(rec: PageRecorder, v: Visit) -> None:
    rng = v.rng
    rec.click("#plan-team-cta")
    t = rec.now
    rec.emit(K.ERROR, value=v_string(ERROR_MESSAGE), t=t + int(rng.uniform(30, 300)))
    v.plant("error_click", t, t, "#plan-team-cta")
    rec.wait(rng.uniform(900, 1600))
    if rng.random() < 0.6:  # tries again
        el, _ = rec.element("#plan-team-cta")
        rec.click_at(*rec.point_in(el, 0.3))
        t = rec.now
        rec.emit(K.ERROR, value=v_string(ERROR_MESSAGE), t=t + int(rng.uniform(30, 300)))
        v.plant("error_click", t, t, "#plan-team-cta", "tried again")
    rec.read(1500, 3000)


def _excessive_scroll(rec: PageRecorder, v: Visit) -> None:
    rng = v.rng
    start = rec.now
    base = rec.scroll_y
    for i in range(rng.randint(5, 8)):
        rec.scroll_to(base + (1 if i % 2 == 0 else -1) * rng.uniform(350, 800) + (0 if i % 2 == 0 else 200),
                      rng.uniform(250, 450))
        rec.wait(rng.uniform(120, 400))
    v.plant("excessive_scroll", start, rec.now)
    rec.read(1000, 2000)


def _thrash(rec: PageRecorder, v: Visit) -> None:
    rng = v.rng
    start = rec.now
    x0, y0 = v.cursor
    for _ in range(rng.randint(10, 14)):
        tx = min(max(x0 + rng.uniform(-350, 350), 10), rec.layout.width - 10)
        ty = min(max(y0 + rng.uniform(-160, 160), rec.scroll_y + 10), rec.scroll_y + v.vh - 10)
        rec.move_to(tx, ty, duration_ms=rng.uniform(110, 200), jitter=2.0)
    v.plant("thrashed_cursor", start, rec.now)
    rec.read(1000, 2000)


def _signup_visit(rec: PageRecorder, v: Visit) -> str:
    """Returns 'converted', 'abandoned', 'back' (quick back) or 'left' (never started)."""
    rng = v.rng
    if rng.random() < 0.07:
        rec.read(700, 1400)
        v.plant("quick_back", rec.now, rec.now, "", "left the signup page within seconds for the landing page")
        return "back"
    rec.read(1200, 3000)
    if rng.random() < 0.22:
        rec.read(1000, 4000)
        return "left"
    abandon = None if rng.random() < 0.25 else _pick_map(rng, ABANDON_FIELD_WEIGHTS)
    hesitate_on = None
    if rng.random() < 0.35:
        hesitate_on = "phone" if rng.random() < 0.6 else rng.choice(("email", "company", "password"))
    by_tab = rng.random() < 0.35

    for i, name in enumerate(FORM_FIELDS):
        selector = f"#signup-form {'select' if name == 'plan' else 'input'}[name={name}]"
        idx = rec.focus_field(selector, by_tab=by_tab and i > 0 and name not in ("plan", "terms"))
        el = rec.layout.elements[idx]
        # Time to first interaction; planted hesitations are longer than any reading pause.
        hesitated = name == hesitate_on or (name == abandon and name == "phone" and rng.random() < 0.5)
        if hesitated:
            start = rec.now
            rec.wait(rng.uniform(3200, 8000))
            v.plant("hesitation", start, rec.now, selector, f"focused {name} field, no typing")
        else:
            rec.wait(rng.uniform(250, 1000))
        if name == abandon:
            # Leaving: quickly after a hesitation, or after a little typing; a silent pause
            # before leaving stays under the 2.5 s that would make it a hesitation too.
            if not hesitated and name in TYPED_LENGTH and rng.random() < 0.4:
                rec.type_chars(idx, 0, rng.randint(1, 4))
                rec.wait(rng.uniform(800, 2200))
            else:
                rec.wait(rng.uniform(200, 900))
            rec.blur(idx)
            v.plant("abandon", rec.now, rec.now, selector, f"last field touched: {name}")
            rec.read(500, 1500)
            return "abandoned"
        if name in TYPED_LENGTH:
            lo, hi = TYPED_LENGTH[name]
            n = rng.randint(lo, hi)
            if name == "email" and rng.random() < 0.30:
                # Planted: an invalid address, flagged on blur, then corrected.
                bad = n - rng.randint(3, 5)
                rec.type_chars(idx, 0, bad)
                rec.blur(idx)
                err, err_idx = rec.element("#email-error")
                rec.emit(K.VALIDATION, err.x, err.y, idx, v_string(EMAIL_INVALID))
                start = rec.now
                rec.wait(rng.uniform(600, 1800))
                rec.focus_field(selector)
                rec.wait(rng.uniform(300, 900))
                rec.type_chars(idx, bad, bad - rng.randint(2, 6))
                rec.type_chars(idx, rec_len(rec, idx), n)
                v.plant("email_error", start, rec.now, selector, "invalid email flagged, then corrected")
            else:
                rec.type_chars(idx, 0, n)
        elif name == "plan":
            rec.wait(rng.uniform(400, 1200))
            rec.emit(K.INPUT, el.x, el.y, idx, rng.randint(1, 3))
        elif name == "terms":
            rec.emit(K.INPUT, el.x, el.y, idx, 1)
        rec.blur(idx)
    rec.click("#signup-submit")
    submit_el, submit_idx = rec.element("#signup-submit")
    rec.emit(K.SUBMIT, submit_el.x, submit_el.y, submit_idx)
    rec.wait(rng.uniform(300, 900))
    rec.emit(K.CUSTOM, value=v_string(SIGNUP_EVENT))
    rec.read(800, 2000)
    return "converted"


def rec_len(rec: PageRecorder, idx: int) -> int:
    """Current length of a field: the value of its last INPUT event."""
    return rec.lengths.get(idx, 0)


_PATH_PROFILES: dict[int, tuple[tuple[float, float, float], ...]] = {}


def _path_profile(steps: int) -> tuple[tuple[float, float, float], ...]:
    """Per sample of a cursor path: time fraction, minimum-jerk progress, bow (cached per length)."""
    prof = _PATH_PROFILES.get(steps)
    if prof is None:
        rows = []
        for i in range(1, steps + 1):
            f = i / steps
            prog = f * f * f * (10 - 15 * f + 6 * f * f)
            rows.append((f, prog, math.sin(math.pi * prog)))
        prof = _PATH_PROFILES[steps] = tuple(rows)
    return prof


_SELECTOR_INDEX: dict[tuple[str, str], dict[str, int]] = {}


def _selector_index(layout: PageLayout) -> dict[str, int]:
    key = (layout.page, layout.device)
    index = _SELECTOR_INDEX.get(key)
    if index is None:
        index = {el.selector: i for i, el in enumerate(layout.elements)}
        _SELECTOR_INDEX[key] = index
    return index


def v_string(text: str) -> int:
    """String ids are fixed for the demo: the generator registers STRINGS first, in order."""
    return STRINGS.index(text) + 1

"""Demo pages: element maps are exact, deterministic and consistent; rendering matches them."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.demo import pages
from hindsight.demo.pages import (
    DEVICE_WIDTHS,
    PAGES,
    VIEWPORT_HEIGHTS,
    Element,
    PageLayout,
    layout_page,
    render_page,
)

DEVICES = tuple(DEVICE_WIDTHS)
COMBOS = [(p, d) for p in PAGES for d in DEVICES]

# selector -> expected (clickable, field, sensitive, form, href)
LANDING_REQUIRED = {
    "nav": (False, None, False, None, None),
    "#logo": (True, None, False, None, "landing"),
    "#nav-signin": (True, None, False, None, None),
    "#hero": (False, None, False, None, None),
    "#hero h1": (False, None, False, None, None),
    "#hero-cta": (True, None, False, None, "signup"),
    "img.product-shot": (False, None, False, None, None),
    "#benefits": (False, None, False, None, None),
    "#benefit-1": (False, None, False, None, None),
    "#benefit-2": (False, None, False, None, None),
    "#benefit-3": (False, None, False, None, None),
    "#testimonials": (False, None, False, None, None),
    "#testimonial-1": (False, None, False, None, None),
    "#testimonial-2": (False, None, False, None, None),
    "#testimonial-3": (False, None, False, None, None),
    "#pricing": (False, None, False, None, None),
    "#plan-starter-cta": (True, None, False, None, "signup"),
    "#plan-pro-cta": (True, None, False, None, "signup"),
    "#plan-team-cta": (True, None, False, None, "signup"),
    "#pricing .price-note": (False, None, False, None, None),
    "#footer-cta": (True, None, False, None, "signup"),
    "footer": (False, None, False, None, None),
}

SIGNUP_FIELDS = [
    ("#signup-form input[name=name]", "name", False),
    ("#signup-form input[name=email]", "email", True),
    ("#signup-form input[name=company]", "company", False),
    ("#signup-form input[name=phone]", "phone", True),
    ("#signup-form input[name=password]", "password", True),
    ("#signup-form select[name=plan]", "plan", False),
    ("#signup-form input[name=terms]", "terms", False),
]

SIGNUP_REQUIRED = {
    "nav": (False, None, False, None, None),
    "#logo": (True, None, False, None, "landing"),
    "#signup-form": (False, None, False, None, None),
    **{sel: (True, field, sens, "signup", None) for sel, field, sens in SIGNUP_FIELDS},
    "#signup-submit": (True, None, False, "signup", None),
    "#email-error": (False, None, False, None, None),
    "footer": (False, None, False, None, None),
}

REQUIRED = {"landing": LANDING_REQUIRED, "signup": SIGNUP_REQUIRED}
TOP_LEVEL = {
    "landing": ["nav", "#hero", "#logos", "#benefits", "#features", "#testimonials", "#pricing", "#faq",
                "#cta-band", "footer"],
    "signup": ["nav", "#signup", "footer"],
}


def _centre(e: Element) -> tuple[float, float]:
    return e.x + e.w / 2.0, e.y + e.h / 2.0


def _contains(outer: Element, inner: Element) -> bool:
    return (outer.x <= inner.x and outer.y <= inner.y and inner.x + inner.w <= outer.x + outer.w
            and inner.y + inner.h <= outer.y + outer.h)


# ---- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page,device", COMBOS)
def test_layout_basics(page: str, device: str) -> None:
    lay = layout_page(page, device)
    assert isinstance(lay, PageLayout)
    assert lay.page == page and lay.device == device
    assert (lay.url, lay.title) == PAGES[page]
    assert lay.width == DEVICE_WIDTHS[device]
    assert lay.height > VIEWPORT_HEIGHTS[device]
    assert len(lay.elements) > 20


@pytest.mark.parametrize("page,device", COMBOS)
def test_layout_deterministic_and_cached(page: str, device: str) -> None:
    a = layout_page(page, device)
    assert layout_page(page, device) is a  # lru_cache
    fresh = pages._build.__wrapped__(page, device)[0]  # recompute, bypassing every cache
    assert fresh is not a
    assert fresh == a and hash(fresh) == hash(a)


@pytest.mark.parametrize("page,device", COMBOS)
def test_elements_inside_page_and_well_formed(page: str, device: str) -> None:
    lay = layout_page(page, device)
    for e in lay.elements:
        assert all(isinstance(v, int) for v in (e.x, e.y, e.w, e.h)), e
        assert e.w > 0 and e.h > 0, e
        assert e.x >= 0 and e.y >= 0, e
        assert e.x + e.w <= lay.width and e.y + e.h <= lay.height, e
        assert e.selector and e.tag and e.role, e
        assert e.href in (None, "landing", "signup"), e
        assert e.form in (None, "signup"), e
        if e.field is not None or e.sensitive or e.href is not None or e.form is not None:
            assert e.clickable, e


@pytest.mark.parametrize("page,device", COMBOS)
def test_selectors_unique(page: str, device: str) -> None:
    sels = [e.selector for e in layout_page(page, device).elements]
    assert len(sels) == len(set(sels))


@pytest.mark.parametrize("page", list(PAGES))
def test_same_selectors_on_every_device(page: str) -> None:
    sets = {d: {e.selector for e in layout_page(page, d).elements} for d in DEVICES}
    required = set(REQUIRED[page])
    for d, s in sets.items():
        assert required <= s, (d, required - s)


@pytest.mark.parametrize("page,device", COMBOS)
def test_required_element_properties(page: str, device: str) -> None:
    lay = layout_page(page, device)
    for sel, (clickable, field, sensitive, form, href) in REQUIRED[page].items():
        e = lay.element(sel)
        assert (e.clickable, e.field, e.sensitive, e.form, e.href) == (clickable, field, sensitive, form, href), e
    with pytest.raises(KeyError):
        lay.element("#does-not-exist")


def test_roles_of_key_elements() -> None:
    for d in DEVICES:
        lay = layout_page("landing", d)
        assert lay.element("nav").role == "navigation"
        assert lay.element("#hero").role == "region"
        assert lay.element("#hero h1").role == "heading"
        assert lay.element("#hero-cta").role == "button"
        assert lay.element("#hero-cta").label == "Start free trial"
        assert lay.element("img.product-shot").role == "img"
        assert lay.element("#logo").role == "link"
        assert lay.element("#pricing .price-note").label == "Compare all features"
        s = layout_page("signup", d)
        assert s.element("#signup-form").role == "form"
        assert s.element("#signup-submit").label == "Create account"
        assert s.element("#signup-form select[name=plan]").role == "combobox"
        assert s.element("#signup-form input[name=terms]").role == "checkbox"
        assert s.element("#signup-form input[name=email]").role == "textbox"
        assert "valid email" in s.element("#email-error").label


@pytest.mark.parametrize("page,device", COMBOS)
def test_top_level_sections_tile_the_page(page: str, device: str) -> None:
    lay = layout_page(page, device)
    tops = [lay.element(s) for s in TOP_LEVEL[page]]
    assert tops[0].y == 0
    for a, b in zip(tops, tops[1:]):
        assert a.y + a.h == b.y, (a.selector, b.selector)
    assert tops[-1].y + tops[-1].h == lay.height
    for t in tops:
        assert t.x == 0 and t.w == lay.width
    # every element sits inside exactly one top-level section; containers precede content
    index = {e.selector: i for i, e in enumerate(lay.elements)}
    for i, e in enumerate(lay.elements):
        owners = [t for t in tops if _contains(t, e)]
        assert owners, e
        assert index[owners[0].selector] <= i


@pytest.mark.parametrize("page,device", COMBOS)
def test_leaf_elements_do_not_overlap(page: str, device: str) -> None:
    lay = layout_page(page, device)
    leaves = [e for e in lay.elements if e.role not in ("region", "navigation", "form")]
    for i, a in enumerate(leaves):
        for b in leaves[i + 1:]:
            overlap = a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h
            assert not overlap, (a, b)


def test_hero_cta_fold_positions() -> None:
    mobile = layout_page("landing", "mobile")
    desktop = layout_page("landing", "desktop")
    assert mobile.element("#hero-cta").y > 900
    assert desktop.element("#hero-cta").y < 600
    # mobile stacks headline, subhead, product image, then the CTA
    order = [mobile.element(s).y for s in ("#hero h1", "#hero p.subhead", "img.product-shot", "#hero-cta")]
    assert order == sorted(order)
    assert mobile.element("img.product-shot").y + mobile.element("img.product-shot").h <= mobile.element("#hero-cta").y
    # desktop: the product image sits to the right of the hero text
    img, h1 = desktop.element("img.product-shot"), desktop.element("#hero h1")
    assert img.x >= h1.x + h1.w
    cta = desktop.element("#hero-cta")
    assert cta.y + cta.h < VIEWPORT_HEIGHTS["desktop"]


def test_page_heights_in_expected_ranges() -> None:
    hd = layout_page("landing", "desktop").height
    ht = layout_page("landing", "tablet").height
    hm = layout_page("landing", "mobile").height
    assert 4200 <= hd <= 5200
    assert 7000 <= hm <= 9000
    assert hd < ht < hm + 200


def test_signup_fold_and_field_order() -> None:
    for d in DEVICES:
        lay = layout_page("signup", d)
        sels = [s for s, _f, _s in SIGNUP_FIELDS]
        idx = [lay.index(s) for s in sels]
        assert idx == sorted(idx)  # document order
        for s in sels[:-1]:  # each text/select field has a visible label above it
            name = s.split("name=")[1].rstrip("]")
            lab = lay.element(f"#signup-form label[for={name}]")
            f = lay.element(s)
            assert lab.role == "text" and not lab.clickable
            assert lab.y + lab.h <= f.y and lab.x == f.x
        assert lay.element("#signup-form label[for=terms]").role == "text"
        form = lay.element("#signup-form")
        for s in sels + ["#signup-submit"]:
            assert _contains(form, lay.element(s)), s
        email, err = lay.element("#signup-form input[name=email]"), lay.element("#email-error")
        assert err.y >= email.y + email.h and err.y - (email.y + email.h) < 20
    m = layout_page("signup", "mobile")
    fold = VIEWPORT_HEIGHTS["mobile"]
    assert m.element("#signup-submit").y > fold
    first = m.element("#signup-form input[name=name]")
    assert first.y + first.h < fold
    desk = layout_page("signup", "desktop")
    assert desk.element("#signup-submit").y + desk.element("#signup-submit").h < VIEWPORT_HEIGHTS["desktop"]


@pytest.mark.parametrize("device", DEVICES)
def test_hit_testing(device: str) -> None:
    lay = layout_page("landing", device)
    img = lay.element("img.product-shot")
    i = lay.hit(*_centre(img))
    assert lay.elements[i].selector == "img.product-shot"
    assert not lay.elements[i].clickable
    i = lay.hit(*_centre(lay.element("#hero-cta")))
    assert lay.elements[i].selector == "#hero-cta"
    # innermost wins: a point in the hero but on nothing else is the hero itself
    hero = lay.element("#hero")
    assert lay.elements[lay.hit(hero.x + 2, hero.y + 2)].selector == "#hero"
    assert lay.hit(-5, 10) == -1
    assert lay.hit(10, lay.height + 5) == -1
    # every clickable element is hit at its own centre
    for e in lay.elements:
        if e.clickable:
            assert lay.elements[lay.hit(*_centre(e))] == e, e.selector
    s = layout_page("signup", device)
    for sel in ("#signup-submit", "#signup-form input[name=email]", "#email-error"):
        assert s.elements[s.hit(*_centre(s.element(sel)))].selector == sel


def test_dead_click_price_note_looks_like_a_link_but_is_not() -> None:
    lay = layout_page("landing", "desktop")
    note = lay.element("#pricing .price-note")
    assert not note.clickable and note.href is None
    img = render_page(lay)
    patch = img[note.y:note.y + note.h, note.x:note.x + note.w].reshape(-1, 3).astype(int)
    # blue-ish text pixels present (b > r + 60)
    assert ((patch[:, 2] - patch[:, 0]) > 60).sum() > 20


# ---- rendering -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, str], np.ndarray]:
    return {(p, d): render_page(layout_page(p, d)) for p, d in COMBOS}


@pytest.mark.parametrize("page,device", COMBOS)
def test_render_shape_dtype_not_blank(renders, page: str, device: str) -> None:
    lay = layout_page(page, device)
    img = renders[(page, device)]
    assert img.shape == (lay.height, lay.width, 3)
    assert img.dtype == np.uint8
    assert img.flags["C_CONTIGUOUS"]
    assert float(img.std()) > 10


@pytest.mark.parametrize("page,device", COMBOS)
def test_render_ctas_visible(renders, page: str, device: str) -> None:
    lay = layout_page(page, device)
    img = renders[(page, device)]
    bg = np.array([255, 255, 255])
    sels = ["#hero-cta", "#footer-cta", "#plan-pro-cta"] if page == "landing" else ["#signup-submit"]
    for sel in sels:
        e = lay.element(sel)
        cx, cy = int(e.x + e.w / 2), int(e.y + e.h / 2)
        assert not np.array_equal(img[cy, cx], bg), sel
        # the button fill covers most of its box
        patch = img[e.y + 2:e.y + e.h - 2, e.x + 4:e.x + e.w - 4].reshape(-1, 3)
        assert (np.abs(patch.astype(int) - bg).sum(axis=1) > 30).mean() > 0.6, sel


def test_render_draws_inside_boxes(renders) -> None:
    lay = layout_page("landing", "desktop")
    img = renders[("landing", "desktop")].astype(int)
    # the product shot has detail (chrome, chart bars) inside its box
    e = lay.element("img.product-shot")
    assert img[e.y:e.y + e.h, e.x:e.x + e.w].std() > 30
    # the hero background is brand-coloured (blue channel dominant) around the CTA
    cta = lay.element("#hero-cta")
    px = img[cta.y - 8, cta.x + cta.w // 2]
    assert px[2] > px[0] and px[2] > px[1]
    # the form is drawn as it first loads: the email error's place is blank (the replay shows it)
    s = layout_page("signup", "desktop")
    simg = renders[("signup", "desktop")].astype(int)
    er = s.element("#email-error")
    patch = simg[er.y:er.y + er.h, er.x:er.x + er.w].reshape(-1, 3)
    assert ((patch[:, 0] - patch[:, 1]) > 80).sum() == 0


def test_render_scale_halves_shape() -> None:
    for page, device in (("landing", "mobile"), ("signup", "desktop")):
        lay = layout_page(page, device)
        half = render_page(lay, scale=0.5)
        assert half.shape == (round(lay.height * 0.5), round(lay.width * 0.5), 3)
        assert half.dtype == np.uint8 and half.std() > 10


def test_render_is_deterministic() -> None:
    lay = layout_page("signup", "mobile")
    assert np.array_equal(render_page(lay), render_page(lay))


def test_render_foreign_layout_falls_back_to_wireframe() -> None:
    lay = layout_page("signup", "mobile")
    els = lay.elements[:3]
    fake = PageLayout(lay.page, lay.url, lay.title, lay.device, lay.width, 500, els)
    img = render_page(fake)
    assert img.shape == (500, lay.width, 3)

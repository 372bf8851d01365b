// Records REAL rrweb sessions of the small site in ./site with headless Chromium,
// plus the ground truth of every scripted action (expected.json) and full-page
// screenshots of every page state at every width (screenshots/PAGE_WxH.png).
//
//   cd tests/data/rrweb_real && npm ci && node record.mjs            # everything
//   node record.mjs session_landing_1280x800 screenshots               # only these
//
// Needs Debian's chromium (/usr/bin/chromium, or set CHROMIUM=/path). Uses only
// playwright-core (no Playwright browser download). The rrweb 2 recorder is read
// from node_modules and injected with addInitScript into every page; every emitted
// event is shipped to Node through exposeBinding (survives navigations, so one
// file = one continuous session). The page is driven with real input through CDP
// (mouse, keyboard, touchscreen.tap, Input.dispatchTouchEvent swipes).
// Only loopback traffic: the site is served by this script on 127.0.0.1 and
// Chromium maps the made-up host name onto it.

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SITE = path.join(HERE, 'site');
const NM = path.join(HERE, 'node_modules');
const HOST = 'www.hindsight.test';
const BASE = `http://${HOST}`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ONLY = process.argv.slice(2);
const MAX_FILE_BYTES = 1024 * 1024;
const SHOT_MAX_HEIGHT = 4000; // full-page screenshots are cut at this height (CSS px)

// ---------------------------------------------------------------- utilities
let seed = 20261207;
function rand() { // mulberry32: deterministic jitter so runs look alike
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (a, b) => a + (b - a) * rand();
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.round(ms)));
const pause = (a, b = a) => sleep(between(a, b));

const MIME = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript', '.svg': 'image/svg+xml' };
function startServer() {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    let p = decodeURIComponent(u.pathname);
    if (p === '/') p = '/landing.html';
    if (p === '/app' || p.startsWith('/app/')) p = '/app.html'; // SPA: one document for every route
    const file = path.normalize(path.join(SITE, p));
    if (!file.startsWith(SITE + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return;
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const RRWEB_VERSION = JSON.parse(fs.readFileSync(path.join(NM, 'rrweb/package.json'), 'utf8')).version;
const PW_VERSION = JSON.parse(fs.readFileSync(path.join(NM, 'playwright-core/package.json'), 'utf8')).version;
const RRWEB_SRC = `(function(){\n${fs.readFileSync(path.join(NM, 'rrweb/dist/rrweb.umd.min.cjs'), 'utf8')}\n}).call(window);`;

// ------------------------------------------------------------ page-side code
// Runs in the page (serialised with toString) before any page script.
function boot(opts) {
  if (window.top !== window || window.__hsBooted || location.protocol !== 'http:') return;
  window.__hsBooted = true;
  var record = window.rrweb.record;
  var queue = [];
  function flush() {
    while (queue.length && typeof window[queue[0][0]] === 'function') { var q = queue.shift(); window[q[0]](q[1]); }
    if (queue.length) setTimeout(flush, 10);
  }
  function ship(name, obj) { queue.push([name, JSON.stringify(obj)]); flush(); }
  function truth(obj) { obj.t = obj.t || Date.now(); obj.href = location.href; obj.title = document.title; ship('__hsTruth', obj); }

  // ---- element description (ground truth) ----
  function cssEsc(s) { return String(s).replace(/"/g, '\\"'); }
  function structuralPath(el) { // body > main:nth-of-type(1) > ... (tags and nth-of-type only)
    var parts = [];
    while (el && el.nodeType === 1 && el !== document.documentElement) {
      var n = 1, sib = el;
      while ((sib = sib.previousElementSibling)) if (sib.tagName === el.tagName) n++;
      parts.unshift(el === document.body ? 'body' : el.tagName.toLowerCase() + ':nth-of-type(' + n + ')');
      el = el.parentElement;
    }
    return parts.join(' > ');
  }
  function stableKey(el) { // id, data-testid, name, aria-label, then the structural path
    if (el.id) return { kind: 'id', selector: '#' + el.id };
    var v;
    if ((v = el.getAttribute('data-testid'))) return { kind: 'data-testid', selector: '[data-testid="' + cssEsc(v) + '"]' };
    if ((v = el.getAttribute('name'))) return { kind: 'name', selector: el.tagName.toLowerCase() + '[name="' + cssEsc(v) + '"]' };
    if ((v = el.getAttribute('aria-label'))) return { kind: 'aria-label', selector: '[aria-label="' + cssEsc(v) + '"]' };
    return { kind: 'structural', selector: structuralPath(el) };
  }
  function rectOf(el) { var r = el.getBoundingClientRect(); return { x: r.left, y: r.top, width: r.width, height: r.height }; }
  function positioned(el) { // nearest self-or-ancestor with position fixed/sticky
    for (var e = el; e && e.nodeType === 1; e = e.parentElement) {
      var pos = getComputedStyle(e).position;
      if (pos === 'fixed' || pos === 'sticky') return { position: pos, key: stableKey(e).selector, is_target: e === el, rect_viewport: rectOf(e) };
    }
    return null;
  }
  function describe(el, cx, cy) {
    var r = rectOf(el), sx = window.scrollX, sy = window.scrollY;
    var d = {
      node_id: record.mirror.getId(el),
      tag: el.tagName.toLowerCase(),
      key: stableKey(el),
      id: el.id || null,
      data_testid: el.getAttribute('data-testid'),
      name: el.getAttribute('name'),
      aria_label: el.getAttribute('aria-label'),
      structural_path: structuralPath(el),
      text: (el.innerText || el.value || el.alt || '').trim().slice(0, 60),
      rect_viewport: r,
      rect_page: { x: r.x + sx, y: r.y + sy, width: r.width, height: r.height },
      scroll: { x: sx, y: sy },
      viewport: { width: window.innerWidth, height: window.innerHeight },
      document_size: { width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight },
      fixed_or_sticky: positioned(el),
    };
    if (cx != null) {
      d.client = { x: cx, y: cy };
      d.offset_fraction = { x: r.width ? (cx - r.x) / r.width : null, y: r.height ? (cy - r.y) / r.height : null };
      var fp = document.elementFromPoint(cx, cy);
      d.element_from_point = fp ? stableKey(fp).selector : null;
    }
    return d;
  }
  window.__hsDescribe = function (sel) { var el = document.querySelector(sel); return el ? describe(el) : null; };
  document.addEventListener('click', function (e) {
    var d = describe(e.target, e.clientX, e.clientY);
    d.kind = 'click'; d.t = Date.now(); d.detail = e.detail; d.pointer_type = e.pointerType || null; d.is_trusted = e.isTrusted;
    truth(d);
  }, true);
  document.addEventListener('touchstart', function (e) {
    var p = e.touches[0]; truth({ kind: 'touchstart', x: p.clientX, y: p.clientY, scroll: { x: window.scrollX, y: window.scrollY } });
  }, { capture: true, passive: true });

  // ---- URL / title changes (SPA pushState, hash routes) ----
  var lastHref = location.href, lastTitle = document.title;
  function checkRoute(how) {
    if (location.href === lastHref && document.title === lastTitle) return;
    truth({ kind: 'route', how: how, previous_href: lastHref, previous_title: lastTitle });
    lastHref = location.href; lastTitle = document.title;
  }
  var origPush = history.pushState;
  history.pushState = function () {
    var r = origPush.apply(this, arguments);
    if (opts.posthog && window.__hsRecording) record.addCustomEvent('$pageview', { href: location.href });
    setTimeout(function () { checkRoute('pushState'); }, 0); // after the app set the title
    return r;
  };
  window.addEventListener('popstate', function () {
    if (opts.posthog && window.__hsRecording) record.addCustomEvent('$pageview', { href: location.href });
    setTimeout(function () { checkRoute('popstate'); }, 0);
  });
  window.addEventListener('hashchange', function () { setTimeout(function () { checkRoute('hashchange'); }, 0); });

  // ---- visibility of watched elements (modal, menu, error, ...) ----
  var vis = {};
  function checkVisible() {
    (opts.watch || []).forEach(function (sel) {
      var el = document.querySelector(sel);
      var v = !!(el && el.checkVisibility());
      if (vis[sel] === v) return;
      var first = !(sel in vis);
      vis[sel] = v;
      if (first && !v) return;
      truth({ kind: v ? 'visible' : 'hidden', selector: sel, rect_viewport: el && v ? rectOf(el) : null, scroll: { x: window.scrollX, y: window.scrollY } });
    });
  }

  function start() {
    var cfg = {
      emit: function (event) { ship('__hsEmit', event); },
      // rrweb defaults otherwise: blockClass rr-block, ignoreClass rr-ignore,
      // maskTextClass rr-mask, maskAllInputs false (password inputs masked).
      // mouse moves sampled every 50 ms, scroll every 150 ms; every keystroke's
      // Input event is kept (rrweb's default), as form analytics need them.
      sampling: { mousemove: 50, scroll: 150 },
    };
    if (opts.maskTextSelector) cfg.maskTextSelector = opts.maskTextSelector;
    if (opts.maskAllInputs) cfg.maskAllInputs = true;
    record(cfg);
    window.__hsRecording = true;
    if (opts.posthog) record.addCustomEvent('$pageview', { href: location.href });
    truth({ kind: 'load', viewport: { width: window.innerWidth, height: window.innerHeight } });
    lastHref = location.href; lastTitle = document.title;
    checkVisible();
    new MutationObserver(function () { checkVisible(); checkRoute('mutation'); })
      .observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  }
  if (document.readyState === 'complete') start(); else window.addEventListener('load', start);
}

// -------------------------------------------------------------- the driver
class Driver {
  constructor(page, rec, { touch = false } = {}) {
    this.page = page; this.rec = rec; this.touch = touch;
    this.mx = 0; this.my = 0; this.cdp = null;
  }
  vp() { return this.page.viewportSize(); }
  async now() { return this.page.evaluate(() => Date.now()); }
  async state() {
    return this.page.evaluate(() => ({ t: Date.now(), href: location.href, title: document.title, scroll: { x: window.scrollX, y: window.scrollY }, viewport: { width: window.innerWidth, height: window.innerHeight } }));
  }
  act(a) { this.rec.actions.push(a); return a; }
  fullSnapshots() { return this.rec.events.filter((e) => e.type === 2).length; }
  async waitForSnapshot(before, timeout = 10000) {
    const t0 = Date.now();
    while (this.fullSnapshots() <= before) {
      if (Date.now() - t0 > timeout) throw new Error('no FullSnapshot after navigation');
      await sleep(50);
    }
  }
  async goto(url) {
    const before = this.fullSnapshots();
    await this.page.goto(url, { waitUntil: 'load' });
    await this.waitForSnapshot(before);
    this.act({ action: 'goto', url, ...(await this.state()) });
  }
  async moveTo(x, y, steps = 16) { // slight arc through a jittered midpoint
    const mx = (this.mx + x) / 2 + between(-40, 40), my = (this.my + y) / 2 + between(-30, 30);
    await this.page.mouse.move(mx, my, { steps: Math.ceil(steps / 2) });
    await this.page.mouse.move(x, y, { steps: Math.ceil(steps / 2) });
    this.mx = x; this.my = y;
  }
  async box(sel) {
    const b = await this.page.locator(sel).first().boundingBox();
    if (!b) throw new Error('no box for ' + sel);
    return b;
  }
  async wheel(dy, ticks = 6) {
    const s0 = await this.state();
    const per = dy / ticks;
    for (let i = 0; i < ticks; i++) { await this.page.mouse.wheel(0, per); await pause(60, 130); }
    await pause(300, 400);
    const s1 = await this.state();
    this.act({ action: 'wheel', delta_y: dy, t: s0.t, t_end: s1.t, scroll_before: s0.scroll, scroll: s1.scroll, viewport: s1.viewport, href: s1.href });
  }
  async swipe(dy, { x = 200, y0 = 600 } = {}) { // finger swipe: touchStart/Move/End via CDP
    if (!this.cdp) this.cdp = await this.page.context().newCDPSession(this.page);
    const s0 = await this.state();
    const y1 = y0 - dy, steps = 12;
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y: y0 }] });
    for (let i = 1; i <= steps; i++) {
      await sleep(16);
      await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: x + i * 0.5, y: y0 + ((y1 - y0) * i) / steps }] });
    }
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await pause(500, 700);
    const s1 = await this.state();
    this.act({ action: 'swipe', finger_dy: dy, from: { x, y: y0 }, to: { x: x + steps * 0.5, y: y1 }, t: s0.t, t_end: s1.t, scroll_before: s0.scroll, scroll: s1.scroll, viewport: s1.viewport, href: s1.href });
  }
  async ensureVisible(sel) { // scroll (wheel or swipe) until the element is clear of the sticky header
    for (let i = 0; i < 12; i++) {
      const b = await this.box(sel), vh = this.vp().height;
      if (b.y >= 80 && b.y + b.height <= vh - 20) return b;
      const dy = b.y + b.height / 2 - vh / 2;
      const before = await this.page.evaluate(() => window.scrollY);
      if (this.touch) await this.swipe(Math.max(-420, Math.min(420, dy)));
      else await this.wheel(dy, Math.max(2, Math.min(8, Math.round(Math.abs(dy) / 120))));
      if ((await this.page.evaluate(() => window.scrollY)) === before) break; // cannot scroll further
    }
    return this.box(sel);
  }
  // Click (mouse) or tap (touch) at a known fraction of the element's box.
  async click(sel, { fx = between(0.3, 0.7), fy = between(0.35, 0.65), hover = [150, 400], scroll = true, clickCount = 1, fast = false, note } = {}) {
    const b = scroll ? await this.ensureVisible(sel) : await this.box(sel);
    const x = b.x + b.width * fx, y = b.y + b.height * fy;
    const n0 = this.rec.truth.filter((t) => t.kind === 'click').length;
    if (this.touch) {
      await pause(...hover);
      await this.page.touchscreen.tap(x, y); this.mx = x; this.my = y;
    } else {
      if (fast) await this.page.mouse.move(x, y, { steps: 2 }); else { await this.moveTo(x, y); await pause(...hover); }
      this.mx = x; this.my = y;
      await this.page.mouse.down({ clickCount });
      await pause(50, fast ? 70 : 110);
      await this.page.mouse.up({ clickCount });
    }
    // wait for the page-side click record (the browser's own view of the click)
    let rec = null;
    for (let i = 0; i < 100 && !rec; i++) {
      const cs = this.rec.truth.filter((t) => t.kind === 'click');
      if (cs.length > n0) rec = cs[n0]; else await sleep(10);
    }
    const a = { action: this.touch ? 'tap' : 'click', requested_selector: sel, requested_fraction: { x: fx, y: fy }, requested_client: { x, y } };
    if (note) a.note = note;
    if (rec) { const { kind, ...r } = rec; Object.assign(a, r); } else a.no_click_event = true;
    return this.act(a);
  }
  async clickAndNavigate(sel, urlPart, opts = {}) {
    const before = this.fullSnapshots();
    let a;
    await Promise.all([this.page.waitForURL((u) => u.href.includes(urlPart), { waitUntil: 'load' }), (async () => { a = await this.click(sel, opts); })()]);
    await this.waitForSnapshot(before);
    a.navigated_to = this.page.url();
    return a;
  }
  async type(text, [a, b] = [70, 150]) {
    const s0 = await this.state();
    for (const ch of text) {
      await this.page.keyboard.type(ch);
      await pause(a, b);
      if (ch === ' ' && rand() < 0.5) await pause(150, 300);
    }
    const f = await this.page.evaluate(() => { const e = document.activeElement; return { key: e && e.id ? '#' + e.id : e && e.name ? `${e.tagName.toLowerCase()}[name="${e.name}"]` : null, value: e ? e.value : null }; });
    this.act({ action: 'type', text, target: f.key, value_after: f.value, t: s0.t, t_end: await this.now() });
  }
  async press(key) {
    const t = await this.now();
    await this.page.keyboard.press(key);
    this.act({ action: 'key', key, t });
    await pause(120, 250);
  }
  async still(ms, note) { // no input at all for ms
    const s0 = await this.state();
    await sleep(ms);
    const t_end = await this.now();
    this.act({ action: 'still', duration_ms: t_end - s0.t, t: s0.t, t_end, note, scroll: s0.scroll, href: s0.href });
  }
  // Choose an option of a <select> the way a user does: click it, then keys.
  async chooseOption(sel, value) {
    await this.click(sel);
    await pause(300, 500);
    const idx = await this.page.evaluate(([s, v]) => { const el = document.querySelector(s); return [el.selectedIndex, [...el.options].findIndex((o) => o.value === v)]; }, [sel, value]);
    for (let i = idx[0]; i < idx[1]; i++) { await this.page.keyboard.press('ArrowDown'); await pause(150, 250); }
    await this.page.keyboard.press('Enter');
    await pause(200, 300);
    let got = await this.page.evaluate((s) => document.querySelector(s).value, sel);
    let how = 'click + ArrowDown + Enter';
    if (got !== value) { await this.page.selectOption(sel, value); got = value; how = 'page.selectOption (fallback)'; }
    const d = await this.page.evaluate((s) => { const el = document.querySelector(s); return { t: Date.now(), selected_index: el.selectedIndex, value: el.value, text: el.options[el.selectedIndex].text, default_index: [...el.options].findIndex((o) => o.defaultSelected) }; }, sel);
    this.act({ action: 'select', target: sel, how, ...d });
  }
  async mark(what, extra = {}) { this.act({ action: 'mark', what, ...(await this.state()), ...extra }); }
}

// -------------------------------------------------------------- sessions
const UA_MOBILE = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const desktop = (width, height) => ({ viewport: { width, height }, deviceScaleFactor: 1 });
const MOBILE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, userAgent: UA_MOBILE };
const WIDTHS = [['1280x800', desktop(1280, 800)], ['1440x900', desktop(1440, 900)], ['1920x1080', desktop(1920, 1080)], ['390x844', MOBILE]];

const LANDING_WATCH = ['#trial-panel', '#demo-panel', '#chat-panel', '#newsletter-note'];
async function landing(d, { rage }) {
  await d.goto(`${BASE}/landing.html`);
  await pause(800, 1100);
  if (!d.touch) { await d.moveTo(d.vp().width * 0.35, 300, 20); await pause(400, 700); }
  await d.click('#cta-start', { fx: 0.3, fy: 0.5 });                       // key: id
  await pause(700, 1000);
  await d.click('[data-testid="watch-demo"]', { fx: 0.7, fy: 0.4 });       // key: data-testid
  await pause(700, 1000);
  if (rage) { // >= 4 fast clicks on an image that does nothing
    const b = await d.ensureVisible('#hero-shot');
    await d.moveTo(b.x + b.width * 0.45, b.y + b.height * 0.4, 14); await pause(300, 400);
    for (let i = 1; i <= 5; i++) {
      await d.click('#hero-shot', { fx: 0.45 + between(-0.01, 0.01), fy: 0.4 + between(-0.01, 0.01), scroll: false, fast: true, clickCount: i, note: `rage burst click ${i}/5` });
      if (i < 5) await pause(110, 160);
    }
    await pause(1000, 1300);
  }
  await d.click('[aria-label="Next testimonial"]', { fx: 0.5, fy: 0.5 }); // key: aria-label
  await pause(600, 900);
  await d.click('.plans .plan:nth-of-type(2) button', { fx: 0.6, fy: 0.5 }); // no id etc.: structural path
  await pause(600, 900);
  await d.click('input[name="newsletter-email"]', { fx: 0.25, fy: 0.5 });  // key: name
  await pause(200, 400);
  await d.type('pat@example.com');
  await pause(300, 500);
  await d.click('button[name="subscribe"]', { fx: 0.5, fy: 0.5 });         // key: name
  await pause(600, 900);
  // far down the page, then the fixed chat button and the sticky header
  if (d.touch) { await d.swipe(420, { x: 200, y0: 700 }); await d.swipe(420, { x: 210, y0: 700 }); }
  else { await d.wheel(1200, 8); }
  await pause(600, 900);
  await d.click('#chat-button', { fx: 0.4, fy: 0.5, scroll: false });      // position: fixed
  await pause(900, 1200);
  await d.click('[aria-label="Close chat"]', { fx: 0.5, fy: 0.5, scroll: false }); // inside the fixed panel
  await pause(600, 900);
  await d.mark('scrolled far before the sticky header click');
  await d.click('#nav-pricing', { fx: 0.5, fy: 0.5, scroll: false });      // inside the sticky header, page scrolled far
  await pause(1200, 1500);
  if (!d.touch) { await d.moveTo(d.vp().width * 0.5, 400, 12); }
  await pause(600, 800);
}

const PRODUCT_WATCH = ['#product-view', '#checkout-view', '#order-done'];
const APP_WATCH = ['#compare-modal', '#account-menu', '#email-error', '#save-success'];
async function spa(d) {
  const touch = d.touch;
  await d.goto(`${BASE}/app/`);
  await pause(800, 1100);
  if (touch) {
    await d.swipe(380, { x: 200, y0: 650 }); await pause(500, 800);
    await d.swipe(380, { x: 205, y0: 650 }); await pause(600, 900);
    await d.swipe(-700, { x: 195, y0: 100 }); await pause(500, 700);
  } else {
    await d.moveTo(500, 300, 18); await pause(400, 600);
    await d.wheel(500, 5); await pause(600, 900); await d.wheel(-500, 5); await pause(400, 600);
  }
  await d.click('#nav-plans', { fx: 0.5, fy: 0.5, scroll: false });                  // route /app/plans
  await pause(900, 1200);
  await d.click('#compare-plans', { fx: 0.5, fy: 0.5 });                               // modal opens
  await pause(1800, 2200);
  await d.click('#modal-close', { fx: 0.5, fy: 0.5, scroll: false });                  // modal closes
  await pause(700, 1000);
  if (touch) { await d.still(9000, 'no input at all for ~9 s (phone held still, reading)'); }
  await d.click('#account-menu-button', { fx: 0.5, fy: 0.5, scroll: false });         // dropdown opens
  await pause(900, 1200);
  await d.click('#menu-settings', { fx: 0.4, fy: 0.5, scroll: false });               // route /app/account
  await pause(900, 1200);
  await d.click('#full-name', { fx: 0.3, fy: 0.5 });
  await d.type('Jane Doe');
  await pause(300, 500);
  await d.click('#email', { fx: 0.3, fy: 0.5 });
  await d.type('jane.doe@example');                                                     // invalid: no TLD
  await pause(400, 600);
  if (touch) { // submit with the bad email, read the error, then a last swipe
    await pause(300, 400); await d.click('#save', { fx: 0.5, fy: 0.5 });
    await pause(2500, 3000); await d.swipe(200, { x: 200, y0: 600 }); await pause(800, 1000);
    return;
  }
  await d.chooseOption('#plan', 'business');                                            // select: non-default option
  await pause(300, 500);
  await d.click('#billing-yearly', { fx: 0.5, fy: 0.5 });                               // radio
  await pause(300, 500);
  await d.click('#terms', { fx: 0.5, fy: 0.5 });                                        // checkbox
  await pause(400, 600);
  await d.click('#save', { fx: 0.5, fy: 0.5 });                                         // error shows
  await d.still(4000, 'reads the inline error');
  await d.click('#email', { fx: 0.8, fy: 0.5 });
  await d.press('End');
  await d.type('.com');
  await pause(400, 600);
  await d.click('#save', { fx: 0.5, fy: 0.5 });                                         // success
  await pause(1200, 1500);
  await d.click('#nav-home', { fx: 0.5, fy: 0.5, scroll: false });                      // route /app/
  await pause(800, 1000);
  await d.moveTo(520, 420, 16); await pause(600, 800);                                  // stays a moment on Home
  await d.wheel(300, 3); await pause(800, 1000);
}

const STATES_WATCH = ['#changes-modal', '#name-error', '#save-success', '#tip'];
async function statesPage(d) {
  await d.goto(`${BASE}/states.html`);
  await pause(800, 1000);
  for (let k = 0; k < 2; k++) {                                                          // the same modal twice
    await d.click('#open-modal', { fx: 0.5, fy: 0.5 });
    await pause(1200, 1500);
    await d.click('#modal-close', { fx: 0.5, fy: 0.5, scroll: false });
    await pause(800, 1000);
  }
  await d.click('#newsletter', { fx: 0.5, fy: 0.5 });                                    // a focused checkbox
  await pause(400, 600);
  await d.click('#save', { fx: 0.5, fy: 0.5 });                                          // error summary (describedby)
  await d.still(2500, 'reads the error summary at the top of the form');
  await d.click('#full-name', { fx: 0.3, fy: 0.5 });
  await d.type('Jane Doe');
  await pause(400, 600);
  await d.click('#save', { fx: 0.5, fy: 0.5 });                                          // saved
  await pause(1000, 1200);
  for (let k = 0; k < 11; k++) {                                                         // 11 different tips
    await d.click('#tip-button', { fx: 0.5, fy: 0.5, hover: [100, 200] });
    await pause(500, 700);
  }
}

const PRIVACY_WATCH = [];
async function privacy(d) {
  await d.goto(`${BASE}/privacy.html`);
  await pause(800, 1000);
  await d.moveTo(400, 250, 16); await pause(400, 600);
  await d.click('#reveal', { fx: 0.5, fy: 0.5 });            // rr-mask text changes (mutation)
  await pause(600, 800);
  await d.click('#blocked-button', { fx: 0.5, fy: 0.5 });    // inside rr-block: rrweb records no click
  await pause(600, 800);
  await d.click('#ignored-input', { fx: 0.3, fy: 0.5 });     // rr-ignore: rrweb records no input
  await d.type('SECRET-CHARLIE-2024');
  await pause(300, 500);
  await d.click('#normal-input', { fx: 0.3, fy: 0.5 });
  await d.type('Globex PUBLIC-INPUT-OK');
  await pause(300, 500);
  await d.click('#privacy-title', { fx: 0.2, fy: 0.5 }); // click on plain text: the field loses focus
  await pause(800, 1000);
}
const SECRETS = ['SECRET-ALPHA-4711', 'SECRET-BRAVO-0815', 'SECRET-CHARLIE-2024', 'SECRET-DELTA-9001', 'SECRET-ECHO-3141', 'SECRET-FOXTROT-2718', 'PUBLIC-TEXT-OK', 'PUBLIC-INPUT-OK'];

const SESSIONS = {};
for (const [wh, ctx] of WIDTHS) {
  const mobile = wh === '390x844';
  SESSIONS[`session_landing_${wh}`] = {
    issue: 11, ctx, touch: mobile, watch: LANDING_WATCH,
    about: `landing.html at ${wh}${mobile ? ' (isMobile, hasTouch, taps and swipes)' : ''}: clicks on keys id/data-testid/aria-label/structural/name, fixed chat button, sticky-header click after scrolling far${wh === '1280x800' ? ', rage burst (5 fast clicks) on #hero-shot' : ''}`,
    run: (d) => landing(d, { rage: wh === '1280x800' }),
  };
}
SESSIONS.session_product_1280x800 = {
  issue: 11, ctx: desktop(1280, 800), watch: PRODUCT_WATCH,
  about: 'product.html?id=1&utm_source=newsletter, then product.html?id=2 (same template), then hash route #/checkout and order',
  async run(d) {
    await d.goto(`${BASE}/product.html?id=1&utm_source=newsletter`);
    await pause(800, 1000);
    await d.click('[data-testid="thumb-2"]', { fx: 0.5, fy: 0.5 });
    await pause(600, 800);
    await d.click('[data-testid="seats-5"]', { fx: 0.5, fy: 0.5 });
    await pause(600, 800);
    await d.clickAndNavigate('#related-link', 'id=2', { fx: 0.4, fy: 0.5 });
    await pause(900, 1200);
    await d.click('[data-testid="thumb-3"]', { fx: 0.5, fy: 0.5 });
    await pause(600, 800);
    await d.click('#add-to-cart', { fx: 0.5, fy: 0.5 });       // location.hash = '#/checkout'
    await pause(1000, 1300);
    await d.click('#place-order', { fx: 0.5, fy: 0.5 });
    await pause(1000, 1300);
  },
};
SESSIONS.session_product_1440x900 = {
  issue: 11, ctx: desktop(1440, 900), watch: PRODUCT_WATCH,
  about: 'product.html?id=2 landed directly, cart link in the sticky header to #/checkout, order',
  async run(d) {
    await d.goto(`${BASE}/product.html?id=2`);
    await pause(800, 1000);
    await d.click('[data-testid="seats-20"]', { fx: 0.5, fy: 0.5 });
    await pause(600, 800);
    await d.wheel(300, 3); await pause(400, 600);
    await d.click('#nav-cart', { fx: 0.5, fy: 0.5, scroll: false }); // href="#/checkout"
    await pause(1000, 1300);
    await d.click('#place-order', { fx: 0.5, fy: 0.5 });
    await pause(1000, 1300);
  },
};
SESSIONS.session_spa_posthog_1280x800 = {
  issue: 12, ctx: desktop(1280, 800), watch: APP_WATCH, posthog: true,
  about: 'SPA /app/ with pushState routes, posthog-like $pageview custom events {href}; modal, dropdown, select, radio, checkbox, inline role=alert + is-invalid error fixed after ~4 s',
  run: spa,
};
SESSIONS.session_spa_plain_1280x800 = {
  issue: 12, ctx: desktop(1280, 800), watch: APP_WATCH, posthog: false,
  about: 'the same SPA script without any custom events (routes visible only as title + DOM swap)',
  run: spa,
};
SESSIONS.session_spa_touch_390x844 = {
  issue: 12, ctx: MOBILE, touch: true, watch: APP_WATCH, posthog: false,
  about: 'the SPA on a phone: swipes, taps on routes/modal/menu, ~9 s with no input, typing, submit with the bad email',
  run: spa,
};
SESSIONS.session_states_1280x800 = {
  issue: 12, ctx: desktop(1280, 800), watch: STATES_WATCH,
  about: 'page states: a modal opened twice, an error summary named by aria-describedby, success, 11 tip texts (more than 8 states); a rr-mask select, a checkbox, .vault .note text',
  run: statesPage,
};
SESSIONS.session_spa_maskinputs_1280x800 = {
  issue: 12, ctx: desktop(1280, 800), watch: APP_WATCH, posthog: false, maskAllInputs: true,
  about: 'the SPA script recorded with maskAllInputs: rrweb masks the select value and typed text, not the option texts',
  run: spa,
};
SESSIONS.session_privacy_default_1280x800 = {
  issue: 12, ctx: desktop(1280, 800), watch: PRIVACY_WATCH,
  about: 'privacy.html, rrweb default privacy classes (rr-mask, rr-block, rr-ignore)',
  run: privacy,
};
SESSIONS.session_privacy_masktext_1280x800 = {
  issue: 12, ctx: desktop(1280, 800), watch: PRIVACY_WATCH, maskTextSelector: '.private-note',
  about: 'privacy.html, default classes plus maskTextSelector ".private-note"',
  run: privacy,
};

async function recordSession(browser, name, spec) {
  const rec = { events: [], truth: [], actions: [], pageErrors: [] };
  const ctx = await browser.newContext({ ...spec.ctx });
  await ctx.exposeBinding('__hsEmit', (_s, s) => { rec.events.push(JSON.parse(s)); });
  await ctx.exposeBinding('__hsTruth', (_s, s) => { rec.truth.push(JSON.parse(s)); });
  const opts = { watch: spec.watch, posthog: !!spec.posthog, maskTextSelector: spec.maskTextSelector || null,
    maskAllInputs: !!spec.maskAllInputs };
  await ctx.addInitScript({ content: `${RRWEB_SRC}\n;(${boot.toString()})(${JSON.stringify(opts)});` });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => rec.pageErrors.push(e.message));
  const d = new Driver(page, rec, { touch: !!spec.touch });
  await spec.run(d);
  await sleep(700); // last mousemove batch (500 ms) and bindings flush
  await ctx.close();
  return rec;
}

// ------------------------------------------------------------ screenshots
// Every page state at every width: PAGE_WxH.png (full page, cut at SHOT_MAX_HEIGHT).
const STATES = [
  ['landing', '/landing.html', null],
  ['product', '/product.html?id=1', null],
  ['product-checkout', '/product.html?id=1#/checkout', null],
  ['app-home', '/app/', null],
  ['app-plans', '/app/plans', null],
  ['app-plans-modal', '/app/plans', async (p) => { await p.evaluate(() => document.querySelector('#compare-plans').click()); }],
  ['app-menu', '/app/', async (p) => { await p.evaluate(() => document.querySelector('#account-menu-button').click()); }],
  ['app-account', '/app/account', null],
  ['app-account-error', '/app/account', async (p) => { await p.fill('#email', 'jane.doe@example'); await p.click('#save'); }],
  ['app-account-success', '/app/account', async (p) => { await p.fill('#email', 'jane.doe@example.com'); await p.selectOption('#plan', 'business'); await p.check('#billing-yearly'); await p.check('#terms'); await p.click('#save'); }],
  ['privacy', '/privacy.html', null],
];
async function screenshots(browser) {
  const dir = path.join(HERE, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const out = {};
  for (const [wh, opts] of WIDTHS) {
    const ctx = await browser.newContext({ ...opts });
    const page = await ctx.newPage();
    for (const [name, url, prep] of STATES) {
      await page.goto(`${BASE}${url}`, { waitUntil: 'load' });
      if (prep) await prep(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      await sleep(200);
      const h = await page.evaluate(() => document.documentElement.scrollHeight);
      const w = opts.viewport.width;
      const file = `${name}_${wh}.png`;
      await page.screenshot({ path: path.join(dir, file), fullPage: true, clip: { x: 0, y: 0, width: w, height: Math.min(h, SHOT_MAX_HEIGHT) } });
      out[file] = { state: name, url: `${BASE}${url}`, viewport: opts.viewport, document_height: h, image_height: Math.min(h, SHOT_MAX_HEIGHT), touch: !!opts.hasTouch };
    }
    await ctx.close();
  }
  // Lossless recompression (Debian package optipng), when it is installed.
  try {
    execFileSync('optipng', ['-quiet', '-o2', ...Object.keys(out).map((f) => path.join(dir, f))]);
  } catch (e) { console.warn('optipng not run (apt-get install optipng for smaller PNGs):', e.message); }
  return out;
}

// --------------------------------------------------- facts for the tests
function facts(name, spec, rec, bytes) {
  const ev = rec.events, t0 = ev[0].timestamp;
  const off = (t) => t - t0;
  const out = {
    file: `${name}.json`, issue: spec.issue, about: spec.about, bytes,
    context: { viewport: spec.ctx.viewport, is_mobile: !!spec.ctx.isMobile, has_touch: !!spec.ctx.hasTouch, device_scale_factor: spec.ctx.deviceScaleFactor },
    recorder: { rrweb: RRWEB_VERSION, sampling: { mousemove: 50, scroll: 150 }, mask_text_selector: spec.maskTextSelector || null, mask_all_inputs: !!spec.maskAllInputs, posthog_pageview_events: !!spec.posthog },
    first_timestamp: t0, event_count: ev.length, duration_ms: off(ev[ev.length - 1].timestamp),
    counts_by_type: {}, incremental_by_source: {}, mouse_interactions_by_type: {},
    metas: [], custom_events: [], rrweb_clicks: [],
  };
  for (const e of ev) {
    out.counts_by_type[e.type] = (out.counts_by_type[e.type] || 0) + 1;
    if (e.type === 4) out.metas.push({ offset_ms: off(e.timestamp), timestamp: e.timestamp, href: e.data.href, width: e.data.width, height: e.data.height });
    if (e.type === 5) out.custom_events.push({ offset_ms: off(e.timestamp), timestamp: e.timestamp, tag: e.data.tag, payload: e.data.payload });
    if (e.type !== 3) continue;
    const s = e.data.source;
    out.incremental_by_source[s] = (out.incremental_by_source[s] || 0) + 1;
    if (s === 2) {
      out.mouse_interactions_by_type[e.data.type] = (out.mouse_interactions_by_type[e.data.type] || 0) + 1;
      if (e.data.type === 2) out.rrweb_clicks.push({ offset_ms: off(e.timestamp), timestamp: e.timestamp, node_id: e.data.id, x: e.data.x, y: e.data.y, pointer_type: e.data.pointerType ?? null });
    }
  }
  // Pair every scripted click/tap with the rrweb Click (same node id, within 200 ms).
  const used = new Set();
  for (const a of rec.actions) {
    if (a.t != null) a.offset_ms = off(a.t);
    if (a.t_end != null) a.offset_end_ms = off(a.t_end);
    if (a.action !== 'click' && a.action !== 'tap') continue;
    const i = out.rrweb_clicks.findIndex((c, k) => !used.has(k) && c.node_id === a.node_id && Math.abs(c.timestamp - a.t) <= 200);
    if (i >= 0) { used.add(i); a.rrweb_click_index = i; a.rrweb_xy = { x: out.rrweb_clicks[i].x, y: out.rrweb_clicks[i].y }; }
    else a.rrweb_click_index = null; // e.g. clicks inside rr-block are not recorded by rrweb
  }
  // rrweb Clicks that no scripted click/tap caused (Chromium fires a click on a
  // <select> when an option is chosen in its popup with Enter).
  out.rrweb_clicks.forEach((c, k) => { c.scripted = used.has(k); });
  out.actions = rec.actions;
  const ts = (k) => rec.truth.filter((t) => t.kind === k).map((t) => ({ ...t, offset_ms: off(t.t) }));
  out.page_loads = ts('load');
  out.route_changes = ts('route').map(({ kind, ...r }) => r);
  out.visibility = rec.truth.filter((t) => t.kind === 'visible' || t.kind === 'hidden').map((t) => ({ offset_ms: off(t.t), t: t.t, selector: t.selector, visible: t.kind === 'visible', rect_viewport: t.rect_viewport, scroll: t.scroll, href: t.href }));
  out.click_count = out.rrweb_clicks.length;
  out.page_errors = rec.pageErrors;
  return out;
}

function validate(name, ev, bytes) {
  const problems = [];
  if (ev[0].type !== 4) problems.push('first event is not Meta');
  const firstFull = ev.findIndex((e) => e.type === 2);
  if (firstFull < 0 || ev.slice(0, firstFull).some((e) => ![0, 1, 4].includes(e.type))) problems.push('Meta is not followed by a FullSnapshot');
  for (let i = 1; i < ev.length; i++) if (ev[i].timestamp < ev[i - 1].timestamp) problems.push(`timestamp goes back at ${i}`);
  if (bytes > MAX_FILE_BYTES) problems.push(`file is ${bytes} bytes (> 1 MB)`);
  if (problems.length) { console.error(`[${name}] INVALID:\n  ` + problems.join('\n  ')); process.exitCode = 1; }
  return problems;
}

// -------------------------------------------------------------------- main
const server = await startServer();
const port = server.address().port;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic', `--host-resolver-rules=MAP ${HOST} 127.0.0.1:${port}`],
});
try {
  const expectedPath = path.join(HERE, 'expected.json');
  const expected = fs.existsSync(expectedPath) ? JSON.parse(fs.readFileSync(expectedPath, 'utf8')) : { files: {} };
  Object.assign(expected, {
    generated_by: 'record.mjs', host: BASE, browser: browser.version(), rrweb: RRWEB_VERSION, playwright_core: PW_VERSION,
    notes: [
      'Times: t / timestamp are ms since the epoch from the page (Date.now(), the clock rrweb uses); offset_ms is from the first event of the file.',
      'actions[] is every scripted action in order. For click/tap the fields come from a capture-phase click listener in the page at the moment of the click: key (stable key: id, data-testid, name, aria-label, else structural path), structural_path, node_id (rrweb mirror id, restarts at each FullSnapshot), rect_viewport (getBoundingClientRect), rect_page (rect + scroll), scroll, viewport, document_size, client (clientX/Y), offset_fraction (click offset inside the box, 0..1), fixed_or_sticky (nearest self-or-ancestor with computed position fixed/sticky, else null), element_from_point.',
      'rrweb_click_index / rrweb_xy pair the action with the rrweb MouseInteraction Click (same node id within 200 ms); null when rrweb recorded no click (inside rr-block).',
      'route_changes[]: URL/title after each pushState, popstate or hashchange (how), with previous_href/previous_title. visibility[]: when a watched element became visible or hidden (checkVisibility, evaluated on every DOM mutation).',
    ],
  });
  for (const [name, spec] of Object.entries(SESSIONS)) {
    if (ONLY.length && !ONLY.includes(name)) continue;
    process.stdout.write(`recording ${name} ... `);
    const rec = await recordSession(browser, name, spec);
    const file = path.join(HERE, `${name}.json`);
    const text = JSON.stringify(rec.events);
    fs.writeFileSync(file, text);
    const bytes = Buffer.byteLength(text);
    const f = facts(name, spec, rec, bytes);
    if (name.startsWith('session_privacy')) {
      f.strings_in_json = Object.fromEntries(SECRETS.map((s) => [s, text.includes(s)]));
    }
    f.valid = validate(name, rec.events, bytes).length === 0;
    expected.files[`${name}.json`] = f;
    const miss = f.actions.filter((a) => (a.action === 'click' || a.action === 'tap') && a.rrweb_click_index == null).length;
    console.log(`${rec.events.length} events, ${(bytes / 1024).toFixed(0)} KB, ${f.duration_ms} ms, ${f.click_count} rrweb clicks, ${miss} scripted clicks without an rrweb click, ${rec.pageErrors.length} page errors`);
  }
  if (!ONLY.length || ONLY.includes('screenshots')) expected.screenshots = await screenshots(browser);
  fs.writeFileSync(expectedPath, JSON.stringify(expected, null, 1) + '\n');
} finally {
  await browser.close();
  server.close();
}

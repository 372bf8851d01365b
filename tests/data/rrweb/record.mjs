// Records REAL rrweb sessions of the tiny site in ./site with headless Chromium.
//
//   cd tests/data/rrweb && npm ci && node record.mjs
//
// Needs Debian's chromium (/usr/bin/chromium, or set CHROMIUM=/path). Uses only
// playwright-core (no Playwright browser download). The rrweb recorder is read
// from node_modules (rrweb 2.x UMD bundle, and rrweb 1.x via the "rrweb1" npm
// alias) and injected with addInitScript into every page, so recording survives
// navigations; every emitted event is shipped to Node through exposeBinding.
// The page is driven with real mouse, keyboard and touch input (CDP Input.*).
//
// Writes: session_*.json, posthog_export_v2.json, expected.json, screenshots/*.png
// Then run `node summarize.mjs` for the table in README.md.

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SITE = path.join(HERE, 'site');
const NM = path.join(HERE, 'node_modules');
// Pages are served by a local node http server on 127.0.0.1 (random port);
// Chromium maps this made-up host name onto it so hrefs in the fixtures are
// stable across runs (no port number in them).
const HOST = 'shop.hindsight.test';
const BASE = `http://${HOST}`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ONLY = process.argv.slice(2); // optional: names of sessions to record

// ---------------------------------------------------------------- utilities
let seed = 20240611;
function rand() { // mulberry32: deterministic jitter so runs look alike
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (a, b) => a + (b - a) * rand();
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.round(ms)));
const pause = (a, b = a) => sleep(between(a, b));

function uuidv4() { return crypto.randomUUID(); }
function uuidv7(ms) { // PostHog session ids are UUIDv7
  const b = crypto.randomBytes(16);
  const t = BigInt(ms);
  for (let i = 0; i < 6; i++) b[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const MIME = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript', '.png': 'image/png', '.svg': 'image/svg+xml' };
function startServer() {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    let p = decodeURIComponent(u.pathname);
    if (p === '/') p = '/index.html';
    const file = path.normalize(path.join(SITE, p));
    if (!file.startsWith(SITE + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return;
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ------------------------------------------------------------ page-side code
const RECORDERS = {
  2: {
    version: JSON.parse(fs.readFileSync(path.join(NM, 'rrweb/package.json'), 'utf8')).version,
    plugin: JSON.parse(fs.readFileSync(path.join(NM, '@rrweb/rrweb-plugin-console-record/package.json'), 'utf8')).version,
    // UMD bundles: `this` must be window.
    src: () => [
      `(function(){\n${fs.readFileSync(path.join(NM, 'rrweb/dist/rrweb.umd.min.cjs'), 'utf8')}\n}).call(window);`,
      `(function(){\n${fs.readFileSync(path.join(NM, '@rrweb/rrweb-plugin-console-record/dist/rrweb-plugin-console-record.umd.min.cjs'), 'utf8')}\n}).call(window);`,
    ].join('\n'),
  },
  1: {
    version: JSON.parse(fs.readFileSync(path.join(NM, 'rrweb1/package.json'), 'utf8')).version,
    plugin: JSON.parse(fs.readFileSync(path.join(NM, 'rrweb1/package.json'), 'utf8')).version,
    // IIFE bundles declaring a top-level var.
    src: () => [
      `(function(){\n${fs.readFileSync(path.join(NM, 'rrweb1/dist/record/rrweb-record.min.js'), 'utf8')}\nwindow.rrwebRecord = rrwebRecord;\n})();`,
      `(function(){\n${fs.readFileSync(path.join(NM, 'rrweb1/dist/plugins/console-record.min.js'), 'utf8')}\nwindow.rrwebConsoleRecord = rrwebConsoleRecord;\n})();`,
    ].join('\n'),
  },
};

// Runs in the page (serialised with toString) before any page script.
function boot(opts) {
  if (window.top !== window || window.__hsBooted || location.protocol !== 'http:') return; // not about:blank
  window.__hsBooted = true;
  var record = opts.major === 1 ? window.rrwebRecord : window.rrweb.record;
  var plugin = opts.major === 1 ? window.rrwebConsoleRecord : window.rrwebPluginConsoleRecord;
  // Events go to Node through bindings; queue (in order) until they exist.
  var queue = [];
  function flush() {
    while (queue.length && typeof window[queue[0][0]] === 'function') { var q = queue.shift(); window[q[0]](q[1]); }
    if (queue.length) setTimeout(flush, 10);
  }
  function ship(name, obj) { queue.push([name, JSON.stringify(obj)]); flush(); }
  // Start like an analytics snippet that loads async: once the page has
  // loaded, so every page's recording opens with Meta + FullSnapshot.
  function start() {
    record({
      emit: function (event) { ship('__hsEmit', event); },
      maskAllInputs: false,
      // rrweb masks password fields unless told otherwise; the Hindsight tests
      // need the raw typed values in the JSON to prove the importer masks them.
      maskInputOptions: { password: false },
      sampling: { mousemove: 50 },
      plugins: [plugin.getRecordConsolePlugin({ level: ['info', 'log', 'warn', 'error'] })],
    });
  }
  if (document.readyState === 'complete') start(); else window.addEventListener('load', start);
  window.addEventListener('error', function (e) {
    try { record.addCustomEvent('error', { message: e.message, filename: e.filename, lineno: e.lineno, colno: e.colno }); } catch (_) {}
  });
  // Ground truth for expected.json: what element each click really hit.
  function selectorOf(el) {
    if (!el || el.nodeType !== 1) return null;
    if (el.id) return '#' + el.id;
    var parts = [];
    while (el && el.nodeType === 1 && el !== document.documentElement) {
      if (el.id) { parts.unshift('#' + el.id); break; }
      var part = el.tagName.toLowerCase();
      if (el.classList.length) part += '.' + Array.prototype.join.call(el.classList, '.');
      var sib = el, n = 1;
      while ((sib = sib.previousElementSibling)) if (sib.tagName === el.tagName) n++;
      if (n > 1 || (el.nextElementSibling && el.parentNode.querySelectorAll(':scope > ' + el.tagName).length > 1)) part += ':nth-of-type(' + n + ')';
      parts.unshift(part);
      el = el.parentElement;
    }
    return parts.join(' > ');
  }
  document.addEventListener('click', function (e) {
    var t = e.target, r = t.getBoundingClientRect();
    ship('__hsClick', {
      timestamp: Date.now(),
      href: location.href,
      node_id: record.mirror.getId(t),
      selector: selectorOf(t),
      element_id: t.id || null,
      tag: t.tagName.toLowerCase(),
      client_x: e.clientX, client_y: e.clientY,
      scroll_x: window.scrollX, scroll_y: window.scrollY,
      detail: e.detail,
      pointer_type: e.pointerType || null,
      is_trusted: e.isTrusted,
      bbox_viewport: { x: r.left, y: r.top, width: r.width, height: r.height },
      bbox_page: { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height },
      from_point: selectorOf(document.elementFromPoint(e.clientX, e.clientY)),
    });
  }, true);
}

// -------------------------------------------------------------- the driver
class Driver {
  constructor(page, events, { touch = false } = {}) {
    this.page = page; this.events = events; this.touch = touch;
    this.mx = 0; this.my = 0; this.cdp = null;
  }
  vp() { return this.page.viewportSize(); }
  fullSnapshots() { return this.events.filter((e) => e.type === 2).length; }
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
  }
  // human-ish mouse path: a slight arc through a jittered midpoint
  async moveTo(x, y, steps = 18) {
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
  async wheel(dy, ticks = 6) { // mouse wheel in notches, like a real wheel
    const per = dy / ticks;
    for (let i = 0; i < ticks; i++) { await this.page.mouse.wheel(0, per); await pause(60, 140); }
    await pause(250, 400);
  }
  async swipe(dy, { x = 200, y0 = 600 } = {}) { // finger swipe: touchStart/Move/End
    if (!this.cdp) this.cdp = await this.page.context().newCDPSession(this.page);
    const y1 = y0 - dy, steps = 12;
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y: y0 }] });
    for (let i = 1; i <= steps; i++) {
      await sleep(16);
      await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: x + i * 0.5, y: y0 + ((y1 - y0) * i) / steps }] });
    }
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await pause(500, 800);
  }
  async scrollDelta() { return this.page.evaluate(() => window.scrollY); }
  // Scroll (wheel or swipe) until the element is comfortably inside the viewport.
  async ensureVisible(sel) {
    for (let i = 0; i < 12; i++) {
      const b = await this.box(sel), vh = this.vp().height;
      if (b.y >= 60 && b.y + b.height <= vh - 40) return b;
      const dy = b.y + b.height / 2 - vh / 2;
      if (this.touch) await this.swipe(Math.max(-400, Math.min(400, dy)));
      else await this.wheel(dy, Math.max(2, Math.min(8, Math.round(Math.abs(dy) / 100))));
    }
    return this.box(sel);
  }
  point(b) { return [b.x + b.width * between(0.35, 0.65), b.y + b.height * between(0.35, 0.65)]; }
  async click(sel, { clickCount = 1, hover = [150, 450] } = {}) {
    const b = await this.ensureVisible(sel);
    const [x, y] = this.point(b);
    if (this.touch) { await pause(...hover); await this.page.touchscreen.tap(x, y); this.mx = x; this.my = y; return; }
    await this.moveTo(x, y);
    await pause(...hover);
    await this.page.mouse.down({ clickCount });
    await pause(60, 120);
    await this.page.mouse.up({ clickCount });
  }
  async clickAndNavigate(sel, urlPart) {
    const before = this.fullSnapshots();
    await Promise.all([this.page.waitForURL((u) => u.href.includes(urlPart), { waitUntil: 'load' }), this.click(sel)]);
    await this.waitForSnapshot(before);
  }
  async type(text, [a, b] = [70, 160]) {
    for (const ch of text) {
      await this.page.keyboard.type(ch);
      await pause(a, b);
      if (ch === ' ' && rand() < 0.5) await pause(150, 350);
    }
  }
  async press(key) { await this.page.keyboard.press(key); await pause(120, 300); }
}

// -------------------------------------------------------------- sessions
const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };
const MOBILE = {
  viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
};

const SESSIONS = {
  session_signup_rrweb2: {
    major: 2, ctx: DESKTOP,
    async run(d) {
      await d.goto(`${BASE}/index.html`);
      await pause(900, 1200);
      // look around the hero and header
      await d.moveTo(420, 260, 24); await pause(600, 900);
      await d.moveTo(1000, 32, 20); await pause(400, 700);
      await d.moveTo(640, 420, 20); await pause(500, 800);
      // scroll down through the page, then back up
      await d.wheel(500, 5); await pause(800, 1200);
      await d.wheel(700, 7); await pause(1000, 1500);
      await d.moveTo(700, 500, 12); await pause(300, 500);
      await d.wheel(-1200, 10); await pause(800, 1100);
      // rage click: 4 quick clicks on the product image (not a link)
      const b = await d.ensureVisible('.product-shot');
      const x = b.x + b.width * 0.48, y = b.y + b.height * 0.42;
      await d.moveTo(x, y, 16); await pause(300, 450);
      for (let i = 1; i <= 4; i++) {
        await d.page.mouse.move(x + between(-3, 3), y + between(-3, 3));
        await d.page.mouse.down({ clickCount: i }); await pause(50, 80);
        await d.page.mouse.up({ clickCount: i });
        if (i < 4) await pause(170, 230);
      }
      await pause(1200, 1600);
      await d.clickAndNavigate('#cta-get-started', 'signup.html');
      await pause(900, 1300);
      // fill the form with a typo in the email
      await d.click('#name'); await pause(300, 500);
      await d.type('Jane Doe');
      await pause(300, 500); await d.press('Tab');
      await d.type('jane.doe@example');
      await pause(300, 500); await d.press('Tab');
      await d.type('+1 555 0100');
      await pause(600, 900);
      await d.click('#signup-submit');
      await pause(1800, 2400); // reads the inline error
      // fix the email
      const eb = await d.box('#email');
      await d.moveTo(eb.x + eb.width * 0.6, eb.y + eb.height / 2); await pause(200, 400);
      await d.page.mouse.down(); await pause(60, 100); await d.page.mouse.up();
      await pause(300, 500); await d.press('End');
      await d.type('.com');
      await pause(500, 800);
      await d.click('#password'); await pause(200, 400);
      await d.type('hunter2-secret', [90, 180]);
      await pause(300, 500);
      await d.press('Tab'); // focus the plan select
      await d.press('ArrowDown'); // Starter -> Team (changes value of a closed <select>)
      await pause(500, 800);
      await d.click('#terms'); await pause(500, 900);
      await d.clickAndNavigate('#signup-submit', 'done=1'); // thank-you, then index.html?done=1
      await pause(1500, 2000);
      await d.moveTo(600, 300, 14); await pause(800, 1000);
    },
  },
  session_abandon_rrweb2: {
    major: 2, ctx: DESKTOP,
    async run(d) {
      await d.goto(`${BASE}/index.html`);
      await pause(1000, 1400);
      await d.moveTo(300, 300, 20); await pause(500, 800);
      await d.wheel(600, 6); await pause(1200, 1600);
      await d.wheel(400, 4); await pause(1000, 1400);
      await d.wheel(-1000, 8); await pause(600, 900);
      await d.clickAndNavigate('#cta-get-started', 'signup.html');
      await pause(1000, 1400);
      await d.click('#name'); await pause(300, 500);
      await d.type('Sam Rivera');
      await pause(400, 600);
      await d.click('#email'); await pause(300, 500);
      await d.type('sam.rivera@example.org');
      await pause(500, 800);
      await d.click('#phone');
      // hesitate ~4 s: hand on the mouse, tiny drifts, no typing
      await pause(1500, 1500); await d.page.mouse.move(d.mx + 6, d.my + 3, { steps: 3 });
      await pause(2500, 2500);
      // leave without submitting: mouse heads for the tab bar, recording ends
      await d.moveTo(900, 2, 14); await pause(300, 300);
    },
  },
  session_mobile_rrweb2: {
    major: 2, ctx: MOBILE, touch: true,
    async run(d) {
      await d.goto(`${BASE}/index.html`);
      await pause(1200, 1500);
      await d.swipe(350, { x: 200, y0: 650 }); await pause(700, 1000);
      await d.swipe(400, { x: 210, y0: 680 }); await pause(900, 1200);
      await d.swipe(-380, { x: 190, y0: 250 }); await pause(500, 800);
      await d.page.mouse.wheel(0, -600); await pause(800, 1000); // back to the top
      await d.clickAndNavigate('#cta-get-started', 'signup.html');
      await pause(1000, 1300);
      await d.click('#name'); await pause(400, 600);
      await d.type('Alex Kim', [110, 220]);
      await pause(500, 800);
      await d.click('#email'); await pause(400, 600);
      await d.type('alex.kim@example.net', [110, 220]);
      await pause(1500, 2000);
      // leaves without submitting
    },
  },
  session_error_rrweb1: {
    major: 1, ctx: DESKTOP,
    async run(d) {
      await d.goto(`${BASE}/signup.html`);
      await pause(1000, 1400);
      await d.moveTo(640, 300, 20); await pause(500, 800);
      await d.click('#broken'); // throws 'Checkout service unavailable'
      await pause(1200, 1600);
      await d.click('#broken', { hover: [80, 150] }); await pause(500, 700);
      await d.click('#broken', { hover: [80, 150] }); await pause(1200, 1500);
      await d.click('#promo-label'); // looks like a link, does nothing
      await pause(2000, 2500);
    },
  },
};

async function recordSession(browser, name, spec) {
  const events = [], clicks = [], pageErrors = [];
  const ctx = await browser.newContext({ ...spec.ctx });
  await ctx.exposeBinding('__hsEmit', (_src, s) => { events.push(JSON.parse(s)); });
  await ctx.exposeBinding('__hsClick', (_src, s) => { clicks.push(JSON.parse(s)); });
  const rec = RECORDERS[spec.major];
  await ctx.addInitScript({ content: `${rec.src()}\n;(${boot.toString()})(${JSON.stringify({ major: spec.major })});` });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const d = new Driver(page, events, { touch: !!spec.touch });
  await spec.run(d);
  await sleep(700); // let the last mousemove batch (500 ms) and bindings flush
  await ctx.close();
  return { events, clicks, pageErrors, rrweb: rec.version, plugin: rec.plugin };
}

async function screenshots(browser) {
  const dir = path.join(HERE, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  for (const [w, opts] of [[1280, DESKTOP], [390, MOBILE]]) {
    const ctx = await browser.newContext({ ...opts });
    const page = await ctx.newPage();
    for (const p of ['index', 'signup']) {
      await page.goto(`${BASE}/${p}.html`, { waitUntil: 'load' });
      await sleep(300);
      await page.screenshot({ path: path.join(dir, `${p}_${w}.png`), fullPage: true });
    }
    await ctx.close();
  }
}

// --------------------------------------------------- facts for the tests
function indexSnapshot(node, map = new Map(), parent = null) {
  map.set(node.id, { tag: node.tagName || null, attrs: node.attributes || {}, parent });
  for (const c of node.childNodes || []) indexSnapshot(c, map, node.id);
  return map;
}
function nodeLabel(map, id) {
  const n = map && map.get(id);
  if (!n) return null;
  if (n.attrs.id) return '#' + n.attrs.id;
  return n.tag;
}

function facts(name, r) {
  const ev = r.events, t0 = ev[0].timestamp;
  const out = {
    file: `${name}.json`, rrweb_version: r.rrweb, console_plugin_version: r.plugin,
    event_count: ev.length, duration_ms: ev[ev.length - 1].timestamp - t0,
    counts_by_type: {}, incremental_by_source: {}, mouse_interactions_by_type: {},
    metas: [], full_snapshots: 0, clicks: [], click_count: 0, dblclick_count: 0,
    touch_start_count: 0, touch_end_count: 0, touch_move_count: 0, scroll_count: 0,
    input_count: 0, inputs_final: [], custom_events: [], plugin_events: [], page_errors: r.pageErrors,
  };
  let map = null, page = -1;
  const finals = new Map();
  let ci = 0;
  for (const e of ev) {
    out.counts_by_type[e.type] = (out.counts_by_type[e.type] || 0) + 1;
    if (e.type === 4) { page++; out.metas.push({ offset_ms: e.timestamp - t0, href: e.data.href, width: e.data.width, height: e.data.height }); }
    if (e.type === 2) { out.full_snapshots++; map = indexSnapshot(e.data.node); }
    if (e.type === 5) out.custom_events.push({ offset_ms: e.timestamp - t0, tag: e.data.tag, payload: e.data.payload });
    if (e.type === 6) out.plugin_events.push({ offset_ms: e.timestamp - t0, plugin: e.data.plugin, level: e.data.payload.level, payload: e.data.payload.payload });
    if (e.type !== 3) continue;
    const s = e.data.source;
    out.incremental_by_source[s] = (out.incremental_by_source[s] || 0) + 1;
    if (s === 3) out.scroll_count++;
    if (s === 6) out.touch_move_count++;
    if (s === 5) {
      out.input_count++;
      const label = nodeLabel(map, e.data.id);
      finals.set(`${page}|${e.data.id}`, { page_index: page, node_id: e.data.id, selector: label, text: e.data.text, isChecked: e.data.isChecked });
    }
    if (s === 2) {
      const ty = e.data.type;
      out.mouse_interactions_by_type[ty] = (out.mouse_interactions_by_type[ty] || 0) + 1;
      if (ty === 4) out.dblclick_count++;
      if (ty === 7) out.touch_start_count++;
      if (ty === 9) out.touch_end_count++;
      if (ty === 2) {
        out.click_count++;
        const c = r.clicks[ci++];
        const ok = c && c.node_id === e.data.id;
        if (!ok) console.warn(`[${name}] click #${ci} ground truth mismatch`, e.data, c);
        out.clicks.push({
          offset_ms: e.timestamp - t0, timestamp: e.timestamp, page_index: page,
          x: e.data.x, y: e.data.y, node_id: e.data.id, pointer_type: e.data.pointerType ?? null,
          selector: c ? c.selector : nodeLabel(map, e.data.id), element_id: c ? c.element_id : null, tag: c ? c.tag : null,
          element_from_point: c ? c.from_point : null, detail: c ? c.detail : null,
          scroll_x: c ? c.scroll_x : null, scroll_y: c ? c.scroll_y : null,
          bbox_page: c ? c.bbox_page : null, bbox_viewport: c ? c.bbox_viewport : null,
        });
      }
    }
  }
  out.inputs_final = [...finals.values()];
  out.meta_count = out.metas.length;
  out.custom_event_count = out.custom_events.length;
  out.plugin_event_count = out.plugin_events.length;
  return out;
}

function validate(name, ev, typed) {
  const problems = [];
  if (ev[0].type !== 4) problems.push('first event is not Meta');
  const firstFull = ev.findIndex((e) => e.type === 2);
  if (firstFull < 0 || ev.slice(0, firstFull).some((e) => ![0, 1, 4].includes(e.type))) problems.push('Meta is not followed by a FullSnapshot');
  for (let i = 1; i < ev.length; i++) if (ev[i].timestamp < ev[i - 1].timestamp) problems.push(`timestamp goes back at ${i}`);
  for (let i = 0; i < ev.length; i++) if (ev[i].type === 4 && !ev.slice(i + 1).some((e) => e.type === 2)) problems.push(`Meta ${i} has no FullSnapshot after it`);
  const inputs = ev.filter((e) => e.type === 3 && e.data.source === 5).map((e) => e.data.text);
  for (const s of typed) if (!inputs.includes(s)) problems.push(`typed value not in an Input event: ${s}`);
  if (problems.length) { console.error(`[${name}] INVALID:\n  ` + problems.join('\n  ')); process.exitCode = 1; }
  return problems;
}

const TYPED = {
  session_signup_rrweb2: ['Jane Doe', 'jane.doe@example', '+1 555 0100', 'jane.doe@example.com', 'hunter2-secret', 'team'],
  session_abandon_rrweb2: ['Sam Rivera', 'sam.rivera@example.org'],
  session_mobile_rrweb2: ['Alex Kim', 'alex.kim@example.net'],
  session_error_rrweb1: [],
};

// -------------------------------------------------------------------- main
const server = await startServer();
const port = server.address().port;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--host-resolver-rules=MAP ${HOST} 127.0.0.1:${port}`],
});
try {
  const expectedPath = path.join(HERE, 'expected.json');
  const expected = fs.existsSync(expectedPath) ? JSON.parse(fs.readFileSync(expectedPath, 'utf8')) : { files: {} };
  expected.generated_by = 'record.mjs';
  expected.host = BASE;
  expected.notes = [
    'x/y of clicks are rrweb MouseInteraction coordinates = viewport (client) CSS px; bbox_page = getBoundingClientRect + scroll at click time; bbox_viewport = getBoundingClientRect.',
    'node ids restart at every FullSnapshot (each page load); page_index counts Meta events from 0.',
    'error custom events come from window "error" via record.addCustomEvent; plugin events are the rrweb console plugin (rrweb/console@1).',
  ];
  expected.browser = browser.version();
  for (const [name, spec] of Object.entries(SESSIONS)) {
    if (ONLY.length && !ONLY.includes(name)) continue;
    process.stdout.write(`recording ${name} (rrweb ${RECORDERS[spec.major].version}) ... `);
    const r = await recordSession(browser, name, spec);
    const file = path.join(HERE, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(r.events));
    const f = facts(name, r);
    f.typed_values = TYPED[name];
    f.valid = validate(name, r.events, TYPED[name]).length === 0;
    expected.files[`${name}.json`] = f;
    console.log(`${r.events.length} events, ${(fs.statSync(file).size / 1024).toFixed(0)} KB, ${f.duration_ms} ms`);
    if (name === 'session_signup_rrweb2') {
      const windowId = uuidv4();
      const id = uuidv7(r.events[0].timestamp);
      const ph = { version: '2023-04-28', data: { id, person: null, snapshots: r.events.map((e) => ({ windowId, ...e })) } };
      fs.writeFileSync(path.join(HERE, 'posthog_export_v2.json'), JSON.stringify(ph));
      expected.files['posthog_export_v2.json'] = {
        file: 'posthog_export_v2.json', built_from: `${name}.json`, session_id: id, window_id: windowId,
        snapshot_count: r.events.length, note: 'wrapper built by record.mjs in PostHog export shape; events are the real rrweb events of the source file',
      };
    }
  }
  if (!ONLY.length || ONLY.includes('screenshots')) await screenshots(browser);
  fs.writeFileSync(expectedPath, JSON.stringify(expected, null, 1) + '\n');
} finally {
  await browser.close();
  server.close();
}

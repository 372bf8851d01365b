// Prints Markdown tables of event counts (by rrweb EventType, IncrementalSnapshot
// source and MouseInteraction type) and a short timeline per fixture file.
//   node summarize.mjs            -> counts tables + timelines
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FILES = ['session_signup_rrweb2.json', 'session_abandon_rrweb2.json', 'session_mobile_rrweb2.json', 'session_error_rrweb1.json', 'posthog_export_v2.json'];
const TYPES = { 0: 'DomContentLoaded', 1: 'Load', 2: 'FullSnapshot', 3: 'Incremental', 4: 'Meta', 5: 'Custom', 6: 'Plugin' };
const SOURCES = { 0: 'Mutation', 1: 'MouseMove', 2: 'MouseInteraction', 3: 'Scroll', 4: 'ViewportResize', 5: 'Input', 6: 'TouchMove' };
const MI = { 0: 'MouseUp', 1: 'MouseDown', 2: 'Click', 3: 'ContextMenu', 4: 'DblClick', 5: 'Focus', 6: 'Blur', 7: 'TouchStart', 9: 'TouchEnd' };

function load(f) {
  const j = JSON.parse(fs.readFileSync(path.join(HERE, f), 'utf8'));
  return Array.isArray(j) ? j : j.data.snapshots;
}
function count(events) {
  const c = { type: {}, source: {}, mi: {} };
  for (const e of events) {
    c.type[e.type] = (c.type[e.type] || 0) + 1;
    if (e.type === 3) {
      c.source[e.data.source] = (c.source[e.data.source] || 0) + 1;
      if (e.data.source === 2) c.mi[e.data.type] = (c.mi[e.data.type] || 0) + 1;
    }
  }
  return c;
}
function table(title, keys, names, get) {
  const head = ['file', 'total', ...keys.map((k) => `${k} ${names[k]}`)];
  const lines = [`**${title}**`, '', `| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const f of FILES) {
    if (!fs.existsSync(path.join(HERE, f))) continue;
    const ev = load(f), c = count(ev), row = get(c, ev);
    lines.push(`| ${f} | ${row.total} | ${keys.map((k) => row[k] || 0).join(' | ')} |`);
  }
  return lines.join('\n');
}

const out = [];
out.push(table('Events by type (EventType)', Object.keys(TYPES), TYPES, (c, ev) => ({ total: ev.length, ...c.type })));
out.push(table('IncrementalSnapshot (type 3) by data.source', Object.keys(SOURCES), SOURCES, (c) => ({ total: Object.values(c.source).reduce((a, b) => a + b, 0), ...c.source })));
out.push(table('MouseInteraction (source 2) by data.type', Object.keys(MI), MI, (c) => ({ total: Object.values(c.mi).reduce((a, b) => a + b, 0), ...c.mi })));

// timelines: Meta, clicks (with the element from expected.json), final inputs, custom/plugin
const expected = fs.existsSync(path.join(HERE, 'expected.json')) ? JSON.parse(fs.readFileSync(path.join(HERE, 'expected.json'), 'utf8')) : { files: {} };
for (const f of FILES.slice(0, 4)) {
  if (!fs.existsSync(path.join(HERE, f))) continue;
  const ev = load(f), t0 = ev[0].timestamp, x = expected.files[f] || {};
  const clicks = [...(x.clicks || [])];
  const lines = [`**${f}** (${((ev[ev.length - 1].timestamp - t0) / 1000).toFixed(1)} s)`, ''];
  let lastInput = null;
  const flushInput = () => { if (lastInput) { lines.push(`- ${(lastInput.t / 1000).toFixed(1)} s input node ${lastInput.id} = ${JSON.stringify(lastInput.text)}${lastInput.isChecked ? ' (checked)' : ''}`); lastInput = null; } };
  for (const e of ev) {
    const t = e.timestamp - t0;
    if (e.type === 3 && e.data.source === 5) { if (lastInput && lastInput.id !== e.data.id) flushInput(); lastInput = { t, id: e.data.id, text: e.data.text, isChecked: e.data.isChecked }; continue; }
    if (e.type === 4) { flushInput(); lines.push(`- ${(t / 1000).toFixed(1)} s Meta ${e.data.href} ${e.data.width}x${e.data.height}`); }
    if (e.type === 3 && e.data.source === 2 && e.data.type === 2) {
      flushInput();
      const c = clicks.shift();
      lines.push(`- ${(t / 1000).toFixed(1)} s click ${c ? c.selector : 'node ' + e.data.id} at (${e.data.x}, ${e.data.y})${e.data.pointerType === 2 ? ' [touch]' : ''}`);
    }
    if (e.type === 3 && e.data.source === 0 && e.data.adds.length) { flushInput(); lines.push(`- ${(t / 1000).toFixed(1)} s mutation: ${e.data.adds.length} node(s) added`); }
    if (e.type === 5) { flushInput(); lines.push(`- ${(t / 1000).toFixed(1)} s custom ${e.data.tag}: ${JSON.stringify(e.data.payload.message)}`); }
    if (e.type === 6) { flushInput(); lines.push(`- ${(t / 1000).toFixed(1)} s plugin ${e.data.plugin} ${e.data.payload.level}`); }
  }
  flushInput();
  lines.push(`- ${((ev[ev.length - 1].timestamp - t0) / 1000).toFixed(1)} s last event`);
  out.push(lines.join('\n'));
}
console.log(out.join('\n\n'));

// Prints the "Recordings at a glance" table and the per-recording timelines of
// README.md from expected.json:
//   node summarize.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const exp = JSON.parse(fs.readFileSync(path.join(HERE, 'expected.json'), 'utf8'));
const s = (ms) => (ms / 1000).toFixed(1) + ' s';
const short = (u) => (u || '').replace(exp.host, '');
console.log('| file | bytes | events | duration | Meta | FullSnapshot | Custom | Mutation | MouseMove | MouseInteraction | Scroll | Input | TouchMove | rrweb Clicks |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [n, f] of Object.entries(exp.files)) {
  const c = f.counts_by_type, q = f.incremental_by_source;
  console.log(`| ${n} | ${f.bytes} | ${f.event_count} | ${s(f.duration_ms)} | ${c[4] || 0} | ${c[2] || 0} | ${c[5] || 0} | ${q[0] || 0} | ${q[1] || 0} | ${q[2] || 0} | ${q[3] || 0} | ${q[5] || 0} | ${q[6] || 0} | ${f.click_count} |`);
}
console.log('');
for (const [name, f] of Object.entries(exp.files)) {
  console.log(`**${name}** (${s(f.duration_ms)}, ${f.event_count} events, ${(f.bytes / 1024).toFixed(0)} KB, ${f.context.viewport.width}x${f.context.viewport.height}${f.context.has_touch ? ' touch' : ''})\n`);
  const lines = [];
  for (const m of f.metas) lines.push([m.offset_ms, `Meta ${short(m.href)} ${m.width}x${m.height}`]);
  for (const a of f.actions) {
    if (a.action === 'click' || a.action === 'tap') {
      const fs_ = a.fixed_or_sticky ? ` [${a.fixed_or_sticky.position}${a.fixed_or_sticky.is_target ? '' : ' ancestor ' + a.fixed_or_sticky.key}]` : '';
      const rr = a.rrweb_click_index == null ? ' (no rrweb Click)' : '';
      lines.push([a.offset_ms, `${a.action} ${a.key.selector} (${a.key.kind}) at (${Math.round(a.client.x)}, ${Math.round(a.client.y)}), scrollY ${Math.round(a.scroll.y)}, offset ${a.offset_fraction.x.toFixed(2)}/${a.offset_fraction.y.toFixed(2)}${fs_}${a.note ? ' - ' + a.note : ''}${rr}`]);
    } else if (a.action === 'wheel' || a.action === 'swipe') lines.push([a.offset_ms, `${a.action} scrollY ${Math.round(a.scroll_before.y)} -> ${Math.round(a.scroll.y)}`]);
    else if (a.action === 'type') lines.push([a.offset_ms, `type "${a.text}" into ${a.target}`]);
    else if (a.action === 'select') lines.push([a.offset_ms, `select ${a.target} = ${a.value} (index ${a.selected_index}, default ${a.default_index})`]);
    else if (a.action === 'still') lines.push([a.offset_ms, `still ${s(a.duration_ms)} (no input)`]);
    else if (a.action === 'key') lines.push([a.offset_ms, `key ${a.key}`]);
  }
  for (const r of f.route_changes) lines.push([r.offset_ms, `route (${r.how}) -> ${short(r.href)} "${r.title}"`]);
  for (const v of f.visibility) lines.push([v.offset_ms, `${v.selector} ${v.visible ? 'visible' : 'hidden'}`]);
  for (const c of f.custom_events) lines.push([c.offset_ms, `custom ${c.tag} ${JSON.stringify(c.payload)}`]);
  lines.sort((a, b) => a[0] - b[0]);
  for (const [t, l] of lines) console.log(`- ${s(t)} ${l}`);
  if (f.strings_in_json) console.log(`- strings in the JSON: ${Object.entries(f.strings_in_json).map(([k, v]) => `${k} ${v ? 'present' : 'absent'}`).join(', ')}`);
  console.log('');
}

// Sessions of one app, newest first, with filters and paging.
import * as api from './api.js';
import { h, add, route, table } from './dom.js';
import * as fmt from './format.js';

export const PAGE = 50;
const VERDICTS = [['', 'any'], ['oom', 'suspected OOM'], ['pending', 'not judged yet'], ['clean_exit', 'clean exit'],
  ['crash', 'crash'], ['app_updated', 'app updated'], ['os_updated', 'OS updated'], ['rebooted', 'rebooted'],
  ['hang_kill', 'hang kill'], ['unknown', 'unknown']];

export function verdictBadge(v, grade) {
  const cls = fmt.isOom(v) ? 'bad' : v ? 'neutral' : 'pending';
  return h('span', { class: `badge ${cls}` }, fmt.verdictText(v), grade ? ` · ${grade}` : '');
}

function options(values, current, anyLabel) {
  const list = [...new Set(values)].sort(fmt.compareVersions);
  if (current && !list.includes(current)) list.push(current);
  return [h('option', { value: '' }, anyLabel), ...list.map((v) => h('option', { value: v, selected: v === current }, v))];
}

export async function sessions(ctx, app) {
  const q = ctx.query;
  const f = { version: q.get('version') || '', device: q.get('device') || '', os: q.get('os') || '', verdict: q.get('verdict') || '' };
  // keyset paging: the page starts after `cursor`; `newer` holds the cursors
  // of the pages before it, so that "newer" goes back without an offset
  const cursor = q.get('cursor') || '';
  const newer = (q.get('newer') || '').split(',').filter(Boolean);
  const list = await ctx.apps();
  const entry = list.find((a) => a.app_id === app);
  add(ctx.main, h('h1', null, h('span', { class: 'app-id' }, app), h('span', { class: 'sub' }, ' sessions')));
  if (!entry) return add(ctx.main, h('p', { class: 'muted' }, 'No reports from this app.'));
  const versions = entry.versions.map((v) => v.version);
  // device and OS choices: those seen in the chosen version, or in any
  const statsFor = f.version ? [f.version] : versions.slice(-10);
  const [page, ...groups] = await Promise.all([
    api.get('/v1/sessions', { app, ...f, limit: PAGE, cursor: cursor || null }),
    ...statsFor.map((v) => api.stats(app, v)),
  ]);
  if (ctx.stale()) return;
  const go = (change) => {
    const next = { ...f, ...change };
    delete next.page;
    const page = change.page || { cursor: null, newer: [] };
    location.hash = route(['apps', app, 'sessions'], { ...next, cursor: page.cursor || null, newer: page.newer.join(',') || null });
  };
  const sel = (name, label, opts) => h('label', null, `${label} `,
    h('select', { name, 'aria-label': label, onchange: (e) => go({ [name]: e.target.value }) }, opts));
  add(ctx.main, h('form', { class: 'toolbar filters', onsubmit: (e) => e.preventDefault() },
    sel('version', 'version', options(versions, f.version, 'any')),
    sel('device', 'device', options(groups.flatMap((s) => s.by_device.map((d) => d.device_model)), f.device, 'any')),
    sel('os', 'OS', options(groups.flatMap((s) => s.by_os.map((o) => o.os_version)), f.os, 'any')),
    sel('verdict', 'verdict', VERDICTS.map(([v, t]) => h('option', { value: v, selected: v === f.verdict }, t))),
    Object.values(f).some(Boolean) ? h('a', { href: route(['apps', app, 'sessions']), class: 'reset' }, 'clear filters') : null));

  const cols = [
    { label: 'started', cell: (s) => h('a', { href: route(['sessions', s.session_id]) }, fmt.dateTime(s.start_unix_ms)) },
    { label: 'version', cell: (s) => s.app_version },
    { label: 'device', cell: (s) => s.device_model },
    { label: 'OS', cell: (s) => `${s.os_name} ${s.os_version}` },
    { label: 'length', num: true, cell: (s) => fmt.duration(s.last_ms) },
    { label: 'samples', num: true, cell: (s) => fmt.count(s.samples) },
    { label: 'peak', num: true, cell: (s) => h('span', { class: 'value', dataset: { value: s.peak_bytes } }, fmt.bytes(s.peak_bytes)) },
    { label: 'of limit', num: true, cell: (s) => h('span', { class: s.peak_fraction >= 0.9 ? 'hot' : null }, fmt.percent(s.peak_fraction)) },
    { label: 'verdict', cell: (s) => verdictBadge(s.verdict, s.grade) },
  ];
  const rows = page.sessions;
  add(ctx.main, h('section', { class: 'panel' },
    table(cols, rows.map((s) => ({ item: s, data: { session: s.session_id } })), { cls: 'sessions', empty: 'No session matches these filters.' }),
    h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: !newer.length, onclick: () => go({ page: { cursor: newer[newer.length - 1] === '-' ? null : newer[newer.length - 1], newer: newer.slice(0, -1) } }) }, '← newer'),
      h('span', { class: 'muted', 'data-role': 'range' }, rows.length ? `sessions ${newer.length * PAGE + 1}–${newer.length * PAGE + rows.length}` : ''),
      h('button', { type: 'button', disabled: page.next_cursor == null, onclick: () => go({ page: { cursor: page.next_cursor, newer: [...newer, cursor || '-'] } }) }, 'older →'))));
}

// One version broken down by device model and by OS version.
import * as api from './api.js';
import { h, add, route, table } from './dom.js';
import * as fmt from './format.js';

function groupTable(app, version, groups, key, label, filter) {
  const worst = Math.max(1, ...groups.map((g) => g.peak_bytes.p90));
  const cols = [
    { label, cell: (g) => h('a', { href: route(['apps', app, 'sessions'], { version, [filter]: g[key] }) }, g[key]) },
    { label: 'sessions', num: true, cell: (g) => fmt.count(g.sessions) },
    { label: 'OOM-free', num: true, cell: (g) => fmt.percent(g.oom_free_rate, 2) },
    { label: 'suspected OOMs', num: true, cell: (g) => (g.oom_sessions ? h('span', { class: 'badge bad' }, String(g.oom_sessions)) : '0') },
    { label: 'low-conf. OOMs', num: true, title: 'OOM verdicts without memory evidence (grade low or none): not in the OOM-free rate',
      cell: (g) => h('span', { class: 'low-oom', dataset: { count: g.oom_low_confidence_sessions ?? 0 } }, fmt.count(g.oom_low_confidence_sessions ?? 0)) },
    { label: 'p50 peak', num: true, cell: (g) => h('span', { class: 'value', dataset: { value: g.peak_bytes.p50 } }, fmt.bytes(g.peak_bytes.p50)) },
    { label: 'p90 peak', num: true, cell: (g) => h('span', { class: 'value', dataset: { value: g.peak_bytes.p90 } }, fmt.bytes(g.peak_bytes.p90)) },
    { label: 'p99 peak', num: true, cell: (g) => h('span', { class: 'value', dataset: { value: g.peak_bytes.p99 } }, fmt.bytes(g.peak_bytes.p99)) },
    { label: 'p90 of limit', num: true, cell: (g) => fmt.percent(g.peak_fraction_of_limit.p90) },
    { label: '', cell: (g) => h('div', { class: 'bar', title: 'p90 peak' }, h('div', { style: { width: `${(100 * g.peak_bytes.p90) / worst}%` } })) },
  ];
  const sorted = [...groups].sort((a, b) => b.peak_bytes.p90 - a.peak_bytes.p90);
  return table(cols, sorted.map((g) => ({ item: g, data: { key: g[key] } })), { cls: `breakdown by-${filter}` });
}

export async function breakdown(ctx, app) {
  const list = await ctx.apps();
  const entry = list.find((a) => a.app_id === app);
  add(ctx.main, h('h1', null, h('span', { class: 'app-id' }, app), h('span', { class: 'sub' }, ' by device and OS')));
  if (!entry) return add(ctx.main, h('p', { class: 'muted' }, 'No reports from this app.'));
  const versions = entry.versions.map((v) => v.version);
  const version = versions.includes(ctx.query.get('version')) ? ctx.query.get('version') : versions[versions.length - 1];
  const select = h('select', {
    'aria-label': 'version',
    onchange: (e) => { location.hash = route(['apps', app, 'breakdown'], { version: e.target.value }); },
  }, [...versions].reverse().map((v) => h('option', { value: v, selected: v === version }, v)));
  add(ctx.main, h('div', { class: 'toolbar' }, h('label', null, 'version ', select)));
  const s = await api.stats(app, version);
  if (ctx.stale()) return;
  add(ctx.main,
    h('p', { class: 'hint' }, `${fmt.count(s.overall.sessions)} sessions of ${version}; p90 peak ${fmt.bytes(s.overall.peak_bytes.p90)} overall.`,
      ' Percentiles are within 1 % of exact.'),
    h('section', { class: 'panel' }, h('h2', null, 'By device model'), groupTable(app, version, s.by_device, 'device_model', 'device', 'device')),
    h('section', { class: 'panel' }, h('h2', null, 'By OS version'), groupTable(app, version, s.by_os, 'os_version', 'OS', 'os')));
}

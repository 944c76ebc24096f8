// Overview of one app: sessions, out-of-memory-free rate, and peak footprint
// percentiles per version with changes against the previous version.
import * as api from './api.js';
import * as charts from './charts.js';
import { h, add, route, table, card } from './dom.js';
import * as fmt from './format.js';

// A change larger than this against the previous version is flagged.
export const REGRESSION = 0.05; // +5 % peak footprint
export const RATE_DROP = 0.01; // −1 point of out-of-memory-free sessions
const MAX_VERSIONS = 30;

function delta(now, before, lowerIsBetter = true) {
  const c = fmt.change(now, before);
  if (!c) return null;
  const worse = lowerIsBetter ? c.ratio > REGRESSION : c.ratio < -REGRESSION;
  const better = lowerIsBetter ? c.ratio < -REGRESSION : c.ratio > REGRESSION;
  return { ...c, worse, better };
}

function valueCell(v, d) {
  return [h('span', { class: 'value', dataset: { value: v } }, fmt.bytes(v)),
    d ? h('span', { class: `delta ${d.worse ? 'worse' : d.better ? 'better' : ''}`, title: 'against the previous version' }, d.text) : null];
}

export async function overview(ctx, app) {
  const list = await ctx.apps();
  const entry = list.find((a) => a.app_id === app);
  add(ctx.main, h('h1', null, h('span', { class: 'app-id' }, app)));
  if (!entry) {
    add(ctx.main, h('p', { class: 'muted' }, 'No reports from this app.'));
    return;
  }
  const versions = entry.versions.slice(-MAX_VERSIONS);
  const stats = await Promise.all(versions.map((v) => api.stats(app, v.version)));
  if (ctx.stale()) return;
  const rows = versions.map((v, i) => ({ version: v.version, last: v.last_start_unix_ms, stats: stats[i] }));
  rows.forEach((r, i) => {
    const prev = rows[i - 1]?.stats.overall;
    const o = r.stats.overall;
    r.d = prev ? {
      p50: delta(o.peak_bytes.p50, prev.peak_bytes.p50),
      p90: delta(o.peak_bytes.p90, prev.peak_bytes.p90),
      p99: delta(o.peak_bytes.p99, prev.peak_bytes.p99),
      rate: o.oom_free_rate != null && prev.oom_free_rate != null
        ? { diff: o.oom_free_rate - prev.oom_free_rate, worse: o.oom_free_rate - prev.oom_free_rate < -RATE_DROP }
        : null,
    } : {};
    r.regressed = ['p50', 'p90', 'p99'].some((p) => r.d[p]?.worse) || r.d.rate?.worse;
  });

  const total = rows.reduce((s, r) => s + r.stats.overall.sessions, 0);
  const ooms = rows.reduce((s, r) => s + r.stats.overall.oom_sessions, 0);
  // OOM verdicts without memory evidence (grade low, or none): apart, never in the rate
  const weak = rows.reduce((s, r) => s + (r.stats.overall.oom_low_confidence_sessions ?? 0), 0);
  const noData = rows.reduce((s, r) => s + (r.stats.overall.sessions_without_data ?? 0), 0);
  const judged = rows.reduce((s, r) => s + r.stats.overall.judged_sessions, 0);
  const latest = rows[rows.length - 1];
  const regressions = rows.filter((r) => r.regressed).length;
  add(ctx.main, h('div', { class: 'cards' },
    card('sessions', fmt.count(total), `${rows.length} versions${entry.versions.length > rows.length ? ` (latest ${rows.length} shown)` : ''}${noData ? `; ${fmt.count(noData)} without data, left out of the peaks` : ''}`, { dataset: { kpi: 'sessions' } }),
    card('OOM-free sessions', fmt.percent(total ? (total - ooms) / total : null, 2), `${fmt.count(judged)} judged by a later launch; only OOM verdicts with memory evidence (medium or high) count`, { dataset: { kpi: 'oom-free' } }),
    card(`p90 peak, ${latest.version}`, fmt.bytes(latest.stats.overall.peak_bytes.p90),
      latest.d.p90 ? `${latest.d.p90.text} against ${rows[rows.length - 2].version}` : 'first version', { dataset: { kpi: 'latest-p90' } }),
    card('suspected OOMs', fmt.count(ooms), h('a', { href: route(['apps', app, 'oom']) }, 'see the trails'), { dataset: { kpi: 'ooms' } }),
    card('low-confidence OOMs', fmt.count(weak), `${fmt.percent(total ? weak / total : null, 2)} of sessions: deaths nothing else explained, without memory evidence (grade low or none); not in the OOM-free rate`, { dataset: { kpi: 'oom-low' } }),
    regressions ? card('regressions', String(regressions), 'versions worse than the one before', { class: 'card alert' }) : null));

  const chartBox = h('div', { id: 'versions-chart' });
  add(ctx.main, h('section', { class: 'panel' },
    h('h2', null, 'Peak footprint per version'),
    h('p', { class: 'hint' }, `Each session's highest footprint, including spikes the kernel saw between samples; nearest-rank percentiles over the sessions of each version. Changes over ${Math.round(REGRESSION * 100)} % against the previous version are flagged.`),
    chartBox));
  charts.versions(chartBox, rows); // after insertion: the chart takes its box's width

  const cols = [
    { label: 'version', cell: (r) => [h('a', { href: route(['apps', app, 'breakdown'], { version: r.version }) }, r.version),
      r.regressed ? h('span', { class: 'badge bad' }, 'regression') : null] },
    { label: 'sessions', num: true, cell: (r) => [h('a', { href: route(['apps', app, 'sessions'], { version: r.version }) }, fmt.count(r.stats.overall.sessions)),
      r.stats.overall.sessions_without_data ? h('span', { class: 'muted no-data', title: 'killed or stopped before their first sample: left out of the peak percentiles', dataset: { count: r.stats.overall.sessions_without_data } }, ` (${r.stats.overall.sessions_without_data} without data)`) : null] },
    { label: 'OOM-free', num: true, cell: (r) => [h('span', { class: 'value', dataset: { value: r.stats.overall.oom_free_rate } }, fmt.percent(r.stats.overall.oom_free_rate, 2)),
      r.d.rate && r.d.rate.diff ? h('span', { class: `delta ${r.d.rate.worse ? 'worse' : r.d.rate.diff > RATE_DROP ? 'better' : ''}` },
        `${r.d.rate.diff > 0 ? '+' : '−'}${Math.abs(r.d.rate.diff * 100).toFixed(2)} pt`) : null] },
    { label: 'low-conf. OOMs', num: true, title: 'OOM verdicts without memory evidence (grade low or none): counted apart, not in the OOM-free rate',
      cell: (r) => h('span', { class: 'low-oom', dataset: { count: r.stats.overall.oom_low_confidence_sessions ?? 0 } }, fmt.count(r.stats.overall.oom_low_confidence_sessions ?? 0)) },
    { label: 'p50 peak', num: true, cell: (r) => valueCell(r.stats.overall.peak_bytes.p50, r.d.p50) },
    { label: 'p90 peak', num: true, cell: (r) => valueCell(r.stats.overall.peak_bytes.p90, r.d.p90) },
    { label: 'p99 peak', num: true, cell: (r) => valueCell(r.stats.overall.peak_bytes.p99, r.d.p99) },
    { label: 'p90 of limit', num: true, title: 'peak as a share of the limit the OS set (sessions with a known limit)', cell: (r) => fmt.percent(r.stats.overall.peak_fraction_of_limit.p90) },
    { label: 'last session', cell: (r) => h('span', { class: 'muted' }, fmt.dateTime(r.last)) },
  ];
  add(ctx.main, h('section', { class: 'panel' }, h('h2', null, 'Versions'),
    table(cols, [...rows].reverse().map((r) => ({ item: r, cls: r.regressed ? 'regressed' : null, data: { version: r.version } })),
      { cls: 'versions' })));
}

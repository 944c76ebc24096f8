// Sessions the next launch judged killed for memory: the trail before the
// kill, the evidence and the confidence.
import * as api from './api.js';
import * as charts from './charts.js';
import { h, add, route } from './dom.js';
import * as fmt from './format.js';

const PAGE = 20;

const CONFIDENCE = {
  high: 'high: footprint near the limit, critical pressure or a rising trend',
  medium: 'medium: some evidence of memory trouble',
  low: 'low: no other explanation for the end, little memory evidence',
};

function evidence(o) {
  const items = [];
  if (o.last_footprint_bytes) {
    items.push(o.limit_bytes
      ? `last footprint ${fmt.bytes(o.last_footprint_bytes)}, ${fmt.percent(o.last_footprint_bytes / o.limit_bytes)} of the ${fmt.bytes(o.limit_bytes)} limit`
      : `last footprint ${fmt.bytes(o.last_footprint_bytes)} (limit unknown)`);
  }
  if (o.pressure) items.push(`memory pressure ${o.pressure} at the end`);
  const t = o.trail;
  if (t && t.footprint.length > 1) {
    const first = t.footprint[0];
    const last = t.footprint[t.footprint.length - 1];
    const secs = (t.t_ms[t.t_ms.length - 1] - t.t_ms[0]) / 1000;
    items.push(`${last >= first ? 'rose' : 'fell'} ${fmt.bytes(Math.abs(last - first))} in the last ${fmt.duration(secs * 1000)}`);
  }
  if (o.ended_ms) items.push(`ended ${fmt.duration(o.ended_ms)} after it started`);
  return items;
}

export async function oom(ctx, app) {
  const offset = Math.max(0, parseInt(ctx.query.get('offset') || '0', 10) || 0);
  add(ctx.main, h('h1', null, h('span', { class: 'app-id' }, app), h('span', { class: 'sub' }, ' suspected out-of-memory sessions')),
    h('p', { class: 'hint' }, 'Judged at the next launch of the app on the same device: the process was gone without a clean exit or a crash, and the evidence points at memory.'));
  const page = await api.get('/v1/oom', { app, limit: PAGE, offset });
  if (ctx.stale()) return;
  if (!page.sessions.length) {
    add(ctx.main, h('p', { class: 'muted' }, 'No session of this app was judged killed for memory.'));
    return;
  }
  const charted = [];
  for (const o of page.sessions) {
    const box = h('div', { class: 'trail' });
    add(ctx.main, h('article', { class: 'panel oom', dataset: { session: o.session_id } },
      h('div', { class: 'panel-head' },
        h('h2', null, h('span', { class: 'badge bad' }, fmt.verdictText(o.verdict)), ' ',
          h('a', { href: route(['sessions', o.session_id]), class: 'mono' }, o.session_id.slice(0, 8))),
        h('span', { class: `confidence ${o.grade || 'unknown'}`, title: CONFIDENCE[o.grade] || '' }, `confidence: ${o.grade || 'not given'}`)),
      h('p', { class: 'crumbs' }, `${o.app_version} · ${o.device_model} · ${o.os_version} · started ${fmt.dateTime(o.start_unix_ms)} · reported ${fmt.dateTime(o.reported_unix_ms)} by `,
        h('a', { href: route(['sessions', o.reported_by]), class: 'mono' }, o.reported_by.slice(0, 8))),
      h('div', { class: 'oom-body' },
        h('ul', { class: 'evidence' }, evidence(o).map((e) => h('li', null, e))),
        o.trail ? box : h('p', { class: 'muted' }, 'No trail was sent with this verdict.'))));
    if (o.trail) charted.push([box, o]);
  }
  for (const [box, o] of charted) charts.trail(box, o.trail.t_ms, o.trail.footprint, o.limit_bytes);
  const go = (off) => { location.hash = route(['apps', app, 'oom'], { offset: off || null }); };
  add(ctx.main, h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE)) }, '← newer'),
    h('button', { type: 'button', disabled: page.next_offset == null, onclick: () => go(page.next_offset) }, 'older →')));
}

// One session over time: footprint, interval peak and resident with the
// limit line, the kernel's peaks, threshold and pressure events; drag to
// zoom, and a zoom asks the collector for the visible range only
// (from_ms/to_ms) at the same number of points, so that it keeps about one
// min-max pair per pixel (its decimation keeps every peak of the range).
import * as api from './api.js';
import * as charts from './charts.js';
import { h, add, route, table, card } from './dom.js';
import * as fmt from './format.js';
import { verdictBadge } from './sessions.js';

export const MAX_POINTS = 100000; // the collector's cap per request

const windowKey = (w) => `${w.start_ms}:${w.end_ms}`;

// The windows whose kernel peak gets a marker, as window key -> kernel peak.
// `kernel_peak` is the kernel's high-water mark at the window's end (Linux:
// the process's lifetime peak resident size; Darwin: the lifetime
// phys_footprint peak), so it never falls: once a spike set it, every later
// window carries it. A window shows it only where the kernel saw something
// new there: its kernel peak rose above the previous window's (the last one
// known: 0 is unknown and skipped; for the first window, above its highest
// sample) and it beats the window's highest sample, so it is a spike the
// samples missed. Computed over the whole session's windows in time order:
// a zoom's answer lists only the windows of its range, and its first window
// has a previous one all the same.
export function kernelMarks(windows) {
  const out = new Map();
  const ordered = [...windows].sort((a, b) => a.start_ms - b.start_ms || a.end_ms - b.end_ms);
  let prev = null;
  for (const w of ordered) {
    if (!w.kernel_peak) continue;
    if (w.kernel_peak > (prev ?? w.max) && w.kernel_peak > w.max) out.set(windowKey(w), w.kernel_peak);
    prev = w.kernel_peak;
  }
  return out;
}

// Decimated samples plus window aggregates, aligned on one x axis (unix s).
// `marks`: kernelMarks() of the whole session (by default of s.windows,
// right when s is the whole session's answer).
export function align(s, marks = kernelMarks(s.windows)) {
  const base = s.start_unix_ms;
  const rows = new Map();
  const at = (tms) => {
    if (!rows.has(tms)) rows.set(tms, { tms, fp: null, pk: null, rs: null, tr: null, kernel: null });
    return rows.get(tms);
  };
  // points from a verdict's trail (the session's last seconds, whose window
  // was lost) go to their own series; the last window point before them is
  // repeated there so that the two lines meet
  const fromTrail = s.from_trail || [];
  s.t_ms.forEach((t, i) => {
    const r = at(t);
    if (fromTrail[i]) {
      r.tr = s.footprint[i];
      if (i > 0 && !fromTrail[i - 1]) at(s.t_ms[i - 1]).tr = s.footprint[i - 1];
    } else {
      r.fp = s.footprint[i];
      r.pk = s.peak[i];
    }
    if (s.resident) r.rs = s.resident[i];
  });
  // the kernel's peak where it rose in a window above every sample of it
  for (const w of s.windows) if (marks.has(windowKey(w))) at(w.end_ms).kernel = marks.get(windowKey(w));
  const sorted = [...rows.values()].sort((a, b) => a.tms - b.tms);
  let wi = 0;
  const limitAt = (t) => {
    while (wi < s.windows.length - 1 && s.windows[wi].end_ms < t) wi++;
    const w = s.windows[wi];
    return w && w.limit ? w.limit : null;
  };
  return {
    t: sorted.map((r) => (base + r.tms) / 1000),
    footprint: sorted.map((r) => r.fp),
    peak: sorted.map((r) => r.pk),
    resident: s.resident ? sorted.map((r) => r.rs) : null,
    trail: s.from_trail ? sorted.map((r) => r.tr) : null,
    limit: sorted.map((r) => limitAt(r.tms)),
    kernel: sorted.map((r) => r.kernel),
  };
}

function eventText(e) {
  if (e.type === 'threshold') {
    return `${e.direction === 'up' ? 'rose above' : 'fell below'} ${fmt.bytes(e.level)} (footprint ${fmt.bytes(e.footprint)}${e.urgent ? ', urgent' : ''})`;
  }
  if (e.type === 'pressure') return `memory pressure ${e.level}`;
  if (e.type === 'previous_session') return 'verdict on the previous session';
  return '';
}

export async function session(ctx, id) {
  const [s, ev] = await Promise.all([api.get(`/v1/sessions/${id}`), api.get(`/v1/sessions/${id}/events`)]);
  if (ctx.stale()) return;
  ctx.nav('sessions', s.app_id);
  add(ctx.main, h('h1', null, 'Session ', h('span', { class: 'mono sub' }, s.session_id)),
    h('p', { class: 'crumbs' }, h('a', { href: route(['apps', s.app_id]) }, s.app_id), ' › ',
      h('a', { href: route(['apps', s.app_id, 'sessions'], { version: s.app_version }) }, s.app_version), ' › ',
      `${s.device_model}, ${s.os_name} ${s.os_version}`));
  const ending = s.verdict_source === 'session'
    ? 'reported by the session itself (clean stop); the next launch confirms or overrides it'
    : s.verdict ? 'judged at the next launch' : 'no later launch reported yet';
  add(ctx.main, h('div', { class: 'cards' },
    card('peak', s.has_data === false ? 'no data' : fmt.bytes(s.peak_bytes), s.has_data === false ? 'no sample arrived: left out of the version’s peaks' : `highest sample ${fmt.bytes(s.max_bytes)}`, { dataset: { kpi: 'peak' } }),
    card('limit', s.limit_bytes ? fmt.bytes(s.limit_bytes) : 'unknown', s.peak_fraction != null ? `peak at ${fmt.percent(s.peak_fraction)} of it` : null),
    card('length', fmt.duration(s.last_ms), `started ${fmt.dateTime(s.start_unix_ms)}`),
    card('samples', fmt.count(s.samples), `${s.interval_ms ? `every ${fmt.interval(s.interval_ms)}` : 'interval unknown'}, ${s.windows} windows${s.trail_samples ? `, ${fmt.count(s.trail_samples)} from the verdict’s trail` : ''}${s.samples_trimmed ? `, ${fmt.count(s.samples_trimmed)} kept as window aggregates only (session cap)` : ''}${s.dropped ? `, ${s.dropped} dropped` : ''}`, { dataset: { kpi: 'samples' } }),
    card('ended', verdictBadge(s.verdict, s.grade), ending, { dataset: { kpi: 'ended', source: s.verdict_source || '' } }),
    card('OS', `${s.os_name} ${s.os_version}`, s.os_build ? `build ${s.os_build}` : 'build not reported', { class: 'card small', dataset: { kpi: 'os' } }),
    card('metric', s.metric, null, { class: 'card small' })));

  const box = h('div', { id: 'session-chart' });
  const status = h('p', { class: 'hint', 'data-role': 'decimation' });
  const resetZoom = h('button', { type: 'button', class: 'link-button', hidden: true }, 'reset zoom');
  add(ctx.main, h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', null, 'Footprint over time'), resetZoom),
    s.trail_samples ? h('p', { class: 'hint', 'data-role': 'trail-note' }, `The last ${fmt.count(s.trail_samples)} samples (dashed orange) come from the footprint trail the next launch reported, not from a window: the window that held them was lost when the session was killed.`) : null,
    h('p', { class: 'hint' }, 'Drag across the chart to zoom in; double-click or "reset zoom" to see the whole session. Orange dots (kernel peak): a spike between samples that only the kernel saw — drawn at the end of a window where the kernel’s high-water mark rose to a new high above every sample of that window. The mark never falls (it is the process’s peak so far), so windows after a spike that stay below it get no dot.'),
    box, status));

  // one min-max pair per pixel, for the whole session and for any zoom
  const points = Math.min(MAX_POINTS, Math.max(200, 2 * Math.round(box.clientWidth || 1000)));
  const whole = await api.get(`/v1/sessions/${id}/samples`, { points });
  if (ctx.stale()) return;
  const kernel = kernelMarks(whole.windows); // whole.windows: every window of the session
  let samples = whole;
  let range = null; // [from_ms, to_ms] of the samples drawn; null: the whole session
  const marks = () => ev.events.filter((e) => e.type === 'threshold' || e.type === 'pressure').map((e) => ({
    t: (s.start_unix_ms + e.t_ms) / 1000,
    color: e.type === 'pressure' ? charts.COLORS[e.level] || charts.COLORS.warning : charts.COLORS.threshold,
    dash: e.type === 'threshold',
    label: e.type === 'pressure' ? e.level : `${e.direction === 'up' ? '↑' : '↓'} ${fmt.bytes(e.level)}`,
  }));
  const showStatus = () => {
    const where = range ? ` from +${fmt.duration(range[0])} to +${fmt.duration(range[1])}` : '';
    const n = samples.samples_in_range ?? samples.samples_total;
    status.textContent = samples.resolution === 'windows'
      ? `${fmt.count(samples.points)} points${where}, one per window (its lowest footprint and its peak): its ${fmt.count(n)} samples are more than the collector reads at once; zoom in to see them`
      : samples.decimated
        ? `${fmt.count(samples.points)} of ${fmt.count(n)} samples${where} (min–max decimated on the collector: every peak that stands out at this resolution is kept)`
        : `all ${fmt.count(n)} samples${where}`;
    box.dataset.points = samples.points;
    box.dataset.requested = points;
    if (range) [box.dataset.fromMs, box.dataset.toMs] = range;
    else { delete box.dataset.fromMs; delete box.dataset.toMs; }
  };
  // the chart's series are fixed when it is made: resident stays a series
  // (all null) in a range whose windows did not report it
  const hasResident = Boolean(whole.resident);
  const hasTrail = Boolean(whole.from_trail);
  const pick = (a) => {
    const out = { t: a.t, peak: a.peak, footprint: a.footprint }; // the chart's series order
    if (hasResident) out.resident = a.resident || a.t.map(() => null);
    if (hasTrail) out.trail = a.trail || a.t.map(() => null);
    return { ...out, limit: a.limit, kernel: a.kernel };
  };
  let quiet = false; // our own setData / setScale are not zooms
  const show = (data, min, max) => {
    quiet = true;
    try {
      u.setData(Object.values(pick(align(data, kernel))), min == null);
      if (min != null) u.setScale('x', { min, max });
    } finally {
      quiet = false;
    }
  };
  let seq = 0; // the latest zoom wins over answers still on their way
  const showWhole = () => {
    seq++;
    resetZoom.hidden = true;
    if (!range) return false;
    samples = whole;
    range = null;
    show(whole);
    showStatus();
    return true;
  };
  const onZoom = async (min, max) => {
    if (quiet) return;
    if (min == null) {
      // after uPlot's commit: it drops scale changes made inside its setScale hook
      queueMicrotask(showWhole);
      return;
    }
    const mine = ++seq;
    resetZoom.hidden = false;
    if (!whole.decimated) return; // every sample is drawn already
    const from = Math.max(0, Math.floor(min * 1000 - s.start_unix_ms));
    const to = Math.max(from, Math.ceil(max * 1000 - s.start_unix_ms));
    let part;
    try {
      part = await api.get(`/v1/sessions/${id}/samples`, { points, from_ms: from, to_ms: to });
    } catch (e) {
      if (mine === seq) status.textContent = `Could not load the samples of this range: ${e.message}`;
      return;
    }
    if (ctx.stale() || mine !== seq) return;
    samples = part;
    range = [from, to];
    show(part, min, max);
    showStatus();
  };
  // a limit far above the footprint would flatten the chart: then it starts hidden
  const limitShown = !s.limit_bytes || s.max_bytes >= 0.4 * s.limit_bytes;
  const u = charts.timeline(box, align(samples, kernel), marks, onZoom, { limitShown });
  if (!limitShown) {
    status.before(h('p', { class: 'hint' }, `The limit (${fmt.bytes(s.limit_bytes)}) is far above this session's footprint and starts hidden: click "limit" in the legend to draw it.`));
  }
  resetZoom.addEventListener('click', () => {
    if (!showWhole() && u && u.data[0].length) {
      quiet = true;
      try {
        u.setScale('x', { min: u.data[0][0], max: u.data[0][u.data[0].length - 1] });
      } finally {
        quiet = false;
      }
    }
  });
  showStatus();

  const cols = [
    { label: 'at', num: true, cell: (e) => `+${fmt.duration(e.t_ms)}` },
    { label: 'event', cell: (e) => h('span', { class: `badge ev-${e.type} ${e.level || ''}` }, e.type.replace('_', ' ')) },
    { label: 'what', cell: (e) => eventText(e) },
  ];
  add(ctx.main, h('section', { class: 'panel' }, h('h2', null, 'Events'),
    table(cols, ev.events.map((e) => ({ item: e })), { cls: 'events', empty: 'No threshold crossings or pressure changes in this session.' })));
}

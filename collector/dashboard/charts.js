// Charts on uPlot (npm `uplot`, staged into lib/ by the build). Every chart
// element keeps its uPlot instance as `el.plot` so that tests can read the
// plotted arrays.
import { h } from './dom.js';
import * as fmt from './format.js';

let uPlot = null;

export async function load() {
  try {
    uPlot = (await import('./lib/uPlot.esm.js')).default;
    return true;
  } catch {
    return false;
  }
}

export const COLORS = {
  p50: '#94a3b8', p90: '#4f46e5', p99: '#e11d48',
  footprint: '#2563eb', peak: '#93c5fd', resident: '#059669', limit: '#dc2626',
  kernel: '#d97706', trail: '#ea580c', warning: '#d97706', critical: '#dc2626', normal: '#16a34a', threshold: '#7c3aed',
};

function missing(el) {
  el.append(h('p', { class: 'chart-missing' },
    'Charts need uPlot: run npm ci in collector/dashboard and rebuild the collector.'));
  return el;
}

const byteAxis = (u, ticks) => ticks.map((v) => fmt.bytes(v));
// tick steps people read for memory: powers of two of MiB and GiB
const MiB = 1024 * 1024;
const byteIncrs = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384].map((x) => x * MiB);
const yAxis = { values: byteAxis, size: 76, incrs: byteIncrs };

// Fits the chart to its box now and whenever the box changes width.
function fit(el, u, height) {
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w && Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
  });
  ro.observe(el);
}

function make(el, opts, data) {
  el.replaceChildren();
  const u = new uPlot({ width: Math.max(el.clientWidth, 300), ...opts }, data, el);
  el.plot = u;
  fit(el, u, opts.height);
  return u;
}

// Peak footprint p50/p90/p99 across versions (x = index in release order).
export function versions(el, rows) {
  el.classList.add('chart');
  if (!uPlot) return missing(el);
  const labels = rows.map((r) => r.version);
  const xs = rows.map((_, i) => i);
  const pick = (p) => rows.map((r) => r.stats.overall.peak_bytes[p]);
  return make(el, {
    height: 260,
    scales: { x: { time: false, range: [-0.5, Math.max(rows.length - 0.5, 0.5)] } },
    axes: [
      { splits: () => xs, values: (u, ticks) => ticks.map((t) => labels[t] ?? ''), grid: { show: false } },
      yAxis,
    ],
    series: [
      { label: 'version', value: (u, v) => labels[v] ?? '' },
      ...['p50', 'p90', 'p99'].map((p) => ({
        label: `${p} peak`, stroke: COLORS[p], width: 2, points: { size: 7, fill: COLORS[p] },
        value: (u, v) => fmt.bytes(v),
      })),
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
  }, [xs, pick('p50'), pick('p90'), pick('p99')]);
}

// Vertical marks for events, drawn over the plot: [{t (x value), color, label}].
function marksHook(marks) {
  return (u) => {
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    for (const [i, m] of marks().entries()) {
      const x = Math.round(u.valToPos(m.t, 'x', true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.lineWidth = devicePixelRatio;
      ctx.setLineDash(m.dash ? [4 * devicePixelRatio, 3 * devicePixelRatio] : []);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      // labels alternate between two rows so that close events stay legible
      ctx.fillText(m.label, x + 3 * devicePixelRatio, top + (12 + (i % 2) * 14) * devicePixelRatio);
    }
    ctx.restore();
  };
}

// One session over time. `series` = {t (unix s), footprint, peak, resident?,
// trail?, limit, kernel} aligned on t (null where a series has no value); marks() the
// events to draw; onZoom(min, max | null) after a zoom or its reset.
export function timeline(el, series, marks, onZoom, { limitShown = true } = {}) {
  el.classList.add('chart');
  if (!uPlot) return missing(el);
  const s = [
    { label: 'time', value: (u, v) => (v == null ? '' : fmt.dateTime(v * 1000)) },
    // the interval peak first, so that the footprint is drawn over it
    { label: 'interval peak', stroke: COLORS.peak, width: 1, spanGaps: true, value: (u, v) => fmt.bytes(v) },
    { label: 'footprint', stroke: COLORS.footprint, width: 1.5, spanGaps: true, value: (u, v) => fmt.bytes(v) },
  ];
  const data = [series.t, series.peak, series.footprint];
  if (series.resident) {
    s.push({ label: 'resident', stroke: COLORS.resident, width: 1, spanGaps: true, value: (u, v) => fmt.bytes(v) });
    data.push(series.resident);
  }
  if (series.trail) {
    // the session's last seconds as only the verdict's trail recorded them
    s.push({ label: 'from verdict trail', stroke: COLORS.trail, width: 2, dash: [3, 3], spanGaps: false,
      points: { show: true, size: 5, fill: COLORS.trail }, value: (u, v) => fmt.bytes(v) });
    data.push(series.trail);
  }
  s.push({ label: 'limit', stroke: COLORS.limit, width: 1.5, dash: [6, 4], spanGaps: true, show: limitShown, value: (u, v) => fmt.bytes(v) });
  data.push(series.limit);
  s.push({ label: 'kernel peak', stroke: COLORS.kernel, width: 0, paths: () => null,
    points: { show: true, size: 8, fill: COLORS.kernel, stroke: '#fff' }, value: (u, v) => fmt.bytes(v) });
  data.push(series.kernel);
  let zooming = false;
  return make(el, {
    height: 340,
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max * 1.05, 1)] } },
    axes: [{}, yAxis],
    series: s,
    cursor: { drag: { x: true, y: false, setScale: true } },
    hooks: {
      draw: [marksHook(marks)],
      setSelect: [() => { zooming = true; }],
      setScale: [(u, key) => {
        if (key !== 'x' || !onZoom) return;
        const { min, max } = u.scales.x;
        const full = u.data[0].length ? [u.data[0][0], u.data[0][u.data[0].length - 1]] : [min, max];
        const whole = min <= full[0] && max >= full[1];
        if (zooming || whole) onZoom(whole ? null : min, whole ? null : max);
        zooming = false;
      }],
    },
  }, data);
}

// The footprint trail before a kill, with the limit (a small chart).
export function trail(el, t, footprint, limit) {
  el.classList.add('chart', 'chart-small');
  if (!uPlot) return missing(el);
  const xs = t.map((v) => v / 1000);
  const series = [
    { label: 's since start', value: (u, v) => (v == null ? '' : `${v.toFixed(1)} s`) },
    { label: 'footprint', stroke: COLORS.footprint, width: 2, fill: 'rgba(37,99,235,0.08)', value: (u, v) => fmt.bytes(v) },
  ];
  const data = [xs, footprint];
  if (limit) {
    series.push({ label: 'limit', stroke: COLORS.limit, width: 1.5, dash: [6, 4], value: (u, v) => fmt.bytes(v) });
    data.push(xs.map(() => limit));
  }
  return make(el, {
    height: 180,
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max, limit || 0) * 1.05 || 1] } },
    axes: [{ values: (u, ticks) => ticks.map((v) => `${v} s`) }, yAxis],
    series,
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
  }, data);
}

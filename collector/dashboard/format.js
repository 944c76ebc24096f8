// Numbers as people read them. Pure functions (the tests import them too).

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(v) {
  if (v == null || !Number.isFinite(v)) return '—';
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1024 && i < UNITS.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${x} B` : `${x.toFixed(x >= 100 ? 0 : 1)} ${UNITS[i]}`;
}

export function percent(f, digits = 1) {
  if (f == null || !Number.isFinite(f)) return '—';
  return `${(f * 100).toFixed(digits)}%`;
}

// A relative change, signed: "+12.4%", "−3.0%".
export function change(now, before) {
  if (!before || now == null) return null;
  const r = now / before - 1;
  const s = `${Math.abs(r * 100).toFixed(1)}%`;
  return { ratio: r, text: r > 0 ? `+${s}` : r < 0 ? `−${s}` : '±0%' };
}

export function count(n) {
  return n == null ? '—' : Number(n).toLocaleString('en-US');
}

export function duration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s - m * 60} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${m - hours * 60} min`;
}

// A sampling interval: "10 ms", "100 ms", "1 s", "2.5 s", then as duration().
export function interval(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${Number((ms / 1000).toFixed(3))} s`;
  return duration(ms);
}

export function dateTime(unixMs) {
  if (!unixMs) return '—';
  const d = new Date(unixMs);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// Versions in release order: 2.10.0 after 2.9.1, 1.0.0-beta before 1.0.0 is
// not attempted (rare in marketing versions); ties by plain comparison.
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
export function compareVersions(a, b) {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

// How a verdict reads, and whether it is a suspected out-of-memory kill.
export function verdictText(v) {
  if (!v) return 'pending';
  return v.replaceAll('_', ' ');
}
export function isOom(v) {
  return v === 'oom_suspected' || v === 'background_oom_suspected';
}

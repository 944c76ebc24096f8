// Wire-format v1 batches (docs/wire-format.md), built the way the SDK's
// transport builds them: windows of samples as columnar delta arrays in
// 16 KiB units, aggregates computed from the samples they carry.
const UNIT = 16384;

// A session as it would be reported. samples: [{t (ms since start), fp, rs,
// excess}] in bytes (multiples of UNIT); windows of `perWindow` samples.
export function batches(s, { perWindow = 100, windowsPerBatch = 50 } = {}) {
  const windows = [];
  for (let i = 0; i < s.samples.length; i += perWindow) {
    const part = s.samples.slice(i, i + perWindow);
    const fp = part.map((p) => p.fp);
    const max = Math.max(...fp);
    const peak = Math.max(...part.map((p) => p.fp + (p.excess || 0)));
    const w = {
      start_ms: part[0].t, end_ms: part[part.length - 1].t, samples: part.length,
      first: fp[0], last: fp[fp.length - 1], min: Math.min(...fp), max,
      mean: Math.floor(fp.reduce((a, b) => a + b, 0) / fp.length),
      peak, kernel_peak: Math.max(peak, s.kernelPeakAt?.(windows.length) || 0),
      limit: s.limit || 0, headroom: s.limit ? Math.max(0, s.limit - max) : 0,
      series: {
        unit_bytes: UNIT,
        t: part.map((p, k) => (k ? p.t - part[k - 1].t : p.t)),
        footprint: part.map((p, k) => (k ? p.fp - part[k - 1].fp : p.fp) / UNIT),
        resident: part.map((p, k) => (k ? p.rs - part[k - 1].rs : p.rs) / UNIT),
        peak_excess: part.map((p) => (p.excess || 0) / UNIT),
      },
    };
    windows.push(w);
  }
  const out = [];
  for (let i = 0; i < Math.max(windows.length, 1); i += windowsPerBatch) {
    const ws = windows.slice(i, i + windowsPerBatch);
    const to = ws.length ? ws[ws.length - 1].end_ms : 0;
    out.push({
      schema: 1,
      batch_id: uuid(s.seq * 1000 + i / windowsPerBatch + 1, 'b'),
      sent_unix_ms: s.start + to,
      sdk: { name: 'memgauge', version: '0.1.0' },
      app: { id: s.app, version: s.version, build: s.build || '1' },
      device: { model: s.device, os_name: s.osName || 'iOS', os_version: s.os },
      session: { id: s.id, start_unix_ms: s.start, interval_ms: s.interval },
      metric: s.metric || 'phys_footprint',
      windows: ws,
      events: i === 0 ? s.events || [] : [], // a session's events travel with its first batch
      dropped: { samples: 0 },
    });
  }
  return out;
}

// Deterministic UUIDs: uuid(7) = "00000000-0000-4000-8000-000000000007".
export function uuid(n, kind = 'a') {
  const k = { a: '0000', b: '0001' }[kind];
  return `00000000-${k}-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

// A trail (series in wire encoding) of the last `n` samples of a session.
export function trail(samples, n) {
  const part = samples.slice(-n);
  return {
    unit_bytes: UNIT,
    t: part.map((p, k) => (k ? p.t - part[k - 1].t : p.t)),
    footprint: part.map((p, k) => (k ? p.fp - part[k - 1].fp : p.fp) / UNIT),
  };
}

export function pages(bytes) {
  return Math.max(1, Math.round(bytes / UNIT)) * UNIT;
}

export async function post(collector, apiKey, batch) {
  const res = await fetch(`${collector.url}/v1/reports`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(batch),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /v1/reports: ${res.status} ${text}`);
  return JSON.parse(text);
}

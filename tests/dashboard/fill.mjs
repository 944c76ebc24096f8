// Fills a running collector with realistic reports, the way apps would send
// them: several versions of one app with different peaks, devices and OS
// versions, a long session with events (decimated by the collector), a
// session killed for memory whose next launch reports its trail, and an app
// whose strings are markup.
//
// The browser tests depend only on fill()'s answer ({ app, xssApp }) and
// read every expected number back from the query API, so that a fill by the
// real sample app (once the SDK's transport lands) replaces this one
// without touching the tests: see fillWithSampleApp below.
import { API_KEY } from './collector.mjs';
import { batches, post, trail, uuid, pages } from './wire.mjs';

export const APP = 'com.example.photos';
export const XSS_APP = '<img src=x onerror=alert(1)>';
export const XSS_DEVICE = '<script>alert(2)</script>';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DEVICES = [
  { model: 'iPhone15,2', limit: 3 * GiB, scale: 1.0 },
  { model: 'iPhone13,4', limit: 2 * GiB, scale: 0.93 },
  { model: 'iPhone12,1', limit: Math.round(1.4 * GiB), scale: 0.86 },
];
const OS = ['17.5.1', '17.4', '16.7.8'];
// typical peak per version: 2.5.0 regresses, 2.10.0 recovers
const VERSIONS = [['2.3.0', 180 * MiB], ['2.4.0', 186 * MiB], ['2.5.0', 245 * MiB], ['2.10.0', 205 * MiB]];
const DAY0 = Date.UTC(2026, 5, 1, 9, 0, 0);

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Footprint that climbs from a launch level to `peak` and wanders below it,
// with resident a little above; optional spikes between samples.
function walk(r, n, interval, base, peak, { spikeAt = -1, spike = 0, climbTo = null } = {}) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = i / Math.max(n - 1, 1);
    let v = climbTo ? base + (climbTo - base) * x ** 1.6 : base + (peak - base) * Math.min(1, x * 3) * (0.82 + 0.18 * Math.sin((i * 2 * Math.PI * 5) / n));
    v += (r() - 0.5) * 4 * MiB;
    if (!climbTo && i === Math.floor(n * 0.6)) v = peak; // each session reaches its peak once
    const fp = pages(Math.max(20 * MiB, v));
    out.push({ t: i * interval, fp, rs: pages(fp * 1.12), excess: i === spikeAt ? pages(spike) : 0 });
  }
  return out;
}

export async function fillWithFixtures(collector) {
  const r = rng(42);
  const sessions = [];
  let seq = 1;
  let t0 = DAY0;
  for (const [version, typical] of VERSIONS) {
    for (let k = 0; k < 12; k++) {
      const d = DEVICES[k % 3];
      const peak = typical * d.scale * (0.85 + 0.35 * r() + (k === 11 ? 0.25 : 0));
      const n = 300 + Math.floor(r() * 300);
      sessions.push({ seq, id: uuid(seq), app: APP, version, device: d.model, os: OS[(k + Math.floor(k / 3)) % 3],
        start: (t0 += 37 * 60 * 1000), interval: 1000, limit: d.limit,
        samples: walk(r, n, 1000, 60 * MiB, peak) });
      seq++;
    }
  }
  // a long session: 30000 samples at 100 ms, with events and a spike that
  // only the kernel's interval peak saw
  const longSamples = walk(r, 30000, 100, 70 * MiB, 260 * MiB, { spikeAt: 21000, spike: 90 * MiB });
  const long = { seq: seq++, id: uuid(900), app: APP, version: '2.5.0', device: 'iPhone15,2', os: '17.5.1',
    start: (t0 += 3600 * 1000), interval: 100, limit: 3 * GiB, samples: longSamples,
    kernelPeakAt: (w) => (w === 150 ? 300 * MiB : 0),
    events: [
      { type: 'threshold', t_ms: 600000, id: 1, direction: 'up', urgent: false, level: 200 * MiB, footprint: 201 * MiB, limit: 3 * GiB },
      { type: 'pressure', t_ms: 1500000, level: 'warning' },
      { type: 'pressure', t_ms: 2100000, level: 'critical' },
      { type: 'pressure', t_ms: 2500000, level: 'normal' },
      { type: 'threshold', t_ms: 2600000, id: 1, direction: 'down', urgent: false, level: 200 * MiB, footprint: 198 * MiB, limit: 3 * GiB },
    ] };
  sessions.push(long);
  // killed for memory: climbs to the 1.4 GiB limit of an iPhone12,1 ...
  const doomedSamples = walk(r, 240, 500, 150 * MiB, 0, { climbTo: 1.36 * GiB });
  const doomed = { seq: seq++, id: uuid(901), app: APP, version: '2.5.0', device: 'iPhone12,1', os: '16.7.8',
    start: (t0 += 3600 * 1000), interval: 500, limit: Math.round(1.4 * GiB), samples: doomedSamples };
  sessions.push(doomed);
  // ... and its next launch says so, with the trail of its last samples
  const last = doomedSamples[doomedSamples.length - 1];
  sessions.push({ seq: seq++, id: uuid(902), app: APP, version: '2.5.0', device: 'iPhone12,1', os: '16.7.8',
    start: (t0 += 5 * 60 * 1000), interval: 1000, limit: Math.round(1.4 * GiB), samples: walk(r, 200, 1000, 60 * MiB, 230 * MiB),
    events: [{ type: 'previous_session', t_ms: 0, session_id: doomed.id, verdict: 'oom_suspected', grade: 'high',
      start_unix_ms: doomed.start, ended_ms: last.t, last_footprint: last.fp, limit: doomed.limit, pressure: 'critical',
      trail: trail(doomedSamples, 60) }] });
  // an older session judged clean by the launch after it
  sessions[1].events = [{ type: 'previous_session', t_ms: 0, session_id: sessions[0].id, verdict: 'clean_exit' }];
  // markup where names go
  for (let k = 0; k < 3; k++) {
    sessions.push({ seq: seq++, id: uuid(950 + k), app: XSS_APP, version: '"><svg onload=alert(3)>', device: XSS_DEVICE,
      os: '17.5.1', start: (t0 += 60 * 1000), interval: 1000, limit: 2 * GiB, samples: walk(r, 120, 1000, 50 * MiB, 120 * MiB) });
  }
  for (const s of sessions) for (const b of batches(s)) await post(collector, API_KEY, b);
  return { app: APP, xssApp: XSS_APP, xssDevice: XSS_DEVICE, sessions: sessions.length };
}

// The same answer from the real thing, for when the SDK's transport lands:
// run the sample app's scenarios (steady, leak, spike, a kill in a limited
// cgroup and the launch after it) against collector.url with API_KEY, wait
// until /healthz says every batch is stored, and return { app, xssApp } (the
// XSS app can stay a posted fixture: no real app is named like that).
export async function fill(collector) {
  return fillWithFixtures(collector);
}

// Fills a running collector the way the dashboard's users fill theirs: the
// real sample app (sample-app/main.c, memgauge-sample, the SDK and its
// transport) runs its scenarios and reports over HTTP to the collector.
//
//   1.0.0  steady    15 sessions holding 64 MiB
//   1.1.0  leak      15 sessions leaking 24..80 MiB/s for 3 s, and one session
//                    the kernel kills for memory in a 256 MiB memory cgroup,
//                    followed by its next launch, which reports the verdict
//                    and the trail (the suspected-OOM page)
//   1.2.0  spike     15 sessions of 200 MiB bursts, and one long session
//                    (45 s at 10 ms: ~4500 samples, decimated by the
//                    collector) in a 512 MiB memory cgroup, so it has a limit
//   1.3.0  sawtooth  12 sessions ramping to 128 or 192 MiB
//
// Sessions run in chains of three launches sharing one --state-dir (one
// "device"), so each launch but the last is judged by the next one; chains
// run in parallel (each has its own state directory). About 50 s in all,
// most of it the long session, which runs alongside the others.
//
// Posted fixture batches (wire.mjs) remain only for what the SDK cannot
// produce on this one machine:
// - markup in an app id, a version and a device model: the SDK validates app
//   ids (1..63 of A-Z a-z 0-9 . _ -) and takes the device from uname(), so a
//   forged report posted with a leaked API key is the realistic source;
// - other device models and OS versions for the breakdown page: this machine
//   is one device with one kernel, so two 1.3.0 sessions of the sample app
//   are replayed as if reported by an aarch64 machine on two other kernels;
// - a Darwin session, whose kernel peak is the lifetime phys_footprint peak:
//   the long session replayed as an iPhone's report (its own app id, so the
//   sample app's numbers stay its own), with two spikes only the kernel saw,
//   so that quiet windows after them carry a kernel peak above their samples
//   that is not new (the session chart marks only the new ones). On Linux
//   the kernel peak is the resident high-water mark, which creeps up a little
//   in every window of the long session and so cannot show this;
// - the suspected OOM, only when no memory cgroup can be created here: then
//   a loud WARNING is printed and a posted session that climbs to its limit
//   and its next launch's verdict stand in for the kernel's kill.
//
// The tests use only fill()'s answer and read every expected value from the
// query API.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY, ROOT, getJson } from './collector.mjs';
import { batches, post, trail, uuid, pages } from './wire.mjs';

export const APP = 'com.example.memgauge-sample';
export const XSS_APP = '<img src=x onerror=alert(1)>';
export const XSS_DEVICE = '<script>alert(2)</script>';
export const DARWIN_APP = 'com.example.memgauge-ios-replay';
export const SAMPLE_BIN = process.env.MEMGAUGE_SAMPLE_BIN ||
  join(ROOT, 'build/dashboard-sdk/sample-app/memgauge-sample');
const LOGS = process.env.MEMGAUGE_FILL_LOGS || join(ROOT, 'build/test-logs/dashboard/fill');
const CGROUP_SH = join(ROOT, 'scripts/cgroup.sh');

const MiB = 1024 * 1024;
const PARALLEL = 5; // chains at a time, besides the long and the OOM chains

// ---- the real runs -----------------------------------------------------------

function chain(name, version, scenario, runs) {
  return { name, runs: runs.map((extra, k) => ({ name: `${name}-${k + 1}`, version, scenario, ...extra })) };
}

function plan() {
  const chains = [];
  for (let d = 0; d < 5; d++) {
    chains.push(chain(`steady-${d + 1}`, '1.0.0', 'steady', [{ duration: 2 }, { duration: 2 }, { duration: 2 }]));
    chains.push(chain(`leak-${d + 1}`, '1.1.0', 'leak', [0, 1, 2].map((k) =>
      ({ duration: 3, args: ['--leak-mb-per-s', String(24 + 4 * (d * 3 + k))] }))));
    chains.push(chain(`spike-${d + 1}`, '1.2.0', 'spike', [{ duration: 2 }, { duration: 2 }, { duration: 3 }]));
  }
  for (let d = 0; d < 4; d++) {
    chains.push(chain(`sawtooth-${d + 1}`, '1.3.0', 'sawtooth', [{ duration: 2 + (d % 2) }, { duration: 3 - (d % 2) }, { duration: 2 }]));
  }
  return chains;
}

function finalLine(log) {
  const line = log.split('\n').find((l) => l.startsWith('final '));
  if (!line) return null;
  return Object.fromEntries(line.slice(6).trim().split(/\s+/).map((kv) => kv.split('=')));
}

// A memory cgroup with `limit` bytes, or null when none can be made (or
// MEMGAUGE_DASHBOARD_NO_CGROUP=1 / MEMGAUGE_TEST_NO_CGROUP=1 ask to try the
// fallback): scripts/cgroup.sh makes it, as it does for scripts/run.sh (v1
// unless MEMGAUGE_TEST_HIDE_CGROUP_V1=1, else v2 with this process moved into
// a leaf). `cgroupWhy` says why not.
let cgroupWhy = '';
function makeCgroup(name, limit) {
  if (process.env.MEMGAUGE_DASHBOARD_NO_CGROUP === '1' || process.env.MEMGAUGE_TEST_NO_CGROUP) {
    cgroupWhy = 'cgroups hidden by the environment';
    return null;
  }
  const made = spawnSync(CGROUP_SH, ['make', `memgauge-dash-${process.pid}-${name}`, String(limit),
    String(process.pid)], { encoding: 'utf8' });
  if (made.status !== 0) {
    cgroupWhy = (made.stderr || String(made.error || `exit ${made.status}`)).trim();
    return null;
  }
  return made.stdout.trim();
}

// the kernel lets go of a killed task's charges shortly after it dies
async function removeCgroup(dir) {
  await new Promise((done) => execFile(CGROUP_SH, ['remove', dir], () => done()));
}

const children = new Set();

// (made again on every write: another run of the tests may clear it)
function writeLog(name, text) {
  mkdirSync(LOGS, { recursive: true });
  writeFileSync(join(LOGS, name), text);
}

// One launch of the sample app reporting to the collector; resolves when it
// has exited, with its exit and its output.
function launchApp(collector, stateDir, run, cgroup = null) {
  const args = ['--scenario', run.scenario, '--duration', String(run.duration),
    '--interval-ms', String(run.interval || 100), '--collector', collector.url, '--api-key', API_KEY,
    '--app-id', APP, '--app-version', run.version, '--state-dir', stateDir, ...(run.args || [])];
  const [cmd, argv] = cgroup
    // the shell moves itself into the cgroup, then becomes the app
    ? ['sh', ['-c', 'echo $$ >"$1" && shift && exec "$@"', 'sh', join(cgroup, 'cgroup.procs'), SAMPLE_BIN, ...args]]
    : [SAMPLE_BIN, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let log = '';
    let timedOut = false;
    // a run that hangs would hang the tests: it gets its duration and 30 s
    const timer = setTimeout(() => {
      timedOut = true;
      log += '\n[fill: killed after its time ran out]\n';
      child.kill('SIGKILL');
    }, (run.duration + 30) * 1000);
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      writeLog(`${run.name}.log`, log);
      resolve({ ...run, code, signal, timedOut, log, final: finalLine(log) });
    });
  });
}

function expectClean(r) {
  if (r.code !== 0 || !r.final) {
    throw new Error(`memgauge-sample run ${r.name} (${r.scenario} ${r.version}) ended with ` +
      `${r.signal || `status ${r.code}`}:\n${r.log.slice(-2000)}`);
  }
  return r;
}

async function runChain(collector, work, c, cgroup = null) {
  const stateDir = join(work, c.name);
  const out = [];
  for (const run of c.runs) out.push(expectClean(await launchApp(collector, stateDir, run, cgroup)));
  return out;
}

async function pool(items, n, fn) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out.flat();
}

// The long session: spikes sampled every 10 ms for 45 s, in a roomy memory
// cgroup so that its windows carry a limit (without one it runs unlimited).
async function runLong(collector, work) {
  const cg = makeCgroup('long', 512 * MiB);
  try {
    const run = { name: 'long-spike', version: '1.2.0', scenario: 'spike', duration: 45, interval: 10 };
    return [expectClean(await launchApp(collector, join(work, 'long'), run, cg))];
  } finally {
    if (cg) await removeCgroup(cg);
  }
}

// A leak of 64 MiB/s in a 256 MiB memory cgroup: the kernel's OOM killer
// ends it (SIGKILL) after about 4 s. The next launch with the same state
// directory reads the session record and reports the verdict and the trail.
// null when no memory cgroup can be created here.
async function runOom(collector, work) {
  const cg = makeCgroup('oom', 256 * MiB);
  if (!cg) return null;
  let killed;
  try {
    killed = await launchApp(collector, join(work, 'oom'), { name: 'oom-killed', version: '1.1.0',
      scenario: 'leak', duration: 30, args: ['--leak-mb-per-s', '64'] }, cg);
  } finally {
    await removeCgroup(cg);
  }
  if (killed.signal !== 'SIGKILL' || killed.timedOut) {
    throw new Error(`the session in the 256 MiB memory cgroup was not killed by the kernel ` +
      `(${killed.signal || `status ${killed.code}`}):\n${killed.log.slice(-2000)}`);
  }
  const next = expectClean(await launchApp(collector, join(work, 'oom'),
    { name: 'oom-next-launch', version: '1.1.0', scenario: 'steady', duration: 2 }));
  if (!/^previous verdict=suspected_oom /m.test(next.log)) {
    throw new Error(`the launch after the kill did not read a suspected OOM:\n${next.log.slice(0, 2000)}`);
  }
  return [next];
}

// Waits until the collector has stored every finished session (the query
// API lists it with its samples) and the OOM verdict, failing fast on a
// batch the collector refused (/healthz counts them).
async function waitForIngest(collector, runs, withOom) {
  const want = runs.length;
  const deadline = Date.now() + 30000;
  for (;;) {
    const health = await (await fetch(`${collector.url}/healthz`)).json();
    const { invalid, store_errors: storeErrors } = health.ingest;
    if (invalid || storeErrors) throw new Error(`the collector refused reports: ${JSON.stringify(health)}`);
    const list = await getJson(collector, `/v1/sessions?app=${encodeURIComponent(APP)}&limit=1000`);
    const have = list.sessions.filter((s) => s.samples > 0).length;
    const oom = withOom ? (await getJson(collector, `/v1/oom?app=${encodeURIComponent(APP)}`)).sessions.length : 1;
    if (have >= want && oom >= 1) return list.sessions;
    if (Date.now() > deadline) {
      throw new Error(`after 30 s the collector has ${have} of ${want} sessions and ${oom} suspected OOMs: ${JSON.stringify(health)}`);
    }
    await sleep(100);
  }
}

// ---- fixtures: only what this machine cannot produce ---------------------------

// A real session's samples (the API's undecimated answer), as wire samples
// scaled by `scale` (whole 16 KiB units, as wire.mjs encodes them).
async function samplesOf(collector, id, scale) {
  const s = await getJson(collector, `/v1/sessions/${id}/samples?points=100000`);
  const unit = (v) => Math.round((v * scale) / 16384) * 16384;
  return {
    start: s.start_unix_ms,
    samples: s.t_ms.map((t, i) => {
      const fp = Math.max(16384, unit(s.footprint[i]));
      return { t, fp, rs: Math.max(fp, unit(s.resident?.[i] ?? s.footprint[i])), excess: Math.max(0, unit(s.peak[i]) - fp) };
    }),
  };
}

// Two 1.3.0 sessions of the sample app, replayed as reports of an aarch64
// machine on two other kernels (a smaller footprint, as 64-bit ARM builds of
// the same code often have).
async function postOtherDevices(collector, real) {
  const sources = real.filter((s) => s.app_version === '1.3.0' && s.samples > 0).slice(0, 2);
  const OS = ['6.1.0-21-arm64 #1 SMP Debian 6.1.90-1', '6.8.0-1008-raspi #9-Ubuntu SMP PREEMPT'];
  let n = 0;
  for (const [k, src] of sources.entries()) {
    const { start, samples } = await samplesOf(collector, src.session_id, 0.9 - 0.05 * k);
    const s = { seq: 800 + k, id: uuid(800 + k), app: APP, version: '1.3.0', device: 'aarch64', osName: 'Linux',
      os: OS[k], start: start - 3600 * 1000 * (k + 1), interval: src.interval_ms, limit: 0,
      metric: 'linux_private_footprint', samples };
    for (const b of batches(s)) await post(collector, API_KEY, b);
    n++;
  }
  return n;
}

// The longest real session replayed as an iPhone's report: windows of 500
// samples whose kernel_peak is the lifetime phys_footprint peak (the highest
// interval peak so far), raised in windows 1 and 5 by spikes between samples
// above every sample of the session. Windows 2..4 and 6.. keep the mark of
// the spike before them, above their own samples.
async function postDarwinPeaks(collector, real) {
  const src = real.reduce((a, s) => (s.samples > a.samples ? s : a));
  const { start, samples } = await samplesOf(collector, src.session_id, 1);
  const perWindow = 500;
  const top = Math.max(...samples.map((p) => p.fp + p.excess));
  const missed = { 1: top + 32 * MiB, 5: top + 64 * MiB };
  const kernel = [];
  let sofar = 0;
  for (let i = 0, w = 0; i < samples.length; i += perWindow, w++) {
    const part = samples.slice(i, i + perWindow);
    sofar = Math.max(sofar, ...part.map((p) => p.fp + p.excess), missed[w] || 0);
    kernel.push(sofar);
  }
  const id = uuid(970);
  const s = { seq: 970, id, app: DARWIN_APP, version: '5.1.0', device: 'iPhone15,2', osName: 'iOS', os: '17.5.1',
    start: start - 7200 * 1000, interval: src.interval_ms, limit: 0, metric: 'phys_footprint', samples,
    kernelPeakAt: (w) => kernel[w] };
  for (const b of batches(s, { perWindow })) await post(collector, API_KEY, b);
  return id;
}

// Markup where names go: an app id the SDK would refuse, a version and a
// device model no uname() returns.
async function postXss(collector, like) {
  const { samples } = await samplesOf(collector, like.session_id, 1);
  for (let k = 0; k < 3; k++) {
    const s = { seq: 950 + k, id: uuid(950 + k), app: XSS_APP, version: '"><svg onload=alert(3)>', device: XSS_DEVICE,
      osName: 'Linux', os: like.os_version, start: like.start_unix_ms + 60000 * (k + 1), interval: like.interval_ms,
      limit: 0, metric: 'linux_private_footprint', samples };
    for (const b of batches(s)) await post(collector, API_KEY, b);
  }
  return 3;
}

// Fallback when no memory cgroup can be created: a session that climbs to a
// 256 MiB limit, and its next launch's oom_suspected verdict with the trail.
async function postOomFixture(collector, like) {
  const limit = 256 * MiB;
  const doomed = Array.from({ length: 40 }, (_, i) => {
    const fp = pages(2 * MiB + (i * 250 * MiB) / 39);
    return { t: i * 100, fp, rs: fp + 8 * MiB, excess: 0 };
  });
  const start = like.start_unix_ms - 600000;
  const base = { app: APP, version: '1.1.0', device: like.device_model, osName: 'Linux', os: like.os_version,
    interval: 100, metric: 'linux_private_footprint' };
  const d = { ...base, seq: 901, id: uuid(901), start, limit, samples: doomed };
  const last = doomed[doomed.length - 1];
  const steady = Array.from({ length: 20 }, (_, i) => ({ t: i * 100, fp: 64 * MiB, rs: 72 * MiB, excess: 0 }));
  const next = { ...base, seq: 902, id: uuid(902), start: start + 60000, limit: 0, samples: steady,
    events: [{ type: 'previous_session', t_ms: 0, session_id: d.id, verdict: 'oom_suspected', grade: 'high',
      start_unix_ms: start, ended_ms: last.t, last_footprint: last.fp, limit, pressure: 'critical',
      trail: trail(doomed, 40) }] };
  for (const s of [d, next]) for (const b of batches(s)) await post(collector, API_KEY, b);
}

// ---- fill ----------------------------------------------------------------------

export async function fill(collector) {
  if (!existsSync(SAMPLE_BIN)) {
    throw new Error(`no sample app at ${SAMPLE_BIN}: build memgauge-sample (scripts/dashboard-test.sh does) or set MEMGAUGE_SAMPLE_BIN`);
  }
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'memgauge-dash-state-'));
  const notes = [];
  let runs;
  let oomRuns;
  try {
    const long = runLong(collector, work);
    const oom = runOom(collector, work);
    const short = pool(plan(), PARALLEL, (c) => runChain(collector, work, c));
    [runs, oomRuns] = await Promise.all([Promise.all([long, short]).then((r) => r.flat()), oom]);
  } catch (e) {
    for (const child of children) child.kill('SIGKILL');
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (oomRuns) runs.push(...oomRuns);
  const real = await waitForIngest(collector, runs, Boolean(oomRuns));
  const ran = Date.now() - t0;

  const like = real.find((s) => s.samples > 0);
  const devices = await postOtherDevices(collector, real);
  const xss = await postXss(collector, like);
  const darwinSession = await postDarwinPeaks(collector, real);
  if (!oomRuns) {
    notes.push(`WARNING: no memory cgroup could be created (${cgroupWhy || 'needs root'}): ` +
      'the suspected-OOM session is a posted FIXTURE, not a kill by the kernel');
    await postOomFixture(collector, like);
  }
  const summary = [
    `fill: ${runs.length + (oomRuns ? 1 : 0)} sessions of the sample app reported to the collector in ` +
      `${(ran / 1000).toFixed(1)} s (finished ones by version: ` +
      `${[...new Set(runs.map((r) => r.version))].map((v) => `${v}: ${runs.filter((r) => r.version === v).length}`).join(', ')})`,
    oomRuns ? 'fill: one session killed by the kernel in a 256 MiB memory cgroup (1.1.0), reported by its next launch' : null,
    `fill: fixtures posted: ${devices} sessions from other devices (breakdown), ${xss} with markup in names, ` +
      '1 replayed as an iPhone (lifetime kernel peak)',
    ...notes,
  ].filter(Boolean);
  for (const line of summary) (line.startsWith('WARNING') ? console.error : console.log)(line);
  writeLog('summary.txt', summary.join('\n') + '\n');
  return { app: APP, xssApp: XSS_APP, xssDevice: XSS_DEVICE, oom: oomRuns ? 'kernel' : 'fixture', runs,
    darwin: { app: DARWIN_APP, session: darwinSession } };
}

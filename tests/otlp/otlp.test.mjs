// memgauge-collector's OTLP export, checked by an independent decoder
// (receiver.mjs): what arrives is what was ingested, a receiver that is
// down (not listening, then 503) loses nothing and gets every request once,
// the queue survives a restart, and its byte budget drops the oldest.
// Run: MEMGAUGE_COLLECTOR_BIN=build/collector/memgauge-collector node --test tests/otlp/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReceiver } from './receiver.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const BIN = process.env.MEMGAUGE_COLLECTOR_BIN || join(ROOT, 'build/collector/memgauge-collector');
const KEY = 'otlp-test-api-key-0123';
const TOKEN = 'otlp-test-read-token-0123';
const EXAMPLE = JSON.parse(readFileSync(join(ROOT, 'tests/collector/corpus/valid_example.json'), 'utf8'));

function uuid(n, salt) {
  const h = (n + salt * 1000000).toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${h}`;
}

// valid_example.json with its own batch id, session and app version: the
// version tells the receiver which batch a request came from
function batch(n, salt = 1) {
  const b = structuredClone(EXAMPLE);
  b.batch_id = uuid(n, salt);
  b.session.id = uuid(n, salt + 50);
  b.app.version = `2.4.${salt}-${n}`;
  return b;
}

async function freePort() {
  const s = createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

async function until(what, cond, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startCollector(dir, endpoint, extra = [], db = join(dir, 'memgauge.db')) {
  const portFile = join(dir, 'port');
  rmSync(portFile, { force: true });
  // the receiver's key from a file (kept out of ps), another header on the command line
  const headers = join(dir, 'otlp-headers');
  writeFileSync(headers, '# the vendor key\n\nX-Vendor-Key: secret-123\n', { mode: 0o600 });
  const child = spawn(BIN, ['--listen', '127.0.0.1:0', '--db', db,
    '--api-key', KEY, '--read-token', TOKEN, '--port-file', portFile, '--quiet',
    '--otlp-endpoint', endpoint, '--otlp-headers', headers, '--otlp-header', 'X-Team: mobile',
    '--retention-days', '0', ...extra], // fixtures may start long ago
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let exited = null;
  const exit = new Promise((ok) => child.on('exit', (code, sig) => { exited = { code, sig }; ok(exited); }));
  await until('the collector to listen', () => {
    if (exited) throw new Error(`collector exited: ${stderr}`);
    return existsSync(portFile) && parseInt(readFileSync(portFile, 'utf8'), 10) > 0;
  }, 10000);
  const url = `http://127.0.0.1:${parseInt(readFileSync(portFile, 'utf8'), 10)}`;
  return {
    url,
    stderr: () => stderr,
    async stop() {
      const t0 = Date.now();
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const r = await exit;
      clearTimeout(timer);
      // a clean exit, and no sanitizer report when the binary is instrumented
      assert.equal(r.code, 0, `collector exit ${JSON.stringify(r)}: ${stderr}`);
      assert.ok(!/Sanitizer|runtime error/.test(stderr), stderr);
      return { ...r, ms: Date.now() - t0 };
    },
  };
}

async function post(c, b) {
  const res = await fetch(`${c.url}/v1/reports`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(b),
  });
  const j = await res.json();
  assert.equal(res.status, 200, JSON.stringify(j));
  return j.status;
}

async function metrics(c) {
  const res = await fetch(`${c.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  const out = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^(memgauge_collector_otlp_\w+) (\S+)$/.exec(line);
    if (m) out[m[1].replace('memgauge_collector_otlp_', '')] = Number(m[2]);
  }
  return out;
}

const attrs = (list) => Object.fromEntries((list || []).map((a) => [a.key, a.value]));
// a batch's own request (its windows) or the one its verdict led to (the
// judged session, under that session's resource)
const isWindows = (msg) => msg.resourceMetrics[0].scopeMetrics[0].metrics.some((m) => m.name === 'memgauge.samples');
const reporter = (msg) => attrs(msg.resourceLogs[0].scopeLogs[0].logRecords[0].attributes)['memgauge.reported_by'].stringValue;
const versionOf = (msg, kind) => attrs(msg[kind][0].resource.attributes)['service.version'].stringValue;

function withDir(fn) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memgauge-otlp-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

test('exports what was ingested: resource, metrics and the OOM log record', withDir(async (dir) => {
  const rx = await startReceiver();
  const c = await startCollector(dir, rx.url);
  try {
    for (let i = 0; i < 5; i++) assert.equal(await post(c, batch(i)), 'stored');
    assert.equal(await post(c, batch(0)), 'duplicate'); // a replay is not exported again
    // per batch: its windows, the session its verdict judged, the OOM record
    await until('15 requests', () => rx.metrics.length + rx.logs.length >= 15);
    await sleep(300);
    assert.deepEqual(rx.errors, []);
    assert.equal(rx.metrics.length, 10);
    assert.equal(rx.logs.length, 5);
    assert.equal(rx.metrics[0].headers['x-vendor-key'], 'secret-123');
    assert.equal(rx.metrics[0].headers['x-team'], 'mobile');
    const windows = rx.metrics.filter((r) => isWindows(r.msg));
    const sessions = rx.metrics.filter((r) => !isWindows(r.msg));
    assert.equal(windows.length, 5);
    const versions = windows.map((r) => versionOf(r.msg, 'resourceMetrics')).sort();
    assert.deepEqual(versions, [0, 1, 2, 3, 4].map((i) => `2.4.1-${i}`));

    const first = windows.find((r) => versionOf(r.msg, 'resourceMetrics') === '2.4.1-0').msg;
    assert.equal(first.resourceMetrics.length, 1);
    const rm = first.resourceMetrics[0];
    const res = attrs(rm.resource.attributes);
    assert.equal(res['service.name'].stringValue, 'com.example.photos');
    assert.equal(res['device.model.identifier'].stringValue, 'iPhone15,2');
    assert.equal(res['os.name'].stringValue, 'iOS');
    assert.equal(res['os.version'].stringValue, '17.5.1');
    const byName = Object.fromEntries(rm.scopeMetrics[0].metrics.map((m) => [m.name, m]));
    const peak = byName['memgauge.window.peak_footprint'].histogram;
    assert.equal(peak.aggregationTemporality, 1); // delta
    assert.equal(peak.dataPoints[0].count, '1');
    assert.equal(peak.dataPoints[0].max, 193986560);
    // 193986560 B lies in (128 MiB, 256 MiB]: the fifth bucket
    assert.equal(peak.dataPoints[0].bucketCounts.indexOf('1'), 4);
    const fraction = byName['memgauge.window.peak_fraction'].histogram.dataPoints[0];
    assert.ok(Math.abs(fraction.sum - 193986560 / 2147483648) < 1e-9);
    assert.equal(byName['memgauge.samples'].sum.dataPoints[0].asInt, '10');

    // the judged session, known only by its verdict: its peak is the
    // trail's highest sample, 126976 pages of 16 KiB
    assert.equal(sessions.length, 5, 'the same session judged by five batches: at least once');
    const sm = sessions[0].msg.resourceMetrics[0];
    assert.equal(attrs(sm.resource.attributes)['service.name'].stringValue, 'com.example.photos');
    const sess = Object.fromEntries(sm.scopeMetrics[0].metrics.map((m) => [m.name, m]));
    const speak = sess['memgauge.session.peak_footprint'].histogram.dataPoints[0];
    assert.equal(speak.count, '1');
    assert.equal(speak.max, 126976 * 16384);
    assert.ok(Math.abs(sess['memgauge.session.peak_fraction'].histogram.dataPoints[0].sum - (126976 * 16384) / 2147483648) < 1e-9);
    const judged = sess['memgauge.sessions'].sum.dataPoints[0];
    assert.equal(judged.asInt, '1');
    assert.equal(attrs(judged.attributes)['memgauge.verdict'].stringValue, 'oom_suspected');
    assert.equal(attrs(judged.attributes)['memgauge.grade'].stringValue, 'high');
    const oom = sess['memgauge.oom.suspected'].sum.dataPoints[0];
    assert.equal(attrs(oom.attributes)['memgauge.oom.confidence'].stringValue, 'high');

    const rec = rx.logs[0].msg.resourceLogs[0].scopeLogs[0].logRecords[0];
    const a = attrs(rec.attributes);
    assert.equal(rec.severityText, 'WARN');
    assert.equal(a['session.id'].stringValue, '9d8c7b6a-5f4e-4d3c-8b2a-190f8e7d6c5b');
    assert.equal(a['memgauge.oom.confidence'].stringValue, 'high');
    assert.equal(a['memgauge.pressure'].stringValue, 'critical');
    assert.equal(a['memgauge.last_footprint'].intValue, '2080374784');
    assert.equal(a['memgauge.limit'].intValue, '2147483648');
    assert.deepEqual(a['memgauge.trail.t_ms'].arrayValue.values.map((v) => v.intValue), ['55000', '56000', '57000']);
    assert.deepEqual(a['memgauge.trail.footprint'].arrayValue.values.map((v) => v.intValue),
      [124928, 125952, 126976].map((u) => String(u * 16384)));

    // the exporter counts a request sent once its answer is in
    await until('15 sent', async () => (await metrics(c)).requests_sent_total === 15);
    const m = await metrics(c);
    assert.equal(m.requests_queued_total, 15);
    assert.equal(m.requests_sent_total, 15);
    assert.equal(m.queue_requests, 0);
    assert.equal(m.queue_bytes, 0);
  } finally {
    await c.stop();
    await rx.close();
  }
}));

test('a receiver down, then 503, then up gets every request exactly once, across a restart', withDir(async (dir) => {
  const port = await freePort(); // nothing listens there yet
  const endpoint = `http://127.0.0.1:${port}`;
  let c = await startCollector(dir, endpoint);
  for (let i = 0; i < 10; i++) await post(c, batch(i, 2));
  // verdicts reach the queue through the exporter thread: wait for all 30
  await until('a retry and 30 queued', async () => {
    const q = await metrics(c);
    return q.retries_total >= 1 && q.requests_queued_total === 30;
  });
  let m = await metrics(c);
  assert.equal(m.requests_queued_total, 30);
  assert.equal(m.queue_requests, 30);
  // SIGTERM while the exporter waits out its backoff: bounded, queue kept
  const stopped = await c.stop();
  assert.equal(stopped.code, 0);
  assert.ok(stopped.ms < 3000, `shutdown took ${stopped.ms} ms`);
  console.log(`otlp: SIGTERM with 30 requests queued and the receiver down: exit 0 in ${stopped.ms} ms`);

  c = await startCollector(dir, endpoint); // same database directory, same queue
  for (let i = 10; i < 20; i++) await post(c, batch(i, 2));
  await sleep(1500); // retries against a closed port
  // up, but answering 503 (Retry-After: 1) to the first three requests
  const rx = await startReceiver({ port, answer: (path, n) => (n < 3 ? { status: 503, retryAfter: 1 } : { status: 200 }) });
  try {
    await until('60 accepted requests', () => rx.metrics.length + rx.logs.length >= 60, 60000);
    await sleep(500);
    assert.deepEqual(rx.errors, []);
    assert.equal(rx.refused.length, 3);
    // a batch's metrics carry its version; its OOM record names the
    // session that reported it (the record's resource is the judged one's)
    const count = (list, key) => {
      const seen = new Map();
      for (const r of list) { const v = key(r.msg); seen.set(v, (seen.get(v) || 0) + 1); }
      return seen;
    };
    const mv = count(rx.metrics.filter((r) => isWindows(r.msg)), (m) => versionOf(m, 'resourceMetrics'));
    const lv = count(rx.logs, reporter);
    assert.equal(rx.metrics.length, 40);
    assert.equal(mv.size, 20);
    assert.equal(lv.size, 20);
    for (let i = 0; i < 20; i++) {
      assert.equal(mv.get(`2.4.2-${i}`), 1, `metrics of batch ${i}`);
      assert.equal(lv.get(uuid(i, 52)), 1, `logs of batch ${i}`);
    }
    // oldest first: the batches posted before the restart arrive first
    assert.equal(versionOf(rx.metrics[0].msg, 'resourceMetrics'), '2.4.2-0');
    assert.ok(isWindows(rx.metrics[0].msg));
    await until('an empty queue', async () => (await metrics(c)).queue_requests === 0);
    m = await metrics(c);
    assert.equal(m.requests_sent_total, 60);
    assert.equal(m.requests_dropped_total, 0);
    assert.ok(m.retries_total >= 3);
    console.log(`otlp: 60 requests queued while down, delivered once each after ${rx.refused.length} 503s; retries counted ${m.retries_total}`);
  } finally {
    await c.stop();
    await rx.close();
  }
}));

test('past the byte budget the oldest requests are dropped and counted', withDir(async (dir) => {
  const port = await freePort();
  const c = await startCollector(dir, `http://127.0.0.1:${port}`, ['--otlp-queue-bytes', '64K']);
  try {
    const n = 120;
    for (let i = 0; i < n; i++) await post(c, batch(i, 3));
    await until('every request queued', async () => (await metrics(c)).requests_queued_total === 3 * n);
    const m = await metrics(c);
    assert.equal(m.requests_queued_total, 3 * n);
    assert.ok(m.queue_bytes <= 65536, `queue holds ${m.queue_bytes} bytes`);
    assert.ok(m.requests_dropped_total > 0);
    assert.equal(m.queue_requests + m.requests_dropped_total, 3 * n);
    const rx = await startReceiver({ port });
    try {
      await until('the queue to drain', () => rx.metrics.length + rx.logs.length >= m.queue_requests, 60000);
      await sleep(300);
      assert.equal(rx.metrics.length + rx.logs.length, m.queue_requests);
      // what survived is the newest
      const versions = rx.metrics.filter((r) => isWindows(r.msg)).map((r) => versionOf(r.msg, 'resourceMetrics'));
      assert.ok(versions.includes(`2.4.3-${n - 1}`));
      assert.ok(!versions.includes('2.4.3-0'));
      console.log(`otlp: budget 64 KiB: ${m.requests_dropped_total} oldest of ${3 * n} dropped, ${m.queue_requests} kept (${m.queue_bytes} bytes) and delivered`);
    } finally {
      await rx.close();
    }
  } finally {
    await c.stop();
  }
}));

// The judged session's row read from PostgreSQL as well (when
// scripts/collector-test.sh gives its throwaway server).
const PG = process.env.MEMGAUGE_TEST_PG;
test('on PostgreSQL the judged session is read back and exported', { skip: !PG && 'MEMGAUGE_TEST_PG not set' }, withDir(async (dir) => {
  const name = `memgauge_otlp_${process.pid}`;
  const psql = (sql) => {
    const r = spawnSync('psql', [`${PG}/postgres`, '-qAtc', sql], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  psql(`CREATE DATABASE ${name}`);
  const rx = await startReceiver();
  const c = await startCollector(dir, rx.url, ['--otlp-queue', join(dir, 'queue')], `${PG}/${name}`);
  try {
    for (let i = 0; i < 2; i++) assert.equal(await post(c, batch(i, 4)), 'stored');
    await until('6 requests', () => rx.metrics.length + rx.logs.length >= 6);
    assert.deepEqual(rx.errors, []);
    const sessions = rx.metrics.filter((r) => !isWindows(r.msg));
    assert.equal(sessions.length, 2);
    const sess = Object.fromEntries(sessions[0].msg.resourceMetrics[0].scopeMetrics[0].metrics.map((m) => [m.name, m]));
    assert.equal(sess['memgauge.session.peak_footprint'].histogram.dataPoints[0].max, 126976 * 16384);
    assert.equal(rx.logs.length, 2);
  } finally {
    await c.stop();
    await rx.close();
    psql(`DROP DATABASE IF EXISTS ${name}`);
  }
}));

// The dashboard in headless Chromium on what verdicts change, against the
// real collector filled with hand-made reports (wire.mjs) of shapes a test
// must fix: a killed session whose last window was lost and whose trail
// arrives with the next launch, a session killed before any sample, OOM
// verdicts of every grade, a clean stop, an OS build. Expected values are read
// from the query API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, getJson, API_KEY } from './collector.mjs';
import { batches, post, uuid, trail, pages } from './wire.mjs';
import { launch, shot } from './browser.mjs';
import * as fmt from '../../collector/dashboard/format.js';

const APP = 'com.example.memgauge-verdicts';
const VERSION = '3.0.0';
const MiB = 1024 * 1024;
const START = Date.UTC(2026, 5, 1, 12, 0, 0);

let c;
let b;
let page;
const ids = {};

const base = { app: APP, version: VERSION, device: 'iPhone15,2', osName: 'iOS', os: '17.5.1', interval: 100,
  metric: 'phys_footprint' };
const climb = (n, from, to) => Array.from({ length: n }, (_, i) => {
  const fp = pages(from + ((to - from) * i) / (n - 1));
  return { t: i * 100, fp, rs: fp + 4 * MiB, excess: 0 };
});

async function postSession(s, opts) {
  for (const batch of batches(s, opts)) await post(c, API_KEY, batch);
}

before(async () => {
  c = await startCollector();
  const limit = 256 * MiB;
  // killed at 255 MiB: its windows hold 0 .. 1.9 s; the last second (2 .. 2.9 s)
  // was in the window the kill lost, and only the trail carries it
  const doomed = climb(30, 100 * MiB, 255 * MiB);
  ids.killed = uuid(7001);
  await postSession({ ...base, seq: 7001, id: ids.killed, start: START, limit, samples: doomed.slice(0, 20) },
    { perWindow: 10 });
  ids.next = uuid(7002);
  const last = doomed[doomed.length - 1];
  await postSession({ ...base, seq: 7002, id: ids.next, start: START + 60000, limit, samples: climb(20, 80 * MiB, 90 * MiB),
    events: [{ type: 'previous_session', t_ms: 0, session_id: ids.killed, verdict: 'oom_suspected', grade: 'high',
      start_unix_ms: START, ended_ms: last.t, last_footprint: last.fp, limit, pressure: 'critical',
      trail: trail(doomed, 25) }] });
  // judged OOM with low confidence, and without a grade (an old SDK)
  ids.low = uuid(7003);
  await postSession({ ...base, seq: 7003, id: ids.low, start: START + 120000, limit, samples: climb(20, 70 * MiB, 75 * MiB),
    events: [{ type: 'previous_session', t_ms: 0, session_id: ids.next, verdict: 'oom_suspected', grade: 'low' }] });
  ids.ungraded = uuid(7004);
  await postSession({ ...base, seq: 7004, id: ids.ungraded, start: START + 180000, limit,
    samples: climb(20, 70 * MiB, 72 * MiB),
    events: [{ type: 'previous_session', t_ms: 0, session_id: ids.low, verdict: 'oom_suspected' }] });
  // killed before its first sample: a batch with no window
  ids.empty = uuid(7005);
  await postSession({ ...base, seq: 7005, id: ids.empty, start: START + 240000, limit, samples: [] });
  // a clean stop, with the OS build
  ids.clean = uuid(7006);
  for (const batch of batches({ ...base, seq: 7006, id: ids.clean, start: START + 300000, limit,
    samples: climb(20, 60 * MiB, 61 * MiB) })) {
    batch.device.os_build = '21F90';
    batch.session.end = 'clean_stop';
    batch.session.end_ms = 1900;
    await post(c, API_KEY, batch);
  }
  b = await launch();
  page = await b.page();
  await page.goto(`${c.url}/#token=${encodeURIComponent(c.readToken)}`);
  await page.waitForFunction(() => !location.hash.includes('token'));
});

after(async () => {
  await b?.close();
  await c?.stop();
});

const route = (...parts) => '#/' + parts.map(encodeURIComponent).join('/');

async function open(hash, ready) {
  await page.goto(`${c.url}/${hash}`);
  await page.waitForSelector(ready);
  await page.waitForFunction(() => !document.querySelector('main').hasAttribute('aria-busy'));
}

test('the killed session holds its trail: peak, length and the trail part of its chart', async () => {
  const s = await getJson(c, `/v1/sessions/${ids.killed}`);
  const oom = (await getJson(c, `/v1/oom?app=${encodeURIComponent(APP)}`)).sessions.find((o) => o.session_id === ids.killed);
  assert.ok(s.peak_bytes >= Math.max(...oom.trail.footprint), 'the stored peak includes the trail');
  assert.equal(s.trail_samples, 10, 'the 10 samples after the last window, none twice');
  assert.equal(s.samples, 30);
  assert.equal(s.last_ms, 2900);
  const api = await getJson(c, `/v1/sessions/${ids.killed}/samples?points=1000`);
  assert.deepEqual(api.from_trail, api.t_ms.map((t) => t >= 2000));

  await open(route('sessions', ids.killed), '#session-chart .uplot');
  const plot = await page.$eval('#session-chart', (el) => ({
    labels: el.plot.series.map((x) => x.label), t: el.plot.data[0], data: el.plot.data }));
  assert.ok(plot.labels.includes('from verdict trail'), plot.labels.join());
  const at = (label) => plot.data[plot.labels.indexOf(label)];
  const tms = plot.t.map((t) => Math.round(t * 1000) - api.start_unix_ms);
  const fp = at('footprint');
  const tr = at('from verdict trail');
  api.t_ms.forEach((t, i) => {
    const k = tms.indexOf(t);
    assert.ok(k >= 0, `t=${t} plotted`);
    if (api.from_trail[i]) {
      assert.equal(tr[k], api.footprint[i], `trail point at ${t}`);
      assert.equal(fp[k], null, `the window series stops where the trail begins (${t})`);
    } else {
      assert.equal(fp[k], api.footprint[i], `window point at ${t}`);
    }
  });
  // the two lines meet: the last window point starts the trail series
  assert.equal(tr[tms.indexOf(1900)], api.footprint[api.t_ms.indexOf(1900)]);
  assert.match(await page.textContent('[data-role="trail-note"]'), /last 10 samples/);
  assert.equal(await page.textContent('[data-kpi="peak"] .card-value'), fmt.bytes(s.peak_bytes));
  await shot(page, 'session-trail');
});

test('the overview keeps the no-data session out of the peaks and low-confidence OOMs apart', async () => {
  const st = await getJson(c, `/v1/stats?app=${encodeURIComponent(APP)}&version=${VERSION}`);
  const o = st.overall;
  assert.equal(o.sessions, 6);
  assert.equal(o.sessions_without_data, 1);
  for (const p of ['p50', 'p90', 'p99']) assert.ok(o.peak_bytes[p] > 0, `${p} is not 0 B`);
  assert.equal(o.oom_sessions, 1, 'only the graded-high verdict is evidence');
  assert.equal(o.oom_low_confidence_sessions, 2, 'low and ungraded');
  assert.equal(o.oom_free_rate, 5 / 6);

  await open(route('apps', APP), 'table.versions tbody tr');
  const row = `table.versions tbody tr[data-version="${VERSION}"]`;
  const [rate, p50] = await page.$$eval(`${row} .value`, (els) => els.map((e) => Number(e.dataset.value)));
  assert.equal(rate, o.oom_free_rate);
  assert.equal(p50, o.peak_bytes.p50);
  assert.equal(Number(await page.getAttribute(`${row} .low-oom`, 'data-count')), 2);
  assert.equal(Number(await page.getAttribute(`${row} .no-data`, 'data-count')), 1);
  assert.equal(await page.textContent('[data-kpi="oom-low"] .card-value'), '2');
  assert.equal(await page.textContent('[data-kpi="ooms"] .card-value'), '1');
  assert.equal(await page.textContent('[data-kpi="oom-free"] .card-value'), fmt.percent(5 / 6, 2));
  await shot(page, 'overview-verdicts');

  await open(`${route('apps', APP, 'breakdown')}?version=${VERSION}`, 'table.by-device tbody tr');
  assert.equal(Number(await page.getAttribute('table.by-device tbody tr .low-oom', 'data-count')),
    st.by_device[0].oom_low_confidence_sessions);
});

test('a clean stop is shown as the session’s own ending, with its OS build apart', async () => {
  const s = await getJson(c, `/v1/sessions/${ids.clean}`);
  assert.equal(s.verdict, 'clean_exit');
  assert.equal(s.verdict_source, 'session');
  assert.equal(s.os_build, '21F90');
  await open(route('sessions', ids.clean), '#session-chart .uplot');
  assert.equal(await page.getAttribute('[data-kpi="ended"]', 'data-source'), 'session');
  assert.match(await page.textContent('[data-kpi="ended"]'), /clean exit.*reported by the session itself/);
  assert.equal(await page.textContent('[data-kpi="os"] .card-value'), 'iOS 17.5.1');
  assert.equal(await page.textContent('[data-kpi="os"] .card-note'), 'build 21F90');
  const empty = await getJson(c, `/v1/sessions/${ids.empty}`);
  assert.equal(empty.has_data, false);
  await open(route('sessions', ids.empty), '[data-kpi="peak"]');
  assert.equal(await page.textContent('[data-kpi="peak"] .card-value'), 'no data');
});

test('no page logged an error or broke its content security policy', () => {
  assert.deepEqual(b.problems, []);
});

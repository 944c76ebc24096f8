// The dashboard in real headless Chromium against the real collector, filled
// by fill() (fill.mjs). Every expected number is read from the query API, so
// the same tests hold for any data the collector was filled with.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, getJson } from './collector.mjs';
import { fill } from './fill.mjs';
import { launch, shot } from './browser.mjs';
import * as fmt from '../../collector/dashboard/format.js';

let c;
let b;
let page;
let data;

before(async () => {
  c = await startCollector();
  data = await fill(c);
  b = await launch();
  page = await b.page();
  // the link the collector prints: the token is kept and leaves the address bar
  await page.goto(`${c.url}/#token=${encodeURIComponent(c.readToken)}`);
  await page.waitForFunction(() => !location.hash.includes('token'));
});

after(async () => {
  await b?.close();
  await c?.stop();
});

const q = (o) => new URLSearchParams(o).toString();
const route = (...parts) => '#/' + parts.map(encodeURIComponent).join('/');

async function open(hash, ready) {
  await page.goto(`${c.url}/${hash}`);
  await page.waitForSelector(ready);
  await page.waitForFunction(() => !document.querySelector('main').hasAttribute('aria-busy'));
}

async function versionsInOrder(app) {
  const apps = (await getJson(c, '/v1/apps')).apps;
  return apps.find((a) => a.app_id === app).versions.map((v) => v.version).sort(fmt.compareVersions);
}

test('the overview shows every version with the percentiles the API computes', async () => {
  const versions = await versionsInOrder(data.app);
  await open(route('apps', data.app), 'table.versions tbody tr');
  const rows = await page.$$eval('table.versions tbody tr', (trs) => trs.map((tr) => ({
    version: tr.dataset.version,
    regressed: tr.classList.contains('regressed'),
    values: [...tr.querySelectorAll('.value')].map((e) => ({ value: Number(e.dataset.value), text: e.textContent })),
  })));
  assert.deepEqual(rows.map((r) => r.version), [...versions].reverse(), 'newest first');
  let prev = null;
  for (const v of versions) {
    const s = await getJson(c, `/v1/stats?${q({ app: data.app, version: v })}`);
    const row = rows.find((r) => r.version === v);
    const [rate, p50, p90, p99] = row.values;
    assert.equal(rate.value, s.overall.oom_free_rate, `${v} OOM-free rate`);
    for (const [cell, want] of [[p50, s.overall.peak_bytes.p50], [p90, s.overall.peak_bytes.p90], [p99, s.overall.peak_bytes.p99]]) {
      assert.equal(cell.value, want, `${v} percentile`);
      assert.equal(cell.text, fmt.bytes(want));
    }
    const worse = prev && (['p50', 'p90', 'p99'].some((p) => s.overall.peak_bytes[p] / prev.peak_bytes[p] - 1 > 0.05) ||
      s.overall.oom_free_rate - prev.oom_free_rate < -0.01);
    assert.equal(row.regressed, Boolean(worse), `${v} flagged as a regression: ${row.regressed}`);
    prev = s.overall;
  }
  assert.ok(rows.some((r) => r.regressed), 'the fixture has a regressing version');
  // the chart plots the same p90s in release order
  const plotted = await page.$eval('#versions-chart', (el) => el.plot.data[2]);
  const p90s = [];
  for (const v of versions) p90s.push((await getJson(c, `/v1/stats?${q({ app: data.app, version: v })}`)).overall.peak_bytes.p90);
  assert.deepEqual(plotted, p90s);
  const sessions = versions.length && (await getJson(c, '/v1/apps')).apps.find((a) => a.app_id === data.app)
    .versions.reduce((n, v) => n + v.sessions, 0);
  assert.equal(await page.textContent('[data-kpi="sessions"] .card-value'), fmt.count(sessions));
  await shot(page, 'overview');
});

test('the breakdown lists every device and OS version of a version', async () => {
  const versions = await versionsInOrder(data.app);
  const v = versions[versions.length - 1];
  const s = await getJson(c, `/v1/stats?${q({ app: data.app, version: v })}`);
  await open(`${route('apps', data.app, 'breakdown')}?${q({ version: v })}`, 'table.by-device tbody tr');
  for (const [sel, list, key] of [['table.by-device', s.by_device, 'device_model'], ['table.by-os', s.by_os, 'os_version']]) {
    const shown = await page.$$eval(`${sel} tbody tr`, (trs) => trs.map((tr) => [tr.dataset.key, Number(tr.querySelectorAll('.value')[1].dataset.value)]));
    assert.deepEqual(new Map(shown), new Map(list.map((g) => [g[key], g.peak_bytes.p90])));
  }
  await shot(page, 'breakdown');
});

test('the session list filters and pages like the API', async () => {
  await open(route('apps', data.app, 'sessions'), 'table.sessions tbody tr');
  const all = await getJson(c, `/v1/sessions?${q({ app: data.app, limit: 50 })}`);
  let ids = await page.$$eval('table.sessions tbody tr', (trs) => trs.map((tr) => tr.dataset.session));
  assert.deepEqual(ids, all.sessions.map((s) => s.session_id));
  if (all.next_offset != null) {
    await page.click('.pager button:has-text("older")');
    await page.waitForFunction(() => location.hash.includes('offset=50'));
    await page.waitForSelector('table.sessions tbody tr');
    const next = await getJson(c, `/v1/sessions?${q({ app: data.app, limit: 50, offset: 50 })}`);
    await page.waitForFunction((n) => document.querySelectorAll('table.sessions tbody tr[data-session]').length === n, next.sessions.length);
    ids = await page.$$eval('table.sessions tbody tr', (trs) => trs.map((tr) => tr.dataset.session));
    assert.deepEqual(ids, next.sessions.map((s) => s.session_id));
  }
  // filter by the selects, as a person would
  const versions = await versionsInOrder(data.app);
  const v = versions[versions.length - 2] || versions[0];
  await open(route('apps', data.app, 'sessions'), 'table.sessions tbody tr');
  await page.selectOption('select[name="version"]', v);
  await page.waitForFunction((ver) => location.hash.includes(`version=${ver}`), v);
  const stats = await getJson(c, `/v1/stats?${q({ app: data.app, version: v })}`);
  const device = stats.by_device[0].device_model;
  await page.waitForSelector('select[name="device"]');
  await page.selectOption('select[name="device"]', device);
  await page.waitForFunction((d) => location.hash.includes(`device=${encodeURIComponent(d)}`), device);
  const want = await getJson(c, `/v1/sessions?${q({ app: data.app, version: v, device, limit: 50 })}`);
  await page.waitForFunction((n) => document.querySelectorAll('table.sessions tbody tr[data-session]').length === n && !document.querySelector('main').hasAttribute('aria-busy'), want.sessions.length);
  ids = await page.$$eval('table.sessions tbody tr', (trs) => trs.map((tr) => tr.dataset.session));
  assert.deepEqual(ids, want.sessions.map((s) => s.session_id));
  await shot(page, 'sessions-filtered');
  await open(`${route('apps', data.app, 'sessions')}?${q({ verdict: 'oom' })}`, 'table.sessions tbody tr');
  const oom = await getJson(c, `/v1/sessions?${q({ app: data.app, verdict: 'oom', limit: 50 })}`);
  ids = await page.$$eval('table.sessions tbody tr[data-session]', (trs) => trs.map((tr) => tr.dataset.session));
  assert.deepEqual(ids, oom.sessions.map((s) => s.session_id));
  assert.ok(ids.length >= 1);
});

test('the session chart plots the points the API returned, with the limit, kernel peaks and events', async () => {
  // the longest session of the app: decimated by the collector
  const list = await getJson(c, `/v1/sessions?${q({ app: data.app, limit: 1000 })}`);
  const long = list.sessions.reduce((a, s) => (s.samples > a.samples ? s : a));
  await open(route('sessions', long.session_id), '#session-chart .uplot');
  const requested = Number(await page.getAttribute('#session-chart', 'data-requested'));
  const api = await getJson(c, `/v1/sessions/${long.session_id}/samples?points=${requested}`);
  assert.ok(api.decimated, 'a long session is decimated on the server');
  const plot = await page.$eval('#session-chart', (el) => ({
    labels: el.plot.series.map((s) => s.label),
    t: el.plot.data[0],
    series: el.plot.data.slice(1),
  }));
  const at = (label) => plot.series[plot.labels.indexOf(label) - 1];
  // the footprint and peak arrays, without the x values added for window ends, are the API's
  const fp = [];
  const pk = [];
  const ts = [];
  at('footprint').forEach((v, i) => {
    if (v != null) { fp.push(v); pk.push(at('interval peak')[i]); ts.push(Math.round(plot.t[i] * 1000) - api.start_unix_ms); }
  });
  assert.equal(fp.length, api.points);
  assert.deepEqual(fp, api.footprint);
  assert.deepEqual(pk, api.peak);
  assert.deepEqual(ts, api.t_ms);
  assert.equal(Math.max(...fp.concat(pk)), Math.max(...api.peak), 'the session maximum survives decimation');
  // the limit line comes from the windows
  const limits = new Set(at('limit').filter((v) => v != null));
  assert.deepEqual([...limits], [...new Set(api.windows.map((w) => w.limit).filter(Boolean))]);
  const kernel = at('kernel peak').filter((v) => v != null);
  assert.deepEqual(kernel, api.windows.filter((w) => w.kernel_peak > w.max).map((w) => w.kernel_peak));
  const events = (await getJson(c, `/v1/sessions/${long.session_id}/events`)).events;
  assert.equal(await page.$$eval('table.events tbody tr', (trs) => trs.length), Math.max(events.length, 1));
  await shot(page, 'session');

  // zoom into a tenth of the session: more points are asked for that range
  const box = await page.$eval('#session-chart .u-over', (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  await page.mouse.move(box.x + box.w * 0.45, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * 0.55, box.y + box.h / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction((n) => Number(document.querySelector('#session-chart').dataset.requested) > n, requested);
  const zoomed = Number(await page.getAttribute('#session-chart', 'data-requested'));
  const api2 = await getJson(c, `/v1/sessions/${long.session_id}/samples?points=${zoomed}`);
  const fp2 = await page.$eval('#session-chart', (el) =>
    el.plot.data[el.plot.series.findIndex((x) => x.label === 'footprint')].filter((v) => v != null));
  assert.deepEqual(fp2, api2.footprint);
  assert.ok(api2.points > api.points);
  await shot(page, 'session-zoomed');
});

test('a suspected OOM session shows its trail, evidence and confidence', async () => {
  const ooms = (await getJson(c, `/v1/oom?${q({ app: data.app })}`)).sessions;
  assert.ok(ooms.length >= 1, 'the fixture has a suspected OOM');
  const o = ooms.find((x) => x.trail);
  await open(route('apps', data.app, 'oom'), 'article.oom');
  const card = `article.oom[data-session="${o.session_id}"]`;
  await page.waitForSelector(`${card} .trail .uplot`);
  const trail = await page.$eval(`${card} .trail`, (el) => el.plot.data[1]);
  assert.deepEqual(trail, o.trail.footprint);
  const text = await page.textContent(card);
  assert.match(text, new RegExp(`confidence: ${o.grade}`));
  assert.ok(text.includes(`last footprint ${fmt.bytes(o.last_footprint_bytes)}, ${fmt.percent(o.last_footprint_bytes / o.limit_bytes)}`), text);
  assert.ok(text.includes(`memory pressure ${o.pressure}`));
  await shot(page, 'oom');
});

test('strings from reports render as text: markup in an app id, a version and a device runs nothing', async () => {
  const before = b.problems.length;
  await open(route('apps', data.xssApp), 'table.versions tbody tr');
  assert.equal(await page.textContent('main h1'), data.xssApp);
  assert.ok((await page.textContent('#app-select')).includes(data.xssApp));
  await open(route('apps', data.xssApp, 'sessions'), 'table.sessions tbody tr');
  assert.ok((await page.textContent('table.sessions')).includes(data.xssDevice));
  await shot(page, 'xss-as-text');
  // nothing of it became an element, and no dialog opened
  assert.equal(await page.$$eval('img[src="x"], main script, main svg[onload], img[onerror]', (els) => els.length), 0);
  assert.deepEqual(b.problems.slice(before), []);
});

test('without a read token the dashboard asks for one, and a wrong one is refused', async () => {
  await page.evaluate(() => localStorage.removeItem('memgauge.readToken'));
  await open('#/', '.token-box');
  await page.fill('.token-box input', 'a-wrong-read-token-123');
  await page.click('.token-box button');
  await page.waitForSelector('.token-box >> text=refused');
  await page.fill('.token-box input', c.readToken);
  await page.click('.token-box button');
  await page.waitForSelector('.app-list, table.versions');
  await shot(page, 'after-token');
});

test('no page logged an error or broke its content security policy', () => {
  // 401s of the token test are expected resource errors; nothing else is
  const unexpected = b.problems.filter((p) => !/status of 401/.test(p));
  assert.deepEqual(unexpected, []);
});

// The dashboard in real headless Chromium against the real collector, filled
// by fill() (fill.mjs): real runs of the sample app reporting through the
// SDK's transport, one of them killed by the kernel for memory. Every
// expected number is read from the query API, so the same tests hold for any
// data the collector was filled with.
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

test('sampling intervals read in ms below a second', () => {
  assert.deepEqual([1, 10, 100, 999, 1000, 2500, 10000, 90000].map(fmt.interval),
    ['1 ms', '10 ms', '100 ms', '999 ms', '1 s', '2.5 s', '10 s', '1 min 30 s']);
  assert.equal(fmt.interval(null), '—');
});

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
  assert.ok(rows.some((r) => r.regressed), 'the leaking and the spiking versions regress');
  assert.ok(rows.some((r) => !r.regressed), 'not every version regresses');
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
  assert.ok(s.by_device.length >= 2 && s.by_os.length >= 2, `${v} has sessions from more than one device and OS`);
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
  if (all.next_cursor != null) {
    await page.click('.pager button:has-text("older")');
    await page.waitForFunction(() => location.hash.includes('cursor='));
    await page.waitForSelector('table.sessions tbody tr');
    const next = await getJson(c, `/v1/sessions?${q({ app: data.app, limit: 50, cursor: all.next_cursor })}`);
    await page.waitForFunction((n) => document.querySelectorAll('table.sessions tbody tr[data-session]').length === n, next.sessions.length);
    ids = await page.$$eval('table.sessions tbody tr', (trs) => trs.map((tr) => tr.dataset.session));
    assert.deepEqual(ids, next.sessions.map((s) => s.session_id));
    // and back to the first page
    await page.click('.pager button:has-text("newer")');
    await page.waitForFunction(() => !location.hash.includes('cursor='));
    await page.waitForFunction((id) => document.querySelector('table.sessions tbody tr[data-session]')?.dataset.session === id, all.sessions[0].session_id);
  }
  assert.ok(all.next_cursor != null, 'more sessions than one page holds');
  // filter by the selects, as a person would: a version reported from more
  // than one device, and the device with the fewest of its sessions
  const versions = await versionsInOrder(data.app);
  let v = versions[versions.length - 2] || versions[0];
  let stats = await getJson(c, `/v1/stats?${q({ app: data.app, version: v })}`);
  for (const ver of [...versions].reverse()) {
    const st = await getJson(c, `/v1/stats?${q({ app: data.app, version: ver })}`);
    if (st.by_device.length > 1) { v = ver; stats = st; break; }
  }
  await open(route('apps', data.app, 'sessions'), 'table.sessions tbody tr');
  await page.selectOption('select[name="version"]', v);
  await page.waitForFunction((ver) => location.hash.includes(`version=${ver}`), v);
  const device = stats.by_device.reduce((a, g) => (g.sessions < a.sessions ? g : a)).device_model;
  await page.waitForSelector('select[name="device"]');
  await page.selectOption('select[name="device"]', device);
  await page.waitForFunction((d) => location.hash.includes(`device=${encodeURIComponent(d)}`), device);
  const want = await getJson(c, `/v1/sessions?${q({ app: data.app, version: v, device, limit: 50 })}`);
  await page.waitForFunction((n) => document.querySelectorAll('table.sessions tbody tr[data-session]').length === n && !document.querySelector('main').hasAttribute('aria-busy'), want.sessions.length);
  ids = await page.$$eval('table.sessions tbody tr', (trs) => trs.map((tr) => tr.dataset.session));
  assert.deepEqual(ids, want.sessions.map((s) => s.session_id));
  if (stats.by_device.length > 1) assert.ok(ids.length < stats.overall.sessions, 'the device filter narrows the list');
  await shot(page, 'sessions-filtered');
  await open(`${route('apps', data.app, 'sessions')}?${q({ verdict: 'oom' })}`, 'table.sessions tbody tr');
  const oom = await getJson(c, `/v1/sessions?${q({ app: data.app, verdict: 'oom', limit: 50 })}`);
  ids = await page.$$eval('table.sessions tbody tr[data-session]', (trs) => trs.map((tr) => tr.dataset.session));
  assert.deepEqual(ids, oom.sessions.map((s) => s.session_id));
  assert.ok(ids.length >= 1);
});

// The plotted series of the session chart, by label, without the rows
// added for window ends (where the footprint is null), and the x scale.
async function plottedSession(startUnixMs) {
  const plot = await page.$eval('#session-chart', (el) => ({
    labels: el.plot.series.map((s) => s.label),
    t: el.plot.data[0],
    series: el.plot.data.slice(1),
    scale: { min: el.plot.scales.x.min, max: el.plot.scales.x.max },
  }));
  const at = (label) => plot.series[plot.labels.indexOf(label) - 1];
  const out = { t_ms: [], footprint: [], peak: [], resident: [], limit: at('limit'), kernel: at('kernel peak'), scale: plot.scale, labels: plot.labels };
  // the kernel-peak markers drawn: [ms since the start, bytes]
  out.kernelMarks = [];
  at('kernel peak').forEach((v, i) => { if (v != null) out.kernelMarks.push([Math.round(plot.t[i] * 1000) - startUnixMs, v]); });
  at('footprint').forEach((v, i) => {
    if (v == null) return;
    out.footprint.push(v);
    out.peak.push(at('interval peak')[i]);
    out.resident.push(at('resident')[i]);
    out.t_ms.push(Math.round(plot.t[i] * 1000) - startUnixMs);
  });
  return out;
}

// The kernel-peak markers a session's windows call for, as [end_ms, kernel
// peak]: kernel_peak is a lifetime high-water mark (it never falls), so a
// window is marked only where it rose above the previous window's (the last
// known one; for the first window, above its highest sample) and beats the
// window's highest sample (a spike the samples missed). `windows`: the whole
// session's, from /samples without a range.
function expectedKernelMarks(windows) {
  const out = [];
  let prev = null;
  for (const w of [...windows].sort((a, b) => a.start_ms - b.start_ms || a.end_ms - b.end_ms)) {
    if (!w.kernel_peak) continue;
    if (w.kernel_peak > (prev ?? w.max) && w.kernel_peak > w.max) out.push([w.end_ms, w.kernel_peak]);
    prev = w.kernel_peak;
  }
  return out;
}

// Drags across the session chart from fraction a to b of its width; resolves
// with the /samples request the zoom made once the chart shows its answer.
async function dragZoom(a, b) {
  const box = await page.$eval('#session-chart .u-over', (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  const asked = page.waitForRequest((r) => r.url().includes('/samples?') && r.url().includes('from_ms='));
  await page.mouse.move(box.x + box.w * a, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * b, box.y + box.h / 2, { steps: 5 });
  await page.mouse.up();
  const url = new URL((await asked).url());
  const p = Object.fromEntries(url.searchParams);
  await page.waitForFunction((from) => document.querySelector('#session-chart').dataset.fromMs === from, p.from_ms);
  return { path: url.pathname + url.search, points: Number(p.points), from: Number(p.from_ms), to: Number(p.to_ms) };
}

// The longest session of the app (decimated by the collector), opened, and
// the API's answer for the points the page asked for.
async function openLongSession() {
  const list = await getJson(c, `/v1/sessions?${q({ app: data.app, limit: 1000 })}`);
  const long = list.sessions.reduce((a, s) => (s.samples > a.samples ? s : a));
  await open(route('sessions', long.session_id), '#session-chart .uplot');
  const requested = Number(await page.getAttribute('#session-chart', 'data-requested'));
  const api = await getJson(c, `/v1/sessions/${long.session_id}/samples?points=${requested}`);
  assert.ok(api.decimated, 'a long session is decimated on the server');
  return { long, requested, api };
}

test('the session chart plots the points the API returned: footprint, peak, resident, the limit, kernel peaks and events', async () => {
  const { long, api } = await openLongSession();
  assert.ok(api.resident, 'the SDK reports resident');
  const plot = await plottedSession(api.start_unix_ms);
  assert.deepEqual(plot.labels, ['time', 'interval peak', 'footprint', 'resident', 'limit', 'kernel peak']);
  // the footprint, peak and resident arrays, without the x values added for window ends, are the API's
  assert.equal(plot.footprint.length, api.points);
  assert.deepEqual(plot.footprint, api.footprint);
  assert.deepEqual(plot.peak, api.peak);
  assert.deepEqual(plot.resident, api.resident);
  assert.deepEqual(plot.t_ms, api.t_ms);
  assert.ok(api.resident.every((v, i) => v > api.footprint[i]), 'resident is its own series, above the footprint here');
  assert.equal(Math.max(...plot.footprint.concat(plot.peak)), Math.max(...api.peak), 'the session maximum survives decimation');
  // the limit line comes from the windows
  const limits = new Set(plot.limit.filter((v) => v != null));
  assert.deepEqual([...limits], [...new Set(api.windows.map((w) => w.limit).filter(Boolean))]);
  // kernel-peak markers only where the kernel's high-water mark rose above every sample of the window
  // (here, on Linux, the resident high-water mark: above the private footprint and rising a little in every window)
  assert.deepEqual(plot.kernelMarks, expectedKernelMarks(api.windows));
  const events = (await getJson(c, `/v1/sessions/${long.session_id}/events`)).events;
  assert.equal(await page.$$eval('table.events tbody tr', (trs) => trs.length), Math.max(events.length, 1));
  // the sampling interval in ms below a second (this session: 10 ms)
  const info = await getJson(c, `/v1/sessions/${long.session_id}`);
  assert.equal(info.interval_ms, 10);
  const note = await page.textContent('[data-kpi="samples"] .card-note');
  assert.ok(note.startsWith('every 10 ms, '), note);
  await shot(page, 'session');
});

test('kernel-peak markers only where the lifetime kernel peak rose above the window’s samples', async () => {
  // an iPhone's report (fill.mjs): phys_footprint's lifetime peak, raised by
  // two spikes between samples; the windows after each keep it
  const { session } = data.darwin;
  await open(route('sessions', session), '#session-chart .uplot');
  const requested = Number(await page.getAttribute('#session-chart', 'data-requested'));
  const api = await getJson(c, `/v1/sessions/${session}/samples?points=${requested}`);
  const want = expectedKernelMarks(api.windows);
  const aboveSamples = api.windows.filter((w) => w.kernel_peak > w.max);
  assert.ok(want.length >= 2, `${want.length} windows where the kernel saw a new high`);
  assert.ok(aboveSamples.length > want.length,
    `quiet windows under an earlier peak: ${aboveSamples.length} above their samples, ${want.length} new highs`);
  assert.ok(api.windows.every((w, i) => !i || w.kernel_peak >= api.windows[i - 1].kernel_peak), 'a high-water mark');
  const plot = await plottedSession(api.start_unix_ms);
  assert.deepEqual(plot.kernelMarks, want);
  assert.match(await page.textContent('.panel p.hint'), /kernel peak.*new high/);
  const info = await getJson(c, `/v1/sessions/${session}`);
  const note = await page.textContent('[data-kpi="samples"] .card-note');
  assert.ok(note.startsWith(`every ${fmt.interval(info.interval_ms)}, `) && !note.includes('0.0 s'), note);
  await shot(page, 'session-kernel-peaks');
});

test('a zoom asks for the visible range only and plots the API’s points for it; double-click and reset zoom go back', async () => {
  const { requested, api } = await openLongSession();
  // a tenth of the session around its highest peak, with as many points as
  // the whole session
  const iMax = api.peak.indexOf(Math.max(...api.peak));
  const tSpike = api.t_ms[iMax];
  const span = api.t_ms[api.t_ms.length - 1];
  const whole = await plottedSession(api.start_unix_ms);
  const at = ((api.start_unix_ms + tSpike) / 1000 - whole.scale.min) / (whole.scale.max - whole.scale.min);
  const a = Math.min(Math.max(at - 0.05, 0.01), 0.89);
  const zoom = await dragZoom(a, a + 0.1);
  assert.equal(zoom.path.split('?')[0], `/v1/sessions/${api.session_id}/samples`);
  assert.ok(zoom.from <= tSpike && tSpike <= zoom.to, `the zoom ${zoom.from}..${zoom.to} holds the spike at ${tSpike}`);
  assert.equal(zoom.points, requested, 'a zoom asks for as many points as the whole view');
  assert.ok(Math.abs((zoom.to - zoom.from) / span - 0.1) < 0.02, `a tenth of the session: ${zoom.from}..${zoom.to} of ${span}`);
  let shown = await plottedSession(api.start_unix_ms);
  // the range asked is the visible one
  assert.equal(zoom.from, Math.floor(shown.scale.min * 1000 - api.start_unix_ms));
  assert.equal(zoom.to, Math.ceil(shown.scale.max * 1000 - api.start_unix_ms));
  const part = await getJson(c, zoom.path);
  assert.ok(part.samples_in_range < api.samples_total);
  // decimated over the range when it holds more samples than the view's
  // points, every sample of it otherwise
  if (part.decimated) assert.ok(part.points > requested / 2, `${part.points} points of ${requested}`);
  else assert.equal(part.points, part.samples_in_range);
  assert.ok(part.t_ms.every((t) => t >= zoom.from && t <= zoom.to), 'only points inside the range');
  assert.deepEqual(shown.t_ms, part.t_ms);
  assert.deepEqual(shown.footprint, part.footprint);
  assert.deepEqual(shown.peak, part.peak);
  assert.deepEqual(shown.resident, part.resident);
  const before = api.t_ms.filter((t) => t >= zoom.from && t <= zoom.to).length;
  assert.ok(part.points >= 1.5 * before, `the range has ${part.points} points instead of ${before}`);
  assert.equal(shown.peak[shown.t_ms.indexOf(tSpike)], api.peak[iMax], 'the spike is drawn in the zoom');
  assert.equal(await page.getAttribute('#session-chart', 'data-to-ms'), String(zoom.to));
  // the zoom's markers: those of the whole session in the range's windows
  // (its first window is judged against the one before it, not on its own)
  const inRange = new Set(part.windows.map((w) => w.end_ms));
  assert.deepEqual(shown.kernelMarks, expectedKernelMarks(api.windows).filter(([t]) => inRange.has(t)));
  await shot(page, 'session-zoomed');

  // a zoom inside the zoom asks for the narrower range
  const inner = await dragZoom(0.3, 0.7);
  assert.ok(inner.from >= zoom.from && inner.to <= zoom.to && inner.to - inner.from < zoom.to - zoom.from);
  shown = await plottedSession(api.start_unix_ms);
  assert.deepEqual(shown.footprint, (await getJson(c, inner.path)).footprint);

  // double-click: the whole session again, as first drawn
  const over = await page.$eval('#session-chart .u-over', (el) => { const r = el.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; });
  await page.mouse.dblclick(over.x, over.y);
  await page.waitForFunction(() => !('fromMs' in document.querySelector('#session-chart').dataset));
  shown = await plottedSession(api.start_unix_ms);
  assert.deepEqual(shown.footprint, api.footprint);
  assert.deepEqual(shown.resident, api.resident);
  assert.ok(shown.scale.min <= (api.start_unix_ms + api.t_ms[0]) / 1000 && shown.scale.max >= (api.start_unix_ms + span) / 1000);
  assert.ok(await page.isHidden('button:has-text("reset zoom")'));

  // and "reset zoom" does the same
  await dragZoom(0.2, 0.3);
  assert.ok(await page.isVisible('button:has-text("reset zoom")'));
  await page.click('button:has-text("reset zoom")');
  await page.waitForFunction(() => !('fromMs' in document.querySelector('#session-chart').dataset));
  shown = await plottedSession(api.start_unix_ms);
  assert.deepEqual(shown.footprint, api.footprint);
  assert.ok(shown.scale.max >= (api.start_unix_ms + span) / 1000);
  await shot(page, 'session-reset');
});

test('a suspected OOM session shows its trail, evidence and confidence', async () => {
  const ooms = (await getJson(c, `/v1/oom?${q({ app: data.app })}`)).sessions;
  assert.ok(ooms.length >= 1, `a suspected OOM (${data.oom})`);
  const o = ooms.find((x) => x.trail);
  // the trail the next launch sent ends where the kill found the session
  assert.equal(o.trail.footprint.at(-1), o.last_footprint_bytes);
  if (data.oom === 'kernel') assert.ok(o.last_footprint_bytes > 0.85 * o.limit_bytes, 'killed near the cgroup limit');
  // the trail is folded into the killed session: its stored peak includes it,
  // and no version's percentiles hold a 0 B session
  const killed = await getJson(c, `/v1/sessions/${o.session_id}`);
  assert.ok(killed.peak_bytes >= Math.max(...o.trail.footprint), `stored peak ${killed.peak_bytes}`);
  assert.ok(killed.last_ms >= o.trail.t_ms.at(-1), 'its length reaches the trail\'s last sample');
  for (const v of await versionsInOrder(data.app)) {
    const s = await getJson(c, `/v1/stats?${q({ app: data.app, version: v })}`);
    for (const p of ['p50', 'p90', 'p99']) assert.ok(s.overall.peak_bytes[p] > 0, `${v} ${p}: ${s.overall.peak_bytes[p]}`);
  }
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

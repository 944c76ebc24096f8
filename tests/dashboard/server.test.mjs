// The collector's side of the dashboard, through the real binary: static
// files with their content types and headers, names outside the dashboard
// refused, the read token on the query API, and the command-line rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startCollector, runCollector, API_KEY, READ_TOKEN } from './collector.mjs';

let c;
before(async () => { c = await startCollector(); });
after(async () => { await c?.stop(); });

// Raw GET: the path goes out exactly as written (fetch would normalise "..").
function rawGet(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the dashboard files are served with their content types', async () => {
  const want = {
    '/': 'text/html; charset=utf-8',
    '/index.html': 'text/html; charset=utf-8',
    '/app.js': 'text/javascript; charset=utf-8',
    '/charts.js': 'text/javascript; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/favicon.svg': 'image/svg+xml',
    '/lib/uPlot.esm.js': 'text/javascript; charset=utf-8',
    '/lib/uPlot.min.css': 'text/css; charset=utf-8',
  };
  for (const [path, type] of Object.entries(want)) {
    const r = await rawGet(c.port, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], type, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.ok(r.body.length > 0, path);
  }
  const page = await rawGet(c.port, '/');
  assert.match(page.headers['content-security-policy'], /script-src 'self'/);
  assert.match(page.body, /<script type="module" src="app.js">/);
  const uplot = await rawGet(c.port, '/lib/uPlot.esm.js');
  assert.match(uplot.body, /export \{ uPlot as default \}|export default/);
});

test('names outside the dashboard are refused', async () => {
  for (const path of ['/../CMakeCache.txt', '/%2e%2e/CMakeCache.txt', '/lib/../../memgauge.db',
    '/.hidden.js', '/lib//uPlot.esm.js', '/lib/uPlot.d.ts', '/memgauge-collector', '/nothing/here',
    '/index.html/', '/app.js%00.css']) {
    const r = await rawGet(c.port, path);
    assert.equal(r.status, 404, path);
  }
});

test('the query API needs the read token', async () => {
  const none = await rawGet(c.port, '/v1/apps');
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  const wrong = await rawGet(c.port, '/v1/apps', { Authorization: 'Bearer not-the-token-at-all' });
  assert.equal(wrong.status, 401);
  const ok = await rawGet(c.port, '/v1/apps', { Authorization: `Bearer ${READ_TOKEN}` });
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { apps: [] });
  // API keys ship inside apps: they never read, not even on loopback
  const key = await rawGet(c.port, '/v1/apps', { Authorization: `Bearer ${API_KEY}` });
  assert.equal(key.status, 401);
});

test('a read token cannot write reports', async () => {
  const res = await fetch(`${c.url}/v1/reports`, {
    method: 'POST', body: '{}',
    headers: { Authorization: `Bearer ${READ_TOKEN}`, 'Content-Type': 'application/json' },
  });
  assert.equal(res.status, 401);
});

test('without --read-token on loopback one is made up and printed in the dashboard URL', async () => {
  const g = await startCollector({ readToken: null });
  try {
    const m = /dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/)#token=([0-9a-f]{32})\n/.exec(g.log());
    assert.ok(m, g.log());
    assert.equal(Number(m[2]), g.port);
    assert.equal((await rawGet(g.port, '/v1/apps')).status, 401);
    assert.equal((await rawGet(g.port, '/v1/apps', { Authorization: `Bearer ${m[3]}` })).status, 200);
  } finally {
    await g.stop();
  }
});

test('command lines that would expose the data are refused with exit 2', () => {
  const cases = [
    [['--api-key', API_KEY, '--listen', '0.0.0.0:0'], /not a loopback address.*--read-token/s],
    [['--api-key', API_KEY, '--listen', '10.1.2.3:8080'], /not a loopback address/],
    [['--api-key', API_KEY, '--read-token', 'short'], /--read-token: at least 16 bytes/],
    [['--api-key', API_KEY, '--read-token', 'has a space in it ok'], /--read-token: .*printable/],
    [['--api-key', 'same-token-for-both-1234', '--read-token', 'same-token-for-both-1234'], /must differ from every API key/],
    [['--read-token', 'same-token-for-both-1234', '--api-key', 'same-token-for-both-1234'], /must differ from every API key/],
    [['--api-key', API_KEY, '--dashboard-dir', ''], /--dashboard-dir/],
  ];
  for (const [args, says] of cases) {
    const r = runCollector(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, says, args.join(' '));
  }
  const help = runCollector(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--read-token TOKEN/);
  assert.match(help.stdout, /--dashboard-dir DIR/);
});

test('a missing dashboard directory is reported and answers 404, the API still works', async () => {
  const g = await startCollector({ extra: ['--dashboard-dir', '/nonexistent/dashboard'] });
  try {
    assert.equal((await rawGet(g.port, '/')).status, 404);
    assert.equal((await rawGet(g.port, '/v1/apps', { Authorization: `Bearer ${READ_TOKEN}` })).status, 200);
  } finally {
    await g.stop();
  }
});

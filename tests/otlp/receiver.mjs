// A loopback OTLP/HTTP receiver for the tests: gunzips each request, maps
// its JSON onto the OpenTelemetry project's own generated message types
// (@opentelemetry/otlp-transformer 0.57.x, build/src/generated/root.js),
// encodes it to protobuf, decodes it back with `decode` and checks it with
// `verify`. Every leaf the collector sent must survive that round trip:
// a misspelt field, a number where the schema wants a string, an attribute
// of the wrong type would be lost or changed, and the request is refused.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const P = root.opentelemetry.proto;
const TYPES = {
  '/v1/metrics': P.collector.metrics.v1.ExportMetricsServiceRequest,
  '/v1/logs': P.collector.logs.v1.ExportLogsServiceRequest,
};
const OPTS = { longs: String, enums: Number, bytes: String, defaults: false, arrays: false };

// Every leaf of `sent` is in `back` with the same value (empty arrays may be
// left out: protobuf does not tell them from missing ones).
function covers(sent, back, path = '') {
  if (Array.isArray(sent)) {
    if (sent.length === 0) return back === undefined || (Array.isArray(back) && back.length === 0) ? null : path;
    if (!Array.isArray(back) || back.length !== sent.length) return path;
    for (let i = 0; i < sent.length; i++) {
      const bad = covers(sent[i], back[i], `${path}[${i}]`);
      if (bad !== null) return bad;
    }
    return null;
  }
  if (sent !== null && typeof sent === 'object') {
    if (back === null || typeof back !== 'object') return path;
    for (const k of Object.keys(sent)) {
      const bad = covers(sent[k], back[k], `${path}.${k}`);
      if (bad !== null) return bad;
    }
    return null;
  }
  // a protobuf default (0, false, "") is not carried back by toObject
  if (back === undefined && (sent === 0 || sent === false || sent === '' || sent === '0')) return null;
  return String(sent) === String(back) ? null : `${path} (${JSON.stringify(sent)} came back ${JSON.stringify(back)})`;
}

export function decode(path, body, encoding) {
  const type = TYPES[path];
  if (!type) throw new Error(`unexpected path ${path}`);
  const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8');
  const sent = JSON.parse(text);
  const wire = type.encode(type.fromObject(sent)).finish();
  const msg = type.decode(wire);
  const err = type.verify(msg);
  if (err) throw new Error(`verify: ${err}`);
  const back = type.toObject(msg, OPTS);
  const lost = covers(sent, back);
  if (lost !== null) throw new Error(`not an OTLP field or value: ${lost}`);
  return back;
}

// Starts a receiver on 127.0.0.1:port (0 = any). `answer(path, n)` returns
// the status for the n-th request (default 200) and may set retryAfter.
// Accepted (2xx) requests are kept, decoded, in `metrics` and `logs`.
export async function startReceiver({ port = 0, answer = () => ({ status: 200 }) } = {}) {
  const rx = { metrics: [], logs: [], requests: 0, refused: [], errors: [] };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const n = rx.requests++;
      const a = answer(req.url, n);
      if (a.status >= 300) {
        res.writeHead(a.status, a.retryAfter !== undefined ? { 'Retry-After': String(a.retryAfter) } : {});
        res.end();
        rx.refused.push(req.url);
        return;
      }
      try {
        if (req.headers['content-type'] !== 'application/json') throw new Error(`content-type ${req.headers['content-type']}`);
        const msg = decode(req.url, Buffer.concat(chunks), req.headers['content-encoding']);
        (req.url === '/v1/metrics' ? rx.metrics : rx.logs).push({ msg, headers: req.headers });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      } catch (e) {
        rx.errors.push(`${req.url}: ${e.message}`);
        res.writeHead(400);
        res.end(e.message);
      }
    });
  });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(port, '127.0.0.1', ok); });
  rx.port = server.address().port;
  rx.url = `http://127.0.0.1:${rx.port}`;
  rx.close = () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); });
  return rx;
}

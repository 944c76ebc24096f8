// The collector's query API (docs/collector.md), read with the read token.

const KEY = 'memgauge.readToken';

export class Unauthorized extends Error {}

export function token() {
  return localStorage.getItem(KEY) || '';
}

export function setToken(t) {
  if (t) localStorage.setItem(KEY, t);
  else localStorage.removeItem(KEY);
}

// A dashboard URL printed by the collector carries the token after "#token=":
// kept, then removed from the address bar (and from history).
export function takeTokenFromUrl() {
  const m = /^#token=([!-~]+)$/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + '#/');
}

export async function get(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v != null && v !== '') q.set(k, v);
  const url = q.toString() ? `${path}?${q}` : path;
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const res = await fetch(url, { headers, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('a read token is needed');
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const why = body ? [body.error, body.field, body.reason].filter(Boolean).join(': ') : res.statusText;
    const err = new Error(`${path}: ${res.status} ${why}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

// Per page view: /v1/stats of one version is asked once however many parts
// of the page need it.
const statsCache = new Map();
export function resetCache() {
  statsCache.clear();
}
export function stats(app, version) {
  const k = JSON.stringify([app, version]);
  if (!statsCache.has(k)) statsCache.set(k, get('/v1/stats', { app, version }));
  return statsCache.get(k);
}

// Runs the real memgauge-collector on a free 127.0.0.1 port (port 0 and
// --port-file), with a fresh SQLite file, one API key and one read token.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const BIN = process.env.MEMGAUGE_COLLECTOR_BIN || join(ROOT, 'build/collector-dash/memgauge-collector');
export const API_KEY = 'dashboard-test-api-key';
export const READ_TOKEN = 'dashboard-test-read-token-0123456789';

// Starts the collector; `extra` arguments are appended. Resolves once it
// listens. { url, port, dir, log(), stop() }.
export async function startCollector({ extra = [], readToken = READ_TOKEN } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'memgauge-dash-'));
  const portFile = join(dir, 'port');
  const logFile = join(dir, 'collector.log');
  const args = ['--listen', '127.0.0.1:0', '--db', join(dir, 'memgauge.db'), '--api-key', API_KEY,
    '--port-file', portFile, '--log', logFile, ...(readToken ? ['--read-token', readToken] : []),
    // fixtures may start months ago: kept unless a test asks for retention
    '--retention-days', '0', ...extra];
  const child = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') + stderr;
  for (let i = 0; i < 1000; i++) {
    if (exited) throw new Error(`collector exited early (${JSON.stringify(exited)}): ${log()}`);
    if (existsSync(portFile)) {
      const port = parseInt(readFileSync(portFile, 'utf8'), 10);
      if (port > 0) {
        const url = `http://127.0.0.1:${port}`;
        return {
          url, port, dir, readToken, log,
          async stop() {
            if (!exited) {
              child.kill('SIGTERM');
              for (let k = 0; k < 200 && !exited; k++) await sleep(25);
              if (!exited) child.kill('SIGKILL');
            }
            rmSync(dir, { recursive: true, force: true });
            return exited;
          },
        };
      }
    }
    await sleep(10);
  }
  child.kill('SIGKILL');
  throw new Error(`collector did not listen within 10 s: ${log()}`);
}

// Runs the binary to completion (for command-line refusals).
export function runCollector(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 10000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

export async function getJson(c, path, token = c.readToken) {
  const res = await fetch(c.url + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

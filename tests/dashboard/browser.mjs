// Real headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core from the dashboard's npm install; never a downloaded browser.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './collector.mjs';

const require = createRequire(join(ROOT, 'collector/dashboard/package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.MEMGAUGE_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'build/test-output/dashboard');

// A browser with a fresh profile. Every page opened from it records
// console errors, page errors and dialogs (an alert() means a script ran).
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'memgauge-chromium-'));
  mkdirSync(SHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
  });
  const problems = [];
  context.on('page', (page) => watch(page, problems));
  for (const p of context.pages()) watch(p, problems);
  return {
    context, problems,
    async page() {
      const p = context.pages()[0] || (await context.newPage());
      return p;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function watch(page, problems) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); await d.dismiss(); });
}

export async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

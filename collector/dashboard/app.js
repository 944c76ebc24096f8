// memgauge dashboard: hash routes, one page module each. Plain ES modules,
// no framework; every string from a report goes through dom.js as text.
import * as api from './api.js';
import * as charts from './charts.js';
import { h, add, clear, route } from './dom.js';
import { compareVersions } from './format.js';
import { overview } from './overview.js';
import { breakdown } from './breakdown.js';
import { sessions } from './sessions.js';
import { session } from './session.js';
import { oom } from './oom.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const appSelect = document.getElementById('app-select');
const forget = document.getElementById('forget-token');

const routes = [
  [/^\/$/, home],
  [/^\/apps\/([^/]+)$/, overview],
  [/^\/apps\/([^/]+)\/breakdown$/, breakdown],
  [/^\/apps\/([^/]+)\/sessions$/, sessions],
  [/^\/apps\/([^/]+)\/oom$/, oom],
  [/^\/sessions\/([0-9a-f-]{36})$/, session],
];

let generation = 0;
let appsPromise = null;

// /v1/apps with each app's versions in release order, asked once per view.
function apps() {
  appsPromise ||= api.get('/v1/apps').then((j) => j.apps.map((a) => ({
    app_id: a.app_id,
    versions: [...a.versions].sort((x, y) => compareVersions(x.version, y.version)),
  })));
  return appsPromise;
}

function parse() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, q] = raw.split('?');
  return { path, query: new URLSearchParams(q || '') };
}

function setNav(app, active) {
  clear(nav);
  if (!app) return;
  const items = [['overview', []], ['breakdown', ['breakdown']], ['sessions', ['sessions']],
    ['suspected OOMs', ['oom']]];
  for (const [label, tail] of items) {
    const key = tail[0] || 'overview';
    nav.append(h('a', { href: route(['apps', app, ...tail]), class: key === active ? 'active' : null }, label));
  }
}

async function fillAppSelect(current) {
  const list = await apps();
  clear(appSelect);
  appSelect.append(h('option', { value: '' }, list.length ? 'choose…' : 'no apps yet'));
  for (const a of list) appSelect.append(h('option', { value: a.app_id, selected: a.app_id === current }, a.app_id));
  appSelect.value = current || '';
}

appSelect.addEventListener('change', () => {
  if (appSelect.value) location.hash = route(['apps', appSelect.value]);
});

forget.addEventListener('click', () => {
  api.setToken('');
  render();
});

async function home(ctx) {
  const list = await apps();
  if (ctx.stale()) return;
  if (list.length === 1) {
    location.replace(route(['apps', list[0].app_id]));
    return;
  }
  add(ctx.main, h('h1', null, 'Apps'));
  if (!list.length) {
    add(ctx.main, h('p', { class: 'muted' },
      'No reports yet. Point the SDK at this collector (POST /v1/reports) and they appear here.'));
    return;
  }
  const ul = h('ul', { class: 'app-list' });
  for (const a of list) {
    const sessionsTotal = a.versions.reduce((s, v) => s + v.sessions, 0);
    ul.append(h('li', null, h('a', { href: route(['apps', a.app_id]) }, a.app_id),
      h('span', { class: 'muted' }, ` ${a.versions.length} versions, ${sessionsTotal} sessions`)));
  }
  add(ctx.main, ul);
}

function tokenForm(ctx, message) {
  add(ctx.main, h('section', { class: 'token-box' },
    h('h1', null, 'Read token'),
    h('p', null, message),
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        api.setToken(new FormData(e.target).get('token').trim());
        render();
      },
    },
    h('input', { name: 'token', type: 'password', autocomplete: 'off', placeholder: 'read token', required: true, 'aria-label': 'read token' }),
    h('button', { type: 'submit' }, 'Open'))));
}

async function render() {
  const gen = ++generation;
  api.resetCache();
  appsPromise = null;
  const { path, query } = parse();
  clear(main);
  forget.hidden = !api.token();
  let matched = null;
  let args = [];
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (m) {
      matched = page;
      args = m.slice(1).map(decodeURIComponent);
      break;
    }
  }
  const app = /^\/apps\//.test(path) ? args[0] : null;
  const ctx = {
    main, query, app, apps,
    stale: () => gen !== generation,
    nav: (active, appId) => {
      setNav(appId ?? app, active);
      if (appId) fillAppSelect(appId);
    },
  };
  setNav(app, path.split('/')[3] || 'overview');
  main.setAttribute('aria-busy', 'true');
  try {
    await fillAppSelect(app);
    if (!matched) {
      add(main, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the apps')));
    } else {
      await matched(ctx, ...args);
    }
  } catch (e) {
    if (gen !== generation) return;
    clear(main);
    if (e instanceof api.Unauthorized) {
      tokenForm(ctx, api.token()
        ? 'The collector refused this read token. Paste a valid one.'
        : 'This collector needs a read token to show its data (memgauge-collector --read-token, or the #token= link it printed at start).');
    } else {
      add(main, h('p', { class: 'error' }, String(e.message || e)));
    }
  } finally {
    if (gen === generation) main.removeAttribute('aria-busy');
  }
}

api.takeTokenFromUrl();
window.addEventListener('hashchange', render);
if (!(await charts.load())) {
  document.body.prepend(h('p', { class: 'banner' },
    'uPlot is missing (lib/uPlot.esm.js): run npm ci in collector/dashboard and rebuild the collector. Tables still work.'));
}
render();

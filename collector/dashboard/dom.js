// Building the page without markup strings: every value becomes a text node
// or an attribute set through the DOM, so a string from a report (an app id
// like <img src=x onerror=alert(1)>) is shown as text, never parsed.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

export function add(el, ...children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c)); // append(string) makes a text node
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// A link inside the dashboard: parts are encoded, the query drops empty values.
export function route(parts, query) {
  const path = '#/' + parts.map(encodeURIComponent).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function table(columns, rows, { empty = 'Nothing to show.', cls = '' } = {}) {
  const head = h('thead', null, h('tr', null, columns.map((c) =>
    h('th', { class: c.num ? 'num' : null, title: c.title }, c.label))));
  const body = h('tbody');
  for (const row of rows) {
    body.append(h('tr', { class: row.cls || null, dataset: row.data },
      columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(row.item))))); 
  }
  if (!rows.length) body.append(h('tr', null, h('td', { class: 'empty', colspan: columns.length }, empty)));
  return h('div', { class: 'table-wrap' }, h('table', { class: cls }, head, body));
}

export function card(label, value, note, attrs) {
  return h('div', { class: 'card', ...attrs }, h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value), note ? h('div', { class: 'card-note' }, note) : null);
}

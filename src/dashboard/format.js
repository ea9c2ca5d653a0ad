// Small DOM and formatting helpers. Every value from the API goes into the page as text
// (textContent), never as HTML.
export function el(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of [].concat(children)) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const dash = '–';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The URL as a link target when it is safe to follow: https:, or http: on this machine (a local
 * stack). Anything else (javascript:, data:, file:, http: elsewhere) comes from a webhook anyone
 * with the key can send, so it is shown as text only.
 */
export function linkable(url) {
  let u;
  try {
    u = new URL(String(url));
  } catch {
    return undefined;
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))) return u.href;
  return undefined;
}

export function duration(sec) {
  if (sec === undefined || sec === null || Number.isNaN(sec)) return dash;
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** amountCents are hundredths of the currency (US cents for USD). */
export function money(cents, currency = 'USD') {
  if (cents === undefined || cents === null || Number.isNaN(cents)) return dash;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      maximumFractionDigits: cents !== 0 && Math.abs(cents) < 100 ? 3 : 2,
    }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

export function percent(ratio) {
  if (ratio === undefined || ratio === null || Number.isNaN(ratio)) return dash;
  return `${(ratio * 100).toFixed(1)}%`;
}

export function count(n) {
  return n === undefined || n === null ? dash : new Intl.NumberFormat('en-US').format(n);
}

/** A time in the viewer's own zone, to the minute. */
export function time(iso) {
  if (!iso) return dash;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString('en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

/** A time for a table cell: kept on one line. */
export const timeCell = (iso) => el('span', { class: 'nowrap' }, time(iso));

/**
 * Fills a table: `columns` are [header, (row) => cell text or Node]. `onRow` makes rows
 * clickable (and reachable with the keyboard).
 */
export function fillTable(table, columns, rows, opts = {}) {
  table.replaceChildren();
  table.append(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        columns.map(([h]) => el('th', { scope: 'col' }, h)),
      ),
    ),
  );
  const body = el('tbody');
  if (rows.length === 0) body.append(el('tr', {}, el('td', { colspan: columns.length, class: 'empty' }, opts.empty ?? 'Nothing here.')));
  for (const row of rows) {
    const tr = el(
      'tr',
      opts.onRow ? { tabindex: 0, 'data-id': opts.rowId?.(row) } : {},
      columns.map(([, cell]) => el('td', {}, cell(row) ?? dash)),
    );
    if (opts.onRow) {
      tr.addEventListener('click', () => opts.onRow(row));
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') opts.onRow(row);
      });
    }
    body.append(tr);
  }
  table.append(body);
}

export const badge = (text, kind = text) => el('span', { class: `badge b-${String(kind).replace(/[^a-z-]/g, '')}` }, text);

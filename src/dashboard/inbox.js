// The Inbox panel (events on their way to the calls, dead letters with their reasons and a
// Replay button, refused webhooks) and, in a call's detail, what the platform sent: each request
// for the call, raw and canonical, in arrival order. Data from /api/events.
import { get, post } from './api.js';
import { badge, count, dash, el, fillTable, timeCell } from './format.js';

const $ = (id) => document.getElementById(id);
/** What the page shows of one body: enough to read, not a 10 MB text node. */
const SHOWN_CHARS = 64 * 1024;
const cut = (s) => (s.length > SHOWN_CHARS ? `${s.slice(0, SHOWN_CHARS)}\n… (${count(s.length - SHOWN_CHARS)} more characters)` : s);

async function replay(e, button) {
  button.disabled = true;
  try {
    await post(`/api/events/${encodeURIComponent(e.id)}/replay`);
    button.textContent = 'Replayed';
  } catch (err) {
    button.disabled = false;
    button.textContent = err.status === 403 ? 'Needs an admin key' : `Failed: ${err.message}`;
  }
}

export async function loadInbox() {
  const [dead, refused] = await Promise.all([
    get('/api/events', { state: 'dead', limit: 50 }),
    get('/api/events', { state: 'refused', limit: 20 }),
  ]);
  const s = dead.inbox;
  const stats = $('inbox-stats');
  stats.replaceChildren(
    el('span', { 'data-depth': s.depth }, `Waiting: ${count(s.depth)}`),
    el('span', {}, `Oldest: ${s.oldestAgeSec ? `${count(s.oldestAgeSec)} s` : dash}`),
    el('span', { 'data-dead': s.deadLetters }, `Dead letters: ${count(s.deadLetters)}`),
  );
  fillTable(
    $('inbox-dead'),
    [
      ['Received', (e) => timeCell(e.receivedAt)],
      ['Call', (e) => e.callId],
      ['Event', (e) => e.type],
      ['Tries', (e) => e.attempts],
      ['Reason', (e) => e.reason],
      [
        '',
        (e) =>
          el('button', { type: 'button', class: 'secondary', 'data-replay': e.id, onclick: (ev) => replay(e, ev.currentTarget) }, 'Replay'),
      ],
    ],
    dead.events,
    { empty: 'No dead letters: every event reached its call.' },
  );
  fillTable(
    $('inbox-refused'),
    [
      ['Received', (e) => timeCell(e.receivedAt)],
      ['Platform', (e) => e.provider ?? dash],
      ['Answer', (e) => badge(String(e.status), 'failed')],
      ['Reason', (e) => e.reason],
    ],
    refused.events,
    { empty: 'No webhook was refused.' },
  );
}

/** One request, loaded when opened: the body as received and the canonical event. */
function requestItem(e) {
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const item = el('details', { class: 'sent', 'data-event': e.id }, [
    el('summary', {}, [timeCell(e.receivedAt), ` ${e.providerEvent ?? e.type} `, badge(e.state)]),
    body,
  ]);
  let loaded = false;
  item.addEventListener('toggle', async () => {
    if (!item.open || loaded) return;
    loaded = true;
    try {
      const d = await get(`/api/events/${encodeURIComponent(e.id)}`);
      const r = d.request ?? {};
      body.replaceChildren(
        el('p', { class: 'muted' }, `${r.contentType ?? ''} · ${count(r.bytes ?? 0)} bytes · signature ${r.signature ?? dash}`),
        el('h4', {}, 'Raw'),
        el('pre', { class: 'raw' }, cut(r.body ?? (r.bodyBase64 ? `(binary, base64) ${r.bodyBase64}` : ''))),
        el('h4', {}, 'Canonical'),
        el('pre', { class: 'canonical' }, cut(JSON.stringify(d.event, null, 2))),
      );
    } catch (err) {
      body.replaceChildren(el('p', { class: 'error' }, `Could not load it: ${err.message}`));
    }
  });
  return item;
}

/** The call's requests, oldest first; filled in after the rest of the detail. */
export function sentSection(callId) {
  const list = el('div', { id: 'd-sent' }, el('p', { class: 'muted' }, 'Loading…'));
  get('/api/events', { callId, limit: 100 }).then(
    (r) => {
      const events = [...r.events].reverse();
      list.replaceChildren(
        ...(events.length ? events.map(requestItem) : [el('p', { class: 'muted' }, 'Nothing kept (past the retention).')]),
      );
    },
    (err) => list.replaceChildren(el('p', { class: 'error' }, `Could not load it: ${err.message}`)),
  );
  return list;
}

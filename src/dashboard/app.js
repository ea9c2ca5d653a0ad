// The dashboard page: filters, periodic refresh without a reload, the lists (follow-up queue,
// stale calls, recent calls) and the hand-off to the charts and the detail panel. All data comes
// from the /api routes, authenticated by the session cookie.
import { get, loadSession, post } from './api.js';
import { renderAnalytics } from './charts.js';
import { initDetail, openDetail, refreshDetail } from './detail.js';
import { loadInbox } from './inbox.js';
import { badge, count, dash, duration, el, fillTable, money, timeCell } from './format.js';

const $ = (id) => document.getElementById(id);
let timer;
let loading = false;
/** A refresh asked for while one runs (a filter changed): run once more when it ends. */
let again = false;

const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/**
 * The filters as API query parameters: `to` is the day after the last day shown (exclusive), and
 * left out when the range ends today, so it runs up to now.
 */
function filters() {
  const from = $('f-from').value;
  const to = $('f-to').value;
  const next = to && to < isoDay(new Date()) ? new Date(`${to}T00:00:00`) : undefined;
  if (next) next.setDate(next.getDate() + 1);
  const f = { from: from || undefined, to: next ? isoDay(next) : undefined, provider: $('f-provider').value || undefined };
  // What the numbers on screen were asked with (the browser test asks the API the same).
  document.body.dataset.query = new URLSearchParams(Object.entries(f).filter(([, v]) => v)).toString();
  return f;
}

function showBanner(message) {
  const b = $('banner');
  b.textContent = message ?? '';
  b.hidden = !message;
}

async function refresh() {
  if (loading) {
    again = true;
    return;
  }
  const f = filters();
  if (f.from && $('f-to').value && f.from > $('f-to').value) {
    showBanner('The range is empty: "From" is after "To".');
    return;
  }
  loading = true;
  again = false;
  $('refresh').disabled = true;
  const problems = [];
  const keep = (what) => (err) => {
    problems.push(`${what}: ${err.message}`);
  };
  try {
    await Promise.all([
      renderAnalytics(f).catch(keep('analytics')),
      loadQueues().catch(keep('follow-up queue')),
      loadInbox().catch(keep('inbox')),
      loadCalls(f).catch(keep('recent calls')),
      refreshDetail().catch(keep('call detail')),
    ]);
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}`;
    showBanner(problems.length ? `Some data could not be loaded. ${problems.join(' · ')}` : undefined);
  } finally {
    loading = false;
    $('refresh').disabled = false;
  }
  if (again) await refresh();
}

async function loadCalls(f) {
  const page = await get('/api/calls', { ...f, limit: 50 });
  // With a filter the API counts only until past the page: "of 51+".
  $('n-calls').textContent = `(${count(page.items.length)} of ${count(page.total)}${page.totalExact === false ? '+' : ''})`;
  $('n-calls').dataset.total = String(page.total);
  fillTable(
    $('calls'),
    [
      ['Created', (c) => timeCell(c.createdAt)],
      ['Call', (c) => c.callId],
      ['Status', (c) => badge(c.status)],
      ['Outcome', (c) => (c.outcome ? badge(c.outcome) : dash)],
      ['Duration', (c) => duration(c.duration)],
      ['Cost', (c) => (c.cost ? money(c.cost.amountCents, c.cost.currency) : dash)],
      ['Contact', (c) => c.contactId ?? dash],
      ['Provider', (c) => c.provider],
      ['Agent', (c) => c.agentId ?? dash],
      ['Follow-up', (c) => (c.followUp ? badge(c.followUp.status) : dash)],
    ],
    page.items,
    { onRow: (c) => openDetail(c.callId), rowId: (c) => c.callId, empty: 'No calls in this range.' },
  );
}

const callLink = (id) =>
  el(
    'a',
    {
      href: '#',
      onclick: (e) => {
        e.preventDefault();
        void openDetail(id);
      },
    },
    id,
  );

async function loadQueues() {
  const q = await get('/api/dashboard/queues');
  const setCount = (id, n) => {
    $(id).textContent = `(${n})`;
    $(id).dataset.count = String(n);
  };
  setCount('n-scheduled', q.scheduled.length);
  setCount('n-due', q.due.length);
  setCount('n-moved', q.moved.length);
  setCount('n-blocked', q.blocked.length);
  setCount('n-stale', q.stale.length);
  const b = q.dialBudget;
  $('dial-budget').textContent =
    `Unattended follow-up calls today (${b.day} UTC): ${b.used} of ${b.budget}${b.refused ? `; ${b.refused} over budget, due above` : ''}`;
  $('dial-budget').dataset.used = String(b.used);
  fillTable(
    $('q-scheduled'),
    [
      ['Call', (s) => callLink(s.callId)],
      ['Contact', (s) => s.contactId ?? s.to],
      ['Attempt', (s) => (s.attempt ? `${s.attempt} of ${s.maxAttempts}` : dash)],
      ["Contact's time", (s) => `${s.localTime} ${s.zone}`],
      ['Your time', (s) => timeCell(s.nextFollowUpAt)],
    ],
    q.scheduled,
    { empty: 'No follow-up call is scheduled.' },
  );
  fillTable(
    $('q-due'),
    [
      ['Call', (d) => callLink(d.callId)],
      ['Attempt', (d) => d.attempt],
      ['Number', (d) => d.to ?? d.contactId],
      ['Why', (d) => d.reason],
      ['Since', (d) => timeCell(d.dueAt)],
    ],
    q.due,
    { empty: 'Nothing waits for a person.' },
  );
  fillTable(
    $('q-moved'),
    [
      ['Call', (s) => callLink(s.callId)],
      ["Contact's time", (s) => `${s.localTime} ${s.zone}`],
      ['Why', (s) => s.window],
    ],
    q.moved,
    { empty: 'No follow-up was moved by the calling window.' },
  );
  fillTable(
    $('q-blocked'),
    [
      ['Call', (b) => callLink(b.callId)],
      ['Contact', (b) => b.contactId],
      ['Why', (b) => b.reason],
      ['When', (b) => timeCell(b.at)],
    ],
    q.blocked,
    { empty: 'No follow-up was blocked.' },
  );
  fillTable(
    $('q-stale'),
    [
      ['Call', (s) => callLink(s.callId)],
      ['Status', (s) => badge(s.status)],
      ['Provider', (s) => s.provider],
      ['Why', (s) => s.reason],
      ['Last change', (s) => timeCell(s.updatedAt)],
    ],
    q.stale,
    { empty: 'No stale call.' },
  );
}

function schedule() {
  clearInterval(timer);
  const every = Number($('f-poll').value);
  if (every > 0)
    timer = setInterval(() => {
      if (!document.hidden) void refresh();
    }, every * 1000);
}

async function main() {
  let session;
  try {
    session = await loadSession();
  } catch {
    location.assign('/dashboard/sign-in?error=expired');
    return;
  }
  $('who').textContent = `${session.orgName} · ${session.scope} key ${session.keyId}`;
  const today = new Date();
  const start = new Date(today);
  start.setDate(start.getDate() - 13);
  $('f-from').value = isoDay(start);
  $('f-to').value = isoDay(today);
  initDetail({ scope: session.scope, who: `dashboard (key ${session.keyId})`, onChange: () => void refresh() });
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    void refresh();
  });
  for (const id of ['f-from', 'f-to', 'f-provider']) $(id).addEventListener('change', () => void refresh());
  $('f-poll').addEventListener('change', schedule);
  $('sign-out').addEventListener('click', async () => {
    await post('/dashboard/sign-out').catch(() => undefined);
    location.assign('/dashboard/sign-in');
  });
  await refresh();
  schedule();
}

void main();

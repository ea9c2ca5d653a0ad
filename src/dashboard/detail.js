// The call detail panel: timeline, transcript, recording, follow-up chain, email, the link to
// the call's workflow in the Temporal UI, and (admin sessions) the follow-up controls, showing
// the workflow's own answer from the 202 or 409 body.
import { ApiError, get, post } from './api.js';
import { sentSection } from './inbox.js';
import { badge, dash, duration, el, fillTable, linkable, money, time, timeCell } from './format.js';

let current;

const section = (title, ...children) => el('section', { class: 'd-section' }, [el('h3', {}, title), ...children]);
const facts = (pairs) =>
  el(
    'dl',
    { class: 'facts' },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
  );

export function initDetail(opts) {
  document.getElementById('d-close').addEventListener('click', closeDetail);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeDetail();
  });
  current = { ...opts, callId: undefined };
}

export function closeDetail() {
  document.getElementById('detail').hidden = true;
  current.callId = undefined;
  current.note = undefined;
}

/**
 * Reloads the open call with the page's periodic refresh, keeping the last answer and what was
 * typed; skipped while a field has the focus or a control is working.
 */
export async function refreshDetail() {
  const panel = document.getElementById('detail');
  if (
    !current.callId ||
    panel.hidden ||
    current.busy ||
    (panel.contains(document.activeElement) && document.activeElement.matches('input'))
  )
    return;
  const typed = [...panel.querySelectorAll('input[id]')].map((i) => [i.id, i.value]);
  await openDetail(current.callId, current.note);
  for (const [id, value] of typed) {
    const input = document.getElementById(id);
    if (input) input.value = value;
  }
}

/** Opens (or refreshes) the panel for a call. */
export async function openDetail(callId, note) {
  current.callId = callId;
  current.note = note;
  const panel = document.getElementById('detail');
  const body = document.getElementById('d-body');
  panel.hidden = false;
  document.getElementById('d-title').textContent = `Call ${callId}`;
  if (!note) body.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  const enc = encodeURIComponent(callId);
  let call, attempts, contact;
  try {
    [call, attempts] = await Promise.all([get(`/api/calls/${enc}`), get('/api/follow-ups', { callId })]);
    contact = call.contactId ? await get(`/api/contacts/${encodeURIComponent(call.contactId)}`).catch(() => undefined) : undefined;
  } catch (err) {
    body.replaceChildren(el('p', { class: 'error' }, `Could not load the call: ${err.message}`));
    return;
  }
  if (current.callId !== callId) return;
  body.replaceChildren(...render(call, attempts.items, contact, note));
}

function render(call, attempts, contact, note) {
  const out = [];
  out.push(
    el('div', { class: 'd-status' }, [
      badge(call.status),
      call.outcome && call.outcome !== call.status ? badge(call.outcome) : null,
      call.stale ? badge('stale') : null,
    ]),
  );
  out.push(
    facts([
      ['Provider', call.provider],
      ['Agent', call.agentId],
      ['From', call.from],
      ['To', call.to],
      ['Direction', call.direction],
      ['Started', call.startedAt && time(call.startedAt)],
      ['Ended', call.endedAt && time(call.endedAt)],
      ['Duration', duration(call.duration)],
      ['Cost', call.cost ? money(call.cost.amountCents, call.cost.currency) : dash],
      [
        'Contact',
        contact
          ? `${contact.name ?? call.contactId}${contact.email ? ` <${contact.email}>` : ''}${contact.phone ? ` ${contact.phone}` : ''}`
          : call.contactId,
      ],
      ['Ended because', call.endedReason],
    ]),
  );
  out.push(
    el('p', { class: 'links' }, [
      el('a', { href: call.temporalUi, target: '_blank', rel: 'noopener noreferrer', id: 'd-temporal' }, 'Workflow in the Temporal UI'),
      call.recordingUrl
        ? linkable(call.recordingUrl)
          ? el('a', { href: linkable(call.recordingUrl), target: '_blank', rel: 'noopener noreferrer', id: 'd-recording' }, 'Recording')
          : el('span', { id: 'd-recording', class: 'muted' }, `Recording (not a web link, shown as text): ${call.recordingUrl}`)
        : el('span', { class: 'muted' }, call.recordingReady ? 'Recording ready' : 'No recording yet'),
    ]),
  );

  out.push(followUpSection(call, attempts));
  out.push(controls(call, note));
  out.push(
    section(
      'Email',
      call.email
        ? facts([
            ['Status', badge(call.email.status)],
            ['To', call.email.to],
            ['Why', call.email.reason],
            ['At', time(call.email.at)],
          ])
        : el('p', { class: 'muted' }, 'No thank-you email for this call.'),
    ),
  );
  if (call.analysis && Object.keys(call.analysis).length) {
    const a = call.analysis;
    out.push(
      section(
        'Analysis',
        facts([
          ['Summary', a.summary],
          ['Sentiment', a.sentiment],
          ['Successful', a.successful === undefined ? undefined : String(a.successful)],
        ]),
      ),
    );
  }
  const timeline = el('table', { class: 'grid compact', id: 'd-timeline' });
  fillTable(
    timeline,
    [
      ['Time', (e) => timeCell(e.occurredAt ?? e.receivedAt)],
      ['Event', (e) => e.type],
      ['Platform event', (e) => e.providerEvent],
      ['Outcome', (e) => e.outcome],
      ['Note', (e) => (e.ignored ? `ignored: ${e.ignored}` : '')],
    ],
    call.timeline ?? [],
  );
  out.push(section('Timeline', timeline));
  out.push(section('What the platform sent', sentSection(call.callId)));
  out.push(
    section(
      'Transcript',
      call.transcript
        ? el('pre', { class: 'transcript', id: 'd-transcript' }, call.transcript)
        : el('p', { class: 'muted' }, 'No transcript.'),
    ),
  );
  return out;
}

function followUpSection(call, attempts) {
  const f = call.followUp;
  if (!f) return section('Follow-up', el('p', { class: 'muted' }, 'No follow-up for this call.'));
  const parts = [el('p', { id: 'd-followup-summary' }, [badge(f.status), ' ', f.summary ?? ''])];
  parts.push(
    facts([
      ['Attempt', f.attempt && f.maxAttempts ? `${f.attempt} of ${f.maxAttempts}` : undefined],
      ['Next call', f.nextFollowUpAt ? time(f.nextFollowUpAt) : undefined],
      ['Calling window', f.window],
      ['Why', f.reason],
    ]),
  );
  const chain = el('table', { class: 'grid compact' });
  fillTable(
    chain,
    [
      ['#', (a) => a.attempt],
      ['For', (a) => timeCell(a.scheduledFor)],
      ['Status', (a) => badge(a.status)],
      [
        'Follow-up call',
        (a) =>
          a.callId
            ? el(
                'a',
                {
                  href: '#',
                  onclick: (e) => {
                    e.preventDefault();
                    void openDetail(a.callId);
                  },
                },
                a.callId,
              )
            : dash,
      ],
      ['Outcome', (a) => a.outcome],
      ['Note', (a) => a.reason ?? (a.windowOverride ? `window overridden by ${a.windowOverride.by}: ${a.windowOverride.reason}` : '')],
    ],
    f.attempts ?? [],
    { empty: 'No attempt yet.' },
  );
  parts.push(el('h4', {}, 'Attempts'), chain);
  if (attempts.length) {
    const placed = el('table', { class: 'grid compact' });
    fillTable(
      placed,
      [
        ['#', (a) => a.attempt],
        ['State', (a) => badge(a.status)],
        ['To', (a) => a.to],
        ['Platform call', (a) => a.providerCallId],
        ['Note', (a) => a.reason ?? a.lastError],
      ],
      attempts,
    );
    parts.push(el('h4', {}, 'Placed or handed to a person'), placed);
  }
  const history = el(
    'ol',
    { class: 'history' },
    (f.history ?? [])
      .slice(-20)
      .map((h) =>
        el(
          'li',
          {},
          `${time(h.at)} · ${h.event}${h.attempt ? ` #${h.attempt}` : ''}${h.detail ? ` · ${h.detail}` : ''}${h.by ? ` (by ${h.by})` : ''}`,
        ),
      ),
  );
  parts.push(el('h4', {}, 'History'), history);
  return section('Follow-up', ...parts);
}

function controls(call, note) {
  const result = el(
    'p',
    { id: 'd-answer', class: note ? `answer ${note.ok ? 'ok' : 'refused'}` : 'answer', role: 'status', 'aria-live': 'polite' },
    note ? note.text : '',
  );
  if (current.scope !== 'admin') {
    return section(
      'Follow-up controls',
      el('p', { class: 'muted' }, 'Signed in with a read key: retry, cancel and schedule need an admin key.'),
    );
  }
  const enc = encodeURIComponent(call.callId);
  const act = async (button, path, body) => {
    button.disabled = true;
    current.busy = true;
    let answer;
    try {
      const r = await post(`/api/calls/${enc}/${path}`, body);
      answer = { ok: true, text: `Workflow: ${r.message}${r.followUp ? ` · ${r.followUp}` : ''}` };
    } catch (err) {
      answer = { ok: false, text: err instanceof ApiError ? `${err.status} ${err.body?.error ?? ''}: ${err.message}` : String(err) };
    }
    current.busy = false;
    await openDetail(call.callId, answer);
    current.onChange?.();
  };
  const reason = el('input', { type: 'text', id: 'd-cancel-reason', placeholder: 'why to cancel (required)', size: 24 });
  const delay = el('input', { type: 'text', id: 'd-schedule-in', placeholder: '30m, 2h, 1d', value: '2h', size: 6 });
  const retry = el('button', { type: 'button', id: 'd-retry' }, 'Retry now');
  const cancel = el('button', { type: 'button', id: 'd-cancel', class: 'danger' }, 'Cancel follow-up');
  const schedule = el('button', { type: 'button', id: 'd-schedule' }, 'Schedule');
  retry.addEventListener('click', () => act(retry, 'retry', { by: current.who, reason: 'retry from the dashboard' }));
  cancel.addEventListener('click', () => act(cancel, 'follow-up/cancel', { reason: reason.value, by: current.who }));
  schedule.addEventListener('click', () => act(schedule, 'follow-up/schedule', { in: delay.value.trim(), by: current.who }));
  return section(
    'Follow-up controls',
    el('div', { class: 'controls' }, [
      el('div', {}, [retry]),
      el('div', {}, [reason, cancel]),
      el('div', {}, [el('label', {}, ['in ', delay]), schedule]),
    ]),
    result,
  );
}

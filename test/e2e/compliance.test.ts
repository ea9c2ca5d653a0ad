// Calling rules and do-not-call over HTTP on the real stack (receiver, Temporal, worker,
// database): settings with their defaults and validation, the organization's list, and a contact
// marked do-not-call whose pending follow-up is canceled at once with the reason.
import { addApiKey } from '../../src/store/organizations';
import { DEFAULT_COMPLIANCE } from '../../src/store/compliance';
import { getState, workflowIdFor } from '../../workflows/messages';
import { eventually, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('compliance');
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function send(method: string, path: string, body?: unknown, key = stack.apiKey) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { 'X-API-Key': key, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

test('calling rules: defaults, a partial PUT, and bad values named in a 400; only admin keys may change them', async () => {
  expect(await send('GET', '/api/settings/calling-rules')).toEqual({ status: 200, json: DEFAULT_COMPLIANCE });
  // The default purpose is the strictest: telephone solicitation.
  expect(DEFAULT_COMPLIANCE.purpose).toBe('solicitation');
  const put = await send('PUT', '/api/settings/calling-rules', {
    callingWindow: { start: '09:00', end: '20:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'], regions: [] },
    optOutField: 'do_not_call',
  });
  expect(put.status).toBe(200);
  expect(put.json).toMatchObject({
    callingWindow: { start: '09:00', end: '20:00', regions: [] },
    defaultTimeZone: 'UTC',
    contactCapPer24h: 3,
    optOutField: 'do_not_call',
  });
  expect((await send('GET', '/api/settings/calling-rules')).json).toEqual(put.json);

  const cases: [unknown, string][] = [
    [{ callingWindow: { start: '8am', end: '20:00', days: ['mon'], regions: [] } }, 'callingWindow.start'],
    [{ callingWindow: { start: '20:00', end: '08:00', days: ['mon'], regions: [] } }, 'callingWindow.end: must be after start'],
    [{ defaultTimeZone: 'Mars/Olympus' }, 'defaultTimeZone'],
    [{ purpose: 'sales' }, 'purpose'],
    [{ contactCapPer24h: -1 }, 'contactCapPer24h'],
    [{ windowStart: '08:00' }, 'Unknown field: windowStart'],
  ];
  for (const [body, field] of cases) {
    const r = await send('PUT', '/api/settings/calling-rules', body);
    expect(r.status).toBe(400);
    expect(r.json.message).toContain(field);
  }
  const { key: readKey } = await addApiKey(stack.store.col, stack.orgId, { scope: 'read' });
  expect((await send('GET', '/api/settings/calling-rules', undefined, readKey)).status).toBe(200);
  expect((await send('PUT', '/api/settings/calling-rules', { contactCapPer24h: 1 }, readKey)).status).toBe(403);
  // Put the defaults back for the other tests.
  expect((await send('PUT', '/api/settings/calling-rules', DEFAULT_COMPLIANCE)).status).toBe(200);
}, 60_000);

test('the do-not-call list: add one or many, list, remove; a bad number is a 400 naming it', async () => {
  const one = await send('POST', '/api/do-not-call', { phone: '+1 415 555 0123', reason: 'asked on the phone' });
  expect(one).toEqual({ status: 201, json: { added: 1, received: 1, canceledFollowUps: [] } });
  const many = await send('POST', '/api/do-not-call', {
    numbers: [{ phone: '+14155550123' }, { phone: '+442071234567', reason: 'letter' }],
  });
  expect(many.json).toMatchObject({ added: 1, received: 2 });
  const list = await send('GET', '/api/do-not-call?limit=10');
  expect(list.json.total).toBe(2);
  expect(list.json.items.map((i: any) => [i.phone, i.reason, i.source])).toEqual([
    ['+14155550123', 'asked on the phone', 'list'],
    ['+442071234567', 'letter', 'list'],
  ]);
  const bad = await send('POST', '/api/do-not-call', { numbers: [{ phone: '+14155550124' }, { phone: 'call me' }] });
  expect(bad.status).toBe(400);
  expect(bad.json.message).toContain('numbers.1.phone');
  expect((await send('DELETE', `/api/do-not-call/${encodeURIComponent('+442071234567')}`)).json).toEqual({ removed: '+442071234567' });
  expect((await send('DELETE', '/api/do-not-call/+442071234567')).status).toBe(404);
  expect((await send('DELETE', '/api/do-not-call/abc')).status).toBe(400);
  expect((await send('GET', '/api/do-not-call')).json.total).toBe(1);
}, 60_000);

test('PATCH doNotCall marks the contact, cancels its pending follow-up with the reason, and null clears the mark', async () => {
  const contactId = uniqueId('contact');
  const callId = uniqueId('call');
  const phone = '+13125550177';
  expect((await send('POST', '/api/contacts', { contactId, phone })).status).toBe(201);
  const r = await stack.post('/api/calls/webhook', {
    callId,
    provider: 'generic',
    event: 'call.completed',
    status: 'no-answer',
    from: '+13125550100',
    to: phone,
    metadata: { contactId },
  });
  expect(r.status).toBe(200);
  const wf = stack.client.workflow.getHandle(workflowIdFor(stack.orgId, callId));
  await eventually('a scheduled follow-up', async () => (await wf.query(getState)).followUp?.status === 'scheduled', 30_000);

  const patched = await send('PATCH', `/api/contacts/${contactId}`, { doNotCall: { reason: 'asked to stop' } });
  expect(patched.status).toBe(200);
  expect(patched.json.doNotCall).toMatchObject({ reason: 'asked to stop', source: 'contact' });
  expect(patched.json.canceledFollowUps).toEqual([workflowIdFor(stack.orgId, callId)]);
  const plan = (await wf.query(getState)).followUp!;
  expect(plan).toMatchObject({ status: 'canceled', reason: 'the contact is on the do-not-call list (contact: asked to stop)' });
  const record = await eventually(
    'the record',
    async () => {
      const c = await send('GET', `/api/calls/${callId}`);
      return c.json.followUp?.status === 'canceled' && c.json;
    },
    30_000,
  );
  expect(record.followUp.summary).toContain('do-not-call');
  expect((await send('GET', `/api/contacts/${contactId}`)).json.doNotCall.reason).toBe('asked to stop');

  const cleared = await send('PATCH', `/api/contacts/${contactId}`, { doNotCall: null });
  expect(cleared.json.doNotCall).toBeUndefined();
  expect((await send('PATCH', `/api/contacts/${contactId}`, { doNotCall: { reason: '' } })).status).toBe(400);
}, 90_000);

test('retry obeys the window unless a person overrides it over HTTP, which needs by and reason and is recorded', async () => {
  // A window that excludes the current hour in UTC, the contact's own time zone; informational
  // calls, so no calling law narrows the window to nothing at some hours of the day.
  const h = new Date().getUTCHours();
  const window = h < 12 ? { start: '20:00', end: '23:00' } : { start: '02:00', end: '05:00' };
  expect(
    (
      await send('PUT', '/api/settings/calling-rules', {
        purpose: 'informational',
        callingWindow: { ...window, days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], regions: [] },
      })
    ).status,
  ).toBe(200);
  const contactId = uniqueId('contact');
  const callId = uniqueId('call');
  expect((await send('POST', '/api/contacts', { contactId, phone: '+13125550188', timezone: 'UTC' })).status).toBe(201);
  await stack.post('/api/calls/webhook', {
    callId,
    provider: 'generic',
    event: 'call.completed',
    status: 'no-answer',
    from: '+13125550100',
    to: '+13125550188',
    metadata: { contactId },
  });
  const wf = stack.client.workflow.getHandle(workflowIdFor(stack.orgId, callId));
  await eventually('a scheduled follow-up', async () => (await wf.query(getState)).followUp?.status === 'scheduled', 30_000);

  const retry = await send('POST', `/api/calls/${callId}/retry`, {});
  expect(retry.status).toBe(202);
  expect(retry.json.followUp).toMatch(new RegExp(`scheduled for .*\\(moved to ${window.start} UTC on .* \\(calling window\\)\\)$`));

  const noWho = await send('POST', `/api/calls/${callId}/retry`, { overrideWindow: true });
  expect(noWho.status).toBe(400);
  expect(noWho.json.message).toBe('Invalid field: overrideWindow (overriding the calling window needs by and reason)');

  const forced = await send('POST', `/api/calls/${callId}/retry`, {
    overrideWindow: true,
    by: 'ops',
    reason: 'customer asked for a call now',
  });
  expect(forced.status).toBe(202);
  // No dialer in this organization: the attempt goes to a person at once, outside the window.
  const plan = await eventually(
    'due now',
    async () => {
      const p = (await wf.query(getState)).followUp;
      return p?.status === 'due' && p;
    },
    30_000,
  );
  expect(plan.history.find((e) => e.event === 'window overridden')).toMatchObject({ by: 'ops', detail: 'customer asked for a call now' });
  expect(plan.attempts[0].windowOverride).toEqual({ by: 'ops', reason: 'customer asked for a call now' });
  await wf.terminate('test done');
  expect((await send('PUT', '/api/settings/calling-rules', DEFAULT_COMPLIANCE)).status).toBe(200);
}, 90_000);

test("a contact's region (where the person lives) is kept and validated: its calling law applies besides the number's", async () => {
  const contactId = uniqueId('contact');
  const made = await send('POST', '/api/contacts', { contactId, phone: '+12145550123', region: 'US-OK' });
  expect(made.status).toBe(201);
  expect(made.json.region).toBe('US-OK');
  const bad = await send('PATCH', `/api/contacts/${contactId}`, { region: 'Oklahoma' });
  expect(bad.status).toBe(400);
  expect(bad.json.message).toContain('region');
  expect((await send('PATCH', `/api/contacts/${contactId}`, { region: 'CA-ON' })).json.region).toBe('CA-ON');
  expect((await send('GET', `/api/contacts/${contactId}`)).json.region).toBe('CA-ON');
});

// Responses of the real stack against /openapi.json: every route, its successes and its errors,
// validated with a JSON Schema 2020-12 validator. A status the document does not list fails too.
import { addApiKey } from '../../src/store/organizations';
import { conformance } from '../support/openapi';
import { eventually, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('openapi');
}, 120_000);
afterAll(async () => stack?.stop());

const problems: string[] = [];
const seen = new Set<string>();

/** Sends a request, checks the response against the document, returns it. */
async function call(
  method: string,
  template: string,
  path: string,
  opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { 'x-api-key': stack.apiKey, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(stack.baseUrl + path, {
    method,
    headers,
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  const type = res.headers.get('content-type');
  const body = type?.startsWith('application/json') ? JSON.parse(text) : text;
  problems.push(...conformance(method, template, res.status, type, body));
  seen.add(`${method} ${template} ${res.status}`);
  return { status: res.status, body, headers: res.headers };
}

const completed = (callId: string) => ({
  callId,
  provider: 'generic',
  event: 'call.completed',
  from: '+14155551234',
  to: '+14155555678',
  duration: 61,
  status: 'completed',
  recording_url: 'https://example.com/r.mp3',
  transcript: 'Hello.',
  metadata: { contactId: `ct_${callId}`, agentId: 'agent_1', any: { nested: [1, 'x'] } },
  timestamp: '2025-01-15T10:30:00.000Z',
});

test('every route answers with a documented status and a body that matches its schema', async () => {
  const done = uniqueId('c_oa');
  const missed = uniqueId('c_oa_missed');
  // Webhooks: accepted on both routes, and the errors.
  expect((await call('POST', '/api/calls/webhook', '/api/calls/webhook', { body: completed(done) })).status).toBe(200);
  expect(
    (
      await call('POST', '/api/calls/webhook/{provider}', '/api/calls/webhook/generic', {
        body: { ...completed(missed), event: 'call.failed', status: 'no-answer', duration: 0 },
      })
    ).status,
  ).toBe(200);
  expect(
    (await call('POST', '/api/calls/webhook', '/api/calls/webhook', { raw: '{"callId":', headers: { 'content-type': 'application/json' } }))
      .status,
  ).toBe(400);
  expect((await call('POST', '/api/calls/webhook', '/api/calls/webhook', { body: { event: 'call.completed' } })).status).toBe(400);
  expect(
    (await call('POST', '/api/calls/webhook', '/api/calls/webhook', { raw: 'x', headers: { 'content-type': 'text/plain' } })).status,
  ).toBe(415);
  expect(
    (await call('POST', '/api/calls/webhook', '/api/calls/webhook', { body: completed(done), headers: { 'x-api-key': 'ck_nope_nope' } }))
      .status,
  ).toBe(401);
  expect((await call('POST', '/api/calls/webhook/{provider}', '/api/calls/webhook/nosuch', { body: completed(done) })).status).toBe(404);
  expect(
    (
      await call('POST', '/api/calls/webhook/{provider}', `/api/calls/webhook/generic?api_key=${stack.apiKey}`, {
        body: completed(done),
        headers: { 'x-api-key': '' },
      })
    ).status,
  ).toBe(200);
  const { key: readKey } = await addApiKey(stack.store.col, stack.orgId, { scope: 'read' });
  expect(
    (await call('POST', '/api/calls/webhook', '/api/calls/webhook', { body: completed(done), headers: { 'x-api-key': readKey } })).status,
  ).toBe(403);

  // Reads.
  await eventually('both calls recorded', async () => {
    const a = await stack.get(`/api/calls/${done}`);
    const b = await stack.get(`/api/calls/${missed}`);
    return a.json?.status === 'completed' && b.json?.followUp?.status === 'scheduled';
  });
  expect((await call('GET', '/api/calls/{callId}', `/api/calls/${done}`)).status).toBe(200);
  expect((await call('GET', '/api/calls/{callId}', `/api/calls/${missed}`)).status).toBe(200);
  expect((await call('GET', '/api/calls/{callId}', '/api/calls/c_nowhere')).status).toBe(404);
  expect((await call('GET', '/api/calls', '/api/calls?limit=5&provider=generic&from=2020-01-01')).status).toBe(200);
  expect((await call('GET', '/api/calls', '/api/calls', { headers: { 'x-api-key': readKey } })).status).toBe(200);
  expect((await call('GET', '/api/calls', '/api/calls?limit=0')).status).toBe(400);
  expect((await call('GET', '/api/calls', `/api/calls?api_key=${stack.apiKey}`)).status).toBe(401);
  expect((await call('GET', '/api/follow-ups', '/api/follow-ups')).status).toBe(200);
  expect((await call('GET', '/api/follow-ups', '/api/follow-ups?status=bogus')).status).toBe(400);
  // Found by schemathesis: a NUL in the id reached PostgreSQL under FerretDB and came back a 503.
  const nul = await call('GET', '/api/follow-ups', '/api/follow-ups?callId=a%00b');
  expect(nul.status).toBe(400);
  expect(nul.body.message).toMatch(/callId/);
  expect((await call('GET', '/api/contacts/{contactId}', `/api/contacts/ct_${done}`)).status).toBe(200);
  expect((await call('GET', '/api/contacts/{contactId}', '/api/contacts/ct_nowhere')).status).toBe(404);

  // Contacts.
  const contactId = uniqueId('ct_oa');
  expect(
    (
      await call('POST', '/api/contacts', '/api/contacts', {
        body: { contactId, name: 'Ada', email: 'ada@example.com', phone: '+14155550123', timezone: 'Europe/London' },
      })
    ).status,
  ).toBe(201);
  expect((await call('POST', '/api/contacts', '/api/contacts', { body: { contactId } })).status).toBe(409);
  expect((await call('POST', '/api/contacts', '/api/contacts', { body: { email: 'not-an-email' } })).status).toBe(400);
  expect((await call('POST', '/api/contacts', '/api/contacts', { raw: 'name=x', headers: { 'content-type': 'text/plain' } })).status).toBe(
    415,
  );
  expect((await call('POST', '/api/contacts', '/api/contacts', { body: { name: 'x' }, headers: { 'x-api-key': readKey } })).status).toBe(
    403,
  );
  expect((await call('PATCH', '/api/contacts/{contactId}', `/api/contacts/${contactId}`, { body: { name: 'Ada L.' } })).status).toBe(200);
  expect((await call('PATCH', '/api/contacts/{contactId}', `/api/contacts/${contactId}`, { body: { shoeSize: 9 } })).status).toBe(400);
  expect((await call('PATCH', '/api/contacts/{contactId}', '/api/contacts/ct_nowhere', { body: { name: 'x' } })).status).toBe(404);

  // Follow-up control on the unanswered call, whose workflow waits for its follow-up.
  expect(
    (await call('POST', '/api/calls/{callId}/follow-up/schedule', `/api/calls/${missed}/follow-up/schedule`, { body: { in: 'soon' } }))
      .status,
  ).toBe(400);
  expect(
    (
      await call('POST', '/api/calls/{callId}/follow-up/schedule', `/api/calls/${missed}/follow-up/schedule`, {
        body: { in: '3h', reason: 'asked for later' },
      })
    ).status,
  ).toBe(202);
  expect((await call('POST', '/api/calls/{callId}/retry', '/api/calls/c_nowhere/retry')).status).toBe(404);
  expect(
    (
      await call('POST', '/api/calls/{callId}/follow-up/cancel', `/api/calls/${missed}/follow-up/cancel`, {
        body: { reason: 'reached by email' },
      })
    ).status,
  ).toBe(202);
  expect(
    (await call('POST', '/api/calls/{callId}/follow-up/cancel', `/api/calls/${missed}/follow-up/cancel`, { body: { reason: 'again' } }))
      .status,
  ).toBe(409);
  expect(
    (await call('POST', '/api/calls/{callId}/retry', `/api/calls/${missed}/retry`, { body: {}, headers: { 'x-api-key': readKey } })).status,
  ).toBe(403);

  // Calling rules and the do-not-call list.
  expect((await call('GET', '/api/settings/calling-rules', '/api/settings/calling-rules')).status).toBe(200);
  expect(
    (await call('PUT', '/api/settings/calling-rules', '/api/settings/calling-rules', { body: { defaultTimeZone: 'America/New_York' } }))
      .status,
  ).toBe(200);
  expect((await call('PUT', '/api/settings/calling-rules', '/api/settings/calling-rules', { body: { contactCapPer24h: -1 } })).status).toBe(
    400,
  );
  expect(
    (await call('POST', '/api/do-not-call', '/api/do-not-call', { body: { phone: '+14155550199', reason: 'asked by letter' } })).status,
  ).toBe(201);
  expect((await call('POST', '/api/do-not-call', '/api/do-not-call', { body: { phone: 'not a number' } })).status).toBe(400);
  expect((await call('GET', '/api/do-not-call', '/api/do-not-call?limit=10')).status).toBe(200);
  expect((await call('DELETE', '/api/do-not-call/{phone}', '/api/do-not-call/%2B14155550199')).status).toBe(200);
  expect((await call('DELETE', '/api/do-not-call/{phone}', '/api/do-not-call/%2B14155550199')).status).toBe(404);

  // Analytics (figures checked against brute force in test/integration/analytics.test.ts).
  expect((await call('GET', '/api/analytics/summary', '/api/analytics/summary')).status).toBe(200);
  expect(
    (await call('GET', '/api/analytics/summary', '/api/analytics/summary?provider=generic&from=2020-01-01&to=2020-06-01')).status,
  ).toBe(200);
  expect((await call('GET', '/api/analytics/summary', '/api/analytics/summary?from=nope')).status).toBe(400);
  expect((await call('GET', '/api/analytics/timeseries', '/api/analytics/timeseries?interval=week&groupBy=agent')).status).toBe(200);
  expect((await call('GET', '/api/analytics/timeseries', '/api/analytics/timeseries?interval=hour&from=2020-01-01')).status).toBe(400);
  expect((await call('GET', '/api/analytics/agents', '/api/analytics/agents', { headers: { 'x-api-key': readKey } })).status).toBe(200);

  // Dashboard: sign-in (JSON here; the browser test posts the form), session, assets, queues, sign-out.
  const origin = { origin: stack.baseUrl, 'x-api-key': '' };
  expect((await call('GET', '/dashboard/sign-in', '/dashboard/sign-in')).status).toBe(200);
  expect((await call('GET', '/dashboard', '/dashboard', { headers: { 'x-api-key': '' } })).status).toBe(200); // redirected to the sign-in page
  expect(
    (
      await call('POST', '/dashboard/sign-in', '/dashboard/sign-in', {
        body: { key: 'ck_nobody000_notarealkeynotarealkey' },
        headers: origin,
      })
    ).status,
  ).toBe(401);
  expect(
    (
      await call('POST', '/dashboard/sign-in', '/dashboard/sign-in', {
        body: { key: stack.apiKey },
        headers: { origin: 'https://evil.example' },
      })
    ).status,
  ).toBe(403);
  expect(
    (await call('POST', '/dashboard/sign-in', '/dashboard/sign-in', { raw: 'key', headers: { ...origin, 'content-type': 'text/plain' } }))
      .status,
  ).toBe(415);
  expect((await call('POST', '/dashboard/sign-in', '/dashboard/sign-in', { body: {}, headers: origin })).status).toBe(400);
  const signedIn = await call('POST', '/dashboard/sign-in', '/dashboard/sign-in', { body: { key: stack.apiKey }, headers: origin });
  expect(signedIn.status).toBe(200);
  const cookie = signedIn.headers.get('set-cookie')!.split(';')[0];
  expect((await call('GET', '/dashboard/session', '/dashboard/session', { headers: { 'x-api-key': '' } })).status).toBe(401);
  const session = await call('GET', '/dashboard/session', '/dashboard/session', { headers: { 'x-api-key': '', cookie } });
  expect(session.status).toBe(200);
  expect((await call('GET', '/dashboard', '/dashboard', { headers: { 'x-api-key': '', cookie } })).status).toBe(200);
  expect((await call('GET', '/api/dashboard/queues', '/api/dashboard/queues')).status).toBe(200);
  expect((await call('GET', '/api/dashboard/queues', '/api/dashboard/queues', { headers: { 'x-api-key': '', cookie } })).status).toBe(200);
  expect((await call('GET', '/dashboard/assets/{file}', '/dashboard/assets/app.js')).status).toBe(200);
  expect((await call('GET', '/dashboard/assets/{file}', '/dashboard/assets/dashboard.css')).status).toBe(200);
  expect((await call('GET', '/dashboard/assets/{file}', '/dashboard/assets/nope.js')).status).toBe(404);
  const chartPath = Object.keys((await call('GET', '/openapi.json', '/openapi.json')).body.paths as object).find((p) =>
    p.startsWith('/dashboard/vendor/'),
  )!;
  expect((await call('GET', chartPath, chartPath)).status).toBe(200);
  expect(
    (await call('POST', '/dashboard/sign-out', '/dashboard/sign-out', { headers: { cookie, origin: 'https://evil.example' } })).status,
  ).toBe(403);
  expect(
    (
      await call('POST', '/dashboard/sign-out', '/dashboard/sign-out', {
        headers: { ...origin, cookie, 'x-csrf-token': session.body.csrfToken },
      })
    ).status,
  ).toBe(200);

  // The event log.
  const events = await call('GET', '/api/events', `/api/events?callId=${done}`);
  expect(events.status).toBe(200);
  const eventId = encodeURIComponent(events.body.events[0].id);
  expect((await call('GET', '/api/events', '/api/events?state=refused')).status).toBe(200);
  expect((await call('GET', '/api/events', '/api/events?state=bogus')).status).toBe(400);
  expect((await call('GET', '/api/events/{id}', `/api/events/${eventId}`)).status).toBe(200);
  expect((await call('GET', '/api/events/{id}', '/api/events/nothing-here')).status).toBe(404);
  expect((await call('POST', '/api/events/{id}/replay', `/api/events/${eventId}/replay`)).status).toBe(202);
  expect((await call('POST', '/api/events/{id}/replay', '/api/events/nothing-here/replay')).status).toBe(404);

  // Operations.
  expect((await call('GET', '/healthz', '/healthz')).status).toBe(200);
  expect((await call('GET', '/readyz', '/readyz')).status).toBe(200);
  expect((await call('GET', '/metrics', '/metrics')).status).toBe(200);
  expect((await call('GET', '/openapi.json', '/openapi.json')).status).toBe(200);
  const docs = await call('GET', '/docs', '/docs');
  expect(docs.status).toBe(200);
  expect(docs.body).toContain("fetch('/openapi.json')");
  expect(docs.headers.get('content-security-policy')).toContain("default-src 'none'");

  expect(problems).toEqual([]);
  // Every documented operation was called at least once.
  const served = await call('GET', '/openapi.json', '/openapi.json');
  const operations = Object.entries(served.body.paths as Record<string, object>).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
  );
  expect(operations.filter((op) => ![...seen].some((s) => s.startsWith(`${op} `)))).toEqual([]);
}, 60_000);

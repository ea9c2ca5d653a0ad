// The event log on the whole stack: the largest webhooks a user may send are applied whole, no
// Temporal payload of the call's real history passes 64 KB, and what was acknowledged or refused
// can be listed, shown and replayed (exactly once).
import { createHmac } from 'node:crypto';
import { setProviderSecret } from '../../src/store/organizations';
import { workflowIdFor } from '../../workflows/messages';
import { eventually, uniqueId } from '../support/harness';
import { deadLetteredCompletion } from '../support/inbox';
import { genericCompleted } from '../support/payloads';
import { startStack, type Stack } from '../support/stack';

jest.setTimeout(240_000);

let stack: Stack;
beforeAll(async () => {
  // The receiver's default body limit: 10 MB.
  stack = await startStack('eventlog');
}, 120_000);
afterAll(async () => stack?.stop());

const MAX_PAYLOAD = 64 * 1024;

const completed = (callId: string, over: Record<string, unknown> = {}) =>
  genericCompleted(callId, { timestamp: '2025-01-15T10:30:00.000Z', ...over });

const callDone = (callId: string) =>
  eventually(
    `call ${callId.slice(0, 20)} to be completed`,
    async () => {
      const r = await stack.get(`/api/calls/${encodeURIComponent(callId)}`);
      return r.status === 200 && r.json.status === 'completed' && r.json;
    },
    120_000,
  );

/** The size of every payload in the call's real Temporal history (signals, activity inputs and results, markers, start input). */
async function largestPayload(callId: string): Promise<{ max: number; count: number }> {
  const history = await stack.client.workflow.getHandle(workflowIdFor(stack.orgId, callId)).fetchHistory();
  let max = 0;
  let count = 0;
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if (v instanceof Uint8Array) return;
    const o = v as Record<string, unknown>;
    if (o.data instanceof Uint8Array && 'metadata' in o) {
      count++;
      max = Math.max(max, o.data.length);
      return;
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(history.events);
  return { max, count };
}

const inboxEmpty = () =>
  eventually('the inbox to be empty', async () => {
    const r = (await fetch(`${stack.baseUrl}/readyz`).then((x) => x.json())) as { inbox: { depth: number; deadLetters: number } };
    return r.inbox.depth === 0 && r.inbox.deadLetters === 0 && r;
  });

test.each([
  ['1,600,000 quotes (3.2 MB)', () => '"'.repeat(1_600_000)],
  ['a 10 MB body of \\u0001 (1,740,000 characters, 6 bytes each in JSON)', () => '\u0001'.repeat(1_740_000)],
  ['2,000,000 characters', () => 'Agent: hola señora. '.repeat(100_000)],
])('a transcript of %s is applied whole; no Temporal payload passes 64 KB', async (_, make) => {
  const callId = uniqueId('big');
  const transcript = make();
  const metadata = { agentName: 'Ada', notes: 'n'.repeat(19_000), list: Array.from({ length: 500 }, (_, i) => ({ i, v: `value ${i}` })) };
  const body = JSON.stringify(completed(callId, { transcript, metadata }));
  expect(Buffer.byteLength(body)).toBeLessThanOrEqual(10 * 1024 * 1024);
  const r = await stack.post('/api/calls/webhook', body, { 'content-type': 'application/json' });
  expect(r.status).toBe(200);
  const call = await callDone(callId);
  expect(call.transcript).toBe(transcript);
  expect(call.metadata).toEqual(metadata);
  const { max, count } = await largestPayload(callId);
  expect(count).toBeGreaterThan(3);
  expect(max).toBeLessThanOrEqual(MAX_PAYLOAD);
  // The request is kept byte for byte.
  const listed = await stack.get(`/api/events?callId=${encodeURIComponent(callId)}`);
  expect(listed.json.events).toEqual([expect.objectContaining({ state: 'delivered', callId, type: 'call.completed' })]);
  const shown = await stack.get(`/api/events/${encodeURIComponent(listed.json.events[0].id)}`);
  expect(shown.status).toBe(200);
  expect(shown.json).toMatchObject({ state: 'delivered', callId, request: { bytes: Buffer.byteLength(body), signature: 'unsigned' } });
  expect(shown.json.request.body).toBe(body);
  expect(shown.json.event.transcript).toBe(transcript);
  await inboxEmpty();
});

test.each([
  ['€', '€'.repeat(200)],
  ['backslash', '\\'.repeat(200)],
  ['quote', '"'.repeat(200)],
])('a 200-character callId of %s with deep metadata: applied, payloads under 64 KB', async (_, raw) => {
  // Unique per run: the tail changes, the length stays 200.
  const tag = uniqueId('x').slice(-8);
  const callId = raw.slice(0, 192) + tag;
  let deep: Record<string, unknown> = { leaf: 'l'.repeat(19_000) };
  for (let i = 0; i < 10; i++) deep = { [`level${i}`]: deep, [`pad${i}`]: 'p'.repeat(5_000) };
  const r = await stack.post('/api/calls/webhook', completed(callId, { metadata: deep, transcript: 't'.repeat(50_000) }));
  expect(r.status).toBe(200);
  const call = await callDone(callId);
  expect(call.metadata).toEqual(deep);
  const { max } = await largestPayload(callId);
  expect(max).toBeLessThanOrEqual(MAX_PAYLOAD);
});

test('a dead letter is listed with its reason, and a replay applies it exactly once', async () => {
  const callId = uniqueId('dead');
  // Held back from the hand-off and dead-lettered, as the dispatcher does when Temporal refuses an event.
  const e = await deadLetteredCompletion(stack.store.col, stack.orgId, callId, 42, 'INVALID_ARGUMENT: refused for the test');
  const dead = await stack.get('/api/events?state=dead');
  expect(dead.json.events).toEqual([
    expect.objectContaining({ id: e.eventId, state: 'dead', reason: 'INVALID_ARGUMENT: refused for the test' }),
  ]);
  const ready = await fetch(`${stack.baseUrl}/readyz`).then((x) => x.json());
  expect(ready).toMatchObject({ status: 'degraded', inbox: { deadLetters: 1 } });

  const replay = await stack.post(`/api/events/${encodeURIComponent(e.eventId)}/replay`, {});
  expect(replay.status).toBe(202);
  expect(replay.json).toMatchObject({ was: 'dead', state: 'pending' });
  const call = await callDone(callId);
  expect(call.durationSec).toBe(42);
  await eventually(
    'the event to be delivered',
    async () => (await stack.get(`/api/events/${encodeURIComponent(e.eventId)}`)).json.state === 'delivered',
  );

  // Replayed again once delivered: Temporal gets it a second time, the call applies it once.
  expect((await stack.post(`/api/events/${encodeURIComponent(e.eventId)}/replay`, {})).json.was).toBe('delivered');
  const signals = async () => {
    const h = await stack.client.workflow.getHandle(workflowIdFor(stack.orgId, callId)).fetchHistory();
    return (h.events ?? []).filter((x) => x.workflowExecutionSignaledEventAttributes?.signalName === 'callEvents').length;
  };
  await eventually('the second delivery', async () => (await signals()) === 2, 30_000);
  await new Promise((r) => setTimeout(r, 1_500));
  const after = (await stack.get(`/api/calls/${callId}`)).json;
  expect(after.eventCount).toBe(1);
  expect(after.timeline).toHaveLength(1);
  const shown = (await stack.get(`/api/events/${encodeURIComponent(e.eventId)}`)).json;
  expect(shown.tries.map((t: { outcome: string }) => t.outcome)).toEqual(['dead', 'replay', 'delivered', 'replay', 'delivered']);
  await inboxEmpty();
});

test('a refused request (bad signature) shows in the event list with its reason; a read key may list, not replay', async () => {
  const org = await stack.newOrg('refusals');
  await setProviderSecret(stack.store.col, org.orgId, 'generic', { secret: 'the-secret' });
  const raw = JSON.stringify(completed(uniqueId('refused')));
  const bad = createHmac('sha256', 'another-secret').update(raw).digest('hex');
  const r = await stack.post('/api/calls/webhook', raw, {
    'x-api-key': org.apiKey,
    'content-type': 'application/json',
    'x-webhook-signature': bad,
  });
  expect(r.status).toBe(401);
  const list = await stack.get('/api/events?state=refused', { 'x-api-key': org.apiKey });
  expect(list.status).toBe(200);
  expect(list.json.events).toEqual([
    expect.objectContaining({ state: 'refused', status: 401, reason: r.json.message, provider: 'generic' }),
  ]);
  const shown = await stack.get(`/api/events/${encodeURIComponent(list.json.events[0].id)}`, { 'x-api-key': org.apiKey });
  expect(shown.json.request.body).toBe(raw);
  expect(shown.json.request.headers['x-webhook-signature']).toBe('[redacted]');
  expect(shown.json.request.headers['x-api-key']).toBe('[redacted]');
  // Another organization sees none of it.
  expect((await stack.get('/api/events?state=refused')).json.events.some((x: { reason: string }) => x.reason === r.json.message)).toBe(
    false,
  );
});

// HTTP in, MongoDB and Temporal out: the spec's webhook, errors and read API on the real stack.
import { createHmac } from 'node:crypto';
import { setProviderSecret, revokeApiKey } from '../../src/store/organizations';
import { workflowIdFor } from '../../workflows/messages';
import { eventually, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';
import { genericCompleted } from '../support/payloads';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('webhook', { bodyLimitBytes: 10 * 1024 * 1024 });
}, 120_000);
afterAll(async () => stack?.stop());

const specPayload = (callId: string, over: Record<string, unknown> = {}) =>
  genericCompleted(callId, {
    recording_url: 'https://example.com/recordings/abc123.mp3',
    transcript: 'Full conversation transcript...',
    metadata: { contactId: 'contact_456def', agentId: 'agent_789ghi' },
    timestamp: '2025-01-15T10:30:00.000Z',
    ...over,
  });

const callDone = (callId: string, status = 'completed') =>
  eventually(`call ${callId} to be ${status}`, async () => {
    const r = await stack.get(`/api/calls/${callId}`);
    return r.status === 200 && r.json.status === status && r.json;
  });

describe('authentication', () => {
  test('a missing API key is a 401 with the spec body', async () => {
    const r = await stack.post('/api/calls/webhook', specPayload('c_noauth'), { 'x-api-key': '' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'Unauthorized', message: 'Invalid or missing API key' });
  });

  test('an unknown, malformed or revoked key is a 401', async () => {
    for (const key of ['ck_deadbeef00_notarealkeynotarealkey', 'hello', `${stack.apiKey}x`]) {
      const r = await stack.post('/api/calls/webhook', specPayload('c_badauth'), { 'x-api-key': key });
      expect(r.status).toBe(401);
      expect(r.json.error).toBe('Unauthorized');
    }
    const other = await stack.newOrg('revoked');
    const keyId = other.apiKey.split('_')[1];
    expect(await revokeApiKey(stack.store.col, keyId)).toBe(true);
    const r = await stack.post('/api/calls/webhook', specPayload('c_revoked'), { 'x-api-key': other.apiKey });
    expect(r.status).toBe(401);
  });

  test('the read API needs the key too', async () => {
    const r = await stack.get('/api/calls', { 'x-api-key': '' });
    expect(r.status).toBe(401);
  });
});

describe('bad input gets a clear 4xx, never a 500', () => {
  test('a Content-Type other than JSON is a 415 naming the type', async () => {
    const r = await stack.post('/api/calls/webhook', 'callId=x', { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.json).toEqual({ error: 'Unsupported Media Type', message: 'Content-Type must be application/json (got text/plain)' });
  });

  test('unparseable JSON is a 400', async () => {
    const r = await stack.post('/api/calls/webhook', '{"callId": "x",', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('Invalid webhook payload');
    expect(r.json.message).toMatch(/JSON/);
  });

  test('a missing callId names the field', async () => {
    const { callId, ...rest } = specPayload('x');
    const r = await stack.post('/api/calls/webhook', rest);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'Invalid webhook payload', message: 'Missing required field: callId' });
  });

  test('a required field of the wrong type names the field and the expected type', async () => {
    const r = await stack.post('/api/calls/webhook', specPayload('c_type', { callId: 42 }));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'Invalid webhook payload', message: 'Invalid field: callId (expected string, received number)' });
  });

  test('an optional field of an unexpected shape is ignored, never a 400 that loses the event (issue 9)', async () => {
    const r = await stack.post('/api/calls/webhook', specPayload('c_optional_type', { duration: 'long', metadata: 'contact_1' }));
    expect(r.status).toBe(200);
    const call = await callDone('c_optional_type');
    expect(call.duration).toBeUndefined();
  });

  test('an unknown event names the field and the allowed values', async () => {
    const r = await stack.post('/api/calls/webhook', specPayload('c_ev', { event: 'call.exploded' }));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/event/);
    expect(r.json.message).toMatch(/call\.completed/);
  });

  test('a body that is JSON but not an object is a 400', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      const r = await stack.post('/api/calls/webhook', body, { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('Invalid webhook payload');
    }
  });

  test('an unknown route is a JSON 404', async () => {
    const r = await stack.get('/api/nothing-here');
    expect(r.status).toBe(404);
    expect(r.json.error).toBe('Not Found');
  });

  test('bad list filters name the parameter', async () => {
    const r = await stack.get('/api/calls?status=exploded');
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/status/);
    const r2 = await stack.get('/api/calls?limit=0');
    expect(r2.status).toBe(400);
    expect(r2.json.message).toMatch(/limit/);
  });
});

describe('a completed call, end to end', () => {
  test('the spec example is accepted, recorded, and counted on the contact once', async () => {
    const callId = uniqueId('call');
    const contactId = uniqueId('contact');
    const body = specPayload(callId, { metadata: { contactId, agentId: 'agent_789ghi' } });
    const r = await stack.post('/api/calls/webhook', body);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true, message: 'Webhook processed successfully', callId });

    // The provider retries the same delivery: acknowledged again, applied once.
    const again = await stack.post('/api/calls/webhook', body);
    expect(again.status).toBe(200);

    const call = await callDone(callId);
    expect(call).toMatchObject({
      callId,
      provider: 'generic',
      status: 'completed',
      outcome: 'completed',
      duration: 180,
      durationSec: 180,
      from: '+14155551234',
      to: '+14155555678',
      agentId: 'agent_789ghi',
      contactId,
      recordingUrl: 'https://example.com/recordings/abc123.mp3',
      transcript: 'Full conversation transcript...',
      workflowId: workflowIdFor(stack.orgId, callId),
    });
    expect(call.timeline).toHaveLength(1);
    expect(call.temporalUi).toContain(encodeURIComponent(workflowIdFor(stack.orgId, callId)));
    // Internal bookkeeping stays out of the read API.
    for (const internal of ['_id', 'orgId', 'owners', 'effectsDone']) expect(call).not.toHaveProperty(internal);

    const contact = await eventually('the contact to be counted', async () => {
      const c = await stack.get(`/api/contacts/${contactId}`);
      return c.status === 200 && c.json.callCount === 1 && c.json;
    });
    expect(contact).toMatchObject({ contactId, callCount: 1, lastCallDuration: 180, lastCallId: callId });
    // Wait out the workflow, then make sure nothing counted it a second time.
    await stack.client.workflow.getHandle(workflowIdFor(stack.orgId, callId)).result();
    expect((await stack.get(`/api/contacts/${contactId}`)).json.callCount).toBe(1);

    const metric = await stack.store.col.callMetrics.findOne({ _id: `${stack.orgId}:${callId}` });
    expect(metric).toMatchObject({ durationSec: 180, outcome: 'completed', contactId });
  });

  test('a call walks through every spec event, in any order', async () => {
    const callId = uniqueId('call');
    const contactId = uniqueId('contact');
    const at = (m: number) => new Date(Date.UTC(2025, 0, 15, 10, 30 + m)).toISOString();
    const events = [
      { event: 'call.recording_ready', recording_url: 'https://rec.example/late.mp3', timestamp: at(6) },
      { event: 'call.ringing', timestamp: at(1) },
      { event: 'call.completed', duration: 240, status: 'completed', timestamp: at(5) },
      { event: 'call.initiated', timestamp: at(0) },
      { event: 'call.answered', timestamp: at(2) },
    ];
    for (const e of events) {
      const r = await stack.post('/api/calls/webhook', {
        callId,
        provider: 'generic',
        from: '+14155551234',
        to: '+14155555678',
        metadata: { contactId },
        ...e,
      });
      expect(r.status).toBe(200);
    }
    const call = await eventually('all five events', async () => {
      const r = await stack.get(`/api/calls/${callId}`);
      return r.json?.eventCount === 5 && r.json;
    });
    expect(call.status).toBe('completed');
    expect(call.recordingReady).toBe(true);
    expect(call.durationSec).toBe(240);
    expect(call.timeline.map((t: { type: string }) => t.type)).toEqual([
      'call.initiated',
      'call.ringing',
      'call.answered',
      'call.completed',
      'call.recording_ready',
    ]);
    const contact = await eventually('contact', async () => (await stack.get(`/api/contacts/${contactId}`)).json?.callCount === 1);
    expect(contact).toBe(true);
  });

  test('a no-answer call is failed with its outcome', async () => {
    const callId = uniqueId('call');
    const r = await stack.post('/api/calls/webhook', specPayload(callId, { event: 'call.failed', status: 'no-answer', duration: 0 }));
    expect(r.status).toBe(200);
    const call = await callDone(callId, 'failed');
    expect(call.outcome).toBe('no-answer');
  });
});

describe('read API', () => {
  test('lists calls with filters and pagination, scoped to the organization', async () => {
    const contactId = uniqueId('contact');
    const ids = [uniqueId('l1'), uniqueId('l2'), uniqueId('l3')];
    for (const id of ids) await stack.post('/api/calls/webhook', specPayload(id, { metadata: { contactId } }));
    await stack.post('/api/calls/webhook', specPayload(uniqueId('other'), { event: 'call.failed', status: 'busy' }));
    for (const id of ids) await callDone(id);

    const page1 = await stack.get(`/api/calls?contactId=${contactId}&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.json.total).toBe(3);
    expect(page1.json.items).toHaveLength(2);
    const page2 = await stack.get(`/api/calls?contactId=${contactId}&limit=2&offset=2`);
    expect(page2.json.items).toHaveLength(1);
    const seen = [...page1.json.items, ...page2.json.items].map((c: { callId: string }) => c.callId).sort();
    expect(seen).toEqual([...ids].sort());

    const failed = await stack.get('/api/calls?status=failed&provider=generic');
    expect(failed.json.items.every((c: { status: string }) => c.status === 'failed')).toBe(true);

    const future = await stack.get('/api/calls?from=2999-01-01T00:00:00Z');
    expect(future.json.total).toBe(0);

    // Another organization sees none of it.
    const other = await stack.newOrg('other');
    const theirs = await stack.get(`/api/calls?contactId=${contactId}`, { 'x-api-key': other.apiKey });
    expect(theirs.json.total).toBe(0);
    expect((await stack.get(`/api/calls/${ids[0]}`, { 'x-api-key': other.apiKey })).status).toBe(404);
    expect((await stack.get(`/api/contacts/${contactId}`, { 'x-api-key': other.apiKey })).status).toBe(404);
  });

  test('an unknown call or contact is a JSON 404', async () => {
    const r = await stack.get('/api/calls/does-not-exist');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: 'Not Found', message: 'Call not found: does-not-exist' });
    expect((await stack.get('/api/contacts/nobody')).status).toBe(404);
  });
});

describe('signatures and limits', () => {
  test('with a generic secret configured, the raw-body HMAC is required', async () => {
    const org = await stack.newOrg('signed');
    const secret = 'generic-signing-secret';
    await setProviderSecret(stack.store.col, org.orgId, 'generic', { secret });
    const callId = uniqueId('signed');
    // Spaces and key order that JSON.stringify would not reproduce: the bytes are what is signed.
    const raw = `{ "event": "call.completed",  "callId": "${callId}", "provider": "generic", "transcript": "Señora Müller \\u00e9" }`;
    const sig = createHmac('sha256', secret).update(raw).digest('hex');
    const h = { 'x-api-key': org.apiKey, 'content-type': 'application/json' };

    const missing = await stack.post('/api/calls/webhook', raw, h);
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/x-webhook-signature/i);

    const reserialized = createHmac('sha256', secret)
      .update(JSON.stringify(JSON.parse(raw)))
      .digest('hex');
    expect((await stack.post('/api/calls/webhook', raw, { ...h, 'x-webhook-signature': reserialized })).status).toBe(401);

    const ok = await stack.post('/api/calls/webhook', raw, { ...h, 'x-webhook-signature': sig });
    expect(ok.status).toBe(200);
  });

  test('a large body is accepted and an oversized one is a 413', async () => {
    const callId = uniqueId('big');
    // Per-word timings make real bodies several MB; fields we do not read are not carried on.
    const words = Array.from({ length: 60_000 }, (_, i) => ({ word: `wörd${i}`, start: i * 0.31, end: i * 0.31 + 0.25 }));
    const body = specPayload(callId, { transcript_object: words });
    expect(JSON.stringify(body).length).toBeGreaterThan(2_500_000);
    const ok = await stack.post('/api/calls/webhook', body);
    expect(ok.status).toBe(200);
    const huge = await stack.post('/api/calls/webhook', specPayload(uniqueId('huge'), { transcript: 'x'.repeat(11 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('Payload Too Large');
  });
});

test('a transcript too large for one Temporal payload is kept whole (claim check), not cut', async () => {
  const callId = uniqueId('long');
  const transcript = 'Agent: hola señora. '.repeat(150_000); // ~3 MB of text
  const r = await stack.post('/api/calls/webhook', specPayload(callId, { transcript }));
  expect(r.status).toBe(200);
  const call = await callDone(callId);
  expect(call.transcript).toBe(transcript);
});

describe('health', () => {
  test('healthz and readyz', async () => {
    const h = await fetch(`${stack.baseUrl}/healthz`);
    expect(h.status).toBe(200);
    const r = await fetch(`${stack.baseUrl}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      status: 'ready',
      checks: { mongodb: 'ok', temporal: 'ok' },
      inbox: { depth: expect.any(Number), oldestAgeSec: expect.any(Number), deadLetters: 0 },
    });
  });
});

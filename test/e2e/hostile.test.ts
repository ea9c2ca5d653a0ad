// Hostile input on the real stack with the DEFAULT receiver settings (no PUBLIC_BASE_URL, no
// proxy): values that once wedged a workflow, identifiers Temporal refuses, a stored secret that
// another route side-stepped, and Twilio's signature over the URL the receiver rebuilds itself.
import { createHmac } from 'node:crypto';
import twilioSdk from 'twilio';
import { setProviderSecret, setUnsignedAllowed } from '../../src/store/organizations';
import { workflowIdFor } from '../../workflows/messages';
import { eventually, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('hostile');
}, 120_000);
afterAll(async () => stack?.stop());

const asOrg = (apiKey: string) => ({ 'x-api-key': apiKey });

const callIs = (callId: string, pred: (c: any) => boolean, key = stack.apiKey) =>
  eventually(`call ${callId}`, async () => {
    const r = await stack.get(`/api/calls/${encodeURIComponent(callId)}`, asOrg(key));
    return r.status === 200 && pred(r.json) && r.json;
  });

async function noWorkflowTaskFailed(workflowId: string) {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
  expect(failed).toHaveLength(0);
}

describe('values that once wedged a workflow', () => {
  test('status "__proto__" is an unknown status: 200, and the workflow settles the call', async () => {
    const callId = uniqueId('proto');
    const r = await stack.post('/api/calls/webhook', { callId, provider: 'generic', event: 'call.completed', status: '__proto__' });
    expect(r.status).toBe(200);
    const call = await callIs(callId, (c) => c.status === 'completed');
    expect(call.outcome).toBe('completed');
    expect(call.endedReason).toBe('__proto__');
    await noWorkflowTaskFailed(workflowIdFor(stack.orgId, callId));
  });

  test('a 3,000-character metadata.contactId is a 400 naming the field, not a terminated workflow', async () => {
    const r = await stack.post('/api/calls/webhook', {
      callId: uniqueId('longcontact'),
      event: 'call.completed',
      status: 'no-answer',
      metadata: { contactId: 'x'.repeat(3000) },
    });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      error: 'Invalid webhook payload',
      message: 'Invalid field: metadata.contactId (at most 200 characters, received 3000)',
    });
  });

  test('a 1,200-character callId is a 400 naming callId, not a 503', async () => {
    const r = await stack.post('/api/calls/webhook', { callId: 'c'.repeat(1200), event: 'call.completed' });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe('Invalid field: callId (at most 200 characters, received 1200)');
  });

  test("the seed's retell example without callId names callId", async () => {
    const r = await stack.post('/api/calls/webhook', {
      provider: 'retell',
      event: 'call.completed',
      from: '+14155551234',
      to: '+14155555678',
      duration: 180,
      status: 'completed',
    });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'Invalid webhook payload', message: 'Missing required field: callId' });
  });

  test('an event stamped 9999-01-01 does not win over a later one', async () => {
    const callId = uniqueId('future');
    expect(
      (await stack.post('/api/calls/webhook', { callId, event: 'call.completed', duration: 1, timestamp: '9999-01-01T00:00:00Z' })).status,
    ).toBe(200);
    await callIs(callId, (c) => c.duration === 1);
    const later = new Date(Date.now() + 10 * 60_000).toISOString();
    expect(
      (await stack.post('/api/calls/webhook', { callId, event: 'call.completed', status: 'completed', duration: 99, timestamp: later }))
        .status,
    ).toBe(200);
    await callIs(callId, (c) => c.duration === 99);
  });
});

describe('a stored secret cannot be side-stepped', () => {
  test('once any secret is stored, unsigned requests on every webhook route are refused, unless allowed', async () => {
    const org = await stack.newOrg('signed-org');
    await setProviderSecret(stack.store.col, org.orgId, 'twilio', { secret: 'twilio-token-xyz' });
    const callId = uniqueId('sidestep');
    const unsigned = { callId, provider: 'generic', event: 'call.completed', status: 'completed' };
    for (const path of ['/api/calls/webhook', '/api/calls/webhook/generic', '/api/calls/webhook/retell', '/api/calls/webhook/bland']) {
      const r = await stack.post(path, unsigned, asOrg(org.apiKey));
      expect(r.status).toBe(401);
      expect(r.json.message).toMatch(/^Signature required/);
    }
    expect(await setUnsignedAllowed(stack.store.col, org.orgId, 'generic', true)).toBe(true);
    expect((await stack.post('/api/calls/webhook/generic', unsigned, asOrg(org.apiKey))).status).toBe(200);
    expect((await stack.post('/api/calls/webhook/bland', { call_id: callId, status: 'completed' }, asOrg(org.apiKey))).status).toBe(401);
    expect(await setUnsignedAllowed(stack.store.col, org.orgId, 'generic', false)).toBe(true);
    expect((await stack.post('/api/calls/webhook/generic', unsigned, asOrg(org.apiKey))).status).toBe(401);
  });

  test('an organization without secrets still takes unsigned webhooks (the default)', async () => {
    const r = await stack.post('/api/calls/webhook/generic', { callId: uniqueId('open'), event: 'call.initiated' });
    expect(r.status).toBe(200);
  });

  test('a call keeps the platform that first reported it', async () => {
    const org = await stack.newOrg('two-platforms');
    await setProviderSecret(stack.store.col, org.orgId, 'generic', { secret: 'gen-secret' });
    await setProviderSecret(stack.store.col, org.orgId, 'bland', { secret: 'bland-secret' });
    const callId = uniqueId('keep');
    const sign = (body: string, key: string) => ({ 'x-webhook-signature': createHmac('sha256', key).update(body).digest('hex') });
    const first = JSON.stringify({ call_id: callId, status: 'no-answer', completed: false, call_length: 0 });
    const r1 = await stack.post('/api/calls/webhook/bland', first, {
      ...asOrg(org.apiKey),
      'content-type': 'application/json',
      ...sign(first, 'bland-secret'),
    });
    expect(r1.status).toBe(200);
    await callIs(callId, (c) => c.status === 'failed', org.apiKey);
    const second = JSON.stringify({ callId, event: 'call.completed', status: 'completed', duration: 300 });
    const r2 = await stack.post('/api/calls/webhook/generic', second, {
      ...asOrg(org.apiKey),
      'content-type': 'application/json',
      ...sign(second, 'gen-secret'),
    });
    expect(r2.status).toBe(200);
    const call = await callIs(callId, (c) => c.timeline.some((t: { ignored?: string }) => t.ignored), org.apiKey);
    expect(call).toMatchObject({ provider: 'bland', status: 'failed', outcome: 'no-answer' });
    expect(call.timeline.find((t: { ignored?: string }) => t.ignored).ignored).toBe('reported by generic, but this call is a bland call');
  });
});

describe('twilio with the default configuration (no PUBLIC_BASE_URL)', () => {
  test('a correctly signed callback is accepted; the Origin header plays no part', async () => {
    const org = await stack.newOrg('twilio-default');
    const token = 'twilio-auth-token-default';
    await setProviderSecret(stack.store.col, org.orgId, 'twilio', { secret: token });
    const callSid = `CA${uniqueId('tw').replace(/[^a-z0-9]/gi, '')}`;
    const params = {
      CallSid: callSid,
      CallStatus: 'completed',
      CallDuration: '42',
      From: '+14155551234',
      To: '+14155555678',
      SequenceNumber: '3',
    };
    const raw = new URLSearchParams(params).toString();
    const path = `/api/calls/webhook/twilio?api_key=${org.apiKey}`;
    const signature = twilioSdk.getExpectedTwilioSignature(token, stack.baseUrl + path, params);
    const r = await stack.post(path, raw, {
      'x-api-key': '',
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      origin: 'https://evil.example',
    });
    expect(r.json).toMatchObject({ success: true, callId: callSid });
    expect(r.status).toBe(200);
    await callIs(callSid, (c) => c.status === 'completed' && c.duration === 42, org.apiKey);

    const wrongHost = await stack.post(path, raw, {
      'x-api-key': '',
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'x-forwarded-host': 'evil.example',
    });
    // X-Forwarded-* is not trusted without TRUST_PROXY, so the forged host changes nothing.
    expect(wrongHost.status).toBe(200);
    const forged = twilioSdk.getExpectedTwilioSignature(token, `https://evil.example${path}`, params);
    const viaForgedHost = await stack.post(path, raw, {
      'x-api-key': '',
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': forged,
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
    });
    expect(viaForgedHost.status).toBe(401);
  });
});

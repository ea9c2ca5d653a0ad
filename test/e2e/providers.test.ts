// Every provider fixture, signed with the platform's own signing code, through the real stack:
// HTTP → receiver → Temporal → worker → MongoDB, then read back through the API.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sign as retellSign } from 'retell-sdk';
import twilioSdk from 'twilio';
import type { Provider } from '../../src/domain/events';
import { setProviderSecret } from '../../src/store/organizations';
import { eventually } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

const FIXTURES = join(__dirname, '../fixtures/providers');
const PUBLIC_BASE = 'https://hooks.example.com';

interface Expected {
  provider: Provider;
  callId?: string;
  events?: { type: string }[];
  status?: string;
  outcome?: string;
  durationSec?: number;
  error?: { field: string };
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Record<string, Expected | string>;
const cases = Object.entries(manifest).filter((e): e is [string, Expected] => typeof e[1] === 'object');

const SECRETS: Record<Provider, string> = {
  generic: 'generic-signing-secret',
  retell: 'key_retell_api_key_0123456789',
  vapi: 'vapi-server-secret',
  bland: 'bland-signing-secret',
  twilio: 'twilio-auth-token-0123456789',
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('providers', { publicBaseUrl: PUBLIC_BASE });
}, 120_000);
afterAll(async () => stack?.stop());

const formParams = (raw: Buffer) => {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
};

/**
 * Sends a fixture's exact bytes the way its platform would: to the platform's route, the API
 * key in the URL for platforms that cannot add headers, signed with the platform's own code.
 */
async function deliver(rel: string, provider: Provider, org: { apiKey: string }, opts: { route?: 'own' | 'shared' } = {}) {
  const raw = readFileSync(join(FIXTURES, rel));
  const path = opts.route === 'shared' ? '/api/calls/webhook' : `/api/calls/webhook/${provider}`;
  const url = `${path}?api_key=${encodeURIComponent(org.apiKey)}`;
  const headers: Record<string, string> = {
    'content-type': rel.endsWith('.txt') ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-api-key': '',
  };
  const secret = SECRETS[provider];
  switch (provider) {
    case 'retell':
      headers['x-retell-signature'] = await retellSign(raw.toString('utf8'), secret);
      break;
    case 'twilio':
      headers['x-twilio-signature'] = twilioSdk.getExpectedTwilioSignature(secret, PUBLIC_BASE + url, formParams(raw));
      break;
    case 'vapi':
      headers['x-vapi-secret'] = secret;
      break;
    default:
      headers['x-webhook-signature'] = createHmac('sha256', secret).update(raw).digest('hex');
  }
  return stack.post(url, raw, headers);
}

async function signedOrg(name: string, providers: Provider[]) {
  const org = await stack.newOrg(name);
  for (const p of providers) await setProviderSecret(stack.store.col, org.orgId, p, { secret: SECRETS[p] });
  return org;
}

const getCall = (org: { apiKey: string }, callId: string) =>
  stack.get(`/api/calls/${encodeURIComponent(callId)}`, { 'x-api-key': org.apiKey });

describe('every fixture through the real stack', () => {
  test.concurrent.each(cases)('%s', async (rel, expected) => {
    const org = await signedOrg(rel, [expected.provider]);
    const r = await deliver(rel, expected.provider, org);
    if (expected.error) {
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('Invalid webhook payload');
      expect(r.json.message).toContain(expected.error.field);
      return;
    }
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true, message: 'Webhook processed successfully', callId: expected.callId });

    const distinct = new Set(expected.events!.map((e) => e.type)).size;
    const call = await eventually(`${rel} recorded`, async () => {
      const c = await getCall(org, expected.callId!);
      return c.status === 200 && c.json.eventCount >= distinct && c.json;
    });
    expect(call.provider).toBe(expected.provider);
    expect(call.status).toBe(expected.status);
    if (expected.outcome !== undefined) expect(call.outcome).toBe(expected.outcome);
    if (expected.durationSec !== undefined) expect(call.durationSec).toBe(expected.durationSec);
  });
});

describe('what the call records hold', () => {
  test('Retell: call_started, call_ended, call_analyzed build one complete record', async () => {
    const org = await signedOrg('retell-full', ['retell']);
    for (const f of ['retell/call-analyzed.json', 'retell/call-started.json', 'retell/call-ended.json']) {
      expect((await deliver(f, 'retell', org)).status).toBe(200);
    }
    const call = await eventually('three events', async () => {
      const c = (await getCall(org, 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6')).json;
      return c?.eventCount === 3 && c;
    });
    expect(call).toMatchObject({
      status: 'completed',
      outcome: 'completed',
      durationSec: 183,
      from: '+14155551234',
      to: '+14155555678',
      direction: 'outbound',
      agentId: 'agent_789ghi',
      contactId: 'contact_456def',
      startedAt: '2025-01-15T10:30:00.000Z',
      endedAt: '2025-01-15T10:33:03.456Z',
    });
    expect(call.transcript).toContain('confirm your appointment on Friday');
    expect(call.recordingUrl).toMatch(/^https:\/\//);
    expect(call.analysis.summary).toBeTruthy();
    expect(call.timeline.map((t: { providerEvent: string }) => t.providerEvent)).toEqual(['call_started', 'call_ended', 'call_analyzed']);
  });

  test('Vapi: the end-of-call report gives duration from startedAt/endedAt, transcript, recording and analysis', async () => {
    const org = await signedOrg('vapi-full', ['vapi']);
    const body = JSON.parse(readFileSync(join(FIXTURES, 'vapi/end-of-call-report.json'), 'utf8'));
    expect((await deliver('vapi/end-of-call-report.json', 'vapi', org)).status).toBe(200);
    const call = await eventually(
      'recorded',
      async () =>
        (await getCall(org, body.message.call.id)).json?.status === 'completed' && (await getCall(org, body.message.call.id)).json,
    );
    expect(call).toMatchObject({
      outcome: 'completed',
      endedReason: 'customer-ended-call',
      durationSec: 184,
      recordingUrl: 'https://storage.vapi.example/4b9f3c2e-mono.wav',
    });
    expect(call.transcript).toContain('confirming your appointment');
    expect(call.analysis.summary).toBe('Dana confirmed the Friday appointment.');
  });

  test('Bland: the second webhook merges its corrected transcript without counting the call again', async () => {
    const org = await signedOrg('bland-two', ['bland']);
    const callId = '9f1e2d3c-4b5a-4697-8a1b-2c3d4e5f6a7b';
    expect((await deliver('bland/post-call.json', 'bland', org)).status).toBe(200);
    const first = await eventually(
      'first webhook',
      async () => (await getCall(org, callId)).json?.status === 'completed' && (await getCall(org, callId)).json,
    );
    expect(first).toMatchObject({
      durationSec: 179,
      from: '+14155551234',
      to: '+14155555678',
      recordingUrl: 'https://recordings.bland.example/9f1e2d3c.mp3',
    });
    const contactId = first.contactId;
    expect(contactId).toBeTruthy();

    expect((await deliver('bland/corrected.json', 'bland', org)).status).toBe(200);
    const corrected = JSON.parse(readFileSync(join(FIXTURES, 'bland/corrected.json'), 'utf8')).corrected_transcript;
    const merged = await eventually('the corrected transcript', async () => {
      const c = (await getCall(org, callId)).json;
      return c?.eventCount === 2 && c;
    });
    expect(merged.transcript).toBe(corrected);
    expect(merged.transcript).toContain('3 p.m.');
    const contact = (await stack.get(`/api/contacts/${contactId}`, { 'x-api-key': org.apiKey })).json;
    expect(contact.callCount).toBe(1);
  });

  test('Twilio: status callbacks out of order end in the furthest state with the recording', async () => {
    const org = await signedOrg('twilio-order', ['twilio']);
    for (const f of [
      'twilio/completed.txt',
      'twilio/ringing.txt',
      'twilio/recording-completed.txt',
      'twilio/initiated.txt',
      'twilio/in-progress.txt',
      'twilio/completed.txt',
    ]) {
      expect((await deliver(f, 'twilio', org)).status).toBe(200);
    }
    const call = await eventually('five distinct events', async () => {
      const c = (await getCall(org, 'CA5f1e8c2b3a4d6e7f8091a2b3c4d5e6f7')).json;
      return c?.eventCount === 5 && c;
    });
    expect(call).toMatchObject({
      status: 'completed',
      outcome: 'completed',
      durationSec: 127,
      recordingReady: true,
      from: '+14155551234',
      to: '+14155555678',
    });
    expect(call.timeline.map((t: { type: string }) => t.type).slice(0, 3)).toEqual(['call.initiated', 'call.ringing', 'call.answered']);
  });

  test('the shared route tells the platforms apart without the route', async () => {
    const org = await signedOrg('shared', ['retell', 'vapi', 'bland', 'twilio']);
    // Twilio signs the URL it called: the shared route is what it would have been configured with.
    for (const [f, p] of [
      ['retell/call-ended.json', 'retell'],
      ['vapi/end-of-call-report.json', 'vapi'],
      ['bland/post-call.json', 'bland'],
      ['twilio/completed.txt', 'twilio'],
    ] as const) {
      const r = await deliver(f, p, org, { route: 'shared' });
      expect(r.status).toBe(200);
    }
    const calls = await eventually('four calls', async () => {
      const l = (await stack.get('/api/calls', { 'x-api-key': org.apiKey })).json;
      return l?.total === 4 && l;
    });
    expect(calls.items.map((c: { provider: string }) => c.provider).sort()).toEqual(['bland', 'retell', 'twilio', 'vapi']);
  });
});

describe('signatures on the wire', () => {
  test('a configured platform without its signature is a 401 naming the header', async () => {
    const org = await signedOrg('unsigned', ['retell', 'twilio', 'bland', 'vapi']);
    const cases: [string, Provider, string, string][] = [
      ['retell/call-ended.json', 'retell', 'application/json', 'x-retell-signature'],
      ['twilio/completed.txt', 'twilio', 'application/x-www-form-urlencoded', 'x-twilio-signature'],
      ['bland/post-call.json', 'bland', 'application/json', 'x-webhook-signature'],
      ['vapi/end-of-call-report.json', 'vapi', 'application/json', 'x-vapi-secret'],
    ];
    for (const [f, p, type, header] of cases) {
      const r = await stack.post(`/api/calls/webhook/${p}?api_key=${org.apiKey}`, readFileSync(join(FIXTURES, f)), {
        'content-type': type,
        'x-api-key': '',
      });
      expect(r.status).toBe(401);
      expect(r.json.error).toBe('Unauthorized');
      expect(r.json.message.toLowerCase()).toContain(header);
    }
  });

  test('a body changed after signing is refused, even when it is the same JSON', async () => {
    const org = await signedOrg('tampered', ['retell']);
    const raw = readFileSync(join(FIXTURES, 'retell/ended-non-ascii.json'), 'utf8');
    const sig = await retellSign(raw, SECRETS.retell);
    const reserialized = JSON.stringify(JSON.parse(raw)); // same value, different bytes
    const r = await stack.post(`/api/calls/webhook/retell?api_key=${org.apiKey}`, reserialized, {
      'content-type': 'application/json',
      'x-api-key': '',
      'x-retell-signature': sig,
    });
    expect(r.status).toBe(401);
    const ok = await stack.post(`/api/calls/webhook/retell?api_key=${org.apiKey}`, raw, {
      'content-type': 'application/json',
      'x-api-key': '',
      'x-retell-signature': sig,
    });
    expect(ok.status).toBe(200);
  });

  test('an unknown platform route is a JSON 404', async () => {
    const r = await stack.post('/api/calls/webhook/skype', { callId: 'x', event: 'call.completed' });
    expect(r.status).toBe(404);
    expect(r.json.message).toContain('skype');
  });
});

describe('contacts from phone numbers', () => {
  test('calls without a contactId find the contact by number, or create it once', async () => {
    const org = await stack.newOrg('by-phone');
    const post = (callId: string, to: string) =>
      stack.post(
        '/api/calls/webhook',
        { callId, event: 'call.completed', from: '+1 415 555 0000', to, duration: 30, status: 'completed' },
        { 'x-api-key': org.apiKey },
      );
    expect((await post('p1', '(415) 555-7777')).status).toBe(200);
    expect((await post('p2', '+14155557777')).status).toBe(200);
    const [a, b] = await Promise.all(['p1', 'p2'].map((id) => eventually(id, async () => (await getCall(org, id)).json?.contactId)));
    expect(a).toBe(b);
    const contact = await eventually('two calls counted', async () => {
      const c = (await stack.get(`/api/contacts/${a}`, { 'x-api-key': org.apiKey })).json;
      return c?.callCount === 2 && c;
    });
    expect(contact.phone).toBe('+14155557777');

    // A contact created over the API is the one later calls attach to.
    const created = await stack.post(
      '/api/contacts',
      { name: 'Dana', email: 'dana@example.com', phone: '+1 415 555 8888' },
      { 'x-api-key': org.apiKey },
    );
    expect(created.status).toBe(201);
    expect((await post('p3', '415-555-8888')).status).toBe(200);
    expect(await eventually('p3 contact', async () => (await getCall(org, 'p3')).json?.contactId)).toBe(created.json.contactId);
  });
});

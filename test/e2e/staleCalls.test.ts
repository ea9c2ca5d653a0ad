// Calls that never ended, end to end: webhooks over HTTP → receiver → Temporal → worker → the
// platform's get-call API (a local fake) → database → read API. CALL_STALE_AFTER is 2 s here so
// the real dev server gets there in seconds; test/workflow/staleCall.test.ts runs the 30-minute
// default on the time-skipping server.
import { createHmac } from 'node:crypto';
import { SCRAPE_DB_READ_EVERY_MS } from '../../src/observability/metrics';
import { setPlatformApi } from '../../src/store/platformApis';
import { setProviderSecret } from '../../src/store/organizations';
import { eventually, uniqueId } from '../support/harness';
import { startFakePlatforms, type FakePlatforms } from '../support/fakes/platforms';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
let fake: FakePlatforms;

beforeAll(async () => {
  [stack, fake] = await Promise.all([startStack('stale', { settings: { staleAfterMs: 2_000 } }), startFakePlatforms()]);
  // Retell calls can be asked about; Vapi ones cannot (no key stored).
  await setPlatformApi(stack.store.col, stack.orgId, 'retell', { baseUrl: fake.baseUrl, apiKey: 'retell-key' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

const retellStarted = (callId: string) => ({
  event: 'call_started',
  call: { call_id: callId, call_status: 'ongoing', from_number: '+14155550100', to_number: '+14155550101', start_timestamp: Date.now() },
});
const vapiInProgress = (callId: string) => ({
  message: {
    type: 'status-update',
    status: 'in-progress',
    call: { id: callId, type: 'outboundPhoneCall', customer: { number: '+14155550101' } },
  },
});
const ids = (r: { json: { items: { callId: string }[] } }) => r.json.items.map((c) => c.callId).sort();
const record = async (callId: string) => (await stack.get(`/api/calls/${callId}`)).json;
const metric = async () => {
  const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  return Number(/^calls_api_calls_stale (\d+)$/m.exec(text)?.[1]);
};

test('GET /api/calls?stale=true finds the calls whose platform could not say how they ended; a later webhook clears the mark', async () => {
  const lost = uniqueId('vapi_lost'); // Vapi, no key stored: stale at the first look
  const settled = uniqueId('retell_settled'); // Retell says it ended: completed by the poll
  fake.calls.set(settled, { state: 'ended', outcome: 'completed', durationSec: 42 });

  expect((await stack.post('/api/calls/webhook/vapi', vapiInProgress(lost))).status).toBe(200);
  expect((await stack.post('/api/calls/webhook/retell', retellStarted(settled))).status).toBe(200);

  const staleOne = await eventually(
    'the Vapi call marked stale',
    async () => {
      const r = await record(lost);
      return r.stale && r;
    },
    30_000,
  );
  expect(staleOne.status).toBe('answered');
  expect(staleOne.stale).toMatchObject({
    polls: 1,
    reason: expect.stringContaining(`no vapi API credentials are stored for ${stack.orgId}`),
  });
  expect(Date.parse(staleOne.stale.since)).toBeGreaterThan(0);
  await eventually('the Retell call completed by asking Retell', async () => (await record(settled)).status === 'completed', 30_000);
  expect(await record(settled)).toMatchObject({ status: 'completed', outcome: 'completed', durationSec: 42 });
  expect((await record(settled)).stale).toBeUndefined();

  const list = await stack.get('/api/calls?stale=true');
  expect(list.status).toBe(200);
  expect(ids(list)).toEqual([lost]);
  expect(list.json.items[0].stale.reason).toContain('platform set');
  expect(ids(await stack.get('/api/calls?status=stale'))).toEqual([lost]);
  expect(ids(await stack.get('/api/calls?stale=false'))).toEqual([settled]);
  expect(await metric()).toBe(1);

  const bad = await stack.get('/api/calls?stale=maybe');
  expect(bad.status).toBe(400);
  expect(bad.json.message).toContain('stale');

  // The platform's end arrives after all: applied normally, the mark is gone.
  const end = {
    message: {
      type: 'end-of-call-report',
      endedReason: 'customer-ended-call',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      endedAt: new Date().toISOString(),
      call: { id: lost, type: 'outboundPhoneCall' },
    },
  };
  expect((await stack.post('/api/calls/webhook/vapi', end)).status).toBe(200);
  await eventually(
    'the late end applied',
    async () => {
      const r = await record(lost);
      return r.status === 'completed' && r.stale === undefined;
    },
    30_000,
  );
  expect(ids(await stack.get('/api/calls?stale=true'))).toEqual([]);
  await new Promise((r) => setTimeout(r, SCRAPE_DB_READ_EVERY_MS + 100)); // the gauge reads the database at most once per interval
  expect(await metric()).toBe(0);
  expect(fake.asked(settled)).toHaveLength(1);
});

test("a Retell organization's webhook secret is its API key: the call is looked up with it, and a call Retell does not know is stale at once", async () => {
  const key = 'retell-webhook-key';
  const { orgId, apiKey } = await stack.newOrg('stale-signed');
  await setProviderSecret(stack.store.col, orgId, 'retell', { secret: key });
  const callId = uniqueId('retell_unreachable');
  // No key in the platform record: the stored webhook secret (the Retell API key) is used; the fake does not know the call.
  await setPlatformApi(stack.store.col, orgId, 'retell', { baseUrl: fake.baseUrl });
  const send = async (body: unknown) => {
    const raw = JSON.stringify(body);
    const v = Date.now();
    const d = createHmac('sha256', key)
      .update(raw + String(v))
      .digest('hex');
    return fetch(`${stack.baseUrl}/api/calls/webhook/retell?api_key=${apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-retell-signature': `v=${v},d=${d}` },
      body: raw,
    });
  };
  expect((await send(retellStarted(callId))).status).toBe(200);
  const r = await eventually(
    'stale: Retell does not know the call',
    async () => {
      const doc = await stack.store.col.calls.findOne({ _id: `${orgId}:${callId}` });
      return doc?.stale && doc;
    },
    30_000,
  );
  expect(r.stale?.reason).toBe('retell does not know the call (HTTP 404)');
  expect(fake.asked(callId)[0].headers.authorization).toBe(`Bearer ${key}`);
});

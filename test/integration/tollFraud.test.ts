// The toll-fraud guards in front of the dialer, on the real database: a follow-up to a country or a
// number type the operator did not allow is never sent, and neither is one past the organization's
// daily dial budget; each waits for a person as `due`, with the reason. The issue's reproduction
// runs end to end on a real receiver, worker and Temporal.
import '../support/quietRuntime';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createFollowUpActivities, type PlaceFollowUpInput, type PlaceResult } from '../../activities/followUps';
import { DEFAULT_COMPLIANCE, setComplianceSettings } from '../../src/store/compliance';
import type { Store } from '../../src/store/db';
import { followUpKey, setOutboundDialer } from '../../src/store/followUps';
import { eventually, testStore, uniqueId } from '../support/harness';
import { openAllDay } from '../support/callingWindow';
import { startFakeOutbound, type FakeOutbound } from '../support/fakes/outbound';
import { startStack, type Stack } from '../support/stack';

let store: Store;
let fake: FakeOutbound;
beforeAll(async () => {
  [store, fake] = await Promise.all([testStore('tollfraud'), startFakeOutbound()]);
  await openAllDay(store.col, 'org_tf', 'org_types', 'org_budget', 'org_race');
}, 60_000);
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await fake?.close();
});

/** Runs the placing activity as Temporal would (an activity context), against the fake platform. */
const place = (input: PlaceFollowUpInput): Promise<PlaceResult> => {
  const acts = createFollowUpActivities({ col: store.col, dialTimeoutMs: 3_000 });
  return new MockActivityEnvironment().run((i: PlaceFollowUpInput) => acts.placeFollowUpCall(i), input);
};
const sentTo = (to: string) => fake.requests.filter((r) => JSON.stringify(r.body).includes(to));
const retellDialer = (orgId: string, extra: { allowedCountryCodes?: string[]; allowedNumberTypes?: string[] } = {}) =>
  setOutboundDialer(store.col, { orgId, provider: 'retell', baseUrl: fake.baseUrl, apiKey: 'k', fromNumber: '+14155550000', ...extra });

test('a number outside the allowed countries becomes due and no request reaches the platform', async () => {
  // Default: the caller id's country (+1) only, whatever number the webhook says the call came from.
  await retellDialer('org_tf');
  const r = await place({ orgId: 'org_tf', originalCallId: 'c1', attempt: 1, to: '+882161234567', from: '+882161234500' });
  expect(r).toEqual({
    kind: 'due',
    reason:
      "toll-fraud guard: +882161234567 is in country calling code +882, outside the organization's allowed +1; call by hand if it is right",
    refusedBy: 'country',
  });
  const doc = await store.col.followUps.findOne({ _id: followUpKey('org_tf', 'c1', 1) });
  expect(doc).toMatchObject({ status: 'due', to: '+882161234567' });

  // An explicit list replaces the default.
  await retellDialer('org_tf', { allowedCountryCodes: ['44'] });
  const us = await place({ orgId: 'org_tf', originalCallId: 'c2', attempt: 1, to: '+14155551234' });
  expect(us).toMatchObject({
    kind: 'due',
    reason: expect.stringMatching(/^toll-fraud guard: \+14155551234 .* allowed \+44; call by hand if it is right$/),
  });

  // A dialer without a caller id (Vapi's phoneNumberId) allows nothing until the operator lists countries.
  await setOutboundDialer(store.col, {
    orgId: 'org_tf',
    provider: 'vapi',
    baseUrl: fake.baseUrl,
    apiKey: 'k',
    phoneNumberId: 'pn',
    agentId: 'a',
    fromNumber: undefined,
    allowedCountryCodes: undefined,
  });
  const vapi = await place({ orgId: 'org_tf', originalCallId: 'c3', attempt: 1, to: '+14155551234', from: '+14155550001' });
  expect(vapi).toMatchObject({ kind: 'due', refusedBy: 'country', reason: expect.stringMatching(/no allowed country calling codes/) });
  expect(sentTo('+882161234567')).toEqual([]);
  expect(sentTo('+14155551234')).toEqual([]);
});

test('premium-rate, shared-cost, UAN, personal and international-network numbers are refused unless the dialer opts in', async () => {
  await retellDialer('org_types', { allowedCountryCodes: ['1', '44', '41', '49', '882'] });
  const cases = [
    ['+19005550100', 'premium-rate'],
    ['+41840123456', 'shared-cost'],
    ['+445512345678', 'uan'],
    ['+4970012345678', 'personal-number'],
    ['+88213000002', 'international-network'],
  ];
  for (const [i, [to, type]] of cases.entries()) {
    const r = await place({ orgId: 'org_types', originalCallId: `t${i}`, attempt: 1, to });
    expect(r).toEqual({
      kind: 'due',
      refusedBy: 'number_type',
      reason: `toll-fraud guard: ${to} is a ${type} number, refused unless the dialer opts in ("outbound set --allow-number-types ${type}"); call by hand if it is right`,
    });
    expect(await store.col.followUps.findOne({ _id: followUpKey('org_types', `t${i}`, 1) })).toMatchObject({ status: 'due' });
    expect(sentTo(to)).toEqual([]);
  }
  // The operator opts in to one type: that type is dialed, the others still are not.
  await retellDialer('org_types', { allowedCountryCodes: ['1', '44'], allowedNumberTypes: ['premium-rate'] });
  expect(await place({ orgId: 'org_types', originalCallId: 'p1', attempt: 1, to: '+19005550100' })).toMatchObject({ kind: 'placed' });
  expect(await place({ orgId: 'org_types', originalCallId: 'p2', attempt: 1, to: '+445512345678' })).toMatchObject({
    refusedBy: 'number_type',
  });
  expect(sentTo('+19005550100')).toHaveLength(1);
});

test('past the daily dial budget an attempt becomes due with the reason; a retry of a counted attempt keeps its unit', async () => {
  await retellDialer('org_budget');
  await setComplianceSettings(store.col, 'org_budget', {
    ...DEFAULT_COMPLIANCE,
    callingWindow: { start: '00:00', end: '24:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], regions: [] },
    dailyDialBudget: 2,
  });
  const to = (n: number) => `+1415555${String(2000 + n)}`;
  expect(await place({ orgId: 'org_budget', originalCallId: 'b1', attempt: 1, to: to(1) })).toMatchObject({ kind: 'placed' });
  expect(await place({ orgId: 'org_budget', originalCallId: 'b2', attempt: 1, to: to(2) })).toMatchObject({ kind: 'placed' });
  const third = await place({ orgId: 'org_budget', originalCallId: 'b3', attempt: 1, to: to(3) });
  const day = new Date().toISOString().slice(0, 10);
  expect(third).toEqual({
    kind: 'due',
    refusedBy: 'budget',
    reason: `daily dial budget: the organization's 2 unattended follow-up calls for ${day} (UTC) are used (calling rules: dailyDialBudget); call by hand or raise the budget`,
  });
  expect(await store.col.followUps.findOne({ _id: followUpKey('org_budget', 'b3', 1) })).toMatchObject({
    status: 'due',
    reason: expect.stringMatching(/^daily dial budget: .*; call by hand or raise the budget$/),
  });
  expect(sentTo(to(3))).toEqual([]);
  // Activity retries of a placed attempt return the stored call and take nothing more.
  expect(await place({ orgId: 'org_budget', originalCallId: 'b1', attempt: 1, to: to(1) })).toMatchObject({ kind: 'placed' });
  expect(await store.col.dialBudget.countDocuments({ orgId: 'org_budget', day })).toBe(2);
  expect(sentTo(to(1))).toHaveLength(1);
});

test('concurrent attempts of one organization never go past the budget (no shared counter to lose updates)', async () => {
  await retellDialer('org_race');
  await setComplianceSettings(store.col, 'org_race', {
    ...DEFAULT_COMPLIANCE,
    callingWindow: { start: '00:00', end: '24:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], regions: [] },
    dailyDialBudget: 5,
  });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      place({ orgId: 'org_race', originalCallId: `r${i}`, attempt: 1, to: `+1415556${String(3000 + i)}` }),
    ),
  );
  const placed = results.filter((r) => r.kind === 'placed').length;
  expect(placed).toBeGreaterThan(0);
  expect(placed).toBeLessThanOrEqual(5);
  expect(results.filter((r) => r.kind === 'due' && r.refusedBy === 'budget')).toHaveLength(20 - placed);
  expect(await store.col.dialBudget.countDocuments({ orgId: 'org_race' })).toBe(placed);
  expect(fake.requests.filter((r) => JSON.stringify(r.body).includes('+1415556'))).toHaveLength(placed);
});

describe("the issue's reproduction, end to end", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('tollrepro', { deps: { dialTimeoutMs: 3_000 } });
    await openAllDay(stack.store.col, stack.orgId);
    // `outbound set --provider vapi --base-url <listener>`: no caller id, no country list.
    await setOutboundDialer(stack.store.col, {
      orgId: stack.orgId,
      provider: 'vapi',
      baseUrl: fake.baseUrl,
      apiKey: 'vk',
      phoneNumberId: 'pn_1',
      agentId: 'asst_1',
    });
  }, 120_000);
  afterAll(() => stack?.stop());

  test('an unsigned webhook naming +882 numbers and a retry: no request to the dialer, the attempt due with the reason', async () => {
    const callId = uniqueId('toll');
    const r = await stack.post('/api/calls/webhook', {
      callId,
      event: 'call.completed',
      status: 'no-answer',
      from: '+88213000001',
      to: '+88213000002',
    });
    expect(r.status).toBe(200);
    await eventually(
      'the follow-up to be scheduled',
      async () => (await stack.get(`/api/calls/${callId}`)).json?.followUp?.status === 'scheduled',
      30_000,
    );
    const retry = await stack.post(`/api/calls/${callId}/retry`, {});
    expect(retry.status).toBe(202);
    const attempt = await eventually(
      'the attempt to be due',
      async () => (await stack.get(`/api/follow-ups?callId=${callId}`)).json?.items?.find((a: { status: string }) => a.status === 'due'),
      30_000,
    );
    expect(attempt).toMatchObject({ attempt: 1, to: '+88213000002', reason: expect.stringMatching(/no allowed country calling codes/) });
    expect(sentTo('+88213000002')).toEqual([]);
    expect(await stack.workerMetrics.registry.getSingleMetricAsString('calls_api_follow_up_dial_refusals_total')).toMatch(
      /calls_api_follow_up_dial_refusals_total\{guard="country"\} 1/,
    );
  }, 90_000);

  test('past the budget set over the API the attempt is due, and the dashboard shows the day against the budget', async () => {
    const put = await fetch(`${stack.baseUrl}/api/settings/calling-rules`, {
      method: 'PUT',
      headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ dailyDialBudget: 0 }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ dailyDialBudget: 0 });
    await setOutboundDialer(stack.store.col, {
      orgId: stack.orgId,
      provider: 'retell',
      baseUrl: fake.baseUrl,
      apiKey: 'rk',
      fromNumber: '+14155550100',
      phoneNumberId: undefined,
    });
    const callId = uniqueId('budget');
    const to = '+14155550177';
    expect(
      (await stack.post('/api/calls/webhook', { callId, event: 'call.completed', status: 'no-answer', from: '+14155550100', to })).status,
    ).toBe(200);
    await eventually(
      'the follow-up to be scheduled',
      async () => (await stack.get(`/api/calls/${callId}`)).json?.followUp?.status === 'scheduled',
      30_000,
    );
    expect((await stack.post(`/api/calls/${callId}/retry`, {})).status).toBe(202);
    const attempt = await eventually(
      'the attempt to be due',
      async () => (await stack.get(`/api/follow-ups?callId=${callId}`)).json?.items?.find((a: { status: string }) => a.status === 'due'),
      30_000,
    );
    expect(attempt.reason).toMatch(
      /^daily dial budget: the organization's 0 unattended follow-up calls for \d{4}-\d\d-\d\d \(UTC\) are used/,
    );
    expect(sentTo(to)).toEqual([]);
    const queues = (await stack.get('/api/dashboard/queues')).json;
    expect(queues.dialBudget).toEqual({ day: new Date().toISOString().slice(0, 10), used: 0, budget: 0, refused: 1 });
    expect(queues.due).toEqual(expect.arrayContaining([expect.objectContaining({ callId, reason: attempt.reason })]));
    expect(
      (
        await fetch(`${stack.baseUrl}/api/settings/calling-rules`, {
          method: 'PUT',
          headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ dailyDialBudget: -1 }),
        })
      ).status,
    ).toBe(400);
  }, 90_000);
});

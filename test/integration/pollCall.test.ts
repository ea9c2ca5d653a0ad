// The pollCallStatus activity against local fakes of the four get-call APIs, with credentials as
// the organization stores them (encrypted): the request each platform gets, an end turned into
// events, "still going", and every way of "cannot say" (no credentials, 404, refused key, 5xx).
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { PLATFORM_UNAVAILABLE, createStaleCallActivities } from '../../activities/staleCalls';
import type { PollAnswer } from '../../src/domain/stale';
import type { Provider } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { setProviderSecret } from '../../src/store/organizations';
import { getPlatformApi, platformCredentials, setPlatformApi } from '../../src/store/platformApis';
import { isEncrypted, useSecretsKey } from '../../src/store/secrets';
import { startFakePlatforms, type FakePlatforms } from '../support/fakes/platforms';
import { testStore, uniqueId } from '../support/harness';

let store: Store;
let fake: FakePlatforms;
const ORG = 'org_poll';
const SID = 'AC0123456789abcdef0123456789abcdef';

beforeAll(async () => {
  useSecretsKey(randomBytes(32));
  [store, fake] = await Promise.all([testStore('poll'), startFakePlatforms()]);
  await setPlatformApi(store.col, ORG, 'vapi', { baseUrl: fake.baseUrl, apiKey: 'vapi-private-key' });
  await setPlatformApi(store.col, ORG, 'twilio', { baseUrl: fake.baseUrl, accountSid: SID }); // the auth token is the webhook secret
  await setProviderSecret(store.col, ORG, 'twilio', { secret: 'twilio-auth-token' });
  await setOutboundDialer(store.col, { orgId: ORG, provider: 'bland', baseUrl: fake.baseUrl, apiKey: 'bland-api-key' });
  await setProviderSecret(store.col, ORG, 'retell', { secret: 'retell-api-key' }); // Retell signs webhooks with the API key
  await setPlatformApi(store.col, ORG, 'retell', { baseUrl: fake.baseUrl });
}, 60_000);

afterAll(async () => {
  useSecretsKey(undefined);
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await fake?.close();
});

const poll = (provider: Provider, callId: string, org = ORG): Promise<PollAnswer> => {
  const activities = createStaleCallActivities({ col: store.col, dialTimeoutMs: 2_000 });
  return new MockActivityEnvironment().run((input: Parameters<typeof activities.pollCallStatus>[0]) => activities.pollCallStatus(input), {
    orgId: org,
    callId,
    provider,
  });
};

test.each([
  ['retell', 'Bearer retell-api-key', (id: string) => `/v2/get-call/${id}`],
  ['vapi', 'Bearer vapi-private-key', (id: string) => `/call/${id}`],
  ['bland', 'bland-api-key', (id: string) => `/v1/calls/${id}`],
  [
    'twilio',
    `Basic ${Buffer.from(`${SID}:twilio-auth-token`).toString('base64')}`,
    (id: string) => `/2010-04-01/Accounts/${SID}/Calls/${id}.json`,
  ],
] as const)('%s: an ended call comes back as its end, asked with the stored credentials', async (provider, auth, path) => {
  const callId = provider === 'twilio' ? `CA${randomBytes(16).toString('hex')}` : uniqueId(provider);
  fake.calls.set(callId, { state: 'ended', outcome: 'no-answer', contactId: 'contact_7' });
  const a = await poll(provider, callId);
  expect(a.kind).toBe('ended');
  if (a.kind !== 'ended') return;
  const end = a.events.find((e) => e.type === 'call.failed');
  expect(end).toMatchObject({ provider, callId, type: 'call.failed', outcome: 'no-answer' });
  expect(end?.eventId).toBe(`poll:${provider}:${callId}:${a.platformStatus}`);
  const [req] = fake.asked(callId);
  expect(req.path).toBe(path(callId));
  expect(req.headers.authorization).toBe(auth);

  fake.calls.set(callId, { state: 'ongoing' });
  expect(await poll(provider, callId)).toMatchObject({ kind: 'ongoing' });
});

test('the API key set with platform set is stored encrypted, bound to its organization and platform', async () => {
  const raw = await store.col.platformApis.findOne({ _id: `${ORG}:vapi` });
  expect(isEncrypted(raw!.apiKey!)).toBe(true);
  expect(raw!.apiKey).not.toContain('vapi-private-key');
  expect((await getPlatformApi(store.col, ORG, 'vapi'))?.apiKey).toBe('vapi-private-key');
  await store.col.platformApis.updateOne(
    { _id: `${ORG}_copy:vapi` },
    { $set: { ...raw, _id: `${ORG}_copy:vapi`, orgId: `${ORG}_copy` } },
    { upsert: true },
  );
  await expect(getPlatformApi(store.col, `${ORG}_copy`, 'vapi')).rejects.toThrow(/does not decrypt/);
});

test('cannot say: no credentials, a generic call, an unknown call, a refused key are final; a 503 is retried', async () => {
  const none = await poll('bland', 'b_x', 'org_poll_none');
  expect(none).toMatchObject({ kind: 'unknown', final: true });
  expect((none as { reason: string }).reason).toContain('platform set --org org_poll_none --provider bland');
  expect(await poll('generic', 'g1')).toMatchObject({
    kind: 'unknown',
    final: true,
    reason: 'a generic call has no platform to ask how it ended',
  });
  expect(await poll('vapi', 'never_heard_of')).toMatchObject({
    kind: 'unknown',
    final: true,
    reason: 'vapi does not know the call (HTTP 404)',
  });

  fake.calls.set('refused', { state: 'status', status: 401 });
  expect(await poll('vapi', 'refused')).toMatchObject({ kind: 'unknown', final: true });
  fake.calls.set('down', { state: 'status', status: 503 });
  const err = await poll('vapi', 'down').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: PLATFORM_UNAVAILABLE, nonRetryable: false });
});

test('Twilio without an account SID has no credentials, even with its auth token stored', async () => {
  await setProviderSecret(store.col, 'org_poll_nosid', 'twilio', { secret: 'token' });
  expect(await platformCredentials(store.col, 'org_poll_nosid', 'twilio')).toEqual({
    missing: expect.stringContaining('no Twilio account SID is stored for org_poll_nosid'),
  });
});

test('an unreachable platform is a retryable failure', async () => {
  await setPlatformApi(store.col, 'org_poll_down', 'retell', { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
  const err = await poll('retell', 'r1', 'org_poll_down').catch((e: unknown) => e);
  expect(err).toMatchObject({ type: PLATFORM_UNAVAILABLE, nonRetryable: false });
});

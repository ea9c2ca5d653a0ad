// The toll-fraud guard in front of the dialer, on the real database: a follow-up to a country the
// organization does not call from is never sent; it waits for a person as `due`.
import { createFollowUpActivities } from '../../activities/followUps';
import { followUpKey } from '../../src/store/followUps';
import type { Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { testStore } from '../support/harness';
import { openAllDay } from '../support/callingWindow';

let store: Store;
beforeAll(async () => {
  store = await testStore('tollfraud');
  await openAllDay(store.col, 'org_tf');
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

test('a number outside the allowed countries becomes due and no request reaches the platform', async () => {
  const requests: string[] = [];
  const fetchSpy = (async (url: string | URL) => {
    requests.push(String(url));
    throw new Error('must not be called');
  }) as unknown as typeof fetch;
  const acts = createFollowUpActivities({ col: store.col, fetch: fetchSpy });

  // Default: the caller id's country (+1) only.
  await setOutboundDialer(store.col, {
    orgId: 'org_tf',
    provider: 'bland',
    baseUrl: 'http://127.0.0.1:9',
    apiKey: 'k',
    fromNumber: '+14155550000',
  });
  const r = await acts.placeFollowUpCall({ orgId: 'org_tf', originalCallId: 'c1', attempt: 1, to: '+882161234567', from: '+14155550000' });
  expect(r).toEqual({
    kind: 'due',
    reason: "toll-fraud guard: +882161234567 is in country calling code +882, outside the organization's allowed +1",
  });
  const doc = await store.col.followUps.findOne({ _id: followUpKey('org_tf', 'c1', 1) });
  expect(doc).toMatchObject({ status: 'due', to: '+882161234567' });

  // An explicit list replaces the default.
  await setOutboundDialer(store.col, {
    orgId: 'org_tf',
    provider: 'bland',
    baseUrl: 'http://127.0.0.1:9',
    apiKey: 'k',
    fromNumber: '+14155550000',
    allowedCountryCodes: ['44'],
  });
  const us = await acts.placeFollowUpCall({ orgId: 'org_tf', originalCallId: 'c2', attempt: 1, to: '+14155551234' });
  expect(us).toMatchObject({ kind: 'due', reason: expect.stringMatching(/^toll-fraud guard: \+14155551234 .* allowed \+44$/) });
  expect(requests).toEqual([]);
});

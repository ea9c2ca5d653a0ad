// What the calling rules know about a contact, from the real database and libphonenumber's data:
// the time zone in order (contact's own, the number's, the organization's), the region for the
// stricter rules, and do-not-call from the contact's mark or the organization's list.
import { loadFollowUpContext } from '../../activities/compliance';
import { createContact } from '../../src/store/contacts';
import { DEFAULT_COMPLIANCE, addDoNotCallNumbers, markContactDoNotCall, setComplianceSettings } from '../../src/store/compliance';
import type { Store } from '../../src/store/db';
import { createOrganization } from '../../src/store/organizations';
import { testStore } from '../support/harness';

let store: Store;
const ORG = 'org_ctx';
beforeAll(async () => {
  store = await testStore('fu_context');
  await createOrganization(store.col, 'Context', ORG);
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

test("the contact's own zone first, then the number's (with its state), then the organization's", async () => {
  await createContact(store.col, ORG, { contactId: 'own', phone: '+13125550101', timezone: 'Europe/Paris' });
  expect(await loadFollowUpContext(store.col, { orgId: ORG, contactId: 'own', phone: '+13125550101' })).toEqual({
    zones: ['Europe/Paris'],
    zoneSource: 'contact',
    regions: ['US', 'US-IL'],
    policy: DEFAULT_COMPLIANCE.callingWindow,
  });

  await createContact(store.col, ORG, { contactId: 'miami', phone: '+13055550101' });
  expect(await loadFollowUpContext(store.col, { orgId: ORG, contactId: 'miami', phone: '+13055550101' })).toMatchObject({
    zones: ['America/New_York'],
    zoneSource: 'phone',
    regions: ['US', 'US-FL'],
  });
  // A prefix that spans zones gives them all (Alaska: Anchorage and Adak).
  expect((await loadFollowUpContext(store.col, { orgId: ORG, phone: '+19075550101' })).zones.sort()).toEqual([
    'America/Adak',
    'America/Anchorage',
  ]);

  // Nothing known about the number: the organization's default, UTC until set.
  expect(await loadFollowUpContext(store.col, { orgId: ORG })).toMatchObject({ zones: ['UTC'], zoneSource: 'organization', regions: [] });
  await setComplianceSettings(store.col, ORG, { ...DEFAULT_COMPLIANCE, defaultTimeZone: 'America/Denver' });
  expect(await loadFollowUpContext(store.col, { orgId: ORG, contactId: 'nobody' })).toMatchObject({
    zones: ['America/Denver'],
    zoneSource: 'organization',
  });
});

test("do-not-call: the contact's mark wins over the list; the list alone blocks the number", async () => {
  await addDoNotCallNumbers(store.col, ORG, [{ phone: '+14155550199', reason: 'complained' }]);
  expect((await loadFollowUpContext(store.col, { orgId: ORG, phone: '+14155550199' })).doNotCall).toMatchObject({
    source: 'list',
    reason: 'complained',
  });
  await markContactDoNotCall(store.col, ORG, 'both', { reason: 'asked', source: 'contact' });
  expect((await loadFollowUpContext(store.col, { orgId: ORG, contactId: 'both', phone: '+14155550199' })).doNotCall).toMatchObject({
    source: 'contact',
    reason: 'asked',
  });
  expect((await loadFollowUpContext(store.col, { orgId: ORG, contactId: 'other', phone: '+14155550100' })).doNotCall).toBeUndefined();
});

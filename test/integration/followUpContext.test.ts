// What the calling rules know about a contact, from the real database and libphonenumber's data:
// the time zone in order (contact's own, the number's, the organization's), the region for the
// stricter rules, and do-not-call from the contact's mark or the organization's list.
import { loadFollowUpContext, reserveRules } from '../../activities/compliance';
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
    // Solicitation by default: the federal hours, Illinois has no rule of its own in the table.
    purpose: 'solicitation',
    laws: [expect.objectContaining({ id: 'US-TCPA-64.1200(c)(1)', citation: '47 CFR 64.1200(c)(1) (TCPA)' })],
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

test("a contact whose address and number disagree gets both regions' laws and the stricter caps; the purpose picks them", async () => {
  // A Dallas number, a person who lives in Oklahoma.
  await createContact(store.col, ORG, { contactId: 'okie', phone: '+12145550101', region: 'US-OK' });
  const ctx = await loadFollowUpContext(store.col, { orgId: ORG, contactId: 'okie', phone: '+12145550101' });
  expect(ctx.regions).toEqual(['US', 'US-TX', 'US-OK']);
  expect(ctx.laws!.map((l) => l.id)).toEqual(['US-TCPA-64.1200(c)(1)', 'US-OK-775C.4', 'US-TX-301.051']);
  expect(await reserveRules(store.col, ORG, 'okie')).toEqual({
    cap: 3,
    limits: [{ cap: 3, windowMs: 24 * 3_600_000, rule: 'Oklahoma, 15 O.S. §775C.4: 3 calls in 24 hours' }],
  });

  // A collector: Regulation F's 7 in 7 days, and 7 quiet days from the last conversation (a call that ended completed).
  const DEBT = 'org_ctx_debt';
  await createOrganization(store.col, 'Collector', DEBT);
  await setComplianceSettings(store.col, DEBT, { ...DEFAULT_COMPLIANCE, purpose: 'debt-collection' });
  await createContact(store.col, DEBT, { contactId: 'debtor', phone: '+14055550101' });
  expect(
    (await loadFollowUpContext(store.col, { orgId: DEBT, contactId: 'debtor', phone: '+14055550101' })).laws!.map((l) => l.id),
  ).toEqual(['US-RegF-1006.14(b)(2)']);
  const noTalk = await reserveRules(store.col, DEBT, 'debtor');
  expect(noTalk).toEqual({ cap: 3, limits: [expect.objectContaining({ cap: 7, windowMs: 7 * 24 * 3_600_000 })] });
  const endedAt = '2026-12-01T15:00:00.000Z';
  const call = { orgId: DEBT, contactId: 'debtor', outcome: 'completed', endedAt, createdAt: new Date(), updatedAt: new Date() };
  await store.col.calls.insertMany([
    { _id: `${DEBT}:talk`, callId: 'talk', ...call },
    // A later voicemail is no conversation.
    { _id: `${DEBT}:vm`, callId: 'vm', ...call, outcome: 'voicemail', endedAt: '2026-12-02T15:00:00.000Z' },
  ] as never);
  expect(await reserveRules(store.col, DEBT, 'debtor')).toMatchObject({
    quietUntil: Date.parse(endedAt) + 7 * 24 * 3_600_000,
    quietRule: 'United States, Regulation F, 12 CFR 1006.14(b)(2) and 1006.6(b)(1)(i): no call within 7 days after a conversation',
  });
});

// Contact counts under the conditions that break naive increments: many calls of one contact
// finishing at once, and the same call counted by racing attempts. Run on the real database
// (FerretDB locally, whose updates are not atomic under concurrency).
import type { Store } from '../../src/store/db';
import { countCallOnContact, getContact } from '../../src/store/contacts';
import { testStore } from '../support/harness';

let store: Store;
beforeAll(async () => {
  store = await testStore('counts');
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const at = (i: number) => new Date(Date.UTC(2025, 0, 15, 10, i)).toISOString();

test('twenty calls of one contact finishing at the same moment all count', async () => {
  const calls = Array.from({ length: 20 }, (_, i) => ({ callId: `c${i}`, date: at(i), durationSec: 60 + i }));
  const results = await Promise.all(calls.map((c) => countCallOnContact(store.col, 'org_a', 'busy_contact', c)));
  expect(results.every((r) => r === 'counted')).toBe(true);
  const contact = await getContact(store.col, 'org_a', 'busy_contact');
  expect(contact).toMatchObject({ callCount: 20, lastCallId: 'c19', lastCallDate: at(19), lastCallDuration: 79 });
});

test('one call counted by racing attempts counts once', async () => {
  const c = { callId: 'same', date: at(1), durationSec: 30 };
  const results = await Promise.all(Array.from({ length: 10 }, () => countCallOnContact(store.col, 'org_a', 'raced', c)));
  expect(results.filter((r) => r === 'counted')).toHaveLength(1);
  expect(await getContact(store.col, 'org_a', 'raced')).toMatchObject({ callCount: 1, lastCallDuration: 30 });
});

test('a late, older call counts but does not become the last call', async () => {
  await countCallOnContact(store.col, 'org_a', 'late', { callId: 'new', date: at(30), durationSec: 100 });
  await countCallOnContact(store.col, 'org_a', 'late', { callId: 'old', date: at(10), durationSec: 5 });
  expect(await getContact(store.col, 'org_a', 'late')).toMatchObject({ callCount: 2, lastCallId: 'new', lastCallDate: at(30), lastCallDuration: 100 });
});

test('counting keeps what a person set on the contact', async () => {
  await store.col.contacts.insertOne({
    _id: 'org_a:named', orgId: 'org_a', contactId: 'named', name: 'Dana', email: 'dana@example.com', callCount: 0, createdAt: new Date(), updatedAt: new Date(),
  } as never);
  await countCallOnContact(store.col, 'org_a', 'named', { callId: 'x', date: at(2) });
  expect(await getContact(store.col, 'org_a', 'named')).toMatchObject({ name: 'Dana', email: 'dana@example.com', callCount: 1 });
});

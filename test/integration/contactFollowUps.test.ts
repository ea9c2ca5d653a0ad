// The contact's per-person follow-up state in the database: an older write never replaces a
// newer one, and GET /api/contacts/:id shows a person the attempts of the last 24 hours, the cap
// (the organization's default, 3, not set here), when it frees up and the plan running.
import http from 'node:http';
import { type ContactGateState, SLOT_MARGIN_MS } from '../../src/domain/contactCaps';
import type { Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { createContact } from '../../src/store/contacts';
import { loadContactGate, saveContactGate } from '../../src/store/contactGate';
import { serve, stubbedApp } from '../support/app';
import { testStore, uniqueId } from '../support/harness';

const H = 3_600_000;
let store: Store;
let server: http.Server;
let base: string;
let key: string;
let org: string;

beforeAll(async () => {
  store = await testStore('contactgate');
  org = await createOrganization(store.col, 'caps http');
  key = (await addApiKey(store.col, org, { scope: 'read' })).key;
  ({ server, base } = await serve(stubbedApp(store.col)));
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const getContact = async (contactId: string) =>
  (await fetch(`${base}/api/contacts/${contactId}`, { headers: { 'x-api-key': key } })).json() as Promise<Record<string, any>>;

test('an older state never replaces a newer one; a cleared plan is removed', async () => {
  const contactId = uniqueId('contact');
  const t = Date.now();
  const newer: ContactGateState = {
    rev: 3,
    reservations: [{ key: 'a:1', callId: 'a', attempt: 1, at: t }],
    plan: { ownerCallId: 'a', since: t, joined: [{ callId: 'b', at: t }] },
  };
  await saveContactGate(store.col, org, contactId, newer);
  await saveContactGate(store.col, org, contactId, { rev: 2, reservations: [] });
  expect(await loadContactGate(store.col, org, contactId)).toEqual(newer);
  await saveContactGate(store.col, org, contactId, { rev: 4, reservations: newer.reservations });
  expect(await loadContactGate(store.col, org, contactId)).toEqual({ rev: 4, reservations: newer.reservations });
});

test('GET /api/contacts/:id shows the attempts of the last 24 hours, the default cap, when it frees up and the plan with its joined calls', async () => {
  const contactId = uniqueId('contact');
  const untouched = uniqueId('contact');
  for (const c of [contactId, untouched]) await createContact(store.col, org, { contactId: c });
  const now = Date.now();
  const at = [now - 30 * H, now - 20 * H, now - 10 * H, now - H]; // the first is outside the window
  await saveContactGate(store.col, org, contactId, {
    rev: 7,
    reservations: at.map((t, i) => ({ key: `c${i}:1`, callId: `c${i}`, attempt: 1, at: t })),
    plan: { ownerCallId: 'c3', since: now - 3 * H, joined: [{ callId: 'c4', at: now - 2 * H }] },
  });
  const body = await getContact(contactId);
  expect(body.followUps).toEqual({
    attemptsLast24h: 3,
    cap: 3,
    nextFreeAt: new Date(at[1] + 24 * H + SLOT_MARGIN_MS).toISOString(),
    plan: { ownerCallId: 'c3', since: new Date(now - 3 * H).toISOString(), joined: ['c4'] },
  });
  expect(await getContact(untouched)).not.toHaveProperty('followUps');
});

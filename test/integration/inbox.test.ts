// The inbox on the real database (FerretDB locally): what the webhook's one insert and the relay's
// claims do, including the duplicate keys a platform's retries produce.
import type { CallEvent } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import {
  HANDOFF_GRACE_MS,
  PARKED,
  acceptIntoInbox,
  claimBatch,
  deadLetter,
  dueAmong,
  dueInInbox,
  frontOfInbox,
  eventOf,
  inboxDoc,
  inboxStats,
  removeFromInbox,
  retryLater,
  sweepClaims,
} from '../../src/store/inbox';
import { keepDelivered, sweepEventLog, withRequest, writeChunks } from '../../src/store/eventLog';
import { testStore } from '../support/harness';

let store: Store;
beforeAll(async () => {
  store = await testStore('inbox');
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});
beforeEach(async () => {
  await store.col.inbox.deleteMany({});
  await store.col.eventLog.deleteMany({});
  await store.col.inboxClaims.deleteMany({});
});

const event = (callId: string, type: CallEvent['type'] = 'call.completed', extra: Partial<CallEvent> = {}): CallEvent => ({
  eventId: `generic:${callId}:${type}`,
  provider: 'generic',
  providerEvent: type,
  callId,
  type,
  receivedAt: '2025-01-15T10:30:00.000Z',
  ...extra,
});

test('an event is stored whole, keys the database refuses included, and comes back as it went in', async () => {
  const e = event('c1', 'call.completed', { metadata: { 'a.b': 1, $weird: { 'x.y': 'z' } }, transcript: 'señora ✓' });
  const now = new Date();
  const fresh = await acceptIntoInbox(store.col.inbox, [inboxDoc('org_a', 'generic', e, now)]);
  expect(fresh).toHaveLength(1);
  const doc = await store.col.inbox.findOne({ _id: 'org_a:generic:c1:call.completed' });
  expect(doc).toMatchObject({ orgId: 'org_a', provider: 'generic', callId: 'c1', attempts: 0 });
  expect(doc!.nextAttemptAt.getTime()).toBe(now.getTime() + HANDOFF_GRACE_MS);
  expect(eventOf(doc!)).toEqual(e);
});

test('a retried event is a duplicate, not an error, alone and inside a payload of several', async () => {
  const now = new Date();
  const first = inboxDoc('org_a', 'generic', event('c2', 'call.ringing'), now);
  expect(await acceptIntoInbox(store.col.inbox, [first])).toHaveLength(1);
  expect(await acceptIntoInbox(store.col.inbox, [first])).toEqual([]);

  const batch = [
    inboxDoc('org_a', 'generic', event('c2', 'call.ringing'), now), // held already
    inboxDoc('org_a', 'generic', event('c2', 'call.answered'), now),
    inboxDoc('org_a', 'generic', event('c2', 'call.completed'), now),
    inboxDoc('org_a', 'generic', event('c2', 'call.completed'), now), // twice in one payload
  ];
  const fresh = await acceptIntoInbox(store.col.inbox, batch);
  expect(fresh.map((d) => d._id).sort()).toEqual(['org_a:generic:c2:call.answered', 'org_a:generic:c2:call.completed']);
  expect(await store.col.inbox.countDocuments({ callId: 'c2' })).toBe(3);
  // Same event id in another organization is another event.
  expect(await acceptIntoInbox(store.col.inbox, [inboxDoc('org_b', 'generic', event('c2', 'call.ringing'), now)])).toHaveLength(1);
});

test('the relay sees a document only once it is due, and one claim of it wins', async () => {
  const now = new Date();
  const [doc] = await acceptIntoInbox(store.col.inbox, [inboxDoc('org_a', 'generic', event('c3'), now)]);
  expect(await dueInInbox(store.col.inbox, now, 10)).toEqual([]);
  const later = new Date(now.getTime() + HANDOFF_GRACE_MS);
  const [due] = await dueInInbox(store.col.inbox, later, 10);
  expect(due._id).toBe(doc._id);

  // The relay's cheap read finds it at the front, due at the same time.
  expect(dueAmong(await frontOfInbox(store.col.inbox, 10), later, 10, new Set()).map((d) => d._id)).toEqual([doc._id]);
  expect(dueAmong(await frontOfInbox(store.col.inbox, 10), later, 10, new Set([doc._id]))).toEqual([]);

  expect(await claimBatch(store.col.inboxClaims, [due], later, 30_000, 'a')).toEqual([due]);
  // A second receiver that read the same document in the same lease window loses.
  expect(await claimBatch(store.col.inboxClaims, [due], later, 30_000, 'b')).toEqual([]);
  // Once the window is over (the first receiver died, say), it can be claimed again; a document
  // retried or replayed (due at another time) is a new claim at once.
  const nextWindow = new Date((Math.floor(later.getTime() / 30_000) + 1) * 30_000);
  expect(await claimBatch(store.col.inboxClaims, [due], nextWindow, 30_000, 'b')).toEqual([due]);
  expect(
    await claimBatch(store.col.inboxClaims, [{ ...due, nextAttemptAt: new Date(later.getTime() + 1) }], later, 30_000, 'b'),
  ).toHaveLength(1);
  // Old claims go; the fresh one stays.
  expect(await sweepClaims(store.col.inboxClaims, new Date(nextWindow.getTime() + 60_000 - 1), 30_000)).toBe(2);
  expect(await store.col.inboxClaims.countDocuments({})).toBe(1);

  await removeFromInbox(store.col, doc);
  expect(await store.col.inbox.countDocuments({})).toBe(0);
  // Delivered events are kept in the log.
  expect(await store.col.eventLog.findOne({ _id: doc._id })).toMatchObject({ state: 'delivered', callId: 'c3' });
});

test('a failure waits for its retry time; a dead letter is never due and is counted', async () => {
  const now = new Date();
  const [a, b] = await acceptIntoInbox(store.col.inbox, [
    inboxDoc('org_a', 'generic', event('c4'), now),
    inboxDoc('org_a', 'generic', event('c5'), now),
  ]);
  const retryAt = new Date(now.getTime() + 60_000);
  await retryLater(store.col.inbox, a, retryAt, 'Temporal unavailable');
  await deadLetter(store.col.inbox, b, 'workflow id too long');
  expect(await store.col.inbox.findOne({ _id: a._id })).toMatchObject({
    attempts: 1,
    nextAttemptAt: retryAt,
    lastError: 'Temporal unavailable',
  });
  expect(await store.col.inbox.findOne({ _id: b._id })).toMatchObject({
    attempts: 1,
    nextAttemptAt: PARKED,
    deadLetter: 'workflow id too long',
  });
  expect((await dueInInbox(store.col.inbox, new Date(now.getTime() + 59_000), 10)).map((d) => d._id)).toEqual([]);
  expect((await dueInInbox(store.col.inbox, new Date('9000-01-01'), 10)).map((d) => d._id)).toEqual([a._id]);

  const stats = await inboxStats(store.col.inbox, new Date(now.getTime() + 42_000));
  expect(stats).toEqual({ depth: 1, oldestAgeSec: 42, deadLetters: 1 });
  // A dead letter alone does not make the inbox look stuck.
  await removeFromInbox(store.col, a);
  expect(await inboxStats(store.col.inbox, new Date(now.getTime() + 42_000))).toEqual({ depth: 0, oldestAgeSec: 0, deadLetters: 1 });
});

test('stats of an empty inbox', async () => {
  expect(await inboxStats(store.col.inbox, new Date())).toEqual({ depth: 0, oldestAgeSec: 0, deadLetters: 0 });
});

test('concurrent webhooks share insert and delete round trips, and each still learns which of its events are new', async () => {
  const now = new Date();
  // 200 requests at once, every fourth a platform's retry of an earlier one.
  const requests = Array.from({ length: 200 }, (_, i) => [inboxDoc('org_g', 'generic', event(`g${i % 4 === 3 ? i - 1 : i}`), now)]);
  const results = await Promise.all(requests.map((docs) => acceptIntoInbox(store.col.inbox, docs)));
  const fresh = results.flat();
  expect(fresh).toHaveLength(150);
  expect(new Set(fresh.map((d) => d._id)).size).toBe(150);
  // Of each pair (original, retry) exactly one was told its event is new.
  for (let i = 2; i < 200; i += 4) expect(results[i].length + results[i + 1].length).toBe(1);
  expect(await store.col.inbox.countDocuments({ orgId: 'org_g' })).toBe(150);

  await Promise.all(fresh.map((d) => removeFromInbox(store.col, d)));
  expect(await store.col.inbox.countDocuments({ orgId: 'org_g' })).toBe(0);
});

test('the retention sweep removes delivered events (with their chunks) and refusals past it, never a pending one', async () => {
  const day = 24 * 3600_000;
  const now = new Date();
  const old = new Date(now.getTime() - 31 * day);
  const big = Buffer.alloc(9 * 1024 * 1024, 'a');
  const { docs, chunks } = withRequest([inboxDoc('org_s', 'generic', event('s_old'), old)], {
    path: '/api/calls/webhook',
    contentType: 'application/json',
    headers: {},
    signature: 'unsigned',
    bytes: big.length,
    body: big,
  });
  expect(docs[0].chunks).toEqual({ raw: 3 });
  await writeChunks(store.col.eventChunks, chunks, 10_000);
  await keepDelivered(store.col, docs, old);
  await keepDelivered(store.col, [inboxDoc('org_s', 'generic', event('s_new'), now)], now);
  await acceptIntoInbox(store.col.inbox, [inboxDoc('org_s', 'generic', event('s_pending'), old)]);
  await store.col.refusedRequests.insertMany([
    {
      _id: 'org_s:refused:old',
      orgId: 'org_s',
      receivedAt: old,
      status: 401,
      reason: 'bad signature',
      path: '/',
      contentType: '',
      headers: {},
    },
    {
      _id: 'org_s:refused:new',
      orgId: 'org_s',
      receivedAt: now,
      status: 401,
      reason: 'bad signature',
      path: '/',
      contentType: '',
      headers: {},
    },
  ]);

  expect(await sweepEventLog(store.col, now, 30 * day)).toMatchObject({ events: 1, refused: 1 });
  expect((await store.col.eventLog.find({ orgId: 'org_s' }).toArray()).map((d) => d.callId)).toEqual(['s_new']);
  expect(await store.col.eventChunks.countDocuments({ owner: docs[0]._id })).toBe(0);
  expect(await store.col.inbox.countDocuments({ orgId: 'org_s' })).toBe(1);
  expect((await store.col.refusedRequests.find({ orgId: 'org_s' }).toArray()).map((d) => d._id)).toEqual(['org_s:refused:new']);
});

test('the sweep removes dial-budget units of past days and revoked sessions past their expiry, nothing that still counts', async () => {
  const now = new Date();
  const day = 24 * 3600_000;
  const at = (ms: number) => new Date(now.getTime() + ms);
  await store.col.dialBudget.insertMany([
    { _id: 'b_old', orgId: 'org_s', day: '2000-01-01', at: at(-3 * day) },
    { _id: 'b_yesterday', orgId: 'org_s', day: '2000-01-03', at: at(-day) },
    { _id: 'b_today', orgId: 'org_s', day: '2000-01-04', at: now },
  ]);
  await store.col.revokedSessions.insertMany([
    { _id: 's_expired', orgId: 'org_s', expiresAt: at(-1_000), revokedAt: at(-day) },
    { _id: 's_live', orgId: 'org_s', expiresAt: at(3600_000), revokedAt: at(-1_000) },
  ]);
  expect(await sweepEventLog(store.col, now, 30 * day)).toMatchObject({ dialBudget: 1, revokedSessions: 1 });
  expect((await store.col.dialBudget.find({ orgId: 'org_s' }).toArray()).map((d) => d._id).sort()).toEqual(['b_today', 'b_yesterday']);
  expect((await store.col.revokedSessions.find({ orgId: 'org_s' }).toArray()).map((d) => d._id)).toEqual(['s_live']);
});

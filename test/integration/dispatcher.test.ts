// The dispatcher on the real Temporal and database (no worker: the events wait in the workflows'
// histories, which is what "delivered" means): the immediate hand-off, the relay of what it left,
// and two relays over one backlog.
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { silentLogger } from '../../src/observability/log';
import type { Store } from '../../src/store/db';
import { collections } from '../../src/store/db';
import { PARKED, acceptIntoInbox, inboxDoc, type InboxDoc } from '../../src/store/inbox';
import { connectTemporal, createSignaler } from '../../src/temporal/client';
import { Dispatcher } from '../../src/temporal/dispatcher';
import { EVENT_MAX_TRIES } from '../../src/temporal/deliveryRules';
import { workflowIdFor } from '../../workflows/messages';
import { freePort } from '../../scripts/stack';
import { eventually, requireEnv, testSettings, testStore, uniqueId } from '../support/harness';
import { callEvent } from '../support/callEvents';

let store: Store;
let client: Client;
const taskQueue = uniqueId('tq_dispatch');
beforeAll(async () => {
  store = await testStore('dispatcher');
  client = await connectTemporal({ address: requireEnv('TEMPORAL_ADDRESS'), namespace: 'default' });
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await client?.connection.close();
});
beforeEach(async () => {
  await store.col.inbox.deleteMany({});
  await store.col.inboxClaims.deleteMany({});
});

const dispatcher = (over: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {}) =>
  new Dispatcher({
    inbox: store.col.inbox,
    eventLog: store.col.eventLog,
    claims: store.col.inboxClaims,
    signaler: createSignaler(client, taskQueue, testSettings()),
    logger: silentLogger,
    concurrency: 32,
    relayIntervalMs: 1_000,
    ...over,
  });

const docsFor = (orgId: string, n: number, due = false): InboxDoc[] =>
  Array.from({ length: n }, (_, i) => {
    const callId = `${orgId}_c${i}`;
    const doc = inboxDoc(orgId, 'generic', callEvent(callId, 'call.ringing'), new Date());
    return due ? { ...doc, nextAttemptAt: new Date(Date.now() - 1_000) } : doc;
  });

/** The callEvent signals a workflow's history holds. */
async function signalsIn(orgId: string, callId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowIdFor(orgId, callId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'callEvents').length;
}

test('the hand-off delivers right after the insert and deletes the document', async () => {
  const orgId = uniqueId('org');
  const d = dispatcher();
  const fresh = await acceptIntoInbox(store.col.inbox, docsFor(orgId, 5));
  void d.offer(fresh);
  await eventually('the inbox to empty', async () => (await store.col.inbox.countDocuments({ orgId })) === 0, 15_000);
  for (let i = 0; i < 5; i++) expect(await signalsIn(orgId, `${orgId}_c${i}`)).toBe(1);
  expect(d.status()).toMatchObject({ temporalDown: null, delivered: 5, failed: 0, deadLettered: 0, inFlight: 0, queued: 0 });
  await d.stop();
});

test('acks first: while webhooks wait for their answer the hand-off keeps few deliveries in flight, then catches up', async () => {
  const orgId = uniqueId('org');
  let acking = true;
  const d = dispatcher({ acking: () => acking, concurrencyWhileAcking: 2 });
  const fresh = await acceptIntoInbox(store.col.inbox, docsFor(orgId, 8));
  void d.offer(fresh);
  expect(d.status()).toMatchObject({ inFlight: 2, queued: 6 });
  acking = false;
  await eventually('the inbox to empty', async () => (await store.col.inbox.countDocuments({ orgId })) === 0, 15_000);
  expect(d.status()).toMatchObject({ delivered: 8, inFlight: 0, queued: 0 });
  // With no webhook waiting, the whole concurrency is used at once.
  const more = await acceptIntoInbox(store.col.inbox, docsFor(`${orgId}b`, 8));
  void d.offer(more);
  expect(d.status()).toMatchObject({ inFlight: 8, queued: 0 });
  await eventually('the inbox to empty', async () => (await store.col.inbox.countDocuments({ orgId: `${orgId}b` })) === 0, 15_000);
  await d.stop();
});

test("the hand-off's promise resolves when the event's delivery starts, not before: what a webhook's answer waits for", async () => {
  const orgId = uniqueId('org');
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const real = createSignaler(client, taskQueue, testSettings());
  const signaler = { ...real, deliver: async (...a: Parameters<typeof real.deliver>) => (await gate, real.deliver(...a)) };
  const d = dispatcher({ signaler, concurrency: 1 });
  const [first, second] = [
    await acceptIntoInbox(store.col.inbox, docsFor(orgId, 1)),
    await acceptIntoInbox(store.col.inbox, docsFor(`${orgId}b`, 1)),
  ];
  const started: string[] = [];
  const a = d.offer(first).then(() => started.push('first'));
  const b = d.offer(second).then(() => started.push('second'));
  await new Promise((r) => setTimeout(r, 300));
  // One slot: the first is in flight (held at the gate), the second waits for the slot.
  expect(started).toEqual(['first']);
  expect(d.status()).toMatchObject({ inFlight: 1, queued: 1 });
  open();
  await Promise.all([a, b]);
  expect(started).toEqual(['first', 'second']);
  await eventually(
    'the inbox to empty',
    async () => (await store.col.inbox.countDocuments({ orgId: { $in: [orgId, `${orgId}b`] } })) === 0,
    15_000,
  );
  // Nothing to hand off (Temporal down, queue full, stopped): resolved at once.
  await d.stop();
  await expect(d.offer(await acceptIntoInbox(store.col.inbox, docsFor(`${orgId}c`, 1)))).resolves.toBeUndefined();
});

test('what the hand-off has no room for stays in the inbox, and the relay delivers it', async () => {
  const orgId = uniqueId('org');
  const d = dispatcher({ maxQueued: 3 });
  const fresh = await acceptIntoInbox(store.col.inbox, docsFor(orgId, 5, true));
  void d.offer(fresh); // 5 > 3: left to the relay
  await new Promise((r) => setTimeout(r, 500));
  expect(await store.col.inbox.countDocuments({ orgId })).toBe(5);
  // The relay takes no more than it has room for per pass.
  expect(await d.relayOnce()).toBe(3);
  expect(await d.relayOnce()).toBe(2);
  expect(await store.col.inbox.countDocuments({ orgId })).toBe(0);
  await d.stop();
});

test('two relays over one backlog: every event delivered, the inbox empty', async () => {
  const orgId = uniqueId('org');
  await acceptIntoInbox(store.col.inbox, docsFor(orgId, 60, true));
  const [a, b] = [dispatcher(), dispatcher()];
  const [na, nb] = await Promise.all([a.relayOnce(), b.relayOnce()]);
  expect(await store.col.inbox.countDocuments({ orgId })).toBe(0);
  // Each delivered what it claimed; a claim both won (FerretDB) only means a duplicate signal.
  expect(na + nb).toBeGreaterThanOrEqual(60);
  const counts = await Promise.all(Array.from({ length: 60 }, (_, i) => signalsIn(orgId, `${orgId}_c${i}`)));
  expect(counts.every((c) => c >= 1)).toBe(true);
  await Promise.all([a.stop(), b.stop()]);
});

test('Temporal unreachable: one failure, then probes, no per-event churn; delivered once it answers', async () => {
  const orgId = uniqueId('org');
  const dead = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 }) });
  const down = dispatcher({ signaler: createSignaler(dead, taskQueue, testSettings()) });
  try {
    await acceptIntoInbox(store.col.inbox, docsFor(orgId, 20, true));
    expect(await down.relayOnce()).toBe(0);
    expect(down.status().temporalDown).not.toBeNull();
    expect(down.status()).toMatchObject({ delivered: 0, failed: expect.any(Number) });
    expect(down.status().failed).toBeGreaterThanOrEqual(1);
    // Deliveries already under way fail too; once down, the rest are not even tried.
    const tried = await store.col.inbox.countDocuments({ orgId, attempts: { $gt: 0 } });
    expect(tried).toBeGreaterThanOrEqual(1);
    expect(tried).toBeLessThanOrEqual(20);
    expect(await down.relayOnce()).toBe(0); // a ping, no delivery
    expect(await store.col.inbox.countDocuments({ orgId, attempts: { $gt: 1 } })).toBe(0);
  } finally {
    await down.stop();
    await dead.connection.close().catch(() => undefined);
  }
  // A receiver that reaches Temporal delivers all of it, retried ones once their backoff is over.
  const up = dispatcher();
  up.start();
  try {
    await eventually('the inbox to empty', async () => (await store.col.inbox.countDocuments({ orgId })) === 0, 20_000);
  } finally {
    await up.stop();
  }
}, 60_000);

test('a document whose event cannot be read is dead-lettered at once, and Temporal is not blamed', async () => {
  const orgId = uniqueId('org');
  const [doc] = docsFor(orgId, 1, true);
  await acceptIntoInbox(store.col.inbox, [{ ...doc, event: '{"callId": "half' }]);
  const d = dispatcher();
  expect(await d.relayOnce()).toBe(0);
  const dead = await store.col.inbox.findOne({ _id: doc._id });
  expect(dead?.deadLetter).toMatch(/^unreadable event/);
  expect(d.status()).toMatchObject({ temporalDown: null, deadLettered: 1, failed: 0 });
  await d.stop();
});

test('a relay that cannot read the database says so once, backs off, and keeps trying', async () => {
  const lines: string[] = [];
  const logger = { ...silentLogger, warn: (msg: string) => lines.push(msg) };
  const nowhere = new MongoClient(`mongodb://127.0.0.1:${await freePort()}/`, { serverSelectionTimeoutMS: 100 });
  const d = dispatcher({ inbox: collections(nowhere.db('x')).inbox, logger });
  d.start();
  await new Promise((r) => setTimeout(r, 4_000));
  await d.stop();
  await nowhere.close();
  // A pass every second would have failed about four times; it warned once.
  expect(lines).toEqual(['inbox relay cannot read the database; retrying']);
}, 30_000);

test('a backlog drains pass after pass without waiting the interval between full passes', async () => {
  const orgId = uniqueId('org');
  await acceptIntoInbox(store.col.inbox, docsFor(orgId, 35, true));
  // Batches of 10 and a minute between passes: only back-to-back full passes empty it in time.
  const d = dispatcher({ relayBatch: 10, relayIntervalMs: 60_000 });
  d.start();
  try {
    await eventually('the backlog to drain', async () => (await store.col.inbox.countDocuments({ orgId })) === 0, 30_000);
    expect(d.status().delivered).toBe(35);
  } finally {
    await d.stop();
  }
}, 60_000);

test('the relay loop claims the next batch while the last one is delivered, and no more than one batch ahead', async () => {
  const orgId = uniqueId('org');
  await acceptIntoInbox(store.col.inbox, docsFor(orgId, 20, true));
  // Every delivery waits at a gate until the test opens it.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const real = createSignaler(client, taskQueue, testSettings());
  const signaler = { ...real, deliver: async (...a: Parameters<typeof real.deliver>) => (await gate, real.deliver(...a)) };
  // 4 slots, 1 kept for fresh events: 3 relay deliveries at once; 5 documents a pass.
  const d = dispatcher({ signaler, concurrency: 4, relayBatch: 5, relayIntervalMs: 60_000 });
  const claimed = async () => (await store.col.inboxClaims.find({}).toArray()).filter((c) => c._id.startsWith(`${orgId}:`)).length;
  d.start();
  try {
    // The first pass's 5: 3 in flight and 2 queued, so the loop has room for the next 5 at once, then none.
    await eventually('a second batch claimed while the first waits', async () => (await claimed()) === 10, 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await claimed()).toBe(10);
    open();
    await eventually('the backlog to drain', async () => (await store.col.inbox.countDocuments({ orgId })) === 0, 30_000);
  } finally {
    open();
    await d.stop();
  }
  // Each event reached its workflow once and is kept in the event log.
  const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => signalsIn(orgId, `${orgId}_c${i}`)));
  expect(counts).toEqual(Array.from({ length: 20 }, () => 1));
  expect(await store.col.eventLog.countDocuments({ orgId, state: 'delivered' })).toBe(20);
}, 60_000);

/** A gRPC error as the Temporal client raises it. */
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

test.each([
  ['DEADLINE_EXCEEDED', 4, 'Deadline exceeded', EVENT_MAX_TRIES],
  ['RESOURCE_EXHAUSTED', 8, 'namespace rate limit exceeded', EVENT_MAX_TRIES],
  ['INVALID_ARGUMENT', 3, 'Blob data size exceeds limit', 1],
  ['FAILED_PRECONDITION', 9, 'precondition failed', 1],
])(
  '%s for one event, with Temporal answering its probe: that event is retried at most a bounded number of times, then a dead letter; the others go on',
  async (_, code, details, tries) => {
    const orgId = uniqueId('org');
    const real = createSignaler(client, taskQueue, testSettings());
    const docs = docsFor(orgId, 3, true);
    const badCall = docs[0].callId;
    // Temporal itself is real and up (its health probe answers); only this event's signal fails.
    const signaler = {
      ping: () => real.ping(),
      deliver: async (o: string, p: Parameters<typeof real.deliver>[1], e: Parameters<typeof real.deliver>[2]) => {
        if ((Array.isArray(e) ? e[0] : e).callId === badCall) throw grpcError(code, details);
        return real.deliver(o, p, e);
      },
    };
    const d = dispatcher({ signaler });
    await acceptIntoInbox(store.col.inbox, docs);
    for (let i = 0; i < EVENT_MAX_TRIES + 2; i++) {
      await d.relayOnce();
      // Skip the backoff: make the failed event due again at once.
      await store.col.inbox.updateMany(
        { orgId, deadLetter: { $exists: false } },
        { $set: { nextAttemptAt: new Date(Date.now() - 1_000) } },
      );
    }
    expect(d.status().temporalDown).toBeNull();
    const dead = await store.col.inbox.findOne({ callId: badCall });
    expect(dead).toMatchObject({ attempts: tries, nextAttemptAt: PARKED });
    expect(dead!.deadLetter).toContain(details);
    expect(dead!.tries!.map((t) => t.outcome)).toEqual([...Array(tries - 1).fill('retry'), 'dead']);
    // The other events were delivered and moved to the event log.
    expect(await store.col.inbox.countDocuments({ orgId })).toBe(1);
    expect(await store.col.eventLog.countDocuments({ orgId, state: 'delivered' })).toBe(2);
    await d.stop();
  },
);

test("the relay gives one call's waiting events to its workflow in one signal, claimed in one write", async () => {
  const orgId = uniqueId('org');
  const callId = `${orgId}_grouped`;
  const docs = (['call.initiated', 'call.ringing', 'call.answered'] as const).map((type) => {
    return { ...inboxDoc(orgId, 'generic', callEvent(callId, type), new Date()), nextAttemptAt: new Date(Date.now() - 1_000) };
  });
  await acceptIntoInbox(store.col.inbox, docs);
  const d = dispatcher();
  expect(await d.relayOnce()).toBe(3);
  const history = await client.workflow.getHandle(workflowIdFor(orgId, callId)).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'callEvents');
  expect(signals).toHaveLength(1);
  expect(await store.col.eventLog.countDocuments({ callId })).toBe(3);
  await d.stop();
});

test('a fresh event is not stuck behind a backlog: the hand-off keeps slots the relay may not use', async () => {
  const backlogOrg = uniqueId('org');
  await acceptIntoInbox(store.col.inbox, docsFor(backlogOrg, 3_000, true));
  const d = dispatcher();
  d.start();
  try {
    await eventually('the relay to be busy', async () => d.status().queued > 100, 20_000);
    const freshOrg = uniqueId('org');
    const fresh = await acceptIntoInbox(store.col.inbox, docsFor(freshOrg, 1));
    const t0 = Date.now();
    void d.offer(fresh);
    await eventually('the fresh event delivered', async () => (await store.col.inbox.countDocuments({ orgId: freshOrg })) === 0, 10_000);
    const waited = Date.now() - t0;
    const left = await store.col.inbox.countDocuments({ orgId: backlogOrg });
    // Delivered while the backlog is still there, in about one signal's time rather than the backlog's.
    expect(left).toBeGreaterThan(100);
    expect(waited).toBeLessThan(3_000);
  } finally {
    await d.stop();
  }
  await store.col.inbox.deleteMany({ orgId: backlogOrg });
});

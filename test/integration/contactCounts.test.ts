// Contact counts under the conditions that break naive increments: many calls of one contact
// ending at once, the same call reported again, a batch retried after some of its writes landed.
// On the real database (FerretDB locally, whose updates are not atomic under concurrency) and,
// for the contact's workflow, the real Temporal dev server.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Store } from '../../src/store/db';
import { countContactCalls, getContact, resolveContact, updateContact } from '../../src/store/contacts';
import { noFigures } from '../../src/domain/contactFigures';
import {
  CONTACT_WORKFLOW_TYPE,
  type ContactWorkflowInput,
  callEnded,
  contactWorkflowIdFor,
  getContactState,
} from '../../workflows/messages';
import { saveContactGate } from '../../src/store/contactGate';
import { eventually, testStore, uniqueId, workflowBundle } from '../support/harness';
import { startLocalTemporal } from '../support/localTemporal';

let env: TestWorkflowEnvironment;
let store: Store;
const ORG = 'org_counts';
const at = (i: number) => new Date(Date.UTC(2025, 0, 15, 10, i)).toISOString();

beforeAll(async () => {
  ({ env } = await startLocalTemporal());
  store = await testStore('counts');
}, 120_000);
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await env?.teardown();
});

const settings: ContactWorkflowInput['settings'] = { activityTimeoutMs: 5_000, idleCloseMs: 60_000, maxHistoryEvents: 5_000 };

/** Reports calls the way call workflows do: concurrent signalWithStart to the contact's workflow. */
async function report(taskQueue: string, contactId: string, calls: { callId: string; date: string; durationSec?: number }[]) {
  await Promise.all(
    calls.map((call) =>
      env.client.workflow.signalWithStart(CONTACT_WORKFLOW_TYPE, {
        workflowId: contactWorkflowIdFor(ORG, contactId),
        taskQueue,
        args: [{ orgId: ORG, contactId, settings }],
        signal: callEnded,
        signalArgs: [call],
      }),
    ),
  );
}

async function withWorker(taskQueue: string, fn: () => Promise<void>, activities = createActivities({ col: store.col })) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  await worker.runUntil(fn);
}

const countedTo = (contactId: string, n: number) =>
  eventually(`${n} calls counted on ${contactId}`, async () => {
    const c = await getContact(store.col, ORG, contactId);
    return c && c.callCount === n && c;
  });

test('twenty calls of one contact ending at the same moment all count', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('busy');
  await resolveContact(store.col, ORG, { contactId });
  await withWorker(tq, async () => {
    await report(
      tq,
      contactId,
      Array.from({ length: 20 }, (_, i) => ({ callId: `c${i}`, date: at(i), durationSec: 60 + i })),
    );
    await countedTo(contactId, 20);
  });
  expect(await getContact(store.col, ORG, contactId)).toMatchObject({
    callCount: 20,
    lastCallId: 'c19',
    lastCallDate: at(19),
    lastCallDuration: 79,
  });
});

test('one call reported many times counts once, also across runs of the contact workflow', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('raced');
  await resolveContact(store.col, ORG, { contactId });
  const c = { callId: 'same', date: at(1), durationSec: 30 };
  await withWorker(tq, async () => {
    await report(
      tq,
      contactId,
      Array.from({ length: 10 }, () => c),
    );
    await countedTo(contactId, 1);
    const handle = env.client.workflow.getHandle(contactWorkflowIdFor(ORG, contactId));
    await handle.terminate('a new run must not count the same call again');
    await report(tq, contactId, [c, { callId: 'other', date: at(2) }]);
    await countedTo(contactId, 2);
  });
  expect(await store.col.contactCalls.countDocuments({ orgId: ORG, contactId })).toBe(2);
});

test('each run of the contact workflow reads its stored figures and follow-up state in one activity', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('once');
  await resolveContact(store.col, ORG, { contactId });
  const stored = { rev: 3, reservations: [{ key: 'earlier:1', callId: 'earlier', attempt: 1, at: Date.now() }] };
  await saveContactGate(store.col, ORG, contactId, stored);
  const real = createActivities({ col: store.col });
  const calls: Record<string, number> = {};
  const counted = <K extends 'loadContactState' | 'loadContactFigures' | 'loadContactGate'>(name: K) =>
    ((...args: Parameters<(typeof real)[K]>) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return (real[name] as (...a: typeof args) => unknown)(...args);
    }) as (typeof real)[K];
  const activities = {
    ...real,
    loadContactState: counted('loadContactState'),
    loadContactFigures: counted('loadContactFigures'),
    loadContactGate: counted('loadContactGate'),
  };
  await withWorker(
    tq,
    async () => {
      await report(tq, contactId, [{ callId: 'first', date: at(1) }]);
      await countedTo(contactId, 1);
      const handle = env.client.workflow.getHandle(contactWorkflowIdFor(ORG, contactId));
      await handle.terminate('the next call starts a new run, which continues from the stored state');
      await report(tq, contactId, [{ callId: 'second', date: at(2) }]);
      await countedTo(contactId, 2);
      // The new run took the stored follow-up state from the same read as the figures.
      expect((await handle.query(getContactState)).gate).toEqual(stored);
    },
    activities,
  );
  expect(calls).toEqual({ loadContactState: 2 });
});

test('a late, older call counts but does not become the last call', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('late');
  await resolveContact(store.col, ORG, { contactId });
  await withWorker(tq, async () => {
    await report(tq, contactId, [{ callId: 'new', date: at(30), durationSec: 100 }]);
    await countedTo(contactId, 1);
    await report(tq, contactId, [{ callId: 'old', date: at(10), durationSec: 5 }]);
    await countedTo(contactId, 2);
  });
  expect(await getContact(store.col, ORG, contactId)).toMatchObject({
    callCount: 2,
    lastCallId: 'new',
    lastCallDate: at(30),
    lastCallDuration: 100,
  });
});

test('counting never loses what a person sets on the contact at the same moment', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('named');
  await resolveContact(store.col, ORG, { contactId });
  await withWorker(tq, async () => {
    await Promise.all([
      report(
        tq,
        contactId,
        Array.from({ length: 10 }, (_, i) => ({ callId: `n${i}`, date: at(i) })),
      ),
      ...Array.from({ length: 10 }, (_, i) => updateContact(store.col, ORG, contactId, { name: `Dana ${i}`, email: 'dana@example.com' })),
    ]);
    await countedTo(contactId, 10);
  });
  expect(await getContact(store.col, ORG, contactId)).toMatchObject({
    email: 'dana@example.com',
    name: expect.stringMatching(/^Dana \d$/),
    callCount: 10,
  });
});

test('a batch retried after some of its writes landed counts each call once', async () => {
  const contactId = uniqueId('retried');
  const calls = [
    { callId: 'a', date: at(1) },
    { callId: 'b', date: at(2) },
    { callId: 'c', date: at(3) },
  ];
  // The first try wrote the facts of a and b, then died before storing the figures.
  await store.col.contactCalls.insertMany([
    { _id: `${ORG}:${contactId}:a`, orgId: ORG, contactId, callId: 'a', date: at(1), seq: 1, countedAt: new Date() },
    { _id: `${ORG}:${contactId}:b`, orgId: ORG, contactId, callId: 'b', date: at(2), seq: 2, countedAt: new Date() },
  ]);
  const retry = await countContactCalls(store.col, ORG, contactId, noFigures(), calls);
  expect(retry.counted).toEqual(['a', 'b', 'c']);
  expect(retry.figures).toMatchObject({ callCount: 3, lastCallId: 'c' });
  // A later batch that reports a again (a duplicate from the platform) does not count it.
  const again = await countContactCalls(store.col, ORG, contactId, retry.figures, [{ callId: 'a', date: at(1) }]);
  expect(again.counted).toEqual([]);
  expect(again.figures.callCount).toBe(3);
});

test('contacts are found by phone through the phone index; the first to claim a number keeps it', async () => {
  const phone = '+14155550111';
  const ids = await Promise.all(Array.from({ length: 8 }, () => resolveContact(store.col, ORG, { phone })));
  expect(new Set(ids).size).toBe(1);
  expect(await resolveContact(store.col, ORG, { phone })).toBe(ids[0]);
  expect(await store.col.contacts.countDocuments({ orgId: ORG, phone })).toBe(1);
});

// /readyz needs no key and its inbox figures read the whole inbox: probes that arrive together share
// one read, and each probe still sees the inbox as it is (no cached answer). On the real database.
import type { Server } from 'node:http';
import type { Store } from '../../src/store/db';
import { PARKED, acceptIntoInbox, inboxDoc } from '../../src/store/inbox';
import { serve, stubbedApp } from '../support/app';
import { callEvent } from '../support/callEvents';
import { testStore } from '../support/harness';

let store: Store;
let server: Server;
let base: string;
let reads = 0;
beforeAll(async () => {
  store = await testStore('readyz');
  // The inbox as the app sees it, counting the reads it makes.
  const inbox = new Proxy(store.col.inbox, {
    get(target, prop, receiver) {
      if (prop === 'find') reads++;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  ({ server, base } = await serve(stubbedApp({ ...store.col, inbox })));
});
afterAll(async () => {
  server?.close();
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

type Ready = { status: string; inbox: { depth: number; deadLetters: number } };
const ready = async () => (await (await fetch(`${base}/readyz`)).json()) as Ready;

test('fifty probes at once make one read of the inbox, and every one gets the figures', async () => {
  await acceptIntoInbox(
    store.col.inbox,
    Array.from({ length: 300 }, (_, i) => inboxDoc('org_r', 'generic', callEvent(`r${i}`, 'call.ringing'), new Date())),
  );
  reads = 0;
  const answers = await Promise.all(Array.from({ length: 50 }, () => ready()));
  expect(answers.every((a) => a.inbox.depth === 300)).toBe(true);
  // Not one read per probe: a probe arriving while a read runs shares it.
  expect(reads).toBeGreaterThanOrEqual(1);
  expect(reads).toBeLessThan(10);
});

test('a probe after the last read sees what changed since: nothing is cached past a read', async () => {
  const [doc] = await acceptIntoInbox(store.col.inbox, [inboxDoc('org_r', 'generic', callEvent('dead1', 'call.ringing'), new Date())]);
  const before = await ready();
  await store.col.inbox.updateOne({ _id: doc._id }, { $set: { nextAttemptAt: PARKED } });
  const after = await ready();
  expect(after.inbox.deadLetters).toBe(before.inbox.deadLetters + 1);
  expect(after.status).toBe('degraded');
});

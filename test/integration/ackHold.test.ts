// The webhook's answer and the hand-off (INBOX_ACK_HOLD): after the one durable insert, the 200
// waits for the event's delivery to start, at most the hold, so a burst is acknowledged at the pace
// Temporal takes it. The route on the real database; the dispatcher is the test's, to hold or release.
import type { Server } from 'node:http';
import type { Store } from '../../src/store/db';
import type { InboxDoc } from '../../src/store/inbox';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { loadConfig } from '../../src/config';
import type { AppDeps } from '../../src/http/app';
import { serve, stubbedApp } from '../support/app';
import { genericCompleted } from '../support/payloads';
import { testStore, uniqueId } from '../support/harness';

let store: Store;
let key: string;
const servers: Server[] = [];
beforeAll(async () => {
  store = await testStore('ackhold');
  const orgId = await createOrganization(store.col, 'Ack hold');
  ({ key } = await addApiKey(store.col, orgId, { scope: 'webhook' }));
});
afterAll(async () => {
  for (const s of servers) s.close();
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

/** A receiver whose hand-off starts each offered delivery when `start` is called. */
async function receiver(ackHoldMs: number | undefined) {
  const offered: Array<{ docs: InboxDoc[]; start: () => void }> = [];
  const dispatcher = {
    offer: (docs: InboxDoc[]) => new Promise<void>((start) => offered.push({ docs, start })),
    status: () => ({ temporalDown: null, inFlight: 0, queued: offered.length, delivered: 0, failed: 0, deadLettered: 0 }),
  } as unknown as AppDeps['dispatcher'];
  const { server, base } = await serve(stubbedApp(store.col, { dispatcher, ackHoldMs }));
  servers.push(server);
  const post = async (callId: string) => {
    const t0 = Date.now();
    const res = await fetch(`${base}/api/calls/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(genericCompleted(callId)),
    });
    return { status: res.status, ms: Date.now() - t0 };
  };
  return { offered, post };
}

test("the default hold is 2 s, and at most 8 s (under the platforms' 10 s retry timeout)", () => {
  expect(loadConfig({}).inbox.ackHoldMs).toBe(2_000);
  expect(loadConfig({ INBOX_ACK_HOLD: '0s' }).inbox.ackHoldMs).toBe(0);
  expect(() => loadConfig({ INBOX_ACK_HOLD: '9s' })).toThrow(/INBOX_ACK_HOLD.*at most 8s/s);
});

test('the 200 waits for the delivery to start, and comes as soon as it does', async () => {
  const r = await receiver(8_000);
  const callId = uniqueId('held');
  const answer = r.post(callId);
  // The event is durable before anything waits: the insert comes first.
  for (let i = 0; i < 100 && r.offered.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
  expect(r.offered).toHaveLength(1);
  expect(await store.col.inbox.countDocuments({ callId })).toBe(1);
  await new Promise((res) => setTimeout(res, 400));
  r.offered[0].start();
  const { status, ms } = await answer;
  expect(status).toBe(200);
  expect(ms).toBeGreaterThanOrEqual(400);
  // Released by the start, not by the hold running out (8 s).
  expect(ms).toBeLessThan(7_000);
});

test('a delivery that does not start within the hold does not hold the answer longer; the event stays for the relay', async () => {
  const r = await receiver(300);
  const callId = uniqueId('late');
  const { status, ms } = await r.post(callId);
  expect(status).toBe(200);
  expect(ms).toBeGreaterThanOrEqual(300);
  // The delivery never starts: an answer held for it would never come.
  expect(ms).toBeLessThan(10_000);
  expect(await store.col.inbox.countDocuments({ callId })).toBe(1);
});

test('without a hold the answer does not wait for the hand-off at all', async () => {
  const r = await receiver(undefined);
  const callId = uniqueId('nohold');
  const { status, ms } = await r.post(callId);
  expect(status).toBe(200);
  // The offered delivery never starts here: an answer that waited for it would never come.
  expect(r.offered).toHaveLength(1);
  expect(ms).toBeLessThan(10_000);
});

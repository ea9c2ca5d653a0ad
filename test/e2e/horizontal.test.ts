// Issue 8, "horizontal, as in production": two receivers and two workers, each its own process
// with the default settings, against one Temporal and one database. A burst is split across both
// receivers and one worker is killed with SIGKILL in the middle of it: the other worker finishes
// the work, no acknowledged event is lost, and every contact counts each of its calls once.
import { connectStore, type Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { eventually, uniqueId } from '../support/harness';
import { type AppEnv, type AppProcess, appEnv, report, sendBurst, startReceiver, startWorker, tally } from '../support/processes';

const CALLS = 200;
const CALLS_PER_CONTACT = 2;

let store: Store;
let env: AppEnv;
const apps: AppProcess[] = [];
beforeAll(async () => {
  const label = uniqueId('horizontal');
  env = appEnv(label);
  store = await connectStore(env.mongoUri, env.mongoDb);
  apps.push(
    ...(await Promise.all([
      startReceiver('receiver-a', env),
      startReceiver('receiver-b', env),
      startWorker('worker-1', env),
      startWorker('worker-2', env),
    ])),
  );
}, 180_000);
afterAll(async () => {
  await Promise.allSettled(apps.map((a) => a.kill('SIGTERM')));
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

test('a burst over two receivers survives a worker killed mid-burst: 0 lost, 0 counted twice', async () => {
  const orgId = await createOrganization(store.col, 'Horizontal');
  const { key } = await addApiKey(store.col, orgId);
  const [a, b, w1, w2] = apps;
  let killed = false;
  const started = Date.now();
  const sent = await sendBurst({
    receivers: () => [a.baseUrl!, b.baseUrl!],
    apiKey: key,
    calls: CALLS,
    callsPerContact: CALLS_PER_CONTACT,
    concurrency: 25,
    giveUpAfterMs: 60_000,
    label: 'h',
    onAcknowledged: (n) => {
      if (n === Math.floor((CALLS * 3) / 3) && !killed) {
        killed = true;
        void w1.kill('SIGKILL');
      }
    },
  });
  const sendSecs = (Date.now() - started) / 1000;
  expect(killed).toBe(true);
  expect(await w1.proc.exited).toMatchObject({ signal: 'SIGKILL' });
  expect(w2.proc.hasExited()).toBe(false);
  expect(sent.every((e) => e.acknowledged)).toBe(true);
  // Both receivers took part.
  expect(new Set(sent.map((e) => e.ackedBy))).toEqual(new Set([a.baseUrl, b.baseUrl]));
  expect(sent.filter((e) => e.statuses.some((s) => s !== 200))).toEqual([]);

  const t = await eventually(
    'every acknowledged event applied and every contact counted',
    async () => {
      const r = await tally(store, orgId, sent);
      return r.lost === 0 && r.miscounted.length === 0 && r;
    },
    150_000,
  ).catch(async (err) => {
    const r = await tally(store, orgId, sent);
    throw new Error(`${String(err)}\nlost: ${r.lostEvents.slice(0, 10).join(', ')}\nmiscounted: ${r.miscounted.slice(0, 10).join(', ')}`);
  });
  const drainedSecs = (Date.now() - started) / 1000;
  report(
    'worker SIGKILL mid-burst (2 receivers, 2 workers)',
    t,
    `burst sent in ${sendSecs.toFixed(1)} s, all applied after ${drainedSecs.toFixed(1)} s`,
  );
  expect(t).toMatchObject({ sent: CALLS * 3, acknowledged: CALLS * 3, applied: CALLS * 3, lost: 0, duplicated: 0, miscounted: [] });
  // Every event reached Temporal: the inbox is empty, with no dead letter.
  await eventually('the inbox to drain', async () => (await store.col.inbox.countDocuments({})) === 0, 30_000);

  // A receiver asked to stop (SIGTERM) stops its relay and exits cleanly.
  await a.kill('SIGTERM');
  expect(await a.proc.exited).toEqual({ code: 0, signal: null });
}, 300_000);

// Issue 8's faults, with real processes: a Temporal dev server and a FerretDB of this file's own
// (file-backed, so they can be stopped and started again with their data), two receivers and a
// worker as separate Node processes with the default settings. Each fault lands in the middle of
// a burst sent as a platform sends (retrying what was not acknowledged), and each test ends by
// checking every acknowledged event's effect in the database. With TEMPORAL=server, Temporal is the
// production server on a PostgreSQL of its own, and its restart stops and starts both.
import path from 'node:path';
import {
  freePort,
  startFerretDb,
  startTemporal,
  startTemporalServer,
  temporalKind,
  temporalShards,
  type DatabaseHandle,
  type TemporalHandle,
} from '../../scripts/stack';
import { connectStore, type Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { eventually, uniqueId } from '../support/harness';
import { type AppEnv, type AppProcess, type SentEvent, report, sendBurst, startReceiver, startWorker, tally } from '../support/processes';

const runDir = path.join(process.env.TEST_DATA_DIR ?? '/tmp', uniqueId('faults'));
let temporal: TemporalHandle;
let db: DatabaseHandle;
let store: Store;
let env: AppEnv;
let orgId: string;
let apiKey: string;
const receivers: AppProcess[] = [];
const workers: AppProcess[] = [];

const startOwnTemporal = (port: number) =>
  temporalKind() === 'server'
    ? startTemporalServer({
        port,
        dataDir: path.join(runDir, 'temporal-server'),
        logFile: path.join(runDir, 'temporal.log'),
        historyShards: temporalShards(),
      })
    : startTemporal({ port, uiPort: null, dbFile: path.join(runDir, 'temporal.db'), logFile: path.join(runDir, 'temporal.log') });
const startOwnDb = (port: number) =>
  startFerretDb({ port, dir: path.join(runDir, 'ferretdb'), logFile: path.join(runDir, 'ferretdb.log') });

beforeAll(async () => {
  [temporal, db] = await Promise.all([startOwnTemporal(await freePort()), startOwnDb(await freePort())]);
  env = { temporalAddress: temporal.address, mongoUri: db.uri, mongoDb: 'faults', taskQueue: 'calls', logDir: runDir };
  store = await connectStore(db.uri, 'faults');
  orgId = await createOrganization(store.col, 'Faults');
  apiKey = (await addApiKey(store.col, orgId)).key;
  const started = await Promise.all([startReceiver('receiver-a', env), startReceiver('receiver-b', env), startWorker('worker', env)]);
  receivers.push(started[0], started[1]);
  workers.push(started[2]);
}, 180_000);
afterAll(async () => {
  await Promise.allSettled([...receivers, ...workers].map((a) => a.kill('SIGTERM')));
  await store?.close().catch(() => undefined);
  await Promise.allSettled([temporal?.stop(), db?.stop()]);
});

const urls = () => receivers.map((r) => r.baseUrl!);

/** Waits until every acknowledged event is applied and every contact counted; fails with the details. */
async function settle(label: string, sent: SentEvent[], timeoutMs: number) {
  return eventually(
    `${label}: every acknowledged event applied`,
    async () => {
      const t = await tally(store, orgId, sent);
      return t.lost === 0 && t.miscounted.length === 0 && t;
    },
    timeoutMs,
  ).catch(async (err) => {
    const t = await tally(store, orgId, sent);
    throw new Error(
      `${String(err)}\nlost ${t.lost}: ${t.lostEvents.slice(0, 10).join(', ')}\nmiscounted: ${t.miscounted.slice(0, 10).join(', ')}\ninbox: ${await store.col.inbox.countDocuments({})}`,
    );
  });
}

test('the database stopped mid-burst: 503 with Retry-After in time, and 0 acknowledged events lost', async () => {
  let stopped: Promise<void> | undefined;
  const dbPort = Number(new URL(db.uri).port);
  const sent = await sendBurst({
    receivers: urls,
    apiKey,
    // Long enough after the 60th acknowledgement (about 5 s more) that the database is down before
    // the burst ends, however fast the machine acknowledges.
    calls: 90,
    callsPerContact: 2,
    concurrency: 10,
    gapMs: 250,
    giveUpAfterMs: 90_000,
    label: 'dbdown',
    onAcknowledged: (n) => {
      if (n !== 60) return;
      stopped = (async () => {
        await db.stop();
        await new Promise((r) => setTimeout(r, 10_000));
        db = await startOwnDb(dbPort);
      })();
    },
  });
  await stopped;
  const refused = sent.flatMap((e) => e.refusedAfterMs);
  expect(refused.length).toBeGreaterThan(0);
  expect(sent.flatMap((e) => e.retryAfter).every((v) => v === '5')).toBe(true);
  // Answered before Retell (10 s) and Twilio (15 s) give up on their own.
  expect(Math.max(...refused)).toBeLessThan(5_000);
  // Nothing but 200s and 503s (no 500 while the database was away); 0 = a refused connection, which this fault does not cause.
  expect(sent.flatMap((e) => e.statuses).filter((s) => s !== 200 && s !== 503)).toEqual([]);
  expect(sent.every((e) => e.acknowledged)).toBe(true);

  const t = await settle('database stop', sent, 120_000);
  report(
    'database stopped 10 s mid-burst',
    t,
    `${refused.length} answers were 503 + Retry-After: 5, the slowest after ${Math.max(...refused)} ms`,
  );
  expect(t).toMatchObject({ lost: 0, duplicated: 0 });
}, 240_000);

test('a receiver killed and restarted mid-burst: 0 acknowledged events lost', async () => {
  let restarted: Promise<void> | undefined;
  const sent = await sendBurst({
    receivers: urls,
    apiKey,
    calls: 60,
    callsPerContact: 2,
    concurrency: 10,
    gapMs: 100,
    giveUpAfterMs: 90_000,
    label: 'rxrestart',
    onAcknowledged: (n) => {
      if (n !== 60) return;
      restarted = (async () => {
        const old = receivers[0];
        // SIGKILL: no clean shutdown, whatever the receiver held in memory is gone.
        await old.kill('SIGKILL');
        receivers[0] = await startReceiver('receiver-a', env, old.port);
      })();
    },
  });
  await restarted;
  expect(sent.every((e) => e.acknowledged)).toBe(true);
  const t = await settle('receiver restart', sent, 120_000);
  report(
    'receiver SIGKILLed and restarted mid-burst',
    t,
    `${sent.filter((e) => e.statuses.includes(0)).length} sends met a dead connection and were retried`,
  );
  expect(t).toMatchObject({ lost: 0, duplicated: 0 });
}, 240_000);

test('Temporal stopped for 60 s mid-burst: webhooks still acknowledged, 0 lost once it is back', async () => {
  let outage: Promise<void> | undefined;
  let ackedWhileDown = 0;
  let down = false;
  let backAt = 0;
  const sent = await sendBurst({
    receivers: urls,
    apiKey,
    calls: 90,
    callsPerContact: 2,
    concurrency: 10,
    gapMs: 150,
    giveUpAfterMs: 60_000,
    label: 'tdown',
    onAcknowledged: (n) => {
      if (down) ackedWhileDown++;
      if (n !== 60) return;
      outage = (async () => {
        // Counted from the stop signal: the real server's graceful shutdown takes seconds, in which
        // its frontend already turns clients away, and a quick burst can end inside them.
        down = true;
        await temporal.stop();
        await new Promise((r) => setTimeout(r, 60_000));
        down = false;
        temporal = await startOwnTemporal(temporal.port);
        backAt = Date.now();
      })();
    },
  });
  // The whole burst was acknowledged during the outage, without one refusal.
  expect(sent.every((e) => e.acknowledged)).toBe(true);
  expect(sent.flatMap((e) => e.statuses).filter((s) => s !== 200)).toEqual([]);
  expect(ackedWhileDown).toBeGreaterThan(100);
  // Nothing could reach a workflow yet: the events wait in the inbox.
  expect(await store.col.inbox.countDocuments({})).toBeGreaterThan(100);
  await outage;

  const t = await settle('Temporal outage', sent, 90_000);
  report(
    'Temporal stopped 60 s mid-burst',
    t,
    `${ackedWhileDown} acknowledged while it was down; all applied ${((Date.now() - backAt) / 1000).toFixed(0)} s after Temporal was back`,
  );
  expect(t).toMatchObject({ lost: 0, duplicated: 0 });
  expect(workers[0].proc.hasExited()).toBe(false);
  await eventually('the inbox to drain', async () => (await store.col.inbox.countDocuments({})) === 0, 30_000);
}, 240_000);

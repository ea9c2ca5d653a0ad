// What a webhook gets when a dependency is down. Temporal down: still a 200, because the event is
// in the inbox, and the relay delivers it once a receiver reaches Temporal. Database down: a 503
// with Retry-After, in time for the platform to retry. Real servers throughout: the "down" Temporal
// is a real client pointed at a port where nothing listens; the "down" database is a real
// FerretDB on PostgreSQL that this file starts and stops.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/http/app';
import { silentLogger } from '../../src/observability/log';
import { connectStore, type Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { createSignaler } from '../../src/temporal/client';
import { Dispatcher } from '../../src/temporal/dispatcher';
import { PARKED, acceptIntoInbox, inboxDoc } from '../../src/store/inbox';
import { workflowIdFor } from '../../workflows/messages';
import { freePort, startFerretDbOnPostgres, type DatabaseHandle } from '../../scripts/stack';
import { eventually, testSettings, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

const spec = (callId: string) => ({
  callId,
  event: 'call.completed',
  duration: 10,
  status: 'completed',
  metadata: { contactId: `contact_${callId}` },
});

describe('Temporal unreachable', () => {
  let stack: Stack;
  let deadClient: Client;
  beforeAll(async () => {
    const port = await freePort();
    deadClient = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 }) });
    // The worker runs against the real Temporal; only the receiver's client points at nothing.
    stack = await startStack('unavailable', { signaler: () => createSignaler(deadClient, 'unused', testSettings()) });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await deadClient?.connection.close().catch(() => undefined);
  });

  test('the webhook is acknowledged at once and the event waits in the inbox', async () => {
    const callId = uniqueId('down');
    const started = Date.now();
    const r = await stack.post('/api/calls/webhook', spec(callId));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true, message: 'Webhook processed successfully', callId });
    // One insert, not a wait on Temporal (whose client here would give up only after 5 s).
    expect(Date.now() - started).toBeLessThan(2_000);

    const held = await stack.store.col.inbox.find({ callId }).toArray();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ orgId: stack.orgId, provider: 'generic', callId });
    expect(held[0]._id.startsWith(`${stack.orgId}:generic:${callId}:call.completed`)).toBe(true);
    // The immediate hand-off fails after its deadline and leaves the event for the relay.
    const failed = await eventually('the hand-off to fail', async () => {
      const d = await stack.store.col.inbox.findOne({ callId });
      return d && d.attempts >= 1 && d;
    });
    expect(failed.lastError).toBeTruthy();
    expect(failed.deadLetter).toBeUndefined();
    expect(await stack.store.col.calls.countDocuments({ callId })).toBe(0);

    // A retry of the same delivery by the platform: acknowledged again, still one inbox document.
    expect((await stack.post('/api/calls/webhook', spec(callId))).status).toBe(200);
    expect(await stack.store.col.inbox.countDocuments({ callId })).toBe(1);

    // readyz: still ready for webhooks, but degraded, and it shows the waiting event.
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      checks: Record<string, string>;
      inbox: { depth: number; oldestAgeSec: number; deadLetters: number };
    };
    expect(body.status).toBe('degraded');
    expect(body.checks.mongodb).toBe('ok');
    expect(body.checks.temporal).toMatch(/^unavailable.*events wait in the inbox$/);
    expect(body.inbox.depth).toBeGreaterThanOrEqual(1);
    expect(body.inbox.oldestAgeSec).toBeGreaterThanOrEqual(0);
    expect(body.inbox.deadLetters).toBe(0);

    // Temporal reachable again (another receiver's relay, with a working client): delivered and applied.
    const relay = new Dispatcher({
      inbox: stack.store.col.inbox,
      eventLog: stack.store.col.eventLog,
      claims: stack.store.col.inboxClaims,
      signaler: createSignaler(stack.client, stack.taskQueue, testSettings()),
      logger: silentLogger,
      concurrency: 32,
      relayIntervalMs: 1_000,
    });
    relay.start();
    try {
      await eventually('the relay to empty the inbox', async () => (await stack.store.col.inbox.countDocuments({ callId })) === 0, 30_000);
    } finally {
      await relay.stop();
    }
    const call = await eventually('the call to be applied', async () => {
      const c = await stack.get(`/api/calls/${callId}`);
      return c.status === 200 && c.json.status === 'completed' && c.json;
    });
    expect(call).toMatchObject({ callId, status: 'completed', durationSec: 10, workflowId: workflowIdFor(stack.orgId, callId) });
    expect(call.timeline).toHaveLength(1);
  }, 90_000);
});

test('an event Temporal refuses for good becomes a dead letter that readyz counts, not a loop', async () => {
  const stack = await startStack('deadletter', { worker: false, relay: false });
  try {
    // The webhook refuses such a call id now; an event accepted before that check meets Temporal's
    // own limit (1,000 bytes of workflow id) and is refused with INVALID_ARGUMENT.
    const callId = `c${'x'.repeat(1_100)}`;
    const event = {
      eventId: `generic:${callId}:call.completed`,
      provider: 'generic' as const,
      providerEvent: 'call.completed',
      callId,
      type: 'call.completed' as const,
      receivedAt: new Date().toISOString(),
    };
    await acceptIntoInbox(stack.store.col.inbox, [{ ...inboxDoc(stack.orgId, 'generic', event, new Date()), nextAttemptAt: new Date() }]);

    expect(await stack.dispatcher.relayOnce()).toBe(0);
    const dead = await stack.store.col.inbox.findOne({ callId });
    expect(dead).toMatchObject({ attempts: 1, nextAttemptAt: PARKED });
    expect(dead?.deadLetter).toMatch(/signalWithStart/);
    // Parked: the relay does not take it again, and Temporal still counts as up.
    expect(await stack.dispatcher.relayOnce()).toBe(0);
    expect(await stack.store.col.inbox.findOne({ callId })).toMatchObject({ attempts: 1 });
    expect(stack.dispatcher.status().temporalDown).toBeNull();

    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      checks: { mongodb: 'ok', temporal: 'ok' },
      inbox: { depth: 0, oldestAgeSec: 0, deadLetters: 1 },
    });
  } finally {
    await stack.stop();
  }
}, 60_000);

describe('database unreachable', () => {
  // The local default: FerretDB on a PostgreSQL of its own, either of which can be the part that is down.
  let db: DatabaseHandle;
  let store: Store;
  let server: import('node:http').Server;
  let baseUrl: string;
  let apiKey: string;
  beforeAll(async () => {
    const dir = path.join(process.env.TEST_DATA_DIR ?? '/tmp', uniqueId('dbdown'));
    db = await startFerretDbOnPostgres({ port: await freePort(), dir, logFile: path.join(dir, 'ferretdb.log') });
    // As src/bin/server.ts connects: a short server selection, so requests fail in time.
    store = await connectStore(db.uri, 'dbdown', { serverSelectionTimeoutMS: 3_000 });
    const orgId = await createOrganization(store.col, 'dbdown');
    apiKey = (await addApiKey(store.col, orgId)).key;
    const client = new Client({ connection: Connection.lazy({ address: process.env.TEMPORAL_ADDRESS! }) });
    const signaler = createSignaler(client, 'dbdown', testSettings());
    const app = createApp({
      col: store.col,
      signaler,
      dispatcher: new Dispatcher({
        inbox: store.col.inbox,
        eventLog: store.col.eventLog,
        claims: store.col.inboxClaims,
        signaler,
        logger: silentLogger,
        concurrency: 32,
        relayIntervalMs: 1_000,
      }),
      logger: silentLogger,
      pingDb: async () => {
        await store.db.command({ ping: 1 });
      },
      bodyLimitBytes: 1024 * 1024,
      temporalUiUrl: 'http://localhost:8233',
      temporalNamespace: 'default',
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  }, 90_000);
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await store?.close().catch(() => undefined);
    await db?.stop();
  });

  const webhook = async () => {
    const started = Date.now();
    const r = await fetch(`${baseUrl}/api/calls/webhook`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(spec('c_dbdown')),
    });
    return { status: r.status, retryAfter: r.headers.get('retry-after'), json: await r.json(), ms: Date.now() - started };
  };
  const refused = {
    status: 503,
    retryAfter: '5',
    json: { error: 'Service Unavailable', message: 'Failed to process webhook: the event could not be recorded durably, retry later' },
  };

  test('FerretDB up but its PostgreSQL down: 503 with Retry-After, not a 500', async () => {
    expect((await webhook()).status).toBe(200);
    await db.postgres!.stop();
    const r = await webhook();
    expect(r).toMatchObject(refused);
    expect(r.ms).toBeLessThan(5_000);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(503);
  }, 30_000);

  test('the database server stopped: 503 with Retry-After within 5 s, and readyz says not ready', async () => {
    await db.stop();
    const r = await webhook();
    // Answered before Retell (10 s) and Twilio (15 s) give up on their own.
    expect(r).toMatchObject(refused);
    expect(r.ms).toBeLessThan(5_000);

    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not ready',
      checks: { mongodb: expect.stringMatching(/^unavailable/) },
      inbox: null,
    });
  }, 30_000);
});

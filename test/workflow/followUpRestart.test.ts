// Durability of the follow-up wait on a real Temporal dev server with a SQLite file: the worker
// and the server itself are stopped during the wait and started again, and the follow-up is still
// placed once, at its time. A configurable delay (seconds) stands in for the two hours here; the
// two hours themselves are proven on the time-skipping server (followUp.test.ts).
import '../support/quietRuntime';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { CallEvent } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { createSignaler } from '../../src/temporal/client';
import { getState, workflowIdFor } from '../../workflows/messages';
import { freePort, startTemporal, type TemporalHandle } from '../../scripts/stack';
import { eventually, testSettings, testStore, uniqueId, workflowBundle } from '../support/harness';
import { openAllDay } from '../support/callingWindow';
import { startFakeOutbound, type FakeOutbound } from '../support/fakes/outbound';

const ORG = 'org_restart';
const DELAY_MS = 15_000;
let dir: string;
let port: number;
let server: TemporalHandle | undefined;
let store: Store;
let fake: FakeOutbound;

const startServer = async () => {
  server = await startTemporal({ port, uiPort: null, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') });
  const connection = await Connection.connect({ address: server.address });
  return { client: new Client({ connection }), native: await NativeConnection.connect({ address: server.address }) };
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calls-restart-'));
  port = await freePort();
  [store, fake] = await Promise.all([testStore('restart'), startFakeOutbound()]);
  await setOutboundDialer(store.col, {
    orgId: ORG,
    provider: 'vapi',
    baseUrl: fake.baseUrl,
    apiKey: 'vapi-key',
    agentId: 'asst_1',
    phoneNumberId: 'pn_1',
    // Vapi's dialer has no caller id: the countries a follow-up may dial are listed.
    allowedCountryCodes: ['1'],
  });
  await openAllDay(store.col, ORG);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('restarting the worker and the Temporal server during the wait changes nothing', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const settings = testSettings({ followUpDelayMs: DELAY_MS, recordingWaitMs: 1_000 });
  const bundle = await workflowBundle();
  const newWorker = (native: NativeConnection) =>
    Worker.create({ connection: native, taskQueue: tq, workflowBundle: bundle, activities: createActivities({ col: store.col }) });

  let conn = await startServer();
  const event: CallEvent = {
    eventId: `generic:${callId}:failed`,
    provider: 'generic',
    providerEvent: 'call.failed',
    callId,
    type: 'call.failed',
    receivedAt: new Date().toISOString(),
    outcome: 'no-answer',
    from: '+14155550100',
    to: '+14155550102',
    contactId: 'contact_r',
  };
  const plan = await (
    await newWorker(conn.native)
  ).runUntil(async () => {
    await createSignaler(conn.client, tq, settings).deliver(ORG, 'generic', event);
    return eventually('the follow-up to be scheduled', async () => {
      const v = await conn.client.workflow.getHandle(workflowIdFor(ORG, callId)).query(getState);
      return v.followUp?.status === 'scheduled' && v.followUp;
    });
  });
  const dueAt = Date.parse(plan.nextFollowUpAt!);

  // Worker gone, then the server gone, for part of the wait.
  await conn.client.connection.close();
  await conn.native.close();
  await server!.stop();
  server = undefined;
  await new Promise((r) => setTimeout(r, 3_000));
  expect(fake.requests).toHaveLength(0);

  conn = await startServer();
  const worker = await newWorker(conn.native);
  await worker.runUntil(async () => {
    const v = await conn.client.workflow.getHandle(workflowIdFor(ORG, callId)).query(getState);
    expect(v.followUp).toMatchObject({ status: 'scheduled', attempt: 1, nextFollowUpAt: plan.nextFollowUpAt });
    await eventually('the follow-up call to be placed', async () => fake.placed().length === 1, 40_000);
    await eventually('placed to be recorded', async () => {
      const s = await conn.client.workflow.getHandle(workflowIdFor(ORG, callId)).query(getState);
      return s.followUp?.status === 'placed';
    });
    await conn.client.workflow.getHandle(workflowIdFor(ORG, callId)).terminate('test done');
  });
  await conn.client.connection.close();
  await conn.native.close();

  const [req] = fake.placed();
  expect(req.at).toBeGreaterThanOrEqual(dueAt);
  expect(req.path).toBe('/call');
  expect(req.headers.authorization).toBe('Bearer vapi-key');
  expect(req.body).toMatchObject({
    assistantId: 'asst_1',
    phoneNumberId: 'pn_1',
    customer: { number: '+14155550102' },
    assistantOverrides: { metadata: { originalCallId: callId, followUpAttempt: 1 } },
  });
  expect(fake.requests).toHaveLength(1);
  expect(await store.col.followUps.findOne({ _id: `followup:${ORG}:${callId}:1` })).toMatchObject({
    status: 'placed',
    providerCallId: req.callId,
    tries: 1,
  });
}, 150_000);

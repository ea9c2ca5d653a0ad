// The call workflow on a real Temporal dev server (the project's own binary, never a download)
// with its activities on the real MongoDB-protocol database.
import { spawn } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { createActivities, type Activities } from '../../activities';
import type { CallEvent, CallEventType } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { SA } from '../../src/temporal/searchAttributes';
import { createSignaler, type CallSignaler } from '../../src/temporal/client';
import { getContact } from '../../src/store/contacts';
import { contactWorkflowIdFor, getState, workflowIdFor } from '../../workflows/messages';
import { eventually, testSettings, testStore, uniqueId, workflowBundle } from '../support/harness';
import { callEvent } from '../support/callEvents';
import { startLocalTemporal } from '../support/localTemporal';

let env: TestWorkflowEnvironment;
let address: string;
let store: Store;
const ORG = 'org_wf';

beforeAll(async () => {
  ({ env, address } = await startLocalTemporal());
  store = await testStore('workflow');
}, 120_000);

afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await env?.teardown();
});

/** A generic event that occurred when it was received (`extra` may say otherwise). */
function event(callId: string, type: CallEventType, extra: Partial<CallEvent> = {}): CallEvent {
  const now = new Date().toISOString();
  return callEvent(callId, type, { receivedAt: now, occurredAt: now, ...extra });
}

async function withWorker<T>(taskQueue: string, fn: () => Promise<T>, activities?: Partial<Activities>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...createActivities({ col: store.col }), ...activities },
  });
  return worker.runUntil(fn);
}

const signaler = (taskQueue: string, overrides = {}): CallSignaler => createSignaler(env.client, taskQueue, testSettings(overrides));
const result = (callId: string) => env.client.workflow.getHandle(workflowIdFor(ORG, callId)).result();
const contact = (contactId: string) => getContact(store.col, ORG, contactId);
/** The contact's workflow counts a call a moment after the call's workflow reports it. */
const counted = (contactId: string, n = 1) =>
  eventually(`contact ${contactId} counted ${n}`, async () => {
    const c = await contact(contactId);
    return c && c.callCount >= n && c;
  });

test('a call runs from initiated to recording-ready and lands in MongoDB', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  const s = signaler(tq);
  await withWorker(tq, async () => {
    await s.deliver(ORG, 'generic', event(callId, 'call.initiated', { from: '+14155551234', to: '+14155555678', contactId }));
    await s.deliver(ORG, 'generic', event(callId, 'call.ringing'));
    const handle = env.client.workflow.getHandle(workflowIdFor(ORG, callId));
    const mid = await eventually('the ringing state', async () => {
      const v = await handle.query(getState);
      return v.state.status === 'ringing' && v.waitingFor === 'the call to end' && v;
    });
    expect(mid.state.eventCount).toBe(2);
    await s.deliver(ORG, 'generic', event(callId, 'call.answered'));
    await s.deliver(ORG, 'generic', event(callId, 'call.completed', { durationSec: 180, outcome: 'completed' }));
    await s.deliver(ORG, 'generic', event(callId, 'call.recording_ready', { recordingUrl: 'https://rec.example/a.mp3' }));
    const final = await result(callId);
    expect(final.status).toBe('completed');
    expect(final.recordingReady).toBe(true);

    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get(SA.callStatus)).toBe('completed');
    expect(desc.typedSearchAttributes.get(SA.callOutcome)).toBe('completed');
    expect(desc.typedSearchAttributes.get(SA.contactId)).toBe(contactId);
    expect(desc.typedSearchAttributes.get(SA.orgId)).toBe(ORG);
    await counted(contactId);
  });

  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc).toMatchObject({
    status: 'completed',
    outcome: 'completed',
    durationSec: 180,
    recordingUrl: 'https://rec.example/a.mp3',
    contactId,
    eventCount: 5,
  });
  expect(doc!.timeline.map((t) => t.type)).toEqual([
    'call.initiated',
    'call.ringing',
    'call.answered',
    'call.completed',
    'call.recording_ready',
  ]);
  expect(await contact(contactId)).toMatchObject({ callCount: 1, lastCallDuration: 180, lastCallId: callId });
  expect(await store.col.callMetrics.findOne({ _id: `${ORG}:${callId}` })).toMatchObject({
    outcome: 'completed',
    durationSec: 180,
    contactId,
  });
});

test('out of order and duplicated events give the same record', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  const s = signaler(tq);
  const completed = event(callId, 'call.completed', { durationSec: 42, contactId, occurredAt: '2025-01-15T10:35:00.000Z' });
  await withWorker(tq, async () => {
    await s.deliver(
      ORG,
      'generic',
      event(callId, 'call.recording_ready', { recordingUrl: 'https://rec.example/b.mp3', occurredAt: '2025-01-15T10:36:00.000Z' }),
    );
    await s.deliver(ORG, 'generic', completed);
    await s.deliver(ORG, 'generic', completed);
    await s.deliver(ORG, 'generic', event(callId, 'call.ringing', { occurredAt: '2025-01-15T10:30:00.000Z' }));
    await result(callId).catch(() => undefined);
    await counted(contactId);
  });
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc).toMatchObject({ status: 'completed', durationSec: 42, recordingReady: true });
  // The ringing arrived after the workflow closed, started a new run, and was merged as history.
  expect(doc!.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['call.recording_ready', 'call.completed']));
  expect(await contact(contactId)).toMatchObject({ callCount: 1 });
});

test('a retried contact update counts the call once', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  const real = createActivities({ col: store.col });
  let attempts = 0;
  await withWorker(
    tq,
    async () => {
      await signaler(tq).deliver(
        ORG,
        'generic',
        event(callId, 'call.completed', { contactId, durationSec: 60, recordingUrl: 'https://r/x.mp3' }),
      );
      await result(callId);
      await counted(contactId);
      // The call's report reaches the contact twice (a retried hand-off): still one call.
      await env.client.workflow
        .getHandle(contactWorkflowIdFor(ORG, contactId))
        .signal('callEnded', { callId, date: new Date().toISOString(), durationSec: 1 });
      await eventually('the duplicate report handled', async () => {
        const v = await env.client.workflow.getHandle(contactWorkflowIdFor(ORG, contactId)).query<{ pending: number }>('getContactState');
        return v.pending === 0 && attempts >= 3;
      });
    },
    {
      // The write lands, then the attempt fails as if its completion were lost in a timeout.
      async countContactCalls(input) {
        attempts++;
        const r = await real.countContactCalls(input);
        if (attempts === 1) throw new Error('simulated timeout after the write');
        return r;
      },
    },
  );
  expect(attempts).toBe(3);
  expect(await contact(contactId)).toMatchObject({ callCount: 1, lastCallId: callId, lastCallDuration: 60 });
  expect(await store.col.contactCalls.countDocuments({ orgId: ORG, contactId })).toBe(1);
});

/** A worker process that SIGKILLs itself right after the named activity's side effect. */
async function crashingWorker(tq: string, crashAfter: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/crashingWorker.ts'], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, MONGODB_DB: store.db.databaseName, TASK_QUEUE: tq, CRASH_AFTER: crashAfter },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await eventually('the crashing worker to start', async () => out.includes('READY'), 90_000);
  return { exited, output: () => out };
}

test('a worker killed mid-activity does not double-count the call', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  const crash = await crashingWorker(tq, 'countContactCalls');

  await signaler(tq, { activityTimeoutMs: 2_000 }).deliver(
    ORG,
    'generic',
    event(callId, 'call.completed', { contactId, durationSec: 75, recordingUrl: 'https://r/y.mp3' }),
  );
  expect(await crash.exited).toBe('SIGKILL');
  expect(crash.output()).toContain('CRASHING');
  expect(await contact(contactId)).toMatchObject({ callCount: 1 });

  // A healthy worker picks the retried activity up after its start-to-close timeout.
  await withWorker(tq, async () => {
    const final = await result(callId);
    expect(final.status).toBe('completed');
    await counted(contactId);
  });
  expect(await contact(contactId)).toMatchObject({ callCount: 1, lastCallDuration: 75 });
  expect(await store.col.contactCalls.countDocuments({ orgId: ORG, contactId })).toBe(1);
}, 150_000);

test('a workflow task that saved the call and died still runs its effects on the retry', async () => {
  // The retried task reads back the record its failed try saved; the effects are owed all the same.
  // The worker dies inside settleCall, between the save and the effects.
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  const crash = await crashingWorker(tq, 'callSave');

  await signaler(tq).deliver(
    ORG,
    'generic',
    event(callId, 'call.completed', { contactId, durationSec: 33, recordingUrl: 'https://r/w.mp3' }),
  );
  expect(await crash.exited).toBe('SIGKILL');
  // The failed try saved the call as completed; nothing counted it yet.
  expect(await store.col.calls.findOne({ _id: `${ORG}:${callId}` })).toMatchObject({
    status: 'completed',
    effectsDone: { status: 'pending' },
  });
  expect(await contact(contactId)).toMatchObject({ callCount: 0 });

  await withWorker(tq, async () => {
    expect((await result(callId)).status).toBe('completed');
    await counted(contactId);
  });
  expect(await contact(contactId)).toMatchObject({ callCount: 1, lastCallDuration: 33 });
  expect(await store.col.calls.findOne({ _id: `${ORG}:${callId}` })).toMatchObject({
    effectsDone: { status: 'completed', outcome: 'completed' },
  });
}, 150_000);

test('a late duplicate after the workflow closed starts a new run that changes nothing', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  const completed = event(callId, 'call.completed', { contactId, durationSec: 30, recordingUrl: 'https://r/z.mp3' });
  const s = signaler(tq);
  await withWorker(tq, async () => {
    await s.deliver(ORG, 'generic', completed);
    await result(callId);
    await counted(contactId);
    const firstRun = (await env.client.workflow.getHandle(workflowIdFor(ORG, callId)).describe()).runId;

    await s.deliver(ORG, 'generic', { ...completed, receivedAt: new Date().toISOString() });
    const secondRun = await eventually('a second run', async () => {
      const d = await env.client.workflow.getHandle(workflowIdFor(ORG, callId)).describe();
      return d.runId !== firstRun && d.runId;
    });
    const final = await env.client.workflow.getHandle(workflowIdFor(ORG, callId), secondRun).result();
    expect(final.eventCount).toBe(1);
  });
  expect(await contact(contactId)).toMatchObject({ callCount: 1 });
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc?.eventCount).toBe(1);
});

test('a call that never ends closes after the idle timeout', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  await withWorker(tq, async () => {
    await signaler(tq, { idleTimeoutMs: 1_000 }).deliver(ORG, 'generic', event(callId, 'call.ringing'));
    const final = await result(callId);
    expect(final.status).toBe('ringing');
  });
});

test('signalWithStart never fails on an existing workflow', async () => {
  // Two receivers racing on the first event of one call both succeed: one starts, one signals.
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const s = signaler(tq);
  await withWorker(tq, async () => {
    const results = await Promise.allSettled([
      s.deliver(ORG, 'generic', event(callId, 'call.initiated')),
      s.deliver(ORG, 'generic', event(callId, 'call.ringing')),
    ]);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof WorkflowExecutionAlreadyStartedError)).toHaveLength(0);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const v = await eventually('both events applied', async () => {
      const st = await env.client.workflow.getHandle(workflowIdFor(ORG, callId)).query(getState);
      return st.state.eventCount === 2 && st;
    });
    expect(v.state.status).toBe('ringing');
    await env.client.workflow.getHandle(workflowIdFor(ORG, callId)).terminate('test done');
  });
});

test('a chatty call continues as new and keeps every event', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const s = signaler(tq, { maxHistoryEvents: 20 }); // 27 signals alone pass it, however the worker batches them
  await withWorker(tq, async () => {
    await s.deliver(ORG, 'generic', event(callId, 'call.initiated', { to: '+14155550199' }));
    for (let i = 0; i < 25; i++) {
      await s.deliver(
        ORG,
        'generic',
        event(callId, 'call.updated', { eventId: `generic:${callId}:note:${i}`, providerEvent: `note ${i}` }),
      );
    }
    await s.deliver(ORG, 'generic', event(callId, 'call.completed', { durationSec: 12, recordingUrl: 'https://r/chatty.mp3' }));
    const final = await result(callId);
    expect(final.eventCount).toBe(27);
    expect(final.status).toBe('completed');
  });
  const runs: string[] = [];
  for await (const w of env.client.workflow.list({ query: `WorkflowId="${workflowIdFor(ORG, callId)}"` })) runs.push(w.status.name);
  expect(runs.filter((r) => r === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
  expect(runs).toContain('COMPLETED');
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc?.eventCount).toBe(27);
});

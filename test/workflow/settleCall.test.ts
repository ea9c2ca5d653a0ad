// A change of the call settled in one local activity (settleCall), counted from the call's real
// history on the Temporal dev server with the activities on the real database: the activities a
// call of four events runs, what they leave in the database, and the thank-you email's send (an
// ordinary activity) with the effects-done mark after it.
import '../support/quietRuntime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import { createSmtpMailer } from '../../activities/email';
import type { CallEventType } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { createContact, getContact } from '../../src/store/contacts';
import { createSignaler } from '../../src/temporal/client';
import { getState, workflowIdFor } from '../../workflows/messages';
import { eventually, testSettings, uniqueId, workflowBundle } from '../support/harness';
import { callEvent } from '../support/callEvents';
import type { FakeSmtp } from '../support/fakes/smtp';
import { startLiveWorkflowTests, stopLiveWorkflowTests } from '../support/liveWorkflowTests';
import { activitiesIn } from '../support/historyActivities';

const ORG = 'org_settle';
let store: Store;
let smtp: FakeSmtp;
let client: Client;
let native: NativeConnection;

beforeAll(async () => {
  ({ store, smtp, client, native } = await startLiveWorkflowTests('settle'));
}, 60_000);
afterAll(() => stopLiveWorkflowTests({ store, smtp, client, native }));

/** A call of four events, each delivered after the workflow applied the one before (as in a live call). */
async function runCall(callId: string, extra: { contactId?: string; mailer?: boolean }) {
  const tq = uniqueId('tq');
  const mailer = extra.mailer ? createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, timeoutMs: 3000 }) : undefined;
  const worker = await Worker.create({
    connection: native,
    taskQueue: tq,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ col: store.col, mailer, smtpFrom: 'Acme Calls <calls@acme.test>' }),
  });
  const s = createSignaler(client, tq, testSettings());
  const handle = client.workflow.getHandle(workflowIdFor(ORG, callId));
  await worker.runUntil(async () => {
    const step = async (type: CallEventType, more: object, n: number) => {
      const now = new Date().toISOString();
      await s.deliver(ORG, 'generic', callEvent(callId, type, { receivedAt: now, occurredAt: now, ...more }));
      await eventually(`event ${n} applied`, async () => (await handle.query(getState)).state.eventCount === n);
    };
    await step(
      'call.initiated',
      { from: '+14155550101', to: `+1415555${String(Math.random()).slice(2, 6)}`, contactId: extra.contactId },
      1,
    );
    await step('call.answered', {}, 2);
    await step('call.completed', { durationSec: 42, outcome: 'completed' }, 3);
    await step('call.recording_ready', { recordingUrl: 'https://rec.example/s.mp3' }, 4);
    await handle.result();
  });
  return activitiesIn(await handle.fetchHistory());
}

const counted = (contactId: string) =>
  eventually(`contact ${contactId} counted`, async () => {
    const c = await getContact(store.col, ORG, contactId);
    return c && c.callCount >= 1 && c;
  });

test('a call of four events runs one load and one settleCall per change, where it ran ten activities', async () => {
  const callId = uniqueId('call');
  const ran = await runCall(callId, {});
  expect(ran).toEqual(['loadCall', 'settleCall', 'settleCall', 'settleCall', 'settleCall']);

  // The same call recorded on the code before (test/fixtures/histories, replayed in replayHistory.test.ts).
  const before = temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, '..', 'fixtures', 'histories', 'callLifecycle-before-settle.bin')),
  );
  expect(activitiesIn(before)).toEqual([
    'loadCall',
    'resolveContact',
    'saveCall',
    'saveCall',
    'saveCall',
    'recordMetrics',
    'notifyContact',
    'thankYouSkipReason',
    'markEffectsDone',
    'saveCall',
  ]);

  // Everything the separate activities left is there: the contact (found by number, created), its
  // count, the metrics, the skipped email with its reason, and the effects marked done.
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc).toMatchObject({
    status: 'completed',
    eventCount: 4,
    recordingUrl: 'https://rec.example/s.mp3',
    effectsDone: { status: 'completed', outcome: 'completed' },
    email: { status: 'skipped' },
  });
  expect(doc!.contactId).toEqual(expect.any(String));
  expect(doc!.email?.reason).toMatch(/has no email address/);
  expect(await counted(doc!.contactId!)).toMatchObject({ callCount: 1, lastCallDuration: 42, lastCallId: callId });
  expect(await store.col.callMetrics.findOne({ _id: `${ORG}:${callId}` })).toMatchObject({ outcome: 'completed', durationSec: 42 });
}, 120_000);

test('an email to send goes as its own activity, and the effects are marked done after it', async () => {
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, name: 'Ada', email: 'ada.settle@example.test' });
  const ran = await runCall(callId, { contactId, mailer: true });
  expect(ran).toEqual(['loadCall', 'settleCall', 'settleCall', 'settleCall', 'sendThankYouEmail', 'markEffectsDone', 'settleCall']);
  expect(smtp.messages.filter((m) => m.headers['x-calls-call-id'] === callId)).toHaveLength(1);
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc).toMatchObject({ contactId, email: { status: 'sent' }, effectsDone: { status: 'completed', outcome: 'completed' } });
  expect(await counted(contactId)).toMatchObject({ callCount: 1 });
}, 120_000);

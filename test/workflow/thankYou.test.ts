// The post-call thank-you email on the real Temporal dev server and a real SMTP server: the
// template as received, exactly once across retries, duplicates and a worker crash, skipped
// without an address, and a bounded failure when SMTP is down.
import '../support/quietRuntime';
import { spawn } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import { createSmtpMailer } from '../../activities/email';
import type { WorkflowSettings } from '../../src/config';
import type { CallEvent } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { createContact, getContact } from '../../src/store/contacts';
import { createSignaler } from '../../src/temporal/client';
import { getState, workflowIdFor } from '../../workflows/messages';
import { eventually, testSettings, uniqueId, workflowBundle } from '../support/harness';
import type { FakeSmtp } from '../support/fakes/smtp';
import { startLiveWorkflowTests, stopLiveWorkflowTests } from '../support/liveWorkflowTests';

const ORG = 'org_ty';
let store: Store;
let smtp: FakeSmtp;
let client: Client;
let native: NativeConnection;

beforeAll(async () => {
  ({ store, smtp, client, native } = await startLiveWorkflowTests('thankyou'));
}, 60_000);
afterAll(() => stopLiveWorkflowTests({ store, smtp, client, native }));

const real = () =>
  createActivities({
    col: store.col,
    mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, timeoutMs: 3000 }),
    smtpFrom: 'Acme Calls <calls@acme.test>',
  });

async function withWorker<T>(tq: string, fn: () => Promise<T>, over: Partial<Activities> = {}): Promise<T> {
  const worker = await Worker.create({
    connection: native,
    taskQueue: tq,
    workflowBundle: await workflowBundle(),
    activities: { ...real(), ...over },
  });
  return worker.runUntil(fn);
}

const completed = (callId: string, contactId: string): CallEvent => ({
  eventId: `generic:${callId}:completed`,
  provider: 'generic',
  providerEvent: 'call.completed',
  callId,
  type: 'call.completed',
  receivedAt: new Date().toISOString(),
  outcome: 'completed',
  durationSec: 185,
  startedAt: '2025-01-15T10:30:00.000Z',
  contactId,
  agentId: 'agent_789ghi',
  metadata: { agentName: 'Sam' },
  recordingUrl: 'https://rec.test/ty.mp3',
  to: '+14155550111',
});
const mailsFor = (callId: string) => smtp.messages.filter((m) => m.headers['x-calls-call-id'] === callId);
const deliver = (tq: string, e: CallEvent, over: Partial<WorkflowSettings> = {}) =>
  createSignaler(client, tq, testSettings(over)).deliver(ORG, 'generic', e);
const result = (callId: string) => client.workflow.getHandle(workflowIdFor(ORG, callId)).result();
const callDoc = (callId: string) => store.col.calls.findOne({ _id: `${ORG}:${callId}` });

test('a completed call sends the thank-you email once, as rendered, even when the send is retried and the event repeated', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, name: 'Ada Lovelace', email: 'ada@example.test', timezone: 'Europe/London' });
  const activities = real();
  let tries = 0;
  await withWorker(
    tq,
    async () => {
      await deliver(tq, completed(callId, contactId));
      await deliver(tq, completed(callId, contactId));
      await result(callId);
      // A late duplicate after the workflow closed starts a new run: still no second email.
      await deliver(tq, { ...completed(callId, contactId), receivedAt: new Date().toISOString() });
      await eventually(
        'the second run to close',
        async () => (await client.workflow.getHandle(workflowIdFor(ORG, callId)).describe()).status.name === 'COMPLETED',
      );
    },
    {
      async sendThankYouEmail(input) {
        tries++;
        const r = await activities.sendThankYouEmail(input);
        if (tries === 1) throw new Error('simulated timeout after the SMTP server accepted the email');
        return r;
      },
    },
  );
  expect(tries).toBe(2);
  const mails = mailsFor(callId);
  expect(mails).toHaveLength(1);
  const m = mails[0];
  expect(m.headers['message-id']).toBe(`<thank-you.${ORG}.${callId}@calls-api>`);
  expect(m.headers.subject).toBe('Thank you for speaking with Sam');
  expect(m.headers.from).toBe('Acme Calls <calls@acme.test>');
  expect(m.headers.to).toBe('Ada Lovelace <ada@example.test>');
  expect(m.envelope.to).toEqual(['ada@example.test']);
  expect(m.text).toContain('Hi Ada Lovelace,');
  expect(m.text).toContain('Thank you for taking the time to talk with Sam on January 15, 2025 at 10:30 AM GMT (3 minutes 5 seconds).');
  expect(m.html).toContain('<p>Hi Ada Lovelace,</p>');
  expect(m.html).toContain(`Reference: call ${callId}`);

  const doc = await callDoc(callId);
  expect(doc?.email).toMatchObject({ status: 'sent', messageId: `<thank-you.${ORG}.${callId}@calls-api>`, to: 'ada@example.test' });
  expect(await store.col.emails.findOne({ _id: `${ORG}:${callId}:post_call_thank_you` })).toMatchObject({ status: 'sent', tries: 1 });
});

test('a worker killed right after the email went out does not send it again', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, name: 'Grace', email: 'grace@example.test' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/crashingWorker.ts'], {
    env: {
      ...process.env,
      MONGODB_DB: store.db.databaseName,
      TASK_QUEUE: tq,
      SMTP_PORT: String(smtp.port),
      CRASH_AFTER: 'sendThankYouEmail',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
  await eventually('the crashing worker to start', async () => out.includes('READY'), 90_000);
  await deliver(tq, completed(callId, contactId), { activityTimeoutMs: 2_000 });
  expect(await exited).toBe('SIGKILL');
  expect(mailsFor(callId)).toHaveLength(1);

  await withWorker(tq, async () => {
    await result(callId);
  });
  expect(mailsFor(callId)).toHaveLength(1);
  expect((await callDoc(callId))?.email).toMatchObject({ status: 'sent' });
}, 150_000);

test('no email address: recorded as skipped with the reason, and the workflow goes on', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await withWorker(tq, async () => {
    await deliver(tq, completed(callId, contactId));
    const final = await result(callId);
    expect(final.status).toBe('completed');
    await eventually('the call counted on its contact', async () => (await getContact(store.col, ORG, contactId))?.callCount === 1);
  });
  expect((await callDoc(callId))?.email).toMatchObject({ status: 'skipped', reason: `contact ${contactId} has no email address` });
  expect(mailsFor(callId)).toHaveLength(0);
});

test('SMTP down: bounded retries, then the call record says the email failed; the workflow never hangs', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, email: 'down@example.test' });
  smtp.failWith = { code: 451, message: 'Temporary local problem, try later' };
  let tries = 0;
  const activities = real();
  try {
    await withWorker(
      tq,
      async () => {
        await deliver(tq, completed(callId, contactId), { emailMaxTries: 3 });
        const final = await result(callId);
        expect(final.status).toBe('completed');
        const v = await client.workflow
          .getHandle(workflowIdFor(ORG, callId))
          .query(getState)
          .catch(() => undefined);
        if (v) expect(v.email?.status).toBe('failed');
      },
      {
        async sendThankYouEmail(input) {
          tries++;
          return activities.sendThankYouEmail(input);
        },
      },
    );
  } finally {
    smtp.failWith = null;
  }
  expect(tries).toBe(3);
  const doc = await callDoc(callId);
  expect(doc?.email?.status).toBe('failed');
  expect(doc?.email?.reason).toMatch(/gave up after 3 tries: SMTP: .*451/);
  expect(mailsFor(callId)).toHaveLength(0);
  expect(await store.col.emails.findOne({ _id: `${ORG}:${callId}:post_call_thank_you` })).toMatchObject({ status: 'failed', tries: 3 });
}, 60_000);

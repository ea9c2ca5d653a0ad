// Calls that never ended, on the time-skipping test server with the production default
// CALL_STALE_AFTER (30 minutes): the workflow asks the platform (a local fake of its get-call API
// answering in the documented shape), applies an end like a webhook (effects once, a late webhook
// changes nothing), and marks a call it cannot settle stale, with the search attribute, and stops
// waiting. Activities run for real against the database and a real SMTP server.
import '../support/quietRuntime';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createSmtpMailer } from '../../activities/email';
import type { Store } from '../../src/store/db';
import { adapters } from '../../src/providers';
import type { WebhookRequest } from '../../src/providers/types';
import { createContact, getContact } from '../../src/store/contacts';
import { setPlatformApi } from '../../src/store/platformApis';
import { SA } from '../../src/temporal/searchAttributes';
import { createSignaler } from '../../src/temporal/client';
import { contactWorkflowIdFor, getState, workflowIdFor } from '../../workflows/messages';
import { eventually, productionSettings, testStore, uniqueId, workflowBundle } from '../support/harness';
import { startFakePlatforms, type FakePlatforms } from '../support/fakes/platforms';
import { startFakeSmtp, type FakeSmtp } from '../support/fakes/smtp';
import { startTimeSkipping } from '../support/fakes/timeSkipping';

const MIN = 60_000;
let env: TestWorkflowEnvironment;
let store: Store;
let platforms: FakePlatforms;
let smtp: FakeSmtp;
const ORG = 'org_stale';
const ORG_NO_KEYS = 'org_stale_nokeys';
const TWILIO_SID = 'AC00000000000000000000000000000abc';

beforeAll(async () => {
  [env, store, platforms, smtp] = await Promise.all([startTimeSkipping(), testStore('stale'), startFakePlatforms(), startFakeSmtp()]);
  for (const p of ['retell', 'vapi', 'bland'] as const)
    await setPlatformApi(store.col, ORG, p, { baseUrl: platforms.baseUrl, apiKey: `${p}-key` });
  await setPlatformApi(store.col, ORG, 'twilio', { baseUrl: platforms.baseUrl, apiKey: 'twilio-token', accountSid: TWILIO_SID });
  await startWorker();
}, 120_000);

afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await platforms?.close();
  await smtp?.close();
  await env?.teardown();
});

/**
 * One worker for the whole file: a workflow a test leaves open (a contact's, waiting out its idle
 * close) always has a worker for its timers, so it never holds up the next test's time skipping.
 */
let worker: Worker;
let running: Promise<void>;
const TQ = uniqueId('tq_stale');
async function startWorker(): Promise<void> {
  const activities = createActivities({
    col: store.col,
    mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, timeoutMs: 3000 }),
    smtpFrom: 'Acme <calls@acme.test>',
    dialTimeoutMs: 2_000,
  });
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TQ, workflowBundle: await workflowBundle(), activities });
  running = worker.run();
}

/** A webhook as the receiver would turn it into events. */
function webhook(provider: 'retell' | 'vapi', body: Record<string, unknown>) {
  const req: WebhookRequest = {
    rawBody: Buffer.from(JSON.stringify(body)),
    headers: {},
    contentType: 'application/json',
    publicUrl: 'http://x',
    receivedAt: new Date().toISOString(),
    now: Date.now(),
  };
  return adapters[provider].parse(req, body);
}
const retellStarted = (callId: string, contactId: string) =>
  webhook('retell', {
    event: 'call_started',
    call: {
      call_id: callId,
      call_status: 'ongoing',
      from_number: '+14155550100',
      to_number: '+14155550101',
      start_timestamp: Date.now(),
      metadata: { contactId },
    },
  });

const handle = (callId: string, org = ORG) => env.client.workflow.getHandle(workflowIdFor(org, callId));
const record = (callId: string, org = ORG) => store.col.calls.findOne({ _id: `${org}:${callId}` });
const mailsFor = (callId: string) => smtp.messages.filter((m) => m.headers['x-calls-call-id'] === callId);
const until = <T>(what: string, f: () => Promise<T | undefined | null | false>) => eventually(what, f, 30_000);

test('an answered call with no end is looked up after the default 30 minutes; the end runs its effects once, and the late real webhook changes nothing', async () => {
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, name: 'Grace Hopper', email: 'grace@example.test', phone: '+14155550101' });
  platforms.calls.set(callId, {
    state: 'ended',
    outcome: 'completed',
    durationSec: 95,
    recordingUrl: 'https://rec.example/r.mp3',
    contactId,
    cost: 0.31,
  });
  const s = productionSettings();
  expect(s.staleAfterMs).toBe(30 * MIN);
  const signaler = createSignaler(env.client, TQ, s);

  {
    for (const e of retellStarted(callId, contactId)) await signaler.deliver(ORG, 'retell', e);
    await until('the answered call', async () => (await handle(callId).query(getState)).state.status === 'answered');
    const v = await handle(callId).query(getState);
    expect(v.waitingFor).toMatch(/^the call to end \(its platform is asked at .+ if none comes\)$/);

    await env.sleep(29 * MIN);
    expect(platforms.asked(callId)).toHaveLength(0);
    await env.sleep(2 * MIN);
    await until('the polled end', async () => (await record(callId))?.status === 'completed');
    const [asked] = platforms.asked(callId);
    expect(asked).toMatchObject({ platform: 'retell', path: `/v2/get-call/${callId}` });
    expect(asked.headers.authorization).toBe('Bearer retell-key');

    const rec = (await record(callId))!;
    expect(rec).toMatchObject({
      status: 'completed',
      outcome: 'completed',
      durationSec: 95,
      recordingUrl: 'https://rec.example/r.mp3',
      cost: { amountCents: 31, currency: 'USD' },
    });
    expect(rec.stale).toBeUndefined();
    expect(rec.timeline.map((t) => t.eventId)).toContain(`poll:retell:${callId}:ended`);
    await until('the contact counted', async () => (await getContact(store.col, ORG, contactId))?.callCount === 1);
    await until('the thank-you email', async () => mailsFor(callId).length === 1);

    // The platform's own call_ended arrives late: a new event, the same end; nothing runs again.
    const late = webhook('retell', {
      event: 'call_ended',
      call: {
        call_id: callId,
        call_status: 'ended',
        disconnection_reason: 'user_hangup',
        start_timestamp: Date.now() - 95_000,
        end_timestamp: Date.now(),
        duration_ms: 95_000,
        metadata: { contactId },
      },
    });
    for (const e of late) await signaler.deliver(ORG, 'retell', e);
    await until('the late webhook applied', async () =>
      (await record(callId))?.timeline.some((t) => t.eventId === `retell:${callId}:call_ended`),
    );
    await env.sleep(5 * MIN);
    expect((await getContact(store.col, ORG, contactId))?.callCount).toBe(1);
    expect(mailsFor(callId)).toHaveLength(1);
    expect(platforms.asked(callId)).toHaveLength(1);
    // Both workflows close while this worker runs (the contact's after CONTACT_IDLE_CLOSE), so later tests' timers are not held up.
    await env.sleep(11 * MIN);
    await handle(callId).result();
    await env.client.workflow.getHandle(contactWorkflowIdFor(ORG, contactId)).result();
  }
});

test('a platform that keeps saying "in progress" is asked at 30 min, 1 h, 2 h and 4 h; then the call is stale, with the search attribute, and the workflow stops waiting', async () => {
  const callId = uniqueId('call');
  platforms.calls.set(callId, { state: 'ongoing' });
  const signaler = createSignaler(env.client, TQ, productionSettings());
  {
    const started = webhook('vapi', {
      message: {
        type: 'status-update',
        status: 'in-progress',
        call: { id: callId, type: 'outboundPhoneCall', customer: { number: '+14155550101' } },
      },
    });
    for (const e of started) await signaler.deliver(ORG, 'vapi', e);
    await until('the answered call', async () => (await record(callId))?.status === 'answered');
    await env.sleep(3 * 60 * MIN);
    expect(platforms.asked(callId)).toHaveLength(3);
    expect((await record(callId))?.stale).toBeUndefined();
    await env.sleep(61 * MIN);
    await handle(callId).result(); // it does not wait forever
    expect(platforms.asked(callId).map((r) => r.path)).toEqual(Array(4).fill(`/call/${callId}`));

    const rec = (await record(callId))!;
    expect(rec.status).toBe('answered');
    expect(rec.stale).toMatchObject({
      polls: 4,
      reason: 'vapi says the call is still in-progress at the last of 4 polls; no end was reported',
    });
    const desc = await handle(callId).describe();
    expect(desc.typedSearchAttributes.get(SA.callStale)).toBe(true);
    expect(desc.typedSearchAttributes.get(SA.callStatus)).toBe('answered');
    expect((await handle(callId).query(getState)).state.stale).toEqual(rec.stale);

    // A later webhook still applies normally and clears the mark.
    platforms.calls.set(callId, { state: 'ended', outcome: 'completed', durationSec: 3 });
    const endReport = webhook('vapi', {
      message: { type: 'end-of-call-report', endedReason: 'customer-ended-call', call: { id: callId, type: 'outboundPhoneCall' } },
    });
    for (const e of endReport) await signaler.deliver(ORG, 'vapi', e);
    await until('the late end applied and the mark gone', async () => {
      const r = await record(callId);
      return r?.status === 'completed' && r.stale === undefined && r;
    });
    await until('the search attribute cleared', async () => {
      const d = await handle(callId).describe();
      return d.typedSearchAttributes.get(SA.callStale) === undefined && d.typedSearchAttributes.get(SA.callStatus) === 'completed';
    });
    await handle(callId).result(); // the new run waits out RECORDING_WAIT and closes
  }
});

test('with no API credentials stored the call is marked stale at the first look, saying what to store, and the workflow closes', async () => {
  const callId = uniqueId('call');
  platforms.calls.set(callId, { state: 'ended', outcome: 'completed' });
  const signaler = createSignaler(env.client, TQ, productionSettings());
  {
    for (const e of retellStarted(callId, uniqueId('contact'))) await signaler.deliver(ORG_NO_KEYS, 'retell', e);
    await until('the answered call', async () => (await record(callId, ORG_NO_KEYS))?.status === 'answered');
    await env.sleep(31 * MIN);
    await handle(callId, ORG_NO_KEYS).result();
    const rec = (await record(callId, ORG_NO_KEYS))!;
    expect(rec.stale).toMatchObject({ polls: 1 });
    expect(rec.stale?.reason).toContain(`no retell API credentials are stored for ${ORG_NO_KEYS}`);
    expect(rec.stale?.reason).toContain('platform set');
    expect(platforms.asked(callId)).toHaveLength(0);
    expect((await handle(callId, ORG_NO_KEYS).describe()).typedSearchAttributes.get(SA.callStale)).toBe(true);
  }
});

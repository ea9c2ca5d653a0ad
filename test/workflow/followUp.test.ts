// Follow-up calls on the time-skipping test server: the default two-hour wait proven in seconds,
// attempts up to the maximum, answered follow-ups, manual signals, exactly-once placing, and the
// plan shown in the query, the call record and the search attributes. Activities run for real
// against the MongoDB-protocol database, a local fake of the platforms' outbound APIs and a real
// SMTP server.
import '../support/quietRuntime';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import { createSmtpMailer } from '../../activities/email';
import type { CallEvent } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { createContact } from '../../src/store/contacts';
import { SA } from '../../src/temporal/searchAttributes';
import { createSignaler } from '../../src/temporal/client';
import { cancelFollowUp, contactWorkflowIdFor, getState, retryNow, scheduleFollowUp, workflowIdFor } from '../../workflows/messages';
import { eventually, productionSettings, testStore, uniqueId, workflowBundle } from '../support/harness';
import { callEvent } from '../support/callEvents';
import { openAllDay } from '../support/callingWindow';
import { startFakeOutbound, type FakeOutbound } from '../support/fakes/outbound';
import { startFakeSmtp, type FakeSmtp } from '../support/fakes/smtp';
import { startTimeSkipping } from '../support/fakes/timeSkipping';

const H = 3_600_000;
let env: TestWorkflowEnvironment;
let store: Store;
let fake: FakeOutbound;
let smtp: FakeSmtp;
const ORG = 'org_fu';
const ORG_NO_DIALER = 'org_fu_nodialer';
const CONTACT_PHONE = '+14155550101';
const AGENT_PHONE = '+14155550100';

beforeAll(async () => {
  [env, store, fake, smtp] = await Promise.all([startTimeSkipping(), testStore('followup'), startFakeOutbound(), startFakeSmtp()]);
  await setOutboundDialer(store.col, {
    orgId: ORG,
    provider: 'retell',
    baseUrl: fake.baseUrl,
    apiKey: 'retell-key-123',
    fromNumber: AGENT_PHONE,
    agentId: 'agent_fu',
  });
  await openAllDay(store.col, ORG, ORG_NO_DIALER);
}, 120_000);

afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await fake?.close();
  await smtp?.close();
  await env?.teardown();
});

/** Contacts whose workflow a test started (a no-answer asks it about the follow-up caps): ended after each test, so their timers do not hold the next test's clock. */
const contacts = new Set<string>();
afterEach(async () => {
  for (const c of contacts) {
    for (const org of [ORG, ORG_NO_DIALER])
      await env.client.workflow
        .getHandle(contactWorkflowIdFor(org, c))
        .terminate('test over')
        .catch(() => undefined);
  }
  contacts.clear();
});
function noAnswer(callId: string, contactId: string): CallEvent {
  contacts.add(contactId);
  return callEvent(callId, 'call.failed', {
    outcome: 'no-answer',
    endedReason: 'dial_no_answer',
    from: AGENT_PHONE,
    to: CONTACT_PHONE,
    direction: 'outbound',
    contactId,
    agentId: 'agent_fu',
  });
}

function activities(over: Partial<Activities> = {}) {
  return {
    ...createActivities({
      col: store.col,
      mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, timeoutMs: 3000 }),
      smtpFrom: 'Acme Calls <calls@acme.test>',
      dialTimeoutMs: 2_000,
    }),
    ...over,
  };
}

async function withWorker<T>(taskQueue: string, fn: () => Promise<T>, over: Partial<Activities> = {}): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: activities(over),
  });
  return worker.runUntil(fn);
}

const handle = (callId: string, org = ORG) => env.client.workflow.getHandle(workflowIdFor(org, callId));
const view = (callId: string, org = ORG) => handle(callId, org).query(getState);
const planOf = async (callId: string, org = ORG) => (await view(callId, org)).followUp;
const until = <T>(what: string, f: () => Promise<T | undefined | null | false>) => eventually(what, f, 30_000);
const placedFor = (callId: string) => fake.placed().filter((r) => r.body?.metadata?.originalCallId === callId);
const requestsFor = (callId: string) => fake.requests.filter((r) => r.body?.metadata?.originalCallId === callId);

test('no answer: the follow-up waits the default two hours, retries up to the maximum, and stops when answered', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, name: 'Ada Lovelace', email: 'ada@example.test', phone: CONTACT_PHONE });
  const s = productionSettings();
  expect(s.followUpDelayMs).toBe(2 * H);
  expect(s.followUpMaxAttempts).toBe(3);
  const signaler = createSignaler(env.client, tq, s);

  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId));
    const plan = await until('a scheduled follow-up', async () => {
      const p = await planOf(callId);
      return p?.status === 'scheduled' && p;
    });
    const plannedAt = Date.parse(plan.history[0].at);
    expect(Date.parse(plan.nextFollowUpAt!) - plannedAt).toBe(2 * H);
    expect(plan).toMatchObject({ attempt: 1, maxAttempts: 3, summary: `follow-up attempt 1 of 3 scheduled for ${plan.nextFollowUpAt}` });

    // Everywhere a person looks: query, search attributes, UI details, the call record.
    const v = await view(callId);
    expect(v.waitingFor).toContain(`follow-up attempt 1 of 3 at ${plan.nextFollowUpAt}`);
    const desc = await handle(callId).describe();
    expect(desc.typedSearchAttributes.get(SA.nextFollowUpAt)?.toISOString()).toBe(plan.nextFollowUpAt);
    expect(desc.typedSearchAttributes.get(SA.followUpAttempt)).toBe(1);
    expect(desc.typedSearchAttributes.get(SA.callOutcome)).toBe('no-answer');
    const record = await until('the plan in the call record', () =>
      store.col.calls.findOne({ _id: `${ORG}:${callId}`, 'followUp.status': 'scheduled' }),
    );
    expect(record.nextFollowUpAt?.toISOString()).toBe(plan.nextFollowUpAt);
    expect(record.followUp?.summary).toBe(plan.summary);

    // One minute before the two hours: nothing placed.
    await env.sleep(2 * H - 60_000);
    expect(requestsFor(callId)).toHaveLength(0);
    expect((await planOf(callId))?.status).toBe('scheduled');

    await env.sleep(2 * 60_000);
    const [req1] = await until('attempt 1 placed', async () => placedFor(callId).length === 1 && placedFor(callId));
    expect(req1.path).toBe('/v2/create-phone-call');
    expect(req1.headers.authorization).toBe('Bearer retell-key-123');
    expect(req1.headers['idempotency-key']).toBe(`followup:${ORG}:${callId}:1`);
    expect(req1.body).toEqual({
      from_number: AGENT_PHONE,
      to_number: CONTACT_PHONE,
      override_agent_id: 'agent_fu',
      metadata: { originalCallId: callId, followUpOf: callId, followUpAttempt: 1, contactId },
    });
    await until('attempt 1 recorded as placed', async () => (await planOf(callId))?.status === 'placed');

    // The follow-up call's own webhooks: not answered either. Its workflow reports back.
    await signaler.deliver(
      ORG,
      'retell',
      callEvent(req1.callId!, 'call.failed', { outcome: 'no-answer', to: CONTACT_PHONE, metadata: req1.body.metadata }, 'retell'),
    );
    const plan2 = await until('attempt 2 scheduled', async () => {
      const p = await planOf(callId);
      return p?.status === 'scheduled' && p.attempt === 2 && p;
    });
    expect(plan2.attempts[0]).toMatchObject({ attempt: 1, status: 'unanswered', callId: req1.callId, outcome: 'no-answer' });
    const child1 = await store.col.calls.findOne({ _id: `${ORG}:${req1.callId}` });
    expect(child1?.followUpOf).toEqual({ originalCallId: callId, attempt: 1 });
    expect(child1?.followUp).toBeUndefined(); // a follow-up call plans no follow-ups of its own

    await env.sleep(2 * H + 60_000);
    const [, req2] = await until('attempt 2 placed', async () => placedFor(callId).length === 2 && placedFor(callId));
    expect(req2.body.metadata.followUpAttempt).toBe(2);
    await until('attempt 2 recorded as placed', async () => (await planOf(callId))?.status === 'placed');

    // Attempt 2 is answered: no more retries, the original closes, the contact gets one email.
    await signaler.deliver(
      ORG,
      'retell',
      callEvent(
        req2.callId!,
        'call.completed',
        {
          outcome: 'completed',
          durationSec: 95,
          to: CONTACT_PHONE,
          contactId,
          agentId: 'Sam',
          recordingUrl: 'https://rec.test/2.mp3',
          metadata: req2.body.metadata,
        },
        'retell',
      ),
    );
    const final = await handle(callId).result();
    expect(final.status).toBe('failed');
    await handle(req2.callId!).result();
  });

  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc?.followUp).toMatchObject({ status: 'answered', attempt: 2, maxAttempts: 3 });
  expect((doc?.followUp as any).attempts.map((a: any) => [a.attempt, a.status, a.callId])).toEqual([
    [1, 'unanswered', placedFor(callId)[0].callId],
    [2, 'answered', placedFor(callId)[1].callId],
  ]);
  expect(doc?.nextFollowUpAt).toBeNull();
  expect(placedFor(callId)).toHaveLength(2);
  const mails = smtp.messages.filter((m) => m.headers['x-calls-call-id'] === placedFor(callId)[1].callId);
  expect(mails).toHaveLength(1);
  expect(mails[0].envelope.to).toEqual(['ada@example.test']);
}, 120_000);

test('after the maximum of unanswered attempts the plan is exhausted and the workflow closes', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const signaler = createSignaler(env.client, tq, productionSettings({ followUpMaxAttempts: 1 }));
  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(callId, uniqueId('contact')));
    await until('scheduled', async () => (await planOf(callId))?.status === 'scheduled');
    await env.sleep(2 * H + 1000);
    const [req] = await until('placed', async () => placedFor(callId).length === 1 && placedFor(callId));
    await until('placed recorded', async () => (await planOf(callId))?.status === 'placed');
    await signaler.deliver(
      ORG,
      'retell',
      callEvent(req.callId!, 'call.failed', { outcome: 'busy', metadata: req.body.metadata }, 'retell'),
    );
    await handle(callId).result();
  });
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc?.followUp).toMatchObject({ status: 'exhausted', reason: 'all 1 follow-up attempts went unanswered' });
  expect(placedFor(callId)).toHaveLength(1);
}, 60_000);

test('signals steer the plan: scheduleFollowUp moves it, retryNow skips the wait, cancelFollowUp stops it', async () => {
  const tq = uniqueId('tq');
  const a = uniqueId('call');
  const b = uniqueId('call');
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(a, uniqueId('contact')));
    await signaler.deliver(ORG, 'generic', noAnswer(b, uniqueId('contact')));
    const first = await until('a scheduled', async () => {
      const p = await planOf(a);
      return p?.status === 'scheduled' && p;
    });
    await until('b scheduled', async () => (await planOf(b))?.status === 'scheduled');

    // Move a's follow-up 30 minutes later than planned.
    const later = new Date(Date.parse(first.nextFollowUpAt!) + 30 * 60_000).toISOString();
    await handle(a).signal(scheduleFollowUp, { at: later, by: 'alice' });
    await until('a rescheduled', async () => (await planOf(a))?.nextFollowUpAt === later);
    expect((await handle(a).describe()).typedSearchAttributes.get(SA.nextFollowUpAt)?.toISOString()).toBe(later);

    // Skip the wait: placed without any time passing.
    await handle(a).signal(retryNow, { by: 'alice', reason: 'customer asked' });
    await until('a placed now', async () => placedFor(a).length === 1);
    const p = await until('a recorded placed', async () => {
      const x = await planOf(a);
      return x?.status === 'placed' && x;
    });
    expect(p.history.map((h) => h.event)).toEqual(['scheduled', 'scheduled by hand', 'retry now', 'placing', 'placed']);
    expect(p.history.find((h) => h.event === 'retry now')).toMatchObject({
      by: 'alice',
      detail: expect.stringMatching(/^customer asked; attempt 1 of 3 at /),
    });

    // A retry while the call is in progress does nothing, and says why.
    await handle(a).signal(retryNow);
    await until('the refusal', async () => (await view(a)).lastCommand?.applied === false);
    expect((await view(a)).lastCommand?.note).toMatch(/attempt 1 is in progress/);

    // Cancel b with a bare string reason, as `--input '"..."'` sends it: the workflow closes.
    await handle(b).signal(cancelFollowUp, 'asked not to be called again');
    // Polled rather than awaited with result(): awaiting a result lets the time-skipping server
    // jump to the next timer of any workflow, here a's 24 h result wait, which would close a too.
    await until('b closed', async () => (await handle(b).describe()).status.name === 'COMPLETED');
    await env.sleep(3 * H);
    expect(requestsFor(b)).toHaveLength(0);
    expect(placedFor(a)).toHaveLength(1);
    await handle(a).terminate('test done');
  });
  const docB = await store.col.calls.findOne({ _id: `${ORG}:${b}` });
  expect(docB?.followUp).toMatchObject({ status: 'canceled', reason: 'asked not to be called again' });
  expect(docB?.nextFollowUpAt).toBeNull();
  expect(await store.col.followUps.findOne({ _id: `followup:${ORG}:${b}:1` })).toMatchObject({
    status: 'canceled',
    reason: 'asked not to be called again',
  });
}, 60_000);

test('without an outbound dialer the follow-up is recorded as due, then placed once a dialer exists and retryNow is sent', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(tq, async () => {
    await signaler.deliver(ORG_NO_DIALER, 'generic', noAnswer(callId, uniqueId('contact')));
    await until('scheduled', async () => (await planOf(callId, ORG_NO_DIALER))?.status === 'scheduled');
    await env.sleep(2 * H + 1000);
    const due = await until('due', async () => {
      const p = await planOf(callId, ORG_NO_DIALER);
      return p?.status === 'due' && p;
    });
    expect(due.reason).toMatch(/no outbound dialer is configured for org_fu_nodialer/);
    expect(due.summary).toMatch(/^follow-up attempt 1 of 3 is due for a person: no outbound dialer/);
    const rec = await until('the due record', () =>
      store.col.followUps.findOne({ _id: `followup:${ORG_NO_DIALER}:${callId}:1`, status: 'due' }),
    );
    expect(rec).toMatchObject({ to: CONTACT_PHONE, attempt: 1, originalCallId: callId });
    expect((await store.col.calls.findOne({ _id: `${ORG_NO_DIALER}:${callId}` }))?.followUp).toMatchObject({
      status: 'due',
      reason: due.reason,
    });

    await setOutboundDialer(store.col, {
      orgId: ORG_NO_DIALER,
      provider: 'bland',
      baseUrl: fake.baseUrl,
      apiKey: 'bland-key',
      agentId: 'pathway_1',
      // No caller id: the countries a follow-up may dial must be listed (never taken from the webhook).
      allowedCountryCodes: ['1'],
    });
    await handle(callId, ORG_NO_DIALER).signal(retryNow);
    const [req] = await until('placed', async () => placedFor(callId).length === 1 && placedFor(callId));
    expect(req.path).toBe('/v1/calls');
    expect(req.headers.authorization).toBe('bland-key');
    expect(req.body).toMatchObject({
      phone_number: CONTACT_PHONE,
      pathway_id: 'pathway_1',
      metadata: { originalCallId: callId, followUpAttempt: 1 },
    });
    await until('placed recorded', async () => (await planOf(callId, ORG_NO_DIALER))?.status === 'placed');
    expect(await store.col.followUps.findOne({ _id: `followup:${ORG_NO_DIALER}:${callId}:1` })).toMatchObject({
      status: 'placed',
      providerCallId: req.callId,
    });
    await handle(callId, ORG_NO_DIALER).terminate('test done');
  });
}, 60_000);

test('a placed follow-up is never placed twice when the activity is retried after its answer was lost', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const real = activities();
  let tries = 0;
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(
    tq,
    async () => {
      await signaler.deliver(ORG, 'generic', noAnswer(callId, uniqueId('contact')));
      await until('scheduled', async () => (await planOf(callId))?.status === 'scheduled');
      await handle(callId).signal(retryNow);
      const p = await until('placed', async () => {
        const x = await planOf(callId);
        return x?.status === 'placed' && x;
      });
      expect(p.attempts[0].callId).toBe(placedFor(callId)[0].callId);
      await handle(callId).terminate('test done');
    },
    {
      // The call is placed, then the try fails as if its completion were lost in a timeout.
      async placeFollowUpCall(input) {
        tries++;
        const r = await real.placeFollowUpCall(input);
        if (tries === 1) throw new Error('simulated timeout after the platform accepted the call');
        return r;
      },
    },
  );
  expect(tries).toBe(2);
  expect(requestsFor(callId)).toHaveLength(1);
}, 60_000);

test('a request the platform may have received but never answered is not sent again: a person checks', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(callId, uniqueId('contact')));
    await until('scheduled', async () => (await planOf(callId))?.status === 'scheduled');
    fake.script.push({ status: 201, delayMs: 4_000 }); // slower than the 2 s dial timeout
    await handle(callId).signal(retryNow);
    const p = await until('due', async () => {
      const x = await planOf(callId);
      return x?.status === 'due' && x;
    });
    expect(p.reason).toMatch(/may have been sent but got no answer/);
    expect(p.attempts[0].uncertain).toBe(true);
    expect(await store.col.followUps.findOne({ _id: `followup:${ORG}:${callId}:1` })).toMatchObject({ status: 'uncertain' });
    await new Promise((r) => setTimeout(r, 3_000)); // let the slow answer arrive
    expect(requestsFor(callId)).toHaveLength(1);
    // A person decides to try again: that is a new attempt, never a resend of the uncertain one.
    await handle(callId).signal(retryNow, { by: 'ops' });
    await until('attempt 2 placed', async () => placedFor(callId).some((r) => r.body.metadata.followUpAttempt === 2));
    expect(requestsFor(callId).map((r) => r.body.metadata.followUpAttempt)).toEqual([1, 2]);
    await handle(callId).terminate('test done');
  });
}, 60_000);

test('a platform that is briefly unavailable is retried; one that refuses hands the attempt to a person', async () => {
  const tq = uniqueId('tq');
  const ok = uniqueId('call');
  const refused = uniqueId('call');
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(ok, uniqueId('contact')));
    await until('scheduled', async () => (await planOf(ok))?.status === 'scheduled');
    fake.script.push({ status: 503 });
    await handle(ok).signal(retryNow);
    await until('placed after a retry', async () => (await planOf(ok))?.status === 'placed');
    expect(requestsFor(ok)).toHaveLength(2);
    expect(placedFor(ok)).toHaveLength(1);

    await signaler.deliver(ORG, 'generic', noAnswer(refused, uniqueId('contact')));
    await until('scheduled', async () => (await planOf(refused))?.status === 'scheduled');
    fake.script.push({ status: 422, body: { error: 'to_number is not a valid number' } });
    await handle(refused).signal(retryNow);
    const p = await until('due', async () => {
      const x = await planOf(refused);
      return x?.status === 'due' && x;
    });
    expect(p.reason).toMatch(/retell refused the follow-up call \(HTTP 422: .*not a valid number/);
    expect(requestsFor(refused)).toHaveLength(1);
    await handle(ok).terminate('test done');
    await handle(refused).terminate('test done');
  });
}, 60_000);

// Follow-ups under the calling rules, with the defaults a user runs with (08:00–21:00 in the
// contact's local time, the zone inferred from the phone number), on the time-skipping server:
// a no-answer at 20:30 local is followed up at 08:00 local the next day; a do-not-call contact
// gets no follow-up; a pending one is canceled with the reason when the person opts out on
// another call, or when the mark arrives before the attempt's time.
import '../support/quietRuntime';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTime } from '../../src/domain/callingWindow';
import type { Store } from '../../src/store/db';
import { createContact } from '../../src/store/contacts';
import { contactDoNotCall, markContactDoNotCall } from '../../src/store/compliance';
import { createSignaler } from '../../src/temporal/client';
import { contactWorkflowIdFor, getState, workflowIdFor } from '../../workflows/messages';
import { eventually, productionSettings, uniqueId } from '../support/harness';
import { callEvent, noAnswerEvent } from '../support/callEvents';
import type { FakeOutbound } from '../support/fakes/outbound';
import { startDialerTests, stopDialerTests, withDialerWorker } from '../support/dialerTests';

const H = 3_600_000;
const ORG = 'org_rules';
const CHICAGO_PHONE = '+13125550142'; // area code 312: Chicago, one zone
const AGENT_PHONE = '+13125550100';
const CHICAGO = 'America/Chicago';
let env: TestWorkflowEnvironment;
let store: Store;
let fake: FakeOutbound;

beforeAll(async () => {
  // The organization exists with no compliance settings: the defaults apply.
  ({ env, store, fake } = await startDialerTests('rules', { _id: ORG, name: 'Rules' }, { fromNumber: AGENT_PHONE, agentId: 'agent_r' }));
}, 120_000);

afterAll(() => stopDialerTests({ env, store, fake }));

const noAnswer = (callId: string, contactId: string) => noAnswerEvent(callId, { from: AGENT_PHONE, to: CHICAGO_PHONE, contactId });
const withWorker = <T>(taskQueue: string, fn: () => Promise<T>): Promise<T> => withDialerWorker({ env, store }, taskQueue, fn);

const handle = (callId: string) => env.client.workflow.getHandle(workflowIdFor(ORG, callId));
const planOf = async (callId: string) => (await handle(callId).query(getState)).followUp;
const until = <T>(what: string, f: () => Promise<T | undefined | null | false>) => eventually(what, f, 30_000);
const requestsFor = (callId: string) => fake.requests.filter((r) => r.body?.metadata?.originalCallId === callId);

/** Skips the server's clock to the next `hh:mm` wall-clock time in `zone`. */
async function skipTo(hh: number, mm: number, zone: string): Promise<number> {
  const now = await env.currentTimeMs();
  for (let t = Math.ceil(now / 60_000) * 60_000; t < now + 48 * H; t += 60_000) {
    const l = localTime(t, zone);
    if (l.hour === hh && l.minute === mm) {
      await env.sleep(t - now);
      return t;
    }
  }
  throw new Error('no such time within two days');
}

test('a no-answer at 20:30 local time is followed up at 08:00 local the next day, and everywhere says why', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, phone: CHICAGO_PHONE }); // no timezone: the number decides
  const signaler = createSignaler(env.client, tq, productionSettings());

  await withWorker(tq, async () => {
    const at = await skipTo(20, 30, CHICAGO);
    await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId));
    const plan = await until('a scheduled follow-up', async () => {
      const p = await planOf(callId);
      return p?.status === 'scheduled' && p;
    });
    const next = Date.parse(plan.nextFollowUpAt!);
    // Not 22:30 (the two-hour delay) but 08:00 local, the next day: 11.5 hours after the call.
    expect(localTime(next, CHICAGO)).toMatchObject({ hour: 8, minute: 0 });
    expect(next - at).toBeGreaterThan(11 * H);
    expect(next - at).toBeLessThan(12 * H);
    // The default window is the federal one, and the text names it (the organization's own window alone says "calling window").
    expect(plan.window).toMatch(
      /^moved to 08:00 America\/Chicago on \w{3} \d{4}-\d\d-\d\d \(United States, 47 CFR 64\.1200\(c\)\(1\) \(TCPA\): 08:00–21:00\)$/,
    );
    expect(plan.summary).toContain(plan.window);
    expect(plan.history.map((h) => h.event)).toEqual(['scheduled', 'moved']);

    const record = await until('the record says so', () =>
      store.col.calls.findOne({ _id: `${ORG}:${callId}`, 'followUp.window': { $exists: true } }),
    );
    expect(record.nextFollowUpAt?.toISOString()).toBe(plan.nextFollowUpAt);
    expect(record.followUp?.summary).toContain('(United States, 47 CFR 64.1200(c)(1) (TCPA): 08:00–21:00)');
    expect((await handle(callId).query(getState)).waitingFor).toContain(plan.nextFollowUpAt);

    // At 22:30 local nothing is placed; a minute after 08:00 it is.
    await env.sleep(2 * H + 60_000);
    expect(requestsFor(callId)).toHaveLength(0);
    await env.sleep(next - (await env.currentTimeMs()) + 60_000);
    const [req] = await until('placed at 08:00', async () => requestsFor(callId).length === 1 && requestsFor(callId));
    expect(req.body.to_number).toBe(CHICAGO_PHONE);
    const placed = await until('recorded as placed', async () => {
      const p = await planOf(callId);
      return p?.status === 'placed' && p;
    });
    // The workflow's clock (the server's) when it placed: 08:00 local. (placedAt is the activity's wall clock.)
    const placing = placed.history.find((h) => h.event === 'placing')!;
    expect(localTime(Date.parse(placing.at), CHICAGO)).toMatchObject({ hour: 8, minute: 0 });
  });
  await handle(callId).terminate('test over');
  // The contact's workflow (asked for the follow-up caps) would hold the next test's clock with its idle timer.
  await env.client.workflow
    .getHandle(contactWorkflowIdFor(ORG, contactId))
    .terminate('test over')
    .catch(() => undefined);
}, 120_000);

test('a do-not-call contact gets no follow-up: the plan is canceled with the reason', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, phone: CHICAGO_PHONE, timezone: CHICAGO });
  await markContactDoNotCall(store.col, ORG, contactId, { reason: 'asked not to be called', source: 'contact' });
  const signaler = createSignaler(env.client, tq, productionSettings());

  await withWorker(tq, async () => {
    await skipTo(10, 0, CHICAGO);
    await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId));
    await handle(callId).result(); // nothing left to wait for: it closes
  });
  const doc = await store.col.calls.findOne({ _id: `${ORG}:${callId}` });
  expect(doc?.followUp).toMatchObject({
    status: 'canceled',
    reason: 'the contact is on the do-not-call list (contact: asked not to be called)',
  });
  expect(doc?.followUp?.summary).toBe(
    'follow-up canceled at attempt 1 of 3: the contact is on the do-not-call list (contact: asked not to be called)',
  );
  expect(doc?.nextFollowUpAt).toBeNull();
  expect(requestsFor(callId)).toHaveLength(0);
}, 60_000);

test('an opt-out on another call cancels the pending follow-up at once, with the reason', async () => {
  const tq = uniqueId('tq');
  const pendingCall = uniqueId('call');
  const answeredCall = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, phone: CHICAGO_PHONE });
  const signaler = createSignaler(env.client, tq, productionSettings());

  await withWorker(tq, async () => {
    await skipTo(10, 0, CHICAGO);
    await signaler.deliver(ORG, 'generic', noAnswer(pendingCall, contactId));
    await until('scheduled', async () => (await planOf(pendingCall))?.status === 'scheduled');
    // The contact calls back, and the platform's post-call analysis says they opted out.
    await signaler.deliver(
      ORG,
      'generic',
      callEvent(answeredCall, 'call.completed', {
        outcome: 'completed',
        durationSec: 40,
        from: CHICAGO_PHONE,
        to: AGENT_PHONE,
        direction: 'inbound',
        contactId,
        analysis: { summary: 'asked to stop calling', data: { opt_out: true } },
      }),
    );
    const canceled = await until('the pending plan canceled', async () => {
      const p = await planOf(pendingCall);
      return p?.status === 'canceled' && p;
    });
    expect(canceled.reason).toBe(`the contact is on the do-not-call list (opted out during call ${answeredCall} (opt_out: true))`);
    expect(canceled.history.at(-1)).toMatchObject({ event: 'canceled', by: 'do-not-call' });
    await handle(pendingCall).result();
  });
  // Left running without a worker, their timers would stop the server skipping time for the next test.
  await handle(answeredCall)
    .terminate('test over')
    .catch(() => undefined);
  await env.client.workflow
    .getHandle(contactWorkflowIdFor(ORG, contactId))
    .terminate('test over')
    .catch(() => undefined);
  expect(await contactDoNotCall(store.col, ORG, contactId)).toMatchObject({
    source: 'opt-out',
    reason: `opted out during call ${answeredCall} (opt_out: true)`,
  });
  expect(requestsFor(pendingCall)).toHaveLength(0);
}, 60_000);

test('a mark that arrives after planning is caught when the attempt is due: canceled, nothing dialed', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, phone: CHICAGO_PHONE });
  const signaler = createSignaler(env.client, tq, productionSettings());

  await withWorker(tq, async () => {
    await skipTo(10, 0, CHICAGO);
    await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId));
    await until('scheduled', async () => (await planOf(callId))?.status === 'scheduled');
    // Written straight to the database: no route or signal tells the workflow.
    await markContactDoNotCall(store.col, ORG, contactId, { reason: 'wrote to us', source: 'contact' });
    await env.sleep(2 * H + 60_000);
    const p = await until('canceled at placement', async () => {
      const plan = await planOf(callId);
      return plan?.status === 'canceled' && plan;
    });
    expect(p.reason).toBe('the contact is on the do-not-call list (contact: wrote to us)');
    await handle(callId).result();
  });
  expect(requestsFor(callId)).toHaveLength(0);
  const attempt = await store.col.followUps.findOne({ _id: `followup:${ORG}:${callId}:1` });
  expect(attempt?.status).toBe('canceled');
}, 60_000);

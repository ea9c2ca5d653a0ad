// Per-person follow-up rules on the time-skipping server, with the defaults a user runs with (two
// hours, three attempts per plan, a cap of three attempts per contact in any 24 hours, which these
// organizations never set): later no-answers of a contact join the plan running, are settled
// when it ends, and a new plan's attempt waits for the cap to free up. Real Temporal, real
// database, the contact's own workflow deciding; a retried reservation takes one slot.
import '../support/quietRuntime';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../../activities';
import { WEEKDAYS } from '../../src/domain/callingWindow';
import type { FollowUpPlan } from '../../src/domain/followUpPlan';
import { CAP_WINDOW_MS, SLOT_MARGIN_MS } from '../../src/domain/contactCaps';
import type { Store } from '../../src/store/db';
import { listFollowUpCalls } from '../../src/store/followUps';
import { createContact } from '../../src/store/contacts';
import { getComplianceSettings } from '../../src/store/compliance';
import { createSignaler } from '../../src/temporal/client';
import { cancelFollowUp, contactWorkflowIdFor, getContactState, getState, workflowIdFor } from '../../workflows/messages';
import { eventually, productionSettings, uniqueId } from '../support/harness';
import { callEvent, noAnswerEvent } from '../support/callEvents';
import type { FakeOutbound } from '../support/fakes/outbound';
import { startDialerTests, stopDialerTests, withDialerWorker } from '../support/dialerTests';

const H = 3_600_000;
const ORG = 'org_caps';
const CONTACT_PHONE = '+14155550133';
const AGENT_PHONE = '+14155550100';
let env: TestWorkflowEnvironment;
let store: Store;
let fake: FakeOutbound;

beforeAll(async () => {
  // A window open all day, so the hour the test runs at does not matter; the cap is left unset (default 3).
  const callingWindow = { start: '00:00', end: '24:00', days: [...WEEKDAYS], regions: [] };
  const org = { _id: ORG, name: 'Caps', compliance: { callingWindow, purpose: 'informational' as const } };
  ({ env, store, fake } = await startDialerTests('caps', org, { fromNumber: AGENT_PHONE, agentId: 'agent_c' }));
}, 120_000);

afterAll(() => stopDialerTests({ env, store, fake }));

const noAnswer = (callId: string, contactId: string) => noAnswerEvent(callId, { from: AGENT_PHONE, to: CONTACT_PHONE, contactId });
const withWorker = <T>(taskQueue: string, fn: () => Promise<T>, over: Partial<Activities> = {}): Promise<T> =>
  withDialerWorker({ env, store }, taskQueue, fn, over);

const handle = (callId: string) => env.client.workflow.getHandle(workflowIdFor(ORG, callId));
/** Workflows a test started: ended after it, pass or fail, so their timers do not hold the next test's clock. */
const started: string[] = [];
afterEach(async () => {
  for (const id of started.splice(0))
    await env.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
});
const track = (contactId: string, ...callIds: string[]) =>
  started.push(contactWorkflowIdFor(ORG, contactId), ...callIds.map((c) => workflowIdFor(ORG, c)));
const planOf = async (callId: string) => (await handle(callId).query(getState)).followUp;
const until = <T>(what: string, f: () => Promise<T | undefined | null | false>) => eventually(what, f, 30_000);
const planIs = (callId: string, pred: (p: FollowUpPlan) => boolean) =>
  until(`plan of ${callId}`, async () => {
    const p = await planOf(callId);
    return p && pred(p) && p;
  });
const placedFor = (callId: string) => fake.placed().filter((r) => r.body?.metadata?.originalCallId === callId);
const contactState = (contactId: string) => env.client.workflow.getHandle(contactWorkflowIdFor(ORG, contactId)).query(getContactState);
/** The workflow's clock when each attempt of these calls was placed. */
async function placingTimes(...callIds: string[]): Promise<number[]> {
  const docs = await store.col.calls.find({ _id: { $in: callIds.map((c) => `${ORG}:${c}`) } }).toArray();
  return docs
    .flatMap((d) =>
      ((d.followUp as FollowUpPlan | undefined)?.history ?? []).filter((h) => h.event === 'placing').map((h) => Date.parse(h.at)),
    )
    .sort((a, b) => a - b);
}

test('four no-answers of one contact in a day: later ones join the running plan, and a new plan waits for the 24-hour cap', async () => {
  expect((await getComplianceSettings(store.col, ORG)).contactCapPer24h).toBe(3); // the default, not set by this test
  const tq = uniqueId('tq');
  const contactId = uniqueId('contact');
  const [c1, c2, c3, c4] = [1, 2, 3, 4].map(() => uniqueId('call'));
  track(contactId, c1, c2, c3, c4);
  await createContact(store.col, ORG, { contactId, phone: CONTACT_PHONE, timezone: 'America/Chicago' });
  const signaler = createSignaler(env.client, tq, productionSettings());

  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(c1, contactId));
    await planIs(c1, (p) => p.status === 'scheduled');
    await signaler.deliver(ORG, 'generic', noAnswer(c2, contactId));
    const joined = await planIs(c2, (p) => p.status === 'joined');
    expect(joined.joinedPlanOf?.callId).toBe(c1);
    expect(joined.summary).toBe(`follow-up: joined the plan of call ${c1} (one plan per contact); settled when it ends`);
    expect((await handle(c2).query(getState)).followUp?.reason).toBe(`joined the follow-up plan of call ${c1} (one plan per contact)`);
    const rec2 = await until('the joined record', () => store.col.calls.findOne({ _id: `${ORG}:${c2}`, 'followUp.status': 'joined' }));
    expect((rec2.followUp as FollowUpPlan | undefined)?.joinedPlanOf?.callId).toBe(c1);
    expect(rec2.nextFollowUpAt).toBeNull();
    // GET /api/follow-ups lists it (?status=joined) with the call whose plan it joined.
    const listed = await until(
      'the joined entry',
      async () => (await listFollowUpCalls(store.col, ORG, { status: 'joined', originalCallId: c2 }))[0],
    );
    expect(listed).toMatchObject({
      status: 'joined',
      attempt: 0,
      joinedPlanOf: c1,
      reason: `joined the follow-up plan of call ${c1} (one plan per contact)`,
    });

    // c1's plan: three attempts two hours apart, none answered. The contact's workflow closes when idle in between.
    for (let attempt = 1; attempt <= 3; attempt++) {
      await env.sleep(2 * H + 60_000);
      const req = (await until(`attempt ${attempt} placed`, async () => placedFor(c1).length === attempt && placedFor(c1)))[attempt - 1];
      await planIs(c1, (p) => p.status === 'placed' && p.attempt === attempt);
      await signaler.deliver(
        ORG,
        'retell',
        callEvent(req.callId!, 'call.failed', { outcome: 'no-answer', to: CONTACT_PHONE, metadata: req.body.metadata }, 'retell'),
      );
      if (attempt < 3) await planIs(c1, (p) => p.status === 'scheduled' && p.attempt === attempt + 1);
    }
    await planIs(c1, (p) => p.status === 'exhausted');
    // The joined call is settled with the plan it joined.
    const settled = await planIs(c2, (p) => p.status === 'exhausted');
    expect(settled.reason).toBe(`the follow-up plan of call ${c1} it joined ended exhausted: all 3 follow-up attempts went unanswered`);
    expect(settled.summary).toContain(`with the plan of call ${c1} it joined`);
    await until('the joined entry settled', () =>
      store.col.followUps.findOne({ _id: `followup:${ORG}:${c2}:0`, status: 'joined', settled: 'exhausted' }),
    );

    // A new no-answer starts a plan of its own; its attempt is due two hours later, with three attempts in the last 24 hours.
    await signaler.deliver(ORG, 'generic', noAnswer(c3, contactId));
    const first = await planIs(c3, (p) => p.status === 'scheduled');
    await signaler.deliver(ORG, 'generic', noAnswer(c4, contactId));
    expect((await planIs(c4, (p) => p.status === 'joined')).joinedPlanOf?.callId).toBe(c3);
    await env.sleep(Date.parse(first.nextFollowUpAt!) - (await env.currentTimeMs()) + 60_000);
    const moved = await planIs(c3, (p) => p.status === 'scheduled' && !!p.cap);
    const [t1] = await placingTimes(c1);
    // Moved to when the first attempt's slot leaves the rolling window plus the slot margin (the slot was taken moments before c1's placing).
    const freeAt = Date.parse(moved.nextFollowUpAt!);
    expect(Math.abs(freeAt - (t1 + CAP_WINDOW_MS + SLOT_MARGIN_MS))).toBeLessThan(5_000);
    expect(moved.cap).toMatch(/^moved to \d\d:\d\d America\/Chicago on \w{3} \d{4}-\d\d-\d\d \(24-hour cap: 3 attempts\)$/);
    expect(moved.summary).toBe(`follow-up attempt 1 of 3 scheduled for ${moved.nextFollowUpAt} (${moved.cap})`);
    expect(moved.history.at(-1)).toMatchObject({ event: 'moved', by: '24-hour cap', attempt: 1 });
    const rec3 = await until('the record says so', () => store.col.calls.findOne({ _id: `${ORG}:${c3}`, 'followUp.cap': moved.cap }));
    expect(rec3.nextFollowUpAt?.toISOString()).toBe(moved.nextFollowUpAt);
    const [entry] = await listFollowUpCalls(store.col, ORG, { originalCallId: c3 });
    expect(entry).toMatchObject({ attempt: 1, status: 'claimable', moved: moved.cap, scheduledFor: new Date(moved.nextFollowUpAt!) });
    expect(placedFor(c3)).toHaveLength(0);

    // Once the cap frees up the attempt is placed.
    await env.sleep(Date.parse(moved.nextFollowUpAt!) - (await env.currentTimeMs()) + 60_000);
    await until('c3 placed', async () => placedFor(c3).length === 1);
    await planIs(c3, (p) => p.status === 'placed');
    const times = await placingTimes(c1, c3);
    expect(times).toHaveLength(4);
    // No 24-hour window holds more than three.
    for (const t of times) expect(times.filter((x) => x > t - CAP_WINDOW_MS && x <= t).length).toBeLessThanOrEqual(3);
    const gate = (await contactState(contactId)).gate!;
    expect(gate.plan?.ownerCallId).toBe(c3);
    expect(gate.plan?.joined.map((j) => j.callId)).toEqual([c4]);
    for (const c of [c3, c4]) await handle(c).terminate('test over');
  });
  await env.client.workflow
    .getHandle(contactWorkflowIdFor(ORG, contactId))
    .terminate('test over')
    .catch(() => undefined);
  expect(placedFor(c2)).toHaveLength(0);
  expect(placedFor(c4)).toHaveLength(0);
}, 180_000);

test('two no-answers of one contact at the same moment: one plan, the other joined; canceling the plan settles both', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('contact');
  const a = uniqueId('call');
  const b = uniqueId('call');
  track(contactId, a, b);
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(tq, async () => {
    await Promise.all([signaler.deliver(ORG, 'generic', noAnswer(a, contactId)), signaler.deliver(ORG, 'generic', noAnswer(b, contactId))]);
    const plans = await until('both decided', async () => {
      const [pa, pb] = await Promise.all([planOf(a), planOf(b)]);
      return pa && pb && pa.status !== 'placing' && [pa, pb];
    });
    const statuses = plans.map((p) => p.status).sort();
    expect(statuses).toEqual(['joined', 'scheduled']);
    const [owner, joiner] = plans[0].status === 'scheduled' ? [a, b] : [b, a];
    expect(plans.find((p) => p.status === 'joined')!.joinedPlanOf?.callId).toBe(owner);

    await handle(owner).signal(cancelFollowUp, { reason: 'customer wrote to us', by: 'ops' });
    const settled = await planIs(joiner, (p) => p.status === 'canceled');
    expect(settled.reason).toBe(`the follow-up plan of call ${owner} it joined ended canceled: customer wrote to us`);
    const rec = await until('the joined call record settled', () =>
      store.col.calls.findOne({ _id: `${ORG}:${joiner}`, 'followUp.status': 'canceled' }),
    );
    expect(rec.followUp?.summary).toContain(`with the plan of call ${owner} it joined`);
    expect((await contactState(contactId)).gate?.plan).toBeUndefined();
    expect(await store.col.contactGates.findOne({ _id: `${ORG}:${contactId}` })).not.toHaveProperty('plan');
    for (const c of [a, b])
      await handle(c)
        .terminate('test over')
        .catch(() => undefined);
  });
  await env.client.workflow
    .getHandle(contactWorkflowIdFor(ORG, contactId))
    .terminate('test over')
    .catch(() => undefined);
  expect(fake.placed().filter((r) => [a, b].includes(r.body?.metadata?.originalCallId))).toHaveLength(0);
}, 60_000);

test('a plan whose call was terminated does not hold the contact: the next no-answer starts a plan, the joined call goes to a person', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('contact');
  const [a, b, c] = [1, 2, 3].map(() => uniqueId('call'));
  track(contactId, a, b, c);
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(tq, async () => {
    await signaler.deliver(ORG, 'generic', noAnswer(a, contactId));
    await planIs(a, (p) => p.status === 'scheduled');
    await signaler.deliver(ORG, 'generic', noAnswer(b, contactId));
    await planIs(b, (p) => p.status === 'joined');
    await handle(a).terminate('an operator ended it'); // it never reports the end of its plan
    await signaler.deliver(ORG, 'generic', noAnswer(c, contactId));
    await planIs(c, (p) => p.status === 'scheduled');
    const due = await planIs(b, (p) => p.status === 'due');
    expect(due.reason).toBe(
      `the follow-up plan of call ${a} it joined ended closed: call ${a}'s workflow closed without saying how its plan ended`,
    );
    expect((await contactState(contactId)).gate?.plan?.ownerCallId).toBe(c);
  });
}, 60_000);

test('when the contact cannot be asked, the plan starts on its own and its attempt goes to a person, never placed unchecked', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('contact');
  const callId = uniqueId('call');
  track(contactId, callId);
  let asked = 0;
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(
    tq,
    async () => {
      await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId));
      await planIs(callId, (p) => p.status === 'scheduled');
      await env.sleep(2 * H + 60_000);
      const due = await planIs(callId, (p) => p.status === 'due');
      expect(due.reason).toMatch(
        /^the contact's workflow did not answer, so the 24-hour cap could not be checked \(.*contact workflow unreachable.*\); call by hand or send retryNow$/,
      );
      expect(placedFor(callId)).toHaveLength(0);
    },
    {
      askContactGate() {
        asked++;
        return Promise.reject(new Error('contact workflow unreachable'));
      },
    },
  );
  expect(asked).toBe(8); // four tries to start the plan, four to reserve the attempt
}, 90_000);

test('a reservation retried after its answer was lost takes one slot', async () => {
  const tq = uniqueId('tq');
  const contactId = uniqueId('contact');
  const callId = uniqueId('call');
  track(contactId, callId);
  const real = createActivities({ col: store.col, dialTimeoutMs: 2_000 });
  let reserveTries = 0;
  const signaler = createSignaler(env.client, tq, productionSettings());
  await withWorker(
    tq,
    async () => {
      await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId));
      await planIs(callId, (p) => p.status === 'scheduled');
      await env.sleep(2 * H + 60_000);
      await until('placed', async () => placedFor(callId).length === 1);
      await planIs(callId, (p) => p.status === 'placed');
      const gate = (await contactState(contactId)).gate!;
      expect(gate.reservations.map((r) => r.key)).toEqual([`${callId}:1`]);
      const stored = await until('stored', () => store.col.contactGates.findOne({ _id: `${ORG}:${contactId}` }));
      expect(stored.reservations.map((r) => r.key)).toEqual([`${callId}:1`]);
      await handle(callId).terminate('test over');
    },
    {
      // The contact's workflow took the slot, then the try fails as if its answer were lost.
      async askContactGate(input) {
        const r = await real.askContactGate(input);
        if (input.request.type === 'reserve' && ++reserveTries === 1) throw new Error('simulated timeout after the contact answered');
        return r;
      },
    },
  );
  await env.client.workflow
    .getHandle(contactWorkflowIdFor(ORG, contactId))
    .terminate('test over')
    .catch(() => undefined);
  expect(reserveTries).toBe(2);
}, 90_000);

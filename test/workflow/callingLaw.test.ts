// The calling-law table at work on the time-skipping server, with the defaults a user runs with
// (purpose solicitation, 08:00–21:00, a two-hour delay, the zone and region from the number):
// an Oklahoma number's attempt planned for 20:30 moves to 08:00 (15 O.S. §775C.4), a Toronto
// number's Saturday 18:30 attempt moves to Sunday 10:00 (CRTC weekend hours), and a debt
// collector's attempt waits out Regulation F's seven days after a conversation.
import '../support/quietRuntime';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type Weekday, localTime } from '../../src/domain/callingWindow';
import type { CallEvent, CallEventType, Provider } from '../../src/domain/events';
import type { FollowUpPlan } from '../../src/domain/followUpPlan';
import type { Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { createContact } from '../../src/store/contacts';
import { createSignaler } from '../../src/temporal/client';
import { contactWorkflowIdFor, getState, workflowIdFor } from '../../workflows/messages';
import { eventually, productionSettings, testStore, uniqueId } from '../support/harness';
import { callEvent, noAnswerEvent } from '../support/callEvents';
import { withDialerWorker } from '../support/dialerTests';
import { startFakeOutbound, type FakeOutbound } from '../support/fakes/outbound';
import { startTimeSkipping } from '../support/fakes/timeSkipping';

const H = 3_600_000;
const ORG = 'org_law';
const DEBT_ORG = 'org_law_debt';
const LOOSE_ORG = 'org_law_loose';
const AGENT_PHONE = '+14055550100';
const OKLAHOMA_PHONE = '+14055550142'; // area code 405: Oklahoma City
const TORONTO_PHONE = '+14165550142'; // area code 416: Toronto, Ontario
const CHICAGO_PHONE = '+13125550142';
let env: TestWorkflowEnvironment;
let store: Store;
let fake: FakeOutbound;

beforeAll(async () => {
  [env, store, fake] = await Promise.all([startTimeSkipping(), testStore('law'), startFakeOutbound()]);
  // Default settings (purpose solicitation); the collector only says what its calls are for.
  await store.col.organizations.insertMany([
    { _id: ORG, name: 'Law', createdAt: new Date() },
    { _id: DEBT_ORG, name: 'Collector', createdAt: new Date(), compliance: { purpose: 'debt-collection' } },
    // An organization that would allow ten attempts a day: Oklahoma's three still hold.
    { _id: LOOSE_ORG, name: 'Loose', createdAt: new Date(), compliance: { contactCapPer24h: 10 } },
  ]);
  for (const orgId of [ORG, DEBT_ORG, LOOSE_ORG])
    await setOutboundDialer(store.col, {
      orgId,
      provider: 'retell',
      baseUrl: fake.baseUrl,
      apiKey: 'rk',
      fromNumber: AGENT_PHONE,
      agentId: 'a',
    });
}, 120_000);

afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
  await fake?.close();
  await env?.teardown();
});

/** The agent's outbound call's event (`extra` may say otherwise). */
const event = (callId: string, type: CallEventType, extra: Partial<CallEvent> = {}, provider: Provider = 'generic'): CallEvent =>
  callEvent(callId, type, { direction: 'outbound', from: AGENT_PHONE, ...extra }, provider);
const noAnswer = (callId: string, contactId: string, to: string) => noAnswerEvent(callId, { from: AGENT_PHONE, to, contactId });
const withWorker = <T>(taskQueue: string, fn: () => Promise<T>): Promise<T> => withDialerWorker({ env, store }, taskQueue, fn);

const handle = (orgId: string, callId: string) => env.client.workflow.getHandle(workflowIdFor(orgId, callId));
const planOf = async (orgId: string, callId: string) => (await handle(orgId, callId).query(getState)).followUp;
const until = <T>(what: string, f: () => Promise<T | undefined | null | false>) => eventually(what, f, 30_000);
const requestsFor = (callId: string) => fake.requests.filter((r) => r.body?.metadata?.originalCallId === callId);

/** Skips the server's clock to the next `hh:mm` on `day` (any day when absent) in `zone`. */
async function skipTo(hh: number, mm: number, zone: string, day?: Weekday): Promise<number> {
  const now = await env.currentTimeMs();
  for (let t = Math.ceil(now / 60_000) * 60_000; t < now + 8 * 24 * H; t += 60_000) {
    const l = localTime(t, zone);
    if (l.hour === hh && l.minute === mm && (!day || l.weekday === day)) {
      await env.sleep(t - now);
      return t;
    }
  }
  throw new Error('no such time within eight days');
}

/** Ends the test's workflows, so no idle timer holds the next test's clock. */
async function cleanUp(orgId: string, callIds: string[], contactId: string): Promise<void> {
  for (const id of callIds)
    await handle(orgId, id)
      .terminate('test over')
      .catch(() => undefined);
  await env.client.workflow
    .getHandle(contactWorkflowIdFor(orgId, contactId))
    .terminate('test over')
    .catch(() => undefined);
}

test('Oklahoma: an attempt planned for 20:30 local moves to 08:00 the next day, naming 15 O.S. §775C.4, and is placed then', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, phone: OKLAHOMA_PHONE }); // no timezone, no region: the number decides
  const signaler = createSignaler(env.client, tq, productionSettings());
  const zone = 'America/Chicago';
  try {
    await withWorker(tq, async () => {
      await skipTo(18, 30, zone);
      await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId, OKLAHOMA_PHONE));
      const plan = await until('a scheduled follow-up', async () => {
        const p = await planOf(ORG, callId);
        return p?.status === 'scheduled' && p.history.some((h) => h.event === 'moved') && p;
      });
      // The federal window would allow 20:30; Oklahoma's ends at 20:00.
      const next = Date.parse(plan.nextFollowUpAt!);
      expect(localTime(next, zone)).toMatchObject({ hour: 8, minute: 0 });
      expect(plan.window).toMatch(
        /^moved to 08:00 America\/Chicago on \w{3} \d{4}-\d\d-\d\d \(Oklahoma, 15 O\.S\. §775C\.4: 08:00–20:00\)$/,
      );
      expect(plan.history.find((h) => h.event === 'moved')?.detail).toContain('(Oklahoma, 15 O.S. §775C.4: 08:00–20:00)');
      const record = await until('the record says so', () =>
        store.col.calls.findOne({ _id: `${ORG}:${callId}`, 'followUp.window': { $exists: true } }),
      );
      expect(record.followUp?.summary).toContain('15 O.S. §775C.4');

      await env.sleep(next - (await env.currentTimeMs()) - 60_000);
      expect(requestsFor(callId)).toHaveLength(0);
      await env.sleep(2 * 60_000);
      await until('placed at 08:00', async () => requestsFor(callId).length === 1);
    });
  } finally {
    await cleanUp(ORG, [callId], contactId);
  }
}, 120_000);

test('Canada: a Saturday attempt at 18:30 in Toronto moves to Sunday 10:00 (CRTC weekend hours 10:00–18:00)', async () => {
  const tq = uniqueId('tq');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, ORG, { contactId, phone: TORONTO_PHONE });
  const signaler = createSignaler(env.client, tq, productionSettings());
  const zone = 'America/Toronto';
  try {
    await withWorker(tq, async () => {
      await skipTo(16, 30, zone, 'sat');
      await signaler.deliver(ORG, 'generic', noAnswer(callId, contactId, TORONTO_PHONE));
      const plan = await until('a moved follow-up', async () => {
        const p = await planOf(ORG, callId);
        return p?.status === 'scheduled' && !!p.window && p;
      });
      expect(localTime(Date.parse(plan.nextFollowUpAt!), zone)).toMatchObject({ weekday: 'sun', hour: 10, minute: 0 });
      expect(plan.window).toContain(
        '(Canada, CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing Rules): 10:00–18:00 on Saturdays)',
      );
    });
  } finally {
    await cleanUp(ORG, [callId], contactId);
  }
}, 120_000);

test('Regulation F: a debt collector’s attempt waits seven days after a conversation with the person, saying why', async () => {
  const tq = uniqueId('tq');
  const talk = uniqueId('call');
  const callId = uniqueId('call');
  const contactId = uniqueId('contact');
  await createContact(store.col, DEBT_ORG, { contactId, phone: CHICAGO_PHONE, timezone: 'America/Chicago' });
  const signaler = createSignaler(env.client, tq, productionSettings());
  try {
    await withWorker(tq, async () => {
      const talkedAt = await skipTo(10, 0, 'America/Chicago');
      await signaler.deliver(
        DEBT_ORG,
        'generic',
        // The server's clock is ahead of the wall clock: an end later than the receipt would be clamped to it.
        event(talk, 'call.completed', {
          outcome: 'completed',
          to: CHICAGO_PHONE,
          contactId,
          endedAt: new Date(talkedAt).toISOString(),
          receivedAt: new Date(talkedAt).toISOString(),
        }),
      );
      await until('the conversation is recorded', () => store.col.calls.findOne({ _id: `${DEBT_ORG}:${talk}`, outcome: 'completed' }));
      // A day later a call goes unanswered: its follow-up is planned two hours on, and refused until the quiet days are over.
      await env.sleep(24 * H);
      await signaler.deliver(DEBT_ORG, 'generic', noAnswer(callId, contactId, CHICAGO_PHONE));
      await until('a scheduled follow-up', async () => (await planOf(DEBT_ORG, callId))?.status === 'scheduled');
      await env.sleep(2 * H + 60_000);
      const plan = await until('moved by Regulation F', async () => {
        const p = await planOf(DEBT_ORG, callId);
        return p?.cap?.includes('Regulation F') && p;
      });
      expect(plan.cap).toContain('no call within 7 days after a conversation');
      expect(Date.parse(plan.nextFollowUpAt!)).toBeGreaterThanOrEqual(talkedAt + 7 * 24 * H);
      expect(requestsFor(callId)).toHaveLength(0);
    });
  } finally {
    await cleanUp(DEBT_ORG, [talk, callId], contactId);
  }
}, 120_000);

test("Oklahoma's cap: three attempts in 24 hours per person across the organization's calls, though the organization allows ten", async () => {
  const tq = uniqueId('tq');
  const [c1, c2] = [uniqueId('call'), uniqueId('call')];
  const contactId = uniqueId('contact');
  const zone = 'America/Chicago';
  await createContact(store.col, LOOSE_ORG, { contactId, phone: OKLAHOMA_PHONE, timezone: zone });
  const signaler = createSignaler(env.client, tq, productionSettings());
  const planIs = (callId: string, pred: (p: FollowUpPlan) => boolean) =>
    until(`plan of ${callId}`, async () => {
      const p = await planOf(LOOSE_ORG, callId);
      return p && pred(p) && p;
    });
  const placedFor = (callId: string) => fake.placed().filter((r) => r.body?.metadata?.originalCallId === callId);
  try {
    await withWorker(tq, async () => {
      // 08:00: c1's plan places three attempts at 10:00, 12:00 and 14:00, none answered.
      await skipTo(8, 0, zone);
      await signaler.deliver(LOOSE_ORG, 'generic', noAnswer(c1, contactId, OKLAHOMA_PHONE));
      await planIs(c1, (p) => p.status === 'scheduled');
      for (let attempt = 1; attempt <= 3; attempt++) {
        await env.sleep(2 * H + 60_000);
        const req = (await until(`attempt ${attempt} placed`, async () => placedFor(c1).length === attempt && placedFor(c1)))[attempt - 1];
        await planIs(c1, (p) => p.status === 'placed' && p.attempt === attempt);
        await signaler.deliver(
          LOOSE_ORG,
          'retell',
          event(req.callId!, 'call.failed', { outcome: 'no-answer', to: OKLAHOMA_PHONE, metadata: req.body.metadata }, 'retell'),
        );
        if (attempt < 3) await planIs(c1, (p) => p.status === 'scheduled' && p.attempt === attempt + 1);
      }
      await planIs(c1, (p) => p.status === 'exhausted');
      const firstPlaced = placedFor(c1)[0];
      expect(firstPlaced).toBeDefined();

      // A new call goes unanswered: its attempt, due at about 16:00, is the fourth in 24 hours.
      await signaler.deliver(LOOSE_ORG, 'generic', noAnswer(c2, contactId, OKLAHOMA_PHONE));
      const planned = await planIs(c2, (p) => p.status === 'scheduled');
      await env.sleep(Date.parse(planned.nextFollowUpAt!) - (await env.currentTimeMs()) + 60_000);
      const moved = await planIs(c2, (p) => p.status === 'scheduled' && !!p.cap);
      expect(moved.cap).toMatch(
        /^moved to 10:0\d America\/Chicago on \w{3} \d{4}-\d\d-\d\d \(Oklahoma, 15 O\.S\. §775C\.4: 3 calls in 24 hours\)$/,
      );
      expect(placedFor(c2)).toHaveLength(0);
    });
  } finally {
    await cleanUp(LOOSE_ORG, [c1, c2], contactId);
  }
}, 180_000);

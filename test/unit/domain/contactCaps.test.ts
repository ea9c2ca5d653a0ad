// The per-person follow-up rules as pure decisions: the rolling 24-hour count, when the cap frees
// up, idempotent reservations, one plan per contact with joined calls settled at its end, and
// what they do to a call's plan (joined, settled, moved by the cap).
import {
  CAP_WINDOW_MS,
  SLOT_MARGIN_MS,
  capMovedText,
  decideGate,
  emptyGate,
  inWindow,
  nextFreeAt,
  type ContactGateState,
  type GateRequest,
} from '../../../src/domain/contactCaps';
import { type FollowUpPlan, describePlan, isSettled, nextWakeAt, startPlan } from '../../../src/domain/followUpPlan';
import { applyCapMove, applyPlacement, beginPlacing, expireWait } from '../../../src/domain/followUpPlacement';
import { applyCommand, joinPlan, joinWaitMs } from '../../../src/domain/followUpCommands';
import { describeWait } from '../../../src/domain/callDetails';

const H = 3_600_000;
const T0 = Date.parse('2026-11-27T08:00:00Z');

function run(s: ContactGateState, steps: [GateRequest, number][]) {
  const answers = [];
  for (const [req, at] of steps) {
    const r = decideGate(s, req, at);
    s = r.state;
    answers.push(r.answer);
  }
  return { s, answers };
}

const reserve = (callId: string, attempt: number, cap = 3): GateRequest => ({ type: 'reserve', callId, attempt, cap });

/** How long a slot counts: its 24-hour window plus the margin between taking it and dialing. */
const HELD = CAP_WINDOW_MS + SLOT_MARGIN_MS;

describe('rolling 24-hour cap', () => {
  test('three attempts pass, the fourth is refused until 24 hours (and the slot margin) after the first', () => {
    const { s, answers } = run(emptyGate(), [
      [reserve('a', 1), T0],
      [reserve('a', 2), T0 + 2 * H],
      [reserve('b', 1), T0 + 5 * H],
      [reserve('c', 1), T0 + 7 * H],
    ]);
    expect(answers.map((a) => a.kind)).toEqual(['allowed', 'allowed', 'allowed', 'refused']);
    expect(answers[3]).toEqual({ kind: 'refused', used: 3, cap: 3, freeAt: new Date(T0 + HELD).toISOString() });
    expect(s.reservations).toHaveLength(3);
    // At the time it frees up, the same attempt is allowed.
    const later = decideGate(s, reserve('c', 1), T0 + HELD);
    expect(later.answer).toEqual({ kind: 'allowed', used: 3, cap: 3 });
    // The old reservation leaves the state.
    expect(later.state.reservations.map((r) => r.key)).toEqual(['a:2', 'b:1', 'c:1']);
  });

  test('the window is (now − 24 h − margin, now]: exactly that old no longer counts, a millisecond younger does', () => {
    const s = run(emptyGate(), [[reserve('a', 1, 1), T0]]).s;
    expect(decideGate(s, reserve('b', 1, 1), T0 + HELD - 1).answer.kind).toBe('refused');
    expect(decideGate(s, reserve('b', 1, 1), T0 + HELD).answer.kind).toBe('allowed');
    expect(inWindow(s.reservations, T0 + HELD)).toHaveLength(0);
    // Dialed up to the margin after its slot was taken, the next attempt is still a full 24 hours later.
    expect(T0 + HELD - (T0 + SLOT_MARGIN_MS)).toBe(CAP_WINDOW_MS);
  });

  test('next free time with more attempts than the cap (the cap was lowered): the (k−N)th oldest plus 24 hours', () => {
    const rs = [0, 1, 2, 3, 4].map((i) => ({ key: `x:${i}`, callId: 'x', attempt: i, at: T0 + i * H }));
    expect(nextFreeAt(rs, 2, T0 + 5 * H)).toBe(T0 + 3 * H + HELD);
    expect(nextFreeAt(rs, 6, T0 + 5 * H)).toBeUndefined();
    expect(nextFreeAt(rs, 0, T0 + 5 * H)).toBeUndefined();
  });

  test('a cap of 0 refuses with no time it frees up', () => {
    expect(decideGate(emptyGate(), reserve('a', 1, 0), T0).answer).toEqual({ kind: 'refused', used: 0, cap: 0 });
  });

  test('asking again for the same call and attempt takes no second slot, even when the cap is full', () => {
    const { s, answers } = run(emptyGate(), [
      [reserve('a', 1, 2), T0],
      [reserve('a', 1, 2), T0 + 1000],
      [reserve('b', 1, 2), T0 + 2000],
      [reserve('a', 1, 2), T0 + 3000],
    ]);
    expect(answers.map((a) => a.kind)).toEqual(['allowed', 'allowed', 'allowed', 'allowed']);
    expect(s.reservations.map((r) => r.key)).toEqual(['a:1', 'b:1']);
    expect(s.reservations[0].at).toBe(T0);
    // A repeat changes nothing, so nothing is written again.
    expect(decideGate(s, reserve('a', 1, 2), T0 + 4000).state).toBe(s);
  });

  test('a released slot is free again; releasing twice is harmless', () => {
    const { s, answers } = run(emptyGate(), [
      [reserve('a', 1, 1), T0],
      [{ type: 'release', callId: 'a', attempt: 1 }, T0 + 1],
      [{ type: 'release', callId: 'a', attempt: 1 }, T0 + 2],
      [reserve('b', 1, 1), T0 + 3],
    ]);
    expect(answers.map((a) => a.kind)).toEqual(['allowed', 'released', 'released', 'allowed']);
    expect(s.reservations.map((r) => r.key)).toEqual(['b:1']);
  });
});

describe('one plan per contact', () => {
  test('the first call owns the plan, later ones join it, the end settles them and frees the contact', () => {
    const { s, answers } = run(emptyGate(), [
      [{ type: 'startPlan', callId: 'a' }, T0],
      [{ type: 'startPlan', callId: 'b' }, T0 + 1000],
      [{ type: 'startPlan', callId: 'b' }, T0 + 2000], // retried: joined once
      [{ type: 'startPlan', callId: 'a' }, T0 + 3000], // the owner again: still the owner
      [{ type: 'startPlan', callId: 'c' }, T0 + 4000],
    ]);
    expect(answers).toEqual([
      { kind: 'owner' },
      { kind: 'joined', ownerCallId: 'a', since: new Date(T0).toISOString() },
      { kind: 'joined', ownerCallId: 'a', since: new Date(T0).toISOString() },
      { kind: 'owner' },
      { kind: 'joined', ownerCallId: 'a', since: new Date(T0).toISOString() },
    ]);
    expect(s.plan?.joined.map((j) => j.callId)).toEqual(['b', 'c']);

    // Only the owner ends the plan.
    expect(decideGate(s, { type: 'endPlan', callId: 'b', status: 'canceled' }, T0 + 5000).state).toBe(s);
    const end = decideGate(s, { type: 'endPlan', callId: 'a', status: 'answered', reason: 'follow-up call f1 was answered' }, T0 + 6000);
    expect(end.answer).toEqual({ kind: 'ended', settled: ['b', 'c'] });
    expect(end.notify).toEqual([
      { callId: 'b', ownerCallId: 'a', status: 'answered', reason: 'follow-up call f1 was answered' },
      { callId: 'c', ownerCallId: 'a', status: 'answered', reason: 'follow-up call f1 was answered' },
    ]);
    expect(end.state.plan).toBeUndefined();
    // Reported twice: nothing more to settle.
    expect(decideGate(end.state, { type: 'endPlan', callId: 'a', status: 'answered' }, T0 + 7000).notify).toEqual([]);
    // The next no-answer starts a plan of its own.
    expect(decideGate(end.state, { type: 'startPlan', callId: 'd' }, T0 + 8000).answer).toEqual({ kind: 'owner' });
  });

  test('every change raises the revision; a repeat does not', () => {
    const a = decideGate(emptyGate(), { type: 'startPlan', callId: 'a' }, T0);
    expect(a.state.rev).toBe(1);
    expect(decideGate(a.state, { type: 'startPlan', callId: 'a' }, T0).state.rev).toBe(1);
  });
});

test("the cap move says where to and why, in the contact's time zone", () => {
  expect(capMovedText(Date.parse('2026-11-28T15:10:00Z'), 'America/Chicago', 3)).toBe(
    'moved to 09:10 America/Chicago on Sat 2026-11-28 (24-hour cap: 3 attempts)',
  );
  expect(capMovedText(Date.parse('2026-11-28T15:10:00Z'), 'UTC', 1)).toBe('moved to 15:10 UTC on Sat 2026-11-28 (24-hour cap: 1 attempt)');
});

describe("a call's plan under the per-person rules", () => {
  const opts = { delayMs: 2 * H, maxAttempts: 3, resultWaitMs: 24 * H };

  test('a joined call waits for the plan it joined, says so, and settles with its end', () => {
    const p = joinPlan('no-answer', 'call_a', opts, T0);
    expect(p).toMatchObject({
      status: 'joined',
      attempt: 0,
      joinedPlanOf: { callId: 'call_a' },
      reason: 'joined the follow-up plan of call call_a (one plan per contact)',
    });
    expect(isSettled(p, T0)).toBe(false);
    expect(nextWakeAt(p)).toBe(T0 + joinWaitMs(opts));
    expect(describeWait({ callDone: true, callEnded: true, followUp: p, now: T0 })).toBe(
      `the end of the follow-up plan of call call_a it joined (until ${p.awaitingUntil})`,
    );

    const ctx = { now: T0 + H, opts, callEnded: true };
    // Another call's end changes nothing.
    expect(applyCommand(p, { type: 'joinedEnded', ownerCallId: 'call_x', status: 'answered' }, ctx).applied).toBe(false);
    const answered = applyCommand(
      p,
      { type: 'joinedEnded', ownerCallId: 'call_a', status: 'answered', reason: 'follow-up call f2 was answered' },
      ctx,
    );
    expect(answered.plan).toMatchObject({
      status: 'answered',
      reason: 'the follow-up plan of call call_a it joined ended answered: follow-up call f2 was answered',
    });
    expect(describePlan(answered.plan!)).toBe(
      'follow-up answered with the plan of call call_a it joined: the follow-up plan of call call_a it joined ended answered: follow-up call f2 was answered',
    );
    expect(isSettled(answered.plan, T0 + H)).toBe(true);
    // Told twice: recorded once.
    expect(applyCommand(answered.plan, { type: 'joinedEnded', ownerCallId: 'call_a', status: 'answered' }, ctx).applied).toBe(false);
    // An end that is not answered, exhausted or canceled goes to a person, settled at once.
    const closed = applyCommand(p, { type: 'joinedEnded', ownerCallId: 'call_a', status: 'closed' }, ctx).plan!;
    expect(closed.status).toBe('due');
    expect(isSettled(closed, T0 + H)).toBe(true);
  });

  test('a joined call that hears nothing goes to a person after the longest its plan could take', () => {
    const p = joinPlan('no-answer', 'call_a', opts, T0);
    expect(expireWait(p, T0 + joinWaitMs(opts) - 1)).toBe(p);
    const due = expireWait(p, T0 + joinWaitMs(opts));
    expect(due.status).toBe('due');
    expect(due.reason).toMatch(/^no word that the plan of call call_a ended by /);
  });

  test('a person may still start attempts on a joined call: it becomes a plan of its own', () => {
    const p = joinPlan('no-answer', 'call_a', opts, T0);
    const r = applyCommand(p, { type: 'retryNow', by: 'ops' }, { now: T0 + H, opts, callEnded: true });
    expect(r.plan).toMatchObject({ status: 'scheduled', attempt: 1 });
    expect(r.plan?.joinedPlanOf).toBeUndefined();
  });

  test('the cap moves the attempt, says so in the summary and history; the next attempt starts without it', () => {
    const plan = startPlan('no-answer', opts, T0);
    const freeAt = T0 + 30 * H;
    const text = capMovedText(freeAt, 'America/Chicago', 3);
    const moved = applyCapMove(plan, freeAt, text, T0 + 2 * H);
    expect(moved).toMatchObject({ status: 'scheduled', attempt: 1, nextFollowUpAt: new Date(freeAt).toISOString(), cap: text });
    expect(moved.attempts[0].scheduledFor).toBe(moved.nextFollowUpAt);
    expect(moved.history.at(-1)).toMatchObject({
      event: 'moved',
      by: '24-hour cap',
      attempt: 1,
      detail: `${text}; was ${plan.nextFollowUpAt}`,
    });
    expect(describePlan(moved)).toBe(`follow-up attempt 1 of 3 scheduled for ${moved.nextFollowUpAt} (${text})`);
    const next = applyCommand(
      beginPlacingPlaced(moved),
      { type: 'result', attempt: 1, callId: 'f1', answered: false, status: 'failed', outcome: 'no-answer' },
      { now: freeAt + H, opts, callEnded: true },
    ).plan!;
    expect(next).toMatchObject({ status: 'scheduled', attempt: 2 });
    expect(next.cap).toBeUndefined();
  });
});

function beginPlacingPlaced(p: FollowUpPlan): FollowUpPlan {
  const at = Date.parse(p.nextFollowUpAt!);
  return applyPlacement(
    beginPlacing(p, at),
    { kind: 'placed', callId: 'f1', provider: 'retell', placedAt: new Date(at).toISOString() },
    at,
    { resultWaitMs: 24 * H },
  );
}

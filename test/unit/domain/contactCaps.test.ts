// The per-person follow-up rules as pure decisions: the rolling 24-hour count, when the cap frees
// up, idempotent reservations, one plan per contact with joined calls settled at its end.
import { CAP_WINDOW_MS, capMovedText, decideGate, emptyGate, inWindow, nextFreeAt, type ContactGateState, type GateRequest } from '../../../src/domain/contactCaps';

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

describe('rolling 24-hour cap', () => {
  test('three attempts pass, the fourth is refused until 24 hours after the first', () => {
    const { s, answers } = run(emptyGate(), [[reserve('a', 1), T0], [reserve('a', 2), T0 + 2 * H], [reserve('b', 1), T0 + 5 * H], [reserve('c', 1), T0 + 7 * H]]);
    expect(answers.map((a) => a.kind)).toEqual(['allowed', 'allowed', 'allowed', 'refused']);
    expect(answers[3]).toEqual({ kind: 'refused', used: 3, cap: 3, freeAt: new Date(T0 + CAP_WINDOW_MS).toISOString() });
    expect(s.reservations).toHaveLength(3);
    // At the time it frees up, the same attempt is allowed.
    const later = decideGate(s, reserve('c', 1), T0 + CAP_WINDOW_MS);
    expect(later.answer).toEqual({ kind: 'allowed', used: 3, cap: 3 });
    // The old reservation leaves the state.
    expect(later.state.reservations.map((r) => r.key)).toEqual(['a:2', 'b:1', 'c:1']);
  });

  test('the window is (now − 24 h, now]: exactly 24 hours old no longer counts, a millisecond younger does', () => {
    const s = run(emptyGate(), [[reserve('a', 1, 1), T0]]).s;
    expect(decideGate(s, reserve('b', 1, 1), T0 + CAP_WINDOW_MS - 1).answer.kind).toBe('refused');
    expect(decideGate(s, reserve('b', 1, 1), T0 + CAP_WINDOW_MS).answer.kind).toBe('allowed');
    expect(inWindow(s.reservations, T0 + CAP_WINDOW_MS)).toHaveLength(0);
  });

  test('next free time with more attempts than the cap (the cap was lowered): the (k−N)th oldest plus 24 hours', () => {
    const rs = [0, 1, 2, 3, 4].map((i) => ({ key: `x:${i}`, callId: 'x', attempt: i, at: T0 + i * H }));
    expect(nextFreeAt(rs, 2, T0 + 5 * H)).toBe(T0 + 3 * H + CAP_WINDOW_MS);
    expect(nextFreeAt(rs, 6, T0 + 5 * H)).toBeUndefined();
    expect(nextFreeAt(rs, 0, T0 + 5 * H)).toBeUndefined();
  });

  test('a cap of 0 refuses with no time it frees up', () => {
    expect(decideGate(emptyGate(), reserve('a', 1, 0), T0).answer).toEqual({ kind: 'refused', used: 0, cap: 0 });
  });

  test('asking again for the same call and attempt takes no second slot, even when the cap is full', () => {
    const { s, answers } = run(emptyGate(), [[reserve('a', 1, 2), T0], [reserve('a', 1, 2), T0 + 1000], [reserve('b', 1, 2), T0 + 2000], [reserve('a', 1, 2), T0 + 3000]]);
    expect(answers.map((a) => a.kind)).toEqual(['allowed', 'allowed', 'allowed', 'allowed']);
    expect(s.reservations.map((r) => r.key)).toEqual(['a:1', 'b:1']);
    expect(s.reservations[0].at).toBe(T0);
    // A repeat changes nothing, so nothing is written again.
    expect(decideGate(s, reserve('a', 1, 2), T0 + 4000).state).toBe(s);
  });

  test('a released slot is free again; releasing twice is harmless', () => {
    const { s, answers } = run(emptyGate(), [[reserve('a', 1, 1), T0], [{ type: 'release', callId: 'a', attempt: 1 }, T0 + 1], [{ type: 'release', callId: 'a', attempt: 1 }, T0 + 2], [reserve('b', 1, 1), T0 + 3]]);
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

test('the cap move says where to and why, in the contact\'s time zone', () => {
  expect(capMovedText(Date.parse('2026-11-28T15:10:00Z'), 'America/Chicago', 3)).toBe('moved to 09:10 America/Chicago on Sat 2026-11-28 (24-hour cap: 3 attempts)');
  expect(capMovedText(Date.parse('2026-11-28T15:10:00Z'), 'UTC', 1)).toBe('moved to 15:10 UTC on Sat 2026-11-28 (24-hour cap: 1 attempt)');
});

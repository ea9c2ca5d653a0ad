// The follow-up plan as pure transitions: every rule of the two-hour retries and of the manual
// commands, without Temporal.
import type { FollowUpLink } from '../../../src/domain/events';
import { loadConfig } from '../../../src/config';
import {
  type FollowUpPlan,
  type PlanOptions,
  describePlan,
  isAnswered,
  isPlacementDue,
  isSettled,
  nextAttemptNumber,
  nextWakeAt,
  resolveScheduleTime,
  startPlan,
} from '../../../src/domain/followUpPlan';
import { applyCommand } from '../../../src/domain/followUpCommands';
import { applyPlacement, beginPlacing, expireWait } from '../../../src/domain/followUpPlacement';
import { followUpLinkOf, followUpMetadata, withFollowUpLink } from '../../../src/domain/followUpLink';
import { renderThankYou, spokenDuration, thankYouMessageId } from '../../../src/domain/thankYou';

const H = 3_600_000;
const T0 = Date.parse('2025-01-15T10:30:00.000Z');
const opts: PlanOptions = { delayMs: 2 * H, maxAttempts: 3, resultWaitMs: 24 * H };
const ctx = (now: number, callEnded = true) => ({ now, opts, callEnded });
const result = (attempt: number, answered: boolean, callId = `fu_${attempt}`) =>
  ({
    type: 'result',
    attempt,
    callId,
    answered,
    status: answered ? 'completed' : 'failed',
    outcome: answered ? 'completed' : 'no-answer',
  }) as const;

/** Places the current attempt at `now` and returns the plan waiting for its result. */
function place(plan: FollowUpPlan, now: number, callId = `fu_${plan.attempt}`): FollowUpPlan {
  return applyPlacement(
    beginPlacing(plan, now),
    { kind: 'placed', callId, provider: 'retell', placedAt: new Date(now).toISOString() },
    now,
    opts,
  );
}

test('the configured default is a two-hour delay and three attempts', () => {
  const c = loadConfig({});
  expect(c.workflow.followUpDelayMs).toBe(2 * H);
  expect(c.workflow.followUpMaxAttempts).toBe(3);
  expect(c.workflow.followUpResultWaitMs).toBe(24 * H);
});

describe('automatic retries', () => {
  test('a no-answer call schedules attempt 1 of 3 two hours later', () => {
    const p = startPlan('no-answer', opts, T0);
    expect(p).toMatchObject({ status: 'scheduled', attempt: 1, maxAttempts: 3, nextFollowUpAt: '2025-01-15T12:30:00.000Z' });
    expect(nextWakeAt(p)).toBe(T0 + 2 * H);
    expect(isPlacementDue(p, T0 + 2 * H - 1)).toBe(false);
    expect(isPlacementDue(p, T0 + 2 * H)).toBe(true);
    expect(isSettled(p, T0)).toBe(false);
    expect(describePlan(p)).toBe('follow-up attempt 1 of 3 scheduled for 2025-01-15T12:30:00.000Z');
  });

  test('each unanswered attempt schedules the next after the same delay, until the maximum', () => {
    let p = startPlan('no-answer', opts, T0);
    let now = T0;
    for (let n = 1; n <= 3; n++) {
      now += 2 * H;
      p = place(p, now);
      expect(p).toMatchObject({ status: 'placed', attempt: n });
      now += 60_000;
      p = applyCommand(p, result(n, false), ctx(now)).plan!;
      if (n < 3) expect(p).toMatchObject({ status: 'scheduled', attempt: n + 1, nextFollowUpAt: new Date(now + 2 * H).toISOString() });
    }
    expect(p.status).toBe('exhausted');
    expect(p.reason).toBe('all 3 follow-up attempts went unanswered');
    expect(p.attempts.map((a) => a.status)).toEqual(['unanswered', 'unanswered', 'unanswered']);
    expect(p.attempts.map((a) => a.callId)).toEqual(['fu_1', 'fu_2', 'fu_3']);
    expect(isSettled(p, now)).toBe(true);
  });

  test('an answered follow-up stops the retries', () => {
    let p = place(startPlan('no-answer', opts, T0), T0 + 2 * H);
    p = applyCommand(p, result(1, true), ctx(T0 + 2 * H + 5 * 60_000)).plan!;
    expect(p).toMatchObject({ status: 'answered', attempt: 1 });
    expect(p.nextFollowUpAt).toBeUndefined();
    expect(nextWakeAt(p)).toBeUndefined();
    expect(isSettled(p, T0)).toBe(true);
  });

  test('a duplicate or stale result changes nothing', () => {
    let p = place(startPlan('no-answer', opts, T0), T0 + 2 * H);
    p = applyCommand(p, result(1, false), ctx(T0 + 3 * H)).plan!;
    const again = applyCommand(p, result(1, false), ctx(T0 + 3 * H));
    expect(again.applied).toBe(false);
    expect(again.plan).toBe(p);
    const unknown = applyCommand(p, result(7, true), ctx(T0 + 3 * H));
    expect(unknown.applied).toBe(false);
    expect(p.status).toBe('scheduled');
  });

  test('zero attempts configured: nothing is scheduled and the plan says why', () => {
    const p = startPlan('no-answer', { ...opts, maxAttempts: 0 }, T0);
    expect(p.status).toBe('exhausted');
    expect(p.reason).toMatch(/FOLLOW_UP_MAX_ATTEMPTS=0/);
  });

  test('a placed call with no result by the deadline is handed to a person', () => {
    const p = place(startPlan('no-answer', opts, T0), T0 + 2 * H);
    expect(expireWait(p, T0 + 2 * H + 23 * H)).toBe(p);
    const e = expireWait(p, T0 + 2 * H + 24 * H);
    expect(e.status).toBe('due');
    expect(e.reason).toMatch(/no result arrived for follow-up call fu_1/);
    expect(e.attempts[0].status).toBe('no-result');
    expect(isSettled(e, T0 + 26 * H)).toBe(true);
    // The next try of that contact is a new attempt: the first one did reach the platform.
    expect(nextAttemptNumber(e)).toBe(2);
  });

  test('without a dialer the attempt is due, and retryNow tries the same attempt again', () => {
    let p = applyPlacement(
      beginPlacing(startPlan('no-answer', opts, T0), T0 + 2 * H),
      { kind: 'due', reason: 'no outbound dialer' },
      T0 + 2 * H,
      opts,
    );
    expect(p).toMatchObject({ status: 'due', attempt: 1, reason: 'no outbound dialer' });
    expect(isSettled(p, T0 + 3 * H)).toBe(false);
    expect(isSettled(p, T0 + 26 * H)).toBe(true);
    const r = applyCommand(p, { type: 'retryNow', by: 'ops' }, ctx(T0 + 4 * H));
    expect(r.applied).toBe(true);
    p = r.plan!;
    expect(p).toMatchObject({ status: 'scheduled', attempt: 1, nextFollowUpAt: new Date(T0 + 4 * H).toISOString() });
  });

  test('an attempt that may have reached the platform is never reused', () => {
    const p = applyPlacement(
      beginPlacing(startPlan('no-answer', opts, T0), T0 + 2 * H),
      { kind: 'due', reason: 'no answer from retell', uncertain: true },
      T0 + 2 * H,
      opts,
    );
    expect(p.attempts[0].uncertain).toBe(true);
    const r = applyCommand(p, { type: 'retryNow' }, ctx(T0 + 3 * H));
    expect(r.plan).toMatchObject({ status: 'scheduled', attempt: 2 });
  });
});

describe('manual commands', () => {
  const scheduled = () => startPlan('no-answer', opts, T0);

  test('retryNow skips the wait', () => {
    const r = applyCommand(scheduled(), { type: 'retryNow', by: 'alice' }, ctx(T0 + 10 * 60_000));
    expect(r.applied).toBe(true);
    expect(r.plan).toMatchObject({ status: 'scheduled', attempt: 1, nextFollowUpAt: new Date(T0 + 10 * 60_000).toISOString() });
    expect(isPlacementDue(r.plan, T0 + 10 * 60_000)).toBe(true);
    expect(r.plan!.history.at(-1)).toMatchObject({ event: 'retry now', by: 'alice', attempt: 1 });
  });

  test('retryNow on an ended call without a plan starts one; on a running call it is refused', () => {
    expect(applyCommand(undefined, { type: 'retryNow' }, ctx(T0)).plan).toMatchObject({ status: 'scheduled', attempt: 1, maxAttempts: 3 });
    const r = applyCommand(undefined, { type: 'retryNow' }, ctx(T0, false));
    expect(r).toMatchObject({ applied: false, note: 'the call has not ended yet' });
  });

  test('retryNow while a follow-up call is in progress is refused with the reason', () => {
    const p = place(scheduled(), T0 + 2 * H);
    const r = applyCommand(p, { type: 'retryNow' }, ctx(T0 + 2 * H + 1000));
    expect(r.applied).toBe(false);
    expect(r.note).toBe('attempt 1 is in progress (call fu_1); nothing to retry yet');
    expect(r.plan).toBe(p);
  });

  test('cancelFollowUp stops a scheduled follow-up with its reason', () => {
    const r = applyCommand(scheduled(), { type: 'cancel', reason: 'customer asked not to be called', by: 'bob' }, ctx(T0 + H));
    expect(r.plan).toMatchObject({ status: 'canceled', reason: 'customer asked not to be called' });
    expect(r.plan!.nextFollowUpAt).toBeUndefined();
    expect(r.plan!.attempts[0]).toMatchObject({ status: 'canceled', reason: 'customer asked not to be called' });
    expect(isSettled(r.plan, T0 + H)).toBe(true);
    expect(applyCommand(r.plan, { type: 'cancel', reason: 'again' }, ctx(T0 + H)).applied).toBe(false);
  });

  test('a canceled plan still records the result of a call already placed, without retrying', () => {
    let p = place(scheduled(), T0 + 2 * H);
    p = applyCommand(p, { type: 'cancel', reason: 'enough' }, ctx(T0 + 2 * H + 1)).plan!;
    p = applyCommand(p, result(1, false), ctx(T0 + 2 * H + 2)).plan!;
    expect(p.status).toBe('canceled');
    expect(p.attempts[0].status).toBe('unanswered');
  });

  test('scheduleFollowUp moves the attempt to the given time, and refuses a non-date', () => {
    const at = '2025-01-16T09:00:00.000Z';
    const r = applyCommand(scheduled(), { type: 'schedule', at, by: 'carol' }, ctx(T0));
    expect(r.plan).toMatchObject({ status: 'scheduled', attempt: 1, nextFollowUpAt: at });
    const bad = applyCommand(scheduled(), { type: 'schedule', at: 'tomorrow-ish' }, ctx(T0));
    expect(bad.applied).toBe(false);
    expect(bad.note).toMatch(/not a date/);
  });

  test('scheduleFollowUp after the attempts ran out adds one more attempt', () => {
    let p = startPlan('no-answer', { ...opts, maxAttempts: 1 }, T0);
    p = place(p, T0 + 2 * H);
    p = applyCommand(p, result(1, false), ctx(T0 + 3 * H)).plan!;
    expect(p.status).toBe('exhausted');
    const r = applyCommand(p, { type: 'schedule', at: new Date(T0 + 5 * H).toISOString() }, ctx(T0 + 4 * H));
    expect(r.plan).toMatchObject({ status: 'scheduled', attempt: 2, maxAttempts: 2 });
  });

  test('a time in the past means now', () => {
    const r = applyCommand(scheduled(), { type: 'schedule', at: '2000-01-01T00:00:00Z' }, ctx(T0));
    expect(r.plan!.nextFollowUpAt).toBe(new Date(T0).toISOString());
  });

  test('schedule inputs: ISO, a delay, or a bare string', () => {
    expect(resolveScheduleTime({ at: '2025-01-16T09:00:00Z' }, T0)).toBe('2025-01-16T09:00:00Z');
    expect(resolveScheduleTime({ in: '30m' }, T0)).toBe(new Date(T0 + 30 * 60_000).toISOString());
    expect(resolveScheduleTime('2h', T0)).toBe(new Date(T0 + 2 * H).toISOString());
    expect(resolveScheduleTime(undefined, T0)).toBe('(no time given)');
    expect(resolveScheduleTime('1.5h', T0)).toBe(new Date(T0 + 5_400_000).toISOString());
    expect(resolveScheduleTime('soon', T0)).toBe('soon');
    expect(resolveScheduleTime('90', T0)).toBe('90');
  });

  test('every change raises the revision and is in the history', () => {
    const p0 = scheduled();
    const p1 = applyCommand(p0, { type: 'retryNow' }, ctx(T0 + 1)).plan!;
    const p2 = beginPlacing(p1, T0 + 2);
    expect(p1.rev).toBeGreaterThan(p0.rev);
    expect(p2.rev).toBeGreaterThan(p1.rev);
    expect(p2.history.map((h) => h.event)).toEqual(['scheduled', 'retry now', 'placing']);
  });
});

describe('linking a follow-up call to its original', () => {
  test('the metadata our dialer sets links the call back', () => {
    const meta = followUpMetadata('call_orig', 2, 'contact_1');
    expect(meta).toEqual({ originalCallId: 'call_orig', followUpOf: 'call_orig', followUpAttempt: 2, contactId: 'contact_1' });
    expect(followUpLinkOf({ metadata: meta })).toEqual({ originalCallId: 'call_orig', attempt: 2 });
  });

  test('platforms that turn numbers into strings, or keep only one key, still link', () => {
    expect(followUpLinkOf({ metadata: { followUpOf: 'c1', followUpAttempt: '3' } })).toEqual({ originalCallId: 'c1', attempt: 3 });
    expect(followUpLinkOf({ metadata: { followUpOf: { originalCallId: 'c1', attempt: 1 } } })).toEqual({
      originalCallId: 'c1',
      attempt: 1,
    });
    expect(
      followUpLinkOf({ followUpOf: { originalCallId: 'c9', attempt: 1 }, metadata: { originalCallId: 'c1', followUpAttempt: 2 } }),
    ).toEqual({ originalCallId: 'c9', attempt: 1 });
  });

  test('no link without both an original call and a valid attempt, nor to itself', () => {
    expect(followUpLinkOf({ metadata: { originalCallId: 'c1' } })).toBeUndefined();
    expect(followUpLinkOf({ metadata: { originalCallId: 'c1', followUpAttempt: 0 } })).toBeUndefined();
    expect(followUpLinkOf({ metadata: { originalCallId: '', followUpAttempt: 1 } })).toBeUndefined();
    expect(followUpLinkOf({ callId: 'c1', metadata: { originalCallId: 'c1', followUpAttempt: 1 } })).toBeUndefined();
    expect(followUpLinkOf({})).toBeUndefined();
  });

  test('withFollowUpLink fills the field at the lowest precedence', () => {
    const owners: Record<string, string | undefined> = {};
    const s = withFollowUpLink({
      callId: 'fu',
      followUpOf: undefined as FollowUpLink | undefined,
      metadata: { originalCallId: 'c1', followUpAttempt: 1 },
      owners,
    });
    expect(s.followUpOf).toEqual({ originalCallId: 'c1', attempt: 1 });
    expect(s.owners.followUpOf).toBe('');
  });

  test('answered means completed with someone on the line', () => {
    expect(isAnswered({ status: 'completed', outcome: 'completed' })).toBe(true);
    expect(isAnswered({ status: 'completed', outcome: 'voicemail' })).toBe(false);
    expect(isAnswered({ status: 'failed', outcome: 'no-answer' })).toBe(false);
  });
});

describe('the thank-you email template', () => {
  test('uses the contact, the agent and the call, in text and HTML', () => {
    const e = renderThankYou({
      callId: 'call_1',
      contactName: 'Ada Lovelace',
      agentName: 'Sam',
      callDate: '2025-01-15T10:30:00.000Z',
      durationSec: 185,
      timezone: 'America/New_York',
      senderName: 'Acme',
    });
    expect(e.subject).toBe('Thank you for speaking with Sam');
    expect(e.text).toContain('Hi Ada Lovelace,');
    expect(e.text).toContain('Thank you for taking the time to talk with Sam on January 15, 2025 at 5:30 AM EST (3 minutes 5 seconds).');
    expect(e.text).toContain('Reference: call call_1');
    expect(e.html).toContain('<p>Hi Ada Lovelace,</p>');
    expect(e.html).toContain('Acme');
  });

  test('escapes names in HTML and copes with missing data', () => {
    const e = renderThankYou({ callId: 'c', contactName: '<b>Eve</b> & co' });
    expect(e.html).toContain('&lt;b&gt;Eve&lt;/b&gt; &amp; co');
    expect(e.html).not.toContain('<b>Eve</b>');
    expect(e.subject).toBe('Thank you for your call');
    expect(renderThankYou({ callId: 'c' }).text).toContain('Hello,');
  });

  test('deterministic Message-ID, safe for any id', () => {
    expect(thankYouMessageId('org_1', 'call_abc')).toBe('<thank-you.org_1.call_abc@calls-api>');
    expect(thankYouMessageId('org_1', 'a b@c')).toBe('<thank-you.org_1.a=20b=40c@calls-api>');
    expect(spokenDuration(60)).toBe('1 minute');
    expect(spokenDuration(1)).toBe('1 second');
  });
});

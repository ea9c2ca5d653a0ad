// Spending guards: the hard cap on attempts that manual retries cannot raise, and the countries a
// follow-up may dial.
import { loadConfig } from '../../../src/config';
import { type FollowUpPlan, type PlanOptions, startPlan } from '../../../src/domain/followUpPlan';
import { applyCommand } from '../../../src/domain/followUpCommands';
import { applyPlacement, beginPlacing } from '../../../src/domain/followUpPlacement';
import {
  DEFAULT_DAILY_DIAL_BUDGET,
  DEFAULT_FOLLOW_UP_HARD_CAP,
  allowedCallingCodes,
  budgetRefusal,
  callingCodeOf,
  dialRefusal,
  parseCallingCode,
} from '../../../src/domain/spending';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);

function placeAndMiss(plan: FollowUpPlan, now: number, opts: PlanOptions): FollowUpPlan {
  const placed = applyPlacement(
    beginPlacing(plan, now),
    { kind: 'placed', callId: `fu_${plan.attempt}`, provider: 'retell', placedAt: new Date(now).toISOString() },
    now,
    opts,
  );
  return applyCommand(
    placed,
    { type: 'result', attempt: plan.attempt, callId: `fu_${plan.attempt}`, answered: false, status: 'failed', outcome: 'no-answer' },
    { now: now + 1, opts, callEnded: true },
  ).plan!;
}

describe('hard cap on follow-up attempts', () => {
  test('the default configuration caps a call at 10 attempts', () => {
    expect(loadConfig({}).workflow.followUpHardCap).toBe(10);
    expect(DEFAULT_FOLLOW_UP_HARD_CAP).toBe(10);
  });

  test.each([undefined, 4])('retryNow cannot go past the cap (configured: %s)', (hardCap) => {
    const cap = hardCap ?? DEFAULT_FOLLOW_UP_HARD_CAP;
    const opts: PlanOptions = { delayMs: 2 * H, maxAttempts: 3, resultWaitMs: 24 * H, hardCap };
    let plan = startPlan('no-answer', opts, T0);
    let now = T0 + 2 * H;
    // Every attempt placed and unanswered; a person keeps pressing retry.
    for (let guard = 0; guard < 100; guard++) {
      plan = placeAndMiss(plan, now, opts);
      now += H;
      const r = applyCommand(plan, { type: 'retryNow', by: 'ops' }, { now, opts, callEnded: true });
      if (!r.applied) {
        expect(plan.attempt).toBe(cap);
        expect(r.note).toBe(`attempt ${cap + 1} would exceed the hard cap of ${cap} follow-up attempts per call (FOLLOW_UP_HARD_CAP)`);
        expect(applyCommand(plan, { type: 'schedule', at: new Date(now + H).toISOString() }, { now, opts, callEnded: true }).applied).toBe(
          false,
        );
        return;
      }
      plan = r.plan!;
    }
    throw new Error('retryNow was never refused');
  });

  test('a configured maximum above the cap is held to the cap', () => {
    const plan = startPlan('no-answer', { delayMs: H, maxAttempts: 20, resultWaitMs: H, hardCap: 2 }, T0);
    expect(plan.maxAttempts).toBe(2);
  });
});

describe('toll-fraud guard', () => {
  test.each([
    ['+14155551234', '1'],
    ['+18765550123', '1'],
    ['+79161234567', '7'],
    ['+442071234567', '44'],
    ['+4915112345678', '49'],
    ['+353861234567', '353'],
    ['+8801712345678', '880'],
    ['+2348031234567', '234'],
    ['+27821234567', '27'],
    ['nope', undefined],
    ['+0123', undefined],
  ])('calling code of %s is %s', (n, code) => {
    expect(callingCodeOf(n)).toBe(code);
  });

  test('by default the country of the dialer\u2019s caller id is allowed, and nothing without one', () => {
    const allowed = allowedCallingCodes(undefined, '+14155550000');
    expect(allowed).toEqual(['1']);
    expect(allowedCallingCodes(undefined, undefined)).toEqual([]);
    expect(dialRefusal('+14155551234', allowed)).toBeUndefined();
    expect(dialRefusal('+882161234567', allowed)).toBe(
      'toll-fraud guard: +882161234567 is in country calling code +882, outside the organization\u2019s allowed +1'.replace('\u2019', "'"),
    );
  });

  test('an explicit list replaces the default; unknown countries and non-E.164 numbers are refused', () => {
    const allowed = allowedCallingCodes(['1', '44'], '+4915112345678');
    expect(dialRefusal('+442071234567', allowed)).toBeUndefined();
    expect(dialRefusal('+4915112345678', allowed)).toMatch(/^toll-fraud guard/);
    expect(dialRefusal('4155551234', allowed)).toMatch(/not an international/);
    expect(dialRefusal('+14155551234', [])).toMatch(/no allowed country calling codes/);
  });

  test.each([
    ['+44', '44'],
    [' 1 ', '1'],
    ['49', '49'],
    ['1234', undefined],
    ['x', undefined],
  ])('parseCallingCode(%j) = %s', (v, c) => {
    expect(parseCallingCode(v)).toBe(c);
  });
});

test('the daily dial budget: the call that would go past it is refused, naming the day and the setting', () => {
  expect(DEFAULT_DAILY_DIAL_BUDGET).toBe(200);
  expect(budgetRefusal(200, 200, '2026-12-04')).toBeUndefined();
  expect(budgetRefusal(201, 200, '2026-12-04')).toBe(
    "daily dial budget: the organization's 200 unattended follow-up calls for 2026-12-04 (UTC) are used (calling rules: dailyDialBudget)",
  );
  expect(budgetRefusal(1, 0, '2026-12-04')).toMatch(/^daily dial budget/);
});

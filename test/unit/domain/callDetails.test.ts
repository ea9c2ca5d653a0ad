// The Temporal UI's text for a call: what the workflow waits for, and its current details.
import { callDetails, describeWait } from '../../../src/domain/callDetails';
import { type FollowUpPlan, startPlan } from '../../../src/domain/followUpPlan';
import { applyCommand } from '../../../src/domain/followUpCommands';
import { initialState, reduce } from '../../../src/domain/reducer';

const H = 3_600_000;
const T0 = Date.parse('2025-01-15T10:30:00.000Z');
const opts = { delayMs: 2 * H, maxAttempts: 3, resultWaitMs: 24 * H };
const plan: FollowUpPlan = startPlan('no-answer', opts, T0);

describe('describeWait', () => {
  test('a call still going waits for its end, an ended one for its recording', () => {
    expect(describeWait({ callDone: false, callEnded: false, now: T0 })).toBe('the call to end');
    expect(describeWait({ callDone: false, callEnded: true, now: T0 })).toBe('the recording');
  });

  test('a settled call with no plan waits for nothing', () => {
    expect(describeWait({ callDone: true, callEnded: true, now: T0 })).toBe('nothing');
  });

  test('a scheduled follow-up names its attempt and time, after the recording', () => {
    expect(describeWait({ callDone: false, callEnded: true, followUp: plan, now: T0 })).toBe(
      'the recording; follow-up attempt 1 of 3 at 2025-01-15T12:30:00.000Z',
    );
  });

  test('a canceled plan is not waited for', () => {
    const r = applyCommand(plan, { type: 'cancel', reason: 'asked us not to call' }, { now: T0, opts, callEnded: true });
    expect(r.applied).toBe(true);
    expect(describeWait({ callDone: true, callEnded: true, followUp: r.plan, now: T0 })).toBe('nothing');
  });
});

describe('callDetails', () => {
  const { state } = reduce(initialState('org1', 'call_1', 'retell'), {
    eventId: 'e1',
    callId: 'call_1',
    provider: 'retell',
    type: 'call.failed',
    providerEvent: 'call_ended',
    receivedAt: '2025-01-15T10:30:00.000Z',
    outcome: 'no-answer',
    from: '+14155550100',
    to: '+14155550111',
  });

  test('names the call, the parties, the plan in bold, the email and what it waits for', () => {
    const text = callDetails({ state, followUp: plan, email: { status: 'skipped', reason: 'no address' }, waitingFor: 'nothing' });
    const lines = text.split('\n\n');
    expect(lines[0]).toBe('**retell call call_1 failed (no-answer)**');
    expect(lines).toContain('from +14155550100 to +14155550111');
    expect(lines).toContain('**follow-up attempt 1 of 3 scheduled for 2025-01-15T12:30:00.000Z**');
    expect(lines).toContain('thank-you email: skipped (no address)');
    expect(lines[lines.length - 2]).toBe('waiting for: nothing');
    expect(lines[lines.length - 1]).toBe('events: 1');
  });

  test('shows the last command and at most three recent plan entries', () => {
    let p = plan;
    for (const at of ['2025-01-15T11:00:00.000Z', '2025-01-15T11:30:00.000Z', '2025-01-15T12:00:00.000Z']) {
      p = applyCommand(p, { type: 'schedule', at, by: 'ann' }, { now: T0, opts, callEnded: true }).plan ?? p;
    }
    const text = callDetails({ state, followUp: p, lastCommand: { type: 'schedule', applied: true, note: 'moved' }, waitingFor: 'x' });
    expect(p.history.length).toBeGreaterThan(3);
    expect(text.split('\n\n').filter((l) => l.includes(' by ann')).length).toBe(3);
    expect(text).toContain('last command: schedule applied: moved');
  });
});

// CallRun: the call's workflow run as an entity. Each decision the workflow used to take itself
// (resume, contact lookup, effects and opt-out, the email's status, window overrides, dialer
// failures, the Update's answer, polls, the wait, what is carried and published) is checked here
// without Temporal, on a clock the test moves.
import type { WorkflowSettings } from '../../../src/config';
import { dialRequest, optOutRequest } from '../../../src/domain/call';
import { CallRun, type CallRunInput } from '../../../src/domain/callRun';
import { DEFAULT_CALLING_POLICY } from '../../../src/domain/callingWindow';
import { effectsDoneOf } from '../../../src/domain/effects';
import type { CallEvent } from '../../../src/domain/events';
import { type FollowUpCommand } from '../../../src/domain/followUpPlan';
import { dialerFailed } from '../../../src/domain/followUpPlacement';
import type { FollowUpContext } from '../../../src/domain/followUpCompliance';
import { followUpMetadata } from '../../../src/domain/followUpLink';
import { type CallState, initialState } from '../../../src/domain/reducer';
import { STALE_POLL_FACTORS, unaskedAnswer } from '../../../src/domain/stale';
import { eventsAt } from '../../support/callEvents';

const T0 = Date.parse('2025-01-15T10:30:00.000Z'); // a Wednesday
const M = 60_000;
const settings: WorkflowSettings = {
  recordingWaitMs: 2 * M,
  idleTimeoutMs: 60 * M,
  staleAfterMs: 30 * M,
  activityTimeoutMs: 5_000,
  contactIdleMs: 10 * M,
  followUpDelayMs: 120 * M,
  followUpMaxAttempts: 3,
  followUpOn: ['no-answer', 'busy'],
  followUpResultWaitMs: 24 * 60 * M,
  followUpDialMaxTries: 5,
  emailMaxTries: 4,
  maxHistoryEvents: 5_000,
};

const ev = eventsAt(T0);

/** A run on a clock the test sets; `input` overrides the defaults. */
function newRun(input: Partial<CallRunInput> = {}) {
  const clock = { now: T0 };
  const run = new CallRun({ orgId: 'org1', callId: 'call_1', provider: 'vapi', settings, ...input }, () => clock.now);
  return { run, clock };
}

/** Applies events the way the loop does: apply, the contact lookup answered with `contactId`, the change. */
function feed(run: CallRun, events: CallEvent[], contactId: string | null = null) {
  for (const e of events) run.receive(e);
  const r = run.apply();
  if (r.changed) {
    if (run.contactToResolve()) run.onContactResolved(contactId);
    run.afterChange();
  }
  return r;
}

const noAnswer = (extra: Partial<CallEvent> = {}) => ev('call.failed', { outcome: 'no-answer', to: '+15551230000', ...extra });
const completed = (extra: Partial<CallEvent> = {}) => ev('call.completed', { outcome: 'completed', to: '+15551230000', ...extra });

describe('resume and events', () => {
  test('a new run resumes from the stored call and what its effects were run for', () => {
    const { run } = newRun();
    const stored: CallState = { ...initialState('org1', 'call_1', 'vapi'), status: 'completed', outcome: 'completed' };
    run.resume({ state: stored, effectsDone: effectsDoneOf(stored) });
    expect(run.state).toBe(stored);
    expect(run.hasWork()).toBe(false); // the effects ran for this end already
    run.resume(null);
    expect(run.state).toBe(stored);
  });

  test('events that arrived together are applied at once; duplicates are named and change nothing', () => {
    const { run } = newRun();
    const first = ev('call.initiated');
    expect(feed(run, [first, ev('call.answered')]).changed).toBe(true);
    const again = feed(run, [{ ...first }]);
    expect(again).toEqual({ changed: false, duplicates: [first.eventId] });
  });

  test('the contact is looked up once per contact id, by number when the call has no id, and attached at the lowest precedence', () => {
    const { run } = newRun();
    run.receive(ev('call.initiated', { to: '+15551230000' }));
    run.apply();
    expect(run.contactToResolve()).toEqual({ contactId: undefined, phone: '+15551230000' });
    run.onContactResolved('contact_9');
    expect(run.state.contactId).toBe('contact_9');
    expect(run.contactToResolve()).toBeUndefined();
    // An event's own contact id still wins over the looked-up one, and is looked up once.
    feed(run, [ev('call.answered', { contactId: 'contact_own' })], 'contact_own');
    expect(run.state.contactId).toBe('contact_own');
    expect(run.contactToResolve()).toBeUndefined();
  });

  test('a call with neither a contact id nor a number is not looked up', () => {
    const { run } = newRun();
    run.receive(ev('call.initiated'));
    run.apply();
    expect(run.contactToResolve()).toBeUndefined();
  });

  test('a change makes the follow-up link explicit and resets the polls', () => {
    const { run } = newRun();
    run.onPoll({ kind: 'ongoing', platformStatus: 'in-progress' });
    expect(run.staleWatch.polls).toBe(1);
    feed(run, [ev('call.initiated', { metadata: followUpMetadata('call_0', 2) })]);
    expect(run.state.followUpOf).toEqual({ originalCallId: 'call_0', attempt: 2 });
    expect(run.staleWatch.polls).toBe(0);
  });
});

describe('effects', () => {
  test('a completed call owes metrics, the contact count and the thank-you email, once', () => {
    const { run } = newRun();
    feed(run, [completed()], 'contact_1');
    const effects = run.effectsOwed();
    expect(effects).toEqual(['recordMetrics', 'countContact', 'sendThankYou']);
    expect(run.onEffectsRun(effects)).toBe(true);
    expect(run.effectsOwed()).toEqual([]);
    expect(run.hasWork()).toBe(false);
  });

  test('a change that owes nothing is remembered but not written to the record', () => {
    const { run } = newRun();
    feed(run, [ev('call.answered')]);
    expect(run.effectsOwed()).toEqual([]);
    expect(run.onEffectsRun([])).toBe(false);
    expect(run.effectsDone.status).toBe('answered');
  });

  test('the opt-out check runs when the analysis data arrives or changes, even after the end', () => {
    const { run } = newRun();
    feed(run, [noAnswer()]);
    run.onEffectsRun(run.effectsOwed());
    feed(run, [ev('call.updated', { analysis: { data: { optOut: true } } })]);
    expect(run.effectsOwed()).toEqual(['applyOptOut']);
    expect(optOutRequest(run.state)).toEqual({
      orgId: 'org1',
      callId: 'call_1',
      contactId: undefined,
      phone: '+15551230000',
      data: { optOut: true },
    });
    run.onEffectsRun(['applyOptOut']);
    expect(run.effectsOwed()).toEqual([]);
    feed(run, [ev('call.updated', { analysis: { data: { optOut: false } } })]);
    expect(run.effectsOwed()).toEqual(['applyOptOut']);
  });

  test('an unanswered call owes a follow-up plan on the configured outcomes only', () => {
    const busy = newRun();
    feed(busy.run, [ev('call.failed', { outcome: 'busy' })]);
    expect(busy.run.effectsOwed()).toEqual(['recordMetrics', 'scheduleFollowUp']);
    const onlyNoAnswer = newRun({ settings: { ...settings, followUpOn: ['no-answer'] } });
    feed(onlyNoAnswer.run, [ev('call.failed', { outcome: 'busy' })]);
    expect(onlyNoAnswer.run.effectsOwed()).toEqual(['recordMetrics']);
  });

  test('a completed call is counted on its contact, and not without one', () => {
    const { run } = newRun();
    feed(run, [completed()]);
    expect(run.countedCall()).toBeUndefined();
    const withContact = newRun();
    feed(withContact.run, [completed()], 'contact_1');
    expect(withContact.run.countedCall()).toMatchObject({
      orgId: 'org1',
      contactId: 'contact_1',
      settings: { activityTimeoutMs: 5_000, idleCloseMs: 10 * M, maxHistoryEvents: 5_000 },
      call: { callId: 'call_1' },
    });
  });

  test('a late completion cancels the scheduled plan before any other command', () => {
    const { run } = newRun();
    feed(run, [noAnswer()]);
    run.setPlan(run.newPlan()!);
    run.onEffectsRun(run.effectsOwed());
    run.queue({ type: 'retryNow', by: 'ops' });
    feed(run, [completed()]);
    run.onEffectsRun(run.effectsOwed());
    expect(run.nextCommand()).toEqual({ type: 'cancel', reason: 'the call completed after all', by: 'workflow' });
    expect(run.nextCommand().type).toBe('retryNow');
  });
});

describe('the thank-you email', () => {
  test('is started once per run', () => {
    const { run } = newRun();
    expect(run.startEmail()).toBe(true);
    expect(run.email).toEqual({ status: 'sending' });
    expect(run.startEmail()).toBe(false);
  });

  test('no address or no mailer is a skip, not a failure: nothing goes on the record', () => {
    for (const type of ['NoEmailAddress', 'NoMailer']) {
      const { run } = newRun();
      run.startEmail();
      expect(run.onEmailFailed({ type, message: 'the contact has no email address' })).toBeUndefined();
      expect(run.email).toEqual({ status: 'skipped', reason: 'the contact has no email address' });
    }
  });

  test('a mailer that kept failing is a failure with the tries, for the call record', () => {
    const { run } = newRun();
    run.startEmail();
    const reason = run.onEmailFailed({ type: 'SmtpError', message: 'connection refused' });
    expect(reason).toBe('gave up after 4 tries: connection refused');
    expect(run.email).toEqual({ status: 'failed', reason });
    expect(run.onEmailFailed({ message: 'no type at all' })).toBe('gave up after 4 tries: no type at all');
  });
});

describe('the follow-up plan', () => {
  /** A calling window of 12:00-13:00 UTC: the planned 12:30 is inside, a retry at 10:30 is not. */
  const rules: FollowUpContext = {
    zones: ['UTC'],
    zoneSource: 'organization',
    regions: [],
    policy: { ...DEFAULT_CALLING_POLICY, start: '12:00', end: '13:00', regions: [] },
  };
  const planned = () => {
    const r = newRun();
    feed(r.run, [noAnswer()], 'contact_1');
    r.run.setPlan(r.run.newPlan()!);
    return r;
  };

  test('a follow-up call plans nothing of its own; a call with a plan starts no second', () => {
    const { run } = newRun();
    feed(run, [noAnswer({ metadata: followUpMetadata('call_0', 1) })]);
    expect(run.followsUp()).toEqual({ original: 'call_0', attempt: 1 });
    const p = planned();
    expect(p.run.followsUp()).toBeUndefined();
    expect(p.run.newPlan()).toBeUndefined();
  });

  test('a call whose contact has a plan running joins it', () => {
    const { run } = newRun();
    feed(run, [noAnswer()]);
    const own = run.newPlan()!;
    expect(run.planOrJoin(own, undefined)).toBe(own);
    expect(run.planOrJoin(own, 'call_owner')).toMatchObject({ status: 'joined', joinedPlanOf: { callId: 'call_owner' } });
  });

  test("a person's retryNow may override the calling window; without the override the window moves it", () => {
    const { run } = planned();
    const retry = (overrideWindow: boolean): FollowUpCommand => ({ type: 'retryNow', by: 'ops', reason: 'asked', overrideWindow });
    const withOverride = run.command(retry(true));
    expect(withOverride.applied).toBe(true);
    const kept = run.withRules(withOverride.plan!, rules, retry(true));
    expect(kept.nextFollowUpAt).toBe(new Date(T0).toISOString());
    const moved = run.withRules(run.command(retry(false)).plan!, rules, retry(false));
    expect(moved.nextFollowUpAt).toBe('2025-01-15T12:00:00.000Z');
    // The workflow's own plan never overrides the window.
    expect(run.withRules(withOverride.plan!, rules).nextFollowUpAt).toBe('2025-01-15T12:00:00.000Z');
    expect(run.rulesApply(kept)).toBe(true);
  });

  test('a dialer that failed on every try leaves the attempt due for a person, saying why', () => {
    const { run, clock } = planned();
    clock.now = T0 + 120 * M;
    expect(run.placementDue()).toBe(true);
    run.setPlan(run.beginPlacing());
    expect(dialRequest(run.state, run.followUp!, clock.now)).toMatchObject({ originalCallId: 'call_1', attempt: 1, to: '+15551230000' });
    const after = run.afterPlacement(dialerFailed('503 from the platform', settings.followUpDialMaxTries));
    expect(after.status).toBe('due');
    expect(after.reason).toBe('the dialer failed after 5 tries (503 from the platform); call by hand or send retryNow');
    expect(run.rulesApply(after)).toBe(false);
  });

  test("an Update's command is refused when it would do nothing, else answered with what the loop did", () => {
    const fresh = newRun();
    expect(() => fresh.run.validate({ type: 'cancel', reason: 'no plan yet' })).toThrow();
    const { run } = planned();
    const cmd = run.request({ type: 'cancel', reason: 'asked not to be called', by: 'ops' });
    expect(run.hasAnswer(cmd)).toBe(false);
    expect(run.nextCommand()).toBe(cmd);
    const r = run.command(cmd);
    run.setPlan(r.plan!);
    run.onCommandResult(cmd, r);
    expect(run.hasAnswer(cmd)).toBe(true);
    expect(run.answerTo(cmd)).toEqual({ applied: true, note: r.note, summary: expect.stringContaining('canceled') });
    expect(run.hasAnswer(cmd)).toBe(false);
    expect(run.view().lastCommand).toMatchObject({ type: 'cancel', applied: true });
  });

  test('a wait for a result that ran out expires the plan once', () => {
    const { run, clock } = planned();
    clock.now = T0 + 120 * M;
    run.setPlan(run.beginPlacing());
    run.setPlan(run.afterPlacement({ kind: 'placed', callId: 'call_2', provider: 'vapi', placedAt: new Date(clock.now).toISOString() }));
    expect(run.expiredPlan()).toBeUndefined();
    clock.now += settings.followUpResultWaitMs;
    const expired = run.expiredPlan()!;
    expect(expired.status).not.toBe('placed');
    run.setPlan(expired);
    expect(run.expiredPlan()).toBeUndefined();
  });

  test('a follow-up call reports its end to the original once', () => {
    const { run } = newRun();
    feed(run, [noAnswer({ metadata: followUpMetadata('call_0', 1) })]);
    expect(run.reportOwed()).toMatchObject({ originalCallId: 'call_0', result: { attempt: 1, answered: false } });
    expect(run.reportOwed()).toBeUndefined();
  });
});

describe('a call with no end', () => {
  test('the platform is asked after CALL_STALE_AFTER; an unsettled last answer marks the call stale', () => {
    const { run, clock } = newRun();
    feed(run, [ev('call.answered')]);
    expect(run.pollAt()).toBe(T0 + 30 * M);
    for (let i = 0; i < STALE_POLL_FACTORS.length - 1; i++) {
      expect(run.onPoll(unaskedAnswer('vapi', 'timed out')).stale).toBeUndefined();
    }
    clock.now = T0 + 5 * 60 * M;
    const d = run.onPoll({ kind: 'ongoing', platformStatus: 'in-progress' });
    expect(d.stale?.reason).toContain('at the last of 4 polls');
    expect(run.state.stale).toBe(d.stale);
    expect(run.pollAt()).toBeUndefined();
  });

  test("an 'ended' answer becomes events for the loop, like a webhook's", () => {
    const { run } = newRun();
    feed(run, [ev('call.answered')]);
    const end = ev('call.completed', { outcome: 'completed' });
    run.onPoll({ kind: 'ended', platformStatus: 'ended', events: [end] });
    expect(run.hasMessages()).toBe(true);
    feed(run, []);
    expect(run.state.status).toBe('completed');
  });
});

describe('the wait, the end of the run, and what it carries', () => {
  test('an open call waits for its next event until the idle timeout, with the poll first', () => {
    const { run } = newRun();
    feed(run, [ev('call.answered')]);
    const wait = run.nextWait(run.pollAt());
    expect(wait).toEqual({ done: false, why: undefined, timeoutMs: 30 * M });
    expect(run.view().waitingFor).toBe(`the call to end (its platform is asked at ${new Date(T0 + 30 * M).toISOString()} if none comes)`);
  });

  test('an ended call with its recording and no plan is done; queued messages keep it running', () => {
    const { run } = newRun();
    feed(run, [completed(), ev('call.recording_ready', { recordingUrl: 'https://r/1.wav' })]);
    expect(run.nextWait(run.pollAt())).toEqual({ done: true, why: undefined });
    run.queue({ type: 'retryNow' });
    expect(run.nextWait(run.pollAt()).done).toBe(false);
  });

  test('a recording that never came is given up on after RECORDING_WAIT, saying so', () => {
    const { run, clock } = newRun();
    feed(run, [completed()]);
    expect(run.nextWait(undefined)).toMatchObject({ done: false, timeoutMs: 2 * M });
    clock.now = T0 + 2 * M;
    expect(run.nextWait(undefined)).toEqual({ done: true, why: 'recording did not arrive in time' });
  });

  test('continue-as-new at the history limit or when the server suggests it, carrying everything a new run needs', () => {
    const { run } = withPlanAndEmail();
    expect(run.shouldContinueAsNew({ historyLength: 5_000, continueAsNewSuggested: false })).toBe(false);
    expect(run.shouldContinueAsNew({ historyLength: 5_001, continueAsNewSuggested: false })).toBe(true);
    expect(run.shouldContinueAsNew({ historyLength: 10, continueAsNewSuggested: true })).toBe(true);
    run.receive(ev('call.updated'));
    run.queue({ type: 'retryNow' });
    const carried = run.toCarried({ owner: true, endReported: false });
    expect(Object.keys(carried).sort()).toEqual(
      ['commands', 'effectsDone', 'email', 'followUp', 'gateRole', 'pending', 'reportedResult', 'staleWatch', 'state'].sort(),
    );
    const next = newRun({ carried }).run;
    expect(next.view()).toEqual({ ...run.view(), waitingFor: 'the first event', lastCommand: undefined });
    expect(next.toCarried({ owner: true, endReported: false })).toEqual(carried);
  });

  test('details are published only when they changed (each upsert is a history event)', () => {
    const { run } = newRun();
    feed(run, [noAnswer()], 'contact_1');
    const first = run.details()!;
    expect(first).toMatchObject({ status: 'failed', outcome: 'no-answer', contactId: 'contact_1', stale: null, followUpAttempt: null });
    expect(run.details()).toBeUndefined();
    run.setPlan(run.newPlan()!);
    expect(run.details()).toMatchObject({ nextFollowUpAt: new Date(T0 + 120 * M), followUpAttempt: 1 });
    run.close();
    expect(run.details()?.text).toContain('waiting for: nothing (closed)');
  });

  function withPlanAndEmail() {
    const r = newRun();
    feed(r.run, [noAnswer()], 'contact_1');
    r.run.setPlan(r.run.newPlan()!);
    r.run.startEmail();
    return r;
  }
});

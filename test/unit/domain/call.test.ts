// The call entity: the pure decisions the call workflow runs (events applied together, effects
// owed, when the call needs nothing more, what a follow-up call reports, people's commands).
import {
  applyEvents,
  callDeadline,
  cancelCommand,
  cancelOnLateCompletion,
  clockAfterChange,
  commandOf,
  countedCallOf,
  effectsOwed,
  isCallDone,
  publicState,
  resultReport,
  retryNowCommand,
  scheduleCommand,
  settleIfDue,
  startClock,
} from '../../../src/domain/call';
import { NO_EFFECTS_DONE, effectsDoneOf } from '../../../src/domain/effects';
import type { CallEvent } from '../../../src/domain/events';
import { startPlan } from '../../../src/domain/followUpPlan';
import { followUpMetadata } from '../../../src/domain/followUpLink';
import { type CallState, initialState } from '../../../src/domain/reducer';
import { eventsAt } from '../../support/callEvents';

const T0 = Date.parse('2025-01-15T10:30:00.000Z');
const M = 60_000;
const patience = { recordingWaitMs: 10 * M, idleTimeoutMs: 24 * 60 * M };
const ev = eventsAt(T0);
const fresh = (): CallState => initialState('org1', 'call_1', 'vapi');

describe('applyEvents', () => {
  test('applies events in order and names the duplicates, which change nothing', () => {
    const started = ev('call.initiated');
    const { state, duplicates } = applyEvents(fresh(), [started, ev('call.answered'), { ...started }]);
    expect(state.status).toBe('answered');
    expect(state.eventCount).toBe(2);
    expect(duplicates).toEqual([started.eventId]);
  });

  test('nothing new leaves the very same state, so the workflow saves nothing', () => {
    const s = applyEvents(fresh(), [ev('call.initiated')]).state;
    expect(applyEvents(s, []).state).toBe(s);
  });
});

describe('effectsOwed', () => {
  test('owed once the call ends, not after they ran for that end, owed again when the outcome changes', () => {
    const ended = applyEvents(fresh(), [ev('call.failed', { outcome: 'no-answer' })]).state;
    expect(effectsOwed(NO_EFFECTS_DONE, ended)).toBe(true);
    expect(effectsOwed(effectsDoneOf(ended), ended)).toBe(false);
    const completed = applyEvents(ended, [
      ev('call.completed', { outcome: 'completed', occurredAt: new Date(T0 + M).toISOString() }),
    ]).state;
    expect(effectsOwed(effectsDoneOf(ended), completed)).toBe(true);
  });
});

describe('the call clock', () => {
  test('an open call waits for its next event until the idle timeout, then goes idle', () => {
    const s = applyEvents(fresh(), [ev('call.answered')]).state;
    const c = startClock(s, T0);
    expect(callDeadline(c, patience)).toBe(T0 + patience.idleTimeoutMs);
    expect(settleIfDue(c, s, T0 + patience.idleTimeoutMs - 1, patience).clock.settled).toBe(false);
    const r = settleIfDue(c, s, T0 + patience.idleTimeoutMs, patience);
    expect(r).toEqual({ clock: { ...c, settled: true }, why: 'call went idle' });
    expect(isCallDone(r.clock, s)).toBe(true);
  });

  test('an ended call waits for its recording, from the first time its end was seen', () => {
    const open = startClock(fresh(), T0);
    const ended = applyEvents(fresh(), [ev('call.completed', { outcome: 'completed' })]).state;
    const c = clockAfterChange(open, ended, T0 + M);
    expect(c.terminalAt).toBe(T0 + M);
    expect(clockAfterChange(c, ended, T0 + 5 * M).terminalAt).toBe(T0 + M);
    expect(isCallDone(c, ended)).toBe(false);
    expect(settleIfDue(c, ended, T0 + M + patience.recordingWaitMs, patience).why).toBe('recording did not arrive in time');
  });

  test('a recording, a failed call or a stale mark needs no waiting', () => {
    const clock = startClock(fresh(), T0);
    const recorded = applyEvents(fresh(), [
      ev('call.completed', { outcome: 'completed' }),
      ev('call.recording_ready', { recordingUrl: 'https://r/1.wav' }),
    ]).state;
    expect(isCallDone(clock, recorded)).toBe(true);
    expect(settleIfDue(clock, recorded, T0 + 365 * 24 * 60 * M, patience).why).toBeUndefined();
    expect(isCallDone(clock, applyEvents(fresh(), [ev('call.failed', { outcome: 'busy' })]).state)).toBe(true);
    expect(isCallDone(clock, { ...fresh(), stale: { since: new Date(T0).toISOString(), reason: 'x', polls: 4 } })).toBe(true);
    expect(isCallDone(clock, fresh())).toBe(false);
  });
});

test('a late completion cancels a scheduled follow-up, and only then', () => {
  const plan = startPlan('no-answer', { delayMs: 2 * 60 * M, maxAttempts: 3, resultWaitMs: 60 * M }, T0);
  const completed = applyEvents(fresh(), [ev('call.completed', { outcome: 'completed' })]).state;
  expect(cancelOnLateCompletion(completed, plan)).toEqual({ type: 'cancel', reason: 'the call completed after all', by: 'workflow' });
  expect(cancelOnLateCompletion(completed, undefined)).toBeUndefined();
  expect(cancelOnLateCompletion(applyEvents(fresh(), [ev('call.failed', { outcome: 'no-answer' })]).state, plan)).toBeUndefined();
});

describe('resultReport', () => {
  const followUpCall = (type: CallEvent['type'], outcome: CallEvent['outcome']) =>
    applyEvents(fresh(), [ev(type, { outcome, metadata: followUpMetadata('call_0', 2) })]).state;

  test('a follow-up call reports its end to the original once per end', () => {
    const s = followUpCall('call.failed', 'no-answer');
    const r = resultReport(s, undefined);
    expect(r).toEqual({
      key: 'failed|no-answer',
      originalCallId: 'call_0',
      result: { attempt: 2, callId: 'call_1', status: 'failed', outcome: 'no-answer', answered: false },
    });
    expect(resultReport(s, r!.key)).toBeUndefined();
  });

  test('an ordinary call, or one still going, reports nothing', () => {
    expect(resultReport(applyEvents(fresh(), [ev('call.failed', { outcome: 'no-answer' })]).state, undefined)).toBeUndefined();
    expect(resultReport(followUpCall('call.answered', undefined), undefined)).toBeUndefined();
  });
});

test('the counted call takes its end, else its start, else when we learnt of it', () => {
  const s = applyEvents(fresh(), [
    ev('call.completed', { outcome: 'completed', endedAt: '2025-01-15T10:35:00.000Z', durationSec: 300 }),
  ]).state;
  expect(countedCallOf(s, T0)).toEqual({ callId: 'call_1', date: '2025-01-15T10:35:00.000Z', durationSec: 300 });
  expect(countedCallOf(applyEvents(fresh(), [ev('call.answered')]).state, T0).date).toBe(new Date(T0).toISOString());
  expect(countedCallOf(fresh(), T0 + M).date).toBe(new Date(T0 + M).toISOString());
});

test('the public state leaves out the reducer field owners', () => {
  const s = applyEvents(fresh(), [ev('call.answered')]).state;
  expect(Object.keys(s)).toContain('owners');
  expect(Object.keys(publicState(s))).not.toContain('owners');
});

describe("people's commands", () => {
  test('the three signals and the Update ask for the same commands', () => {
    expect(retryNowCommand(null)).toEqual({ type: 'retryNow', by: undefined, reason: undefined, overrideWindow: undefined });
    expect(cancelCommand('asked not to be called')).toEqual({ type: 'cancel', reason: 'asked not to be called' });
    expect(cancelCommand(undefined)).toEqual({ type: 'cancel', reason: '', by: undefined });
    expect(commandOf({ type: 'cancel', reason: 'r', by: 'ann' }, T0)).toEqual(cancelCommand({ reason: 'r', by: 'ann' }));
    expect(commandOf({ type: 'retryNow', by: 'ann', overrideWindow: true }, T0)).toEqual(
      retryNowCommand({ by: 'ann', overrideWindow: true }),
    );
  });

  test('a delay counts from the workflow clock, a time is kept, a bare string is either', () => {
    expect(scheduleCommand({ in: '30m', by: 'ann' }, T0)).toEqual({
      type: 'schedule',
      at: new Date(T0 + 30 * M).toISOString(),
      by: 'ann',
      reason: undefined,
      overrideWindow: undefined,
    });
    expect(commandOf({ type: 'schedule', at: '2025-01-16T09:00:00Z', reason: 'asked for tomorrow' }, T0)).toMatchObject({
      at: '2025-01-16T09:00:00Z',
      reason: 'asked for tomorrow',
    });
    expect(scheduleCommand('2h', T0)).toMatchObject({ at: new Date(T0 + 120 * M).toISOString() });
    expect(scheduleCommand('2025-01-16T09:00:00Z', T0)).toMatchObject({ at: '2025-01-16T09:00:00Z' });
  });
});

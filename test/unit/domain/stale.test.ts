// Calls that never ended: when the workflow asks the platform, what an answer means, and how the
// stale mark lives in the pure reducer state.
import type { CallEvent } from '../../../src/domain/events';
import { initialState, pickState, reduce } from '../../../src/domain/reducer';
import { effectsFor } from '../../../src/domain/effects';
import {
  DEFAULT_STALE_AFTER_MS,
  NO_POLLS,
  STALE_POLL_FACTORS,
  type PollAnswer,
  type StaleWatch,
  decideAfterPoll,
  markStale,
  nextPollAt,
  pollEventId,
} from '../../../src/domain/stale';
import { loadConfig } from '../../../src/config';
import { callDetails, describeWait } from '../../../src/domain/callDetails';

const MIN = 60_000;
const T0 = Date.parse('2026-11-27T10:00:00Z');
const answered = reduce(initialState('org', 'c1', 'retell'), {
  eventId: 'retell:c1:call_started',
  provider: 'retell',
  providerEvent: 'call_started',
  callId: 'c1',
  type: 'call.answered',
  receivedAt: new Date(T0).toISOString(),
}).state;
const end: CallEvent = {
  eventId: pollEventId('retell', 'c1', 'ended'),
  provider: 'retell',
  providerEvent: 'get-call:ended',
  callId: 'c1',
  type: 'call.completed',
  outcome: 'completed',
  durationSec: 120,
  receivedAt: new Date(T0 + 30 * MIN).toISOString(),
};
const ctx = { provider: 'retell' as const, now: T0 + 30 * MIN };

describe('when the platform is asked', () => {
  test('the default is 30 minutes (CALL_STALE_AFTER), then at 1 h, 2 h and 4 h after the last event', () => {
    const after = loadConfig({}).workflow.staleAfterMs!;
    expect(after).toBe(DEFAULT_STALE_AFTER_MS);
    expect(after).toBe(30 * MIN);
    const times: number[] = [];
    let watch: StaleWatch = NO_POLLS;
    for (let at = nextPollAt(answered, watch, T0, after); at !== undefined; at = nextPollAt(answered, watch, T0, after)) {
      times.push((at - T0) / MIN);
      watch = { polls: watch.polls + 1 };
    }
    expect(times).toEqual([30, 60, 120, 240]);
    expect(STALE_POLL_FACTORS).toHaveLength(4);
  });

  test('a call that ended, or is already marked stale, is not asked about', () => {
    const completed = reduce(answered, end).state;
    expect(nextPollAt(completed, NO_POLLS, T0, 30 * MIN)).toBeUndefined();
    const stale = markStale(answered, { since: 'x', reason: 'r', polls: 1 });
    expect(nextPollAt(stale, NO_POLLS, T0, 30 * MIN)).toBeUndefined();
    expect(nextPollAt(answered, NO_POLLS, T0, 10 * MIN)).toBe(T0 + 10 * MIN);
  });
});

describe('what an answer means', () => {
  test('an end is applied as its events, never as a stale mark', () => {
    const d = decideAfterPoll(NO_POLLS, { kind: 'ended', platformStatus: 'ended', events: [end] }, ctx);
    expect(d).toEqual({ watch: { polls: 1, lastAnswer: 'retell says the call ended (ended)' }, events: [end] });
  });

  test('"still going" and a passing failure wait for the next poll; at the last poll they mark the call stale', () => {
    const ongoing: PollAnswer = { kind: 'ongoing', platformStatus: 'ongoing' };
    const down: PollAnswer = { kind: 'unknown', reason: 'retell could not be asked (HTTP 503)', final: false };
    let watch: StaleWatch = NO_POLLS;
    for (let i = 0; i < STALE_POLL_FACTORS.length - 1; i++) {
      const d = decideAfterPoll(watch, i % 2 ? down : ongoing, ctx);
      expect(d.stale).toBeUndefined();
      expect(d.events).toEqual([]);
      watch = d.watch;
    }
    const last = decideAfterPoll(watch, ongoing, ctx);
    expect(last.stale).toEqual({
      since: new Date(ctx.now).toISOString(),
      polls: 4,
      reason: 'retell says the call is still ongoing at the last of 4 polls; no end was reported',
    });
  });

  test('a final failure (no credentials, unknown call) marks the call stale at once', () => {
    const d = decideAfterPoll(NO_POLLS, { kind: 'unknown', reason: 'no retell API credentials are stored', final: true }, ctx);
    expect(d.stale).toMatchObject({ reason: 'no retell API credentials are stored', polls: 1 });
  });
});

describe('the stale mark in the reducer state', () => {
  const stale = markStale(answered, { since: '2026-11-27T12:00:00.000Z', reason: 'no credentials', polls: 1 });

  test('is kept on the stored record and read back', () => {
    expect(pickState(JSON.parse(JSON.stringify({ ...stale, _id: 'x', createdAt: 'y' }))).stale).toEqual(stale.stale);
  });

  test('any later event of the call clears it and applies normally: a late end runs the effects once', () => {
    const late = reduce(stale, { ...end, eventId: 'retell:c1:call_ended' });
    expect(late.duplicate).toBe(false);
    expect(late.state.stale).toBeUndefined();
    expect(late.state.status).toBe('completed');
    expect(effectsFor(stale, late.state, { followUpOn: ['no-answer'] })).toEqual(['recordMetrics', 'countContact', 'sendThankYou']);
  });

  test('the poll end and a later real webhook of the same end: the second changes no status, so no effect runs again', () => {
    const polled = reduce(answered, end).state;
    const hook = reduce(polled, {
      ...end,
      eventId: 'retell:c1:call_ended',
      providerEvent: 'call_ended',
      receivedAt: new Date(T0 + 40 * MIN).toISOString(),
    });
    expect(hook.duplicate).toBe(false);
    expect(effectsFor(polled, hook.state, { followUpOn: ['no-answer'] })).toEqual([]);
    expect(reduce(polled, end).duplicate).toBe(true);
  });

  test("another platform's event about the call does not clear it", () => {
    const other = reduce(stale, { ...end, eventId: 'generic:c1:x', provider: 'generic' });
    expect(other.state.stale).toEqual(stale.stale);
  });
});

describe('where a person sees it', () => {
  test('the workflow says when the platform will be asked, then what it answered, then the mark', () => {
    expect(describeWait({ callDone: false, callEnded: false, now: T0, askAt: '2026-11-27T10:30:00.000Z' })).toBe(
      'the call to end (its platform is asked at 2026-11-27T10:30:00.000Z if none comes)',
    );
    const asked = callDetails({
      state: answered,
      waitingFor: 'x',
      staleWatch: { polls: 2, lastAnswer: 'retell says the call is still ongoing' },
    });
    expect(asked).toContain('asked the platform (2): retell says the call is still ongoing');
    const stale = markStale(answered, { since: '2026-11-27T14:00:00.000Z', reason: 'no retell API credentials are stored', polls: 1 });
    const details = callDetails({ state: stale, waitingFor: 'nothing', staleWatch: { polls: 1, lastAnswer: 'ignored once stale' } });
    expect(details).toContain('**stale since 2026-11-27T14:00:00.000Z: no retell API credentials are stored**');
    expect(details).toContain('(stale: the platform never reported its end)');
    expect(details).not.toContain('ignored once stale');
  });
});

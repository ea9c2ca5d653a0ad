// Calls that never ended: platforms sometimes never send the terminal webhook. After
// CALL_STALE_AFTER without an event the call's workflow asks the platform for the call; these are
// the pure decisions around that (when to ask, what an answer means, when to give up). The
// workflow runs the poll as an activity and feeds an "ended" answer through the reducer as an
// ordinary event, so effects run exactly once, as for a webhook.
import type { CallEvent, Provider } from './events';
import { type CallState, type StaleMark, isTerminal } from './lifecycle';

/** Default wait without an event before the platform is asked (CALL_STALE_AFTER). */
export const DEFAULT_STALE_AFTER_MS = 30 * 60_000;

/**
 * How long an unfinished call may go without a change before the analytics and dashboard views
 * list it as quiet: longer than DEFAULT_STALE_AFTER_MS, so the workflow has asked the platform
 * (and marked it stale when the platform could not say) before a person is shown it. The
 * calls_api_calls_stale gauge counts the calls the workflow marked instead.
 */
export const STALE_CALL_AFTER_MS = 60 * 60_000;

/**
 * Poll k (0-based) happens at lastEvent + staleAfter × FACTORS[k]: with the 30-minute default at
 * 30 min, 1 h, 2 h and 4 h after the last event. A call still unsettled after the last is stale.
 */
export const STALE_POLL_FACTORS: readonly number[] = [1, 2, 4, 8];

/** Tries of one poll while the platform is unreachable or busy (429/5xx), before it counts as "cannot say this time". */
export const POLL_TRIES = 4;

/** How the platform answered one poll. */
export type PollAnswer =
  /** The platform says the call ended: these events (own ids, see pollEventId) carry the end. */
  | { kind: 'ended'; platformStatus: string; events: CallEvent[] }
  /** The platform says the call is still going (or queued). */
  | { kind: 'ongoing'; platformStatus: string }
  /**
   * The platform could not say. `final`: asking again will not help (no credentials, unknown
   * call, refused credentials, a platform without a get-call API); otherwise it may next time
   * (unreachable, 5xx after the activity's retries).
   */
  | { kind: 'unknown'; reason: string; final: boolean };

/** The workflow's polling progress since the call's last event. */
export interface StaleWatch {
  polls: number;
  /** The last answer, in words, for the details. */
  lastAnswer?: string;
}

export const NO_POLLS: StaleWatch = { polls: 0 };

/** The event id of a poll's answer: stable, so a repeated poll is a duplicate, and apart from any webhook's id. */
export const pollEventId = (provider: Provider, callId: string, platformStatus: string): string =>
  `poll:${provider}:${callId}:${platformStatus}`;

/**
 * When to ask the platform next, or undefined when nothing is to be asked: the call ended, it is
 * already marked stale, or every poll was made.
 */
export function nextPollAt(
  s: Pick<CallState, 'status' | 'stale'>,
  watch: StaleWatch,
  lastEventAt: number,
  staleAfterMs: number,
): number | undefined {
  if (isTerminal(s.status) || s.stale !== undefined) return undefined;
  const factor = STALE_POLL_FACTORS[watch.polls];
  return factor === undefined ? undefined : lastEventAt + staleAfterMs * factor;
}

export interface PollDecision {
  watch: StaleWatch;
  /** Events to apply through the reducer (the platform's end of the call). */
  events: CallEvent[];
  /** Set when the call is to be marked stale now; the workflow then stops waiting for it. */
  stale?: StaleMark;
}

const describeAnswer = (a: PollAnswer, provider: Provider): string =>
  a.kind === 'ended'
    ? `${provider} says the call ended (${a.platformStatus})`
    : a.kind === 'ongoing'
      ? `${provider} says the call is still ${a.platformStatus}`
      : a.reason;

/**
 * What one poll's answer means. An end is applied as events; "still going" and a passing failure
 * wait for the next poll; a final failure, or any unsettled answer to the last poll, marks the call
 * stale.
 */
export function decideAfterPoll(watch: StaleWatch, answer: PollAnswer, ctx: { provider: Provider; now: number }): PollDecision {
  const polls = watch.polls + 1;
  const lastAnswer = describeAnswer(answer, ctx.provider);
  const next: StaleWatch = { polls, lastAnswer };
  if (answer.kind === 'ended' && answer.events.length > 0) return { watch: next, events: answer.events };
  const last = polls >= STALE_POLL_FACTORS.length;
  if ((answer.kind === 'unknown' && answer.final) || last) {
    const reason = last ? `${lastAnswer} at the last of ${polls} polls; no end was reported` : lastAnswer;
    return { watch: next, events: [], stale: { since: new Date(ctx.now).toISOString(), reason, polls } };
  }
  return { watch: next, events: [] };
}

/** The call marked stale. Pure: the mark is state the workflow saves; a later event clears it (reduce). */
export function markStale(s: CallState, mark: StaleMark): CallState {
  return { ...s, stale: mark };
}

/** A one-line description for the details and logs. */
export function describeStale(m: StaleMark): string {
  return `stale since ${m.since}: ${m.reason}`;
}

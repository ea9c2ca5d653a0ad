// The follow-up plan of an unanswered call: its state (types), the pure transitions every other
// follow-up module builds on (a history entry, a scheduled attempt), how a plan starts, and what
// it means for the workflow (when to wake, when it is settled) and for people (describePlan).
// What a person's command does to a plan is in followUpCommands.ts; placing an attempt and its
// result wait in followUpPlacement.ts. The workflow owns the timers and the activities; every
// decision about the plan is made in these modules, so tests can walk it without Temporal.
// No Node imports: the workflow bundle includes this module.
import { compact } from './compact';
import { parseDuration } from './duration';
import type { Outcome } from './events';
import { hardCapOf } from './spending';

export const FOLLOW_UP_STATUSES = ['scheduled', 'placing', 'placed', 'due', 'canceled', 'exhausted', 'answered', 'joined'] as const;
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];

export type AttemptStatus = 'scheduled' | 'placing' | 'placed' | 'due' | 'answered' | 'unanswered' | 'canceled' | 'no-result';

export interface FollowUpAttempt {
  attempt: number;
  /** When this attempt was (or is) due to be placed, ISO-8601. */
  scheduledFor: string;
  status: AttemptStatus;
  /** The follow-up call's own call id, once the platform gave one (or its webhooks linked it). */
  callId?: string;
  /** The platform the follow-up call was placed with. */
  provider?: string;
  placedAt?: string;
  /** How the follow-up call ended. */
  outcome?: Outcome;
  /** Why it is due for a person, why it was canceled, and the like. */
  reason?: string;
  /** The platform may have placed it (a request went out and no answer was recorded). */
  uncertain?: boolean;
  /** A person chose to call outside the calling window (who and why). */
  windowOverride?: { by?: string; reason?: string };
}

export interface FollowUpHistoryEntry {
  at: string;
  event: string;
  attempt?: number;
  detail?: string;
  by?: string;
}

export interface FollowUpPlan {
  /** Grows with every change, so an older write of the plan never replaces a newer one. */
  rev: number;
  status: FollowUpStatus;
  /** The current attempt, 1-based. */
  attempt: number;
  maxAttempts: number;
  /** Wait before each attempt. */
  delayMs: number;
  /** When the current attempt will be placed (status `scheduled`). */
  nextFollowUpAt?: string;
  /** Until when the workflow waits for the result of a placed or due attempt. */
  awaitingUntil?: string;
  /** Why the plan is canceled, due, exhausted or answered, in words. */
  reason?: string;
  /** What the calling window did to the scheduled attempt: "moved to 08:00 America/Chicago ...". */
  window?: string;
  /** What the contact's 24-hour cap did to the scheduled attempt: "moved to 09:10 ... (24-hour cap: 3 attempts)". */
  cap?: string;
  /** Status `joined`: the contact already had a plan running, this call joined it instead of starting a second. */
  joinedPlanOf?: { callId: string; at: string };
  attempts: FollowUpAttempt[];
  history: FollowUpHistoryEntry[];
}

export interface PlanOptions {
  delayMs: number;
  maxAttempts: number;
  /** Attempts per call including manual ones; nothing raises it (DEFAULT_FOLLOW_UP_HARD_CAP when absent). */
  hardCap?: number;
  /** How long to wait for a placed (or due) follow-up call's result before handing it to a person. */
  resultWaitMs: number;
}

/** What a person (or the linked follow-up call) asks of the plan. */
export type FollowUpCommand =
  | { type: 'retryNow'; by?: string; reason?: string; overrideWindow?: boolean }
  | { type: 'cancel'; reason: string; by?: string }
  | { type: 'schedule'; at: string; by?: string; reason?: string; overrideWindow?: boolean }
  | { type: 'result'; attempt: number; callId: string; answered: boolean; status: string; outcome?: Outcome }
  /** The plan this call joined ended (from the contact's workflow). */
  | { type: 'joinedEnded'; ownerCallId: string; status: string; reason?: string };

export interface CommandResult {
  plan: FollowUpPlan | undefined;
  applied: boolean;
  /** What happened, in words: shown in history, logs and HTTP answers. */
  note: string;
}

/** What the placing activity reports. */
export type Placement =
  | { kind: 'placed'; callId: string; provider: string; placedAt: string }
  | { kind: 'due'; reason: string; uncertain?: boolean }
  /** Not placed: outside the calling window by now, so the attempt waits for the next opening. */
  | { kind: 'deferred'; at: string; text: string }
  /** Not placed and never will be: the contact is do-not-call. */
  | { kind: 'blocked'; reason: string };

// ---- the transitions every follow-up module builds on (followUpCommands.ts, followUpPlacement.ts) ----

export const HISTORY_CAP = 50;

export const iso = (ms: number) => new Date(ms).toISOString();

export function withChange(
  plan: FollowUpPlan,
  now: number,
  entry: Omit<FollowUpHistoryEntry, 'at'>,
  change: Partial<FollowUpPlan>,
): FollowUpPlan {
  const history = [...plan.history, { at: iso(now), ...compact(entry) }];
  if (history.length > HISTORY_CAP) history.splice(1, history.length - HISTORY_CAP);
  return { ...plan, ...change, rev: plan.rev + 1, history };
}

export function updateAttempt(plan: FollowUpPlan, attempt: number, change: Partial<FollowUpAttempt>): FollowUpAttempt[] {
  return plan.attempts.map((a) => (a.attempt === attempt ? compact({ ...a, ...change }) : a));
}

export const currentAttempt = (plan: FollowUpPlan): FollowUpAttempt | undefined => plan.attempts.find((a) => a.attempt === plan.attempt);

/** A plan for a call that ended unanswered: attempt 1 after the delay. */
export function startPlan(outcome: Outcome | undefined, opts: PlanOptions, now: number): FollowUpPlan {
  const maxAttempts = Math.min(opts.maxAttempts, hardCapOf(opts.hardCap));
  const base: FollowUpPlan = { rev: 0, status: 'scheduled', attempt: 0, maxAttempts, delayMs: opts.delayMs, attempts: [], history: [] };
  if (maxAttempts <= 0) {
    return withChange(
      base,
      now,
      { event: 'not planned', detail: `call ended ${outcome ?? 'unanswered'}; follow-ups are off (maximum 0 attempts)` },
      {
        status: 'exhausted',
        reason: 'follow-up calls are turned off (FOLLOW_UP_MAX_ATTEMPTS=0)',
      },
    );
  }
  return schedule(base, 1, now + opts.delayMs, now, { event: 'scheduled', detail: `call ended ${outcome ?? 'unanswered'}` });
}

export function schedule(
  plan: FollowUpPlan,
  attempt: number,
  atMs: number,
  now: number,
  entry: Omit<FollowUpHistoryEntry, 'at' | 'attempt'>,
): FollowUpPlan {
  const at = iso(Math.max(atMs, now));
  const exists = plan.attempts.some((a) => a.attempt === attempt);
  const attempts = exists
    ? plan.attempts.map((a) => (a.attempt === attempt ? { attempt, scheduledFor: at, status: 'scheduled' as const } : a))
    : [...plan.attempts, { attempt, scheduledFor: at, status: 'scheduled' as const }];
  return withChange(
    plan,
    now,
    {
      ...entry,
      attempt,
      detail: [entry.detail, `attempt ${attempt} of ${Math.max(plan.maxAttempts, attempt)} at ${at}`].filter(Boolean).join('; '),
    },
    {
      status: 'scheduled',
      attempt,
      maxAttempts: Math.max(plan.maxAttempts, attempt),
      nextFollowUpAt: at,
      awaitingUntil: undefined,
      reason: undefined,
      window: undefined,
      cap: undefined,
      joinedPlanOf: undefined,
      attempts,
    },
  );
}

/** The attempt number a new schedule uses: the current one while it was never placed, else the next. */
export function nextAttemptNumber(plan: FollowUpPlan | undefined): number {
  if (!plan || plan.attempt === 0) return 1;
  const cur = currentAttempt(plan);
  // An attempt that may have reached the platform keeps its number: a new try gets the next one.
  const unplaced =
    !cur || (!cur.uncertain && (cur.status === 'scheduled' || cur.status === 'due' || (cur.status === 'canceled' && !cur.callId)));
  return unplaced ? plan.attempt : plan.attempt + 1;
}

export function emptyPlan(opts: PlanOptions): FollowUpPlan {
  return { rev: 0, status: 'scheduled', attempt: 0, maxAttempts: opts.maxAttempts, delayMs: opts.delayMs, attempts: [], history: [] };
}

export interface CommandContext {
  now: number;
  opts: PlanOptions;
  /** The call itself reached a final state (a follow-up is only for an ended call). */
  callEnded: boolean;
}

export function callOf(plan: FollowUpPlan): string {
  const id = currentAttempt(plan)?.callId;
  return id ? ` (call ${id})` : '';
}

// ---- what the plan means for the workflow and for people ------------------------------------

/** Nothing more will happen on its own: the workflow may close. */
export function isSettled(plan: FollowUpPlan | undefined, now: number): boolean {
  if (!plan) return true;
  if (plan.status === 'answered' || plan.status === 'exhausted' || plan.status === 'canceled') return true;
  if (plan.status === 'due') return !plan.awaitingUntil || Date.parse(plan.awaitingUntil) <= now;
  return false;
}

/** When the workflow must wake up for the plan, in epoch ms. */
export function nextWakeAt(plan: FollowUpPlan | undefined): number | undefined {
  if (!plan) return undefined;
  if (plan.status === 'scheduled' && plan.nextFollowUpAt) return Date.parse(plan.nextFollowUpAt);
  if ((plan.status === 'placed' || plan.status === 'due' || plan.status === 'joined') && plan.awaitingUntil)
    return Date.parse(plan.awaitingUntil);
  return undefined;
}

export const isPlacementDue = (plan: FollowUpPlan | undefined, now: number): boolean =>
  plan?.status === 'scheduled' && plan.nextFollowUpAt !== undefined && Date.parse(plan.nextFollowUpAt) <= now;

/** "attempt 2 of 3 scheduled for ..." — for people: UI details, logs, the call record. */
export function describePlan(plan: FollowUpPlan): string {
  if (plan.joinedPlanOf && plan.attempt === 0 && plan.status !== 'joined')
    return `follow-up ${plan.status} with the plan of call ${plan.joinedPlanOf.callId} it joined: ${plan.reason}`;
  const n = `attempt ${plan.attempt} of ${plan.maxAttempts}`;
  const call = callOf(plan);
  switch (plan.status) {
    case 'scheduled':
      return `follow-up ${n} scheduled for ${plan.nextFollowUpAt}${[plan.cap, plan.window]
        .filter(Boolean)
        .map((t) => ` (${t})`)
        .join('')}`;
    case 'placing':
      return `follow-up ${n} is being placed`;
    case 'placed':
      return `follow-up ${n} placed${call}; waiting for its result until ${plan.awaitingUntil}`;
    case 'due':
      return `follow-up ${n} is due for a person: ${plan.reason}`;
    case 'canceled':
      return `follow-up canceled at ${n}: ${plan.reason}`;
    case 'exhausted':
      return `follow-up exhausted: ${plan.reason}`;
    case 'answered':
      return `follow-up ${n} answered${call}`;
    case 'joined':
      return `follow-up: joined the plan of call ${plan.joinedPlanOf?.callId ?? '?'} (one plan per contact); settled when it ends`;
  }
}

/** A follow-up call counts as answered when it completed with someone on the line. */
export const isAnswered = (s: { status: string; outcome?: Outcome }): boolean => s.status === 'completed' && s.outcome === 'completed';

/**
 * The time a schedule request names: `{at: ISO}`, `{in: "30m"}`, or a bare string of either kind.
 * Returns the input as it is when it names no time, so the plan can say what was wrong with it.
 */
export function resolveScheduleTime(input: { at?: string; in?: string } | string | null | undefined, now: number): string {
  if (typeof input === 'string') {
    const d = parseDuration(input, { unitRequired: true });
    return d !== undefined ? iso(now + d) : input;
  }
  if (input?.in !== undefined) {
    const d = parseDuration(String(input.in), { unitRequired: true });
    return d !== undefined ? iso(now + d) : `in ${String(input.in)}`;
  }
  return input?.at !== undefined ? String(input.at) : '(no time given)';
}

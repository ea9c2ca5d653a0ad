// The follow-up plan of an unanswered call, as pure transitions: when the next call is due,
// which attempt it is, what a person's command (retry now, cancel, schedule) does to it, and
// what the result of a placed follow-up call means. The workflow owns the timers and the
// activities; every decision about the plan is made here, so tests can walk it without Temporal.
// No Node imports: the workflow bundle includes this module.
import { compact } from './compact';
import { parseDuration } from './duration';
import type { Outcome } from './events';
import { capRefusal, hardCapOf } from './spending';

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

export const HISTORY_CAP = 50;

const iso = (ms: number) => new Date(ms).toISOString();

function withChange(plan: FollowUpPlan, now: number, entry: Omit<FollowUpHistoryEntry, 'at'>, change: Partial<FollowUpPlan>): FollowUpPlan {
  const history = [...plan.history, { at: iso(now), ...compact(entry) }];
  if (history.length > HISTORY_CAP) history.splice(1, history.length - HISTORY_CAP);
  return { ...plan, ...change, rev: plan.rev + 1, history };
}

function updateAttempt(plan: FollowUpPlan, attempt: number, change: Partial<FollowUpAttempt>): FollowUpAttempt[] {
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

function schedule(
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

function emptyPlan(opts: PlanOptions): FollowUpPlan {
  return { rev: 0, status: 'scheduled', attempt: 0, maxAttempts: opts.maxAttempts, delayMs: opts.delayMs, attempts: [], history: [] };
}

export interface CommandContext {
  now: number;
  opts: PlanOptions;
  /** The call itself reached a final state (a follow-up is only for an ended call). */
  callEnded: boolean;
}

/** Whether a command would change the plan, and why not. Used by the workflow and by the HTTP routes. */
export function applyCommand(plan: FollowUpPlan | undefined, cmd: FollowUpCommand, ctx: CommandContext): CommandResult {
  const { now } = ctx;
  const reject = (note: string): CommandResult => ({ plan, applied: false, note });
  const status = plan?.status;

  switch (cmd.type) {
    case 'retryNow': {
      if (status === 'placing' || status === 'placed')
        return reject(`attempt ${plan!.attempt} is in progress${callOf(plan!)}; nothing to retry yet`);
      if (status === 'answered') return reject('the follow-up call was answered; no retry needed');
      if (!plan && !ctx.callEnded) return reject('the call has not ended yet');
      const base = plan ?? emptyPlan(ctx.opts);
      const n = nextAttemptNumber(plan);
      const capped = capRefusal(n, hardCapOf(ctx.opts.hardCap));
      if (capped) return reject(capped);
      const p = schedule(base, n, now, now, { event: 'retry now', by: cmd.by, detail: cmd.reason });
      return { plan: p, applied: true, note: `attempt ${n} of ${p.maxAttempts} will be placed now` };
    }
    case 'cancel': {
      if (!plan || status === 'canceled' || status === 'exhausted' || status === 'answered') {
        return reject(plan ? `no follow-up is pending (status ${status})` : 'no follow-up is pending');
      }
      const reason = cmd.reason?.trim() || 'canceled without a reason';
      const cur = currentAttempt(plan);
      const attempts =
        cur && (cur.status === 'scheduled' || cur.status === 'due')
          ? updateAttempt(plan, plan.attempt, { status: 'canceled', reason })
          : plan.attempts;
      const p = withChange(
        plan,
        now,
        { event: 'canceled', attempt: plan.attempt, by: cmd.by, detail: reason },
        {
          status: 'canceled',
          reason,
          nextFollowUpAt: undefined,
          awaitingUntil: undefined,
          attempts,
        },
      );
      return { plan: p, applied: true, note: `follow-up canceled: ${reason}` };
    }
    case 'schedule': {
      const at = Date.parse(cmd.at);
      if (!Number.isFinite(at)) return reject(`"${cmd.at}" is not a date and time (expected ISO-8601, e.g. 2025-01-15T14:00:00Z)`);
      if (status === 'placing' || status === 'placed')
        return reject(`attempt ${plan!.attempt} is in progress${callOf(plan!)}; schedule again once it ended`);
      if (status === 'answered') return reject('the follow-up call was answered; nothing to schedule');
      if (!plan && !ctx.callEnded) return reject('the call has not ended yet');
      const base = plan ?? emptyPlan(ctx.opts);
      const n = nextAttemptNumber(plan);
      const capped = capRefusal(n, hardCapOf(ctx.opts.hardCap));
      if (capped) return reject(capped);
      const p = schedule(base, n, at, now, { event: 'scheduled by hand', by: cmd.by, detail: cmd.reason });
      return { plan: p, applied: true, note: `attempt ${n} of ${p.maxAttempts} scheduled for ${p.nextFollowUpAt}` };
    }
    case 'result':
      return applyResult(plan, cmd, ctx);
    case 'joinedEnded':
      return applyJoinedEnd(plan, cmd, now);
  }
}

// ---- one plan per contact: a call that joined another call's plan ---------------------------

/** How long a joined call waits for the plan it joined to end before a person is asked: every attempt with its wait, plus a day of cap moves. */
export const joinWaitMs = (opts: PlanOptions): number =>
  Math.max(opts.maxAttempts, 1) * (opts.delayMs + opts.resultWaitMs) + 24 * 3_600_000;

/** A call that ended unanswered while the contact already had a plan running: it joins that plan. */
export function joinPlan(outcome: Outcome | undefined, ownerCallId: string, opts: PlanOptions, now: number): FollowUpPlan {
  const base = emptyPlan(opts);
  const reason = `joined the follow-up plan of call ${ownerCallId} (one plan per contact)`;
  return withChange(
    base,
    now,
    { event: 'joined', detail: `call ended ${outcome ?? 'unanswered'}; ${reason}` },
    {
      status: 'joined',
      reason,
      joinedPlanOf: { callId: ownerCallId, at: iso(now) },
      awaitingUntil: iso(now + joinWaitMs(opts)),
    },
  );
}

function applyJoinedEnd(
  plan: FollowUpPlan | undefined,
  cmd: Extract<FollowUpCommand, { type: 'joinedEnded' }>,
  now: number,
): CommandResult {
  if (plan?.status !== 'joined' || plan.joinedPlanOf?.callId !== cmd.ownerCallId) {
    return {
      plan,
      applied: false,
      note: `the end of call ${cmd.ownerCallId}'s plan changes nothing here (status ${plan?.status ?? 'none'})`,
    };
  }
  const reason = `the follow-up plan of call ${cmd.ownerCallId} it joined ended ${cmd.status}${cmd.reason ? `: ${cmd.reason}` : ''}`;
  // Answered, exhausted and canceled carry over; any other end (due for a person) is settled as due, now.
  const status: FollowUpStatus = cmd.status === 'answered' || cmd.status === 'exhausted' || cmd.status === 'canceled' ? cmd.status : 'due';
  const p = withChange(
    plan,
    now,
    { event: 'joined plan ended', detail: reason },
    { status, reason, awaitingUntil: status === 'due' ? iso(now) : undefined },
  );
  return { plan: p, applied: true, note: reason };
}

// ---- the contact's 24-hour cap ----------------------------------------------------------------

/** The contact's cap refused the attempt until `freeAt`: it waits for then (the calling window may move it further). */
export function applyCapMove(plan: FollowUpPlan, freeAt: number, text: string, now: number): FollowUpPlan {
  const at = iso(Math.max(freeAt, now + 1000));
  return withChange(
    plan,
    now,
    {
      event: 'moved',
      attempt: plan.attempt,
      by: '24-hour cap',
      detail: `${text}; was ${plan.nextFollowUpAt ?? plan.attempts.find((a) => a.attempt === plan.attempt)?.scheduledFor ?? 'now'}`,
    },
    {
      status: 'scheduled',
      nextFollowUpAt: at,
      cap: text,
      window: undefined,
      awaitingUntil: undefined,
      attempts: updateAttempt(plan, plan.attempt, { status: 'scheduled', scheduledFor: at }),
    },
  );
}

function callOf(plan: FollowUpPlan): string {
  const id = currentAttempt(plan)?.callId;
  return id ? ` (call ${id})` : '';
}

function applyResult(
  plan: FollowUpPlan | undefined,
  cmd: Extract<FollowUpCommand, { type: 'result' }>,
  ctx: CommandContext,
): CommandResult {
  const { now, opts } = ctx;
  if (!plan) return { plan, applied: false, note: `result of attempt ${cmd.attempt} ignored: this call has no follow-up plan` };
  const rec = plan.attempts.find((a) => a.attempt === cmd.attempt);
  if (!rec) return { plan, applied: false, note: `result of unknown attempt ${cmd.attempt} (call ${cmd.callId}) ignored` };
  if (rec.status === 'answered' || rec.status === 'unanswered') {
    return { plan, applied: false, note: `result of attempt ${cmd.attempt} already recorded` };
  }
  const ended = cmd.answered ? 'answered' : `not answered (${cmd.outcome ?? cmd.status})`;
  const recChange: Partial<FollowUpAttempt> = {
    status: cmd.answered ? 'answered' : 'unanswered',
    callId: rec.callId ?? cmd.callId,
    outcome: cmd.outcome,
  };
  const entry = {
    event: cmd.answered ? 'answered' : 'not answered',
    attempt: cmd.attempt,
    detail: `follow-up call ${cmd.callId} ${ended}`,
  };
  const attempts = updateAttempt(plan, cmd.attempt, recChange);

  // A result for an older attempt, or after a person canceled: recorded, the plan stays as it is.
  if (cmd.attempt !== plan.attempt || plan.status === 'canceled' || plan.status === 'exhausted' || plan.status === 'answered') {
    return { plan: withChange(plan, now, entry, { attempts }), applied: true, note: `recorded: ${entry.detail}` };
  }
  if (cmd.answered) {
    const p = withChange(plan, now, entry, {
      status: 'answered',
      attempts,
      nextFollowUpAt: undefined,
      awaitingUntil: undefined,
      reason: `follow-up call ${cmd.callId} was answered`,
    });
    return { plan: p, applied: true, note: p.reason! };
  }
  const next = { ...plan, attempts };
  if (plan.attempt < plan.maxAttempts) {
    const p = schedule(withChange(next, now, entry, {}), plan.attempt + 1, now + opts.delayMs, now, { event: 'scheduled' });
    return { plan: p, applied: true, note: `attempt ${p.attempt} of ${p.maxAttempts} scheduled for ${p.nextFollowUpAt}` };
  }
  const reason = `all ${plan.maxAttempts} follow-up attempts went unanswered`;
  const p = withChange(
    next,
    now,
    { ...entry, detail: `${entry.detail}; ${reason}` },
    { status: 'exhausted', reason, nextFollowUpAt: undefined, awaitingUntil: undefined },
  );
  return { plan: p, applied: true, note: reason };
}

/** The scheduled attempt's time has come: it is being placed. */
export function beginPlacing(plan: FollowUpPlan, now: number): FollowUpPlan {
  return withChange(
    plan,
    now,
    { event: 'placing', attempt: plan.attempt },
    {
      status: 'placing',
      nextFollowUpAt: undefined,
      attempts: updateAttempt(plan, plan.attempt, { status: 'placing' }),
    },
  );
}

/** The dialer failed on every try: the attempt is due for a person (or a retryNow), never silently dropped. */
export const dialerFailed = (message: string, tries: number): Placement => ({
  kind: 'due',
  reason: `the dialer failed after ${tries} tries (${message}); call by hand or send retryNow`,
});

/** What placing the attempt gave: a call the platform accepted, or an attempt due for a person. */
export function applyPlacement(
  plan: FollowUpPlan,
  placement: Placement,
  now: number,
  opts: Pick<PlanOptions, 'resultWaitMs'>,
): FollowUpPlan {
  if (placement.kind === 'deferred') {
    // Never earlier than a minute from now: a clock behind the workflow's must not make it place again at once.
    const at = iso(Math.max(Date.parse(placement.at), now + 60_000));
    return withChange(
      plan,
      now,
      { event: 'moved', attempt: plan.attempt, detail: placement.text },
      {
        status: 'scheduled',
        nextFollowUpAt: at,
        window: placement.text,
        attempts: updateAttempt(plan, plan.attempt, { status: 'scheduled', scheduledFor: at }),
      },
    );
  }
  if (placement.kind === 'blocked') {
    return withChange(
      plan,
      now,
      { event: 'canceled', attempt: plan.attempt, by: 'do-not-call', detail: placement.reason },
      {
        status: 'canceled',
        reason: placement.reason,
        nextFollowUpAt: undefined,
        awaitingUntil: undefined,
        attempts: updateAttempt(plan, plan.attempt, { status: 'canceled', reason: placement.reason }),
      },
    );
  }
  const awaitingUntil = iso(now + opts.resultWaitMs);
  if (placement.kind === 'placed') {
    return withChange(
      plan,
      now,
      { event: 'placed', attempt: plan.attempt, detail: `${placement.provider} call ${placement.callId}` },
      {
        status: 'placed',
        awaitingUntil,
        reason: undefined,
        attempts: updateAttempt(plan, plan.attempt, {
          status: 'placed',
          callId: placement.callId,
          provider: placement.provider,
          placedAt: placement.placedAt,
        }),
      },
    );
  }
  return withChange(
    plan,
    now,
    { event: 'due', attempt: plan.attempt, detail: placement.reason },
    {
      status: 'due',
      awaitingUntil,
      reason: placement.reason,
      attempts: updateAttempt(plan, plan.attempt, { status: 'due', reason: placement.reason, uncertain: placement.uncertain || undefined }),
    },
  );
}

/** The wait for a placed call's result ran out: a person has to look at it. */
export function expireWait(plan: FollowUpPlan, now: number): FollowUpPlan {
  if (plan.status === 'joined' && plan.awaitingUntil && Date.parse(plan.awaitingUntil) <= now) {
    const reason = `no word that the plan of call ${plan.joinedPlanOf?.callId ?? '?'} ended by ${plan.awaitingUntil}; check that call`;
    return withChange(plan, now, { event: 'no result', detail: reason }, { status: 'due', reason });
  }
  if (plan.status !== 'placed' || !plan.awaitingUntil || Date.parse(plan.awaitingUntil) > now) return plan;
  const callId = currentAttempt(plan)?.callId;
  const reason = `no result arrived for follow-up call ${callId ?? '?'} (attempt ${plan.attempt}) by ${plan.awaitingUntil}; check it before calling again`;
  return withChange(
    plan,
    now,
    { event: 'no result', attempt: plan.attempt, detail: reason },
    {
      status: 'due',
      reason,
      attempts: updateAttempt(plan, plan.attempt, { status: 'no-result', reason }),
    },
  );
}

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

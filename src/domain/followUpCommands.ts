// What a person's command (retry now, cancel, schedule) and the result of a placed follow-up
// call do to the plan, and how a call joins the plan the contact already has (one plan per
// contact). Pure transitions over the plan of followUpPlan.ts, which the workflow applies.
// No Node imports: the workflow bundle includes this module.
import type { Outcome } from './events';
import {
  type CommandContext,
  type CommandResult,
  type FollowUpAttempt,
  type FollowUpCommand,
  type FollowUpPlan,
  type FollowUpStatus,
  type PlanOptions,
  callOf,
  currentAttempt,
  emptyPlan,
  iso,
  nextAttemptNumber,
  schedule,
  updateAttempt,
  withChange,
} from './followUpPlan';
import { capRefusal, hardCapOf } from './spending';

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

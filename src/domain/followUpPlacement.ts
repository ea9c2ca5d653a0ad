// Placing a scheduled follow-up attempt and waiting for its result: the attempt moved by the
// contact's 24-hour cap, the placing itself, what the placing activity reported (placed, due for a
// person, deferred by the calling window, blocked by do-not-call), and the wait that runs out.
// Pure transitions over the plan of followUpPlan.ts. No Node imports: the workflow bundle includes this module.
import { type FollowUpPlan, type Placement, type PlanOptions, currentAttempt, iso, updateAttempt, withChange } from './followUpPlan';

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

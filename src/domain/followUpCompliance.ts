// Whether and when a follow-up call may go to a person: do-not-call first, then the calling
// window in the contact's local time. Pure: the workflow applies it when it plans an attempt,
// the placing activity again just before dialing (hours may have passed). No Node imports.
import { type CallingPolicy, nextOpening } from './callingWindow';
import { lawLimits } from './callingLaw/apply';
import type { CallPurpose, LawInForce } from './callingLaw/rules';
import { type FollowUpCommand, type FollowUpHistoryEntry, type FollowUpPlan, currentAttempt } from './followUpPlan';
import { applyCommand } from './followUpCommands';

export interface DoNotCall {
  reason: string;
  /** ISO-8601. */
  at: string;
  /** `contact` (PATCH /api/contacts), `list` (the organization's list), `opt-out` (said so on a call). */
  source: string;
}

/** What the rules need to know about a contact; the `followUpContext` activity gathers it. */
export interface FollowUpContext {
  /** The contact's time zones: its own, else its number's (several when the number spans zones), else the organization's. */
  zones: string[];
  /** Where the zones came from, for the human text. */
  zoneSource: 'contact' | 'phone' | 'organization';
  /** Country and subdivision of the contact (`US`, `US-FL`) for the stricter regional rules. */
  regions: string[];
  policy: CallingPolicy;
  doNotCall?: DoNotCall;
  /** What the organization's calls are for (absent in contexts recorded before the law table: no law applied then). */
  purpose?: CallPurpose;
  /** The calling-law rules of the contact's regions for that purpose (src/domain/callingLaw/rules.ts). */
  laws?: LawInForce[];
}

/** A person's explicit decision to call outside the window (never past do-not-call). */
export interface WindowOverride {
  by?: string;
  reason?: string;
}

export type FollowUpDecision =
  { kind: 'at'; at: number; movedText?: string } | { kind: 'blocked'; reason: string } | { kind: 'noWindow'; reason: string };

export const dncReason = (d: DoNotCall): string => `the contact is on the do-not-call list (${d.source}: ${d.reason})`;

/** When a follow-up planned for `plannedAt` may be placed, or why it may not be placed at all. */
export function decideFollowUpTime(plannedAt: number, ctx: FollowUpContext, override?: WindowOverride): FollowUpDecision {
  if (ctx.doNotCall) return { kind: 'blocked', reason: dncReason(ctx.doNotCall) };
  if (override) return { kind: 'at', at: plannedAt };
  const o = nextOpening(plannedAt, ctx.zones, ctx.policy, ctx.regions, lawLimits(ctx.laws));
  if (!o) {
    return {
      kind: 'noWindow',
      reason: `no time in the next two weeks is inside the calling window${ctx.laws?.length ? ' and the calling law' : ''} in all of the contact's time zones (${ctx.zones.join(', ')}); call by hand or override the window`,
    };
  }
  return o.moved ? { kind: 'at', at: o.at, movedText: o.text } : { kind: 'at', at: plannedAt };
}

const iso = (ms: number) => new Date(ms).toISOString();

function withEntry(plan: FollowUpPlan, now: number, entry: Omit<FollowUpHistoryEntry, 'at'>, change: Partial<FollowUpPlan>): FollowUpPlan {
  const e: FollowUpHistoryEntry = { at: iso(now), event: entry.event };
  if (entry.attempt !== undefined) e.attempt = entry.attempt;
  if (entry.detail !== undefined) e.detail = entry.detail;
  if (entry.by !== undefined) e.by = entry.by;
  return { ...plan, ...change, rev: plan.rev + 1, history: [...plan.history, e] };
}

/**
 * A scheduled plan after the rules: canceled for a do-not-call contact, moved to the next
 * opening of the calling window (saying so), due for a person when no opening fits, or as it was.
 * Anything but a scheduled plan is returned as it is.
 */
export function applyFollowUpRules(plan: FollowUpPlan, ctx: FollowUpContext, now: number, override?: WindowOverride): FollowUpPlan {
  if (plan.status !== 'scheduled' || !plan.nextFollowUpAt) return plan;
  const planned = Date.parse(plan.nextFollowUpAt);
  const d = decideFollowUpTime(planned, ctx, override);
  switch (d.kind) {
    case 'blocked': {
      const r = applyCommand(
        plan,
        { type: 'cancel', reason: d.reason, by: 'do-not-call' },
        {
          now,
          opts: { delayMs: plan.delayMs, maxAttempts: plan.maxAttempts, resultWaitMs: 0 },
          callEnded: true,
        },
      );
      return r.plan ?? plan;
    }
    case 'noWindow': {
      const attempts = plan.attempts.map((a) => (a.attempt === plan.attempt ? { ...a, status: 'due' as const, reason: d.reason } : a));
      return withEntry(
        plan,
        now,
        { event: 'due', attempt: plan.attempt, detail: d.reason },
        {
          status: 'due',
          reason: d.reason,
          nextFollowUpAt: undefined,
          awaitingUntil: undefined,
          attempts,
          window: undefined,
        },
      );
    }
    case 'at': {
      if (override) {
        if (decideFollowUpTime(planned, ctx).kind === 'at' && !nextOpeningMoves(planned, ctx)) return plan;
        const note = `calling window overridden${override.by ? ` by ${override.by}` : ''}${override.reason ? `: ${override.reason}` : ''}`;
        const attempts = plan.attempts.map((a) => (a.attempt === plan.attempt ? { ...a, windowOverride: { ...override } } : a));
        return withEntry(
          plan,
          now,
          { event: 'window overridden', attempt: plan.attempt, by: override.by, detail: override.reason },
          { attempts, window: note },
        );
      }
      if (!d.movedText) return plan;
      const at = iso(d.at);
      const attempts = plan.attempts.map((a) => (a.attempt === plan.attempt ? { ...a, scheduledFor: at } : a));
      return withEntry(
        plan,
        now,
        { event: 'moved', attempt: plan.attempt, detail: `${d.movedText}; was ${plan.nextFollowUpAt}` },
        {
          nextFollowUpAt: at,
          attempts,
          window: d.movedText,
        },
      );
    }
  }
}

function nextOpeningMoves(at: number, ctx: FollowUpContext): boolean {
  return nextOpening(at, ctx.zones, ctx.policy, ctx.regions, lawLimits(ctx.laws))?.moved ?? true;
}

/** The override a person gave for the plan's current attempt, if any: the placing activity honours it. */
export const windowOverrideOf = (plan: FollowUpPlan): WindowOverride | undefined => currentAttempt(plan)?.windowOverride;

/** Only a person's retryNow or schedule that asks for it overrides the window; the workflow's own plans never do. */
export const windowOverrideFrom = (cmd: FollowUpCommand | undefined): WindowOverride | undefined =>
  (cmd?.type === 'retryNow' || cmd?.type === 'schedule') && cmd.overrideWindow ? { by: cmd.by, reason: cmd.reason } : undefined;

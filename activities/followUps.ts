// Activities of the follow-up plan: placing a follow-up call through the organization's voice
// platform (exactly once per attempt), recording attempts due for a person, and keeping the
// call record's view of the plan current.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type FollowUpPlan, type Placement, describePlan } from '../src/domain/followUpPlan';
import { followUpMetadata } from '../src/domain/followUpLink';
import { withoutBlanks } from '../src/domain/compact';
import { allowedCallingCodes, dialRefusal, numberTypeRefusal } from '../src/domain/spending';
import { riskyNumberType } from '../src/phone/types';
import { getComplianceSettings } from '../src/store/compliance';
import { takeDialBudget } from '../src/store/dialBudget';
import type { Collections } from '../src/store/db';
import { recordFollowUpPlan } from '../src/store/calls';
import { placementGate } from './compliance';
import {
  type AttemptRef,
  type OutboundDialerDoc,
  claimAttempt,
  endClaim,
  ensureAttempt,
  followUpKey,
  getOutboundDialer,
  markAttempt,
  markJoined,
  markMoved,
  markPlaced,
  releaseClaim,
} from '../src/store/followUps';

export interface FollowUpActivityDeps {
  col: Collections;
  /** HTTP client for the platforms' outbound APIs (tests may wrap it). */
  fetch?: typeof fetch;
  /** Timeout of one request to a platform. */
  dialTimeoutMs?: number;
}

export interface PlaceFollowUpInput {
  orgId: string;
  originalCallId: string;
  attempt: number;
  contactId?: string;
  /** The contact's number: the one the original call tried to reach. */
  to?: string;
  /** The number the original call came from, used when the dialer has no caller id configured. */
  from?: string;
  agentId?: string;
  /** A person chose to call outside the calling window for this attempt (do-not-call still applies). */
  windowOverride?: { by?: string; reason?: string };
  /** The workflow's time when it decided to place (epoch ms): the rules are checked at this time or later. */
  placingAt?: number;
}

/** Which guard kept an attempt from being dialed: counted on the worker's /metrics. */
export type DialGuard = 'country' | 'number_type' | 'budget';

export type PlaceResult = Placement & { uncertain?: boolean; refusedBy?: DialGuard };

/** Network errors raised before a request left this machine: the platform never saw it. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_INVALID_URL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Reads the platform's id of the new call from its answer. */
  callIdOf(json: unknown): string | undefined;
}

const field = (json: unknown, key: string): string | undefined => {
  if (!json || typeof json !== 'object') return undefined;
  const v = (json as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
};

/**
 * The create-call request of each platform. Facts: Retell `POST /v2/create-phone-call` (Bearer key;
 * from_number, to_number, override_agent_id, metadata; answers with `call_id`); Vapi `POST /call`
 * (Bearer key; assistantId, phoneNumberId, customer.number, metadata in assistantOverrides; answers
 * with `id`); Bland `POST /v1/calls` (key in `authorization` as is; phone_number, from, pathway_id
 * or task, metadata; answers `{status, call_id}`). None documents an idempotency key; the header is
 * sent anyway and exactly-once rests on the claim in MongoDB.
 */
export function outboundRequest(d: OutboundDialerDoc, input: PlaceFollowUpInput & { to: string }, idempotencyKey: string): OutboundRequest {
  const base = d.baseUrl.replace(/\/+$/, '');
  const metadata = followUpMetadata(input.originalCallId, input.attempt, input.contactId);
  const common = { 'content-type': 'application/json', 'idempotency-key': idempotencyKey };
  switch (d.provider) {
    case 'retell':
      return {
        url: `${base}/v2/create-phone-call`,
        headers: { ...common, authorization: `Bearer ${d.apiKey}` },
        body: withoutBlanks({
          from_number: d.fromNumber ?? input.from,
          to_number: input.to,
          override_agent_id: d.agentId ?? input.agentId,
          metadata,
        }),
        callIdOf: (j) => field(j, 'call_id'),
      };
    case 'vapi':
      return {
        url: `${base}/call`,
        headers: { ...common, authorization: `Bearer ${d.apiKey}` },
        body: withoutBlanks({
          assistantId: d.agentId ?? input.agentId,
          phoneNumberId: d.phoneNumberId,
          customer: { number: input.to },
          assistantOverrides: { metadata },
          name: `Follow-up ${input.attempt} of ${input.originalCallId}`.slice(0, 40),
        }),
        callIdOf: (j) => field(j, 'id'),
      };
    case 'bland':
      return {
        url: `${base}/v1/calls`,
        headers: { ...common, authorization: d.apiKey },
        body: withoutBlanks({
          phone_number: input.to,
          from: d.fromNumber,
          pathway_id: d.agentId,
          task: d.agentId ? undefined : (d.task ?? 'Follow up on the earlier call that was not answered.'),
          metadata,
        }),
        callIdOf: (j) => (field(j, 'status') === 'error' ? undefined : field(j, 'call_id')),
      };
  }
}

export const createFollowUpActivities = ({ col, fetch: fetchImpl = fetch, dialTimeoutMs = 15_000 }: FollowUpActivityDeps) => ({
  /**
   * Places one follow-up attempt, at most once. The attempt's document is claimed before the
   * request and marked placed after it; a retry that finds it placed returns the stored call. A
   * try that finds a claim left by an earlier try cannot know whether that request reached the
   * platform, so it never sends again: the attempt becomes `uncertain`, due for a person.
   */
  async placeFollowUpCall(input: PlaceFollowUpInput): Promise<PlaceResult> {
    const id = followUpKey(input.orgId, input.originalCallId, input.attempt);
    const ref: AttemptRef = {
      orgId: input.orgId,
      originalCallId: input.originalCallId,
      attempt: input.attempt,
      contactId: input.contactId,
      to: input.to,
    };
    if (!input.to) {
      const reason = 'the contact has no phone number to call';
      await markAttempt(col, id, ref, 'due', reason);
      return { kind: 'due', reason };
    }
    // Do-not-call and the calling window, checked at the time of dialing.
    const gate = await placementGate(col, { ...input, to: input.to }, id, Math.max(input.placingAt ?? 0, Date.now()));
    if (gate) return gate;
    const dialer = await getOutboundDialer(col, input.orgId);
    if (!dialer) {
      const reason = `no outbound dialer is configured for ${input.orgId}: call ${input.to} by hand, or configure one (tsx src/bin/cli.ts outbound set ...) and send retryNow`;
      await markAttempt(col, id, ref, 'due', reason);
      return { kind: 'due', reason };
    }
    // Toll-fraud guards: only the countries and number types the operator configured are dialed unattended.
    const refusal = (guard: DialGuard, reason: string | undefined) => (reason ? { guard, reason } : undefined);
    const refused =
      refusal('country', dialRefusal(input.to, allowedCallingCodes(dialer.allowedCountryCodes, dialer.fromNumber))) ??
      refusal('number_type', numberTypeRefusal(input.to, riskyNumberType(input.to), dialer.allowedNumberTypes));
    if (refused) {
      // One text for the attempt's record and the plan: both writers of the follow-up record say the same.
      const reason = `${refused.reason}; call by hand if it is right`;
      await markAttempt(col, id, ref, 'due', reason);
      return { kind: 'due', reason, refusedBy: refused.guard };
    }

    const doc = await ensureAttempt(col, id, ref);
    const info = Context.current().info;
    const token = `${info.workflowExecution?.runId ?? 'standalone'}:${info.activityId}:${info.attempt}`;
    const settled = settledResult(doc);
    if (settled) return settled;
    const { dailyDialBudget } = await getComplianceSettings(col, input.orgId);
    const overBudget = await takeDialBudget(col, input.orgId, id, dailyDialBudget, new Date());
    if (overBudget) {
      const reason = `${overBudget}; call by hand or raise the budget`;
      await markAttempt(col, id, ref, 'due', reason);
      return { kind: 'due', reason, refusedBy: 'budget' };
    }
    if (!(await claimAttempt(col, input.orgId, id, token, dialer.provider))) {
      const now = await ensureAttempt(col, id, ref);
      const again = settledResult(now);
      if (again) return again;
      if (now.status === 'placing') {
        // Another try holds the claim; it sent the request or died sending it.
        const reason = `an earlier try sent the request to ${now.provider ?? dialer.provider} and no answer was recorded; check for a call to ${input.to} before dialing (attempt ${input.attempt})`;
        await endClaim(col, input.orgId, id, undefined, 'uncertain', reason);
        return { kind: 'due', reason, uncertain: true };
      }
      throw ApplicationFailure.retryable(`follow-up ${id} is ${now.status}; not claimable`, 'FollowUpNotClaimable');
    }

    const req = outboundRequest(dialer, { ...input, to: input.to }, id);
    const signal = AbortSignal.any([AbortSignal.timeout(dialTimeoutMs), Context.current().cancellationSignal]);
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(req.url, { method: 'POST', headers: req.headers, body: JSON.stringify(req.body), signal });
      text = await res.text();
    } catch (err) {
      const code = errorCode(err);
      const message = `${dialer.provider} ${req.url}: ${(err as Error)?.message ?? err}${code ? ` (${code})` : ''}`;
      if (code && NOT_SENT_CODES.has(code)) {
        await releaseClaim(col, input.orgId, id, token, message);
        throw ApplicationFailure.retryable(`could not reach the dialer: ${message}`, 'DialerUnavailable');
      }
      const reason = `the request to ${dialer.provider} may have been sent but got no answer (${message}); check for a call to ${input.to} before dialing`;
      await endClaim(col, input.orgId, id, token, 'uncertain', reason);
      return { kind: 'due', reason, uncertain: true };
    }

    const excerpt = text.slice(0, 300);
    if (res.status === 429 || res.status === 503) {
      await releaseClaim(col, input.orgId, id, token, `HTTP ${res.status}: ${excerpt}`);
      throw ApplicationFailure.retryable(`${dialer.provider} answered ${res.status}; retrying later`, 'DialerUnavailable');
    }
    if (res.status >= 400 && res.status < 500) {
      const reason = `${dialer.provider} refused the follow-up call (HTTP ${res.status}: ${excerpt})`;
      await endClaim(col, input.orgId, id, token, 'rejected', reason);
      return { kind: 'due', reason };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const callId = res.ok ? req.callIdOf(json) : undefined;
    if (!callId) {
      const reason = `${dialer.provider} answered HTTP ${res.status} without a call id (${excerpt}); the call may or may not exist, check before dialing`;
      await endClaim(col, input.orgId, id, token, 'uncertain', reason);
      return { kind: 'due', reason, uncertain: true };
    }
    const placedAt = new Date();
    await markPlaced(col, input.orgId, id, token, callId, placedAt);
    return { kind: 'placed', callId, provider: dialer.provider, placedAt: placedAt.toISOString() };
  },

  /**
   * Writes the plan to the call record (attempt n of m, nextFollowUpAt, history) and keeps the
   * attempt's own document in step when it is due for a person or canceled. Never replaces a newer
   * plan with an older one.
   */
  async recordFollowUp(input: {
    orgId: string;
    callId: string;
    plan: FollowUpPlan;
    contactId?: string;
    to?: string;
  }): Promise<'saved' | 'stale'> {
    const { orgId, callId, plan } = input;
    const saved = await recordFollowUpPlan(col, orgId, callId, { ...plan, summary: describePlan(plan) });
    const cur = plan.attempts.find((a) => a.attempt === plan.attempt);
    const ref0: AttemptRef = { orgId, originalCallId: callId, attempt: plan.attempt, contactId: input.contactId, to: input.to };
    // One plan per contact: a joined call is listed with the call whose plan it joined, and how that plan ended.
    if (plan.joinedPlanOf && plan.attempt === 0) {
      await markJoined(
        col,
        followUpKey(orgId, callId, 0),
        ref0,
        plan.joinedPlanOf.callId,
        plan.reason ?? 'joined',
        plan.status === 'joined' ? undefined : plan.status,
      );
    }
    const moved = plan.status === 'scheduled' && plan.nextFollowUpAt ? [plan.cap, plan.window].filter(Boolean).join('; ') : '';
    if (moved) await markMoved(col, followUpKey(orgId, callId, plan.attempt), ref0, new Date(plan.nextFollowUpAt!), moved);
    if (cur && (cur.status === 'due' || cur.status === 'no-result' || cur.status === 'canceled') && !cur.uncertain) {
      const ref: AttemptRef = { orgId, originalCallId: callId, attempt: plan.attempt, contactId: input.contactId, to: input.to };
      await markAttempt(
        col,
        followUpKey(orgId, callId, plan.attempt),
        ref,
        cur.status === 'canceled' ? 'canceled' : 'due',
        cur.reason ?? plan.reason ?? cur.status,
      );
    }
    return saved;
  },
});

function settledResult(doc: {
  status: string;
  providerCallId?: string;
  provider?: string;
  placedAt?: Date;
  reason?: string;
  attempt: number;
}): PlaceResult | undefined {
  if (doc.status === 'placed' && doc.providerCallId) {
    return {
      kind: 'placed',
      callId: doc.providerCallId,
      provider: doc.provider ?? 'unknown',
      placedAt: (doc.placedAt ?? new Date()).toISOString(),
    };
  }
  if (doc.status === 'uncertain')
    return { kind: 'due', reason: doc.reason ?? `attempt ${doc.attempt} may have been placed; check before dialing`, uncertain: true };
  if (doc.status === 'rejected') return { kind: 'due', reason: doc.reason ?? 'the platform refused the call' };
  return undefined;
}

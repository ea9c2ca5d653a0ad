// Activities of the calling rules: what the workflow needs to decide a follow-up's time (the
// contact's time zones and region, the organization's window, do-not-call), and marking a
// contact do-not-call when the platform's post-call analysis says the person opted out.
import { getClient } from '@temporalio/activity';
import type { Placement } from '../src/domain/followUpPlan';
import { type FollowUpContext, type WindowOverride, decideFollowUpTime } from '../src/domain/followUpCompliance';
import { inForce, lawsFor } from '../src/domain/callingLaw/rules';
import { lawAttemptLimits, lawQuietAfterConversation } from '../src/domain/callingLaw/apply';
import type { GateRequest } from '../src/domain/contactCaps';
import type { Collections } from '../src/store/db';
import { getFollowUpCall } from '../src/store/followUps';
import {
  doNotCallFor,
  getComplianceSettings,
  markContactDoNotCall,
  addDoNotCallNumbers,
  pendingFollowUpWorkflows,
  contactZones,
  lastConversationAt,
} from '../src/store/compliance';
import { getContactRecord } from '../src/store/contacts';
import { cancelFollowUp } from '../workflows/messages';

export interface ComplianceActivityDeps {
  col: Collections;
}

export interface FollowUpContextInput {
  orgId: string;
  contactId?: string;
  /** The number a follow-up would call. */
  phone?: string;
}

/** The rules' view of a contact: zones (contact's own, else the number's, else the organization's), regions, window, do-not-call. */
export async function loadFollowUpContext(col: Collections, input: FollowUpContextInput): Promise<FollowUpContext> {
  const settings = getComplianceSettings(col, input.orgId);
  const [s, dnc, zones] = await Promise.all([
    settings,
    doNotCallFor(col, input.orgId, { contactId: input.contactId, phone: input.phone }),
    contactZones(col, input, settings),
  ]);
  const laws = lawsFor(zones.regions, s.purpose).map(inForce);
  return { policy: s.callingWindow, ...zones, purpose: s.purpose, laws, ...(dnc ? { doNotCall: dnc } : {}) };
}

/**
 * What a reservation for the contact is checked against: the organization's 24-hour cap, the caps
 * of the calling law of the contact's regions (its address and its number's), and the law's quiet
 * period after a conversation (Regulation F for debt collection).
 */
export async function reserveRules(
  col: Collections,
  orgId: string,
  contactId: string,
  now = Date.now(),
): Promise<Pick<Extract<GateRequest, { type: 'reserve' }>, 'cap' | 'limits' | 'quietUntil' | 'quietRule'>> {
  const settings = getComplianceSettings(col, orgId);
  const contact = await getContactRecord(col, orgId, contactId);
  const [s, zones] = await Promise.all([settings, contactZones(col, { orgId, contactId, phone: contact?.phone }, settings)]);
  const laws = lawsFor(zones.regions, s.purpose);
  const limits = lawAttemptLimits(laws, now);
  const quiet = lawQuietAfterConversation(laws, now);
  const last = quiet ? await lastConversationAt(col, orgId, contactId) : undefined;
  return {
    cap: s.contactCapPer24h,
    ...(limits.length > 0 ? { limits } : {}),
    ...(quiet && last !== undefined ? { quietUntil: last + quiet.ms, quietRule: quiet.rule } : {}),
  };
}

/** A post-call analysis value that means yes: true, "true", "yes", 1. */
export function isTruthy(v: unknown): boolean {
  if (v === true || v === 1) return true;
  return typeof v === 'string' && ['true', 'yes', 'y', '1'].includes(v.trim().toLowerCase());
}

/**
 * The opt-out field's value in a call's analysis data: at the top (Retell's custom analysis data,
 * Bland's analysis), in Vapi's `structuredData`, or in Bland's `variables`; a dotted name is a path.
 */
export function optOutValue(data: Record<string, unknown>, field: string): unknown {
  const path = (o: unknown, p: string): unknown =>
    p.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), o);
  for (const where of [data, data.structuredData, data.variables]) {
    const v = path(where, field);
    if (v !== undefined) return v;
  }
  return undefined;
}

export const createComplianceActivities = ({ col }: ComplianceActivityDeps) => ({
  async followUpContext(input: FollowUpContextInput): Promise<FollowUpContext> {
    return loadFollowUpContext(col, input);
  },

  /**
   * Marks the contact (or, without one, its number) do-not-call when the organization's opt-out
   * field of the post-call analysis is truthy, and cancels the follow-ups pending for that person
   * in other calls. Returns the reason when it marked, else null. Idempotent.
   */
  async applyOptOut(input: {
    orgId: string;
    callId: string;
    contactId?: string;
    phone?: string;
    data: Record<string, unknown>;
  }): Promise<string | null> {
    const { orgId, callId, contactId, phone } = input;
    const { optOutField } = await getComplianceSettings(col, orgId);
    const value = optOutValue(input.data, optOutField);
    if (!isTruthy(value)) return null;
    const reason = `opted out during call ${callId} (${optOutField}: ${JSON.stringify(value)})`;
    if (contactId) await markContactDoNotCall(col, orgId, contactId, { reason, source: 'opt-out', callId });
    else if (phone) await addDoNotCallNumbers(col, orgId, [{ phone, reason }], 'opt-out');
    else return null;
    for (const workflowId of await pendingFollowUpWorkflows(col, orgId, { contactId, phone })) {
      // A closed workflow has nothing pending; its placement check would refuse anyway.
      await getClient()
        .workflow.getHandle(workflowId)
        .signal(cancelFollowUp, { reason: `the contact is on the do-not-call list (${reason})`, by: 'do-not-call' })
        .catch(() => undefined);
    }
    return reason;
  },
});

/**
 * The rules again, just before dialing (hours may have passed since the attempt was planned): a
 * do-not-call contact is not called, and outside the window the attempt waits for the next
 * opening. Undefined when the call may go out now, or when an earlier try may already have sent
 * it (the claim decides that case, as for any retry).
 */
export async function placementGate(
  col: Collections,
  input: { orgId: string; contactId?: string; to: string; windowOverride?: WindowOverride },
  attemptId: string,
  now = Date.now(),
): Promise<Placement | undefined> {
  const doc = await getFollowUpCall(col, input.orgId, attemptId);
  if (doc && ['placing', 'placed', 'uncertain', 'rejected'].includes(doc.status)) return undefined;
  const ctx = await loadFollowUpContext(col, { orgId: input.orgId, contactId: input.contactId, phone: input.to });
  const d = decideFollowUpTime(now, ctx, input.windowOverride);
  if (d.kind === 'blocked') return { kind: 'blocked', reason: d.reason };
  if (d.kind === 'noWindow') return { kind: 'due', reason: d.reason };
  if (d.at > now)
    return {
      kind: 'deferred',
      at: new Date(d.at).toISOString(),
      text: d.movedText ?? `moved to ${new Date(d.at).toISOString()} (calling window)`,
    };
  return undefined;
}

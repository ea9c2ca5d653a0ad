// What a call's workflow shows people in the Temporal UI: the "waiting for" line and the current
// details (markdown). Pure text from the workflow's state, so it is unit-tested without Temporal.
// No Node imports: the workflow bundle includes this module.
import { type FollowUpPlan, describePlan, isSettled } from './followUpPlan';
import { type CallState, describe } from './reducer';
import { type StaleWatch, describeStale } from './stale';
import type { EmailView } from './thankYou';
import type { FollowUpCommand } from './followUpPlan';

export type { EmailView };

/** What the last follow-up command did (or why it did nothing). */
export interface LastCommand {
  type: FollowUpCommand['type'];
  applied: boolean;
  note: string;
  at: string;
}

export interface FollowUpView extends FollowUpPlan {
  /** "follow-up attempt 1 of 3 scheduled for ..." */
  summary: string;
}

/** The call's reducer state plus what the workflow is doing now (the getState query). */
export interface CallView {
  state: Omit<CallState, 'owners'>;
  /** What the workflow waits for next, in words. */
  waitingFor: string;
  /** The follow-up plan of an unanswered call, if it has one. */
  followUp?: FollowUpView;
  /** The post-call thank-you email, once the workflow dealt with it. */
  email?: EmailView;
  /** What the last follow-up signal did (or why it did nothing). */
  lastCommand?: LastCommand;
}

/** The parts of a call workflow's state that its UI text reads. */
export interface CallDetailsInput {
  state: CallState;
  followUp?: FollowUpPlan;
  lastCommand?: { type: string; applied: boolean; note: string };
  email?: { status: string; reason?: string };
  waitingFor: string;
  /** Polls of the platform about a call with no end (src/domain/stale.ts). */
  staleWatch?: StaleWatch;
}

/** What the workflow waits for next, in words ("the recording; follow-up attempt 1 of 3 at ..."). */
export function describeWait(w: { callDone: boolean; callEnded: boolean; followUp?: FollowUpPlan; now: number; askAt?: string }): string {
  const parts: string[] = [];
  const ask = w.askAt ? ` (its platform is asked at ${w.askAt} if none comes)` : '';
  if (!w.callDone) parts.push(w.callEnded ? 'the recording' : `the call to end${ask}`);
  const f = w.followUp;
  if (f && !isSettled(f, w.now)) {
    if (f.status === 'scheduled') parts.push(`follow-up attempt ${f.attempt} of ${f.maxAttempts} at ${f.nextFollowUpAt}`);
    else if (f.status === 'placed') parts.push(`the result of follow-up attempt ${f.attempt} (until ${f.awaitingUntil})`);
    else if (f.status === 'due') parts.push(`a person to place follow-up attempt ${f.attempt}, or retryNow (until ${f.awaitingUntil})`);
    else if (f.status === 'joined')
      parts.push(`the end of the follow-up plan of call ${f.joinedPlanOf?.callId ?? '?'} it joined (until ${f.awaitingUntil})`);
  }
  return parts.join('; ') || 'nothing';
}

/** The workflow's current details: the call, its follow-up plan and recent history, the email, what it waits for. */
export function callDetails(d: CallDetailsInput): string {
  const s = d.state;
  const lines = [`**${describe(s)}**`];
  if (s.from || s.to) lines.push(`from ${s.from ?? '?'} to ${s.to ?? '?'}`);
  if (s.endedReason) lines.push(`ended: ${s.endedReason}`);
  if (s.stale) lines.push(`**${describeStale(s.stale)}**`);
  else if (d.staleWatch?.lastAnswer) lines.push(`asked the platform (${d.staleWatch.polls}): ${d.staleWatch.lastAnswer}`);
  if (s.recordingUrl) lines.push(`recording: ${s.recordingUrl}`);
  if (s.followUpOf) lines.push(`follow-up attempt ${s.followUpOf.attempt} of call ${s.followUpOf.originalCallId}`);
  if (d.followUp) {
    lines.push(`**${describePlan(d.followUp)}**`);
    const recent = d.followUp.history
      .slice(-3)
      .map((h) => `${h.at} ${h.event}${h.attempt ? ` #${h.attempt}` : ''}${h.by ? ` by ${h.by}` : ''}${h.detail ? `: ${h.detail}` : ''}`);
    if (recent.length) lines.push(recent.join('\n\n'));
  }
  const c = d.lastCommand;
  if (c) lines.push(`last command: ${c.type} ${c.applied ? 'applied' : 'not applied'}: ${c.note}`);
  if (d.email) lines.push(`thank-you email: ${d.email.status}${d.email.reason ? ` (${d.email.reason})` : ''}`);
  lines.push(`waiting for: ${d.waitingFor}`);
  lines.push(`events: ${s.eventCount}`);
  return lines.join('\n\n');
}

/** What the workflow shows where people look: the search attributes' values and the UI's details text. */
export interface CallPublication {
  status: CallState['status'];
  outcome: string | null;
  contactId: string | null;
  stale: true | null;
  nextFollowUpAt: Date | null;
  followUpAttempt: number | null;
  text: string;
}

/** The search attributes' values and the details text of a call. */
export function publication(d: CallDetailsInput): CallPublication {
  const s = d.state;
  const f = d.followUp;
  return {
    status: s.status,
    outcome: s.outcome ?? null,
    contactId: s.contactId ?? null,
    stale: s.stale ? true : null,
    nextFollowUpAt: f?.status === 'scheduled' && f.nextFollowUpAt ? new Date(f.nextFollowUpAt) : null,
    followUpAttempt: f && f.attempt > 0 ? f.attempt : null,
    text: callDetails(d),
  };
}

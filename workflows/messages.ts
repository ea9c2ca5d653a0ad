// Signals, queries and names shared by the workflow and every client (receiver, CLI, tests).
// Imports nothing from Node, so the workflow bundle can include it.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CallEvent, Outcome, Provider } from '../src/domain/events';
import type { CallView } from '../src/domain/callDetails';
import type { CarriedCall } from '../src/domain/call';
import type { WorkflowSettings } from '../src/config';
import type { ContactFigures, CountedCall } from '../src/domain/contactFigures';
import type { ContactGateState, GateAnswer, GateRequest, JoinedPlanEnd } from '../src/domain/contactCaps';

export const WORKFLOW_TYPE = 'callLifecycle';

/** A canonical event for this call, whole (the receiver's signal before claim checks; the CLI may still send it). */
export const callEvent = defineSignal<[CallEvent]>('callEvent');
/**
 * The receiver's events for this call, one or several: small fields only, the heavy ones claim-checked
 * (src/domain/claimCheck.ts), so no signal passes a few KB whatever the webhook.
 */
export const callEvents = defineSignal<[CallEvent[]]>('callEvents');

/** The call's reducer state plus what the workflow is doing now. */
export const getState = defineQuery<CallView>('getState');

export type { CallView };

// ---- manual control of follow-ups (temporal / tctl CLI, HTTP routes) --------------------------
// Every input is optional or a small JSON object, so the CLIs can send them as they are:
//   temporal workflow signal --workflow-id 'call:ORG:CALL' --name retryNow
//   temporal workflow signal --workflow-id 'call:ORG:CALL' --name cancelFollowUp --input '{"reason":"asked not to be called"}'
//   temporal workflow signal --workflow-id 'call:ORG:CALL' --name scheduleFollowUp --input '{"at":"2025-01-16T09:00:00Z"}'

export interface RetryNowInput {
  reason?: string;
  /** Who asked (shown in the follow-up history). */
  by?: string;
  /** Call even outside the contact's calling window (recorded with `by` and `reason`; do-not-call still applies). */
  overrideWindow?: boolean;
}
export interface CancelFollowUpInput {
  reason: string;
  by?: string;
}
export interface ScheduleFollowUpInput {
  /** ISO-8601 date and time. Either this or `in`. */
  at?: string;
  /** A delay from now: `30m`, `2h`, `1d`. */
  in?: string;
  reason?: string;
  by?: string;
  /** Keep the time even outside the contact's calling window (recorded with `by` and `reason`). */
  overrideWindow?: boolean;
}

/** Skip the wait and place the follow-up call now (or, after a due attempt, try the dialer again). */
export const retryNow = defineSignal<[input?: RetryNowInput | null]>('retryNow');
/** Stop following up; a string is taken as the reason. */
export const cancelFollowUp = defineSignal<[input?: CancelFollowUpInput | string | null]>('cancelFollowUp');
/** Place the follow-up at a given time instead (or plan one for an ended call that had none). */
export const scheduleFollowUp = defineSignal<[input: ScheduleFollowUpInput | string]>('scheduleFollowUp');

/** One follow-up command for the HTTP routes (and any client that wants the workflow's answer). */
export type ControlFollowUpInput =
  ({ type: 'retryNow' } & RetryNowInput) | ({ type: 'cancel' } & CancelFollowUpInput) | ({ type: 'schedule' } & ScheduleFollowUpInput);

export interface ControlFollowUpResult {
  /** What the workflow did, in words: "attempt 2 of 3 will be placed now". */
  note: string;
  /** The plan's summary afterwards. */
  summary?: string;
}

/**
 * The same commands as the three signals, as an Update: its validator refuses what would do
 * nothing (the refusal says why), and its result is what the workflow actually did.
 */
export const controlFollowUp = defineUpdate<ControlFollowUpResult, [ControlFollowUpInput]>('controlFollowUp');

/** Sent by a follow-up call's own workflow to the original call's workflow when it ended. */
export interface FollowUpResultInput {
  attempt: number;
  callId: string;
  status: string;
  outcome?: Outcome;
  answered: boolean;
}
export const followUpResult = defineSignal<[FollowUpResultInput]>('followUpResult');

/** One workflow per call. The id says which call it is, so it reads well in the Temporal UI. */
export function workflowIdFor(orgId: string, callId: string): string {
  return `call:${orgId}:${callId}`;
}

export interface CallWorkflowInput {
  orgId: string;
  callId: string;
  provider: Provider;
  settings: WorkflowSettings;
  /** Set when the workflow continued as new: the state and events it had not applied yet. */
  carried?: CarriedCall;
}

// ---- the contact's own workflow: the one writer of its call figures ----------------------------

export const CONTACT_WORKFLOW_TYPE = 'contactLifecycle';

/** One workflow per contact, so every change to its figures goes through a single writer. */
export function contactWorkflowIdFor(orgId: string, contactId: string): string {
  return `contact:${orgId}:${contactId}`;
}

/** A call of this contact ended (completed): count it, once. Sent by the call's workflow. */
export const callEnded = defineSignal<[CountedCall]>('callEnded');

export interface ContactView {
  orgId: string;
  contactId: string;
  figures: ContactFigures;
  /** Calls received and not yet counted. */
  pending: number;
  /** Follow-up attempts in the last 24 hours and the plan running, if any. */
  gate?: ContactGateState;
}
export const getContactState = defineQuery<ContactView>('getContactState');

/**
 * The contact gate: the contact's per-person follow-up rules, asked by a call's workflow (through
 * the askContactGate activity, since workflow code cannot send Updates): may this call start a
 * plan or must it join the one running, may this attempt be placed now under the 24-hour cap. The
 * same request again gets the same answer and takes no second slot. Its wire name stays
 * 'followUpGate': running contact workflows and their histories know it by that name.
 */
export const contactGateUpdate = defineUpdate<GateAnswer, [GateRequest]>('followUpGate');

/** From the contact's workflow to a call that joined another call's plan: that plan ended. */
export const joinedPlanEnded = defineSignal<[JoinedPlanEnd]>('joinedPlanEnded');

export interface ContactWorkflowInput {
  orgId: string;
  contactId: string;
  settings: {
    activityTimeoutMs: number;
    /** The workflow closes after this long without a call; the next call starts a new run. */
    idleCloseMs: number;
    maxHistoryEvents: number;
  };
  /** Set when the workflow continued as new. */
  carried?: { figures: ContactFigures; pending: CountedCall[]; gate?: ContactGateState; notify?: JoinedPlanEnd[] };
}

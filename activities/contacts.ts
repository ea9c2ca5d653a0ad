// Activities that keep an organization's contacts: finding the contact of a call, handing a
// finished call to the contact's own workflow, and (from that workflow) counting it.
import { Context, getClient } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import type { ContactGateState, GateAnswer, GateAsk, GateRequest } from '../src/domain/contactCaps';
import type { ContactFigures, CountedCall } from '../src/domain/contactFigures';
import type { Collections } from '../src/store/db';
import { countContactCalls, loadContactFigures, resolveContact } from '../src/store/contacts';
import { reserveRules } from './compliance';
import { loadContactGate, saveContactGate } from '../src/store/contactGate';
import { SA } from '../src/temporal/searchAttributes';
import {
  CONTACT_WORKFLOW_TYPE,
  type ContactWorkflowInput,
  callEnded,
  contactWorkflowIdFor,
  contactGateUpdate,
  workflowIdFor,
} from '../workflows/messages';

export interface ContactActivityDeps {
  col: Collections;
}

export interface NotifyContactInput {
  orgId: string;
  contactId: string;
  /** The task queue of the call's workflow: the contact's workflow runs beside it. */
  taskQueue: string;
  settings: ContactWorkflowInput['settings'];
  call: CountedCall;
}

export interface AskContactGateInput {
  orgId: string;
  contactId: string;
  taskQueue: string;
  settings: ContactWorkflowInput['settings'];
  request: GateAsk;
}

/** Whether the call's workflow still runs; a failure to ask counts as running (the safe answer: the call joins). */
async function ownerRunning(orgId: string, callId: string): Promise<boolean> {
  try {
    return (await getClient().workflow.getHandle(workflowIdFor(orgId, callId)).describe()).status.name === 'RUNNING';
  } catch (err) {
    return !(err instanceof WorkflowNotFoundError);
  }
}

/**
 * Tells the contact's workflow (started if it is not running) that a call of this contact
 * ended. Safe to repeat: the contact's workflow counts each call id once. Only from an activity
 * (it uses the activity's Temporal client).
 */
export async function signalContact(input: NotifyContactInput): Promise<void> {
  const { orgId, contactId } = input;
  await getClient().workflow.signalWithStart(CONTACT_WORKFLOW_TYPE, {
    workflowId: contactWorkflowIdFor(orgId, contactId),
    taskQueue: input.taskQueue,
    args: [{ orgId, contactId, settings: input.settings } satisfies ContactWorkflowInput],
    signal: callEnded,
    signalArgs: [input.call],
    typedSearchAttributes: [
      { key: SA.orgId, value: orgId },
      { key: SA.contactId, value: contactId },
    ],
    staticSummary: `contact ${contactId}`,
    staticDetails: `Organization ${orgId}. The one writer of this contact's call figures; finished calls arrive as the callEnded signal.`,
  });
}

export const createContactActivities = ({ col }: ContactActivityDeps) => ({
  /** The contact id for a call: the explicit one, else the contact with that phone, created if new. */
  async resolveContact(ref: { orgId: string; contactId?: string; phone?: string }): Promise<string | null> {
    return (await resolveContact(col, ref.orgId, ref)) ?? null;
  },

  /** Tells the contact's workflow that a call of this contact ended (see signalContact). Runs recorded before settleCall replay with it. */
  async notifyContact(input: NotifyContactInput): Promise<void> {
    await signalContact(input);
  },

  /**
   * Asks the contact's workflow (started if it is not running) a per-person follow-up question
   * and returns its answer. Workflow code cannot send an Update in this SDK, so the call's workflow
   * asks through this activity. Safe to retry: the contact's workflow answers a repeated request
   * as the first time (a reservation is keyed by call and attempt), and the update id is this
   * activity's own, so Temporal also answers a retry of one delivered Update from its record.
   */
  async askContactGate(input: AskContactGateInput): Promise<GateAnswer> {
    const { orgId, contactId, request } = input;
    const req: GateRequest = request.type === 'reserve' ? { ...request, ...(await reserveRules(col, orgId, contactId)) } : request;
    const info = Context.current().info;
    const client = getClient();
    const send = (r: GateRequest, suffix: string) =>
      client.workflow.executeUpdateWithStart(contactGateUpdate, {
        args: [r],
        updateId: `gate:${info.workflowExecution?.runId ?? info.activityId}:${info.activityId}${suffix}`,
        // One operation per request: the SDK uses each once.
        startWorkflowOperation: new WithStartWorkflowOperation(CONTACT_WORKFLOW_TYPE, {
          workflowId: contactWorkflowIdFor(orgId, contactId),
          taskQueue: input.taskQueue,
          args: [{ orgId, contactId, settings: input.settings } satisfies ContactWorkflowInput],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [
            { key: SA.orgId, value: orgId },
            { key: SA.contactId, value: contactId },
          ],
          staticSummary: `contact ${contactId}`,
          staticDetails: `Organization ${orgId}. The one writer of this contact's call figures and follow-up caps.`,
        }),
      });
    const answer = await send(req, '');
    if (req.type !== 'startPlan' || answer.kind !== 'joined' || (await ownerRunning(orgId, answer.ownerCallId))) return answer;
    // The owner's workflow closed without reporting its plan's end (terminated, timed out): end the plan for it, then ask again.
    const owner = answer.ownerCallId;
    await send(
      { type: 'endPlan', callId: owner, status: 'closed', reason: `call ${owner}'s workflow closed without saying how its plan ended` },
      ':end',
    );
    return send(req, ':again');
  },

  /** Runs recorded before loadContactState replay with it. */
  async loadContactGate(ref: { orgId: string; contactId: string }): Promise<ContactGateState> {
    return loadContactGate(col, ref.orgId, ref.contactId);
  },

  /** Stores the contact's follow-up state; an older state never replaces a newer one. */
  async saveContactGate(input: { orgId: string; contactId: string; gate: ContactGateState }): Promise<void> {
    await saveContactGate(col, input.orgId, input.contactId, input.gate);
  },

  /** Everything a new run of the contact's workflow continues from: its figures and follow-up state, read at once. */
  async loadContactState(ref: { orgId: string; contactId: string }): Promise<{ figures: ContactFigures; gate: ContactGateState }> {
    const [figures, gate] = await Promise.all([
      loadContactFigures(col, ref.orgId, ref.contactId),
      loadContactGate(col, ref.orgId, ref.contactId),
    ]);
    return { figures, gate };
  },

  /** The figures stored for a contact (runs recorded before loadContactState replay with it). */
  async loadContactFigures(ref: { orgId: string; contactId: string }): Promise<ContactFigures> {
    return loadContactFigures(col, ref.orgId, ref.contactId);
  },

  /** Counts a batch of finished calls on the contact, each once, and stores the figures. */
  async countContactCalls(input: { orgId: string; contactId: string; figures: ContactFigures; calls: CountedCall[] }) {
    return countContactCalls(col, input.orgId, input.contactId, input.figures, input.calls);
  },
});

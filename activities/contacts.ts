// Activities that keep an organization's contacts: finding the contact of a call, handing a
// finished call to the contact's own workflow, and (from that workflow) counting it.
import { getClient } from '@temporalio/activity';
import type { ContactFigures, CountedCall } from '../src/domain/contactFigures';
import type { Collections } from '../src/store/db';
import { countContactCalls, loadContactFigures, resolveContact } from '../src/store/contacts';
import { SA } from '../src/temporal/searchAttributes';
import { CONTACT_WORKFLOW_TYPE, type ContactWorkflowInput, callEnded, contactWorkflowIdFor } from '../workflows/messages';

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

export const createContactActivities = ({ col }: ContactActivityDeps) => ({
  /** The contact id for a call: the explicit one, else the contact with that phone, created if new. */
  async resolveContact(ref: { orgId: string; contactId?: string; phone?: string }): Promise<string | null> {
    return (await resolveContact(col, ref.orgId, ref)) ?? null;
  },

  /**
   * Tells the contact's workflow (started if it is not running) that a call of this contact
   * ended. Safe to repeat: the contact's workflow counts each call id once.
   */
  async notifyContact(input: NotifyContactInput): Promise<void> {
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
  },

  /** The figures stored for a contact, so a new run of its workflow continues from them. */
  async loadContactFigures(ref: { orgId: string; contactId: string }): Promise<ContactFigures> {
    return loadContactFigures(col, ref.orgId, ref.contactId);
  },

  /** Counts a batch of finished calls on the contact, each once, and stores the figures. */
  async countContactCalls(input: { orgId: string; contactId: string; figures: ContactFigures; calls: CountedCall[] }) {
    return countContactCalls(col, input.orgId, input.contactId, input.figures, input.calls);
  },
});

// Activities that update the organization's contacts.
import { ApplicationFailure } from '@temporalio/activity';
import type { Collections } from '../src/store/db';
import { markCall } from '../src/store/calls';
import { countCallOnContact, resolveContact } from '../src/store/contacts';

export interface ContactActivityDeps {
  col: Collections;
}

export interface CountCallInput {
  orgId: string;
  callId: string;
  contactId: string;
  date: string;
  durationSec?: number;
}

export const createContactActivities = ({ col }: ContactActivityDeps) => ({
  /** The contact id for a call: the explicit one, else the contact with that phone, created if new. */
  async resolveContact(ref: { orgId: string; contactId?: string; phone?: string }): Promise<string | null> {
    if (ref.contactId !== undefined && !/^[^\s:]{1,200}$/.test(ref.contactId)) {
      throw ApplicationFailure.nonRetryable(`contactId "${ref.contactId}" is not a valid id`, 'InvalidContact');
    }
    return (await resolveContact(col, ref.orgId, ref)) ?? null;
  },

  /**
   * Last call date, call count +1 and last duration on the contact, exactly once per call: the
   * check and the increment are a single MongoDB update keyed by the call id.
   */
  async countCallOnContact(input: CountCallInput): Promise<'counted' | 'already-counted'> {
    const result = await countCallOnContact(col, input.orgId, input.contactId, input);
    await markCall(col, input.orgId, input.callId, { contactCountedAt: new Date() });
    return result;
  },
});

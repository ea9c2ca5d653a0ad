// Which party of a call is the contact, and how a looked-up contact joins the state.
import type { WorkflowSettings } from '../config';
import type { CallState } from './reducer';

/**
 * The contact's phone number: the caller on an inbound call, the callee otherwise. Voice-AI
 * platforms mostly place outbound calls, so a call of unknown direction counts as outbound.
 */
export function contactPhone(s: Pick<CallState, 'direction' | 'from' | 'to'>): string | undefined {
  return s.direction === 'inbound' ? s.from : s.to;
}

/**
 * Attaches a contact found by phone. It owns the field with the lowest precedence, so a
 * contactId that an event carries later still wins.
 */
export function withResolvedContact(s: CallState, contactId: string): CallState {
  return { ...s, contactId, owners: { ...s.owners, contactId: '' } };
}

/** Settings the call's workflow hands to the contact's workflow when it starts it. */
export const contactWorkflowSettings = (s: WorkflowSettings) => ({
  activityTimeoutMs: s.activityTimeoutMs,
  idleCloseMs: s.contactIdleMs,
  maxHistoryEvents: s.maxHistoryEvents,
});

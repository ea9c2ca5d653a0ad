// One local activity settles a change of the call (activities/settle.ts): the contact looked up,
// the record saved, the metrics, the contact's notice, the thank-you email's decision, and the
// effects-done mark, where each was an activity of its own (each result an activation of the
// workflow). What it is asked to do and what it answers, as data, and the one rule the workflow
// and the activity must share: how a found contact goes on the call.
import { type contactWorkflowSettings, withResolvedContact } from './contact';
import type { Effect, EffectsDone } from './effects';
import type { CallState } from './reducer';

/**
 * The effects settleCall runs itself: quick, idempotent writes to our own database and a signal.
 * For `sendThankYou` only the decision (nobody to send to, recorded as skipped); the SMTP send
 * stays an ordinary activity (its own retries, a slow server never holds the workflow task).
 * A follow-up plan (the contact's workflow, the calling rules) and the opt-out check stay with the
 * workflow as before.
 */
export type SettledEffect = Extract<Effect, 'recordMetrics' | 'countContact' | 'sendThankYou'>;

const SETTLED: ReadonlySet<Effect> = new Set<SettledEffect>(['recordMetrics', 'countContact', 'sendThankYou']);

/** The owed effects split, in order, into those settleCall runs and those the workflow runs after it. */
export function splitEffects(effects: readonly Effect[]): { settled: SettledEffect[]; rest: Effect[] } {
  return {
    settled: effects.filter((e): e is SettledEffect => SETTLED.has(e)),
    rest: effects.filter((e) => !SETTLED.has(e)),
  };
}

export interface SettleCallInput {
  /** The call after its events, before the contact lookup. */
  state: CallState;
  workflowId: string;
  /** Whether the events changed the call (then it is saved). */
  save: boolean;
  /** Whom to look up (or create) as the call's contact, before the save: once per contact id. */
  lookup?: { contactId?: string; phone?: string };
  /** Run after the save, together (they are independent of each other); `sendThankYou` is the decision only. */
  effects: SettledEffect[];
  /** For `countContact`: the contact's workflow's task queue and settings, and the workflow's clock. */
  count: { taskQueue: string; settings: ReturnType<typeof contactWorkflowSettings>; now: number };
  /**
   * What the effects are done for, written last, when this settles everything owed. Not written
   * when the email is to be sent: the workflow marks after the send, so a task that dies between
   * this and the send still owes the email on its retry.
   */
  done?: EffectsDone;
}

export interface SettleCallResult {
  /** The lookup's answer (absent when there was no lookup). */
  contactId?: string | null;
  /** `countContact` was asked and the call had no contact to count it on. */
  uncounted?: boolean;
  /** `sendThankYou` was asked: why there is nobody to send to, or null when the email is to be sent. */
  thankYouSkip?: string | null;
  /** The effects-done mark was written. */
  marked: boolean;
}

/** The call with the contact a lookup found: only when the call names none (an event's own contactId wins). */
export const withContactFound = (s: CallState, contactId: string | null | undefined): CallState =>
  contactId && !s.contactId ? withResolvedContact(s, contactId) : s;

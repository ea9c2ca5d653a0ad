// settleCall: a change of the call settled in one local activity (src/domain/settle.ts says what
// it is asked). One activation of the call's workflow and one task's worth of round trips, where
// the contact lookup, the save, the metrics, the contact's notice, the email's decision and the
// effects-done mark were an activity (and an activation) each.
import type { Collections } from '../src/store/db';
import { countedCallOf } from '../src/domain/call';
import { type SettleCallInput, type SettleCallResult, withContactFound } from '../src/domain/settle';
import { markEffectsDone, recordCallMetrics, saveCallState } from '../src/store/calls';
import { withClaimedFields } from '../src/store/claims';
import { resolveContact } from '../src/store/contacts';
import { signalContact } from './contacts';
import { type Mailer, thankYouSkip } from './email';

export interface SettleActivityDeps {
  col: Collections;
  /** Without one the thank-you email is skipped (and recorded so). */
  mailer?: Mailer;
}

export const createSettleActivities = ({ col, mailer }: SettleActivityDeps) => ({
  /**
   * Settles a change of the call: the contact looked up (created when new), the record saved, then
   * the owed effects it was given, then the effects-done mark. Every step is idempotent, as each was
   * as an activity of its own, so a retry (of this local activity, or of the workflow task when the
   * worker died halfway) repeats them all harmlessly: the lookup finds the contact the first try
   * created (one contact per number, by a unique _id), the save never overwrites a newer state
   * (guarded on eventCount), the metrics are an upsert, the contact's workflow counts each call id
   * once (one fact per call with a unique _id), and a skip is recorded again. The mark is written
   * last, in its own write: a try that dies before it leaves the record owing the effects, and the
   * retried task runs them again instead of finding the call settled with its contact uncounted.
   * The thank-you email itself is never sent here: a local activity is retried from the start and
   * holds the workflow task, and the SMTP send has its own claim, retries and limit, so it stays an
   * ordinary activity (sendThankYouEmail), and the mark waits for it.
   */
  async settleCall(input: SettleCallInput): Promise<SettleCallResult> {
    const { orgId, callId } = input.state;
    const result: SettleCallResult = { marked: false };
    if (input.lookup) result.contactId = (await resolveContact(col, orgId, input.lookup)) ?? null;
    const state = withContactFound(input.state, result.contactId);
    if (input.save) await saveCallState(col, await withClaimedFields(col, state), input.workflowId);
    const { taskQueue, settings, now } = input.count;
    // Independent of each other (the call record, its metrics' document, the contact's workflow): at once.
    await Promise.all(
      input.effects.map(async (effect) => {
        switch (effect) {
          case 'recordMetrics':
            return recordCallMetrics(col, state);
          case 'countContact':
            if (!state.contactId) return void (result.uncounted = true);
            return signalContact({ orgId, contactId: state.contactId, taskQueue, settings, call: countedCallOf(state, now) });
          case 'sendThankYou':
            result.thankYouSkip = await thankYouSkip(col, mailer, { orgId, callId, contactId: state.contactId });
        }
      }),
    );
    if (input.done && result.thankYouSkip !== null) {
      await markEffectsDone(col, orgId, callId, input.done);
      result.marked = true;
    }
    return result;
  },
});

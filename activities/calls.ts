// Activities that keep the call record and its metrics in MongoDB.
import type { CallState } from '../src/domain/reducer';
import type { Collections } from '../src/store/db';
import type { EffectsDone } from '../src/domain/effects';
import { loadCallState, markEffectsDone, recordCallMetrics, saveCallState } from '../src/store/calls';
import { slimStoredState, withClaimedFields } from '../src/store/claims';

export interface CallActivityDeps {
  col: Collections;
}

export const createCallActivities = ({ col }: CallActivityDeps) => ({
  /** The state stored for a call, so a restarted workflow resumes instead of starting blank. */
  async loadCall(ref: { orgId: string; callId: string }): Promise<{ state: CallState; effectsDone: EffectsDone } | null> {
    // Slim, like the events: the workflow's input and history never hold a transcript.
    const stored = await loadCallState(col, ref.orgId, ref.callId);
    return stored ? { ...stored, state: slimStoredState(stored.state) } : null;
  },

  /** Records that the call's effects have all run for this state (see EffectsDone). */
  async markEffectsDone(input: { orgId: string; callId: string; done: EffectsDone }): Promise<void> {
    await markEffectsDone(col, input.orgId, input.callId, input.done);
  },

  /** Upserts the call record, heavy fields whole from the event log; an older state never overwrites a newer one. */
  async saveCall(state: CallState, workflowId: string): Promise<'saved' | 'stale'> {
    return saveCallState(col, await withClaimedFields(col, state), workflowId);
  },

  /** Duration, outcome and contact of a finished call, for analytics. Idempotent upsert. */
  async recordMetrics(state: CallState): Promise<void> {
    await recordCallMetrics(col, state);
  },
});

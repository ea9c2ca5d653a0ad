// Activities that keep the call record and its metrics in MongoDB.
import type { CallState } from '../src/domain/lifecycle';
import type { Collections } from '../src/store/db';
import { loadCallState, recordCallMetrics, saveCallState } from '../src/store/calls';

export interface CallActivityDeps {
  col: Collections;
}

export const createCallActivities = ({ col }: CallActivityDeps) => ({
  /** The state stored for a call, so a restarted workflow resumes instead of starting blank. */
  async loadCall(ref: { orgId: string; callId: string }): Promise<CallState | null> {
    return (await loadCallState(col, ref.orgId, ref.callId)) ?? null;
  },

  /** Upserts the call record; an older state never overwrites a newer one. */
  async saveCall(state: CallState, workflowId: string): Promise<'saved' | 'stale'> {
    return saveCallState(col, state, workflowId);
  },

  /** Duration, outcome and contact of a finished call, for analytics. Idempotent upsert. */
  async recordMetrics(state: CallState): Promise<void> {
    await recordCallMetrics(col, state);
  },
});

// What a failed activity says, for workflow code: its ApplicationFailure type, if any, and the
// message of what went wrong inside it (not Temporal's "Activity task failed" wrapper).
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

export function activityError(err: unknown): { type?: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return {
    type: cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined,
    message: cause instanceof Error ? cause.message : String(cause),
  };
}

// Manual control of a call's follow-up for people without Temporal access. The HTTP routes ask
// the workflow through an Update: it refuses what would do nothing and answers with what it did.
// People at a terminal use the signals of the same names (see workflows/messages.ts).
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { type ControlFollowUpInput, type ControlFollowUpResult, controlFollowUp } from '../../workflows/messages';

/** gRPC status codes (grpc-js is not a direct dependency). */
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;

export type ControlOutcome =
  | { kind: 'done'; result: ControlFollowUpResult }
  /** The workflow refused, or tried and could not: `reason` is its own words. */
  | { kind: 'refused'; reason: string }
  /** The workflow has closed: nothing can change any more. */
  | { kind: 'closed' }
  /** No worker answered in time (all down, or a long backlog). */
  | { kind: 'no-answer' };

export interface CallControl {
  control(workflowId: string, input: ControlFollowUpInput): Promise<ControlOutcome>;
}

export function createCallControl(client: Client, opts: { answerTimeoutMs?: number } = {}): CallControl {
  const answerTimeoutMs = opts.answerTimeoutMs ?? 10_000;
  return {
    async control(workflowId, input) {
      const handle = client.workflow.getHandle(workflowId);
      try {
        // Without a worker polling, an Update waits for one: do not hold the request for that.
        const result = await client.withDeadline(Date.now() + answerTimeoutMs, () =>
          handle.executeUpdate(controlFollowUp, { args: [input] }),
        );
        return { kind: 'done', result };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = err.cause;
          return { kind: 'refused', reason: cause?.message ?? err.message };
        }
        if (err instanceof WorkflowNotFoundError) return { kind: 'closed' };
        const code: number | undefined = isGrpcServiceError(err) ? err.code : undefined;
        if (code === NOT_FOUND) return { kind: 'closed' };
        if (code === DEADLINE_EXCEEDED) return { kind: 'no-answer' };
        throw err;
      }
    },
  };
}

// Manual control of a call's workflow for people without Temporal access: the HTTP routes look
// at the workflow (is it open, what is its follow-up doing) and send it the same signals the
// `temporal` CLI sends.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type CallView, type CancelFollowUpInput, type RetryNowInput, type ScheduleFollowUpInput, cancelFollowUp, getState, retryNow, scheduleFollowUp } from '../../workflows/messages';

export type ControlSignal =
  | { name: 'retryNow'; input: RetryNowInput }
  | { name: 'cancelFollowUp'; input: CancelFollowUpInput }
  | { name: 'scheduleFollowUp'; input: ScheduleFollowUpInput };

export interface WorkflowLook {
  running: boolean;
  /** The workflow's own view, when a worker answered the query in time. */
  view?: CallView;
}

export interface CallControl {
  inspect(workflowId: string): Promise<WorkflowLook>;
  signal(workflowId: string, signal: ControlSignal): Promise<void>;
}

export function createCallControl(client: Client, opts: { queryTimeoutMs?: number } = {}): CallControl {
  const queryTimeoutMs = opts.queryTimeoutMs ?? 5_000;
  return {
    async inspect(workflowId) {
      const handle = client.workflow.getHandle(workflowId);
      let running: boolean;
      try {
        running = (await handle.describe()).status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { running: false };
        throw err;
      }
      if (!running) return { running };
      try {
        // Without a worker polling, a query waits for one: do not hold the request for that.
        const view = await client.withDeadline(Date.now() + queryTimeoutMs, () => handle.query(getState));
        return { running, view };
      } catch {
        return { running };
      }
    },
    async signal(workflowId, s) {
      const handle = client.workflow.getHandle(workflowId);
      if (s.name === 'retryNow') await handle.signal(retryNow, s.input);
      else if (s.name === 'cancelFollowUp') await handle.signal(cancelFollowUp, s.input);
      else await handle.signal(scheduleFollowUp, s.input);
    },
  };
}

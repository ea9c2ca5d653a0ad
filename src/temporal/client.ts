// The receiver's side of Temporal: one signalWithStart per call's inbox events, to the call's own workflow.
import { Client, Connection } from '@temporalio/client';
import type { CallEvent, Provider } from '../domain/events';
import type { WorkflowSettings } from '../config';
import { type CallWorkflowInput, WORKFLOW_TYPE, callEvents, workflowIdFor } from '../../workflows/messages';
import { SA } from './searchAttributes';

export async function connectTemporal(opts: { address: string; namespace: string }): Promise<Client> {
  const connection = await Connection.connect({ address: opts.address });
  return new Client({ connection, namespace: opts.namespace });
}

/** A client that connects on first use and reconnects by itself: a receiver starts while Temporal is down. */
export function connectTemporalLazily(opts: { address: string; namespace: string }): Client {
  return new Client({ connection: Connection.lazy({ address: opts.address }), namespace: opts.namespace });
}

export interface CallSignaler {
  /** Delivers one call's events (slim, claim-checked) durably: when this resolves, Temporal has them in the call's history. */
  deliver(orgId: string, provider: Provider, events: CallEvent | CallEvent[]): Promise<{ workflowId: string }>;
  /** Throws when Temporal cannot be reached. */
  ping(): Promise<void>;
}

/**
 * How long one delivery from the inbox may wait for Temporal before it counts as failed and the
 * event waits for the relay; the SDK would otherwise keep retrying an unreachable server for minutes.
 */
export const DELIVER_DEADLINE_MS = 5_000;
const PING_DEADLINE_MS = 2_000;

export function createSignaler(client: Client, taskQueue: string, settings: WorkflowSettings): CallSignaler {
  return {
    async deliver(orgId, provider, one) {
      const events = Array.isArray(one) ? one : [one];
      const event = events[0];
      const workflowId = workflowIdFor(orgId, event.callId);
      const input: CallWorkflowInput = { orgId, callId: event.callId, provider, settings };
      await client.withDeadline(Date.now() + DELIVER_DEADLINE_MS, () =>
        client.workflow.signalWithStart(WORKFLOW_TYPE, {
          workflowId,
          taskQueue,
          args: [input],
          signal: callEvents,
          signalArgs: [events],
          typedSearchAttributes: [
            { key: SA.orgId, value: orgId },
            { key: SA.callProvider, value: provider },
            { key: SA.callStatus, value: 'pending' },
          ],
          staticSummary: `${provider} call ${event.callId}`,
          staticDetails: `Organization ${orgId}. State: query getState. Events arrive as the callEvents signal (heavy fields by reference to the event log).`,
        }),
      );
      return { workflowId };
    },
    async ping() {
      await client.withDeadline(Date.now() + PING_DEADLINE_MS, () => client.connection.workflowService.getSystemInfo({}));
    },
  };
}

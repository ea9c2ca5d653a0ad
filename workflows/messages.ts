// Signals, queries and names shared by the workflow and every client (receiver, CLI, tests).
// Imports nothing from Node, so the workflow bundle can include it.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CallEvent, Provider } from '../src/domain/events';
import type { CallState } from '../src/domain/lifecycle';
import type { WorkflowSettings } from '../src/config';

export const WORKFLOW_TYPE = 'callLifecycle';

/** A canonical event for this call, from the receiver. */
export const callEvent = defineSignal<[CallEvent]>('callEvent');

/** The call's reducer state plus what the workflow is doing now. */
export const getState = defineQuery<CallView>('getState');

export interface CallView {
  state: Omit<CallState, 'owners'>;
  /** What the workflow waits for next, in words. */
  waitingFor: string;
}

/** One workflow per call. The id says which call it is, so it reads well in the Temporal UI. */
export function workflowIdFor(orgId: string, callId: string): string {
  return `call:${orgId}:${callId}`;
}

export type { WorkflowSettings as CallWorkflowSettings } from '../src/config';

export interface CallWorkflowInput {
  orgId: string;
  callId: string;
  provider: Provider;
  settings: WorkflowSettings;
  /** Set when the workflow continued as new: the state and events it had not applied yet. */
  carried?: { state: CallState; pending: CallEvent[] };
}

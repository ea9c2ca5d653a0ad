// One durable workflow per call: applies each event to the pure reducer, persists the call,
// and runs the effects its transitions demand as activities. Deterministic: no Node imports,
// activity *types* only.
import {
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import type { CallEvent, Outcome } from '../src/domain/events';
import { type CallState, describe, initialState, isTerminal, reduce } from '../src/domain/lifecycle';
import { type Effect, effectsFor } from '../src/domain/effects';
import { withResolvedContact, contactPhone } from '../src/domain/contact';
import { SA } from '../src/temporal/searchAttributes';
import { type CallView, type CallWorkflowInput, callEvent, getState } from './messages';

/** Continue as new well before Temporal's history limits, carrying state and unapplied events. */
const MAX_HISTORY_EVENTS = 5_000;

export async function callLifecycle(input: CallWorkflowInput): Promise<Omit<CallState, 'owners'>> {
  const { orgId, callId, provider, settings } = input;
  const acts = proxyActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['InvalidContact'] },
  });

  const pending: CallEvent[] = [...(input.carried?.pending ?? [])];
  let waitingFor = 'the first event';
  let state: CallState = input.carried?.state ?? initialState(orgId, callId, provider);

  setHandler(callEvent, (event) => {
    pending.push(event);
  });
  setHandler(getState, (): CallView => ({ state: view(state), waitingFor }));

  if (!input.carried) {
    // A late webhook can start a new run for a call whose earlier run already closed: resume
    // from what that run stored, so replayed events are recognised as duplicates.
    const stored = await acts.loadCall({ orgId, callId });
    if (stored) state = stored;
  }

  let terminalAt: number | undefined = isTerminal(state.status) ? Date.now() : undefined;
  let lastEventAt = Date.now();

  for (;;) {
    while (pending.length > 0) {
      const event = pending.shift()!;
      const prev = state;
      const { state: next, duplicate } = reduce(state, event);
      if (duplicate) {
        log.info('duplicate event ignored', { eventId: event.eventId });
        continue;
      }
      state = await withContact(next);
      lastEventAt = Date.now();
      await acts.saveCall(state, workflowInfo().workflowId);
      for (const effect of effectsFor(prev, state, { followUpOn: settings.followUpOn as Outcome[] })) {
        await runEffect(effect, state);
      }
      if (isTerminal(state.status) && terminalAt === undefined) terminalAt = Date.now();
      publish(state);
    }

    if (workflowInfo().historyLength > MAX_HISTORY_EVENTS || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof callLifecycle>({ ...input, carried: { state, pending: [...pending] } });
    }

    const done = () => isTerminal(state.status) && recordingSettled(state);
    if (done()) break;

    // Wait for the next event, the recording, or the end of the patience for either.
    let timeoutMs: number;
    if (terminalAt !== undefined) {
      waitingFor = 'the recording';
      timeoutMs = Math.max(0, terminalAt + settings.recordingWaitMs - Date.now());
    } else {
      waitingFor = 'the call to end';
      timeoutMs = Math.max(0, lastEventAt + settings.idleTimeoutMs - Date.now());
    }
    const gotEvent = await condition(() => pending.length > 0, timeoutMs);
    if (!gotEvent) {
      log.info(terminalAt !== undefined ? 'recording did not arrive in time' : 'call went idle', { status: state.status });
      break;
    }
  }

  waitingFor = 'nothing (closed)';
  publish(state);
  return view(state);

  function recordingSettled(s: CallState): boolean {
    return s.recordingReady || s.recordingUrl !== undefined || s.status === 'failed';
  }

  async function withContact(s: CallState): Promise<CallState> {
    if (s.contactId) return s;
    const phone = contactPhone(s);
    if (!phone) return s;
    const contactId = await acts.resolveContact({ orgId, phone });
    return contactId ? withResolvedContact(s, contactId) : s;
  }

  async function runEffect(effect: Effect, s: CallState): Promise<void> {
    switch (effect) {
      case 'recordMetrics':
        await acts.recordMetrics(s);
        return;
      case 'countContact':
        if (!s.contactId) {
          log.warn('completed call has no contact to count it on', { callId });
          return;
        }
        await acts.countCallOnContact({
          orgId, callId, contactId: s.contactId,
          date: s.endedAt ?? s.answeredAt ?? s.startedAt ?? s.timeline[s.timeline.length - 1]?.receivedAt ?? new Date().toISOString(),
          durationSec: s.durationSec,
        });
        return;
      case 'sendThankYou':
      case 'scheduleFollowUp':
        // Follow-through effects are added with the email and follow-up activities.
        log.info('effect not handled by this workflow version', { effect });
        return;
    }
  }
}

function view(s: CallState): Omit<CallState, 'owners'> {
  const { owners, ...rest } = s;
  return rest;
}

/** Mirrors the state where people look: search attributes and the UI's current details. */
function publish(s: CallState): void {
  const updates: SearchAttributeUpdatePair[] = [
    { key: SA.callStatus, value: s.status },
    { key: SA.callOutcome, value: s.outcome ?? null },
    { key: SA.contactId, value: s.contactId ?? null },
  ];
  upsertSearchAttributes(updates);
  setCurrentDetails(details(s));
}

function details(s: CallState): string {
  const lines = [`**${describe(s)}**`];
  if (s.from || s.to) lines.push(`from ${s.from ?? '?'} to ${s.to ?? '?'}`);
  if (s.endedReason) lines.push(`ended: ${s.endedReason}`);
  if (s.recordingUrl) lines.push(`recording: ${s.recordingUrl}`);
  lines.push(`events: ${s.eventCount}`);
  return lines.join('\n\n');
}

// The call as its workflow keeps it: the reducer state and the call's own clocks, and the pure
// decisions about them — which events change the call, which effects are owed, when the call
// itself needs nothing more, what a follow-up call reports to the call it follows up, and which
// follow-up command a person's signal or Update asks for. The workflow only runs what these
// decide (activities, timers, signals). No Node imports: the workflow bundle includes this module.
import { contactPhone } from './contact';
import type { CallGateRole, JoinedPlanEnd } from './contactCaps';
import type { CountedCall } from './contactFigures';
import { type EffectsDone, effectsDoneOf } from './effects';
import type { StaleWatch } from './stale';
import type { EmailView } from './thankYou';
import type { CallEvent } from './events';
import { type FollowUpCommand, type FollowUpPlan, isAnswered, resolveScheduleTime } from './followUpPlan';
import { windowOverrideOf } from './followUpCompliance';
import { followUpLinkOf } from './followUpLink';
import { type CallState, isTerminal, reduce } from './reducer';

/** Applies events that arrived together, in order; duplicates change nothing and are named. */
export function applyEvents(state: CallState, events: readonly CallEvent[]): { state: CallState; duplicates: string[] } {
  const duplicates: string[] = [];
  let s = state;
  for (const event of events) {
    const r = reduce(s, event);
    if (r.duplicate) duplicates.push(event.eventId);
    else s = r.state;
  }
  return { state: s, duplicates };
}

/** Whether the state moved on since the effects were last run for it (status, outcome or analysis). */
export function effectsOwed(done: EffectsDone, s: CallState): boolean {
  const now = effectsDoneOf(s);
  return now.status !== done.status || now.outcome !== done.outcome || now.analysis !== done.analysis;
}

/** The recording is in, or will never come (a failed call has none). */
export const recordingSettled = (s: CallState): boolean => s.recordingReady || s.recordingUrl !== undefined || s.status === 'failed';

/** What a run hands to the next when it continues as new: the state and what it had not applied yet. */
export interface CarriedCall {
  state: CallState;
  pending: CallEvent[];
  followUp?: FollowUpPlan;
  commands?: FollowUpCommand[];
  email?: EmailView;
  reportedResult?: string;
  effectsDone?: EffectsDone;
  /** Polls of the platform since the call's last event (src/domain/stale.ts). */
  staleWatch?: StaleWatch;
  /** This call's part in the contact's one follow-up plan (see workflows/contactGate.ts). */
  gateRole?: CallGateRole;
}

/** When the call ended and last changed, and whether the workflow stopped waiting for the call itself. */
export interface CallClock {
  terminalAt?: number;
  lastEventAt: number;
  /** The recording was waited out, or the call went idle. */
  settled: boolean;
}

export interface CallPatience {
  /** After the end: how long to wait for the recording (RECORDING_WAIT). */
  recordingWaitMs: number;
  /** Before the end: how long without an event before the call is let go (CALL_IDLE_TIMEOUT). */
  idleTimeoutMs: number;
}

export const startClock = (s: CallState, now: number): CallClock => ({
  terminalAt: isTerminal(s.status) ? now : undefined,
  lastEventAt: now,
  settled: false,
});

/** The clock after the call changed at `now`: the end is remembered the first time it is seen. */
export const clockAfterChange = (c: CallClock, s: CallState, now: number): CallClock => ({
  ...c,
  lastEventAt: now,
  terminalAt: c.terminalAt ?? (isTerminal(s.status) ? now : undefined),
});

/** Until when the workflow waits for the call itself: the recording after the end, else the next event. */
export const callDeadline = (c: CallClock, p: CallPatience): number =>
  c.terminalAt !== undefined ? c.terminalAt + p.recordingWaitMs : c.lastEventAt + p.idleTimeoutMs;

/** The clock once `now` is past the deadline; `why` says what was given up on (for the log). */
export function settleIfDue(c: CallClock, s: CallState, now: number, p: CallPatience): { clock: CallClock; why?: string } {
  if (c.settled || (isTerminal(s.status) && recordingSettled(s)) || now < callDeadline(c, p)) return { clock: c };
  return { clock: { ...c, settled: true }, why: c.terminalAt !== undefined ? 'recording did not arrive in time' : 'call went idle' };
}

/** The call itself needs nothing more. A stale call is not waited for: a later webhook starts a run again. */
export const isCallDone = (c: CallClock, s: CallState): boolean =>
  c.settled || s.stale !== undefined || (isTerminal(s.status) && recordingSettled(s));

/** A late `completed` for a call taken as unanswered: nobody needs calling back. */
export function cancelOnLateCompletion(s: CallState, plan: FollowUpPlan | undefined): FollowUpCommand | undefined {
  return s.status === 'completed' && plan?.status === 'scheduled'
    ? { type: 'cancel', reason: 'the call completed after all', by: 'workflow' }
    : undefined;
}

/** What a follow-up call tells the call it follows up, once per end it reaches; undefined when nothing (new) is to be told. */
export function resultReport(
  s: CallState,
  reported: string | undefined,
):
  | {
      key: string;
      originalCallId: string;
      result: { attempt: number; callId: string; status: string; outcome?: CallState['outcome']; answered: boolean };
    }
  | undefined {
  const link = followUpLinkOf(s);
  if (!link || !isTerminal(s.status)) return undefined;
  const key = `${s.status}|${s.outcome ?? ''}`;
  if (reported === key) return undefined;
  return {
    key,
    originalCallId: link.originalCallId,
    result: { attempt: link.attempt, callId: s.callId, status: s.status, outcome: s.outcome, answered: isAnswered(s) },
  };
}

/** The call as the contact's figures count it: its end, else its start, else when we learnt of it. */
export const countedCallOf = (s: CallState, now: number): CountedCall => ({
  callId: s.callId,
  date: s.endedAt ?? s.answeredAt ?? s.startedAt ?? s.timeline[s.timeline.length - 1]?.receivedAt ?? new Date(now).toISOString(),
  durationSec: s.durationSec,
});

/** The parties of the call as the follow-up and opt-out activities name them. */
export const contactRef = (s: CallState): { orgId: string; contactId?: string; phone?: string } => ({
  orgId: s.orgId,
  contactId: s.contactId,
  phone: contactPhone(s),
});

/** What the opt-out check reads: the platform's analysis data of this call, and who the contact is. */
export const optOutRequest = (s: CallState) => ({
  orgId: s.orgId,
  callId: s.callId,
  contactId: s.contactId,
  phone: contactPhone(s),
  data: s.analysis?.data ?? {},
});

/** What the thank-you email says of the call: its agent, when it was, how long. */
export const thankYouRequest = (s: CallState) => ({
  orgId: s.orgId,
  callId: s.callId,
  contactId: s.contactId,
  agentId: s.agentId,
  agentName: typeof s.metadata?.agentName === 'string' ? s.metadata.agentName : undefined,
  callDate: s.startedAt ?? s.answeredAt ?? s.endedAt,
  durationSec: s.durationSec,
});

/** What the dialer is asked for the plan's attempt: the contact's number, from the number the call used, a person's window override. */
export const dialRequest = (s: CallState, plan: FollowUpPlan, now: number) => ({
  orgId: s.orgId,
  originalCallId: s.callId,
  attempt: plan.attempt,
  contactId: s.contactId,
  to: contactPhone(s),
  from: s.direction === 'inbound' ? s.to : s.from,
  agentId: s.agentId,
  windowOverride: windowOverrideOf(plan),
  placingAt: now,
});

/** The state as clients see it: without the reducer's field owners. */
export type PublicCallState = Omit<CallState, 'owners'>;

export function publicState(s: CallState): PublicCallState {
  const { owners: _owners, ...rest } = s;
  return rest;
}

// ---- what people ask of the follow-up plan (signals from the CLIs, the HTTP routes' Update) ----

type Who = { by?: string; reason?: string };

export const retryNowCommand = (i: (Who & { overrideWindow?: boolean }) | null | undefined): FollowUpCommand => ({
  type: 'retryNow',
  by: i?.by,
  reason: i?.reason,
  overrideWindow: i?.overrideWindow,
});

/** A bare string is the reason. */
export const cancelCommand = (i: { reason?: string; by?: string } | string | null | undefined): FollowUpCommand =>
  typeof i === 'string' ? { type: 'cancel', reason: i } : { type: 'cancel', reason: i?.reason ?? '', by: i?.by };

/** A bare string is a time or a delay; a delay (`in: "2h"`) counts from `now`, the workflow's clock. */
export function scheduleCommand(
  i: (Who & { at?: string; in?: string; overrideWindow?: boolean }) | string | null | undefined,
  now: number,
): FollowUpCommand {
  const o = typeof i === 'object' && i !== null ? i : undefined;
  return { type: 'schedule', at: resolveScheduleTime(i, now), by: o?.by, reason: o?.reason, overrideWindow: o?.overrideWindow };
}

/** The plan this call joined ended (from the contact's workflow). */
export const joinedEndedCommand = (e: JoinedPlanEnd): FollowUpCommand => ({
  type: 'joinedEnded',
  ownerCallId: e.ownerCallId,
  status: e.status,
  reason: e.reason,
});

/** A follow-up call of this one reports how it ended. */
export const resultCommand = (r: {
  attempt: number;
  callId: string;
  status: string;
  outcome?: CallState['outcome'];
  answered: boolean;
}): FollowUpCommand => ({
  type: 'result',
  attempt: r.attempt,
  callId: r.callId,
  status: r.status,
  outcome: r.outcome,
  answered: r.answered,
});

/** The command an Update names by its `type`. */
export type ControlInput =
  | ({ type: 'retryNow'; overrideWindow?: boolean } & Who)
  | { type: 'cancel'; reason: string; by?: string }
  | ({ type: 'schedule'; at?: string; in?: string; overrideWindow?: boolean } & Who);

export function commandOf(input: ControlInput, now: number): FollowUpCommand {
  switch (input.type) {
    case 'retryNow':
      return retryNowCommand(input);
    case 'cancel':
      return cancelCommand(input);
    case 'schedule':
      return scheduleCommand(input, now);
  }
}

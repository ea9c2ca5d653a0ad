// What a transition of the call demands, as data. The workflow turns these into activities;
// every activity is idempotent on (organization, call, effect), so asking twice is harmless.
import type { Outcome } from './events';
import { type CallState, isTerminal } from './reducer';

export type Effect =
  /** Count the call on the contact: last call date, call count +1, last duration. Once per call. */
  | 'countContact'
  /** Record duration, outcome and contact for analytics. */
  | 'recordMetrics'
  /** Send the post_call_thank_you email. Once per call. */
  | 'sendThankYou'
  /** Schedule a follow-up call after the configured delay. */
  | 'scheduleFollowUp'
  /** Check the platform's analysis for the organization's opt-out field (the person may have asked not to be called). */
  | 'applyOptOut';

export interface EffectPolicy {
  /** Outcomes that get a follow-up call (no-answer always; busy by configuration). */
  followUpOn: readonly Outcome[];
}

/**
 * What a call's effects have been run for, kept on the call record. A workflow task that saved the
 * call and then died (Temporal stopped, the worker killed) leaves a record ahead of its effects;
 * the retry compares the state with this, not with the record, so the effects still run.
 */
export interface EffectsDone {
  status: CallState['status'];
  outcome?: Outcome;
  /** Fingerprint of the platform's analysis data that the opt-out check last saw. */
  analysis?: string;
}

/** Nothing has been run yet. */
export const NO_EFFECTS_DONE: EffectsDone = { status: 'pending' };

export function effectsDoneOf(s: Pick<CallState, 'status' | 'outcome' | 'analysis'>): EffectsDone {
  const done: EffectsDone = { status: s.status };
  if (s.outcome !== undefined) done.outcome = s.outcome;
  const analysis = fingerprint(s.analysis?.data);
  if (analysis !== undefined) done.analysis = analysis;
  return done;
}

/** Whether the platform's analysis data changed since the opt-out check last ran. */
export const analysisChanged = (done: EffectsDone, s: Pick<CallState, 'analysis'>): boolean =>
  fingerprint(s.analysis?.data) !== done.analysis;

/** A short, stable digest of some JSON (FNV-1a over its text): pure, so the workflow can use it. */
function fingerprint(data: unknown): string | undefined {
  if (data === undefined || data === null) return undefined;
  const text = JSON.stringify(data);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${text.length.toString(36)}.${h.toString(36)}`;
}

/** Effects to run after `prev` became `next`. Only a change of the terminal status/outcome demands any. */
export function effectsFor(prev: Pick<CallState, 'status' | 'outcome'>, next: CallState, policy: EffectPolicy): Effect[] {
  if (!isTerminal(next.status)) return [];
  if (prev.status === next.status && prev.outcome === next.outcome) return [];
  const effects: Effect[] = ['recordMetrics'];
  if (next.status === 'completed') {
    effects.push('countContact');
    if (next.outcome === 'completed') effects.push('sendThankYou');
  } else if (next.outcome && policy.followUpOn.includes(next.outcome)) {
    effects.push('scheduleFollowUp');
  }
  return effects;
}

/**
 * Everything owed for the state since `done`: the transition's effects, then the opt-out check
 * whenever the platform's analysis data changed (it can arrive after the end, or change).
 */
export function effectsToRun(done: EffectsDone, s: CallState, policy: EffectPolicy): Effect[] {
  const effects = effectsFor(done, s, policy);
  if (s.analysis?.data && analysisChanged(done, s)) effects.push('applyOptOut');
  return effects;
}

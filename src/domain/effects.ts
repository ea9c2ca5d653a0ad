// What a transition of the call demands, as data. The workflow turns these into activities;
// every activity is idempotent on (organization, call, effect), so asking twice is harmless.
import type { Outcome } from './events';
import { type CallState, isTerminal } from './lifecycle';

export type Effect =
  /** Count the call on the contact: last call date, call count +1, last duration. Once per call. */
  | 'countContact'
  /** Record duration, outcome and contact for analytics. */
  | 'recordMetrics'
  /** Send the post_call_thank_you email. Once per call. */
  | 'sendThankYou'
  /** Schedule a follow-up call after the configured delay. */
  | 'scheduleFollowUp';

export interface EffectPolicy {
  /** Outcomes that get a follow-up call (no-answer always; busy by configuration). */
  followUpOn: readonly Outcome[];
}

/** Effects to run after `prev` became `next`. Only a change of the terminal status/outcome demands any. */
export function effectsFor(prev: CallState, next: CallState, policy: EffectPolicy): Effect[] {
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

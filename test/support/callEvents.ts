// Events for the tests: canonical events of one call (`call_1` on vapi) for the pure tests of the
// call entity, each a new id received at the time given; and the workflow tests' events of any
// call, with the id a platform would give that call's event of that type.
import type { CallEvent, CallEventType, Provider } from '../../src/domain/events';

let n = 0;

/** An event builder whose events are received at `at` (epoch ms). */
export const eventsAt =
  (at: number) =>
  (type: CallEvent['type'], extra: Partial<CallEvent> = {}): CallEvent => ({
    eventId: `e${++n}`,
    callId: 'call_1',
    provider: 'vapi',
    type,
    providerEvent: type,
    receivedAt: new Date(at).toISOString(),
    ...extra,
  });

/** An event of `callId` from `provider`, received now; `extra` adds or overrides fields. */
export function callEvent(callId: string, type: CallEventType, extra: Partial<CallEvent> = {}, provider: Provider = 'generic'): CallEvent {
  return {
    eventId: `${provider}:${callId}:${type}`,
    provider,
    providerEvent: type,
    callId,
    type,
    receivedAt: new Date().toISOString(),
    ...extra,
  };
}

/** The outbound call from `from` to `to` that nobody answered. */
export const noAnswerEvent = (callId: string, p: { from: string; to: string; contactId: string }): CallEvent =>
  callEvent(callId, 'call.failed', { outcome: 'no-answer', endedReason: 'dial_no_answer', direction: 'outbound', ...p });

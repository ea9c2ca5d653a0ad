// Canonical events of one call (`call_1` on vapi) for the pure tests of the call entity: each a
// new id, received at the time given.
import type { CallEvent } from '../../src/domain/events';

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

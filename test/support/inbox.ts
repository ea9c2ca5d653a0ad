// Events put straight into the inbox, as the receiver and the dispatcher leave them.
import type { CallEvent } from '../../src/domain/events';
import type { Collections } from '../../src/store/db';
import { acceptIntoInbox, deadLetter, inboxDoc } from '../../src/store/inbox';
import { callEvent } from './callEvents';

/** A `call.completed` of `callId` lasting `durationSec`, accepted and then refused for good with `reason` (a dead letter). */
export async function deadLetteredCompletion(
  col: Collections,
  orgId: string,
  callId: string,
  durationSec: number,
  reason: string,
): Promise<CallEvent> {
  const event = callEvent(callId, 'call.completed', { durationSec });
  const [doc] = await acceptIntoInbox(col.inbox, [inboxDoc(orgId, 'generic', event, new Date())]);
  await deadLetter(col.inbox, doc, reason);
  return event;
}

// The claim check's reader: the activity that saves a call fills the heavy fields its state holds
// in slim form from the event log, by _id. A field the record already holds for the same claim is
// left as it is, so a 10 MB transcript is read and written once, not on every save.
import { RECORD, slimState } from '../domain/claimCheck';
import type { CallEvent, HeavyField } from '../domain/events';
import type { CallState } from '../domain/reducer';
import { type Collections, docId } from './db';
import { findEventDoc, fullEventOf } from './eventLog';

/**
 * The state to store: each claimed field whole from its event's document, or left out (the record
 * keeps its value) when the record has it for that claim already or the event is past retention.
 */
export async function withClaimedFields(col: Collections, state: CallState): Promise<CallState> {
  const claims = state.claims;
  if (!claims || Object.keys(claims).length === 0) return state;
  const out: CallState = { ...state };
  const record = await col.calls.findOne({ _id: docId(state.orgId, state.callId) }, { projection: { claims: 1 } });
  const events = new Map<string, Promise<CallEvent | undefined>>();
  for (const [f, logId] of Object.entries(claims) as [HeavyField, string][]) {
    if (logId === RECORD || record?.claims?.[f] === logId) {
      delete out[f];
      continue;
    }
    if (!events.has(logId))
      events.set(
        logId,
        findEventDoc(col, logId).then((d) => (d ? fullEventOf(col, d) : undefined)),
      );
    const whole = await events.get(logId)!;
    if (whole?.[f] === undefined) delete out[f];
    else (out as unknown as Record<string, unknown>)[f] = whole[f];
  }
  return out;
}

/** A stored call's state as the workflow may carry it: heavy fields slim, claimed by the record. */
export const slimStoredState = (state: CallState): CallState => slimState(state);

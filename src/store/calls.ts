// Call records: the reducer's state as last applied, plus what the effects recorded.
import { type EffectsDone, NO_EFFECTS_DONE, effectsDoneOf } from '../domain/effects';
import { CALL_STATUSES, type CallState, isTerminal, pickState } from '../domain/reducer';
import { type CallDoc, type Collections, docId, isDuplicateKey, storableKeys } from './db';
import { rollupKeyOf } from '../domain/analytics';
import { markCallDirty } from './rollupLoop';
import { LIST_FIELDS, followUpQueueKey, markFollowUpDay } from './followUpQueue';

/**
 * Writes the call's state. Guarded on eventCount so that a slower, older write can never
 * overwrite a newer one: if the stored record has seen more events, the upsert collides on _id
 * and the write is dropped.
 */
export async function saveCallState(col: Collections, state: CallState, workflowId: string): Promise<'saved' | 'stale'> {
  const now = new Date();
  const { orgId, callId } = state;
  const fields = storableKeys({ ...state, workflowId, updatedAt: now });
  // A stale mark the reducer cleared must leave the record too: $set alone would keep it.
  const unstale = state.stale === undefined ? { $unset: { stale: '' as const } } : {};
  if (state.stale === undefined) delete (fields as { stale?: unknown }).stale;
  try {
    const rollupKey = rollupKeyOf(orgId, now);
    const r = await col.calls.updateOne(
      { _id: docId(orgId, callId), orgId, eventCount: { $lte: state.eventCount } },
      { $set: fields, ...unstale, $setOnInsert: { createdAt: now, effectsDone: NO_EFFECTS_DONE, rollupKey } },
      { upsert: true },
    );
    // After the write, so the analytics rollup that takes the mark reads this state.
    await markCallDirty(col, orgId, callId, r.upsertedCount === 1 ? rollupKey : undefined);
    return 'saved';
  } catch (err) {
    if (isDuplicateKey(err)) return 'stale';
    throw err;
  }
}

export async function getCall(col: Collections, orgId: string, callId: string): Promise<CallDoc | null> {
  return col.calls.findOne({ _id: docId(orgId, callId), orgId });
}

/**
 * The reducer state stored for a call and what its effects were run for, to resume from when the
 * call's workflow starts again (a new run, or a retried first task). A record from before this was
 * kept counts as having had its effects.
 */
export async function loadCallState(
  col: Collections,
  orgId: string,
  callId: string,
): Promise<{ state: CallState; effectsDone: EffectsDone } | undefined> {
  const doc = await getCall(col, orgId, callId);
  if (!doc) return undefined;
  const state = pickState(doc);
  return { state, effectsDone: doc.effectsDone ?? effectsDoneOf(state) };
}

/** The call's effects have all run for this state. */
export async function markEffectsDone(col: Collections, orgId: string, callId: string, done: EffectsDone): Promise<void> {
  await col.calls.updateOne({ _id: docId(orgId, callId), orgId }, { $set: { effectsDone: done } });
}

export async function markCall(col: Collections, orgId: string, callId: string, set: Partial<CallDoc>): Promise<void> {
  const r = await col.calls.updateOne({ _id: docId(orgId, callId), orgId }, { $set: { ...set, updatedAt: new Date() } });
  if (r.matchedCount === 1) await markCallDirty(col, orgId, callId);
}

export async function recordCallMetrics(col: Collections, s: CallState): Promise<void> {
  await col.callMetrics.updateOne(
    { _id: docId(s.orgId, s.callId), orgId: s.orgId },
    {
      $set: {
        orgId: s.orgId,
        callId: s.callId,
        provider: s.provider,
        contactId: s.contactId,
        outcome: s.outcome,
        durationSec: s.durationSec,
        endedAt: s.endedAt,
      },
      $setOnInsert: { recordedAt: new Date() },
    },
    { upsert: true },
  );
}

/** Calls marked stale (what `GET /api/calls?stale=true` lists), on the {stale.since} index. */
export async function countStaleCalls(col: Collections): Promise<number> {
  return col.calls.countDocuments({ 'stale.since': { $gt: '' } });
}

/**
 * Writes a call's follow-up plan (with its summary) to the call record, never replacing a newer
 * plan (higher rev) with an older one, and marks the call for the analytics rollup, whose
 * follow-up figures read it (also when the plan was already written: the try that wrote it may
 * have died before its mark).
 */
export async function recordFollowUpPlan(
  col: Collections,
  orgId: string,
  callId: string,
  plan: { rev: number; status: string; nextFollowUpAt?: string; summary: string },
): Promise<'saved' | 'stale'> {
  const nextFollowUpAt = plan.status === 'scheduled' && plan.nextFollowUpAt ? new Date(plan.nextFollowUpAt) : null;
  // The dashboard's scheduled list reads the queue key (src/store/followUpQueue.ts), written with the plan.
  const set = {
    followUp: plan,
    nextFollowUpAt,
    updatedAt: new Date(),
    ...(nextFollowUpAt && { followUpQueue: followUpQueueKey(orgId, nextFollowUpAt) }),
  };
  const r = await col.calls.updateOne(
    { _id: docId(orgId, callId), orgId, $or: [{ 'followUp.rev': { $lt: plan.rev } }, { followUp: { $exists: false } }] },
    nextFollowUpAt ? { $set: set } : { $set: set, $unset: { followUpQueue: '' } },
  );
  // Also when this write was refused as older: the try that wrote the plan may have died before its marker.
  if (nextFollowUpAt) await markFollowUpDay(col, orgId, nextFollowUpAt);
  await markCallDirty(col, orgId, callId);
  return r.modifiedCount === 1 ? 'saved' : 'stale';
}

const OPEN_STATUSES = CALL_STATUSES.filter((s) => !isTerminal(s));

/**
 * Unfinished calls, those without a change for longest first, up to `limit` per open status: one
 * equality per status (FerretDB pushes those down; a `$in` or `$nin` reads every call).
 */
export async function quietestOpenCalls(col: Collections, orgId: string, limit: number) {
  const perStatus = await Promise.all(
    OPEN_STATUSES.map((status) =>
      col.calls.find({ orgId, status }, { projection: LIST_FIELDS }).sort({ updatedAt: 1 }).limit(limit).toArray(),
    ),
  );
  return perStatus.flat();
}

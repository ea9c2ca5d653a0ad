// The scheduled follow-ups of an organization, soonest first, as the dashboard lists them, read from
// a few small sets instead of every call. FerretDB 1.24 pushes down only equalities on top-level
// fields (docs/ferretdb.md), so a range on `nextFollowUpAt` read every call of the organization:
// - a call with a follow-up scheduled carries `followUpQueue: <orgId>:<UTC day of nextFollowUpAt>`,
//   written in the same `$set` as the plan and removed with it (an equality, indexed);
// - the days that may hold such calls are markers in `follow_up_days` (`<orgId>:<day>`), inserted
//   with a unique _id after the call's write (atomic on both databases, whoever writes them);
// - the list reads the markers, then the days in order until it holds enough calls.
// A marker of a past day found empty is removed, then the day read again: a call scheduled into
// it meanwhile puts its marker back, or is seen by that second read, which restores it.
import { type CallDoc, type Collections, compareStrings, isDuplicateKey } from './db';
import type { FollowUpDayDoc } from './types';

const DAY_MS = 86_400_000;
/** Days read at once while the list fills. */
const DAYS_AT_ONCE = 4;

const utcDayOf = (at: Date | number): string => new Date(at).toISOString().slice(0, 10);

/** The queue key of a call whose next follow-up is at `at`. */
export const followUpQueueKey = (orgId: string, at: Date): string => `${orgId}:${utcDayOf(at)}`;

/** Records that the day of `at` may hold scheduled follow-ups: after the call's own write. */
export async function markFollowUpDay(col: Pick<Collections, 'followUpDays'>, orgId: string, at: Date): Promise<void> {
  const day = utcDayOf(at);
  try {
    await col.followUpDays.insertOne({ _id: `${orgId}:${day}`, orgId, day } satisfies FollowUpDayDoc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The fields of a call the dashboard's lists show. */
export const LIST_FIELDS = {
  callId: 1,
  contactId: 1,
  to: 1,
  from: 1,
  direction: 1,
  provider: 1,
  status: 1,
  outcome: 1,
  followUp: 1,
  nextFollowUpAt: 1,
  updatedAt: 1,
  stale: 1,
} as const;

const soonestFirst = (a: CallDoc, b: CallDoc) => a.nextFollowUpAt!.getTime() - b.nextFollowUpAt!.getTime() || compareStrings(a._id, b._id);

/** Calls with a follow-up scheduled, soonest first (calls due at the same moment by _id), at most `limit`. */
export async function scheduledFollowUpCalls(col: Collections, orgId: string, limit: number, now = Date.now()) {
  const days = (await col.followUpDays.find({ orgId }).toArray()).map((d) => d.day).sort();
  const found: CallDoc[] = [];
  const emptyPastDays: string[] = [];
  // Every call of a day is later than every call of the days before it: once the days read hold
  // `limit` calls, no later day can add one that sorts before them.
  for (let i = 0; i < days.length && found.length < limit; i += DAYS_AT_ONCE) {
    const batch = days.slice(i, i + DAYS_AT_ONCE);
    const read = await Promise.all(batch.map((day) => readDay(col, orgId, day)));
    read.forEach((docs, k) => {
      found.push(...docs);
      if (docs.length === 0 && batch[k] < utcDayOf(now - DAY_MS)) emptyPastDays.push(batch[k]);
    });
  }
  await Promise.all(emptyPastDays.map((day) => forgetDay(col, orgId, day)));
  return found.sort(soonestFirst).slice(0, limit);
}

async function readDay(col: Collections, orgId: string, day: string): Promise<CallDoc[]> {
  const docs = await col.calls.find({ orgId, followUpQueue: `${orgId}:${day}` }, { projection: LIST_FIELDS }).toArray();
  return docs.filter((d) => d.nextFollowUpAt instanceof Date);
}

/** Removes an empty past day's marker; puts it back when a call was scheduled into the day meanwhile. */
async function forgetDay(col: Collections, orgId: string, day: string): Promise<void> {
  await col.followUpDays.deleteOne({ _id: `${orgId}:${day}`, orgId });
  const again = await col.calls.findOne({ orgId, followUpQueue: `${orgId}:${day}` }, { projection: { nextFollowUpAt: 1 } });
  if (again?.nextFollowUpAt instanceof Date) await markFollowUpDay(col, orgId, again.nextFollowUpAt);
}

const BACKFILL_ID = 'followUpQueue:v1';
/** A record is keyed only when nothing has written it for this long: on FerretDB the write races with the call's own workflow. */
const IDLE_MS = 10 * 60_000;

/**
 * Gives every call stored before the queue existed that has a follow-up scheduled its queue key and
 * its day's marker, once (one pass over the calls; a record written in the last ten minutes waits
 * for a later pass). Returns whether everything is done.
 */
export async function backfillFollowUpQueue(col: Collections, now = Date.now()): Promise<{ done: boolean; keyed: number; left: number }> {
  if ((await col.rollupState.findOne({ _id: BACKFILL_ID }))?.done) return { done: true, keyed: 0, left: 0 };
  const waiting = await col.calls
    .find(
      { nextFollowUpAt: { $ne: null }, followUpQueue: { $exists: false } },
      { projection: { _id: 1, orgId: 1, nextFollowUpAt: 1, updatedAt: 1, 'followUp.rev': 1, 'followUp.status': 1 } },
    )
    .toArray();
  let keyed = 0;
  let left = 0;
  for (const d of waiting) {
    const at = d.nextFollowUpAt;
    if (!(at instanceof Date) || d.followUp?.status !== 'scheduled') continue;
    if (d.updatedAt instanceof Date && now - d.updatedAt.getTime() < IDLE_MS) {
      left += 1;
      continue;
    }
    const r = await col.calls.updateOne(
      { _id: d._id, orgId: d.orgId, followUpQueue: { $exists: false }, 'followUp.rev': d.followUp.rev },
      { $set: { followUpQueue: followUpQueueKey(d.orgId, at) } },
    );
    if (r.modifiedCount === 1) await markFollowUpDay(col, d.orgId, at);
    keyed += r.modifiedCount;
  }
  const done = left === 0;
  await col.rollupState.updateOne({ _id: BACKFILL_ID }, { $set: { done, legacyLeft: left, at: new Date() } }, { upsert: true });
  return { done, keyed, left };
}

// `GET /api/calls`: an organization's calls, newest first (calls of the same millisecond by _id),
// with filters, `offset` and `limit`. FerretDB 1.24 pushes down only equalities on top-level fields
// (docs/ferretdb.md): a sort on createdAt decoded and sorted every call of the organization, and a
// count read them all again. So the list walks the calls' analytics hours instead:
// - every call carries `rollupKey` (`<orgId>:<UTC hour of createdAt>`, indexed); the hours that
//   hold calls, and how many, come from the rollup loop's counts (`call_hours`, a document a month),
//   and the hours still waiting for the loop from its marks;
// - hours newest first: an hour whose number of matching calls is known (no filter but the time
//   range) and that lies wholly before the page is counted, not read; the others are read a few at
//   a time (the page's filter plus `rollupKey`), each sorted in memory;
// - `total` is exact when every hour was counted or read; with a filter it stops once it is past the
//   page (`totalExact: false`: at least this many, and more than `offset + limit` when a next page
//   exists); past the page an hour is counted, not read;
// - a filter that few calls match would read hour after hour: once it matched under one call an hour
//   the rest is one query with the filter's equalities (a contact's calls from the start: they are
//   few), sorted in memory.
// On MongoDB the same queries are served by the {rollupKey, createdAt} and {orgId, contactId, createdAt} indexes.
import type { Filter } from 'mongodb';
import { HOUR_MS, hourStart, splitRollupKey } from '../domain/analytics';
import { type CallDoc, type Collections, compareStrings } from './db';
import { type HourRollup, parse } from './rollupCodec';

export interface CallFilters {
  status?: string;
  outcome?: string;
  contactId?: string;
  provider?: string;
  /** Only calls marked stale (true) or not (false): src/domain/stale.ts. */
  stale?: boolean;
  /** createdAt range, inclusive from, exclusive to */
  from?: Date;
  to?: Date;
}

export interface CallPage {
  items: CallDoc[];
  /** Matching calls; a lower bound when `totalExact` is false. */
  total: number;
  totalExact: boolean;
}

/** Hours read at once; the batch doubles up to this while the page fills. */
const MAX_HOURS_AT_ONCE = 16;
/** Hours past the page counted one by one before the rest is read in one query. */
const MAX_HOURS_COUNTED = 24;
/** Hours read before a filter that matched under one call an hour reads the rest in one query. */
const SPARSE_AFTER_HOURS = 24;
const PROJECTION = { timeline: 0, transcript: 0, owners: 0 } as const;

/** The order of the list: newest first, then _id as MongoDB orders strings. */
export const newestFirst = (a: CallDoc, b: CallDoc): number =>
  b.createdAt.getTime() - a.createdAt.getTime() || compareStrings(a._id, b._id);

/** The filter as one query: the same for an hour (with its rollupKey) and for the whole list. */
export function callQuery(orgId: string, f: CallFilters): Filter<CallDoc> {
  const q: Filter<CallDoc> = { orgId };
  if (f.status) q.status = f.status as CallDoc['status'];
  if (f.outcome) q.outcome = f.outcome as CallDoc['outcome'];
  if (f.contactId) q.contactId = f.contactId;
  if (f.provider) q.provider = f.provider as CallDoc['provider'];
  if (f.stale !== undefined) (q as Record<string, unknown>)['stale.since'] = f.stale ? { $gt: '' } : { $exists: false };
  if (f.from || f.to) {
    q.createdAt = {};
    if (f.from) q.createdAt.$gte = f.from;
    if (f.to) q.createdAt.$lt = f.to;
  }
  return q;
}

interface Hour {
  /** YYYY-MM-DDTHH */
  hour: string;
  /** Its calls that match, when known without reading them. */
  count?: number;
}

export const HOUR_COUNTS_BACKFILL_ID = 'hourCounts:v1';

/**
 * Writes the numbers of calls of an organization's recomputed hours (0: none) into its month
 * documents. Called by the rollup loop alone, after it recomputed the hours from their calls.
 */
export async function recordHourCounts(col: Collections, orgId: string, counts: Map<string, number>): Promise<void> {
  const byMonth = new Map<string, [string, number][]>();
  for (const [hour, n] of counts) byMonth.set(hour.slice(0, 7), [...(byMonth.get(hour.slice(0, 7)) ?? []), [hour.slice(8), n]]);
  for (const [month, hours] of byMonth) {
    const _id = `${orgId}:${month}`;
    const doc = await col.callHours.findOne({ _id, orgId });
    const stored = JSON.parse(doc?.counts ?? '{}') as Record<string, number>;
    for (const [dayHour, n] of hours) {
      if (n > 0) stored[dayHour] = n;
      else delete stored[dayHour];
    }
    await col.callHours.updateOne({ _id }, { $set: { orgId, counts: JSON.stringify(stored), updatedAt: new Date() } }, { upsert: true });
  }
}

/**
 * The hours that hold calls of the organization, with their number of calls where the rollup loop
 * counted them; an hour with a mark waiting may have more (unknown). Read from the month documents
 * of hour counts; until the loop has counted the hours of rollups written before them, from the
 * rollups' day documents (slower: they hold the packed cells).
 */
async function callHours(col: Collections, orgId: string): Promise<Map<string, number | undefined>> {
  const [counted, marks] = await Promise.all([
    col.rollupState.findOne({ _id: HOUR_COUNTS_BACKFILL_ID }),
    col.rollupMarks.find({ orgId }, { projection: { key: 1 } }).toArray(),
  ]);
  const hours = new Map<string, number | undefined>();
  if (counted?.done) {
    for (const d of await col.callHours.find({ orgId }).toArray()) {
      const month = d._id.slice(-7);
      for (const [dayHour, n] of Object.entries(JSON.parse(d.counts) as Record<string, number>)) hours.set(`${month}-${dayHour}`, n);
    }
  } else {
    for (const d of await col.rollups.find({ orgId }).toArray()) {
      if (!d.hours || !d._id.startsWith(`${orgId}:h:`)) continue;
      const day = d._id.slice(-10);
      for (const [hh, packed] of Object.entries(d.hours)) hours.set(`${day}T${hh}`, parse<HourRollup>(packed)?.calls);
    }
  }
  for (const m of marks) if (m.key) hours.set(splitRollupKey(m.key).hour, undefined);
  for (const [hour, n] of hours) if (n === 0) hours.delete(hour);
  return hours;
}

export async function listCalls(
  col: Collections,
  orgId: string,
  f: CallFilters,
  page: { limit: number; offset: number },
): Promise<CallPage> {
  const q = callQuery(orgId, f);
  // A contact's calls are few: one query from the start.
  if (f.contactId) return pageOf(await readAll(col, q), page);

  const from = f.from?.getTime() ?? -Infinity;
  const to = f.to?.getTime() ?? Infinity;
  // Only the time range leaves an hour wholly inside it with all of its calls.
  const countsApply = !f.status && !f.outcome && !f.provider && f.stale === undefined;
  const hours: Hour[] = [...(await callHours(col, orgId)).entries()]
    .map(([hour, n]) => ({ hour, start: hourStart(hour), n }))
    .filter((h) => h.start + HOUR_MS > from && h.start < to)
    .sort((a, b) => b.start - a.start)
    .map(({ hour, start, n }) => ({ hour, count: countsApply && start >= from && start + HOUR_MS <= to ? n : undefined }));

  const end = page.offset + page.limit;
  const items: CallDoc[] = [];
  let seen = 0;
  let hoursRead = 0;
  let counted = 0;
  let atOnce = 3;
  const reads = new Map<number, Promise<CallDoc[]>>();
  const readHour = (i: number) => col.calls.find({ ...q, rollupKey: `${orgId}:${hours[i].hour}` }, { projection: PROJECTION }).toArray();
  const done = async (result: CallPage) => {
    await Promise.allSettled(reads.values());
    return result;
  };
  for (let i = 0; i < hours.length; i++) {
    const known = hours[i].count;
    // Before the page, or after it: counted without reading.
    if (known !== undefined && (seen + known <= page.offset || seen >= end)) {
      seen += known;
      continue;
    }
    // With a filter, counting stops once past the page: a next page exists when total > offset + limit.
    if (!countsApply && seen > end) return done({ items, total: seen, totalExact: false });
    // Past the page, an hour not read yet is counted (an hour the rollup loop has not taken yet, or
    // the next one with a match): on FerretDB a count is cheaper than reading the calls.
    if (seen >= end && !reads.has(i) && counted < MAX_HOURS_COUNTED) {
      counted += 1;
      seen += await col.calls.countDocuments({ ...q, rollupKey: `${orgId}:${hours[i].hour}` });
      continue;
    }
    if ((hoursRead >= SPARSE_AFTER_HOURS && seen < hoursRead) || counted >= MAX_HOURS_COUNTED) {
      // Under one matching call an hour (or as many hours counted without one past the page): the
      // rest in one query, every call older than the hours read.
      const before = new Date(Math.min(to, hourStart(hours[i].hour) + HOUR_MS));
      const rest = await readAll(col, { ...q, createdAt: { ...q.createdAt, $lt: before } });
      const tail = pageOf(rest, { offset: Math.max(0, page.offset - seen), limit: page.limit - items.length });
      return done({ items: [...items, ...tail.items], total: seen + rest.length, totalExact: true });
    }
    if (!reads.has(i)) {
      // The next hours that may be needed: up to `atOnce`, fewer when the counts known cover the page.
      let lacking = end - seen;
      for (let j = i; j < hours.length && j < i + atOnce && (j === i || lacking > 0); j++) {
        if (!reads.has(j)) reads.set(j, readHour(j));
        lacking -= hours[j].count ?? 0;
      }
      atOnce = Math.min(MAX_HOURS_AT_ONCE, atOnce * 2);
    }
    const docs = (await reads.get(i)!).sort(newestFirst);
    reads.delete(i);
    hoursRead += 1;
    for (const d of docs) {
      if (seen >= page.offset && seen < end) items.push(d);
      seen += 1;
    }
  }
  return done({ items, total: seen, totalExact: true });
}

async function readAll(col: Collections, q: Filter<CallDoc>): Promise<CallDoc[]> {
  return (await col.calls.find(q, { projection: PROJECTION }).toArray()).sort(newestFirst);
}

function pageOf(sorted: CallDoc[], page: { limit: number; offset: number }): CallPage {
  return { items: sorted.slice(page.offset, page.offset + page.limit), total: sorted.length, totalExact: true };
}

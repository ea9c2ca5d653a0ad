// Call analytics from hourly rollups. Every call record carries `rollupKey` (`${org}:${UTC hour of
// createdAt}`); the store functions that change a call insert a dirty mark after the write; one
// rollup loop at a time (a lease) recomputes each marked hour from its calls, by equality on
// rollupKey, and `$set`s the hour into the day's rollup document, then deletes exactly the marks
// it read. Reads take whole hours from the day documents (by _id) and compute the hours that a
// range or a local day boundary cuts from the calls themselves, so the figures are exact.
import { randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { isValidTimeZone } from '../domain/callingWindow';
import {
  CELL_OUTCOMES,
  type CallFacts,
  type Cell,
  type Cells,
  type CellOutcome,
  HOUR_MS,
  type Interval,
  Tally,
  type TimeBucket,
  addCall,
  hourDocId,
  hourOf,
  hourStart,
  isoDay,
  localBuckets,
  localDayNumber,
  mergeCell,
  monthDocId,
  parseCellKey,
  rollupKeyOf,
  splitRollupKey,
  startOfLocalDay,
} from '../domain/analytics';
import { getComplianceSettings } from './compliance';
import { type CallDoc, type Collections, docId, isDuplicateKey } from './db';

export interface HourRollup {
  cells: Cells;
  calls: number;
}

export interface LocalDayRollup extends HourRollup {
  /** The time zone the day was cut in: used only while the organization's zone is the same. */
  zone: string;
}

/**
 * Rollup values are JSON, deflated and base64'd: a month of local days is ~220 KB of JSON at
 * 100,000 calls in 90 days, and FerretDB took 37 ms to read one such document (measured); packed
 * it is a tenth of that. Base64 text needs no escaping in FerretDB's JSONB and is the same on MongoDB.
 */
const pack = (value: unknown): string => `z:${deflateRawSync(JSON.stringify(value)).toString('base64')}`;
const parse = <T>(text: string | undefined): T | undefined => {
  if (typeof text !== 'string') return undefined;
  return JSON.parse(text.startsWith('z:') ? inflateRawSync(Buffer.from(text.slice(2), 'base64')).toString('utf8') : text) as T;
};

/** Zones read in the last ZONE_TTL_MS, per database: one read fewer per request. */
const zones = new WeakMap<object, Map<string, { zone: string; until: number }>>();
const ZONE_TTL_MS = 5_000;

/**
 * The organization's time zone for analytics: its calling rules' default zone, UTC if unknown.
 * Remembered for 5 s, so a changed zone applies to analytics within seconds.
 */
export async function orgTimeZone(col: Collections, orgId: string): Promise<string> {
  const known = zones.get(col.organizations)?.get(orgId);
  if (known && known.until > Date.now()) return known.zone;
  const stored = (await getComplianceSettings(col, orgId)).defaultTimeZone;
  const zone = isValidTimeZone(stored) ? stored : 'UTC';
  const map = zones.get(col.organizations) ?? new Map<string, { zone: string; until: number }>();
  if (map.size > 10_000) map.clear();
  map.set(orgId, { zone, until: Date.now() + ZONE_TTL_MS });
  zones.set(col.organizations, map);
  return zone;
}

/** Local day → [start, end) when both ends fall on UTC hours (not in half-hour zones); else undefined. */
function alignedDay(day: number, zone: string): { start: number; end: number } | undefined {
  const start = startOfLocalDay(day, zone);
  const end = startOfLocalDay(day + 1, zone);
  return start % HOUR_MS === 0 && end % HOUR_MS === 0 ? { start, end } : undefined;
}

/** What the rollup reads of a call: the fields of CallFacts, not the timeline or transcript. */
const FACT_PROJECTION = {
  _id: 0,
  provider: 1,
  agentId: 1,
  status: 1,
  outcome: 1,
  durationSec: 1,
  cost: 1,
  analysis: 1,
  email: 1,
  followUp: 1,
  stale: 1,
  updatedAt: 1,
  createdAt: 1,
} as const;

// ---- marks (written by the store functions that change a call) -----------------------------------

/**
 * Records that a call changed, after its write: the loop recomputes the call's hour. Called by
 * every store function that changes what analytics reads (src/store/calls.ts, the follow-up
 * plan's record). A failure throws, so the activity is retried and writes the mark then.
 */
export async function markCallDirty(col: Pick<Collections, 'rollupMarks'>, orgId: string, callId: string, key?: string): Promise<void> {
  await col.rollupMarks.insertOne({
    _id: `${Date.now().toString(36)}:${randomUUID()}`,
    orgId,
    callId,
    ...(key && { key }),
    at: new Date(),
  });
}

/**
 * Stores whole call records at once (imports, the benchmark's history): each gets its rollupKey
 * from its createdAt, and each hour one mark. Records whose _id exists are left as they are.
 */
export async function insertCallRecords(col: Collections, docs: CallDoc[], opts: { mark?: boolean } = {}): Promise<number> {
  if (docs.length === 0) return 0;
  const keyed = docs.map((d) => ({ ...d, rollupKey: rollupKeyOf(d.orgId, d.createdAt) }));
  let inserted = keyed.length;
  try {
    await col.calls.insertMany(keyed, { ordered: false });
  } catch (err) {
    const e = err as { insertedCount?: number; writeErrors?: unknown[] };
    const dupsOnly = Array.isArray(e.writeErrors) && e.writeErrors.every((w) => (w as { code?: number }).code === 11000);
    if (!dupsOnly) throw err;
    inserted = e.insertedCount ?? 0;
  }
  if (opts.mark !== false)
    await markHours(
      col,
      keyed.map((d) => d.rollupKey),
    );
  return inserted;
}

/** One mark per distinct hour: after a bulk import in batches (`mark: false` on each), once. */
export async function markHours(col: Pick<Collections, 'rollupMarks'>, keys: Iterable<string>): Promise<number> {
  const marks = [...new Set(keys)].map((key) => ({
    _id: `${Date.now().toString(36)}:${randomUUID()}`,
    orgId: splitRollupKey(key).orgId,
    callId: '',
    key,
    at: new Date(),
  }));
  for (let i = 0; i < marks.length; i += 1_000) await col.rollupMarks.insertMany(marks.slice(i, i + 1_000), { ordered: false });
  return marks.length;
}

// ---- the rollup loop ----------------------------------------------------------------------------

export interface Lease {
  held: boolean;
  /** When the lease can be used, if it is ours but its slot has not begun (epoch ms). */
  from: number;
  /** Stop starting work at this time (epoch ms): the next slot may belong to another process. */
  until: number;
}

const LEASE_SLOT_MS = 15_000;
/** Work stops this long before the slot ends, so a slow last recompute cannot overlap the next holder's. */
const LEASE_MARGIN_MS = 5_000;

async function claimSlot(col: Pick<Collections, 'rollupState'>, slot: number, owner: string, now: number): Promise<boolean> {
  const id = `lease:${slot}`;
  try {
    await col.rollupState.insertOne({ _id: id, owner, at: new Date(now) });
    // Old slots' documents are of no use; by _id, so no scan.
    await col.rollupState.deleteOne({ _id: `lease:${slot - 3}` });
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return (await col.rollupState.findOne({ _id: id }))?.owner === owner;
}

/**
 * One rollup loop at a time, across processes. FerretDB applies a conditional update as
 * read-modify-write, so two processes could both "win" a compare-and-set; an insert with a unique
 * _id cannot be won twice. Time is cut into slots; whoever inserts `lease:<slot>` first owns it.
 * A holder stops starting work LEASE_MARGIN_MS before its slot ends; from then on the next slot
 * may be claimed. A holder that also wins the next slot goes on at once (its own passes never
 * overlap); another process starts only when that slot begins, after the margin.
 */
export async function acquireLease(col: Pick<Collections, 'rollupState'>, owner: string, now = Date.now()): Promise<Lease> {
  const slot = Math.floor(now / LEASE_SLOT_MS);
  const inMargin = now >= (slot + 1) * LEASE_SLOT_MS - LEASE_MARGIN_MS;
  const target = inMargin ? slot + 1 : slot;
  const until = (target + 1) * LEASE_SLOT_MS - LEASE_MARGIN_MS;
  if (!(await claimSlot(col, target, owner, now))) return { held: false, from: until + LEASE_MARGIN_MS, until };
  const from = inMargin && (await col.rollupState.findOne({ _id: `lease:${slot}` }))?.owner !== owner ? target * LEASE_SLOT_MS : now;
  return { held: now >= from, from, until };
}

/**
 * Marks taken per pass. Their deletion is one `$in` on _id, which FerretDB checks document by
 * document against the list: bounded, so a backlog drains in passes of seconds, not one of minutes.
 */
const ROLLUP_BATCH = 5_000;

export interface TickResult {
  marks: number;
  hours: number;
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** An hour's cells, from its calls (an equality on rollupKey: the index the local database uses). */
async function computeHour(col: Collections, key: string): Promise<{ cells: Cells; calls: number }> {
  const cells: Cells = {};
  let calls = 0;
  for await (const c of col.calls.find({ rollupKey: key }, { projection: FACT_PROJECTION })) {
    addCall(cells, c as unknown as CallFacts);
    calls += 1;
  }
  return { cells, calls };
}

/**
 * An organization's dirty hours, recomputed from their calls, then the local days holding them
 * summed from their hours. Each document is read, changed and written back whole: safe because
 * the loop holding the lease is the one writer of every rollup document.
 */
async function recomputeHours(col: Collections, orgId: string, hours: string[]): Promise<void> {
  const byDay = new Map<string, string[]>();
  for (const h of hours) byDay.set(h.slice(0, 10), [...(byDay.get(h.slice(0, 10)) ?? []), h]);
  const utcDays = new Map<string, Record<string, string>>();
  // UTC days in parallel (one document each), their hours one after another.
  await inParallel([...byDay.entries()], 4, async ([day, dirty]) => {
    const id = hourDocId(orgId, day);
    const doc = await col.rollups.findOne({ _id: id, orgId });
    const stored: Record<string, string> = { ...doc?.hours };
    const set: Record<string, string> = {};
    const unset: Record<string, ''> = {};
    for (const hour of dirty) {
      const hh = hour.slice(11, 13);
      const { cells, calls } = await computeHour(col, `${orgId}:${hour}`);
      if (calls > 0) stored[hh] = set[`hours.${hh}`] = pack({ cells, calls } satisfies HourRollup);
      else if (stored[hh] !== undefined) {
        delete stored[hh];
        unset[`hours.${hh}`] = '';
      }
    }
    utcDays.set(day, stored);
    await col.rollups.updateOne(
      { _id: id },
      { $set: { ...set, orgId, updatedAt: new Date() }, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
  });

  const zone = await orgTimeZone(col, orgId);
  const localDays = new Set(hours.map((h) => localDayNumber(hourStart(h), zone)));
  const byMonth = new Map<string, { day: number; rollup: LocalDayRollup }[]>();
  for (const day of localDays) {
    const span = alignedDay(day, zone);
    // A half-hour zone's days cut UTC hours: they are read from the hours and their calls instead.
    if (!span) continue;
    const rollup: LocalDayRollup = { cells: {}, calls: 0, zone };
    for (let t = span.start; t < span.end; t += HOUR_MS) {
      const hour = hourOf(t);
      const dayKey = hour.slice(0, 10);
      if (!utcDays.has(dayKey)) utcDays.set(dayKey, { ...(await col.rollups.findOne({ _id: hourDocId(orgId, hour), orgId }))?.hours });
      const h = parse<HourRollup>(utcDays.get(dayKey)![hour.slice(11, 13)]);
      if (!h) continue;
      rollup.calls += h.calls;
      for (const [key, cell] of Object.entries(h.cells)) mergeCell(rollup.cells, key, cell);
    }
    const id = monthDocId(orgId, day);
    byMonth.set(id, [...(byMonth.get(id) ?? []), { day, rollup }]);
  }
  await inParallel([...byMonth.entries()], 4, async ([id, days]) => {
    const set: Record<string, string> = {};
    for (const { day, rollup } of days) set[`days.${isoDay(day).slice(8, 10)}`] = pack(rollup);
    await col.rollups.updateOne({ _id: id }, { $set: { ...set, orgId, updatedAt: new Date() } }, { upsert: true });
  });
}

/**
 * One pass: take up to `batch` marks, find their hours, recompute each hour from its calls, then
 * delete exactly the marks read. A call that changes after its hour was read writes a new mark,
 * which this pass did not read and so leaves for the next: no change is missed. The marks are
 * read before the calls, so any mark deleted here was written after its call's change was
 * stored, and the recompute saw that change.
 */
export async function rollupTick(col: Collections, batch = ROLLUP_BATCH): Promise<TickResult> {
  const marks = await col.rollupMarks.find({}).limit(batch).toArray();
  if (marks.length === 0) return { marks: 0, hours: 0 };
  const keys = new Set<string>();
  const unresolved = new Map<string, { orgId: string; callId: string }>();
  for (const m of marks) {
    if (m.key) keys.add(m.key);
    else unresolved.set(docId(m.orgId, m.callId), { orgId: m.orgId, callId: m.callId });
  }
  await inParallel([...unresolved.entries()], 8, async ([id, ref]) => {
    const doc = await col.calls.findOne({ _id: id, orgId: ref.orgId }, { projection: { rollupKey: 1, createdAt: 1 } });
    // A record from before rollups has no key: the backfill gives it one once it is idle.
    const key = (doc as { rollupKey?: string } | null)?.rollupKey;
    if (key) keys.add(key);
  });
  const byOrg = new Map<string, string[]>();
  for (const key of keys) {
    const { orgId, hour } = splitRollupKey(key);
    byOrg.set(orgId, [...(byOrg.get(orgId) ?? []), hour]);
  }
  // Organizations one after another: no two tasks ever write one document.
  for (const [orgId, hours] of byOrg) await recomputeHours(col, orgId, hours.sort());
  await col.rollupMarks.deleteMany({ _id: { $in: marks.map((m) => m._id) } });
  return { marks: marks.length, hours: keys.size };
}

// ---- backfill of records from before rollups ------------------------------------------------------

const BACKFILL_ID = 'backfill:v1';
/** A record from before rollups gets its key only when nothing has written it for this long (see backfill). */
const LEGACY_IDLE_MS = 10 * 60_000;

/**
 * Calls stored before rollups existed: marks every hour that has calls, once, and gives each
 * record without a key its key. Setting a field on a call record races with the call's own
 * workflow on FerretDB (read-modify-write), so only records idle for LEGACY_IDLE_MS are touched;
 * busier ones are retried on a later pass. Returns whether everything is done.
 */
export async function backfillStep(
  col: Collections,
  now = Date.now(),
): Promise<{ done: boolean; hoursMarked: number; legacyKeyed: number; legacyLeft: number }> {
  const state = await col.rollupState.findOne({ _id: BACKFILL_ID });
  if (state?.done) return { done: true, hoursMarked: 0, legacyKeyed: 0, legacyLeft: 0 };
  let hoursMarked = 0;
  if (!state?.keysMarked) {
    const keys = (await col.calls.distinct('rollupKey')).filter((k): k is string => typeof k === 'string');
    hoursMarked = await markHours(col, keys);
    await col.rollupState.updateOne({ _id: BACKFILL_ID }, { $set: { keysMarked: true, at: new Date() } }, { upsert: true });
  }
  const legacy = await col.calls
    .find({ rollupKey: { $exists: false } }, { projection: { _id: 1, orgId: 1, callId: 1, createdAt: 1, updatedAt: 1 } })
    .toArray();
  let legacyKeyed = 0;
  let legacyLeft = 0;
  await inParallel(legacy, 8, async (doc) => {
    const created = doc.createdAt instanceof Date ? doc.createdAt : undefined;
    const idle = doc.updatedAt instanceof Date ? now - doc.updatedAt.getTime() >= LEGACY_IDLE_MS : true;
    if (!created || !idle) {
      legacyLeft += created ? 1 : 0;
      return;
    }
    const key = rollupKeyOf(doc.orgId, created);
    await col.calls.updateOne({ _id: doc._id, orgId: doc.orgId, rollupKey: { $exists: false } }, { $set: { rollupKey: key } });
    await markCallDirty(col, doc.orgId, doc.callId ?? doc._id, key);
    legacyKeyed += 1;
  });
  const done = legacyLeft === 0;
  await col.rollupState.updateOne({ _id: BACKFILL_ID }, { $set: { done, legacyLeft, at: new Date() } }, { upsert: true });
  return { done, hoursMarked, legacyKeyed, legacyLeft };
}

// ---- the loop -------------------------------------------------------------------------------------

export interface RollupLoopOptions {
  /** Pause between passes, ms; after a pass longer than a quarter of it, four times that pass. */
  intervalMs: number;
  /** Time between backfill passes while records from before rollups wait to go idle. */
  backfillRetryMs?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
  onError?: (err: unknown) => void;
}

/** Runs the rollup loop until `stop()`: a lease, the backfill until done, then passes over the marks. */
export function startRollupLoop(col: Collections, opts: RollupLoopOptions): { stop(): Promise<void> } {
  const owner = randomUUID();
  let stopped = false;
  let wake: (() => void) | undefined;
  let backfillDone = false;
  let nextBackfill = 0;
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  const run = async () => {
    while (!stopped) {
      let pause = opts.intervalMs;
      try {
        const lease = await acquireLease(col, owner);
        if (lease.held) {
          if (!backfillDone && Date.now() >= nextBackfill) {
            const started = Date.now();
            const r = await backfillStep(col);
            backfillDone = r.done;
            nextBackfill = Date.now() + (opts.backfillRetryMs ?? 5 * 60_000);
            if (r.hoursMarked || r.legacyKeyed || r.legacyLeft) opts.log?.('analytics backfill', { ...r, ms: Date.now() - started });
          }
          while (!stopped && Date.now() < lease.until) {
            const started = Date.now();
            const r = await rollupTick(col);
            // A long pass (a campaign's busy hour holds thousands of calls) is followed by a pause
            // four times as long: the loop takes at most a fifth of a core from the calls themselves.
            pause = Math.max(opts.intervalMs, 4 * (Date.now() - started));
            if (r.marks < ROLLUP_BATCH) break;
          }
        } else {
          // Ours from a later moment, or someone else's until its slot ends.
          pause = Math.max(opts.intervalMs, lease.from - Date.now());
        }
      } catch (err) {
        opts.onError?.(err);
        pause = Math.max(opts.intervalMs, 2_000);
      }
      if (!stopped) await sleep(pause);
    }
  };
  const done = run();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}

// ---- reading --------------------------------------------------------------------------------------

export interface CellFilter {
  provider?: string;
  agentId?: string;
}

/** Visits one call group's cell: which bucket, the cell's provider/agent/outcome, the cell. */
export type CellVisitor = (
  bucket: number,
  key: { provider: string; agentId: string | undefined; outcome: CellOutcome },
  cell: Cell,
) => void;

/**
 * Every cell of an organization's calls created in the given buckets (sorted, disjoint), whose
 * edges are local-day boundaries or UTC hours. A local day wholly inside one bucket comes from its
 * month document; the other hours from their day documents; an hour that a bucket edge cuts (the
 * range's ends, a local midnight in a half-hour zone) from its calls, each placed by its createdAt.
 * Documents are read by _id, in parallel.
 */
export async function visitCells(
  col: Collections,
  orgId: string,
  buckets: TimeBucket[],
  filter: CellFilter,
  visit: CellVisitor,
  zone = 'UTC',
  now = Date.now(),
): Promise<void> {
  if (buckets.length === 0) return;
  const from = buckets[0].start;
  const to = buckets[buckets.length - 1].end;
  const last = buckets.length - 1;
  // No call is created after now: a range that ends at or after now holds the whole of the
  // current hour and day, which the rollups then serve as they do any other.
  const fits = (b: number, end: number) => end <= buckets[b].end || (b === last && to >= now);
  const keep = (k: ReturnType<typeof parseCellKey>) =>
    (filter.provider === undefined || k.provider === filter.provider) && (filter.agentId === undefined || k.agentId === filter.agentId);
  const visitCellsOf = (bucket: number, cells: Cells) => {
    for (const [key, cell] of Object.entries(cells)) {
      const k = parseCellKey(key);
      if (keep(k)) visit(bucket, k, cell);
    }
  };

  // Local days wholly inside one bucket: from the month documents, when cut in this zone.
  const candidates: { day: number; bucket: number; start: number; end: number }[] = [];
  const lastDay = localDayNumber(to - 1, zone);
  let start = startOfLocalDay(localDayNumber(from, zone), zone);
  for (let day = localDayNumber(from, zone); day <= lastDay; day++) {
    const end = startOfLocalDay(day + 1, zone);
    const aligned = start % HOUR_MS === 0 && end % HOUR_MS === 0;
    const b = bucketOf(buckets, start);
    if (aligned && start >= from && b >= 0 && fits(b, end)) candidates.push({ day, bucket: b, start, end });
    start = end;
  }
  const candidateHours = new Set<number>();
  for (const c of candidates) for (let t = c.start; t < c.end; t += HOUR_MS) candidateHours.add(t);
  const inCandidateDay = (t: number) => candidateHours.has(Math.floor(t / HOUR_MS) * HOUR_MS);

  // Every other hour, read at the same time as the month documents: whole ones from the UTC day
  // documents, cut ones from their calls. A cut hour never lies in a candidate day (those start at
  // or after `from` and end within their bucket, on hour boundaries).
  const whole = new Map<string, { hour: string; bucket: number }[]>();
  const cut: string[] = [];
  let b = 0;
  for (let t = Math.floor(from / HOUR_MS) * HOUR_MS; t < to; t += HOUR_MS) {
    while (b < buckets.length && buckets[b].end <= t) b++;
    const inside = b < buckets.length && buckets[b].start <= t && fits(b, t + HOUR_MS);
    if (inside && candidateHours.has(t)) continue;
    const hour = hourOf(t);
    if (inside) {
      const id = hourDocId(orgId, hour);
      whole.set(id, [...(whole.get(id) ?? []), { hour, bucket: b }]);
    } else {
      cut.push(hour);
    }
  }
  const readHours = (docs: Map<string, { hour: string; bucket: number }[]>) =>
    inParallel([...docs.entries()], 8, async ([id, hours]) => {
      const doc = await col.rollups.findOne({ _id: id, orgId });
      for (const { hour, bucket } of hours) {
        const h = parse<HourRollup>(doc?.hours?.[hour.slice(11, 13)]);
        if (h) visitCellsOf(bucket, h.cells);
      }
    });

  await Promise.all([
    (async () => {
      const months = new Map<string, Record<string, string>>();
      await inParallel([...new Set(candidates.map((c) => monthDocId(orgId, c.day)))], 8, async (id) => {
        months.set(id, (await col.rollups.findOne({ _id: id, orgId }))?.days ?? {});
      });
      // A candidate day without a rollup cut in this zone is read from its hours instead.
      const fallback = new Map<string, { hour: string; bucket: number }[]>();
      for (const c of candidates) {
        const rollup = parse<LocalDayRollup>(months.get(monthDocId(orgId, c.day))?.[isoDay(c.day).slice(8, 10)]);
        if (rollup?.zone === zone) {
          visitCellsOf(c.bucket, rollup.cells);
          continue;
        }
        for (let t = c.start; t < c.end; t += HOUR_MS) {
          const hour = hourOf(t);
          const id = hourDocId(orgId, hour);
          fallback.set(id, [...(fallback.get(id) ?? []), { hour, bucket: c.bucket }]);
        }
      }
      await readHours(fallback);
    })(),
    readHours(whole),
    inParallel(cut, 8, async (hour) => {
      const start = hourStart(hour);
      const perBucket = new Map<number, Cells>();
      for await (const c of col.calls.find({ rollupKey: `${orgId}:${hour}` }, { projection: FACT_PROJECTION })) {
        const t = new Date((c as { createdAt?: Date }).createdAt ?? start).getTime();
        const i = bucketOf(buckets, t);
        // Safety: a call in a candidate day is counted with that day.
        if (i < 0 || inCandidateDay(t)) continue;
        const cells = perBucket.get(i) ?? {};
        addCall(cells, c as unknown as CallFacts);
        perBucket.set(i, cells);
      }
      for (const [i, cells] of perBucket) visitCellsOf(i, cells);
    }),
  ]);
}

/** Index of the bucket holding t, or -1. */
function bucketOf(buckets: TimeBucket[], t: number): number {
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t < buckets[mid].start) hi = mid - 1;
    else if (t >= buckets[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

// ---- reports --------------------------------------------------------------------------------------

export interface RangeQuery extends CellFilter {
  from: number;
  to: number;
  timeZone: string;
  /** Open calls unchanged since before this (epoch ms) count as stale. */
  staleBefore: number;
  /** The request's time (epoch ms); Date.now() when absent. */
  now?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function summaryReport(col: Collections, orgId: string, q: RangeQuery) {
  const tally = new Tally();
  const staleBefore = Math.floor(q.staleBefore / 1000);
  await visitCells(
    col,
    orgId,
    [{ start: q.from, end: q.to, label: '' }],
    q,
    (_b, k, cell) => tally.add(k.outcome, cell, staleBefore),
    q.timeZone,
    q.now,
  );
  return {
    from: iso(q.from),
    to: iso(q.to),
    timeZone: q.timeZone,
    filters: { provider: q.provider ?? null, agentId: q.agentId ?? null },
    ...tally.figures(),
  };
}

export type GroupBy = 'outcome' | 'provider' | 'agent';

export async function timeseriesReport(col: Collections, orgId: string, q: RangeQuery & { interval: Interval; groupBy: GroupBy }) {
  const buckets = localBuckets(q.from, q.to, q.interval, q.timeZone);
  const tallies = buckets.map(() => new Tally());
  const groups = buckets.map(() => new Map<string, number>());
  const staleBefore = Math.floor(q.staleBefore / 1000);
  await visitCells(
    col,
    orgId,
    buckets,
    q,
    (b, k, cell) => {
      tallies[b].add(k.outcome, cell, staleBefore);
      const g = q.groupBy === 'outcome' ? k.outcome : q.groupBy === 'provider' ? k.provider : (k.agentId ?? '');
      groups[b].set(g, (groups[b].get(g) ?? 0) + cell.n);
    },
    q.timeZone,
    q.now,
  );
  const seen = new Set<string>();
  for (const g of groups) for (const k of g.keys()) seen.add(k);
  const order = q.groupBy === 'outcome' ? [...CELL_OUTCOMES].filter((o) => seen.has(o)) : [...seen].sort();
  return {
    from: iso(q.from),
    to: iso(q.to),
    timeZone: q.timeZone,
    interval: q.interval,
    groupBy: q.groupBy,
    filters: { provider: q.provider ?? null, agentId: q.agentId ?? null },
    groups: order,
    buckets: buckets.map((b, i) => {
      const f = tallies[i].figures();
      return {
        start: iso(b.start),
        end: iso(b.end),
        label: b.label,
        calls: f.calls.total,
        finished: f.calls.finished,
        answered: f.calls.answered,
        answerRate: f.calls.answerRate,
        averageDurationSec: f.duration.averageSec,
        cost: f.cost.byCurrency.map(({ currency, totalCents, calls }) => ({ currency, totalCents, calls })),
        groups: Object.fromEntries(order.map((g) => [g, groups[i].get(g) ?? 0])),
      };
    }),
  };
}

export async function agentsReport(col: Collections, orgId: string, q: RangeQuery) {
  const tallies = new Map<string, { tally: Tally; providers: Set<string> }>();
  const staleBefore = Math.floor(q.staleBefore / 1000);
  await visitCells(
    col,
    orgId,
    [{ start: q.from, end: q.to, label: '' }],
    q,
    (_b, k, cell) => {
      const key = k.agentId ?? '';
      const entry = tallies.get(key) ?? { tally: new Tally(), providers: new Set<string>() };
      entry.tally.add(k.outcome, cell, staleBefore);
      entry.providers.add(k.provider);
      tallies.set(key, entry);
    },
    q.timeZone,
    q.now,
  );
  const items = [...tallies.entries()]
    .map(([agentId, { tally, providers }]) => {
      const f = tally.figures();
      return {
        agentId: agentId === '' ? null : agentId,
        providers: [...providers].sort(),
        calls: f.calls.total,
        finished: f.calls.finished,
        answered: f.calls.answered,
        answerRate: f.calls.answerRate,
        averageDurationSec: f.duration.averageSec,
        medianDurationSec: f.duration.medianSec,
        success: f.success,
        cost: f.cost.byCurrency,
      };
    })
    .sort((a, b) => b.calls - a.calls || String(a.agentId).localeCompare(String(b.agentId)));
  return {
    from: iso(q.from),
    to: iso(q.to),
    timeZone: q.timeZone,
    filters: { provider: q.provider ?? null, agentId: q.agentId ?? null },
    items,
  };
}

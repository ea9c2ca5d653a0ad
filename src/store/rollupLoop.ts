// The rollup loop, the one writer of the analytics rollups. Every call record carries `rollupKey`
// (`${org}:${UTC hour of createdAt}`); the store functions that change a call insert a dirty mark
// after the write; one loop at a time (a lease) recomputes each marked hour from its calls, by
// equality on rollupKey, and `$set`s the hour into the day's rollup document, then deletes exactly
// the marks it read. Records from before rollups are keyed and marked by the backfill. The
// documents' format is in rollupCodec.ts; the reports that read them in analytics.ts.
import { randomUUID } from 'node:crypto';
import {
  type CallFacts,
  type Cells,
  HOUR_MS,
  addCall,
  hourDocId,
  hourOf,
  hourStart,
  isoDay,
  localDayNumber,
  mergeCell,
  monthDocId,
  rollupKeyOf,
  splitRollupKey,
  startOfLocalDay,
} from '../domain/analytics';
import { type CallDoc, type Collections, docId, isDuplicateKey } from './db';
import { backfillFollowUpQueue } from './followUpQueue';
import { HOUR_COUNTS_BACKFILL_ID, recordHourCounts } from './callLists';
import { FACT_PROJECTION, type HourRollup, type LocalDayRollup, inParallel, orgTimeZone, pack, parse } from './rollupCodec';

/** Local day → [start, end) when both ends fall on UTC hours (not in half-hour zones); else undefined. */
function alignedDay(day: number, zone: string): { start: number; end: number } | undefined {
  const start = startOfLocalDay(day, zone);
  const end = startOfLocalDay(day + 1, zone);
  return start % HOUR_MS === 0 && end % HOUR_MS === 0 ? { start, end } : undefined;
}

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
  const counts = new Map<string, number>();
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
      counts.set(hour, calls);
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

  // The hours' numbers of calls, for the list of calls (src/store/callLists.ts).
  await recordHourCounts(col, orgId, counts);

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

/**
 * Rollups written before the hours' counts existed (src/store/callLists.ts): every hour they hold is
 * marked once, so the loop recomputes it and writes its count; until then the list reads the marks.
 */
export async function backfillHourCounts(col: Collections): Promise<number> {
  if ((await col.rollupState.findOne({ _id: HOUR_COUNTS_BACKFILL_ID }))?.done) return 0;
  const keys: string[] = [];
  for await (const d of col.rollups.find({}, { projection: { _id: 1, orgId: 1, hours: 1 } })) {
    const day = d._id.slice(-10);
    if (d._id !== hourDocId(d.orgId, day)) continue;
    for (const hh of Object.keys(d.hours ?? {})) keys.push(`${d.orgId}:${day}T${hh}`);
  }
  const marked = await markHours(col, keys);
  await col.rollupState.updateOne({ _id: HOUR_COUNTS_BACKFILL_ID }, { $set: { done: true, at: new Date() } }, { upsert: true });
  return marked;
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
            const queue = await backfillFollowUpQueue(col);
            const hoursCounted = await backfillHourCounts(col);
            backfillDone = r.done && queue.done;
            nextBackfill = Date.now() + (opts.backfillRetryMs ?? 5 * 60_000);
            if (r.hoursMarked || r.legacyKeyed || r.legacyLeft) opts.log?.('analytics backfill', { ...r, ms: Date.now() - started });
            if (queue.keyed || queue.left) opts.log?.('follow-up queue backfill', { ...queue, ms: Date.now() - started });
            if (hoursCounted) opts.log?.('hour counts backfill', { hoursMarked: hoursCounted, ms: Date.now() - started });
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

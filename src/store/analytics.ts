// Call analytics from the hourly rollups (written by src/store/rollupLoop.ts): reads take whole
// hours from the day documents (by _id) and compute the hours that a range or a local day boundary
// cuts from the calls themselves, so the figures are exact; then the summary, time series and
// per-agent reports.
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
  monthDocId,
  parseCellKey,
  startOfLocalDay,
} from '../domain/analytics';
import type { Collections } from './db';
import { FACT_PROJECTION, type HourRollup, type LocalDayRollup, inParallel, parse } from './rollupCodec';

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
        medianDurationExact: f.duration.medianExact,
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

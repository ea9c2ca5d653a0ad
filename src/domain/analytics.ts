// Call analytics as pure math: what one call contributes to its hour's rollup (a "cell" keyed by
// provider, agent and outcome), how cells add up (durations: callDurations.ts), and
// how UTC hours group into an organization's local days and weeks (DST included). No Node
// imports: the store and the tests share it.
import { localTime } from './callingWindow';
import {
  DURATION_EDGES,
  EXACT_DURATIONS_PER_CELL,
  EXACT_DURATIONS_PER_REPORT,
  durationBucket,
  exactMedian,
  medianFromHistogram,
} from './callDurations';
import { CONNECTED_OUTCOMES, OUTCOMES, type Outcome } from './events';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

// ---- buckets ----------------------------------------------------------------------------------

/** UTC hour of an instant: `2026-11-27T13`. */
export const hourOf = (ms: number): string => new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13);
/** Start of a `yyyy-mm-ddThh` hour, epoch ms. */
export const hourStart = (hour: string): number => Date.parse(`${hour}:00:00.000Z`);
/** The rollup bucket a call belongs to, from its record's creation time; stored on the call as `rollupKey`. */
export const rollupKeyOf = (orgId: string, createdAt: Date | number): string =>
  `${orgId}:${hourOf(typeof createdAt === 'number' ? createdAt : createdAt.getTime())}`;
/** `${orgId}:${hour}` → its parts (the org id may itself hold `:`; the hour never does past its 13 characters). */
export function splitRollupKey(key: string): { orgId: string; hour: string } {
  return { orgId: key.slice(0, key.length - 14), hour: key.slice(key.length - 13) };
}
/** The rollup document of a UTC day, holding its hours: `${orgId}:h:${yyyy-mm-dd}`. */
export const hourDocId = (orgId: string, hour: string): string => `${orgId}:h:${hour.slice(0, 10)}`;
/** The rollup document of a local month, holding its local days: `${orgId}:d:${yyyy-mm}` (`day` as localDayNumber). */
export const monthDocId = (orgId: string, day: number): string => `${orgId}:d:${isoDay(day).slice(0, 7)}`;

/** Whether a cell holds the exact duration of every call it has one for. */
const exactOf = (c: { d?: number; x?: number[] }): boolean => (c.x?.length ?? 0) === (c.d ?? 0);

// ---- what one call contributes ----------------------------------------------------------------

/** The fields of a call record the rollup reads (a projection of CallDoc). */
export interface CallFacts {
  provider: string;
  agentId?: string;
  status: string;
  outcome?: string;
  durationSec?: number;
  cost?: { amountCents?: unknown; currency?: unknown };
  analysis?: { successful?: unknown };
  email?: { status?: string };
  followUp?: {
    attempts?: { attempt?: number; status?: string; placedAt?: string; callId?: string }[];
    history?: { event?: string; attempt?: number; by?: string }[];
  };
  /** Set when the platform never settled the call (src/domain/stale.ts). */
  stale?: unknown;
  updatedAt?: Date | string;
  createdAt?: Date | string;
}

/** Cell outcome keys: the six outcomes, `open` (not finished yet), `stale` (the platform never settled it). */
export const CELL_OUTCOMES = [...OUTCOMES, 'open', 'stale'] as const;
export type CellOutcome = (typeof CELL_OUTCOMES)[number];

const OPEN_STATUSES = new Set(['pending', 'initiated', 'ringing', 'answered']);

export function cellOutcomeOf(c: Pick<CallFacts, 'status' | 'outcome' | 'stale'>): CellOutcome {
  if (OPEN_STATUSES.has(c.status)) return c.stale ? 'stale' : 'open';
  if (c.status === 'stale') return 'stale';
  if (c.outcome && (OUTCOMES as readonly string[]).includes(c.outcome)) return c.outcome as Outcome;
  return c.status === 'completed' ? 'completed' : 'failed';
}

/**
 * One rollup cell: the calls of one (provider, agent, outcome) in one hour. Short field names and
 * arrays of numbers keep a day's document small (it is read whole). Zero fields are left out.
 */
export interface Cell {
  /** calls */
  n: number;
  /** calls with a duration, and its sum (s) */
  d?: number;
  ds?: number;
  /** duration histogram: bucket index → calls */
  h?: Record<string, number>;
  /** every duration (s), while the cell has at most EXACT_DURATIONS_PER_CELL of them (absent: more, or a rollup from before) */
  x?: number[];
  /** cost per currency: [sum of amountCents, calls] */
  c?: Record<string, number[]>;
  /** analysis: [calls with `successful` set, of which true] */
  s?: number[];
  /** follow-ups: [scheduled, placed, connected, moved by the window, blocked by do-not-call] */
  f?: number[];
  /** thank-you emails: [sent, skipped, failed] */
  e?: number[];
  /** open calls only: when each record last changed (epoch s), for "stale" at read time */
  u?: number[];
}

export type Cells = Record<string, Cell>;

/** Cell keys cannot hold `.` or start with `$` (MongoDB field names); ids may hold anything else. */
const enc = (s: string) => encodeURIComponent(s).replace(/\./g, '%2E');
export const cellKey = (provider: string, agentId: string | undefined, outcome: CellOutcome): string =>
  `${enc(provider)}|${enc(agentId ?? '')}|${outcome}`;
export function parseCellKey(key: string): { provider: string; agentId: string | undefined; outcome: CellOutcome } {
  const [p, a, o] = key.split('|');
  const agentId = decodeURIComponent(a ?? '');
  return { provider: decodeURIComponent(p ?? ''), agentId: agentId === '' ? undefined : agentId, outcome: o as CellOutcome };
}

const addVec = (into: number[] | undefined, v: number[]): number[] => {
  const out = into ? [...into] : [];
  v.forEach((x, i) => (out[i] = (out[i] ?? 0) + x));
  return out;
};
const nonZero = (v: number[]) => v.some((x) => x !== 0);

/** Follow-up figures of one call's plan: [scheduled, placed, connected, moved, blocked]. */
export function followUpFigures(plan: CallFacts['followUp']): number[] {
  if (!plan || typeof plan !== 'object') return [0, 0, 0, 0, 0];
  const attempts = Array.isArray(plan.attempts) ? plan.attempts : [];
  const history = Array.isArray(plan.history) ? plan.history : [];
  const placed = attempts.filter(
    (a) => a.placedAt !== undefined || a.status === 'placed' || a.status === 'answered' || a.status === 'unanswered',
  ).length;
  const connected = attempts.filter((a) => a.status === 'answered').length;
  const moved = new Set(history.filter((h) => h.event === 'moved').map((h) => h.attempt ?? 0)).size;
  const blocked = history.some((h) => h.by === 'do-not-call') ? 1 : 0;
  return [attempts.length, placed, connected, moved, blocked];
}

const EMAIL_INDEX: Record<string, number> = { sent: 0, skipped: 1, failed: 2 };

/** Adds one call to a set of cells. */
export function addCall(cells: Cells, call: CallFacts): void {
  const outcome = cellOutcomeOf(call);
  const key = cellKey(call.provider, call.agentId, outcome);
  const cell = (cells[key] ??= { n: 0 });
  cell.n += 1;
  const d = call.durationSec;
  if (typeof d === 'number' && Number.isFinite(d) && d >= 0) {
    cell.d = (cell.d ?? 0) + 1;
    cell.ds = (cell.ds ?? 0) + d;
    const b = String(durationBucket(d));
    cell.h = { ...cell.h, [b]: (cell.h?.[b] ?? 0) + 1 };
    if (cell.d <= EXACT_DURATIONS_PER_CELL && (cell.x?.length ?? 0) === cell.d - 1) cell.x = [...(cell.x ?? []), d];
    else delete cell.x;
  }
  const amount = call.cost?.amountCents;
  if (typeof amount === 'number' && Number.isFinite(amount)) {
    const cur = typeof call.cost?.currency === 'string' ? call.cost.currency : 'USD';
    cell.c = { ...cell.c, [cur]: addVec(cell.c?.[cur], [amount, 1]) };
  }
  const ok = call.analysis?.successful;
  if (typeof ok === 'boolean') cell.s = addVec(cell.s, [1, ok ? 1 : 0]);
  const f = followUpFigures(call.followUp);
  if (nonZero(f)) cell.f = addVec(cell.f, f);
  const ei = call.email?.status === undefined ? undefined : EMAIL_INDEX[call.email.status];
  if (ei !== undefined)
    cell.e = addVec(
      cell.e,
      [0, 0, 0].map((_, i) => (i === ei ? 1 : 0)),
    );
  if (outcome === 'open' && call.updatedAt !== undefined) {
    const t = Math.floor(new Date(call.updatedAt).getTime() / 1000);
    if (Number.isFinite(t)) (cell.u ??= []).push(t);
  }
}

/** Adds a cell into a set of cells (a day's cells from its hours'). */
export function mergeCell(into: Cells, key: string, cell: Cell): void {
  const t = into[key];
  if (!t) {
    into[key] = { ...cell, ...(cell.u && { u: [...cell.u] }), ...(cell.x && { x: [...cell.x] }) };
    return;
  }
  const exact = exactOf(t) && exactOf(cell) && (t.d ?? 0) + (cell.d ?? 0) <= EXACT_DURATIONS_PER_CELL;
  if (exact && cell.x) t.x = [...(t.x ?? []), ...cell.x];
  else if (!exact) delete t.x;
  t.n += cell.n;
  if (cell.d) t.d = (t.d ?? 0) + cell.d;
  if (cell.ds) t.ds = (t.ds ?? 0) + cell.ds;
  if (cell.h) {
    const h = { ...t.h };
    for (const [b, k] of Object.entries(cell.h)) h[b] = (h[b] ?? 0) + k;
    t.h = h;
  }
  if (cell.c) {
    const c = { ...t.c };
    for (const [cur, v] of Object.entries(cell.c)) c[cur] = addVec(c[cur], v);
    t.c = c;
  }
  if (cell.s) t.s = addVec(t.s, cell.s);
  if (cell.f) t.f = addVec(t.f, cell.f);
  if (cell.e) t.e = addVec(t.e, cell.e);
  if (cell.u) t.u = [...(t.u ?? []), ...cell.u];
}

export function cellsOf(calls: Iterable<CallFacts>): Cells {
  const cells: Cells = {};
  for (const c of calls) addCall(cells, c);
  return cells;
}

// ---- adding cells up --------------------------------------------------------------------------

export interface CurrencyTotal {
  currency: string;
  totalCents: number;
  calls: number;
  averageCents: number;
}

/** The figures of a set of cells, as the API reports them. */
export interface Figures {
  calls: { total: number; finished: number; answered: number; answerRate: number | null; open: number; stale: number };
  outcomes: Record<Outcome, number>;
  duration: {
    calls: number;
    totalSec: number;
    averageSec: number | null;
    medianSec: number | null;
    /** The median is the exact middle of the durations (else the histogram's estimate). */
    medianExact: boolean;
    histogram: { fromSec: number; toSec: number | null; calls: number }[];
  };
  cost: { calls: number; byCurrency: CurrencyTotal[] };
  success: { evaluated: number; successful: number; rate: number | null };
  followUps: { scheduled: number; placed: number; connected: number; movedByWindow: number; blockedByDoNotCall: number };
  emails: { sent: number; skipped: number; failed: number };
}

/** A running sum of cells; `figures()` turns it into the API's numbers. */
export class Tally {
  n = 0;
  byOutcome: Record<string, number> = {};
  d = 0;
  ds = 0;
  h: Record<string, number> = {};
  c: Record<string, number[]> = {};
  s = [0, 0];
  f = [0, 0, 0, 0, 0];
  e = [0, 0, 0];
  staleOpen = 0;
  /** Every duration seen, while each cell brought all of its own; null once one did not. */
  x: number[] | null = [];

  /** `staleBefore` (epoch s): open calls whose record last changed before it count as stale. */
  add(outcome: CellOutcome, cell: Cell, staleBefore: number): void {
    this.n += cell.n;
    this.byOutcome[outcome] = (this.byOutcome[outcome] ?? 0) + cell.n;
    this.d += cell.d ?? 0;
    this.ds += cell.ds ?? 0;
    for (const [b, k] of Object.entries(cell.h ?? {})) this.h[b] = (this.h[b] ?? 0) + k;
    const xs = cell.x ?? [];
    if (this.x && exactOf(cell) && this.x.length + xs.length <= EXACT_DURATIONS_PER_REPORT) this.x.push(...xs);
    else this.x = null;
    for (const [cur, v] of Object.entries(cell.c ?? {})) this.c[cur] = addVec(this.c[cur], v);
    if (cell.s) this.s = addVec(this.s, cell.s);
    if (cell.f) this.f = addVec(this.f, cell.f);
    if (cell.e) this.e = addVec(this.e, cell.e);
    if (outcome === 'open') for (const t of cell.u ?? []) if (t < staleBefore) this.staleOpen += 1;
  }

  get answered(): number {
    return [...CONNECTED_OUTCOMES].reduce((a, o) => a + (this.byOutcome[o] ?? 0), 0);
  }

  get finished(): number {
    return OUTCOMES.reduce((a, o) => a + (this.byOutcome[o] ?? 0), 0);
  }

  figures(): Figures {
    const finished = this.finished;
    const answered = this.answered;
    const open = this.byOutcome.open ?? 0;
    const byCurrency = Object.entries(this.c)
      .map(([currency, [sum, calls]]) => ({ currency, totalCents: round(sum), calls, averageCents: round(sum / calls) }))
      .sort((a, b) => b.calls - a.calls || a.currency.localeCompare(b.currency));
    return {
      calls: {
        total: this.n,
        finished,
        answered,
        answerRate: ratio(answered, finished),
        open,
        stale: (this.byOutcome.stale ?? 0) + this.staleOpen,
      },
      outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, this.byOutcome[o] ?? 0])) as Record<Outcome, number>,
      duration: {
        calls: this.d,
        totalSec: round(this.ds),
        averageSec: this.d > 0 ? round(this.ds / this.d) : null,
        medianSec: this.x ? exactMedian(this.x) : medianFromHistogram(this.h),
        medianExact: this.x !== null,
        histogram: DURATION_EDGES.map((from, i) => ({
          fromSec: from,
          toSec: DURATION_EDGES[i + 1] ?? null,
          calls: this.h[String(i)] ?? 0,
        })),
      },
      cost: { calls: byCurrency.reduce((a, x) => a + x.calls, 0), byCurrency },
      success: { evaluated: this.s[0], successful: this.s[1], rate: ratio(this.s[1], this.s[0]) },
      followUps: { scheduled: this.f[0], placed: this.f[1], connected: this.f[2], movedByWindow: this.f[3], blockedByDoNotCall: this.f[4] },
      emails: { sent: this.e[0], skipped: this.e[1], failed: this.e[2] },
    };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);

// ---- local time -------------------------------------------------------------------------------

type Parts = { y: number; m: number; d: number; h: number; mi: number; s: number };
/**
 * Local fields of whole hours, remembered: formatToParts costs ~0.1 ms, and a 90-day series asks
 * for hundreds of the same hours on every request. Bounded: cleared past 200,000 entries.
 */
const hourParts = new Map<string, Parts>();

/** Local wall-clock fields of an instant in a time zone. */
function localParts(ms: number, tz: string): Parts {
  const key = ms % HOUR_MS === 0 ? `${tz}|${ms}` : undefined;
  const known = key === undefined ? undefined : hourParts.get(key);
  if (known) return known;
  const t = localTime(ms, tz);
  const parts = { y: t.year, m: t.month, d: t.day, h: t.hour, mi: t.minute, s: t.second };
  if (key !== undefined) {
    if (hourParts.size >= 200_000) hourParts.clear();
    hourParts.set(key, parts);
  }
  return parts;
}

/** A local date as a day number (days since 1970-01-01 of that calendar date). */
const dayNumber = (y: number, m: number, d: number) => Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
export const localDayNumber = (ms: number, tz: string): number => {
  const p = localParts(ms, tz);
  return dayNumber(p.y, p.m, p.d);
};
/** A day number as `yyyy-mm-dd`. */
export const isoDay = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** The UTC offset of a zone at an instant, ms (local minus UTC). */
export function offsetAt(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
}

/** Day starts, remembered (bounded like hourParts). */
const dayStarts = new Map<string, number>();

/**
 * The first instant of a local calendar day: local midnight, or the first moment after it when a
 * DST change skips midnight (Santiago, Havana). Found from the offset, then made exact by a
 * minute-resolution search for the first instant whose local date is that day.
 */
export function startOfLocalDay(day: number, tz: string): number {
  const key = `${tz}|${day}`;
  const known = dayStarts.get(key);
  if (known !== undefined) return known;
  const start = findStartOfLocalDay(day, tz);
  if (dayStarts.size >= 200_000) dayStarts.clear();
  dayStarts.set(key, start);
  return start;
}

function findStartOfLocalDay(day: number, tz: string): number {
  const target = day * DAY_MS;
  let guess = target - offsetAt(target, tz);
  guess = target - offsetAt(guess, tz);
  // The day starts in (guess - 3h, guess + 3h]: find the first minute whose local date is `day`.
  let lo = Math.floor((guess - 3 * HOUR_MS) / 60_000);
  let hi = Math.floor((guess + 3 * HOUR_MS) / 60_000);
  if (localDayNumber(lo * 60_000, tz) >= day) return guess;
  while (lo + 1 < hi) {
    const mid = Math.floor((lo + hi) / 2); // not `>> 1`: minutes since 1970 pass 2^31 in year 6053
    if (localDayNumber(mid * 60_000, tz) >= day) hi = mid;
    else lo = mid;
  }
  return hi * 60_000;
}

export type Interval = 'hour' | 'day' | 'week';

export interface TimeBucket {
  /** First instant, epoch ms. */
  start: number;
  /** First instant of the next bucket. */
  end: number;
  /** Local label: `2026-11-27` for a day, the Monday for a week, `2026-11-27T13:00` for an hour. */
  label: string;
}

/**
 * The local buckets of a zone covering [from, to): local hours, days or weeks (starting Monday).
 * The first and last are clipped to the range. Hour buckets are UTC hours (a local hour is one,
 * except in zones off by a half or quarter hour, where the label shows the local minute).
 */
export function localBuckets(from: number, to: number, interval: Interval, tz: string): TimeBucket[] {
  const out: TimeBucket[] = [];
  if (interval === 'hour') {
    for (let t = Math.floor(from / HOUR_MS) * HOUR_MS; t < to; t += HOUR_MS) {
      const p = localParts(t, tz);
      const label = `${isoDay(dayNumber(p.y, p.m, p.d))}T${String(p.h).padStart(2, '0')}:${String(p.mi).padStart(2, '0')}`;
      out.push({ start: Math.max(t, from), end: Math.min(t + HOUR_MS, to), label });
    }
    return out;
  }
  let day = localDayNumber(from, tz);
  // Day numbers count from Thursday 1970-01-01: (n + 3) % 7 is 0 on Mondays.
  if (interval === 'week') day -= (((day + 3) % 7) + 7) % 7;
  const step = interval === 'week' ? 7 : 1;
  for (let start = startOfLocalDay(day, tz); start < to; day += step) {
    const end = startOfLocalDay(day + step, tz);
    out.push({ start: Math.max(start, from), end: Math.min(end, to), label: isoDay(day) });
    start = end;
  }
  return out;
}

// The duration figures of a set of calls: the histogram's buckets, and the median, exact while
// the set is small enough to keep every duration, else estimated from the histogram with a
// stated error (the API says which, src/http/analytics.ts). Pure: rollups and tests share it.

/** Duration histogram edges in seconds: bucket i is [EDGES[i], EDGES[i+1]), the last one open-ended. */
export const DURATION_EDGES = [
  0, 5, 10, 15, 20, 30, 45, 60, 75, 90, 105, 120, 150, 180, 210, 240, 300, 360, 420, 480, 600, 720, 900, 1200, 1500, 1800, 2400, 3600, 5400,
  7200,
] as const;

export function durationBucket(sec: number): number {
  let lo = 0;
  let hi = DURATION_EDGES.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (DURATION_EDGES[mid] <= sec) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Exact durations a cell keeps beside its histogram while it holds at most this many: a quiet
 * hour or day (most of a small organization's) reports its exact median; a busier cell keeps the
 * histogram only, so the rollup documents stay small (they are read whole).
 */
export const EXACT_DURATIONS_PER_CELL = 16;
/** A report sorts at most this many durations for an exact median; beyond, it takes the histogram's estimate. */
export const EXACT_DURATIONS_PER_REPORT = 10_000;

/** The median of a list: its middle value, the lower of the two for an even count (as the histogram's estimate takes it). */
export function exactMedian(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.ceil(v.length / 2) - 1];
}

/**
 * The median from histogram counts: the bucket holding the middle value (the lower one of two),
 * then a linear guess inside it, so it is off by at most that bucket's width (5 s under a minute,
 * at most a third of the lower edge above); the open last bucket answers its lower edge.
 */
export function medianFromHistogram(hist: Record<string, number>): number | null {
  const counts = DURATION_EDGES.map((_, i) => hist[String(i)] ?? 0);
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const rank = n / 2;
  let before = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    if (before + counts[i] >= rank) {
      const lo = DURATION_EDGES[i];
      if (i === DURATION_EDGES.length - 1) return lo;
      const hi = DURATION_EDGES[i + 1];
      return Math.round((lo + ((rank - before) / counts[i]) * (hi - lo)) * 100) / 100;
    }
    before += counts[i];
  }
  return null;
}

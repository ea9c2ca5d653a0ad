// Pure analytics math: buckets, the median from the histogram, local days and weeks across DST.
import {
  type CallFacts,
  Tally,
  cellKey,
  cellOutcomeOf,
  cellsOf,
  mergeCell,
  followUpFigures,
  localBuckets,
  parseCellKey,
  rollupKeyOf,
  splitRollupKey,
  startOfLocalDay,
} from '../../../src/domain/analytics';
import {
  DURATION_EDGES,
  EXACT_DURATIONS_PER_CELL,
  EXACT_DURATIONS_PER_REPORT,
  durationBucket,
  exactMedian,
  medianFromHistogram,
} from '../../../src/domain/callDurations';

const utc = (s: string) => Date.parse(s);

test('rollup keys: UTC hour of creation; the org id may hold colons', () => {
  expect(rollupKeyOf('org:a', new Date('2026-11-27T13:59:59.999Z'))).toBe('org:a:2026-11-27T13');
  expect(splitRollupKey('org:a:2026-11-27T13')).toEqual({ orgId: 'org:a', hour: '2026-11-27T13' });
});

test('cell keys survive dots, pipes, dollars and percent signs in agent ids', () => {
  for (const agent of ['a.b', '$x|y', '100%', 'ünï', undefined]) {
    const k = cellKey('vapi', agent, 'busy');
    expect(k).not.toMatch(/\./);
    expect(k.startsWith('$')).toBe(false);
    expect(parseCellKey(k)).toEqual({ provider: 'vapi', agentId: agent, outcome: 'busy' });
  }
});

test('duration buckets follow the edges; the last is open', () => {
  expect(durationBucket(0)).toBe(0);
  expect(durationBucket(4.9)).toBe(0);
  expect(durationBucket(5)).toBe(1);
  expect(durationBucket(7199)).toBe(DURATION_EDGES.length - 2);
  expect(durationBucket(1e6)).toBe(DURATION_EDGES.length - 1);
});

test('median from the histogram lies in the bucket of the middle value', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 50; trial++) {
    const values = Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * rnd() * 2000));
    const hist: Record<string, number> = {};
    for (const v of values) hist[durationBucket(v)] = (hist[durationBucket(v)] ?? 0) + 1;
    const sorted = [...values].sort((a, b) => a - b);
    // The estimate lies in the bucket of the (lower) middle value.
    const b = durationBucket(sorted[Math.ceil(sorted.length / 2) - 1]);
    const est = medianFromHistogram(hist)!;
    expect(est).toBeGreaterThanOrEqual(DURATION_EDGES[b]);
    expect(est).toBeLessThanOrEqual(DURATION_EDGES[b + 1] ?? DURATION_EDGES[b]);
  }
  expect(medianFromHistogram({})).toBeNull();
  expect(medianFromHistogram({ [DURATION_EDGES.length - 1]: 3 })).toBe(7200);
});

test('cell outcome: open, stale (marked or by status), the outcome, or completed/failed by status', () => {
  expect(cellOutcomeOf({ status: 'ringing' })).toBe('open');
  expect(cellOutcomeOf({ status: 'answered', stale: { since: 'x' } })).toBe('stale');
  expect(cellOutcomeOf({ status: 'stale' })).toBe('stale');
  expect(cellOutcomeOf({ status: 'failed', outcome: 'busy' })).toBe('busy');
  expect(cellOutcomeOf({ status: 'completed' })).toBe('completed');
  expect(cellOutcomeOf({ status: 'failed', outcome: 'weird' })).toBe('failed');
});

test('follow-up figures of a plan', () => {
  expect(followUpFigures(undefined)).toEqual([0, 0, 0, 0, 0]);
  expect(
    followUpFigures({
      attempts: [
        { attempt: 1, status: 'unanswered', placedAt: 'x' },
        { attempt: 2, status: 'answered', placedAt: 'y' },
        { attempt: 3, status: 'canceled' },
      ],
      history: [
        { event: 'moved', attempt: 2 },
        { event: 'moved', attempt: 2 },
        { event: 'moved', attempt: 3 },
        { event: 'canceled', by: 'do-not-call', attempt: 3 },
      ],
    }),
  ).toEqual([3, 2, 1, 2, 1]);
});

test('tally: answer rate over finished calls, costs per currency, stale open calls by age', () => {
  const calls: CallFacts[] = [
    {
      provider: 'vapi',
      agentId: 'a',
      status: 'completed',
      outcome: 'completed',
      durationSec: 100,
      cost: { amountCents: 10, currency: 'USD' },
      analysis: { successful: true },
      email: { status: 'sent' },
    },
    {
      provider: 'vapi',
      agentId: 'a',
      status: 'completed',
      outcome: 'voicemail',
      durationSec: 20,
      cost: { amountCents: 5, currency: 'EUR' },
      analysis: { successful: false },
    },
    { provider: 'vapi', agentId: 'a', status: 'failed', outcome: 'no-answer', email: { status: 'skipped' } },
    { provider: 'retell', status: 'ringing', updatedAt: new Date(1_000_000) },
    { provider: 'retell', status: 'ringing', updatedAt: new Date(9_000_000) },
  ];
  const t = new Tally();
  for (const [k, c] of Object.entries(cellsOf(calls))) t.add(parseCellKey(k).outcome, c, 5_000);
  const f = t.figures();
  expect(f.calls).toEqual({ total: 5, finished: 3, answered: 2, answerRate: 0.6667, open: 2, stale: 1 });
  expect(f.duration.averageSec).toBe(60);
  expect(f.cost.byCurrency).toEqual([
    { currency: 'EUR', totalCents: 5, calls: 1, averageCents: 5 },
    { currency: 'USD', totalCents: 10, calls: 1, averageCents: 10 },
  ]);
  expect(f.success).toEqual({ evaluated: 2, successful: 1, rate: 0.5 });
  expect(f.emails).toEqual({ sent: 1, skipped: 1, failed: 0 });
});

test('local days in New York across the end of DST (2026-11-01 is 25 hours)', () => {
  const b = localBuckets(utc('2026-10-31T04:00:00Z'), utc('2026-11-03T05:00:00Z'), 'day', 'America/New_York');
  expect(b.map((x) => x.label)).toEqual(['2026-10-31', '2026-11-01', '2026-11-02']);
  expect(b.map((x) => new Date(x.start).toISOString())).toEqual([
    '2026-10-31T04:00:00.000Z',
    '2026-11-01T04:00:00.000Z',
    '2026-11-02T05:00:00.000Z',
  ]);
  expect((b[1].end - b[1].start) / 3_600_000).toBe(25);
});

test('local days in Berlin across the start of DST (2026-03-29 is 23 hours)', () => {
  const b = localBuckets(utc('2026-03-28T00:00:00Z'), utc('2026-03-30T00:00:00Z'), 'day', 'Europe/Berlin');
  expect(b.map((x) => x.label)).toEqual(['2026-03-28', '2026-03-29', '2026-03-30']);
  expect(new Date(b[1].start).toISOString()).toBe('2026-03-28T23:00:00.000Z');
  expect((b[1].end - b[1].start) / 3_600_000).toBe(23);
  // the first and last buckets are clipped to the range
  expect(new Date(b[0].start).toISOString()).toBe('2026-03-28T00:00:00.000Z');
  expect(new Date(b[2].end).toISOString()).toBe('2026-03-30T00:00:00.000Z');
});

test('a day whose midnight does not exist starts at the first instant that does (Santiago, 2026-09-06)', () => {
  const day = Math.floor(Date.UTC(2026, 8, 6) / 86_400_000);
  const start = startOfLocalDay(day, 'America/Santiago');
  const local = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'America/Santiago',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  expect(local.format(new Date(start))).toBe('2026-09-06, 01:00');
  expect(local.format(new Date(start - 60_000)).startsWith('2026-09-05')).toBe(true);
});

test('weeks start on Monday, in local time; half-hour zones cut UTC hours', () => {
  const w = localBuckets(utc('2026-11-04T12:00:00Z'), utc('2026-11-20T00:00:00Z'), 'week', 'Asia/Kolkata');
  expect(w.map((x) => x.label)).toEqual(['2026-11-02', '2026-11-09', '2026-11-16']);
  expect(new Date(w[1].start).toISOString()).toBe('2026-11-08T18:30:00.000Z');
  const h = localBuckets(utc('2026-11-04T12:00:00Z'), utc('2026-11-04T14:00:00Z'), 'hour', 'Asia/Kolkata');
  expect(h.map((x) => x.label)).toEqual(['2026-11-04T17:30', '2026-11-04T18:30']);
});

describe('the median: exact for small sets, the histogram estimate beyond', () => {
  const calls = (...durations: number[]): CallFacts[] =>
    durations.map((durationSec) => ({ provider: 'vapi', agentId: 'a1', status: 'completed', outcome: 'completed', durationSec }));
  const duration = (cells: ReturnType<typeof cellsOf>) => {
    const t = new Tally();
    for (const [key, cell] of Object.entries(cells)) t.add(parseCellKey(key).outcome, cell, 0);
    return t.figures().duration;
  };

  test('three calls of 120 s have a median of 120 s, exactly (the histogram alone said 135)', () => {
    const cells = cellsOf(calls(120, 120, 120));
    expect(duration(cells)).toMatchObject({ medianSec: 120, medianExact: true });
    const histogramOnly = Object.fromEntries(Object.entries(cells).map(([k, { x: _x, ...c }]) => [k, c]));
    expect(duration(histogramOnly)).toMatchObject({ medianSec: 135, medianExact: false });
  });

  test('an even count reports the lower middle value; fractions are kept', () => {
    expect(exactMedian([61.5, 3, 200, 59])).toBe(59);
    expect(duration(cellsOf(calls(10, 20, 30.25)))).toMatchObject({ medianSec: 20, medianExact: true });
    expect(exactMedian([])).toBeNull();
  });

  test('a cell over EXACT_DURATIONS_PER_CELL keeps the histogram only, and the report says it estimated', () => {
    const many = Array.from({ length: EXACT_DURATIONS_PER_CELL + 1 }, (_, i) => 60 + i);
    const cells = cellsOf(calls(...many));
    expect(Object.values(cells)[0].x).toBeUndefined();
    const d = duration(cells);
    expect(d.medianExact).toBe(false);
    expect(d.medianSec).toBeGreaterThanOrEqual(60);
    expect(d.medianSec).toBeLessThanOrEqual(75);
    const atCap = cellsOf(calls(...many.slice(1)));
    expect(Object.values(atCap)[0].x).toHaveLength(EXACT_DURATIONS_PER_CELL);
    expect(duration(atCap)).toMatchObject({ medianSec: 68, medianExact: true });
  });

  test('hours merge into a day exactly while the day stays under the cap; one over drops the durations', () => {
    const key = Object.keys(cellsOf(calls(1)))[0];
    const day = {};
    mergeCell(day, key, cellsOf(calls(100, 300))[key]);
    mergeCell(day, key, cellsOf(calls(200))[key]);
    expect(duration(day)).toMatchObject({ medianSec: 200, medianExact: true });
    mergeCell(day, key, cellsOf(calls(...Array.from({ length: EXACT_DURATIONS_PER_CELL - 2 }, () => 5)))[key]);
    expect(duration(day).medianExact).toBe(false);
    // The hour's own cell is not changed by the merge.
    const hour = cellsOf(calls(7));
    const into = {};
    mergeCell(into, key, hour[key]);
    mergeCell(into, key, cellsOf(calls(9))[key]);
    expect(hour[key].x).toEqual([7]);
  });

  test('a report beyond EXACT_DURATIONS_PER_REPORT durations takes the estimate', () => {
    const t = new Tally();
    const cell = Object.values(cellsOf(calls(...Array.from({ length: EXACT_DURATIONS_PER_CELL }, () => 30))))[0];
    for (let i = 0; i * EXACT_DURATIONS_PER_CELL <= EXACT_DURATIONS_PER_REPORT; i++) t.add('completed', cell, 0);
    expect(t.figures().duration).toMatchObject({ medianExact: false, medianSec: expect.any(Number) });
  });
});

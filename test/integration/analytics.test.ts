// Analytics against the real database (FerretDB over PostgreSQL in the test stack): calls written
// through the store functions, the rollup loop run for real, and every report compared with a
// brute-force computation over the same calls read back from the database.
import http from 'node:http';
import { CONNECTED_OUTCOMES, OUTCOMES, type CallEvent } from '../../src/domain/events';
import { initialState, reduce } from '../../src/domain/reducer';
import { followUpFigures, localBuckets } from '../../src/domain/analytics';
import { DURATION_EDGES, durationBucket } from '../../src/domain/callDurations';
import { agentsReport, summaryReport, timeseriesReport, type RangeQuery } from '../../src/store/analytics';
import { acquireLease, backfillStep, insertCallRecords, rollupTick, startRollupLoop } from '../../src/store/rollupLoop';
import { markCall, saveCallState } from '../../src/store/calls';
import type { CallDoc, Store } from '../../src/store/db';
import { createFollowUpActivities } from '../../activities/followUps';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { callRecords } from '../support/callRecords';
import { serve, stubbedApp } from '../support/app';
import { testStore, uniqueId } from '../support/harness';

let store: Store;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Ten days around the end of DST in New York (2026-11-01), in the past of the session's clock.
const FROM = Date.parse('2026-10-27T00:00:00Z');
const TO = Date.parse('2026-11-06T00:00:00Z');

beforeAll(async () => {
  store = await testStore('analytics');
}, 60_000);
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

async function drain() {
  for (let i = 0; i < 100; i++) {
    const r = await rollupTick(store.col);
    if (r.marks === 0) return;
  }
  throw new Error('marks kept coming');
}

const allCalls = async (orgId: string) => store.col.calls.find({ orgId }).toArray();

/** The figures computed the plain way, call by call, independent of cells and rollups. */
function bruteForce(calls: CallDoc[], q: { from: number; to: number; provider?: string; agentId?: string; staleBefore: number }) {
  const sel = calls.filter(
    (c) =>
      c.createdAt.getTime() >= q.from &&
      c.createdAt.getTime() < q.to &&
      (q.provider === undefined || c.provider === q.provider) &&
      (q.agentId === undefined || c.agentId === q.agentId),
  );
  const open = (c: CallDoc) => !['completed', 'failed'].includes(c.status);
  const marked = (c: CallDoc) => (c as { stale?: unknown }).stale !== undefined;
  const finished = sel.filter((c) => !open(c));
  const outcomes = Object.fromEntries(
    OUTCOMES.map((o) => [o, finished.filter((c) => (c.outcome ?? (c.status === 'completed' ? 'completed' : 'failed')) === o).length]),
  );
  const answered = finished.filter((c) => CONNECTED_OUTCOMES.has(c.outcome ?? 'failed')).length;
  const durations = sel.filter((c) => typeof c.durationSec === 'number').map((c) => c.durationSec!);
  const cost: Record<string, { total: number; calls: number }> = {};
  for (const c of sel) {
    if (!c.cost) continue;
    const t = (cost[c.cost.currency] ??= { total: 0, calls: 0 });
    t.total += c.cost.amountCents;
    t.calls += 1;
  }
  const fu = sel.map((c) => followUpFigures(c.followUp as never)).reduce((a, f) => a.map((x, i) => x + f[i]), [0, 0, 0, 0, 0]);
  return {
    sel,
    total: sel.length,
    finished: finished.length,
    answered,
    outcomes,
    open: sel.filter((c) => open(c) && !marked(c)).length,
    stale: sel.filter((c) => open(c) && (marked(c) || c.updatedAt.getTime() < q.staleBefore)).length,
    durations,
    avg: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    cost,
    success: [
      sel.filter((c) => typeof c.analysis?.successful === 'boolean').length,
      sel.filter((c) => c.analysis?.successful === true).length,
    ],
    followUps: fu,
    emails: ['sent', 'skipped', 'failed'].map((s) => sel.filter((c) => c.email?.status === s).length),
  };
}

function expectSummaryMatches(s: Awaited<ReturnType<typeof summaryReport>>, b: ReturnType<typeof bruteForce>) {
  expect(s.calls.total).toBe(b.total);
  expect(s.calls.finished).toBe(b.finished);
  expect(s.calls.answered).toBe(b.answered);
  expect(s.calls.stale).toBe(b.stale);
  expect(s.outcomes).toEqual(b.outcomes);
  expect(s.duration.calls).toBe(b.durations.length);
  if (b.avg === null) expect(s.duration.averageSec).toBeNull();
  else expect(s.duration.averageSec).toBeCloseTo(b.avg, 1);
  if (b.durations.length) {
    const sorted = [...b.durations].sort((x, y) => x - y);
    const bucket = durationBucket(sorted[Math.ceil(sorted.length / 2) - 1]);
    expect(s.duration.medianSec).toBeGreaterThanOrEqual(DURATION_EDGES[bucket]);
    expect(s.duration.medianSec).toBeLessThanOrEqual(DURATION_EDGES[bucket + 1] ?? DURATION_EDGES[bucket]);
  }
  expect(Object.fromEntries(s.cost.byCurrency.map((c) => [c.currency, { total: c.totalCents, calls: c.calls }]))).toEqual(
    Object.fromEntries(Object.entries(b.cost).map(([k, v]) => [k, { total: Math.round(v.total * 100) / 100, calls: v.calls }])),
  );
  expect([s.success.evaluated, s.success.successful]).toEqual(b.success);
  expect(Object.values(s.followUps)).toEqual(b.followUps);
  expect(Object.values(s.emails)).toEqual(b.emails);
}

describe('reports against brute force', () => {
  const ORG = uniqueId('org_an');
  const NOW = Date.parse('2026-11-27T12:00:00Z');
  const base = (over: Partial<RangeQuery> = {}): RangeQuery => ({
    from: FROM,
    to: TO,
    timeZone: 'America/New_York',
    staleBefore: NOW - HOUR,
    ...over,
  });
  let calls: CallDoc[];

  beforeAll(async () => {
    // Local days are rolled up in the organization's zone; reports in other zones read hours.
    await store.col.organizations.insertOne({
      _id: ORG,
      name: 'analytics',
      createdAt: new Date(),
      compliance: { defaultTimeZone: 'America/New_York' },
    });
    await insertCallRecords(store.col, callRecords({ orgId: ORG, from: FROM, to: TO, count: 1_500, seed: 42 }));
    // another organization's calls in the same hours must never show
    await insertCallRecords(store.col, callRecords({ orgId: `${ORG}_other`, from: FROM, to: TO, count: 200, seed: 9 }));
    await drain();
    calls = await allCalls(ORG);
    expect(calls).toHaveLength(1_500);
  }, 120_000);

  test('summary over whole hours, over ranges cut mid-hour, and filtered by provider and agent', async () => {
    const ranges = [
      base(),
      base({ from: FROM + 17 * 60_000 + 3_000, to: TO - 5 * DAY - 41 * 60_000 }),
      base({ provider: 'vapi' }),
      base({ agentId: 'asst.renewals', from: FROM + 2 * DAY + 1_234 }),
      base({ provider: 'twilio', to: FROM + 3 * DAY }),
      base({ provider: 'retell', agentId: 'asst.renewals' }),
    ];
    for (const q of ranges) expectSummaryMatches(await summaryReport(store.col, ORG, q), bruteForce(calls, q));
  });

  test.each([
    ['day', 'America/New_York'],
    ['week', 'America/New_York'],
    ['hour', 'America/New_York'],
    ['day', 'Asia/Kolkata'],
    ['day', 'UTC'],
  ] as const)('timeseries by %s in %s: each bucket holds the calls of its local interval', async (interval, timeZone) => {
    const q = { ...base({ timeZone, to: interval === 'hour' ? FROM + 3 * DAY + 30 * 60_000 : TO }), interval, groupBy: 'outcome' as const };
    const r = await timeseriesReport(store.col, ORG, q);
    const buckets = localBuckets(q.from, q.to, interval, timeZone);
    expect(r.buckets.map((b) => b.label)).toEqual(buckets.map((b) => b.label));
    // The local date of each call, computed by Intl directly.
    const localDay = (t: number) =>
      new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));
    for (const [i, b] of r.buckets.entries()) {
      const bf = bruteForce(calls, { ...q, from: Date.parse(b.start), to: Date.parse(b.end) });
      expect(b.calls).toBe(bf.total);
      expect(b.answered).toBe(bf.answered);
      for (const o of OUTCOMES) expect(b.groups[o] ?? 0).toBe(bf.outcomes[o]);
      if (interval === 'day')
        expect(new Set(bf.sel.map((c) => localDay(c.createdAt.getTime())))).toEqual(bf.total ? new Set([b.label]) : new Set());
      expect(i === 0 || Date.parse(b.start) === Date.parse(r.buckets[i - 1].end)).toBe(true);
    }
    expect(r.buckets.reduce((a, b) => a + b.calls, 0)).toBe(bruteForce(calls, q).total);
  });

  test('local days are read from the month documents in the organization zone, from hours in another', async () => {
    const reads: string[] = [];
    const col = {
      ...store.col,
      rollups: new Proxy(store.col.rollups, {
        get: (target, prop, receiver) =>
          prop === 'findOne'
            ? (filter: { _id: string }, ...rest: unknown[]) => (reads.push(filter._id), target.findOne(filter, ...(rest as [])))
            : (Reflect.get(target, prop, receiver) as unknown),
      }),
    };
    await timeseriesReport(col, ORG, { ...base(), interval: 'day', groupBy: 'outcome' });
    expect(reads.filter((id) => id.includes(':d:')).length).toBe(2);
    // only the edge days' hours: FROM and TO are UTC midnights, 04:00 or 05:00 in New York
    expect(reads.filter((id) => id.includes(':h:')).length).toBeLessThanOrEqual(4);
    reads.length = 0;
    await timeseriesReport(col, ORG, { ...base({ timeZone: 'Europe/Berlin' }), interval: 'day', groupBy: 'outcome' });
    // every UTC day's hours (an edge day's document may be read twice: once for its hours outside
    // the local days, once for a day without a rollup in this zone)
    expect(new Set(reads.filter((id) => id.includes(':h:'))).size).toBe(10);
  });

  test('the New York day of the DST change holds 25 hours of calls', async () => {
    const r = await timeseriesReport(store.col, ORG, { ...base(), interval: 'day', groupBy: 'provider' });
    const day = r.buckets.find((b) => b.label === '2026-11-01')!;
    expect(Date.parse(day.end) - Date.parse(day.start)).toBe(25 * HOUR);
    for (const p of r.groups) {
      const n = calls.filter(
        (c) => c.provider === p && c.createdAt.getTime() >= Date.parse(day.start) && c.createdAt.getTime() < Date.parse(day.end),
      ).length;
      expect(day.groups[p]).toBe(n);
    }
  });

  test('agents: per agent calls, answer rate, duration, success and cost', async () => {
    const r = await agentsReport(store.col, ORG, base());
    const agents = new Set(calls.map((c) => c.agentId ?? null));
    expect(new Set(r.items.map((i) => i.agentId))).toEqual(agents);
    for (const item of r.items) {
      const bf = bruteForce(
        calls.filter((c) => (c.agentId ?? null) === item.agentId),
        base(),
      );
      expect(item.calls).toBe(bf.total);
      expect(item.answered).toBe(bf.answered);
      expect(item.answerRate).toBeCloseTo(bf.answered / bf.finished, 3);
      expect(item.averageDurationSec).toBeCloseTo(bf.avg!, 1);
      expect([item.success.evaluated, item.success.successful]).toEqual(bf.success);
      expect(item.cost.reduce((a, c) => a + c.calls, 0)).toBe(Object.values(bf.cost).reduce((a, c) => a + c.calls, 0));
    }
  });

  test('a call that changes later (email result, follow-up progress) is counted again after its mark', async () => {
    const target = calls.find((c) => c.status === 'failed' && c.email?.status === 'skipped')!;
    await markCall(store.col, ORG, target.callId, { email: { status: 'sent', at: new Date() } });
    await createFollowUpActivities({ col: store.col }).recordFollowUp({
      orgId: ORG,
      callId: target.callId,
      plan: {
        rev: 99,
        status: 'answered',
        attempt: 1,
        maxAttempts: 3,
        delayMs: 1,
        attempts: [{ attempt: 1, scheduledFor: new Date().toISOString(), status: 'answered', placedAt: new Date().toISOString() }],
        history: [],
      },
    });
    await drain();
    calls = await allCalls(ORG);
    expectSummaryMatches(await summaryReport(store.col, ORG, base()), bruteForce(calls, base()));
  });
});

describe('live writes', () => {
  const event = (callId: string, type: CallEvent['type'], i: number, extra: Partial<CallEvent> = {}): CallEvent => ({
    eventId: `${callId}:${type}`,
    provider: 'retell',
    providerEvent: type,
    callId,
    type,
    receivedAt: new Date(Date.now() + i).toISOString(),
    ...extra,
  });

  test('many calls of one hour changing at once, with two rollup loops running: exact counts', async () => {
    const ORG = uniqueId('org_conc');
    const loops = [startRollupLoop(store.col, { intervalMs: 50 }), startRollupLoop(store.col, { intervalMs: 50 })];
    try {
      const n = 60;
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const callId = `c${i}`;
          let s = initialState(ORG, callId, 'retell');
          const steps: CallEvent[] = [
            event(callId, 'call.initiated', 0, { agentId: `agent_${i % 3}` }),
            event(callId, 'call.answered', 1),
            i % 4 === 0
              ? event(callId, 'call.failed', 2, { outcome: 'busy' })
              : event(callId, 'call.completed', 2, { durationSec: 30 + i, cost: { amountCents: 10 + i, currency: 'USD', source: 'test' } }),
          ];
          for (const e of steps) {
            s = reduce(s, e).state;
            await saveCallState(store.col, s, `call:${ORG}:${callId}`);
          }
          if (i % 2 === 0) await markCall(store.col, ORG, callId, { email: { status: 'sent', at: new Date() } });
        }),
      );
      const q: RangeQuery = { from: Date.now() - DAY, to: Date.now() + HOUR, timeZone: 'UTC', staleBefore: Date.now() - HOUR };
      // The hour of these calls is wholly inside [from, to) only once `to` passes its end; read the
      // rollup itself through a range of whole hours.
      const hourStart = Math.floor(Date.now() / HOUR) * HOUR;
      const whole: RangeQuery = { ...q, from: hourStart - HOUR, to: hourStart + HOUR };
      const deadline = Date.now() + 30_000;
      let s = await summaryReport(store.col, ORG, whole);
      while ((s.calls.total !== n || s.outcomes.completed !== 45 || s.emails.sent !== 30) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        s = await summaryReport(store.col, ORG, whole);
      }
      expect(s.calls.total).toBe(n);
      expect(s.outcomes).toMatchObject({ completed: 45, busy: 15 });
      expect(s.emails.sent).toBe(30);
      expect(s.cost.byCurrency).toEqual([
        {
          currency: 'USD',
          calls: 45,
          totalCents: 45 * 10 + [...Array(n).keys()].filter((i) => i % 4).reduce((a, i) => a + i, 0),
          averageCents: expect.any(Number),
        },
      ]);
      expect(s.duration.totalSec).toBe([...Array(n).keys()].filter((i) => i % 4).reduce((a, i) => a + 30 + i, 0));
      // The marks written after the last recompute are taken too.
      const marksLeft = () => store.col.rollupMarks.countDocuments({ orgId: ORG });
      while ((await marksLeft()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await marksLeft()).toBe(0);
      expectSummaryMatches(s, bruteForce(await allCalls(ORG), { ...whole }));
      expectSummaryMatches(await summaryReport(store.col, ORG, q), bruteForce(await allCalls(ORG), q));
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
  }, 60_000);

  test('the lease: of many processes asking for one slot, exactly one holds it; the next slot goes on without a gap only for its holder', async () => {
    // A slot of long ago, that no loop of this run has taken.
    const t0 = Date.parse('2020-01-01T00:00:01Z');
    const owners = Array.from({ length: 12 }, (_, i) => `owner_${i}_${uniqueId('x')}`);
    const leases = await Promise.all(owners.map((o) => acquireLease(store.col, o, t0)));
    expect(leases.filter((l) => l.held)).toHaveLength(1);
    const holder = owners[leases.findIndex((l) => l.held)];
    const other = owners.find((o) => o !== holder)!;
    // In the margin before the slot's end, the holder claims the next slot and goes on at once...
    const margin = t0 + 11_000;
    expect(await acquireLease(store.col, holder, margin)).toMatchObject({ held: true, until: t0 - 1_000 + 25_000 });
    expect((await acquireLease(store.col, other, margin)).held).toBe(false);
    // ...while a process that wins a next slot from someone else waits for that slot to begin.
    const next = t0 + 26_000;
    expect(await acquireLease(store.col, other, next)).toMatchObject({ held: false, from: t0 - 1_000 + 30_000 });
    expect((await acquireLease(store.col, other, t0 - 1_000 + 30_000)).held).toBe(true);
    expect((await acquireLease(store.col, holder, t0 - 1_000 + 30_000)).held).toBe(false);
  });
});

describe('backfill of calls stored before rollups', () => {
  test('records without a key get one once idle, and every hour is computed', async () => {
    const ORG = uniqueId('org_legacy');
    const docs = callRecords({ orgId: ORG, from: FROM, to: FROM + 2 * DAY, count: 300, seed: 5 });
    // As an older version stored them: no rollupKey, no marks.
    await store.col.calls.insertMany(docs.map((d) => ({ ...d, updatedAt: new Date(Date.now() - DAY) })));
    const busy = {
      ...callRecords({ orgId: ORG, from: FROM, to: FROM + HOUR, count: 1, seed: 6, idPrefix: 'busy' })[0],
      updatedAt: new Date(),
    };
    await store.col.calls.insertOne(busy);
    await store.col.rollupState.deleteOne({ _id: 'backfill:v1' });
    const r = await backfillStep(store.col);
    expect(r.legacyKeyed).toBeGreaterThanOrEqual(300);
    expect(r.legacyLeft).toBeGreaterThanOrEqual(1);
    expect(r.done).toBe(false);
    await drain();
    const q: RangeQuery = { from: FROM, to: FROM + 2 * DAY, timeZone: 'UTC', staleBefore: Date.now() - HOUR };
    const keyed = (await allCalls(ORG)).filter((c) => c.rollupKey);
    expectSummaryMatches(await summaryReport(store.col, ORG, q), bruteForce(keyed, q));
    expect(keyed).toHaveLength(300);
    // Once the busy record has been idle long enough, the next pass keys it and is done.
    const later = await backfillStep(store.col, Date.now() + 11 * 60_000);
    expect(later.legacyLeft).toBe(0);
    await drain();
    expectSummaryMatches(await summaryReport(store.col, ORG, q), bruteForce(await allCalls(ORG), q));
  }, 60_000);
});

describe('the median', () => {
  test('three calls of 120 s: 120 s exactly, from the rollups of whole days and from the calls of cut hours', async () => {
    const ORG = uniqueId('org_median');
    const docs = callRecords({ orgId: ORG, from: FROM + HOUR, to: FROM + 2 * HOUR, count: 3, seed: 11 }).map((d) => ({
      ...d,
      provider: 'vapi' as const,
      agentId: 'agent_m',
      status: 'completed' as const,
      outcome: 'completed' as const,
      durationSec: 120,
    }));
    await insertCallRecords(store.col, docs);
    await drain();
    for (const [from, to] of [
      [FROM, FROM + DAY],
      [FROM + HOUR + 1, FROM + 2 * HOUR - 1],
    ]) {
      const q: RangeQuery = { from, to, timeZone: 'UTC', staleBefore: Date.now() - HOUR };
      expect((await summaryReport(store.col, ORG, q)).duration).toMatchObject({ calls: 3, medianSec: 120, medianExact: true });
      expect((await agentsReport(store.col, ORG, q)).items).toMatchObject([{ medianDurationSec: 120, medianDurationExact: true }]);
    }
  }, 60_000);
});

describe('HTTP', () => {
  let server: http.Server;
  let base: string;
  let key: string;
  let org: string;

  beforeAll(async () => {
    org = await createOrganization(store.col, 'analytics http');
    key = (await addApiKey(store.col, org, { scope: 'read' })).key;
    ({ server, base } = await serve(stubbedApp(store.col)));
  });
  afterAll(() => new Promise((r) => server?.close(r)));

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { 'x-api-key': key } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('defaults: the last 30 days from the start of an hour, daily, by outcome, in the organization time zone', async () => {
    const r = await get('/api/analytics/timeseries');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ interval: 'day', groupBy: 'outcome', timeZone: 'UTC' });
    const span = Date.parse(r.body.to as string) - Date.parse(r.body.from as string);
    expect(Date.parse(r.body.from as string) % HOUR).toBe(0);
    expect(span).toBeGreaterThan(30 * DAY);
    expect(span).toBeLessThanOrEqual(30 * DAY + HOUR);
    expect((await get('/api/analytics/summary')).status).toBe(200);
    expect((await get('/api/analytics/agents')).status).toBe(200);
  });

  test.each([
    ['/api/analytics/summary?from=yesterday', 'from'],
    ['/api/analytics/summary?to=2026-13-01', 'to'],
    ['/api/analytics/summary?provider=skype', 'provider'],
    ['/api/analytics/agents?agentId=', 'agentId'],
    ['/api/analytics/timeseries?interval=minute', 'interval'],
    ['/api/analytics/timeseries?groupBy=contact', 'groupBy'],
    ['/api/analytics/summary?from=2026-11-02&to=2026-11-01', 'from'],
    ['/api/analytics/timeseries?interval=hour&from=2026-09-01&to=2026-11-01', 'from'],
    ['/api/analytics/summary?from=2020-01-01&to=2026-01-01', 'from'],
  ])('%s is a 400 naming %s', async (path, field) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.body.message).toContain(field);
  });

  test('an hourly series over more than 31 days says what the cap is', async () => {
    const r = await get('/api/analytics/timeseries?interval=hour&from=2026-09-01&to=2026-11-01');
    expect(r.body.message).toMatch(/interval=hour allows at most 31/);
  });
});

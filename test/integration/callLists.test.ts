// The dashboard's lists against the real database (FerretDB over PostgreSQL in the test stack):
// `GET /api/calls` (listCalls walks the analytics hours) and the scheduled follow-ups (the queue
// keys and day markers), each compared with the plain query they replace, sorted by the database
// itself, on a seeded set: calls in the same hour and millisecond, empty hours, hours the rollup
// loop has and has not taken yet, every filter the route has, and the page boundaries.
import { callQuery, listCalls, type CallFilters } from '../../src/store/callLists';
import { backfillFollowUpQueue, scheduledFollowUpCalls } from '../../src/store/followUpQueue';
import { recordFollowUpPlan } from '../../src/store/calls';
import { backfillHourCounts, insertCallRecords, rollupTick } from '../../src/store/rollupLoop';
import { type Store, compareStrings, docId } from '../../src/store/db';
import { callRecords } from '../support/callRecords';
import { testStore, uniqueId } from '../support/harness';

let store: Store;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Five days in the session's past, with a quiet day in the middle.
const FROM = Date.parse('2026-10-10T00:00:00Z');
const TO = FROM + 5 * DAY;
const orgId = uniqueId('org_lists');
const other = uniqueId('org_other');

beforeAll(async () => {
  store = await testStore('callLists');
  const col = store.col;
  // As the worker's rollup loop does first: nothing to count yet, so the counts are complete from here on.
  await backfillHourCounts(col);
  const records = [
    ...callRecords({ orgId, from: FROM, to: FROM + 2 * DAY, count: 160, seed: 7, idPrefix: 'a' }),
    ...callRecords({ orgId, from: FROM + 3 * DAY, to: TO, count: 120, seed: 8, idPrefix: 'b' }),
  ];
  // Calls of one millisecond, ids in an order where UTF-16 and byte order differ (U+FF21 against a
  // character above U+FFFF), and calls on the edges of an hour.
  const same = new Date(FROM + 30 * HOUR + 1234);
  const special = ['m_\u{1F600}', 'm_\uFF21', 'm_a', 'm_B', 'm_\u00e9'].map((callId, i) => ({
    ...callRecords({ orgId, from: FROM, to: FROM + 1, count: 1, seed: 100 + i, idPrefix: `x${i}` })[0],
    _id: docId(orgId, callId),
    callId,
    createdAt: same,
    provider: 'vapi' as const,
  }));
  const edges = [FROM + 40 * HOUR, FROM + 41 * HOUR - 1].map((t, i) => ({
    ...callRecords({ orgId, from: t, to: t + 1, count: 1, seed: 200 + i, idPrefix: `e${i}` })[0],
  }));
  // One contact with calls across the days.
  for (const r of records.filter((_, i) => i % 23 === 0)) r.contactId = 'contact_shared';
  await insertCallRecords(col, [...records, ...special, ...edges]);
  await insertCallRecords(col, callRecords({ orgId: other, from: FROM, to: TO, count: 40, seed: 9, idPrefix: 'o' }));
  // The rollup loop takes these; the calls stored after it wait with their marks.
  for (let i = 0; i < 100 && (await rollupTick(col)).marks > 0; i++);
  await insertCallRecords(col, callRecords({ orgId, from: FROM + DAY, to: FROM + 1.5 * DAY, count: 30, seed: 10, idPrefix: 'late' }));
  await insertCallRecords(col, callRecords({ orgId, from: TO - 2 * HOUR, to: TO, count: 10, seed: 11, idPrefix: 'new' }));
}, 120_000);
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

/** The query the list replaces, sorted by the database. */
async function expected(f: CallFilters): Promise<string[]> {
  const q = callQuery(orgId, f);
  const docs = await store.col.calls
    .find(q, { projection: { _id: 1 } })
    .sort({ createdAt: -1, _id: 1 })
    .toArray();
  return docs.map((d) => d._id);
}

const FILTERS: [string, CallFilters][] = [
  ['no filter', {}],
  ['status', { status: 'completed' }],
  ['an open status few calls have', { status: 'ringing' }],
  ['outcome', { outcome: 'no-answer' }],
  ['provider', { provider: 'vapi' }],
  ['contact', { contactId: 'contact_shared' }],
  ['stale', { stale: true }],
  ['not stale', { stale: false }],
  ['from/to on hours', { from: new Date(FROM + 6 * HOUR), to: new Date(FROM + 30 * HOUR) }],
  ['from/to cutting hours', { from: new Date(FROM + 6 * HOUR + 1_234_567), to: new Date(FROM + 30 * HOUR + 1234) }],
  ['from/to inside the quiet day', { from: new Date(FROM + 2 * DAY + HOUR), to: new Date(FROM + 3 * DAY - HOUR) }],
  ['provider and a range', { provider: 'retell', from: new Date(FROM + DAY) }],
  ['status and provider', { status: 'failed', provider: 'bland' }],
];

describe('GET /api/calls: listCalls', () => {
  test.each(FILTERS)('%s: every page as the plain query orders it, and its total', async (_, f) => {
    const all = await expected(f);
    const pages = [
      { offset: 0, limit: 50 },
      { offset: 0, limit: 7 },
      { offset: 37, limit: 20 },
      { offset: Math.max(0, all.length - 3), limit: 10 },
      { offset: all.length, limit: 5 },
      { offset: 0, limit: 200 },
    ];
    for (const page of pages) {
      const r = await listCalls(store.col, orgId, f, page);
      expect(r.items.map((d) => d._id)).toEqual(all.slice(page.offset, page.offset + page.limit));
      if (r.totalExact) expect(r.total).toBe(all.length);
      else {
        expect(r.total).toBeLessThanOrEqual(all.length);
        expect(r.total).toBeGreaterThan(page.offset + page.limit);
      }
    }
  });

  test('without a filter the total is exact, from the rollups and the hours still marked', async () => {
    const r = await listCalls(store.col, orgId, {}, { offset: 100, limit: 10 });
    expect(r).toMatchObject({ total: (await expected({})).length, totalExact: true });
  });

  test('until the hours of older rollups are counted, the same pages come from the rollups themselves', async () => {
    await store.col.rollupState.deleteOne({ _id: 'hourCounts:v1' });
    try {
      for (const [, f] of FILTERS.slice(0, 5)) {
        const r = await listCalls(store.col, orgId, f, { offset: 3, limit: 40 });
        expect(r.items.map((d) => d._id)).toEqual((await expected(f)).slice(3, 43));
      }
    } finally {
      await backfillHourCounts(store.col);
    }
  });

  test('calls of one millisecond are ordered by their ids as MongoDB orders strings', async () => {
    const ids = ['m_\u{1F600}', 'm_\uFF21', 'm_a', 'm_B', 'm_\u00e9'].map((c) => docId(orgId, c));
    expect([...ids].sort(compareStrings)).toEqual(['m_B', 'm_a', 'm_\u00e9', 'm_\uFF21', 'm_\u{1F600}'].map((c) => docId(orgId, c)));
    const all = await expected({});
    const at = all.findIndex((id) => ids.includes(id));
    const r = await listCalls(store.col, orgId, {}, { offset: at, limit: 5 });
    expect(r.items.map((d) => d._id)).toEqual(all.filter((id) => ids.includes(id)));
    expect(all.slice(at, at + 5)).toEqual(['m_B', 'm_a', 'm_\u00e9', 'm_\uFF21', 'm_\u{1F600}'].map((c) => docId(orgId, c)));
  });

  test("another organization's calls never show", async () => {
    const r = await listCalls(store.col, other, {}, { offset: 0, limit: 200 });
    expect(r.total).toBe(40);
    expect(r.items.every((d) => d.orgId === other)).toBe(true);
  });
});

describe('the scheduled follow-ups', () => {
  const scheduledOracle = async (limit: number) =>
    (
      await store.col.calls
        .find({ orgId, nextFollowUpAt: { $gte: new Date(0) } }, { projection: { _id: 1 } })
        .sort({ nextFollowUpAt: 1, _id: 1 })
        .limit(limit)
        .toArray()
    ).map((d) => d._id);
  const plan = (rev: number, at?: number) => ({
    rev,
    status: at === undefined ? 'placed' : 'scheduled',
    ...(at !== undefined && { nextFollowUpAt: new Date(at).toISOString() }),
    summary: 'test',
  });

  test('soonest first across days, ties by id, unscheduled ones gone, empty past days forgotten', async () => {
    const calls = (
      await store.col.calls
        .find({ orgId }, { projection: { callId: 1 } })
        .limit(40)
        .toArray()
    ).map((d) => d.callId);
    const now = Date.now();
    // Days in the past (overdue) and ahead; three at one instant; one day emptied again.
    const times = calls.map((_, i) => (i < 3 ? now + DAY : now + ((i % 9) - 4) * DAY + i * 60_000));
    for (const [i, callId] of calls.entries())
      expect(await recordFollowUpPlan(store.col, orgId, callId, plan(100, times[i]))).toBe('saved');
    const emptied = calls.filter((_, i) => i >= 3 && (i % 9) - 4 === -4);
    for (const callId of emptied) await recordFollowUpPlan(store.col, orgId, callId, plan(101));
    // An older plan arriving late changes nothing.
    expect(await recordFollowUpPlan(store.col, orgId, emptied[0], plan(99, now))).toBe('stale');

    for (const limit of [1, 5, 12, 50]) {
      const got = await scheduledFollowUpCalls(store.col, orgId, limit, now);
      expect(got.map((d) => d._id)).toEqual(await scheduledOracle(limit));
    }
    const emptyDay = new Date(now - 4 * DAY).toISOString().slice(0, 10);
    expect(await store.col.followUpDays.findOne({ _id: `${orgId}:${emptyDay}` })).toBeNull();
    // Scheduled into that day again: back in the list.
    await recordFollowUpPlan(store.col, orgId, emptied[0], plan(102, now - 4 * DAY + 5_000));
    expect((await scheduledFollowUpCalls(store.col, orgId, 1, now)).map((d) => d.callId)).toEqual([emptied[0]]);
  });

  test('the backfill gives calls scheduled before the queue existed their key, once they are idle', async () => {
    const [legacy] = callRecords({ orgId, from: FROM, to: FROM + 1, count: 1, seed: 300, idPrefix: 'legacy' });
    const at = new Date(Date.now() - 10 * DAY);
    await insertCallRecords(store.col, [
      { ...legacy, followUp: { rev: 1, status: 'scheduled' }, nextFollowUpAt: at, updatedAt: new Date() },
    ]);
    await store.col.rollupState.deleteOne({ _id: 'followUpQueue:v1' });
    expect(await backfillFollowUpQueue(store.col)).toMatchObject({ done: false, keyed: 0, left: 1 });
    expect((await scheduledFollowUpCalls(store.col, orgId, 1)).map((d) => d._id)).not.toEqual([legacy._id]);
    expect(await backfillFollowUpQueue(store.col, Date.now() + 11 * 60_000)).toMatchObject({ done: true, keyed: 1, left: 0 });
    expect((await scheduledFollowUpCalls(store.col, orgId, 1)).map((d) => d._id)).toEqual([legacy._id]);
    expect(await backfillFollowUpQueue(store.col)).toEqual({ done: true, keyed: 0, left: 0 });
  });
});

// Analytics benchmark: N calls over D days stored through the store layer (insertCallRecords, as an
// import would), the hourly rollups computed from them (timed: what a user's backfill costs), then
// the analytics routes over HTTP against a real receiver process (src/bin/server.ts) on the local
// stack, with a plain /healthz and a findOne by _id as baselines in the same run.
//
//   make bench-analytics
//   node --import tsx bench/analytics.ts --calls 20000 --days 90 --requests 100
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../scripts/stack';
import { rollupKeyOf } from '../src/domain/analytics';
import { backfillHourCounts, backfillStep, insertCallRecords, markHours, rollupTick } from '../src/store/rollupLoop';
import { addApiKey } from '../src/store/organizations';
import { followUpQueueKey, markFollowUpDay } from '../src/store/followUpQueue';
import { callRecords } from '../test/support/callRecords';
import { type BenchStack, killEarlierLeftovers, startBenchStack, stopEverything } from './campaign/stack';
import { r1, sleep } from './campaign/stats';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '100000' },
    days: { type: 'string', default: '90' },
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '1' },
    'time-zone': { type: 'string', default: 'America/New_York' },
    // lists: only the dashboard's call lists (after the rollup they read), not the analytics routes
    only: { type: 'string', default: 'all' },
  },
});
const O = {
  calls: Number(args.calls),
  days: Number(args.days),
  requests: Number(args.requests),
  concurrency: Number(args.concurrency),
  timeZone: args['time-zone'],
  only: args.only,
};
if (O.only !== 'all' && O.only !== 'lists') throw new Error(`--only: expected all or lists, got "${O.only}"`);
const DAY_MS = 86_400_000;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const BENCH_ROOT = path.join(ROOT, '.test-data');
const RUN_DIR = path.join(BENCH_ROOT, `bench-${stamp}`);
const say = (m: string) => process.stdout.write(`[analytics] ${m}\n`);

interface Latency {
  name: string;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  errors: number;
}

function latency(name: string, ms: number[], errors: number): Latency {
  const v = [...ms].sort((a, b) => a - b);
  const pct = (p: number) => r1(v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] ?? NaN);
  return {
    name,
    requests: v.length,
    p50: pct(0.5),
    p95: pct(0.95),
    p99: pct(0.99),
    max: r1(v[v.length - 1] ?? NaN),
    mean: r1(v.reduce((a, b) => a + b, 0) / (v.length || 1)),
    errors,
  };
}

/**
 * `requests` calls of `one`, on `concurrency` lanes, each lane paced to 80 a second: the read
 * rate limit is 100/s per key and each lane has its own key.
 */
async function measure(name: string, one: (lane: number) => Promise<void>, requests = O.requests): Promise<Latency> {
  const ms: number[] = [];
  let errors = 0;
  let next = 0;
  // Warm-up: the first requests pay for connections and JIT.
  for (let i = 0; i < 5; i++) await one(0).catch(() => undefined);
  await Promise.all(
    Array.from({ length: O.concurrency }, async (_, lane) => {
      while (next++ < requests) {
        const t = performance.now();
        try {
          await one(lane);
          ms.push(performance.now() - t);
        } catch (err) {
          errors++;
          if (errors === 1) say(`${name}: ${String(err)}`);
        }
        const spent = performance.now() - t;
        if (spent < 12.5) await sleep(12.5 - spent);
      }
    }),
  );
  const l = latency(name, ms, errors);
  say(`${name.padEnd(44)} p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms`);
  return l;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ramGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function run(s: BenchStack) {
  const { orgId, apiKey } = await s.newOrg('analytics bench');
  await s.store.col.organizations.updateOne({ _id: orgId }, { $set: { 'compliance.defaultTimeZone': O.timeZone } });
  const keys = [apiKey];
  for (let i = 1; i < O.concurrency; i++) keys.push((await addApiKey(s.store.col, orgId, { scope: 'read', label: `bench ${i}` })).key);
  const col = s.store.col;
  const now = Date.now();
  const from = now - O.days * DAY_MS;

  say(`seeding ${O.calls} calls over ${O.days} days (insertCallRecords, batches of 2,000) ...`);
  let t = performance.now();
  const batch = 2_000;
  const hourKeys = new Set<string>();
  for (let i = 0; i < O.calls; i += batch) {
    const n = Math.min(batch, O.calls - i);
    const records = callRecords({ orgId, from, to: now, count: n, seed: 1 + i, idPrefix: `b${i}` });
    await insertCallRecords(col, records, { mark: false });
    for (const r of records) hourKeys.add(rollupKeyOf(orgId, r.createdAt));
  }
  // As an import does: each hour marked once, after all its records are in.
  await markHours(col, hourKeys);
  const seedSec = (performance.now() - t) / 1000;
  say(`seeded in ${r1(seedSec)} s`);

  // Follow-ups waiting for their time, as recordFollowUpPlan writes them: the dashboard's scheduled list.
  const waiting = await col.calls
    .find({ orgId, 'followUp.status': 'scheduled' }, { projection: { _id: 1, updatedAt: 1 } })
    .limit(2_000)
    .toArray();
  for (const d of waiting) {
    const at = new Date(d.updatedAt.getTime() + 2 * 3_600_000);
    await col.calls.updateOne({ _id: d._id }, { $set: { nextFollowUpAt: at, followUpQueue: followUpQueueKey(orgId, at) } });
    await markFollowUpDay(col, orgId, at);
  }
  say(`${waiting.length} calls with a follow-up scheduled`);

  // What a user's worker does on upgrade (backfill) and then on every pass: take the marks, recompute.
  t = performance.now();
  const backfill = await backfillStep(col);
  await backfillHourCounts(col);
  let hours = 0;
  for (;;) {
    const r = await rollupTick(col);
    hours += r.hours;
    if (r.marks === 0) break;
  }
  const rollupSec = (performance.now() - t) / 1000;
  say(`backfill + rollup of ${hours} hours in ${r1(rollupSec)} s (${r1((rollupSec * 1000) / Math.max(1, hours))} ms an hour)`);
  // The list of calls reads the hours and their counts from the rollups, as the worker keeps them.
  if (O.only === 'lists')
    return {
      seed: { calls: O.calls, days: O.days, seconds: r1(seedSec) },
      rollup: { ...backfill, hours, seconds: r1(rollupSec) },
      latencies: await lists(s, keys),
    };

  const base = s.baseUrls[0];
  const get = async (lane: number, p: string) => {
    const res = await fetch(`${base}${p}`, { headers: { 'x-api-key': keys[lane % keys.length] } });
    if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const sample = await col.calls.findOne({ orgId }, { projection: { _id: 1, callId: 1 } });
  // What a date picker sends: a date (UTC midnight), and no `to` (now).
  const f90 = new Date(now - 89 * DAY_MS).toISOString().slice(0, 10);
  const f90exact = new Date(now - 90 * DAY_MS).toISOString();
  const results: Latency[] = [];
  results.push(await measure('GET /healthz (baseline)', () => get(0, '/healthz')));
  results.push(
    await measure('findOne call by _id (driver, baseline)', async () => {
      await col.calls.findOne({ _id: sample!._id });
    }),
  );
  results.push(await measure('GET /api/calls/:callId (baseline)', (l) => get(l, `/api/calls/${encodeURIComponent(sample!.callId)}`)));
  results.push(await measure('summary (default: last 30 days)', (l) => get(l, '/api/analytics/summary')));
  results.push(await measure('summary, 90 days', (l) => get(l, `/api/analytics/summary?from=${f90}`)));
  results.push(
    await measure('summary, 90 days to the millisecond (cut hours)', (l) =>
      get(l, `/api/analytics/summary?from=${f90exact}&to=${new Date().toISOString()}`),
    ),
  );
  results.push(await measure('summary, 90 days, provider=vapi', (l) => get(l, `/api/analytics/summary?from=${f90}&provider=vapi`)));
  for (const g of ['outcome', 'provider', 'agent']) {
    results.push(
      await measure(`timeseries, 90 days daily, groupBy=${g}`, (l) =>
        get(l, `/api/analytics/timeseries?from=${f90}&interval=day&groupBy=${g}`),
      ),
    );
  }
  results.push(
    await measure('timeseries, 90 days weekly, groupBy=outcome', (l) => get(l, `/api/analytics/timeseries?from=${f90}&interval=week`)),
  );
  results.push(
    await measure('timeseries, 30 days hourly, groupBy=outcome', (l) =>
      get(l, `/api/analytics/timeseries?from=${new Date(now - 29 * DAY_MS).toISOString().slice(0, 10)}&interval=hour`),
    ),
  );
  results.push(await measure('agents, 90 days', (l) => get(l, `/api/analytics/agents?from=${f90}`)));
  results.push(...(await lists(s, keys)));
  const summary = (await (await fetch(`${base}/api/analytics/summary?from=${f90exact}`, { headers: { 'x-api-key': keys[0] } })).json()) as {
    calls: { total: number };
  };
  return {
    seed: { calls: O.calls, days: O.days, seconds: r1(seedSec) },
    rollup: { ...backfill, hours, seconds: r1(rollupSec) },
    summaryTotal: summary.calls.total,
    latencies: results,
  };
}

/** The dashboard's call lists at this size: GET /api/calls (its first pages and a filter) and the queues (scheduled, stale). */
async function lists(s: BenchStack, keys: string[]): Promise<Latency[]> {
  const get = async (lane: number, p: string) => {
    const res = await fetch(`${s.baseUrls[0]}${p}`, { headers: { 'x-api-key': keys[lane % keys.length] } });
    if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const out: Latency[] = [];
  const n = Math.min(O.requests, 60);
  const short = async (name: string, p: string) => out.push(await measure(name, (l) => get(l, p), n));
  await short('GET /api/calls (newest 50)', '/api/calls');
  await short('GET /api/calls?offset=1000', '/api/calls?offset=1000');
  await short('GET /api/calls?status=completed', '/api/calls?status=completed');
  await short('GET /api/calls?provider=vapi', '/api/calls?provider=vapi');
  await short('GET /api/calls?contactId=contact_17', '/api/calls?contactId=contact_17');
  await short('GET /api/calls?status=ringing (few)', '/api/calls?status=ringing');
  await short('GET /api/dashboard/queues (scheduled, due, stale)', '/api/dashboard/queues');
  return out;
}

function table(r: { latencies: Latency[] }): string {
  const rows = r.latencies.map(
    (l) => `| ${l.name} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.max} | ${l.requests}${l.errors ? ` (${l.errors} errors)` : ''} |`,
  );
  return ['| request | p50 ms | p95 ms | p99 ms | max ms | n |', '|---|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

async function main() {
  const leftovers = await killEarlierLeftovers(BENCH_ROOT);
  if (leftovers.length) say(`stopped servers left by an earlier benchmark: ${leftovers.join(', ')}`);
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const m = machine();
  say(`${m.cpu}, ${m.cores} cores, load ${m.loadAvgAtStart.join(' ')}; run folder ${path.relative(ROOT, RUN_DIR)}`);
  const s = await startBenchStack(RUN_DIR, 'analytics', { workers: 0, receivers: 1 }, say);
  try {
    const r = await run(s);
    const report = {
      startedAt: stamp,
      machine: { ...m, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      database: s.db.kind,
      options: O,
      ...r,
    };
    const file = path.join(RUN_DIR, `analytics-${stamp}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 2));
    process.stdout.write(`\n${JSON.stringify(report)}\n\n${table(r)}\n\n`);
    if ('summaryTotal' in r && r.summaryTotal !== O.calls)
      throw new Error(`the 90-day summary counts ${r.summaryTotal} calls, ${O.calls} were stored`);
    say(`report: ${path.relative(ROOT, file)}`);
  } finally {
    await s.store.close().catch(() => undefined);
    await stopEverything();
  }
}

// Ctrl-C or a kill: stop every server this run started before leaving.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n[analytics] ${sig}: stopping every server of this run ...\n`);
    void stopEverything().finally(() => process.exit(130));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`[analytics] ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stopEverything().finally(() => process.exit(1));
  },
);

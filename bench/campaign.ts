// Campaign benchmark: the end of a calling campaign on this machine, on the stack `make start` runs
// (Temporal dev server on a file, the local database, the app's own worker and receiver processes),
// started fresh on free ports under .test-data/bench-<time>/ and stopped at the end.
//
//   make bench-campaign                       (defaults: 3,000 calls × 3 events, 50 in flight)
//   make bench-campaign CAMPAIGN_CALLS=10000 CAMPAIGN_HISTORY=0,10000
//   node --import tsx bench/campaign.ts --calls 300 --concurrency 20 --history 0,1000
//
// 1. Baselines on the fresh stack: GET /healthz (HTTP floor), a bare signalWithStart from a client
//    (Temporal floor) and a bare insertOne (database floor), at the campaign's concurrency, each
//    with the CPU it cost per operation.
// 2. Ingest alone: the workers stopped, N calls × 3 events by event type; ack rate, latency and CPU
//    per acknowledged webhook; then the workers start and the backlog's drain is timed.
// 3. Campaign, once per order (bench/campaign/run.ts): lanes (each call's three events in a row)
//    and by event type (every initiated, then every answered, then every completed), the workers
//    running: ack rate and latency while draining, the drain from the first webhook until every call
//    is completed and every contact counted, the loss check, CPU per completed call, cache hits.
// 4. History, on a second fresh stack: per-call time from the first webhook to the contact's count
//    with the organization already holding 0, 10k, 100k calls (seeded straight into the database).
// CPU per process is sampled from /proc throughout. Everything listens on 127.0.0.1 only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ROOT } from '../scripts/stack';
import { loadConfig } from '../src/config';
import { parseDuration } from '../src/domain/duration';
import { connectTemporal, createSignaler } from '../src/temporal/client';
import { CpuSampler, type CpuSegment, STACK_TOTAL } from './campaign/cpu';
import { type RelayResult, relayBacklog, relayMarkdown } from './campaign/relay';
import { EVENTS, eventBody, historyContactId, readContactCount, seedHistory, seededCount, type SeedState } from './campaign/seed';
import { type BenchStack, DB_NAME, killEarlierLeftovers, running, startBenchStack, stopEverything, stopStack } from './campaign/stack';
import { type Dist, dist, r1, r2, sleep, timedLoop } from './campaign/stats';
import {
  type CampaignResult,
  type CampaignObserver,
  type CoreMsPer,
  ORDERS,
  type Order,
  contactCount,
  coreMsPer,
  is2xx,
  postWebhook,
  runCampaign,
} from './campaign/run';

// ---- options: flags win over CAMPAIGN_* environment variables, which win over the defaults ----

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string' },
    concurrency: { type: 'string' },
    'calls-per-contact': { type: 'string' },
    timeout: { type: 'string' },
    history: { type: 'string' },
    'history-calls': { type: 'string' },
    'history-concurrency': { type: 'string' },
    'baseline-ops': { type: 'string' },
    phases: { type: 'string' },
    orders: { type: 'string' },
    'cpu-interval': { type: 'string' },
    keep: { type: 'boolean' },
    workers: { type: 'string' },
    receivers: { type: 'string' },
  },
});

function opt(flag: keyof typeof flags, env: string, fallback: string): string {
  const v = flags[flag] ?? process.env[env];
  return typeof v === 'string' && v !== '' ? v : fallback;
}

function int(flag: keyof typeof flags, env: string, fallback: number, min: number, max: number): number {
  const raw = opt(flag, env, String(fallback));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${flag} / ${env}: expected a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function ms(flag: keyof typeof flags, env: string, fallback: string): number {
  const raw = opt(flag, env, fallback);
  const v = parseDuration(raw);
  if (v === undefined) fail(`--${flag} / ${env}: expected a duration like 30m or 2s, got "${raw}"`);
  return v;
}

function fail(msg: string): never {
  process.stderr.write(`[campaign] ERROR: ${msg}\n`);
  process.exit(2);
}

const O = {
  calls: int('calls', 'CAMPAIGN_CALLS', 3_000, 1, 1_000_000),
  concurrency: int('concurrency', 'CAMPAIGN_CONCURRENCY', 50, 1, 500),
  callsPerContact: int('calls-per-contact', 'CAMPAIGN_CALLS_PER_CONTACT', 5, 1, 1000),
  timeoutMs: ms('timeout', 'CAMPAIGN_TIMEOUT', '30m'),
  history: opt('history', 'CAMPAIGN_HISTORY', '0,10000,100000'),
  historyCalls: int('history-calls', 'CAMPAIGN_HISTORY_CALLS', 200, 1, 100_000),
  historyConcurrency: int('history-concurrency', 'CAMPAIGN_HISTORY_CONCURRENCY', 10, 1, 100),
  baselineOps: int('baseline-ops', 'CAMPAIGN_BASELINE_OPS', 2000, 0, 100_000),
  phases: new Set(
    opt('phases', 'CAMPAIGN_PHASES', 'baseline,ingest,campaign,history')
      .split(',')
      .map((s) => s.trim()),
  ),
  orders: opt('orders', 'CAMPAIGN_ORDERS', ORDERS.join(','))
    .split(',')
    .map((s) => s.trim()) as Order[],
  cpuIntervalMs: ms('cpu-interval', 'CAMPAIGN_CPU_INTERVAL', '2s'),
  keep: flags.keep ?? ['1', 'true', 'yes'].includes(process.env.CAMPAIGN_KEEP ?? ''),
  // As many app processes as `make start` would run (its WORKERS / RECEIVERS), unless told otherwise.
  workers: int('workers', 'CAMPAIGN_WORKERS', Number(process.env.WORKERS || 1), 1, 16),
  receivers: int('receivers', 'CAMPAIGN_RECEIVERS', Number(process.env.RECEIVERS || 1), 1, 16),
};
const APPS = { workers: O.workers, receivers: O.receivers };
const HISTORY_LEVELS =
  O.history === 'none'
    ? []
    : [
        ...new Set(
          O.history.split(',').map((s) => {
            const n = Number(s.trim().replace(/k$/i, '000'));
            if (!Number.isInteger(n) || n < 0 || n > 10_000_000) fail(`--history / CAMPAIGN_HISTORY: "${s}" is not a number of calls`);
            return n;
          }),
        ),
      ].sort((a, b) => a - b);
/** Extra figures other benchmarks hang on each campaign (bench/campaign/run.ts CampaignObserver). */
const OBSERVERS: CampaignObserver[] = [];
const PHASES = ['baseline', 'ingest', 'campaign', 'history'];
for (const p of O.phases) if (!PHASES.includes(p)) fail(`--phases / CAMPAIGN_PHASES: unknown phase "${p}" (${PHASES.join(', ')})`);
for (const o of O.orders)
  if (!(ORDERS as readonly string[]).includes(o)) fail(`--orders / CAMPAIGN_ORDERS: unknown order "${o}" (${ORDERS.join(', ')})`);

const say = (m: string) => process.stdout.write(`[campaign] ${m}\n`);
/** The CPU sampler's machine-wide label. */
const MACHINE = 'machine total (all cores)';

// ---- phase 1: baselines ----

type Floor = Dist & { perSec: number; errors: number; coreMsPerOp: CoreMsPer };

interface Baselines {
  concurrency: number;
  ops: number;
  healthz?: Floor;
  signalWithStart?: Floor;
  insertOne?: Floor;
}

/** A floor's loop inside its own CPU segment: the CPU per operation beside the rate. */
async function measureFloor(cpu: CpuSampler, name: string, n: number, c: number, one: (i: number) => Promise<void>): Promise<Floor> {
  cpu.start(`floor ${name}`);
  const r = await timedLoop(n, c, one);
  const seg = cpu.end();
  return { ...r, coreMsPerOp: seg ? coreMsPer([seg], n - r.errors) : {} };
}

async function baselines(s: BenchStack, cpu: CpuSampler): Promise<Baselines> {
  const n = O.baselineOps;
  const c = O.concurrency;
  say(`baselines: ${n} operations each at ${c} in flight ...`);
  const healthz = await measureFloor(cpu, 'healthz', n, c, async () => {
    const r = await fetch(`${s.baseUrls[0]}/healthz`);
    await r.arrayBuffer();
  });
  // The receiver's own signalWithStart, from a client in this process, to a task queue no worker
  // polls: the Temporal floor under the same settings the receiver sends.
  const client = await connectTemporal({ address: s.temporal.address, namespace: 'default' });
  const signaler = createSignaler(client, 'bench-bare', loadConfig(s.env).workflow);
  const signalWithStart = await measureFloor(cpu, 'signalWithStart', n, c, async (i) => {
    await signaler.deliver('org_bench_bare', 'generic', {
      eventId: `bare:${i}`,
      provider: 'generic',
      providerEvent: 'call.completed',
      callId: `bare_${i}`,
      type: 'call.completed',
      receivedAt: new Date().toISOString(),
    });
  });
  await client.connection.close();
  // One durable insert of an event-sized document: the floor of an acknowledgement that waits on the database.
  const floor = s.store.client.db('bench_floor').collection('events');
  const insertOne = await measureFloor(cpu, 'insertOne', n, c, async (i) => {
    await floor.insertOne({
      _id: `e${i}` as never,
      body: eventBody(`floor_${i}`, 'c', i, 'call.completed', new Date()),
      receivedAt: new Date(),
    });
  });
  await s.store.client.db('bench_floor').dropDatabase();
  for (const [name, r] of Object.entries({ healthz, signalWithStart, insertOne })) {
    say(
      `  ${name.padEnd(16)} ${String(r.perSec).padStart(7)}/s  p50 ${r.p50} ms  p99 ${r.p99} ms  ${r.coreMsPerOp[MACHINE] ?? '—'} core-ms/op machine-wide${r.errors ? `  errors ${r.errors}` : ''}`,
    );
  }
  return { concurrency: c, ops: n, healthz, signalWithStart, insertOne };
}

// ---- phase 3: per-call time against history ----

interface HistoryLevel {
  historyCalls: number;
  seedSeconds: number;
  seededCallsPerSec: number | null;
  measuredCalls: number;
  concurrency: number;
  contactsHadHistory: boolean;
  /** From the first webhook of a call to its contact's count, ms. */
  endToEndMs: Dist;
  /** From the first webhook to the call record reading `completed`, ms. */
  completedMs: Dist;
  /** The three acknowledgements, one after the other, ms. */
  acksMs: Dist;
  ratioP50VsFirst: number;
  ratioMeanVsFirst: number;
  failures: number;
  miscountedContacts: number;
  cpu: CpuSegment | null;
}

/** Waits for calls to read completed (one query for all of them) and their contacts to show the count. */
class CallWatcher {
  private waiting = new Map<
    string,
    {
      contactId: string;
      expected: number;
      completedAt?: number;
      done: (r: { completedAt: number; countedAt: number } | null) => void;
      deadline: number;
    }
  >();
  private timer: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly s: BenchStack,
    private readonly orgId: string,
  ) {
    this.timer = setInterval(() => void this.tick(), 100);
  }

  watch(
    callId: string,
    contactId: string,
    expected: number,
    timeoutMs: number,
  ): Promise<{ completedAt: number; countedAt: number } | null> {
    return new Promise((done) => this.waiting.set(callId, { contactId, expected, done, deadline: performance.now() + timeoutMs }));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.waiting.size === 0) return;
    this.busy = true;
    try {
      const now = performance.now();
      // One read by _id per call: the primary key, which every backend uses. A `$in` would cost
      // a scan on FerretDB and make the measurement itself grow with the history.
      await Promise.all(
        [...this.waiting]
          .filter(([, w]) => w.completedAt === undefined)
          .map(async ([id, w]) => {
            const d = await this.s.store.col.calls.findOne({ _id: `${this.orgId}:${id}` }, { projection: { status: 1, eventCount: 1 } });
            if (d && d.status === 'completed' && d.eventCount >= EVENTS.length) w.completedAt = now;
          }),
      );
      await Promise.all(
        [...this.waiting]
          .filter(([, w]) => w.completedAt !== undefined)
          .map(async ([id, w]) => {
            if ((await readContactCount(this.s.store.col, this.orgId, w.contactId)) >= w.expected) {
              this.waiting.delete(id);
              w.done({ completedAt: w.completedAt!, countedAt: performance.now() });
            }
          }),
      );
      for (const [id, w] of this.waiting) {
        if (performance.now() > w.deadline) {
          this.waiting.delete(id);
          w.done(null);
        }
      }
    } catch {
      // the database did not answer this time: the next tick asks again
    } finally {
      this.busy = false;
    }
  }
}

async function history(s: BenchStack, cpu: CpuSampler): Promise<HistoryLevel[]> {
  const { orgId, apiKey } = await s.newOrg('History benchmark');
  const K = O.callsPerContact;
  const M = O.historyCalls;
  const C = O.historyConcurrency;
  /** Contacts per level: each lane owns its own, so a contact's expected count is known exactly. */
  const perLevel = Math.min(M, C * 4);
  const seed: SeedState = { seeded: 0, figures: new Map() };
  const plan = { orgId, callsPerContact: K };
  const levels: HistoryLevel[] = [];
  const watcher = new CallWatcher(s, orgId);
  try {
    let prevFull = 0;
    for (const level of HISTORY_LEVELS) {
      const t = performance.now();
      if (level > seed.seeded) {
        say(`history: seeding ${level - seed.seeded} calls (up to ${level}) in batches of 1000 ...`);
        await seedHistory(s.store.col, plan, seed, level);
      }
      const seedSeconds = (performance.now() - t) / 1000;
      // Contacts fully seeded in this level and never measured before: they carry history, and no
      // earlier measurement or later seeding touches them.
      const full = Math.floor(level / K);
      const withHistory = level > 0 && full - prevFull >= perLevel;
      const contactOf = (i: number) => (withHistory ? historyContactId(full - 1 - (i % perLevel)) : `lvl${level}_c${i % perLevel}`);
      prevFull = full;
      const expected = new Map<string, number>();
      say(
        `history ${level}: ${M} calls × 3 events at ${C} in flight on ${perLevel} contacts${withHistory ? ` with ${K} past calls each` : ''} ...`,
      );
      const e2e: number[] = [];
      const completed: number[] = [];
      const acks: number[] = [];
      let failures = 0;
      await sleep(2000);
      // The whole level is bounded by the timeout, not each call: a stuck app fails it once.
      const levelDeadline = performance.now() + O.timeoutMs;
      cpu.start(`history ${level}`);
      // Lane l runs calls l, l+C, l+2C, ... one after the other; their contacts are its own.
      await Promise.all(
        Array.from({ length: Math.min(C, M) }, async (_, lane) => {
          for (let i = lane; i < M; i += C) {
            if (performance.now() > levelDeadline) {
              failures++;
              continue;
            }
            const contactId = contactOf(i);
            const want = (expected.get(contactId) ?? seededCount(seed, contactId)) + 1;
            expected.set(contactId, want);
            const callId = `m${level}_${i}`;
            const start = performance.now();
            let ok = true;
            for (const ev of EVENTS)
              ok =
                is2xx(
                  (await postWebhook(s.baseUrls[lane % s.baseUrls.length], apiKey, eventBody(callId, contactId, i, ev, new Date()))).status,
                ) && ok;
            const acked = performance.now();
            const r = ok ? await watcher.watch(callId, contactId, want, levelDeadline - performance.now()) : null;
            if (!r) {
              failures++;
              continue;
            }
            acks.push(acked - start);
            completed.push(r.completedAt - start);
            e2e.push(r.countedAt - start);
          }
        }),
      );
      const seg = cpu.end();
      let miscounted = 0;
      for (const [id, want] of expected) if ((await contactCount(s.baseUrls[0], apiKey, id).catch(() => -1)) !== want) miscounted++;
      const d = dist(e2e);
      const first = levels[0]?.endToEndMs ?? d;
      const lv: HistoryLevel = {
        historyCalls: level,
        seedSeconds: r1(seedSeconds),
        seededCallsPerSec: level > 0 && seedSeconds > 0.5 ? r1((level - (levels.at(-1)?.historyCalls ?? 0)) / seedSeconds) : null,
        measuredCalls: M,
        concurrency: C,
        contactsHadHistory: withHistory,
        endToEndMs: d,
        completedMs: dist(completed),
        acksMs: dist(acks),
        ratioP50VsFirst: r2(d.p50 / first.p50),
        ratioMeanVsFirst: r2(d.mean / first.mean),
        failures,
        miscountedContacts: miscounted,
        cpu: seg,
      };
      levels.push(lv);
      say(
        `  per call: p50 ${d.p50} ms, mean ${d.mean} ms, p99 ${d.p99} ms (${lv.ratioP50VsFirst}× the first level); ${failures} failed, ${miscounted} contacts miscounted`,
      );
    }
  } finally {
    watcher.stop();
  }
  return levels;
}

// ---- report ----

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ramGb: r1(os.totalmem() / 1024 ** 3),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAvgAtStart: os.loadavg().map(r2),
  };
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function markdown(r: Report): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}; database: ${r.database}; ${r.startedAt.slice(0, 10)}; load average at start ${m.loadAvgAtStart.join(' ')}`,
  );
  const segs = [...r.campaigns.flatMap((c) => c.cpu), ...r.history.map((h) => h.cpu).filter((x): x is CpuSegment => x !== null)];
  // Segments of a few seconds say little about the machine; the long ones do.
  const busiest = Math.max(0, ...segs.filter((x) => x.seconds >= 10).map((x) => x.avgPercent['other processes on the machine'] ?? 0));
  if (busiest > 25) {
    out.push(
      '',
      `Warning: processes outside this benchmark used up to ${fmt(busiest)} % CPU on average during a phase (see the CPU table): these figures are not those of a quiet machine.`,
    );
  }
  const b = r.baselines;
  const floorMs = (f?: Floor, label = MACHINE) => f?.coreMsPerOp[label];
  if (r.campaigns.length) {
    const c0 = r.campaigns[0];
    const apps = `${r.options.workers} worker${r.options.workers > 1 ? 's' : ''} and ${r.options.receivers} receiver${r.options.receivers > 1 ? 's' : ''}`;
    out.push(
      '',
      `Campaigns: ${fmt(c0.calls)} calls × 3 events at ${c0.concurrency} in flight, ${fmt(c0.contacts)} contacts (${c0.callsPerContact} calls each), ${apps}, each on a fresh stack.`,
      '',
    );
    out.push(`| | ${r.campaigns.map((c) => c.label).join(' | ')} | target |`, `|---|${r.campaigns.map(() => '---:').join('|')}|---:|`);
    const row = (name: string, f: (c: CampaignResult) => string, target: string) =>
      out.push(`| ${name} | ${r.campaigns.map(f).join(' | ')} | ${target} |`);
    row('acknowledged webhooks/s', (c) => fmt(c.ack.perSec), '≥ 1,000 alone');
    row(
      'ack latency p50 / p99 / max, ms',
      (c) => `${fmt(c.ack.latencyMs.p50)} / ${fmt(c.ack.latencyMs.p99)} / ${fmt(c.ack.latencyMs.max)}`,
      'p99 ≤ 50 alone, ≤ 250 draining',
    );
    row(
      'non-2xx answers',
      (c) =>
        Object.entries(c.ack.non2xx)
          .map(([k, v]) => `${v} × ${k}`)
          .join(', ') || '0',
      '0',
    );
    row(
      'drain, calls/s end to end',
      (c) =>
        c.drain.finished
          ? `${fmt(c.drain.callsPerSec, 2)} (${fmt(c.drain.seconds)} s${c.ingestAlone ? " from the workers' start" : ''})`
          : `unfinished after ${fmt(c.drain.timeoutSeconds)} s: ${fmt(c.drain.completedCalls)} completed`,
      '≥ 25',
    );
    row(
      'inbox: most events waiting / empty after the last ack',
      (c) => `${fmt(c.inbox.maxDepth)} / ${c.inbox.emptyAfterLastAckSec === null ? 'not empty' : `${fmt(c.inbox.emptyAfterLastAckSec)} s`}`,
      '0 left 60 s after',
    );
    row('core-ms per acknowledged webhook, machine-wide', (c) => fmt(c.coreMsPerAck[MACHINE], 1), '—');
    row(
      'core-ms per completed call, machine-wide',
      (c) => fmt(c.coreMsPerCall[MACHINE], 1),
      `≤ 2 × 3 signalWithStart = ${fmt(6 * (floorMs(b?.signalWithStart) ?? NaN), 1)}`,
    );
    row("core-ms per acknowledged webhook, the benchmark's processes", (c) => fmt(c.coreMsPerAck[STACK_TOTAL], 1), '—');
    row(
      "core-ms per completed call, the benchmark's processes",
      (c) => fmt(c.coreMsPerCall[STACK_TOTAL], 1),
      `≤ 2 × 3 signalWithStart = ${fmt(6 * (floorMs(b?.signalWithStart, STACK_TOTAL) ?? NaN), 1)}`,
    );
    row(
      'worker sticky cache hits / misses (forced evictions)',
      (c) => (c.stickyCache ? `${fmt(c.stickyCache.hits)} / ${fmt(c.stickyCache.misses)} (${fmt(c.stickyCache.forcedEvictions)})` : '—'),
      '—',
    );
    row(
      'worker RSS before → after, MB',
      (c) => (c.stickyCache ? `${fmt(c.stickyCache.workerRssStartMb)} → ${fmt(c.stickyCache.workerRssMb)}` : '—'),
      '—',
    );
    row('lost events', (c) => String(c.loss.lostEvents), '0');
    row('double- / under-counted contacts', (c) => `${c.loss.doubleCountedContacts} / ${c.loss.underCountedContacts}`, '0 / 0');
    const labels = [...new Set(r.campaigns.flatMap((c) => Object.keys(c.coreMsPerCall)))].sort(
      (x, y) => (c0.coreMsPerCall[y] ?? 0) - (c0.coreMsPerCall[x] ?? 0),
    );
    out.push('', 'Core-ms per unit of work, by process (per acknowledged webhook during the burst / per completed call end to end):', '');
    out.push(`| process | ${r.campaigns.map((c) => c.label).join(' | ')} |`, `|---|${r.campaigns.map(() => '---:').join('|')}|`);
    for (const l of labels)
      out.push(`| ${l} | ${r.campaigns.map((c) => `${fmt(c.coreMsPerAck[l], 1)} / ${fmt(c.coreMsPerCall[l], 1)}`).join(' | ')} |`);
  }
  if (b) {
    out.push(
      '',
      `Floors on the same servers, ${fmt(b.ops)} operations at ${b.concurrency} in flight:`,
      '',
      "| | per second | p50 | p99 | core-ms per operation, machine-wide | ... the benchmark's processes |",
      '|---|---:|---:|---:|---:|---:|',
    );
    const row = (name: string, d?: Floor) => {
      if (d)
        out.push(
          `| ${name} | ${fmt(d.perSec)} | ${fmt(d.p50, 1)} ms | ${fmt(d.p99, 1)} ms | ${fmt(floorMs(d), 2)} | ${fmt(floorMs(d, STACK_TOTAL), 2)} |`,
        );
    };
    row('GET /healthz (HTTP floor)', b.healthz);
    row('bare signalWithStart (Temporal floor)', b.signalWithStart);
    row('bare insertOne (database floor)', b.insertOne);
  }
  if (r.relay) out.push('', '| relay | |', '|---|---|', relayMarkdown(r.relay));
  if (r.history.length) {
    out.push(
      '',
      `Per-call time with history: ${r.history[0].measuredCalls} calls × 3 events at ${r.history[0].concurrency} in flight, first webhook → contact counted:`,
      '',
    );
    out.push(
      '| calls already stored | seeding | per call p50 | mean | p99 | p50 vs first level | call completed p50 | failed / miscounted |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const h of r.history) {
      out.push(
        `| ${fmt(h.historyCalls)} | ${h.historyCalls ? `${fmt(h.seedSeconds, 1)} s` : '—'} | ${fmt(h.endToEndMs.p50)} ms | ${fmt(h.endToEndMs.mean)} ms | ${fmt(h.endToEndMs.p99)} ms | ${fmt(h.ratioP50VsFirst, 2)}× | ${fmt(h.completedMs.p50)} ms | ${h.failures} / ${h.miscountedContacts} |`,
      );
    }
  }
  if (segs.length) {
    const labels = [...new Set(segs.flatMap((s) => Object.keys(s.avgPercent)))].sort(
      (a, b) => (segs[0].avgPercent[b] ?? 0) - (segs[0].avgPercent[a] ?? 0),
    );
    out.push('', `Average CPU % per process (100 % = one core of ${m.cores}):`, '');
    out.push(
      `| process | ${segs.map((s) => `${s.name} (${fmt(s.seconds)} s)`).join(' | ')} |`,
      `|---|${segs.map(() => '---:').join('|')}|`,
    );
    for (const l of labels) out.push(`| ${l} | ${segs.map((s) => fmt(s.avgPercent[l], 0)).join(' | ')} |`);
  }
  return out.join('\n');
}

interface Report {
  startedAt: string;
  finishedAt?: string;
  machine: ReturnType<typeof machine>;
  options: Omit<typeof O, 'phases'> & { phases: string[]; historyLevels: number[] };
  database: string;
  baselines?: Baselines;
  /** The relay's backlog rate beside the Temporal floor of the same run (bench/campaign/relay.ts). */
  relay?: RelayResult;
  campaigns: CampaignResult[];
  history: HistoryLevel[];
  errors: string[];
}

// ---- main ----

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
const BENCH_ROOT = path.join(ROOT, '.test-data');
const RUN_DIR = path.join(BENCH_ROOT, `bench-${stamp}`);

async function cleanUp(): Promise<void> {
  await stopEverything();
  if (!O.keep) {
    // Logs and the report stay; the data (Temporal file, database files) goes.
    for (const sub of fs.existsSync(RUN_DIR) ? fs.readdirSync(RUN_DIR) : []) {
      if (!fs.statSync(path.join(RUN_DIR, sub)).isDirectory()) continue;
      fs.rmSync(path.join(RUN_DIR, sub, 'db'), { recursive: true, force: true });
      for (const f of fs.existsSync(path.join(RUN_DIR, sub)) ? fs.readdirSync(path.join(RUN_DIR, sub)) : []) {
        if (f.startsWith('temporal.db')) fs.rmSync(path.join(RUN_DIR, sub, f), { force: true });
      }
    }
  }
}

let interrupted = false;
/** Ctrl-C and friends: stop everything, then exit. A second Ctrl-C kills without waiting. */
function interrupt(reason: string, code: number): void {
  if (interrupted) {
    for (const h of running) {
      try {
        if (h.pid && h.pid > 0) process.kill(h.processGroup ? -h.pid : h.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(code);
  }
  interrupted = true;
  process.stderr.write(`\n[campaign] ${reason}: stopping every server and process of this run ...\n`);
  void cleanUp().finally(() => process.exit(code));
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => interrupt(sig, 130));
// While servers are being stopped, requests still in flight fail: that is expected, not news.
for (const ev of ['unhandledRejection', 'uncaughtException'] as const) {
  process.on(ev, (err: unknown) => {
    if (!interrupted) interrupt(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1);
  });
}

/** CPU per process: all workers under one label, all receivers under another. */
function sampler(s: BenchStack): CpuSampler {
  const cpu = new CpuSampler(O.cpuIntervalMs, RUN_DIR);
  setRoots(cpu, s);
  return cpu;
}

function setRoots(cpu: CpuSampler, s: BenchStack): void {
  cpu.setRoots([
    { label: 'temporal', pid: s.temporal.pid ?? -1 },
    { label: s.db.kind, pid: s.db.pid ?? -1 },
    // PostgreSQL runs beside FerretDB and the real Temporal server, not under them: roots of their own.
    ...[s.db, s.temporal].flatMap((h) =>
      (h.parts ?? []).map((p) => ({ label: `postgresql (${h === s.db ? s.db.kind : 'temporal'})`, pid: p.pid ?? -1 })),
    ),
    ...s.workers.map((p) => ({ label: s.workers.length > 1 ? `workers (${s.workers.length})` : 'worker', pid: p.pid })),
    ...s.receivers.map((p) => ({ label: s.receivers.length > 1 ? `receivers (${s.receivers.length})` : 'receiver', pid: p.pid })),
  ]);
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const leftovers = await killEarlierLeftovers(BENCH_ROOT);
  if (leftovers.length) say(`stopped servers left by an earlier benchmark: ${leftovers.join(', ')}`);
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const report: Report = {
    startedAt: new Date().toISOString(),
    machine: machine(),
    options: { ...O, phases: [...O.phases], historyLevels: HISTORY_LEVELS },
    database: 'not started',
    campaigns: [],
    history: [],
    errors: [],
  };
  say(
    `${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.ramGb} GB, Node ${process.version}; run folder ${path.relative(ROOT, RUN_DIR)}`,
  );
  const reportFile = path.join(RUN_DIR, `campaign-${stamp}.json`);
  try {
    // Each campaign on a fresh stack: the workflows and cache of one do not weigh on the next.
    const runs: { label: string; order: Order; ingestAlone: boolean }[] = [
      ...(O.phases.has('ingest') ? [{ label: 'ingest alone', order: 'by-type' as Order, ingestAlone: true }] : []),
      ...(O.phases.has('campaign') ? O.orders.map((order) => ({ label: order, order, ingestAlone: false })) : []),
    ];
    if (O.phases.has('baseline') && runs.length === 0) runs.push({ label: 'floors', order: 'lanes', ingestAlone: false });
    for (const [i, run] of runs.entries()) {
      const s = await startBenchStack(RUN_DIR, run.label.replace(/ /g, '-'), APPS, say);
      report.database = `${s.db.kind} (${DB_NAME})`;
      const cpu = sampler(s);
      if (i === 0 && O.phases.has('baseline') && O.baselineOps > 0) report.baselines = await baselines(s, cpu);
      const relayEvents = Number(process.env.CAMPAIGN_RELAY_EVENTS ?? 10_000);
      if (i === 0 && O.phases.has('baseline') && relayEvents > 0)
        report.relay = await relayBacklog(s, { events: relayEvents, floorOps: O.baselineOps }, say);
      if (run.label !== 'floors')
        report.campaigns.push(
          await runCampaign(s, cpu, {
            ...run,
            calls: O.calls,
            concurrency: O.concurrency,
            callsPerContact: O.callsPerContact,
            timeoutMs: O.timeoutMs,
            observers: OBSERVERS,
            onWorkersRestarted: () => setRoots(cpu, s),
            say,
          }),
        );
      await stopStack(s);
    }
    if (O.phases.has('history') && HISTORY_LEVELS.length) {
      const s = await startBenchStack(RUN_DIR, 'history', APPS, say);
      report.database = `${s.db.kind} (${DB_NAME})`;
      const cpu = sampler(s);
      report.history = await history(s, cpu);
      await stopStack(s);
    }
  } catch (err) {
    report.errors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
    throw err;
  } finally {
    report.finishedAt = new Date().toISOString();
    fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
    if (!interrupted) await cleanUp();
    process.stdout.write(`\n${markdown(report)}\n\n`);
    say(`report: ${path.relative(ROOT, reportFile)} (logs beside it)`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    if (interrupted) return; // the interrupt handler stops everything and exits
    process.stderr.write(`[campaign] ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

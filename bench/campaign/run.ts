// One campaign on a running bench stack: N calls × 3 events sent in a chosen order, the drain, the
// loss check, the CPU each unit of work cost and the worker's sticky cache. bench/campaign.ts runs
// it once per order and mode; other benchmarks import runCampaign to run their own variants, and an
// observer (CampaignSpec.observers) adds its own figures to the result without touching this file.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CpuSampler, CpuSegment } from './cpu';
import { EVENTS, eventBody, readContactCounts } from './seed';
import type { BenchStack } from './stack';
import { type Dist, dist, lanes, r1, r2, sleep } from './stats';

/** lanes: each call's three events in a row by one lane; by-type: every initiated, then every answered, then every completed. */
export const ORDERS = ['lanes', 'by-type'] as const;
export type Order = (typeof ORDERS)[number];

export interface CampaignObserver {
  name: string;
  /** Called when the first webhook is about to go out. */
  start(ctx: { stack: BenchStack; orgId: string }): void | Promise<void>;
  /** Called once the drain ended (or gave up); what it returns lands in result.observed[name]. */
  stop(): unknown;
}

export interface CampaignSpec {
  label: string;
  calls: number;
  concurrency: number;
  callsPerContact: number;
  order: Order;
  /** Stop the workers for the burst (ingest alone), start them after it and time the drain from there. */
  ingestAlone: boolean;
  timeoutMs: number;
  observers?: CampaignObserver[];
  /** Called after the workers restarted (new pids), so the CPU sampler follows them. */
  onWorkersRestarted?: () => void;
  say: (m: string) => void;
}

/** Core-milliseconds per unit of work, by process label (and machine-wide as 'machine total (all cores)'). */
export type CoreMsPer = Record<string, number>;

/** The worker SDK core's sticky cache counters over the campaign (summed over workers). */
export interface StickyCache {
  hits: number;
  misses: number;
  hitRatio: number | null;
  /** Cached workflows when the drain ended. */
  size: number;
  forcedEvictions: number;
  /** Resident memory of the workers when the drain ended, MB. */
  workerRssMb: number;
  /** ... and before the first event reached them, MB: the difference is mostly the cached workflows. */
  workerRssStartMb: number;
}

export interface CampaignResult {
  label: string;
  order: Order;
  ingestAlone: boolean;
  calls: number;
  eventsSent: number;
  concurrency: number;
  contacts: number;
  callsPerContact: number;
  ack: { acknowledged: number; perSec: number; seconds: number; latencyMs: Dist; non2xx: Record<string, number> };
  drain: {
    finished: boolean;
    /** From the first webhook (or, ingest alone, from the workers' start) to every call completed and counted. */
    seconds: number | null;
    callsPerSec: number | null;
    callsCompletedSeconds: number | null;
    completedCalls: number;
    exactContacts: number;
    timeoutSeconds: number;
    progress: [number, number][];
  };
  loss: {
    lostEvents: number;
    callsNotCompleted: number;
    extraEventsApplied: number;
    doubleCountedContacts: number;
    underCountedContacts: number;
    unreadableContacts: number;
    examples: string[];
  };
  /** The burst and the drain, as sampled. */
  cpu: CpuSegment[];
  /** CPU of the burst segment per acknowledged webhook. */
  coreMsPerAck: CoreMsPer;
  /** CPU from the first webhook to the end of the drain, per completed call (ingest alone: the drain segment only). */
  coreMsPerCall: CoreMsPer;
  stickyCache: StickyCache | null;
  /** The inbox (events acknowledged, not yet in Temporal) as sampled every second from the first webhook. */
  inbox: {
    maxDepth: number;
    /** Seconds from the last acknowledgement until the inbox was first seen empty; null if it never was before the drain ended. */
    emptyAfterLastAckSec: number | null;
    samples: [number, number][];
  };
  observed: Record<string, unknown>;
}

type Outcome = number | 'timeout' | 'error';
const REQUEST_TIMEOUT_MS = 30_000;
/** Requests in flight when the benchmark reads every contact over the API for the loss check. */
const CHECK_CONCURRENCY = 8;
const POLL_MS = 1500;
/** The pause after a poll that took `ms`: never under POLL_MS, and long enough that the benchmark's
 *  own polling (a scan on FerretDB, growing with the calls sent) takes at most 5 % of the time. */
const pollPause = (ms: number) => Math.max(POLL_MS, ms * 20);

export const is2xx = (s: Outcome) => typeof s === 'number' && s >= 200 && s < 300;

export async function postWebhook(
  baseUrl: string,
  apiKey: string,
  body: Record<string, unknown>,
): Promise<{ status: Outcome; ms: number }> {
  const t = performance.now();
  try {
    const r = await fetch(`${baseUrl}/api/calls/webhook`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await r.arrayBuffer();
    return { status: r.status, ms: performance.now() - t };
  } catch (err) {
    return { status: (err as Error).name === 'TimeoutError' ? 'timeout' : 'error', ms: performance.now() - t };
  }
}

/** The contact's callCount as the read API shows it (0 while it does not exist). */
export async function contactCount(baseUrl: string, apiKey: string, contactId: string): Promise<number> {
  for (;;) {
    const r = await fetch(`${baseUrl}/api/contacts/${encodeURIComponent(contactId)}`, {
      headers: { 'x-api-key': apiKey },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await r.json()) as { callCount?: number };
    // The read API's rate limit (100/s a key by default) paces the check; it is not a miscount.
    if (r.status === 429) {
      await sleep(1000 * Math.max(1, Number(r.headers.get('retry-after')) || 1));
      continue;
    }
    if (r.status === 404) return 0;
    if (r.status !== 200) throw new Error(`GET /api/contacts/${contactId} answered ${r.status}`);
    return body.callCount ?? 0;
  }
}

/** Core-ms per unit over segments: avg % × seconds × 10 = core-ms. */
export function coreMsPer(segments: CpuSegment[], units: number): CoreMsPer {
  const out: CoreMsPer = {};
  if (units <= 0) return out;
  for (const s of segments) for (const [k, pct] of Object.entries(s.avgPercent)) out[k] = (out[k] ?? 0) + pct * s.seconds * 10;
  for (const k of Object.keys(out)) out[k] = r1(out[k] / units);
  return out;
}

/** Sums the samples of one metric of a Prometheus text page, over all its label sets. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

interface CacheCounters {
  hits: number;
  misses: number;
  size: number;
  forced: number;
}

async function readCache(s: BenchStack): Promise<CacheCounters | null> {
  try {
    const pages = await Promise.all(s.workerMetricsUrls.map(async (u) => (await fetch(u, { signal: AbortSignal.timeout(5000) })).text()));
    const sum = (n: string) => pages.reduce((a, p) => a + metricSum(p, n), 0);
    return {
      hits: sum('temporal_sticky_cache_hit'),
      misses: sum('temporal_sticky_cache_miss'),
      size: sum('temporal_sticky_cache_size'),
      forced: sum('temporal_sticky_cache_total_forced_eviction'),
    };
  } catch {
    return null;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export async function runCampaign(s: BenchStack, cpu: CpuSampler, spec: CampaignSpec): Promise<CampaignResult> {
  const { say, calls: N, concurrency: C } = spec;
  const contacts = Math.max(1, Math.ceil(N / spec.callsPerContact));
  const { orgId, apiKey } = await s.newOrg(`Campaign benchmark (${spec.label})`);
  const tag = spec.label.replace(/[^a-z0-9]+/gi, '_');
  const callId = (i: number) => `${tag}_${i}`;
  const contactOf = (i: number) => i % contacts;
  const contactId = (k: number) => `${tag}_c${k}`;
  /** Bit k set: event k of the call was acknowledged. */
  const acked = new Uint8Array(N);
  const latencies: number[] = [];
  const non2xx: Record<string, number> = {};
  let acknowledged = 0;
  const segments: CpuSegment[] = [];
  say(
    `campaign ${spec.label}: ${N} calls × 3 events ${spec.order === 'lanes' ? 'in lanes' : 'by event type'} at ${C} in flight, ${contacts} contacts${spec.ingestAlone ? ', workers stopped during the burst' : ''} ...`,
  );
  if (spec.ingestAlone) await s.stopWorkers();
  const cacheBefore = spec.ingestAlone ? null : await readCache(s);
  for (const o of spec.observers ?? []) await o.start({ stack: s, orgId });
  const workersRss = () => r1(s.workers.reduce((a, w) => a + rssMb(w.pid), 0));
  let workerRssStartMb = workersRss();

  cpu.start(`${spec.label}: burst`);
  const t0 = performance.now();
  let drainT0 = t0;
  const progress: [number, number][] = [];
  const since = () => (performance.now() - t0) / 1000;
  const deadline = t0 + spec.timeoutMs;
  let loadDone = false;
  let completedCalls = 0;
  let callsCompletedAt: number | null = null;
  let expectedCompleted = N;

  // Completed calls, polled with one indexed count while the burst runs and after.
  const poll = async () => {
    let lastSaid = 0;
    for (;;) {
      // A failed count (the database busy or restarting) is tried again at the next poll.
      const q = performance.now();
      completedCalls = await s.store.col.calls.countDocuments({ orgId, status: 'completed' }).catch(() => completedCalls);
      const took = performance.now() - q;
      progress.push([r1(since()), completedCalls]);
      if (since() - lastSaid >= 15) {
        lastSaid = since();
        say(`  ${r1(since())} s: ${acknowledged} webhooks acknowledged, ${completedCalls} calls completed`);
      }
      if (loadDone && completedCalls >= expectedCompleted) {
        callsCompletedAt = (performance.now() - drainT0) / 1000;
        return;
      }
      if (performance.now() > deadline) return;
      await sleep(pollPause(took));
    }
  };
  // Whether the inbox is empty, every second, until it is after the last ack: a read of one document,
  // whose limit FerretDB hands to PostgreSQL. Its depth every 10 s: a count, which reads every document.
  const inboxSamples: [number, number][] = [];
  let lastAckAt: number | null = null;
  let inboxEmptyAt: number | null = null;
  let stopSampling = false;
  const sampleInbox = async () => {
    for (let n = 0; !stopSampling && inboxEmptyAt === null; n++) {
      const empty = await s.store.col.inbox
        .find({}, { projection: { _id: 1 } })
        .limit(1)
        .toArray()
        .then((d) => d.length === 0)
        .catch(() => false);
      if (empty && lastAckAt !== null) inboxEmptyAt = since();
      if (empty || n % 10 === 0) {
        const depth = empty ? 0 : await s.store.col.inbox.countDocuments({}).catch(() => -1);
        if (depth >= 0) inboxSamples.push([r1(since()), depth]);
      }
      await sleep(1000);
    }
  };
  const inboxSampler = sampleInbox();
  // Ingest alone: nothing completes before the workers start, so the poll starts with the drain.
  let poller = spec.ingestAlone ? null : poll();

  const send = async (i: number, k: number, lane: number) => {
    const r = await postWebhook(
      s.baseUrls[lane % s.baseUrls.length],
      apiKey,
      eventBody(callId(i), contactId(contactOf(i)), contactOf(i), EVENTS[k], new Date()),
    );
    latencies.push(r.ms);
    if (is2xx(r.status)) {
      acked[i] |= 1 << k;
      acknowledged++;
    } else {
      non2xx[String(r.status)] = (non2xx[String(r.status)] ?? 0) + 1;
    }
  };
  let loadSeconds = 0;
  if (spec.order === 'lanes') {
    loadSeconds = await lanes(N, C, async (i, lane) => {
      for (let k = 0; k < EVENTS.length; k++) await send(i, k, lane);
    });
  } else {
    for (let k = 0; k < EVENTS.length; k++) loadSeconds += await lanes(N, C, (i, lane) => send(i, k, lane));
  }
  lastAckAt = since();
  const completedAcked = (i: number) => (acked[i] & 4) !== 0;
  expectedCompleted = acked.reduce((n, _, i) => n + (completedAcked(i) ? 1 : 0), 0);
  const ack = { acknowledged, perSec: r1(acknowledged / loadSeconds), seconds: r1(loadSeconds), latencyMs: dist(latencies), non2xx };
  say(
    `  burst sent in ${ack.seconds} s: ${acknowledged}/${N * 3} acknowledged, ${ack.perSec}/s, p50 ${ack.latencyMs.p50} ms, p99 ${ack.latencyMs.p99} ms, max ${ack.latencyMs.max} ms${Object.keys(non2xx).length ? `, non-2xx ${JSON.stringify(non2xx)}` : ''}`,
  );
  const burst = cpu.end();
  if (burst) segments.push(burst);
  // The receiver hands the events to Temporal after acknowledging them: with no worker that ends quickly.
  if (spec.ingestAlone) {
    say('  starting the workers: the drain is timed from here');
    await s.startWorkers();
    spec.onWorkersRestarted?.();
    workerRssStartMb = workersRss();
    drainT0 = performance.now();
  }
  loadDone = true;
  poller ??= poll();
  cpu.start(`${spec.label}: drain`);
  await poller;

  // Contacts: each must show one count per call whose completion was acknowledged.
  const expected = new Map<string, number>();
  for (let i = 0; i < N; i++)
    if (completedAcked(i)) expected.set(contactId(contactOf(i)), (expected.get(contactId(contactOf(i))) ?? 0) + 1);
  let pending = [...expected.keys()];
  let drainedAt: number | null = null;
  if (callsCompletedAt !== null) {
    say(`  all ${expectedCompleted} calls completed after ${r1(callsCompletedAt)} s; checking ${expected.size} contacts ...`);
    for (;;) {
      const q = performance.now();
      const counts = await readContactCounts(s.store.col, orgId).catch(() => new Map<string, number>());
      const took = performance.now() - q;
      pending = pending.filter((id) => (counts.get(id) ?? 0) < expected.get(id)!);
      if (pending.length === 0) {
        drainedAt = (performance.now() - drainT0) / 1000;
        break;
      }
      if (performance.now() > deadline) break;
      await sleep(pollPause(took));
    }
  }
  const drainSeg = cpu.end();
  if (drainSeg) segments.push(drainSeg);
  stopSampling = true;
  await inboxSampler;
  const inbox = {
    maxDepth: Math.max(0, ...inboxSamples.map(([, d]) => d)),
    emptyAfterLastAckSec: inboxEmptyAt === null || lastAckAt === null ? null : r1(Math.max(0, inboxEmptyAt - lastAckAt)),
    samples: inboxSamples,
  };
  say(
    `  inbox: at most ${inbox.maxDepth} events waiting; ${inbox.emptyAfterLastAckSec === null ? 'not seen empty before the drain ended' : `empty ${inbox.emptyAfterLastAckSec} s after the last ack`}`,
  );
  const cacheAfter = await readCache(s);
  const workerRssMb = workersRss();
  const observed: Record<string, unknown> = {};
  for (const o of spec.observers ?? []) observed[o.name] = await o.stop();
  if (drainedAt === null)
    say(
      `  gave up after ${r1(since())} s (timeout ${spec.timeoutMs / 1000} s): ${completedCalls}/${expectedCompleted} calls completed, ${expected.size - pending.length}/${expected.size} contacts counted`,
    );
  else say(`  drained after ${r1(drainedAt)} s: ${r1(expectedCompleted / drainedAt)} calls/s end to end`);

  // Loss check over every call record and, once more, every contact.
  const docs = await s.store.col.calls.find({ orgId }, { projection: { callId: 1, status: 1, eventCount: 1 } }).toArray();
  const byId = new Map(docs.map((d) => [d.callId, d]));
  let lostEvents = 0;
  let callsNotCompleted = 0;
  let extraEventsApplied = 0;
  const examples: string[] = [];
  for (let i = 0; i < N; i++) {
    const want = [0, 1, 2].filter((k) => acked[i] & (1 << k)).length;
    const d = byId.get(callId(i));
    const got = d?.eventCount ?? 0;
    if (got < want) {
      lostEvents += want - got;
      if (examples.length < 5) examples.push(`${callId(i)}: ${want} events acknowledged, ${got} applied`);
    }
    if (got > want) extraEventsApplied += got - want;
    if (completedAcked(i) && d?.status !== 'completed') callsNotCompleted++;
  }
  let doubleCounted = 0;
  let underCounted = 0;
  let unreadable = 0;
  const ids = [...expected.keys()];
  await lanes(ids.length, CHECK_CONCURRENCY, async (i) => {
    const n = await contactCount(s.baseUrls[0], apiKey, ids[i]).catch(() => -1);
    const want = expected.get(ids[i])!;
    if (n < 0) unreadable++;
    else if (n > want) doubleCounted++;
    else if (n < want) underCounted++;
    if (n !== want && examples.length < 10) examples.push(`contact ${ids[i]}: callCount ${n}, ${want} calls`);
  });
  const loss = {
    lostEvents,
    callsNotCompleted,
    extraEventsApplied,
    doubleCountedContacts: doubleCounted,
    underCountedContacts: underCounted,
    unreadableContacts: unreadable,
    examples,
  };
  say(
    `  loss check${drainedAt === null ? ' (drain unfinished: "lost" means not applied yet)' : ''}: ${lostEvents} lost events, ${callsNotCompleted} calls not completed, ${doubleCounted} double-counted and ${underCounted} under-counted contacts${unreadable ? `, ${unreadable} contacts the API did not answer for` : ''}`,
  );
  const b = cacheBefore ?? { hits: 0, misses: 0, size: 0, forced: 0 };
  const stickyCache: StickyCache | null = cacheAfter && {
    hits: cacheAfter.hits - b.hits,
    misses: cacheAfter.misses - b.misses,
    hitRatio:
      cacheAfter.hits - b.hits + cacheAfter.misses - b.misses > 0
        ? r2((cacheAfter.hits - b.hits) / (cacheAfter.hits - b.hits + cacheAfter.misses - b.misses))
        : null,
    size: cacheAfter.size,
    forcedEvictions: cacheAfter.forced - b.forced,
    workerRssMb,
    workerRssStartMb,
  };
  if (stickyCache)
    say(
      `  sticky cache: ${stickyCache.hits} hits, ${stickyCache.misses} misses, ${stickyCache.size} cached at the end, ${stickyCache.forcedEvictions} forced evictions; workers' RSS ${workerRssStartMb} → ${workerRssMb} MB`,
    );
  const done = expectedCompleted;
  return {
    label: spec.label,
    order: spec.order,
    ingestAlone: spec.ingestAlone,
    calls: N,
    eventsSent: N * 3,
    concurrency: C,
    contacts,
    callsPerContact: spec.callsPerContact,
    ack,
    drain: {
      finished: drainedAt !== null,
      seconds: drainedAt === null ? null : r1(drainedAt),
      // Calls whose completion was acknowledged: the ones the drain waited for.
      callsPerSec: drainedAt === null ? null : r2(done / drainedAt),
      callsCompletedSeconds: callsCompletedAt === null ? null : r1(callsCompletedAt),
      completedCalls,
      exactContacts: expected.size - pending.length,
      timeoutSeconds: spec.timeoutMs / 1000,
      progress,
    },
    loss,
    cpu: segments,
    coreMsPerAck: burst ? coreMsPer([burst], acknowledged) : {},
    coreMsPerCall: coreMsPer(spec.ingestAlone ? segments.slice(1) : segments, drainedAt === null ? completedCalls : done),
    stickyCache,
    inbox,
    observed,
  };
}

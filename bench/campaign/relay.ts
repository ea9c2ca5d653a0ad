// The relay's backlog rate beside the Temporal floor of the same run: a backlog of N events (three
// per call, as a campaign sends them) is put straight into an inbox of its own, and one dispatcher
// with the receiver's defaults (32 in flight, relay pass every second) hands it to Temporal, to a
// task queue no worker polls, as the floor's bare signalWithStart loop does. Events per second of
// the relay ÷ signals per second of the floor is the ratio the issue asks ≥ 0.8 of.
//
//   node --import tsx bench/campaign/relay.ts [--events 10000] [--floor-ops 2000]   (a stack of its own)
//   make bench-campaign                       (runs it on the campaign's stack after the baselines)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ROOT } from '../../scripts/stack';
import { loadConfig } from '../../src/config';
import type { CallEvent } from '../../src/domain/events';
import { silentLogger } from '../../src/observability/log';
import { collections, ensureIndexes } from '../../src/store/db';
import { inboxDoc } from '../../src/store/inbox';
import { redactHeaders, withRequest } from '../../src/store/eventLog';
import { eventBody } from './seed';
import { connectTemporal, createSignaler } from '../../src/temporal/client';
import { Dispatcher } from '../../src/temporal/dispatcher';
import { type BenchStack, startBenchStack, stopStack } from './stack';
import { r1, sleep, timedLoop } from './stats';

export interface RelayResult {
  events: number;
  calls: number;
  /** The floor of the same run: bare signalWithStart, one event each, at the dispatcher's concurrency. */
  floorSignalsPerSec: number;
  relayEventsPerSec: number;
  relaySignalsPerSec: number;
  /** relayEventsPerSec ÷ floorSignalsPerSec */
  ratio: number;
  drainSec: number;
  concurrency: number;
}

const TYPES = ['call.initiated', 'call.answered', 'call.completed'] as const;

/** The headers the benchmark's load generator sends (node's fetch), as the receiver sees them. */
const BENCH_HEADERS = (bytes: number) => ({
  host: '127.0.0.1:3000',
  connection: 'keep-alive',
  'content-type': 'application/json',
  'x-api-key': 'ck_live_0123456789abcdef.0123456789abcdef0123456789abcdef',
  accept: '*/*',
  'accept-language': '*',
  'sec-fetch-mode': 'cors',
  'user-agent': 'node',
  'accept-encoding': 'gzip, deflate',
  'content-length': String(bytes),
  'x-request-id': 'bench',
});

export async function relayBacklog(
  s: BenchStack,
  opts: { events: number; floorOps: number },
  say: (m: string) => void,
): Promise<RelayResult> {
  const settings = loadConfig(s.env);
  const concurrency = settings.inbox.dispatchConcurrency;
  const client = await connectTemporal({ address: s.temporal.address, namespace: 'default' });
  const run = Date.now().toString(36);
  const signaler = createSignaler(client, `bench-relay-${run}`, settings.workflow);
  say(`relay: floor, ${opts.floorOps} bare signalWithStart at ${concurrency} in flight ...`);
  const floor = await timedLoop(opts.floorOps, concurrency, async (i) => {
    await signaler.deliver('org_bench_floor', 'generic', {
      eventId: `floor:${run}:${i}`,
      provider: 'generic',
      providerEvent: 'call.completed',
      callId: `floor_${run}_${i}`,
      type: 'call.completed',
      receivedAt: new Date().toISOString(),
    });
  });
  say(`relay: floor ${floor.perSec} signals/s (p50 ${floor.p50} ms, p99 ${floor.p99} ms, errors ${floor.errors})`);
  // An inbox of its own, so the stack's receivers do not relay it too.
  const db = s.store.client.db(`bench_relay_${run}`);
  const col = collections(db);
  await ensureIndexes(col);
  const calls = Math.ceil(opts.events / TYPES.length);
  say(`relay: a backlog of ${opts.events} events (${calls} calls) ...`);
  const past = new Date(Date.now() - 60_000);
  const docs = Array.from({ length: opts.events }, (_, i) => {
    const callId = `relay_${run}_${Math.floor(i / TYPES.length)}`;
    const type = TYPES[i % TYPES.length];
    const e: CallEvent = {
      eventId: `generic:${callId}:${type}`,
      provider: 'generic',
      providerEvent: type,
      callId,
      type,
      receivedAt: past.toISOString(),
    };
    // As the receiver stores it: the request that brought the event, its headers redacted, its body byte for byte.
    const body = Buffer.from(JSON.stringify(eventBody(callId, `${callId}_contact`, i, type, past)));
    const [doc] = withRequest([{ ...inboxDoc('org_bench_relay', 'generic', e, past), nextAttemptAt: past }], {
      requestId: `req_${run}_${i}`,
      path: '/api/calls/webhook',
      contentType: 'application/json',
      headers: redactHeaders(BENCH_HEADERS(body.length)),
      signature: 'unsigned',
      bytes: body.length,
      body,
    }).docs;
    return doc;
  });
  for (let i = 0; i < docs.length; i += 1_000) await col.inbox.insertMany(docs.slice(i, i + 1_000));
  const dispatcher = new Dispatcher({
    inbox: col.inbox,
    eventLog: col.eventLog,
    claims: col.inboxClaims,
    signaler,
    logger: silentLogger,
    concurrency,
    relayIntervalMs: settings.inbox.relayIntervalMs,
  });
  const t0 = performance.now();
  dispatcher.start();
  let said = performance.now();
  // Empty or not, with the one read FerretDB limits in PostgreSQL (a count reads every document).
  while (
    (
      await col.inbox
        .find({}, { projection: { _id: 1 } })
        .limit(1)
        .toArray()
    ).length > 0
  ) {
    await sleep(250);
    if (performance.now() - said > 30_000) {
      said = performance.now();
      say(`relay: ${dispatcher.status().delivered} delivered after ${r1((said - t0) / 1000)} s`);
    }
  }
  const drainSec = (performance.now() - t0) / 1000;
  const delivered = dispatcher.status().delivered;
  await dispatcher.stop();
  await db.dropDatabase();
  await client.connection.close();
  const relayEventsPerSec = r1(opts.events / drainSec);
  const result: RelayResult = {
    events: opts.events,
    calls,
    floorSignalsPerSec: floor.perSec,
    relayEventsPerSec,
    // One signal per call's waiting events, so fewer signals than events.
    relaySignalsPerSec: r1(delivered / TYPES.length / drainSec),
    ratio: Math.round((relayEventsPerSec / floor.perSec) * 100) / 100,
    drainSec: r1(drainSec),
    concurrency,
  };
  say(
    `relay: ${result.events} events drained in ${result.drainSec} s = ${relayEventsPerSec} events/s; floor ${floor.perSec} signals/s; ratio ${result.ratio}`,
  );
  return result;
}

/** The report's line. */
export const relayMarkdown = (r: RelayResult) =>
  `| relay backlog (${r.events} events, ${r.calls} calls) | ${r.relayEventsPerSec} events/s in ${r.drainSec} s, floor ${r.floorSignalsPerSec} signals/s: ratio ${r.ratio} |`;

if (require.main === module) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, 'floor-ops': { type: 'string' } } });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const say = (m: string) => process.stdout.write(`[relay] ${m}\n`);
  const runDir = path.join(ROOT, '.test-data', `bench-relay-${Date.now().toString(36)}`);
  void (async () => {
    const s = await startBenchStack(runDir, 'relay', { workers: 0, receivers: 0 }, say);
    try {
      const r = await relayBacklog(s, { events: Number(values.events ?? 10_000), floorOps: Number(values['floor-ops'] ?? 2_000) }, say);
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    } finally {
      await stopStack(s);
    }
    process.exit(0);
  })().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

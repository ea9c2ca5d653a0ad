// Which Temporal should `make start` run? The same campaign (bench/campaign.ts, campaign phase only)
// on three set-ups, one after another in one run, each on a fresh stack:
//   dev         the CLI's dev server (SQLite file, one history shard): today's default
//   server/1    temporal-server v1.29.1 on PostgreSQL, 1 history shard
//   server/4    the same with 4 history shards
// Reported per set-up: acknowledged webhooks/s and ack p99 (the burst), drain calls/s (first webhook
// until every call and contact count is in the database), lost/miscounted events, and CPU-seconds per
// completed call of each process group. docs/temporal.md holds a run's table and the choice.
//
//   make bench-temporal                          (3,000 calls × 3 events each, 50 in flight)
//   make bench-temporal TEMPORAL_BENCH_CALLS=600 (a few minutes on a loaded machine)
//   node --import tsx bench/temporalSetups.ts --calls 600 --setups dev,server/1,server/4
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../scripts/stack';
import type { CpuSegment } from './campaign/cpu';
import { r1, r2 } from './campaign/stats';

const { values: flags } = parseArgs({
  options: { calls: { type: 'string' }, concurrency: { type: 'string' }, setups: { type: 'string' } },
});
const calls = flags.calls ?? process.env.TEMPORAL_BENCH_CALLS ?? '3000';
const concurrency = flags.concurrency ?? process.env.TEMPORAL_BENCH_CONCURRENCY ?? '50';
const SETUPS = (flags.setups ?? process.env.TEMPORAL_BENCH_SETUPS ?? 'dev,server/1,server/4').split(',').map((s) => s.trim());
for (const s of SETUPS) if (!/^(dev|server\/\d+)$/.test(s)) fail(`unknown set-up "${s}" (dev, server/<shards>)`);

const say = (m: string) => process.stdout.write(`[temporal-setups] ${m}\n`);
function fail(m: string): never {
  process.stderr.write(`[temporal-setups] ERROR: ${m}\n`);
  process.exit(1);
}

/** The part of bench/campaign.ts's JSON report this compares. */
interface CampaignReport {
  machine: { loadAvgAtStart: number[] };
  campaign?: {
    calls: number;
    ack: { acknowledged: number; perSec: number; latencyMs: { p50: number; p99: number } };
    drain: { finished: boolean; callsPerSec: number | null; completedCalls: number; seconds: number | null };
    loss: { lostEvents: number; callsNotCompleted: number; doubleCountedContacts: number; underCountedContacts: number };
    cpu: CpuSegment[];
  };
}

interface Row {
  setup: string;
  loadAtStart: number[];
  ackPerSec: number;
  ackP50: number;
  ackP99: number;
  drainCallsPerSec: number | null;
  completed: number;
  lost: number;
  /** CPU-seconds per completed call, per process group (burst + drain). */
  cpuPerCall: Record<string, number>;
  report: string;
}

/** Runs one campaign as a child process; resolves with the path of its JSON report. */
function runCampaign(setup: string): Promise<string> {
  const [kind, shards] = setup.split('/');
  const env = { ...process.env, TEMPORAL: kind, ...(shards ? { TEMPORAL_SHARDS: shards } : {}) };
  const args = ['--import', 'tsx', 'bench/campaign.ts', '--phases', 'campaign', '--calls', calls, '--concurrency', concurrency];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let report = '';
    child.stdout.on('data', (b: Buffer) => {
      const text = b.toString();
      process.stdout.write(text.replace(/^(?=.)/gm, `  ${setup} | `));
      report = /report: (\S+\.json)/.exec(text)?.[1] ?? report;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 && report ? resolve(path.resolve(ROOT, report)) : reject(new Error(`${setup}: campaign exited with ${code}`)),
    );
  });
}

function row(setup: string, file: string): Row {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as CampaignReport;
  const c = r.campaign;
  if (!c) throw new Error(`${setup}: ${file} has no campaign result`);
  const cpuSeconds: Record<string, number> = {};
  for (const seg of c.cpu)
    for (const [label, pct] of Object.entries(seg.avgPercent)) cpuSeconds[label] = (cpuSeconds[label] ?? 0) + (pct / 100) * seg.seconds;
  // Temporal with its store: the dev server's SQLite is in its own process, the real server's PostgreSQL is not.
  cpuSeconds['temporal incl. its store'] = (cpuSeconds.temporal ?? 0) + (cpuSeconds['postgresql (temporal)'] ?? 0);
  const completed = Math.max(1, c.drain.completedCalls);
  return {
    setup,
    loadAtStart: r.machine.loadAvgAtStart,
    ackPerSec: r1(c.ack.perSec),
    ackP50: c.ack.latencyMs.p50,
    ackP99: c.ack.latencyMs.p99,
    drainCallsPerSec: c.drain.callsPerSec === null ? null : r1(c.drain.callsPerSec),
    completed: c.drain.completedCalls,
    lost: c.loss.lostEvents + c.loss.callsNotCompleted + c.loss.doubleCountedContacts + c.loss.underCountedContacts,
    cpuPerCall: Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, Math.round((v / completed) * 10_000) / 10_000])),
    report: path.relative(ROOT, file),
  };
}

function table(rows: Row[]): string {
  // The machine's totals hold the other users' load too: not a cost of the set-up.
  const shared = ['other processes on the machine', 'machine total (all cores)'];
  const labels = [...new Set(rows.flatMap((r) => Object.keys(r.cpuPerCall)))].filter((l) => !shared.includes(l));
  const head = [
    'set-up',
    'acked webhooks/s',
    'ack p50 / p99 ms',
    'drain calls/s',
    'lost',
    ...labels.map((l) => `CPU-s/call ${l}`),
    'load at start',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [
      r.setup,
      String(r.ackPerSec),
      `${r.ackP50} / ${r.ackP99}`,
      r.drainCallsPerSec === null ? 'did not finish' : String(r.drainCallsPerSec),
      String(r.lost),
      ...labels.map((l) => (r.cpuPerCall[l] === undefined ? '—' : r.cpuPerCall[l].toFixed(4))),
      r.loadAtStart.join(' '),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  say(
    `${SETUPS.join(', ')}: ${calls} calls × 3 events at ${concurrency} in flight each; ${cpus[0]?.model ?? '?'} × ${cpus.length}, load ${os.loadavg().map(r2).join(' ')}`,
  );
  const rows: Row[] = [];
  for (const setup of SETUPS) {
    say(`--- ${setup} ---`);
    rows.push(row(setup, await runCampaign(setup)));
  }
  const out = path.join(ROOT, '.test-data', `temporal-setups-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ calls: Number(calls), concurrency: Number(concurrency), rows }, null, 2));
  process.stdout.write(`\n${table(rows)}\n\n`);
  say(`${r1((Date.now() - started) / 60_000)} min; load now ${os.loadavg().map(r2).join(' ')}; figures: ${path.relative(ROOT, out)}`);
  if (rows.some((r) => r.lost > 0 || r.drainCallsPerSec === null)) fail('a set-up lost events or did not drain (see its report)');
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));

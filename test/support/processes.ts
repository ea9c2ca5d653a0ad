// The app as production runs it, for the fault tests: receivers and workers as separate Node
// processes (src/bin/server.ts, src/bin/worker.ts with their default settings), a burst sender that
// behaves like a platform (retries what was not acknowledged), and the tally of what every
// acknowledged event did to the database.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, freePort, spawnLogged, type ManagedProcess } from '../../scripts/stack';
import { type Store, docId } from '../../src/store/db';
import { getContact } from '../../src/store/contacts';
import { requireEnv } from './harness';

export interface AppEnv {
  temporalAddress: string;
  mongoUri: string;
  mongoDb: string;
  taskQueue: string;
  logDir: string;
}

/** The globalSetup servers, with a database, task queue and log folder of `label`'s own. */
export const appEnv = (label: string): AppEnv => ({
  temporalAddress: requireEnv('TEMPORAL_ADDRESS'),
  mongoUri: requireEnv('MONGODB_URI'),
  mongoDb: `${process.env.TEST_DB_PREFIX ?? 't'}_${label}`.slice(0, 60),
  taskQueue: `tq_${label}`,
  logDir: path.join(process.env.TEST_DATA_DIR ?? '/tmp', label),
});

function childEnv(env: AppEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: env.taskQueue,
    MONGODB_URI: env.mongoUri,
    MONGODB_DB: env.mongoDb,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // No mail server: these calls' contacts have no email address, so nothing is sent.
    SMTP_PORT: '1',
    ...extra,
  };
}

export interface AppProcess {
  name: string;
  proc: ManagedProcess;
  /** Receivers only. */
  baseUrl?: string;
  port?: number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnApp(name: string, script: string, env: NodeJS.ProcessEnv, logDir: string): ManagedProcess {
  return spawnLogged({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', script],
    env,
    cwd: ROOT,
    logFile: path.join(logDir, `${name}.log`),
    processGroup: true,
  });
}

const killer = (proc: ManagedProcess) => async (signal: NodeJS.Signals) => {
  if (signal === 'SIGTERM') return proc.stop(15_000);
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
  await proc.exited;
};

/** A receiver (src/bin/server.ts) on a port of its own; resolves once /healthz answers. */
export async function startReceiver(name: string, env: AppEnv, port?: number): Promise<AppProcess> {
  const p = port ?? (await freePort());
  const proc = spawnApp(name, 'src/bin/server.ts', childEnv(env, { PORT: String(p) }), env.logDir);
  const baseUrl = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.hasExited()) throw new Error(`${name} exited before it listened; log: ${proc.logFile}\n${tail(proc.logFile)}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not listen within 60 s; log: ${proc.logFile}`);
    await sleep(200);
  }
  return { name, proc, baseUrl, port: p, kill: killer(proc) };
}

/** A worker (src/bin/worker.ts); resolves once it says it runs. */
export async function startWorker(name: string, env: AppEnv): Promise<AppProcess> {
  const proc = spawnApp(name, 'src/bin/worker.ts', childEnv(env, { LOG_LEVEL: 'info' }), env.logDir);
  const deadline = Date.now() + 90_000;
  const mark = fs.existsSync(proc.logFile) ? fs.statSync(proc.logFile).size : 0;
  for (;;) {
    if (proc.hasExited()) throw new Error(`${name} exited before it ran; log: ${proc.logFile}\n${tail(proc.logFile)}`);
    const text = fs.existsSync(proc.logFile) ? fs.readFileSync(proc.logFile, 'utf8').slice(mark) : '';
    if (text.includes('worker running')) break;
    if (Date.now() > deadline) throw new Error(`${name} did not start within 90 s; log: ${proc.logFile}`);
    await sleep(200);
  }
  return { name, proc, kill: killer(proc) };
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

// ---- the burst -------------------------------------------------------------------------------

export const EVENT_TYPES = ['call.initiated', 'call.answered', 'call.completed'] as const;

export interface SentEvent {
  callId: string;
  contactId: string;
  type: (typeof EVENT_TYPES)[number];
  attempts: number;
  acknowledged: boolean;
  /** The receiver that acknowledged it. */
  ackedBy?: string;
  statuses: number[];
  /** Retry-After values of the 503s it got. */
  retryAfter: string[];
  /** Milliseconds from send to the 503, for each 503. */
  refusedAfterMs: number[];
}

export interface BurstOptions {
  /** Receivers' base URLs; read on every attempt, so a restarted receiver is picked up. */
  receivers: () => string[];
  apiKey: string;
  calls: number;
  /** Calls per contact: each contact's expected callCount. */
  callsPerContact: number;
  /** Calls being sent at once (each call's three events go in order). */
  concurrency: number;
  /** Pause between two events of one call, so a burst lasts long enough for a fault to land in it. */
  gapMs?: number;
  /** A platform gives up on an event after this long; what it gave up on is counted, not retried. */
  giveUpAfterMs: number;
  label: string;
  onAcknowledged?: (count: number) => void;
}

/** Sends every call's events as a platform would, retrying each event until acknowledged or given up. */
export async function sendBurst(opts: BurstOptions): Promise<SentEvent[]> {
  const events: SentEvent[] = [];
  let acked = 0;
  let next = 0;
  let rr = 0;
  const sendOne = async (e: SentEvent, body: object) => {
    const started = Date.now();
    while (Date.now() - started < opts.giveUpAfterMs) {
      const urls = opts.receivers();
      const url = urls[rr++ % urls.length];
      e.attempts++;
      const sentAt = Date.now();
      try {
        const res = await fetch(`${url}/api/calls/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': opts.apiKey },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        await res.text();
        e.statuses.push(res.status);
        if (res.ok) {
          e.acknowledged = true;
          e.ackedBy = url;
          opts.onAcknowledged?.(++acked);
          return;
        }
        if (res.status === 503) {
          e.retryAfter.push(res.headers.get('retry-after') ?? '');
          e.refusedAfterMs.push(Date.now() - sentAt);
        }
        await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
      } catch {
        // Connection refused or reset (a receiver restarting): try again, like a platform.
        e.statuses.push(0);
        await sleep(500);
      }
    }
  };
  const worker = async () => {
    for (let i = next++; i < opts.calls; i = next++) {
      const callId = `${opts.label}_${i}`;
      const contactId = `${opts.label}_contact_${Math.floor(i / opts.callsPerContact)}`;
      for (const type of EVENT_TYPES) {
        const e: SentEvent = {
          callId,
          contactId,
          type,
          attempts: 0,
          acknowledged: false,
          statuses: [],
          retryAfter: [],
          refusedAfterMs: [],
        };
        events.push(e);
        const body = {
          callId,
          event: type,
          from: '+14155550100',
          to: `+1415555${String(1000 + (i % 9000)).padStart(4, '0')}`,
          metadata: { contactId },
          ...(type === 'call.completed' ? { status: 'completed', duration: 60 + (i % 60) } : {}),
        };
        await sendOne(e, body);
        if (opts.gapMs) await sleep(opts.gapMs);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return events;
}

// ---- the tally -------------------------------------------------------------------------------

export interface Tally {
  sent: number;
  acknowledged: number;
  applied: number;
  lost: number;
  duplicated: number;
  /** Calls whose contact figure is not what the calls sent make it. */
  miscounted: string[];
  lostEvents: string[];
}

/** Compares what was acknowledged with what the database holds: each acknowledged event in its
 *  call's timeline once, each contact's callCount equal to its completed calls. */
export async function tally(store: Store, orgId: string, sent: SentEvent[]): Promise<Tally> {
  const byCall = new Map<string, SentEvent[]>();
  for (const e of sent) byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), e]);
  let applied = 0;
  let duplicated = 0;
  const lostEvents: string[] = [];
  const docs = await store.col.calls.find({ _id: { $in: [...byCall.keys()].map((c) => docId(orgId, c)) } }).toArray();
  const byId = new Map(docs.map((d) => [d.callId, d]));
  for (const [callId, events] of byCall) {
    const doc = byId.get(callId);
    const types = (doc?.timeline ?? []).map((t) => t.type as string);
    const ids = (doc?.timeline ?? []).map((t) => t.eventId);
    duplicated += ids.length - new Set(ids).size;
    for (const e of events.filter((x) => x.acknowledged)) {
      if (types.includes(e.type)) applied++;
      else lostEvents.push(`${callId} ${e.type}`);
    }
  }
  const completedPerContact = new Map<string, number>();
  for (const e of sent)
    if (e.type === 'call.completed' && e.acknowledged)
      completedPerContact.set(e.contactId, (completedPerContact.get(e.contactId) ?? 0) + 1);
  const miscounted: string[] = [];
  for (const [contactId, expected] of completedPerContact) {
    const c = await getContact(store.col, orgId, contactId);
    const count = c?.callCount ?? 0;
    if (count > expected) duplicated += count - expected;
    if (count !== expected) miscounted.push(`${contactId}: ${count} (expected ${expected})`);
  }
  const acknowledged = sent.filter((e) => e.acknowledged).length;
  return { sent: sent.length, acknowledged, applied, lost: acknowledged - applied, duplicated, miscounted, lostEvents };
}

/** The line each fault test prints (and the README quotes). */
export function report(name: string, t: Tally, extra = ''): string {
  const line = `[fault] ${name}: sent ${t.sent}, acknowledged ${t.acknowledged}, applied ${t.applied}, lost ${t.lost}, duplicated ${t.duplicated}${extra ? `; ${extra}` : ''}`;
  process.stdout.write(`${line}\n`);
  return line;
}

// The stack a user gets from `make start`, started for the benchmark on free ports in its own
// folder: Temporal dev server on a file, the database from startDatabase, then the app's own worker
// and receiver as separate processes (node --import tsx), as scripts/start.ts runs them. TEMPORAL=server
// (TEMPORAL_SHARDS) runs the production server instead, on a PostgreSQL of its own so its CPU is told
// apart from the database's (bench/temporalSetups.ts compares the set-ups).
import fs from 'node:fs';
import path from 'node:path';
import {
  PidFile,
  ROOT,
  freePort,
  spawnLogged,
  startDatabase,
  startTemporal,
  startTemporalServer,
  temporalKind,
  temporalShards,
  waitUntil,
  type DatabaseHandle,
  type ManagedProcess,
  type ServerHandle,
  type TemporalHandle,
} from '../../scripts/stack';
import { Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { loadConfig } from '../../src/config';
import { connectStore, type Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';

export const DB_NAME = 'calls_api';

export interface BenchStack {
  dir: string;
  temporal: TemporalHandle;
  db: DatabaseHandle;
  workers: ManagedProcess[];
  receivers: ManagedProcess[];
  /** The SDK core's Prometheus endpoint of each worker (sticky cache hits and misses, task latencies). */
  workerMetricsUrls: string[];
  /** Stops every worker (ingest alone: the receiver keeps handing events to Temporal, nobody runs them). */
  stopWorkers(): Promise<void>;
  /** Starts the workers again and waits until they poll. */
  startWorkers(): Promise<void>;
  /** One URL per receiver; load is spread over them by lane. */
  baseUrls: string[];
  /** The environment the app processes got (addresses, ports). */
  env: NodeJS.ProcessEnv;
  /** The benchmark's own connection to the app's database. */
  store: Store;
  newOrg(name: string): Promise<{ orgId: string; apiKey: string }>;
  /** This stack's servers and processes, in start order. */
  handles: ServerHandle[];
}

/** Everything started, in start order, across all stacks of this run: stopAll(running) ends it all. */
export const running: ServerHandle[] = [];
let pidFile: PidFile | null = null;

/** Stops servers left by an earlier benchmark that was killed before it could (kill -9, closed terminal). */
export async function killEarlierLeftovers(benchRoot: string): Promise<string[]> {
  const killed: string[] = [];
  if (!fs.existsSync(benchRoot)) return killed;
  for (const d of fs.readdirSync(benchRoot)) {
    if (!d.startsWith('bench-')) continue;
    const f = path.join(benchRoot, d, 'pids.json');
    if (fs.existsSync(f)) killed.push(...(await PidFile.killLeftovers(f)));
  }
  return killed;
}

let stopping = false;
/** Servers still starting: a stop waits for them, so none is left running unseen. */
const pendingStarts: Promise<unknown>[] = [];
/** Processes stopped on purpose between phases: their exit is no news. */
const stoppedOnPurpose = new Set<number>();
/** The run's bookkeeping handle of each app process. */
const handleOf = new WeakMap<ManagedProcess, ServerHandle>();

function tracker(own: ServerHandle[]) {
  return <H extends ServerHandle>(h: H): H => {
    running.push(h);
    own.push(h);
    pidFile?.add(h);
    return h;
  };
}

export async function startBenchStack(
  runDir: string,
  label: string,
  apps: { workers: number; receivers: number },
  log: (m: string) => void,
): Promise<BenchStack> {
  const dir = path.join(runDir, label);
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  if (!pidFile) {
    pidFile = new PidFile(path.join(runDir, 'pids.json'));
    pidFile.claim();
  }
  const handles: ServerHandle[] = [];
  const track = tracker(handles);
  const [tPort, uiPort, dPort, smtpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const httpPorts: number[] = [];
  for (let i = 0; i < apps.receivers; i++) httpPorts.push(await freePort());
  const kind = temporalKind();
  log(
    `${label}: starting Temporal (${kind === 'server' ? `temporal-server, ${temporalShards()} shards` : 'dev server, file'}) and the database in ${path.relative(ROOT, dir)} ...`,
  );
  // The options scripts/start.ts passes, on this run's ports and folder. The database ignores
  // MONGODB_URI: the benchmark measures the local stack, never someone's real database.
  const temporalStart = (
    kind === 'server'
      ? startTemporalServer({
          port: tPort,
          dataDir: path.join(dir, 'temporal-server'),
          logFile: path.join(logs, 'temporal.log'),
          historyShards: temporalShards(),
          processGroup: true,
          readyTimeoutMs: 180_000,
        })
      : startTemporal({
          port: tPort,
          uiPort,
          dbFile: path.join(dir, 'temporal.db'),
          logFile: path.join(logs, 'temporal.log'),
          processGroup: true,
          readyTimeoutMs: 120_000,
        })
  ).then(track);
  const dbStart = startDatabase({
    port: dPort,
    dir: path.join(dir, 'db'),
    logFile: path.join(logs, 'database.log'),
    processGroup: true,
    readyTimeoutMs: 60_000,
    externalUri: null,
  }).then(track);
  pendingStarts.push(
    temporalStart.catch(() => undefined),
    dbStart.catch(() => undefined),
  );
  const [temporal, db] = await Promise.all([temporalStart, dbStart]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: temporal.uiUrl ?? undefined,
    MONGODB_URI: db.uri,
    MONGODB_DB: DB_NAME,
    // No mail sink: the benchmark's contacts have no email address, so no mail is attempted; a free
    // port keeps a stray one from reaching someone's Mailpit.
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtpPort),
  };
  delete env.TEMPORAL_TASK_QUEUE;
  const store = await connectStore(db.uri, DB_NAME);
  // CAMPAIGN_CPU_PROF=<folder>: each app process writes a V8 CPU profile there when it stops.
  const profDir = process.env.CAMPAIGN_CPU_PROF ? path.resolve(ROOT, process.env.CAMPAIGN_CPU_PROF) : null;
  const app = (name: string, script: string, extraEnv: NodeJS.ProcessEnv) => {
    const procEnv = { ...env, ...extraEnv };
    const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, label, name)}`] : [];
    const proc = spawnLogged({
      name,
      command: process.execPath,
      args: [...prof, '--import', 'tsx', script],
      logFile: path.join(logs, `${name}.log`),
      env: procEnv,
      processGroup: true,
    });
    const handle = track({
      name,
      pid: proc.pid,
      command: proc.command,
      processGroup: true,
      exited: proc.exited,
      logFile: proc.logFile,
      stop: (t) => proc.stop(t),
    });
    handleOf.set(proc, handle);
    return proc;
  };
  log(`${label}: starting ${apps.workers} worker(s) (src/bin/worker.ts) and ${apps.receivers} receiver(s) (src/bin/server.ts) ...`);
  // Named as scripts/start.ts names them.
  const name = (kind: string, i: number, n: number) => (n > 1 ? `${kind}-${i + 1}` : kind);
  const metricPorts: number[] = [];
  for (let i = 0; i < apps.workers; i++) metricPorts.push(await freePort());
  const spawnWorkers = () =>
    metricPorts.map((p, i) => app(name('worker', i, apps.workers), 'src/bin/worker.ts', { WORKER_CORE_METRICS_PORT: String(p) }));
  const workers = spawnWorkers();
  const receivers = httpPorts.map((port, i) => app(name('receiver', i, apps.receivers), 'src/bin/server.ts', { PORT: String(port) }));
  const baseUrls = httpPorts.map((port) => `http://127.0.0.1:${port}`);
  const taskQueue = loadConfig(env).temporal.taskQueue;
  const watchExit = (p: ManagedProcess) =>
    void p.exited.then(({ code, signal }) => {
      if (!stopping && !stoppedOnPurpose.has(p.pid))
        log(`WARNING: ${p.name} exited during the benchmark (code ${code}, signal ${signal}); log: ${p.logFile}`);
    });
  await Promise.all([
    waitForPollers(temporal.address, taskQueue, workers, 180_000),
    ...receivers.map((r, i) =>
      waitUntil(
        r,
        'GET /readyz to answer 200',
        async () => (await fetch(`${baseUrls[i]}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200,
        120_000,
        r.name,
        r.logFile,
      ),
    ),
  ]);
  for (const p of [...workers, ...receivers]) watchExit(p);
  const stack: BenchStack = {
    dir,
    temporal,
    db,
    workers,
    receivers,
    workerMetricsUrls: metricPorts.map((p) => `http://127.0.0.1:${p}/metrics`),
    async stopWorkers() {
      for (const w of stack.workers) stoppedOnPurpose.add(w.pid);
      await Promise.all(stack.workers.map((w) => w.stop(30_000)));
      for (const w of stack.workers) forget(handleOf.get(w));
      stack.workers = [];
    },
    async startWorkers() {
      stack.workers = spawnWorkers();
      stack.workers.forEach(watchExit);
      // A restarted worker is a new poller identity; the stopped ones linger in describeTaskQueue for a while.
      await waitForPollers(temporal.address, taskQueue, stack.workers, 180_000, true);
    },
    baseUrls,
    env,
    store,
    handles,
    async newOrg(name) {
      const orgId = await createOrganization(store.col, name);
      const { key } = await addApiKey(store.col, orgId, { label: 'benchmark' });
      return { orgId, apiKey: key };
    },
  };
  return stack;
}

/** Drops a stopped process from the run's bookkeeping. */
function forget(h: ServerHandle | undefined): void {
  const i = h ? running.indexOf(h) : -1;
  if (i >= 0) running.splice(i, 1);
}

/** Waits until Temporal sees every worker process polling the task queue (no log line to parse). */
async function waitForPollers(
  address: string,
  taskQueue: string,
  workers: ManagedProcess[],
  timeoutMs: number,
  byPid = false,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = workers.find((w) => w.hasExited());
      if (dead) throw new Error(`${dead.name} exited before it polled Temporal; log: ${dead.logFile}`);
      const res = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      // This Temporal is the run's own: every poller of the queue is one of these workers.
      const ids = new Set((res.pollers ?? []).map((p) => p.identity ?? ''));
      // The SDK's identity is <pid>@<host>: after a restart, count only the new processes.
      const seen = byPid ? workers.filter((w) => [...ids].some((id) => id.startsWith(`${w.pid}@`))).length : ids.size;
      if (seen >= workers.length) return;
      if (Date.now() > deadline)
        throw new Error(
          `the workers did not poll task queue ${taskQueue} within ${timeoutMs / 1000}s; logs: ${workers.map((w) => w.logFile).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}

/** Stops every server and app process of this run, newest first; safe to call more than once. */
export async function stopEverything(): Promise<void> {
  stopping = true;
  await Promise.allSettled(pendingStarts);
  for (const h of [...running].reverse()) {
    try {
      await h.stop(h.name === 'temporal' ? 15_000 : 10_000);
    } catch (err) {
      process.stderr.write(`[bench] stopping ${h.name}: ${String(err)}\n`);
    }
    // Removed only once stopped, so a second Ctrl-C can still kill what is left.
    running.splice(running.indexOf(h), 1);
  }
  pidFile?.remove();
}

/** Stops one stack (its store connection, apps and servers), newest first. */
export async function stopStack(s: BenchStack): Promise<void> {
  await s.store.close().catch(() => undefined);
  for (const p of [...s.workers, ...s.receivers]) stoppedOnPurpose.add(p.pid);
  for (const h of [...s.handles].reverse()) {
    await h.stop(h.name === 'temporal' ? 15_000 : 10_000);
    const i = running.indexOf(h);
    if (i >= 0) running.splice(i, 1);
  }
}

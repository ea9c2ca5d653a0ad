// `make start`: the whole app on this machine, in the foreground.
//   Temporal dev server (gRPC 7233, Web UI 8233, .data/temporal.db); TEMPORAL=server: the production
//     server on the PostgreSQL below (TEMPORAL_SHARDS history shards, .data/temporal-server/; docs/temporal.md)
//   database (scripts/stack's choice): MONGODB_URI if set, else mongod if on PATH, else FerretDB
//     (27017) over PostgreSQL (5433, .data/postgres/)
//   Mailpit (SMTP 1025, UI 8025) when built and SMTP_HOST is not set
//   then `src/bin/cli.ts dev-provision`, the worker(s) and the receiver(s) (PORT 3000, then 3001, ...),
//   output prefixed. WORKERS=n and RECEIVERS=n run more than one of each.
// A worker or receiver that dies is restarted with backoff (1 s doubling to 30 s), and the rest
// keeps running; a server that dies stops everything. Ctrl-C / SIGTERM stops everything in reverse
// order. Data stays in .data/, so a restart keeps calls and workflow histories.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  PidFile,
  ROOT,
  ServerStartError,
  isPortOpen,
  manage,
  sleep,
  startDatabase,
  startMailpit,
  startTemporal,
  startTemporalServer,
  temporalKind,
  temporalShards,
  toolPath,
  type DatabaseHandle,
  type MailpitHandle,
  type ManagedProcess,
  type ServerHandle,
  type TemporalHandle,
} from './stack';

/** START_DATA_DIR moves it (the stack's own test runs a second stack beside a developer's). */
const DATA = path.resolve(ROOT, process.env.START_DATA_DIR ?? '.data');
const LOGS = path.join(DATA, 'logs');
// src/config.ts's default; shown in the banner only (the app reads MONGODB_DB itself).
const DB_NAME = process.env.MONGODB_DB ?? 'calls_api';
/** Where dev-provision keeps the generated development key (src/config.ts DEV_API_KEY_FILE). */
const DEV_KEY_FILE = path.resolve(ROOT, process.env.DEV_API_KEY_FILE ?? path.join(DATA, 'dev-api-key'));

/** App restarts: the first after 1 s, doubling up to 30 s; a process that stayed up for a
 *  minute starts the sequence again. */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;
const RESTART_STABLE_MS = 60_000;

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fail(`${name}=${raw} is not a TCP port`);
  return n;
}

function count(name: string): number {
  const raw = process.env[name];
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) fail(`${name}=${raw} must be a whole number from 1 to 16`);
  return n;
}

const ports = {
  receiver: port('PORT', 3000),
  temporal: port('TEMPORAL_PORT', 7233),
  temporalUi: 0,
  mongo: port('MONGO_PORT', 27017),
  postgres: port('POSTGRES_PORT', 5433),
  smtp: port('MAILPIT_SMTP_PORT', 1025),
  mailUi: port('MAILPIT_UI_PORT', 8025),
  /** Worker i serves its /metrics on workerMetrics + i - 1 (0: none). */
  workerMetrics: process.env.WORKER_METRICS_PORT === '0' ? 0 : port('WORKER_METRICS_PORT', 9464),
};
ports.temporalUi = port('TEMPORAL_UI_PORT', ports.temporal + 1000);
const workers = count('WORKERS');
const receivers = count('RECEIVERS');

const PORT_HINT =
  'ports can be moved with PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT, MONGO_PORT, POSTGRES_PORT, MAILPIT_SMTP_PORT, MAILPIT_UI_PORT';

function say(msg: string): void {
  process.stdout.write(`[start] ${msg}\n`);
}

function fail(msg: string): never {
  process.stderr.write(`[start] ERROR: ${msg}\n`);
  process.exit(1);
}

/** Node with tsx loaded in-process (one process per app child, so signals reach the app itself). */
function tsNode(script: string, args: string[] = []): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', script, ...args]];
}

/** Pipes a child's output to ours, each line prefixed with its name. */
function prefixOutput(proc: ManagedProcess, label: string): void {
  const pipe = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
    if (!stream) return;
    readline.createInterface({ input: stream }).on('line', (line) => out.write(`[${label}] ${line}\n`));
  };
  pipe(proc.child.stdout, process.stdout);
  pipe(proc.child.stderr, process.stderr);
}

function spawnApp(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
  const [cmd, argv] = tsNode(script, args);
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const proc = manage(name, cmd, child, path.join(LOGS, `${name}.log`), true);
  prefixOutput(proc, name);
  return proc;
}

// ---- lifecycle: everything started, in start order; stopped in reverse ----
const running: ServerHandle[] = [];
/** Starts still waiting for readiness; shutdown waits for them so nothing is left behind. */
const pending: Promise<unknown>[] = [];
let pids: PidFile | null = null;
let shuttingDown: Promise<void> | null = null;

function shutdown(reason: string, code: number): Promise<void> {
  shuttingDown ??= (async () => {
    say(`${reason}; stopping ...`);
    await Promise.allSettled(pending);
    for (const h of [...running].reverse()) {
      try {
        await h.stop(h.name === 'temporal' ? 15_000 : 10_000);
        say(`  ${h.name} stopped`);
      } catch (err) {
        say(`  ${h.name}: ${String(err)}`);
      }
    }
    pids?.remove();
    process.exit(code);
  })();
  return shuttingDown;
}

/** Records a started server; a crash of any of them stops the rest. */
function track<H extends ServerHandle>(h: H): H {
  running.push(h);
  pids?.add(h);
  void h.exited?.then(({ code, signal }) => {
    if (!shuttingDown) void shutdown(`${h.name} exited unexpectedly (code ${code}, signal ${signal}; log: ${h.logFile ?? 'above'})`, 1);
  });
  return h;
}

function starting<T>(p: Promise<T>): Promise<T> {
  pending.push(p.catch(() => undefined));
  return p;
}

/** Runs an app process and restarts it whenever it exits, until stop(). The handle's pid is the
 *  current process's. */
function supervise(name: string, script: string, env: NodeJS.ProcessEnv): ServerHandle {
  let proc = spawnApp(name, script, [], env);
  let stopped = false;
  let wake: (() => void) | null = null;
  const record = (p: ManagedProcess) => pids?.add({ name, pid: p.pid, command: p.command, processGroup: true });
  record(proc);
  void (async () => {
    let restarts = 0;
    let failuresInARow = 0;
    for (;;) {
      const startedAt = Date.now();
      const { code, signal } = await proc.exited;
      pids?.drop(proc.pid);
      if (stopped || shuttingDown) return;
      if (Date.now() - startedAt >= RESTART_STABLE_MS) failuresInARow = 0;
      const delay = Math.min(RESTART_FIRST_MS * 2 ** failuresInARow, RESTART_MAX_MS);
      failuresInARow++;
      restarts++;
      say(`${name} exited (code ${code}, signal ${signal}); restart ${restarts} in ${delay / 1000}s; the rest keeps running`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
      if (stopped || shuttingDown) return;
      proc = spawnApp(name, script, [], env);
      record(proc);
      say(`${name} restarted (pid ${proc.pid}, restart ${restarts})`);
    }
  })();
  return {
    name,
    get pid() {
      return proc.pid;
    },
    command: proc.command,
    processGroup: true,
    stop: async (timeoutMs?: number) => {
      stopped = true;
      wake?.();
      await proc.stop(timeoutMs);
    },
  };
}

// `make start | tee log` then Ctrl-C: tee dies first, and a write to the closed pipe must not kill
// this process before it has stopped the servers it started.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
process.on('uncaughtException', (err) => {
  try {
    process.stderr.write(`[start] ERROR: ${err.stack ?? err.message}\n`);
  } catch {
    // output is gone
  }
  void shutdown('unexpected error', 1);
});

let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (++interrupts > 1 && sig === 'SIGINT') {
      // Second Ctrl-C: do not wait for graceful shutdowns.
      for (const h of running) {
        for (const p of [...(h.parts ?? []), h]) {
          try {
            if (p.pid && p.pid > 0) process.kill(p.processGroup ? -p.pid : p.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      pids?.remove();
      process.exit(130);
    }
    // Ctrl-C is how `make start` is meant to end: a clean stop exits 0.
    void shutdown(`${sig} received`, 0);
  });
}

async function main(): Promise<void> {
  fs.mkdirSync(LOGS, { recursive: true });
  const pidPath = path.join(DATA, 'pids.json');
  const owner = PidFile.liveOwner(pidPath);
  if (owner !== null) fail(`\`make start\` is already running (pid ${owner}); stop it first`);
  const leftovers = await PidFile.killLeftovers(pidPath);
  if (leftovers.length) say(`stopped servers left by an earlier run: ${leftovers.join(', ')}`);
  pids = new PidFile(pidPath);
  pids.claim();

  // ---- servers ----
  let kind: 'dev' | 'server' = 'dev';
  try {
    kind = temporalKind();
    temporalShards();
  } catch (err) {
    fail((err as Error).message);
  }
  say(`starting servers (logs in ${path.relative(ROOT, LOGS)}/) ...`);
  const smtpExternal = Boolean(process.env.SMTP_HOST);
  const mailpitBin = smtpExternal ? null : toolPath('mailpit');
  const database = starting(
    startDatabase({
      port: ports.mongo,
      dir: path.join(DATA, 'mongod'),
      logFile: path.join(LOGS, 'database.log'),
      postgresPort: ports.postgres,
      postgresDir: path.join(DATA, 'postgres'),
      postgresLogFile: path.join(LOGS, 'postgres.log'),
      processGroup: true,
      readyTimeoutMs: 60_000,
    }).then(track),
  );
  const temporalLog = path.join(LOGS, 'temporal.log');
  const results = await Promise.allSettled([
    starting(
      (kind === 'server'
        ? // Its databases live in the PostgreSQL under FerretDB (its own when the database is not FerretDB).
          database.then((db) =>
            startTemporalServer({
              port: ports.temporal,
              dataDir: path.join(DATA, 'temporal-server'),
              logFile: temporalLog,
              postgres: db.postgres,
              historyShards: temporalShards(),
              uiPort: toolPath('temporal-ui-server') ? ports.temporalUi : null,
              processGroup: true,
              readyTimeoutMs: 180_000,
            }),
          )
        : startTemporal({
            port: ports.temporal,
            uiPort: ports.temporalUi,
            dbFile: path.join(DATA, 'temporal.db'),
            logFile: temporalLog,
            processGroup: true,
            readyTimeoutMs: 120_000,
          })
      ).then(track),
    ),
    database,
    mailpitBin
      ? starting(
          startMailpit({
            smtpPort: ports.smtp,
            uiPort: ports.mailUi,
            dbFile: path.join(DATA, 'mailpit.db'),
            logFile: path.join(LOGS, 'mailpit.log'),
            processGroup: true,
          }).then(track),
        )
      : Promise.resolve(null),
  ]);
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length) {
    for (const e of errors) {
      process.stderr.write(`[start] ERROR: ${e instanceof Error ? e.message : String(e)}\n`);
      if (e instanceof ServerStartError && /already in use/.test(e.message)) process.stderr.write(`[start] ${PORT_HINT}\n`);
    }
    await shutdown('a server did not start', 1);
    return;
  }
  if (shuttingDown) return;
  const temporal = (results[0] as PromiseFulfilledResult<TemporalHandle>).value;
  const db = (results[1] as PromiseFulfilledResult<DatabaseHandle>).value;
  const mailpit = (results[2] as PromiseFulfilledResult<MailpitHandle | null>).value;
  // They became ready in any order; stop them in the order opposite to how they were listed (the real
  // server before the PostgreSQL it writes to).
  const order = kind === 'server' ? [db, temporal, mailpit] : [temporal, db, mailpit];
  running.splice(0, running.length, ...order.filter((h): h is NonNullable<typeof h> => h !== null));
  const dbLine = describeDatabase(db);
  const temporalLine = 'historyShards' in temporal ? `temporal-server, ${String(temporal.historyShards)} history shards` : 'dev server';
  say(
    `temporal ${temporal.address} (${temporalLine}), ${dbLine}${mailpit ? `, mailpit smtp ${mailpit.smtpHost}:${mailpit.smtpPort}` : ''}`,
  );

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.receiver),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
    MONGODB_URI: db.uri,
    DEV_API_KEY_FILE: DEV_KEY_FILE,
    // dev-provision creates it when SECRETS_KEY is not set; absolute, like the dev key's file.
    SECRETS_KEY_FILE: path.resolve(ROOT, process.env.SECRETS_KEY_FILE ?? path.join(DATA, 'secrets-key')),
  };
  if (temporal.uiUrl) env.TEMPORAL_UI_URL ??= temporal.uiUrl;
  if (mailpit) {
    env.SMTP_HOST = mailpit.smtpHost;
    env.SMTP_PORT = String(mailpit.smtpPort);
  }

  // ---- dev organization + API key: DEV_API_KEY, else the key dev-provision keeps in its file ----
  const cli = path.join(ROOT, 'src', 'bin', 'cli.ts');
  if (fs.existsSync(cli)) {
    say('provisioning the development organization (src/bin/cli.ts dev-provision) ...');
    const provision = spawnApp('provision', cli, ['dev-provision'], env);
    running.push({ name: 'provision', pid: provision.pid, processGroup: true, stop: (t) => provision.stop(t) });
    const { code, signal } = await provision.exited;
    running.pop();
    if (shuttingDown) return;
    if (code !== 0) {
      await shutdown(`dev-provision failed (code ${code}, signal ${signal})`, 1);
      return;
    }
  } else {
    say('src/bin/cli.ts not found: skipping dev-provision');
  }
  const apiKey = process.env.DEV_API_KEY ?? readKeyFile(DEV_KEY_FILE);
  if (apiKey) env.DEV_API_KEY = apiKey;

  // ---- app: workers, then receivers on consecutive ports ----
  const apps: { name: string; script: string; port?: number; env?: NodeJS.ProcessEnv }[] = [];
  for (let i = 1; i <= workers; i++) {
    const metricsPort = ports.workerMetrics === 0 ? 0 : ports.workerMetrics + i - 1;
    apps.push({
      name: workers > 1 ? `worker-${i}` : 'worker',
      script: 'src/bin/worker.ts',
      env: { WORKER_METRICS_PORT: String(metricsPort) },
    });
  }
  for (let i = 1; i <= receivers; i++) {
    apps.push({ name: receivers > 1 ? `receiver-${i}` : 'receiver', script: 'src/bin/server.ts', port: ports.receiver + i - 1 });
  }
  for (const app of apps) {
    if (!fs.existsSync(path.join(ROOT, app.script))) {
      await shutdown(`${app.script} not found`, 1);
      return;
    }
    running.push(supervise(app.name, app.script, { ...env, ...app.env, ...(app.port === undefined ? {} : { PORT: String(app.port) }) }));
  }
  const receiverPorts = apps.flatMap((a) => (a.port === undefined ? [] : [a.port]));
  const deadline = Date.now() + 90_000;
  while (!shuttingDown && !(await Promise.all(receiverPorts.map((p) => isPortOpen(p)))).every(Boolean)) {
    if (Date.now() > deadline) {
      await shutdown(`the receiver is not listening on port(s) ${receiverPorts.join(', ')} after 90s`, 1);
      return;
    }
    await sleep(250);
  }
  if (shuttingDown) return;

  const receiverUrls = receiverPorts.map((p) => `http://localhost:${p}`).join(', ');
  const lines = [
    `receiver      ${receiverUrls}   (POST /api/calls/webhook)`,
    `dashboard     http://localhost:${receiverPorts[0]}/dashboard   (sign in with the dev API key)`,
    `workers       ${workers} (restarted with backoff if one dies)${ports.workerMetrics ? `; metrics http://localhost:${ports.workerMetrics}/metrics${workers > 1 ? ` to :${ports.workerMetrics + workers - 1}` : ''}` : ''}`,
    `Temporal UI   ${temporal.uiUrl ?? 'none: temporal-ui-server is not built (docs/temporal.md)'}`,
    `Temporal      ${temporal.address} (${temporalLine}, namespace ${env.TEMPORAL_NAMESPACE})`,
    `database      ${dbLine}, db ${DB_NAME}`,
    mailpit
      ? `mail UI       ${mailpit.uiUrl}   (SMTP ${mailpit.smtpHost}:${mailpit.smtpPort})`
      : `mail          ${smtpExternal ? `SMTP_HOST=${process.env.SMTP_HOST}` : 'no mail sink (mailpit not built)'}`,
    `dev API key   ${apiKey ?? `(none: ${path.relative(ROOT, DEV_KEY_FILE)} was not written)`}`,
    `data & logs   ${path.relative(ROOT, DATA)}/  (Ctrl-C stops everything)`,
  ];
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  const bar = `+${'-'.repeat(width)}+`;
  process.stdout.write(`\n${bar}\n${lines.map((l) => `| ${l.padEnd(width - 1)}|`).join('\n')}\n${bar}\n\n`);
}

function describeDatabase(db: DatabaseHandle): string {
  if (db.kind === 'external') return 'MONGODB_URI (external)';
  if (db.postgres)
    return `${db.uri} (ferretdb on PostgreSQL ${db.postgres.version} at 127.0.0.1:${db.postgres.port}, data ${path.relative(ROOT, db.postgres.dataDir)})`;
  return `${db.uri} (${db.kind})`;
}

function readKeyFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

main().catch(async (err) => {
  process.stderr.write(`[start] ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await shutdown('start-up failed', 1);
});

// `make start`: the whole app on this machine, in the foreground.
//   Temporal dev server (gRPC 7233, Web UI 8233, .data/temporal.db)
//   database: MONGODB_URI if set, else mongod if on PATH, else FerretDB (27017, .data/ferretdb/)
//   Mailpit (SMTP 1025, UI 8025) when built and SMTP_HOST is not set
//   then `src/cli.ts dev-provision`, the worker and the receiver (PORT 3000), output prefixed.
// Ctrl-C / SIGTERM stops everything in reverse order; if one child dies the rest are stopped.
// Data stays in .data/, so a restart keeps calls and workflow histories.
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
  onPath,
  startDatabase,
  startFerretDb,
  startMailpit,
  startMongod,
  startTemporal,
  toolPath,
  waitUntil,
  type DatabaseHandle,
  type MailpitHandle,
  type ManagedProcess,
  type ServerHandle,
  type TemporalHandle,
} from './stack';

const DATA = path.join(ROOT, '.data');
const LOGS = path.join(DATA, 'logs');
// src/config.ts's default; shown in the banner only (the app reads MONGODB_DB itself).
const DB_NAME = process.env.MONGODB_DB ?? 'calls_api';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fail(`${name}=${raw} is not a TCP port`);
  return n;
}

const ports = {
  receiver: port('PORT', 3000),
  temporal: port('TEMPORAL_PORT', 7233),
  temporalUi: 0,
  mongo: port('MONGO_PORT', 27017),
  smtp: port('MAILPIT_SMTP_PORT', 1025),
  mailUi: port('MAILPIT_UI_PORT', 8025),
};
ports.temporalUi = port('TEMPORAL_UI_PORT', ports.temporal + 1000);

const PORT_HINT =
  'ports can be moved with PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT, MONGO_PORT, MAILPIT_SMTP_PORT, MAILPIT_UI_PORT';

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
function prefixOutput(proc: ManagedProcess, label: string, sink?: (line: string) => void): void {
  const pipe = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
    if (!stream) return;
    readline.createInterface({ input: stream }).on('line', (line) => {
      out.write(`[${label}] ${line}\n`);
      sink?.(line);
    });
  };
  pipe(proc.child.stdout, process.stdout);
  pipe(proc.child.stderr, process.stderr);
}

function spawnApp(name: string, script: string, args: string[], env: NodeJS.ProcessEnv, sink?: (line: string) => void): ManagedProcess {
  const [cmd, argv] = tsNode(script, args);
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const proc = manage(name, cmd, child, path.join(LOGS, `${name}.log`), true);
  prefixOutput(proc, name, sink);
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

/** Records a started server/app; a crash of any of them stops the rest. */
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
        try {
          if (h.pid && h.pid > 0) process.kill(h.processGroup ? -h.pid : h.pid, 'SIGKILL');
        } catch {
          // already gone
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
  say('starting servers (logs in .data/logs/) ...');
  const smtpExternal = Boolean(process.env.SMTP_HOST);
  const mailpitBin = smtpExternal ? null : toolPath('mailpit');
  const externalDb = process.env.MONGODB_URI;
  const startDb = (): Promise<DatabaseHandle> => {
    const common = { port: ports.mongo, processGroup: true, readyTimeoutMs: 60_000 };
    if (externalDb) return startDatabase({ ...common, dir: '', logFile: '', externalUri: externalDb });
    if (onPath('mongod')) return startMongod({ ...common, dir: path.join(DATA, 'mongod'), logFile: path.join(LOGS, 'mongod.log') });
    return startFerretDb({ ...common, dir: path.join(DATA, 'ferretdb'), logFile: path.join(LOGS, 'ferretdb.log') });
  };
  const results = await Promise.allSettled([
    starting(startTemporal({
      port: ports.temporal,
      uiPort: ports.temporalUi,
      dbFile: path.join(DATA, 'temporal.db'),
      logFile: path.join(LOGS, 'temporal.log'),
      processGroup: true,
      readyTimeoutMs: 120_000,
    }).then(track)),
    starting(startDb().then(track)),
    mailpitBin
      ? starting(startMailpit({
          smtpPort: ports.smtp,
          uiPort: ports.mailUi,
          dbFile: path.join(DATA, 'mailpit.db'),
          logFile: path.join(LOGS, 'mailpit.log'),
          processGroup: true,
        }).then(track))
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
  // They became ready in any order; stop them in the order opposite to how they were listed.
  running.splice(0, running.length, ...[temporal, db, mailpit].filter((h): h is NonNullable<typeof h> => h !== null));
  say(`temporal ${temporal.address}, ${db.kind} ${db.kind === 'external' ? '(MONGODB_URI)' : db.uri}${mailpit ? `, mailpit smtp ${mailpit.smtpHost}:${mailpit.smtpPort}` : ''}`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.receiver),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
    MONGODB_URI: externalDb ?? db.uri,
  };
  if (temporal.uiUrl) env.TEMPORAL_UI_URL ??= temporal.uiUrl;
  if (mailpit) {
    env.SMTP_HOST = mailpit.smtpHost;
    env.SMTP_PORT = String(mailpit.smtpPort);
  }

  // ---- dev organization + API key ----
  let apiKey = process.env.DEV_API_KEY ?? null;
  const cli = path.join(ROOT, 'src', 'cli.ts');
  if (fs.existsSync(cli)) {
    say('provisioning the development organization (src/cli.ts dev-provision) ...');
    const provision = spawnApp('provision', cli, ['dev-provision'], env, (line) => {
      const m = /DEV_API_KEY=(\S+)/.exec(line) ?? /api[ _-]?key\b[^:=]*[:=]\s*(\S+)/i.exec(line);
      if (m && !process.env.DEV_API_KEY) apiKey = m[1];
    });
    running.push({ name: 'provision', pid: provision.pid, processGroup: true, stop: (t) => provision.stop(t) });
    const { code, signal } = await provision.exited;
    running.pop();
    if (shuttingDown) return;
    if (code !== 0) {
      await shutdown(`dev-provision failed (code ${code}, signal ${signal})`, 1);
      return;
    }
  } else {
    say('src/cli.ts not found: skipping dev-provision');
  }
  if (apiKey) env.DEV_API_KEY = apiKey;

  // ---- app ----
  const apps: ManagedProcess[] = [];
  for (const [name, script] of [
    ['worker', 'src/worker.ts'],
    ['receiver', 'src/server.ts'],
  ] as const) {
    if (!fs.existsSync(path.join(ROOT, script))) {
      await shutdown(`${script} not found`, 1);
      return;
    }
    const proc = spawnApp(name, script, [], env);
    apps.push(proc);
    track({ name, pid: proc.pid, command: proc.command, processGroup: true, exited: proc.exited, stop: (t) => proc.stop(t) });
  }
  const receiver = apps[1];
  try {
    await waitUntil(receiver, `the receiver on port ${ports.receiver}`, () => isPortOpen(ports.receiver), 60_000, 'receiver');
  } catch (err) {
    if (!shuttingDown) await shutdown(err instanceof Error ? err.message : String(err), 1);
    return;
  }
  if (shuttingDown) return;

  const lines = [
    `receiver      http://localhost:${ports.receiver}   (POST /api/calls/webhook)`,
    `Temporal UI   ${temporal.uiUrl}`,
    `Temporal      ${temporal.address} (namespace ${env.TEMPORAL_NAMESPACE})`,
    `database      ${db.kind === 'external' ? 'MONGODB_URI (external)' : `${env.MONGODB_URI} (${db.kind})`}, db ${DB_NAME}`,
    mailpit ? `mail UI       ${mailpit.uiUrl}   (SMTP ${mailpit.smtpHost}:${mailpit.smtpPort})` : `mail          ${smtpExternal ? `SMTP_HOST=${process.env.SMTP_HOST}` : 'no mail sink (mailpit not built)'}`,
    `dev API key   ${apiKey ?? '(see the [provision] output above)'}`,
    `data & logs   .data/  (Ctrl-C stops everything)`,
  ];
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  const bar = `+${'-'.repeat(width)}+`;
  process.stdout.write(`\n${bar}\n${lines.map((l) => `| ${l.padEnd(width - 1)}|`).join('\n')}\n${bar}\n\n`);
}

main().catch(async (err) => {
  process.stderr.write(`[start] ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await shutdown('start-up failed', 1);
});

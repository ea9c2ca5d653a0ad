// Starts, checks and stops the local servers the app needs (Temporal dev server, a MongoDB-speaking
// database, Mailpit) as child processes. Shared by `make start` (scripts/start.ts) and the jest
// global setup, so both wait for readiness and shut down the same way.
// Server output goes to log files, never to the terminal; errors name the server and its log.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { SEARCH_ATTRIBUTE_FLAGS } from '../src/temporal/searchAttributes';

export const ROOT = path.resolve(__dirname, '..');
export const TOOLS_BIN = path.join(ROOT, '.tools', 'bin');
const LOCALHOST = '127.0.0.1';

export interface ServerHandle {
  readonly name: string;
  /** Undefined for servers this module did not start (e.g. an external MONGODB_URI). */
  readonly pid?: number;
  readonly logFile?: string;
  /** Executable and whether it leads its own process group (for PidFile). */
  readonly command?: string;
  readonly processGroup?: boolean;
  /** Resolves when the process exits, for whoever wants to notice a crash. */
  readonly exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after the timeout. Safe to call more than once. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface TemporalHandle extends ServerHandle {
  /** host:port of the frontend gRPC service, the form TEMPORAL_ADDRESS takes. */
  readonly address: string;
  readonly port: number;
  readonly uiUrl: string | null;
  readonly binary: string;
}

export interface DatabaseHandle extends ServerHandle {
  /** Server URI without a database name, e.g. mongodb://127.0.0.1:27017/ (see withDatabase). */
  readonly uri: string;
  readonly kind: 'external' | 'mongod' | 'ferretdb';
}

export interface MailpitHandle extends ServerHandle {
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly uiUrl: string;
}

export class ServerStartError extends Error {
  constructor(
    readonly server: string,
    message: string,
    readonly logFile?: string,
  ) {
    super(`${server}: ${message}${logFile ? `\n  log: ${logFile}\n${logTail(logFile)}` : ''}`);
    this.name = 'ServerStartError';
  }
}

// ---- tool lookup ------------------------------------------------------------------------------

export type ToolName = 'temporal' | 'ferretdb' | 'mailpit' | 'tctl' | 'temporal-test-server';

/** Path of a tool built by scripts/ensure-tools.sh, or null when it is not there.
 *  temporal: TEMPORAL_BIN wins when set (ensure-tools.sh honours the same variable). */
export function toolPath(name: ToolName): string | null {
  if (name === 'temporal' && process.env.TEMPORAL_BIN) return process.env.TEMPORAL_BIN;
  const p = path.join(TOOLS_BIN, name);
  return isExecutable(p) ? p : null;
}

function requireTool(name: ToolName): string {
  const p = toolPath(name);
  if (!p || !isExecutable(p)) {
    throw new ServerStartError(name, `binary not found (${p ?? path.join(TOOLS_BIN, name)}); run scripts/ensure-tools.sh`);
  }
  return p;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of an executable on PATH, or null. */
export function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

// ---- ports ------------------------------------------------------------------------------------

export function isPortOpen(port: number, host = LOCALHOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A port the OS reports free right now (there is a small race until the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, LOCALHOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `preferred` when nothing listens there; otherwise a free port if allowed, else an error. */
export async function choosePort(server: string, preferred: number, fallbackToFree: boolean): Promise<number> {
  if (!(await isPortOpen(preferred))) return preferred;
  if (fallbackToFree) return freePort();
  throw new ServerStartError(server, `port ${preferred} is already in use (another \`make start\` or test run? a leftover server?)`);
}

/** Refuses to start a server whose port is taken: the readiness check would otherwise talk to
 *  whatever already listens there and report success. */
export async function assertPortsFree(server: string, ports: number[]): Promise<void> {
  for (const port of ports) {
    if (await isPortOpen(port)) {
      throw new ServerStartError(server, `port ${port} is already in use (another \`make start\` or test run? a leftover server?)`);
    }
  }
}

// ---- child processes --------------------------------------------------------------------------

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Own process group: a terminal Ctrl-C then reaches only the parent, which stops children in
   *  order; stop() signals the whole group. Without it, the children die with the parent's group. */
  processGroup?: boolean;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly command: string;
  readonly processGroup: boolean;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts a process with stdout+stderr appended straight to its log file (the file descriptor is
 *  handed over, so output keeps flowing even if this process goes away first). */
export function spawnLogged(opts: SpawnOptions): ManagedProcess {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = fs.openSync(opts.logFile, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${opts.command} ${opts.args.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd ?? ROOT,
      detached: opts.processGroup ?? false,
    });
  } finally {
    fs.closeSync(fd);
  }
  return manage(opts.name, opts.command, child, opts.logFile, opts.processGroup ?? false);
}

export function manage(name: string, command: string, child: ChildProcess, logFile: string, processGroup: boolean): ManagedProcess {
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): no 'exit' follows.
      exitedFlag = true;
      fs.appendFileSync(logFile, `spawn failed: ${err.message}\n`);
      resolve({ code: -1, signal: null });
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (exitedFlag || child.pid === undefined) return;
    try {
      if (processGroup) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | null = null;
  return {
    name,
    child,
    pid: child.pid ?? -1,
    logFile,
    command,
    processGroup,
    exited,
    hasExited: () => exitedFlag,
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        if (exitedFlag) return;
        signal('SIGTERM');
        const timer = new Promise<'timeout'>((r) => setTimeout(r, timeoutMs, 'timeout').unref());
        if ((await Promise.race([exited, timer])) === 'timeout') {
          signal('SIGKILL');
          await exited;
        }
        // The group may still hold grandchildren (e.g. tsx's esbuild service); none may linger.
        if (processGroup && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // group already empty
          }
        }
      })();
      return stopping;
    },
  };
}

export function logTail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no log yet)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails early when the process exits, or at the deadline. */
export async function waitUntil(
  proc: ManagedProcess | null,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  server: string,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (let delay = 100; ; delay = Math.min(delay * 1.5, 1000)) {
    if (proc?.hasExited()) {
      const { code, signal } = await proc.exited;
      throw new ServerStartError(server, `exited (code ${code}, signal ${signal}) before ${what}`, logFile);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      await proc?.stop(3000);
      throw new ServerStartError(
        server,
        `not ready after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
        logFile,
      );
    }
    await sleep(delay);
  }
}

async function startChecked<H extends ServerHandle>(
  proc: ManagedProcess,
  ready: () => Promise<void>,
  handle: Omit<H, keyof ServerHandle>,
): Promise<H> {
  try {
    await ready();
  } catch (err) {
    await proc.stop(3000);
    throw err;
  }
  const base: ServerHandle = {
    name: proc.name,
    pid: proc.pid,
    logFile: proc.logFile,
    command: proc.command,
    processGroup: proc.processGroup,
    exited: proc.exited,
    stop: (t?: number) => proc.stop(t),
  };
  return { ...handle, ...base } as H;
}

// ---- Temporal ---------------------------------------------------------------------------------

export interface TemporalOptions {
  port: number;
  /** null: headless (no Web UI). */
  uiPort: number | null;
  /** null: in-memory store, lost when the server stops. */
  dbFile: string | null;
  logFile: string;
  /** Extra namespaces to create besides "default". */
  namespaces?: string[];
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

export async function startTemporal(opts: TemporalOptions): Promise<TemporalHandle> {
  const binary = requireTool('temporal');
  await assertPortsFree('temporal', opts.uiPort === null ? [opts.port] : [opts.port, opts.uiPort]);
  const args = ['server', 'start-dev', '--ip', LOCALHOST, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  for (const ns of opts.namespaces ?? []) args.push('--namespace', ns);
  for (const sa of SEARCH_ATTRIBUTE_FLAGS) args.push('--search-attribute', sa);

  const address = `${LOCALHOST}:${opts.port}`;
  const proc = spawnLogged({ name: 'temporal', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  const timeout = opts.readyTimeoutMs ?? 60_000;
  return startChecked<TemporalHandle>(
    proc,
    async () => {
      await waitUntil(proc, `gRPC port ${opts.port}`, () => isPortOpen(opts.port), timeout, 'temporal', opts.logFile);
      await waitUntil(proc, 'namespace "default" to answer', () => temporalReady(address), timeout, 'temporal', opts.logFile);
      if (opts.uiPort !== null) {
        const ui = opts.uiPort;
        await waitUntil(proc, `Web UI port ${ui}`, () => isPortOpen(ui), timeout, 'temporal', opts.logFile);
      }
    },
    { address, port: opts.port, uiUrl: opts.uiPort === null ? null : `http://localhost:${opts.uiPort}`, binary },
  );
}

/** True once the frontend answers DescribeNamespace("default") — i.e. clients and workers can use it. */
export async function temporalReady(address: string, namespace = 'default'): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const res = await connection.workflowService.describeNamespace({ namespace });
    return res.namespaceInfo?.name === namespace;
  } finally {
    await connection.close();
  }
}

// ---- database ---------------------------------------------------------------------------------

export interface DatabaseOptions {
  port: number;
  /** Data directory (FerretDB's SQLite files or mongod's dbpath). */
  dir: string;
  logFile: string;
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

/** An external URI (default: MONGODB_URI) is used as it is, starting nothing. Else mongod when on
 *  PATH. Else FerretDB. Pass externalUri: null to ignore MONGODB_URI. */
export async function startDatabase(opts: DatabaseOptions & { externalUri?: string | null }): Promise<DatabaseHandle> {
  const external = opts.externalUri === undefined ? process.env.MONGODB_URI : opts.externalUri;
  if (external) {
    await waitUntil(null, 'a ping at MONGODB_URI', () => mongoReady(external), opts.readyTimeoutMs ?? 15_000, 'mongodb (MONGODB_URI)');
    return { name: 'mongodb', kind: 'external', uri: external, stop: async () => {} };
  }
  if (onPath('mongod')) return startMongod(opts);
  return startFerretDb(opts);
}

export async function startFerretDb(opts: DatabaseOptions): Promise<DatabaseHandle> {
  const binary = requireTool('ferretdb');
  await assertPortsFree('ferretdb', [opts.port]);
  fs.mkdirSync(opts.dir, { recursive: true });
  const args = ['-listen-addr', `${LOCALHOST}:${opts.port}`, '-sqlite-dir', opts.dir, '-log-level', 'warn'];
  const proc = spawnLogged({ name: 'ferretdb', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  return startMongoLike(proc, opts, 'ferretdb');
}

export async function startMongod(opts: DatabaseOptions): Promise<DatabaseHandle> {
  const binary = onPath('mongod');
  if (!binary) throw new ServerStartError('mongod', 'not found on PATH');
  await assertPortsFree('mongod', [opts.port]);
  fs.mkdirSync(opts.dir, { recursive: true });
  const args = ['--port', String(opts.port), '--bind_ip', LOCALHOST, '--dbpath', opts.dir, '--quiet'];
  const proc = spawnLogged({ name: 'mongod', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  return startMongoLike(proc, opts, 'mongod');
}

function startMongoLike(proc: ManagedProcess, opts: DatabaseOptions, kind: 'mongod' | 'ferretdb'): Promise<DatabaseHandle> {
  const uri = `mongodb://${LOCALHOST}:${opts.port}/`;
  const timeout = opts.readyTimeoutMs ?? 30_000;
  return startChecked<DatabaseHandle>(
    proc,
    async () => {
      await waitUntil(proc, `port ${opts.port}`, () => isPortOpen(opts.port), timeout, kind, opts.logFile);
      await waitUntil(proc, 'a ping', () => mongoReady(uri), timeout, kind, opts.logFile);
    },
    { uri, kind },
  );
}

export async function mongoReady(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    const res = await client.db('admin').command({ ping: 1 });
    return res.ok === 1;
  } finally {
    await client.close();
  }
}

/** The same server URI with its database path replaced: withDatabase('mongodb://h:1/?w=1', 'x')
 *  → 'mongodb://h:1/x?w=1'. Works for multi-host and +srv URIs, which URL cannot parse. */
export function withDatabase(uri: string, dbName: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`not a mongodb:// URI: ${uri}`);
  return `${m[1]}/${dbName}${m[2] ?? ''}`;
}

/** The database named in a URI's path, or null. */
export function databaseOf(uri: string): string | null {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]+)/.exec(uri);
  return m ? decodeURIComponent(m[1]) : null;
}

// ---- Mailpit ----------------------------------------------------------------------------------

export interface MailpitOptions {
  smtpPort: number;
  uiPort: number;
  /** null: in-memory. */
  dbFile: string | null;
  logFile: string;
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

export async function startMailpit(opts: MailpitOptions): Promise<MailpitHandle> {
  const binary = requireTool('mailpit');
  await assertPortsFree('mailpit', [opts.smtpPort, opts.uiPort]);
  const args = ['--smtp', `${LOCALHOST}:${opts.smtpPort}`, '--listen', `${LOCALHOST}:${opts.uiPort}`, '--smtp-auth-accept-any', '--smtp-auth-allow-insecure',
    // no calls to the release API: only package registries are reachable on dev machines and CI
    '--disable-version-check'];
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--database', opts.dbFile);
  }
  const proc = spawnLogged({ name: 'mailpit', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  const timeout = opts.readyTimeoutMs ?? 20_000;
  return startChecked<MailpitHandle>(
    proc,
    async () => {
      await waitUntil(proc, `SMTP port ${opts.smtpPort}`, () => isPortOpen(opts.smtpPort), timeout, 'mailpit', opts.logFile);
      await waitUntil(proc, `UI port ${opts.uiPort}`, () => isPortOpen(opts.uiPort), timeout, 'mailpit', opts.logFile);
    },
    { smtpHost: LOCALHOST, smtpPort: opts.smtpPort, uiUrl: `http://localhost:${opts.uiPort}` },
  );
}

// ---- shutdown and leftovers -------------------------------------------------------------------

/** Stops handles in reverse start order; collects errors instead of stopping at the first. */
export async function stopAll(handles: readonly ServerHandle[], timeoutMs = 10_000): Promise<void> {
  const errors: unknown[] = [];
  for (const h of [...handles].reverse()) {
    try {
      await h.stop(timeoutMs);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw new AggregateError(errors, `failed to stop ${errors.length} server(s)`);
}

interface PidEntry {
  name: string;
  pid: number;
  /** First argument of the process, to avoid killing an unrelated process that reused the pid. */
  command: string;
  group: boolean;
}

interface PidFileContent {
  owner: number;
  processes: PidEntry[];
}

/** Records the servers a run started, so the next run can clean up after one that was killed
 *  before it could stop them (kill -9, a closed terminal, a crashed jest). */
export class PidFile {
  private entries: PidEntry[] = [];
  constructor(readonly file: string) {}

  add(h: { name: string; pid?: number; command?: string; processGroup?: boolean }): void {
    if (!h.pid || h.pid < 0 || !h.command) return;
    this.entries.push({ name: h.name, pid: h.pid, command: h.command, group: h.processGroup ?? false });
    this.write();
  }

  /** Marks the file as owned by this process before anything is started. */
  claim(): void {
    this.write();
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }

  private write(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const content: PidFileContent = { owner: process.pid, processes: this.entries };
    fs.writeFileSync(this.file, JSON.stringify(content, null, 2));
  }

  /** The pid of a live process that owns this file, if any. */
  static liveOwner(file: string): number | null {
    const content = readPidFile(file);
    return content && content.owner !== process.pid && isAlive(content.owner) ? content.owner : null;
  }

  /** Kills the processes a dead owner left behind; returns their names. No-op if the owner lives. */
  static async killLeftovers(file: string): Promise<string[]> {
    const content = readPidFile(file);
    if (!content || (content.owner !== process.pid && isAlive(content.owner))) return [];
    const killed: string[] = [];
    for (const p of content.processes) {
      if (!isAlive(p.pid) || !commandMatches(p.pid, p.command)) continue;
      killed.push(`${p.name} (pid ${p.pid})`);
      signalPid(p.pid, p.group, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(p.pid); i++) await sleep(100);
      if (isAlive(p.pid)) signalPid(p.pid, p.group, 'SIGKILL');
    }
    fs.rmSync(file, { force: true });
    return killed;
  }
}

function readPidFile(file: string): PidFileContent | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PidFileContent;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandMatches(pid: number, command: string): boolean {
  try {
    const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0 === command || path.basename(argv0) === path.basename(command);
  } catch {
    // No /proc (macOS): cannot tell whether the pid was reused, so leave the process alone.
    return false;
  }
}

function signalPid(pid: number, group: boolean, sig: NodeJS.Signals): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // gone
  }
}

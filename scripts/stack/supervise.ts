// Generic process supervision for the local servers: tool lookup, ports, child processes with
// their output in log files, readiness polling, ordered shutdown, and a pid file that lets the
// next run clean up after one that was killed. Knows nothing about any particular server (the
// recipes are one file per server: ./temporalDev.ts, ./database.ts, ./postgres.ts, ./mailpit.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_BIN = path.join(ROOT, '.tools', 'bin');
export const LOCALHOST = '127.0.0.1';

export interface ServerHandle {
  readonly name: string;
  /** Undefined for servers this module did not start (e.g. an external MONGODB_URI). */
  readonly pid?: number;
  readonly logFile?: string;
  /** Executable and whether it leads its own process group (for PidFile). */
  readonly command?: string;
  readonly processGroup?: boolean;
  /** Signal that asks it to stop (SIGTERM unless said otherwise; PostgreSQL wants SIGINT). */
  readonly stopSignal?: NodeJS.Signals;
  /** Processes started for this server besides its own, in start order (e.g. the PostgreSQL under
   *  FerretDB): PidFile records them too; stop() stops them. */
  readonly parts?: readonly ServerHandle[];
  /** Resolves when the process exits, for whoever wants to notice a crash. */
  readonly exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The stop signal, then SIGKILL after the timeout. Safe to call more than once. */
  stop(timeoutMs?: number): Promise<void>;
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

export type ToolName =
  'temporal' | 'temporal-server' | 'temporal-sql-tool' | 'temporal-ui-server' | 'ferretdb' | 'mailpit' | 'tctl' | 'temporal-test-server';

/** Path of a tool built by scripts/ensure-tools.sh, or null when it is not there.
 *  temporal: TEMPORAL_BIN wins when set (ensure-tools.sh honours the same variable). */
export function toolPath(name: ToolName): string | null {
  if (name === 'temporal' && process.env.TEMPORAL_BIN) return process.env.TEMPORAL_BIN;
  const p = path.join(TOOLS_BIN, name);
  return isExecutable(p) ? p : null;
}

export function requireTool(name: ToolName): string {
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

/**
 * Where freePort looks: below Linux's ephemeral range (32768 and up), from which outgoing
 * connections take their local ports, so no connection can take a port between the pick and the
 * server's bind; and below 32768 because Temporal keeps its ports in a smallint.
 */
const PICK_FROM = 20_000;
const PICK_SPAN = 12_000;
/** Ports this process handed out: never twice, even before their servers bind them. */
const handedOut = new Set<number>();

const canBind = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, LOCALHOST, () => srv.close(() => resolve(true)));
  });

/** A port free right now and not handed out before by this process (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PICK_FROM + Math.floor(Math.random() * PICK_SPAN);
    if (handedOut.has(port) || !(await canBind(port))) continue;
    handedOut.add(port);
    return port;
  }
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
  /** Run as this user (root only; e.g. PostgreSQL, which refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Graceful stop signal (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly command: string;
  readonly processGroup: boolean;
  readonly stopSignal: NodeJS.Signals;
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
      uid: opts.uid,
      gid: opts.gid,
    });
  } finally {
    fs.closeSync(fd);
  }
  return manage(opts.name, opts.command, child, opts.logFile, opts.processGroup ?? false, opts.stopSignal);
}

export function manage(
  name: string,
  command: string,
  child: ChildProcess,
  logFile: string,
  processGroup: boolean,
  stopSignal: NodeJS.Signals = 'SIGTERM',
): ManagedProcess {
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
    stopSignal,
    exited,
    hasExited: () => exitedFlag,
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        if (exitedFlag) return;
        signal(stopSignal);
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

export async function startChecked<H extends ServerHandle>(
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
    stopSignal: proc.stopSignal,
    exited: proc.exited,
    stop: (t?: number) => proc.stop(t),
  };
  return { ...handle, ...base } as H;
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
  /** Graceful stop signal when not SIGTERM. */
  signal?: NodeJS.Signals;
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

  /** Records a server and the parts it started (parts first: leftovers are stopped in reverse). */
  add(h: Pick<ServerHandle, 'name' | 'pid' | 'command' | 'processGroup' | 'stopSignal' | 'parts'>): void {
    for (const part of h.parts ?? []) this.add(part);
    if (!h.pid || h.pid < 0 || !h.command) return;
    const entry: PidEntry = { name: h.name, pid: h.pid, command: h.command, group: h.processGroup ?? false };
    if (h.stopSignal && h.stopSignal !== 'SIGTERM') entry.signal = h.stopSignal;
    this.entries.push(entry);
    this.write();
  }

  /** Forgets a process that has exited (e.g. an app process before its restart), so a later
   *  process that reuses its pid is never taken for it. */
  drop(pid: number): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.pid !== pid);
    if (this.entries.length !== before) this.write();
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
    // Reverse start order, as a normal stop does: FerretDB before the PostgreSQL under it.
    for (const p of [...content.processes].reverse()) {
      if (!isAlive(p.pid) || !commandMatches(p.pid, p.command)) continue;
      killed.push(`${p.name} (pid ${p.pid})`);
      signalPid(p.pid, p.group, p.signal ?? 'SIGTERM');
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

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function isAlive(pid: number): boolean {
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

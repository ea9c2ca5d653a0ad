// Per-process CPU while the benchmark runs, read from /proc (Linux only; elsewhere it reports
// nothing): every process of the stack and its descendants, grouped under a label, plus this
// process (the load generator) and whatever else keeps the machine busy.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** Every process of the benchmark (stack, apps, load generator) together. */
export const STACK_TOTAL = 'benchmark total (its processes)';

export interface CpuRoot {
  label: string;
  pid: number;
}

export interface CpuSegment {
  name: string;
  seconds: number;
  /** Average CPU % per label over the segment (100 = one core busy). */
  avgPercent: Record<string, number>;
  /** Highest CPU % of a label in one sampling interval. */
  peakPercent: Record<string, number>;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcInfo {
  ppid: number;
  comm: string;
  ticks: number;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Busy and total jiffies of the whole machine (all cores). */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Samples every `intervalMs`. Roots are labelled trees (temporal, worker, ...); a process found by
 * `dirMarker` in its command line (e.g. a PostgreSQL that daemonized out of the tree) and its
 * descendants are labelled by their own name. Processes of no root count as "other".
 */
export class CpuSampler {
  private roots: CpuRoot[] = [];
  private last = new Map<number, number>();
  private lastMachine = machineTicks();
  private lastSelf = process.cpuUsage();
  private lastAt = Date.now();
  private segStart = Date.now();
  private sums: Record<string, number> = {};
  private peaks: Record<string, number> = {};
  private segments: CpuSegment[] = [];
  private timer: NodeJS.Timeout | null = null;
  readonly available: boolean;

  /** intervalMs 0 turns sampling off. */
  constructor(
    private readonly intervalMs: number,
    private readonly dirMarker: string,
  ) {
    this.available = intervalMs > 0 && fs.existsSync('/proc/self/stat');
  }

  setRoots(roots: CpuRoot[]): void {
    this.roots = roots.filter((r) => r.pid > 0);
  }

  /** Starts a segment (closing the one running, if any). */
  start(name: string): void {
    if (!this.available) return;
    if (this.timer) this.end();
    this.currentName = name;
    this.sample(false);
    this.segStart = this.lastAt;
    this.sums = {};
    this.peaks = {};
    this.timer = setInterval(() => this.sample(true), this.intervalMs);
    this.timer.unref();
  }

  private currentName = '';

  /** Closes the running segment; returns it. */
  end(): CpuSegment | null {
    if (!this.timer) return null;
    clearInterval(this.timer);
    this.timer = null;
    this.sample(true);
    const seconds = (this.lastAt - this.segStart) / 1000;
    const avgPercent: Record<string, number> = {};
    // Tick counts are coarse (1/CLK_TCK s): over a very short segment they can exceed the cores.
    const cap = os.cpus().length * 100;
    for (const [k, v] of Object.entries(this.sums)) avgPercent[k] = round1(Math.min(cap, seconds > 0 ? (v / seconds) * 100 : 0));
    const seg: CpuSegment = { name: this.currentName, seconds: round1(seconds), avgPercent, peakPercent: mapValues(this.peaks, round1) };
    this.segments.push(seg);
    return seg;
  }

  all(): CpuSegment[] {
    return this.segments;
  }

  private labels(): Map<number, { label: string; info: ProcInfo }> {
    const procs = new Map<number, ProcInfo>();
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const info = readProc(Number(name));
      if (info) procs.set(Number(name), info);
    }
    const children = new Map<number, number[]>();
    for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
    const out = new Map<number, { label: string; info: ProcInfo }>();
    const walk = (pid: number, label: string | null) => {
      const info = procs.get(pid);
      if (!info || out.has(pid)) return;
      out.set(pid, { label: label ?? info.comm, info });
      for (const c of children.get(pid) ?? []) walk(c, label);
    };
    for (const r of this.roots) walk(r.pid, r.label);
    for (const [pid] of procs) {
      if (!out.has(pid) && pid !== process.pid && cmdline(pid).includes(this.dirMarker)) walk(pid, null);
    }
    return out;
  }

  private sample(count: boolean): void {
    const now = Date.now();
    const dt = (now - this.lastAt) / 1000;
    const perLabel: Record<string, number> = {};
    const seen = new Map<number, number>();
    let ours = 0;
    for (const [pid, { label, info }] of this.labels()) {
      seen.set(pid, info.ticks);
      // A process born during the interval used all its ticks within it.
      const d = (info.ticks - (this.last.get(pid) ?? 0)) / clockTicks;
      perLabel[label] = (perLabel[label] ?? 0) + d;
      ours += d;
    }
    const self = process.cpuUsage(this.lastSelf);
    const selfSec = (self.user + self.system) / 1e6;
    perLabel['load generator (this process)'] = selfSec;
    ours += selfSec;
    // On a shared machine the machine-wide figure carries other people's work; this one does not.
    perLabel[STACK_TOTAL] = ours;
    const machine = machineTicks();
    if (machine && this.lastMachine) {
      const busySec = (machine.busy - this.lastMachine.busy) / clockTicks;
      perLabel['other processes on the machine'] = Math.max(0, busySec - ours);
      perLabel['machine total (all cores)'] = busySec;
    }
    if (count && dt > 0) {
      for (const [k, v] of Object.entries(perLabel)) {
        this.sums[k] = (this.sums[k] ?? 0) + v;
        this.peaks[k] = Math.max(this.peaks[k] ?? 0, Math.min(os.cpus().length * 100, (v / dt) * 100));
      }
    }
    this.last = seen;
    this.lastMachine = machine;
    this.lastSelf = process.cpuUsage();
    this.lastAt = now;
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const mapValues = (o: Record<string, number>, f: (n: number) => number) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

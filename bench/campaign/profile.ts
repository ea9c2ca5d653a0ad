// Summarises the V8 CPU profiles a campaign run writes with CAMPAIGN_CPU_PROF=<folder>: for each
// process (one profile per thread), where the busy time went, by area (package or project folder)
// and by function, self time only.
//
//   node --import tsx bench/campaign/profile.ts .test-data/prof [--top 15]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The package or project folder a script belongs to; V8's own buckets keep their names. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const m = /\/(src\/[^/]+|activities|workflows|bench|scripts)\//.exec(url);
  if (m) return m[1];
  // The workflow bundle is evaluated from a generated file in the worker's thread.
  return url.includes('workflow-bundle') || url.includes('webpack') ? 'workflow bundle' : path.basename(url);
}

export interface Summary {
  file: string;
  seconds: number;
  busyMs: number;
  areas: [string, number][];
  functions: [string, number][];
}

export function summarise(file: string): Summary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const self = new Map<number, number>();
  // Sample time: each sample holds the time delta that follows it.
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (const n of p.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    busy += ms;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} ${url ? `${area}:${path.basename(url)}:${lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { file, seconds: (p.endTime - p.startTime) / 1e6, busyMs: busy, areas: sorted(areas), functions: sorted(fns) };
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
  const top = Number(values.top ?? 12);
  const root = positionals[0];
  if (!root || !fs.existsSync(root)) {
    process.stderr.write('usage: node --import tsx bench/campaign/profile.ts <folder of .cpuprofile files> [--top N]\n');
    process.exit(2);
  }
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.cpuprofile')) files.push(f);
    }
  };
  walk(root);
  for (const f of files.sort()) {
    const s = summarise(f);
    if (s.busyMs < 50) continue;
    const pct = (ms: number) => `${((ms / s.busyMs) * 100).toFixed(1)} %`;
    process.stdout.write(`\n## ${path.relative(root, f)}: ${(s.busyMs / 1000).toFixed(1)} s busy of ${s.seconds.toFixed(1)} s\n\n`);
    process.stdout.write('| area | busy | share |\n|---|---:|---:|\n');
    for (const [a, ms] of s.areas.slice(0, top)) process.stdout.write(`| ${a} | ${(ms / 1000).toFixed(2)} s | ${pct(ms)} |\n`);
    process.stdout.write('\n| function (self time) | busy | share |\n|---|---:|---:|\n');
    for (const [fn, ms] of s.functions.slice(0, top)) process.stdout.write(`| \`${fn}\` | ${(ms / 1000).toFixed(2)} s | ${pct(ms)} |\n`);
  }
}

if (require.main === module) main();

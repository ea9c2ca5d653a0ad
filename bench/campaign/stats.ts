// Small numeric helpers shared by the campaign benchmark.
import { performance } from 'node:perf_hooks';

export interface Dist {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function dist(values: number[]): Dist {
  if (values.length === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const v = [...values].sort((a, b) => a - b);
  const pct = (p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return {
    count: v.length,
    p50: r1(pct(0.5)),
    p99: r1(pct(0.99)),
    max: r1(v[v.length - 1]),
    mean: r1(v.reduce((a, b) => a + b, 0) / v.length),
  };
}

export const r1 = (n: number) => Math.round(n * 10) / 10;
export const r2 = (n: number) => Math.round(n * 100) / 100;

/** Runs one(i) for i in [0, n) with `concurrency` lanes; returns the wall time in seconds. */
export async function lanes(n: number, concurrency: number, one: (i: number, lane: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async (_, lane) => {
      while (next < n) await one(next++, lane);
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Like lanes, with the latency of each call and its throughput. */
export async function timedLoop(
  n: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<Dist & { perSec: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const seconds = await lanes(n, concurrency, async (i) => {
    const t = performance.now();
    try {
      await one(i);
      latencies.push(performance.now() - t);
    } catch {
      errors++;
    }
  });
  return { ...dist(latencies), perSec: r1(latencies.length / seconds), errors };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

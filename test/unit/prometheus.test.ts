// The compose stack's Prometheus setup against the code: it scrapes the ports the processes serve
// on, its alerts use only metrics that exist, and the README explains every metric.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { createReceiverMetrics } from '../../src/observability/metrics';
import { createWorkerMetrics } from '../../src/observability/workerMetrics';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

const ours = async () => {
  const names = new Set<string>();
  for (const m of [createReceiverMetrics({ processMetrics: false }), createWorkerMetrics({ processMetrics: false })]) {
    for (const metric of await m.registry.getMetricsAsJSON()) names.add(metric.name);
  }
  return names;
};

test('Prometheus scrapes the receivers on PORT and the workers on the WORKER_METRICS_PORT compose gives them', () => {
  const scrape = read('deploy/prometheus.yml');
  expect(scrape).toMatch(/job_name: receiver\s+dns_sd_configs:\s+- names: \[receiver\]\s+type: A\s+port: 3000/);
  const compose = read('docker-compose.yml');
  const port = /WORKER_METRICS_PORT: "(\d+)"/.exec(compose)?.[1];
  expect(port).toBe('9464');
  expect(scrape).toMatch(new RegExp(`job_name: worker\\s+dns_sd_configs:\\s+- names: \\[worker\\]\\s+type: A\\s+port: ${port}`));
  // Off unless set, and loopback unless the deployment says otherwise.
  const config = loadConfig({});
  expect(config.workerMetrics).toEqual({ port: 0, host: '127.0.0.1' });
  expect(compose).toContain('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  expect(compose).toContain('./deploy/alerts.yml:/etc/prometheus/alerts.yml:ro');
  expect(compose).toMatch(/WORKER_METRICS_HOST: 0\.0\.0\.0/);
});

test('the alerts use only metrics the code defines, and cover webhook 5xx, inbox age and stale calls', async () => {
  const names = await ours();
  const alerts = read('deploy/alerts.yml');
  const used = [...alerts.matchAll(/\bcalls_api_\w+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''));
  expect(used.length).toBeGreaterThan(4);
  expect(used.filter((n) => !names.has(n))).toEqual([]);
  for (const n of ['calls_api_webhooks_total', 'calls_api_inbox_oldest_age_seconds', 'calls_api_calls_stale']) expect(used).toContain(n);
});

test('the operations page explains every metric', async () => {
  const page = read('docs/operations.md');
  for (const name of await ours()) expect(page).toContain(`\`${name}\``);
});

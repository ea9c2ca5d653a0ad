// GET /metrics needs no key, so it is served at its exact path only (the proxy refuses that path
// in every spelling), and a scrape runs the database counts at most once per SCRAPE_DB_READ_EVERY_MS.
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../../../src/http/app';
import { silentLogger } from '../../../src/observability/log';
import { SCRAPE_DB_READ_EVERY_MS, createReceiverMetrics } from '../../../src/observability/metrics';

let server: Server;
let base: string;
beforeAll(async () => {
  const app = createApp({
    col: { inbox: {}, calls: {} } as unknown as AppDeps['col'],
    signaler: { deliver: async () => ({ workflowId: '' }), ping: async () => {} },
    dispatcher: { offer() {}, status: () => ({ temporalDown: null, inFlight: 0, queued: 0 }) } as unknown as AppDeps['dispatcher'],
    logger: silentLogger,
    pingDb: async () => {},
    bodyLimitBytes: 1024,
    temporalUiUrl: 'http://t',
    temporalNamespace: 'default',
  });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

test('only /metrics itself is served; /metrics/, /METRICS and //metrics are 404', async () => {
  expect((await fetch(`${base}/metrics`)).status).toBe(200);
  for (const p of ['/metrics/', '/METRICS', '/Metrics/', '//metrics']) expect([p, (await fetch(base + p)).status]).toEqual([p, 404]);
});

test("the proxy's rule refuses every spelling the router could take (nginx ~* is a case-insensitive PCRE)", () => {
  const source = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'docker-compose.yml'), 'utf8');
  const m = /location ~\* (\S+) \{\s*return 404;/.exec(source);
  expect(m).not.toBeNull();
  const rule = new RegExp(m![1].replace(/\$\$/g, '$'), 'i');
  for (const p of ['/metrics', '/metrics/', '/METRICS', '/Metrics/', '//metrics']) expect([p, rule.test(p)]).toEqual([p, true]);
  for (const p of ['/metricsx', '/api/metrics', '/healthz']) expect([p, rule.test(p)]).toEqual([p, false]);
});

test('scrapes in a burst run the database counts once, and again only after the interval', async () => {
  let t = 1_000_000;
  const m = createReceiverMetrics({ processMetrics: false, now: () => t });
  let reads = 0;
  m.sources.staleCalls = async () => ++reads;
  m.sources.inbox = async () => ({ depth: 0, oldestAgeSec: 0, deadLetters: 0 });
  for (let i = 0; i < 20; i++) await m.registry.metrics();
  expect(reads).toBe(1);
  t += SCRAPE_DB_READ_EVERY_MS - 1;
  await m.registry.metrics();
  expect(reads).toBe(1);
  t += 1;
  await m.registry.metrics();
  expect(reads).toBe(2);
  expect(SCRAPE_DB_READ_EVERY_MS).toBeGreaterThanOrEqual(5_000);
});

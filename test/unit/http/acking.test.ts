// The receiver's count of webhooks waiting for their answer (acks first): up while a webhook is
// being handled, down once it is answered or its client goes away; other routes do not count.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { markDurable, trackAcking } from '../../../src/http/acking';

let server: http.Server;
let base: string;
const release: Array<() => void> = [];
const responses: http.ServerResponse[] = [];

beforeAll(async () => {
  // Each request is answered only when the test says so.
  server = http.createServer((_req, res) => {
    responses.push(res);
    release.push(() => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const until = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(what()).toBe(true);
};

test('a webhook counts from its arrival until its answer; GETs and other paths never count', async () => {
  const acking = trackAcking(server);
  expect(acking()).toBe(false);
  const other = fetch(`${base}/api/calls`, { method: 'GET' });
  await until(() => release.length === 1);
  expect(acking()).toBe(false);
  release.shift()!();
  await other;
  const hook = fetch(`${base}/api/calls/webhook/retell`, { method: 'POST', body: '{}' });
  await until(() => release.length === 1);
  expect(acking()).toBe(true);
  release.shift()!();
  await (await hook).text();
  await until(() => !acking());
});

test('a webhook whose client goes away stops counting', async () => {
  const acking = trackAcking(server);
  const ctl = new AbortController();
  const hook = fetch(`${base}/api/calls/webhook`, { method: 'POST', body: '{}', signal: ctl.signal }).catch(() => 'aborted');
  await until(() => acking());
  ctl.abort();
  expect(await hook).toBe('aborted');
  await until(() => !acking());
  release.splice(0).forEach((f) => f());
});

test('a webhook whose events are durable stops counting while its answer still waits (INBOX_ACK_HOLD)', async () => {
  const acking = trackAcking(server);
  responses.length = 0;
  const hook = fetch(`${base}/api/calls/webhook`, { method: 'POST', body: '{}' });
  await until(() => acking());
  markDurable(responses[0]);
  expect(acking()).toBe(false);
  // Its answer, later, does not count it down a second time.
  const second = fetch(`${base}/api/calls/webhook`, { method: 'POST', body: '{}' });
  await until(() => responses.length === 2);
  expect(acking()).toBe(true);
  release.shift()!();
  await (await hook).text();
  expect(acking()).toBe(true);
  release.shift()!();
  await (await second).text();
  await until(() => !acking());
});

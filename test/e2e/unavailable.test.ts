// When Temporal cannot take an event, nothing is acknowledged: the platform gets a 5xx and retries.
// The receiver here talks to a real Temporal client pointed at a port where no server listens.
import { Client, Connection } from '@temporalio/client';
import { createSignaler } from '../../src/temporal/client';
import { freePort } from '../support/freePort';
import { testSettings } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
let deadClient: Client;
beforeAll(async () => {
  const port = await freePort();
  deadClient = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 }) });
  stack = await startStack('unavailable', { worker: false, signaler: () => createSignaler(deadClient, 'unused', testSettings()) });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await deadClient?.connection.close().catch(() => undefined);
});

test('a webhook that cannot reach Temporal is a 503 with a JSON body, and nothing is recorded', async () => {
  const started = Date.now();
  const r = await stack.post('/api/calls/webhook', { callId: 'c_down', event: 'call.completed', duration: 10, status: 'completed' });
  expect(r.status).toBe(503);
  expect(r.json).toEqual({ error: 'Service Unavailable', message: 'Failed to process webhook: the event could not be recorded durably, retry later' });
  expect(r.headers.get('retry-after')).toBe('5');
  // Answered before a platform such as Retell (10 s) gives up on its own.
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(await stack.store.col.calls.countDocuments({})).toBe(0);
}, 60_000);

test('readyz says which dependency is down', async () => {
  const r = await fetch(`${stack.baseUrl}/readyz`);
  expect(r.status).toBe(503);
  const body = (await r.json()) as { status: string; checks: Record<string, string> };
  expect(body.status).toBe('not ready');
  expect(body.checks.mongodb).toBe('ok');
  expect(body.checks.temporal).toMatch(/^unavailable/);
}, 60_000);

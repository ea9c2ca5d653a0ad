// Secrets never appear in logs: the real receiver and worker processes (src/bin/server.ts,
// src/bin/worker.ts) at LOG_LEVEL=debug, with an encrypted signing secret and dialer key, take signed,
// badly signed and unsigned webhooks and place a follow-up call; every line they print is then
// searched for the signing secret, the dialer key, the API key and the encryption key.
import { type ChildProcess, spawn } from 'node:child_process';
import { addApiKey, createOrganization, setProviderSecret } from '../../src/store/organizations';
import { createHmac } from 'node:crypto';
import type { Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { useSecretsKey } from '../../src/store/secrets';
import { openAllDay } from '../support/callingWindow';
import { startFakeOutbound, type FakeOutbound } from '../support/fakes/outbound';
import { freePort } from '../../scripts/stack';
import { eventually, requireEnv, testStore, uniqueId } from '../support/harness';

const SECRETS_KEY = '3c'.repeat(32);
const SIGNING_SECRET = 'signing-secret-never-logged-9f8e7d';
const DIALER_KEY = 'dialer-key-never-logged-1a2b3c';

let store: Store;
let fake: FakeOutbound;
const procs: ChildProcess[] = [];
let output = '';

beforeAll(async () => {
  store = await testStore('secret_logs');
  fake = await startFakeOutbound();
}, 60_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  useSecretsKey(undefined);
  await fake?.close();
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
}, 60_000);

function start(entry: string, env: Record<string, string>): ChildProcess {
  const p = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (d) => (output += d));
  p.stderr.on('data', (d) => (output += d));
  procs.push(p);
  return p;
}

test('no secret reaches the receiver\u2019s or the worker\u2019s output', async () => {
  useSecretsKey(Buffer.from(SECRETS_KEY, 'hex'));
  const orgId = await createOrganization(store.col, 'Secret logs');
  await openAllDay(store.col, orgId);
  const { key: apiKey } = await addApiKey(store.col, orgId);
  await setProviderSecret(store.col, orgId, 'generic', { secret: SIGNING_SECRET });
  await setOutboundDialer(store.col, { orgId, provider: 'bland', baseUrl: fake.baseUrl, apiKey: DIALER_KEY, fromNumber: '+14155550100' });
  expect(JSON.stringify(await store.col.outboundDialers.findOne({ _id: orgId }))).not.toContain(DIALER_KEY);

  const port = await freePort();
  const env = {
    MONGODB_URI: requireEnv('MONGODB_URI'),
    MONGODB_DB: store.db.databaseName,
    TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
    TEMPORAL_TASK_QUEUE: uniqueId('tq_secret_logs'),
    SECRETS_KEY,
    LOG_LEVEL: 'debug',
    PORT: String(port),
    HOST: '127.0.0.1',
    FOLLOW_UP_DELAY: '1s',
    RECORDING_WAIT: '1s',
    WORKER_METRICS_PORT: '0',
  };
  start('src/bin/worker.ts', env);
  start('src/bin/server.ts', env);
  const base = `http://127.0.0.1:${port}`;
  await eventually('the receiver', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok, 60_000);

  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/api/calls/webhook/generic`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...headers },
    });
  const sign = (body: string) => createHmac('sha256', SIGNING_SECRET).update(body).digest('hex');

  const callId = uniqueId('nolog');
  const noAnswer = JSON.stringify({
    callId,
    event: 'call.completed',
    status: 'no-answer',
    from: '+14155550100',
    to: '+14155550166',
    metadata: { contactId: `contact_${callId}` },
  });
  expect((await post(noAnswer, { 'x-webhook-signature': sign(noAnswer) })).status).toBe(200);
  expect((await post(noAnswer, { 'x-webhook-signature': 'deadbeef' })).status).toBe(401);
  expect((await post(noAnswer, {})).status).toBe(401);
  expect((await fetch(`${base}/api/calls/${callId}?api_key=${apiKey}`)).status).toBe(401);

  // The worker decrypts the dialer key and places the follow-up: the fake saw the real key.
  await eventually('the follow-up call', async () => fake.requests.length > 0, 90_000);
  expect(JSON.stringify(fake.requests[0].headers)).toContain(DIALER_KEY);

  await new Promise((r) => setTimeout(r, 500));
  expect(output).toContain('webhook accepted');
  for (const secret of [SIGNING_SECRET, DIALER_KEY, apiKey, apiKey.split('_').slice(2).join('_'), SECRETS_KEY])
    expect(output).not.toContain(secret);
}, 180_000);

// The dashboard's session cookie on the real app and database, where the browser test cannot
// reach: `Secure` behind a proxy that says https (TRUST_PROXY), not over plain http, and never
// trusting X-Forwarded-Proto without TRUST_PROXY; a cookie from another SECRETS_KEY is no session.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { useSecretsKey } from '../../src/store/secrets';
import { testStore } from '../support/harness';
import { stubbedApp } from '../support/app';

let store: Store;
let key: string;
const servers: Server[] = [];

async function receiver(trustProxy: boolean, now?: () => number): Promise<string> {
  const app = stubbedApp(store.col, { bodyLimitBytes: 1024, temporalUiUrl: 'http://t', trustProxy, now });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const signIn = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/dashboard/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    body: JSON.stringify({ key }),
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', ...headers },
  });

beforeAll(async () => {
  store = await testStore('dashboard_session');
  const orgId = await createOrganization(store.col, 'Dashboard session');
  key = (await addApiKey(store.col, orgId, { scope: 'read' })).key;
});

afterAll(async () => {
  useSecretsKey(undefined);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await store.db.dropDatabase();
  await store.close();
});

test('the cookie is Secure behind a proxy that forwards https, and only then', async () => {
  const proxied = await receiver(true);
  const secure = await signIn(proxied, { 'x-forwarded-proto': 'https' });
  expect(secure.status).toBe(200);
  expect(secure.headers.get('set-cookie')).toMatch(/^calls_session=[\w-]+; path=\/; expires=.*; samesite=strict; secure; httponly$/);
  const plain = await signIn(proxied);
  expect(plain.headers.get('set-cookie')).not.toMatch(/secure/);
  // Without TRUST_PROXY the header is anyone's to send: no Secure from it (the request is http).
  const direct = await receiver(false);
  const spoofed = await signIn(direct, { 'x-forwarded-proto': 'https' });
  expect(spoofed.status).toBe(200);
  expect(spoofed.headers.get('set-cookie')).not.toMatch(/secure/);
});

test('receivers with the same SECRETS_KEY share sessions; a receiver with another key refuses them', async () => {
  useSecretsKey(randomBytes(32));
  const [a, b] = [await receiver(false), await receiver(false)];
  const cookie = (await signIn(a)).headers.get('set-cookie')!.split(';')[0];
  const at = async (base: string) => (await fetch(`${base}/api/calls`, { headers: { cookie } })).status;
  expect(await at(a)).toBe(200);
  expect(await at(b)).toBe(200);
  useSecretsKey(randomBytes(32));
  expect(await at(await receiver(false))).toBe(401);
});

test('sign-in attempts from one address are rate limited with a JSON 429 and Retry-After', async () => {
  // A stopped clock: the bucket (burst 50) does not refill however slowly the machine answers.
  const frozen = Date.now();
  const base = await receiver(false, () => frozen);
  const answers = await Promise.all(
    Array.from({ length: 60 }, () =>
      fetch(`${base}/dashboard/sign-in`, {
        method: 'POST',
        body: JSON.stringify({ key: 'ck_nobody000_notarealkeynotarealkey' }),
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      }),
    ),
  );
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 401).length).toBe(50);
  expect(statuses.filter((s) => s === 429).length).toBe(10);
  const limited = answers.find((r) => r.status === 429)!;
  expect(limited).toBeDefined();
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await limited.json()).toEqual({
    error: 'Too Many Requests',
    message: expect.stringMatching(/^Too many sign-in attempts from this address/),
  });
});

test('behind the proxy the sign-in limit counts the address the proxy saw, whatever the client puts left of it', async () => {
  const frozen = Date.now();
  const base = await receiver(true, () => frozen);
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      fetch(`${base}/dashboard/sign-in`, {
        method: 'POST',
        body: JSON.stringify({ key: 'ck_nobody000_notarealkeynotarealkey' }),
        // The client's own X-Forwarded-For (a new address each time), then the one the proxy appended.
        headers: {
          'content-type': 'application/json',
          'sec-fetch-site': 'same-origin',
          'x-forwarded-for': `10.1.${i}.7, 203.0.113.9`,
        },
      }),
    ),
  );
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 401).length).toBe(50);
  expect(statuses.filter((s) => s === 429).length).toBe(10);
});

test('requests with an invalid API key are limited per client address (5/s, burst 20); other addresses are not', async () => {
  const frozen = Date.now();
  const base = await receiver(true, () => frozen);
  const attempt = (from: string, k = 'ck_nobody000_notarealkeynotarealkey') =>
    fetch(`${base}/api/calls`, {
      headers: { 'x-api-key': k, 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 200)}, ${from}` },
    });
  const answers = await Promise.all(Array.from({ length: 30 }, () => attempt('203.0.113.20')));
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 401).length).toBe(20);
  expect(statuses.filter((s) => s === 429).length).toBe(10);
  const limited = answers.find((r) => r.status === 429)!;
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await limited.json()).toEqual({
    error: 'Too Many Requests',
    message: expect.stringMatching(/^Too many requests with an invalid API key from this address/),
  });
  expect((await attempt('203.0.113.21')).status).toBe(401);
  // While its bucket is empty the address waits, even with a valid key: the check comes before the key's lookup.
  expect((await attempt('203.0.113.20', key)).status).toBe(429);
  expect((await attempt('203.0.113.22', key)).status).toBe(200);
});

test('sign-out revokes the session: a copy of the cookie stops working on every receiver', async () => {
  useSecretsKey(randomBytes(32));
  const [a, b] = [await receiver(false), await receiver(false)];
  const cookie = (await signIn(a)).headers.get('set-cookie')!.split(';')[0];
  const at = async (base: string) => (await fetch(`${base}/api/calls`, { headers: { cookie } })).status;
  expect(await at(b)).toBe(200);
  const session = (await (await fetch(`${a}/dashboard/session`, { headers: { cookie } })).json()) as { csrfToken: string };
  const out = await fetch(`${a}/dashboard/sign-out`, {
    method: 'POST',
    headers: { cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': session.csrfToken },
  });
  expect(out.status).toBe(200);
  expect(await at(a)).toBe(401);
  expect(await at(b)).toBe(401);
  expect((await fetch(`${a}/dashboard/session`, { headers: { cookie } })).status).toBe(401);
});

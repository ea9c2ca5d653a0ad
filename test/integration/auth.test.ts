// The auth middleware on the real database: key scopes, where a key may travel, and 429s.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { authenticate, type AuthState } from '../../src/http/auth';
import { HttpError } from '../../src/http/errors';
import { testStore } from '../support/harness';

let store: Store;
let server: Server;
let base: string;
let keys: Record<'admin' | 'read' | 'webhook' | 'legacy', string>;

beforeAll(async () => {
  store = await testStore('auth');
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.body = { error: err.error, message: err.message };
    }
  });
  const api = new Router({ prefix: '/api' });
  // Tight limits on control routes only, so the 429 shows without a flood.
  api.use(
    authenticate(store.col, {
      webhook: { perSecond: 2_000, burst: 4_000 },
      read: { perSecond: 100, burst: 200 },
      control: { perSecond: 1, burst: 3 },
    }),
  );
  const ok = (ctx: Koa.Context) => {
    ctx.body = { orgId: (ctx.state as AuthState).orgId, scope: (ctx.state as AuthState).scope };
  };
  api.post('/calls/webhook', ok);
  api.post('/calls/webhook/:provider', ok);
  api.get('/calls/:id', ok);
  api.post('/calls/:id/retry', ok);
  app.use(api.routes());
  server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const orgId = await createOrganization(store.col, 'Auth');
  keys = {
    admin: (await addApiKey(store.col, orgId, { scope: 'admin' })).key,
    read: (await addApiKey(store.col, orgId, { scope: 'read' })).key,
    webhook: (await addApiKey(store.col, orgId, { scope: 'webhook' })).key,
    legacy: (await addApiKey(store.col, orgId)).key,
  };
  // A key stored before scopes existed has no scope field at all.
  await store.col.apiKeys.updateOne({ _id: keys.legacy.split('_')[1] }, { $unset: { scope: '' } });
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const call = async (method: string, path: string, key?: string, where: 'header' | 'query' = 'header') => {
  const url = base + path + (key && where === 'query' ? `${path.includes('?') ? '&' : '?'}api_key=${key}` : '');
  const res = await fetch(url, { method, headers: key && where === 'header' ? { 'x-api-key': key } : {} });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any, retryAfter: res.headers.get('retry-after') };
};

test('a webhook key may only post webhooks', async () => {
  expect((await call('POST', '/api/calls/webhook', keys.webhook)).status).toBe(200);
  expect((await call('POST', '/api/calls/webhook/twilio', keys.webhook, 'query')).status).toBe(200);
  const read = await call('GET', '/api/calls/c1', keys.webhook);
  expect(read.status).toBe(403);
  expect(read.json).toEqual({
    error: 'Forbidden',
    message: "This API key's scope (webhook) does not allow read routes; it may only post to /api/calls/webhook",
  });
  expect((await call('POST', '/api/calls/c1/retry', keys.webhook)).status).toBe(403);
});

test('a read key reads and nothing else; admin and legacy keys do everything', async () => {
  expect((await call('GET', '/api/calls/c1', keys.read)).json).toEqual({ orgId: expect.any(String), scope: 'read' });
  expect((await call('POST', '/api/calls/webhook', keys.read)).status).toBe(403);
  expect((await call('POST', '/api/calls/c1/retry', keys.read)).status).toBe(403);
  for (const k of [keys.admin, keys.legacy]) {
    expect((await call('GET', '/api/calls/c1', k)).json.scope).toBe('admin');
    expect((await call('POST', '/api/calls/webhook', k)).status).toBe(200);
  }
});

test('?api_key= is refused outside the webhook routes, even for an admin key', async () => {
  const r = await call('GET', '/api/calls/c1', keys.admin, 'query');
  expect(r.status).toBe(401);
  expect(r.json.message).toBe('API keys in the URL (?api_key=) are accepted only on webhook routes; send the X-API-Key header');
});

test('past the burst, a key gets 429 with Retry-After; another key is unaffected', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await call('POST', '/api/calls/c1/retry', keys.admin)).status);
  expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
  const limited = await call('POST', '/api/calls/c1/retry', keys.admin);
  expect(limited.status).toBe(429);
  expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(limited.json.error).toBe('Too Many Requests');
  expect((await call('POST', '/api/calls/c1/retry', keys.legacy)).status).toBe(200);
});

// A do-not-call import of 10,000 numbers on the real database: the pending follow-ups of listed
// numbers are canceled, found with one read of the organization's pending calls (it was one read
// per number: 10,000 scans).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type AppDeps } from '../../src/http/app';
import { silentLogger } from '../../src/observability/log';
import type { Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import type { CallControl } from '../../src/temporal/control';
import { testStore } from '../support/harness';

let store: Store;
let server: Server;
let base: string;
let key: string;
let orgId: string;
let callsReads = 0;
const canceled: { workflowId: string; reason?: string }[] = [];

beforeAll(async () => {
  store = await testStore('dnc_import');
  orgId = await createOrganization(store.col, 'DNC import');
  key = (await addApiKey(store.col, orgId, { scope: 'admin' })).key;
  // Counts the reads of the calls collection the route makes.
  const calls = new Proxy(store.col.calls, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'find' || prop === 'findOne' || prop === 'countDocuments' || prop === 'aggregate') {
        return (...args: unknown[]) => {
          callsReads++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const control: CallControl = {
    control: async (workflowId, input) => {
      canceled.push({ workflowId, reason: 'reason' in input ? input.reason : undefined });
      return { kind: 'done', result: {} } as unknown as Awaited<ReturnType<CallControl['control']>>;
    },
  };
  const app = createApp({
    col: { ...store.col, calls },
    signaler: { deliver: async () => ({ workflowId: '' }), ping: async () => {} },
    dispatcher: { offer() {}, status: () => ({ temporalDown: null, inFlight: 0, queued: 0 }) } as unknown as AppDeps['dispatcher'],
    logger: silentLogger,
    pingDb: async () => {},
    bodyLimitBytes: 10 * 1024 * 1024,
    temporalUiUrl: 'http://t',
    temporalNamespace: 'default',
    control,
  });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const phone = (i: number) => `+1415${String(3_000_000 + i).padStart(7, '0')}`;

test('10,000 numbers in one request: one read of the pending calls, each matching workflow canceled once with its reason', async () => {
  const now = new Date();
  const call = (id: string, to: string, next: Date | null) => ({
    _id: `${orgId}:${id}`,
    orgId,
    callId: id,
    provider: 'generic',
    status: 'failed',
    recordingReady: false,
    eventCount: 1,
    timeline: [],
    owners: {},
    workflowId: `wf_${id}`,
    to,
    createdAt: now,
    updatedAt: now,
    nextFollowUpAt: next,
  });
  await store.col.calls.insertMany([
    call('a', phone(17), new Date(now.getTime() + 3_600_000)),
    call('b', phone(9_999), new Date(now.getTime() + 3_600_000)),
    call('c', phone(17), null), // nothing pending
    call('d', '+14155550000', new Date(now.getTime() + 3_600_000)), // not on the list
  ] as never);
  const numbers = Array.from({ length: 10_000 }, (_, i) => ({ phone: phone(i), reason: i === 17 ? 'asked on 2026-12-01' : undefined }));
  callsReads = 0;
  const res = await fetch(`${base}/api/do-not-call`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ numbers }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { added: number; received: number; canceledFollowUps: string[] };
  expect(body).toMatchObject({ added: 10_000, received: 10_000 });
  expect(body.canceledFollowUps.sort()).toEqual(['wf_a', 'wf_b']);
  expect(callsReads).toBe(1);
  expect(canceled.sort((x, y) => x.workflowId.localeCompare(y.workflowId))).toEqual([
    { workflowId: 'wf_a', reason: 'the contact is on the do-not-call list (list: asked on 2026-12-01)' },
    { workflowId: 'wf_b', reason: 'the contact is on the do-not-call list (list: on the do-not-call list)' },
  ]);
  expect(await store.col.doNotCall.countDocuments({ orgId, kind: 'phone' })).toBe(10_000);
}, 120_000);

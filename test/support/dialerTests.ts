// What the workflow tests of the calling rules and the contact caps start from: the time-skipping
// Temporal server, a database of their own, a fake platform that takes outbound calls, and one
// organization whose outbound dialer is that platform (Retell's API shape).
// withDialerWorker runs their workers (and the calling-law test's, which has its own organizations).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import type { OrganizationDoc, Store } from '../../src/store/db';
import { setOutboundDialer } from '../../src/store/followUps';
import { startFakeOutbound, type FakeOutbound } from './fakes/outbound';
import { startTimeSkipping } from './fakes/timeSkipping';
import { testStore, workflowBundle } from './harness';

export interface DialerTests {
  env: TestWorkflowEnvironment;
  store: Store;
  fake: FakeOutbound;
}

/** `org` is stored as given (its compliance settings, or none for the defaults); the dialer calls from `fromNumber` as `agentId`. */
export async function startDialerTests(
  label: string,
  org: Omit<OrganizationDoc, 'createdAt'>,
  dialer: { fromNumber: string; agentId: string },
): Promise<DialerTests> {
  const [env, store, fake] = await Promise.all([startTimeSkipping(), testStore(label), startFakeOutbound()]);
  await store.col.organizations.insertOne({ ...org, createdAt: new Date() });
  await setOutboundDialer(store.col, { orgId: org._id, provider: 'retell', baseUrl: fake.baseUrl, apiKey: 'rk', ...dialer });
  return { env, store, fake };
}

export async function stopDialerTests(t: Partial<DialerTests>): Promise<void> {
  await t.store?.db.dropDatabase().catch(() => undefined);
  await t.store?.close();
  await t.fake?.close();
  await t.env?.teardown();
}

/** Runs `fn` with a worker on `taskQueue` whose activities are the real ones (a dial gives up after two seconds), with `over` in their place. */
export async function withDialerWorker<T>(
  t: Pick<DialerTests, 'env' | 'store'>,
  taskQueue: string,
  fn: () => Promise<T>,
  over: Partial<Activities> = {},
): Promise<T> {
  const activities = { ...createActivities({ col: t.store.col, dialTimeoutMs: 2_000 }), ...over };
  const worker = await Worker.create({ connection: t.env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  return worker.runUntil(fn);
}

// The set-up shared by workflow tests that send email: a database of their own on the real
// MongoDB-protocol server, a fake SMTP server, and a client and a worker connection on the run's Temporal.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Store } from '../../src/store/db';
import { requireEnv, testStore } from './harness';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp';

export interface LiveWorkflowTests {
  store: Store;
  smtp: FakeSmtp;
  client: Client;
  native: NativeConnection;
}

export async function startLiveWorkflowTests(label: string): Promise<LiveWorkflowTests> {
  const [store, smtp] = await Promise.all([testStore(label), startFakeSmtp()]);
  const client = new Client({ connection: await Connection.connect({ address: requireEnv('TEMPORAL_ADDRESS') }) });
  const native = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  return { store, smtp, client, native };
}

/** Closes what started, whatever did; the test's database is dropped. */
export async function stopLiveWorkflowTests(t: Partial<LiveWorkflowTests>): Promise<void> {
  await t.native?.close();
  await t.client?.connection.close();
  await t.smtp?.close();
  await t.store?.db.dropDatabase().catch(() => undefined);
  await t.store?.close();
}

// The whole service in one test process, on the real servers that globalSetup started: the Koa
// receiver on a random port, a worker on its own task queue, and a database of its own.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities, type ActivityDeps } from '../../activities';
import type { WorkflowSettings } from '../../src/config';
import { createApp } from '../../src/http/app';
import { type Logger, silentLogger } from '../../src/observability/log';
import type { Store } from '../../src/store/db';
import { addApiKey, createOrganization } from '../../src/store/organizations';
import { connectTemporal, createSignaler, type CallSignaler } from '../../src/temporal/client';
import { createCallControl } from '../../src/temporal/control';
import { Dispatcher } from '../../src/temporal/dispatcher';
import { countedSignaler, createReceiverMetrics, type ReceiverMetrics } from '../../src/observability/metrics';
import { activityMetrics, createWorkerMetrics, type WorkerMetrics } from '../../src/observability/workerMetrics';
import { requireEnv, testSettings, testStore, uniqueId, workflowBundle } from './harness';
import { NativeConnection } from '@temporalio/worker';

export interface Stack {
  baseUrl: string;
  apiKey: string;
  dispatcher: Dispatcher;
  orgId: string;
  store: Store;
  client: Client;
  taskQueue: string;
  /** The receiver's and the worker's Prometheus registries, as production builds them. */
  metrics: ReceiverMetrics;
  workerMetrics: WorkerMetrics;
  /** POSTs to a path with the API key; `body` objects are sent as JSON, strings/Buffers as they are. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
  /** A second organization with its own key, to prove scoping. */
  newOrg(name: string): Promise<{ orgId: string; apiKey: string }>;
  stop(): Promise<void>;
}

export interface StackOptions {
  settings?: Partial<WorkflowSettings>;
  bodyLimitBytes?: number;
  /** Replace the signaler, e.g. with one pointed at a Temporal that is down. */
  signaler?: (real: CallSignaler) => CallSignaler;
  /** Extra activity dependencies (mailer, dialer...) */
  deps?: Partial<ActivityDeps>;
  publicBaseUrl?: string;
  now?: () => number;
  /** false: no worker, so events wait in Temporal (the benchmark measures the receiver alone). */
  worker?: boolean;
  /** false: no relay loop, so what the immediate hand-off did not deliver stays in the inbox. */
  relay?: boolean;
  /** The receiver's and dispatcher's logger (silent by default); tests that read log lines pass one. */
  logger?: Logger;
}

export async function startStack(label: string, opts: StackOptions = {}): Promise<Stack> {
  const store = await testStore(label);
  const client = await connectTemporal({ address: requireEnv('TEMPORAL_ADDRESS'), namespace: 'default' });
  const taskQueue = uniqueId(`tq_${label}`);
  const realSignaler = createSignaler(client, taskQueue, testSettings(opts.settings));
  const metrics = createReceiverMetrics({ processMetrics: false });
  const workerMetrics = createWorkerMetrics({ processMetrics: false });
  const signaler = countedSignaler(opts.signaler ? opts.signaler(realSignaler) : realSignaler, metrics);

  const connection = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  const worker =
    opts.worker === false
      ? undefined
      : await Worker.create({
          connection,
          taskQueue,
          workflowBundle: await workflowBundle(),
          activities: createActivities({ col: store.col, ...opts.deps }),
          interceptors: { activity: [activityMetrics(workerMetrics)] },
        });
  const running = worker?.run() ?? Promise.resolve();

  // The receiver's defaults (src/config.ts): 32 deliveries in flight, a relay pass every second.
  const dispatcher = new Dispatcher({
    inbox: store.col.inbox,
    eventLog: store.col.eventLog,
    claims: store.col.inboxClaims,
    signaler,
    logger: opts.logger ?? silentLogger,
    concurrency: 32,
    relayIntervalMs: 1_000,
  });
  if (opts.relay !== false) dispatcher.start();
  const app = createApp({
    col: store.col,
    signaler,
    dispatcher,
    control: createCallControl(client),
    logger: opts.logger ?? silentLogger,
    pingDb: async () => {
      await store.db.command({ ping: 1 });
    },
    bodyLimitBytes: opts.bodyLimitBytes ?? 10 * 1024 * 1024,
    publicBaseUrl: opts.publicBaseUrl,
    temporalUiUrl: 'http://localhost:8233',
    temporalNamespace: 'default',
    now: opts.now,
    metrics,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const orgId = await createOrganization(store.col, `Test ${label}`);
  const { key: apiKey } = await addApiKey(store.col, orgId);

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    const res = await fetch(baseUrl + path, {
      method,
      headers: { 'x-api-key': apiKey, ...(body !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isRaw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { nonJsonBody: text };
    }
    return { status: res.status, json, headers: res.headers };
  };

  return {
    baseUrl,
    apiKey,
    dispatcher,
    orgId,
    store,
    client,
    taskQueue,
    metrics,
    workerMetrics,
    post: (path, body, headers) => request('POST', path, body, headers),
    get: (path, headers) => request('GET', path, undefined, headers),
    async newOrg(name) {
      const id = await createOrganization(store.col, name);
      const { key } = await addApiKey(store.col, id);
      return { orgId: id, apiKey: key };
    },
    async stop() {
      await new Promise((r) => server.close(r));
      await dispatcher.stop();
      worker?.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await client.connection.close();
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}

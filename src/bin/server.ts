// Entry point of the webhook receiver: config → MongoDB + Temporal client → inbox dispatcher and
// relay → Koa app → listen.
import { ConfigError, loadConfig } from '../config';
import { loadSecretsKey, useSecretsKey } from '../store/secrets';
import { createApp } from '../http/app';
import { trackAcking } from '../http/acking';
import { createLogger } from '../observability/log';
import { connectStore } from '../store/db';
import { startEventLogSweep } from '../store/eventLog';
import { connectTemporalLazily, createSignaler } from '../temporal/client';
import { createCallControl } from '../temporal/control';
import { Dispatcher } from '../temporal/dispatcher';
import { countedSignaler, createReceiverMetrics } from '../observability/metrics';

/** A database that cannot be reached fails a request within this, so a webhook hears 503 in time. */
const DB_SELECTION_TIMEOUT_MS = 3_000;

async function main() {
  const config = loadConfig();
  useSecretsKey(loadSecretsKey(config.secrets));
  const logger = createLogger(config.logLevel, { service: 'receiver' });
  const store = await connectStore(config.mongo.uri, config.mongo.db, { serverSelectionTimeoutMS: DB_SELECTION_TIMEOUT_MS });
  // Lazy: the receiver starts and acknowledges webhooks while Temporal is down; the relay catches up.
  const client = connectTemporalLazily(config.temporal);
  const metrics = createReceiverMetrics();
  const signaler = countedSignaler(createSignaler(client, config.temporal.taskQueue, config.workflow), metrics);
  /** Set once the server exists: webhooks received and not yet answered make the hand-off step back. */
  let acking = () => false;
  const dispatcher = new Dispatcher({
    inbox: store.col.inbox,
    eventLog: store.col.eventLog,
    claims: store.col.inboxClaims,
    signaler,
    logger,
    concurrency: config.inbox.dispatchConcurrency,
    relayIntervalMs: config.inbox.relayIntervalMs,
    acking: () => acking(),
    concurrencyWhileAcking: config.inbox.dispatchWhileAcking,
  });
  dispatcher.start();
  // The local database has no TTL index: past the retention, delivered events go by a sweep.
  const sweep = startEventLogSweep(store.col, config.inbox.retentionMs, logger);
  const app = createApp({
    col: store.col,
    signaler,
    dispatcher,
    control: createCallControl(client),
    logger,
    pingDb: async () => {
      await store.db.command({ ping: 1 });
    },
    bodyLimitBytes: config.http.bodyLimitBytes,
    ackHoldMs: config.inbox.ackHoldMs,
    bodyBytesInFlight: config.http.bodyBytesInFlight,
    publicBaseUrl: config.http.publicBaseUrl,
    trustProxy: config.http.trustProxy,
    rateLimits: config.http.rateLimits,
    temporalUiUrl: config.temporal.uiUrl,
    temporalNamespace: config.temporal.namespace,
    metrics,
  });
  const server = app.listen(config.http.port, config.http.host, () => {
    logger.info('receiver listening', { url: `http://${config.http.host}:${config.http.port}` });
  });
  acking = trackAcking(server);
  // Large bodies on slow links: allow more than Node's default before timing out a request.
  server.requestTimeout = 120_000;

  const stop = async (signal: string) => {
    logger.info('shutting down', { signal });
    server.close();
    clearInterval(sweep);
    // Deliveries in flight finish (each bounded by its deadline); what is left waits in the inbox.
    await dispatcher.stop();
    await Promise.allSettled([store.close(), client.connection.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `receiver failed to start: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});

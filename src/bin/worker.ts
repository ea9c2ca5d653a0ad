// Entry point of the Temporal worker: runs the call workflows and their activities.
import { ConfigError, loadConfig } from '../config';
import { loadSecretsKey, useSecretsKey } from '../store/secrets';
import { createLogger } from '../observability/log';
import { connectStore } from '../store/db';
import { createWorker } from '../temporal/worker';
import { createSmtpMailer } from '../../activities/email';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { getHeapStatistics } from 'node:v8';
import { getPriority, setPriority } from 'node:os';
import { serveMetrics } from '../observability/metricsServer';
import { activityMetrics, createWorkerMetrics } from '../observability/workerMetrics';
import { startRollupLoop } from '../store/rollupLoop';

/** Pause between analytics rollup passes: the figures lag changes by about this much. */
const ROLLUP_INTERVAL_MS = 1_000;

/** The worker yields the CPU to the receiver, Temporal and the database while they are busy; on a machine of its own this changes nothing. */
function lowerPriority(nice: number, logger: ReturnType<typeof createLogger>): void {
  if (nice === 0) return;
  try {
    setPriority(Math.max(getPriority(), nice));
  } catch (err) {
    logger.warn('could not lower the worker CPU priority (WORKER_NICE); running at the normal one', { err });
  }
}

async function main() {
  const config = loadConfig();
  useSecretsKey(loadSecretsKey(config.secrets));
  const logger = createLogger(config.logLevel, { service: 'worker' });
  // Before the SDK starts its threads, which inherit it (on Linux a nice value is per thread).
  lowerPriority(config.worker.nice, logger);
  // The SDK logs the whole workflow bundle build at INFO; our own logs say what matters.
  Runtime.install({
    logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN'),
    // The core's own counters (sticky cache hits and misses, task latencies), for tuning the cache.
    ...(config.worker.coreMetricsPort > 0 && {
      telemetryOptions: { metrics: { prometheus: { bindAddress: `${config.workerMetrics.host}:${config.worker.coreMetricsPort}` } } },
    }),
  });
  // Short server selection, like the receiver: an activity that cannot reach the database fails
  // fast and is retried, rather than holding its workflow task.
  const store = await connectStore(config.mongo.uri, config.mongo.db, { serverSelectionTimeoutMS: 3_000 });
  const metrics = createWorkerMetrics();
  const metricsServer =
    config.workerMetrics.port > 0
      ? await serveMetrics(metrics.registry, config.workerMetrics.port, config.workerMetrics.host, logger)
      : null;
  const { worker, connection, maxCachedWorkflows } = await createWorker({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: {
      col: store.col,
      mailer: createSmtpMailer(config.smtp),
      smtpFrom: config.smtp.from,
      dialTimeoutMs: config.dialer.timeoutMs,
    },
    activityInterceptors: [activityMetrics(metrics)],
    tuning: config.worker,
  });
  logger.info('worker running', {
    ...config.worker,
    maxCachedWorkflows,
    heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    taskQueue: config.temporal.taskQueue,
    temporal: config.temporal.address,
    smtp: `${config.smtp.host}:${config.smtp.port}`,
  });
  // Analytics rollups live beside the activities that mark calls dirty: the receiver stays light,
  // and with several workers the lease keeps one loop at work.
  const rollups = startRollupLoop(store.col, {
    intervalMs: ROLLUP_INTERVAL_MS,
    log: (msg, fields) => logger.info(msg, fields),
    onError: (err) => logger.warn('analytics rollup pass failed; retrying', { err: err instanceof Error ? err.message : String(err) }),
  });
  // Worker.run resolves after SIGINT/SIGTERM, once in-flight tasks are done.
  await worker.run();
  await rollups.stop();
  metricsServer?.close();
  await Promise.allSettled([connection.close(), store.close()]);
  logger.info('worker stopped');
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `worker failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});

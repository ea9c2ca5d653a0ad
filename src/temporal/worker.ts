// Worker bootstrap: the call workflows and the activities built from their dependencies.
import { NativeConnection, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { getHeapStatistics } from 'node:v8';
import { type WorkerTuning, defaultMaxCachedWorkflows } from '../config';

/** Where the workflow code lives; the worker bundles it (tests bundle it once and reuse it). */
export const workflowsPath = require.resolve('../../workflows');

export async function createWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Activity interceptors, e.g. the metrics of src/observability/metrics.ts. */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Cache and concurrency (config.worker); absent: the default cache and the SDK's other defaults. */
  tuning?: WorkerTuning;
}): Promise<{ worker: Worker; connection: NativeConnection; maxCachedWorkflows: number }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const t = opts.tuning;
  const cache = t?.maxCachedWorkflows ?? defaultMaxCachedWorkflows(getHeapStatistics().heap_size_limit / 2 ** 20);
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath,
    activities: createActivities(opts.deps),
    interceptors: { activity: opts.activityInterceptors ?? [] },
    // The default cache too when no tuning is given: tests run with what a user's worker gets.
    maxCachedWorkflows: cache,
    ...(t && {
      // The SDK refuses more tasks at once than cached workflows (a cache of 0 has no such bound).
      maxConcurrentWorkflowTaskExecutions: cache === 0 ? t.maxConcurrentWorkflowTasks : Math.min(t.maxConcurrentWorkflowTasks, cache),
      maxConcurrentActivityTaskExecutions: t.maxConcurrentActivities,
      maxConcurrentLocalActivityExecutions: t.maxConcurrentActivities,
      stickyQueueScheduleToStartTimeout: t.stickyTimeoutMs,
    }),
  });
  return { worker, connection, maxCachedWorkflows: cache };
}

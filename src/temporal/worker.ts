// Worker bootstrap: the call workflows and the activities built from their dependencies.
import { NativeConnection, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';

/** Where the workflow code lives; the worker bundles it (tests bundle it once and reuse it). */
export const workflowsPath = require.resolve('../../workflows');

export async function createWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Activity interceptors, e.g. the metrics of src/metrics.ts. */
  activityInterceptors?: ActivityInterceptorsFactory[];
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath,
    activities: createActivities(opts.deps),
    interceptors: { activity: opts.activityInterceptors ?? [] },
  });
  return { worker, connection };
}

// Worker bootstrap shared by the worker process and the tests.
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';

export const workflowsPath = require.resolve('../../workflows');

export async function createWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Replace activities, e.g. to wrap them with a fault in a test. */
  activities?: Record<string, (...args: never[]) => Promise<unknown>>;
  connection?: NativeConnection;
  /** A prebuilt workflow bundle (tests build it once instead of once per worker). */
  workflowBundle?: WorkflowBundle;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = opts.connection ?? (await NativeConnection.connect({ address: opts.address }));
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
    activities: opts.activities ?? createActivities(opts.deps),
  });
  return { worker, connection };
}

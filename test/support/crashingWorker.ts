// A worker process that dies (SIGKILL, no clean-up) right after the contact update reached
// MongoDB and before the activity could report completion: the worst moment for exactly-once.
// Run by test/workflow/exactlyOnce.test.ts with TEMPORAL_ADDRESS, MONGODB_URI, MONGODB_DB, TASK_QUEUE.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { connectStore } from '../../src/store/db';
import { workflowsPath } from '../../src/temporal/worker';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const store = await connectStore(process.env.MONGODB_URI!, process.env.MONGODB_DB!);
  const real = createActivities({ col: store.col });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE!,
    workflowsPath,
    activities: {
      ...real,
      async countCallOnContact(input: Parameters<typeof real.countCallOnContact>[0]) {
        await real.countCallOnContact(input);
        process.stdout.write('CRASHING\n');
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => {});
      },
    },
  });
  process.stdout.write('READY\n');
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

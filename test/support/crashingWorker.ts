// A worker process that dies (SIGKILL, no clean-up) right after one activity's side effect took
// place and before the activity could report completion: the worst moment for exactly-once.
// Env: TEMPORAL_ADDRESS, MONGODB_URI, MONGODB_DB, TASK_QUEUE, CRASH_AFTER (an activity name, or callSave),
// and SMTP_PORT when the activity sends email.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import { createSmtpMailer } from '../../activities/email';
import { type Collections, connectStore } from '../../src/store/db';
import { workflowsPath } from '../../src/temporal/worker';

/** CRASH_AFTER=callSave: dies right after the call record's save (an upsert), wherever it runs (inside settleCall). */
const CALL_SAVE = 'callSave' as const;

function dieAfterCallSave(col: Collections): void {
  const updateOne = col.calls.updateOne.bind(col.calls);
  col.calls.updateOne = async (...args: Parameters<typeof updateOne>) => {
    const r = await updateOne(...args);
    if (args[2]?.upsert) {
      process.stdout.write('CRASHING\n');
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => {});
    }
    return r;
  };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const crashAfter = process.env.CRASH_AFTER as keyof Activities | typeof CALL_SAVE;
  const store = await connectStore(process.env.MONGODB_URI!, process.env.MONGODB_DB!);
  const mailer = process.env.SMTP_PORT
    ? createSmtpMailer({ host: '127.0.0.1', port: Number(process.env.SMTP_PORT), secure: false, timeoutMs: 3000 })
    : undefined;
  if (crashAfter === CALL_SAVE) dieAfterCallSave(store.col);
  const real = createActivities({ col: store.col, mailer, smtpFrom: 'Acme Calls <calls@acme.test>' });
  if (crashAfter !== CALL_SAVE && typeof real[crashAfter] !== 'function') throw new Error(`CRASH_AFTER=${crashAfter} is not an activity`);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE!,
    workflowsPath,
    activities: {
      ...real,
      ...(crashAfter !== CALL_SAVE && {
        async [crashAfter](...args: unknown[]) {
          await (real[crashAfter] as (...a: unknown[]) => Promise<unknown>)(...args);
          process.stdout.write('CRASHING\n');
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => {});
        },
      }),
    },
  });
  process.stdout.write('READY\n');
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// A worker process that dies (SIGKILL, no clean-up) right after the thank-you email was accepted
// by the SMTP server and marked sent, before the activity could report completion.
// Run by test/workflow/thankYou.test.ts with TEMPORAL_ADDRESS, MONGODB_URI, MONGODB_DB, TASK_QUEUE, SMTP_PORT.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { createSmtpMailer } from '../../../activities/email';
import { connectStore } from '../../../src/store/db';
import { workflowsPath } from '../../../src/temporal/worker';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const store = await connectStore(process.env.MONGODB_URI!, process.env.MONGODB_DB!);
  const mailer = createSmtpMailer({ host: '127.0.0.1', port: Number(process.env.SMTP_PORT), secure: false, timeoutMs: 3000 });
  const real = createActivities({ col: store.col, mailer, smtpFrom: 'Acme Calls <calls@acme.test>' });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE!,
    workflowsPath,
    activities: {
      ...real,
      async sendThankYouEmail(input: Parameters<typeof real.sendThankYouEmail>[0]) {
        await real.sendThankYouEmail(input);
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

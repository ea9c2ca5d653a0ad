// A private Temporal dev server (the project's own binary, never a download) on a free loopback
// port, with the call workflow's search attributes: for tests that need a real server and real
// time, not the time-skipping one (fakes/timeSkipping.ts).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from '../../scripts/stack';
import { SA } from '../../src/temporal/searchAttributes';
import { requireEnv } from './harness';

/** The environment and its server's address (for processes the test starts). */
export async function startLocalTemporal(): Promise<{ env: TestWorkflowEnvironment; address: string }> {
  const port = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireEnv('TEMPORAL_CLI_PATH') },
      ip: '127.0.0.1',
      port,
      searchAttributes: Object.values(SA),
      extraArgs: ['--headless'],
    },
  });
  return { env, address: `127.0.0.1:${port}` };
}

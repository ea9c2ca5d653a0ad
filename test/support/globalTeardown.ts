// Jest global teardown: stops the servers globalSetup started (reverse order) and drops the
// databases this run made on an external MONGODB_URI. Prints nothing on success, so the summary
// line stays last. The run folder (logs) is kept until the next run clears it.
import { MongoClient } from 'mongodb';
import { stopAll } from '../../scripts/stack';
import type { TestStackState } from './globalSetup';

export default async function globalTeardown(): Promise<void> {
  const state: TestStackState | undefined = globalThis.__CALLS_API_TEST_STACK__;
  if (!state) return;
  globalThis.__CALLS_API_TEST_STACK__ = undefined;
  const problems: string[] = [];

  if (state.external) {
    try {
      await dropRunDatabases(state.external.uri, state.external.dbPrefix);
    } catch (err) {
      problems.push(`could not drop test databases ${state.external.dbPrefix}*: ${String(err)}`);
    }
  }
  try {
    await stopAll(state.handles, 10_000);
  } catch (err) {
    problems.push(`could not stop test servers: ${String(err)}`);
  }
  state.pidFile?.remove();
  if (problems.length) process.stderr.write(`globalTeardown: ${problems.join('\n')}\n`);
}

async function dropRunDatabases(uri: string, prefix: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) {
      if (name.startsWith(prefix)) await client.db(name).dropDatabase();
    }
  } finally {
    await client.close();
  }
}

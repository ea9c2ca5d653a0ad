// Histories recorded on the code before CallRun (commit 964044c, the workflow tests' own scenarios
// plus one call steered by controlFollowUp Updates) replay on the current workflow code without
// nondeterminism: moving the call's decisions into src/domain/callRun.ts changed no command.
import '../support/quietRuntime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../support/harness';

const fixture = (name: string) =>
  temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, '..', 'fixtures', 'histories', `callLifecycle-${name}-before-callrun.bin`)),
  );

/** Fixture, workflow id, and an event type the history must hold (so it shows what it claims to). */
const cases: [string, string, string][] = [
  ['update-commands', 'call:org_up:call_mx96yidys6zgnx', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED'],
  ['signals-placement', 'call:org_fu:call_mx95lquqe9w9j4', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'],
  ['follow-up-result', 'call:org_fu:call_mx95lnglvu0pbn', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'],
  ['joined-plan', 'call:org_caps:call_mx95kxjvurt7y9', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'],
  ['thank-you', 'call:org_fu:retell_fake_2_mx95lm9n', 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED'],
  ['stale-poll', 'call:org_stale_nokeys:call_mx95nmix0s1bgc', 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED'],
];

test.each(cases)(
  'the %s history replays',
  async (name, workflowId, mustHold) => {
    const history = fixture(name);
    const types = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
    expect(types).toContain(mustHold);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  },
  60_000,
);

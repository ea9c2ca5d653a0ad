// Histories made by earlier code replay on the current workflow code without nondeterminism, so
// a deploy does not break calls in flight. The fixture is a no-answer call with its follow-up
// attempt 1 placed, recorded on the code before the per-person follow-up rules (commit 841663c);
// the rules' new commands run behind patched('contact-follow-up-gate').
import '../support/quietRuntime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../support/harness';

test('a no-answer call recorded before the per-person rules replays on the current code', async () => {
  // The History protobuf as the server sent it, binary-encoded.
  const history = temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, '..', 'fixtures', 'histories', 'callLifecycle-no-answer-before-caps.bin')),
  );
  expect(history.events?.length).toBe(37);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'call:org:old1');
}, 60_000);

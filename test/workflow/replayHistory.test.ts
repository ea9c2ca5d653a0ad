// Histories made by earlier code replay on the current workflow code without nondeterminism, so
// a deploy does not break calls in flight. The fixture is a no-answer call with its follow-up
// attempt 1 placed, recorded on the code before the per-person follow-up rules (commit 841663c);
// the rules' new commands run behind patched('contact-follow-up-gate'). The contact's fixture is
// a contact workflow (two calls, one repeated, a follow-up gate Update, closed when idle) recorded
// before it read its figures and follow-up state in one activity (patched('contact-state-read-once')).
// The settle fixture is a call of four events (its contact found by number, no email address)
// recorded with an activity per step, before settleCall (patched('call-settled-once')).
import '../support/quietRuntime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../support/harness';
import { activitiesIn } from '../support/historyActivities';

test('a no-answer call recorded before the per-person rules replays on the current code', async () => {
  // The History protobuf as the server sent it, binary-encoded.
  const history = temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, '..', 'fixtures', 'histories', 'callLifecycle-no-answer-before-caps.bin')),
  );
  expect(history.events?.length).toBe(37);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'call:org:old1');
}, 60_000);

test('a contact workflow recorded before the single state read replays on the current code', async () => {
  const history = temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, '..', 'fixtures', 'histories', 'contactLifecycle-before-state-once.bin')),
  );
  expect(history.events?.length).toBe(33);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'contact:org_old:c_old1');
}, 60_000);

test('a call recorded with an activity per step, before settleCall, replays on the current code', async () => {
  const history = temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, '..', 'fixtures', 'histories', 'callLifecycle-before-settle.bin')),
  );
  expect(activitiesIn(history)).toContain('markEffectsDone');
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'call:org_old:call_settle_old1');
}, 60_000);

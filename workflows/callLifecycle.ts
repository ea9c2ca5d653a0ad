// One durable workflow per call. The call and every decision about it live in CallRun (src/domain/callRun.ts); this only
// drives it: one-line handlers, the loop, and the effects and activities CallRun asks for. Deterministic: no Node imports.
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityError } from './activityError';
import { dialOptions, localOptions, mailOptions, pollOptions } from './activityOptions';
import * as call from '../src/domain/call';
import { CallRun } from '../src/domain/callRun';
import { type Effect, effectsDoneOf } from '../src/domain/effects';
import { type FollowUpCommand, type FollowUpPlan, describePlan } from '../src/domain/followUpPlan';
import { dialerFailed } from '../src/domain/followUpPlacement';
import { unaskedAnswer } from '../src/domain/stale';
import { splitEffects } from '../src/domain/settle';
import { contactWorkflowSettings } from '../src/domain/contact';
import { callAttributes } from '../src/temporal/searchAttributes';
import { contactGate } from './contactGate';
import * as m from './messages';

/**
 * Runs that settle a change in one local activity (settleCall) record this marker, first thing in
 * their first workflow task. Its presence also stands for the contact gate's (GATE_PATCH), which
 * came earlier, so a new run records no marker later on.
 */
const SETTLE_PATCH = 'call-settled-once';

export async function callLifecycle(input: m.CallWorkflowInput): Promise<call.PublicCallState> {
  const { orgId, callId, settings } = input;
  // Our own database, as local activities: inside the workflow task, no round trip through the task queues.
  const records = wf.proxyLocalActivities<Activities>(localOptions(settings));
  // Hands a completed call to the contact's workflow (a signal, starting that workflow if need be).
  const contacts = wf.proxyLocalActivities<Activities>(localOptions(settings));
  const mail = wf.proxyActivities<Activities>(mailOptions(settings));
  const dialer = wf.proxyActivities<Activities>(dialOptions(settings));
  // Asking the platform about a call whose end never came: an ordinary activity, as it talks to the internet.
  const platform = wf.proxyActivities<Activities>(pollOptions(settings));

  // Asked once, before the first await. A patch first asked after a local activity can be asked a
  // workflow task earlier on replay than it was live (the activity's marker may close the task
  // before the code after it ran), where the marker is not yet known: replay then takes the old
  // branch and fails. Runs recorded before settleCall have no marker and replay with an activity per step.
  const settlesOnce = wf.patched(SETTLE_PATCH);
  const run = new CallRun(input, () => Date.now());
  // The contact's one follow-up plan and its 24-hour cap, kept by the contact's workflow (workflows/contactGate.ts).
  const gate = contactGate(orgId, callId, settings, run.planOpts, { carried: input.carried?.gateRole, gated: settlesOnce });

  wf.setHandler(m.callEvent, (event) => run.receive(event));
  wf.setHandler(m.callEvents, (events) => events.forEach((e) => run.receive(e)));
  wf.setHandler(m.retryNow, (i) => run.queue(call.retryNowCommand(i)));
  wf.setHandler(m.cancelFollowUp, (i) => run.queue(call.cancelCommand(i)));
  wf.setHandler(m.scheduleFollowUp, (i) => run.queue(call.scheduleCommand(i, Date.now())));
  wf.setHandler(m.joinedPlanEnded, (e) => run.queue(call.joinedEndedCommand(e)));
  wf.setHandler(m.followUpResult, (r) => run.queue(call.resultCommand(r)));
  wf.setHandler(m.getState, () => run.view());
  // The HTTP routes' Update: refused (saying why) when it would do nothing, else answered with what the loop did.
  wf.setHandler(m.controlFollowUp, (i) => answerTo(run.request(i)), { validator: (i: m.ControlFollowUpInput) => run.validate(i) });

  // A new run for a call an earlier run (or a failed try of this task) saved resumes from the record, effects included.
  if (!input.carried) run.resume(await records.loadCall({ orgId, callId }));

  for (;;) {
    if (run.hasWork()) {
      // Everything that arrived together is applied first and saved once; then the effects.
      await (settlesOnce ? settle() : settleStepByStep());
      continue; // events may have arrived while the effects ran
    }
    while (run.hasCommand()) await runCommand(run.nextCommand());
    if (run.placementDue()) {
      await placeAttempt();
      continue; // signals may have arrived while the call was being placed
    }
    const expired = run.expiredPlan();
    if (expired) await savePlan(expired);
    await reportToOriginal();
    await gate.reportEnd(run.followUp, run.state);
    // No event for CALL_STALE_AFTER and no end: ask the platform (src/domain/stale.ts says when).
    const pollAt = run.pollAt();
    if (pollAt !== undefined && Date.now() >= pollAt) {
      await askPlatform();
      continue; // the answer's events are applied like a webhook's
    }
    // Continue as new well before Temporal's history limits, carrying state and unapplied events.
    if (run.shouldContinueAsNew(wf.workflowInfo())) {
      await wf.condition(wf.allHandlersFinished); // an Update's caller gets its answer before the run ends
      await wf.continueAsNew<typeof callLifecycle>({ ...input, carried: run.toCarried(gate.role) });
    }
    // Wait for the next event or signal, the recording, the follow-up's time, or the end of patience.
    const wait = run.nextWait(pollAt);
    if (wait.why) wf.log.info(wait.why, { status: run.state.status });
    if (wait.done) break;
    publish();
    await (wait.timeoutMs === undefined ? wf.condition(() => run.hasMessages()) : wf.condition(() => run.hasMessages(), wait.timeoutMs));
  }

  await wf.condition(wf.allHandlersFinished);
  const result = run.close();
  publish();
  return result;

  /**
   * What arrived, settled in one local activity (settleCall: contact, save, metrics, the contact's
   * notice, the email's decision, the effects-done mark). After it only what must not be part of it:
   * the thank-you email's SMTP send (an ordinary activity, retried and bounded on its own) and the
   * follow-up and opt-out effects, then the mark when any of those ran.
   */
  async function settle(): Promise<void> {
    const { changed, duplicates } = run.apply();
    for (const eventId of duplicates) wf.log.info('duplicate event ignored', { eventId });
    const lookup = changed ? run.contactToResolve() : undefined; // the call's contact, found or created once per contact id
    if (changed) run.afterChange();
    const effects = run.effectsOwed();
    const { settled, rest } = splitEffects(effects);
    // The email is dealt with once per run; the rest of a later change's effects are owed all the same.
    const asked = settled.filter((e) => e !== 'sendThankYou' || run.startEmail());
    let marked = false;
    if (changed || asked.length > 0) {
      const info = wf.workflowInfo();
      const r = await records.settleCall({
        state: run.state,
        workflowId: info.workflowId,
        save: changed,
        lookup,
        effects: asked,
        count: { taskQueue: info.taskQueue, settings: contactWorkflowSettings(settings), now: Date.now() },
        done: effects.length > 0 && rest.length === 0 ? effectsDoneOf(run.state) : undefined,
      });
      if (lookup) run.onContactResolved(r.contactId);
      if (r.uncounted) wf.log.warn('completed call has no contact to count it on', { callId });
      if (r.thankYouSkip) run.onEmailSkipped(r.thankYouSkip);
      else if (r.thankYouSkip === null)
        await mail.sendThankYouEmail(call.thankYouRequest(run.state)).then((x) => run.onEmailSent(x.messageId), emailFailed);
      marked = r.marked;
    }
    for (const effect of rest) await runEffect(effect);
    if (run.onEffectsRun(effects) && !marked) await records.markEffectsDone({ orgId, callId, done: run.effectsDone });
    if (run.changedNow || asked.includes('sendThankYou')) publish();
  }

  /** The same with an activity per step, as runs recorded before settleCall did it. */
  async function settleStepByStep(): Promise<void> {
    const { changed, duplicates } = run.apply();
    for (const eventId of duplicates) wf.log.info('duplicate event ignored', { eventId });
    if (changed) {
      const lookup = run.contactToResolve(); // the call's contact, found or created once per contact id
      if (lookup) run.onContactResolved(await records.resolveContact({ orgId, ...lookup }));
      run.afterChange();
      await records.saveCall(run.state, wf.workflowInfo().workflowId);
    }
    const effects = run.effectsOwed();
    for (const effect of effects) await runEffect(effect);
    if (run.onEffectsRun(effects)) await records.markEffectsDone({ orgId, callId, done: run.effectsDone });
    if (run.changedNow) publish();
  }

  /** An Update's command, once the loop ran it: what it did, or a failure saying why it did nothing. */
  async function answerTo(cmd: FollowUpCommand): Promise<m.ControlFollowUpResult> {
    await wf.condition(() => run.hasAnswer(cmd));
    const r = run.answerTo(cmd);
    if (!r.applied) throw wf.ApplicationFailure.create({ message: r.note, type: 'NotApplied', nonRetryable: true });
    return { note: r.note, summary: r.summary };
  }

  async function runEffect(effect: Effect): Promise<unknown> {
    switch (effect) {
      case 'recordMetrics':
        return records.recordMetrics(run.state);
      case 'countContact': {
        // The contact's own workflow counts it, once: the one writer of the contact's figures.
        const counted = run.countedCall();
        if (!counted) return wf.log.warn('completed call has no contact to count it on', { callId });
        return contacts.notifyContact({ ...counted, taskQueue: wf.workflowInfo().taskQueue });
      }
      case 'sendThankYou':
        // Awaited, not run alongside the next event: both write the call record, and a concurrent
        // write to one document can be lost on the local MongoDB stand-in. Bounded by EMAIL_MAX_TRIES.
        return run.startEmail() ? sendThankYou() : undefined;
      case 'scheduleFollowUp':
        return planFollowUp();
      case 'applyOptOut':
        // The person may have opted out on this call: the organization's opt-out field decides.
        return records.applyOptOut(call.optOutRequest(run.state));
    }
  }

  async function sendThankYou(): Promise<void> {
    const skip = await records.thankYouSkipReason({ orgId, callId, contactId: run.state.contactId });
    if (skip !== null) run.onEmailSkipped(skip);
    else await mail.sendThankYouEmail(call.thankYouRequest(run.state)).then((r) => run.onEmailSent(r.messageId), emailFailed);
    publish();
  }

  /** Out of tries (SMTP down) or nothing to send with: a failure goes on the call record; the workflow carries on. */
  async function emailFailed(err: unknown): Promise<void> {
    const failed = run.onEmailFailed(activityError(err));
    if (failed !== undefined) await records.recordEmailFailure({ orgId, callId, reason: failed });
    wf.log.warn('thank-you email not sent', { email: run.email });
  }

  async function planFollowUp(): Promise<void> {
    // A follow-up call does not plan follow-ups of its own: it reports to the call it follows up.
    const link = run.followsUp();
    if (link) return wf.log.info('unanswered follow-up call; the original call decides on the next attempt', link);
    const planned = run.newPlan();
    if (!planned) return;
    const ruled = await withRules(planned);
    // One plan per contact: while another call's plan runs, this call joins it.
    const ownerCallId = ruled.status === 'scheduled' ? await gate.startPlan(run.state) : undefined;
    await savePlan(run.planOrJoin(ruled, ownerCallId));
    wf.log.info('follow-up planned', { summary: describePlan(run.followUp!) });
  }

  async function runCommand(cmd: FollowUpCommand): Promise<void> {
    const applied = run.command(cmd);
    // The calling rules first, so an Update's answer (and the plan it reports) is what will happen.
    const r = applied.applied && applied.plan ? { ...applied, plan: await withRules(applied.plan, cmd) } : applied;
    run.onCommandResult(cmd, r);
    wf.log.info(r.applied ? 'follow-up command applied' : 'follow-up command not applied', { command: cmd.type, note: r.note });
    if (r.applied && r.plan) await savePlan(r.plan);
    else publish();
  }

  async function placeAttempt(): Promise<void> {
    // The contact's 24-hour cap: no room now moves the attempt to when a slot frees up.
    const held = await gate.reserve(run.followUp!, run.state);
    if (held) return savePlan(held);
    await savePlan(run.beginPlacing());
    const plan = run.followUp!;
    const dialed = dialer.placeFollowUpCall(call.dialRequest(run.state, plan, Date.now()));
    const placement = await dialed.catch((err) => dialerFailed(activityError(err).message, settings.followUpDialMaxTries));
    await savePlan(run.afterPlacement(placement));
    await gate.afterPlacement(plan, placement, run.state);
    wf.log.info('follow-up attempt', { summary: describePlan(run.followUp!) });
  }

  async function withRules(plan: FollowUpPlan, cmd?: FollowUpCommand): Promise<FollowUpPlan> {
    return run.rulesApply(plan) ? run.withRules(plan, await records.followUpContext(call.contactRef(run.state)), cmd) : plan;
  }

  /** Records the plan on the call record, in search attributes and in the UI's details. */
  async function savePlan(plan: FollowUpPlan): Promise<void> {
    const record = run.setPlan(plan);
    publish();
    await records.recordFollowUp(record);
  }

  /** Asks the platform how the call stands; its answer's events are applied like a webhook's. */
  async function askPlatform(): Promise<void> {
    const asked = platform.pollCallStatus({ orgId, callId, provider: run.state.provider });
    const d = run.onPoll(await asked.catch((err) => unaskedAnswer(run.state.provider, activityError(err).message)));
    wf.log.info('asked the platform about a call with no end', { answer: d.watch.lastAnswer, polls: d.watch.polls });
    if (d.stale) {
      await records.saveCall(run.state, wf.workflowInfo().workflowId);
      wf.log.warn('call marked stale', { reason: d.stale.reason });
    }
    publish();
  }

  /** A follow-up call tells the call it follows up how it ended, so that one can stop or go on. */
  async function reportToOriginal(): Promise<void> {
    const report = run.reportOwed();
    if (!report) return;
    const { originalCallId: original, result } = report;
    // When the original's workflow closed (canceled, exhausted, or waited out), its record keeps the plan.
    await wf
      .getExternalWorkflowHandle(m.workflowIdFor(orgId, original))
      .signal(m.followUpResult, result)
      .then(
        () => wf.log.info('reported to the original call', { original, attempt: result.attempt, answered: result.answered }),
        (err) => wf.log.warn('could not report to the original call', { original, error: String(err) }),
      );
  }

  /** Mirrors the call where people look, when it changed: search attributes and the UI's current details. */
  function publish(): void {
    const d = run.details();
    if (!d) return;
    wf.upsertSearchAttributes(callAttributes(d));
    wf.setCurrentDetails(d.text);
  }
}

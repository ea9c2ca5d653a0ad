// One durable workflow per call: applies each event to the pure reducer, persists the call,
// and runs the effects its transitions demand as activities: the contact count, the thank-you
// email of a completed call, and the follow-up plan of an unanswered one (durable timers that
// people can steer with signals). Deterministic: no Node imports, activity *types* only.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import { activityError } from './activityError';
import type { CallEvent } from '../src/domain/events';
import { type CallState, initialState, isTerminal } from '../src/domain/lifecycle';
import {
  type CallClock,
  applyEvents,
  callDeadline,
  cancelCommand,
  cancelOnLateCompletion,
  clockAfterChange,
  commandOf,
  countedCallOf,
  effectsOwed,
  isCallDone,
  publicState,
  resultReport,
  retryNowCommand,
  scheduleCommand,
  settleIfDue,
  startClock,
} from '../src/domain/call';
import { callDetails, describeWait } from '../src/domain/callDetails';
import { type Effect, type EffectsDone, NO_EFFECTS_DONE, analysisChanged, effectsDoneOf, effectsFor } from '../src/domain/effects';
import { withResolvedContact, contactPhone } from '../src/domain/contact';
import {
  type CommandResult,
  type FollowUpCommand,
  type FollowUpPlan,
  type PlanOptions,
  type Placement,
  applyCommand,
  applyPlacement,
  beginPlacing,
  describePlan,
  expireWait,
  isPlacementDue,
  isSettled,
  joinPlan,
  nextWakeAt,
  startPlan,
} from '../src/domain/followUp';
import { followUpLinkOf, withFollowUpLink } from '../src/domain/followUpLink';
import { contactGate } from './followUpGate';
import { applyFollowUpRules, windowOverrideOf } from '../src/domain/followUpCompliance';
import {
  DEFAULT_STALE_AFTER_MS,
  NO_POLLS,
  POLL_TRIES,
  type PollAnswer,
  type StaleWatch,
  decideAfterPoll,
  markStale,
  nextPollAt,
} from '../src/domain/stale';
import { SA } from '../src/temporal/searchAttributes';
import {
  type CallView,
  type CallWorkflowInput,
  type ControlFollowUpInput,
  type EmailView,
  callEvent,
  callEvents,
  cancelFollowUp,
  controlFollowUp,
  followUpResult,
  getState,
  joinedPlanEnded,
  retryNow,
  scheduleFollowUp,
  workflowIdFor,
} from './messages';

export async function callLifecycle(input: CallWorkflowInput): Promise<Omit<CallState, 'owners'>> {
  const { orgId, callId, provider, settings } = input;
  // Quick writes to our own database run as local activities: in the worker, inside the workflow
  // task, with no round trip through Temporal's task queues (the dev server has one history shard).
  const db = proxyLocalActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  const mail = proxyActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: settings.emailMaxTries,
      nonRetryableErrorTypes: ['NoEmailAddress', 'NoMailer'],
    },
  });
  const dialer = proxyActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: settings.followUpDialMaxTries },
  });
  // Asking the platform about a call whose end never came: an ordinary activity, as it talks to the internet.
  const platform = proxyActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: POLL_TRIES },
  });
  const staleAfterMs = settings.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const planOpts: PlanOptions = {
    delayMs: settings.followUpDelayMs,
    maxAttempts: settings.followUpMaxAttempts,
    hardCap: settings.followUpHardCap,
    resultWaitMs: settings.followUpResultWaitMs,
  };

  const carried = input.carried;
  const pending: CallEvent[] = [...(carried?.pending ?? [])];
  const commands: FollowUpCommand[] = [...(carried?.commands ?? [])];
  let followUp: FollowUpPlan | undefined = carried?.followUp;
  let email: EmailView | undefined = carried?.email;
  let reportedResult: string | undefined = carried?.reportedResult;
  let lastCommand: CallView['lastCommand'];
  let waitingFor = 'the first event';
  let state: CallState = carried?.state ?? initialState(orgId, callId, provider);
  let lastPublished = '';
  let ensuredContact: string | undefined;
  /** What the effects have been run for (kept on the call record, see EffectsDone). */
  let effectsDone: EffectsDone = carried?.effectsDone ?? NO_EFFECTS_DONE;
  /** Polls of the platform since the last event (src/domain/stale.ts). */
  let staleWatch: StaleWatch = carried?.staleWatch ?? NO_POLLS;
  /** Commands an Update handler waits on, and what became of them. */
  const awaited = new Set<FollowUpCommand>();
  const answers = new Map<FollowUpCommand, CommandResult>();

  setHandler(callEvent, (event) => {
    pending.push(event);
  });
  setHandler(callEvents, (events) => {
    pending.push(...events);
  });
  setHandler(retryNow, (i) => {
    commands.push(retryNowCommand(i));
  });
  setHandler(cancelFollowUp, (i) => {
    commands.push(cancelCommand(i));
  });
  setHandler(scheduleFollowUp, (i) => {
    commands.push(scheduleCommand(i, Date.now()));
  });
  // The HTTP routes' Update: the validator refuses (with the reason) what would do nothing; the
  // handler queues the command like a signal and answers with what the loop made of it.
  const commandContext = () => ({ now: Date.now(), opts: planOpts, callEnded: isTerminal(state.status) });
  setHandler(
    controlFollowUp,
    async (input) => {
      const cmd = commandOf(input, Date.now());
      awaited.add(cmd);
      commands.push(cmd);
      await condition(() => answers.has(cmd));
      const r = answers.get(cmd)!;
      answers.delete(cmd);
      if (!r.applied) throw ApplicationFailure.create({ message: r.note, type: 'NotApplied', nonRetryable: true });
      return { note: r.note, summary: followUp && describePlan(followUp) };
    },
    {
      validator: (input: ControlFollowUpInput) => {
        const r = applyCommand(followUp, commandOf(input, Date.now()), commandContext());
        if (!r.applied) throw new Error(r.note);
      },
    },
  );
  // The contact's one follow-up plan and its 24-hour cap, kept by the contact's workflow (workflows/followUpGate.ts).
  const gate = contactGate(orgId, callId, settings, planOpts, input.carried?.gateRole);
  setHandler(joinedPlanEnded, (e) => {
    commands.push({ type: 'joinedEnded', ownerCallId: e.ownerCallId, status: e.status, reason: e.reason });
  });
  setHandler(followUpResult, (r) => {
    commands.push({ type: 'result', attempt: r.attempt, callId: r.callId, status: r.status, outcome: r.outcome, answered: r.answered });
  });
  setHandler(getState, (): CallView => ({
    state: publicState(state),
    waitingFor,
    followUp: followUp && { ...followUp, summary: describePlan(followUp) },
    email,
    lastCommand,
  }));

  if (!carried) {
    // A late webhook can start a new run for a call whose earlier run already closed: resume
    // from what that run stored, so replayed events are recognised as duplicates.
    // The same holds for a retry of this run's first task, whose failed try may have saved the
    // call already: what the effects were run for comes from the record too, so they still run.
    const stored = await db.loadCall({ orgId, callId });
    if (stored) {
      state = stored.state;
      effectsDone = stored.effectsDone;
    }
  }

  let clock: CallClock = startClock(state, Date.now());
  const patience = { recordingWaitMs: settings.recordingWaitMs, idleTimeoutMs: settings.idleTimeoutMs };

  for (;;) {
    if (pending.length > 0 || effectsOwed(effectsDone, state)) {
      // Everything that arrived together is applied first and saved once; then the effects.
      const prev = state;
      const applied = applyEvents(state, pending.splice(0, pending.length));
      for (const eventId of applied.duplicates) log.info('duplicate event ignored', { eventId });
      state = applied.state;
      if (state !== prev) {
        state = withFollowUpLink(await withContact(state));
        clock = clockAfterChange(clock, state, Date.now());
        staleWatch = NO_POLLS;
        await db.saveCall(state, workflowInfo().workflowId);
      }
      if (effectsOwed(effectsDone, state)) {
        let ran = false;
        for (const effect of effectsFor(effectsDone, state, { followUpOn: settings.followUpOn })) {
          await runEffect(effect, state);
          ran = true;
        }
        if (state.analysis?.data && analysisChanged(effectsDone, state)) {
          // The person may have opted out on this call: the organization's opt-out field decides.
          await db.applyOptOut({ orgId, callId, contactId: state.contactId, phone: contactPhone(state), data: state.analysis.data });
          ran = true;
        }
        effectsDone = effectsDoneOf(state);
        if (ran) await db.markEffectsDone({ orgId, callId, done: effectsDone });
      }
      if (state !== prev) {
        const cancel = cancelOnLateCompletion(state, followUp);
        if (cancel) commands.unshift(cancel);
        publish();
      }
      continue; // events may have arrived while the effects ran
    }

    while (commands.length > 0) await runCommand(commands.shift()!);
    if (isPlacementDue(followUp, Date.now())) {
      await placeAttempt();
      continue; // signals may have arrived while the call was being placed
    }
    if (followUp) {
      const expired = expireWait(followUp, Date.now());
      if (expired !== followUp) await savePlan(expired);
    }
    await reportToOriginal();
    await gate.reportEnd(followUp, state);

    // No event for CALL_STALE_AFTER and no end: ask the platform (src/domain/stale.ts says when).
    const pollAt = clock.settled ? undefined : nextPollAt(state, staleWatch, clock.lastEventAt, staleAfterMs);
    if (pollAt !== undefined && Date.now() >= pollAt) {
      await askPlatform();
      continue; // the answer's events are applied like a webhook's
    }

    // Continue as new well before Temporal's history limits, carrying state and unapplied events.
    if (workflowInfo().historyLength > settings.maxHistoryEvents || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished); // an Update's caller gets its answer before the run ends
      await continueAsNew<typeof callLifecycle>({
        ...input,
        carried: {
          state,
          pending: [...pending],
          followUp,
          commands: [...commands],
          email,
          reportedResult,
          effectsDone,
          staleWatch,
          gateRole: gate.role,
        },
      });
    }

    const now = Date.now();
    const settled = settleIfDue(clock, state, now, patience);
    if (settled.why) log.info(settled.why, { status: state.status });
    clock = settled.clock;
    const deadline = callDeadline(clock, patience);
    const callDone = isCallDone(clock, state);
    if (callDone && isSettled(followUp, now) && pending.length === 0 && commands.length === 0) break;

    // Wait for the next event or signal, the recording, the follow-up's time, or the end of patience.
    const wakeAts = [callDone ? undefined : deadline, callDone ? undefined : pollAt, nextWakeAt(followUp)].filter(
      (t): t is number => t !== undefined && t > now,
    );
    const askAt = pollAt !== undefined && pollAt < deadline ? new Date(pollAt).toISOString() : undefined;
    waitingFor = describeWait({ callDone, callEnded: clock.terminalAt !== undefined, followUp, now: Date.now(), askAt });
    publish();
    const got = () => pending.length > 0 || commands.length > 0;
    if (wakeAts.length === 0) await condition(got);
    else await condition(got, Math.min(...wakeAts) - now);
  }

  await condition(allHandlersFinished);
  waitingFor = 'nothing (closed)';
  publish();
  return publicState(state);

  /** Asks the platform how the call stands; an end becomes events, an unsettled last answer marks the call stale. */
  async function askPlatform(): Promise<void> {
    let answer: PollAnswer;
    try {
      answer = await platform.pollCallStatus({ orgId, callId, provider: state.provider });
    } catch (err) {
      answer = { kind: 'unknown', reason: `${state.provider} could not be asked (${activityError(err).message})`, final: false };
    }
    const d = decideAfterPoll(staleWatch, answer, { provider: state.provider, now: Date.now() });
    staleWatch = d.watch;
    log.info('asked the platform about a call with no end', { answer: d.watch.lastAnswer, polls: d.watch.polls });
    pending.push(...d.events);
    if (d.stale) {
      state = markStale(state, d.stale);
      await db.saveCall(state, workflowInfo().workflowId);
      log.warn('call marked stale', { reason: d.stale.reason });
    }
    publish();
  }

  /** Finds (or creates) the call's contact once per contact id, so the email and follow-ups can use it. */
  async function withContact(s: CallState): Promise<CallState> {
    if (s.contactId && s.contactId === ensuredContact) return s;
    const phone = contactPhone(s);
    if (!s.contactId && !phone) return s;
    const contactId = await db.resolveContact({ orgId, contactId: s.contactId, phone });
    ensuredContact = contactId ?? undefined;
    return contactId && !s.contactId ? withResolvedContact(s, contactId) : s;
  }

  async function runEffect(effect: Effect, s: CallState): Promise<void> {
    switch (effect) {
      case 'recordMetrics':
        await db.recordMetrics(s);
        return;
      case 'countContact':
        if (!s.contactId) {
          log.warn('completed call has no contact to count it on', { callId });
          return;
        }
        // The contact's own workflow counts it, once: the one writer of the contact's figures.
        await db.notifyContact({
          orgId,
          contactId: s.contactId,
          taskQueue: workflowInfo().taskQueue,
          settings: {
            activityTimeoutMs: settings.activityTimeoutMs,
            idleCloseMs: settings.contactIdleMs,
            maxHistoryEvents: settings.maxHistoryEvents,
          },
          call: countedCallOf(s, Date.now()),
        });
        return;
      case 'sendThankYou':
        // Once per run; the activity's claim in MongoDB makes it once per call across runs too.
        // Awaited, not run alongside the next event: both write the call record, and a
        // concurrent write to one document can be lost on the local MongoDB stand-in. The wait
        // is bounded by EMAIL_MAX_TRIES.
        if (email === undefined) {
          email = { status: 'sending' };
          await sendThankYou(s);
        }
        return;
      case 'scheduleFollowUp': {
        const link = followUpLinkOf(s);
        if (link) {
          // A follow-up call does not plan follow-ups of its own: it reports to the call it follows up.
          log.info('unanswered follow-up call; the original call decides on the next attempt', {
            original: link.originalCallId,
            attempt: link.attempt,
          });
          return;
        }
        if (followUp) return;
        const planned = await withRules(startPlan(s.outcome, planOpts, Date.now()));
        // One plan per contact: while another call's plan runs, this call joins it.
        const ownerCallId = planned.status === 'scheduled' ? await gate.startPlan(s) : undefined;
        await savePlan(ownerCallId ? joinPlan(s.outcome, ownerCallId, planOpts, Date.now()) : planned);
        log.info('follow-up planned', { summary: describePlan(followUp!) });
        return;
      }
    }
  }

  async function sendThankYou(s: CallState): Promise<void> {
    const agentName = typeof s.metadata?.agentName === 'string' ? s.metadata.agentName : undefined;
    const skip = await db.thankYouSkipReason({ orgId, callId, contactId: s.contactId });
    if (skip !== null) {
      email = { status: 'skipped', reason: skip };
      publish();
      return;
    }
    try {
      const r = await mail.sendThankYouEmail({
        orgId,
        callId,
        contactId: s.contactId,
        agentId: s.agentId,
        agentName,
        callDate: s.startedAt ?? s.answeredAt ?? s.endedAt,
        durationSec: s.durationSec,
      });
      email = { status: 'sent', messageId: r.messageId };
    } catch (err) {
      const { type, message } = activityError(err);
      if (type === 'NoEmailAddress' || type === 'NoMailer') {
        email = { status: 'skipped', reason: message };
      } else {
        // Out of tries (SMTP down): say so on the call record; the workflow carries on.
        email = { status: 'failed', reason: `gave up after ${settings.emailMaxTries} tries: ${message}` };
        await db.recordEmailFailure({ orgId, callId, reason: email.reason! });
      }
      log.warn('thank-you email not sent', { email });
    }
    publish();
  }

  async function runCommand(cmd: FollowUpCommand): Promise<void> {
    const applied = applyCommand(followUp, cmd, commandContext());
    // The calling rules first, so an Update's answer (and the plan it reports) is what will happen.
    const r = applied.applied && applied.plan ? { ...applied, plan: await withRules(applied.plan, cmd) } : applied;
    if (awaited.delete(cmd)) answers.set(cmd, r);
    lastCommand = { type: cmd.type, applied: r.applied, note: r.note, at: new Date().toISOString() };
    log.info(r.applied ? 'follow-up command applied' : 'follow-up command not applied', { command: cmd.type, note: r.note });
    if (r.applied && r.plan) await savePlan(r.plan);
    else publish();
  }

  async function placeAttempt(): Promise<void> {
    // The contact's 24-hour cap: no room now moves the attempt to when a slot frees up.
    const held = await gate.reserve(followUp!, state);
    if (held) {
      await savePlan(held);
      return;
    }
    await savePlan(beginPlacing(followUp!, Date.now()));
    const plan = followUp!;
    const inbound = state.direction === 'inbound';
    let placement: Placement;
    try {
      placement = await dialer.placeFollowUpCall({
        orgId,
        originalCallId: callId,
        attempt: plan.attempt,
        contactId: state.contactId,
        to: contactPhone(state),
        from: inbound ? state.to : state.from,
        agentId: state.agentId,
        windowOverride: windowOverrideOf(plan),
        placingAt: Date.now(),
      });
    } catch (err) {
      const { message } = activityError(err);
      placement = {
        kind: 'due',
        reason: `the dialer failed after ${settings.followUpDialMaxTries} tries (${message}); call by hand or send retryNow`,
      };
    }
    await savePlan(applyPlacement(followUp!, placement, Date.now(), planOpts));
    await gate.afterPlacement(plan, placement, state);
    log.info('follow-up attempt', { summary: describePlan(followUp!) });
  }

  /** Do-not-call and the calling window, applied to a newly scheduled attempt; a person may override the window. */
  async function withRules(plan: FollowUpPlan, cmd?: FollowUpCommand): Promise<FollowUpPlan> {
    if (plan.status !== 'scheduled') return plan;
    const rules = await db.followUpContext({ orgId, contactId: state.contactId, phone: contactPhone(state) });
    const override =
      (cmd?.type === 'retryNow' || cmd?.type === 'schedule') && cmd.overrideWindow ? { by: cmd.by, reason: cmd.reason } : undefined;
    return applyFollowUpRules(plan, rules, Date.now(), override);
  }

  /** Records the plan on the call record, in search attributes and in the UI's details. */
  async function savePlan(plan: FollowUpPlan): Promise<void> {
    followUp = plan;
    publish();
    await db.recordFollowUp({ orgId, callId, plan, contactId: state.contactId, to: contactPhone(state) });
  }

  /** A follow-up call tells the call it follows up how it ended, so that one can stop or go on. */
  async function reportToOriginal(): Promise<void> {
    const report = resultReport(state, reportedResult);
    if (!report) return;
    reportedResult = report.key;
    try {
      await getExternalWorkflowHandle(workflowIdFor(orgId, report.originalCallId)).signal(followUpResult, report.result);
      log.info('reported to the original call', {
        original: report.originalCallId,
        attempt: report.result.attempt,
        answered: report.result.answered,
      });
    } catch (err) {
      // The original's workflow closed (canceled, exhausted, or waited out): its record keeps the plan.
      log.warn('could not report to the original call', { original: report.originalCallId, error: String(err) });
    }
  }

  /** Mirrors the state where people look: search attributes and the UI's current details. */
  function publish(): void {
    const s = state;
    const updates: SearchAttributeUpdatePair[] = [
      { key: SA.callStatus, value: s.status },
      { key: SA.callOutcome, value: s.outcome ?? null },
      { key: SA.contactId, value: s.contactId ?? null },
      { key: SA.callStale, value: s.stale ? true : null },
    ];
    const next = followUp?.status === 'scheduled' && followUp.nextFollowUpAt ? new Date(followUp.nextFollowUpAt) : null;
    updates.push(
      { key: SA.nextFollowUpAt, value: next },
      { key: SA.followUpAttempt, value: followUp && followUp.attempt > 0 ? followUp.attempt : null },
    );
    const text = callDetails({ state, followUp, lastCommand, email, waitingFor, staleWatch });
    const key = JSON.stringify(updates) + text;
    if (key === lastPublished) return; // every upsert is a history event: skip repeats
    lastPublished = key;
    upsertSearchAttributes(updates);
    setCurrentDetails(text);
  }
}

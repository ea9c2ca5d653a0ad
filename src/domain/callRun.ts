// One run of a call's workflow as an entity: the reduced call, its follow-up plan, the email, the
// stale watch and what the effects were run for, with every decision about them. The workflow
// (workflows/callLifecycle.ts) only drives it: it feeds in signals and activity results, runs the
// effects and activities this asks for, and waits. Pure apart from the clock it is given (the
// workflow's deterministic Date.now), so each decision is unit-tested without Temporal.
import type { WorkflowSettings } from '../config';
import {
  type CallClock,
  type ControlInput,
  applyEvents,
  callDeadline,
  cancelOnLateCompletion,
  clockAfterChange,
  commandOf,
  countedCallOf,
  effectsOwed as owesEffects,
  isCallDone,
  publicState,
  resultReport,
  settleIfDue,
  startClock,
  type CarriedCall,
} from './call';
import { type CallPublication, type CallView, type LastCommand, describeWait, publication } from './callDetails';
import { contactPhone, contactWorkflowSettings } from './contact';
import type { CallGateRole } from './contactCaps';
import { type Effect, type EffectsDone, NO_EFFECTS_DONE, effectsDoneOf, effectsToRun } from './effects';
import type { CallEvent, Provider } from './events';
import {
  type CommandResult,
  type FollowUpCommand,
  type FollowUpPlan,
  type Placement,
  type PlanOptions,
  describePlan,
  isPlacementDue,
  isSettled,
  nextWakeAt,
  startPlan,
} from './followUpPlan';
import { applyCommand, joinPlan } from './followUpCommands';
import { applyPlacement, beginPlacing, expireWait } from './followUpPlacement';
import { type FollowUpContext, applyFollowUpRules, windowOverrideFrom } from './followUpCompliance';
import { followUpLinkOf, withFollowUpLink } from './followUpLink';
import { type CallState, initialState, isTerminal } from './reducer';
import { withContactFound } from './settle';
import {
  DEFAULT_STALE_AFTER_MS,
  NO_POLLS,
  type PollAnswer,
  type PollDecision,
  type StaleWatch,
  decideAfterPoll,
  markStale,
  nextPollAt,
} from './stale';
import { type EmailView, emailAfterFailure } from './thankYou';

export interface CallRunInput {
  orgId: string;
  callId: string;
  provider: Provider;
  settings: WorkflowSettings;
  carried?: CarriedCall;
}

/** What the loop does when it has nothing else to do: stop, or wait (at most `timeoutMs`) for a message. */
export type CallWait = { done: true; why?: string } | { done: false; why?: string; timeoutMs?: number };

export class CallRun {
  readonly orgId: string;
  readonly callId: string;
  readonly planOpts: PlanOptions;
  state: CallState;
  followUp: FollowUpPlan | undefined;
  email: EmailView | undefined;
  /** What the effects have been run for (kept on the call record, see EffectsDone). */
  effectsDone: EffectsDone;
  /** Polls of the platform since the last event (src/domain/stale.ts). */
  staleWatch: StaleWatch;
  private readonly pending: CallEvent[];
  private readonly commands: FollowUpCommand[];
  private reportedResult: string | undefined;
  private lastCommand: LastCommand | undefined;
  private waitingFor = 'the first event';
  private clock: CallClock;
  private changed = false;
  private ensuredContact: string | undefined;
  private lastPublished = '';
  /** Commands an Update handler waits on, and what became of them. */
  private readonly awaited = new Set<FollowUpCommand>();
  private readonly answers = new Map<FollowUpCommand, CommandResult>();

  constructor(
    private readonly input: CallRunInput,
    private readonly now: () => number,
  ) {
    const { orgId, callId, provider, settings, carried } = input;
    this.orgId = orgId;
    this.callId = callId;
    this.planOpts = {
      delayMs: settings.followUpDelayMs,
      maxAttempts: settings.followUpMaxAttempts,
      hardCap: settings.followUpHardCap,
      resultWaitMs: settings.followUpResultWaitMs,
    };
    this.state = carried?.state ?? initialState(orgId, callId, provider);
    this.pending = [...(carried?.pending ?? [])];
    this.commands = [...(carried?.commands ?? [])];
    this.followUp = carried?.followUp;
    this.email = carried?.email;
    this.reportedResult = carried?.reportedResult;
    this.effectsDone = carried?.effectsDone ?? NO_EFFECTS_DONE;
    this.staleWatch = carried?.staleWatch ?? NO_POLLS;
    this.clock = startClock(this.state, now());
  }

  private get settings(): WorkflowSettings {
    return this.input.settings;
  }

  // ---- messages ----

  receive(event: CallEvent): void {
    this.pending.push(event);
  }

  queue(cmd: FollowUpCommand): void {
    this.commands.push(cmd);
  }

  /** An Update's validator: refuses (saying why) a command that would do nothing now. */
  validate(input: ControlInput): void {
    const r = applyCommand(this.followUp, commandOf(input, this.now()), this.commandContext());
    if (!r.applied) throw new Error(r.note);
  }

  /** Queues an Update's command; the handler waits until answerTo(cmd) has the loop's answer. */
  request(input: ControlInput): FollowUpCommand {
    const cmd = commandOf(input, this.now());
    this.awaited.add(cmd);
    this.queue(cmd);
    return cmd;
  }

  hasAnswer(cmd: FollowUpCommand): boolean {
    return this.answers.has(cmd);
  }

  /** The loop's answer to an Update's command (taken once hasAnswer), with the plan's summary afterwards. */
  answerTo(cmd: FollowUpCommand): { applied: boolean; note: string; summary?: string } {
    const r = this.answers.get(cmd)!;
    this.answers.delete(cmd);
    return { applied: r.applied, note: r.note, summary: this.followUp && describePlan(this.followUp) };
  }

  hasMessages(): boolean {
    return this.pending.length > 0 || this.commands.length > 0;
  }

  view(): CallView {
    const f = this.followUp;
    return {
      state: publicState(this.state),
      waitingFor: this.waitingFor,
      followUp: f && { ...f, summary: describePlan(f) },
      email: this.email,
      lastCommand: this.lastCommand,
    };
  }

  // ---- the call's events and effects ----

  /** A run that did not continue from another resumes from what an earlier run (or try) stored. */
  resume(stored: { state: CallState; effectsDone: EffectsDone } | null | undefined): void {
    if (stored) {
      this.state = stored.state;
      this.effectsDone = stored.effectsDone;
    }
    this.clock = startClock(this.state, this.now());
  }

  /** Events to apply, or effects still owed for the state (a retried task saved the call, then died). */
  hasWork(): boolean {
    return this.pending.length > 0 || owesEffects(this.effectsDone, this.state);
  }

  /** Applies the events that arrived together; `changed` says whether the call is to be saved. */
  apply(): { changed: boolean; duplicates: string[] } {
    const r = applyEvents(this.state, this.pending.splice(0, this.pending.length));
    this.changed = r.state !== this.state;
    this.state = r.state;
    return { changed: this.changed, duplicates: r.duplicates };
  }

  /** Whom to look up as the call's contact: once per contact id, and only when there is an id or a number. */
  contactToResolve(): { contactId?: string; phone?: string } | undefined {
    const s = this.state;
    if (s.contactId && s.contactId === this.ensuredContact) return undefined;
    const phone = contactPhone(s);
    if (!s.contactId && !phone) return undefined;
    return { contactId: s.contactId, phone };
  }

  onContactResolved(contactId: string | null | undefined): void {
    this.ensuredContact = contactId ?? undefined;
    this.state = withContactFound(this.state, contactId);
  }

  /** After a change (and the contact lookup): the follow-up link made explicit, the clocks moved on, the polls reset. */
  afterChange(): void {
    this.state = withFollowUpLink(this.state);
    this.clock = clockAfterChange(this.clock, this.state, this.now());
    this.staleWatch = NO_POLLS;
  }

  /** The effects owed for the state, in order; empty when nothing is. */
  effectsOwed(): Effect[] {
    if (!owesEffects(this.effectsDone, this.state)) return [];
    return effectsToRun(this.effectsDone, this.state, { followUpOn: this.settings.followUpOn });
  }

  /**
   * The effects ran: they are done for this state. True when the record is to say so (some ran).
   * A late `completed` for a call taken as unanswered cancels its plan before anything else.
   */
  onEffectsRun(ran: readonly Effect[]): boolean {
    const owed = owesEffects(this.effectsDone, this.state);
    if (owed) this.effectsDone = effectsDoneOf(this.state);
    if (this.changed) {
      const cancel = cancelOnLateCompletion(this.state, this.followUp);
      if (cancel) this.commands.unshift(cancel);
    }
    return owed && ran.length > 0;
  }

  /** The change was dealt with (saved, effects run): the call is published once for it. */
  get changedNow(): boolean {
    return this.changed;
  }

  /** What the contact's workflow is told of a completed call, or undefined when it has no contact to count it on. */
  countedCall() {
    const s = this.state;
    if (!s.contactId) return undefined;
    return {
      orgId: this.orgId,
      contactId: s.contactId,
      settings: contactWorkflowSettings(this.settings),
      call: countedCallOf(s, this.now()),
    };
  }

  /** The thank-you email is sent once per run (the activity's claim makes it once per call). False when it was dealt with. */
  startEmail(): boolean {
    if (this.email !== undefined) return false;
    this.email = { status: 'sending' };
    return true;
  }

  onEmailSkipped(reason: string): void {
    this.email = { status: 'skipped', reason };
  }

  onEmailSent(messageId: string): void {
    this.email = { status: 'sent', messageId };
  }

  /** The send gave up: the reason to put on the call record when it failed (not when it was skipped). */
  onEmailFailed(err: { type?: string; message: string }): string | undefined {
    this.email = emailAfterFailure(err, this.settings.emailMaxTries);
    return this.email.status === 'failed' ? this.email.reason : undefined;
  }

  // ---- the follow-up plan ----

  /** A follow-up call reports to the call it follows up instead of planning follow-ups of its own. */
  followsUp(): { original: string; attempt: number } | undefined {
    const link = followUpLinkOf(this.state);
    return link && { original: link.originalCallId, attempt: link.attempt };
  }

  /** The plan an unanswered call starts with, before the rules; undefined when it has one. */
  newPlan(): FollowUpPlan | undefined {
    return this.followUp ? undefined : startPlan(this.state.outcome, this.planOpts, this.now());
  }

  /** The new plan, or a joined one when another call's plan runs for the contact. */
  planOrJoin(planned: FollowUpPlan, ownerCallId: string | undefined): FollowUpPlan {
    return ownerCallId ? joinPlan(this.state.outcome, ownerCallId, this.planOpts, this.now()) : planned;
  }

  /** Only a scheduled attempt needs the calling rules (and their lookup). */
  rulesApply(plan: FollowUpPlan): boolean {
    return plan.status === 'scheduled';
  }

  /** Do-not-call and the calling window applied to a scheduled attempt; a person's command may override the window. */
  withRules(plan: FollowUpPlan, rules: FollowUpContext, cmd?: FollowUpCommand): FollowUpPlan {
    return applyFollowUpRules(plan, rules, this.now(), windowOverrideFrom(cmd));
  }

  /** Sets the plan; returns what the call record keeps of it. */
  setPlan(plan: FollowUpPlan) {
    this.followUp = plan;
    return { orgId: this.orgId, callId: this.callId, plan, contactId: this.state.contactId, to: contactPhone(this.state) };
  }

  hasCommand(): boolean {
    return this.commands.length > 0;
  }

  nextCommand(): FollowUpCommand {
    return this.commands.shift()!;
  }

  /** What a command does to the plan, before the calling rules. */
  command(cmd: FollowUpCommand): CommandResult {
    return applyCommand(this.followUp, cmd, this.commandContext());
  }

  /** What the command did, for the Update waiting on it and the details. */
  onCommandResult(cmd: FollowUpCommand, r: CommandResult): void {
    if (this.awaited.delete(cmd)) this.answers.set(cmd, r);
    this.lastCommand = { type: cmd.type, applied: r.applied, note: r.note, at: new Date(this.now()).toISOString() };
  }

  placementDue(): boolean {
    return isPlacementDue(this.followUp, this.now());
  }

  beginPlacing(): FollowUpPlan {
    return beginPlacing(this.followUp!, this.now());
  }

  afterPlacement(placement: Placement): FollowUpPlan {
    return applyPlacement(this.followUp!, placement, this.now(), this.planOpts);
  }

  /** The plan once a wait for a result ran out, or undefined when nothing changed. */
  expiredPlan(): FollowUpPlan | undefined {
    if (!this.followUp) return undefined;
    const expired = expireWait(this.followUp, this.now());
    return expired !== this.followUp ? expired : undefined;
  }

  /** What a follow-up call tells the call it follows up, once per end it reaches. */
  reportOwed(): ReturnType<typeof resultReport> {
    const report = resultReport(this.state, this.reportedResult);
    if (report) this.reportedResult = report.key;
    return report;
  }

  // ---- the call with no end ----

  /** When to ask the platform about a call whose end never came (undefined: not at all). */
  pollAt(): number | undefined {
    const staleAfterMs = this.settings.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    return this.clock.settled ? undefined : nextPollAt(this.state, this.staleWatch, this.clock.lastEventAt, staleAfterMs);
  }

  /** The platform's answer: an end becomes events; an unsettled last answer marks the call stale (then save it). */
  onPoll(answer: PollAnswer): PollDecision {
    const d = decideAfterPoll(this.staleWatch, answer, { provider: this.state.provider, now: this.now() });
    this.staleWatch = d.watch;
    this.pending.push(...d.events);
    if (d.stale) this.state = markStale(this.state, d.stale);
    return d;
  }

  // ---- the loop's end ----

  /**
   * Whether the run is over (the call needs nothing, the plan is settled, nothing queued), else how
   * long to wait for a message: the recording, the next poll, or the plan's next time.
   * `why` names what the call was given up on, for the log.
   */
  nextWait(pollAt: number | undefined): CallWait {
    const now = this.now();
    const patience = { recordingWaitMs: this.settings.recordingWaitMs, idleTimeoutMs: this.settings.idleTimeoutMs };
    const settled = settleIfDue(this.clock, this.state, now, patience);
    this.clock = settled.clock;
    const deadline = callDeadline(this.clock, patience);
    const callDone = isCallDone(this.clock, this.state);
    if (callDone && isSettled(this.followUp, now) && !this.hasMessages()) return { done: true, why: settled.why };
    const wakeAts = [callDone ? undefined : deadline, callDone ? undefined : pollAt, nextWakeAt(this.followUp)].filter(
      (t): t is number => t !== undefined && t > now,
    );
    const askAt = pollAt !== undefined && pollAt < deadline ? new Date(pollAt).toISOString() : undefined;
    this.waitingFor = describeWait({ callDone, callEnded: this.clock.terminalAt !== undefined, followUp: this.followUp, now, askAt });
    return { done: false, why: settled.why, timeoutMs: wakeAts.length === 0 ? undefined : Math.min(...wakeAts) - now };
  }

  /** The run ends; what it returns. */
  close(): Omit<CallState, 'owners'> {
    this.waitingFor = 'nothing (closed)';
    return publicState(this.state);
  }

  /** Well before Temporal's history limits (MAX_HISTORY_EVENTS, or when the server suggests it). */
  shouldContinueAsNew(info: { historyLength: number; continueAsNewSuggested: boolean }): boolean {
    return info.historyLength > this.settings.maxHistoryEvents || info.continueAsNewSuggested;
  }

  toCarried(gateRole: CallGateRole): CarriedCall {
    return {
      state: this.state,
      pending: [...this.pending],
      followUp: this.followUp,
      commands: [...this.commands],
      email: this.email,
      reportedResult: this.reportedResult,
      effectsDone: this.effectsDone,
      staleWatch: this.staleWatch,
      gateRole,
    };
  }

  /** What people see of the call, or undefined when nothing changed since the last time (each upsert is a history event). */
  details(): CallPublication | undefined {
    const p = publication({
      state: this.state,
      followUp: this.followUp,
      lastCommand: this.lastCommand,
      email: this.email,
      waitingFor: this.waitingFor,
      staleWatch: this.staleWatch,
    });
    const key = JSON.stringify(p);
    if (key === this.lastPublished) return undefined;
    this.lastPublished = key;
    return p;
  }

  private commandContext() {
    return { now: this.now(), opts: this.planOpts, callEnded: isTerminal(this.state.status) };
  }
}

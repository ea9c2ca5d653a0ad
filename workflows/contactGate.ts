// The contact gate, the call workflow's side: the contact's per-person follow-up rules, kept by the
// contact's workflow (its contactGateUpdate, decided by decideGate). Before starting a plan
// it asks the contact's workflow whether another call's plan is running (then it joins that
// one), before placing each attempt whether the 24-hour cap has room (else the attempt moves to
// when it frees up), and it reports the end of a plan it owns so joined calls settle. Asked
// through an activity with a bounded number of tries, so a slow contact workflow never holds the
// call: a plan then starts on its own, and an attempt whose cap cannot be checked goes to a person.
import { log, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityError } from './activityError';
import { localOptions } from './activityOptions';
import type { CallState } from '../src/domain/reducer';
import { contactPhone, contactWorkflowSettings } from '../src/domain/contact';
import { type CallGateRole, type GateAnswer, type GateAsk, capMovedText, capRule } from '../src/domain/contactCaps';
import { type FollowUpPlan, type Placement, type PlanOptions, isSettled } from '../src/domain/followUpPlan';
import { applyCapMove, applyPlacement } from '../src/domain/followUpPlacement';
import { applyCommand } from '../src/domain/followUpCommands';
import { applyFollowUpRules } from '../src/domain/followUpCompliance';
import type { WorkflowSettings } from '../src/config';

/** Tries of one question to the contact's workflow before the call goes on without its answer. */
const GATE_TRIES = 4;
/** Workflows whose history began before the per-person rules replay as they ran: the questions are new commands. */
export const GATE_PATCH = 'contact-follow-up-gate';

export interface ContactGate {
  role: CallGateRole;
  /** The call whose plan this one joins, or undefined when this call's plan is the contact's (or the contact could not be asked). */
  startPlan(s: CallState): Promise<string | undefined>;
  /** Undefined when the attempt may be placed now; else the plan as it must be instead (moved by the cap, canceled, or due). */
  reserve(plan: FollowUpPlan, s: CallState): Promise<FollowUpPlan | undefined>;
  /** The reserved attempt was not dialed: its slot goes back. */
  afterPlacement(plan: FollowUpPlan, placement: Placement, s: CallState): Promise<void>;
  /** Tells the contact, once, that the plan this call owns is over. */
  reportEnd(plan: FollowUpPlan | undefined, s: CallState): Promise<void>;
}

export function contactGate(
  orgId: string,
  callId: string,
  settings: WorkflowSettings,
  planOpts: PlanOptions,
  opts: { carried?: CallGateRole; gated?: boolean } = {},
): ContactGate {
  // Asks the contact's workflow (an Update, sent by the activity): a few tries, then the call goes on without its answer.
  const contacts = proxyActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: GATE_TRIES },
  });
  const records = proxyLocalActivities<Activities>(localOptions(settings));
  const role: CallGateRole = opts.carried ?? { owner: false, endReported: false };
  /** The gate is asked: always in runs that say so from their start, else in runs with GATE_PATCH's marker (older ones). */
  const gateOn = () => opts.gated === true || patched(GATE_PATCH);

  async function ask(contactId: string, request: GateAsk): Promise<GateAnswer | { kind: 'failed'; message: string }> {
    try {
      return await contacts.askContactGate({
        orgId,
        contactId,
        taskQueue: workflowInfo().taskQueue,
        request,
        settings: contactWorkflowSettings(settings),
      });
    } catch (err) {
      const { message } = activityError(err);
      log.warn('the contact workflow did not answer', { request: request.type, contactId, error: message });
      return { kind: 'failed', message };
    }
  }

  return {
    role,
    async startPlan(s) {
      if (!s.contactId || !gateOn()) return undefined;
      const a = await ask(s.contactId, { type: 'startPlan', callId });
      if (a.kind === 'joined') return a.ownerCallId;
      // Owner, or the contact could not be asked: the plan runs on its own and the cap is still checked per attempt.
      role.owner = a.kind === 'owner';
      return undefined;
    },

    async reserve(plan, s) {
      if (!s.contactId || !gateOn()) return undefined;
      const a = await ask(s.contactId, { type: 'reserve', callId, attempt: plan.attempt });
      const now = Date.now();
      if (a.kind === 'allowed') return undefined;
      if (a.kind === 'failed') {
        const reason = `the contact's workflow did not answer, so the 24-hour cap could not be checked (${a.message}); call by hand or send retryNow`;
        return applyPlacement(plan, { kind: 'due', reason }, now, planOpts);
      }
      if (a.kind !== 'refused') return undefined;
      if (!a.freeAt) {
        const reason = `the organization allows no follow-up attempts per contact (${capRule(a.cap)})`;
        return applyCommand(plan, { type: 'cancel', reason, by: '24-hour cap' }, { now, opts: planOpts, callEnded: true }).plan ?? plan;
      }
      const rules = await records.followUpContext({ orgId, contactId: s.contactId, phone: contactPhone(s) });
      const freeAt = Date.parse(a.freeAt);
      const moved = applyCapMove(plan, freeAt, capMovedText(freeAt, rules.zones[0] ?? 'UTC', a.cap, a.rule), now);
      // The time the cap frees up may be outside the calling window: the window moves it further.
      return applyFollowUpRules(moved, rules, now);
    },

    async afterPlacement(plan, placement, s) {
      if (!s.contactId || placement.kind === 'placed' || (placement.kind === 'due' && placement.uncertain) || !gateOn()) return;
      await ask(s.contactId, { type: 'release', callId, attempt: plan.attempt });
    },

    async reportEnd(plan, s) {
      if (!role.owner || role.endReported || !plan || !s.contactId || !isSettled(plan, Date.now())) return;
      role.endReported = true;
      const a = await ask(s.contactId, { type: 'endPlan', callId, status: plan.status, reason: plan.reason });
      if (a.kind === 'ended' && a.settled.length > 0) log.info('calls that joined this plan are settled with it', { calls: a.settled });
    },
  };
}

// One workflow per contact: the single writer of the contact's call figures and of its
// per-person follow-up rules. Call workflows signal it when a call ends; it counts each call once
// (by call id, with a fact per call in the database) and stores the figures. They also ask it,
// through the contact gate's Update, whether a follow-up plan may start (one per contact: a later
// call joins the running plan) and whether an attempt may be placed (at most N per rolling 24
// hours); it decides in src/domain/contactCaps, stores the outcome, then answers. Batches
// whatever arrived together into one database round. Closes when idle; the next call starts a
// new run that continues from the stored figures and follow-up state.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type ContactFigures, type CountedCall } from '../src/domain/contactFigures';
import { type ContactGateState, type JoinedPlanEnd, decideGate, emptyGate, inWindow } from '../src/domain/contactCaps';
import { GATE_PATCH } from './contactGate';
import { type ContactWorkflowInput, callEnded, contactGateUpdate, getContactState, joinedPlanEnded, workflowIdFor } from './messages';

/** Runs recorded before the figures and the follow-up state were read together replay their two reads. */
const STATE_ONCE_PATCH = 'contact-state-read-once';

export async function contactLifecycle(input: ContactWorkflowInput): Promise<ContactFigures> {
  const { orgId, contactId, settings } = input;
  const db = proxyLocalActivities<Activities>({
    startToCloseTimeout: settings.activityTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });

  const pending: CountedCall[] = [...(input.carried?.pending ?? [])];
  setHandler(callEnded, (call) => {
    pending.push(call);
  });
  let gate: ContactGateState | undefined = input.carried?.gate;
  /** The rev of the follow-up state last stored; an answer waits until its change is stored. */
  let savedRev = gate?.rev ?? 0;
  const notify: JoinedPlanEnd[] = [...(input.carried?.notify ?? [])];
  // Registered before the first await, so an Update that started this run is never refused for want of a handler.
  setHandler(contactGateUpdate, async (req) => {
    await condition(() => gate !== undefined);
    const r = decideGate(gate!, req, Date.now());
    gate = r.state;
    notify.push(...r.notify);
    const rev = gate.rev;
    if (rev > savedRev) await condition(() => savedRev >= rev);
    log.info('follow-up gate', { request: req.type, callId: req.callId, answer: r.answer.kind });
    return r.answer;
  });

  let figures: ContactFigures;
  if (!input.carried && patched(STATE_ONCE_PATCH)) {
    // One read of the figures and the follow-up state together: a single local activity where there were two.
    const stored = await db.loadContactState({ orgId, contactId });
    figures = stored.figures;
    gate ??= stored.gate;
  } else {
    figures = input.carried?.figures ?? (await db.loadContactFigures({ orgId, contactId }));
    // A run whose history began before the per-person rules replays without the load it never made (no state was stored then).
    gate ??= patched(GATE_PATCH) ? await db.loadContactGate({ orgId, contactId }) : emptyGate();
  }
  savedRev = Math.max(savedRev, gate.rev);
  setHandler(getContactState, () => ({ orgId, contactId, figures, pending: pending.length, gate }));

  const work = () => pending.length > 0 || gate!.rev > savedRev || notify.length > 0;
  // Before the run ends, every Update gets its answer; one that changed the state waits for the loop to store it.
  const quiet = async () => {
    await condition(() => allHandlersFinished() || work());
    return !work();
  };
  for (;;) {
    if (!work() && !(await condition(work, settings.idleCloseMs))) {
      if (await quiet()) break;
      continue;
    }
    if (gate.rev > savedRev) {
      const snapshot = gate;
      await db.saveContactGate({ orgId, contactId, gate: snapshot });
      savedRev = Math.max(savedRev, snapshot.rev);
    }
    // Only once the end of the plan is stored: a joined call then settles with the plan it joined.
    for (const n of notify.splice(0, notify.length)) {
      await getExternalWorkflowHandle(workflowIdFor(orgId, n.callId))
        .signal(joinedPlanEnded, n)
        .catch((err: unknown) => {
          log.warn('joined call not told that the plan ended (its workflow closed)', { callId: n.callId, error: String(err) });
        });
    }
    if (pending.length > 0) {
      const batch = pending.splice(0, pending.length);
      const r = await db.countContactCalls({ orgId, contactId, figures, calls: batch });
      figures = r.figures;
    }
    setCurrentDetails(details(figures, gate));
    if ((workflowInfo().historyLength > settings.maxHistoryEvents || workflowInfo().continueAsNewSuggested) && (await quiet())) {
      await continueAsNew<typeof contactLifecycle>({
        ...input,
        carried: { figures, pending: [...pending], gate: gate, notify: [...notify] },
      });
    }
  }
  return figures;
}

function details(f: ContactFigures, g: ContactGateState): string {
  const last = f.lastCallId
    ? `last call ${f.lastCallId} at ${f.lastCallDate}${f.lastCallDuration !== undefined ? ` (${f.lastCallDuration}s)` : ''}`
    : 'no call yet';
  const lines = [`**${f.callCount} call${f.callCount === 1 ? '' : 's'}**`, last];
  const used = inWindow(g.reservations, Date.now()).length;
  lines.push(`follow-up attempts in the last 24 hours: ${used}`);
  if (g.plan)
    lines.push(
      `follow-up plan of call ${g.plan.ownerCallId} running${g.plan.joined.length ? `; joined by ${g.plan.joined.map((j) => j.callId).join(', ')}` : ''}`,
    );
  return lines.join('\n\n');
}

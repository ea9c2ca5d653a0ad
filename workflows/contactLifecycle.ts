// One workflow per contact: the single writer of the contact's call figures. Call workflows
// signal it when a call ends; it counts each call once (by call id, with a fact per call in the
// database) and stores the figures. Batches whatever arrived together into one database round.
// Closes when idle; the next call starts a new run that continues from the stored figures.
import { condition, continueAsNew, proxyLocalActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type ContactFigures, type CountedCall } from '../src/domain/contactFigures';
import { type ContactWorkflowInput, callEnded, getContactState } from './messages';

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
  let figures: ContactFigures = input.carried?.figures ?? (await db.loadContactFigures({ orgId, contactId }));
  setHandler(getContactState, () => ({ orgId, contactId, figures, pending: pending.length }));

  for (;;) {
    if (pending.length === 0 && !(await condition(() => pending.length > 0, settings.idleCloseMs))) break;
    const batch = pending.splice(0, pending.length);
    const r = await db.countContactCalls({ orgId, contactId, figures, calls: batch });
    figures = r.figures;
    setCurrentDetails(details(figures));
    if (workflowInfo().historyLength > settings.maxHistoryEvents || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof contactLifecycle>({ ...input, carried: { figures, pending: [...pending] } });
    }
  }
  return figures;
}

function details(f: ContactFigures): string {
  const last = f.lastCallId ? `last call ${f.lastCallId} at ${f.lastCallDate}${f.lastCallDuration !== undefined ? ` (${f.lastCallDuration}s)` : ''}` : 'no call yet';
  return `**${f.callCount} call${f.callCount === 1 ? '' : 's'}**\n\n${last}`;
}

// Manual control of follow-ups over HTTP, for people without Temporal access. Each route sends
// the call's workflow the same signal the `temporal` CLI would, after checking that it would do
// something: a refused action is a 409 that says why, not a silent no-op.
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { type FollowUpCommand, applyCommand, resolveScheduleTime } from '../domain/followUp';
import { isTerminal } from '../domain/lifecycle';
import { getCall } from '../store/calls';
import { listFollowUpCalls, type FollowUpCallStatus } from '../store/followUps';
import type { ControlSignal } from '../temporal/control';
import type { AppDeps } from './app';
import type { AuthState } from './auth';
import { HttpError, notFound, unavailable } from './errors';
import { readJson } from './json';
import { parseWith } from './validate';

const by = z.string().trim().min(1).max(200).optional();
const retryBody = z.strictObject({ reason: z.string().max(1000).optional(), by });
const cancelBody = z.strictObject({ reason: z.string().trim().min(1, 'give a reason').max(1000), by });
const scheduleBody = z
  .strictObject({ at: z.iso.datetime({ offset: true }).optional(), in: z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a delay like 30m, 2h or 1d').optional(), reason: z.string().max(1000).optional(), by })
  .refine((b) => (b.at === undefined) !== (b.in === undefined), { message: 'give exactly one of at (ISO-8601) or in (a delay like 2h)', path: ['at'] });

const FOLLOW_UP_CALL_STATUSES = ['claimable', 'placing', 'placed', 'due', 'uncertain', 'rejected', 'canceled'] as const;
const listQuery = z.object({ status: z.enum(FOLLOW_UP_CALL_STATUSES).optional(), callId: z.string().min(1).optional() });

export function controlRoutes(api: Router, deps: AppDeps): void {
  const now = () => (deps.now ? deps.now() : Date.now());

  async function steer(ctx: Context, signal: ControlSignal, command: FollowUpCommand) {
    const { orgId } = ctx.state as AuthState;
    const callId = ctx.params.callId as string;
    const doc = await getCall(deps.col, orgId, callId);
    if (!doc) throw notFound(`Call not found: ${callId}`);
    if (!deps.control) throw unavailable('Manual control is not available: this server has no Temporal client');
    const look = await deps.control.inspect(doc.workflowId);
    const recorded = (doc.followUp?.summary as string | undefined) ?? 'no follow-up';
    if (!look.running) {
      throw new HttpError(409, 'Conflict', `The call's workflow has finished, so nothing can be changed any more (${recorded})`);
    }
    let note = 'sent; the workflow decides (it did not answer a query in time)';
    if (look.view) {
      const plan = look.view.followUp;
      const opts = { delayMs: plan?.delayMs ?? 0, maxAttempts: plan?.maxAttempts ?? 1, resultWaitMs: 0 };
      const predicted = applyCommand(plan, command, { now: now(), opts, callEnded: isTerminal(look.view.state.status) });
      if (!predicted.applied) throw new HttpError(409, 'Conflict', `Nothing to do: ${predicted.note}`);
      note = predicted.note;
    }
    await deps.control.signal(doc.workflowId, signal);
    ctx.status = 202;
    ctx.body = { success: true, callId, workflowId: doc.workflowId, signal: signal.name, message: note };
  }

  api.post('/calls/:callId/retry', async (ctx) => {
    const b = parseWith(retryBody, await readJson(ctx, deps.bodyLimitBytes, { optional: true }), 'Bad Request');
    await steer(ctx, { name: 'retryNow', input: b }, { type: 'retryNow', ...b });
  });

  api.post('/calls/:callId/follow-up/cancel', async (ctx) => {
    const b = parseWith(cancelBody, await readJson(ctx, deps.bodyLimitBytes, { optional: true }), 'Bad Request');
    await steer(ctx, { name: 'cancelFollowUp', input: b }, { type: 'cancel', ...b });
  });

  api.post('/calls/:callId/follow-up/schedule', async (ctx) => {
    const b = parseWith(scheduleBody, await readJson(ctx, deps.bodyLimitBytes, { optional: true }), 'Bad Request');
    await steer(ctx, { name: 'scheduleFollowUp', input: b }, { type: 'schedule', at: resolveScheduleTime(b, now()), by: b.by, reason: b.reason });
  });

  /** Follow-up calls of the organization, e.g. `?status=due`: what a person or dialer should pick up. */
  api.get('/follow-ups', async (ctx) => {
    const { orgId } = ctx.state as AuthState;
    const q = parseWith(listQuery, ctx.query, 'Bad Request');
    const docs = await listFollowUpCalls(deps.col, orgId, { status: q.status as FollowUpCallStatus | undefined, originalCallId: q.callId });
    ctx.body = { items: docs.map(({ _id, orgId: _o, ...rest }) => rest), total: docs.length };
  });
}


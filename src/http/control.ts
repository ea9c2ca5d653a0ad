// Manual control of follow-ups over HTTP, for people without Temporal access. Each route asks
// the call's workflow through an Update: what it refuses is a 409 in its own words, what it did
// is the 202's message. The `temporal` CLI sends the signals of the same names instead.
import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import { DELAY_PATTERN } from '../domain/duration';
import { getCall } from '../store/calls';
import { listFollowUpCalls } from '../store/followUps';
import type { ControlFollowUpInput } from '../../workflows/messages';
import type { Collections } from '../store/db';
import type { CallControl } from '../temporal/control';
import type { ApiRouter, ApiState } from './auth';
import { HttpError, notFound, unavailable } from './errors';
import { readJson } from './json';
import { isIdentifier, parseWith, pathId } from './validate';

const by = z.string().trim().min(1).max(200).optional();
/** Call even outside the contact's calling window: a person's decision, so it needs `by` and `reason` (recorded). */
const overrideWindow = z.boolean().optional();
const overrideNeedsWho: [(b: { overrideWindow?: boolean; by?: string; reason?: string }) => boolean, { message: string; path: string[] }] =
  [
    (b) => !b.overrideWindow || (!!b.by && !!b.reason?.trim()),
    { message: 'overriding the calling window needs by and reason', path: ['overrideWindow'] },
  ];
export const retryBody = z.strictObject({ reason: z.string().max(1000).optional(), by, overrideWindow }).refine(...overrideNeedsWho);
export const cancelBody = z.strictObject({ reason: z.string().trim().min(1, 'give a reason').max(1000), by });
export const scheduleBody = z
  .strictObject({
    at: z.iso.datetime({ offset: true }).optional(),
    in: z.string().regex(DELAY_PATTERN, 'a delay like 30m, 2h or 1d').optional(),
    reason: z.string().max(1000).optional(),
    by,
    overrideWindow,
  })
  .refine((b) => (b.at === undefined) !== (b.in === undefined), {
    message: 'give exactly one of at (ISO-8601) or in (a delay like 2h)',
    path: ['at'],
  })
  .refine(...overrideNeedsWho);

const FOLLOW_UP_CALL_STATUSES = ['claimable', 'placing', 'placed', 'due', 'uncertain', 'rejected', 'canceled', 'joined'] as const;
// An id with a NUL or other control character cannot reach the database (PostgreSQL under FerretDB refuses \u0000): a 400.
export const listQuery = z.object({
  status: z.enum(FOLLOW_UP_CALL_STATUSES).optional(),
  callId: z.string().refine(isIdentifier, 'expected an identifier: 1 to 200 characters, no control characters').optional(),
});

/** The part of the app's dependencies these routes use. */
export interface ControlRouteDeps {
  col: Collections;
  bodyLimitBytes: number;
  /** Without it the control routes answer 503. */
  control?: CallControl;
}

export function controlRoutes(api: ApiRouter, deps: ControlRouteDeps): void {
  async function steer(ctx: RouterContext<ApiState>, input: ControlFollowUpInput) {
    const { orgId } = ctx.state;
    const callId = pathId(ctx.params.callId, 'callId');
    const doc = await getCall(deps.col, orgId, callId);
    if (!doc) throw notFound(`Call not found: ${callId}`);
    if (!deps.control) throw unavailable('Manual control is not available: this server has no Temporal client');
    const outcome = await deps.control.control(doc.workflowId, input);
    switch (outcome.kind) {
      case 'closed': {
        const recorded = doc.followUp?.summary ?? 'no follow-up';
        throw new HttpError(409, 'Conflict', `The call's workflow has finished, so nothing can be changed any more (${recorded})`);
      }
      case 'refused':
        throw new HttpError(409, 'Conflict', `Nothing to do: ${outcome.reason}`);
      case 'no-answer':
        throw unavailable("The call's workflow did not answer in time (is a worker running?); nothing was changed, try again");
      case 'done':
        ctx.status = 202;
        ctx.body = {
          success: true,
          callId,
          workflowId: doc.workflowId,
          command: input.type,
          message: outcome.result.note,
          followUp: outcome.result.summary,
        };
    }
  }

  api.post('/calls/:callId/retry', async (ctx) => {
    const b = parseWith(retryBody, await readJson(ctx, deps.bodyLimitBytes, { optional: true }), 'Bad Request');
    await steer(ctx, { type: 'retryNow', ...b });
  });

  api.post('/calls/:callId/follow-up/cancel', async (ctx) => {
    const b = parseWith(cancelBody, await readJson(ctx, deps.bodyLimitBytes, { optional: true }), 'Bad Request');
    await steer(ctx, { type: 'cancel', ...b });
  });

  api.post('/calls/:callId/follow-up/schedule', async (ctx) => {
    const b = parseWith(scheduleBody, await readJson(ctx, deps.bodyLimitBytes, { optional: true }), 'Bad Request');
    await steer(ctx, { type: 'schedule', ...b });
  });

  /** Follow-up calls of the organization, e.g. `?status=due`: what a person or dialer should pick up. */
  api.get('/follow-ups', async (ctx) => {
    const { orgId } = ctx.state;
    const q = parseWith(listQuery, ctx.query, 'Bad Request');
    const docs = await listFollowUpCalls(deps.col, orgId, { status: q.status, originalCallId: q.callId });
    ctx.body = { items: docs.map(({ _id, orgId: _o, ...rest }) => rest), total: docs.length };
  });
}

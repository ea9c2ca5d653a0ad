// Read API for calls.
import { z } from 'zod';
import { CALL_STATUSES } from '../domain/reducer';
import { OUTCOMES, PROVIDERS } from '../domain/events';
import { getCall } from '../store/calls';
import { listCalls } from '../store/callLists';
import type { Collections } from '../store/db';
import type { ApiRouter } from './auth';
import { notFound } from './errors';
import { isIdentifier, parseWith, pathId } from './validate';
import { callView } from './views';

const isoDate = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((s) => new Date(s));

export const listQuery = z.object({
  /** `stale` is short for `stale=true`: the stale mark is not a status (src/domain/stale.ts). */
  status: z.enum([...CALL_STATUSES, 'stale']).optional(),
  stale: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only calls marked stale (no end reported, and the platform could not say); false: the others'),
  outcome: z.enum(OUTCOMES).optional(),
  provider: z.enum(PROVIDERS).optional(),
  contactId: z.string().refine(isIdentifier, 'expected an identifier: 1 to 200 characters, no control characters').optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The part of the app's dependencies these routes use. */
export interface CallRouteDeps {
  col: Collections;
  temporalUiUrl: string;
  temporalNamespace: string;
}

export function callRoutes(api: ApiRouter, deps: CallRouteDeps): void {
  const links = { temporalUiUrl: deps.temporalUiUrl, namespace: deps.temporalNamespace };

  api.get('/calls', async (ctx) => {
    const { orgId } = ctx.state;
    const q = parseWith(listQuery, ctx.query, 'Bad Request');
    const { status, ...rest } = q;
    const filters = status === 'stale' ? { ...rest, stale: true } : { ...rest, status };
    const { items, total, totalExact } = await listCalls(deps.col, orgId, filters, q);
    ctx.body = { items: items.map((d) => callView(d, links)), total, totalExact, limit: q.limit, offset: q.offset };
  });

  api.get('/calls/:callId', async (ctx) => {
    const { orgId } = ctx.state;
    const doc = await getCall(deps.col, orgId, pathId(ctx.params.callId, 'callId'));
    if (!doc) throw notFound(`Call not found: ${ctx.params.callId}`);
    ctx.body = callView(doc, links);
  });
}

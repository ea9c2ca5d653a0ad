// The event log over HTTP: what each platform sent, what became of it, and a replay.
//   GET  /api/events              read scope: newest first, by state, call, platform, time
//   GET  /api/events/:id          read scope: the redacted request, the canonical event, every try
//   POST /api/events/:id/replay   admin scope: deliver a dead or delivered event again
import { z } from 'zod';
import { PROVIDERS, type CallEvent } from '../domain/events';
import type { Collections } from '../store/db';
import { findEventDoc, fullEventOf, listEvents, rawBodyOf, refusedSummary, replayEvent, summaryOf } from '../store/eventLog';
import type { ApiRouter } from './auth';
import { notFound } from './errors';
import { isIdentifier, parseWith, pathId } from './validate';

const isoDate = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((s) => new Date(s));

export const eventListQuery = z.object({
  state: z.enum(['pending', 'delivered', 'dead', 'refused']).optional(),
  callId: z.string().refine(isIdentifier, 'expected an identifier: 1 to 200 characters, no control characters').optional(),
  provider: z.enum(PROVIDERS).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export interface EventRouteDeps {
  col: Collections;
  now?: () => number;
}

/** A body as people read it: UTF-8 text when it is, else base64. */
const bodyView = (raw: Buffer | undefined) => {
  if (!raw) return {};
  const text = raw.toString('utf8');
  return Buffer.from(text, 'utf8').equals(raw) ? { body: text } : { bodyBase64: raw.toString('base64') };
};

export function eventRoutes(api: ApiRouter, deps: EventRouteDeps): void {
  api.get('/events', async (ctx) => {
    const q = parseWith(eventListQuery, ctx.query, 'Bad Request');
    const { limit, ...filters } = q;
    ctx.body = { events: await listEvents(deps.col, ctx.state.orgId, filters, limit) };
  });

  api.get('/events/:id', async (ctx) => {
    const id = pathId(ctx.params.id, 'id');
    const { orgId } = ctx.state;
    if (id.startsWith('refused:')) {
      const r = await deps.col.refusedRequests.findOne({ _id: `${orgId}:${id}`, orgId });
      if (!r) throw notFound(`No event ${id}`);
      ctx.body = {
        ...refusedSummary(r),
        id,
        request: { path: r.path, contentType: r.contentType, headers: r.headers, bytes: r.bytes, truncated: r.truncated, body: r.body },
      };
      return;
    }
    const doc = await findEventDoc(deps.col, `${orgId}:${id}`);
    if (!doc || doc.orgId !== orgId) throw notFound(`No event ${id}`);
    const first = doc.requestOf ? await findEventDoc(deps.col, doc.requestOf) : doc;
    const req = first?.request;
    const event: CallEvent = await fullEventOf(deps.col, doc);
    ctx.body = {
      ...summaryOf(doc, doc.state),
      event,
      request: req && {
        requestId: req.requestId,
        path: req.path,
        contentType: req.contentType,
        headers: req.headers,
        signature: req.signature,
        bytes: req.bytes,
        ...(doc.requestOf && { sharedWith: doc.requestOf.slice(orgId.length + 1) }),
        ...bodyView(first && (await rawBodyOf(deps.col, first))),
      },
      tries: (doc.tries ?? []).map((t) => ({ ...t, at: t.at.toISOString() })),
    };
  });

  api.post('/events/:id/replay', async (ctx) => {
    const id = pathId(ctx.params.id, 'id');
    const now = new Date(deps.now?.() ?? Date.now());
    const was = await replayEvent(deps.col, `${ctx.state.orgId}:${id}`, `key ${ctx.state.keyId}`, now);
    if (!was) throw notFound(`No event ${id}`);
    ctx.status = 202;
    ctx.body = { id, was, state: 'pending', message: 'The event is due now; the relay delivers it, and the call applies it once' };
  });
}

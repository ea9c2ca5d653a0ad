// The event log over HTTP: what each platform sent, what became of it, and a replay.
//   GET  /api/events              read scope: newest first, by state, call, platform, time
//   GET  /api/events/:id          read scope: the redacted request, the canonical event, every try
//   POST /api/events/:id/replay   admin scope: deliver a dead or delivered event again
import { z } from 'zod';
import { PROVIDERS, type CallEvent } from '../domain/events';
import type { Collections } from '../store/db';
import { findEventDoc, fullEventOf, listEvents, orgInboxStats, rawBodyOf, refusedSummary, replayEvent, summaryOf } from '../store/eventLog';
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
    const [events, inbox] = await Promise.all([
      listEvents(deps.col, ctx.state.orgId, filters, limit),
      orgInboxStats(deps.col, ctx.state.orgId, new Date()),
    ]);
    ctx.body = { events, inbox };
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

// ---- the OpenAPI document's part (src/http/openapi.ts spreads it) -------------------------------

type Json = Record<string, unknown>;
const EventSummarySchema = z.looseObject({
  id: z.string(),
  state: z.enum(['pending', 'delivered', 'dead', 'refused']),
  provider: z.string().optional(),
  callId: z.string().optional(),
  type: z.string().optional(),
  receivedAt: z.string(),
  attempts: z.number().int().optional(),
  reason: z.string().optional().describe('A dead letter or a refusal: why'),
  status: z.number().int().optional().describe('A refusal: the HTTP status answered'),
});
const schemaOf = (s: z.ZodType): Json => {
  const { $schema: _s, ...rest } = z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }) as Json;
  return rest;
};
const jsonBody = (schema: Json, description: string) => ({ description, content: { 'application/json': { schema } } });

export function eventPaths(h: {
  error: (description: string) => Json;
  operation: (
    cls: 'read' | 'control',
    op: { summary: string; description?: string; tags: string[]; parameters?: Json[]; responses: Json },
  ) => Json;
  queryParams: (schema: z.ZodType) => Json[];
}): Record<string, Json> {
  const id = { name: 'id', in: 'path', required: true, description: 'An event id from the list', schema: { type: 'string', minLength: 1 } };
  const summary = schemaOf(EventSummarySchema);
  return {
    '/api/events': {
      get: h.operation('read', {
        summary: 'The event log: accepted events (pending, delivered, dead) and refused requests, newest first',
        tags: ['events'],
        parameters: h.queryParams(eventListQuery),
        responses: {
          200: jsonBody(
            {
              type: 'object',
              properties: {
                events: { type: 'array', items: summary },
                inbox: {
                  type: 'object',
                  description: "This organization's inbox: events waiting, the oldest one's age (s), dead letters",
                  properties: { depth: { type: 'integer' }, oldestAgeSec: { type: 'number' }, deadLetters: { type: 'integer' } },
                },
              },
              required: ['events', 'inbox'],
            },
            'Events',
          ),
          400: h.error('A query parameter is wrong; the message names it'),
        },
      }),
    },
    '/api/events/{id}': {
      get: h.operation('read', {
        summary: 'One event: the redacted request (body byte for byte), the canonical event, every delivery try',
        tags: ['events'],
        parameters: [id],
        responses: {
          200: jsonBody(
            { ...summary, properties: { ...(summary.properties as Json), request: { type: 'object' }, event: { type: 'object' } } },
            'The event',
          ),
          400: h.error('A malformed id'),
          404: h.error('No such event in this organization'),
        },
      }),
    },
    '/api/events/{id}/replay': {
      post: h.operation('control', {
        summary: 'Deliver a dead or delivered event again; the call applies an event once, however often it arrives',
        tags: ['events'],
        parameters: [id],
        responses: {
          202: jsonBody(
            { type: 'object', properties: { id: { type: 'string' }, was: { type: 'string' }, state: { type: 'string' } } },
            'Due now',
          ),
          400: h.error('A malformed id'),
          404: h.error('No such event in this organization'),
        },
      }),
    },
  };
}

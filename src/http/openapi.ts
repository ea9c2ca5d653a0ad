// The OpenAPI 3.1 document of the receiver, built from the zod schemas the routes validate with
// (request side) and the response schemas below (what the views return), plus the auth schemes
// and the key scopes of src/http/auth.ts. Served at /openapi.json; /docs renders it.
import type Router from '@koa/router';
import { z } from 'zod';
import { CALL_EVENT_TYPES, OUTCOMES, PROVIDERS } from '../domain/events';
import { CALL_STATUSES } from '../domain/reducer';
import { SpecPayload } from '../providers/generic';
import type { KeyScope } from '../store/organizations';
import { ALLOWED } from './auth';
import { listQuery as callListQuery } from './calls';
import { createBody, patchBody } from './contacts';
import { cancelBody, listQuery as followUpListQuery, retryBody, scheduleBody } from './control';
import { callingRulesBody, doNotCallBody, doNotCallListQuery } from './compliance';
import { DOCS_HTML } from './docsPage';
import { AnalyticsAgents, AnalyticsSummary, AnalyticsTimeseries, agentsQuery, summaryQuery, timeseriesQuery } from './analytics';
import type { RouteClass } from './rateLimit';
import { DashboardQueues, DashboardSession, DashboardSignedIn, DashboardSignedOut, dashboardPaths } from './dashboard';
import { eventPaths } from './events';

type Json = Record<string, unknown>;

// ---- response bodies (what src/http/views.ts and the routes return) ----
const isoTime = z.string().describe('ISO-8601 time');
const ErrorBody = z.strictObject({
  error: z.string().describe('A short category: "Invalid webhook payload", "Unauthorized", "Not Found"...'),
  message: z.string().describe('What was wrong, naming the field or header'),
});
const TimelineEntry = z.looseObject({
  eventId: z.string(),
  type: z.enum([...CALL_EVENT_TYPES, 'call.updated']),
  providerEvent: z.string(),
  occurredAt: isoTime.optional(),
  receivedAt: isoTime,
  outcome: z.enum(OUTCOMES).optional(),
  ignored: z.string().optional(),
  requestId: z.string().optional().describe('X-Request-Id of the webhook request that brought the event'),
});
const Call = z.looseObject({
  callId: z.string(),
  provider: z.enum(PROVIDERS),
  status: z.enum(CALL_STATUSES),
  outcome: z.enum(OUTCOMES).optional(),
  endedReason: z.string().optional().describe("The platform's own end reason, verbatim"),
  duration: z.number().optional().describe('Seconds'),
  durationSec: z.number().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
  startedAt: isoTime.optional(),
  answeredAt: isoTime.optional(),
  endedAt: isoTime.optional(),
  recordingReady: z.boolean(),
  recordingUrl: z.string().optional(),
  transcript: z.string().optional(),
  agentId: z.string().optional(),
  contactId: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  analysis: z.looseObject({}).optional(),
  eventCount: z.number().int(),
  timeline: z.array(TimelineEntry),
  email: z.looseObject({ status: z.enum(['sending', 'sent', 'skipped', 'failed']) }).optional(),
  followUp: z.looseObject({}).optional().describe('The follow-up plan as the workflow last recorded it'),
  nextFollowUpAt: isoTime.nullable().optional(),
  stale: z
    .looseObject({ since: isoTime, reason: z.string(), polls: z.number().int() })
    .optional()
    .describe('Set while no end was reported and the platform could not say how the call ended; a later event clears it'),
  cost: z
    .looseObject({ amountCents: z.number(), currency: z.string(), source: z.string() })
    .optional()
    .describe('What the platform says the call cost: amountCents in hundredths of currency (US cents), breakdown in the same unit'),
  workflowId: z.string(),
  temporalUi: z.string().describe("The call's workflow in the Temporal UI"),
  createdAt: isoTime,
  updatedAt: isoTime,
});
/** A call in a list: the same fields without the timeline and transcript, which can be long. */
const CallListItem = Call.omit({ timeline: true, transcript: true });
const CallList = z.strictObject({
  items: z.array(CallListItem),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
const Contact = z.looseObject({
  contactId: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  timezone: z.string().optional(),
  callCount: z.number().int().optional(),
  lastCallDate: isoTime.optional(),
  lastCallId: z.string().optional(),
  lastCallDuration: z.number().optional(),
  followUps: z.looseObject({ attemptsLast24h: z.number().int(), cap: z.number().int(), nextFreeAt: isoTime.optional() }).optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
const WebhookAck = z.strictObject({ success: z.literal(true), message: z.string(), callId: z.string() });
const ControlAccepted = z.looseObject({
  success: z.literal(true),
  callId: z.string(),
  workflowId: z.string(),
  command: z.string(),
  message: z.string().describe("The workflow's own answer"),
});
const FollowUpList = z.strictObject({
  items: z.array(z.looseObject({ originalCallId: z.string(), attempt: z.number().int(), status: z.string() })),
  total: z.number().int(),
});
const CallingRules = z.looseObject({
  callingWindow: z.looseObject({
    start: z.string(),
    end: z.string(),
    days: z.array(z.string()),
    regions: z.array(z.looseObject({ region: z.string() })),
  }),
  defaultTimeZone: z.string(),
  contactCapPer24h: z.number().int(),
  optOutField: z.string(),
  dailyDialBudget: z.number().int(),
});
const DoNotCallList = z.strictObject({
  items: z.array(z.looseObject({ phone: z.string(), reason: z.string(), source: z.string(), at: isoTime })),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
const DoNotCallAdded = z.strictObject({ added: z.number().int(), received: z.number().int(), canceledFollowUps: z.array(z.string()) });
const Health = z.strictObject({ status: z.literal('ok') });
const Ready = z.strictObject({
  status: z.enum(['ready', 'degraded', 'not ready']),
  checks: z.strictObject({ mongodb: z.string(), temporal: z.string() }),
  inbox: z.strictObject({ depth: z.number().int(), oldestAgeSec: z.number(), deadLetters: z.number().int() }).nullable(),
});

const components = {
  ErrorBody,
  TimelineEntry,
  Call,
  CallListItem,
  CallList,
  Contact,
  WebhookAck,
  ControlAccepted,
  FollowUpList,
  CallingRules,
  DoNotCallList,
  DoNotCallAdded,
  Health,
  Ready,
  GenericCallEvent: SpecPayload,
  AnalyticsSummary,
  AnalyticsTimeseries,
  AnalyticsAgents,
  DashboardQueues,
  DashboardSession,
  DashboardSignedIn,
  DashboardSignedOut,
};
type ComponentName = keyof typeof components;

function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema as z.ZodType, { id });
  const out = z.toJSONSchema(registry, { io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  // GenericCallEvent is a request body: its input side is what a sender may post.
  out.schemas.GenericCallEvent = z.toJSONSchema(SpecPayload, { io: 'input', unrepresentable: 'any' });
  const clean: Record<string, Json> = {};
  for (const [id, s] of Object.entries(out.schemas)) {
    const { $schema: _s, id: _id, ...rest } = s as Json;
    clean[id] = rest;
  }
  return clean;
}

const input = (schema: z.ZodType): Json => {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
};
const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const error = (description: string) => json('ErrorBody', description);

/** Query parameters from a zod object schema: one parameter per property. */
function queryParams(schema: z.ZodType): Json[] {
  const s = input(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    required: s.required?.includes(name) ?? false,
    schema: p,
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}
const pathParam = (name: string, description: string, schema: Json = { type: 'string', minLength: 1 }) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
const body = (schema: z.ZodType, required = true) => ({ required, content: { 'application/json': { schema: input(schema) } } });

/** Which key scopes may call a route class, straight from the auth middleware's table. */
export function scopesFor(cls: RouteClass): KeyScope[] {
  return (Object.keys(ALLOWED) as KeyScope[]).filter((scope) => ALLOWED[scope].includes(cls));
}

/** OpenAPI 3.1 lets a security requirement name roles: one alternative per scope that may call. */
function security(cls: RouteClass): Json {
  const scopes = scopesFor(cls);
  // The dashboard's session cookie stands for its key on every route but the webhooks (src/http/session.ts).
  const schemes = cls === 'webhook' ? ['ApiKeyHeader', 'ApiKeyQuery'] : ['ApiKeyHeader', 'SessionCookie'];
  return { security: schemes.flatMap((s) => scopes.map((scope) => ({ [s]: [scope] }))), 'x-scopes': scopes };
}

const authErrors = (cls: RouteClass) => ({
  401: error('No API key, an unknown or revoked one, or (webhooks) a missing or wrong signature; the message names the header'),
  403: error(
    `The key's scope does not allow this route (allowed: ${scopesFor(cls).join(', ')})` +
      (cls === 'control' ? '; or, with a session cookie, a request from another site or without the CSRF token' : ''),
  ),
  429: error(
    "The key's rate limit for this route class is used up, or this address sent too many invalid keys (5/s, burst 20); Retry-After says when to come back",
  ),
  500: error('An unexpected error (logged with the request id)'),
  503: error('The database (or, for control, Temporal) cannot be reached; retry after Retry-After'),
});

function operation(
  cls: RouteClass,
  op: { summary: string; description?: string; tags: string[]; parameters?: Json[]; requestBody?: Json; responses: Json },
): Json {
  return { ...op, ...security(cls), responses: { ...op.responses, ...authErrors(cls) } };
}

let cached: Json | undefined;

export function openApiDocument(): Json {
  if (cached) return cached;
  const callId = pathParam('callId', "The platform's call id");
  const contactId = pathParam('contactId', 'The contact id');
  const webhookResponses = {
    200: json('WebhookAck', "The events are durable (in the inbox, then the call's Temporal history); nothing acknowledged is lost"),
    400: error('Malformed JSON, a missing field or an unknown event; the message names the field'),
    413: error('Body over WEBHOOK_BODY_LIMIT'),
    415: error('A Content-Type other than JSON (or form-encoded, for Twilio)'),
  };
  const webhookBody = {
    required: true,
    content: {
      'application/json': {
        schema: { anyOf: [ref('GenericCallEvent'), { type: 'object', description: "A platform's own payload (Retell, Vapi, Bland)" }] },
      },
      'application/x-www-form-urlencoded': {
        schema: { type: 'object', description: "Twilio's status callback fields", additionalProperties: { type: 'string' } },
      },
    },
  };
  const controlResponses = (what: string) => ({
    202: json('ControlAccepted', `The workflow took the ${what}; its own note is the message`),
    400: error('A body field is wrong; the message names it'),
    404: error('No such call in this organization'),
    409: error('The workflow refused (nothing to do) or has finished'),
    413: error('Body over the limit'),
    415: error('A body that is not JSON'),
  });
  const doc: Json = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Calls API',
      version: '0.1.0',
      description:
        'Phone-call webhooks from voice-AI platforms turned into durable follow-through. Every response carries ' +
        "X-Request-Id (the caller's when it is a plain token of up to 128 characters, else a new UUID). Errors are " +
        '`{"error", "message"}`. API keys have a scope: `webhook` (webhook routes only), `read` (GET routes), `admin` ' +
        '(everything); each operation lists the scopes that may call it under `x-scopes`.',
    },
    tags: [
      { name: 'webhooks', description: 'Call events from the platforms' },
      { name: 'calls', description: 'Call records' },
      { name: 'contacts' },
      { name: 'follow-ups', description: 'Manual control of follow-up calls' },
      { name: 'compliance', description: 'Calling window, do-not-call list, opt-out field' },
      { name: 'analytics', description: "Call figures from hourly rollups, in the organization's time zone" },
      { name: 'dashboard', description: 'The operations dashboard at /dashboard: sign-in, session, page assets, the queues it lists' },
      { name: 'operations', description: 'Health, readiness, metrics and this document; no API key' },
    ],
    components: {
      securitySchemes: {
        ApiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: "The organization's key, `ck_<id>_<secret>`" },
        ApiKeyQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'api_key',
          description: 'The same key in the URL, for platforms that cannot set headers; webhook routes only',
        },
        SessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'calls_session',
          description:
            "The dashboard's session (POST /dashboard/sign-in with a read or admin key): it acts as that key, with its scope. Requests that change something also need the session's X-CSRF-Token and must come from this origin",
        },
      },
      schemas: componentSchemas(),
    },
    paths: {
      '/api/calls/webhook': {
        post: operation('webhook', {
          summary: "Receive a call event; the platform is told by the body's provider, the signature headers or the shape",
          tags: ['webhooks'],
          requestBody: webhookBody,
          responses: webhookResponses,
        }),
      },
      '/api/calls/webhook/{provider}': {
        post: operation('webhook', {
          summary: 'Receive a call event from one platform (the URL to paste into its dashboard)',
          tags: ['webhooks'],
          parameters: [pathParam('provider', 'The platform', { type: 'string', enum: [...PROVIDERS] })],
          requestBody: webhookBody,
          responses: { ...webhookResponses, 404: error('An unknown platform in the URL') },
        }),
      },
      '/api/calls': {
        get: operation('read', {
          summary: 'List calls, newest first',
          tags: ['calls'],
          parameters: queryParams(callListQuery),
          responses: { 200: json('CallList', 'A page of calls'), 400: error('A query parameter is wrong; the message names it') },
        }),
      },
      '/api/calls/{callId}': {
        get: operation('read', {
          summary: 'One call: status, outcome, duration, recording, transcript, timeline, workflow link',
          tags: ['calls'],
          parameters: [callId],
          responses: { 200: json('Call', 'The call'), 400: error('A malformed id'), 404: error('No such call in this organization') },
        }),
      },
      '/api/calls/{callId}/retry': {
        post: operation('control', {
          summary: 'Place the follow-up call now (retryNow)',
          tags: ['follow-ups'],
          parameters: [callId],
          requestBody: body(retryBody, false),
          responses: controlResponses('retry'),
        }),
      },
      '/api/calls/{callId}/follow-up/cancel': {
        post: operation('control', {
          summary: 'Stop following up (cancelFollowUp)',
          tags: ['follow-ups'],
          parameters: [callId],
          requestBody: body(cancelBody),
          responses: controlResponses('cancel'),
        }),
      },
      '/api/calls/{callId}/follow-up/schedule': {
        post: operation('control', {
          summary: 'Schedule the next follow-up call at a time or after a delay (scheduleFollowUp)',
          tags: ['follow-ups'],
          parameters: [callId],
          requestBody: body(scheduleBody),
          responses: controlResponses('schedule'),
        }),
      },
      '/api/follow-ups': {
        get: operation('read', {
          summary: 'Follow-up call attempts, e.g. ?status=due: waiting for a person',
          tags: ['follow-ups'],
          parameters: queryParams(followUpListQuery),
          responses: { 200: json('FollowUpList', 'The attempts'), 400: error('A query parameter is wrong') },
        }),
      },
      '/api/contacts': {
        post: operation('control', {
          summary: 'Create a contact',
          tags: ['contacts'],
          requestBody: body(createBody),
          responses: {
            201: json('Contact', 'Created'),
            400: error('A field is wrong; the message names it'),
            409: error('The contact id exists'),
            413: error('Body over the limit'),
            415: error('A body that is not JSON'),
          },
        }),
      },
      '/api/contacts/{contactId}': {
        get: operation('read', {
          summary: 'A contact with its call count and last call',
          tags: ['contacts'],
          parameters: [contactId],
          responses: { 200: json('Contact', 'The contact'), 400: error('A malformed id'), 404: error('No such contact') },
        }),
        patch: operation('control', {
          summary: 'Set name, email, phone or time zone; doNotCall {reason} marks the contact do-not-call (null clears it)',
          tags: ['contacts'],
          parameters: [contactId],
          requestBody: body(patchBody),
          responses: {
            200: json('Contact', 'The updated contact'),
            400: error('A field is wrong; the message names it'),
            404: error('No such contact'),
            413: error('Body over the limit'),
            415: error('A body that is not JSON'),
          },
        }),
      },
      '/api/settings/calling-rules': {
        get: operation('read', {
          summary: 'The calling rules: window (local hours, days, regional rules), default time zone, per-contact cap, opt-out field',
          tags: ['compliance'],
          responses: { 200: json('CallingRules', 'The rules, defaults filled in') },
        }),
        put: operation('control', {
          summary: 'Change the calling rules; fields left out keep their value',
          tags: ['compliance'],
          requestBody: body(callingRulesBody),
          responses: {
            200: json('CallingRules', 'The rules now in force'),
            400: error('A field is wrong; the message names it'),
            413: error('Body over the limit'),
            415: error('A body that is not JSON'),
          },
        }),
      },
      '/api/do-not-call': {
        get: operation('read', {
          summary: "The organization's do-not-call numbers",
          tags: ['compliance'],
          parameters: queryParams(doNotCallListQuery),
          responses: { 200: json('DoNotCallList', 'A page of numbers'), 400: error('A query parameter is wrong') },
        }),
        post: operation('control', {
          summary: 'Put numbers on the do-not-call list ({phone, reason} or {numbers: [...]}); their pending follow-ups are canceled',
          tags: ['compliance'],
          requestBody: body(doNotCallBody),
          responses: {
            201: json('DoNotCallAdded', 'Added (numbers already listed keep their first reason)'),
            400: error('A number is not E.164; the message names it'),
            413: error('Body over the limit'),
            415: error('A body that is not JSON'),
          },
        }),
      },
      '/api/do-not-call/{phone}': {
        delete: operation('control', {
          summary: 'Take a number off the do-not-call list',
          tags: ['compliance'],
          parameters: [pathParam('phone', 'E.164 number, e.g. +14155551234')],
          responses: { 200: { description: 'Removed' }, 400: error('Not a phone number'), 404: error('The number is not on the list') },
        }),
      },
      '/api/analytics/summary': {
        get: operation('read', {
          summary:
            'Totals over a range: calls, answer rate, outcomes, duration (average, median, histogram), cost per currency, follow-ups, emails, stale calls. ' +
            'The median is exact for small sets, else estimated within a histogram bucket (duration.medianExact says which; see duration.medianSec)',
          tags: ['analytics'],
          parameters: queryParams(summaryQuery),
          responses: {
            200: json('AnalyticsSummary', 'The figures'),
            400: error('A query parameter is wrong, or the range too long; the message names it'),
          },
        }),
      },
      '/api/analytics/timeseries': {
        get: operation('read', {
          summary: "Calls per local hour, day or week in the organization's time zone, grouped by outcome, provider or agent",
          tags: ['analytics'],
          parameters: queryParams(timeseriesQuery),
          responses: {
            200: json('AnalyticsTimeseries', 'One bucket per interval'),
            400: error('A query parameter is wrong, or the range too long for the interval; the message names it'),
          },
        }),
      },
      '/api/analytics/agents': {
        get: operation('read', {
          summary: 'Per agent: calls, answer rate, duration, success rate (platform analysis) and cost',
          tags: ['analytics'],
          parameters: queryParams(agentsQuery),
          responses: {
            200: json('AnalyticsAgents', 'One item per agent, most calls first'),
            400: error('A query parameter is wrong; the message names it'),
          },
        }),
      },
      '/healthz': {
        get: { summary: 'Liveness', tags: ['operations'], security: [], responses: { 200: json('Health', 'The process answers') } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the database (needed to acknowledge webhooks), Temporal, the inbox',
          tags: ['operations'],
          security: [],
          responses: {
            200: json('Ready', 'Ready or degraded (Temporal down: events wait in the inbox)'),
            503: json('Ready', 'The database cannot be reached'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format); no key: aggregate counts only, keep it off the public proxy',
          tags: ['operations'],
          security: [],
          responses: {
            200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          tags: ['operations'],
          security: [],
          responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      ...dashboardPaths({ json, error, operation }),
      ...eventPaths({ error, operation, queryParams }),
      '/docs': {
        get: {
          summary: 'This document, readable',
          tags: ['operations'],
          security: [],
          responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
    },
  };
  cached = doc;
  return doc;
}

export function openApiRoutes(router: Router): void {
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });
  router.get('/docs', (ctx) => {
    // The page's one script is inline and fetches /openapi.json from this origin; nothing else may load.
    ctx.set('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_HTML;
  });
}

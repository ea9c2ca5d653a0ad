// The parts the OpenAPI document is built from: the response schemas (what src/http/views.ts and
// the routes return) registered as components, and the helpers that describe an operation (its
// parameters, bodies, responses, and the key scopes of src/http/auth.ts that may call it).
// openapi.ts puts the document together; openapiPaths.ts, dashboard.ts and events.ts describe paths with these helpers.
import { z } from 'zod';
import { CALL_EVENT_TYPES, OUTCOMES, PROVIDERS } from '../domain/events';
import { CALL_STATUSES } from '../domain/reducer';
import { SpecPayload } from '../providers/generic';
import type { KeyScope } from '../store/organizations';
import { AnalyticsAgents, AnalyticsSummary, AnalyticsTimeseries } from './analytics';
import { ALLOWED } from './auth';
import { DashboardQueues, DashboardSession, DashboardSignedIn, DashboardSignedOut } from './dashboard';
import type { RouteClass } from './rateLimit';

export type Json = Record<string, unknown>;

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
  items: z.array(CallListItem).describe('Newest first; calls created in the same millisecond by their id'),
  total: z
    .number()
    .int()
    .describe(
      'Calls that match. Exact when `totalExact` is true (no filter but `from`/`to`, or every matching call was counted); ' +
        'otherwise counted until past this page: at least this many, and more than `offset + limit` exactly when a next page exists',
    ),
  totalExact: z.boolean().describe('Whether `total` is the exact number of matching calls'),
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

export function componentSchemas(): Record<string, Json> {
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
export const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
export const json = (name: ComponentName, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
export const error = (description: string) => json('ErrorBody', description);

/** Query parameters from a zod object schema: one parameter per property. */
export function queryParams(schema: z.ZodType): Json[] {
  const s = input(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    required: s.required?.includes(name) ?? false,
    schema: p,
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}
export const pathParam = (name: string, description: string, schema: Json = { type: 'string', minLength: 1 }) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
export const body = (schema: z.ZodType, required = true) => ({ required, content: { 'application/json': { schema: input(schema) } } });

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

export function operation(
  cls: RouteClass,
  op: { summary: string; description?: string; tags: string[]; parameters?: Json[]; requestBody?: Json; responses: Json },
): Json {
  return { ...op, ...security(cls), responses: { ...op.responses, ...authErrors(cls) } };
}

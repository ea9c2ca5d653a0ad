// The spec's own payload (`callId, event, status, duration, …`), validated with zod, plus the two
// signature schemes a generic sender can use: the seed's hex HMAC and Standard Webhooks.
import { z } from 'zod';
import { CALL_EVENT_TYPES, terminalTypeOf, type CallEvent, type CallEventType, type Outcome, type Provider } from '../domain/events';
import { lookup } from '../domain/limits';
import { normalizePhone } from '../domain/phone';
import {
  OK,
  REPLAY_WINDOW_MS,
  SEED_SIGNATURE_HEADER,
  checkId,
  event,
  fail,
  fromBase64,
  getHeader,
  hmac,
  idsFromMetadata,
  isRecord,
  num,
  parsePayload,
  safeEqual,
  str,
  toIso,
  verifyBodyHmacHex,
  wholeSeconds,
} from './common';
import type { ProviderAdapter, ProviderSecret, VerifyResult, WebhookRequest } from './types';

const STATUS_OUTCOMES: Record<string, Outcome> = {
  completed: 'completed',
  complete: 'completed',
  ended: 'completed',
  success: 'completed',
  successful: 'completed',
  'no-answer': 'no-answer',
  no_answer: 'no-answer',
  noanswer: 'no-answer',
  'not-answered': 'no-answer',
  unanswered: 'no-answer',
  busy: 'busy',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  canceled: 'canceled',
  cancelled: 'canceled',
  voicemail: 'voicemail',
  machine: 'voicemail',
  answering_machine: 'voicemail',
};

/** The outcome a spec-style `status` names, if it names one we know. */
export const outcomeOfStatus = (status: string | undefined): Outcome | undefined =>
  status === undefined ? undefined : lookup(STATUS_OUTCOMES, status.trim().toLowerCase());

// Only the id and the event are required; an optional field of another type is ignored, never a
// 400 that would lose the event.
const optionalString = z.string().nullish().catch(undefined);
export const SpecPayload = z.looseObject({
  callId: z.string(),
  event: z.enum(CALL_EVENT_TYPES),
  provider: optionalString,
  from: optionalString,
  to: optionalString,
  direction: z.enum(['inbound', 'outbound']).nullish().catch(undefined),
  duration: z.unknown().optional(),
  status: optionalString,
  recording_url: optionalString,
  recordingUrl: optionalString,
  transcript: optionalString,
  metadata: z.looseObject({}).nullish().catch(undefined),
  timestamp: z.unknown().optional(),
});

/** True when the body is the spec's common structure (a top-level `callId`). */
export const isSpecShape = (body: Record<string, unknown>): boolean => body.callId !== undefined && body.callId !== null;

/**
 * True for a flat body in the seed's spirit that names a spec event (`call.completed`) but carries
 * no platform id field: it is read as the spec's shape, so a missing id is reported as `callId`.
 */
export const isSeedFlatShape = (body: Record<string, unknown>, idFields: readonly string[]): boolean =>
  isSpecShape(body) || (idFields.every((f) => body[f] === undefined) && typeof body.event === 'string' && body.event.startsWith('call.'));

/**
 * Parses the spec's common structure. Other adapters call it when a body names their provider but
 * has the spec's shape (the seed's first example says `"provider": "retell"` with a `callId`).
 */
export function parseSpecShape(req: WebhookRequest, body: Record<string, unknown>, provider: Provider): CallEvent[] {
  const withAlias = { ...body };
  // `call_id` is accepted for `callId`; an empty id counts as missing.
  const idField =
    (withAlias.callId === undefined || withAlias.callId === null || withAlias.callId === '') && withAlias.call_id !== undefined
      ? 'call_id'
      : 'callId';
  if (idField === 'call_id') withAlias.callId = withAlias.call_id;
  if (withAlias.callId === '' || withAlias.callId === null) delete withAlias.callId;
  const p = parsePayload(SpecPayload, withAlias);
  const callId = checkId(p.callId, idField);

  const occurredAt = toIso(p.timestamp);
  const status = p.status ?? undefined;
  let type: CallEventType = p.event;
  let outcome: Outcome | undefined;
  if (p.event === 'call.completed') {
    outcome = outcomeOfStatus(status) ?? 'completed';
    // "Completed" with a status that says nobody answered is a failed call, whatever the event says.
    type = terminalTypeOf(outcome);
  } else if (p.event === 'call.failed') {
    const o = outcomeOfStatus(status);
    outcome = o === undefined || o === 'completed' ? 'failed' : o;
  }
  const terminal = type === 'call.completed' || type === 'call.failed';

  const meta = p.metadata ?? undefined;
  const ids = idsFromMetadata(meta);
  const webhookId = getHeader(req, 'webhook-id');
  return [
    event({
      eventId: webhookId ? `${provider}:webhook-id:${webhookId}` : `${provider}:${callId}:${p.event}:${status ?? ''}`,
      provider,
      providerEvent: p.event,
      callId,
      type,
      occurredAt,
      receivedAt: req.receivedAt,
      outcome,
      endedReason: terminal ? status : undefined,
      from: normalizePhone(p.from),
      to: normalizePhone(p.to),
      direction: p.direction ?? undefined,
      durationSec: wholeSeconds(num(p.duration)),
      endedAt: terminal ? occurredAt : undefined,
      recordingUrl: p.recording_url ?? p.recordingUrl ?? undefined,
      transcript: p.transcript ?? undefined,
      agentId: ids.agentId ?? checkId(str(body.agentId) ?? str(body.agent_id), 'agentId'),
      contactId: ids.contactId ?? checkId(str(body.contactId) ?? str(body.contact_id), 'contactId'),
      metadata: meta && Object.keys(meta).length > 0 ? meta : undefined,
    }),
  ];
}

/**
 * Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64>` entries over
 * `${webhook-id}.${webhook-timestamp}.${rawBody}`, keyed with the base64 part of a `whsec_` secret.
 */
export function verifyStandardWebhook(req: WebhookRequest, secret: string): VerifyResult {
  const id = getHeader(req, 'webhook-id');
  const ts = getHeader(req, 'webhook-timestamp');
  const sig = getHeader(req, 'webhook-signature');
  if (!sig) return fail('webhook-signature', 'Missing signature header: webhook-signature');
  if (!id) return fail('webhook-id', 'Missing header: webhook-id');
  if (!ts) return fail('webhook-timestamp', 'Missing header: webhook-timestamp');
  if (!/^\d{1,12}$/.test(ts)) return fail('webhook-timestamp', 'Invalid webhook-timestamp (expected unix seconds)');
  if (Math.abs(req.now - Number(ts) * 1000) > REPLAY_WINDOW_MS) {
    return fail('webhook-timestamp', 'webhook-timestamp is outside the 5-minute tolerance');
  }
  const key = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (key.length === 0) return fail('webhook-signature', 'The configured secret is not a Standard Webhooks (whsec_) secret');
  const expected = hmac('sha256', key, `${id}.${ts}.`, req.rawBody);
  for (const entry of sig.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    if (safeEqual(fromBase64(entry.slice(comma + 1)), expected)) return OK;
  }
  return fail('webhook-signature', 'No matching signature in webhook-signature');
}

export const generic: ProviderAdapter = {
  name: 'generic',
  detect: (req, body) =>
    getHeader(req, 'webhook-signature') !== undefined ||
    (isRecord(body) &&
      (body.callId !== undefined || body.call_id !== undefined) &&
      typeof body.event === 'string' &&
      body.event.startsWith('call.')),
  verify(req: WebhookRequest, secret: ProviderSecret): VerifyResult {
    if (getHeader(req, 'webhook-signature')) return verifyStandardWebhook(req, secret.secret);
    return verifyBodyHmacHex(req, secret.secret, SEED_SIGNATURE_HEADER);
  },
  parse: (req, body) => parseSpecShape(req, body, 'generic'),
};

// Retell AI: `{event, call:{…}}` with ms epochs, plus the seed's flat shape (seconds epochs).
import { z } from 'zod';
import { CONNECTED_OUTCOMES, terminalTypeOf, type CallAnalysis, type CallEvent, type CallEventType, type Outcome } from '../domain/events';
import { lookup } from '../domain/limits';
import { costFromRetell } from '../domain/cost';
import { normalizePhone } from '../domain/phone';
import {
  OK,
  REPLAY_WINDOW_MS,
  checkId,
  epochToMs,
  event,
  fail,
  fromHex,
  getHeader,
  hmac,
  idsFromMetadata,
  isRecord,
  nonEmpty,
  num,
  parsePayload,
  safeEqual,
  str,
  toIso,
  wholeSeconds,
  withSeedFallback,
} from './common';
import { isSeedFlatShape, parseSpecShape } from './generic';
import { PayloadError, type ProviderAdapter, type VerifyResult, type WebhookRequest } from './types';

export const RETELL_SIGNATURE_HEADER = 'x-retell-signature';

// Only `call_id` is required; an optional field of another type is ignored, never a 400.
const s = z.string().nullish().catch(undefined);
const time = z.union([z.number(), z.string()]).nullish().catch(undefined);
const RetellCall = z.looseObject({
  call_id: z.string(),
  agent_id: s,
  call_type: s,
  direction: s,
  from_number: s,
  to_number: s,
  from: s,
  to: s,
  call_status: s,
  start_timestamp: time,
  end_timestamp: time,
  duration_ms: z.unknown().optional(),
  transcript: s,
  transcript_object: z.array(z.unknown()).nullish().catch(undefined),
  recording_url: s,
  disconnection_reason: s,
  metadata: z.looseObject({}).nullish().catch(undefined),
  call_cost: z.unknown().optional(),
  call_analysis: z
    .looseObject({
      call_summary: s,
      user_sentiment: s,
      call_successful: z.boolean().nullish().catch(undefined),
      in_voicemail: z.boolean().nullish().catch(undefined),
      custom_analysis_data: z.looseObject({}).nullish().catch(undefined),
    })
    .nullish()
    .catch(undefined),
});
type RetellCall = z.infer<typeof RetellCall>;

/**
 * `disconnection_reason` → outcome. `user_declined` is `busy`: the callee rejected the ringing
 * call, which carriers (and Twilio) report as busy, and "try again later" is the right follow-up.
 * `ivr_reached` is `voicemail`: a machine answered, not the contact.
 */
const REASON_OUTCOMES: Record<string, Outcome> = {
  user_hangup: 'completed',
  agent_hangup: 'completed',
  call_transfer: 'completed',
  inactivity: 'completed',
  max_duration_reached: 'completed',
  transfer_bridged: 'completed',
  transfer_cancelled: 'completed',
  call_take_over: 'completed',
  voicemail_reached: 'voicemail',
  ivr_reached: 'voicemail',
  dial_no_answer: 'no-answer',
  dial_busy: 'busy',
  user_declined: 'busy',
  dial_failed: 'failed',
  invalid_destination: 'failed',
  marked_as_spam: 'failed',
  scam_detected: 'failed',
  concurrency_limit_reached: 'failed',
  no_concurrency_fallback: 'failed',
  no_valid_payment: 'failed',
  telephony_provider_permission_denied: 'failed',
  telephony_provider_unavailable: 'failed',
  sip_routing_error: 'failed',
  registered_call_timeout: 'failed',
};

/** Outcome and event type of an ended Retell call. Unknown reasons fall back on whether it connected. */
export function retellOutcome(call: Pick<RetellCall, 'disconnection_reason' | 'call_status' | 'start_timestamp' | 'duration_ms'>): {
  type: 'call.completed' | 'call.failed';
  outcome: Outcome;
} {
  const reason = call.disconnection_reason ?? undefined;
  const neverConnected = call.call_status === 'not_connected' || call.call_status === 'error';
  const connected =
    !neverConnected &&
    (call.call_status === 'ended' || (call.start_timestamp ?? undefined) !== undefined || (num(call.duration_ms) ?? 0) > 0);
  let outcome: Outcome;
  const known = lookup(REASON_OUTCOMES, reason);
  if (known) outcome = known;
  else if (reason?.startsWith('error_')) outcome = 'failed';
  else if (reason === 'manual_stopped') outcome = connected ? 'completed' : 'canceled';
  else outcome = connected ? 'completed' : 'failed';
  // A call Retell says never connected cannot have completed, whatever the reason says.
  if (neverConnected && CONNECTED_OUTCOMES.has(outcome)) outcome = 'failed';
  return { type: terminalTypeOf(outcome), outcome };
}

/** The seed's flat shape uses the spec's event names; these are what they mean for Retell. */
const SPEC_EVENT_ALIASES: Record<string, string> = {
  'call.answered': 'call_started',
  'call.completed': 'call_ended',
  'call.failed': 'call_ended',
};

function analysisOf(call: RetellCall): CallAnalysis | undefined {
  const a = call.call_analysis;
  if (!a) return undefined;
  const data: Record<string, unknown> = { ...(a.custom_analysis_data ?? {}) };
  if (typeof a.in_voicemail === 'boolean') data.in_voicemail = a.in_voicemail;
  return nonEmpty<CallAnalysis>({
    summary: a.call_summary ?? undefined,
    sentiment: a.user_sentiment ?? undefined,
    successful: a.call_successful ?? undefined,
    data: Object.keys(data).length > 0 ? data : undefined,
  });
}

function parseRetell(req: WebhookRequest, body: Record<string, unknown>): CallEvent[] {
  const nested = isRecord(body.call);
  // The seed's flat shape with a camel-case `callId` (or none, and a spec event) is the spec's common structure.
  if (!nested && isSeedFlatShape(body, ['call_id'])) return parseSpecShape(req, body, 'retell');
  if (typeof body.event !== 'string' || body.event === '') {
    throw new PayloadError('event', body.event === undefined ? 'Missing required field: event' : 'Invalid field: event (expected string)');
  }
  const providerEvent = body.event;
  const call = nested ? parsePayload(RetellCall, body.call, 'call') : parsePayload(RetellCall, body);
  const kind = lookup(SPEC_EVENT_ALIASES, providerEvent) ?? providerEvent;
  const at = nested ? 'call.' : '';
  const callId = checkId(call.call_id, `${at}call_id`);

  const startedAt = toIso(call.start_timestamp);
  const endedAt = toIso(call.end_timestamp);
  const meta = call.metadata ?? undefined;
  const ids = idsFromMetadata(meta, `${at}metadata`);
  const direction: 'inbound' | 'outbound' | undefined =
    call.direction === 'inbound' || call.direction === 'outbound' ? call.direction : undefined;
  const who = {
    from: normalizePhone(call.from_number ?? call.from),
    to: normalizePhone(call.to_number ?? call.to),
    direction,
    agentId: ids.agentId ?? checkId(str(call.agent_id), `${at}agent_id`),
    contactId: ids.contactId,
    metadata: meta && Object.keys(meta).length > 0 ? meta : undefined,
    cost: costFromRetell(call.call_cost),
  };
  const durationMs =
    num(call.duration_ms) ??
    (call.start_timestamp != null && call.end_timestamp != null
      ? epochToMs(Number(call.end_timestamp)) - epochToMs(Number(call.start_timestamp))
      : undefined);
  const postCall = {
    ...who,
    startedAt,
    endedAt,
    durationSec: wholeSeconds(durationMs === undefined ? undefined : durationMs / 1000),
    transcript: call.transcript ?? undefined,
    recordingUrl: call.recording_url ?? undefined,
    analysis: analysisOf(call),
  };
  const base = { provider: 'retell' as const, providerEvent, callId, receivedAt: req.receivedAt };
  const id = `retell:${callId}:${providerEvent}`;

  switch (kind) {
    case 'call_started':
      return [event({ ...base, ...who, eventId: id, type: 'call.answered', occurredAt: startedAt, startedAt })];
    case 'call_ended': {
      const { type, outcome } = retellOutcome(call);
      const forced: CallEventType = providerEvent === 'call.failed' ? 'call.failed' : type;
      return [
        event({
          ...base,
          ...postCall,
          eventId: id,
          type: forced,
          outcome: forced === 'call.failed' && CONNECTED_OUTCOMES.has(outcome) ? 'failed' : outcome,
          endedReason: call.disconnection_reason ?? undefined,
          occurredAt: endedAt,
        }),
      ];
    }
    case 'call_analyzed':
      // Post-call data: it outranks call_ended in the reducer, and carries the same final values.
      return [event({ ...base, ...postCall, eventId: id, type: 'call.updated' })];
    case 'call.initiated':
    case 'call.ringing':
      return [event({ ...base, ...who, eventId: id, type: kind, occurredAt: startedAt })];
    case 'call.recording_ready':
      return [event({ ...base, eventId: id, type: 'call.recording_ready', recordingUrl: call.recording_url ?? undefined })];
    default: {
      // transcript_updated, transfer_*, anything new: timeline only. Mid-call data never goes into
      // fields (it would outrank the final transcript). Successive transcript updates differ by length.
      const progress = call.transcript_object?.length ?? call.transcript?.length;
      const suffix = providerEvent === 'transcript_updated' && progress !== undefined ? `:${progress}` : '';
      return [event({ ...base, eventId: `${id}${suffix}`, type: 'call.updated' })];
    }
  }
}

/**
 * `x-retell-signature: v=<unix ms>,d=<hex>`; d = HMAC-SHA256(API key, rawBody + v). Deliveries more
 * than 5 minutes from our clock either way are refused (replays).
 */
export const verifyRetell = withSeedFallback(RETELL_SIGNATURE_HEADER, (req, secret: string): VerifyResult => {
  const header = getHeader(req, RETELL_SIGNATURE_HEADER);
  if (!header) return fail(RETELL_SIGNATURE_HEADER, `Missing signature header: ${RETELL_SIGNATURE_HEADER}`);
  const m = /^v=(\d{1,16}),d=([0-9a-fA-F]+)$/.exec(header);
  if (!m) return fail(RETELL_SIGNATURE_HEADER, `Malformed ${RETELL_SIGNATURE_HEADER} (expected v=<timestamp>,d=<hex>)`);
  const v = Number(m[1]);
  if (!Number.isSafeInteger(v) || Math.abs(req.now - v) > REPLAY_WINDOW_MS) {
    return fail(RETELL_SIGNATURE_HEADER, `${RETELL_SIGNATURE_HEADER} timestamp is outside the 5-minute window`);
  }
  const expected = hmac('sha256', secret, req.rawBody, String(v));
  return safeEqual(fromHex(m[2]), expected) ? OK : fail(RETELL_SIGNATURE_HEADER, `Invalid signature in ${RETELL_SIGNATURE_HEADER}`);
});

export const retell: ProviderAdapter = {
  name: 'retell',
  detect: (req, body) =>
    getHeader(req, RETELL_SIGNATURE_HEADER) !== undefined ||
    (typeof body.event === 'string' && isRecord(body.call) && typeof body.call.call_id === 'string'),
  verify: (req, secret) => verifyRetell(req, secret.secret),
  parse: parseRetell,
};

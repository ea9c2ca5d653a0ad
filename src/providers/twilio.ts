// Twilio voice status callbacks and recording status callbacks (form-encoded).
import { createHash } from 'node:crypto';
import type { CallEvent, CallEventType, Outcome } from '../domain/events';
import { lookup } from '../domain/limits';
import { costFromUnits } from '../domain/cost';
import { normalizePhone } from '../domain/phone';
import {
  OK,
  bodyDigest,
  checkId,
  event,
  fail,
  formValue,
  getHeader,
  hmac,
  num,
  parseForm,
  safeEqual,
  toIso,
  wholeSeconds,
  withSeedFallback,
  type FormFields,
} from './common';
import { PayloadError, type ProviderAdapter, type VerifyResult, type WebhookRequest } from './types';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

const STATUS_TYPES: Record<string, CallEventType> = {
  queued: 'call.initiated',
  initiated: 'call.initiated',
  ringing: 'call.ringing',
  'in-progress': 'call.answered',
  completed: 'call.completed',
  busy: 'call.failed',
  'no-answer': 'call.failed',
  failed: 'call.failed',
  canceled: 'call.failed',
};
const FAILED_OUTCOMES: Record<string, Outcome> = {
  busy: 'busy',
  'no-answer': 'no-answer',
  failed: 'failed',
  canceled: 'canceled',
};

function parseTwilio(req: WebhookRequest, f: Record<string, unknown>): CallEvent[] {
  const v = (k: string) => formValue(f, k);
  const callSid = checkId(v('CallSid'), 'CallSid');
  if (!callSid) throw new PayloadError('CallSid', 'Missing required field: CallSid');
  const base = { provider: 'twilio' as const, callId: callSid, receivedAt: req.receivedAt };
  const occurredAt = toIso(v('Timestamp'));

  const recordingStatus = v('RecordingStatus');
  if (recordingStatus) {
    const eventId = `twilio:${callSid}:recording:${v('RecordingSid') ?? ''}:${recordingStatus}`;
    const providerEvent = `recording:${recordingStatus}`;
    if (recordingStatus === 'completed') {
      return [event({ ...base, eventId, providerEvent, type: 'call.recording_ready', occurredAt, recordingUrl: v('RecordingUrl') })];
    }
    return [event({ ...base, eventId, providerEvent, type: 'call.updated', occurredAt })];
  }

  const status = v('CallStatus');
  const seqRaw = v('SequenceNumber');
  const sequence = seqRaw !== undefined && /^\d+$/.test(seqRaw) ? Number(seqRaw) : undefined;
  const eventId = `twilio:${callSid}:${seqRaw ?? status ?? bodyDigest(req.rawBody)}`;
  const type: CallEventType = lookup(STATUS_TYPES, status) ?? 'call.updated';
  if (type === 'call.updated') {
    return [event({ ...base, eventId, providerEvent: status ?? 'unknown', type, occurredAt, sequence })];
  }
  const direction = v('Direction');
  const answeredBy = v('AnsweredBy');
  const machine = answeredBy !== undefined && answeredBy.startsWith('machine');
  let outcome: Outcome | undefined;
  if (type === 'call.failed') outcome = lookup(FAILED_OUTCOMES, status) ?? 'failed';
  if (type === 'call.completed') outcome = machine ? 'voicemail' : 'completed';
  const duration = num(v('CallDuration'));
  return [
    event({
      ...base,
      eventId,
      providerEvent: status as string,
      type,
      occurredAt,
      sequence,
      outcome,
      endedReason: type === 'call.failed' ? status : machine && type === 'call.completed' ? answeredBy : undefined,
      from: normalizePhone(v('From')),
      to: normalizePhone(v('To')),
      direction: direction === 'inbound' ? 'inbound' : direction?.startsWith('outbound') ? 'outbound' : undefined,
      durationSec: type === 'call.completed' || type === 'call.failed' ? wholeSeconds(duration) : undefined,
      endedAt: type === 'call.completed' || type === 'call.failed' ? occurredAt : undefined,
      recordingUrl: v('RecordingUrl'),
      cost: costFromUnits(v('Price'), 'twilio.Price', { currency: v('PriceUnit') }),
    }),
  ];
}

/** Twilio's signed string: the URL, then every key (sorted) followed by its value (repeats sorted, deduped). */
export function twilioSignature(authToken: string, url: string, params: FormFields): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    const values = Array.isArray(value) ? Array.from(new Set(value)).sort() : [value];
    for (const x of values) data += key + x;
  }
  return hmac('sha1', authToken, Buffer.from(data, 'utf8')).toString('base64');
}

/** Twilio may have signed the URL with or without the default port; try both, as its SDK does. */
function urlVariants(url: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m;
  const portAt = authority.indexOf(':', authority.lastIndexOf(']') + 1);
  const host = portAt === -1 ? authority : authority.slice(0, portAt);
  const withPort = portAt === -1 ? `${host}${scheme.toLowerCase() === 'https://' ? ':443' : ':80'}` : authority;
  return Array.from(new Set([url, scheme + host + rest, scheme + withPort + rest]));
}

/**
 * `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, publicUrl + sorted params)). For JSON bodies
 * Twilio signs the URL alone and puts the body's SHA-256 in the `bodySHA256` query parameter.
 */
export const verifyTwilio = withSeedFallback(TWILIO_SIGNATURE_HEADER, (req, authToken: string): VerifyResult => {
  const given = getHeader(req, TWILIO_SIGNATURE_HEADER);
  if (!given) return fail(TWILIO_SIGNATURE_HEADER, `Missing signature header: ${TWILIO_SIGNATURE_HEADER}`);
  let bodyHash: string | null = null;
  try {
    bodyHash = new URL(req.publicUrl).searchParams.get('bodySHA256');
  } catch {
    return fail(TWILIO_SIGNATURE_HEADER, 'The configured public URL is not a valid URL');
  }
  const params: FormFields = bodyHash === null && req.contentType === 'application/x-www-form-urlencoded' ? parseForm(req.rawBody) : {};
  const signed = urlVariants(req.publicUrl).some((url) => safeEqual(given, twilioSignature(authToken, url, params)));
  if (!signed) return fail(TWILIO_SIGNATURE_HEADER, `Invalid signature in ${TWILIO_SIGNATURE_HEADER}`);
  if (bodyHash !== null) {
    const actual = createHash('sha256').update(req.rawBody).digest('hex');
    if (!safeEqual(bodyHash.toLowerCase(), actual)) return fail(TWILIO_SIGNATURE_HEADER, 'Body does not match bodySHA256');
  }
  return OK;
});

export const twilio: ProviderAdapter = {
  name: 'twilio',
  detect: (req, body) =>
    getHeader(req, TWILIO_SIGNATURE_HEADER) !== undefined ||
    (req.contentType === 'application/x-www-form-urlencoded' && body.CallSid !== undefined),
  verify: (req, secret) => verifyTwilio(req, secret.secret),
  parse: parseTwilio,
};

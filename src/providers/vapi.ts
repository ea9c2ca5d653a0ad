// Vapi server messages: `{message:{type, call, …}}`, and the seed's top-level `type` shape.
import { terminalTypeOf, type CallAnalysis, type CallEvent, type CallEventType, type Outcome } from '../domain/events';
import { lookup } from '../domain/limits';
import { costFromUnits } from '../domain/cost';
import { normalizePhone } from '../domain/phone';
import {
  OK,
  REPLAY_WINDOW_MS,
  bodyDigest,
  checkId,
  epochToMs,
  event,
  fail,
  fromBase64,
  fromHex,
  getHeader,
  hmac,
  idsFromMetadata,
  isRecord,
  nonEmpty,
  num,
  safeEqual,
  secondsBetween,
  str,
  toIso,
  wholeSeconds,
  withSeedFallback,
} from './common';
import { isSeedFlatShape, parseSpecShape } from './generic';
import { PayloadError, type ProviderAdapter, type ProviderSecret, type VerifyResult, type WebhookRequest } from './types';

export const VAPI_SECRET_HEADER = 'x-vapi-secret';

/** `endedReason` values with a known outcome. The set is huge and growing; patterns cover the rest. */
const REASON_OUTCOMES: Record<string, Outcome> = {
  'customer-did-not-answer': 'no-answer',
  'customer-busy': 'busy',
  voicemail: 'voicemail',
  'manually-canceled': 'canceled',
  'customer-ended-call': 'completed',
  'assistant-ended-call': 'completed',
  'assistant-said-end-call-phrase': 'completed',
  'assistant-ended-call-after-message-spoken': 'completed',
  'assistant-ended-call-with-hangup-task': 'completed',
  'assistant-forwarded-call': 'completed',
  'exceeded-max-duration': 'completed',
  'silence-timed-out': 'completed',
  'customer-ended-call-before-warm-transfer': 'completed',
};

/**
 * Outcome of an ended Vapi call. Explicit reasons first; then anything error-like (`*failed*`,
 * `*error*`, `pipeline-*`, rejected/not-found) is `failed`; then end/transfer phrases are
 * `completed`; an unknown reason is `completed` if the call had started, else `failed`.
 */
export function vapiOutcome(endedReason: string | undefined, started: boolean): Outcome {
  if (endedReason) {
    const r = endedReason.toLowerCase();
    const known = lookup(REASON_OUTCOMES, r);
    if (known) return known;
    if (/fail|error|pipeline-|rejected|not-found|invalid|unauthorized|denied|insufficient|no-?answer/.test(r)) {
      return /no-?answer/.test(r) ? 'no-answer' : 'failed';
    }
    if (/busy/.test(r)) return 'busy';
    if (/voicemail/.test(r)) return 'voicemail';
    if (/cancel/.test(r)) return 'canceled';
    if (/ended-call|end-call|hangup|forwarded|transfer|timed-out|max-duration/.test(r)) return 'completed';
  }
  return started ? 'completed' : 'failed';
}

const STATUS_TYPES: Record<string, CallEventType> = {
  scheduled: 'call.initiated',
  queued: 'call.initiated',
  ringing: 'call.ringing',
  'in-progress': 'call.answered',
};

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

function successOf(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  return undefined;
}

function parseVapi(req: WebhookRequest, body: Record<string, unknown>): CallEvent[] {
  const nested = isRecord(body.message);
  if (!nested && body.type === undefined && isSeedFlatShape(body, ['call'])) return parseSpecShape(req, body, 'vapi');
  const msg = nested ? (body.message as Record<string, unknown>) : body;
  const at = nested ? 'message.' : '';

  if (typeof msg.type !== 'string' || msg.type === '') {
    throw new PayloadError(
      `${at}type`,
      msg.type === undefined ? `Missing required field: ${at}type` : `Invalid field: ${at}type (expected string)`,
    );
  }
  const type = msg.type;
  // Only the call id is required; everything else is read defensively (the SDK types lag reality).
  const call = rec(msg.call);
  const callId = checkId(str(call.id), `${at}call.id`) ?? checkId(str(msg.callId), `${at}callId`);
  if (!callId) {
    const field = `${at}call.id`;
    const v = call.id;
    throw new PayloadError(
      field,
      v === undefined || v === null || v === ''
        ? `Missing required field: ${field}`
        : `Invalid field: ${field} (expected string, received ${Array.isArray(v) ? 'array' : typeof v})`,
    );
  }
  const id = callId;

  const status = str(msg.status) ?? (type === 'status-update' ? str(call.status) : undefined);
  const providerEvent = status && type === 'status-update' ? `${type}:${status}` : type;
  const base = { provider: 'vapi' as const, providerEvent, callId: id, receivedAt: req.receivedAt };
  const occurredAt = toIso(msg.timestamp);

  // Who and what, as far as any message says; only lifecycle events carry it into fields.
  const assistant = rec(msg.assistant);
  const overrides = rec(call.assistantOverrides);
  const metaSources: [unknown, string][] = [
    [overrides.metadata, `${at}call.assistantOverrides.metadata`],
    [assistant.metadata, `${at}assistant.metadata`],
    [call.metadata, `${at}call.metadata`],
  ];
  const [meta, metaField] = (metaSources.find(([m]) => isRecord(m) && Object.keys(m).length > 0) ?? [undefined, 'metadata']) as [
    Record<string, unknown> | undefined,
    string,
  ];
  const ids = idsFromMetadata(meta, metaField);
  const customer = str(rec(msg.customer).number) ?? str(rec(call.customer).number);
  const ours = str(rec(msg.phoneNumber).number) ?? str(rec(call.phoneNumber).number);
  const callType = str(call.type) ?? str(msg.callType);
  const inbound = callType === 'inboundPhoneCall';
  const phoneCall = callType === undefined || /PhoneCall$/.test(callType);
  const who = {
    from: phoneCall ? normalizePhone(inbound ? customer : ours) : undefined,
    to: phoneCall ? normalizePhone(inbound ? ours : customer) : undefined,
    direction:
      callType === 'inboundPhoneCall' ? ('inbound' as const) : callType === 'outboundPhoneCall' ? ('outbound' as const) : undefined,
    agentId: ids.agentId ?? checkId(str(call.assistantId), `${at}call.assistantId`) ?? checkId(str(assistant.id), `${at}assistant.id`),
    contactId: ids.contactId,
    metadata: meta,
  };
  const startedAt = toIso(msg.startedAt) ?? toIso(call.startedAt);
  const endedAt = toIso(msg.endedAt) ?? toIso(call.endedAt);
  const endedReason = str(msg.endedReason) ?? str(call.endedReason);

  if (type === 'status-update' && status) {
    const eventId = `vapi:${id}:${type}:${status}`;
    const mapped = lookup(STATUS_TYPES, status);
    if (mapped)
      return [event({ ...base, ...who, eventId, type: mapped, occurredAt, startedAt: mapped === 'call.answered' ? startedAt : undefined })];
    if (status === 'ended') {
      const outcome = vapiOutcome(endedReason, startedAt !== undefined);
      return [
        event({
          ...base,
          ...who,
          eventId,
          type: terminalTypeOf(outcome),
          outcome,
          endedReason,
          occurredAt: occurredAt ?? endedAt,
          startedAt,
          endedAt,
        }),
      ];
    }
    return [event({ ...base, eventId, type: 'call.updated', occurredAt })]; // forwarding and future statuses
  }

  if (type === 'end-of-call-report') {
    const artifact = rec(msg.artifact);
    const mono = rec(rec(artifact.recording).mono);
    const analysis = rec(msg.analysis);
    const outcome = vapiOutcome(endedReason, startedAt !== undefined);
    const duration =
      num(msg.durationSeconds) ??
      num(call.durationSeconds) ??
      (num(msg.durationMs) !== undefined ? (num(msg.durationMs) as number) / 1000 : undefined) ??
      secondsBetween(startedAt, endedAt);
    const data: Record<string, unknown> = {};
    if (analysis.structuredData !== undefined && analysis.structuredData !== null) data.structuredData = analysis.structuredData;
    if (analysis.successEvaluation !== undefined && analysis.successEvaluation !== null)
      data.successEvaluation = analysis.successEvaluation;
    return [
      event({
        ...base,
        ...who,
        eventId: `vapi:${id}:${type}:`,
        type: terminalTypeOf(outcome),
        outcome,
        endedReason,
        occurredAt: occurredAt ?? endedAt,
        startedAt,
        endedAt,
        durationSec: wholeSeconds(duration),
        transcript: str(artifact.transcript) ?? str(msg.transcript) ?? str(call.transcript),
        recordingUrl: str(artifact.recordingUrl) ?? str(mono.combinedUrl) ?? str(msg.recordingUrl) ?? str(call.recordingUrl),
        analysis: nonEmpty<CallAnalysis>({
          summary: str(analysis.summary) ?? str(msg.summary),
          successful: successOf(analysis.successEvaluation),
          data: Object.keys(data).length > 0 ? data : undefined,
        }),
        // Vapi reports USD.
        cost: costFromUnits(msg.cost ?? call.cost, 'vapi.cost', { breakdown: msg.costBreakdown ?? call.costBreakdown }),
      }),
    ];
  }

  // Every other message (transcript, speech-update, tool-calls, hang, …): timeline only. Messages of
  // one type differ by their own timestamp; without one, by a digest of the bytes.
  const distinct = typeof msg.timestamp === 'number' || typeof msg.timestamp === 'string' ? String(msg.timestamp) : bodyDigest(req.rawBody);
  return [event({ ...base, eventId: `vapi:${id}:${type}:${distinct}`, type: 'call.updated', occurredAt })];
}

function verifyHmac(req: WebhookRequest, cfg: ProviderSecret): VerifyResult {
  const header = (cfg.header ?? 'x-signature').toLowerCase();
  const tsHeader = (cfg.timestampHeader ?? 'x-timestamp').toLowerCase();
  const format = cfg.payloadFormat ?? '{timestamp}.{body}';
  const given = getHeader(req, header);
  if (!given) return fail(header, `Missing signature header: ${header}`);
  const ts = getHeader(req, tsHeader);
  if (format.includes('{timestamp}') && !ts) return fail(tsHeader, `Missing timestamp header: ${tsHeader}`);
  if (ts) {
    const t = Number(ts);
    const ms = Number.isFinite(t) ? epochToMs(t) : Date.parse(ts);
    if (!Number.isFinite(ms) || Math.abs(req.now - ms) > REPLAY_WINDOW_MS) {
      return fail(tsHeader, `${tsHeader} is outside the 5-minute window`);
    }
  }
  const msgId = cfg.messageIdHeader ? (getHeader(req, cfg.messageIdHeader) ?? '') : '';
  // Split around {body} so the raw bytes are signed as received, never re-encoded.
  const fill = (s: string) =>
    s
      .replace(/\{timestamp\}/g, ts ?? '')
      .replace(/\{method\}/g, 'POST')
      .replace(/\{url\}/g, req.publicUrl)
      .replace(/\{svix-id\}/g, msgId);
  const parts: (string | Buffer)[] = [];
  format.split('{body}').forEach((piece, i) => {
    if (i > 0) parts.push(req.rawBody);
    parts.push(fill(piece));
  });
  const expected = hmac(cfg.algorithm ?? 'sha256', cfg.secret, ...parts);
  let sig = given;
  const prefix = cfg.signaturePrefix ?? '';
  if (prefix && sig.startsWith(prefix)) sig = sig.slice(prefix.length);
  const decoded = (cfg.encoding ?? 'hex') === 'base64' ? fromBase64(sig) : fromHex(sig);
  return safeEqual(decoded, expected) ? OK : fail(header, `Invalid signature in ${header}`);
}

/**
 * Vapi credentials: a plain shared secret in `X-Vapi-Secret` (default), a bearer token, or an HMAC
 * over a configurable payload. All comparisons are constant-time.
 */
function verifyVapiNative(req: WebhookRequest, cfg: ProviderSecret): VerifyResult {
  const mode = cfg.mode ?? 'secret';
  if (mode === 'hmac') return verifyHmac(req, cfg);
  if (mode === 'bearer') {
    const header = (cfg.header ?? 'authorization').toLowerCase();
    const given = getHeader(req, header);
    if (!given) return fail(header, `Missing credential header: ${header}`);
    const token = given.replace(/^Bearer\s+/i, '');
    return safeEqual(token, cfg.secret) ? OK : fail(header, `Invalid credential in ${header}`);
  }
  const header = (cfg.header ?? VAPI_SECRET_HEADER).toLowerCase();
  const given = getHeader(req, header);
  if (!given) return fail(header, `Missing credential header: ${header}`);
  return safeEqual(given, cfg.secret) ? OK : fail(header, `Invalid secret in ${header}`);
}

/** In the default secret mode the seed's `X-Webhook-Signature` is accepted when `X-Vapi-Secret` is absent. */
export function verifyVapi(req: WebhookRequest, cfg: ProviderSecret): VerifyResult {
  if ((cfg.mode ?? 'secret') !== 'secret') return verifyVapiNative(req, cfg);
  const header = (cfg.header ?? VAPI_SECRET_HEADER).toLowerCase();
  return withSeedFallback(header, verifyVapiNative, (c: ProviderSecret) => c.secret)(req, cfg);
}

export const vapi: ProviderAdapter = {
  name: 'vapi',
  detect: (req, body) =>
    getHeader(req, VAPI_SECRET_HEADER) !== undefined || (isRecord(body.message) && typeof body.message.type === 'string'),
  verify: verifyVapi,
  parse: parseVapi,
};

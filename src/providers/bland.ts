// Bland AI: one flat call object POSTed when the call ends, and a second POST for the same call
// 30–60 s later with `corrected_transcript`.
import { z } from 'zod';
import { terminalTypeOf, type CallAnalysis, type CallEvent, type Outcome, type TranscriptSegment } from '../domain/events';
import { normalizePhone } from '../domain/phone';
import { costFromUnits } from '../domain/cost';
import {
  checkId,
  event,
  idsFromMetadata,
  isRecord,
  nonEmpty,
  num,
  parsePayload,
  secondsBetween,
  str,
  toIso,
  verifyBodyHmacHex,
  wholeSeconds,
} from './common';
import { isSeedFlatShape, parseSpecShape } from './generic';
import { PayloadError, type ProviderAdapter, type WebhookRequest } from './types';

// Only the call id is required; an optional field of another type is ignored, never a 400.
const s = z.string().nullish().catch(undefined);
const numeric = z.union([z.number(), z.string()]).nullish().catch(undefined);
const BlandCall = z.looseObject({
  event_type: s,
  to: s,
  from: s,
  inbound: z.boolean().nullish().catch(undefined),
  started_at: s,
  end_at: s,
  call_length: numeric,
  corrected_duration: numeric,
  completed: z.boolean().nullish().catch(undefined),
  status: s,
  queue_status: s,
  answered_by: s,
  call_ended_by: s,
  error_message: s,
  recording_url: s,
  concatenated_transcript: s,
  transcript: z.unknown().optional(),
  transcripts: z.unknown().optional(),
  corrected_transcript: z.unknown().optional(),
  summary: s,
  metadata: z.looseObject({}).nullish().catch(undefined),
  analysis: z.unknown().optional(),
  variables: z.unknown().optional(),
  price: z.unknown().optional(),
});
type BlandCall = z.infer<typeof BlandCall>;

/**
 * Duration rule, in order:
 *  1. `corrected_duration` (seconds, a string) when present;
 *  2. else `end_at − started_at` when both are present;
 *  3. else `call_length`, which real Bland sends in MINUTES (float) — except in the seed document's
 *     shape (recognised by `event_type`), whose `call_length: 180` is seconds.
 * The result is rounded to whole seconds like every other duration.
 */
export function blandDurationSec(
  b: Pick<BlandCall, 'corrected_duration' | 'started_at' | 'end_at' | 'call_length' | 'event_type'>,
): number | undefined {
  const corrected = num(b.corrected_duration);
  if (corrected !== undefined) return wholeSeconds(corrected);
  const between = secondsBetween(toIso(b.started_at), toIso(b.end_at));
  if (between !== undefined) return wholeSeconds(between);
  const length = num(b.call_length);
  if (length === undefined) return undefined;
  const seedShape = b.event_type !== undefined && b.event_type !== null;
  return wholeSeconds(seedShape ? length : length * 60);
}

const lower = (v: string | null | undefined) => (v ?? '').trim().toLowerCase();
const isVoicemail = (answeredBy: string) => /voicemail|machine/.test(answeredBy);

/** Outcome from status / queue_status / answered_by / completed / error_message. */
export function blandOutcome(b: Pick<BlandCall, 'status' | 'queue_status' | 'answered_by' | 'completed' | 'error_message'>): Outcome {
  const flags = `${lower(b.status)} ${lower(b.queue_status)}`;
  const answeredBy = lower(b.answered_by);
  if (/no[-_ ]?answer/.test(flags) || /^no[-_ ]?answer$/.test(answeredBy)) return 'no-answer';
  if (/busy/.test(flags)) return 'busy';
  if (/cancel/.test(flags)) return 'canceled';
  if (/fail|error/.test(flags)) return 'failed';
  if (isVoicemail(answeredBy)) return 'voicemail';
  if (b.completed === false || (str(b.error_message) && b.completed !== true)) return 'failed';
  return 'completed';
}

/**
 * Transcript text from a string, an array of utterances (`{user|role|speaker, text}`), or the
 * delayed webhook's object form `{segments: [...], citations}`. Any other shape gives nothing.
 */
function transcriptText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (isRecord(v)) return Array.isArray(v.segments) ? transcriptText(v.segments) : undefined;
  if (!Array.isArray(v)) return undefined;
  const lines = v
    .map((u) => {
      if (typeof u === 'string') return u;
      if (!isRecord(u) || typeof u.text !== 'string') return undefined;
      const who = str(u.user) ?? str(u.role) ?? str(u.speaker);
      return who ? `${who}: ${u.text}` : u.text;
    })
    .filter((l): l is string => l !== undefined);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

// Bounded so a long call's segments stay well inside Temporal's 2 MB payloads next to its transcript.
const MAX_SEGMENTS = 2_000;
const MAX_SEGMENT_CHARS = 150_000;

/** The segments of the object form, each reduced to the fields we know, with their types checked. */
function segmentsOf(v: unknown): TranscriptSegment[] | undefined {
  if (!isRecord(v) || !Array.isArray(v.segments)) return undefined;
  const out: TranscriptSegment[] = [];
  let chars = 0;
  for (const seg of v.segments.slice(0, MAX_SEGMENTS)) {
    if (!isRecord(seg) || typeof seg.text !== 'string') continue;
    chars += seg.text.length;
    if (chars > MAX_SEGMENT_CHARS) break; // the text is whole in `transcript`; segments are extra detail
    out.push(
      compactSegment({
        speaker: str(seg.speaker)?.slice(0, 100),
        text: seg.text,
        confidence: num(seg.confidence),
        startSec: num(seg.start_time),
        endSec: num(seg.end_time),
      }),
    );
  }
  return out.length > 0 ? out : undefined;
}
const compactSegment = (x: TranscriptSegment): TranscriptSegment =>
  Object.fromEntries(Object.entries(x).filter(([, val]) => val !== undefined)) as unknown as TranscriptSegment;

const CALL_DATA_FIELDS = ['status', 'queue_status', 'completed', 'call_length', 'corrected_duration', 'end_at', 'answered_by'] as const;

function parseBland(req: WebhookRequest, body: Record<string, unknown>): CallEvent[] {
  if (body.event_type === undefined && isSeedFlatShape(body, ['call_id', 'c_id'])) return parseSpecShape(req, body, 'bland');
  const callId = checkId(str(body.call_id), 'call_id') ?? checkId(str(body.c_id), 'c_id');
  if (!callId) {
    const v = body.call_id ?? body.c_id;
    throw new PayloadError(
      'call_id',
      v === undefined || v === null || v === ''
        ? 'Missing required field: call_id'
        : `Invalid field: call_id (expected string, received ${Array.isArray(v) ? 'array' : typeof v})`,
    );
  }
  const b = parsePayload(BlandCall, body);
  const base = { provider: 'bland' as const, callId, receivedAt: req.receivedAt };
  const events: CallEvent[] = [];
  const corrected = transcriptText(b.corrected_transcript);
  const hasCallData = CALL_DATA_FIELDS.some((f) => b[f] !== undefined && b[f] !== null);

  // The correction POST usually repeats the call object. Emitting the end event again (same
  // eventId as the first POST) costs nothing when the first arrived, since the reducer drops it as
  // a duplicate, and still ends the call when the first POST was lost or arrives later.
  if (!corrected || hasCallData) {
    const outcome = blandOutcome(b);
    const meta = b.metadata ?? undefined;
    const ids = idsFromMetadata(meta);
    const status = lower(b.status);
    const answeredBy = lower(b.answered_by);
    const endedAt = toIso(b.end_at);
    // The analysis' answers at the top, the call's variables (extracted values among them) beside them.
    const merged = {
      ...(isRecord(b.analysis) ? b.analysis : {}),
      ...(isRecord(b.variables) && Object.keys(b.variables).length > 0 ? { variables: b.variables } : {}),
    };
    const analysisData = Object.keys(merged).length > 0 ? merged : undefined;
    events.push(
      event({
        ...base,
        eventId: `bland:${callId}:ended`,
        providerEvent: b.event_type ?? 'post_call',
        type: terminalTypeOf(outcome),
        outcome,
        endedReason:
          str(b.error_message) ??
          (status && status !== 'completed' && status !== 'complete' ? (b.status ?? undefined) : undefined) ??
          (isVoicemail(answeredBy) ? (b.answered_by ?? undefined) : undefined) ??
          str(b.call_ended_by) ??
          str(b.status),
        occurredAt: endedAt,
        from: normalizePhone(b.from),
        to: normalizePhone(b.to),
        direction: typeof b.inbound === 'boolean' ? (b.inbound ? 'inbound' : 'outbound') : undefined,
        durationSec: blandDurationSec(b),
        startedAt: toIso(b.started_at),
        endedAt,
        recordingUrl: str(b.recording_url),
        transcript: str(b.concatenated_transcript) ?? transcriptText(b.transcript) ?? transcriptText(b.transcripts),
        agentId: ids.agentId,
        contactId: ids.contactId,
        metadata: meta && Object.keys(meta).length > 0 ? meta : undefined,
        analysis: nonEmpty<CallAnalysis>({ summary: str(b.summary), data: analysisData }),
        cost: costFromUnits(b.price, 'bland.price'), // USD
      }),
    );
  }
  if (corrected) {
    // Data only: it outranks the first POST's transcript and never re-triggers effects.
    events.push(
      event({
        ...base,
        eventId: `bland:${callId}:corrected`,
        providerEvent: 'corrected_transcript',
        type: 'call.updated',
        transcript: corrected,
        transcriptSegments: segmentsOf(b.corrected_transcript),
      }),
    );
  }
  return events;
}

export const BLAND_SIGNATURE_HEADER = 'x-webhook-signature';

export const bland: ProviderAdapter = {
  name: 'bland',
  // Bland shares `X-Webhook-Signature` with the generic format, so only the body shape tells them apart.
  detect: (_req, body) =>
    ((typeof body.call_id === 'string' || typeof body.c_id === 'string') &&
      ['call_length', 'corrected_duration', 'concatenated_transcript', 'corrected_transcript', 'c_id'].some(
        (k) => body[k] !== undefined,
      )) ||
    (body.event_type === 'call_ended' && body.call_id !== undefined),
  /** `X-Webhook-Signature` = hex HMAC-SHA256(signing secret, raw body). No timestamp: no replay window. */
  verify: (req, secret) => verifyBodyHmacHex(req, secret.secret, BLAND_SIGNATURE_HEADER),
  parse: parseBland,
};

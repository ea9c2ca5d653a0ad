// Helpers every adapter shares: headers, constant-time HMAC checks, times, durations, zod errors.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { compact } from '../domain/compact';
import type { CallEvent } from '../domain/events';
import { MAX_ID_LENGTH, boundJson, clampFuture, idProblem } from '../domain/limits';
import { PayloadError, type HmacAlgorithm, type VerifyResult, type WebhookRequest } from './types';

export const REPLAY_WINDOW_MS = 5 * 60 * 1000;

export const OK: VerifyResult = { ok: true };
export const fail = (header: string, message: string): VerifyResult => ({ ok: false, header, message });

/** First value of a header, by lower-case name; empty counts as absent. */
export function getHeader(req: WebhookRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** Constant-time comparison; a length mismatch is a plain `false`, never a throw. */
export function safeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return x.length === y.length && timingSafeEqual(x, y);
}

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const h = createHmac(algorithm, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Decodes a hex digest; anything that is not exactly hex gives an empty buffer (so it never matches). */
export function fromHex(s: string): Buffer {
  return /^(?:[0-9a-fA-F]{2})+$/.test(s) ? Buffer.from(s, 'hex') : Buffer.alloc(0);
}

/** Decodes base64 or base64url strictly enough that garbage never matches. */
export function fromBase64(s: string): Buffer {
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(s) ? Buffer.from(s, 'base64') : Buffer.alloc(0);
}

/**
 * The seed document's scheme: `X-Webhook-Signature` = hex HMAC-SHA256 of the raw body. Generic and
 * Bland use it natively; the other adapters accept it when their native header is absent, so the
 * seed's own examples verify whatever provider they name.
 */
export const SEED_SIGNATURE_HEADER = 'x-webhook-signature';
export function verifyBodyHmacHex(req: WebhookRequest, secret: string, header = SEED_SIGNATURE_HEADER): VerifyResult {
  const given = getHeader(req, header);
  if (!given) return fail(header, `Missing signature header: ${header}`);
  const digest = given.replace(/^sha256=/i, '');
  const expected = hmac('sha256', secret, req.rawBody);
  return safeEqual(fromHex(digest), expected) ? OK : fail(header, `Invalid signature in ${header}`);
}

/**
 * Retell, Vapi and Twilio accept the seed's `X-Webhook-Signature` when their native header is
 * absent, so the seed's own examples verify whatever provider they name.
 */
export function withSeedFallback<S>(
  nativeHeader: string,
  verify: (req: WebhookRequest, secret: S) => VerifyResult,
  secretOf: (s: S) => string = (s) => s as unknown as string,
): (req: WebhookRequest, secret: S) => VerifyResult {
  return (req, secret) =>
    !getHeader(req, nativeHeader) && getHeader(req, SEED_SIGNATURE_HEADER) ? verifyBodyHmacHex(req, secretOf(secret)) : verify(req, secret);
}

/** Epoch number in seconds or milliseconds, told apart by magnitude (< 1e11 means seconds). */
export function epochToMs(n: number): number {
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}

/** Any time a platform sends (ISO string, RFC 2822 string, epoch s/ms number or numeric string) to ISO. */
export function toIso(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? isoOrUndefined(epochToMs(v)) : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return isoOrUndefined(epochToMs(Number(s)));
  return isoOrUndefined(Date.parse(s));
}

function isoOrUndefined(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * Durations are whole seconds: the spec's `duration` is an integer, analytics sum them, and the
 * float artifacts of minutes×60 or ms/1000 (179.99999) disappear. Negative values are dropped.
 */
export function wholeSeconds(sec: number | undefined): number | undefined {
  if (sec === undefined || !Number.isFinite(sec) || sec < 0) return undefined;
  return Math.round(sec);
}

/** Seconds between two ISO times, when both exist and are in order. */
export function secondsBetween(startIso: string | undefined, endIso: string | undefined): number | undefined {
  if (!startIso || !endIso) return undefined;
  const d = (Date.parse(endIso) - Date.parse(startIso)) / 1000;
  return Number.isFinite(d) && d >= 0 ? d : undefined;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string, or a number as a string (ids sometimes arrive as numbers). */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A number from a number or a numeric string (Bland's `corrected_duration`, Twilio's form fields). */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * An identifier from a platform field, checked: it ends up in a workflow id or a search attribute,
 * so one that is too long or holds control characters is a PayloadError naming `field`.
 */
export function checkId<T extends string | undefined>(v: T, field: string): T {
  if (v === undefined) return v;
  const problem = v.trim() === '' ? 'must not be empty' : idProblem(v);
  if (problem) throw new PayloadError(field, `Invalid field: ${field} (${problem})`);
  return v;
}

/** Our ids inside a platform's free metadata object (`prefix` names the object in errors). */
export function idsFromMetadata(meta: unknown, prefix = 'metadata'): { contactId?: string; agentId?: string } {
  if (!isRecord(meta)) return {};
  const pick = (a: string, b: string) => {
    const key = str(meta[a]) !== undefined ? a : b;
    return checkId(str(meta[key]), `${prefix}.${key}`);
  };
  return { contactId: pick('contactId', 'contact_id'), agentId: pick('agentId', 'agent_id') };
}

/** Removes empty analysis objects and other empties callers should not emit. */
export function nonEmpty<T extends object>(o: T | undefined): T | undefined {
  if (!o) return undefined;
  const c = compact(o);
  return Object.keys(c).length === 0 ? undefined : c;
}

const cap = (v: string | undefined, max: number) => (v !== undefined && v.length > max ? v.slice(0, max) : v);
const digest = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** The raw-body digest some events use as the distinguishing part of their id. */
export const bodyDigest = (raw: Buffer) => digest(raw).slice(0, 16);

/**
 * Every adapter's last step: drops undefined keys and bounds what goes into Temporal. The ids are
 * checked (a PayloadError names the canonical field unless the adapter checked its own first);
 * an event id built from long platform values becomes a digest of itself (stable, so duplicates
 * still match); times far in the future are clamped; free JSON is bounded; over-long labels cut.
 */
export function event(e: CallEvent): CallEvent {
  const c = compact(e);
  checkId(c.callId, 'callId');
  checkId(c.contactId, 'contactId');
  checkId(c.agentId, 'agentId');
  if (idProblem(c.eventId)) c.eventId = `${c.provider}:sha256:${digest(c.eventId)}`;
  c.providerEvent = cap(c.providerEvent, MAX_ID_LENGTH) as string;
  c.endedReason = cap(c.endedReason, 500);
  if (c.recordingUrl !== undefined && c.recordingUrl.length > 4096) c.recordingUrl = undefined;
  c.occurredAt = clampFuture(c.occurredAt, c.receivedAt);
  c.startedAt = clampFuture(c.startedAt, c.receivedAt);
  c.endedAt = clampFuture(c.endedAt, c.receivedAt);
  c.metadata = boundJson(c.metadata);
  if (c.analysis) {
    c.analysis = nonEmpty({
      ...c.analysis,
      summary: cap(c.analysis.summary, 50_000),
      sentiment: cap(c.analysis.sentiment, MAX_ID_LENGTH),
      data: boundJson(c.analysis.data),
    });
  }
  return compact(c);
}

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const k of path) {
    if (!isRecord(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Runs a zod schema and turns its first issue into a PayloadError naming the field. */
export function parsePayload<S extends z.ZodType>(schema: S, body: unknown, prefix = ''): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || 'body';
  const received = valueAt(body, issue.path);
  if (received === undefined) throw new PayloadError(path, `Missing required field: ${path}`);
  if (issue.code === 'invalid_type') {
    throw new PayloadError(path, `Invalid field: ${path} (expected ${issue.expected}, received ${kindOf(received)})`);
  }
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map(String).join(', ');
    throw new PayloadError(path, `Invalid field: ${path} (expected one of: ${allowed}; received ${JSON.stringify(received)})`);
  }
  throw new PayloadError(path, `Invalid field: ${path} (${issue.message})`);
}

/** Form fields as Twilio sends them: one value as a string, repeated keys as an array (in order). */
export type FormFields = Record<string, string | string[]>;

export function parseForm(raw: Buffer | string): FormFields {
  const fields: FormFields = {};
  for (const [k, v] of new URLSearchParams(typeof raw === 'string' ? raw : raw.toString('utf8'))) {
    const prev = fields[k];
    fields[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return fields;
}

/** The first value of a form field (repeated keys keep their first). */
export function formValue(fields: Record<string, unknown>, key: string): string | undefined {
  const v = fields[key];
  const first: unknown = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' && first !== '' ? first : typeof first === 'number' ? String(first) : undefined;
}

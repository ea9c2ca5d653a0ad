// Which platform sent a webhook, and the adapter that verifies and parses it.
import { PROVIDERS, type Provider } from '../domain/events';
import { bland } from './bland';
import { getHeader, isRecord, parseForm, type FormFields } from './common';
import { generic } from './generic';
import { retell } from './retell';
import { twilio } from './twilio';
import { PayloadError, type ProviderAdapter, type WebhookRequest } from './types';
import { vapi } from './vapi';

export * from './types';
export type { FormFields } from './common';

export const adapters: Record<Provider, ProviderAdapter> = { generic, retell, vapi, bland, twilio };

export const isProvider = (v: unknown): v is Provider => typeof v === 'string' && (PROVIDERS as readonly string[]).includes(v);

/** Headers only one platform sends; they decide before any body shape is looked at. */
const SIGNATURE_HEADERS: readonly (readonly [string, Provider])[] = [
  ['x-retell-signature', 'retell'],
  ['x-twilio-signature', 'twilio'],
  ['x-vapi-secret', 'vapi'],
  ['x-vapi-signature', 'vapi'],
];
/** Then body shapes, most specific first; generic's own check last. */
const DETECTION_ORDER: readonly ProviderAdapter[] = [vapi, retell, twilio, bland, generic];

/**
 * The platform that sent this request: the route's `:provider` wins (an unknown one is a
 * PayloadError on `provider`), then a valid `provider` field in the body, then signature headers
 * and body shapes, then `generic`.
 */
export function detectProvider(req: WebhookRequest, body: Record<string, unknown>, routeProvider?: string): Provider {
  if (routeProvider !== undefined) {
    if (isProvider(routeProvider)) return routeProvider;
    throw new PayloadError('provider', `Unknown provider: ${routeProvider} (expected one of: ${PROVIDERS.join(', ')})`);
  }
  if (isProvider(body.provider)) return body.provider;
  for (const [header, provider] of SIGNATURE_HEADERS) if (getHeader(req, header)) return provider;
  for (const a of DETECTION_ORDER) if (a.detect(req, body)) return a.name;
  return 'generic';
}

/** The one content-type rule of the receiver: `application/json` or `application/*+json`. */
export const isJsonType = (t: string): boolean => t === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(t);
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Media type of a Content-Type header value: parameters dropped, lower-cased ('' when absent). */
export function mediaTypeOf(contentType: string | string[] | undefined): string {
  const v = Array.isArray(contentType) ? contentType[0] : contentType;
  return (v ?? '').split(';')[0].trim().toLowerCase();
}

/** JSON (all platforms) or form-encoded (Twilio). Anything else deserves a 415. */
export const isSupportedContentType = (mediaType: string): boolean => isJsonType(mediaType) || mediaType === FORM_TYPE;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Raw bytes to the body object adapters take: a JSON object, or form fields (repeated keys become
 * arrays). Throws PayloadError on field `body` (malformed or non-object JSON, bad UTF-8) or
 * `content-type` (unsupported).
 */
export function parseBody(req: WebhookRequest): Record<string, unknown> | FormFields {
  if (req.contentType === FORM_TYPE) return parseForm(req.rawBody);
  if (!isJsonType(req.contentType)) {
    throw new PayloadError('content-type', `Unsupported content type: ${req.contentType || '(none)'} (expected application/json)`);
  }
  let text: string;
  try {
    text = utf8.decode(req.rawBody);
  } catch {
    throw new PayloadError('body', 'Malformed JSON: body is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new PayloadError('body', 'Malformed JSON: empty body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PayloadError('body', `Malformed JSON: ${(e as Error).message}`);
  }
  if (!isRecord(parsed)) throw new PayloadError('body', 'Invalid webhook payload: expected a JSON object');
  return parsed;
}

export { generic, retell, vapi, bland, twilio };

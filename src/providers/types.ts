// The contract between the HTTP layer and the per-platform adapters.
import type { CallEvent, Provider } from '../domain/events';

/** One webhook delivery as received, before any parsing. */
export interface WebhookRequest {
  /** The exact bytes received: every signature scheme signs these, never re-serialized JSON. */
  rawBody: Buffer;
  /** Header names lower-cased (Node style). */
  headers: Record<string, string | string[] | undefined>;
  /** Media type without parameters, lower-cased (`application/json`). */
  contentType: string;
  /** The public URL the platform called, scheme to query (Twilio signs it). Configured, not guessed. */
  publicUrl: string;
  /** When we received the request (ISO-8601). */
  receivedAt: string;
  /** Clock for replay windows, ms epoch; injectable so tests can replay old deliveries. */
  now: number;
}

export type HmacAlgorithm = 'sha256' | 'sha512' | 'sha1';
export type SignatureEncoding = 'hex' | 'base64';

/** A webhook credential stored per organization and provider. */
export interface ProviderSecret {
  /**
   * Retell API key / Vapi secret, bearer token or HMAC key / Bland signing secret / Twilio auth
   * token / generic HMAC secret or Standard Webhooks `whsec_…` secret.
   */
  secret: string;
  /** Vapi only: how the credential arrives. Default `secret` (`X-Vapi-Secret`). */
  mode?: 'secret' | 'bearer' | 'hmac';
  /**
   * Vapi only: header carrying the credential. Defaults: `x-vapi-secret` (secret mode),
   * `authorization` (bearer mode, `Bearer ` prefix optional), `x-signature` (hmac mode).
   */
  header?: string;
  /** Vapi hmac: header with the signing timestamp (default `x-timestamp`). */
  timestampHeader?: string;
  /** Vapi hmac: header with a message id, substituted for `{svix-id}` in the payload format. */
  messageIdHeader?: string;
  /**
   * Vapi hmac: what is signed. Placeholders `{timestamp}`, `{body}`, `{method}`, `{url}`,
   * `{svix-id}`. Default `{timestamp}.{body}`; `{body}` alone for body-only signing.
   */
  payloadFormat?: string;
  /** Vapi hmac: default `sha256`. */
  algorithm?: HmacAlgorithm;
  /** Vapi hmac: default `hex`. */
  encoding?: SignatureEncoding;
  /** Vapi hmac: text before the signature in the header, e.g. `sha256=`. */
  signaturePrefix?: string;
}

export type VerifyResult = { ok: true } | { ok: false; header: string; message: string };

/** A payload we cannot turn into events. The HTTP layer answers 400 with `message`. */
export class PayloadError extends Error {
  constructor(
    /** The offending field as a dotted path (`callId`, `message.call.id`, `body`). */
    public readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

export interface ProviderAdapter {
  name: Provider;
  /** True when headers or body shape say this platform sent it (used on the shared route). */
  detect(req: WebhookRequest, body: Record<string, unknown>): boolean;
  /** Checks authenticity on the raw bytes. Never throws. */
  verify(req: WebhookRequest, secret: ProviderSecret): VerifyResult;
  /**
   * body = the parsed JSON object, or the form fields object for Twilio (see `parseBody`).
   * Returns at least one event for every accepted message. Throws PayloadError.
   */
  parse(req: WebhookRequest, body: Record<string, unknown>): CallEvent[];
}

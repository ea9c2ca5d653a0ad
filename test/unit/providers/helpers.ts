// Shared test helpers: fixtures as exact bytes, and WebhookRequests built around them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PayloadError } from '../../../src/providers';
import type { WebhookRequest } from '../../../src/providers/types';

export const FIXTURES = join(__dirname, '../../fixtures/providers');

/** A fixture's exact bytes: what the platform put on the wire. */
export const fixtureBytes = (rel: string): Buffer => readFileSync(join(FIXTURES, rel));
export const fixtureJson = (rel: string): Record<string, unknown> => JSON.parse(fixtureBytes(rel).toString('utf8'));

/** 2025-01-15T10:35:00Z: a few minutes after the fixtures' calls. */
export const NOW = Date.UTC(2025, 0, 15, 10, 35, 0);
export const RECEIVED_AT = new Date(NOW).toISOString();

export function makeReq(body: Buffer | string, opts: Partial<Omit<WebhookRequest, 'rawBody'>> = {}): WebhookRequest {
  return {
    rawBody: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: {},
    contentType: 'application/json',
    publicUrl: 'https://api.example.com/api/calls/webhook',
    receivedAt: RECEIVED_AT,
    now: NOW,
    ...opts,
  };
}

/** A request for a fixture file, with the content type its extension implies. */
export function fixtureReq(rel: string, opts: Partial<Omit<WebhookRequest, 'rawBody'>> = {}): WebhookRequest {
  const contentType = rel.endsWith('.txt') ? 'application/x-www-form-urlencoded' : 'application/json';
  return makeReq(fixtureBytes(rel), { contentType, ...opts });
}

/** JSON with every non-ASCII character escaped as \uXXXX: same value, different bytes. */
export const asciiJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The PayloadError `fn` throws; fails the test when it throws nothing or something else. */
export function payloadError(fn: () => unknown): PayloadError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PayloadError) return e;
    throw e;
  }
  throw new Error('expected a PayloadError');
}

// POST /api/calls/webhook[/:provider]: raw bytes → provider (detect, verify, parse) → canonical
// events inserted into the inbox → 200. A 200 means the database holds the events durably; the
// dispatcher then hands them to the call's workflow (src/temporal/dispatcher.ts).
import type { RouterContext } from '@koa/router';
import { PROVIDERS, type CallEvent, type Provider } from '../domain/events';
import { adapters, detectProvider, parseBody } from '../providers';
import { PayloadError, type ProviderSecret, type WebhookRequest } from '../providers/types';
import { type InboxDoc, acceptIntoInbox, inboxDoc } from '../store/inbox';
import { webhookSigning } from '../store/organizations';
import type { Collections } from '../store/db';
import type { Dispatcher } from '../temporal/dispatcher';
import type { Logger } from '../log';
import type { ApiRouter, ApiState } from './auth';
import { HttpError, invalidPayload, notFound, unauthorized, unavailable } from './errors';
import { isJsonType, mediaType } from './json';
import { readRawBody } from './rawBody';
import { requestLog } from './requestId';
import { workflowIdFor } from '../../workflows/messages';

const FORM = 'application/x-www-form-urlencoded';

/** What the metrics middleware reads after a webhook: the platform, and whether its events were new. */
export interface WebhookState {
  provider?: Provider;
  webhookResult?: 'accepted' | 'duplicate';
}

/** The part of the app's dependencies the webhook route uses. */
export interface WebhookRouteDeps {
  col: Collections;
  dispatcher: Pick<Dispatcher, 'offer'>;
  logger: Logger;
  bodyLimitBytes: number;
  publicBaseUrl?: string;
  now?: () => number;
}

export function webhookRoutes(api: ApiRouter, deps: WebhookRouteDeps): void {
  const now = deps.now ?? Date.now;

  const handle = async (ctx: RouterContext<ApiState & WebhookState>, routeProvider?: string) => {
    const { orgId, requestId } = ctx.state;
    const log = requestLog(ctx, deps.logger);
    if (routeProvider !== undefined && !(PROVIDERS as readonly string[]).includes(routeProvider)) {
      throw notFound(`Unknown provider: ${routeProvider} (expected one of ${PROVIDERS.join(', ')})`);
    }
    const contentType = mediaType(ctx);
    if (!isJsonType(contentType) && contentType !== FORM) {
      throw new HttpError(415, 'Unsupported Media Type', `Content-Type must be application/json (got ${contentType || 'none'})`);
    }

    const rawBody = await readRawBody(ctx.req, deps.bodyLimitBytes);
    const req: WebhookRequest = {
      rawBody,
      headers: ctx.req.headers,
      contentType,
      // Koa's ctx.origin is the Origin header; the URL the platform called is protocol + Host.
      publicUrl: `${deps.publicBaseUrl ?? `${ctx.protocol}://${ctx.host}`}${ctx.originalUrl}`,
      receivedAt: new Date(now()).toISOString(),
      now: now(),
    };

    let provider: Provider;
    let events;
    try {
      const body = parseBody(req);
      provider = detectProvider(req, body, routeProvider);
      const signing = await webhookSigning(deps.col, orgId, provider);
      if (signing.secret) {
        const verdict = adapters[provider].verify(req, signing.secret as unknown as ProviderSecret);
        if (!verdict.ok) throw unauthorized(verdict.message);
      } else if (!signing.unsignedAllowed) {
        throw unauthorized(
          `Signature required: this organization stores webhook signing secrets, and none for ${provider} ` +
            `(store one with "secret set --provider ${provider}", or allow unsigned ${provider} webhooks with "org allow-unsigned")`,
        );
      }
      events = adapters[provider].parse(req, body);
      ctx.state.provider = provider;
    } catch (err) {
      if (err instanceof PayloadError) throw invalidPayload(err.message);
      throw err;
    }
    if (events.length === 0) throw invalidPayload('The payload holds no call event');

    // The inbox's clock is the real one (not deps.now): it times hand-offs, not the call.
    const receivedAt = new Date();
    const docs = events.map((original) => inboxDoc(orgId, provider, fitForTemporal({ ...original, requestId }, log), receivedAt));
    let fresh: InboxDoc[];
    try {
      fresh = await acceptIntoInbox(deps.col.inbox, docs);
    } catch (err) {
      // Not acknowledged, so the platform retries: nothing we answered 200 to is ever lost.
      log.error('could not write events to the inbox', { orgId, provider, callId: events[0].callId, err });
      throw unavailable('Failed to process webhook: the event could not be recorded durably, retry later');
    }
    // Durable now; Temporal gets it next, without the platform waiting for that.
    deps.dispatcher.offer(fresh);
    ctx.state.webhookResult = fresh.length > 0 ? 'accepted' : 'duplicate';
    // The workflow id leads from this line to the history, where each event carries the requestId.
    log.info('webhook accepted', {
      orgId,
      provider,
      callId: events[0].callId,
      workflowId: workflowIdFor(orgId, events[0].callId),
      events: events.map((e) => e.providerEvent),
      duplicates: docs.length - fresh.length,
    });
    ctx.body = { success: true, message: 'Webhook processed successfully', callId: events[0].callId };
  };

  api.post('/calls/webhook', (ctx) => handle(ctx));
  api.post('/calls/webhook/:provider', (ctx) => handle(ctx, ctx.params.provider));
}

/** Temporal refuses payloads over 2 MB; keep well inside it. */
export const MAX_EVENT_BYTES = 1_500_000;

/**
 * Per-word timings and assistant configs are never carried into events, so only a transcript of
 * a day-long call could exceed the limit. Rather than refuse the call (the platform would retry
 * forever), keep the beginning of that transcript and say that it was cut.
 */
function fitForTemporal(event: CallEvent, log: Logger): CallEvent {
  const size = Buffer.byteLength(JSON.stringify(event));
  if (size <= MAX_EVENT_BYTES) return event;
  // Segments repeat the transcript's text with times: the first thing to go.
  const fitted: CallEvent = {
    ...event,
    metadata: undefined,
    transcriptSegments: undefined,
    analysis: event.analysis && { ...event.analysis, data: undefined },
  };
  const rest = MAX_EVENT_BYTES - Buffer.byteLength(JSON.stringify({ ...fitted, transcript: '' })) - 64;
  if (fitted.transcript)
    fitted.transcript = `${Buffer.from(fitted.transcript).subarray(0, Math.max(0, rest)).toString('utf8')} [transcript truncated]`;
  log.warn('event too large for Temporal, cut down', { callId: event.callId, eventId: event.eventId, bytes: size });
  return fitted;
}

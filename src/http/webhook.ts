// POST /api/calls/webhook[/:provider]: raw bytes → provider (detect, verify, parse) → one
// signalWithStart per canonical event. A 200 means Temporal holds the event durably.
import type { Router, RouterContext } from '@koa/router';
import { PROVIDERS, type Provider } from '../domain/events';
import { adapters, detectProvider, parseBody } from '../providers';
import { PayloadError, type ProviderSecret, type WebhookRequest } from '../providers/types';
import { getProviderSecret } from '../store/organizations';
import type { AppDeps } from './app';
import type { AuthState } from './auth';
import { HttpError, invalidPayload, notFound, unauthorized, unavailable } from './errors';
import { isJsonType, mediaType } from './json';
import { readRawBody } from './rawBody';

const FORM = 'application/x-www-form-urlencoded';

export function webhookRoutes(api: Router, deps: AppDeps): void {
  const now = deps.now ?? Date.now;

  const handle = async (ctx: RouterContext, routeProvider?: string) => {
    const { orgId } = ctx.state as AuthState;
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
      publicUrl: `${deps.publicBaseUrl ?? ctx.origin}${ctx.originalUrl}`,
      receivedAt: new Date(now()).toISOString(),
      now: now(),
    };

    let provider: Provider;
    let events;
    try {
      const body = parseBody(req);
      provider = detectProvider(req, body, routeProvider as Provider | undefined);
      const secret = (await getProviderSecret(deps.col, orgId, provider)) as ProviderSecret | undefined;
      if (secret) {
        const verdict = adapters[provider].verify(req, secret);
        if (!verdict.ok) throw unauthorized(verdict.message);
      }
      events = adapters[provider].parse(req, body);
    } catch (err) {
      if (err instanceof PayloadError) throw invalidPayload(err.message);
      throw err;
    }
    if (events.length === 0) throw invalidPayload('The payload holds no call event');

    for (const event of events) {
      try {
        await deps.signaler.deliver(orgId, provider, event);
      } catch (err) {
        // Not acknowledged, so the platform retries: nothing we answered 200 to is ever lost.
        deps.logger.error('could not deliver event to Temporal', { orgId, provider, callId: event.callId, eventId: event.eventId, err });
        throw unavailable('Failed to process webhook: the event could not be recorded durably, retry later');
      }
    }
    deps.logger.info('webhook accepted', { orgId, provider, callId: events[0].callId, events: events.map((e) => e.providerEvent) });
    ctx.body = { success: true, message: 'Webhook processed successfully', callId: events[0].callId };
  };

  api.post('/calls/webhook', (ctx) => handle(ctx));
  api.post('/calls/webhook/:provider', (ctx) => handle(ctx, ctx.params.provider));
}

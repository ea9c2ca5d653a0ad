// POST /api/calls/webhook[/:provider]: raw bytes → provider (detect, verify, parse) → canonical
// events inserted into the inbox with the request that brought them → 200. A 200 means the
// database holds the events durably (and keeps them: src/store/eventLog.ts); the dispatcher then
// hands them to the call's workflow (src/temporal/dispatcher.ts). Refusals are kept per organization.
import type { RouterContext } from '@koa/router';
import { PROVIDERS, type Provider } from '../domain/events';
import { adapters, detectProvider, parseBody } from '../providers';
import { PayloadError, type ProviderSecret, type WebhookRequest } from '../providers/types';
import { type InboxDoc, INSERT_TIMEOUT_MS, acceptIntoInbox, inboxDoc } from '../store/inbox';
import { RefusalBudget, recordRefused, redactHeaders, withRequest, writeChunks } from '../store/eventLog';
import { webhookSigning } from '../store/organizations';
import type { Collections } from '../store/db';
import type { Dispatcher } from '../temporal/dispatcher';
import type { Logger } from '../observability/log';
import type { ApiRouter, ApiState } from './auth';
import { HttpError, invalidPayload, notFound, unauthorized, unavailable } from './errors';
import { markDurable } from './acking';
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
  /** How long an answer may wait for its event's delivery to start (INBOX_ACK_HOLD); 0 or unset: not at all. */
  ackHoldMs?: number;
  now?: () => number;
}

/** Waits for `started`, at most `ms`: the event is durable either way, and the relay delivers what the hand-off did not. */
async function holdAck(started: Promise<void> | void, ms: number): Promise<void> {
  if (ms <= 0 || !started) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([started, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Refusals worth showing the organization: a platform misconfigured, or sending what we cannot take. */
const KEPT_REFUSALS = new Set([400, 401, 413, 415]);

export function webhookRoutes(api: ApiRouter, deps: WebhookRouteDeps): void {
  const now = deps.now ?? Date.now;
  const budget = new RefusalBudget();

  /** Keeps a refusal (bounded per organization and minute); never fails the answer. */
  const keepRefusal = async (ctx: RouterContext<ApiState & WebhookState>, err: HttpError, body: Buffer | undefined, provider?: string) => {
    if (!KEPT_REFUSALS.has(err.status) || !budget.take(ctx.state.orgId, Date.now())) return;
    await recordRefused(
      deps.col,
      {
        _id: `${ctx.state.orgId}:refused:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
        orgId: ctx.state.orgId,
        ...(provider && { provider }),
        receivedAt: new Date(),
        status: err.status,
        reason: err.message,
        requestId: ctx.state.requestId,
        path: ctx.path,
        contentType: mediaType(ctx),
        headers: redactHeaders(ctx.req.headers),
      },
      body,
    ).catch((e: unknown) => requestLog(ctx, deps.logger).warn('could not keep a refused webhook', { err: e }));
  };

  const handle = async (ctx: RouterContext<ApiState & WebhookState>, routeProvider?: string) => {
    const seen: { body?: Buffer; provider?: string } = {};
    try {
      await accept(ctx, seen, routeProvider);
    } catch (err) {
      if (err instanceof HttpError) await keepRefusal(ctx, err, seen.body, seen.provider ?? routeProvider);
      throw err;
    }
  };

  const accept = async (
    ctx: RouterContext<ApiState & WebhookState>,
    seen: { body?: Buffer; provider?: string },
    routeProvider?: string,
  ) => {
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
    seen.body = rawBody;
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
    let signed = false;
    try {
      const body = parseBody(req);
      provider = detectProvider(req, body, routeProvider);
      seen.provider = provider;
      const signing = await webhookSigning(deps.col, orgId, provider);
      if (signing.secret) {
        const verdict = adapters[provider].verify(req, signing.secret as unknown as ProviderSecret);
        if (!verdict.ok) throw unauthorized(verdict.message);
        signed = true;
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
    // Kept whole: the workflow gets the heavy fields by reference (src/domain/claimCheck.ts).
    const { docs, chunks } = withRequest(
      events.map((e) => inboxDoc(orgId, provider, { ...e, requestId }, receivedAt)),
      {
        requestId,
        path: ctx.path,
        contentType,
        headers: redactHeaders(ctx.req.headers),
        signature: signed ? 'verified' : 'unsigned',
        bytes: rawBody.length,
        body: rawBody,
      },
    );
    let fresh: InboxDoc[];
    try {
      // A body too big for one document goes first, in chunks; the inbox insert is what makes the event durable.
      if (chunks.length > 0) await writeChunks(deps.col.eventChunks, chunks, INSERT_TIMEOUT_MS);
      fresh = await acceptIntoInbox(deps.col.inbox, docs);
    } catch (err) {
      // Not acknowledged, so the platform retries: nothing we answered 200 to is ever lost.
      log.error('could not write events to the inbox', { orgId, provider, callId: events[0].callId, err });
      throw unavailable('Failed to process webhook: the event could not be recorded durably, retry later');
    }
    // Durable now; Temporal gets it next. The answer waits (at most ackHoldMs) for its delivery to
    // start, so a burst is acknowledged at the pace Temporal takes it instead of piling up in the inbox.
    markDurable(ctx.res);
    await holdAck(deps.dispatcher.offer(fresh), deps.ackHoldMs ?? 0);
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

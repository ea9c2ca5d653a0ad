// The Koa application as a factory: it takes its dependencies and returns the app. `listen`
// lives in src/bin/server.ts, so tests can run the same app on a random port.
import Koa from 'koa';
import Router from '@koa/router';
import type { Collections } from '../store/db';
import type { CallSignaler } from '../temporal/client';
import type { Dispatcher } from '../temporal/dispatcher';
import { type InboxStats, inboxStats, isDatabaseUnavailable } from '../store/inbox';
import type { CallControl } from '../temporal/control';
import type { Logger } from '../observability/log';
import { HttpError } from './errors';
import { BodyBudget, bodyBudgetMiddleware } from './bodyBudget';
import { type ApiRouter, authenticate } from './auth';
import type { RateLimits } from './rateLimit';
import { webhookRoutes } from './webhook';
import { callRoutes } from './calls';
import { contactRoutes } from './contacts';
import { controlRoutes } from './control';
import { complianceRoutes } from './compliance';
import { analyticsRoutes } from './analytics';
import { eventRoutes } from './events';
import { requestIdMiddleware, requestLog } from './requestId';
import { createReceiverMetrics, type ReceiverMetrics } from '../observability/metrics';
import { countStaleCalls } from '../store/calls';
import { metricsMiddleware, metricsRoute } from './metrics';
import { openApiRoutes } from './openapi';
import { dashboardApiRoutes, dashboardRoutes } from './dashboard';
import { DashboardSessions } from './session';

export interface AppDeps {
  col: Collections;
  signaler: CallSignaler;
  /** Hands inbox events to Temporal right after the webhook's insert. */
  dispatcher: Pick<Dispatcher, 'offer' | 'status'>;
  logger: Logger;
  /** Throws when the database cannot be reached. */
  pingDb(): Promise<void>;
  bodyLimitBytes: number;
  /** How long a webhook's answer may wait for its delivery to start (INBOX_ACK_HOLD); not at all when absent. */
  ackHoldMs?: number;
  /** Public base URL the platforms call (Twilio signs it); else taken from the request. */
  publicBaseUrl?: string;
  /** Behind a reverse proxy: take protocol, host and client address from X-Forwarded-*. */
  trustProxy?: boolean;
  /** Per-key token buckets by route class; the defaults of src/http/rateLimit.ts when absent. */
  rateLimits?: RateLimits;
  temporalUiUrl: string;
  temporalNamespace: string;
  /** Manual control of follow-ups (retry, cancel, schedule); without it those routes answer 503. */
  control?: CallControl;
  /** Clock for receive times and replay windows; tests pin it. */
  now?: () => number;
  /** Prometheus metrics served at /metrics; one of its own when absent. */
  metrics?: ReceiverMetrics;
  /** Bytes of large request bodies held at once across requests (BODY_BYTES_IN_FLIGHT); 32 MB when absent. */
  bodyBytesInFlight?: number;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // X-Forwarded-* are anyone's to send unless a proxy in front of us sets them (TRUST_PROXY).
  app.proxy = deps.trustProxy ?? false;
  // The client address is the one our proxy saw and appended (the rightmost X-Forwarded-For entry);
  // entries left of it are whatever the client sent.
  app.maxIpsCount = 1;

  app.use(requestIdMiddleware(deps.logger));
  const metrics = deps.metrics ?? createReceiverMetrics({ processMetrics: false });
  metrics.sources.inbox = () => inboxStats(deps.col.inbox, new Date());
  metrics.sources.staleCalls = () => countStaleCalls(deps.col);
  metrics.sources.dispatcher = () => deps.dispatcher.status();
  app.use(metricsMiddleware(metrics));
  app.use(errorMiddleware(deps.logger));
  app.use(bodyBudgetMiddleware(new BodyBudget(deps.bodyBytesInFlight)));

  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  metricsRoute(router, metrics);
  openApiRoutes(router);
  const sessions = new DashboardSessions(deps.col, deps.logger);
  dashboardRoutes(router, deps, sessions);
  // /readyz needs no key and reads the whole inbox (FerretDB decodes every document): requests that
  // arrive while a read runs share it, so probes at any rate cost one read at a time.
  let inboxRead: Promise<InboxStats | null> | null = null;
  const readInbox = () =>
    (inboxRead ??= inboxStats(deps.col.inbox, new Date())
      .catch(() => null)
      .finally(() => (inboxRead = null)));
  // Ready means webhooks are acknowledged, which needs the database only: while Temporal is down
  // events wait in the inbox, so that is "degraded", not "not ready".
  router.get('/readyz', async (ctx) => {
    const check = async (f: () => Promise<void>) =>
      f().then(
        () => 'ok',
        (err: Error) => `unavailable: ${err.message}`,
      );
    const [mongodb, temporalPing, inbox] = await Promise.all([check(() => deps.pingDb()), check(() => deps.signaler.ping()), readInbox()]);
    const down = deps.dispatcher.status().temporalDown;
    const temporal =
      temporalPing !== 'ok'
        ? `${temporalPing}; events wait in the inbox`
        : down
          ? `unavailable since ${down.since}: ${down.error}; events wait in the inbox`
          : 'ok';
    const status = mongodb !== 'ok' ? 'not ready' : temporal !== 'ok' || (inbox?.deadLetters ?? 0) > 0 ? 'degraded' : 'ready';
    ctx.status = mongodb === 'ok' ? 200 : 503;
    ctx.body = { status, checks: { mongodb, temporal }, inbox };
  });

  const api: ApiRouter = new Router({ prefix: '/api' });
  api.use(authenticate(deps.col, deps.rateLimits, sessions, deps.now));
  webhookRoutes(api, deps);
  callRoutes(api, deps);
  contactRoutes(api, deps);
  controlRoutes(api, deps);
  complianceRoutes(api, deps);
  dashboardApiRoutes(api, deps);
  analyticsRoutes(api, deps);
  eventRoutes(api, deps);

  app.use(router.routes()).use(router.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods({ throw: true }));
  app.use((ctx) => {
    throw new HttpError(404, 'Not Found', `No route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}

/** Turns every thrown error into the spec's JSON error body; unknown errors become a logged 500. */
function errorMiddleware(fallback: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const logger = requestLog(ctx, fallback);
      const e = err as Error & { status?: number; expose?: boolean };
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.set(err.headers);
        ctx.body = { error: err.error, message: err.message };
        if (err.status >= 500)
          logger.warn('request failed', { method: ctx.method, path: ctx.path, status: err.status, message: err.message });
      } else if (isDatabaseUnavailable(err)) {
        // Nothing was recorded; the caller may retry once the database is back.
        logger.warn('database unavailable', { method: ctx.method, path: ctx.path, err: e });
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.body = {
          error: 'Service Unavailable',
          message: ctx.path.startsWith('/api/calls/webhook')
            ? 'Failed to process webhook: the event could not be recorded durably, retry later'
            : 'The database cannot be reached, retry later',
        };
      } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        // Koa/router's own client errors (405, 501 and the like).
        ctx.status = e.status;
        ctx.body = { error: statusText(e.status), message: e.expose ? e.message : statusText(e.status) };
      } else {
        logger.error('unhandled error', { method: ctx.method, path: ctx.path, err: e, stack: e?.stack });
        ctx.status = 500;
        ctx.body = ctx.path.startsWith('/api/calls/webhook')
          ? { error: 'Internal server error', message: 'Failed to process webhook' }
          : { error: 'Internal server error', message: 'Unexpected error' };
      }
    }
  };
}

function statusText(status: number): string {
  return { 405: 'Method Not Allowed', 406: 'Not Acceptable', 501: 'Not Implemented' }[status] ?? 'Bad Request';
}

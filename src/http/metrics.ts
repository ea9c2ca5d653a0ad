// The receiver's side of src/observability/metrics.ts: a middleware that counts and times every request by its
// route template (never the raw path, whose ids would make a series per call), the webhook counts,
// and the GET /metrics route.
import type Koa from 'koa';
import type Router from '@koa/router';
import { PROVIDERS } from '../domain/events';
import type { ReceiverMetrics, WebhookResult } from '../observability/metrics';
import { routeClassOf } from './auth';
import { HttpError } from './errors';
import type { WebhookState } from './webhook';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

function webhookResult(status: number, state: WebhookState): WebhookResult {
  if (status < 300) return state.webhookResult ?? 'accepted';
  const known: Record<number, WebhookResult> = {
    400: 'invalid',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'unknown_provider',
    413: 'too_large',
    415: 'unsupported_media_type',
    429: 'rate_limited',
    503: 'unavailable',
  };
  return known[status] ?? (status >= 500 ? 'error' : 'invalid');
}

/** Outside the error middleware, so it sees the status the client gets. */
export function metricsMiddleware(m: ReceiverMetrics): Koa.Middleware {
  return async (ctx, next) => {
    const end = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched = (ctx as unknown as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : 'unmatched';
      const method = METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      m.httpRequests.inc({ method, route, status: String(ctx.status) });
      m.httpDuration.observe({ method, route }, Number(process.hrtime.bigint() - end) / 1e9);
      if (routeClassOf(ctx.method, ctx.path) === 'webhook') {
        const state = ctx.state as WebhookState;
        const fromPath = ctx.path.split('/')[4];
        const provider = state.provider ?? ((PROVIDERS as readonly string[]).includes(fromPath) ? fromPath : 'unknown');
        m.webhooks.inc({ provider, result: webhookResult(ctx.status, state) });
      }
    }
  };
}

/**
 * GET /metrics, without an API key like /healthz: Prometheus scrapes each receiver directly.
 * Labels carry no tenant data; the compose proxy answers 404 for it, so it is not public there.
 */
export function metricsRoute(router: Router, m: ReceiverMetrics): void {
  router.get('/metrics', async (ctx) => {
    // The router ignores case and a trailing slash; only the exact path is served, the one the proxy's rule names.
    if (ctx.path !== '/metrics') throw new HttpError(404, 'Not Found', `No route for ${ctx.method} ${ctx.path}`);
    ctx.body = await m.registry.metrics();
    ctx.set('Content-Type', m.registry.contentType);
  });
}

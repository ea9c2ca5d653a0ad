// X-API-Key → organization, key scope and rate limit. Platforms that cannot send custom headers
// (Retell, Bland, Twilio) put the key in the webhook URL as `?api_key=...`; only webhook routes
// take it there, because URLs end up in dashboards, proxies and logs.
import type { Router, RouterMiddleware } from '@koa/router';
import type { Collections } from '../store/db';
import { type KeyScope, identifyApiKey } from '../store/organizations';
import { HttpError, unauthorized } from './errors';
import { DEFAULT_RATE_LIMITS, FAILED_KEY_LIMIT, type RateLimits, type RouteClass, type Verdict, RateLimiter } from './rateLimit';
import type { RequestState } from './requestId';
import { type DashboardSessions, checkSameOrigin } from './session';

export interface AuthState {
  orgId: string;
  keyId: string;
  scope: KeyScope;
}

/** What every /api route finds in ctx.state: the caller (set by authenticate) and the request id. */
export type ApiState = AuthState & RequestState;
/** The /api router: its routes read ctx.state as ApiState without a cast. */
export type ApiRouter = Router<ApiState>;

const WEBHOOK_PATH = /^\/api\/calls\/webhook(?:\/[^/]+)?\/?$/;

/** Which limits and scopes apply: webhook posts, reads, or everything else (control and writes). */
export function routeClassOf(method: string, path: string): RouteClass {
  if (method === 'POST' && WEBHOOK_PATH.test(path)) return 'webhook';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'control';
}

/** The classes of routes each scope may use. */
export const ALLOWED: Record<KeyScope, readonly RouteClass[]> = {
  webhook: ['webhook'],
  read: ['read'],
  admin: ['webhook', 'read', 'control'],
};

const forbidden = (message: string) => new HttpError(403, 'Forbidden', message);

const tooManyFailures = (v: Verdict & { ok: false }) =>
  new HttpError(
    429,
    'Too Many Requests',
    `Too many requests with an invalid API key from this address (${v.limit.perSecond}/s, burst ${v.limit.burst}); retry after ${v.retryAfterSec} s`,
    { 'Retry-After': String(v.retryAfterSec) },
  );

/** With `sessions`, a dashboard session cookie stands for its key when no key is sent (not on webhook routes). */
export function authenticate(
  col: Collections,
  limits: RateLimits = DEFAULT_RATE_LIMITS,
  sessions?: DashboardSessions,
  /** The clock of the failed-key limit (tests pin it). */
  now?: () => number,
): RouterMiddleware<ApiState> {
  const limiter = new RateLimiter(limits);
  // Keyed on the client address (the one the trusted proxy saw): a bad key has no key to count on.
  const failures = new RateLimiter({ webhook: FAILED_KEY_LIMIT, read: FAILED_KEY_LIMIT, control: FAILED_KEY_LIMIT }, now);
  return async (ctx, next) => {
    const cls = routeClassOf(ctx.method, ctx.path);
    const header = ctx.get('x-api-key');
    const query = ctx.query.api_key;
    if (query !== undefined && cls !== 'webhook') {
      throw unauthorized('API keys in the URL (?api_key=) are accepted only on webhook routes; send the X-API-Key header');
    }
    const fromQuery = typeof query === 'string' ? query : undefined;
    const session = !header && !fromQuery && cls !== 'webhook' && sessions ? await sessions.current(ctx) : undefined;
    // An address that keeps sending bad keys is refused before its next guess costs a database read.
    const blocked = session ? { ok: true as const } : failures.peek(ctx.ip, 'control');
    if (!blocked.ok) throw tooManyFailures(blocked);
    const who = session ?? (await identifyApiKey(col, header || fromQuery));
    if (!who) {
      const v = failures.take(ctx.ip, 'control');
      throw v.ok ? unauthorized() : tooManyFailures(v);
    }
    if (!ALLOWED[who.scope].includes(cls)) {
      throw forbidden(
        `This API key's scope (${who.scope}) does not allow ${cls === 'webhook' ? 'webhook' : cls} routes` +
          (who.scope === 'webhook' ? '; it may only post to /api/calls/webhook' : ''),
      );
    }
    if (session && cls !== 'read') {
      checkSameOrigin(ctx);
      sessions!.checkCsrf(ctx, session);
    }
    const verdict = limiter.take(who.keyId, cls);
    if (!verdict.ok) {
      throw new HttpError(
        429,
        'Too Many Requests',
        `Rate limit for ${cls} routes exceeded for this API key (${verdict.limit.perSecond}/s, burst ${verdict.limit.burst}); retry after ${verdict.retryAfterSec} s`,
        { 'Retry-After': String(verdict.retryAfterSec) },
      );
    }
    Object.assign(ctx.state, { orgId: who.orgId, keyId: who.keyId, scope: who.scope });
    await next();
  };
}

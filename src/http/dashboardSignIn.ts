// Dashboard sign-in and sessions: a read or admin key, posted once, becomes an encrypted session
// cookie (src/http/session.ts); sign-out revokes the session; GET /dashboard/session says who is
// signed in and gives the session's CSRF token.
import type { Router } from '@koa/router';
import { z } from 'zod';
import { identifyApiKey, organizationName } from '../store/organizations';
import type { Collections } from '../store/db';
import { HttpError, unauthorized } from './errors';
import { mediaType } from './json';
import { readRawBody } from './rawBody';
import { DEFAULT_RATE_LIMITS, RateLimiter } from './rateLimit';
import { CSRF_HEADER, type DashboardSessions, checkSameOrigin } from './session';

export const signInBody = z.object({ key: z.string().min(1, 'paste a read or admin API key').max(300) });

/** What the dashboard's routes use of the app's dependencies. */
export interface DashboardRouteDeps {
  col: Collections;
  /** The clock of the sign-in rate limit (tests pin it). */
  now?: () => number;
}

export function signInRoutes(router: Router, deps: DashboardRouteDeps, sessions: DashboardSessions): void {
  // Sign-in attempts per client address, at the control routes' rate: guessing keys is hopeless
  // (48 random bytes), but each attempt costs a database read.
  const attempts = new RateLimiter(DEFAULT_RATE_LIMITS, deps.now);
  router.post('/dashboard/sign-in', async (ctx) => {
    checkSameOrigin(ctx);
    const verdict = attempts.take(`sign-in:${ctx.ip}`, 'control');
    if (!verdict.ok) {
      throw new HttpError(429, 'Too Many Requests', `Too many sign-in attempts from this address; retry after ${verdict.retryAfterSec} s`, {
        'Retry-After': String(verdict.retryAfterSec),
      });
    }
    const type = mediaType(ctx);
    const wantsJson = type === 'application/json';
    if (!wantsJson && type !== 'application/x-www-form-urlencoded') {
      throw new HttpError(
        415,
        'Unsupported Media Type',
        `Content-Type must be application/x-www-form-urlencoded or application/json (got ${type || 'none'})`,
      );
    }
    const raw = (await readRawBody(ctx.req, 16 * 1024)).toString('utf8');
    let input: unknown;
    try {
      input = wantsJson ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
    } catch (err) {
      throw new HttpError(400, 'Bad Request', `Malformed JSON body: ${(err as Error).message}`);
    }
    const parsed = signInBody.safeParse(input);
    const fail = (status: number, code: string, message: string) => {
      if (wantsJson) throw new HttpError(status, status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Bad Request', message);
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(`/dashboard/sign-in?error=${code}`);
      ctx.status = 303;
    };
    if (!parsed.success) return fail(400, 'missing', 'Missing required field: key (a read or admin API key)');
    const who = await identifyApiKey(deps.col, parsed.data.key.trim());
    if (!who) return fail(401, 'invalid', 'Invalid or revoked API key');
    if (who.scope === 'webhook') return fail(403, 'webhook', 'A webhook key cannot sign in to the dashboard: use a read or admin key');
    const { value, session } = sessions.seal(who);
    sessions.setCookie(ctx, value);
    ctx.set('Cache-Control', 'no-store');
    if (wantsJson) {
      ctx.body = { orgId: session.orgId, keyId: session.keyId, scope: session.scope, expiresAt: new Date(session.expiresAt).toISOString() };
      return;
    }
    ctx.redirect('/dashboard');
    ctx.status = 303;
  });

  router.post('/dashboard/sign-out', async (ctx) => {
    checkSameOrigin(ctx);
    const session = await sessions.current(ctx);
    // Without a valid session there is nothing to protect; the cookie is cleared either way.
    if (session) {
      sessions.checkCsrf(ctx, session);
      await sessions.revoke(session);
    }
    sessions.clearCookie(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { signedOut: true };
  });

  router.get('/dashboard/session', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const session = await sessions.current(ctx);
    if (!session) throw unauthorized('Not signed in to the dashboard (no session cookie, or it expired, or its key was revoked)');
    ctx.body = {
      orgId: session.orgId,
      orgName: (await organizationName(deps.col, session.orgId)) ?? session.orgId,
      keyId: session.keyId,
      scope: session.scope,
      expiresAt: new Date(session.expiresAt).toISOString(),
      csrfToken: sessions.csrfToken(session),
      csrfHeader: CSRF_HEADER,
    };
  });
}

const isoTime = z.string().describe('ISO-8601 time');
export const DashboardSession = z.strictObject({
  orgId: z.string(),
  orgName: z.string(),
  keyId: z.string(),
  scope: z.enum(['read', 'admin']),
  expiresAt: isoTime,
  csrfToken: z.string().describe('Send it in csrfHeader on every request that changes something'),
  csrfHeader: z.literal(CSRF_HEADER),
});
export const DashboardSignedIn = z.strictObject({
  orgId: z.string(),
  keyId: z.string(),
  scope: z.enum(['read', 'admin']),
  expiresAt: isoTime,
});
export const DashboardSignedOut = z.strictObject({ signedOut: z.literal(true) });

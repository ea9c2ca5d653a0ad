// The operations dashboard at /dashboard: a sign-in page that turns a read or admin key into a
// session cookie (src/http/session.ts), one page of plain JS modules and CSS from src/dashboard/,
// chart.js served from node_modules (no CDN), and one read route for the queues the page lists.
// Every page is served with a Content-Security-Policy that allows scripts and styles from this
// origin only; the page's data comes from the /api routes, authenticated by the cookie.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { localTime } from '../domain/callingWindow';
import { contactPhone } from '../domain/contact';
import { SILENT_CALL_AFTER_MS } from '../domain/stale';
import { contactZones, getComplianceSettings } from '../store/compliance';
import { listFollowUpCalls } from '../store/followUps';
import { identifyApiKey, organizationName } from '../store/organizations';
import { quietestOpenCalls, scheduledFollowUpCalls } from '../store/calls';
import type { Collections } from '../store/db';
import type { ApiRouter } from './auth';
import { HttpError, unauthorized } from './errors';
import { mediaType } from './json';
import { readRawBody } from './rawBody';
import { DEFAULT_RATE_LIMITS, RateLimiter } from './rateLimit';
import { CSRF_HEADER, type DashboardSessions, checkSameOrigin } from './session';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const ASSET_DIR = join(__dirname, '..', 'dashboard');
const CHART_JS = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
/** In the vendor URL, so a new chart.js version is a new URL and the old one may be cached for good. */
const CHART_JS_VERSION = (JSON.parse(readFileSync(join(dirname(CHART_JS), '..', 'package.json'), 'utf8')) as { version: string }).version;
export const CHART_JS_PATH = `/dashboard/vendor/chart.js@${CHART_JS_VERSION}/chart.umd.min.js`;

/** The page's own files: name → content type. Anything else is a 404. */
export const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'detail.js': 'text/javascript; charset=utf-8',
  'format.js': 'text/javascript; charset=utf-8',
  'signin.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

interface File {
  body: Buffer;
  etag: string;
}
const files = new Map<string, File>();
/** Read once per process: the files ship with the code. */
function file(path: string): File {
  let f = files.get(path);
  if (!f) {
    const body = readFileSync(path);
    f = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    files.set(path, f);
  }
  return f;
}

function pageHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  // Not no-referrer: with it Chrome sends `Origin: null` on the sign-in form's post.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
}

function serve(ctx: Context, path: string, type: string, cache: string): void {
  const f = file(path);
  pageHeaders(ctx);
  ctx.set('Cache-Control', cache);
  ctx.set('ETag', f.etag);
  ctx.type = type;
  if (ctx.get('if-none-match') === f.etag) {
    ctx.status = 304;
    return;
  }
  ctx.body = f.body;
}

const HTML = 'text/html; charset=utf-8';
const signInBody = z.object({ key: z.string().min(1, 'paste a read or admin API key').max(300) });

/** What the dashboard's routes use of the app's dependencies. */
export interface DashboardRouteDeps {
  col: Collections;
  /** The clock of the sign-in rate limit (tests pin it). */
  now?: () => number;
}

export function dashboardRoutes(router: Router, deps: DashboardRouteDeps, sessions: DashboardSessions): void {
  // Sign-in attempts per client address, at the control routes' rate: guessing keys is hopeless
  // (48 random bytes), but each attempt costs a database read.
  const attempts = new RateLimiter(DEFAULT_RATE_LIMITS, deps.now);
  router.get('/dashboard', async (ctx) => {
    if (!(await sessions.current(ctx))) {
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect('/dashboard/sign-in');
      return;
    }
    serve(ctx, join(ASSET_DIR, 'index.html'), HTML, 'no-cache');
  });

  router.get('/dashboard/sign-in', (ctx) => {
    serve(ctx, join(ASSET_DIR, 'signin.html'), HTML, 'no-cache');
  });

  // A form post (the page) or JSON. The key travels in the body only, never in a URL; what the
  // browser keeps is the encrypted session cookie, which scripts cannot read.
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
    if (session) sessions.checkCsrf(ctx, session);
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

  router.get('/dashboard/assets/:file', (ctx) => {
    const type = Object.hasOwn(ASSETS, ctx.params.file) ? ASSETS[ctx.params.file] : undefined;
    if (!type) throw new HttpError(404, 'Not Found', `No dashboard asset ${ctx.params.file}`);
    serve(ctx, join(ASSET_DIR, ctx.params.file), type, 'no-cache');
  });

  router.get(CHART_JS_PATH, (ctx) => {
    serve(ctx, CHART_JS, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable');
  });
}

const LIST_LIMIT = 50;
const pad = (n: number) => String(n).padStart(2, '0');

/** The lists the dashboard shows beside the analytics: follow-up queue and stale calls. */
export function dashboardApiRoutes(api: ApiRouter, deps: DashboardRouteDeps): void {
  api.get('/dashboard/queues', async (ctx) => {
    const { orgId } = ctx.state;
    const now = Date.now();
    // Each list is an equality on a small set or a short index range: on FerretDB a filter it cannot
    // push down (a range on another field, $exists, $regex) reads every call of the organization.
    const [scheduledDocs, due, canceled, open] = await Promise.all([
      scheduledFollowUpCalls(deps.col, orgId, LIST_LIMIT),
      listFollowUpCalls(deps.col, orgId, { status: 'due' }, LIST_LIMIT),
      listFollowUpCalls(deps.col, orgId, { status: 'canceled' }, 4 * LIST_LIMIT),
      // Calls marked stale keep their open status, so both kinds of stale calls are among the open ones.
      quietestOpenCalls(deps.col, orgId, 4 * LIST_LIMIT),
    ]);
    // Read once for every contact whose zone falls back to the organization's.
    const settings = getComplianceSettings(deps.col, orgId);
    settings.catch(() => undefined); // awaited only when a zone falls back to it; a failure then fails that request
    const scheduled = await Promise.all(
      scheduledDocs.map(async (d) => {
        const plan = d.followUp as { attempt?: number; maxAttempts?: number; window?: string; summary?: string } | undefined;
        const at = d.nextFollowUpAt ?? new Date(now);
        // The zone the calling rules use for this person: the contact's own, else the number's, else the organization's.
        const context = await contactZones(deps.col, { orgId, contactId: d.contactId, phone: contactPhone(d) }, settings);
        const zone = context.zones[0];
        const t = localTime(at.getTime(), zone);
        return {
          callId: d.callId,
          contactId: d.contactId,
          to: contactPhone(d),
          attempt: plan?.attempt,
          maxAttempts: plan?.maxAttempts,
          nextFollowUpAt: at.toISOString(),
          zone,
          zoneSource: context.zoneSource,
          localTime: `${t.weekday[0].toUpperCase()}${t.weekday.slice(1)} ${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`,
          ...(plan?.window ? { window: plan.window } : {}),
        };
      }),
    );
    const silentSince = now - SILENT_CALL_AFTER_MS;
    const stale = open
      .filter((d) => d.stale || d.updatedAt.getTime() < silentSince)
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
      .slice(0, LIST_LIMIT)
      .map((d) => ({
        callId: d.callId,
        status: d.status,
        provider: d.provider,
        contactId: d.contactId,
        updatedAt: d.updatedAt.toISOString(),
        reason: d.stale
          ? ((d.stale as { reason?: string }).reason ?? 'marked stale')
          : `no event for ${Math.round((now - d.updatedAt.getTime()) / 60_000)} min`,
      }));
    ctx.body = {
      scheduled,
      moved: scheduled.filter((s) => s.window),
      due: due.map((f) => ({
        callId: f.originalCallId,
        attempt: f.attempt,
        contactId: f.contactId,
        to: f.to,
        reason: f.reason,
        dueAt: (f.dueAt ?? f.updatedAt).toISOString(),
      })),
      blocked: canceled
        .filter((f) => f.reason?.includes('do-not-call'))
        .slice(0, LIST_LIMIT)
        .map((f) => ({ callId: f.originalCallId, contactId: f.contactId, reason: f.reason ?? '', at: f.updatedAt.toISOString() })),
      stale,
    };
  });
}

// ---- OpenAPI: response bodies and paths of the dashboard's routes (src/http/openapi.ts adds them) ----

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
const scheduledItem = z.looseObject({
  callId: z.string(),
  contactId: z.string().optional(),
  to: z.string().optional(),
  attempt: z.number().int().optional(),
  maxAttempts: z.number().int().optional(),
  nextFollowUpAt: isoTime,
  zone: z.string().describe("The contact's time zone as the calling rules find it"),
  zoneSource: z.enum(['contact', 'phone', 'organization']),
  localTime: z.string().describe("The follow-up's time on the contact's clock: `Sat 2026-11-28 08:00`"),
  window: z.string().optional().describe('How the calling window moved it'),
});
export const DashboardQueues = z.strictObject({
  scheduled: z.array(scheduledItem).describe('Follow-up calls scheduled, soonest first (at most 50)'),
  moved: z.array(scheduledItem).describe('Those of them the calling window moved'),
  due: z
    .array(
      z.looseObject({
        callId: z.string(),
        attempt: z.number().int(),
        contactId: z.string().optional(),
        to: z.string().optional(),
        reason: z.string().optional(),
        dueAt: isoTime,
      }),
    )
    .describe('Follow-up attempts waiting for a person'),
  blocked: z
    .array(z.looseObject({ callId: z.string(), contactId: z.string().optional(), reason: z.string(), at: isoTime }))
    .describe('Follow-ups canceled by do-not-call'),
  stale: z
    .array(
      z.looseObject({
        callId: z.string(),
        status: z.string(),
        provider: z.string(),
        contactId: z.string().optional(),
        updatedAt: isoTime,
        reason: z.string(),
      }),
    )
    .describe('Calls marked stale, and unfinished calls without an event for an hour'),
});

type Json = Record<string, unknown>;
type DashboardComponent = 'DashboardQueues' | 'DashboardSession' | 'DashboardSignedIn' | 'DashboardSignedOut';

/** The dashboard's paths in the OpenAPI document; the helpers are openapi.ts's own. */
export function dashboardPaths(h: {
  json: (name: DashboardComponent, description: string) => Json;
  error: (description: string) => Json;
  operation: (cls: 'read', op: { summary: string; tags: string[]; responses: Json }) => Json;
}): Record<string, Json> {
  const page = (summary: string, extra: Json = {}) => ({
    get: {
      summary,
      tags: ['dashboard'],
      security: [],
      responses: {
        200: { description: `An HTML page (Content-Security-Policy: ${CSP})`, content: { 'text/html': { schema: { type: 'string' } } } },
        304: { description: 'Not modified (ETag)' },
        ...extra,
      },
    },
  });
  const origin = 'Refused from another site: Sec-Fetch-Site other than same-origin, or an Origin other than this server, or neither header';
  return {
    '/dashboard': page('The dashboard page; without a session a redirect to the sign-in page', {
      302: { description: 'Not signed in: to /dashboard/sign-in' },
    }),
    '/dashboard/sign-in': {
      ...page('The sign-in form (a read or admin API key)'),
      post: {
        summary:
          'Sign in: checks the key and sets the session cookie (HttpOnly, SameSite=Strict, Secure over https). A form post is answered with redirects, JSON with JSON',
        tags: ['dashboard'],
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: input(signInBody) },
            'application/json': { schema: input(signInBody) },
          },
        },
        responses: {
          200: h.json('DashboardSignedIn', 'Signed in (JSON request); the cookie is set'),
          303: { description: 'Form: to /dashboard when signed in, else back to /dashboard/sign-in?error=invalid|webhook|missing' },
          400: h.error('JSON request: no key, or malformed JSON'),
          401: h.error('JSON request: an unknown or revoked key'),
          403: h.error(`JSON request: a webhook key (it cannot sign in). Any request: ${origin}`),
          413: h.error('A body over 16 KB'),
          415: h.error('A body that is neither a form nor JSON'),
          429: h.error('Too many sign-in attempts from this address (20/s, burst 50); Retry-After says when to come back'),
          500: h.error('An unexpected error (logged with the request id)'),
          503: h.error('The database cannot be reached'),
        },
      },
    },
    '/dashboard/sign-out': {
      post: {
        summary: "Sign out: clears the session cookie (the session's CSRF token in X-CSRF-Token)",
        tags: ['dashboard'],
        security: [],
        responses: {
          200: h.json('DashboardSignedOut', 'The cookie is cleared'),
          403: h.error(`${origin}; or a session without its CSRF token`),
          500: h.error('An unexpected error'),
        },
      },
    },
    '/dashboard/session': {
      get: {
        summary: 'Who is signed in (from the session cookie), and the CSRF token of the session',
        tags: ['dashboard'],
        security: [],
        responses: {
          200: h.json('DashboardSession', 'The session'),
          401: h.error('No session cookie, an expired one, or its key was revoked'),
          503: h.error('The database cannot be reached'),
        },
      },
    },
    '/dashboard/assets/{file}': {
      get: {
        summary: "The page's scripts and stylesheet",
        tags: ['dashboard'],
        security: [],
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: Object.keys(ASSETS) } }],
        responses: {
          200: {
            description: 'JavaScript or CSS (ETag, Cache-Control: no-cache)',
            content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
          },
          304: { description: 'Not modified (ETag)' },
          404: h.error('No such asset'),
        },
      },
    },
    [CHART_JS_PATH]: {
      get: {
        summary: `chart.js ${CHART_JS_VERSION} (UMD build) from node_modules; the version is in the path, so it is cached for good`,
        tags: ['dashboard'],
        security: [],
        responses: {
          200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } },
          304: { description: 'Not modified (ETag)' },
        },
      },
    },
    '/api/dashboard/queues': {
      get: h.operation('read', {
        summary:
          "The follow-up queue (scheduled with the contact's local time, moved by the window, due for a person, blocked by do-not-call) and stale calls",
        tags: ['dashboard'],
        responses: { 200: h.json('DashboardQueues', 'The lists, 50 at most each') },
      }),
    },
  };
}

function input(schema: z.ZodType): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

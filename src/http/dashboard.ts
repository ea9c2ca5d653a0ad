// The operations dashboard at /dashboard: the page and its files (dashboardPage.ts), sign-in and
// sessions (dashboardSignIn.ts), and the queue lists (dashboardQueues.ts). This file puts the
// browser routes together and describes them all in the OpenAPI document.
import type { Router } from '@koa/router';
import { z } from 'zod';
import { ASSETS, CHART_JS_PATH, CHART_JS_VERSION, CSP, dashboardPageRoutes } from './dashboardPage';
import { type DashboardRouteDeps, signInBody, signInRoutes } from './dashboardSignIn';
import type { DashboardSessions } from './session';

export { DashboardQueues, dashboardApiRoutes } from './dashboardQueues';
export { DashboardSession, DashboardSignedIn, DashboardSignedOut } from './dashboardSignIn';

export function dashboardRoutes(router: Router, deps: DashboardRouteDeps, sessions: DashboardSessions): void {
  dashboardPageRoutes(router, sessions);
  signInRoutes(router, deps, sessions);
}

type Json = Record<string, unknown>;
type DashboardComponent = 'DashboardQueues' | 'DashboardSession' | 'DashboardSignedIn' | 'DashboardSignedOut';

/** The dashboard's paths in the OpenAPI document; the helpers are openapiSchemas.ts's own. */
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
        summary:
          "Sign out: ends the session on every receiver (a copied cookie stops working too) and clears the cookie (the session's CSRF token in X-CSRF-Token)",
        tags: ['dashboard'],
        security: [],
        responses: {
          200: h.json('DashboardSignedOut', 'The session is revoked and the cookie cleared'),
          503: h.error('The database cannot be reached: the session was not revoked'),
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

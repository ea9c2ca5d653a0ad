// The OpenAPI 3.1 document of the receiver, built from the zod schemas the routes validate with
// (request side) and the response schemas of openapiSchemas.ts (what the views return), plus the
// auth schemes and the key scopes of src/http/auth.ts. The API's paths are in openapiPaths.ts, the
// dashboard's in dashboard.ts, the event log's in events.ts. Served at /openapi.json; /docs renders it.
import type Router from '@koa/router';
import { dashboardPaths } from './dashboard';
import { DOCS_HTML } from './docsPage';
import { eventPaths } from './events';
import { apiPaths } from './openapiPaths';
import { type Json, componentSchemas, error, json, operation, queryParams } from './openapiSchemas';

let cached: Json | undefined;

export function openApiDocument(): Json {
  if (cached) return cached;
  const doc: Json = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Calls API',
      version: '0.1.0',
      description:
        'Phone-call webhooks from voice-AI platforms turned into durable follow-through. Every response carries ' +
        "X-Request-Id (the caller's when it is a plain token of up to 128 characters, else a new UUID). Errors are " +
        '`{"error", "message"}`. API keys have a scope: `webhook` (webhook routes only), `read` (GET routes), `admin` ' +
        '(everything); each operation lists the scopes that may call it under `x-scopes`.',
    },
    tags: [
      { name: 'webhooks', description: 'Call events from the platforms' },
      { name: 'calls', description: 'Call records' },
      { name: 'contacts' },
      { name: 'follow-ups', description: 'Manual control of follow-up calls' },
      { name: 'compliance', description: 'Calling window, do-not-call list, opt-out field' },
      { name: 'analytics', description: "Call figures from hourly rollups, in the organization's time zone" },
      { name: 'dashboard', description: 'The operations dashboard at /dashboard: sign-in, session, page assets, the queues it lists' },
      { name: 'operations', description: 'Health, readiness, metrics and this document; no API key' },
    ],
    components: {
      securitySchemes: {
        ApiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: "The organization's key, `ck_<id>_<secret>`" },
        ApiKeyQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'api_key',
          description: 'The same key in the URL, for platforms that cannot set headers; webhook routes only',
        },
        SessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'calls_session',
          description:
            "The dashboard's session (POST /dashboard/sign-in with a read or admin key): it acts as that key, with its scope. Requests that change something also need the session's X-CSRF-Token and must come from this origin",
        },
      },
      schemas: componentSchemas(),
    },
    paths: {
      ...apiPaths(),
      '/healthz': {
        get: { summary: 'Liveness', tags: ['operations'], security: [], responses: { 200: json('Health', 'The process answers') } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the database (needed to acknowledge webhooks), Temporal, the inbox',
          tags: ['operations'],
          security: [],
          responses: {
            200: json('Ready', 'Ready or degraded (Temporal down: events wait in the inbox)'),
            503: json('Ready', 'The database cannot be reached'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format); no key: aggregate counts only, keep it off the public proxy',
          tags: ['operations'],
          security: [],
          responses: {
            200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          tags: ['operations'],
          security: [],
          responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      ...dashboardPaths({ json, error, operation }),
      ...eventPaths({ error, operation, queryParams }),
      '/docs': {
        get: {
          summary: 'This document, readable',
          tags: ['operations'],
          security: [],
          responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
    },
  };
  cached = doc;
  return doc;
}

export function openApiRoutes(router: Router): void {
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });
  router.get('/docs', (ctx) => {
    // The page's one script is inline and fetches /openapi.json from this origin; nothing else may load.
    ctx.set('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_HTML;
  });
}

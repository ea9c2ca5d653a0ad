// The OpenAPI document against the app itself: every route the Koa routers serve is documented,
// every /api operation names its auth schemes, scopes and error bodies, and every schema compiles.
import Ajv2020 from 'ajv/dist/2020';
import type Koa from 'koa';
import type { AppDeps } from '../../../src/http/app';
import { openApiDocument } from '../../../src/http/openapi';
import { scopesFor } from '../../../src/http/openapiSchemas';
import { stubbedApp } from '../../support/app';

type Op = {
  security?: Array<Record<string, string[]>>;
  'x-scopes'?: string[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
};
const doc = openApiDocument() as unknown as {
  openapi: string;
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, { in: string; name: string }> };
};

/** Method + path of every route in the app's routers (HEAD comes with GET). */
function servedRoutes(app: Koa): string[] {
  const routes: string[] = [];
  for (const mw of app.middleware as Array<Koa.Middleware & { router?: { stack: Array<{ path: string; methods: string[] }> } }>) {
    for (const layer of mw.router?.stack ?? []) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) routes.push(`${method} ${layer.path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

const app = stubbedApp({} as AppDeps['col'], { bodyLimitBytes: 1024, temporalUiUrl: 'http://t' });

test('every route the app serves is in the document, and the document has no route the app lacks', () => {
  const served = servedRoutes(app);
  expect(served.length).toBeGreaterThan(10);
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  expect(served.filter((r) => !documented.includes(r))).toEqual([]);
  expect(documented.filter((r) => !served.includes(r))).toEqual([]);
});

test('it is OpenAPI 3.1 with both key schemes, and every component schema compiles as JSON Schema 2020-12', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes.ApiKeyHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
  expect(doc.components.securitySchemes.ApiKeyQuery).toMatchObject({ type: 'apiKey', in: 'query', name: 'api_key' });
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema(doc, 'openapi');
  for (const name of Object.keys(doc.components.schemas)) expect(ajv.getSchema(`openapi#/components/schemas/${name}`)).toBeDefined();
});

test('each /api operation lists the scopes the auth middleware allows, the query key only on webhooks, and JSON error bodies', () => {
  expect(scopesFor('webhook').sort()).toEqual(['admin', 'webhook']);
  expect(scopesFor('read').sort()).toEqual(['admin', 'read']);
  expect(scopesFor('control')).toEqual(['admin']);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!path.startsWith('/api/')) {
        expect(op.security).toEqual([]);
        continue;
      }
      const webhook = path.startsWith('/api/calls/webhook');
      const scopes = webhook ? ['webhook', 'admin'] : method === 'get' ? ['read', 'admin'] : ['admin'];
      expect(op['x-scopes']!.sort()).toEqual([...scopes].sort());
      const schemes = new Set(op.security!.flatMap((s) => Object.keys(s)));
      // The dashboard's session cookie acts as its key everywhere but on the webhook routes.
      expect([...schemes].sort()).toEqual(webhook ? ['ApiKeyHeader', 'ApiKeyQuery'] : ['ApiKeyHeader', 'SessionCookie']);
      for (const status of ['401', '403', '429', '500', '503']) {
        expect(op.responses[status]?.content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorBody');
      }
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) >= 400) expect(r.content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorBody');
      }
    }
  }
});

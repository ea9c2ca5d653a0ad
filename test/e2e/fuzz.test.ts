// Property-based fuzzing of every route against the real app, Temporal and database: mutated
// fixtures, random bytes, invalid UTF-8, deep nesting, huge strings, odd paths and query strings,
// and missing, repeated or garbage headers. Every answer must be a 2xx or a JSON 4xx (no 5xx, no
// unhandled rejection); afterwards no workflow may have failed or been terminated, none may have
// retried a workflow task more than once, and nothing acknowledged may be stuck in the inbox.
// The run is bounded in time (FUZZ_E2E_SECONDS, default 40) and prints how many inputs it tried.
import { request as httpRequest } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PROVIDERS } from '../../src/domain/events';
import { startStack, type Stack } from '../support/stack';
import { eventually } from '../support/harness';

const FIXTURES = join(__dirname, '../fixtures/providers');
const SECONDS = Number(process.env.FUZZ_E2E_SECONDS ?? 40);

let stack: Stack;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  stack = await startStack('fuzz');
}, 120_000);
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await stack?.stop();
});

const fixtures = PROVIDERS.flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => !f.includes('large'))
    .map((f) => ({ provider: dir, file: `${dir}/${f}`, raw: readFileSync(join(FIXTURES, dir, f)) })),
);

interface Req {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

function send(r: Req): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

// ---- generators ------------------------------------------------------------------------------

const hostileString = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    '',
    '\u0000',
    'a\nb',
    '9999-01-01T00:00:00Z',
    'no-answer',
    'busy',
    'completed',
    '$where',
    'a.b',
    '%00',
    '../..',
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.nat({ max: 5000 }).map((n) => 'x'.repeat(n)),
);
const deep = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { d: v };
  return v;
};
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}),
  fc.integer(),
  fc.double(),
  fc.nat({ max: 2000 }).map(deep),
  fc.constant(null).map(() => JSON.parse('{"__proto__":{"x":1}}')),
  fc.anything({ maxDepth: 2, maxKeys: 4, withBigInt: false, withDate: false, withMap: false, withSet: false, withTypedArray: false }),
);

function mutateJson(raw: Buffer, muts: { pick: number; key: string; value: unknown; del: boolean }[]): Buffer {
  const doc = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  const holders: Record<string, unknown>[] = [];
  const walk = (v: unknown) => {
    if (v && typeof v === 'object') {
      if (!Array.isArray(v)) holders.push(v as Record<string, unknown>);
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(doc);
  for (const m of muts) {
    const h = holders[m.pick % holders.length];
    const keys = Object.keys(h);
    const key = m.pick % 3 === 0 || keys.length === 0 ? m.key : keys[m.pick % keys.length];
    if (m.del) delete h[key];
    else Object.defineProperty(h, key, { value: m.value, enumerable: true, configurable: true, writable: true });
  }
  return Buffer.from(JSON.stringify(doc));
}

const mutation = fc.record({
  pick: fc.nat(),
  key: fc.oneof(hostileString, fc.constantFrom('callId', 'event', 'status', 'metadata', 'contactId', 'provider')),
  value: hostileValue,
  del: fc.boolean(),
});

const webhookBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...fixtures), fc.array(mutation, { maxLength: 3 }))
      .map(([f, m]) => ({ f, body: f.file.endsWith('.txt') ? f.raw : mutateJson(f.raw, m) })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...fixtures), fc.uint8Array({ maxLength: 200 })).map(([f, b]) => ({ f, body: Buffer.from(b) })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...fixtures), fc.nat({ max: 50_000 })).map(([f, n]) => ({
      f,
      body: Buffer.from(`{"callId":"deep","event":"call.completed","metadata":${'['.repeat(n)}${']'.repeat(n)}}`),
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...fixtures),
        fc.constantFrom('\xff\xfe\xfd', '{"callId":"\xc3\x28","event":"call.completed"}', '', 'null', '[]', '{'),
      )
      .map(([f, s]) => ({ f, body: Buffer.from(s, 'latin1') })),
  },
);

const contentType = fc.oneof(
  { weight: 5, arbitrary: fc.constant<string | undefined>(undefined) }, // the fixture's own
  {
    weight: 1,
    arbitrary: fc.constantFrom<string | undefined>(
      'text/plain',
      'application/json; charset=utf-16',
      'multipart/form-data',
      '',
      'application/x-www-form-urlencoded',
      'application/problem+json',
    ),
  },
);

type KeyMode = 'header' | 'query' | 'missing' | 'twice' | 'garbage';
const keyMode = fc.oneof(
  { weight: 8, arbitrary: fc.constant<KeyMode>('header') },
  { weight: 1, arbitrary: fc.constantFrom<KeyMode>('query', 'missing', 'twice', 'garbage') },
);

const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-retell-signature',
    'x-twilio-signature',
    'x-vapi-secret',
    'x-webhook-signature',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'origin',
    'x-forwarded-host',
    'x-forwarded-proto',
  ),
  fc.oneof(
    fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    fc.constantFrom('v=1,d=zz', 'sha256=00', 'v1,AAAA'),
  ),
  { maxKeys: 2 },
);

const pathSegment = fc.oneof(
  fc.constantFrom('c1', 'call_abc123', '__proto__', 'constructor', '%00', '%E0%A4%A', 'x'.repeat(300), '..%2F..'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const queryString = fc
  .array(
    fc.tuple(
      fc.constantFrom('status', 'outcome', 'provider', 'contactId', 'from', 'to', 'limit', 'offset', '__proto__', 'status'),
      hostileString.filter((s) => s.length < 300),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : ''));
const jsonBody = fc.oneof(
  fc
    .dictionary(fc.constantFrom('name', 'email', 'phone', 'timezone', 'reason', 'at', 'in', '__proto__', 'contactId', 'by'), hostileValue, {
      maxKeys: 4,
    })
    .map((o) => Buffer.from(JSON.stringify(o) ?? '')),
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
);

type Labeled = Req & { label: string; mode: KeyMode };
const request: fc.Arbitrary<Req & { label: string }> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(webhookBody, fc.constantFrom<string | undefined>(undefined, ...PROVIDERS, 'nope'), contentType, keyMode, extraHeaders)
      .map(([{ f, body }, route, type, mode, extra]): Labeled => {
        const path = route === undefined ? '/api/calls/webhook' : `/api/calls/webhook/${route}`;
        return {
          label: `webhook ${f.file}`,
          method: 'POST',
          path,
          body,
          headers: {
            ...extra,
            'content-type': type ?? (f.file.endsWith('.txt') ? 'application/x-www-form-urlencoded' : 'application/json'),
          },
          mode,
        };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('/api/calls', '/api/follow-ups', '/api/calls/', '/api/contacts/'), pathSegment, queryString, keyMode)
      .map(([base, seg, q, mode]): Labeled => ({
        label: 'read',
        method: 'GET',
        path: `${base.endsWith('/') ? base + seg : base}${q}`,
        headers: {},
        mode,
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('retry', 'follow-up/cancel', 'follow-up/schedule', 'contacts', 'contact-patch'),
        pathSegment,
        jsonBody,
        fc.boolean(),
        keyMode,
      )
      .map(([what, seg, body, json, mode]): Labeled => {
        const path =
          what === 'contacts' ? '/api/contacts' : what === 'contact-patch' ? `/api/contacts/${seg}` : `/api/calls/${seg}/${what}`;
        return {
          label: what,
          method: what === 'contact-patch' ? 'PATCH' : 'POST',
          path,
          body,
          headers: json ? { 'content-type': 'application/json' } : {},
          mode,
        };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('PUT', 'DELETE', 'OPTIONS', 'GET', 'POST'), pathSegment)
      .map(([method, seg]): Labeled => ({ label: 'odd', method, path: `/api/${seg}`, headers: {}, mode: 'header' })),
  },
);

function withKey(r: Req & { mode?: KeyMode }): Req {
  const headers = { ...r.headers };
  let path = r.path;
  switch (r.mode) {
    case 'query':
      path += `${path.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(stack.apiKey)}`;
      break;
    case 'twice':
      headers['x-api-key'] = [stack.apiKey, stack.apiKey];
      break;
    case 'garbage':
      headers['x-api-key'] = 'ck_zzzzzzzz_zzzzzzzzzzzzzzzzzzzzzz';
      break;
    case 'missing':
      break;
    default:
      headers['x-api-key'] = stack.apiKey;
  }
  return { method: r.method, path, headers, body: r.body };
}

test(
  `fuzzing every route for ${SECONDS} s: only 2xx or JSON 4xx, and no workflow fails`,
  async () => {
    const deadline = Date.now() + SECONDS * 1000;
    let tried = 0;
    const statuses: Record<number, number> = {};
    const bad: string[] = [];
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    console.log(`e2e fuzz: seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);
    // Generated in small batches, so the time goes to requests rather than to building inputs.
    const batches = (function* () {
      for (let i = 0; ; i++) yield* fc.sample(request, { numRuns: 50, seed: seed + i });
    })();
    for (const r of batches) {
      if (Date.now() > deadline) break;
      const req = withKey(r);
      const res = await send(req);
      tried++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      let json: unknown;
      try {
        json = JSON.parse(res.text);
      } catch {
        json = undefined;
      }
      const okJson4xx =
        res.status >= 400 &&
        res.status < 500 &&
        res.type.startsWith('application/json') &&
        typeof (json as { error?: unknown })?.error === 'string' &&
        typeof (json as { message?: unknown })?.message === 'string';
      const ok2xx = res.status >= 200 && res.status < 300;
      if (!ok2xx && !okJson4xx) bad.push(`${req.method} ${req.path.slice(0, 120)} (${r.label}) → ${res.status} ${res.text.slice(0, 200)}`);
    }
    console.log(`e2e fuzz: ${tried} inputs tried in ${SECONDS} s; statuses ${JSON.stringify(statuses)}`);
    expect(bad).toEqual([]);
    expect(rejections).toEqual([]);
    expect(tried).toBeGreaterThan(100);

    // Everything acknowledged reaches its workflow: the inbox drains and holds no dead letter.
    await eventually('the inbox to drain', async () => (await stack.store.col.inbox.countDocuments({})) === 0, 60_000);

    // Then no workflow failed, was terminated, or retried a workflow task more than once.
    await new Promise((r) => setTimeout(r, 3_000));
    let workflows = 0;
    const problems: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `TaskQueue="${stack.taskQueue}"` })) {
      workflows++;
      if (wf.status.name === 'FAILED' || wf.status.name === 'TERMINATED') problems.push(`${wf.workflowId}: ${wf.status.name}`);
      const history = await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const failedTasks = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
      if (failedTasks > 1) problems.push(`${wf.workflowId}: ${failedTasks} workflow task failures`);
    }
    console.log(`e2e fuzz: ${workflows} workflows checked`);
    expect(problems).toEqual([]);
    expect(workflows).toBeGreaterThan(0);
  },
  (SECONDS + 150) * 1000,
);

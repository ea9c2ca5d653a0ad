// Property-based fuzzing of every platform parser (fast-check): fixtures mutated at random paths
// with hostile values (prototype keys, huge and control-character strings, deep nesting, odd
// types), random bytes and invalid UTF-8, and random or repeated signature headers. Whatever
// arrives, parsing either refuses it with a PayloadError naming a field, or yields events that
// Temporal and MongoDB accept and the reducer settles: never another exception.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { OUTCOMES, type CallEvent } from '../../../src/domain/events';
import { CALL_STATUSES, initialState, reduce } from '../../../src/domain/reducer';
import { MAX_FUTURE_SKEW_MS } from '../../../src/domain/limits';
import { PayloadError, adapters, detectProvider, parseBody } from '../../../src/providers';
import { CALL_EVENT_TYPES, PROVIDERS, type Provider } from '../../../src/domain/events';
import { FIXTURES, NOW, RECEIVED_AT, fixtureBytes, makeReq } from './helpers';

const FORM = 'application/x-www-form-urlencoded';
const EVENT_TYPES = [...CALL_EVENT_TYPES, 'call.updated'];

/** Every fixture but the 3 MB one (its size adds nothing but time). */
const fixtures = PROVIDERS.flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => !f.includes('large'))
    .map((f) => `${dir}/${f}`),
);
const jsonFixtures = fixtures.filter((f) => f.endsWith('.json'));
const formFixtures = fixtures.filter((f) => f.endsWith('.txt'));

let tried = 0;
afterAll(() => {
  console.log(`parser fuzz: ${tried} inputs tried`);
});

// ---- hostile values ---------------------------------------------------------------------------

const deep = (n: number, leaf: unknown = 'x'): unknown => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { d: v };
  return v;
};
const protoObject = () => JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') as unknown;

const hostileString = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '',
    ' ',
    '\u0000',
    'a\nb',
    '\u2028',
    '9999-01-01T00:00:00Z',
    '-1',
    'NaN',
    'Infinity',
    '1e400',
    'no-answer',
    'busy',
    'completed',
    'call.completed',
    '+882161234567',
    '$set',
    'a.b',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 6000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.anything({
    maxDepth: 3,
    maxKeys: 5,
    withBigInt: false,
    withDate: false,
    withMap: false,
    withSet: false,
    withTypedArray: false,
    withSparseArray: false,
    withBoxedValues: false,
  }),
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 9.999e15, 253402300800000, []),
  fc.double(),
  fc.integer(),
  fc.nat({ max: 3000 }).map((n) => deep(n)),
  fc.constant(null).map(protoObject),
);

// ---- JSON mutations ---------------------------------------------------------------------------

type Path = (string | number)[];
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (at.length > 40) return out; // mutate near the top; deep nesting is an input, not a place
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) pathsOf((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

interface Mutation {
  pick: number;
  op: 'set' | 'delete' | 'add' | 'poke';
  key: string;
  value: unknown;
}
/** Fields whose values index a lookup table somewhere: the place a prototype name does harm. */
const TABLE_KEYS = new Set([
  'status',
  'event',
  'type',
  'disconnection_reason',
  'endedReason',
  'call_status',
  'CallStatus',
  'queue_status',
  'answered_by',
  'provider',
]);
const ID_KEYS = new Set(['callId', 'call_id', 'c_id', 'id', 'contactId', 'contact_id', 'agentId', 'agent_id', 'assistantId']);
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];
const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('set', 'set', 'delete', 'add', 'poke', 'poke'),
  key: fc.oneof(
    hostileString,
    fc.constantFrom('callId', 'call_id', 'event', 'status', 'metadata', 'contactId', 'timestamp', 'provider', 'type', 'message', 'call'),
  ),
  value: hostileValue,
});

function mutate(root: unknown, muts: Mutation[]): unknown {
  let doc = structuredClone(root);
  for (let m of muts) {
    const all = pathsOf(doc);
    // A poke sets a table-indexing field (where the fixture has one) to a prototype name.
    // Or an identifier (which ends up in a workflow id or search attribute) to one too long or with a control character.
    const ids = m.pick % 2 === 1;
    const pokable = all.filter((p) => (ids ? ID_KEYS : TABLE_KEYS).has(String(p[p.length - 1])));
    const poke = m.op === 'poke' && pokable.length > 0;
    const paths = poke ? pokable : all;
    const path = paths[m.pick % paths.length];
    if (poke) {
      const value = ids ? (m.pick % 4 === 1 ? 'a\u0000b' : 'i'.repeat(150 + (m.pick % 3000))) : PROTO_NAMES[m.pick % PROTO_NAMES.length];
      m = { ...m, op: 'set', value };
    }
    if (path.length === 0) {
      if (m.op === 'set') doc = m.value;
      else if (doc !== null && typeof doc === 'object' && !Array.isArray(doc))
        Object.defineProperty(doc, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      continue;
    }
    const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], doc);
    const last = path[path.length - 1];
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.op === 'set') {
      Object.defineProperty(parent, last, { value: m.value, enumerable: true, configurable: true, writable: true });
    } else {
      const target = parent[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      }
    }
  }
  return doc;
}

// ---- the property -----------------------------------------------------------------------------

/** Independent of the code under test: what a workflow id part or keyword search attribute takes here. */
const isSafeId = (v: string) => v.length > 0 && v.length <= 200 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v);

/** What every accepted event must satisfy so that Temporal, MongoDB and the reducer take it. */
function checkEvents(events: CallEvent[]) {
  expect(events.length).toBeGreaterThan(0);
  let state = initialState('org_fuzz', events[0].callId, events[0].provider);
  for (const e of events) {
    expect(isSafeId(e.callId)).toBe(true);
    expect(isSafeId(e.eventId)).toBe(true);
    if (e.contactId !== undefined) expect(isSafeId(e.contactId)).toBe(true);
    if (e.agentId !== undefined) expect(isSafeId(e.agentId)).toBe(true);
    expect(EVENT_TYPES).toContain(e.type);
    if (e.outcome !== undefined) expect(OUTCOMES).toContain(e.outcome);
    expect(e.providerEvent.length).toBeLessThanOrEqual(200);
    for (const t of [e.occurredAt, e.startedAt, e.endedAt]) {
      if (t !== undefined) expect(Date.parse(t)).toBeLessThanOrEqual(NOW + MAX_FUTURE_SKEW_MS);
    }
    if (e.metadata !== undefined) expect(Object.prototype.hasOwnProperty.call(e.metadata, '__proto__')).toBe(false);
    // Serializable as Temporal's JSON payload converter does it, and back.
    expect(JSON.parse(JSON.stringify(e)).eventId).toBe(e.eventId);
    state = reduce(state, e).state;
  }
  expect(CALL_STATUSES).toContain(state.status);
  if (state.outcome !== undefined) expect(OUTCOMES).toContain(state.outcome);
}

/** Parses like the webhook route: body, provider (route's or detected), parse. Only PayloadError may escape. */
function parseLikeTheRoute(raw: Buffer, contentType: string, headers: Record<string, string | string[]> = {}, route?: string) {
  tried++;
  const req = makeReq(raw, { contentType, headers });
  try {
    const body = parseBody(req);
    const provider = detectProvider(req, body, route);
    const events = adapters[provider].parse(req, body);
    checkEvents(events);
    return events;
  } catch (err) {
    if (err instanceof PayloadError) {
      expect(typeof err.field).toBe('string');
      expect(err.message.length).toBeGreaterThan(0);
      return undefined;
    }
    throw err;
  }
}

const routes = fc.constantFrom<(Provider | undefined)[]>(undefined, ...PROVIDERS);

describe('parser fuzz', () => {
  test('mutated JSON fixtures, on the shared route and every platform route', () => {
    fc.assert(
      fc.property(fc.constantFrom(...jsonFixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }), routes, (file, muts, route) => {
        const base = JSON.parse(fixtureBytes(file).toString('utf8'));
        const raw = Buffer.from(JSON.stringify(mutate(base, muts)) ?? 'null');
        parseLikeTheRoute(raw, 'application/json', {}, route);
      }),
      { numRuns: 1500 },
    );
  });

  test('mutated Twilio form callbacks, with repeated keys', () => {
    const field = fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'CallSid',
          'CallStatus',
          'SequenceNumber',
          'Timestamp',
          'CallDuration',
          'RecordingStatus',
          'RecordingUrl',
          'AnsweredBy',
          'Direction',
          'From',
          'To',
        ),
        fc.string({ maxLength: 10 }),
      ),
      hostileString,
    );
    fc.assert(
      fc.property(fc.constantFrom(...formFixtures), fc.array(field, { maxLength: 6 }), fc.boolean(), (file, extra, append) => {
        const params = new URLSearchParams(fixtureBytes(file).toString('utf8'));
        for (const [k, v] of extra) {
          if (append) params.append(k, v);
          else params.set(k, v);
        }
        parseLikeTheRoute(Buffer.from(params.toString()), FORM, {}, 'twilio');
      }),
      { numRuns: 500 },
    );
  });

  test('random bytes, invalid UTF-8 and odd JSON texts', () => {
    const text = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc
        .constantFrom('', ' ', '\ufeff{}', 'null', '[]', '"x"', '1', '{', '{"callId":', '\xff\xfe', '{"a":1}{"b":2}')
        .map((s) => Buffer.from(s, 'latin1')),
      fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s)),
      fc.nat({ max: 20_000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
      fc
        .nat({ max: 20_000 })
        .map((n) => Buffer.from(`{"callId":"c","event":"call.completed","metadata":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`)),
    );
    fc.assert(
      fc.property(
        text,
        fc.constantFrom('application/json', FORM, 'application/vnd.x+json', 'text/plain', ''),
        routes,
        (raw, type, route) => {
          parseLikeTheRoute(raw, type, {}, route);
        },
      ),
      { numRuns: 800 },
    );
  });

  test('signature checks never throw, whatever the headers (missing, repeated, garbage)', () => {
    const headerValue = fc.oneof(
      hostileString.filter((s) => s.length < 300),
      fc.array(fc.string({ maxLength: 60 }), { minLength: 2, maxLength: 3 }),
    );
    const names = fc.constantFrom(
      'x-retell-signature',
      'x-twilio-signature',
      'x-vapi-secret',
      'x-vapi-signature',
      'x-webhook-signature',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'authorization',
      'x-signature',
      'x-timestamp',
    );
    const secrets = fc.constantFrom(
      { secret: 'sekrit' },
      { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      { secret: 's', mode: 'bearer' as const },
      { secret: 's', mode: 'hmac' as const, payloadFormat: '{timestamp}.{body}.{url}' },
      { secret: 's', mode: 'hmac' as const, encoding: 'base64' as const, algorithm: 'sha1' as const },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.dictionary(names, headerValue, { maxKeys: 5 }),
        secrets,
        fc.constantFrom(...PROVIDERS),
        (file, headers, secret, provider) => {
          tried++;
          const req = makeReq(fixtureBytes(file), {
            headers,
            contentType: file.endsWith('.txt') ? FORM : 'application/json',
            publicUrl: 'https://h.example/api/calls/webhook/twilio?bodySHA256=zz',
          });
          const v = adapters[provider].verify(req, secret);
          if (!v.ok) {
            expect(typeof v.header).toBe('string');
            expect(v.message.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 800 },
    );
  });
});

test('the fixtures themselves still parse (the fuzz starts from valid input)', () => {
  const parsed = jsonFixtures.filter((f) => !f.includes('invalid')).map((f) => parseLikeTheRoute(fixtureBytes(f), 'application/json'));
  expect(parsed.every((e) => e !== undefined)).toBe(true);
  expect(RECEIVED_AT).toBe(new Date(NOW).toISOString());
});

import { PROVIDERS } from '../../../src/domain/events';
import { adapters, detectProvider, isProvider, isSupportedContentType, mediaTypeOf, parseBody } from '../../../src/providers';
import { fixtureJson, fixtureReq, makeReq, payloadError } from './helpers';

describe('adapters', () => {
  it('has one adapter per provider, named after it', () => {
    expect(Object.keys(adapters).sort()).toEqual([...PROVIDERS].sort());
    for (const p of PROVIDERS) expect(adapters[p].name).toBe(p);
  });
});

describe('detectProvider', () => {
  const retellBody = fixtureJson('retell/call-ended.json');

  it('lets the route provider win over body and headers', () => {
    const req = makeReq('{}', { headers: { 'x-retell-signature': 'v=1,d=00' } });
    expect(detectProvider(req, { ...retellBody, provider: 'vapi' }, 'generic')).toBe('generic');
  });

  it('refuses an unknown route provider, naming the field', () => {
    expect(payloadError(() => detectProvider(makeReq('{}'), {}, 'skype'))).toMatchObject({ field: 'provider' });
  });

  it('then trusts a valid body provider field', () => {
    expect(detectProvider(makeReq('{}'), fixtureJson('retell/seed-common.json'))).toBe('retell');
    expect(detectProvider(makeReq('{}'), { callId: 'c', event: 'call.completed', provider: 'bland' })).toBe('bland');
  });

  it('ignores an invalid body provider field', () => {
    expect(detectProvider(makeReq('{}'), { ...retellBody, provider: 'retell-ai' })).toBe('retell');
    expect(detectProvider(makeReq('{}'), { callId: 'c', event: 'call.completed', provider: 42 })).toBe('generic');
  });

  it.each([
    ['x-retell-signature', 'v=1,d=00', 'retell'],
    ['x-vapi-secret', 's', 'vapi'],
    ['x-twilio-signature', 'abc=', 'twilio'],
  ])('then uses the %s header', (header, value, provider) => {
    expect(detectProvider(makeReq('{}', { headers: { [header]: value } }), { callId: 'c', event: 'call.completed' })).toBe(provider);
  });

  it.each([
    ['vapi message.type', { message: { type: 'hang', call: { id: 'c' } } }, 'vapi'],
    ['retell event + call.call_id', { event: 'call_started', call: { call_id: 'c' } }, 'retell'],
    ['bland call_id + call_length', { call_id: 'c', call_length: 1.2 }, 'bland'],
    ['bland c_id', { c_id: 'c', status: 'completed' }, 'bland'],
    ['bland corrected_transcript', { call_id: 'c', corrected_transcript: 'x' }, 'bland'],
    ['generic spec shape', { callId: 'c', event: 'call.completed' }, 'generic'],
    ['anything else', { hello: 'world' }, 'generic'],
  ])('then the body shape: %s', (_label, body, provider) => {
    expect(detectProvider(makeReq(JSON.stringify(body)), body)).toBe(provider);
  });

  it('detects a Twilio form body by CallSid', () => {
    const req = fixtureReq('twilio/ringing.txt');
    expect(detectProvider(req, parseBody(req))).toBe('twilio');
  });
});

describe('parseBody', () => {
  it('parses JSON by content type', () => {
    expect(parseBody(makeReq('{"a":1}', { contentType: 'application/json' }))).toEqual({ a: 1 });
    expect(parseBody(makeReq('{"a":1}', { contentType: 'application/vnd.evon+json' }))).toEqual({ a: 1 });
  });

  it('decodes UTF-8 exactly and drops a BOM', () => {
    const body = parseBody(makeReq('\ufeff{"t":"Señora Müller, ¿qué tal? 日本語 🙂"}'));
    expect(body).toEqual({ t: 'Señora Müller, ¿qué tal? 日本語 🙂' });
  });

  it('parses the ~3 MB fixture', () => {
    const body = parseBody(fixtureReq('retell/call-ended-large.json')) as { call: { transcript_object: unknown[] } };
    expect(body.call.transcript_object).toHaveLength(2100);
  });

  it.each([
    ['{"callId": "c",', 'Malformed JSON: '],
    ['', 'Malformed JSON: empty body'],
    ['   ', 'Malformed JSON: empty body'],
  ])('reports malformed JSON %p on field body', (raw, prefix) => {
    const err = payloadError(() => parseBody(makeReq(raw)));
    expect(err.field).toBe('body');
    expect(err.message.startsWith(prefix)).toBe(true);
  });

  it.each(['[1,2]', 'null', '"text"', '42'])('refuses a JSON %s that is not an object', (raw) => {
    expect(payloadError(() => parseBody(makeReq(raw))).field).toBe('body');
  });

  it('refuses invalid UTF-8', () => {
    const err = payloadError(() => parseBody(makeReq(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))));
    expect(err).toMatchObject({ field: 'body' });
    expect(err.message).toContain('UTF-8');
  });

  it('parses form bodies, keeping repeated keys as arrays in order', () => {
    const req = makeReq('CallSid=CA1&To=%2B14155551234&Name=Se%C3%B1ora+M%C3%BCller&K=2&K=1', {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(parseBody(req)).toEqual({ CallSid: 'CA1', To: '+14155551234', Name: 'Señora Müller', K: ['2', '1'] });
  });

  it('refuses other content types on field content-type', () => {
    expect(payloadError(() => parseBody(makeReq('<xml/>', { contentType: 'text/xml' }))).field).toBe('content-type');
    expect(payloadError(() => parseBody(makeReq('{}', { contentType: '' }))).field).toBe('content-type');
  });
});

describe('content types', () => {
  it.each([
    ['application/json', true],
    ['application/x-www-form-urlencoded', true],
    ['application/cloudevents+json', true],
    ['text/json', false],
    ['text/plain', false],
    ['multipart/form-data', false],
    ['', false],
  ])('%p supported: %p', (t, ok) => {
    expect(isSupportedContentType(t)).toBe(ok);
  });

  it('reduces a Content-Type header to its media type', () => {
    expect(mediaTypeOf('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaTypeOf(['application/x-www-form-urlencoded; charset=UTF-8'])).toBe('application/x-www-form-urlencoded');
    expect(mediaTypeOf(undefined)).toBe('');
  });

  it('knows the providers', () => {
    expect(isProvider('vapi')).toBe(true);
    expect(isProvider('Vapi')).toBe(false);
    expect(isProvider(undefined)).toBe(false);
  });
});

describe("the spec's common structure under a platform's name", () => {
  it.each(['retell', 'vapi', 'bland'] as const)('%s parses it, labelled with its own provider', (provider) => {
    const body = { ...fixtureJson('retell/seed-common.json'), provider };
    const req = makeReq(JSON.stringify(body));
    expect(detectProvider(req, body)).toBe(provider);
    const [e] = adapters[provider].parse(req, body);
    expect(e).toMatchObject({
      provider,
      callId: 'call_abc123',
      type: 'call.completed',
      outcome: 'completed',
      durationSec: 180,
      eventId: `${provider}:call_abc123:call.completed:completed`,
      contactId: 'contact_456def',
      agentId: 'agent_789ghi',
    });
  });
});

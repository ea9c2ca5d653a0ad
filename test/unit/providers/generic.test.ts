import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generic } from '../../../src/providers/generic';
import { asciiJson, fixtureBytes, fixtureJson, fixtureReq, makeReq, NOW, payloadError, RECEIVED_AT } from './helpers';

const parse = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  generic.parse(makeReq(JSON.stringify(body), { headers }), body);

describe('generic parse', () => {
  it('maps the spec example to every canonical field', () => {
    const [e] = generic.parse(fixtureReq('generic/completed.json'), fixtureJson('generic/completed.json'));
    expect(e).toEqual({
      eventId: 'generic:call_abc123:call.completed:completed',
      provider: 'generic',
      providerEvent: 'call.completed',
      callId: 'call_abc123',
      type: 'call.completed',
      occurredAt: '2025-01-15T10:30:00.000Z',
      receivedAt: RECEIVED_AT,
      outcome: 'completed',
      endedReason: 'completed',
      from: '+14155551234',
      to: '+14155555678',
      durationSec: 180,
      endedAt: '2025-01-15T10:30:00.000Z',
      recordingUrl: 'https://example.com/recordings/abc123.mp3',
      transcript: 'Agent: Hi, this is Evon calling about your appointment.\nCustomer: Great, thanks for calling!',
      agentId: 'agent_789ghi',
      contactId: 'contact_456def',
      metadata: { contactId: 'contact_456def', agentId: 'agent_789ghi', campaign: 'spring-followups' },
    });
  });

  it('keeps non-ASCII transcripts intact', () => {
    const [e] = generic.parse(fixtureReq('generic/non-ascii.json'), fixtureJson('generic/non-ascii.json'));
    expect(e.transcript).toBe('Agente: Buenos días, Señora Müller, ¿qué tal? 日本語も話せます。\nCliente: Très bien, merci — ¡gracias! 🙂');
  });

  it('accepts call_id as an alias of callId, and snake-case metadata ids', () => {
    const [e] = parse({ call_id: 'c_1', event: 'call.answered', metadata: { contact_id: 'k_9', agent_id: 'a_9' } });
    expect(e).toMatchObject({ callId: 'c_1', type: 'call.answered', contactId: 'k_9', agentId: 'a_9' });
  });

  it('uses the Standard Webhooks webhook-id as the event id when present', () => {
    const [e] = parse({ callId: 'c_1', event: 'call.ringing' }, { 'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' });
    expect(e.eventId).toBe('generic:webhook-id:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
  });

  it('accepts null for optional fields', () => {
    const [e] = parse({
      callId: 'c_1',
      event: 'call.completed',
      duration: null,
      status: null,
      recording_url: null,
      metadata: null,
      timestamp: null,
    });
    expect(e).toMatchObject({ type: 'call.completed', outcome: 'completed' });
    expect(e.durationSec).toBeUndefined();
    expect(e.recordingUrl).toBeUndefined();
  });

  it('rounds fractional durations to whole seconds', () => {
    expect(parse({ callId: 'c', event: 'call.completed', duration: 61.5 })[0].durationSec).toBe(62);
    expect(parse({ callId: 'c', event: 'call.completed', duration: 61.4 })[0].durationSec).toBe(61);
  });

  it.each([
    // event, status, type, outcome
    ['call.completed', 'completed', 'call.completed', 'completed'],
    ['call.completed', undefined, 'call.completed', 'completed'],
    ['call.completed', 'no-answer', 'call.failed', 'no-answer'],
    ['call.completed', 'busy', 'call.failed', 'busy'],
    ['call.completed', 'failed', 'call.failed', 'failed'],
    ['call.completed', 'canceled', 'call.failed', 'canceled'],
    ['call.completed', 'cancelled', 'call.failed', 'canceled'],
    ['call.completed', 'voicemail', 'call.completed', 'voicemail'],
    ['call.completed', 'NO_ANSWER', 'call.failed', 'no-answer'],
    ['call.completed', 'hung-up-by-carrier', 'call.completed', 'completed'],
    ['call.failed', undefined, 'call.failed', 'failed'],
    ['call.failed', 'busy', 'call.failed', 'busy'],
    ['call.failed', 'completed', 'call.failed', 'failed'],
    ['call.failed', 'something-new', 'call.failed', 'failed'],
  ])('%s with status %s → %s / %s', (ev, status, type, outcome) => {
    const [e] = parse({ callId: 'c', event: ev, status });
    expect(e.type).toBe(type);
    expect(e.outcome).toBe(outcome);
    expect(e.endedReason).toBe(status);
  });

  it('puts no outcome on non-terminal events', () => {
    const [e] = parse({ callId: 'c', event: 'call.answered', status: 'in-progress' });
    expect(e.outcome).toBeUndefined();
    expect(e.endedReason).toBeUndefined();
  });

  it('maps call.recording_ready with its URL', () => {
    const [e] = generic.parse(fixtureReq('generic/recording-ready.json'), fixtureJson('generic/recording-ready.json'));
    expect(e).toMatchObject({ type: 'call.recording_ready', recordingUrl: 'https://example.com/recordings/abc123.mp3' });
  });
});

describe('generic payload errors', () => {
  it('names a missing callId', () => {
    const err = payloadError(() =>
      generic.parse(fixtureReq('generic/invalid-missing-call-id.json'), fixtureJson('generic/invalid-missing-call-id.json')),
    );
    expect(err.field).toBe('callId');
    expect(err.message).toBe('Missing required field: callId');
  });

  it('treats an empty callId as missing', () => {
    expect(payloadError(() => parse({ callId: '', event: 'call.completed' })).message).toBe('Missing required field: callId');
  });

  it('names a missing event', () => {
    const err = payloadError(() => parse({ callId: 'c' }));
    expect(err).toMatchObject({ field: 'event', message: 'Missing required field: event' });
  });

  it('reads a numeric-string duration as the number', () => {
    const [e] = generic.parse(fixtureReq('generic/duration-string.json'), fixtureJson('generic/duration-string.json'));
    expect(e.durationSec).toBe(180);
  });

  it('ignores optional fields of another type instead of refusing the event', () => {
    const [e] = parse({
      callId: 'c',
      event: 'call.completed',
      metadata: 'contact_1',
      duration: { s: 1 },
      from: 5,
      direction: 'sideways',
      transcript: [],
    });
    expect(e).toMatchObject({ callId: 'c', type: 'call.completed', outcome: 'completed' });
    for (const k of ['metadata', 'durationSec', 'from', 'direction', 'transcript'] as const) expect(e[k]).toBeUndefined();
  });

  it('rejects a numeric callId', () => {
    expect(payloadError(() => parse({ callId: 42, event: 'call.completed' })).message).toBe(
      'Invalid field: callId (expected string, received number)',
    );
  });

  it('lists the allowed values for an unknown event', () => {
    const err = payloadError(() =>
      generic.parse(fixtureReq('generic/invalid-unknown-event.json'), fixtureJson('generic/invalid-unknown-event.json')),
    );
    expect(err.field).toBe('event');
    for (const v of ['call.initiated', 'call.ringing', 'call.answered', 'call.completed', 'call.failed', 'call.recording_ready']) {
      expect(err.message).toContain(v);
    }
    expect(err.message).toContain('"call.exploded"');
  });

  it('ignores an unparseable timestamp and a negative duration', () => {
    const [e] = parse({ callId: 'c', event: 'call.completed', timestamp: 'yesterday-ish', duration: -3 });
    expect(e.occurredAt).toBeUndefined();
    expect(e.durationSec).toBeUndefined();
  });

  it('looks statuses up as own properties: __proto__ is an unknown status, not Object.prototype', () => {
    for (const status of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      const [e] = parse({ callId: 'p1', provider: 'generic', event: 'call.completed', status });
      expect(e).toMatchObject({ type: 'call.completed', outcome: 'completed', endedReason: status });
      const [f] = parse({ callId: 'p1', event: 'call.failed', status });
      expect(f.outcome).toBe('failed');
    }
  });

  it.each([
    [{ callId: 'c'.repeat(1200), event: 'call.completed' }, 'callId', 'Invalid field: callId (at most 200 characters, received 1200)'],
    [{ callId: 'a\nb', event: 'call.completed' }, 'callId', 'Invalid field: callId (no control characters)'],
    [{ call_id: 'c'.repeat(201), event: 'call.completed' }, 'call_id', 'Invalid field: call_id (at most 200 characters, received 201)'],
    [
      { callId: 'c', event: 'call.failed', status: 'no-answer', metadata: { contactId: 'x'.repeat(3000) } },
      'metadata.contactId',
      'Invalid field: metadata.contactId (at most 200 characters, received 3000)',
    ],
    [
      { callId: 'c', event: 'call.completed', metadata: { contact_id: 'x\u0000y' } },
      'metadata.contact_id',
      'Invalid field: metadata.contact_id (no control characters)',
    ],
    [
      { callId: 'c', event: 'call.completed', metadata: { agentId: 'a'.repeat(500) } },
      'metadata.agentId',
      'Invalid field: metadata.agentId (at most 200 characters, received 500)',
    ],
    [
      { callId: 'c', event: 'call.completed', contactId: 'x'.repeat(300) },
      'contactId',
      'Invalid field: contactId (at most 200 characters, received 300)',
    ],
  ])('refuses an identifier a workflow id or search attribute cannot take: %#', (body, field, message) => {
    expect(payloadError(() => parse(body))).toMatchObject({ field, message });
  });

  it('accepts an identifier of exactly 200 characters', () => {
    expect(parse({ callId: 'c'.repeat(200), event: 'call.completed' })[0].callId).toHaveLength(200);
  });

  it('bounds what it carries: long event ids become a stable digest, labels are cut', () => {
    const status = 's'.repeat(5000);
    const [a] = parse({ callId: 'c', event: 'call.completed', status });
    const [b] = parse({ callId: 'c', event: 'call.completed', status });
    expect(a.eventId).toMatch(/^generic:sha256:[0-9a-f]{64}$/);
    expect(a.eventId).toBe(b.eventId);
    expect(a.endedReason!.length).toBeLessThanOrEqual(500);
    const [h] = parse({ callId: 'c', event: 'call.completed' }, { 'webhook-id': 'w'.repeat(3000) });
    expect(h.eventId.length).toBeLessThanOrEqual(200);
  });

  it('clamps a far-future timestamp to receipt plus five minutes', () => {
    const [e] = parse({ callId: 'c', event: 'call.completed', timestamp: '9999-01-01T00:00:00Z' });
    expect(e.occurredAt).toBe(new Date(NOW + 5 * 60_000).toISOString());
    const [near] = parse({ callId: 'c', event: 'call.completed', timestamp: new Date(NOW + 60_000).toISOString() });
    expect(near.occurredAt).toBe(new Date(NOW + 60_000).toISOString());
  });

  it('bounds free metadata: no __proto__, no $ or dotted keys, no unbounded nesting', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const body = JSON.parse(
      '{"callId":"c","event":"call.completed","metadata":{"__proto__":{"x":1},"$set":1,"a.b":2,"deep":' + JSON.stringify(deep) + '}}',
    );
    const [e] = parse(body);
    expect(Object.keys(e.metadata!)).toEqual(['_set', 'a_b', 'deep']);
    expect(JSON.stringify(e.metadata).length).toBeLessThan(200);
  });
});

describe('generic verify: X-Webhook-Signature', () => {
  const SECRET = 'gen_secret_9f8e7d';
  const sign = (bytes: Buffer | string, key = SECRET) => createHmac('sha256', key).update(bytes).digest('hex');
  const withSig = (bytes: Buffer | string, sig: string) => makeReq(bytes, { headers: { 'x-webhook-signature': sig } });
  const secret = { secret: SECRET };

  it('accepts an HMAC of the exact raw bytes', () => {
    const raw = fixtureBytes('generic/completed.json');
    expect(generic.verify(withSig(raw, sign(raw)), secret)).toEqual({ ok: true });
  });

  it('accepts non-ASCII bodies signed over their UTF-8 bytes', () => {
    const raw = fixtureBytes('generic/non-ascii.json');
    expect(generic.verify(withSig(raw, sign(raw)), secret).ok).toBe(true);
  });

  it('refuses a signature computed over re-serialized JSON when the bytes differ', () => {
    const raw = fixtureBytes('generic/non-ascii.json');
    const reserialized = JSON.stringify(JSON.parse(raw.toString('utf8')));
    expect(Buffer.from(reserialized).equals(raw)).toBe(false);
    expect(generic.verify(withSig(raw, sign(reserialized)), secret).ok).toBe(false);
  });

  it('refuses the original signature on unicode-escaped bytes of the same JSON value', () => {
    const raw = fixtureBytes('generic/non-ascii.json');
    const escaped = asciiJson(JSON.parse(raw.toString('utf8')));
    expect(JSON.parse(escaped)).toEqual(JSON.parse(raw.toString('utf8')));
    expect(generic.verify(withSig(escaped, sign(raw)), secret).ok).toBe(false);
    expect(generic.verify(withSig(escaped, sign(escaped)), secret).ok).toBe(true);
  });

  it('verifies reordered keys and changed whitespace when signed over those bytes', () => {
    const body = '{ "event" : "call.completed",\n\t"callId":"call_abc123" ,"duration":180 }';
    expect(generic.verify(withSig(body, sign(body)), secret).ok).toBe(true);
  });

  it('accepts upper-case hex and a sha256= prefix', () => {
    const raw = fixtureBytes('generic/completed.json');
    expect(generic.verify(withSig(raw, sign(raw).toUpperCase()), secret).ok).toBe(true);
    expect(generic.verify(withSig(raw, `sha256=${sign(raw)}`), secret).ok).toBe(true);
  });

  it('refuses a wrong secret', () => {
    const raw = fixtureBytes('generic/completed.json');
    expect(generic.verify(withSig(raw, sign(raw, 'other')), secret)).toEqual({
      ok: false,
      header: 'x-webhook-signature',
      message: 'Invalid signature in x-webhook-signature',
    });
  });

  it('names the header when it is missing', () => {
    const r = generic.verify(makeReq('{}'), secret);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.header).toBe('x-webhook-signature');
      expect(r.message).toContain('x-webhook-signature');
    }
  });

  it.each(['abcd', 'zz'.repeat(32), sign('x').slice(0, 63), `${sign('x')}00`, ''])(
    'refuses a malformed or length-mismatched signature %p without throwing',
    (sig) => {
      const raw = fixtureBytes('generic/completed.json');
      expect(() => generic.verify(withSig(raw, sig), secret)).not.toThrow();
      expect(generic.verify(withSig(raw, sig), secret).ok).toBe(false);
    },
  );
});

describe('generic verify: Standard Webhooks (standardwebhooks as oracle)', () => {
  const SECRET = `whsec_${Buffer.from('a very secret key of 32 bytes!!!').toString('base64')}`;
  const oracle = new Webhook(SECRET);
  const MSG_ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const req = (bytes: Buffer | string, ts: number, sig: string, id = MSG_ID) =>
    makeReq(bytes, { headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(ts / 1000)), 'webhook-signature': sig } });
  const secret = { secret: SECRET };

  it('accepts the reference signature over the raw bytes', () => {
    const raw = fixtureBytes('generic/non-ascii.json');
    expect(generic.verify(req(raw, NOW, oracle.sign(MSG_ID, new Date(NOW), raw)), secret)).toEqual({ ok: true });
  });

  it('accepts when one of several listed signatures matches, ignoring other versions', () => {
    const raw = fixtureBytes('generic/completed.json');
    const good = oracle.sign(MSG_ID, new Date(NOW), raw);
    const other = new Webhook(`whsec_${Buffer.from('another key entirely, 32 bytes..').toString('base64')}`).sign(
      MSG_ID,
      new Date(NOW),
      raw,
    );
    expect(generic.verify(req(raw, NOW, `${other} v2,${good.slice(3)} ${good}`), secret).ok).toBe(true);
    expect(generic.verify(req(raw, NOW, `${other} v2,${good.slice(3)}`), secret).ok).toBe(false);
  });

  it('refuses a signature over re-serialized JSON', () => {
    const raw = fixtureBytes('generic/non-ascii.json');
    const reserialized = JSON.stringify(JSON.parse(raw.toString('utf8')));
    expect(generic.verify(req(raw, NOW, oracle.sign(MSG_ID, new Date(NOW), reserialized)), secret).ok).toBe(false);
  });

  it('refuses a different webhook-id than the one signed', () => {
    const raw = fixtureBytes('generic/completed.json');
    expect(generic.verify(req(raw, NOW, oracle.sign(MSG_ID, new Date(NOW), raw), 'msg_other'), secret).ok).toBe(false);
  });

  it.each([
    ['too old', NOW - 5 * 60_000 - 1000],
    ['too new', NOW + 5 * 60_000 + 1000],
  ])('refuses a timestamp %s, naming webhook-timestamp', (_label, ts) => {
    const raw = fixtureBytes('generic/completed.json');
    const r = generic.verify(req(raw, ts, oracle.sign(MSG_ID, new Date(ts), raw)), secret);
    expect(r).toMatchObject({ ok: false, header: 'webhook-timestamp' });
  });

  it('accepts a timestamp inside the 5-minute tolerance', () => {
    const raw = fixtureBytes('generic/completed.json');
    const ts = NOW - 4 * 60_000;
    expect(generic.verify(req(raw, ts, oracle.sign(MSG_ID, new Date(ts), raw)), secret).ok).toBe(true);
  });

  it('refuses a wrong secret', () => {
    const raw = fixtureBytes('generic/completed.json');
    const other = new Webhook(`whsec_${Buffer.from('not the key you are looking for!').toString('base64')}`);
    expect(generic.verify(req(raw, NOW, other.sign(MSG_ID, new Date(NOW), raw)), secret).ok).toBe(false);
  });

  it('names a missing webhook-id', () => {
    const raw = fixtureBytes('generic/completed.json');
    const r = generic.verify(makeReq(raw, { headers: { 'webhook-timestamp': String(NOW / 1000), 'webhook-signature': 'v1,abc' } }), secret);
    expect(r).toMatchObject({ ok: false, header: 'webhook-id' });
  });

  it('refuses a truncated signature without throwing', () => {
    const raw = fixtureBytes('generic/completed.json');
    const sig = oracle.sign(MSG_ID, new Date(NOW), raw).slice(0, 20);
    expect(() => generic.verify(req(raw, NOW, sig), secret)).not.toThrow();
    expect(generic.verify(req(raw, NOW, sig), secret).ok).toBe(false);
  });
});

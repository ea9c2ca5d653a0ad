import { createHmac } from 'node:crypto';
import { PayloadError } from '../../../src/providers';
import { vapi, vapiOutcome } from '../../../src/providers/vapi';
import type { ProviderSecret } from '../../../src/providers/types';
import { asciiJson, fixtureBytes, fixtureJson, fixtureReq, makeReq, NOW, payloadError } from './helpers';

const parseFixture = (f: string) => vapi.parse(fixtureReq(f), fixtureJson(f));
const parse = (body: Record<string, unknown>) => vapi.parse(makeReq(JSON.stringify(body)), body);
const CALL_ID = '4b9f3c2e-8a71-4d2f-9e3b-6c5a1d7f0e21';
const report = fixtureJson('vapi/end-of-call-report.json') as { message: Record<string, unknown> };
const reportWith = (m: Record<string, unknown>) => parse({ message: { ...report.message, ...m } })[0];
const TIMELINE_KEYS = ['eventId', 'provider', 'providerEvent', 'callId', 'type', 'receivedAt', 'occurredAt'];

describe('vapi parse: end-of-call-report', () => {
  it('maps every canonical field of an outbound call', () => {
    const [e] = parseFixture('vapi/end-of-call-report.json');
    expect(e).toEqual({
      eventId: `vapi:${CALL_ID}:end-of-call-report:`,
      provider: 'vapi',
      providerEvent: 'end-of-call-report',
      callId: CALL_ID,
      type: 'call.completed',
      occurredAt: '2025-01-15T10:33:06.000Z',
      receivedAt: expect.any(String),
      outcome: 'completed',
      endedReason: 'customer-ended-call',
      from: '+14155551234',
      to: '+14155555678',
      direction: 'outbound',
      durationSec: 184,
      startedAt: '2025-01-15T10:30:01.250Z',
      endedAt: '2025-01-15T10:33:05.450Z',
      recordingUrl: 'https://storage.vapi.example/4b9f3c2e-mono.wav',
      transcript:
        'AI: Hi Dana, this is Evon Dental confirming your appointment on Friday.\nUser: Yes, Friday at three works.\nAI: Perfect, see you then!\n',
      agentId: 'agent_789ghi',
      contactId: 'contact_456def',
      metadata: { contactId: 'contact_456def', agentId: 'agent_789ghi' },
      analysis: {
        summary: 'Dana confirmed the Friday appointment.',
        successful: true,
        data: { structuredData: { appointmentConfirmed: true }, successEvaluation: 'true' },
      },
      // `cost` and `costBreakdown` are USD: kept in cents.
      cost: {
        amountCents: 18.32,
        currency: 'USD',
        source: 'vapi.cost',
        breakdown: { transport: 1, stt: 2, llm: 5, tts: 9, vapi: 1.32, total: 18.32 },
      },
    });
  });

  it('swaps from/to for an inbound call and falls back to the assistant id', () => {
    const [e] = parseFixture('vapi/end-of-call-report-inbound.json');
    expect(e).toMatchObject({
      from: '+14155559876',
      to: '+14155551234',
      direction: 'inbound',
      agentId: 'f0e1d2c3-b4a5-4968-8776-655443322110',
    });
    expect(e.contactId).toBeUndefined();
  });

  it('prefers durationSeconds over the timestamps when present', () => {
    expect(reportWith({ durationSeconds: 200.6 }).durationSec).toBe(201);
    expect(reportWith({}).durationSec).toBe(184);
  });

  it('reads transcript and recording from the top level when there is no artifact', () => {
    const e = reportWith({ artifact: undefined, transcript: 'AI: hi', recordingUrl: 'https://x.example/r.wav' });
    expect(e).toMatchObject({ transcript: 'AI: hi', recordingUrl: 'https://x.example/r.wav' });
  });

  it('reads the seed top-level shape (transcript and recording inside call)', () => {
    const [e] = parseFixture('vapi/seed-top-level.json');
    expect(e).toMatchObject({
      callId: 'vapi_call_123',
      type: 'call.completed',
      outcome: 'completed',
      durationSec: 180,
      transcript: 'AI: Hello!\nUser: Hi.',
      recordingUrl: 'https://example.com/recordings/vapi_call_123.wav',
      startedAt: '2025-01-15T10:30:00.000Z',
      endedAt: '2025-01-15T10:33:00.000Z',
    });
  });

  it('keeps non-ASCII transcripts intact', () => {
    expect(parseFixture('vapi/end-of-call-report-non-ascii.json')[0].transcript).toContain(
      'Señora Müller, ¿qué tal?\nUser: 日本語でお願いします。',
    );
  });

  it.each([
    // endedReason, call started?, outcome
    ['customer-did-not-answer', false, 'no-answer'],
    ['customer-busy', false, 'busy'],
    ['voicemail', true, 'voicemail'],
    ['manually-canceled', false, 'canceled'],
    ['twilio-failed-to-connect-call', false, 'failed'],
    ['pipeline-error-openai-llm-failed', true, 'failed'],
    ['call.in-progress.error-vapifault-openai-llm-failed', true, 'failed'],
    ['assistant-not-found', false, 'failed'],
    ['customer-ended-call', true, 'completed'],
    ['assistant-ended-call', true, 'completed'],
    ['assistant-said-end-call-phrase', true, 'completed'],
    ['exceeded-max-duration', true, 'completed'],
    ['silence-timed-out', true, 'completed'],
    ['assistant-forwarded-call', true, 'completed'],
    ['a-reason-from-2027', true, 'completed'],
    ['a-reason-from-2027', false, 'failed'],
  ])('endedReason %s (started: %s) → %s', (reason, started, outcome) => {
    expect(vapiOutcome(reason, started)).toBe(outcome);
    const e = reportWith({ endedReason: reason, startedAt: started ? '2025-01-15T10:30:01.250Z' : undefined });
    expect(e.outcome).toBe(outcome);
    expect(e.type).toBe(outcome === 'completed' || outcome === 'voicemail' ? 'call.completed' : 'call.failed');
    expect(e.endedReason).toBe(reason);
  });
});

describe('vapi parse: status-update', () => {
  it.each([
    ['status-update-queued.json', 'call.initiated', 'queued'],
    ['status-update-ringing.json', 'call.ringing', 'ringing'],
    ['status-update-in-progress.json', 'call.answered', 'in-progress'],
    ['status-update-forwarding.json', 'call.updated', 'forwarding'],
    ['status-update-ended.json', 'call.completed', 'ended'],
  ])('%s → %s', (file, type, status) => {
    const [e] = parseFixture(`vapi/${file}`);
    expect(e.type).toBe(type);
    expect(e.eventId).toBe(`vapi:${CALL_ID}:status-update:${status}`);
    expect(e.providerEvent).toBe(`status-update:${status}`);
  });

  it('carries who/when on lifecycle statuses', () => {
    const [e] = parseFixture('vapi/status-update-in-progress.json');
    expect(e).toMatchObject({
      occurredAt: '2025-01-15T10:30:01.250Z',
      startedAt: '2025-01-15T10:30:01.250Z',
      from: '+14155551234',
      to: '+14155555678',
      contactId: 'contact_456def',
    });
  });

  it('ends by endedReason', () => {
    const e = parse({ message: { type: 'status-update', status: 'ended', endedReason: 'customer-busy', call: { id: 'c9' } } })[0];
    expect(e).toMatchObject({ type: 'call.failed', outcome: 'busy', endedReason: 'customer-busy' });
  });

  it('forwarding carries no data fields', () => {
    const [e] = parseFixture('vapi/status-update-forwarding.json');
    expect(Object.keys(e).filter((k) => !TIMELINE_KEYS.includes(k))).toEqual([]);
  });
});

describe('vapi parse: every other message', () => {
  it.each(['transcript', 'speech-update', 'conversation-update', 'hang', 'tool-calls', 'unknown-type'])(
    '%s → timeline-only call.updated',
    (name) => {
      const [e] = parseFixture(`vapi/${name}.json`);
      expect(e.type).toBe('call.updated');
      expect(e.callId).toBe(CALL_ID);
      expect(Object.keys(e).filter((k) => !TIMELINE_KEYS.includes(k))).toEqual([]);
    },
  );

  it('never rejects an unknown type that has a call id', () => {
    expect(parse({ message: { type: 'x-brand-new', call: { id: 'c1' }, whatever: [1, 2, 3] } })[0].type).toBe('call.updated');
  });

  it('keeps separate partial transcripts apart but retries together', () => {
    const body = fixtureJson('vapi/transcript.json') as { message: Record<string, unknown> };
    const later = { message: { ...body.message, timestamp: (body.message.timestamp as number) + 900, transcript: 'Yes, Friday at three' } };
    expect(parse(body)[0].eventId).toBe(parse(body)[0].eventId);
    expect(parse(later)[0].eventId).not.toBe(parse(body)[0].eventId);
    const noTs = { message: { type: 'hang', call: { id: 'c1' } } };
    expect(parse(noTs)[0].eventId).toBe(parse(noTs)[0].eventId);
  });

  it('names a missing call id, nested or top-level', () => {
    expect(payloadError(() => parseFixture('vapi/invalid-missing-call-id.json'))).toMatchObject({
      field: 'message.call.id',
      message: 'Missing required field: message.call.id',
    });
    expect(payloadError(() => parse({ type: 'end-of-call-report', call: {} }))).toMatchObject({ field: 'call.id' });
    expect(payloadError(() => parse({ message: { type: 'hang', call: { id: { nested: true } } } })).message).toBe(
      'Invalid field: message.call.id (expected string, received object)',
    );
  });

  it('names a missing message type', () => {
    expect(payloadError(() => parse({ message: { call: { id: 'c1' } } }))).toMatchObject({
      field: 'message.type',
      message: 'Missing required field: message.type',
    });
  });
});

describe('vapi verify', () => {
  const SECRET = 'vapi_shared_secret_6b1f';
  const raw = fixtureBytes('vapi/end-of-call-report-non-ascii.json');

  describe('X-Vapi-Secret (default)', () => {
    const cfg: ProviderSecret = { secret: SECRET };
    it('accepts the exact secret', () => {
      expect(vapi.verify(makeReq(raw, { headers: { 'x-vapi-secret': SECRET } }), cfg)).toEqual({ ok: true });
    });
    it('refuses a wrong secret, same length or not, without throwing', () => {
      for (const bad of [SECRET.replace(/.$/, 'X'), 'short', `${SECRET}-longer`]) {
        expect(() => vapi.verify(makeReq(raw, { headers: { 'x-vapi-secret': bad } }), cfg)).not.toThrow();
        expect(vapi.verify(makeReq(raw, { headers: { 'x-vapi-secret': bad } }), cfg)).toMatchObject({ ok: false, header: 'x-vapi-secret' });
      }
    });
    it('names the header when it is missing', () => {
      const r = vapi.verify(makeReq(raw), cfg);
      expect(r).toMatchObject({ ok: false, header: 'x-vapi-secret' });
      if (!r.ok) expect(r.message).toContain('x-vapi-secret');
    });
  });

  describe('bearer', () => {
    it('accepts Authorization: Bearer <token>', () => {
      expect(vapi.verify(makeReq(raw, { headers: { authorization: `Bearer ${SECRET}` } }), { secret: SECRET, mode: 'bearer' }).ok).toBe(
        true,
      );
      expect(vapi.verify(makeReq(raw, { headers: { authorization: 'Bearer nope' } }), { secret: SECRET, mode: 'bearer' })).toMatchObject({
        ok: false,
        header: 'authorization',
      });
    });
    it('reads a configured header', () => {
      const cfg: ProviderSecret = { secret: SECRET, mode: 'bearer', header: 'X-Custom-Token' };
      expect(vapi.verify(makeReq(raw, { headers: { 'x-custom-token': SECRET } }), cfg).ok).toBe(true);
      expect(vapi.verify(makeReq(raw, { headers: { authorization: `Bearer ${SECRET}` } }), cfg)).toMatchObject({
        ok: false,
        header: 'x-custom-token',
      });
    });
  });

  describe('hmac', () => {
    // Independent oracle: the scheme as documented, computed here with node:crypto.
    const sig = (msg: Buffer | string, alg = 'sha256', enc: 'hex' | 'base64' = 'hex', key = SECRET) =>
      createHmac(alg, key).update(msg).digest(enc);
    const tsSec = String(Math.floor(NOW / 1000));
    const signed = (body: Buffer | string) => Buffer.concat([Buffer.from(`${tsSec}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
    const cfg: ProviderSecret = { secret: SECRET, mode: 'hmac' };

    it('accepts the default {timestamp}.{body} hex HMAC-SHA256', () => {
      const r = makeReq(raw, { headers: { 'x-signature': sig(signed(raw)), 'x-timestamp': tsSec } });
      expect(vapi.verify(r, cfg)).toEqual({ ok: true });
    });

    it('accepts a millisecond timestamp', () => {
      const ms = String(NOW);
      const msg = Buffer.concat([Buffer.from(`${ms}.`), raw]);
      expect(vapi.verify(makeReq(raw, { headers: { 'x-signature': sig(msg), 'x-timestamp': ms } }), cfg).ok).toBe(true);
    });

    it('refuses a signature over re-serialized JSON', () => {
      const re = JSON.stringify(JSON.parse(raw.toString('utf8')));
      const r = makeReq(raw, { headers: { 'x-signature': sig(signed(re)), 'x-timestamp': tsSec } });
      expect(vapi.verify(r, cfg).ok).toBe(false);
      const esc = asciiJson(JSON.parse(raw.toString('utf8')));
      expect(vapi.verify(makeReq(raw, { headers: { 'x-signature': sig(signed(esc)), 'x-timestamp': tsSec } }), cfg).ok).toBe(false);
    });

    it('honours base64 encoding, sha512, a prefix and custom headers', () => {
      const c: ProviderSecret = {
        secret: SECRET,
        mode: 'hmac',
        algorithm: 'sha512',
        encoding: 'base64',
        header: 'X-Vapi-Signature',
        timestampHeader: 'X-Vapi-Timestamp',
        signaturePrefix: 'sha512=',
      };
      const r = makeReq(raw, {
        headers: { 'x-vapi-signature': `sha512=${sig(signed(raw), 'sha512', 'base64')}`, 'x-vapi-timestamp': tsSec },
      });
      expect(vapi.verify(r, c)).toEqual({ ok: true });
      const hexInstead = makeReq(raw, {
        headers: { 'x-vapi-signature': `sha512=${sig(signed(raw), 'sha512', 'hex')}`, 'x-vapi-timestamp': tsSec },
      });
      expect(vapi.verify(hexInstead, c).ok).toBe(false);
    });

    it('supports a body-only payload format without a timestamp', () => {
      const c: ProviderSecret = { secret: SECRET, mode: 'hmac', payloadFormat: '{body}', header: 'x-vapi-signature' };
      expect(vapi.verify(makeReq(raw, { headers: { 'x-vapi-signature': sig(raw) } }), c).ok).toBe(true);
    });

    it('refuses a stale or future timestamp, naming the timestamp header', () => {
      for (const t of [NOW - 6 * 60_000, NOW + 6 * 60_000]) {
        const ts = String(Math.floor(t / 1000));
        const msg = Buffer.concat([Buffer.from(`${ts}.`), raw]);
        expect(vapi.verify(makeReq(raw, { headers: { 'x-signature': sig(msg), 'x-timestamp': ts } }), cfg)).toMatchObject({
          ok: false,
          header: 'x-timestamp',
        });
      }
    });

    it('names a missing signature or timestamp header', () => {
      expect(vapi.verify(makeReq(raw, { headers: { 'x-timestamp': tsSec } }), cfg)).toMatchObject({ ok: false, header: 'x-signature' });
      expect(vapi.verify(makeReq(raw, { headers: { 'x-signature': sig(signed(raw)) } }), cfg)).toMatchObject({
        ok: false,
        header: 'x-timestamp',
      });
    });

    it('refuses a wrong key and a truncated signature without throwing', () => {
      expect(
        vapi.verify(makeReq(raw, { headers: { 'x-signature': sig(signed(raw), 'sha256', 'hex', 'other'), 'x-timestamp': tsSec } }), cfg).ok,
      ).toBe(false);
      const short = makeReq(raw, { headers: { 'x-signature': sig(signed(raw)).slice(0, 10), 'x-timestamp': tsSec } });
      expect(() => vapi.verify(short, cfg)).not.toThrow();
      expect(vapi.verify(short, cfg).ok).toBe(false);
    });
  });
});

describe('vapi hostile values', () => {
  it('looks reasons and statuses up as own properties only', () => {
    for (const v of ['__proto__', 'constructor', 'toString']) {
      expect(['completed', 'failed']).toContain(vapiOutcome(v, false));
      const [e] = parse({ message: { type: 'status-update', status: v, call: { id: 'c' } } });
      expect(e.type).toBe('call.updated');
      const r = reportWith({ endedReason: v });
      expect(['call.completed', 'call.failed']).toContain(r.type);
    }
  });

  it('names an over-long call id and metadata contact id by their paths', () => {
    expect(() => parse({ message: { type: 'hang', call: { id: 'i'.repeat(201) } } })).toThrow(
      'Invalid field: message.call.id (at most 200 characters',
    );
    const err = (() => {
      try {
        parse({
          message: { type: 'end-of-call-report', call: { id: 'c', assistantOverrides: { metadata: { contactId: 'x'.repeat(3000) } } } },
        });
      } catch (e) {
        return e as PayloadError;
      }
    })();
    expect(err?.field).toBe('message.call.assistantOverrides.metadata.contactId');
  });

  it('names callId for the seed flat shape without an id', () => {
    expect(() => parse({ provider: 'vapi', event: 'call.completed' })).toThrow('Missing required field: callId');
  });
});

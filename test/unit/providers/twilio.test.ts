import twilioSdk from 'twilio';
import { initialState, reduce } from '../../../src/domain/reducer';
import type { CallEvent } from '../../../src/domain/events';
import { PayloadError, parseBody } from '../../../src/providers';
import { twilio } from '../../../src/providers/twilio';
import { fixtureBytes, fixtureReq, makeReq } from './helpers';

const FORM = 'application/x-www-form-urlencoded';
const SID = 'CA5f1e8c2b3a4d6e7f8091a2b3c4d5e6f7';
const parseFixture = (f: string) => {
  const r = fixtureReq(f);
  return twilio.parse(r, parseBody(r));
};
const parseForm = (s: string) => {
  const r = makeReq(s, { contentType: FORM });
  return twilio.parse(r, parseBody(r));
};
/** The form as a plain object, as Express/Koa body parsers hand it to twilio's validateRequest. */
const paramsOf = (raw: Buffer | string) => Object.fromEntries(new URLSearchParams(raw.toString()));

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('twilio parse', () => {
  it('maps a completed status callback to every canonical field', () => {
    const [e] = parseFixture('twilio/completed.txt');
    expect(e).toEqual({
      eventId: `twilio:${SID}:3`,
      provider: 'twilio',
      providerEvent: 'completed',
      callId: SID,
      type: 'call.completed',
      occurredAt: '2025-01-15T10:32:07.000Z',
      receivedAt: expect.any(String),
      sequence: 3,
      outcome: 'completed',
      from: '+14155551234',
      to: '+14155555678',
      direction: 'outbound',
      durationSec: 127,
      endedAt: '2025-01-15T10:32:07.000Z',
      recordingUrl:
        'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE11112222333344445555666677778888',
    });
  });

  it.each([
    ['initiated.txt', 'call.initiated', 0, undefined],
    ['ringing.txt', 'call.ringing', 1, undefined],
    ['in-progress.txt', 'call.answered', 2, undefined],
    ['busy.txt', 'call.failed', 1, 'busy'],
    ['no-answer.txt', 'call.failed', 1, 'no-answer'],
    ['failed.txt', 'call.failed', 1, 'failed'],
    ['canceled.txt', 'call.failed', 1, 'canceled'],
  ])('%s → %s (sequence %s, outcome %s)', (file, type, seq, outcome) => {
    const [e] = parseFixture(`twilio/${file}`);
    expect(e).toMatchObject({ type, sequence: seq });
    expect(e.outcome).toBe(outcome);
    if (outcome) expect(e.endedReason).toBe(outcome);
  });

  it('maps queued like initiated and an unknown status to a timeline update', () => {
    expect(parseForm(`CallSid=CA1&CallStatus=queued&SequenceNumber=0`)[0].type).toBe('call.initiated');
    expect(parseForm(`CallSid=CA1&CallStatus=teleported&SequenceNumber=9`)[0]).toMatchObject({
      type: 'call.updated',
      eventId: 'twilio:CA1:9',
    });
  });

  it('uses the status as the event id without a SequenceNumber', () => {
    expect(parseForm('CallSid=CA1&CallStatus=ringing')[0].eventId).toBe('twilio:CA1:ringing');
  });

  it('a machine-answered completed call is voicemail', () => {
    expect(parseFixture('twilio/completed-machine.txt')[0]).toMatchObject({
      type: 'call.completed',
      outcome: 'voicemail',
      endedReason: 'machine_end_beep',
      durationSec: 22,
    });
  });

  it('reads an inbound call with non-ASCII form values', () => {
    expect(parseFixture('twilio/inbound-non-ascii.txt')[0]).toMatchObject({
      direction: 'inbound',
      from: '+4989123456789',
      to: '+14155555678',
      durationSec: 64,
    });
  });

  it('a completed recording callback is call.recording_ready with the URL', () => {
    expect(parseFixture('twilio/recording-completed.txt')[0]).toMatchObject({
      type: 'call.recording_ready',
      callId: SID,
      eventId: `twilio:${SID}:recording:RE11112222333344445555666677778888:completed`,
      recordingUrl:
        'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE11112222333344445555666677778888',
    });
    expect(parseFixture('twilio/recording-in-progress.txt')[0].type).toBe('call.updated');
  });

  it('names a missing CallSid', () => {
    let err: unknown;
    try {
      parseForm('CallStatus=completed');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PayloadError);
    expect(err).toMatchObject({ field: 'CallSid', message: 'Missing required field: CallSid' });
  });

  it('ends as completed whatever order the callbacks arrive in', () => {
    const files = ['initiated.txt', 'ringing.txt', 'in-progress.txt', 'completed.txt', 'recording-completed.txt'];
    const events = files.map((f) => parseFixture(`twilio/${f}`)[0]);
    const orders = permutations(events);
    expect(orders).toHaveLength(120);
    for (const order of orders) {
      const s = order.reduce((st, e: CallEvent) => reduce(st, e).state, initialState('org', SID, 'twilio'));
      expect(s).toMatchObject({
        status: 'completed',
        outcome: 'completed',
        durationSec: 127,
        recordingReady: true,
        answeredAt: '2025-01-15T10:30:00.000Z',
      });
      // The recording callback carries no Timestamp, so it sorts by its (later) arrival.
      expect(s.timeline.map((t) => t.providerEvent)).toEqual(['initiated', 'ringing', 'in-progress', 'completed', 'recording:completed']);
    }
  });
});

describe('twilio verify (twilio SDK as oracle)', () => {
  const TOKEN = '12345678901234567890123456789012';
  const URL_ = 'https://api.example.com/api/calls/webhook/twilio?org=acme';
  const req = (raw: Buffer | string, sig: string, publicUrl = URL_) =>
    makeReq(raw, { contentType: FORM, publicUrl, headers: { 'x-twilio-signature': sig } });

  it.each(['completed.txt', 'inbound-non-ascii.txt', 'recording-completed.txt'])('accepts the SDK signature of %s', (file) => {
    const raw = fixtureBytes(`twilio/${file}`);
    const sig = twilioSdk.getExpectedTwilioSignature(TOKEN, URL_, paramsOf(raw));
    expect(twilioSdk.validateRequest(TOKEN, sig, URL_, paramsOf(raw))).toBe(true);
    expect(twilio.verify(req(raw, sig), { secret: TOKEN })).toEqual({ ok: true });
  });

  it('accepts a signature over the URL with the default port, as the SDK does', () => {
    const raw = fixtureBytes('twilio/completed.txt');
    const sig = twilioSdk.getExpectedTwilioSignature(TOKEN, 'https://api.example.com:443/api/calls/webhook/twilio?org=acme', paramsOf(raw));
    expect(twilioSdk.validateRequest(TOKEN, sig, URL_, paramsOf(raw))).toBe(true);
    expect(twilio.verify(req(raw, sig), { secret: TOKEN }).ok).toBe(true);
  });

  it('verifies repeated keys the way the SDK signs them', () => {
    const raw = 'CallSid=CA1&CallStatus=completed&Tag=b&Tag=a&Tag=b';
    const sig = twilioSdk.getExpectedTwilioSignature(TOKEN, URL_, { CallSid: 'CA1', CallStatus: 'completed', Tag: ['b', 'a', 'b'] });
    expect(twilio.verify(req(raw, sig), { secret: TOKEN }).ok).toBe(true);
    expect(parseBody(makeReq(raw, { contentType: FORM }))).toEqual({ CallSid: 'CA1', CallStatus: 'completed', Tag: ['b', 'a', 'b'] });
  });

  it('refuses a different URL than the one signed (scheme, path or query)', () => {
    const raw = fixtureBytes('twilio/completed.txt');
    const sig = twilioSdk.getExpectedTwilioSignature(TOKEN, URL_, paramsOf(raw));
    for (const other of [
      'http://api.example.com/api/calls/webhook/twilio?org=acme',
      'https://api.example.com/api/calls/webhook/twilio',
      'https://api.example.com/api/calls/webhook?org=acme',
    ]) {
      expect(twilioSdk.validateRequest(TOKEN, sig, other, paramsOf(raw))).toBe(false);
      expect(twilio.verify(req(raw, sig, other), { secret: TOKEN }).ok).toBe(false);
    }
  });

  it('refuses a tampered parameter', () => {
    const raw = fixtureBytes('twilio/completed.txt');
    const sig = twilioSdk.getExpectedTwilioSignature(TOKEN, URL_, paramsOf(raw));
    const tampered = raw.toString().replace('CallDuration=127', 'CallDuration=999');
    expect(tampered).not.toBe(raw.toString());
    expect(twilio.verify(req(tampered, sig), { secret: TOKEN }).ok).toBe(false);
  });

  it('refuses a wrong auth token', () => {
    const raw = fixtureBytes('twilio/completed.txt');
    const sig = twilioSdk.getExpectedTwilioSignature('another-token-entirely-000000000', URL_, paramsOf(raw));
    expect(twilio.verify(req(raw, sig), { secret: TOKEN }).ok).toBe(false);
  });

  it('names the header when it is missing, and never throws on a short signature', () => {
    const raw = fixtureBytes('twilio/completed.txt');
    expect(twilio.verify(makeReq(raw, { contentType: FORM, publicUrl: URL_ }), { secret: TOKEN })).toMatchObject({
      ok: false,
      header: 'x-twilio-signature',
    });
    expect(() => twilio.verify(req(raw, 'abc='), { secret: TOKEN })).not.toThrow();
    expect(twilio.verify(req(raw, 'abc='), { secret: TOKEN }).ok).toBe(false);
  });

  it('supports the bodySHA256 variant for JSON bodies', () => {
    const body = '{"CallSid":"CA1","CallStatus":"completed","note":"Señora Müller 日本語"}';
    const url = `https://api.example.com/api/calls/webhook/twilio?bodySHA256=${twilioSdk.getExpectedBodyHash(body)}`;
    const sig = twilioSdk.getExpectedTwilioSignature(TOKEN, url, {});
    expect(twilioSdk.validateRequestWithBody(TOKEN, sig, url, body)).toBe(true);
    const jsonReq = (b: string) => makeReq(b, { contentType: 'application/json', publicUrl: url, headers: { 'x-twilio-signature': sig } });
    expect(twilio.verify(jsonReq(body), { secret: TOKEN })).toEqual({ ok: true });
    expect(twilio.verify(jsonReq(body.replace('completed', 'failed')), { secret: TOKEN }).ok).toBe(false);
  });
});

describe('twilio hostile values', () => {
  it('looks CallStatus up as an own property only', () => {
    for (const status of ['__proto__', 'constructor', 'toString']) {
      const [e] = parseForm(`CallSid=CA1&CallStatus=${status}`);
      expect(e).toMatchObject({ type: 'call.updated', providerEvent: status });
      expect(e.outcome).toBeUndefined();
    }
  });

  it('names an over-long CallSid', () => {
    expect(() => parseForm(`CallSid=${'C'.repeat(300)}&CallStatus=completed`)).toThrow(
      'Invalid field: CallSid (at most 200 characters, received 300)',
    );
  });
});

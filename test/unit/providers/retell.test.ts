import { sign as retellSign } from 'retell-sdk';
import { symmetric } from 'retell-sdk/lib/webhook_auth';
import { initialState, reduce } from '../../../src/domain/reducer';
import { retell } from '../../../src/providers/retell';
import { asciiJson, fixtureBytes, fixtureJson, fixtureReq, makeReq, NOW, payloadError } from './helpers';

const parseFixture = (f: string) => retell.parse(fixtureReq(f), fixtureJson(f));
const parse = (body: Record<string, unknown>) => retell.parse(makeReq(JSON.stringify(body)), body);
const callEnded = fixtureJson('retell/call-ended.json') as { event: string; call: Record<string, unknown> };
const endedWith = (call: Record<string, unknown>) => parse({ event: 'call_ended', call: { ...callEnded.call, ...call } })[0];

describe('retell parse', () => {
  it('an empty or blank call_id is a 400 naming the field, and an empty agent_id is ignored (found by the fuzz test)', () => {
    expect(payloadError(() => endedWith({ call_id: '' })).message).toBe('Invalid field: call.call_id (must not be empty)');
    expect(payloadError(() => endedWith({ call_id: '   ' })).message).toBe('Invalid field: call.call_id (must not be empty)');
    expect(endedWith({ agent_id: '' }).callId).toBe(callEnded.call.call_id);
  });

  it('call_started → call.answered with who and when', () => {
    const [e] = parseFixture('retell/call-started.json');
    expect(e).toEqual({
      eventId: 'retell:Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6:call_started',
      provider: 'retell',
      providerEvent: 'call_started',
      callId: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6',
      type: 'call.answered',
      occurredAt: '2025-01-15T10:30:00.000Z',
      startedAt: '2025-01-15T10:30:00.000Z',
      receivedAt: expect.any(String),
      from: '+14155551234',
      to: '+14155555678',
      direction: 'outbound',
      agentId: 'agent_789ghi',
      contactId: 'contact_456def',
      metadata: { contactId: 'contact_456def', agentId: 'agent_789ghi' },
    });
  });

  it('call_ended → call.completed, ms epochs to ISO, duration_ms to seconds', () => {
    const [e] = parseFixture('retell/call-ended.json');
    expect(e).toMatchObject({
      type: 'call.completed',
      outcome: 'completed',
      endedReason: 'user_hangup',
      durationSec: 183,
      startedAt: '2025-01-15T10:30:00.000Z',
      endedAt: '2025-01-15T10:33:03.456Z',
      occurredAt: '2025-01-15T10:33:03.456Z',
      recordingUrl: 'https://recordings.retell.example/Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6/recording.wav',
    });
    expect(e.transcript).toContain('User: Yes, that works. Thank you!');
    expect(e.analysis).toBeUndefined();
  });

  it('derives the duration from the timestamps when duration_ms is absent', () => {
    expect(endedWith({ duration_ms: undefined, end_timestamp: Date.UTC(2025, 0, 15, 10, 31, 30) }).durationSec).toBe(90);
  });

  it('call_analyzed → call.updated carrying the analysis (in_voicemail kept in data)', () => {
    const [e] = parseFixture('retell/call-analyzed.json');
    expect(e.type).toBe('call.updated');
    expect(e.outcome).toBeUndefined();
    expect(e.analysis).toEqual({
      summary: 'Dana confirmed her Friday 3pm appointment.',
      sentiment: 'Positive',
      successful: true,
      data: { appointment_confirmed: true, reschedule_requested: false, in_voicemail: false },
    });
  });

  it('takes the agent from agent_id when metadata has none', () => {
    expect(endedWith({ metadata: { contactId: 'k1' } }).agentId).toBe('agent_3f2b9c1d7e6a5b4c');
  });

  it('keeps mid-call data out of fields: transcript_updated is timeline only', () => {
    const [e] = parseFixture('retell/transcript-updated.json');
    expect(e.type).toBe('call.updated');
    const dataKeys = Object.keys(e).filter((k) => !['eventId', 'provider', 'providerEvent', 'callId', 'type', 'receivedAt'].includes(k));
    expect(dataKeys).toEqual([]);
  });

  it('gives successive transcript updates distinct ids and a retry the same id', () => {
    const body = fixtureJson('retell/transcript-updated.json') as { event: string; call: { transcript_object: unknown[] } };
    const longer = {
      ...body,
      call: { ...body.call, transcript_object: [...body.call.transcript_object, { role: 'agent', content: 'More.' }] },
    };
    expect(parse(body)[0].eventId).toBe(parse(body)[0].eventId);
    expect(parse(longer)[0].eventId).not.toBe(parse(body)[0].eventId);
  });

  it('maps transfer events to timeline-only updates', () => {
    expect(parseFixture('retell/transfer-started.json')[0]).toMatchObject({ type: 'call.updated', providerEvent: 'transfer_started' });
  });

  it.each([
    // reason, call_status, type, outcome
    ['user_hangup', 'ended', 'call.completed', 'completed'],
    ['agent_hangup', 'ended', 'call.completed', 'completed'],
    ['call_transfer', 'ended', 'call.completed', 'completed'],
    ['inactivity', 'ended', 'call.completed', 'completed'],
    ['max_duration_reached', 'ended', 'call.completed', 'completed'],
    ['voicemail_reached', 'ended', 'call.completed', 'voicemail'],
    ['dial_no_answer', 'not_connected', 'call.failed', 'no-answer'],
    ['dial_busy', 'not_connected', 'call.failed', 'busy'],
    ['user_declined', 'not_connected', 'call.failed', 'busy'],
    ['dial_failed', 'not_connected', 'call.failed', 'failed'],
    ['invalid_destination', 'not_connected', 'call.failed', 'failed'],
    ['marked_as_spam', 'not_connected', 'call.failed', 'failed'],
    ['error_llm_websocket_open', 'ended', 'call.failed', 'failed'],
    ['error_some_future_failure', 'error', 'call.failed', 'failed'],
    ['brand_new_reason', 'ended', 'call.completed', 'completed'],
    ['brand_new_reason', 'not_connected', 'call.failed', 'failed'],
    ['user_hangup', 'not_connected', 'call.failed', 'failed'],
  ])('disconnection_reason %s (call_status %s) → %s / %s', (reason, callStatus, type, outcome) => {
    const e = endedWith({ disconnection_reason: reason, call_status: callStatus });
    expect(e.type).toBe(type);
    expect(e.outcome).toBe(outcome);
    expect(e.endedReason).toBe(reason);
  });

  it('a never-connected call (only call_ended + call_analyzed) fails as no-answer in either order', () => {
    const ended = parseFixture('retell/not-connected-ended.json');
    const analyzed = parseFixture('retell/not-connected-analyzed.json');
    for (const order of [
      [...ended, ...analyzed],
      [...analyzed, ...ended],
    ]) {
      const s = order.reduce((st, ev) => reduce(st, ev).state, initialState('o', order[0].callId, 'retell'));
      expect(s).toMatchObject({ status: 'failed', outcome: 'no-answer', endedReason: 'dial_no_answer', to: '+14155550000' });
      expect(s.analysis?.summary).toBe('The call was not answered.');
      expect(s.timeline.map((t) => t.type).sort()).toEqual(['call.failed', 'call.updated']);
    }
  });

  it('reads the seed flat shape: seconds epoch, spec event name, agent_id', () => {
    const [e] = parseFixture('retell/seed-flat.json');
    expect(e).toMatchObject({
      callId: 'retell_call_123',
      type: 'call.completed',
      outcome: 'completed',
      providerEvent: 'call.completed',
      endedAt: '2024-01-15T11:30:00.000Z',
      agentId: 'agent_retell_456',
      recordingUrl: 'https://example.com/recordings/retell_call_123.wav',
    });
  });

  it('normalizes seconds and milliseconds epochs to the same instant', () => {
    const body = fixtureJson('retell/seed-flat.json');
    expect(parse({ ...body, end_timestamp: 1705318200000 })[0].endedAt).toBe(parse(body)[0].endedAt);
  });

  it('reads the seed common structure labelled retell', () => {
    const [e] = parseFixture('retell/seed-common.json');
    expect(e).toMatchObject({
      provider: 'retell',
      callId: 'call_abc123',
      eventId: 'retell:call_abc123:call.completed:completed',
      durationSec: 180,
      contactId: 'contact_456def',
    });
  });

  it('keeps a ~3 MB non-ASCII transcript whole', () => {
    const raw = fixtureBytes('retell/call-ended-large.json');
    expect(raw.length).toBeGreaterThan(2_500_000);
    const [e] = parseFixture('retell/call-ended-large.json');
    expect(e.transcript!.length).toBeGreaterThan(250_000);
    expect(e.transcript).toContain('Señora Müller ¿qué tal?');
    expect(e.transcript).toContain('日本語');
  });

  it.each([
    [{ call: { agent_id: 'a' }, event: 'call_ended' }, 'call.call_id', 'Missing required field: call.call_id'],
    [{ call: { call_id: 'c' } }, 'event', 'Missing required field: event'],
    [{ event: 'call_ended' }, 'call_id', 'Missing required field: call_id'],
    // The seed's own example without an id: the seed's field name.
    [
      { provider: 'retell', event: 'call.completed', from: '+14155551234', status: 'completed' },
      'callId',
      'Missing required field: callId',
    ],
    [
      { event: 'call_ended', call: { call_id: 'c'.repeat(1200) } },
      'call.call_id',
      'Invalid field: call.call_id (at most 200 characters, received 1200)',
    ],
    [
      { event: 'call_ended', call: { call_id: 'c', metadata: { contactId: 'x'.repeat(3000) } } },
      'call.metadata.contactId',
      'Invalid field: call.metadata.contactId (at most 200 characters, received 3000)',
    ],
  ])('names the bad field in %j', (body, field, message) => {
    const err = payloadError(() => parse(body));
    expect(err.field).toBe(field);
    expect(err.message).toBe(message);
  });

  it('reads a numeric-string duration_ms, and ignores optional fields of another type', () => {
    const [e] = parse({
      event: 'call_ended',
      call: { call_id: 'c', duration_ms: '1000', call_analysis: 'odd', metadata: [1], transcript: 5 },
    });
    expect(e).toMatchObject({ callId: 'c', durationSec: 1 });
    expect(e.analysis).toBeUndefined();
    expect(e.transcript).toBeUndefined();
  });

  it('looks up disconnection reasons as own properties only', () => {
    for (const reason of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const [e] = parse({ event: 'call_ended', call: { call_id: 'c', disconnection_reason: reason } });
      expect(['completed', 'failed']).toContain(e.outcome);
    }
    const [spec] = parse({ event: '__proto__', call: { call_id: 'c' } });
    expect(spec.type).toBe('call.updated');
  });
});

describe('retell verify (retell-sdk as oracle)', () => {
  const KEY = 'key_4f0c8e2a9b1d7c3e5f6a';
  const withSig = (raw: Buffer | string, sig: string, now = NOW) => makeReq(raw, { headers: { 'x-retell-signature': sig }, now });
  const signAt = (raw: Buffer | string, ts = NOW, key = KEY) => symmetric.sign(raw.toString(), key, ts);

  it('accepts the SDK signature over the raw bytes (non-ASCII transcript)', async () => {
    const raw = fixtureBytes('retell/ended-non-ascii.json');
    const sig = await signAt(raw);
    expect(await symmetric.verify(raw.toString(), KEY, sig, { timestamp: NOW })).toBe(true);
    expect(retell.verify(withSig(raw, sig), { secret: KEY })).toEqual({ ok: true });
  });

  it("accepts the SDK's exported sign() at the current time", async () => {
    const raw = fixtureBytes('retell/call-ended.json');
    const sig = await retellSign(raw.toString(), KEY);
    expect(retell.verify(withSig(raw, sig, Date.now()), { secret: KEY }).ok).toBe(true);
  });

  it('accepts a ~3 MB body', async () => {
    const raw = fixtureBytes('retell/call-ended-large.json');
    expect(retell.verify(withSig(raw, await signAt(raw)), { secret: KEY }).ok).toBe(true);
  });

  it('refuses a signature over re-serialized or re-escaped JSON, as the SDK does', async () => {
    const raw = fixtureBytes('retell/ended-non-ascii.json');
    const value = JSON.parse(raw.toString('utf8'));
    for (const other of [JSON.stringify(value), asciiJson(value)]) {
      expect(Buffer.from(other).equals(raw)).toBe(false);
      const sigOverOther = await signAt(other);
      expect(await symmetric.verify(raw.toString(), KEY, sigOverOther, { timestamp: NOW })).toBe(false);
      expect(retell.verify(withSig(raw, sigOverOther), { secret: KEY }).ok).toBe(false);
      // And the bytes that were signed do verify.
      expect(retell.verify(withSig(other, sigOverOther), { secret: KEY }).ok).toBe(true);
    }
  });

  it('verifies reordered keys and whitespace when signed over those bytes', async () => {
    const body = '{"call":{"call_id":"c1" , "call_status":"ended"},\n  "event":"call_ended"}';
    expect(retell.verify(withSig(body, await signAt(body)), { secret: KEY }).ok).toBe(true);
  });

  it.each([
    ['expired', -(5 * 60_000 + 1)],
    ['future', 5 * 60_000 + 1],
    ['an hour old', -3_600_000],
  ])('refuses a %s timestamp, naming the header', async (_label, skew) => {
    const raw = fixtureBytes('retell/call-ended.json');
    const sig = await signAt(raw, NOW + skew);
    expect(await symmetric.verify(raw.toString(), KEY, sig, { timestamp: NOW })).toBe(false);
    const r = retell.verify(withSig(raw, sig), { secret: KEY });
    expect(r).toMatchObject({ ok: false, header: 'x-retell-signature' });
    if (!r.ok) expect(r.message).toContain('x-retell-signature');
  });

  it('accepts the edge of the window, as the SDK does', async () => {
    const raw = fixtureBytes('retell/call-ended.json');
    const sig = await signAt(raw, NOW - 5 * 60_000);
    expect(await symmetric.verify(raw.toString(), KEY, sig, { timestamp: NOW })).toBe(true);
    expect(retell.verify(withSig(raw, sig), { secret: KEY }).ok).toBe(true);
  });

  it('refuses a wrong key', async () => {
    const raw = fixtureBytes('retell/call-ended.json');
    expect(retell.verify(withSig(raw, await signAt(raw, NOW, 'key_other')), { secret: KEY }).ok).toBe(false);
  });

  it('refuses a timestamp swapped after signing', async () => {
    const raw = fixtureBytes('retell/call-ended.json');
    const sig = (await signAt(raw)).replace(`v=${NOW}`, `v=${NOW + 1}`);
    expect(retell.verify(withSig(raw, sig), { secret: KEY }).ok).toBe(false);
  });

  it('names the header when it is missing', () => {
    expect(retell.verify(makeReq('{}'), { secret: KEY })).toEqual({
      ok: false,
      header: 'x-retell-signature',
      message: 'Missing signature header: x-retell-signature',
    });
  });

  it.each([`v=${NOW},d=abcd`, `v=${NOW},d=${'0'.repeat(66)}`, 'v=abc,d=00', 'garbage', `d=${'0'.repeat(64)}`])(
    'refuses malformed or length-mismatched %p without throwing',
    (sig) => {
      expect(() => retell.verify(withSig('{}', sig), { secret: KEY })).not.toThrow();
      expect(retell.verify(withSig('{}', sig), { secret: KEY })).toMatchObject({ ok: false, header: 'x-retell-signature' });
    },
  );

  it('accepts the seed X-Webhook-Signature only when the native header is absent', async () => {
    const raw = fixtureBytes('retell/seed-flat.json');
    const { createHmac } = await import('node:crypto');
    const seedSig = createHmac('sha256', KEY).update(raw).digest('hex');
    expect(retell.verify(makeReq(raw, { headers: { 'x-webhook-signature': seedSig } }), { secret: KEY }).ok).toBe(true);
    expect(
      retell.verify(makeReq(raw, { headers: { 'x-webhook-signature': seedSig, 'x-retell-signature': `v=${NOW},d=${'0'.repeat(64)}` } }), {
        secret: KEY,
      }).ok,
    ).toBe(false);
  });
});

import { createHmac } from 'node:crypto';
import { effectsFor } from '../../../src/domain/effects';
import { initialState, reduce, type CallState } from '../../../src/domain/reducer';
import type { CallEvent } from '../../../src/domain/events';
import { detectProvider } from '../../../src/providers';
import { bland, blandDurationSec, blandOutcome } from '../../../src/providers/bland';
import { asciiJson, fixtureBytes, fixtureJson, fixtureReq, makeReq, payloadError } from './helpers';

const parseFixture = (f: string) => bland.parse(fixtureReq(f), fixtureJson(f));
const parse = (body: Record<string, unknown>) => bland.parse(makeReq(JSON.stringify(body)), body);
const CALL_ID = '9f1e2d3c-4b5a-4697-8a1b-2c3d4e5f6a7b';
const POLICY = { followUpOn: ['no-answer', 'busy'] as const };

/** Applies events in order, collecting the effects each transition demands. */
function run(events: CallEvent[]): { state: CallState; effects: string[] } {
  let state = initialState('org_1', CALL_ID, 'bland');
  const effects: string[] = [];
  for (const e of events) {
    const r = reduce(state, e);
    if (!r.duplicate) effects.push(...effectsFor(state, r.state, POLICY));
    state = r.state;
  }
  return { state, effects };
}

describe('bland parse', () => {
  it('maps the first post-call webhook to every canonical field', () => {
    const [e] = parseFixture('bland/post-call.json');
    expect(e).toEqual({
      eventId: `bland:${CALL_ID}:ended`,
      provider: 'bland',
      providerEvent: 'post_call',
      callId: CALL_ID,
      type: 'call.completed',
      occurredAt: '2025-01-15T10:32:59.000Z',
      receivedAt: expect.any(String),
      outcome: 'completed',
      endedReason: 'ASSISTANT',
      from: '+14155551234',
      to: '+14155555678',
      direction: 'outbound',
      durationSec: 179,
      startedAt: '2025-01-15T10:30:00.000Z',
      endedAt: '2025-01-15T10:32:59.000Z',
      recordingUrl: 'https://recordings.bland.example/9f1e2d3c.mp3',
      transcript:
        'assistant: Hello, this is Maya from Evon. Is this Dana? \nuser: Yes, speaking. \nassistant: Great, I am calling to confirm Friday at 3pm.',
      agentId: 'agent_789ghi',
      contactId: 'contact_456def',
      metadata: { contactId: 'contact_456def', agentId: 'agent_789ghi' },
      analysis: {
        summary: 'Dana confirmed her Friday 3pm appointment.',
        data: { appointment_confirmed: true, variables: { customer_name: 'Dana', now: 'Wednesday, January 15, 2025' } },
      },
      // `price` is USD: kept in cents.
      cost: { amountCents: 27, currency: 'USD', source: 'bland.price' },
    });
  });

  it('reads an inbound call with a spaced international number and non-ASCII transcript', () => {
    const [e] = parseFixture('bland/inbound-non-ascii.json');
    expect(e).toMatchObject({ direction: 'inbound', from: '+34612345678', to: '+14155551234' });
    expect(e.transcript).toBe('user: Buenos días, Señora Müller, ¿qué tal? \nassistant: 日本語も大丈夫です。Très bien — ¡gracias! 🙂');
  });

  it('joins the transcripts array when there is no concatenated transcript', () => {
    const body = { ...fixtureJson('bland/post-call.json'), concatenated_transcript: null };
    expect(parse(body)[0].transcript).toBe(
      'assistant: Hello, this is Maya from Evon. Is this Dana?\nuser: Yes, speaking.\nassistant: Great, I am calling to confirm Friday at 3pm.',
    );
  });

  it('accepts c_id when call_id is absent', () => {
    expect(parse({ c_id: 'c-1', status: 'completed', corrected_duration: '10' })[0].callId).toBe('c-1');
  });

  it('names a missing call_id', () => {
    expect(payloadError(() => parse({ status: 'completed', call_length: 1 }))).toMatchObject({
      field: 'call_id',
      message: 'Missing required field: call_id',
    });
  });

  it('ignores an optional field of another type instead of refusing the event', () => {
    const [e] = parse({ call_id: 'c', inbound: 'yes', status: 'completed', metadata: 'x' });
    expect(e).toMatchObject({ callId: 'c', type: 'call.completed' });
    expect(e.direction).toBeUndefined();
    expect(e.metadata).toBeUndefined();
  });

  it('names callId for the seed flat shape without an id', () => {
    expect(payloadError(() => parse({ provider: 'bland', event: 'call.completed', status: 'completed' }))).toMatchObject({
      field: 'callId',
      message: 'Missing required field: callId',
    });
  });
});

describe('bland duration rule', () => {
  const base = { started_at: '2025-01-15T10:30:00.000Z', end_at: '2025-01-15T10:32:30.000Z' };
  it.each([
    ['corrected_duration wins over everything', { ...base, corrected_duration: '179', call_length: 2.5 }, 179],
    ['corrected_duration may be a number', { corrected_duration: 61 }, 61],
    ['then end_at − started_at', { ...base, call_length: 2.6 }, 150],
    ['then call_length in minutes', { call_length: 2.5 }, 150],
    ['minutes with float noise round to whole seconds', { call_length: 2.9833333333333334 }, 179],
    ['call_length as a numeric string', { call_length: '1.5' }, 90],
    ['seed shape (event_type present): call_length is seconds', { event_type: 'call_ended', call_length: 180 }, 180],
    ['the same value without event_type is minutes', { call_length: 180 }, 10800],
    ['a seed body with times still prefers the times', { ...base, event_type: 'call_ended', call_length: 180 }, 150],
    ['nothing at all', {}, undefined],
  ])('%s', (_label, fields, expected) => {
    expect(blandDurationSec(fields)).toBe(expected);
    expect(parse({ call_id: 'c', ...fields })[0].durationSec).toBe(expected);
  });
});

describe('bland outcome', () => {
  it.each([
    [{ status: 'completed', completed: true, answered_by: 'human' }, 'completed'],
    [{ status: 'completed', completed: true, answered_by: 'voicemail' }, 'voicemail'],
    [{ status: 'completed', answered_by: 'machine_end_beep' }, 'voicemail'],
    [{ status: 'no-answer', completed: true }, 'no-answer'],
    [{ status: 'completed', answered_by: 'no-answer' }, 'no-answer'],
    [{ status: 'busy', completed: false }, 'busy'],
    [{ status: 'canceled' }, 'canceled'],
    [{ queue_status: 'cancelled' }, 'canceled'],
    [{ status: 'failed', error_message: 'Invalid phone number' }, 'failed'],
    [{ queue_status: 'error' }, 'failed'],
    [{ completed: false }, 'failed'],
    [{ error_message: 'Carrier rejected the call' }, 'failed'],
    [{ status: 'some-new-status', completed: true }, 'completed'],
  ])('%j → %s', (fields, outcome) => {
    expect(blandOutcome(fields)).toBe(outcome);
    const [e] = parse({ call_id: 'c', ...fields });
    expect(e.outcome).toBe(outcome);
    expect(e.type).toBe(outcome === 'completed' || outcome === 'voicemail' ? 'call.completed' : 'call.failed');
  });

  it('keeps the platform reason verbatim', () => {
    expect(parseFixture('bland/failed.json')[0].endedReason).toBe('Invalid phone number: +1415555');
    expect(parseFixture('bland/no-answer.json')[0].endedReason).toBe('no-answer');
    expect(parseFixture('bland/voicemail.json')[0].endedReason).toBe('voicemail');
  });
});

describe('bland corrected transcript (second webhook)', () => {
  it('takes the object form: the text joined from the segments, plus the segments', () => {
    const [e] = parseFixture('bland/corrected-segments.json');
    expect(e).toMatchObject({
      eventId: `bland:${CALL_ID}:corrected`,
      type: 'call.updated',
      transcript: 'assistant: Hello, this is Maya from Evon. Is this Dana?\nuser: Yes, speaking.',
    });
    expect(e.transcriptSegments).toEqual([
      { speaker: 'assistant', text: 'Hello, this is Maya from Evon. Is this Dana?', confidence: 0.97, startSec: 0.4, endSec: 3.1 },
      { speaker: 'user', text: 'Yes, speaking.', confidence: 0.92, startSec: 3.6, endSec: 4.5 },
    ]);
  });

  it('keeps the segments bounded while the text stays whole', () => {
    const segments = Array.from({ length: 3000 }, (_, i) => ({ speaker: 'user', text: `line ${i} ${'w'.repeat(100)}` }));
    const [e] = parse({ call_id: 'c', corrected_transcript: { segments } });
    expect(e.transcript!.split('\n')).toHaveLength(3000);
    expect(e.transcriptSegments!.length).toBeLessThanOrEqual(2000);
    expect(e.transcriptSegments!.reduce((n, x) => n + x.text.length, 0)).toBeLessThanOrEqual(150_000);
  });

  it('an unexpected corrected_transcript shape is ignored, never a 400', () => {
    for (const corrected_transcript of [42, { segments: 'x' }, { other: 1 }, [{ nope: true }]]) {
      const events = parse({ call_id: 'c', status: 'completed', corrected_transcript });
      expect(events.map((x) => x.type)).toEqual(['call.completed']);
    }
  });

  const corrected =
    'assistant: Hello, this is Maya from Evon. Is this Dana?\nuser: Yes, speaking.\nassistant: Great, I am calling to confirm Friday at 3 p.m.';

  it('a correction-only body is one call.updated with the corrected transcript', () => {
    const events = parseFixture('bland/corrected-only.json');
    expect(events).toEqual([
      {
        eventId: `bland:${CALL_ID}:corrected`,
        provider: 'bland',
        providerEvent: 'corrected_transcript',
        callId: CALL_ID,
        type: 'call.updated',
        receivedAt: expect.any(String),
        transcript: 'assistant: Hello, this is Maya from Evon. Is this Dana?\nuser: Yes, speaking.',
      },
    ]);
  });

  it('a full second body repeats the end event under the same id, then the correction', () => {
    const [first] = parseFixture('bland/post-call.json');
    const second = parseFixture('bland/corrected.json');
    expect(second.map((e) => e.eventId)).toEqual([first.eventId, `bland:${CALL_ID}:corrected`]);
    expect(second[1]).toMatchObject({ type: 'call.updated', transcript: corrected });
  });

  it.each([
    ['first, then correction', ['bland/post-call.json', 'bland/corrected.json']],
    ['correction first (out of order)', ['bland/corrected.json', 'bland/post-call.json']],
    ['first, then correction-only body', ['bland/post-call.json', 'bland/corrected-only.json']],
  ])('%s: merges the corrected transcript and runs the end effects exactly once', (_label, files) => {
    const { state, effects } = run(files.flatMap((f) => parseFixture(f)));
    expect(state.status).toBe('completed');
    expect(state.outcome).toBe('completed');
    expect(state.durationSec).toBe(179);
    expect(state.transcript).toBe(
      files.includes('bland/corrected.json') ? corrected : 'assistant: Hello, this is Maya from Evon. Is this Dana?\nuser: Yes, speaking.',
    );
    expect(effects.filter((e) => e === 'sendThankYou')).toHaveLength(1);
    expect(effects.filter((e) => e === 'countContact')).toHaveLength(1);
  });

  it('a duplicate delivery of the first webhook is the same event', () => {
    const { effects, state } = run([...parseFixture('bland/post-call.json'), ...parseFixture('bland/post-call.json')]);
    expect(state.eventCount).toBe(1);
    expect(effects.filter((e) => e === 'sendThankYou')).toHaveLength(1);
  });
});

describe('bland verify and detection', () => {
  const SECRET = 'bland_signing_secret_31c9';
  const sign = (b: Buffer | string, key = SECRET) => createHmac('sha256', key).update(b).digest('hex');
  const raw = fixtureBytes('bland/inbound-non-ascii.json');
  const withSig = (b: Buffer | string, sig: string) => makeReq(b, { headers: { 'x-webhook-signature': sig } });

  it('accepts hex HMAC-SHA256 of the raw body', () => {
    expect(bland.verify(withSig(raw, sign(raw)), { secret: SECRET })).toEqual({ ok: true });
  });

  it('refuses a signature over re-serialized or re-escaped JSON', () => {
    const value = JSON.parse(raw.toString('utf8'));
    for (const other of [JSON.stringify(value), asciiJson(value)]) {
      expect(Buffer.from(other).equals(raw)).toBe(false);
      expect(bland.verify(withSig(raw, sign(other)), { secret: SECRET }).ok).toBe(false);
    }
  });

  it('refuses a wrong secret and names a missing header', () => {
    expect(bland.verify(withSig(raw, sign(raw, 'the-api-key-not-the-secret')), { secret: SECRET }).ok).toBe(false);
    expect(bland.verify(makeReq(raw), { secret: SECRET })).toMatchObject({ ok: false, header: 'x-webhook-signature' });
  });

  it('refuses a length-mismatched signature without throwing', () => {
    expect(() => bland.verify(withSig(raw, 'deadbeef'), { secret: SECRET })).not.toThrow();
    expect(bland.verify(withSig(raw, 'deadbeef'), { secret: SECRET }).ok).toBe(false);
  });

  it('tells Bland from generic by body shape, though both send X-Webhook-Signature', () => {
    const b = fixtureReq('bland/post-call.json', { headers: { 'x-webhook-signature': 'ab' } });
    const g = fixtureReq('generic/completed-no-answer.json', { headers: { 'x-webhook-signature': 'ab' } });
    expect(detectProvider(b, fixtureJson('bland/post-call.json'))).toBe('bland');
    expect(detectProvider(g, fixtureJson('generic/completed-no-answer.json'))).toBe('generic');
  });
});

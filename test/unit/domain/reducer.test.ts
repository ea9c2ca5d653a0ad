import { CALL_EVENT_TYPES, type CallEvent, type CallEventType } from '../../../src/domain/events';
import { type CallState, initialState, pickState, reduce, isTerminal } from '../../../src/domain/reducer';
import { effectsFor } from '../../../src/domain/effects';

const TYPES: CallEventType[] = [...CALL_EVENT_TYPES, 'call.updated'];

// Times follow the real order of a call, so "late" arrivals are late by arrival only.
const MINUTE: Record<CallEventType, number> = {
  'call.initiated': 0,
  'call.ringing': 1,
  'call.answered': 2,
  'call.completed': 5,
  'call.failed': 5,
  'call.updated': 6,
  'call.recording_ready': 7,
};

function ev(type: CallEventType, extra: Partial<CallEvent> = {}): CallEvent {
  const at = new Date(Date.UTC(2025, 0, 15, 10, 30 + MINUTE[type])).toISOString();
  const base: CallEvent = {
    eventId: `generic:c1:${type}`,
    provider: 'generic',
    providerEvent: type,
    callId: 'c1',
    type,
    occurredAt: at,
    receivedAt: at,
  };
  const data: Partial<CallEvent> = {
    'call.initiated': { from: '+14155551234', to: '+14155555678', contactId: 'contact_1' },
    'call.ringing': {},
    'call.answered': {},
    'call.completed': { outcome: 'completed' as const, durationSec: 180, transcript: 'final transcript', endedAt: at },
    'call.failed': { outcome: 'no-answer' as const, endedReason: 'dial_no_answer' },
    'call.recording_ready': { recordingUrl: 'https://rec.example/c1.mp3' },
    'call.updated': { analysis: { summary: 'went well' }, transcript: 'corrected transcript' },
  }[type];
  return { ...base, ...data, ...extra };
}

const apply = (events: CallEvent[], s: CallState = initialState('org_1', 'c1', 'generic')) =>
  events.reduce((acc, e) => reduce(acc, e).state, s);

const STATUS_RANK = { pending: 0, initiated: 1, ringing: 2, answered: 3, failed: 4, completed: 5 } as const;

describe('reduce', () => {
  describe('every pair of events, in both orders', () => {
    for (const a of TYPES) {
      for (const b of TYPES) {
        if (a === b) continue;
        test(`${a} + ${b}`, () => {
          const ab = apply([ev(a), ev(b)]);
          const ba = apply([ev(b), ev(a)]);
          expect(ba).toEqual(ab);
          // The status is the furthest one either event reaches, never a step back.
          const reached = [a, b].map((t) => apply([ev(t)]).status);
          const furthest = reached.sort((x, y) => STATUS_RANK[y] - STATUS_RANK[x])[0];
          expect(ab.status).toBe(furthest);
          expect(ab.eventCount).toBe(2);
          expect(ab.recordingReady).toBe(a === 'call.recording_ready' || b === 'call.recording_ready');
        });
      }
    }
  });

  test.each(TYPES)('a duplicate %s changes nothing', (t) => {
    const once = apply([ev(t)]);
    const r = reduce(once, ev(t));
    expect(r.duplicate).toBe(true);
    expect(r.state).toBe(once);
    // Even a re-delivery with the same id but a different receive time is the same event.
    expect(reduce(once, ev(t, { receivedAt: '2030-01-01T00:00:00.000Z' })).duplicate).toBe(true);
  });

  test('every arrival order of a whole call ends in the same state', () => {
    const events = ['call.initiated', 'call.ringing', 'call.answered', 'call.completed', 'call.updated', 'call.recording_ready'].map((t) =>
      ev(t as CallEventType),
    );
    const expected = apply(events);
    expect(expected.status).toBe('completed');
    expect(expected.outcome).toBe('completed');
    expect(expected.durationSec).toBe(180);
    expect(expected.transcript).toBe('corrected transcript'); // the post-call enrichment wins
    expect(expected.recordingUrl).toBe('https://rec.example/c1.mp3');
    expect(expected.timeline.map((t) => t.type)).toEqual(events.map((e) => e.type));
    let count = 0;
    for (const order of permutations(events)) {
      expect(apply(order)).toEqual(expected);
      count++;
    }
    expect(count).toBe(720);
  });

  test('a late ringing after completed changes nothing but the timeline', () => {
    const done = apply([ev('call.initiated'), ev('call.answered'), ev('call.completed')]);
    const late = reduce(done, ev('call.ringing')).state;
    expect(late.status).toBe('completed');
    expect(late.outcome).toBe('completed');
    expect(late.durationSec).toBe(180);
    expect(late.timeline).toHaveLength(4);
  });

  test('recording_ready may come first', () => {
    const s = apply([ev('call.recording_ready'), ev('call.initiated')]);
    expect(s.status).toBe('initiated');
    expect(s.recordingReady).toBe(true);
    expect(s.recordingUrl).toBe('https://rec.example/c1.mp3');
  });

  test('a no-answer call fails with its outcome and the verbatim reason', () => {
    const s = apply([ev('call.initiated'), ev('call.ringing'), ev('call.failed')]);
    expect(s.status).toBe('failed');
    expect(s.outcome).toBe('no-answer');
    expect(s.endedReason).toBe('dial_no_answer');
    expect(isTerminal(s.status)).toBe(true);
  });

  test('terminal events default their outcome from their type', () => {
    expect(apply([ev('call.completed', { outcome: undefined })]).outcome).toBe('completed');
    expect(apply([ev('call.failed', { outcome: undefined, endedReason: undefined })]).outcome).toBe('failed');
  });

  test('empty values never erase what an earlier event set', () => {
    const s = apply([ev('call.initiated'), ev('call.completed', { from: '', metadata: {} })]);
    expect(s.from).toBe('+14155551234');
  });

  test('it does not mutate its input', () => {
    const s0 = apply([ev('call.initiated')]);
    const frozen = JSON.stringify(s0);
    reduce(s0, ev('call.completed'));
    expect(JSON.stringify(s0)).toBe(frozen);
  });

  test('the timeline of a very chatty call is capped but keeps start and end', () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      ev('call.updated', {
        eventId: `u${i}`,
        occurredAt: new Date(Date.UTC(2025, 0, 15, 10, 31, 0, i)).toISOString(),
        analysis: undefined,
        transcript: undefined,
      }),
    );
    const s = apply([ev('call.initiated'), ...many, ev('call.recording_ready')]);
    expect(s.timeline).toHaveLength(200);
    expect(s.timeline[0].type).toBe('call.initiated');
    expect(s.timeline[199].type).toBe('call.recording_ready');
    expect(s.eventCount).toBe(502);
  });
});

describe('effectsFor', () => {
  const policy = { followUpOn: ['no-answer', 'busy'] as const };
  const s0 = initialState('org_1', 'c1', 'generic');

  test('a completed call counts on the contact, records metrics and thanks the contact', () => {
    const next = apply([ev('call.completed')]);
    expect(effectsFor(s0, next, policy).sort()).toEqual(['countContact', 'recordMetrics', 'sendThankYou']);
  });
  test('voicemail counts the call but sends no thank-you', () => {
    const next = apply([ev('call.completed', { outcome: 'voicemail' })]);
    expect(effectsFor(s0, next, policy).sort()).toEqual(['countContact', 'recordMetrics']);
  });
  test('no-answer schedules a follow-up; busy only when configured', () => {
    const noAnswer = apply([ev('call.failed')]);
    expect(effectsFor(s0, noAnswer, policy)).toEqual(['recordMetrics', 'scheduleFollowUp']);
    const busy = apply([ev('call.failed', { outcome: 'busy' })]);
    expect(effectsFor(s0, busy, { followUpOn: ['no-answer'] })).toEqual(['recordMetrics']);
  });
  test('nothing before the end, and nothing again for the same end', () => {
    const answered = apply([ev('call.answered')]);
    expect(effectsFor(s0, answered, policy)).toEqual([]);
    const done = apply([ev('call.completed')]);
    const enriched = reduce(done, ev('call.recording_ready')).state;
    expect(effectsFor(done, enriched, policy)).toEqual([]);
  });
});

function* permutations<T>(xs: T[]): Generator<T[]> {
  if (xs.length <= 1) {
    yield xs;
    return;
  }
  for (let i = 0; i < xs.length; i++) {
    const rest = [...xs.slice(0, i), ...xs.slice(i + 1)];
    for (const p of permutations(rest)) yield [xs[i], ...p];
  }
}

test('pickState keeps the reducer state and nothing a record adds around it', () => {
  const state = apply([ev('call.initiated'), ev('call.completed')]);
  const record = {
    ...state,
    _id: 'org_1:c1',
    createdAt: new Date(),
    workflowId: 'call:org_1:c1',
    email: { status: 'sent' },
    followUp: { status: 'scheduled' },
  };
  expect(pickState(record)).toEqual(state);
  // Applying the same events to the picked state is a no-op, as for the original.
  expect(reduce(pickState(record), ev('call.completed')).duplicate).toBe(true);
});

describe('reduce: hostile and foreign events', () => {
  const base = (over: Partial<CallEvent>): CallEvent => ({
    eventId: `e:${Math.random()}`,
    provider: 'twilio',
    providerEvent: 'x',
    callId: 'c1',
    type: 'call.completed',
    receivedAt: '2025-01-15T10:35:00.000Z',
    ...over,
  });

  it('a call keeps the platform that first reported it: another platform is recorded as ignored', () => {
    const twilioCall = apply(
      [base({ eventId: 't1', outcome: 'no-answer', type: 'call.failed', contactId: 'k1' })],
      initialState('o', 'c1', 'twilio'),
    );
    const { state, duplicate } = reduce(twilioCall, base({ eventId: 'g1', provider: 'generic', outcome: 'completed', contactId: 'evil' }));
    expect(duplicate).toBe(false);
    expect(state).toMatchObject({ provider: 'twilio', status: 'failed', outcome: 'no-answer', contactId: 'k1', eventCount: 1 });
    expect(state.timeline.find((t) => t.eventId === 'g1')?.ignored).toBe('reported by generic, but this call is a twilio call');
    expect(reduce(state, base({ eventId: 'g1', provider: 'generic' })).duplicate).toBe(true);
  });

  it('drops values a search attribute would refuse and clamps far-future times', () => {
    const s0 = initialState('o', 'c1', 'twilio');
    const { state } = reduce(
      s0,
      base({
        outcome: {} as never,
        contactId: 'x'.repeat(3000),
        agentId: 'a\u0000b',
        occurredAt: '9999-01-01T00:00:00.000Z',
      }),
    );
    expect(state.outcome).toBe('completed');
    expect(state.contactId).toBeUndefined();
    expect(state.agentId).toBeUndefined();
    expect(state.timeline[0].occurredAt).toBe('2025-01-15T10:40:00.000Z');
    const odd = reduce(s0, base({ type: 'constructor' as never })).state;
    expect(odd.status).toBe('pending');
  });

  it('a later real event beats one stamped in the far future', () => {
    const far = base({
      eventId: 'far',
      type: 'call.completed',
      outcome: 'completed',
      durationSec: 1,
      occurredAt: '9999-01-01T00:00:00.000Z',
      receivedAt: '2025-01-15T10:00:00.000Z',
    });
    const later = base({
      eventId: 'later',
      type: 'call.completed',
      outcome: 'completed',
      durationSec: 99,
      occurredAt: '2025-01-15T11:00:00.000Z',
      receivedAt: '2025-01-15T11:00:00.000Z',
    });
    expect(apply([far, later], initialState('o', 'c1', 'twilio')).durationSec).toBe(99);
    expect(apply([later, far], initialState('o', 'c1', 'twilio')).durationSec).toBe(99);
  });
});

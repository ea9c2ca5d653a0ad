// Claim checks: what Temporal carries of an event with heavy fields, and how the reducer records
// which event-log document holds each field whole.
import { FIELD_BUDGET_BYTES, RECORD, claimCheck, slimState } from '../../../src/domain/claimCheck';
import type { CallEvent } from '../../../src/domain/events';
import { initialState, reduce } from '../../../src/domain/reducer';

const base = (over: Partial<CallEvent> = {}): CallEvent => ({
  eventId: 'generic:c1:call.completed',
  provider: 'generic',
  providerEvent: 'call.completed',
  callId: 'c1',
  type: 'call.completed',
  receivedAt: '2025-01-15T10:30:00.000Z',
  ...over,
});

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

test('an event with nothing heavy travels unchanged', () => {
  const e = base({ transcript: 'hello', metadata: { agentName: 'Ada' }, analysis: { summary: 'ok', data: { opt_out: false } } });
  expect(claimCheck(e, 'org:id')).toBe(e);
});

test('heavy fields become slim with a claim; decisions keep their small values; the result is small whatever the size', () => {
  const e = base({
    transcript: '\u0001'.repeat(1_500_000),
    transcriptSegments: Array.from({ length: 5_000 }, (_, i) => ({ text: `utterance ${i}`, startSec: i })),
    metadata: { agentName: 'Ada', notes: 'x'.repeat(20_000), deep: { a: { b: { c: 'd'.repeat(10_000) } } } },
    analysis: { summary: 's'.repeat(50_000), sentiment: 'positive', successful: true, data: { opt_out: 'yes', blob: 'y'.repeat(30_000) } },
  });
  const slim = claimCheck(e, 'org:generic:c1:call.completed');
  expect(slim.claim).toEqual({
    logId: 'org:generic:c1:call.completed',
    fields: ['transcript', 'transcriptSegments', 'metadata', 'analysis'],
  });
  expect(slim.transcript).toBeUndefined();
  expect(slim.transcriptSegments).toBeUndefined();
  expect(slim.metadata).toEqual({ agentName: 'Ada' });
  expect(slim.analysis).toMatchObject({ sentiment: 'positive', successful: true, data: { opt_out: 'yes' } });
  expect(slim.analysis!.summary).toHaveLength(1_000);
  expect(bytes(slim)).toBeLessThan(8 * 1024);
  // Claim-checking twice changes nothing.
  expect(claimCheck(slim, 'other')).toBe(slim);
});

test('a field just over the budget is claimed, one at it is not', () => {
  const at = 'a'.repeat(FIELD_BUDGET_BYTES - 2); // JSON adds the quotes
  expect(claimCheck(base({ transcript: at }), 'x').claim).toBeUndefined();
  expect(claimCheck(base({ transcript: `${at}b` }), 'x').claim).toEqual({ logId: 'x', fields: ['transcript'] });
});

test('the reducer records the claim of the event that owns a field, and drops it when a whole value wins', () => {
  const big = claimCheck(base({ transcript: 't'.repeat(10_000) }), 'log:completed');
  let s = reduce(initialState('org', 'c1', 'generic'), big).state;
  expect(s.transcript).toBeUndefined();
  expect(s.claims).toEqual({ transcript: 'log:completed' });
  expect(s.status).toBe('completed');
  // A later-ranked event with a small transcript (a correction) owns the field now, whole.
  s = reduce(s, base({ eventId: 'e2', type: 'call.updated', providerEvent: 'call.updated', transcript: 'corrected' })).state;
  expect(s.transcript).toBe('corrected');
  expect(s.claims).toBeUndefined();
  // A lower-ranked event's claim does not take the field back.
  s = reduce(s, claimCheck(base({ eventId: 'e3', type: 'call.answered', transcript: 'u'.repeat(10_000) }), 'log:answered')).state;
  expect(s.transcript).toBe('corrected');
  expect(s.claims).toBeUndefined();
});

test('a state read back from the record is slimmed and claimed by the record, its own claims kept', () => {
  const s = {
    ...initialState('org', 'c1', 'generic'),
    transcript: 'x'.repeat(100_000),
    metadata: { a: 1 },
    claims: { transcript: 'log:1' },
  };
  const slim = slimState(s);
  expect(slim.transcript).toBeUndefined();
  expect(slim.metadata).toEqual({ a: 1 });
  expect(slim.claims).toEqual({ transcript: 'log:1' });
  const old = slimState({ ...initialState('org', 'c1', 'generic'), transcript: 'x'.repeat(100_000) });
  expect(old.claims).toEqual({ transcript: RECORD });
});

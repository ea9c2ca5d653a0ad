import { countCall, noFigures, pickFigures } from '../../../src/domain/contactFigures';

const at = (m: number) => new Date(Date.UTC(2025, 0, 15, 10, m)).toISOString();

test('each counted call adds one and the latest call by date is the last call', () => {
  let f = noFigures();
  f = countCall(f, { callId: 'b', date: at(20), durationSec: 30 });
  f = countCall(f, { callId: 'a', date: at(10), durationSec: 99 });
  expect(f).toEqual({ callCount: 2, lastCallId: 'b', lastCallDate: at(20), lastCallDuration: 30 });
});

test('the result does not depend on the order of reports', () => {
  const calls = [
    { callId: 'x', date: at(5), durationSec: 1 },
    { callId: 'y', date: at(5), durationSec: 2 },
    { callId: 'z', date: at(1) },
  ];
  const orders = [
    [0, 1, 2],
    [2, 1, 0],
    [1, 0, 2],
    [1, 2, 0],
    [0, 2, 1],
    [2, 0, 1],
  ];
  const results = orders.map((o) => o.reduce((f, i) => countCall(f, calls[i]), noFigures()));
  for (const r of results) expect(r).toEqual(results[0]);
  expect(results[0]).toEqual({ callCount: 3, lastCallId: 'y', lastCallDate: at(5), lastCallDuration: 2 });
});

test('dates in other ISO spellings compare by time, and an unreadable date never wins', () => {
  let f = countCall(noFigures(), { callId: 'a', date: '2025-01-15T10:00:00Z' });
  f = countCall(f, { callId: 'b', date: '2025-01-15T09:59:59.999Z' });
  expect(f.lastCallId).toBe('a');
  f = countCall(f, { callId: 'c', date: 'yesterday' });
  expect(f).toMatchObject({ callCount: 3, lastCallId: 'a' });
});

test('a last call without a duration clears the previous duration', () => {
  const f = countCall(countCall(noFigures(), { callId: 'a', date: at(1), durationSec: 10 }), { callId: 'b', date: at(2) });
  expect(f).toEqual({ callCount: 2, lastCallId: 'b', lastCallDate: at(2) });
});

test('pickFigures keeps only the figures of a stored record', () => {
  expect(pickFigures(null)).toEqual({ callCount: 0 });
  expect(pickFigures({ callCount: 4, lastCallId: 'q', lastCallDate: at(3), extra: 1 } as never)).toEqual({
    callCount: 4,
    lastCallId: 'q',
    lastCallDate: at(3),
  });
});

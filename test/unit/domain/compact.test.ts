// The two ways of dropping what was not said: compact keeps null and '' (they were said), the
// dialer's request bodies drop them too (platforms refuse a blank from_number or agent id).
import { compact, withoutBlanks } from '../../../src/domain/compact';

test('compact drops only undefined', () => {
  expect(compact({ a: 1, b: undefined, c: null, d: '', e: 0, f: false })).toEqual({ a: 1, c: null, d: '', e: 0, f: false });
  expect(Object.keys(compact({ b: undefined }))).toEqual([]);
});

test('withoutBlanks drops undefined, null and the empty string, and keeps 0 and false', () => {
  expect(withoutBlanks({ a: 1, b: undefined, c: null, d: '', e: 0, f: false, g: ' ' })).toEqual({ a: 1, e: 0, f: false, g: ' ' });
});

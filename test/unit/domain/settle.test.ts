// What settleCall runs itself and what the workflow runs after it, and the one rule both apply to
// a contact found by its number.
import { initialState } from '../../../src/domain/reducer';
import { splitEffects, withContactFound } from '../../../src/domain/settle';

test('the quick effects go to settleCall in order; a follow-up and the opt-out check stay with the workflow', () => {
  expect(splitEffects(['recordMetrics', 'countContact', 'sendThankYou', 'applyOptOut'])).toEqual({
    settled: ['recordMetrics', 'countContact', 'sendThankYou'],
    rest: ['applyOptOut'],
  });
  expect(splitEffects(['recordMetrics', 'scheduleFollowUp'])).toEqual({ settled: ['recordMetrics'], rest: ['scheduleFollowUp'] });
  expect(splitEffects([])).toEqual({ settled: [], rest: [] });
});

test('a found contact goes on a call that names none, with the lowest precedence; a named one stays', () => {
  const blank = initialState('org', 'c1', 'generic');
  const found = withContactFound(blank, 'contact_a');
  expect(found).toMatchObject({ contactId: 'contact_a', owners: { contactId: '' } });
  expect(withContactFound(found, 'contact_b').contactId).toBe('contact_a');
  expect(withContactFound(blank, null)).toBe(blank);
  expect(withContactFound(blank, undefined)).toBe(blank);
});

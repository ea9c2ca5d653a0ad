// The number types the toll-fraud guard refuses, read from libphonenumber's full metadata for real
// sample numbers (the default metadata build has no types for most countries: this fails with it).
import { riskyNumberType } from '../../src/phone/types';
import { numberTypeRefusal } from '../../src/domain/spending';

test.each([
  ['+19005550100', 'premium-rate'], // US 900
  ['+448712345678', 'premium-rate'], // UK 0871
  ['+33891234567', 'premium-rate'], // France 0891
  ['+3290012345', 'premium-rate'], // Belgium 0900
  ['+41840123456', 'shared-cost'], // Switzerland 0840
  ['+4918012345678', 'shared-cost'], // Germany 0180
  ['+39848123456', 'shared-cost'], // Italy 848
  ['+445512345678', 'uan'], // UK 055
  ['+447012345678', 'personal-number'], // UK 070
  ['+4970012345678', 'personal-number'], // Germany 0700
  ['+881612345678', 'international-network'], // satellite
  ['+88213000002', 'international-network'], // the reproduction
  ['+883510012345', 'international-network'],
  ['+14155551234', undefined],
  ['+442071234567', undefined],
  ['+4915112345678', undefined],
  ['+448001234567', undefined], // toll free costs the caller nothing
])('%s is %s', (n, type) => {
  expect(riskyNumberType(n)).toBe(type);
});

test('a risky type is refused unless the dialer opts in to that type', () => {
  expect(numberTypeRefusal('+19005550100', 'premium-rate', undefined)).toBe(
    'toll-fraud guard: +19005550100 is a premium-rate number, refused unless the dialer opts in ("outbound set --allow-number-types premium-rate")',
  );
  expect(numberTypeRefusal('+19005550100', 'premium-rate', ['shared-cost'])).toMatch(/^toll-fraud guard/);
  expect(numberTypeRefusal('+19005550100', 'premium-rate', ['premium-rate'])).toBeUndefined();
  expect(numberTypeRefusal('+14155551234', undefined, undefined)).toBeUndefined();
});

// Local-day math at the far ends of what the API accepts: schemathesis sent a range in year 9999,
// whose minute count passes 2^31, and a 32-bit midpoint kept the day-start search from ending.
import { localBuckets, localDayNumber, startOfLocalDay } from '../../../src/domain/analytics';

test.each(['UTC', 'America/Chicago', 'Asia/Kolkata'])('day starts in year 9999 are found (%s)', (tz) => {
  const day = localDayNumber(Date.parse('9999-06-01T12:00:00Z'), tz);
  const start = startOfLocalDay(day, tz);
  expect(localDayNumber(start, tz)).toBe(day);
  expect(localDayNumber(start - 60_000, tz)).toBe(day - 1);
});

test('Jan 1 to Dec 31 of year 9999 is 364 day buckets', () => {
  const buckets = localBuckets(Date.parse('9999-01-01T00:00:00Z'), Date.parse('9999-12-31T00:00:00Z'), 'day', 'UTC');
  expect(buckets).toHaveLength(364);
  expect(buckets[0].label).toBe('9999-01-01');
});

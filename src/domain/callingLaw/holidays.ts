// Named days without calls, computed by rule (fixed date, nth weekday of a month, Easter offset)
// so no list of years goes stale. Pure: the workflow bundle includes it. No Node imports.
import { WEEKDAYS, type Weekday } from '../callingWindow';

export type HolidayRule =
  /** The same date every year, e.g. 12-25. */
  | { name: string; month: number; day: number }
  /** The nth weekday of a month (n = -1: the last), e.g. the fourth Thursday of November. */
  | { name: string; month: number; weekday: Weekday; nth: 1 | 2 | 3 | 4 | -1 }
  /** Days from Western Easter Sunday, e.g. -2 for Good Friday. */
  | { name: string; easterOffset: number };

/** Western Easter Sunday of `year` (anonymous Gregorian algorithm), as [month, day]. */
export function easter(year: number): [number, number] {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

/** The holiday's date in `year`, as [month, day]. */
export function holidayDate(rule: HolidayRule, year: number): [number, number] {
  if ('easterOffset' in rule) {
    const [m, d] = easter(year);
    const t = new Date(Date.UTC(year, m - 1, d + rule.easterOffset));
    return [t.getUTCMonth() + 1, t.getUTCDate()];
  }
  if ('day' in rule) return [rule.month, rule.day];
  const want = WEEKDAYS.indexOf(rule.weekday);
  if (rule.nth === -1) {
    const last = new Date(Date.UTC(year, rule.month, 0));
    const back = (last.getUTCDay() - want + 7) % 7;
    return [rule.month, last.getUTCDate() - back];
  }
  const first = new Date(Date.UTC(year, rule.month - 1, 1)).getUTCDay();
  return [rule.month, 1 + ((want - first + 7) % 7) + 7 * (rule.nth - 1)];
}

/** The holiday among `rules` that falls on y-m-d, if any. */
export function holidayOn(rules: readonly HolidayRule[] | undefined, year: number, month: number, day: number): HolidayRule | undefined {
  return rules?.find((r) => {
    const [m, d] = holidayDate(r, year);
    return m === month && d === day;
  });
}

/** The US federal legal holidays (5 U.S.C. § 6103(a)), on their own dates (not the observed Friday/Monday). */
export const US_FEDERAL_HOLIDAYS: HolidayRule[] = [
  { name: "New Year's Day", month: 1, day: 1 },
  { name: 'Martin Luther King Jr. Day', month: 1, weekday: 'mon', nth: 3 },
  { name: "Washington's Birthday", month: 2, weekday: 'mon', nth: 3 },
  { name: 'Memorial Day', month: 5, weekday: 'mon', nth: -1 },
  { name: 'Juneteenth', month: 6, day: 19 },
  { name: 'Independence Day', month: 7, day: 4 },
  { name: 'Labor Day', month: 9, weekday: 'mon', nth: 1 },
  { name: 'Columbus Day', month: 10, weekday: 'mon', nth: 2 },
  { name: 'Veterans Day', month: 11, day: 11 },
  { name: 'Thanksgiving Day', month: 11, weekday: 'thu', nth: 4 },
  { name: 'Christmas Day', month: 12, day: 25 },
];

/** Australia's national public holidays; the King's Birthday and Labour Day differ by state and are not national. */
export const AU_NATIONAL_HOLIDAYS: HolidayRule[] = [
  { name: "New Year's Day", month: 1, day: 1 },
  { name: 'Australia Day', month: 1, day: 26 },
  { name: 'Good Friday', easterOffset: -2 },
  { name: 'Easter Monday', easterOffset: 1 },
  { name: 'Anzac Day', month: 4, day: 25 },
  { name: 'Christmas Day', month: 12, day: 25 },
  { name: 'Boxing Day', month: 12, day: 26 },
];

// The calling-law table, rule by rule: each entry's hours at their edges on every weekday, its days
// without calls (Sundays, named holidays computed by rule), a daylight-saving change day in the
// region's zone, its cap at the edge, and the text that says which rule moved an attempt.
import {
  type CallingPolicy,
  DEFAULT_CALLING_POLICY,
  WEEKDAYS,
  type Weekday,
  effectiveWindow,
  isInside,
  localTime,
  nextOpening,
  zonedInstant,
} from '../../../src/domain/callingWindow';
import { lawAttemptLimits, lawLimits, lawQuietAfterConversation } from '../../../src/domain/callingLaw/apply';
import { easter, holidayDate } from '../../../src/domain/callingLaw/holidays';
import { CALLING_LAW, type LawRule, lawsFor } from '../../../src/domain/callingLaw/rules';
import { SLOT_MARGIN_MS, decideGate, emptyGate, type GateRequest } from '../../../src/domain/contactCaps';
import { decideFollowUpTime, type FollowUpContext } from '../../../src/domain/followUpCompliance';

const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** An organization that allows every hour of every day: what remains is the law alone. */
const OPEN: CallingPolicy = { start: '00:00', end: '24:00', days: [...WEEKDAYS], regions: [] };

/** A zone inside each region, where its clock is read. */
const ZONE: Record<string, string> = {
  US: 'America/New_York',
  'US-FL': 'America/New_York',
  'US-OK': 'America/Chicago',
  'US-MD': 'America/New_York',
  'US-CT': 'America/New_York',
  'US-WA': 'America/Los_Angeles',
  'US-AL': 'America/Chicago',
  'US-LA': 'America/Chicago',
  'US-MS': 'America/Chicago',
  'US-RI': 'America/New_York',
  'US-UT': 'America/Denver',
  'US-PA': 'America/New_York',
  'US-TX': 'America/Chicago',
  'US-KY': 'America/New_York',
  CA: 'America/Toronto',
  AU: 'Australia/Sydney',
  GB: 'Europe/London',
};

/** A daylight-saving change day (clocks go forward) in each zone, in 2027. */
const DST_DAY: Record<string, [number, number, number]> = {
  'America/New_York': [2027, 3, 14],
  'America/Chicago': [2027, 3, 14],
  'America/Denver': [2027, 3, 14],
  'America/Los_Angeles': [2027, 3, 14],
  'America/Toronto': [2027, 3, 14],
  'Australia/Sydney': [2027, 10, 3],
  'Europe/London': [2027, 3, 28],
};

const hhmm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
const windowOf = (rule: LawRule) => effectiveWindow(OPEN, [], lawLimits([rule]));

/** The local date of the given weekday in the week of Sun 2027-08-15 (no holiday in any table). */
function dateOf(wd: Weekday): [number, number, number] {
  const d = new Date(Date.UTC(2027, 7, 15 + WEEKDAYS.indexOf(wd)));
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

describe.each(CALLING_LAW.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
  const zone = ZONE[rule.region];
  const w = windowOf(rule);

  it('has a zone to test in, a citation, sources and an effective date', () => {
    expect(zone).toBeDefined();
    expect(rule.citation.length).toBeGreaterThan(5);
    expect(rule.sources.length).toBeGreaterThan(0);
    expect(rule.effective).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it.each(WEEKDAYS.map((d) => [d]))('hours on %s at their edges', (wd) => {
    const [y, m, d] = dateOf(wd);
    const h = rule.hours?.[wd];
    const at = (min: number) => zonedInstant(y, m, d, min, zone);
    if (h === null) {
      for (const min of [0, 9 * 60, 12 * 60, 23 * 60 + 59]) expect(isInside(at(min), zone, w)).toBe(false);
      // The next opening is on a later day, at that day's own start.
      const o = nextOpening(at(12 * 60), [zone], OPEN, [], lawLimits([rule]))!;
      const t = localTime(o.at, zone);
      expect(t.weekday).not.toBe(wd);
      expect(o.text).toContain(rule.citation);
      return;
    }
    if (!h) {
      expect(isInside(at(3 * 60), zone, w)).toBe(true);
      return;
    }
    const [s, e] = [hhmm(h.start), hhmm(h.end)];
    expect(isInside(at(s - 1), zone, w)).toBe(false);
    expect(isInside(at(s), zone, w)).toBe(true);
    expect(isInside(at(e - 1), zone, w)).toBe(true);
    if (e < 24 * 60) expect(isInside(at(e), zone, w)).toBe(false);
    // A minute before the start moves to the start, and the text names the rule.
    const o = nextOpening(at(s - 1), [zone], OPEN, [], lawLimits([rule]))!;
    expect(o.at).toBe(at(s));
    expect(o.text).toContain(`${rule.name}, ${rule.citation}`);
  });

  it('bars its named holidays all day, and not the day after when that day has hours', () => {
    for (const hol of rule.holidays ?? []) {
      for (const year of [2026, 2027, 2028]) {
        const [m, d] = holidayDate(hol, year);
        const noon = zonedInstant(year, m, d, 12 * 60, zone);
        expect(isInside(noon, zone, w)).toBe(false);
        const o = nextOpening(noon, [zone], OPEN, [], lawLimits([rule]));
        expect(o?.moved).toBe(true);
        expect(o!.text).toContain(`no calls on ${hol.name}`);
      }
    }
  });

  it('a daylight-saving change day: the start is read on the local clock after the change', () => {
    const [y, m, d] = DST_DAY[zone];
    const wd = WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
    const h = rule.hours?.[wd];
    const before = zonedInstant(y, m, d, 4 * 60, zone);
    const o = nextOpening(before, [zone], OPEN, [], lawLimits([rule]))!;
    const t = localTime(o.at, zone);
    if (h) {
      // Same day, at the rule's start on the wall clock (the clock jumped at 02:00, or 02:00 in Sydney).
      expect([t.year, t.month, t.day]).toEqual([y, m, d]);
      expect(t.hour * 60 + t.minute).toBe(hhmm(h.start));
    } else if (h === null) {
      expect([t.year, t.month, t.day]).not.toEqual([y, m, d]);
    } else {
      expect(o.moved).toBe(false);
    }
  });

  it('does not apply before its effective date', () => {
    const [y, m, d] = rule.effective.split('-').map(Number);
    const dayBefore = new Date(Date.UTC(y, m - 1, d - 1));
    const t = zonedInstant(dayBefore.getUTCFullYear(), dayBefore.getUTCMonth() + 1, dayBefore.getUTCDate(), 2 * 60 + 30, zone);
    expect(isInside(t, zone, w)).toBe(true);
  });

  if (rule.cap) {
    it(`cap: ${rule.cap.attempts} attempts in ${rule.cap.windowHours} hours, at the edge`, () => {
      const limits = lawAttemptLimits([rule], Date.parse('2027-06-07T12:00:00Z'));
      expect(limits).toHaveLength(1);
      const windowMs = rule.cap!.windowHours * H;
      // A slot is held past its window by the margin between taking it and dialing (contactCaps.ts).
      const heldMs = windowMs + SLOT_MARGIN_MS;
      const t0 = Date.parse('2027-06-07T12:00:00Z');
      let s = emptyGate();
      const reserve = (attempt: number, now: number) => {
        const req: GateRequest = { type: 'reserve', callId: `c${attempt}`, attempt: 1, cap: 100, limits };
        const r = decideGate(s, req, now);
        s = r.state;
        return r.answer;
      };
      // Spread the allowed attempts over the window so the 24-hour organization cap never decides.
      const step = Math.floor(windowMs / (rule.cap!.attempts + 1));
      for (let i = 0; i < rule.cap!.attempts; i++) expect(reserve(i, t0 + i * step).kind).toBe('allowed');
      const last = t0 + (rule.cap!.attempts - 1) * step;
      const refused = reserve(99, last + 1000);
      expect(refused).toMatchObject({ kind: 'refused', cap: rule.cap!.attempts, freeAt: iso(t0 + heldMs), rule: limits[0].rule });
      // One millisecond before the first attempt leaves the window it is still full; at the edge it is not.
      expect(reserve(98, t0 + heldMs - 1).kind).toBe('refused');
      expect(reserve(97, t0 + heldMs).kind).toBe('allowed');
    });
  }
});

describe('holidays by rule', () => {
  it('computes the nth and last weekdays and Easter', () => {
    expect(holidayDate({ name: 'Thanksgiving Day', month: 11, weekday: 'thu', nth: 4 }, 2026)).toEqual([11, 26]);
    expect(holidayDate({ name: 'Memorial Day', month: 5, weekday: 'mon', nth: -1 }, 2026)).toEqual([5, 25]);
    expect(holidayDate({ name: 'Labor Day', month: 9, weekday: 'mon', nth: 1 }, 2026)).toEqual([9, 7]);
    expect(holidayDate({ name: 'MLK', month: 1, weekday: 'mon', nth: 3 }, 2027)).toEqual([1, 18]);
    expect(holidayDate({ name: 'Victory Day', month: 8, weekday: 'mon', nth: 2 }, 2026)).toEqual([8, 10]);
    expect([2024, 2025, 2026, 2027].map(easter)).toEqual([
      [3, 31],
      [4, 20],
      [4, 5],
      [3, 28],
    ]);
    expect(holidayDate({ name: 'Good Friday', easterOffset: -2 }, 2027)).toEqual([3, 26]);
  });
});

describe('the table applied to a contact', () => {
  const ctx = (regions: string[], zone: string, purpose: FollowUpContext['purpose'] = 'solicitation'): FollowUpContext => ({
    zones: [zone],
    zoneSource: 'phone',
    regions,
    policy: DEFAULT_CALLING_POLICY,
    purpose,
    laws: lawsFor(regions, purpose),
  });

  it('Oklahoma: 20:30 on a Friday moves to 08:00 on Saturday, naming the statute', () => {
    const at = Date.parse('2026-12-05T02:30:00Z'); // Fri 2026-12-04 20:30 in Chicago
    const d = decideFollowUpTime(at, ctx(['US', 'US-OK'], 'America/Chicago'));
    expect(d).toEqual({
      kind: 'at',
      at: Date.parse('2026-12-05T14:00:00Z'),
      movedText: 'moved to 08:00 America/Chicago on Sat 2026-12-05 (Oklahoma, 15 O.S. §775C.4: 08:00–20:00)',
    });
  });

  it('an organization may narrow the law but never widen it', () => {
    const wide: CallingPolicy = { start: '00:00', end: '24:00', days: [...WEEKDAYS], regions: [] };
    const at = Date.parse('2026-12-05T02:30:00Z'); // 20:30 in Chicago
    const c = { ...ctx(['US', 'US-OK'], 'America/Chicago'), policy: wide };
    expect(decideFollowUpTime(at, c)).toMatchObject({ at: Date.parse('2026-12-05T14:00:00Z') });
    const narrow: CallingPolicy = { ...wide, start: '10:00', end: '12:00' };
    expect(decideFollowUpTime(at, { ...c, policy: narrow })).toMatchObject({ at: Date.parse('2026-12-05T16:00:00Z') });
  });

  it('Texas: not before noon on a Sunday', () => {
    const at = Date.parse('2026-12-06T15:00:00Z'); // Sun 09:00 in Chicago
    const d = decideFollowUpTime(at, ctx(['US', 'US-TX'], 'America/Chicago'));
    expect(d).toMatchObject({ at: Date.parse('2026-12-06T18:00:00Z') });
    expect(d.kind === 'at' && d.movedText).toContain('Texas, Tex. Bus. & Com. Code §301.051: 12:00–21:00 on Sundays');
  });

  it('Rhode Island: Saturday 17:00 moves past Sunday to Monday 09:00', () => {
    const at = Date.parse('2026-12-05T22:00:00Z'); // Sat 17:00 in Providence
    expect(decideFollowUpTime(at, ctx(['US', 'US-RI'], 'America/New_York'))).toMatchObject({ at: Date.parse('2026-12-07T14:00:00Z') });
  });

  it('Utah: Thanksgiving 2026 (fourth Thursday of November) has no calls; Friday 08:00 is the next', () => {
    const at = Date.parse('2026-11-26T17:00:00Z'); // Thu 10:00 in Salt Lake City
    const d = decideFollowUpTime(at, ctx(['US', 'US-UT'], 'America/Denver'));
    expect(d).toMatchObject({ at: Date.parse('2026-11-27T15:00:00Z') });
    expect(d.kind === 'at' && d.movedText).toContain('Utah, Utah Code §13-25a-103(3): no calls on Thanksgiving Day');
  });

  it('Canada: Saturday 18:30 moves to Sunday 10:00; weekdays run to 21:30', () => {
    const sat = Date.parse('2026-12-05T23:30:00Z'); // Sat 18:30 in Toronto
    expect(decideFollowUpTime(sat, ctx(['CA', 'CA-ON'], 'America/Toronto'))).toMatchObject({ at: Date.parse('2026-12-06T15:00:00Z') });
    // With an organization window open all day, Wednesday 21:29 is inside and 21:30 is not.
    const open = { ...ctx(['CA', 'CA-ON'], 'America/Toronto'), policy: OPEN };
    const wed = Date.parse('2026-12-10T02:29:00Z');
    expect(decideFollowUpTime(wed, open)).toEqual({ kind: 'at', at: wed });
    expect(decideFollowUpTime(wed + 60_000, open)).toMatchObject({ at: Date.parse('2026-12-10T14:00:00Z') });
  });

  it('Australia: Good Friday 2027 and the Sunday after are without calls; Easter Monday too', () => {
    const fri = Date.parse('2027-03-25T23:00:00Z'); // Fri 26 Mar 10:00 in Sydney (UTC+11)
    const d = decideFollowUpTime(fri, ctx(['AU'], 'Australia/Sydney'));
    // Sat 27 Mar 09:00 Sydney.
    expect(d).toMatchObject({ at: Date.parse('2027-03-26T22:00:00Z') });
    const sun = Date.parse('2027-03-28T00:00:00Z'); // Sun 28 Mar 11:00
    // Easter Monday barred: Tuesday 30 Mar 09:00.
    expect(decideFollowUpTime(sun, ctx(['AU'], 'Australia/Sydney'))).toMatchObject({ at: Date.parse('2027-03-29T22:00:00Z') });
  });

  it('a contact whose address and number disagree gets both regions: the stricter wins', () => {
    // Number in Texas (09:00 start), address in Oklahoma (20:00 end): 08:30 and 20:30 are both moved.
    const c = ctx(['US', 'US-TX', 'US-OK'], 'America/Chicago');
    expect(decideFollowUpTime(Date.parse('2026-12-07T14:30:00Z'), c)).toMatchObject({ at: Date.parse('2026-12-07T15:00:00Z') });
    expect(decideFollowUpTime(Date.parse('2026-12-08T02:30:00Z'), c)).toMatchObject({ at: Date.parse('2026-12-08T15:00:00Z') });
  });

  it('the purpose selects the rules: informational calls get no state law, debt collection gets Regulation F', () => {
    expect(lawsFor(['US', 'US-OK'], 'informational')).toEqual([]);
    expect(lawsFor(['US', 'US-OK'], 'debt-collection').map((r) => r.id)).toEqual(['US-RegF-1006.14(b)(2)']);
    expect(lawsFor(['US', 'US-OK'], 'solicitation').map((r) => r.id)).toEqual(['US-TCPA-64.1200(c)(1)', 'US-OK-775C.4']);
  });

  it('Regulation F: no attempt within 7 days after a conversation', () => {
    const laws = lawsFor(['US'], 'debt-collection');
    const now = Date.parse('2027-06-07T15:00:00Z');
    const quiet = lawQuietAfterConversation(laws, now)!;
    expect(quiet.ms).toBe(7 * 24 * H);
    const talked = now - 2 * 24 * H;
    const req: GateRequest = { type: 'reserve', callId: 'c', attempt: 1, cap: 3, quietUntil: talked + quiet.ms, quietRule: quiet.rule };
    expect(decideGate(emptyGate(), req, now).answer).toEqual({
      kind: 'refused',
      used: 0,
      cap: 3,
      freeAt: iso(talked + 7 * 24 * H),
      rule: 'United States, Regulation F, 12 CFR 1006.14(b)(2) and 1006.6(b)(1)(i): no call within 7 days after a conversation',
    });
    expect(decideGate(emptyGate(), req, talked + 7 * 24 * H).answer.kind).toBe('allowed');
  });

  it("a region's cap applies only where stricter than the organization's", () => {
    const limits = lawAttemptLimits(lawsFor(['US', 'US-OK'], 'solicitation'), Date.parse('2027-06-07T12:00:00Z'));
    let s = emptyGate();
    const t0 = Date.parse('2027-06-07T12:00:00Z');
    // The organization allows 2: its cap decides, named as the 24-hour cap.
    for (let i = 0; i < 2; i++) s = decideGate(s, { type: 'reserve', callId: `a${i}`, attempt: 1, cap: 2, limits }, t0 + i * H).state;
    const r = decideGate(s, { type: 'reserve', callId: 'a9', attempt: 1, cap: 2, limits }, t0 + 3 * H).answer;
    expect(r).toEqual({ kind: 'refused', used: 2, cap: 2, freeAt: iso(t0 + 24 * H + SLOT_MARGIN_MS) });
  });
});

// Calling windows in the contact's local time: defaults, regional rules, several zones, DST.
import {
  type CallingPolicy,
  DEFAULT_CALLING_POLICY,
  effectiveWindow,
  isInside,
  localTime,
  nextOpening,
  policyProblems,
  zonedInstant,
} from '../../../src/domain/callingWindow';
import { applyFollowUpRules, decideFollowUpTime, type FollowUpContext } from '../../../src/domain/followUpCompliance';
import { applyPlacement, beginPlacing } from '../../../src/domain/followUpPlacement';
import { describePlan, startPlan } from '../../../src/domain/followUpPlan';

const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const P = DEFAULT_CALLING_POLICY;

describe('nextOpening', () => {
  it('leaves a time inside the window as it is', () => {
    // 14:00 in Chicago (UTC-6 in January).
    const at = Date.parse('2025-01-15T20:00:00Z');
    expect(nextOpening(at, ['America/Chicago'], P)).toEqual({ at, moved: false, zone: 'America/Chicago' });
  });

  it('moves 22:30 local to 08:00 the next day, and says so', () => {
    const at = Date.parse('2025-01-16T04:30:00Z'); // 22:30 on Wed 15 Jan in Chicago
    const o = nextOpening(at, ['America/Chicago'], P)!;
    expect(iso(o.at)).toBe('2025-01-16T14:00:00.000Z');
    expect(o.text).toBe('moved to 08:00 America/Chicago on Thu 2025-01-16 (calling window)');
  });

  it('moves 06:00 local to 08:00 the same day', () => {
    const at = Date.parse('2025-01-15T12:00:00Z'); // 06:00 in Chicago
    expect(iso(nextOpening(at, ['America/Chicago'], P)!.at)).toBe('2025-01-15T14:00:00.000Z');
  });

  it('21:00 is already outside (end is exclusive); 20:59 is inside', () => {
    expect(nextOpening(Date.parse('2025-01-16T03:00:00Z'), ['America/Chicago'], P)!.moved).toBe(true);
    expect(nextOpening(Date.parse('2025-01-16T02:59:00Z'), ['America/Chicago'], P)!.moved).toBe(false);
  });

  it('fits every zone of a number that spans several: the latest to open decides', () => {
    // 08:30 in New York is 07:30 in Chicago: wait for Chicago's 08:00.
    const at = Date.parse('2025-01-15T13:30:00Z');
    const o = nextOpening(at, ['America/New_York', 'America/Chicago'], P)!;
    expect(iso(o.at)).toBe('2025-01-15T14:00:00.000Z');
    expect(o.zone).toBe('America/Chicago');
    // 20:30 in Chicago is 21:30 in New York: the next time both are open is 08:00 Chicago next day.
    const late = nextOpening(Date.parse('2025-01-16T02:30:00Z'), ['America/New_York', 'America/Chicago'], P)!;
    expect(iso(late.at)).toBe('2025-01-16T14:00:00.000Z');
  });

  it('finds nothing when the zones are too far apart for the window', () => {
    // A toll-free number spans Honolulu to Guam; with London and Shanghai no 13 hours overlap.
    expect(nextOpening(Date.parse('2025-01-15T12:00:00Z'), ['Pacific/Honolulu', 'Europe/London', 'Asia/Shanghai'], P)).toBeUndefined();
  });

  it('applies days of the week', () => {
    const weekdays: CallingPolicy = { ...P, days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    const fri = Date.parse('2025-01-17T23:00:00Z'); // Fri 18:00 in New York, inside
    expect(nextOpening(fri, ['America/New_York'], weekdays)!.moved).toBe(false);
    const satMorning = Date.parse('2025-01-18T15:00:00Z'); // Sat 10:00
    const o = nextOpening(satMorning, ['America/New_York'], weekdays)!;
    expect(iso(o.at)).toBe('2025-01-20T13:00:00.000Z'); // Mon 08:00 EST
    expect(o.text).toContain('on Mon 2025-01-20');
  });

  it('a regional rule narrows the window only for that region (Florida: 08:00–20:00 by default)', () => {
    const at = Date.parse('2025-01-16T01:30:00Z'); // 20:30 in New York / Miami
    expect(nextOpening(at, ['America/New_York'], P, ['US', 'US-NY'])!.moved).toBe(false);
    const fl = nextOpening(at, ['America/New_York'], P, ['US', 'US-FL'])!;
    expect(iso(fl.at)).toBe('2025-01-16T13:00:00.000Z');
    expect(fl.text).toBe('moved to 08:00 America/New_York on Thu 2025-01-16 (calling window, US-FL rules)');
    expect(effectiveWindow(P, ['US-FL'])).toMatchObject({ startMin: 8 * 60, endMin: 20 * 60 });
  });

  it('a country rule with days narrows the days', () => {
    const policy: CallingPolicy = { ...P, regions: [{ region: 'DE', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], end: '20:00' }] };
    const sun = Date.parse('2025-01-19T10:00:00Z'); // Sun 11:00 in Berlin
    expect(iso(nextOpening(sun, ['Europe/Berlin'], policy, ['DE'])!.at)).toBe('2025-01-20T07:00:00.000Z');
    expect(nextOpening(sun, ['Europe/Berlin'], policy, ['FR'])!.moved).toBe(false);
  });

  it('handles the spring-forward day (no 02:00–03:00) and a window starting in the gap', () => {
    const policy: CallingPolicy = { ...P, start: '02:30', end: '21:00' };
    // 2025-03-09: US clocks jump from 02:00 to 03:00. 01:00 EST = 06:00Z.
    const o = nextOpening(Date.parse('2025-03-09T06:00:00Z'), ['America/New_York'], policy)!;
    expect(iso(o.at)).toBe('2025-03-09T07:00:00.000Z'); // 03:00 EDT, the first instant after the gap
    expect(localTime(o.at, 'America/New_York')).toMatchObject({ hour: 3, minute: 0 });
    // An ordinary 08:00 opening on that day is 12:00Z (EDT).
    expect(iso(nextOpening(Date.parse('2025-03-09T06:00:00Z'), ['America/New_York'], P)!.at)).toBe('2025-03-09T12:00:00.000Z');
  });

  it('handles the fall-back day (01:00–02:00 twice)', () => {
    // 2025-11-02: US clocks go back from 02:00 EDT to 01:00 EST. 22:00 EDT on 1 Nov = 02:00Z.
    const o = nextOpening(Date.parse('2025-11-02T02:00:00Z'), ['America/New_York'], P)!;
    expect(iso(o.at)).toBe('2025-11-02T13:00:00.000Z'); // 08:00 EST
    expect(zonedInstant(2025, 11, 2, 90, 'America/New_York')).toBe(Date.parse('2025-11-02T05:30:00Z')); // the first 01:30
  });

  it('a zone without DST far from UTC, and a half-hour zone', () => {
    expect(iso(nextOpening(Date.parse('2025-01-15T00:00:00Z'), ['Asia/Kolkata'], P)!.at)).toBe('2025-01-15T02:30:00.000Z');
    expect(iso(nextOpening(Date.parse('2025-01-15T12:00:00Z'), ['Pacific/Kiritimati'], P)!.at)).toBe('2025-01-15T18:00:00.000Z');
  });

  it('property: the opening is the first instant ≥ at inside the window in every zone', () => {
    const zones = [
      'America/Chicago',
      'America/New_York',
      'America/Los_Angeles',
      'Europe/London',
      'Europe/Berlin',
      'Australia/Sydney',
      'Asia/Kolkata',
      'America/Sao_Paulo',
      'Pacific/Auckland',
      'America/Phoenix',
    ];
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = Date.parse('2024-01-01T00:00:00Z');
    for (let i = 0; i < 300; i++) {
      const at = base + Math.floor(rand() * 730 * 24) * H + Math.floor(rand() * 60) * 60_000;
      const zs = [zones[Math.floor(rand() * zones.length)], ...(rand() < 0.4 ? [zones[Math.floor(rand() * 3)]] : [])];
      const o = nextOpening(at, zs, P);
      if (!o) {
        // Only zones too far apart may have no opening: none of the 15-minute steps of two days fits.
        for (let t = at; t < at + 48 * H; t += 15 * 60_000) expect(zs.every((z) => isInside(t, z, effectiveWindow(P)))).toBe(false);
        continue;
      }
      const w = effectiveWindow(P);
      expect(o.at).toBeGreaterThanOrEqual(at);
      for (const z of zs) expect(isInside(o.at, z, w)).toBe(true);
      // Nothing earlier fits: a minute before the opening is outside in some zone (unless at itself).
      if (o.at > at) expect(zs.every((z) => isInside(o.at - 60_000, z, w))).toBe(false);
      expect(o.at - at).toBeLessThan(36 * H);
    }
  });
});

describe('policyProblems', () => {
  it('accepts the default and names each bad field', () => {
    expect(policyProblems(P)).toEqual([]);
    expect(policyProblems({ start: '8am', end: '21:00', days: ['mon'], regions: [{ region: 'florida', end: '25:00' }] })).toEqual([
      'start: expected HH:MM (got "8am")',
      'regions[0].region: expected a country (US) or a subdivision (US-FL)',
      'regions[0].end: expected HH:MM or 24:00 (got "25:00")',
    ]);
    expect(policyProblems({ ...P, start: '21:00', end: '08:00' })[0]).toMatch(/^end: must be after start/);
    expect(policyProblems({ ...P, days: [] })).toEqual(['days: expected a non-empty list of sun, mon, tue, wed, thu, fri, sat']);
  });
});

describe('follow-up rules on a plan', () => {
  const chicago: FollowUpContext = { zones: ['America/Chicago'], zoneSource: 'phone', regions: ['US', 'US-IL'], policy: P };
  const opts = { delayMs: 2 * H, maxAttempts: 3, resultWaitMs: 24 * H };

  it('a no-answer at 20:30 local gets its follow-up at 08:00 local the next day, not 22:30', () => {
    const now = Date.parse('2025-01-16T02:30:00Z'); // 20:30 in Chicago
    const plan = applyFollowUpRules(startPlan('no-answer', opts, now), chicago, now);
    expect(plan.nextFollowUpAt).toBe('2025-01-16T14:00:00.000Z');
    expect(plan.attempts[0].scheduledFor).toBe('2025-01-16T14:00:00.000Z');
    expect(plan.window).toBe('moved to 08:00 America/Chicago on Thu 2025-01-16 (calling window)');
    expect(describePlan(plan)).toBe(
      'follow-up attempt 1 of 3 scheduled for 2025-01-16T14:00:00.000Z (moved to 08:00 America/Chicago on Thu 2025-01-16 (calling window))',
    );
    expect(plan.history.at(-1)).toMatchObject({
      event: 'moved',
      attempt: 1,
      detail: expect.stringContaining('was 2025-01-16T04:30:00.000Z'),
    });
  });

  it('a plan inside the window is left as it was', () => {
    const now = Date.parse('2025-01-15T16:00:00Z');
    const p = startPlan('no-answer', opts, now);
    expect(applyFollowUpRules(p, chicago, now)).toBe(p);
  });

  it('a do-not-call contact gets no follow-up: the plan is canceled with the reason', () => {
    const now = Date.parse('2025-01-15T16:00:00Z');
    const dnc = { ...chicago, doNotCall: { reason: 'asked not to be called', at: iso(now), source: 'contact' } };
    const p = applyFollowUpRules(startPlan('no-answer', opts, now), dnc, now);
    expect(p.status).toBe('canceled');
    expect(p.reason).toBe('the contact is on the do-not-call list (contact: asked not to be called)');
    expect(describePlan(p)).toContain('do-not-call');
    expect(decideFollowUpTime(now, dnc, { by: 'ops' })).toEqual({ kind: 'blocked', reason: p.reason });
  });

  it('zones with no common window make the attempt due for a person', () => {
    const now = Date.parse('2025-01-15T16:00:00Z');
    const p = applyFollowUpRules(
      startPlan('no-answer', opts, now),
      { ...chicago, zones: ['Pacific/Honolulu', 'Europe/London', 'Asia/Shanghai'] },
      now,
    );
    expect(p.status).toBe('due');
    expect(p.reason).toMatch(/no time in the next two weeks/);
  });

  it('an explicit override keeps the time and records who and why', () => {
    const now = Date.parse('2025-01-16T04:00:00Z'); // 22:00 Chicago
    const base = startPlan('no-answer', { ...opts, delayMs: 0 }, now);
    const p = applyFollowUpRules(base, chicago, now, { by: 'alice', reason: 'customer asked for a late call' });
    expect(p.nextFollowUpAt).toBe(base.nextFollowUpAt);
    expect(p.attempts[0].windowOverride).toEqual({ by: 'alice', reason: 'customer asked for a late call' });
    expect(p.window).toBe('calling window overridden by alice: customer asked for a late call');
    expect(p.history.at(-1)).toMatchObject({ event: 'window overridden', by: 'alice' });
  });

  it('placement can be deferred to the next opening or blocked', () => {
    const now = Date.parse('2025-01-15T16:00:00Z');
    const placing = beginPlacing(startPlan('no-answer', { ...opts, delayMs: 0 }, now), now);
    const deferred = applyPlacement(
      placing,
      { kind: 'deferred', at: '2025-01-16T14:00:00.000Z', text: 'moved to 08:00 America/Chicago' },
      now,
      opts,
    );
    expect(deferred).toMatchObject({
      status: 'scheduled',
      nextFollowUpAt: '2025-01-16T14:00:00.000Z',
      window: 'moved to 08:00 America/Chicago',
    });
    expect(deferred.attempts[0]).toMatchObject({ status: 'scheduled', scheduledFor: '2025-01-16T14:00:00.000Z' });
    const blocked = applyPlacement(
      placing,
      { kind: 'blocked', reason: 'the contact is on the do-not-call list (opt-out: said so)' },
      now,
      opts,
    );
    expect(blocked).toMatchObject({ status: 'canceled', reason: 'the contact is on the do-not-call list (opt-out: said so)' });
    expect(blocked.attempts[0].status).toBe('canceled');
  });
});

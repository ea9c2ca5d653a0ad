// Calling windows: the local hours and days in which a follow-up call may be placed to a person
// (the TCPA's 08:00–21:00 by default; stricter rules for some regions). Pure: time-zone math
// uses Intl only, so the workflow bundle can include it. No Node imports.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Local hours `HH:MM` (24 h); `end` is exclusive and may be `24:00`. */
export interface WindowHours {
  start: string;
  end: string;
}

/** A stricter rule for one region: a country (`US`, `GB`) or a subdivision (`US-FL`, ISO 3166-2). */
export interface RegionRule extends Partial<WindowHours> {
  region: string;
  days?: Weekday[];
}

export interface CallingPolicy extends WindowHours {
  days: Weekday[];
  /** Applied on top of the base window when the contact is in that region: they only narrow it. */
  regions: RegionRule[];
}

/**
 * 08:00–21:00 every day (TCPA, 47 CFR 64.1200(c)(1)); Florida's 2021 telephone solicitation law
 * narrows it to 08:00–20:00.
 */
export const DEFAULT_CALLING_POLICY: CallingPolicy = {
  start: '08:00',
  end: '21:00',
  days: [...WEEKDAYS],
  regions: [{ region: 'US-FL', start: '08:00', end: '20:00' }],
};

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Minutes since local midnight of `HH:MM`, or undefined when it is not such a time. */
export function parseHhmm(s: string): number | undefined {
  if (!HHMM.test(s)) return undefined;
  const [h, m] = s.split(':').map(Number);
  return h * 60 + m;
}

/** Why a policy is not valid, one message per problem, each naming its field; empty when valid. */
export function policyProblems(p: CallingPolicy): string[] {
  const out: string[] = [];
  const hours = (h: Partial<WindowHours>, at: string) => {
    const s = h.start === undefined ? 0 : parseHhmm(h.start);
    const e = h.end === undefined ? 24 * 60 : parseHhmm(h.end);
    if (s === undefined) out.push(`${at}start: expected HH:MM (got ${JSON.stringify(h.start)})`);
    if (e === undefined) out.push(`${at}end: expected HH:MM or 24:00 (got ${JSON.stringify(h.end)})`);
    if (s !== undefined && e !== undefined && s >= e)
      out.push(`${at}end: must be after start (${h.start}–${h.end}); overnight windows are not supported`);
  };
  const days = (d: unknown, at: string) => {
    if (!Array.isArray(d) || d.length === 0 || !d.every((x) => (WEEKDAYS as readonly unknown[]).includes(x))) {
      out.push(`${at}days: expected a non-empty list of ${WEEKDAYS.join(', ')}`);
    }
  };
  hours(p, '');
  days(p.days, '');
  (p.regions ?? []).forEach((r, i) => {
    if (!/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(r.region ?? ''))
      out.push(`regions[${i}].region: expected a country (US) or a subdivision (US-FL)`);
    hours(r, `regions[${i}].`);
    if (r.days !== undefined) days(r.days, `regions[${i}].`);
  });
  return out;
}

/** One window: the intersection of the base policy and every region rule that applies. */
export interface EffectiveWindow {
  startMin: number;
  endMin: number;
  days: ReadonlySet<Weekday>;
  /** The rules that narrowed it (`US-FL`), for the human text. */
  regions: string[];
  /** Rules by local date (laws: hours per weekday, named holidays), on top of the rest. */
  limits?: readonly DayLimit[];
}

/** A rule that narrows the window by local date (src/domain/callingLaw): it only ever narrows. */
export interface DayLimit {
  /** Allowed minutes [start, end) on that local date; null: no calls that day; undefined: no limit that day. */
  hoursOn(year: number, month: number, day: number, weekday: Weekday): { startMin: number; endMin: number } | null | undefined;
  /** Why the rule refuses that local time ("Oklahoma, 15 O.S. §775C.4: 08:00–20:00"), or undefined when it allows it. */
  refusal(t: LocalTime): string | undefined;
}

/** The window for a contact in these regions (e.g. `['US', 'US-FL']`); empty when a rule leaves no hours. */
export function effectiveWindow(policy: CallingPolicy, regions: readonly string[] = [], limits?: readonly DayLimit[]): EffectiveWindow {
  let startMin = parseHhmm(policy.start) ?? 0;
  let endMin = parseHhmm(policy.end) ?? 24 * 60;
  let days = new Set<Weekday>(policy.days);
  const applied: string[] = [];
  const mine = new Set(regions.map((r) => r.toUpperCase()));
  for (const r of policy.regions ?? []) {
    if (!mine.has(r.region.toUpperCase())) continue;
    applied.push(r.region);
    if (r.start !== undefined) startMin = Math.max(startMin, parseHhmm(r.start) ?? 0);
    if (r.end !== undefined) endMin = Math.min(endMin, parseHhmm(r.end) ?? 24 * 60);
    if (r.days) days = new Set([...days].filter((d) => r.days!.includes(d)));
  }
  return { startMin, endMin, days, regions: applied, ...(limits && limits.length > 0 ? { limits } : {}) };
}

/** The window's hours on one local date, every rule applied; undefined when no call may be placed that day. */
export function hoursOn(
  w: EffectiveWindow,
  year: number,
  month: number,
  day: number,
  weekday: Weekday,
): { startMin: number; endMin: number } | undefined {
  if (!w.days.has(weekday)) return undefined;
  let startMin = w.startMin;
  let endMin = w.endMin;
  for (const l of w.limits ?? []) {
    const h = l.hoursOn(year, month, day, weekday);
    if (h === null) return undefined;
    if (h) {
      startMin = Math.max(startMin, h.startMin);
      endMin = Math.min(endMin, h.endMin);
    }
  }
  return startMin < endMin ? { startMin, endMin } : undefined;
}

// ---- time zones through Intl -----------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

/** The wall-clock time in `zone` at instant `ms`. */
export function localTime(ms: number, zone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: parts.weekday.slice(0, 3).toLowerCase() as Weekday,
  };
}

/** The zone's offset from UTC at instant `ms`, in ms (positive east of Greenwich). */
function offsetAt(ms: number, zone: string): number {
  const t = localTime(ms, zone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The first instant whose wall clock in `zone` reads y-m-d at `minutes` past midnight or later:
 * that time itself, or (inside a DST gap, where it does not exist) the first instant after the gap.
 */
export function zonedInstant(year: number, month: number, day: number, minutes: number, zone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  // Two rounds settle the offset except inside a gap; there the later candidate is the first real instant.
  let guess = wall - offsetAt(wall, zone);
  guess = wall - offsetAt(guess, zone);
  const candidates = [guess, wall - offsetAt(guess - 3 * 3_600_000, zone), wall - offsetAt(guess + 3 * 3_600_000, zone)];
  const fits = candidates.filter((c) => localWall(c, zone) === wall).sort((a, b) => a - b);
  if (fits.length > 0) return fits[0];
  // The wall time falls in a gap: the instant at which the clock jumped past it.
  const after = candidates.filter((c) => localWall(c, zone) > wall).sort((a, b) => a - b)[0] ?? guess;
  // Offsets change on whole minutes: search in minutes.
  let lo = Math.floor(after / 60_000) * 60_000 - 3 * 3_600_000;
  let hi = Math.ceil(after / 60_000) * 60_000;
  while (hi - lo > 60_000) {
    const mid = Math.floor((lo + hi) / 120_000) * 60_000;
    if (localWall(mid, zone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

function localWall(ms: number, zone: string): number {
  const t = localTime(ms, zone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/** How far ahead an opening is searched; a window that fits all zones opens within a week, holidays aside. */
const SEARCH_DAYS = 14;

const minutesOf = (t: LocalTime) => t.hour * 60 + t.minute + t.second / 60;

/** Whether instant `ms` is inside the window in `zone`. */
export function isInside(ms: number, zone: string, w: EffectiveWindow): boolean {
  const t = localTime(ms, zone);
  const m = minutesOf(t);
  const h = hoursOn(w, t.year, t.month, t.day, t.weekday);
  return h !== undefined && m >= h.startMin && m < h.endMin;
}

/** The first instant ≥ `ms` inside the window in one zone; undefined when the window is empty. */
function nextInZone(ms: number, zone: string, w: EffectiveWindow): number | undefined {
  if (w.days.size === 0 || w.startMin >= w.endMin) return undefined;
  if (isInside(ms, zone, w)) return ms;
  const t = localTime(ms, zone);
  // Holidays next to a weekend without calls can close several days in a row: look two weeks ahead.
  for (let d = 0; d <= SEARCH_DAYS; d++) {
    // Calendar arithmetic on a UTC date: the local date d days later, whatever the zone's offset.
    const date = new Date(Date.UTC(t.year, t.month - 1, t.day + d));
    const [y, m, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const h = hoursOn(w, y, m, day, WEEKDAYS[date.getUTCDay()]);
    if (!h || (d === 0 && minutesOf(t) >= h.startMin)) continue;
    const at = zonedInstant(y, m, day, h.startMin, zone);
    if (at >= ms && isInside(at, zone, w)) return at;
  }
  return undefined;
}

export interface Opening {
  /** Epoch ms of the opening. */
  at: number;
  /** Whether it is later than asked. */
  moved: boolean;
  /** The zone whose window decided the time (the latest to open). */
  zone: string;
  /** "moved to 08:00 America/Chicago on Sat 2026-11-28 (calling window)"; absent when not moved. */
  text?: string;
}

/**
 * The first instant ≥ `at` that is inside the calling window in every one of `zones` (a number
 * that maps to several zones must fit them all). Undefined when no such instant exists within
 * two weeks (zones too far apart for the window, or a window with no hours).
 */
export function nextOpening(
  at: number,
  zones: readonly string[],
  policy: CallingPolicy,
  regions: readonly string[] = [],
  limits?: readonly DayLimit[],
): Opening | undefined {
  const w = effectiveWindow(policy, regions, limits);
  const list = zones.length > 0 ? [...new Set(zones)] : ['UTC'];
  let t = at;
  let decider = list[0];
  const limit = at + SEARCH_DAYS * 86_400_000;
  while (t <= limit) {
    let moved = false;
    for (const zone of list) {
      const n = nextInZone(t, zone, w);
      if (n === undefined) return undefined;
      if (n > t) {
        t = n;
        decider = zone;
        moved = true;
      }
    }
    if (!moved) {
      if (t === at) return { at, moved: false, zone: decider };
      return { at: t, moved: true, zone: decider, text: movedText(t, decider, w, refusals(at, list, w)) };
    }
  }
  return undefined;
}

/** What each law says against calling at `at` in any of the zones ("Oklahoma, 15 O.S. §775C.4: 08:00–20:00"), once each. */
function refusals(at: number, zones: readonly string[], w: EffectiveWindow): string[] {
  const out = new Set<string>();
  for (const zone of zones) {
    const t = localTime(at, zone);
    for (const l of w.limits ?? []) {
      const r = l.refusal(t);
      if (r) out.add(r);
    }
  }
  return [...out];
}

export function movedText(
  ms: number,
  zone: string,
  w: Pick<EffectiveWindow, 'regions'> = { regions: [] },
  laws: readonly string[] = [],
): string {
  const t = localTime(ms, zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${t.weekday[0].toUpperCase()}${t.weekday.slice(1)} ${t.year}-${pad(t.month)}-${pad(t.day)}`;
  const rule =
    laws.length > 0 ? laws.join('; ') : w.regions.length > 0 ? `calling window, ${w.regions.join(', ')} rules` : 'calling window';
  return `moved to ${pad(t.hour)}:${pad(t.minute)} ${zone} on ${day} (${rule})`;
}

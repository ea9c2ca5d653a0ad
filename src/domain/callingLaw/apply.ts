// The calling-law table applied: each rule as a limit on the local calling window (hours per
// weekday, days without calls, from its effective date on) that says why it refuses a time, and
// each rule's cap as the contact's attempt limits. Pure (workflow bundle). No Node imports.
import { type DayLimit, type LocalTime, type Weekday, parseHhmm } from '../callingWindow';
import type { AttemptLimit } from '../contactCaps';
import { holidayOn } from './holidays';
import type { LawInForce } from './rules';

const DAY_NAMES: Record<Weekday, string> = {
  sun: 'Sundays',
  mon: 'Mondays',
  tue: 'Tuesdays',
  wed: 'Wednesdays',
  thu: 'Thursdays',
  fri: 'Fridays',
  sat: 'Saturdays',
};

const ymd = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/** Who says so, for the human text: "Oklahoma, 15 O.S. §775C.4". */
export const lawLabel = (r: LawInForce) => `${r.name}, ${r.citation}`;

/** The rule's own hours on a local date: null when it bars calls that day, undefined when it sets none. */
function lawHours(r: LawInForce, y: number, m: number, d: number, wd: Weekday): { startMin: number; endMin: number } | null | undefined {
  if (ymd(y, m, d) < r.effective) return undefined;
  if (holidayOn(r.holidays, y, m, d)) return null;
  const h = r.hours?.[wd];
  if (h === null) return null;
  if (!h) return undefined;
  return { startMin: parseHhmm(h.start) ?? 0, endMin: parseHhmm(h.end) ?? 24 * 60 };
}

/** Why the rule refuses local time `t`, or undefined when it allows it. */
export function lawRefusal(r: LawInForce, t: LocalTime): string | undefined {
  const h = lawHours(r, t.year, t.month, t.day, t.weekday);
  if (h === undefined) return undefined;
  if (h === null) {
    const holiday = holidayOn(r.holidays, t.year, t.month, t.day);
    return `${lawLabel(r)}: no calls on ${holiday ? holiday.name : DAY_NAMES[t.weekday]}`;
  }
  const m = t.hour * 60 + t.minute + t.second / 60;
  if (m >= h.startMin && m < h.endMin) return undefined;
  const hours = r.hours?.[t.weekday];
  const same = Object.values(r.hours ?? {}).every((x) => x && hours && x.start === hours.start && x.end === hours.end);
  return `${lawLabel(r)}: ${hours!.start}–${hours!.end}${same ? '' : ` on ${DAY_NAMES[t.weekday]}`}`;
}

/** The rules as limits on the calling window. */
export function lawLimits(rules: readonly LawInForce[] | undefined): DayLimit[] {
  return (rules ?? [])
    .filter((r) => r.hours || r.holidays)
    .map((r) => ({
      hoursOn: (y, m, d, wd) => lawHours(r, y, m, d, wd),
      refusal: (t) => lawRefusal(r, t),
    }));
}

/** The caps of the rules in force at `now` (epoch ms). */
export function lawAttemptLimits(rules: readonly LawInForce[], now: number): AttemptLimit[] {
  const today = new Date(now).toISOString().slice(0, 10);
  return rules
    .filter((r) => r.cap && r.effective <= today)
    .map((r) => ({
      cap: r.cap!.attempts,
      windowMs: r.cap!.windowHours * 3_600_000,
      rule: `${lawLabel(r)}: ${r.cap!.attempts} calls in ${r.cap!.windowHours % 24 === 0 && r.cap!.windowHours > 24 ? `${r.cap!.windowHours / 24} days` : `${r.cap!.windowHours} hours`}`,
    }));
}

/** The longest quiet period after a conversation among the rules in force, in ms, with the rule that sets it. */
export function lawQuietAfterConversation(rules: readonly LawInForce[], now: number): { ms: number; rule: string } | undefined {
  const today = new Date(now).toISOString().slice(0, 10);
  const r = rules
    .filter((x) => x.quietAfterConversationHours && x.effective <= today)
    .sort((a, b) => b.quietAfterConversationHours! - a.quietAfterConversationHours!)[0];
  if (!r) return undefined;
  const h = r.quietAfterConversationHours!;
  return {
    ms: h * 3_600_000,
    rule: `${lawLabel(r)}: no call within ${h % 24 === 0 ? `${h / 24} days` : `${h} hours`} after a conversation`,
  };
}

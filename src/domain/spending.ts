// Guards on what follow-up calls may cost: a hard cap on attempts per call that no manual retry
// can raise, the countries and number types a follow-up may dial (toll fraud: a forged webhook or a
// changed contact number pointing at a premium-rate destination), and a daily budget of unattended
// calls per organization. Pure: the workflow, the activities and tests share them.

/** Attempts per call, automatic and manual together, when FOLLOW_UP_HARD_CAP is not set. */
export const DEFAULT_FOLLOW_UP_HARD_CAP = 10;

/** The hard cap in force: the configured one, never below the planned attempts' own maximum of 0. */
export const hardCapOf = (configured: number | undefined): number =>
  configured !== undefined && Number.isInteger(configured) && configured >= 0 ? configured : DEFAULT_FOLLOW_UP_HARD_CAP;

/** Why attempt `n` may not be scheduled, or undefined when it may. */
export function capRefusal(n: number, hardCap: number): string | undefined {
  return n > hardCap ? `attempt ${n} would exceed the hard cap of ${hardCap} follow-up attempts per call (FOLLOW_UP_HARD_CAP)` : undefined;
}

// ITU-T E.164 country calling codes are prefix-free: 1 and 7 take one digit, these take two, all
// others three.
const TWO_DIGIT = new Set([
  '20',
  '27',
  '30',
  '31',
  '32',
  '33',
  '34',
  '36',
  '39',
  '40',
  '41',
  '43',
  '44',
  '45',
  '46',
  '47',
  '48',
  '49',
  '51',
  '52',
  '53',
  '54',
  '55',
  '56',
  '57',
  '58',
  '60',
  '61',
  '62',
  '63',
  '64',
  '65',
  '66',
  '81',
  '82',
  '84',
  '86',
  '90',
  '91',
  '92',
  '93',
  '94',
  '95',
  '98',
]);

/** The country calling code of an E.164 number (`+442071234567` → `44`), or undefined. */
export function callingCodeOf(e164: string | undefined): string | undefined {
  if (!e164 || !/^\+[1-9]\d{6,14}$/.test(e164)) return undefined;
  const d = e164.slice(1);
  if (d[0] === '1' || d[0] === '7') return d[0];
  return TWO_DIGIT.has(d.slice(0, 2)) ? d.slice(0, 2) : d.slice(0, 3);
}

/** `+44`, `44`, ` 1 ` → `44`, `1`; anything else → undefined. */
export function parseCallingCode(v: string): string | undefined {
  const m = /^\s*\+?(\d{1,3})\s*$/.exec(v);
  return m ? m[1] : undefined;
}

/**
 * The codes a follow-up may dial: the organization's explicit list when it set one, else the
 * country of the dialer's own caller id. Only what the operator configured: never a number taken
 * from a webhook, whose sender chooses it.
 */
export function allowedCallingCodes(explicit: readonly string[] | undefined, dialerNumber: string | undefined): string[] {
  if (explicit && explicit.length > 0) return Array.from(new Set(explicit));
  const own = callingCodeOf(dialerNumber);
  return own ? [own] : [];
}

/** Why `to` may not be dialed under `allowed`, or undefined when it may. */
export function dialRefusal(to: string, allowed: readonly string[]): string | undefined {
  const code = callingCodeOf(to);
  if (code === undefined) return `${to} is not an international (E.164) number, so its country cannot be checked`;
  if (allowed.length === 0) {
    return `no allowed country calling codes are known for this organization (the dialer has no caller id); set them with "outbound set --allowed-countries"`;
  }
  if (!allowed.includes(code)) {
    return `toll-fraud guard: ${to} is in country calling code +${code}, outside the organization's allowed ${allowed.map((c) => `+${c}`).join(', ')}`;
  }
  return undefined;
}

/** Number types toll fraud uses, refused unless the dialer's settings opt in (`outbound set --allow-number-types`). */
export const RISKY_NUMBER_TYPES = ['premium-rate', 'shared-cost', 'uan', 'personal-number', 'international-network'] as const;
export type RiskyNumberType = (typeof RISKY_NUMBER_TYPES)[number];

/** Why a number of this type may not be dialed unattended, or undefined when it may. */
export function numberTypeRefusal(
  to: string,
  type: RiskyNumberType | undefined,
  optedIn: readonly string[] | undefined,
): string | undefined {
  if (!type || optedIn?.includes(type)) return undefined;
  return `toll-fraud guard: ${to} is a ${type} number, refused unless the dialer opts in ("outbound set --allow-number-types ${type}")`;
}

/** Unattended follow-up calls an organization may place per UTC day when its calling rules set no `dailyDialBudget`. */
export const DEFAULT_DAILY_DIAL_BUDGET = 200;

/** Why one more unattended call would exceed the day's budget, or undefined when it fits. */
export function budgetRefusal(usedWithThis: number, budget: number, day: string): string | undefined {
  if (usedWithThis <= budget) return undefined;
  return `daily dial budget: the organization's ${budget} unattended follow-up calls for ${day} (UTC) are used (calling rules: dailyDialBudget)`;
}

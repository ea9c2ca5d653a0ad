// The kind of a phone number that toll fraud abuses, from libphonenumber's full metadata (the
// default 'min' build carries no number types, so getType() is undefined for most countries).
// Node only: the placing activity uses it; the workflow bundle never loads the large metadata.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { RiskyNumberType } from '../domain/spending';

const BY_TYPE: Record<string, RiskyNumberType> = {
  PREMIUM_RATE: 'premium-rate',
  SHARED_COST: 'shared-cost',
  UAN: 'uan',
  PERSONAL_NUMBER: 'personal-number',
};

/** ITU-T international networks (satellite, global services), billed far above any country's rates. */
const INTERNATIONAL_NETWORKS = new Set(['881', '882', '883']);

/** The risky type of an E.164 number, or undefined for ordinary (or unknown) numbers. */
export function riskyNumberType(e164: string): RiskyNumberType | undefined {
  const digits = e164.replace(/^\+/, '');
  if (INTERNATIONAL_NETWORKS.has(digits.slice(0, 3))) return 'international-network';
  const type = parsePhoneNumberFromString(e164)?.getType();
  return type ? BY_TYPE[type] : undefined;
}

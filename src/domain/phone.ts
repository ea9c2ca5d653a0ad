// Phone numbers to E.164. Pure: workflows and tests import it freely.

/**
 * Normalizes a phone number to E.164 (`+` then 8 to 15 digits), or returns undefined when the
 * value is not a dialable number we can place in a country (web calls, `client:alice` SIP/Client
 * identities, `anonymous`, national numbers with a leading 0, short codes).
 *
 * - Spaces, dashes, dots, slashes and parentheses are dropped.
 * - A leading `+` is kept; a leading `00` (international prefix) becomes `+`.
 * - 10 digits with a valid North American area code become `+1…`; 11 digits starting with 1
 *   likewise. Other digit strings of 11 to 15 digits are taken as already international.
 */
export function normalizePhone(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  // Letters mean a SIP URI, client identity, extension or a placeholder, not a number.
  if (/[^\d+\s\-().\/]/.test(trimmed)) return undefined;
  const compact = trimmed.replace(/[\s\-().\/]/g, '');
  const plus = compact.startsWith('+');
  const digits = plus ? compact.slice(1) : compact;
  if (!/^\d+$/.test(digits)) return undefined; // a `+` in the middle, or nothing but punctuation

  if (plus) return e164(digits);
  if (digits.startsWith('00')) return e164(digits.slice(2));
  if (digits.length === 10) return /^[2-9]\d{2}[2-9]/.test(digits) ? `+1${digits}` : undefined;
  if (digits.length === 11 && digits.startsWith('1')) {
    return /^1[2-9]\d{2}[2-9]/.test(digits) ? `+${digits}` : undefined;
  }
  // National format (leading 0) names no country; shorter strings are extensions or short codes.
  if (digits.startsWith('0') || digits.length < 11) return undefined;
  return e164(digits);
}

function e164(digits: string): string | undefined {
  // Country codes never start with 0; E.164 allows at most 15 digits.
  if (digits.startsWith('0') || digits.length < 8 || digits.length > 15) return undefined;
  return `+${digits}`;
}

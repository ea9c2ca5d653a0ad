// Calling law as data: one entry per rule that narrows when, or how often, a person may be called,
// with its region (ISO 3166-2), the kinds of call it governs, its citation, the date it took
// effect and the public sources it was read from. docs/calling-law.md lists them and what was
// left out. Not legal advice. Pure data: the workflow bundle includes it. No Node imports.
import type { Weekday } from '../callingWindow';
import { AU_NATIONAL_HOLIDAYS, type HolidayRule, US_FEDERAL_HOLIDAYS } from './holidays';

/** What the organization's calls are for; it selects the rules. `solicitation` is the default and the strictest. */
export const CALL_PURPOSES = ['solicitation', 'informational', 'debt-collection'] as const;
export type CallPurpose = (typeof CALL_PURPOSES)[number];

export interface LawHours {
  start: string;
  end: string;
}

export interface LawRule {
  /** Stable id, e.g. `US-OK-775C.4`. */
  id: string;
  /** A country (`CA`) or a subdivision (`US-OK`), ISO 3166-2. */
  region: string;
  /** The place as people say it, for the human text. */
  name: string;
  purposes: CallPurpose[];
  /** Local hours per weekday; null: no calls that day; a day left out: this rule sets no hours that day. */
  hours?: Partial<Record<Weekday, LawHours | null>>;
  /** Days without calls. */
  holidays?: HolidayRule[];
  /** At most `attempts` calls to the person in any rolling `windowHours` (counted per contact across the organization's calls). */
  cap?: { attempts: number; windowHours: number };
  /** No call for this long after a telephone conversation with the person. */
  quietAfterConversationHours?: number;
  citation: string;
  /** YYYY-MM-DD: the rule applies to local dates from this day on. */
  effective: string;
  /** Where the facts were read (public pages found with the search tool). */
  sources: string[];
  /** What to know: scope doubts, what binds, what is approximated. */
  note?: string;
}

/** A rule as the workflow carries it in its history: without its sources and notes. */
export type LawInForce = Omit<LawRule, 'sources' | 'note'>;

/** The rule without what the decision does not read, so workflow histories stay small. */
export const inForce = ({ sources: _sources, note: _note, ...rule }: LawRule): LawInForce => rule;

const ALL: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MON_SAT: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MON_FRI: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

/** The same hours on the given days. */
function on(days: readonly Weekday[], start: string, end: string): Partial<Record<Weekday, LawHours>> {
  return Object.fromEntries(days.map((d) => [d, { start, end }]));
}

const NO_SUNDAY = { sun: null };

export const CALLING_LAW: readonly LawRule[] = [
  {
    id: 'US-TCPA-64.1200(c)(1)',
    region: 'US',
    name: 'United States',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '21:00'),
    citation: '47 CFR 64.1200(c)(1) (TCPA)',
    effective: '1992-12-20',
    sources: ['https://www.leadgen-economy.com/blog/telemarketing-calling-hours-by-state', 'https://www.dropcowboy.com/state-compliance'],
  },
  {
    id: 'US-RegF-1006.14(b)(2)',
    region: 'US',
    name: 'United States',
    purposes: ['debt-collection'],
    hours: on(ALL, '08:00', '21:00'),
    cap: { attempts: 7, windowHours: 7 * 24 },
    quietAfterConversationHours: 7 * 24,
    citation: 'Regulation F, 12 CFR 1006.14(b)(2) and 1006.6(b)(1)(i)',
    effective: '2021-11-30',
    sources: [
      'https://www.seiright.com/blog/regulation-f-ai-voice-debt-collection-7-in-7-limited-content',
      'https://www.acainternational.org/news/reg-f-question-of-the-week-are-certain-calls-excluded-from-the-presumptions-of-telephone-call-frequency/',
    ],
    note: 'The presumption counts calls per debt; this product counts per contact across the organization, the stricter reading. Calls the person asked for are not excluded.',
  },
  {
    id: 'US-FL-501.616',
    region: 'US-FL',
    name: 'Florida',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '20:00'),
    cap: { attempts: 3, windowHours: 24 },
    citation: 'Fla. Stat. §501.616(6)',
    effective: '2021-07-01',
    sources: ['https://blog.clickpointsoftware.com/federal-and-local-call-time-and-date-compliance'],
  },
  {
    id: 'US-OK-775C.4',
    region: 'US-OK',
    name: 'Oklahoma',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '20:00'),
    cap: { attempts: 3, windowHours: 24 },
    citation: '15 O.S. §775C.4',
    effective: '2022-11-01',
    sources: [
      'https://dnc.dreamhosters.com/?p=1309',
      'https://www.nolo.com/legal-encyclopedia/oklahoma-restrictions-on-telemarketers.html',
    ],
  },
  {
    id: 'US-MD-14-4502',
    region: 'US-MD',
    name: 'Maryland',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '20:00'),
    cap: { attempts: 3, windowHours: 24 },
    citation: 'Md. Code, Com. Law §14-4502 (Stop the Spam Calls Act of 2023)',
    effective: '2024-01-01',
    sources: [
      'https://www.wmar2news.com/local/law-to-prevent-spam-calls-takes-effect-first-of-the-year',
      'https://lexace.ai/us/statute/maryland/CL-14-4502',
    ],
  },
  {
    id: 'US-CT-42-288a',
    region: 'US-CT',
    name: 'Connecticut',
    purposes: ['solicitation'],
    hours: on(ALL, '09:00', '20:00'),
    citation: 'Conn. Gen. Stat. §42-288a (as amended by P.A. 23-98)',
    effective: '2023-10-01',
    sources: ['https://tcpaworld.com/2023/06/28/connecticut-rolls-out-new-telemarketing-requirements-here-is-what-you-need-to-know/'],
  },
  {
    id: 'US-WA-80.36.390',
    region: 'US-WA',
    name: 'Washington',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '20:00'),
    citation: 'RCW 80.36.390 (ESHB 1497)',
    effective: '2022-06-09',
    sources: [
      'https://centralialaw.com/new-solicitation-law/',
      'https://www.dwt.com/blogs/family-business-resource-center/2022/08/washington-tcpa-telemarketing-restrictions-law',
    ],
  },
  {
    id: 'US-AL-770-X-5-.17',
    region: 'US-AL',
    name: 'Alabama',
    purposes: ['solicitation'],
    hours: { ...on(MON_SAT, '08:00', '20:00'), ...NO_SUNDAY },
    holidays: [
      ...US_FEDERAL_HOLIDAYS.filter((h) => h.name !== 'Juneteenth'),
      { name: 'Confederate Memorial Day', month: 4, weekday: 'mon', nth: 4 },
      { name: "Jefferson Davis' Birthday", month: 6, weekday: 'mon', nth: 1 },
    ],
    citation: 'Ala. Admin. Code r. 770-X-5-.17(1)(b)',
    effective: '2024-11-27',
    sources: [
      'https://d1tvxue8o4w0fl.cloudfront.net/regulation/alabama-administrative-code/title-770-alabama-public-service-commission/chapter-770-x-5-telephone-rules/section-770-x-5-17-live-and-automated-solicitations-and-announcements',
      'https://dnc.dreamhosters.com/tag/restrictedcalldates/page/10',
    ],
    note: 'The effective date is that of the compiled text read (Register vol. 43 no. 2), not the rule’s first day. Holidays by the state calendar (Ala. Code §1-3-8) as far as the sources name them; Mardi Gras (Mobile and Baldwin counties only) is left out.',
  },
  {
    id: 'US-LA-45:811',
    region: 'US-LA',
    name: 'Louisiana',
    purposes: ['solicitation'],
    hours: { ...on(MON_SAT, '08:00', '20:00'), ...NO_SUNDAY },
    holidays: US_FEDERAL_HOLIDAYS,
    citation: 'La. R.S. 45:811 (LPSC General Order R-29617)',
    effective: '2004-07-12',
    sources: ['https://lawserver.com/?p=30183792', 'https://lpsc.louisiana.gov/DNC_Emergency'],
    note: 'The statute names state holidays; the federal ones are used (the LPSC lists which state holidays it enforces). Calls are also barred during a declared state of emergency, which no rule here can know.',
  },
  {
    id: 'US-MS-77-3-723',
    region: 'US-MS',
    name: 'Mississippi',
    purposes: ['solicitation'],
    hours: { ...on(MON_SAT, '08:00', '21:00'), ...NO_SUNDAY },
    citation: 'Miss. Code Ann. §77-3-723(1) and §77-3-603(a)',
    effective: '2003-07-01',
    sources: ['https://www.dnc.com/blog/no-more-holidays-mississippi-marketers-magnolia-state-lifts-prohibition-telemarketing-legal'],
    note: 'The holiday ban (39 Miss. Admin. Code Pt. I, R. 1:28) was repealed in 2023–2024; Sundays stay barred.',
  },
  {
    id: 'US-RI-5-61-3.6',
    region: 'US-RI',
    name: 'Rhode Island',
    purposes: ['solicitation'],
    hours: { ...on(MON_FRI, '09:00', '18:00'), sat: { start: '10:00', end: '17:00' }, ...NO_SUNDAY },
    holidays: [...US_FEDERAL_HOLIDAYS, { name: 'Victory Day', month: 8, weekday: 'mon', nth: 2 }],
    citation: 'R.I. Gen. Laws §5-61-3.6 and §5-61-2 (hours of operation)',
    effective: '1999-07-01',
    sources: [
      'http://webserver.rilin.state.ri.us/Statutes/TITLE5/5-61/5-61-3.6.HTM',
      'https://instalawyer.io/laws/rhode-island-general-laws/section-5-61-2-definitions',
    ],
    note: 'Hours of operation exclude state or federal holidays: the federal ones plus Victory Day.',
  },
  {
    id: 'US-UT-13-25a-103',
    region: 'US-UT',
    name: 'Utah',
    purposes: ['solicitation'],
    hours: { ...on(MON_SAT, '08:00', '21:00'), ...NO_SUNDAY },
    holidays: [...US_FEDERAL_HOLIDAYS, { name: 'Pioneer Day', month: 7, day: 24 }],
    citation: 'Utah Code §13-25a-103(3)',
    effective: '1996-04-29',
    sources: [
      'https://codes.findlaw.com/ut/title-13-commerce-and-trade/ut-code-sect-13-25a-103/',
      'https://www.dnc.com/holiday-alerts?page=7',
    ],
  },
  {
    id: 'US-PA-2245',
    region: 'US-PA',
    name: 'Pennsylvania',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '21:00'),
    holidays: US_FEDERAL_HOLIDAYS,
    citation: '73 P.S. §2245(a)(1) and §2245.2 (Telemarketer Registration Act, as amended by HB 318)',
    effective: '2019-12-03',
    sources: [
      'https://govt.westlaw.com/pac/Document/NE4CC77F0E9F711E9BEFE89A994168F89',
      'https://mslawgroup.com/regulatory-alert-pennsylvania-amends-telemarketing-registration-act/',
    ],
    note: 'Legal holidays: the federal ones; Pennsylvania’s own (e.g. Flag Day) are not yet in the table.',
  },
  {
    id: 'US-TX-301.051',
    region: 'US-TX',
    name: 'Texas',
    purposes: ['solicitation'],
    hours: { ...on(MON_SAT, '09:00', '21:00'), sun: { start: '12:00', end: '21:00' } },
    citation: 'Tex. Bus. & Com. Code §301.051',
    effective: '2009-04-01',
    sources: [
      'https://legalclarity.org/what-is-the-legal-time-to-call-customers-in-texas',
      'https://www.dropcowboy.com/state-compliance',
      'https://tcpaguide.org/states/texas/cold-calling',
    ],
    note: 'Sunday from noon: a state-by-state compliance reference gives 09:00–21:00 on weekdays and Saturdays, noon–21:00 on Sundays; the section text itself was not read.',
  },
  {
    id: 'US-KY-367.46955',
    region: 'US-KY',
    name: 'Kentucky',
    purposes: ['solicitation'],
    hours: on(ALL, '10:00', '21:00'),
    citation: 'KRS 367.46955',
    effective: '2000-07-14',
    sources: ['https://www.dropcowboy.com/state-compliance', 'https://docsbay.net/an-act-relating-to-telephone-solicitations'],
    note: 'Hours from a compliance vendor’s table; the subsection of KRS 367.46955 was not read in full.',
  },
  {
    id: 'CA-CRTC-UTR-III',
    region: 'CA',
    name: 'Canada',
    purposes: ['solicitation'],
    hours: { ...on(MON_FRI, '09:00', '21:30'), sat: { start: '10:00', end: '18:00' }, sun: { start: '10:00', end: '18:00' } },
    citation: 'CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing Rules)',
    effective: '2008-09-30',
    sources: ['https://crtc.gc.ca/eng/phone/telemarketing/tobligations/rules-regles.htm', 'https://www.lnnte-dncl.gc.ca/ind/ntr-nrt-eng'],
    note: 'Collection calls, surveys and market research are not telemarketing under the Rules. Provincial rules are not in the table.',
  },
  {
    id: 'AU-TRCIS-2017',
    region: 'AU',
    name: 'Australia',
    purposes: ['solicitation'],
    hours: { ...on(MON_FRI, '09:00', '20:00'), sat: { start: '09:00', end: '17:00' }, ...NO_SUNDAY },
    holidays: AU_NATIONAL_HOLIDAYS,
    citation: 'Telecommunications (Telemarketing and Research Calls) Industry Standard 2017 (ACMA), calling times',
    effective: '2017-03-30',
    sources: ['https://donotcall.gov.au/industry/industry-overview/industry-standards', 'https://packleader.net.au/topic/calling-times/'],
    note: 'Research calls have other hours; only telemarketing calls are in the table. Substitute holidays (e.g. a Monday after Christmas on a weekend) are not.',
  },
  {
    id: 'GB-PECR-guidance',
    region: 'GB',
    name: 'United Kingdom',
    purposes: ['solicitation'],
    hours: on(ALL, '08:00', '21:00'),
    citation:
      'no statutory calling hours: PECR 2003 regs. 21 and 21A (TPS, consent) and Ofcom’s persistent-misuse policy (Communications Act 2003 ss.128–131) bind; these hours are this product’s conservative default',
    effective: '2003-12-11',
    sources: ['https://publications.parliament.uk/pa/cm201314/cmselect/cmcumeds/636/63606.htm'],
    note: 'No UK statute or Ofcom rule sets hours for live marketing calls; 08:00–21:00 is a default, not law.',
  },
];

/** The rules for a contact in `regions` (e.g. `['US', 'US-OK']`) whose calls are for `purpose`. */
export function lawsFor(regions: readonly string[], purpose: CallPurpose, table: readonly LawRule[] = CALLING_LAW): LawRule[] {
  const mine = new Set(regions.map((r) => r.toUpperCase()));
  return table.filter((r) => mine.has(r.region) && r.purposes.includes(purpose));
}

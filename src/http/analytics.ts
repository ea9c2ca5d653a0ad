// Analytics API: summary, time series in the organization's time zone, per-agent figures. Read
// from the hourly rollups of src/store/analytics.ts; `read` or `admin` keys (GET routes).
import { z } from 'zod';
import { PROVIDERS } from '../domain/events';
import { DAY_MS, HOUR_MS } from '../domain/analytics';
import { EXACT_DURATIONS_PER_CELL } from '../domain/callDurations';
import { SILENT_CALL_AFTER_MS } from '../domain/stale';
import { agentsReport, summaryReport, timeseriesReport, type RangeQuery } from '../store/analytics';
import { orgTimeZone } from '../store/rollupCodec';
import type { ApiRouter } from './auth';
import type { Collections } from '../store/db';
import { HttpError } from './errors';
import { isIdentifier, parseWith } from './validate';

const isoDate = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((s) => new Date(s));

/** Range defaults: the last DEFAULT_RANGE_DAYS up to now. */
export const DEFAULT_RANGE_DAYS = 30;
/** Longest range per interval; summary and agents take the `day` one. */
export const MAX_RANGE_DAYS = { hour: 31, day: 400, week: 1_100 } as const;

const rangeFields = {
  from: isoDate.optional().describe(`Start (inclusive), ISO-8601; default: the start of the hour ${DEFAULT_RANGE_DAYS} days before \`to\``),
  to: isoDate.optional().describe('End (exclusive), ISO-8601; default: now'),
  provider: z.enum(PROVIDERS).optional(),
  agentId: z.string().refine(isIdentifier, 'expected an identifier: 1 to 200 characters, no control characters').optional(),
};
export const summaryQuery = z.object(rangeFields);
export const agentsQuery = z.object(rangeFields);
export const timeseriesQuery = z.object({
  ...rangeFields,
  interval: z
    .enum(['hour', 'day', 'week'])
    .default('day')
    .describe(
      `Bucket size in the organization's time zone; at most ${MAX_RANGE_DAYS.hour} days of hours, ${MAX_RANGE_DAYS.day} of days, ${MAX_RANGE_DAYS.week} of weeks`,
    ),
  groupBy: z.enum(['outcome', 'provider', 'agent']).default('outcome'),
});

const badRequest = (message: string) => new HttpError(400, 'Bad Request', message);

/** from/to with defaults, checked: a 400 naming the parameter. */
export function resolveRange(
  q: { from?: Date; to?: Date },
  maxDays: number,
  interval: string | undefined,
  now: number,
): { from: number; to: number } {
  const to = q.to?.getTime() ?? now;
  // From the start of an hour: the rollups then serve the whole range (see visitCells).
  const from = q.from?.getTime() ?? Math.floor((to - DEFAULT_RANGE_DAYS * DAY_MS) / HOUR_MS) * HOUR_MS;
  if (!(from < to))
    throw badRequest(`Invalid field: from (must be before to; got from=${new Date(from).toISOString()}, to=${new Date(to).toISOString()})`);
  const days = (to - from) / DAY_MS;
  if (days > maxDays) {
    const what = interval ? `interval=${interval} allows` : 'this route allows';
    throw badRequest(`Invalid field: from (from..to spans ${Math.ceil(days)} days; ${what} at most ${maxDays})`);
  }
  return { from, to };
}

/** What the analytics routes need of the app. */
export interface AnalyticsRouteDeps {
  col: Collections;
  /** The clock (tests pin it). */
  now?: () => number;
}

async function baseQuery(
  deps: AnalyticsRouteDeps,
  orgId: string,
  q: z.output<typeof summaryQuery>,
  maxDays: number,
  interval?: string,
): Promise<RangeQuery> {
  const now = deps.now?.() ?? Date.now();
  const range = resolveRange(q, maxDays, interval, now);
  return {
    ...range,
    provider: q.provider,
    agentId: q.agentId,
    timeZone: await orgTimeZone(deps.col, orgId),
    staleBefore: now - SILENT_CALL_AFTER_MS,
    now,
  };
}

export function analyticsRoutes(api: ApiRouter, deps: AnalyticsRouteDeps): void {
  api.get('/analytics/summary', async (ctx) => {
    const { orgId } = ctx.state;
    const q = parseWith(summaryQuery, ctx.query, 'Bad Request');
    ctx.body = await summaryReport(deps.col, orgId, await baseQuery(deps, orgId, q, MAX_RANGE_DAYS.day));
  });

  api.get('/analytics/timeseries', async (ctx) => {
    const { orgId } = ctx.state;
    const q = parseWith(timeseriesQuery, ctx.query, 'Bad Request');
    const base = await baseQuery(deps, orgId, q, MAX_RANGE_DAYS[q.interval], q.interval);
    ctx.body = await timeseriesReport(deps.col, orgId, { ...base, interval: q.interval, groupBy: q.groupBy });
  });

  api.get('/analytics/agents', async (ctx) => {
    const { orgId } = ctx.state;
    const q = parseWith(agentsQuery, ctx.query, 'Bad Request');
    ctx.body = await agentsReport(deps.col, orgId, await baseQuery(deps, orgId, q, MAX_RANGE_DAYS.day));
  });
}

// ---- response bodies, for the OpenAPI document (src/http/openapiSchemas.ts) ----
/** How exact a reported median is (src/domain/analytics.ts: EXACT_DURATIONS_PER_CELL, medianFromHistogram). */
const MEDIAN_TEXT =
  'Exact (the middle duration; the lower of the two middle ones for an even count) when each hour and day of the range holds at most ' +
  `${EXACT_DURATIONS_PER_CELL} calls with a duration per provider, agent and outcome; otherwise estimated from the duration ` +
  "histogram inside the bucket holding the median, off by at most that bucket's width: 5 to 15 s under a minute, at most " +
  'half the value from 1 min to 2 h; a median of 2 h or more is reported as 7200';
const rate = z.number().min(0).max(1).nullable().describe('A fraction from 0 to 1; null when nothing to divide by');
const CurrencyTotal = z.strictObject({ currency: z.string(), totalCents: z.number(), calls: z.number().int(), averageCents: z.number() });
const filtersBody = z.strictObject({ provider: z.string().nullable(), agentId: z.string().nullable() });
export const AnalyticsSummary = z.strictObject({
  from: z.string(),
  to: z.string(),
  timeZone: z.string(),
  filters: filtersBody,
  calls: z.strictObject({
    total: z.number().int(),
    finished: z.number().int(),
    answered: z.number().int().describe('Finished calls that connected: outcome completed or voicemail'),
    answerRate: rate.describe('answered / finished'),
    open: z.number().int().describe('Not finished yet'),
    stale: z
      .number()
      .int()
      .describe('Marked stale (the platform never settled them), plus open calls whose record has not changed for an hour'),
  }),
  outcomes: z.strictObject({
    completed: z.number().int(),
    voicemail: z.number().int(),
    'no-answer': z.number().int(),
    busy: z.number().int(),
    failed: z.number().int(),
    canceled: z.number().int(),
  }),
  duration: z.strictObject({
    calls: z.number().int().describe('Calls with a duration'),
    totalSec: z.number(),
    averageSec: z.number().nullable(),
    medianSec: z.number().nullable().describe(MEDIAN_TEXT),
    medianExact: z.boolean().describe('Whether medianSec is exact (else the histogram estimate, with the error above)'),
    histogram: z.array(z.strictObject({ fromSec: z.number(), toSec: z.number().nullable(), calls: z.number().int() })),
  }),
  cost: z.strictObject({
    calls: z.number().int().describe('Calls with a cost'),
    byCurrency: z.array(CurrencyTotal).describe('Totals per currency, most calls first; amounts in hundredths (US cents)'),
  }),
  success: z.strictObject({
    evaluated: z.number().int().describe('Calls whose platform analysis says successful or not'),
    successful: z.number().int(),
    rate,
  }),
  followUps: z.strictObject({
    scheduled: z.number().int().describe('Follow-up attempts planned'),
    placed: z.number().int(),
    connected: z.number().int().describe('Placed attempts that were answered'),
    movedByWindow: z.number().int().describe('Attempts the calling window moved'),
    blockedByDoNotCall: z.number().int().describe('Plans stopped because the contact is do-not-call'),
  }),
  emails: z.strictObject({ sent: z.number().int(), skipped: z.number().int(), failed: z.number().int() }),
});
export const AnalyticsTimeseries = z.strictObject({
  from: z.string(),
  to: z.string(),
  timeZone: z.string(),
  interval: z.enum(['hour', 'day', 'week']),
  groupBy: z.enum(['outcome', 'provider', 'agent']),
  filters: filtersBody,
  groups: z
    .array(z.string())
    .describe('Group keys present, in order (outcomes also `open` and `stale`; agent "" = calls without an agent)'),
  buckets: z.array(
    z.strictObject({
      start: z.string().describe('First instant (UTC); the first and last bucket are clipped to from/to'),
      end: z.string(),
      label: z.string().describe('Local date (day; the Monday for a week) or local time (hour)'),
      calls: z.number().int(),
      finished: z.number().int(),
      answered: z.number().int(),
      answerRate: rate,
      averageDurationSec: z.number().nullable(),
      cost: z.array(z.strictObject({ currency: z.string(), totalCents: z.number(), calls: z.number().int() })),
      groups: z.record(z.string(), z.number().int()),
    }),
  ),
});
export const AnalyticsAgents = z.strictObject({
  from: z.string(),
  to: z.string(),
  timeZone: z.string(),
  filters: filtersBody,
  items: z.array(
    z.strictObject({
      agentId: z.string().nullable().describe('null: calls without an agent'),
      providers: z.array(z.string()),
      calls: z.number().int(),
      finished: z.number().int(),
      answered: z.number().int(),
      answerRate: rate,
      averageDurationSec: z.number().nullable(),
      medianDurationSec: z.number().nullable().describe(MEDIAN_TEXT),
      medianDurationExact: z.boolean().describe('Whether medianDurationSec is exact'),
      success: z.strictObject({ evaluated: z.number().int(), successful: z.number().int(), rate }),
      cost: z.array(CurrencyTotal),
    }),
  ),
});

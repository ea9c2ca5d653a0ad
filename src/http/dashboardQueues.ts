// The lists the dashboard shows beside the analytics: the follow-up queue (scheduled, moved by the
// calling window, due for a person, blocked by do-not-call), stale calls, and the day's dial budget.
import { z } from 'zod';
import { localTime } from '../domain/callingWindow';
import { contactPhone } from '../domain/contact';
import { SILENT_CALL_AFTER_MS } from '../domain/stale';
import { contactZones, getComplianceSettings } from '../store/compliance';
import { listFollowUpCalls } from '../store/followUps';
import { dialBudgetUsed, utcDay } from '../store/dialBudget';
import { quietestOpenCalls } from '../store/calls';
import { scheduledFollowUpCalls } from '../store/followUpQueue';
import type { ApiRouter } from './auth';
import type { DashboardRouteDeps } from './dashboardSignIn';

const LIST_LIMIT = 50;
const pad = (n: number) => String(n).padStart(2, '0');

/** The lists the dashboard shows beside the analytics: follow-up queue and stale calls. */
export function dashboardApiRoutes(api: ApiRouter, deps: DashboardRouteDeps): void {
  api.get('/dashboard/queues', async (ctx) => {
    const { orgId } = ctx.state;
    const now = Date.now();
    // Each list is an equality on a small set or a short index range: on FerretDB a filter it cannot
    // push down (a range on another field, $exists, $regex) reads every call of the organization.
    // The scheduled calls come day by day from their queue keys (src/store/followUpQueue.ts).
    const [scheduledDocs, due, canceled, open, dialed, rules] = await Promise.all([
      scheduledFollowUpCalls(deps.col, orgId, LIST_LIMIT),
      listFollowUpCalls(deps.col, orgId, { status: 'due' }, LIST_LIMIT),
      listFollowUpCalls(deps.col, orgId, { status: 'canceled' }, 4 * LIST_LIMIT),
      // Calls marked stale keep their open status, so both kinds of stale calls are among the open ones.
      quietestOpenCalls(deps.col, orgId, 4 * LIST_LIMIT),
      dialBudgetUsed(deps.col, orgId, new Date(now)),
      getComplianceSettings(deps.col, orgId),
    ]);
    // Read once for every contact whose zone falls back to the organization's.
    const settings = Promise.resolve(rules);
    const scheduled = await Promise.all(
      scheduledDocs.map(async (d) => {
        const plan = d.followUp as { attempt?: number; maxAttempts?: number; window?: string; cap?: string } | undefined;
        const at = d.nextFollowUpAt ?? new Date(now);
        // The zone the calling rules use for this person: the contact's own, else the number's, else the organization's.
        const context = await contactZones(deps.col, { orgId, contactId: d.contactId, phone: contactPhone(d) }, settings);
        const zone = context.zones[0];
        const t = localTime(at.getTime(), zone);
        return {
          callId: d.callId,
          contactId: d.contactId,
          to: contactPhone(d),
          attempt: plan?.attempt,
          maxAttempts: plan?.maxAttempts,
          nextFollowUpAt: at.toISOString(),
          zone,
          zoneSource: context.zoneSource,
          localTime: `${t.weekday[0].toUpperCase()}${t.weekday.slice(1)} ${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`,
          ...(plan?.cap || plan?.window ? { window: [plan.cap, plan.window].filter(Boolean).join('; ') } : {}),
        };
      }),
    );
    const silentSince = now - SILENT_CALL_AFTER_MS;
    const stale = open
      .filter((d) => d.stale || d.updatedAt.getTime() < silentSince)
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
      .slice(0, LIST_LIMIT)
      .map((d) => ({
        callId: d.callId,
        status: d.status,
        provider: d.provider,
        contactId: d.contactId,
        updatedAt: d.updatedAt.toISOString(),
        reason: d.stale
          ? ((d.stale as { reason?: string }).reason ?? 'marked stale')
          : `no event for ${Math.round((now - d.updatedAt.getTime()) / 60_000)} min`,
      }));
    ctx.body = {
      scheduled,
      moved: scheduled.filter((s) => s.window),
      due: due.map((f) => ({
        callId: f.originalCallId,
        attempt: f.attempt,
        contactId: f.contactId,
        to: f.to,
        reason: f.reason,
        dueAt: (f.dueAt ?? f.updatedAt).toISOString(),
      })),
      blocked: canceled
        .filter((f) => f.reason?.includes('do-not-call'))
        .slice(0, LIST_LIMIT)
        .map((f) => ({ callId: f.originalCallId, contactId: f.contactId, reason: f.reason ?? '', at: f.updatedAt.toISOString() })),
      stale,
      dialBudget: {
        day: utcDay(new Date(now)),
        used: dialed,
        budget: rules.dailyDialBudget,
        refused: due.filter((f) => f.reason?.startsWith('daily dial budget') && f.dueAt && utcDay(f.dueAt) === utcDay(new Date(now)))
          .length,
      },
    };
  });
}

const isoTime = z.string().describe('ISO-8601 time');
const scheduledItem = z.looseObject({
  callId: z.string(),
  contactId: z.string().optional(),
  to: z.string().optional(),
  attempt: z.number().int().optional(),
  maxAttempts: z.number().int().optional(),
  nextFollowUpAt: isoTime,
  zone: z.string().describe("The contact's time zone as the calling rules find it"),
  zoneSource: z.enum(['contact', 'phone', 'organization']),
  localTime: z.string().describe("The follow-up's time on the contact's clock: `Sat 2026-11-28 08:00`"),
  window: z.string().optional().describe('What moved it, with the rule: the calling window or law, or a cap'),
});
export const DashboardQueues = z.strictObject({
  scheduled: z.array(scheduledItem).describe('Follow-up calls scheduled, soonest first (at most 50)'),
  moved: z.array(scheduledItem).describe('Those of them the calling window moved'),
  due: z
    .array(
      z.looseObject({
        callId: z.string(),
        attempt: z.number().int(),
        contactId: z.string().optional(),
        to: z.string().optional(),
        reason: z.string().optional(),
        dueAt: isoTime,
      }),
    )
    .describe('Follow-up attempts waiting for a person'),
  blocked: z
    .array(z.looseObject({ callId: z.string(), contactId: z.string().optional(), reason: z.string(), at: isoTime }))
    .describe('Follow-ups canceled by do-not-call'),
  stale: z
    .array(
      z.looseObject({
        callId: z.string(),
        status: z.string(),
        provider: z.string(),
        contactId: z.string().optional(),
        updatedAt: isoTime,
        reason: z.string(),
      }),
    )
    .describe('Calls marked stale, and unfinished calls without an event for an hour'),
  dialBudget: z
    .strictObject({
      day: z.string().describe('The UTC day, YYYY-MM-DD'),
      used: z.number().int().describe('Unattended follow-up calls counted against the budget that day'),
      budget: z.number().int().describe("The calling rules' dailyDialBudget"),
      refused: z.number().int().describe('Attempts due that day because the budget was used (among the 50 listed)'),
    })
    .describe("The organization's daily dial budget of unattended follow-up calls"),
});

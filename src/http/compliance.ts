// Calling compliance over HTTP: the organization's calling rules (window, default time zone,
// per-contact cap, opt-out field) and its do-not-call list. Marking a number or a contact
// do-not-call also cancels the follow-ups pending for it, with the reason.
import { z } from 'zod';
import { WEEKDAYS } from '../domain/callingWindow';
import { CALL_PURPOSES } from '../domain/callingLaw/rules';
import { normalizePhone } from '../domain/phone';
import {
  type ComplianceSettings,
  addDoNotCallNumbers,
  getComplianceSettings,
  listDoNotCallNumbers,
  pendingFollowUpWorkflows,
  pendingFollowUpWorkflowsOfNumbers,
  removeDoNotCallNumber,
  setComplianceSettings,
  settingsProblems,
} from '../store/compliance';
import type { Collections } from '../store/db';
import type { CallControl } from '../temporal/control';
import type { ApiRouter } from './auth';
import { HttpError, notFound } from './errors';
import { readJson } from './json';
import { parseWith } from './validate';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM (24 h), e.g. 08:00');
const days = z.array(z.enum(WEEKDAYS)).min(1);
const callingWindow = z.strictObject({
  start: hhmm,
  end: hhmm,
  days,
  regions: z
    .array(
      z.strictObject({
        region: z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'a country (US) or a subdivision (US-FL)'),
        start: hhmm.optional(),
        end: hhmm.optional(),
        days: days.optional(),
      }),
    )
    .max(200),
});
/** Each field replaces the stored one; fields left out keep their value. */
export const callingRulesBody = z.strictObject({
  callingWindow: callingWindow.optional(),
  defaultTimeZone: z.string().min(1).max(64).optional(),
  contactCapPer24h: z.number().int().min(0).max(100).optional(),
  /** What the calls are for: selects the calling-law rules; `solicitation` (the default) is the strictest. */
  purpose: z.enum(CALL_PURPOSES).optional(),
  optOutField: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, '1 to 64 letters, digits, _ . or -')
    .optional(),
  dailyDialBudget: z.number().int().min(0).max(100_000).optional(),
});

export const phoneField = z.string().transform((s, ctx) => {
  const p = normalizePhone(s);
  if (!p) {
    ctx.addIssue({ code: 'custom', message: 'expected a phone number, E.164 like +14155551234' });
    return z.NEVER;
  }
  return p;
});
const reason = z.string().trim().min(1).max(500);
/** One number (`phone`, `reason`) or many (`numbers: [{phone, reason}]`). */
export const doNotCallBody = z
  .strictObject({
    phone: phoneField.optional(),
    reason: reason.optional(),
    numbers: z
      .array(z.strictObject({ phone: phoneField, reason: reason.optional() }))
      .min(1)
      .max(10_000)
      .optional(),
  })
  .refine((b) => (b.phone === undefined) !== (b.numbers === undefined), {
    message: 'give exactly one of phone or numbers',
    path: ['phone'],
  });
export const doNotCallListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * Asks each call workflow with a follow-up pending for this person to cancel it, with the reason.
 * Returns the workflows that canceled; one that refuses (nothing pending any more) or has closed
 * is skipped: the check at placing time stops it anyway.
 */
export async function cancelPendingFor(
  col: Collections,
  control: CallControl | undefined,
  orgId: string,
  ref: { contactId?: string; phone?: string },
  why: string,
): Promise<string[]> {
  if (!control) return [];
  const done: string[] = [];
  for (const wid of await pendingFollowUpWorkflows(col, orgId, ref)) {
    const r = await control
      .control(wid, { type: 'cancel', reason: `the contact is on the do-not-call list (${why})`, by: 'do-not-call' })
      .catch(() => undefined);
    if (r?.kind === 'done') done.push(wid);
  }
  return done;
}

/** cancelPendingFor for many numbers at once (an import): one read of the pending calls, one cancel per workflow. */
async function cancelPendingForNumbers(
  col: Collections,
  control: CallControl | undefined,
  orgId: string,
  entries: { phone: string; reason?: string }[],
): Promise<string[]> {
  if (!control) return [];
  const reasons = new Map(entries.map((e) => [e.phone, e.reason ?? 'on the do-not-call list']));
  const done: string[] = [];
  for (const [wid, phone] of await pendingFollowUpWorkflowsOfNumbers(col, orgId, new Set(reasons.keys()))) {
    const r = await control
      .control(wid, { type: 'cancel', reason: `the contact is on the do-not-call list (list: ${reasons.get(phone)})`, by: 'do-not-call' })
      .catch(() => undefined);
    if (r?.kind === 'done') done.push(wid);
  }
  return done;
}

/** The part of the app's dependencies the compliance and contact routes use. */
export interface ComplianceRouteDeps {
  col: Collections;
  bodyLimitBytes: number;
  /** Cancels pending follow-ups of a number or contact put on the do-not-call list. */
  control?: CallControl;
}

export function complianceRoutes(api: ApiRouter, deps: ComplianceRouteDeps): void {
  api.get('/settings/calling-rules', async (ctx) => {
    const { orgId } = ctx.state;
    ctx.body = await getComplianceSettings(deps.col, orgId);
  });

  api.put('/settings/calling-rules', async (ctx) => {
    const { orgId } = ctx.state;
    const input = parseWith(callingRulesBody, await readJson(ctx, deps.bodyLimitBytes), 'Bad Request');
    const next: ComplianceSettings = { ...(await getComplianceSettings(deps.col, orgId)), ...input };
    const problems = settingsProblems(next);
    if (problems.length > 0) throw new HttpError(400, 'Bad Request', `Invalid field: ${problems[0]}`);
    if (!(await setComplianceSettings(deps.col, orgId, next))) throw notFound(`Organization not found: ${orgId}`);
    ctx.body = next;
  });

  api.get('/do-not-call', async (ctx) => {
    const { orgId } = ctx.state;
    const q = parseWith(doNotCallListQuery, ctx.query, 'Bad Request');
    const page = await listDoNotCallNumbers(deps.col, orgId, q);
    ctx.body = { ...page, limit: q.limit, offset: q.offset };
  });

  api.post('/do-not-call', async (ctx) => {
    const { orgId } = ctx.state;
    const b = parseWith(doNotCallBody, await readJson(ctx, deps.bodyLimitBytes), 'Bad Request');
    const entries = b.numbers ?? [{ phone: b.phone!, reason: b.reason }];
    const added = await addDoNotCallNumbers(deps.col, orgId, entries, 'list');
    const canceled = await cancelPendingForNumbers(deps.col, deps.control, orgId, entries);
    ctx.status = 201;
    ctx.body = { added, received: entries.length, canceledFollowUps: canceled };
  });

  api.delete('/do-not-call/:phone', async (ctx) => {
    const { orgId } = ctx.state;
    const phone = normalizePhone(ctx.params.phone);
    if (!phone) throw new HttpError(400, 'Bad Request', 'Invalid path parameter: phone (expected E.164 like +14155551234)');
    if (!(await removeDoNotCallNumber(deps.col, orgId, phone))) throw notFound(`Not on the do-not-call list: ${phone}`);
    ctx.body = { removed: phone };
  });
}

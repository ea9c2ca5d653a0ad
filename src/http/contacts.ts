// Contacts over HTTP: read, create, and edit (name, email, phone, timezone), so a person can
// complete a contact that the webhooks created from a phone number.
import { z } from 'zod';
import { normalizePhone } from '../domain/phone';
import { createContact, getContact, updateContact } from '../store/contacts';
import { clearContactDoNotCall, contactDoNotCall, getComplianceSettings, markContactDoNotCall } from '../store/compliance';
import { loadContactGate } from '../store/contactGate';
import { gateSummary } from '../domain/contactCaps';
import { type ComplianceRouteDeps, cancelPendingFor } from './compliance';
import type { ApiRouter } from './auth';
import { HttpError, notFound } from './errors';
import { parseWith, pathId } from './validate';
import { contactView } from './views';
import { readJson } from './json';

const phone = z.string().transform((s, ctx) => {
  const p = normalizePhone(s);
  if (!p) {
    ctx.addIssue({ code: 'custom', message: 'expected a phone number, E.164 like +14155551234' });
    return z.NEVER;
  }
  return p;
});
const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone like America/New_York');

const fields = {
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'no control characters'),
  email: z.email(),
  phone,
  timezone,
  /** Where the person lives (ISO 3166-2): that region's calling law applies too. */
  region: z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'a country (US) or a subdivision (US-OK), ISO 3166-2'),
};
export const createBody = z
  .strictObject({
    contactId: z
      .string()
      .regex(/^[^\s:]{1,200}$/, 'no spaces or colons')
      .optional(),
    ...fields,
  })
  .partial({ name: true, email: true, phone: true, timezone: true, region: true });
/** `doNotCall: {reason}` marks the contact do-not-call (its pending follow-ups are canceled); `null` clears the mark. */
export const patchBody = z
  .strictObject({ ...fields, doNotCall: z.strictObject({ reason: z.string().trim().min(1).max(500) }).nullable() })
  .partial();

export function contactRoutes(api: ApiRouter, deps: ComplianceRouteDeps): void {
  api.get('/contacts/:contactId', async (ctx) => {
    const { orgId } = ctx.state;
    const doc = await getContact(deps.col, orgId, pathId(ctx.params.contactId, 'contactId'));
    if (!doc) throw notFound(`Contact not found: ${ctx.params.contactId}`);
    const [dnc, gate, rules] = await Promise.all([
      contactDoNotCall(deps.col, orgId, doc.contactId),
      loadContactGate(deps.col, orgId, doc.contactId),
      getComplianceSettings(deps.col, orgId),
    ]);
    // The per-person follow-up rules as the contact's workflow last stored them (none until a follow-up was planned).
    const followUps = gate.rev > 0 ? gateSummary(gate, rules.contactCapPer24h, Date.now()) : undefined;
    ctx.body = { ...contactView(doc), ...(dnc && { doNotCall: dnc }), ...(followUps && { followUps }) };
  });

  api.post('/contacts', async (ctx) => {
    const { orgId } = ctx.state;
    const input = parseWith(createBody, await readJson(ctx, deps.bodyLimitBytes), 'Bad Request');
    const doc = await createContact(deps.col, orgId, input);
    if (doc === 'exists') throw new HttpError(409, 'Conflict', `Contact already exists: ${input.contactId}`);
    ctx.status = 201;
    ctx.body = contactView(doc);
  });

  api.patch('/contacts/:contactId', async (ctx) => {
    const { orgId } = ctx.state;
    const contactId = pathId(ctx.params.contactId, 'contactId');
    const { doNotCall, ...input } = parseWith(patchBody, await readJson(ctx, deps.bodyLimitBytes), 'Bad Request');
    const doc = await updateContact(deps.col, orgId, contactId, input);
    if (!doc) throw notFound(`Contact not found: ${ctx.params.contactId}`);
    let canceledFollowUps: string[] | undefined;
    if (doNotCall) {
      await markContactDoNotCall(deps.col, orgId, contactId, { reason: doNotCall.reason, source: 'contact' });
      canceledFollowUps = await cancelPendingFor(
        deps.col,
        deps.control,
        orgId,
        { contactId, phone: doc.phone },
        `contact: ${doNotCall.reason}`,
      );
    } else if (doNotCall === null) {
      await clearContactDoNotCall(deps.col, orgId, contactId);
    }
    const dnc = await contactDoNotCall(deps.col, orgId, contactId);
    ctx.body = { ...contactView(doc), ...(dnc && { doNotCall: dnc }), ...(canceledFollowUps && { canceledFollowUps }) };
  });
}

// Contacts over HTTP: read, create, and edit (name, email, phone, timezone), so a person can
// complete a contact that the webhooks created from a phone number.
import type { Router } from '@koa/router';
import { z } from 'zod';
import { normalizePhone } from '../domain/phone';
import { createContact, getContact, updateContact } from '../store/contacts';
import type { AppDeps } from './app';
import type { AuthState } from './auth';
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
  name: z.string().trim().min(1).max(200).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'no control characters'),
  email: z.email(),
  phone,
  timezone,
};
export const createBody = z.strictObject({ contactId: z.string().regex(/^[^\s:]{1,200}$/, 'no spaces or colons').optional(), ...fields }).partial({ name: true, email: true, phone: true, timezone: true });
export const patchBody = z.strictObject(fields).partial();

export function contactRoutes(api: Router, deps: AppDeps): void {
  api.get('/contacts/:contactId', async (ctx) => {
    const { orgId } = ctx.state as AuthState;
    const doc = await getContact(deps.col, orgId, pathId(ctx.params.contactId, 'contactId'));
    if (!doc) throw notFound(`Contact not found: ${ctx.params.contactId}`);
    ctx.body = contactView(doc);
  });

  api.post('/contacts', async (ctx) => {
    const { orgId } = ctx.state as AuthState;
    const input = parseWith(createBody, await readJson(ctx, deps.bodyLimitBytes), 'Bad Request');
    const doc = await createContact(deps.col, orgId, input);
    if (doc === 'exists') throw new HttpError(409, 'Conflict', `Contact already exists: ${input.contactId}`);
    ctx.status = 201;
    ctx.body = contactView(doc);
  });

  api.patch('/contacts/:contactId', async (ctx) => {
    const { orgId } = ctx.state as AuthState;
    const contactId = pathId(ctx.params.contactId, 'contactId');
    const input = parseWith(patchBody, await readJson(ctx, deps.bodyLimitBytes), 'Bad Request');
    const doc = await updateContact(deps.col, orgId, contactId, input);
    if (!doc) throw notFound(`Contact not found: ${ctx.params.contactId}`);
    ctx.body = contactView(doc);
  });
}

// Contacts of an organization, the phone index that finds them, and their call figures.
// Every operation here is by _id: its cost does not grow with the organization's history.
import { createHash, randomBytes } from 'node:crypto';
import { type ContactFigures, type CountedCall, countCall, pickFigures } from '../domain/contactFigures';
import { type Collections, type ContactDoc, docId, isDuplicateKey } from './db';

export const newContactId = () => `contact_${randomBytes(6).toString('hex')}`;

/** Deterministic id for a contact created from a phone number, so concurrent creators agree. */
const contactIdForPhone = (phone: string) => `contact_${createHash('sha256').update(phone).digest('hex').slice(0, 12)}`;

/** The contact with its call figures (kept in their own document, see ContactStatsDoc). */
export async function getContact(col: Collections, orgId: string, contactId: string): Promise<(ContactDoc & ContactFigures) | null> {
  const [doc, stats] = await Promise.all([
    col.contacts.findOne({ _id: docId(orgId, contactId), orgId }),
    col.contactStats.findOne({ _id: docId(orgId, contactId), orgId }),
  ]);
  return doc && { ...doc, ...pickFigures(stats) };
}

/** The contact's record without its call figures: one read, for who to write to. */
export async function getContactRecord(col: Collections, orgId: string, contactId: string): Promise<ContactDoc | null> {
  return col.contacts.findOne({ _id: docId(orgId, contactId), orgId });
}

const blank = (orgId: string, contactId: string, now: Date): ContactDoc => ({
  _id: docId(orgId, contactId),
  orgId,
  contactId,
  createdAt: now,
  updatedAt: now,
});

/** Creates the contact unless it exists; a read first, so the common case leaves no failed insert in the database's log. */
async function ensureContact(col: Collections, doc: ContactDoc): Promise<void> {
  if (await col.contacts.findOne({ _id: doc._id, orgId: doc.orgId }, { projection: { _id: 1 } })) return;
  await insertQuietly(() => col.contacts.insertOne(doc));
}

/** Inserts unless it exists: an insert with a unique _id is atomic on MongoDB and FerretDB alike. */
async function insertQuietly<T>(insert: () => Promise<T>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Points a phone number at a contact unless it already points at one; returns the owner. */
async function claimPhone(col: Collections, orgId: string, phone: string, contactId: string): Promise<string> {
  const _id = docId(orgId, phone);
  if (await insertQuietly(() => col.contactPhones.insertOne({ _id, orgId, phone, contactId, createdAt: new Date() }))) return contactId;
  const owner = await col.contactPhones.findOne({ _id, orgId });
  return owner?.contactId ?? contactId;
}

/**
 * The contact a call belongs to. An explicit contactId wins (created on first sight); otherwise
 * the organization's contact with that phone number, created when there is none. The first
 * contact to claim a number keeps it.
 */
export async function resolveContact(
  col: Collections,
  orgId: string,
  ref: { contactId?: string; phone?: string },
): Promise<string | undefined> {
  const now = new Date();
  if (ref.contactId) {
    await ensureContact(col, { ...blank(orgId, ref.contactId, now), ...(ref.phone ? { phone: ref.phone } : {}) });
    return ref.contactId;
  }
  if (!ref.phone) return undefined;
  const known = await col.contactPhones.findOne({ _id: docId(orgId, ref.phone), orgId });
  if (known) return known.contactId;
  const contactId = await claimPhone(col, orgId, ref.phone, contactIdForPhone(ref.phone));
  await ensureContact(col, { ...blank(orgId, contactId, now), phone: ref.phone });
  return contactId;
}

export async function loadContactFigures(col: Collections, orgId: string, contactId: string): Promise<ContactFigures> {
  return pickFigures(await col.contactStats.findOne({ _id: docId(orgId, contactId), orgId }));
}

/**
 * Counts a batch of calls on a contact and stores the figures: called by the contact's workflow,
 * the figures' one writer. Each counted call is one fact with a unique _id and the sequence
 * number it got, so a retry of this same batch (the worker died after some inserts) recognises
 * its own facts by their number and counts them, while a call counted in an earlier batch is
 * recognised as a duplicate. Idempotent for the same input.
 */
export async function countContactCalls(
  col: Collections,
  orgId: string,
  contactId: string,
  figures: ContactFigures,
  calls: CountedCall[],
): Promise<{ figures: ContactFigures; counted: string[] }> {
  let f = figures;
  const counted: string[] = [];
  for (const call of calls) {
    const seq = f.callCount + 1;
    const _id = `${orgId}:${contactId}:${call.callId}`;
    const fact = { _id, orgId, contactId, callId: call.callId, date: call.date, durationSec: call.durationSec, seq, countedAt: new Date() };
    const inserted = await insertQuietly(() => col.contactCalls.insertOne(fact));
    const mine = inserted || (await col.contactCalls.findOne({ _id, orgId }, { projection: { seq: 1 } }))?.seq === seq;
    if (!mine) continue;
    f = countCall(f, call);
    counted.push(call.callId);
  }
  if (counted.length > 0) {
    // A contact known only from a call's metadata is created with its first counted call.
    await ensureContact(col, blank(orgId, contactId, new Date()));
    await col.contactStats.updateOne(
      { _id: docId(orgId, contactId), orgId },
      {
        $set: { ...f, orgId, contactId, updatedAt: new Date() },
        ...(f.lastCallDuration === undefined ? { $unset: { lastCallDuration: '' } } : {}),
      },
      { upsert: true },
    );
  }
  return { figures: f, counted };
}

export interface ContactInput {
  name?: string;
  email?: string;
  phone?: string;
  timezone?: string;
  /** ISO 3166-2 (`US-OK`): where the person lives; its calling law applies besides the number's. */
  region?: string;
}

export async function createContact(
  col: Collections,
  orgId: string,
  input: ContactInput & { contactId?: string },
): Promise<(ContactDoc & ContactFigures) | 'exists'> {
  const contactId = input.contactId ?? newContactId();
  const doc = blank(orgId, contactId, new Date());
  for (const k of ['name', 'email', 'phone', 'timezone', 'region'] as const) if (input[k] !== undefined) doc[k] = input[k];
  if (!(await insertQuietly(() => col.contacts.insertOne(doc)))) return 'exists';
  if (doc.phone) await claimPhone(col, orgId, doc.phone, contactId);
  return { ...doc, ...(await loadContactFigures(col, orgId, contactId)) };
}

export async function updateContact(
  col: Collections,
  orgId: string,
  contactId: string,
  input: ContactInput,
): Promise<(ContactDoc & ContactFigures) | null> {
  const set: Record<string, unknown> = { updatedAt: new Date() };
  for (const k of ['name', 'email', 'phone', 'timezone', 'region'] as const) if (input[k] !== undefined) set[k] = input[k];
  const doc = await col.contacts.findOneAndUpdate({ _id: docId(orgId, contactId), orgId }, { $set: set }, { returnDocument: 'after' });
  if (!doc) return null;
  if (input.phone) await claimPhone(col, orgId, input.phone, contactId);
  return { ...doc, ...(await loadContactFigures(col, orgId, contactId)) };
}

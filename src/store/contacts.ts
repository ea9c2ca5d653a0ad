// Contacts of an organization, and the once-per-call count of calls on them.
import { createHash, randomBytes } from 'node:crypto';
import { type Collections, type ContactDoc, docId, isDuplicateKey } from './db';

export type ContactView = Omit<ContactDoc, '_id' | 'countedCallIds'>;

export const toContactView = ({ _id, countedCallIds, ...rest }: ContactDoc): ContactView => rest;

export const newContactId = () => `contact_${randomBytes(6).toString('hex')}`;

/** Deterministic id for a contact created from a phone number, so concurrent creators agree. */
const contactIdForPhone = (phone: string) => `contact_${createHash('sha256').update(phone).digest('hex').slice(0, 12)}`;

export async function getContact(col: Collections, orgId: string, contactId: string): Promise<ContactDoc | null> {
  return col.contacts.findOne({ _id: docId(orgId, contactId) });
}

const blank = (orgId: string, contactId: string, now: Date) => ({ orgId, contactId, callCount: 0, countedCallIds: [] as string[], createdAt: now });

/**
 * The contact a call belongs to. An explicit contactId wins (created on first sight); otherwise
 * the organization's contact with that phone number, created when there is none.
 */
export async function resolveContact(col: Collections, orgId: string, ref: { contactId?: string; phone?: string }): Promise<string | undefined> {
  const now = new Date();
  if (ref.contactId) {
    await upsertQuietly(col, { _id: docId(orgId, ref.contactId) }, { $setOnInsert: { ...blank(orgId, ref.contactId, now), phone: ref.phone, updatedAt: now } });
    return ref.contactId;
  }
  if (!ref.phone) return undefined;
  const existing = await col.contacts.findOne({ orgId, phone: ref.phone }, { sort: { createdAt: 1 }, projection: { contactId: 1 } });
  if (existing) return existing.contactId;
  const contactId = contactIdForPhone(ref.phone);
  await upsertQuietly(col, { _id: docId(orgId, contactId) }, { $setOnInsert: { ...blank(orgId, contactId, now), phone: ref.phone, updatedAt: now } });
  return contactId;
}

async function upsertQuietly(col: Collections, filter: { _id: string }, update: object) {
  try {
    await col.contacts.updateOne(filter, update, { upsert: true });
  } catch (err) {
    // Two callers raced to create the same contact: the other one won, which is the same result.
    if (!isDuplicateKey(err)) throw err;
  }
}

export interface CallCount {
  callId: string;
  /** ISO time of the call (end, else start, else when we learnt of it). */
  date: string;
  durationSec?: number;
}

/**
 * Counts a call on a contact exactly once. The check (`countedCallIds` does not hold the call)
 * and the increment are one atomic update; a second attempt matches nothing, tries to insert,
 * collides on _id, and is reported as already counted.
 */
export async function countCallOnContact(col: Collections, orgId: string, contactId: string, c: CallCount): Promise<'counted' | 'already-counted'> {
  const now = new Date();
  const set: Record<string, unknown> = { lastCallDate: c.date, lastCallId: c.callId, updatedAt: now };
  if (c.durationSec !== undefined) set.lastCallDuration = c.durationSec;
  try {
    const r = await col.contacts.updateOne(
      { _id: docId(orgId, contactId), countedCallIds: { $ne: c.callId } },
      { $inc: { callCount: 1 }, $set: set, $push: { countedCallIds: c.callId }, $setOnInsert: { orgId, contactId, createdAt: now } },
      { upsert: true },
    );
    return r.modifiedCount + r.upsertedCount === 1 ? 'counted' : 'already-counted';
  } catch (err) {
    if (isDuplicateKey(err)) return 'already-counted';
    throw err;
  }
}

export interface ContactInput {
  name?: string;
  email?: string;
  phone?: string;
  timezone?: string;
}

export async function createContact(col: Collections, orgId: string, input: ContactInput & { contactId?: string }): Promise<ContactDoc | 'exists'> {
  const now = new Date();
  const contactId = input.contactId ?? newContactId();
  const doc: ContactDoc = { _id: docId(orgId, contactId), ...blank(orgId, contactId, now), updatedAt: now };
  for (const k of ['name', 'email', 'phone', 'timezone'] as const) if (input[k] !== undefined) doc[k] = input[k];
  try {
    await col.contacts.insertOne(doc);
    return doc;
  } catch (err) {
    if (isDuplicateKey(err)) return 'exists';
    throw err;
  }
}

export async function updateContact(col: Collections, orgId: string, contactId: string, input: ContactInput): Promise<ContactDoc | null> {
  const set: Record<string, unknown> = { updatedAt: new Date() };
  for (const k of ['name', 'email', 'phone', 'timezone'] as const) if (input[k] !== undefined) set[k] = input[k];
  return col.contacts.findOneAndUpdate({ _id: docId(orgId, contactId) }, { $set: set }, { returnDocument: 'after' });
}

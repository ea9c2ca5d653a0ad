// Contacts of an organization, and the once-per-call count of calls on them.
import { createHash, randomBytes } from 'node:crypto';
import { type Collections, type ContactDoc, docId, isDuplicateKey } from './db';

export const newContactId = () => `contact_${randomBytes(6).toString('hex')}`;

/** Deterministic id for a contact created from a phone number, so concurrent creators agree. */
const contactIdForPhone = (phone: string) => `contact_${createHash('sha256').update(phone).digest('hex').slice(0, 12)}`;

export async function getContact(col: Collections, orgId: string, contactId: string): Promise<ContactDoc | null> {
  return col.contacts.findOne({ _id: docId(orgId, contactId) });
}

const blank = (orgId: string, contactId: string, now: Date) => ({ orgId, contactId, callCount: 0, createdAt: now });

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
 * Counts a call on a contact exactly once, and keeps the contact's last call date, call count and
 * last duration true.
 *
 * The count is not an `$inc`: FerretDB (the local stand-in) applies concurrent updates of one
 * document as read-modify-write and loses some. Instead each counted call is one insert with a
 * unique _id (atomic on both MongoDB and FerretDB: the exactly-once key), and the contact's
 * figures are derived from those facts. A writer that may have raced re-derives until what it
 * wrote matches the facts, so the last writer always leaves them right. A retry after a crash
 * between the insert and the derivation finds the fact and derives again.
 */
export async function countCallOnContact(col: Collections, orgId: string, contactId: string, c: CallCount): Promise<'counted' | 'already-counted'> {
  let result: 'counted' | 'already-counted' = 'counted';
  try {
    await col.contactCalls.insertOne({
      _id: `${orgId}:${contactId}:${c.callId}`, orgId, contactId, callId: c.callId, date: c.date, durationSec: c.durationSec, countedAt: new Date(),
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    result = 'already-counted';
  }
  await deriveCallFigures(col, orgId, contactId);
  return result;
}

async function deriveCallFigures(col: Collections, orgId: string, contactId: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const facts = { orgId, contactId };
    const [callCount, last] = await Promise.all([
      col.contactCalls.countDocuments(facts),
      col.contactCalls.findOne(facts, { sort: { date: -1, callId: -1 } }),
    ]);
    const now = new Date();
    const set: Record<string, unknown> = { callCount, updatedAt: now };
    const unset: Record<string, ''> = {};
    if (last) {
      set.lastCallDate = last.date;
      set.lastCallId = last.callId;
      if (last.durationSec !== undefined) set.lastCallDuration = last.durationSec;
      else unset.lastCallDuration = '';
    }
    await upsertQuietly(col, { _id: docId(orgId, contactId) }, {
      $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}), $setOnInsert: { orgId, contactId, createdAt: now },
    });
    const written = await col.contacts.findOne({ _id: docId(orgId, contactId) }, { projection: { callCount: 1, lastCallId: 1 } });
    const settled = (await col.contactCalls.countDocuments(facts)) === callCount;
    if (settled && written?.callCount === callCount && written?.lastCallId === last?.callId) return;
  }
  throw new Error(`contact ${contactId}: call figures kept changing while being derived; the activity will retry`);
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

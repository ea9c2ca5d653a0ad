// The per-person follow-up state of a contact (attempts in the last 24 hours, the plan running),
// stored so a new run of the contact's workflow continues from it after the last one closed when
// idle. One document per contact; its only writer is the contact's workflow, one write at a time.
import { type ContactGateState, emptyGate } from '../domain/contactCaps';
import { type Collections, docId, isDuplicateKey } from './db';

export async function loadContactGate(col: Collections, orgId: string, contactId: string): Promise<ContactGateState> {
  const doc = await col.contactGates.findOne({ _id: docId(orgId, contactId), orgId });
  if (!doc) return emptyGate();
  const s: ContactGateState = { rev: doc.rev, reservations: doc.reservations ?? [] };
  if (doc.plan) s.plan = doc.plan;
  return s;
}

/** Stores the state unless a newer one is stored already (a retried write of an older state changes nothing). */
export async function saveContactGate(col: Collections, orgId: string, contactId: string, s: ContactGateState): Promise<void> {
  const _id = docId(orgId, contactId);
  const set = { orgId, contactId, rev: s.rev, reservations: s.reservations, updatedAt: new Date() };
  const r = await col.contactGates.updateOne(
    { _id, orgId, rev: { $lt: s.rev } },
    s.plan ? { $set: { ...set, plan: s.plan } } : { $set: set, $unset: { plan: '' } },
  );
  if (r.matchedCount === 1) return;
  if (await col.contactGates.findOne({ _id, orgId }, { projection: { _id: 1 } })) return; // as new or newer
  try {
    await col.contactGates.insertOne({ _id, ...set, ...(s.plan ? { plan: s.plan } : {}) });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

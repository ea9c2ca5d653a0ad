// Follow-up calls, one document per (organization, original call, attempt): the claim that makes
// placing a call exactly-once, the platform's answer, and the attempts due for a person or an
// external dialer to pick up. Also each organization's outbound dialer settings.
import type { Collections } from './db';
import { isDuplicateKey } from './db';
import { openSecret, sealSecret } from './secrets';
import type { FollowUpCallDoc, FollowUpCallStatus, OutboundDialerDoc, OutboundProvider } from './types';

export { OUTBOUND_PROVIDERS, type FollowUpCallStatus, type OutboundDialerDoc, type OutboundProvider } from './types';

export const DEFAULT_BASE_URLS: Record<OutboundProvider, string> = {
  retell: 'https://api.retellai.com',
  vapi: 'https://api.vapi.ai',
  bland: 'https://api.bland.ai',
};

export interface AttemptRef {
  orgId: string;
  originalCallId: string;
  attempt: number;
  contactId?: string;
  to?: string;
}

const CLAIMABLE: FollowUpCallStatus[] = ['claimable', 'due', 'canceled'];

/** Stable key of one attempt: claims, idempotency keys and records use it. */
export const followUpKey = (orgId: string, originalCallId: string, attempt: number) => `followup:${orgId}:${originalCallId}:${attempt}`;

export async function getFollowUpCall(col: Collections, orgId: string, id: string): Promise<FollowUpCallDoc | null> {
  return col.followUps.findOne({ _id: id, orgId });
}

/** Creates the attempt's document if it is new; returns it as stored. */
export async function ensureAttempt(col: Collections, id: string, ref: AttemptRef): Promise<FollowUpCallDoc> {
  const now = new Date();
  try {
    await col.followUps.updateOne(
      { _id: id, orgId: ref.orgId },
      {
        $setOnInsert: {
          orgId: ref.orgId,
          originalCallId: ref.originalCallId,
          attempt: ref.attempt,
          status: 'claimable',
          contactId: ref.contactId,
          to: ref.to,
          idempotencyKey: id,
          tries: 0,
          createdAt: now,
          updatedAt: now,
        },
      },
      { upsert: true },
    );
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const doc = await getFollowUpCall(col, ref.orgId, id);
  if (!doc) throw new Error(`follow-up ${id} vanished after its upsert`);
  return doc;
}

/**
 * Takes the claim to place the attempt: the status check and the change are one atomic update,
 * so of two concurrent tries only one gets it. Returns false when the attempt is not claimable.
 */
export async function claimAttempt(col: Collections, orgId: string, id: string, token: string, provider: string): Promise<boolean> {
  const now = new Date();
  const r = await col.followUps.updateOne(
    { _id: id, orgId, status: { $in: CLAIMABLE } },
    { $set: { status: 'placing', claimToken: token, claimedAt: now, provider, updatedAt: now }, $inc: { tries: 1 } },
  );
  return r.modifiedCount === 1;
}

export async function markPlaced(
  col: Collections,
  orgId: string,
  id: string,
  token: string,
  providerCallId: string,
  placedAt: Date,
): Promise<boolean> {
  const r = await col.followUps.updateOne(
    { _id: id, orgId, status: 'placing', claimToken: token },
    { $set: { status: 'placed', providerCallId, placedAt, updatedAt: new Date() }, $unset: { reason: '', lastError: '' } },
  );
  return r.modifiedCount === 1;
}

/** The request certainly did not reach the platform (or it said "try later"): give the claim back. */
export async function releaseClaim(col: Collections, orgId: string, id: string, token: string, error: string): Promise<void> {
  await col.followUps.updateOne(
    { _id: id, orgId, status: 'placing', claimToken: token },
    { $set: { status: 'claimable', lastError: error, updatedAt: new Date() }, $unset: { claimToken: '' } },
  );
}

/** Ends a claim with a status a person has to look at (uncertain, rejected). */
export async function endClaim(
  col: Collections,
  orgId: string,
  id: string,
  token: string | undefined,
  status: 'uncertain' | 'rejected',
  reason: string,
): Promise<void> {
  const filter = token ? { _id: id, orgId, status: 'placing' as const, claimToken: token } : { _id: id, orgId, status: 'placing' as const };
  await col.followUps.updateOne(filter, { $set: { status, reason, updatedAt: new Date() } });
}

/**
 * Records an attempt as due (for a person or dialer) or canceled, unless it was placed or may
 * have been: those keep their status. Idempotent.
 */
export async function markAttempt(
  col: Collections,
  id: string,
  ref: AttemptRef,
  status: 'due' | 'canceled',
  reason: string,
): Promise<void> {
  const now = new Date();
  const set: Record<string, unknown> = { status, reason, updatedAt: now };
  if (status === 'due') set.dueAt = now;
  if (ref.to) set.to = ref.to;
  if (ref.contactId) set.contactId = ref.contactId;
  try {
    await col.followUps.updateOne(
      { _id: id, orgId: ref.orgId, status: { $in: CLAIMABLE } },
      {
        $set: set,
        $setOnInsert: { originalCallId: ref.originalCallId, attempt: ref.attempt, idempotencyKey: id, tries: 0, createdAt: now },
      },
      { upsert: true },
    );
  } catch (err) {
    // The attempt exists in a status we must not overwrite (placed, uncertain, rejected, placing).
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The scheduled attempt was moved (the calling window, the contact's 24-hour cap): its document says to when and why. */
export async function markMoved(col: Collections, id: string, ref: AttemptRef, scheduledFor: Date, moved: string): Promise<void> {
  const now = new Date();
  try {
    await col.followUps.updateOne(
      { _id: id, orgId: ref.orgId, status: { $in: CLAIMABLE } },
      {
        $set: {
          scheduledFor,
          moved,
          updatedAt: now,
          ...(ref.to ? { to: ref.to } : {}),
          ...(ref.contactId ? { contactId: ref.contactId } : {}),
        },
        $setOnInsert: {
          status: 'claimable',
          originalCallId: ref.originalCallId,
          attempt: ref.attempt,
          idempotencyKey: id,
          tries: 0,
          createdAt: now,
        },
      },
      { upsert: true },
    );
  } catch (err) {
    // Placed (or being placed) meanwhile: that status stays.
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The call joined another call's follow-up plan (attempt 0: it has none of its own); `settled` once that plan ended. */
export async function markJoined(
  col: Collections,
  id: string,
  ref: AttemptRef,
  joinedPlanOf: string,
  reason: string,
  settled?: string,
): Promise<void> {
  const now = new Date();
  await col.followUps.updateOne(
    { _id: id, orgId: ref.orgId },
    {
      $set: {
        status: 'joined',
        joinedPlanOf,
        reason,
        updatedAt: now,
        ...(settled ? { settled } : {}),
        ...(ref.to ? { to: ref.to } : {}),
        ...(ref.contactId ? { contactId: ref.contactId } : {}),
      },
      $setOnInsert: { originalCallId: ref.originalCallId, attempt: 0, idempotencyKey: id, tries: 0, createdAt: now },
    },
    { upsert: true },
  );
}

export async function listFollowUpCalls(
  col: Collections,
  orgId: string,
  f: { status?: FollowUpCallStatus; originalCallId?: string },
  limit = 100,
) {
  const q: Record<string, unknown> = { orgId };
  if (f.status) q.status = f.status;
  if (f.originalCallId) q.originalCallId = f.originalCallId;
  return col.followUps
    .find(q, { projection: { claimToken: 0 } })
    .sort({ updatedAt: -1, _id: 1 })
    .limit(limit)
    .toArray();
}

// ---- outbound dialer settings ---------------------------------------------------------------

/** What binds a stored dialer API key to its record (src/store/secrets.ts). */
const dialerAad = (orgId: string) => `dialer-api-key:${orgId}`;

export async function setOutboundDialer(col: Collections, doc: Omit<OutboundDialerDoc, '_id' | 'updatedAt'>): Promise<void> {
  const { orgId, ...rest } = doc;
  if (typeof rest.apiKey === 'string') rest.apiKey = sealSecret(rest.apiKey, dialerAad(orgId));
  const set: Record<string, unknown> = { orgId, updatedAt: new Date() };
  const unset: Record<string, ''> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) unset[k] = '';
    else set[k] = v;
  }
  await col.outboundDialers.updateOne(
    { _id: orgId },
    { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
    { upsert: true },
  );
}

export async function getOutboundDialer(col: Collections, orgId: string): Promise<OutboundDialerDoc | null> {
  const doc = await col.outboundDialers.findOne({ _id: orgId, orgId });
  return doc && { ...doc, apiKey: openSecret(doc.apiKey, dialerAad(orgId)) };
}

export async function removeOutboundDialer(col: Collections, orgId: string): Promise<boolean> {
  const r = await col.outboundDialers.deleteOne({ _id: orgId });
  return r.deletedCount === 1;
}

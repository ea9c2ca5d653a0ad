// Sent emails, one document per (organization, call, template): the claim taken before sending
// and the mark set after, so a retried or duplicated send finds the email already sent.
import type { Collections } from './db';
import { isDuplicateKey } from './db';
import type { EmailDoc } from './types';

export const emailKey = (orgId: string, callId: string, template: string) => `${orgId}:${callId}:${template}`;

export type EmailClaim = { claimed: true; doc: EmailDoc } | { claimed: false; doc: EmailDoc };

/**
 * Claims the send unless it was already sent: the check and the claim are one update. A claim
 * older than `staleBefore` belongs to a try that died (crash, timeout) before it could mark the
 * email sent or failed, and is taken over; a fresher one is left to its owner.
 */
export async function claimEmail(
  col: Collections,
  key: string,
  e: { orgId: string; callId: string; template: string; to: string; messageId: string },
  staleBefore: Date,
): Promise<EmailClaim> {
  const now = new Date();
  try {
    const doc = await col.emails.findOneAndUpdate(
      { _id: key, orgId: e.orgId, $or: [{ status: 'failed' }, { status: 'sending', claimedAt: { $lt: staleBefore } }] },
      {
        $set: { status: 'sending', to: e.to, messageId: e.messageId, claimedAt: now, updatedAt: now },
        $inc: { tries: 1 },
        $setOnInsert: { callId: e.callId, template: e.template, createdAt: now },
      },
      { upsert: true, returnDocument: 'after' },
    );
    if (doc) return { claimed: true, doc };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const sent = await col.emails.findOne({ _id: key, orgId: e.orgId });
  if (!sent) throw new Error(`email ${key}: neither claimable nor stored`);
  return { claimed: false, doc: sent };
}

export async function getEmail(col: Collections, orgId: string, key: string): Promise<EmailDoc | null> {
  return col.emails.findOne({ _id: key, orgId });
}

export async function markEmailSent(col: Collections, orgId: string, key: string, smtpResponse: string | undefined): Promise<void> {
  const now = new Date();
  await col.emails.updateOne(
    { _id: key, orgId },
    { $set: { status: 'sent', sentAt: now, smtpResponse, updatedAt: now }, $unset: { lastError: '' } },
  );
}

/** The SMTP server refused or could not be reached: the claim is given back for the next try. */
export async function markEmailError(col: Collections, orgId: string, key: string, error: string): Promise<void> {
  await col.emails.updateOne(
    { _id: key, orgId, status: { $ne: 'sent' } },
    { $set: { status: 'failed', lastError: error, updatedAt: new Date() } },
  );
}

// A follow-up call's link to the call it follows up: the metadata our dialer puts on the call
// it places, and reading the link back from a call's events or metadata. Pure.
import type { FollowUpLink } from './events';

/**
 * The metadata a placed follow-up call carries, and the webhooks bring back. `originalCallId` and
 * `followUpOf` both name the original call (platforms differ in what survives); `followUpAttempt`
 * is the attempt number.
 */
export function followUpMetadata(originalCallId: string, attempt: number, contactId?: string): Record<string, string | number> {
  const m: Record<string, string | number> = { originalCallId, followUpOf: originalCallId, followUpAttempt: attempt };
  if (contactId) m.contactId = contactId;
  return m;
}

/** The call this one follows up, from the event's link or from the metadata our dialer set. */
export function followUpLinkOf(s: {
  followUpOf?: FollowUpLink;
  metadata?: Record<string, unknown>;
  callId?: string;
}): FollowUpLink | undefined {
  if (s.followUpOf?.originalCallId) return s.followUpOf;
  const m = s.metadata;
  if (!m) return undefined;
  let original: unknown = m.originalCallId ?? m.followUpOf ?? m.original_call_id;
  let attempt: unknown = m.followUpAttempt ?? m.follow_up_attempt;
  if (typeof original === 'object' && original !== null) {
    const o = original as Record<string, unknown>;
    attempt ??= o.attempt;
    original = o.originalCallId ?? o.callId;
  }
  const n = typeof attempt === 'number' ? attempt : typeof attempt === 'string' && attempt.trim() !== '' ? Number(attempt) : NaN;
  if (typeof original !== 'string' || original.trim() === '' || !Number.isInteger(n) || n < 1) return undefined;
  if (original === s.callId) return undefined;
  return { originalCallId: original, attempt: n };
}

/** A follow-up call's state with its link to the original call made explicit (from metadata when no event carried it). */
export function withFollowUpLink<
  S extends { followUpOf?: FollowUpLink; metadata?: Record<string, unknown>; callId: string; owners: Record<string, string | undefined> },
>(s: S): S {
  if (s.followUpOf) return s;
  const link = followUpLinkOf(s);
  // Lowest precedence, as for a looked-up contact: an event's own link still wins later.
  return link ? { ...s, followUpOf: link, owners: { ...s.owners, followUpOf: '' } } : s;
}

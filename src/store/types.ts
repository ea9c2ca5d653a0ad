// The documents of the store's collections, in one place: the modules that read and write them
// (and db.ts, which names the collections) import these, so no store module imports another's
// types back.
import type { Binary, Collection } from 'mongodb';
import type { CallingPolicy } from '../domain/callingWindow';
import type { CallPurpose } from '../domain/callingLaw/rules';
import type { ContactFigures } from '../domain/contactFigures';
import type { EffectsDone } from '../domain/effects';
import type { Provider } from '../domain/events';
import type { ContactGateState } from '../domain/contactCaps';
import type { CallState } from '../domain/reducer';
import type { PollableProvider } from '../providers/getCall';

export interface OrganizationDoc {
  _id: string;
  name: string;
  createdAt: Date;
  /** Webhook routes that take unsigned requests although the organization stores signing secrets. */
  allowUnsigned?: Provider[];
  /** Calling window, default time zone, caps, opt-out field (src/store/compliance.ts); defaults when absent. */
  compliance?: Partial<ComplianceSettings>;
}

export interface ApiKeyDoc {
  /** The key's public id, the part between `ck_` and the second `_`. */
  _id: string;
  orgId: string;
  /** sha256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  label?: string;
  /** What the key may do; keys made before scopes existed have none and count as `admin`. */
  scope?: 'webhook' | 'read' | 'admin';
  createdAt: Date;
  revokedAt?: Date;
}

export interface ProviderSecretDoc {
  _id: string; // `${orgId}:${provider}`
  orgId: string;
  provider: Provider;
  config: Record<string, unknown>;
  updatedAt: Date;
}

export type EmailStatus = 'sending' | 'sent' | 'skipped' | 'failed';

export interface CallDoc extends Omit<CallState, 'owners'> {
  _id: string; // `${orgId}:${callId}`
  owners: CallState['owners'];
  createdAt: Date;
  updatedAt: Date;
  workflowId: string;
  /** What the call's effects (contact count, email, follow-up, opt-out) have been run for. */
  effectsDone?: EffectsDone;
  email?: { status: EmailStatus; reason?: string; messageId?: string; at: Date; to?: string };
  /** The follow-up plan as the workflow last recorded it (see src/domain/followUpPlan.ts). */
  followUp?: Record<string, unknown> & { rev?: number; summary?: string };
  /** When the next follow-up call is due, while one is scheduled: queryable. */
  nextFollowUpAt?: Date | null;
  /** `${orgId}:${UTC hour of createdAt}`: the analytics rollup bucket (src/store/analytics.ts). */
  rollupKey?: string;
  /** `${orgId}:${UTC day of nextFollowUpAt}` while a follow-up is scheduled (src/store/followUpQueue.ts). */
  followUpQueue?: string;
}

/**
 * A month of an organization's calls per UTC hour (src/store/callLists.ts), `${orgId}:${yyyy-mm}`:
 * `counts` is the JSON of `{"DDTHH": calls}` (one string: FerretDB decodes it at no cost per hour).
 * Written by the rollup loop alone.
 */
export interface CallHoursDoc {
  _id: string;
  orgId: string;
  counts: string;
  updatedAt: Date;
}

/** A UTC day that may hold scheduled follow-ups (src/store/followUpQueue.ts). */
export interface FollowUpDayDoc {
  _id: string; // `${orgId}:${day}`
  orgId: string;
  /** YYYY-MM-DD */
  day: string;
}

export interface ContactDoc {
  _id: string; // `${orgId}:${contactId}`
  orgId: string;
  contactId: string;
  name?: string;
  email?: string;
  phone?: string;
  timezone?: string;
  /** Where the person lives, when known (ISO 3166-2: `US-OK`, `CA-ON`): its calling law applies besides the number's. */
  region?: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A contact's call figures. Kept apart from the contact document, which people edit over the API,
 * because its one writer is the contact's own workflow (FerretDB loses concurrent updates of one
 * document, so no document may have two writers).
 */
export interface ContactStatsDoc extends ContactFigures {
  _id: string; // `${orgId}:${contactId}`
  orgId: string;
  contactId: string;
  updatedAt: Date;
}

/** Which contact a phone number belongs to, so finding it is a lookup by _id, not a scan. */
export interface ContactPhoneDoc {
  _id: string; // `${orgId}:${phone}`
  orgId: string;
  phone: string;
  contactId: string;
  createdAt: Date;
}

/** One counted call of a contact: the unique _id is what makes the count exactly-once. */
export interface ContactCallDoc {
  _id: string; // `${orgId}:${contactId}:${callId}`
  orgId: string;
  contactId: string;
  callId: string;
  date: string;
  durationSec?: number;
  /** The contact's call count once this call was counted; absent on facts from before the contact workflow. */
  seq?: number;
  countedAt: Date;
}

export interface CallMetricDoc {
  _id: string; // `${orgId}:${callId}`
  orgId: string;
  callId: string;
  provider: Provider;
  contactId?: string;
  outcome?: string;
  durationSec?: number;
  endedAt?: string;
  recordedAt: Date;
}

export type EmailSendStatus = 'sending' | 'sent' | 'failed';

export interface EmailDoc {
  _id: string; // `${orgId}:${callId}:${template}`
  orgId: string;
  callId: string;
  template: string;
  status: EmailSendStatus;
  to: string;
  /** Deterministic, so a resend after a crash carries the same Message-ID. */
  messageId: string;
  tries: number;
  claimedAt: Date;
  sentAt?: Date;
  smtpResponse?: string;
  lastError?: string;
  createdAt: Date;
  updatedAt: Date;
}

export const OUTBOUND_PROVIDERS = ['retell', 'vapi', 'bland'] as const;

export type OutboundProvider = (typeof OUTBOUND_PROVIDERS)[number];

export interface OutboundDialerDoc {
  _id: string; // orgId
  orgId: string;
  provider: OutboundProvider;
  baseUrl: string;
  apiKey: string;
  /** Caller id: Retell `from_number`, Bland `from`. */
  fromNumber?: string;
  /** Retell agent (override_agent_id), Vapi assistant (assistantId), Bland pathway (pathway_id). */
  agentId?: string;
  /** Vapi `phoneNumberId`. */
  phoneNumberId?: string;
  /** Bland `task` prompt when no pathway is set. */
  task?: string;
  /** Country calling codes follow-ups may dial (`1`, `44`); unset: the country of `fromNumber` only. */
  allowedCountryCodes?: string[];
  /** Risky number types the operator lets follow-ups dial (src/domain/spending.ts RISKY_NUMBER_TYPES); unset: none. */
  allowedNumberTypes?: string[];
  updatedAt: Date;
}

/**
 * claimable: nobody is placing it · placing: one try holds the claim and sent (or is sending) the
 * request · placed: the platform accepted it (its call id stored) · due: for a person or dialer ·
 * uncertain: a try sent the request and no answer was recorded, so the call may exist; never
 * placed again automatically · rejected: the platform refused it (4xx) · canceled: by a person ·
 * joined: no attempt of its own, the call joined the plan of the contact's other call
 * (`joinedPlanOf`; `settled` once that plan ended; attempt 0).
 */
export type FollowUpCallStatus = 'claimable' | 'placing' | 'placed' | 'due' | 'uncertain' | 'rejected' | 'canceled' | 'joined';

export interface FollowUpCallDoc {
  _id: string; // followUpKey(org, original call, attempt)
  orgId: string;
  originalCallId: string;
  attempt: number;
  status: FollowUpCallStatus;
  contactId?: string;
  /** The number to call. */
  to?: string;
  provider?: string;
  /** The call id the platform gave the placed call. */
  providerCallId?: string;
  idempotencyKey: string;
  /** Identifies the activity try holding the claim. */
  claimToken?: string;
  claimedAt?: Date;
  placedAt?: Date;
  dueAt?: Date;
  reason?: string;
  lastError?: string;
  /** When the attempt is to be placed, once the calling window or the contact's 24-hour cap moved it. */
  scheduledFor?: Date;
  /** Why it was moved: "moved to 09:10 America/Chicago on ... (24-hour cap: 3 attempts)". */
  moved?: string;
  /** Status `joined`: the call whose follow-up plan this call joined (one plan per contact). */
  joinedPlanOf?: string;
  /** Status `joined`: how the joined plan ended (answered, exhausted, canceled, due). */
  settled?: string;
  tries: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ComplianceSettings {
  callingWindow: CallingPolicy;
  /** Used when neither the contact nor its number tells the time zone. */
  defaultTimeZone: string;
  /** Follow-up attempts per contact in any rolling 24 hours, across all of its calls (the contact's workflow enforces it). */
  contactCapPer24h: number;
  /** The post-call analysis field that, when truthy, marks the contact do-not-call. */
  optOutField: string;
  /** Unattended follow-up calls the organization may place per UTC day; past it attempts become due. */
  dailyDialBudget: number;
  /** What the calls are for; selects the calling-law rules (src/domain/callingLaw). Default `solicitation`, the strictest. */
  purpose: CallPurpose;
}

/** One unattended follow-up call counted against its organization's daily budget (one per attempt). */
export interface DialBudgetDoc {
  _id: string; // followUpKey(org, original call, attempt)
  orgId: string;
  /** The UTC day it counts in, YYYY-MM-DD. */
  day: string;
  at: Date;
}

export interface DoNotCallDoc {
  _id: string; // `${orgId}:phone:${e164}` or `${orgId}:contact:${contactId}`
  orgId: string;
  kind: 'phone' | 'contact';
  phone?: string;
  contactId?: string;
  reason: string;
  /** `list` (API, CLI, CSV import), `contact` (PATCH /api/contacts), `opt-out` (said so on a call). */
  source: string;
  /** The call in which the person opted out. */
  callId?: string;
  at: Date;
}

export type DeliveryState = 'pending' | 'delivered' | 'dead';

/** One try at handing an event to Temporal, kept on its event-log document. */
export interface DeliveryAttempt {
  at: Date;
  outcome: 'delivered' | 'retry' | 'dead' | 'replay';
  error?: string;
}

/** What a platform sent, kept as it came (secrets in headers redacted). */
export interface StoredRequest {
  requestId?: string;
  path: string;
  contentType: string;
  /** Header values, with keys, secrets, signatures and cookies redacted. */
  headers: Record<string, string>;
  /** How the signature check went: verified with the stored secret, or unsigned and allowed. */
  signature: 'verified' | 'unsigned';
  bytes: number;
  /** The body byte for byte; absent when it is kept in chunks (see EventLogChunkDoc). */
  raw?: Binary;
}

/**
 * The event log: one document per canonical event a webhook produced, kept after delivery for the
 * retention (src/store/eventLog.ts). While pending it is the inbox the relay delivers from.
 */
export interface InboxDoc {
  _id: string; // `${orgId}:${eventId}`: a platform's retry of an event we hold is a duplicate key
  orgId: string;
  provider: Provider;
  callId: string;
  /**
   * The CallEvent Temporal gets, as JSON text (its claim-checked, slim form when it has heavy
   * fields): whatever keys the platform's metadata has (MongoDB and FerretDB refuse `.` and
   * leading `$` in stored keys).
   */
  event: string;
  /** The whole CallEvent as JSON text, when `event` is its slim form (absent when in chunks). */
  full?: string;
  receivedAt: Date;
  /** Absent on documents from before the event log: pending (nextAttemptAt says which). */
  state?: DeliveryState;
  deliveredAt?: Date;
  /** Failed deliveries so far. */
  attempts: number;
  /** When the relay may take it: a short grace after receipt, a backoff after a failure, a lease while claimed; parked once done. */
  nextAttemptAt: Date;
  lastError?: string;
  /** The relay pass that leased it last (src/store/inbox.ts claimBatch). */
  claimedBy?: string;
  /** Set when the event could not be delivered; the relay skips it, /readyz counts it, a replay retries it. */
  deadLetter?: string;
  /** The latest delivery tries, oldest first (capped). */
  tries?: DeliveryAttempt[];
  /** The request that brought the event, on its first event; the others name that document. */
  request?: StoredRequest;
  requestOf?: string;
  /** Parts kept as chunks because the document would pass the database's size limit. */
  chunks?: { raw?: number; full?: number };
}

/** A relay's claim on an inbox document for one lease window (`${inboxId}@${window}`). */
export interface InboxClaimDoc {
  _id: string;
  /** Which relay holds it (process and pass), for people reading the collection. */
  by: string;
  at: Date;
}

/** A slice of a large body or event, in order (`${owner}:${part}:${n}`). */
export interface EventLogChunkDoc {
  _id: string;
  owner: string;
  part: 'raw' | 'full';
  n: number;
  data: Binary;
  receivedAt: Date;
}

/** A webhook refused (401, 400, 413, 415) for an organization, kept so people can see why. */
export interface RefusedRequestDoc {
  _id: string;
  orgId: string;
  provider?: string;
  receivedAt: Date;
  status: number;
  reason: string;
  requestId?: string;
  path: string;
  contentType: string;
  headers: Record<string, string>;
  /** At most 64 KB of the body as text; `truncated` when it was longer. */
  body?: string;
  bytes?: number;
  truncated?: boolean;
}

/** A person's follow-up caps and the plan running for them; one writer, the contact's workflow. */
export interface ContactGateDoc extends ContactGateState {
  _id: string; // `${orgId}:${contactId}`
  orgId: string;
  contactId: string;
  updatedAt: Date;
}

/** How calls of one platform are looked up when they never reported an end. */
export interface PlatformApiDoc {
  _id: string; // `${orgId}:${provider}`
  orgId: string;
  provider: PollableProvider;
  /** API base URL; the platform's public one when absent. */
  baseUrl?: string;
  /** Sealed (src/store/secrets.ts). Retell/Vapi/Bland API key; Twilio auth token. */
  apiKey?: string;
  /** Twilio: the account SID calls are looked up under. */
  accountSid?: string;
  updatedAt: Date;
}

// ---- analytics rollups (src/store/analytics.ts) ----

/** "This call changed": insert-only, one per change, so concurrent writers never share a document. */
export interface RollupMarkDoc {
  _id: string;
  orgId: string;
  callId: string;
  /** The call's bucket when the writer knows it (it created the record); else the loop looks it up. */
  key?: string;
  at: Date;
}

/**
 * Rollup documents, two kinds, each written by the rollup loop alone:
 * - `${orgId}:h:${yyyy-mm-dd}` (hourDocId): a UTC day, `hours` → each hour's cells;
 * - `${orgId}:d:${yyyy-mm}` (monthDocId): a month of the organization's local days, `days` → each
 *   local day's cells (the sum of its hours), with the time zone they were cut in.
 * A 90-day daily series or summary reads 4 month documents plus the hours of the two partial days
 * at its ends. Values are JSON text, not nested documents: FerretDB converts every nested field of
 * a document it reads (9 ms for a 5 KB day of nested cells, measured), one string next to nothing.
 */
export interface RollupDayDoc {
  _id: string;
  orgId: string;
  /** Hour documents: `"13"` → JSON of HourRollup. */
  hours?: Record<string, string>;
  /** Month documents: `"27"` → JSON of LocalDayRollup. */
  days?: Record<string, string>;
  updatedAt: Date;
}

/** Leases (`lease:<slot>`) and the backfill's progress (`backfill:v1`). */
export interface RollupStateDoc {
  _id: string;
  owner?: string;
  at: Date;
  keysMarked?: boolean;
  done?: boolean;
  legacyLeft?: number;
}

export interface AnalyticsCollections {
  rollupMarks: Collection<RollupMarkDoc>;
  rollups: Collection<RollupDayDoc>;
  rollupState: Collection<RollupStateDoc>;
}

/** A dashboard session ended by sign-out: its cookie is refused until it would have expired anyway. */
export interface RevokedSessionDoc {
  _id: string; // the session id (sid) in the cookie
  orgId: string;
  expiresAt: Date;
  revokedAt: Date;
}

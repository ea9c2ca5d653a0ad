// MongoDB connection, collections and indexes. Written to the subset FerretDB also supports:
// single-document atomic updates and unique indexes; no transactions, change streams or TTL.
import { type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import type {
  ApiKeyDoc,
  CallDoc,
  CallMetricDoc,
  ContactCallDoc,
  ContactDoc,
  ContactGateDoc,
  ContactPhoneDoc,
  ContactStatsDoc,
  DialBudgetDoc,
  RevokedSessionDoc,
  DoNotCallDoc,
  EmailDoc,
  FollowUpCallDoc,
  EventLogChunkDoc,
  InboxClaimDoc,
  FollowUpDayDoc,
  CallHoursDoc,
  InboxDoc,
  OrganizationDoc,
  OutboundDialerDoc,
  PlatformApiDoc,
  ProviderSecretDoc,
  RefusedRequestDoc,
} from './types';
import type { AnalyticsCollections, RollupDayDoc, RollupMarkDoc, RollupStateDoc } from './types';

// The document types are defined in types.ts; modules that take Collections find them here too.

/**
 * Most updates one command may carry. FerretDB 1.24 keeps a PostgreSQL connection for each update
 * of a command that matched a document until the command ends, from a pool of 50: a bulk write of
 * more updates or replacements of existing documents never answers (docs/ferretdb.md).
 */
export const UPDATES_PER_COMMAND = 20;

/** Splits a bulk write's operations into commands FerretDB can take, in order. */
export function inCommands<T>(ops: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) out.push(ops.slice(i, i + UPDATES_PER_COMMAND));
  return out;
}
export type * from './types';

export interface Collections extends AnalyticsCollections {
  organizations: Collection<OrganizationDoc>;
  apiKeys: Collection<ApiKeyDoc>;
  providerSecrets: Collection<ProviderSecretDoc>;
  calls: Collection<CallDoc>;
  contacts: Collection<ContactDoc>;
  contactStats: Collection<ContactStatsDoc>;
  contactPhones: Collection<ContactPhoneDoc>;
  contactCalls: Collection<ContactCallDoc>;
  /** Per-person follow-up caps and the plan running (writer: the contact's workflow). */
  contactGates: Collection<ContactGateDoc>;
  callMetrics: Collection<CallMetricDoc>;
  followUps: Collection<FollowUpCallDoc>;
  emails: Collection<EmailDoc>;
  outboundDialers: Collection<OutboundDialerDoc>;
  /** Events on their way to Temporal, and dead letters (src/store/inbox.ts). */
  inbox: Collection<InboxDoc>;
  /** Delivered events with their requests, kept for the retention (src/store/eventLog.ts). */
  eventLog: Collection<InboxDoc>;
  eventChunks: Collection<EventLogChunkDoc>;
  /** The relay's claims on inbox documents: one insert each, a unique _id per document and lease window. */
  inboxClaims: Collection<InboxClaimDoc>;
  refusedRequests: Collection<RefusedRequestDoc>;
  doNotCall: Collection<DoNotCallDoc>;
  platformApis: Collection<PlatformApiDoc>;
  /** One document per unattended follow-up call, counted per organization and day (src/store/dialBudget.ts). */
  dialBudget: Collection<DialBudgetDoc>;
  /** Dashboard sessions signed out before their expiry (src/http/session.ts). */
  revokedSessions: Collection<RevokedSessionDoc>;
  /** Days that may hold scheduled follow-ups (src/store/followUpQueue.ts). */
  followUpDays: Collection<FollowUpDayDoc>;
  /** Calls per UTC hour, a document a month (src/store/callLists.ts; writer: the rollup loop). */
  callHours: Collection<CallHoursDoc>;
}

export interface Store {
  client: MongoClient;
  db: Db;
  col: Collections;
  close(): Promise<void>;
}

export function collections(db: Db): Collections {
  return {
    organizations: db.collection<OrganizationDoc>('organizations'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    providerSecrets: db.collection<ProviderSecretDoc>('provider_secrets'),
    calls: db.collection<CallDoc>('calls'),
    contacts: db.collection<ContactDoc>('contacts'),
    contactStats: db.collection<ContactStatsDoc>('contact_stats'),
    contactPhones: db.collection<ContactPhoneDoc>('contact_phones'),
    contactCalls: db.collection<ContactCallDoc>('contact_calls'),
    contactGates: db.collection<ContactGateDoc>('contact_gates'),
    callMetrics: db.collection<CallMetricDoc>('call_metrics'),
    followUps: db.collection<FollowUpCallDoc>('follow_ups'),
    emails: db.collection<EmailDoc>('emails'),
    outboundDialers: db.collection<OutboundDialerDoc>('outbound_dialers'),
    inbox: db.collection<InboxDoc>('inbox'),
    eventLog: db.collection<InboxDoc>('event_log'),
    eventChunks: db.collection<EventLogChunkDoc>('event_chunks'),
    inboxClaims: db.collection<InboxClaimDoc>('inbox_claims'),
    refusedRequests: db.collection<RefusedRequestDoc>('refused_requests'),
    doNotCall: db.collection<DoNotCallDoc>('do_not_call'),
    rollupMarks: db.collection<RollupMarkDoc>('analytics_marks'),
    rollups: db.collection<RollupDayDoc>('analytics_rollups'),
    rollupState: db.collection<RollupStateDoc>('analytics_state'),
    platformApis: db.collection<PlatformApiDoc>('platform_apis'),
    dialBudget: db.collection<DialBudgetDoc>('dial_budget'),
    revokedSessions: db.collection<RevokedSessionDoc>('revoked_sessions'),
    followUpDays: db.collection<FollowUpDayDoc>('follow_up_days'),
    callHours: db.collection<CallHoursDoc>('call_hours'),
  };
}

export async function ensureIndexes(col: Collections): Promise<void> {
  await Promise.all([
    col.apiKeys.createIndex({ orgId: 1 }),
    col.providerSecrets.createIndex({ orgId: 1 }),
    col.calls.createIndex({ orgId: 1, createdAt: -1 }),
    col.calls.createIndex({ orgId: 1, status: 1 }),
    col.calls.createIndex({ orgId: 1, contactId: 1 }),
    col.calls.createIndex({ orgId: 1, provider: 1 }),
    col.contacts.createIndex({ orgId: 1, phone: 1 }),
    col.contacts.createIndex({ orgId: 1, email: 1 }),
    col.contactCalls.createIndex({ orgId: 1, contactId: 1, date: -1 }),
    col.callMetrics.createIndex({ orgId: 1, recordedAt: -1 }),
    col.calls.createIndex({ orgId: 1, nextFollowUpAt: 1 }),
    // Stale calls for /metrics: open statuses, oldest update first.
    col.calls.createIndex({ status: 1, updatedAt: 1 }),
    // Calls marked stale (src/domain/stale.ts), for /metrics and ?stale=true.
    col.calls.createIndex({ 'stale.since': 1 }),
    col.followUps.createIndex({ orgId: 1, status: 1, updatedAt: -1 }),
    col.followUps.createIndex({ orgId: 1, originalCallId: 1 }),
    col.inbox.createIndex({ nextAttemptAt: 1 }),
    col.inbox.createIndex({ receivedAt: 1 }),
    // For MongoDB; FerretDB serves only the _id lookups of the event log from an index.
    col.eventLog.createIndex({ orgId: 1, receivedAt: -1 }),
    col.eventLog.createIndex({ orgId: 1, callId: 1 }),
    col.eventLog.createIndex({ receivedAt: 1 }),
    col.eventChunks.createIndex({ owner: 1 }),
    col.inboxClaims.createIndex({ at: 1 }),
    col.refusedRequests.createIndex({ orgId: 1, receivedAt: -1 }),
    col.doNotCall.createIndex({ orgId: 1, kind: 1 }),
    col.dialBudget.createIndex({ orgId: 1, day: 1 }),
    // An analytics hour's calls (on FerretDB the GIN index of scripts/stack/postgres.ts serves it).
    col.calls.createIndex({ rollupKey: 1 }),
    // The dashboard's lists (src/store/followUpQueue.ts, callLists.ts); on FerretDB GIN indexes of scripts/stack/postgres.ts.
    col.calls.createIndex({ followUpQueue: 1 }),
    col.calls.createIndex({ rollupKey: 1, createdAt: -1 }),
    col.calls.createIndex({ orgId: 1, contactId: 1, createdAt: -1 }),
    col.followUpDays.createIndex({ orgId: 1 }),
    col.callHours.createIndex({ orgId: 1 }),
  ]);
}

export async function connectStore(uri: string, dbName: string, opts: { serverSelectionTimeoutMS?: number } = {}): Promise<Store> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
    // After the database restarts, find it again within seconds: a worker whose client kept a
    // dead connection's error for minutes was seen in the database-restart fault test.
    connectTimeoutMS: 3_000,
    heartbeatFrequencyMS: 2_000,
    appName: 'calls-api',
  });
  await client.connect();
  const db = client.db(dbName);
  const col = collections(db);
  await ensureIndexes(col);
  return { client, db, col, close: () => client.close() };
}

export const isDuplicateKey = (err: unknown): boolean => err instanceof MongoServerError && err.code === 11000;

export const docId = (orgId: string, id: string) => `${orgId}:${id}`;

/**
 * Orders strings as MongoDB sorts them (by their UTF-8 bytes, the same as by code points); JavaScript's
 * `<` compares UTF-16 units, which puts characters above U+FFFF before U+E000–U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF, halves of code points above U+FFFF) sort after U+E000–U+FFFF.
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Makes free-form provider data storable on MongoDB and on FerretDB over PostgreSQL alike:
 * - `.` in keys and a leading `$` are replaced with look-alike full-width characters, NUL removed;
 * - NUL characters in strings are removed (PostgreSQL's jsonb cannot hold them);
 * - a number that is not finite (JSON's `1e999`) becomes null (FerretDB refuses it);
 * - an array directly inside an array becomes `{ items: [...] }` (FerretDB refuses nested arrays);
 * - anything deeper than 20 levels is kept as its JSON text.
 * Without this one webhook's odd metadata would fail the call's save on every retry.
 */
export function storableKeys<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replace(/\u0000/g, '') : value) as T;
  if (typeof value === 'number') return (Number.isFinite(value) ? value : null) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth > 20) return JSON.stringify(value) as T;
  if (Array.isArray(value)) {
    return (value as unknown[]).map((v) => (Array.isArray(v) ? { items: storableKeys(v, depth + 1) } : storableKeys(v, depth + 1))) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k
      .replace(/\./g, '\uff0e')
      .replace(/^\$/, '\uff04')
      .replace(/\u0000/g, '');
    out[key] = storableKeys(v, depth + 1);
  }
  return out as T;
}

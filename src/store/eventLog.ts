// The event log: every event a webhook produced, with the request that brought it, kept for the
// retention after delivery. Pending events and dead letters live in the inbox (small, scanned by
// the relay); once Temporal has an event, its document moves here (insert, then delete from the
// inbox) and is read by _id only on the hot path: FerretDB over PostgreSQL serves _id from an index
// and scans for anything else. Bodies too big for one document are kept in chunks.
import { Binary, type Collection, MongoBulkWriteError, type WriteError } from 'mongodb';
import type { CallEvent } from '../domain/events';
import type { Logger } from '../observability/log';
import { type Collections, inCommands } from './db';
import type { DeliveryAttempt, DeliveryState, EventLogChunkDoc, InboxDoc, RefusedRequestDoc, StoredRequest } from './types';

/** A document whose body and event together pass this keeps them in chunks (the limit is 16 MB, with room for the rest). */
export const CHUNK_OVER_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Delivery tries kept per event: the first ones and the latest. */
export const MAX_TRIES_KEPT = 20;

const SECRET_HEADER = /authorization|cookie|api[-_]?key|secret|token|signature|password|session|key$/i;

/** Header values as a platform sent them, keys, secrets, signatures and cookies replaced by `[redacted]`. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = SECRET_HEADER.test(k) ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The chunk documents of one part, in order. */
function chunksOf(owner: string, part: EventLogChunkDoc['part'], bytes: Buffer, receivedAt: Date): EventLogChunkDoc[] {
  const out: EventLogChunkDoc[] = [];
  for (let n = 0, at = 0; at < bytes.length || n === 0; n++, at += CHUNK_BYTES) {
    out.push({ _id: `${owner}:${part}:${n}`, owner, part, n, data: new Binary(bytes.subarray(at, at + CHUNK_BYTES)), receivedAt });
  }
  return out;
}

/**
 * Makes inbox documents fit the database: the request goes on the first event, and when its body
 * and the whole event pass CHUNK_OVER_BYTES both move to chunk documents (returned, to be written
 * before the inbox insert, so a document never names chunks that are not there).
 */
export function withRequest(docs: InboxDoc[], request: StoredRequest & { body: Buffer }): { docs: InboxDoc[]; chunks: EventLogChunkDoc[] } {
  const { body, ...req } = request;
  const chunks: EventLogChunkDoc[] = [];
  const out = docs.map((doc, i) => {
    const fullBytes = doc.full ? Buffer.byteLength(doc.full) : 0;
    const rawBytes = i === 0 ? body.length : 0;
    const d: InboxDoc = i === 0 ? { ...doc, request: { ...req } } : { ...doc, requestOf: docs[0]._id };
    if (rawBytes + fullBytes <= CHUNK_OVER_BYTES) {
      if (i === 0) d.request!.raw = new Binary(body);
      return d;
    }
    d.chunks = {};
    if (i === 0) {
      const c = chunksOf(doc._id, 'raw', body, doc.receivedAt);
      chunks.push(...c);
      d.chunks.raw = c.length;
    }
    if (doc.full) {
      const c = chunksOf(doc._id, 'full', Buffer.from(doc.full), doc.receivedAt);
      chunks.push(...c);
      d.chunks.full = c.length;
      delete d.full;
    }
    return d;
  });
  return { docs: out, chunks };
}

/** Writes chunks; ones already there (a platform's retry) are fine. */
export async function writeChunks(chunks: Collection<EventLogChunkDoc>, docs: EventLogChunkDoc[], timeoutMS: number): Promise<void> {
  for (const c of docs) {
    // One at a time: each is up to 4 MB, and the driver's batches would hold them all at once anyway.
    await chunks.insertOne(c, { timeoutMS }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });
  }
}

async function readChunks(col: Collections, owner: string, part: EventLogChunkDoc['part'], count: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  // By _id, one by one: the only lookup the local database serves from an index.
  for (let n = 0; n < count; n++) {
    const c = await col.eventChunks.findOne({ _id: `${owner}:${part}:${n}` });
    if (!c) throw new Error(`event log chunk ${owner}:${part}:${n} is missing`);
    parts.push(Buffer.from(c.data.buffer));
  }
  return Buffer.concat(parts);
}

/** An event's document, wherever it is: the inbox first (it moves to the log after delivery, never back while moving). */
export async function findEventDoc(col: Collections, id: string): Promise<(InboxDoc & { state: DeliveryState }) | null> {
  const pending = await col.inbox.findOne({ _id: id });
  if (pending) return { ...pending, state: pending.deadLetter ? 'dead' : 'pending' };
  const kept = await col.eventLog.findOne({ _id: id });
  return kept && { ...kept, state: kept.state ?? 'delivered' };
}

/** The whole canonical event of an event-log document (the claim check's payload). */
export async function fullEventOf(col: Collections, doc: InboxDoc): Promise<CallEvent> {
  if (doc.chunks?.full) return JSON.parse((await readChunks(col, doc._id, 'full', doc.chunks.full)).toString('utf8')) as CallEvent;
  return JSON.parse(doc.full ?? doc.event) as CallEvent;
}

/** The request's body, byte for byte. */
export async function rawBodyOf(col: Collections, doc: InboxDoc): Promise<Buffer | undefined> {
  if (doc.requestOf) {
    const first = await findEventDoc(col, doc.requestOf);
    return first ? rawBodyOf(col, first) : undefined;
  }
  if (doc.chunks?.raw) return readChunks(col, doc._id, 'raw', doc.chunks.raw);
  return doc.request?.raw ? Buffer.from(doc.request.raw.buffer) : undefined;
}

/** Appends a try to the kept list: the first ones and the latest, MAX_TRIES_KEPT in all. */
export function withTry(tries: DeliveryAttempt[] | undefined, t: DeliveryAttempt): DeliveryAttempt[] {
  const all = [...(tries ?? []), t];
  return all.length <= MAX_TRIES_KEPT ? all : [...all.slice(0, 5), ...all.slice(all.length - (MAX_TRIES_KEPT - 5))];
}

/**
 * Delivered: keeps the documents in the log with one insert command (on FerretDB a plain insert is
 * one statement, an upsert a read as well). One the log holds already (a replay, or a retry of this
 * write) is replaced.
 */
export async function keepDelivered(col: Pick<Collections, 'eventLog'>, docs: InboxDoc[], at: Date): Promise<void> {
  if (docs.length === 0) return;
  const kept = docs.map((d) => {
    const k: InboxDoc = { ...d, state: 'delivered', deliveredAt: at, tries: withTry(d.tries, { at, outcome: 'delivered' }) };
    delete k.deadLetter;
    delete k.claimedBy;
    return k;
  });
  let again: InboxDoc[] = [];
  try {
    await col.eventLog.insertMany(kept, { ordered: false });
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) throw err;
    const errors = ([] as WriteError[]).concat(err.writeErrors);
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
    again = errors.map((e) => kept[e.index]);
  }
  if (again.length === 0) return;
  const replacements = again.map(({ _id, ...rest }) => ({ replaceOne: { filter: { _id }, replacement: rest, upsert: true } }));
  for (const part of inCommands(replacements)) await col.eventLog.bulkWrite(part, { ordered: false });
}

/** How long a day's dial-budget units are kept: the budget is per UTC day; the day before stays for a look back. */
const DIAL_BUDGET_KEPT_MS = 2 * 24 * 3600_000;

/**
 * Events removed after the retention (never one still in the inbox), with their chunks; refused
 * requests too. With them, what no longer counts: dial-budget units of past days, and revoked
 * dashboard sessions once past their expiry (an expired session is refused by its time already).
 */
export async function sweepEventLog(
  col: Collections,
  now: Date,
  retentionMs: number,
): Promise<{ events: number; refused: number; dialBudget: number; revokedSessions: number }> {
  const cutoff = new Date(now.getTime() - retentionMs);
  const old = await col.eventLog.find({ receivedAt: { $lt: cutoff } }, { projection: { _id: 1, chunks: 1 } }).toArray();
  const withChunks = old.filter((d) => d.chunks);
  if (withChunks.length > 0) await col.eventChunks.deleteMany({ owner: { $in: withChunks.map((d) => d._id) } });
  if (old.length > 0) await col.eventLog.deleteMany({ _id: { $in: old.map((d) => d._id) } });
  const refused = await col.refusedRequests.deleteMany({ receivedAt: { $lt: cutoff } });
  const dialBudget = await col.dialBudget.deleteMany({ at: { $lt: new Date(now.getTime() - DIAL_BUDGET_KEPT_MS) } });
  const revokedSessions = await col.revokedSessions.deleteMany({ expiresAt: { $lt: now } });
  return {
    events: old.length,
    refused: refused.deletedCount,
    dialBudget: dialBudget.deletedCount,
    revokedSessions: revokedSessions.deletedCount,
  };
}

/** How often the sweep runs: every receiver runs one; a second at the same time deletes nothing twice. */
export const SWEEP_INTERVAL_MS = 3600_000;

/** Sweeps now (after a short delay) and then every SWEEP_INTERVAL_MS; failures are logged and retried at the next. */
export function startEventLogSweep(col: Collections, retentionMs: number, logger: Logger, intervalMs = SWEEP_INTERVAL_MS): NodeJS.Timeout {
  const run = () =>
    sweepEventLog(col, new Date(), retentionMs).then(
      (n) => Object.values(n).some((k) => k > 0) && logger.info('event log swept', { ...n, retentionMs }),
      (err: unknown) => logger.warn('event log sweep failed; tried again later', { err }),
    );
  setTimeout(() => void run(), 60_000).unref();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return timer;
}

export type EventState = DeliveryState | 'refused';
export interface EventFilters {
  state?: EventState;
  callId?: string;
  provider?: string;
  from?: Date;
  to?: Date;
}

/** One line of the event list: what, when, where it stands, why. */
export interface EventSummary {
  id: string;
  state: EventState;
  provider?: string;
  callId?: string;
  type?: string;
  providerEvent?: string;
  receivedAt: string;
  deliveredAt?: string;
  attempts?: number;
  reason?: string;
  status?: number;
}

const LIGHT = { projection: { full: 0, request: 0 } } as const;

export function summaryOf(d: InboxDoc, state: DeliveryState): EventSummary {
  const e = JSON.parse(d.event) as CallEvent;
  return {
    id: e.eventId,
    state,
    provider: d.provider,
    callId: d.callId,
    type: e.type,
    providerEvent: e.providerEvent,
    receivedAt: d.receivedAt.toISOString(),
    ...(d.deliveredAt && { deliveredAt: d.deliveredAt.toISOString() }),
    attempts: d.attempts,
    ...((d.deadLetter ?? d.lastError) && { reason: d.deadLetter ?? d.lastError }),
  };
}

export const refusedSummary = (r: RefusedRequestDoc): EventSummary => ({
  id: r._id.slice(r.orgId.length + 1),
  state: 'refused',
  ...(r.provider && { provider: r.provider }),
  receivedAt: r.receivedAt.toISOString(),
  reason: r.reason,
  status: r.status,
});

/**
 * An organization's events, newest first. Not on the hot path: the local database scans for
 * these filters (the inbox is small; the log is bounded by the retention).
 */
export async function listEvents(col: Collections, orgId: string, f: EventFilters, limit: number): Promise<EventSummary[]> {
  const received = f.from || f.to ? { receivedAt: { ...(f.from && { $gte: f.from }), ...(f.to && { $lt: f.to }) } } : {};
  const match = { orgId, ...(f.callId && { callId: f.callId }), ...(f.provider && { provider: f.provider as never }), ...received };
  const out: EventSummary[] = [];
  if (!f.state || f.state === 'pending' || f.state === 'dead') {
    const docs = await col.inbox.find(match, LIGHT).sort({ receivedAt: -1 }).limit(limit).toArray();
    for (const d of docs) {
      const state = d.deadLetter ? 'dead' : 'pending';
      if (!f.state || f.state === state) out.push(summaryOf(d, state));
    }
  }
  if (!f.state || f.state === 'delivered') {
    const docs = await col.eventLog.find(match, LIGHT).sort({ receivedAt: -1 }).limit(limit).toArray();
    out.push(...docs.map((d) => summaryOf(d, 'delivered')));
  }
  if ((!f.state || f.state === 'refused') && !f.callId) {
    const { callId: _, ...rest } = match;
    const docs = await col.refusedRequests.find(rest).sort({ receivedAt: -1 }).limit(limit).toArray();
    out.push(...docs.map(refusedSummary));
  }
  return out.sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0)).slice(0, limit);
}

/** The organization's part of the inbox: waiting events, the oldest one's age, dead letters (a scan of the small inbox). */
export async function orgInboxStats(col: Collections, orgId: string, now: Date) {
  const docs = await col.inbox.find({ orgId }, { projection: { receivedAt: 1, deadLetter: 1 } }).toArray();
  const waiting = docs.filter((d) => !d.deadLetter);
  const oldest = Math.min(...waiting.map((d) => d.receivedAt.getTime()));
  return {
    depth: waiting.length,
    oldestAgeSec: waiting.length > 0 ? Math.max(0, Math.round((now.getTime() - oldest) / 1000)) : 0,
    deadLetters: docs.length - waiting.length,
  };
}

/**
 * Delivers an event again: a dead letter becomes due now; a delivered one goes back into the inbox.
 * The workflow drops an event it has applied already (by eventId), so a replay applies at most once.
 * Returns the state it was in, or null when there is no such event.
 */
export async function replayEvent(col: Collections, id: string, by: string, now: Date): Promise<DeliveryState | null> {
  const doc = await findEventDoc(col, id);
  if (!doc) return null;
  const tries = withTry(doc.tries, { at: now, outcome: 'replay', error: `replay asked by ${by}` });
  if (doc.state !== 'delivered') {
    await col.inbox.updateOne({ _id: id }, { $set: { nextAttemptAt: now, tries, attempts: 0 }, $unset: { deadLetter: '' } });
    return doc.state;
  }
  const { state: _, deliveredAt: __, ...rest } = doc;
  await col.inbox.insertOne({ ...rest, attempts: 0, nextAttemptAt: now, tries }).catch((err: { code?: number }) => {
    if (err.code !== 11000) throw err; // asked twice: it is in the inbox already
  });
  return 'delivered';
}

/** Refused requests kept per organization and minute: a flood cannot fill the disk. */
export const REFUSED_PER_MINUTE = 60;
export const REFUSED_BODY_BYTES = 64 * 1024;

/** Counts refusals per organization and minute, in this process. */
export class RefusalBudget {
  private minute = -1;
  private readonly used = new Map<string, number>();
  constructor(private readonly perMinute = REFUSED_PER_MINUTE) {}
  take(orgId: string, now: number): boolean {
    const m = Math.floor(now / 60_000);
    if (m !== this.minute) {
      this.minute = m;
      this.used.clear();
    }
    const n = this.used.get(orgId) ?? 0;
    if (n >= this.perMinute) return false;
    this.used.set(orgId, n + 1);
    return true;
  }
}

export async function recordRefused(col: Collections, doc: Omit<RefusedRequestDoc, 'body' | 'truncated'>, body?: Buffer): Promise<void> {
  const kept = body && body.subarray(0, REFUSED_BODY_BYTES);
  await col.refusedRequests.insertOne({
    ...doc,
    ...(kept && { body: kept.toString('utf8'), bytes: body.length, truncated: body.length > kept.length }),
  });
}

// The durable inbox: a webhook's canonical events are inserted here before the 200, and each
// document lives until its event is in the call's Temporal history; then it moves to the event
// log (src/store/eventLog.ts), which keeps it for the retention. Dead letters stay here, parked.
// Written to the subset FerretDB supports: inserts with a unique _id, single-document updates.
import { MongoBulkWriteError, MongoError, MongoServerError, type Collection, type WriteError } from 'mongodb';
import type { CallEvent, Provider } from '../domain/events';
import { claimCheck } from '../domain/claimCheck';
import type { Collections } from './db';
import { keepDelivered, withTry } from './eventLog';
import type { InboxClaimDoc, InboxDoc } from './types';

export type { InboxDoc } from './types';

/** How long the immediate hand-off has before the relay may deliver the same event too. */
export const HANDOFF_GRACE_MS = 10_000;
/** Dead letters are parked here, so the relay's one range query never sees them. */
export const PARKED = new Date('9999-12-31T00:00:00Z');
/** The insert's whole budget (server selection included): a dead database answers 503 well inside a platform's timeout. */
export const INSERT_TIMEOUT_MS = 4_000;

export const inboxId = (orgId: string, eventId: string) => `${orgId}:${eventId}`;

/** The event's inbox document: what Temporal gets (slim, claim-checked) and, when that differs, the whole event. */
export function inboxDoc(orgId: string, provider: Provider, event: CallEvent, now: Date): InboxDoc {
  const _id = inboxId(orgId, event.eventId);
  const slim = claimCheck(event, _id);
  return {
    _id,
    orgId,
    provider,
    callId: event.callId,
    event: JSON.stringify(slim),
    ...(slim !== event && { full: JSON.stringify(event) }),
    receivedAt: now,
    attempts: 0,
    nextAttemptAt: new Date(now.getTime() + HANDOFF_GRACE_MS),
  };
}

/** The event as Temporal gets it; a document from before the event log holds it whole, so it is claim-checked here too. */
export const eventOf = (doc: Pick<InboxDoc, '_id' | 'event'>): CallEvent => claimCheck(JSON.parse(doc.event) as CallEvent, doc._id);

/**
 * Group commit: what concurrent callers ask for while one round trip is under way goes together
 * in the next one. Nothing waits for a timer, so a lone request costs one round trip as before,
 * and under a burst one insert command carries many webhooks' events (FerretDB takes 50 documents
 * in one insertMany in about the time of three insertOne, measured).
 */
class GroupCommit<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly max: number,
    /** An error after which the requests already waiting would fail the same way: fail them now. */
    private readonly failsAll: (err: unknown) => boolean,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.max);
        try {
          const out = await this.run(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(out[i]));
        } catch (err) {
          for (const b of batch) b.reject(err);
          if (this.failsAll(err)) for (const b of this.queue.splice(0)) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

type InsertResult = 'inserted' | 'duplicate' | Error;
const MAX_BATCH = 500;
const inserters = new WeakMap<Collection<InboxDoc>, GroupCommit<InboxDoc, InsertResult>>();
const removers = new WeakMap<Collection<InboxDoc>, GroupCommit<InboxDoc, null>>();

async function insertBatch(inbox: Collection<InboxDoc>, docs: InboxDoc[]): Promise<InsertResult[]> {
  const out: InsertResult[] = docs.map(() => 'inserted');
  try {
    await inbox.insertMany(docs, { ordered: false, timeoutMS: INSERT_TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) throw err;
    const errors = ([] as WriteError[]).concat(err.writeErrors);
    if (errors.length === 0) throw err;
    for (const e of errors) out[e.index] = e.code === 11000 ? 'duplicate' : new Error(e.errmsg ?? `write error ${e.code}`);
  }
  return out;
}

/**
 * Inserts the docs (together with those of concurrent callers). Returns those that are new; a
 * duplicate key means the platform retried an event the inbox already holds (or held and
 * delivered), which is not an error. Throws on anything else: the events are then not durable and
 * must not be acknowledged.
 */
export async function acceptIntoInbox(inbox: Collection<InboxDoc>, docs: InboxDoc[]): Promise<InboxDoc[]> {
  let group = inserters.get(inbox);
  if (!group) {
    group = new GroupCommit((batch) => insertBatch(inbox, batch), MAX_BATCH, isDatabaseUnavailable);
    inserters.set(inbox, group);
  }
  const results = await Promise.all(docs.map((d) => group.submit(d)));
  const failed = results.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  return docs.filter((_, i) => results[i] === 'inserted');
}

/** Due documents, oldest due first, found by reading the whole inbox (see frontOfInbox for the cheap read). */
export function dueInInbox(inbox: Collection<InboxDoc>, now: Date, limit: number): Promise<InboxDoc[]> {
  return inbox
    .find({ nextAttemptAt: { $lte: now } })
    .sort({ nextAttemptAt: 1 })
    .limit(limit)
    .toArray();
}

/**
 * The first `n` documents of the inbox in the database's own order, with no filter and no sort:
 * the one read whose limit FerretDB hands to PostgreSQL (docs/ferretdb.md), so its cost does not
 * grow with the inbox. The relay picks the due ones itself (dueAmong).
 */
export function frontOfInbox(inbox: Collection<InboxDoc>, n: number): Promise<InboxDoc[]> {
  return inbox.find({}).limit(n).toArray();
}

/** Of `docs`, up to `limit` due at `now` and not in `skip`, oldest due first. */
export function dueAmong(docs: InboxDoc[], now: Date, limit: number, skip: Pick<ReadonlySet<string>, 'has'>): InboxDoc[] {
  return docs
    .filter((d) => d.nextAttemptAt.getTime() <= now.getTime() && !skip.has(d._id))
    .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
    .slice(0, limit);
}

/**
 * The claim of one try of a document in one lease window: a second claim with the same _id fails.
 * The try is told by the time it was due, which every retry and replay sets anew.
 */
export const claimId = (doc: Pick<InboxDoc, '_id' | 'nextAttemptAt'>, window: number) =>
  `${doc._id}@${doc.nextAttemptAt.getTime()}:${window}`;

/**
 * Takes many due documents with one insert command into inbox_claims: a document is this claimer's
 * when its claim (document, try, lease window) is new. Inserts with a unique _id are atomic on
 * FerretDB and MongoDB alike, so of two receivers one wins each document; a receiver that dies
 * holding claims leaves them to the next window. A document claimed in two windows may be
 * delivered twice; the workflow drops the repeat.
 */
export async function claimBatch(
  claims: Collection<InboxClaimDoc>,
  docs: InboxDoc[],
  now: Date,
  leaseMs: number,
  by: string,
): Promise<InboxDoc[]> {
  if (docs.length === 0) return [];
  const window = Math.floor(now.getTime() / leaseMs);
  const lost = new Set<number>();
  try {
    await claims.insertMany(
      docs.map((d) => ({ _id: claimId(d, window), by, at: now })),
      { ordered: false },
    );
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) throw err;
    const errors = ([] as WriteError[]).concat(err.writeErrors);
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
    for (const e of errors) lost.add(e.index);
  }
  return docs.filter((_, i) => !lost.has(i));
}

/** Claims older than two lease windows hold nothing any more. */
export async function sweepClaims(claims: Collection<InboxClaimDoc>, now: Date, leaseMs: number): Promise<number> {
  return (await claims.deleteMany({ at: { $lt: new Date(now.getTime() - 2 * leaseMs) } })).deletedCount;
}

/** Delivered: Temporal's history holds the event now. Kept in the event log, then deleted here by _id, many in one command each. */
export async function removeFromInbox(col: Pick<Collections, 'inbox' | 'eventLog'>, doc: InboxDoc): Promise<void> {
  let group = removers.get(col.inbox);
  if (!group) {
    group = new GroupCommit<InboxDoc, null>(
      async (docs: InboxDoc[]) => {
        // Into the log first: the claim check's reader looks in the inbox, then in the log.
        await keepDelivered(col, docs, new Date());
        await col.inbox.bulkWrite(
          docs.map((d) => ({ deleteOne: { filter: { _id: d._id } } })),
          { ordered: false },
        );
        return docs.map(() => null);
      },
      MAX_BATCH,
      isDatabaseUnavailable,
    );
    removers.set(col.inbox, group);
  }
  await group.submit(doc);
}

/** A failed delivery: try again at `retryAt`. */
export async function retryLater(
  inbox: Collection<InboxDoc>,
  doc: Pick<InboxDoc, '_id' | 'attempts' | 'tries'>,
  retryAt: Date,
  error: string,
): Promise<void> {
  const text = error.slice(0, 500);
  const tries = withTry(doc.tries, { at: new Date(), outcome: 'retry', error: text });
  await inbox.updateOne({ _id: doc._id }, { $set: { attempts: doc.attempts + 1, nextAttemptAt: retryAt, lastError: text, tries } });
}

/** Could not be delivered: parked with the reason until a person replays it (src/store/eventLog.ts). */
export async function deadLetter(
  inbox: Collection<InboxDoc>,
  doc: Pick<InboxDoc, '_id' | 'attempts' | 'tries'>,
  reason: string,
): Promise<void> {
  const text = reason.slice(0, 500);
  const tries = withTry(doc.tries, { at: new Date(), outcome: 'dead', error: text });
  await inbox.updateOne(
    { _id: doc._id },
    { $set: { attempts: doc.attempts + 1, nextAttemptAt: PARKED, deadLetter: text, lastError: text, tries } },
  );
}

export interface InboxStats {
  /** Events on their way to Temporal (dead letters not included). */
  depth: number;
  /** Seconds since the oldest of them was received; 0 when there is none. */
  oldestAgeSec: number;
  /** Events Temporal refused for good; they wait for a person. */
  deadLetters: number;
}

/**
 * One read of the whole inbox, two fields kept of each document. FerretDB decodes every document
 * of a count or a sorted read too, so one pass costs what each of them did (docs/ferretdb.md).
 */
export async function inboxStats(inbox: Collection<InboxDoc>, now: Date): Promise<InboxStats> {
  const docs = await inbox.find({}, { projection: { _id: 0, receivedAt: 1, nextAttemptAt: 1 } }).toArray();
  let depth = 0;
  let deadLetters = 0;
  let oldest = Infinity;
  for (const d of docs) {
    if (d.nextAttemptAt.getTime() >= PARKED.getTime()) {
      deadLetters++;
      continue;
    }
    depth++;
    oldest = Math.min(oldest, d.receivedAt.getTime());
  }
  const oldestAgeSec = depth > 0 ? Math.max(0, Math.round((now.getTime() - oldest) / 1000)) : 0;
  return { depth, oldestAgeSec, deadLetters };
}

/**
 * Server codes that mean "not now" rather than "not this request": InternalError (what FerretDB
 * answers when its PostgreSQL is down), host unreachable/not found, network timeout, shutting down,
 * primary stepped down or not writable, time limit exceeded.
 */
const UNAVAILABLE_CODES = new Set([1, 6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * The database cannot be reached, cannot serve right now, or did not answer in time (as opposed to
 * refusing a request). A connection that drops mid-request (the server stopped) can surface from
 * the driver as a plain socket error rather than a MongoError; that counts too.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof MongoError)) {
    const code = (err as { code?: unknown } | null)?.code;
    return (
      (typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code)) ||
      (err instanceof Error && /socket has been ended|socket hang up/i.test(err.message))
    );
  }
  if (err instanceof MongoServerError) return UNAVAILABLE_CODES.has(Number(err.code)) || err.hasErrorLabel('RetryableWriteError');
  return /Network|ServerSelection|Timeout|NotConnected|TopologyClosed|PoolCleared/.test(err.name);
}

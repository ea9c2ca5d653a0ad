// From the inbox to the call's workflow. The receiver offers each freshly inserted event for an
// immediate hand-off; a relay loop in every receiver delivers whatever is left (after a crash or
// restart, while Temporal is down, or when the hand-off queue was full). A document is deleted
// once Temporal holds its event, so at-least-once; the workflow's reducer drops duplicates.
import { isGrpcServiceError } from '@temporalio/client';
import type { Collection } from 'mongodb';
import type { CallEvent } from '../domain/events';
import type { Logger } from '../log';
import {
  HANDOFF_GRACE_MS,
  type InboxDoc,
  claimInInbox,
  deadLetter,
  dueInInbox,
  eventOf,
  removeFromInbox,
  retryLater,
} from '../store/inbox';
import { type CallSignaler, DELIVER_DEADLINE_MS } from './client';

export interface DispatcherOptions {
  inbox: Collection<InboxDoc>;
  signaler: CallSignaler;
  logger: Logger;
  /** signalWithStart calls in flight at once, hand-off and relay together. */
  concurrency: number;
  /** Pause between relay passes while Temporal answers. */
  relayIntervalMs: number;
  /** Documents one relay pass takes. */
  relayBatch?: number;
  /** Events waiting for a free slot beyond which the hand-off leaves new ones to the relay. */
  maxQueued?: number;
  /** Acks first: while this says webhooks wait for their answer, at most `concurrencyWhileAcking` deliveries run. */
  acking?: () => boolean;
  concurrencyWhileAcking?: number;
  now?: () => number;
}

export interface DispatcherStatus {
  /** Set while deliveries fail for a reason that is not the event's own: Temporal unreachable. */
  temporalDown: { since: string; error: string } | null;
  inFlight: number;
  queued: number;
  /** Since start: events Temporal took, failed tries left for later, events dead-lettered. */
  delivered: number;
  failed: number;
  deadLettered: number;
}

/** How long a relay claim keeps other receivers off a document: several delivery deadlines. */
const LEASE_MS = 30_000;
/** Longest wait between two probes of a Temporal that is down, and between two tries of one event. */
const MAX_PROBE_INTERVAL_MS = 5_000;
const MAX_RETRY_DELAY_MS = 5 * 60_000;

type Outcome = 'delivered' | 'retry' | 'dead' | 'skipped';

/** Temporal said the request itself is wrong (INVALID_ARGUMENT): retrying the same event cannot help. */
export function isPermanentRejection(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && (e.code as number) === 3) return true;
  }
  return false;
}

const message = (err: unknown) =>
  err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);

export class Dispatcher {
  private readonly queue: Array<{ doc: InboxDoc; claim: boolean; done: (o: Outcome) => void }> = [];
  private inFlight = 0;
  private readonly counts = { delivered: 0, failed: 0, deadLettered: 0 };
  private down: { since: number; error: string } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private passing: Promise<void> | null = null;
  private stopped = false;
  /** The last relay pass took as many documents as it had room for: there is a backlog. */
  private backlog = false;
  /** Relay passes in a row that could not read the inbox. */
  private dbFailures = 0;
  private readonly idle = new Set<() => void>();
  private readonly now: () => number;
  private readonly batch: number;
  private readonly maxQueued: number;

  constructor(private readonly opts: DispatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.batch = opts.relayBatch ?? 200;
    this.maxQueued = opts.maxQueued ?? 2_000;
  }

  status(): DispatcherStatus {
    return {
      temporalDown: this.down && { since: new Date(this.down.since).toISOString(), error: this.down.error },
      inFlight: this.inFlight,
      queued: this.queue.length,
      ...this.counts,
    };
  }

  /**
   * Hands just-inserted documents to Temporal without waiting. Skipped while Temporal is down or
   * the queue is full: the documents are in the inbox, and the relay takes them after their grace.
   */
  offer(docs: InboxDoc[]): void {
    if (this.stopped || this.down || this.queue.length + docs.length > this.maxQueued) return;
    for (const doc of docs) this.queue.push({ doc, claim: false, done: () => {} });
    this.pump();
  }

  /** Starts the relay loop: one pass now, then one per interval (backing off while Temporal is down). */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the relay and waits for deliveries in flight; queued events stay in the inbox for the relay. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const q of this.queue.splice(0)) q.done('skipped');
    await this.passing;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** One relay pass: delivers due documents. Returns how many it delivered. */
  async relayOnce(): Promise<number> {
    const down = this.down;
    if (down) {
      // Probe with a cheap call before touching the inbox again.
      try {
        await this.opts.signaler.ping();
        this.opts.logger.info('Temporal reachable again, relaying the inbox', { downSince: new Date(down.since).toISOString() });
        this.down = null;
      } catch (err) {
        down.error = message(err);
        return 0;
      }
    }
    const room = Math.max(0, Math.min(this.batch, this.maxQueued - this.queue.length));
    if (room === 0) {
      // The hand-off queue is full; wait the interval rather than spin.
      this.backlog = false;
      return 0;
    }
    const due = await dueInInbox(this.opts.inbox, new Date(this.now()), room);
    this.backlog = due.length === room;
    const outcomes = await Promise.all(
      due.map(
        (doc) =>
          new Promise<Outcome>((done) => {
            this.queue.push({ doc, claim: true, done });
            this.pump();
          }),
      ),
    );
    return outcomes.filter((o) => o === 'delivered').length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.passing = this.relayOnce()
        .then(() => {
          if (this.dbFailures > 0) this.opts.logger.info('inbox relay reads the database again', { failedPasses: this.dbFailures });
          this.dbFailures = 0;
        })
        .catch((err) => {
          // The database is down or slow: nothing is lost, the documents wait. Said once, not every pass.
          if (this.dbFailures++ === 0) this.opts.logger.warn('inbox relay cannot read the database; retrying', { err });
        })
        .then(() => {
          this.passing = null;
          const dbBackoff = this.dbFailures > 0 ? Math.min(MAX_PROBE_INTERVAL_MS, this.opts.relayIntervalMs * 2 ** this.dbFailures) : 0;
          // A backlog (after an outage or a restart) drains pass after pass, without the pause.
          const pause = this.down ? this.probeInterval() : this.backlog ? 0 : this.opts.relayIntervalMs;
          this.schedule(Math.max(dbBackoff, pause));
        });
    }, delayMs);
    this.timer.unref();
  }

  private probeInterval(): number {
    const downFor = this.down ? this.now() - this.down.since : 0;
    return Math.min(MAX_PROBE_INTERVAL_MS, Math.max(this.opts.relayIntervalMs, downFor / 4));
  }

  private pump(): void {
    // Deliveries share the event loop with the acknowledgements; a burst's acks go first, the backlog waits (at least one runs).
    const limit = this.opts.acking?.()
      ? Math.max(1, Math.min(this.opts.concurrency, this.opts.concurrencyWhileAcking ?? 4))
      : this.opts.concurrency;
    while (this.inFlight < limit && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.inFlight++;
      void this.deliver(item.doc, item.claim)
        .catch((err) => {
          this.opts.logger.warn('inbox delivery bookkeeping failed; the relay will deliver it again', { id: item.doc._id, err });
          return 'retry' as const;
        })
        .then((o) => {
          this.inFlight--;
          item.done(o);
          if (this.inFlight === 0 && this.queue.length === 0) {
            for (const f of this.idle) f();
            this.idle.clear();
          }
          this.pump();
        });
    }
  }

  private async deliver(doc: InboxDoc, claim: boolean): Promise<Outcome> {
    // Temporal went down while this waited: leave it for the relay rather than fail it again.
    if (this.down || (this.stopped && claim)) return 'skipped';
    const now = this.now();
    // A hand-off that could still be running when the relay may take the document is left to the
    // relay, so one event is not signalled twice just because the queue was long.
    if (!claim && now - doc.receivedAt.getTime() > HANDOFF_GRACE_MS - DELIVER_DEADLINE_MS) return 'skipped';
    if (claim && !(await claimInInbox(this.opts.inbox, doc, new Date(now), LEASE_MS))) return 'skipped';
    let event: CallEvent;
    try {
      event = eventOf(doc);
    } catch (err) {
      // Only a hand-edited document can get here; retrying cannot mend it.
      this.counts.deadLettered++;
      await deadLetter(this.opts.inbox, doc, `unreadable event: ${message(err)}`);
      return 'dead';
    }
    try {
      await this.opts.signaler.deliver(doc.orgId, doc.provider, event);
    } catch (err) {
      const error = message(err);
      if (isPermanentRejection(err)) {
        this.opts.logger.error('Temporal refused an event for good; it is kept in the inbox as a dead letter', {
          id: doc._id,
          callId: doc.callId,
          error,
        });
        this.counts.deadLettered++;
        await deadLetter(this.opts.inbox, doc, error);
        return 'dead';
      }
      if (!this.down) {
        this.down = { since: now, error };
        this.opts.logger.warn('Temporal unavailable: events wait in the inbox until it is back', { error });
      }
      this.counts.failed++;
      const delay = Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** Math.min(doc.attempts, 20)) * (0.75 + Math.random() / 2);
      await retryLater(this.opts.inbox, doc, new Date(this.now() + delay), error);
      return 'retry';
    }
    this.counts.delivered++;
    await removeFromInbox(this.opts.inbox, doc._id);
    return 'delivered';
  }
}

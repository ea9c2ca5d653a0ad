// From the inbox to the call's workflow: an immediate hand-off of each fresh event, and a relay loop
// in every receiver for whatever is left (a crash or restart, Temporal down, the hand-off queue full).
// A document moves to the event log once Temporal holds its event: at-least-once, the reducer drops
// duplicates. Temporal unreachable (its probe fails) is waited for; any other failure is the event's,
// retried a bounded number of times, then kept as a dead letter with the reason.
import type { Collection } from 'mongodb';
import type { CallEvent } from '../domain/events';
import type { Logger } from '../observability/log';
import type { InboxClaimDoc } from '../store/types';
import { EVENT_MAX_TRIES, groupByCall, isPermanentRejection, message } from './deliveryRules';
import {
  HANDOFF_GRACE_MS,
  type InboxDoc,
  claimBatch,
  deadLetter,
  dueAmong,
  dueInInbox,
  eventOf,
  frontOfInbox,
  removeFromInbox,
  retryLater,
  sweepClaims,
} from '../store/inbox';
import { type CallSignaler, DELIVER_DEADLINE_MS } from './client';

export interface DispatcherOptions {
  inbox: Collection<InboxDoc>;
  /** Where delivered events are kept (src/store/eventLog.ts). */
  eventLog: Collection<InboxDoc>;
  /** The relay's claims (src/store/inbox.ts claimBatch). */
  claims: Collection<InboxClaimDoc>;
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
/**
 * The relay reads the front of the inbox (cheap) and picks the due documents; when the front holds
 * none while it was full (dead letters, retries or others' claims in front), it reads the whole
 * inbox instead, at most this often.
 */
const FULL_READ_EVERY_MS = 15_000;
/** How long the relay remembers a document it let go of (longer than any read of the inbox takes). */
const LET_GO_KEPT_MS = 2 * 60_000;
/** How often the relay removes claims that hold nothing any more. */
const CLAIM_SWEEP_EVERY_MS = 60_000;
/** Longest wait between two probes of a Temporal that is down, and between two tries of one event. */
const MAX_PROBE_INTERVAL_MS = 5_000;
const MAX_RETRY_DELAY_MS = 5 * 60_000;

type Outcome = 'delivered' | 'retry' | 'dead' | 'skipped';

/** One call's events, given to its workflow in one signal. */
interface Group {
  docs: InboxDoc[];
  fromRelay: boolean;
  done: (o: Outcome[]) => void;
  /** Its delivery started (a webhook's answer may wait for this). */
  taken?: () => void;
}
const docsIn = (groups: Group[]) => groups.reduce((n, g) => n + g.docs.length, 0);

export class Dispatcher {
  /** Fresh events from the hand-off go first; the relay's backlog has its own queue. */
  private readonly fresh: Group[] = [];
  private readonly relayed: Group[] = [];
  private inFlight = 0;
  private relayInFlight = 0;
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
  /** Delivered events on their way from the inbox to the event log, and how many. */
  private readonly moving = new Set<Promise<void>>();
  private movingDocs = 0;
  /** Documents this process holds: claimed by its relay, or delivered and on their way to the log. Its relay skips them. */
  private readonly held = new Set<string>();
  /** When this process let go of a document: a read begun before may still return it, and a later window's claim win. */
  private readonly letGo = new Map<string, number>();
  private lastFullRead = 0;
  private lastClaimSweep = 0;
  /** Who claims, in inbox_claims. */
  private readonly claimer = `${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  /** Relay passes waiting for the queue to have room for another batch (src: the relay loop). */
  private readonly roomWaiters = new Set<() => void>();
  private readonly now: () => number;
  private readonly batch: number;
  private readonly maxQueued: number;
  /** Delivery slots the relay may use: the rest stay free for fresh events, so they never wait behind a backlog. */
  private readonly relaySlots: number;

  constructor(private readonly opts: DispatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.batch = opts.relayBatch ?? 500;
    this.maxQueued = opts.maxQueued ?? 2_000;
    this.relaySlots = Math.max(1, opts.concurrency - Math.max(1, Math.floor(opts.concurrency / 4)));
  }

  status(): DispatcherStatus {
    const queued = docsIn(this.fresh) + docsIn(this.relayed);
    return {
      temporalDown: this.down && { since: new Date(this.down.since).toISOString(), error: this.down.error },
      inFlight: this.inFlight,
      queued,
      ...this.counts,
    };
  }

  /**
   * Hands just-inserted documents to Temporal, one signal per call; skipped while Temporal is down or
   * the fresh queue is full (the relay's backlog does not count): the relay takes them after their
   * grace. Resolves once every delivery started or was skipped: what a webhook's answer waits for.
   */
  offer(docs: InboxDoc[]): Promise<void> {
    if (this.stopped || this.down || docs.length === 0 || docsIn(this.fresh) + docs.length > this.maxQueued) return Promise.resolve();
    const started = groupByCall(docs).map(
      (g) => new Promise<void>((taken) => this.fresh.push({ docs: g, fromRelay: false, done: () => taken(), taken })),
    );
    this.pump();
    return Promise.all(started).then(() => undefined);
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
    for (const g of [...this.fresh.splice(0), ...this.relayed.splice(0)]) g.done(g.docs.map(() => 'skipped'));
    for (const f of this.roomWaiters) f();
    this.roomWaiters.clear();
    await this.passing;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
    await this.movesDone();
  }

  /** Resolves once every delivered event so far is in the event log (or its move failed and was logged). */
  private async movesDone(): Promise<void> {
    while (this.moving.size > 0) await Promise.all([...this.moving]);
  }

  /** The relay loop may read the next batch: room for it in the queue, and the moves to the log not far behind. */
  private hasRoom(): boolean {
    return this.stopped || (docsIn(this.relayed) <= this.batch && this.movingDocs <= 2 * this.batch);
  }

  private wakeRelay(): void {
    if (this.roomWaiters.size === 0 || !this.hasRoom()) return;
    for (const f of this.roomWaiters) f();
    this.roomWaiters.clear();
  }

  /**
   * One relay pass: claims due documents in one write and delivers them, a call's together. Returns
   * how many it delivered, once they are in the event log. With `overlap` (the relay loop) it
   * returns as soon as the queue has room for another batch, so the next pass's read and claim run
   * while this one's deliveries do; it then returns 0.
   */
  async relayOnce(overlap = false): Promise<number> {
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
    const room = Math.max(0, Math.min(this.batch, this.maxQueued - docsIn(this.relayed)));
    if (room === 0) {
      // The relay's queue is full; wait the interval rather than spin.
      this.backlog = false;
      return 0;
    }
    const now = new Date(this.now());
    await this.sweepClaims(now);
    this.forgetLetGo(now.getTime());
    const readAt = this.now();
    const skip = { has: (id: string) => this.held.has(id) || (this.letGo.get(id) ?? -1) >= readAt };
    // The documents this process holds are in the inbox's front too: read past them.
    const window = room + this.held.size;
    const front = await frontOfInbox(this.opts.inbox, window);
    let due = dueAmong(front, now, room, skip);
    if (due.length === 0 && front.length === window && now.getTime() - this.lastFullRead >= FULL_READ_EVERY_MS) {
      this.lastFullRead = now.getTime();
      due = dueAmong(await dueInInbox(this.opts.inbox, now, window), now, room, skip);
    }
    this.backlog = due.length === room;
    const claimed = await claimBatch(this.opts.claims, due, now, LEASE_MS, this.claimer);
    for (const d of claimed) this.held.add(d._id);
    const outcomes = Promise.all(
      groupByCall(claimed).map(
        (docs) =>
          new Promise<Outcome[]>((done) => {
            this.relayed.push({
              docs,
              fromRelay: true,
              done: (o) => {
                // Delivered ones stay held until they are in the log (moveToLog lets go of them).
                docs.forEach((d, i) => o[i] !== 'delivered' && this.release(d._id));
                done(o);
              },
            });
            this.pump();
          }),
      ),
    );
    if (overlap) {
      await Promise.race([outcomes, new Promise<void>((resolve) => (this.hasRoom() ? resolve() : this.roomWaiters.add(resolve)))]);
      return 0;
    }
    const delivered = (await outcomes).flat().filter((o) => o === 'delivered').length;
    await this.movesDone();
    return delivered;
  }

  private release(id: string): void {
    this.held.delete(id);
    this.letGo.delete(id);
    this.letGo.set(id, this.now());
  }

  /** Reads of the inbox end well within this; what was let go before their start no longer matters. */
  private forgetLetGo(now: number): void {
    for (const [id, at] of this.letGo) {
      if (at >= now - LET_GO_KEPT_MS) break;
      this.letGo.delete(id);
    }
  }

  private async sweepClaims(now: Date): Promise<void> {
    if (now.getTime() - this.lastClaimSweep < CLAIM_SWEEP_EVERY_MS) return;
    this.lastClaimSweep = now.getTime();
    await sweepClaims(this.opts.claims, now, LEASE_MS).catch((err: unknown) =>
      this.opts.logger.warn('could not remove old inbox claims; trying again later', { err }),
    );
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.passing = this.relayOnce(true)
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
    while (this.inFlight < limit) {
      const fromRelay = this.fresh.length === 0;
      if (fromRelay && (this.relayed.length === 0 || this.relayInFlight >= this.relaySlots)) return;
      const group = fromRelay ? this.relayed.shift()! : this.fresh.shift()!;
      group.taken?.();
      if (fromRelay) this.wakeRelay();
      this.inFlight++;
      if (fromRelay) this.relayInFlight++;
      void this.deliver(group)
        .catch((err) => {
          this.opts.logger.warn('inbox delivery bookkeeping failed; the relay will deliver it again', { id: group.docs[0]._id, err });
          return group.docs.map(() => 'retry' as const);
        })
        .then((o) => {
          this.inFlight--;
          if (fromRelay) this.relayInFlight--;
          group.done(o);
          if (this.inFlight === 0 && this.fresh.length === 0 && this.relayed.length === 0) {
            for (const f of this.idle) f();
            this.idle.clear();
          }
          this.pump();
        });
    }
  }

  private async deliver(group: Group): Promise<Outcome[]> {
    const { docs, fromRelay } = group;
    const skipped = docs.map(() => 'skipped' as const);
    // Temporal went down while this waited: leave it for the relay rather than fail it again.
    if (this.down || (this.stopped && fromRelay)) return skipped;
    const now = this.now();
    // A hand-off that could still be running when the relay may take the document is left to the
    // relay, so one event is not signalled twice just because the queue was long.
    if (!fromRelay && now - docs[0].receivedAt.getTime() > HANDOFF_GRACE_MS - DELIVER_DEADLINE_MS) return skipped;
    const readable: Array<{ doc: InboxDoc; event: CallEvent }> = [];
    const out = new Map<string, Outcome>();
    for (const doc of docs) {
      try {
        readable.push({ doc, event: eventOf(doc) });
      } catch (err) {
        // Only a hand-edited document can get here; retrying cannot mend it.
        this.counts.deadLettered++;
        await deadLetter(this.opts.inbox, doc, `unreadable event: ${message(err)}`);
        out.set(doc._id, 'dead');
      }
    }
    if (readable.length > 0) {
      try {
        await this.opts.signaler.deliver(
          docs[0].orgId,
          docs[0].provider,
          readable.map((r) => r.event),
        );
        this.counts.delivered += readable.length;
        this.moveToLog(readable.map((r) => r.doc));
        for (const r of readable) out.set(r.doc._id, 'delivered');
      } catch (err) {
        if (isPermanentRejection(err) && readable.length > 1) {
          // Which of the call's events is refused is unknown: each goes again alone, now.
          for (const r of readable) {
            const [o] = await this.deliver({ docs: [r.doc], fromRelay: true, done: () => {} });
            out.set(r.doc._id, o);
          }
        } else {
          const o = await this.failed(
            readable.map((r) => r.doc),
            err,
            now,
          );
          for (const r of readable) out.set(r.doc._id, o);
        }
      }
    }
    return docs.map((d) => out.get(d._id) ?? 'skipped');
  }

  /** Temporal has these events: their slot is free; the move to the log runs on, they stay held until it is done. */
  private moveToLog(docs: InboxDoc[]): void {
    this.movingDocs += docs.length;
    for (const d of docs) this.held.add(d._id);
    const move: Promise<void> = Promise.all(docs.map((d) => removeFromInbox({ inbox: this.opts.inbox, eventLog: this.opts.eventLog }, d)))
      .then(
        () => undefined,
        (err: unknown) => {
          this.opts.logger.warn('could not move delivered events to the event log; the relay will deliver them again', {
            ids: docs.map((d) => d._id),
            err,
          });
        },
      )
      .finally(() => {
        this.moving.delete(move);
        this.movingDocs -= docs.length;
        for (const d of docs) this.release(d._id);
        this.wakeRelay();
      });
    this.moving.add(move);
  }

  /** A signal failed: Temporal down (its probe fails) waits for it; otherwise it is these events' problem. */
  private async failed(docs: InboxDoc[], err: unknown, now: number): Promise<Outcome> {
    const error = message(err);
    const permanent = isPermanentRejection(err);
    // Only a failed health probe means Temporal is down; an answer about this event is this event's problem.
    const reachable =
      !permanent &&
      (await this.opts.signaler.ping().then(
        () => true,
        () => false,
      ));
    const doc = docs[0];
    if (permanent || (reachable && doc.attempts + 1 >= EVENT_MAX_TRIES)) {
      this.opts.logger.error('an event could not be delivered; it is kept in the inbox as a dead letter, to replay', {
        ids: docs.map((d) => d._id),
        callId: doc.callId,
        attempts: doc.attempts + 1,
        error,
      });
      this.counts.deadLettered += docs.length;
      await Promise.all(docs.map((d) => deadLetter(this.opts.inbox, d, error)));
      return 'dead';
    }
    if (!reachable && !this.down) {
      this.down = { since: now, error };
      this.opts.logger.warn('Temporal unavailable: events wait in the inbox until it is back', { error });
    } else if (reachable) {
      this.opts.logger.warn('Temporal did not take an event; it will be tried again', { id: doc._id, attempts: doc.attempts + 1, error });
    }
    this.counts.failed += docs.length;
    const delay = Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** Math.min(doc.attempts, 20)) * (0.75 + Math.random() / 2);
    await Promise.all(docs.map((d) => retryLater(this.opts.inbox, d, new Date(this.now() + delay), error)));
    return 'retry';
  }
}

// Prometheus metrics (prom-client). Every metric's name, help text and labels are written here
// once. Each process builds its own registry, so tests can run several apps side by side. Labels
// never hold organization, call or contact ids: a bounded set of series, and nothing about a
// tenant in a scrape that is not behind an API key.
import http from 'node:http';
import { CancelledFailure, type Context as ActivityContext } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Activities } from '../activities';
import type { Logger } from './log';
import type { InboxStats } from './store/inbox';
import type { CallSignaler } from './temporal/client';
import { isPermanentRejection, type DispatcherStatus } from './temporal/dispatcher';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const WEBHOOK_RESULTS = [
  'accepted',
  'duplicate',
  'invalid',
  'unauthorized',
  'forbidden',
  'unknown_provider',
  'too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'error',
] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

/**
 * How often a scrape may run the database counts behind the inbox and stale gauges. /metrics needs
 * no key, so anyone who reaches it could otherwise make the database count at their own pace.
 */
export const SCRAPE_DB_READ_EVERY_MS = 5_000;

/** One database read per SCRAPE_DB_READ_EVERY_MS at most, however often /metrics is asked; null when it fails or has no source. */
function throttled<T>(read: () => Promise<T> | undefined, clock: () => number): () => Promise<T | null> {
  let last: { at: number; value: Promise<T | null> } | undefined;
  return () => {
    const now = clock();
    if (!last || now - last.at >= SCRAPE_DB_READ_EVERY_MS) last = { at: now, value: (read() ?? Promise.resolve(null)).catch(() => null) };
    return last.value;
  };
}

export function createReceiverMetrics(opts: { processMetrics?: boolean; now?: () => number } = {}) {
  const registry = new Registry();
  // Node's own: CPU, memory, event-loop lag, handles.
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const sources: { inbox?: () => Promise<InboxStats>; staleCalls?: () => Promise<number>; dispatcher?: () => DispatcherStatus } = {};
  const clock = opts.now ?? Date.now;
  const inbox = throttled(() => sources.inbox?.(), clock);
  const staleCalls = throttled(() => sources.staleCalls?.(), clock);
  /** A gauge read from the inbox on scrape; no sample while the database cannot answer (absent() alerts see it). */
  const inboxGauge = (name: string, help: string, pick: (s: InboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const s = await inbox();
        if (s) this.set(pick(s));
        else this.reset();
      },
    });
  return {
    registry,
    sources,
    httpRequests: new Counter({
      name: 'calls_api_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'calls_api_http_request_duration_seconds',
      help: 'Time from request to response, by method and route template',
      labelNames: ['method', 'route'] as const,
      buckets: SECONDS,
      registers,
    }),
    webhooks: new Counter({
      name: 'calls_api_webhooks_total',
      help: 'Webhook requests by platform and result (accepted: events made durable; duplicate: the inbox still held them all, a retry before hand-off)',
      labelNames: ['provider', 'result'] as const,
      registers,
    }),
    signals: new Counter({
      name: 'calls_api_signals_total',
      help: 'Inbox events handed to Temporal (signalWithStart) by result: sent, failed (retried later), rejected (dead letter)',
      labelNames: ['result'] as const,
      registers,
    }),
    signalDuration: new Histogram({
      name: 'calls_api_signal_duration_seconds',
      help: 'Time one signalWithStart to the call workflow took, failures included',
      buckets: SECONDS,
      registers,
    }),
    inboxDepth: inboxGauge('calls_api_inbox_depth', 'Events received but not yet in Temporal (dead letters apart)', (s) => s.depth),
    inboxOldestAge: inboxGauge(
      'calls_api_inbox_oldest_age_seconds',
      'Age of the oldest event not yet in Temporal; 0 when none waits',
      (s) => s.oldestAgeSec,
    ),
    inboxDeadLetters: inboxGauge(
      'calls_api_inbox_dead_letters',
      'Events Temporal refused for good; each needs a person',
      (s) => s.deadLetters,
    ),
    staleCalls: new Gauge({
      name: 'calls_api_calls_stale',
      help: 'Calls marked stale: no event for CALL_STALE_AFTER, and their platform could not say how they ended (GET /api/calls?stale=true)',
      registers,
      async collect() {
        const n = await staleCalls();
        if (n === null) this.reset();
        else this.set(n);
      },
    }),
    dispatchInFlight: new Gauge({
      name: 'calls_api_dispatch_in_flight',
      help: "This receiver's signalWithStart calls in flight",
      registers,
      collect() {
        if (sources.dispatcher) this.set(sources.dispatcher().inFlight);
      },
    }),
    temporalDown: new Gauge({
      name: 'calls_api_temporal_down',
      help: '1 while this receiver finds Temporal unreachable (events wait in the inbox), else 0',
      registers,
      collect() {
        if (sources.dispatcher) this.set(sources.dispatcher().temporalDown ? 1 : 0);
      },
    }),
  };
}
export type ReceiverMetrics = ReturnType<typeof createReceiverMetrics>;

/** The signaler with each delivery counted and timed; the dispatcher uses it unchanged. */
export function countedSignaler(signaler: CallSignaler, m: Pick<ReceiverMetrics, 'signals' | 'signalDuration'>): CallSignaler {
  return {
    ping: () => signaler.ping(),
    async deliver(orgId, provider, event) {
      const end = m.signalDuration.startTimer();
      try {
        const r = await signaler.deliver(orgId, provider, event);
        m.signals.inc({ result: 'sent' });
        return r;
      } catch (err) {
        m.signals.inc({ result: isPermanentRejection(err) ? 'rejected' : 'failed' });
        throw err;
      } finally {
        end();
      }
    },
  };
}

export function createWorkerMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    activities: new Counter({
      name: 'calls_api_activities_total',
      help: 'Activity attempts finished in this worker, by activity type and outcome (completed, failed, cancelled)',
      labelNames: ['activity', 'outcome'] as const,
      registers,
    }),
    activityDuration: new Histogram({
      name: 'calls_api_activity_duration_seconds',
      help: 'Time one activity attempt took, by activity type',
      labelNames: ['activity'] as const,
      buckets: SECONDS,
      registers,
    }),
    followUps: new Counter({
      name: 'calls_api_follow_ups_total',
      help: 'Follow-up plan changes written to call records, by the state they leave the plan in (scheduled, placed, due, canceled, exhausted, answered...)',
      labelNames: ['state'] as const,
      registers,
    }),
    dialRefusals: new Counter({
      name: 'calls_api_follow_up_dial_refusals_total',
      help: "Follow-up attempts not dialed and left due for a person, by guard: country (not an allowed calling code), number_type (premium rate, shared cost, UAN, personal, international network), budget (the organization's daily dial budget is used)",
      labelNames: ['guard'] as const,
      registers,
    }),
    emails: new Counter({
      name: 'calls_api_emails_total',
      help: 'Thank-you emails by final state: sent, skipped (no contact, address or SMTP server), failed (out of tries)',
      labelNames: ['state'] as const,
      registers,
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

type ActivityName = keyof Activities;
const SKIP_TYPES = new Set(['NoEmailAddress', 'NoMailer']);

/**
 * Counts emails and follow-up states from the activities that decide them, as they finish:
 * counters, not database scans, so a scrape costs nothing. A worker that dies after an activity's
 * write and before reporting it makes Temporal run it again, which can count that one twice.
 */
function countOutcome(m: WorkerMetrics, activity: string, args: unknown[], result: unknown, err: unknown): void {
  switch (activity as ActivityName) {
    case 'thankYouSkipReason':
      if (!err && typeof result === 'string') m.emails.inc({ state: 'skipped' });
      return;
    case 'sendThankYouEmail':
      if (!err && (result as { status?: string })?.status === 'sent') m.emails.inc({ state: 'sent' });
      else if (err instanceof ApplicationFailure && SKIP_TYPES.has(err.type ?? '')) m.emails.inc({ state: 'skipped' });
      return;
    case 'recordEmailFailure':
      if (!err) m.emails.inc({ state: 'failed' });
      return;
    case 'placeFollowUpCall': {
      const guard = (result as { refusedBy?: string } | undefined)?.refusedBy;
      if (!err && guard) m.dialRefusals.inc({ guard });
      return;
    }
    case 'recordFollowUp': {
      const state = (args[0] as { plan?: { status?: string } })?.plan?.status;
      if (!err && result === 'saved' && state) m.followUps.inc({ state });
      return;
    }
  }
}

/** Worker interceptor: every activity attempt (local ones too) counted by type and outcome, and timed. */
export function activityMetrics(m: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const end = m.activityDuration.startTimer({ activity });
        try {
          const result = await next(input);
          m.activities.inc({ activity, outcome: 'completed' });
          countOutcome(m, activity, input.args, result, undefined);
          return result;
        } catch (err) {
          m.activities.inc({ activity, outcome: err instanceof CancelledFailure ? 'cancelled' : 'failed' });
          countOutcome(m, activity, input.args, undefined, err);
          throw err;
        } finally {
          end();
        }
      },
    },
  });
}

/**
 * GET /metrics on its own small HTTP server (the worker has no other). A port in use (a second
 * worker on the same host) is logged and skipped: metrics must never stop the worker.
 */
export function serveMetrics(registry: Registry, port: number, host: string, logger: Logger): Promise<http.Server | null> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'Not Found', message: 'Only GET /metrics is served here' }));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}`),
    );
  });
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      logger.warn('metrics endpoint not started', { port, host, error: err.code ?? err.message });
      resolve(null);
    });
    server.listen(port, host, () => {
      const addr = server.address();
      logger.info('metrics endpoint listening', { url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/metrics` });
      resolve(server);
    });
  });
}

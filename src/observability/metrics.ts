// The receiver's Prometheus metrics (prom-client); the worker's are in workerMetrics.ts, the
// worker's HTTP endpoint in metricsServer.ts. Every metric's name, help text and labels are written
// once. Each process builds its own registry, so tests can run several apps side by side. Labels
// never hold organization, call or contact ids: a bounded set of series, and nothing about a
// tenant in a scrape that is not behind an API key.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InboxStats } from '../store/inbox';
import type { CallSignaler } from '../temporal/client';
import type { DispatcherStatus } from '../temporal/dispatcher';
import { isPermanentRejection } from '../temporal/deliveryRules';

/** Latency buckets (seconds) of every histogram, the receiver's and the worker's. */
export const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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

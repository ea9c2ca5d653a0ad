// Environment → typed, validated configuration. The only reader of process.env: every other
// module takes what it needs as arguments. A bad value stops start-up with a message naming it.
import { z } from 'zod';
import { parseDuration } from './domain/duration';
import type { Outcome } from './domain/events';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './http/rateLimit';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 10m, 2h (got "${v}")` });
        return z.NEVER;
      }
      return ms;
    });

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** The worker's defaults (docs/performance.md); the cache's size follows the heap, see defaultMaxCachedWorkflows. */
export const WORKER_DEFAULTS = {
  maxConcurrentWorkflowTasks: 40,
  maxConcurrentActivities: 100,
  stickyTimeout: '10s',
  /** Behind the receiver, Temporal and the database on a shared machine: acknowledgements first, the drain after. */
  nice: 10,
};

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const schema = z.object({
  PORT: port(3000),
  /** Loopback by default, so a dev receiver is not on the network; production sets 0.0.0.0. */
  HOST: z.string().default('127.0.0.1'),
  /** Public base URL of the receiver, as the platforms call it (Twilio signs the full URL). */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** The receiver sits behind a reverse proxy that sets X-Forwarded-Proto/-Host/-For. */
  TRUST_PROXY: bool(false),
  /** Requests per second and burst per API key, per route class, in each receiver process; 0 = no limit. */
  RATE_LIMIT_WEBHOOK: z.coerce.number().min(0).default(DEFAULT_RATE_LIMITS.webhook.perSecond),
  RATE_LIMIT_WEBHOOK_BURST: z.coerce.number().int().min(1).default(DEFAULT_RATE_LIMITS.webhook.burst),
  RATE_LIMIT_READ: z.coerce.number().min(0).default(DEFAULT_RATE_LIMITS.read.perSecond),
  RATE_LIMIT_READ_BURST: z.coerce.number().int().min(1).default(DEFAULT_RATE_LIMITS.read.burst),
  RATE_LIMIT_CONTROL: z.coerce.number().min(0).default(DEFAULT_RATE_LIMITS.control.perSecond),
  RATE_LIMIT_CONTROL_BURST: z.coerce.number().int().min(1).default(DEFAULT_RATE_LIMITS.control.burst),
  WEBHOOK_BODY_LIMIT: z.string().default('10mb'),
  /** Bytes of large request bodies one receiver holds at once; past it they are answered 503 with Retry-After. */
  BODY_BYTES_IN_FLIGHT: z.string().default('32mb'),

  MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('calls_api'),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('calls'),
  TEMPORAL_UI_URL: z.string().default('http://localhost:8233'),
  /** Pause between two passes of the receiver's inbox relay (events Temporal does not have yet). */
  INBOX_RELAY_INTERVAL: duration('1s'),
  /** signalWithStart calls one receiver keeps in flight; Temporal's dev server has one history shard. */
  INBOX_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  /**
   * signalWithStart calls kept in flight while webhooks wait for their insert (acks first). 32, as
   * many as otherwise: 4 cost the drain about 18 % and gained the acks nothing measurable (docs/performance.md).
   */
  INBOX_DISPATCH_WHILE_ACKING: z.coerce.number().int().min(1).max(1000).default(32),
  /**
   * How long a webhook's 200 may wait, after its event is durable in the inbox, for the hand-off to
   * start its delivery: acknowledgements then keep pace with what Temporal takes, and a burst does not
   * pile up in the inbox. Bounded well below the platforms' 10 s retry timeout; 0 answers at once.
   */
  INBOX_ACK_HOLD: duration('2s').refine((ms) => ms <= 8_000, 'at most 8s: Retell retries a webhook not answered within 10 s'),
  /** How long delivered events, their requests and refused requests are kept (docs/event-log.md). */
  EVENT_RETENTION: duration('30d'),

  /** How long a finished call's workflow waits for the recording before it closes. */
  RECORDING_WAIT: duration('15m'),
  /** A call that never reaches a final state is closed after this long without events. */
  CALL_IDLE_TIMEOUT: duration('24h'),
  /** Without an event for this long, an unfinished call's platform is asked how it stands (src/domain/stale.ts). */
  CALL_STALE_AFTER: duration('30m'),
  /** Start-to-close timeout of one activity attempt (retries follow with backoff). */
  ACTIVITY_TIMEOUT: duration('30s'),
  /** A contact's workflow (the writer of its call figures) closes after this long without a call. */
  CONTACT_IDLE_CLOSE: duration('10m'),
  FOLLOW_UP_DELAY: duration('2h'),
  FOLLOW_UP_MAX_ATTEMPTS: z.coerce.number().int().min(0).max(20).default(3),
  /** Attempts per call counting manual retries and schedules too; retryNow cannot go past it. */
  FOLLOW_UP_HARD_CAP: z.coerce.number().int().min(0).max(50).default(10),
  FOLLOW_UP_ON_BUSY: bool(true),
  /** How long a placed (or due) follow-up call may take to report its result before a person is asked to look. */
  FOLLOW_UP_RESULT_WAIT: duration('24h'),
  /** Tries of the dialer activity (platform API down, 429/503) before the attempt is handed to a person. */
  FOLLOW_UP_DIAL_MAX_TRIES: z.coerce.number().int().min(1).max(50).default(5),
  /** HTTP timeout of one request to a platform's outbound-call API. */
  FOLLOW_UP_DIAL_TIMEOUT: duration('15s'),

  SMTP_HOST: z.string().default('127.0.0.1'),
  SMTP_PORT: port(1025),
  SMTP_SECURE: bool(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().default('Calls <calls@localhost>'),
  /** Connection and socket timeout of one SMTP attempt. */
  SMTP_TIMEOUT: duration('10s'),
  /** Tries of the thank-you email (SMTP down) before the call record says it failed. */
  EMAIL_MAX_TRIES: z.coerce.number().int().min(1).max(50).default(5),

  /** Key that encrypts stored signing secrets and dialer API keys: 32 bytes, hex or base64. */
  SECRETS_KEY: z.string().optional(),
  /** Where the key is read from when SECRETS_KEY is not set; dev-provision creates it for `make start`. */
  SECRETS_KEY_FILE: z.string().default('.data/secrets-key'),
  DEV_API_KEY: z.string().optional(),
  /** Where `dev-provision` keeps a generated development key when DEV_API_KEY is not set. */
  DEV_API_KEY_FILE: z.string().default('.data/dev-api-key'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * The worker's Prometheus endpoint (GET /metrics); 0 (the default) leaves it off, compose sets 9464.
   * Off by default: with it on, the worker's database client did not recover after the database
   * restart of test/e2e/faults.test.ts (4 runs of 4; 0 of 5 without it; 2 later runs with it passed): cause open.
   */
  WORKER_METRICS_PORT: port(0),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  /** The SDK core's own Prometheus endpoint (sticky cache hits/misses, task latencies) on WORKER_METRICS_HOST; 0 = off. */
  WORKER_CORE_METRICS_PORT: port(0),
  /** Workflows the worker keeps in memory between tasks (an evicted one replays its history on its next event); unset: by heap size. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .refine((n) => n !== 1, '0 (no cache) or at least 2')
    .optional(),
  /** Workflow tasks one worker runs at once (the SDK's default is 40). */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1000).default(WORKER_DEFAULTS.maxConcurrentWorkflowTasks),
  /** Activities (local ones too) one worker runs at once. */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(WORKER_DEFAULTS.maxConcurrentActivities),
  /** How long a task waits on this worker's sticky queue before Temporal hands it to any worker (which then replays). */
  WORKER_STICKY_TIMEOUT: duration(WORKER_DEFAULTS.stickyTimeout),
  /** The worker's CPU priority (Unix nice, 0–19): while the machine is busy, the processes that acknowledge webhooks go first. */
  WORKER_NICE: z.coerce.number().int().min(0).max(19).default(WORKER_DEFAULTS.nice),
});

export interface Config {
  http: {
    port: number;
    host: string;
    publicBaseUrl?: string;
    trustProxy: boolean;
    bodyLimitBytes: number;
    bodyBytesInFlight: number;
    rateLimits: RateLimits;
  };
  mongo: { uri: string; db: string };
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string };
  inbox: { relayIntervalMs: number; dispatchConcurrency: number; dispatchWhileAcking: number; ackHoldMs: number; retentionMs: number };
  workflow: WorkflowSettings;
  smtp: { host: string; port: number; secure: boolean; user?: string; password?: string; from: string; timeoutMs: number };
  dialer: { timeoutMs: number };
  dev: { apiKey?: string; apiKeyFile: string };
  secrets: { key?: string; keyFile: string };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  workerMetrics: { port: number; host: string };
  worker: WorkerTuning;
}

/** Memory one cached call or contact workflow takes, with margin: the worker's RSS grew 0.40 MB a workflow at 1,200 (docs/performance.md). */
const CACHED_WORKFLOW_MB = 0.5;
/** Heap the worker needs besides its cache: the bundle, the activities' clients, a burst's garbage. */
const WORKER_BASE_HEAP_MB = 512;
/** A campaign's open calls and their contacts (10,000 calls, 5 a contact) fit; past that, memory grows for no gain. */
const MAX_DEFAULT_CACHE = 12_000;

/**
 * The cache a worker gets by default: as many workflows as the heap holds beside the worker's own
 * needs, up to a 10,000-call campaign's open calls and contacts. With Node's 4 GB heap that is 7,264,
 * where the SDK's own default (600 a GB, 2,310) evicts during a 3,000-call campaign.
 */
export function defaultMaxCachedWorkflows(heapLimitMb: number): number {
  return Math.max(100, Math.min(MAX_DEFAULT_CACHE, Math.floor((heapLimitMb - WORKER_BASE_HEAP_MB) / CACHED_WORKFLOW_MB)));
}

/** How the worker spends its memory and cores (src/bin/worker.ts). */
export interface WorkerTuning {
  /** Unset: defaultMaxCachedWorkflows of the worker's heap limit. */
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTasks: number;
  maxConcurrentActivities: number;
  stickyTimeoutMs: number;
  /** Unix nice of the worker's threads. */
  nice: number;
  /** The SDK core's Prometheus endpoint on WORKER_METRICS_HOST; 0 = off. */
  coreMetricsPort: number;
}

/** Settings the call workflow receives as input, so a running workflow never reads config. */
export interface WorkflowSettings {
  recordingWaitMs: number;
  idleTimeoutMs: number;
  /** No event for this long: ask the platform about the call (CALL_STALE_AFTER; the domain default when absent). */
  staleAfterMs?: number;
  activityTimeoutMs: number;
  /** How long a contact's workflow stays open without a call before it closes. */
  contactIdleMs: number;
  followUpDelayMs: number;
  followUpMaxAttempts: number;
  /** Attempts per call, manual ones included, that nothing raises (domain default when absent). */
  followUpHardCap?: number;
  followUpOn: Outcome[];
  followUpResultWaitMs: number;
  followUpDialMaxTries: number;
  emailMaxTries: number;
  /** History length at which a chatty call's workflow continues as new (Temporal's limit is 51,200). */
  maxHistoryEvents: number;
}

export class ConfigError extends Error {}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  return m ? Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]) : undefined;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as they do in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const bodyLimitBytes = parseSize(e.WEBHOOK_BODY_LIMIT);
  if (bodyLimitBytes === undefined) {
    throw new ConfigError(`Invalid configuration:\n  WEBHOOK_BODY_LIMIT: expected a size like 10mb (got "${e.WEBHOOK_BODY_LIMIT}")`);
  }
  const bodyBytesInFlight = parseSize(e.BODY_BYTES_IN_FLIGHT);
  if (bodyBytesInFlight === undefined || bodyBytesInFlight < bodyLimitBytes) {
    throw new ConfigError(
      `Invalid configuration:\n  BODY_BYTES_IN_FLIGHT: expected a size like 64mb, at least WEBHOOK_BODY_LIMIT (got "${e.BODY_BYTES_IN_FLIGHT}")`,
    );
  }
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      trustProxy: e.TRUST_PROXY,
      bodyLimitBytes,
      bodyBytesInFlight,
      rateLimits: {
        webhook: { perSecond: e.RATE_LIMIT_WEBHOOK, burst: e.RATE_LIMIT_WEBHOOK_BURST },
        read: { perSecond: e.RATE_LIMIT_READ, burst: e.RATE_LIMIT_READ_BURST },
        control: { perSecond: e.RATE_LIMIT_CONTROL, burst: e.RATE_LIMIT_CONTROL_BURST },
      },
    },
    mongo: { uri: e.MONGODB_URI, db: e.MONGODB_DB },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/+$/, ''),
    },
    inbox: {
      relayIntervalMs: e.INBOX_RELAY_INTERVAL,
      dispatchConcurrency: e.INBOX_DISPATCH_CONCURRENCY,
      dispatchWhileAcking: e.INBOX_DISPATCH_WHILE_ACKING,
      ackHoldMs: e.INBOX_ACK_HOLD,
      retentionMs: e.EVENT_RETENTION,
    },
    workflow: {
      recordingWaitMs: e.RECORDING_WAIT,
      idleTimeoutMs: e.CALL_IDLE_TIMEOUT,
      staleAfterMs: e.CALL_STALE_AFTER,
      activityTimeoutMs: e.ACTIVITY_TIMEOUT,
      contactIdleMs: e.CONTACT_IDLE_CLOSE,
      followUpDelayMs: e.FOLLOW_UP_DELAY,
      followUpMaxAttempts: e.FOLLOW_UP_MAX_ATTEMPTS,
      followUpHardCap: e.FOLLOW_UP_HARD_CAP,
      followUpOn: e.FOLLOW_UP_ON_BUSY ? ['no-answer', 'busy'] : ['no-answer'],
      followUpResultWaitMs: e.FOLLOW_UP_RESULT_WAIT,
      followUpDialMaxTries: e.FOLLOW_UP_DIAL_MAX_TRIES,
      emailMaxTries: e.EMAIL_MAX_TRIES,
      maxHistoryEvents: 5_000,
    },
    smtp: {
      host: e.SMTP_HOST,
      port: e.SMTP_PORT,
      secure: e.SMTP_SECURE,
      user: e.SMTP_USER,
      password: e.SMTP_PASSWORD,
      from: e.SMTP_FROM,
      timeoutMs: e.SMTP_TIMEOUT,
    },
    dialer: { timeoutMs: e.FOLLOW_UP_DIAL_TIMEOUT },
    dev: { apiKey: e.DEV_API_KEY, apiKeyFile: e.DEV_API_KEY_FILE },
    secrets: { key: e.SECRETS_KEY, keyFile: e.SECRETS_KEY_FILE },
    logLevel: e.LOG_LEVEL,
    workerMetrics: { port: e.WORKER_METRICS_PORT, host: e.WORKER_METRICS_HOST },
    worker: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      stickyTimeoutMs: e.WORKER_STICKY_TIMEOUT,
      nice: e.WORKER_NICE,
      coreMetricsPort: e.WORKER_CORE_METRICS_PORT,
    },
  };
}

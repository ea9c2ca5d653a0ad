// Shared pieces of the integration tests: the real servers started by globalSetup, a fresh
// database per test file, and the workflow bundle built once per file.
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { loadConfig, type WorkflowSettings } from '../../src/config';
import { connectStore, type Store } from '../../src/store/db';
import { workflowsPath } from '../../src/temporal/worker';

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: integration tests run under jest's globalSetup (make test), which starts the servers`);
  return v;
}

let seq = 0;
/** A database of its own for one test file, on the real MongoDB-protocol server. */
export async function testStore(label: string): Promise<Store> {
  // Prefixed with the run's TEST_DB_PREFIX, so teardown can drop them on an external MONGODB_URI.
  const name = `${process.env.TEST_DB_PREFIX ?? 't'}_${label}_${process.pid}_${seq++}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
  return connectStore(requireEnv('MONGODB_URI'), name);
}

let bundle: Promise<WorkflowBundle> | undefined;
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  return bundle;
}

/** The production defaults (loadConfig with no environment) with short non-follow-up waits, and `over`. */
export const productionSettings = (over: Partial<WorkflowSettings> = {}): WorkflowSettings => ({
  ...loadConfig({}).workflow,
  recordingWaitMs: 60_000,
  activityTimeoutMs: 10_000,
  ...over,
});

export function testSettings(overrides: Partial<WorkflowSettings> = {}): WorkflowSettings {
  return {
    recordingWaitMs: 2_000,
    idleTimeoutMs: 60_000,
    activityTimeoutMs: 5_000,
    contactIdleMs: 10 * 60 * 1000,
    followUpDelayMs: 2 * 60 * 60 * 1000,
    followUpMaxAttempts: 3,
    followUpOn: ['no-answer', 'busy'],
    followUpResultWaitMs: 24 * 60 * 60 * 1000,
    followUpDialMaxTries: 5,
    emailMaxTries: 5,
    maxHistoryEvents: 5_000,
    ...overrides,
  };
}

export const uniqueId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Polls until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { ConfigError, defaultMaxCachedWorkflows, loadConfig, parseSize } from '../../../src/config';
import { parseDuration } from '../../../src/domain/duration';

describe('loadConfig', () => {
  test('defaults: port 3000, 10 MB bodies, a two-hour follow-up delay, three attempts', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(3000);
    expect(c.http.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(c.workflow.followUpDelayMs).toBe(2 * 60 * 60 * 1000);
    expect(c.workflow.followUpMaxAttempts).toBe(3);
    expect(c.workflow.followUpOn).toEqual(['no-answer', 'busy']);
    expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'calls', uiUrl: 'http://localhost:8233' });
    expect(c.mongo.db).toBe('calls_api');
  });

  test('reads and converts the environment', () => {
    const c = loadConfig({
      PORT: '8080',
      FOLLOW_UP_DELAY: '90m',
      FOLLOW_UP_ON_BUSY: 'false',
      RECORDING_WAIT: '30s',
      WEBHOOK_BODY_LIMIT: '2mb',
      PUBLIC_BASE_URL: 'https://hooks.example.com/',
      MONGODB_URI: 'mongodb://db:27017/',
    });
    expect(c.http.port).toBe(8080);
    expect(c.workflow.followUpDelayMs).toBe(90 * 60 * 1000);
    expect(c.workflow.followUpOn).toEqual(['no-answer']);
    expect(c.workflow.recordingWaitMs).toBe(30_000);
    expect(c.http.bodyLimitBytes).toBe(2 * 1024 * 1024);
    expect(c.http.publicBaseUrl).toBe('https://hooks.example.com');
    expect(c.mongo.uri).toBe('mongodb://db:27017/');
  });

  test('the worker and the hand-off: defaults, and what the environment sets', () => {
    const d = loadConfig({});
    expect(d.worker).toEqual({
      maxCachedWorkflows: undefined,
      maxConcurrentWorkflowTasks: 40,
      maxConcurrentActivities: 100,
      stickyTimeoutMs: 10_000,
      nice: 10,
      coreMetricsPort: 0,
    });
    expect(d.inbox.dispatchWhileAcking).toBe(32);
    const c = loadConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '0',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
      WORKER_STICKY_TIMEOUT: '30s',
      WORKER_CORE_METRICS_PORT: '9465',
      WORKER_NICE: '0',
      INBOX_DISPATCH_WHILE_ACKING: '4',
    });
    expect(c.worker).toEqual({
      maxCachedWorkflows: 0,
      maxConcurrentWorkflowTasks: 8,
      maxConcurrentActivities: 20,
      stickyTimeoutMs: 30_000,
      nice: 0,
      coreMetricsPort: 9465,
    });
    expect(c.inbox.dispatchWhileAcking).toBe(4);
    // Unix nice runs 0 to 19; the worker never asks for a higher priority than the normal one.
    expect(() => loadConfig({ WORKER_NICE: '20' })).toThrow(/WORKER_NICE/);
    expect(() => loadConfig({ WORKER_NICE: '-5' })).toThrow(/WORKER_NICE/);
  });

  test("the worker's default cache follows its heap: a 3,000-call campaign's open calls and contacts fit Node's 4 GB heap", () => {
    expect(defaultMaxCachedWorkflows(4144)).toBe(7_264);
    expect(defaultMaxCachedWorkflows(2048)).toBe(3_072);
    expect(defaultMaxCachedWorkflows(16_384)).toBe(12_000);
    expect(defaultMaxCachedWorkflows(256)).toBe(100);
  });

  test('empty values count as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(3000);
  });

  test.each([
    ['PORT', 'eighty', /PORT/],
    ['PORT', '70000', /PORT/],
    ['FOLLOW_UP_DELAY', 'soon', /FOLLOW_UP_DELAY: expected a duration/],
    ['FOLLOW_UP_ON_BUSY', 'maybe', /FOLLOW_UP_ON_BUSY/],
    ['WEBHOOK_BODY_LIMIT', 'big', /WEBHOOK_BODY_LIMIT/],
    ['PUBLIC_BASE_URL', 'not a url', /PUBLIC_BASE_URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['MONGODB_DB', 'calls.api', /MONGODB_DB/],
    ['WORKER_MAX_CACHED_WORKFLOWS', '1', /WORKER_MAX_CACHED_WORKFLOWS: 0 \(no cache\) or at least 2/],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'lots', /WORKER_MAX_CACHED_WORKFLOWS/],
    ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', '1', /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0', /WORKER_MAX_CONCURRENT_ACTIVITIES/],
    ['WORKER_STICKY_TIMEOUT', 'later', /WORKER_STICKY_TIMEOUT: expected a duration/],
    ['WORKER_CORE_METRICS_PORT', '-1', /WORKER_CORE_METRICS_PORT/],
    ['INBOX_DISPATCH_WHILE_ACKING', '0', /INBOX_DISPATCH_WHILE_ACKING/],
  ])('a bad %s=%s stops start-up naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});

test('parseDuration', () => {
  expect(parseDuration('2h')).toBe(7_200_000);
  expect(parseDuration('1.5m')).toBe(90_000);
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('1000')).toBe(1000);
  expect(parseDuration('1d')).toBe(86_400_000);
  expect(parseDuration('-1h')).toBeUndefined();
  expect(parseDuration('h')).toBeUndefined();
  expect(parseDuration('90', { unitRequired: true })).toBeUndefined();
  expect(parseDuration(' 1.5 h ', { unitRequired: true })).toBe(5_400_000);
});

test('parseSize', () => {
  expect(parseSize('10mb')).toBe(10_485_760);
  expect(parseSize('512KB')).toBe(524_288);
  expect(parseSize('100')).toBe(100);
  expect(parseSize('ten')).toBeUndefined();
});

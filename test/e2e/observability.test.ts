// Request ids on the real stack: header, log lines, and the workflow history the event lands in.
import { defaultPayloadConverter } from '@temporalio/common';
import type { Registry } from 'prom-client';
import type { Logger } from '../../src/observability/log';
import { SCRAPE_DB_READ_EVERY_MS } from '../../src/observability/metrics';
import { serveMetrics } from '../../src/observability/metricsServer';
import { inboxId } from '../../src/store/inbox';
import { workflowIdFor } from '../../workflows/messages';
import { eventually, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';
import { genericCompleted } from '../support/payloads';

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}
const lines: Line[] = [];
const recording: Logger = {
  debug: (msg, fields = {}) => lines.push({ level: 'debug', msg, fields }),
  info: (msg, fields = {}) => lines.push({ level: 'info', msg, fields }),
  warn: (msg, fields = {}) => lines.push({ level: 'warn', msg, fields }),
  error: (msg, fields = {}) => lines.push({ level: 'error', msg, fields }),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('observability', { logger: recording });
}, 120_000);
afterAll(async () => stack?.stop());

const payload = (callId: string) => genericCompleted(callId, { duration: 42, metadata: { contactId: `ct_${callId}` } });

/** The events of the callEvents signals in a workflow's history, decoded. */
async function signalledEvents(workflowId: string): Promise<Array<Record<string, unknown>>> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes ?? e.workflowExecutionStartedEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a && (a as { signalName?: string }).signalName === 'callEvents')
    .flatMap((a) => defaultPayloadConverter.fromPayload<Array<Record<string, unknown>>>(a.input!.payloads![0]));
}

describe('request ids', () => {
  test("a webhook's id is in the response, its log lines, the workflow history and the timeline", async () => {
    const callId = uniqueId('c_reqid');
    const requestId = `req-${callId}`;
    const r = await stack.post('/api/calls/webhook', payload(callId), { 'x-request-id': requestId });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(requestId);

    const accepted = lines.find((l) => l.msg === 'webhook accepted' && l.fields.callId === callId);
    expect(accepted?.fields.requestId).toBe(requestId);
    // The log line names the workflow, whose history holds the event with the same id.
    const workflowId = workflowIdFor(stack.orgId, callId);
    expect(accepted?.fields.workflowId).toBe(workflowId);
    const access = lines.find((l) => l.msg === 'request' && l.fields.requestId === requestId);
    expect(access?.fields).toMatchObject({ method: 'POST', path: '/api/calls/webhook', status: 200 });

    const events = await eventually('the event in the history', async () => {
      const evs = await signalledEvents(workflowId).catch(() => []);
      return evs.length > 0 && evs;
    });
    expect(events[0]).toMatchObject({ callId, requestId });

    const call = await eventually('the call record', async () => {
      const g = await stack.get(`/api/calls/${callId}`);
      return g.status === 200 && g.json.status === 'completed' && g.json;
    });
    expect(call.timeline[0].requestId).toBe(requestId);
  });

  test('without a usable X-Request-Id the receiver makes one, also on errors', async () => {
    for (const sent of [undefined, 'has spaces in it', 'x'.repeat(129), '"><script>']) {
      const r = await stack.post('/api/calls/webhook', { provider: 'generic' }, sent === undefined ? {} : { 'x-request-id': sent });
      expect(r.status).toBe(400);
      const id = r.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      // A client error is logged at info with the id, so a platform's bad requests can be traced.
      expect(lines.find((l) => l.msg === 'request' && l.fields.requestId === id)).toMatchObject({ level: 'info', fields: { status: 400 } });
    }
  });

  test('each request gets its own id', async () => {
    const [a, b] = await Promise.all([fetch(`${stack.baseUrl}/healthz`), fetch(`${stack.baseUrl}/healthz`)]);
    expect(a.status).toBe(200);
    const ids = [a, b].map((x) => x.headers.get('x-request-id'));
    expect(ids[0]).toBeTruthy();
    expect(ids[0]).not.toBe(ids[1]);
  });
});

/** A metric's value for exactly these labels (0 when the series does not exist yet). */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const hit = values.find(
    (v) =>
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want) &&
      Object.keys(v.labels).length === Object.keys(labels).length,
  );
  return hit?.value ?? 0;
}

describe('metrics', () => {
  test('GET /metrics needs no key and serves the text format with every receiver metric', async () => {
    const r = await fetch(`${stack.baseUrl}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await r.text();
    for (const name of [
      'calls_api_http_requests_total',
      'calls_api_http_request_duration_seconds',
      'calls_api_webhooks_total',
      'calls_api_signals_total',
      'calls_api_calls_stale',
      'calls_api_inbox_depth',
      'calls_api_inbox_oldest_age_seconds',
      'calls_api_inbox_dead_letters',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    // No tenant data in a scrape: no organization id anywhere.
    expect(text).not.toContain(stack.orgId);
  });

  test('webhooks are counted by provider and result, requests by route template, signals by result', async () => {
    const m = stack.metrics.registry;
    const callId = uniqueId('c_metrics');
    const before = {
      accepted: await value(m, 'calls_api_webhooks_total', { provider: 'generic', result: 'accepted' }),
      duplicate: await value(m, 'calls_api_webhooks_total', { provider: 'generic', result: 'duplicate' }),
      invalid: await value(m, 'calls_api_webhooks_total', { provider: 'unknown', result: 'invalid' }),
      unknownProvider: await value(m, 'calls_api_webhooks_total', { provider: 'unknown', result: 'unknown_provider' }),
      unauthorized: await value(m, 'calls_api_webhooks_total', { provider: 'vapi', result: 'unauthorized' }),
      sent: await value(m, 'calls_api_signals_total', { result: 'sent' }),
      reads: await value(m, 'calls_api_http_requests_total', { method: 'GET', route: '/api/calls/:callId', status: '200' }),
    };
    expect((await stack.post('/api/calls/webhook', payload(callId))).status).toBe(200);
    // A platform's retry while the inbox still holds the event (here: held back for an hour).
    const held = uniqueId('c_held');
    const heldId = inboxId(stack.orgId, `generic:${held}:call.completed:completed`);
    await stack.store.col.inbox.insertOne({
      _id: heldId,
      orgId: stack.orgId,
      provider: 'generic',
      callId: held,
      event: '{}',
      receivedAt: new Date(),
      attempts: 0,
      nextAttemptAt: new Date(Date.now() + 3_600_000),
    });
    try {
      expect((await stack.post('/api/calls/webhook', payload(held))).status).toBe(200);
    } finally {
      await stack.store.col.inbox.deleteOne({ _id: heldId });
    }
    expect((await stack.post('/api/calls/webhook', { provider: 'generic' })).status).toBe(400);
    expect((await stack.post('/api/calls/webhook/nosuch', payload(callId))).status).toBe(404);
    expect((await stack.post('/api/calls/webhook/vapi', {}, { 'x-api-key': 'ck_nope_nope' })).status).toBe(401);
    await eventually('the call record', async () => {
      const g = await stack.get(`/api/calls/${callId}`);
      return g.status === 200 && g.json.status === 'completed';
    });

    expect(await value(m, 'calls_api_webhooks_total', { provider: 'generic', result: 'accepted' })).toBe(before.accepted + 1);
    expect(await value(m, 'calls_api_webhooks_total', { provider: 'generic', result: 'duplicate' })).toBe(before.duplicate + 1);
    // A payload too broken to tell its platform counts under "unknown"; so does an unknown platform in the URL.
    expect(await value(m, 'calls_api_webhooks_total', { provider: 'unknown', result: 'invalid' })).toBe(before.invalid + 1);
    expect(await value(m, 'calls_api_webhooks_total', { provider: 'unknown', result: 'unknown_provider' })).toBe(
      before.unknownProvider + 1,
    );
    expect(await value(m, 'calls_api_webhooks_total', { provider: 'vapi', result: 'unauthorized' })).toBe(before.unauthorized + 1);
    expect(await value(m, 'calls_api_signals_total', { result: 'sent' })).toBe(before.sent + 1);
    expect(await value(m, 'calls_api_http_requests_total', { method: 'GET', route: '/api/calls/:callId', status: '200' })).toBeGreaterThan(
      before.reads,
    );
    // The route template, never the raw path: one series for every call.
    const text = await m.metrics();
    expect(text).not.toContain(callId);
    expect(text).toMatch(/calls_api_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/calls\/webhook"\}/);
  });

  test('inbox depth and oldest age are read from the database on scrape', async () => {
    const m = stack.metrics.registry;
    const receivedAt = new Date(Date.now() - 120_000);
    const id = `${stack.orgId}:${uniqueId('ev_waiting')}`;
    // An event the relay will not take for an hour: it waits, as behind a Temporal outage.
    await stack.store.col.inbox.insertOne({
      _id: id,
      orgId: stack.orgId,
      provider: 'generic',
      callId: uniqueId('c_wait'),
      event: '{}',
      receivedAt,
      attempts: 3,
      nextAttemptAt: new Date(Date.now() + 3_600_000),
    });
    try {
      await new Promise((r) => setTimeout(r, SCRAPE_DB_READ_EVERY_MS + 100)); // past the cache of the inbox read
      expect(await value(m, 'calls_api_inbox_depth')).toBeGreaterThanOrEqual(1);
      expect(await value(m, 'calls_api_inbox_oldest_age_seconds')).toBeGreaterThanOrEqual(119);
    } finally {
      await stack.store.col.inbox.deleteOne({ _id: id });
    }
    await new Promise((r) => setTimeout(r, SCRAPE_DB_READ_EVERY_MS + 100));
    expect(await value(m, 'calls_api_inbox_oldest_age_seconds')).toBeLessThan(60);
  });

  test('calls marked stale are counted, on scrape; an old unfinished call without the mark is not', async () => {
    const m = stack.metrics.registry;
    await new Promise((r) => setTimeout(r, SCRAPE_DB_READ_EVERY_MS + 100));
    const before = await value(m, 'calls_api_calls_stale');
    const callId = uniqueId('c_stale');
    const now = Date.now();
    // A call the workflow marked stale (no end, its platform could not say), and an old unmarked one (its workflow may still be asking).
    await stack.store.col.calls.insertMany([
      {
        _id: `${stack.orgId}:${callId}`,
        orgId: stack.orgId,
        callId,
        provider: 'generic',
        status: 'answered',
        recordingReady: false,
        eventCount: 2,
        timeline: [],
        owners: {},
        workflowId: 'w',
        createdAt: new Date(now - 7_300_000),
        updatedAt: new Date(now - 60_000),
        stale: { since: new Date(now - 60_000).toISOString(), reason: 'a generic call has no platform to ask how it ended', polls: 1 },
      },
      {
        _id: `${stack.orgId}:${callId}_old`,
        orgId: stack.orgId,
        callId: `${callId}_old`,
        provider: 'generic',
        status: 'answered',
        recordingReady: false,
        eventCount: 2,
        timeline: [],
        owners: {},
        workflowId: 'w1',
        createdAt: new Date(now - 7_300_000),
        updatedAt: new Date(now - 7_200_000),
      },
      {
        _id: `${stack.orgId}:${callId}_fresh`,
        orgId: stack.orgId,
        callId: `${callId}_fresh`,
        provider: 'generic',
        status: 'answered',
        recordingReady: false,
        eventCount: 1,
        timeline: [],
        owners: {},
        workflowId: 'w2',
        createdAt: new Date(now),
        updatedAt: new Date(now),
      },
    ]);
    await new Promise((r) => setTimeout(r, SCRAPE_DB_READ_EVERY_MS + 100));
    expect(await value(m, 'calls_api_calls_stale')).toBe(before + 1);
  });

  test('the worker counts activities by type and outcome, emails and follow-ups by state, and serves them', async () => {
    const w = stack.workerMetrics.registry;
    const before = {
      settleCall: await value(w, 'calls_api_activities_total', { activity: 'settleCall', outcome: 'completed' }),
      skipped: await value(w, 'calls_api_emails_total', { state: 'skipped' }),
      scheduled: await value(w, 'calls_api_follow_ups_total', { state: 'scheduled' }),
    };
    // Answered, with a contact that has no email address: the thank-you email is skipped.
    const done = uniqueId('c_worker');
    expect((await stack.post('/api/calls/webhook', payload(done))).status).toBe(200);
    // Not answered: a follow-up call is scheduled.
    const missed = uniqueId('c_missed');
    expect(
      (await stack.post('/api/calls/webhook', { ...payload(missed), event: 'call.failed', status: 'no-answer', duration: 0 })).status,
    ).toBe(200);
    await eventually(
      'the metrics of both calls',
      async () =>
        (await value(w, 'calls_api_emails_total', { state: 'skipped' })) > before.skipped &&
        (await value(w, 'calls_api_follow_ups_total', { state: 'scheduled' })) > before.scheduled,
    );
    expect(await value(w, 'calls_api_activities_total', { activity: 'settleCall', outcome: 'completed' })).toBeGreaterThan(
      before.settleCall,
    );

    const lines: string[] = [];
    const log: Logger = { debug() {}, info() {}, warn: (msg) => lines.push(msg), error() {} };
    const server = await serveMetrics(w, 0, '127.0.0.1', log);
    try {
      const port = (server!.address() as { port: number }).port;
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(r.status).toBe(200);
      const text = await r.text();
      expect(text).toMatch(/calls_api_activities_total\{activity="settleCall",outcome="completed"\} \d+/);
      expect(text).toContain('# TYPE calls_api_emails_total counter');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      // A second worker on the same host cannot take the port: it says so and runs without metrics.
      expect(await serveMetrics(w, port, '127.0.0.1', log)).toBeNull();
      expect(lines).toContain('metrics endpoint not started');
    } finally {
      server?.close();
    }
  });
});

// Request ids on the real stack: header, log lines, and the workflow history the event lands in.
import { defaultPayloadConverter } from '@temporalio/common';
import type { Logger } from '../../src/log';
import { workflowIdFor } from '../../workflows/messages';
import { eventually, uniqueId } from '../support/harness';
import { startStack, type Stack } from '../support/stack';

interface Line { level: string; msg: string; fields: Record<string, unknown> }
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

const payload = (callId: string) => ({
  callId, provider: 'generic', event: 'call.completed', from: '+14155551234', to: '+14155555678',
  duration: 42, status: 'completed', metadata: { contactId: `ct_${callId}` },
});

/** The callEvent signals in a workflow's history, decoded. */
async function signalledEvents(workflowId: string): Promise<Array<Record<string, unknown>>> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes ?? e.workflowExecutionStartedEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a && (a as { signalName?: string }).signalName === 'callEvent')
    .map((a) => defaultPayloadConverter.fromPayload(a.input!.payloads![0]) as Record<string, unknown>);
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

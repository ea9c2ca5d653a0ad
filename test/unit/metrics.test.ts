// The signal counter around the dispatcher's signaler: every delivery is counted once, by result.
import { countedSignaler, createReceiverMetrics } from '../../src/observability/metrics';
import type { CallEvent } from '../../src/domain/events';

const event = {
  eventId: 'e1',
  callId: 'c1',
  provider: 'generic',
  providerEvent: 'call.completed',
  type: 'call.completed',
  receivedAt: '2026-01-01T00:00:00Z',
} as CallEvent;

async function count(m: ReturnType<typeof createReceiverMetrics>, result: string) {
  const { values } = await m.signals.get();
  return values.find((v) => v.labels.result === result)?.value ?? 0;
}

test('a delivery Temporal takes counts as sent, one that throws as failed, and the error still reaches the dispatcher', async () => {
  const m = createReceiverMetrics({ processMetrics: false });
  let fail = false;
  const s = countedSignaler(
    {
      ping: async () => {},
      deliver: async () => {
        if (fail) throw new Error('14 UNAVAILABLE: connection refused');
        return { workflowId: 'w' };
      },
    },
    m,
  );
  await expect(s.deliver('org', 'generic', event)).resolves.toEqual({ workflowId: 'w' });
  fail = true;
  await expect(s.deliver('org', 'generic', event)).rejects.toThrow('UNAVAILABLE');
  expect(await count(m, 'sent')).toBe(1);
  expect(await count(m, 'failed')).toBe(1);
  expect(await count(m, 'rejected')).toBe(0);
  expect((await m.signalDuration.get()).values.find((v) => v.metricName === 'calls_api_signal_duration_seconds_count')?.value).toBe(2);
});

test('two apps in one process keep separate registries', async () => {
  const a = createReceiverMetrics({ processMetrics: false });
  const b = createReceiverMetrics({ processMetrics: false });
  a.webhooks.inc({ provider: 'vapi', result: 'accepted' });
  expect(await a.registry.metrics()).toContain('calls_api_webhooks_total{provider="vapi",result="accepted"} 1');
  expect(await b.registry.metrics()).not.toContain('provider="vapi"');
});

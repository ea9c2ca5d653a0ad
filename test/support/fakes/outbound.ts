// A local stand-in for the voice platforms' outbound-call APIs (Retell `POST /v2/create-phone-call`,
// Vapi `POST /call`, Bland `POST /v1/calls`) on 127.0.0.1. It records every request it received and
// answers like the platform would, or as a test scripts it (errors, slow answers).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeProvider = 'retell' | 'vapi' | 'bland';

export interface RecordedRequest {
  provider: FakeProvider;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** The call id this fake gave the call (when it answered with success). */
  callId?: string;
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface FakeOutbound {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Answers to give, in order, before falling back to success. */
  script: ScriptedAnswer[];
  /** Only the requests that created a call (2xx with an id). */
  placed(): RecordedRequest[];
  close(): Promise<void>;
}

const ROUTES: Record<string, FakeProvider> = { '/v2/create-phone-call': 'retell', '/call': 'vapi', '/v1/calls': 'bland' };

let seq = 0;

export async function startFakeOutbound(): Promise<FakeOutbound> {
  const requests: RecordedRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const provider = ROUTES[req.url ?? ''];
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const rec: RecordedRequest = { provider, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
      requests.push(rec);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (!provider || req.method !== 'POST') return send(404, { error: 'not found' });
      const scripted = script.shift();
      const answer = () => {
        if (scripted && (scripted.status < 200 || scripted.status >= 300 || scripted.body !== undefined)) {
          return send(scripted.status, scripted.body ?? { error: `scripted ${scripted.status}` });
        }
        const callId = `${provider}_fake_${++seq}_${Date.now().toString(36)}`;
        rec.callId = callId;
        if (provider === 'retell')
          return send(201, { call_id: callId, call_status: 'registered', call_type: 'phone_call', to_number: (body as any)?.to_number });
        if (provider === 'vapi') return send(201, { id: callId, status: 'queued', type: 'outboundPhoneCall' });
        return send(200, { status: 'success', call_id: callId });
      };
      if (scripted?.delayMs) setTimeout(answer, scripted.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    requests,
    script,
    placed: () => requests.filter((r) => r.callId),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// A local stand-in for the four platforms' get-call APIs on 127.0.0.1, answering in each API's
// documented shape: Retell `GET /v2/get-call/{call_id}`, Vapi `GET /call/{id}`, Bland
// `GET /v1/calls/{call_id}`, Twilio `GET /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json`. A test
// says how each call stands (ended with an outcome, still going, unknown) and reads what was asked.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type PlatformName = 'retell' | 'vapi' | 'bland' | 'twilio';

/** How a call stands at the fake platform. */
export type FakeCall =
  | {
      state: 'ended';
      outcome: 'completed' | 'no-answer' | 'busy' | 'voicemail';
      durationSec?: number;
      recordingUrl?: string;
      contactId?: string;
      from?: string;
      to?: string;
      cost?: number;
    }
  | { state: 'ongoing' }
  /** Answer this HTTP status with an error body. */
  | { state: 'status'; status: number };

export interface AskedRequest {
  platform: PlatformName;
  callId: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface FakePlatforms {
  baseUrl: string;
  calls: Map<string, FakeCall>;
  requests: AskedRequest[];
  /** Requests about one call. */
  asked(callId: string): AskedRequest[];
  close(): Promise<void>;
}

const START = Date.parse('2026-11-27T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
/** Twilio's times are RFC 2822. */
const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

/** Retell's call object (the get-call answer and the webhook's `call`). */
function retellCall(callId: string, c: FakeCall) {
  const base = {
    call_id: callId,
    call_type: 'phone_call',
    agent_id: 'agent_fake',
    direction: 'outbound',
    from_number: '+14155550100',
    to_number: '+14155550101',
  };
  if (c.state !== 'ended') return { ...base, call_status: 'ongoing', start_timestamp: START };
  const dur = (c.durationSec ?? 0) * 1000;
  const reason = { completed: 'user_hangup', 'no-answer': 'dial_no_answer', busy: 'dial_busy', voicemail: 'voicemail_reached' }[c.outcome];
  const connected = c.outcome === 'completed' || c.outcome === 'voicemail';
  return {
    ...base,
    from_number: c.from ?? base.from_number,
    to_number: c.to ?? base.to_number,
    call_status: connected ? 'ended' : 'not_connected',
    ...(connected && { start_timestamp: START, end_timestamp: START + dur, duration_ms: dur, transcript: 'Agent: Hello.\nUser: Hi.' }),
    disconnection_reason: reason,
    recording_url: c.recordingUrl,
    metadata: c.contactId ? { contactId: c.contactId } : {},
    call_analysis: connected
      ? { call_summary: 'A short call.', user_sentiment: 'Positive', call_successful: true, in_voicemail: c.outcome === 'voicemail' }
      : undefined,
    call_cost: c.cost !== undefined ? { combined_cost: c.cost * 100, product_costs: [] } : undefined,
  };
}

/** Vapi's Call. */
function vapiCall(callId: string, c: FakeCall) {
  const base = {
    id: callId,
    orgId: 'org_fake',
    type: 'outboundPhoneCall',
    assistantId: 'asst_fake',
    phoneNumberId: 'pn_fake',
    customer: { number: '+14155550101' },
    createdAt: iso(START),
  };
  if (c.state !== 'ended') return { ...base, status: 'in-progress', startedAt: iso(START) };
  const reason = {
    completed: 'customer-ended-call',
    'no-answer': 'customer-did-not-answer',
    busy: 'customer-busy',
    voicemail: 'voicemail',
  }[c.outcome];
  const connected = c.outcome === 'completed' || c.outcome === 'voicemail';
  return {
    ...base,
    customer: { number: c.to ?? '+14155550101' },
    phoneNumber: { number: c.from ?? '+14155550100' },
    status: 'ended',
    endedReason: reason,
    ...(connected && { startedAt: iso(START), endedAt: iso(START + (c.durationSec ?? 0) * 1000) }),
    assistantOverrides: c.contactId ? { metadata: { contactId: c.contactId } } : undefined,
    artifact: { transcript: connected ? 'AI: Hello.\nUser: Hi.' : undefined, recordingUrl: c.recordingUrl, messages: [] },
    analysis: connected ? { summary: 'A short call.', successEvaluation: 'true' } : undefined,
    cost: c.cost,
    costBreakdown: c.cost !== undefined ? { transport: c.cost / 2, llm: c.cost / 2, total: c.cost } : undefined,
  };
}

/** Bland's call details. */
function blandCall(callId: string, c: FakeCall) {
  const base = {
    call_id: callId,
    c_id: callId,
    to: '+14155550101',
    from: '+14155550100',
    inbound: false,
    created_at: iso(START),
    batch_id: null,
    max_duration: 30,
    endpoint_url: 'api.prod.bland.ai',
  };
  if (c.state !== 'ended')
    return { ...base, completed: false, queue_status: 'started', status: 'in-progress', started_at: iso(START), call_length: null };
  const connected = c.outcome === 'completed' || c.outcome === 'voicemail';
  const secs = c.durationSec ?? 0;
  return {
    ...base,
    to: c.to ?? base.to,
    from: c.from ?? base.from,
    completed: true,
    queue_status: 'complete',
    status: connected ? 'completed' : c.outcome,
    answered_by: c.outcome === 'voicemail' ? 'voicemail' : connected ? 'human' : null,
    call_length: secs / 60,
    corrected_duration: String(secs),
    started_at: iso(START),
    end_at: iso(START + secs * 1000),
    recording_url: c.recordingUrl ?? null,
    concatenated_transcript: connected ? 'assistant: Hello. user: Hi.' : '',
    metadata: c.contactId ? { contactId: c.contactId } : {},
    variables: {},
    summary: connected ? 'A short call.' : null,
    analysis: null,
    error_message: null,
    call_ended_by: connected ? 'USER' : null,
    price: c.cost ?? null,
  };
}

/** Twilio's Call resource (JSON representation). */
function twilioCall(accountSid: string, callSid: string, c: FakeCall) {
  const base = {
    sid: callSid,
    account_sid: accountSid,
    parent_call_sid: null,
    to: '+14155550101',
    from: '+14155550100',
    direction: 'outbound-api',
    date_created: rfc2822(START),
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`,
    price_unit: 'USD',
  };
  if (c.state !== 'ended')
    return { ...base, status: 'in-progress', start_time: rfc2822(START), end_time: null, duration: null, price: null };
  const secs = c.durationSec ?? 0;
  return {
    ...base,
    to: c.to ?? base.to,
    from: c.from ?? base.from,
    status: c.outcome === 'voicemail' ? 'completed' : c.outcome,
    answered_by: c.outcome === 'voicemail' ? 'machine_end_beep' : null,
    start_time: rfc2822(START),
    end_time: rfc2822(START + secs * 1000),
    duration: String(secs),
    price: c.cost !== undefined ? String(-c.cost) : null,
  };
}

const ROUTES: [RegExp, PlatformName][] = [
  [/^\/v2\/get-call\/([^/?]+)$/, 'retell'],
  [/^\/call\/([^/?]+)$/, 'vapi'],
  [/^\/v1\/calls\/([^/?]+)$/, 'bland'],
  [/^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls\/([^/?]+)\.json$/, 'twilio'],
];

export async function startFakePlatforms(): Promise<FakePlatforms> {
  const calls = new Map<string, FakeCall>();
  const requests: AskedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? '';
    const hit = ROUTES.map(([re, platform]) => [re.exec(path), platform] as const).find(([m]) => m);
    if (!hit || req.method !== 'GET') return send(404, { error: 'not found' });
    const [m, platform] = hit;
    const callId = decodeURIComponent(platform === 'twilio' ? m![2] : m![1]);
    requests.push({ platform, callId, path, headers: req.headers });
    const c = calls.get(callId);
    // Each platform says "not found" its own way; the status is what matters.
    if (!c)
      return send(
        404,
        platform === 'twilio' ? { code: 20404, message: 'The requested resource was not found', status: 404 } : { error: 'Call not found' },
      );
    if (c.state === 'status') return send(c.status, { error: `scripted ${c.status}` });
    if (platform === 'retell') return send(200, retellCall(callId, c));
    if (platform === 'vapi') return send(200, vapiCall(callId, c));
    if (platform === 'bland') return send(200, blandCall(callId, c));
    return send(200, twilioCall(m![1], callId, c));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    calls,
    requests,
    asked: (callId) => requests.filter((r) => r.callId === callId),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

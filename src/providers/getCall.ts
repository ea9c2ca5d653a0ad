// Asking a platform for one call (a call whose end never arrived): the request each platform's
// get-call API takes, and its answer turned into canonical events through the same adapter a
// webhook goes through, so status, outcome, duration, cost and recording map the same way.
// Facts: Retell `GET /v2/get-call/{call_id}` (Bearer API key; the call object, `call_status`
// registered|ongoing|ended|not_connected|error); Vapi `GET /call/{id}` (Bearer private key; the
// Call, `status` scheduled|queued|ringing|in-progress|forwarding|ended); Bland `GET /v1/calls/{id}`
// (API key in `authorization` as is; the flat call object, `completed` true once over,
// `queue_status`); Twilio `GET /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json` (basic auth
// AccountSid:AuthToken; `status` queued|ringing|in-progress|canceled|completed|failed|busy|no-answer).
import type { CallEvent, Provider } from '../domain/events';
import { type PollAnswer, pollEventId } from '../domain/stale';
import { isRecord, str } from './common';
import { bland } from './bland';
import { retell } from './retell';
import { twilio } from './twilio';
import { PayloadError, type WebhookRequest } from './types';
import { vapi } from './vapi';

export type PollableProvider = 'retell' | 'vapi' | 'bland' | 'twilio';

export const DEFAULT_API_BASE_URLS: Record<PollableProvider, string> = {
  retell: 'https://api.retellai.com',
  vapi: 'https://api.vapi.ai',
  bland: 'https://api.bland.ai',
  twilio: 'https://api.twilio.com',
};

export const isPollable = (p: Provider): p is PollableProvider => p in DEFAULT_API_BASE_URLS;

/** What asking a platform about a call needs: its API's base URL and the organization's key. */
export interface PlatformCredentials {
  provider: PollableProvider;
  baseUrl: string;
  /** Retell/Vapi/Bland API key; Twilio auth token. */
  apiKey: string;
  /** Twilio only: the account the call belongs to (`AC...`). */
  accountSid?: string;
}

export function getCallRequest(c: PlatformCredentials, callId: string): { url: string; headers: Record<string, string> } {
  const base = c.baseUrl.replace(/\/+$/, '');
  const id = encodeURIComponent(callId);
  const accept = { accept: 'application/json' };
  switch (c.provider) {
    case 'retell':
      return { url: `${base}/v2/get-call/${id}`, headers: { ...accept, authorization: `Bearer ${c.apiKey}` } };
    case 'vapi':
      return { url: `${base}/call/${id}`, headers: { ...accept, authorization: `Bearer ${c.apiKey}` } };
    case 'bland':
      return { url: `${base}/v1/calls/${id}`, headers: { ...accept, authorization: c.apiKey } };
    case 'twilio': {
      const sid = c.accountSid ?? '';
      const basic = Buffer.from(`${sid}:${c.apiKey}`, 'utf8').toString('base64');
      return {
        url: `${base}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Calls/${id}.json`,
        headers: { ...accept, authorization: `Basic ${basic}` },
      };
    }
  }
}

const RETELL_ENDED = new Set(['ended', 'not_connected', 'error']);
const VAPI_ENDED = new Set(['ended']);
const TWILIO_ENDED = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
const BLAND_ENDED = /^(completed?|failed|busy|no[-_ ]?answer|cancell?ed|error)$/i;

function syntheticRequest(body: string, contentType: string, receivedAt: string): WebhookRequest {
  return { rawBody: Buffer.from(body, 'utf8'), headers: {}, contentType, publicUrl: '', receivedAt, now: Date.parse(receivedAt) };
}

/** The platform's status of the call and whether it says the call is over. */
function statusOf(provider: PollableProvider, call: Record<string, unknown>): { status: string; ended: boolean } {
  switch (provider) {
    case 'retell': {
      const status = str(call.call_status) ?? (call.end_timestamp != null ? 'ended' : 'unknown');
      return { status, ended: RETELL_ENDED.has(status) };
    }
    case 'vapi': {
      const status = str(call.status) ?? 'unknown';
      return { status, ended: VAPI_ENDED.has(status) };
    }
    case 'twilio': {
      const status = str(call.status) ?? 'unknown';
      return { status, ended: TWILIO_ENDED.has(status) };
    }
    case 'bland': {
      // `completed` is the most up-to-date flag (Bland's docs); queue_status may lag it.
      const flags = [str(call.status), str(call.queue_status)];
      const ended = call.completed === true || flags.some((f) => f !== undefined && BLAND_ENDED.test(f));
      const status = ended
        ? (flags.find((f) => f !== undefined && BLAND_ENDED.test(f)) ?? 'completed')
        : (flags[1] ?? flags[0] ?? 'unknown');
      return { status, ended };
    }
  }
}

/** The get-call answer as the adapter's webhook input, so both take one mapping. */
function asWebhook(provider: PollableProvider, callId: string, call: Record<string, unknown>, receivedAt: string): CallEvent[] {
  switch (provider) {
    case 'retell': {
      const body = { event: 'call_ended', call: { ...call, call_id: callId } };
      return retell.parse(syntheticRequest(JSON.stringify(body), 'application/json', receivedAt), body);
    }
    case 'vapi': {
      const body = {
        message: {
          type: 'end-of-call-report',
          call: { ...call, id: callId },
          endedReason: call.endedReason,
          startedAt: call.startedAt,
          endedAt: call.endedAt,
          cost: call.cost,
          costBreakdown: call.costBreakdown,
          artifact: call.artifact,
          analysis: call.analysis,
          transcript: call.transcript,
          recordingUrl: call.recordingUrl,
        },
      };
      return vapi.parse(syntheticRequest(JSON.stringify(body), 'application/json', receivedAt), body);
    }
    case 'bland': {
      const body: Record<string, unknown> = { ...call, call_id: callId };
      delete body.event_type; // the GET answer is the real shape, never the seed's
      return bland.parse(syntheticRequest(JSON.stringify(body), 'application/json', receivedAt), body);
    }
    case 'twilio': {
      const fields: Record<string, string> = {};
      const put = (k: string, v: unknown) => {
        const s = str(v);
        if (s !== undefined) fields[k] = s;
      };
      put('CallSid', callId);
      put('CallStatus', call.status);
      put('CallDuration', call.duration);
      put('From', call.from);
      put('To', call.to);
      put('Direction', call.direction);
      put('Timestamp', call.end_time ?? call.start_time);
      put('AnsweredBy', call.answered_by);
      put('Price', call.price);
      put('PriceUnit', call.price_unit);
      return twilio.parse(
        syntheticRequest(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', receivedAt),
        fields,
      );
    }
  }
}

/** The platform's id of the call in its answer, when it gives one. */
const idIn = (provider: PollableProvider, call: Record<string, unknown>) =>
  str(provider === 'retell' || provider === 'bland' ? call.call_id : provider === 'vapi' ? call.id : call.sid);

/**
 * A 2xx get-call answer as a poll answer. An ended call becomes the events its webhook would have
 * given, with ids of their own (`poll:<provider>:<callId>:<status>` for the end), so a real webhook
 * arriving later is another event with the same end: effects do not run again.
 */
export function answerFromGetCall(provider: PollableProvider, callId: string, json: unknown, receivedAt: string): PollAnswer {
  if (!isRecord(json)) return { kind: 'unknown', reason: `${provider} answered without a call object`, final: false };
  const given = idIn(provider, json);
  if (given !== undefined && given !== callId) {
    return { kind: 'unknown', reason: `${provider} answered about another call (${given.slice(0, 60)})`, final: true };
  }
  const { status, ended } = statusOf(provider, json);
  if (!ended) return { kind: 'ongoing', platformStatus: status };
  let parsed: CallEvent[];
  try {
    parsed = asWebhook(provider, callId, json, receivedAt);
  } catch (err) {
    if (!(err instanceof PayloadError)) throw err;
    return { kind: 'unknown', reason: `${provider}'s answer could not be read (${err.message})`, final: false };
  }
  const terminal = parsed.filter((e) => e.type === 'call.completed' || e.type === 'call.failed');
  if (terminal.length === 0) return { kind: 'unknown', reason: `${provider} says ${status}, which maps to no end`, final: false };
  const events = parsed.map((e) => ({
    ...e,
    eventId: e === terminal[0] ? pollEventId(provider, callId, status) : `poll:${e.eventId}`,
    providerEvent: `get-call:${status}`.slice(0, 200),
  }));
  return { kind: 'ended', platformStatus: status, events };
}

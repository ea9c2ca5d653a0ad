// A platform's get-call answer becomes the same canonical end as the platform's webhook would:
// each platform's documented answer shape is built from the webhook fixture of the same call, and
// status, outcome, duration, cost, recording and contact must match the webhook's mapping.
import { adapters } from '../../../src/providers';
import { answerFromGetCall, getCallRequest } from '../../../src/providers/getCall';
import type { CallEvent } from '../../../src/domain/events';
import { fixtureJson, fixtureReq, fixtureBytes, RECEIVED_AT } from './helpers';
import { parseForm } from '../../../src/providers/common';

const SAME = [
  'type',
  'outcome',
  'endedReason',
  'durationSec',
  'cost',
  'recordingUrl',
  'contactId',
  'agentId',
  'from',
  'to',
  'direction',
  'startedAt',
  'endedAt',
  'transcript',
] as const;
const pick = (e: CallEvent) => Object.fromEntries(SAME.map((k) => [k, e[k]]));

function webhookEnd(provider: 'retell' | 'vapi' | 'bland' | 'twilio', fixture: string): CallEvent {
  const req = fixtureReq(fixture);
  const body = fixture.endsWith('.txt') ? parseForm(fixtureBytes(fixture)) : fixtureJson(fixture);
  const end = adapters[provider].parse(req, body).find((e) => e.type === 'call.completed' || e.type === 'call.failed');
  if (!end) throw new Error(`${fixture} has no end`);
  return end;
}

function ended(answer: ReturnType<typeof answerFromGetCall>): CallEvent {
  if (answer.kind !== 'ended') throw new Error(`expected an end, got ${JSON.stringify(answer)}`);
  const end = answer.events.find((e) => e.type === 'call.completed' || e.type === 'call.failed');
  if (!end) throw new Error('no end event');
  return end;
}

describe('Retell GET /v2/get-call/{call_id}', () => {
  test.each(['retell/call-ended.json', 'retell/ended-voicemail.json', 'retell/not-connected-ended.json', 'retell/ended-busy.json'])(
    'the call object of %s maps like its call_ended webhook, with a poll id of its own',
    (fixture) => {
      const call = fixtureJson(fixture).call as Record<string, unknown>;
      const hook = webhookEnd('retell', fixture);
      const e = ended(answerFromGetCall('retell', call.call_id as string, call, RECEIVED_AT));
      expect(pick(e)).toEqual(pick(hook));
      expect(e.eventId).toBe(`poll:retell:${call.call_id as string}:${call.call_status as string}`);
      expect(e.eventId).not.toBe(hook.eventId);
    },
  );

  test('registered and ongoing calls are still going; the request carries the Bearer key', () => {
    const call = {
      ...(fixtureJson('retell/call-ended.json').call as object),
      call_status: 'ongoing',
      end_timestamp: undefined,
      disconnection_reason: undefined,
    };
    expect(answerFromGetCall('retell', 'c1', { ...call, call_id: 'c1' }, RECEIVED_AT)).toEqual({
      kind: 'ongoing',
      platformStatus: 'ongoing',
    });
    expect(answerFromGetCall('retell', 'c1', { call_id: 'c1', call_status: 'registered' }, RECEIVED_AT)).toEqual({
      kind: 'ongoing',
      platformStatus: 'registered',
    });
    expect(getCallRequest({ provider: 'retell', baseUrl: 'https://api.retellai.com/', apiKey: 'key_1' }, 'call/1')).toEqual({
      url: 'https://api.retellai.com/v2/get-call/call%2F1',
      headers: { accept: 'application/json', authorization: 'Bearer key_1' },
    });
  });

  test('an answer about another call is not applied', () => {
    expect(answerFromGetCall('retell', 'c1', { call_id: 'c2', call_status: 'ended' }, RECEIVED_AT)).toMatchObject({
      kind: 'unknown',
      final: true,
    });
  });
});

describe('Vapi GET /call/{id}', () => {
  /** Vapi's Call as GET /call/{id} gives it: the end-of-call report's facts are on the call itself. */
  const callOf = (fixture: string) => {
    const m = fixtureJson(fixture).message as Record<string, unknown>;
    const { endedReason, startedAt, endedAt, cost, costBreakdown, artifact, analysis } = m;
    return {
      ...(m.call as object),
      status: 'ended',
      endedReason,
      startedAt,
      endedAt,
      cost,
      costBreakdown,
      artifact,
      analysis,
      phoneNumber: m.phoneNumber,
      customer: m.customer,
    } as Record<string, unknown>;
  };
  test.each([
    'vapi/end-of-call-report.json',
    'vapi/end-of-call-report-no-answer.json',
    'vapi/end-of-call-report-voicemail.json',
    'vapi/end-of-call-report-busy.json',
  ])('the Call of %s maps like its end-of-call report', (fixture) => {
    const call = callOf(fixture);
    const hook = webhookEnd('vapi', fixture);
    const e = ended(answerFromGetCall('vapi', call.id as string, call, RECEIVED_AT));
    expect(pick(e)).toEqual(pick(hook));
    expect(e.eventId).toBe(`poll:vapi:${call.id as string}:ended`);
  });

  test('queued, ringing, in-progress and forwarding are still going; the request carries the Bearer key', () => {
    for (const status of ['scheduled', 'queued', 'ringing', 'in-progress', 'forwarding']) {
      expect(answerFromGetCall('vapi', 'v1', { id: 'v1', status }, RECEIVED_AT)).toEqual({ kind: 'ongoing', platformStatus: status });
    }
    expect(getCallRequest({ provider: 'vapi', baseUrl: 'https://api.vapi.ai', apiKey: 'pk' }, 'v1')).toEqual({
      url: 'https://api.vapi.ai/call/v1',
      headers: { accept: 'application/json', authorization: 'Bearer pk' },
    });
  });
});

describe('Bland GET /v1/calls/{call_id}', () => {
  test.each([
    'bland/post-call.json',
    'bland/no-answer.json',
    'bland/voicemail.json',
    'bland/busy.json',
    'bland/duration-from-minutes.json',
  ])('the call details of %s map like its post-call webhook', (fixture) => {
    const call: Record<string, unknown> = { ...fixtureJson(fixture), completed: true };
    const hook = webhookEnd('bland', fixture);
    const e = ended(answerFromGetCall('bland', call.call_id as string, call, RECEIVED_AT));
    expect(pick(e)).toEqual(pick(hook));
    expect(e.eventId).toMatch(new RegExp(`^poll:bland:${call.call_id as string}:`));
  });

  test('a call not completed is still going; the key goes in authorization as it is', () => {
    expect(answerFromGetCall('bland', 'b1', { call_id: 'b1', completed: false, queue_status: 'started' }, RECEIVED_AT)).toEqual({
      kind: 'ongoing',
      platformStatus: 'started',
    });
    expect(getCallRequest({ provider: 'bland', baseUrl: 'https://api.bland.ai', apiKey: 'sk-1' }, 'b1')).toEqual({
      url: 'https://api.bland.ai/v1/calls/b1',
      headers: { accept: 'application/json', authorization: 'sk-1' },
    });
  });
});

describe('Twilio GET /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json', () => {
  /** The Call resource's JSON with the facts of a status-callback fixture. */
  const callOf = (fixture: string) => {
    const f = parseForm(fixtureBytes(fixture)) as Record<string, string>;
    return {
      sid: f.CallSid,
      account_sid: f.AccountSid,
      status: f.CallStatus,
      duration: f.CallDuration ?? null,
      from: f.From,
      to: f.To,
      direction: f.Direction,
      start_time: null,
      end_time: f.Timestamp,
      answered_by: f.AnsweredBy ?? null,
      price: f.Price ?? null,
      price_unit: f.PriceUnit ?? 'USD',
    };
  };
  test.each(['twilio/completed.txt', 'twilio/busy.txt', 'twilio/no-answer.txt', 'twilio/completed-machine.txt', 'twilio/canceled.txt'])(
    'the Call resource of %s maps like its status callback',
    (fixture) => {
      const call = callOf(fixture);
      const hook = webhookEnd('twilio', fixture);
      const e = ended(answerFromGetCall('twilio', call.sid, call, RECEIVED_AT));
      // The callback's recording URL is not part of the Call resource.
      expect({ ...pick(e), recordingUrl: undefined }).toEqual({ ...pick(hook), recordingUrl: undefined });
      expect(e.eventId).toBe(`poll:twilio:${call.sid}:${call.status}`);
    },
  );

  test('queued, ringing and in-progress are still going; the request uses basic auth with the account SID', () => {
    for (const status of ['queued', 'ringing', 'in-progress']) {
      expect(answerFromGetCall('twilio', 'CA1', { sid: 'CA1', status }, RECEIVED_AT)).toEqual({ kind: 'ongoing', platformStatus: status });
    }
    const sid = 'AC0123456789abcdef0123456789abcdef';
    expect(getCallRequest({ provider: 'twilio', baseUrl: 'https://api.twilio.com', apiKey: 'token', accountSid: sid }, 'CA1')).toEqual({
      url: `https://api.twilio.com/2010-04-01/Accounts/${sid}/Calls/CA1.json`,
      headers: { accept: 'application/json', authorization: `Basic ${Buffer.from(`${sid}:token`).toString('base64')}` },
    });
  });

  test('an answer that is not a call object is "cannot say", not a crash', () => {
    expect(answerFromGetCall('twilio', 'CA1', [1, 2], RECEIVED_AT)).toMatchObject({ kind: 'unknown', final: false });
    expect(answerFromGetCall('twilio', 'CA1', null, RECEIVED_AT)).toMatchObject({ kind: 'unknown', final: false });
  });
});

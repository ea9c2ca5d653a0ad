// The API's own paths in the OpenAPI document: webhooks, calls, follow-ups, contacts, compliance
// and analytics, described from the zod schemas the routes validate with. openapi.ts puts them
// in the document beside the operations routes, the dashboard's and the event log's.
import { PROVIDERS } from '../domain/events';
import { listQuery as callListQuery } from './calls';
import { createBody, patchBody } from './contacts';
import { cancelBody, listQuery as followUpListQuery, retryBody, scheduleBody } from './control';
import { callingRulesBody, doNotCallBody, doNotCallListQuery } from './compliance';
import { agentsQuery, summaryQuery, timeseriesQuery } from './analytics';
import { type Json, body, error, json, operation, pathParam, queryParams, ref } from './openapiSchemas';

/** The /api paths, in the document's order. */
export function apiPaths(): Record<string, Json> {
  const callId = pathParam('callId', "The platform's call id");
  const contactId = pathParam('contactId', 'The contact id');
  const webhookResponses = {
    200: json('WebhookAck', "The events are durable (in the inbox, then the call's Temporal history); nothing acknowledged is lost"),
    400: error('Malformed JSON, a missing field or an unknown event; the message names the field'),
    413: error('Body over WEBHOOK_BODY_LIMIT'),
    415: error('A Content-Type other than JSON (or form-encoded, for Twilio)'),
  };
  const webhookBody = {
    required: true,
    content: {
      'application/json': {
        schema: { anyOf: [ref('GenericCallEvent'), { type: 'object', description: "A platform's own payload (Retell, Vapi, Bland)" }] },
      },
      'application/x-www-form-urlencoded': {
        schema: { type: 'object', description: "Twilio's status callback fields", additionalProperties: { type: 'string' } },
      },
    },
  };
  const controlResponses = (what: string) => ({
    202: json('ControlAccepted', `The workflow took the ${what}; its own note is the message`),
    400: error('A body field is wrong; the message names it'),
    404: error('No such call in this organization'),
    409: error('The workflow refused (nothing to do) or has finished'),
    413: error('Body over the limit'),
    415: error('A body that is not JSON'),
  });
  return {
    '/api/calls/webhook': {
      post: operation('webhook', {
        summary: "Receive a call event; the platform is told by the body's provider, the signature headers or the shape",
        tags: ['webhooks'],
        requestBody: webhookBody,
        responses: webhookResponses,
      }),
    },
    '/api/calls/webhook/{provider}': {
      post: operation('webhook', {
        summary: 'Receive a call event from one platform (the URL to paste into its dashboard)',
        tags: ['webhooks'],
        parameters: [pathParam('provider', 'The platform', { type: 'string', enum: [...PROVIDERS] })],
        requestBody: webhookBody,
        responses: { ...webhookResponses, 404: error('An unknown platform in the URL') },
      }),
    },
    '/api/calls': {
      get: operation('read', {
        summary: 'List calls, newest first',
        tags: ['calls'],
        parameters: queryParams(callListQuery),
        responses: { 200: json('CallList', 'A page of calls'), 400: error('A query parameter is wrong; the message names it') },
      }),
    },
    '/api/calls/{callId}': {
      get: operation('read', {
        summary: 'One call: status, outcome, duration, recording, transcript, timeline, workflow link',
        tags: ['calls'],
        parameters: [callId],
        responses: { 200: json('Call', 'The call'), 400: error('A malformed id'), 404: error('No such call in this organization') },
      }),
    },
    '/api/calls/{callId}/retry': {
      post: operation('control', {
        summary: 'Place the follow-up call now (retryNow)',
        tags: ['follow-ups'],
        parameters: [callId],
        requestBody: body(retryBody, false),
        responses: controlResponses('retry'),
      }),
    },
    '/api/calls/{callId}/follow-up/cancel': {
      post: operation('control', {
        summary: 'Stop following up (cancelFollowUp)',
        tags: ['follow-ups'],
        parameters: [callId],
        requestBody: body(cancelBody),
        responses: controlResponses('cancel'),
      }),
    },
    '/api/calls/{callId}/follow-up/schedule': {
      post: operation('control', {
        summary: 'Schedule the next follow-up call at a time or after a delay (scheduleFollowUp)',
        tags: ['follow-ups'],
        parameters: [callId],
        requestBody: body(scheduleBody),
        responses: controlResponses('schedule'),
      }),
    },
    '/api/follow-ups': {
      get: operation('read', {
        summary: 'Follow-up call attempts, e.g. ?status=due: waiting for a person',
        tags: ['follow-ups'],
        parameters: queryParams(followUpListQuery),
        responses: { 200: json('FollowUpList', 'The attempts'), 400: error('A query parameter is wrong') },
      }),
    },
    '/api/contacts': {
      post: operation('control', {
        summary: 'Create a contact',
        tags: ['contacts'],
        requestBody: body(createBody),
        responses: {
          201: json('Contact', 'Created'),
          400: error('A field is wrong; the message names it'),
          409: error('The contact id exists'),
          413: error('Body over the limit'),
          415: error('A body that is not JSON'),
        },
      }),
    },
    '/api/contacts/{contactId}': {
      get: operation('read', {
        summary: 'A contact with its call count and last call',
        tags: ['contacts'],
        parameters: [contactId],
        responses: { 200: json('Contact', 'The contact'), 400: error('A malformed id'), 404: error('No such contact') },
      }),
      patch: operation('control', {
        summary: 'Set name, email, phone or time zone; doNotCall {reason} marks the contact do-not-call (null clears it)',
        tags: ['contacts'],
        parameters: [contactId],
        requestBody: body(patchBody),
        responses: {
          200: json('Contact', 'The updated contact'),
          400: error('A field is wrong; the message names it'),
          404: error('No such contact'),
          413: error('Body over the limit'),
          415: error('A body that is not JSON'),
        },
      }),
    },
    '/api/settings/calling-rules': {
      get: operation('read', {
        summary: 'The calling rules: window (local hours, days, regional rules), default time zone, per-contact cap, opt-out field',
        tags: ['compliance'],
        responses: { 200: json('CallingRules', 'The rules, defaults filled in') },
      }),
      put: operation('control', {
        summary: 'Change the calling rules; fields left out keep their value',
        tags: ['compliance'],
        requestBody: body(callingRulesBody),
        responses: {
          200: json('CallingRules', 'The rules now in force'),
          400: error('A field is wrong; the message names it'),
          413: error('Body over the limit'),
          415: error('A body that is not JSON'),
        },
      }),
    },
    '/api/do-not-call': {
      get: operation('read', {
        summary: "The organization's do-not-call numbers",
        tags: ['compliance'],
        parameters: queryParams(doNotCallListQuery),
        responses: { 200: json('DoNotCallList', 'A page of numbers'), 400: error('A query parameter is wrong') },
      }),
      post: operation('control', {
        summary: 'Put numbers on the do-not-call list ({phone, reason} or {numbers: [...]}); their pending follow-ups are canceled',
        tags: ['compliance'],
        requestBody: body(doNotCallBody),
        responses: {
          201: json('DoNotCallAdded', 'Added (numbers already listed keep their first reason)'),
          400: error('A number is not E.164; the message names it'),
          413: error('Body over the limit'),
          415: error('A body that is not JSON'),
        },
      }),
    },
    '/api/do-not-call/{phone}': {
      delete: operation('control', {
        summary: 'Take a number off the do-not-call list',
        tags: ['compliance'],
        parameters: [pathParam('phone', 'E.164 number, e.g. +14155551234')],
        responses: { 200: { description: 'Removed' }, 400: error('Not a phone number'), 404: error('The number is not on the list') },
      }),
    },
    '/api/analytics/summary': {
      get: operation('read', {
        summary:
          'Totals over a range: calls, answer rate, outcomes, duration (average, median, histogram), cost per currency, follow-ups, emails, stale calls. ' +
          'The median is exact for small sets, else estimated within a histogram bucket (duration.medianExact says which; see duration.medianSec)',
        tags: ['analytics'],
        parameters: queryParams(summaryQuery),
        responses: {
          200: json('AnalyticsSummary', 'The figures'),
          400: error('A query parameter is wrong, or the range too long; the message names it'),
        },
      }),
    },
    '/api/analytics/timeseries': {
      get: operation('read', {
        summary: "Calls per local hour, day or week in the organization's time zone, grouped by outcome, provider or agent",
        tags: ['analytics'],
        parameters: queryParams(timeseriesQuery),
        responses: {
          200: json('AnalyticsTimeseries', 'One bucket per interval'),
          400: error('A query parameter is wrong, or the range too long for the interval; the message names it'),
        },
      }),
    },
    '/api/analytics/agents': {
      get: operation('read', {
        summary: 'Per agent: calls, answer rate, duration, success rate (platform analysis) and cost',
        tags: ['analytics'],
        parameters: queryParams(agentsQuery),
        responses: {
          200: json('AnalyticsAgents', 'One item per agent, most calls first'),
          400: error('A query parameter is wrong; the message names it'),
        },
      }),
    },
  };
}

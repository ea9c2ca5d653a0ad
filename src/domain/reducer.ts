// The call lifecycle as a pure reducer. The workflow applies it to every event; tests apply it
// to every order of events. It is order-independent and idempotent by construction: every field
// is owned by the event with the highest precedence key that supplied it, so neither a late
// `ringing`, a duplicate, nor an early `recording_ready` can move the call backwards.
import { OUTCOMES, type CallEvent, type CallEventType, type CallFields, type HeavyField, type Outcome, type Provider } from './events';
import { clampFuture, isSafeId, lookup } from './limits';
import { saneCost } from './cost';
import { type Claims, HEAVY_FIELDS } from './claimCheck';

export const CALL_STATUSES = ['pending', 'initiated', 'ringing', 'answered', 'completed', 'failed'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export const isTerminal = (s: CallStatus): boolean => s === 'completed' || s === 'failed';

export interface TimelineEntry {
  eventId: string;
  type: CallEventType;
  providerEvent: string;
  occurredAt?: string;
  receivedAt: string;
  outcome?: Outcome;
  /** Why the event changed nothing although it was new (another platform's event about this call). */
  ignored?: string;
  /** The webhook request that brought it: finds its receiver log lines. */
  requestId?: string;
}

/** Data fields of a call that events fill in. */
export interface CallData extends CallFields {
  answeredAt?: string;
}
type DataField = keyof CallData;
const DATA_FIELDS: readonly DataField[] = [
  'from',
  'to',
  'direction',
  'durationSec',
  'startedAt',
  'answeredAt',
  'endedAt',
  'recordingUrl',
  'transcript',
  'transcriptSegments',
  'agentId',
  'contactId',
  'metadata',
  'analysis',
  'followUpOf',
  'cost',
];

/** A call that never reported its end and the platform could not say how it ended (src/domain/stale.ts); shown on the call record, in the workflow's details and in `getState`. */
export interface StaleMark {
  /** When the call was marked stale (ISO). */
  since: string;
  /** Why, in words: what the platform answered. */
  reason: string;
  /** Polls made before giving up. */
  polls: number;
}

export interface CallState extends CallData {
  orgId: string;
  callId: string;
  provider: Provider;
  status: CallStatus;
  outcome?: Outcome;
  /** The platform's own end reason, verbatim. */
  endedReason?: string;
  recordingReady: boolean;
  /** Distinct events applied (duplicates not counted). */
  eventCount: number;
  /** Events in the order they happened, duplicates removed, capped at TIMELINE_CAP. */
  timeline: TimelineEntry[];
  /**
   * Set when no event came for CALL_STALE_AFTER and the platform could not say how the call ended
   * (src/domain/stale.ts). Not a status: the status stays what the platform last reported; any
   * later event of the call clears it.
   */
  stale?: StaleMark;
  /** Heavy fields held in slim form here: the event-log document (or the record) that holds each whole. */
  claims?: Claims;
  /** Precedence key of the event that set each field (and `status`/`outcome`). Internal. */
  owners: Partial<Record<DataField | 'status' | 'outcome', string>>;
}

export const TIMELINE_CAP = 200;

const STATE_KEYS: readonly (keyof CallState)[] = [
  'orgId',
  'callId',
  'provider',
  'status',
  'outcome',
  'endedReason',
  'recordingReady',
  'eventCount',
  'timeline',
  'owners',
  'stale',
  'claims',
  ...DATA_FIELDS,
];

/** The reducer's state out of a stored record that also holds other things (effects, dates, ids). */
export function pickState(record: object): CallState {
  const r = record as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of STATE_KEYS) if (r[k] !== undefined) out[k] = r[k];
  return out as unknown as CallState;
}

export function initialState(orgId: string, callId: string, provider: Provider): CallState {
  return { orgId, callId, provider, status: 'pending', recordingReady: false, eventCount: 0, timeline: [], owners: {} };
}

/**
 * Rank of an event type for data precedence. Post-call enrichments (`call.updated`: analysis,
 * corrected transcripts) and the recording outrank the end-of-call event, which outranks
 * anything said during the call. Providers therefore map mid-call data (partial transcripts)
 * to the timeline only, not to fields.
 */
const TYPE_RANK: Record<CallEventType, number> = {
  'call.initiated': 1,
  'call.ringing': 2,
  'call.answered': 3,
  'call.failed': 4,
  'call.completed': 5,
  'call.updated': 6,
  'call.recording_ready': 7,
};

/** Status each lifecycle event moves to; `completed` beats `failed` when a platform reports both. */
const STATUS_OF: Partial<Record<CallEventType, CallStatus>> = {
  'call.initiated': 'initiated',
  'call.ringing': 'ringing',
  'call.answered': 'answered',
  'call.failed': 'failed',
  'call.completed': 'completed',
};
const STATUS_RANK: Record<CallStatus, number> = {
  pending: 0,
  initiated: 1,
  ringing: 2,
  answered: 3,
  failed: 4,
  completed: 5,
};

const pad = (n: number, width: number) => String(Math.max(0, Math.floor(n))).padStart(width, '0');

/** A total order over events: type rank, then sequence, then time, then id. */
export function precedenceKey(e: CallEvent): string {
  return [pad(lookup(TYPE_RANK, e.type) ?? 0, 2), pad(e.sequence ?? 0, 10), e.occurredAt ?? '', e.receivedAt, e.eventId].join('|');
}

const defaultOutcome = (type: CallEventType): Outcome | undefined =>
  type === 'call.completed' ? 'completed' : type === 'call.failed' ? 'failed' : undefined;

function eventData(e: CallEvent): CallData {
  const d: CallData = {
    from: e.from,
    to: e.to,
    direction: e.direction,
    durationSec: e.durationSec,
    startedAt: e.startedAt,
    endedAt: e.endedAt,
    recordingUrl: e.recordingUrl,
    transcript: e.transcript,
    transcriptSegments: e.transcriptSegments,
    agentId: e.agentId,
    contactId: e.contactId,
    metadata: e.metadata,
    analysis: e.analysis,
    followUpOf: e.followUpOf,
    cost: e.cost,
  };
  if (e.type === 'call.answered') d.answeredAt = e.occurredAt ?? e.receivedAt;
  return d;
}

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === '' || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

const byTime = (a: TimelineEntry, b: TimelineEntry) => {
  const ta = a.occurredAt ?? a.receivedAt;
  const tb = b.occurredAt ?? b.receivedAt;
  return ta < tb ? -1 : ta > tb ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
};

export interface ReduceResult {
  state: CallState;
  /** The same event (same eventId) was applied before. */
  duplicate: boolean;
}

/**
 * What the receiver guarantees, checked again for events that arrive another way (a CLI signal):
 * an unknown type changes no status, an unknown outcome is dropped, an id that a search attribute
 * would refuse is dropped, and a far-future time is clamped, so no event can wedge the workflow.
 */
function sane(e: CallEvent): CallEvent {
  const out: CallEvent = { ...e };
  if (lookup(TYPE_RANK, e.type) === undefined) out.type = 'call.updated';
  if (e.outcome !== undefined && !(OUTCOMES as readonly string[]).includes(e.outcome)) out.outcome = undefined;
  if (e.contactId !== undefined && !isSafeId(e.contactId)) out.contactId = undefined;
  if (e.agentId !== undefined && !isSafeId(e.agentId)) out.agentId = undefined;
  if (e.requestId !== undefined && !isSafeId(e.requestId)) out.requestId = undefined;
  if (e.cost !== undefined) out.cost = saneCost(e.cost);
  if (typeof e.receivedAt === 'string') {
    out.occurredAt = clampFuture(e.occurredAt, e.receivedAt);
    out.startedAt = clampFuture(e.startedAt, e.receivedAt);
    out.endedAt = clampFuture(e.endedAt, e.receivedAt);
  }
  return out;
}

/**
 * Applies one event. Never mutates its input. A call keeps the platform that first reported it:
 * an event from another platform is recorded in the timeline as ignored and changes nothing else
 * (an unsigned generic event must not rewrite a call a signed platform reported).
 */
export function reduce(state: CallState, input: CallEvent): ReduceResult {
  if (state.timeline.some((t) => t.eventId === input.eventId)) return { state, duplicate: true };
  const event = sane(input);
  if (event.provider !== state.provider) {
    const timeline = [
      ...state.timeline,
      {
        eventId: event.eventId,
        type: event.type,
        providerEvent: event.providerEvent,
        occurredAt: event.occurredAt,
        receivedAt: event.receivedAt,
        ignored: `reported by ${event.provider}, but this call is a ${state.provider} call`,
        ...(event.requestId && { requestId: event.requestId }),
      },
    ].sort(byTime);
    if (timeline.length > TIMELINE_CAP) timeline.splice(TIMELINE_CAP / 2, timeline.length - TIMELINE_CAP);
    return { state: { ...state, timeline }, duplicate: false };
  }

  const key = precedenceKey(event);
  const next: CallState = { ...state, owners: { ...state.owners }, timeline: [...state.timeline] };
  // The platform is reporting on the call again: it is no longer stale (the workflow re-asks later if it must).
  delete next.stale;

  const status = STATUS_OF[event.type];
  if (status) {
    // Status is owned by the highest status rank; equal ranks fall back to the event key.
    const statusKey = `${pad(STATUS_RANK[status], 2)}|${key}`;
    const owner = next.owners.status;
    if (owner === undefined || statusKey > owner) {
      next.status = status;
      next.owners.status = statusKey;
    }
    if (isTerminal(status)) {
      const outcome = event.outcome ?? defaultOutcome(event.type);
      const outcomeOwner = next.owners.outcome;
      if (outcomeOwner === undefined || statusKey > outcomeOwner) {
        next.outcome = outcome;
        next.endedReason = event.endedReason;
        next.owners.outcome = statusKey;
      }
    }
  }
  if (event.type === 'call.recording_ready') next.recordingReady = true;

  const data = eventData(event);
  const claimed = new Set<string>(event.claim?.fields ?? []);
  for (const f of DATA_FIELDS) {
    const v = data[f];
    if (isEmpty(v) && !claimed.has(f)) continue;
    const owner = next.owners[f];
    if (owner === undefined || key > owner) {
      if (v === undefined) delete (next as unknown as Record<string, unknown>)[f];
      else (next as unknown as Record<string, unknown>)[f] = v;
      next.owners[f] = key;
      if ((HEAVY_FIELDS as readonly string[]).includes(f)) {
        next.claims = withClaim(next.claims, f as HeavyField, claimed.has(f) ? event.claim?.logId : undefined);
        if (next.claims === undefined) delete next.claims;
      }
    }
  }

  next.eventCount = state.eventCount + 1;
  next.timeline.push({
    eventId: event.eventId,
    type: event.type,
    providerEvent: event.providerEvent,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    outcome: event.outcome,
    ...(event.requestId && { requestId: event.requestId }),
  });
  next.timeline.sort(byTime);
  // Keep the start and the most recent end of a very chatty call.
  if (next.timeline.length > TIMELINE_CAP) next.timeline.splice(TIMELINE_CAP / 2, next.timeline.length - TIMELINE_CAP);
  return { state: next, duplicate: false };
}

/** The claims after a heavy field changed owner: the owner's log document when it came slim, none when it came whole. */
function withClaim(claims: Claims | undefined, field: HeavyField, logId: string | undefined): Claims | undefined {
  if (!logId && !claims?.[field]) return claims;
  const out: Claims = { ...claims };
  if (logId) out[field] = logId;
  else delete out[field];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A one-line, human summary of a call for logs and the Temporal UI. */
export function describe(state: CallState): string {
  const parts = [`${state.provider} call ${state.callId}`, state.status];
  if (state.outcome && state.outcome !== state.status) parts.push(`(${state.outcome})`);
  if (state.durationSec !== undefined) parts.push(`${state.durationSec}s`);
  if (state.contactId) parts.push(`contact ${state.contactId}`);
  if (state.stale) parts.push('(stale: the platform never reported its end)');
  return parts.join(' ');
}

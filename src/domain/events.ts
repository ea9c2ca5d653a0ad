// The canonical call event every provider payload is turned into. Pure TypeScript: no Node
// imports, so workflows, activities and tests all share it.
import type { CallCost } from './cost';

/** The lifecycle events of the Calls API spec. */
export const CALL_EVENT_TYPES = [
  'call.initiated',
  'call.ringing',
  'call.answered',
  'call.completed',
  'call.failed',
  'call.recording_ready',
] as const;
export type SpecEventType = (typeof CALL_EVENT_TYPES)[number];

/**
 * `call.updated` carries data only (a transcript update, an analysis, Bland's corrected
 * transcript, a Vapi message we do not act on): it is recorded and merged, never moves the status.
 */
export type CallEventType = SpecEventType | 'call.updated';

export const PROVIDERS = ['generic', 'retell', 'vapi', 'bland', 'twilio'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** How a finished call ended. Open enum on the provider side; this is our closed mapping. */
export const OUTCOMES = ['completed', 'voicemail', 'no-answer', 'busy', 'failed', 'canceled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface CallAnalysis {
  summary?: string;
  sentiment?: string;
  successful?: boolean;
  data?: Record<string, unknown>;
}

/** One utterance of a platform's corrected transcript (Bland's `corrected_transcript.segments`). */
export interface TranscriptSegment {
  speaker?: string;
  text: string;
  confidence?: number;
  startSec?: number;
  endSec?: number;
}

/** Fields that can be large; past a few KB Temporal carries them by reference (src/domain/claimCheck.ts). */
export type HeavyField = 'transcript' | 'transcriptSegments' | 'metadata' | 'analysis';

/** Which heavy fields an event carries only in slim form, and the event-log document holding them whole. */
export interface ClaimRef {
  logId: string;
  fields: HeavyField[];
}

/** Set on a call that we placed as a follow-up of an earlier unanswered call. */
export interface FollowUpLink {
  originalCallId: string;
  attempt: number;
}

/** What an event can tell about the call itself; the reducer keeps the best-ranked value of each. */
export interface CallFields {
  from?: string;
  to?: string;
  direction?: 'inbound' | 'outbound';
  durationSec?: number;
  startedAt?: string;
  endedAt?: string;
  recordingUrl?: string;
  transcript?: string;
  /** The utterances of the transcript, when a platform sends them with times (Bland's correction). */
  transcriptSegments?: TranscriptSegment[];
  agentId?: string;
  contactId?: string;
  metadata?: Record<string, unknown>;
  analysis?: CallAnalysis;
  followUpOf?: FollowUpLink;
  /** What the platform says the call cost (src/domain/cost.ts: hundredths of the currency). */
  cost?: CallCost;
}

export interface CallEvent extends CallFields {
  /**
   * Stable across provider retries of the same delivery: provider + call id + event (+ status or
   * sequence). Two events with the same id are the same event.
   */
  eventId: string;
  provider: Provider;
  /** The platform's own name for the event, verbatim (e.g. `call_ended`, `status-update:ringing`). */
  providerEvent: string;
  callId: string;
  type: CallEventType;
  /** When the platform says it happened (ISO-8601), if it says. */
  occurredAt?: string;
  /** When we received it (ISO-8601). */
  receivedAt: string;
  /** Twilio's SequenceNumber: a higher one is newer. */
  sequence?: number;

  outcome?: Outcome;
  /** The platform's reason for the end of the call, verbatim (`dial_no_answer`, `customer-busy`...). */
  endedReason?: string;
  /** The receiver's id of the HTTP request that brought the event (its X-Request-Id and log lines). */
  requestId?: string;
  /** Heavy fields this event carries only in slim form; the event log holds them whole (src/domain/claimCheck.ts). */
  claim?: ClaimRef;
}

/** Outcomes of a call that connected (someone or something answered). */
export const CONNECTED_OUTCOMES: ReadonlySet<Outcome> = new Set(['completed', 'voicemail']);

/** The one rule every platform shares: a connected outcome ends as completed, any other as failed. */
export const terminalTypeOf = (o: Outcome): 'call.completed' | 'call.failed' =>
  CONNECTED_OUTCOMES.has(o) ? 'call.completed' : 'call.failed';

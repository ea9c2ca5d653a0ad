// Claim checks: Temporal carries a reference, the event log keeps the payload. An event's heavy
// fields (transcript, segments, free-form metadata, analysis) go into the workflow only in a slim
// form, with the id of the event-log document that holds the whole value; the activity that saves
// the call reads it from there. Pure: the receiver, the reducer and the activities share it.
import type { CallAnalysis, CallEvent, CallFields, HeavyField } from './events';

export const HEAVY_FIELDS: readonly HeavyField[] = ['transcript', 'transcriptSegments', 'metadata', 'analysis'];

/** A field whose JSON is at most this many bytes travels whole: most calls never need the log. */
export const FIELD_BUDGET_BYTES = 4_096;
/** What a slim metadata or analysis keeps: short scalars the workflow decides on (agentName, the opt-out field). */
const SLIM_BUDGET_BYTES = 2_048;
const SLIM_STRING_CHARS = 256;
const SUMMARY_CHARS = 1_000;

/** Event-log document id per claimed field of a call's state; `RECORD` when the call record itself holds the value. */
export type Claims = Partial<Record<HeavyField, string>>;
export const RECORD = '@record';

const bytes = (v: unknown): number => {
  const s = JSON.stringify(v);
  // UTF-8 length without Buffer, so workflows can import this.
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3;
  }
  return n;
};

/** Short scalars of free JSON, nested objects included, up to the budget: deterministic, so a record reloaded slims alike. */
function slimJson(value: Record<string, unknown>): Record<string, unknown> | undefined {
  let left = SLIM_BUDGET_BYTES;
  const walk = (o: Record<string, unknown>, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (left <= 0) break;
      let kept: unknown;
      if (typeof v === 'string') kept = v.length <= SLIM_STRING_CHARS ? v : undefined;
      else if (typeof v === 'number' || typeof v === 'boolean' || v === null) kept = v;
      else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 3) {
        const inner = walk(v as Record<string, unknown>, depth + 1);
        kept = Object.keys(inner).length > 0 ? inner : undefined;
      }
      if (kept === undefined) continue;
      const cost = bytes(k) + bytes(kept) + 2;
      if (cost > left) continue;
      left -= cost;
      out[k] = kept;
    }
    return out;
  };
  const out = walk(value, 0);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The slim form of one heavy field's value: nothing for text, short scalars for free JSON. */
export function slimField(field: HeavyField, value: unknown): unknown {
  if (field === 'metadata') return slimJson(value as Record<string, unknown>);
  if (field === 'analysis') {
    const a = value as CallAnalysis;
    const out: CallAnalysis = {};
    if (a.summary !== undefined) out.summary = a.summary.length > SUMMARY_CHARS ? a.summary.slice(0, SUMMARY_CHARS) : a.summary;
    if (a.sentiment !== undefined) out.sentiment = a.sentiment;
    if (a.successful !== undefined) out.successful = a.successful;
    const data = a.data && slimJson(a.data);
    if (data) out.data = data;
    return out;
  }
  return undefined;
}

const isHeavy = (field: HeavyField, value: unknown) => value !== undefined && bytes(value) > FIELD_BUDGET_BYTES;

/**
 * The event as Temporal gets it: heavy fields over the budget in slim form, with a claim on the
 * event-log document `logId`. An event with nothing heavy comes back unchanged; a slim one too.
 */
export function claimCheck(event: CallEvent, logId: string): CallEvent {
  if (event.claim) return event;
  const fields = HEAVY_FIELDS.filter((f) => isHeavy(f, event[f]));
  if (fields.length === 0) return event;
  const slim: CallEvent = { ...event, claim: { logId, fields } };
  for (const f of fields) {
    const v = slimField(f, event[f]);
    if (v === undefined) delete slim[f];
    else (slim as CallFields)[f] = v as never;
  }
  return slim;
}

/**
 * A state read back from the call record, fit for the workflow again: heavy values slimmed and
 * claimed by the record itself (saving keeps the record's whole value, see `RECORD`).
 */
export function slimState<S extends CallFields & { claims?: Claims }>(state: S): S {
  const fields = HEAVY_FIELDS.filter((f) => isHeavy(f, state[f]));
  if (fields.length === 0) return state;
  const out: S = { ...state, claims: { ...state.claims } };
  for (const f of fields) {
    const v = slimField(f, state[f]);
    if (v === undefined) delete out[f];
    else (out as CallFields)[f] = v as never;
    out.claims![f] ??= RECORD;
  }
  return out;
}

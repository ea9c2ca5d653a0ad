// What the dispatcher decides without state: which events go in one signal, and which of
// Temporal's answers mean the event itself is refused (src/temporal/dispatcher.ts).
import { isGrpcServiceError } from '@temporalio/client';
import type { InboxDoc } from '../store/inbox';

/** What one signal carries at most: well inside Temporal's payload limits (slim events are a few KB). */
const GROUP_MAX_EVENTS = 20;
const GROUP_MAX_BYTES = 32 * 1024;

/** One call's documents together, in arrival order, within the group limits. */
export function groupByCall(docs: InboxDoc[]): InboxDoc[][] {
  const out: InboxDoc[][] = [];
  const open = new Map<string, { docs: InboxDoc[]; bytes: number }>();
  for (const d of [...docs].sort((x, y) => x.receivedAt.getTime() - y.receivedAt.getTime())) {
    const key = `${d.orgId}\u0000${d.provider}\u0000${d.callId}`;
    const g = open.get(key);
    if (g && g.docs.length < GROUP_MAX_EVENTS && g.bytes + d.event.length <= GROUP_MAX_BYTES) {
      g.docs.push(d);
      g.bytes += d.event.length;
      continue;
    }
    const fresh = { docs: [d], bytes: d.event.length };
    open.set(key, fresh);
    out.push(fresh.docs);
  }
  return out;
}

/** Tries of one event whose failures are its own (Temporal answering) before it becomes a dead letter. */
export const EVENT_MAX_TRIES = 10;

/** INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE: the request itself is wrong, so retrying the same event cannot help. */
const PERMANENT_CODES = new Set([3, 9, 11]);

/** Temporal said the request itself is wrong (a payload too large among others): retrying the same event cannot help. */
export function isPermanentRejection(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && PERMANENT_CODES.has(e.code)) return true;
    if (e instanceof Error && /size exceeds limit|too large/i.test(e.message)) return true;
  }
  return false;
}

export const message = (err: unknown) =>
  err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);

// Bounds the bytes of request bodies this process holds at once, across all requests. The body
// limit (10 MB) bounds one request; without this, 50 clients sending 10 MB each would make the
// receiver buffer (and parse, and copy) half a gigabyte, starving everyone's small webhooks.
// A body past the bound is read and dropped, and answered 503 with Retry-After: platforms retry.
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { HttpError } from './errors';

/** Bytes of bodies in flight in one receiver when BODY_BYTES_IN_FLIGHT is not set: three full-size webhooks. */
export const DEFAULT_BODY_BYTES_IN_FLIGHT = 32 * 1024 * 1024;
/** Bodies up to this size never wait for the budget: the ordinary webhook is a few KB. */
export const SMALL_BODY_BYTES = 64 * 1024;
/** What the 503 tells a client to wait before it sends the body again. */
export const BODY_BUSY_RETRY_AFTER_SEC = 2;

export class BodyBudget {
  private used = 0;
  constructor(readonly limit: number = DEFAULT_BODY_BYTES_IN_FLIGHT) {}

  /** Takes `n` more bytes, or returns false when they would go past the limit. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inFlight(): number {
    return this.used;
  }
}

interface Hold {
  budget: BodyBudget;
  taken: number;
}
const holds = new WeakMap<IncomingMessage, Hold>();

/**
 * Outermost body guard: what a request's body took from the budget is given back when its
 * response is done, after the body was parsed and stored (those copies count as much as the buffer).
 */
export function bodyBudgetMiddleware(budget: BodyBudget): Koa.Middleware {
  return async (ctx, next) => {
    const hold: Hold = { budget, taken: 0 };
    holds.set(ctx.req, hold);
    try {
      await next();
    } finally {
      budget.give(hold.taken);
      hold.taken = 0;
    }
  };
}

/**
 * Makes sure the request holds `size` bytes of the budget (bodies up to SMALL_BODY_BYTES need none).
 * False when the budget has no room: the caller stops buffering.
 */
export function holdBodyBytes(req: IncomingMessage, size: number): boolean {
  const hold = holds.get(req);
  if (!hold || size <= SMALL_BODY_BYTES || size <= hold.taken) return true;
  if (!hold.budget.take(size - hold.taken)) return false;
  hold.taken = size;
  return true;
}

export function bodyBudgetFull(): HttpError {
  return new HttpError(
    503,
    'Service Unavailable',
    `Too many large request bodies in flight on this receiver; retry after ${BODY_BUSY_RETRY_AFTER_SEC} s`,
    { 'Retry-After': String(BODY_BUSY_RETRY_AFTER_SEC) },
  );
}

// Every request gets an id: the caller's X-Request-Id when it is a plain token, else a new UUID.
// It is sent back in the response header, is on every log line of the request, and rides along
// with the webhook's events into the call's workflow history (CallEvent.requestId).
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { type Logger, withFields } from '../observability/log';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** What we take from a caller: short, and nothing that could forge a log field or a header. */
const SANE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;

export interface RequestState {
  requestId: string;
  /** The app's logger with this request's id on every line. */
  log: Logger;
}

export function requestIdOf(incoming: string | undefined): string {
  return incoming && SANE_ID.test(incoming) ? incoming : randomUUID();
}

/** The logger of this request, or `fallback` outside the request middleware (unit tests of one route). */
export function requestLog(ctx: Koa.Context, fallback: Logger): Logger {
  return (ctx.state as Partial<RequestState>).log ?? fallback;
}

/**
 * Outermost middleware: sets the id and, when the request is done, logs one access line (debug
 * for successes, which are many; info for client errors; warn for server errors). The path is
 * logged without its query string, which may hold an API key.
 */
export function requestIdMiddleware(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const requestId = requestIdOf(ctx.get(REQUEST_ID_HEADER));
    const log = withFields(logger, { requestId });
    Object.assign(ctx.state, { requestId, log });
    ctx.set(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const fields = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      if (ctx.status >= 500) log.warn('request', fields);
      else if (ctx.status >= 400) log.info('request', fields);
      else log.debug('request', fields);
    }
  };
}

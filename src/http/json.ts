// JSON bodies for the non-webhook routes.
import type { Context } from 'koa';
import { isJsonType } from '../providers';
import { HttpError } from './errors';
import { readRawBody } from './rawBody';

export function mediaType(ctx: Context): string {
  return (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
}

export { isJsonType } from '../providers';

/** The request's JSON body. With `optional`, an empty body is `{}` whatever its Content-Type. */
export async function readJson(ctx: Context, limit: number, opts: { optional?: boolean } = {}): Promise<unknown> {
  const raw = await readRawBody(ctx.req, limit);
  if (opts.optional && raw.length === 0) return {};
  const type = mediaType(ctx);
  if (!isJsonType(type)) {
    throw new HttpError(415, 'Unsupported Media Type', `Content-Type must be application/json (got ${type || 'none'})`);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'Bad Request', `Malformed JSON body: ${(err as Error).message}`);
  }
}

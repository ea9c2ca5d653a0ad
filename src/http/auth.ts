// X-API-Key → organization. Platforms that cannot send custom headers (Retell, Bland, Twilio)
// put the key in the webhook URL as `?api_key=...` instead.
import type { RouterMiddleware as Middleware } from '@koa/router';
import type { Collections } from '../store/db';
import { orgForApiKey } from '../store/organizations';
import { unauthorized } from './errors';

export interface AuthState {
  orgId: string;
}

export function authenticate(col: Collections): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('x-api-key');
    const query = typeof ctx.query.api_key === 'string' ? ctx.query.api_key : undefined;
    const orgId = await orgForApiKey(col, header || query);
    if (!orgId) throw unauthorized();
    (ctx.state as AuthState).orgId = orgId;
    await next();
  };
}

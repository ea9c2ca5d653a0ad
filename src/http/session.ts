// Dashboard sessions: a signed and encrypted cookie (AES-256-GCM, key derived from SECRETS_KEY)
// holding organization, key id, scope and expiry, so any receiver can read it. The key itself never
// leaves the sign-in request. Each request re-checks that the key is still there and not revoked
// (cached for a few seconds), and that the session was not signed out (one read by _id: sign-out
// must end a copied cookie on every receiver at once). Requests that change something carry a
// CSRF token bound to the session and must come from the dashboard's own origin.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Collections } from '../store/db';
import { KEY_SCOPES, type KeyIdentity, activeKeyById, isKeyScope } from '../store/organizations';
import { deriveKey } from '../store/secrets';
import type { Logger } from '../observability/log';
import { HttpError } from './errors';

export const SESSION_COOKIE = 'calls_session';
export const CSRF_HEADER = 'x-csrf-token';
/** How long a sign-in lasts; signing in again starts a new one. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** How long a key's "still valid" answer is reused: a revoked key stops working within this. */
const KEY_CHECK_TTL_MS = 5_000;
const AAD = Buffer.from('calls-api dashboard session v1');
/** What the cookie holds, in short names: organization, key id, scope, expiry (epoch ms), session id. */
const sealed = z.object({ o: z.string(), k: z.string(), s: z.enum(KEY_SCOPES), e: z.number(), i: z.string() });

export interface Session extends KeyIdentity {
  /** Epoch ms. */
  expiresAt: number;
  /** Random per sign-in: what the CSRF token is bound to. */
  sid: string;
}

const forbidden = (message: string) => new HttpError(403, 'Forbidden', message);

export class DashboardSessions {
  private readonly cookieKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly keyChecks = new Map<string, { at: number; doc: { orgId: string; scope: string | undefined } | null }>();

  constructor(
    private readonly col: Collections,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const base = deriveKey('dashboard-session');
    if (!base) {
      // Without SECRETS_KEY (library use, tests) sessions live as long as this process and this receiver only.
      logger.warn('no SECRETS_KEY: dashboard sessions use a key of this process only (lost on restart, not shared between receivers)');
    }
    const root = base ?? randomBytes(32);
    this.cookieKey = createHmac('sha256', root).update('cookie').digest();
    this.csrfKey = createHmac('sha256', root).update('csrf').digest();
  }

  /** The cookie value for a new session of this key. */
  seal(who: KeyIdentity): { value: string; session: Session } {
    const session: Session = { ...who, expiresAt: this.now() + SESSION_TTL_MS, sid: randomBytes(16).toString('base64url') };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.cookieKey, iv);
    cipher.setAAD(AAD);
    const plain = JSON.stringify({ o: session.orgId, k: session.keyId, s: session.scope, e: session.expiresAt, i: session.sid });
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { value: Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url'), session };
  }

  /** The session in a cookie value, or undefined when it is forged, from another key, or expired. */
  open(value: string | undefined): Session | undefined {
    if (!value || value.length > 2048) return undefined;
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.cookieKey, raw.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(12, 28));
      const p = sealed.safeParse(JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')));
      if (!p.success || p.data.e <= this.now()) return undefined;
      return { orgId: p.data.o, keyId: p.data.k, scope: p.data.s, expiresAt: p.data.e, sid: p.data.i };
    } catch {
      return undefined;
    }
  }

  csrfToken(session: Session): string {
    return createHmac('sha256', this.csrfKey).update(session.sid).digest('base64url');
  }

  /**
   * The session of the request's cookie whose key is still valid, or undefined. The scope is the
   * key's current one, so a changed key cannot keep more rights through an old cookie.
   */
  async current(ctx: Context): Promise<Session | undefined> {
    const session = this.open(ctx.cookies.get(SESSION_COOKIE));
    if (!session) return undefined;
    const [doc, revoked] = await Promise.all([this.keyDoc(session.keyId), this.col.revokedSessions.findOne({ _id: session.sid })]);
    if (revoked) return undefined;
    if (!doc || doc.orgId !== session.orgId) return undefined;
    const scope = isKeyScope(doc.scope) ? doc.scope : 'admin';
    if (scope === 'webhook') return undefined;
    return { ...session, scope };
  }

  private async keyDoc(keyId: string) {
    const hit = this.keyChecks.get(keyId);
    if (hit && this.now() - hit.at < KEY_CHECK_TTL_MS) return hit.doc;
    const valid = await activeKeyById(this.col, keyId);
    if (this.keyChecks.size > 10_000) this.keyChecks.clear();
    this.keyChecks.set(keyId, { at: this.now(), doc: valid });
    return valid;
  }

  /** Sets the session cookie: HttpOnly, SameSite=Strict, Secure over https (or behind a proxy that says so). */
  setCookie(ctx: Context, value: string): void {
    ctx.cookies.set(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
      path: '/',
      maxAge: SESSION_TTL_MS,
      overwrite: true,
    });
  }

  /** Ends the session on every receiver: its cookie, wherever it was copied to, is no session from now on. */
  async revoke(session: Session): Promise<void> {
    await this.col.revokedSessions.updateOne(
      { _id: session.sid },
      { $setOnInsert: { orgId: session.orgId, expiresAt: new Date(session.expiresAt), revokedAt: new Date(this.now()) } },
      { upsert: true },
    );
  }

  clearCookie(ctx: Context): void {
    ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/', maxAge: 0, overwrite: true });
  }

  /** A request that changes something under a session must carry the session's CSRF token. */
  checkCsrf(ctx: Context, session: Session): void {
    const given = Buffer.from(ctx.get(CSRF_HEADER), 'utf8');
    const expected = Buffer.from(this.csrfToken(session), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw forbidden(
        `A dashboard session needs its CSRF token in the ${CSRF_HEADER} header for ${ctx.method} requests (GET /dashboard/session gives it)`,
      );
    }
  }
}

/**
 * Refuses a state-changing request that a browser says comes from another site: Sec-Fetch-Site
 * when the browser sends it (pages cannot set it), else Origin, which must be this server's own
 * (`null`, an opaque origin, is not). A request with neither is not from a current browser page
 * and is refused too.
 */
export function checkSameOrigin(ctx: Context): void {
  const site = ctx.get('sec-fetch-site');
  if (site) {
    if (site !== 'same-origin')
      throw forbidden(`Cross-site request refused (Sec-Fetch-Site: ${site}): dashboard actions must come from the dashboard's own pages`);
    return;
  }
  const origin = ctx.get('origin');
  if (!origin)
    throw forbidden(
      'Cross-site request refused: a dashboard session request that changes something needs an Origin or Sec-Fetch-Site header',
    );
  // Built from protocol and Host: Koa's own ctx.origin is the request's Origin header.
  const own = `${ctx.protocol}://${ctx.host}`;
  if (origin !== own) throw forbidden(`Cross-site request refused: Origin ${origin} is not this server (${own})`);
}

// Per-key token buckets, one per route class. In-process: each receiver process counts its own
// requests, so N receivers behind a load balancer allow up to N times the configured rate.

export const ROUTE_CLASSES = ['webhook', 'read', 'control'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

export interface RateLimit {
  /** Sustained requests per second; 0 turns the limit off. */
  perSecond: number;
  /** Requests allowed at once after a quiet spell. */
  burst: number;
}
export type RateLimits = Record<RouteClass, RateLimit>;

/** Generous: a campaign's burst of ~1,000 webhooks a second from one key passes untouched. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  webhook: { perSecond: 2_000, burst: 4_000 },
  read: { perSecond: 100, burst: 200 },
  control: { perSecond: 20, burst: 50 },
};

export type Verdict = { ok: true } | { ok: false; retryAfterSec: number; limit: RateLimit };

/** Requests with an unknown or revoked API key per client address: enough for a misconfigured platform's retries, too few to guess keys. */
export const FAILED_KEY_LIMIT: RateLimit = { perSecond: 5, burst: 20 };

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets beyond which full (idle) ones are dropped; a full bucket is the same as no bucket. */
const PRUNE_AT = 50_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: RateLimits = DEFAULT_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the bucket of `key` for `cls` has a token, without taking it. */
  peek(key: string, cls: RouteClass): Verdict {
    const limit = this.limits[cls];
    const b = this.buckets.get(`${cls}:${key}`);
    if (limit.perSecond <= 0 || !b) return { ok: true };
    const tokens = Math.min(limit.burst, b.tokens + ((this.now() - b.at) / 1000) * limit.perSecond);
    return tokens >= 1 ? { ok: true } : { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - tokens) / limit.perSecond)), limit };
  }

  /** Takes one token from the bucket of `key` for `cls`. */
  take(key: string, cls: RouteClass): Verdict {
    const limit = this.limits[cls];
    if (limit.perSecond <= 0) return { ok: true };
    const id = `${cls}:${key}`;
    const now = this.now();
    const b = this.buckets.get(id) ?? { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.buckets.set(id, b);
      if (this.buckets.size > PRUNE_AT) this.prune(now);
      return { ok: true };
    }
    this.buckets.set(id, b);
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond)), limit };
  }

  private prune(now: number): void {
    for (const [id, b] of this.buckets) {
      const limit = this.limits[id.slice(0, id.indexOf(':')) as RouteClass];
      if (b.tokens + ((now - b.at) / 1000) * limit.perSecond >= limit.burst) this.buckets.delete(id);
    }
  }
}

// Token buckets with a fake clock: the defaults let a campaign burst through, a flood gets 429s.
import { routeClassOf } from '../../../src/http/auth';
import { DEFAULT_RATE_LIMITS, RateLimiter } from '../../../src/http/rateLimit';

describe('RateLimiter', () => {
  it('with the defaults, 1,000 webhooks a second from one key for ten seconds all pass', () => {
    let now = 0;
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, () => now);
    for (let i = 0; i < 10_000; i++) {
      now = i; // one request per millisecond
      expect(limiter.take('key1', 'webhook').ok).toBe(true);
    }
  });

  it('with the defaults, a burst of 4,000 passes at once and the next is told when to retry', () => {
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, () => 0);
    for (let i = 0; i < 4_000; i++) expect(limiter.take('key1', 'webhook').ok).toBe(true);
    const v = limiter.take('key1', 'webhook');
    expect(v).toEqual({ ok: false, retryAfterSec: 1, limit: DEFAULT_RATE_LIMITS.webhook });
  });

  it('refills at the configured rate, per key and per route class', () => {
    let now = 0;
    const limiter = new RateLimiter(
      { webhook: { perSecond: 2, burst: 2 }, read: { perSecond: 1, burst: 1 }, control: { perSecond: 0, burst: 1 } },
      () => now,
    );
    expect(limiter.take('a', 'webhook').ok).toBe(true);
    expect(limiter.take('a', 'webhook').ok).toBe(true);
    expect(limiter.take('a', 'webhook').ok).toBe(false);
    expect(limiter.take('b', 'webhook').ok).toBe(true); // another key has its own bucket
    expect(limiter.take('a', 'read').ok).toBe(true); // another class too
    expect(limiter.take('a', 'read')).toMatchObject({ ok: false, retryAfterSec: 1 });
    now = 500;
    expect(limiter.take('a', 'webhook').ok).toBe(true);
    expect(limiter.take('a', 'webhook').ok).toBe(false);
    for (let i = 0; i < 100; i++) expect(limiter.take('a', 'control').ok).toBe(true); // 0 = no limit
  });
});

describe('routeClassOf', () => {
  it.each([
    ['POST', '/api/calls/webhook', 'webhook'],
    ['POST', '/api/calls/webhook/twilio', 'webhook'],
    ['GET', '/api/calls/webhook', 'read'],
    ['GET', '/api/calls/c1', 'read'],
    ['POST', '/api/calls/c1/retry', 'control'],
    ['PATCH', '/api/contacts/k1', 'control'],
    ['POST', '/api/calls/webhook/twilio/extra', 'control'],
  ])('%s %s is %s', (method, path, cls) => {
    expect(routeClassOf(method, path)).toBe(cls);
  });
});

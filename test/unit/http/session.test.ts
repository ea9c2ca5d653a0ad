// Dashboard session cookies without a server: sealed with a key derived from SECRETS_KEY, so two
// receivers with the same key read each other's cookies; anything altered, from another key, or
// expired is no session; the CSRF token is bound to one sign-in.
import { randomBytes } from 'node:crypto';
import type { Collections } from '../../../src/store/db';
import { silentLogger } from '../../../src/observability/log';
import { DashboardSessions } from '../../../src/http/session';
import { useSecretsKey } from '../../../src/store/secrets';

const who = { orgId: 'org_a', keyId: 'abcdef012345', scope: 'read' as const };
const col = {} as Collections;

afterEach(() => useSecretsKey(undefined));

test("two receivers with the same SECRETS_KEY read each other's cookies; another key does not", () => {
  useSecretsKey(randomBytes(32));
  const a = new DashboardSessions(col, silentLogger);
  const b = new DashboardSessions(col, silentLogger);
  const { value, session } = a.seal(who);
  expect(b.open(value)).toEqual(session);
  expect(session).toMatchObject(who);
  expect(value).not.toContain('org_a');
  useSecretsKey(randomBytes(32));
  expect(new DashboardSessions(col, silentLogger).open(value)).toBeUndefined();
});

test('an altered, truncated, empty or expired cookie is no session', () => {
  useSecretsKey(randomBytes(32));
  let now = Date.now();
  const s = new DashboardSessions(col, silentLogger, () => now);
  const { value } = s.seal(who);
  const raw = Buffer.from(value, 'base64url');
  raw[raw.length - 1] ^= 1;
  expect(s.open(raw.toString('base64url'))).toBeUndefined();
  expect(s.open(value.slice(0, 20))).toBeUndefined();
  expect(s.open('')).toBeUndefined();
  expect(s.open(undefined)).toBeUndefined();
  expect(s.open('x'.repeat(5000))).toBeUndefined();
  expect(s.open(value)).toBeDefined();
  now += 8 * 60 * 60 * 1000;
  expect(s.open(value)).toBeUndefined();
});

test('without SECRETS_KEY a process key is used: it works in this process only', () => {
  const a = new DashboardSessions(col, silentLogger);
  const b = new DashboardSessions(col, silentLogger);
  const { value } = a.seal(who);
  expect(a.open(value)).toBeDefined();
  expect(b.open(value)).toBeUndefined();
});

test('the CSRF token belongs to one sign-in', () => {
  useSecretsKey(randomBytes(32));
  const s = new DashboardSessions(col, silentLogger);
  const one = s.seal(who).session;
  const two = s.seal(who).session;
  expect(s.csrfToken(one)).toBe(s.csrfToken(one));
  expect(s.csrfToken(one)).not.toBe(s.csrfToken(two));
});

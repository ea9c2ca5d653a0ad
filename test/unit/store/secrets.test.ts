// Secrets at rest: AES-256-GCM bound to its record, legacy clear values still read, keys parsed strictly.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsKeyError, isEncrypted, loadSecretsKey, openSecret, parseSecretsKey, sealSecret } from '../../../src/store/secrets';

const KEY = Buffer.alloc(32, 7);

test('a sealed secret opens with the same key and record, and shows nothing of the plain text', () => {
  const sealed = sealSecret('whsec_the-real-secret', 'provider-secret:org_a:generic', KEY);
  expect(isEncrypted(sealed)).toBe(true);
  expect(sealed).not.toContain('the-real-secret');
  expect(sealSecret('whsec_the-real-secret', 'provider-secret:org_a:generic', KEY)).not.toBe(sealed); // a fresh IV each time
  expect(openSecret(sealed, 'provider-secret:org_a:generic', KEY)).toBe('whsec_the-real-secret');
});

test('a ciphertext copied to another record, or read with another key, does not open', () => {
  const sealed = sealSecret('s3cret', 'dialer-api-key:org_a', KEY);
  expect(() => openSecret(sealed, 'dialer-api-key:org_b', KEY)).toThrow(SecretsKeyError);
  expect(() => openSecret(sealed, 'dialer-api-key:org_a', Buffer.alloc(32, 8))).toThrow(/does not decrypt/);
  expect(() => openSecret(sealed, 'dialer-api-key:org_a', undefined)).toThrow(/no secrets key is set/);
});

test('values stored before encryption are read as they are; without a key nothing is sealed', () => {
  expect(openSecret('plain-old-secret', 'x', KEY)).toBe('plain-old-secret');
  expect(sealSecret('plain', 'x', undefined)).toBe('plain');
});

test('keys: 64 hex digits or base64 of 32 bytes, anything else refused by name', () => {
  expect(parseSecretsKey('07'.repeat(32))).toEqual(KEY);
  expect(parseSecretsKey(KEY.toString('base64'))).toEqual(KEY);
  for (const bad of ['', 'short', '07'.repeat(31), 'zz'.repeat(32)])
    expect(() => parseSecretsKey(bad)).toThrow(/SECRETS_KEY must be 32 bytes/);
});

test('loadSecretsKey: SECRETS_KEY wins, else the file; with create, a missing file is made owner-only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  const file = join(dir, 'sub', 'secrets-key');
  expect(loadSecretsKey({ keyFile: file })).toBeUndefined();
  const made = loadSecretsKey({ keyFile: file }, true)!;
  expect(made).toHaveLength(32);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, 'utf8').trim()).toBe(made.toString('hex'));
  expect(loadSecretsKey({ keyFile: file }, true)).toEqual(made); // kept across runs
  expect(loadSecretsKey({ key: '07'.repeat(32), keyFile: file })).toEqual(KEY);
});

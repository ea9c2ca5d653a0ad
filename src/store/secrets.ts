// Secrets at rest: platform signing secrets and dialer API keys are stored AES-256-GCM encrypted
// with a key from the environment (SECRETS_KEY, or the file SECRETS_KEY_FILE, which dev-provision
// creates for `make start`). Values are bound to their document (`aad`), so a ciphertext copied
// into another organization's record does not decrypt. Values stored before encryption existed
// (no `enc:v1:` prefix) are still read, and are encrypted the next time they are set.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'enc:v1:';

export class SecretsKeyError extends Error {}

/** A 32-byte key from its text form: 64 hex digits or base64(url) of 32 bytes. */
export function parseSecretsKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t)
    ? Buffer.from(t, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(t)
      ? Buffer.from(t, 'base64')
      : undefined;
  if (!key || key.length !== 32)
    throw new SecretsKeyError('SECRETS_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)');
  return key;
}

/**
 * The key in force: SECRETS_KEY, else the key file. With `create`, a missing file is created with
 * a new random key (development only: production sets SECRETS_KEY and keeps it safe).
 */
export function loadSecretsKey(opts: { key?: string; keyFile: string }, create = false): Buffer | undefined {
  if (opts.key) return parseSecretsKey(opts.key);
  if (existsSync(opts.keyFile)) return parseSecretsKey(readFileSync(opts.keyFile, 'utf8'));
  if (!create) return undefined;
  const key = randomBytes(32);
  mkdirSync(dirname(opts.keyFile), { recursive: true });
  writeFileSync(opts.keyFile, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

let current: Buffer | undefined;

/** Sets the process's key (receiver, worker and CLI do it once at start). */
export function useSecretsKey(key: Buffer | undefined): void {
  current = key;
}

/** A key for another purpose (dashboard session cookies), derived from the secrets key with HKDF; undefined without one. */
export function deriveKey(purpose: string, key = current): Buffer | undefined {
  return key && Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `calls-api:${purpose}`, 32));
}

export const isEncrypted = (v: string): boolean => v.startsWith(PREFIX);

/** For the CLI, the way secrets get stored in production: no key, no storing. */
export function requireSecretsKey(): void {
  if (!current) {
    throw new SecretsKeyError(
      'No secrets key: set SECRETS_KEY (or SECRETS_KEY_FILE); `make start` creates a development key in .data/secrets-key',
    );
  }
}

/**
 * Encrypts `plain` for the document named by `aad`. Without a key (library use in tests and
 * tools; the CLI requires one) the value is stored as it is.
 */
export function sealSecret(plain: string, aad: string, key = current): string {
  if (!key) return plain;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${data.toString('base64')}`;
}

/** The plain text of a stored value; a legacy clear value is returned as it is. */
export function openSecret(stored: string, aad: string, key = current): string {
  if (!isEncrypted(stored)) return stored;
  if (!key)
    throw new SecretsKeyError(
      'A stored secret is encrypted but no secrets key is set: set SECRETS_KEY (or SECRETS_KEY_FILE) to the key it was stored with',
    );
  const [iv, tag, data] = stored.slice(PREFIX.length).split(':');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError(
      'A stored secret does not decrypt with the configured SECRETS_KEY (another key, or a record copied from elsewhere)',
    );
  }
}

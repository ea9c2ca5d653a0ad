// Secrets through the CLI: read from stdin or an environment variable, stored encrypted, and
// refused without a key; dev-provision creates the development key for `make start`.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/db';
import { getOutboundDialer } from '../../src/store/followUps';
import { createOrganization, getProviderSecret } from '../../src/store/organizations';
import { useSecretsKey } from '../../src/store/secrets';
import { cliStdin, runCli } from '../support/cli';
import { testStore } from '../support/harness';

const SECRETS_KEY = '5e'.repeat(32);
let store: Store;
let orgId: string;
const noKeyFile = join(mkdtempSync(join(tmpdir(), 'nokey-')), 'absent');

beforeAll(async () => {
  store = await testStore('cli_secrets');
  orgId = await createOrganization(store.col, 'Secrets');
});
afterAll(async () => {
  useSecretsKey(undefined);
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const env = (more: Record<string, string> = {}) => ({
  ...process.env,
  MONGODB_DB: store.db.databaseName,
  SECRETS_KEY,
  SECRETS_KEY_FILE: noKeyFile,
  ...more,
});
const cli = (args: string[], more: Record<string, string> = {}) => runCli(args, env(more));

/** Runs the CLI with `input` on its standard input. */
const stdinCli = (args: string[], input: string) => cliStdin(args, input, env());

test('secret set --secret-stdin stores the secret encrypted; the receiver reads it back with the key', async () => {
  const r = await stdinCli(['secret', 'set', '--org', orgId, '--provider', 'generic', '--secret-stdin'], 'stdin-signing-secret-123\n');
  expect(r.code).toBe(0);
  expect(r.stdout + r.stderr).not.toContain('stdin-signing-secret-123');
  const raw = await store.col.providerSecrets.findOne({ orgId, provider: 'generic' });
  expect(JSON.stringify(raw)).not.toContain('stdin-signing-secret-123');
  expect(String(raw?.config.secret)).toMatch(/^enc:v1:/);
  useSecretsKey(Buffer.from(SECRETS_KEY, 'hex'));
  expect(await getProviderSecret(store.col, orgId, 'generic')).toEqual({ secret: 'stdin-signing-secret-123' });
});

test('outbound set --api-key-env reads the key from the named variable and stores it encrypted', async () => {
  await cli(['outbound', 'set', '--org', orgId, '--provider', 'bland', '--api-key-env', 'MY_BLAND_KEY'], {
    MY_BLAND_KEY: 'bland-env-key-456',
  });
  const raw = await store.col.outboundDialers.findOne({ _id: orgId });
  expect(JSON.stringify(raw)).not.toContain('bland-env-key-456');
  useSecretsKey(Buffer.from(SECRETS_KEY, 'hex'));
  expect((await getOutboundDialer(store.col, orgId))?.apiKey).toBe('bland-env-key-456');
  const twoWays = await cli(['outbound', 'set', '--org', orgId, '--provider', 'bland', '--api-key', 'a', '--api-key-env', 'MY_BLAND_KEY'], {
    MY_BLAND_KEY: 'x',
  }).catch((e) => e);
  expect(twoWays.code).toBe(2);
  expect(twoWays.stderr).toContain('exactly one way');
});

test('without a key, storing a secret is refused with the way to get one', async () => {
  const r = await cli(['secret', 'set', '--org', orgId, '--provider', 'bland', '--secret', 'x'], { SECRETS_KEY: '' }).catch((e) => e);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/No secrets key: set SECRETS_KEY/);
});

test('dev-provision creates the development key file when no key is set', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'devkey-')), 'secrets-key');
  await cli(['dev-provision'], { SECRETS_KEY: '', SECRETS_KEY_FILE: file, DEV_API_KEY: 'ck_devsecret1_0123456789abcdefghij' });
  expect(existsSync(file)).toBe(true);
});

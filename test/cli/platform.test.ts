// `platform set|show|remove`: the credentials a call with no reported end is looked up with,
// stored encrypted, shown without the key, and refused with a clear message when incomplete.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/db';
import { createOrganization, setProviderSecret } from '../../src/store/organizations';
import { getPlatformApi, platformCredentials } from '../../src/store/platformApis';
import { useSecretsKey } from '../../src/store/secrets';
import { cliStdin, runCli } from '../support/cli';
import { testStore } from '../support/harness';

const SECRETS_KEY = '7a'.repeat(32);
const SID = 'AC0123456789abcdef0123456789abcdef';
let store: Store;
let orgId: string;
const noKeyFile = join(mkdtempSync(join(tmpdir(), 'nokey-')), 'absent');

beforeAll(async () => {
  store = await testStore('cli_platform');
  orgId = await createOrganization(store.col, 'Platform APIs');
  useSecretsKey(Buffer.from(SECRETS_KEY, 'hex'));
});
afterAll(async () => {
  useSecretsKey(undefined);
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const env = () => ({ ...process.env, MONGODB_DB: store.db.databaseName, SECRETS_KEY, SECRETS_KEY_FILE: noKeyFile });
const cli = (args: string[]) => runCli(args, env());
const stdinCli = (args: string[], input: string) => cliStdin(args, input, env());

test('platform set --api-key-stdin stores the key encrypted with its base URL; show never prints it; remove deletes it', async () => {
  const r = await stdinCli(
    ['platform', 'set', '--org', orgId, '--provider', 'vapi', '--api-key-stdin', '--base-url', 'http://127.0.0.1:9/'],
    'vapi-private-123\n',
  );
  expect(r.code).toBe(0);
  expect(r.stdout + r.stderr).not.toContain('vapi-private-123');
  const raw = await store.col.platformApis.findOne({ _id: `${orgId}:vapi` });
  expect(raw?.apiKey).toMatch(/^enc:v1:/);
  expect(await getPlatformApi(store.col, orgId, 'vapi')).toMatchObject({ apiKey: 'vapi-private-123', baseUrl: 'http://127.0.0.1:9' });

  const shown = await cli(['platform', 'show', '--org', orgId, '--provider', 'vapi']);
  expect(shown.stdout).not.toContain('vapi-private-123');
  expect(JSON.parse(shown.stdout)).toEqual({
    stored: { baseUrl: 'http://127.0.0.1:9', apiKey: '(set)' },
    inUse: { baseUrl: 'http://127.0.0.1:9', apiKey: '(set)' },
  });

  expect((await cli(['platform', 'remove', '--org', orgId, '--provider', 'vapi'])).stdout).toContain('removed');
  expect(await getPlatformApi(store.col, orgId, 'vapi')).toBeNull();
});

test('Twilio takes the account SID and uses the stored webhook auth token as its key', async () => {
  await setProviderSecret(store.col, orgId, 'twilio', { secret: 'twilio-auth-token' });
  const refused = await cli(['platform', 'set', '--org', orgId, '--provider', 'twilio']).catch((e: { code: number; stderr: string }) => e);
  expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('Twilio needs --account-sid') });
  const badSid = await cli(['platform', 'set', '--org', orgId, '--provider', 'twilio', '--account-sid', 'nope']).catch(
    (e: { code: number; stderr: string }) => e,
  );
  expect(badSid).toMatchObject({ code: 2, stderr: expect.stringContaining('--account-sid must look like AC') });

  await cli(['platform', 'set', '--org', orgId, '--provider', 'twilio', '--account-sid', SID]);
  expect(await platformCredentials(store.col, orgId, 'twilio')).toEqual({
    credentials: { provider: 'twilio', baseUrl: 'https://api.twilio.com', apiKey: 'twilio-auth-token', accountSid: SID },
  });
});

test('an unknown platform is a usage error naming the ones that can be asked', async () => {
  const e = await cli(['platform', 'set', '--org', orgId, '--provider', 'generic']).catch((x: { code: number; stderr: string }) => x);
  expect(e).toMatchObject({ code: 2, stderr: expect.stringContaining('--provider must be one of retell, vapi, bland, twilio') });
});

// The administration CLI, run as a real process against the real database.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/db';
import { orgForApiKey } from '../../src/store/organizations';
import { runCli } from '../support/cli';
import { testStore } from '../support/harness';

let store: Store;

beforeAll(async () => {
  store = await testStore('cli');
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { ...process.env, MONGODB_DB: store.db.databaseName, ...env });

test('org create prints a key once; it authenticates, lists by id only, and can be revoked', async () => {
  const { stdout } = await cli(['org', 'create', '--name', 'Acme']);
  const orgId = /organization: (\S+)/.exec(stdout)![1];
  const key = /api key:\s+(\S+)/.exec(stdout)![1];
  const keyId = /key id:\s+(\S+)/.exec(stdout)![1];
  expect(await orgForApiKey(store.col, key)).toBe(orgId);

  // Only the hash is stored.
  const doc = await store.col.apiKeys.findOne({ _id: keyId });
  expect(JSON.stringify(doc)).not.toContain(key.split('_').slice(2).join('_')); // the secret may hold '_' itself

  const list = await cli(['key', 'list', '--org', orgId]);
  expect(list.stdout).toContain(keyId);
  expect(list.stdout).toContain('active');
  expect(list.stdout).not.toContain(key);

  const revoke = await cli(['key', 'revoke', keyId]);
  expect(revoke.stdout).toContain(`revoked ${keyId}`);
  expect(await orgForApiKey(store.col, key)).toBeUndefined();
});

test('dev-provision uses DEV_API_KEY, or keeps a generated key across runs', async () => {
  const given = 'ck_devdevdev1_0123456789abcdefghij';
  const a = await cli(['dev-provision'], { DEV_API_KEY: given });
  expect(a.stdout).toContain(`DEV_API_KEY=${given}`);
  expect(await orgForApiKey(store.col, given)).toBe('org_dev');

  const file = join(mkdtempSync(join(tmpdir(), 'devkey-')), 'dev-api-key');
  const first = await cli(['dev-provision'], { DEV_API_KEY: '', DEV_API_KEY_FILE: file });
  const second = await cli(['dev-provision'], { DEV_API_KEY: '', DEV_API_KEY_FILE: file });
  const key = /DEV_API_KEY=(\S+)/.exec(first.stdout)![1];
  expect(second.stdout).toContain(`DEV_API_KEY=${key}`);
  expect(readFileSync(file, 'utf8').trim()).toBe(key);
  expect(await orgForApiKey(store.col, key)).toBe('org_dev');
});

test('usage errors exit 2 with the help text', async () => {
  await expect(cli(['key', 'create'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('missing --org') });
  await expect(cli(['frobnicate'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command') });
});

test('a bad environment variable is named', async () => {
  await expect(cli(['key', 'list'], { LOG_LEVEL: 'loud' })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('LOG_LEVEL'),
  });
});

test('org allow-unsigned and require-signed switch one route of one organization', async () => {
  const { stdout } = await cli(['org', 'create', '--name', 'Signed']);
  const orgId = /organization: (\S+)/.exec(stdout)![1];
  const allow = await cli(['org', 'allow-unsigned', '--org', orgId, '--provider', 'generic']);
  expect(allow.stdout).toContain('unsigned generic webhooks are accepted');
  expect((await store.col.organizations.findOne({ _id: orgId }))?.allowUnsigned).toEqual(['generic']);
  await cli(['org', 'require-signed', '--org', orgId, '--provider', 'generic']);
  expect((await store.col.organizations.findOne({ _id: orgId }))?.allowUnsigned).toEqual([]);
  await expect(cli(['org', 'allow-unsigned', '--org', orgId, '--provider', 'nope'])).rejects.toMatchObject({ code: 2 });
  await expect(cli(['org', 'allow-unsigned', '--org', 'org_missing', '--provider', 'generic'])).rejects.toMatchObject({ code: 2 });
});

test('key create --scope stores the scope; list shows it; a bad scope is a usage error', async () => {
  const { stdout } = await cli(['org', 'create', '--name', 'Scoped']);
  const orgId = /organization: (\S+)/.exec(stdout)![1];
  const made = await cli(['key', 'create', '--org', orgId, '--scope', 'webhook', '--label', 'dashboards']);
  const keyId = /key id:\s+(\S+)/.exec(made.stdout)![1];
  expect(made.stdout).toContain('scope:   webhook');
  expect((await store.col.apiKeys.findOne({ _id: keyId }))?.scope).toBe('webhook');
  const list = await cli(['key', 'list', '--org', orgId]);
  expect(list.stdout).toMatch(new RegExp(`${keyId}\\t${orgId}\\twebhook\\tactive\\tdashboards`));
  expect(list.stdout).toMatch(/\tadmin\tactive\tinitial/);
  await expect(cli(['key', 'create', '--org', orgId, '--scope', 'root'])).rejects.toMatchObject({ code: 2 });
});

test('org create --id: an existing or malformed id is an error; dev-provision stays repeatable', async () => {
  const first = await cli(['org', 'create', '--name', 'Fixed', '--id', 'acme-prod_1']);
  expect(first.stdout).toContain('organization: acme-prod_1');
  await expect(cli(['org', 'create', '--name', 'Again', '--id', 'acme-prod_1'])).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('organization acme-prod_1 already exists'),
  });
  for (const bad of ['Acme', 'org:x', '-lead']) {
    await expect(cli(['org', 'create', '--name', 'Bad', `--id=${bad}`])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('invalid organization id'),
    });
  }
  expect(await store.col.organizations.countDocuments({ name: 'Bad' })).toBe(0);
  const env = { DEV_API_KEY: 'ck_devrepeat1_0123456789abcdefghij' };
  await cli(['dev-provision'], env);
  await cli(['dev-provision'], env);
});

// The CLI's calling rules and do-not-call commands, run as a real process against the real database.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/db';
import { DEFAULT_COMPLIANCE, getComplianceSettings, listDoNotCallNumbers } from '../../src/store/compliance';
import { createOrganization } from '../../src/store/organizations';
import { runCli } from '../support/cli';
import { testStore } from '../support/harness';

let store: Store;
const ORG = 'org_cli_rules';

beforeAll(async () => {
  store = await testStore('cli_rules');
  await createOrganization(store.col, 'Rules', ORG);
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const cli = (args: string[]) => runCli(args, { ...process.env, MONGODB_DB: store.db.databaseName });
const failing = async (args: string[]) => {
  const err = (await cli(args).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  ))!;
  expect(err).toBeDefined();
  return err;
};

test('rules show prints the defaults; rules set changes what is given and keeps the rest', async () => {
  expect(JSON.parse((await cli(['rules', 'show', '--org', ORG])).stdout)).toEqual(DEFAULT_COMPLIANCE);
  await cli([
    'rules',
    'set',
    '--org',
    ORG,
    '--start',
    '09:00',
    '--days',
    'mon,tue,wed,thu,fri',
    '--regions',
    'US-FL=09:00-20:00 DE=10:00-18:00@mon,tue',
    '--default-timezone',
    'America/Chicago',
    '--cap',
    '2',
    '--purpose',
    'debt-collection',
    '--dial-budget',
    '50',
  ]);
  const s = await getComplianceSettings(store.col, ORG);
  expect(s).toEqual({
    callingWindow: {
      start: '09:00',
      end: '21:00',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      regions: [
        { region: 'US-FL', start: '09:00', end: '20:00' },
        { region: 'DE', start: '10:00', end: '18:00', days: ['mon', 'tue'] },
      ],
    },
    defaultTimeZone: 'America/Chicago',
    contactCapPer24h: 2,
    optOutField: 'opt_out',
    purpose: 'debt-collection',
    dailyDialBudget: 50,
  });
  expect((await failing(['rules', 'set', '--org', ORG, '--purpose', 'sales'])).stderr).toContain(
    'purpose: expected one of solicitation, informational, debt-collection',
  );
  expect((await failing(['rules', 'set', '--org', ORG, '--dial-budget', 'lots'])).stderr).toContain(
    '--dial-budget: expected a whole number',
  );
  const bad = await failing(['rules', 'set', '--org', ORG, '--end', '07:00']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('callingWindow.end: must be after start (09:00–07:00)');
  expect((await failing(['rules', 'set', '--org', ORG, '--default-timezone', 'Mars/Olympus'])).stderr).toContain(
    'defaultTimeZone: expected an IANA time zone',
  );
  expect((await getComplianceSettings(store.col, ORG)).callingWindow.end).toBe('21:00');
}, 60_000);

test('dnc add, list, remove, and a CSV import that is all or nothing', async () => {
  expect((await cli(['dnc', 'add', '--org', ORG, '--phone', '+1 (415) 555-0101', '--reason', 'asked'])).stdout).toContain(
    'added +14155550101',
  );
  expect((await cli(['dnc', 'add', '--org', ORG, '--phone', '+14155550101'])).stdout).toContain('already on the do-not-call list');

  const dir = mkdtempSync(join(tmpdir(), 'dnc-'));
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'phone,reason\n+14155550102,complaint\nnot-a-number\n');
  const err = await failing(['dnc', 'import', bad, '--org', ORG]);
  expect(err.stderr).toContain('nothing imported; 1 bad line');
  expect(err.stderr).toContain('line 3: "not-a-number" is not an E.164 number');
  expect((await listDoNotCallNumbers(store.col, ORG, { limit: 10, offset: 0 })).total).toBe(1);

  const good = join(dir, 'good.csv');
  writeFileSync(good, '\uFEFFphone,reason\r\n+14155550102,"complaint, by letter"\r\n+14155550101\r\n\r\n+442071234567\r\n');
  expect((await cli(['dnc', 'import', good, '--org', ORG, '--reason', 'imported'])).stdout).toContain(
    'imported 3 numbers: 2 new, 1 already listed',
  );
  const list = await listDoNotCallNumbers(store.col, ORG, { limit: 10, offset: 0 });
  expect(list.items.map((i) => [i.phone, i.reason])).toEqual([
    ['+14155550101', 'asked'],
    ['+14155550102', 'complaint, by letter'],
    ['+442071234567', 'imported'],
  ]);
  expect((await cli(['dnc', 'list', '--org', ORG])).stdout).toContain('3 numbers');

  expect((await cli(['dnc', 'remove', '--org', ORG, '--phone', '+14155550102'])).stdout).toContain('removed');
  expect((await listDoNotCallNumbers(store.col, ORG, { limit: 10, offset: 0 })).total).toBe(2);
  expect((await failing(['dnc', 'add', '--org', ORG, '--phone', 'abc'])).stderr).toContain('--phone: expected E.164');
}, 60_000);

// The CLI's event-log commands, run as a real process against the real database: list, show (the
// request as received) and replay of a dead letter.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CallEvent } from '../../src/domain/events';
import type { Store } from '../../src/store/db';
import { withRequest, writeChunks } from '../../src/store/eventLog';
import { PARKED, acceptIntoInbox, deadLetter, inboxDoc } from '../../src/store/inbox';
import { testStore } from '../support/harness';

const run = promisify(execFile);
let store: Store;
const ORG = 'org_cli_events';

beforeAll(async () => {
  store = await testStore('cli_events');
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/bin/cli.ts', ...args], {
    env: { ...process.env, MONGODB_DB: store.db.databaseName },
    maxBuffer: 64 * 1024 * 1024,
  });

test('events list shows a dead letter with its reason, show prints the body as received, replay makes it due', async () => {
  const e: CallEvent = {
    eventId: 'generic:c_cli:call.completed',
    provider: 'generic',
    providerEvent: 'call.completed',
    callId: 'c_cli',
    type: 'call.completed',
    receivedAt: new Date().toISOString(),
    transcript: '\u0001'.repeat(1_500_000),
  };
  // A 9 MB body of escaped characters: with its event it passes the chunk threshold.
  const body = Buffer.from(JSON.stringify({ callId: 'c_cli', event: 'call.completed', transcript: e.transcript }));
  const { docs, chunks } = withRequest([inboxDoc(ORG, 'generic', e, new Date())], {
    path: '/api/calls/webhook',
    contentType: 'application/json',
    headers: { 'x-api-key': '[redacted]' },
    signature: 'unsigned',
    bytes: body.length,
    body,
  });
  expect(chunks.length).toBeGreaterThan(2);
  await writeChunks(store.col.eventChunks, chunks, 10_000);
  const [doc] = await acceptIntoInbox(store.col.inbox, docs);
  await deadLetter(store.col.inbox, doc, 'RESOURCE_EXHAUSTED: 10 tries');

  const list = (await cli(['events', 'list', '--org', ORG, '--state', 'dead'])).stdout;
  expect(list).toContain('dead');
  expect(list).toContain(e.eventId);
  expect(list).toContain('RESOURCE_EXHAUSTED: 10 tries');

  const raw = (await cli(['events', 'show', e.eventId, '--org', ORG, '--raw'])).stdout;
  expect(Buffer.from(raw).equals(body)).toBe(true);
  const shown = JSON.parse((await cli(['events', 'show', e.eventId, '--org', ORG])).stdout);
  expect(shown).toMatchObject({ state: 'dead', bodyBytes: body.length, event: { transcript: e.transcript } });

  expect((await cli(['events', 'replay', e.eventId, '--org', ORG])).stdout).toContain('was dead');
  const after = await store.col.inbox.findOne({ _id: doc._id });
  expect(after!.deadLetter).toBeUndefined();
  expect(after!.nextAttemptAt.getTime()).toBeLessThan(PARKED.getTime());
  expect(after!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
});

test('a bad option names itself', async () => {
  const err = await cli(['events', 'list', '--org', ORG, '--state', 'lost']).then(
    () => undefined,
    (x: { code: number; stderr: string }) => x,
  );
  expect(err?.code).toBe(2);
  expect(err?.stderr).toContain('--state: expected one of pending, delivered, dead, refused');
});

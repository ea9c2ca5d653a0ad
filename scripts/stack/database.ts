// The database recipes: MONGODB_URI as it is, else mongod on PATH, else FerretDB over PostgreSQL
// (./postgres.ts); what "ready" means for each, and the helpers for database names in URIs.
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startPostgres, type PostgresHandle } from './postgres';
import {
  LOCALHOST,
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

export interface DatabaseHandle extends ServerHandle {
  /** Server URI without a database name, e.g. mongodb://127.0.0.1:27017/ (see withDatabase). */
  readonly uri: string;
  readonly kind: 'external' | 'mongod' | 'ferretdb';
  /** FerretDB's storage: PostgreSQL (the default) or SQLite (startFerretDb without a URL). */
  readonly backend?: 'postgresql' | 'sqlite';
  /** The PostgreSQL started under FerretDB, when there is one. */
  readonly postgres?: PostgresHandle;
}

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

// The production Temporal engine, locally: the `temporal-server` binary (go.temporal.io/server, built by
// scripts/ensure-tools.sh at the version compose runs) on PostgreSQL, with a chosen number of history
// shards, SQL visibility for the app's search attributes, and the project's dynamic config file
// (deploy/temporal/dynamicconfig.yaml, which compose mounts too). docs/temporal.md explains the set-up.
// The dev server's recipe is startTemporal in ./temporalDev.ts; both return a TemporalHandle.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import { SA } from '../../src/temporal/searchAttributes';
import { startPostgres, type PostgresHandle } from './postgres';
import type { TemporalHandle } from './temporalDev';
import { startTemporalUi, type TemporalUiHandle } from './temporalUi';
import { LOCALHOST, ROOT, ServerStartError, assertPortsFree, freePort, isPortOpen, requireTool, spawnLogged, waitUntil } from './supervise';

/** History shards of TEMPORAL=server unless TEMPORAL_SHARDS says otherwise; compose's too (docs/temporal.md). */
export const DEFAULT_HISTORY_SHARDS = 4;
export const DYNAMIC_CONFIG_FILE = path.join(ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');

/** TEMPORAL=server picks the production server for `make start` and the tests; dev (the default) the CLI's dev server. */
export function temporalKind(): 'dev' | 'server' {
  const raw = process.env.TEMPORAL ?? 'dev';
  if (raw !== 'dev' && raw !== 'server') throw new Error(`TEMPORAL=${raw}: expected dev or server`);
  return raw;
}

/** TEMPORAL_SHARDS: the real server's history shard count (default DEFAULT_HISTORY_SHARDS). */
export function temporalShards(): number {
  const raw = process.env.TEMPORAL_SHARDS;
  if (!raw) return DEFAULT_HISTORY_SHARDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`TEMPORAL_SHARDS=${raw}: expected a whole number from 1 to 1024`);
  return n;
}

export interface TemporalServerHandle extends TemporalHandle {
  readonly historyShards: number;
  /** The PostgreSQL holding its two databases (shared with FerretDB, or its own). */
  readonly postgres: PostgresHandle;
}

export interface TemporalServerOptions {
  /** The frontend's gRPC port (clients' TEMPORAL_ADDRESS). */
  port: number;
  /** Its config folder and, without `postgres`, its own PostgreSQL cluster (<dataDir>/postgres). */
  dataDir: string;
  logFile: string;
  /** Fixed once the databases exist: a different count on the same data is refused. */
  historyShards?: number;
  /** A running PostgreSQL to create the databases in; stop() leaves it running. */
  postgres?: PostgresHandle;
  namespace?: string;
  /** The Web UI's port (scripts/stack/temporalUi.ts); null or absent: none. */
  uiPort?: number | null;
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

const SA_TYPES: Record<string, proto.api.enums.v1.IndexedValueType> = {
  KEYWORD: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  DATETIME: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  INT: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  BOOL: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

/** Internal ports (history, matching, worker gRPC; every service's membership port; frontend HTTP),
 *  kept in the data folder so a restart rejoins under the addresses its cluster_membership rows name. */
type InternalPorts = Record<
  | 'frontendMembership'
  | 'frontendHttp'
  | 'history'
  | 'historyMembership'
  | 'matching'
  | 'matchingMembership'
  | 'worker'
  | 'workerMembership',
  number
>;

async function internalPorts(file: string, frontend: number): Promise<InternalPorts> {
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as InternalPorts;
    const free = await Promise.all(Object.values(saved).map(async (p) => p !== frontend && !(await isPortOpen(p))));
    if (free.every(Boolean)) return saved;
  } catch {
    // first start
  }
  const ports = {} as InternalPorts;
  const taken = new Set([frontend]);
  for (const key of [
    'frontendMembership',
    'frontendHttp',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
  ] as const) {
    let p = await freePort();
    while (taken.has(p)) p = await freePort();
    taken.add(p);
    ports[key] = p;
  }
  fs.writeFileSync(file, `${JSON.stringify(ports)}\n`);
  return ports;
}

function serverConfig(o: { shards: number; pg: PostgresHandle; db: string; frontend: number; ports: InternalPorts }): string {
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${LOCALHOST}:${o.pg.port}"
        connectProtocol: tcp
        user: postgres
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, http?: number) => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  // Written on every start from the options; the header says where it comes from.
  return `# Written by scripts/stack/temporalServer.ts on each start; edit that file, not this one.
log:
  stdout: true
  level: warn
persistence:
  # History shards: fixed when the databases are created (docs/temporal.md).
  numHistoryShards: ${o.shards}
  defaultStore: default
  visibilityStore: visibility
  datastores:
    default:
${store(o.db, 16)}
    visibility:
${store(`${o.db}_visibility`, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "${LOCALHOST}"
services:
  frontend:
${service(o.frontend, o.ports.frontendMembership, o.ports.frontendHttp)}
  history:
${service(o.ports.history, o.ports.historyMembership)}
  matching:
${service(o.ports.matching, o.ports.matchingMembership)}
  worker:
${service(o.ports.worker, o.ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "${LOCALHOST}:${o.frontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "${DYNAMIC_CONFIG_FILE}"
  pollInterval: 10s
`;
}

/** Runs temporal-sql-tool (postgres12 plugin) against one database; rejects with its output. */
function sqlTool(pg: PostgresHandle, database: string, args: string[], logFile: string): Promise<void> {
  const tool = requireTool('temporal-sql-tool');
  const argv = [
    '--plugin',
    'postgres12',
    '--endpoint',
    LOCALHOST,
    '--port',
    String(pg.port),
    '--user',
    'postgres',
    '--database',
    database,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(tool, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SQL_PASSWORD: '' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      fs.appendFileSync(logFile, `\n=== ${new Date().toISOString()} temporal-sql-tool ${argv.join(' ')} (exit ${code})\n${out}`);
      if (code === 0) resolve();
      else reject(new ServerStartError('temporal-sql-tool', `${args[0]} on ${database} exited with ${code}`, logFile));
    });
  });
}

/** Creates the two databases on first use and brings both schemas to the version the binary embeds
 *  (update-schema applies only the versioned steps a database has not had yet). */
async function setupSchemas(pg: PostgresHandle, db: string, logFile: string): Promise<void> {
  for (const [database, schema] of [
    [db, 'postgresql/v12/temporal'],
    [`${db}_visibility`, 'postgresql/v12/visibility'],
  ] as const) {
    const fresh = !(await databaseExists(pg, database));
    if (fresh) {
      await sqlTool(pg, database, ['create-database'], logFile);
      await sqlTool(pg, database, ['setup-schema', '--version', '0.0'], logFile);
    }
    await sqlTool(pg, database, ['update-schema', '--schema-name', schema], logFile);
  }
}

function databaseExists(pg: PostgresHandle, database: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const psql = path.join(pg.binDir, 'psql');
    const child = spawn(
      psql,
      [
        '-X',
        '-h',
        LOCALHOST,
        '-p',
        String(pg.port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-Atqc',
        `SELECT 1 FROM pg_database WHERE datname = '${database}'`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: '/',
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out.trim() === '1') : reject(new Error(`psql exited with ${code}`))));
  });
}

/** Registers the namespace (one day of retention, as the dev server's) and the app's search attributes;
 *  both are no-ops when already there, so every start runs them. */
async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 5000 });
  try {
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.values(SA).filter((k) => !customAttributes?.[k.name]);
    if (missing.length) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((k) => [k.name, SA_TYPES[k.type]])),
      });
    }
  } finally {
    await connection.close();
  }
}

/** True once the namespace answers a visibility query with every search attribute registered. */
async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.countWorkflowExecutions({ namespace, query: `${SA.contactId.name} = 'probe'` });
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporalServer(opts: TemporalServerOptions): Promise<TemporalServerHandle> {
  const binary = requireTool('temporal-server');
  const shards = opts.historyShards ?? DEFAULT_HISTORY_SHARDS;
  const namespace = opts.namespace ?? 'default';
  const db = 'temporal';
  const timeout = opts.readyTimeoutMs ?? 120_000;
  await assertPortsFree('temporal-server', [opts.port]);
  const configDir = path.join(opts.dataDir, 'config');
  fs.mkdirSync(configDir, { recursive: true });

  const ownPostgres = !opts.postgres;
  const pg =
    opts.postgres ??
    (await startPostgres({
      port: await freePort(),
      dataDir: path.join(opts.dataDir, 'postgres'),
      logFile: path.join(path.dirname(opts.logFile), 'temporal-postgres.log'),
      database: 'postgres',
      processGroup: opts.processGroup,
    }));
  try {
    await setupSchemas(pg, db, opts.logFile);
    const shardFile = path.join(configDir, `shards-${db}`);
    const madeWith = fs.existsSync(shardFile) ? Number(fs.readFileSync(shardFile, 'utf8')) : shards;
    if (madeWith !== shards) {
      throw new ServerStartError(
        'temporal-server',
        `database ${db} was created with ${madeWith} history shards, not ${shards}; the count cannot change on existing data (use TEMPORAL_SHARDS=${madeWith}, or start over: \`make clean\` deletes it)`,
      );
    }
    fs.writeFileSync(shardFile, String(shards));
    const ports = await internalPorts(path.join(configDir, 'ports.json'), opts.port);
    fs.writeFileSync(path.join(configDir, 'development.yaml'), serverConfig({ shards, pg, db, frontend: opts.port, ports }));

    const proc = spawnLogged({
      name: 'temporal-server',
      command: binary,
      args: ['--root', opts.dataDir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
      logFile: opts.logFile,
      processGroup: opts.processGroup,
    });
    const address = `${LOCALHOST}:${opts.port}`;
    try {
      await waitUntil(proc, `gRPC port ${opts.port}`, () => isPortOpen(opts.port), timeout, 'temporal-server', opts.logFile);
      await waitUntil(
        proc,
        `namespace "${namespace}" registered`,
        () => registerNamespace(address, namespace).then(() => true),
        timeout,
        'temporal-server',
        opts.logFile,
      );
      await waitUntil(
        proc,
        `namespace "${namespace}" to answer`,
        () => namespaceReady(address, namespace),
        timeout,
        'temporal-server',
        opts.logFile,
      );
    } catch (err) {
      await proc.stop(5000);
      throw err;
    }
    let ui: TemporalUiHandle | null = null;
    if (opts.uiPort != null) {
      const uiOpts = {
        port: opts.uiPort,
        temporalAddress: address,
        dataDir: path.join(opts.dataDir, 'ui'),
        processGroup: opts.processGroup,
      };
      ui = await startTemporalUi({ ...uiOpts, logFile: path.join(path.dirname(opts.logFile), 'temporal-ui.log') }).catch(
        async (err: unknown) => {
          await proc.stop(5000);
          throw err;
        },
      );
    }
    const parts = [...(ownPostgres ? [pg] : []), ...(ui ? [ui] : [])];
    return {
      name: 'temporal',
      pid: proc.pid,
      logFile: proc.logFile,
      command: proc.command,
      processGroup: proc.processGroup,
      stopSignal: proc.stopSignal,
      parts,
      exited: Promise.race([proc.exited, ...parts.map((p) => p.exited!)]),
      address,
      port: opts.port,
      uiUrl: ui?.url ?? null,
      binary,
      historyShards: shards,
      postgres: pg,
      stop: async (timeoutMs?: number) => {
        try {
          await ui?.stop(timeoutMs);
          await proc.stop(timeoutMs);
        } finally {
          if (ownPostgres) await pg.stop(timeoutMs);
        }
      },
    };
  } catch (err) {
    if (ownPostgres) await pg.stop(5000);
    throw err;
  }
}

// The Temporal dev server's recipe (`temporal server start-dev`, SQLite or in memory): how it starts
// and what "ready" means. The production server on PostgreSQL is in ./temporalServer.ts.
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../src/temporal/searchAttributes';
import { LOCALHOST, assertPortsFree, isPortOpen, requireTool, spawnLogged, startChecked, waitUntil, type ServerHandle } from './supervise';

export interface TemporalHandle extends ServerHandle {
  /** host:port of the frontend gRPC service, the form TEMPORAL_ADDRESS takes. */
  readonly address: string;
  readonly port: number;
  readonly uiUrl: string | null;
  readonly binary: string;
}

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

// The Temporal Web UI for the production server (`make start TEMPORAL=server`): the UI server from
// github.com/temporalio/ui-server/v2 (its assets embedded), built by scripts/ensure-tools.sh at the
// version compose's temporalio/ui image carries. The dev server bundles the same UI itself.
import fs from 'node:fs';
import path from 'node:path';
import { LOCALHOST, assertPortsFree, isPortOpen, requireTool, spawnLogged, startChecked, waitUntil, type ServerHandle } from './supervise';

export interface TemporalUiHandle extends ServerHandle {
  readonly url: string;
}

export interface TemporalUiOptions {
  port: number;
  /** host:port of the frontend it reads from. */
  temporalAddress: string;
  /** Its config folder is written here on each start. */
  dataDir: string;
  logFile: string;
  readyTimeoutMs?: number;
  processGroup?: boolean;
}

export async function startTemporalUi(opts: TemporalUiOptions): Promise<TemporalUiHandle> {
  const binary = requireTool('temporal-ui-server');
  await assertPortsFree('temporal-ui', [opts.port]);
  const configDir = path.join(opts.dataDir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  // Loopback only, no version check (only package registries are reachable), the app's namespace first.
  fs.writeFileSync(
    path.join(configDir, 'development.yaml'),
    `# Written by scripts/stack/temporalUi.ts on each start.
temporalGrpcAddress: "${opts.temporalAddress}"
host: "${LOCALHOST}"
port: ${opts.port}
enableUi: true
defaultNamespace: default
notifyOnNewVersion: false
refreshInterval: 1m
cors:
  cookieInsecure: true
`,
  );
  const proc = spawnLogged({
    name: 'temporal-ui',
    command: binary,
    args: ['--root', opts.dataDir, '--config', 'config', '--env', 'development', 'start'],
    logFile: opts.logFile,
    processGroup: opts.processGroup,
  });
  const url = `http://localhost:${opts.port}`;
  return startChecked<TemporalUiHandle>(
    proc,
    async () => {
      const timeout = opts.readyTimeoutMs ?? 30_000;
      await waitUntil(proc, `port ${opts.port}`, () => isPortOpen(opts.port), timeout, 'temporal-ui', opts.logFile);
      await waitUntil(
        proc,
        'its page',
        async () => (await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) })).ok,
        timeout,
        'temporal-ui',
        opts.logFile,
      );
    },
    { url },
  );
}

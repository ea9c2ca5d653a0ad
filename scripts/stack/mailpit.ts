// Mailpit's recipe: the local SMTP server and its web UI, where the app's e-mail lands in dev and tests.
import fs from 'node:fs';
import path from 'node:path';
import { LOCALHOST, assertPortsFree, isPortOpen, requireTool, spawnLogged, startChecked, waitUntil, type ServerHandle } from './supervise';

export interface MailpitHandle extends ServerHandle {
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly uiUrl: string;
}

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

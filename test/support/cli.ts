// The project's CLI (src/bin/cli.ts) as a child process, the way an operator runs it. Each test file
// passes the environment it needs (its database, its secrets key).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI_ARGS = ['--import', 'tsx', 'src/bin/cli.ts'];

/** Runs the CLI; rejects (its output on the error) when it exits with a non-zero code. */
export const runCli = (args: string[], env: NodeJS.ProcessEnv, opts: { timeout?: number } = {}) =>
  run(process.execPath, [...CLI_ARGS, ...args], { env, ...opts });

/** Runs the CLI with `input` on its stdin; resolves with its exit code and output, whatever the code. */
export function cliStdin(
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...CLI_ARGS, ...args], { env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

/**
 * Runs the command line as an operator does (`node bin/tessera.js …` in a
 * child process), for the tests of the one-shot commands and of several
 * processes working on one database.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESSERA_BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/tessera.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tessera <args>` with only the given environment (plus PATH, HOME and LOG_LEVEL=silent), killed after `timeoutMs`. */
export function runTessera(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [TESSERA_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** The counts `tessera maintenance` printed ("… N tokens … M history entries …"). */
export function maintenanceCounts(stdout: string): { expired: number; pruned: number } {
  const match = /(\d+) tokens?\b[\s\S]*?(\d+) history entr/.exec(stdout);
  if (!match) throw new Error(`unexpected output of tessera maintenance: ${JSON.stringify(stdout)}`);
  return { expired: Number(match[1]), pruned: Number(match[2]) };
}

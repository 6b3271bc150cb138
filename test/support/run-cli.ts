import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`npm run build` first; scripts/test.sh does) and never throws on a non-zero exit.
 * `nodeArgs` go to node before the CLI (e.g. `--import` of a loader hook).
 */
export function wharf(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), CLI, ...args],
      {
        env: { ...process.env, ...options.env },
        cwd: options.cwd,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs the built CLI with its stdout on an open file descriptor (a file, /dev/full), or on a pipe whose reader
 * has gone away (`'closed-pipe'`, what `wharf ... | head` meets), and gives its exit code and stderr.
 */
export function wharfWithStdout(
  args: string[],
  stdout: number | 'closed-pipe',
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', stdout === 'closed-pipe' ? 'pipe' : stdout, 'pipe'],
  });
  child.stdout?.destroy();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

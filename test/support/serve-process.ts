import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './run-cli.js';

/** A built `wharf serve` running as a child process. */
export interface ServeProcess {
  child: ChildProcess;
  /** The origin it listens on, without a trailing slash. */
  url: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** SIGTERM, then its exit code; nothing when it has already exited (or was never started). */
export async function stopServeProcess(served: ServeProcess | undefined): Promise<number | null> {
  if (!served) return null;
  if (served.child.exitCode !== null || served.child.signalCode !== null) return served.exit;
  served.child.kill('SIGTERM');
  return served.exit;
}

/**
 * Starts `wharf serve --port 0 ARGS` with `env` over the test's environment and resolves once it prints
 * "listening on URL"; rejects with its stderr if it exits first or does not start within `timeoutMs`.
 */
export function startServeProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start in ${timeoutMs / 1000} s: ${stderr}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!.replace(/\/$/, ''), stderr: () => stderr, exit });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
}

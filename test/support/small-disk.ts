import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type CliResult } from './run-cli.js';

export interface SmallDisk {
  /** Where the CLI sees the tmpfs (inside the namespace). */
  path: string;
  /** The same folder as this process reaches it, to prepare and inspect files: through /proc/PID/root. */
  hostPath: string;
  /** Runs the built CLI inside the namespace, so it sees the tmpfs at `path`. Never throws on a non-zero exit. */
  wharf(args: string[]): Promise<CliResult>;
  /** The same with its stdout redirected to `file` (a path inside the namespace), as `wharf ARGS > FILE`. */
  wharfTo(file: string, args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/**
 * A tmpfs of `kib` KiB (read-only with `readOnly`), mounted in a private mount namespace (`unshare -rm`, no root needed where user
 * namespaces are allowed). The CLI runs inside that namespace (`nsenter`) and meets a real full disk (ENOSPC,
 * statfs); the test reaches the files through `/proc/PID/root` of the process holding the namespace. Returns the
 * reason as a string when this machine allows no such namespace.
 */
export async function openSmallDisk(
  kib: number,
  options: { readOnly?: boolean } = {},
): Promise<SmallDisk | string> {
  const mountPoint = await mkdtemp(join(tmpdir(), 'wharf-small-disk-'));
  const holder = spawn(
    'unshare',
    [
      '-rm',
      'sh',
      '-c',
      'mount -t tmpfs -o "size=$1k$3" tmpfs "$2" && echo ready && exec sleep 86400',
      'sh',
      String(kib),
      mountPoint,
      options.readOnly ? ',ro' : '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ready = await new Promise<true | string>((resolve) => {
    let stderr = '';
    holder.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(true);
    });
    holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    holder.on('error', (error) => resolve(`unshare is not available: ${error.message}`));
    holder.on('exit', (code) => resolve(`unshare -rm failed (exit ${code}): ${stderr.trim()}`));
  });
  if (ready !== true) {
    await rm(mountPoint, { recursive: true, force: true });
    return ready;
  }
  const pid = String(holder.pid);
  return {
    path: mountPoint,
    hostPath: `/proc/${pid}/root${mountPoint}`,
    wharf: (args) => runIn(pid, [process.execPath, CLI, ...args]),
    wharfTo: (file, args) =>
      runIn(pid, [
        'sh',
        '-c',
        'out="$1"; shift; exec "$@" > "$out"',
        'sh',
        file,
        process.execPath,
        CLI,
        ...args,
      ]),
    close: async () => {
      await stop(holder);
      await rm(mountPoint, { recursive: true, force: true });
    },
  };
}

/** Runs `command` inside the namespace held by process `pid`; never throws on a non-zero exit. */
function runIn(pid: string, command: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'nsenter',
      ['-t', pid, '-U', '-m', '--preserve-credentials', ...command],
      { env: process.env, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

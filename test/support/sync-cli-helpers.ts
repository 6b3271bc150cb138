/**
 * Helpers for end-to-end tests of `wharf sync` through the built CLI: members are folders linked with
 * `wharf sync init`, every sync is a child process, and the remote side is read straight through the SDK
 * (never through Wharf), so the tests check what really is in the bucket.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { adminClient } from './s3-buckets.js';
import { CLI, jsonLines, wharf, type CliResult } from './run-cli.js';

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** An entry of `PREFIX/.wharf/index.json` as the sync protocol writes it. */
export interface IndexEntryJson {
  size: number;
  sha256: string;
  etag: string;
  version: number;
  modifiedBy: string;
  modifiedAt: string;
}

export interface RemoteIndexJson {
  format: string;
  version: number;
  generation: number;
  entries: Record<string, IndexEntryJson>;
  lastCommit?: { generation: number; member: string; changes: { path: string; action: string }[] };
}

/** The remote index as stored, with its ETag and raw text; undefined when there is none. */
export interface StoredIndex {
  index: RemoteIndexJson;
  etag: string;
  raw: string;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** Reads `<prefix>.wharf/index.json` through the SDK (prefix ends with '/'). */
export async function readStoredIndex(bucket: string, prefix: string): Promise<StoredIndex | undefined> {
  try {
    const out = await adminClient().send(
      new GetObjectCommand({ Bucket: bucket, Key: `${prefix}.wharf/index.json` }),
    );
    const raw = await out.Body!.transformToString('utf8');
    return { index: JSON.parse(raw) as RemoteIndexJson, etag: out.ETag ?? '', raw };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export interface HeadInfo {
  etag: string;
  size: number;
  metadata: Record<string, string>;
}

export async function headObject(bucket: string, key: string): Promise<HeadInfo | undefined> {
  try {
    const out = await adminClient().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: out.ETag ?? '', size: out.ContentLength ?? -1, metadata: out.Metadata ?? {} };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function getObjectBytes(bucket: string, key: string): Promise<Buffer> {
  const out = await adminClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Every key under `prefix`, sorted. */
export async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const client = adminClient();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

/** The synced data keys under `prefix` (relative to it), without Wharf's `.wharf/` state. */
export async function listDataKeys(bucket: string, prefix: string): Promise<string[]> {
  return (await listKeys(bucket, prefix))
    .map((k) => k.slice(prefix.length))
    .filter((k) => !k.startsWith('.wharf/'));
}

/** Files of a synced folder (without its `.wharf/` state): relative path -> SHA-256. */
export async function folderFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (path === '.wharf') continue;
      if (e.isDirectory()) await walk(path);
      else out.set(path, sha256(await readFile(join(dir, path))));
    }
  };
  await walk('');
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Files under a member's local trash (`.wharf/trash/<stamp>/<path>`), as `<path>` (stamps dropped). */
export async function localTrashPaths(dir: string): Promise<string[]> {
  const root = join(dir, '.wharf', 'trash');
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path);
      else out.push(path.split('/').slice(1).join('/'));
    }
  };
  await walk('');
  return out.sort();
}

export async function put(dir: string, path: string, content: string | Uint8Array): Promise<void> {
  const file = join(dir, ...path.split('/'));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

export async function remove(dir: string, path: string): Promise<void> {
  await rm(join(dir, ...path.split('/')));
}

/** `wharf sync init DIR REMOTE --member NAME`; throws unless it exits 0. */
export async function linkMember(dir: string, remote: string, member: string): Promise<void> {
  const out = await wharf(['sync', 'init', dir, remote, '--member', member]);
  if (out.code !== 0) throw new Error(`sync init ${dir} failed (${out.code}): ${out.stderr}`);
}

/** The `--json` record of `wharf sync`. */
export interface SyncJson {
  dir: string;
  remote: string;
  member: string;
  plan: {
    counts: Record<string, number>;
    tracked: number;
    deletions: number;
    actions: { kind: string; path?: string; from?: string; to?: string; reason?: string }[];
    skipped: { path: string; reason: string }[];
    refused: { path: string; reason: string; hint?: string }[];
  };
  applied: boolean;
  declined: boolean;
  committed: boolean;
  generation: number;
  guarantee: string;
  guards: { guard: string; message: string }[];
  conflicts: { path: string; conflictPath: string }[];
  failed: { path: string; code: string; message: string }[];
  warnings: string[];
  attempts: number;
}

export interface SyncRun extends CliResult {
  /** The last JSON record on stdout, when there is one. */
  json: SyncJson | undefined;
}

/** `wharf [--endpoint-url URL] sync DIR --json ...args` (add '--yes' to apply). */
export async function syncCli(dir: string, args: string[] = [], endpointUrl?: string): Promise<SyncRun> {
  const out = await wharf([
    ...(endpointUrl ? ['--endpoint-url', endpointUrl] : []),
    'sync',
    dir,
    '--json',
    ...args,
  ]);
  return { ...out, json: lastRecord(out.stdout) as SyncJson | undefined };
}

export function lastRecord(stdout: string): Record<string, unknown> | undefined {
  try {
    return jsonLines(stdout).at(-1);
  } catch {
    return undefined;
  }
}

/** A CLI process left running (to be killed), with its output collected. */
export interface RunningCli {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): { stdout: string; stderr: string };
}

export function startCli(args: string[]): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** util-linux `script` (runs a command under a pseudo-terminal), if installed. */
export function scriptAvailable(): boolean {
  const r = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /util-linux/.test(`${r.stdout}${r.stderr}`);
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the CLI under a pseudo-terminal (`script -qec "<command>" /dev/null`), typing `typed` into it, so
 * stdin is a terminal and the CLI asks. Resolves with the CLI's exit code (`-e`) and the terminal transcript.
 */
export function wharfInPty(args: string[], typed: string, timeoutMs = 30_000): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`script ${command} did not finish within ${timeoutMs} ms: ${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code: code ?? -1, stdout, stderr });
    });
    // The terminal buffers the line until the CLI reads it.
    child.stdin.write(typed);
  });
}

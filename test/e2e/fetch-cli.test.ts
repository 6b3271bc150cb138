import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { CLI, wharf } from '../support/run-cli.js';
import { adminClient, createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';

let bucket: string;
let work: string;
let proxy: FaultProxy;
const big = randomBytes(24 * 1024 * 1024 + 77);
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  bucket = await createTestBucket('fetchcli');
  work = await mkdtemp(join(tmpdir(), 'wharf-fetch-cli-'));
  proxy = await startFaultProxy(process.env.WHARF_TEST_S3_ENDPOINT ?? '');
  const client = adminClient();
  for (const key of ['ds/a.csv', 'ds/sub/b.csv', 'ds/sub/c.json']) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `data of ${key}` }));
  }
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'big/blob.bin', Body: big }));
});

afterAll(async () => {
  await proxy.close();
  await deleteTestBucket(bucket);
  await rm(work, { recursive: true, force: true });
});

interface FetchJson {
  datasetDir: string;
  files: { key: string; path: string; status: string; reason?: string }[];
  stats: {
    downloaded: number;
    skipped: number;
    failed: number;
    resumedBytes: number;
    requests: { reads: number };
  };
}

describe('wharf fetch', () => {
  it('downloads with --json, then skips everything on a rerun', async () => {
    const dest = join(work, 'json');
    const first = await wharf(['fetch', '--json', `s3://${bucket}/ds`, dest, '--dataset-id', 'ds']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as FetchJson;
    expect(result.files.map((f) => [f.key, f.status])).toEqual([
      ['ds/a.csv', 'downloaded'],
      ['ds/sub/b.csv', 'downloaded'],
      ['ds/sub/c.json', 'downloaded'],
    ]);
    expect(await readFile(join(dest, 'ds', 'sub', 'b.csv'), 'utf8')).toBe('data of ds/sub/b.csv');
    const again = await wharf(['fetch', '--json', `s3://${bucket}/ds`, dest, '--dataset-id', 'ds']);
    const second = JSON.parse(again.stdout) as FetchJson;
    expect(second.stats).toMatchObject({ downloaded: 0, skipped: 3, requests: { reads: 0 } });
  });

  it('--help explains the patterns once', async () => {
    const help = await wharf(['fetch', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.match(/relative to the (dataset )?prefix/g)).toHaveLength(1);
  });

  it('an up-to-date cache on a read-only disk: the rerun succeeds; one with something to download exits 4', async (ctx) => {
    const mount = join(work, 'read-only');
    await mkdir(mount);
    // Needs root (or CAP_SYS_ADMIN) for a tmpfs that can be remounted read-only.
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]).status !== 0) ctx.skip();
    try {
      const args = ['fetch', `s3://${bucket}/ds`, mount, '--dataset-id', 'ro'];
      expect((await wharf([...args, '--include', '*.csv'])).code).toBe(0);
      expect(spawnSync('mount', ['-o', 'remount,ro', mount]).status).toBe(0);
      const again = await wharf([...args, '--include', '*.csv', '--verify']);
      expect(again.stderr).toContain('0 downloaded (0 B), 1 up to date');
      expect(again.code).toBe(0);
      const more = await wharf(args);
      expect(more.code).toBe(4);
      expect(more.stderr).toContain('read-only');
    } finally {
      spawnSync('umount', [mount]);
    }
  });

  it('on a nearly full disk, resumes a download whose partial already holds most of it', async (ctx) => {
    const mount = join(work, 'tight');
    await mkdir(mount);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]).status !== 0) ctx.skip();
    try {
      const body = randomBytes(5 * 1024 * 1024);
      await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'tight/big.bin', Body: body }));
      const args = ['fetch', '--endpoint-url', proxy.url, `s3://${bucket}/tight`, mount, '--dataset-id', 't'];
      const ranged = ['--part-size', '512KiB', '--part-concurrency', '1'];
      // The ranges from 3 MiB on are refused: the first run keeps a partial holding 3 of the 5 MiB.
      proxy.setFaults({
        deny: (r) => Number(/^bytes=(\d+)/.exec(r.range ?? '')?.[1]) >= 3 * 1024 * 1024,
      });
      expect((await wharf([...args, ...ranged])).code).toBe(1);
      proxy.setFaults({});
      // Leave less free than the whole object, more than what is missing.
      await writeFile(join(mount, 'filler'), Buffer.alloc(1536 * 1024, 1));
      const resumed = await wharf([...args, ...ranged]);
      expect(resumed.stderr).not.toContain('not enough disk space');
      expect(resumed.code).toBe(0);
      expect(sha256(await readFile(join(mount, 't', 'big.bin')))).toBe(sha256(body));
    } finally {
      proxy.setFaults({});
      spawnSync('umount', [mount]);
    }
  });

  it('--dry-run shows the plan and writes nothing', async () => {
    const dest = join(work, 'dry');
    const out = await wharf(['fetch', `s3://${bucket}/ds`, dest, '--include', '**/*.csv', '--dry-run']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/would download ds\/a\.csv -> .*a\.csv \(new\)/);
    expect(out.stdout).toMatch(/would download ds\/sub\/b\.csv/);
    expect(out.stdout).not.toMatch(/c\.json/);
    expect(existsSync(dest)).toBe(false);
  });

  it('exits 3 with one line when nothing matches, and when the bucket does not exist', async () => {
    const none = await wharf(['fetch', `s3://${bucket}/ds`, join(work, 'none'), '--include', '*.parquet']);
    expect(none.code).toBe(3);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/^wharf: error: no objects match under s3:\/\/.*\/ds\//);
    const missing = await wharf(['fetch', `s3://${bucket}-missing/ds`, join(work, 'none')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`${bucket}-missing`);
  });

  it('--meta-files: a .meta companion without its data file is a warning (text and --json), not an error', async () => {
    await putRaw(bucket, 'metas/path/files_001.json', '{"a":1}');
    await putRaw(bucket, 'metas/path/.files_001.json.meta', 'ready');
    await putRaw(bucket, 'metas/path/.files_002.json.meta', 'ready');
    const dest = join(work, 'metas');
    const text = await wharf(['fetch', `s3://${bucket}/metas`, dest, '--meta-files', '--dataset-id', 'm']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain(
      `wharf: warning: s3://${bucket}/metas/path/.files_002.json.meta has no data file ` +
        `s3://${bucket}/metas/path/files_002.json: nothing is fetched for it until that exists`,
    );
    expect(await readdir(join(dest, 'm', 'path'))).toEqual(['files_001.json']);
    const json = await wharf([
      'fetch',
      '--json',
      `s3://${bucket}/metas`,
      dest,
      '--meta-files',
      '--dataset-id',
      'm',
    ]);
    expect(json.code).toBe(0);
    expect(
      json.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([{ warning: expect.stringContaining('metas/path/.files_002.json.meta has no data file') }]);
    // Once the data file is there, it is fetched and the warning is gone.
    await putRaw(bucket, 'metas/path/files_002.json', '{"a":2}');
    const ready = await wharf(['fetch', `s3://${bucket}/metas`, dest, '--meta-files', '--dataset-id', 'm']);
    expect(ready.code).toBe(0);
    expect(ready.stderr).not.toContain('warning');
    expect((await readdir(join(dest, 'm', 'path'))).sort()).toEqual(['files_001.json', 'files_002.json']);
  });

  it('refuses a traversal key with exit 1 and writes nothing for it', async () => {
    await putRaw(bucket, 'trav/p/../../evil.txt', 'evil');
    await putRaw(bucket, 'trav/fine.txt', 'fine');
    const dest = join(work, 'trav');
    const out = await wharf(['fetch', `s3://${bucket}/trav`, dest, '--dataset-id', 't']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(
      /refusing object key "trav\/p\/\.\.\/\.\.\/evil\.txt": it contains a '\.\.' segment/,
    );
    expect(existsSync(join(work, 'evil.txt'))).toBe(false);
    expect(existsSync(join(dest, 'evil.txt'))).toBe(false);
    expect(await readFile(join(dest, 't', 'fine.txt'), 'utf8')).toBe('fine');
  });

  it('exits 2 on a malformed endpoint or bucket name, 1 naming an unreachable endpoint', async () => {
    const badUrl = await wharf([
      'fetch',
      '--endpoint-url',
      'htp:/nope',
      `s3://${bucket}/ds`,
      join(work, 'x'),
    ]);
    expect(badUrl.code).toBe(2);
    const badBucket = await wharf(['fetch', 's3://Bad_Bucket!/ds', join(work, 'x')]);
    expect(badBucket.code).toBe(2);
    const unreachable = await wharf([
      'fetch',
      '--endpoint-url',
      'http://127.0.0.1:9',
      `s3://${bucket}/ds`,
      join(work, 'x'),
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('127.0.0.1:9');
    expect(unreachable.stderr).toContain('ECONNREFUSED');
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('resumes a large download after SIGKILL from its finished ranges', async () => {
    const dest = join(work, 'resume');
    const partial = join(dest, 'b', '.wharf', 'partial');
    proxy.setFaults({ bytesPerSecond: 2 * 1024 * 1024 });
    const args = [
      CLI,
      'fetch',
      '--endpoint-url',
      proxy.url,
      `s3://${bucket}/big`,
      dest,
      '--dataset-id',
      'b',
      '--part-size',
      '1MiB',
      '--part-concurrency',
      '4',
    ];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Wait until at least 6 of the 25 ranges are recorded, then kill without warning.
    await waitFor(async () => (await doneRanges(partial)) >= 6, 30_000);
    child.kill('SIGKILL');
    await exited;
    const recorded = await doneRanges(partial);
    expect(recorded).toBeGreaterThanOrEqual(6);
    expect(recorded).toBeLessThan(25);
    expect(existsSync(join(dest, 'b', 'blob.bin'))).toBe(false);

    proxy.setFaults({});
    proxy.reset();
    const out = await wharf([
      'fetch',
      '--json',
      '--endpoint-url',
      proxy.url,
      `s3://${bucket}/big`,
      dest,
      '--dataset-id',
      'b',
      '--part-size',
      '1MiB',
    ]);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as FetchJson;
    expect(result.stats.resumedBytes).toBeGreaterThanOrEqual(recorded * 1024 * 1024);
    const rangedGets = proxy.count((r) => r.isObjectGet && r.range !== undefined);
    expect(rangedGets).toBeLessThanOrEqual(25 - recorded);
    expect(sha256(await readFile(join(dest, 'b', 'blob.bin')))).toBe(sha256(big));
    expect(await readdir(partial)).toEqual([]);
  });

  it.each([
    ['SIGINT', 130, 'interrupted'],
    ['SIGTERM', 143, 'terminated'],
  ] as const)(
    'stops on %s with exit %i and leaves no file at the final path, no lock, no temporary file',
    async (signal, exitCode, said) => {
      const dest = join(work, `stop-${signal}`);
      proxy.setFaults({ bytesPerSecond: 1024 * 1024 });
      const child = spawn(
        process.execPath,
        [
          CLI,
          'fetch',
          '--endpoint-url',
          proxy.url,
          `s3://${bucket}/big`,
          dest,
          '--dataset-id',
          'c',
          '--part-size',
          '1MiB',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      await waitFor(async () => (await doneRanges(join(dest, 'c', '.wharf', 'partial'))) >= 1, 30_000);
      const sentAt = Date.now();
      child.kill(signal);
      expect(await code).toBe(exitCode);
      expect(Date.now() - sentAt).toBeLessThan(5_000);
      proxy.setFaults({});
      expect(stderr).toContain(`wharf: error: ${said}`);
      expect(existsSync(join(dest, 'c', 'blob.bin'))).toBe(false);
      expect(existsSync(join(dest, 'c', '.wharf', 'lock'))).toBe(false);
      expect(await tempFiles(join(dest, 'c', '.wharf'))).toEqual([]);
    },
  );
});

describe('wharf cp into a folder', () => {
  it('stops on SIGTERM like on Ctrl-C: exit 143, no temporary file left, nothing at the final path', async () => {
    await adminClient().send(
      new PutObjectCommand({ Bucket: bucket, Key: 'medium/m.bin', Body: randomBytes(4 * 1024 * 1024) }),
    );
    const dest = join(work, 'cp-sigterm');
    proxy.setFaults({ bytesPerSecond: 256 * 1024 });
    const child = spawn(
      process.execPath,
      [CLI, 'cp', '-r', '--endpoint-url', proxy.url, `s3://${bucket}/medium/`, dest],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await waitFor(async () => (await tempFiles(dest)).length > 0, 30_000);
    child.kill('SIGTERM');
    expect(await code).toBe(143);
    proxy.setFaults({});
    expect(stderr).toContain('wharf: error: terminated');
    expect(await tempFiles(dest)).toEqual([]);
    expect(existsSync(join(dest, 'm.bin'))).toBe(false);
  });
});

/** Temporary files (`*.tmp`) anywhere under `dir`. */
async function tempFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.tmp'));
}

async function doneRanges(partialDir: string): Promise<number> {
  const names = await readdir(partialDir).catch(() => [] as string[]);
  const state = names.find((n) => n.endsWith('.json'));
  if (!state) return 0;
  try {
    const parsed = JSON.parse(await readFile(join(partialDir, state), 'utf8')) as { done: number[] };
    return parsed.done.length;
  } catch {
    return 0;
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDataset, type FetchOptions, type FetchResult } from '../../src/fetch/fetch-dataset.js';
import { openStorageRoot } from '../../src/storage/registry.js';
import type { ListOptions, ObjectInfo, StorageDriver } from '../../src/storage/types.js';
import { runPool } from '../../src/core/pool.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { adminClient, createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';
import { s3TestEnv } from '../support/test-services.js';

const env = s3TestEnv();
let bucket: string;
let work: string;

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

async function put(key: string, body: Uint8Array | string): Promise<void> {
  await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Uploads through Wharf's own driver so big bodies go up as multipart (ETag `…-N`). */
async function putMultipart(key: string, body: Buffer, partSize: number): Promise<string> {
  const store = await openStorageRoot({ kind: 's3', bucket, key: '', raw: `s3://${bucket}` });
  try {
    const info = await store.write(key, Readable.from([body]), { partSize, size: body.length });
    return info.etag ?? '';
  } finally {
    await store.close?.();
  }
}

async function fetchInto(dest: string, options: Omit<FetchOptions, 'dest'>): Promise<FetchResult> {
  return fetchDataset({ dest, ...options });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.name === '.wharf') continue;
      if (entry.isDirectory()) await walk(join(d, entry.name), `${prefix}${entry.name}/`);
      else out.push(prefix + entry.name);
    }
  };
  await walk(dir, '');
  return out.sort();
}

beforeAll(async () => {
  bucket = await createTestBucket('fetch');
  work = await mkdtemp(join(tmpdir(), 'wharf-fetch-'));
});

afterAll(async () => {
  await deleteTestBucket(bucket);
  await rm(work, { recursive: true, force: true });
});

describe('selection', () => {
  it('lists past 1,000 keys, keeps nested folders, and a rerun makes zero GETs', async () => {
    const keys = Array.from(
      { length: 1105 },
      (_, i) => `many/d${i % 3}/sub/f${String(i).padStart(4, '0')}.txt`,
    );
    await runPool(keys, 32, (key) => put(key, `body of ${key}`));
    const dest = join(work, 'many');
    const first = await fetchInto(dest, { source: `s3://${bucket}/many`, datasetId: 'many' });
    expect(first.stats.selected).toBe(1105);
    expect(first.stats.downloaded).toBe(1105);
    expect(first.stats.failed).toBe(0);
    const local = await filesUnder(first.datasetDir);
    expect(local).toEqual(keys.map((k) => k.slice('many/'.length)).sort());
    expect(await readFile(join(first.datasetDir, 'd2', 'sub', 'f0005.txt'), 'utf8')).toBe(
      'body of many/d2/sub/f0005.txt',
    );
    expect(first.files.map((f) => f.key)).toEqual([...keys].sort());

    const proxy = await startFaultProxy(env.endpoint);
    try {
      const again = await fetchInto(dest, {
        source: `s3://${bucket}/many`,
        datasetId: 'many',
        storage: { s3: { endpoint: proxy.url } },
      });
      expect(again.stats.downloaded).toBe(0);
      expect(again.stats.skipped).toBe(1105);
      expect(again.stats.requests.reads).toBe(0);
      expect(proxy.count((r) => r.isObjectGet)).toBe(0);
      expect(proxy.count((r) => r.method === 'HEAD')).toBe(0);
      expect(proxy.count((r) => r.isList)).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("skips the prefix's .wharf/ folder (a sync remote's index, a cache copied back) with a warning, not a failure", async () => {
    await put('synced/a.csv', 'a');
    await put('synced/.wharf/index.json', '{}');
    const warnings: string[] = [];
    const run = await fetchInto(join(work, 'synced'), {
      source: `s3://${bucket}/synced/`,
      datasetId: 'ds',
      onEvent: (event) => {
        if (event.type === 'warning') warnings.push(event.message);
      },
    });
    expect(run.files.map((f) => [f.key, f.status])).toEqual([['synced/a.csv', 'downloaded']]);
    expect(run.stats.failed).toBe(0);
    expect(warnings).toEqual([expect.stringContaining('1 object(s) under s3://') as unknown]);
    expect(warnings[0]).toContain("/synced/.wharf/ skipped: that folder holds Wharf's own state");
  });

  it('a DEST below a file is one usage error, before any warning or listing', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'x');
    const events: string[] = [];
    await expect(
      fetchInto(join(file, 'sub'), { source: `s3://${bucket}/linked/`, onEvent: (e) => events.push(e.type) }),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('is below a file') as unknown,
    });
    expect(events).toEqual([]);
  });

  it('a bad number option is named as its CLI flag', async () => {
    for (const [options, flag] of [
      [{ partSize: 0 }, '--part-size'],
      [{ concurrency: 1.5 }, '--concurrency'],
      [{ partConcurrency: -1 }, '--part-concurrency'],
    ] as const) {
      await expect(
        fetchInto(join(work, 'bad-number'), { source: `s3://${bucket}/linked/`, ...options }),
      ).rejects.toMatchObject({
        code: 'USAGE',
        message: expect.stringMatching(new RegExp(`^${flag} must be a positive integer, got `)) as unknown,
      });
    }
  });

  it('never writes through a symlinked folder in the dataset folder: that file fails, the rest land', async () => {
    await put('linked/sub/c.csv', 'c from the bucket');
    await put('linked/sub/deep/er/z.csv', 'z');
    await put('linked/top.csv', 'top');
    const dest = join(work, 'symlinked');
    const outside = await mkdtemp(join(tmpdir(), 'wharf-outside-'));
    await writeFile(join(outside, 'c.csv'), 'keep');
    await mkdir(join(dest, 'ds'), { recursive: true });
    await symlink(outside, join(dest, 'ds', 'sub'));
    const run = await fetchInto(dest, { source: `s3://${bucket}/linked/`, datasetId: 'ds' });
    const byKey = new Map(run.files.map((f) => [f.key, f]));
    expect(byKey.get('linked/top.csv')?.status).toBe('downloaded');
    expect(byKey.get('linked/sub/c.csv')?.status).toBe('failed');
    expect(byKey.get('linked/sub/c.csv')?.error?.message).toMatch(/symbolic link that leads outside/);
    expect(byKey.get('linked/sub/deep/er/z.csv')?.status).toBe('failed');
    expect(await readFile(join(outside, 'c.csv'), 'utf8')).toBe('keep');
    // Not even a folder is made through the link.
    expect(await readdir(outside)).toEqual(['c.csv']);
    expect((await readdir(join(dest, 'ds', '.wharf', 'tmp'))).length).toBe(0);
    await rm(outside, { recursive: true });
  });

  it('a successful run removes partial downloads nothing will resume (a part size changed, an object left)', async () => {
    await put('partials/a.csv', 'a');
    const dest = join(work, 'partials');
    await fetchInto(dest, { source: `s3://${bucket}/partials/`, datasetId: 'p' });
    const partialDir = join(dest, 'p', '.wharf', 'partial');
    await mkdir(partialDir, { recursive: true });
    const stale = 'f'.repeat(40);
    await writeFile(join(partialDir, `${stale}.part`), Buffer.alloc(1024));
    await writeFile(join(partialDir, `${stale}.json`), '{}');
    await put('partials/b.csv', 'b');
    const run = await fetchInto(dest, { source: `s3://${bucket}/partials/`, datasetId: 'p' });
    expect(run.files.filter((f) => f.status === 'failed')).toEqual([]);
    expect(await readdir(partialDir)).toEqual([]);
  });

  it('applies include/exclude globs relative to the prefix', async () => {
    for (const key of [
      'globs/a.csv',
      'globs/b.json',
      'globs/x/c.csv',
      'globs/x/y/d.csv',
      'globs/x/skip.csv',
    ]) {
      await put(key, key);
    }
    const dest = join(work, 'globs');
    const top = await fetchInto(dest, { source: `s3://${bucket}/globs/`, include: ['*.csv'] });
    expect(await filesUnder(top.datasetDir)).toEqual(['a.csv']);
    const deep = await fetchInto(dest, {
      source: `s3://${bucket}/globs/`,
      include: ['**/*.csv', '*.json'],
      exclude: ['x/skip.csv'],
    });
    expect(await filesUnder(deep.datasetDir)).toEqual(['a.csv', 'b.json', 'x/c.csv', 'x/y/d.csv']);
    expect(deep.datasetDir).not.toBe(top.datasetDir);
  });

  it('gives two different selections different cache folders, and the same one the same folder', async () => {
    const dest = join(work, 'fp');
    const a = await fetchInto(dest, { source: `s3://${bucket}/globs/`, include: ['*.csv'], dryRun: true });
    const b = await fetchInto(dest, { source: `s3://${bucket}/globs/`, include: ['**'], dryRun: true });
    const c = await fetchInto(dest, { source: `s3://${bucket}/globs/`, include: ['*.csv'], dryRun: true });
    const d = await fetchInto(dest, {
      source: `s3://${bucket}/globs/`,
      exclude: ['x/**'],
      include: ['*.csv'],
      dryRun: true,
    });
    expect(a.datasetId).toBe(c.datasetId);
    expect(new Set([a.datasetId, b.datasetId, d.datasetId]).size).toBe(3);
    expect(existsSync(dest)).toBe(false);
  });

  it("keeps apart the same bucket at two endpoints set by profiles' endpoint_url", async () => {
    const config = join(work, 'aws-config-two-endpoints');
    const other = env.endpoint.replace('127.0.0.1', 'localhost');
    await writeFile(
      config,
      `[profile one]\nendpoint_url = ${env.endpoint}\n[profile two]\nendpoint_url = ${other}\n`,
    );
    const names = ['AWS_CONFIG_FILE', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'] as const;
    const saved = names.map((name) => [name, process.env[name]] as const);
    const setEnv = (values: Partial<Record<(typeof names)[number], string>>): void => {
      for (const name of names) {
        const value = values[name];
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
    const id = async (): Promise<string> =>
      (await fetchInto(join(work, 'fp-profiles'), { source: `s3://${bucket}/globs/`, dryRun: true }))
        .datasetId;
    try {
      setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'one' });
      const one = await id();
      setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'two' });
      const two = await id();
      expect(one).not.toBe(two);
      // The same endpoint given another way is the same store: the same folder.
      setEnv({ AWS_ENDPOINT_URL: env.endpoint });
      expect(await id()).toBe(one);
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('errors with NOT_FOUND when nothing matches', async () => {
    await expect(
      fetchInto(join(work, 'none'), { source: `s3://${bucket}/globs/`, include: ['*.parquet'] }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no objects match') });
  });

  it('takes only the files a JSON (UNLOAD) manifest lists, and names a missing entry', async () => {
    for (const key of ['unload/part-000', 'unload/part-001', 'unload/part-002', 'unload/stray'])
      await put(key, key);
    const entries = ['part-000', 'part-002'].map((name) => ({
      url: `s3://${bucket}/unload/${name}`,
      meta: { content_length: `unload/${name}`.length },
    }));
    await put('unload/manifest', JSON.stringify({ entries }));
    const result = await fetchInto(join(work, 'unload'), {
      source: `s3://${bucket}/unload`,
      manifest: 'manifest',
    });
    expect(result.stats.manifestUsed).toBe(true);
    expect(await filesUnder(result.datasetDir)).toEqual(['part-000', 'part-002']);

    await put(
      'unload/bad-manifest',
      JSON.stringify({ entries: [...entries, { url: `s3://${bucket}/unload/part-404` }] }),
    );
    await expect(
      fetchInto(join(work, 'unload'), { source: `s3://${bucket}/unload`, manifest: 'bad-manifest' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('part-404') });
  });

  it('takes only the files a plain-list manifest lists, in manifest order', async () => {
    await put('unload/list.txt', 'part-002\n\npart-001\n');
    const result = await fetchInto(join(work, 'unload'), {
      source: `s3://${bucket}/unload`,
      manifest: 'list.txt',
    });
    expect(result.files.map((f) => f.key)).toEqual(['unload/part-002', 'unload/part-001']);
  });

  it('a manifest entry that is URL-encoded is missing, and the hint names the key that does exist', async () => {
    await put('encoded/sales 2024.csv', 'a');
    await put('encoded/list.txt', 'sales%202024.csv\n');
    await expect(
      fetchInto(join(work, 'encoded'), { source: `s3://${bucket}/encoded`, manifest: 'list.txt' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `manifest s3://${bucket}/encoded/list.txt lists 1 object(s) that do not exist: s3://${bucket}/encoded/sales%202024.csv`,
      hint: `the manifest's keys look URL-encoded: s3://${bucket}/encoded/sales 2024.csv exists; write keys as they are`,
    });
  });

  it('reads a plain-list manifest saved by Windows PowerShell (UTF-16 with a BOM, CRLF, a comment)', async () => {
    const text = '# export of the day\r\npart-001\r\n\r\npart-002\r\n';
    await put(
      'unload/list-utf16.txt',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    const result = await fetchInto(join(work, 'unload'), {
      source: `s3://${bucket}/unload`,
      manifest: 'list-utf16.txt',
      dryRun: true,
    });
    expect(result.files.map((f) => f.key)).toEqual(['unload/part-001', 'unload/part-002']);
  });

  it('with --meta-files takes only files whose .meta companion exists, never the .meta files', async () => {
    await put('meta/d/files_001.json', '{"a":1}');
    await put('meta/d/.files_001.json.meta', '');
    await put('meta/d/files_002.json', '{"a":2}');
    const result = await fetchInto(join(work, 'meta'), { source: `s3://${bucket}/meta`, metaFiles: true });
    expect(await filesUnder(result.datasetDir)).toEqual(['d/files_001.json']);
  });

  it('stops before downloading anything when timestamps spread beyond the tolerance', async () => {
    await put('spread/old.csv', 'old');
    await new Promise((r) => setTimeout(r, 2100));
    await put('spread/new.csv', 'new');
    const dest = join(work, 'spread');
    await expect(
      fetchInto(dest, { source: `s3://${bucket}/spread`, timestampToleranceHours: 0.0002, datasetId: 's' }),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringMatching(/old\.csv.*new\.csv/),
    });
    expect(existsSync(join(dest, 's', 'old.csv'))).toBe(false);
    const ok = await fetchInto(dest, {
      source: `s3://${bucket}/spread`,
      timestampToleranceHours: 1,
      datasetId: 's',
    });
    expect(ok.stats.downloaded).toBe(2);
  });

  it('refuses keys that would escape the dataset folder and writes nothing outside it', async () => {
    await putRaw(bucket, 'trav/ok.txt', 'fine');
    await putRaw(bucket, 'trav/../../evil.txt', 'evil');
    await putRaw(bucket, 'trav/a/../../../evil2.txt', 'evil');
    const dest = join(work, 'trav');
    const result = await fetchInto(dest, { source: `s3://${bucket}/trav`, datasetId: 't' });
    expect(result.stats.downloaded).toBe(1);
    expect(result.stats.failed).toBe(2);
    // The counts add up: the refused keys were selected too.
    expect(result.stats.selected).toBe(3);
    const refused = result.files.filter((f) => f.status === 'failed');
    expect(refused.map((f) => f.error?.code)).toEqual(['INVALID_KEY', 'INVALID_KEY']);
    expect(await filesUnder(dest)).toEqual(['t/ok.txt']);
    expect(existsSync(join(work, 'evil.txt'))).toBe(false);
    expect(existsSync(join(dest, 'evil.txt'))).toBe(false);
  });
});

describe('incremental and verified', () => {
  it('re-downloads a changed object, repairs a tampered file with --verify, and deletes leavers with --delete', async () => {
    await put('inc/a.txt', 'version 1');
    await put('inc/b.txt', 'bbbbbbbb');
    await put('inc/c.txt', 'cccc');
    const dest = join(work, 'inc');
    const source = `s3://${bucket}/inc`;
    const first = await fetchInto(dest, { source, datasetId: 'i' });
    expect(first.stats.downloaded).toBe(3);

    await put('inc/a.txt', 'version 2!');
    const second = await fetchInto(dest, { source, datasetId: 'i' });
    expect(second.files.filter((f) => f.status === 'downloaded').map((f) => [f.key, f.reason])).toEqual([
      ['inc/a.txt', 'changed'],
    ]);
    expect(await readFile(join(dest, 'i', 'a.txt'), 'utf8')).toBe('version 2!');

    // Same size, same mtime, different bytes: only re-hashing can tell.
    const bPath = join(dest, 'i', 'b.txt');
    const before = await stat(bPath);
    await writeFile(bPath, 'BBBBBBBB');
    await utimes(bPath, before.atime, before.mtime);
    const unverified = await fetchInto(dest, { source, datasetId: 'i' });
    expect(unverified.stats.downloaded).toBe(0);
    const verified = await fetchInto(dest, { source, datasetId: 'i', verify: true });
    expect(verified.files.filter((f) => f.status === 'downloaded').map((f) => [f.key, f.reason])).toEqual([
      ['inc/b.txt', 'corrupt'],
    ]);
    expect(await readFile(bPath, 'utf8')).toBe('bbbbbbbb');

    // Truncation changes the size: noticed without --verify.
    await writeFile(join(dest, 'i', 'c.txt'), 'cc');
    const truncated = await fetchInto(dest, { source, datasetId: 'i' });
    expect(truncated.files.find((f) => f.key === 'inc/c.txt')?.reason).toBe('modified-locally');
    expect(await readFile(join(dest, 'i', 'c.txt'), 'utf8')).toBe('cccc');

    await writeFile(join(dest, 'i', 'local-extra.txt'), 'mine');
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'inc/d.txt', Body: 'd' }));
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await adminClient().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'inc/c.txt' }));
    const dry = await fetchInto(dest, { source, datasetId: 'i', delete: true, dryRun: true });
    expect(dry.deleted.map((p) => p.slice(join(dest, 'i').length + 1)).sort()).toEqual([
      'c.txt',
      'local-extra.txt',
    ]);
    expect(existsSync(join(dest, 'i', 'c.txt'))).toBe(true);
    expect(existsSync(join(dest, 'i', 'd.txt'))).toBe(false);
    await fetchInto(dest, { source, datasetId: 'i', delete: true });
    expect(await filesUnder(join(dest, 'i'))).toEqual(['a.txt', 'b.txt', 'd.txt']);
    expect(existsSync(join(dest, 'i', '.wharf', 'index.json'))).toBe(true);
  });

  it('repairs a file replaced by a folder locally: an empty one goes, one with files of its own only with --delete', async () => {
    for (const name of ['a.txt', 'b.txt', 'c.txt']) await put(`folder-way/${name}`, `object ${name}`);
    const dest = join(work, 'folder-way');
    const options = { source: `s3://${bucket}/folder-way`, datasetId: 'f' };
    await fetchInto(dest, options);
    const dir = join(dest, 'f');
    await rm(join(dir, 'a.txt'));
    await mkdir(join(dir, 'a.txt', 'empty', 'deeper'), { recursive: true });
    await rm(join(dir, 'b.txt'));
    await mkdir(join(dir, 'b.txt'));
    await writeFile(join(dir, 'b.txt', 'notes.md'), 'mine');

    const verify = await fetchInto(dest, { ...options, verify: true });
    expect(verify.files.map((f) => [f.key, f.status, f.reason])).toEqual([
      ['folder-way/a.txt', 'downloaded', 'missing-locally'],
      ['folder-way/b.txt', 'failed', 'missing-locally'],
      ['folder-way/c.txt', 'skipped', 'up-to-date'],
    ]);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('object a.txt');
    expect(verify.files[1]?.error?.message).toBe(
      `s3://${bucket}/folder-way/b.txt: ${join(dir, 'b.txt')} is a folder locally, holding 1 file(s) that are not part of the dataset (e.g. b.txt/notes.md)`,
    );
    expect(await readFile(join(dir, 'b.txt', 'notes.md'), 'utf8')).toBe('mine');

    const withDelete = await fetchInto(dest, { ...options, delete: true });
    expect(withDelete.stats.failed).toBe(0);
    expect(withDelete.deleted).toEqual([join(dir, 'b.txt', 'notes.md')]);
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('object b.txt');
    expect(await filesUnder(dir)).toEqual(['a.txt', 'b.txt', 'c.txt']);
  });

  it('an export whose file became a folder (report -> report/part-1): named without --delete, replaced with it', async () => {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await put('reshaped/report', 'one file');
    const dest = join(work, 'reshaped');
    const options = { source: `s3://${bucket}/reshaped`, datasetId: 'r' };
    await fetchInto(dest, options);
    await adminClient().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'reshaped/report' }));
    await put('reshaped/report/part-1', 'part one');
    const dir = join(dest, 'r');

    const kept = await fetchInto(dest, options);
    expect(kept.files.map((f) => [f.key, f.status, f.error?.message])).toEqual([
      [
        'reshaped/report/part-1',
        'failed',
        `s3://${bucket}/reshaped/report/part-1: ${join(dir, 'report')} is a file locally that is not part of the dataset, where the object needs a folder`,
      ],
    ]);
    expect(await readFile(join(dir, 'report'), 'utf8')).toBe('one file');

    const replaced = await fetchInto(dest, { ...options, delete: true });
    expect(replaced.stats.failed).toBe(0);
    expect(replaced.deleted).toEqual([join(dir, 'report')]);
    expect(await readFile(join(dir, 'report', 'part-1'), 'utf8')).toBe('part one');
  });

  it('takes files already at their paths when their content matches the ETag (a lost index, a folder aws-cli filled)', async () => {
    const big = randomBytes(6 * 1024 * 1024 + 7);
    await put('found/a.txt', 'alpha');
    await put('found/sub/b.txt', 'bravo');
    await putMultipart('found/big.bin', big, 5 * 1024 * 1024);
    const dest = join(work, 'found');
    // What another tool left: the same bytes at the same paths, one of them with other content of the same size.
    await mkdir(join(dest, 'f', 'sub'), { recursive: true });
    await writeFile(join(dest, 'f', 'a.txt'), 'alpha');
    await writeFile(join(dest, 'f', 'sub', 'b.txt'), 'BRAVO');
    await writeFile(join(dest, 'f', 'big.bin'), big);

    const dry = await fetchInto(dest, { source: `s3://${bucket}/found`, datasetId: 'f', dryRun: true });
    expect(dry.files.map((f) => [f.key, f.status, f.reason])).toEqual([
      ['found/a.txt', 'skipped', 'found-locally'],
      ['found/big.bin', 'skipped', 'found-locally'],
      ['found/sub/b.txt', 'planned', 'new'],
    ]);
    expect(existsSync(join(dest, 'f', '.wharf', 'index.journal'))).toBe(false);

    const first = await fetchInto(dest, { source: `s3://${bucket}/found`, datasetId: 'f' });
    expect(first.files.map((f) => [f.key, f.status])).toEqual([
      ['found/a.txt', 'skipped'],
      ['found/big.bin', 'skipped'],
      ['found/sub/b.txt', 'downloaded'],
    ]);
    expect(first.stats.requests.reads).toBe(1);
    expect(await readFile(join(dest, 'f', 'sub', 'b.txt'), 'utf8')).toBe('bravo');

    // A damaged index is said, and rebuilt from the files' content: nothing is downloaded again.
    await writeFile(join(dest, 'f', '.wharf', 'index.json'), '{"version": 1, "entries": [tor');
    await rm(join(dest, 'f', '.wharf', 'index.journal'), { force: true });
    const warnings: string[] = [];
    const rebuilt = await fetchInto(dest, {
      source: `s3://${bucket}/found`,
      datasetId: 'f',
      onEvent: (e) => {
        if (e.type === 'warning') warnings.push(e.message);
      },
    });
    expect(warnings).toEqual([expect.stringMatching(/cache index .* was damaged and is rebuilt/)]);
    expect(rebuilt.files.map((f) => f.reason)).toEqual(['found-locally', 'found-locally', 'found-locally']);
    expect(rebuilt.stats.requests.reads).toBe(0);

    // Recorded in the cache index: the next run reads nothing, and --verify finds nothing to repair.
    const again = await fetchInto(dest, { source: `s3://${bucket}/found`, datasetId: 'f', verify: true });
    expect(again.files.map((f) => f.reason)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
    expect(again.stats.requests.reads).toBe(0);
  });

  it('verifies multipart objects (ETag -N) by their part MD5s, ranged and whole', async () => {
    const body = randomBytes(21 * 1024 * 1024 + 123);
    const etag = await putMultipart('mp/big.bin', body, 5 * 1024 * 1024);
    expect(etag).toMatch(/-5"?$/);
    const dest = join(work, 'mp');
    const ranged = await fetchInto(dest, {
      source: `s3://${bucket}/mp`,
      datasetId: 'r',
      partSize: 1024 * 1024,
    });
    const file = ranged.files[0];
    expect(file?.status).toBe('downloaded');
    expect(file?.verified).toEqual(['size', 'etag-md5-parts']);
    expect(sha256(await readFile(join(dest, 'r', 'big.bin')))).toBe(sha256(body));

    const whole = await fetchInto(dest, {
      source: `s3://${bucket}/mp`,
      datasetId: 'w',
      partSize: 64 * 1024 * 1024,
    });
    expect(whole.files[0]?.verified).toEqual(['size', 'etag-md5-parts']);
    expect(sha256(await readFile(join(dest, 'w', 'big.bin')))).toBe(sha256(body));

    // --verify recomputes the same digest from the local file: nothing to repair.
    const again = await fetchInto(dest, { source: `s3://${bucket}/mp`, datasetId: 'r', verify: true });
    expect(again.stats.downloaded).toBe(0);
  });

  it('checks the SHA-256 an uploader stored in metadata, and fails a file whose bytes do not match', async () => {
    const body = 'content with a checksum';
    await adminClient().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'sha/good.txt',
        Body: body,
        Metadata: { 'wharf-sha256': sha256(body) },
      }),
    );
    await adminClient().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'sha/bad.txt',
        Body: body,
        Metadata: { 'wharf-sha256': sha256('other') },
      }),
    );
    const dest = join(work, 'sha');
    const result = await fetchInto(dest, { source: `s3://${bucket}/sha`, datasetId: 's', attempts: 2 });
    const good = result.files.find((f) => f.key === 'sha/good.txt');
    const bad = result.files.find((f) => f.key === 'sha/bad.txt');
    expect(good?.verified).toEqual(['size', 'md5', 'sha256']);
    expect(bad?.status).toBe('failed');
    expect(bad?.error?.message).toContain('SHA-256');
    expect(existsSync(join(dest, 's', 'bad.txt'))).toBe(false);
    expect(await readdir(join(dest, 's', '.wharf', 'tmp'))).toEqual([]);
  });
});

describe('faults', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(env.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('survives a storm of 503 SlowDown and connection resets', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `storm/f${i}.bin`);
    const bodies = new Map(keys.map((k) => [k, randomBytes(20_000 + (k.length % 7) * 1000)]));
    await runPool(keys, 32, (key) => put(key, bodies.get(key) as Buffer));
    const big = randomBytes(6 * 1024 * 1024);
    await put('storm/big.bin', big);
    proxy.setFaults({ slowDownRate: 0.2, resetRate: 0.1, seed: 7 });
    proxy.reset();
    const dest = join(work, 'storm');
    const result = await fetchInto(dest, {
      source: `s3://${bucket}/storm`,
      datasetId: 's',
      partSize: 512 * 1024,
      storage: { s3: { endpoint: proxy.url } },
    });
    proxy.setFaults({});
    expect(proxy.count((r) => r.fault !== undefined)).toBeGreaterThan(20);
    expect(result.stats.failed).toBe(0);
    expect(result.stats.downloaded).toBe(151);
    for (const key of keys.slice(0, 20)) {
      expect(await readFile(join(dest, 's', key.slice('storm/'.length)))).toEqual(bodies.get(key));
    }
    expect(sha256(await readFile(join(dest, 's', 'big.bin')))).toBe(sha256(big));
  });

  it('reports an object it may not read, and finishes the rest', async () => {
    await put('deny/ok.txt', 'ok');
    await put('deny/secret.txt', 'secret');
    proxy.setFaults({});
    const dest = join(work, 'deny');
    proxy.setFaults({ deny: (r) => r.key.endsWith('secret.txt') });
    const result = await fetchInto(dest, {
      source: `s3://${bucket}/deny`,
      datasetId: 'd',
      storage: { s3: { endpoint: proxy.url } },
    });
    proxy.setFaults({});
    expect(result.files.map((f) => [f.key, f.status, f.error?.code])).toEqual([
      ['deny/ok.txt', 'downloaded', undefined],
      ['deny/secret.txt', 'failed', 'ACCESS_DENIED'],
    ]);
    expect(result.files[1]?.error?.message).toContain('secret.txt');
    expect(existsSync(join(dest, 'd', 'secret.txt'))).toBe(false);
  });
  it('a run that finishes keeps the finished ranges of a large download that failed, and the next run resumes them', async () => {
    const big = randomBytes(6 * 1024 * 1024);
    await put('keep-partial/big.bin', big);
    await put('keep-partial/small.txt', 'small');
    const dest = join(work, 'keep-partial');
    const options = {
      source: `s3://${bucket}/keep-partial`,
      datasetId: 'k',
      partSize: 512 * 1024,
      partConcurrency: 1,
      storage: { s3: { endpoint: proxy.url } },
    };
    // Ranges from 3 MiB on are refused: the first six of twelve land, then the download fails.
    proxy.setFaults({
      deny: (r) =>
        r.key.endsWith('big.bin') && Number(/^bytes=(\d+)/.exec(r.range ?? '')?.[1]) >= 3 * 1024 * 1024,
    });
    const first = await fetchInto(dest, options);
    proxy.setFaults({});
    expect(first.files.map((f) => [f.key, f.status])).toEqual([
      ['keep-partial/big.bin', 'failed'],
      ['keep-partial/small.txt', 'downloaded'],
    ]);
    expect(existsSync(join(dest, 'k', 'big.bin'))).toBe(false);
    expect((await readdir(join(dest, 'k', '.wharf', 'partial'))).sort()).toHaveLength(2);

    const second = await fetchInto(dest, options);
    expect(second.stats.failed).toBe(0);
    expect(second.stats.resumedBytes).toBe(3 * 1024 * 1024);
    expect(sha256(await readFile(join(dest, 'k', 'big.bin')))).toBe(sha256(big));
    expect(await readdir(join(dest, 'k', '.wharf', 'partial'))).toEqual([]);
  });
});

describe('objects that change while the fetch runs', () => {
  /** The bucket's store, running `afterListing` once the listing is complete, before any object is read. */
  async function changingAfterListing(afterListing: () => Promise<void>): Promise<StorageDriver> {
    const store = await openStorageRoot({ kind: 's3', bucket, key: '', raw: `s3://${bucket}` });
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'list') {
          return async function* (prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
            yield* target.list(prefix, options);
            await afterListing();
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('takes a replaced object whole at its new version, and names a deleted one once as deleted after the listing', async () => {
    const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3');
    const big = randomBytes(3 * 1024 * 1024);
    const bigNow = randomBytes(3 * 1024 * 1024);
    for (const [key, body] of [
      ['change/small.txt', 'small before'],
      ['change/gone.txt', 'gone'],
      ['change/big.bin', big],
      ['change/big-gone.bin', big],
    ] as const) {
      await put(key, body);
    }
    const store = await changingAfterListing(async () => {
      await put('change/small.txt', 'small after, longer');
      await put('change/big.bin', bigNow);
      await adminClient().send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [{ Key: 'change/gone.txt' }, { Key: 'change/big-gone.bin' }] },
        }),
      );
    });
    const dest = join(work, 'change');
    const options = { source: `s3://${bucket}/change`, datasetId: 'c', partSize: 512 * 1024 };
    try {
      const result = await fetchInto(dest, { ...options, store });
      expect(result.files.map((f) => [f.key, f.status, f.error?.code])).toEqual([
        ['change/big-gone.bin', 'failed', 'NOT_FOUND'],
        ['change/big.bin', 'downloaded', undefined],
        ['change/gone.txt', 'failed', 'NOT_FOUND'],
        ['change/small.txt', 'downloaded', undefined],
      ]);
      for (const name of ['big-gone.bin', 'gone.txt']) {
        const file = result.files.find((f) => f.key === `change/${name}`);
        expect(file?.error?.message).toBe(`s3://${bucket}/change/${name} was deleted after it was listed`);
        expect(existsSync(join(dest, 'c', name))).toBe(false);
      }
    } finally {
      await store.close?.();
    }
    expect(await readFile(join(dest, 'c', 'small.txt'), 'utf8')).toBe('small after, longer');
    expect(sha256(await readFile(join(dest, 'c', 'big.bin')))).toBe(sha256(bigNow));
    // The index took the new versions: a rerun reads nothing.
    const rerun = await fetchInto(dest, options);
    expect(rerun.stats.skipped).toBe(2);
    expect(rerun.stats.requests.reads).toBe(0);
  });
});

describe('local store as source', () => {
  it('fetches from a folder store, incrementally', async () => {
    const src = join(work, 'local-src');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(src, 'x'), { recursive: true });
    await writeFile(join(src, 'x', 'one.txt'), 'one');
    await writeFile(join(src, 'two.txt'), 'two');
    const dest = join(work, 'local-dest');
    const first = await fetchInto(dest, { source: src, datasetId: 'l' });
    expect(first.stats.downloaded).toBe(2);
    expect(await filesUnder(join(dest, 'l'))).toEqual(['two.txt', 'x/one.txt']);
    const second = await fetchInto(dest, { source: `file://${src}`, datasetId: 'l' });
    expect(second.stats.downloaded).toBe(0);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDriver } from '../storage/local/local-driver.js';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import type { ReadOptions } from '../storage/types.js';
import type { CopyEvent } from './copy-events.js';
import { copyObjects, planTreeCopy } from './copy-objects.js';
import { HASH_IN_MEMORY_MAX_BYTES } from './upload-with-sha256.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-copy-objects-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('copyObjects into a local folder', () => {
  it('fails once, not once per object, when its staging folder cannot be made', async () => {
    const source = new MemoryDriver();
    for (const key of ['a.txt', 'b.txt', 'c/d.txt']) await source.write(key, Buffer.from(key));
    await writeFile(join(dir, 'file'), 'x');
    // A folder under a plain file: every mkdir there fails (ENOTDIR), as on a read-only disk (EROFS).
    const dest = new LocalDriver({ root: join(dir, 'file', 'dest') });
    const plan = await planTreeCopy(source, '', dest, '');
    const events: CopyEvent[] = [];

    await expect(
      copyObjects(source, dest, plan, { concurrency: 2, onEvent: (e) => events.push(e) }),
    ).rejects.toMatchObject({
      affectsAll: true,
      message: expect.stringMatching(/cannot create the folder .*dest/),
    });
    expect(events.filter((e) => e.type === 'file-failed')).toEqual([]);
  });

  it('refuses a plan larger than the disk before writing anything; with noClobber an existing file needs nothing', async () => {
    const source = new MemoryDriver();
    await source.write('huge.bin', Buffer.from('x'));
    const dest = new LocalDriver({ root: join(dir, 'dest') });
    // As listed: far more than any disk the tests run on holds.
    const plan = {
      items: [{ sourceKey: 'huge.bin', destKey: 'huge.bin', size: 2 ** 52 }],
      totalBytes: 2 ** 52,
    };

    await expect(copyObjects(source, dest, plan)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(
        /^not enough disk space in .*dest: the copy needs 4\.0 PiB, .* are free; nothing was copied$/,
      ),
    });
    expect(await readdir(dir)).toEqual([]);

    await mkdir(join(dir, 'dest'));
    await writeFile(join(dir, 'dest', 'huge.bin'), 'kept');
    const result = await copyObjects(source, dest, plan, { noClobber: true });
    expect(result.skipped.map((s) => s.destKey)).toEqual(['huge.bin']);
    expect(await readFile(join(dir, 'dest', 'huge.bin'), 'utf8')).toBe('kept');
  });
});

/** A store whose look-ups miss: what `noClobber` meets when an object is created right after it looked. */
class LateMemoryDriver extends MemoryDriver {
  override async stat(): Promise<undefined> {
    return undefined;
  }
}

async function text(store: MemoryDriver, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('copyObjects with noClobber', () => {
  it('skips a destination that appears after its look-up: the write is conditional', async () => {
    const source = new MemoryDriver();
    const dest = new LateMemoryDriver();
    await source.write('a.txt', Buffer.from('new'));
    await source.write('b.txt', Buffer.from('new b'));
    await dest.write('a.txt', Buffer.from('old'));
    const events: CopyEvent[] = [];
    const result = await copyObjects(source, dest, await planTreeCopy(source, '', dest, ''), {
      noClobber: true,
      onEvent: (e) => events.push(e),
    });
    expect(result.skipped.map((s) => s.destKey)).toEqual(['a.txt']);
    expect(result.done.map((d) => d.destKey)).toEqual(['b.txt']);
    expect(result.failed).toEqual([]);
    expect(await text(dest, 'a.txt')).toBe('old');
    expect(events.filter((e) => e.type === 'file-skipped')).toEqual([
      expect.objectContaining({ key: 'a.txt', destKey: 'a.txt', size: 3 }),
    ]);
  });

  it('skips a local file that appears while it downloads: the final rename re-checks', async () => {
    const source = new MemoryDriver();
    await source.write('a.txt', Buffer.from('remote'));
    let lookups = 0;
    // The first look-up (before the download) misses; the file is there by the time the download ends.
    const dest = new (class extends LocalDriver {
      override async stat(key: string) {
        if (lookups++ === 0) {
          await writeFile(join(dir, key), 'local');
          return undefined;
        }
        return super.stat(key);
      }
    })({ root: dir });
    const result = await copyObjects(source, dest, await planTreeCopy(source, '', dest, ''), {
      noClobber: true,
    });
    expect(result.skipped.map((s) => s.destKey)).toEqual(['a.txt']);
    expect(result.failed).toEqual([]);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('local');
  });
});

describe('copyObjects with sha256Metadata', () => {
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('stores the SHA-256 of files uploaded from a local folder, small and past the in-memory size', async () => {
    const small = randomBytes(1000);
    const big = randomBytes(HASH_IN_MEMORY_MAX_BYTES + 1);
    await writeFile(join(dir, 'small.bin'), small);
    await writeFile(join(dir, 'big.bin'), big);
    const source = new LocalDriver({ root: dir });
    const dest = new MemoryDriver();
    const result = await copyObjects(source, dest, await planTreeCopy(source, '', dest, ''), {
      sha256Metadata: true,
    });
    expect(result.failed).toEqual([]);
    expect((await dest.stat('small.bin'))?.metadata).toEqual({ 'wharf-sha256': sha256(small) });
    expect((await dest.stat('big.bin'))?.metadata).toEqual({ 'wharf-sha256': sha256(big) });
  });

  it('reads a file up to sha256InMemoryMaxBytes once, a bigger one twice (hashed, then sent)', async () => {
    await writeFile(join(dir, 'small.bin'), randomBytes(1024));
    await writeFile(join(dir, 'big.bin'), randomBytes(1025));
    const reads: string[] = [];
    const source = new (class extends LocalDriver {
      override async read(key: string, options?: ReadOptions) {
        reads.push(key);
        return super.read(key, options);
      }
    })({ root: dir });
    const dest = new MemoryDriver();
    const result = await copyObjects(source, dest, await planTreeCopy(source, '', dest, ''), {
      sha256Metadata: true,
      sha256InMemoryMaxBytes: 1024,
    });
    expect(result.failed).toEqual([]);
    expect(reads.sort()).toEqual(['big.bin', 'big.bin', 'small.bin']);
    expect((await dest.stat('big.bin'))?.metadata).toEqual({
      'wharf-sha256': sha256(await readFile(join(dir, 'big.bin'))),
    });
  });

  it('fails with CONFLICT, storing nothing, when a big file changes between its hashing and its upload', async () => {
    await writeFile(join(dir, 'big.bin'), randomBytes(HASH_IN_MEMORY_MAX_BYTES + 1));
    let reads = 0;
    const source = new (class extends LocalDriver {
      override async read(key: string, options?: ReadOptions) {
        if (reads++ === 1) await writeFile(join(dir, key), randomBytes(HASH_IN_MEMORY_MAX_BYTES + 1));
        return super.read(key, options);
      }
    })({ root: dir });
    const dest = new MemoryDriver();
    const result = await copyObjects(source, dest, await planTreeCopy(source, '', dest, ''), {
      sha256Metadata: true,
      attempts: 1,
    });
    expect(result.failed).toEqual([
      expect.objectContaining({ destKey: 'big.bin', error: expect.objectContaining({ code: 'CONFLICT' }) }),
    ]);
    expect(await dest.stat('big.bin')).toBeUndefined();
  });
});

describe('copyObjects options', () => {
  it('takes an option passed as undefined as its default', async () => {
    const source = new MemoryDriver();
    const dest = new MemoryDriver();
    for (const key of ['a.txt', 'b/c.txt']) await source.write(key, Buffer.from(key));
    const plan = await planTreeCopy(source, '', dest, 'copy/', undefined);
    const result = await copyObjects(source, dest, plan, {
      concurrency: undefined,
      partConcurrency: undefined,
      partSize: undefined,
      attempts: undefined,
      sha256Metadata: undefined,
      noClobber: undefined,
      signal: undefined,
      onEvent: undefined,
    });
    expect(result.failed).toEqual([]);
    expect(result.done.map((d) => d.destKey).sort()).toEqual(['copy/a.txt', 'copy/b/c.txt']);
    expect(await text(dest, 'copy/b/c.txt')).toBe('b/c.txt');
  });
});

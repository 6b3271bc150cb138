import { link, mkdir, mkdtemp, rm, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partialBaseName } from './download-file.js';
import { assertFreeSpace, heldByPartials, spaceNeededFor } from './free-space.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-free-space-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const wording = { what: 'the copy', outcome: 'nothing was copied', hint: 'free some space' };
const freeBytes = async (): Promise<number> => {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
};

describe('heldByPartials', () => {
  it('counts the space partials of ranged objects take, at most each object, and nothing for small ones', async () => {
    await writeFile(join(dir, `${partialBaseName('big')}.part`), Buffer.alloc(64 * 1024, 1));
    await writeFile(join(dir, `${partialBaseName('shrunk')}.part`), Buffer.alloc(64 * 1024, 1));
    await writeFile(join(dir, `${partialBaseName('small')}.part`), Buffer.alloc(64 * 1024, 1));
    const objects = [
      { key: 'big', size: 1024 * 1024 },
      { key: 'shrunk', size: 40 * 1024 },
      { key: 'small', size: 16 * 1024 },
      { key: 'none', size: 1024 * 1024 },
    ];
    const held = await heldByPartials(dir, objects, 32 * 1024);
    // `big` holds its 64 KiB (tmpfs or a disk may round up to its pages), `shrunk` no more than its size.
    expect(held).toBeGreaterThanOrEqual(64 * 1024 + 40 * 1024);
    expect(held).toBeLessThanOrEqual(64 * 1024 + 8 * 1024 + 40 * 1024);
  });
});

describe('spaceNeededFor', () => {
  const KiB = 1024;
  /** Writes `bytes` at `name` in the test folder and answers what it takes on this disk (pages rounded up). */
  const fileOf = async (name: string, bytes: number): Promise<number> => {
    await writeFile(join(dir, name), Buffer.alloc(bytes, 1));
    return (await stat(join(dir, name))).blocks * 512;
  };
  const download = (name: string, size: number) => ({ key: `k/${name}`, size, path: join(dir, name) });
  let options: { partialDir: string; rangeThreshold: number; concurrency: number };
  beforeEach(() => {
    options = { partialDir: join(dir, 'partials'), rangeThreshold: 32 * KiB, concurrency: 2 };
  });

  it('counts new files whole', async () => {
    const needed = await spaceNeededFor([download('a', 100 * KiB), download('b', 28 * KiB)], options);
    expect(needed).toBe(128 * KiB);
  });

  it('counts a replaced file as freed, but the biggest `concurrency` of them once more, as in flight beside their new versions', async () => {
    const taken = [await fileOf('a', 64 * KiB), await fileOf('b', 128 * KiB), await fileOf('c', 256 * KiB)];
    expect(taken).toEqual([64 * KiB, 128 * KiB, 256 * KiB]);
    const all = [download('a', 64 * KiB), download('b', 128 * KiB), download('c', 256 * KiB)];
    // Same sizes: nothing is added in the end; while two are in flight, the two biggest old files remain.
    expect(await spaceNeededFor(all, options)).toBe(384 * KiB);
    expect(await spaceNeededFor(all, { ...options, concurrency: 1 })).toBe(256 * KiB);
    expect(await spaceNeededFor(all, { ...options, concurrency: 8 })).toBe(448 * KiB);
    // A file that grows adds its growth; one that shrinks frees nothing counted, and holds at most its new size.
    expect(await spaceNeededFor([download('a', 96 * KiB)], options)).toBe(96 * KiB);
    expect(await spaceNeededFor([download('c', 16 * KiB)], options)).toBe(16 * KiB);
  });

  it('does not count what a resumable partial already holds', async () => {
    await mkdir(options.partialDir);
    await writeFile(join(options.partialDir, `${partialBaseName('k/big')}.part`), Buffer.alloc(64 * KiB, 1));
    await fileOf('old', 64 * KiB);
    // 256 KiB, 64 KiB already in the partial; the old 64 KiB file goes when it lands, but stays while it downloads.
    expect(await spaceNeededFor([download('big', 256 * KiB)], options)).toBe(256 * KiB - 64 * KiB);
    await rm(join(dir, 'old'));
    expect(await spaceNeededFor([download('big', 256 * KiB)], options)).toBe(256 * KiB - 64 * KiB);
  });

  it('counts nothing for a file that is kept (keepExisting)', async () => {
    await fileOf('kept', 64 * KiB);
    const both = [download('kept', 128 * KiB), download('fresh', 32 * KiB)];
    expect(await spaceNeededFor(both, { ...options, keepExisting: true })).toBe(32 * KiB);
    expect(await spaceNeededFor(both, options)).toBe(128 * KiB - 64 * KiB + 64 * KiB + 32 * KiB);
  });

  it('counts a symlink or a file with other hard links at the target as nothing freed (the rename frees no blocks)', async () => {
    await fileOf('real', 64 * KiB);
    await symlink(join(dir, 'real'), join(dir, 'linked'));
    await link(join(dir, 'real'), join(dir, 'twin'));
    // One at a time: a replaced regular file would be counted as freed once its download is done.
    const both = [download('linked', 64 * KiB), download('twin', 64 * KiB)];
    expect(await spaceNeededFor(both, { ...options, concurrency: 1 })).toBe(128 * KiB);
    // Kept (cp --no-clobber) when the link leads to a file, not when it leads nowhere.
    expect(await spaceNeededFor([download('linked', 64 * KiB)], { ...options, keepExisting: true })).toBe(0);
    await symlink(join(dir, 'gone'), join(dir, 'dangling'));
    expect(await spaceNeededFor([download('dangling', 32 * KiB)], { ...options, keepExisting: true })).toBe(
      32 * KiB,
    );
  });

  it('counts a folder where the file goes as nothing freed', async () => {
    await mkdir(join(dir, 'folder'));
    expect(await spaceNeededFor([download('folder', 32 * KiB)], options)).toBe(32 * KiB);
  });
});

describe('assertFreeSpace', () => {
  it('passes what fits and nothing at all', async () => {
    await assertFreeSpace(dir, 1, wording);
    await assertFreeSpace(dir, 0, wording);
    await assertFreeSpace(dir, -5, wording);
  });

  it('refuses more than is free with one line: where, how much, and what to do', async () => {
    const error = await assertFreeSpace(dir, 2 * (await freeBytes()), wording).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'IO',
      message: expect.stringMatching(
        new RegExp(
          `^not enough disk space in ${dir}: the copy needs \\S+ \\S+, \\S+ \\S+ are free; nothing was copied$`,
        ),
      ),
      hint: 'free some space',
    });
  });

  it('measures a folder that does not exist yet at its nearest existing parent', async () => {
    const missing = join(dir, 'a', 'b');
    await expect(assertFreeSpace(missing, 2 * (await freeBytes()), wording)).rejects.toThrow(
      `not enough disk space in ${missing}:`,
    );
    await assertFreeSpace(missing, 1, wording);
  });
});

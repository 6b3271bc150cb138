import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partialBaseName } from './download-file.js';
import { assertFreeSpace, heldByPartials } from './free-space.js';

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

import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDir } from './make-dir.js';

describe('makeDir', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wharf-make-dir-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates missing parents, and accepts a folder that is already there', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeDir(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await makeDir(deep);
    await makeDir(join(root, 'a'));
  });

  it('creates the same folders from many callers at once', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => makeDir(join(root, 'race', 'x', String(i % 3)))));
    for (const i of [0, 1, 2]) expect(existsSync(join(root, 'race', 'x', String(i)))).toBe(true);
  });

  it('applies the mode to the folders it creates', async () => {
    const private_ = join(root, 'private', 'inner');
    await makeDir(private_, { mode: 0o700 });
    expect((await stat(private_)).mode & 0o777).toBe(0o700);
  });

  it('accepts a link to a folder, refuses a file or a dangling link', async () => {
    await makeDir(join(root, 'target'));
    await symlink(join(root, 'target'), join(root, 'link'));
    await makeDir(join(root, 'link', 'inside'));
    expect(existsSync(join(root, 'target', 'inside'))).toBe(true);

    await writeFile(join(root, 'file'), 'x');
    await expect(makeDir(join(root, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDir(join(root, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });

    await symlink(join(root, 'nowhere'), join(root, 'dangling'));
    await expect(makeDir(join(root, 'dangling'))).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it.skipIf(!existsSync('/proc/self'))(
    'gives up with ENOENT under /proc, where Node’s recursive mkdir spins forever',
    async () => {
      await expect(makeDir('/proc/wharf-no-such/x')).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );
});

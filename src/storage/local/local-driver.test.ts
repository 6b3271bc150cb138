import { appendFile, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeDriverConformance } from '../conformance/describe-driver-conformance.js';
import { LocalDriver } from './local-driver.js';

describeDriverConformance(
  'local',
  async () => {
    const base = await mkdtemp(join(tmpdir(), 'wharf-local-'));
    const root = join(base, 'store');
    await mkdir(root);
    return {
      driver: new LocalDriver({ root }),
      missingStore: async () => new LocalDriver({ root: join(base, 'does-not-exist') }),
      cleanup: () => rm(base, { recursive: true, force: true }),
    };
  },
  {
    extraTests: (get) => {
      it('leaves no temporary files behind and prunes emptied folders', async () => {
        const driver = get().driver;
        const root = driver.name;
        await driver.write('tidy/a/b/file.txt', Buffer.from('x'));
        expect(await readdir(join(root, 'tidy/a/b'))).toEqual(['file.txt']);
        await driver.delete(['tidy/a/b/file.txt']);
        expect(await readdir(root)).not.toContain('tidy');
      });

      it('writes, copies and conditionally replaces a file whose name takes all 255 bytes a name may have', async () => {
        const driver = get().driver;
        const root = driver.name;
        const long = `limit/${'é'.repeat(127)}x`; // 255 bytes
        const first = await driver.write(long, Buffer.from('one'), { ifNoneMatch: '*' });
        await driver.write(long, Buffer.from('two'), { ifMatch: first.etag });
        await driver.copy?.(long, `${long.slice(0, -1)}y`);
        expect((await readdir(join(root, 'limit'))).sort()).toEqual(
          [`${'é'.repeat(127)}x`, `${'é'.repeat(127)}y`].sort(),
        );
        expect((await driver.stat(`${long.slice(0, -1)}y`))?.size).toBe(3);
      });

      it('refuses to write through a symbolic link that leads outside the store', async () => {
        const driver = get().driver;
        const root = driver.name;
        const outside = await mkdtemp(join(tmpdir(), 'wharf-outside-'));
        await symlink(outside, join(root, 'escape-link'));
        await expect(driver.write('escape-link/evil.txt', Buffer.from('x'))).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
        expect(await readdir(outside)).toEqual([]);
        await rm(join(root, 'escape-link'));
        await rm(outside, { recursive: true });
      });

      it('stores names up to 255 bytes (temp and lock names stay short); a longer name is INVALID_KEY, absent to read', async () => {
        const driver = get().driver;
        const root = driver.name;
        const fits = `${'é'.repeat(125)}.txt`; // 254 bytes
        await driver.write(`long/${fits}`, Buffer.from('a'));
        const info = await driver.write(`long/${fits}`, Buffer.from('bb'), {
          ifMatch: (await driver.stat(`long/${fits}`))!.etag!,
        });
        expect(info.size).toBe(2);
        expect(await readdir(join(root, 'long'))).toEqual([fits]);
        const tooLong = `long/${'é'.repeat(128)}`; // 256 bytes
        await expect(driver.write(tooLong, Buffer.from('x'))).rejects.toMatchObject({
          code: 'INVALID_KEY',
          message: expect.stringMatching(/a name in it is longer than the local store's file system allows/),
        });
        await expect(driver.write(`${'é'.repeat(128)}/x`, Buffer.from('x'))).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
        expect(await driver.stat(tooLong)).toBeUndefined();
        await expect(driver.read(tooLong)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await driver.delete([tooLong, `long/${fits}`]);
        expect(await readdir(root)).not.toContain('long');
      });

      it('refuses a key whose parent is a file', async () => {
        const driver = get().driver;
        await writeFile(join(driver.name, 'plainfile'), 'x');
        await expect(driver.write('plainfile/child', Buffer.from('x'))).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
      });

      it('lists a symlinked file but never walks into a symlinked folder, and never deletes through one', async () => {
        const driver = get().driver;
        const root = driver.name;
        const outside = await mkdtemp(join(tmpdir(), 'wharf-outside-'));
        await writeFile(join(outside, 'precious.txt'), 'keep');
        await mkdir(join(root, 'links'));
        await writeFile(join(root, 'links/own.txt'), 'own');
        await symlink(outside, join(root, 'links/away'));
        await symlink(join(outside, 'precious.txt'), join(root, 'links/file-link.txt'));
        await symlink('..', join(root, 'links/loop'));
        const keys: string[] = [];
        for await (const o of driver.list('links/')) keys.push(o.key);
        expect(keys).toEqual(['links/file-link.txt', 'links/own.txt']);
        await expect(driver.delete(['links/away/precious.txt'])).rejects.toMatchObject({
          message: expect.stringMatching(/symbolic link that leads outside the store/) as unknown,
        });
        await driver.delete(keys); // the file link goes, not the file it points to
        expect(await readdir(outside)).toEqual(['precious.txt']);
        await rm(join(root, 'links'), { recursive: true });
        await rm(outside, { recursive: true });
      });

      it('refuses a key that is a folder of other keys, and deleting it deletes nothing', async () => {
        const driver = get().driver;
        await driver.write('shelf/inner.txt', Buffer.from('kept'));
        const refused = { code: 'INVALID_KEY', message: expect.stringMatching(/"shelf".*folder/) as unknown };
        await expect(driver.write('shelf', Buffer.from('x'))).rejects.toMatchObject(refused);
        if (!driver.copy) throw new Error('the local driver has copy');
        await expect(driver.copy('shelf/inner.txt', 'shelf')).rejects.toMatchObject(refused);
        await driver.delete(['shelf']);
        expect((await driver.stat('shelf/inner.txt'))?.size).toBe(4);
        expect(await readdir(driver.name)).not.toContainEqual(expect.stringMatching(/\.tmp$|wharf-tmp/));
      });
    },
  },
);

it('a file or folder whose name is not UTF-8 stops the listing with an error naming it, rather than being left out', async () => {
  const base = await mkdtemp(join(tmpdir(), 'wharf-local-latin1-'));
  try {
    await writeFile(join(base, 'readme.txt'), 'y');
    await mkdir(Buffer.from(`${base}/caf\xe9`, 'latin1'));
    await writeFile(Buffer.from(`${base}/caf\xe9/d.csv`, 'latin1'), '1');
    const listing = async () => {
      for await (const _ of new LocalDriver({ root: base }).list('')) void _;
    };
    await expect(listing()).rejects.toMatchObject({
      code: 'INVALID_KEY',
      message: expect.stringContaining('its name is not valid UTF-8') as unknown,
    });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

it('a read fails at its end when the file was written to meanwhile, and not when it was replaced by a rename', async () => {
  const base = await mkdtemp(join(tmpdir(), 'wharf-local-torn-'));
  try {
    const driver = new LocalDriver({ root: base });
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    await writeFile(join(base, 'f.bin'), body);
    const rewritten = await driver.read('f.bin');
    const chunks: Buffer[] = [];
    const reading = (async () => {
      for await (const chunk of rewritten) {
        if (chunks.length === 0) await appendFile(join(base, 'f.bin'), 'more');
        chunks.push(chunk as Buffer);
      }
    })();
    await expect(reading).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `${join(base, 'f.bin')} changed while it was being read`,
    });

    await writeFile(join(base, 'f.bin'), body);
    const replaced = await driver.read('f.bin');
    let first = true;
    let size = 0;
    for await (const chunk of replaced) {
      if (first)
        await writeFile(join(base, 'g.bin'), 'other').then(() =>
          rename(join(base, 'g.bin'), join(base, 'f.bin')),
        );
      first = false;
      size += (chunk as Buffer).length;
    }
    expect(size).toBe(body.length);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

import { createHash } from 'node:crypto';
import type * as NodeFs from 'node:fs';
import type { Stats } from 'node:fs';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IgnoreRules } from './ignore-rules.js';
import { loadStatCache, saveStatCache, scanFolder, sha256File, type StatCacheEntry } from './scan-folder.js';

// Lets a test make chosen files look as if they changed on each lstat (a file being written during the scan).
const drift = vi.hoisted(() => ({ names: new Map<string, number>() }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  const lstatSync = ((path: string, options?: object) => {
    const result = fs.lstatSync(path, options) as Stats | undefined;
    const name = String(path).split(/[\\/]/).pop() ?? '';
    const left = drift.names.get(name);
    if (result === undefined || left === undefined || left === 0) return result;
    drift.names.set(name, left - 1);
    return Object.assign(Object.create(Object.getPrototypeOf(result) as object) as Stats, result, {
      mtimeMs: result.mtimeMs + 1000 * (left + 1),
    });
  }) as typeof fs.lstatSync;
  return { ...fs, default: { ...fs, lstatSync }, lstatSync };
});

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const noRules = IgnoreRules.fromText('');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-scan-'));
  drift.names.clear();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), content);
}

async function scan(options: { rules?: IgnoreRules; statCache?: Map<string, StatCacheEntry> } = {}) {
  const hashedPaths: string[] = [];
  const result = await scanFolder(dir, {
    rules: options.rules ?? noRules,
    statCache: options.statCache ?? new Map(),
    onHashed: (path) => hashedPaths.push(path),
  });
  return { ...result, hashedPaths: hashedPaths.sort() };
}

const isRoot = process.getuid?.() === 0;

describe('scanFolder', () => {
  it('lists nested files with /-separated paths and their SHA-256', async () => {
    await put('a.txt', 'alpha');
    await put('x/y/z/deep.csv', 'deep');
    await put('x/b.txt', '');
    const result = await scan();
    expect([...result.files.keys()].sort()).toEqual(['a.txt', 'x/b.txt', 'x/y/z/deep.csv']);
    expect(result.files.get('x/y/z/deep.csv')).toMatchObject({ size: 4, sha256: sha('deep') });
    expect(result.files.get('x/b.txt')).toMatchObject({ size: 0, sha256: sha('') });
    expect(result.hashed).toBe(3);
    expect(result.hashedBytes).toBe(9);
    expect(result.warnings).toEqual([]);
    expect([...result.statCache.keys()].sort()).toEqual([...result.files.keys()].sort());
  });

  it('handles an empty folder', async () => {
    const result = await scan();
    expect(result.files.size).toBe(0);
    expect(result.warnings).toEqual([]);
    expect(result.hashed).toBe(0);
  });

  it('keeps unicode and spaces in names', async () => {
    await put('Entwürfe/größe 1.txt', 'ü');
    await put('数据 集/报告 final.csv', 'x');
    const result = await scan();
    expect([...result.files.keys()].sort()).toEqual(['Entwürfe/größe 1.txt', '数据 集/报告 final.csv']);
    expect(result.files.get('Entwürfe/größe 1.txt')?.sha256).toBe(sha('ü'));
  });

  it('leaves out ignored files and the built-ins', async () => {
    await put('keep.txt', 'k');
    await put('a.log', 'l');
    await put('.DS_Store', 'junk');
    await put('.wharf/stat-cache.json', '{}');
    await put('.wharfignore', '*.log\n');
    const result = await scan({ rules: IgnoreRules.fromText('*.log\n') });
    expect([...result.files.keys()].sort()).toEqual(['.wharfignore', 'keep.txt']);
  });

  it('does not descend into an ignored folder', async () => {
    await put('build/out.bin', 'o');
    await symlink(join(dir, 'build/out.bin'), join(dir, 'build/link')); // would warn if visited
    await put('src/main.c', 'm');
    const result = await scan({ rules: IgnoreRules.fromText('build/\n') });
    expect([...result.files.keys()]).toEqual(['src/main.c']);
    expect(result.warnings).toEqual([]);
  });

  it.skipIf(isRoot)('does not even list an unreadable folder inside an ignored one', async () => {
    await put('build/secret/x.bin', 'x');
    await chmod(join(dir, 'build/secret'), 0o000);
    try {
      const result = await scan({ rules: IgnoreRules.fromText('build/\n') });
      expect(result.warnings).toEqual([]);
    } finally {
      await chmod(join(dir, 'build/secret'), 0o755);
    }
  });

  it.skipIf(isRoot)('reports an unreadable folder as a warning and as incomplete', async () => {
    await put('locked/x.bin', 'x');
    await chmod(join(dir, 'locked'), 0o000);
    try {
      const result = await scan();
      expect(result.warnings).toEqual([expect.stringContaining('locked/')]);
      expect(result.incomplete).toEqual(['locked/']);
    } finally {
      await chmod(join(dir, 'locked'), 0o755);
    }
  });

  it('skips symlinks with a warning and never follows them', async () => {
    await put('real/file.txt', 'r');
    await symlink(join(dir, 'real/file.txt'), join(dir, 'file-link'));
    await symlink(join(dir, 'real'), join(dir, 'folder-link'));
    const result = await scan();
    expect([...result.files.keys()]).toEqual(['real/file.txt']);
    expect(result.warnings.sort()).toEqual([
      expect.stringMatching(/^file-link: .*symlink/),
      expect.stringMatching(/^folder-link: .*symlink/),
    ]);
    // Left alone, with everything below them: nothing is synced through a symlink, nor taken for deleted.
    expect(result.incomplete.sort()).toEqual(['file-link', 'file-link/', 'folder-link', 'folder-link/']);
  });

  it('leaves out a name that cannot be an object key, as refused (not a mere warning)', async () => {
    await put('back\\slash.txt', 'b');
    await put('bad\\folder/inside.txt', 'i');
    await put('ok.txt', 'o');
    const result = await scan();
    expect([...result.files.keys()]).toEqual(['ok.txt']);
    expect(result.warnings).toEqual([]);
    expect(result.refused.map((r) => [r.path, r.error.code, r.error.reason])).toEqual(
      expect.arrayContaining([
        ['back\\slash.txt', 'INVALID_KEY', expect.stringMatching(/backslash/)],
        ['bad\\folder/', 'INVALID_KEY', expect.stringMatching(/backslash/)],
      ]),
    );
    expect(result.refused).toHaveLength(2);
    expect(result.refused[0]!.error.hint).toMatch(/rename it, or list it in \.wharfignore/);
  });

  it.runIf(process.platform === 'linux')('refuses a name that is not valid UTF-8', async () => {
    const bad = Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);
    await writeFile(bad, 'x');
    const result = await scan();
    expect(result.files.size).toBe(0);
    expect(result.warnings).toEqual([]);
    expect(result.refused.map((r) => r.error.reason)).toEqual(['its name is not valid UTF-8']);
  });
});

describe('scanFolder with a stat cache', () => {
  it('does not read a file whose size, mtime and inode are unchanged', async () => {
    await put('a.txt', 'alpha');
    await put('sub/b.txt', 'beta');
    const first = await scan();
    const second = await scan({ statCache: first.statCache });
    expect(second.hashedPaths).toEqual([]);
    expect(second.hashed).toBe(0);
    expect(second.files).toEqual(first.files);
  });

  it('re-hashes a file with the same size and a new mtime', async () => {
    await put('a.txt', 'alpha');
    const first = await scan();
    await put('a.txt', 'ALPHA');
    const later = new Date((first.files.get('a.txt')?.mtimeMs ?? 0) + 5000);
    await utimes(join(dir, 'a.txt'), later, later);
    const second = await scan({ statCache: first.statCache });
    expect(second.hashedPaths).toEqual(['a.txt']);
    expect(second.files.get('a.txt')?.sha256).toBe(sha('ALPHA'));
  });

  it('re-hashes a file replaced by another inode with the same size and mtime', async () => {
    const when = new Date('2024-01-02T03:04:05Z');
    await put('a.txt', 'alpha');
    await utimes(join(dir, 'a.txt'), when, when);
    await put('other.txt', 'omega');
    const first = await scan();
    await put('replacement.tmp', 'ALPHA');
    await utimes(join(dir, 'replacement.tmp'), when, when);
    await rename(join(dir, 'replacement.tmp'), join(dir, 'a.txt'));
    const before = first.statCache.get('a.txt');
    const now = await stat(join(dir, 'a.txt'));
    expect(now.ino).not.toBe(before?.ino);
    expect([now.size, now.mtimeMs]).toEqual([before?.size, before?.mtimeMs]);
    const second = await scan({ statCache: first.statCache });
    expect(second.hashedPaths).toEqual(['a.txt']);
    expect(second.files.get('a.txt')?.sha256).toBe(sha('ALPHA'));
  });

  it('forgets deleted files in the new cache', async () => {
    await put('a.txt', 'a');
    await put('b.txt', 'b');
    const first = await scan();
    await rm(join(dir, 'b.txt'));
    const second = await scan({ statCache: first.statCache });
    expect([...second.statCache.keys()]).toEqual(['a.txt']);
  });
});

describe('scanFolder with files that change while they are read', () => {
  it('hashes a file again when it changed during the first read', async () => {
    await put('moving.bin', 'm');
    drift.names.set('moving.bin', 1); // its stat before the first read differs from the one after
    const result = await scan();
    expect(result.files.get('moving.bin')?.sha256).toBe(sha('m'));
    expect(result.hashedBytes).toBe(2);
    expect(result.warnings).toEqual([]);
  });

  it('leaves out a file that keeps changing, with a warning', async () => {
    await put('moving.bin', 'm');
    await put('still.bin', 's');
    drift.names.set('moving.bin', 100);
    const result = await scan();
    expect([...result.files.keys()]).toEqual(['still.bin']);
    expect(result.statCache.has('moving.bin')).toBe(false);
    expect(result.warnings).toEqual([expect.stringMatching(/^moving\.bin: .*kept changing/)]);
    expect(result.incomplete).toEqual(['moving.bin']);
  });
});

describe('scanFolder cancellation', () => {
  it('stops when the signal fires', async () => {
    await put('a.txt', 'a');
    const controller = new AbortController();
    controller.abort();
    await expect(
      scanFolder(dir, { rules: noRules, statCache: new Map(), signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('stat cache file', () => {
  it('round-trips through saveStatCache and loadStatCache', async () => {
    const cache = new Map<string, StatCacheEntry>([
      ['a/b c.txt', { size: 3, mtimeMs: 1700000000123.456, ino: 42, sha256: sha('abc') }],
      ['__proto__', { size: 0, mtimeMs: 1, ino: 7, sha256: sha('') }],
      ['数据.csv', { size: 9, mtimeMs: 2, ino: 8, sha256: sha('x') }],
    ]);
    const file = join(dir, '.wharf', 'stat-cache.json');
    await saveStatCache(file, cache);
    expect(await loadStatCache(file)).toEqual(cache);
    expect(await readdir(join(dir, '.wharf'))).toEqual(['stat-cache.json']); // no temp file left
  });

  it('gives an empty map for a missing file', async () => {
    expect((await loadStatCache(join(dir, 'nope.json'))).size).toBe(0);
  });

  it.each([
    ['not JSON', '{"format": "wharf-stat-cache", "vers'],
    ['another format', '{"format": "other", "version": 1, "entries": {}}'],
    ['a bad entry', '{"format": "wharf-stat-cache", "version": 1, "entries": {"a": [1, 2, 3, "zz"]}}'],
    ['null', 'null'],
  ])('gives an empty map for a corrupt file (%s)', async (_label, text) => {
    const file = join(dir, 'cache.json');
    await writeFile(file, text);
    expect((await loadStatCache(file)).size).toBe(0);
  });
});

describe('sha256File', () => {
  it('hashes content larger than one read', async () => {
    const content = 'x'.repeat(1024 * 1024 * 2 + 17);
    await put('big.bin', content);
    expect(await sha256File(join(dir, 'big.bin'))).toEqual({ sha256: sha(content), size: content.length });
  });
});

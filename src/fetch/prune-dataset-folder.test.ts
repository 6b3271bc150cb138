import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteFromDatasetFolder, filesOutsideSelection } from './prune-dataset-folder.js';

let base: string;
let dataset: string;
let outside: string;

async function put(relative: string, text = relative): Promise<void> {
  const path = join(dataset, ...relative.split('/'));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'wharf-prune-'));
  dataset = join(base, 'dataset');
  outside = join(base, 'outside');
  await mkdir(dataset);
  await mkdir(join(outside, 'deep'), { recursive: true });
  await writeFile(join(outside, 'secret.txt'), 'not yours');
  await writeFile(join(outside, 'deep', 'more.txt'), 'not yours either');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('filesOutsideSelection', () => {
  it('lists the files not in the keep set, sorted, with / separators', async () => {
    for (const f of ['keep.txt', 'z-extra.txt', 'a/keep.bin', 'a/old.bin', 'a/b/c/stale.csv', 'b/only.txt'])
      await put(f);
    const keep = new Set(['keep.txt', 'a/keep.bin']);
    expect(await filesOutsideSelection(dataset, keep)).toEqual([
      'a/b/c/stale.csv',
      'a/old.bin',
      'b/only.txt',
      'z-extra.txt',
    ]);
  });

  it('never lists the .wharf state folder at the top, but does list a nested folder of that name', async () => {
    await put('.wharf/index.json');
    await put('.wharf/tmp/x.tmp');
    await put('.wharf/partial/abc.part');
    await put('sub/.wharf/data.txt');
    await put('.wharfish');
    expect(await filesOutsideSelection(dataset, new Set())).toEqual(['.wharfish', 'sub/.wharf/data.txt']);
  });

  it('lists a symlinked folder as one entry and never walks into it', async () => {
    await put('real.txt');
    await symlink(outside, join(dataset, 'escape'));
    await mkdir(join(dataset, 'nested'));
    await symlink(join(outside, 'deep'), join(dataset, 'nested', 'link'));
    await symlink(join(outside, 'secret.txt'), join(dataset, 'file-link'));

    const listed = await filesOutsideSelection(dataset, new Set(['real.txt']));
    expect(listed).toEqual(['escape', 'file-link', 'nested/link']);
    expect(listed.some((p) => p.includes('secret') || p.includes('more'))).toBe(false);
  });

  it('gives nothing for a dataset folder that does not exist', async () => {
    expect(await filesOutsideSelection(join(base, 'nope'), new Set())).toEqual([]);
  });

  it('gives nothing when everything is kept', async () => {
    await put('a/1');
    await put('2');
    expect(await filesOutsideSelection(dataset, new Set(['a/1', '2']))).toEqual([]);
  });
});

describe('deleteFromDatasetFolder', () => {
  it('deletes the files and the folders they leave empty, keeping folders that still hold something', async () => {
    for (const f of ['keep.txt', 'a/b/c/stale.csv', 'a/b/keep.bin', 'x/y/z/gone.txt', 'x/y/z/gone2.txt'])
      await put(f);
    await mkdir(join(dataset, 'was-empty-before'));

    await deleteFromDatasetFolder(dataset, ['a/b/c/stale.csv', 'x/y/z/gone.txt', 'x/y/z/gone2.txt']);

    expect(await exists(join(dataset, 'a', 'b', 'c'))).toBe(false);
    expect(await readdir(join(dataset, 'a', 'b'))).toEqual(['keep.bin']);
    // A whole branch emptied by the deletion goes away, up to (not including) the dataset folder.
    expect(await exists(join(dataset, 'x'))).toBe(false);
    expect((await readdir(dataset)).sort()).toEqual(['a', 'keep.txt', 'was-empty-before']);
  });

  it('keeps a folder that still holds a subfolder with files', async () => {
    await put('p/gone.txt');
    await put('p/q/keep.txt');
    await deleteFromDatasetFolder(dataset, ['p/gone.txt']);
    expect(await readdir(join(dataset, 'p'))).toEqual(['q']);
    expect(await readFile(join(dataset, 'p', 'q', 'keep.txt'), 'utf8')).toBe('p/q/keep.txt');
  });

  it('does not mind files that are already gone', async () => {
    await put('d/present.txt');
    await deleteFromDatasetFolder(dataset, ['d/absent.txt', 'd/present.txt']);
    expect(await exists(join(dataset, 'd'))).toBe(false);
    expect(await exists(dataset)).toBe(true);
  });

  it('removes symlinks themselves, never what they point to', async () => {
    await put('real.txt');
    await symlink(outside, join(dataset, 'escape'));
    await mkdir(join(dataset, 'nested'));
    await symlink(join(outside, 'secret.txt'), join(dataset, 'nested', 'file-link'));

    const stale = await filesOutsideSelection(dataset, new Set(['real.txt']));
    await deleteFromDatasetFolder(dataset, stale);

    expect(await readdir(dataset)).toEqual(['real.txt']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('not yours');
    expect(await readFile(join(outside, 'deep', 'more.txt'), 'utf8')).toBe('not yours either');
  });

  it('lists and deletes nothing of the state folder', async () => {
    await put('.wharf/index.json', '{}');
    await put('old.txt');
    const stale = await filesOutsideSelection(dataset, new Set());
    await deleteFromDatasetFolder(dataset, stale);
    expect(await readdir(dataset)).toEqual(['.wharf']);
    expect(await readFile(join(dataset, '.wharf', 'index.json'), 'utf8')).toBe('{}');
  });
});

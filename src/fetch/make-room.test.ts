import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRoomMaker } from './make-room.js';

let base: string;
let datasetDir: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'wharf-folder-way-'));
  datasetDir = join(base, 'ds');
  await mkdir(datasetDir);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const clear = (relativeKey: string, keep: string[] = [], deleteOthers = false): Promise<void> =>
  createRoomMaker({ datasetDir, keep: new Set(keep), deleteOthers })(relativeKey);

describe('createRoomMaker: a folder where the file belongs', () => {
  it('leaves a missing path and a file alone', async () => {
    await clear('none.csv');
    await writeFile(join(datasetDir, 'file.csv'), 'x');
    await clear('file.csv');
    expect(existsSync(join(datasetDir, 'file.csv'))).toBe(true);
  });

  it('removes a folder that holds only folders', async () => {
    await mkdir(join(datasetDir, 'a.csv', 'x', 'y'), { recursive: true });
    await clear('a.csv');
    expect(existsSync(join(datasetDir, 'a.csv'))).toBe(false);
  });

  it('keeps a folder holding a selected key (the download names the clash)', async () => {
    await mkdir(join(datasetDir, 'a'));
    await writeFile(join(datasetDir, 'a', 'b'), 'b');
    await clear('a', ['a', 'a/b'], true);
    expect(existsSync(join(datasetDir, 'a', 'b'))).toBe(true);
  });

  it('refuses a folder with files of its own unless files outside the selection may go', async () => {
    await mkdir(join(datasetDir, 'a.csv'));
    await writeFile(join(datasetDir, 'a.csv', 'notes.md'), 'mine');
    await expect(clear('a.csv', ['a.csv'])).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringContaining('not part of the dataset (e.g. a.csv/notes.md)'),
    });
    expect(existsSync(join(datasetDir, 'a.csv', 'notes.md'))).toBe(true);
    await clear('a.csv', ['a.csv'], true);
    expect(existsSync(join(datasetDir, 'a.csv'))).toBe(false);
  });

  it('never removes anything reached through a link that leads out of the dataset folder', async () => {
    const outside = join(base, 'outside');
    await mkdir(join(outside, 'a.csv', 'empty'), { recursive: true });
    await symlink(outside, join(datasetDir, 'linked'));
    await clear('linked/a.csv', [], true);
    expect(existsSync(join(outside, 'a.csv', 'empty'))).toBe(true);
  });

  it('removes a link in the folder, never what it points to', async () => {
    const outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep.txt'), 'keep');
    await mkdir(join(datasetDir, 'a.csv'));
    await symlink(outside, join(datasetDir, 'a.csv', 'link'));
    await clear('a.csv', [], true);
    expect(existsSync(join(datasetDir, 'a.csv'))).toBe(false);
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
  });
});

describe('createRoomMaker: a file where a folder on the path belongs', () => {
  it('removes a file outside the selection only when others may go, and names it otherwise', async () => {
    await mkdir(join(datasetDir, 'x'));
    await writeFile(join(datasetDir, 'x', 'report'), 'old');
    await expect(clear('x/report/part-1', ['x/report/part-1'])).rejects.toMatchObject({
      code: 'IO',
      message: `${join(datasetDir, 'x', 'report')} is a file locally that is not part of the dataset, where the object needs a folder`,
    });
    expect(existsSync(join(datasetDir, 'x', 'report'))).toBe(true);
    await clear('x/report/part-1', ['x/report/part-1'], true);
    expect(existsSync(join(datasetDir, 'x', 'report'))).toBe(false);
  });

  it('leaves a selected file (a and a/b both selected) and a link to a folder alone', async () => {
    await writeFile(join(datasetDir, 'a'), 'a');
    await clear('a/b', ['a', 'a/b'], true);
    expect(existsSync(join(datasetDir, 'a'))).toBe(true);
    await mkdir(join(datasetDir, 'real'));
    await symlink(join(datasetDir, 'real'), join(datasetDir, 'linked'));
    await clear('linked/c', ['linked/c'], true);
    expect(existsSync(join(datasetDir, 'linked'))).toBe(true);
  });

  it('removes a link to a file, never the file it points to', async () => {
    const outside = join(base, 'outside.txt');
    await writeFile(outside, 'keep');
    await symlink(outside, join(datasetDir, 'd'));
    await clear('d/e', ['d/e'], true);
    expect(existsSync(join(datasetDir, 'd'))).toBe(false);
    expect(existsSync(outside)).toBe(true);
  });
});

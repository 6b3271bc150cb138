import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheIndex, type IndexEntry } from './cache-index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-index-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(path: string, overrides: Partial<IndexEntry> = {}): IndexEntry {
  return {
    path,
    key: `data/${path}`,
    size: 100,
    etag: `"${'a'.repeat(32)}"`,
    lastModified: '2024-01-02T03:04:05.000Z',
    localSize: 100,
    localMtimeMs: 1_704_164_645_000,
    digest: { algorithm: 'md5', value: 'a'.repeat(32) },
    ...overrides,
  };
}

describe('CacheIndex', () => {
  it('starts empty without an index', async () => {
    const index = await CacheIndex.load(dir, 's3://b/data/');
    expect(index.entries.size).toBe(0);
    expect(index.get('x')).toBeUndefined();
    await index.close();
  });

  it('round-trips entries through save and load', async () => {
    const index = await CacheIndex.load(dir, 's3://b/data/');
    const b = entry('b/2.bin', { digest: { algorithm: 'md5', partSize: 8, value: `${'c'.repeat(32)}-3` } });
    const a = entry('a.txt');
    await index.record(b);
    await index.record(a);
    expect(index.get('a.txt')).toEqual(a);
    await index.save();
    await index.close();

    // The journal was folded into the index.
    expect((await readdir(dir)).sort()).toEqual(['index.json']);
    const file = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      version: number;
      source: string;
      entries: IndexEntry[];
    };
    expect(file.version).toBe(1);
    expect(file.source).toBe('s3://b/data/');
    expect(file.entries.map((e) => e.path)).toEqual(['a.txt', 'b/2.bin']);

    const reloaded = await CacheIndex.load(dir, 's3://b/data/');
    expect(reloaded.entries.size).toBe(2);
    expect(reloaded.get('a.txt')).toEqual(a);
    expect(reloaded.get('b/2.bin')).toEqual(b);
    await reloaded.close();
  });

  it('a later record of the same path replaces the earlier one', async () => {
    const index = await CacheIndex.load(dir, 'src');
    await index.record(entry('f', { size: 1 }));
    await index.record(entry('f', { size: 2 }));
    await index.close();
    const reloaded = await CacheIndex.load(dir, 'src');
    expect(reloaded.get('f')?.size).toBe(2);
    await reloaded.close();
  });

  it('keeps entries recorded but never saved, through the journal (a crash)', async () => {
    const first = await CacheIndex.load(dir, 'src');
    await first.record(entry('saved'));
    await first.save();
    await first.record(entry('journalled-1'));
    await first.record(entry('journalled-2', { size: 7 }));
    // No save(), no close(): the process died here.
    expect(await readdir(dir)).toContain('index.journal');

    const second = await CacheIndex.load(dir, 'src');
    expect([...second.entries.keys()].sort()).toEqual(['journalled-1', 'journalled-2', 'saved']);
    expect(second.get('journalled-2')?.size).toBe(7);
    await second.close();
    await first.close();
  });

  it('ignores a torn last journal line and keeps everything before it', async () => {
    const index = await CacheIndex.load(dir, 'src');
    await index.record(entry('one'));
    await index.record(entry('two'));
    await index.close();
    const torn = JSON.stringify({ set: entry('three') }).slice(0, 40);
    await appendFile(join(dir, 'index.journal'), torn);

    const reloaded = await CacheIndex.load(dir, 'src');
    expect([...reloaded.entries.keys()].sort()).toEqual(['one', 'two']);
    // Recording after a torn line starts a fresh line, so the new entry survives too.
    await reloaded.record(entry('four'));
    await reloaded.close();
    const again = await CacheIndex.load(dir, 'src');
    expect([...again.entries.keys()].sort()).toEqual(['four', 'one', 'two']);
    await again.close();
  });

  it('skips journal records that are not entries', async () => {
    await writeFile(
      join(dir, 'index.journal'),
      [
        JSON.stringify({ set: entry('ok') }),
        JSON.stringify({ set: { path: 'no-digest', key: 'k', size: 1, localSize: 1, localMtimeMs: 1 } }),
        JSON.stringify({ something: 'else' }),
        '',
        '',
      ].join('\n'),
    );
    const index = await CacheIndex.load(dir, 'src');
    expect([...index.entries.keys()]).toEqual(['ok']);
    await index.close();
  });

  it('ignores an unreadable index file', async () => {
    await writeFile(join(dir, 'index.json'), '{"version":1,"entries":[');
    const index = await CacheIndex.load(dir, 'src');
    expect(index.entries.size).toBe(0);
    await index.close();
  });

  it('remove() drops an entry in memory, in the journal and in the saved index', async () => {
    const index = await CacheIndex.load(dir, 'src');
    await index.record(entry('keep'));
    await index.record(entry('drop'));
    await index.save();

    await index.remove('drop');
    expect(index.get('drop')).toBeUndefined();
    // Removing what is not there is a no-op.
    await index.remove('never-there');

    // Before save: the removal is in the journal.
    const crashed = await CacheIndex.load(dir, 'src');
    expect([...crashed.entries.keys()]).toEqual(['keep']);
    await crashed.close();

    await index.save();
    await index.close();
    const saved = await CacheIndex.load(dir, 'src');
    expect([...saved.entries.keys()]).toEqual(['keep']);
    expect((await readdir(dir)).sort()).toEqual(['index.json']);
    await saved.close();
  });
});

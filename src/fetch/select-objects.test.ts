import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import { selectObjects } from './select-objects.js';

async function storeWith(files: Record<string, string>): Promise<MemoryDriver> {
  const store = new MemoryDriver('memory://t');
  for (const [key, body] of Object.entries(files)) store.putForeign(key, Buffer.from(body));
  return store;
}

const keysOf = (selection: { objects: { relativeKey: string }[] }) =>
  selection.objects.map((o) => o.relativeKey);

describe('selectObjects: listing and filters', () => {
  it('takes every object under the prefix in listing order, skipping folder markers and the prefix itself', async () => {
    const store = await storeWith({
      'ds/': '',
      'ds/b.csv': 'bb',
      'ds/a.csv': 'a',
      'ds/sub/': '',
      'ds/sub/c.json': 'ccc',
      'ds/Z.csv': 'z',
      'ds/ü.csv': 'u',
      'dsx/other.csv': 'no',
      'elsewhere.csv': 'no',
    });
    const selection = await selectObjects(store, { prefix: 'ds/' });
    expect(keysOf(selection)).toEqual(['Z.csv', 'a.csv', 'b.csv', 'sub/c.json', 'ü.csv']);
    expect(selection.objects[1]).toMatchObject({ key: 'ds/a.csv', relativeKey: 'a.csv', size: 1 });
    expect(selection.objects[1]?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(selection.objects[1]?.lastModified).toBeInstanceOf(Date);
    expect(selection).toMatchObject({ listed: 5, manifestUsed: false, refused: [] });
  });

  it('selects a whole store with an empty prefix', async () => {
    const store = await storeWith({ 'a/b': '1', c: '2' });
    expect(keysOf(await selectObjects(store, { prefix: '' }))).toEqual(['a/b', 'c']);
  });

  it('applies include and exclude to the relative key', async () => {
    const store = await storeWith({
      'ds/a.csv': '1',
      'ds/.hidden.csv': '1',
      'ds/sub/b.csv': '1',
      'ds/sub/tmp/c.csv': '1',
      'ds/readme.md': '1',
    });
    const only = await selectObjects(store, { prefix: 'ds/', include: ['*.csv'] });
    expect(keysOf(only)).toEqual(['.hidden.csv', 'a.csv']);
    const deep = await selectObjects(store, {
      prefix: 'ds/',
      include: ['**/*.csv', 'readme.md'],
      exclude: ['**/tmp/**'],
    });
    expect(keysOf(deep)).toEqual(['.hidden.csv', 'a.csv', 'readme.md', 'sub/b.csv']);
    expect(deep.listed).toBe(5);
  });

  it('returns an empty selection for an empty prefix', async () => {
    const store = await storeWith({ 'other/x': '1' });
    expect(await selectObjects(store, { prefix: 'ds/' })).toEqual({
      objects: [],
      listed: 0,
      manifestUsed: false,
      refused: [],
      skippedState: 0,
      orphanMetaFiles: [],
    });
  });

  it('refuses bad options before listing', async () => {
    const store = await storeWith({ 'ds/a': '1' });
    await expect(selectObjects(store, { prefix: 'ds' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(selectObjects(store, { prefix: 'ds/', include: ['/a'] })).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(selectObjects(store, { prefix: 'ds/', manifest: '../m.json' })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('stops with AbortedError when the signal has fired', async () => {
    const store = await storeWith({ 'ds/a': '1' });
    const controller = new AbortController();
    controller.abort();
    await expect(selectObjects(store, { prefix: 'ds/', signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});

describe('selectObjects: refused keys', () => {
  it('refuses unsafe relative keys and an object named .wharf, with the reason; skips the .wharf/ folder', async () => {
    const store = await storeWith({
      'p/../../evil.txt': 'x',
      'p/a//b': 'x',
      'p/.wharf/index.json': 'x',
      'p/.wharf': 'x',
      'p/.wharfish/ok': 'x',
      'p/sub/.wharf/ok': 'x',
      'p/good.txt': 'x',
    });
    const selection = await selectObjects(store, { prefix: 'p/' });
    expect(keysOf(selection)).toEqual(['.wharfish/ok', 'good.txt', 'sub/.wharf/ok']);
    expect(selection.listed).toBe(7);
    expect(selection.refused).toEqual([
      { key: 'p/../../evil.txt', reason: expect.stringMatching(/'\.\.' segment/) },
      { key: 'p/.wharf', reason: expect.stringMatching(/reserved for Wharf's cache state folder/) },
      { key: 'p/a//b', reason: expect.stringMatching(/empty path segment/) },
    ]);
    // Wharf's state at the top of the prefix (a sync remote's index, a cache copied back) is skipped, not data.
    expect(selection.skippedState).toBe(1);
  });

  it('does not report unsafe keys the filters leave out', async () => {
    const store = await storeWith({ 'p/a//b.tmp': 'x', 'p/good.txt': 'x' });
    const selection = await selectObjects(store, { prefix: 'p/', exclude: ['**/*.tmp'] });
    expect(keysOf(selection)).toEqual(['good.txt']);
    expect(selection.refused).toEqual([]);
  });
});

describe('selectObjects: meta files', () => {
  it('keeps only data files whose companion exists and never selects companions', async () => {
    const store = await storeWith({
      'ds/files_001.json': '1',
      'ds/.files_001.json.meta': '',
      'ds/files_002.json': '2',
      'ds/sub/files_003.json': '3',
      'ds/sub/.files_003.json.meta': '',
      'ds/.orphan.json.meta': '',
      'ds/files_003.json': 'companion is in sub/, not here',
      // a companion that itself has a companion is still a companion
      'ds/.x.json.meta': '',
      'ds/..x.json.meta.meta': '',
    });
    const selection = await selectObjects(store, { prefix: 'ds/', metaFiles: true });
    expect(keysOf(selection)).toEqual(['files_001.json', 'sub/files_003.json']);
    // Companions whose data file is missing are named (..x.json.meta.meta has one: the companion .x.json.meta).
    expect(selection.orphanMetaFiles).toEqual(['ds/.orphan.json.meta', 'ds/.x.json.meta']);
    const plain = await selectObjects(store, { prefix: 'ds/' });
    expect(keysOf(plain)).toContain('.files_001.json.meta');
    expect(plain.orphanMetaFiles).toEqual([]);
  });

  it('names a companion without its data file only when the patterns would take that file, and never with a manifest', async () => {
    const store = await storeWith({
      'ds/a/.x.json.meta': '',
      'ds/b/.y.json.meta': '',
      'ds/.wharf/.index.json.meta': '',
      'ds/list.txt': 'a/z.json\n',
      'ds/a/z.json': 'z',
      'ds/a/.z.json.meta': '',
    });
    const all = await selectObjects(store, { prefix: 'ds/', metaFiles: true });
    expect(all.orphanMetaFiles).toEqual(['ds/a/.x.json.meta', 'ds/b/.y.json.meta']);
    const onlyA = await selectObjects(store, { prefix: 'ds/', metaFiles: true, include: ['a/**'] });
    expect(onlyA.orphanMetaFiles).toEqual(['ds/a/.x.json.meta']);
    const listed = await selectObjects(store, { prefix: 'ds/', metaFiles: true, manifest: 'list.txt' });
    expect(keysOf(listed)).toEqual(['a/z.json']);
    expect(listed.orphanMetaFiles).toEqual([]);
  });

  it('applies include/exclude after the meta rule', async () => {
    const store = await storeWith({
      'ds/a.json': '1',
      'ds/.a.json.meta': '',
      'ds/b.csv': '1',
      'ds/.b.csv.meta': '',
    });
    const selection = await selectObjects(store, {
      prefix: 'ds/',
      metaFiles: true,
      include: ['*.csv', '.*'],
    });
    expect(keysOf(selection)).toEqual(['b.csv']);
  });
});

describe('selectObjects: manifest', () => {
  const unload = (urls: [string, number?][]) =>
    JSON.stringify({
      entries: urls.map(([url, size]) => ({
        url,
        mandatory: true,
        ...(size === undefined ? {} : { meta: { content_length: size } }),
      })),
    });

  it('takes exactly the listed objects in manifest order, never the manifest itself', async () => {
    const store = await storeWith({
      'exp/0000_part_00': 'aaaa',
      'exp/0001_part_00': 'bb',
      'exp/0002_part_00': 'not in the manifest',
      'exp/manifest': unload([
        ['s3://bkt/exp/0001_part_00', 2],
        ['s3://bkt/exp/manifest'],
        ['s3://bkt/exp/0000_part_00', 4],
      ]),
    });
    const selection = await selectObjects(store, { prefix: 'exp/', manifest: 'manifest', bucket: 'bkt' });
    expect(keysOf(selection)).toEqual(['0001_part_00', '0000_part_00']);
    expect(selection.objects[0]).toMatchObject({ key: 'exp/0001_part_00', size: 2 });
    expect(selection).toMatchObject({ listed: 4, manifestUsed: true, refused: [] });
  });

  it('reads a plain key list and then applies the meta rule and filters', async () => {
    const store = await storeWith({
      'ds/a.json': '1',
      'ds/.a.json.meta': '',
      'ds/b.json': '1',
      'ds/c.csv': '1',
      'ds/.c.csv.meta': '',
      'ds/d.json': '1',
      'ds/.d.json.meta': '',
      'ds/list.txt': '# ready files\r\nd.json\r\nb.json\r\nc.csv\r\na.json\r\n.a.json.meta\r\n',
    });
    const selection = await selectObjects(store, {
      prefix: 'ds/',
      manifest: 'list.txt',
      metaFiles: true,
      exclude: ['*.csv'],
    });
    expect(keysOf(selection)).toEqual(['d.json', 'a.json']);
    expect(selection.manifestUsed).toBe(true);
  });

  it('falls back to the full listing when the manifest object does not exist', async () => {
    const store = await storeWith({ 'ds/a': '1', 'ds/b': '2' });
    const selection = await selectObjects(store, { prefix: 'ds/', manifest: 'manifest.json' });
    expect(keysOf(selection)).toEqual(['a', 'b']);
    expect(selection.manifestUsed).toBe(false);
  });

  it('fails with NotFoundError naming entries that are not in the listing', async () => {
    const store = await storeWith({ 'ds/a': '1', 'ds/m.txt': 'a\nmissing-1\nsub/missing-2\n' });
    await expect(selectObjects(store, { prefix: 'ds/', manifest: 'm.txt' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message:
        'manifest memory://t/ds/m.txt lists 2 object(s) that do not exist: memory://t/ds/missing-1, memory://t/ds/sub/missing-2',
    });
  });

  it('fails with PreconditionFailedError naming the entry and both sizes when a size differs', async () => {
    const store = await storeWith({
      'ds/a': '12345',
      'ds/m.json': unload([['s3://bkt/ds/a', 4]]),
    });
    await expect(
      selectObjects(store, { prefix: 'ds/', manifest: 'm.json', display: (key) => `s3://bkt/${key}` }),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: 'manifest s3://bkt/ds/m.json says s3://bkt/ds/a has 4 bytes, but the store lists 5 bytes',
    });
  });

  it('checks the bucket and prefix of manifest urls', async () => {
    const store = await storeWith({ 'ds/a': '1', 'ds/m.json': unload([['s3://other/ds/a']]) });
    await expect(
      selectObjects(store, { prefix: 'ds/', manifest: 'm.json', bucket: 'bkt' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining(
        'entry 1 (s3://other/ds/a) is not below the dataset location s3://bkt/ds/',
      ),
    });
    const anyBucket = await selectObjects(store, { prefix: 'ds/', manifest: 'm.json' });
    expect(keysOf(anyBucket)).toEqual(['a']);
  });

  it('skips a .wharf/ entry of the manifest like a listed one', async () => {
    const store = await storeWith({ 'ds/.wharf/x': '1', 'ds/a': '1', 'ds/m': '.wharf/x\na\n' });
    const selection = await selectObjects(store, { prefix: 'ds/', manifest: 'm' });
    expect(keysOf(selection)).toEqual(['a']);
    expect(selection.refused).toEqual([]);
    expect(selection.skippedState).toBe(1);
  });
});

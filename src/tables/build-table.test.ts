import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFrom, rowsOf, type TableSource } from '../../test/support/table-sources.js';
import { zipFile } from '../../test/support/zip-file.js';
import type { BuildTableOptions } from './build-table.js';
import { queryTable } from './inspect-table.js';

let work: string;

const build = (label: string, files: Record<string, TableSource>, o: Partial<BuildTableOptions> = {}) =>
  buildFrom(work, label, files, o);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-tables-unit-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('buildTable (local source)', () => {
  it('reads json, ndjson, csv, .gz and zip members, unions columns by name and names each row’s source', async () => {
    const result = await build('mixed', {
      'a.json': '[{"id":1,"name":"one"},{"id":2,"name":"two"}]',
      'b.ndjson': '{"id":3,"score":0.5}\n{"id":4,"score":1.5}\n',
      'c.jsonl.gz': gzipSync('{"id":5,"name":"five","extra":true}\n'),
      'd.json': '{\n  "id": 6,\n  "name": "pretty"\n}\n',
      'sub/e.csv': 'id,name\n7,seven\n',
      'f.zip': zipFile({
        'inner/g.json': '{"id":8,"name":"zipped"}\n',
        'h.csv.gz': gzipSync('id,score\n9,2.5\n'),
        'readme.txt': 'ignored',
      }),
      'empty.json': '',
      '.x.json.meta': '',
      'notes.txt': 'not selected',
    });
    expect(result.rows).toBe(9);
    expect(result.emptyFiles).toEqual(['empty.json']);
    expect(result.sourceFiles.map((f) => f.status)).toEqual(Array(7).fill('downloaded'));
    expect(result.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'name', type: 'VARCHAR' },
      { name: 'score', type: 'DOUBLE' },
      { name: 'extra', type: 'BOOLEAN' },
      { name: '_source_file', type: 'VARCHAR' },
    ]);
    const rows = await rowsOf(result.path, 'SELECT id, name, score, extra, _source_file FROM t ORDER BY id');
    expect(rows).toEqual([
      { id: 1, name: 'one', score: null, extra: null, _source_file: 'a.json' },
      { id: 2, name: 'two', score: null, extra: null, _source_file: 'a.json' },
      { id: 3, name: null, score: 0.5, extra: null, _source_file: 'b.ndjson' },
      { id: 4, name: null, score: 1.5, extra: null, _source_file: 'b.ndjson' },
      { id: 5, name: 'five', score: null, extra: true, _source_file: 'c.jsonl.gz' },
      { id: 6, name: 'pretty', score: null, extra: null, _source_file: 'd.json' },
      { id: 7, name: 'seven', score: null, extra: null, _source_file: 'sub/e.csv' },
      { id: 8, name: 'zipped', score: null, extra: null, _source_file: 'f.zip/inner/g.json' },
      { id: 9, name: null, score: 2.5, extra: null, _source_file: 'f.zip/h.csv.gz' },
    ]);
    // Atomic: nothing but the table in the output folder.
    expect(await readdir(dirname(result.path))).toEqual(['table.parquet']);
    const meta = await rowsOf(
      result.path,
      `SELECT DISTINCT compression FROM parquet_metadata('${result.path}')`,
    );
    expect(meta).toEqual([{ compression: 'ZSTD' }]);
  });

  it('adds no column for key=value folder names, so one file outside such folders cannot change the schema', async () => {
    const partitioned = {
      'dt=2024-01-01/x.ndjson': '{"a":1}\n',
      'dt=2024-01-02/y.csv': 'a\n2\n',
    };
    const only = await build('hive-only', partitioned);
    const mixed = await build('hive-mixed', { ...partitioned, 'plain/z.ndjson': '{"a":3}\n' });
    expect(only.columns.map((c) => c.name)).toEqual(['a', '_source_file']);
    expect(mixed.columns.map((c) => c.name)).toEqual(['a', '_source_file']);
    expect(await rowsOf(only.path, 'SELECT a, _source_file FROM t ORDER BY a')).toEqual([
      { a: 1, _source_file: 'dt=2024-01-01/x.ndjson' },
      { a: 2, _source_file: 'dt=2024-01-02/y.csv' },
    ]);
  });

  it('counts files of blanks, a byte-order mark or [] as empty: they add no made-up column', async () => {
    const result = await build('near-empty', {
      'a.csv': 'id,v\n1,a\n',
      'b.json': '[ ]\n',
      'c.csv': '\n',
      'd.csv': '\uFEFF',
      'e.ndjson.gz': gzipSync('\n\n'),
    });
    expect(result.rows).toBe(1);
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'v', '_source_file']);
    expect([...result.emptyFiles].sort()).toEqual(['b.json', 'c.csv', 'd.csv', 'e.ndjson.gz']);
  });

  it('names a corrupt file and the reason; --skip-bad leaves it out and counts it', async () => {
    const files = {
      'a.ndjson': '{"id":1}\n',
      'b.json': '{"id":2,',
      'c.json.gz': gzipSync('{"id":3}\n').subarray(0, 12),
      'd.zip': 'not a zip',
      'e.ndjson': '{"id":5}\n',
    };
    const to = join(work, 'bad', 'out', 'table.parquet');
    await expect(build('bad', files, { to })).rejects.toThrow(/^cannot parse (b\.json|c\.json\.gz|d\.zip): /);
    expect(existsSync(to)).toBe(false);
    const result = await build('bad', {}, { to, skipBad: true });
    expect(result.rows).toBe(2);
    expect(result.badFiles.map((b) => b.source).sort()).toEqual(['b.json', 'c.json.gz', 'd.zip']);
    expect(result.badFiles.find((b) => b.source === 'b.json')?.reason).toMatch(
      /Malformed JSON in file "b\.json"/,
    );
    expect(result.badFiles.find((b) => b.source === 'd.zip')?.reason).toMatch(/not a readable zip archive/);
    // The second build found every file in the cache.
    expect(result.fetch.downloaded).toBe(0);
  });

  it('keeps the last row per key with dedupeOn, and leaves out _source_file on request', async () => {
    const result = await build(
      'dedupe',
      {
        '2024-01.ndjson':
          '{"id":1,"v":"old"}\n{"id":2,"v":"old"}\n{"id":1,"v":"older-in-same-file-but-later"}\n',
        '2024-02.ndjson': '{"id":2,"v":"new"}\n{"id":3,"v":"new"}\n',
      },
      { dedupeOn: ['id'], sourceColumn: false },
    );
    expect(result.rows).toBe(3);
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'v']);
    expect(await rowsOf(result.path, 'SELECT id, v FROM t ORDER BY id')).toEqual([
      { id: 1, v: 'older-in-same-file-but-later' },
      { id: 2, v: 'new' },
      { id: 3, v: 'new' },
    ]);
    await expect(
      build('dedupe', {}, { dedupeOn: ['ID'], to: join(work, 'dedupe', 'other.parquet') }),
    ).rejects.toThrow(/--dedupe-on: the table has no column "ID" \(did you mean "id"\?\)/);
  });

  it('in batches: adds new columns, widens types as union_by_name would, keeps source order', async () => {
    const result = await build(
      'batches',
      {
        '1.ndjson': '{"id":1,"v":1}\n',
        '2.ndjson': '{"id":2,"v":2}\n',
        '3.ndjson': '{"id":3,"v":2.5,"w":"new"}\n',
        '4.ndjson': '{"id":4,"v":4.5}\n{"id":1,"v":9}\n',
        '5.csv': 'id,v\n5,5\n',
      },
      { batchFiles: 2, dedupeOn: ['id'] },
    );
    expect(result.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'v', type: 'DOUBLE' },
      { name: 'w', type: 'VARCHAR' },
      { name: '_source_file', type: 'VARCHAR' },
    ]);
    expect((await queryTable(result.path, 'SELECT id, v, w, _source_file FROM t')).rows).toEqual([
      [2, 2, null, '2.ndjson'],
      [3, 2.5, 'new', '3.ndjson'],
      [4, 4.5, null, '4.ndjson'],
      [1, 9, null, '4.ndjson'],
      [5, 5, null, '5.csv'],
    ]);
  });

  it('in batches: a column that turns JSON in a later batch keeps the earlier strings, as one statement would', async () => {
    const result = await build(
      'batches-json',
      {
        '1.json': '{"id":1,"code":"c0001"}\n',
        '2.json': '{"id":2,"code":"c0002"}\n',
        '3.json': '{"id":3,"code":5}\n',
        '4.json': '{"id":4,"code":{"x":1}}\n',
      },
      { batchFiles: 2 },
    );
    expect(result.columns.find((c) => c.name === 'code')?.type).toBe('JSON');
    expect((await queryTable(result.path, 'SELECT id, code::VARCHAR FROM t ORDER BY id')).rows).toEqual([
      [1, '"c0001"'],
      [2, '"c0002"'],
      [3, '5'],
      [4, '{"x":1}'],
    ]);
  });

  it('combines CSV and NDJSON files whose column types clash (a date and an object) by keeping every value as JSON', async () => {
    const result = await build('csv-vs-json', {
      'a.csv': 'id,v\n1,2020-01-01\n2,2020-01-02\n',
      'b.ndjson': '{"id":3,"v":{"x":1}}\n',
    });
    expect(result.columns.find((c) => c.name === 'v')?.type).toBe('JSON');
    expect(
      (await queryTable(result.path, 'SELECT id::VARCHAR, v::VARCHAR, _source_file FROM t')).rows,
    ).toEqual([
      ['1', '"2020-01-01"', 'a.csv'],
      ['2', '"2020-01-02"', 'a.csv'],
      ['3', '{"x":1}', 'b.ndjson'],
    ]);
  });

  it('in batches: a struct column met by a list becomes JSON holding both', async () => {
    const result = await build(
      'batches-nested',
      {
        '1.json': '{"id":1,"v":{"a":1}}\n',
        '2.json': '{"id":2,"v":{"a":1,"b":"x"}}\n',
        '3.json': '{"id":3,"v":[1,2]}\n',
      },
      { batchFiles: 1 },
    );
    expect(result.columns.find((c) => c.name === 'v')?.type).toBe('JSON');
    expect((await queryTable(result.path, 'SELECT id, v::VARCHAR FROM t ORDER BY id')).rows).toEqual([
      [1, '{"a":1,"b":null}'],
      [2, '{"a":1,"b":"x"}'],
      [3, '[1,2]'],
    ]);
  });

  it('keeps every digit of whole numbers past 64 bits in CSV (account numbers) as text; real doubles stay DOUBLE', async () => {
    const result = await build('long-integers', {
      'a.csv': 'id,account,score\n1,12345678901234567890123,0.5\n',
      'b.csv': 'id,account,score\n2,9007199254740993,1e3\n',
    });
    expect(result.columns.filter((c) => c.name !== '_source_file')).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'account', type: 'VARCHAR' },
      { name: 'score', type: 'DOUBLE' },
    ]);
    expect((await queryTable(result.path, 'SELECT account, score FROM t ORDER BY id')).rows).toEqual([
      ['12345678901234567890123', 0.5],
      ['9007199254740993', 1000],
    ]);
  });

  it('types a column from every row of a big file: a late "ABC" among numbers makes it text, not a bad file', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `{"id":${i + 1},"code":${i + 1}}`);
    const csv = ['id,code', ...Array.from({ length: 30_000 }, (_, i) => `${i + 1},${i + 1}`), '30001,ABC'];
    const fromJson = await build('late-types-json', {
      'big.ndjson': `${lines.join('\n')}\n{"id":30001,"code":"ABC"}\n`,
    });
    expect(fromJson.rows).toBe(30_001);
    expect(['VARCHAR', 'JSON']).toContain(fromJson.columns.find((c) => c.name === 'code')?.type);
    const fromCsv = await build('late-types-csv', { 'big.csv': `${csv.join('\n')}\n` });
    expect(fromCsv.rows).toBe(30_001);
    expect(fromCsv.columns.find((c) => c.name === 'code')?.type).toBe('VARCHAR');
  });

  it('says why a file cannot be read: not UTF-8, and which --encoding may read it', async () => {
    await expect(
      build('latin1', { 'latin1.csv': Buffer.from('id,name\n13,caf\xe9\n', 'latin1') }),
    ).rejects.toThrow(
      /cannot parse latin1\.csv: .*This file is not utf-8 encoded; if it is Windows-1252 .*pass --encoding windows-1252, latin-1 or utf-16$/,
    );
  });

  it('reads files of any name with a forced format, and refuses unknown names without one', async () => {
    const files = { 'export-001.data': '{"id":1}\n{"id":2}\n' };
    await expect(build('forced', files, { include: ['*.data'] })).rejects.toThrow(
      /cannot parse export-001\.data: cannot tell its format from the name/,
    );
    const result = await build('forced', files, { include: ['*.data'], format: 'ndjson' });
    expect(result.rows).toBe(2);
  });

  it('reads files whose names DuckDB would take for glob patterns, and keeps their names', async () => {
    const result = await build('globby', {
      'a[1].json': '{"id":1}',
      'b*?.ndjson': '{"id":2}',
      'c{x} 100%.csv': 'id\n3\n',
      'd.json': '{"id":4}',
    });
    expect(await rowsOf(result.path, 'SELECT id, _source_file FROM t ORDER BY id')).toEqual([
      { id: 1, _source_file: 'a[1].json' },
      { id: 2, _source_file: 'b*?.ndjson' },
      { id: 3, _source_file: 'c{x} 100%.csv' },
      { id: 4, _source_file: 'd.json' },
    ]);
  });

  it('writes NAME.parquet into an existing folder given as --to', async () => {
    const folder = join(work, 'folder-out');
    await mkdir(folder, { recursive: true });
    const result = await build('folder', { 'a.json': '{"id":1}' }, { to: folder, name: 'orders' });
    expect(result.path).toBe(join(folder, 'orders.parquet'));
    expect(result.rows).toBe(1);
  });

  it('fails with NotFound when nothing is selected', async () => {
    await expect(build('none', { 'x.txt': 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // With --meta-files and no companions, the message names the rule that left nothing.
    await expect(
      build('no-meta', { 's1.json.gz': gzipSync('{"a":1}\n') }, { metaFiles: true }),
    ).rejects.toThrow(/only those with a \.meta companion \(--meta-files\)/);
  });
  it('a source file deleted after the listing fails the build naming it (exit 3), with a hint to build again', async () => {
    const src = join(work, 'vanished', 'src');
    const attempt = build(
      'vanished',
      { 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n' },
      {
        onEvent: (e) => {
          if (e.type === 'fetch' && e.event.type === 'planned') rmSync(join(src, 'b.csv'));
        },
      },
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('b.csv was deleted after it was listed'),
      hint: 'build the table again: its listing will not have the deleted file',
    });
    expect(existsSync(join(work, 'vanished', 'out', 'table.parquet'))).toBe(false);
  });
});

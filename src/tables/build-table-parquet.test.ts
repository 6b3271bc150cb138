import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damagedFirstPage, parquetBytes, writeParquet } from '../../test/support/parquet-file.js';
import { buildFrom, putSources, rowsOf, type TableSource } from '../../test/support/table-sources.js';
import { zipFile } from '../../test/support/zip-file.js';
import { buildTable, type BuildTableOptions } from './build-table.js';
import { queryTable } from './inspect-table.js';

let work: string;

const build = (label: string, files: Record<string, TableSource>, o: Partial<BuildTableOptions> = {}) =>
  buildFrom(work, label, files, {
    include: ['**/*.parquet', '**/*.parq', '**/*.ndjson', '**/*.csv', '**/*.zip'],
    ...o,
  });

/** One row of every type the test cares about; `n` makes the rows differ. */
const typedRow = (n: number): string => `SELECT
  ${n}::TINYINT AS i8, ${n}::SMALLINT AS i16, ${n}::INTEGER AS i32, (${n} * 10000000000)::BIGINT AS i64,
  ${n}::UBIGINT AS u64, (${n} + 0.5)::DECIMAL(4,1) AS dec4, (${n} * 1000 + 0.125)::DECIMAL(18,3) AS dec18,
  ('123456789012345678.' || ${n})::DECIMAL(38,10) AS dec38, (${n} / 10)::FLOAT AS f32, (${n} / 3)::DOUBLE AS f64,
  ${n} % 2 = 0 AS flag, 'text ' || ${n} AS txt, ('\\x0' || ${n})::BLOB AS bin,
  DATE '2024-02-28' + ${n} AS d, TIME '23:59:59.5' AS tm, TIMESTAMP '2024-01-02 03:04:05.123456' + INTERVAL (${n}) HOUR AS ts,
  '2024-01-02 03:04:05.123456789'::TIMESTAMP_NS AS ts_ns, TIMESTAMPTZ '2024-06-01 12:00:00+00' AS ts_tz,
  INTERVAL (${n}) DAY AS iv, ('00000000-0000-0000-0000-00000000000' || ${n})::UUID AS uid,
  [${n}, ${n} + 1]::INTEGER[] AS ints, [['a'], ['b', 'c']] AS nested, {'a': ${n}, 'b': ['x', 'y']} AS st,
  MAP {'k': ${n} / 4} AS mp, NULL::VARCHAR AS nothing`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-tables-parquet-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('buildTable with Parquet sources (local)', () => {
  it('keeps every Parquet column type and value', async () => {
    const result = await build('types', {
      'p1.parquet': { parquet: `${typedRow(1)} UNION ALL ${typedRow(2)}` },
      'p2.parquet': { parquet: typedRow(3) },
    });
    expect(result.rows).toBe(3);
    // The fixture as DuckDB reads it: the built table must have exactly these columns, types and values.
    const fixture = join(work, 'types', 'fixture.parquet');
    await writeParquet(fixture, `${typedRow(1)} UNION ALL ${typedRow(2)} UNION ALL ${typedRow(3)}`);
    const expected = await queryTable(fixture, 'SELECT * FROM t');
    const described = (await queryTable(fixture, 'DESCRIBE t')).rows.map(([name, type]) => ({ name, type }));
    expect(result.columns).toEqual([...described, { name: '_source_file', type: 'VARCHAR' }]);
    const built = await queryTable(result.path, 'SELECT * EXCLUDE (_source_file) FROM t');
    expect(built.columns).toEqual(expected.columns);
    expect(built.rows).toEqual(expected.rows);
    // Not stringified: the types are Parquet's, spelled out here so that a reader typing everything as text fails.
    const types = Object.fromEntries(result.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      i8: 'TINYINT',
      i64: 'BIGINT',
      u64: 'UBIGINT',
      dec4: 'DECIMAL(4,1)',
      dec18: 'DECIMAL(18,3)',
      dec38: 'DECIMAL(38,10)',
      f32: 'FLOAT',
      bin: 'BLOB',
      d: 'DATE',
      tm: 'TIME',
      ts: 'TIMESTAMP',
      ts_ns: 'TIMESTAMP_NS',
      ts_tz: 'TIMESTAMP WITH TIME ZONE',
      iv: 'INTERVAL',
      uid: 'UUID',
      ints: 'INTEGER[]',
      nested: 'VARCHAR[][]',
      st: 'STRUCT(a INTEGER, b VARCHAR[])',
      mp: 'MAP(VARCHAR, DOUBLE)',
      nothing: 'VARCHAR',
    });
    expect(
      await rowsOf(
        result.path,
        `SELECT i32, i64, dec18, dec38, ts, ints, st, epoch(ts_tz) AS tz, _source_file FROM t ORDER BY i32`,
      ),
    ).toEqual([
      {
        i32: 1,
        i64: 10000000000,
        dec18: '1000.125',
        dec38: '123456789012345678.1000000000',
        ts: '2024-01-02 04:04:05.123456',
        ints: [1, 2],
        st: { a: 1, b: ['x', 'y'] },
        tz: 1717243200,
        _source_file: 'p1.parquet',
      },
      {
        i32: 2,
        i64: 20000000000,
        dec18: '2000.125',
        dec38: '123456789012345678.2000000000',
        ts: '2024-01-02 05:04:05.123456',
        ints: [2, 3],
        st: { a: 2, b: ['x', 'y'] },
        tz: 1717243200,
        _source_file: 'p1.parquet',
      },
      {
        i32: 3,
        i64: 30000000000,
        dec18: '3000.125',
        dec38: '123456789012345678.3000000000',
        ts: '2024-01-02 06:04:05.123456',
        ints: [3, 4],
        st: { a: 3, b: ['x', 'y'] },
        tz: 1717243200,
        _source_file: 'p2.parquet',
      },
    ]);
  });

  it('unions Parquet with NDJSON, CSV and a Parquet zip member by name; missing columns are NULL', async () => {
    const result = await build('mixed', {
      '2024-01/a.parquet': {
        parquet: `SELECT id::INTEGER AS id, ts::TIMESTAMP AS ts, amount::DECIMAL(12,2) AS amount, tags
                  FROM (VALUES (1, '2024-01-01 10:00:00', 12.34, ['x', 'y']), (2, NULL, -0.5, [])) v(id, ts, amount, tags)`,
      },
      '2024-02/b.parq': {
        parquet: `SELECT 3::INTEGER AS id, 7.25::DECIMAL(12,2) AS amount, 'b' AS extra`,
      },
      'c.ndjson': '{"id":4,"tags":["z"],"note":"json"}\n',
      'd.csv': 'id,note\n5,csv\n',
      'e.zip': zipFile({
        'inner/f.parquet': await parquetBytes(
          `SELECT 6::INTEGER AS id, TIMESTAMP '2024-03-01 00:00:00' AS ts`,
        ),
        'skipped.txt': 'not read',
      }),
    });
    expect(result.rows).toBe(6);
    expect(result.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'amount', type: 'DECIMAL(12,2)' },
      { name: 'tags', type: 'VARCHAR[]' },
      { name: 'extra', type: 'VARCHAR' },
      { name: 'note', type: 'VARCHAR' },
      { name: '_source_file', type: 'VARCHAR' },
    ]);
    expect(await rowsOf(result.path, 'SELECT * FROM t')).toEqual([
      {
        id: 1,
        ts: '2024-01-01 10:00:00',
        amount: 12.34,
        tags: ['x', 'y'],
        extra: null,
        note: null,
        _source_file: '2024-01/a.parquet',
      },
      { id: 2, ts: null, amount: -0.5, tags: [], extra: null, note: null, _source_file: '2024-01/a.parquet' },
      { id: 3, ts: null, amount: 7.25, tags: null, extra: 'b', note: null, _source_file: '2024-02/b.parq' },
      { id: 4, ts: null, amount: null, tags: ['z'], extra: null, note: 'json', _source_file: 'c.ndjson' },
      { id: 5, ts: null, amount: null, tags: null, extra: null, note: 'csv', _source_file: 'd.csv' },
      {
        id: 6,
        ts: '2024-03-01 00:00:00',
        amount: null,
        tags: null,
        extra: null,
        note: null,
        _source_file: 'e.zip/inner/f.parquet',
      },
    ]);
  });

  it('combines Parquet files whose column types clash (an integer and a struct) by keeping both as JSON', async () => {
    const result = await build('clash', {
      'a.parquet': { parquet: `SELECT 1 AS id, 7 AS v, DATE '2024-01-01' AS d` },
      'b.parquet': { parquet: `SELECT 2 AS id, {'x': 1} AS v, DATE '2024-01-02' AS d` },
      'c.parquet': { parquet: `SELECT 3 AS id, 9 AS v, DATE '2024-01-03' AS d` },
    });
    expect(result.badFiles).toEqual([]);
    expect(result.columns).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'v', type: 'JSON' },
      { name: 'd', type: 'DATE' },
      { name: '_source_file', type: 'VARCHAR' },
    ]);
    // Source order is kept although the files were read in two groups.
    expect((await queryTable(result.path, 'SELECT id, v::VARCHAR, d, _source_file FROM t')).rows).toEqual([
      [1, '7', '2024-01-01', 'a.parquet'],
      [2, '{"x":1}', '2024-01-02', 'b.parquet'],
      [3, '9', '2024-01-03', 'c.parquet'],
    ]);
  });

  it('names a corrupt Parquet file and the reason; --skip-bad leaves it out and counts it', async () => {
    const good = await parquetBytes(`SELECT range::INTEGER AS id, 'r' || range AS name FROM range(1000)`);
    const files: Record<string, TableSource> = {
      'a.parquet': { parquet: `SELECT 1::INTEGER AS id, 'one' AS name` },
      'b.parquet': 'this is not a parquet file',
      'c.parquet': good.subarray(0, good.length - 100),
      'd.parquet': damagedFirstPage(good),
      'e.parquet.gz': gzipSync(good),
      'f.parquet': { parquet: `SELECT 6::INTEGER AS id, 'six' AS name` },
    };
    const to = join(work, 'corrupt', 'out', 'table.parquet');
    await expect(build('corrupt', files, { to })).rejects.toThrow(
      /^cannot parse [b-e]\.parquet(\.gz)?: (not a readable Parquet file|a gzip-compressed Parquet file)/,
    );
    expect(existsSync(to)).toBe(false);
    // Each one alone is named, with the reason.
    for (const name of ['b.parquet', 'c.parquet', 'd.parquet', 'e.parquet.gz']) {
      await expect(build('corrupt', {}, { to, include: ['a.parquet', name, 'f.parquet'] })).rejects.toThrow(
        new RegExp(`^cannot parse ${name.replace(/\./g, '\\.')}: `),
      );
    }
    const result = await build('corrupt', {}, { to, skipBad: true, include: ['*.parquet', '*.parquet.gz'] });
    expect(result.rows).toBe(2);
    expect(Object.fromEntries(result.badFiles.map((b) => [b.source, b.reason]))).toEqual({
      'b.parquet': expect.stringMatching(/^not a readable Parquet file: .*b\.parquet/),
      'c.parquet': expect.stringMatching(/^not a readable Parquet file: .*c\.parquet/),
      'd.parquet': expect.stringMatching(/^not a readable Parquet file: /),
      'e.parquet.gz':
        'a gzip-compressed Parquet file cannot be read; store it uncompressed (Parquet compresses its own pages)',
    });
    expect(await rowsOf(result.path, 'SELECT id, name, _source_file FROM t')).toEqual([
      { id: 1, name: 'one', _source_file: 'a.parquet' },
      { id: 6, name: 'six', _source_file: 'f.parquet' },
    ]);
  });

  it('dedupes across Parquet and NDJSON files: the row from the latest file wins', async () => {
    const result = await build(
      'dedupe',
      {
        '2024-01.parquet': {
          parquet: `SELECT * FROM (VALUES (1, 'old', 1.5), (2, 'old', 2.5)) v(id, v, score)`,
        },
        '2024-02.ndjson': '{"id":2,"v":"new"}\n{"id":3,"v":"new"}\n',
        '2024-03.parquet': { parquet: `SELECT 3 AS id, 'newest' AS v, 3.5 AS score` },
      },
      { dedupeOn: ['id'] },
    );
    expect(await rowsOf(result.path, 'SELECT id, v, score, _source_file FROM t ORDER BY id')).toEqual([
      { id: 1, v: 'old', score: 1.5, _source_file: '2024-01.parquet' },
      { id: 2, v: 'new', score: null, _source_file: '2024-02.ndjson' },
      { id: 3, v: 'newest', score: 3.5, _source_file: '2024-03.parquet' },
    ]);
  });

  it('reads Parquet under any name with --format parquet', async () => {
    const files = { 'export-001.bin': { parquet: `SELECT 1 AS id` } };
    await expect(build('forced', files, { include: ['*.bin'] })).rejects.toThrow(
      /cannot parse export-001\.bin: cannot tell its format from the name \(expected .*\.parquet/,
    );
    const result = await build('forced', files, { include: ['*.bin'], format: 'parquet' });
    expect(await rowsOf(result.path, 'SELECT id, _source_file FROM t')).toEqual([
      { id: 1, _source_file: 'export-001.bin' },
    ]);
  });

  it('leaves Parquet files out of the default selection', async () => {
    const result = await build(
      'default-selection',
      { 'a.ndjson': '{"id":1}\n', 'old-table.parquet': { parquet: `SELECT 2 AS id` } },
      { include: undefined },
    );
    expect(result.sourceFiles.map((f) => f.key)).toEqual(['a.ndjson']);
  });

  it('refuses to write the table where its own selection would read it back', async () => {
    const src = join(work, 'self', 'src');
    await putSources(src, { 'a.parquet': { parquet: `SELECT 1 AS id` } });
    const options = { source: src, cache: join(work, 'self', 'cache'), include: ['**/*.parquet'] };
    await expect(buildTable({ ...options, to: join(src, 'tables', 'out.parquet') })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(
        /^the table would be written among its own source files: tables\/out\.parquet/,
      ),
      hint: "write it elsewhere with --to, or leave it out with --exclude 'tables/out.parquet'",
    });
    expect(existsSync(join(src, 'tables'))).toBe(false);
    const result = await buildTable({
      ...options,
      to: join(src, 'tables', 'out.parquet'),
      exclude: ['tables/out.parquet'],
    });
    expect(result.rows).toBe(1);
    // The rebuild reads only the source, not the table it wrote.
    const again = await buildTable({ ...options, to: result.path, exclude: ['tables/out.parquet'] });
    expect(again.rows).toBe(1);
    expect((await readFile(result.path)).subarray(0, 4).toString()).toBe('PAR1');
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool } from '../../src/core/pool.js';
import { buildTable, type BuildTableOptions } from '../../src/tables/build-table.js';
import { queryTable } from '../../src/tables/inspect-table.js';
import { listTables } from '../../src/tables/list-tables.js';
import { resolveTable } from '../../src/tables/table-config.js';
import { damagedFirstPage, parquetFiles } from '../support/parquet-file.js';
import { adminClient, createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { zipFile } from '../support/zip-file.js';

const FOLDER = 'datamart/Data-Decision-ADM-ModelSnapshot_pzModelSnapshots/';
const FILES = 2000;
const client = adminClient();
let bucket: string;
let work: string;

async function put(key: string, body: string | Uint8Array): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

const snapKey = (i: number): string => `${FOLDER}snap_${String(i).padStart(5, '0')}.json.gz`;

/**
 * Two rows per file; ModelIDs repeat every 500 files. Schema drift: files from 1000 on add Performance (a
 * double); every fourth file lacks Channel.
 */
function snapFile(i: number): Buffer {
  const lines = [0, 1].map((j) => {
    const n = i * 2 + j;
    const row: Record<string, unknown> = {
      pyModelID: `m${n % 1000}`,
      pySnapshotTime: `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`,
      Positives: n,
    };
    if (i % 4 !== 0) row.Channel = 'Web';
    if (i >= 1000) row.Performance = 0.5 + (n % 100) / 1000;
    return JSON.stringify(row);
  });
  return gzipSync(`${lines.join('\n')}\n`);
}

function options(extra: Partial<BuildTableOptions> = {}): BuildTableOptions {
  const table = resolveTable('modelSnapshot', { from: `s3://${bucket}` });
  return {
    source: table.source,
    name: table.name,
    cache: join(work, 'cache'),
    to: join(work, 'out', 'modelSnapshot.parquet'),
    ...extra,
  };
}

async function one(path: string, sql: string): Promise<unknown[]> {
  return (await queryTable(path, sql)).rows[0] ?? [];
}

beforeAll(async () => {
  bucket = await createTestBucket('tables');
  work = await mkdtemp(join(tmpdir(), 'wharf-tables-'));
  const bodies = Array.from({ length: FILES }, (_, i) => i);
  await runPool(bodies, 32, (i) => put(snapKey(i), snapFile(i)));
  await put(
    `${FOLDER}export_2024.zip`,
    zipFile({
      'data.json': ['z1', 'z2', 'z3']
        .map((id, k) => JSON.stringify({ pyModelID: id, Positives: k, Extra: 'zip' }))
        .join('\n'),
    }),
  );
  await put(
    `${FOLDER}snap_corrupt.json.gz`,
    gzipSync('{"pyModelID":"bad","Positives":1}\n'.repeat(200)).subarray(0, 40),
  );
  await put(`${FOLDER}.snap_00000.json.gz.meta`, '');
});

afterAll(async () => {
  await deleteTestBucket(bucket);
  await rm(work, { recursive: true, force: true });
});

describe('buildTable against S3', () => {
  it('names a corrupt file and writes nothing', async () => {
    const o = options();
    await expect(buildTable(o)).rejects.toThrow(/^cannot parse snap_corrupt\.json\.gz: /);
    await expect(queryTable(o.to as string, 'SELECT 1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('with skipBad builds one zstd table from 2,000 drifting gzipped NDJSON files and a zip, from the cache', async () => {
    const result = await buildTable(options({ skipBad: true }));
    expect(result.badFiles).toHaveLength(1);
    expect(result.badFiles[0]?.source).toBe('snap_corrupt.json.gz');
    expect(result.badFiles[0]?.reason).toMatch(/^not a complete gzip stream: unexpected end of file/);
    // Everything came from the cache filled by the failed build.
    expect(result.fetch.downloaded).toBe(0);
    expect(result.sourceFiles).toHaveLength(FILES + 2);
    expect(result.rows).toBe(FILES * 2 + 3);
    expect(result.columns).toEqual([
      { name: 'pyModelID', type: 'VARCHAR' },
      { name: 'Positives', type: 'BIGINT' },
      { name: 'Extra', type: 'VARCHAR' },
      { name: 'pySnapshotTime', type: 'TIMESTAMP' }, // UTC instants (isAdjustedToUTC)
      { name: 'Channel', type: 'VARCHAR' },
      { name: 'Performance', type: 'DOUBLE' },
      { name: '_source_file', type: 'VARCHAR' },
    ]);
    expect(
      await one(
        result.path,
        `SELECT count(*) FILTER (WHERE Channel IS NULL), count(*) FILTER (WHERE Performance IS NULL),
                count(DISTINCT _source_file), max(Positives)
         FROM t`,
      ),
    ).toEqual([(FILES / 4) * 2 + 3, 1000 * 2 + 3, FILES + 1, FILES * 2 - 1]);
    expect(
      await one(
        result.path,
        `SELECT Positives, Channel, _source_file FROM t WHERE pyModelID = 'm5' AND Positives = 2005`,
      ),
    ).toEqual([2005, 'Web', 'snap_01002.json.gz']);
    expect(await one(result.path, `SELECT _source_file, Extra FROM t WHERE pyModelID = 'z2'`)).toEqual([
      'export_2024.zip/data.json',
      'zip',
    ]);
    expect(
      await one(result.path, `SELECT DISTINCT compression FROM parquet_metadata('${result.path}')`),
    ).toEqual(['ZSTD']);
  });

  it('a rebuild after new exports fetches only the new files', async () => {
    const added = [FILES, FILES + 1, FILES + 2, FILES + 3, FILES + 4];
    for (const i of added) await put(snapKey(i), snapFile(i));
    const result = await buildTable(options({ skipBad: true }));
    const downloaded = result.sourceFiles.filter((f) => f.status === 'downloaded').map((f) => f.key);
    expect(downloaded).toEqual(added.map(snapKey));
    expect(result.sourceFiles.filter((f) => f.status === 'skipped')).toHaveLength(FILES + 2);
    expect(result.fetch.requests.reads).toBe(added.length);
    expect(result.rows).toBe((FILES + added.length) * 2 + 3);
  });

  it('dedupes on a column: the row from the latest file wins', async () => {
    const result = await buildTable(
      options({ skipBad: true, dedupeOn: ['pyModelID'], to: join(work, 'out', 'dedupe.parquet') }),
    );
    expect(result.rows).toBe(1000 + 3);
    expect(await one(result.path, `SELECT count(*), count(DISTINCT pyModelID) FROM t`)).toEqual([1003, 1003]);
    // m0 and m9 last appear in the added files (4000, 4009); m10 last in snap_01505 (3010).
    expect(
      (
        await queryTable(
          result.path,
          `SELECT pyModelID, Positives, _source_file FROM t WHERE pyModelID IN ('m0', 'm9', 'm10') ORDER BY 1`,
        )
      ).rows,
    ).toEqual([
      ['m0', 4000, 'snap_02000.json.gz'],
      ['m10', 3010, 'snap_01505.json.gz'],
      ['m9', 4009, 'snap_02004.json.gz'],
    ]);
  });

  it('writes to S3 in one atomic upload, and queries the table there', async () => {
    const to = `s3://${bucket}/tables/modelSnapshot.parquet`;
    const result = await buildTable(options({ skipBad: true, to, sourceColumn: false }));
    expect(result.path).toBe(to);
    expect(result.fetch.downloaded).toBe(0);
    const { columns, rows } = await queryTable(
      to,
      'SELECT Channel, count(*) AS n FROM modelSnapshot GROUP BY 1 ORDER BY 1 NULLS FIRST',
    );
    expect(columns.map((c) => c.name)).toEqual(['Channel', 'n']);
    expect(rows).toEqual([
      // Files 0, 4, ..., 2004 lack Channel (502 files, 2 rows each), and so do the zip's 3 rows.
      [null, 2 * 502 + 3],
      ['Web', (FILES + 5) * 2 - 2 * 502],
    ]);
    expect((await queryTable(to, 'SELECT * FROM t LIMIT 1')).columns.map((c) => c.name)).not.toContain(
      '_source_file',
    );
  });

  it('lists the datamart names and which have files', async () => {
    const tables = await listTables({ from: `s3://${bucket}` });
    expect(tables.map((t) => [t.name, t.hasFiles])).toEqual([
      ['modelSnapshot', true],
      ['predictorSnapshot', false],
      ['binaryDistribution', false],
      ['contingencyTable', false],
      ['histogram', false],
      ['snapshot', false],
      ['notification', false],
    ]);
    expect(tables[0]?.source).toBe(`s3://${bucket}/${FOLDER}`);
  });

  it('with metaFiles reads only files whose .meta companion exists', async () => {
    const result = await buildTable(options({ metaFiles: true, to: join(work, 'out', 'meta.parquet') }));
    expect(result.sourceFiles.map((f) => f.key)).toEqual([snapKey(0)]);
    expect(result.rows).toBe(2);
  });
});

describe('buildTable with Parquet sources against S3', () => {
  const EVENTS = 'exports/events/';
  const PARTS = 30;
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  /** Part i: three rows, ids 3i..3i+2; from part 15 on a `score` column (schema drift). */
  const partSql = (i: number): string => `
    SELECT (${i} * 3 + j)::INTEGER AS id,
           TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (${i}) MINUTE + INTERVAL (j) SECOND AS ts,
           ((${i} * 3 + j) * 1.25)::DECIMAL(12,2) AS amount,
           ['t${i}', 'j' || j] AS tags
           ${i >= 15 ? `, ((${i} * 3 + j) / 8)::DECIMAL(10,3) AS score` : ''}
    FROM range(3) r(j)`;
  const include = ['**/*.parquet', '**/*.ndjson', '**/*.zip'];
  type Row = [number, string | null, number | null, string[] | null, number | null, string | null, string];
  /** Every row in source order: id, ts, amount, tags, score, note, _source_file. */
  const expected: Row[] = [];
  for (let i = 0; i < PARTS; i++) {
    for (let j = 0; j < 3; j++) {
      const id = i * 3 + j;
      expected.push([
        id,
        `2024-01-01 00:${pad(i, 2)}:${pad(j, 2)}`,
        id * 1.25,
        [`t${i}`, `j${j}`],
        i >= 15 ? id / 8 : null,
        null,
        `2024/part-${pad(i, 3)}.parquet`,
      ]);
    }
  }
  expected.push(
    [0, null, 99.99, null, null, 'fixed', '2024/part-999-fix.parquet'],
    [500, '2024-02-01 00:00:00', null, null, null, null, 'archive.zip/extra/part-x.parquet'],
    [1000, null, null, null, null, 'json', 'late.ndjson'],
  );

  function eventOptions(extra: Partial<BuildTableOptions> = {}): BuildTableOptions {
    return {
      source: `s3://${bucket}/${EVENTS}`,
      name: 'events',
      include,
      cache: join(work, 'cache'),
      to: join(work, 'out', 'events.parquet'),
      ...extra,
    };
  }

  beforeAll(async () => {
    const [fix, member, big, ...parts] = await parquetFiles([
      `SELECT 0::INTEGER AS id, 99.99::DECIMAL(12,2) AS amount, 'fixed' AS note`,
      `SELECT 500::INTEGER AS id, TIMESTAMP '2024-02-01 00:00:00' AS ts`,
      `SELECT range::INTEGER AS id, 'r' || range AS name FROM range(1000)`,
      ...Array.from({ length: PARTS }, (_, i) => partSql(i)),
    ]);
    await runPool(parts, 8, (body, i) => put(`${EVENTS}2024/part-${pad(i, 3)}.parquet`, body));
    await put(`${EVENTS}2024/part-999-fix.parquet`, fix as Buffer);
    await put(`${EVENTS}archive.zip`, zipFile({ 'extra/part-x.parquet': member as Buffer }));
    await put(`${EVENTS}bad-damaged.parquet`, damagedFirstPage(big as Buffer));
    await put(`${EVENTS}bad-truncated.parquet`, (big as Buffer).subarray(0, 200));
    await put(`${EVENTS}late.ndjson`, '{"id":1000,"note":"json"}\n');
  });

  it('names a corrupt Parquet file and writes nothing', async () => {
    const o = eventOptions();
    await expect(buildTable(o)).rejects.toThrow(
      /^cannot parse bad-(damaged|truncated)\.parquet: not a readable Parquet file: /,
    );
    await expect(queryTable(o.to as string, 'SELECT 1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('with skipBad builds the table with every Parquet type kept, value by value', async () => {
    const result = await buildTable(eventOptions({ skipBad: true }));
    expect(result.fetch.downloaded).toBe(0);
    expect(result.sourceFiles).toHaveLength(PARTS + 5);
    // The truncated file is named by DuckDB; the damaged one only by reading each file's values.
    expect(Object.fromEntries(result.badFiles.map((b) => [b.source, b.reason]))).toEqual({
      'bad-damaged.parquet': expect.stringMatching(/^not a readable Parquet file: /),
      'bad-truncated.parquet': expect.stringMatching(
        /^not a readable Parquet file: .*bad-truncated\.parquet/,
      ),
    });
    expect(result.columns).toEqual([
      { name: 'id', type: 'BIGINT' }, // INTEGER in Parquet, BIGINT in the NDJSON file
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'amount', type: 'DECIMAL(12,2)' },
      { name: 'tags', type: 'VARCHAR[]' },
      { name: 'score', type: 'DECIMAL(10,3)' },
      { name: 'note', type: 'VARCHAR' },
      { name: '_source_file', type: 'VARCHAR' },
    ]);
    expect(result.rows).toBe(expected.length);
    expect((await queryTable(result.path, 'SELECT * FROM t')).rows).toEqual(expected);
  });

  it('dedupes across Parquet, a zip member and NDJSON: the row from the latest file wins', async () => {
    const result = await buildTable(
      eventOptions({ skipBad: true, dedupeOn: ['id'], to: join(work, 'out', 'events-dedupe.parquet') }),
    );
    expect(result.rows).toBe(expected.length - 1);
    expect(
      (
        await queryTable(
          result.path,
          'SELECT id, amount, note, _source_file FROM t WHERE id IN (0, 1) ORDER BY id',
        )
      ).rows,
    ).toEqual([
      [0, 99.99, 'fixed', '2024/part-999-fix.parquet'],
      [1, 1.25, null, '2024/part-000.parquet'],
    ]);
  });

  it('writes the table to S3, but not inside the folder whose Parquet files it reads', async () => {
    await expect(
      buildTable(eventOptions({ skipBad: true, to: `s3://${bucket}/${EVENTS}events.parquet` })),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(
        /^the table would be written among its own source files: events\.parquet under s3:/,
      ),
    });
    const to = `s3://${bucket}/tables/events.parquet`;
    const result = await buildTable(eventOptions({ skipBad: true, to }));
    expect(result.path).toBe(to);
    const { columns, rows } = await queryTable(to, 'SELECT * FROM events');
    expect(columns.map((c) => c.name)).toEqual([
      'id',
      'ts',
      'amount',
      'tags',
      'score',
      'note',
      '_source_file',
    ]);
    expect(rows).toEqual(expected);
  });
});

describe('buildTable: what exporters write, against S3', () => {
  const source = (folder: string): string => `s3://${bucket}/quirks/${folder}/`;
  const build = (folder: string, extra: Partial<BuildTableOptions> = {}): ReturnType<typeof buildTable> =>
    buildTable({
      source: source(folder),
      cache: join(work, 'quirks-cache'),
      to: join(work, 'out', `${folder}.parquet`),
      ...extra,
    });

  it('JSON files that start with a byte-order mark are read like the others (an array stays rows)', async () => {
    const BOM = '\uFEFF';
    await put('quirks/bom/a.json.gz', gzipSync(`${BOM}[{"id":1,"n":"x"},{"id":2,"n":"y"}]`));
    await put('quirks/bom/b.json', `${BOM}[{"id":3,"n":"z"}]`);
    await put('quirks/bom/c.ndjson', `${BOM}{"id":4,"n":"w"}\n{"id":5}\n`);
    await put('quirks/bom/d.json', '[{"id":6}]');
    const result = await build('bom');
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'n', '_source_file']);
    const { rows } = await queryTable(result.path, 'SELECT id, n, _source_file FROM t ORDER BY id');
    expect(rows).toEqual([
      [1, 'x', 'a.json.gz'],
      [2, 'y', 'a.json.gz'],
      [3, 'z', 'b.json'],
      [4, 'w', 'c.ndjson'],
      [5, null, 'c.ndjson'],
      [6, null, 'd.json'],
    ]);
  });
});

describe('buildTable: text encodings, against S3', () => {
  it('UTF-16 files with a byte-order mark (Windows "Unicode" exports) are read as text, not refused', async () => {
    const utf16le = (text: string): Buffer =>
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const utf16be = (text: string): Buffer => {
      const le = Buffer.from(text, 'utf16le');
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]);
    };
    await put('quirks/utf16/a.csv', utf16le('id,name\r\n1,café\r\n2,日本\r\n'));
    await put('quirks/utf16/b.csv.gz', gzipSync(utf16be('id,name\n3,naïve\n')));
    await put('quirks/utf16/c.ndjson', utf16le('{"id":4,"name":"ü"}\n'));
    await put('quirks/utf16/d.csv', 'id,name\n5,plain\n');
    const result = await buildTable({
      source: `s3://${bucket}/quirks/utf16/`,
      cache: join(work, 'utf16-cache'),
      to: join(work, 'out', 'utf16.parquet'),
    });
    expect(result.badFiles).toEqual([]);
    const { rows } = await queryTable(result.path, 'SELECT id, name, _source_file FROM t ORDER BY id');
    expect(rows).toEqual([
      [1, 'café', 'a.csv'],
      [2, '日本', 'a.csv'],
      [3, 'naïve', 'b.csv.gz'],
      [4, 'ü', 'c.ndjson'],
      [5, 'plain', 'd.csv'],
    ]);
  });
});

describe('buildTable: the sep= line Excel reads, against S3', () => {
  it('a CSV file that starts with sep=; has its header on the next line, not a column named "sep="', async () => {
    await put('quirks/excel-sep/a.csv', 'sep=;\r\na;b\r\n1;2\r\n');
    await put('quirks/excel-sep/b.csv.gz', gzipSync('\uFEFFsep=,\na,b\n3,4\n'));
    await put('quirks/excel-sep/c.csv', 'a,b\n5,6\n');
    const result = await buildTable({
      source: `s3://${bucket}/quirks/excel-sep/`,
      cache: join(work, 'excel-sep-cache'),
      to: join(work, 'out', 'excel-sep.parquet'),
    });
    expect(result.columns.map((c) => c.name)).toEqual(['a', 'b', '_source_file']);
    expect((await queryTable(result.path, 'SELECT * FROM t ORDER BY a')).rows).toEqual([
      [1, 2, 'a.csv'],
      [3, 4, 'b.csv.gz'],
      [5, 6, 'c.csv'],
    ]);
  });

  it('such a file, or a JSON file with a mark, that is not UTF-8 after all is a bad file, not text with U+FFFD', async () => {
    await put('quirks/not-utf8/a.csv', Buffer.from('sep=;\na;b\n1;caf\xe9\n', 'latin1'));
    await put('quirks/not-utf8/b.ndjson', Buffer.from('\xef\xbb\xbf{"a":"caf\xe9"}\n', 'latin1'));
    await put('quirks/not-utf8/c.csv', 'a,b\n5,6\n');
    const result = await buildTable({
      source: `s3://${bucket}/quirks/not-utf8/`,
      cache: join(work, 'not-utf8-cache'),
      to: join(work, 'out', 'not-utf8.parquet'),
      skipBad: true,
    });
    expect(result.badFiles.map((f) => [f.source, f.reason])).toEqual([
      ['a.csv', expect.stringMatching(/^not valid UTF-8 text/)],
      ['b.ndjson', expect.stringMatching(/^not valid UTF-8 text/)],
    ]);
    expect((await queryTable(result.path, 'SELECT * FROM t')).rows).toEqual([[5, 6, 'c.csv']]);
  });
});

describe('buildTable: CSV files whose rows do not match their header, against S3', () => {
  it('a file cut off mid-line, or with a stray field, is a bad file naming the line, not a one-column table', async () => {
    await put('quirks/ragged/a.csv', 'a,b,c\n1,2,3\n');
    await put('quirks/ragged/b.csv', 'a,b,c\n4,5,6\n7,8');
    await put('quirks/ragged/c.csv.gz', gzipSync('a;b\n1;2\n3;4;5\n6;7\n'));
    const options: BuildTableOptions = {
      source: `s3://${bucket}/quirks/ragged/`,
      cache: join(work, 'ragged-cache'),
      to: join(work, 'out', 'ragged.parquet'),
    };
    await expect(buildTable(options)).rejects.toThrow(
      /^cannot parse b\.csv: .*Line: 3.*Expected Number of Columns: 3 Found: 2/,
    );
    const result = await buildTable({ ...options, skipBad: true });
    expect(result.badFiles.map((f) => [f.source, f.reason])).toEqual([
      ['b.csv', expect.stringMatching(/Line: 3.*Expected Number of Columns: 3 Found: 2/)],
      ['c.csv.gz', expect.stringMatching(/Line: 3.*Expected Number of Columns: 2 Found: 3/)],
    ]);
    expect(result.columns.map((c) => c.name)).toEqual(['a', 'b', 'c', '_source_file']);
    expect((await queryTable(result.path, 'SELECT * FROM t')).rows).toEqual([[1, 2, 3, 'a.csv']]);
  });

  it('a header with the delimiter inside quotes is not taken for such a file', async () => {
    await put('quirks/quoted-header/a.csv', '"last, first",age\n"Doe, J",42\n');
    const result = await buildTable({
      source: `s3://${bucket}/quirks/quoted-header/`,
      cache: join(work, 'quoted-cache'),
      to: join(work, 'out', 'quoted.parquet'),
    });
    expect((await queryTable(result.path, 'SELECT * FROM t')).rows).toEqual([['Doe, J', 42, 'a.csv']]);
  });
});

describe('buildTable: column names that differ only in case, against S3', () => {
  it('across formats and across batches they are named as within one reader (ID, id_1), not a failed build', async () => {
    await put('quirks/case/a.ndjson', '{"ID":1,"v":"a"}\n');
    await put('quirks/case/b.ndjson', '{"id":2,"v":"b"}\n');
    await put('quirks/case/c.ndjson', '{"id":3}\n');
    await put('quirks/case/d.csv', 'id,v\n4,d\n');
    const build = (batchFiles: number, include: string[]): ReturnType<typeof buildTable> =>
      buildTable({
        source: `s3://${bucket}/quirks/case/`,
        include,
        batchFiles,
        cache: join(work, 'case-cache'),
        to: join(work, 'out', `case-${batchFiles}-${include.length}.parquet`),
      });
    // One reader for the three NDJSON files: DuckDB names the second spelling id_1.
    const together = await build(1000, ['*.ndjson']);
    // One file per batch, then a CSV group: the batches are appended by name.
    const batched = await build(1, ['*.ndjson', '*.csv']);
    for (const result of [together, batched]) {
      expect(result.columns.map((c) => c.name).slice(0, 3)).toEqual(['ID', 'v', 'id_1']);
    }
    const { rows } = await queryTable(batched.path, 'SELECT "ID", id_1, v, _source_file FROM t');
    expect(rows).toEqual([
      [1, null, 'a', 'a.ndjson'],
      [null, 2, 'b', 'b.ndjson'],
      [null, 3, null, 'c.ndjson'],
      [null, 4, 'd', 'd.csv'],
    ]);
  });
});

import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, wharf } from '../support/run-cli.js';
import { adminClient, createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';

let bucket: string;
let work: string;
const PREFIX = 'dm/Data-DM-Snapshot/';

async function put(key: string, body: string | Uint8Array): Promise<void> {
  await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

beforeAll(async () => {
  bucket = await createTestBucket('tablecli');
  work = await mkdtemp(join(tmpdir(), 'wharf-table-cli-'));
  for (let i = 0; i < 6; i++) {
    await put(
      `${PREFIX}part-${i}.json.gz`,
      gzipSync(`{"id":${i},"Channel":"Web, \\"mobile\\""}\n{"id":${i + 100}}\n`),
    );
  }
  await writeFile(
    join(work, 'wharf.config.json'),
    JSON.stringify({
      tables: {
        from: `s3://${bucket}`,
        datamartFolder: 'dm',
        define: { parts: { prefix: PREFIX, format: 'ndjson', include: ['*.gz'] } },
      },
    }),
  );
});

afterAll(async () => {
  await deleteTestBucket(bucket);
  await rm(work, { recursive: true, force: true });
});

interface BuildJson {
  path: string;
  rows: number;
  columns: { name: string; type: string }[];
  downloaded: number;
  upToDate: number;
  sourceFiles: { key: string; status: string }[];
  badFiles: { source: string; reason: string }[];
}

describe('wharf table', () => {
  it('build --json by preset name (config from and folder), then a rebuild downloads nothing', async () => {
    const first = await wharf(['--json', 'table', 'build', 'snapshot', '--to', 'out/snapshot.parquet'], {
      cwd: work,
    });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as BuildJson;
    expect(result).toMatchObject({
      path: join(work, 'out', 'snapshot.parquet'),
      rows: 12,
      downloaded: 6,
      upToDate: 0,
    });
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'Channel', '_source_file']);
    const again = JSON.parse(
      (await wharf(['--json', 'table', 'build', 'snapshot', '--to', 'out/snapshot.parquet'], { cwd: work }))
        .stdout,
    ) as BuildJson;
    expect(again).toMatchObject({ rows: 12, downloaded: 0, upToDate: 6 });
  });

  it('query prints CSV (quoted as needed) or JSON lines; show prints schema and rows', async () => {
    const csv = await wharf(
      [
        'table',
        'query',
        'out/snapshot.parquet',
        'SELECT id, Channel, _source_file FROM snapshot WHERE id < 2 ORDER BY id',
      ],
      { cwd: work },
    );
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(
      'id,Channel,_source_file\n0,"Web, ""mobile""",part-0.json.gz\n1,"Web, ""mobile""",part-1.json.gz\n',
    );
    const json = await wharf(
      ['--json', 'table', 'query', 'out/snapshot.parquet', 'SELECT count(*) AS n, max(id) AS top FROM t'],
      { cwd: work },
    );
    expect(jsonLines(json.stdout)).toEqual([{ n: 12, top: 105 }]);
    // In CSV an empty string is "" and NULL is an empty field.
    const blanks = await wharf(
      [
        'table',
        'query',
        'out/snapshot.parquet',
        "SELECT '' AS e, NULL::VARCHAR AS n, 'NULL' AS t, 0.1::FLOAT AS f",
      ],
      { cwd: work },
    );
    expect(blanks.stdout).toBe('e,n,t,f\n"",,NULL,0.1\n');
    const show = await wharf(['table', 'show', 'out/snapshot.parquet', '--limit', '2'], { cwd: work });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /snapshot\.parquet: 12 rows, 3 columns\nCOLUMN\s+TYPE\nid\s+BIGINT\nChannel\s+VARCHAR\n_source_file\s+VARCHAR\n\nid\s+Channel\s+_source_file\n0\s+Web, "mobile"\s+part-0\.json\.gz\n100\s+NULL\s+part-0\.json\.gz\n$/,
    );
    // Large results reach a pipe whole (the CLI ends with process.exit).
    const big = await wharf(
      ['table', 'query', 'out/snapshot.parquet', 'SELECT range AS n FROM range(200000)'],
      { cwd: work },
    );
    expect(big.stdout.split('\n')).toHaveLength(200002);
    expect(big.stdout.endsWith('199999\n')).toBe(true);
    const bad = await wharf(['table', 'query', 'out/snapshot.parquet', 'SELECT nope FROM t'], { cwd: work });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^wharf: error: the query failed: Binder Error: Referenced column "nope" not found/,
    );
  });

  it('builds a config-defined table to S3 with --dedupe-on, and lists the names', async () => {
    const out = await wharf(
      ['--json', 'table', 'build', 'parts', '--dedupe-on', 'Channel', '--to', `s3://${bucket}/tables/`],
      { cwd: work },
    );
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ path: `s3://${bucket}/tables/parts.parquet`, rows: 2 });
    const list = await wharf(['--json', 'table', 'list'], { cwd: work });
    expect(jsonLines(list.stdout).map((t) => [t.name, t.hasFiles])).toEqual([
      ['parts', true],
      ['modelSnapshot', false],
      ['predictorSnapshot', false],
      ['binaryDistribution', false],
      ['contingencyTable', false],
      ['histogram', false],
      ['snapshot', true],
      ['notification', false],
    ]);
  });

  it('a corrupt file: exit 1 with one line naming it; --skip-bad warns with the count', async () => {
    await put(`${PREFIX}part-9.json.gz`, gzipSync('{"id": 9,\n'));
    const failed = await wharf(['table', 'build', 'snapshot', '--to', 'out/bad.parquet'], { cwd: work });
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(
      /^wharf: error: cannot parse part-9\.json\.gz: Malformed JSON in file "part-9\.json\.gz".*--skip-bad/,
    );
    expect(existsSync(join(work, 'out', 'bad.parquet'))).toBe(false);
    const skipped = await wharf(['table', 'build', 'snapshot', '--skip-bad', '--to', 'out/bad.parquet'], {
      cwd: work,
    });
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(
      /^wharf: warning: left out 1 file\(s\) that could not be parsed \(--skip-bad\); first: part-9\.json\.gz: /m,
    );
    expect(skipped.stderr).toMatch(
      /^snapshot: 12 rows, 3 columns from 7 files, 1 of them left out as unreadable \(0 downloaded, 7 up to date\)/m,
    );
    expect(skipped.stdout).toMatch(/bad\.parquet/);
  });

  it('unknown names and missing files are one-line errors with their exit codes', async () => {
    const unknown = await wharf(['table', 'build', 'modelsnapshot'], { cwd: work });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^wharf: error: unknown table "modelsnapshot"; known names: parts, modelSnapshot,/,
    );
    const empty = await wharf(['table', 'build', 'histogram'], { cwd: work });
    expect(empty.code).toBe(3);
    expect(empty.stderr).toMatch(
      /^wharf: error: no files to build histogram from under s3:\/\/.*\/dm\/Data-DM-Histogram\/ \(looked for \.json/,
    );
    const missing = await wharf(['table', 'show', 'nope.parquet'], { cwd: work });
    expect(missing.code).toBe(3);
  });

  it('a mistyped --from is named as given (exit 2); a --from bucket that does not exist is exit 3, not "no files"', async () => {
    for (const args of [
      ['list', '--from', 's3:/x'],
      ['build', 'modelSnapshot', '--from', 's3:/x'],
    ]) {
      const r = await wharf(['table', ...args], { cwd: work });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^wharf: error: malformed location "s3:\/x": expected s3:\/\/BUCKET/),
      ]);
    }
    const missing = await wharf(['table', 'list', '--from', 's3://wharf-no-such-bucket-7c1d'], { cwd: work });
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^wharf: error: bucket wharf-no-such-bucket-7c1d does not exist at endpoint /),
    ]);
    expect(missing.stdout).toBe('');
  });

  it('a --config file that is not JSON is one line, its lines shown escaped (exit 2)', async () => {
    await writeFile(join(work, 'not-json.txt'), 'hello\nworld\n');
    const r = await wharf(['table', 'build', 'parts', '--config', 'not-json.txt'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^wharf: error: \S*not-json\.txt is not valid JSON: .*"hello\\nworld\\n"/),
    ]);
  });

  it('--encoding windows-1252 reads Excel CSV exports exactly; without it the refusal names the option', async () => {
    // "café;Müller “5 €”" in Windows-1252: é 0xE9, ü 0xFC, “ 0x93, € 0x80, ” 0x94.
    const cp1252 = Buffer.from([
      ...Buffer.from('id;name\r\n1;caf'),
      0xe9,
      ...Buffer.from('\r\n2;M'),
      0xfc,
      ...Buffer.from('ller '),
      0x93,
      ...Buffer.from('5 '),
      0x80,
      0x94,
      ...Buffer.from('\r\n'),
    ]);
    await put('crm/2024.csv', cp1252);
    await put('crm/2025.csv', 'id;name\n3;UTF-8 “€”\n');
    const args = ['table', 'build', `s3://${bucket}/crm/`, '--to', 'out/crm.parquet'];
    const refused = await wharf(args, { cwd: work });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toMatch(
      /^wharf: error: cannot parse 2024\.csv: .*not utf-8 encoded; if it is Windows-1252 .*pass --encoding windows-1252, latin-1 or utf-16 \(fix or remove the file/,
    );
    const built = await wharf(['--json', ...args, '--encoding', 'windows-1252'], { cwd: work });
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ rows: 3, badFiles: [] });
    const rows = await wharf(
      ['table', 'query', 'out/crm.parquet', 'SELECT id, name, _source_file FROM t ORDER BY id'],
      { cwd: work },
    );
    expect(rows.stdout).toBe(
      'id,name,_source_file\n1,café,2024.csv\n2,Müller “5 €”,2024.csv\n3,UTF-8 “€”,2025.csv\n',
    );
    const unknown = await wharf([...args, '--encoding', 'ebcdic'], { cwd: work });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(
      /^wharf: error: --encoding must be one of utf-8, utf-16, latin-1, windows-1252 .*got "ebcdic"/,
    );
  });

  it('show and query of a file that is not Parquet name the file given, not a downloaded copy', async () => {
    await writeFile(join(work, 'notes.parquet'), 'not parquet at all\n');
    await writeFile(join(work, 'empty.parquet'), '');
    await put('junk/notes.parquet', 'not parquet at all\n');
    for (const [file, why] of [
      ['notes.parquet', 'it has no Parquet footer (another kind of file, or one cut short)'],
      ['empty.parquet', 'it is empty or too small'],
      [
        `s3://${bucket}/junk/notes.parquet`,
        'it has no Parquet footer (another kind of file, or one cut short)',
      ],
    ] as const) {
      for (const args of [
        ['show', file],
        ['query', file, 'SELECT 1'],
      ]) {
        const r = await wharf(['table', ...args], { cwd: work });
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split('\n')).toEqual([
          expect.stringMatching(
            new RegExp(
              `^wharf: error: ${file.replace(/[./]/g, '\\$&')} is not a Parquet file: ${why.replace(/[()]/g, '\\$&')} \\(give the Parquet file`,
            ),
          ),
        ]);
      }
    }
  });
});

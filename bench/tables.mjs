// bench/tables.mjs - many small export files -> one Parquet table: `wharf table build` vs a naive
// per-file approach (what pdstools does with pandas: read each file, append, on every call), measured
// in the same run.
//
//   node bench/tables.mjs [--files 5000] [--runs 3] [--warmup 1] [--scenario both|warm|cold] [--no-start]
//
// Untimed setup: a scratch bucket with FILES gzipped NDJSON files (2-4 rows each, schema drift: every
// fourth file lacks Channel, the second half adds Performance) under datamart/<table>/, PUT 32 at once.
// Scenarios (each a harness comparison; every command a child process, wall time + peak RSS via GNU time):
//   warm  - the files are already local (the usual case: exports were fetched before). wharf table build
//           lists the prefix, skips every cached file and builds the table; the naive peers read the same
//           cached files: "naive duckdb" appends file by file (CREATE TABLE from the first, then ALTER TABLE
//           ADD COLUMN for new columns and INSERT BY NAME per file), "naive json" parses every file with
//           JSON.parse and concatenates the rows in memory (pandas.concat style), then writes once.
//   cold  - nothing local: wharf table build into an empty cache vs the naive duckdb loop after downloading
//           every object with the SDK (32 at once, as pdstools' async download).
// After every run the output is checked (row count) and removed. Needs the built CLI: npm run build.
import { GetObjectCommand, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BenchError, compare, log } from './lib/harness.mjs';
import { REPO, s3Client } from './lib/s3.mjs';
import { WHARF_MAIN, openS3Bench, parseBenchArgs } from './lib/s3-bench.mjs';

const USAGE = `usage: node bench/tables.mjs [--files N] [--runs N] [--warmup N] [--scenario both|warm|cold] [--no-start]
  --files 5000      number of source files (use e.g. 500 for a quick run)
  --runs 3          measured rounds per scenario
  --warmup 1        unmeasured rounds first
  --scenario both   warm (files already cached), cold (empty cache), or both
  --no-start        don't run scripts/test-services start; use AWS_ENDPOINT_URL etc. from the env`;

const SELF = path.join(REPO, 'bench/tables.mjs');
const PREFIX = 'datamart/Data-Decision-ADM-ModelSnapshot_pzModelSnapshots/';
const DATASET_ID = 'bench';

function rowsIn(i) {
  return 2 + (i % 3);
}

function fileBody(i, files) {
  const lines = [];
  for (let j = 0; j < rowsIn(i); j++) {
    const row = {
      pyModelID: `m${(i * 7 + j) % 1000}`,
      pyName: `Offer${j}`,
      Positives: i * 10 + j,
      ResponseCount: i * 100 + j,
      pySnapshotTime: `20240101T${String(i % 24).padStart(2, '0')}0000.000 GMT`,
    };
    if (i % 4 !== 0) row.Channel = 'Web';
    if (i >= files / 2) row.Performance = 0.5 + (i % 50) / 100;
    lines.push(JSON.stringify(row));
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--naive') return naive(argv.slice(1));
  const args = parseBenchArgs(USAGE, {
    files: { type: 'string', default: '5000' },
    scenario: { type: 'string', default: 'both' },
  });
  if (!args) return 0;
  const { values, int, runs, warmup } = args;
  const files = int('files', 1);
  if (!['both', 'warm', 'cold'].includes(values.scenario))
    throw new BenchError(`--scenario must be both, warm or cold\n${USAGE}`);
  const bench = await openS3Bench({ name: 'tables', noStart: values['no-start'] });
  const { client, tmp } = bench;
  const expectedRows = Array.from({ length: files }, (_, i) => rowsIn(i)).reduce((a, b) => a + b, 0);

  try {
    const bucket = await bench.createBucket();
    const t0 = Date.now();
    let next = 0;
    let bytes = 0;
    await Promise.all(
      Array.from({ length: Math.min(32, files) }, async () => {
        while (next < files) {
          const i = next++;
          const body = fileBody(i, files);
          bytes += body.length;
          const key = `${PREFIX}snap_${String(i).padStart(6, '0')}.json.gz`;
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        }
      }),
    );
    log(
      `${files} gzipped NDJSON files (${(bytes / 1024).toFixed(0)} KiB, ${expectedRows} rows) uploaded to s3://${bucket}/${PREFIX} (untimed, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const source = `s3://${bucket}/${PREFIX}`;
    const endpoint = process.env.AWS_ENDPOINT_URL;
    const out = (tool) => path.join(tmp, `${tool}.parquet`);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const checkOutput = (tool) => async () => {
      const file = out(tool);
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      const reader = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}')`);
      const rows = Number(reader.getRowsJson()[0][0]);
      connection.closeSync();
      instance.closeSync();
      if (rows !== expectedRows)
        throw new BenchError(`benchmark aborted: ${tool} wrote ${rows} rows, expected ${expectedRows}`);
      await rm(file, { force: true });
    };
    const wharfArgs = (cache, tool) => [
      WHARF_MAIN,
      '--quiet',
      '--no-progress',
      '--endpoint-url',
      endpoint,
      'table',
      'build',
      source,
      '--to',
      out(tool),
      '--cache',
      cache,
      '--dataset-id',
      DATASET_ID,
    ];
    const summaries = [];

    if (values.scenario !== 'cold') {
      // The shared warm cache: one untimed wharf fetch fills it; the naive peers read the same files.
      const cache = path.join(tmp, 'warm-cache');
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(
        process.execPath,
        [
          WHARF_MAIN,
          '--quiet',
          '--no-progress',
          '--endpoint-url',
          endpoint,
          'fetch',
          source,
          cache,
          '--dataset-id',
          DATASET_ID,
        ],
        { stdio: 'inherit' },
      );
      if (r.status !== 0) throw new BenchError('could not fill the warm cache with wharf fetch');
      const cached = path.join(cache, DATASET_ID);
      const { summary } = await compare({
        name: 'tables-warm',
        title: `wharf table build ${files} files (cached)`,
        runs,
        warmup,
        meta: { files, rows: expectedRows, bytes },
        commands: [
          {
            label: 'wharf table build (files cached)',
            short: 'wharf',
            cmd: process.execPath,
            cwd: REPO,
            args: wharfArgs(cache, 'wharf'),
            after: checkOutput('wharf'),
            note: 'lists the prefix (0 GETs), checks each gzip file whole, DuckDB reads 1000 files per statement (union_by_name), zstd Parquet',
          },
          {
            label: 'naive duckdb: append file by file',
            short: 'naive duckdb',
            cmd: process.execPath,
            cwd: REPO,
            args: [SELF, '--naive', 'duckdb', cached, out('naive-duckdb')],
            after: checkOutput('naive-duckdb'),
            note: 'one DuckDB INSERT BY NAME per file (ALTER TABLE ADD COLUMN on new columns), then COPY to zstd Parquet',
          },
          {
            label: 'naive json: JSON.parse per file, concat',
            short: 'naive json',
            cmd: process.execPath,
            cwd: REPO,
            args: [SELF, '--naive', 'json', cached, out('naive-json')],
            after: checkOutput('naive-json'),
            note: 'readFile + gunzip + JSON.parse per line, rows concatenated in memory (pandas.concat style), written once via DuckDB',
          },
        ],
      });
      summaries.push(summary);
    }
    if (values.scenario !== 'warm') {
      let round = 0;
      const fresh = (tool) => path.join(tmp, `cold-${tool}-${round}`);
      const { summary } = await compare({
        name: 'tables-cold',
        title: `wharf table build ${files} files (empty cache)`,
        runs,
        warmup,
        meta: { files, rows: expectedRows, bytes },
        commands: [
          {
            label: 'wharf table build (empty cache)',
            short: 'wharf',
            cmd: process.execPath,
            cwd: REPO,
            args: [],
            before: (_l, r) => {
              round = r;
              const c = wharfArgs(fresh('wharf'), 'wharf-cold');
              commandsCold[0].args = c;
            },
            after: async () => {
              await checkOutput('wharf-cold')();
              await rm(fresh('wharf'), { recursive: true, force: true });
            },
            note: 'fetch (32 at once, verified, cached) + build',
          },
          {
            label: 'naive: SDK download + append file by file',
            short: 'naive',
            cmd: process.execPath,
            cwd: REPO,
            args: [],
            before: (_l, r) => {
              round = r;
              commandsCold[1].args = [SELF, '--naive', 'duckdb', fresh('naive'), out('naive-cold'), source];
            },
            after: async () => {
              await checkOutput('naive-cold')();
              await rm(fresh('naive'), { recursive: true, force: true });
            },
            note: 'GetObject 32 at once into a folder, then one DuckDB INSERT BY NAME per file',
          },
        ].map((c, i, all) => ((commandsCold = all), c)),
      });
      summaries.push(summary);
    }
    console.log('');
    for (const s of summaries) console.log(s);
    return 0;
  } finally {
    await bench.close();
  }
}
let commandsCold = [];

/** The naive peers, run as child processes: `--naive duckdb|json DIR OUT [s3://SOURCE to download first]`. */
async function naive([mode, dir, out, from]) {
  if (from) await download(from, dir);
  const names = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.json.gz')).sort();
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const db = await instance.connect();
  const q = (s) => `'${s.replace(/'/g, "''")}'`;
  if (mode === 'duckdb') {
    const have = new Map();
    for (const name of names) {
      const read = `read_json(${q(path.join(dir, name))}, format = 'newline_delimited', compression = 'gzip')`;
      if (have.size === 0) {
        await db.run(`CREATE TABLE t AS SELECT * FROM ${read}`);
      } else {
        const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM ${read}`);
        for (const [column, type] of described.getRowsJson()) {
          if (!have.has(column)) await db.run(`ALTER TABLE t ADD COLUMN "${column}" ${type}`);
        }
        await db.run(`INSERT INTO t BY NAME SELECT * FROM ${read}`);
      }
      const cols = await db.runAndReadAll(`DESCRIBE t`);
      for (const [column, type] of cols.getRowsJson()) have.set(column, type);
    }
  } else {
    const rows = [];
    for (const name of names) {
      const text = gunzipSync(await readFile(path.join(dir, name))).toString('utf8');
      for (const line of text.split('\n')) if (line.trim() !== '') rows.push(JSON.parse(line));
    }
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const all = path.join(path.dirname(out), `${path.basename(out)}.ndjson`);
    await writeFile(
      all,
      rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c] ?? null])))).join('\n'),
    );
    await db.run(`CREATE TABLE t AS SELECT * FROM read_json(${q(all)}, format = 'newline_delimited')`);
    await rm(all);
  }
  await db.run(`COPY t TO ${q(out)} (FORMAT parquet, COMPRESSION zstd)`);
  db.closeSync();
  instance.closeSync();
  return 0;
}

async function download(from, dir) {
  const url = new URL(from);
  const bucket = url.host;
  const prefix = url.pathname.slice(1);
  const client = s3Client();
  const keys = [];
  let token;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await mkdir(dir, { recursive: true });
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < keys.length) {
        const key = keys[next++];
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        await writeFile(path.join(dir, path.basename(key)), await r.Body.transformToByteArray());
      }
    }),
  );
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof BenchError ? err.message : (err?.stack ?? err)}\n`);
    process.exit(1);
  },
);

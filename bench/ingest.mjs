// bench/ingest.mjs - wharf ingest (PostgreSQL -> Parquet -> S3) vs psql's \copy to a local CSV file (the
// physical limit of getting the rows out), both over the same table, in the same run.
//
//   node bench/ingest.mjs [--rows 1000000[,10000000]] [--runs 3] [--warmup 1] [--no-start]
//
// Creates a database bench_ingest_<random> (its own, so that other sessions' open transactions on a shared
// server cannot hold the window back) with one mixed-type table (bigint key, int, numeric(12,2),
// double, boolean, text, timestamptz, jsonb, uuid, last_updated) of ROWS rows per size (untimed,
// generated server side), and a scratch bucket. Each round: `wharf ingest --lag 0s` of the whole table
// into an empty prefix (state removed before each run, so every run moves every row: COPY -> CSV temp file
// -> DuckDB -> zstd Parquet -> multipart upload -> verify -> state), and `psql -c "\copy (SELECT ...) TO
// FILE (FORMAT csv)"`. After each wharf run the state file must say ROWS rows. Prints rows/s per tool and
// checks the targets: wharf's rate >= 50 % of psql's; with two or more sizes, wharf's peak RSS at
// the largest <= 1.2 x at the smallest. Drops the database and the bucket at the end. Needs `npm run build`.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { addToResults, version } from './lib/peers.mjs';
import { BenchError, compare, log } from './lib/harness.mjs';
import {
  REPO,
  createScratchBucket,
  deleteBucket,
  deletePrefix,
  s3Client,
  startTestServices,
} from './lib/s3.mjs';

const USAGE = `usage: node bench/ingest.mjs [--rows N[,N...]] [--runs N] [--warmup N] [--pg-url URL] [--no-start]
  --rows 1000000    table size(s), comma-separated (e.g. 1000000,10000000 for the closing note)
  --runs 3          measured rounds per size
  --warmup 1        unmeasured rounds first
  --pg-url URL      PostgreSQL to use (default: WHARF_TEST_PG_URL)
  --no-start        don't run scripts/test-services start; use the environment as it is`;

const WHARF_MAIN = path.join(REPO, 'dist/cli/main.js');
const PSQL = '/usr/bin/psql';
const RATE_SHARE = 0.5;
const RSS_GROWTH = 1.2;

function psql(url, sql) {
  const r = spawnSync(PSQL, [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError(`psql failed: ${r.stderr}`);
  return r.stdout;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      'pg-url': { type: 'string' },
      'no-start': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sizes = values.rows.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new BenchError(`--rows: positive integers\n${USAGE}`);
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!existsSync(WHARF_MAIN)) throw new BenchError(`${WHARF_MAIN} is missing: npm run build first`);
  if (!existsSync(PSQL)) throw new BenchError(`${PSQL} is missing (Debian package postgresql-client)`);
  if (!values['no-start']) startTestServices();
  const serverUrl = values['pg-url'] ?? process.env.WHARF_TEST_PG_URL;
  if (!serverUrl) throw new BenchError('no PostgreSQL: pass --pg-url or set WHARF_TEST_PG_URL');

  const database = `bench_ingest_${randomBytes(4).toString('hex')}`;
  const pgUrl = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();
  const schema = 'bench';
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'wharf-bench-ingest-'));
  const client = s3Client();
  let bucket = null;
  const results = [];
  try {
    bucket = await createScratchBucket(client);
    psql(serverUrl, `CREATE DATABASE ${database}`);
    psql(pgUrl, `CREATE SCHEMA ${schema}`);
    for (const rows of sizes) {
      const table = `mixed_${rows}`;
      const t0 = Date.now();
      psql(
        pgUrl,
        `CREATE TABLE ${schema}.${table} (id bigint PRIMARY KEY, qty int, price numeric(12,2), score double precision,
           active boolean, name text, created timestamptz, attrs jsonb, ref uuid, last_updated timestamptz NOT NULL);
         INSERT INTO ${schema}.${table}
           SELECT g, (g % 1000)::int, (g % 100000) / 100.0, g * 0.001, g % 2 = 0, 'name ' || md5(g::text),
                  '2020-01-01'::timestamptz + g * interval '1 second',
                  jsonb_build_object('k', g % 7, 'tag', 't' || (g % 13)),
                  md5(g::text)::uuid, '2021-01-01'::timestamptz + g * interval '1 ms'
             FROM generate_series(1, ${rows}) g;
         ANALYZE ${schema}.${table};`,
      );
      log(
        `${rows} rows generated in ${schema}.${table} (untimed, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
      const prefix = `raw-${rows}/`;
      const csv = path.join(tmp, `${table}.csv`);
      const { stats, jsonPath } = await compare({
        name: `ingest-${rows}`,
        title: `ingest ${rows} rows`,
        runs,
        warmup,
        meta: { rows, database, psql: version(PSQL, ['--version']) },
        commands: [
          {
            label: 'wharf ingest (COPY -> DuckDB -> Parquet zstd -> S3 + verify + state)',
            short: 'wharf',
            cmd: process.execPath,
            cwd: REPO,
            args: [
              WHARF_MAIN,
              '--quiet',
              'ingest',
              '--source',
              pgUrl,
              '--dest',
              `s3://${bucket}/${prefix}`,
              '--schema',
              schema,
              '--tables',
              table,
              '--lag',
              '0s',
            ],
            note: 'defaults (--max-file-size 256MiB); --lag 0s; state removed before each run',
            before: () => deletePrefix(client, bucket, prefix),
            after: async (label) => {
              const r = await client.send(
                new GetObjectCommand({ Bucket: bucket, Key: `${prefix}_wharf/ingest/${table}.json` }),
              );
              const state = JSON.parse(await r.Body.transformToString());
              if (state.rows !== rows)
                throw new BenchError(`${label}: the state says ${state.rows} rows, expected ${rows}`);
            },
          },
          {
            label: 'psql \\copy (SELECT ...) TO file (FORMAT csv)',
            short: 'psql',
            cmd: PSQL,
            args: [pgUrl, '-q', '-c', `\\copy (SELECT * FROM ${schema}.${table}) TO '${csv}' (FORMAT csv)`],
            after: () => rm(csv, { force: true }),
          },
        ],
      });
      const [w, p] = stats;
      const wRate = rows / w.median;
      const pRate = rows / p.median;
      const share = wRate / pRate;
      const line =
        `ingest ${rows} rows: wharf ${Math.round(wRate).toLocaleString('en')} rows/s (peak RSS ${w.peakRssMiB?.toFixed(0) ?? 'n/a'} MiB), ` +
        `psql \\copy ${Math.round(pRate).toLocaleString('en')} rows/s (peak RSS ${p.peakRssMiB?.toFixed(0) ?? 'n/a'} MiB): ` +
        `wharf at ${(share * 100).toFixed(0)} % of the COPY rate, target >= ${RATE_SHARE * 100} %: ${share >= RATE_SHARE ? 'MET' : 'NOT MET'}`;
      console.log(line);
      results.push({ rows, wRate, pRate, share, rss: w.peakRssMiB });
      if (jsonPath)
        await addToResults(jsonPath, { rowsPerSecond: { wharf: wRate, psql: pRate }, rateShare: share });
      psql(pgUrl, `DROP TABLE ${schema}.${table}`);
      await deletePrefix(client, bucket, prefix);
    }
    if (results.length >= 2) {
      const small = results[0];
      const large = results[results.length - 1];
      if (small.rss && large.rss) {
        const growth = large.rss / small.rss;
        console.log(
          `peak RSS: ${large.rss.toFixed(0)} MiB at ${large.rows} rows vs ${small.rss.toFixed(0)} MiB at ${small.rows} rows = ${growth.toFixed(2)}x, ` +
            `target <= ${RSS_GROWTH}x: ${growth <= RSS_GROWTH ? 'MET' : 'NOT MET'}`,
        );
      }
    }
  } finally {
    // An autovacuum worker may still be on the database for a moment (WITH (FORCE) cannot end it): retry.
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        psql(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        break;
      } catch (e) {
        if (attempt === 5) log(`could not drop database ${database}: ${e.message}`);
        else await sleep(2000);
      }
    }
    if (bucket)
      await deleteBucket(client, bucket).catch((e) => log(`could not delete bucket ${bucket}: ${e.message}`));
    await rm(tmp, { recursive: true, force: true });
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof BenchError ? error.message : error);
    process.exit(1);
  },
);

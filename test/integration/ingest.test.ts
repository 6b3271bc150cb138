import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool } from '../../src/core/pool.js';
import {
  IngestFailedError,
  ingestTables,
  ingestTablesDetailed,
  type IngestEvent,
  type IngestOptions,
} from '../../src/ingest/ingest-tables.js';
import { planColumn } from '../../src/ingest/column-types.js';
import { handler } from '../../src/ingest/handler.js';
import { PgSource } from '../../src/ingest/postgres/pg-source.js';
import { runKeys } from '../../src/ingest/layout.js';
import { readState } from '../../src/ingest/state.js';
import { openStorage } from '../../src/storage/registry.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';
import { s3TestEnv } from '../support/test-services.js';

s3TestEnv();
const SERVER_URL = process.env.WHARF_TEST_PG_URL ?? '';
// A database of its own: the window guard looks at open transactions in the current database only, so other
// test files' transactions on the shared server cannot hold these windows back.
const DATABASE = `wharf_ingest_${randomBytes(4).toString('hex')}`;
const PG_URL = SERVER_URL && Object.assign(new URL(SERVER_URL), { pathname: `/${DATABASE}` }).toString();
const SCHEMA = `wharf_ingest_${randomBytes(4).toString('hex')}`;
let bucket: string;
let store: StorageDriver;
let db: pg.Client;
let work: string;
let duck: DuckDBInstance;
let dc: DuckDBConnection;

const q = (name: string): string => pg.escapeIdentifier(name);
const T = (table: string): string => `${q(SCHEMA)}.${q(table)}`;

function options(tables: string[], extra: Partial<IngestOptions> = {}): IngestOptions {
  return {
    source: { url: PG_URL },
    dest: `s3://${bucket}/raw`,
    tables,
    schema: SCHEMA,
    lagSeconds: 0,
    tempDir: work,
    ...extra,
  };
}

async function download(keys: string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const key of keys) {
    const path = join(work, `${randomBytes(6).toString('hex')}.parquet`);
    await pipeline(await store.read(key), createWriteStream(path));
    paths.push(path);
  }
  return paths;
}

/** Downloads the objects and returns a DuckDB expression reading them all (union by name). */
async function local(keys: string[]): Promise<string> {
  const paths = await download(keys);
  return `read_parquet([${paths.map((p) => `'${p}'`).join(', ')}], union_by_name = true)`;
}

async function rowsOf(sql: string): Promise<Record<string, unknown>[]> {
  return (await dc.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** Rows (n) and distinct ids (d) in every object of the table: equal when no row was written twice. */
async function rowAndIdCounts(table: string): Promise<Record<string, unknown> | undefined> {
  const src = await local(await allKeys(table));
  return (await rowsOf(`SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM ${src}`))[0];
}

/** The ids in every object the runs wrote for their first table, in id order. */
async function idsOf(reports: { tables: { keys: string[] }[] }[]): Promise<unknown[]> {
  const keys = reports.flatMap((r) => r.tables[0]?.keys ?? []);
  return keys.length
    ? (await rowsOf(`SELECT id FROM ${await local(keys)} ORDER BY id`)).map((r) => r.id)
    : [];
}

async function allKeys(table: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(`${table}/`)) keys.push(o.key);
  return keys;
}

beforeAll(async () => {
  if (!PG_URL) throw new Error('WHARF_TEST_PG_URL is not set: source /tmp/svc-env.sh or run npm test');
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${q(DATABASE)}`);
  await admin.end();
  bucket = await createTestBucket('ingest');
  store = await openStorage(`s3://${bucket}/raw`);
  db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  await db.query(`SET TimeZone = 'UTC'`);
  await db.query(`CREATE SCHEMA ${q(SCHEMA)}`);
  work = await mkdtemp(join(tmpdir(), 'wharf-ingest-test-'));
  duck = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  dc = await duck.connect();
  await dc.run("SET TimeZone = 'UTC'");
});

afterAll(async () => {
  await db?.end();
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  // An autovacuum worker may still be on the fresh database for a moment (WITH (FORCE) cannot end it).
  for (let attempt = 1; attempt <= 5; attempt++) {
    const dropped = await admin.query(`DROP DATABASE IF EXISTS ${q(DATABASE)} WITH (FORCE)`).then(
      () => true,
      () => false,
    );
    if (dropped) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await admin.end();
  dc?.closeSync();
  duck?.closeSync();
  await store?.close?.();
  if (bucket) await deleteTestBucket(bucket);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('types', () => {
  it('every type round-trips exactly, NULLs included, with the schema from the catalog', async () => {
    await db.query(`CREATE TYPE ${q(SCHEMA)}.mood AS ENUM ('sad', 'ok', 'happy')`);
    await db.query(`CREATE TABLE ${T('types')} (
      id bigint PRIMARY KEY, s smallint, i integer, n numeric(12,4), nbig numeric(38,18), nu numeric,
      r real, d double precision, b boolean, tx text, vc varchar(10), ch char(3), dt date, tm time,
      ts timestamp, tz timestamptz, iv interval, j json, jb jsonb, u uuid, by bytea, e ${q(SCHEMA)}.mood,
      ai integer[], at text[], an numeric(5,2)[], atz timestamptz[],
      last_updated timestamptz NOT NULL DEFAULT now())`);
    await db.query(`INSERT INTO ${T('types')} VALUES
      (1, 32767, -2147483648, 12345678.1234, 12345678901234567890.123456789012345678,
       123456789012345678901234567890.123456789, 3.4028235e38, 0.1, true, E'multi\\nline "quoted", comma',
       '', 'ab', '2024-02-29', '23:59:59.999999', '2024-01-01 12:34:56.123456',
       '2024-06-01 12:00:00.654321+02', '1 year 2 mons 3 days 04:05:06.789012', '{"a": [1, 2.50]}',
       '{"b": null, "a": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff5c2c220a', 'happy',
       '{1,NULL,3}', ARRAY['x,y', NULL, '\\N', '', 'q"uote'], '{1.10,-2.25}',
       ARRAY['2024-06-01 10:00:00.000001+00'::timestamptz], '2021-01-01 00:00:00+00'),
      (2, -32768, 0, -0.0001, -1, 'NaN', '-Infinity', -1.7976931348623157e308, false, '\\N', 'ten chars!',
       'abc', '0001-01-01', '00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00.000001+00',
       '-1 mons -2 days -00:00:00.000001', '[]', '"s"', '00000000-0000-0000-0000-000000000000', '\\x', 'sad',
       '{}', '{}', '{}', '{}', '2021-01-01 00:00:01+00'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2021-01-01 00:00:02+00')`);
    const result = await ingestTables(options(['types']));
    const key = result.types;
    expect(key).toMatch(/^types\/\d{4}\/\d{2}\/\d{2}\/\d{12}\.parquet$/);
    const [path] = await download([key ?? '']);
    const src = `read_parquet('${path}')`;

    const described = await rowsOf(
      `SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM ${src})`,
    );
    expect(Object.fromEntries(described.map((r) => [r.name, r.type]))).toEqual({
      id: 'BIGINT',
      s: 'SMALLINT',
      i: 'INTEGER',
      n: 'DECIMAL(12,4)',
      nbig: 'DECIMAL(38,18)',
      nu: 'VARCHAR',
      r: 'FLOAT',
      d: 'DOUBLE',
      b: 'BOOLEAN',
      tx: 'VARCHAR',
      vc: 'VARCHAR',
      ch: 'VARCHAR',
      dt: 'DATE',
      tm: 'TIME',
      ts: 'TIMESTAMP',
      tz: 'TIMESTAMP WITH TIME ZONE',
      iv: 'STRUCT("months" INTEGER, "days" INTEGER, micros BIGINT)',
      j: 'JSON',
      jb: 'JSON',
      u: 'UUID',
      by: 'BLOB',
      e: 'VARCHAR',
      ai: 'INTEGER[]',
      at: 'VARCHAR[]',
      an: 'DECIMAL(5,2)[]',
      atz: 'TIMESTAMP WITH TIME ZONE[]',
      last_updated: 'TIMESTAMP WITH TIME ZONE',
    });
    const physical = await rowsOf(
      `SELECT name, logical_type::VARCHAR AS lt FROM parquet_schema('${path}') WHERE name IN ('tz', 'last_updated', 'j', 'u')`,
    );
    for (const p of physical) {
      if (p.name === 'tz' || p.name === 'last_updated')
        expect(p.lt).toMatch(/isAdjustedToUTC=1.*MICROS=MicroSeconds/);
      if (p.name === 'j') expect(p.lt).toMatch(/JsonType/);
      if (p.name === 'u') expect(p.lt).toMatch(/UUIDType/);
    }

    // Column by column: Postgres' value and the Parquet value, each rendered as text by its own engine.
    const compare: [string, string, string][] = [
      ['id', 'id::text', 'CAST(id AS VARCHAR)'],
      ['s', 's::text', 'CAST(s AS VARCHAR)'],
      ['i', 'i::text', 'CAST(i AS VARCHAR)'],
      ['n', 'n::text', 'CAST(n AS VARCHAR)'],
      ['nbig', 'nbig::text', 'CAST(nbig AS VARCHAR)'],
      ['nu', 'nu::text', 'nu'],
      ['r', 'r::float8::text', 'CAST(CAST(r AS DOUBLE) AS VARCHAR)'],
      ['d', 'd::text', 'CAST(d AS VARCHAR)'],
      ['b', 'b::int::text', 'CAST(CAST(b AS INTEGER) AS VARCHAR)'],
      ['tx', 'tx', 'tx'],
      ['vc', 'vc', 'vc'],
      ['ch', 'ch', 'ch'],
      ['dt', 'dt::text', 'CAST(dt AS VARCHAR)'],
      ['tm', 'tm::text', 'CAST(tm AS VARCHAR)'],
      ['ts', 'ts::text', 'CAST(ts AS VARCHAR)'],
      ['tz', '(extract(epoch FROM tz) * 1000000)::bigint::text', 'CAST(epoch_us(tz) AS VARCHAR)'],
      ['j', 'j::text', 'CAST(j AS VARCHAR)'],
      ['jb', 'jb::text', 'CAST(jb AS VARCHAR)'],
      ['u', 'u::text', 'CAST(u AS VARCHAR)'],
      ['by', "encode(by, 'hex')", 'lower(hex("by"))'],
      ['e', 'e::text', 'e'],
      ['ai', 'array_to_json(ai::text[])::text', 'CAST(to_json(CAST(ai AS VARCHAR[])) AS VARCHAR)'],
      ['at', 'array_to_json(at)::text', 'CAST(to_json("at") AS VARCHAR)'],
      ['an', 'array_to_json(an::text[])::text', 'CAST(to_json(CAST(an AS VARCHAR[])) AS VARCHAR)'],
      [
        'atz',
        'CASE WHEN atz IS NOT NULL THEN array_to_json(ARRAY(SELECT (extract(epoch FROM x) * 1000000)::bigint::text FROM unnest(atz) x))::text END',
        'CAST(to_json(list_transform(atz, x -> CAST(epoch_us(x) AS VARCHAR))) AS VARCHAR)',
      ],
      [
        'last_updated',
        '(extract(epoch FROM last_updated) * 1000000)::bigint::text',
        'CAST(epoch_us(last_updated) AS VARCHAR)',
      ],
    ];
    const expected = await db.query<Record<string, string | null>>(
      `SELECT ${compare.map(([n, p]) => `${p} AS ${q(n)}`).join(', ')} FROM ${T('types')} ORDER BY id`,
    );
    const actual = await rowsOf(
      `SELECT ${compare.map(([n, , d]) => `${d} AS "${n}"`).join(', ')} FROM ${src} ORDER BY id`,
    );
    const normalise = (v: unknown): unknown => (typeof v === 'string' ? v.replace(/\s+/g, '') : v);
    for (const [index, row] of expected.rows.entries()) {
      for (const [name] of compare) {
        const want = row[name] ?? null;
        const got = actual[index]?.[name] ?? null;
        // JSON arrays are rendered with different spacing by the two engines; values must match exactly.
        const num = (v: unknown): number | null =>
          v === null ? null : Number(String(v).replace(/^(-?)inf(inity)?$/i, '$1Infinity'));
        if (name === 'r' || name === 'd')
          expect(
            Object.is(num(got), num(want)),
            `${name} of row ${index + 1}: ${String(got)} vs ${String(want)}`,
          ).toBe(true);
        else if (['ai', 'at', 'an', 'atz'].includes(name))
          expect(normalise(got), `${name} of row ${index + 1}`).toEqual(normalise(want));
        else expect(got, `${name} of row ${index + 1}`).toEqual(want);
      }
    }
    const intervals = await rowsOf(`SELECT id, iv FROM ${src} ORDER BY id`);
    expect(intervals.map((r) => r.iv)).toEqual([
      { months: 14, days: 3, micros: '14706789012' },
      { months: -1, days: -2, micros: '-1' },
      null,
    ]);
    const nulls = await rowsOf(`SELECT * FROM ${src} WHERE id = 3`);
    expect(
      Object.entries(nulls[0] ?? {}).filter(([k, v]) => v !== null && k !== 'id' && k !== 'last_updated'),
    ).toEqual([]);
  });

  it('a row of several MB goes through; a value its column type cannot hold names the column', async () => {
    await db.query(
      `CREATE TABLE ${T('wide_row')} (id int PRIMARY KEY, t text, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('wide_row')} (id, t) VALUES (1, repeat('a', 3000000)), (2, 'b')`);
    const wide = await ingestTablesDetailed(options(['wide_row']));
    expect(wide.failed, wide.tables[0]?.error?.message).toBe(0);
    const lengths = await rowsOf(
      `SELECT id, length(t)::INT AS n FROM ${await local(await allKeys('wide_row'))} ORDER BY id`,
    );
    expect(lengths).toEqual([
      { id: 1, n: 3_000_000 },
      { id: 2, n: 1 },
    ]);
    await db.query(
      `CREATE TABLE ${T('nan_price')} (id int PRIMARY KEY, price numeric(10,2), last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('nan_price')} (id, price) SELECT g, g FROM generate_series(1, 1000) AS g`,
    );
    await db.query(`UPDATE ${T('nan_price')} SET price = 'NaN' WHERE id = 777`);
    const nan = await ingestTablesDetailed(options(['nan_price']));
    // The column, the row (by primary key) and what to do; not the line of the internal CSV stream.
    expect(nan.tables[0]?.error?.message).toMatch(
      /column "price" \(numeric\(10,2\)\) of the row id = 777: Could not convert string "NaN"/,
    );
    expect(nan.tables[0]?.error?.message).not.toMatch(/Line/);
    expect(nan.tables[0]?.error?.hint).toMatch(/DECIMAL has no NaN: set the value to NULL or a number/);
    expect(nan.tables[0]?.error?.code).toBe('UNSUPPORTED');
  });

  it('a text first column whose value starts with a byte-order mark keeps it', async () => {
    // The value is the first thing COPY sends: a CSV reader takes a leading U+FEFF for the file's BOM.
    await db.query(
      `CREATE TABLE ${T('bom_first')} (label text, id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('bom_first')} (label, id) VALUES (U&'\\FEFFtagged', 1)`);
    const report = await ingestTablesDetailed(options(['bom_first']));
    expect(report.failed, report.tables[0]?.error?.message).toBe(0);
    // Compared as hex: @duckdb/node-api drops a leading U+FEFF when it turns a VARCHAR into a JS string.
    const rows = await rowsOf(
      `SELECT hex(label) AS label, id FROM ${await local(report.tables[0]?.keys ?? [])}`,
    );
    expect(rows).toEqual([{ label: Buffer.from('\uFEFFtagged').toString('hex').toUpperCase(), id: 1 }]);
  });

  it('BC dates stay BC; a timestamp Parquet cannot hold fails the table naming it, never becomes NULL', async () => {
    await db.query(
      `CREATE TABLE ${T('eras')} (id int PRIMARY KEY, d date, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('eras')} (id, d) VALUES (1, '0044-03-15 BC'), (2, '2024-01-01'), (3, 'infinity'), (4, NULL)`,
    );
    const run = await ingestTablesDetailed(options(['eras']));
    expect(run.failed).toBe(0);
    const src = await local(await allKeys('eras'));
    const years = await rowsOf(`SELECT id, year(d)::INT AS y, isinf(d) AS inf FROM ${src} ORDER BY id`);
    expect(years).toEqual([
      { id: 1, y: -43, inf: false },
      { id: 2, y: 2024, inf: false },
      { id: 3, y: null, inf: true },
      { id: 4, y: null, inf: null },
    ]);

    await db.query(
      `CREATE TABLE ${T('far')} (id int PRIMARY KEY, tz timestamptz, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('far')} (id, tz) VALUES (1, '2024-01-01 00:00+00'), (2, '294276-12-31 23:59:59+00')`,
    );
    const far = await ingestTablesDetailed(options(['far']));
    expect(far.failed).toBe(1);
    expect(far.tables[0]?.error?.message).toMatch(/294276-12-31/);
    expect(far.tables[0]?.error?.message).toMatch(/column "tz"/);
    expect(far.tables[0]?.error?.code).toBe('UNSUPPORTED');
    expect(await allKeys('far')).toEqual([]);
  });

  it('array elements: BC dates stay BC, char(n) keeps its padding, unbounded numerics stay exact text', async () => {
    await db.query(
      `CREATE TABLE ${T('elements')} (id int PRIMARY KEY, da date[], ca char(4)[], na numeric[], ` +
        `last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('elements')} (id, da, ca, na) VALUES ` +
        `(1, '{0044-03-15 BC,2024-01-01,NULL,infinity}', '{ab,NULL,abcd}', '{12345678901234567890.12345,NaN,NULL}'), ` +
        `(2, '{}', '{}', '{}'), (3, NULL, NULL, NULL)`,
    );
    const run = await ingestTablesDetailed(options(['elements']));
    expect(run.failed).toBe(0);
    const src = await local(await allKeys('elements'));
    const types = await rowsOf(
      `SELECT column_name AS c, column_type AS t FROM (DESCRIBE SELECT * FROM ${src})`,
    );
    expect(types.filter((r) => r.c !== 'id' && r.c !== 'last_updated')).toEqual([
      { c: 'da', t: 'DATE[]' },
      { c: 'ca', t: 'VARCHAR[]' },
      { c: 'na', t: 'VARCHAR[]' },
    ]);
    const rows = await rowsOf(
      `SELECT id, list_transform(da, x -> year(x))::VARCHAR AS years, list_transform(da, x -> isinf(x))::VARCHAR AS inf, ` +
        `list_transform(ca, x -> x || '|')::VARCHAR AS ca, na::VARCHAR AS na FROM ${src} ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        years: '[-43, 2024, NULL, NULL]',
        inf: '[false, false, NULL, true]',
        ca: '[ab  |, NULL, abcd|]',
        na: '[12345678901234567890.12345, NaN, NULL]',
      },
      { id: 2, years: '[]', inf: '[]', ca: '[]', na: '[]' },
      { id: 3, years: null, inf: null, ca: null, na: null },
    ]);
  });
});

describe('values a column cannot hold', () => {
  it('a BC timestamp and a nested array in a LIST column fail the table naming the column', async () => {
    await db.query(
      `CREATE TABLE ${T('bc_stamp')} (id int PRIMARY KEY, t timestamp, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('bc_stamp')} (id, t) VALUES (1, '0044-03-15 10:00 BC')`);
    await db.query(
      `CREATE TABLE ${T('nested')} (id int PRIMARY KEY, a int[], last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('nested')} (id, a) VALUES (1, '{{1,2},{3,4}}')`);
    const run = await ingestTablesDetailed(options(['bc_stamp', 'nested']));
    expect(run.tables.map((t) => t.error?.code)).toEqual(['UNSUPPORTED', 'UNSUPPORTED']);
    // DuckDB does not say which timestamp column: the one holding the value is found in PostgreSQL.
    expect(run.tables[0]?.error?.message).toMatch(
      /column "t" \(timestamp without time zone\) of the row id = 1: .*0044-03-15 10:00:00 BC/,
    );
    expect(run.tables[1]?.error?.message).toMatch(/\(column "a"\)$/);
    expect(await allKeys('bc_stamp')).toEqual([]);
    expect(await allKeys('nested')).toEqual([]);
  });

  it('a NaN element of a numeric(p,s)[] names the column, the row (by its cursor without a key) and what to do', async () => {
    await db.query(
      `CREATE TABLE ${T('nan_elements')} (a numeric(5,2)[], last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('nan_elements')} (a, last_updated) VALUES ('{1.5}', '2024-05-01 10:00+00'), ('{1.5,NaN}', '2024-05-02 10:00+00')`,
    );
    const run = await ingestTablesDetailed(options(['nan_elements']));
    expect(run.tables[0]?.error?.message).toMatch(
      /column "a" \(numeric\(5,2\)\[\]\) of the row last_updated = "2024-05-02 10:00:00\+00": .*"NaN"/,
    );
    expect(run.tables[0]?.error?.hint).toMatch(/TYPE numeric\[\]\)/);
    expect(await allKeys('nan_elements')).toEqual([]);
  });
});

describe('infinite intervals', () => {
  it('±infinity intervals (PostgreSQL 17+) are written as Postgres stores them, not a failed table', async () => {
    const version = await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    if (Number(version.rows[0]?.v) < 170000) return; // no infinite intervals before PostgreSQL 17
    await db.query(
      `CREATE TABLE ${T('intervals')} (id int PRIMARY KEY, iv interval, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('intervals')} (id, iv) VALUES (1, 'infinity'), (2, '-infinity'), (3, '1 mon 2 days 00:00:03'), (4, NULL)`,
    );
    const run = await ingestTablesDetailed(options(['intervals']));
    expect(run.tables[0]?.error).toBeUndefined();
    const src = await local(await allKeys('intervals'));
    const rows = await rowsOf(
      `SELECT id, iv.months AS m, iv.days AS d, iv.micros::VARCHAR AS us FROM ${src} ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, m: 2147483647, d: 2147483647, us: '9223372036854775807' },
      { id: 2, m: -2147483648, d: -2147483648, us: '-9223372036854775808' },
      { id: 3, m: 1, d: 2, us: '3000000' },
      { id: 4, m: null, d: null, us: null },
    ]);
  });
});

describe('json arrays', () => {
  it('jsonb[] and json[] are a LIST of JSON: an SQL NULL element stays NULL, a JSON null stays null', async () => {
    await db.query(
      `CREATE TABLE ${T('jsonarrays')} (id int PRIMARY KEY, jb jsonb[], j json[], last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('jsonarrays')} (id, jb, j) VALUES ` +
        `(1, ARRAY['{"a": [1, "x"]}'::jsonb, NULL, 'null'::jsonb, '"s,\\"q"'::jsonb], ARRAY['{"k": 1,  "k": 2}'::json, NULL, 'null'::json]), ` +
        `(2, '{}', '{}'), (3, NULL, NULL)`,
    );
    const run = await ingestTablesDetailed(options(['jsonarrays']));
    expect(run.tables[0]?.error).toBeUndefined();
    const src = await local(await allKeys('jsonarrays'));
    const types = await rowsOf(
      `SELECT column_name AS c, column_type AS t FROM (DESCRIBE SELECT * FROM ${src})`,
    );
    expect(types.filter((r) => r.c === 'jb' || r.c === 'j')).toEqual([
      { c: 'jb', t: 'JSON[]' },
      { c: 'j', t: 'JSON[]' },
    ]);
    const rows = await rowsOf(
      `SELECT id, len(jb) AS n, list_transform(jb, e -> e IS NULL)::VARCHAR AS sqlnull, ` +
        `array_to_string(list_transform(jb, e -> coalesce(CAST(e AS VARCHAR), 'SQL NULL')), ' | ') AS jb, ` +
        `array_to_string(list_transform(j, e -> coalesce(CAST(e AS VARCHAR), 'SQL NULL')), ' | ') AS j ` +
        `FROM ${src} ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        n: '4',
        sqlnull: '[false, true, false, false]',
        jb: '{"a": [1, "x"]} | SQL NULL | null | "s,\\"q"',
        j: '{"k": 1,  "k": 2} | SQL NULL | null',
      },
      { id: 2, n: '0', sqlnull: '[]', jb: '', j: '' },
      { id: 3, n: null, sqlnull: null, jb: null, j: null },
    ]);
  });
});

describe('domains', () => {
  it('a domain over a domain and an array of a domain get their base type, as a plain domain does', async () => {
    const D = (name: string): string => `${q(SCHEMA)}.${q(name)}`;
    await db.query(`CREATE DOMAIN ${D('amount')} AS numeric(12,2)`);
    await db.query(`CREATE DOMAIN ${D('pos_amount')} AS ${D('amount')} CHECK (VALUE >= 0)`);
    await db.query(`CREATE DOMAIN ${D('posint')} AS int CHECK (VALUE > 0)`);
    await db.query(`CREATE DOMAIN ${D('stamp')} AS timestamptz`);
    await db.query(`CREATE DOMAIN ${D('touched')} AS ${D('stamp')}`);
    await db.query(
      `CREATE TABLE ${T('domains')} (id int PRIMARY KEY, a ${D('amount')}, pa ${D('pos_amount')}, ` +
        `ia ${D('posint')}[], paa ${D('pos_amount')}[], last_updated ${D('touched')} NOT NULL DEFAULT now())`,
    );
    await db.query(
      `INSERT INTO ${T('domains')} (id, a, pa, ia, paa) VALUES (1, 1.5, 2.25, '{1,NULL,3}', '{3.5,NULL}'), (2, NULL, NULL, NULL, NULL)`,
    );
    const run = await ingestTablesDetailed(options(['domains']));
    expect(run.tables[0]?.error).toBeUndefined();
    const src = await local(await allKeys('domains'));
    const types = await rowsOf(
      `SELECT column_name AS c, column_type AS t FROM (DESCRIBE SELECT * FROM ${src})`,
    );
    expect(types).toEqual([
      { c: 'id', t: 'INTEGER' },
      { c: 'a', t: 'DECIMAL(12,2)' },
      { c: 'pa', t: 'DECIMAL(12,2)' },
      { c: 'ia', t: 'INTEGER[]' },
      { c: 'paa', t: 'DECIMAL(12,2)[]' },
      { c: 'last_updated', t: 'TIMESTAMP WITH TIME ZONE' },
    ]);
    const rows = await rowsOf(
      `SELECT id, a::VARCHAR AS a, pa::VARCHAR AS pa, ia::VARCHAR AS ia, paa::VARCHAR AS paa FROM ${src} ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, a: '1.50', pa: '2.25', ia: '[1, NULL, 3]', paa: '[3.50, NULL]' },
      { id: 2, a: null, pa: null, ia: null, paa: null },
    ]);
  });
});

describe('windows', () => {
  it('picks up inserts and updates, returns null when nothing is new, and records the state', async () => {
    await db.query(
      `CREATE TABLE ${T('orders')} (id int PRIMARY KEY, v text, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('orders')} (id, v) SELECT g, 'v' || g FROM generate_series(1, 10) g`);
    const first = await ingestTablesDetailed(options(['orders']));
    expect(first.failed).toBe(0);
    expect(first.tables[0]?.rows).toBe(10);
    await db.query(`INSERT INTO ${T('orders')} (id, v) VALUES (11, 'new')`);
    await db.query(`UPDATE ${T('orders')} SET v = 'changed', last_updated = now() WHERE id = 3`);
    const second = await ingestTables(options(['orders']));
    const rows = await rowsOf(`SELECT id, v FROM ${await local([second.orders ?? ''])} ORDER BY id`);
    expect(rows).toEqual([
      { id: 3, v: 'changed' },
      { id: 11, v: 'new' },
    ]);
    const third = await ingestTablesDetailed(options(['orders']));
    expect(third.tables[0]).toMatchObject({ status: 'no-rows', key: null });
    const state = JSON.parse(await readText(`_wharf/ingest/orders.json`)) as Record<string, unknown>;
    expect(state).toMatchObject({
      version: 1,
      table: `${SCHEMA}.orders`,
      cursorColumn: 'last_updated',
      keys: [],
    });
    expect(state.watermark).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const stateAfterSecond = (await allKeys('orders')).length;
    expect(stateAfterSecond).toBe(2);
  });

  it('a transaction that commits late (opened before run 1, committed after) lands in run 2', async () => {
    await db.query(
      `CREATE TABLE ${T('late')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('late')} (id) VALUES (1)`);
    const other = new pg.Client({ connectionString: PG_URL });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO ${T('late')} (id) VALUES (2)`); // last_updated = this transaction's start
      const pid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await db.query(`INSERT INTO ${T('late')} (id) VALUES (3)`); // committed, but after the open one started
      const run1 = await ingestTablesDetailed(options(['late']));
      expect(run1.failed).toBe(0);
      expect(run1.tables[0]?.window?.heldBy?.pid).toBe(pid);
      const seen1 = run1.tables[0]?.key
        ? await rowsOf(`SELECT id FROM ${await local(run1.tables[0].keys)}`)
        : [];
      expect(seen1.map((r) => r.id)).toEqual([1]);
      await other.query('COMMIT');
      const seen2: unknown[] = [];
      // Other sessions on the shared server may hold the bound back for a moment; the rows must come eventually.
      for (let attempt = 0; attempt < 20 && seen2.length < 2; attempt++) {
        const run = await ingestTablesDetailed(options(['late']));
        expect(run.failed).toBe(0);
        if (run.tables[0]?.keys.length)
          seen2.push(...(await rowsOf(`SELECT id FROM ${await local(run.tables[0].keys)}`)).map((r) => r.id));
        else await new Promise((r) => setTimeout(r, 250));
      }
      expect(seen2.sort()).toEqual([2, 3]);
    } finally {
      await other.end();
    }
  });

  describe('transactions of another role, whose start the ingest role cannot see', () => {
    /** A login role that is neither the ingest role nor a superuser; scripts/test-services creates it. */
    const OTHER_ROLE = 'wharf_other';

    /** Skips unless that role exists and its sessions' xact_start is hidden from the ingest role (the case here). */
    async function requireHiddenRole(ctx: { skip: (note?: string) => never }): Promise<void> {
      const role = await db.query<{ ok: boolean }>(
        'SELECT rolcanlogin AND NOT rolsuper AS ok FROM pg_roles WHERE rolname = $1',
        [OTHER_ROLE],
      );
      if (!role.rows[0]?.ok) {
        ctx.skip(
          `the test PostgreSQL has no login role ${OTHER_ROLE} (not superuser); scripts/test-services creates it ` +
            'at its next start (restart an older instance: scripts/test-services stop && scripts/test-services start)',
        );
      }
      const sees = await db.query<{ sees: boolean }>(
        `SELECT pg_has_role('pg_read_all_stats', 'USAGE') OR pg_has_role($1, 'USAGE') AS sees`,
        [OTHER_ROLE],
      );
      if (sees.rows[0]?.sees) {
        ctx.skip(`the ingest role of WHARF_TEST_PG_URL sees the start of ${OTHER_ROLE}'s transactions`);
      }
    }

    /** A session of the other role, allowed to insert into `table`. */
    /** Creates `table` (id, last_updated = now()) holding `ids`, and a client of the other role that may insert. */
    async function connectAsOther(table: string, ids: number[] = []): Promise<pg.Client> {
      await db.query(
        `CREATE TABLE ${T(table)} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
      );
      for (const id of ids) await db.query(`INSERT INTO ${T(table)} (id) VALUES ($1)`, [id]);
      await db.query(`GRANT USAGE ON SCHEMA ${q(SCHEMA)} TO ${q(OTHER_ROLE)}`);
      await db.query(`GRANT INSERT ON ${T(table)} TO ${q(OTHER_ROLE)}`);
      const url = Object.assign(new URL(PG_URL), { username: OTHER_ROLE, password: OTHER_ROLE });
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      return c;
    }

    /** Runs until the table's rows reach `want` ids (at most 20 runs); returns every run, `first` included. */
    async function runUntil(
      table: string,
      first: Awaited<ReturnType<typeof ingestTablesDetailed>>,
      want: number,
    ) {
      const runs = [first];
      for (let attempt = 0; attempt < 20 && (await idsOf(runs)).length < want; attempt++) {
        const run = await ingestTablesDetailed(options([table]));
        expect(run.failed, run.tables[0]?.error?.message).toBe(0);
        runs.push(run);
        await new Promise((r) => setTimeout(r, 100));
      }
      return runs;
    }

    it('a row of a hidden transaction holding the newest transaction id, committed after a run, is not lost', async (ctx) => {
      await requireHiddenRole(ctx);
      const other = await connectAsOther('hidden_newest', [1]);
      try {
        await other.query('BEGIN');
        // Its id is the newest of the cluster and nothing commits after it, so it is at or above the snapshot's
        // xmax: pg_snapshot_xip(pg_current_snapshot()) leaves it out. (On a busy shared server another commit
        // may come first; on a quiet one this is the exact case.)
        await other.query(`INSERT INTO ${T('hidden_newest')} (id) VALUES (2)`); // last_updated = its start
        const run1 = await ingestTablesDetailed(options(['hidden_newest'], { guardWaitSeconds: 1 }));
        await other.query('COMMIT');
        const runs = await runUntil('hidden_newest', run1, 2);
        expect(await idsOf(runs)).toEqual([1, 2]);
        // The run waited for it, then failed before reading anything.
        expect(run1.tables[0]).toMatchObject({ status: 'failed', keys: [] });
        expect(run1.tables[0]?.error?.code).toBe('CONFLICT');
        expect(run1.tables[0]?.error?.message).toMatch(
          /transaction\(s\) of other roles are still open after 1s/,
        );
        expect(run1.tables[0]?.error?.hint).toMatch(/pg_read_all_stats/);
      } finally {
        await other.end();
      }
    });

    it('a hidden transaction that has only read so far, then writes and commits after a run: its row is not lost', async (ctx) => {
      await requireHiddenRole(ctx);
      const other = await connectAsOther('hidden_reader', [1]);
      try {
        await other.query('BEGIN');
        await other.query('SELECT 1'); // no transaction id yet, but now() is already fixed
        const run1 = await ingestTablesDetailed(options(['hidden_reader'], { guardWaitSeconds: 1 }));
        await other.query(`INSERT INTO ${T('hidden_reader')} (id) VALUES (2)`); // last_updated = its start
        await other.query('COMMIT');
        const runs = await runUntil('hidden_reader', run1, 2);
        expect(await idsOf(runs)).toEqual([1, 2]);
        expect(run1.tables[0]).toMatchObject({ status: 'failed', keys: [] });
        expect(run1.tables[0]?.error?.code).toBe('CONFLICT');
      } finally {
        await other.end();
      }
    });

    it('a hidden transaction that commits while the run waits for it is in that run', async (ctx) => {
      await requireHiddenRole(ctx);
      const other = await connectAsOther('hidden_wait');
      try {
        await other.query('BEGIN');
        await other.query(`INSERT INTO ${T('hidden_wait')} (id) VALUES (1)`);
        const started = Date.now();
        const commit = new Promise((r) => setTimeout(r, 1500)).then(() => other.query('COMMIT'));
        const run = await ingestTablesDetailed(options(['hidden_wait'], { guardWaitSeconds: 30 }));
        const waited = Date.now() - started;
        await commit;
        expect(run.failed, run.tables[0]?.error?.message).toBe(0);
        expect(waited).toBeGreaterThanOrEqual(1500);
        expect(await idsOf([run])).toEqual([1]);
      } finally {
        await other.end();
      }
    });
    it('a hidden transaction that is prepared (PREPARE TRANSACTION) while the run waits for it is waited for until it commits', async (ctx) => {
      await requireHiddenRole(ctx);
      const n = await db.query<{ n: string }>(`SELECT current_setting('max_prepared_transactions') AS n`);
      if (Number(n.rows[0]?.n ?? 0) === 0) ctx.skip('the test PostgreSQL has max_prepared_transactions = 0');
      const gid = `${DATABASE}_hidden`;
      const other = await connectAsOther('hidden_prepared');
      try {
        await other.query('BEGIN');
        await other.query(`INSERT INTO ${T('hidden_prepared')} (id) VALUES (1)`);
        const started = Date.now();
        // Prepared while the run waits for the session's transaction, committed (by its owner) a second later.
        const finish = (async () => {
          await new Promise((r) => setTimeout(r, 1000));
          await other.query(`PREPARE TRANSACTION '${gid}'`);
          await new Promise((r) => setTimeout(r, 1000));
          await other.query(`COMMIT PREPARED '${gid}'`);
        })();
        const run = await ingestTablesDetailed(options(['hidden_prepared'], { guardWaitSeconds: 30 }));
        const waited = Date.now() - started;
        await finish;
        expect(run.failed, run.tables[0]?.error?.message).toBe(0);
        expect(waited).toBeGreaterThanOrEqual(2000);
        expect(await idsOf([run])).toEqual([1]);
      } finally {
        const left = await db.query('SELECT 1 FROM pg_prepared_xacts WHERE gid = $1', [gid]);
        if (left.rowCount) await other.query(`ROLLBACK PREPARED '${gid}'`).catch(() => undefined);
        await other.end();
      }
    });
  });

  describe('prepared (two-phase) transactions', () => {
    /** Skips when the server cannot prepare transactions (PostgreSQL's default, max_prepared_transactions = 0). */
    async function requirePreparedTransactions(ctx: { skip: (note?: string) => never }): Promise<void> {
      const r = await db.query<{ n: string }>(`SELECT current_setting('max_prepared_transactions') AS n`);
      if (Number(r.rows[0]?.n ?? 0) === 0) {
        ctx.skip(
          'the test PostgreSQL has max_prepared_transactions = 0; scripts/test-services starts it with 10 ' +
            '(restart an older instance: scripts/test-services stop && scripts/test-services start)',
        );
      }
    }

    /** Opens a transaction on a connection of its own, inserts `id`, and PREPAREs it as `gid`. */
    async function prepareInsert(table: string, id: number, gid: string): Promise<void> {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO ${T(table)} (id) VALUES ($1)`, [id]); // last_updated = this transaction's start
        await c.query(`PREPARE TRANSACTION '${gid}'`);
      } finally {
        await c.end(); // a prepared transaction outlives its session
      }
    }

    /** Rolls back what a failed test left prepared: it would block DROP DATABASE and hold the server's xmin. */
    async function forget(gid: string): Promise<void> {
      const left = await db.query('SELECT 1 FROM pg_prepared_xacts WHERE gid = $1', [gid]);
      if (left.rowCount) await db.query(`ROLLBACK PREPARED '${gid}'`);
    }

    it('a row of a prepared transaction committed (COMMIT PREPARED) after a run is not lost', async (ctx) => {
      await requirePreparedTransactions(ctx);
      await db.query(
        `CREATE TABLE ${T('prepared')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
      );
      const gid = `${DATABASE}_late`;
      try {
        await db.query(`INSERT INTO ${T('prepared')} (id) VALUES (1)`);
        await prepareInsert('prepared', 2, gid);
        await db.query(`INSERT INTO ${T('prepared')} (id) VALUES (3)`); // committed after the prepared row's time
        const run1 = await ingestTablesDetailed(options(['prepared'], { guardWaitSeconds: 1 }));
        await db.query(`COMMIT PREPARED '${gid}'`);
        const runs = [run1];
        // Other sessions on the shared server may hold the bound back for a moment; the rows must come eventually.
        for (let attempt = 0; attempt < 20; attempt++) {
          const run = await ingestTablesDetailed(options(['prepared']));
          expect(run.failed, run.tables[0]?.error?.message).toBe(0);
          runs.push(run);
          if ((await idsOf(runs)).length >= 3) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        expect(await idsOf(runs)).toEqual([1, 2, 3]);
        // The run that met the prepared transaction waited for it, then failed naming it: nothing committed.
        expect(run1.tables[0]).toMatchObject({ status: 'failed', keys: [] });
        expect(run1.tables[0]?.error?.code).toBe('CONFLICT');
        expect(run1.tables[0]?.error?.message).toContain(`prepared transaction '${gid}'`);
        expect(run1.tables[0]?.error?.hint).toMatch(/COMMIT PREPARED or ROLLBACK PREPARED/);
      } finally {
        await forget(gid);
      }
    });

    it('a prepared transaction that commits while the run waits for it is in that run', async (ctx) => {
      await requirePreparedTransactions(ctx);
      await db.query(
        `CREATE TABLE ${T('prepared_wait')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
      );
      const gid = `${DATABASE}_wait`;
      try {
        await prepareInsert('prepared_wait', 1, gid);
        const started = Date.now();
        const commit = new Promise((r) => setTimeout(r, 1500)).then(() =>
          db.query(`COMMIT PREPARED '${gid}'`),
        );
        const run = await ingestTablesDetailed(options(['prepared_wait'], { guardWaitSeconds: 30 }));
        const waited = Date.now() - started;
        await commit;
        expect(run.failed, run.tables[0]?.error?.message).toBe(0);
        expect(waited).toBeGreaterThanOrEqual(1500);
        expect(await idsOf([run])).toEqual([1]);
      } finally {
        await forget(gid);
      }
    });
  });

  it('5,000 rows sharing one cursor value at a window boundary: none lost, none duplicated', async () => {
    await db.query(`CREATE TABLE ${T('ties')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL)`);
    await db.query(
      `INSERT INTO ${T('ties')} SELECT g, '2022-03-04 05:06:07.123456+00' FROM generate_series(1, 5000) g`,
    );
    await db.query(
      `INSERT INTO ${T('ties')} VALUES (0, '2022-03-04 05:06:07.123455+00'), (5001, '2022-03-04 05:06:07.123457+00')`,
    );
    const a = await ingestTablesDetailed(options(['ties'], { until: '2022-03-04T05:06:07.123456Z' }));
    expect(a.tables[0]?.rows).toBe(1); // id 0 only: the boundary value itself belongs to the next window
    const b = await ingestTablesDetailed(options(['ties'], { until: '2022-03-04T05:06:07.123457Z' }));
    expect(b.tables[0]?.rows).toBe(5000);
    const c = await ingestTablesDetailed(options(['ties']));
    expect(c.tables[0]?.rows).toBe(1);
    const keys = [...(a.tables[0]?.keys ?? []), ...(b.tables[0]?.keys ?? []), ...(c.tables[0]?.keys ?? [])];
    const stats = await rowsOf(
      `SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d, min(id) AS lo, max(id) AS hi FROM ${await local(keys)}`,
    );
    expect(stats[0]).toEqual({ n: 5002, d: 5002, lo: 0, hi: 5001 });
  });

  it('splits a run into -0001, -0002, ... parts above --max-file-size, each row once', async () => {
    await db.query(
      `CREATE TABLE ${T('big')} (id int PRIMARY KEY, s text, last_updated timestamptz NOT NULL)`,
    );
    await db.query(
      `INSERT INTO ${T('big')} SELECT g, md5(g::text) || md5((g * 7)::text), '2020-01-01'::timestamptz + g * interval '1 ms' FROM generate_series(1, 40000) g`,
    );
    const report = await ingestTablesDetailed(options(['big'], { maxFileSize: 256 * 1024 }));
    const keys = report.tables[0]?.keys ?? [];
    expect(keys.length).toBeGreaterThan(2);
    keys.forEach((k, i) => expect(k).toMatch(new RegExp(`-${String(i + 1).padStart(4, '0')}\\.parquet$`)));
    const src = await local(keys);
    const stats = await rowsOf(`SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM ${src}`);
    expect(stats[0]).toEqual({ n: 40000, d: 40000 });
    const order = await rowsOf(
      `SELECT bool_and(id > prev) AS ordered FROM (SELECT id, lag(id, 1, 0) OVER () AS prev FROM ${src})`,
    );
    expect(order[0]?.ordered).toBe(true);
    for (const key of keys) expect((await store.stat(key))?.size).toBeLessThan(256 * 1024 * 2);
  });
});

async function readText(key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

describe('cursors and table selection', () => {
  it('a timestamp (without time zone) cursor works like timestamptz', async () => {
    await db.query(
      `CREATE TABLE ${T('naive')} (id int PRIMARY KEY, last_updated timestamp NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('naive')} (id) VALUES (1), (2)`);
    const first = await ingestTablesDetailed(options(['naive']));
    expect(first.tables[0]?.rows).toBe(2);
    await db.query(`INSERT INTO ${T('naive')} (id) VALUES (3)`);
    const second = await ingestTablesDetailed(options(['naive']));
    expect(second.tables[0]?.rows).toBe(1);
    const rows = await rowsOf(`SELECT id FROM ${await local(second.tables[0]?.keys ?? [])}`);
    expect(rows).toEqual([{ id: 3 }]);
    const state = JSON.parse(await readText('_wharf/ingest/naive.json')) as { lastRow: { cursor: string } };
    expect(state.lastRow.cursor).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
  });

  it('a timestamp cursor in a zone that turns its clocks back: the repeated hour is read once, nothing lost', async () => {
    // Amsterdam goes from 03:00 CEST back to 02:00 CET at 2024-10-27T01:00Z: now() of a timestamp column
    // shows 02:00-03:00 twice. Runs every quarter hour (lag 30s) straddle the change.
    const amsterdam = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c TimeZone=Europe/Amsterdam')}`;
    await db.query(`CREATE TABLE ${T('local_clock')} (id int PRIMARY KEY, last_updated timestamp NOT NULL)`);
    const run = async (until: string): Promise<number> => {
      const report = await ingestTablesDetailed(
        options(['local_clock'], { source: { url: amsterdam }, until }),
      );
      expect(report.failed).toBe(0);
      return report.tables[0]?.rows ?? 0;
    };
    // Written at 00:30Z (02:30 CEST), before the 00:59:30Z run.
    await db.query(`INSERT INTO ${T('local_clock')} VALUES (1, '2024-10-27 02:30:00')`);
    await run('2024-10-27T00:44:30Z');
    await run('2024-10-27T00:59:30Z');
    // Written at 01:05Z (02:05 CET, the second time the clock shows 02:05), after the 00:59:30Z run.
    await db.query(`INSERT INTO ${T('local_clock')} VALUES (2, '2024-10-27 02:05:00')`);
    await run('2024-10-27T01:14:30Z');
    await run('2024-10-27T01:29:30Z');
    await run('2024-10-27T02:00:00Z');
    await run('2024-10-28T00:00:00Z');
    const rows = await rowsOf(
      `SELECT id, count(*)::INT AS n FROM ${await local(await allKeys('local_clock'))} GROUP BY id ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, n: 1 },
      { id: 2, n: 1 },
    ]);
  });

  it('--all takes every base table of the schema that has the cursor column', async () => {
    const other = `${SCHEMA}_all`;
    await db.query(`CREATE SCHEMA ${q(other)}`);
    await db.query(
      `CREATE TABLE ${q(other)}.b (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `CREATE TABLE ${q(other)}.a (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`CREATE TABLE ${q(other)}.c (id int PRIMARY KEY)`);
    await db.query(`CREATE VIEW ${q(other)}.v AS SELECT * FROM ${q(other)}.a`);
    await db.query(`INSERT INTO ${q(other)}.a (id) VALUES (1)`);
    // A table whose name has a dot (next to schema-qualified look-alikes), and a partitioned table: its
    // partitions are not tables of their own (the parent's rows include theirs).
    await db.query(
      `CREATE TABLE ${q(other)}."d.t" (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${q(other)}."d.t" (id) VALUES (100)`);
    await db.query(
      `CREATE TABLE ${q(other)}.ev (id int, r text, last_updated timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (id, r)) PARTITION BY LIST (r)`,
    );
    await db.query(`CREATE TABLE ${q(other)}.ev_eu PARTITION OF ${q(other)}.ev FOR VALUES IN ('eu')`);
    await db.query(`INSERT INTO ${q(other)}.ev VALUES (1, 'eu')`);
    const report = await ingestTablesDetailed(options(['a'], { all: true, schema: other, tables: ['a'] }));
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([
      ['a', 'written'],
      ['b', 'no-rows'],
      ['"d.t"', 'written'],
      ['ev', 'written'],
    ]);
    const dotted = report.tables.find((t) => t.table === '"d.t"');
    expect(dotted?.keys[0]).toMatch(/(^|\/)d%2Et\//);
  });
});

describe('recovery', () => {
  it('a COPY cut short by a failing Parquet writer leaves the connection usable for the next table', async () => {
    await db.query(
      `CREATE TABLE ${T('cut_short')} (id int PRIMARY KEY, pad text, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    // About 20 MB of CSV: COPY is still sending when the writer fails on its first 1 MiB batch.
    await db.query(
      `INSERT INTO ${T('cut_short')} (id, pad) SELECT g, repeat('p', 200) FROM generate_series(1, 100000) AS g`,
    );
    const source = await PgSource.connect({ connectionString: PG_URL });
    try {
      const info = await source.describeTable(SCHEMA, 'cut_short', 'last_updated');
      const plans = info.columns.map(planColumn);
      const failing = source.copyWindow(info, plans, '-infinity', 'infinity', () =>
        Promise.reject(new Error('the Parquet writer failed')),
      );
      await expect(failing).rejects.toThrow();
      // Before, this query waited behind the rest of the COPY for ever (the CLI exited with code 13, silently).
      const count = source.countWindow(info, '-infinity', 'infinity');
      const stuck = new Promise((resolve) => setTimeout(() => resolve('stuck'), 20_000).unref());
      expect(await Promise.race([count, stuck])).toBe(100_000);
    } finally {
      await source.close();
    }
  });

  it('a crash between upload and state commit: the rerun finishes the pending window, no gap, no duplicate', async () => {
    await db.query(
      `CREATE TABLE ${T('crash')} (id int PRIMARY KEY, v int, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('crash')} (id, v) SELECT g, 0 FROM generate_series(1, 100) g`);
    await ingestTables(options(['crash']));
    await db.query(`INSERT INTO ${T('crash')} (id, v) SELECT g, 0 FROM generate_series(101, 200) g`);
    const crash = (event: IngestEvent): void => {
      if (event.type === 'uploaded') throw new Error('simulated crash after the upload');
    };
    await expect(ingestTables(options(['crash'], { onEvent: crash }))).rejects.toBeInstanceOf(
      IngestFailedError,
    );
    const pending = JSON.parse(await readText('_wharf/ingest/crash.pending.json')) as {
      keys: string[];
      to: string;
    };
    expect(await store.stat(pending.keys[0] ?? '')).toBeDefined(); // uploaded, not committed
    // Meanwhile: new rows, and an update to a row of the uncommitted window.
    await db.query(`INSERT INTO ${T('crash')} (id, v) SELECT g, 0 FROM generate_series(201, 250) g`);
    await db.query(`UPDATE ${T('crash')} SET v = 1, last_updated = now() WHERE id = 150`);
    const rerun = await ingestTablesDetailed(options(['crash']));
    expect(rerun.failed).toBe(0);
    expect(rerun.tables[0]?.pending).toMatchObject({ action: 'finish', to: pending.to });
    expect(await store.stat('_wharf/ingest/crash.pending.json')).toBeUndefined();
    const src = await local(await allKeys('crash'));
    const stats = await rowsOf(
      `SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, count(DISTINCT (id, last_updated))::INT AS versions FROM ${src}`,
    );
    // 250 ids, each once: the redo of the pending window no longer holds id 150 (its update moved it into the
    // new window), and the redo replaced the orphan object at the same key.
    expect(stats[0]).toEqual({ n: 250, ids: 250, versions: 250 });
    const latest = await rowsOf(`SELECT v FROM ${src} WHERE id = 150 ORDER BY last_updated DESC LIMIT 1`);
    expect(latest[0]?.v).toBe(1);
  });

  it('SIGKILL in the middle of a multi-part upload, then a rerun: no gap, no duplicate', async () => {
    const dist = fileURLToPath(new URL('../../dist/ingest/ingest-tables.js', import.meta.url));
    if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    await db.query(
      `CREATE TABLE ${T('killed')} (id int PRIMARY KEY, s text, last_updated timestamptz NOT NULL)`,
    );
    await db.query(
      `INSERT INTO ${T('killed')} SELECT g, md5(g::text) || md5((g * 3)::text), '2020-01-01'::timestamptz + g * interval '1 ms' FROM generate_series(1, 30000) g`,
    );
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { ingestTablesDetailed } = await import(${JSON.stringify(dist)});
         await ingestTablesDetailed({ ...JSON.parse(process.env.OPTS), onEvent: (e) => {
           if (e.type === 'uploaded') process.kill(process.pid, 'SIGKILL'); // after part 1 of several
         } });
         process.exit(0);`,
      ],
      {
        env: { ...process.env, OPTS: JSON.stringify(options(['killed'], { maxFileSize: 256 * 1024 })) },
        stdio: 'ignore',
      },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    expect(signal).toBe('SIGKILL');
    const pending = JSON.parse(await readText('_wharf/ingest/killed.pending.json')) as { keys: string[] };
    expect(pending.keys.length).toBeGreaterThan(2);
    expect(await store.stat('_wharf/ingest/killed.json')).toBeUndefined();
    expect((await allKeys('killed')).length).toBe(1); // the first part only
    await db.query(`INSERT INTO ${T('killed')} VALUES (30001, 'after', now())`);
    const rerun = await ingestTablesDetailed(options(['killed'], { maxFileSize: 256 * 1024 }));
    expect(rerun.failed).toBe(0);
    expect(rerun.tables[0]?.pending?.action).toBe('finish');
    expect(await rowAndIdCounts('killed')).toEqual({ n: 30001, d: 30001 });
  });

  it('a second ingest of the same table at the same time fails with CONFLICT before uploading', async () => {
    await db.query(
      `CREATE TABLE ${T('twice')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('twice')} (id) VALUES (1)`);
    let injected = false;
    // A store through which another run creates the pending marker just before this run writes its own.
    const racing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'write') return Reflect.get(target, prop, receiver) as unknown;
        return async (key: string, body: Uint8Array, o?: object) => {
          if (key.endsWith('twice.pending.json') && !injected) {
            injected = true;
            await target.write(key, Buffer.from('{"version":1}'), { ifNoneMatch: '*' });
          }
          return target.write(key, body, o);
        };
      },
    });
    const report = await ingestTablesDetailed(options(['twice'], { store: racing }));
    expect(injected).toBe(true);
    expect(report.tables[0]?.error?.code).toBe('CONFLICT');
    expect(await allKeys('twice')).toEqual([]);
    await store.delete(['_wharf/ingest/twice.pending.json']);
  });

  it('two ingests of one table at once: one runs, the other stops before anything; no duplicate after', async () => {
    await db.query(
      `CREATE TABLE ${T('overlap')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('overlap')} (id) SELECT g FROM generate_series(1, 5000) g`);
    const runs = await Promise.all([
      ingestTablesDetailed(options(['overlap'])),
      ingestTablesDetailed(options(['overlap'])),
    ]);
    const errors = runs.map((r) => r.tables[0]?.error);
    expect(errors.filter((e) => e === undefined)).toHaveLength(1);
    const refused = errors.find((e) => e !== undefined);
    expect(refused?.code).toBe('CONFLICT');
    expect(refused?.message).toMatch(/another ingest of .*overlap is running .*nothing was done/);
    await db.query(`INSERT INTO ${T('overlap')} (id) VALUES (5001)`);
    expect((await ingestTablesDetailed(options(['overlap']))).failed).toBe(0);
    expect(await store.stat('_wharf/ingest/overlap.lock.json')).toBeUndefined();
    expect(await rowAndIdCounts('overlap')).toEqual({ n: 5001, d: 5001 });
  });

  it('a lock left by a killed run on this machine, or one that lapsed elsewhere, is taken over', async () => {
    await db.query(
      `CREATE TABLE ${T('stale_lock')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('stale_lock')} (id) VALUES (1)`);
    const exited = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => exited.on('exit', () => resolve(exited.pid ?? 0)));
    const lockOf = (host: string, pid: number, expiresAt: string) =>
      Buffer.from(JSON.stringify({ version: 1, token: 'x', host, pid, acquiredAt: expiresAt, expiresAt }));
    const lock = '_wharf/ingest/stale_lock.lock.json';
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await store.write(lock, lockOf(hostname(), deadPid, future));
    expect((await ingestTablesDetailed(options(['stale_lock']))).failed).toBe(0);
    await db.query(`INSERT INTO ${T('stale_lock')} (id) VALUES (2)`);
    await store.write(lock, lockOf('another-host', 1, future));
    const held = await ingestTablesDetailed(options(['stale_lock']));
    expect(held.tables[0]?.error?.message).toMatch(/another ingest .* is running \(another-host pid 1/);
    await store.write(lock, lockOf('another-host', 1, new Date(Date.now() - 1000).toISOString()));
    expect((await ingestTablesDetailed(options(['stale_lock']))).failed).toBe(0);
    const stats = await rowsOf(`SELECT count(*)::INT AS n FROM ${await local(await allKeys('stale_lock'))}`);
    expect(stats[0]).toEqual({ n: 2 });
  });

  it('without state, resumes after the newest key even with more than 1,000 objects under the table', async () => {
    await db.query(`CREATE TABLE ${T('many')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL)`);
    await db.query(
      `INSERT INTO ${T('many')} VALUES (1, '2023-01-01 00:00:00+00'), (2, '2023-06-01 00:00:00.000001+00'), (3, '2023-06-02 00:00:00+00')`,
    );
    const instants = Array.from({ length: 1100 }, (_, i) => {
      const d = new Date(Date.UTC(2020, 0, 1) + i * 3_600_000 * 10).toISOString();
      return `${d.slice(0, 19)}.000000Z`;
    });
    instants.push('2023-06-01T00:00:00.000001Z'); // the newest: lexically last, on the second page
    await runPool(instants, 32, (instant) =>
      putRaw(
        bucket,
        `raw/${runKeys('{table}/{yyyy}/{mm}/{dd}/{hhmmssffffff}{part}.parquet', 'many', instant, 1)[0]}`,
        'x',
      ),
    );
    const report = await ingestTablesDetailed(options(['many']));
    expect(report.tables[0]?.window?.from).toBe('2023-06-01T00:00:00.000001Z');
    const rows = await rowsOf(`SELECT id FROM ${await local(report.tables[0]?.keys ?? [])} ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([2, 3]);
  });

  it('a new column is picked up and logged; old files keep their schema', async () => {
    await db.query(
      `CREATE TABLE ${T('evolve')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('evolve')} (id) VALUES (1)`);
    await ingestTables(options(['evolve']));
    await db.query(`ALTER TABLE ${T('evolve')} ADD COLUMN extra numeric(10,2)`);
    await db.query(`INSERT INTO ${T('evolve')} (id, extra) VALUES (2, 12.5)`);
    const logs: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      critical() {},
      warn: (_f: Record<string, unknown>, m: string) => logs.push(m),
    };
    const report = await ingestTablesDetailed(options(['evolve'], { logger }));
    expect(report.tables[0]?.schemaChange).toEqual({ added: ['extra'], removed: [], changed: [] });
    expect(logs.some((m) => /schema changed/.test(m))).toBe(true);
    const rows = await rowsOf(
      `SELECT id, CAST(extra AS VARCHAR) AS extra FROM ${await local(await allKeys('evolve'))} ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, extra: null },
      { id: 2, extra: '12.50' },
    ]);
  });

  it('columns whose names differ only by case get distinct Parquet names, with a warning', async () => {
    await db.query(
      `CREATE TABLE ${T('caseclash')} ("ID" text, id int PRIMARY KEY, "Id" text, ` +
        `last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('caseclash')} ("ID", id, "Id") VALUES ('upper', 7, 'mixed')`);
    const warnings: Record<string, unknown>[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      critical() {},
      warn: (fields: Record<string, unknown>, m: string) => warnings.push({ ...fields, m }),
    };
    await ingestTables(options(['caseclash'], { logger }));
    expect(warnings).toContainEqual(
      expect.objectContaining({ table: 'caseclash', renamed: { id: 'id_1', Id: 'Id_2' } }),
    );
    const src = await local(await allKeys('caseclash'));
    expect(await rowsOf(`SELECT "ID", id_1, Id_2 FROM ${src}`)).toEqual([
      { ID: 'upper', id_1: 7, Id_2: 'mixed' },
    ]);
    // The state's last row names the key by its value, not by the text column that shares its name.
    const state = await readState(store, 'caseclash');
    expect(state?.value.lastRow?.pk).toEqual(['7']);
  });
});

describe('serverless handler', () => {
  it('configured from env vars, runs every table, then throws naming the failed one', async () => {
    await db.query(
      `CREATE TABLE ${T('lambda')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('lambda')} (id) VALUES (1)`);
    const saved = { ...process.env };
    Object.assign(process.env, {
      WHARF_INGEST_DEST: `s3://${bucket}/raw`,
      WHARF_INGEST_SOURCE: PG_URL,
      WHARF_INGEST_SCHEMA: SCHEMA,
      WHARF_INGEST_LAG: '0s',
      WHARF_INGEST_TEMP_DIR: work,
    });
    const write = process.stdout.write.bind(process.stdout);
    const logs: string[] = [];
    process.stdout.write = ((chunk: string) => (
      logs.push(String(chunk)),
      true
    )) as typeof process.stdout.write;
    try {
      await expect(
        handler(
          { tables_to_query: ['missing_table', 'lambda'] },
          { getRemainingTimeInMillis: () => 120_000 },
        ),
      ).rejects.toThrow(/missing_table/);
      expect(await allKeys('lambda')).toHaveLength(1); // the good table ran after the bad one failed
      const result = await handler({ tables_to_query: ['lambda'] });
      expect(result).toEqual({ lambda: null });
    } finally {
      process.stdout.write = write;
      process.env = saved;
    }
    const records = logs
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.severity === 'CRITICAL' && r.table === 'missing_table')).toBe(true);
    expect(
      records.some((r) => r.severity === 'INFO' && r.table === 'lambda' && typeof r.rows === 'number'),
    ).toBe(true);
    expect(records.some((r) => r.severity === 'WARNING' && r.table === 'lambda')).toBe(true);
    expect(logs.join('')).not.toContain('wharf:wharf@');
  });
});

describe('safety', () => {
  it('refuses an injected table name, drops nothing, still runs the other tables; quotes odd real names', async () => {
    await db.query(
      `CREATE TABLE ${T('y')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(
      `CREATE TABLE ${T('we"ird')} (${q('i"d')} int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('we"ird')} VALUES (7)`);
    const report = await ingestTablesDetailed(options(['x"; DROP TABLE y; --', 'we"ird', 'nope']));
    expect(report.tables.map((t) => [t.status, t.error?.code])).toEqual([
      ['failed', 'NOT_FOUND'],
      ['written', undefined],
      ['failed', 'NOT_FOUND'],
    ]);
    expect(report.tables[0]?.error?.message).toContain('not found');
    const exists = await db.query(`SELECT to_regclass($1) AS r`, [`${q(SCHEMA)}.y`]);
    expect(exists.rows[0]?.r).not.toBeNull();
    expect(report.tables[1]?.key).toMatch(/^we%22ird\//);
    const rows = await rowsOf(`SELECT "i""d" AS v FROM ${await local([report.tables[1]?.key ?? ''])}`);
    expect(rows).toEqual([{ v: 7 }]);
  });

  it('a table name in the wrong case is not found, and the hint names the table it may mean', async () => {
    await db.query(
      `CREATE TABLE ${T('Invoices')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    const report = await ingestTablesDetailed(options(['invoices', 'nothing_like_it']));
    expect(report.tables[0]?.error?.code).toBe('NOT_FOUND');
    expect(report.tables[0]?.error?.hint).toMatch(/^did you mean "Invoices"\? names are case-sensitive/);
    expect(report.tables[1]?.error?.hint).toMatch(/^names are case-sensitive/);
  });

  it('a missing cursor column, a wrong password and an unreachable database each fail with one clear error', async () => {
    await db.query(`CREATE TABLE ${T('nocursor')} (id int PRIMARY KEY)`);
    const missing = await ingestTablesDetailed(options(['nocursor']));
    expect(missing.tables[0]?.error?.code).toBe('VALIDATION');
    expect(missing.tables[0]?.error?.message).toMatch(/has no column "last_updated"/);
    const url = new URL(PG_URL);
    url.password = 'definitely-wrong-secret';
    const denied = await ingestTablesDetailed(
      options(['orders', 'ties'], { source: { url: url.toString() } }),
    );
    expect(denied.failed).toBe(2);
    expect(denied.tables[0]?.error?.code).toBe('ACCESS_DENIED');
    expect(JSON.stringify(denied.tables.map((t) => [t.error?.message, t.error?.hint]))).not.toContain(
      'definitely-wrong-secret',
    );
    url.password = 'x';
    url.port = '1';
    const unreachable = await ingestTablesDetailed(options(['orders'], { source: { url: url.toString() } }));
    expect(unreachable.tables[0]?.error?.code).toBe('NETWORK');
    expect(unreachable.tables[0]?.error?.message).toMatch(/cannot reach PostgreSQL/);
  });

  it('a port where something else answers (it closes the connection at once) says so, with what to check', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(PG_URL);
      url.port = String((server.address() as AddressInfo).port);
      const run = await ingestTablesDetailed(options(['orders'], { source: { url: url.toString() } }));
      const error = run.tables[0]?.error;
      expect(error?.code).toBe('NETWORK');
      expect(error?.message).toMatch(
        /^PostgreSQL at postgres:\/\/.*:\d+\/.* closed the connection before the login finished$/,
      );
      expect(error?.hint).toMatch(/host and port .* PostgreSQL/);
    } finally {
      server.close();
    }
  });

  it('an aborted signal stops the run: ABORTED, nothing written, no temp files left', async () => {
    await db.query(
      `CREATE TABLE ${T('aborted')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('aborted')} (id) VALUES (1)`);
    const { readdir } = await import('node:fs/promises');
    const temps = async (): Promise<string[]> =>
      (await readdir(work)).filter((n) => n.startsWith('wharf-ingest-'));
    const before = await temps(); // a SIGKILLed run (test above) cannot remove its own
    const controller = new AbortController();
    const report = await ingestTablesDetailed(
      options(['aborted', 'orders'], {
        signal: controller.signal,
        onEvent: (e) => e.type === 'extracted' && controller.abort(),
      }),
    );
    // The next table is not started, and is reported as such.
    expect(report.tables.map((t) => [t.table, t.error?.code])).toEqual([
      ['aborted', 'ABORTED'],
      ['orders', 'ABORTED'],
    ]);
    expect(report.tables[1]?.error?.message).toMatch(/not started/);
    expect(await allKeys('aborted')).toEqual([]);
    expect(await temps()).toEqual(before);
    // A stopped run gives its table lock back: the next run need not wait for it to lapse.
    expect(await store.stat('_wharf/ingest/aborted.lock.json')).toBeUndefined();
    expect((await ingestTablesDetailed(options(['aborted']))).tables[0]).toMatchObject({ status: 'written' });
  });

  it('--dry-run shows windows and would-be keys and writes nothing', async () => {
    await db.query(
      `CREATE TABLE ${T('dry')} (id int PRIMARY KEY, last_updated timestamptz NOT NULL DEFAULT now())`,
    );
    await db.query(`INSERT INTO ${T('dry')} (id) VALUES (1), (2)`);
    const report = await ingestTablesDetailed(options(['dry'], { dryRun: true }));
    expect(report.tables[0]).toMatchObject({ status: 'planned', plannedRows: 2 });
    expect(report.tables[0]?.plannedKey).toMatch(/^dry\/\d{4}\/\d{2}\/\d{2}\/\d{12}\.parquet$/);
    expect(await allKeys('dry')).toEqual([]);
    expect(await store.stat('_wharf/ingest/dry.json')).toBeUndefined();

    // Into a local folder that does not exist yet: previewed as empty, and still not created.
    const fresh = join(work, `dry-${randomBytes(4).toString('hex')}`, 'lake');
    const local = await ingestTablesDetailed(options(['dry'], { dryRun: true, dest: fresh }));
    expect(local.tables[0]).toMatchObject({ status: 'planned', plannedRows: 2 });
    expect(existsSync(fresh)).toBe(false);
  });
});
